//! Server commands: DBSIZE, FLUSHDB, FLUSHALL, CONFIG GET / SET / RESETSTAT / HELP, TIME,
//! SHUTDOWN, DEBUG, MONITOR.
//!
//! ```text
//! DBSIZE                          :<keys in the selected database>
//! FLUSHDB [ASYNC|SYNC]            +OK
//! FLUSHALL [ASYNC|SYNC]           +OK
//! CONFIG GET pattern [pattern ..] *<name, value, name, value ...>
//! CONFIG SET name value [name value ..]   +OK, all or nothing
//! CONFIG RESETSTAT                +OK; INFO's counters, commandstats and errorstats restart
//! TIME                            *2 $<unix seconds> $<microseconds>
//! SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
//!                                 the process exits (no reply); ABORT: -ERR No shutdown in progress.
//! DEBUG ...                       refused unless `enable-debug-command` is yes (or local)
//! DEBUG SLEEP seconds             +OK after `seconds` (only this connection waits)
//! DEBUG SET-ACTIVE-EXPIRE 0|1     +OK; 0 stops the active expiry cycle
//! DEBUG LOG message               +OK; the message goes to the log
//! DEBUG DIGEST                    +<40 hex digits>: Redis' fingerprint of the dataset
//! DEBUG DIGEST-VALUE key [key ..] one such fingerprint per key's value (zeros: no key)
//! DEBUG HELP                      the subcommands ringkv implements
//! MONITOR                         +OK, then `+<unix time.micros> [<db> <addr>] "arg" ...` per
//!                                 command any client runs
//! ```

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::{args, errors, Ctx};
use crate::config::{Config, SetError};
use crate::db::{digest, Shard};

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("dbsize", 1, READONLY | FAST, NO_KEYS, "server", "Return the number of keys in the selected database", dbsize),
    command("flushdb", -1, WRITE, NO_KEYS, "server", "Remove all keys from the current database", flushdb),
    command("flushall", -1, WRITE, NO_KEYS, "server", "Remove all keys from all databases", flushall),
    container("config", 0, "server", "2.0.0", "A container for server configuration commands", &[
        command("get", -3, ADMIN | NOSCRIPT | LOADING | STALE, NO_KEYS, "server", "Get the values of configuration parameters", config_get),
        command("set", -4, ADMIN | NOSCRIPT | LOADING | STALE, NO_KEYS, "server", "Set configuration parameters to the given values", config_set),
        command("resetstat", 2, ADMIN | NOSCRIPT | LOADING | STALE, NO_KEYS, "server", "Reset the stats returned by INFO", config_resetstat),
        command("help", 2, LOADING | STALE, NO_KEYS, "server", "Show helpful text about the different subcommands", config_help),
    ]),
    since(command("time", 1, LOADING | STALE | FAST, NO_KEYS, "server", "Return the current server time", time), "2.6.0"),
    command("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY, NO_KEYS, "server", "Synchronously save the dataset to disk and then shut down the server", shutdown),
    command("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, NO_KEYS, "server", "A container for debugging commands", debug),
    command("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, NO_KEYS, "server", "Listen for all requests received by the server in real time", monitor),
];

pub fn dbsize(ctx: &mut Ctx, _argv: &[Bytes]) {
    let len = ctx.server.keyspace.db(ctx.client.db).len();
    ctx.reply.int(len as i64);
}

/// FLUSHDB/FLUSHALL's optional ASYNC|SYNC: true for ASYNC, None after a syntax error.
fn flush_mode(ctx: &mut Ctx, argv: &[Bytes]) -> Option<bool> {
    match argv {
        [_] => Some(false),
        [_, mode] if args::is(mode, "ASYNC") => Some(true),
        [_, mode] if args::is(mode, "SYNC") => Some(false),
        _ => {
            ctx.reply.error(errors::SYNTAX);
            None
        }
    }
}

/// Frees flushed tables: on another thread for ASYNC, so a big flush returns at once.
fn free_tables(tables: Vec<Shard>, asynchronously: bool) {
    if asynchronously {
        std::thread::spawn(move || drop(tables));
    } else {
        drop(tables);
    }
}

pub fn flushdb(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(asynchronously) = flush_mode(ctx, argv) else {
        return;
    };
    let tables = ctx
        .server
        .keyspace
        .flush_db(ctx.client.db, || ctx.propagate(argv));
    free_tables(tables, asynchronously);
    ctx.reply.ok();
}

pub fn flushall(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(asynchronously) = flush_mode(ctx, argv) else {
        return;
    };
    let tables = ctx.server.keyspace.take_all(|| ctx.propagate(argv));
    free_tables(tables, asynchronously);
    ctx.reply.ok();
}

/// CONFIG GET: a name without glob characters is answered under the spelling it was
/// asked with (`CONFIG GET MAXMEMORY` -> `MAXMEMORY`), a pattern under the parameter's
/// names; each parameter appears once.
pub fn config_get(ctx: &mut Ctx, argv: &[Bytes]) {
    let config = &ctx.server.config;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for pattern in &argv[2..] {
        if pattern.iter().any(|b| b"[*?".contains(b)) {
            for (name, value) in config.matching(&[&pattern[..]]) {
                if seen.insert(name.to_ascii_lowercase()) {
                    pairs.push((name.to_string(), value));
                }
            }
        } else {
            let name = String::from_utf8_lossy(pattern);
            if Config::find(&name).is_some() && seen.insert(name.to_ascii_lowercase()) {
                let value = config.get(&name);
                pairs.push((name.into_owned(), value));
            }
        }
    }
    ctx.reply.array(pairs.len() * 2);
    for (name, value) in pairs {
        ctx.reply.bulk(name.as_bytes());
        ctx.reply.bulk(value.as_bytes());
    }
}

pub fn config_set(ctx: &mut Ctx, argv: &[Bytes]) {
    // Redis 7.0 answers an odd number of arguments with a plain syntax error.
    if argv.len() % 2 == 1 {
        return ctx.reply.error(errors::SYNTAX);
    }
    let text: Vec<String> = argv[2..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let mut pairs: Vec<(&str, String)> = text
        .chunks(2)
        .map(|pair| (pair[0].as_str(), pair[1].clone()))
        .collect();
    // `dir` is the process' working directory: change it first, and store where it led.
    for (name, value) in pairs.iter_mut() {
        if name.eq_ignore_ascii_case("dir") {
            match change_dir(value) {
                Ok(absolute) => *value = absolute,
                Err(reason) => {
                    let message = SetError::Invalid {
                        name: name.to_string(),
                        reason,
                    };
                    return ctx.reply.error(set_error_text(&message));
                }
            }
        }
    }
    // Parameters fixed when the workers start (Redis can rebind its port at run time):
    // setting the value they already have is a no-op, and a port that cannot be bound
    // fails the way Redis' apply step does.
    let config = &ctx.server.config;
    let fixed = |name: &str| {
        FIXED_AT_STARTUP
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
    };
    for (name, value) in &pairs {
        if name.eq_ignore_ascii_case("port") && *value != config.get("port") {
            if let Err(reason) = port_bindable(value, &config.get("bind")) {
                let message = SetError::Invalid {
                    name: name.to_string(),
                    reason: format!("Unable to listen on this port: {reason}"),
                };
                return ctx.reply.error(set_error_text(&message));
            }
        }
    }
    pairs.retain(|(name, value)| !(fixed(name) && *value == config.get(name)));
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
    match ctx.server.config.set_many(&borrowed, false) {
        Ok(()) => {
            ctx.server.repl.config_changed(&ctx.server.config);
            ctx.reply.ok()
        }
        Err(e) => ctx.reply.error(set_error_text(&e)),
    }
}

/// Parameters Redis may change at run time that ringkv only reads at start-up.
const FIXED_AT_STARTUP: &[&str] = &["port", "bind", "threads", "io-backend"];

/// Whether a listener could bind `port` on every required `bind` address now.
fn port_bindable(port: &str, bind: &str) -> Result<(), String> {
    let Ok(port) = port.parse::<u16>() else {
        // Not a port: CONFIG SET's validation words that error.
        return Ok(());
    };
    let addrs = crate::server::listener::parse_bind(bind, port)?;
    for (addr, optional) in addrs {
        if let Err(e) = crate::server::listener::ensure_port_free(addr) {
            if !optional {
                return Err(io_reason(&e));
            }
        }
    }
    Ok(())
}

/// Changes the working directory and returns its absolute path.
pub fn change_dir(dir: &str) -> Result<String, String> {
    std::env::set_current_dir(dir).map_err(|e| io_reason(&e))?;
    let cwd = std::env::current_dir().map_err(|e| io_reason(&e))?;
    Ok(cwd.to_string_lossy().into_owned())
}

/// strerror-style text: `No such file or directory`, without Rust's `(os error 2)`.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// CONFIG SET's error replies, worded as Redis 7.0 words them.
pub fn set_error_text(error: &SetError) -> String {
    match error {
        SetError::Unknown(name) => {
            format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
        }
        SetError::Immutable(name) => format!(
            "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
        ),
        SetError::Invalid { name, reason } => {
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
        }
    }
}

/// What Redis' resetServerStats, resetCommandTableStats and resetErrorTableStats reset.
pub fn config_resetstat(ctx: &mut Ctx, _argv: &[Bytes]) {
    let server = ctx.server;
    server.stats.reset();
    server.command_stats.reset();
    server.error_stats.reset();
    server.keyspace.expired_keys.store(0, Ordering::Relaxed);
    server.expiry.time_cap_reached.store(0, Ordering::Relaxed);
    server.repl.replicas.reset_stats();
    ctx.reply.ok();
}

pub fn time(ctx: &mut Ctx, _argv: &[Bytes]) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    ctx.reply.array(2);
    ctx.reply.bulk_int(now.as_secs() as i64);
    ctx.reply.bulk_int(i64::from(now.subsec_micros()));
}

/// SHUTDOWN: saves (SAVE, or save points configured and no NOSAVE), logs like Redis and
/// ends the process. There are no replicas to wait for. A failed save keeps the server
/// running unless FORCE.
pub fn shutdown(ctx: &mut Ctx, argv: &[Bytes]) {
    let (mut save, mut nosave, mut flagged, mut abort) = (false, false, false, false);
    let mut force = false;
    for arg in &argv[1..] {
        if args::is(arg, "NOSAVE") {
            nosave = true;
        } else if args::is(arg, "SAVE") {
            save = true;
        } else if args::is(arg, "FORCE") {
            force = true;
        } else if !args::is(arg, "NOW") {
            if args::is(arg, "ABORT") {
                abort = true;
                continue;
            }
            return ctx.reply.error(errors::SYNTAX);
        }
        flagged = true;
    }
    if (abort && flagged) || (save && nosave) {
        return ctx.reply.error(errors::SYNTAX);
    }
    if abort {
        // A shutdown never waits here (no replicas to catch up), so none can be aborted.
        return ctx.reply.error("ERR No shutdown in progress.");
    }
    crate::warning!("User requested shutdown...");
    if crate::persist::saves_on_shutdown(&ctx.server.config, save, nosave)
        && crate::persist::shutdown_save(ctx.server).is_err()
    {
        if !force {
            crate::warning!("Error trying to save the DB, can't exit.");
            return ctx
                .reply
                .error("ERR Errors trying to SHUTDOWN. Check logs.");
        }
        crate::warning!("Error trying to save the DB. Exit anyway.");
    }
    crate::warning!("ringkv is now ready to exit, bye bye...");
    std::process::exit(0);
}

/// DEBUG's subcommands that Redis has and ringkv does not, refused by name rather than
/// as unknown.
const DEBUG_NOT_SUPPORTED: &[&str] = &[
    "aof-flush-sleep",
    "assert",
    "change-repl-id",
    "config-rewrite-force-all",
    "crash-and-recover",
    "error",
    "leak",
    "htstats",
    "htstats-key",
    "loadaof",
    "replicate",
    "mallctl",
    "mallctl-str",
    "object",
    "drop-cluster-packet-filter",
    "oom",
    "panic",
    "populate",
    "protocol",
    "reload",
    "restart",
    "sdslen",
    "segfault",
    "quicklist-packed-threshold",
    "set-skip-checksum-validation",
    "stringmatch-test",
    "structsize",
    "listpack",
    "quicklist",
    "client-eviction",
    "pause-cron",
    "replybuffer",
    "clusterlink",
    "jmap",
];

/// DEBUG's refusal while `enable-debug-command` does not allow it.
pub const DEBUG_NOT_ALLOWED: &str =
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", \
     you can run it from a local connection, otherwise you need to set this option in the \
     configuration file, and then restart the server.";

/// Whether DEBUG may run for this client: `enable-debug-command` is `no` by default in
/// Redis 7, `yes` for everyone, or `local` for clients from 127.0.0.1 or ::1.
pub fn debug_allowed(ctx: &Ctx) -> bool {
    match ctx.server.config.get("enable-debug-command").as_str() {
        "yes" => true,
        "local" => crate::server::access::is_local_peer(ctx.client.addr.ip()),
        _ => false,
    }
}

pub fn debug(ctx: &mut Ctx, argv: &[Bytes]) {
    if !debug_allowed(ctx) {
        return ctx.reply.error(DEBUG_NOT_ALLOWED);
    }
    let sub = &argv[1];
    match argv.len() {
        2 if args::is(sub, "HELP") => help(
            ctx,
            "DEBUG",
            &[
                "DIGEST",
                "    Output a hex signature representing the current DB content.",
                "DIGEST-VALUE <key> [<key> ...]",
                "    Output a hex signature of the values of all the specified keys.",
                "LOG <message>",
                "    Write <message> to the server log.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        ),
        3 if args::is(sub, "SLEEP") => {
            // strtod: the longest numeric prefix, 0 when there is none.
            let seconds = leading_f64(&argv[2]);
            let pause = if seconds > 0.0 {
                Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
            } else {
                Duration::ZERO
            };
            ctx.client.sleep = Some(pause);
            ctx.reply.ok();
        }
        3 if args::is(sub, "SET-ACTIVE-EXPIRE") => {
            // atoi: anything that is not a non-zero number turns the cycle off.
            let enabled = leading_f64(&argv[2]).trunc() != 0.0;
            ctx.server.expiry.enabled.store(enabled, Ordering::Relaxed);
            ctx.reply.ok();
        }
        2 if args::is(sub, "DIGEST") => {
            let digest = digest::dataset(&ctx.server.keyspace);
            ctx.reply.simple(&digest::hex(&digest));
        }
        _ if args::is(sub, "DIGEST-VALUE") => debug_digest_value(ctx, &argv[2..]),
        3 if args::is(sub, "LOG") => {
            crate::warning!("DEBUG LOG: {}", String::from_utf8_lossy(&argv[2]));
            ctx.reply.ok();
        }
        _ => {
            let name = String::from_utf8_lossy(sub);
            if DEBUG_NOT_SUPPORTED.iter().any(|n| args::is(sub, n)) {
                ctx.reply.error(format!(
                    "ERR DEBUG {} is not supported by ringkv",
                    name.to_ascii_uppercase()
                ));
            } else {
                ctx.reply.error(format!(
                    "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
                    name.chars().take(128).collect::<String>()
                ));
            }
        }
    }
}

/// DEBUG DIGEST-VALUE: one digest per key, all zeros for a missing one. Like Redis, a key
/// whose deadline has passed still counts (a debugging command sees what is stored).
fn debug_digest_value(ctx: &mut Ctx, keys: &[Bytes]) {
    ctx.reply.array(keys.len());
    for key in keys {
        let mut out = digest::Digest::default();
        let mut guard = ctx.server.keyspace.lock(ctx.client.db, key);
        if let Some(pos) = guard.find_live_untouched(i64::MIN) {
            let has_deadline = guard.expires_at(pos).is_some();
            digest::add_value(&mut out, &guard.entry(pos).value, has_deadline);
        }
        drop(guard);
        ctx.reply.simple(&digest::hex(&out));
    }
}

/// C's strtod on an argument: the value of its longest numeric prefix, or 0.
fn leading_f64(arg: &[u8]) -> f64 {
    // Longer numbers mean nothing more; the cap keeps a huge argument from costing time.
    let text = String::from_utf8_lossy(&arg[..arg.len().min(64)]);
    let text = text.trim_start();
    (1..=text.len())
        .rev()
        .filter(|&end| text.is_char_boundary(end))
        .find_map(|end| args::parse_f64(&text.as_bytes()[..end]))
        .unwrap_or(0.0)
}

/// MONITOR: the connection receives every command from then on. A client already
/// monitoring gets no reply, like in Redis; inside EXEC it is refused.
pub fn monitor(ctx: &mut Ctx, _argv: &[Bytes]) {
    if ctx.client.in_exec {
        return ctx
            .reply
            .error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    }
    if ctx.client.monitor.is_some() {
        return;
    }
    ctx.client.monitor = Some(ctx.server.monitors.add(ctx.client.id));
    ctx.reply.ok();
}

pub fn config_help(ctx: &mut Ctx, _argv: &[Bytes]) {
    help(
        ctx,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    );
}

/// Redis' addReplyHelp: a header, the lines, and the HELP entry, as simple strings.
pub fn help(ctx: &mut Ctx, command: &str, lines: &[&str]) {
    ctx.reply.array(lines.len() + 3);
    ctx.reply.simple(&format!(
        "{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for line in lines {
        ctx.reply.simple(line);
    }
    ctx.reply.simple("HELP");
    ctx.reply.simple("    Prints this help.");
}

/// Applies start-up settings (config file, then flags) with the same rules as CONFIG SET,
/// except that immutable parameters are allowed.
pub fn apply_startup_settings(config: &Config, pairs: &[(String, String)]) -> Result<(), String> {
    for (name, value) in pairs {
        let value = if name.eq_ignore_ascii_case("dir") {
            change_dir(value).map_err(|reason| format!("dir '{value}': {reason}"))?
        } else {
            value.clone()
        };
        config
            .set_many(&[(name, &value)], true)
            .map_err(|e| match e {
                SetError::Unknown(name) => format!("unknown setting '{name}'"),
                SetError::Immutable(name) => format!("setting '{name}' cannot be changed"),
                SetError::Invalid { name, reason } => {
                    format!("invalid value for '{name}': {reason}")
                }
            })?;
    }
    Ok(())
}
