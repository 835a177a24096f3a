//! Sorted set values: packed (member, score) pairs kept in order while small (Redis'
//! listpack encoding), a member -> score map plus an ordered index past
//! `zset-max-listpack-entries` / `-value` (Redis' skiplist encoding). Order is Redis':
//! by score, then by member bytes. Like Redis, a sorted set never converts back.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use hashbrown::HashMap;

use super::hash::Limits;
use super::packed::{all_distinct, Packed};
use super::value::Compact;

#[derive(Clone, Debug, PartialEq)]
pub enum ZSet {
    /// Member, score (8 bytes, little-endian f64), member, score, ... in Redis' order.
    Packed(Packed),
    Table(Box<Table>),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    scores: HashMap<Compact, f64>,
    order: BTreeSet<(Score, Compact)>,
}

/// A score ordered as Redis compares them (`<` on doubles; NaN is never stored).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Score(f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Score) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Score) -> Ordering {
        self.0.partial_cmp(&other.0).unwrap_or(Ordering::Equal)
    }
}

impl Default for ZSet {
    fn default() -> ZSet {
        ZSet::Packed(Packed::default())
    }
}

impl ZSet {
    /// A sorted set holding `pairs`, encoded as Redis would encode the same contents;
    /// None if a member repeats. O(n log n) whatever the limits.
    pub fn from_pairs<'a>(
        pairs: impl ExactSizeIterator<Item = (&'a [u8], f64)> + Clone,
        limits: Limits,
    ) -> Option<ZSet> {
        if pairs.len() > limits.entries || !pairs.clone().all(|(m, _)| m.len() <= limits.value) {
            let mut table = Table::default();
            for (member, score) in pairs {
                let member = Compact::copy(member);
                if table.scores.insert(member.clone(), score).is_some() {
                    return None;
                }
                table.order.insert((Score(score), member));
            }
            return Some(ZSet::Table(Box::new(table)));
        }
        if !all_distinct(pairs.clone().map(|(member, _)| member)) {
            return None;
        }
        let mut sorted: Vec<_> = pairs.collect();
        sorted.sort_unstable_by(|a, b| cmp(a.1, a.0, b.1, b.0));
        // As in insert: a listpack writes -0 as 0.
        let scores: Vec<[u8; 8]> = sorted
            .iter()
            .map(|&(_, s)| if s == 0.0 { 0.0f64 } else { s }.to_le_bytes())
            .collect();
        let items = sorted
            .iter()
            .zip(&scores)
            .flat_map(|((member, _), score)| [*member, &score[..]]);
        Some(ZSet::Packed(Packed::from_items(items)))
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Packed(packed) => packed.count() / 2,
            ZSet::Table(table) => table.scores.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Packed(_) => "listpack",
            ZSet::Table(_) => "skiplist",
        }
    }

    /// (member, score) pairs in Redis' order, borrowed.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + Clone {
        let (packed, table) = match self {
            ZSet::Packed(packed) => (Some(packed_pairs(packed)), None),
            ZSet::Table(table) => (None, Some(table.order.iter().map(|(s, m)| (&**m, s.0)))),
        };
        packed
            .into_iter()
            .flatten()
            .map(|(m, s, _)| (m, s))
            .chain(table.into_iter().flatten())
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Packed(packed) => packed_pairs(packed)
                .find(|(m, _, _)| *m == member)
                .map(|(_, s, _)| s),
            ZSet::Table(table) => table.scores.get(member).copied(),
        }
    }

    /// Sets `member`'s score; returns whether the member is new. Converts to a table when
    /// the set outgrows `limits`.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) -> bool {
        if let ZSet::Packed(packed) = self {
            // Redis' listpack keeps scores as d2string text, which writes -0 as 0.
            let score = if score == 0.0 { 0.0 } else { score };
            let existing = packed_pairs(packed).find(|(m, _, _)| *m == member);
            let too_many = existing.is_none() && packed.count() / 2 + 1 > limits.entries;
            if member.len() <= limits.value && !too_many {
                let is_new = existing.is_none();
                if let Some((_, _, range)) = existing {
                    packed.remove(range, 2);
                }
                let at = packed_pairs(packed)
                    .find(|&(m, s, _)| cmp(s, m, score, member) == Ordering::Greater)
                    .map_or(packed.bytes(), |(_, _, range)| range.start);
                packed.insert_at(at, &[member, &score.to_le_bytes()]);
                return is_new;
            }
            self.convert();
        }
        let ZSet::Table(table) = self else {
            unreachable!("converted above")
        };
        let member = Compact::copy(member);
        let old = table.scores.insert(member.clone(), score);
        if let Some(old) = old {
            table.order.remove(&(Score(old), member.clone()));
        }
        table.order.insert((Score(score), member));
        old.is_none()
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSet::Packed(packed) => {
                let found = packed_pairs(packed).find(|(m, _, _)| *m == member);
                let Some((_, _, range)) = found else {
                    return false;
                };
                packed.remove(range, 2);
                true
            }
            ZSet::Table(table) => {
                let Some(score) = table.scores.remove(member) else {
                    return false;
                };
                table.order.remove(&(Score(score), Compact::copy(member)));
                true
            }
        }
    }

    /// `member`'s 0-based position in Redis' order, and its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        let score = self.score(member)?;
        let rank = match self {
            ZSet::Packed(_) => self.iter().position(|(m, _)| m == member)?,
            ZSet::Table(table) => table
                .order
                .range(..(Score(score), Compact::copy(member)))
                .count(),
        };
        Some((rank, score))
    }

    fn convert(&mut self) {
        if let ZSet::Packed(packed) = self {
            let mut table = Table::default();
            for (member, score, _) in packed_pairs(packed) {
                table.scores.insert(Compact::copy(member), score);
                table.order.insert((Score(score), Compact::copy(member)));
            }
            *self = ZSet::Table(Box::new(table));
        }
    }
}

/// Redis' order: score first, then member bytes.
pub fn cmp(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    Score(a_score)
        .cmp(&Score(b_score))
        .then_with(|| a_member.cmp(b_member))
}

/// A packed set's (member, score, byte range of the pair).
fn packed_pairs(
    packed: &Packed,
) -> impl Iterator<Item = (&[u8], f64, std::ops::Range<usize>)> + Clone {
    let mut items = packed.iter();
    std::iter::from_fn(move || {
        let (member, range) = items.next()?;
        let (score, score_range) = items.next()?;
        let score = f64::from_le_bytes(score.try_into().ok()?);
        Some((member, score, range.start..score_range.end))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        entries: 4,
        value: 8,
    };

    fn members(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
        z.iter().map(|(m, s)| (m.to_vec(), s)).collect()
    }

    #[test]
    fn both_encodings_keep_score_then_member_order() {
        let mut packed = ZSet::default();
        let mut table = ZSet::Table(Box::default());
        for z in [&mut packed, &mut table] {
            assert!(z.insert(b"b", 2.0, LIMITS));
            assert!(z.insert(b"a", 2.0, LIMITS));
            assert!(z.insert(b"c", -1.5, LIMITS));
            assert!(!z.insert(b"c", 3.0, LIMITS));
            assert_eq!(z.len(), 3);
            assert_eq!(z.score(b"c"), Some(3.0));
            assert_eq!(z.score(b"x"), None);
        }
        assert_eq!(packed.encoding(), "listpack");
        assert_eq!(table.encoding(), "skiplist");
        let want = vec![
            (b"a".to_vec(), 2.0),
            (b"b".to_vec(), 2.0),
            (b"c".to_vec(), 3.0),
        ];
        assert_eq!(members(&packed), want);
        assert_eq!(members(&table), want);
    }

    #[test]
    fn built_sets_are_ordered_and_refuse_repeated_members() {
        let pairs = [(&b"b"[..], 1.0), (b"a", 1.0), (b"c", -1.0)];
        for limits in [LIMITS, Limits::new(2, 8)] {
            let zset = ZSet::from_pairs(pairs.into_iter(), limits).unwrap();
            let want = vec![
                (b"c".to_vec(), -1.0),
                (b"a".to_vec(), 1.0),
                (b"b".to_vec(), 1.0),
            ];
            assert_eq!(members(&zset), want);
        }
        let zero = ZSet::from_pairs([(&b"z"[..], -0.0)].into_iter(), LIMITS).unwrap();
        assert!(zero.score(b"z").unwrap().is_sign_positive());
        let twice = [(&b"m"[..], 1.0), (b"m", 2.0)];
        assert!(ZSet::from_pairs(twice.into_iter(), LIMITS).is_none());
        assert!(ZSet::from_pairs(twice.into_iter(), Limits::new(0, 0)).is_none());
    }

    #[test]
    fn sets_convert_past_either_limit_and_keep_their_contents() {
        let mut many = ZSet::default();
        for i in 0..5 {
            many.insert(format!("m{i}").as_bytes(), f64::from(5 - i), LIMITS);
        }
        assert_eq!(many.encoding(), "skiplist");
        assert_eq!(members(&many)[0], (b"m4".to_vec(), 1.0));
        let mut long = ZSet::default();
        long.insert(b"short", 1.0, LIMITS);
        long.insert(b"123456789", 0.0, LIMITS);
        assert_eq!(long.encoding(), "skiplist");
        assert_eq!(long.len(), 2);
        assert_eq!(long.score(b"short"), Some(1.0));
    }

    #[test]
    fn members_are_removed_and_ranked_in_both_encodings() {
        let mut packed = ZSet::default();
        let mut table = ZSet::Table(Box::default());
        for z in [&mut packed, &mut table] {
            z.insert(b"a", 3.0, LIMITS);
            z.insert(b"b", 1.0, LIMITS);
            z.insert(b"c", 2.0, LIMITS);
            assert_eq!(z.rank(b"a"), Some((2, 3.0)));
            assert_eq!(z.rank(b"b"), Some((0, 1.0)));
            assert_eq!(z.rank(b"x"), None);
            assert!(z.remove(b"c"));
            assert!(!z.remove(b"c"));
            assert_eq!(z.rank(b"a"), Some((1, 3.0)));
            assert_eq!(z.len(), 2);
        }
    }

    #[test]
    fn packed_sets_store_negative_zero_as_zero_like_listpacks() {
        let mut packed = ZSet::default();
        packed.insert(b"z", -0.0, LIMITS);
        assert!(packed.score(b"z").unwrap().is_sign_positive());
        let mut table = ZSet::Table(Box::default());
        table.insert(b"z", -0.0, LIMITS);
        assert!(table.score(b"z").unwrap().is_sign_negative());
    }
}
