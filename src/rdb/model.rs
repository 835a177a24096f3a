//! The items the decoder produces, independent of how the keyspace stores values: owned
//! ([`Item`]), or with the key and the common values borrowed from the decoder's buffer
//! ([`ItemRef`], for a loader that copies them once into its own form).
//!
//! ```text
//! Item::Aux / SelectDb / ResizeDb / SlotInfo / FunctionSkipped   (file metadata)
//! Item::Key { db, key, value, expire_ms, idle, freq }            (one per key, in order)
//! RdbValue: String | List | Set | Hash | ZSet | Stream           (integers as decimal text)
//! ItemRef::Meta(Item) | ItemRef::Key(KeyRef { .., value: ValueRef })
//! ValueRef: String | Hash (listpack) | ZSet (listpack) | Owned(RdbValue)
//! ```

use std::borrow::Cow;

use super::listpack::Entry;

/// Field/value pairs (a hash's contents).
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// One thing read from an RDB file, in file order.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// An AUX field (`redis-ver`, `ctime`, `repl-id`, ...), value in any string encoding.
    Aux { key: Vec<u8>, value: Vec<u8> },
    /// The keys that follow belong to this database.
    SelectDb(u64),
    /// Size hints for the current database.
    ResizeDb { db_size: u64, expires_size: u64 },
    /// Cluster slot size hints (Redis 7.4+).
    SlotInfo {
        slot: u64,
        size: u64,
        expires_size: u64,
    },
    /// A function library (FUNCTION2): not loaded, reported so the caller can log it.
    FunctionSkipped { code: Vec<u8> },
    /// A key with its value. Keys whose expiry has passed are reported all the same.
    Key {
        db: u64,
        key: Vec<u8>,
        value: RdbValue,
        /// Absolute Unix time in milliseconds.
        expire_ms: Option<i64>,
        /// LRU idle time in seconds.
        idle: Option<u64>,
        /// LFU logarithmic counter.
        freq: Option<u8>,
    },
}

/// A value, with every encoding resolved (integer-encoded strings become decimal text).
#[derive(Clone, Debug, PartialEq)]
pub enum RdbValue {
    String(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Pairs),
    ZSet(Vec<(Vec<u8>, f64)>),
    Stream(Box<Stream>),
}

/// An item as the borrowing path hands it out: metadata as [`Item`] (never `Item::Key`),
/// keys as [`KeyRef`].
#[derive(Debug)]
pub enum ItemRef<'a> {
    Meta(Item),
    Key(KeyRef<'a>),
}

/// `Item::Key` with the key and value borrowed.
#[derive(Debug)]
pub struct KeyRef<'a> {
    pub db: u64,
    pub key: &'a [u8],
    pub value: ValueRef<'a>,
    pub expire_ms: Option<i64>,
    pub idle: Option<u64>,
    pub freq: Option<u8>,
}

/// A value, borrowed where the file's encoding allows (strings; hashes and sorted sets in
/// a listpack), owned otherwise. Validated as [`RdbValue`] is: same contents either way.
#[derive(Debug)]
pub enum ValueRef<'a> {
    String(Cow<'a, [u8]>),
    /// Fields and values alternating (an even number of entries).
    Hash(&'a [Entry<'a>]),
    /// Members with their scores (never NaN).
    ZSet(&'a [(&'a [u8], f64)]),
    Owned(RdbValue),
}

impl ValueRef<'_> {
    pub fn into_owned(self) -> RdbValue {
        match self {
            ValueRef::String(s) => RdbValue::String(s.into_owned()),
            ValueRef::Hash(items) => RdbValue::Hash(
                items
                    .chunks_exact(2)
                    .map(|p| (p[0].to_vec(), p[1].to_vec()))
                    .collect(),
            ),
            ValueRef::ZSet(pairs) => {
                RdbValue::ZSet(pairs.iter().map(|&(m, s)| (m.to_vec(), s)).collect())
            }
            ValueRef::Owned(value) => value,
        }
    }
}

impl ItemRef<'_> {
    pub fn into_owned(self) -> Item {
        match self {
            ItemRef::Meta(item) => item,
            ItemRef::Key(k) => Item::Key {
                db: k.db,
                key: k.key.to_vec(),
                value: k.value.into_owned(),
                expire_ms: k.expire_ms,
                idle: k.idle,
                freq: k.freq,
            },
        }
    }
}

/// A stream entry ID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    /// From the 16-byte big-endian form keys and PELs use on disk.
    pub fn from_be_bytes(raw: &[u8; 16]) -> StreamId {
        let (ms, seq) = raw.split_at(8);
        StreamId {
            ms: u64::from_be_bytes(ms.try_into().expect("8 bytes")),
            seq: u64::from_be_bytes(seq.try_into().expect("8 bytes")),
        }
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One live (not deleted) stream entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamEntry {
    pub id: StreamId,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A stream as RDB 7.0+ stores it. For older files (type 15) the fields RDB did not store
/// yet are filled as Redis fills them on load: `first_id` is the first entry's ID (0-0 when
/// empty), `max_deleted_id` 0-0, `entries_added` the length; consumer groups get
/// `entries_read: None` and consumers `active_time_ms` = `seen_time_ms`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stream {
    pub entries: Vec<StreamEntry>,
    /// The number of live entries as stored.
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: Vec<ConsumerGroup>,
}

/// A consumer group with its pending entries list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerGroup {
    pub name: Vec<u8>,
    pub last_id: StreamId,
    /// None when unknown (stored as -1, or not stored before RDB 10).
    pub entries_read: Option<u64>,
    pub pending: Vec<PendingEntry>,
    pub consumers: Vec<Consumer>,
}

/// An entry of a group's PEL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEntry {
    pub id: StreamId,
    pub delivery_time_ms: i64,
    pub delivery_count: u64,
}

/// A consumer and the IDs it owns in the group's PEL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    pub name: Vec<u8>,
    pub seen_time_ms: i64,
    pub active_time_ms: i64,
    pub pending: Vec<StreamId>,
}
