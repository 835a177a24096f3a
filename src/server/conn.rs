//! One client connection: read, parse, execute, write — the same code on both backends.
//!
//! Every complete command in the read buffer is executed before anything is written, and
//! the replies of the whole batch leave in one write: a pipelined batch of 100 commands
//! costs one read and one write. The loop knows nothing of command semantics.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::sync::Notify;

use super::client::{self, Client, ClientHandle};
use super::io::Socket;
use super::output_limit::{self, OutputGuard};
use super::state::{Server, Stats};
use crate::cmd::{self, Ctx};
use crate::db::keyspace::PREFETCH_BATCH;
use crate::repl::master::{serve_replica, Ended};
use crate::resp::{ParseLimits, Reply, RequestParser};

/// Free space kept in the read buffer before each read.
const READ_CHUNK: usize = 16 * 1024;
/// A bulk argument announced as larger than this is received in steps of this size, so a
/// client announcing 512 MB and sending nothing costs no 512 MB allocation.
const MAX_RESERVE: usize = 1024 * 1024;
/// Replies accumulated past this are written before parsing more of a long pipeline, so
/// one batch never holds an unbounded reply buffer.
const FLUSH_REPLY_AT: usize = 64 * 1024;
/// A reply buffer grown larger than this (a huge KEYS) is released after use.
const KEEP_REPLY_CAPACITY: usize = 1024 * 1024;

/// Why a connection ends early.
enum Stop {
    /// The peer left, a write failed, or the protocol was broken.
    Gone,
    /// CLIENT KILL from another connection, or an output buffer limit: an operation may
    /// still be in flight and the socket must be shut down.
    Killed,
}

/// Serves one connection until the client leaves, QUITs, breaks the protocol or is
/// killed. The connection is listed in the server's registry for its whole life.
pub(crate) async fn serve<S: Socket>(
    socket: S,
    addr: SocketAddr,
    local: SocketAddr,
    server: Arc<Server>,
) {
    let id = server.stats.next_client_id();
    let handle = Arc::new(ClientHandle::new(id, addr, local, socket.fd()));
    handle.touch();
    server.clients.register(handle.clone());
    let _registered = Registered {
        server: &server,
        id,
    };
    let password_required = server.config.hot.password_set.load(Ordering::Relaxed);
    let mut client = Client::new(handle, password_required);
    if let Stop::Killed = run(&socket, &server, &mut client).await {
        socket.shutdown();
    }
}

/// Undoes a connection's registration when it ends, however it ends: a panic in a command
/// handler unwinds through here too (tokio catches it and only this connection dies), so
/// the client list, the monitors and `connected_clients` stay right.
struct Registered<'a> {
    server: &'a Server,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.server.monitors.remove(self.id);
        self.server.clients.unregister(self.id);
        self.server
            .stats
            .connected_clients
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs `future` unless the client is killed first.
async fn or_killed<F: Future>(handle: &ClientHandle, future: F) -> Result<F::Output, Stop> {
    tokio::select! {
        biased;
        _ = handle.killed() => Err(Stop::Killed),
        output = future => Ok(output),
    }
}

async fn run<S: Socket>(socket: &S, server: &Server, client: &mut Client) -> Stop {
    let stats = &server.stats;
    let handle = client.handle.clone();
    let mut parser = RequestParser::new();
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut reply = Reply::new();
    let mut argv = Vec::new();
    let mut output = OutputGuard::default();

    loop {
        // Execute every complete command already received.
        client.query_buffer = (input.len(), input.capacity() - input.len());
        // Commands at the front of `input` whose keys are already being loaded.
        let mut prefetched = 0;
        loop {
            if prefetched == 0 {
                prefetched = prefetch_ahead(server, client.db, &input);
            }
            let limits = ParseLimits {
                max_bulk_len: server.config.hot.proto_max_bulk_len.load(Ordering::Relaxed),
                auth_required: client
                    .auth_required(server.config.hot.password_set.load(Ordering::Relaxed)),
            };
            match parser.parse(&mut input, &limits, &mut argv) {
                Ok(true) => {
                    client.argv_bytes = argv.iter().map(|a: &Bytes| a.len()).sum();
                    client.pending_reply = reply.len();
                    prefetched = prefetched.saturating_sub(1);
                    let mut mark = reply.len();
                    let mut ctx = Ctx {
                        server,
                        client: &mut *client,
                        reply: &mut reply,
                    };
                    cmd::execute(&mut ctx, &argv);
                    if client.blocked.is_some() {
                        // Replies so far go out first: a blocked client may wait for long.
                        if let Err(stop) =
                            flush(socket, &mut reply, server, client, &mut output).await
                        {
                            return stop;
                        }
                        // The buffer restarts empty: CLIENT REPLY OFF drops from there.
                        mark = 0;
                        let waited = wait_while_blocked(server, client, &mut reply, &argv);
                        if let Err(stop) = or_killed(&handle, waited).await {
                            return stop;
                        }
                        client.clock.waited();
                    }
                    if client.replies_suppressed() {
                        reply.buf.truncate(mark);
                    }
                    client.after_command();
                    client.publish();
                    argv.clear();
                    if let Some(request) = client.repl.wait.take() {
                        // WAIT: earlier replies go out first, then the count when known.
                        if let Err(stop) =
                            flush(socket, &mut reply, server, client, &mut output).await
                        {
                            return stop;
                        }
                        let waited = crate::repl::master::wait_for_acks(server, request);
                        match or_killed(&handle, waited).await {
                            Ok(count) => reply.int(count as i64),
                            Err(stop) => return stop,
                        }
                        client.clock.waited();
                    }
                    if let Some(sync) = client.repl.sync.take() {
                        // PSYNC/SYNC: this connection now feeds a replica.
                        if let Err(stop) =
                            flush(socket, &mut reply, server, client, &mut output).await
                        {
                            return stop;
                        }
                        let rest = std::mem::take(&mut input);
                        return match serve_replica(socket, server, client, sync, rest).await {
                            Ended::Gone => Stop::Gone,
                            Ended::Killed => Stop::Killed,
                        };
                    }
                    if let Some(pause) = client.sleep.take() {
                        // DEBUG SLEEP: only this connection waits.
                        client.clock.settle_pending(server);
                        if let Err(stop) = or_killed(&handle, tokio::time::sleep(pause)).await {
                            return stop;
                        }
                        client.clock.waited();
                    }
                    let limit = server.config.hot.output_limit.load();
                    if output.over_limit(limit, reply.len()) {
                        output_limit::log_closing(client.id, client.addr);
                        return Stop::Gone;
                    }
                    if client.close_after_reply {
                        let _ = flush(socket, &mut reply, server, client, &mut output).await;
                        return Stop::Gone;
                    }
                    if reply.len() >= FLUSH_REPLY_AT {
                        if let Err(stop) =
                            flush(socket, &mut reply, server, client, &mut output).await
                        {
                            return stop;
                        }
                        client.clock.waited();
                    }
                }
                Ok(false) => break,
                Err(error) => {
                    crate::debug!(
                        "Protocol error ({}) from client: id={} addr={}",
                        error.0,
                        client.id,
                        client.addr
                    );
                    let text = error.reply_bytes();
                    cmd::count_error(server, text.strip_prefix(b"-").unwrap_or(&text));
                    reply.error(text);
                    let _ = flush(socket, &mut reply, server, client, &mut output).await;
                    return Stop::Gone;
                }
            }
        }
        if let Err(stop) = flush(socket, &mut reply, server, client, &mut output).await {
            return stop;
        }

        // Read more: room for the rest of a big argument (in bounded steps), else a chunk.
        let wanted = parser.wanted().clamp(READ_CHUNK, MAX_RESERVE);
        if input.capacity() - input.len() < wanted {
            input.reserve(wanted);
        }
        let n = match read_more(socket, input, client, stats).await {
            Ok((n, buffer)) => {
                input = buffer;
                n
            }
            Err(stop) => return stop,
        };
        // One clock read: the client's last interaction and the first command's start.
        let now = cmd::clock_us();
        client.clock.start_run_at(now);
        handle.touch_at((now / 1000) as i64);
        Stats::add(&stats.net_input_bytes, n as u64);
        let limit = server.config.hot.query_buffer_limit.load(Ordering::Relaxed);
        if limit > 0 && input.len() as u64 > limit {
            crate::warning!(
                "Closing client that reached max query buffer length: id={} addr={} qbuf={}",
                client.id,
                client.addr,
                input.len()
            );
            return Stop::Gone;
        }
    }
}

/// Starts loading the keys of the pipelined commands at the front of `input` into the
/// cache (see [`crate::db::Keyspace::prefetch_batch`]); returns how many commands that
/// covers. A lone command gains nothing: its own lookup comes next.
fn prefetch_ahead(server: &Server, db: usize, input: &[u8]) -> usize {
    let mut keys = [&[][..]; PREFETCH_BATCH];
    let (walked, found) = crate::resp::parse::peek_keys(input, &mut keys);
    if walked > 1 {
        server.keyspace.prefetch_batch(db, &keys[..found]);
    }
    walked
}

/// Reads more input. A MONITOR connection forwards its feed while the read is pending.
async fn read_more<S: Socket>(
    socket: &S,
    input: BytesMut,
    client: &mut Client,
    stats: &Stats,
) -> Result<(usize, BytesMut), Stop> {
    let handle = client.handle.clone();
    let finished = |(result, buffer): (std::io::Result<usize>, BytesMut)| match result {
        Ok(0) | Err(_) => Err(Stop::Gone),
        Ok(n) => Ok((n, buffer)),
    };
    let read = socket.read(input);
    let Some(feed) = client.monitor.as_mut() else {
        return finished(or_killed(&handle, read).await?);
    };
    tokio::pin!(read);
    loop {
        tokio::select! {
            biased;
            _ = handle.killed() => return Err(Stop::Killed),
            done = &mut read => return finished(done),
            line = feed.recv() => {
                let Some(line) = line else {
                    return finished(or_killed(&handle, read).await?);
                };
                let mut out = line.to_vec();
                while out.len() < FLUSH_REPLY_AT {
                    match feed.try_recv() {
                        Ok(more) => out.extend_from_slice(&more),
                        Err(_) => break,
                    }
                }
                let written = out.len() as u64;
                let (result, _) = or_killed(&handle, socket.write_all(out)).await?;
                if result.is_err() {
                    return Err(Stop::Gone);
                }
                Stats::add(&stats.net_output_bytes, written);
                handle.touch();
            }
        }
    }
}

/// Waits until the blocking command in `argv` can be served or times out (`*-1`).
///
/// The client registers under its keys first and only then runs the command again, so a
/// push that lands in between is not missed. A client that disconnects while blocked is
/// noticed when it is woken or times out (its socket is not read meanwhile).
async fn wait_while_blocked(
    server: &Server,
    client: &mut Client,
    reply: &mut Reply,
    argv: &[Bytes],
) {
    let Some(blocked) = client.blocked.take() else {
        return;
    };
    // A deadline past what the clock can represent is no deadline at all.
    let deadline = blocked
        .timeout
        .and_then(|t| tokio::time::Instant::now().checked_add(t));
    let notify = Arc::new(Notify::new());
    let db = client.db;
    server.blocked.register(db, &blocked.keys, &notify);
    // Unregisters even when the wait is abandoned (the client was killed).
    let _registered = Registration {
        server,
        db,
        keys: &blocked.keys,
        notify: &notify,
    };
    client.publish();
    client
        .handle
        .flags
        .fetch_or(client::FLAG_BLOCKED, Ordering::Relaxed);
    client.reprocessing = true;
    loop {
        client.clock.waited();
        let mut ctx = Ctx {
            server,
            client: &mut *client,
            reply: &mut *reply,
        };
        cmd::execute(&mut ctx, argv);
        if client.blocked.take().is_none() {
            // Served: counted now, before the connection goes on (fast pops are timed in
            // runs like any fast command).
            client.clock.settle_pending(server);
            break;
        }
        let woken = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, notify.notified())
                .await
                .is_ok(),
            None => {
                notify.notified().await;
                true
            }
        };
        if !woken {
            reply.null_array();
            if let Some(position) = client.last_command {
                server.command_stats.record(position, 0, false);
            }
            break;
        }
    }
    client.reprocessing = false;
}

/// A blocked client's registration under its keys, removed when dropped.
struct Registration<'a> {
    server: &'a Server,
    db: usize,
    keys: &'a [Bytes],
    notify: &'a Arc<Notify>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.server
            .blocked
            .unregister(self.db, self.keys, self.notify);
    }
}

/// Writes the pending replies; a write kept over the soft output limit for its seconds
/// closes the client. The commands run so far are counted first (see
/// [`crate::cmd::timing`]).
async fn flush<S: Socket>(
    socket: &S,
    reply: &mut Reply,
    server: &Server,
    client: &mut Client,
    output: &mut OutputGuard,
) -> Result<(), Stop> {
    client.clock.settle_pending(server);
    let handle = &client.handle;
    if reply.is_empty() {
        return Ok(());
    }
    let stats = &server.stats;
    let buffer = std::mem::take(&mut reply.buf);
    let written = buffer.len() as u64;
    let limit = server.config.hot.output_limit.load();
    let write = or_killed(handle, socket.write_all(buffer));
    let (result, mut buffer) = match output.write_deadline(limit, written as usize) {
        None => write.await?,
        Some(left) => match tokio::time::timeout(left, write).await {
            Ok(done) => done?,
            Err(_) => {
                output_limit::log_closing(handle.id, handle.addr);
                return Err(Stop::Killed);
            }
        },
    };
    output.drained();
    buffer.clear();
    if buffer.capacity() > KEEP_REPLY_CAPACITY {
        buffer = Vec::with_capacity(READ_CHUNK);
    }
    reply.buf = buffer;
    Stats::add(&stats.net_output_bytes, written);
    handle.touch();
    result.map_err(|_| Stop::Gone)
}

/// Turns a client away with one error line (maxclients, protected mode), then closes.
pub(crate) async fn refuse<S: Socket>(socket: S, error: &'static [u8]) {
    let _ = socket.write_all(error.to_vec()).await;
}
