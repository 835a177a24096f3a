//! Set commands: SADD, SCARD, SRANDMEMBER, SSCAN.
//!
//! ```text
//! SADD key member [member ...]   :<members added>
//! SCARD key                      :<members>
//! SRANDMEMBER key [count]        a random member (null bulk for no key); with a count,
//!                                up to count distinct members, or -count with repeats
//! SSCAN key cursor [MATCH pattern] [COUNT count]
//!                                *2 $0 *<members>: the whole set in one call
//! ```

use bytes::Bytes;

use super::keys::{parse_cursor, reply_scan, ScanOptions};
use super::{errors, pick, Ctx};
use crate::db::expire::Rng;
use crate::db::value::keep;
use crate::db::Value;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("sadd", -3, WRITE | DENYOOM | FAST, ONE_KEY, "set", "Add one or more members to a set", sadd),
    command("scard", 2, READONLY | FAST, ONE_KEY, "set", "Get the number of members in a set", scard),
    command("srem", -3, WRITE | FAST, ONE_KEY, "set", "Remove one or more members from a set", srem),
    command("srandmember", -2, READONLY, ONE_KEY, "set", "Get one or multiple random members from a set", srandmember),
    since(command("sscan", -3, READONLY, ONE_KEY, "set", "Incrementally iterate Set elements", sscan), "2.8.0"),
];

pub fn sadd(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let mut guard = ctx.lock(&argv[1]);
    let pos = match guard.find_live(now) {
        Some(pos) => pos,
        None => guard.set(Value::Set(Default::default()), false, now),
    };
    let Value::Set(set) = &mut guard.entry_mut(pos).value else {
        drop(guard);
        return ctx.reply.error(errors::WRONGTYPE);
    };
    let added = argv[2..].iter().filter(|m| set.insert(keep(m))).count();
    if added > 0 {
        ctx.propagate(argv);
    }
    drop(guard);
    crate::persist::dirty::changed(added as u64);
    ctx.reply.int(added as i64);
}

pub fn scard(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let mut guard = ctx.lock(&argv[1]);
    let len = match guard.get(now).map(|e| &e.value) {
        None => Some(0),
        Some(Value::Set(set)) => Some(set.len()),
        Some(_) => None,
    };
    drop(guard);
    match len {
        Some(len) => ctx.reply.int(len as i64),
        None => ctx.reply.error(errors::WRONGTYPE),
    }
}

pub fn srandmember(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() > 3 {
        return ctx.reply.error(errors::SYNTAX);
    }
    let count = match argv.get(2) {
        None => None,
        Some(text) => match pick::parse_count(ctx, text) {
            Some(n) if pick::too_many_repeats(n) => {
                return ctx.reply.error("ERR value is out of range")
            }
            Some(n) => Some(n),
            None => return,
        },
    };
    let now = ctx.now_ms();
    let mut guard = ctx.lock(&argv[1]);
    let members: Vec<Bytes> = match guard.get(now).map(|e| &e.value) {
        None => Vec::new(),
        Some(Value::Set(set)) => set.iter().cloned().collect(),
        Some(_) => {
            drop(guard);
            return ctx.reply.error(errors::WRONGTYPE);
        }
    };
    drop(guard);
    let mut rng = Rng::seeded();
    match count {
        None if members.is_empty() => ctx.reply.null(),
        None => ctx.reply.bulk(&members[rng.below(members.len())]),
        Some(n) => {
            let picks = pick::positions(members.len(), n, &mut rng);
            ctx.reply.array(picks.len());
            for i in picks {
                ctx.reply.bulk(&members[i]);
            }
        }
    }
}

/// SSCAN answers the whole set at once with cursor 0, whatever the cursor and COUNT: what
/// Redis does for its compact set encodings, and within SCAN's guarantees (every member
/// present throughout is returned). The set type has no stable positions to resume from.
pub fn sscan(ctx: &mut Ctx, argv: &[Bytes]) {
    if parse_cursor(&argv[2]).is_none() {
        return ctx.reply.error("ERR invalid cursor");
    }
    let now = ctx.now_ms();
    let mut guard = ctx.lock(&argv[1]);
    let members: Option<Vec<Bytes>> = match guard.get(now).map(|e| &e.value) {
        None => None,
        Some(Value::Set(set)) => Some(set.iter().cloned().collect()),
        Some(_) => {
            drop(guard);
            ctx.count_lookup(true);
            return ctx.reply.error(errors::WRONGTYPE);
        }
    };
    drop(guard);
    ctx.count_lookup(members.is_some());
    // Like Redis, options are checked only once the key is known to be a set.
    let Some(mut members) = members else {
        return reply_scan(ctx, 0, &[]);
    };
    let Some(options) = ScanOptions::parse(ctx, &argv[3..], false) else {
        return;
    };
    members.retain(|m| options.matches(m));
    reply_scan(ctx, 0, &members);
}

pub fn srem(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let mut guard = ctx.lock(&argv[1]);
    let Some(pos) = guard.find_live(now) else {
        drop(guard);
        crate::persist::dirty::changed(0);
        return ctx.reply.int(0);
    };
    let Value::Set(set) = &mut guard.entry_mut(pos).value else {
        drop(guard);
        return ctx.reply.error(errors::WRONGTYPE);
    };
    let removed = argv[2..].iter().filter(|m| set.remove(&m[..])).count();
    if set.is_empty() {
        guard.remove_at(pos);
    }
    if removed > 0 {
        ctx.propagate(argv);
    }
    drop(guard);
    crate::persist::dirty::changed(removed as u64);
    ctx.reply.int(removed as i64);
}
