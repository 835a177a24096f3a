//! INFO, COMMAND and MEMORY: what the server tells about itself.
//!
//! ```text
//! INFO [section ...]              $<"# Server\r\nredis_version:7.0.15\r\n...">
//! COMMAND                         *<one COMMAND INFO entry per command>
//! COMMAND COUNT | INFO [name ..] | DOCS [name ..] | LIST [FILTERBY ...] | HELP
//! COMMAND GETKEYS cmd arg ..      *<the keys of that command line>
//! COMMAND GETKEYSANDFLAGS cmd arg ..   *<*2 key *<flags such as RO access>> per key
//! MEMORY USAGE key [SAMPLES count]      :<estimated bytes> (null bulk for no key)
//! ```

use std::fmt::Write;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::{args, commands, docs, errors, flags, lookup, CommandSpec, Ctx};
use crate::alloc;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("info", -1, LOADING | STALE | SENTINEL, NO_KEYS, "server", "Get information and statistics about the server", info),
    // COMMAND alone lists every command; it is also the container of COUNT, INFO, ...
    CommandSpec {
        arity: -1,
        handler: Some(command_all),
        ..container("command", LOADING | STALE | SENTINEL, "server", "2.8.13", "Get array of Redis command details", &[
            command("count", 2, LOADING | STALE, NO_KEYS, "server", "Get total number of Redis commands", command_count),
            command("info", -2, LOADING | STALE, NO_KEYS, "server", "Get array of specific Redis command details, or all when no argument is given", command_info),
            command("docs", -2, LOADING | STALE, NO_KEYS, "server", "Get array of specific Redis command documentation", command_docs),
            command("list", -2, LOADING | STALE, NO_KEYS, "server", "Get an array of Redis command names", command_list),
            command("help", 2, LOADING | STALE, NO_KEYS, "server", "Show helpful text about the different subcommands", command_help),
            since(command("getkeys", -4, LOADING | STALE, NO_KEYS, "server", "Extract keys given a full Redis command", command_getkeys), "2.8.13"),
            since(command("getkeysandflags", -4, LOADING | STALE, NO_KEYS, "server", "Extract keys and access flags given a full Redis command", command_getkeysandflags), "7.0.0"),
        ])
    },
    container("memory", 0, "server", "4.0.0", "A container for memory diagnostics commands", &[
        since(command("usage", -3, READONLY, (2, 2, 1), "server", "Estimate the memory usage of a key", memory_usage), "4.0.0"),
        since(command("help", 2, LOADING | STALE, NO_KEYS, "server", "Show helpful text about the different subcommands", memory_help), "4.0.0"),
    ]),
];

/// The Redis version ringkv answers as: clients gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";

/// Every INFO section in Redis' order, and whether `INFO` / `INFO default` includes it.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("cluster", true),
    ("keyspace", true),
];

/// INFO [section ...]: `default` (also no argument) is the default sections, `all` and
/// `everything` are every section; names are case-insensitive, unknown ones ignored, and
/// each section appears once, in Redis' order.
pub fn info(ctx: &mut Ctx, argv: &[Bytes]) {
    let asked: Vec<String> = argv[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_lowercase())
        .collect();
    let all = asked.iter().any(|s| s == "all" || s == "everything");
    let defaults = asked.is_empty() || asked.iter().any(|s| s == "default");
    let mut text = String::new();
    for &(section, by_default) in SECTIONS {
        if all || (defaults && by_default) || asked.iter().any(|s| s == section) {
            if !text.is_empty() {
                text.push_str("\r\n");
            }
            write_section(ctx, section, &mut text);
        }
    }
    ctx.reply.bulk(text.as_bytes());
}

/// Appends one `# Section` with its `field:value` lines.
fn write_section(ctx: &Ctx, section: &str, out: &mut String) {
    let server = ctx.server;
    let stats = &server.stats;
    let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let mut title = section.to_string();
    title[..1].make_ascii_uppercase();
    if section == "cpu" {
        title = "CPU".into();
    }
    let _ = write!(out, "# {title}\r\n");
    let mut field = |name: &str, value: &dyn std::fmt::Display| {
        let _ = write!(out, "{name}:{value}\r\n");
    };
    match section {
        "server" => {
            let uptime = server.started.elapsed().as_secs();
            let now_us = crate::db::now_ms() as u64 * 1000;
            field("redis_version", &REDIS_VERSION);
            field("ringkv_version", &env!("CARGO_PKG_VERSION"));
            field("redis_git_sha1", &"00000000");
            field("redis_git_dirty", &0);
            field("redis_mode", &"standalone");
            field("os", &os_name());
            field("arch_bits", &(usize::BITS));
            field("multiplexing_api", &server.startup.backend);
            field("io_backend", &server.startup.backend);
            field("worker_threads", &server.startup.threads);
            field("process_id", &std::process::id());
            field("process_supervised", &"no");
            field("run_id", &server.run_id);
            field("tcp_port", &server.startup.port);
            field("server_time_usec", &now_us);
            field("uptime_in_seconds", &uptime);
            field("uptime_in_days", &(uptime / 86_400));
            field("hz", &server.config.hot.hz.load(Ordering::Relaxed));
            field("configured_hz", &server.config.get("hz"));
            field("executable", &server.startup.executable);
            field("config_file", &server.startup.config_file);
            field("io_threads_active", &0);
        }
        "clients" => {
            field("connected_clients", &load(&stats.connected_clients));
            field("cluster_connections", &0);
            field("maxclients", &server.config.get("maxclients"));
            field("blocked_clients", &server.blocked.clients());
            field("tracking_clients", &0);
            field("clients_in_timeout_table", &0);
        }
        "memory" => {
            let (used, rss, peak) = (
                alloc::used_memory(),
                alloc::resident_memory(),
                alloc::peak_memory(),
            );
            let maxmemory: u64 = server.config.get("maxmemory").parse().unwrap_or(0);
            field("used_memory", &used);
            field("used_memory_human", &bytes_to_human(used as u64));
            field("used_memory_rss", &rss);
            field("used_memory_rss_human", &bytes_to_human(rss as u64));
            field("used_memory_peak", &peak);
            field("used_memory_peak_human", &bytes_to_human(peak as u64));
            field("maxmemory", &maxmemory);
            field("maxmemory_human", &bytes_to_human(maxmemory));
            field("maxmemory_policy", &server.config.get("maxmemory-policy"));
            field("mem_allocator", &"libc");
        }
        "persistence" => {
            let p = &server.persistence;
            let bgsave_secs = p.bgsave_running_secs();
            field("loading", &0);
            field("async_loading", &0);
            // No fork: nothing is copied on write.
            for name in [
                "current_cow_peak",
                "current_cow_size",
                "current_cow_size_age",
            ] {
                field(name, &0);
            }
            field("current_fork_perc", &"0.00");
            field("current_save_keys_processed", &0);
            field("current_save_keys_total", &0);
            field("rdb_changes_since_last_save", &p.changes_since_save());
            field("rdb_bgsave_in_progress", &u8::from(bgsave_secs.is_some()));
            field("rdb_last_save_time", &p.last_save());
            let status = if p.last_bgsave_ok() { "ok" } else { "err" };
            field("rdb_last_bgsave_status", &status);
            field("rdb_last_bgsave_time_sec", &p.last_bgsave_secs());
            field(
                "rdb_current_bgsave_time_sec",
                &bgsave_secs.map_or(-1, |s| s as i64),
            );
            field("rdb_saves", &p.saves());
            field("rdb_last_cow_size", &0);
            field("rdb_last_load_keys_expired", &0);
            field("rdb_last_load_keys_loaded", &0);
            field("aof_enabled", &0);
            field("aof_rewrite_in_progress", &0);
            field("aof_rewrite_scheduled", &0);
            field("aof_last_rewrite_time_sec", &-1);
            field("aof_current_rewrite_time_sec", &-1);
            field("aof_last_bgrewrite_status", &"ok");
            field("aof_rewrites", &0);
            field("aof_rewrites_consecutive_failures", &0);
            field("aof_last_write_status", &"ok");
            field("aof_last_cow_size", &0);
            field("module_fork_in_progress", &0);
            field("module_fork_last_cow_size", &0);
        }
        "stats" => {
            field(
                "total_connections_received",
                &load(&stats.connections_received),
            );
            field("total_commands_processed", &load(&stats.commands_processed));
            field("total_net_input_bytes", &load(&stats.net_input_bytes));
            field("total_net_output_bytes", &load(&stats.net_output_bytes));
            field("rejected_connections", &load(&stats.rejected_connections));
            let replicas = &server.repl.replicas;
            field("sync_full", &load(&replicas.sync_full));
            field("sync_partial_ok", &load(&replicas.sync_partial_ok));
            field("sync_partial_err", &load(&replicas.sync_partial_err));
            field("expired_keys", &load(&server.keyspace.expired_keys));
            field(
                "expired_time_cap_reached_count",
                &load(&server.expiry.time_cap_reached),
            );
            field("evicted_keys", &0);
            field("keyspace_hits", &load(&stats.keyspace_hits));
            field("keyspace_misses", &load(&stats.keyspace_misses));
            field("total_error_replies", &load(&stats.error_replies));
        }
        "replication" => {
            let role = match server.repl.role() {
                crate::repl::Role::Master => "master",
                crate::repl::Role::Replica => "slave",
            };
            field("role", &role);
            // Before the stream lock: the replica fields read the stream themselves.
            crate::repl::replica::info_fields(server, &mut field);
            let replicas = server.repl.replicas.all();
            field("connected_slaves", &replicas.len());
            for (i, r) in replicas.iter().enumerate() {
                let lag = if r.online() { r.lag_secs() } else { 0 };
                field(
                    &format!("slave{i}"),
                    &format_args!(
                        "ip={},port={},state={},offset={},lag={lag}",
                        r.ip,
                        r.port,
                        r.state(),
                        r.ack_offset()
                    ),
                );
            }
            let stream = server.repl.stream();
            field("master_failover_state", &"no-failover");
            field("master_replid", &stream.replid);
            field("master_replid2", &stream.replid2);
            field("master_repl_offset", &stream.offset());
            field("second_repl_offset", &stream.second_replid_offset);
            let backlog = stream.backlog();
            field("repl_backlog_active", &u8::from(backlog.is_some()));
            field("repl_backlog_size", &server.config.get("repl-backlog-size"));
            field(
                "repl_backlog_first_byte_offset",
                &backlog.map_or(0, |b| b.first_offset()),
            );
            field("repl_backlog_histlen", &backlog.map_or(0, |b| b.histlen()));
        }
        "cpu" => {
            let (user, system) = cpu_seconds();
            field("used_cpu_sys", &format!("{system:.6}"));
            field("used_cpu_user", &format!("{user:.6}"));
        }
        "cluster" => field("cluster_enabled", &0),
        "modules" => {}
        "commandstats" => {
            for position in 0..super::table_len() as u32 {
                let (Some(counters), Some((spec, parent))) = (
                    server.command_stats.get(position),
                    super::at_position(position),
                ) else {
                    continue;
                };
                let calls = load(&counters.calls);
                let rejected = load(&counters.rejected_calls);
                let failed = load(&counters.failed_calls);
                if calls == 0 && rejected == 0 && failed == 0 {
                    continue;
                }
                let usec = load(&counters.usec);
                let per_call = if calls == 0 {
                    0.0
                } else {
                    usec as f64 / calls as f64
                };
                let line = format!(
                    "calls={calls},usec={usec},usec_per_call={per_call:.2},\
                     rejected_calls={rejected},failed_calls={failed}"
                );
                field(&format!("cmdstat_{}", spec.full_name(parent)), &line);
            }
        }
        "errorstats" => {
            for (code, count) in server.error_stats.snapshot() {
                field(&format!("errorstat_{code}"), &format!("count={count}"));
            }
        }
        "keyspace" => {
            for (index, db) in server.keyspace.dbs().iter().enumerate() {
                let keys = db.len();
                if keys > 0 {
                    let line = format!(
                        "keys={},expires={},avg_ttl={}",
                        keys,
                        db.volatile_len(),
                        db.avg_ttl_ms.load(Ordering::Relaxed)
                    );
                    field(&format!("db{index}"), &line);
                }
            }
        }
        _ => unreachable!("only sections listed in SECTIONS are written"),
    }
}

/// `Linux 6.1.0-18-amd64 x86_64`, as Redis prints uname.
fn os_name() -> String {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "{} {} {}",
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/osrelease"),
        std::env::consts::ARCH
    )
}

/// User and system CPU seconds of this process, from /proc/self/stat.
pub fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Linux reports in USER_HZ, which is 100 on every mainstream build.
    (ticks(11) / 100.0, ticks(12) / 100.0)
}

/// Redis' bytesToHuman: `512B`, `1.50K`, `2.00M`, ...
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(&str, f64); 5] = [
        ("K", 1024.0),
        ("M", 1048576.0),
        ("G", 1073741824.0),
        ("T", 1099511627776.0),
        ("P", 1125899906842624.0),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    let value = n as f64;
    for (i, (unit, size)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1).map_or(f64::INFINITY, |(_, s)| *s);
        if value < next {
            return format!("{:.2}{}", value / size, unit);
        }
    }
    unreachable!("the last unit has no upper bound")
}

pub fn command_all(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.reply.array(commands().count());
    for spec in commands() {
        write_command_info(ctx, spec, None);
    }
}

pub fn command_count(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.reply.int(commands().count() as i64);
}

pub fn command_info(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() == 2 {
        return command_all(ctx, argv);
    }
    ctx.reply.array(argv.len() - 2);
    for name in &argv[2..] {
        match find_by_full_name(name) {
            Some((spec, parent)) => write_command_info(ctx, spec, parent),
            None => ctx.reply.null(),
        }
    }
}

/// `get` or `config|get`.
fn find_by_full_name(name: &[u8]) -> Option<(&'static CommandSpec, Option<&'static CommandSpec>)> {
    match name.iter().position(|&b| b == b'|') {
        None => lookup(name).map(|spec| (spec, None)),
        Some(bar) => {
            let parent = lookup(&name[..bar])?;
            let sub = parent
                .subcommands
                .iter()
                .find(|s| s.name.as_bytes().eq_ignore_ascii_case(&name[bar + 1..]))?;
            Some((sub, Some(parent)))
        }
    }
}

/// One COMMAND INFO entry, Redis 7's ten fields.
fn write_command_info(ctx: &mut Ctx, spec: &CommandSpec, parent: Option<&CommandSpec>) {
    let reply = &mut *ctx.reply;
    reply.array(10);
    reply.bulk(spec.full_name(parent).as_bytes());
    reply.int(spec.arity as i64);
    let names: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(f, _)| spec.has(*f))
        .map(|(_, n)| *n)
        .collect();
    reply.array(names.len());
    for name in names {
        reply.simple(name);
    }
    reply.int(spec.keys.0 as i64);
    reply.int(spec.keys.1 as i64);
    reply.int(spec.keys.2 as i64);
    let categories = acl_categories(spec);
    reply.array(categories.len());
    for category in categories {
        reply.simple(category);
    }
    reply.array(0); // tips
    reply.array(0); // key specifications: first/last/step above describe every key
    reply.array(spec.subcommands.len());
    for sub in spec.subcommands {
        write_command_info(ctx, sub, Some(spec));
    }
}

/// ACL categories derived from a command's flags and family, as Redis derives most.
pub fn acl_categories(spec: &CommandSpec) -> Vec<&'static str> {
    let mut categories = Vec::new();
    let family = match spec.group {
        "string" => Some("@string"),
        "bitmap" => Some("@bitmap"),
        "generic" => Some("@keyspace"),
        "connection" => Some("@connection"),
        "list" => Some("@list"),
        "set" => Some("@set"),
        "hash" => Some("@hash"),
        "sorted-set" => Some("@sortedset"),
        "transactions" => Some("@transaction"),
        _ => None,
    };
    if spec.has(flags::WRITE) {
        categories.push("@write");
    }
    if spec.has(flags::READONLY) {
        categories.push("@read");
    }
    if spec.has(flags::ADMIN) {
        categories.extend(["@admin", "@dangerous"]);
    }
    categories.extend(family);
    categories.push(if spec.has(flags::FAST) {
        "@fast"
    } else {
        "@slow"
    });
    if spec.has(flags::BLOCKING) {
        categories.push("@blocking");
    }
    categories
}

pub fn command_docs(ctx: &mut Ctx, argv: &[Bytes]) {
    let specs: Vec<&CommandSpec> = if argv.len() == 2 {
        commands().collect()
    } else {
        argv[2..].iter().filter_map(|name| lookup(name)).collect()
    };
    ctx.reply.array(specs.len() * 2);
    for spec in specs {
        ctx.reply.bulk(spec.name.as_bytes());
        write_docs(ctx, spec, None);
    }
}

fn write_docs(ctx: &mut Ctx, spec: &CommandSpec, parent: Option<&CommandSpec>) {
    let full_name = spec.full_name(parent);
    let arguments = docs::parse(docs::syntax(&full_name));
    let mut fields = vec![
        ("summary", spec.summary),
        ("since", spec.since),
        ("group", spec.group),
    ];
    fields.extend(docs::complexity(&full_name).map(|c| ("complexity", c)));
    let maps = usize::from(!arguments.is_empty()) + usize::from(!spec.subcommands.is_empty());
    ctx.reply.array((fields.len() + maps) * 2);
    for (key, value) in fields {
        ctx.reply.bulk(key.as_bytes());
        ctx.reply.bulk(value.as_bytes());
    }
    if !arguments.is_empty() {
        ctx.reply.bulk(b"arguments");
        docs::write_args(ctx.reply, &arguments);
    }
    if !spec.subcommands.is_empty() {
        ctx.reply.bulk(b"subcommands");
        ctx.reply.array(spec.subcommands.len() * 2);
        for sub in spec.subcommands {
            ctx.reply.bulk(sub.full_name(Some(spec)).as_bytes());
            write_docs(ctx, sub, Some(spec));
        }
    }
}

pub fn command_list(ctx: &mut Ctx, argv: &[Bytes]) {
    let all = commands().flat_map(|c| {
        std::iter::once((c, None)).chain(c.subcommands.iter().map(move |s| (s, Some(c))))
    });
    let names: Vec<String> = match &argv[2..] {
        [] => all.map(|(s, p)| s.full_name(p)).collect(),
        [filter, kind, value] if args::is(filter, "FILTERBY") => {
            if args::is(kind, "PATTERN") {
                all.map(|(s, p)| s.full_name(p))
                    .filter(|n| crate::db::glob::glob_match(value, n.as_bytes(), true))
                    .collect()
            } else if args::is(kind, "ACLCAT") {
                let wanted = format!("@{}", String::from_utf8_lossy(value).to_lowercase());
                all.filter(|(s, _)| acl_categories(s).contains(&wanted.as_str()))
                    .map(|(s, p)| s.full_name(p))
                    .collect()
            } else if args::is(kind, "MODULE") {
                Vec::new()
            } else {
                return ctx.reply.error(super::errors::SYNTAX);
            }
        }
        _ => return ctx.reply.error(super::errors::SYNTAX),
    };
    ctx.reply.bulk_array(&names);
}

pub fn command_getkeys(ctx: &mut Ctx, argv: &[Bytes]) {
    if let Some((_, keys)) = keys_of(ctx, &argv[2..]) {
        ctx.reply.array(keys.len());
        for &i in &keys {
            ctx.reply.bulk(&argv[2 + i]);
        }
    }
}

pub fn command_getkeysandflags(ctx: &mut Ctx, argv: &[Bytes]) {
    let line = &argv[2..];
    let Some((spec, keys)) = keys_of(ctx, line) else {
        return;
    };
    let flags = key_flags(spec, line);
    ctx.reply.array(keys.len());
    for (n, &i) in keys.iter().enumerate() {
        ctx.reply.array(2);
        ctx.reply.bulk(&line[i]);
        // One flag set per key specification; the last one covers the remaining keys.
        let set = flags.get(n).or(flags.last()).copied().unwrap_or("");
        let words: Vec<&str> = set.split_whitespace().collect();
        ctx.reply.array(words.len());
        for word in words {
            ctx.reply.simple(word);
        }
    }
}

/// The command a COMMAND GETKEYS line names and the positions of its keys, or the error
/// reply (Redis' getKeysSubcommandImpl).
fn keys_of(ctx: &mut Ctx, line: &[Bytes]) -> Option<(&'static CommandSpec, Vec<usize>)> {
    let found =
        lookup(&line[0]).and_then(|spec| match (spec.subcommands.is_empty(), line.get(1)) {
            (true, _) => Some(spec),
            (false, Some(sub)) => spec
                .subcommands
                .iter()
                .find(|s| s.name.as_bytes().eq_ignore_ascii_case(sub)),
            (false, None) => None,
        });
    let Some(spec) = found else {
        ctx.reply.error("ERR Invalid command specified");
        return None;
    };
    if spec.keys.0 == 0 && !spec.has(flags::MOVABLE_KEYS) {
        ctx.reply.error("ERR The command has no key arguments");
        return None;
    }
    let argc = line.len() as i32;
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        ctx.reply
            .error("ERR Invalid number of arguments specified for command");
        return None;
    }
    let keys = super::key_positions(spec, line);
    if keys.is_empty() {
        ctx.reply
            .error("ERR Invalid arguments specified for command");
        return None;
    }
    Some((spec, keys))
}

/// Key specification flags, as Redis 7.0's key specs give them: one entry per key
/// specification, in order. Commands not listed get flags derived from READONLY/WRITE.
pub fn key_flags<A: AsRef<[u8]>>(spec: &CommandSpec, line: &[A]) -> Vec<&'static str> {
    let listed: &[&str] = match spec.name {
        // SET's flags vary: with GET it also reads the old value.
        "set" if line.iter().skip(3).any(|a| args::is(a.as_ref(), "GET")) => &["RW access update"],
        "set" | "mset" | "setex" | "psetex" | "restore" => &["OW update"],
        "setnx" | "msetnx" => &["OW insert"],
        "zscore" | "zmscore" | "zrank" | "zrevrank" | "zcount" | "zlexcount" | "zrange"
        | "zrangebyscore" | "zrevrangebyscore" | "zrangebylex" | "zrevrangebylex" | "zrevrange"
        | "zrandmember" | "zscan" => &["RO access"],
        "zcard" => &["RO"],
        "zadd" => &["RW update"],
        "zrem" | "zremrangebyrank" | "zremrangebyscore" | "zremrangebylex" => &["RW delete"],
        "zpopmin" | "zpopmax" | "zmpop" | "bzmpop" | "bzpopmin" | "bzpopmax" => {
            &["RW access delete"]
        }
        "zrangestore" | "zunionstore" | "zinterstore" | "zdiffstore" => &["OW update", "RO access"],
        "get" | "srandmember" | "ttl" | "pttl" | "getrange" | "mget" | "lcs" | "substr"
        | "dump" | "expiretime" | "pexpiretime" | "lrange" | "lindex" | "smembers"
        | "smismember" | "sinter" | "sunion" | "sdiff" | "sintercard" => &["RO access"],
        "llen" | "scard" | "exists" | "type" | "strlen" | "touch" | "sismember" | "hlen"
        | "hstrlen" | "hexists" => &["RO"],
        "incrbyfloat" | "incr" | "decr" | "incrby" | "decrby" | "getset" | "getex" | "move" => {
            &["RW access update"]
        }
        "lpush" | "rpush" | "sadd" | "append" | "hsetnx" | "lpushx" | "rpushx" | "linsert" => {
            &["RW insert"]
        }
        "lset" => &["RW update"],
        "hset" | "hmset" => &["RW update"],
        "blpop" | "brpop" | "getdel" | "lpop" | "rpop" | "spop" | "lmpop" | "blmpop" => {
            &["RW access delete"]
        }
        "del" | "unlink" => &["RM delete"],
        "expire" | "pexpire" | "persist" | "expireat" | "pexpireat" | "setrange" => &["RW update"],
        "srem" | "hdel" | "lrem" | "ltrim" => &["RW delete"],
        "rename" => &["RW access delete", "OW update"],
        "renamenx" => &["RW access delete", "OW insert"],
        "copy" => &["RO access", "OW update"],
        "lmove" | "blmove" | "rpoplpush" | "brpoplpush" | "smove" => {
            &["RW access delete", "RW insert"]
        }
        "sinterstore" => &["RW update", "RO access"],
        "sunionstore" | "sdiffstore" => &["OW update", "RO access"],
        _ if spec.has(flags::WRITE) => &["RW access update"],
        _ => &["RO access"],
    };
    listed.to_vec()
}

/// Elements of a collection MEMORY USAGE looks at when no SAMPLES is given (Redis' 5).
const DEFAULT_MEMORY_SAMPLES: usize = 5;

pub fn memory_usage(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut samples = DEFAULT_MEMORY_SAMPLES;
    for pair in argv[3..].chunks(2) {
        match pair {
            [name, count] if args::is(name, "SAMPLES") => {
                let Some(count) = ctx.int_arg(count) else {
                    return;
                };
                let Ok(count) = usize::try_from(count) else {
                    return ctx.reply.error(errors::SYNTAX);
                };
                samples = count;
            }
            _ => return ctx.reply.error(errors::SYNTAX),
        }
    }
    let now = ctx.now_ms();
    let mut guard = ctx.lock(&argv[2]);
    let usage = guard
        .get(now)
        .map(|entry| crate::db::memory::entry_usage(entry, samples));
    drop(guard);
    match usage {
        Some(bytes) => ctx.reply.int(bytes as i64),
        None => ctx.reply.null(),
    }
}

pub fn memory_help(ctx: &mut Ctx, _argv: &[Bytes]) {
    super::server::help(
        ctx,
        "MEMORY",
        &[
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
}

pub fn command_help(ctx: &mut Ctx, _argv: &[Bytes]) {
    super::server::help(
        ctx,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_match_redis() {
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1536), "1.50K");
        assert_eq!(bytes_to_human(1 << 20), "1.00M");
        assert_eq!(bytes_to_human(3 << 30), "3.00G");
    }

    #[test]
    fn categories_follow_flags() {
        let get = lookup(b"get").unwrap();
        assert_eq!(acl_categories(get), vec!["@read", "@string", "@fast"]);
        let set = lookup(b"set").unwrap();
        assert_eq!(acl_categories(set), vec!["@write", "@string", "@slow"]);
    }
}
