//! Sorted set ranges: by rank, by score, by member (lex).
//!
//! ```text
//! ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
//! ZRANGESTORE dst src start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count]
//!                                          :<members stored>; dst is replaced, or deleted
//!                                          when the range is empty
//! ZREVRANGE key start stop [WITHSCORES]    the legacy forms: ZRANGE with the range kind
//! Z[REV]RANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]   and direction fixed
//! Z[REV]RANGEBYLEX key min max [LIMIT offset count]
//! ZCOUNT key min max | ZLEXCOUNT key min max      :<members in the range>
//! ZREMRANGEBYRANK key start stop | ZREMRANGEBYSCORE key min max | ZREMRANGEBYLEX key min max
//!                                          :<members removed>
//! ```
//! Score bounds: a float, `-inf`/`+inf`, `(` before one for exclusive. Lex bounds: `[m`
//! inclusive, `(m` exclusive, `-` and `+` the ends. As in Redis, the arguments are
//! checked before the key is looked up.

use std::cmp::Ordering;
use std::ops::Range;

use bytes::Bytes;

use super::zset::{read_zset, reply_members, store_result, write_zset};
use super::{args, errors, Collection, Ctx};
use crate::db::hash::Limits;
use crate::db::zset::ZSet;

const NOT_A_FLOAT: &str = "ERR min or max is not a float";
const NOT_A_LEX_ITEM: &str = "ERR min or max not valid string range item";

/// A score bound: the value and whether it is exclusive.
#[derive(Clone, Copy)]
struct ScoreBound(f64, bool);

/// Redis' zslParseRange for one bound: strtod's rules (leading blanks, overflow to
/// infinity and an empty string, read as 0, are accepted), but no NaN and nothing after.
fn parse_score_bound(text: &[u8]) -> Option<ScoreBound> {
    let (exclusive, number) = match text {
        [b'(', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    if number.is_empty() {
        return Some(ScoreBound(0.0, exclusive));
    }
    let number = std::str::from_utf8(number).ok()?;
    let trimmed = number.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let value = crate::num::parse_c_double(trimmed)?;
    (!value.is_nan()).then_some(ScoreBound(value, exclusive))
}

/// A lex bound: `-`, `+`, or a member with its exclusivity.
#[derive(Clone, Copy)]
enum LexBound<'a> {
    Lowest,
    Highest,
    Member(&'a [u8], bool),
}

/// Redis' zslParseLexRangeItem.
fn parse_lex_bound(text: &[u8]) -> Option<LexBound<'_>> {
    match text {
        b"-" => Some(LexBound::Lowest),
        b"+" => Some(LexBound::Highest),
        [b'(', member @ ..] => Some(LexBound::Member(member, true)),
        [b'[', member @ ..] => Some(LexBound::Member(member, false)),
        _ => None,
    }
}

impl LexBound<'_> {
    /// How `member` compares with the bound.
    fn cmp_member(&self, member: &[u8]) -> Ordering {
        match self {
            LexBound::Lowest => Ordering::Greater,
            LexBound::Highest => Ordering::Less,
            LexBound::Member(bound, _) => member.cmp(bound),
        }
    }

    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Member(_, false))
    }
}

/// A score or lex interval.
#[derive(Clone, Copy)]
enum Interval<'a> {
    Score(ScoreBound, ScoreBound),
    Lex(LexBound<'a>, LexBound<'a>),
}

impl Interval<'_> {
    fn parse<'a>(lex: bool, min: &'a [u8], max: &'a [u8]) -> Result<Interval<'a>, &'static str> {
        if lex {
            match (parse_lex_bound(min), parse_lex_bound(max)) {
                (Some(min), Some(max)) => Ok(Interval::Lex(min, max)),
                _ => Err(NOT_A_LEX_ITEM),
            }
        } else {
            match (parse_score_bound(min), parse_score_bound(max)) {
                (Some(min), Some(max)) => Ok(Interval::Score(min, max)),
                _ => Err(NOT_A_FLOAT),
            }
        }
    }

    /// Whether no member can be inside, whatever the set (Redis checks this first).
    fn is_empty(&self) -> bool {
        match *self {
            Interval::Score(ScoreBound(min, min_ex), ScoreBound(max, max_ex)) => {
                min > max || (min == max && (min_ex || max_ex))
            }
            Interval::Lex(min, max) => {
                let order = match (min, max) {
                    (LexBound::Lowest, LexBound::Lowest)
                    | (LexBound::Highest, LexBound::Highest) => Ordering::Equal,
                    (LexBound::Member(m, _), bound) => bound.cmp_member(m),
                    (bound, LexBound::Member(m, _)) => bound.cmp_member(m).reverse(),
                    (LexBound::Highest, _) => Ordering::Greater,
                    (LexBound::Lowest, _) => Ordering::Less,
                };
                order == Ordering::Greater
                    || (order == Ordering::Equal && (min.exclusive() || max.exclusive()))
            }
        }
    }

    fn above_min(&self, member: &[u8], score: f64) -> bool {
        match self {
            Interval::Score(ScoreBound(min, true), _) => score > *min,
            Interval::Score(ScoreBound(min, false), _) => score >= *min,
            Interval::Lex(min, _) => match min.cmp_member(member) {
                Ordering::Greater => true,
                Ordering::Equal => !min.exclusive(),
                Ordering::Less => false,
            },
        }
    }

    fn below_max(&self, member: &[u8], score: f64) -> bool {
        match self {
            Interval::Score(_, ScoreBound(max, true)) => score < *max,
            Interval::Score(_, ScoreBound(max, false)) => score <= *max,
            Interval::Lex(_, max) => match max.cmp_member(member) {
                Ordering::Less => true,
                Ordering::Equal => !max.exclusive(),
                Ordering::Greater => false,
            },
        }
    }

    /// The positions (in Redis' order) of the members inside: from the first member
    /// above the minimum while they stay below the maximum, as Redis walks its set.
    fn positions(&self, zset: &ZSet) -> Range<usize> {
        if self.is_empty() {
            return 0..0;
        }
        let mut members = zset
            .iter()
            .enumerate()
            .skip_while(|(_, (m, s))| !self.above_min(m, *s));
        match members.next() {
            Some((first, (m, s))) if self.below_max(m, s) => {
                let rest = members
                    .take_while(|(_, (m, s))| self.below_max(m, *s))
                    .count();
                first..first + rest + 1
            }
            _ => 0..0,
        }
    }
}

/// Redis' rank sanitizing (negative ranks count from the end) over a set of `len`
/// members: the positions from `start` to `stop` inclusive, possibly none.
fn rank_positions(start: i64, stop: i64, len: usize) -> Range<usize> {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let stop = if stop < 0 { len + stop } else { stop };
    if start > stop || start >= len {
        return 0..0;
    }
    start as usize..stop.min(len - 1) as usize + 1
}

/// How a range is chosen.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Rank,
    Score,
    Lex,
}

/// The bounds of a range request, parsed.
enum Bounds<'a> {
    Rank(i64, i64),
    Interval(Interval<'a>),
}

/// A parsed range request.
struct Request<'a> {
    bounds: Bounds<'a>,
    reverse: bool,
    with_scores: bool,
    /// LIMIT's offset and count (count negative: no limit).
    limit: Option<(i64, i64)>,
}

impl Request<'_> {
    /// The members in the range, in reply order.
    fn select<'z>(&self, zset: &'z ZSet) -> Vec<(&'z [u8], f64)> {
        let len = zset.len();
        let positions = match &self.bounds {
            Bounds::Rank(start, stop) if self.reverse => {
                let reversed = rank_positions(*start, *stop, len);
                len - reversed.end..len - reversed.start
            }
            Bounds::Rank(start, stop) => rank_positions(*start, *stop, len),
            Bounds::Interval(interval) => interval.positions(zset),
        };
        let mut members: Vec<(&[u8], f64)> = zset
            .iter()
            .skip(positions.start)
            .take(positions.len())
            .collect();
        if self.reverse {
            members.reverse();
        }
        match self.limit {
            // Redis skips a negative offset's worth of members: all of them.
            Some((offset, _)) if offset < 0 => Vec::new(),
            Some((offset, count)) => {
                let count = usize::try_from(count).unwrap_or(usize::MAX);
                let offset = usize::try_from(offset).unwrap_or(usize::MAX);
                members.into_iter().skip(offset).take(count).collect()
            }
            None => members,
        }
    }
}

/// Redis' zrangeGenericCommand's argument parsing: `argv[at]` is the source key, then the
/// bounds and the options. `kind` and `reverse` are fixed by the legacy commands (their
/// keywords are then syntax errors); `store` refuses WITHSCORES.
fn parse_request<'a>(
    ctx: &mut Ctx,
    argv: &'a [Bytes],
    at: usize,
    mut kind: Option<Kind>,
    mut reverse: Option<bool>,
    store: bool,
) -> Option<Request<'a>> {
    let (mut with_scores, mut limit) = (false, None);
    let mut j = at + 3;
    while j < argv.len() {
        let (arg, left) = (&argv[j], argv.len() - j - 1);
        if !store && args::is(arg, "WITHSCORES") {
            with_scores = true;
        } else if args::is(arg, "LIMIT") && left >= 2 {
            let offset = ctx.int_arg(&argv[j + 1])?;
            limit = Some((offset, ctx.int_arg(&argv[j + 2])?));
            j += 2;
        } else if reverse.is_none() && args::is(arg, "REV") {
            reverse = Some(true);
        } else if kind.is_none() && args::is(arg, "BYLEX") {
            kind = Some(Kind::Lex);
        } else if kind.is_none() && args::is(arg, "BYSCORE") {
            kind = Some(Kind::Score);
        } else {
            ctx.reply.error(errors::SYNTAX);
            return None;
        }
        j += 1;
    }
    let (kind, reverse) = (kind.unwrap_or(Kind::Rank), reverse.unwrap_or(false));
    if limit.is_some() && kind == Kind::Rank {
        ctx.reply.error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
        return None;
    }
    if with_scores && kind == Kind::Lex {
        ctx.reply
            .error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return None;
    }
    let (mut min, mut max) = (&argv[at + 1][..], &argv[at + 2][..]);
    // Reversed score and lex ranges are written max first.
    if reverse && kind != Kind::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    let bounds = match kind {
        Kind::Rank => Bounds::Rank(ctx.int_arg(min)?, ctx.int_arg(max)?),
        _ => match Interval::parse(kind == Kind::Lex, min, max) {
            Ok(interval) => Bounds::Interval(interval),
            Err(message) => {
                ctx.reply.error(message);
                return None;
            }
        },
    };
    Some(Request {
        bounds,
        reverse,
        with_scores,
        limit,
    })
}

/// The reading range commands.
fn reply_range(ctx: &mut Ctx, argv: &[Bytes], kind: Option<Kind>, reverse: Option<bool>) {
    let Some(request) = parse_request(ctx, argv, 1, kind, reverse, false) else {
        return;
    };
    read_zset(ctx, &argv[1], |zset, reply| {
        let members = zset.map(|z| request.select(z)).unwrap_or_default();
        reply_members(reply, &members, request.with_scores);
    });
}

pub fn zrange(ctx: &mut Ctx, argv: &[Bytes]) {
    reply_range(ctx, argv, None, None);
}

pub fn zrevrange(ctx: &mut Ctx, argv: &[Bytes]) {
    reply_range(ctx, argv, Some(Kind::Rank), Some(true));
}

pub fn zrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) {
    reply_range(ctx, argv, Some(Kind::Score), Some(false));
}

pub fn zrevrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) {
    reply_range(ctx, argv, Some(Kind::Score), Some(true));
}

pub fn zrangebylex(ctx: &mut Ctx, argv: &[Bytes]) {
    reply_range(ctx, argv, Some(Kind::Lex), Some(false));
}

pub fn zrevrangebylex(ctx: &mut Ctx, argv: &[Bytes]) {
    reply_range(ctx, argv, Some(Kind::Lex), Some(true));
}

/// ZRANGESTORE: both keys locked at once, so the copy is one consistent view and enters
/// the replication stream in keyspace order. The destination is replaced (its TTL goes)
/// by a set encoded as Redis would encode it, or deleted when the range is empty.
pub fn zrangestore(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(request) = parse_request(ctx, argv, 2, None, None, true) else {
        return;
    };
    let (server, db, now) = (ctx.server, ctx.client.db, ctx.now_ms());
    let limits = Limits::from_config(&server.config, "zset");
    let mut guard = server
        .keyspace
        .lock_keys(&[(db, &argv[1][..]), (db, &argv[2][..])]);
    let positions = guard.live_positions(now);
    ctx.count_lookup(positions[1].is_some());
    let source = positions[1].map(|pos| ZSet::of(&guard.entry(1, pos).value));
    let stored = match source {
        Some(None) => {
            drop(guard);
            return ctx.reply.error(errors::WRONGTYPE);
        }
        Some(Some(zset)) => {
            let members = request.select(zset);
            ZSet::from_pairs(members.into_iter(), limits)
        }
        None => None,
    };
    store_result(ctx, guard, stored, now, argv);
}

pub fn zcount(ctx: &mut Ctx, argv: &[Bytes]) {
    count(ctx, argv, false);
}

pub fn zlexcount(ctx: &mut Ctx, argv: &[Bytes]) {
    count(ctx, argv, true);
}

/// ZCOUNT and ZLEXCOUNT.
fn count(ctx: &mut Ctx, argv: &[Bytes], lex: bool) {
    let interval = match Interval::parse(lex, &argv[2], &argv[3]) {
        Ok(interval) => interval,
        Err(message) => return ctx.reply.error(message),
    };
    read_zset(ctx, &argv[1], |zset, reply| {
        reply.int(zset.map_or(0, |z| interval.positions(z).len()) as i64);
    });
}

/// The ZREMRANGEBY* commands: removes the members at the positions `range` picks.
fn remove_range(ctx: &mut Ctx, argv: &[Bytes], range: impl FnOnce(&ZSet) -> Range<usize>) {
    let removed = write_zset(ctx, argv, false, |ctx, zset, _| {
        let positions = range(zset);
        let doomed: Vec<Bytes> = zset
            .iter()
            .skip(positions.start)
            .take(positions.len())
            .map(|(m, _)| Bytes::copy_from_slice(m))
            .collect();
        for member in &doomed {
            zset.remove(member);
        }
        ctx.propagate_changes(argv, doomed.len())
    });
    if let Some(removed) = removed {
        ctx.reply_changes(removed.unwrap_or(0));
    }
}

pub fn zremrangebyrank(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(start) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let Some(stop) = ctx.int_arg(&argv[3]) else {
        return;
    };
    remove_range(ctx, argv, |z| rank_positions(start, stop, z.len()));
}

pub fn zremrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) {
    remove_by_interval(ctx, argv, false);
}

pub fn zremrangebylex(ctx: &mut Ctx, argv: &[Bytes]) {
    remove_by_interval(ctx, argv, true);
}

fn remove_by_interval(ctx: &mut Ctx, argv: &[Bytes], lex: bool) {
    match Interval::parse(lex, &argv[2], &argv[3]) {
        Ok(interval) => remove_range(ctx, argv, |z| interval.positions(z)),
        Err(message) => ctx.reply.error(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_bounds_follow_strtod() {
        let parse = |t: &[u8]| parse_score_bound(t).map(|ScoreBound(v, ex)| (v, ex));
        assert_eq!(parse(b"1.5"), Some((1.5, false)));
        assert_eq!(parse(b"(2"), Some((2.0, true)));
        assert_eq!(parse(b"-inf"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(parse(b"(+inf"), Some((f64::INFINITY, true)));
        assert_eq!(parse(b""), Some((0.0, false)));
        assert_eq!(parse(b"("), Some((0.0, true)));
        assert_eq!(parse(b" 1"), Some((1.0, false)));
        for bad in [&b"nan"[..], b"1 ", b"x", b"[1", b"  "] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn lex_intervals_that_cannot_hold_a_member_are_empty() {
        let empty = |min: &[u8], max: &[u8]| Interval::parse(true, min, max).unwrap().is_empty();
        assert!(empty(b"+", b"-"));
        assert!(empty(b"-", b"-"));
        assert!(empty(b"[b", b"[a"));
        assert!(empty(b"(a", b"[a"));
        assert!(!empty(b"[a", b"[a"));
        assert!(!empty(b"-", b"+"));
        assert!(!empty(b"-", b"(a"));
        assert!(Interval::parse(true, b"a", b"+").is_err());
        assert!(Interval::parse(true, b"+a", b"+").is_err());
    }

    #[test]
    fn ranks_are_sanitized_like_redis() {
        assert_eq!(rank_positions(0, -1, 5), 0..5);
        assert_eq!(rank_positions(-100, 1, 5), 0..2);
        assert_eq!(rank_positions(3, 100, 5), 3..5);
        assert_eq!(rank_positions(5, 10, 5), 0..0);
        assert_eq!(rank_positions(2, 1, 5), 0..0);
        assert_eq!(rank_positions(0, -1, 0), 0..0);
    }
}
