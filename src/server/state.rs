//! What every connection and command shares: configuration, the keyspace, counters.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::client::ClientRegistry;
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
    /// Error replies sent (INFO stats `total_error_replies`).
    pub error_replies: AtomicU64,
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
            &self.error_replies,
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
    /// Per-command counters (INFO commandstats), indexed by table position.
    pub command_stats: CommandStats,
    /// Error replies by their code (INFO errorstats).
    pub error_stats: ErrorStats,
    /// Live connections (CLIENT LIST, CLIENT KILL).
    pub clients: ClientRegistry,
    /// Connections in MONITOR mode.
    pub monitors: Monitors,
    pub startup: StartupInfo,
    /// 40 hex characters identifying this run (INFO run_id, replication id).
    pub run_id: String,
    /// Role, replication ids, offset and backlog.
    pub repl: Arc<crate::repl::Repl>,
    pub started: Instant,
    pub started_unix: u64,
    /// SAVE/BGSAVE state, LASTSAVE, the change counter's mark.
    pub persistence: Arc<crate::persist::Persistence>,
    /// The master this server replicates from, if any, and the link's state.
    pub replica: crate::repl::replica::Replica,
}

impl Server {
    pub fn new(config: Arc<Config>, startup: StartupInfo) -> Server {
        let databases = config.get_int("databases") as usize;
        let keyspace = Arc::new(Keyspace::new(databases));
        let repl = Arc::new(crate::repl::Repl::default());
        keyspace.set_expiry_listener(repl.clone());
        Server {
            config,
            keyspace,
            expiry: Arc::new(ActiveExpiry::default()),
            blocked: BlockedClients::default(),
            stats: Stats::default(),
            command_stats: CommandStats::new(crate::cmd::table_len()),
            error_stats: ErrorStats::default(),
            clients: ClientRegistry::default(),
            monitors: Monitors::default(),
            startup,
            run_id: random_hex_id(),
            repl,
            started: Instant::now(),
            persistence: Arc::default(),
            replica: Default::default(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }

    /// A server with no listener behind it, for running commands in-process (unit tests,
    /// the `commands` fuzz target): start-up facts are placeholders.
    pub fn for_embedding(config: Arc<Config>) -> Server {
        let startup = StartupInfo {
            port: 0,
            threads: 1,
            backend: "epoll",
            config_file: String::new(),
            executable: String::new(),
        };
        Server::new(config, startup)
    }
}

/// One command's INFO commandstats counters. Aligned to a cache line so that threads
/// running different commands do not contend on each other's counters.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct CommandCounters {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected_calls: AtomicU64,
    pub failed_calls: AtomicU64,
}

/// Counters for every command and subcommand, by table position (see `cmd::table_len`).
#[derive(Debug)]
pub struct CommandStats {
    counters: Box<[CommandCounters]>,
}

impl CommandStats {
    pub fn new(len: usize) -> CommandStats {
        CommandStats {
            counters: (0..len).map(|_| CommandCounters::default()).collect(),
        }
    }

    pub fn get(&self, position: u32) -> Option<&CommandCounters> {
        self.counters.get(position as usize)
    }

    /// A command ran for `usec` microseconds; `failed` when it replied with an error.
    pub fn record(&self, position: u32, usec: u64, failed: bool) {
        self.record_many(position, 1, usec, u64::from(failed));
    }

    /// `calls` runs of one command took `usec` in all, and `failed` of them replied with
    /// an error.
    pub fn record_many(&self, position: u32, calls: u64, usec: u64, failed: u64) {
        if let Some(c) = self.get(position) {
            c.calls.fetch_add(calls, Ordering::Relaxed);
            c.usec.fetch_add(usec, Ordering::Relaxed);
            if failed > 0 {
                c.failed_calls.fetch_add(failed, Ordering::Relaxed);
            }
        }
    }

    /// A command was refused before running (arity, NOAUTH, not allowed in MULTI).
    pub fn reject(&self, position: u32) {
        if let Some(c) = self.get(position) {
            c.rejected_calls.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn reset(&self) {
        for c in self.counters.iter() {
            for n in [&c.calls, &c.usec, &c.rejected_calls, &c.failed_calls] {
                n.store(0, Ordering::Relaxed);
            }
        }
    }
}

/// Error replies counted by code (`ERR`, `WRONGTYPE`, ...). Locked only when an error
/// is sent. Like Redis, at most 128 distinct codes are tracked.
#[derive(Debug, Default)]
pub struct ErrorStats {
    counts: Mutex<Vec<(String, u64)>>,
}

const MAX_ERROR_CODES: usize = 128;

impl ErrorStats {
    /// Counts an error reply given without its leading `-`.
    pub fn count(&self, message: &[u8]) {
        let end = message
            .iter()
            .position(|&b| b == b' ' || b == b'\r')
            .unwrap_or(message.len());
        let code = String::from_utf8_lossy(&message[..end]);
        let mut counts = lock(&self.counts);
        if let Some((_, n)) = counts.iter_mut().find(|(c, _)| *c == code) {
            *n += 1;
        } else if counts.len() < MAX_ERROR_CODES {
            counts.push((code.into_owned(), 1));
        }
    }

    /// (code, count) ordered by code, as Redis' radix tree lists them.
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        let mut counts = lock(&self.counts).clone();
        counts.sort();
        counts
    }

    pub fn reset(&self) {
        lock(&self.counts).clear();
    }
}

/// Connections in MONITOR mode, each fed through its own channel. `count` lets the
/// per-command path skip everything with one relaxed load while nobody monitors.
#[derive(Debug, Default)]
pub struct Monitors {
    count: AtomicUsize,
    feeds: Mutex<Vec<(u64, UnboundedSender<Bytes>)>>,
}

impl Monitors {
    pub fn active(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }

    /// Adds client `id` as a monitor and returns the receiving end of its feed.
    pub fn add(&self, id: u64) -> UnboundedReceiver<Bytes> {
        let (sender, receiver) = unbounded_channel();
        let mut feeds = lock(&self.feeds);
        feeds.push((id, sender));
        self.count.store(feeds.len(), Ordering::Relaxed);
        receiver
    }

    pub fn remove(&self, id: u64) {
        let mut feeds = lock(&self.feeds);
        feeds.retain(|(monitor, _)| *monitor != id);
        self.count.store(feeds.len(), Ordering::Relaxed);
    }

    /// Sends one formatted line to every monitor.
    pub fn feed(&self, line: Bytes) {
        for (_, sender) in lock(&self.feeds).iter() {
            // A monitor whose connection is gone has dropped its receiver; it removes
            // itself on the way out.
            let _ = sender.send(line.clone());
        }
    }
}

/// Locks a mutex, ignoring poisoning: these tables stay consistent between statements.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
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
