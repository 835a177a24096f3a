//! List commands: pushes, pops, reads and edits in place. Moving between lists and the
//! blocking pops are in [`super::list_move`].
//!
//! ```text
//! LPUSH key element [element ...]   :<length after the push>
//! RPUSH key element [element ...]
//! LPUSHX / RPUSHX key element ...   the same, only onto an existing list (:0 otherwise)
//! LPOP / RPOP key [count]           one element (null bulk for no key), or up to count
//! LLEN key                          :<length>, :0 for no key
//! LRANGE key start stop             *<elements start..=stop; negative counts from the end>
//! LINDEX key index                  the element, or a null bulk
//! LSET key index element            +OK; -ERR no such key / index out of range
//! LINSERT key BEFORE|AFTER pivot element   :<length>, :-1 without the pivot, :0 no key
//! LREM key count element            :<removed>; count > 0 from the head, < 0 from the
//!                                   tail, 0 all
//! LTRIM key start stop              +OK; keeps start..=stop (the key goes when empty)
//! LPOS key element [RANK rank] [COUNT n] [MAXLEN len]   the index (or *<indexes>)
//! ```

use std::collections::VecDeque;

use bytes::Bytes;

use super::{args, errors, Collection, Ctx};
use crate::db::value::keep;
use crate::db::{KeyGuard, Value, WrongType};
use crate::resp::Reply;

/// A list value.
type List = VecDeque<Bytes>;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("lpush", -3, WRITE | DENYOOM | FAST, ONE_KEY, "list", "Prepend one or multiple elements to a list", lpush),
    command("rpush", -3, WRITE | DENYOOM | FAST, ONE_KEY, "list", "Append one or multiple elements to a list", rpush),
    since(command("lpushx", -3, WRITE | DENYOOM | FAST, ONE_KEY, "list", "Prepend an element to a list, only if the list exists", lpushx), "2.2.0"),
    since(command("rpushx", -3, WRITE | DENYOOM | FAST, ONE_KEY, "list", "Append an element to a list, only if the list exists", rpushx), "2.2.0"),
    command("llen", 2, READONLY | FAST, ONE_KEY, "list", "Get the length of a list", llen),
    command("lpop", -2, WRITE | FAST, ONE_KEY, "list", "Remove and get the first elements in a list", lpop),
    command("rpop", -2, WRITE | FAST, ONE_KEY, "list", "Remove and get the last elements in a list", rpop),
    command("lrange", 4, READONLY, ONE_KEY, "list", "Get a range of elements from a list", lrange),
    command("lindex", 3, READONLY, ONE_KEY, "list", "Get an element from a list by its index", lindex),
    command("lset", 4, WRITE | DENYOOM, ONE_KEY, "list", "Set the value of an element in a list by its index", lset),
    since(command("linsert", 5, WRITE | DENYOOM, ONE_KEY, "list", "Insert an element before or after another element in a list", linsert), "2.2.0"),
    command("lrem", 4, WRITE, ONE_KEY, "list", "Remove elements from a list", lrem),
    command("ltrim", 4, WRITE, ONE_KEY, "list", "Trim a list to the specified range", ltrim),
    since(command("lpos", -3, READONLY, ONE_KEY, "list", "Return the index of matching elements on a list", lpos), "6.0.6"),
];

/// The list at `pos`, which the caller found (with [`find_list`]) or just created.
pub(super) fn list_at<'g, S>(guard: &'g mut KeyGuard<'_, S>, pos: usize) -> &'g mut VecDeque<Bytes>
where
    S: std::ops::DerefMut<Target = crate::db::Shard>,
{
    match &mut guard.entry_mut(pos).value {
        Value::List(list) => list,
        _ => unreachable!("the caller checked the type"),
    }
}

/// The position of the list at the guard's key: Ok(None) for no key, Err for another type.
pub(super) fn find_list<S>(
    guard: &mut KeyGuard<'_, S>,
    now: i64,
) -> Result<Option<usize>, WrongType>
where
    S: std::ops::DerefMut<Target = crate::db::Shard>,
{
    guard.find_live_of(now, |v| matches!(v, Value::List(_)))
}

pub fn lpush(ctx: &mut Ctx, argv: &[Bytes]) {
    push(ctx, argv, true, false);
}

pub fn rpush(ctx: &mut Ctx, argv: &[Bytes]) {
    push(ctx, argv, false, false);
}

pub fn lpushx(ctx: &mut Ctx, argv: &[Bytes]) {
    push(ctx, argv, true, true);
}

pub fn rpushx(ctx: &mut Ctx, argv: &[Bytes]) {
    push(ctx, argv, false, true);
}

/// LPUSH, RPUSH and their X forms, which push only onto an existing list.
fn push(ctx: &mut Ctx, argv: &[Bytes], front: bool, only_existing: bool) {
    let pushed = ctx.write_typed(&argv[1], !only_existing, |ctx, list: &mut List| {
        for element in &argv[2..] {
            if front {
                list.push_front(keep(element));
            } else {
                list.push_back(keep(element));
            }
        }
        ctx.propagate(argv);
        list.len()
    });
    match pushed {
        None => {}
        Some(None) => ctx.reply_changes(0),
        Some(Some(len)) => {
            crate::persist::dirty::changed((argv.len() - 2) as u64);
            ctx.server.blocked.key_ready(ctx.client.db, &argv[1]);
            ctx.reply.int(len as i64);
        }
    }
}

pub fn llen(ctx: &mut Ctx, argv: &[Bytes]) {
    read_list(ctx, &argv[1], |list, reply| {
        reply.int(list.map_or(0, VecDeque::len) as i64)
    });
}

/// Runs `read` on the list at `key` (None when there is no key) with the reply; see
/// [`Ctx::read_typed`].
fn read_list(ctx: &mut Ctx, key: &[u8], read: impl FnOnce(Option<&List>, &mut Reply)) {
    ctx.read_typed(key, List::of, read);
}

/// Redis' lrangeCommand: both indexes are checked before the key is looked up.
pub fn lrange(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(start) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let Some(stop) = ctx.int_arg(&argv[3]) else {
        return;
    };
    read_list(ctx, &argv[1], |list, reply| {
        let range = list.and_then(|list| Some((list, list_range(list.len(), start, stop)?)));
        match range {
            Some((list, range)) => {
                reply.array(range.len());
                for element in list.range(range) {
                    reply.bulk(element);
                }
            }
            None => reply.array(0),
        }
    });
}

/// The positions LRANGE's `start` and `stop` select in a list of `len` elements (negative
/// ones count from the end, both ends inclusive, clamped), or None for an empty range.
fn list_range(len: usize, start: i64, stop: i64) -> Option<std::ops::Range<usize>> {
    let len = i64::try_from(len).ok()?;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        len + stop
    } else {
        stop.min(len - 1)
    };
    if start > stop || start >= len {
        return None;
    }
    Some(start as usize..stop as usize + 1)
}

pub fn lpop(ctx: &mut Ctx, argv: &[Bytes]) {
    pop(ctx, argv, true);
}

pub fn rpop(ctx: &mut Ctx, argv: &[Bytes]) {
    pop(ctx, argv, false);
}

/// LPOP/RPOP key [count]: without a count one element (null bulk for no key), with a
/// count an array of up to `count` (null array for no key), as Redis' popGenericCommand.
fn pop(ctx: &mut Ctx, argv: &[Bytes], front: bool) {
    if argv.len() > 3 {
        return ctx
            .reply
            .error(super::wrong_arity(if front { "lpop" } else { "rpop" }));
    }
    let count = match argv.get(2) {
        None => None,
        Some(text) => match args::parse_i64(text).filter(|n| *n >= 0) {
            Some(n) => Some(n as usize),
            None => {
                return ctx
                    .reply
                    .error("ERR value is out of range, must be positive")
            }
        },
    };
    let now = ctx.now_ms();
    let mut guard = ctx.lock(&argv[1]);
    let Some(pos) = guard.find_live(now) else {
        drop(guard);
        crate::persist::dirty::changed(0);
        return if count.is_some() {
            ctx.reply.null_array()
        } else {
            ctx.reply.null()
        };
    };
    let Value::List(list) = &mut guard.entry_mut(pos).value else {
        drop(guard);
        return ctx.reply.error(errors::WRONGTYPE);
    };
    let take = count.unwrap_or(1).min(list.len());
    let popped: Vec<Bytes> = (0..take)
        .filter_map(|_| {
            if front {
                list.pop_front()
            } else {
                list.pop_back()
            }
        })
        .collect();
    if list.is_empty() {
        guard.remove_at(pos);
    }
    if popped.is_empty() {
        crate::persist::dirty::changed(0);
    } else {
        ctx.propagate(argv);
    }
    drop(guard);
    match count {
        None => ctx.reply.bulk(&popped[0]),
        Some(_) => ctx.reply.bulk_array(&popped),
    }
}

/// The position `index` names in a list of `len` (negative counts from the end).
fn position(len: usize, index: i64) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let at = if index < 0 {
        len.checked_add(index)?
    } else {
        index
    };
    (0..len).contains(&at).then_some(at as usize)
}

/// Redis' lindexCommand: the key is looked up before the index is parsed.
pub fn lindex(ctx: &mut Ctx, argv: &[Bytes]) {
    read_list(ctx, &argv[1], |list, reply| {
        let Some(list) = list else {
            return reply.null();
        };
        match args::parse_i64(&argv[2]) {
            None => reply.error(errors::NOT_AN_INTEGER),
            Some(index) => match position(list.len(), index) {
                Some(at) => reply.bulk(&list[at]),
                None => reply.null(),
            },
        }
    });
}

pub fn lset(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(result) = ctx.write_typed(&argv[1], false, |ctx, list: &mut List| {
        let index = args::parse_i64(&argv[2]).ok_or(errors::NOT_AN_INTEGER)?;
        let at = position(list.len(), index).ok_or("ERR index out of range")?;
        list[at] = keep(&argv[3]);
        ctx.propagate(argv);
        Ok::<(), &str>(())
    }) else {
        return;
    };
    match result {
        None => ctx.reply.error("ERR no such key"),
        Some(Err(error)) => ctx.reply.error(error),
        Some(Ok(())) => ctx.reply.ok(),
    }
}

pub fn linsert(ctx: &mut Ctx, argv: &[Bytes]) {
    let after = match &argv[2] {
        word if args::is(word, "BEFORE") => false,
        word if args::is(word, "AFTER") => true,
        _ => return ctx.reply.error(errors::SYNTAX),
    };
    let Some(result) = ctx.write_typed(&argv[1], false, |ctx, list: &mut List| {
        let pivot = list.iter().position(|e| e[..] == argv[3][..])?;
        list.insert(pivot + usize::from(after), keep(&argv[4]));
        ctx.propagate(argv);
        Some(list.len())
    }) else {
        return;
    };
    match result {
        None => ctx.reply.int(0),
        Some(None) => ctx.reply.int(-1),
        Some(Some(len)) => ctx.reply.int(len as i64),
    }
}

pub fn lrem(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(count) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let Some(removed) = ctx.write_typed(&argv[1], false, |ctx, list: &mut List| {
        let wanted = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        // From the tail: the same scan over the list reversed (and back).
        let from_tail = count < 0;
        if from_tail {
            list.make_contiguous().reverse();
        }
        let mut removed = 0;
        list.retain(|e| {
            let drop = removed < wanted && e[..] == argv[3][..];
            removed += usize::from(drop);
            !drop
        });
        if from_tail {
            list.make_contiguous().reverse();
        }
        ctx.propagate_changes(argv, removed)
    }) else {
        return;
    };
    ctx.reply_changes(removed.unwrap_or(0));
}

pub fn ltrim(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(start) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let Some(stop) = ctx.int_arg(&argv[3]) else {
        return;
    };
    let Some(removed) = ctx.write_typed(&argv[1], false, |ctx, list: &mut List| {
        let before = list.len();
        match list_range(before, start, stop) {
            Some(keep) => {
                list.truncate(keep.end);
                list.drain(..keep.start);
            }
            None => list.clear(),
        }
        ctx.propagate_changes(argv, before - list.len())
    }) else {
        return;
    };
    crate::persist::dirty::changed(removed.unwrap_or(0) as u64);
    ctx.reply.ok();
}

/// LPOS's options (Redis' lposCommand): all parsed before the key is looked up.
struct PosOptions {
    /// Matches to skip, and whether the scan goes from the tail.
    skip: u64,
    from_tail: bool,
    /// None: reply one index; Some(0): every match.
    count: Option<u64>,
    /// Elements to compare at most (0: all).
    max_len: u64,
}

fn pos_options(ctx: &mut Ctx, options: &[Bytes]) -> Option<PosOptions> {
    let mut parsed = PosOptions {
        skip: 0,
        from_tail: false,
        count: None,
        max_len: 0,
    };
    let non_negative = |ctx: &mut Ctx, text: &[u8], error: &str| {
        let n = args::parse_i64(text).filter(|n| *n >= 0);
        if n.is_none() {
            ctx.reply.error(error);
        }
        n.map(|n| n as u64)
    };
    for pair in options.chunks(2) {
        match pair {
            [name, rank] if args::is(name, "RANK") => {
                let rank = ctx.int_arg(rank)?;
                if rank == 0 {
                    ctx.reply.error(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from \
                         the second ... or use negative to start from the end of the list",
                    );
                    return None;
                }
                parsed.from_tail = rank < 0;
                // Redis 7.0 negates LONG_MIN to itself, which then matches at once.
                parsed.skip = if rank == i64::MIN {
                    0
                } else {
                    rank.unsigned_abs() - 1
                };
            }
            [name, count] if args::is(name, "COUNT") => {
                parsed.count = Some(non_negative(ctx, count, "ERR COUNT can't be negative")?);
            }
            [name, len] if args::is(name, "MAXLEN") => {
                parsed.max_len = non_negative(ctx, len, "ERR MAXLEN can't be negative")?;
            }
            _ => {
                ctx.reply.error(errors::SYNTAX);
                return None;
            }
        }
    }
    Some(parsed)
}

pub fn lpos(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(options) = pos_options(ctx, &argv[3..]) else {
        return;
    };
    read_list(ctx, &argv[1], |list, reply| {
        let hits: Vec<usize> = list.map_or_else(Vec::new, |list| {
            let wanted = match options.count {
                None => 1,
                Some(0) => usize::MAX,
                Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            };
            let limit = match options.max_len {
                0 => list.len(),
                n => usize::try_from(n).unwrap_or(usize::MAX).min(list.len()),
            };
            let indexes: Box<dyn Iterator<Item = usize>> = if options.from_tail {
                Box::new((0..list.len()).rev().take(limit))
            } else {
                Box::new((0..list.len()).take(limit))
            };
            indexes
                .filter(|&i| list[i][..] == argv[2][..])
                .skip(usize::try_from(options.skip).unwrap_or(usize::MAX))
                .take(wanted)
                .collect()
        });
        match (options.count, hits.first()) {
            (None, Some(&index)) => reply.int(index as i64),
            (None, None) => reply.null(),
            (Some(_), _) => {
                reply.array(hits.len());
                for index in hits {
                    reply.int(index as i64);
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis_index_rules() {
        assert_eq!(list_range(5, 0, -1), Some(0..5));
        assert_eq!(list_range(5, 1, 2), Some(1..3));
        assert_eq!(list_range(5, -2, -1), Some(3..5));
        assert_eq!(list_range(5, -100, 100), Some(0..5));
        assert_eq!(list_range(5, 3, 1), None);
        assert_eq!(list_range(5, 5, 10), None);
        assert_eq!(list_range(5, 0, -6), None);
        assert_eq!(list_range(0, 0, -1), None);
        assert_eq!(list_range(5, i64::MIN, i64::MAX), Some(0..5));
    }

    #[test]
    fn positions_count_from_either_end() {
        assert_eq!(position(3, 0), Some(0));
        assert_eq!(position(3, 2), Some(2));
        assert_eq!(position(3, 3), None);
        assert_eq!(position(3, -1), Some(2));
        assert_eq!(position(3, -3), Some(0));
        assert_eq!(position(3, -4), None);
        assert_eq!(position(3, i64::MIN), None);
        assert_eq!(position(0, 0), None);
    }
}
