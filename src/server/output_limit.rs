//! `client-output-buffer-limit`: the value's classes (normal, slave, pubsub) and the check
//! Redis applies to a normal client's pending replies.
//!
//! ringkv also stops reading from a client while its replies cannot be written, so a
//! client that never reads holds at most one batch of replies: memory stays bounded even
//! with the default `normal 0 0 0`. The limit closes such a client as Redis would: at once
//! when the pending replies reach the hard limit, or when they stay at or above the soft
//! limit for longer than its seconds.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::parse_memory;

/// The classes in the order CONFIG GET prints them; `replica` is another name for `slave`.
const CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// One class's limits: bytes, bytes, seconds (0 disables each).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limit {
    pub hard: u64,
    pub soft: u64,
    pub soft_secs: u64,
}

/// Applies `value` (`<class> <hard> <soft> <soft seconds>`, repeated) to `current` (the
/// canonical form) and returns the new canonical form, or Redis' reason for refusing it.
pub fn merge(current: &str, value: &str) -> Result<String, String> {
    let mut limits = parse_canonical(current);
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.len() % 4 != 0 {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    for group in words.chunks(4) {
        let class = match group[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let invalid =
            || "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        limits[class] = Limit {
            hard: parse_memory(group[1]).ok_or_else(invalid)?,
            soft: parse_memory(group[2]).ok_or_else(invalid)?,
            soft_secs: group[3].parse().map_err(|_| invalid())?,
        };
    }
    Ok(CLASSES
        .iter()
        .zip(limits)
        .map(|(name, l)| format!("{name} {} {} {}", l.hard, l.soft, l.soft_secs))
        .collect::<Vec<_>>()
        .join(" "))
}

/// The limits of a canonical value, by class (missing or malformed parts are 0).
fn parse_canonical(value: &str) -> [Limit; 3] {
    let mut limits = [Limit::default(); 3];
    let words: Vec<&str> = value.split_whitespace().collect();
    for group in words.chunks_exact(4) {
        if let Some(class) = CLASSES.iter().position(|c| *c == group[0]) {
            let n = |w: &str| w.parse().unwrap_or(0);
            limits[class] = Limit {
                hard: n(group[1]),
                soft: n(group[2]),
                soft_secs: n(group[3]),
            };
        }
    }
    limits
}

/// The normal class's limits, mirrored into atomics for the connections.
#[derive(Debug, Default)]
pub struct NormalLimit {
    hard: AtomicU64,
    soft: AtomicU64,
    soft_secs: AtomicU64,
}

impl NormalLimit {
    pub fn store(&self, canonical: &str) {
        let normal = parse_canonical(canonical)[0];
        self.hard.store(normal.hard, Ordering::Relaxed);
        self.soft.store(normal.soft, Ordering::Relaxed);
        self.soft_secs.store(normal.soft_secs, Ordering::Relaxed);
    }

    pub fn load(&self) -> Limit {
        Limit {
            hard: self.hard.load(Ordering::Relaxed),
            soft: self.soft.load(Ordering::Relaxed),
            soft_secs: self.soft_secs.load(Ordering::Relaxed),
        }
    }
}

/// How long pending replies may stay at or above the soft limit. Redis counts whole
/// seconds of its clock and closes once more than `soft_secs` have passed, so at
/// `soft_secs` + 1.
fn soft_allowance(limit: Limit) -> Duration {
    Duration::from_secs(limit.soft_secs.saturating_add(1))
}

/// Redis' warning when it closes a client over its output buffer limit.
pub fn log_closing(id: u64, addr: SocketAddr) {
    crate::warning!(
        "Client id={id} addr={addr} scheduled to be closed ASAP for overcoming of output buffer limits."
    );
}

/// One connection's soft-limit clock (Redis' `obuf_soft_limit_reached_time`).
#[derive(Debug, Default)]
pub struct OutputGuard {
    soft_since: Option<Instant>,
}

impl OutputGuard {
    /// Redis' checkClientOutputBufferLimits for `pending` reply bytes: true when the
    /// client must be closed.
    pub fn over_limit(&mut self, limit: Limit, pending: usize) -> bool {
        let pending = pending as u64;
        let hard = limit.hard > 0 && pending >= limit.hard;
        let mut soft = limit.soft > 0 && pending >= limit.soft;
        if soft {
            // The first time it is reached only starts the clock, as in Redis.
            soft = match self.soft_since {
                Some(since) => since.elapsed() >= soft_allowance(limit),
                None => {
                    self.soft_since = Some(Instant::now());
                    false
                }
            };
        } else {
            self.soft_since = None;
        }
        hard || soft
    }

    /// How long a write of `pending` bytes may take before the soft limit closes the
    /// client, counted from when the pending replies first reached it; None: no limit.
    pub fn write_deadline(&mut self, limit: Limit, pending: usize) -> Option<Duration> {
        if limit.soft == 0 || (pending as u64) < limit.soft {
            return None;
        }
        let since = *self.soft_since.get_or_insert_with(Instant::now);
        Some(soft_allowance(limit).saturating_sub(since.elapsed()))
    }

    /// The replies were written: the output buffer is empty again.
    pub fn drained(&mut self) {
        self.soft_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";

    #[test]
    fn set_merges_classes_as_redis_does() {
        assert_eq!(
            merge(DEFAULT, "normal 1mb 100kb 2").unwrap(),
            "normal 1048576 102400 2 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        assert_eq!(
            merge(DEFAULT, "replica 1 2 3 normal 0 0 0 normal 5 5 5").unwrap(),
            "normal 5 5 5 slave 1 2 3 pubsub 33554432 8388608 60"
        );
        assert_eq!(merge(DEFAULT, "").unwrap(), DEFAULT);
        for (value, reason) in [
            (
                "normal 1mb 100kb",
                "Wrong number of arguments in buffer limit configuration.",
            ),
            (
                "foo 1 1 1",
                "Invalid client class specified in buffer limit configuration.",
            ),
            (
                "normal x 1 1",
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ),
            (
                "normal 1 2 -3",
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ),
        ] {
            assert_eq!(merge(DEFAULT, value), Err(reason.to_string()), "{value}");
        }
    }

    #[test]
    fn hard_closes_at_once_soft_after_its_seconds() {
        let limit = Limit {
            hard: 100,
            soft: 10,
            soft_secs: 0,
        };
        let mut guard = OutputGuard::default();
        assert!(!guard.over_limit(limit, 9));
        assert!(guard.over_limit(limit, 100));
        // The soft limit starts its clock the first time it is reached, and closes once
        // more than its seconds (whole ones) have passed.
        let mut guard = OutputGuard::default();
        assert!(!guard.over_limit(limit, 10));
        assert!(!guard.over_limit(limit, 10));
        guard.soft_since = Some(Instant::now() - Duration::from_millis(1001));
        assert!(guard.over_limit(limit, 10));
        // Dropping below resets it.
        let mut guard = OutputGuard::default();
        assert!(!guard.over_limit(limit, 10));
        assert!(!guard.over_limit(limit, 9));
        assert!(!guard.over_limit(limit, 10));
        assert!(!OutputGuard::default().over_limit(Limit::default(), usize::MAX));
    }

    #[test]
    fn a_write_over_the_soft_limit_has_a_deadline() {
        let limit = Limit {
            hard: 0,
            soft: 10,
            soft_secs: 2,
        };
        let mut guard = OutputGuard::default();
        assert_eq!(guard.write_deadline(limit, 9), None);
        let left = guard.write_deadline(limit, 10).unwrap();
        assert!(left <= Duration::from_secs(3) && left > Duration::from_secs(2));
        guard.drained();
        assert_eq!(guard.write_deadline(Limit::default(), 1 << 30), None);
    }
}
