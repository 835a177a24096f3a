//! The command table's row type: what the dispatcher, COMMAND and (later) replication
//! know about a command. Each family module lists its own rows in a `COMMANDS` table.

use super::Handler;

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
    /// Refused inside MULTI (SHUTDOWN, WATCH).
    pub const NO_MULTI: u32 = 1 << 11;
    pub const BLOCKING: u32 = 1 << 12;
    /// Keys are found by parsing the arguments (the numkeys of LMPOP, BLMPOP, SINTERCARD),
    /// not by first/last/step.
    pub const MOVABLE_KEYS: u32 = 1 << 13;
    /// Not a Redis flag (COMMAND INFO does not show it): O(1) in practice, though Redis does
    /// not mark it `fast` (SET may free a big old value). Timed in runs like fast commands
    /// (see [`crate::cmd::timing`]): a clock read costs as much as the command.
    pub const TIMED_IN_RUNS: u32 = 1 << 14;

    /// Names in the order Redis lists them.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (SENTINEL, "sentinel"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

pub use flags::*;

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
pub const fn command(
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

pub const fn since(mut spec: CommandSpec, version: &'static str) -> CommandSpec {
    spec.since = version;
    spec
}

pub const fn container(
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

pub const NO_KEYS: (i32, i32, i32) = (0, 0, 0);
pub const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
pub const ALL_KEYS: (i32, i32, i32) = (1, -1, 1);
