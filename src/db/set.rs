//! A set value: its members, and whether Redis 7.0 would hold them as an intset or as a
//! hash table, which OBJECT ENCODING reports. An intset becomes a hash table for good when
//! a member that is not an integer, or one member past `set-max-intset-entries`, is added;
//! removing members never turns it back. Only a set built anew (a *STORE result, what
//! SPOP leaves when it rebuilds the set) or loaded starts again from its contents.

use std::ops::Deref;

use bytes::Bytes;
use hashbrown::HashSet;

use super::expire::Rng;
use super::value::keep;
use crate::num::parse_i64;

/// Redis caps the intset limit at 2^30 members whatever the config says.
const INTSET_CAP: usize = 1 << 30;

#[derive(Clone, Debug)]
pub struct Set {
    members: HashSet<Bytes>,
    /// Whether Redis would hold this set as a hash table. None for a loaded set of
    /// integers: Redis chose by its length against the limit in force at load time, which
    /// the loader does not know, so the live limit judges it until a write settles it.
    table: Option<bool>,
}

impl PartialEq for Set {
    /// Equal contents, whatever encoding each would report.
    fn eq(&self, other: &Set) -> bool {
        self.members == other.members
    }
}

impl Default for Set {
    /// An empty intset.
    fn default() -> Set {
        Set {
            members: HashSet::new(),
            table: Some(false),
        }
    }
}

impl Deref for Set {
    type Target = HashSet<Bytes>;

    fn deref(&self) -> &HashSet<Bytes> {
        &self.members
    }
}

/// `set-max-intset-entries` as Redis applies it: negative as 0, capped at 2^30.
pub fn intset_limit(configured: i64) -> usize {
    usize::try_from(configured).unwrap_or(0).min(INTSET_CAP)
}

/// Whether Redis can store `member` in an intset (its string2ll: canonical decimal i64).
fn is_integer(member: &[u8]) -> bool {
    parse_i64(member).is_some()
}

impl Set {
    /// A set loaded from a dump or a payload: Redis decides its encoding from the contents
    /// as it loads, so a non-integer member makes it a hash table here; the length is
    /// weighed against the live limit when the encoding is asked.
    pub fn loaded(members: HashSet<Bytes>) -> Set {
        let table = (!members.iter().all(|m| is_integer(m))).then_some(true);
        Set { members, table }
    }

    /// A set built anew, encoded from its contents as if its members were added one by
    /// one to an empty intset (SINTERSTORE and friends, SPOP's rebuilt remainder).
    pub fn built(members: HashSet<Bytes>, max_intset: usize) -> Set {
        let table = members.len() > max_intset || !members.iter().all(|m| is_integer(m));
        Set {
            members,
            table: Some(table),
        }
    }

    /// Adds `member` (copied unless it is big); returns whether it was new. `max_intset`
    /// is the live `set-max-intset-entries` (see [`intset_limit`]).
    pub fn insert(&mut self, member: &Bytes, max_intset: usize) -> bool {
        let mut table = self.settle(max_intset);
        if self.members.contains(&member[..]) {
            return false;
        }
        self.members.insert(keep(member));
        table |= self.members.len() > max_intset || !is_integer(member);
        self.table = Some(table);
        true
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &[u8], max_intset: usize) -> bool {
        self.settle(max_intset);
        self.members.remove(member)
    }

    /// Decides a loaded set's encoding by the live limit before a write changes its
    /// length, and returns whether it is a hash table.
    fn settle(&mut self, max_intset: usize) -> bool {
        *self.table.get_or_insert(self.members.len() > max_intset)
    }

    /// Removes and returns a member chosen at random (None when empty). A hash set has no
    /// positions, so this walks to the chosen one: O(n), as SRANDMEMBER's pick is here.
    pub fn pop_random(&mut self, rng: &mut Rng, max_intset: usize) -> Option<Bytes> {
        self.settle(max_intset);
        if self.members.is_empty() {
            return None;
        }
        let chosen = self
            .members
            .iter()
            .nth(rng.below(self.members.len()))?
            .clone();
        self.members.remove(&chosen);
        Some(chosen)
    }

    /// Takes every member out, leaving the set empty.
    pub fn take_members(&mut self) -> HashSet<Bytes> {
        std::mem::take(&mut self.members)
    }

    /// `intset` or `hashtable`, with `max_intset` the live limit.
    pub fn encoding(&self, max_intset: usize) -> &'static str {
        if self.table.unwrap_or(self.members.len() > max_intset) {
            "hashtable"
        } else {
            "intset"
        }
    }
}

impl FromIterator<Bytes> for Set {
    /// Members from a trusted source (tests, conversions), encoded as [`Set::loaded`].
    fn from_iter<I: IntoIterator<Item = Bytes>>(members: I) -> Set {
        Set::loaded(members.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn an_intset_turns_into_a_table_for_good() {
        let mut set = Set::default();
        assert!(set.insert(&b("1"), 2));
        assert!(!set.insert(&b("1"), 2));
        assert!(set.insert(&b("-2"), 2));
        assert_eq!(set.encoding(2), "intset");
        assert!(set.insert(&b("3"), 2));
        assert_eq!(set.encoding(2), "hashtable");
        set.remove(b"3", 2);
        assert_eq!(set.encoding(2), "hashtable");
        let mut words = Set::default();
        words.insert(&b("01"), 512);
        assert_eq!(words.encoding(512), "hashtable");
        words.remove(b"01", 512);
        words.insert(&b("1"), 512);
        assert_eq!(words.encoding(512), "hashtable");
    }

    #[test]
    fn built_and_loaded_sets_follow_their_contents() {
        let members = |m: &[&str]| m.iter().map(|s| b(s)).collect::<HashSet<Bytes>>();
        assert_eq!(
            Set::built(members(&["1", "2"]), 512).encoding(512),
            "intset"
        );
        assert_eq!(
            Set::built(members(&["1", "2"]), 1).encoding(512),
            "hashtable"
        );
        assert_eq!(
            Set::built(members(&["1", "a"]), 512).encoding(512),
            "hashtable"
        );
        assert_eq!(Set::loaded(members(&["1", "2"])).encoding(512), "intset");
        assert_eq!(Set::loaded(members(&["1", "2"])).encoding(1), "hashtable");
        assert_eq!(Set::loaded(members(&["x"])).encoding(512), "hashtable");
        // A write settles a loaded set by the limit of the time; later limits do not count.
        let mut loaded = Set::loaded(members(&["1", "2", "3"]));
        loaded.remove(b"3", 2);
        assert_eq!(loaded.encoding(512), "hashtable");
        let mut loaded = Set::loaded(members(&["1", "2"]));
        loaded.insert(&b("3"), 512);
        assert_eq!(loaded.encoding(1), "intset");
        assert_eq!(intset_limit(-1), 0);
        assert_eq!(intset_limit(i64::MAX), INTSET_CAP);
    }

    #[test]
    fn pop_random_empties_the_set_member_by_member() {
        let mut set: Set = ["a", "b", "c"].iter().map(|s| b(s)).collect();
        let mut rng = Rng::seeded();
        let mut popped: Vec<Bytes> = std::iter::from_fn(|| set.pop_random(&mut rng, 512)).collect();
        popped.sort();
        assert_eq!(popped, [b("a"), b("b"), b("c")]);
        assert!(set.is_empty());
    }
}
