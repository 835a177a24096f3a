//! Connection commands over TCP: AUTH, HELLO, RESET and CLIENT (ID, SETNAME, GETNAME,
//! LIST, INFO, KILL, NO-EVICT, REPLY, HELP), on both I/O backends.

#[macro_use]
mod common;
mod fields;

use std::time::{Duration, Instant};

use common::{info_field, Client, Resp, Server};

/// The fields of one CLIENT LIST / CLIENT INFO line, in order.
fn fields(line: &str) -> Vec<(String, String)> {
    fields::pairs(line, ' ')
}

fn field(line: &str, name: &str) -> String {
    fields::value(line, ' ', name)
}

/// CLIENT LIST's lines.
fn client_list(c: &mut Client) -> Vec<String> {
    let text = c.cmd_resp(&["CLIENT", "LIST"]).text();
    assert!(text.ends_with('\n'), "{text:?}");
    text.lines().map(str::to_string).collect()
}

fn client_id(c: &mut Client) -> i64 {
    c.cmd_resp(&["CLIENT", "ID"]).int()
}

/// The CLIENT LIST line of client `id`, if listed.
fn line_of(c: &mut Client, id: i64) -> Option<String> {
    client_list(c)
        .into_iter()
        .find(|l| field(l, "id") == id.to_string())
}

fn client_list_has_redis_fields_in_redis_order(srv: &mut Server) {
    let mut c = connected(srv);
    let id = client_id(&mut c);
    // (The harness' start-up probe may still be listed: pick this client's line.)
    let lines: Vec<String> = client_list(&mut c)
        .into_iter()
        .filter(|l| field(l, "id") == id.to_string())
        .collect();
    assert_eq!(lines.len(), 1);
    let names: Vec<String> = fields(&lines[0]).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names.join(" "),
        "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free \
         argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp"
    );
    let line = &lines[0];
    assert_eq!(field(line, "laddr"), format!("127.0.0.1:{}", srv.port()));
    assert_eq!(
        field(line, "addr"),
        c.stream().local_addr().unwrap().to_string()
    );
    for (name, value) in [
        ("name", ""),
        ("flags", "N"),
        ("db", "0"),
        ("multi", "-1"),
        ("sub", "0"),
        ("qbuf", "26"),
        ("argv-mem", "10"),
        ("obl", "0"),
        ("events", "r"),
        ("cmd", "client|list"),
        ("user", "default"),
        ("redir", "-1"),
        ("resp", "2"),
    ] {
        assert_eq!(field(line, name), value, "{name} in {line}");
    }
}

fn client_info_describes_only_this_connection(srv: &mut Server) {
    let mut other = srv.client();
    other.expect(&["PING"], "+PONG\r\n");
    let mut c = srv.client();
    c.expect(&["SELECT", "3"], "+OK\r\n");
    let info = c.cmd_resp(&["CLIENT", "INFO"]).text();
    assert_eq!(info.matches('\n').count(), 1, "{info:?}");
    assert_eq!(field(&info, "id"), client_id(&mut c).to_string());
    assert_eq!(field(&info, "db"), "3");
    assert_eq!(field(&info, "cmd"), "client|info");
}

fn client_list_shows_other_connections_name_db_and_last_command(srv: &mut Server) {
    let mut a = srv.client();
    a.expect(&["CLIENT", "SETNAME", "worker-a"], "+OK\r\n");
    a.expect(&["SELECT", "5"], "+OK\r\n");
    a.expect(&["SET", "k", "v"], "+OK\r\n");
    a.expect(&["MULTI"], "+OK\r\n");
    a.expect(&["GET", "k"], "+QUEUED\r\n");
    let id = client_id_of(srv, "worker-a");
    let mut b = srv.client();
    let line = line_of(&mut b, id).expect("a is listed");
    assert_eq!(field(&line, "name"), "worker-a");
    assert_eq!(field(&line, "db"), "5");
    assert_eq!(field(&line, "cmd"), "get");
    assert_eq!(field(&line, "flags"), "x");
    assert_eq!(field(&line, "multi"), "1");
    // A new connection has run nothing yet.
    let fresh = srv.client();
    drop(fresh);
    let mut d = srv.client();
    let mine = d.cmd_resp(&["CLIENT", "INFO"]).text();
    assert_eq!(field(&mine, "cmd"), "client|info");
}

fn client_list_filters_by_type_and_id(srv: &mut Server) {
    let mut c = srv.client();
    let mut other = srv.client();
    let id = client_id(&mut c);
    let other_id = client_id(&mut other);
    let text = c
        .cmd_resp(&[
            "CLIENT",
            "LIST",
            "ID",
            &other_id.to_string(),
            "999999",
            &id.to_string(),
        ])
        .text();
    let ids: Vec<String> = text.lines().map(|l| field(l, "id")).collect();
    assert_eq!(ids, vec![other_id.to_string(), id.to_string()]);
    assert!(
        c.cmd_resp(&["CLIENT", "LIST", "TYPE", "normal"])
            .text()
            .lines()
            .count()
            >= 2
    );
    for kind in ["master", "replica", "slave", "pubsub", "PUBSUB"] {
        c.expect(&["CLIENT", "LIST", "TYPE", kind], "$0\r\n\r\n");
    }
    c.expect(
        &["CLIENT", "LIST", "TYPE", "foo"],
        "-ERR Unknown client type 'foo'\r\n",
    );
    c.expect(
        &["CLIENT", "LIST", "ID", "abc"],
        "-ERR Invalid client ID\r\n",
    );
    c.expect(&["CLIENT", "LIST", "ID"], "-ERR syntax error\r\n");
    c.expect(&["CLIENT", "LIST", "foo", "bar"], "-ERR syntax error\r\n");
    c.expect(
        &["CLIENT", "LIST", "TYPE", "normal", "x"],
        "-ERR syntax error\r\n",
    );
}

fn client_setname_validates_and_getname_returns_it(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["CLIENT", "GETNAME"], "$-1\r\n");
    c.expect(&["CLIENT", "SETNAME", "my-name"], "+OK\r\n");
    c.expect(&["CLIENT", "GETNAME"], "$7\r\nmy-name\r\n");
    for bad in ["foo bar", "a\nb", "caf\u{e9}", "tab\there"] {
        c.expect(
            &["CLIENT", "SETNAME", bad],
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
        );
    }
    c.expect(&["CLIENT", "GETNAME"], "$7\r\nmy-name\r\n");
    c.expect(&["CLIENT", "SETNAME", ""], "+OK\r\n");
    c.expect(&["CLIENT", "GETNAME"], "$-1\r\n");
    c.expect(
        &["CLIENT", "SETNAME"],
        "-ERR wrong number of arguments for 'client|setname' command\r\n",
    );
    c.expect(
        &["CLIENT", "ID", "x"],
        "-ERR wrong number of arguments for 'client|id' command\r\n",
    );
    c.expect(
        &["CLIENT", "FOO"],
        "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n",
    );
}

fn client_id_is_unique_and_increasing(srv: &mut Server) {
    let mut a = connected(srv);
    let mut b = connected(srv);
    let (ia, ib) = (client_id(&mut a), client_id(&mut b));
    assert!(ib > ia && ia > 0, "{ia} {ib}");
    assert_eq!(client_id(&mut a), ia);
}

fn client_kill_closes_connections_on_every_worker_thread(srv: &mut Server) {
    // Several idle connections, spread by the kernel over both workers' listeners.
    let mut victims: Vec<Client> = (0..6).map(|_| srv.client()).collect();
    let ids: Vec<i64> = victims.iter_mut().map(client_id).collect();
    let mut killer = srv.client();
    for (victim, id) in victims.iter_mut().zip(&ids) {
        let started = Instant::now();
        killer.expect(&["CLIENT", "KILL", "ID", &id.to_string()], ":1\r\n");
        victim.set_timeout(Duration::from_secs(5));
        victim.expect_closed();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "kill took {:?}",
            started.elapsed()
        );
        assert!(
            line_of(&mut killer, *id).is_none(),
            "killed client still listed"
        );
    }
    killer.expect(&["PING"], "+PONG\r\n");
}

fn client_kill_wakes_a_client_blocked_in_blpop(srv: &mut Server) {
    let mut blocked = srv.client();
    let id = client_id(&mut blocked);
    blocked.send_cmd(&["BLPOP", "nothing", "0"]);
    let mut killer = srv.client();
    common::wait_for(Duration::from_secs(5), "the BLPOP to block", || {
        let line = line_of(&mut killer, id)?;
        (field(&line, "cmd") == "blpop").then_some(())
    });
    killer.expect(&["CLIENT", "KILL", "ID", &id.to_string()], ":1\r\n");
    blocked.expect_closed();
    // The key wait was released: a push is not delivered to the dead client.
    killer.expect(&["LPUSH", "nothing", "x"], ":1\r\n");
    killer.expect(&["LLEN", "nothing"], ":1\r\n");
}

fn client_kill_old_form_by_address(srv: &mut Server) {
    let mut victim = connected(srv);
    let addr = victim.stream().local_addr().unwrap().to_string();
    let mut c = srv.client();
    c.expect(
        &["CLIENT", "KILL", "127.0.0.1:1"],
        "-ERR No such client\r\n",
    );
    c.expect(&["CLIENT", "KILL", &addr], "+OK\r\n");
    victim.expect_closed();
    // The old form may kill the caller itself: the reply comes first.
    let mine = c.stream().local_addr().unwrap().to_string();
    c.expect(&["CLIENT", "KILL", &mine], "+OK\r\n");
    c.expect_closed();
}

fn client_kill_filters(srv: &mut Server) {
    let mut victim = connected(srv);
    let victim_addr = victim.stream().local_addr().unwrap().to_string();
    let mut c = srv.client();
    c.expect(&["CLIENT", "KILL", "ADDR", "127.0.0.1:1"], ":0\r\n");
    c.expect(&["CLIENT", "KILL", "TYPE", "pubsub"], ":0\r\n");
    c.expect(&["CLIENT", "KILL", "TYPE", "master"], ":0\r\n");
    c.expect(&["CLIENT", "KILL", "LADDR", "1.1.1.1:1"], ":0\r\n");
    c.expect(
        &["CLIENT", "KILL", "USER", "default", "ADDR", &victim_addr],
        ":1\r\n",
    );
    victim.expect_closed();
    let mut second = connected(srv);
    let laddr = format!("127.0.0.1:{}", srv.port());
    // SKIPME defaults to yes: everyone else on this local address.
    c.expect(&["CLIENT", "KILL", "LADDR", &laddr], ":1\r\n");
    second.expect_closed();
    c.expect(&["PING"], "+PONG\r\n");
}

fn client_kill_errors_match_redis(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["CLIENT", "KILL"],
        "-ERR wrong number of arguments for 'client|kill' command\r\n",
    );
    c.expect(
        &["CLIENT", "KILL", "ID", "10", "wrong_arg"],
        "-ERR syntax error\r\n",
    );
    for bad in ["str", "-1", "0"] {
        c.expect(
            &["CLIENT", "KILL", "ID", bad],
            "-ERR client-id should be greater than 0\r\n",
        );
    }
    c.expect(
        &["CLIENT", "KILL", "TYPE", "wrong_type"],
        "-ERR Unknown client type 'wrong_type'\r\n",
    );
    c.expect(
        &["CLIENT", "KILL", "USER", "wrong_user"],
        "-ERR No such user 'wrong_user'\r\n",
    );
    c.expect(
        &["CLIENT", "KILL", "SKIPME", "yes_or_no"],
        "-ERR syntax error\r\n",
    );
    c.expect(&["CLIENT", "KILL", "MAXAGE", "1"], "-ERR syntax error\r\n");
    c.expect(&["CLIENT", "KILL", "a", "b", "c"], "-ERR syntax error\r\n");
}

fn client_kill_skipme_no_kills_the_caller_after_its_reply(srv: &mut Server) {
    let mut others: Vec<Client> = (0..2).map(|_| connected(srv)).collect();
    let mut c = srv.client();
    common::wait_for(Duration::from_secs(5), "3 connected clients", || {
        let info = c.cmd(&["INFO", "clients"]);
        (info_field(&info, "connected_clients").as_deref() == Some("3")).then_some(())
    });
    c.expect(&["CLIENT", "KILL", "SKIPME", "no"], ":3\r\n");
    c.expect_closed();
    for other in &mut others {
        other.expect_closed();
    }
    let mut fresh = srv.client();
    fresh.expect(&["PING"], "+PONG\r\n");
}

fn client_reply_off_skip_and_on(srv: &mut Server) {
    let mut c = srv.client();
    c.send_cmd(&["CLIENT", "REPLY", "OFF"]);
    c.send_cmd(&["PING", "silenced"]);
    c.send_cmd(&["SET", "k", "v"]);
    c.expect(&["CLIENT", "REPLY", "ON"], "+OK\r\n");
    c.expect(&["GET", "k"], "$1\r\nv\r\n");
    c.send_cmd(&["CLIENT", "REPLY", "SKIP"]);
    c.send_cmd(&["PING", "skipped"]);
    c.expect(&["PING", "shown"], "$5\r\nshown\r\n");
    // ON right after SKIP cancels the skip and answers.
    c.send_cmd(&["CLIENT", "REPLY", "SKIP"]);
    c.expect(&["CLIENT", "REPLY", "ON"], "+OK\r\n");
    c.expect(&["PING"], "+PONG\r\n");
    c.expect(&["CLIENT", "REPLY", "maybe"], "-ERR syntax error\r\n");
}

fn client_reply_off_also_silences_a_blocked_command(srv: &mut Server) {
    let mut c = connected(srv);
    let id = client_id(&mut c);
    // One batch: PING's reply is written before the BLPOP waits.
    let mut batch = common::multibulk(&["PING"]);
    batch.extend(common::multibulk(&["CLIENT", "REPLY", "OFF"]));
    batch.extend(common::multibulk(&["BLPOP", "list", "0"]));
    c.send(&batch);
    c.expect_reply("+PONG\r\n");
    let mut other = srv.client();
    common::wait_for(Duration::from_secs(5), "the BLPOP to block", || {
        let line = line_of(&mut other, id)?;
        (field(&line, "flags") == "b").then_some(())
    });
    other.expect(&["RPUSH", "list", "x"], ":1\r\n");
    c.expect(&["CLIENT", "REPLY", "ON"], "+OK\r\n");
    other.expect(&["LLEN", "list"], ":0\r\n");
}

fn client_no_evict_sets_the_e_flag(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["CLIENT", "NO-EVICT", "on"], "+OK\r\n");
    let info = c.cmd_resp(&["CLIENT", "INFO"]).text();
    assert_eq!(field(&info, "flags"), "e");
    c.expect(&["CLIENT", "NO-EVICT", "OFF"], "+OK\r\n");
    let info = c.cmd_resp(&["CLIENT", "INFO"]).text();
    assert_eq!(field(&info, "flags"), "N");
    c.expect(&["CLIENT", "NO-EVICT", "maybe"], "-ERR syntax error\r\n");
    c.expect(
        &["CLIENT", "NO-EVICT"],
        "-ERR wrong number of arguments for 'client|no-evict' command\r\n",
    );
}

fn client_help_lists_subcommands(srv: &mut Server) {
    let mut c = srv.client();
    let help = c.cmd_resp(&["CLIENT", "HELP"]);
    let lines: Vec<String> = help.items().iter().map(Resp::text).collect();
    assert_eq!(
        lines[0],
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    for sub in [
        "ID",
        "SETNAME <name>",
        "GETNAME",
        "INFO",
        "KILL <ip:port>",
        "REPLY (ON|OFF|SKIP)",
        "NO-EVICT (ON|OFF)",
    ] {
        assert!(
            lines.iter().any(|l| l == sub),
            "{sub} missing from {lines:?}"
        );
    }
    assert_eq!(lines[lines.len() - 1], "    Prints this help.");
}

fn hello_replies_the_server_map_in_resp2(srv: &mut Server) {
    let mut c = srv.client();
    let id = client_id(&mut c);
    for args in [&["HELLO"][..], &["HELLO", "2"]] {
        let expected = format!(
            "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
             $5\r\nproto\r\n:2\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n\
             $4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
        );
        c.expect(args, &expected);
    }
    if common::testing_ringkv() {
        // ringkv speaks RESP2 only; Redis would switch to RESP3 here.
        c.expect(&["HELLO", "3"], "-NOPROTO unsupported protocol version\r\n");
    }
    c.expect(&["HELLO", "1"], "-NOPROTO unsupported protocol version\r\n");
    c.expect(
        &["HELLO", "abc"],
        "-ERR Protocol version is not an integer or out of range\r\n",
    );
    c.expect(
        &["HELLO", "2", "foo"],
        "-ERR Syntax error in HELLO option 'foo'\r\n",
    );
    c.expect(
        &["HELLO", "2", "AUTH", "a"],
        "-ERR Syntax error in HELLO option 'AUTH'\r\n",
    );
    c.expect(
        &["HELLO", "2", "SETNAME", "a b"],
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
    );
    let reply = c.cmd_resp(&["HELLO", "2", "SETNAME", "hello-name"]);
    assert_eq!(reply.items().len(), 14);
    c.expect(&["CLIENT", "GETNAME"], "$10\r\nhello-name\r\n");
}

fn auth_and_hello_with_a_password(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["GET", "k"], "-NOAUTH Authentication required.\r\n");
    c.expect(&["CLIENT", "ID"], "-NOAUTH Authentication required.\r\n");
    c.expect(
        &["HELLO", "2"],
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the \
         HELLO AUTH <user> <pass> option can be used to authenticate the client and \
         select the RESP protocol version at the same time\r\n",
    );
    let wrongpass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    c.expect(&["AUTH", "wrong"], wrongpass);
    c.expect(&["AUTH", "default", "wrong"], wrongpass);
    c.expect(&["AUTH", "nobody", "secret"], wrongpass);
    c.expect(&["HELLO", "2", "AUTH", "default", "wrong"], wrongpass);
    c.expect(&["GET", "k"], "-NOAUTH Authentication required.\r\n");
    let reply = c.cmd_resp(&["HELLO", "2", "AUTH", "default", "secret", "SETNAME", "n"]);
    assert_eq!(reply.items()[1].text(), "redis");
    c.expect(&["GET", "k"], "$-1\r\n");
    c.expect(&["CLIENT", "GETNAME"], "$1\r\nn\r\n");
    // RESET asks for the password again.
    c.expect(&["RESET"], "+RESET\r\n");
    c.expect(&["GET", "k"], "-NOAUTH Authentication required.\r\n");
    c.expect(&["AUTH", "default", "secret"], "+OK\r\n");
    c.expect(&["AUTH", "secret"], "+OK\r\n");
    c.expect(&["GET", "k"], "$-1\r\n");
}

fn auth_without_a_password_configured(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["AUTH", "x"],
        "-ERR AUTH <password> called without any password configured for the default user. \
         Are you sure your configuration is correct?\r\n",
    );
    c.expect(&["AUTH", "default", "anything"], "+OK\r\n");
    c.expect(&["AUTH", "a", "b", "c"], "-ERR syntax error\r\n");
}

fn reset_restores_a_fresh_connection(srv: &mut Server) {
    let mut c = srv.client();
    let id = client_id(&mut c);
    c.expect(&["SELECT", "4"], "+OK\r\n");
    c.expect(&["CLIENT", "SETNAME", "before"], "+OK\r\n");
    c.expect(&["CLIENT", "NO-EVICT", "on"], "+OK\r\n");
    c.expect(&["MULTI"], "+OK\r\n");
    c.expect(&["SET", "k", "v"], "+QUEUED\r\n");
    c.expect(&["RESET"], "+RESET\r\n");
    c.expect(&["EXEC"], "-ERR EXEC without MULTI\r\n");
    c.expect(&["CLIENT", "GETNAME"], "$-1\r\n");
    let info = c.cmd_resp(&["CLIENT", "INFO"]).text();
    assert_eq!(field(&info, "db"), "0");
    // Redis 7.0 keeps NO-EVICT across RESET.
    assert_eq!(field(&info, "flags"), "e");
    assert_eq!(client_id(&mut c), id, "RESET keeps the connection");
    c.expect(&["EXISTS", "k"], ":0\r\n");
    c.expect(
        &["RESET", "x"],
        "-ERR wrong number of arguments for 'reset' command\r\n",
    );
}

/// A new client the server has certainly accepted (it answered a PING): a connect alone
/// can complete before the server accepts it.
fn connected(srv: &Server) -> Client {
    let mut c = srv.client();
    c.expect(&["PING"], "+PONG\r\n");
    c
}

/// The id of the listed client named `name`.
fn client_id_of(srv: &Server, name: &str) -> i64 {
    let mut c = srv.client();
    let line = client_list(&mut c)
        .into_iter()
        .find(|l| field(l, "name") == name)
        .unwrap_or_else(|| panic!("no client named {name}"));
    field(&line, "id").parse().unwrap()
}

backend_tests! {
    client_list_has_redis_fields_in_redis_order,
    client_info_describes_only_this_connection,
    client_list_shows_other_connections_name_db_and_last_command,
    client_list_filters_by_type_and_id,
    client_setname_validates_and_getname_returns_it,
    client_id_is_unique_and_increasing,
    client_kill_closes_connections_on_every_worker_thread with [("threads", "2")],
    client_kill_wakes_a_client_blocked_in_blpop,
    client_kill_old_form_by_address,
    client_kill_filters,
    client_kill_errors_match_redis,
    client_kill_skipme_no_kills_the_caller_after_its_reply,
    client_reply_off_skip_and_on,
    client_reply_off_also_silences_a_blocked_command,
    client_no_evict_sets_the_e_flag,
    client_help_lists_subcommands,
    hello_replies_the_server_map_in_resp2,
    auth_and_hello_with_a_password with [("requirepass", "secret")],
    auth_without_a_password_configured,
    reset_restores_a_fresh_connection,
}
