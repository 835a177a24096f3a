//! Random picks for SRANDMEMBER, HRANDFIELD and ZRANDMEMBER: `count` >= 0 asks for up to `count`
//! distinct elements, a negative `count` for exactly `-count` picks that may repeat.

use bytes::Bytes;

use super::{args, errors, Ctx};
use crate::db::expire::Rng;

/// The most picks a negative count may ask for: each repeat is written out, so a larger
/// count is refused ("value is out of range") instead of building a reply that cannot fit.
pub const MAX_REPEATED_PICKS: u64 = 10_000_000;

/// A count argument in Redis' range for these commands, -LONG_MAX..=LONG_MAX; or the
/// error reply and None.
pub fn parse_count(ctx: &mut Ctx, text: &[u8]) -> Option<i64> {
    match ctx.int_arg(text)? {
        i64::MIN => {
            ctx.reply.error(
                "ERR value is out of range, value must between -9223372036854775807 and \
                 9223372036854775807",
            );
            None
        }
        n => Some(n),
    }
}

/// `key count [FLAG]` of HRANDFIELD / ZRANDMEMBER: the count and whether `flag` (which
/// asks for a value with each pick) was given; or the error reply and None.
pub fn parse_count_and_flag(ctx: &mut Ctx, argv: &[Bytes], flag: &str) -> Option<(i64, bool)> {
    let count = parse_count(ctx, &argv[2])?;
    let with_values = match &argv[3..] {
        [] => false,
        [word] if args::is(word, flag) => true,
        _ => {
            ctx.reply.error(errors::SYNTAX);
            return None;
        }
    };
    // Redis halves its bounds with values (each pick is two replies).
    let out_of_range =
        (with_values && count.unsigned_abs() > (i64::MAX / 2) as u64) || too_many_repeats(count);
    if out_of_range {
        ctx.reply.error("ERR value is out of range");
        return None;
    }
    Some((count, with_values))
}

/// Whether a count is refused for asking too many repeated picks.
pub fn too_many_repeats(count: i64) -> bool {
    count < 0 && count.unsigned_abs() > MAX_REPEATED_PICKS
}

/// Positions in `0..len` for `count`: distinct ones (a partial Fisher-Yates shuffle, so
/// `min(count, len)` of them), or `-count` picks with repeats.
pub fn positions(len: usize, count: i64, rng: &mut Rng) -> Vec<usize> {
    if count >= 0 {
        let mut all: Vec<usize> = (0..len).collect();
        let take = usize::try_from(count).unwrap_or(usize::MAX).min(len);
        for i in 0..take {
            let j = i + rng.below(len - i);
            all.swap(i, j);
        }
        all.truncate(take);
        all
    } else if len == 0 {
        Vec::new()
    } else {
        let picks = count.unsigned_abs().min(MAX_REPEATED_PICKS) as usize;
        (0..picks).map(|_| rng.below(len)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_counts_pick_distinct_positions_and_negative_ones_repeat() {
        let mut rng = Rng::seeded();
        let mut distinct = positions(10, 4, &mut rng);
        assert_eq!(distinct.len(), 4);
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 4);
        assert!(distinct.iter().all(|&p| p < 10));
        let mut whole = positions(3, 100, &mut rng);
        whole.sort_unstable();
        assert_eq!(whole, [0, 1, 2]);
        let repeated = positions(2, -50, &mut rng);
        assert_eq!(repeated.len(), 50);
        assert!(repeated.iter().all(|&p| p < 2));
        assert!(positions(0, -5, &mut rng).is_empty());
        assert!(too_many_repeats(-(MAX_REPEATED_PICKS as i64) - 1));
        assert!(!too_many_repeats(i64::MAX));
    }
}
