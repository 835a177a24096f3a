//! What a key holds. Later data types (lists, sets, hashes, sorted sets, streams) become
//! further variants; commands match on the variant and answer WRONGTYPE otherwise.

use bytes::Bytes;

/// Values at least this long keep the `Bytes` the parser gave them instead of being
/// copied: such a value makes up most of the read buffer it shares, so keeping it pins
/// little, and copying hundreds of megabytes would cost more than it saves.
const SHARE_FROM_LEN: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(Bytes),
}

impl Value {
    /// A string value owned by the keyspace: small values are copied out of the read
    /// buffer, so the keyspace never pins a whole buffer for a few bytes.
    pub fn string(data: &Bytes) -> Value {
        if data.len() >= SHARE_FROM_LEN {
            Value::Str(data.clone())
        } else {
            Value::Str(Bytes::copy_from_slice(data))
        }
    }

    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
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
        let Value::Str(stored) = Value::string(&arg);
        assert_eq!(stored, arg);
        assert!(!std::ptr::eq(stored.as_ptr(), arg.as_ptr()));
    }

    #[test]
    fn large_strings_keep_their_bytes() {
        let arg = Bytes::from(vec![b'x'; SHARE_FROM_LEN]);
        let Value::Str(stored) = Value::string(&arg);
        assert!(std::ptr::eq(stored.as_ptr(), arg.as_ptr()));
    }
}
