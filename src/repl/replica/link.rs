//! The link to the master, on its own thread with a blocking socket: connect, handshake
//! one step at a time as Redis 7.0 does, PSYNC, then apply the stream.
//!
//! ```text
//! -> PING                                  <- +PONG (or -NOAUTH: AUTH follows anyway)
//! -> AUTH [<masteruser>] <masterauth>      <- +OK          (only with masterauth set)
//! -> REPLCONF listening-port <port>        <- +OK
//! -> REPLCONF capa eof capa psync2         <- +OK
//! -> PSYNC <replid> <offset+1> | PSYNC ? -1
//!                      <- +FULLRESYNC <replid> <offset>, the snapshot (see `snapshot`)
//!                      <- +CONTINUE [<new replid>]
//! <- the stream: commands, PING, REPLCONF GETACK *   -> REPLCONF ACK <offset>
//! ```
//!
//! The socket is read with a short timeout, so the thread notices a REPLICAOF, sends its
//! one-second ACK and enforces `repl-timeout` without a second thread. Everything after
//! the connect runs over any [`Transport`], so a session can also run in-process over
//! bytes from memory (the `repl_stream` fuzz target).

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::{snapshot, LinkState, Position, Replica};
use crate::cmd::{self, args, Ctx};
use crate::resp::{ParseLimits, Reply, RequestParser};
use crate::server::client::{Client, ClientHandle};
use crate::server::state::Server;

/// How long one socket read waits before the thread looks around (REPLICAOF, ACK timer).
const TICK: Duration = Duration::from_millis(100);
/// The replica ACKs its offset this often, as Redis does from its cron.
const ACK_EVERY: Duration = Duration::from_secs(1);
/// Pause between two attempts to reach the master (Redis retries from its 1 s cron).
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// A handshake reply line longer than this is not from a Redis master.
const MAX_LINE: usize = 64 * 1024;
/// Free space kept in the read buffer before each read.
const READ_CHUNK: usize = 64 * 1024;

/// Why a link ended.
pub(super) enum LinkError {
    /// REPLICAOF named another master (or NO ONE): stop quietly.
    Replaced,
    /// Logged as a warning, then the link is retried.
    Failed(String),
}

/// `# Error condition on socket for SYNC: <reason>`: a failure before the transfer.
fn sync_error(reason: impl std::fmt::Display) -> LinkError {
    LinkError::Failed(format!("Error condition on socket for SYNC: {reason}"))
}

/// Follows the master of `generation` until REPLICAOF replaces it, reconnecting after
/// every loss.
pub(super) fn run(server: &Arc<Server>, generation: u64) {
    let replica = &server.replica;
    while let Some((host, port)) = replica.target(generation) {
        match session(server, generation, &host, port) {
            Ok(()) | Err(LinkError::Replaced) => {}
            Err(LinkError::Failed(line)) => crate::warning!("{line}"),
        }
        replica.link_lost(generation);
        replica.pause(generation, RETRY_AFTER);
    }
}

/// One connection to the master: handshake, sync, then the stream until it breaks.
fn session(server: &Server, generation: u64, host: &str, port: u16) -> Result<(), LinkError> {
    crate::notice!("Connecting to MASTER {host}:{port}");
    server.replica.set_link(generation, LinkState::Connecting);
    let conn = Conn::connect(host, port, server, generation)?;
    sync_and_follow(server, conn)
}

/// A session over `transport` instead of a socket: what the link does once connected.
pub(super) fn session_over<'r>(
    server: &'r Server,
    generation: u64,
    transport: impl Transport + 'r,
) -> Result<(), LinkError> {
    sync_and_follow(server, Conn::new(Box::new(transport), server, generation))
}

/// The connected part of a session: handshake, PSYNC, the snapshot or +CONTINUE, then
/// the stream until the link breaks.
fn sync_and_follow(server: &Server, mut conn: Conn) -> Result<(), LinkError> {
    let (replica, generation) = (&server.replica, conn.generation);
    crate::notice!("MASTER <-> REPLICA sync started");
    replica.set_link(generation, LinkState::Handshake);
    handshake(server, &mut conn)?;
    let cached = replica.cached_position(&server.repl);
    match &cached {
        Some(p) => {
            crate::notice!(
                "Trying a partial resynchronization (request {}:{}).",
                p.replid,
                p.offset + 1
            );
            conn.send(&[
                b"PSYNC",
                p.replid.as_bytes(),
                (p.offset + 1).to_string().as_bytes(),
            ])?;
        }
        None => {
            crate::notice!("Partial resynchronization not possible (no cached master)");
            conn.send(&[b"PSYNC", b"?", b"-1"])?;
        }
    }
    let reply = conn.read_reply_line()?;
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let position = parse_fullresync(rest)
            .ok_or_else(|| sync_error(format!("bad +FULLRESYNC reply '{reply}'")))?;
        crate::notice!(
            "Full resync from master: {}:{}",
            position.replid,
            position.offset
        );
        replica.set_link(generation, LinkState::Transfer);
        let staging = snapshot::receive(server, &mut conn)?;
        let _applying = replica.applying(generation)?;
        crate::notice!("MASTER <-> REPLICA sync: Flushing old data");
        drop(server.keyspace.replace_all(staging));
        let backlog_size = server.config.get_int("repl-backlog-size").max(1) as usize;
        server
            .repl
            .stream()
            .reset(&position.replid, position.offset as u64, backlog_size);
        replica.master_db.store(0, Ordering::Relaxed);
        replica.synced(generation);
        super::disconnect_replicas(server);
        crate::notice!("MASTER <-> REPLICA sync: Finished with success");
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let position = cached.ok_or_else(|| sync_error("+CONTINUE without a PSYNC"))?;
        let _applying = replica.applying(generation)?;
        crate::notice!("Successful partial resynchronization with master.");
        let new_id = rest.trim();
        if !new_id.is_empty() && new_id != position.replid {
            // The master's history goes on under a new id (it was promoted): ours
            // follows, the old id stays valid up to here for our own replicas.
            let mut stream = server.repl.stream();
            stream.replid2 = std::mem::replace(&mut stream.replid, new_id.to_string());
            stream.second_replid_offset = position.offset + 1;
            crate::notice!("Master replication ID changed to {new_id}");
        }
        replica.synced(generation);
        crate::notice!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    } else if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
        return Err(LinkError::Failed(format!(
            "Master is currently unable to PSYNC but should be in the future: {reply}"
        )));
    } else {
        return Err(sync_error(format!(
            "Unexpected reply to PSYNC from master: {reply}"
        )));
    }
    // The first ACK at once: a diskless Redis master puts the replica online on it.
    conn.send_ack(ack_offset(server))?;
    follow(server, &mut conn)
}

/// PING, AUTH (with `masterauth`), REPLCONF listening-port and capa: each sent only once
/// the previous one was answered.
fn handshake(server: &Server, conn: &mut Conn) -> Result<(), LinkError> {
    conn.send(&[b"PING"])?;
    let pong = conn.read_reply_line()?;
    let auth_error = ["-NOAUTH", "-NOPERM", "-ERR operation not permitted"]
        .iter()
        .any(|prefix| pong.starts_with(prefix));
    if pong.starts_with('-') && !auth_error {
        return Err(sync_error(format!(
            "Error reply to PING from master: '{pong}'"
        )));
    }
    crate::notice!("Master replied to PING, replication can continue...");
    let password = server.config.get("masterauth");
    if !password.is_empty() {
        let user = server.config.get("masteruser");
        let mut auth: Vec<&[u8]> = vec![b"AUTH"];
        if !user.is_empty() {
            auth.push(user.as_bytes());
        }
        auth.push(password.as_bytes());
        conn.send(&auth)?;
        let reply = conn.read_reply_line()?;
        if reply.starts_with('-') {
            return Err(sync_error(format!("Unable to AUTH to MASTER: {reply}")));
        }
    }
    let port = match server.config.get_int("replica-announce-port") {
        0 => i64::from(server.startup.port),
        announced => announced,
    };
    conn.send(&[b"REPLCONF", b"listening-port", port.to_string().as_bytes()])?;
    let reply = conn.read_reply_line()?;
    if reply.starts_with('-') {
        crate::notice!(
            "(Non critical) Master does not understand REPLCONF listening-port: {reply}"
        );
    }
    conn.send(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])?;
    let reply = conn.read_reply_line()?;
    if reply.starts_with('-') {
        crate::notice!("(Non critical) Master does not understand REPLCONF capa: {reply}");
    }
    Ok(())
}

/// `<40-character replid> <offset>` of a +FULLRESYNC reply.
fn parse_fullresync(rest: &str) -> Option<Position> {
    let (replid, offset) = rest.trim().split_once(' ')?;
    let offset = offset.parse::<i64>().ok().filter(|o| *o >= 0)?;
    (replid.len() == 40 && replid.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| Position {
        replid: replid.to_string(),
        offset,
    })
}

/// Applies the master's stream until the link breaks: every command through the
/// dispatcher as the master client (replies dropped), `REPLCONF GETACK` answered with the
/// offset processed before it, an ACK every second.
fn follow(server: &Server, conn: &mut Conn) -> Result<(), LinkError> {
    let replica = &server.replica;
    // The stream's bytes as received, appended to this server's own stream as each
    // command is applied: sub-replicas get exactly the master's stream and offsets.
    let mut raw = conn.buf.clone();
    replica.unapplied.store(raw.len() as i64, Ordering::Relaxed);
    let mut client = master_client(server, conn);
    client.db = replica.master_db.load(Ordering::Relaxed);
    let mut parser = RequestParser::new();
    let mut reply = Reply::new();
    let mut argv: Vec<Bytes> = Vec::new();
    let limits = ParseLimits {
        max_bulk_len: server.config.hot.proto_max_bulk_len.load(Ordering::Relaxed),
        auth_required: false,
    };
    let mut last_ack = Instant::now();
    loop {
        // Held while applying what was read: once REPLICAOF returns, nothing more from
        // the old master is applied.
        let applying = replica.applying(conn.generation)?;
        // Bytes applied but not yet appended to this server's stream: appended once per
        // batch (one stream lock), and before any ACK.
        let mut done = 0;
        loop {
            let before = conn.buf.len();
            let parsed = parser.parse(&mut conn.buf, &limits, &mut argv);
            let used = before - conn.buf.len();
            match parsed {
                // The offset answered excludes the GETACK itself.
                Ok(true) if is_getack(&argv) => {
                    applied(server, &mut raw, std::mem::take(&mut done));
                    conn.send_ack(ack_offset(server))?;
                }
                Ok(true) => {
                    apply(server, &mut client, &mut reply, &argv);
                    replica.master_db.store(client.db, Ordering::Relaxed);
                }
                Ok(false) => {
                    applied(server, &mut raw, done + used);
                    break;
                }
                Err(error) => {
                    // What was applied counts: a partial resync must not repeat it.
                    applied(server, &mut raw, done);
                    return Err(LinkError::Failed(format!(
                        "Protocol error from MASTER: {}; connection with master lost.",
                        error.0
                    )));
                }
            }
            done += used;
        }
        drop(applying);
        if last_ack.elapsed() >= ACK_EVERY {
            conn.send_ack(ack_offset(server))?;
            last_ack = Instant::now();
            // CONFIG SET replica-read-only may have changed since the last tick.
            let read_only = server.config.hot.replica_read_only.load(Ordering::Relaxed);
            server
                .keyspace
                .hide_expired
                .store(read_only, Ordering::Relaxed);
        }
        match conn.read_some() {
            Ok(Some(n)) => {
                raw.extend_from_slice(&conn.buf[conn.buf.len() - n..]);
                replica.unapplied.fetch_add(n as i64, Ordering::Relaxed);
            }
            Ok(None) => {}
            Err(LinkError::Failed(_)) => {
                crate::warning!("Connection with master lost.");
                crate::notice!("Caching the disconnected master state.");
                return Ok(());
            }
            Err(replaced) => return Err(replaced),
        }
    }
}

/// `used` bytes of the stream were applied: they join this server's own stream.
fn applied(server: &Server, raw: &mut BytesMut, used: usize) {
    if used > 0 {
        server.repl.append_raw(&raw.split_to(used));
        server
            .replica
            .unapplied
            .fetch_sub(used as i64, Ordering::Relaxed);
    }
}

/// The offset `REPLCONF ACK` reports: the stream applied so far.
fn ack_offset(server: &Server) -> i64 {
    server.repl.stream().offset() as i64
}

fn is_getack(argv: &[Bytes]) -> bool {
    argv.len() >= 2 && args::is(&argv[0], "replconf") && args::is(&argv[1], "getack")
}

/// The client the master's commands run as: never refused as read-only, never answered.
fn master_client(server: &Server, conn: &Conn) -> Client {
    let handle = ClientHandle::new(
        server.stats.next_client_id(),
        conn.peer,
        conn.local,
        conn.fd,
    );
    let mut client = Client::new(Arc::new(handle), false);
    client.master_link = true;
    client
}

/// Runs one command of the stream. Its reply is dropped; an error is logged, as Redis
/// logs a replica "sending an error to its master".
fn apply(server: &Server, client: &mut Client, reply: &mut Reply, argv: &[Bytes]) {
    let mut ctx = Ctx {
        server,
        client: &mut *client,
        reply: &mut *reply,
    };
    cmd::execute(&mut ctx, argv);
    if reply.buf.first() == Some(&b'-') {
        let text = String::from_utf8_lossy(&reply.buf[1..]);
        crate::warning!(
            "== CRITICAL == This replica is sending an error to its master: '{}' after \
             processing the command '{}'",
            text.trim_end(),
            String::from_utf8_lossy(&argv[0])
        );
    }
    reply.buf.clear();
    // Nothing from a master waits: blocking forms arrive rewritten, DEBUG SLEEP is moot.
    client.blocked = None;
    client.sleep = None;
    client.clock.settle_pending(server);
    client.clock.waited();
}

/// What the link reads the master's bytes from and writes its own to: a [`TcpStream`],
/// or for an in-process session anything that reads and writes. Its reads must not block
/// for long (the link checks for REPLICAOF between them); `Ok(0)` is the master closing
/// the link.
pub trait Transport: Read + Write {}

impl<T: Read + Write> Transport for T {}

/// `repl-timeout`: the longest wait to connect, and the longest silence from the master.
fn repl_timeout(server: &Server) -> Duration {
    Duration::from_secs(server.config.get_int("repl-timeout").max(1) as u64)
}

/// The link to the master and what was read from it but not yet consumed: handshake
/// replies, the snapshot and the stream come from the same buffer in turn.
pub(super) struct Conn<'r> {
    stream: Box<dyn Transport + 'r>,
    pub(super) buf: BytesMut,
    /// The socket's addresses and descriptor for the master client (CLIENT LIST);
    /// placeholders in-process.
    peer: SocketAddr,
    local: SocketAddr,
    fd: RawFd,
    replica: &'r Replica,
    generation: u64,
    /// Longest silence from the master before the link is given up (`repl-timeout`).
    timeout: Duration,
    last_data: Instant,
}

impl<'r> Conn<'r> {
    /// A link over `stream`, with `repl-timeout` as its longest silence.
    fn new(stream: Box<dyn Transport + 'r>, server: &'r Server, generation: u64) -> Conn<'r> {
        let nowhere = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        Conn {
            stream,
            buf: BytesMut::with_capacity(READ_CHUNK),
            peer: nowhere,
            local: nowhere,
            fd: -1,
            replica: &server.replica,
            generation,
            timeout: repl_timeout(server),
            last_data: Instant::now(),
        }
    }

    fn connect(
        host: &str,
        port: u16,
        server: &'r Server,
        generation: u64,
    ) -> Result<Conn<'r>, LinkError> {
        let addrs = (host, port).to_socket_addrs().map_err(sync_error)?;
        let mut last_error = sync_error(format!("cannot resolve '{host}'"));
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, repl_timeout(server)) {
                Ok(stream) => {
                    let setup = stream
                        .set_nodelay(true)
                        .and_then(|()| stream.set_read_timeout(Some(TICK)))
                        .and_then(|()| stream.local_addr());
                    let local = setup.map_err(sync_error)?;
                    let fd = stream.as_raw_fd();
                    let mut conn = Conn::new(Box::new(stream), server, generation);
                    (conn.peer, conn.local, conn.fd) = (addr, local, fd);
                    return Ok(conn);
                }
                Err(e) => last_error = sync_error(e),
            }
        }
        Err(last_error)
    }

    pub(super) fn replica(&self) -> &'r Replica {
        self.replica
    }

    /// Sends one command as a RESP array of bulk strings.
    fn send(&mut self, argv: &[&[u8]]) -> Result<(), LinkError> {
        let mut out = Reply::new();
        out.array(argv.len());
        for arg in argv {
            out.bulk(arg);
        }
        self.stream
            .write_all(&out.buf)
            .map_err(|e| LinkError::Failed(format!("Error writing to MASTER: {e}")))
    }

    /// `REPLCONF ACK <offset>`: the only thing a replica ever says to its master after
    /// the handshake.
    fn send_ack(&mut self, offset: i64) -> Result<(), LinkError> {
        self.send(&[b"REPLCONF", b"ACK", offset.to_string().as_bytes()])
    }

    /// Reads what the socket has into `buf`: Some(bytes) or None when a tick passed
    /// without data. Fails when the master closed, after `repl-timeout` of silence, or
    /// when REPLICAOF replaced this link.
    pub(super) fn read_some(&mut self) -> Result<Option<usize>, LinkError> {
        if !self.replica.is_current(self.generation) {
            return Err(LinkError::Replaced);
        }
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        let start = self.buf.len();
        // Zeroed before the read: at most a few chunks, even when a big argument grew
        // the buffer.
        let room = (self.buf.capacity() - start).min(4 * READ_CHUNK);
        self.buf.resize(start + room, 0);
        let result = self.stream.read(&mut self.buf[start..]);
        self.buf.truncate(start + *result.as_ref().unwrap_or(&0));
        match result {
            Ok(0) => Err(LinkError::Failed("connection lost".into())),
            Ok(n) => {
                self.last_data = Instant::now();
                self.replica.record_io();
                Ok(Some(n))
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if self.last_data.elapsed() > self.timeout {
                    return Err(LinkError::Failed(
                        "MASTER timeout: no data nor PING received...".into(),
                    ));
                }
                Ok(None)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(LinkError::Failed(e.to_string())),
        }
    }

    /// Reads until `buf` holds at least `n` bytes.
    pub(super) fn fill(&mut self, n: usize) -> Result<(), LinkError> {
        while self.buf.len() < n {
            self.read_some()?;
        }
        Ok(())
    }

    /// One reply line of the handshake, without its CRLF. Blank lines (the newlines a
    /// master sends to keep the link alive while it prepares) are skipped.
    pub(super) fn read_reply_line(&mut self) -> Result<String, LinkError> {
        loop {
            let line = self.read_line()?;
            if !line.is_empty() {
                return Ok(line);
            }
        }
    }

    fn read_line(&mut self) -> Result<String, LinkError> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line = self.buf.split_to(end + 1);
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                return Ok(String::from_utf8_lossy(text).into_owned());
            }
            if self.buf.len() > MAX_LINE {
                return Err(sync_error("the master sent a line too long for a reply"));
            }
            self.read_some().map_err(|e| match e {
                LinkError::Failed(reason) => sync_error(reason),
                replaced => replaced,
            })?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fullresync_needs_a_40_character_id_and_an_offset() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            parse_fullresync(&format!("{id} 42")),
            Some(Position {
                replid: id.into(),
                offset: 42
            })
        );
        for bad in ["", "abc 1", id, &format!("{id} -1"), &format!("{id} x")] {
            assert_eq!(parse_fullresync(bad), None, "{bad}");
        }
    }
}
