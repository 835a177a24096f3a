//! The decoder: reads the header, then opcodes and keys one at a time, handing each
//! [`Item`] to the caller's sink as soon as it is complete (memory stays bounded by the
//! largest single value), and checks the CRC-64 at the end.
//!
//! ```text
//! value types (the byte before a key):
//!   0 string            1 list (linked)      2 set               3 zset (ASCII scores)
//!   4 hash              5 zset (binary scores)                   6/7 module (refused)
//!   9 hash zipmap      10 list ziplist      11 set intset       12 zset ziplist
//!  13 hash ziplist     14 list quicklist (ziplist nodes)        15 stream (5.0)
//!  16 hash listpack    17 zset listpack     18 list quicklist 2 (<len container: 1 plain,
//!                                              2 packed> <string node>)*
//!  19 stream (7.0)     20 set listpack      21 stream (7.2)
//!  22..=25 hash with field expiry (7.4, refused)
//! ```

use std::io::Read;

use super::model::{Item, ItemRef, KeyRef, Pairs, RdbValue, ValueRef};
use super::source::{parse_double, Source, BUFFER, PREALLOC_CAP};
use super::{intset, listpack, stream, ziplist, zipmap, RdbError, RDB_VERSION_MAX};

pub const OPCODE_SLOT_INFO: u8 = 244;
pub const OPCODE_FUNCTION2: u8 = 245;
pub const OPCODE_FUNCTION_PRE_GA: u8 = 246;
pub const OPCODE_MODULE_AUX: u8 = 247;
pub const OPCODE_IDLE: u8 = 248;
pub const OPCODE_FREQ: u8 = 249;
pub const OPCODE_AUX: u8 = 250;
pub const OPCODE_RESIZEDB: u8 = 251;
pub const OPCODE_EXPIRETIME_MS: u8 = 252;
pub const OPCODE_EXPIRETIME: u8 = 253;
pub const OPCODE_SELECTDB: u8 = 254;
pub const OPCODE_EOF: u8 = 255;

pub const TYPE_STRING: u8 = 0;
pub const TYPE_LIST: u8 = 1;
pub const TYPE_SET: u8 = 2;
pub const TYPE_ZSET: u8 = 3;
pub const TYPE_HASH: u8 = 4;
pub const TYPE_ZSET_2: u8 = 5;
pub const TYPE_MODULE_PRE_GA: u8 = 6;
pub const TYPE_MODULE_2: u8 = 7;
pub const TYPE_HASH_ZIPMAP: u8 = 9;
pub const TYPE_LIST_ZIPLIST: u8 = 10;
pub const TYPE_SET_INTSET: u8 = 11;
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
pub const TYPE_HASH_ZIPLIST: u8 = 13;
pub const TYPE_LIST_QUICKLIST: u8 = 14;
pub const TYPE_HASH_LISTPACK: u8 = 16;
pub const TYPE_ZSET_LISTPACK: u8 = 17;
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const TYPE_SET_LISTPACK: u8 = 20;
pub const TYPE_HASH_METADATA_PRE_GA: u8 = 22;
pub const TYPE_HASH_LISTPACK_EX: u8 = 25;

/// Quicklist 2 node containers.
const QUICKLIST_NODE_PLAIN: u64 = 1;
const QUICKLIST_NODE_PACKED: u64 = 2;

/// How the file's checksum turned out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    /// Stored and equal to the computed one.
    Verified(u64),
    /// Stored as 0: the writer had `rdbchecksum no`.
    NotComputed,
    /// Versions before 5 store none.
    Absent,
}

/// What a successful load saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    pub version: u32,
    pub keys: u64,
    pub checksum: Checksum,
    /// Bytes read, up to and including the checksum.
    pub bytes: u64,
}

/// Decodes the RDB file `reader` holds, calling `sink` with every item in file order.
/// A sink error stops the load; it is reported as an [`RdbError`] at the item's offset.
/// Bytes after the EOF opcode (and checksum) are not decoded.
pub fn load<R: Read, E: std::fmt::Display>(
    reader: R,
    mut sink: impl FnMut(Item) -> Result<(), E>,
) -> Result<Summary, RdbError> {
    load_borrowed(reader, |item| sink(item.into_owned()))
}

/// Like [`load`], but never reads `reader` past the checksum: a replica's link (which
/// buffers the socket itself) goes on with what follows the snapshot.
pub fn load_exact<R: Read, E: std::fmt::Display>(
    reader: R,
    mut sink: impl FnMut(Item) -> Result<(), E>,
) -> Result<Summary, RdbError> {
    decode(Source::exact(reader), |item| sink(item.into_owned()))
}

/// [`load`], handing out keys and the common values borrowed from the decoder's buffer
/// (valid for the call only): a loader copies them once, into its own form.
pub fn load_borrowed<R: Read, E: std::fmt::Display>(
    reader: R,
    sink: impl FnMut(ItemRef<'_>) -> Result<(), E>,
) -> Result<Summary, RdbError> {
    decode(Source::new(reader), sink)
}

/// The opcode loop over `src` (read-ahead or exact, see [`Source::exact`]).
pub fn decode<R: Read, E: std::fmt::Display>(
    mut src: Source<R>,
    mut sink: impl FnMut(ItemRef<'_>) -> Result<(), E>,
) -> Result<Summary, RdbError> {
    let magic = src.array::<9>()?;
    if &magic[..5] != b"REDIS" {
        return Err(RdbError::new(0, "not an RDB file (no REDIS signature)"));
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u32>().ok())
        .ok_or_else(|| RdbError::new(5, "bad version field"))?;
    if !(1..=RDB_VERSION_MAX).contains(&version) {
        return Err(RdbError::new(
            5,
            format!("unsupported RDB version {version} (this reads 1 to {RDB_VERSION_MAX})"),
        ));
    }
    let mut db = 0u64;
    let mut keys = 0u64;
    let (mut expire_ms, mut idle, mut freq) = (None, None, None);
    // The current key, copied out of the buffer the value is then read from; reused, and
    // kept no larger than the buffer between keys.
    let mut key = Vec::new();
    let rejected = |at: u64, e: E| RdbError::new(at, format!("rejected by the loader: {e}"));
    let emit = |sink: &mut dyn FnMut(ItemRef<'_>) -> Result<(), E>, item: Item, at: u64| {
        sink(ItemRef::Meta(item)).map_err(|e| rejected(at, e))
    };
    loop {
        let at = src.offset();
        let opcode = src.u8()?;
        match opcode {
            OPCODE_EXPIRETIME_MS => expire_ms = Some(i64::from_le_bytes(src.array()?)),
            OPCODE_EXPIRETIME => {
                expire_ms = Some(i64::from(i32::from_le_bytes(src.array()?)) * 1000)
            }
            OPCODE_IDLE => idle = Some(src.length()?),
            OPCODE_FREQ => freq = Some(src.u8()?),
            OPCODE_SELECTDB => {
                db = src.length()?;
                emit(&mut sink, Item::SelectDb(db), at)?;
            }
            OPCODE_RESIZEDB => {
                let db_size = src.length()?;
                let expires_size = src.length()?;
                emit(
                    &mut sink,
                    Item::ResizeDb {
                        db_size,
                        expires_size,
                    },
                    at,
                )?;
            }
            OPCODE_SLOT_INFO => {
                let slot = src.length()?;
                let size = src.length()?;
                let expires_size = src.length()?;
                emit(
                    &mut sink,
                    Item::SlotInfo {
                        slot,
                        size,
                        expires_size,
                    },
                    at,
                )?;
            }
            OPCODE_AUX => {
                let key = src.string()?;
                let value = src.string()?;
                emit(&mut sink, Item::Aux { key, value }, at)?;
            }
            OPCODE_FUNCTION2 => {
                let code = src.string()?;
                emit(&mut sink, Item::FunctionSkipped { code }, at)?;
            }
            OPCODE_FUNCTION_PRE_GA => {
                return Err(RdbError::new(
                    at,
                    "pre-release (7.0 RC) function format is not supported",
                ))
            }
            OPCODE_MODULE_AUX => {
                let id = src.length()?;
                return Err(RdbError::new(
                    at,
                    format!(
                        "module auxiliary data of module '{}' (id {id}) cannot be loaded: \
                         no modules",
                        module_name(id)
                    ),
                ));
            }
            OPCODE_EOF => {
                let checksum = if version >= 5 {
                    let computed = src.crc();
                    let at = src.offset();
                    let stored = u64::from_le_bytes(src.array()?);
                    if stored == 0 {
                        Checksum::NotComputed
                    } else if stored != computed {
                        return Err(RdbError::new(
                            at,
                            format!(
                                "wrong checksum: stored {stored:#018x}, computed {computed:#018x}"
                            ),
                        ));
                    } else {
                        Checksum::Verified(stored)
                    }
                } else {
                    Checksum::Absent
                };
                return Ok(Summary {
                    version,
                    keys,
                    checksum,
                    bytes: src.offset(),
                });
            }
            rdb_type => {
                if !matches!(rdb_type, 0..=7 | 9..=25) {
                    return Err(RdbError::new(at, format!("unknown value type {rdb_type}")));
                }
                key.clear();
                key.extend_from_slice(&src.string_ref()?);
                let (expire_ms, idle, freq) = (expire_ms.take(), idle.take(), freq.take());
                let sunk = read_value_with(&mut src, rdb_type, at, |value| {
                    sink(ItemRef::Key(KeyRef {
                        db,
                        key: &key,
                        value,
                        expire_ms,
                        idle,
                        freq,
                    }))
                })?;
                keys += 1;
                sunk.map_err(|e| rejected(at, e))?;
                if key.capacity() > BUFFER {
                    key = Vec::new();
                }
            }
        }
    }
}

/// One value as a DUMP payload holds it: the type byte, then the value, from the start of
/// `bytes` (bytes after the value are not looked at, as RESTORE ignores them).
pub fn read_typed_value(bytes: &[u8]) -> Result<RdbValue, RdbError> {
    let mut src = Source::with_buffer(bytes, bytes.len().min(BUFFER));
    let rdb_type = src.u8()?;
    read_value(&mut src, rdb_type, 0)
}

/// A module type ID's 9-character name (the top 54 bits, 6 per character).
pub fn module_name(id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = id >> 10;
    let mut name = [0u8; 9];
    for slot in name.iter_mut().rev() {
        *slot = CHARSET[(bits & 63) as usize];
        bits >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}

fn strings<R: Read>(src: &mut Source<R>, n: u64) -> Result<Vec<Vec<u8>>, RdbError> {
    let mut out = Vec::with_capacity((n as usize).min(PREALLOC_CAP));
    for _ in 0..n {
        out.push(src.string()?);
    }
    Ok(out)
}

fn even(len: usize, what: &str) -> Result<(), String> {
    if len % 2 != 0 {
        return Err(format!("{what}: odd number of entries ({len})"));
    }
    Ok(())
}

fn pairs(values: Vec<Vec<u8>>, what: &str) -> Result<Pairs, String> {
    even(values.len(), what)?;
    let mut out = Vec::with_capacity(values.len() / 2);
    let mut it = values.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Ok(out)
}

/// Members and scores, alternating in a ziplist or listpack, as pairs.
fn scored<'a, T: std::ops::Deref<Target = [u8]>>(
    items: &'a [T],
    what: &str,
) -> Result<Vec<(&'a [u8], f64)>, String> {
    even(items.len(), what)?;
    items
        .chunks_exact(2)
        .map(|p| match parse_double(&p[1]) {
            Some(s) if !s.is_nan() => Ok((&*p[0], s)),
            _ => Err(format!(
                "{what}: bad score {:?}",
                String::from_utf8_lossy(&p[1])
            )),
        })
        .collect()
}

/// A packed blob (ziplist, listpack, ...): a string in any encoding, decoded by `decode`.
fn blob<R: Read, T>(
    src: &mut Source<R>,
    decode: impl FnOnce(&[u8]) -> Result<T, String>,
) -> Result<T, RdbError> {
    let at = src.offset();
    let bytes = src.string()?;
    decode(&bytes).map_err(|e| RdbError::new(at, e))
}

fn read_value<R: Read>(src: &mut Source<R>, rdb_type: u8, at: u64) -> Result<RdbValue, RdbError> {
    read_value_with(src, rdb_type, at, |value| value.into_owned())
}

/// Reads a value of `rdb_type` and hands it to `take`: strings, and hashes and sorted sets
/// in a listpack borrowed (the listpack's entries are not copied), the rest owned.
fn read_value_with<R: Read, T>(
    src: &mut Source<R>,
    rdb_type: u8,
    at: u64,
    take: impl FnOnce(ValueRef<'_>) -> T,
) -> Result<T, RdbError> {
    let value_at = src.offset();
    let at_value = |e: String| RdbError::new(value_at, e);
    let owned = match rdb_type {
        TYPE_STRING => return Ok(take(ValueRef::String(src.string_ref()?))),
        TYPE_LIST => {
            let n = src.length()?;
            RdbValue::List(strings(src, n)?)
        }
        TYPE_SET => {
            let n = src.length()?;
            RdbValue::Set(strings(src, n)?)
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = src.length()?;
            let mut out = Vec::with_capacity((n as usize).min(PREALLOC_CAP));
            for _ in 0..n {
                let member = src.string()?;
                let score_at = src.offset();
                let score = if rdb_type == TYPE_ZSET {
                    src.ascii_double()?
                } else {
                    src.binary_double()?
                };
                if score.is_nan() {
                    return Err(RdbError::new(score_at, "zset score is NaN"));
                }
                out.push((member, score));
            }
            RdbValue::ZSet(out)
        }
        TYPE_HASH => {
            let n = src.length()?;
            let mut out = Vec::with_capacity((n as usize).min(PREALLOC_CAP));
            for _ in 0..n {
                let field = src.string()?;
                let value = src.string()?;
                out.push((field, value));
            }
            RdbValue::Hash(out)
        }
        TYPE_MODULE_PRE_GA => {
            let id = src.length()?;
            return Err(RdbError::new(
                at,
                format!(
                    "value of module type '{}' (id {id}, pre-GA format) cannot be loaded: \
                     no modules",
                    module_name(id)
                ),
            ));
        }
        TYPE_MODULE_2 => {
            let id = src.length()?;
            return Err(RdbError::new(
                at,
                format!(
                    "value of module type '{}' (id {id}) cannot be loaded: no modules",
                    module_name(id)
                ),
            ));
        }
        TYPE_HASH_ZIPMAP => RdbValue::Hash(blob(src, zipmap::pairs)?),
        TYPE_LIST_ZIPLIST => RdbValue::List(blob(src, ziplist::entries)?),
        TYPE_SET_INTSET => RdbValue::Set(blob(src, intset::members)?),
        TYPE_ZSET_ZIPLIST => {
            let items = blob(src, ziplist::entries)?;
            let pairs = scored(&items, "zset ziplist").map_err(at_value)?;
            return Ok(take(ValueRef::ZSet(&pairs)));
        }
        TYPE_HASH_ZIPLIST => RdbValue::Hash(
            blob(src, ziplist::entries).and_then(|v| pairs(v, "hash ziplist").map_err(at_value))?,
        ),
        TYPE_LIST_QUICKLIST => {
            let n = src.length()?;
            let mut out = Vec::new();
            for _ in 0..n {
                out.extend(blob(src, ziplist::entries)?);
            }
            RdbValue::List(out)
        }
        TYPE_HASH_LISTPACK => {
            let lp = src.string_ref()?;
            let items = listpack::parse(&lp).map_err(at_value)?;
            even(items.len(), "hash listpack").map_err(at_value)?;
            return Ok(take(ValueRef::Hash(&items)));
        }
        TYPE_ZSET_LISTPACK => {
            let lp = src.string_ref()?;
            let items = listpack::parse(&lp).map_err(at_value)?;
            let pairs = scored(&items, "zset listpack").map_err(at_value)?;
            return Ok(take(ValueRef::ZSet(&pairs)));
        }
        TYPE_LIST_QUICKLIST_2 => {
            let n = src.length()?;
            let mut out = Vec::new();
            for _ in 0..n {
                let container_at = src.offset();
                match src.length()? {
                    QUICKLIST_NODE_PLAIN => out.push(src.string()?),
                    QUICKLIST_NODE_PACKED => {
                        let node_at = src.offset();
                        let items = blob(src, listpack::entries)?;
                        if items.is_empty() {
                            return Err(RdbError::new(node_at, "empty quicklist node"));
                        }
                        out.extend(items);
                    }
                    other => {
                        return Err(RdbError::new(
                            container_at,
                            format!("unknown quicklist node container {other}"),
                        ))
                    }
                }
            }
            RdbValue::List(out)
        }
        TYPE_SET_LISTPACK => RdbValue::Set(blob(src, listpack::entries)?),
        stream::TYPE_STREAM_LISTPACKS
        | stream::TYPE_STREAM_LISTPACKS_2
        | stream::TYPE_STREAM_LISTPACKS_3 => {
            RdbValue::Stream(Box::new(stream::read(src, rdb_type)?))
        }
        TYPE_HASH_METADATA_PRE_GA..=TYPE_HASH_LISTPACK_EX => {
            return Err(RdbError::new(
                at,
                format!("hash with field expiration (Redis 7.4 type {rdb_type}) is not supported"),
            ))
        }
        other => return Err(RdbError::new(at, format!("unknown value type {other}"))),
    };
    Ok(take(ValueRef::Owned(owned)))
}
