//! Replication commands, master side: the handshake a replica sends (REPLCONF, PSYNC,
//! SYNC), WAIT and ROLE.
//!
//! ```text
//! REPLCONF <option> <value> [...]  +OK; options: listening-port <port>, ip-address <ip>,
//!                                  capa <eof|psync2|...>, rdb-only <0|1>,
//!                                  rdb-filter-only <"functions"...>; ACK and GETACK
//!                                  get no reply | -ERR Unrecognized REPLCONF option: x
//! PSYNC <replid|?> <offset>        +FULLRESYNC <replid> <offset> then the snapshot, or
//!                                  +CONTINUE <replid> then the missing stream
//! SYNC                             the snapshot alone, then the stream
//! WAIT <numreplicas> <timeout-ms>  :<replicas that acknowledged this client's writes>
//! ROLE                             *3 master :<offset> *<n> of *3 ip port ack-offset
//!                                  (on a replica: *5 slave host port state offset)
//! REPLICAOF host port | NO ONE     +OK, +OK Already connected to specified master
//! SLAVEOF                          the same, its old name
//! ```
//! After PSYNC/SYNC the connection stops taking commands: it becomes the replica's
//! sender ([`crate::repl::master::serve_replica`]).

use bytes::Bytes;

use super::{args, errors, Ctx};
use crate::repl::master::{self, SyncRequest, WaitRequest};
use crate::repl::{replica, Role};

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    since(command("replconf", -1, ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY, NO_KEYS, "server", "An internal command for configuring the replication stream", replconf), "3.0.0"),
    since(command("psync", -3, ADMIN | NOSCRIPT | NO_MULTI, NO_KEYS, "server", "Internal command used for replication", psync), "2.8.0"),
    command("sync", 1, ADMIN | NOSCRIPT | NO_MULTI, NO_KEYS, "server", "Internal command used for replication", sync),
    since(command("wait", 3, NOSCRIPT, NO_KEYS, "generic", "Wait for the synchronous replication of all the write commands sent in the context of the current connection", wait), "3.0.0"),
    since(command("role", 1, NOSCRIPT | LOADING | STALE | FAST, NO_KEYS, "server", "Return the role of the instance in the context of replication", role), "2.8.12"),
    since(command("replicaof", 3, ADMIN | NOSCRIPT | STALE, NO_KEYS, "server", "Make the server a replica of another instance, or promote it as master.", replica::replicaof), "5.0.0"),
    command("slaveof", 3, ADMIN | NOSCRIPT | STALE, NO_KEYS, "server", "Make the server a replica of another instance, or promote it as master.", replica::replicaof),
];

const NO_KEYS: (i32, i32, i32) = (0, 0, 0);

/// Longest `REPLCONF ip-address` Redis keeps (NET_HOST_STR_LEN - 1).
const MAX_IP_ADDRESS: usize = 255;

pub fn replconf(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() % 2 == 0 {
        return ctx.reply.error(errors::SYNTAX);
    }
    for pair in argv[1..].chunks(2) {
        let (option, value) = (&pair[0], &pair[1]);
        if args::is(option, "listening-port") {
            let Some(port) = ctx.int_arg(value) else {
                return;
            };
            // Redis stores it in an int: what does not fit is the replica's problem.
            ctx.client.repl.listening_port = port as u16;
        } else if args::is(option, "ip-address") {
            if value.len() > MAX_IP_ADDRESS {
                return ctx.reply.error(format!(
                    "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    value.len()
                ));
            }
            ctx.client.repl.ip_address = Some(String::from_utf8_lossy(value).into_owned());
        } else if args::is(option, "capa") {
            // Capabilities this master does not know are ignored.
            if args::is(value, "eof") {
                ctx.client.repl.capa_eof = true;
            } else if args::is(value, "psync2") {
                ctx.client.repl.capa_psync2 = true;
            }
        } else if args::is(option, "ack") || args::is(option, "getack") {
            // ACKs arrive on a replica sender's connection, which reads them itself; a
            // master is never asked for one. Neither gets a reply.
            return;
        } else if args::is(option, "rdb-only") {
            // Accepted like Redis; ringkv streams the same way either way.
            if !matches!(args::parse_i64(value), Some(0 | 1)) {
                return ctx
                    .reply
                    .error("ERR value is out of range, value must between 0 and 1");
            }
        } else if args::is(option, "rdb-filter-only") {
            let text = String::from_utf8_lossy(value);
            if let Some(bad) = text
                .split_whitespace()
                .find(|f| !f.eq_ignore_ascii_case("functions"))
            {
                return ctx
                    .reply
                    .error(format!("ERR Unsupported rdb-filter-only option: {bad}"));
            }
        } else {
            return ctx.reply.error(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(option)
            ));
        }
    }
    ctx.reply.ok();
}

pub fn psync(ctx: &mut Ctx, argv: &[Bytes]) {
    if refused_with_pending_output(ctx) {
        return;
    }
    let Some(offset) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let replicas = &ctx.server.repl.replicas;
    if let Some(from) = master::try_partial(ctx.server, &argv[1], offset) {
        let replid = ctx.server.repl.stream().replid.clone();
        match ctx.client.repl.capa_psync2 {
            true => ctx.reply.simple(&format!("CONTINUE {replid}")),
            false => ctx.reply.simple("CONTINUE"),
        }
        crate::server::state::Stats::add(&replicas.sync_partial_ok, 1);
        ctx.client.repl.sync = Some(SyncRequest::Partial { from });
        return;
    }
    // "?" asks for a full resync on purpose: not a failed partial one.
    if argv[1].as_ref() != b"?" {
        crate::server::state::Stats::add(&replicas.sync_partial_err, 1);
    }
    full_sync(ctx, true);
}

pub fn sync(ctx: &mut Ctx, _argv: &[Bytes]) {
    if !refused_with_pending_output(ctx) {
        full_sync(ctx, false);
    }
}

/// Replies to commands sent in the same batch would end up inside the replication
/// stream: like Redis, PSYNC and SYNC are refused then.
fn refused_with_pending_output(ctx: &mut Ctx) -> bool {
    let pending = !ctx.reply.is_empty();
    if pending {
        ctx.reply
            .error("ERR SYNC and PSYNC are invalid with pending output");
    }
    pending
}

fn full_sync(ctx: &mut Ctx, psync: bool) {
    crate::server::state::Stats::add(&ctx.server.repl.replicas.sync_full, 1);
    ctx.client.repl.sync = Some(SyncRequest::Full { psync });
}

pub fn wait(ctx: &mut Ctx, argv: &[Bytes]) {
    if ctx.server.repl.role() == Role::Replica {
        return ctx.reply.error(
            "ERR WAIT cannot be used with replica instances. Please also note that since \
             Redis 4.0 if a replica is configured to be writable (which is not the default) \
             writes to replicas are just local and are not propagated.",
        );
    }
    let Some(wanted) = ctx.int_arg(&argv[1]) else {
        return;
    };
    let Some(timeout_ms) = args::parse_i64(&argv[2]) else {
        return ctx
            .reply
            .error("ERR timeout is not an integer or out of range");
    };
    if timeout_ms < 0 {
        return ctx.reply.error("ERR timeout is negative");
    }
    let offset = ctx.client.repl.write_offset;
    let acked = ctx.server.repl.replicas.acked_at_least(offset);
    // Inside EXEC nothing may wait: the count as it stands.
    if wanted <= acked as i64 || ctx.client.in_exec {
        return ctx.reply.int(acked as i64);
    }
    ctx.server
        .repl
        .feed(&[b"REPLCONF".as_slice(), b"GETACK", b"*"]);
    ctx.client.repl.wait = Some(WaitRequest {
        offset,
        replicas: wanted as usize,
        timeout: (timeout_ms > 0).then(|| std::time::Duration::from_millis(timeout_ms as u64)),
    });
}

pub fn role(ctx: &mut Ctx, _argv: &[Bytes]) {
    if replica::role_reply(ctx) {
        return;
    }
    let online: Vec<_> = ctx
        .server
        .repl
        .replicas
        .all()
        .into_iter()
        .filter(|r| r.online())
        .collect();
    ctx.reply.array(3);
    ctx.reply.bulk(b"master");
    ctx.reply.int(ctx.server.repl.stream().offset() as i64);
    ctx.reply.array(online.len());
    for replica in online {
        ctx.reply.array(3);
        ctx.reply.bulk(replica.ip.as_bytes());
        ctx.reply.bulk(replica.port.to_string().as_bytes());
        ctx.reply.bulk(replica.ack_offset().to_string().as_bytes());
    }
}
