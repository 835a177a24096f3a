//! The keyspace: 16 databases of sharded tables, values, expiry and key patterns.

pub mod blocking;
pub mod cow;
pub mod digest;
pub mod expire;
pub mod glob;
pub mod hash;
pub mod keyspace;
pub mod packed;
pub mod scan;
pub mod sha1;
pub mod shard;
pub mod stream;
pub mod value;
pub mod zset;

pub use keyspace::{Db, ExpiryListener, KeyGuard, Keyspace};
pub use shard::{Entry, Removed, Shard};
pub use value::{Compact, Value};

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch: the clock of every deadline in the keyspace.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
