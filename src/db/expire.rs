//! Active expiry: Redis' sampled cycle, so that keys nobody reads still go away.
//!
//! Every `1000/hz` ms, for each shard that holds keys with a deadline: sample 20 of those
//! keys at random, delete the expired ones, and sample again while more than 10% of a
//! sample had expired (the shard probably holds many more). The whole cycle stops after
//! a time budget (25% of the period, like Redis' ACTIVE_EXPIRE_CYCLE_SLOW), so a million
//! keys expiring at once never stall the workers: each lock is held for one sample only.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::keyspace::{lock, Keyspace};
use super::now_ms;
use crate::config::Config;

const KEYS_PER_SAMPLE: usize = 20;
/// Keep sampling a shard while more than this share (in percent) of a sample expired.
const ACCEPTABLE_STALE_PERCENT: usize = 10;

/// Switches and counters of the active cycle, shared with INFO and DEBUG.
#[derive(Debug)]
pub struct ActiveExpiry {
    /// DEBUG SET-ACTIVE-EXPIRE 0 turns the cycle off (the Tcl suite relies on it).
    pub enabled: AtomicBool,
    /// Cycles that stopped because they ran out of time.
    pub time_cap_reached: AtomicU64,
}

impl Default for ActiveExpiry {
    fn default() -> Self {
        ActiveExpiry {
            enabled: AtomicBool::new(true),
            time_cap_reached: AtomicU64::new(0),
        }
    }
}

/// What one cycle did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CycleReport {
    pub expired: u64,
    pub sampled: u64,
    pub out_of_time: bool,
}

/// A small xorshift generator: sampling needs speed and spread, not secrecy.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Rng(nanos | 1)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Runs one active expiry cycle over every database, as of `now_ms`, until `deadline`.
pub fn run_cycle(ks: &Keyspace, now_ms: i64, deadline: Instant, rng: &mut Rng) -> CycleReport {
    let mut report = CycleReport::default();
    // A read-only replica waits for its master's DEL.
    if ks.hide_expired.load(Ordering::Relaxed) {
        return report;
    }
    for (index, db) in ks.dbs().iter().enumerate() {
        let (mut ttl_sum, mut ttl_samples) = (0i64, 0i64);
        for shard in db.shards() {
            loop {
                let mut shard = lock(shard);
                let sample = shard.volatile_len().min(KEYS_PER_SAMPLE);
                if sample == 0 {
                    break;
                }
                let mut expired = 0;
                for _ in 0..sample {
                    if shard.volatile_len() == 0 {
                        break;
                    }
                    let (pos, deadline_ms) = shard.volatile_entry(rng.below(shard.volatile_len()));
                    if super::deadline_passed(deadline_ms, now_ms) {
                        let removed = shard.remove_at(pos);
                        ks.deleted_expired(index, &removed.key);
                        expired += 1;
                    } else {
                        ttl_sum = ttl_sum.saturating_add(deadline_ms - now_ms);
                        ttl_samples += 1;
                    }
                }
                drop(shard);
                report.sampled += sample as u64;
                report.expired += expired as u64;
                if expired * 100 <= sample * ACCEPTABLE_STALE_PERCENT {
                    break;
                }
                if Instant::now() >= deadline {
                    report.out_of_time = true;
                    ks.count_expired(report.expired);
                    return report;
                }
            }
        }
        if ttl_samples > 0 {
            // Redis' smoothing: the estimate moves 2% towards each cycle's sample mean.
            let sample_mean = ttl_sum / ttl_samples;
            let old = db.avg_ttl_ms.load(Ordering::Relaxed);
            let new = if old == 0 {
                sample_mean
            } else {
                old / 50 * 49 + sample_mean / 50
            };
            db.avg_ttl_ms.store(new, Ordering::Relaxed);
        }
    }
    ks.count_expired(report.expired);
    report
}

/// Starts the thread that runs the cycle `hz` times a second for the life of the process.
pub fn spawn_active_expiry(ks: Arc<Keyspace>, config: Arc<Config>, state: Arc<ActiveExpiry>) {
    std::thread::Builder::new()
        .name("active-expire".into())
        .spawn(move || {
            let mut rng = Rng::seeded();
            loop {
                let hz = config.hot.hz.load(Ordering::Relaxed).clamp(1, 500);
                let period = Duration::from_millis(1000 / hz);
                std::thread::sleep(period);
                if state.enabled.load(Ordering::Relaxed) {
                    let deadline = Instant::now() + period / 4;
                    if run_cycle(&ks, now_ms(), deadline, &mut rng).out_of_time {
                        state.time_cap_reached.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
        .expect("spawning the active expiry thread");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Value;
    use bytes::Bytes;

    fn fill(ks: &Keyspace, n: usize, expires_at: Option<i64>, prefix: &str) {
        for i in 0..n {
            let key = format!("{prefix}{i}");
            let mut guard = ks.lock(0, key.as_bytes());
            let pos = guard.set(Value::string(&Bytes::from_static(b"v")), false, 0);
            guard.set_expiry(pos, expires_at);
        }
    }

    fn far_future() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[test]
    fn cycles_reap_every_expired_key_without_touching_the_rest() {
        let ks = Keyspace::new(2);
        fill(&ks, 5_000, Some(100), "gone:");
        fill(&ks, 1_000, Some(10_000), "later:");
        fill(&ks, 1_000, None, "kept:");
        let mut rng = Rng(42);
        let mut expired = 0;
        for _ in 0..50 {
            expired += run_cycle(&ks, 1_000, far_future(), &mut rng).expired;
        }
        assert_eq!(expired, 5_000);
        assert_eq!(ks.db(0).len(), 2_000);
        assert_eq!(ks.expired_keys.load(Ordering::Relaxed), 5_000);
        assert!(ks.db(0).avg_ttl_ms.load(Ordering::Relaxed) > 0);
    }

    #[test]
    fn a_cycle_stops_at_its_deadline() {
        let ks = Keyspace::new(1);
        fill(&ks, 10_000, Some(1), "k");
        let report = run_cycle(&ks, 1_000, Instant::now(), &mut Rng(7));
        assert!(report.out_of_time);
        assert!(report.expired < 10_000);
    }

    #[test]
    fn rng_stays_in_range() {
        let mut rng = Rng(3);
        assert!((0..1000).all(|_| rng.below(7) < 7));
    }
}
