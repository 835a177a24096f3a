//! Clients blocked on keys (BLPOP): who to wake when a key receives data.
//!
//! A blocked connection registers a [`Notify`] under each key it waits on, re-runs its
//! command, and sleeps on the notify if there was still nothing to take. A write that
//! adds data to a key wakes everyone registered under it; each retries, and the losers
//! of a race simply sleep again. `Notify` keeps a wake-up that arrives between the
//! retry and the sleep, so none is lost, and it works across the worker threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hashbrown::HashMap;
use tokio::sync::Notify;

/// Waiters by (database, key).
type Waiters = HashMap<(usize, Bytes), Vec<Arc<Notify>>>;

#[derive(Debug, Default)]
pub struct BlockedClients {
    waiters: Mutex<Waiters>,
    /// Registered waiters: writers skip the lock entirely while nobody is blocked.
    count: AtomicUsize,
    /// Blocked clients (one registration each, whatever its number of keys).
    clients: AtomicUsize,
}

impl BlockedClients {
    pub fn register(&self, db: usize, keys: &[Bytes], notify: &Arc<Notify>) {
        let mut waiters = self.lock();
        self.clients.fetch_add(1, Ordering::Relaxed);
        for key in keys {
            waiters
                .entry((db, key.clone()))
                .or_default()
                .push(notify.clone());
            self.count.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Undoes one [`BlockedClients::register`] with the same arguments.
    pub fn unregister(&self, db: usize, keys: &[Bytes], notify: &Arc<Notify>) {
        let mut waiters = self.lock();
        self.clients.fetch_sub(1, Ordering::Relaxed);
        for key in keys {
            let slot = (db, key.clone());
            if let Some(list) = waiters.get_mut(&slot) {
                if let Some(i) = list.iter().position(|n| Arc::ptr_eq(n, notify)) {
                    list.swap_remove(i);
                    self.count.fetch_sub(1, Ordering::SeqCst);
                }
                if list.is_empty() {
                    waiters.remove(&slot);
                }
            }
        }
    }

    /// Clients waiting on keys now (INFO's `blocked_clients`).
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    /// Wakes every client blocked on `key` of database `db`.
    pub fn key_ready(&self, db: usize, key: &[u8]) {
        if self.count.load(Ordering::SeqCst) == 0 {
            return;
        }
        let waiters = self.lock();
        if let Some(list) = waiters.get(&(db, Bytes::copy_from_slice(key))) {
            for notify in list {
                notify.notify_one();
            }
        }
    }

    /// Wakes every client blocked on any key of database `db`: after SWAPDB any of its
    /// keys may now hold data. Those that still find nothing sleep again.
    pub fn wake_db(&self, db: usize) {
        if self.count.load(Ordering::SeqCst) == 0 {
            return;
        }
        let waiters = self.lock();
        for notify in waiters
            .iter()
            .filter(|((waited_db, _), _)| *waited_db == db)
            .flat_map(|(_, list)| list)
        {
            notify.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiters> {
        // The map is only ever changed by whole-entry operations: a poisoned lock is usable.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_keys_wake_their_waiters_only() {
        let blocked = BlockedClients::default();
        let (a, b) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let keys = [Bytes::from("k")];
        blocked.register(0, &keys, &a);
        blocked.register(1, &keys, &b);
        assert_eq!(blocked.clients(), 2);
        blocked.key_ready(0, b"k");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            // `a` holds a stored wake-up; `b` was not woken.
            a.notified().await;
            let waited =
                tokio::time::timeout(std::time::Duration::from_millis(20), b.notified()).await;
            assert!(waited.is_err());
        });
        blocked.unregister(0, &keys, &a);
        blocked.unregister(1, &keys, &b);
        assert_eq!(blocked.count.load(Ordering::SeqCst), 0);
        assert_eq!(blocked.clients(), 0);
        assert!(blocked.lock().is_empty());
    }
}
