//! Black-box tests of SCAN (and SSCAN) over TCP on both I/O backends: full iterations,
//! MATCH / COUNT / TYPE, errors worded as Redis words them, and the guarantee that a key
//! present during the whole iteration is returned while other clients write.
//! Everything but the ringkv-only cursor checks holds for redis-server too
//! (`RINGKV_TEST_TARGET=redis cargo test --test scan`).

#[macro_use]
mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{testing_ringkv, Client, Resp, Server};

/// One SCAN call: the next cursor and the keys.
fn scan_once(c: &mut Client, args: &[&str]) -> (String, Vec<String>) {
    let reply = c.cmd_resp(args);
    let items = reply.items();
    assert_eq!(items.len(), 2, "{reply:?}");
    let keys = items[1].items().iter().map(Resp::text).collect();
    (items[0].text(), keys)
}

/// Every key a full iteration returns (with repeats), calling `between` after each call.
fn scan_all(c: &mut Client, options: &[&str], mut between: impl FnMut()) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(options);
        let (next, found) = scan_once(c, &args);
        keys.extend(found);
        if next == "0" {
            return keys;
        }
        cursor = next;
        between();
    }
}

/// Stores `n` string keys `prefix0..` with a pipelined MSET-free batch of SETs.
fn populate(c: &mut Client, prefix: &str, n: usize) {
    let mut batch = Vec::new();
    for i in 0..n {
        batch.extend(common::multibulk(&["SET", &format!("{prefix}{i}"), "v"]));
    }
    c.send(&batch);
    for _ in 0..n {
        c.expect_reply("+OK\r\n");
    }
}

fn a_full_scan_returns_every_key(srv: &mut Server) {
    let mut c = srv.client();
    populate(&mut c, "key:", 1000);
    for options in [&[][..], &["COUNT", "5"], &["COUNT", "1000000"]] {
        let keys: HashSet<String> = scan_all(&mut c, options, || {}).into_iter().collect();
        assert_eq!(keys.len(), 1000, "{options:?}");
    }
}

fn match_and_type_filter_what_is_returned(srv: &mut Server) {
    let mut c = srv.client();
    populate(&mut c, "key:", 300);
    c.expect(&["RPUSH", "key:list", "a"], ":1\r\n");
    c.expect(&["SADD", "other:set", "a"], ":1\r\n");
    let matched: HashSet<String> = scan_all(&mut c, &["MATCH", "key:1?"], || {})
        .into_iter()
        .collect();
    assert_eq!(matched.len(), 10);
    assert!(matched
        .iter()
        .all(|k| k.starts_with("key:1") && k.len() == 6));
    let lists = scan_all(&mut c, &["TYPE", "list"], || {});
    assert_eq!(lists, vec!["key:list"]);
    let sets = scan_all(&mut c, &["type", "SET", "MATCH", "*", "COUNT", "7"], || {});
    assert_eq!(sets, vec!["other:set"]);
    let strings: HashSet<String> = scan_all(&mut c, &["TYPE", "string", "MATCH", "key:*"], || {})
        .into_iter()
        .collect();
    assert_eq!(strings.len(), 300);
    assert!(scan_all(&mut c, &["TYPE", "nosuchtype"], || {}).is_empty());
}

fn scan_errors_are_worded_like_redis(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["SCAN"],
        "-ERR wrong number of arguments for 'scan' command\r\n",
    );
    for cursor in ["x", " 0", "0 ", "-", "1e3", "18446744073709551616"] {
        c.expect(&["SCAN", cursor], "-ERR invalid cursor\r\n");
    }
    c.expect(&["SCAN", "0", "COUNT", "0"], "-ERR syntax error\r\n");
    c.expect(&["SCAN", "0", "COUNT", "-1"], "-ERR syntax error\r\n");
    c.expect(
        &["SCAN", "0", "COUNT", "x"],
        "-ERR value is not an integer or out of range\r\n",
    );
    c.expect(&["SCAN", "0", "MATCH"], "-ERR syntax error\r\n");
    c.expect(&["SCAN", "0", "FOO", "bar"], "-ERR syntax error\r\n");
    c.expect(
        &["SCAN", "0", "MATCH", "*", "COUNT"],
        "-ERR syntax error\r\n",
    );
    // strtoul's forms: empty, leading zeros and a sign are all cursors.
    for cursor in ["", "00", "+0", "-0"] {
        c.expect(&["SCAN", cursor], "*2\r\n$1\r\n0\r\n*0\r\n");
    }
}

fn expired_keys_are_not_returned_and_are_reaped(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "live", "v"], "+OK\r\n");
    c.expect(&["SET", "gone", "v", "PX", "1"], "+OK\r\n");
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(scan_all(&mut c, &[], || {}), vec!["live"]);
    c.expect(&["DBSIZE"], ":1\r\n");
}

fn keys_present_throughout_are_returned_while_others_write(srv: &mut Server) {
    let mut c = srv.client();
    populate(&mut c, "stable:", 2000);
    populate(&mut c, "churn:", 2000);
    let stop = Arc::new(AtomicBool::new(false));
    let port = srv.port();
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            // Delete and re-create the churn keys, moving entries around, until told.
            let mut w = Client::connect(port);
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                let mut batch = Vec::new();
                for i in 0..2000 {
                    let key = format!("churn:{}", (i * 7919 + round) % 2000);
                    batch.extend(common::multibulk(&["DEL", &key]));
                    batch.extend(common::multibulk(&[
                        "SET",
                        &format!("new:{round}:{i}"),
                        "v",
                    ]));
                    batch.extend(common::multibulk(&["DEL", &format!("new:{round}:{i}")]));
                }
                w.send(&batch);
                for _ in 0..6000 {
                    w.read_reply();
                }
                populate(&mut w, "churn:", 2000);
                round += 1;
            }
            round
        })
    };
    let mut missing = Vec::new();
    for count in ["3", "20", "500"] {
        let seen: HashSet<String> = scan_all(&mut c, &["COUNT", count], || {
            std::thread::sleep(Duration::from_micros(50))
        })
        .into_iter()
        .collect();
        missing.extend(
            (0..2000)
                .map(|i| format!("stable:{i}"))
                .filter(|k| !seen.contains(k)),
        );
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = writer.join().unwrap();
    assert!(rounds > 0, "the writer never completed a round");
    assert!(
        missing.is_empty(),
        "{} stable keys missed, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}

fn a_cursor_survives_flushdb_and_stays_valid_later(srv: &mut Server) {
    let mut c = srv.client();
    populate(&mut c, "k", 500);
    let (cursor, _) = scan_once(&mut c, &["SCAN", "0", "COUNT", "10"]);
    assert_ne!(cursor, "0");
    c.expect(&["FLUSHDB"], "+OK\r\n");
    c.expect(&["SET", "after", "v"], "+OK\r\n");
    // The old cursor still works: the iteration just ends (early) without an error.
    let mut cursor = cursor;
    let mut finished = false;
    for _ in 0..1000 {
        let (next, _) = scan_once(&mut c, &["SCAN", &cursor]);
        if next == "0" {
            finished = true;
            break;
        }
        cursor = next;
    }
    assert!(finished, "the iteration did not end after FLUSHDB");
}

fn ringkv_cursors_are_stateless_and_any_number_is_accepted(srv: &mut Server) {
    if !testing_ringkv() {
        return; // Redis' cursors walk its hash table: their values are its own.
    }
    let mut c = srv.client();
    populate(&mut c, "k", 50);
    // Past the last shard: done at once.
    c.expect(&["SCAN", "18446744073709551615"], "*2\r\n$1\r\n0\r\n*0\r\n");
    c.expect(&["SCAN", "-1"], "*2\r\n$1\r\n0\r\n*0\r\n");
    // COUNT is the work per call: one entry looked at, so at most one key returned.
    let (cursor, keys) = scan_once(&mut c, &["SCAN", "0", "COUNT", "1"]);
    assert!(keys.len() <= 1 && cursor != "0");
    // A cursor handed out earlier resumes the same way every time.
    assert_eq!(
        scan_once(&mut c, &["SCAN", &cursor]),
        scan_once(&mut c, &["SCAN", &cursor])
    );
}

fn sscan_returns_the_matching_members(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["SADD", "s", "foo", "fab", "fiz", "foobar", "1", "2"],
        ":6\r\n",
    );
    let reply = c.cmd_resp(&["SSCAN", "s", "0", "MATCH", "foo*", "COUNT", "100"]);
    let items = reply.items();
    assert_eq!(items[0].text(), "0");
    let mut members: Vec<String> = items[1].items().iter().map(Resp::text).collect();
    members.sort();
    assert_eq!(members, vec!["foo", "foobar"]);
    c.expect(&["SSCAN", "nokey", "0", "BOGUS"], "*2\r\n$1\r\n0\r\n*0\r\n");
    c.expect(&["SSCAN", "s", "x"], "-ERR invalid cursor\r\n");
    c.expect(&["SSCAN", "s", "0", "TYPE", "set"], "-ERR syntax error\r\n");
    c.expect(&["SSCAN", "s", "0", "COUNT", "0"], "-ERR syntax error\r\n");
    c.expect(&["SET", "str", "v"], "+OK\r\n");
    c.expect(
        &["SSCAN", "str", "0"],
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
}

fn the_redis_crate_iterates_with_scan(srv: &mut Server) {
    use redis::Commands;
    let mut c = srv.client();
    populate(&mut c, "crate:", 250);
    let mut conn = srv.redis_conn();
    let keys: HashSet<String> = conn.scan_match::<_, String>("crate:*").unwrap().collect();
    assert_eq!(keys.len(), 250);
}

backend_tests! {
    a_full_scan_returns_every_key,
    match_and_type_filter_what_is_returned,
    scan_errors_are_worded_like_redis,
    expired_keys_are_not_returned_and_are_reaped,
    keys_present_throughout_are_returned_while_others_write,
    a_cursor_survives_flushdb_and_stays_valid_later,
    ringkv_cursors_are_stateless_and_any_number_is_accepted,
    sscan_returns_the_matching_members,
    the_redis_crate_iterates_with_scan,
}
