//! What a key holds. Commands match on the variant and answer WRONGTYPE otherwise.
//!
//! Strings (and keys) are [`Compact`]: up to 22 bytes live inline in the entry, so the
//! common small key or value costs no allocation of its own. Lists and sets are plain
//! std/hashbrown collections for now; hashes and sorted sets are packed while small (see
//! [`super::hash`], [`super::zset`]); streams live in [`super::stream`]. Collections are
//! boxed (or 16 bytes themselves) so that a [`Value`] stays 24 bytes.

use std::collections::VecDeque;
use std::ops::Deref;

use bytes::Bytes;

use super::hash::Hash;
use super::set::Set;
use super::stream::Stream;
use super::zset::ZSet;

/// Values at least this long keep the `Bytes` the parser gave them instead of being
/// copied: such a value makes up most of the read buffer it shares, so keeping it pins
/// little, and copying hundreds of megabytes would cost more than it saves.
const SHARE_FROM_LEN: usize = 64 * 1024;

/// The longest byte string a [`Compact`] holds inline.
const INLINE_LEN: usize = 22;

/// Bytes from a request, made fit to live in the keyspace: small ones are copied out of
/// the read buffer, so the keyspace never pins a whole buffer for a few bytes.
pub fn keep(data: &Bytes) -> Bytes {
    if data.len() >= SHARE_FROM_LEN {
        data.clone()
    } else {
        Bytes::copy_from_slice(data)
    }
}

/// A byte string in 24 bytes: inline when short, else one exact-size heap block, or a
/// shared `Bytes` (big values from a request, and strings that keep spare capacity for
/// APPEND/SETRANGE to grow into).
#[derive(Clone)]
pub enum Compact {
    Inline { len: u8, data: [u8; INLINE_LEN] },
    Boxed(Box<[u8]>),
    Shared(Box<Bytes>),
}

impl Compact {
    /// A copy of `data` (short: inline; else one exact-size block).
    pub fn copy(data: &[u8]) -> Compact {
        if data.len() <= INLINE_LEN {
            let mut inline = [0u8; INLINE_LEN];
            inline[..data.len()].copy_from_slice(data);
            Compact::Inline {
                len: data.len() as u8,
                data: inline,
            }
        } else {
            Compact::Boxed(data.into())
        }
    }

    /// A request's bytes made fit to live in the keyspace (see [`keep`]).
    pub fn keep(data: &Bytes) -> Compact {
        if data.len() >= SHARE_FROM_LEN {
            Compact::Shared(Box::new(data.clone()))
        } else {
            Compact::copy(data)
        }
    }

    /// The contents as `Bytes`, to use outside the shard lock: a copy, except for a
    /// shared value, which is a cheap clone.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Compact::Shared(bytes) => Bytes::clone(bytes),
            other => Bytes::copy_from_slice(other),
        }
    }

    /// Takes the contents out as a `Vec` (no copy for a heap block or an unshared
    /// `Bytes`), leaving the empty string.
    pub fn take_vec(&mut self) -> Vec<u8> {
        match std::mem::take(self) {
            Compact::Boxed(data) => data.into_vec(),
            Compact::Shared(bytes) => Vec::from(*bytes),
            inline => inline.to_vec(),
        }
    }
}

impl Default for Compact {
    fn default() -> Compact {
        Compact::copy(b"")
    }
}

impl Deref for Compact {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Compact::Inline { len, data } => &data[..*len as usize],
            Compact::Boxed(data) => data,
            Compact::Shared(bytes) => bytes,
        }
    }
}

impl From<Vec<u8>> for Compact {
    /// Short: inline. Exact size: the block itself. With spare capacity (a string being
    /// grown by APPEND or SETRANGE): kept with it, so repeated appends stay amortized.
    fn from(data: Vec<u8>) -> Compact {
        if data.len() <= INLINE_LEN {
            Compact::copy(&data)
        } else if data.len() == data.capacity() {
            Compact::Boxed(data.into_boxed_slice())
        } else {
            Compact::Shared(Box::new(Bytes::from(data)))
        }
    }
}

impl From<Bytes> for Compact {
    fn from(data: Bytes) -> Compact {
        Compact::keep(&data)
    }
}

impl PartialEq for Compact {
    fn eq(&self, other: &Compact) -> bool {
        **self == **other
    }
}

impl Eq for Compact {}

// Hashed and ordered as its bytes, so maps keyed by Compact can be probed with a &[u8].
impl std::hash::Hash for Compact {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl std::borrow::Borrow<[u8]> for Compact {
    fn borrow(&self) -> &[u8] {
        self
    }
}

impl PartialOrd for Compact {
    fn partial_cmp(&self, other: &Compact) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Compact {
    fn cmp(&self, other: &Compact) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl std::fmt::Debug for Compact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Bytes::copy_from_slice(self).fmt(f)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Compact),
    List(Box<VecDeque<Bytes>>),
    Set(Box<Set>),
    /// Unboxed: a small hash is one block, its packed contents.
    Hash(Hash),
    ZSet(ZSet),
    Stream(Box<Stream>),
}

impl Value {
    /// A string value owned by the keyspace (see [`keep`]).
    pub fn string(data: &Bytes) -> Value {
        Value::Str(Compact::keep(data))
    }

    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Hash(_) => "hash",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_strings_do_not_share_the_read_buffer() {
        let buffer = Bytes::from(vec![b'x'; 4096]);
        for len in [10, 100] {
            let arg = buffer.slice(10..10 + len);
            let Value::Str(stored) = Value::string(&arg) else {
                unreachable!()
            };
            assert_eq!(*stored, *arg);
            assert!(!std::ptr::eq(stored.as_ptr(), arg.as_ptr()));
        }
    }

    #[test]
    fn large_strings_keep_their_bytes() {
        let arg = Bytes::from(vec![b'x'; SHARE_FROM_LEN]);
        let Value::Str(stored) = Value::string(&arg) else {
            unreachable!()
        };
        assert!(std::ptr::eq(stored.as_ptr(), arg.as_ptr()));
    }

    #[test]
    fn values_and_compact_strings_stay_small() {
        assert_eq!(std::mem::size_of::<Compact>(), 24);
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn compact_strings_round_trip_at_every_representation() {
        for len in [0, 1, INLINE_LEN, INLINE_LEN + 1, 1000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut compact = Compact::copy(&data);
            assert_eq!(*compact, data[..]);
            assert_eq!(compact.to_bytes(), data);
            assert_eq!(compact.take_vec(), data);
            assert!(compact.is_empty());
            // Grown with spare capacity and back.
            let mut grown = data.clone();
            grown.reserve(64);
            grown.push(7);
            let mut compact = Compact::from(grown.clone());
            assert_eq!(*compact, grown[..]);
            assert_eq!(compact.take_vec(), grown);
        }
    }
}
