//! The command table and the dispatcher.
//!
//! Every command is one [`CommandSpec`]: name, arity, flags, key positions and handler.
//! The dispatcher checks arity and authentication from the table alone, COMMAND reports
//! it, and later replication reads the `WRITE` flag from it: one source of truth.
//! Handlers fill a reply buffer through [`Ctx`]; they never see a socket.

pub mod args;
pub mod connection;
pub mod expire;
pub mod introspection;
pub mod keys;
pub mod list;
pub mod multi;
pub mod server;
pub mod set;
pub mod string;

use std::sync::OnceLock;

use bytes::Bytes;
use hashbrown::HashMap;

use crate::resp::Reply;
use crate::server::client::Client;
use crate::server::state::Server;

/// What a handler works with: the shared server, its own client, and the reply buffer.
pub struct Ctx<'a> {
    pub server: &'a Server,
    pub client: &'a mut Client,
    pub reply: &'a mut Reply,
}

pub type Handler = fn(&mut Ctx, &[Bytes]);

/// Command flags, as COMMAND INFO names them.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const NOSCRIPT: u32 = 1 << 4;
    pub const LOADING: u32 = 1 << 5;
    pub const STALE: u32 = 1 << 6;
    pub const FAST: u32 = 1 << 7;
    pub const NO_AUTH: u32 = 1 << 8;
    pub const SENTINEL: u32 = 1 << 9;
    pub const ALLOW_BUSY: u32 = 1 << 10;

    /// Names in the order Redis lists them.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (NOSCRIPT, "noscript"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (SENTINEL, "sentinel"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

use flags::*;

#[derive(Debug)]
pub struct CommandSpec {
    /// Lower case, as COMMAND reports it.
    pub name: &'static str,
    /// `n`: exactly n arguments including the name; `-n`: at least n.
    pub arity: i32,
    pub flags: u32,
    /// Key positions: first, last (negative counts from the end) and step; 0 0 0 for none.
    pub keys: (i32, i32, i32),
    /// Family, as COMMAND DOCS reports it (`string`, `generic`, `server`, ...).
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    /// None for a container whose work is done by its subcommands (CONFIG, COMMAND).
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// `config|get` for a subcommand, `get` for a command.
    pub fn full_name(&self, parent: Option<&CommandSpec>) -> String {
        match parent {
            Some(p) => format!("{}|{}", p.name, self.name),
            None => self.name.to_string(),
        }
    }
}

/// A table entry, with defaults for the documentation fields a row does not name.
const fn command(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    group: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        keys,
        group,
        since: "1.0.0",
        summary,
        handler: Some(handler),
        subcommands: &[],
    }
}

const fn since(mut spec: CommandSpec, version: &'static str) -> CommandSpec {
    spec.since = version;
    spec
}

const fn container(
    name: &'static str,
    flags: u32,
    group: &'static str,
    since: &'static str,
    summary: &'static str,
    subcommands: &'static [CommandSpec],
) -> CommandSpec {
    CommandSpec {
        name,
        arity: -2,
        flags,
        keys: (0, 0, 0),
        group,
        since,
        summary,
        handler: None,
        subcommands,
    }
}

const NO_KEYS: (i32, i32, i32) = (0, 0, 0);
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const ALL_KEYS: (i32, i32, i32) = (1, -1, 1);

// One row per command: name, arity, flags, key positions, group, summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    // connection
    command("ping", -1, FAST | SENTINEL, NO_KEYS, "connection", "Ping the server", connection::ping),
    command("echo", 2, FAST, NO_KEYS, "connection", "Echo the given string", connection::echo),
    command("quit", -1, ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH, NO_KEYS, "connection", "Close the connection", connection::quit),
    command("select", 2, LOADING | STALE | FAST, NO_KEYS, "connection", "Change the selected database for the current connection", connection::select),
    command("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, NO_KEYS, "connection", "Authenticate to the server", connection::auth),
    // strings
    command("get", 2, READONLY | FAST, ONE_KEY, "string", "Get the value of a key", string::get),
    command("set", -3, WRITE | DENYOOM, ONE_KEY, "string", "Set the string value of a key", string::set),
    since(command("mset", -3, WRITE | DENYOOM, (1, -1, 2), "string", "Set multiple keys to multiple values", string::mset), "1.0.1"),
    since(command("incrbyfloat", 3, WRITE | DENYOOM | FAST, ONE_KEY, "string", "Increment the float value of a key by the given amount", string::incrbyfloat), "2.6.0"),
    // lists
    command("lpush", -3, WRITE | DENYOOM | FAST, ONE_KEY, "list", "Prepend one or multiple elements to a list", list::lpush),
    command("rpush", -3, WRITE | DENYOOM | FAST, ONE_KEY, "list", "Append one or multiple elements to a list", list::rpush),
    command("llen", 2, READONLY | FAST, ONE_KEY, "list", "Get the length of a list", list::llen),
    since(command("blpop", -3, WRITE | NOSCRIPT, (1, -2, 1), "list", "Remove and get the first element in a list, or block until one is available", list::blpop), "2.0.0"),
    // sets
    command("sadd", -3, WRITE | DENYOOM | FAST, ONE_KEY, "set", "Add one or more members to a set", set::sadd),
    command("scard", 2, READONLY | FAST, ONE_KEY, "set", "Get the number of members in a set", set::scard),
    command("srandmember", -2, READONLY, ONE_KEY, "set", "Get one or multiple random members from a set", set::srandmember),
    // keyspace
    command("del", -2, WRITE, ALL_KEYS, "generic", "Delete a key", keys::del),
    command("exists", -2, READONLY | FAST, ALL_KEYS, "generic", "Determine if a key exists", keys::exists),
    command("type", 2, READONLY | FAST, ONE_KEY, "generic", "Determine the type stored at key", keys::type_of),
    command("keys", 2, READONLY, NO_KEYS, "generic", "Find all keys matching the given pattern", keys::keys),
    command("ttl", 2, READONLY | FAST, ONE_KEY, "generic", "Get the time to live for a key in seconds", expire::ttl),
    since(command("pttl", 2, READONLY | FAST, ONE_KEY, "generic", "Get the time to live for a key in milliseconds", expire::pttl), "2.6.0"),
    command("expire", -3, WRITE | FAST, ONE_KEY, "generic", "Set a key's time to live in seconds", expire::expire),
    since(command("pexpire", -3, WRITE | FAST, ONE_KEY, "generic", "Set a key's time to live in milliseconds", expire::pexpire), "2.6.0"),
    since(command("persist", 2, WRITE | FAST, ONE_KEY, "generic", "Remove the expiration from a key", expire::persist), "2.2.0"),
    // transactions
    since(command("multi", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, NO_KEYS, "transactions", "Mark the start of a transaction block", multi::multi), "1.2.0"),
    since(command("exec", 1, NOSCRIPT | LOADING | STALE, NO_KEYS, "transactions", "Execute all commands issued after MULTI", multi::exec), "1.2.0"),
    since(command("discard", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, NO_KEYS, "transactions", "Discard all commands issued after MULTI", multi::discard), "2.0.0"),
    // server
    command("dbsize", 1, READONLY | FAST, NO_KEYS, "server", "Return the number of keys in the selected database", server::dbsize),
    command("flushdb", -1, WRITE, NO_KEYS, "server", "Remove all keys from the current database", server::flushdb),
    command("flushall", -1, WRITE, NO_KEYS, "server", "Remove all keys from all databases", server::flushall),
    command("info", -1, LOADING | STALE | SENTINEL, NO_KEYS, "server", "Get information and statistics about the server", introspection::info),
    container("config", 0, "server", "2.0.0", "A container for server configuration commands", &[
        command("get", -3, ADMIN | NOSCRIPT | LOADING | STALE, NO_KEYS, "server", "Get the values of configuration parameters", server::config_get),
        command("set", -4, ADMIN | NOSCRIPT | LOADING | STALE, NO_KEYS, "server", "Set configuration parameters to the given values", server::config_set),
        command("resetstat", 2, ADMIN | NOSCRIPT | LOADING | STALE, NO_KEYS, "server", "Reset the stats returned by INFO", server::config_resetstat),
        command("help", 2, LOADING | STALE, NO_KEYS, "server", "Show helpful text about the different subcommands", server::config_help),
    ]),
    // COMMAND alone lists every command; it is also the container of COUNT, INFO, ...
    CommandSpec {
        arity: -1,
        handler: Some(introspection::command_all),
        ..container("command", LOADING | STALE | SENTINEL, "server", "2.8.13", "Get array of Redis command details", &[
            command("count", 2, LOADING | STALE, NO_KEYS, "server", "Get total number of Redis commands", introspection::command_count),
            command("info", -2, LOADING | STALE, NO_KEYS, "server", "Get array of specific Redis command details, or all when no argument is given", introspection::command_info),
            command("docs", -2, LOADING | STALE, NO_KEYS, "server", "Get array of specific Redis command documentation", introspection::command_docs),
            command("list", -2, LOADING | STALE, NO_KEYS, "server", "Get an array of Redis command names", introspection::command_list),
            command("help", 2, LOADING | STALE, NO_KEYS, "server", "Show helpful text about the different subcommands", introspection::command_help),
        ])
    },
];

/// Commands by lower-case name, built once.
fn index() -> &'static HashMap<&'static str, &'static CommandSpec> {
    static INDEX: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    INDEX.get_or_init(|| COMMANDS.iter().map(|c| (c.name, c)).collect())
}

/// Finds a command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut lower = [0u8; 32];
    let lower = lower.get_mut(..name.len())?;
    for (dst, src) in lower.iter_mut().zip(name) {
        *dst = src.to_ascii_lowercase();
    }
    index().get(std::str::from_utf8(lower).ok()?).copied()
}

fn lookup_subcommand(parent: &'static CommandSpec, name: &[u8]) -> Option<&'static CommandSpec> {
    parent
        .subcommands
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}

/// Executes one command, appending its reply. Inside MULTI the command is queued instead,
/// and a refused command marks the transaction failed.
pub fn execute(ctx: &mut Ctx, argv: &[Bytes]) {
    let spec = match resolve(ctx, argv) {
        Ok(spec) => spec,
        Err(message) => {
            ctx.reply.error(message);
            if let Some(transaction) = &mut ctx.client.transaction {
                transaction.failed = true;
            }
            return;
        }
    };
    if let Some(transaction) = &mut ctx.client.transaction {
        if !multi::controls_transaction(spec.name) {
            transaction.queued.push(argv.to_vec());
            ctx.reply.simple("QUEUED");
            return;
        }
    }
    let handler = spec
        .handler
        .expect("containers without a handler always dispatch to a subcommand");
    handler(ctx, argv);
    ctx.server
        .stats
        .commands_processed
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// The command `argv` names, checked for arity and authentication, or the error reply.
fn resolve(ctx: &Ctx, argv: &[Bytes]) -> Result<&'static CommandSpec, String> {
    let spec = lookup(&argv[0]).ok_or_else(|| unknown_command_message(argv))?;
    let (spec, parent) = match (spec.subcommands.is_empty(), argv.get(1)) {
        (false, Some(sub)) => match lookup_subcommand(spec, sub) {
            Some(sub_spec) => (sub_spec, Some(spec)),
            None => {
                return Err(format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    c_str(sub, 128),
                    spec.name.to_ascii_uppercase()
                ))
            }
        },
        _ => (spec, None),
    };
    let argc = argv.len() as i32;
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        return Err(wrong_arity(&spec.full_name(parent)));
    }
    if !ctx.client.authenticated && !spec.has(NO_AUTH) {
        return Err("NOAUTH Authentication required.".into());
    }
    Ok(spec)
}

pub fn wrong_arity(full_name: &str) -> String {
    format!("ERR wrong number of arguments for '{full_name}' command")
}

/// `unknown command 'foo', with args beginning with: 'a' 'b' ` — Redis quotes the
/// arguments until the list passes 128 bytes.
fn unknown_command_message(argv: &[Bytes]) -> String {
    let mut args = String::new();
    for arg in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push('\'');
        args.push_str(&c_str(arg, room));
        args.push_str("' ");
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        c_str(&argv[0], 128),
        args
    )
}

/// What C's `%.Ns` prints of an argument: up to the first NUL, at most `max` bytes.
fn c_str(arg: &[u8], max: usize) -> String {
    let end = arg
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(arg.len())
        .min(max);
    String::from_utf8_lossy(&arg[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_rejects_long_names() {
        assert_eq!(lookup(b"GeT").unwrap().name, "get");
        assert!(lookup(b"nosuchcommand").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
    }

    #[test]
    fn unknown_command_lists_arguments_like_redis() {
        let argv: Vec<Bytes> = ["foo", "a", "b"].iter().map(|s| Bytes::from(*s)).collect();
        assert_eq!(
            unknown_command_message(&argv),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
        let long: Vec<Bytes> = vec![
            Bytes::from("x"),
            Bytes::from(vec![b'y'; 200]),
            Bytes::from("z"),
        ];
        let message = unknown_command_message(&long);
        assert!(message.ends_with(&format!("'{}' ", "y".repeat(128))));
    }

    #[test]
    fn every_command_name_is_lower_case_and_unique() {
        let mut names: Vec<_> = COMMANDS.iter().map(|c| c.name).collect();
        assert!(names
            .iter()
            .all(|n| n.bytes().all(|b| !b.is_ascii_uppercase())));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len());
    }
}

/// Error replies shared by many commands, worded as Redis words them.
pub mod errors {
    pub const SYNTAX: &str = "ERR syntax error";
    pub const NOT_AN_INTEGER: &str = "ERR value is not an integer or out of range";
    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
}

impl Ctx<'_> {
    /// The clock commands read deadlines against.
    pub fn now_ms(&self) -> i64 {
        crate::db::now_ms()
    }

    /// Locks the shard of `key` in the client's database.
    pub fn lock<'k>(&'k self, key: &'k [u8]) -> crate::db::KeyGuard<'k> {
        self.server.keyspace.lock(self.client.db, key)
    }

    /// Counts a read lookup for INFO's keyspace_hits / keyspace_misses.
    pub fn count_lookup(&self, hit: bool) {
        let stats = &self.server.stats;
        let counter = if hit {
            &stats.keyspace_hits
        } else {
            &stats.keyspace_misses
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// An integer argument, or the standard error reply and None.
    pub fn int_arg(&mut self, arg: &[u8]) -> Option<i64> {
        let n = args::parse_i64(arg);
        if n.is_none() {
            self.reply.error(errors::NOT_AN_INTEGER);
        }
        n
    }
}
