//! Replication commands.
//!
//! ```text
//! REPLICAOF host port | REPLICAOF NO ONE     +OK, +OK Already connected to specified master
//! SLAVEOF   (the same, its old name)
//! ROLE      *5 slave host port state offset (on a replica)
//! ```

use bytes::Bytes;

use super::spec::*;
use super::Ctx;
use crate::repl::replica;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    since(command("replicaof", 3, ADMIN | NOSCRIPT | STALE, NO_KEYS, "server", "Make the server a replica of another instance, or promote it as master.", replica::replicaof), "5.0.0"),
    command("slaveof", 3, ADMIN | NOSCRIPT | STALE, NO_KEYS, "server", "Make the server a replica of another instance, or promote it as master.", replica::replicaof),
    since(command("role", 1, NOSCRIPT | LOADING | STALE | FAST, NO_KEYS, "server", "Return the role of the instance in the context of replication", role), "2.8.12"),
];

/// ROLE: the replica form from the replica side; a master with no replicas otherwise.
fn role(ctx: &mut Ctx, _argv: &[Bytes]) {
    if replica::role_reply(ctx) {
        return;
    }
    ctx.reply.array(3);
    ctx.reply.bulk(b"master");
    ctx.reply.int(0);
    ctx.reply.array(0);
}
