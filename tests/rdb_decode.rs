//! The RDB decoder on Redis' own test assets (tests/fixtures/rdb, see NOTICE there) and on
//! hand-made files: every opcode, old value types, and corrupt input, which must end in an
//! `RdbError` with an offset, never a panic.

use std::collections::BTreeMap;
use std::path::Path;

use ringkv::rdb::crc64::crc64;
use ringkv::rdb::lzf;
use ringkv::rdb::{load, Checksum, Item, RdbError, RdbValue, Summary};

fn decode(bytes: &[u8]) -> Result<(Vec<Item>, Summary), RdbError> {
    let mut items = Vec::new();
    let summary = load(bytes, |item| {
        items.push(item);
        Ok::<(), String>(())
    })?;
    Ok((items, summary))
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rdb")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// With RINGKV_WRITE_RDB_SEEDS=DIR, hand-made files are also written to DIR (that is how
/// fuzz/seeds/rdb_load/hand_*.rdb were made).
fn seed(name: &str, file: &[u8]) {
    if let Some(dir) = std::env::var_os("RINGKV_WRITE_RDB_SEEDS") {
        std::fs::write(Path::new(&dir).join(name), file).expect("write seed");
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A value as Redis' Tcl `csvdump` lists it: sets sorted, hashes sorted by field, sorted
/// sets by score.
fn norm(value: &RdbValue) -> (&'static str, Vec<String>) {
    match value {
        RdbValue::String(s) => ("string", vec![text(s)]),
        RdbValue::List(l) => ("list", l.iter().map(|e| text(e)).collect()),
        RdbValue::Set(s) => {
            let mut v: Vec<String> = s.iter().map(|e| text(e)).collect();
            v.sort();
            ("set", v)
        }
        RdbValue::Hash(h) => {
            let mut pairs: Vec<(String, String)> =
                h.iter().map(|(f, v)| (text(f), text(v))).collect();
            pairs.sort();
            (
                "hash",
                pairs.into_iter().flat_map(|(f, v)| [f, v]).collect(),
            )
        }
        RdbValue::ZSet(z) => {
            let mut pairs = z.clone();
            pairs.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            (
                "zset",
                pairs
                    .into_iter()
                    .flat_map(|(m, s)| [text(&m), s.to_string()])
                    .collect(),
            )
        }
        RdbValue::Stream(_) => ("stream", Vec::new()),
    }
}

/// Every key of db 0 by name, normalized.
fn keys(items: &[Item]) -> BTreeMap<String, (&'static str, Vec<String>)> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Key { db, key, value, .. } => {
                assert_eq!(*db, 0);
                Some((text(key), norm(value)))
            }
            _ => None,
        })
        .collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn encodings_rdb_holds_what_redis_tests_expect() {
    // tests/integration/rdb.tcl, "RDB encoding loading test" (an RDB version 4 file).
    let (items, summary) = decode(&fixture("encodings.rdb")).unwrap();
    assert_eq!(summary.version, 4);
    assert_eq!(summary.checksum, Checksum::Absent);
    let got = keys(&items);
    let nums = ["1", "2", "3", "a", "b", "c", "100000", "6000000000"];
    let expected: BTreeMap<String, (&str, Vec<String>)> = [
        ("compressible", ("string", vec!["a".repeat(137)])),
        (
            "hash",
            (
                "hash",
                strs(&[
                    "a",
                    "1",
                    "aa",
                    "10",
                    "aaa",
                    "100",
                    "b",
                    "2",
                    "bb",
                    "20",
                    "bbb",
                    "200",
                    "c",
                    "3",
                    "cc",
                    "30",
                    "ccc",
                    "300",
                    "ddd",
                    "400",
                    "eee",
                    "5000000000",
                ]),
            ),
        ),
        (
            "hash_zipped",
            ("hash", strs(&["a", "1", "b", "2", "c", "3"])),
        ),
        ("list", ("list", strs(&nums.repeat(3)))),
        ("list_zipped", ("list", strs(&nums))),
        ("number", ("string", strs(&["10"]))),
        (
            "set",
            (
                "set",
                strs(&["1", "100000", "2", "3", "6000000000", "a", "b", "c"]),
            ),
        ),
        ("set_zipped_1", ("set", strs(&["1", "2", "3", "4"]))),
        (
            "set_zipped_2",
            ("set", strs(&["100000", "200000", "300000", "400000"])),
        ),
        (
            "set_zipped_3",
            (
                "set",
                strs(&[
                    "1000000000",
                    "2000000000",
                    "3000000000",
                    "4000000000",
                    "5000000000",
                    "6000000000",
                ]),
            ),
        ),
        ("string", ("string", strs(&["Hello World"]))),
        (
            "zset",
            (
                "zset",
                strs(&[
                    "a",
                    "1",
                    "b",
                    "2",
                    "c",
                    "3",
                    "aa",
                    "10",
                    "bb",
                    "20",
                    "cc",
                    "30",
                    "aaa",
                    "100",
                    "bbb",
                    "200",
                    "ccc",
                    "300",
                    "aaaa",
                    "1000",
                    "cccc",
                    "123456789",
                    "bbbb",
                    "5000000000",
                ]),
            ),
        ),
        (
            "zset_zipped",
            ("zset", strs(&["a", "1", "b", "2", "c", "3"])),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(got, expected);
}

#[test]
fn old_hash_list_and_zset_encodings() {
    // convert-zipmap-hash-on-load.tcl, convert-ziplist-hash-on-load.tcl: f1 v1, f2 v2.
    for (file, version) in [("hash-zipmap.rdb", 3), ("hash-ziplist.rdb", 9)] {
        let (items, summary) = decode(&fixture(file)).unwrap();
        assert_eq!(summary.version, version, "{file}");
        assert_eq!(
            keys(&items)["hash"],
            ("hash", strs(&["f1", "v1", "f2", "v2"])),
            "{file}"
        );
    }
    // convert-ziplist-zset-on-load.tcl: one 1 two 2.
    let (items, summary) = decode(&fixture("zset-ziplist.rdb")).unwrap();
    assert!(matches!(summary.checksum, Checksum::Verified(_)));
    assert_eq!(
        keys(&items)["zset"],
        ("zset", strs(&["one", "1", "two", "2"]))
    );
    // rdb.tcl "test old version rdb file": x is 7, list pops 7 (a 4.0 quicklist).
    let (items, summary) = decode(&fixture("list-quicklist.rdb")).unwrap();
    assert_eq!(summary.version, 8);
    let got = keys(&items);
    assert_eq!(got["x"], ("string", strs(&["7"])));
    assert_eq!(got["list"], ("list", strs(&["7"])));
    assert!(items.contains(&Item::Aux {
        key: b"redis-ver".to_vec(),
        value: b"4.0.9".to_vec()
    }));
}

#[test]
fn empty_keys_are_reported_for_the_caller_to_skip() {
    // corrupt-dump.tcl "load corrupted rdb with empty keys": Redis skips all 9.
    let (items, summary) = decode(&fixture("corrupt_empty_keys.rdb")).unwrap();
    assert_eq!(summary.keys, 9);
    for (name, (_, contents)) in keys(&items) {
        assert!(contents.is_empty(), "{name} should be empty");
    }
}

#[test]
fn corrupt_ziplist_is_an_error_with_an_offset() {
    // corrupt-dump.tcl "#3505": Redis refuses the file (integrity check failed).
    let err = decode(&fixture("corrupt_ziplist.rdb")).unwrap_err();
    assert!(err.offset > 9 && err.offset < 1415, "{err}");
    assert!(err.to_string().contains("ziplist"), "{err}");
}

#[test]
fn a_small_redis_7_dump() {
    let (items, summary) = decode(&fixture("redis-7.0-small.rdb")).unwrap();
    assert_eq!((summary.version, summary.keys), (10, 9));
    let got = keys(&items);
    assert_eq!(
        got["l"],
        ("list", strs(&["a", "b", "1", "2", "300", "70000"]))
    );
    assert_eq!(got["si"], ("set", strs(&["1", "2", "3"])));
    assert_eq!(got["h"], ("hash", strs(&["f", "v", "g", "12"])));
    assert_eq!(got["z"], ("zset", strs(&["a", "1", "b", "2.5"])));
    assert_eq!(got["n"], ("string", strs(&["12345"])));
    assert_eq!(got["zb"].1.len(), 400);
    assert_eq!(got["st"].0, "stream");
}

#[test]
fn script_aux_of_an_old_dump() {
    // rdb.tcl: scriptbackup.rdb holds the script as a "lua" AUX field, and no keys.
    let (items, summary) = decode(&fixture("scriptbackup.rdb")).unwrap();
    assert_eq!(summary.keys, 0);
    assert!(items.contains(&Item::Aux {
        key: b"lua".to_vec(),
        value: b"return redis.call('set', 'foo', 'bar')".to_vec()
    }));
}

/// A hand-made RDB file.
struct Rdb(Vec<u8>);

impl Rdb {
    fn new(version: u32) -> Rdb {
        Rdb(format!("REDIS{version:04}").into_bytes())
    }
    fn byte(mut self, b: u8) -> Rdb {
        self.0.push(b);
        self
    }
    fn raw(mut self, b: &[u8]) -> Rdb {
        self.0.extend_from_slice(b);
        self
    }
    fn len(self, n: u64) -> Rdb {
        match n {
            0..=63 => self.byte(n as u8),
            64..=16383 => self.raw(&[0x40 | (n >> 8) as u8, n as u8]),
            16384..=0xffff_ffff => self.byte(0x80).raw(&(n as u32).to_be_bytes()),
            _ => self.byte(0x81).raw(&n.to_be_bytes()),
        }
    }
    fn str(self, s: &[u8]) -> Rdb {
        self.len(s.len() as u64).raw(s)
    }
    fn end(self) -> Vec<u8> {
        let mut v = self.0;
        v.push(0xff);
        let crc = crc64(0, &v);
        v.extend_from_slice(&crc.to_le_bytes());
        v
    }
}

/// A listpack of string entries (each shorter than 64 bytes).
fn listpack(entries: &[&[u8]]) -> Vec<u8> {
    let mut lp = vec![0u8; 6];
    for e in entries {
        lp.push(0x80 | e.len() as u8);
        lp.extend_from_slice(e);
        lp.push(e.len() as u8 + 1);
    }
    lp.push(0xff);
    let total = lp.len() as u32;
    lp[0..4].copy_from_slice(&total.to_le_bytes());
    lp[4..6].copy_from_slice(&(entries.len() as u16).to_le_bytes());
    lp
}

/// A key of db 3 with no expiry or eviction data.
fn key_item(key: &str, value: RdbValue) -> Item {
    Item::Key {
        db: 3,
        key: key.as_bytes().to_vec(),
        value,
        expire_ms: None,
        idle: None,
        freq: None,
    }
}

fn list(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

#[test]
fn every_opcode_and_old_type_by_hand() {
    let long = b"abcdefghij".repeat(30);
    let packed = lzf::compress(&long);
    let file = Rdb::new(12)
        .byte(250)
        .str(b"redis-ver")
        .str(b"7.4.0")
        .byte(250)
        .str(b"ctime")
        .raw(&[0xc2, 0x80, 0xf0, 0xfa, 0x02]) // int32
        .byte(245)
        .str(b"#!lua name=lib")
        .byte(254)
        .len(3)
        .byte(251)
        .len(5)
        .len(2)
        .byte(244)
        .len(1000)
        .len(5)
        .len(2)
        .byte(253)
        .raw(&1_000_000i32.to_le_bytes())
        .byte(0)
        .str(b"s")
        .raw(&[0xc0, 0xfb]) // int8 -5
        .byte(252)
        .raw(&1_700_000_000_123i64.to_le_bytes())
        .byte(248)
        .len(77)
        .byte(0)
        .str(b"lzf")
        .byte(0xc3)
        .len(packed.len() as u64)
        .len(long.len() as u64)
        .raw(&packed)
        .byte(249)
        .byte(9)
        .byte(1)
        .str(b"list")
        .len(2)
        .raw(&[0xc1, 0x39, 0x30]) // int16 12345
        .str(b"x")
        .byte(2)
        .str(b"set")
        .len(1)
        .str(b"m")
        .byte(4)
        .str(b"hash")
        .len(1)
        .str(b"f")
        .str(b"v")
        .byte(3)
        .str(b"zset")
        .len(4)
        .str(b"a")
        .raw(b"\x031.5")
        .str(b"b")
        .byte(254)
        .str(b"c")
        .byte(255)
        .str(b"d")
        .raw(b"\x04-2e3")
        .byte(18)
        .str(b"ql2")
        .len(2)
        .len(1)
        .str(b"plain node")
        .len(2)
        .str(&listpack(&[b"p1", b"p2"]))
        .byte(20)
        .str(b"setlp")
        .str(&listpack(&[b"x", b"y"]))
        .byte(16)
        .str(b"hashlp")
        .str(&listpack(&[b"f", b"v"]))
        .byte(17)
        .str(b"zsetlp")
        .str(&listpack(&[b"m", b"2.5"]))
        .byte(0)
        .str(b"big-length")
        .byte(0x81)
        .raw(&3u64.to_be_bytes())
        .raw(b"abc")
        .end();
    seed("hand_every_opcode.rdb", &file);
    let (items, summary) = decode(&file).unwrap();
    assert_eq!(summary.version, 12);
    assert_eq!(summary.keys, 11);
    assert_eq!(summary.bytes, file.len() as u64);
    assert!(matches!(summary.checksum, Checksum::Verified(_)));
    let mut expected = vec![
        Item::Aux {
            key: b"redis-ver".to_vec(),
            value: b"7.4.0".to_vec(),
        },
        Item::Aux {
            key: b"ctime".to_vec(),
            value: b"50000000".to_vec(),
        },
        Item::FunctionSkipped {
            code: b"#!lua name=lib".to_vec(),
        },
        Item::SelectDb(3),
        Item::ResizeDb {
            db_size: 5,
            expires_size: 2,
        },
        Item::SlotInfo {
            slot: 1000,
            size: 5,
            expires_size: 2,
        },
        Item::Key {
            db: 3,
            key: b"s".to_vec(),
            value: RdbValue::String(b"-5".to_vec()),
            expire_ms: Some(1_000_000_000),
            idle: None,
            freq: None,
        },
        Item::Key {
            db: 3,
            key: b"lzf".to_vec(),
            value: RdbValue::String(long.clone()),
            expire_ms: Some(1_700_000_000_123),
            idle: Some(77),
            freq: None,
        },
        Item::Key {
            db: 3,
            key: b"list".to_vec(),
            value: RdbValue::List(list(&["12345", "x"])),
            expire_ms: None,
            idle: None,
            freq: Some(9),
        },
    ];
    let rest = [
        ("set", RdbValue::Set(list(&["m"]))),
        ("hash", RdbValue::Hash(vec![(b"f".to_vec(), b"v".to_vec())])),
        (
            "zset",
            RdbValue::ZSet(vec![
                (b"a".to_vec(), 1.5),
                (b"b".to_vec(), f64::INFINITY),
                (b"c".to_vec(), f64::NEG_INFINITY),
                (b"d".to_vec(), -2000.0),
            ]),
        ),
        ("ql2", RdbValue::List(list(&["plain node", "p1", "p2"]))),
        ("setlp", RdbValue::Set(list(&["x", "y"]))),
        (
            "hashlp",
            RdbValue::Hash(vec![(b"f".to_vec(), b"v".to_vec())]),
        ),
        ("zsetlp", RdbValue::ZSet(vec![(b"m".to_vec(), 2.5)])),
        ("big-length", RdbValue::String(b"abc".to_vec())),
    ];
    expected.extend(rest.into_iter().map(|(key, value)| key_item(key, value)));
    assert_eq!(items, expected);
}

fn error_of(file: &[u8]) -> RdbError {
    match decode(file) {
        Ok(ok) => panic!("decoded: {ok:?}"),
        Err(e) => e,
    }
}

#[test]
fn refused_types_and_opcodes_name_what_and_where() {
    let unknown = Rdb::new(10).byte(42).str(b"k").end();
    let err = error_of(&unknown);
    assert_eq!(
        err.to_string(),
        "RDB error at byte 9: unknown value type 42"
    );

    // A module type ID: "mymodule1" in the top 54 bits, encoding version 3 below.
    let charset = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let id = b"mymodule1".iter().fold(0u64, |acc, c| {
        (acc << 6) | charset.iter().position(|x| x == c).unwrap() as u64
    }) << 10
        | 3;
    let err = error_of(&Rdb::new(10).byte(7).str(b"k").len(id).end());
    assert_eq!(err.offset, 9);
    assert!(err.reason.contains("'mymodule1'"), "{err}");
    let err = error_of(&Rdb::new(10).byte(247).len(id).len(2).end());
    assert!(
        err.reason
            .contains("module auxiliary data of module 'mymodule1'"),
        "{err}"
    );

    for t in 22..=25 {
        let err = error_of(&Rdb::new(12).byte(t).str(b"k").end());
        assert!(err.reason.contains("field expiration"), "{err}");
    }
    let err = error_of(&Rdb::new(10).byte(246).end());
    assert!(err.reason.contains("function"), "{err}");
    assert!(error_of(&Rdb::new(13).end()).reason.contains("version 13"));
    assert!(error_of(&Rdb::new(0).end()).reason.contains("version 0"));
    assert!(error_of(b"RUDIS0009\xff").reason.contains("signature"));
    let err = error_of(&Rdb::new(10).byte(0).str(b"k").byte(0xc5).end());
    assert_eq!(
        err.to_string(),
        "RDB error at byte 12: unknown string encoding 5"
    );
}

#[test]
fn checksums() {
    let file = Rdb::new(10).byte(0).str(b"k").str(b"v").end();
    assert!(matches!(
        decode(&file).unwrap().1.checksum,
        Checksum::Verified(_)
    ));
    let mut flipped = file.clone();
    *flipped.last_mut().unwrap() ^= 1;
    let err = error_of(&flipped);
    assert_eq!(err.offset, file.len() as u64 - 8);
    assert!(err.reason.contains("wrong checksum"), "{err}");
    let mut zero = file.clone();
    let n = zero.len();
    zero[n - 8..].fill(0);
    assert_eq!(decode(&zero).unwrap().1.checksum, Checksum::NotComputed);
    // A flipped data byte is caught by the checksum.
    let mut data = file.clone();
    data[13] ^= 0x20;
    assert!(error_of(&data).reason.contains("wrong checksum"));
}

#[test]
fn lying_lengths_allocate_nothing_big() {
    for huge in [u64::MAX, 1 << 40, u32::MAX as u64] {
        // A string, a list count, an LZF length, a set count, a stream node count.
        for file in [
            Rdb::new(10).byte(0).str(b"k").len(huge).raw(b"abc").end(),
            Rdb::new(10).byte(1).str(b"k").len(huge).str(b"a").end(),
            Rdb::new(10)
                .byte(0)
                .str(b"k")
                .byte(0xc3)
                .len(4)
                .len(huge)
                .raw(b"\x01ab")
                .end(),
            Rdb::new(10).byte(2).str(b"k").len(huge).end(),
            Rdb::new(10).byte(19).str(b"k").len(huge).end(),
            Rdb::new(10)
                .byte(18)
                .str(b"k")
                .len(huge)
                .len(1)
                .str(b"x")
                .end(),
        ] {
            let err = error_of(&file);
            assert!(err.offset <= file.len() as u64, "{err}");
        }
    }
}

/// Real dumps made by Redis: every prefix is an error, never a panic, and every single
/// flipped byte is an error or a decode, never a panic.
#[test]
fn truncated_and_flipped_real_dumps() {
    for name in [
        "encodings.rdb",
        "hash-ziplist.rdb",
        "zset-ziplist.rdb",
        "list-quicklist.rdb",
        "corrupt_empty_keys.rdb",
        "hash-zipmap.rdb",
        "redis-7.0-small.rdb",
    ] {
        let file = fixture(name);
        for cut in 0..file.len() {
            let err = error_of(&file[..cut]);
            assert!(err.offset <= cut as u64, "{name} cut at {cut}: {err}");
        }
        for at in 0..file.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bad = file.clone();
                bad[at] ^= mask;
                let _ = decode(&bad);
            }
        }
    }
}

#[test]
fn a_sink_error_stops_the_load_at_that_item() {
    let file = Rdb::new(10)
        .byte(0)
        .str(b"a")
        .str(b"1")
        .byte(0)
        .str(b"b")
        .str(b"2")
        .end();
    let mut seen = 0;
    let err = load(file.as_slice(), |item| {
        if let Item::Key { key, .. } = item {
            seen += 1;
            if key == b"b" {
                return Err("out of memory");
            }
        }
        Ok(())
    })
    .unwrap_err();
    assert_eq!(seen, 2);
    assert_eq!(err.offset, 14);
    assert!(err.reason.contains("out of memory"));
}

fn be_id(ms: u64, seq: u64) -> Vec<u8> {
    [ms.to_be_bytes(), seq.to_be_bytes()].concat()
}

/// A stream of type 15, 19 or 21 by hand: one node with master fields [f], a same-fields
/// entry, a deleted entry and an entry with its own fields; one group with one consumer.
fn stream_file(rdb_type: u8, consumer_pel: (u64, u64)) -> Vec<u8> {
    let lp = listpack(&[
        b"2", b"1", b"1", b"f", b"0", // master entry: 2 live, 1 deleted, fields [f]
        b"2", b"0", b"0", b"v1", b"4", // 5-0 f=v1 (same fields)
        b"1", b"1", b"0", b"1", b"g", b"x", b"6", // 6-0 deleted
        b"0", b"2", b"3", b"2", b"a", b"1", b"b", b"2", b"8", // 7-3 a=1 b=2
    ]);
    let mut rdb = Rdb::new(12)
        .byte(rdb_type)
        .str(b"st")
        .len(1)
        .str(&be_id(5, 0))
        .str(&lp)
        .len(2)
        .len(7)
        .len(3);
    if rdb_type >= 19 {
        rdb = rdb.len(5).len(0).len(6).len(0).len(3);
    }
    rdb = rdb.len(1).str(b"g").len(7).len(3);
    if rdb_type >= 19 {
        rdb = rdb.len(3);
    }
    rdb = rdb
        .len(1)
        .raw(&be_id(7, 3))
        .raw(&1_700_000_000_000i64.to_le_bytes())
        .len(2)
        .len(1)
        .str(b"c")
        .raw(&1_700_000_000_500i64.to_le_bytes());
    if rdb_type >= 21 {
        rdb = rdb.raw(&1_700_000_000_400i64.to_le_bytes());
    }
    rdb.len(1).raw(&be_id(consumer_pel.0, consumer_pel.1)).end()
}

#[test]
fn streams_of_every_version_by_hand() {
    use ringkv::rdb::{Consumer, ConsumerGroup, PendingEntry, Stream, StreamEntry, StreamId};
    let id = |ms, seq| StreamId { ms, seq };
    for rdb_type in [15u8, 19, 21] {
        let file = stream_file(rdb_type, (7, 3));
        seed(&format!("hand_stream_{rdb_type}.rdb"), &file);
        let (items, _) = decode(&file).unwrap();
        let Item::Key {
            value: RdbValue::Stream(stream),
            ..
        } = &items[0]
        else {
            panic!("{items:?}")
        };
        let expected = Stream {
            entries: vec![
                StreamEntry {
                    id: id(5, 0),
                    fields: vec![(b"f".to_vec(), b"v1".to_vec())],
                },
                StreamEntry {
                    id: id(7, 3),
                    fields: vec![
                        (b"a".to_vec(), b"1".to_vec()),
                        (b"b".to_vec(), b"2".to_vec()),
                    ],
                },
            ],
            length: 2,
            last_id: id(7, 3),
            first_id: id(5, 0),
            // Type 15 stored neither: filled as Redis fills them.
            max_deleted_id: if rdb_type >= 19 { id(6, 0) } else { id(0, 0) },
            entries_added: if rdb_type >= 19 { 3 } else { 2 },
            groups: vec![ConsumerGroup {
                name: b"g".to_vec(),
                last_id: id(7, 3),
                entries_read: (rdb_type >= 19).then_some(3),
                pending: vec![PendingEntry {
                    id: id(7, 3),
                    delivery_time_ms: 1_700_000_000_000,
                    delivery_count: 2,
                }],
                consumers: vec![Consumer {
                    name: b"c".to_vec(),
                    seen_time_ms: 1_700_000_000_500,
                    active_time_ms: if rdb_type >= 21 {
                        1_700_000_000_400
                    } else {
                        1_700_000_000_500
                    },
                    pending: vec![id(7, 3)],
                }],
            }],
        };
        assert_eq!(**stream, expected, "type {rdb_type}");
        let err = error_of(&stream_file(rdb_type, (9, 9)));
        assert!(err.reason.contains("not in the group's PEL"), "{err}");
    }
}
