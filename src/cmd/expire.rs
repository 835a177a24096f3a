//! Expiry commands: TTL, PTTL, EXPIRETIME, PEXPIRETIME, EXPIRE, PEXPIRE, EXPIREAT,
//! PEXPIREAT, PERSIST.
//!
//! ```text
//! TTL key / PTTL key                      :-2 no key, :-1 no deadline, else seconds / ms left
//! EXPIRETIME key / PEXPIRETIME key        :-2, :-1, else the deadline in Unix seconds / ms
//! EXPIRE key seconds [NX|XX|GT|LT]        :1 set (a deadline in the past deletes), :0 not
//! PEXPIRE key milliseconds [NX|XX|GT|LT]
//! EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
//! PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
//! PERSIST key                             :1 deadline removed, :0 none to remove
//! ```

use bytes::Bytes;

use super::{args, Ctx};

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("ttl", 2, READONLY | FAST, ONE_KEY, "generic", "Get the time to live for a key in seconds", ttl),
    since(command("pttl", 2, READONLY | FAST, ONE_KEY, "generic", "Get the time to live for a key in milliseconds", pttl), "2.6.0"),
    since(command("expiretime", 2, READONLY | FAST, ONE_KEY, "generic", "Get the expiration Unix timestamp for a key", expiretime), "7.0.0"),
    since(command("pexpiretime", 2, READONLY | FAST, ONE_KEY, "generic", "Get the expiration Unix timestamp for a key in milliseconds", pexpiretime), "7.0.0"),
    command("expire", -3, WRITE | FAST, ONE_KEY, "generic", "Set a key's time to live in seconds", expire),
    since(command("pexpire", -3, WRITE | FAST, ONE_KEY, "generic", "Set a key's time to live in milliseconds", pexpire), "2.6.0"),
    since(command("expireat", -3, WRITE | FAST, ONE_KEY, "generic", "Set the expiration for a key as a UNIX timestamp", expireat), "1.2.0"),
    since(command("pexpireat", -3, WRITE | FAST, ONE_KEY, "generic", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", pexpireat), "2.6.0"),
    since(command("persist", 2, WRITE | FAST, ONE_KEY, "generic", "Remove the expiration from a key", persist), "2.2.0"),
];

pub fn ttl(ctx: &mut Ctx, argv: &[Bytes]) {
    time_to_live(ctx, &argv[1], 1000, false);
}

pub fn pttl(ctx: &mut Ctx, argv: &[Bytes]) {
    time_to_live(ctx, &argv[1], 1, false);
}

pub fn expiretime(ctx: &mut Ctx, argv: &[Bytes]) {
    time_to_live(ctx, &argv[1], 1000, true);
}

pub fn pexpiretime(ctx: &mut Ctx, argv: &[Bytes]) {
    time_to_live(ctx, &argv[1], 1, true);
}

/// Redis' ttlGenericCommand: the time left (or, `absolute`, the deadline) in units of
/// `unit_ms`, rounded to the nearest unit. Reading a TTL does not count as an access.
fn time_to_live(ctx: &mut Ctx, key: &[u8], unit_ms: i64, absolute: bool) {
    let now = ctx.now_ms();
    let mut guard = ctx.lock(key);
    let reply = match guard.find_live_untouched(now) {
        None => -2,
        Some(pos) => match guard.expires_at(pos) {
            None => -1,
            Some(at) => {
                let ms = if absolute { at } else { (at - now).max(0) };
                // In i128: a deadline near i64::MAX (PEXPIREAT allows it) must not overflow.
                ((i128::from(ms) + i128::from(unit_ms / 2)) / i128::from(unit_ms)) as i64
            }
        },
    };
    drop(guard);
    ctx.count_lookup(reply != -2);
    ctx.reply.int(reply);
}

pub fn expire(ctx: &mut Ctx, argv: &[Bytes]) {
    set_deadline(ctx, argv, 1000, true, "expire");
}

pub fn pexpire(ctx: &mut Ctx, argv: &[Bytes]) {
    set_deadline(ctx, argv, 1, true, "pexpire");
}

pub fn expireat(ctx: &mut Ctx, argv: &[Bytes]) {
    set_deadline(ctx, argv, 1000, false, "expireat");
}

pub fn pexpireat(ctx: &mut Ctx, argv: &[Bytes]) {
    set_deadline(ctx, argv, 1, false, "pexpireat");
}

/// The NX / XX / GT / LT conditions of the EXPIRE family.
#[derive(Default)]
struct Conditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Conditions {
    fn parse(options: &[Bytes]) -> Result<Conditions, String> {
        let mut c = Conditions::default();
        for opt in options {
            let flag = match () {
                _ if args::is(opt, "NX") => &mut c.nx,
                _ if args::is(opt, "XX") => &mut c.xx,
                _ if args::is(opt, "GT") => &mut c.gt,
                _ if args::is(opt, "LT") => &mut c.lt,
                _ => {
                    return Err(format!(
                        "ERR Unsupported option {}",
                        String::from_utf8_lossy(opt)
                    ))
                }
            };
            *flag = true;
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(
                "ERR NX and XX, GT or LT options at the same time are not compatible".into(),
            );
        }
        if c.gt && c.lt {
            return Err("ERR GT and LT options at the same time are not compatible".into());
        }
        Ok(c)
    }

    /// Whether the new deadline may replace `current` (None: the key has no deadline,
    /// which GT and LT treat as infinite).
    fn allow(&self, current: Option<i64>, new: i64) -> bool {
        !(self.nx && current.is_some()
            || self.xx && current.is_none()
            || self.gt && current.is_none_or(|c| new <= c)
            || self.lt && current.is_some_and(|c| new >= c))
    }
}

/// Redis' expireGenericCommand: an amount in units of `unit_ms`, from now when
/// `relative` (EXPIRE, PEXPIRE), from the Unix epoch otherwise (EXPIREAT, PEXPIREAT).
/// Negative amounts are allowed (they delete the key); overflow is an error.
fn set_deadline(ctx: &mut Ctx, argv: &[Bytes], unit_ms: i64, relative: bool, name: &str) {
    let conditions = match Conditions::parse(&argv[3..]) {
        Ok(c) => c,
        Err(message) => return ctx.reply.error(&message),
    };
    let Some(amount) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let now = ctx.now_ms();
    let base = if relative { now } else { 0 };
    let Some(deadline) = amount
        .checked_mul(unit_ms)
        .and_then(|ms| ms.checked_add(base))
    else {
        ctx.reply
            .error(format!("ERR invalid expire time in '{name}' command"));
        return;
    };
    let mut guard = ctx.lock(&argv[1]);
    let Some(pos) = guard.find_live(now) else {
        drop(guard);
        crate::persist::dirty::changed(0);
        return ctx.reply.int(0);
    };
    if !conditions.allow(guard.expires_at(pos), deadline) {
        drop(guard);
        crate::persist::dirty::changed(0);
        return ctx.reply.int(0);
    }
    if deadline <= now {
        // A deadline already past deletes the key (an explicit delete, not an expiry).
        guard.remove_at(pos);
        ctx.propagate(&[b"DEL", &argv[1][..]]);
    } else {
        guard.set_expiry(pos, Some(deadline));
        // Replicas get the absolute deadline (Redis 7.0: PEXPIREAT key ms).
        if name == "pexpireat" {
            ctx.propagate(argv);
        } else {
            ctx.propagate(&[b"PEXPIREAT", &argv[1][..], deadline.to_string().as_bytes()]);
        }
    }
    drop(guard);
    ctx.reply.int(1);
}

pub fn persist(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let mut guard = ctx.lock(&argv[1]);
    let removed = match guard.find_live(now) {
        Some(pos) if guard.expires_at(pos).is_some() => {
            guard.set_expiry(pos, None);
            ctx.propagate(argv);
            true
        }
        _ => false,
    };
    drop(guard);
    crate::persist::dirty::changed(u64::from(removed));
    ctx.reply.int(i64::from(removed));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(words: &[&str]) -> Result<Conditions, String> {
        let argv: Vec<Bytes> = words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        Conditions::parse(&argv)
    }

    #[test]
    fn conditions_follow_redis() {
        let gt = opts(&["gt"]).unwrap();
        assert!(!gt.allow(None, 10), "GT treats no deadline as infinite");
        assert!(gt.allow(Some(5), 10));
        assert!(!gt.allow(Some(10), 10));
        let lt = opts(&["LT"]).unwrap();
        assert!(lt.allow(None, 10));
        assert!(!lt.allow(Some(5), 10));
        let nx = opts(&["nx"]).unwrap();
        assert!(nx.allow(None, 1) && !nx.allow(Some(1), 1));
        let xx = opts(&["xx", "gt"]).unwrap();
        assert!(!xx.allow(None, 1) && xx.allow(Some(1), 2));
    }

    #[test]
    fn incompatible_conditions_are_refused_with_redis_text() {
        assert_eq!(
            opts(&["nx", "xx"]).err().unwrap(),
            "ERR NX and XX, GT or LT options at the same time are not compatible"
        );
        assert_eq!(
            opts(&["gt", "lt"]).err().unwrap(),
            "ERR GT and LT options at the same time are not compatible"
        );
        assert_eq!(opts(&["foo"]).err().unwrap(), "ERR Unsupported option foo");
    }
}
