//! A point-in-time copy of the keyspace without fork: every shard of every database is
//! locked in the global lock order (database, then shard; the order `lock_keys` and
//! SWAPDB use, so no command deadlocks against it), the live entries are copied (keys and
//! small strings inline, large values as clones), and the locks are released before any
//! encoding or I/O. Then the copy is written as an RDB file: a temporary file in `dir`,
//! fsynced, renamed over `dbfilename`, so a failed save leaves the previous dump intact.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

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
    /// How long the keyspace was locked.
    pub pause: Duration,
}

impl Snapshot {
    /// Copies every live key (those past their deadline are left out).
    pub fn take(keyspace: &Keyspace) -> Snapshot {
        Snapshot::take_with(keyspace, || ()).0
    }

    /// [`Snapshot::take`], also running `at_snapshot` while every shard is locked: what
    /// it reads (the replication offset) belongs to exactly this moment of the keyspace.
    pub fn take_with<T>(keyspace: &Keyspace, at_snapshot: impl FnOnce() -> T) -> (Snapshot, T) {
        let started = Instant::now();
        let guards: Vec<Vec<MutexGuard<'_, Shard>>> = keyspace
            .dbs()
            .iter()
            .map(|db| db.shards().iter().map(lock).collect())
            .collect();
        let seen = at_snapshot();
        let now = crate::db::now_ms();
        let mut dbs = Vec::new();
        for (index, shards) in guards.iter().enumerate() {
            let len: usize = shards.iter().map(|s| s.len()).sum();
            if len == 0 {
                continue;
            }
            let mut keys = Vec::with_capacity(len);
            let mut volatile = 0;
            for shard in shards {
                for (pos, entry) in shard.entries().iter().enumerate() {
                    let expires = shard.expires_at(pos);
                    if expires.is_some_and(|at| at <= now) {
                        continue;
                    }
                    volatile += usize::from(expires.is_some());
                    keys.push((entry.key.clone(), entry.value.clone(), expires));
                }
            }
            dbs.push(DbSnapshot {
                index,
                keys,
                volatile,
            });
        }
        drop(guards);
        let snapshot = Snapshot {
            dbs,
            taken_ms: now,
            pause: started.elapsed(),
        };
        (snapshot, seen)
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
