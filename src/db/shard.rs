//! One shard of a database: a dense array of entries plus a SwissTable of indices into it.
//!
//! ```text
//!  index: HashTable<u32>   entries: Vec<Entry>            volatile: Vec<u32>
//!  hash(key) -> i  ------> [k0 v0 -] [k1 v1 t1] [k2 ..]    [1, ...] entries with a deadline
//! ```
//! hashbrown has neither random sampling nor a cursor that survives a resize; the dense
//! array gives both. Expiry samples a random slot of `volatile` (only keys with a TTL, as
//! Redis samples its `expires` dict), and SCAN can walk `entries` by position. Deleting
//! is a swap-remove: the last entry moves into the hole, and the two places that point at
//! it by position (its index slot and, if it has a deadline, its `volatile` slot) are
//! patched. Every entry caches its hash, so neither moving nor growing the table rehashes
//! a key.
//!
//! SCAN relies on this (see [`super::scan`]): an entry changes position only when it is
//! the last one and a delete moves it down into the hole. Any new operation that moves
//! entries must keep that rule, or SCAN may miss keys.

use hashbrown::HashTable;

use super::value::Value;

/// No deadline: `expires_at` of a key without a TTL.
pub const NO_EXPIRY: i64 = 0;
/// `volatile_pos` of an entry without a deadline.
const NOT_VOLATILE: u32 = u32::MAX;

#[derive(Debug)]
pub struct Entry {
    pub key: Box<[u8]>,
    pub value: Value,
    /// Absolute deadline in Unix milliseconds, or [`NO_EXPIRY`].
    expires_at: i64,
    hash: u64,
    /// Position of this entry's index in `Shard::volatile`, or [`NOT_VOLATILE`].
    volatile_pos: u32,
    /// Last access in Unix seconds (Redis' LRU clock has the same one-second resolution),
    /// for OBJECT IDLETIME. It fills the padding after `volatile_pos`: tracking costs
    /// no memory, and one store on an entry whose key was just compared.
    accessed_s: u32,
}

impl Entry {
    pub fn expires_at(&self) -> Option<i64> {
        (self.expires_at != NO_EXPIRY).then_some(self.expires_at)
    }

    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expires_at != NO_EXPIRY && self.expires_at <= now_ms
    }

    /// Records an access at `now_ms` (what Redis' lookups do unless LOOKUP_NOTOUCH).
    pub fn touch(&mut self, now_ms: i64) {
        self.accessed_s = lru_seconds(now_ms);
    }

    /// Whole seconds since the last access, as OBJECT IDLETIME reports them.
    pub fn idle_seconds(&self, now_ms: i64) -> u64 {
        u64::from(lru_seconds(now_ms).wrapping_sub(self.accessed_s))
    }
}

/// The access clock: Unix seconds, wrapping in 2106 (differences stay right across it).
fn lru_seconds(now_ms: i64) -> u32 {
    (now_ms / 1000) as u32
}

#[derive(Debug, Default)]
pub struct Shard {
    entries: Vec<Entry>,
    index: HashTable<u32>,
    volatile: Vec<u32>,
}

impl Shard {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many keys have a deadline.
    pub fn volatile_len(&self) -> usize {
        self.volatile.len()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn entry(&self, pos: usize) -> &Entry {
        &self.entries[pos]
    }

    pub fn entry_mut(&mut self, pos: usize) -> &mut Entry {
        &mut self.entries[pos]
    }

    /// Position of `key` (hashed to `hash`), expired or not.
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash, |&i| *entries[i as usize].key == *key)
            .map(|&i| i as usize)
    }

    /// Adds a key that is not present; returns its position.
    pub fn insert_new(&mut self, hash: u64, key: &[u8], value: Value) -> usize {
        let pos = self.entries.len();
        assert!(
            pos < NOT_VOLATILE as usize,
            "a shard holds fewer than 2^32-1 keys"
        );
        self.entries.push(Entry {
            key: key.into(),
            value,
            expires_at: NO_EXPIRY,
            hash,
            volatile_pos: NOT_VOLATILE,
            accessed_s: 0,
        });
        let entries = &self.entries;
        self.index
            .insert_unique(hash, pos as u32, |&i| entries[i as usize].hash);
        pos
    }

    /// Sets or clears (`NO_EXPIRY`) the deadline of the entry at `pos`.
    pub fn set_expiry(&mut self, pos: usize, expires_at: i64) {
        let had = self.entries[pos].expires_at != NO_EXPIRY;
        let has = expires_at != NO_EXPIRY;
        if has && !had {
            self.entries[pos].volatile_pos = self.volatile.len() as u32;
            self.volatile.push(pos as u32);
        } else if had && !has {
            self.forget_volatile(pos);
        }
        self.entries[pos].expires_at = expires_at;
    }

    /// Removes the entry at `pos` and returns it.
    pub fn remove_at(&mut self, pos: usize) -> Entry {
        if self.entries[pos].expires_at != NO_EXPIRY {
            self.forget_volatile(pos);
        }
        let hash = self.entries[pos].hash;
        match self.index.find_entry(hash, |&i| i as usize == pos) {
            Ok(slot) => {
                slot.remove();
            }
            Err(_) => unreachable!("every entry has an index slot"),
        }
        let last = self.entries.len() - 1;
        let removed = self.entries.swap_remove(pos);
        if pos != last {
            // The former last entry now lives at `pos`: repoint its index and volatile slots.
            let moved = &self.entries[pos];
            if let Some(slot) = self.index.find_mut(moved.hash, |&i| i as usize == last) {
                *slot = pos as u32;
            }
            if moved.volatile_pos != NOT_VOLATILE {
                self.volatile[moved.volatile_pos as usize] = pos as u32;
            }
        }
        removed
    }

    /// Position (in `entries`) of the `n`th key with a deadline, for sampling.
    pub fn volatile_entry(&self, n: usize) -> usize {
        self.volatile[n] as usize
    }

    /// Drops every key, returning the old contents so the caller can free them outside
    /// the shard lock.
    pub fn take_all(&mut self) -> Shard {
        std::mem::take(self)
    }

    fn forget_volatile(&mut self, pos: usize) {
        let vpos = self.entries[pos].volatile_pos as usize;
        self.volatile.swap_remove(vpos);
        if let Some(&moved) = self.volatile.get(vpos) {
            self.entries[moved as usize].volatile_pos = vpos as u32;
        }
        self.entries[pos].volatile_pos = NOT_VOLATILE;
    }

    /// Checks the cross-references between the three structures (tests only).
    #[cfg(test)]
    fn check_invariants(&self) {
        assert_eq!(self.index.len(), self.entries.len());
        for (pos, entry) in self.entries.iter().enumerate() {
            assert_eq!(self.find(entry.hash, &entry.key), Some(pos));
            if entry.expires_at != NO_EXPIRY {
                assert_eq!(self.volatile[entry.volatile_pos as usize] as usize, pos);
            } else {
                assert_eq!(entry.volatile_pos, NOT_VOLATILE);
            }
        }
        let with_deadline = self
            .entries
            .iter()
            .filter(|e| e.expires_at != NO_EXPIRY)
            .count();
        assert_eq!(self.volatile.len(), with_deadline);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn hash_of(key: &[u8]) -> u64 {
        // A deliberately weak hash, so that collisions are exercised too.
        key.iter()
            .fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(b as u64))
            % 7
    }

    fn value(s: &str) -> Value {
        Value::Str(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn insert_find_remove_keep_positions_consistent() {
        let mut shard = Shard::default();
        for i in 0..200 {
            let key = format!("key:{i}");
            let pos = shard.insert_new(hash_of(key.as_bytes()), key.as_bytes(), value("v"));
            if i % 3 == 0 {
                shard.set_expiry(pos, 1000 + i);
            }
        }
        shard.check_invariants();
        // Remove from the front, middle and end, with and without deadlines.
        for i in (0..200).step_by(7) {
            let key = format!("key:{i}");
            let pos = shard.find(hash_of(key.as_bytes()), key.as_bytes()).unwrap();
            let removed = shard.remove_at(pos);
            assert_eq!(&*removed.key, key.as_bytes());
            shard.check_invariants();
        }
        assert_eq!(shard.len(), 200 - 29);
        assert!(shard.find(hash_of(b"key:7"), b"key:7").is_none());
        assert!(shard.find(hash_of(b"key:8"), b"key:8").is_some());
    }

    #[test]
    fn deadlines_can_be_set_changed_and_cleared() {
        let mut shard = Shard::default();
        let a = shard.insert_new(1, b"a", value("1"));
        let b = shard.insert_new(2, b"b", value("2"));
        shard.set_expiry(a, 10);
        shard.set_expiry(b, 20);
        shard.set_expiry(a, 30);
        assert_eq!(shard.volatile_len(), 2);
        shard.set_expiry(a, NO_EXPIRY);
        assert_eq!(shard.volatile_len(), 1);
        assert_eq!(shard.volatile_entry(0), b);
        assert_eq!(shard.entry(a).expires_at(), None);
        assert!(shard.entry(b).is_expired(20));
        assert!(!shard.entry(b).is_expired(19));
        shard.check_invariants();
    }

    #[test]
    fn take_all_empties_the_shard() {
        let mut shard = Shard::default();
        let pos = shard.insert_new(1, b"a", value("1"));
        shard.set_expiry(pos, 5);
        let old = shard.take_all();
        assert_eq!(old.len(), 1);
        assert!(shard.is_empty());
        assert_eq!(shard.volatile_len(), 0);
    }
}
