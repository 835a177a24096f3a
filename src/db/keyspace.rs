//! Databases (SELECT 0..15), each split into shards behind their own lock.
//!
//! A command locks the one shard its key hashes to, does its work and lets go: a std
//! `Mutex`, not an async one, because no lock is ever held across an `.await` and the
//! critical sections are a few hundred nanoseconds. Reads check the deadline first and
//! delete an expired key on the spot (lazy expiry); [`super::expire`] reaps the rest.

use std::cell::Cell;
use std::hash::BuildHasher;
use std::ops::DerefMut;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use bytes::Bytes;
use hashbrown::DefaultHashBuilder;

use super::expire::Rng;
use super::glob::glob_match;
use super::shard::{Entry, IndexHint, Removed, Shard};
use super::value::Value;
use super::watch::After;

/// Shards per database: enough that worker threads rarely meet on one lock.
const SHARDS_PER_DB: usize = 64;
/// hashbrown reads a hash's low bits (bucket) and top 7 bits (tag); the shard is chosen
/// from bits in between so that all three stay independent.
const SHARD_SHIFT: u32 = 40;

#[derive(Debug)]
pub struct Keyspace {
    dbs: Box<[Db]>,
    hasher: DefaultHashBuilder,
    /// Keys deleted because their deadline passed, lazily or by the active cycle.
    pub expired_keys: AtomicU64,
    /// Set on a read-only replica: expired keys are hidden from clients but never
    /// deleted here (the master's DEL removes them), and the master's stream still sees
    /// them, as Redis 7.0's expireIfNeeded does when `masterhost` is set.
    pub hide_expired: AtomicBool,
    /// Told of each of those deletions (replication propagates them as DEL).
    expiry_listener: OnceLock<Arc<dyn ExpiryListener>>,
    /// Keys clients WATCH: changes and expirations mark their transactions.
    pub watches: super::watch::Watches,
}

thread_local! {
    /// True on the thread that applies a master's stream: it sees expired keys as live.
    static APPLYING_MASTER_STREAM: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as the one applying its master's stream (the replica link).
pub fn applying_master_stream(on: bool) {
    APPLYING_MASTER_STREAM.with(|flag| flag.set(on));
}

/// Hears about every key the keyspace deletes on its own because its deadline passed
/// (on access or by the active cycle), while the key's shard is still locked, so that
/// the deletion takes its place among the writes to that key.
pub trait ExpiryListener: Send + Sync + std::fmt::Debug {
    fn expired(&self, db: usize, key: &[u8]);
}

#[derive(Debug)]
pub struct Db {
    shards: Box<[Mutex<Shard>]>,
    /// Where each shard's index lies, for prefetching without its lock.
    hints: Box<[IndexHint]>,
    /// Running estimate of the remaining TTL of volatile keys, for INFO keyspace.
    pub avg_ttl_ms: AtomicI64,
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        let hasher = DefaultHashBuilder::default();
        Keyspace {
            dbs: (0..databases).map(|_| Db::new(&hasher)).collect(),
            hasher,
            expired_keys: AtomicU64::new(0),
            hide_expired: AtomicBool::new(false),
            expiry_listener: OnceLock::new(),
            watches: Default::default(),
        }
    }

    /// Sets the one listener for expired-key deletions (later calls are ignored).
    pub fn set_expiry_listener(&self, listener: Arc<dyn ExpiryListener>) {
        let _ = self.expiry_listener.set(listener);
    }

    /// An expired key was just deleted from `db` (its shard still locked): tells the
    /// listener. Counting is the caller's ([`Keyspace::count_expired`]).
    pub(crate) fn deleted_expired(&self, db: usize, key: &[u8]) {
        // An expiration is a change to a watcher (EXEC fails), as in Redis.
        self.watches.expired(db, key);
        if let Some(listener) = self.expiry_listener.get() {
            listener.expired(db, key);
        }
    }

    /// An empty keyspace that hashes keys as this one does, so its shards can replace
    /// this one's ([`Keyspace::replace_all`]): a replica loads its snapshot there.
    pub fn empty_like(&self) -> Keyspace {
        Keyspace {
            dbs: (0..self.dbs.len()).map(|_| Db::new(&self.hasher)).collect(),
            hasher: self.hasher.clone(),
            expired_keys: AtomicU64::new(0),
            hide_expired: AtomicBool::new(false),
            expiry_listener: OnceLock::new(),
            watches: Default::default(),
        }
    }

    /// Puts every database of `staging` (made by [`Keyspace::empty_like`]) in place of this
    /// one's at once: every shard is locked first, in the global order, so no command sees
    /// a mix. Returns the old shards, for the caller to free where it likes.
    pub fn replace_all(&self, staging: Keyspace) -> Vec<Shard> {
        let mut live: Vec<MutexGuard<'_, Shard>> = self
            .dbs
            .iter()
            .flat_map(|db| db.shards.iter().map(lock))
            .collect();
        let fresh = staging
            .dbs
            .into_vec()
            .into_iter()
            .flat_map(|db| db.shards.into_vec())
            .map(|shard| shard.into_inner().unwrap_or_else(|e| e.into_inner()));
        let old = live
            .iter_mut()
            .zip(fresh)
            .map(|(slot, shard)| std::mem::replace(&mut **slot, shard))
            .collect();
        for db in self.dbs.iter() {
            db.avg_ttl_ms.store(0, Ordering::Relaxed);
        }
        old
    }

    /// Whether an expired key met now is hidden and kept rather than deleted: on a
    /// read-only replica, except on the thread applying the master's stream.
    fn keeps_expired(&self) -> bool {
        self.hide_expired.load(Ordering::Relaxed)
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    pub fn db(&self, index: usize) -> &Db {
        &self.dbs[index]
    }

    pub fn dbs(&self) -> &[Db] {
        &self.dbs
    }

    /// Locks the shard that holds `key` in database `db`.
    pub fn lock<'a>(&'a self, db: usize, key: &'a [u8]) -> KeyGuard<'a> {
        let hash = self.hasher.hash_one(key);
        let shard = lock(&self.dbs[db].shards[shard_index(hash)]);
        KeyGuard {
            shard,
            hash,
            key,
            db,
            keyspace: self,
        }
    }

    /// Starts loading the entries of `keys` in database `db` into the cache: the keys of
    /// the next commands of a pipelined batch, so that their cache misses are paid in
    /// parallel before the commands run, instead of one after another while they run.
    ///
    /// Two stages, staggered by [`PREFETCH_STAGGER`] keys: a key's index slots are
    /// requested (without locking, see [`IndexHint`]), and once they have had time to
    /// arrive, the entry they point to (see [`Shard::prefetch`], skipped when another
    /// thread holds the shard: it is only a hint). At most [`PREFETCH_BATCH`] keys.
    pub fn prefetch_batch(&self, db: usize, keys: &[&[u8]]) {
        let Some(db) = self.dbs.get(db) else {
            return;
        };
        let keys = &keys[..keys.len().min(PREFETCH_BATCH)];
        let mut hashes = [0u64; PREFETCH_BATCH];
        for i in 0..keys.len() + PREFETCH_STAGGER {
            if let Some(key) = keys.get(i) {
                let hash = self.hasher.hash_one(key);
                hashes[i] = hash;
                db.hints[shard_index(hash)].prefetch(hash);
            }
            let Some(earlier) = i.checked_sub(PREFETCH_STAGGER).filter(|&e| e < keys.len()) else {
                continue;
            };
            let hash = hashes[earlier];
            let index = shard_index(hash);
            if let Ok(shard) = db.shards[index].try_lock() {
                shard.prefetch(hash, &db.hints[index]);
            }
        }
    }

    /// Locks the shards of several `(db, key)` pairs at once, for commands that must see
    /// or change them together (RENAME, COPY, MOVE, MSETNX). Shards are locked in one
    /// global order (database, then shard), so two such commands never deadlock, and a
    /// shard shared by several keys is locked once.
    pub fn lock_keys<'a>(&'a self, keys: &[(usize, &'a [u8])]) -> KeysGuard<'a> {
        let located: Vec<((usize, usize), u64, &'a [u8])> = keys
            .iter()
            .map(|&(db, key)| {
                let hash = self.hasher.hash_one(key);
                ((db, shard_index(hash)), hash, key)
            })
            .collect();
        let mut order: Vec<(usize, usize)> = located.iter().map(|(at, _, _)| *at).collect();
        order.sort_unstable();
        order.dedup();
        let shards = order
            .iter()
            .map(|&(db, shard)| lock(&self.dbs[db].shards[shard]))
            .collect();
        let keys = located
            .into_iter()
            .map(|(at, hash, key)| (order.binary_search(&at).unwrap_or(0), at.0, hash, key))
            .collect();
        KeysGuard {
            shards,
            keys,
            keyspace: self,
        }
    }

    /// Exchanges the contents of databases `a` and `b` (SWAPDB) atomically: every shard
    /// of both is locked first, in the global order [`Keyspace::lock_keys`] uses (lower
    /// database first, shards in index order), so no command ever sees half a swap and
    /// no lock_keys caller can deadlock with it. Both databases hash keys to shards the
    /// same way, so swapping shard `i` with shard `i` swaps the databases.
    pub fn swap_dbs(&self, a: usize, b: usize, while_locked: impl FnOnce()) {
        if a == b {
            return while_locked();
        }
        let (low, high) = (&self.dbs[a.min(b)], &self.dbs[a.max(b)]);
        let mut lows: Vec<MutexGuard<'_, Shard>> = low.shards.iter().map(lock).collect();
        let mut highs: Vec<MutexGuard<'_, Shard>> = high.shards.iter().map(lock).collect();
        for (x, y) in lows.iter_mut().zip(highs.iter_mut()) {
            std::mem::swap(&mut **x, &mut **y);
        }
        let ttl = low.avg_ttl_ms.load(Ordering::Relaxed);
        low.avg_ttl_ms.store(
            high.avg_ttl_ms.swap(ttl, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        // A watched key of either database changed if it was there before or is there
        // (live) now; each database's old contents are now in the other's shards.
        let now = super::now_ms();
        let (low_db, high_db) = (a.min(b), a.max(b));
        let (lows, highs) = (&lows, &highs);
        for (db, new, old) in [(low_db, lows, highs), (high_db, highs, lows)] {
            self.watches.touch_db(db, |key| {
                let before = self.holds(|i| &old[i], key, None) != After::Gone;
                (before, self.holds(|i| &new[i], key, Some(now)))
            });
        }
        while_locked();
    }

    /// FLUSHALL: every database emptied at one instant (all shards locked, in the global
    /// order), `while_locked` run before any lock is released; see [`Db::take_all`].
    pub fn take_all(&self, while_locked: impl FnOnce()) -> Vec<Shard> {
        let mut shards: Vec<MutexGuard<'_, Shard>> = self
            .dbs
            .iter()
            .flat_map(|db| db.shards.iter().map(lock))
            .collect();
        let tables: Vec<Shard> = shards.iter_mut().map(|s| s.take_all()).collect();
        for (db, old) in tables.chunks(SHARDS_PER_DB).enumerate() {
            self.touch_flushed(db, old);
        }
        while_locked();
        tables
    }

    /// FLUSHDB: database `db` emptied at one instant; see [`Db::take_all`].
    pub fn flush_db(&self, db: usize, while_locked: impl FnOnce()) -> Vec<Shard> {
        self.dbs[db].take_all(|old| {
            self.touch_flushed(db, old);
            while_locked();
        })
    }

    /// Database `db` was emptied of the tables `old`: clients watching a key it held
    /// see it changed (Redis' touchAllWatchedKeysInDb).
    fn touch_flushed(&self, db: usize, old: &[Shard]) {
        self.watches.touch_db(db, |key| {
            (
                self.holds(|i| &old[i], key, None) != After::Gone,
                After::Gone,
            )
        });
    }

    /// What one database's shards (`shard(i)` is its i-th) hold under `key`; a key whose
    /// deadline has passed at `now_ms` (when given) is [`After::Expired`].
    fn holds<'s>(
        &self,
        shard: impl Fn(usize) -> &'s Shard,
        key: &[u8],
        now_ms: Option<i64>,
    ) -> After {
        let hash = self.hasher.hash_one(key);
        let shard = shard(shard_index(hash));
        match shard.find(hash, key) {
            None => After::Gone,
            Some(pos) if now_ms.is_some_and(|now| shard.is_expired(pos, now)) => After::Expired,
            Some(_) => After::Live,
        }
    }

    /// A random live key of database `db` (RANDOMKEY), None when it is empty. Expired
    /// keys met on the way are deleted and counted, and another key is drawn, as Redis'
    /// dbRandomKey does. Each draw is uniform over the keys: a shard is chosen with a
    /// weight equal to its size.
    pub fn random_key(&self, db: usize, now_ms: i64, rng: &mut Rng) -> Option<Bytes> {
        let shards = &self.dbs[db].shards;
        // A read-only replica keeps expired keys: like Redis' dbRandomKey it gives up
        // skipping them after 100 draws (the database may hold nothing else).
        let mut tries_left = 100;
        loop {
            let sizes: Vec<usize> = shards.iter().map(|s| lock(s).len()).collect();
            let total: usize = sizes.iter().sum();
            if total == 0 {
                return None;
            }
            let mut n = rng.below(total);
            let Some(index) = sizes.iter().position(|&size| {
                let here = n < size;
                if !here {
                    n -= size;
                }
                here
            }) else {
                continue;
            };
            let mut shard = lock(&shards[index]);
            // The shard may have shrunk since it was measured: draw again.
            if n >= shard.len() {
                continue;
            }
            if shard.is_expired(n, now_ms) {
                if self.keeps_expired() {
                    tries_left -= 1;
                    if tries_left > 0 {
                        continue;
                    }
                    return Some(Bytes::copy_from_slice(&shard.entry(n).key));
                }
                let removed = shard.remove_at(n);
                self.deleted_expired(db, &removed.key);
                self.count_expired(1);
                continue;
            }
            return Some(Bytes::copy_from_slice(&shard.entry(n).key));
        }
    }

    pub(crate) fn count_expired(&self, n: u64) {
        self.expired_keys.fetch_add(n, Ordering::Relaxed);
    }
}

/// How many keys of a pipelined batch [`Keyspace::prefetch_batch`] loads at once: about
/// what a CPU keeps in flight, and enough for `redis-benchmark -P 16`.
pub const PREFETCH_BATCH: usize = 32;

/// How many keys after requesting a key's index slots its entry is requested: the time to
/// hash and request 8 keys covers most of a miss to memory.
const PREFETCH_STAGGER: usize = 8;

fn shard_index(hash: u64) -> usize {
    (hash >> SHARD_SHIFT) as usize & (SHARDS_PER_DB - 1)
}

/// Locks a shard: the one way every caller does, because a shard a snapshot is waiting
/// for is copied here first (see [`super::cow`]). A panic in a command while holding
/// the lock leaves the shard's structures consistent (every mutation completes before
/// anything can panic), so a poisoned lock is recovered rather than taking the database
/// down with it.
pub(crate) fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    let mut guard = shard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    guard.settle_mark();
    guard
}

impl Db {
    fn new(hasher: &DefaultHashBuilder) -> Db {
        Db {
            shards: (0..SHARDS_PER_DB)
                .map(|_| Mutex::new(Shard::new(hasher.clone())))
                .collect(),
            hints: (0..SHARDS_PER_DB).map(|_| IndexHint::default()).collect(),
            avg_ttl_ms: AtomicI64::new(0),
        }
    }

    pub fn shards(&self) -> &[Mutex<Shard>] {
        &self.shards
    }

    /// Room for `keys` more keys, spread over the shards as keys hash to them.
    pub fn reserve(&self, keys: usize) {
        let per_shard = keys.div_ceil(SHARDS_PER_DB);
        for shard in self.shards.iter() {
            lock(shard).reserve(per_shard);
        }
    }

    /// Number of keys, counting expired ones not yet reaped (as Redis' DBSIZE does).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of keys with a deadline.
    pub fn volatile_len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).volatile_len()).sum()
    }

    /// Live keys matching a Redis glob pattern (KEYS).
    pub fn keys_matching(&self, pattern: &[u8], now_ms: i64) -> Vec<Bytes> {
        let match_all = pattern == b"*";
        let mut keys = Vec::new();
        for shard in self.shards.iter() {
            let shard = lock(shard);
            keys.extend(
                shard
                    .entries()
                    .iter()
                    .enumerate()
                    .filter(|&(pos, _)| !shard.is_expired(pos, now_ms))
                    .filter(|(_, e)| match_all || glob_match(pattern, &e.key, false))
                    .map(|(_, e)| Bytes::copy_from_slice(&e.key)),
            );
        }
        keys
    }

    /// Removes every key, at one instant: every shard is locked first, and
    /// `while_locked` runs before any is released (replication appends the command there,
    /// so no write lands between the flush and its place in the stream). The old tables
    /// are returned so the caller decides where the (possibly long) freeing happens:
    /// FLUSHDB ASYNC frees them on another thread.
    pub fn take_all(&self, while_locked: impl FnOnce(&[Shard])) -> Vec<Shard> {
        let mut shards: Vec<MutexGuard<'_, Shard>> = self.shards.iter().map(lock).collect();
        let tables: Vec<Shard> = shards.iter_mut().map(|s| s.take_all()).collect();
        while_locked(&tables);
        tables
    }
}

/// A locked shard, positioned on one key: from [`Keyspace::lock`] (owning the lock) or
/// [`KeysGuard::key`] (borrowing a shard that guard holds).
pub struct KeyGuard<'a, S = MutexGuard<'a, Shard>> {
    shard: S,
    hash: u64,
    key: &'a [u8],
    db: usize,
    keyspace: &'a Keyspace,
}

/// A key holds a value of another type than the command works on (WRONGTYPE).
#[derive(Debug, PartialEq, Eq)]
pub struct WrongType;

/// Several keys' shards, locked together by [`Keyspace::lock_keys`].
pub struct KeysGuard<'a> {
    shards: Vec<MutexGuard<'a, Shard>>,
    /// Per key, in the caller's order: its shard's place in `shards`, its database, its
    /// hash, the key.
    keys: Vec<(usize, usize, u64, &'a [u8])>,
    keyspace: &'a Keyspace,
}

impl<'a> KeysGuard<'a> {
    /// The `i`th key given to [`Keyspace::lock_keys`].
    pub fn key(&mut self, i: usize) -> KeyGuard<'a, &mut Shard> {
        let (slot, db, hash, key) = self.keys[i];
        KeyGuard {
            shard: &mut *self.shards[slot],
            hash,
            key,
            db,
            keyspace: self.keyspace,
        }
    }

    /// Every key's live position (None where it is missing), for commands that read
    /// several values together (SINTER, SUNION, ...). Expired keys are deleted by a first
    /// pass, so that no deletion moves an entry after its position was taken.
    pub fn live_positions(&mut self, now_ms: i64) -> Vec<Option<usize>> {
        for i in 0..self.keys.len() {
            self.key(i).find_live_untouched(now_ms);
        }
        (0..self.keys.len())
            .map(|i| self.key(i).find_live(now_ms))
            .collect()
    }

    /// The entry at `pos` in the shard of the `i`th key, with `pos` from
    /// [`KeysGuard::live_positions`] and nothing removed since.
    pub fn entry(&self, i: usize, pos: usize) -> &Entry {
        self.shards[self.keys[i].0].entry(pos)
    }
}

impl<S: DerefMut<Target = Shard>> KeyGuard<'_, S> {
    /// Position of the key if it exists and has not expired; an expired key is deleted
    /// here (lazy expiry) and counted. Counts as an access (OBJECT IDLETIME restarts).
    pub fn find_live(&mut self, now_ms: i64) -> Option<usize> {
        let pos = self.find_live_untouched(now_ms)?;
        self.shard.entry_mut(pos).touch(now_ms);
        Some(pos)
    }

    /// Like [`KeyGuard::find_live`] without recording an access: Redis' LOOKUP_NOTOUCH,
    /// for commands that only inspect a key (TYPE, TTL, EXISTS, OBJECT).
    pub fn find_live_untouched(&mut self, now_ms: i64) -> Option<usize> {
        let pos = self.shard.find(self.hash, self.key)?;
        if self.shard.is_expired(pos, now_ms) {
            if self.keyspace.keeps_expired() {
                return APPLYING_MASTER_STREAM.with(Cell::get).then_some(pos);
            }
            self.shard.remove_at(pos);
            self.keyspace.deleted_expired(self.db, self.key);
            self.keyspace.count_expired(1);
            return None;
        }
        Some(pos)
    }

    /// [`KeyGuard::find_live`] for a command on one type: Ok(None) when there is no key,
    /// Err(WrongType) when its value is not of the kind `is_kind` accepts.
    pub fn find_live_of(
        &mut self,
        now_ms: i64,
        is_kind: impl Fn(&Value) -> bool,
    ) -> Result<Option<usize>, WrongType> {
        match self.find_live(now_ms) {
            Some(pos) if !is_kind(&self.shard.entry(pos).value) => Err(WrongType),
            found => Ok(found),
        }
    }

    /// Whether the key is there but expired (not deleted yet): WATCH notes it.
    pub fn is_stale(&self, now_ms: i64) -> bool {
        (self.shard.find(self.hash, self.key)).is_some_and(|pos| self.shard.is_expired(pos, now_ms))
    }

    /// The live entry for the key.
    pub fn get(&mut self, now_ms: i64) -> Option<&mut Entry> {
        let pos = self.find_live(now_ms)?;
        Some(self.shard.entry_mut(pos))
    }

    pub fn entry(&self, pos: usize) -> &Entry {
        self.shard.entry(pos)
    }

    pub fn entry_mut(&mut self, pos: usize) -> &mut Entry {
        self.shard.entry_mut(pos)
    }

    /// The deadline of the entry at `pos`, if it has one.
    pub fn expires_at(&self, pos: usize) -> Option<i64> {
        self.shard.expires_at(pos)
    }

    /// Stores `value` under the key, replacing any old value; the deadline is cleared
    /// unless `keep_ttl`. Returns the entry's position.
    pub fn set(&mut self, value: Value, keep_ttl: bool, now_ms: i64) -> usize {
        let existing = self.find_live(now_ms);
        self.set_found(existing, value, keep_ttl, now_ms)
    }

    /// [`KeyGuard::set`] for a caller that has just looked the key up under this guard:
    /// `existing` is what [`KeyGuard::find_live`] returned, so the table is not probed
    /// a second time.
    pub fn set_found(
        &mut self,
        existing: Option<usize>,
        value: Value,
        keep_ttl: bool,
        now_ms: i64,
    ) -> usize {
        match existing {
            Some(pos) => {
                self.shard.entry_mut(pos).value = value;
                if !keep_ttl {
                    self.shard.set_expiry(pos, None);
                }
                pos
            }
            None => {
                let pos = self.shard.insert_new(self.hash, self.key, value);
                self.shard.entry_mut(pos).touch(now_ms);
                pos
            }
        }
    }

    /// Sets (`Some`) or clears (`None`) the deadline of the entry at `pos`.
    pub fn set_expiry(&mut self, pos: usize, expires_at: Option<i64>) {
        self.shard.set_expiry(pos, expires_at);
    }

    /// Deletes the live key and returns its entry (value and deadline), if there was one.
    pub fn remove(&mut self, now_ms: i64) -> Option<Removed> {
        let pos = self.find_live(now_ms)?;
        Some(self.shard.remove_at(pos))
    }

    pub fn remove_at(&mut self, pos: usize) -> Removed {
        self.shard.remove_at(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> Value {
        Value::string(&Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn databases_are_independent() {
        let ks = Keyspace::new(16);
        ks.lock(0, b"k").set(string("zero"), false, 0);
        ks.lock(1, b"k").set(string("one"), false, 0);
        assert_eq!(ks.lock(0, b"k").get(0).unwrap().value, string("zero"));
        assert_eq!(ks.lock(1, b"k").get(0).unwrap().value, string("one"));
        assert!(ks.lock(2, b"k").get(0).is_none());
    }

    #[test]
    fn expired_keys_vanish_on_access_and_are_counted() {
        let ks = Keyspace::new(1);
        let mut guard = ks.lock(0, b"k");
        let pos = guard.set(string("v"), false, 1_000);
        guard.set_expiry(pos, Some(2_000));
        assert!(
            guard.get(2_000).is_some(),
            "alive through its deadline's millisecond"
        );
        assert!(guard.get(2_001).is_none());
        drop(guard);
        assert_eq!(ks.expired_keys.load(Ordering::Relaxed), 1);
        assert_eq!(ks.db(0).len(), 0);
    }

    #[test]
    fn set_found_replaces_or_inserts_as_the_lookup_said() {
        let ks = Keyspace::new(1);
        let mut guard = ks.lock(0, b"k");
        let existing = guard.find_live(0);
        assert_eq!(existing, None);
        let pos = guard.set_found(existing, string("a"), false, 0);
        guard.set_expiry(pos, Some(5_000));
        let existing = guard.find_live(0);
        assert_eq!(existing, Some(pos));
        let pos = guard.set_found(existing, string("b"), true, 0);
        assert_eq!(guard.entry(pos).value, string("b"));
        assert_eq!(guard.expires_at(pos), Some(5_000));
        drop(guard);
        assert_eq!(ks.db(0).len(), 1);
    }

    #[test]
    fn set_keeps_or_clears_the_deadline() {
        let ks = Keyspace::new(1);
        let mut guard = ks.lock(0, b"k");
        let pos = guard.set(string("a"), false, 0);
        guard.set_expiry(pos, Some(5_000));
        let pos = guard.set(string("b"), true, 0);
        assert_eq!(guard.expires_at(pos), Some(5_000));
        let pos = guard.set(string("c"), false, 0);
        assert_eq!(guard.expires_at(pos), None);
    }

    #[test]
    fn lock_keys_moves_values_between_shards_and_databases() {
        let ks = Keyspace::new(2);
        let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
        for key in &keys {
            ks.lock(0, key.as_bytes()).set(string(key), false, 0);
        }
        // Move every key to db 1 under a new name, all pairs locked together; some pairs
        // share a shard, some do not.
        for key in &keys {
            let renamed = format!("{key}-moved");
            let mut guard = ks.lock_keys(&[(0, key.as_bytes()), (1, renamed.as_bytes())]);
            let entry = guard.key(0).remove(0).unwrap();
            guard.key(1).set(entry.value, false, 0);
        }
        assert_eq!(ks.db(0).len(), 0);
        assert_eq!(ks.db(1).len(), 200);
        assert_eq!(ks.lock(1, b"k7-moved").get(0).unwrap().value, string("k7"));
        // The same key twice is one shard, locked once.
        let mut guard = ks.lock_keys(&[(1, b"k1-moved"), (1, b"k1-moved")]);
        assert!(guard.key(0).find_live(0).is_some() && guard.key(1).find_live(0).is_some());
    }

    #[test]
    fn keys_skips_expired_and_matches_globs() {
        let ks = Keyspace::new(1);
        for key in ["foo", "foa", "bar"] {
            ks.lock(0, key.as_bytes()).set(string("v"), false, 0);
        }
        let mut guard = ks.lock(0, b"fob");
        let pos = guard.set(string("v"), false, 0);
        guard.set_expiry(pos, Some(10));
        drop(guard);
        let mut keys = ks.db(0).keys_matching(b"fo?", 100);
        keys.sort();
        assert_eq!(keys, vec![Bytes::from("foa"), Bytes::from("foo")]);
        assert_eq!(ks.db(0).keys_matching(b"*", 100).len(), 3);
    }
}
