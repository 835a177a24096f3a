//! The keyspace: 16 databases of sharded tables, values, expiry and key patterns.

pub mod blocking;
pub mod cow;
pub mod digest;
pub mod expire;
pub mod glob;
pub mod hash;
pub mod keyspace;
pub mod memory;
pub mod packed;
pub mod scan;
pub mod set;
pub mod sha1;
pub mod shard;
pub mod stream;
pub mod value;
pub mod watch;
pub mod zset;

pub use keyspace::{Db, ExpiryListener, KeyGuard, Keyspace, WrongType};
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

/// Whether a key with this deadline is gone at `now_ms`. A key lives through its deadline's
/// own millisecond, as in Redis 7.0 (`keyIsExpired`: `now > when`); commands that *set* a
/// deadline use `<=` instead (`checkAlreadyExpired`), so an EXPIREAT to this very
/// millisecond deletes at once.
pub fn deadline_passed(deadline_ms: i64, now_ms: i64) -> bool {
    now_ms > deadline_ms
}
