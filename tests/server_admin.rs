//! Server commands over TCP: TIME, COMMAND GETKEYS / GETKEYSANDFLAGS, INFO commandstats,
//! errorstats and sections, CONFIG RESETSTAT, DEBUG, MONITOR and SHUTDOWN, on both I/O
//! backends.

#[macro_use]
mod common;
mod fields;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{info_field, info_fields, testing_ringkv, Client, Resp, Server};

fn info(c: &mut Client, section: &str) -> Vec<u8> {
    c.cmd(&["INFO", section])
}

/// `cmdstat_<name>`'s value in INFO commandstats, if listed.
fn cmdstat(c: &mut Client, name: &str) -> Option<String> {
    info_field(&info(c, "commandstats"), &format!("cmdstat_{name}"))
}

/// The counters of a `calls=1,usec=2,usec_per_call=2.00,rejected_calls=0,failed_calls=0`.
fn counters(stat: &str) -> Vec<(String, String)> {
    fields::pairs(stat, ',')
}

fn counter(stat: &str, name: &str) -> String {
    fields::value(stat, ',', name)
}

/// Section titles of an INFO reply, in order.
fn sections(reply: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(reply)
        .split("\r\n")
        .filter_map(|l| l.strip_prefix("# ").map(str::to_string))
        .collect()
}

const DEBUG_ON: (&str, &str) = ("enable-debug-command", "yes");

fn time_returns_unix_seconds_and_microseconds(srv: &mut Server) {
    let mut c = srv.client();
    let reply = c.cmd_resp(&["TIME"]);
    let items = reply.items();
    assert_eq!(items.len(), 2);
    let secs: u64 = items[0].text().parse().unwrap();
    let micros: u64 = items[1].text().parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2, "{secs} vs {now}");
    assert!(micros < 1_000_000);
    c.expect(
        &["TIME", "x"],
        "-ERR wrong number of arguments for 'time' command\r\n",
    );
}

fn command_getkeys_uses_the_key_positions(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["COMMAND", "GETKEYS", "GET", "key"], "*1\r\n$3\r\nkey\r\n");
    c.expect(
        &["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"],
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYS", "mset", "a", "b", "c"],
        "*2\r\n$1\r\na\r\n$1\r\nc\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYS", "blpop", "l1", "l2", "0"],
        "*2\r\n$2\r\nl1\r\n$2\r\nl2\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYS", "del", "a", "b", "c"],
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYS", "nosuch", "a"],
        "-ERR Invalid command specified\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYS", "config", "foo"],
        "-ERR Invalid command specified\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYS", "config", "get", "x"],
        "-ERR The command has no key arguments\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYS", "echo", "a"],
        "-ERR The command has no key arguments\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYS", "set", "a"],
        "-ERR Invalid number of arguments specified for command\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYS", "get", "a", "b"],
        "-ERR Invalid number of arguments specified for command\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYS", "get"],
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
    );
}

fn command_getkeysandflags_reports_key_spec_flags(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["COMMAND", "GETKEYSANDFLAGS", "get", "k"],
        "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1"],
        "*1\r\n*2\r\n$2\r\nk1\r\n*2\r\n+OW\r\n+update\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1", "GET"],
        "*1\r\n*2\r\n$2\r\nk1\r\n*3\r\n+RW\r\n+access\r\n+update\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYSANDFLAGS", "mset", "k1", "v1", "k2", "v2"],
        "*2\r\n*2\r\n$2\r\nk1\r\n*2\r\n+OW\r\n+update\r\n*2\r\n$2\r\nk2\r\n*2\r\n+OW\r\n+update\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYSANDFLAGS", "del", "k"],
        "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RM\r\n+delete\r\n",
    );
    c.expect(
        &["COMMAND", "GETKEYSANDFLAGS", "lpush", "k", "x"],
        "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RW\r\n+insert\r\n",
    );
}

fn commandstats_count_calls_failures_and_rejections(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["CONFIG", "RESETSTAT"], "+OK\r\n");
    c.expect(&["SET", "foo", "bar"], "+OK\r\n");
    c.expect(
        &["SET", "foo", "bar", "EX", "0"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
    c.expect(
        &["GET"],
        "-ERR wrong number of arguments for 'get' command\r\n",
    );
    c.expect(
        &["LPUSH", "foo", "x"],
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    c.expect(
        &["CONFIG", "NOSUCH"],
        "-ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.\r\n",
    );
    let set = cmdstat(&mut c, "set").expect("set listed");
    assert_eq!(
        counters(&set)
            .into_iter()
            .map(|(k, _)| k)
            .collect::<Vec<_>>(),
        [
            "calls",
            "usec",
            "usec_per_call",
            "rejected_calls",
            "failed_calls"
        ]
    );
    assert_eq!(counter(&set, "calls"), "2");
    assert_eq!(counter(&set, "failed_calls"), "1");
    assert_eq!(counter(&set, "rejected_calls"), "0");
    let get = cmdstat(&mut c, "get").expect("a rejected GET is listed");
    assert_eq!(
        (
            counter(&get, "calls").as_str(),
            counter(&get, "rejected_calls").as_str()
        ),
        ("0", "1")
    );
    assert_eq!(
        counter(&cmdstat(&mut c, "lpush").unwrap(), "failed_calls"),
        "1"
    );
    assert_eq!(
        counter(&cmdstat(&mut c, "config|resetstat").unwrap(), "calls"),
        "1"
    );
    assert!(
        cmdstat(&mut c, "del").is_none(),
        "commands never called are not listed"
    );
    assert!(cmdstat(&mut c, "config").is_none());
    let per_call = counter(&set, "usec_per_call");
    assert!(
        per_call.split_once('.').is_some_and(|(_, d)| d.len() == 2),
        "{per_call}"
    );
    // CONFIG RESETSTAT forgets everything but itself.
    c.expect(&["CONFIG", "RESETSTAT"], "+OK\r\n");
    assert!(cmdstat(&mut c, "set").is_none());
    assert!(cmdstat(&mut c, "get").is_none());
}

fn commandstats_count_commands_run_by_exec(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["CONFIG", "RESETSTAT"], "+OK\r\n");
    c.expect(&["MULTI"], "+OK\r\n");
    c.expect(&["SET", "foo", "bar"], "+QUEUED\r\n");
    c.expect(&["EXPIRE", "foo", "0"], "+QUEUED\r\n");
    c.expect(&["EXEC"], "*2\r\n+OK\r\n:1\r\n");
    for name in ["multi", "exec", "set", "expire"] {
        let stat = cmdstat(&mut c, name).unwrap_or_else(|| panic!("{name} listed"));
        assert_eq!(counter(&stat, "calls"), "1", "{name}");
    }
    assert!(cmdstat(&mut c, "del").is_none());
}

fn errorstats_count_error_codes(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["CONFIG", "RESETSTAT"], "+OK\r\n");
    c.expect(&["SET", "foo", "1"], "+OK\r\n");
    c.expect(
        &["LPUSH", "foo", "x"],
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    c.cmd(&["NOSUCHCOMMAND"]);
    c.cmd(&["GET"]);
    let reply = info(&mut c, "errorstats");
    assert_eq!(sections(&reply), ["Errorstats"]);
    assert_eq!(
        info_fields(&reply),
        [
            ("errorstat_ERR".to_string(), "count=2".to_string()),
            ("errorstat_WRONGTYPE".to_string(), "count=1".to_string()),
        ]
    );
    assert_eq!(
        info_field(&info(&mut c, "stats"), "total_error_replies").as_deref(),
        Some("3")
    );
    c.expect(&["CONFIG", "RESETSTAT"], "+OK\r\n");
    assert!(info_fields(&info(&mut c, "errorstats")).is_empty());
    assert_eq!(
        info_field(&info(&mut c, "stats"), "total_error_replies").as_deref(),
        Some("0")
    );
}

fn info_sections_follow_redis_defaults(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    let default = [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Modules",
        "Errorstats",
        "Cluster",
        "Keyspace",
    ];
    assert_eq!(sections(&c.cmd(&["INFO"])), default);
    assert_eq!(sections(&c.cmd(&["INFO", "default"])), default);
    for all in ["all", "everything", "ALL"] {
        let reply = c.cmd(&["INFO", all]);
        let titles = sections(&reply);
        assert!(
            titles.contains(&"Commandstats".to_string()),
            "{all}: {titles:?}"
        );
        assert!(String::from_utf8_lossy(&reply).contains("rejected_calls"));
    }
    assert_eq!(
        sections(&c.cmd(&["INFO", "cpu", "SERVER"])),
        ["Server", "CPU"]
    );
    assert_eq!(
        sections(&c.cmd(&["INFO", "commandSTATS"])),
        ["Commandstats"]
    );
    assert_eq!(sections(&c.cmd(&["INFO", "cpu", "cpu"])), ["CPU"]);
    c.expect(&["INFO", "nosuchsection"], "$0\r\n\r\n");
}

fn info_keyspace_lists_databases_with_keys(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["INFO", "keyspace"], "$12\r\n# Keyspace\r\n\r\n");
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["SET", "b", "1", "EX", "1000"], "+OK\r\n");
    c.expect(&["SELECT", "3"], "+OK\r\n");
    c.expect(&["SET", "c", "1"], "+OK\r\n");
    let reply = info(&mut c, "keyspace");
    let fields = info_fields(&reply);
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[0].0, "db0");
    assert!(
        fields[0].1.starts_with("keys=2,expires=1,avg_ttl="),
        "{}",
        fields[0].1
    );
    assert_eq!(
        fields[1],
        ("db3".to_string(), "keys=1,expires=0,avg_ttl=0".to_string())
    );
}

fn debug_is_refused_unless_enabled(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["DEBUG", "SLEEP", "0"],
        "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \
         \"local\", you can run it from a local connection, otherwise you need to set this \
         option in the configuration file, and then restart the server.\r\n",
    );
}

fn debug_set_active_expire_stops_background_expiry(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"], "+OK\r\n");
    for i in 0..20 {
        c.expect(&["SET", &format!("k{i}"), "v", "PX", "1"], "+OK\r\n");
    }
    std::thread::sleep(Duration::from_millis(400));
    // Nothing read the keys and the cycle is off: they are still counted.
    c.expect(&["DBSIZE"], ":20\r\n");
    c.expect(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"], "+OK\r\n");
    common::wait_for(
        Duration::from_secs(5),
        "the active cycle to expire the keys",
        || (c.cmd(&["DBSIZE"]) == b":0\r\n").then_some(()),
    );
}

fn debug_sleep_pauses_only_the_calling_client(srv: &mut Server) {
    let mut sleeper = srv.client();
    let mut other = srv.client();
    other.expect(&["PING"], "+PONG\r\n");
    let started = Instant::now();
    sleeper.send_cmd(&["DEBUG", "SLEEP", "0.6"]);
    sleeper.send_cmd(&["PING"]);
    std::thread::sleep(Duration::from_millis(50));
    if testing_ringkv() {
        // Same worker thread, yet not blocked (Redis would block everyone).
        other.expect(&["PING"], "+PONG\r\n");
        assert!(started.elapsed() < Duration::from_millis(500));
    }
    sleeper.expect_reply("+OK\r\n");
    sleeper.expect_reply("+PONG\r\n");
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    sleeper.expect(&["DEBUG", "SLEEP", "0"], "+OK\r\n");
    sleeper.expect(&["DEBUG", "SLEEP", "abc"], "+OK\r\n");
}

fn debug_help_and_errors(srv: &mut Server) {
    let mut c = srv.client();
    let help = c.cmd_resp(&["DEBUG", "HELP"]);
    let lines: Vec<String> = help.items().iter().map(Resp::text).collect();
    assert_eq!(
        lines[0],
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    for line in ["SLEEP <seconds>", "SET-ACTIVE-EXPIRE <0|1>", "HELP"] {
        assert!(lines.iter().any(|l| l == line), "{line} in {lines:?}");
    }
    c.expect(
        &["DEBUG", "foo"],
        "-ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP.\r\n",
    );
    c.expect(
        &["DEBUG", "sleep"],
        "-ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP.\r\n",
    );
    c.expect(&["DEBUG", "set-active-expire", "1", "2"], "-ERR unknown subcommand or wrong number of arguments for 'set-active-expire'. Try DEBUG HELP.\r\n");
    c.expect(
        &["DEBUG"],
        "-ERR wrong number of arguments for 'debug' command\r\n",
    );
    if testing_ringkv() {
        c.expect(
            &["DEBUG", "reload"],
            "-ERR DEBUG RELOAD is not supported by ringkv\r\n",
        );
    }
}

fn monitor_shows_every_client_command(srv: &mut Server) {
    let mut monitor = srv.client();
    monitor.expect(&["MONITOR"], "+OK\r\n");
    let mut c = srv.client();
    c.expect(&["SET", "foo", "a b\"\\\n\x01"], "+OK\r\n");
    c.expect(&["SELECT", "2"], "+OK\r\n");
    c.expect(&["get", "foo"], "$-1\r\n");
    c.cmd(&["AUTH", "secret"]);
    c.cmd(&["CONFIG", "GET", "port"]);
    c.expect(&["PING"], "+PONG\r\n");
    let addr = c.stream().local_addr().unwrap().to_string();
    let expected = [
        format!("[0 {addr}] \"SET\" \"foo\" \"a b\\\"\\\\\\n\\x01\""),
        format!("[2 {addr}] \"SELECT\" \"2\""),
        format!("[2 {addr}] \"get\" \"foo\""),
        format!("[2 {addr}] \"AUTH\" \"(redacted)\""),
        // CONFIG is an admin command: not shown.
        format!("[2 {addr}] \"PING\""),
    ];
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for want in expected {
        let line = String::from_utf8(monitor.read_reply()).unwrap();
        let line = line
            .strip_prefix('+')
            .and_then(|l| l.strip_suffix("\r\n"))
            .expect(&line);
        let (stamp, rest) = line.split_once(' ').unwrap();
        let (secs, micros) = stamp.split_once('.').unwrap();
        assert_eq!(micros.len(), 6, "{line}");
        assert!((stamp.parse::<f64>().unwrap() - now).abs() < 5.0, "{line}");
        assert!(secs.parse::<u64>().is_ok());
        assert_eq!(rest, want);
    }
    // A second MONITOR gets no reply; the monitor still answers commands.
    monitor.send_cmd(&["MONITOR"]);
    monitor.send_cmd(&["CLIENT", "ID"]);
    let id = Resp::parse(&monitor.read_reply()).int();
    let listed = c
        .cmd_resp(&["CLIENT", "LIST", "ID", &id.to_string()])
        .text();
    assert!(listed.contains(" flags=O "), "{listed}");
}

fn monitor_orders_multi_exec_and_is_refused_inside_exec(srv: &mut Server) {
    let mut monitor = srv.client();
    monitor.expect(&["MONITOR"], "+OK\r\n");
    let mut c = srv.client();
    c.expect(&["MULTI"], "+OK\r\n");
    c.expect(&["SET", "foo", "bar"], "+QUEUED\r\n");
    c.expect(&["EXEC"], "*1\r\n+OK\r\n");
    c.expect(&["MULTI"], "+OK\r\n");
    c.cmd(&["syntax", "error"]);
    c.cmd(&["EXEC"]);
    for want in [
        "\"MULTI\"",
        "\"SET\" \"foo\" \"bar\"",
        "\"EXEC\"",
        "\"MULTI\"",
        "\"EXEC\"",
    ] {
        let line = String::from_utf8(monitor.read_reply()).unwrap();
        assert!(
            line.ends_with(&format!("] {want}\r\n")),
            "{line:?} for {want}"
        );
    }
    c.expect(&["MULTI"], "+OK\r\n");
    c.expect(&["MONITOR"], "+QUEUED\r\n");
    c.expect(
        &["EXEC"],
        "*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n",
    );
}

fn reset_ends_monitor_mode(srv: &mut Server) {
    let mut monitor = srv.client();
    monitor.expect(&["MONITOR"], "+OK\r\n");
    monitor.expect(&["RESET"], "+RESET\r\n");
    let mut c = srv.client();
    c.expect(&["SET", "k", "v"], "+OK\r\n");
    monitor.expect_silence(Duration::from_millis(200));
    monitor.expect(&["PING"], "+PONG\r\n");
}

fn shutdown_refuses_bad_combinations(srv: &mut Server) {
    let mut c = srv.client();
    for args in [
        &["SHUTDOWN", "NOSAVE", "SAVE"][..],
        &["SHUTDOWN", "ABORT", "NOW"],
        &["SHUTDOWN", "foo"],
    ] {
        c.expect(args, "-ERR syntax error\r\n");
    }
    c.expect(&["SHUTDOWN", "ABORT"], "-ERR No shutdown in progress.\r\n");
    c.expect(&["MULTI"], "+OK\r\n");
    c.expect(
        &["SHUTDOWN"],
        "-ERR Command not allowed inside a transaction\r\n",
    );
    c.expect(
        &["EXEC"],
        "-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    srv.assert_healthy();
}

fn shutdown_ends_the_process(srv: &mut Server) {
    shutdown_and_read_log(
        srv,
        &["SHUTDOWN", "NOSAVE", "NOW"],
        "User requested shutdown...",
    );
}

fn shutdown_save_writes_the_dump(srv: &mut Server) {
    shutdown_and_read_log(srv, &["SHUTDOWN", "SAVE"], "DB saved on disk");
    assert!(srv.dir().join("dump.rdb").exists());
}

fn config_set_of_startup_parameters_to_their_value_is_accepted(srv: &mut Server) {
    let mut c = srv.client();
    let port = srv.port().to_string();
    c.expect(&["CONFIG", "SET", "port", &port], "+OK\r\n");
    c.expect(
        &["CONFIG", "SET", "bind", "127.0.0.1", "maxmemory", "5mb"],
        "+OK\r\n",
    );
    c.expect(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$7\r\n5242880\r\n",
    );
    // A port someone else listens on cannot be taken; nothing else changes.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    let reply =
        String::from_utf8(c.cmd(&["CONFIG", "SET", "maxmemory", "1", "port", &busy_port])).unwrap();
    assert!(
        reply.starts_with("-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port"),
        "{reply}"
    );
    c.expect(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$7\r\n5242880\r\n",
    );
    c.expect(
        &["CONFIG", "GET", "port"],
        &format!("*2\r\n$4\r\nport\r\n${}\r\n{port}\r\n", port.len()),
    );
}

/// Sends a SHUTDOWN, checks the connection closes without a reply and the process exits,
/// and (for ringkv) that its log says `logged`.
fn shutdown_and_read_log(srv: &mut common::Server, shutdown: &[&str], logged: &str) {
    let mut c = srv.client();
    c.send_cmd(shutdown);
    c.expect_closed();
    common::wait_for(Duration::from_secs(5), "the server to exit", || {
        (!srv.is_running()).then_some(())
    });
    if testing_ringkv() {
        assert!(srv.log().contains(logged), "{}", srv.log());
    }
}

backend_tests! {
    time_returns_unix_seconds_and_microseconds,
    command_getkeys_uses_the_key_positions,
    command_getkeysandflags_reports_key_spec_flags,
    commandstats_count_calls_failures_and_rejections,
    commandstats_count_commands_run_by_exec,
    errorstats_count_error_codes,
    info_sections_follow_redis_defaults,
    info_keyspace_lists_databases_with_keys,
    debug_is_refused_unless_enabled,
    debug_set_active_expire_stops_background_expiry with [DEBUG_ON],
    debug_sleep_pauses_only_the_calling_client with [DEBUG_ON, ("threads", "1")],
    debug_help_and_errors with [DEBUG_ON],
    monitor_shows_every_client_command,
    monitor_orders_multi_exec_and_is_refused_inside_exec,
    reset_ends_monitor_mode,
    shutdown_refuses_bad_combinations,
    shutdown_ends_the_process,
    shutdown_save_writes_the_dump,
    config_set_of_startup_parameters_to_their_value_is_accepted,
}
