//! Reading command arguments the way Redis does, so that every handler accepts and
//! refuses exactly the same numbers.

pub use crate::num::{parse_f64, parse_i64};

/// Case-insensitive comparison with an ASCII keyword (`EX`, `NX`, ...).
pub fn is(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// Where the keys of a `numkeys key [key ...]` argument list are (LMPOP, BLMPOP,
/// SINTERCARD), with `numkeys` at `numkeys_at`: None unless it is a positive integer and
/// that many arguments follow it.
pub fn numkeys_range<A: AsRef<[u8]>>(
    argv: &[A],
    numkeys_at: usize,
) -> Option<std::ops::Range<usize>> {
    let numkeys = parse_i64(argv.get(numkeys_at)?.as_ref()).filter(|n| *n > 0)?;
    let first = numkeys_at + 1;
    let end = first.checked_add(usize::try_from(numkeys).ok()?)?;
    (end <= argv.len()).then_some(first..end)
}
