//! Strings and the keyspace: GET/SET and every SET option and error, DEL, EXISTS, KEYS
//! globs, SELECT, DBSIZE, FLUSHDB/FLUSHALL, ECHO, PING, QUIT and the generic errors.

#[macro_use]
mod common;

use common::{multibulk, Client, Resp, Server};

/// KEYS `pattern`, sorted (Redis returns keys in hash-table order).
fn keys(c: &mut Client, pattern: &str) -> Vec<String> {
    let mut found: Vec<String> = c
        .cmd_resp(&["KEYS", pattern])
        .items()
        .iter()
        .map(Resp::text)
        .collect();
    found.sort();
    found
}

/// The TTL of `key` in seconds.
fn ttl(c: &mut Client, key: &str) -> i64 {
    c.cmd_resp(&["TTL", key]).int()
}

fn set_then_get_returns_the_value(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["GET", "k"], "$-1\r\n");
    c.expect(&["SET", "k", "hello"], "+OK\r\n");
    c.expect(&["GET", "k"], "$5\r\nhello\r\n");
    c.expect(&["SET", "k", "world!"], "+OK\r\n");
    c.expect(&["GET", "k"], "$6\r\nworld!\r\n");
}

fn set_and_get_are_binary_safe(srv: &mut Server) {
    let mut c = srv.client();
    c.expect_bytes(
        &[&b"SET"[..], b"bin\x00\r\n", b"\x00\xff\r\n$3\r\n"],
        b"+OK\r\n",
    );
    c.expect_bytes(
        &[&b"GET"[..], b"bin\x00\r\n"],
        b"$8\r\n\x00\xff\r\n$3\r\n\r\n",
    );
    c.expect(&["SET", "", ""], "+OK\r\n");
    c.expect(&["GET", ""], "$0\r\n\r\n");
    c.expect(&["EXISTS", ""], ":1\r\n");
}

fn command_names_and_set_options_are_case_insensitive(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["sEt", "k", "v", "ex", "100", "nX"], "+OK\r\n");
    c.expect(&["gEt", "k"], "$1\r\nv\r\n");
    assert_eq!(ttl(&mut c, "k"), 100);
}

fn set_nx_sets_only_a_missing_key(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "first", "NX"], "+OK\r\n");
    c.expect(&["SET", "k", "second", "NX"], "$-1\r\n");
    c.expect(&["GET", "k"], "$5\r\nfirst\r\n");
}

fn set_xx_sets_only_an_existing_key(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "XX"], "$-1\r\n");
    c.expect(&["EXISTS", "k"], ":0\r\n");
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["SET", "k", "w", "XX"], "+OK\r\n");
    c.expect(&["GET", "k"], "$1\r\nw\r\n");
}

fn set_nx_with_xx_is_a_syntax_error(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "NX", "XX"], "-ERR syntax error\r\n");
    c.expect(&["SET", "k", "v", "XX", "NX"], "-ERR syntax error\r\n");
    c.expect(&["EXISTS", "k"], ":0\r\n");
}

fn set_with_two_kinds_of_expiry_is_a_syntax_error(srv: &mut Server) {
    let mut c = srv.client();
    for args in [
        ["EX", "1", "PX", "1000"],
        ["PX", "1000", "EX", "1"],
        ["EX", "1", "EXAT", "99999999999"],
        ["PXAT", "99999999999999", "EX", "1"],
    ] {
        let mut cmd = vec!["SET", "k", "v"];
        cmd.extend(args);
        c.expect(&cmd, "-ERR syntax error\r\n");
    }
    c.expect(
        &["SET", "k", "v", "KEEPTTL", "EX", "1"],
        "-ERR syntax error\r\n",
    );
    c.expect(
        &["SET", "k", "v", "PX", "5", "KEEPTTL"],
        "-ERR syntax error\r\n",
    );
    c.expect(&["EXISTS", "k"], ":0\r\n");
}

fn set_with_the_same_expiry_option_twice_takes_the_last(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "EX", "10", "EX", "200"], "+OK\r\n");
    assert_eq!(ttl(&mut c, "k"), 200);
    c.expect(&["SET", "k", "v", "NX", "NX"], "$-1\r\n");
}

fn set_ex_zero_is_invalid_expire_time(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["SET", "k", "v", "EX", "0"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
    c.expect(&["EXISTS", "k"], ":0\r\n");
}

fn set_px_zero_is_invalid_expire_time(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["SET", "k", "v", "PX", "0"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
}

fn set_negative_expiry_is_invalid_expire_time(srv: &mut Server) {
    let mut c = srv.client();
    for (opt, val) in [
        ("EX", "-1"),
        ("PX", "-1"),
        ("EXAT", "-1"),
        ("PXAT", "0"),
        ("EXAT", "0"),
    ] {
        c.expect(
            &["SET", "k", "v", opt, val],
            "-ERR invalid expire time in 'set' command\r\n",
        );
    }
    c.expect(&["EXISTS", "k"], ":0\r\n");
}

fn set_expiry_that_overflows_is_invalid_expire_time(srv: &mut Server) {
    let mut c = srv.client();
    for (opt, val) in [
        ("EX", "9223372036854775807"),
        ("EX", "9999999999999999"),
        ("PX", "9223372036854775807"),
    ] {
        c.expect(
            &["SET", "k", "v", opt, val],
            "-ERR invalid expire time in 'set' command\r\n",
        );
    }
}

fn set_expiry_that_is_not_an_integer_is_rejected(srv: &mut Server) {
    let mut c = srv.client();
    for val in [
        "abc",
        "1.5",
        "",
        "01",
        "+5",
        " 5",
        "5 ",
        "99999999999999999999",
    ] {
        c.expect(
            &["SET", "k", "v", "EX", val],
            "-ERR value is not an integer or out of range\r\n",
        );
    }
    c.expect(
        &["SET", "k", "v", "PX", "1e3"],
        "-ERR value is not an integer or out of range\r\n",
    );
    c.expect(&["EXISTS", "k"], ":0\r\n");
}

fn set_option_missing_its_value_or_unknown_is_a_syntax_error(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "EX"], "-ERR syntax error\r\n");
    c.expect(&["SET", "k", "v", "PXAT"], "-ERR syntax error\r\n");
    c.expect(&["SET", "k", "v", "FOO"], "-ERR syntax error\r\n");
    c.expect(
        &["SET", "k", "v", "EX", "10", "bar"],
        "-ERR syntax error\r\n",
    );
}

fn set_with_wrong_arity_names_the_command(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["SET"],
        "-ERR wrong number of arguments for 'set' command\r\n",
    );
    c.expect(
        &["SET", "k"],
        "-ERR wrong number of arguments for 'set' command\r\n",
    );
    c.expect(
        &["GET"],
        "-ERR wrong number of arguments for 'get' command\r\n",
    );
    c.expect(
        &["GET", "a", "b"],
        "-ERR wrong number of arguments for 'get' command\r\n",
    );
    c.expect(
        &["GeT"],
        "-ERR wrong number of arguments for 'get' command\r\n",
    );
}

fn set_keepttl_keeps_the_ttl_and_plain_set_clears_it(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "EX", "100"], "+OK\r\n");
    c.expect(&["SET", "k", "v2", "KEEPTTL"], "+OK\r\n");
    let kept = ttl(&mut c, "k");
    assert!((95..=100).contains(&kept), "TTL after KEEPTTL: {kept}");
    c.expect(&["GET", "k"], "$2\r\nv2\r\n");
    c.expect(&["SET", "k", "v3"], "+OK\r\n");
    c.expect(&["TTL", "k"], ":-1\r\n");
}

fn set_get_returns_the_old_value(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v1", "GET"], "$-1\r\n");
    c.expect(&["SET", "k", "v2", "GET"], "$2\r\nv1\r\n");
    c.expect(&["GET", "k"], "$2\r\nv2\r\n");
    c.expect(&["SET", "k", "v3", "GET", "GET"], "$2\r\nv2\r\n");
}

fn set_get_with_nx_or_xx_returns_the_old_value_and_obeys_the_condition(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v", "XX", "GET"], "$-1\r\n");
    c.expect(&["EXISTS", "k"], ":0\r\n");
    c.expect(&["SET", "k", "v", "NX", "GET"], "$-1\r\n");
    c.expect(&["SET", "k", "v2", "NX", "GET"], "$1\r\nv\r\n");
    c.expect(&["GET", "k"], "$1\r\nv\r\n");
    c.expect(&["SET", "k", "v3", "XX", "GET"], "$1\r\nv\r\n");
    c.expect(&["GET", "k"], "$2\r\nv3\r\n");
}

fn set_exat_or_pxat_in_the_past_deletes_the_key(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["SET", "k", "v2", "EXAT", "1"], "+OK\r\n");
    c.expect(&["EXISTS", "k"], ":0\r\n");
    c.expect(&["GET", "k"], "$-1\r\n");
    c.expect(&["SET", "k", "v", "PXAT", "1", "GET"], "$-1\r\n");
    c.expect(&["EXISTS", "k"], ":0\r\n");
    c.expect(&["DBSIZE"], ":0\r\n");
}

fn set_exat_in_the_future_sets_the_ttl(srv: &mut Server) {
    let mut c = srv.client();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    c.expect(
        &["SET", "k", "v", "EXAT", &(now + 500).to_string()],
        "+OK\r\n",
    );
    let t = ttl(&mut c, "k");
    assert!((490..=501).contains(&t), "TTL after EXAT now+500: {t}");
    c.expect(
        &["SET", "k", "v", "PXAT", &((now + 300) * 1000).to_string()],
        "+OK\r\n",
    );
    let t = ttl(&mut c, "k");
    assert!((290..=301).contains(&t), "TTL after PXAT now+300s: {t}");
}

fn del_counts_only_keys_that_existed(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["SET", "b", "2"], "+OK\r\n");
    c.expect(&["DEL", "a", "a", "b", "missing"], ":2\r\n");
    c.expect(&["DEL", "a"], ":0\r\n");
    c.expect(&["GET", "a"], "$-1\r\n");
    c.expect(
        &["DEL"],
        "-ERR wrong number of arguments for 'del' command\r\n",
    );
}

fn exists_counts_every_argument_including_duplicates(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["EXISTS", "a", "a"], ":0\r\n");
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["EXISTS", "a", "a", "b", "a"], ":3\r\n");
    c.expect(&["EXISTS", "a"], ":1\r\n");
    c.expect(
        &["EXISTS"],
        "-ERR wrong number of arguments for 'exists' command\r\n",
    );
}

fn keys_star_lists_every_key(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["KEYS", "*"], "*0\r\n");
    for k in ["one", "two", "three"] {
        c.expect(&["SET", k, "x"], "+OK\r\n");
    }
    assert_eq!(keys(&mut c, "*"), ["one", "three", "two"]);
    c.expect(
        &["KEYS"],
        "-ERR wrong number of arguments for 'keys' command\r\n",
    );
    c.expect(
        &["KEYS", "a", "b"],
        "-ERR wrong number of arguments for 'keys' command\r\n",
    );
}

fn keys_matches_every_glob_form(srv: &mut Server) {
    let mut c = srv.client();
    for k in [
        "hello", "hallo", "hxllo", "hllo", "heeeello", "a*b", "axb", "a?b", "a[b", "a\\b", "A1",
    ] {
        c.expect(&["SET", k, "1"], "+OK\r\n");
    }
    let cases: &[(&str, &[&str])] = &[
        ("h?llo", &["hallo", "hello", "hxllo"]),
        ("h*llo", &["hallo", "heeeello", "hello", "hllo", "hxllo"]),
        ("***o", &["hallo", "heeeello", "hello", "hllo", "hxllo"]),
        ("h[ae]llo", &["hallo", "hello"]),
        ("h[^e]llo", &["hallo", "hxllo"]),
        ("h[a-b]llo", &["hallo"]),
        // A reversed range is the same range.
        ("h[e-a]llo", &["hallo", "hello"]),
        // `!` does not negate: it is just a character of the class.
        ("h[!e]llo", &["hello"]),
        ("a\\*b", &["a*b"]),
        ("a\\?b", &["a?b"]),
        ("a[*]b", &["a*b"]),
        ("a\\[b", &["a[b"]),
        ("a\\\\b", &["a\\b"]),
        ("a?b", &["a*b", "a?b", "a[b", "a\\b", "axb"]),
        ("[a-h]?", &[]),
        ("[A-Z][0-9]", &["A1"]),
        // Matching is case-sensitive.
        ("HELLO", &[]),
        ("hello", &["hello"]),
        ("", &[]),
        ("nothing*", &[]),
    ];
    for (pattern, expected) in cases {
        assert_eq!(&keys(&mut c, pattern), expected, "KEYS {pattern:?}");
    }
}

fn keys_sees_only_the_selected_database(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "in0", "x"], "+OK\r\n");
    c.expect(&["SELECT", "1"], "+OK\r\n");
    c.expect(&["SET", "in1", "x"], "+OK\r\n");
    assert_eq!(keys(&mut c, "*"), ["in1"]);
    c.expect(&["SELECT", "0"], "+OK\r\n");
    assert_eq!(keys(&mut c, "in*"), ["in0"]);
}

fn select_switches_between_sixteen_databases(srv: &mut Server) {
    let mut c = srv.client();
    for db in 0..16 {
        c.expect(&["SELECT", &db.to_string()], "+OK\r\n");
        c.expect(&["SET", "k", &format!("db{db}")], "+OK\r\n");
    }
    for db in (0..16).rev() {
        c.expect(&["SELECT", &db.to_string()], "+OK\r\n");
        let v = format!("db{db}");
        c.expect(&["GET", "k"], &format!("${}\r\n{v}\r\n", v.len()));
        c.expect(&["DBSIZE"], ":1\r\n");
    }
}

fn select_out_of_range_is_an_error(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SELECT", "16"], "-ERR DB index is out of range\r\n");
    c.expect(&["SELECT", "-1"], "-ERR DB index is out of range\r\n");
    // Beyond a C int the index fails to parse, with Redis' own wording.
    c.expect(
        &["SELECT", "2147483648"],
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
    );
    c.expect(&["SET", "still", "db0"], "+OK\r\n");
    c.expect(&["SELECT", "0"], "+OK\r\n");
    c.expect(&["GET", "still"], "$3\r\ndb0\r\n");
}

fn select_with_a_non_integer_is_an_error(srv: &mut Server) {
    let mut c = srv.client();
    for arg in ["abc", "1.0", "", " 1", "0x1"] {
        c.expect(
            &["SELECT", arg],
            "-ERR value is not an integer or out of range\r\n",
        );
    }
    c.expect(
        &["SELECT"],
        "-ERR wrong number of arguments for 'select' command\r\n",
    );
    c.expect(
        &["SELECT", "0", "1"],
        "-ERR wrong number of arguments for 'select' command\r\n",
    );
}

fn selected_database_belongs_to_the_connection(srv: &mut Server) {
    let mut a = srv.client();
    a.expect(&["SELECT", "3"], "+OK\r\n");
    a.expect(&["SET", "k", "three"], "+OK\r\n");
    let mut b = srv.client();
    b.expect(&["GET", "k"], "$-1\r\n");
    b.expect(&["SELECT", "3"], "+OK\r\n");
    b.expect(&["GET", "k"], "$5\r\nthree\r\n");
}

fn dbsize_counts_the_selected_database(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["DBSIZE"], ":0\r\n");
    for i in 0..25 {
        c.expect(&["SET", &format!("k{i}"), "v"], "+OK\r\n");
    }
    c.expect(&["SET", "k0", "again"], "+OK\r\n");
    c.expect(&["DBSIZE"], ":25\r\n");
    c.expect(&["DEL", "k0", "k1"], ":2\r\n");
    c.expect(&["DBSIZE"], ":23\r\n");
    c.expect(&["SELECT", "5"], "+OK\r\n");
    c.expect(&["DBSIZE"], ":0\r\n");
    c.expect(
        &["DBSIZE", "x"],
        "-ERR wrong number of arguments for 'dbsize' command\r\n",
    );
}

fn flushdb_empties_only_the_selected_database(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["SELECT", "1"], "+OK\r\n");
    c.expect(&["SET", "b", "1"], "+OK\r\n");
    c.expect(&["FLUSHDB"], "+OK\r\n");
    c.expect(&["DBSIZE"], ":0\r\n");
    c.expect(&["SELECT", "0"], "+OK\r\n");
    c.expect(&["DBSIZE"], ":1\r\n");
    c.expect(&["FLUSHDB", "ASYNC"], "+OK\r\n");
    c.expect(&["DBSIZE"], ":0\r\n");
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["FLUSHDB", "sync"], "+OK\r\n");
    c.expect(&["GET", "a"], "$-1\r\n");
}

fn flushall_empties_every_database(srv: &mut Server) {
    let mut c = srv.client();
    for db in ["0", "7", "15"] {
        c.expect(&["SELECT", db], "+OK\r\n");
        c.expect(&["SET", "k", "v"], "+OK\r\n");
    }
    c.expect(&["FLUSHALL"], "+OK\r\n");
    for db in ["0", "7", "15"] {
        c.expect(&["SELECT", db], "+OK\r\n");
        c.expect(&["DBSIZE"], ":0\r\n");
    }
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["FLUSHALL", "ASYNC"], "+OK\r\n");
    c.expect(&["DBSIZE"], ":0\r\n");
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["FLUSHALL", "SYNC"], "+OK\r\n");
    c.expect(&["DBSIZE"], ":0\r\n");
}

fn flush_with_a_bad_argument_is_a_syntax_error(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    c.expect(&["FLUSHDB", "LAZY"], "-ERR syntax error\r\n");
    c.expect(&["FLUSHDB", "ASYNC", "SYNC"], "-ERR syntax error\r\n");
    c.expect(&["FLUSHALL", "foo"], "-ERR syntax error\r\n");
    c.expect(&["DBSIZE"], ":1\r\n");
}

fn echo_returns_its_argument(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["ECHO", "hello world"], "$11\r\nhello world\r\n");
    c.expect(&["ECHO", ""], "$0\r\n\r\n");
    c.expect_bytes(&[&b"ECHO"[..], b"\r\n\x00"], b"$3\r\n\r\n\x00\r\n");
    c.expect(
        &["ECHO"],
        "-ERR wrong number of arguments for 'echo' command\r\n",
    );
    c.expect(
        &["ECHO", "a", "b"],
        "-ERR wrong number of arguments for 'echo' command\r\n",
    );
}

fn ping_without_argument_is_pong_and_with_one_echoes_it(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["PING"], "+PONG\r\n");
    c.expect(&["PING", "hi there"], "$8\r\nhi there\r\n");
    c.expect(&["PING", ""], "$0\r\n\r\n");
    c.expect(
        &["PING", "a", "b"],
        "-ERR wrong number of arguments for 'ping' command\r\n",
    );
}

fn quit_replies_ok_then_closes(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["QUIT"], "+OK\r\n");
    c.expect_closed();
    let mut c = srv.client();
    c.expect(&["quit", "with", "args"], "+OK\r\n");
    c.expect_closed();
    srv.client().expect(&["PING"], "+PONG\r\n");
}

fn unknown_command_error_quotes_the_command_and_its_first_args(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["FOO"],
        "-ERR unknown command 'FOO', with args beginning with: \r\n",
    );
    c.expect(
        &["foo", "a", "b c"],
        "-ERR unknown command 'foo', with args beginning with: 'a' 'b c' \r\n",
    );
    c.expect(
        &[""],
        "-ERR unknown command '', with args beginning with: \r\n",
    );
    c.expect(
        &["NOPE", ""],
        "-ERR unknown command 'NOPE', with args beginning with: '' \r\n",
    );
}

fn unknown_command_error_is_cut_at_128_characters(srv: &mut Server) {
    let mut c = srv.client();
    let long_name = "X".repeat(200);
    c.expect(
        &[long_name.as_str()],
        &format!(
            "-ERR unknown command '{}', with args beginning with: \r\n",
            "X".repeat(128)
        ),
    );
    let long_arg = "a".repeat(150);
    c.expect(
        &["FOO", &long_arg, "b"],
        &format!(
            "-ERR unknown command 'FOO', with args beginning with: '{}' \r\n",
            "a".repeat(128)
        ),
    );
    let many: Vec<String> = (1..=40).map(|i| format!("a{i}")).collect();
    let mut cmd = vec!["FOO".to_string()];
    cmd.extend(many.iter().cloned());
    let shown: String = many[..23].iter().map(|a| format!("'{a}' ")).collect();
    c.expect(
        &cmd,
        &format!("-ERR unknown command 'FOO', with args beginning with: {shown}\r\n"),
    );
}

fn newlines_in_an_unknown_command_error_become_spaces(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["FO\r\nO", "a\nb"],
        "-ERR unknown command 'FO  O', with args beginning with: 'a b' \r\n",
    );
}

fn errors_do_not_break_the_connection(srv: &mut Server) {
    let mut c = srv.client();
    let mut req = multibulk(&["NOSUCH"]);
    req.extend(multibulk(&["GET"]));
    req.extend(multibulk(&["SET", "k", "v", "EX", "0"]));
    req.extend(multibulk(&["SET", "k", "v"]));
    req.extend(multibulk(&["GET", "k"]));
    c.send(&req);
    c.expect_reply("-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    c.expect_reply("-ERR wrong number of arguments for 'get' command\r\n");
    c.expect_reply("-ERR invalid expire time in 'set' command\r\n");
    c.expect_reply("+OK\r\n");
    c.expect_reply("$1\r\nv\r\n");
}

fn exists_and_del_take_ten_thousand_keys(srv: &mut Server) {
    let mut c = srv.client();
    let keys: Vec<String> = (0..10_000).map(|i| format!("many:{i}")).collect();
    let mut mset = Vec::new();
    for k in keys.iter().step_by(2) {
        mset.extend(multibulk(&["SET", k, "v"]));
    }
    c.send(&mset);
    for _ in 0..5_000 {
        c.expect_reply("+OK\r\n");
    }
    let mut exists = vec!["EXISTS"];
    exists.extend(keys.iter().map(String::as_str));
    c.expect(&exists, ":5000\r\n");
    let mut del = vec!["DEL"];
    del.extend(keys.iter().map(String::as_str));
    c.expect(&del, ":5000\r\n");
    c.expect(&["DBSIZE"], ":0\r\n");
}

fn dbsize_keys_and_flush_cover_twenty_thousand_keys(srv: &mut Server) {
    let mut c = srv.client();
    let mut req = Vec::new();
    for i in 0..20_000 {
        req.extend(multibulk(&["SET", &format!("key:{i:05}"), "v"]));
    }
    c.send(&req);
    for _ in 0..20_000 {
        c.expect_reply("+OK\r\n");
    }
    c.expect(&["DBSIZE"], ":20000\r\n");
    assert_eq!(c.cmd_resp(&["KEYS", "*"]).items().len(), 20_000);
    let expected: Vec<String> = (0..10).map(|i| format!("key:1234{i}")).collect();
    assert_eq!(keys(&mut c, "key:1234?"), expected);
    assert_eq!(
        keys(&mut c, "key:0000[0-2]"),
        ["key:00000", "key:00001", "key:00002"]
    );
    c.expect(&["FLUSHALL", "ASYNC"], "+OK\r\n");
    c.expect(&["DBSIZE"], ":0\r\n");
    c.expect(&["GET", "key:00000"], "$-1\r\n");
}

backend_tests! {
    set_then_get_returns_the_value,
    set_and_get_are_binary_safe,
    command_names_and_set_options_are_case_insensitive,
    set_nx_sets_only_a_missing_key,
    set_xx_sets_only_an_existing_key,
    set_nx_with_xx_is_a_syntax_error,
    set_with_two_kinds_of_expiry_is_a_syntax_error,
    set_with_the_same_expiry_option_twice_takes_the_last,
    set_ex_zero_is_invalid_expire_time,
    set_px_zero_is_invalid_expire_time,
    set_negative_expiry_is_invalid_expire_time,
    set_expiry_that_overflows_is_invalid_expire_time,
    set_expiry_that_is_not_an_integer_is_rejected,
    set_option_missing_its_value_or_unknown_is_a_syntax_error,
    set_with_wrong_arity_names_the_command,
    set_keepttl_keeps_the_ttl_and_plain_set_clears_it,
    set_get_returns_the_old_value,
    set_get_with_nx_or_xx_returns_the_old_value_and_obeys_the_condition,
    set_exat_or_pxat_in_the_past_deletes_the_key,
    set_exat_in_the_future_sets_the_ttl,
    del_counts_only_keys_that_existed,
    exists_counts_every_argument_including_duplicates,
    keys_star_lists_every_key,
    keys_matches_every_glob_form,
    keys_sees_only_the_selected_database,
    select_switches_between_sixteen_databases,
    select_out_of_range_is_an_error,
    select_with_a_non_integer_is_an_error,
    selected_database_belongs_to_the_connection,
    dbsize_counts_the_selected_database,
    flushdb_empties_only_the_selected_database,
    flushall_empties_every_database,
    flush_with_a_bad_argument_is_a_syntax_error,
    echo_returns_its_argument,
    ping_without_argument_is_pong_and_with_one_echoes_it,
    quit_replies_ok_then_closes,
    unknown_command_error_quotes_the_command_and_its_first_args,
    unknown_command_error_is_cut_at_128_characters,
    newlines_in_an_unknown_command_error_become_spaces,
    errors_do_not_break_the_connection,
    exists_and_del_take_ten_thousand_keys,
    dbsize_keys_and_flush_cover_twenty_thousand_keys,
}
