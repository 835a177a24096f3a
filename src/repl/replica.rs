//! The replica side: which master this server follows, the state of its link (what INFO
//! replication and ROLE report), and REPLICAOF / SLAVEOF.
//!
//! The link itself runs on its own thread ([`link`]): it connects, performs the handshake
//! one step at a time, loads the snapshot into a staging keyspace ([`snapshot`]) and then
//! applies the master's stream through the dispatcher as the master client. Every
//! REPLICAOF starts a new generation of the link: the thread drops a link of an older
//! generation at its next step and starts over with the new master.

mod link;
mod snapshot;

pub use link::Transport;

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::{Repl, Role};
use crate::cmd::{args, Ctx};
use crate::server::state::Server;

/// Where the link is, in Redis' `repl_state` words (ROLE prints them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LinkState {
    /// Waiting to (re)connect.
    Connect,
    Connecting,
    /// PING, AUTH, REPLCONF, PSYNC.
    Handshake,
    /// Receiving the snapshot.
    Transfer,
    Connected,
}

impl LinkState {
    fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// A replication ID and offset: what `+FULLRESYNC` announces and what `PSYNC <replid>
/// <offset+1>` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Position {
    replid: String,
    offset: i64,
}

#[derive(Debug)]
struct State {
    /// `host`, `port` of the master; None while this server is a master.
    master: Option<(String, u16)>,
    generation: u64,
    link: LinkState,
    /// Unix seconds when the link went down; None before the first link was up.
    down_since: Option<u64>,
    /// Whether this server's stream (its replid and offset) holds a history the master
    /// may continue: after a sync, or when a master was turned into a replica.
    cached: bool,
    /// Snapshot size as Redis reports it: `$<len>`'s length, 0 for the `$EOF:` form, -1
    /// before the header arrived.
    transfer_size: i64,
}

/// The replica side's shared state (one per server).
#[derive(Debug)]
pub struct Replica {
    state: Mutex<State>,
    /// Wakes the link thread when REPLICAOF changes the master.
    changed: Condvar,
    /// Held by the link while it applies the master's data and by REPLICAOF while it
    /// switches: after REPLICAOF nothing of the old master is applied. Lock order:
    /// `applying`, `state`, then the stream.
    applying_lock: Mutex<()>,
    /// True while this server replicates from a master: read on every write command.
    active: AtomicBool,
    /// The database the master's stream last selected: a partial resync continues in it
    /// (the stream does not repeat its SELECT), as Redis' cached master client does.
    master_db: AtomicUsize,
    /// Stream bytes received but not applied yet (`slave_read_repl_offset` minus
    /// `slave_repl_offset`).
    unapplied: AtomicI64,
    /// Wall-clock ms of the last bytes from the master; 0 without a link.
    last_io_ms: AtomicI64,
    /// Snapshot bytes received so far during a transfer.
    transfer_read: AtomicU64,
}

impl Default for Replica {
    fn default() -> Self {
        Replica {
            state: Mutex::new(State {
                master: None,
                generation: 0,
                link: LinkState::Connect,
                down_since: None,
                cached: false,
                transfer_size: -1,
            }),
            changed: Condvar::new(),
            applying_lock: Mutex::new(()),
            active: AtomicBool::new(false),
            master_db: AtomicUsize::new(0),
            unapplied: AtomicI64::new(0),
            last_io_ms: AtomicI64::new(0),
            transfer_read: AtomicU64::new(0),
        }
    }
}

impl Replica {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this server follows a master.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Whether `generation` is still the current REPLICAOF.
    fn is_current(&self, generation: u64) -> bool {
        self.state().generation == generation
    }

    /// The right to apply the master's data, while `generation` is current.
    fn applying(&self, generation: u64) -> Result<MutexGuard<'_, ()>, link::LinkError> {
        let guard = self.applying_lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_current(generation) {
            Ok(guard)
        } else {
            Err(link::LinkError::Replaced)
        }
    }

    /// Blocks until this server has a master; its generation.
    fn wait_for_master(&self) -> u64 {
        let mut state = self.state();
        while state.master.is_none() {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.generation
    }

    /// Sleeps up to `pause`, or less when REPLICAOF replaces `generation`.
    fn pause(&self, generation: u64, pause: Duration) {
        let state = self.state();
        if state.generation == generation {
            let _ = self.changed.wait_timeout(state, pause);
        }
    }

    /// The master of `generation`, None once REPLICAOF replaced it.
    fn target(&self, generation: u64) -> Option<(String, u16)> {
        let state = self.state();
        (state.generation == generation)
            .then(|| state.master.clone())
            .flatten()
    }

    fn set_link(&self, generation: u64, link: LinkState) {
        let mut state = self.state();
        if state.generation == generation {
            if link == LinkState::Transfer {
                self.transfer_read.store(0, Ordering::Relaxed);
                state.transfer_size = -1;
            }
            state.link = link;
        }
    }

    /// The position to ask the master for (`PSYNC <replid> <offset+1>`), if any.
    fn cached_position(&self, repl: &Repl) -> Option<Position> {
        if !self.state().cached {
            return None;
        }
        let stream = repl.stream();
        Some(Position {
            replid: stream.replid.clone(),
            offset: stream.offset() as i64,
        })
    }

    /// A sync succeeded: the link is up and its history can be continued later.
    fn synced(&self, generation: u64) {
        let mut state = self.state();
        if state.generation == generation {
            state.cached = true;
            state.link = LinkState::Connected;
            state.down_since = None;
            self.unapplied.store(0, Ordering::Relaxed);
        }
    }

    /// The link of `generation` ended (lost, failed or replaced).
    fn link_lost(&self, generation: u64) {
        let mut state = self.state();
        if state.generation == generation {
            if state.link == LinkState::Connected {
                state.down_since = Some(unix_secs());
            }
            state.link = LinkState::Connect;
        }
        self.last_io_ms.store(0, Ordering::Relaxed);
    }

    fn record_io(&self) {
        self.last_io_ms
            .store(crate::db::now_ms(), Ordering::Relaxed);
    }
}

/// Starts the link thread, which follows whatever master REPLICAOF (or `replicaof` at
/// start-up) names, for the life of the process.
pub fn start(server: Arc<Server>) -> Result<(), String> {
    std::thread::Builder::new()
        .name("replica-link".into())
        .spawn(move || {
            crate::db::keyspace::applying_master_stream(true);
            loop {
                let generation = server.replica.wait_for_master();
                // A command that panics while applying the stream ends this link only,
                // as it would end a client's connection; the link starts over.
                let run = std::panic::AssertUnwindSafe(|| link::run(&server, generation));
                if std::panic::catch_unwind(run).is_err() {
                    crate::warning!("The replication link failed; reconnecting");
                    server.replica.link_lost(generation);
                    server.replica.pause(generation, Duration::from_secs(1));
                }
            }
        })
        .map(drop)
        .map_err(|e| format!("cannot start the replication link thread: {e}"))
}

/// Runs one session of the link in-process, on the calling thread, over `transport`
/// instead of a socket to the master: the handshake, PSYNC, the snapshot or +CONTINUE,
/// then the stream until `transport` ends (a read of `Ok(0)`), as the link thread does it
/// over TCP. For the `repl_stream` fuzz target; the server must be a replica
/// ([`set_master`]). Ok when the stream ended after a successful sync (the link would
/// reconnect), else the error the link would log.
pub fn run_session_over<'r>(
    server: &'r Server,
    transport: impl Transport + 'r,
) -> Result<(), String> {
    let generation = {
        let state = server.replica.state();
        if state.master.is_none() {
            return Err("not a replica".into());
        }
        state.generation
    };
    crate::db::keyspace::applying_master_stream(true);
    let outcome = link::session_over(server, generation, transport);
    crate::db::keyspace::applying_master_stream(false);
    server.replica.link_lost(generation);
    outcome.map_err(|error| match error {
        link::LinkError::Replaced => "replaced by REPLICAOF".into(),
        link::LinkError::Failed(line) => line,
    })
}

/// Makes this server a replica of `host`:`port` or, with None, a master again. The data
/// stays as it is either way; the link thread picks the change up at its next step.
pub fn set_master(server: &Server, master: Option<(String, u16)>, at_startup: bool) {
    let replica = &server.replica;
    let _applying = replica
        .applying_lock
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut state = replica.state();
    state.generation += 1;
    let was_replica = state.master.is_some();
    state.master = master.clone();
    state.link = LinkState::Connect;
    state.down_since = None;
    let read_only = server.config.hot.replica_read_only.load(Ordering::Relaxed);
    replica.active.store(master.is_some(), Ordering::Relaxed);
    server
        .keyspace
        .hide_expired
        .store(master.is_some() && read_only, Ordering::Relaxed);
    replica.unapplied.store(0, Ordering::Relaxed);
    match (was_replica, master.is_some()) {
        // Promoted: a new history starts here; the master's id stays valid up to this
        // offset, so this server's own replicas (and former siblings) can continue.
        (true, false) => {
            let mut stream = server.repl.stream();
            stream.shift_replid();
            stream.forget_selected_db();
            crate::notice!(
                "Setting secondary replication ID to {}, valid up to offset: {}. New \
                 replication ID is {}",
                stream.replid2,
                stream.second_replid_offset,
                stream.replid
            );
            drop(stream);
            server.repl.set_role(Role::Master);
        }
        // A master turned replica offers its own history to the new master (Redis'
        // replicationCacheMasterUsingMyself); at start-up there is none yet.
        (false, true) => {
            state.cached = !at_startup;
            server.repl.set_role(Role::Replica);
        }
        _ => {}
    }
    drop(state);
    if master.is_some() {
        disconnect_replicas(server);
    }
    replica.changed.notify_all();
}

/// Closes the links of this server's own replicas: its history changed (a full sync, a
/// new master), so they must sync again, as Redis' disconnectSlaves makes them.
pub(crate) fn disconnect_replicas(server: &Server) {
    let ids: Vec<u64> = server
        .repl
        .replicas
        .all()
        .iter()
        .map(|r| r.client_id)
        .collect();
    for handle in server.clients.all() {
        if ids.contains(&handle.id) {
            handle.kill();
        }
    }
}

/// `REPLICAOF host port` / `REPLICAOF NO ONE` (and SLAVEOF), as Redis 7.0 answers them.
pub fn replicaof(ctx: &mut Ctx, argv: &[Bytes]) {
    let (host, port) = (&argv[1], &argv[2]);
    let server = ctx.server;
    // The link applies its master's stream while holding the switch lock.
    if ctx.client.master_link {
        return ctx
            .reply
            .error("ERR REPLICAOF is not allowed from the master's stream");
    }
    if args::is(host, "no") && args::is(port, "one") {
        if server.replica.is_active() {
            set_master(server, None, false);
            crate::notice!(
                "MASTER MODE enabled (user request from 'id={} addr={}')",
                ctx.client.id,
                ctx.client.addr
            );
        }
        return ctx.reply.ok();
    }
    let Some(port) = args::parse_i64(port)
        .filter(|p| (0..=65535).contains(p))
        .map(|p| p as u16)
    else {
        return ctx.reply.error("ERR Invalid master port");
    };
    let host = String::from_utf8_lossy(host).into_owned();
    let current = server.replica.state().master.clone();
    if current.is_some_and(|(h, p)| h.eq_ignore_ascii_case(&host) && p == port) {
        crate::notice!(
            "REPLICAOF would result into synchronization with the master we are already \
             connected with. No operation performed."
        );
        return ctx.reply.simple("OK Already connected to specified master");
    }
    set_master(server, Some((host.clone(), port)), false);
    crate::notice!(
        "REPLICAOF {host}:{port} enabled (user request from 'id={} addr={}')",
        ctx.client.id,
        ctx.client.addr
    );
    ctx.reply.ok();
}

/// `replicaof "host port"` from the config file or `--replicaof`: the master to follow
/// from start-up, or an error naming what is wrong.
pub fn parse_replicaof(value: &str) -> Result<Option<(String, u16)>, String> {
    let words: Vec<&str> = value.split_whitespace().collect();
    match words.as_slice() {
        [] => Ok(None),
        [no, one] if no.eq_ignore_ascii_case("no") && one.eq_ignore_ascii_case("one") => Ok(None),
        [host, port] => port
            .parse::<u16>()
            .map(|port| Some((host.to_string(), port)))
            .map_err(|_| format!("replicaof: invalid master port '{port}'")),
        _ => Err(format!(
            "replicaof: expected \"<host> <port>\", got '{value}'"
        )),
    }
}

/// The replica-only fields of INFO replication, after `role:slave`, in Redis 7.0.15's
/// order. Nothing on a master.
pub fn info_fields(server: &Server, field: &mut dyn FnMut(&str, &dyn Display)) {
    let replica = &server.replica;
    let state = replica.state();
    let Some((host, port)) = &state.master else {
        return;
    };
    let last_io_ms = replica.last_io_ms.load(Ordering::Relaxed);
    let connected = state.link == LinkState::Connected;
    let offset = server.repl.stream().offset() as i64;
    let read_offset = offset + replica.unapplied.load(Ordering::Relaxed);
    field("master_host", host);
    field("master_port", port);
    field("master_link_status", &if connected { "up" } else { "down" });
    let last_io = if connected && last_io_ms > 0 {
        (crate::db::now_ms() - last_io_ms).max(0) / 1000
    } else {
        -1
    };
    field("master_last_io_seconds_ago", &last_io);
    let transferring = state.link == LinkState::Transfer;
    field("master_sync_in_progress", &u8::from(transferring));
    field("slave_read_repl_offset", &read_offset);
    field("slave_repl_offset", &offset);
    if transferring {
        let read = replica.transfer_read.load(Ordering::Relaxed) as i64;
        let total = state.transfer_size;
        // Redis' arithmetic: -0.00 before the size is known.
        let perc = if total != 0 {
            read as f64 / total as f64 * 100.0
        } else {
            0.0
        };
        field("master_sync_total_bytes", &total);
        field("master_sync_read_bytes", &read);
        field("master_sync_left_bytes", &(total - read));
        field("master_sync_perc", &format!("{perc:.2}"));
        let io_ago = (crate::db::now_ms() - last_io_ms).max(0) / 1000;
        field("master_sync_last_io_seconds_ago", &io_ago);
    }
    if !connected {
        let down = state
            .down_since
            .map_or(-1, |since| unix_secs().saturating_sub(since) as i64);
        field("master_link_down_since_seconds", &down);
    }
    field("slave_priority", &server.config.get_int("replica-priority"));
    field(
        "slave_read_only",
        &u8::from(server.config.hot.replica_read_only.load(Ordering::Relaxed)),
    );
    field(
        "replica_announced",
        &u8::from(server.config.get_bool("replica-announced")),
    );
}

/// ROLE on a replica: `slave`, host, port, link state, offset (-1 without a link). False
/// on a master (the caller answers the master form).
pub fn role_reply(ctx: &mut Ctx) -> bool {
    let replica = &ctx.server.replica;
    let state = replica.state();
    let Some((host, port)) = &state.master else {
        return false;
    };
    let offset = match state.link {
        LinkState::Connected => ctx.server.repl.stream().offset() as i64,
        _ => -1,
    };
    ctx.reply.array(5);
    ctx.reply.bulk(b"slave");
    ctx.reply.bulk(host.as_bytes());
    ctx.reply.int(i64::from(*port));
    ctx.reply.bulk(state.link.role_name().as_bytes());
    ctx.reply.int(offset);
    true
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicaof_setting_is_host_and_port_or_nothing() {
        assert_eq!(
            parse_replicaof("localhost 6379"),
            Ok(Some(("localhost".into(), 6379)))
        );
        assert_eq!(parse_replicaof(""), Ok(None));
        assert_eq!(parse_replicaof("no one"), Ok(None));
        assert!(parse_replicaof("localhost").is_err());
        assert!(parse_replicaof("localhost 70000").is_err());
    }

    /// The master's side of an in-process session: the bytes it sends, what it got.
    struct Memory<'a> {
        from_master: &'a [u8],
        to_master: Vec<u8>,
    }

    impl std::io::Read for Memory<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            self.from_master.read(out)
        }
    }

    impl std::io::Write for Memory<'_> {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.to_master.write(bytes)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    const MASTER_ID: &str = "0123456789abcdef0123456789abcdef01234567";

    /// A replica (of a master never dialled) holding `k` = `old`.
    fn replica_with_data() -> Server {
        let server = Server::for_embedding(Arc::new(crate::config::Config::new()));
        assert_eq!(run(&server, &["SET", "k", "old"]), "+OK\r\n");
        set_master(&server, Some(("master.invalid".into(), 6379)), true);
        server
    }

    fn run(server: &Server, argv: &[&str]) -> String {
        let addr = "127.0.0.1:1".parse().unwrap();
        let handle = crate::server::client::ClientHandle::new(1, addr, addr, -1);
        let mut client = crate::server::client::Client::new(Arc::new(handle), false);
        let mut reply = crate::resp::Reply::new();
        let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::from(a.to_string())).collect();
        let mut ctx = Ctx {
            server,
            client: &mut client,
            reply: &mut reply,
        };
        crate::cmd::execute(&mut ctx, &argv);
        String::from_utf8_lossy(&reply.buf).into_owned()
    }

    /// Handshake replies, `+FULLRESYNC <MASTER_ID> 100` and the header of `snapshot`, then
    /// its first `sent` bytes: an empty RDB 11 with a valid checksum (88 bytes).
    fn full_sync(sent: usize) -> Vec<u8> {
        let snapshot = "524544495330303131fa0972656469732d76657205372e322e30fa0a72656469732d\
            62697473c040fa056374696d65c26d08bc65fa08757365642d6d656dc2b0c41000fa08616f662d626173\
            65c000fff06e3bfec0ff5aa2";
        let snapshot: Vec<u8> = (0..snapshot.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&snapshot[i..i + 2], 16).unwrap())
            .collect();
        let mut bytes = format!(
            "+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC {MASTER_ID} 100\r\n${}\r\n",
            snapshot.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&snapshot[..sent.min(snapshot.len())]);
        bytes
    }

    #[test]
    fn a_session_over_memory_syncs_applies_the_stream_and_ends_with_the_bytes() {
        let server = replica_with_data();
        let set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nnew\r\n";
        let getack = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
        let mut input = full_sync(usize::MAX);
        input.extend_from_slice(format!("{set}{getack}").as_bytes());
        let mut master = Memory {
            from_master: &input,
            to_master: Vec::new(),
        };
        assert_eq!(run_session_over(&server, &mut master), Ok(()));
        assert_eq!(run(&server, &["GET", "k"]), "$3\r\nnew\r\n");
        let stream = server.repl.stream();
        assert_eq!(stream.replid, MASTER_ID);
        assert_eq!(stream.offset() as usize, 100 + set.len() + getack.len());
        let ack = |offset: usize| {
            let offset = offset.to_string();
            format!(
                "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n${}\r\n{offset}\r\n",
                offset.len()
            )
        };
        // The first ACK at once, then GETACK's answer: the offset before the GETACK.
        let acks = format!("{}{}", ack(100), ack(100 + set.len()));
        let written = String::from_utf8_lossy(&master.to_master);
        assert!(written.starts_with("*1\r\n$4\r\nPING\r\n"), "{written}");
        assert!(
            written.contains("$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n"),
            "{written}"
        );
        assert!(written.ends_with(&acks), "{written}");
    }

    #[test]
    fn a_session_over_memory_ending_mid_snapshot_keeps_the_previous_data() {
        let server = replica_with_data();
        let replid = server.repl.stream().replid.clone();
        let input = full_sync(40);
        let mut master = Memory {
            from_master: &input,
            to_master: Vec::new(),
        };
        let outcome = run_session_over(&server, &mut master);
        assert_eq!(
            outcome,
            Err("I/O error trying to sync with MASTER: connection lost".into())
        );
        assert_eq!(run(&server, &["GET", "k"]), "$3\r\nold\r\n");
        assert_eq!(server.repl.stream().replid, replid);
    }
}
