//! Server commands: CONFIG GET/SET, INFO sections and field names, COMMAND introspection.

#[macro_use]
mod common;

use common::{info_field, info_fields, wait_for, Client, Resp, Server};
use std::collections::BTreeMap;
use std::time::Duration;

/// CONFIG GET's reply as name -> value (Redis orders it by its hash table, so tests compare
/// it as a map; a name listed twice would show as a lost entry).
fn config_get(c: &mut Client, patterns: &[&str]) -> BTreeMap<String, String> {
    let mut args = vec!["CONFIG", "GET"];
    args.extend(patterns);
    let reply = c.cmd_resp(&args);
    let items = reply.items();
    assert!(
        items.chunks_exact(2).remainder().is_empty(),
        "CONFIG GET gave an odd number of items: {reply:?}"
    );
    let map: BTreeMap<String, String> = items
        .chunks(2)
        .map(|pair| (pair[0].text(), pair[1].text()))
        .collect();
    assert_eq!(
        map.len() * 2,
        items.len(),
        "CONFIG GET repeated a name: {reply:?}"
    );
    map
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The `# Section` headers of an INFO reply, in order.
fn info_sections(info: &[u8]) -> Vec<String> {
    let text = Resp::parse(info).text();
    text.split("\r\n")
        .filter_map(|l| l.strip_prefix("# "))
        .map(str::to_string)
        .collect()
}

/// Asserts `wanted` appear in `sections` in this relative order.
#[track_caller]
fn assert_in_order(sections: &[String], wanted: &[&str]) {
    let mut at = 0;
    for w in wanted {
        match sections[at..].iter().position(|s| s == w) {
            Some(p) => at += p + 1,
            None => panic!("section {w:?} missing or out of order in {sections:?}"),
        }
    }
}

/// One entry of COMMAND INFO for a single command.
fn command_info(c: &mut Client, name: &str) -> Vec<Resp> {
    let reply = c.cmd_resp(&["COMMAND", "INFO", name]);
    assert_eq!(reply.items().len(), 1, "COMMAND INFO {name}: {reply:?}");
    reply.items()[0].items().to_vec()
}

fn simple_list(items: &[&str]) -> Resp {
    Resp::Array(Some(
        items.iter().map(|s| Resp::Simple(s.to_string())).collect(),
    ))
}

fn config_get_one_parameter_returns_its_name_and_value(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    c.expect(
        &["CONFIG", "GET", "databases"],
        "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n",
    );
    c.expect(
        &["CONFIG", "GET", "dbfilename"],
        "*2\r\n$10\r\ndbfilename\r\n$8\r\ndump.rdb\r\n",
    );
    c.expect(
        &["CONFIG", "GET", "bind"],
        "*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n",
    );
    let port = srv.port().to_string();
    c.expect(
        &["CONFIG", "GET", "port"],
        &format!("*2\r\n$4\r\nport\r\n${}\r\n{port}\r\n", port.len()),
    );
    let dir = std::fs::canonicalize(srv.dir()).unwrap();
    assert_eq!(
        config_get(&mut c, &["dir"]),
        map(&[("dir", dir.to_str().unwrap())])
    );
}

fn config_get_exact_name_is_case_insensitive_and_echoed_as_asked(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["config", "get", "MAXMEMORY"],
        "*2\r\n$9\r\nMAXMEMORY\r\n$1\r\n0\r\n",
    );
}

fn config_get_glob_returns_every_matching_parameter(srv: &mut Server) {
    let mut c = srv.client();
    assert_eq!(
        config_get(&mut c, &["*max-*-entries*"]),
        map(&[
            ("hash-max-listpack-entries", "512"),
            ("hash-max-ziplist-entries", "512"),
            ("set-max-intset-entries", "512"),
            ("zset-max-listpack-entries", "128"),
            ("zset-max-ziplist-entries", "128"),
        ])
    );
    let port = srv.port().to_string();
    assert_eq!(config_get(&mut c, &["p?rt"]), map(&[("port", &port)]));
    assert_eq!(config_get(&mut c, &["[p]ort"]), map(&[("port", &port)]));
    assert_eq!(
        config_get(&mut c, &["maxmemory*"])
            .get("maxmemory")
            .map(String::as_str),
        Some("0")
    );
}

fn config_get_several_patterns_merges_the_matches_once(srv: &mut Server) {
    let mut c = srv.client();
    assert_eq!(
        config_get(&mut c, &["maxmemory", "databases", "nosuch", "maxmemory"]),
        map(&[("databases", "16"), ("maxmemory", "0")])
    );
    let both = config_get(
        &mut c,
        &["databases", "*databases*", "set-max-intset-entries"],
    );
    assert_eq!(
        both,
        map(&[("databases", "16"), ("set-max-intset-entries", "512")])
    );
}

fn config_get_unknown_parameter_is_an_empty_array(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["CONFIG", "GET", "no-such-parameter"], "*0\r\n");
    c.expect(&["CONFIG", "GET", "zzz*"], "*0\r\n");
}

fn config_wrong_arity_and_unknown_subcommand_errors(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["CONFIG"],
        "-ERR wrong number of arguments for 'config' command\r\n",
    );
    c.expect(
        &["CONFIG", "GET"],
        "-ERR wrong number of arguments for 'config|get' command\r\n",
    );
    c.expect(
        &["CONFIG", "SET", "hz"],
        "-ERR wrong number of arguments for 'config|set' command\r\n",
    );
    c.expect(
        &["CONFIG", "FOO"],
        "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n",
    );
}

fn config_set_runtime_parameter_round_trips(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["CONFIG", "SET", "maxmemory", "10mb"], "+OK\r\n");
    c.expect(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n",
    );
    // Memory units: k/m/g are powers of 1000, kb/mb/gb of 1024, in any case.
    for (value, bytes) in [
        ("1gb", "1073741824"),
        ("5m", "5000000"),
        ("100KB", "102400"),
    ] {
        c.expect(&["CONFIG", "SET", "maxmemory", value], "+OK\r\n");
        assert_eq!(
            config_get(&mut c, &["maxmemory"]),
            map(&[("maxmemory", bytes)])
        );
    }
    c.expect(&["CONFIG", "SET", "hz", "20"], "+OK\r\n");
    c.expect(&["CONFIG", "GET", "hz"], "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n");
    c.expect(&["CONFIG", "SET", "maxmemory", "0", "hz", "10"], "+OK\r\n");
    assert_eq!(
        config_get(&mut c, &["maxmemory", "hz"]),
        map(&[("hz", "10"), ("maxmemory", "0")])
    );
    // The setting is the server's, not the connection's.
    c.expect(&["CONFIG", "SET", "timeout", "300"], "+OK\r\n");
    srv.client().expect(
        &["CONFIG", "GET", "timeout"],
        "*2\r\n$7\r\ntimeout\r\n$3\r\n300\r\n",
    );
}

fn config_set_unknown_parameter_is_an_error(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(
        &["CONFIG", "SET", "nosuch", "1"],
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
    );
    c.expect(
        &["CONFIG", "SET", "hz", "15", "nosuch", "5"],
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
    );
    // Nothing of a failed CONFIG SET is applied.
    c.expect(&["CONFIG", "GET", "hz"], "*2\r\n$2\r\nhz\r\n$2\r\n10\r\n");
    c.expect(
        &["CONFIG", "SET", "hz", "10", "maxmemory"],
        "-ERR syntax error\r\n",
    );
}

fn config_set_invalid_value_is_an_error_naming_the_parameter(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["CONFIG", "SET", "maxmemory", "abc"],
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n");
    c.expect(&["CONFIG", "SET", "hz", "abc"],
        "-ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer\r\n");
    c.expect(&["CONFIG", "SET", "timeout", "-1"],
        "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive\r\n");
    c.expect(&["CONFIG", "SET", "maxmemory-policy", "foo"],
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction\r\n");
    c.expect(&["CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"],
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter\r\n");
    c.expect(&["CONFIG", "SET", "databases", "4"],
        "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n");
    c.expect(
        &["CONFIG", "GET", "maxmemory"],
        "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
}

fn info_default_has_the_main_sections_in_redis_order(srv: &mut Server) {
    let mut c = srv.client();
    let info = c.cmd(&["INFO"]);
    assert_in_order(
        &info_sections(&info),
        &[
            "Server",
            "Clients",
            "Memory",
            "Stats",
            "Replication",
            "Keyspace",
        ],
    );
    assert!(info.ends_with(b"\r\n\r\n"), "INFO ends with a blank line");
    let all = c.cmd(&["INFO", "all"]);
    assert_in_order(
        &info_sections(&all),
        &[
            "Server",
            "Clients",
            "Memory",
            "Stats",
            "Replication",
            "Keyspace",
        ],
    );
    let default = c.cmd(&["INFO", "default"]);
    assert_eq!(info_sections(&default), info_sections(&info));
}

fn info_server_has_version_and_port(srv: &mut Server) {
    let mut c = srv.client();
    let info = c.cmd(&["INFO", "server"]);
    assert_eq!(info_sections(&info), ["Server"]);
    let version = info_field(&info, "redis_version").expect("redis_version");
    assert!(
        version.starts_with("7."),
        "redis_version:{version} should say 7.x"
    );
    assert_eq!(info_field(&info, "tcp_port"), Some(srv.port().to_string()));
    let uptime = info_field(&info, "uptime_in_seconds").expect("uptime_in_seconds");
    uptime
        .parse::<u64>()
        .expect("uptime_in_seconds is a number");
    let pid = info_field(&info, "process_id").expect("process_id");
    assert_eq!(pid, srv.pid().to_string());
}

fn info_section_names_are_case_insensitive_and_several_may_be_asked(srv: &mut Server) {
    let mut c = srv.client();
    let info = c.cmd(&["INFO", "SERVER", "Clients"]);
    assert_eq!(info_sections(&info), ["Server", "Clients"]);
}

fn info_unknown_section_is_an_empty_bulk(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["INFO", "nosuch"], "$0\r\n\r\n");
}

fn info_clients_counts_connected_clients(srv: &mut Server) {
    let mut c = srv.client();
    let mut others: Vec<Client> = (0..3).map(|_| srv.client()).collect();
    // A reply proves the server has accepted the connection.
    for o in &mut others {
        o.expect(&["PING"], "+PONG\r\n");
    }
    let count = |c: &mut Client| info_field(&c.cmd(&["INFO", "clients"]), "connected_clients");
    assert_eq!(count(&mut c).as_deref(), Some("4"));
    drop(others);
    wait_for(
        Duration::from_secs(10),
        "connected_clients:1 after three clients left",
        || (count(&mut c).as_deref() == Some("1")).then_some(()),
    );
}

fn info_memory_reports_used_memory(srv: &mut Server) {
    let mut c = srv.client();
    let info = c.cmd(&["INFO", "memory"]);
    assert_eq!(info_sections(&info), ["Memory"]);
    let used: u64 = info_field(&info, "used_memory")
        .expect("used_memory")
        .parse()
        .unwrap();
    assert!(used > 0);
    assert!(info_field(&info, "used_memory_human").is_some());
}

fn info_stats_has_counters(srv: &mut Server) {
    let mut c = srv.client();
    let info = c.cmd(&["INFO", "stats"]);
    assert_eq!(info_sections(&info), ["Stats"]);
    for field in [
        "total_connections_received",
        "total_commands_processed",
        "expired_keys",
        "keyspace_hits",
        "keyspace_misses",
    ] {
        let v = info_field(&info, field).unwrap_or_else(|| panic!("INFO stats lacks {field}"));
        v.parse::<u64>()
            .unwrap_or_else(|_| panic!("{field}:{v} is not a number"));
    }
}

fn info_replication_of_a_master(srv: &mut Server) {
    let mut c = srv.client();
    let info = c.cmd(&["INFO", "replication"]);
    assert_eq!(info_sections(&info), ["Replication"]);
    let fields = info_fields(&info);
    assert_eq!(fields[0], ("role".to_string(), "master".to_string()));
    assert_eq!(info_field(&info, "connected_slaves").as_deref(), Some("0"));
    let replid = info_field(&info, "master_replid").expect("master_replid");
    assert!(
        replid.len() == 40 && replid.bytes().all(|b| b.is_ascii_hexdigit()),
        "master_replid:{replid} should be 40 hex digits"
    );
    info_field(&info, "master_repl_offset")
        .expect("master_repl_offset")
        .parse::<i64>()
        .unwrap();
}

fn info_keyspace_lists_only_databases_with_keys(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["INFO", "keyspace"], "$12\r\n# Keyspace\r\n\r\n");
    c.expect(&["SET", "a", "1"], "+OK\r\n");
    c.expect(&["SELECT", "5"], "+OK\r\n");
    c.expect(&["SET", "b", "1", "EX", "100"], "+OK\r\n");
    c.expect(&["SET", "c", "1"], "+OK\r\n");
    let fields = info_fields(&c.cmd(&["INFO", "keyspace"]));
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["db0", "db5"]);
    assert!(
        fields[0].1.starts_with("keys=1,expires=0,avg_ttl="),
        "{:?}",
        fields[0]
    );
    assert!(
        fields[1].1.starts_with("keys=2,expires=1,avg_ttl="),
        "{:?}",
        fields[1]
    );
}

fn command_count_matches_the_command_table(srv: &mut Server) {
    let mut c = srv.client();
    let count = c.cmd_resp(&["COMMAND", "COUNT"]).int();
    let all = c.cmd_resp(&["COMMAND"]);
    assert_eq!(all.items().len() as i64, count, "COMMAND COUNT vs COMMAND");
    assert!(count >= 20, "COMMAND COUNT {count}");
    c.expect(
        &["COMMAND", "COUNT", "x"],
        "-ERR wrong number of arguments for 'command|count' command\r\n",
    );
    c.expect(
        &["COMMAND", "FOO"],
        "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n",
    );
}

fn command_list_names_commands_and_subcommands_in_lower_case(srv: &mut Server) {
    let mut c = srv.client();
    let names: Vec<String> = c
        .cmd_resp(&["COMMAND", "LIST"])
        .items()
        .iter()
        .map(Resp::text)
        .collect();
    for wanted in [
        "get",
        "set",
        "del",
        "exists",
        "keys",
        "ttl",
        "pexpire",
        "ping",
        "echo",
        "select",
        "info",
        "config|get",
        "command|count",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "COMMAND LIST lacks {wanted}"
        );
    }
    assert!(names
        .iter()
        .all(|n| !n.chars().any(|ch| ch.is_ascii_uppercase())));
}

fn command_info_get_describes_arity_flags_and_keys(srv: &mut Server) {
    let mut c = srv.client();
    let get = command_info(&mut c, "GET");
    assert_eq!(get.len(), 10, "COMMAND INFO GET has 10 fields: {get:?}");
    assert_eq!(get[0], Resp::Bulk(Some(b"get".to_vec())));
    assert_eq!(get[1], Resp::Int(2));
    assert_eq!(get[2], simple_list(&["readonly", "fast"]));
    assert_eq!(&get[3..6], &[Resp::Int(1), Resp::Int(1), Resp::Int(1)]);
    assert_eq!(get[6], simple_list(&["@read", "@string", "@fast"]));
    let set = command_info(&mut c, "set");
    assert_eq!(set[1], Resp::Int(-3));
    assert_eq!(set[2], simple_list(&["write", "denyoom"]));
    let del = command_info(&mut c, "del");
    assert_eq!(
        &del[1..6],
        &[
            Resp::Int(-2),
            simple_list(&["write"]),
            Resp::Int(1),
            Resp::Int(-1),
            Resp::Int(1)
        ]
    );
    c.expect(&["COMMAND", "INFO", "nosuch"], "*1\r\n$-1\r\n");
}

fn command_docs_get_describes_the_command(srv: &mut Server) {
    let mut c = srv.client();
    let docs = c.cmd_resp(&["COMMAND", "DOCS", "GET"]);
    let items = docs.items();
    assert_eq!(items.len(), 2, "{docs:?}");
    assert_eq!(items[0].text(), "get");
    let fields: BTreeMap<String, Resp> = items[1]
        .items()
        .chunks(2)
        .map(|kv| (kv[0].text(), kv[1].clone()))
        .collect();
    let field = |name: &str| {
        fields
            .get(name)
            .unwrap_or_else(|| panic!("COMMAND DOCS GET has no {name:?}: {docs:?}"))
    };
    assert_eq!(field("summary").text(), "Get the value of a key");
    assert_eq!(field("since").text(), "1.0.0");
    assert_eq!(field("group").text(), "string");
    assert_eq!(field("complexity").text(), "O(1)");
    let arguments = field("arguments").items();
    assert_eq!(arguments.len(), 1, "GET takes one argument: {arguments:?}");
    c.expect(&["COMMAND", "DOCS", "nosuch"], "*0\r\n");
}

backend_tests! {
    config_get_one_parameter_returns_its_name_and_value,
    config_get_exact_name_is_case_insensitive_and_echoed_as_asked,
    config_get_glob_returns_every_matching_parameter,
    config_get_several_patterns_merges_the_matches_once,
    config_get_unknown_parameter_is_an_empty_array,
    config_wrong_arity_and_unknown_subcommand_errors,
    config_set_runtime_parameter_round_trips,
    config_set_unknown_parameter_is_an_error,
    config_set_invalid_value_is_an_error_naming_the_parameter,
    info_default_has_the_main_sections_in_redis_order,
    info_server_has_version_and_port,
    info_section_names_are_case_insensitive_and_several_may_be_asked,
    info_unknown_section_is_an_empty_bulk,
    info_clients_counts_connected_clients,
    info_memory_reports_used_memory,
    info_stats_has_counters,
    info_replication_of_a_master,
    info_keyspace_lists_only_databases_with_keys,
    command_count_matches_the_command_table,
    command_list_names_commands_and_subcommands_in_lower_case,
    command_info_get_describes_arity_flags_and_keys,
    command_docs_get_describes_the_command,
}
