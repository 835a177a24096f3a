//! Key expiry: TTL/PTTL, EXPIRE/PEXPIRE and their options and errors, PERSIST, lazy
//! expiry on access and the active cycle that removes keys nobody touches.
//!
//! Timing: these tests never assert that something happens quickly; waits are generous
//! polls, and TTL values are checked against ranges wide enough for a slow machine.

#[macro_use]
mod common;

use common::{info_field, multibulk, wait_for, Client, Server};
use std::time::Duration;

fn int(c: &mut Client, args: &[&str]) -> i64 {
    c.cmd_resp(args).int()
}

/// INFO stats `expired_keys`.
fn expired_keys(c: &mut Client) -> u64 {
    let info = c.cmd(&["INFO", "stats"]);
    info_field(&info, "expired_keys")
        .expect("INFO stats has expired_keys")
        .parse()
        .expect("expired_keys is a number")
}

fn ttl_and_pttl_of_a_missing_key_are_minus_two(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["TTL", "nokey"], ":-2\r\n");
    c.expect(&["PTTL", "nokey"], ":-2\r\n");
}

fn ttl_and_pttl_of_a_key_without_expiry_are_minus_one(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["TTL", "k"], ":-1\r\n");
    c.expect(&["PTTL", "k"], ":-1\r\n");
}

fn ttl_and_pttl_report_the_remaining_time(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "EX", "100"], "+OK\r\n");
    let ttl = int(&mut c, &["TTL", "k"]);
    assert!((90..=100).contains(&ttl), "TTL after EX 100: {ttl}");
    let pttl = int(&mut c, &["PTTL", "k"]);
    assert!(
        (90_000..=100_000).contains(&pttl),
        "PTTL after EX 100: {pttl}"
    );
    c.expect(&["SET", "k", "v", "PX", "5000"], "+OK\r\n");
    let pttl = int(&mut c, &["PTTL", "k"]);
    assert!((1..=5000).contains(&pttl), "PTTL after PX 5000: {pttl}");
}

fn ttl_rounds_milliseconds_to_the_nearest_second(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "PX", "100900"], "+OK\r\n");
    let before = int(&mut c, &["PTTL", "k"]);
    let ttl = int(&mut c, &["TTL", "k"]);
    let after = int(&mut c, &["PTTL", "k"]);
    let (lo, hi) = ((after + 500) / 1000, (before + 500) / 1000);
    assert!(
        (lo..=hi).contains(&ttl),
        "TTL {ttl} between PTTL {before} and {after} should round to {lo}..={hi}"
    );
}

fn expire_sets_a_ttl_on_an_existing_key_only(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["EXPIRE", "nokey", "100"], ":0\r\n");
    c.expect(&["EXISTS", "nokey"], ":0\r\n");
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["EXPIRE", "k", "100"], ":1\r\n");
    let ttl = int(&mut c, &["TTL", "k"]);
    assert!((90..=100).contains(&ttl), "TTL after EXPIRE 100: {ttl}");
    c.expect(&["GET", "k"], "$1\r\nv\r\n");
}

fn pexpire_sets_a_ttl_in_milliseconds(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["PEXPIRE", "nokey", "100"], ":0\r\n");
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["PEXPIRE", "k", "50000"], ":1\r\n");
    let pttl = int(&mut c, &["PTTL", "k"]);
    assert!(
        (40_000..=50_000).contains(&pttl),
        "PTTL after PEXPIRE 50000: {pttl}"
    );
    let ttl = int(&mut c, &["TTL", "k"]);
    assert!((40..=50).contains(&ttl), "TTL after PEXPIRE 50000: {ttl}");
}

fn expire_with_zero_or_negative_time_deletes_the_key(srv: &mut Server) {
    let mut c = srv.client();
    for (cmd, time) in [
        ("EXPIRE", "0"),
        ("EXPIRE", "-1"),
        ("PEXPIRE", "0"),
        ("PEXPIRE", "-5"),
    ] {
        c.expect(&["SET", "k", "v"], "+OK\r\n");
        c.expect(&[cmd, "k", time], ":1\r\n");
        c.expect(&["EXISTS", "k"], ":0\r\n");
        c.expect(&["TTL", "k"], ":-2\r\n");
    }
    c.expect(&["EXPIRE", "k", "-1"], ":0\r\n");
}

fn expire_with_a_non_integer_time_is_an_error(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    for time in ["abc", "1.5", "", "10s"] {
        c.expect(
            &["EXPIRE", "k", time],
            "-ERR value is not an integer or out of range\r\n",
        );
        c.expect(
            &["PEXPIRE", "k", time],
            "-ERR value is not an integer or out of range\r\n",
        );
    }
    c.expect(&["TTL", "k"], ":-1\r\n");
}

fn expire_time_that_overflows_is_invalid_expire_time(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(
        &["EXPIRE", "k", "9223372036854775807"],
        "-ERR invalid expire time in 'expire' command\r\n",
    );
    c.expect(
        &["EXPIRE", "k", "9223372036854775"],
        "-ERR invalid expire time in 'expire' command\r\n",
    );
    c.expect(
        &["EXPIRE", "k", "-9223372036854775808"],
        "-ERR invalid expire time in 'expire' command\r\n",
    );
    c.expect(
        &["PEXPIRE", "k", "9223372036854775807"],
        "-ERR invalid expire time in 'pexpire' command\r\n",
    );
    c.expect(&["TTL", "k"], ":-1\r\n");
    // Large but representable times are fine.
    c.expect(&["EXPIRE", "k", "9223372036854"], ":1\r\n");
    c.expect(&["PEXPIRE", "k", "99999999999999"], ":1\r\n");
}

fn expire_with_wrong_arity_names_the_command(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["EXPIRE", "k"],
        "-ERR wrong number of arguments for 'expire' command\r\n",
    );
    c.expect(
        &["PEXPIRE"],
        "-ERR wrong number of arguments for 'pexpire' command\r\n",
    );
    c.expect(
        &["TTL"],
        "-ERR wrong number of arguments for 'ttl' command\r\n",
    );
    c.expect(
        &["PTTL", "a", "b"],
        "-ERR wrong number of arguments for 'pttl' command\r\n",
    );
    c.expect(
        &["PERSIST"],
        "-ERR wrong number of arguments for 'persist' command\r\n",
    );
}

fn expire_nx_xx_gt_lt_options_condition_the_update(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    // Without a TTL the key counts as never expiring.
    c.expect(&["EXPIRE", "k", "100", "XX"], ":0\r\n");
    c.expect(&["EXPIRE", "k", "100", "GT"], ":0\r\n");
    c.expect(&["EXPIRE", "k", "100", "LT"], ":1\r\n");
    c.expect(&["EXPIRE", "k", "200", "NX"], ":0\r\n");
    c.expect(&["EXPIRE", "k", "50", "GT"], ":0\r\n");
    c.expect(&["EXPIRE", "k", "200", "gt"], ":1\r\n");
    c.expect(&["EXPIRE", "k", "300", "LT"], ":0\r\n");
    c.expect(&["PEXPIRE", "k", "10000", "lt"], ":1\r\n");
    let ttl = int(&mut c, &["TTL", "k"]);
    assert!((1..=10).contains(&ttl), "TTL after PEXPIRE 10000 LT: {ttl}");
    c.expect(&["EXPIRE", "k", "400", "XX"], ":1\r\n");
    c.expect(&["PERSIST", "k"], ":1\r\n");
    c.expect(&["EXPIRE", "k", "400", "NX"], ":1\r\n");
}

fn expire_option_errors(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(
        &["EXPIRE", "k", "10", "FOO"],
        "-ERR Unsupported option FOO\r\n",
    );
    c.expect(
        &["PEXPIRE", "k", "10", "NX", "bar"],
        "-ERR Unsupported option bar\r\n",
    );
    c.expect(
        &["EXPIRE", "k", "10", "NX", "XX"],
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
    );
    c.expect(
        &["EXPIRE", "k", "10", "NX", "GT"],
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
    );
    c.expect(
        &["EXPIRE", "k", "10", "GT", "LT"],
        "-ERR GT and LT options at the same time are not compatible\r\n",
    );
    c.expect(&["TTL", "k"], ":-1\r\n");
}

fn persist_removes_the_ttl(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["PERSIST", "nokey"], ":0\r\n");
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["PERSIST", "k"], ":0\r\n");
    c.expect(&["EXPIRE", "k", "100"], ":1\r\n");
    c.expect(&["PERSIST", "k"], ":1\r\n");
    c.expect(&["TTL", "k"], ":-1\r\n");
    c.expect(&["PERSIST", "k"], ":0\r\n");
    c.expect(&["GET", "k"], "$1\r\nv\r\n");
}

fn del_then_set_leaves_no_ttl(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "EX", "100"], "+OK\r\n");
    c.expect(&["DEL", "k"], ":1\r\n");
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["TTL", "k"], ":-1\r\n");
}

fn get_after_the_ttl_elapsed_finds_nothing(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "PX", "50"], "+OK\r\n");
    c.expect(&["SET", "k2", "v"], "+OK\r\n");
    c.expect(&["PEXPIRE", "k2", "50"], ":1\r\n");
    std::thread::sleep(Duration::from_millis(200));
    c.expect(&["GET", "k"], "$-1\r\n");
    c.expect(&["EXISTS", "k", "k2"], ":0\r\n");
    c.expect(&["TTL", "k2"], ":-2\r\n");
    c.expect(&["PTTL", "k2"], ":-2\r\n");
    c.expect(&["SET", "k", "new", "NX"], "+OK\r\n");
    c.expect(&["GET", "k"], "$3\r\nnew\r\n");
}

fn expired_keys_are_not_listed_by_keys(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "gone", "v", "PX", "30"], "+OK\r\n");
    c.expect(&["SET", "kept", "v"], "+OK\r\n");
    std::thread::sleep(Duration::from_millis(150));
    c.expect(&["KEYS", "*"], "*1\r\n$4\r\nkept\r\n");
}

fn active_expiry_removes_keys_nobody_touches(srv: &mut Server) {
    let mut c = srv.client();
    let before = expired_keys(&mut c);
    let mut req = Vec::new();
    for i in 0..500 {
        req.extend(multibulk(&["SET", &format!("short:{i}"), "v", "PX", "100"]));
    }
    for i in 0..10 {
        req.extend(multibulk(&["SET", &format!("long:{i}"), "v", "EX", "1000"]));
        req.extend(multibulk(&["SET", &format!("plain:{i}"), "v"]));
    }
    c.send(&req);
    for _ in 0..520 {
        c.expect_reply("+OK\r\n");
    }
    // DBSIZE and INFO do not look keys up, so only the active cycle can remove them.
    wait_for(
        Duration::from_secs(20),
        "DBSIZE to drop to the 20 keys without a short TTL",
        || (c.cmd(&["DBSIZE"]) == b":20\r\n").then_some(()),
    );
    let counted = expired_keys(&mut c) - before;
    assert!(
        counted >= 500,
        "INFO stats expired_keys grew by {counted}, expected 500"
    );
    c.expect(&["EXISTS", "long:0", "plain:9", "short:0"], ":2\r\n");
}

fn active_expiry_covers_every_database(srv: &mut Server) {
    let mut c = srv.client();
    for db in ["2", "9"] {
        c.expect(&["SELECT", db], "+OK\r\n");
        for i in 0..50 {
            c.expect(&["SET", &format!("k{i}"), "v", "PX", "80"], "+OK\r\n");
        }
    }
    wait_for(
        Duration::from_secs(20),
        "databases 2 and 9 to empty by themselves",
        || {
            c.expect(&["SELECT", "2"], "+OK\r\n");
            let two = c.cmd(&["DBSIZE"]);
            c.expect(&["SELECT", "9"], "+OK\r\n");
            let nine = c.cmd(&["DBSIZE"]);
            (two == b":0\r\n" && nine == b":0\r\n").then_some(())
        },
    );
    assert!(expired_keys(&mut c) >= 100);
}

fn lazily_expired_keys_are_counted_in_expired_keys(srv: &mut Server) {
    let mut c = srv.client();
    let before = expired_keys(&mut c);
    c.expect(&["SET", "k", "v", "PX", "20"], "+OK\r\n");
    std::thread::sleep(Duration::from_millis(100));
    c.expect(&["GET", "k"], "$-1\r\n");
    let after = expired_keys(&mut c);
    assert_eq!(
        after - before,
        1,
        "expired_keys before {before}, after {after}"
    );
}

fn keyspace_info_counts_keys_with_an_expiry(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["SET", "b", "1", "EX", "1000"], "+OK\r\n");
    c.expect(&["SET", "c", "1", "PX", "900000"], "+OK\r\n");
    let info = c.cmd(&["INFO", "keyspace"]);
    let db0 = info_field(&info, "db0").expect("INFO keyspace has db0");
    let (counts, avg) = db0.rsplit_once(",avg_ttl=").expect("db0 has avg_ttl");
    assert_eq!(counts, "keys=3,expires=2");
    avg.parse::<u64>().expect("avg_ttl is a number");
    c.expect(&["PERSIST", "b"], ":1\r\n");
    let info = c.cmd(&["INFO", "keyspace"]);
    assert!(info_field(&info, "db0")
        .unwrap()
        .starts_with("keys=3,expires=1,avg_ttl="));
}

backend_tests! {
    ttl_and_pttl_of_a_missing_key_are_minus_two,
    ttl_and_pttl_of_a_key_without_expiry_are_minus_one,
    ttl_and_pttl_report_the_remaining_time,
    ttl_rounds_milliseconds_to_the_nearest_second,
    expire_sets_a_ttl_on_an_existing_key_only,
    pexpire_sets_a_ttl_in_milliseconds,
    expire_with_zero_or_negative_time_deletes_the_key,
    expire_with_a_non_integer_time_is_an_error,
    expire_time_that_overflows_is_invalid_expire_time,
    expire_with_wrong_arity_names_the_command,
    expire_nx_xx_gt_lt_options_condition_the_update,
    expire_option_errors,
    persist_removes_the_ttl,
    del_then_set_leaves_no_ttl,
    get_after_the_ttl_elapsed_finds_nothing,
    expired_keys_are_not_listed_by_keys,
    active_expiry_removes_keys_nobody_touches,
    active_expiry_covers_every_database,
    lazily_expired_keys_are_counted_in_expired_keys,
    keyspace_info_counts_keys_with_an_expiry,
}
