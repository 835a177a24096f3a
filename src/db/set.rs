//! A set value: its members, and whether Redis 7.0 would hold them as an intset or as a
//! hash table, which OBJECT ENCODING reports. An intset becomes a hash table for good when
//! a member that is not an integer, or one member past `set-max-intset-entries`, is added;
//! removing members never turns it back. Only a set built anew (a *STORE result, what
//! SPOP leaves when it rebuilds the set) or loaded starts again from its contents.
//!
//! Members live in a dense array with a hash index of their positions (as the keyspace's
//! shards keep entries), so a random member is one array access: SPOP and SRANDMEMBER are
//! O(1) per member, as in Redis, and a removal swaps the last member into the gap.

use std::hash::BuildHasher;

use bytes::Bytes;
use hashbrown::{DefaultHashBuilder, HashTable};

use super::expire::Rng;
use super::value::keep;
use crate::num::parse_i64;

/// Redis caps the intset limit at 2^30 members whatever the config says.
const INTSET_CAP: usize = 1 << 30;

#[derive(Clone, Default)]
pub struct Set {
    members: Vec<Bytes>,
    /// Positions in `members`, by the member's hash.
    index: HashTable<usize>,
    hasher: DefaultHashBuilder,
    /// Whether Redis would hold this set as a hash table. None for a loaded set of
    /// integers: Redis chose by its length against the limit in force at load time, which
    /// the loader does not know, so the live limit judges it until a write settles it.
    /// (`Default` gives Some(false): an empty set starts as an intset.)
    table: Encoding,
}

/// Newtype so that `Set::default()` is an intset.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Encoding(Option<bool>);

impl Default for Encoding {
    fn default() -> Encoding {
        Encoding(Some(false))
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(&self.members).finish()
    }
}

impl PartialEq for Set {
    /// Equal contents, whatever order or encoding each has.
    fn eq(&self, other: &Set) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains(m))
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
    /// A set loaded from a dump or a payload, or None when a member repeats. Redis decides
    /// its encoding from the contents as it loads, so a non-integer member makes it a hash
    /// table here; the length is weighed against the live limit until a write.
    pub fn loaded(members: impl IntoIterator<Item = Bytes>) -> Option<Set> {
        let mut set = Set::default();
        for member in members {
            if !set.push_new(member) {
                return None;
            }
        }
        set.table = Encoding(set.iter().any(|m| !is_integer(m)).then_some(true));
        Some(set)
    }

    /// A set built anew from distinct members (a repeat is dropped), encoded from its
    /// contents as if they were added one by one to an empty intset (SINTERSTORE and
    /// friends, SPOP's rebuilt remainder).
    pub fn built(members: impl IntoIterator<Item = Bytes>, max_intset: usize) -> Set {
        let mut set = Set::default();
        for member in members {
            set.push_new(member);
        }
        let table = set.len() > max_intset || set.iter().any(|m| !is_integer(m));
        set.table = Encoding(Some(table));
        set
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members, in no particular order.
    pub fn iter(&self) -> std::slice::Iter<'_, Bytes> {
        self.members.iter()
    }

    /// The members as a slice, for picks by position (SRANDMEMBER).
    pub fn members(&self) -> &[Bytes] {
        &self.members
    }

    fn position(&self, member: &[u8]) -> Option<usize> {
        let hash = self.hasher.hash_one(member);
        let members = &self.members;
        self.index
            .find(hash, |&i| members[i][..] == *member)
            .copied()
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.position(member).is_some()
    }

    /// Appends `member` unless it is there already; returns whether it was new.
    fn push_new(&mut self, member: Bytes) -> bool {
        if self.contains(&member) {
            return false;
        }
        let Set {
            members,
            index,
            hasher,
            ..
        } = self;
        let hash = hasher.hash_one(&member[..]);
        index.insert_unique(hash, members.len(), |&i| hasher.hash_one(&members[i][..]));
        members.push(member);
        true
    }

    /// Adds `member` (copied unless it is big); returns whether it was new. `max_intset`
    /// is the live `set-max-intset-entries` (see [`intset_limit`]).
    pub fn insert(&mut self, member: &Bytes, max_intset: usize) -> bool {
        let mut table = self.settle(max_intset);
        if self.contains(member) {
            return false;
        }
        self.push_new(keep(member));
        table |= self.len() > max_intset || !is_integer(member);
        self.table = Encoding(Some(table));
        true
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &[u8], max_intset: usize) -> bool {
        self.settle(max_intset);
        match self.position(member) {
            Some(pos) => {
                self.remove_at(pos);
                true
            }
            None => false,
        }
    }

    /// Removes the member at `pos`: the last member moves into its place.
    fn remove_at(&mut self, pos: usize) -> Bytes {
        let Set {
            members,
            index,
            hasher,
            ..
        } = self;
        let hash = hasher.hash_one(&members[pos][..]);
        if let Ok(entry) = index.find_entry(hash, |&i| i == pos) {
            entry.remove();
        }
        let removed = members.swap_remove(pos);
        if let Some(moved) = members.get(pos) {
            let last = members.len();
            let hash = hasher.hash_one(&moved[..]);
            if let Some(slot) = index.find_mut(hash, |&i| i == last) {
                *slot = pos;
            }
        }
        removed
    }

    /// Removes and returns a member chosen at random (None when empty).
    pub fn pop_random(&mut self, rng: &mut Rng, max_intset: usize) -> Option<Bytes> {
        self.settle(max_intset);
        if self.is_empty() {
            return None;
        }
        Some(self.remove_at(rng.below(self.len())))
    }

    /// Takes every member out, leaving the set empty.
    pub fn take_members(&mut self) -> Vec<Bytes> {
        self.index.clear();
        std::mem::take(&mut self.members)
    }

    /// Bytes held by the array and the index, members' own bytes aside (MEMORY USAGE).
    pub fn table_bytes(&self) -> usize {
        self.members.capacity() * size_of::<Bytes>()
            + self.index.capacity() * (size_of::<usize>() + 1)
    }

    /// Decides a loaded set's encoding by the live limit before a write changes its
    /// length, and returns whether it is a hash table.
    fn settle(&mut self, max_intset: usize) -> bool {
        let len = self.len();
        *self.table.0.get_or_insert(len > max_intset)
    }

    /// `intset` or `hashtable`, with `max_intset` the live limit.
    pub fn encoding(&self, max_intset: usize) -> &'static str {
        if self.table.0.unwrap_or(self.len() > max_intset) {
            "hashtable"
        } else {
            "intset"
        }
    }
}

impl FromIterator<Bytes> for Set {
    /// Members from a trusted source (tests, conversions), encoded as [`Set::loaded`];
    /// a repeated member is kept once.
    fn from_iter<I: IntoIterator<Item = Bytes>>(members: I) -> Set {
        let mut set = Set::built(members, INTSET_CAP);
        set.table = Encoding(set.iter().any(|m| !is_integer(m)).then_some(true));
        set
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
        let members = |m: &[&str]| m.iter().map(|s| b(s)).collect::<Vec<Bytes>>();
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
        let loaded = |m: &[&str]| Set::loaded(members(m)).unwrap();
        assert_eq!(loaded(&["1", "2"]).encoding(512), "intset");
        assert_eq!(loaded(&["1", "2"]).encoding(1), "hashtable");
        assert_eq!(loaded(&["x"]).encoding(512), "hashtable");
        assert!(Set::loaded(members(&["x", "y", "x"])).is_none());
        // A write settles a loaded set by the limit of the time; later limits do not count.
        let mut set = loaded(&["1", "2", "3"]);
        set.remove(b"3", 2);
        assert_eq!(set.encoding(512), "hashtable");
        let mut set = loaded(&["1", "2"]);
        set.insert(&b("3"), 512);
        assert_eq!(set.encoding(1), "intset");
        assert_eq!(intset_limit(-1), 0);
        assert_eq!(intset_limit(i64::MAX), INTSET_CAP);
    }

    #[test]
    fn removals_keep_the_index_pointing_at_every_member() {
        let mut set: Set = (0..100).map(|i| b(&format!("m{i}"))).collect();
        for i in (0..100).step_by(3) {
            assert!(set.remove(format!("m{i}").as_bytes(), 512));
            assert!(!set.remove(format!("m{i}").as_bytes(), 512));
        }
        assert_eq!(set.len(), 66);
        for i in 0..100 {
            assert_eq!(set.contains(format!("m{i}").as_bytes()), i % 3 != 0, "m{i}");
        }
        let expected: Set = (0..100)
            .filter(|i| i % 3 != 0)
            .map(|i| b(&format!("m{i}")))
            .collect();
        assert_eq!(set, expected);
    }

    #[test]
    fn pop_random_empties_the_set_member_by_member() {
        let mut set: Set = ["a", "b", "c"].iter().map(|s| b(s)).collect();
        let mut rng = Rng::seeded();
        let mut popped: Vec<Bytes> = std::iter::from_fn(|| set.pop_random(&mut rng, 512)).collect();
        popped.sort();
        assert_eq!(popped, [b("a"), b("b"), b("c")]);
        assert!(set.is_empty());
        assert!(!set.contains(b"a"));
    }
}
