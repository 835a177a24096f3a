//! The command table and the dispatcher.
//!
//! Every command is one [`CommandSpec`]: name, arity, flags, key positions and handler.
//! The dispatcher checks arity and authentication from the table alone, COMMAND reports
//! it, and later replication reads the `WRITE` flag from it: one source of truth.
//! Handlers fill a reply buffer through [`Ctx`]; they never see a socket.

pub mod args;
pub mod bitmap;
pub mod connection;
pub mod docs;
pub mod expire;
pub mod introspection;
pub mod keys;
pub mod list;
pub mod multi;
pub mod server;
pub mod set;
pub mod spec;
pub mod string;

use std::sync::OnceLock;

use bytes::Bytes;
use hashbrown::HashMap;

use crate::resp::Reply;
use crate::server::client::Client;
use crate::server::state::Server;

use spec::NO_AUTH;
pub use spec::{flags, CommandSpec};

/// What a handler works with: the shared server, its own client, and the reply buffer.
pub struct Ctx<'a> {
    pub server: &'a Server,
    pub client: &'a mut Client,
    pub reply: &'a mut Reply,
}

pub type Handler = fn(&mut Ctx, &[Bytes]);

/// Every family's table, in the order COMMAND lists them.
const FAMILIES: &[&[CommandSpec]] = &[
    connection::COMMANDS,
    string::COMMANDS,
    bitmap::COMMANDS,
    list::COMMANDS,
    set::COMMANDS,
    keys::COMMANDS,
    expire::COMMANDS,
    multi::COMMANDS,
    server::COMMANDS,
    introspection::COMMANDS,
];

/// Every top-level command.
pub fn commands() -> impl Iterator<Item = &'static CommandSpec> {
    FAMILIES.iter().flat_map(|family| family.iter())
}

/// Commands by lower-case name, built once.
fn index() -> &'static HashMap<&'static str, &'static CommandSpec> {
    static INDEX: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    INDEX.get_or_init(|| commands().map(|c| (c.name, c)).collect())
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
        let mut names: Vec<_> = commands().map(|c| c.name).collect();
        let count = names.len();
        assert!(names
            .iter()
            .all(|n| n.bytes().all(|b| !b.is_ascii_uppercase())));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
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
