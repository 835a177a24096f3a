//! Reading command arguments the way Redis does, so that every handler accepts and
//! refuses exactly the same numbers.

pub use crate::num::{parse_f64, parse_i64};

/// An argument that must fit in a C `int` (SELECT's index, counts).
pub fn parse_i32(text: &[u8]) -> Option<i32> {
    parse_i64(text).and_then(|n| i32::try_from(n).ok())
}

/// Case-insensitive comparison with an ASCII keyword (`EX`, `NX`, ...).
pub fn is(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i32_arguments_reject_what_does_not_fit() {
        assert_eq!(parse_i32(b"2147483647"), Some(i32::MAX));
        assert_eq!(parse_i32(b"2147483648"), None);
    }
}
