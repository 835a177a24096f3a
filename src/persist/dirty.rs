//! The dirty counter: changes to the dataset since start, which the save policy and
//! INFO's `rdb_changes_since_last_save` compare with the count at the last save.
//!
//! Each thread counts into its own counter (one writer, so a plain load + store, no
//! contended read-modify-write on the command path); readers sum all of them. A command
//! counts 1 when it is a write that succeeded, unless its handler reported the exact
//! number with [`changed`] (DEL of 3 keys: 3; of none: 0).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

static COUNTERS: Mutex<Vec<Arc<AtomicU64>>> = Mutex::new(Vec::new());

thread_local! {
    static MINE: Arc<AtomicU64> = {
        let counter = Arc::new(AtomicU64::new(0));
        COUNTERS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(counter.clone());
        counter
    };
    static REPORTED: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The running command made exactly `n` changes (instead of the default 1 for a write).
pub fn changed(n: u64) {
    REPORTED.with(|r| r.set(Some(n)));
}

/// What the running command has reported with [`changed`] so far.
pub fn reported() -> Option<u64> {
    REPORTED.with(Cell::get)
}

/// A command finished: counts what it reported, else 1 for a successful write.
pub fn command_done(successful_write: bool) {
    let n = match REPORTED.with(Cell::take) {
        Some(n) => n,
        None => u64::from(successful_write),
    };
    if n > 0 {
        MINE.with(|c| c.store(c.load(Ordering::Relaxed) + n, Ordering::Relaxed));
    }
}

/// Changes counted so far by every thread.
pub fn total() -> u64 {
    COUNTERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_count_apart_and_sum_up() {
        let before = total();
        command_done(true);
        changed(3);
        command_done(true);
        changed(0);
        command_done(true);
        command_done(false);
        std::thread::spawn(|| command_done(true)).join().unwrap();
        // Other tests may count at the same time: at least ours are there.
        assert!(total() >= before + 5);
    }
}
