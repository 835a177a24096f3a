//! Set commands on one set at a time (the multi-key algebra is in set_algebra.rs).
//!
//! ```text
//! SADD key member [member ...]   :<members added>
//! SREM key member [member ...]   :<members removed> (the key goes with the last)
//! SCARD key                      :<members>
//! SISMEMBER key member           :1 or :0
//! SMISMEMBER key member [...]    *<:1 or :0 per member>
//! SMEMBERS key                   *<every member> (hash-table order)
//! SRANDMEMBER key [count]        a random member (null bulk for no key); with a count,
//!                                up to count distinct members, or -count with repeats
//! SPOP key [count]               a random member removed (null bulk for no key); with a
//!                                count, *<up to count members removed>
//! SMOVE source destination member   :1 moved, :0 not in source
//! SSCAN key cursor [MATCH pattern] [COUNT count]
//!                                *2 $0 *<members>: the whole set in one call
//! ```
//! Replicas get SPOP as Redis 7.0.15 sends it: `SREM key member` per member (wrapped in
//! MULTI/EXEC when there are several), or `DEL key` when the count takes the whole set.

use bytes::Bytes;

use super::keys::{parse_cursor, reply_scan, ScanOptions};
use super::{errors, pick, Ctx};
use crate::db::expire::Rng;
use crate::db::set::{intset_limit, Set};
use crate::db::{KeyGuard, Value};
use crate::resp::Reply;

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
    command("sismember", 3, READONLY | FAST, ONE_KEY, "set", "Determine if a given value is a member of a set", sismember),
    since(command("smismember", -3, READONLY | FAST, ONE_KEY, "set", "Returns the membership associated with the given elements for a set", smismember), "6.2.0"),
    command("smembers", 2, READONLY, ONE_KEY, "set", "Get all the members in a set", smembers),
    command("spop", -2, WRITE | FAST, ONE_KEY, "set", "Remove and return one or multiple random members from a set", spop),
    command("smove", 4, WRITE | FAST, (1, 2, 1), "set", "Move a member from one set to another", smove),
];

/// The live `set-max-intset-entries`, as Redis applies it.
pub fn max_intset(ctx: &Ctx) -> usize {
    intset_limit(ctx.server.config.get_int("set-max-intset-entries"))
}

/// Runs `read` on the set at `key` (see [`Ctx::read_typed`]).
fn read_set<R>(
    ctx: &mut Ctx,
    key: &[u8],
    read: impl FnOnce(Option<&Set>, &mut Reply) -> R,
) -> Option<R> {
    fn typed(value: &Value) -> Option<&Set> {
        match value {
            Value::Set(set) => Some(set),
            _ => None,
        }
    }
    ctx.read_typed(key, typed, read)
}

/// The position of the set at the guard's key, if there is one; Err(()) when the key
/// holds another type.
fn find_set<S: std::ops::DerefMut<Target = crate::db::Shard>>(
    guard: &mut KeyGuard<'_, S>,
    now: i64,
) -> Result<Option<usize>, ()> {
    match guard.find_live(now) {
        None => Ok(None),
        Some(pos) if matches!(guard.entry(pos).value, Value::Set(_)) => Ok(Some(pos)),
        Some(_) => Err(()),
    }
}

/// Locks `key` for a write and finds its set (None when the key is missing); None after
/// the WRONGTYPE reply when it holds another type.
fn lock_set<'s: 'k, 'k>(
    ctx: &mut Ctx<'s>,
    key: &'k [u8],
    now: i64,
) -> Option<(KeyGuard<'k>, Option<usize>)> {
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, key);
    match find_set(&mut guard, now) {
        Ok(pos) => Some((guard, pos)),
        Err(()) => {
            drop(guard);
            ctx.reply.error(errors::WRONGTYPE);
            None
        }
    }
}

/// The set at `pos`, which [`find_set`] found or the caller just stored.
fn set_at<'g, S: std::ops::DerefMut<Target = crate::db::Shard>>(
    guard: &'g mut KeyGuard<'_, S>,
    pos: usize,
) -> &'g mut Set {
    match &mut guard.entry_mut(pos).value {
        Value::Set(set) => set,
        _ => unreachable!("find_set checked the type"),
    }
}

pub fn sadd(ctx: &mut Ctx, argv: &[Bytes]) {
    let (max, now) = (max_intset(ctx), ctx.now_ms());
    let Some((mut guard, pos)) = lock_set(ctx, &argv[1], now) else {
        return;
    };
    let pos = pos.unwrap_or_else(|| guard.set(Value::Set(Default::default()), false, now));
    let set = set_at(&mut guard, pos);
    let added = argv[2..].iter().filter(|m| set.insert(m, max)).count();
    if added > 0 {
        ctx.propagate(argv);
    }
    drop(guard);
    crate::persist::dirty::changed(added as u64);
    ctx.reply.int(added as i64);
}

pub fn srem(ctx: &mut Ctx, argv: &[Bytes]) {
    let (max, now) = (max_intset(ctx), ctx.now_ms());
    let Some((mut guard, pos)) = lock_set(ctx, &argv[1], now) else {
        return;
    };
    let Some(pos) = pos else {
        drop(guard);
        crate::persist::dirty::changed(0);
        return ctx.reply.int(0);
    };
    let set = set_at(&mut guard, pos);
    let removed = argv[2..].iter().filter(|m| set.remove(m, max)).count();
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

pub fn scard(ctx: &mut Ctx, argv: &[Bytes]) {
    read_set(ctx, &argv[1], |set, reply| {
        reply.int(set.map_or(0, |s| s.len()) as i64)
    });
}

pub fn sismember(ctx: &mut Ctx, argv: &[Bytes]) {
    read_set(ctx, &argv[1], |set, reply| {
        reply.int(set.is_some_and(|s| s.contains(&argv[2][..])) as i64)
    });
}

pub fn smismember(ctx: &mut Ctx, argv: &[Bytes]) {
    read_set(ctx, &argv[1], |set, reply| {
        reply.array(argv.len() - 2);
        for member in &argv[2..] {
            reply.int(set.is_some_and(|s| s.contains(&member[..])) as i64);
        }
    });
}

pub fn smembers(ctx: &mut Ctx, argv: &[Bytes]) {
    read_set(ctx, &argv[1], |set, reply| {
        reply.array(set.map_or(0, Set::len));
        for member in set.into_iter().flat_map(Set::iter) {
            reply.bulk(member);
        }
    });
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
    let mut rng = Rng::seeded();
    read_set(ctx, &argv[1], |set, reply| {
        let members = set.map_or(&[][..], Set::members);
        match count {
            None if members.is_empty() => reply.null(),
            None => reply.bulk(&members[rng.below(members.len())]),
            Some(n) => {
                let picks = pick::positions(members.len(), n, &mut rng);
                reply.array(picks.len());
                for i in picks {
                    reply.bulk(&members[i]);
                }
            }
        }
    });
}

/// SSCAN answers the whole set at once with cursor 0, whatever the cursor and COUNT: what
/// Redis does for its compact set encodings, and within SCAN's guarantees (every member
/// present throughout is returned). The set type has no stable positions to resume from.
pub fn sscan(ctx: &mut Ctx, argv: &[Bytes]) {
    if parse_cursor(&argv[2]).is_none() {
        return ctx.reply.error("ERR invalid cursor");
    }
    // Like Redis, options are checked only once the key is known to be a set.
    let members = read_set(ctx, &argv[1], |set, _| set.map(|s| s.members().to_vec()));
    let mut members = match members {
        None => return,
        Some(None) => return reply_scan(ctx, 0, &[]),
        Some(Some(members)) => members,
    };
    let Some(options) = ScanOptions::parse(ctx, &argv[3..], false) else {
        return;
    };
    members.retain(|m| options.matches(m));
    reply_scan(ctx, 0, &members);
}

/// Redis 7.0's SPOP_MOVE_STRATEGY_MUL: past `remaining * 5 > count`, SPOP with a count
/// picks the members that stay and rebuilds the set from them instead.
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;

pub fn spop(ctx: &mut Ctx, argv: &[Bytes]) {
    match argv.len() {
        2 => {}
        3 => return spop_count(ctx, argv),
        _ => return ctx.reply.error(errors::SYNTAX),
    }
    let (now, max) = (ctx.now_ms(), max_intset(ctx));
    let Some((mut guard, pos)) = lock_set(ctx, &argv[1], now) else {
        return;
    };
    let Some(pos) = pos else {
        drop(guard);
        crate::persist::dirty::changed(0);
        return ctx.reply.null();
    };
    let set = set_at(&mut guard, pos);
    let Some(member) = set.pop_random(&mut Rng::seeded(), max) else {
        unreachable!("the keyspace holds no empty set");
    };
    if set.is_empty() {
        guard.remove_at(pos);
    }
    ctx.propagate(&[b"SREM", &argv[1][..], &member[..]]);
    drop(guard);
    crate::persist::dirty::changed(1);
    ctx.reply.bulk(&member);
}

/// SPOP key count, as Redis 7.0's spopWithCountCommand.
fn spop_count(ctx: &mut Ctx, argv: &[Bytes]) {
    let count = match crate::num::parse_i64(&argv[2]).and_then(|n| u64::try_from(n).ok()) {
        Some(count) => count,
        None => {
            return ctx
                .reply
                .error("ERR value is out of range, must be positive")
        }
    };
    let (server, now, max) = (ctx.server, ctx.now_ms(), max_intset(ctx));
    let key = &argv[1][..];
    let Some((mut guard, pos)) = lock_set(ctx, key, now) else {
        return;
    };
    let Some(pos) = pos.filter(|_| count > 0) else {
        drop(guard);
        crate::persist::dirty::changed(0);
        return ctx.reply.array(0);
    };
    let set = set_at(&mut guard, pos);
    let size = set.len();
    let popped: Vec<Bytes> = if count >= size as u64 {
        // The whole set goes: replicas get DEL (UNLINK with lazyfree-lazy-server-del).
        let members = set.take_members();
        guard.remove_at(pos);
        let del: &[u8] = match server.config.get("lazyfree-lazy-server-del").as_str() {
            "yes" => b"UNLINK",
            _ => b"DEL",
        };
        ctx.propagate(&[del, key]);
        members
    } else {
        // count < size, so nothing below is sized by the untrusted count alone.
        let count = count as usize;
        let remaining = size - count;
        let mut rng = Rng::seeded();
        let mut pop = |set: &mut Set| set.pop_random(&mut rng, max);
        let popped = if remaining as u64 * SPOP_MOVE_STRATEGY_MUL > count as u64 {
            (0..count).filter_map(|_| pop(set)).collect()
        } else {
            // Most of the set goes: the few members that stay make a new set, encoded
            // from its contents as Redis rebuilds it.
            let kept: Vec<Bytes> = (0..remaining).filter_map(|_| pop(set)).collect();
            let popped = set.take_members();
            *set = Set::built(kept, max);
            popped
        };
        propagate_srems(ctx, key, &popped);
        popped
    };
    drop(guard);
    // Redis adds the requested count, whatever it took.
    crate::persist::dirty::changed(count);
    ctx.reply.bulk_array(&popped);
}

/// `SREM key member` for each popped member, inside MULTI/EXEC when there are several,
/// which is how Redis 7.0.15 wraps the commands one SPOP propagates.
fn propagate_srems(ctx: &Ctx, key: &[u8], popped: &[Bytes]) {
    let wrap = popped.len() > 1;
    if wrap {
        ctx.propagate(&[b"MULTI"]);
    }
    for member in popped {
        ctx.propagate(&[b"SREM", key, &member[..]]);
    }
    if wrap {
        ctx.propagate(&[b"EXEC"]);
    }
}

pub fn smove(ctx: &mut Ctx, argv: &[Bytes]) {
    let (server, db, now, max) = (ctx.server, ctx.client.db, ctx.now_ms(), max_intset(ctx));
    let (source, destination, member) = (&argv[1][..], &argv[2][..], &argv[3]);
    let mut guard = server
        .keyspace
        .lock_keys(&[(db, source), (db, destination)]);
    let positions = guard.live_positions(now);
    let is_set = |guard: &crate::db::keyspace::KeysGuard, i: usize| {
        positions[i].is_none_or(|pos| matches!(guard.entry(i, pos).value, Value::Set(_)))
    };
    // A missing source answers 0 before any type check, as in Redis.
    let Some(from) = positions[0] else {
        drop(guard);
        crate::persist::dirty::changed(0);
        return ctx.reply.int(0);
    };
    if !is_set(&guard, 0) || !is_set(&guard, 1) {
        drop(guard);
        return ctx.reply.error(errors::WRONGTYPE);
    }
    if source == destination {
        let Value::Set(set) = &guard.entry(0, from).value else {
            unreachable!("checked above")
        };
        let found = set.contains(&member[..]);
        drop(guard);
        crate::persist::dirty::changed(0);
        return ctx.reply.int(found as i64);
    }
    let mut source_key = guard.key(0);
    let set = set_at(&mut source_key, from);
    if !set.remove(member, max) {
        drop(guard);
        crate::persist::dirty::changed(0);
        return ctx.reply.int(0);
    }
    if set.is_empty() {
        source_key.remove_at(from);
    }
    // Looked up again: removing the source may have moved the destination's entry.
    let mut destination_key = guard.key(1);
    let to = match destination_key.find_live(now) {
        Some(pos) => pos,
        None => destination_key.set(Value::Set(Default::default()), false, now),
    };
    let added = set_at(&mut destination_key, to).insert(member, max);
    ctx.propagate(argv);
    drop(guard);
    crate::persist::dirty::changed(1 + added as u64);
    ctx.reply.int(1);
}
