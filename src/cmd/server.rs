//! Server commands: DBSIZE, FLUSHDB, FLUSHALL, CONFIG GET / SET / RESETSTAT / HELP.
//!
//! ```text
//! DBSIZE                          :<keys in the selected database>
//! FLUSHDB [ASYNC|SYNC]            +OK
//! FLUSHALL [ASYNC|SYNC]           +OK
//! CONFIG GET pattern [pattern ..] *<name, value, name, value ...>
//! CONFIG SET name value [name value ..]   +OK, all or nothing
//! ```

use bytes::Bytes;

use super::{args, errors, Ctx};
use crate::config::{Config, SetError};
use crate::db::Shard;

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
    free_tables(
        ctx.server.keyspace.db(ctx.client.db).take_all(),
        asynchronously,
    );
    ctx.reply.ok();
}

pub fn flushall(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(asynchronously) = flush_mode(ctx, argv) else {
        return;
    };
    let tables = ctx
        .server
        .keyspace
        .dbs()
        .iter()
        .flat_map(|db| db.take_all())
        .collect();
    free_tables(tables, asynchronously);
    ctx.reply.ok();
}

pub fn config_get(ctx: &mut Ctx, argv: &[Bytes]) {
    let patterns: Vec<&[u8]> = argv[2..].iter().map(|p| &p[..]).collect();
    let pairs = ctx.server.config.matching(&patterns);
    ctx.reply.array(pairs.len() * 2);
    for (name, value) in pairs {
        ctx.reply.bulk(name.as_bytes());
        ctx.reply.bulk(value.as_bytes());
    }
}

pub fn config_set(ctx: &mut Ctx, argv: &[Bytes]) {
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
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
    match ctx.server.config.set_many(&borrowed, false) {
        Ok(()) => ctx.reply.ok(),
        Err(e) => ctx.reply.error(set_error_text(&e)),
    }
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

pub fn config_resetstat(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.server.stats.reset();
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
