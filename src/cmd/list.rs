//! List commands: LPUSH, RPUSH, LLEN, LRANGE, BLPOP.
//!
//! ```text
//! LPUSH key element [element ...]   :<length after the push>
//! RPUSH key element [element ...]
//! LLEN key                          :<length>, :0 for no key
//! LRANGE key start stop             *<elements start..=stop; negative counts from the end>
//! BLPOP key [key ...] timeout       *2 key element from the first non-empty list; blocks
//!                                   up to `timeout` seconds (0: forever), then *-1
//! ```

use std::time::Duration;

use bytes::Bytes;

use super::{args, errors, Ctx};
use crate::db::value::keep;
use crate::db::Value;
use crate::server::client::Blocked;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("lpush", -3, WRITE | DENYOOM | FAST, ONE_KEY, "list", "Prepend one or multiple elements to a list", lpush),
    command("rpush", -3, WRITE | DENYOOM | FAST, ONE_KEY, "list", "Append one or multiple elements to a list", rpush),
    command("llen", 2, READONLY | FAST, ONE_KEY, "list", "Get the length of a list", llen),
    command("lpop", -2, WRITE | FAST, ONE_KEY, "list", "Remove and get the first elements in a list", lpop),
    command("rpop", -2, WRITE | FAST, ONE_KEY, "list", "Remove and get the last elements in a list", rpop),
    command("lrange", 4, READONLY, ONE_KEY, "list", "Get a range of elements from a list", lrange),
    since(command("blpop", -3, WRITE | NOSCRIPT, (1, -2, 1), "list", "Remove and get the first element in a list, or block until one is available", blpop), "2.0.0"),
];

pub fn lpush(ctx: &mut Ctx, argv: &[Bytes]) {
    push(ctx, argv, true);
}

pub fn rpush(ctx: &mut Ctx, argv: &[Bytes]) {
    push(ctx, argv, false);
}

fn push(ctx: &mut Ctx, argv: &[Bytes], front: bool) {
    let now = ctx.now_ms();
    let mut guard = ctx.lock(&argv[1]);
    let pos = match guard.find_live(now) {
        Some(pos) => pos,
        None => guard.set(Value::List(Box::default()), false, now),
    };
    let Value::List(list) = &mut guard.entry_mut(pos).value else {
        drop(guard);
        return ctx.reply.error(errors::WRONGTYPE);
    };
    for element in &argv[2..] {
        if front {
            list.push_front(keep(element));
        } else {
            list.push_back(keep(element));
        }
    }
    let len = list.len();
    ctx.propagate(argv);
    drop(guard);
    crate::persist::dirty::changed((argv.len() - 2) as u64);
    ctx.server.blocked.key_ready(ctx.client.db, &argv[1]);
    ctx.reply.int(len as i64);
}

pub fn llen(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let mut guard = ctx.lock(&argv[1]);
    let len = match guard.get(now).map(|e| &e.value) {
        None => Ok(0),
        Some(Value::List(list)) => Ok(list.len()),
        Some(_) => Err(()),
    };
    drop(guard);
    match len {
        Ok(len) => ctx.reply.int(len as i64),
        Err(()) => ctx.reply.error(errors::WRONGTYPE),
    }
}

/// Redis' lrangeCommand: both indexes are checked before the key is looked up.
pub fn lrange(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(start) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let Some(stop) = ctx.int_arg(&argv[3]) else {
        return;
    };
    let now = ctx.now_ms();
    let server = ctx.server;
    let mut guard = server.keyspace.lock(ctx.client.db, &argv[1]);
    let value = guard.get(now).map(|e| &e.value);
    ctx.count_lookup(value.is_some());
    match value {
        None => ctx.reply.array(0),
        Some(Value::List(list)) => match list_range(list.len(), start, stop) {
            Some(range) => {
                ctx.reply.array(range.len());
                for element in list.range(range) {
                    ctx.reply.bulk(element);
                }
            }
            None => ctx.reply.array(0),
        },
        Some(_) => ctx.reply.error(errors::WRONGTYPE),
    }
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

pub fn blpop(ctx: &mut Ctx, argv: &[Bytes]) {
    let keys = &argv[1..argv.len() - 1];
    let Some(timeout) = parse_timeout(ctx, &argv[argv.len() - 1]) else {
        return;
    };
    let now = ctx.now_ms();
    for key in keys {
        let mut guard = ctx.lock(key);
        let Some(pos) = guard.find_live(now) else {
            continue;
        };
        let Value::List(list) = &mut guard.entry_mut(pos).value else {
            drop(guard);
            return ctx.reply.error(errors::WRONGTYPE);
        };
        let element = list.pop_front();
        if list.is_empty() {
            guard.remove_at(pos);
        }
        // Replicas never block: a served BLPOP is an LPOP (as Redis 7.0 sends it).
        if element.is_some() {
            ctx.propagate(&[b"LPOP", &key[..]]);
        }
        drop(guard);
        if let Some(element) = element {
            ctx.reply.array(2);
            ctx.reply.bulk(key);
            ctx.reply.bulk(&element);
            return;
        }
    }
    // Nothing to pop: the connection waits for one of the keys (or the timeout) and runs
    // the command again.
    ctx.client.blocked = Some(Blocked {
        keys: keys.to_vec(),
        timeout,
    });
}

/// A blocking timeout in seconds (fractions allowed); None after an error reply.
/// `Some(None)` is 0, block forever.
fn parse_timeout(ctx: &mut Ctx, text: &[u8]) -> Option<Option<Duration>> {
    // strtold also takes numbers that overflow (`1e400`) as infinite.
    let overflowing = || {
        std::str::from_utf8(text)
            .ok()?
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_infinite())
    };
    let Some(seconds) = args::parse_f64(text).or_else(overflowing) else {
        ctx.reply
            .error("ERR timeout is not a float or out of range");
        return None;
    };
    // Redis 7.0 converts ceil(seconds * 1000) to a long long: what does not fit becomes
    // LLONG_MIN on x86, hence "negative" for huge and infinite timeouts too.
    let millis = (seconds * 1000.0).ceil();
    if !(millis >= 0.0 && millis < i64::MAX as f64) {
        ctx.reply.error("ERR timeout is negative");
        return None;
    }
    Some((millis > 0.0).then(|| Duration::from_millis(millis as u64)))
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
}
