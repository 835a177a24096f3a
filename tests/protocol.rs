//! The wire protocol: pipelining, requests split anywhere, inline commands, protocol errors
//! (reply, then close that connection only) and huge declared lengths.

#[macro_use]
mod common;

use common::{multibulk, show, Client, Server};
use std::io::Write;
use std::time::Duration;

/// A batch mixing multibulk and inline commands, binary-safe values and an empty bulk,
/// with the exact replies Redis gives, in order. Leaves the keyspace as it found it.
fn mixed_batch() -> (Vec<u8>, Vec<u8>) {
    let mut req = Vec::new();
    let mut rep = Vec::new();
    req.extend(multibulk(&[&b"SET"[..], b"split:key", b"a\r\nb\x00c$*+"]));
    rep.extend(b"+OK\r\n");
    req.extend(b"GET split:key\r\n");
    rep.extend(b"$9\r\na\r\nb\x00c$*+\r\n");
    req.extend(b"PING\r\n");
    rep.extend(b"+PONG\r\n");
    req.extend(multibulk(&["ECHO", ""]));
    rep.extend(b"$0\r\n\r\n");
    req.extend(b"ECHO \"q \\\"x\\\" \\x41\"\n");
    rep.extend(b"$7\r\nq \"x\" A\r\n");
    req.extend(multibulk(&["DEL", "split:key", "split:key"]));
    rep.extend(b":1\r\n");
    req.extend(multibulk(&["EXISTS", "split:key"]));
    rep.extend(b":0\r\n");
    (req, rep)
}

/// Reads replies until `expected.len()` bytes arrived and compares them.
#[track_caller]
fn read_exactly(c: &mut Client, expected: &[u8], context: &str) {
    let mut got = Vec::new();
    while got.len() < expected.len() {
        got.extend(c.read_reply());
    }
    common::assert_bytes_eq(&got, expected, context);
}

/// The resident memory of a process, in KiB (Linux).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// Sends `bad` on a fresh connection and expects exactly `error` and then the close, while
/// `bystander` (another connection) still gets answers.
#[track_caller]
fn expect_protocol_error(srv: &Server, bystander: &mut Client, bad: &[u8], error: &str) {
    let mut c = srv.client();
    c.send(bad);
    let reply = c.read_reply();
    common::assert_bytes_eq(
        &reply,
        error.as_bytes(),
        &format!("> \"{}\"", show(&bad[..bad.len().min(60)])),
    );
    c.expect_closed();
    bystander.expect(&["PING"], "+PONG\r\n");
}

fn thousands_of_pipelined_commands_in_one_write_reply_in_order(srv: &mut Server) {
    const N: usize = 5000;
    let mut req = Vec::new();
    for i in 0..N {
        req.extend(multibulk(&[
            "SET",
            &format!("pipe:{i}"),
            &format!("value-{i}"),
        ]));
        req.extend(multibulk(&["GET", &format!("pipe:{i}")]));
    }
    req.extend(b"DBSIZE\r\n");
    let mut c = srv.client();
    // Write from another thread: a server may stop reading while its replies wait.
    let mut writer = c.stream().try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(&req));
    for i in 0..N {
        c.expect_reply("+OK\r\n");
        let value = format!("value-{i}");
        c.expect_reply(&format!("${}\r\n{value}\r\n", value.len()));
    }
    c.expect_reply(&format!(":{N}\r\n"));
    sender.join().unwrap().expect("write the pipeline");
}

fn pipelined_batch_split_at_every_byte_boundary_gives_the_same_replies(srv: &mut Server) {
    let (req, rep) = mixed_batch();
    let mut c = srv.client();
    c.send(&req);
    read_exactly(&mut c, &rep, "whole batch");
    for cut in 1..req.len() {
        c.send(&req[..cut]);
        std::thread::sleep(Duration::from_millis(2));
        c.send(&req[cut..]);
        read_exactly(&mut c, &rep, &format!("batch split after byte {cut}"));
    }
}

fn pipelined_batch_sent_one_byte_at_a_time_gives_the_same_replies(srv: &mut Server) {
    let (req, rep) = mixed_batch();
    let mut c = srv.client();
    for byte in &req {
        c.send(std::slice::from_ref(byte));
        std::thread::sleep(Duration::from_millis(1));
    }
    read_exactly(&mut c, &rep, "batch sent byte by byte");
}

fn big_bulk_value_arriving_in_pieces_is_stored_whole(srv: &mut Server) {
    let value: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let req = multibulk(&[&b"SET"[..], b"big", &value]);
    let mut c = srv.client();
    for piece in req.chunks(100_000) {
        c.send(piece);
    }
    c.expect_reply("+OK\r\n");
    let mut expected = format!("${}\r\n", value.len()).into_bytes();
    expected.extend(&value);
    expected.extend(b"\r\n");
    let got = c.cmd(&["GET", "big"]);
    assert!(
        got == expected,
        "GET big returned {} bytes, not the 3000000 stored",
        got.len()
    );
}

fn inline_ping_replies_pong(srv: &mut Server) {
    let mut c = srv.client();
    c.expect_raw(b"PING\r\n", "+PONG\r\n");
    c.expect_raw(b"ping\r\n", "+PONG\r\n");
    c.expect_raw(b"PING hello\r\n", "$5\r\nhello\r\n");
}

fn inline_commands_may_end_with_a_bare_newline(srv: &mut Server) {
    let mut c = srv.client();
    c.expect_raw(b"PING\n", "+PONG\r\n");
    c.expect_raw(b"SET k v\n", "+OK\r\n");
    c.expect_raw(b"GET k\n", "$1\r\nv\r\n");
}

fn inline_double_quotes_group_words_and_take_escapes(srv: &mut Server) {
    let mut c = srv.client();
    c.expect_raw(b"SET k \"a b\"\r\n", "+OK\r\n");
    c.expect_raw(b"GET k\r\n", "$3\r\na b\r\n");
    c.expect_raw(b"ECHO \"\\x41\\n\"\r\n", "$2\r\nA\n\r\n");
    c.expect_raw(b"ECHO \"\\t\\r\\b\\a\\z\"\r\n", "$5\r\n\t\r\x08\x07z\r\n");
    c.expect_raw(b"ECHO \"say \\\"hi\\\"\"\r\n", "$8\r\nsay \"hi\"\r\n");
    // `\x` needs two hex digits; otherwise it is just an escaped `x`.
    c.expect_raw(b"ECHO \"\\x4\"\r\n", "$2\r\nx4\r\n");
    c.expect_raw(b"ECHO \"\"\r\n", "$0\r\n\r\n");
}

fn inline_single_quotes_are_literal_except_an_escaped_quote(srv: &mut Server) {
    let mut c = srv.client();
    c.expect_raw(b"SET k 'a b'\r\n", "+OK\r\n");
    c.expect_raw(b"GET k\r\n", "$3\r\na b\r\n");
    c.expect_raw(b"ECHO 'it\\'s'\r\n", "$4\r\nit's\r\n");
    c.expect_raw(b"ECHO '\\x41'\r\n", "$4\r\n\\x41\r\n");
    c.expect_raw(b"ECHO 'a\"b'\r\n", "$3\r\na\"b\r\n");
}

fn inline_words_are_split_on_any_run_of_blanks(srv: &mut Server) {
    let mut c = srv.client();
    c.expect_raw(b"  ECHO   hi  \r\n", "$2\r\nhi\r\n");
    c.expect_raw(b"SET\tk\tv\r\n", "+OK\r\n");
    c.expect_raw(b"GET k\r\n", "$1\r\nv\r\n");
}

fn empty_inline_lines_and_empty_multibulks_get_no_reply(srv: &mut Server) {
    let mut c = srv.client();
    c.send(b"\r\n\n   \r\n*0\r\n*-1\r\n*-10\r\nPING\r\n");
    c.expect_reply("+PONG\r\n");
    c.expect_silence(Duration::from_millis(200));
}

fn inline_and_multibulk_commands_mix_in_one_write(srv: &mut Server) {
    let mut c = srv.client();
    let mut req = b"SET a 1\r\n".to_vec();
    req.extend(multibulk(&["GET", "a"]));
    req.extend(b"EXISTS a b\r\n");
    c.send(&req);
    c.expect_reply("+OK\r\n");
    c.expect_reply("$1\r\n1\r\n");
    c.expect_reply(":1\r\n");
}

fn inline_unbalanced_quotes_are_a_protocol_error(srv: &mut Server) {
    let mut other = srv.client();
    expect_protocol_error(
        srv,
        &mut other,
        b"SET k \"a\r\n",
        "-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    expect_protocol_error(
        srv,
        &mut other,
        b"SET k 'a\r\n",
        "-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    // A closing quote must be followed by a blank or the end of the line.
    expect_protocol_error(
        srv,
        &mut other,
        b"SET k \"a\"b\r\n",
        "-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    expect_protocol_error(
        srv,
        &mut other,
        b"ECHO a\"b\r\n",
        "-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    other.expect(&["EXISTS", "k"], ":0\r\n");
}

fn bad_multibulk_length_is_a_protocol_error_and_closes_the_connection(srv: &mut Server) {
    let mut other = srv.client();
    for bad in [
        &b"*abc\r\n"[..],
        b"*1x\r\n",
        b"*\r\n",
        b"*2147483648\r\n",
        b"*3000000000\r\n",
    ] {
        expect_protocol_error(
            srv,
            &mut other,
            bad,
            "-ERR Protocol error: invalid multibulk length\r\n",
        );
    }
}

fn bad_bulk_length_is_a_protocol_error_and_closes_the_connection(srv: &mut Server) {
    let mut other = srv.client();
    for bad in [
        &b"*1\r\n$abc\r\n"[..],
        b"*1\r\n$-1\r\n",
        b"*1\r\n$-5\r\n",
        b"*1\r\n$\r\n",
        b"*1\r\n$1x\r\n",
        b"*2\r\n$4\r\nECHO\r\n$536870913\r\n",
    ] {
        expect_protocol_error(
            srv,
            &mut other,
            bad,
            "-ERR Protocol error: invalid bulk length\r\n",
        );
    }
}

fn multibulk_item_without_dollar_is_a_protocol_error(srv: &mut Server) {
    let mut other = srv.client();
    expect_protocol_error(
        srv,
        &mut other,
        b"*1\r\nfoo\r\n",
        "-ERR Protocol error: expected '$', got 'f'\r\n",
    );
    expect_protocol_error(
        srv,
        &mut other,
        b"*2\r\n$4\r\nECHO\r\n:1\r\n",
        "-ERR Protocol error: expected '$', got ':'\r\n",
    );
}

fn overlong_header_lines_are_protocol_errors(srv: &mut Server) {
    let mut other = srv.client();
    let mut mbulk = b"*".to_vec();
    mbulk.extend(std::iter::repeat_n(b'1', 70_000));
    expect_protocol_error(
        srv,
        &mut other,
        &mbulk,
        "-ERR Protocol error: too big mbulk count string\r\n",
    );
    let mut bulk = b"*1\r\n$".to_vec();
    bulk.extend(std::iter::repeat_n(b'1', 70_000));
    expect_protocol_error(
        srv,
        &mut other,
        &bulk,
        "-ERR Protocol error: too big bulk count string\r\n",
    );
    let inline = vec![b'P'; 70_000];
    expect_protocol_error(
        srv,
        &mut other,
        &inline,
        "-ERR Protocol error: too big inline request\r\n",
    );
}

fn commands_before_a_protocol_error_are_answered_and_later_ones_dropped(srv: &mut Server) {
    let mut c = srv.client();
    let mut req = multibulk(&["SET", "before", "1"]);
    req.extend(b"*1\r\n$4\r\nPING\r\n*abc\r\n");
    req.extend(multibulk(&["SET", "after", "1"]));
    c.send(&req);
    c.expect_reply("+OK\r\n");
    c.expect_reply("+PONG\r\n");
    c.expect_reply("-ERR Protocol error: invalid multibulk length\r\n");
    c.expect_closed();
    let mut other = srv.client();
    other.expect(&["EXISTS", "before"], ":1\r\n");
    other.expect(&["EXISTS", "after"], ":0\r\n");
}

fn huge_declared_lengths_wait_for_data_without_taking_memory(srv: &mut Server) {
    // Redis accepts counts up to 2^31-1 and bulks up to proto-max-bulk-len (512 MiB)
    // and waits for the data: no reply, the connection stays open, and the memory is
    // not touched before the bytes arrive.
    let rss_before = rss_kib(srv.pid());
    let mut waiting = Vec::new();
    for bad in [
        &b"*2147483647\r\n"[..],
        b"*1048577\r\n$3\r\nSET\r\n",
        b"*1\r\n$536870912\r\n",
        b"*2\r\n$3\r\nGET\r\n$536870912\r\nabc",
    ] {
        for _ in 0..3 {
            let mut c = srv.client();
            c.send(bad);
            waiting.push(c);
        }
    }
    for c in &mut waiting {
        c.expect_silence(Duration::from_millis(100));
    }
    let mut other = srv.client();
    other.expect(&["SET", "k", "v"], "+OK\r\n");
    other.expect(&["GET", "k"], "$1\r\nv\r\n");
    let grown_mib = rss_kib(srv.pid()).saturating_sub(rss_before) / 1024;
    assert!(
        grown_mib < 512,
        "resident memory grew by {grown_mib} MiB for 12 connections that sent no data"
    );
    drop(waiting);
    srv.assert_healthy();
}

fn quit_in_a_pipeline_answers_ok_and_drops_what_follows(srv: &mut Server) {
    let mut c = srv.client();
    let mut req = multibulk(&["SET", "q", "1"]);
    req.extend(multibulk(&["QUIT"]));
    req.extend(multibulk(&["SET", "q", "2"]));
    c.send(&req);
    c.expect_reply("+OK\r\n");
    c.expect_reply("+OK\r\n");
    c.expect_closed();
    srv.client().expect(&["GET", "q"], "$1\r\n1\r\n");
}

fn client_closing_mid_command_leaves_the_server_healthy(srv: &mut Server) {
    for partial in [
        &b"*3\r\n$3\r\nSET\r\n$1\r\nk"[..],
        b"SET k \"unterminated",
        b"*2\r\n$3\r\nGET\r\n$100\r\nab",
    ] {
        let mut c = srv.client();
        c.send(partial);
        c.shutdown_write();
        drop(c);
    }
    srv.assert_healthy();
    srv.client().expect(&["EXISTS", "k"], ":0\r\n");
}

fn thousands_of_pipelined_inline_commands_reply_in_order(srv: &mut Server) {
    const N: usize = 5000;
    let mut req = Vec::new();
    for i in 0..N {
        req.extend(format!("SET inline:{i} {i}\r\nGET inline:{i}\n").as_bytes());
    }
    let mut c = srv.client();
    let mut writer = c.stream().try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(&req));
    for i in 0..N {
        c.expect_reply("+OK\r\n");
        let value = i.to_string();
        c.expect_reply(&format!("${}\r\n{value}\r\n", value.len()));
    }
    sender.join().unwrap().expect("write the pipeline");
}

fn proto_max_bulk_len_set_at_runtime_limits_bulks(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["CONFIG", "SET", "proto-max-bulk-len", "1048576"],
        "+OK\r\n",
    );
    // At the limit: accepted (and waited for).
    let mut at_limit = srv.client();
    at_limit.send(b"*2\r\n$4\r\nECHO\r\n$1048576\r\n");
    at_limit.expect_silence(Duration::from_millis(100));
    let mut rest = vec![b'x'; 1048576];
    rest.extend(b"\r\n");
    at_limit.send(&rest);
    let reply = at_limit.read_reply();
    let mut expected = b"$1048576\r\n".to_vec();
    expected.extend(&rest);
    assert!(
        reply == expected,
        "ECHO of 1 MiB gave {} bytes",
        reply.len()
    );
    // One byte over: a protocol error.
    let mut other = srv.client();
    expect_protocol_error(
        srv,
        &mut other,
        b"*2\r\n$4\r\nECHO\r\n$1048577\r\n",
        "-ERR Protocol error: invalid bulk length\r\n",
    );
}

backend_tests! {
    thousands_of_pipelined_commands_in_one_write_reply_in_order,
    pipelined_batch_split_at_every_byte_boundary_gives_the_same_replies,
    pipelined_batch_sent_one_byte_at_a_time_gives_the_same_replies,
    big_bulk_value_arriving_in_pieces_is_stored_whole,
    inline_ping_replies_pong,
    inline_commands_may_end_with_a_bare_newline,
    inline_double_quotes_group_words_and_take_escapes,
    inline_single_quotes_are_literal_except_an_escaped_quote,
    inline_words_are_split_on_any_run_of_blanks,
    empty_inline_lines_and_empty_multibulks_get_no_reply,
    inline_and_multibulk_commands_mix_in_one_write,
    inline_unbalanced_quotes_are_a_protocol_error,
    bad_multibulk_length_is_a_protocol_error_and_closes_the_connection,
    bad_bulk_length_is_a_protocol_error_and_closes_the_connection,
    multibulk_item_without_dollar_is_a_protocol_error,
    overlong_header_lines_are_protocol_errors,
    commands_before_a_protocol_error_are_answered_and_later_ones_dropped,
    huge_declared_lengths_wait_for_data_without_taking_memory,
    quit_in_a_pipeline_answers_ok_and_drops_what_follows,
    client_closing_mid_command_leaves_the_server_healthy,
    thousands_of_pipelined_inline_commands_reply_in_order,
    proto_max_bulk_len_set_at_runtime_limits_bulks,
}
