//! Loads a decoded RDB stream into the keyspace, key by key as the decoder yields them
//! (nothing is buffered): the start-up load of `<dir>/<dbfilename>` here, and the
//! snapshot a replica receives on its socket later.
//!
//! Values get the encoding Redis 7.0 would give the same contents (packed or table, by
//! the `*-max-listpack-*` limits). What Redis' loader refuses is refused too: a database
//! index past `databases`, a key twice, a member twice in one collection. Empty
//! collections are skipped with a log line, as Redis 7.0 does.

use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

use bytes::Bytes;

use super::model::{Item, RdbValue};
use super::{load, RdbError, Summary};
use crate::config::Config;
use crate::db::hash::{Hash, Limits};
use crate::db::stream::Stream;
use crate::db::zset::ZSet;
use crate::db::{Compact, Keyspace, Value};

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
        let limits = |kind: &str| {
            Limits::new(
                config.get_int(&format!("{kind}-max-listpack-entries")),
                config.get_int(&format!("{kind}-max-listpack-value")),
            )
        };
        Options {
            now_ms,
            drop_expired: true,
            hash: limits("hash"),
            zset: limits("zset"),
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
    let (mut loaded, mut expired, mut empty) = (0u64, 0u64, 0u64);
    let summary = load(reader, |item| -> Result<(), String> {
        match item {
            Item::Aux { key, value } => log_aux(&key, &value, options.now_ms),
            Item::SelectDb(db) if db >= keyspace.databases() as u64 => {
                return Err(format!(
                    "the file uses database {db}, this server has {} (databases)",
                    keyspace.databases()
                ))
            }
            Item::FunctionSkipped { .. } => {
                crate::warning!("Skipping a function library: functions are not supported")
            }
            Item::Key {
                db,
                key,
                value,
                expire_ms,
                idle,
                freq: _,
            } => {
                let value = to_value(value, options)?;
                let Some(value) = value else {
                    if empty < 10 {
                        crate::notice!(
                            "rdbLoadObject skipping empty key: {}",
                            String::from_utf8_lossy(&key)
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
                let mut guard = keyspace.lock(db, &key);
                if guard.find_live_untouched(i64::MIN).is_some() {
                    return Err(format!(
                        "duplicated key '{}' in DB {db}",
                        String::from_utf8_lossy(&key)
                    ));
                }
                let pos = guard.set(value, false, options.now_ms);
                guard.set_expiry(pos, expire_ms);
                if let Some(idle) = idle {
                    let idle_ms = i64::try_from(idle.saturating_mul(1000)).unwrap_or(i64::MAX);
                    guard
                        .entry_mut(pos)
                        .touch(options.now_ms.saturating_sub(idle_ms));
                }
                loaded += 1;
            }
            Item::SelectDb(_) | Item::ResizeDb { .. } | Item::SlotInfo { .. } => {}
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

/// The keyspace form of a decoded value; None for an empty collection.
fn to_value(value: RdbValue, options: &Options) -> Result<Option<Value>, String> {
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
            let n = members.len();
            let set: hashbrown::HashSet<Bytes> = members.into_iter().map(Bytes::from).collect();
            if set.len() != n {
                return Err("duplicate set members detected".into());
            }
            Value::Set(Box::new(set))
        }
        RdbValue::Hash(pairs) if pairs.is_empty() => return Ok(None),
        RdbValue::Hash(pairs) => {
            let pairs = pairs.iter().map(|(f, v)| (&f[..], &v[..]));
            let hash =
                Hash::from_pairs(pairs, options.hash).ok_or("duplicate hash fields detected")?;
            Value::Hash(Box::new(hash))
        }
        RdbValue::ZSet(pairs) if pairs.is_empty() => return Ok(None),
        RdbValue::ZSet(pairs) => {
            let pairs = pairs.iter().map(|(m, s)| (&m[..], *s));
            let zset =
                ZSet::from_pairs(pairs, options.zset).ok_or("duplicate zset fields detected")?;
            Value::ZSet(Box::new(zset))
        }
        RdbValue::Stream(stream) => Value::Stream(Box::new(Stream::try_from(*stream)?)),
    }))
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
