//! The RDB writer against the real redis-server: dumps redis-server writes (every type and
//! encoding) are decoded and re-encoded by ringkv's writer, and the result must pass
//! `redis-check-rdb` and load into a fresh redis-server with the same DEBUG DIGEST.
//! Skips without redis-server unless RINGKV_REQUIRE_REDIS=1.

mod common;

use std::convert::Infallible;
use std::path::Path;

use common::{fresh_dir, redis_server_available, tool_available, Server};
use ringkv::rdb::save::{AuxInfo, Encoding, Writer};
use ringkv::rdb::{load, Item};

fn r(con: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

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
    let lzf = "abcdefgh".repeat(40);
    for (k, v) in [
        ("raw", "hello"),
        ("int8", "-7"),
        ("int16", "12345"),
        ("int32", "-2000000000"),
        ("int64", "123456789012"),
        ("leading-zero", "0123"),
        ("empty", ""),
        ("lzf", lzf.as_str()),
    ] {
        r(con, &["SET", k, v]);
    }
    r(con, &["PEXPIREAT", "raw", "4102444800123"]);
    let mut small_list = vec!["RPUSH", "small-list"];
    small_list.extend(["a", "1", "-300", "70000", "5000000000", ""]);
    r(con, &small_list);
    let big_list: Vec<String> = (0..3000)
        .map(|i| {
            if i % 3 == 0 {
                i.to_string()
            } else {
                format!("element-{i}-{}", "x".repeat(i % 200))
            }
        })
        .collect();
    for chunk in big_list.chunks(500) {
        let mut args = vec!["RPUSH", "big-list"];
        args.extend(chunk.iter().map(String::as_str));
        r(con, &args);
    }
    let sets: Vec<(&str, Vec<String>)> = vec![
        (
            "intset16",
            (-5..10).map(|i| (i * 100).to_string()).collect(),
        ),
        (
            "intset64",
            vec!["1".into(), "-9000000000000".into(), "70000".into()],
        ),
        ("big-ints", (0..600).map(|i| (i * 7).to_string()).collect()),
        ("strset", vec!["x".into(), "y".into(), "12".into()]),
    ];
    for (key, members) in &sets {
        let mut args = vec!["SADD", key];
        args.extend(members.iter().map(String::as_str));
        r(con, &args);
    }
    let long_value = "L".repeat(200);
    r(
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
    r(con, &args);
    r(con, &["HSET", "long-hash", "long", &"L".repeat(400)]);
    r(
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
    r(con, &args);
    for i in 1..=250u64 {
        let id = format!("{i}-{}", i % 3);
        let v = i.to_string();
        if i % 4 == 0 {
            r(con, &["XADD", "st", &id, "other", &v]);
        } else {
            r(con, &["XADD", "st", &id, "a", &v, "b", "xyz"]);
        }
    }
    for del in ["2-2", "150-0", "250-1"] {
        r(con, &["XDEL", "st", del]);
    }
    r(con, &["XGROUP", "CREATE", "st", "g1", "0"]);
    r(
        con,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "3",
            "STREAMS",
            "st",
            ">",
        ],
    );
    r(con, &["XACK", "st", "g1", "3-0"]);
    r(con, &["XGROUP", "CREATE", "st", "g2", "$"]);
    r(con, &["XGROUP", "CREATECONSUMER", "st", "g2", "carol"]);
    r(
        con,
        &["XADD", "empty-stream", "MAXLEN", "0", "7-7", "f", "v"],
    );
    r(con, &["SELECT", "2"]);
    r(con, &["SET", "in-db-2", "two"]);
    r(con, &["SELECT", "15"]);
    r(con, &["SET", "in-db-15", "fifteen"]);
    r(con, &["PEXPIRE", "in-db-15", "100000000"]);
    r(con, &["SELECT", "0"]);
}

/// Re-encodes a decoded file with ringkv's writer (its own header and AUX fields).
fn reencode(items: &[Item], enc: Encoding) -> Vec<u8> {
    let mut w = Writer::new(Vec::new(), enc);
    w.header().unwrap();
    w.aux_fields(AuxInfo {
        ctime: 1_700_000_000,
        used_mem: 1 << 20,
    })
    .unwrap();
    for item in items.iter().filter(|i| !matches!(i, Item::Aux { .. })) {
        w.write_item(item).unwrap();
    }
    w.finish().unwrap()
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
        text(r(&mut con, &["DEBUG", "DIGEST"])),
        digest,
        "{}",
        server.log()
    );
    for &(db, n) in dbsize {
        r(&mut con, &["SELECT", &db.to_string()]);
        assert_eq!(r(&mut con, &["DBSIZE"]), redis::Value::Int(n), "db {db}");
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
    let digest = text(r(&mut con, &["DEBUG", "DIGEST"]));
    r(&mut con, &["SAVE"]);
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
        assert_redis_loads_with_digest(&path, &digest, &[(0, 21), (2, 1), (15, 1)]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
