//! What a key holds. Commands match on the variant and answer WRONGTYPE otherwise.
//!
//! Lists and sets are plain std/hashbrown collections for now, enough for their first
//! commands; the compact encodings come with the performance and RDB work.

use std::collections::VecDeque;

use bytes::Bytes;

/// Values at least this long keep the `Bytes` the parser gave them instead of being
/// copied: such a value makes up most of the read buffer it shares, so keeping it pins
/// little, and copying hundreds of megabytes would cost more than it saves.
const SHARE_FROM_LEN: usize = 64 * 1024;

/// Bytes from a request, made fit to live in the keyspace: small ones are copied out of
/// the read buffer, so the keyspace never pins a whole buffer for a few bytes.
pub fn keep(data: &Bytes) -> Bytes {
    if data.len() >= SHARE_FROM_LEN {
        data.clone()
    } else {
        Bytes::copy_from_slice(data)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(Bytes),
    List(VecDeque<Bytes>),
    Set(hashbrown::HashSet<Bytes>),
}

impl Value {
    /// A string value owned by the keyspace (see [`keep`]).
    pub fn string(data: &Bytes) -> Value {
        Value::Str(keep(data))
    }

    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_strings_do_not_share_the_read_buffer() {
        let buffer = Bytes::from(vec![b'x'; 4096]);
        let arg = buffer.slice(10..20);
        let Value::Str(stored) = Value::string(&arg) else {
            unreachable!()
        };
        assert_eq!(stored, arg);
        assert!(!std::ptr::eq(stored.as_ptr(), arg.as_ptr()));
    }

    #[test]
    fn large_strings_keep_their_bytes() {
        let arg = Bytes::from(vec![b'x'; SHARE_FROM_LEN]);
        let Value::Str(stored) = Value::string(&arg) else {
            unreachable!()
        };
        assert!(std::ptr::eq(stored.as_ptr(), arg.as_ptr()));
    }
}
