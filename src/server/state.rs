//! What every connection and command shares: configuration, the keyspace, counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::db::blocking::BlockedClients;
use crate::db::expire::ActiveExpiry;
use crate::db::Keyspace;

/// Server-wide counters behind INFO. Relaxed atomics: they are statistics, read alone.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub connected_clients: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub commands_processed: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    next_client_id: AtomicU64,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// CONFIG RESETSTAT: zero the counters that Redis resets (not the gauges).
    pub fn reset(&self) {
        for counter in [
            &self.connections_received,
            &self.rejected_connections,
            &self.commands_processed,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.keyspace_hits,
            &self.keyspace_misses,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

/// Facts fixed at start-up that INFO reports.
#[derive(Debug, Clone)]
pub struct StartupInfo {
    pub port: u16,
    pub threads: usize,
    /// `io_uring` or `epoll`: the I/O backend the workers run on.
    pub backend: &'static str,
    pub config_file: String,
    pub executable: String,
}

#[derive(Debug)]
pub struct Server {
    pub config: Arc<Config>,
    pub keyspace: Arc<Keyspace>,
    pub expiry: Arc<ActiveExpiry>,
    pub blocked: BlockedClients,
    pub stats: Stats,
    pub startup: StartupInfo,
    /// 40 hex characters identifying this run (INFO run_id, replication id).
    pub run_id: String,
    pub replication_id: String,
    pub started: Instant,
    pub started_unix: u64,
}

impl Server {
    pub fn new(config: Arc<Config>, startup: StartupInfo) -> Server {
        let databases = config.get_int("databases") as usize;
        Server {
            config,
            keyspace: Arc::new(Keyspace::new(databases)),
            expiry: Arc::new(ActiveExpiry::default()),
            blocked: BlockedClients::default(),
            stats: Stats::default(),
            startup,
            run_id: random_hex_id(),
            replication_id: random_hex_id(),
            started: Instant::now(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }
}

/// 40 random hex characters, from the kernel's generator.
pub fn random_hex_id() -> String {
    let mut bytes = [0u8; 20];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_err()
    {
        // No /dev/urandom (a bare chroot): fall back to std's per-process random hash keys.
        use std::hash::{BuildHasher, RandomState};
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let word = RandomState::new().hash_one(i).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_40_hex_characters_and_differ() {
        let (a, b) = (random_hex_id(), random_hex_id());
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
