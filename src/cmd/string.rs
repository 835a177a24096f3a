//! String commands.
//!
//! ```text
//! GET key                          the value, or a null bulk
//! SET key value [NX|XX] [GET] [EX s|PX ms|EXAT unix-s|PXAT unix-ms|KEEPTTL]
//!                                  +OK; a null bulk when NX/XX refused; with GET the old value
//! SETNX key value                  :1 set, :0 the key exists
//! SETEX key seconds value          +OK (PSETEX: milliseconds)
//! GETSET key value                 the old value (null bulk for none); the TTL is dropped
//! GETDEL key                       the value, and the key is deleted
//! GETEX key [EX s|PX ms|EXAT unix-s|PXAT unix-ms|PERSIST]
//!                                  the value; the TTL is changed as asked
//! MGET key [key ...]               *n values, null bulks for missing or non-string keys
//! MSET key value [key value ...]   +OK (atomic over all keys)
//! MSETNX key value [key value ...] :1 all set, :0 none set because one exists
//! APPEND key value                 :<new length>
//! STRLEN key                       :<length>, :0 for no key
//! GETRANGE key start end           the bytes start..=end (negative from the end); SUBSTR alike
//! SETRANGE key offset value        :<new length>; the gap is zero-filled
//! INCR / DECR key, INCRBY / DECRBY key n
//!                                  :<new value>; the key holds a 64-bit decimal integer
//! INCRBYFLOAT key increment        the new value, as Redis formats it
//! LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
//!                                  the longest common subsequence; LEN its length; IDX
//!                                  *4 "matches" *[ranges] "len" :n
//! ```
//! Strings that grow (APPEND, SETRANGE) stay under `proto-max-bulk-len`, like Redis.

use bytes::Bytes;

use super::{args, errors, wrong_arity, Ctx};
use crate::db::{Compact, KeyGuard, Shard, Value};
use crate::resp::Reply;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("get", 2, READONLY | FAST, ONE_KEY, "string", "Get the value of a key", get),
    command("set", -3, WRITE | DENYOOM | TIMED_IN_RUNS, ONE_KEY, "string", "Set the string value of a key", set),
    command("setnx", 3, WRITE | DENYOOM | FAST, ONE_KEY, "string", "Set the value of a key, only if the key does not exist", setnx),
    since(command("setex", 4, WRITE | DENYOOM | TIMED_IN_RUNS, ONE_KEY, "string", "Set the value and expiration of a key", setex), "2.0.0"),
    since(command("psetex", 4, WRITE | DENYOOM | TIMED_IN_RUNS, ONE_KEY, "string", "Set the value and expiration in milliseconds of a key", psetex), "2.6.0"),
    command("getset", 3, WRITE | DENYOOM | FAST, ONE_KEY, "string", "Set the string value of a key and return its old value", getset),
    since(command("getdel", 2, WRITE | FAST, ONE_KEY, "string", "Get the value of a key and delete the key", getdel), "6.2.0"),
    since(command("getex", -2, WRITE | FAST, ONE_KEY, "string", "Get the value of a key and optionally set its expiration", getex), "6.2.0"),
    command("mget", -2, READONLY | FAST, ALL_KEYS, "string", "Get the values of all the given keys", mget),
    since(command("mset", -3, WRITE | DENYOOM, (1, -1, 2), "string", "Set multiple keys to multiple values", mset), "1.0.1"),
    since(command("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), "string", "Set multiple keys to multiple values, only if none of the keys exist", msetnx), "1.0.1"),
    since(command("append", 3, WRITE | DENYOOM | FAST, ONE_KEY, "string", "Append a value to a key", append), "2.0.0"),
    since(command("strlen", 2, READONLY | FAST, ONE_KEY, "string", "Get the length of the value stored in a key", strlen), "2.2.0"),
    since(command("getrange", 4, READONLY, ONE_KEY, "string", "Get a substring of the string stored at a key", getrange), "2.4.0"),
    command("substr", 4, READONLY, ONE_KEY, "string", "Get a substring of the string stored at a key", getrange),
    since(command("setrange", 4, WRITE | DENYOOM, ONE_KEY, "string", "Overwrite part of a string at key starting at the specified offset", setrange), "2.2.0"),
    command("incr", 2, WRITE | DENYOOM | FAST, ONE_KEY, "string", "Increment the integer value of a key by one", incr),
    command("incrby", 3, WRITE | DENYOOM | FAST, ONE_KEY, "string", "Increment the integer value of a key by the given amount", incrby),
    command("decr", 2, WRITE | DENYOOM | FAST, ONE_KEY, "string", "Decrement the integer value of a key by one", decr),
    command("decrby", 3, WRITE | DENYOOM | FAST, ONE_KEY, "string", "Decrement the integer value of a key by the given number", decrby),
    since(command("incrbyfloat", 3, WRITE | DENYOOM | FAST, ONE_KEY, "string", "Increment the float value of a key by the given amount", incrbyfloat), "2.6.0"),
    since(command("lcs", -3, READONLY, (1, 2, 1), "string", "Find longest common substring", lcs), "7.0.0"),
];

const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
/// Reply when growing a string fails to allocate (Redis would abort the process instead).
pub(crate) const OUT_OF_MEMORY: &str = "ERR out of memory growing the string";

pub fn get(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, &argv[1]);
    let found = reply_string(ctx.reply, guard.get(now).map(|e| &e.value));
    drop(guard);
    ctx.count_lookup(found);
}

/// Replies with a string value (a null bulk for no value, WRONGTYPE for another type);
/// returns whether there was a value.
fn reply_string(reply: &mut Reply, value: Option<&Value>) -> bool {
    match value {
        Some(Value::Str(data)) => reply.bulk(data),
        Some(_) => reply.error(errors::WRONGTYPE),
        None => reply.null(),
    }
    value.is_some()
}

/// The string at `key` for a read-only command, taken out of the lock (a cheap `Bytes`
/// clone) so long scans do not hold the shard: `Ok(None)` for no key; `Err(())` once
/// WRONGTYPE has been replied. Counts the lookup for INFO.
pub(crate) fn read_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Bytes>, ()> {
    let now = ctx.now_ms();
    let mut guard = ctx.lock(key);
    let value = match guard.get(now).map(|e| &e.value) {
        None => None,
        Some(Value::Str(data)) => Some(data.to_bytes()),
        Some(_) => {
            drop(guard);
            ctx.count_lookup(true);
            ctx.reply.error(errors::WRONGTYPE);
            return Err(());
        }
    };
    drop(guard);
    ctx.count_lookup(value.is_some());
    Ok(value)
}

/// Changes the string at `pos` in place. The value is taken out as a `Vec` (no copy when
/// it is on the heap), changed and put back.
pub(crate) fn modify_string<S, R>(
    guard: &mut KeyGuard<'_, S>,
    pos: usize,
    change: impl FnOnce(&mut Vec<u8>) -> R,
) -> R
where
    S: std::ops::DerefMut<Target = Shard>,
{
    let Value::Str(data) = &mut guard.entry_mut(pos).value else {
        unreachable!("callers check the type first")
    };
    let mut bytes = data.take_vec();
    let result = change(&mut bytes);
    *data = Compact::from(bytes);
    result
}

/// Zero-extends `data` to `len` bytes (never shrinks), failing instead of aborting when
/// the memory cannot be had.
pub(crate) fn grow_zeroed(data: &mut Vec<u8>, len: usize) -> Result<(), ()> {
    if len > data.len() {
        data.try_reserve_exact(len - data.len()).map_err(|_| ())?;
        data.resize(len, 0);
    }
    Ok(())
}

/// `proto-max-bulk-len`: the largest string a command may build.
pub(crate) fn max_string_len(ctx: &Ctx) -> u64 {
    ctx.server
        .config
        .hot
        .proto_max_bulk_len
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// Redis' checkStringLength: whether a string of `len + extra` bytes stays within
/// `max` (proto-max-bulk-len); the caller replies [`STRING_TOO_LONG`] when it does not.
fn length_allowed(max: u64, len: u64, extra: u64) -> bool {
    len.checked_add(extra).is_some_and(|total| total <= max)
}

/// How an expiry option was given.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ExpiryUnit {
    Seconds,
    Milliseconds,
    UnixSeconds,
    UnixMilliseconds,
}

impl ExpiryUnit {
    fn is_absolute(self) -> bool {
        matches!(self, ExpiryUnit::UnixSeconds | ExpiryUnit::UnixMilliseconds)
    }
}

/// Which command's options [`parse_string_options`] reads (Redis' COMMAND_SET and
/// COMMAND_GET): SET takes NX, XX, GET and KEEPTTL, GETEX takes PERSIST; both take
/// the four expiry forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OptionsOf {
    Set,
    Getex,
}

#[derive(Default)]
struct StringOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expiry: Option<(ExpiryUnit, &'a [u8])>,
}

/// Redis' parseExtendedStringArgumentsOrReply: options in any order; a repeated option of
/// the same kind is allowed (the last expiry wins), conflicting ones and options of the
/// other command are a syntax error. None means a syntax error.
fn parse_string_options(argv: &[Bytes], of: OptionsOf) -> Option<StringOptions<'_>> {
    let mut options = StringOptions::default();
    let set = of == OptionsOf::Set;
    let mut i = if set { 3 } else { 2 };
    while i < argv.len() {
        let opt = &argv[i][..];
        let unit = if args::is(opt, "EX") {
            Some(ExpiryUnit::Seconds)
        } else if args::is(opt, "PX") {
            Some(ExpiryUnit::Milliseconds)
        } else if args::is(opt, "EXAT") {
            Some(ExpiryUnit::UnixSeconds)
        } else if args::is(opt, "PXAT") {
            Some(ExpiryUnit::UnixMilliseconds)
        } else {
            None
        };
        if let Some(unit) = unit {
            let other_expiry = options.expiry.is_some_and(|(u, _)| u != unit);
            let next = argv.get(i + 1)?;
            if options.keep_ttl || options.persist || other_expiry {
                return None;
            }
            options.expiry = Some((unit, &next[..]));
            i += 2;
            continue;
        }
        if set && args::is(opt, "NX") && !options.xx {
            options.nx = true;
        } else if set && args::is(opt, "XX") && !options.nx {
            options.xx = true;
        } else if set && args::is(opt, "GET") {
            options.get = true;
        } else if set && args::is(opt, "KEEPTTL") && options.expiry.is_none() {
            options.keep_ttl = true;
        } else if !set && args::is(opt, "PERSIST") && options.expiry.is_none() {
            options.persist = true;
        } else {
            return None;
        }
        i += 1;
    }
    Some(options)
}

/// The absolute deadline for an expiry argument, or None when Redis would answer
/// "invalid expire time" (not positive, or overflowing).
fn deadline_ms(unit: ExpiryUnit, amount: i64, now_ms: i64) -> Option<i64> {
    if amount <= 0 {
        return None;
    }
    let ms = match unit {
        ExpiryUnit::Seconds | ExpiryUnit::UnixSeconds => amount.checked_mul(1000)?,
        ExpiryUnit::Milliseconds | ExpiryUnit::UnixMilliseconds => amount,
    };
    if unit.is_absolute() {
        Some(ms)
    } else {
        ms.checked_add(now_ms)
    }
}

/// Redis' getExpireMillisecondsOrReply: the deadline an expiry option asks for, or None
/// after replying the integer or "invalid expire time in '<command>'" error.
fn expiry_deadline(
    ctx: &mut Ctx,
    expiry: Option<(ExpiryUnit, &[u8])>,
    now: i64,
    command: &str,
) -> Result<Option<i64>, ()> {
    let Some((unit, text)) = expiry else {
        return Ok(None);
    };
    let amount = ctx.int_arg(text).ok_or(())?;
    match deadline_ms(unit, amount, now) {
        Some(deadline) => Ok(Some(deadline)),
        None => {
            ctx.reply
                .error(format!("ERR invalid expire time in '{command}' command"));
            Err(())
        }
    }
}

/// Redis' setGenericCommand, shared by SET, SETNX, SETEX, PSETEX and GETSET: stores
/// `value` under `key` as `options` say. With GET it replies the old value itself.
/// Returns whether the value was stored (false: refused by NX or XX), or Err after an
/// error reply.
fn set_generic(
    ctx: &mut Ctx,
    argv: &[Bytes],
    value: &Bytes,
    options: &StringOptions,
    command: &str,
) -> Result<bool, ()> {
    let key = &argv[1];
    let now = ctx.now_ms();
    let deadline = expiry_deadline(ctx, options.expiry, now, command)?;
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, key);
    let existing = guard.find_live(now);
    if options.get {
        let old = existing.map(|pos| &guard.entry(pos).value);
        if matches!(old, Some(v) if !matches!(v, Value::Str(_))) {
            drop(guard);
            ctx.count_lookup(true);
            ctx.reply.error(errors::WRONGTYPE);
            return Err(());
        }
        let found = reply_string(ctx.reply, old);
        ctx.count_lookup(found);
    }
    if (options.nx && existing.is_some()) || (options.xx && existing.is_none()) {
        crate::persist::dirty::changed(0);
        return Ok(false);
    }
    let pos = guard.set_found(existing, Value::string(value), options.keep_ttl, now);
    if deadline.is_some() {
        guard.set_expiry(pos, deadline);
    }
    // What Redis 7.0 sends replicas: a relative expiry as `SET key value PXAT <ms>`,
    // GETSET as SET, and SET without its GET option.
    match deadline {
        Some(at)
            if options
                .expiry
                .is_some_and(|(u, _)| u != ExpiryUnit::UnixMilliseconds) =>
        {
            ctx.propagate(&[b"SET", &key[..], value, b"PXAT", at.to_string().as_bytes()])
        }
        _ if command == "getset" => ctx.propagate(&[b"SET", &key[..], value]),
        _ if options.get => {
            let options = argv[3..].iter().filter(|a| !args::is(a, "GET"));
            let without_get: Vec<&[u8]> = argv[..3].iter().chain(options).map(|a| &a[..]).collect();
            ctx.propagate(&without_get);
        }
        _ => ctx.propagate(argv),
    }
    Ok(true)
}

pub fn set(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(options) = parse_string_options(argv, OptionsOf::Set) else {
        ctx.reply.error(errors::SYNTAX);
        return;
    };
    match set_generic(ctx, argv, &argv[2], &options, "set") {
        // With GET the old value is the reply.
        _ if options.get => {}
        Ok(true) => ctx.reply.ok(),
        Ok(false) => ctx.reply.null(),
        Err(()) => {}
    }
}

pub fn setnx(ctx: &mut Ctx, argv: &[Bytes]) {
    let options = StringOptions {
        nx: true,
        ..Default::default()
    };
    if let Ok(stored) = set_generic(ctx, argv, &argv[2], &options, "setnx") {
        crate::persist::dirty::changed(u64::from(stored));
        ctx.reply.int(i64::from(stored));
    }
}

pub fn setex(ctx: &mut Ctx, argv: &[Bytes]) {
    set_with_ttl(ctx, argv, ExpiryUnit::Seconds, "setex");
}

pub fn psetex(ctx: &mut Ctx, argv: &[Bytes]) {
    set_with_ttl(ctx, argv, ExpiryUnit::Milliseconds, "psetex");
}

/// SETEX / PSETEX key ttl value.
fn set_with_ttl(ctx: &mut Ctx, argv: &[Bytes], unit: ExpiryUnit, command: &str) {
    let options = StringOptions {
        expiry: Some((unit, &argv[2])),
        ..Default::default()
    };
    if set_generic(ctx, argv, &argv[3], &options, command).is_ok() {
        ctx.reply.ok();
    }
}

/// GETSET is SET with GET: the old value is the reply, and the TTL goes.
pub fn getset(ctx: &mut Ctx, argv: &[Bytes]) {
    let options = StringOptions {
        get: true,
        ..Default::default()
    };
    let _ = set_generic(ctx, argv, &argv[2], &options, "getset");
}

pub fn getdel(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, &argv[1]);
    let pos = guard.find_live(now);
    if pos.is_none() {
        crate::persist::dirty::changed(0);
    }
    let string = reply_string(ctx.reply, pos.map(|pos| &guard.entry(pos).value));
    if let Some(pos) = pos {
        if matches!(guard.entry(pos).value, Value::Str(_)) {
            guard.remove_at(pos);
            ctx.propagate(&[b"DEL", &argv[1][..]]);
        }
    }
    drop(guard);
    ctx.count_lookup(string);
}

pub fn getex(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(options) = parse_string_options(argv, OptionsOf::Getex) else {
        return ctx.reply.error(errors::SYNTAX);
    };
    let now = ctx.now_ms();
    // A plain read unless an option changes the key (the arms below say so).
    crate::persist::dirty::changed(0);
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, &argv[1]);
    let Some(pos) = guard.find_live(now) else {
        drop(guard);
        ctx.count_lookup(false);
        return ctx.reply.null();
    };
    let Value::Str(data) = &guard.entry(pos).value else {
        drop(guard);
        ctx.count_lookup(true);
        return ctx.reply.error(errors::WRONGTYPE);
    };
    let data = data.clone();
    // Like Redis, the expiry argument is only read once the key is known to be a string.
    let Ok(deadline) = expiry_deadline(ctx, options.expiry, now, "getex") else {
        return;
    };
    ctx.reply.bulk(&data);
    let absolute = options.expiry.is_some_and(|(unit, _)| unit.is_absolute());
    let key = &argv[1][..];
    match deadline {
        // An absolute deadline already past deletes the key.
        Some(at) if absolute && at <= now => {
            guard.remove_at(pos);
            crate::persist::dirty::changed(1);
            ctx.propagate(&[b"DEL", key]);
        }
        Some(at) => {
            guard.set_expiry(pos, Some(at));
            crate::persist::dirty::changed(1);
            ctx.propagate(&[b"PEXPIREAT", key, at.to_string().as_bytes()]);
        }
        None if options.persist && guard.expires_at(pos).is_some() => {
            guard.set_expiry(pos, None);
            crate::persist::dirty::changed(1);
            ctx.propagate(&[b"PERSIST", key]);
        }
        None => {}
    }
    drop(guard);
    ctx.count_lookup(true);
}

pub fn mget(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let keys = &argv[1..];
    // One lock over all the keys: MGET sees a single moment, as MSET writes one.
    let db = ctx.client.db;
    let located: Vec<(usize, &[u8])> = keys.iter().map(|k| (db, &k[..])).collect();
    let mut guard = ctx.server.keyspace.lock_keys(&located);
    let mut hits = 0;
    ctx.reply.array(keys.len());
    for i in 0..keys.len() {
        match guard.key(i).get(now).map(|e| &e.value) {
            Some(Value::Str(data)) => {
                hits += 1;
                ctx.reply.bulk(data);
            }
            // Any other type reads as missing.
            Some(_) => {
                hits += 1;
                ctx.reply.null();
            }
            None => ctx.reply.null(),
        }
    }
    drop(guard);
    (0..hits).for_each(|_| ctx.count_lookup(true));
    (hits..keys.len()).for_each(|_| ctx.count_lookup(false));
}

pub fn mset(ctx: &mut Ctx, argv: &[Bytes]) {
    if set_many(ctx, argv, false, "mset") {
        ctx.reply.ok();
    }
}

pub fn msetnx(ctx: &mut Ctx, argv: &[Bytes]) {
    if set_many(ctx, argv, true, "msetnx") {
        ctx.reply.int(1);
    }
}

/// Redis' msetGenericCommand: every pair is set under one lock of all the keys, so no
/// client sees some of them set; with `only_new` nothing is set (and :0 replied) when
/// any key exists. Returns whether the keys were set.
fn set_many(ctx: &mut Ctx, argv: &[Bytes], only_new: bool, command: &str) -> bool {
    if argv.len() % 2 == 0 {
        ctx.reply.error(wrong_arity(command));
        return false;
    }
    let now = ctx.now_ms();
    let db = ctx.client.db;
    let pairs: Vec<(usize, &[u8])> = argv[1..].chunks(2).map(|p| (db, &p[0][..])).collect();
    let mut guard = ctx.server.keyspace.lock_keys(&pairs);
    if only_new && (0..pairs.len()).any(|i| guard.key(i).find_live(now).is_some()) {
        drop(guard);
        crate::persist::dirty::changed(0);
        ctx.reply.int(0);
        return false;
    }
    for (i, pair) in argv[1..].chunks(2).enumerate() {
        guard.key(i).set(Value::string(&pair[1]), false, now);
    }
    ctx.propagate(argv);
    crate::persist::dirty::changed(pairs.len() as u64);
    true
}

pub fn append(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let max = max_string_len(ctx);
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, &argv[1]);
    let Some(pos) = guard.find_live(now) else {
        guard.set(Value::string(&argv[2]), false, now);
        ctx.propagate(argv);
        drop(guard);
        return ctx.reply.int(argv[2].len() as i64);
    };
    let Value::Str(data) = &guard.entry(pos).value else {
        drop(guard);
        return ctx.reply.error(errors::WRONGTYPE);
    };
    if !length_allowed(max, data.len() as u64, argv[2].len() as u64) {
        drop(guard);
        return ctx.reply.error(STRING_TOO_LONG);
    }
    let grown = modify_string(&mut guard, pos, |data| {
        data.try_reserve(argv[2].len()).map_err(|_| ())?;
        data.extend_from_slice(&argv[2]);
        Ok(data.len())
    });
    if grown.is_ok() {
        ctx.propagate(argv);
    }
    drop(guard);
    match grown {
        Ok(len) => ctx.reply.int(len as i64),
        Err(()) => ctx.reply.error(OUT_OF_MEMORY),
    }
}

pub fn strlen(ctx: &mut Ctx, argv: &[Bytes]) {
    if let Ok(value) = read_string(ctx, &argv[1]) {
        ctx.reply.int(value.map_or(0, |v| v.len() as i64));
    }
}

/// Redis' index rules for GETRANGE and BITCOUNT: negative indexes count from the end,
/// both are clamped into the string; None for an empty range. A range with both ends
/// negative and reversed is empty before clamping could make it one element.
pub(crate) fn clamp_range(start: i64, end: i64, len: i64) -> Option<(i64, i64)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    clamp_range_unchecked(start, end, len)
}

/// [`clamp_range`] without the reversed-negative check (BITPOS has none).
pub(crate) fn clamp_range_unchecked(start: i64, end: i64, len: i64) -> Option<(i64, i64)> {
    let from_end = |i: i64| {
        if i < 0 {
            len.saturating_add(i).max(0)
        } else {
            i
        }
    };
    let (start, end) = (from_end(start), from_end(end).min(len - 1));
    (start <= end).then_some((start, end))
}

/// GETRANGE and SUBSTR.
pub fn getrange(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(start) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let Some(end) = ctx.int_arg(&argv[3]) else {
        return;
    };
    let Ok(value) = read_string(ctx, &argv[1]) else {
        return;
    };
    let value = value.unwrap_or_default();
    match clamp_range(start, end, value.len() as i64) {
        Some((start, end)) => ctx.reply.bulk(&value[start as usize..=end as usize]),
        None => ctx.reply.bulk(b""),
    }
}

pub fn setrange(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(offset) = ctx.int_arg(&argv[2]) else {
        return;
    };
    if offset < 0 {
        return ctx.reply.error("ERR offset is out of range");
    }
    let patch = &argv[3];
    let now = ctx.now_ms();
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, &argv[1]);
    let pos = guard.find_live(now);
    let old_len = match pos.map(|pos| &guard.entry(pos).value) {
        Some(Value::Str(data)) => Some(data.len()),
        Some(_) => {
            drop(guard);
            return ctx.reply.error(errors::WRONGTYPE);
        }
        None => None,
    };
    // Writing nothing changes nothing (and creates no key).
    if patch.is_empty() {
        drop(guard);
        crate::persist::dirty::changed(0);
        return ctx.reply.int(old_len.unwrap_or(0) as i64);
    }
    if !length_allowed(max_string_len(ctx), offset as u64, patch.len() as u64) {
        drop(guard);
        return ctx.reply.error(STRING_TOO_LONG);
    }
    // Checked above: offset + len fits in proto-max-bulk-len, so in usize.
    let offset = offset as usize;
    let write = |data: &mut Vec<u8>| -> Result<usize, ()> {
        grow_zeroed(data, offset + patch.len())?;
        data[offset..offset + patch.len()].copy_from_slice(patch);
        Ok(data.len())
    };
    let written = match pos {
        Some(pos) => modify_string(&mut guard, pos, write),
        None => {
            let mut data = Vec::new();
            write(&mut data).inspect(|_| {
                guard.set(Value::Str(Compact::from(data)), false, now);
            })
        }
    };
    if written.is_ok() {
        ctx.propagate(argv);
    }
    drop(guard);
    match written {
        Ok(len) => ctx.reply.int(len as i64),
        Err(()) => ctx.reply.error(OUT_OF_MEMORY),
    }
}

pub fn incr(ctx: &mut Ctx, argv: &[Bytes]) {
    increment(ctx, argv, 1);
}

pub fn decr(ctx: &mut Ctx, argv: &[Bytes]) {
    increment(ctx, argv, -1);
}

pub fn incrby(ctx: &mut Ctx, argv: &[Bytes]) {
    if let Some(by) = ctx.int_arg(&argv[2]) {
        increment(ctx, argv, by);
    }
}

pub fn decrby(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(by) = ctx.int_arg(&argv[2]) else {
        return;
    };
    // -i64::MIN does not exist.
    match by.checked_neg() {
        Some(by) => increment(ctx, argv, by),
        None => ctx.reply.error("ERR decrement would overflow"),
    }
}

/// Redis' incrDecrCommand, shared by INCR, DECR, INCRBY and DECRBY: the key (0 when
/// missing) must hold a 64-bit decimal integer; an existing key keeps its TTL.
fn increment(ctx: &mut Ctx, argv: &[Bytes], by: i64) {
    let now = ctx.now_ms();
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, &argv[1]);
    let existing = guard.find_live(now);
    let current = match existing.map(|pos| &guard.entry(pos).value) {
        None => Some(0),
        Some(Value::Str(data)) => args::parse_i64(data),
        Some(_) => {
            drop(guard);
            return ctx.reply.error(errors::WRONGTYPE);
        }
    };
    let Some(current) = current else {
        drop(guard);
        return ctx.reply.error(errors::NOT_AN_INTEGER);
    };
    let Some(value) = current.checked_add(by) else {
        drop(guard);
        return ctx.reply.error("ERR increment or decrement would overflow");
    };
    let mut digits = [0u8; 20];
    let text = crate::num::format_i64(value, &mut digits);
    guard.set_found(existing, Value::Str(Compact::copy(text)), true, now);
    ctx.propagate(argv);
    drop(guard);
    ctx.reply.int(value);
}

pub fn incrbyfloat(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, &argv[1]);
    let existing = guard.find_live(now);
    let current: &[u8] = match existing.map(|pos| &guard.entry(pos).value) {
        None => b"0",
        Some(Value::Str(data)) => data,
        Some(_) => return ctx.reply.error(errors::WRONGTYPE),
    };
    let (Some(_), Some(_)) = (args::parse_f64(current), args::parse_f64(&argv[2])) else {
        return ctx.reply.error("ERR value is not a valid float");
    };
    let Some(sum) = add_decimal_text(current, &argv[2]) else {
        return ctx
            .reply
            .error("ERR increment would produce NaN or Infinity");
    };
    let sum = Bytes::from(sum);
    ctx.reply.bulk(&sum);
    // Replicas get the result, not the addition (Redis 7.0: SET key value KEEPTTL).
    ctx.propagate(&[b"SET", &argv[1][..], &sum[..], b"KEEPTTL"]);
    match existing {
        // Like Redis' dbReplaceValue, an existing key keeps its TTL.
        Some(_) => guard.set(Value::Str(Compact::from(sum)), true, now),
        None => guard.set(Value::Str(Compact::from(sum)), false, now),
    };
}

/// Fraction digits Redis prints (`%.17Lf`) before trimming trailing zeros.
const FLOAT_DIGITS: u32 = 17;

/// `a + b` as INCRBYFLOAT prints it; None when the result is NaN or infinite.
///
/// Redis adds in 80-bit `long double` and prints 17 fraction digits, so `0.1 + 0.2`
/// gives `0.3`. An f64 sum would give `0.30000000000000004`; plain decimals (the usual
/// case) are therefore added exactly in fixed point, which gives what Redis gives, and
/// only other forms (exponents, `inf`, very long fractions) go through f64.
pub(super) fn add_decimal_text(a: &[u8], b: &[u8]) -> Option<Vec<u8>> {
    if let (Some(x), Some(y)) = (fixed_point(a), fixed_point(b)) {
        if let Some(sum) = x.checked_add(y) {
            return Some(format_fixed(sum));
        }
    }
    let sum = args::parse_f64(a)? + args::parse_f64(b)?;
    if !sum.is_finite() {
        return None;
    }
    Some(trim_fraction(format!("{:.*}", FLOAT_DIGITS as usize, sum)).into_bytes())
}

/// A plain decimal (`-12.5`) scaled by 10^17, if it is one and fits.
fn fixed_point(text: &[u8]) -> Option<i128> {
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    let (int_part, frac_part) = match digits.iter().position(|&b| b == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &digits[digits.len()..]),
    };
    let all_digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
    if int_part.is_empty() && frac_part.is_empty()
        || !all_digits(int_part)
        || !all_digits(frac_part)
        || frac_part.len() > FLOAT_DIGITS as usize
        || int_part.len() > 20
    {
        return None;
    }
    let mut value: i128 = 0;
    for &d in int_part.iter().chain(frac_part) {
        value = value * 10 + i128::from(d - b'0');
    }
    value *= 10i128.pow(FLOAT_DIGITS - frac_part.len() as u32);
    Some(if negative { -value } else { value })
}

fn format_fixed(value: i128) -> Vec<u8> {
    let scale = 10u128.pow(FLOAT_DIGITS);
    let magnitude = value.unsigned_abs();
    let text = format!(
        "{}{}.{:0width$}",
        if value < 0 { "-" } else { "" },
        magnitude / scale,
        magnitude % scale,
        width = FLOAT_DIGITS as usize
    );
    trim_fraction(text).into_bytes()
}

/// Drops trailing fraction zeros and a bare point, and turns `-0` into `0`, as Redis does.
fn trim_fraction(mut text: String) -> String {
    if text.contains('.') {
        let kept = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(kept);
    }
    if text == "-0" {
        text = "0".into();
    }
    text
}

pub fn lcs(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let db = ctx.client.db;
    // Both strings are read at one moment, then the locks go before the long computation.
    let mut guard = ctx
        .server
        .keyspace
        .lock_keys(&[(db, &argv[1][..]), (db, &argv[2][..])]);
    let mut strings = [Bytes::new(), Bytes::new()];
    let mut found = [false; 2];
    let mut other_type = false;
    for (i, string) in strings.iter_mut().enumerate() {
        match guard.key(i).get(now).map(|e| &e.value) {
            None => {}
            Some(Value::Str(data)) => (*string, found[i]) = (data.to_bytes(), true),
            Some(_) => (other_type, found[i]) = (true, true),
        }
    }
    drop(guard);
    found.iter().for_each(|&hit| ctx.count_lookup(hit));
    if other_type {
        return ctx
            .reply
            .error("ERR The specified keys must contain string values");
    }
    let Some(options) = parse_lcs_options(ctx, &argv[3..]) else {
        return;
    };
    let [a, b] = &strings;
    if a.len() as u64 >= u64::from(u32::MAX - 1) || b.len() as u64 >= u64::from(u32::MAX - 1) {
        return ctx.reply.error("ERR String too long for LCS");
    }
    // Redis refuses a table (4 bytes a cell) larger than proto-max-bulk-len: that bounds
    // the memory and time one LCS may take.
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    match cells.checked_mul(4) {
        Some(bytes) if bytes > max_string_len(ctx) => {
            return ctx.reply.error(
                "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
            )
        }
        Some(_) => {}
        None => return ctx.reply.error(LCS_ALLOC_FAILED),
    }
    if options.len {
        return ctx.reply.int(i64::from(lcs_len(a, b)));
    }
    let Ok(table) = LcsTable::new(a, b) else {
        return ctx.reply.error(LCS_ALLOC_FAILED);
    };
    let (common, matches) = table.walk_back(a, b, options.min_match_len);
    if !options.idx {
        return ctx.reply.bulk(&common);
    }
    ctx.reply.array(4);
    ctx.reply.bulk(b"matches");
    ctx.reply.array(matches.len());
    for m in &matches {
        ctx.reply.array(2 + usize::from(options.with_match_len));
        for (start, end) in [m.a, m.b] {
            ctx.reply.array(2);
            ctx.reply.int(i64::from(start));
            ctx.reply.int(i64::from(end));
        }
        if options.with_match_len {
            ctx.reply.int(i64::from(m.len));
        }
    }
    ctx.reply.bulk(b"len");
    ctx.reply.int(common.len() as i64);
}

const LCS_ALLOC_FAILED: &str =
    "ERR Insufficient memory, failed allocating transient memory for LCS";

#[derive(Default)]
struct LcsOptions {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: i64,
}

/// LCS's options, or None after the error reply.
fn parse_lcs_options(ctx: &mut Ctx, options: &[Bytes]) -> Option<LcsOptions> {
    let mut parsed = LcsOptions::default();
    let mut i = 0;
    while i < options.len() {
        let opt = &options[i];
        if args::is(opt, "IDX") {
            parsed.idx = true;
        } else if args::is(opt, "LEN") {
            parsed.len = true;
        } else if args::is(opt, "WITHMATCHLEN") {
            parsed.with_match_len = true;
        } else if args::is(opt, "MINMATCHLEN") && i + 1 < options.len() {
            parsed.min_match_len = ctx.int_arg(&options[i + 1])?.max(0);
            i += 1;
        } else {
            ctx.reply.error(errors::SYNTAX);
            return None;
        }
        i += 1;
    }
    if parsed.idx && parsed.len {
        ctx.reply
            .error("ERR If you want both the length and indexes, please just use IDX.");
        return None;
    }
    Some(parsed)
}

/// The LCS length alone, in two rows of the table sized by the shorter string.
fn lcs_len(a: &[u8], b: &[u8]) -> u32 {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut previous = vec![0u32; short.len() + 1];
    let mut current = vec![0u32; short.len() + 1];
    for &x in long {
        for (j, &y) in short.iter().enumerate() {
            current[j + 1] = if x == y {
                previous[j] + 1
            } else {
                previous[j + 1].max(current[j])
            };
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[short.len()]
}

/// The dynamic-programming table of LCS lengths: cell (i, j) is the LCS length of
/// `a[..i]` and `b[..j]`.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
}

/// One range of IDX's reply: positions in `a` and in `b` (inclusive) and its length.
#[derive(Debug, PartialEq, Eq)]
struct LcsMatch {
    a: (u32, u32),
    b: (u32, u32),
    len: u32,
}

impl LcsTable {
    fn new(a: &[u8], b: &[u8]) -> Result<LcsTable, ()> {
        let width = b.len() + 1;
        let size = (a.len() + 1) * width;
        let mut cells = Vec::new();
        cells.try_reserve_exact(size).map_err(|_| ())?;
        cells.resize(size, 0);
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        Ok(LcsTable { cells, width })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }

    /// Walks the table back from the end as Redis does: the common subsequence, and its
    /// contiguous ranges from last to first, those shorter than `min_len` left out.
    fn walk_back(&self, a: &[u8], b: &[u8], min_len: i64) -> (Vec<u8>, Vec<LcsMatch>) {
        let (mut i, mut j) = (a.len(), b.len());
        let mut left = self.at(i, j) as usize;
        let mut common = vec![0u8; left];
        let mut matches = Vec::new();
        // The range being extended backwards: (a start, a end, b start, b end).
        let mut range: Option<(usize, usize, usize, usize)> = None;
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                common[left - 1] = a[i - 1];
                match &mut range {
                    None => range = Some((i - 1, i - 1, j - 1, j - 1)),
                    Some((a_start, _, b_start, _)) if *a_start == i && *b_start == j => {
                        *a_start -= 1;
                        *b_start -= 1;
                    }
                    Some(_) => emit = true,
                }
                // A range that reached the start of either string is complete.
                if range.is_some_and(|(a_start, _, b_start, _)| a_start == 0 || b_start == 0) {
                    emit = true;
                }
                left -= 1;
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = range.is_some();
            }
            if emit {
                if let Some((a_start, a_end, b_start, b_end)) = range.take() {
                    let len = a_end - a_start + 1;
                    if min_len == 0 || len as i64 >= min_len {
                        // Below u32::MAX: LCS refuses longer strings.
                        let pos = |p: usize| p as u32;
                        matches.push(LcsMatch {
                            a: (pos(a_start), pos(a_end)),
                            b: (pos(b_start), pos(b_end)),
                            len: pos(len),
                        });
                    }
                }
            }
        }
        (common, matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    #[test]
    fn set_options_conflicts_are_syntax_errors() {
        let ok = |w: &[&str]| parse_string_options(&argv(w), OptionsOf::Set).is_some();
        assert!(ok(&["set", "k", "v", "nx", "get", "ex", "10"]));
        assert!(ok(&["set", "k", "v", "EX", "1", "EX", "2"]));
        assert!(ok(&["set", "k", "v", "xx", "keepttl"]));
        assert!(!ok(&["set", "k", "v", "nx", "xx"]));
        assert!(!ok(&["set", "k", "v", "ex", "1", "px", "2"]));
        assert!(!ok(&["set", "k", "v", "keepttl", "ex", "1"]));
        assert!(!ok(&["set", "k", "v", "ex", "1", "keepttl"]));
        assert!(!ok(&["set", "k", "v", "ex"]));
        assert!(!ok(&["set", "k", "v", "bogus"]));
        assert!(!ok(&["set", "k", "v", "persist"]));
    }

    #[test]
    fn getex_takes_persist_or_one_expiry_and_nothing_of_set() {
        let ok = |w: &[&str]| parse_string_options(&argv(w), OptionsOf::Getex).is_some();
        assert!(ok(&["getex", "k"]));
        assert!(ok(&["getex", "k", "persist", "PERSIST"]));
        assert!(ok(&["getex", "k", "ex", "1", "ex", "2"]));
        assert!(
            ok(&["getex", "k", "pxat", "abc"]),
            "the amount is read later"
        );
        assert!(!ok(&["getex", "k", "persist", "ex", "1"]));
        assert!(!ok(&["getex", "k", "ex", "1", "persist"]));
        assert!(!ok(&["getex", "k", "ex", "1", "px", "1"]));
        for set_only in ["nx", "xx", "get", "keepttl"] {
            assert!(!ok(&["getex", "k", set_only]), "{set_only}");
        }
        let exat = argv(&["getex", "k", "exat", "5"]);
        let options = parse_string_options(&exat, OptionsOf::Getex).unwrap();
        assert_eq!(options.expiry, Some((ExpiryUnit::UnixSeconds, &b"5"[..])));
    }

    #[test]
    fn ranges_clamp_like_redis() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-3, -1, 5), Some((2, 4)));
        assert_eq!(clamp_range(-100, -200, 5), None);
        assert_eq!(clamp_range_unchecked(-100, -200, 5), Some((0, 0)));
        assert_eq!(clamp_range(2, 1, 5), None);
        assert_eq!(clamp_range(0, i64::MAX, 5), Some((0, 4)));
        assert_eq!(clamp_range(i64::MIN, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(0, -1, 0), None);
    }

    #[test]
    fn lcs_finds_redis_ranges() {
        let (a, b) = (&b"ohmytext"[..], &b"mynewtext"[..]);
        assert_eq!(lcs_len(a, b), 6);
        assert_eq!(lcs_len(b, a), 6);
        assert_eq!(lcs_len(b"", b"abc"), 0);
        let table = LcsTable::new(a, b).unwrap();
        let (common, matches) = table.walk_back(a, b, 0);
        assert_eq!(common, b"mytext");
        assert_eq!(
            matches,
            vec![
                LcsMatch {
                    a: (4, 7),
                    b: (5, 8),
                    len: 4
                },
                LcsMatch {
                    a: (2, 3),
                    b: (0, 1),
                    len: 2
                },
            ]
        );
        assert_eq!(table.walk_back(a, b, 3).1.len(), 1);
    }

    #[test]
    fn deadlines_reject_non_positive_and_overflowing_amounts() {
        assert_eq!(deadline_ms(ExpiryUnit::Seconds, 10, 1_000), Some(11_000));
        assert_eq!(deadline_ms(ExpiryUnit::UnixMilliseconds, 5, 1_000), Some(5));
        assert_eq!(deadline_ms(ExpiryUnit::Milliseconds, 0, 1_000), None);
        assert_eq!(
            deadline_ms(ExpiryUnit::Seconds, i64::MAX / 1000 + 1, 0),
            None
        );
        assert_eq!(deadline_ms(ExpiryUnit::Milliseconds, i64::MAX, 1), None);
    }

    #[test]
    fn float_increments_print_like_redis() {
        let add = |a: &str, b: &str| {
            add_decimal_text(a.as_bytes(), b.as_bytes()).map(|v| String::from_utf8(v).unwrap())
        };
        assert_eq!(add("0.1", "0.2").unwrap(), "0.3");
        assert_eq!(add("10.5", "0.1").unwrap(), "10.6");
        assert_eq!(add("0", "1.0").unwrap(), "1");
        assert_eq!(add("1", "-1").unwrap(), "0");
        assert_eq!(add("-0.5", "0.25").unwrap(), "-0.25");
        assert_eq!(add("5", "5.0e3").unwrap(), "5005");
        assert_eq!(add("1", "inf"), None);
        assert_eq!(add("17179869184", "1.5").unwrap(), "17179869185.5");
    }
}
