#!/usr/bin/env python3
"""RDB start-up load time: ringkv against redis-server loading the same file.

    python3 benches/load-vs-redis.py [--rounds 3] [--ringkv target/release/ringkv]
                                     [--dumps DIR] [--only NAME,...] [--ports LO-HI]

redis-server writes the dumps (data fed through `redis-cli --pipe`, then SAVE):

  strings      1M `key:%08d` -> 16-byte strings
  strings-ttl  the same, each with a TTL (PX, one hour and more)
  hashes       1M `key:%08d` hashes of 3 small fields (listpack)
  big          100 hashes, 100 lists, 100 sets, 100 sorted sets of 10k elements each

Then, per dump and per round, redis-server and ringkv (release build, `--threads 1`;
optionally a --baseline ringkv binary too) start in turn (rotating order) in a directory holding the
file; reported are the "DB loaded from disk: X seconds" line both log, and the wall time
from exec to the first PONG. Medians of `--rounds`; ratio = ringkv / redis.
Dumps are cached in --dumps (default /tmp/ringkv-load-dumps) and reused.
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOADED = re.compile(rb"DB loaded from disk: ([0-9.]+) seconds")
N = 1_000_000


PORTS = None


def free_port():
    """The next bindable port of --ports (cycling), or any free one."""
    global PORTS
    for _ in range(len(PORTS or [0])):
        port = PORTS.pop(0) if PORTS else 0
        if PORTS is not None:
            PORTS.append(port)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return s.getsockname()[1]
            except OSError:
                continue
    raise RuntimeError("no free port in --ports")


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def commands(name):
    """The RESP stream that builds dump `name`."""
    if name in ("strings", "strings-ttl"):
        ttl = name == "strings-ttl"
        for n in range(N):
            args = [b"SET", b"key:%08d" % n, b"value-%010d" % n]
            if ttl:
                args += [b"PX", b"%d" % (3_600_000 + n)]
            yield resp(*args)
    elif name == "hashes":
        for n in range(N):
            yield resp(b"HSET", b"key:%08d" % n, b"name", b"user-%d" % n,
                       b"age", b"%d" % (n % 90), b"city", b"city-%d" % (n % 1000))
    elif name == "big":
        for k in range(100):
            for start in range(0, 10_000, 1000):
                ids = range(start, start + 1000)
                yield resp(b"HSET", b"hash:%d" % k, *[x for i in ids for x in (b"field:%d" % i, b"value:%d" % i)])
                yield resp(b"RPUSH", b"list:%d" % k, *[b"element:%d" % i for i in ids])
                yield resp(b"SADD", b"set:%d" % k, *[b"member:%d" % i for i in ids])
                yield resp(b"ZADD", b"zset:%d" % k, *[x for i in ids for x in (b"%d.5" % i, b"member:%d" % i)])
    else:
        raise ValueError(name)


def wait_port(port, proc, timeout=120):
    """Until the server answers PING with +PONG (redis-server accepts connections while it
    loads, answering -LOADING)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
                c.sendall(b"PING\r\n")
                if c.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError("server did not answer PING")


def make_dump(name, path):
    d = tempfile.mkdtemp(prefix="ringkv-dump-")
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--dir", d,
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        pipe = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL)
        batch = []
        for cmd in commands(name):
            batch.append(cmd)
            if len(batch) >= 10_000:
                pipe.stdin.write(b"".join(batch))
                batch = []
        pipe.stdin.write(b"".join(batch))
        pipe.stdin.close()
        if pipe.wait() != 0:
            raise RuntimeError("redis-cli --pipe failed")
        subprocess.run(["redis-cli", "-p", str(port), "SAVE"], check=True, stdout=subprocess.DEVNULL)
        shutil.copy(os.path.join(d, "dump.rdb"), path)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def time_load(argv_for, dump):
    """(seconds the server logs for the load, wall seconds from exec to first PONG)."""
    d = tempfile.mkdtemp(prefix="ringkv-load-")
    try:
        os.symlink(dump, os.path.join(d, "dump.rdb"))
        port = free_port()
        log = os.path.join(d, "log")
        with open(log, "wb") as out:
            start = time.monotonic()
            proc = subprocess.Popen(argv_for(port, d), stdout=out, stderr=subprocess.STDOUT, cwd=d)
            try:
                wait_port(port, proc)
                wall = time.monotonic() - start
            finally:
                proc.terminate()
                proc.wait()
        with open(log, "rb") as f:
            m = LOADED.search(f.read())
        if not m:
            raise RuntimeError(f"no 'DB loaded from disk' line in {argv_for(port, d)[0]}'s log")
        return float(m.group(1)), wall
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ringkv", default=os.path.join(ROOT, "target", "release", "ringkv"))
    ap.add_argument("--dumps", default="/tmp/ringkv-load-dumps")
    ap.add_argument("--only", default="strings,strings-ttl,hashes,big")
    ap.add_argument("--baseline", help="another ringkv binary (e.g. a build of main) run alongside")
    ap.add_argument("--ports", help="a port range to use, e.g. 7480-7499 (default: any free)")
    ap.add_argument("--no-build", action="store_true", help="use --ringkv as it is")
    args = ap.parse_args()
    if args.ports:
        global PORTS
        lo, hi = map(int, args.ports.split("-"))
        PORTS = list(range(lo, hi + 1))
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--bin", "ringkv"], cwd=ROOT, check=True)
    os.makedirs(args.dumps, exist_ok=True)
    servers = {
        "redis": lambda p, d: ["redis-server", "--port", str(p), "--save", "", "--dir", d],
        "ringkv": lambda p, d: [args.ringkv, "--port", str(p), "--dir", d, "--threads", "1",
                                "--save", ""],
    }
    if args.baseline:
        servers["baseline"] = lambda p, d: [args.baseline, "--port", str(p), "--dir", d,
                                            "--threads", "1", "--save", ""]
    names = [s for s in servers if s != "redis"]
    print(f"{'dump':12} {'MB':>6} {'redis':>7} " + " ".join(f"{n:>14}" for n in names)
          + "   (load s [ratio]; wall to PONG s [ratio])")
    for name in args.only.split(","):
        dump = os.path.join(args.dumps, f"{name}.rdb")
        if not os.path.exists(dump):
            make_dump(name, dump)
        results = {s: [] for s in servers}
        for r in range(args.rounds):
            order = list(servers)
            order = order[r % len(order):] + order[:r % len(order)]
            for s in order:
                results[s].append(time_load(servers[s], dump))
        med = {s: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
               for s, v in results.items()}
        rl, rw = med["redis"]
        mb = os.path.getsize(dump) / 1e6
        print(f"{name:12} {mb:6.1f} {rl:6.3f}s " + " ".join(
            f"{med[n][0]:6.3f}s [{med[n][0] / rl:4.2f}]" for n in names), flush=True)
        print(f"{'  wall':12} {'':6} {rw:6.3f}s " + " ".join(
            f"{med[n][1]:6.3f}s [{med[n][1] / rw:4.2f}]" for n in names), flush=True)


if __name__ == "__main__":
    main()
