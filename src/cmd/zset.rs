//! Sorted set commands on single members (ranges are in `zrange`, pops in `zset_pop`,
//! several keys in `zset_algebra`).
//!
//! ```text
//! ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
//!                                          :<members added (CH: or changed)>; with INCR
//!                                          the new score, or a null bulk when refused
//! ZINCRBY key increment member             $<new score>
//! ZREM key member [member ...]             :<members removed> (the key goes with the last)
//! ZCARD key                                :<members>
//! ZSCORE key member | ZMSCORE key member [member ...]   scores, null bulks when missing
//! ZRANK key member | ZREVRANK key member   :<0-based rank>, or a null bulk
//! ZRANDMEMBER key [count [WITHSCORES]]     as SRANDMEMBER, with scores when asked
//! ZSCAN key cursor [MATCH pattern] [COUNT count]   *2 $0 *<member, score, ...>: all at once
//! ```
//! Scores are replied as Redis 7.0's addReplyDouble writes them (`%.17g`). Writes reach
//! replicas verbatim when they changed something, as Redis 7.0 propagates them.

use bytes::Bytes;

use super::keys::{parse_cursor, reply_scan_pairs};
use super::{args, errors, pick, Collection, Ctx};
use crate::db::expire::Rng;
use crate::db::hash::Limits;
use crate::db::keyspace::KeysGuard;
use crate::db::zset::ZSet;
use crate::db::Value;

use crate::num::{d2string, format_double};
use crate::resp::Reply;

use super::spec::*;
use super::zrange::{
    zcount, zlexcount, zrange, zrangebylex, zrangebyscore, zrangestore, zremrangebylex,
    zremrangebyrank, zremrangebyscore, zrevrange, zrevrangebylex, zrevrangebyscore,
};

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    since(command("zadd", -4, WRITE | DENYOOM | FAST, ONE_KEY, "sorted-set", "Add one or more members to a sorted set, or update its score if it already exists", zadd), "1.2.0"),
    since(command("zincrby", 4, WRITE | DENYOOM | FAST, ONE_KEY, "sorted-set", "Increment the score of a member in a sorted set", zincrby), "1.2.0"),
    since(command("zrem", -3, WRITE | FAST, ONE_KEY, "sorted-set", "Remove one or more members from a sorted set", zrem), "1.2.0"),
    since(command("zcard", 2, READONLY | FAST, ONE_KEY, "sorted-set", "Get the number of members in a sorted set", zcard), "1.2.0"),
    since(command("zscore", 3, READONLY | FAST, ONE_KEY, "sorted-set", "Get the score associated with the given member in a sorted set", zscore), "1.2.0"),
    since(command("zmscore", -3, READONLY | FAST, ONE_KEY, "sorted-set", "Get the score associated with the given members in a sorted set", zmscore), "6.2.0"),
    since(command("zrank", 3, READONLY | FAST, ONE_KEY, "sorted-set", "Determine the index of a member in a sorted set", zrank), "2.0.0"),
    since(command("zrevrank", 3, READONLY | FAST, ONE_KEY, "sorted-set", "Determine the index of a member in a sorted set, with scores ordered from high to low", zrevrank), "2.0.0"),
    since(command("zcount", 4, READONLY | FAST, ONE_KEY, "sorted-set", "Count the members in a sorted set with scores within the given values", zcount), "2.0.0"),
    since(command("zlexcount", 4, READONLY | FAST, ONE_KEY, "sorted-set", "Count the number of members in a sorted set between a given lexicographical range", zlexcount), "2.8.9"),
    since(command("zrange", -4, READONLY, ONE_KEY, "sorted-set", "Return a range of members in a sorted set", zrange), "1.2.0"),
    since(command("zrangestore", -5, WRITE | DENYOOM, (1, 2, 1), "sorted-set", "Store a range of members from sorted set into another key", zrangestore), "6.2.0"),
    since(command("zrevrange", -4, READONLY, ONE_KEY, "sorted-set", "Return a range of members in a sorted set, by index, with scores ordered from high to low", zrevrange), "1.2.0"),
    since(command("zrangebyscore", -4, READONLY, ONE_KEY, "sorted-set", "Return a range of members in a sorted set, by score", zrangebyscore), "1.0.5"),
    since(command("zrevrangebyscore", -4, READONLY, ONE_KEY, "sorted-set", "Return a range of members in a sorted set, by score, with scores ordered from high to low", zrevrangebyscore), "2.2.0"),
    since(command("zrangebylex", -4, READONLY, ONE_KEY, "sorted-set", "Return a range of members in a sorted set, by lexicographical range", zrangebylex), "2.8.9"),
    since(command("zrevrangebylex", -4, READONLY, ONE_KEY, "sorted-set", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", zrevrangebylex), "2.8.9"),
    since(command("zremrangebyrank", 4, WRITE, ONE_KEY, "sorted-set", "Remove all members in a sorted set within the given indexes", zremrangebyrank), "2.0.0"),
    since(command("zremrangebyscore", 4, WRITE, ONE_KEY, "sorted-set", "Remove all members in a sorted set within the given scores", zremrangebyscore), "1.2.0"),
    since(command("zremrangebylex", 4, WRITE, ONE_KEY, "sorted-set", "Remove all members in a sorted set between the given lexicographical range", zremrangebylex), "2.8.9"),
    since(command("zrandmember", -2, READONLY, ONE_KEY, "sorted-set", "Get one or multiple random elements from a sorted set", zrandmember), "6.2.0"),
    since(command("zscan", -3, READONLY, ONE_KEY, "sorted-set", "Incrementally iterate sorted sets elements and associated scores", zscan), "2.8.0"),
];

/// Runs `read` on the sorted set at `key` (None when there is no key) with the reply
/// buffer, counting the lookup for INFO; replies WRONGTYPE and returns None when the key
/// holds another type.
pub(super) fn read_zset<R>(
    ctx: &mut Ctx,
    key: &[u8],
    read: impl FnOnce(Option<&ZSet>, &mut Reply) -> R,
) -> Option<R> {
    ctx.read_typed(key, ZSet::of, read)
}

/// [`Ctx::write_typed`] on the sorted set at `argv[1]`, with the live encoding limits.
pub(super) fn write_zset<R>(
    ctx: &mut Ctx,
    argv: &[Bytes],
    create: bool,
    write: impl FnOnce(&Ctx, &mut ZSet, Limits) -> R,
) -> Option<Option<R>> {
    let limits = Limits::from_config(&ctx.server.config, "zset");
    ctx.write_typed(&argv[1], create, |ctx, zset| write(ctx, zset, limits))
}

/// The end of every sorted set *STORE: `result` replaces the destination (the guard's key
/// 0; its TTL goes), or deletes it when empty or None; replicas get `argv` when the
/// destination changed, and clients blocked on it are woken. Replies the stored size.
pub(super) fn store_result(
    ctx: &mut Ctx,
    mut guard: KeysGuard,
    result: Option<ZSet>,
    now: i64,
    argv: &[Bytes],
) {
    let mut target = guard.key(0);
    let (len, changed) = match result.filter(|z| !z.is_empty()) {
        Some(zset) => {
            let len = zset.len();
            target.set(Value::ZSet(zset), false, now);
            (len, true)
        }
        None => (0, target.remove(now).is_some()),
    };
    if changed {
        ctx.propagate(argv);
    }
    drop(guard);
    if len > 0 {
        ctx.server.blocked.key_ready(ctx.client.db, &argv[1]);
    }
    crate::persist::dirty::changed(changed.into());
    ctx.reply.int(len as i64);
}

/// A score as Redis 7.0's addReplyDouble writes it.
pub(super) fn reply_score(reply: &mut Reply, score: f64) {
    reply.bulk(format_double(score).as_bytes());
}

/// Members, each followed by its score when `with_scores` (RESP2's flat form).
pub(super) fn reply_members(reply: &mut Reply, members: &[(&[u8], f64)], with_scores: bool) {
    reply.array(members.len() * if with_scores { 2 } else { 1 });
    for &(member, score) in members {
        reply.bulk(member);
        if with_scores {
            reply_score(reply, score);
        }
    }
}

/// ZADD's options.
#[derive(Default)]
struct AddOptions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// What adding one member did (Redis' ZADD_OUT_* flags).
#[derive(PartialEq)]
enum Outcome {
    Added,
    Updated,
    /// The member was there with this very score.
    Same,
    /// Refused by NX, XX, GT or LT.
    Skipped,
}

const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";

/// Redis' zsetAdd: adds or updates `member` as the options allow; the outcome and the
/// member's score after it, or None when an increment makes NaN.
fn add_member(
    zset: &mut ZSet,
    member: &[u8],
    score: f64,
    options: &AddOptions,
    limits: Limits,
) -> Option<(Outcome, f64)> {
    let Some(current) = zset.score(member) else {
        if options.xx {
            return Some((Outcome::Skipped, score));
        }
        zset.insert(member, score, limits);
        return Some((Outcome::Added, score));
    };
    if options.nx {
        return Some((Outcome::Skipped, current));
    }
    let score = if options.incr {
        Some(score + current).filter(|s| !s.is_nan())?
    } else {
        score
    };
    if (options.lt && score >= current) || (options.gt && score <= current) {
        return Some((Outcome::Skipped, current));
    }
    if score == current {
        return Some((Outcome::Same, score));
    }
    zset.insert(member, score, limits);
    Some((Outcome::Updated, score))
}

/// ZADD's options from `argv[2..]`, and where the score/member pairs start.
fn parse_add_options(argv: &[Bytes]) -> (AddOptions, usize) {
    let mut options = AddOptions::default();
    let mut at = 2;
    for arg in &argv[2..] {
        let flag = match arg.to_ascii_uppercase().as_slice() {
            b"NX" => &mut options.nx,
            b"XX" => &mut options.xx,
            b"CH" => &mut options.ch,
            b"INCR" => &mut options.incr,
            b"GT" => &mut options.gt,
            b"LT" => &mut options.lt,
            _ => break,
        };
        *flag = true;
        at += 1;
    }
    (options, at)
}

/// The pairs' option conflicts and scores, checked before the key is looked up, as Redis
/// does; the error text otherwise.
fn check_add(options: &AddOptions, pairs: &[Bytes]) -> Result<Vec<f64>, &'static str> {
    if pairs.is_empty() || pairs.len() % 2 == 1 {
        return Err(errors::SYNTAX);
    }
    if options.nx && options.xx {
        return Err("ERR XX and NX options at the same time are not compatible");
    }
    if (options.nx && (options.gt || options.lt)) || (options.gt && options.lt) {
        return Err("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if options.incr && pairs.len() > 2 {
        return Err("ERR INCR option supports a single increment-element pair");
    }
    pairs
        .chunks(2)
        .map(|pair| args::parse_f64(&pair[0]).ok_or("ERR value is not a valid float"))
        .collect()
}

/// ZADD and ZINCRBY (ZADD key INCR increment member).
fn add(ctx: &mut Ctx, argv: &[Bytes], options: AddOptions, at: usize) {
    let pairs = &argv[at..];
    let scores = match check_add(&options, pairs) {
        Ok(scores) => scores,
        Err(message) => return ctx.reply.error(message),
    };
    let result = write_zset(ctx, argv, !options.xx, |ctx, zset, limits| {
        let (mut added, mut updated, mut last) = (0, 0, None);
        for (pair, score) in pairs.chunks(2).zip(scores) {
            let Some((outcome, score)) = add_member(zset, &pair[1], score, &options, limits) else {
                return Err(NAN_SCORE);
            };
            match outcome {
                Outcome::Added => added += 1,
                Outcome::Updated => updated += 1,
                Outcome::Same => {}
                Outcome::Skipped => continue,
            }
            last = Some(score);
        }
        if added + updated > 0 {
            ctx.propagate(argv);
        }
        Ok((added, updated, last))
    });
    let (added, updated, last) = match result {
        None => return,
        Some(None) => (0, 0, None),
        Some(Some(Err(message))) => return ctx.reply.error(message),
        Some(Some(Ok(counts))) => counts,
    };
    crate::persist::dirty::changed(added + updated);
    if added > 0 {
        ctx.server.blocked.key_ready(ctx.client.db, &argv[1]);
    }
    match (options.incr, last) {
        (true, Some(score)) => reply_score(ctx.reply, score),
        (true, None) => ctx.reply.null(),
        (false, _) => ctx
            .reply
            .int((if options.ch { added + updated } else { added }) as i64),
    }
}

pub fn zadd(ctx: &mut Ctx, argv: &[Bytes]) {
    let (options, at) = parse_add_options(argv);
    add(ctx, argv, options, at);
}

pub fn zincrby(ctx: &mut Ctx, argv: &[Bytes]) {
    let options = AddOptions {
        incr: true,
        ..AddOptions::default()
    };
    add(ctx, argv, options, 2);
}

pub fn zrem(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(removed) = write_zset(ctx, argv, false, |ctx, zset, _| {
        let removed = argv[2..].iter().filter(|m| zset.remove(m)).count();
        ctx.propagate_changes(argv, removed)
    }) else {
        return;
    };
    ctx.reply_changes(removed.unwrap_or(0));
}

pub fn zcard(ctx: &mut Ctx, argv: &[Bytes]) {
    if let Some(len) = read_zset(ctx, &argv[1], |zset, _| zset.map_or(0, ZSet::len)) {
        ctx.reply.int(len as i64);
    }
}

/// Replies a score, or a null bulk for a missing member.
fn reply_maybe_score(reply: &mut Reply, score: Option<f64>) {
    match score {
        Some(score) => reply_score(reply, score),
        None => reply.null(),
    }
}

pub fn zscore(ctx: &mut Ctx, argv: &[Bytes]) {
    read_zset(ctx, &argv[1], |zset, reply| {
        reply_maybe_score(reply, zset.and_then(|z| z.score(&argv[2])));
    });
}

pub fn zmscore(ctx: &mut Ctx, argv: &[Bytes]) {
    read_zset(ctx, &argv[1], |zset, reply| {
        reply.array(argv.len() - 2);
        for member in &argv[2..] {
            reply_maybe_score(reply, zset.and_then(|z| z.score(member)));
        }
    });
}

/// ZRANK and ZREVRANK.
fn rank(ctx: &mut Ctx, argv: &[Bytes], reverse: bool) {
    read_zset(ctx, &argv[1], |zset, reply| {
        let Some(zset) = zset else {
            return reply.null();
        };
        match zset.rank(&argv[2]) {
            Some((rank, _)) if reverse => reply.int((zset.len() - 1 - rank) as i64),
            Some((rank, _)) => reply.int(rank as i64),
            None => reply.null(),
        }
    });
}

pub fn zrank(ctx: &mut Ctx, argv: &[Bytes]) {
    rank(ctx, argv, false);
}

pub fn zrevrank(ctx: &mut Ctx, argv: &[Bytes]) {
    rank(ctx, argv, true);
}

pub fn zrandmember(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() == 2 {
        let mut rng = Rng::seeded();
        read_zset(ctx, &argv[1], |zset, reply| {
            let zset = zset.filter(|z| !z.is_empty());
            match zset.and_then(|z| z.iter().nth(rng.below(z.len()))) {
                Some((member, _)) => reply.bulk(member),
                None => reply.null(),
            }
        });
        return;
    }
    let Some((count, with_scores)) = pick::parse_count_and_flag(ctx, argv, "WITHSCORES") else {
        return;
    };
    read_zset(ctx, &argv[1], |zset, reply| {
        let members: Vec<(&[u8], f64)> = zset.into_iter().flat_map(ZSet::iter).collect();
        let picks = pick::positions(members.len(), count, &mut Rng::seeded());
        let picked: Vec<(&[u8], f64)> = picks.into_iter().map(|i| members[i]).collect();
        reply_members(reply, &picked, with_scores);
    });
}

/// ZSCAN answers the whole set at once with cursor 0, like HSCAN. Scores are written as
/// Redis keeps them: d2string text in a listpack, `%.17g` from a skiplist.
pub fn zscan(ctx: &mut Ctx, argv: &[Bytes]) {
    if parse_cursor(&argv[2]).is_none() {
        return ctx.reply.error("ERR invalid cursor");
    }
    let Some(pairs) = read_zset(ctx, &argv[1], |zset, _| {
        zset.map(|z| {
            let mut text = String::new();
            z.iter()
                .map(|(member, score)| {
                    match z {
                        ZSet::Packed(_) => d2string(score, &mut text),
                        ZSet::Table(_) => text = format_double(score),
                    }
                    (Bytes::copy_from_slice(member), Bytes::from(text.clone()))
                })
                .collect::<Vec<_>>()
        })
    }) else {
        return;
    };
    reply_scan_pairs(ctx, &argv[3..], pairs);
}
