//! Transactions: MULTI, EXEC, DISCARD.
//!
//! ```text
//! MULTI      +OK; later commands reply +QUEUED until EXEC or DISCARD
//! EXEC       *<one reply per queued command>, or -EXECABORT if one was refused
//! DISCARD    +OK; the queue is dropped
//! ```
//! EXEC runs the queued commands back to back on this connection; other clients'
//! commands can interleave with them (there is no WATCH yet, and no global lock).

use bytes::Bytes;

use super::{execute, Ctx};
use crate::server::client::Transaction;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    since(command("multi", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, NO_KEYS, "transactions", "Mark the start of a transaction block", multi), "1.2.0"),
    since(command("exec", 1, NOSCRIPT | LOADING | STALE, NO_KEYS, "transactions", "Execute all commands issued after MULTI", exec), "1.2.0"),
    since(command("discard", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, NO_KEYS, "transactions", "Discard all commands issued after MULTI", discard), "2.0.0"),
];

/// Commands that act on a transaction instead of joining its queue.
pub fn controls_transaction(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "quit" | "watch" | "reset"
    )
}

/// Redis' execCommandAbort: an EXEC refused before it ran (NOAUTH, arity) discards the
/// transaction and says why as `EXECABORT`, the refusal's own `ERR ` left out.
pub fn abort_message(ctx: &mut Ctx, refusal: &str) -> String {
    ctx.client.transaction = None;
    let reason = refusal.strip_prefix("ERR ").unwrap_or(refusal);
    format!("EXECABORT Transaction discarded because of: {reason}")
}

pub fn multi(ctx: &mut Ctx, _argv: &[Bytes]) {
    if ctx.client.transaction.is_some() {
        return ctx.reply.error("ERR MULTI calls can not be nested");
    }
    ctx.client.transaction = Some(Transaction::default());
    ctx.reply.ok();
}

pub fn discard(ctx: &mut Ctx, _argv: &[Bytes]) {
    match ctx.client.transaction.take() {
        Some(_) => ctx.reply.ok(),
        None => ctx.reply.error("ERR DISCARD without MULTI"),
    }
}

pub fn exec(ctx: &mut Ctx, _argv: &[Bytes]) {
    let Some(transaction) = ctx.client.transaction.take() else {
        return ctx.reply.error("ERR EXEC without MULTI");
    };
    if transaction.failed {
        return ctx
            .reply
            .error("EXECABORT Transaction discarded because of previous errors.");
    }
    ctx.reply.array(transaction.queued.len());
    ctx.client.in_exec = true;
    for argv in &transaction.queued {
        execute(ctx, argv);
        // Inside a transaction a blocking command does not wait: it times out at once.
        if ctx.client.blocked.take().is_some() {
            ctx.reply.null_array();
        }
    }
    ctx.client.in_exec = false;
}
