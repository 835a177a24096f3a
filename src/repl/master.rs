//! The master side: PSYNC/SYNC turn a connection into a replica sender, REPLCONF ACKs
//! come back on it, and WAIT counts them.
//!
//! ```text
//!  replica                         master (this connection, after PSYNC)
//!  PSYNC ? -1            ->
//!                        <-  +FULLRESYNC <replid> <offset>\r\n
//!                        <-  $EOF:<40 chars>\r\n <rdb> <the 40 chars>   (capa eof)
//!                            or $<len>\r\n<rdb>                         (otherwise)
//!                        <-  the stream from <offset> on, as it grows
//!  REPLCONF ACK <offset> ->  (every second; WAIT counts them)
//! ```
//! A partial resync answers `+CONTINUE <replid>` and streams from the replica's offset.
//! The sender reads straight from the backlog: a replica that falls further behind than
//! the backlog (or past `client-output-buffer-limit replica`) is dropped and must
//! full-resync. Writers never wait for a replica.

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::{mpsc, Notify};

use super::backlog::ReadError;
use crate::config::Config;
use crate::persist::snapshot::Snapshot;
use crate::resp::{ParseLimits, RequestParser};
use crate::server::client::{self, Client, ClientHandle};
use crate::server::io::Socket;
use crate::server::state::Server;

/// Bytes sent to a replica per write.
const CHUNK: usize = 64 * 1024;

/// The replicas attached to this master, and the sync counters of INFO stats.
#[derive(Debug, Default)]
pub struct Replicas {
    list: Mutex<Vec<Arc<Replica>>>,
    /// Woken on every ACK: WAIT waits on it.
    acked: Notify,
    /// Unix milliseconds of the last PING fed to the stream (one per period, whichever
    /// sender notices first).
    last_ping_ms: AtomicI64,
    pub sync_full: AtomicU64,
    pub sync_partial_ok: AtomicU64,
    pub sync_partial_err: AtomicU64,
}

/// One attached replica, as INFO, ROLE and WAIT see it.
#[derive(Debug)]
pub struct Replica {
    pub client_id: u64,
    /// Address announced with `REPLCONF ip-address`, else the peer's.
    pub ip: String,
    /// Port announced with `REPLCONF listening-port`.
    pub port: u16,
    state: AtomicU8,
    ack_offset: AtomicU64,
    ack_ms: AtomicI64,
}

const WAIT_BGSAVE: u8 = 0;
const SEND_BULK: u8 = 1;
const ONLINE: u8 = 2;

impl Replica {
    /// INFO's word for where this replica is.
    pub fn state(&self) -> &'static str {
        match self.state.load(Ordering::Relaxed) {
            WAIT_BGSAVE => "wait_bgsave",
            SEND_BULK => "send_bulk",
            _ => "online",
        }
    }

    pub fn online(&self) -> bool {
        self.state.load(Ordering::Relaxed) == ONLINE
    }

    /// The offset the replica last acknowledged.
    pub fn ack_offset(&self) -> u64 {
        self.ack_offset.load(Ordering::Relaxed)
    }

    /// Whole seconds since the last ACK (INFO's `lag`).
    pub fn lag_secs(&self) -> i64 {
        (crate::db::now_ms() - self.ack_ms.load(Ordering::Relaxed)).max(0) / 1000
    }
}

impl Replicas {
    pub fn all(&self) -> Vec<Arc<Replica>> {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Arc<Replica>>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// CONFIG RESETSTAT: the sync counters start again from zero.
    pub fn reset_stats(&self) {
        for counter in [
            &self.sync_full,
            &self.sync_partial_ok,
            &self.sync_partial_err,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }

    /// Online replicas whose ACK reached `offset` (Redis' replicationCountAcksByOffset).
    pub fn acked_at_least(&self, offset: u64) -> usize {
        self.lock()
            .iter()
            .filter(|r| r.online() && r.ack_offset() >= offset)
            .count()
    }
}

/// The replication side of one connection: its REPLCONF announcements, what PSYNC or
/// WAIT asked the connection to do after the command, and its last write's offset.
#[derive(Debug, Default)]
pub struct ClientRepl {
    pub listening_port: u16,
    pub ip_address: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    /// Set by PSYNC/SYNC: the connection becomes a replica sender after this command.
    pub sync: Option<SyncRequest>,
    /// Set by a WAIT that must wait: the connection waits before its next command.
    pub wait: Option<WaitRequest>,
    /// Stream offset right after this client's last propagated write.
    pub write_offset: u64,
}

#[derive(Debug)]
pub enum SyncRequest {
    /// Snapshot, then stream. `psync`: announce it with `+FULLRESYNC` (SYNC does not).
    Full { psync: bool },
    /// `+CONTINUE` was replied: stream everything after byte `from`.
    Partial { from: u64 },
}

#[derive(Debug)]
pub struct WaitRequest {
    pub offset: u64,
    pub replicas: usize,
    /// None: wait for ever.
    pub timeout: Option<Duration>,
}

/// PSYNC's decision under the stream lock: the byte after which a partial resync can
/// continue, if `replid` names this history (or the previous one, up to where it ended)
/// and the requested offset is still in the backlog.
pub fn try_partial(server: &Server, replid: &[u8], psync_offset: i64) -> Option<u64> {
    let stream = server.repl.stream();
    let ours = replid == stream.replid.as_bytes();
    let previous =
        replid == stream.replid2.as_bytes() && psync_offset <= stream.second_replid_offset;
    if !(ours || previous) {
        return None;
    }
    let have = u64::try_from(psync_offset).ok()?.checked_sub(1)?;
    stream.backlog()?.can_serve(have).ok()?;
    Some(have)
}

/// How the connection of a replica sender ended.
pub enum Ended {
    Gone,
    Killed,
}

/// Serves a connection that sent PSYNC or SYNC, until it goes or is dropped: the
/// snapshot for a full resync, then the stream; ACKs are read meanwhile. `input` holds
/// what the replica sent after its PSYNC.
pub(crate) async fn serve_replica<S: Socket>(
    socket: &S,
    server: &Server,
    client: &mut Client,
    sync: SyncRequest,
    input: BytesMut,
) -> Ended {
    let handle = client.handle.clone();
    let ip = client
        .repl
        .ip_address
        .clone()
        .unwrap_or_else(|| client.addr.ip().to_string());
    let replica = Arc::new(Replica {
        client_id: client.id,
        ip,
        port: client.repl.listening_port,
        state: AtomicU8::new(WAIT_BGSAVE),
        ack_offset: AtomicU64::new(0),
        ack_ms: AtomicI64::new(crate::db::now_ms()),
    });
    let replicas = &server.repl.replicas;
    replicas.lock().push(replica.clone());
    let _attached = Attached {
        server,
        replica: &replica,
    };
    handle
        .flags
        .fetch_or(client::FLAG_REPLICA, Ordering::Relaxed);
    server
        .repl
        .ensure_backlog(super::backlog_size(&server.config));
    let mut sender = Sender {
        socket,
        server,
        handle: &handle,
        replica: &replica,
        sent: 0,
        over_soft_since: None,
    };
    let eof = client.repl.capa_eof;
    let started = match sync {
        SyncRequest::Partial { from } => sender.continue_from(from).map(|()| false),
        SyncRequest::Full { psync } => sender.full_sync(psync, eof).await.map(|()| eof),
    };
    let wait_for_ack = match started {
        Ok(wait) => wait,
        Err(ended) => return ended,
    };
    crate::notice!(
        "Synchronization with replica {}:{} succeeded",
        replica.ip,
        replica.port
    );
    sender.stream(input, wait_for_ack).await
}

/// Keeps a replica listed while its sender runs.
struct Attached<'a> {
    server: &'a Server,
    replica: &'a Arc<Replica>,
}

impl Drop for Attached<'_> {
    fn drop(&mut self) {
        let replicas = &self.server.repl.replicas;
        replicas.lock().retain(|r| !Arc::ptr_eq(r, self.replica));
        self.server
            .repl
            .stream()
            .remove_cursor(self.replica.client_id);
        // A WAIT counting this replica recounts.
        replicas.acked.notify_waiters();
    }
}

/// The hard limit of `client-output-buffer-limit`'s replica class; None for no limit.
pub(crate) fn output_hard_limit(config: &Config) -> Option<usize> {
    let (hard, _, _) = output_limits(config);
    (hard > 0).then(|| usize::try_from(hard).unwrap_or(usize::MAX))
}

/// `client-output-buffer-limit`'s replica class: (hard bytes, soft bytes, soft seconds),
/// 0 meaning no limit.
fn output_limits(config: &Config) -> (u64, u64, u64) {
    let text = config.get("client-output-buffer-limit");
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .chunks(4)
        .find(|class| matches!(class[0], "slave" | "replica"))
        .and_then(|class| {
            let n = |i: usize| class.get(i).and_then(|w| crate::config::parse_memory(w));
            Some((n(1)?, n(2)?, n(3)?))
        })
        .unwrap_or((0, 0, 0))
}

struct Sender<'a, S> {
    socket: &'a S,
    server: &'a Server,
    handle: &'a ClientHandle,
    replica: &'a Replica,
    /// Bytes of the stream written to this replica. What lies between here and the end
    /// of the stream is its output buffer, which the backlog keeps for it (its cursor).
    sent: u64,
    /// Since when the replica has been behind by more than the soft limit.
    over_soft_since: Option<std::time::Instant>,
}

/// A piece of the snapshot from the encoding thread.
enum Piece {
    Data(Vec<u8>),
    Done,
    Failed(String),
}

/// Hands the encoded snapshot to the sender in [`CHUNK`]-sized pieces.
struct PieceWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Piece>,
}

impl std::io::Write for PieceWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = Piece::Data(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(piece)
            .map_err(|_| std::io::Error::other("the replica is gone"))
    }
}

impl<S: Socket> Sender<'_, S> {
    async fn write(&self, bytes: Vec<u8>) -> Result<Vec<u8>, Ended> {
        let written = bytes.len() as u64;
        let (result, bytes) = tokio::select! {
            biased;
            _ = self.handle.killed() => return Err(Ended::Killed),
            done = self.socket.write_stream(bytes) => done,
        };
        result.map_err(|_| Ended::Gone)?;
        crate::server::state::Stats::add(&self.server.stats.net_output_bytes, written);
        Ok(bytes)
    }

    /// A partial resync: the backlog keeps everything after byte `from` for this
    /// replica from now on, if it still holds it.
    fn continue_from(&mut self, from: u64) -> Result<(), Ended> {
        let mut stream = self.server.repl.stream();
        let held = stream.backlog().map(|b| b.can_serve(from));
        self.read_or_drop(held.unwrap_or(Err(ReadError::Overwritten)).map(|()| 0))?;
        stream.set_retain_extra(output_hard_limit(&self.server.config));
        stream.set_cursor(self.replica.client_id, from);
        self.sent = from;
        Ok(())
    }

    /// Takes the snapshot (and the stream offset it matches, from which on the backlog
    /// keeps the stream for this replica), sends `+FULLRESYNC` and the RDB.
    async fn full_sync(&mut self, psync: bool, eof: bool) -> Result<(), Ended> {
        let (repl, id) = (&self.server.repl, self.replica.client_id);
        let retain = output_hard_limit(&self.server.config);
        let (marked, (replid, offset)) = Snapshot::mark(&self.server.keyspace, || {
            let mut stream = repl.stream();
            // The replica loads the snapshot into database 0's context: the stream
            // after it must say which database it writes to.
            stream.forget_selected_db();
            stream.set_retain_extra(retain);
            let offset = stream.offset();
            stream.set_cursor(id, offset);
            (stream.replid.clone(), offset)
        });
        self.sent = offset;
        crate::notice!(
            "Starting BGSAVE for SYNC with target: {} (clients paused {:.3} ms)",
            if eof { "replicas sockets" } else { "disk" },
            marked.pause().as_secs_f64() * 1000.0
        );
        if psync {
            self.write(format!("+FULLRESYNC {replid} {offset}\r\n").into_bytes())
                .await?;
        }
        self.replica.state.store(SEND_BULK, Ordering::Relaxed);
        let (tx, mut rx) = mpsc::channel(4);
        let enc = crate::persist::encoding(&self.server.config);
        let failed = tx.clone();
        let keyspace = self.server.keyspace.clone();
        std::thread::Builder::new()
            .name("repl-snapshot".into())
            .spawn(move || {
                let snapshot = marked.collect(&keyspace);
                crate::notice!(
                    "Snapshot for replica: {} keys copied in {:.1} ms",
                    snapshot.keys(),
                    snapshot.copying.as_secs_f64() * 1000.0
                );
                let mut out = PieceWriter {
                    buf: Vec::with_capacity(CHUNK),
                    tx,
                };
                let piece = match snapshot
                    .write(&mut out, enc)
                    .and_then(std::io::Write::flush)
                {
                    Ok(()) => Piece::Done,
                    Err(e) => Piece::Failed(e.to_string()),
                };
                let _ = out.tx.blocking_send(piece);
            })
            .map_err(|_| Ended::Gone)?;
        drop(failed);
        let mark = eof.then(random_mark);
        let mut whole = Vec::new();
        if let Some(mark) = &mark {
            self.write(format!("$EOF:{mark}\r\n").into_bytes()).await?;
        }
        loop {
            let piece = rx
                .recv()
                .await
                .unwrap_or(Piece::Failed("encoder stopped".into()));
            match piece {
                Piece::Data(data) if mark.is_some() => {
                    self.write(data).await?;
                }
                Piece::Data(data) => whole.extend_from_slice(&data),
                Piece::Done => break,
                Piece::Failed(e) => {
                    crate::warning!("Snapshot for replica failed: {e}");
                    return Err(Ended::Gone);
                }
            }
        }
        match mark {
            Some(mark) => self.write(mark.into_bytes()).await?,
            None => {
                let mut out = format!("${}\r\n", whole.len()).into_bytes();
                out.extend_from_slice(&whole);
                drop(whole);
                self.write(out).await?
            }
        };
        Ok(())
    }

    /// Whether the replica is behind by more than `client-output-buffer-limit replica`
    /// allows: the hard limit at once, the soft one for longer than its seconds.
    fn over_limits(&mut self, end: u64) -> bool {
        let behind = end.saturating_sub(self.sent);
        let (hard, soft, soft_secs) = output_limits(&self.server.config);
        let over_soft = soft > 0 && behind > soft;
        if !over_soft {
            self.over_soft_since = None;
        }
        let since = *self
            .over_soft_since
            .get_or_insert_with(std::time::Instant::now);
        let over = (hard > 0 && behind > hard)
            || (over_soft && since.elapsed() >= Duration::from_secs(soft_secs));
        if over {
            crate::warning!(
                "Client id={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                self.replica.client_id
            );
        }
        over
    }

    fn read_or_drop(&self, read: Result<usize, ReadError>) -> Result<usize, Ended> {
        read.map_err(|_| {
            crate::warning!(
                "Replica {}:{} fell behind the replication backlog: dropping it",
                self.replica.ip,
                self.replica.port
            );
            Ended::Gone
        })
    }

    /// Streams the backlog as it grows, reads ACKs, and feeds the periodic PING. After
    /// a `$EOF:` snapshot nothing is sent until the replica's first ACK: a replica
    /// finds the end mark only at the end of what it reads, so stream bytes right behind
    /// the mark would hide it (Redis waits the same way).
    async fn stream(mut self, input: BytesMut, wait_for_ack: bool) -> Ended {
        let mut parser = RequestParser::new();
        let mut argv: Vec<Bytes> = Vec::new();
        let mut input = input;
        let mut online = self.acks(&mut parser, &mut input, &mut argv) || !wait_for_ack;
        input.reserve(1024);
        let socket = self.socket;
        let mut read = Box::pin(socket.read(input));
        let mut out = Vec::with_capacity(CHUNK);
        loop {
            if online && !self.replica.online() {
                self.replica.state.store(ONLINE, Ordering::Relaxed);
            }
            let grown = self.server.repl.grown().notified();
            let ping_in = self.ping_due();
            if ping_in.is_zero() {
                self.ping();
                continue;
            }
            let mut wrote = false;
            if online {
                let (taken, end) = {
                    let stream = self.server.repl.stream();
                    let taken = match stream.backlog() {
                        Some(backlog) => backlog.read_from(self.sent, CHUNK, &mut out),
                        None => Err(ReadError::Overwritten),
                    };
                    (taken, stream.offset())
                };
                if self.over_limits(end) || self.read_or_drop(taken).is_err() {
                    return Ended::Gone;
                }
                if !out.is_empty() {
                    match self.write(std::mem::take(&mut out)).await {
                        Ok(mut buf) => {
                            self.sent += buf.len() as u64;
                            buf.clear();
                            out = buf;
                        }
                        Err(ended) => return ended,
                    }
                    let mut stream = self.server.repl.stream();
                    stream.set_cursor(self.replica.client_id, self.sent);
                    wrote = true;
                }
            }
            // After a write ACKs are looked at without waiting for one.
            tokio::select! {
                biased;
                _ = self.handle.killed() => return Ended::Killed,
                (result, mut buffer) = &mut read => {
                    match result {
                        Ok(n) if n > 0 => {}
                        _ => return Ended::Gone,
                    }
                    self.handle.touch();
                    online |= self.acks(&mut parser, &mut buffer, &mut argv);
                    if buffer.capacity() - buffer.len() < 1024 {
                        buffer.reserve(16 * 1024);
                    }
                    read = Box::pin(socket.read(buffer));
                }
                _ = std::future::ready(()), if wrote => {}
                _ = grown => {}
                _ = tokio::time::sleep(ping_in) => {}
            }
        }
    }

    /// Records the replica's `REPLCONF ACK <offset>`s in `input` (anything else a
    /// replica sends is ignored, as Redis ignores replies from replicas).
    fn acks(
        &self,
        parser: &mut RequestParser,
        input: &mut BytesMut,
        argv: &mut Vec<Bytes>,
    ) -> bool {
        let mut acked = false;
        let limits = ParseLimits {
            max_bulk_len: 1024 * 1024,
            auth_required: false,
        };
        while let Ok(true) = parser.parse(input, &limits, argv) {
            let is_ack = argv.len() >= 3
                && argv[0].eq_ignore_ascii_case(b"replconf")
                && argv[1].eq_ignore_ascii_case(b"ack");
            if let Some(offset) = is_ack
                .then(|| crate::cmd::args::parse_i64(&argv[2]))
                .flatten()
            {
                let offset = u64::try_from(offset).unwrap_or(0);
                self.replica.ack_offset.fetch_max(offset, Ordering::Relaxed);
                self.replica
                    .ack_ms
                    .store(crate::db::now_ms(), Ordering::Relaxed);
                self.server.repl.replicas.acked.notify_waiters();
                acked = true;
            }
            argv.clear();
        }
        acked
    }

    /// Time until the next PING is due (`repl-ping-replica-period`).
    fn ping_due(&self) -> Duration {
        let period = self
            .server
            .config
            .get_int("repl-ping-replica-period")
            .max(1)
            * 1000;
        let replicas = &self.server.repl.replicas;
        // The first replica starts the clock: its first PING comes a period later.
        let now = crate::db::now_ms();
        let _ =
            replicas
                .last_ping_ms
                .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        let last = replicas.last_ping_ms.load(Ordering::Relaxed);
        Duration::from_millis((last + period - now).clamp(0, period) as u64)
    }

    /// Feeds one PING to the stream per period, whichever sender gets here first.
    fn ping(&self) {
        let replicas = &self.server.repl.replicas;
        let last = replicas.last_ping_ms.load(Ordering::Relaxed);
        let period = self
            .server
            .config
            .get_int("repl-ping-replica-period")
            .max(1)
            * 1000;
        let now = crate::db::now_ms();
        if now - last >= period
            && replicas
                .last_ping_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // Lower case, as Redis 7.0 sends it (the stream's bytes count for offsets).
            self.server.repl.feed(&[b"ping".as_slice()]);
        }
    }
}

/// 40 random alphanumeric characters: the diskless snapshot's end mark.
fn random_mark() -> String {
    crate::server::state::random_hex_id()
}

/// WAIT: waits until `request.replicas` replicas acknowledged `request.offset` or the
/// timeout passes; returns how many had.
pub async fn wait_for_acks(server: &Server, request: WaitRequest) -> usize {
    let replicas = &server.repl.replicas;
    let deadline = request
        .timeout
        .and_then(|t| tokio::time::Instant::now().checked_add(t));
    loop {
        let acked = replicas.acked.notified();
        let count = replicas.acked_at_least(request.offset);
        if count >= request.replicas {
            return count;
        }
        match deadline {
            Some(deadline) => {
                if tokio::time::timeout_at(deadline, acked).await.is_err() {
                    return replicas.acked_at_least(request.offset);
                }
            }
            None => acked.await,
        }
    }
}
