//! Sorted set algebra over several keys. Plain sets count as sorted sets whose members
//! all score 1, as in Redis.
//!
//! ```text
//! ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
//!                                 *<members of any input, by aggregated score>
//! ZINTER numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...] [WITHSCORES]  of every input
//! ZDIFF numkeys key [key ...] [WITHSCORES]   of the first input and none of the others
//! ZUNIONSTORE | ZINTERSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
//! ZDIFFSTORE destination numkeys key [key ...]
//!                                 :<members stored>; the destination is replaced (its TTL
//!                                 goes), or deleted when the result is empty
//! ZINTERCARD numkeys key [key ...] [LIMIT limit]   :<members of every input, at most limit>
//! ```
//! As Redis' zunionInterDiffGenericCommand: numkeys is checked first, then every input is
//! looked up (counting for INFO, up to the first WRONGTYPE), then the options. Inputs are
//! combined smallest first, which fixes the order of a sum's additions; a weighted score
//! or a sum that is NaN (0 * inf, inf - inf) counts as 0. All keys are locked at once, so
//! a *STORE enters the replication stream, verbatim, in keyspace order.

use bytes::Bytes;
use hashbrown::HashMap;

use super::set_algebra::{as_set, sources};
use super::zset::{reply_members, store_result};
use super::{args, errors, Collection, Ctx};
use crate::db::hash::Limits;
use crate::db::set::Set;
use crate::db::zset::{self, ZSet};
use crate::db::Value;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    since(command("zunionstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, ONE_KEY, "sorted-set", "Add multiple sorted sets and store the resulting sorted set in a new key", zunionstore), "2.0.0"),
    since(command("zinterstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, ONE_KEY, "sorted-set", "Intersect multiple sorted sets and store the resulting sorted set in a new key", zinterstore), "2.0.0"),
    since(command("zdiffstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, ONE_KEY, "sorted-set", "Subtract multiple sorted sets and store the resulting sorted set in a new key", zdiffstore), "6.2.0"),
    since(command("zunion", -3, READONLY | MOVABLE_KEYS, NO_KEYS, "sorted-set", "Add multiple sorted sets", zunion), "6.2.0"),
    since(command("zinter", -3, READONLY | MOVABLE_KEYS, NO_KEYS, "sorted-set", "Intersect multiple sorted sets", zinter), "6.2.0"),
    since(command("zdiff", -3, READONLY | MOVABLE_KEYS, NO_KEYS, "sorted-set", "Subtract multiple sorted sets", zdiff), "6.2.0"),
    since(command("zintercard", -3, READONLY | MOVABLE_KEYS, NO_KEYS, "sorted-set", "Intersect multiple sorted sets and return the cardinality of the result", zintercard), "7.0.0"),
];

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Union,
    Inter,
    Diff,
}

/// What to do with the result.
#[derive(Clone, Copy, PartialEq)]
enum Output {
    /// Reply with the members (and scores with WITHSCORES).
    Members,
    /// Reply with how many there are (ZINTERCARD).
    Count,
    /// Store them under `argv[1]` and reply with their number.
    Store,
}

pub fn zunionstore(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, argv, Op::Union, Output::Store);
}

pub fn zinterstore(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, argv, Op::Inter, Output::Store);
}

pub fn zdiffstore(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, argv, Op::Diff, Output::Store);
}

pub fn zunion(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, argv, Op::Union, Output::Members);
}

pub fn zinter(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, argv, Op::Inter, Output::Members);
}

pub fn zdiff(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, argv, Op::Diff, Output::Members);
}

pub fn zintercard(ctx: &mut Ctx, argv: &[Bytes]) {
    run(ctx, argv, Op::Inter, Output::Count);
}

/// Redis' zunionInterAggregate.
#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, target: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min if value < *target => *target = value,
            Aggregate::Max if value > *target => *target = value,
            Aggregate::Min | Aggregate::Max => {}
        }
    }
}

/// The options after the keys.
struct Options {
    weights: Vec<f64>,
    aggregate: Aggregate,
    with_scores: bool,
    /// ZINTERCARD's LIMIT; 0: none.
    limit: usize,
}

/// Parses the options as Redis does, in any order; the error text otherwise.
fn parse_options(
    options: &[Bytes],
    numkeys: usize,
    op: Op,
    output: Output,
) -> Result<Options, &'static str> {
    let mut parsed = Options {
        weights: vec![1.0; numkeys],
        aggregate: Aggregate::Sum,
        with_scores: false,
        limit: 0,
    };
    let weighable = op != Op::Diff && output != Output::Count;
    let mut at = 0;
    while let Some(option) = options.get(at) {
        let remaining = options.len() - at;
        if weighable && remaining > numkeys && args::is(option, "WEIGHTS") {
            let texts = &options[at + 1..=at + numkeys];
            for (weight, text) in parsed.weights.iter_mut().zip(texts) {
                *weight = args::parse_f64(text).ok_or("ERR weight value is not a float")?;
            }
            at += 1 + numkeys;
        } else if weighable && remaining >= 2 && args::is(option, "AGGREGATE") {
            let name = &options[at + 1];
            parsed.aggregate = if args::is(name, "SUM") {
                Aggregate::Sum
            } else if args::is(name, "MIN") {
                Aggregate::Min
            } else if args::is(name, "MAX") {
                Aggregate::Max
            } else {
                return Err(errors::SYNTAX);
            };
            at += 2;
        } else if output == Output::Members && args::is(option, "WITHSCORES") {
            parsed.with_scores = true;
            at += 1;
        } else if output == Output::Count && remaining >= 2 && args::is(option, "LIMIT") {
            parsed.limit = args::parse_i64(&options[at + 1])
                .and_then(|n| usize::try_from(n).ok())
                .ok_or("ERR LIMIT can't be negative")?;
            at += 2;
        } else {
            return Err(errors::SYNTAX);
        }
    }
    Ok(parsed)
}

/// One input: a sorted set, or a set whose members score 1.
#[derive(Clone, Copy)]
enum Input<'a> {
    ZSet(&'a ZSet),
    Set(&'a Set),
}

impl<'a> Input<'a> {
    fn of(value: &'a Value) -> Option<Input<'a>> {
        ZSet::of(value)
            .map(Input::ZSet)
            .or_else(|| as_set(value).map(Input::Set))
    }

    fn len(self) -> usize {
        match self {
            Input::ZSet(zset) => zset.len(),
            Input::Set(set) => set.len(),
        }
    }

    fn pairs(self) -> Box<dyn Iterator<Item = (&'a [u8], f64)> + 'a> {
        match self {
            Input::ZSet(zset) => Box::new(zset.iter()),
            Input::Set(set) => Box::new(set.iter().map(|m| (&m[..], 1.0))),
        }
    }

    fn score(self, member: &[u8]) -> Option<f64> {
        match self {
            Input::ZSet(zset) => zset.score(member),
            Input::Set(set) => set.contains(member).then_some(1.0),
        }
    }
}

/// A weighted score; NaN (0 * inf) counts as 0.
fn weighted(score: f64, weight: f64) -> f64 {
    let score = score * weight;
    if score.is_nan() {
        0.0
    } else {
        score
    }
}

/// The (member, score) pairs of `op` over `inputs` (None: a missing key) with their
/// weights, in no particular order; an intersection stops at `limit` members (0: none).
fn combine<'a>(op: Op, inputs: &[Option<Input<'a>>], options: &Options) -> Vec<(&'a [u8], f64)> {
    let len = |input: &Option<Input>| input.map_or(0, Input::len);
    let mut weighted_inputs: Vec<(Option<Input>, f64)> = inputs
        .iter()
        .copied()
        .zip(options.weights.iter().copied())
        .collect();
    if op != Op::Diff {
        // Smallest first (a stable sort, as glibc's qsort is on small arrays).
        weighted_inputs.sort_by_key(|(input, _)| len(input));
    }
    let aggregate = options.aggregate;
    match op {
        Op::Union => {
            let mut scores: HashMap<&[u8], f64> = HashMap::new();
            for (input, weight) in weighted_inputs {
                for (member, score) in input.into_iter().flat_map(Input::pairs) {
                    let score = weighted(score, weight);
                    scores
                        .entry(member)
                        .and_modify(|total| aggregate.apply(total, score))
                        .or_insert(score);
                }
            }
            scores.into_iter().collect()
        }
        Op::Inter => {
            let Some(((Some(first), first_weight), others)) = weighted_inputs.split_first() else {
                return Vec::new();
            };
            let mut found = Vec::new();
            'members: for (member, score) in first.pairs() {
                let mut total = weighted(score, *first_weight);
                for (input, weight) in others {
                    match input.and_then(|i| i.score(member)) {
                        Some(score) => aggregate.apply(&mut total, score * weight),
                        None => continue 'members,
                    }
                }
                found.push((member, total));
                if found.len() == options.limit {
                    break;
                }
            }
            found
        }
        Op::Diff => match weighted_inputs.split_first() {
            Some(((Some(first), _), others)) => first
                .pairs()
                .filter(|(member, _)| {
                    others
                        .iter()
                        .all(|(input, _)| input.is_none_or(|i| i.score(member).is_none()))
                })
                .collect(),
            _ => Vec::new(),
        },
    }
}

/// Every command of this module.
fn run(ctx: &mut Ctx, argv: &[Bytes], op: Op, output: Output) {
    let numkeys_at = if output == Output::Store { 2 } else { 1 };
    let Some(numkeys) = args::parse_i64(&argv[numkeys_at]) else {
        return ctx.reply.error(errors::NOT_AN_INTEGER);
    };
    if numkeys < 1 {
        let name = String::from_utf8_lossy(&argv[0]).to_lowercase();
        return ctx.reply.error(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        ));
    }
    let Some(keys) = args::numkeys_range(argv, numkeys_at) else {
        return ctx.reply.error(errors::SYNTAX);
    };
    let (server, db, now) = (ctx.server, ctx.client.db, ctx.now_ms());
    let limits = Limits::from_config(&server.config, "zset");
    let destination = (output == Output::Store).then(|| (db, &argv[1][..]));
    let locked: Vec<(usize, &[u8])> = destination
        .into_iter()
        .chain(argv[keys.clone()].iter().map(|k| (db, &k[..])))
        .collect();
    let offset = locked.len() - keys.len();
    let mut guard = server.keyspace.lock_keys(&locked);
    let Some(inputs) = sources(ctx, &mut guard, offset, now, Input::of) else {
        return;
    };
    let options = match parse_options(&argv[keys.end..], keys.len(), op, output) {
        Ok(options) => options,
        Err(message) => return ctx.reply.error(message),
    };
    let mut found = combine(op, &inputs, &options);
    match output {
        Output::Count => ctx.reply.int(found.len() as i64),
        Output::Members => {
            found.sort_unstable_by(|a, b| zset::cmp(a.1, a.0, b.1, b.0));
            reply_members(ctx.reply, &found, options.with_scores);
        }
        Output::Store => {
            let result = ZSet::from_pairs(found.into_iter(), limits);
            drop(inputs);
            store_result(ctx, guard, result, now, argv);
        }
    }
}
