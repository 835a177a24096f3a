//! Hash commands.
//!
//! ```text
//! HSET key field value [field value ...]   :<fields added>
//! HMSET key field value [field value ...]  +OK
//! HSETNX key field value                   :1 set, :0 the field existed
//! HGET key field                           the value, or a null bulk
//! HMGET key field [field ...]              *<values, null bulk for a missing one>
//! HDEL key field [field ...]               :<fields removed> (the key goes with the last)
//! HLEN key | HSTRLEN key field | HEXISTS key field      integers
//! HKEYS key | HVALS key | HGETALL key      flat arrays (HGETALL: field, value, ...)
//! HINCRBY key field increment              :<new value>
//! HINCRBYFLOAT key field increment         $<new value>; replicas get HSET key field value
//! HRANDFIELD key [count [WITHVALUES]]      as SRANDMEMBER, with values when asked
//! HSCAN key cursor [MATCH pattern] [COUNT count]
//!                                          *2 $0 *<field, value, ...>: all in one call
//! ```
//! Small hashes are packed, big ones a table (src/db/hash.rs), by the live
//! `hash-max-listpack-*` limits, as Redis encodes them.

use bytes::Bytes;

use super::keys::{parse_cursor, reply_scan_pairs};
use super::{args, pick, wrong_arity, Collection, Ctx};
use crate::db::expire::Rng;
use crate::db::hash::{Hash, Limits};

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    since(command("hset", -4, WRITE | DENYOOM | FAST, ONE_KEY, "hash", "Set the string value of a hash field", hset), "2.0.0"),
    since(command("hmset", -4, WRITE | DENYOOM | FAST, ONE_KEY, "hash", "Set multiple hash fields to multiple values", hmset), "2.0.0"),
    since(command("hsetnx", 4, WRITE | DENYOOM | FAST, ONE_KEY, "hash", "Set the value of a hash field, only if the field does not exist", hsetnx), "2.0.0"),
    since(command("hget", 3, READONLY | FAST, ONE_KEY, "hash", "Get the value of a hash field", hget), "2.0.0"),
    since(command("hmget", -3, READONLY | FAST, ONE_KEY, "hash", "Get the values of all the given hash fields", hmget), "2.0.0"),
    since(command("hdel", -3, WRITE | FAST, ONE_KEY, "hash", "Delete one or more hash fields", hdel), "2.0.0"),
    since(command("hlen", 2, READONLY | FAST, ONE_KEY, "hash", "Get the number of fields in a hash", hlen), "2.0.0"),
    since(command("hstrlen", 3, READONLY | FAST, ONE_KEY, "hash", "Get the length of the value of a hash field", hstrlen), "3.2.0"),
    since(command("hexists", 3, READONLY | FAST, ONE_KEY, "hash", "Determine if a hash field exists", hexists), "2.0.0"),
    since(command("hkeys", 2, READONLY, ONE_KEY, "hash", "Get all the fields in a hash", hkeys), "2.0.0"),
    since(command("hvals", 2, READONLY, ONE_KEY, "hash", "Get all the values in a hash", hvals), "2.0.0"),
    since(command("hgetall", 2, READONLY, ONE_KEY, "hash", "Get all the fields and values in a hash", hgetall), "2.0.0"),
    since(command("hincrby", 4, WRITE | DENYOOM | FAST, ONE_KEY, "hash", "Increment the integer value of a hash field by the given number", hincrby), "2.0.0"),
    since(command("hincrbyfloat", 4, WRITE | DENYOOM | FAST, ONE_KEY, "hash", "Increment the float value of a hash field by the given amount", hincrbyfloat), "2.6.0"),
    since(command("hrandfield", -2, READONLY, ONE_KEY, "hash", "Get one or multiple random fields from a hash", hrandfield), "6.2.0"),
    since(command("hscan", -3, READONLY, ONE_KEY, "hash", "Incrementally iterate hash fields and associated values", hscan), "2.8.0"),
];

/// Runs `read` on the hash at `key` (None when there is no key), counting the lookup
/// for INFO; replies WRONGTYPE and returns None when the key holds another type.
fn read_hash<R>(ctx: &mut Ctx, key: &[u8], read: impl FnOnce(Option<&Hash>) -> R) -> Option<R> {
    ctx.read_typed(key, Hash::of, |hash, _| read(hash))
}

/// [`Ctx::write_typed`] on the hash at `argv[1]`, with the live encoding limits.
fn write_hash<R>(
    ctx: &mut Ctx,
    argv: &[Bytes],
    create: bool,
    write: impl FnOnce(&Ctx, &mut Hash, Limits) -> R,
) -> Option<Option<R>> {
    let limits = Limits::from_config(&ctx.server.config, "hash");
    ctx.write_typed(&argv[1], create, |ctx, hash| write(ctx, hash, limits))
}

/// HSET and HMSET: field/value pairs, so an odd count is an arity error. Returns the
/// number of new fields, or None after an error reply.
fn set_pairs(ctx: &mut Ctx, argv: &[Bytes], name: &str) -> Option<usize> {
    if argv.len() % 2 == 1 {
        ctx.reply.error(wrong_arity(name));
        return None;
    }
    let added = write_hash(ctx, argv, true, |ctx, hash, limits| {
        let added = argv[2..]
            .chunks(2)
            .filter(|pair| hash.insert(&pair[0], &pair[1], limits))
            .count();
        ctx.propagate(argv);
        added
    })??;
    crate::persist::dirty::changed((argv.len() as u64 - 2) / 2);
    Some(added)
}

pub fn hset(ctx: &mut Ctx, argv: &[Bytes]) {
    if let Some(added) = set_pairs(ctx, argv, "hset") {
        ctx.reply.int(added as i64);
    }
}

pub fn hmset(ctx: &mut Ctx, argv: &[Bytes]) {
    if set_pairs(ctx, argv, "hmset").is_some() {
        ctx.reply.ok();
    }
}

pub fn hsetnx(ctx: &mut Ctx, argv: &[Bytes]) {
    let set = write_hash(ctx, argv, true, |ctx, hash, limits| {
        let set = hash.get(&argv[2]).is_none() && hash.insert(&argv[2], &argv[3], limits);
        if set {
            ctx.propagate(argv);
        }
        set
    });
    if let Some(Some(set)) = set {
        crate::persist::dirty::changed(set.into());
        ctx.reply.int(set.into());
    }
}

pub fn hget(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(value) = read_hash(ctx, &argv[1], |hash| {
        hash.and_then(|h| h.get(&argv[2]))
            .map(Bytes::copy_from_slice)
    }) else {
        return;
    };
    match value {
        Some(value) => ctx.reply.bulk(&value),
        None => ctx.reply.null(),
    }
}

pub fn hmget(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(values) = read_hash(ctx, &argv[1], |hash| {
        argv[2..]
            .iter()
            .map(|field| hash.and_then(|h| h.get(field)).map(Bytes::copy_from_slice))
            .collect::<Vec<_>>()
    }) else {
        return;
    };
    ctx.reply.array(values.len());
    for value in values {
        match value {
            Some(value) => ctx.reply.bulk(&value),
            None => ctx.reply.null(),
        }
    }
}

pub fn hdel(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(removed) = write_hash(ctx, argv, false, |ctx, hash, _| {
        let removed = argv[2..].iter().filter(|f| hash.remove(f)).count();
        ctx.propagate_changes(argv, removed)
    }) else {
        return;
    };
    ctx.reply_changes(removed.unwrap_or(0));
}

pub fn hlen(ctx: &mut Ctx, argv: &[Bytes]) {
    if let Some(len) = read_hash(ctx, &argv[1], |hash| hash.map_or(0, Hash::len)) {
        ctx.reply.int(len as i64);
    }
}

pub fn hstrlen(ctx: &mut Ctx, argv: &[Bytes]) {
    let len = read_hash(ctx, &argv[1], |hash| {
        hash.and_then(|h| h.get(&argv[2])).map_or(0, <[u8]>::len)
    });
    if let Some(len) = len {
        ctx.reply.int(len as i64);
    }
}

pub fn hexists(ctx: &mut Ctx, argv: &[Bytes]) {
    let exists = read_hash(ctx, &argv[1], |hash| {
        hash.is_some_and(|h| h.get(&argv[2]).is_some())
    });
    if let Some(exists) = exists {
        ctx.reply.int(exists.into());
    }
}

/// HKEYS, HVALS and HGETALL: every pair, as fields, values or both.
fn reply_all(ctx: &mut Ctx, argv: &[Bytes], fields: bool, values: bool) {
    let Some(items) = read_hash(ctx, &argv[1], |hash| {
        let mut items = Vec::new();
        for (field, value) in hash.into_iter().flat_map(Hash::iter) {
            if fields {
                items.push(Bytes::copy_from_slice(field));
            }
            if values {
                items.push(Bytes::copy_from_slice(value));
            }
        }
        items
    }) else {
        return;
    };
    ctx.reply.bulk_array(&items);
}

pub fn hkeys(ctx: &mut Ctx, argv: &[Bytes]) {
    reply_all(ctx, argv, true, false);
}

pub fn hvals(ctx: &mut Ctx, argv: &[Bytes]) {
    reply_all(ctx, argv, false, true);
}

pub fn hgetall(ctx: &mut Ctx, argv: &[Bytes]) {
    reply_all(ctx, argv, true, true);
}

/// HINCRBY and HINCRBYFLOAT: `next` computes the new value from the current one (None
/// when the field is missing), or the error, which is replied. The new value is stored
/// and returned; replicas get the command itself (`verbatim`, HINCRBY) or HSET key field
/// value (HINCRBYFLOAT), as Redis 7.0 sends them.
fn update_field(
    ctx: &mut Ctx,
    argv: &[Bytes],
    verbatim: bool,
    next: impl FnOnce(Option<&[u8]>) -> Result<Vec<u8>, &'static str>,
) -> Option<Vec<u8>> {
    let result = write_hash(ctx, argv, true, |ctx, hash, limits| {
        let result = next(hash.get(&argv[2]));
        if let Ok(value) = &result {
            hash.insert(&argv[2], value, limits);
            if verbatim {
                ctx.propagate(argv);
            } else {
                ctx.propagate(&[b"HSET", &argv[1][..], &argv[2][..], value]);
            }
        }
        result
    })??;
    result.map_err(|error| ctx.reply.error(error)).ok()
}

pub fn hincrby(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(by) = ctx.int_arg(&argv[3]) else {
        return;
    };
    let mut result = 0;
    let updated = update_field(ctx, argv, true, |current| {
        let current = match current {
            None => 0,
            Some(text) => args::parse_i64(text).ok_or("ERR hash value is not an integer")?,
        };
        result = current
            .checked_add(by)
            .ok_or("ERR increment or decrement would overflow")?;
        Ok(result.to_string().into_bytes())
    });
    if updated.is_some() {
        ctx.reply.int(result);
    }
}

pub fn hincrbyfloat(ctx: &mut Ctx, argv: &[Bytes]) {
    let increment = &argv[3];
    match args::parse_f64(increment) {
        None => return ctx.reply.error("ERR value is not a valid float"),
        Some(by) if !by.is_finite() => return ctx.reply.error("ERR value is NaN or Infinity"),
        Some(_) => {}
    }
    let updated = update_field(ctx, argv, false, |current| {
        let current = current.unwrap_or(b"0");
        if args::parse_f64(current).is_none() {
            return Err("ERR hash value is not a float");
        }
        super::string::add_decimal_text(current, increment)
            .ok_or("ERR increment would produce NaN or Infinity")
    });
    if let Some(value) = updated {
        ctx.reply.bulk(&value);
    }
}

pub fn hrandfield(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() == 2 {
        let mut rng = Rng::seeded();
        let field = read_hash(ctx, &argv[1], |hash| {
            let hash = hash.filter(|h| !h.is_empty())?;
            let n = rng.below(hash.len());
            hash.iter().nth(n).map(|(f, _)| Bytes::copy_from_slice(f))
        });
        match field {
            Some(Some(field)) => ctx.reply.bulk(&field),
            Some(None) => ctx.reply.null(),
            None => {}
        }
        return;
    };
    let Some((count, with_values)) = pick::parse_count_and_flag(ctx, argv, "WITHVALUES") else {
        return;
    };
    let Some(pairs) = read_hash(ctx, &argv[1], |hash| {
        hash.into_iter()
            .flat_map(Hash::iter)
            .map(|(f, v)| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)))
            .collect::<Vec<_>>()
    }) else {
        return;
    };
    let picks = pick::positions(pairs.len(), count, &mut Rng::seeded());
    ctx.reply.array(if with_values {
        2 * picks.len()
    } else {
        picks.len()
    });
    for i in picks {
        ctx.reply.bulk(&pairs[i].0);
        if with_values {
            ctx.reply.bulk(&pairs[i].1);
        }
    }
}

/// HSCAN answers the whole hash at once with cursor 0, as Redis does for its packed
/// encoding (and within SCAN's guarantees for the table), like SSCAN.
pub fn hscan(ctx: &mut Ctx, argv: &[Bytes]) {
    if parse_cursor(&argv[2]).is_none() {
        return ctx.reply.error("ERR invalid cursor");
    }
    let Some(pairs) = read_hash(ctx, &argv[1], |hash| {
        hash.map(|h| {
            h.iter()
                .map(|(f, v)| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)))
                .collect::<Vec<_>>()
        })
    }) else {
        return;
    };
    reply_scan_pairs(ctx, &argv[3..], pairs);
}
