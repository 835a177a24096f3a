//! What the pops from the first non-empty key share, blocking or not: LMPOP, BLMPOP,
//! BLPOP, BRPOP (lists) and ZMPOP, BZMPOP, BZPOPMIN, BZPOPMAX (sorted sets).
//!
//! A blocking command that finds nothing sets `client.blocked`; the connection waits for
//! a write that gives one of the keys data and runs the command again (src/server/conn.rs).
//! Replicas never block: what a pop took reaches them as the plain pop of that key.

use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;

use super::{args, errors, Collection, Ctx};
use crate::db::WrongType;
use crate::resp::Reply;
use crate::server::client::Blocked;

/// What [`pop_first`] took: the key and its elements; Ok(None) when every key was
/// missing.
pub(super) type Popped<'k, E> = Result<Option<(&'k Bytes, Vec<E>)>, WrongType>;

/// Makes the client wait on `keys` for up to `timeout` (None: forever).
pub(super) fn block(ctx: &mut Ctx, keys: &[Bytes], timeout: Option<Duration>) {
    ctx.client.blocked = Some(Blocked {
        keys: keys.to_vec(),
        timeout,
    });
}

/// Whether a blocked client runs its command again after a wake-up. A key that became
/// another type meanwhile does not serve it and is no error: it keeps waiting, as in
/// Redis, which serves blocked clients only from keys of the type they pop.
pub(super) fn woken(ctx: &Ctx) -> bool {
    ctx.client.reprocessing
}

/// For a blocked client's retry, the turn of EXEC (see `Watches::exec_turn`): a retry
/// never sees the middle of a transaction, as Redis serves blocked clients only between
/// commands. None, no wait, for a first run.
pub(super) fn retry_turn<'s>(ctx: &Ctx<'s>) -> Option<std::sync::MutexGuard<'s, ()>> {
    let server = ctx.server;
    woken(ctx).then(|| server.keyspace.watches.exec_turn())
}

/// The arguments of LMPOP, ZMPOP and their blocking forms.
pub(super) struct Mpop {
    /// Where the keys are in argv.
    pub keys: Range<usize>,
    /// Whether the end named is the first of the two (LEFT, MIN).
    pub first_end: bool,
    pub count: usize,
    /// The blocking forms' timeout (see [`parse_timeout`]); None for LMPOP and ZMPOP.
    pub wait: Option<Option<Duration>>,
}

/// Parses `[timeout] numkeys key [key ...] <end> [COUNT count]`, with `numkeys` at
/// `numkeys_at` (a timeout before it at 1) and `<end>` one of `ends` (LEFT|RIGHT,
/// MIN|MAX), in Redis' order: the timeout last. None after the error reply.
pub(super) fn parse_mpop(
    ctx: &mut Ctx,
    argv: &[Bytes],
    numkeys_at: usize,
    ends: [&str; 2],
) -> Option<Mpop> {
    if args::parse_i64(&argv[numkeys_at]).is_none_or(|n| n <= 0) {
        ctx.reply.error("ERR numkeys should be greater than 0");
        return None;
    }
    // The end must follow the keys.
    let Some(keys) = args::numkeys_range(argv, numkeys_at).filter(|k| k.end < argv.len()) else {
        ctx.reply.error(errors::SYNTAX);
        return None;
    };
    let end = &argv[keys.end];
    let first_end = if args::is(end, ends[0]) {
        true
    } else if args::is(end, ends[1]) {
        false
    } else {
        ctx.reply.error(errors::SYNTAX);
        return None;
    };
    let count = match &argv[keys.end + 1..] {
        [] => 1,
        [name, count] if args::is(name, "COUNT") => {
            match args::parse_i64(count).filter(|n| *n > 0) {
                Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
                None => {
                    ctx.reply.error("ERR count should be greater than 0");
                    return None;
                }
            }
        }
        _ => {
            ctx.reply.error(errors::SYNTAX);
            return None;
        }
    };
    let wait = match numkeys_at {
        1 => None,
        _ => Some(parse_timeout(ctx, &argv[1])?),
    };
    Some(Mpop {
        keys,
        first_end,
        count,
        wait,
    })
}

/// Replies what a pop from the first non-empty key took, with `reply`; when it took
/// nothing, the client waits on `keys` if the command blocks (`wait`), else the reply is
/// a null array.
pub(super) fn finish<E>(
    ctx: &mut Ctx,
    keys: &[Bytes],
    wait: Option<Option<Duration>>,
    popped: Popped<'_, E>,
    reply: impl FnOnce(&mut Reply, &Bytes, Vec<E>),
) {
    match popped {
        Ok(Some((key, taken))) => reply(ctx.reply, key, taken),
        Ok(None) => match wait {
            Some(timeout) => block(ctx, keys, timeout),
            None => {
                crate::persist::dirty::changed(0);
                ctx.reply.null_array();
            }
        },
        Err(WrongType) => ctx.reply.error(errors::WRONGTYPE),
    }
}

/// Takes from the first non-empty collection of type `T` among `keys`: `take(collection,
/// count)` removes up to `count` elements (None: one) and returns them; the key goes when
/// emptied. Replicas get `plain key [count taken]` (no count for None) under the key's
/// lock. Ok(None) when every key is missing. A key of another type is an error, except
/// for a woken blocked client, which keeps waiting. Keys are looked up for writing, which
/// INFO's keyspace hits and misses do not count.
pub(super) fn pop_first<'k, T: Collection, E>(
    ctx: &mut Ctx,
    keys: &'k [Bytes],
    count: Option<usize>,
    plain: &[u8],
    take: impl FnOnce(&mut T, usize) -> Vec<E>,
) -> Popped<'k, E> {
    let now = ctx.now_ms();
    let _turn = retry_turn(ctx);
    for key in keys {
        let mut guard = ctx.lock(key);
        let pos = match guard.find_live_of(now, |v| T::of(v).is_some()) {
            Ok(Some(pos)) => pos,
            Ok(None) => continue,
            Err(WrongType) if woken(ctx) => continue,
            Err(WrongType) => return Err(WrongType),
        };
        let Some(collection) = T::of_mut(&mut guard.entry_mut(pos).value) else {
            unreachable!("the type was checked above")
        };
        let taken = take(collection, count.unwrap_or(1));
        if collection.is_empty() {
            guard.remove_at(pos);
        }
        match count {
            None => ctx.propagate(&[plain, &key[..]]),
            Some(_) => ctx.propagate(&[plain, &key[..], taken.len().to_string().as_bytes()]),
        }
        return Ok(Some((key, taken)));
    }
    Ok(None)
}

/// A blocking timeout in seconds (fractions allowed); None after an error reply.
/// `Some(None)` is 0, block forever.
pub(super) fn parse_timeout(ctx: &mut Ctx, text: &[u8]) -> Option<Option<Duration>> {
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
