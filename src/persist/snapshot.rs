//! A point-in-time copy of the keyspace without fork, in two steps. [`Snapshot::mark`]
//! locks every shard of every database in the global lock order (database, then shard;
//! the order `lock_keys` and SWAPDB use, so no command deadlocks against it), marks each
//! for copying and lets go: clients wait for that alone, a few microseconds per shard
//! and no copying. [`Marked::collect`] then gathers the copies: a shard someone has
//! locked since was copied by them, first thing under its lock ([`crate::db::cow`]); the
//! rest the collector locks and copies itself, one shard at a time. Either way each
//! shard is copied as it was at the mark: live entries only (keys and small strings
//! inline, large values as clones). Then the copy is written as an RDB file: a temporary
//! file in `dir`, fsynced, renamed over `dbfilename`, so a failed save leaves the
//! previous dump intact.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

use crate::db::cow::{CopiedShard, ShardCopy};
use crate::db::keyspace::lock;
use crate::db::{Compact, Keyspace, Shard, Value};
use crate::rdb::save::{AuxInfo, Encoding, KeyMeta, Writer};

/// One database's live keys at the snapshot.
pub struct DbSnapshot {
    pub index: usize,
    pub keys: Vec<(Compact, Value, Option<i64>)>,
    pub volatile: usize,
}

pub struct Snapshot {
    pub dbs: Vec<DbSnapshot>,
    /// Unix milliseconds of the snapshot.
    pub taken_ms: i64,
    /// How long clients were held up: the marking, with every shard locked.
    pub pause: Duration,
    /// How long gathering the copies took after the marking (clients ran meanwhile).
    pub copying: Duration,
}

/// A snapshot whose instant is fixed but whose shards may not all be copied yet.
pub struct Marked {
    /// Per database, per shard: the slot its copy lands in.
    copies: Vec<Vec<Arc<ShardCopy>>>,
    taken_ms: i64,
    pause: Duration,
}

impl Snapshot {
    /// Copies every live key (those past their deadline are left out).
    pub fn take(keyspace: &Keyspace) -> Snapshot {
        Snapshot::mark(keyspace, || ()).0.collect(keyspace)
    }

    /// Fixes the snapshot's instant, also running `at_snapshot` while every shard is
    /// locked: what it reads (the replication offset) belongs to exactly this moment of
    /// the keyspace. Locking a shard still marked by an earlier snapshot copies it for
    /// that one first, so snapshots can overlap.
    pub fn mark<T>(keyspace: &Keyspace, at_snapshot: impl FnOnce() -> T) -> (Marked, T) {
        let started = Instant::now();
        let mut guards: Vec<Vec<MutexGuard<'_, Shard>>> = keyspace
            .dbs()
            .iter()
            .map(|db| db.shards().iter().map(lock).collect())
            .collect();
        let seen = at_snapshot();
        let taken_ms = crate::db::now_ms();
        let copies = guards
            .iter_mut()
            .map(|shards| {
                shards
                    .iter_mut()
                    .map(|shard| ShardCopy::mark(shard, taken_ms))
                    .collect()
            })
            .collect();
        drop(guards);
        let marked = Marked {
            copies,
            taken_ms,
            pause: started.elapsed(),
        };
        (marked, seen)
    }

    pub fn keys(&self) -> usize {
        self.dbs.iter().map(|db| db.keys.len()).sum()
    }

    /// Writes the snapshot as a whole RDB file to `out`.
    pub fn write<W: Write>(&self, out: W, enc: Encoding) -> io::Result<W> {
        let mut w = Writer::new(out, enc);
        w.header()?;
        w.aux_fields(AuxInfo {
            ctime: self.taken_ms / 1000,
            used_mem: crate::alloc::used_memory() as u64,
        })?;
        for db in &self.dbs {
            w.select_db(db.index as u64)?;
            w.resize_db(db.keys.len() as u64, db.volatile as u64)?;
            for (key, value, expire_ms) in &db.keys {
                let meta = KeyMeta {
                    expire_ms: *expire_ms,
                    ..KeyMeta::default()
                };
                write_value(w.key(key, meta)?, value)?;
            }
        }
        w.finish()
    }

    /// Saves to `dir/dbfilename` through `dir/temp-<pid>.rdb` (written, fsynced, renamed;
    /// removed again on failure).
    pub fn save_file(&self, dir: &Path, dbfilename: &str, enc: Encoding) -> io::Result<()> {
        let temp = dir.join(format!("temp-{}.rdb", std::process::id()));
        let result = self.write_temp(&temp, enc).and_then(|()| {
            let target: PathBuf = dir.join(dbfilename);
            std::fs::rename(&temp, &target)?;
            // The rename itself is durable only once the directory is synced.
            File::open(dir)?.sync_all()
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result
    }

    fn write_temp(&self, temp: &Path, enc: Encoding) -> io::Result<()> {
        let file = BufWriter::with_capacity(1 << 16, File::create(temp)?);
        let file = self
            .write(file, enc)?
            .into_inner()
            .map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

impl Marked {
    /// How long clients were held up by the marking.
    pub fn pause(&self) -> Duration {
        self.pause
    }

    /// Shards copied so far (by clients touching them, or an overlapping snapshot).
    pub fn copied(&self) -> usize {
        self.copies
            .iter()
            .flatten()
            .filter(|c| c.is_copied())
            .count()
    }

    /// Gathers every shard's copy, in order, copying those nobody has touched since the
    /// mark; `keyspace` must be the one marked.
    pub fn collect(self, keyspace: &Keyspace) -> Snapshot {
        let started = Instant::now();
        let mut dbs = Vec::new();
        for (index, (db, copies)) in keyspace.dbs().iter().zip(self.copies).enumerate() {
            let shards: Vec<CopiedShard> = db
                .shards()
                .iter()
                .zip(copies)
                .map(|(shard, copy)| {
                    copy.take().unwrap_or_else(|| {
                        // Locking copies it (if nobody did just now). The slot stays
                        // empty only for a keyspace other than the one marked.
                        drop(lock(shard));
                        copy.take().unwrap_or_default()
                    })
                })
                .collect();
            if shards.iter().all(|s| s.entries == 0) {
                continue;
            }
            let mut keys = Vec::with_capacity(shards.iter().map(|s| s.keys.len()).sum());
            let mut volatile = 0;
            for shard in shards {
                keys.extend(shard.keys);
                volatile += shard.volatile;
            }
            dbs.push(DbSnapshot {
                index,
                keys,
                volatile,
            });
        }
        Snapshot {
            dbs,
            taken_ms: self.taken_ms,
            pause: self.pause,
            copying: started.elapsed(),
        }
    }
}

/// A keyspace value through the writer's borrowed-data API.
pub fn write_value<W: Write>(v: crate::rdb::save::Value<'_, W>, value: &Value) -> io::Result<()> {
    match value {
        Value::Str(s) => v.string(s),
        Value::List(list) => v.list(list.iter().map(|e| &e[..])),
        Value::Set(set) => v.set(set.len(), set.iter().map(|m| &m[..])),
        Value::Hash(hash) => v.hash(hash.len(), hash.iter()),
        Value::ZSet(zset) => v.zset(zset.len(), zset.iter()),
        Value::Stream(stream) => v.stream(&stream.to_model()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bytes::Bytes;

    use super::*;

    type Contents = BTreeMap<(usize, Vec<u8>), (Value, Option<i64>)>;

    fn string(s: &str) -> Value {
        Value::string(&Bytes::copy_from_slice(s.as_bytes()))
    }

    fn set(ks: &Keyspace, db: usize, key: &str, value: &str, expires: Option<i64>) {
        let mut guard = ks.lock(db, key.as_bytes());
        let pos = guard.set(string(value), false, 0);
        guard.set_expiry(pos, expires);
    }

    /// Two databases with keys in every shard, some with a deadline.
    fn filled() -> (Keyspace, Contents) {
        let ks = Keyspace::new(2);
        let far = crate::db::now_ms() + 3_600_000;
        let mut expected = Contents::new();
        for db in 0..2 {
            for i in 0..2_000 {
                let (key, value) = (format!("k{i}"), format!("v{db}-{i}"));
                let expires = (i % 3 == 0).then_some(far + i);
                set(&ks, db, &key, &value, expires);
                expected.insert((db, key.into_bytes()), (string(&value), expires));
            }
        }
        // Already past its deadline at the snapshot: left out.
        set(&ks, 0, "gone", "x", Some(1));
        (ks, expected)
    }

    fn contents(snapshot: &Snapshot) -> Contents {
        let mut all = Contents::new();
        for db in &snapshot.dbs {
            assert_eq!(
                db.volatile,
                db.keys.iter().filter(|(_, _, at)| at.is_some()).count()
            );
            for (key, value, expires) in &db.keys {
                all.insert((db.index, key.to_vec()), (value.clone(), *expires));
            }
        }
        all
    }

    /// Overwrites, deletes and adds keys in every shard of both databases.
    fn scribble(ks: &Keyspace, thread: usize) {
        for i in (thread..2_000).step_by(4) {
            let key = format!("k{i}");
            for db in 0..2 {
                match i % 4 {
                    0 => set(ks, db, &key, "changed", None),
                    1 => drop(ks.lock(db, key.as_bytes()).remove(0)),
                    _ => set(ks, db, &format!("new{i}"), "added", Some(5)),
                }
            }
        }
    }

    #[test]
    fn marking_copies_nothing_and_the_snapshot_ignores_later_writes() {
        let (ks, expected) = filled();
        let (marked, seen) = Snapshot::mark(&ks, || 42);
        assert_eq!(seen, 42);
        assert_eq!(marked.copied(), 0);
        // Writers race the collector: each shard is copied by whichever comes first.
        let snapshot = std::thread::scope(|s| {
            for thread in 0..4 {
                let ks = &ks;
                s.spawn(move || scribble(ks, thread));
            }
            marked.collect(&ks)
        });
        assert_eq!(contents(&snapshot), expected);
        assert_eq!(snapshot.keys(), 4_000);
        // The writes did land in the keyspace.
        assert_eq!(ks.lock(0, b"k0").get(0).unwrap().value, string("changed"));
        assert!(ks.lock(1, b"k1").get(0).is_none());
    }

    #[test]
    fn shards_touched_after_the_mark_are_copied_by_the_toucher() {
        let (ks, expected) = filled();
        let (marked, ()) = Snapshot::mark(&ks, || ());
        set(&ks, 0, "k1", "changed", None);
        assert_eq!(marked.copied(), 1);
        drop(ks.lock(1, b"k2").remove(0));
        assert_eq!(marked.copied(), 2);
        assert_eq!(contents(&marked.collect(&ks)), expected);
    }

    #[test]
    fn swapdb_and_flushall_during_a_pending_snapshot() {
        let (ks, expected) = filled();
        let (marked, ()) = Snapshot::mark(&ks, || ());
        ks.swap_dbs(0, 1, || ());
        set(&ks, 0, "after-swap", "x", None);
        drop(ks.take_all(|| ()));
        set(&ks, 1, "after-flush", "x", None);
        assert_eq!(contents(&marked.collect(&ks)), expected);
        assert_eq!(ks.db(0).len() + ks.db(1).len(), 1);
    }

    #[test]
    fn overlapping_snapshots_each_keep_their_own_instant() {
        let (ks, expected) = filled();
        let (first, ()) = Snapshot::mark(&ks, || ());
        set(&ks, 1, "k7", "between", None);
        let (second, ()) = Snapshot::mark(&ks, || ());
        // Marking again copied every shard still pending for the first snapshot.
        assert_eq!(first.copied(), 2 * 64);
        assert_eq!(second.copied(), 0);
        set(&ks, 1, "k7", "after", None);
        let mut between = expected.clone();
        between.insert((1, b"k7".to_vec()), (string("between"), None));
        assert_eq!(contents(&second.collect(&ks)), between);
        assert_eq!(contents(&first.collect(&ks)), expected);
    }

    #[test]
    fn a_snapshot_given_up_leaves_no_copy_behind() {
        let (ks, _) = filled();
        let (marked, ()) = Snapshot::mark(&ks, || ());
        let slot = Arc::downgrade(&marked.copies[0][0]);
        drop(marked);
        drop(lock(&ks.db(0).shards()[0]));
        assert!(slot.upgrade().is_none());
    }
}
