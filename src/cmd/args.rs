//! Reading command arguments the way Redis does, so that every handler accepts and
//! refuses exactly the same numbers.

pub use crate::num::{parse_f64, parse_i64};

/// Case-insensitive comparison with an ASCII keyword (`EX`, `NX`, ...).
pub fn is(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}
