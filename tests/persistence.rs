//! SAVE, BGSAVE, LASTSAVE, DUMP/RESTORE errors, the save policy, SHUTDOWN and SIGTERM
//! saves, and failed saves, on both I/O backends (and against redis-server with
//! RINGKV_TEST_TARGET=redis).

mod common;

use std::convert::Infallible;
use std::path::Path;
use std::time::Duration;

use common::{info_field, testing_ringkv, wait_for, Server};
use ringkv::rdb::{load, Item, RdbValue};

fn persistence(c: &mut common::Client, name: &str) -> String {
    let info = c.cmd(&["INFO", "persistence"]);
    info_field(&info, name).unwrap_or_else(|| panic!("no {name}"))
}

/// The string keys of database 0 in a dump.
fn dumped_strings(path: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let bytes = std::fs::read(path).expect("dump file");
    let mut keys = Vec::new();
    load(bytes.as_slice(), |item| {
        if let Item::Key {
            key,
            value: RdbValue::String(v),
            ..
        } = item
        {
            keys.push((key, v));
        }
        Ok::<(), Infallible>(())
    })
    .unwrap();
    keys.sort();
    keys
}

fn restore_errors_match_redis(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    let payload = match common::Resp::parse(&c.cmd(&["DUMP", "k"])) {
        common::Resp::Bulk(Some(p)) => p,
        other => panic!("{other:?}"),
    };
    c.expect(&["DUMP", "missing"], "$-1\r\n");
    let busy = "-BUSYKEY Target key name already exists.\r\n";
    c.expect_bytes(&[&b"RESTORE"[..], b"k", b"0", &payload], busy.as_bytes());
    // BUSYKEY comes before the TTL and payload checks, options before everything.
    c.expect_bytes(&[&b"RESTORE"[..], b"k", b"x", b"junk"], busy.as_bytes());
    let cases: &[(&[&[u8]], &str)] = &[
        (
            &[b"n", b"-1", &payload],
            "-ERR Invalid TTL value, must be >= 0\r\n",
        ),
        (
            &[b"n", b"x", &payload],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &[b"n", b"0", b"junk-payload"],
            "-ERR DUMP payload version or checksum are wrong\r\n",
        ),
        (
            &[b"n", b"0", b"x"],
            "-ERR DUMP payload version or checksum are wrong\r\n",
        ),
        (&[b"k", b"0", &payload, b"BOGUS"], "-ERR syntax error\r\n"),
        (
            &[b"n", b"0", &payload, b"IDLETIME"],
            "-ERR syntax error\r\n",
        ),
        (
            &[b"n", b"0", &payload, b"IDLETIME", b"-1"],
            "-ERR Invalid IDLETIME value, must be >= 0\r\n",
        ),
        (
            &[b"n", b"0", &payload, b"IDLETIME", b"x"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &[b"n", b"0", &payload, b"FREQ", b"256"],
            "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n",
        ),
        (
            &[b"n", b"0", &payload, b"FREQ", b"1", b"IDLETIME", b"1"],
            "-ERR syntax error\r\n",
        ),
        (
            &[b"n", b"0", &payload, b"IDLETIME", b"1", b"FREQ", b"1"],
            "-ERR syntax error\r\n",
        ),
    ];
    for (args, expected) in cases {
        let mut argv: Vec<&[u8]> = vec![b"RESTORE"];
        argv.extend_from_slice(args);
        c.expect_bytes(&argv, expected.as_bytes());
    }
    // A sound footer around a broken value.
    let mut broken = payload.clone();
    broken[1] = 0x3f;
    let body_len = broken.len() - 8;
    let crc = ringkv::rdb::crc64::crc64(0, &broken[..body_len]);
    broken[body_len..].copy_from_slice(&crc.to_le_bytes());
    c.expect_bytes(
        &[&b"RESTORE"[..], b"n", b"0", &broken],
        b"-ERR Bad data format\r\n",
    );
    c.expect(&["EXISTS", "n"], ":0\r\n");

    c.expect_bytes(
        &[&b"RESTORE"[..], b"k", b"0", &payload, b"REPLACE"],
        b"+OK\r\n",
    );
    c.expect_bytes(
        &[
            &b"RESTORE"[..],
            b"n",
            b"100000",
            &payload,
            b"IDLETIME",
            b"1000",
        ],
        b"+OK\r\n",
    );
    let ttl = common::Resp::parse(&c.cmd(&["PTTL", "n"])).int();
    assert!((90_000..=100_000).contains(&ttl), "{ttl}");
    let idle = common::Resp::parse(&c.cmd(&["OBJECT", "IDLETIME", "n"])).int();
    assert!((1000..1010).contains(&idle), "{idle}");
    // An absolute TTL in the past: OK, and the key is gone (REPLACE deleted the old one).
    c.expect_bytes(
        &[
            &b"RESTORE"[..],
            b"n",
            b"1000",
            &payload,
            b"ABSTTL",
            b"REPLACE",
        ],
        b"+OK\r\n",
    );
    c.expect(&["EXISTS", "n"], ":0\r\n");
    c.expect_bytes(
        &[&b"RESTORE"[..], b"n", b"4102444800000", &payload, b"ABSTTL"],
        b"+OK\r\n",
    );
    c.expect(&["PEXPIRETIME", "n"], ":4102444800000\r\n");
    c.expect(&["GET", "n"], "$1\r\nv\r\n");
}

fn save_and_lastsave(srv: &mut Server) {
    let mut c = srv.client();
    let before = common::Resp::parse(&c.cmd(&["LASTSAVE"])).int();
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["SET", "b", "two"], "+OK\r\n");
    c.expect(&["DEL", "a", "missing"], ":1\r\n");
    assert_eq!(persistence(&mut c, "rdb_changes_since_last_save"), "3");
    // LASTSAVE has a resolution of a second.
    std::thread::sleep(Duration::from_millis(1100));
    c.expect(&["SAVE"], "+OK\r\n");
    let after = common::Resp::parse(&c.cmd(&["LASTSAVE"])).int();
    assert!(after > before, "{before} -> {after}");
    assert_eq!(persistence(&mut c, "rdb_changes_since_last_save"), "0");
    assert_eq!(
        dumped_strings(&srv.dir().join("dump.rdb")),
        vec![(b"b".to_vec(), b"two".to_vec())]
    );
    c.expect(&["BGSAVE", "NOW"], "-ERR syntax error\r\n");
    c.expect(&["MULTI"], "+OK\r\n");
    c.expect(
        &["SAVE"],
        "-ERR Command not allowed inside a transaction\r\n",
    );
    c.expect(&["DISCARD"], "+OK\r\n");
    c.expect(&["SET", "b", "three"], "+OK\r\n");
    c.expect(&["MULTI"], "+OK\r\n");
    c.expect(&["BGSAVE"], "+QUEUED\r\n");
    c.expect(&["EXEC"], "*1\r\n+Background saving scheduled\r\n");
    wait_for(Duration::from_secs(10), "the scheduled BGSAVE", || {
        (persistence(&mut c, "rdb_changes_since_last_save") == "0").then_some(())
    });
    assert_eq!(
        dumped_strings(&srv.dir().join("dump.rdb")),
        vec![(b"b".to_vec(), b"three".to_vec())]
    );
}

/// rdb_changes_since_last_save counts modifications as Redis' `server.dirty` does.
fn changes_are_counted_like_redis(srv: &mut Server) {
    let mut c = srv.client();
    let steps: &[(&[&str], u64)] = &[
        (&["SET", "a", "1"], 1),
        (&["RPUSH", "l", "a", "b", "c"], 3),
        (&["SADD", "s", "x", "y"], 2),
        (&["SADD", "s", "x"], 0),
        (&["SREM", "s", "zz"], 0),
        (&["SREM", "nope", "zz"], 0),
        (&["DEL", "a", "nope"], 1),
        (&["SETNX", "n", "v"], 1),
        (&["SETNX", "n", "v"], 0),
        (&["EXPIRE", "nope", "10"], 0),
        (&["EXPIRE", "l", "100"], 1),
        (&["EXPIRE", "l", "10", "NX"], 0),
        (&["PERSIST", "l"], 1),
        (&["PERSIST", "l"], 0),
        (&["MSET", "m1", "1", "m2", "2"], 2),
        (&["GET", "m1"], 0),
        (&["INCR", "a"], 1),
        (&["INCR", "n"], 0),
    ];
    let mut expected = 0;
    for (command, changes) in steps {
        c.cmd(command);
        expected += changes;
        assert_eq!(
            persistence(&mut c, "rdb_changes_since_last_save"),
            expected.to_string(),
            "after {command:?}"
        );
    }
}

/// Big zero-filled strings (cheap to send, slow to compress) keep a BGSAVE busy.
fn bgsave_refuses_a_second_save_while_running(srv: &mut Server) {
    let mut c = srv.client();
    for i in 0..3 {
        c.expect(
            &["SETRANGE", &format!("big{i}"), "60000000", "x"],
            ":60000001\r\n",
        );
    }
    c.expect(&["BGSAVE"], "+Background saving started\r\n");
    c.expect(&["BGSAVE"], "-ERR Background save already in progress\r\n");
    c.expect(
        &["BGSAVE", "SCHEDULE"],
        "-ERR Background save already in progress\r\n",
    );
    c.expect(&["SAVE"], "-ERR Background save already in progress\r\n");
    assert_eq!(persistence(&mut c, "rdb_bgsave_in_progress"), "1");
    wait_for(Duration::from_secs(60), "the BGSAVE to end", || {
        (persistence(&mut c, "rdb_bgsave_in_progress") == "0").then_some(())
    });
    assert_eq!(persistence(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(persistence(&mut c, "rdb_current_bgsave_time_sec"), "-1");
}

fn save_policy_starts_a_bgsave(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    let dump = srv.dir().join("dump.rdb");
    wait_for(Duration::from_secs(10), "the save policy to save", || {
        (persistence(&mut c, "rdb_changes_since_last_save") == "0" && dump.exists()).then_some(())
    });
    assert_eq!(dumped_strings(&dump), vec![(b"k".to_vec(), b"v".to_vec())]);
    assert_eq!(persistence(&mut c, "rdb_last_bgsave_status"), "ok");
    c.expect(&["CONFIG", "SET", "save", "1 x"], "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n");
}

fn shutdown_and_wait(srv: &mut Server, command: &[&str]) {
    let mut c = srv.client();
    c.send_cmd(command);
    c.expect_closed();
    wait_for(Duration::from_secs(10), "the server to exit", || {
        (!srv.is_running()).then_some(())
    });
}

fn shutdown_nosave_writes_nothing(srv: &mut Server) {
    srv.client().expect(&["SET", "k", "v"], "+OK\r\n");
    shutdown_and_wait(srv, &["SHUTDOWN", "NOSAVE"]);
    assert!(!srv.dir().join("dump.rdb").exists());
}

fn shutdown_saves_with_save_points(srv: &mut Server) {
    srv.client().expect(&["SET", "k", "v"], "+OK\r\n");
    shutdown_and_wait(srv, &["SHUTDOWN"]);
    assert_eq!(
        dumped_strings(&srv.dir().join("dump.rdb")),
        vec![(b"k".to_vec(), b"v".to_vec())]
    );
}

fn sigterm_saves_with_save_points(srv: &mut Server) {
    srv.client().expect(&["SET", "k", "v"], "+OK\r\n");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &srv.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for(Duration::from_secs(10), "the server to exit", || {
        (!srv.is_running()).then_some(())
    });
    assert_eq!(
        dumped_strings(&srv.dir().join("dump.rdb")),
        vec![(b"k".to_vec(), b"v".to_vec())]
    );
}

/// A directory in the way of the temporary file makes every save fail; the old dump
/// stays as it was.
fn failed_saves_keep_the_old_dump(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "old"], "+OK\r\n");
    c.expect(&["SAVE"], "+OK\r\n");
    let dump = srv.dir().join("dump.rdb");
    let old = std::fs::read(&dump).unwrap();
    std::fs::create_dir(srv.dir().join(format!("temp-{}.rdb", srv.pid()))).unwrap();
    c.expect(&["SET", "k", "new"], "+OK\r\n");
    c.expect(&["SAVE"], "-ERR\r\n");
    assert_eq!(std::fs::read(&dump).unwrap(), old);
    // Redis writes a BGSAVE's temporary file under its child's pid: ringkv only.
    if !testing_ringkv() {
        return;
    }
    c.expect(&["BGSAVE"], "+Background saving started\r\n");
    wait_for(Duration::from_secs(10), "the BGSAVE to fail", || {
        (persistence(&mut c, "rdb_last_bgsave_status") == "err").then_some(())
    });
    assert_eq!(std::fs::read(&dump).unwrap(), old);
    // With save points configured, writes (and PING) are refused until a save works.
    let misconf = "-MISCONF Redis is configured to save RDB snapshots, but it's currently \
        unable to persist to disk. Commands that may modify the data set are disabled, because \
        this instance is configured to report errors during writes if RDB snapshotting fails \
        (stop-writes-on-bgsave-error option). Please check the Redis logs for details about \
        the RDB error.\r\n";
    c.expect(&["SET", "k", "x"], misconf);
    c.expect(&["PING"], misconf);
    c.expect(&["GET", "k"], "$3\r\nnew\r\n");
    c.expect(&["CONFIG", "SET", "save", ""], "+OK\r\n");
    c.expect(&["SET", "k", "x"], "+OK\r\n");
}

backend_tests! {
    restore_errors_match_redis,
    changes_are_counted_like_redis,
    save_and_lastsave,
    bgsave_refuses_a_second_save_while_running,
    save_policy_starts_a_bgsave with [("save", "1 1")],
    shutdown_nosave_writes_nothing with [("save", "3600 1")],
    shutdown_saves_with_save_points with [("save", "3600 1")],
    sigterm_saves_with_save_points with [("save", "3600 1")],
    failed_saves_keep_the_old_dump with [("save", "3600 1")],
}
