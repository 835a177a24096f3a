//! Black-box tests of the keyspace family (UNLINK, TOUCH, RENAME, RENAMENX, COPY, MOVE,
//! SWAPDB, RANDOMKEY, OBJECT) and of the absolute expiry commands (EXPIREAT, PEXPIREAT,
//! EXPIRETIME, PEXPIRETIME), over TCP on both I/O backends. Every expectation holds for
//! redis-server too: `RINGKV_TEST_TARGET=redis cargo test --test keys`.

#[macro_use]
mod common;

use std::time::Duration;

use common::{info_field, Client, Server};

/// A deadline far in the future (year 3000), so PEXPIRETIME answers are exact.
const FAR_MS: &str = "32503680000000";

fn int(c: &mut Client, args: &[&str]) -> i64 {
    c.cmd_resp(args).int()
}

/// The TTL of `key` in seconds, checked to be a live deadline within (lo, hi].
#[track_caller]
fn assert_ttl_between(c: &mut Client, key: &str, lo: i64, hi: i64) {
    let ttl = int(c, &["TTL", key]);
    assert!(
        lo < ttl && ttl <= hi,
        "TTL {key} = {ttl}, expected in ({lo}, {hi}]"
    );
}

fn rename_moves_the_value_and_its_ttl_and_replaces_the_destination(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "src", "v"], "+OK\r\n");
    c.expect(&["EXPIRE", "src", "100"], ":1\r\n");
    c.expect(&["SET", "dst", "old"], "+OK\r\n");
    c.expect(&["EXPIRE", "dst", "5000"], ":1\r\n");
    c.expect(&["RENAME", "src", "dst"], "+OK\r\n");
    c.expect(&["GET", "dst"], "$1\r\nv\r\n");
    c.expect(&["EXISTS", "src"], ":0\r\n");
    assert_ttl_between(&mut c, "dst", 95, 100);
    // A value without a TTL does not inherit the destination's.
    c.expect(&["SET", "plain", "p"], "+OK\r\n");
    c.expect(&["RENAME", "plain", "dst"], "+OK\r\n");
    c.expect(&["TTL", "dst"], ":-1\r\n");
}

fn rename_errors_and_same_name_follow_redis(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["RENAME", "nokey", "x"], "-ERR no such key\r\n");
    c.expect(&["RENAMENX", "nokey", "x"], "-ERR no such key\r\n");
    c.expect(&["RENAME", "nokey", "nokey"], "-ERR no such key\r\n");
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["RENAME", "k", "k"], "+OK\r\n");
    c.expect(&["RENAMENX", "k", "k"], ":0\r\n");
    c.expect(&["GET", "k"], "$1\r\nv\r\n");
    c.expect(
        &["RENAME", "k"],
        "-ERR wrong number of arguments for 'rename' command\r\n",
    );
}

fn renamenx_refuses_an_existing_destination(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["SET", "b", "2"], "+OK\r\n");
    c.expect(&["RENAMENX", "a", "b"], ":0\r\n");
    c.expect(&["GET", "a"], "$1\r\n1\r\n");
    c.expect(&["RENAMENX", "a", "c"], ":1\r\n");
    c.expect(&["GET", "c"], "$1\r\n1\r\n");
    c.expect(&["EXISTS", "a"], ":0\r\n");
}

fn concurrent_renames_never_duplicate_or_lose_the_value(srv: &mut Server) {
    // Four clients keep renaming whichever of k0..k3 exists to another of them. With
    // both keys locked together exactly one name holds the value at any time; a
    // rename that looked up and stored separately could duplicate or drop it.
    let port = srv.port();
    let mut c = srv.client();
    c.expect(&["SET", "k0", "v"], "+OK\r\n");
    let movers: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let mut m = Client::connect(port);
                for i in 0..1500usize {
                    let from = format!("k{}", (i + t) % 4);
                    let to = format!("k{}", (i + t + 1 + i % 3) % 4);
                    let reply = m.cmd(&["RENAME", &from, &to]);
                    assert!(
                        reply == b"+OK\r\n" || reply == b"-ERR no such key\r\n",
                        "{}",
                        String::from_utf8_lossy(&reply)
                    );
                }
            })
        })
        .collect();
    for mover in movers {
        mover.join().unwrap();
    }
    c.expect(&["DBSIZE"], ":1\r\n");
    let key = c.cmd_resp(&["RANDOMKEY"]).text();
    c.expect(&["GET", &key], "$1\r\nv\r\n");
}

fn copy_duplicates_value_and_ttl_and_needs_replace_to_overwrite(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "src", "v", "EX", "100"], "+OK\r\n");
    c.expect(&["COPY", "src", "dst"], ":1\r\n");
    c.expect(&["GET", "dst"], "$1\r\nv\r\n");
    assert_ttl_between(&mut c, "dst", 95, 100);
    c.expect(&["SET", "src", "new"], "+OK\r\n");
    c.expect(&["COPY", "src", "dst"], ":0\r\n");
    c.expect(&["GET", "dst"], "$1\r\nv\r\n");
    c.expect(&["COPY", "src", "dst", "REPLACE"], ":1\r\n");
    c.expect(&["GET", "dst"], "$3\r\nnew\r\n");
    c.expect(&["TTL", "dst"], ":-1\r\n");
    c.expect(&["COPY", "nokey", "dst"], ":0\r\n");
}

fn copy_to_another_database_copies_lists_and_sets_independently(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["RPUSH", "l", "a", "b"], ":2\r\n");
    c.expect(&["SADD", "s", "x"], ":1\r\n");
    c.expect(&["COPY", "l", "l", "DB", "3"], ":1\r\n");
    c.expect(&["COPY", "s", "s2", "db", "3"], ":1\r\n");
    c.expect(&["RPUSH", "l", "c"], ":3\r\n");
    c.expect(&["SELECT", "3"], "+OK\r\n");
    c.expect(&["LRANGE", "l", "0", "-1"], "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    c.expect(&["SSCAN", "s2", "0"], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nx\r\n");
    c.expect(
        &["COPY", "l", "l"],
        "-ERR source and destination objects are the same\r\n",
    );
}

fn copy_options_are_checked_like_redis(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(
        &["COPY", "a", "a"],
        "-ERR source and destination objects are the same\r\n",
    );
    c.expect(&["COPY", "a", "b", "DB"], "-ERR syntax error\r\n");
    c.expect(&["COPY", "a", "b", "foo"], "-ERR syntax error\r\n");
    c.expect(
        &["COPY", "a", "b", "DB", "x"],
        "-ERR value is not an integer or out of range\r\n",
    );
    c.expect(
        &["COPY", "a", "b", "DB", "16"],
        "-ERR DB index is out of range\r\n",
    );
    c.expect(
        &["COPY", "a", "b", "DB", "-1"],
        "-ERR DB index is out of range\r\n",
    );
    c.expect(
        &["COPY", "a", "b", "DB", "4294967296"],
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
    );
    c.expect(&["COPY", "a", "a", "DB", "1"], ":1\r\n");
    c.expect(&["COPY", "a", "b", "REPLACE", "REPLACE"], ":1\r\n");
}

fn move_carries_the_ttl_and_refuses_an_existing_key(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "EX", "100"], "+OK\r\n");
    c.expect(&["MOVE", "k", "1"], ":1\r\n");
    c.expect(&["EXISTS", "k"], ":0\r\n");
    c.expect(&["SELECT", "1"], "+OK\r\n");
    c.expect(&["GET", "k"], "$1\r\nv\r\n");
    assert_ttl_between(&mut c, "k", 95, 100);
    c.expect(&["SELECT", "0"], "+OK\r\n");
    c.expect(&["SET", "k", "other"], "+OK\r\n");
    c.expect(&["MOVE", "k", "1"], ":0\r\n");
    c.expect(&["MOVE", "nokey", "1"], ":0\r\n");
    c.expect(
        &["MOVE", "k", "0"],
        "-ERR source and destination objects are the same\r\n",
    );
    c.expect(&["MOVE", "k", "16"], "-ERR DB index is out of range\r\n");
    c.expect(
        &["MOVE", "k", "x"],
        "-ERR value is not an integer or out of range\r\n",
    );
}

fn swapdb_exchanges_what_connected_clients_see(srv: &mut Server) {
    let mut c0 = srv.client();
    let mut c1 = srv.client();
    c1.expect(&["SELECT", "1"], "+OK\r\n");
    c0.expect(&["SET", "k", "zero"], "+OK\r\n");
    c0.expect(&["SET", "t", "x", "EX", "100"], "+OK\r\n");
    c1.expect(&["SET", "k", "one"], "+OK\r\n");
    c0.expect(&["SWAPDB", "0", "1"], "+OK\r\n");
    c0.expect(&["GET", "k"], "$3\r\none\r\n");
    c1.expect(&["GET", "k"], "$4\r\nzero\r\n");
    assert_ttl_between(&mut c1, "t", 95, 100);
    c0.expect(&["DBSIZE"], ":1\r\n");
    c1.expect(&["DBSIZE"], ":2\r\n");
    c0.expect(&["SWAPDB", "1", "1"], "+OK\r\n");
    c0.expect(&["SWAPDB", "0", "16"], "-ERR DB index is out of range\r\n");
    c0.expect(&["SWAPDB", "x", "1"], "-ERR invalid first DB index\r\n");
    c0.expect(&["SWAPDB", "1", "x"], "-ERR invalid second DB index\r\n");
    c0.expect(
        &["SWAPDB", "99999999999", "1"],
        "-ERR invalid first DB index\r\n",
    );
}

fn swapdb_wakes_a_client_blocked_on_a_list_it_brings(srv: &mut Server) {
    let mut blocked = srv.client();
    let mut c = srv.client();
    blocked.expect(&["SELECT", "1"], "+OK\r\n");
    blocked.send_cmd(&["BLPOP", "list", "0"]);
    c.expect(&["RPUSH", "list", "a"], ":1\r\n");
    blocked.expect_silence(Duration::from_millis(100));
    c.expect(&["SWAPDB", "0", "1"], "+OK\r\n");
    blocked.expect_reply("*2\r\n$4\r\nlist\r\n$1\r\na\r\n");
}

fn rename_wakes_a_client_blocked_on_the_new_name(srv: &mut Server) {
    let mut blocked = srv.client();
    let mut c = srv.client();
    blocked.send_cmd(&["BLPOP", "dst", "0"]);
    c.expect(&["RPUSH", "src", "a"], ":1\r\n");
    blocked.expect_silence(Duration::from_millis(100));
    c.expect(&["RENAME", "src", "dst"], "+OK\r\n");
    blocked.expect_reply("*2\r\n$3\r\ndst\r\n$1\r\na\r\n");
}

fn unlink_and_del_count_removed_keys(srv: &mut Server) {
    let mut c = srv.client();
    let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD".to_string(), "big".to_string()];
    sadd.extend(members);
    assert_eq!(c.cmd_resp(&sadd).int(), 1000);
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["UNLINK", "big", "a", "nokey", "a"], ":2\r\n");
    c.expect(&["EXISTS", "big", "a"], ":0\r\n");
    c.expect(
        &["UNLINK"],
        "-ERR wrong number of arguments for 'unlink' command\r\n",
    );
    srv.assert_healthy();
}

fn touch_and_exists_count_existing_keys_and_hits(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["SET", "b", "1", "PX", "1"], "+OK\r\n");
    std::thread::sleep(Duration::from_millis(10));
    c.expect(&["CONFIG", "RESETSTAT"], "+OK\r\n");
    c.expect(&["TOUCH", "a", "b", "nokey", "a"], ":2\r\n");
    c.expect(&["EXISTS", "a", "nokey"], ":1\r\n");
    c.expect(&["TYPE", "a"], "+string\r\n");
    let info = c.cmd(&["INFO", "stats"]);
    assert_eq!(info_field(&info, "keyspace_hits").as_deref(), Some("4"));
    assert_eq!(info_field(&info, "keyspace_misses").as_deref(), Some("3"));
}

fn touch_resets_the_idle_time_and_inspecting_does_not(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["SET", "other", "v"], "+OK\r\n");
    std::thread::sleep(Duration::from_millis(2100));
    for cmd in [
        &["TTL", "k"][..],
        &["TYPE", "k"],
        &["EXISTS", "k"],
        &["OBJECT", "ENCODING", "k"],
        &["PEXPIRETIME", "k"],
    ] {
        c.cmd(cmd);
    }
    assert!(int(&mut c, &["OBJECT", "IDLETIME", "k"]) >= 2);
    c.expect(&["TOUCH", "k"], ":1\r\n");
    assert!(int(&mut c, &["OBJECT", "IDLETIME", "k"]) <= 1);
    c.expect(&["GET", "other"], "$1\r\nv\r\n");
    assert!(int(&mut c, &["OBJECT", "IDLETIME", "other"]) <= 1);
}

fn object_encoding_follows_redis_rules(srv: &mut Server) {
    let mut c = srv.client();
    let long = "x".repeat(45);
    for (value, encoding) in [
        ("123", "int"),
        ("-5", "int"),
        ("12345678901234567890", "embstr"),
        ("01", "embstr"),
        ("hello", "embstr"),
        (&"x".repeat(44)[..], "embstr"),
        (&long[..], "raw"),
    ] {
        c.expect(&["SET", "k", value], "+OK\r\n");
        c.expect(
            &["OBJECT", "ENCODING", "k"],
            &format!("${}\r\n{encoding}\r\n", encoding.len()),
        );
    }
    c.expect(&["RPUSH", "l", "a"], ":1\r\n");
    c.expect(&["OBJECT", "encoding", "l"], "$9\r\nquicklist\r\n");
    c.expect(&["SADD", "s", "1", "2", "3"], ":3\r\n");
    c.expect(&["OBJECT", "ENCODING", "s"], "$6\r\nintset\r\n");
    c.expect(&["SADD", "s", "a"], ":1\r\n");
    c.expect(&["OBJECT", "ENCODING", "s"], "$9\r\nhashtable\r\n");
    c.expect(&["CONFIG", "SET", "set-max-intset-entries", "2"], "+OK\r\n");
    c.expect(&["SADD", "s2", "1", "2", "3"], ":3\r\n");
    c.expect(&["OBJECT", "ENCODING", "s2"], "$9\r\nhashtable\r\n");
    c.expect(&["OBJECT", "ENCODING", "nokey"], "$-1\r\n");
}

fn object_refcount_freq_and_help_answer_like_redis(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "small", "42"], "+OK\r\n");
    c.expect(&["SET", "big", "100000"], "+OK\r\n");
    c.expect(&["OBJECT", "REFCOUNT", "small"], ":2147483647\r\n");
    c.expect(&["OBJECT", "REFCOUNT", "big"], ":1\r\n");
    c.expect(&["OBJECT", "REFCOUNT", "nokey"], "$-1\r\n");
    c.expect(
        &["OBJECT", "FREQ", "small"],
        "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n",
    );
    c.expect(
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        "+OK\r\n",
    );
    c.expect(&["SET", "fresh", "v"], "+OK\r\n");
    c.expect(&["OBJECT", "FREQ", "fresh"], ":5\r\n");
    c.expect(
        &["OBJECT", "IDLETIME", "fresh"],
        "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n",
    );
    c.expect(&["OBJECT", "IDLETIME", "nokey"], "$-1\r\n");
    let help = c.cmd_resp(&["OBJECT", "HELP"]);
    let lines = help.items();
    assert_eq!(lines.len(), 15);
    assert_eq!(
        lines[0].text(),
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(lines[14].text(), "    Prints this help.");
    c.expect(
        &["OBJECT", "NOPE", "k"],
        "-ERR unknown subcommand 'NOPE'. Try OBJECT HELP.\r\n",
    );
    c.expect(
        &["OBJECT", "ENCODING"],
        "-ERR wrong number of arguments for 'object|encoding' command\r\n",
    );
}

fn expireat_and_pexpireat_set_absolute_deadlines(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["PEXPIREAT", "k", FAR_MS], ":1\r\n");
    c.expect(&["PEXPIRETIME", "k"], &format!(":{FAR_MS}\r\n"));
    c.expect(&["EXPIRETIME", "k"], ":32503680000\r\n");
    // EXPIRETIME rounds to the nearest second, as TTL does.
    c.expect(&["PEXPIREAT", "k", "32503680000499"], ":1\r\n");
    c.expect(&["EXPIRETIME", "k"], ":32503680000\r\n");
    c.expect(&["PEXPIREAT", "k", "32503680000500"], ":1\r\n");
    c.expect(&["EXPIRETIME", "k"], ":32503680001\r\n");
    c.expect(&["EXPIREAT", "k", "32503680000", "GT"], ":0\r\n");
    c.expect(&["EXPIREAT", "k", "32503680000", "LT"], ":1\r\n");
    c.expect(&["PEXPIRETIME", "k"], ":32503680000000\r\n");
    c.expect(&["EXPIREAT", "k", "1", "NX"], ":0\r\n");
    c.expect(&["EXPIREAT", "k", "1", "XX"], ":1\r\n");
    c.expect(&["EXISTS", "k"], ":0\r\n");
    c.expect(&["PEXPIRETIME", "k"], ":-2\r\n");
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["EXPIRETIME", "k"], ":-1\r\n");
    c.expect(&["PEXPIREAT", "k", "9223372036854775807"], ":1\r\n");
    c.expect(&["EXPIRETIME", "k"], ":9223372036854776\r\n");
    c.expect(&["PEXPIREAT", "k", "-9223372036854775808"], ":1\r\n");
    c.expect(&["EXISTS", "k"], ":0\r\n");
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(
        &["EXPIREAT", "k", "9223372036854776"],
        "-ERR invalid expire time in 'expireat' command\r\n",
    );
    c.expect(
        &["EXPIREAT", "k", "x"],
        "-ERR value is not an integer or out of range\r\n",
    );
    c.expect(
        &["EXPIREAT", "k", "1", "foo"],
        "-ERR Unsupported option foo\r\n",
    );
    c.expect(&["EXPIREAT", "nokey", "1"], ":0\r\n");
    c.expect(&["TTL", "k"], ":-1\r\n");
    srv.assert_healthy();
}

fn randomkey_returns_live_keys_and_reaps_expired_ones(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["RANDOMKEY"], "$-1\r\n");
    c.expect(&["SET", "gone1", "v", "PX", "1"], "+OK\r\n");
    c.expect(&["SET", "gone2", "v", "PX", "1"], "+OK\r\n");
    std::thread::sleep(Duration::from_millis(10));
    c.expect(&["RANDOMKEY"], "$-1\r\n");
    c.expect(&["DBSIZE"], ":0\r\n");
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["SET", "b", "1"], "+OK\r\n");
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        seen.insert(c.cmd_resp(&["RANDOMKEY"]).text());
    }
    assert_eq!(seen, ["a", "b"].iter().map(|s| s.to_string()).collect());
}

fn lrange_selects_like_redis(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["RPUSH", "l", "a", "b", "c", "d"], ":4\r\n");
    c.expect(&["LRANGE", "l", "1", "2"], "*2\r\n$1\r\nb\r\n$1\r\nc\r\n");
    c.expect(
        &["LRANGE", "l", "-2", "100"],
        "*2\r\n$1\r\nc\r\n$1\r\nd\r\n",
    );
    c.expect(&["LRANGE", "l", "3", "1"], "*0\r\n");
    c.expect(&["LRANGE", "nokey", "0", "-1"], "*0\r\n");
    c.expect(
        &["LRANGE", "l", "x", "1"],
        "-ERR value is not an integer or out of range\r\n",
    );
    c.expect(&["SET", "s", "v"], "+OK\r\n");
    c.expect(
        &["LRANGE", "s", "0", "1"],
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
}

fn redis_crate_drives_the_keyspace_commands(srv: &mut Server) {
    use redis::Commands;
    let mut conn = srv.redis_conn();
    let _: () = conn.set("a", "1").unwrap();
    let _: () = conn.rename("a", "b").unwrap();
    let copied: bool = redis::cmd("COPY")
        .arg("b")
        .arg("c")
        .query(&mut conn)
        .unwrap();
    assert!(copied);
    let moved: bool = conn
        .pexpire_at("c", FAR_MS.parse::<i64>().unwrap())
        .unwrap();
    assert!(moved);
    let deadline: i64 = redis::cmd("PEXPIRETIME").arg("c").query(&mut conn).unwrap();
    assert_eq!(deadline.to_string(), FAR_MS);
    let removed: i64 = conn.unlink(&["b", "c"]).unwrap();
    assert_eq!(removed, 2);
    let key: Option<String> = redis::cmd("RANDOMKEY").query(&mut conn).unwrap();
    assert_eq!(key, None);
}

backend_tests! {
    rename_moves_the_value_and_its_ttl_and_replaces_the_destination,
    rename_errors_and_same_name_follow_redis,
    renamenx_refuses_an_existing_destination,
    concurrent_renames_never_duplicate_or_lose_the_value,
    copy_duplicates_value_and_ttl_and_needs_replace_to_overwrite,
    copy_to_another_database_copies_lists_and_sets_independently,
    copy_options_are_checked_like_redis,
    move_carries_the_ttl_and_refuses_an_existing_key,
    swapdb_exchanges_what_connected_clients_see,
    swapdb_wakes_a_client_blocked_on_a_list_it_brings,
    rename_wakes_a_client_blocked_on_the_new_name,
    unlink_and_del_count_removed_keys,
    touch_and_exists_count_existing_keys_and_hits,
    touch_resets_the_idle_time_and_inspecting_does_not,
    object_encoding_follows_redis_rules,
    object_refcount_freq_and_help_answer_like_redis,
    expireat_and_pexpireat_set_absolute_deadlines,
    randomkey_returns_live_keys_and_reaps_expired_ones,
    lrange_selects_like_redis,
    redis_crate_drives_the_keyspace_commands,
}
