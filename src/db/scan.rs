//! The SCAN cursor: a position in a database that stays meaningful while keys come and go.
//!
//! A database is 64 shards, each a dense array of entries (see [`super::shard`]). The
//! cursor names a shard and a position in it; a scan visits shard 0, 1, ... 63, and each
//! shard's array from its end towards its start. Encoded in 64 bits:
//!
//! ```text
//!  bits 63..32  shard index            (>= 64: past the last shard, the scan is over)
//!  bits 31..0   u32::MAX - upper       positions [0, upper) of the shard are still to visit
//! ```
//! so cursor 0 is "shard 0, everything left" (the start), and 0 is also what a finished
//! scan returns, as Redis does. A shard is started with `upper = u32::MAX` and that is
//! clamped to the shard's length whenever the walk resumes.
//!
//! The invariant that makes this complete: **a key present during the whole scan is
//! returned at least once.** The only operation that moves an entry is delete, a
//! swap-remove that moves the *last* entry down into the hole. Take the unvisited part
//! `[0, upper)` of a shard:
//! * an entry in it moves only if it is the last entry, so the array is no longer than
//!   `upper`, and the hole it moves into is below it, still unvisited;
//! * an entry from the visited part may move down into it and be returned twice (allowed);
//! * inserts append at the end: at or above `upper` they are never seen (allowed, they were
//!   not there for the whole scan); below it they are;
//! * growing or reallocating the array moves no position; shrinking below `upper` (even
//!   to nothing, as FLUSHDB does) is handled by the clamp, after which the unvisited part
//!   is the whole shorter array.
//!
//! So nothing ever leaves the unvisited part except by being visited. The cursor holds
//! no state on the server: it stays valid for as long as the client keeps it, across
//! FLUSHDB (the scan just finishes early) and SWAPDB (it continues in the new contents).

use super::keyspace::{lock, Db};
use super::shard::Entry;

/// The cursor that starts a scan, and that a finished scan returns.
pub const START: u64 = 0;
/// Positions visited under one lock: a huge COUNT still lets other clients in.
const VISITS_PER_LOCK: usize = 1024;
/// `upper` of a shard not started yet: clamped to its length.
const WHOLE_SHARD: usize = u32::MAX as usize;

/// What the visitor wants done with the entry it was shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visit {
    Keep,
    /// Delete it (an expired key found by the walk).
    Remove,
}

fn decode(cursor: u64) -> (usize, usize) {
    let shard = (cursor >> 32) as usize;
    let upper = (u32::MAX - cursor as u32) as usize;
    (shard, upper)
}

fn encode(shard: usize, upper: usize) -> u64 {
    ((shard as u64) << 32) | u64::from(u32::MAX - upper as u32)
}

/// Walks `db` from `cursor`, showing about `work` entries to `visit` (at least one, plus
/// any empty shards on the way, which cost nothing), and returns the cursor to continue
/// from, [`START`] when the walk has covered every shard.
pub fn walk(
    db: &Db,
    cursor: u64,
    work: usize,
    mut visit: impl FnMut(&Entry, Option<i64>) -> Visit,
) -> u64 {
    let shards = db.shards();
    let (mut shard, mut upper) = decode(cursor);
    let mut left = work.max(1);
    while shard < shards.len() && left > 0 {
        let mut guard = lock(&shards[shard]);
        upper = upper.min(guard.len());
        let mut visits = left.min(VISITS_PER_LOCK);
        while upper > 0 && visits > 0 {
            upper -= 1;
            visits -= 1;
            left -= 1;
            if visit(guard.entry(upper), guard.expires_at(upper)) == Visit::Remove {
                // The last entry moves into `upper`, from a position already visited (or
                // added since): skipping it keeps the invariant above.
                guard.remove_at(upper);
            }
        }
        drop(guard);
        if upper == 0 {
            shard += 1;
            upper = WHOLE_SHARD;
        }
    }
    if shard >= shards.len() {
        START
    } else {
        encode(shard, upper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Keyspace, Value};
    use bytes::Bytes;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    fn value() -> Value {
        Value::string(&Bytes::from_static(b"v"))
    }

    /// One database holding the string keys `k0..kN`.
    fn keyspace_with(n: usize) -> Keyspace {
        let ks = Keyspace::new(1);
        for i in 0..n {
            ks.lock(0, format!("k{i}").as_bytes())
                .set(value(), false, 0);
        }
        ks
    }

    /// Every key a full scan with `work` per call returns.
    fn scan_all(ks: &Keyspace, work: usize, mut between_calls: impl FnMut()) -> Vec<Vec<u8>> {
        let mut seen = Vec::new();
        let mut cursor = START;
        loop {
            cursor = walk(ks.db(0), cursor, work, |e, _| {
                seen.push(e.key.to_vec());
                Visit::Keep
            });
            if cursor == START {
                return seen;
            }
            between_calls();
        }
    }

    #[test]
    fn cursor_encoding_round_trips_and_starts_at_zero() {
        assert_eq!(encode(0, WHOLE_SHARD), START);
        assert_eq!(decode(START), (0, WHOLE_SHARD));
        assert_eq!(decode(encode(17, 12345)), (17, 12345));
        assert_ne!(encode(1, WHOLE_SHARD), START);
    }

    #[test]
    fn a_quiet_scan_returns_every_key_exactly_once() {
        let ks = keyspace_with(5000);
        for work in [1, 7, 100, 100_000] {
            let mut seen = scan_all(&ks, work, || {});
            assert_eq!(seen.len(), 5000, "work {work}");
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), 5000, "work {work}: duplicates");
        }
    }

    #[test]
    fn stale_and_foreign_cursors_never_panic() {
        let ks = Keyspace::new(1);
        ks.lock(0, b"a").set(value(), false, 0);
        for cursor in [1, 5, u32::MAX as u64, 63 << 32, 64 << 32, u64::MAX] {
            walk(ks.db(0), cursor, 10, |_, _| Visit::Keep);
        }
        // Past the last shard: the scan is over.
        assert_eq!(walk(ks.db(0), u64::MAX, 10, |_, _| Visit::Keep), START);
    }

    #[test]
    fn a_flush_midway_ends_the_scan_early() {
        let ks = keyspace_with(1000);
        let cursor = walk(ks.db(0), START, 10, |_, _| Visit::Keep);
        assert_ne!(cursor, START);
        drop(ks.flush_db(0, || {}));
        let mut seen = 0;
        assert_eq!(
            walk(ks.db(0), cursor, 10, |_, _| {
                seen += 1;
                Visit::Keep
            }),
            START
        );
        assert_eq!(seen, 0);
    }

    #[test]
    fn removing_visited_entries_skips_nothing_else() {
        let ks = keyspace_with(3000);
        // Remove every third key as the walk meets it, as SCAN does with expired keys.
        let mut seen = HashSet::new();
        let mut cursor = START;
        let mut n = 0;
        loop {
            cursor = walk(ks.db(0), cursor, 13, |e, _| {
                n += 1;
                if n % 3 == 0 {
                    Visit::Remove
                } else {
                    seen.insert(e.key.to_vec());
                    Visit::Keep
                }
            });
            if cursor == START {
                break;
            }
        }
        let left = ks.db(0).keys_matching(b"*", 0);
        assert_eq!(left.len(), 2000);
        assert!(
            left.iter().all(|k| seen.contains(&k[..])),
            "a kept key was skipped"
        );
    }

    #[test]
    fn keys_present_throughout_are_seen_despite_concurrent_inserts_and_deletes() {
        let ks = Keyspace::new(1);
        let stable: Vec<String> = (0..4000).map(|i| format!("stable:{i}")).collect();
        let churn: Vec<String> = (0..4000).map(|i| format!("churn:{i}")).collect();
        // Interleaved, so that deleting churn keys pulls stable keys from the end of each
        // array down into the holes: the moves a wrong walk would lose keys to.
        for (s, c) in stable.iter().zip(&churn) {
            ks.lock(0, s.as_bytes()).set(value(), false, 0);
            ks.lock(0, c.as_bytes()).set(value(), false, 0);
        }
        let stop = AtomicBool::new(false);
        let mut missed = Vec::new();
        let deletes = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            // Another thread deletes every churn key in random order, then inserts them
            // all again (growing and reallocating the arrays), over and over.
            scope.spawn(|| {
                let mut rng = crate::db::expire::Rng::seeded();
                let mut order: Vec<&String> = churn.iter().collect();
                while !stop.load(Ordering::Relaxed) {
                    for i in (1..order.len()).rev() {
                        order.swap(i, rng.below(i + 1));
                    }
                    for key in &order {
                        ks.lock(0, key.as_bytes()).remove(0);
                        deletes.fetch_add(1, Ordering::Relaxed);
                    }
                    for key in &order {
                        ks.lock(0, key.as_bytes()).set(value(), false, 0);
                    }
                }
            });
            while deletes.load(Ordering::Relaxed) == 0 {
                std::thread::yield_now();
            }
            for work in [1, 2, 3, 5, 10, 50, 250] {
                let seen: HashSet<Vec<u8>> = scan_all(&ks, work, std::thread::yield_now)
                    .into_iter()
                    .collect();
                missed.extend(
                    stable
                        .iter()
                        .filter(|key| !seen.contains(key.as_bytes()))
                        .map(|key| format!("work {work}: {key}")),
                );
            }
            // Stop the writer before any assertion, or a failure would wait for it forever.
            stop.store(true, Ordering::Relaxed);
        });
        // The writer really ran during the scans (or the test proved nothing).
        assert!(deletes.load(Ordering::Relaxed) > 4000);
        assert!(
            missed.is_empty(),
            "missed {} keys: {:?}",
            missed.len(),
            &missed[..missed.len().min(5)]
        );
    }
}
