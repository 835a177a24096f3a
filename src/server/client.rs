//! Per-connection state that commands read and change (SELECT, AUTH, QUIT, MULTI, BLPOP,
//! CLIENT, MONITOR), and the shared face of each connection that other connections see
//! through CLIENT LIST and CLIENT KILL.
//!
//! A connection owns its [`Client`] and changes it freely. What other connections must
//! read lives in its [`ClientHandle`]: relaxed atomics the owner stores after each batch
//! of commands, and a small mutex for the name. Only CLIENT LIST / KILL read them, so the
//! per-command path takes no shared lock.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Notify;

#[derive(Debug)]
pub struct Client {
    pub id: u64,
    pub addr: SocketAddr,
    /// The database SELECT chose.
    pub db: usize,
    /// Redis' `c->authenticated`: true when the client connected while no password was
    /// set, or once AUTH succeeded. See [`Client::auth_required`].
    pub authenticated: bool,
    /// Set by QUIT: write the pending replies, then close.
    pub close_after_reply: bool,
    /// Set by a blocking command that found nothing: the connection waits, then runs the
    /// same command again.
    pub blocked: Option<Blocked>,
    /// True while a blocked command is run again: it is not counted or shown twice.
    pub reprocessing: bool,
    /// Commands queued since MULTI.
    pub transaction: Option<Transaction>,
    /// Keys WATCHed for the next EXEC.
    pub watching: Option<crate::db::watch::Watching>,
    /// True while EXEC runs the queue: commands that would wait (MONITOR) are refused.
    pub in_exec: bool,
    /// CLIENT REPLY: replies are dropped while `reply_off` or `reply_skip` is set;
    /// `reply_skip_next` becomes `reply_skip` for the command after CLIENT REPLY SKIP.
    pub reply_off: bool,
    pub reply_skip: bool,
    pub reply_skip_next: bool,
    /// CLIENT NO-EVICT (reported in flags; there is no client eviction yet).
    pub no_evict: bool,
    /// Set by DEBUG SLEEP: the connection pauses this long before reading more.
    pub sleep: Option<Duration>,
    /// MONITOR: the feed of executed commands this connection forwards to its socket.
    pub monitor: Option<UnboundedReceiver<Bytes>>,
    /// Table position of the last command looked up (CLIENT LIST `cmd`).
    pub last_command: Option<u32>,
    /// Bytes in the read buffer when this batch was parsed, and its free space
    /// (CLIENT LIST `qbuf`, `qbuf-free` for the client asking).
    pub query_buffer: (usize, usize),
    /// Reply bytes waiting in the output buffer (CLIENT LIST `obl`).
    pub pending_reply: usize,
    /// The argv being executed (CLIENT LIST `argv-mem` for the client asking).
    pub argv_bytes: usize,
    /// Times this connection's commands for INFO commandstats. The connection settles it
    /// before it waits and tells it when it waited (read, write, BLPOP, DEBUG SLEEP).
    pub clock: crate::cmd::timing::CommandClock,
    /// The commands this connection sent last, looked up without hashing.
    pub recent_commands: crate::cmd::RecentCommands,
    /// Wall-clock milliseconds when the running command started: the time its deadlines
    /// are compared against (like Redis' command time snapshot). 0 before any command.
    pub command_ms: i64,
    /// The replica's link applying its master's stream: obeyed even when this server is
    /// a read-only replica.
    pub master_link: bool,
    /// REPLCONF announcements, a pending PSYNC or WAIT, the last write's stream offset.
    pub repl: crate::repl::master::ClientRepl,
    pub handle: Arc<ClientHandle>,
}

/// What a blocked client waits for.
#[derive(Debug)]
pub struct Blocked {
    pub keys: Vec<Bytes>,
    /// None: until data arrives.
    pub timeout: Option<Duration>,
}

#[derive(Debug, Default)]
pub struct Transaction {
    pub queued: Vec<Vec<Bytes>>,
    /// A command was refused while queueing: EXEC will abort.
    pub failed: bool,
}

impl Client {
    pub fn new(handle: Arc<ClientHandle>, password_required: bool) -> Client {
        Client {
            id: handle.id,
            addr: handle.addr,
            db: 0,
            authenticated: !password_required,
            close_after_reply: false,
            blocked: None,
            reprocessing: false,
            transaction: None,
            watching: None,
            in_exec: false,
            reply_off: false,
            reply_skip: false,
            reply_skip_next: false,
            no_evict: false,
            sleep: None,
            monitor: None,
            last_command: None,
            query_buffer: (0, 0),
            pending_reply: 0,
            argv_bytes: 0,
            clock: Default::default(),
            recent_commands: Default::default(),
            command_ms: 0,
            master_link: false,
            repl: Default::default(),
            handle,
        }
    }

    /// Redis' `authRequired()`: judged per command against the live password, so a client
    /// that connected while a password was set may go on once `requirepass` is cleared,
    /// and clients connected before a password was set keep working (as in Redis 7.0).
    pub fn auth_required(&self, password_set: bool) -> bool {
        password_set && !self.authenticated
    }

    /// Whether the reply of the command being executed is dropped (CLIENT REPLY).
    pub fn replies_suppressed(&self) -> bool {
        self.reply_off || self.reply_skip
    }

    /// After each command: a CLIENT REPLY SKIP applies to the next command only.
    pub fn after_command(&mut self) {
        self.reply_skip = std::mem::take(&mut self.reply_skip_next);
    }

    /// Copies what other connections read (CLIENT LIST, CLIENT KILL) to the handle.
    pub fn publish(&self) {
        let h = &self.handle;
        h.db.store(self.db as u32, Ordering::Relaxed);
        h.last_command
            .store(self.last_command.map_or(u32::MAX, |p| p), Ordering::Relaxed);
        let multi = self
            .transaction
            .as_ref()
            .map_or(-1, |t| t.queued.len() as i64);
        h.multi.store(multi, Ordering::Relaxed);
        let mut flags = 0;
        if self.monitor.is_some() {
            flags |= FLAG_MONITOR;
        }
        if self.transaction.is_some() {
            flags |= FLAG_MULTI;
        }
        if self.blocked.is_some() {
            flags |= FLAG_BLOCKED;
        }
        if self.close_after_reply {
            flags |= FLAG_CLOSE_AFTER_REPLY;
        }
        if self.no_evict {
            flags |= FLAG_NO_EVICT;
        }
        h.flags.store(flags, Ordering::Relaxed);
    }
}

pub const FLAG_MONITOR: u32 = 1 << 0;
pub const FLAG_MULTI: u32 = 1 << 1;
pub const FLAG_BLOCKED: u32 = 1 << 2;
pub const FLAG_CLOSE_AFTER_REPLY: u32 = 1 << 3;
pub const FLAG_NO_EVICT: u32 = 1 << 4;
/// The connection is a replica being fed the replication stream (set by its sender).
pub const FLAG_REPLICA: u32 = 1 << 5;

/// Redis' flag letters, in the order CLIENT LIST prints them; `N` when none is set.
pub fn flag_letters(flags: u32, killed: bool) -> String {
    let mut out = String::new();
    for (flag, letter) in [
        (FLAG_MONITOR, 'O'),
        (FLAG_REPLICA, 'S'),
        (FLAG_MULTI, 'x'),
        (FLAG_BLOCKED, 'b'),
        (FLAG_CLOSE_AFTER_REPLY, 'c'),
    ] {
        if flags & flag != 0 {
            out.push(letter);
        }
    }
    if killed {
        out.push('A');
    }
    if flags & FLAG_NO_EVICT != 0 {
        out.push('e');
    }
    if out.is_empty() {
        out.push('N');
    }
    out
}

/// The shared face of one connection.
#[derive(Debug)]
pub struct ClientHandle {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub fd: i32,
    pub created: Instant,
    /// Wall-clock milliseconds of the last read or write (CLIENT LIST `idle`), as Redis
    /// keeps it; 0 until the first.
    pub last_interaction_ms: AtomicU64,
    pub db: AtomicU32,
    /// Table position of the last command, u32::MAX for none yet.
    pub last_command: AtomicU32,
    /// Commands queued in MULTI, -1 outside MULTI.
    pub multi: AtomicI64,
    pub flags: AtomicU32,
    name: Mutex<Option<Bytes>>,
    /// Set by CLIENT KILL from any thread; the connection closes when it sees it.
    killed: AtomicBool,
    wake: Notify,
}

impl ClientHandle {
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, fd: i32) -> ClientHandle {
        ClientHandle {
            id,
            addr,
            laddr,
            fd,
            created: Instant::now(),
            last_interaction_ms: AtomicU64::new(0),
            db: AtomicU32::new(0),
            last_command: AtomicU32::new(u32::MAX),
            multi: AtomicI64::new(-1),
            flags: AtomicU32::new(0),
            name: Mutex::new(None),
            killed: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    pub fn name(&self) -> Option<Bytes> {
        lock(&self.name).clone()
    }

    pub fn set_name(&self, name: Option<Bytes>) {
        *lock(&self.name) = name;
    }

    /// Records activity now (a read or a write).
    pub fn touch(&self) {
        self.touch_at(crate::db::now_ms());
    }

    /// Records activity at wall-clock `ms`, a clock reading the caller already has.
    pub fn touch_at(&self, ms: i64) {
        self.last_interaction_ms
            .store(ms.max(0) as u64, Ordering::Relaxed);
    }

    /// Seconds since the last read or write.
    pub fn idle_secs(&self) -> u64 {
        let now = crate::db::now_ms().max(0) as u64;
        now.saturating_sub(self.last_interaction_ms.load(Ordering::Relaxed)) / 1000
    }

    /// Asks the connection to close, waking it wherever it waits (read, write, BLPOP).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Completes once [`ClientHandle::kill`] was called.
    pub async fn killed(&self) {
        loop {
            let notified = self.wake.notified();
            if self.is_killed() {
                return;
            }
            notified.await;
        }
    }
}

/// Every live connection, by id (the order CLIENT LIST reports). Locked on connect,
/// disconnect, CLIENT LIST and CLIENT KILL only.
#[derive(Debug, Default)]
pub struct ClientRegistry {
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
}

impl ClientRegistry {
    pub fn register(&self, handle: Arc<ClientHandle>) {
        lock(&self.clients).insert(handle.id, handle);
    }

    pub fn unregister(&self, id: u64) {
        lock(&self.clients).remove(&id);
    }

    /// A snapshot of the live connections, in id order.
    pub fn all(&self) -> Vec<Arc<ClientHandle>> {
        lock(&self.clients).values().cloned().collect()
    }
}

/// Locks a mutex, ignoring poisoning: the data behind these locks stays consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
