//! Taking the lowest or highest members of sorted sets, blocking or not.
//!
//! ```text
//! ZPOPMIN key [count] | ZPOPMAX key [count]   *<member, score, ...> lowest / highest
//! ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
//!                       *2 key *<*2 member score, ...> from the first non-empty sorted
//!                       set, up to count (1) members; *-1 when there is none
//! BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]   ZMPOP that waits
//! BZPOPMIN key [key ...] timeout | BZPOPMAX key [key ...] timeout
//!                       *3 key member score from the first non-empty sorted set; waits
//!                       up to `timeout` seconds (0: forever), then *-1
//! ```
//! How a blocked client waits is in [`super::blocking`]. Replicas get ZPOPMIN/ZPOPMAX:
//! verbatim, `key count-taken` for ZMPOP and BZMPOP, `key` for BZPOPMIN/BZPOPMAX, as
//! Redis 7.0 sends them.

use bytes::Bytes;

use super::blocking::{finish, parse_mpop, parse_timeout, pop_first, Popped};
use super::zset::{reply_members, reply_score, write_zset};
use super::{args, errors, Ctx};
use crate::db::zset::ZSet;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    since(command("zpopmin", -2, WRITE | FAST, ONE_KEY, "sorted-set", "Remove and return members with the lowest scores in a sorted set", zpopmin), "5.0.0"),
    since(command("zpopmax", -2, WRITE | FAST, ONE_KEY, "sorted-set", "Remove and return members with the highest scores in a sorted set", zpopmax), "5.0.0"),
    since(command("zmpop", -4, WRITE | MOVABLE_KEYS, NO_KEYS, "sorted-set", "Remove and return members with scores in a sorted set", zmpop), "7.0.0"),
    since(command("bzmpop", -5, WRITE | BLOCKING | MOVABLE_KEYS, NO_KEYS, "sorted-set", "Remove and return members with scores in a sorted set or block until one is available", bzmpop), "7.0.0"),
    since(command("bzpopmin", -3, WRITE | NOSCRIPT | FAST | BLOCKING, (1, -2, 1), "sorted-set", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", bzpopmin), "5.0.0"),
    since(command("bzpopmax", -3, WRITE | NOSCRIPT | FAST | BLOCKING, (1, -2, 1), "sorted-set", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", bzpopmax), "5.0.0"),
];

/// Removes up to `count` members from the low (or the `highest`) end, in the order taken.
fn take(zset: &mut ZSet, count: usize, highest: bool) -> Vec<(Bytes, f64)> {
    let take = count.min(zset.len());
    let copy = |(m, s): (&[u8], f64)| (Bytes::copy_from_slice(m), s);
    let taken: Vec<(Bytes, f64)> = if highest {
        let skip = zset.len() - take;
        let mut last: Vec<_> = zset.iter().skip(skip).map(copy).collect();
        last.reverse();
        last
    } else {
        zset.iter().take(take).map(copy).collect()
    };
    for (member, _) in &taken {
        zset.remove(member);
    }
    taken
}

/// The plain pop replicas get.
fn plain(highest: bool) -> &'static [u8] {
    if highest {
        b"ZPOPMAX"
    } else {
        b"ZPOPMIN"
    }
}

/// ZPOPMIN and ZPOPMAX.
fn pop(ctx: &mut Ctx, argv: &[Bytes], highest: bool) {
    let count = match argv {
        [_, _] => 1,
        // Redis' getPositiveLongFromObjectOrReply: one error for both kinds of bad count.
        [_, _, count] => match args::parse_i64(count).and_then(|n| usize::try_from(n).ok()) {
            Some(n) => n,
            None => {
                return ctx
                    .reply
                    .error("ERR value is out of range, must be positive")
            }
        },
        _ => return ctx.reply.error(errors::SYNTAX),
    };
    let popped = write_zset(ctx, argv, false, |ctx, zset, _| {
        let popped = take(zset, count, highest);
        ctx.propagate_changes(argv, popped.len());
        popped
    });
    let Some(popped) = popped else {
        return;
    };
    let popped = popped.unwrap_or_default();
    crate::persist::dirty::changed(popped.len() as u64);
    let members: Vec<(&[u8], f64)> = popped.iter().map(|(m, s)| (&m[..], *s)).collect();
    reply_members(ctx.reply, &members, true);
}

pub fn zpopmin(ctx: &mut Ctx, argv: &[Bytes]) {
    pop(ctx, argv, false);
}

pub fn zpopmax(ctx: &mut Ctx, argv: &[Bytes]) {
    pop(ctx, argv, true);
}

/// Takes from the first non-empty sorted set among `keys` (Redis' genericZpopCommand).
fn pop_first_zset<'k>(
    ctx: &mut Ctx,
    keys: &'k [Bytes],
    highest: bool,
    count: Option<usize>,
) -> Popped<'k, (Bytes, f64)> {
    pop_first(
        ctx,
        keys,
        count,
        plain(highest),
        |zset: &mut ZSet, count| take(zset, count, highest),
    )
}

pub fn bzpopmin(ctx: &mut Ctx, argv: &[Bytes]) {
    blocking_pop(ctx, argv, false);
}

pub fn bzpopmax(ctx: &mut Ctx, argv: &[Bytes]) {
    blocking_pop(ctx, argv, true);
}

/// BZPOPMIN and BZPOPMAX: one member from the first non-empty sorted set among the keys,
/// or the client waits on all of them.
fn blocking_pop(ctx: &mut Ctx, argv: &[Bytes], highest: bool) {
    let keys = &argv[1..argv.len() - 1];
    let Some(timeout) = parse_timeout(ctx, &argv[argv.len() - 1]) else {
        return;
    };
    let popped = pop_first_zset(ctx, keys, highest, None);
    finish(ctx, keys, Some(timeout), popped, |reply, key, popped| {
        reply.array(1 + 2 * popped.len());
        reply.bulk(key);
        for (member, score) in &popped {
            reply.bulk(member);
            reply_score(reply, *score);
        }
    });
}

pub fn zmpop(ctx: &mut Ctx, argv: &[Bytes]) {
    mpop(ctx, argv, 1);
}

pub fn bzmpop(ctx: &mut Ctx, argv: &[Bytes]) {
    mpop(ctx, argv, 2);
}

/// Redis' zmpopGenericCommand: `numkeys`, MIN|MAX, COUNT and then BZMPOP's timeout are
/// checked first, then the first non-empty sorted set among the keys gives up to `count`
/// members.
fn mpop(ctx: &mut Ctx, argv: &[Bytes], numkeys_at: usize) {
    let Some(args) = parse_mpop(ctx, argv, numkeys_at, ["MIN", "MAX"]) else {
        return;
    };
    let keys = &argv[args.keys];
    let popped = pop_first_zset(ctx, keys, !args.first_end, Some(args.count));
    finish(ctx, keys, args.wait, popped, |reply, key, popped| {
        reply.array(2);
        reply.bulk(key);
        reply.array(popped.len());
        for (member, score) in &popped {
            reply.array(2);
            reply.bulk(member);
            reply_score(reply, *score);
        }
    });
}
