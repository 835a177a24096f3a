//! Copy on first access, for point-in-time snapshots without fork. A snapshot marks
//! every shard (all locked at one instant, so the marks are consistent) with a
//! [`ShardCopy`] slot and lets go; whoever locks a marked shard next — a command, the
//! expiry cycle, SCAN, FLUSHALL, SWAPDB or the snapshot's own writer — first copies the
//! shard's live entries into the slot (see [`super::keyspace::lock`]). Every shard is
//! thus copied once, exactly as it was at the mark, and clients wait for at most the
//! copy of the one shard they touch, never for the whole keyspace.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::shard::Shard;
use super::value::{Compact, Value};

/// One shard's live entries as they were when the snapshot marked it.
#[derive(Debug, Default)]
pub struct CopiedShard {
    /// Key, value and deadline of every entry not expired at the snapshot's instant.
    pub keys: Vec<(Compact, Value, Option<i64>)>,
    /// How many of `keys` have a deadline.
    pub volatile: usize,
    /// Entries in the shard at the mark, expired ones included.
    pub entries: usize,
}

/// The slot a snapshot waits on for one shard: empty until the shard is copied.
#[derive(Debug)]
pub struct ShardCopy {
    /// The snapshot's instant: entries whose deadline is at or before it are left out.
    now_ms: i64,
    copied: Mutex<Option<CopiedShard>>,
}

/// A shard's pending mark: weak, so a snapshot given up before its shards were copied
/// costs nothing more than clearing the mark.
pub(crate) type Mark = Weak<ShardCopy>;

impl ShardCopy {
    /// Marks `shard` (locked by the caller) for a snapshot at `now_ms`.
    pub fn mark(shard: &mut Shard, now_ms: i64) -> Arc<ShardCopy> {
        let copy = Arc::new(ShardCopy {
            now_ms,
            copied: Mutex::new(None),
        });
        shard.set_mark(Arc::downgrade(&copy));
        copy
    }

    /// The copy, once made (the snapshot's writer takes it out).
    pub fn take(&self) -> Option<CopiedShard> {
        self.slot().take()
    }

    pub fn is_copied(&self) -> bool {
        self.slot().is_some()
    }

    fn slot(&self) -> MutexGuard<'_, Option<CopiedShard>> {
        self.copied.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Copies `shard` into the slot its mark names, if the snapshot still wants it; the
/// mark has already been taken off the shard.
#[cold]
#[inline(never)]
pub(crate) fn copy_marked(shard: &Shard, mark: Mark) {
    let Some(copy) = mark.upgrade() else {
        return;
    };
    let mut keys = Vec::with_capacity(shard.len());
    let mut volatile = 0;
    for (pos, entry) in shard.entries().iter().enumerate() {
        let expires = shard.expires_at(pos);
        if expires.is_some_and(|at| at <= copy.now_ms) {
            continue;
        }
        volatile += usize::from(expires.is_some());
        keys.push((entry.key.clone(), entry.value.clone(), expires));
    }
    *copy.slot() = Some(CopiedShard {
        keys,
        volatile,
        entries: shard.len(),
    });
}
