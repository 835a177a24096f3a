//! Black-box tests of the string and bitmap families over TCP, on both I/O backends:
//! replies byte for byte as Redis 7.0 gives them, TTL handling, the size limits, and the
//! commands that must be atomic over several keys.

#[macro_use]
mod common;

use common::{Client, Resp, Server};

/// The TTL of `key` in seconds.
fn ttl(c: &mut Client, key: &str) -> i64 {
    c.cmd_resp(&["TTL", key]).int()
}

/// The bulk reply of a command as bytes (panics on another reply).
fn bulk(c: &mut Client, args: &[&str]) -> Vec<u8> {
    match c.cmd_resp(args) {
        Resp::Bulk(Some(data)) => data,
        other => panic!("{args:?}: expected a bulk string, got {other:?}"),
    }
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const NOT_INTEGER: &str = "-ERR value is not an integer or out of range\r\n";

fn setnx_sets_only_a_missing_key(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SETNX", "k", "v"], ":1\r\n");
    c.expect(&["SETNX", "k", "w"], ":0\r\n");
    c.expect(&["GET", "k"], "$1\r\nv\r\n");
}

fn setnx_sets_a_key_whose_ttl_has_passed(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "old", "PX", "1"], "+OK\r\n");
    std::thread::sleep(std::time::Duration::from_millis(20));
    c.expect(&["SETNX", "k", "new"], ":1\r\n");
    c.expect(&["GET", "k"], "$3\r\nnew\r\n");
    c.expect(&["TTL", "k"], ":-1\r\n");
}

fn setex_and_psetex_set_value_and_ttl(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SETEX", "k", "100", "v"], "+OK\r\n");
    c.expect(&["GET", "k"], "$1\r\nv\r\n");
    assert!((99..=100).contains(&ttl(&mut c, "k")));
    c.expect(&["PSETEX", "k", "50000", "w"], "+OK\r\n");
    c.expect(&["GET", "k"], "$1\r\nw\r\n");
    assert!((49..=50).contains(&ttl(&mut c, "k")));
}

fn setex_refuses_bad_ttls_naming_the_command(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["SETEX", "k", "0", "v"],
        "-ERR invalid expire time in 'setex' command\r\n",
    );
    c.expect(
        &["PSETEX", "k", "-1", "v"],
        "-ERR invalid expire time in 'psetex' command\r\n",
    );
    c.expect(
        &["SETEX", "k", "9223372036854775807", "v"],
        "-ERR invalid expire time in 'setex' command\r\n",
    );
    c.expect(&["SETEX", "k", "ten", "v"], NOT_INTEGER);
    c.expect(&["EXISTS", "k"], ":0\r\n");
}

fn getset_returns_the_old_value_and_drops_the_ttl(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["GETSET", "k", "v"], "$-1\r\n");
    c.expect(&["SET", "k", "old", "EX", "100"], "+OK\r\n");
    c.expect(&["GETSET", "k", "new"], "$3\r\nold\r\n");
    c.expect(&["GET", "k"], "$3\r\nnew\r\n");
    c.expect(&["TTL", "k"], ":-1\r\n");
    c.expect(&["LPUSH", "l", "a"], ":1\r\n");
    c.expect(&["GETSET", "l", "v"], WRONGTYPE);
    c.expect(&["TYPE", "l"], "+list\r\n");
}

fn getdel_returns_the_value_and_deletes_only_strings(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["GETDEL", "k"], "$1\r\nv\r\n");
    c.expect(&["EXISTS", "k"], ":0\r\n");
    c.expect(&["GETDEL", "k"], "$-1\r\n");
    c.expect(&["LPUSH", "l", "a"], ":1\r\n");
    c.expect(&["GETDEL", "l"], WRONGTYPE);
    c.expect(&["EXISTS", "l"], ":1\r\n");
}

fn getex_sets_changes_and_removes_the_ttl(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["GETEX", "k"], "$1\r\nv\r\n");
    c.expect(&["TTL", "k"], ":-1\r\n");
    c.expect(&["GETEX", "k", "EX", "100"], "$1\r\nv\r\n");
    assert!((99..=100).contains(&ttl(&mut c, "k")));
    c.expect(&["GETEX", "k", "PX", "50000"], "$1\r\nv\r\n");
    assert!((49..=50).contains(&ttl(&mut c, "k")));
    let in_a_minute = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60)
        .to_string();
    c.expect(&["GETEX", "k", "EXAT", &in_a_minute], "$1\r\nv\r\n");
    assert!((58..=60).contains(&ttl(&mut c, "k")));
    c.expect(&["GETEX", "k", "PERSIST"], "$1\r\nv\r\n");
    c.expect(&["TTL", "k"], ":-1\r\n");
}

fn getex_persist_removes_the_ttl(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "EX", "100"], "+OK\r\n");
    c.expect(&["GETEX", "k", "persist"], "$1\r\nv\r\n");
    c.expect(&["TTL", "k"], ":-1\r\n");
}

fn getex_with_a_past_absolute_time_returns_the_value_and_deletes_the_key(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["GETEX", "k", "PXAT", "1000"], "$1\r\nv\r\n");
    c.expect(&["EXISTS", "k"], ":0\r\n");
}

fn getex_checks_options_before_the_key_and_the_amount_after(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["GETEX", "nokey", "BOGUS"], "-ERR syntax error\r\n");
    c.expect(&["GETEX", "nokey", "EX", "abc"], "$-1\r\n");
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["GETEX", "k", "EX", "abc"], NOT_INTEGER);
    c.expect(
        &["GETEX", "k", "EX", "0"],
        "-ERR invalid expire time in 'getex' command\r\n",
    );
    for bad in [
        &["PERSIST", "EX", "1"][..],
        &["EX", "1", "PX", "1"],
        &["KEEPTTL"],
        &["NX"],
        &["GET"],
        &["EX"],
    ] {
        let mut args = vec!["GETEX", "k"];
        args.extend_from_slice(bad);
        c.expect(&args, "-ERR syntax error\r\n");
    }
    c.expect(
        &["GETEX"],
        "-ERR wrong number of arguments for 'getex' command\r\n",
    );
    c.expect(&["TTL", "k"], ":-1\r\n");
}

fn mget_answers_null_for_missing_and_non_string_keys(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["MSET", "a", "1", "b", "2"], "+OK\r\n");
    c.expect(&["SADD", "s", "x"], ":1\r\n");
    c.expect(
        &["MGET", "a", "nokey", "s", "b", "a"],
        "*5\r\n$1\r\n1\r\n$-1\r\n$-1\r\n$1\r\n2\r\n$1\r\n1\r\n",
    );
}

fn msetnx_sets_all_or_nothing(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["MSETNX", "a", "1", "b", "2"], ":1\r\n");
    c.expect(&["MSETNX", "c", "3", "a", "9"], ":0\r\n");
    c.expect(&["EXISTS", "c"], ":0\r\n");
    c.expect(&["GET", "a"], "$1\r\n1\r\n");
    c.expect(&["MSETNX", "d", "x", "d", "y"], ":1\r\n");
    c.expect(&["GET", "d"], "$1\r\ny\r\n");
    c.expect(
        &["MSETNX", "e", "1", "f"],
        "-ERR wrong number of arguments for 'msetnx' command\r\n",
    );
    c.expect(
        &["MSET", "e", "1", "f"],
        "-ERR wrong number of arguments for 'mset' command\r\n",
    );
}

fn msetnx_is_atomic_under_concurrent_writers(srv: &mut Server) {
    // Every round, several clients race to MSETNX overlapping key sets: exactly one
    // may win, and the winner's keys must all hold its value.
    let port = srv.port();
    for round in 0..20 {
        let keys: Vec<String> = (0..8).map(|i| format!("r{round}:k{i}")).collect();
        let winners: Vec<i64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|writer| {
                    let keys = &keys;
                    s.spawn(move || {
                        let mut c = Client::connect(port);
                        let mut args = vec!["MSETNX".to_string()];
                        // Each writer names the keys in its own order.
                        for i in 0..keys.len() {
                            args.push(keys[(i + writer * 3) % keys.len()].clone());
                            args.push(format!("w{writer}"));
                        }
                        c.cmd_resp(&args).int()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(winners.iter().sum::<i64>(), 1, "round {round}: {winners:?}");
        let winner = winners.iter().position(|&w| w == 1).unwrap();
        let mut c = srv.client();
        let mut args = vec!["MGET".to_string()];
        args.extend(keys.iter().cloned());
        for value in c.cmd_resp(&args).items() {
            assert_eq!(value.text(), format!("w{winner}"));
        }
    }
}

fn mget_never_sees_half_of_an_mset(srv: &mut Server) {
    let port = srv.port();
    let mut c = srv.client();
    c.expect(&["MSET", "x", "0", "y", "0"], "+OK\r\n");
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut w = Client::connect(port);
            for i in 1..=2000 {
                let v = i.to_string();
                w.expect(&["MSET", "x", &v, "y", &v], "+OK\r\n");
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        let mut r = Client::connect(port);
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let reply = r.cmd_resp(&["MGET", "x", "y"]);
            let values = reply.items();
            assert_eq!(values[0], values[1], "MGET saw a half-applied MSET");
        }
    });
}

fn append_creates_and_extends_and_keeps_the_ttl(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["APPEND", "k", "hello"], ":5\r\n");
    c.expect(&["APPEND", "k", " world"], ":11\r\n");
    c.expect(&["GET", "k"], "$11\r\nhello world\r\n");
    c.expect(&["EXPIRE", "k", "100"], ":1\r\n");
    c.expect(&["APPEND", "k", "!"], ":12\r\n");
    assert!(ttl(&mut c, "k") > 0);
    c.expect(&["APPEND", "empty", ""], ":0\r\n");
    c.expect(&["EXISTS", "empty"], ":1\r\n");
    c.expect(&["LPUSH", "l", "a"], ":1\r\n");
    c.expect(&["APPEND", "l", "x"], WRONGTYPE);
}

fn append_is_binary_safe_and_many_appends_add_up(srv: &mut Server) {
    let mut c = srv.client();
    let mut expected = Vec::new();
    for i in 0..500u32 {
        let piece = [0u8, 0xff, b'\r', b'\n', (i % 256) as u8];
        expected.extend_from_slice(&piece);
        let reply = c.cmd_resp(&[&b"APPEND"[..], b"bin", &piece]);
        assert_eq!(reply.int(), expected.len() as i64);
    }
    assert_eq!(bulk(&mut c, &["GET", "bin"]), expected);
}

fn strlen_counts_bytes(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["STRLEN", "nokey"], ":0\r\n");
    c.expect(&["SET", "n", "-555"], "+OK\r\n");
    c.expect(&["STRLEN", "n"], ":4\r\n");
    c.cmd(&[&b"SET"[..], b"b", "é\x00".as_bytes()]);
    c.expect(&["STRLEN", "b"], ":3\r\n");
    c.expect(&["SADD", "s", "x"], ":1\r\n");
    c.expect(&["STRLEN", "s"], WRONGTYPE);
}

fn getrange_clamps_indexes_like_redis(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["GETRANGE", "nokey", "0", "-1"], "$0\r\n\r\n");
    c.expect(&["SET", "k", "Hello World"], "+OK\r\n");
    c.expect(&["GETRANGE", "k", "0", "3"], "$4\r\nHell\r\n");
    c.expect(&["GETRANGE", "k", "-4", "-1"], "$4\r\norld\r\n");
    c.expect(&["GETRANGE", "k", "5", "3"], "$0\r\n\r\n");
    c.expect(
        &["GETRANGE", "k", "-5000", "10000"],
        "$11\r\nHello World\r\n",
    );
    c.expect(&["GETRANGE", "k", "-100", "-200"], "$0\r\n\r\n");
    c.expect(
        &["GETRANGE", "k", "0", "4294967297"],
        "$11\r\nHello World\r\n",
    );
    c.expect(&["SUBSTR", "k", "6", "-1"], "$5\r\nWorld\r\n");
    c.expect(&["GETRANGE", "k", "a", "1"], NOT_INTEGER);
}

fn setrange_pads_with_zeros_and_reports_the_length(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SETRANGE", "k", "1", "foo"], ":4\r\n");
    c.expect(&["GET", "k"], "$4\r\n\x00foo\r\n");
    c.expect(&["SETRANGE", "k", "6", "ba"], ":8\r\n");
    c.expect(&["GET", "k"], "$8\r\n\x00foo\x00\x00ba\r\n");
    c.expect(&["SETRANGE", "k", "0", ""], ":8\r\n");
    c.expect(&["SETRANGE", "new", "0", ""], ":0\r\n");
    c.expect(&["EXISTS", "new"], ":0\r\n");
    c.expect(
        &["SETRANGE", "k", "-1", "x"],
        "-ERR offset is out of range\r\n",
    );
}

fn setrange_refuses_strings_beyond_proto_max_bulk_len(srv: &mut Server) {
    let mut c = srv.client();
    let too_long = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
    c.expect(&["SETRANGE", "k", "536870912", "x"], too_long);
    c.expect(&["SETRANGE", "k", "536870909", "abcd"], too_long);
    c.expect(&["SETRANGE", "k", "9223372036854775807", "A"], too_long);
    c.expect(&["EXISTS", "k"], ":0\r\n");
    // The limit follows the configuration.
    c.expect(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"], "+OK\r\n");
    c.expect(&["SETRANGE", "k", "1048575", "x"], ":1048576\r\n");
    c.expect(&["SETRANGE", "k", "1048576", "x"], too_long);
    c.expect(&["APPEND", "k", "y"], too_long);
    c.expect(&["STRLEN", "k"], ":1048576\r\n");
}

fn counters_increment_and_decrement(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["INCR", "n"], ":1\r\n");
    c.expect(&["INCRBY", "n", "17179869184"], ":17179869185\r\n");
    c.expect(&["DECR", "n"], ":17179869184\r\n");
    c.expect(&["DECRBY", "n", "17179869185"], ":-1\r\n");
    c.expect(&["GET", "n"], "$2\r\n-1\r\n");
    c.expect(&["INCRBY", "n", "-9"], ":-10\r\n");
    c.expect(&["DECRBY", "n", "-10"], ":0\r\n");
}

fn counters_refuse_overflow_and_non_integers(srv: &mut Server) {
    let mut c = srv.client();
    let overflow = "-ERR increment or decrement would overflow\r\n";
    c.expect(&["SET", "n", "9223372036854775807"], "+OK\r\n");
    c.expect(&["INCR", "n"], overflow);
    c.expect(&["DECRBY", "n", "-1"], overflow);
    c.expect(&["SET", "n", "-9223372036854775808"], "+OK\r\n");
    c.expect(&["DECR", "n"], overflow);
    c.expect(&["GET", "n"], "$20\r\n-9223372036854775808\r\n");
    c.expect(
        &["DECRBY", "n", "-9223372036854775808"],
        "-ERR decrement would overflow\r\n",
    );
    for bad in [
        "    11",
        "11 ",
        "1.5",
        "+1",
        "007",
        "",
        "abc",
        "99999999999999999999",
    ] {
        c.expect(&["SET", "s", bad], "+OK\r\n");
        c.expect(&["INCR", "s"], NOT_INTEGER);
    }
    c.expect(&["INCRBY", "n", "x"], NOT_INTEGER);
    c.expect(&["RPUSH", "l", "1"], ":1\r\n");
    c.expect(&["INCR", "l"], WRONGTYPE);
}

fn counters_keep_the_ttl(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "n", "5", "EX", "100"], "+OK\r\n");
    c.expect(&["INCR", "n"], ":6\r\n");
    assert!(ttl(&mut c, "n") > 0);
}

fn concurrent_increments_are_not_lost(srv: &mut Server) {
    let port = srv.port();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(move || {
                let mut c = Client::connect(port);
                for _ in 0..500 {
                    c.cmd(&["INCR", "n"]);
                }
            });
        }
    });
    srv.client().expect(&["GET", "n"], "$4\r\n2000\r\n");
}

fn incrbyfloat_refuses_a_value_with_a_nul_inside(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "foo", "1"], "+OK\r\n");
    c.expect(&["SETRANGE", "foo", "2", "2"], ":3\r\n");
    c.expect(
        &["INCRBYFLOAT", "foo", "1"],
        "-ERR value is not a valid float\r\n",
    );
}

fn lcs_finds_the_common_subsequence_and_its_ranges(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["MSET", "a", "ohmytext", "b", "mynewtext"], "+OK\r\n");
    c.expect(&["LCS", "a", "b"], "$6\r\nmytext\r\n");
    c.expect(&["LCS", "a", "b", "LEN"], ":6\r\n");
    c.expect(
        &["LCS", "a", "b", "IDX", "WITHMATCHLEN"],
        "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
         *3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n",
    );
    c.expect(
        &["LCS", "a", "b", "IDX", "MINMATCHLEN", "4"],
        "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n",
    );
    c.expect(&["LCS", "a", "nokey"], "$0\r\n\r\n");
    c.expect(
        &["LCS", "a", "b", "LEN", "IDX"],
        "-ERR If you want both the length and indexes, please just use IDX.\r\n",
    );
    c.expect(&["LCS", "a", "b", "FOO"], "-ERR syntax error\r\n");
    c.expect(&["SADD", "s", "x"], ":1\r\n");
    c.expect(
        &["LCS", "a", "s"],
        "-ERR The specified keys must contain string values\r\n",
    );
}

fn lcs_refuses_a_table_larger_than_proto_max_bulk_len(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"], "+OK\r\n");
    c.expect(&["SETRANGE", "a", "599", "x"], ":600\r\n");
    c.expect(&["SETRANGE", "b", "599", "y"], ":600\r\n");
    c.expect(
        &["LCS", "a", "b"],
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n",
    );
    c.expect(&["SETRANGE", "small", "99", "x"], ":100\r\n");
    c.expect(&["LCS", "a", "small", "LEN"], ":100\r\n");
}

fn setbit_and_getbit_address_bits_from_the_top(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SETBIT", "k", "1", "1"], ":0\r\n");
    c.expect(&["GET", "k"], "$1\r\n@\r\n");
    c.expect(&["SETBIT", "k", "1", "1"], ":1\r\n");
    c.expect(&["SETBIT", "k", "2", "1"], ":0\r\n");
    c.expect(&["GET", "k"], "$1\r\n`\r\n");
    c.expect(&["SETBIT", "k", "1", "0"], ":1\r\n");
    c.expect(&["GETBIT", "k", "2"], ":1\r\n");
    c.expect(&["GETBIT", "k", "1"], ":0\r\n");
    c.expect(&["GETBIT", "k", "100000"], ":0\r\n");
    c.expect(&["GETBIT", "nokey", "0"], ":0\r\n");
    c.expect(&["SETBIT", "g", "23", "1"], ":0\r\n");
    c.expect(&["GET", "g"], "$3\r\n\x00\x00\x01\r\n");
}

fn setbit_refuses_bad_offsets_and_bits(srv: &mut Server) {
    let mut c = srv.client();
    let bad_offset = "-ERR bit offset is not an integer or out of range\r\n";
    let bad_bit = "-ERR bit is not an integer or out of range\r\n";
    c.expect(&["SETBIT", "k", "4294967296", "1"], bad_offset);
    c.expect(&["SETBIT", "k", "-1", "1"], bad_offset);
    c.expect(&["SETBIT", "k", "x", "1"], bad_offset);
    c.expect(&["GETBIT", "k", "4294967296"], bad_offset);
    for bit in ["-1", "2", "10", "x", ""] {
        c.expect(&["SETBIT", "k", "0", bit], bad_bit);
    }
    c.expect(&["EXISTS", "k"], ":0\r\n");
    c.expect(&["LPUSH", "l", "a"], ":1\r\n");
    c.expect(&["SETBIT", "l", "0", "1"], WRONGTYPE);
    // The offset limit follows proto-max-bulk-len.
    c.expect(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"], "+OK\r\n");
    c.expect(&["SETBIT", "k", "8388607", "1"], ":0\r\n");
    c.expect(&["STRLEN", "k"], ":1048576\r\n");
    c.expect(&["SETBIT", "k", "8388608", "1"], bad_offset);
}

fn bitcount_counts_in_byte_and_bit_ranges(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["BITCOUNT", "nokey"], ":0\r\n");
    c.expect(&["SET", "k", "foobar"], "+OK\r\n");
    c.expect(&["BITCOUNT", "k"], ":26\r\n");
    c.expect(&["BITCOUNT", "k", "0", "0"], ":4\r\n");
    c.expect(&["BITCOUNT", "k", "1", "1"], ":6\r\n");
    c.expect(&["BITCOUNT", "k", "1", "1", "BYTE"], ":6\r\n");
    c.expect(&["BITCOUNT", "k", "5", "30", "BIT"], ":17\r\n");
    c.expect(&["BITCOUNT", "k", "-1", "-5"], ":0\r\n");
    c.expect(&["BITCOUNT", "k", "1"], "-ERR syntax error\r\n");
    c.expect(
        &["BITCOUNT", "k", "1", "2", "WORD"],
        "-ERR syntax error\r\n",
    );
    c.expect(&["BITCOUNT", "k", "a", "2"], NOT_INTEGER);
}

fn bitpos_finds_set_and_clear_bits(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["BITPOS", "nokey", "0"], ":0\r\n");
    c.expect(&["BITPOS", "nokey", "1"], ":-1\r\n");
    c.cmd(&[&b"SET"[..], b"k", b"\xff\xf0\x00"]);
    c.expect(&["BITPOS", "k", "0"], ":12\r\n");
    c.expect(&["BITPOS", "k", "1", "2"], ":-1\r\n");
    c.expect(&["BITPOS", "k", "1", "5", "7", "BIT"], ":5\r\n");
    c.expect(&["BITPOS", "k", "0", "0", "7", "BIT"], ":-1\r\n");
    c.cmd(&[&b"SET"[..], b"ones", b"\xff\xff"]);
    // Without an end the string reads as padded with clear bits; with one it does not.
    c.expect(&["BITPOS", "ones", "0"], ":16\r\n");
    c.expect(&["BITPOS", "ones", "0", "0", "-1"], ":-1\r\n");
    c.expect(
        &["BITPOS", "k", "2"],
        "-ERR The bit argument must be 1 or 0.\r\n",
    );
    c.expect(
        &["BITPOS", "k", "1", "0", "1", "WORD"],
        "-ERR syntax error\r\n",
    );
}

fn bitop_combines_zero_padded_strings(srv: &mut Server) {
    let mut c = srv.client();
    c.cmd(&[&b"SET"[..], b"a", b"\x0f\xf0"]);
    c.cmd(&[&b"SET"[..], b"b", b"\xff"]);
    c.expect(&["BITOP", "AND", "d", "a", "b"], ":2\r\n");
    assert_eq!(bulk(&mut c, &["GET", "d"]), b"\x0f\x00");
    c.expect(&["BITOP", "OR", "d", "a", "b"], ":2\r\n");
    assert_eq!(bulk(&mut c, &["GET", "d"]), b"\xff\xf0");
    c.expect(&["BITOP", "XOR", "d", "a", "b", "nokey"], ":2\r\n");
    assert_eq!(bulk(&mut c, &["GET", "d"]), b"\xf0\xf0");
    c.expect(&["BITOP", "NOT", "d", "a"], ":2\r\n");
    assert_eq!(bulk(&mut c, &["GET", "d"]), b"\xf0\x0f");
    // The result may replace one of its sources.
    c.expect(&["BITOP", "NOT", "a", "a"], ":2\r\n");
    assert_eq!(bulk(&mut c, &["GET", "a"]), b"\xf0\x0f");
}

fn bitop_with_only_empty_sources_deletes_the_destination(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "d", "old", "EX", "100"], "+OK\r\n");
    c.expect(&["BITOP", "OR", "d", "nokey", "nokey2"], ":0\r\n");
    c.expect(&["EXISTS", "d"], ":0\r\n");
}

fn bitop_refuses_bad_operations_and_types(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["BITOP", "NAND", "d", "a"], "-ERR syntax error\r\n");
    c.expect(
        &["BITOP", "NOT", "d", "a", "b"],
        "-ERR BITOP NOT must be called with a single source key.\r\n",
    );
    c.expect(&["SET", "a", "x"], "+OK\r\n");
    c.expect(&["LPUSH", "l", "a"], ":1\r\n");
    c.expect(&["BITOP", "AND", "d", "a", "l"], WRONGTYPE);
    c.expect(&["EXISTS", "d"], ":0\r\n");
}

fn string_commands_work_through_the_redis_crate(srv: &mut Server) {
    use redis::Commands;
    let mut conn = srv.redis_conn();
    let _: () = conn.set_ex("k", "v", 100).unwrap();
    let old: Option<String> = conn.getset("k", "w").unwrap();
    assert_eq!(old.as_deref(), Some("v"));
    let n: i64 = conn.incr("n", 5).unwrap();
    assert_eq!(n, 5);
    let n: i64 = conn.decr("n", 7).unwrap();
    assert_eq!(n, -2);
    let len: usize = conn.append("k", "xyz").unwrap();
    assert_eq!(len, 4);
    let part: String = conn.getrange("k", 1, -1).unwrap();
    assert_eq!(part, "xyz");
    let values: Vec<Option<String>> = redis::cmd("MGET")
        .arg(&["k", "nokey"])
        .query(&mut conn)
        .unwrap();
    assert_eq!(values, vec![Some("wxyz".to_string()), None]);
    let set: bool = conn.set_nx("k", "z").unwrap();
    assert!(!set);
    let old: bool = conn.setbit("bits", 7, true).unwrap();
    assert!(!old);
    let count: usize = conn.bitcount("bits").unwrap();
    assert_eq!(count, 1);
    let gone: Option<String> = conn.get_del("k").unwrap();
    assert_eq!(gone.as_deref(), Some("wxyz"));
    let exists: bool = conn.exists("k").unwrap();
    assert!(!exists);
}

fn huge_bit_and_range_arguments_leave_the_server_healthy(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    for args in [
        &[
            "GETRANGE",
            "k",
            "-9223372036854775808",
            "9223372036854775807",
        ][..],
        &[
            "BITCOUNT",
            "k",
            "-9223372036854775808",
            "9223372036854775807",
            "BIT",
        ],
        &[
            "BITPOS",
            "k",
            "0",
            "-9223372036854775808",
            "9223372036854775807",
            "BIT",
        ],
        &["SETRANGE", "k", "9223372036854775807", "x"],
        &["LCS", "k", "k", "MINMATCHLEN", "9223372036854775807"],
    ] {
        c.cmd(args);
    }
    srv.assert_healthy();
}

backend_tests! {
    setnx_sets_only_a_missing_key,
    setnx_sets_a_key_whose_ttl_has_passed,
    setex_and_psetex_set_value_and_ttl,
    setex_refuses_bad_ttls_naming_the_command,
    getset_returns_the_old_value_and_drops_the_ttl,
    getdel_returns_the_value_and_deletes_only_strings,
    getex_sets_changes_and_removes_the_ttl,
    getex_persist_removes_the_ttl,
    getex_with_a_past_absolute_time_returns_the_value_and_deletes_the_key,
    getex_checks_options_before_the_key_and_the_amount_after,
    mget_answers_null_for_missing_and_non_string_keys,
    msetnx_sets_all_or_nothing,
    msetnx_is_atomic_under_concurrent_writers,
    mget_never_sees_half_of_an_mset,
    append_creates_and_extends_and_keeps_the_ttl,
    append_is_binary_safe_and_many_appends_add_up,
    strlen_counts_bytes,
    getrange_clamps_indexes_like_redis,
    setrange_pads_with_zeros_and_reports_the_length,
    setrange_refuses_strings_beyond_proto_max_bulk_len,
    counters_increment_and_decrement,
    counters_refuse_overflow_and_non_integers,
    counters_keep_the_ttl,
    concurrent_increments_are_not_lost,
    incrbyfloat_refuses_a_value_with_a_nul_inside,
    lcs_finds_the_common_subsequence_and_its_ranges,
    lcs_refuses_a_table_larger_than_proto_max_bulk_len,
    setbit_and_getbit_address_bits_from_the_top,
    setbit_refuses_bad_offsets_and_bits,
    bitcount_counts_in_byte_and_bit_ranges,
    bitpos_finds_set_and_clear_bits,
    bitop_combines_zero_padded_strings,
    bitop_with_only_empty_sources_deletes_the_destination,
    bitop_refuses_bad_operations_and_types,
    string_commands_work_through_the_redis_crate,
    huge_bit_and_range_arguments_leave_the_server_healthy,
}
