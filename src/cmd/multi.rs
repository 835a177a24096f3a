//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! ```text
//! MULTI      +OK; later commands reply +QUEUED until EXEC or DISCARD
//! EXEC       *<one reply per queued command>, -EXECABORT if one was refused, or *-1
//!            when a WATCHed key changed since it was watched (nothing runs)
//! DISCARD    +OK; the queue is dropped
//! WATCH key [key ...]   +OK; EXEC fails if one of them changes (or expires) first
//! UNWATCH    +OK; forgets the watched keys (EXEC, DISCARD and RESET do too)
//! ```
//! EXEC runs the queued commands back to back on this connection. EXECs take turns, but
//! other clients' single commands can interleave with a transaction's (there is no
//! global lock); WATCH is how a client makes sure nothing it read changed before EXEC.

use bytes::Bytes;

use super::{execute, Ctx};
use crate::db::watch::Watching;
use crate::server::client::Transaction;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    since(command("multi", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, NO_KEYS, "transactions", "Mark the start of a transaction block", multi), "1.2.0"),
    since(command("exec", 1, NOSCRIPT | LOADING | STALE, NO_KEYS, "transactions", "Execute all commands issued after MULTI", exec), "1.2.0"),
    since(command("discard", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, NO_KEYS, "transactions", "Discard all commands issued after MULTI", discard), "2.0.0"),
    since(command("watch", -2, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, ALL_KEYS, "transactions", "Watch the given keys to determine execution of the MULTI/EXEC block", watch), "2.2.0"),
    since(command("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, NO_KEYS, "transactions", "Forget about all watched keys", unwatch), "2.2.0"),
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
        Some(_) => {
            ctx.client.watching = None;
            ctx.reply.ok()
        }
        None => ctx.reply.error("ERR DISCARD without MULTI"),
    }
}

pub fn exec(ctx: &mut Ctx, _argv: &[Bytes]) {
    let Some(transaction) = ctx.client.transaction.take() else {
        return ctx.reply.error("ERR EXEC without MULTI");
    };
    // Unwatched before anything runs: the transaction's own writes do not matter.
    let watching = ctx.client.watching.take();
    let server = ctx.server;
    let _turn = server.keyspace.watches.exec_turn();
    if transaction.failed {
        return ctx
            .reply
            .error("EXECABORT Transaction discarded because of previous errors.");
    }
    if watching.is_some_and(|w| changed_since_watched(ctx, &w)) {
        return ctx.reply.null_array();
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

/// Whether a watched key changed, or expired, since WATCH. An expired key still in
/// place is deleted here, which counts as its change (Redis' isWatchedKeyExpired), unless
/// it was already expired when watched.
fn changed_since_watched(ctx: &Ctx, watching: &Watching) -> bool {
    let now = ctx.now_ms();
    for (db, key) in watching.keys() {
        ctx.server.keyspace.lock(*db, key).find_live_untouched(now);
    }
    watching.touched()
}

pub fn watch(ctx: &mut Ctx, argv: &[Bytes]) {
    if ctx.client.transaction.is_some() {
        return ctx.reply.error("ERR WATCH inside MULTI is not allowed");
    }
    let now = ctx.now_ms();
    let (db, keyspace) = (ctx.client.db, &ctx.server.keyspace);
    let watching = ctx
        .client
        .watching
        .get_or_insert_with(|| Watching::new(keyspace));
    for key in &argv[1..] {
        let stale = keyspace.lock(db, key).is_stale(now);
        watching.watch(db, key, stale);
    }
    ctx.reply.ok();
}

pub fn unwatch(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.client.watching = None;
    ctx.reply.ok();
}
