//! The RDB decoder against dumps the real redis-server writes: every type and encoding it
//! produces (small and large collections, intsets, integer and LZF strings, TTLs, several
//! databases, streams with consumer groups and pending entries, functions, LFU/LRU data),
//! decoded and compared with what the test put in. Skips without redis-server unless
//! RINGKV_REQUIRE_REDIS=1.

mod common;

use std::collections::BTreeMap;
use std::convert::Infallible;

use common::{query, redis_server_available, Server};
use ringkv::rdb::{load, Checksum, Item, Pairs, RdbValue, Stream, StreamId, Summary};

/// SAVE, then decode the dump into (summary, items).
fn save_and_decode(server: &Server, con: &mut redis::Connection) -> (Summary, Vec<Item>) {
    let (summary, items, _) = save_and_decode_bytes(server, con);
    (summary, items)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Asserts what OBJECT ENCODING says of each key, so the dump holds the intended types.
fn assert_encodings(con: &mut redis::Connection, expected: &[(&str, &str)]) {
    for (key, encoding) in expected {
        let got = query(con, &["OBJECT", "ENCODING", key]);
        assert_eq!(
            got,
            redis::Value::BulkString(encoding.as_bytes().to_vec()),
            "{key}"
        );
    }
}

/// Like [`save_and_decode`], also returning the file's bytes.
fn save_and_decode_bytes(
    server: &Server,
    con: &mut redis::Connection,
) -> (Summary, Vec<Item>, Vec<u8>) {
    query(con, &["SAVE"]);
    let bytes = std::fs::read(server.dir().join("dump.rdb")).expect("dump.rdb");
    let mut items = Vec::new();
    let summary = load(bytes.as_slice(), |item| {
        items.push(item);
        Ok::<(), Infallible>(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    (summary, items, bytes)
}

type Keys = BTreeMap<(u64, Vec<u8>), (RdbValue, Option<i64>)>;

fn keys(items: &[Item]) -> Keys {
    let mut out = BTreeMap::new();
    for item in items {
        if let Item::Key {
            db,
            key,
            value,
            expire_ms,
            ..
        } = item
        {
            out.insert((*db, key.clone()), (value.clone(), *expire_ms));
        }
    }
    out
}

fn get<'a>(keys: &'a Keys, db: u64, key: &str) -> &'a RdbValue {
    &keys
        .get(&(db, key.as_bytes().to_vec()))
        .unwrap_or_else(|| panic!("no key {key} in db {db}"))
        .0
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

fn bytes_of(v: &[String]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn as_set(value: &RdbValue) -> Vec<Vec<u8>> {
    match value {
        RdbValue::Set(s) => sorted(s.clone()),
        other => panic!("not a set: {other:?}"),
    }
}

fn as_hash(value: &RdbValue) -> BTreeMap<Vec<u8>, Vec<u8>> {
    match value {
        RdbValue::Hash(h) => {
            let map: BTreeMap<_, _> = h.iter().cloned().collect();
            assert_eq!(map.len(), h.len(), "duplicate fields");
            map
        }
        other => panic!("not a hash: {other:?}"),
    }
}

fn as_zset(value: &RdbValue) -> BTreeMap<Vec<u8>, f64> {
    match value {
        RdbValue::ZSet(z) => z.iter().cloned().collect(),
        other => panic!("not a zset: {other:?}"),
    }
}

#[test]
fn strings_lists_sets_hashes_zsets_small_and_large() {
    if !redis_server_available() {
        return;
    }
    let server = Server::start_redis();
    let mut con = server.redis_conn();
    query(&mut con, &["CONFIG", "SET", "rdbcompression", "yes"]);
    // The thresholds between the packed and the general encodings (builds differ).
    for (name, value) in [
        ("hash-max-listpack-entries", "128"),
        ("hash-max-listpack-value", "64"),
        ("zset-max-listpack-entries", "128"),
        ("zset-max-listpack-value", "64"),
        ("set-max-intset-entries", "512"),
        ("list-max-listpack-size", "-2"),
    ] {
        query(&mut con, &["CONFIG", "SET", name, value]);
    }
    // Strings: raw, integer-encoded (8/16/32-bit), too big for an int encoding, LZF, binary.
    let lzf = "abcdefgh".repeat(40);
    let strings = [
        ("raw", "hello"),
        ("int8", "-7"),
        ("int16", "12345"),
        ("int32", "-2000000000"),
        ("int64", "123456789012"),
        ("leading-zero", "0123"),
        ("empty", ""),
        ("lzf", lzf.as_str()),
    ];
    for (k, v) in strings {
        query(&mut con, &["SET", k, v]);
    }
    query(&mut con, &[&b"SET"[..], b"binary", b"\x00\xff\r\n\x01"]);
    query(&mut con, &["PEXPIREAT", "raw", "4102444800123"]);
    query(&mut con, &["EXPIREAT", "int16", "4102444801"]);

    // Lists: one listpack node, and many nodes with integers and long strings.
    let small_list: Vec<String> = ["a", "1", "-300", "70000", "5000000000", ""]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let big_list: Vec<String> = (0..3000)
        .map(|i| {
            if i % 3 == 0 {
                i.to_string()
            } else {
                format!("element-{i}-{}", "x".repeat(i % 50))
            }
        })
        .collect();
    for (key, list) in [("small-list", &small_list), ("big-list", &big_list)] {
        for chunk in list.chunks(500) {
            let mut args = vec!["RPUSH", key];
            args.extend(chunk.iter().map(String::as_str));
            query(&mut con, &args);
        }
    }

    // Sets: intsets of 16/32/64-bit members, a large int set, string sets.
    let intset16: Vec<String> = (-5..10).map(|i| (i * 100).to_string()).collect();
    let intset64: Vec<String> = vec!["1".into(), "-9000000000000".into(), "70000".into()];
    let big_ints: Vec<String> = (0..600).map(|i| (i * 7).to_string()).collect();
    let strset: Vec<String> = vec!["x".into(), "y".into(), "12".into()];
    let big_strset: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let sets = [
        ("intset16", &intset16),
        ("intset64", &intset64),
        ("big-ints", &big_ints),
        ("strset", &strset),
        ("big-strset", &big_strset),
    ];
    for (key, members) in sets {
        let mut args = vec!["SADD", key];
        args.extend(members.iter().map(String::as_str));
        query(&mut con, &args);
    }

    // Hashes: listpack, too many fields, a value too long for a listpack.
    let small_hash: Vec<(String, String)> =
        vec![("f".into(), "v".into()), ("n".into(), "42".into())];
    let big_hash: Vec<(String, String)> = (0..300)
        .map(|i| (format!("field{i}"), format!("{}", i * 3)))
        .collect();
    let long_value_hash: Vec<(String, String)> = vec![("long".into(), "L".repeat(100))];
    let hashes = [
        ("small-hash", &small_hash),
        ("big-hash", &big_hash),
        ("long-value-hash", &long_value_hash),
    ];
    for (key, pairs) in hashes {
        let mut args = vec!["HSET", key];
        for (f, v) in pairs.iter() {
            args.push(f);
            args.push(v);
        }
        query(&mut con, &args);
    }

    // Sorted sets: listpack and skiplist, with awkward scores.
    let small_zset: Vec<(f64, String)> = vec![
        (1.5, "a".into()),
        (f64::INFINITY, "top".into()),
        (f64::NEG_INFINITY, "bottom".into()),
        (-0.1, "neg".into()),
        (1e300, "huge".into()),
    ];
    let big_zset: Vec<(f64, String)> = (0..300)
        .map(|i| (f64::from(i) / 3.0, format!("member{i}")))
        .collect();
    for (key, pairs) in [("small-zset", &small_zset), ("big-zset", &big_zset)] {
        let texts: Vec<(String, String)> = pairs
            .iter()
            .map(|(s, m)| {
                let text = match *s {
                    f64::INFINITY => "+inf".to_string(),
                    f64::NEG_INFINITY => "-inf".to_string(),
                    s => format!("{s:?}"),
                };
                (text, m.clone())
            })
            .collect();
        let mut args = vec!["ZADD", key];
        for (s, m) in &texts {
            args.push(s);
            args.push(m);
        }
        query(&mut con, &args);
    }

    // Other databases.
    query(&mut con, &["SELECT", "2"]);
    query(&mut con, &["SET", "in-db-2", "two"]);
    query(&mut con, &["SELECT", "15"]);
    query(&mut con, &["SET", "in-db-15", "fifteen"]);
    query(&mut con, &["PEXPIRE", "in-db-15", "100000000"]);
    query(&mut con, &["SELECT", "0"]);

    assert_encodings(
        &mut con,
        &[
            ("raw", "embstr"),
            ("int16", "int"),
            ("int64", "int"),
            ("lzf", "raw"),
            ("small-list", "quicklist"),
            ("intset16", "intset"),
            ("intset64", "intset"),
            ("big-ints", "hashtable"),
            ("strset", "hashtable"),
            ("small-hash", "listpack"),
            ("big-hash", "hashtable"),
            ("long-value-hash", "hashtable"),
            ("small-zset", "listpack"),
            ("big-zset", "skiplist"),
        ],
    );
    let (summary, items, bytes) = save_and_decode_bytes(&server, &mut con);
    assert!(
        !contains(&bytes, lzf.as_bytes()),
        "the long string was compressed"
    );
    assert_eq!(summary.version, 10, "redis 7.0 writes RDB 10");
    assert!(matches!(summary.checksum, Checksum::Verified(_)));
    assert!(items.contains(&Item::Aux {
        key: b"redis-ver".to_vec(),
        value: b"7.0.15".to_vec()
    }));
    assert!(items.contains(&Item::SelectDb(2)));
    let keys = keys(&items);
    assert_eq!(keys.len() as u64, summary.keys);
    assert_eq!(keys.len(), 8 + 1 + 2 + 5 + 3 + 2 + 2);

    for (k, v) in strings {
        assert_eq!(
            get(&keys, 0, k),
            &RdbValue::String(v.as_bytes().to_vec()),
            "{k}"
        );
    }
    assert_eq!(
        get(&keys, 0, "binary"),
        &RdbValue::String(b"\x00\xff\r\n\x01".to_vec())
    );
    assert_eq!(keys[&(0, b"raw".to_vec())].1, Some(4_102_444_800_123));
    assert_eq!(keys[&(0, b"int16".to_vec())].1, Some(4_102_444_801_000));
    assert_eq!(keys[&(0, b"lzf".to_vec())].1, None);

    assert_eq!(
        get(&keys, 0, "small-list"),
        &RdbValue::List(bytes_of(&small_list))
    );
    assert_eq!(
        get(&keys, 0, "big-list"),
        &RdbValue::List(bytes_of(&big_list))
    );
    for (key, members) in sets {
        assert_eq!(
            as_set(get(&keys, 0, key)),
            sorted(bytes_of(members)),
            "{key}"
        );
    }
    for (key, pairs) in hashes {
        let expected: BTreeMap<Vec<u8>, Vec<u8>> = pairs
            .iter()
            .map(|(f, v)| (f.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        assert_eq!(as_hash(get(&keys, 0, key)), expected, "{key}");
    }
    for (key, pairs) in [("small-zset", &small_zset), ("big-zset", &big_zset)] {
        let expected: BTreeMap<Vec<u8>, f64> = pairs
            .iter()
            .map(|(s, m)| (m.as_bytes().to_vec(), *s))
            .collect();
        assert_eq!(as_zset(get(&keys, 0, key)), expected, "{key}");
    }
    assert_eq!(get(&keys, 2, "in-db-2"), &RdbValue::String(b"two".to_vec()));
    assert_eq!(
        get(&keys, 15, "in-db-15"),
        &RdbValue::String(b"fifteen".to_vec())
    );
    assert!(keys[&(15, b"in-db-15".to_vec())].1.is_some());
}

/// `entries-read` of each group, as XINFO GROUPS reports it (nil: unknown).
fn group_entries_read(con: &mut redis::Connection, key: &str) -> Vec<Option<u64>> {
    let redis::Value::Array(groups) = query(con, &["XINFO", "GROUPS", key]) else {
        panic!("XINFO GROUPS: not an array")
    };
    groups
        .iter()
        .map(|group| {
            let redis::Value::Array(fields) = group else {
                panic!("XINFO GROUPS: {group:?}")
            };
            let at = fields
                .iter()
                .position(|f| matches!(f, redis::Value::BulkString(b) if b == b"entries-read"))
                .expect("entries-read");
            match &fields[at + 1] {
                redis::Value::Nil => None,
                redis::Value::Int(n) => Some(*n as u64),
                other => panic!("entries-read: {other:?}"),
            }
        })
        .collect()
}

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId { ms, seq }
}

fn stream_of(keys: &Keys, key: &str) -> Stream {
    match get(keys, 0, key) {
        RdbValue::Stream(s) => (**s).clone(),
        other => panic!("not a stream: {other:?}"),
    }
}

#[test]
fn streams_with_groups_consumers_and_pending_entries() {
    if !redis_server_available() {
        return;
    }
    let server = Server::start_redis();
    let mut con = server.redis_conn();
    // 250 entries over several nodes (100 per node), some with the master fields (a, b),
    // some with others; then deletions.
    let mut live = Vec::new();
    for i in 1..=250u64 {
        let idtext = format!("{i}-{}", i % 3);
        let fields: Vec<(String, String)> = if i % 4 == 0 {
            vec![("other".into(), format!("v{i}"))]
        } else {
            vec![
                ("a".into(), i.to_string()),
                ("b".into(), "x".repeat(i as usize % 7)),
            ]
        };
        let mut args = vec!["XADD".to_string(), "st".into(), idtext];
        for (f, v) in &fields {
            args.push(f.clone());
            args.push(v.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        query(&mut con, &args);
        live.push((id(i, i % 3), fields));
    }
    for del in [2u64, 150, 250] {
        query(&mut con, &["XDEL", "st", &format!("{del}-{}", del % 3)]);
        live.retain(|(i, _)| i.ms != del);
    }
    query(&mut con, &["XGROUP", "CREATE", "st", "g1", "0"]);
    query(
        &mut con,
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
    query(
        &mut con,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "bob",
            "COUNT",
            "2",
            "STREAMS",
            "st",
            ">",
        ],
    );
    // alice has 1-1, 3-0, 4-1; bob has 5-2, 6-0. Ack 3-0; claim 4-1 for bob.
    query(&mut con, &["XACK", "st", "g1", "3-0"]);
    query(&mut con, &["XCLAIM", "st", "g1", "bob", "0", "4-1"]);
    query(&mut con, &["XGROUP", "CREATE", "st", "g2", "$"]);
    query(&mut con, &["XGROUP", "CREATECONSUMER", "st", "g2", "carol"]);
    query(&mut con, &["XADD", "empty", "MAXLEN", "0", "7-7", "f", "v"]);

    let entries_read = group_entries_read(&mut con, "st");
    let (_, items) = save_and_decode(&server, &mut con);
    let keys = keys(&items);
    let st = stream_of(&keys, "st");
    let entries: Vec<(StreamId, Pairs)> = st
        .entries
        .iter()
        .map(|e| (e.id, e.fields.clone()))
        .collect();
    let expected: Vec<(StreamId, Pairs)> = live
        .iter()
        .map(|(i, f)| {
            let f = f
                .iter()
                .map(|(a, b)| (a.as_bytes().to_vec(), b.as_bytes().to_vec()))
                .collect();
            (*i, f)
        })
        .collect();
    assert_eq!(entries, expected);
    assert_eq!(st.length, 247);
    assert_eq!(st.last_id, id(250, 1));
    assert_eq!(st.first_id, id(1, 1));
    assert_eq!(st.max_deleted_id, id(250, 1));
    assert_eq!(st.entries_added, 250);
    assert_eq!(st.groups.len(), 2);

    let g1 = &st.groups[0];
    assert_eq!(g1.name, b"g1");
    assert_eq!(g1.last_id, id(6, 0));
    assert_eq!(g1.entries_read, entries_read[0]);
    assert_eq!(st.groups[1].entries_read, entries_read[1]);
    let pel: Vec<(StreamId, u64)> = g1
        .pending
        .iter()
        .map(|p| (p.id, p.delivery_count))
        .collect();
    assert_eq!(
        pel,
        vec![(id(1, 1), 1), (id(4, 1), 2), (id(5, 2), 1), (id(6, 0), 1)]
    );
    assert!(g1
        .pending
        .iter()
        .all(|p| p.delivery_time_ms > 1_600_000_000_000));
    let consumers: Vec<(Vec<u8>, Vec<StreamId>)> = g1
        .consumers
        .iter()
        .map(|c| (c.name.clone(), c.pending.clone()))
        .collect();
    assert_eq!(
        consumers,
        vec![
            (b"alice".to_vec(), vec![id(1, 1)]),
            (b"bob".to_vec(), vec![id(4, 1), id(5, 2), id(6, 0)]),
        ]
    );
    let g2 = &st.groups[1];
    assert_eq!((g2.name.as_slice(), g2.last_id), (&b"g2"[..], id(250, 1)));
    assert!(g2.pending.is_empty());
    assert_eq!(g2.consumers.len(), 1);
    assert_eq!(g2.consumers[0].name, b"carol");

    let empty = stream_of(&keys, "empty");
    assert!(empty.entries.is_empty());
    assert_eq!(
        (empty.length, empty.last_id, empty.entries_added),
        (0, id(7, 7), 1)
    );
}

#[test]
fn functions_lfu_lru_and_no_checksum() {
    if !redis_server_available() {
        return;
    }
    let server = Server::start_redis();
    let mut con = server.redis_conn();
    let code = "#!lua name=mylib\nredis.register_function('f', function() return 1 end)";
    query(&mut con, &["FUNCTION", "LOAD", code]);
    query(
        &mut con,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    );
    query(&mut con, &["SET", "k", "v"]);
    for _ in 0..20 {
        query(&mut con, &["GET", "k"]);
    }
    let (_, items) = save_and_decode(&server, &mut con);
    assert!(items.contains(&Item::FunctionSkipped {
        code: code.as_bytes().to_vec()
    }));
    let Some(Item::Key { freq, idle, .. }) = items.iter().find(|i| matches!(i, Item::Key { .. }))
    else {
        panic!("no key")
    };
    assert!(freq.is_some_and(|f| f > 0), "{freq:?}");
    assert_eq!(*idle, None);

    query(
        &mut con,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    );
    query(&mut con, &["CONFIG", "SET", "rdbcompression", "no"]);
    query(&mut con, &["SET", "long", &"z".repeat(500)]);
    let (_, items) = save_and_decode(&server, &mut con);
    let keys = keys(&items);
    assert_eq!(
        get(&keys, 0, "long"),
        &RdbValue::String("z".repeat(500).into_bytes())
    );
    assert!(items
        .iter()
        .all(|i| !matches!(i, Item::Key { idle: None, .. })));
}
