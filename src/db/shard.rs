//! One shard of a database: a dense array of entries plus a SwissTable of indices into it.
//!
//! ```text
//!  index: HashTable<u32>   entries: Vec<Entry>          volatile: Vec<Volatile>
//!  hash(key) -> i  ------> [k0 v0 -] [k1 v1 0] [k2 ..]  [(1, deadline), ...]
//! ```
//! hashbrown has neither random sampling nor a cursor that survives a resize; the dense
//! array gives both. Expiry samples a random slot of `volatile` (only keys with a TTL, as
//! Redis samples its `expires` dict), and SCAN can walk `entries` by position. Deleting
//! is a swap-remove: the last entry moves into the hole, and the two places that point at
//! it by position (its index slot and, if it has a deadline, its `volatile` slot) are
//! patched.
//!
//! Memory is most of the design: an entry is 56 bytes, with a key and a string value of up
//! to 22 bytes each inline (see [`Compact`]). The deadline lives in `volatile`, so only
//! keys with a TTL pay for it; the entry keeps its slot there. No hash is cached: the
//! index rehashes a key (with the shard's copy of the keyspace's hasher) when it grows
//! and when an entry is removed or moved, which costs less than 8 bytes on every key.
//!
//! SCAN relies on this (see [`super::scan`]): an entry changes position only when it is
//! the last one and a delete moves it down into the hole. Any new operation that moves
//! entries must keep that rule, or SCAN may miss keys.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};

use hashbrown::{DefaultHashBuilder, HashTable};

use super::cow::{copy_marked, Mark};
use super::value::{Compact, Value};

/// `volatile_pos` of an entry without a deadline.
const NOT_VOLATILE: u32 = u32::MAX;

#[derive(Debug)]
pub struct Entry {
    pub key: Compact,
    pub value: Value,
    /// Position of this entry's deadline in `Shard::volatile`, or [`NOT_VOLATILE`].
    volatile_pos: u32,
    /// Last access in Unix seconds (Redis' LRU clock has the same one-second resolution),
    /// for OBJECT IDLETIME.
    accessed_s: u32,
}

/// A removed entry: its key, value and deadline.
#[derive(Debug)]
pub struct Removed {
    pub key: Compact,
    pub value: Value,
    expires_at: Option<i64>,
}

impl Removed {
    pub fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }
}

/// A key with a deadline: where its entry is, and the deadline (Unix milliseconds).
/// Packed to 4-byte alignment: 12 bytes instead of 16 for every key with a TTL (fields
/// are only ever copied, never borrowed, as packed fields must be).
#[derive(Debug, Clone, Copy)]
#[repr(C, packed(4))]
struct Volatile {
    pos: u32,
    deadline: i64,
}

impl Entry {
    /// Records an access at `now_ms` (what Redis' lookups do unless LOOKUP_NOTOUCH).
    pub fn touch(&mut self, now_ms: i64) {
        self.accessed_s = lru_seconds(now_ms);
    }

    /// Makes the last access `idle_s` seconds before `now_ms` (RESTORE IDLETIME).
    pub fn set_idle(&mut self, now_ms: i64, idle_s: u64) {
        self.accessed_s = lru_seconds(now_ms).wrapping_sub(idle_s as u32);
    }

    /// Whole seconds since the last access, as OBJECT IDLETIME reports them.
    pub fn idle_seconds(&self, now_ms: i64) -> u64 {
        u64::from(lru_seconds(now_ms).wrapping_sub(self.accessed_s))
    }
}

/// Asks the CPU to bring `item` (both cache lines, if it straddles two) into the cache.
fn prefetch<T>(item: &T) {
    let first = item as *const T as usize;
    prefetch_address(first);
    prefetch_address(first + std::mem::size_of::<T>().saturating_sub(1));
}

/// Asks the CPU to bring the cache line holding `address` into the cache. Any address
/// will do: nothing is read into the program.
fn prefetch_address(address: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults (not even on an unmapped
    // address) and makes no memory visible to the program.
    // Exercised by `tests::prefetch_leaves_the_shard_unchanged`.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(address as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Where a shard's index lies in memory, kept outside the shard's lock so that a command
/// some commands ahead in a pipeline can start loading its key's control bytes and index
/// slots without locking. Only ever used as prefetch addresses: a stale hint (the index
/// grew, the shard was emptied or swapped since) costs a wasted prefetch, never a wrong
/// answer, and [`Shard::prefetch`] refreshes it.
#[derive(Debug, Default)]
pub struct IndexHint {
    /// The address of the index's control bytes (0: none recorded yet).
    ctrl: AtomicUsize,
    /// The number of buckets - 1.
    mask: AtomicUsize,
}

impl IndexHint {
    fn publish(&self, ctrl: usize, mask: usize) {
        // Compared first: an unchanged hint is not written, so workers do not bounce its
        // cache line between them.
        if self.ctrl.load(Ordering::Relaxed) != ctrl || self.mask.load(Ordering::Relaxed) != mask {
            self.ctrl.store(ctrl, Ordering::Relaxed);
            self.mask.store(mask, Ordering::Relaxed);
        }
    }

    /// Starts loading what a probe of the index for `hash` reads first: the group of
    /// control bytes at its bucket and the slots just below them.
    pub fn prefetch(&self, hash: u64) {
        let ctrl = self.ctrl.load(Ordering::Relaxed);
        if ctrl == 0 {
            return;
        }
        let bucket = hash as usize & self.mask.load(Ordering::Relaxed);
        let slot = std::mem::size_of::<u32>();
        prefetch_address(ctrl.wrapping_add(bucket));
        prefetch_address(ctrl.wrapping_sub((bucket + 1).wrapping_mul(slot)));
        prefetch_address(ctrl.wrapping_sub((bucket + 16).wrapping_mul(slot)));
    }
}

/// The access clock: Unix seconds, wrapping in 2106 (differences stay right across it).
fn lru_seconds(now_ms: i64) -> u32 {
    (now_ms / 1000) as u32
}

#[derive(Debug)]
pub struct Shard {
    entries: Vec<Entry>,
    index: HashTable<u32>,
    volatile: Vec<Volatile>,
    /// The keyspace's hasher: every shard hashes keys the same way.
    hasher: DefaultHashBuilder,
    /// Set while a snapshot waits for this shard's copy (see [`super::cow`]).
    mark: Option<Mark>,
}

impl Shard {
    pub fn new(hasher: DefaultHashBuilder) -> Shard {
        Shard {
            entries: Vec::new(),
            index: HashTable::new(),
            volatile: Vec::new(),
            hasher,
            mark: None,
        }
    }

    /// Makes the next [`Shard::settle_mark`] copy this shard for a snapshot.
    pub(crate) fn set_mark(&mut self, mark: Mark) {
        self.mark = Some(mark);
    }

    /// Copies the shard for the snapshot that marked it, if one did: done on every lock
    /// before anything else can read or change the shard. Without a snapshot running
    /// this is one load and compare.
    #[inline]
    pub(crate) fn settle_mark(&mut self) {
        if let Some(mark) = self.mark.take() {
            copy_marked(self, mark);
        }
    }

    /// The hash of `key`, as the index and the keyspace's shard choice use it.
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

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

    /// The deadline of the entry at `pos`, if it has one.
    pub fn expires_at(&self, pos: usize) -> Option<i64> {
        let vpos = self.entries[pos].volatile_pos;
        (vpos != NOT_VOLATILE).then(|| self.volatile[vpos as usize].deadline)
    }

    pub fn is_expired(&self, pos: usize, now_ms: i64) -> bool {
        self.expires_at(pos)
            .is_some_and(|at| super::deadline_passed(at, now_ms))
    }

    /// Position of `key` (hashed to `hash`), expired or not.
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash, |&i| *entries[i as usize].key == *key)
            .map(|&i| i as usize)
    }

    /// Probes the index for `hash` and starts loading the entries a [`Shard::find`] for it
    /// will compare, so that the lookup a little later finds them in the cache; records
    /// where the index lies in `hint`, for [`IndexHint::prefetch`].
    pub fn prefetch(&self, hash: u64, hint: &IndexHint) {
        for bucket in self.index.iter_hash_buckets(hash) {
            if let Some(slot) = self.index.get_bucket(bucket) {
                if let Some(entry) = self.entries.get(*slot as usize) {
                    prefetch(entry);
                }
                // hashbrown keeps the slots below the control bytes, in reverse: slot `b`
                // ends `b` slots below them (checked by a test).
                let slot_end = slot as *const u32 as usize + std::mem::size_of::<u32>();
                hint.publish(
                    slot_end + bucket * std::mem::size_of::<u32>(),
                    self.index.num_buckets() - 1,
                );
            }
        }
    }

    /// Room for `additional` more keys, so a load that knows its size skips the rehashes
    /// of growing key by key.
    pub fn reserve(&mut self, additional: usize) {
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index
            .reserve(additional, |&i| hasher.hash_one(&*entries[i as usize].key));
        self.entries.reserve(additional);
    }

    /// Adds a key that is not present; returns its position.
    pub fn insert_new(&mut self, hash: u64, key: &[u8], value: Value) -> usize {
        let pos = self.entries.len();
        assert!(
            pos < NOT_VOLATILE as usize,
            "a shard holds fewer than 2^32-1 keys"
        );
        self.entries.push(Entry {
            key: Compact::copy(key),
            value,
            volatile_pos: NOT_VOLATILE,
            accessed_s: 0,
        });
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index.insert_unique(hash, pos as u32, |&i| {
            hasher.hash_one(&*entries[i as usize].key)
        });
        pos
    }

    /// Sets or clears (`None`) the deadline of the entry at `pos`.
    pub fn set_expiry(&mut self, pos: usize, expires_at: Option<i64>) {
        let vpos = self.entries[pos].volatile_pos;
        match (vpos != NOT_VOLATILE, expires_at) {
            (true, Some(deadline)) => self.volatile[vpos as usize].deadline = deadline,
            (false, Some(deadline)) => {
                self.entries[pos].volatile_pos = self.volatile.len() as u32;
                self.volatile.push(Volatile {
                    pos: pos as u32,
                    deadline,
                });
            }
            (true, None) => self.forget_volatile(pos),
            (false, None) => {}
        }
    }

    /// Removes the entry at `pos` and returns it.
    pub fn remove_at(&mut self, pos: usize) -> Removed {
        let expires_at = self.expires_at(pos);
        if expires_at.is_some() {
            self.forget_volatile(pos);
        }
        let hash = self.hash(&self.entries[pos].key);
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
            let hash = self.hasher.hash_one(&*moved.key);
            if let Some(slot) = self.index.find_mut(hash, |&i| i as usize == last) {
                *slot = pos as u32;
            }
            if moved.volatile_pos != NOT_VOLATILE {
                self.volatile[moved.volatile_pos as usize].pos = pos as u32;
            }
        }
        Removed {
            key: removed.key,
            value: removed.value,
            expires_at,
        }
    }

    /// Position (in `entries`) and deadline of the `n`th key with a deadline, for sampling.
    pub fn volatile_entry(&self, n: usize) -> (usize, i64) {
        let Volatile { pos, deadline } = self.volatile[n];
        (pos as usize, deadline)
    }

    /// Drops every key, returning the old contents so the caller can free them outside
    /// the shard lock.
    pub fn take_all(&mut self) -> Shard {
        let empty = Shard::new(self.hasher.clone());
        std::mem::replace(self, empty)
    }

    fn forget_volatile(&mut self, pos: usize) {
        let vpos = self.entries[pos].volatile_pos as usize;
        self.volatile.swap_remove(vpos);
        if let Some(moved) = self.volatile.get(vpos) {
            self.entries[moved.pos as usize].volatile_pos = vpos as u32;
        }
        self.entries[pos].volatile_pos = NOT_VOLATILE;
    }

    /// Checks the cross-references between the three structures (tests only).
    #[cfg(test)]
    fn check_invariants(&self) {
        assert_eq!(self.index.len(), self.entries.len());
        for (pos, entry) in self.entries.iter().enumerate() {
            assert_eq!(self.find(self.hash(&entry.key), &entry.key), Some(pos));
            if entry.volatile_pos != NOT_VOLATILE {
                assert_eq!(self.volatile[entry.volatile_pos as usize].pos as usize, pos);
            }
        }
        let with_deadline = self
            .entries
            .iter()
            .filter(|e| e.volatile_pos != NOT_VOLATILE)
            .count();
        assert_eq!(self.volatile.len(), with_deadline);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn value(s: &str) -> Value {
        Value::string(&Bytes::copy_from_slice(s.as_bytes()))
    }

    fn insert(shard: &mut Shard, key: &[u8], v: &str) -> usize {
        shard.insert_new(shard.hash(key), key, value(v))
    }

    fn find(shard: &Shard, key: &[u8]) -> Option<usize> {
        shard.find(shard.hash(key), key)
    }

    #[test]
    fn entries_stay_small() {
        assert_eq!(std::mem::size_of::<Entry>(), 56);
        assert_eq!(std::mem::size_of::<Volatile>(), 12);
    }

    #[test]
    fn insert_find_remove_keep_positions_consistent() {
        let mut shard = Shard::new(DefaultHashBuilder::default());
        for i in 0..200 {
            // Short (inline) and long (boxed) keys.
            let key = format!(
                "key:{i}{}",
                if i % 2 == 0 { "" } else { ":a-longer-key-name" }
            );
            let pos = insert(&mut shard, key.as_bytes(), "v");
            if i % 3 == 0 {
                shard.set_expiry(pos, Some(1000 + i));
            }
        }
        shard.check_invariants();
        // Remove from the front, middle and end, with and without deadlines.
        for i in (0..200).step_by(7) {
            let key = format!(
                "key:{i}{}",
                if i % 2 == 0 { "" } else { ":a-longer-key-name" }
            );
            let pos = find(&shard, key.as_bytes()).unwrap();
            let removed = shard.remove_at(pos);
            assert_eq!(&*removed.key, key.as_bytes());
            assert_eq!(removed.expires_at(), (i % 3 == 0).then_some(1000 + i));
            shard.check_invariants();
        }
        assert_eq!(shard.len(), 200 - 29);
        assert!(find(&shard, b"key:14").is_none());
        assert!(find(&shard, b"key:8").is_some());
    }

    #[test]
    fn prefetch_leaves_the_shard_unchanged() {
        let mut shard = Shard::new(DefaultHashBuilder::default());
        let hint = IndexHint::default();
        hint.prefetch(0);
        Shard::new(DefaultHashBuilder::default()).prefetch(0, &hint);
        for i in 0..100 {
            insert(&mut shard, format!("k{i}").as_bytes(), "v");
        }
        for key in [&b"k7"[..], b"absent", b""] {
            shard.prefetch(shard.hash(key), &hint);
            hint.prefetch(shard.hash(key));
        }
        // A stale hint, pointing at freed memory, is harmless.
        let mut grown = Shard::new(DefaultHashBuilder::default());
        insert(&mut grown, b"a", "v");
        grown.prefetch(grown.hash(b"a"), &hint);
        for i in 0..1000 {
            insert(&mut grown, format!("k{i}").as_bytes(), "v");
        }
        hint.prefetch(grown.hash(b"a"));
        assert_eq!(find(&shard, b"k7"), Some(7));
        assert_eq!(find(&shard, b"absent"), None);
        shard.check_invariants();
    }

    #[test]
    fn the_index_hint_points_where_hashbrown_keeps_the_slots() {
        let mut shard = Shard::new(DefaultHashBuilder::default());
        for i in 0..500 {
            insert(&mut shard, format!("k{i}").as_bytes(), "v");
        }
        let hint = IndexHint::default();
        shard.prefetch(shard.hash(b"k1"), &hint);
        let ctrl = hint.ctrl.load(Ordering::Relaxed);
        assert_eq!(
            hint.mask.load(Ordering::Relaxed),
            shard.index.num_buckets() - 1
        );
        let mut full = 0;
        for bucket in 0..shard.index.num_buckets() {
            if let Some(slot) = shard.index.get_bucket(bucket) {
                assert_eq!(slot as *const u32 as usize, ctrl - (bucket + 1) * 4);
                full += 1;
            }
        }
        assert_eq!(full, 500);
    }

    #[test]
    fn deadlines_can_be_set_changed_and_cleared() {
        let mut shard = Shard::new(DefaultHashBuilder::default());
        let a = insert(&mut shard, b"a", "1");
        let b = insert(&mut shard, b"b", "2");
        shard.set_expiry(a, Some(10));
        shard.set_expiry(b, Some(20));
        shard.set_expiry(a, Some(30));
        assert_eq!(shard.volatile_len(), 2);
        assert_eq!(shard.expires_at(a), Some(30));
        shard.set_expiry(a, None);
        assert_eq!(shard.volatile_len(), 1);
        assert_eq!(shard.volatile_entry(0), (b, 20));
        assert_eq!(shard.expires_at(a), None);
        assert!(shard.is_expired(b, 21));
        assert!(
            !shard.is_expired(b, 20),
            "a key lives through its deadline's millisecond"
        );
        shard.check_invariants();
    }

    #[test]
    fn take_all_empties_the_shard() {
        let mut shard = Shard::new(DefaultHashBuilder::default());
        let pos = insert(&mut shard, b"a", "1");
        shard.set_expiry(pos, Some(5));
        let old = shard.take_all();
        assert_eq!(old.len(), 1);
        assert!(shard.is_empty());
        assert_eq!(shard.volatile_len(), 0);
        // The emptied shard hashes as before.
        let pos = insert(&mut shard, b"a", "1");
        assert_eq!(old.hash(b"a"), shard.hash(b"a"));
        assert_eq!(find(&shard, b"a"), Some(pos));
    }
}
