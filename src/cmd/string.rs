//! String commands: GET, SET, MSET, INCRBYFLOAT.
//!
//! ```text
//! GET key                        the value, or a null bulk
//! SET key value [NX|XX] [GET] [EX s|PX ms|EXAT unix-s|PXAT unix-ms|KEEPTTL]
//!                                +OK; a null bulk when NX/XX refused; with GET the old value
//! MSET key value [key value ...] +OK
//! INCRBYFLOAT key increment      the new value, as Redis formats it
//! ```

use bytes::Bytes;

use super::{args, errors, wrong_arity, Ctx};
use crate::db::Value;
use crate::resp::Reply;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("get", 2, READONLY | FAST, ONE_KEY, "string", "Get the value of a key", get),
    command("set", -3, WRITE | DENYOOM, ONE_KEY, "string", "Set the string value of a key", set),
    since(command("mset", -3, WRITE | DENYOOM, (1, -1, 2), "string", "Set multiple keys to multiple values", mset), "1.0.1"),
    since(command("incrbyfloat", 3, WRITE | DENYOOM | FAST, ONE_KEY, "string", "Increment the float value of a key by the given amount", incrbyfloat), "2.6.0"),
];

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
        let old = existing.map(|pos| &guard.entry(pos).value);
        if matches!(old, Some(v) if !matches!(v, Value::Str(_))) {
            return ctx.reply.error(errors::WRONGTYPE);
        }
        reply_string(ctx.reply, old);
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

pub fn mset(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() % 2 == 0 {
        return ctx.reply.error(wrong_arity("mset"));
    }
    let now = ctx.now_ms();
    for pair in argv[1..].chunks(2) {
        ctx.lock(&pair[0]).set(Value::string(&pair[1]), false, now);
    }
    ctx.reply.ok();
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
    match existing {
        // Like Redis' dbReplaceValue, an existing key keeps its TTL.
        Some(_) => guard.set(Value::Str(sum), true, now),
        None => guard.set(Value::Str(sum), false, now),
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
fn add_decimal_text(a: &[u8], b: &[u8]) -> Option<Vec<u8>> {
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
