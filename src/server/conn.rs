//! One client connection: read, parse, execute, write — the same code on both backends.
//!
//! Every complete command in the read buffer is executed before anything is written, and
//! the replies of the whole batch leave in one write: a pipelined batch of 100 commands
//! costs one read and one write. The loop knows nothing of command semantics.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::sync::Notify;

use super::client::Client;
use super::io::Socket;
use super::state::{Server, Stats};
use crate::cmd::{self, Ctx};
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

/// Serves one connection until the client leaves, QUITs, or breaks the protocol.
pub(crate) async fn serve<S: Socket>(mut socket: S, addr: SocketAddr, server: Arc<Server>) {
    let stats = &server.stats;
    let id = stats.next_client_id();
    let password_required = server.config.hot.password_set.load(Ordering::Relaxed);
    let mut client = Client::new(id, addr, password_required);
    let mut parser = RequestParser::new();
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut reply = Reply::new();
    let mut argv = Vec::new();

    'connection: loop {
        // Execute every complete command already received.
        loop {
            let limits = ParseLimits {
                max_bulk_len: server.config.hot.proto_max_bulk_len.load(Ordering::Relaxed),
                auth_required: !client.authenticated,
            };
            match parser.parse(&mut input, &limits, &mut argv) {
                Ok(true) => {
                    let mut ctx = Ctx {
                        server: &server,
                        client: &mut client,
                        reply: &mut reply,
                    };
                    cmd::execute(&mut ctx, &argv);
                    if client.blocked.is_some() {
                        // Replies so far go out first: a blocked client may wait for long.
                        if !flush(&mut socket, &mut reply, stats).await {
                            break 'connection;
                        }
                        wait_while_blocked(&server, &mut client, &mut reply, &argv).await;
                    }
                    argv.clear();
                    if client.close_after_reply {
                        flush(&mut socket, &mut reply, stats).await;
                        break 'connection;
                    }
                    if reply.len() >= FLUSH_REPLY_AT && !flush(&mut socket, &mut reply, stats).await
                    {
                        break 'connection;
                    }
                }
                Ok(false) => break,
                Err(error) => {
                    crate::debug!(
                        "Protocol error ({}) from client: id={} addr={}",
                        error.0,
                        id,
                        addr
                    );
                    reply.error(error.reply_bytes());
                    flush(&mut socket, &mut reply, stats).await;
                    break 'connection;
                }
            }
        }
        if !flush(&mut socket, &mut reply, stats).await {
            break;
        }

        // Read more: room for the rest of a big argument (in bounded steps), else a chunk.
        let wanted = parser.wanted().clamp(READ_CHUNK, MAX_RESERVE);
        if input.capacity() - input.len() < wanted {
            input.reserve(wanted);
        }
        let (result, buffer) = socket.read(input).await;
        input = buffer;
        match result {
            Ok(0) | Err(_) => break,
            Ok(n) => Stats::add(&stats.net_input_bytes, n as u64),
        }
        let limit = server.config.hot.query_buffer_limit.load(Ordering::Relaxed);
        if limit > 0 && input.len() as u64 > limit {
            crate::warning!(
                "Closing client that reached max query buffer length: id={} addr={} qbuf={}",
                id,
                addr,
                input.len()
            );
            break;
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
    let deadline = blocked.timeout.map(|t| tokio::time::Instant::now() + t);
    let notify = Arc::new(Notify::new());
    let db = client.db;
    server.blocked.register(db, &blocked.keys, &notify);
    loop {
        let mut ctx = Ctx {
            server,
            client: &mut *client,
            reply: &mut *reply,
        };
        cmd::execute(&mut ctx, argv);
        if client.blocked.take().is_none() {
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
            break;
        }
    }
    server.blocked.unregister(db, &blocked.keys, &notify);
}

/// Writes the pending replies; false when the client is gone.
async fn flush<S: Socket>(socket: &mut S, reply: &mut Reply, stats: &Stats) -> bool {
    if reply.is_empty() {
        return true;
    }
    let buffer = std::mem::take(&mut reply.buf);
    let written = buffer.len() as u64;
    let (result, mut buffer) = socket.write_all(buffer).await;
    buffer.clear();
    if buffer.capacity() > KEEP_REPLY_CAPACITY {
        buffer = Vec::with_capacity(READ_CHUNK);
    }
    reply.buf = buffer;
    Stats::add(&stats.net_output_bytes, written);
    result.is_ok()
}

/// Turns a client away when `maxclients` is reached, with Redis' error.
pub(crate) async fn refuse<S: Socket>(mut socket: S) {
    let _ = socket
        .write_all(b"-ERR max number of clients reached\r\n".to_vec())
        .await;
}
