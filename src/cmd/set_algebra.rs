//! Set algebra over several keys.
//!
//! ```text
//! SINTER key [key ...]                    *<members in every set> (no key: an empty set)
//! SUNION key [key ...]                    *<members in any of the sets>
//! SDIFF key [key ...]                     *<members of the first set in none of the others>
//! SINTERSTORE destination key [key ...]   :<members stored>; likewise SUNIONSTORE and
//!                                         SDIFFSTORE. The destination is replaced (its TTL
//!                                         goes), or deleted when the result is empty
//! SINTERCARD numkeys key [key ...] [LIMIT limit]   :<members in every set, at most limit>
//! ```
//! Every key is locked at once (in the global order of `lock_keys`), so a result is one
//! consistent view and a *STORE enters the replication stream in keyspace order. Keys
//! are looked up in order and each lookup counts for INFO until one holds another type,
//! as Redis' lookupKeyRead loop does (the *STORE forms included).

use bytes::Bytes;
use hashbrown::HashSet;

use super::set::max_intset;
use super::{errors, Ctx};
use crate::db::keyspace::KeysGuard;
use crate::db::set::Set;
use crate::db::Value;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("sinter", -2, READONLY, ALL_KEYS, "set", "Intersect multiple sets", sinter),
    since(command("sintercard", -3, READONLY | MOVABLE_KEYS, NO_KEYS, "set", "Intersect multiple sets and return the cardinality of the result", sintercard), "7.0.0"),
    command("sinterstore", -3, WRITE | DENYOOM, ALL_KEYS, "set", "Intersect multiple sets and store the resulting set in a key", sinterstore),
    command("sunion", -2, READONLY, ALL_KEYS, "set", "Add multiple sets", sunion),
    command("sunionstore", -3, WRITE | DENYOOM, ALL_KEYS, "set", "Add multiple sets and store the resulting set in a key", sunionstore),
    command("sdiff", -2, READONLY, ALL_KEYS, "set", "Subtract multiple sets", sdiff),
    command("sdiffstore", -3, WRITE | DENYOOM, ALL_KEYS, "set", "Subtract multiple sets and store the resulting set in a key", sdiffstore),
];

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// What to do with the result.
enum Output<'a> {
    /// Reply with the members.
    Members,
    /// Reply with how many there are, counting up to the limit (0: no limit).
    Count(usize),
    /// Store them under this key (the first one locked) and reply with their number.
    Store(&'a Bytes),
}

pub fn sinter(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, Op::Inter, &argv[1..], Output::Members, argv);
}

pub fn sunion(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, Op::Union, &argv[1..], Output::Members, argv);
}

pub fn sdiff(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, Op::Diff, &argv[1..], Output::Members, argv);
}

pub fn sinterstore(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, Op::Inter, &argv[2..], Output::Store(&argv[1]), argv);
}

pub fn sunionstore(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, Op::Union, &argv[2..], Output::Store(&argv[1]), argv);
}

pub fn sdiffstore(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, Op::Diff, &argv[2..], Output::Store(&argv[1]), argv);
}

/// SINTERCARD's arguments, checked before any key is looked up: the keys and the limit
/// (0 for none), or the error reply.
fn parse_sintercard(argv: &[Bytes]) -> Result<(&[Bytes], usize), &'static str> {
    if crate::num::parse_i64(&argv[1]).is_none_or(|n| n <= 0) {
        return Err("ERR numkeys should be greater than 0");
    }
    let end = super::args::numkeys_range(argv, 1)
        .ok_or("ERR Number of keys can't be greater than number of args")?
        .end;
    let mut limit = 0;
    let mut options = argv[end..].iter();
    while let Some(option) = options.next() {
        match options.next() {
            Some(value) if super::args::is(option, "LIMIT") => {
                limit = crate::num::parse_i64(value)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or("ERR LIMIT can't be negative")?;
            }
            _ => return Err(errors::SYNTAX),
        }
    }
    Ok((&argv[2..end], limit))
}

pub fn sintercard(ctx: &mut Ctx, argv: &[Bytes]) {
    match parse_sintercard(argv) {
        Ok((keys, limit)) => run(ctx, Op::Inter, keys, Output::Count(limit), argv),
        Err(message) => ctx.reply.error(message),
    }
}

/// The members of `op` over `sets` (None: a missing key, an empty set), in the order of
/// the set they come from; an intersection stops at `limit` members (0: no limit).
fn combine<'s>(op: Op, sets: &[Option<&'s Set>], limit: usize) -> Vec<&'s Bytes> {
    let full = |found: &Vec<&Bytes>| limit > 0 && found.len() >= limit;
    match op {
        Op::Inter => {
            let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&Set>>>() else {
                return Vec::new();
            };
            // Walk the smallest set, probe the others.
            sets.sort_by_key(|s| s.len());
            let mut found = Vec::new();
            for member in sets[0].iter() {
                if sets[1..].iter().all(|s| s.contains(member)) {
                    found.push(member);
                    if full(&found) {
                        break;
                    }
                }
            }
            found
        }
        Op::Union => {
            let mut seen = HashSet::new();
            let present = sets.iter().flatten();
            present
                .flat_map(|s| s.iter())
                .filter(|m| seen.insert(*m))
                .collect()
        }
        Op::Diff => match sets.split_first() {
            Some((Some(first), others)) => first
                .iter()
                .filter(|m| others.iter().flatten().all(|s| !s.contains(m)))
                .collect(),
            _ => Vec::new(),
        },
    }
}

/// Looks up the sources (guard positions `offset..`), counting each lookup, and returns
/// them as `typed` takes their values (None: a missing key); None after the WRONGTYPE
/// reply at the first key `typed` refuses. The sorted set algebra uses it too.
pub(super) fn sources<'g, T>(
    ctx: &mut Ctx,
    guard: &'g mut KeysGuard<'_>,
    offset: usize,
    now: i64,
    typed: impl Fn(&'g Value) -> Option<T>,
) -> Option<Vec<Option<T>>> {
    let positions = guard.live_positions(now);
    let guard: &'g KeysGuard = guard;
    let mut found = Vec::with_capacity(positions.len() - offset);
    for (i, pos) in positions.iter().enumerate().skip(offset) {
        ctx.count_lookup(pos.is_some());
        match pos.map(|pos| typed(&guard.entry(i, pos).value)) {
            None => found.push(None),
            Some(Some(value)) => found.push(Some(value)),
            Some(None) => {
                ctx.reply.error(errors::WRONGTYPE);
                return None;
            }
        }
    }
    Some(found)
}

/// The set a value holds, if it is one.
pub(super) fn as_set(value: &Value) -> Option<&Set> {
    match value {
        Value::Set(set) => Some(set),
        _ => None,
    }
}

/// Every command of this module: `op` over the sets at `keys`, then `output`.
fn run(ctx: &mut Ctx, op: Op, keys: &[Bytes], output: Output, argv: &[Bytes]) {
    let (server, db, now, max) = (ctx.server, ctx.client.db, ctx.now_ms(), max_intset(ctx));
    let destination = match output {
        Output::Store(destination) => Some(&destination[..]),
        _ => None,
    };
    let locked: Vec<(usize, &[u8])> = destination
        .into_iter()
        .chain(keys.iter().map(|k| &k[..]))
        .map(|k| (db, k))
        .collect();
    let offset = locked.len() - keys.len();
    let mut guard = server.keyspace.lock_keys(&locked);
    let Some(sets) = sources(ctx, &mut guard, offset, now, as_set) else {
        return;
    };
    let limit = match output {
        Output::Count(limit) => limit,
        _ => 0,
    };
    let found = combine(op, &sets, limit);
    match output {
        Output::Members => {
            ctx.reply.array(found.len());
            found.iter().for_each(|m| ctx.reply.bulk(m));
        }
        Output::Count(_) => ctx.reply.int(found.len() as i64),
        Output::Store(_) => {
            let result: Vec<Bytes> = found.into_iter().cloned().collect();
            let len = result.len();
            let mut target = guard.key(0);
            let changed = if len > 0 {
                target.set(Value::Set(Box::new(Set::built(result, max))), false, now);
                true
            } else {
                target.remove(now).is_some()
            };
            if changed {
                ctx.propagate(argv);
            }
            drop(guard);
            crate::persist::dirty::changed(changed as u64);
            ctx.reply.int(len as i64);
        }
    }
}
