//! Loads a decoded RDB stream into the keyspace, key by key as the decoder yields them
//! (nothing is buffered): the start-up load of `<dir>/<dbfilename>` here, and the
//! snapshot a replica receives on its socket later.
//!
//! Values get the encoding Redis 7.0 would give the same contents (packed or table, by
//! the `*-max-listpack-*` limits). What Redis' loader refuses is refused too: a database
//! index past `databases`, a key twice, a member twice in one collection. Empty
//! collections are skipped with a log line, as Redis 7.0 does.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

use bytes::Bytes;

use super::load::decode;
use super::model::{Item, ItemRef, KeyRef, RdbValue, ValueRef};
use super::source::Source;
use super::{RdbError, Summary};
use crate::config::Config;
use crate::db::hash::{Hash, Limits};
use crate::db::set::Set;
use crate::db::stream::Stream;
use crate::db::zset::ZSet;
use crate::db::{Compact, Keyspace, Value};

/// The most keys RESIZEDB hints reserve room for, over a whole load: about 65 MB of
/// table, the most lying hints can cost (past it, tables grow as keys arrive).
const RESERVE_CAP: usize = 1 << 20;

/// How keys are stored while loading.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The clock keys' deadlines and idle times are measured against.
    pub now_ms: i64,
    /// Drop keys whose deadline has passed (a master does; a replica keeps them and waits
    /// for its master's DEL).
    pub drop_expired: bool,
    pub hash: Limits,
    pub zset: Limits,
}

impl Options {
    /// What a master loading its own dump uses, with the encoding limits from `config`.
    pub fn for_master(config: &Config, now_ms: i64) -> Options {
        Options {
            now_ms,
            drop_expired: true,
            hash: Limits::from_config(config, "hash"),
            zset: Limits::from_config(config, "zset"),
        }
    }
}

impl Options {
    /// What a replica loading its master's snapshot uses: expired keys are kept until the
    /// master's DEL arrives.
    pub fn for_replica(config: &Config, now_ms: i64) -> Options {
        Options {
            drop_expired: false,
            ..Options::for_master(config, now_ms)
        }
    }
}

/// What a load put into the keyspace.
#[derive(Clone, Copy, Debug)]
pub struct Loaded {
    pub summary: Summary,
    pub keys_loaded: u64,
    pub keys_expired: u64,
    pub empty_keys_skipped: u64,
}

/// Reads an RDB stream from `reader` into `keyspace` (which the caller has emptied).
/// AUX fields Redis logs are logged as they arrive. On error the keyspace holds part of
/// the data: the caller must not serve it.
pub fn into_keyspace<R: Read>(
    reader: R,
    keyspace: &Keyspace,
    options: &Options,
) -> Result<Loaded, RdbError> {
    load_into(Source::new(reader), keyspace, options)
}

/// Like [`into_keyspace`], never reading `reader` past the snapshot's checksum (see
/// [`Source::exact`]): a replica's link goes on with the stream that follows.
pub fn into_keyspace_exact<R: Read>(
    reader: R,
    keyspace: &Keyspace,
    options: &Options,
) -> Result<Loaded, RdbError> {
    load_into(Source::exact(reader), keyspace, options)
}

fn load_into<R: Read>(
    source: Source<R>,
    keyspace: &Keyspace,
    options: &Options,
) -> Result<Loaded, RdbError> {
    let (mut loaded, mut expired, mut empty) = (0u64, 0u64, 0u64);
    let mut current_db = 0usize;
    let mut reserve_left = RESERVE_CAP;
    let summary = decode(source, |item| -> Result<(), String> {
        match item {
            ItemRef::Meta(Item::Aux { key, value }) => log_aux(&key, &value, options.now_ms),
            ItemRef::Meta(Item::SelectDb(db)) if db >= keyspace.databases() as u64 => {
                return Err(format!(
                    "the file uses database {db}, this server has {} (databases)",
                    keyspace.databases()
                ))
            }
            ItemRef::Meta(Item::SelectDb(db)) => current_db = db as usize,
            ItemRef::Meta(Item::ResizeDb { db_size, .. }) => {
                // A hint from the file: trusted up to RESERVE_CAP in all (were it true,
                // the keys themselves would take far more than their table).
                let keys = usize::try_from(db_size).map_or(reserve_left, |n| n.min(reserve_left));
                keyspace.db(current_db).reserve(keys);
                reserve_left -= keys;
            }
            ItemRef::Meta(Item::FunctionSkipped { .. }) => {
                crate::warning!("Skipping a function library: functions are not supported")
            }
            ItemRef::Key(KeyRef {
                db,
                key,
                value,
                expire_ms,
                idle,
                freq: _,
            }) => {
                let value = borrowed_to_value(value, options)?;
                let Some(value) = value else {
                    if empty < 10 {
                        crate::notice!(
                            "rdbLoadObject skipping empty key: {}",
                            String::from_utf8_lossy(key)
                        );
                    }
                    empty += 1;
                    return Ok(());
                };
                if options.drop_expired && expire_ms.is_some_and(|at| at < options.now_ms) {
                    expired += 1;
                    return Ok(());
                }
                let db = usize::try_from(db).map_err(|_| "database index out of range")?;
                let mut guard = keyspace.lock(db, key);
                // One probe: i64::MIN finds the key whatever its deadline.
                if guard.find_live_untouched(i64::MIN).is_some() {
                    return Err(format!(
                        "duplicated key '{}' in DB {db}",
                        String::from_utf8_lossy(key)
                    ));
                }
                let pos = guard.set_found(None, value, false, options.now_ms);
                if expire_ms.is_some() {
                    guard.set_expiry(pos, expire_ms);
                }
                if let Some(idle) = idle {
                    let idle_ms = i64::try_from(idle.saturating_mul(1000)).unwrap_or(i64::MAX);
                    guard
                        .entry_mut(pos)
                        .touch(options.now_ms.saturating_sub(idle_ms));
                }
                loaded += 1;
            }
            ItemRef::Meta(_) => {}
        }
        Ok(())
    })?;
    Ok(Loaded {
        summary,
        keys_loaded: loaded,
        keys_expired: expired,
        empty_keys_skipped: empty,
    })
}

/// The keyspace form of a decoded value (a file's, or a RESTORE payload's); None for an
/// empty collection.
pub fn to_value(value: RdbValue, options: &Options) -> Result<Option<Value>, String> {
    Ok(Some(match value {
        RdbValue::String(mut data) => {
            data.shrink_to_fit();
            Value::Str(Compact::from(data))
        }
        RdbValue::List(items) if items.is_empty() => return Ok(None),
        RdbValue::List(items) => Value::List(Box::new(
            items.into_iter().map(Bytes::from).collect::<VecDeque<_>>(),
        )),
        RdbValue::Set(members) if members.is_empty() => return Ok(None),
        RdbValue::Set(members) => {
            let set = Set::loaded(members.into_iter().map(Bytes::from))
                .ok_or("duplicate set members detected")?;
            Value::Set(Box::new(set))
        }
        RdbValue::Hash(pairs) if pairs.is_empty() => return Ok(None),
        RdbValue::Hash(pairs) => hash(pairs.iter().map(|(f, v)| (&f[..], &v[..])), options)?,
        RdbValue::ZSet(pairs) if pairs.is_empty() => return Ok(None),
        RdbValue::ZSet(pairs) => zset(pairs.iter().map(|(m, s)| (&m[..], *s)), options)?,
        RdbValue::Stream(stream) => Value::Stream(Box::new(Stream::try_from(*stream)?)),
    }))
}

/// [`to_value`] of a borrowed value: its bytes copied once, straight into the keyspace form.
fn borrowed_to_value(value: ValueRef<'_>, options: &Options) -> Result<Option<Value>, String> {
    Ok(Some(match value {
        ValueRef::String(Cow::Borrowed(data)) => Value::Str(Compact::copy(data)),
        ValueRef::Hash([]) | ValueRef::ZSet([]) => return Ok(None),
        ValueRef::Hash(items) => hash(
            items.chunks_exact(2).map(|p| (&p[0][..], &p[1][..])),
            options,
        )?,
        ValueRef::ZSet(pairs) => zset(pairs.iter().copied(), options)?,
        owned => return to_value(owned.into_owned(), options),
    }))
}

fn hash<'a>(
    pairs: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])> + Clone,
    options: &Options,
) -> Result<Value, String> {
    let hash = Hash::from_pairs(pairs, options.hash).ok_or("duplicate hash fields detected")?;
    Ok(Value::Hash(hash))
}

fn zset<'a>(
    pairs: impl ExactSizeIterator<Item = (&'a [u8], f64)> + Clone,
    options: &Options,
) -> Result<Value, String> {
    let zset = ZSet::from_pairs(pairs, options.zset).ok_or("duplicate zset fields detected")?;
    Ok(Value::ZSet(zset))
}

/// The AUX fields Redis 7.0 logs while loading, worded as it words them.
fn log_aux(key: &[u8], value: &[u8], now_ms: i64) {
    let text = String::from_utf8_lossy(value);
    match key {
        b"redis-ver" => crate::notice!("Loading RDB produced by version {text}"),
        b"ctime" => {
            let age = text
                .parse::<i64>()
                .map_or(0, |ctime| (now_ms / 1000 - ctime).max(0));
            crate::notice!("RDB age {age} seconds");
        }
        b"used-mem" => {
            let bytes = text.parse::<f64>().unwrap_or(0.0);
            crate::notice!(
                "RDB memory usage when created {:.2} Mb",
                bytes / 1024.0 / 1024.0
            );
        }
        _ => {}
    }
}

/// The start-up load: reads `<dir>/<dbfilename>` (the process already lives in `dir`) if
/// it exists, logging as Redis does. Any error is the reason start-up fails.
pub fn load_at_startup(keyspace: &Keyspace, config: &Config) -> Result<(), String> {
    let path = config.get("dbfilename");
    let file = match std::fs::File::open(Path::new(&path)) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            crate::warning!("Fatal error loading the DB: {e}. Exiting.");
            return Err(format!("cannot open {path}: {e}"));
        }
    };
    let started = Instant::now();
    let options = Options::for_master(config, crate::db::now_ms());
    match into_keyspace(file, keyspace, &options) {
        Ok(loaded) => {
            let skipped = match loaded.empty_keys_skipped {
                0 => String::new(),
                n => format!(", empty keys skipped: {n}"),
            };
            crate::notice!(
                "Done loading RDB, keys loaded: {}, keys expired: {}{skipped}.",
                loaded.keys_loaded,
                loaded.keys_expired
            );
            crate::notice!(
                "DB loaded from disk: {:.3} seconds",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Err(e) => {
            crate::warning!(
                "Corrupt or truncated RDB file {path}: {} at byte offset {}. Unrecoverable \
                 error, aborting now.",
                e.reason,
                e.offset
            );
            Err(format!("{path}: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: Options = Options {
        now_ms: 1_000,
        drop_expired: true,
        hash: Limits {
            entries: 128,
            value: 64,
        },
        zset: Limits {
            entries: 128,
            value: 64,
        },
    };

    /// An RDB 10 file of `body` (opcodes and keys), with a "not computed" checksum.
    fn file(body: &[u8]) -> Vec<u8> {
        let mut file = b"REDIS0010".to_vec();
        file.extend_from_slice(body);
        file.push(0xff);
        file.extend_from_slice(&[0; 8]);
        file
    }

    fn load(body: &[u8], options: &Options) -> (Keyspace, Result<Loaded, RdbError>) {
        let keyspace = Keyspace::new(2);
        let result = into_keyspace(file(body).as_slice(), &keyspace, options);
        (keyspace, result)
    }

    /// EXPIRETIME_MS `at`, then string key `k` = "v".
    fn expiring(key: u8, at: i64) -> Vec<u8> {
        let mut body = vec![0xfc];
        body.extend_from_slice(&at.to_le_bytes());
        body.extend_from_slice(&[0, 1, key, 1, b'v']);
        body
    }

    #[test]
    fn expired_keys_are_dropped_by_a_master_and_kept_otherwise() {
        let body = [expiring(b'a', 999), expiring(b'b', 1_000)].concat();
        let (keyspace, loaded) = load(&body, &OPTIONS);
        let loaded = loaded.unwrap();
        assert_eq!((loaded.keys_loaded, loaded.keys_expired), (1, 1));
        assert_eq!(keyspace.lock(0, b"b").expires_at(0), Some(1_000));
        let keep = Options {
            drop_expired: false,
            ..OPTIONS
        };
        let (keyspace, loaded) = load(&body, &keep);
        assert_eq!(loaded.unwrap().keys_loaded, 2);
        assert_eq!(keyspace.db(0).len(), 2);
    }

    #[test]
    fn a_key_twice_or_a_field_twice_is_refused_at_its_offset() {
        let (_, twice) = load(&[0, 1, b'k', 1, b'v', 0, 1, b'k', 1, b'w'], &OPTIONS);
        let error = twice.unwrap_err();
        assert_eq!(error.offset, 14, "{error}");
        assert!(
            error.reason.contains("duplicated key 'k' in DB 0"),
            "{error}"
        );
        // A plain hash (type 4) of two pairs with the same field.
        let (_, field) = load(
            &[4, 1, b'h', 2, 1, b'f', 1, b'v', 1, b'f', 1, b'w'],
            &OPTIONS,
        );
        assert!(field.unwrap_err().reason.contains("duplicate hash fields"));
    }

    #[test]
    fn resizedb_hints_reserve_room_up_to_a_cap_for_the_whole_load() {
        // RESIZEDB claiming 2^64-1 keys, in both databases.
        let mut body = Vec::new();
        for db in 0..2 {
            body.extend_from_slice(&[0xfe, db, 0xfb, 0x81]);
            body.extend_from_slice(&[0xff; 8]);
            body.push(0);
        }
        let before = crate::alloc::used_memory();
        let (keyspace, loaded) = load(&body, &OPTIONS);
        loaded.unwrap();
        let reserved = crate::alloc::used_memory().saturating_sub(before);
        // Entries (56 bytes) and index slots for RESERVE_CAP keys: once, not per database.
        assert!(
            (RESERVE_CAP * 50..RESERVE_CAP * 100).contains(&reserved),
            "{reserved} bytes reserved"
        );
        drop(keyspace);
    }

    #[test]
    fn empty_collections_are_skipped_and_databases_checked() {
        // A plain list of no elements.
        let (keyspace, loaded) = load(&[1, 1, b'l', 0], &OPTIONS);
        assert_eq!(loaded.unwrap().empty_keys_skipped, 1);
        assert_eq!(keyspace.db(0).len(), 0);
        let (_, far) = load(&[0xfe, 2, 0, 1, b'k', 1, b'v'], &OPTIONS);
        let error = far.unwrap_err();
        assert_eq!(error.offset, 9);
        assert!(error.reason.contains("database 2"), "{error}");
    }
}
