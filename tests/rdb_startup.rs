//! Loading `<dir>/<dbfilename>` at start-up: dumps the real redis-server writes (every type
//! and encoding, TTLs, already-expired keys, several databases) load into the same data,
//! proven by `DEBUG DIGEST` equal to the redis-server's, and per key TYPE, TTL and OBJECT
//! ENCODING; committed fixtures from Redis' test assets load as redis-server loads them;
//! corrupt files stop start-up with the byte offset in the log; a missing file starts
//! empty. The generic key commands answer on loaded hashes, sorted sets and streams byte
//! for byte as redis-server does on the same dump (the commands that create them come
//! later, so a dump is how they get in). Tests needing redis-server skip without it
//! unless RINGKV_REQUIRE_REDIS=1.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, fresh_dir, query, redis_server_available, show, Client};

const RINGKV: &str = env!("CARGO_BIN_EXE_ringkv");

/// A server started on a directory that already holds the dump (killed when dropped).
struct Running {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn con(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .and_then(|c| c.get_connection())
            .expect("connect")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// How a start-up ended: serving, or exited with this status and log.
enum Started {
    Up(Running),
    Exited(ExitStatus, String),
}

/// Starts `program` in `dir` (its dump is `dir/dump.rdb`) and waits until it accepts
/// connections or exits.
fn launch(program: &str, dir: &Path, extra: &[&str]) -> Started {
    let port = free_port();
    let log = dir.join(format!("{}-{port}.log", Path::new(program).display()).replace('/', "_"));
    let out = std::fs::File::create(&log).expect("log file");
    let mut child = Command::new(program)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(dir)
        .args(["--save", "", "--enable-debug-command", "yes"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            return Started::Exited(status, text);
        }
        // The port may have been taken by another program meanwhile: only our own
        // child's log line says that it is the one listening.
        let ready = std::fs::read_to_string(&log)
            .is_ok_and(|text| text.contains("Ready to accept connections"));
        if ready && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Started::Up(Running { child, port, log });
        }
        assert!(Instant::now() < deadline, "{program} did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A test's directory, removed when dropped (after the servers in it: declare it first).
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh directory with redis-server running in it, or None (skip) without redis-server.
fn redis_on(tag: &str, extra: &[&str]) -> Option<(Dir, Running)> {
    if !redis_server_available() {
        return None;
    }
    let dir = Dir(fresh_dir(tag));
    let redis = up(launch("redis-server", &dir.0, extra));
    Some((dir, redis))
}

fn up(started: Started) -> Running {
    match started {
        Started::Up(running) => running,
        Started::Exited(status, log) => panic!("exited with {status}:\n{log}"),
    }
}

fn ringkv(dir: &Path, extra: &[&str]) -> Started {
    launch(RINGKV, dir, extra)
}

/// A reply as text (status, bulk or integer), for comparing two servers.
fn text(v: redis::Value) -> String {
    match v {
        redis::Value::SimpleString(s) => s,
        redis::Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
        redis::Value::Int(n) => n.to_string(),
        redis::Value::Array(items) => items.into_iter().map(text).collect::<Vec<_>>().join(","),
        other => format!("{other:?}"),
    }
}

fn t(con: &mut redis::Connection, args: &[&str]) -> String {
    text(query(con, args))
}

/// The thresholds both servers use (Debian's redis-server config differs from Redis').
const LIMITS: &[&str] = &[
    "--hash-max-listpack-entries",
    "128",
    "--hash-max-listpack-value",
    "64",
    "--zset-max-listpack-entries",
    "128",
    "--zset-max-listpack-value",
    "64",
    "--set-max-intset-entries",
    "512",
];

/// Fills redis-server with every type and encoding; returns the keys per database.
fn populate(con: &mut redis::Connection) -> Vec<(u8, String)> {
    let mut keys = Vec::new();
    let mut run = |con: &mut redis::Connection, db: u8, key: &str, args: &[&str]| {
        query(con, &["SELECT", &db.to_string()]);
        query(con, args);
        if !keys.contains(&(db, key.to_string())) {
            keys.push((db, key.to_string()));
        }
    };
    let lzf = "abcdefgh".repeat(40);
    let long = "v".repeat(100);
    for (key, value) in [
        ("raw", "hello"),
        ("int", "-12345"),
        ("int64", "123456789012"),
        ("lzf", lzf.as_str()),
        ("empty", ""),
    ] {
        run(con, 0, key, &["SET", key, value]);
    }
    run(
        con,
        0,
        "list",
        &["RPUSH", "list", "a", "1", "-300", "70000", ""],
    );
    for chunk in 0..6 {
        let items: Vec<String> = (0..500).map(|i| format!("item-{chunk}-{i}")).collect();
        let mut args = vec!["RPUSH", "big-list"];
        args.extend(items.iter().map(String::as_str));
        run(con, 0, "big-list", &args);
    }
    run(
        con,
        0,
        "intset",
        &["SADD", "intset", "1", "-9000000000000", "70000"],
    );
    run(con, 0, "strset", &["SADD", "strset", "x", "y", "12"]);
    let ints: Vec<String> = (0..600).map(|i| (i * 7).to_string()).collect();
    let mut args = vec!["SADD", "big-intset"];
    args.extend(ints.iter().map(String::as_str));
    run(con, 0, "big-intset", &args);
    run(con, 0, "hash", &["HSET", "hash", "f", "v", "n", "12"]);
    run(
        con,
        0,
        "long-hash",
        &["HSET", "long-hash", "f", &long, "g", "1"],
    );
    run(
        con,
        0,
        "zset",
        &["ZADD", "zset", "1.1", "a", "-inf", "b", "1e300", "c"],
    );
    run(
        con,
        0,
        "long-zset",
        &["ZADD", "long-zset", "1", &long, "2", "x"],
    );
    for i in 0..200 {
        let (field, score) = (format!("m{i}"), format!("{}.25", i % 17));
        run(con, 0, "big-hash", &["HSET", "big-hash", &field, &score]);
        run(con, 0, "big-zset", &["ZADD", "big-zset", &score, &field]);
    }
    for i in 1..=30 {
        let id = format!("{i}-{}", i % 3);
        run(
            con,
            0,
            "stream",
            &["XADD", "stream", &id, "f", "v", "n", &i.to_string()],
        );
    }
    run(con, 0, "stream", &["XDEL", "stream", "5-2"]);
    run(con, 0, "stream", &["XGROUP", "CREATE", "stream", "g1", "0"]);
    run(con, 0, "stream", &["XGROUP", "CREATE", "stream", "g2", "$"]);
    let read: Vec<&str> = "XREADGROUP GROUP g1 alice COUNT 3 STREAMS stream >"
        .split(' ')
        .collect();
    run(con, 0, "stream", &read);
    run(
        con,
        0,
        "empty-stream",
        &["XADD", "empty-stream", "1-1", "a", "b"],
    );
    run(con, 0, "empty-stream", &["XDEL", "empty-stream", "1-1"]);
    run(
        con,
        0,
        "ttl-string",
        &["SET", "ttl-string", "v", "EX", "5000"],
    );
    run(con, 0, "ttl-hash", &["HSET", "ttl-hash", "a", "b"]);
    run(
        con,
        0,
        "ttl-hash",
        &["PEXPIREAT", "ttl-hash", "4102444800123"],
    );
    run(con, 2, "db2-zset", &["ZADD", "db2-zset", "3", "three"]);
    run(con, 2, "raw", &["SET", "raw", "in db 2"]);
    run(con, 15, "last", &["RPUSH", "last", "x"]);
    keys
}

#[test]
fn a_redis_dump_of_every_type_loads_with_the_same_digest() {
    let Some((dir, redis)) = redis_on("rdb-startup", LIMITS) else {
        return;
    };
    let mut con = redis.con();
    let keys = populate(&mut con);
    query(&mut con, &["SELECT", "0"]);
    // A key that expires between the SAVE and the load: a master drops it.
    query(&mut con, &["SET", "gone", "soon", "PX", "300"]);
    query(&mut con, &["SAVE"]);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(t(&mut con, &["EXISTS", "gone"]), "0");
    let digest = t(&mut con, &["DEBUG", "DIGEST"]);
    assert_ne!(digest, "0".repeat(40));

    let ringkv = up(ringkv(&dir.0, LIMITS));
    let mut kv = ringkv.con();
    assert_eq!(t(&mut kv, &["DEBUG", "DIGEST"]), digest);
    for db in 0..16 {
        let db = db.to_string();
        query(&mut con, &["SELECT", &db]);
        query(&mut kv, &["SELECT", &db]);
        assert_eq!(t(&mut kv, &["DBSIZE"]), t(&mut con, &["DBSIZE"]), "db {db}");
    }
    for (db, key) in &keys {
        query(&mut con, &["SELECT", &db.to_string()]);
        query(&mut kv, &["SELECT", &db.to_string()]);
        for query in [
            &["TYPE", key][..],
            &["OBJECT", "ENCODING", key],
            &["DEBUG", "DIGEST-VALUE", key],
        ] {
            assert_eq!(
                t(&mut kv, query),
                t(&mut con, query),
                "{query:?} in db {db}"
            );
        }
        let (ttl_kv, ttl_redis): (i64, i64) = (
            redis::cmd("TTL").arg(key).query(&mut kv).unwrap(),
            redis::cmd("TTL").arg(key).query(&mut con).unwrap(),
        );
        assert!(
            (ttl_kv - ttl_redis).abs() <= 1,
            "TTL {key}: {ttl_kv} vs {ttl_redis}"
        );
    }
    let log = ringkv.log();
    for line in [
        "* Loading RDB produced by version 7.0.15",
        "* RDB age ",
        &format!(
            "* Done loading RDB, keys loaded: {}, keys expired: 1.",
            keys.len()
        ),
        "* DB loaded from disk: ",
    ] {
        assert!(log.contains(line), "no {line:?} in:\n{log}");
    }
    drop((ringkv, redis));
}

/// Every type survives ringkv's SAVE and DUMP: the dump ringkv writes after loading a
/// redis-server dump passes redis-check-rdb and loads into redis-server with the same
/// digest, and every key's DUMP payload restores across both servers unchanged.
#[test]
fn every_type_round_trips_through_ringkv_save_and_dump() {
    let Some((dir, redis)) = redis_on("rdb-roundtrip", LIMITS) else {
        return;
    };
    let mut con = redis.con();
    let keys = populate(&mut con);
    query(&mut con, &["SAVE"]);
    let digest = t(&mut con, &["DEBUG", "DIGEST"]);
    let ringkv = up(ringkv(&dir.0, LIMITS));
    let mut kv = ringkv.con();
    for (db, key) in &keys {
        let db = db.to_string();
        query(&mut con, &["SELECT", &db]);
        query(&mut kv, &["SELECT", &db]);
        let copy = format!("{key}:restored");
        for kv_to_redis in [false, true] {
            let (from, to) = if kv_to_redis {
                (&mut kv, &mut con)
            } else {
                (&mut con, &mut kv)
            };
            let payload: Vec<u8> = redis::cmd("DUMP").arg(key).query(from).unwrap();
            // The same deadline, so that the digests (which mix it in) can match.
            let deadline: i64 = redis::cmd("PEXPIRETIME").arg(key).query(from).unwrap();
            let _: () = redis::cmd("RESTORE")
                .arg(&copy)
                .arg(deadline.max(0))
                .arg(payload)
                .arg("ABSTTL")
                .query(to)
                .unwrap_or_else(|e| panic!("RESTORE of {key} in db {db}: {e}"));
            let want = t(from, &["DEBUG", "DIGEST-VALUE", key]);
            assert_eq!(t(to, &["DEBUG", "DIGEST-VALUE", &copy]), want, "{key}");
            query(to, &["DEL", &copy]);
        }
    }
    query(&mut kv, &["SAVE"]);
    drop(ringkv);

    let saved = Dir(fresh_dir("rdb-roundtrip-saved"));
    std::fs::copy(dir.0.join("dump.rdb"), saved.0.join("dump.rdb")).expect("copy dump");
    let check = Command::new("redis-check-rdb")
        .arg(saved.0.join("dump.rdb"))
        .output()
        .expect("redis-check-rdb");
    assert!(
        check.status.success(),
        "redis-check-rdb:\n{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let reloaded = up(launch("redis-server", &saved.0, LIMITS));
    assert_eq!(t(&mut reloaded.con(), &["DEBUG", "DIGEST"]), digest);
    drop((reloaded, redis));
}

#[test]
fn the_listpack_limits_come_from_the_config() {
    let Some((dir, redis)) = redis_on("rdb-limits", LIMITS) else {
        return;
    };
    let mut con = redis.con();
    for i in 0..200 {
        query(&mut con, &["HSET", "h", &format!("f{i}"), "v"]);
    }
    assert_eq!(t(&mut con, &["OBJECT", "ENCODING", "h"]), "hashtable");
    query(&mut con, &["SAVE"]);
    drop(redis);
    // 200 fields fit under ringkv's default of 512 (Debian's redis.conf value) ...
    let ringkv_default = up(ringkv(&dir.0, &[]));
    let mut kv = ringkv_default.con();
    assert_eq!(t(&mut kv, &["OBJECT", "ENCODING", "h"]), "listpack");
    drop(ringkv_default);
    // ... and not under 128.
    let small = up(ringkv(&dir.0, &["--hash-max-listpack-entries", "128"]));
    assert_eq!(
        t(&mut small.con(), &["OBJECT", "ENCODING", "h"]),
        "hashtable"
    );
    drop(small);
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rdb")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fresh directory whose dump.rdb holds `bytes`.
fn dir_with_dump(tag: &str, bytes: &[u8]) -> Dir {
    let dir = Dir(fresh_dir(tag));
    std::fs::write(dir.0.join("dump.rdb"), bytes).unwrap();
    dir
}

/// DBSIZE and DEBUG DIGEST of redis-server 7.0.15 started on each file.
const FIXTURES: &[(&str, u64, &str)] = &[
    (
        "encodings.rdb",
        13,
        "b7324c5e2d3a7618126155c2bf9e40c794649565",
    ),
    (
        "hash-zipmap.rdb",
        1,
        "3ca39ed0cb3b979b5b125ae0d1e54f2c40b7c5e6",
    ),
    (
        "hash-ziplist.rdb",
        1,
        "3ca39ed0cb3b979b5b125ae0d1e54f2c40b7c5e6",
    ),
    (
        "list-quicklist.rdb",
        2,
        "3d77c75a5b6cc5319b4ecf6e95101ed07ddd139e",
    ),
    (
        "zset-ziplist.rdb",
        1,
        "fa1ca919dcef4dea3e3e609298a9e329d3bb7c61",
    ),
    (
        "redis-7.0-small.rdb",
        9,
        "6fc512c8389f780dd4ca5de50ebc749f60ecfaa4",
    ),
    (
        "scriptbackup.rdb",
        0,
        "0000000000000000000000000000000000000000",
    ),
    // Nine empty collections, skipped as Redis skips them.
    (
        "corrupt_empty_keys.rdb",
        0,
        "0000000000000000000000000000000000000000",
    ),
];

#[test]
fn redis_test_asset_dumps_load_as_redis_loads_them() {
    for &(name, dbsize, digest) in FIXTURES {
        let dir = dir_with_dump("rdb-fixture", &fixture(name));
        let ringkv = up(ringkv(&dir.0, &[]));
        let mut kv = ringkv.con();
        assert_eq!(t(&mut kv, &["DBSIZE"]), dbsize.to_string(), "{name}");
        assert_eq!(t(&mut kv, &["DEBUG", "DIGEST"]), digest, "{name}");
        if redis_server_available() {
            let redis = up(launch("redis-server", &dir.0, &[]));
            assert_eq!(t(&mut redis.con(), &["DEBUG", "DIGEST"]), digest, "{name}");
        }
        if name == "corrupt_empty_keys.rdb" {
            assert!(
                ringkv.log().contains("empty keys skipped: 9"),
                "{}",
                ringkv.log()
            );
        }
        drop(ringkv);
    }
}

/// Starts ringkv on `bytes` and returns its log, asserting that it refused to start.
fn refused(tag: &str, bytes: &[u8]) -> String {
    let dir = dir_with_dump(tag, bytes);
    let started = ringkv(&dir.0, &[]);
    match started {
        Started::Up(_) => panic!("{tag}: ringkv started on a bad dump"),
        Started::Exited(status, log) => {
            assert!(!status.success(), "{tag}: exit status {status}");
            log
        }
    }
}

/// The byte offset the log names (`... at byte offset N ...`).
fn logged_offset(log: &str) -> u64 {
    let (_, rest) = log
        .split_once("at byte offset ")
        .unwrap_or_else(|| panic!("no offset in:\n{log}"));
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("bad offset in:\n{log}"))
}

#[test]
fn corrupt_dumps_stop_startup_naming_the_offset() {
    let good = fixture("redis-7.0-small.rdb");
    // Truncated: at the header, inside a key, just before the checksum.
    for cut in [5, good.len() / 2, good.len() - 3] {
        let log = refused("rdb-truncated", &good[..cut]);
        assert!(logged_offset(&log) <= cut as u64, "cut at {cut}:\n{log}");
    }
    // One flipped byte in the middle: a decoding error or the checksum catches it.
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x55;
    logged_offset(&refused("rdb-flipped", &flipped));
    // A value type that does not exist, right after the header.
    let mut bad_type = b"REDIS0010".to_vec();
    bad_type.extend_from_slice(&[0xfe, 0x00, 200, 0x01, b'k']);
    let log = refused("rdb-bad-type", &bad_type);
    assert_eq!(logged_offset(&log), 11, "{log}");
    assert!(log.contains("unknown value type 200"), "{log}");
    // A database this server does not have (databases 16: 0..=15).
    let mut big_db = b"REDIS0010".to_vec();
    big_db.extend_from_slice(&[0xfe, 16, 0x00, 0x01, b'k', 0x01, b'v', 0xff]);
    let log = refused("rdb-big-db", &big_db);
    assert_eq!(logged_offset(&log), 9, "{log}");
    assert!(log.contains("database 16"), "{log}");
    // The fixture Redis' own tests refuse.
    logged_offset(&refused(
        "rdb-corrupt-ziplist",
        &fixture("corrupt_ziplist.rdb"),
    ));
}

#[test]
fn no_dump_file_starts_empty() {
    let dir = Dir(fresh_dir("rdb-none"));
    let ringkv = up(ringkv(&dir.0, &[]));
    let mut kv = ringkv.con();
    assert_eq!(t(&mut kv, &["DBSIZE"]), "0");
    assert_eq!(t(&mut kv, &["DEBUG", "DIGEST"]), "0".repeat(40));
    assert!(!ringkv.log().contains("Loading RDB"), "{}", ringkv.log());
    drop(ringkv);
}

/// Generic commands (and other families' commands, which must answer WRONGTYPE) on
/// hashes, sorted sets and streams, in order, each reply compared byte for byte.
const GENERIC: &[&[&str]] = &[
    &["TYPE", "h"],
    &["TYPE", "z"],
    &["TYPE", "s"],
    &["EXISTS", "h", "z", "s", "big-h", "nokey"],
    &["OBJECT", "ENCODING", "h"],
    &["OBJECT", "ENCODING", "big-h"],
    &["OBJECT", "ENCODING", "z"],
    &["OBJECT", "ENCODING", "big-z"],
    &["OBJECT", "ENCODING", "s"],
    &["OBJECT", "FREQ", "h"],
    &["OBJECT", "REFCOUNT", "z"],
    &["SCAN", "0", "TYPE", "hash", "COUNT", "1000"],
    &["SCAN", "0", "TYPE", "zset", "COUNT", "1000"],
    &["SCAN", "0", "TYPE", "stream", "COUNT", "1000"],
    &["GET", "h"],
    &["GETRANGE", "z", "0", "1"],
    &["APPEND", "s", "x"],
    &["INCR", "h"],
    &["STRLEN", "z"],
    &["SETRANGE", "s", "0", "x"],
    &["GETDEL", "h"],
    &["GETEX", "z", "PERSIST"],
    &["SETBIT", "h", "1", "1"],
    &["GETBIT", "z", "1"],
    &["BITCOUNT", "s"],
    &["LPUSH", "h", "x"],
    &["RPUSH", "z", "x"],
    &["LLEN", "s"],
    &["LRANGE", "h", "0", "-1"],
    &["LPOP", "z"],
    &["RPOP", "h", "2"],
    &["LCS", "z", "h"],
    &["BLPOP", "s", "0.01"],
    &["SADD", "h", "x"],
    &["SCARD", "z"],
    &["SRANDMEMBER", "s"],
    &["SREM", "h", "x"],
    &["SSCAN", "z", "0"],
    &["MGET", "h", "z", "nokey"],
    &["BITOP", "AND", "dst", "h", "z"],
    &["BITPOS", "s", "1"],
    &["INCRBYFLOAT", "z", "1"],
    &["EXPIRE", "h", "100"],
    &["TTL", "h"],
    &["PERSIST", "h"],
    &["TTL", "h"],
    &["PEXPIRE", "z", "100000"],
    &["RENAME", "h", "h2"],
    &["TYPE", "h"],
    &["TYPE", "h2"],
    &["RENAMENX", "z", "h2"],
    &["COPY", "z", "z2"],
    &["COPY", "z", "z2"],
    &["COPY", "big-z", "z2", "REPLACE"],
    &["COPY", "s", "s2", "DB", "3"],
    &["MOVE", "h2", "2"],
    &["DEBUG", "DIGEST-VALUE", "z", "z2", "big-z", "s", "h2"],
    &["DEBUG", "DIGEST"],
    &["SELECT", "3"],
    &["TYPE", "s2"],
    &["DBSIZE"],
    &["RANDOMKEY"],
    &["SELECT", "2"],
    &["OBJECT", "ENCODING", "h2"],
    &["SELECT", "0"],
    &["DEL", "z", "big-h"],
    &["UNLINK", "big-z", "s"],
    &["KEYS", "*"],
    &["DBSIZE"],
    &["SET", "z2", "now a string"],
    &["TYPE", "z2"],
    &["DEBUG", "DIGEST"],
];

#[test]
fn generic_commands_answer_on_hashes_zsets_and_streams_as_redis_does() {
    let Some((dir, redis)) = redis_on("rdb-generic", LIMITS) else {
        return;
    };
    let mut con = redis.con();
    query(&mut con, &["HSET", "h", "f", "v", "g", "2"]);
    query(&mut con, &["ZADD", "z", "1", "a", "2.5", "b"]);
    query(&mut con, &["XADD", "s", "1-1", "f", "v"]);
    query(&mut con, &["XGROUP", "CREATE", "s", "g", "0"]);
    for i in 0..300 {
        query(&mut con, &["HSET", "big-h", &format!("f{i}"), "v"]);
        query(
            &mut con,
            &["ZADD", "big-z", &i.to_string(), &format!("m{i}")],
        );
    }
    query(&mut con, &["SAVE"]);
    let ringkv = up(ringkv(&dir.0, LIMITS));
    let (mut a, mut b) = (Client::connect(redis.port), Client::connect(ringkv.port));
    for command in GENERIC {
        let (want, got) = (a.cmd(command), b.cmd(command));
        let sorted = |reply: &[u8]| {
            let mut lines: Vec<&[u8]> = reply.split(|&c| c == b'\n').collect();
            lines.sort();
            lines.concat()
        };
        // KEYS and SCAN list keys in table order, which differs between servers.
        let unordered = matches!(command[0], "KEYS" | "SCAN");
        if unordered {
            assert_eq!(sorted(&got), sorted(&want), "{command:?}: {}", show(&got));
        } else {
            assert_eq!(show(&got), show(&want), "{command:?}");
        }
    }
    drop((ringkv, redis));
}

#[test]
fn idle_times_in_the_dump_carry_over() {
    let Some((dir, redis)) = redis_on("rdb-idle", &["--maxmemory-policy", "allkeys-lru"]) else {
        return;
    };
    let mut con = redis.con();
    query(&mut con, &["HSET", "h", "f", "v"]);
    std::thread::sleep(Duration::from_millis(2100));
    query(&mut con, &["SAVE"]);
    drop(redis);
    let ringkv = up(ringkv(&dir.0, &[]));
    let idle: i64 = redis::cmd("OBJECT")
        .arg("IDLETIME")
        .arg("h")
        .query(&mut ringkv.con())
        .unwrap();
    assert!((2..=4).contains(&idle), "idle {idle}");
    drop(ringkv);
}
