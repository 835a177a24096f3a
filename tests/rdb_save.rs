//! The RDB writer against the real redis-server: dumps redis-server writes (every type and
//! encoding) are decoded and re-encoded by ringkv's writer, and the result must pass
//! `redis-check-rdb` and load into a fresh redis-server with the same DEBUG DIGEST.
//! Skips without redis-server unless RINGKV_REQUIRE_REDIS=1.

mod common;

use std::convert::Infallible;
use std::path::Path;

use common::{fresh_dir, query, redis_server_available, tool_available, Server};
use ringkv::rdb::save::{write_file, AuxInfo, Encoding};
use ringkv::rdb::{load, Item};

fn text(v: redis::Value) -> String {
    match v {
        redis::Value::BulkString(b) => String::from_utf8(b).unwrap(),
        redis::Value::SimpleString(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

/// Settings both servers of a comparison share (the thresholds decide encodings).
const THRESHOLDS: &[(&str, &str)] = &[
    ("hash-max-listpack-entries", "128"),
    ("hash-max-listpack-value", "300"),
    ("zset-max-listpack-entries", "128"),
    ("zset-max-listpack-value", "64"),
    ("set-max-intset-entries", "512"),
    ("list-max-listpack-size", "-2"),
    ("enable-debug-command", "yes"),
];

fn encoding() -> Encoding {
    Encoding {
        hash_max_listpack_entries: 128,
        hash_max_listpack_value: 300,
        ..Encoding::default()
    }
}

/// Fills a redis-server with every type in its small and large encodings.
fn populate(con: &mut redis::Connection) {
    populate_basic(con);
    // 64-bit and large intsets, a set that outgrows the intset.
    query(con, &["SADD", "intset64", "1", "-9000000000000", "70000"]);
    let long_value = "L".repeat(200);
    query(
        con,
        &[
            "HSET",
            "small-hash",
            "f",
            "v",
            "n",
            "42",
            "wide",
            &long_value,
        ],
    );
    let big_hash: Vec<String> = (0..300)
        .flat_map(|i| [format!("field{i}"), (i * 3).to_string()])
        .collect();
    let mut args = vec!["HSET", "big-hash"];
    args.extend(big_hash.iter().map(String::as_str));
    query(con, &args);
    query(con, &["HSET", "long-hash", "long", &"L".repeat(400)]);
    query(
        con,
        &[
            "ZADD",
            "small-zset",
            "1.5",
            "a",
            "+inf",
            "top",
            "-inf",
            "bottom",
            "-0.1",
            "neg",
            "1e300",
            "huge",
            "3",
            "int",
        ],
    );
    let big_zset: Vec<String> = (0..300)
        .flat_map(|i| [(f64::from(i) / 3.0).to_string(), format!("member{i}")])
        .collect();
    let mut args = vec!["ZADD", "big-zset"];
    args.extend(big_zset.iter().map(String::as_str));
    query(con, &args);
    for i in 1..=250u64 {
        let id = format!("{i}-{}", i % 3);
        let v = i.to_string();
        if i % 4 == 0 {
            query(con, &["XADD", "st", &id, "other", &v]);
        } else {
            query(con, &["XADD", "st", &id, "a", &v, "b", "xyz"]);
        }
    }
    for del in ["2-2", "150-0", "250-1"] {
        query(con, &["XDEL", "st", del]);
    }
    query(con, &["XGROUP", "CREATE", "st", "g1", "0"]);
    let read: Vec<&str> = "XREADGROUP GROUP g1 alice COUNT 3 STREAMS st >"
        .split(' ')
        .collect();
    query(con, &read);
    query(con, &["XACK", "st", "g1", "3-0"]);
    query(con, &["XGROUP", "CREATE", "st", "g2", "$"]);
    query(con, &["XGROUP", "CREATECONSUMER", "st", "g2", "carol"]);
    query(
        con,
        &["XADD", "empty-stream", "MAXLEN", "0", "7-7", "f", "v"],
    );
    query(con, &["SELECT", "2"]);
    query(con, &["SET", "in-db-2", "two"]);
    query(con, &["SELECT", "15"]);
    query(con, &["SET", "in-db-15", "fifteen"]);
    query(con, &["PEXPIRE", "in-db-15", "100000000"]);
    query(con, &["SELECT", "0"]);
}

/// Re-encodes a decoded file with ringkv's writer (its own header and AUX fields).
fn reencode(items: &[Item], enc: Encoding) -> Vec<u8> {
    let aux = AuxInfo {
        ctime: 1_700_000_000,
        used_mem: 1 << 20,
    };
    write_file(Vec::new(), enc, aux, items).unwrap()
}

fn decode(bytes: &[u8]) -> Vec<Item> {
    let mut items = Vec::new();
    load(bytes, |item| {
        items.push(item);
        Ok::<(), Infallible>(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    items
}

/// `redis-check-rdb` must accept the file.
fn assert_check_rdb_passes(path: &Path) {
    if !tool_available("redis-check-rdb") {
        return;
    }
    let out = std::process::Command::new("redis-check-rdb")
        .arg(path)
        .output()
        .expect("run redis-check-rdb");
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && log.contains("RDB looks OK"),
        "{log}"
    );
}

/// A fresh redis-server loads `path` and reports `digest`.
fn assert_redis_loads_with_digest(path: &Path, digest: &str, dbsize: &[(u32, i64)]) {
    let dir = path.parent().unwrap().to_str().unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    let mut settings = THRESHOLDS.to_vec();
    settings.extend([("dir", dir), ("dbfilename", name)]);
    let server = Server::start_redis_with(&settings);
    let mut con = server.redis_conn();
    assert_eq!(
        text(query(&mut con, &["DEBUG", "DIGEST"])),
        digest,
        "{}",
        server.log()
    );
    for &(db, n) in dbsize {
        query(&mut con, &["SELECT", &db.to_string()]);
        assert_eq!(
            query(&mut con, &["DBSIZE"]),
            redis::Value::Int(n),
            "db {db}"
        );
    }
}

#[test]
fn redis_dumps_reencoded_pass_check_rdb_and_load_with_the_same_digest() {
    if !redis_server_available() {
        return;
    }
    let server = Server::start_redis_with(THRESHOLDS);
    let mut con = server.redis_conn();
    populate(&mut con);
    let digest = text(query(&mut con, &["DEBUG", "DIGEST"]));
    query(&mut con, &["SAVE"]);
    let original = std::fs::read(server.dir().join("dump.rdb")).unwrap();
    let items = decode(&original);

    for compression in [true, false] {
        let bytes = reencode(
            &items,
            Encoding {
                rdbcompression: compression,
                ..encoding()
            },
        );
        assert_eq!(decode(&bytes).len(), items.len());
        let dir = fresh_dir("rdb-save");
        let path = dir.join("ringkv.rdb");
        std::fs::write(&path, &bytes).unwrap();
        assert_check_rdb_passes(&path);
        assert_redis_loads_with_digest(&path, &digest, &[(0, 19), (2, 1), (15, 1)]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn bytes(v: redis::Value) -> Vec<u8> {
    match v {
        redis::Value::BulkString(b) => b,
        other => panic!("not a bulk string: {other:?}"),
    }
}

/// Keys of the types ringkv's keyspace holds, in each encoding Redis gives them.
fn populate_basic(con: &mut redis::Connection) -> Vec<String> {
    let lzf = "abcdefgh".repeat(40);
    for (k, v) in [
        ("raw", "hello"),
        ("int8", "-7"),
        ("int32", "-2000000000"),
        ("int64", "123456789012"),
        ("empty", ""),
        ("lzf", lzf.as_str()),
    ] {
        query(con, &["SET", k, v]);
    }
    query(con, &["PEXPIRE", "raw", "100000000"]);
    query(
        con,
        &["RPUSH", "small-list", "a", "1", "-300", "70000", "", "x"],
    );
    let big: Vec<String> = (0..2000)
        .map(|i| format!("e{i}-{}", "y".repeat(i % 150)))
        .collect();
    for chunk in big.chunks(500) {
        let mut args = vec!["RPUSH", "big-list"];
        args.extend(chunk.iter().map(String::as_str));
        query(con, &args);
    }
    query(con, &["SADD", "intset", "5", "-7000", "300", "0"]);
    query(con, &["SADD", "strset", "a", "b", "12"]);
    let many: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    let mut args = vec!["SADD", "bigset"];
    args.extend(many.iter().map(String::as_str));
    query(con, &args);
    [
        "raw",
        "int8",
        "int32",
        "int64",
        "empty",
        "lzf",
        "small-list",
        "big-list",
        "intset",
        "strset",
        "bigset",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn dump_payloads_cross_between_redis_and_ringkv() {
    if !redis_server_available() {
        return;
    }
    let redis = Server::start_redis_with(THRESHOLDS);
    let ringkv = Server::start_ringkv(common::Backend::Epoll, &[]);
    let mut rc = redis.redis_conn();
    let mut kc = ringkv.redis_conn();
    for key in populate_basic(&mut rc) {
        let payload = bytes(query(&mut rc, &["DUMP", &key]));
        // Redis -> ringkv: the same value, and (same encodings) the same payload back.
        // Not for string sets (member order is the hash table's) nor LZF-compressed
        // strings and nodes (ringkv's compressor finds other matches than liblzf).
        let restored = query(&mut kc, &[b"RESTORE", key.as_bytes(), b"0", &payload]);
        assert_eq!(restored, redis::Value::Okay, "{key}");
        let ours = bytes(query(&mut kc, &["DUMP", &key]));
        let byte_equal = [
            "raw",
            "int8",
            "int32",
            "int64",
            "empty",
            "small-list",
            "intset",
        ];
        if byte_equal.contains(&key.as_str()) {
            assert!(ours == payload, "{key}: DUMP payloads differ");
        }
        // DIGEST-VALUE counts whether the key has a TTL: give the copy the same.
        let copy = format!("{key}:copy");
        let ttl = match query(&mut rc, &["PTTL", &key]) {
            redis::Value::Int(ms) if ms > 0 => (ms + 60_000).to_string(),
            _ => "0".to_string(),
        };
        let restored = query(
            &mut rc,
            &[b"RESTORE", copy.as_bytes(), ttl.as_bytes(), &ours],
        );
        assert_eq!(restored, redis::Value::Okay, "{key}");
        assert_eq!(
            query(&mut rc, &["DEBUG", "DIGEST-VALUE", &key]),
            query(&mut rc, &["DEBUG", "DIGEST-VALUE", &copy]),
            "{key}"
        );
    }
}

/// One field of INFO persistence.
fn info(con: &mut redis::Connection, name: &str) -> String {
    let all = text(query(con, &["INFO", "persistence"]));
    all.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {name} in {all}"))
}

/// Runs the same commands on ringkv and on redis-server, SAVEs (or BGSAVEs) ringkv, and
/// loads its dump into a fresh redis-server: DEBUG DIGEST must match the redis-server
/// that ran the commands itself.
fn saved_dump_loads_into_redis(background: bool) {
    if !redis_server_available() {
        return;
    }
    let reference = Server::start_redis_with(THRESHOLDS);
    let ringkv = Server::start_ringkv(common::Backend::Uring, &[]);
    let mut rc = reference.redis_conn();
    let mut kc = ringkv.redis_conn();
    populate_basic(&mut rc);
    populate_basic(&mut kc);
    for con in [&mut rc, &mut kc] {
        query(con, &["SELECT", "3"]);
        query(con, &["SET", "in-db-3", "three"]);
        query(con, &["EXPIREAT", "in-db-3", "4102444800"]);
        query(con, &["SELECT", "0"]);
    }
    // The TTL of `raw` is relative: pin both to the same absolute time.
    query(&mut rc, &["PEXPIREAT", "raw", "4102444800123"]);
    query(&mut kc, &["PEXPIREAT", "raw", "4102444800123"]);
    let digest = text(query(&mut rc, &["DEBUG", "DIGEST"]));
    let path = ringkv.dir().join("dump.rdb");
    if background {
        assert_eq!(
            text(query(&mut kc, &["BGSAVE"])),
            "Background saving started"
        );
        common::wait_for(std::time::Duration::from_secs(10), "BGSAVE", || {
            (info(&mut kc, "rdb_bgsave_in_progress") == "0" && path.exists()).then_some(())
        });
        assert_eq!(info(&mut kc, "rdb_last_bgsave_status"), "ok");
    } else {
        assert_eq!(query(&mut kc, &["SAVE"]), redis::Value::Okay);
    }
    assert_check_rdb_passes(&path);
    assert_redis_loads_with_digest(&path, &digest, &[(0, 11), (3, 1)]);
}

#[test]
fn save_writes_a_dump_redis_loads_with_the_same_digest() {
    saved_dump_loads_into_redis(false);
}

#[test]
fn bgsave_writes_a_dump_redis_loads_with_the_same_digest() {
    saved_dump_loads_into_redis(true);
}
