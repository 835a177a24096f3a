//! Persistence commands: SAVE, BGSAVE, LASTSAVE, DUMP, RESTORE.
//!
//! ```text
//! SAVE                     +OK | -ERR (failed, see the log)
//!                          | -ERR Background save already in progress
//! BGSAVE [SCHEDULE]        +Background saving started
//!                          | -ERR Background save already in progress
//! LASTSAVE                 :<unix seconds of the last successful save>
//! DUMP key                 $<payload> | $-1
//! RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
//!                          +OK | -BUSYKEY Target key name already exists.
//!                          | -ERR Invalid TTL value, must be >= 0
//!                          | -ERR DUMP payload version or checksum are wrong
//!                          | -ERR Bad data format
//! ```

use bytes::Bytes;

use super::{args, errors, Ctx};
use crate::persist::snapshot::write_value;
use crate::persist::{self, StartError};
use crate::rdb::{dump, into_keyspace};

use super::spec::*;

const IN_PROGRESS: &str = "ERR Background save already in progress";

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("save", 1, ADMIN | NOSCRIPT | NO_MULTI, NO_KEYS, "server", "Synchronously save the dataset to disk", save),
    command("bgsave", -1, ADMIN | NOSCRIPT, NO_KEYS, "server", "Asynchronously save the dataset to disk", bgsave),
    command("lastsave", 1, LOADING | STALE | FAST, NO_KEYS, "server", "Get the UNIX time stamp of the last successful save to disk", lastsave),
    since(command("dump", 2, READONLY, ONE_KEY, "generic", "Return a serialized version of the value stored at the specified key.", dump), "2.6.0"),
    since(command("restore", -4, WRITE | DENYOOM, ONE_KEY, "generic", "Create a key using the provided serialized value, previously obtained using DUMP.", restore), "2.6.0"),
];

pub fn save(ctx: &mut Ctx, _argv: &[Bytes]) {
    match persist::save(ctx.server) {
        Err(StartError::InProgress) => ctx.reply.error(IN_PROGRESS),
        Ok(Ok(())) => ctx.reply.ok(),
        // Redis answers a failed SAVE with a bare `-ERR` (the reason is in the log).
        Ok(Err(_)) => ctx.reply.error("ERR"),
    }
}

pub fn bgsave(ctx: &mut Ctx, argv: &[Bytes]) {
    match argv {
        [_] => {}
        [_, schedule] if args::is(schedule, "SCHEDULE") => {}
        _ => return ctx.reply.error(errors::SYNTAX),
    }
    // SCHEDULE only matters while another kind of child runs in Redis (an AOF rewrite);
    // ringkv has none, so it starts at once like a plain BGSAVE. Inside EXEC it waits
    // for the transaction, as Redis does.
    let started = if ctx.client.in_exec {
        persist::schedule_bgsave(ctx.server).map(|()| "Background saving scheduled")
    } else {
        persist::bgsave(ctx.server).map(|()| "Background saving started")
    };
    match started {
        Ok(status) => ctx.reply.simple(status),
        Err(StartError::InProgress) => ctx.reply.error(IN_PROGRESS),
    }
}

pub fn lastsave(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.reply.int(ctx.server.persistence.last_save());
}

pub fn dump(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let enc = persist::encoding(&ctx.server.config);
    let mut guard = ctx.lock(&argv[1]);
    let Some(entry) = guard.get(now) else {
        drop(guard);
        ctx.count_lookup(false);
        return ctx.reply.null();
    };
    let payload = dump::encode(&enc, |v| write_value(v, &entry.value));
    drop(guard);
    ctx.count_lookup(true);
    match payload {
        Ok(payload) => ctx.reply.bulk(&payload),
        Err(e) => ctx.reply.error(format!("ERR {e}")),
    }
}

/// RESTORE's options after the payload.
#[derive(Default)]
struct RestoreOptions {
    replace: bool,
    absttl: bool,
    idle: Option<u64>,
    freq: Option<u8>,
}

/// Parses the options as Redis does, left to right: IDLETIME and FREQ exclude each other
/// (the second one is a syntax error); a bad number stops at once.
fn restore_options(argv: &[Bytes]) -> Result<RestoreOptions, &'static str> {
    let mut o = RestoreOptions::default();
    let mut i = 4;
    while i < argv.len() {
        let arg = &argv[i];
        let value = argv.get(i + 1);
        if args::is(arg, "REPLACE") {
            o.replace = true;
        } else if args::is(arg, "ABSTTL") {
            o.absttl = true;
        } else if let (true, Some(value), None) = (args::is(arg, "IDLETIME"), value, o.freq) {
            let idle = crate::num::parse_i64(value).ok_or(errors::NOT_AN_INTEGER)?;
            o.idle =
                Some(u64::try_from(idle).map_err(|_| "ERR Invalid IDLETIME value, must be >= 0")?);
            i += 1;
        } else if let (true, Some(value), None) = (args::is(arg, "FREQ"), value, o.idle) {
            let freq = crate::num::parse_i64(value).ok_or(errors::NOT_AN_INTEGER)?;
            o.freq = Some(
                u8::try_from(freq)
                    .map_err(|_| "ERR Invalid FREQ value, must be >= 0 and <= 255")?,
            );
            i += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        i += 1;
    }
    Ok(o)
}

pub fn restore(ctx: &mut Ctx, argv: &[Bytes]) {
    let options = match restore_options(argv) {
        Ok(o) => o,
        Err(e) => return ctx.reply.error(e),
    };
    // The payload is checked before the key is locked; its errors are reported in the
    // order Redis reports them (after BUSYKEY and the TTL).
    let now = ctx.now_ms();
    let load_options = into_keyspace::Options::for_master(&ctx.server.config, now);
    let value =
        dump::decode(&argv[3]).and_then(|v| match into_keyspace::to_value(v, &load_options) {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(dump::PayloadError::BadData("empty collection".into())),
            Err(e) => Err(dump::PayloadError::BadData(e)),
        });
    let mut guard = ctx.lock(&argv[1]);
    let existing = guard.find_live(now);
    if existing.is_some() && !options.replace {
        drop(guard);
        return ctx.reply.error("BUSYKEY Target key name already exists.");
    }
    let ttl = match crate::num::parse_i64(&argv[2]) {
        None => {
            drop(guard);
            return ctx.reply.error(errors::NOT_AN_INTEGER);
        }
        Some(ttl) if ttl < 0 => {
            drop(guard);
            return ctx.reply.error("ERR Invalid TTL value, must be >= 0");
        }
        Some(ttl) => ttl,
    };
    let value = match value {
        Ok(v) => v,
        Err(e) => {
            drop(guard);
            return ctx.reply.error(e.message());
        }
    };
    let removed = existing.map(|pos| guard.remove_at(pos));
    let deadline = match ttl {
        0 => None,
        ttl if options.absttl => Some(ttl),
        ttl => Some(ttl.saturating_add(now)),
    };
    if deadline.is_some_and(|at| at <= now) {
        // Already expired: nothing is created (and a replaced key is gone).
        if removed.is_some() {
            ctx.propagate(&[b"DEL", &argv[1][..]]);
        }
        drop(guard);
        crate::persist::dirty::changed(u64::from(removed.is_some()));
        drop(removed);
        return ctx.reply.ok();
    }
    let pos = guard.set_found(None, value, false, now);
    guard.set_expiry(pos, deadline);
    if let Some(idle) = options.idle {
        guard.entry_mut(pos).set_idle(now, idle);
    }
    match deadline {
        // Replicas get the absolute deadline (Redis 7.0 appends ABSTTL).
        Some(at) if !options.absttl => {
            let mut rewritten = argv.to_vec();
            rewritten[2] = Bytes::from(at.to_string());
            rewritten.push(Bytes::from_static(b"ABSTTL"));
            ctx.propagate(&rewritten);
        }
        _ => ctx.propagate(argv),
    }
    drop(guard);
    drop(removed);
    ctx.reply.ok();
}
