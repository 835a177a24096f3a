//! RDB files: the format primitives and a streaming decoder that turns a dump into
//! layout-neutral [`Item`]s (the keyspace decides how to store them): owned, or borrowed
//! from the decoder's buffer for a loader that copies them once ([`load::load_borrowed`]).
//!
//! - [`crc64`]: Redis' CRC-64 (file and DUMP checksums)
//! - [`lzf`]: LZF compression of long strings
//! - [`ziplist`], [`listpack`], [`intset`], [`zipmap`]: the packed encodings inside values
//! - [`source`]: the byte reader that counts offsets and checksums, and the length and
//!   string encodings
//! - [`model`]: what the decoder hands out ([`Item`], [`RdbValue`], [`Stream`], and the
//!   borrowed [`model::ItemRef`])
//! - [`stream`]: stream values (types 15, 19, 21)
//! - [`load`]: the opcode loop and the value types
//! - [`save`]: the writer (RDB 10, Redis 7.0's encodings)
//! - [`dump`]: DUMP / RESTORE payloads
//! - [`into_keyspace`]: decoded items into the keyspace (start-up load, replica sync)
//!
//! ```text
//! "REDIS" <4 ASCII digits: version 0001..=0012>
//! ( AUX 0xFA <string key> <string value>
//! | SELECTDB 0xFE <len db> | RESIZEDB 0xFB <len size> <len expires>
//! | SLOT_INFO 0xF4 <len slot> <len size> <len expires size>
//! | EXPIRETIME_MS 0xFC <i64 LE ms> | EXPIRETIME 0xFD <i32 LE s>
//! | IDLE 0xF8 <len s> | FREQ 0xF9 <u8>
//! | FUNCTION2 0xF5 <string code> | FUNCTION_PRE_GA 0xF6 (refused)
//! | MODULE_AUX 0xF7 <len module id> ... (refused)
//! | <type u8> <string key> <value of that type> )*
//! EOF 0xFF <u64 LE CRC-64 of all bytes before it; version >= 5 only, 0 = not computed>
//! ```

pub mod crc64;
pub mod dump;
pub mod into_keyspace;
pub mod intset;
pub mod listpack;
pub mod load;
pub mod lzf;
pub mod model;
pub mod save;
pub mod source;
pub mod stream;
pub mod ziplist;
pub mod zipmap;

pub use into_keyspace::into_keyspace;
pub use load::{load, load_exact, Checksum, Summary};
pub use model::{
    Consumer, ConsumerGroup, Item, Pairs, PendingEntry, RdbValue, Stream, StreamEntry, StreamId,
};

/// The newest RDB version this decoder reads (Redis 7.4).
pub const RDB_VERSION_MAX: u32 = 12;

/// A decoding failure: where in the file (bytes from its start) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbError {
    pub offset: u64,
    pub reason: String,
}

impl RdbError {
    pub fn new(offset: u64, reason: impl Into<String>) -> RdbError {
        RdbError {
            offset,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RDB error at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for RdbError {}

/// An unsigned little-endian integer of up to 8 bytes (headers of the packed encodings).
pub(crate) fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}
