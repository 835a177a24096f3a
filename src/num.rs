//! Numbers as Redis writes and reads them (util.c): `string2ll`, `strtold`'s rules, and
//! integer formatting without allocation. The parser, the commands and the reply encoder
//! all go through here, so a number means the same everywhere.

/// Redis' `string2ll`: optional `-`, no `+`, no leading zeros, no spaces, fits in i64.
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    match digits {
        [] => return None,
        [b'0'] if !negative => return Some(0),
        [b'1'..=b'9', ..] => {}
        _ => return None,
    }
    let mut magnitude: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        if magnitude > i64::MAX as u64 + 1 {
            None
        } else {
            Some((magnitude as i64).wrapping_neg())
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Redis' string2ld / strtold rules for a float argument: no leading space, nothing
/// after the number, not NaN, and no overflow to infinity (only `inf` itself is infinite).
pub fn parse_f64(text: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?;
    if text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let value = parse_c_double(text)?;
    let spelled_infinite = text.to_ascii_lowercase().contains("inf");
    if value.is_nan() || (value.is_infinite() && !spelled_infinite) {
        return None;
    }
    Some(value)
}

/// The whole of `text` as C's strtod reads a number (no leading space): decimal, `inf`,
/// `infinity`, `nan`, and hexadecimal floats (`0x10`, `-0x1.8p3`), which Rust's parser
/// does not take.
pub fn parse_c_double(text: &str) -> Option<f64> {
    text.parse().ok().or_else(|| parse_hex_double(text))
}

/// `[+-]0x<hex digits>[.<hex digits>][p[+-]<decimal exponent>]`, at least one digit,
/// rounded to nearest as strtod does.
fn parse_hex_double(text: &str) -> Option<f64> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest
        .strip_prefix("0x")
        .or_else(|| rest.strip_prefix("0X"))?;
    let (digits, exponent) = match rest.find(['p', 'P']) {
        Some(at) => (&rest[..at], rest[at + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    // 60 significant bits, more than a double's 53 + rounding bits; any nonzero digit
    // past them only decides ties, so it is kept as a sticky low bit.
    let (mut mantissa, mut scale, mut sticky) = (0u64, 0i64, false);
    for (i, c) in whole.chars().chain(fraction.chars()).enumerate() {
        let digit = u64::from(c.to_digit(16)?);
        if mantissa >> 56 == 0 {
            mantissa = mantissa << 4 | digit;
            scale -= if i >= whole.len() { 4 } else { 0 };
        } else {
            sticky |= digit != 0;
            scale += if i < whole.len() { 4 } else { 0 };
        }
    }
    let mantissa = mantissa | u64::from(sticky);
    // Exact scaling by powers of two, in steps that cannot overflow on the way.
    let mut value = mantissa as f64;
    let mut shift = exponent.saturating_add(scale).clamp(-2200, 2200);
    while shift != 0 {
        let step = shift.clamp(-1000, 1000);
        value *= 2f64.powi(step as i32);
        shift -= step;
    }
    Some(if negative { -value } else { value })
}

/// A double as C's `%.17g` prints it (Redis 7.0's replies and DEBUG DIGEST of scores):
/// 17 significant digits, trailing zeros dropped, exponent form below 1e-4 and from 1e17.
pub fn format_double(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    // `{:e}` rounds exactly, as glibc does; its exponent is the one %g decides by.
    let scientific = format!("{x:.16e}");
    let (mantissa, exp) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..17).contains(&exp) {
        let fixed = format!("{x:.*}", (16 - exp) as usize);
        trim_fraction(&fixed).to_string()
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim_fraction(mantissa), exp.abs())
    }
}

/// Drops trailing zeros after a decimal point, and the point if nothing is left after it.
fn trim_fraction(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// Decimal text of `n` in `buf`, without allocating (replies are built per command).
pub fn format_i64(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut magnitude = n.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

/// Redis' `d2string` (7.0): `nan`, `inf`, `-inf`; integral values within ±2^62 as
/// integers (`double2ll`; `-0` becomes `0`); anything else as `%.17g`. Sorted-set scores
/// are stored as this text inside listpacks. Replaces the contents of `out`.
pub fn d2string(v: f64, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    if v.is_finite() && v.abs() <= (i64::MAX / 2) as f64 && v == v.trunc() {
        let _ = write!(out, "{}", v as i64);
    } else {
        out.push_str(&format_double(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hexadecimal_floats_parse_as_strtod_reads_them() {
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"-0X1.8p3"), Some(-12.0));
        assert_eq!(parse_f64(b"+0x.8"), Some(0.5));
        assert_eq!(parse_f64(b"0x1p-2"), Some(0.25));
        assert_eq!(parse_f64(b"0x1P+2"), Some(4.0));
        assert_eq!(parse_f64(b"0x0"), Some(0.0));
        // Ties go to even, unless a nonzero digit far out breaks them (Python's
        // float.fromhex gives the expected values).
        let rounded = [
            ("0x20000000000001000001", 1.5111572745182868e23),
            ("0x20000000000001000000", 1.5111572745182865e23),
            ("0x1.00000000000008p0", 1.0),
            ("0x1.000000000000080000001p0", 1.0000000000000002),
            ("0x1.fffffffffffff8p0", 2.0),
            ("0x123456789abcdef123456789p-10", 5.501955730157246e24),
        ];
        for (text, value) in rounded {
            assert_eq!(parse_f64(text.as_bytes()), Some(value), "{text}");
        }
        for refused in [
            "0x", "0x.", "0xp1", "0x1p", "0x1.8.1", "0xg", "0x1p1.5", " 0x1", "0x1p9999", "x10",
            "0x+1",
        ] {
            assert_eq!(parse_f64(refused.as_bytes()), None, "{refused}");
        }
    }

    #[test]
    fn integers_parse_like_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"+1",
            b"01",
            b" 1",
            b"1 ",
            b"1.5",
            b"9223372036854775808",
            b"99999999999999999999999",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn floats_parse_like_strtold() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-1e3"), Some(-1000.0));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        for bad in [&b""[..], b" 1", b"1 ", b"nan", b"1e999", b"abc"] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn doubles_format_like_printf_17g() {
        for (x, want) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (1.1, "1.1000000000000001"),
            (-2.5, "-2.5"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (123456789.125, "123456789.125"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(format_double(x), want, "{x:e}");
        }
    }

    #[test]
    fn formats_integer_extremes() {
        let mut b = [0u8; 20];
        assert_eq!(format_i64(0, &mut b), b"0");
        let mut b = [0u8; 20];
        assert_eq!(format_i64(i64::MAX, &mut b), b"9223372036854775807");
    }

    #[test]
    fn doubles_format_like_d2string() {
        let mut s = String::new();
        for (v, text) in [
            (1.5, "1.5"),
            (3.0, "3"),
            (-0.0, "0"),
            (0.1, "0.10000000000000001"),
            (1e-5, "1.0000000000000001e-05"),
            (1e20, "1e+20"),
            (-2.5e-300, "-2.5e-300"),
            (12_345_678_901_234_567.0, "12345678901234568"),
            (123456.789, "123456.789"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (1e16 + 0.5, "10000000000000000"),
        ] {
            d2string(v, &mut s);
            assert_eq!(s, text, "{v:?}");
        }
    }
}
