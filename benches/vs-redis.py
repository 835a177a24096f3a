#!/usr/bin/env python3
"""ringkv side by side with redis-server (and Pogocache when built), on this machine.

    python3 benches/vs-redis.py [--rounds 3] [--quick] [--svg benches/vs-redis.svg]

Builds ringkv in release mode, starts every server on a free loopback port, and runs
`redis-benchmark -t set,get -c 50 -r 100000 --threads 2` at -P 1 (-n 600000) and -P 16
(-n 6000000), the servers alternating in rotating order, `--rounds` times; the medians are
reported. For every run it reads the server's CPU time (user + system, /proc/PID/stat)
before and after, so CPU per request is the server's own cost. Then it loads 1,000,000
keys `key:%08d` with 16-byte values (without and with a TTL) and reports resident memory
per key, and measures p99 at -P 1 while 1M keys with TTLs expire. It prints a table with
ratios to redis-server and writes an SVG chart. Shared machines are noisy: compare ratios
from one run, not absolute numbers across runs.
"""

import argparse
import csv
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POGO = os.environ.get("POGO_WRAPPER", "/tmp/pogocache-peer/as-redis")
TICKS = os.sysconf("SC_CLK_TCK")


PORT_BASE = None


def free_port():
    global PORT_BASE
    if PORT_BASE is not None:
        PORT_BASE += 1
        return PORT_BASE - 1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name, argv_for_port, env=None):
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"vs-{name}-")
        argv = argv_for_port(self.port, self.dir)
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.dir, env=env)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{name} did not start")

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rss_bytes(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def cli(self, *args):
        subprocess.run(["redis-cli", "-p", str(self.port), *args], check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def benchmark(server, pipeline, requests):
    """One redis-benchmark run; returns {test: (rps, p99_ms)} and server CPU seconds used."""
    before = server.cpu_seconds()
    out = subprocess.run(
        ["redis-benchmark", "-p", str(server.port), "-t", "set,get", "-c", "50", "-r", "100000",
         "--threads", "2", "-P", str(pipeline), "-n", str(requests), "--csv"],
        check=True, capture_output=True, text=True).stdout
    used = server.cpu_seconds() - before
    results = {}
    for row in csv.DictReader(io.StringIO(out)):
        results[row["test"]] = (float(row["rps"]), float(row["p99_latency_ms"]))
    return results, used


def load_keys(server, n, ttl):
    """SETs `key:%08d` -> 16 bytes for n keys through redis-cli --pipe."""
    value = "v" * 16
    lines = []
    for i in range(n):
        key = f"key:{i:08d}"
        if ttl:
            lines.append(f"*5\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n$16\r\n{value}\r\n$2\r\nEX\r\n${len(str(ttl))}\r\n{ttl}\r\n")
        else:
            lines.append(f"*3\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n$16\r\n{value}\r\n")
    subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input="".join(lines).encode(),
                   check=True, stdout=subprocess.DEVNULL)


def memory_per_key(make, n, ttl):
    server = make()
    try:
        time.sleep(0.3)
        base = server.rss_bytes()
        load_keys(server, n, ttl)
        time.sleep(0.5)
        return (server.rss_bytes() - base) / n
    finally:
        server.stop()


def svg_chart(rows, path):
    """Grouped bars: one group per metric, one bar per server, as a ratio to redis-server."""
    metrics = [m for m in rows[0]["ratios"]]
    servers = [r["name"] for r in rows]
    colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"]
    width, height, left, top, bottom = 900, 380, 60, 40, 90
    group_w = (width - left - 20) / len(metrics)
    bar_w = group_w / (len(servers) + 1)
    top_value = max(2.0, max(r["ratios"][m] for r in rows for m in metrics if r["ratios"][m] is not None))
    scale = (height - top - bottom) / top_value
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<text x="{width/2}" y="18" text-anchor="middle" font-size="14">ratio to redis-server (1.0 = Redis; throughput: higher is better, CPU and memory: lower is better)</text>']
    base_y = height - bottom
    y1 = base_y - scale
    out.append(f'<line x1="{left}" y1="{y1}" x2="{width-20}" y2="{y1}" stroke="#888" stroke-dasharray="4"/>')
    out.append(f'<line x1="{left}" y1="{base_y}" x2="{width-20}" y2="{base_y}" stroke="#000"/>')
    for gi, metric in enumerate(metrics):
        gx = left + gi * group_w
        for si, row in enumerate(rows):
            value = row["ratios"][metric]
            if value is None:
                continue
            h = value * scale
            x = gx + (si + 0.5) * bar_w
            out.append(f'<rect x="{x:.1f}" y="{base_y-h:.1f}" width="{bar_w*0.9:.1f}" height="{h:.1f}" fill="{colors[si % len(colors)]}"/>')
            out.append(f'<text x="{x+bar_w*0.45:.1f}" y="{base_y-h-3:.1f}" text-anchor="middle" font-size="9">{value:.2f}</text>')
        out.append(f'<text x="{gx+group_w/2:.1f}" y="{base_y+14}" text-anchor="middle">{metric}</text>')
    for si, name in enumerate(servers):
        out.append(f'<rect x="{left + si*170}" y="{height-30}" width="12" height="12" fill="{colors[si % len(colors)]}"/>')
        out.append(f'<text x="{left + si*170 + 16}" y="{height-20}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10x fewer requests and keys (a smoke run)")
    parser.add_argument("--svg", default=os.path.join(ROOT, "benches", "vs-redis.svg"))
    parser.add_argument("--port-base", type=int, help="use consecutive ports from here instead of free ones")
    parser.add_argument("--no-memory", action="store_true", help="throughput and CPU only")
    parser.add_argument("--also", action="append", default=[], metavar="NAME=BINARY",
                        help="another ringkv binary (e.g. a baseline build) run with --threads 1")
    opts = parser.parse_args()
    global PORT_BASE
    PORT_BASE = opts.port_base
    for tool in ("redis-server", "redis-benchmark", "redis-cli"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not on PATH: apt-get install redis-server redis-tools")
    scale = 10 if opts.quick else 1
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    ringkv = os.path.join(ROOT, "target", "release", "ringkv")

    makers = {
        "redis-server": lambda: Server("redis", lambda p, d: ["redis-server", "--port", str(p), "--save", "", "--appendonly", "no", "--dir", d]),
        "ringkv --threads 1": lambda: Server("ringkv1", lambda p, d: [ringkv, "--port", str(p), "--dir", d, "--threads", "1"]),
        "ringkv --threads 2": lambda: Server("ringkv2", lambda p, d: [ringkv, "--port", str(p), "--dir", d, "--threads", "2"]),
    }
    for also in opts.also:
        label, binary = also.split("=", 1)
        makers[label] = (lambda b, l: lambda: Server(l, lambda p, d: [b, "--port", str(p), "--dir", d, "--threads", "1"]))(binary, label)
    if os.access(POGO, os.X_OK):
        makers["pogocache"] = lambda: Server("pogo", lambda p, d: [POGO, "--port", str(p), "--threads", "2"])
    else:
        print(f"(Pogocache not built: run ../shared/tools/peers/build-pogocache.sh to include it)")
    names = list(makers)

    runs = {(n, p): [] for n in names for p in (1, 16)}

    def median(name, pipeline, i):
        return statistics.median(r[i] for r in runs[(name, pipeline)])

    for rnd in range(opts.rounds):
        order = names[rnd % len(names):] + names[:rnd % len(names)]
        for pipeline, requests in ((1, 600_000 // scale), (16, 6_000_000 // scale)):
            for name in order:
                server = makers[name]()
                try:
                    results, cpu = benchmark(server, pipeline, requests)
                finally:
                    server.stop()
                total = 2 * requests
                rps = statistics.mean(r[0] for r in results.values())
                p99 = max(r[1] for r in results.values())
                runs[(name, pipeline)].append((rps, cpu / total * 1e6, p99))
                print(f"round {rnd+1} -P {pipeline:<2} {name:<20} {rps:>12,.0f} req/s  {cpu/total*1e6:6.2f} us CPU/req  p99 {p99:.3f} ms", flush=True)

    keys = 1_000_000 // scale
    if opts.no_memory:
        print("\n| server | rps -P1 | rps -P16 | CPU us/req -P1 | CPU us/req -P16 | p99 ms -P1 |\n|---|---|---|---|---|---|")
        for name in names:
            cells = []
            for i, pipeline in ((0, 1), (0, 16), (1, 1), (1, 16), (2, 1)):
                value, base = median(name, pipeline, i), median("redis-server", pipeline, i)
                cells.append(f"{value:,.2f} ({value / base:.2f}x)")
            print(f"| {name} | " + " | ".join(cells) + " |")
        return
    memory = {name: (memory_per_key(makers[name], keys, None), memory_per_key(makers[name], keys, 100_000)) for name in names}

    # p99 at -P 1 while keys with TTLs expire (active expiry at work) vs. the same load without.
    expiry_p99 = {}
    for name in names:
        server = makers[name]()
        try:
            load_keys(server, keys, 3)
            results, _ = benchmark(server, 1, 600_000 // scale)
            expiry_p99[name] = max(r[1] for r in results.values())
        finally:
            server.stop()

    redis = "redis-server"
    rows = []
    print()
    print("| server | rps -P1 | rps -P16 | CPU us/req -P1 | CPU us/req -P16 | p99 ms -P1 | p99 -P1 while 1M TTL keys expire | bytes/key | bytes/key with TTL |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        ratios = {
            "rps -P1": median(name, 1, 0) / median(redis, 1, 0),
            "rps -P16": median(name, 16, 0) / median(redis, 16, 0),
            "CPU/req -P1": median(name, 1, 1) / median(redis, 1, 1),
            "CPU/req -P16": median(name, 16, 1) / median(redis, 16, 1),
            "p99 -P1": median(name, 1, 2) / median(redis, 1, 2),
            "bytes/key": memory[name][0] / memory[redis][0],
            "bytes/key TTL": memory[name][1] / memory[redis][1],
        }
        rows.append({"name": name, "ratios": ratios})
        print(f"| {name} | {median(name,1,0):,.0f} ({ratios['rps -P1']:.2f}x) | {median(name,16,0):,.0f} ({ratios['rps -P16']:.2f}x) "
              f"| {median(name,1,1):.2f} ({ratios['CPU/req -P1']:.2f}x) | {median(name,16,1):.2f} ({ratios['CPU/req -P16']:.2f}x) "
              f"| {median(name,1,2):.3f} ({ratios['p99 -P1']:.2f}x) | {expiry_p99[name]:.3f} "
              f"| {memory[name][0]:.0f} ({ratios['bytes/key']:.2f}x) | {memory[name][1]:.0f} ({ratios['bytes/key TTL']:.2f}x) |")
    svg_chart(rows, opts.svg)
    print(f"\nchart: {opts.svg}")
    print(f"machine: {os.cpu_count()} cores, {os.uname().release}; medians of {opts.rounds} rounds"
          f"{' (quick: 10x fewer requests and keys)' if opts.quick else ''}")


if __name__ == "__main__":
    main()
