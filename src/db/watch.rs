//! Keys watched by clients (WATCH): a change to one of them marks its watchers, and a
//! marked client's EXEC replies a null array instead of running (Redis' CLIENT_DIRTY_CAS).
//!
//! Every watching client has one flag shared by all its keys. Writers touch the keys they
//! changed; while nobody watches, a touch costs one atomic load.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use hashbrown::HashMap;

/// Watchers by (database, key).
type Watchers = HashMap<(usize, Bytes), Vec<Watcher>>;

/// One client watching one key.
#[derive(Debug)]
struct Watcher {
    /// The client's flag, shared by all its keys.
    dirty: Arc<AtomicBool>,
    /// The key had expired, but was not deleted yet, when it was watched: its deletion is
    /// no change (Redis 7.0's `watchedKey.expired`).
    stale: bool,
}

#[derive(Debug, Default)]
pub struct Watches {
    by_key: Mutex<Watchers>,
    /// Registrations: touches skip the lock while there are none.
    count: AtomicUsize,
    /// Held by an EXEC from its WATCH check to its last command.
    exec: Mutex<()>,
}

impl Watches {
    /// The turn of one EXEC: EXECs run one at a time, so two transactions never
    /// interleave, and two optimistic ones (WATCH, read, MULTI, write, EXEC) on the same
    /// key cannot both pass their check before either writes. A plain write from another
    /// client may still land between a check and the transaction's commands.
    pub fn exec_turn(&self) -> MutexGuard<'_, ()> {
        self.exec.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Watches `key` of `db` for the client whose flag is `dirty`.
    fn add(&self, db: usize, key: &Bytes, dirty: &Arc<AtomicBool>, stale: bool) {
        let watcher = Watcher {
            dirty: dirty.clone(),
            stale,
        };
        self.lock()
            .entry((db, key.clone()))
            .or_default()
            .push(watcher);
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    fn remove(&self, db: usize, key: &Bytes, dirty: &Arc<AtomicBool>) {
        let mut by_key = self.lock();
        let slot = (db, key.clone());
        if let Some(list) = by_key.get_mut(&slot) {
            if let Some(i) = list.iter().position(|w| Arc::ptr_eq(&w.dirty, dirty)) {
                list.swap_remove(i);
                self.count.fetch_sub(1, Ordering::SeqCst);
            }
            if list.is_empty() {
                by_key.remove(&slot);
            }
        }
    }

    /// Whether any client watches a key.
    pub fn active(&self) -> bool {
        self.count.load(Ordering::SeqCst) > 0
    }

    /// `key` of `db` was written: its watchers' transactions fail.
    pub fn touch(&self, db: usize, key: &[u8]) {
        self.touch_key(db, key, After::Live);
    }

    /// `key` of `db` was deleted because it expired: its watchers' transactions fail,
    /// except those that watched it already expired (nothing changed for them).
    pub fn expired(&self, db: usize, key: &[u8]) {
        self.touch_key(db, key, After::Gone);
    }

    fn touch_key(&self, db: usize, key: &[u8], after: After) {
        if !self.active() {
            return;
        }
        if let Some(list) = self.lock().get_mut(&(db, Bytes::copy_from_slice(key))) {
            list.iter_mut().for_each(|w| w.touched(true, after));
        }
    }

    /// Keys of `db` changed wholesale (FLUSHDB, FLUSHALL, SWAPDB): `state(key)` says
    /// whether the key was there before and what is there after (Redis'
    /// touchAllWatchedKeysInDb).
    pub fn touch_db(&self, db: usize, state: impl Fn(&[u8]) -> (bool, After)) {
        if !self.active() {
            return;
        }
        for ((watched_db, key), list) in self.lock().iter_mut() {
            if *watched_db == db {
                let (before, after) = state(key);
                list.iter_mut().for_each(|w| w.touched(before, after));
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Watchers> {
        // Changed only by whole-entry operations: a poisoned lock is still consistent.
        self.by_key.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One client's watched keys and its flag; they are unwatched when this is dropped
/// (UNWATCH, EXEC, DISCARD, RESET, or the connection closing).
#[derive(Debug)]
pub struct Watching {
    keyspace: Arc<super::Keyspace>,
    keys: Vec<(usize, Bytes)>,
    dirty: Arc<AtomicBool>,
}

impl Watching {
    pub fn new(keyspace: &Arc<super::Keyspace>) -> Watching {
        Watching {
            keyspace: keyspace.clone(),
            keys: Vec::new(),
            dirty: Arc::default(),
        }
    }

    /// Watches one more key (a key watched already is not added twice); `stale` says it
    /// has expired but is not deleted yet.
    pub fn watch(&mut self, db: usize, key: &Bytes, stale: bool) {
        if self.keys.iter().any(|(d, k)| *d == db && k == key) {
            return;
        }
        self.keyspace.watches.add(db, key, &self.dirty, stale);
        self.keys.push((db, key.clone()));
    }

    /// Whether a watched key changed since it was watched.
    pub fn touched(&self) -> bool {
        self.dirty.load(Ordering::SeqCst)
    }

    /// The watched keys.
    pub fn keys(&self) -> &[(usize, Bytes)] {
        &self.keys
    }
}

/// What a changed key holds afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    Gone,
    Live,
    /// A key whose deadline has passed (SWAPDB can bring one).
    Expired,
}

impl Watcher {
    /// Redis 7.0's rules: a key that neither was nor is there did not change; for a key
    /// watched already expired, its deletion or an expired replacement is no change;
    /// a missing key replaced by an expired one becomes such a key.
    fn touched(&mut self, before: bool, after: After) {
        match (self.stale, before, after) {
            (_, false, After::Gone) => {}
            (true, _, After::Gone) => self.stale = false,
            (true, _, After::Expired) | (false, false, After::Expired) => self.stale = true,
            _ => self.dirty.store(true, Ordering::SeqCst),
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        for (db, key) in &self.keys {
            self.keyspace.watches.remove(*db, key, &self.dirty);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Keyspace;

    #[test]
    fn touches_mark_only_the_watchers_of_that_key_until_they_unwatch() {
        let keyspace = Arc::new(Keyspace::new(2));
        let mut a = Watching::new(&keyspace);
        let mut b = Watching::new(&keyspace);
        a.watch(0, &Bytes::from("k"), false);
        a.watch(0, &Bytes::from("k"), false);
        b.watch(1, &Bytes::from("k"), false);
        keyspace.watches.touch(0, b"other");
        assert!(!a.touched() && !b.touched());
        keyspace.watches.touch(0, b"k");
        assert!(a.touched() && !b.touched());
        keyspace
            .watches
            .touch_db(1, |key| (key != b"k", After::Gone));
        assert!(!b.touched(), "an unaffected key does not count");
        keyspace.watches.touch_db(1, |_| (true, After::Gone));
        assert!(b.touched());
        drop((a, b));
        assert_eq!(keyspace.watches.count.load(Ordering::SeqCst), 0);
        assert!(keyspace.watches.lock().is_empty());
    }

    #[test]
    fn a_key_watched_stale_changes_only_when_it_comes_back() {
        let keyspace = Arc::new(Keyspace::new(1));
        let mut w = Watching::new(&keyspace);
        w.watch(0, &Bytes::from("k"), true);
        keyspace.watches.expired(0, b"k");
        assert!(!w.touched(), "its deletion is no change");
        keyspace.watches.expired(0, b"k");
        keyspace.watches.touch(0, b"k");
        assert!(w.touched(), "written again, it changed");
        let mut fresh = Watching::new(&keyspace);
        fresh.watch(0, &Bytes::from("k"), false);
        keyspace.watches.expired(0, b"k");
        assert!(fresh.touched(), "a live key that expires changed");
        let mut missing = Watching::new(&keyspace);
        missing.watch(0, &Bytes::from("m"), false);
        keyspace.watches.touch_db(0, |_| (false, After::Expired));
        keyspace.watches.touch_db(0, |_| (true, After::Expired));
        keyspace.watches.touch_db(0, |_| (true, After::Gone));
        assert!(
            !missing.touched(),
            "replaced by an expired key, then that key went"
        );
        keyspace.watches.touch_db(0, |_| (false, After::Live));
        assert!(missing.touched());
    }
}
