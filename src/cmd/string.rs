//! String commands: GET, SET.
//!
//! ```text
//! GET key                        the value, or a null bulk
//! SET key value [NX|XX] [GET] [EX s|PX ms|EXAT unix-s|PXAT unix-ms|KEEPTTL]
//!                                +OK; a null bulk when NX/XX refused; with GET the old value
//! ```

use bytes::Bytes;

use super::{args, errors, Ctx};
use crate::db::Value;

pub fn get(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, &argv[1]);
    let found = match guard.get(now) {
        Some(entry) => match &entry.value {
            Value::Str(data) => {
                ctx.reply.bulk(data);
                true
            }
        },
        None => {
            ctx.reply.null();
            false
        }
    };
    drop(guard);
    ctx.count_lookup(found);
}

/// How SET's expiry option was given.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpiryUnit {
    Seconds,
    Milliseconds,
    UnixSeconds,
    UnixMilliseconds,
}

#[derive(Default)]
struct SetOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    expiry: Option<(ExpiryUnit, &'a [u8])>,
}

/// Redis' parseExtendedStringArgumentsOrReply for SET: options in any order; a repeated
/// expiry option of the same kind is allowed (the last wins), conflicting ones are a
/// syntax error.
fn parse_set_options(argv: &[Bytes]) -> Option<SetOptions<'_>> {
    let mut options = SetOptions::default();
    let mut i = 3;
    while i < argv.len() {
        let opt = &argv[i][..];
        let next = argv.get(i + 1);
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
            let next = next?;
            if options.keep_ttl || other_expiry {
                return None;
            }
            options.expiry = Some((unit, &next[..]));
            i += 2;
            continue;
        }
        if args::is(opt, "NX") && !options.xx {
            options.nx = true;
        } else if args::is(opt, "XX") && !options.nx {
            options.xx = true;
        } else if args::is(opt, "GET") {
            options.get = true;
        } else if args::is(opt, "KEEPTTL") && options.expiry.is_none() {
            options.keep_ttl = true;
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
    match unit {
        ExpiryUnit::Seconds | ExpiryUnit::Milliseconds => ms.checked_add(now_ms),
        ExpiryUnit::UnixSeconds | ExpiryUnit::UnixMilliseconds => Some(ms),
    }
}

pub fn set(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(options) = parse_set_options(argv) else {
        ctx.reply.error(errors::SYNTAX);
        return;
    };
    let now = ctx.now_ms();
    let deadline = match options.expiry {
        None => None,
        Some((unit, text)) => {
            let Some(amount) = ctx.int_arg(text) else {
                return;
            };
            match deadline_ms(unit, amount, now) {
                Some(deadline) => Some(deadline),
                None => {
                    ctx.reply.error("ERR invalid expire time in 'set' command");
                    return;
                }
            }
        }
    };
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, &argv[1]);
    let existing = guard.find_live(now);
    if options.get {
        match existing.map(|pos| &guard.entry(pos).value) {
            Some(Value::Str(old)) => ctx.reply.bulk(old),
            None => ctx.reply.null(),
        }
    }
    if (options.nx && existing.is_some()) || (options.xx && existing.is_none()) {
        if !options.get {
            ctx.reply.null();
        }
        return;
    }
    let pos = guard.set(Value::string(&argv[2]), options.keep_ttl, now);
    if deadline.is_some() {
        guard.set_expiry(pos, deadline);
    }
    if !options.get {
        ctx.reply.ok();
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
        let ok = |w: &[&str]| parse_set_options(&argv(w)).is_some();
        assert!(ok(&["set", "k", "v", "nx", "get", "ex", "10"]));
        assert!(ok(&["set", "k", "v", "EX", "1", "EX", "2"]));
        assert!(ok(&["set", "k", "v", "xx", "keepttl"]));
        assert!(!ok(&["set", "k", "v", "nx", "xx"]));
        assert!(!ok(&["set", "k", "v", "ex", "1", "px", "2"]));
        assert!(!ok(&["set", "k", "v", "keepttl", "ex", "1"]));
        assert!(!ok(&["set", "k", "v", "ex", "1", "keepttl"]));
        assert!(!ok(&["set", "k", "v", "ex"]));
        assert!(!ok(&["set", "k", "v", "bogus"]));
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
}
