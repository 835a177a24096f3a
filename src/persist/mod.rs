//! RDB persistence of the running server: SAVE (in the caller), BGSAVE (a background
//! thread), the save policy's timer, the save on shutdown, and the state INFO persistence
//! and LASTSAVE report.
//!
//! - [`snapshot`]: the point-in-time copy and the temp-file-and-rename write
//! - [`dirty`]: the per-thread change counters
//! - [`policy`]: `save <seconds> <changes> ...`
//!
//! ```text
//! SAVE / BGSAVE -> Snapshot::mark (all shards locked, marked, released) -> collect
//!               -> encode + write temp-<pid>.rdb -> fsync -> rename dump.rdb
//! ```

pub mod dirty;
pub mod policy;
pub mod snapshot;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::rdb::save::Encoding;
use crate::server::state::Server;
use snapshot::Snapshot;

/// What a save in progress is.
#[derive(Debug, Clone, Copy)]
struct Running {
    started: Instant,
    background: bool,
}

/// The persistence state of the server.
#[derive(Debug)]
pub struct Persistence {
    running: Mutex<Option<Running>>,
    /// The BGSAVE thread, joined before the shutdown save.
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Unix seconds of the last successful save (the start time until then, as Redis).
    last_save: AtomicI64,
    /// Unix seconds of the last BGSAVE attempt (a failed one is retried after 5 s).
    last_bgsave_try: AtomicI64,
    last_bgsave_ok: AtomicBool,
    /// Seconds the last BGSAVE took, -1 before the first.
    last_bgsave_secs: AtomicI64,
    saves: AtomicU64,
    /// The change count ([`dirty::total`]) the last successful save's snapshot had.
    dirty_at_save: AtomicU64,
    /// A BGSAVE asked for inside EXEC: the policy timer starts it.
    scheduled: AtomicBool,
}

/// Why BGSAVE or SAVE did not start.
#[derive(Debug, PartialEq, Eq)]
pub enum StartError {
    InProgress,
}

fn unix_now() -> i64 {
    crate::db::now_ms() / 1000
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The writer's settings from the config table.
pub fn encoding(config: &Config) -> Encoding {
    let size = |name: &str| usize::try_from(config.get_int(name)).unwrap_or(0);
    Encoding {
        rdbcompression: config.get_bool("rdbcompression"),
        rdbchecksum: config.get_bool("rdbchecksum"),
        list_max_listpack_size: config.get_int("list-max-listpack-size"),
        set_max_intset_entries: size("set-max-intset-entries"),
        hash_max_listpack_entries: size("hash-max-listpack-entries"),
        hash_max_listpack_value: size("hash-max-listpack-value"),
        zset_max_listpack_entries: size("zset-max-listpack-entries"),
        zset_max_listpack_value: size("zset-max-listpack-value"),
        stream_node_max_bytes: size("stream-node-max-bytes"),
        stream_node_max_entries: size("stream-node-max-entries"),
    }
}

/// Where saves go: `dir` and `dbfilename` as configured now.
fn target(config: &Config) -> (PathBuf, String) {
    (PathBuf::from(config.get("dir")), config.get("dbfilename"))
}

impl Default for Persistence {
    fn default() -> Persistence {
        Persistence {
            running: Mutex::new(None),
            thread: Mutex::new(None),
            last_save: AtomicI64::new(unix_now()),
            last_bgsave_try: AtomicI64::new(0),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_secs: AtomicI64::new(-1),
            saves: AtomicU64::new(0),
            dirty_at_save: AtomicU64::new(0),
            scheduled: AtomicBool::new(false),
        }
    }
}

impl Persistence {
    pub fn last_save(&self) -> i64 {
        self.last_save.load(Ordering::Relaxed)
    }

    pub fn changes_since_save(&self) -> u64 {
        dirty::total().saturating_sub(self.dirty_at_save.load(Ordering::Relaxed))
    }

    /// Whether a BGSAVE runs now, and for how many whole seconds.
    pub fn bgsave_running_secs(&self) -> Option<u64> {
        locked(&self.running)
            .filter(|r| r.background)
            .map(|r| r.started.elapsed().as_secs())
    }

    pub fn last_bgsave_ok(&self) -> bool {
        self.last_bgsave_ok.load(Ordering::Relaxed)
    }

    pub fn last_bgsave_secs(&self) -> i64 {
        self.last_bgsave_secs.load(Ordering::Relaxed)
    }

    pub fn saves(&self) -> u64 {
        self.saves.load(Ordering::Relaxed)
    }

    /// Redis' MISCONF rule: after a failed BGSAVE, with save points configured and
    /// `stop-writes-on-bgsave-error yes`, writes (and PING) are refused.
    pub fn refuses_writes(&self, config: &Config) -> bool {
        !self.last_bgsave_ok()
            && config.get_bool("stop-writes-on-bgsave-error")
            && !config.get("save").trim().is_empty()
    }

    /// Claims the right to save, or says a save is already running.
    fn begin(&self, background: bool) -> Result<MutexGuard<'_, Option<Running>>, StartError> {
        let mut running = locked(&self.running);
        if running.is_some() {
            return Err(StartError::InProgress);
        }
        *running = Some(Running {
            started: Instant::now(),
            background,
        });
        Ok(running)
    }

    /// A successful save of a snapshot taken at change count `dirty`.
    fn saved(&self, dirty: u64) {
        self.dirty_at_save.store(dirty, Ordering::Relaxed);
        self.last_save.store(unix_now(), Ordering::Relaxed);
    }
}

/// SAVE: snapshot and write in the calling thread.
pub fn save(server: &Server) -> Result<Result<(), std::io::Error>, StartError> {
    let p = &server.persistence;
    drop(p.begin(false)?);
    let result = save_now(server);
    *locked(&p.running) = None;
    Ok(result)
}

/// Snapshot and write, without the in-progress bookkeeping (SAVE, shutdown).
fn save_now(server: &Server) -> std::io::Result<()> {
    let p = &server.persistence;
    let dirty = dirty::total();
    let snapshot = Snapshot::take(&server.keyspace);
    let (dir, name) = target(&server.config);
    p.saves.fetch_add(1, Ordering::Relaxed);
    let result = snapshot.save_file(&dir, &name, encoding(&server.config));
    match &result {
        Ok(()) => {
            crate::notice!("DB saved on disk");
            p.saved(dirty);
        }
        Err(e) => crate::warning!("Failed saving the DB: {e}"),
    }
    result
}

/// BGSAVE: snapshot now, encode and write on a thread of its own.
pub fn bgsave(server: &Server) -> Result<(), StartError> {
    let p = server.persistence.clone();
    let running = p.begin(true)?;
    p.last_bgsave_try.store(unix_now(), Ordering::Relaxed);
    let dirty = dirty::total();
    let (marked, ()) = Snapshot::mark(&server.keyspace, || ());
    crate::notice!(
        "Background saving started (clients paused {:.3} ms)",
        marked.pause().as_secs_f64() * 1000.0
    );
    let keyspace = server.keyspace.clone();
    let (dir, name) = target(&server.config);
    let enc = encoding(&server.config);
    let state = p.clone();
    let spawned = std::thread::Builder::new()
        .name("bgsave".into())
        .spawn(move || {
            let started = Instant::now();
            let snapshot = marked.collect(&keyspace);
            crate::notice!(
                "Background saving copied {} keys in {:.1} ms",
                snapshot.keys(),
                snapshot.copying.as_secs_f64() * 1000.0
            );
            let result = snapshot.save_file(&dir, &name, enc);
            drop(snapshot);
            state.saves.fetch_add(1, Ordering::Relaxed);
            state
                .last_bgsave_secs
                .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
            match result {
                Ok(()) => {
                    crate::notice!("Background saving terminated with success");
                    state.saved(dirty);
                    state.last_bgsave_ok.store(true, Ordering::Relaxed);
                }
                Err(e) => {
                    crate::warning!("Background saving error: {e}");
                    state.last_bgsave_ok.store(false, Ordering::Relaxed);
                }
            }
            *locked(&state.running) = None;
        });
    drop(running);
    match spawned {
        Ok(handle) => *locked(&p.thread) = Some(handle),
        Err(e) => {
            crate::warning!("Can't save in background: {e}");
            p.last_bgsave_ok.store(false, Ordering::Relaxed);
            *locked(&p.running) = None;
        }
    }
    Ok(())
}

/// BGSAVE inside EXEC (Redis forks no child in the middle of a transaction): started by
/// the policy timer right after. Refused like BGSAVE while one runs.
pub fn schedule_bgsave(server: &Server) -> Result<(), StartError> {
    let p = &server.persistence;
    if p.bgsave_running_secs().is_some() {
        return Err(StartError::InProgress);
    }
    p.scheduled.store(true, Ordering::Relaxed);
    Ok(())
}

/// The save before exiting (SHUTDOWN, SIGTERM): waits for a running BGSAVE (or another
/// client's SAVE), then saves in this thread. An error means the caller must not exit.
pub fn shutdown_save(server: &Server) -> std::io::Result<()> {
    crate::notice!("Saving the final RDB snapshot before exiting.");
    let p = &server.persistence;
    if let Some(handle) = locked(&p.thread).take() {
        let _ = handle.join();
    }
    loop {
        match p.begin(false) {
            Ok(running) => break drop(running),
            Err(StartError::InProgress) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let result = save_now(server);
    *locked(&p.running) = None;
    result
}

/// Whether a shutdown saves: SAVE forces it, NOSAVE prevents it, else save points decide.
pub fn saves_on_shutdown(config: &Config, save: bool, nosave: bool) -> bool {
    save || (!nosave && !config.get("save").trim().is_empty())
}
