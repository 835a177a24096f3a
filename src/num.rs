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
    let value: f64 = text.parse().ok()?;
    let spelled_infinite = text.to_ascii_lowercase().contains("inf");
    if value.is_nan() || (value.is_infinite() && !spelled_infinite) {
        return None;
    }
    Some(value)
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
/// integers (`double2ll`; `-0` becomes `0`); anything else as `%.17g`. Sorted-set scores are stored
/// as this text inside listpacks. Replaces the contents of `out`.
pub fn format_double(v: f64, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    if v.is_nan() {
        out.push_str("nan");
    } else if v.is_infinite() {
        out.push_str(if v < 0.0 { "-inf" } else { "inf" });
    } else if v.abs() <= (i64::MAX / 2) as f64 && v == v.trunc() {
        let _ = write!(out, "{}", v as i64);
    } else {
        // %.17g: 17 significant digits, scientific when the exponent is < -4 or >= 17,
        // trailing zeros dropped, at least two exponent digits.
        let sci = format!("{v:.16e}");
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        if !(-4..17).contains(&exp) {
            let mantissa = trim_fraction(mantissa);
            let sign = if exp < 0 { '-' } else { '+' };
            let _ = write!(out, "{mantissa}e{sign}{:02}", exp.unsigned_abs());
        } else {
            let fixed = format!("{v:.*}", (16 - exp) as usize);
            out.push_str(trim_fraction(&fixed));
        }
    }
}

/// `1.500` → `1.5`, `2.000` → `2` (what %g does to the fraction).
fn trim_fraction(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            format_double(v, &mut s);
            assert_eq!(s, text, "{v:?}");
        }
    }
}
