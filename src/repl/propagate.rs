//! How writes enter the replication stream.
//!
//! A write handler calls [`Ctx::propagate`] with what the replicas must run — the command
//! itself, or Redis 7.0's rewrite of it (`SET k v PXAT <ms>` for a relative expiry,
//! `DEL k` for GETDEL, `LPOP k` for a served BLPOP, ...) — while it still holds the key's
//! shard lock, so the stream's order is the keyspace's order. A command that changed
//! nothing calls nothing. Write commands whose handler does not propagate themselves are
//! appended verbatim after they ran ([`command_done`]), when they succeeded and reported
//! changes; only those lose the lock-ordering guarantee, so every handler that can race
//! with another on one key propagates itself.
//!
//! Keys the keyspace deletes because they expired reach the stream as `DEL` through the
//! [`ExpiryListener`], also under their shard lock.

use std::cell::Cell;

use bytes::Bytes;

use super::Repl;
use crate::cmd::{CommandSpec, Ctx};
use crate::db::ExpiryListener;

thread_local! {
    /// The stream offset after the running command propagated itself, if it did.
    static PROPAGATED: Cell<Option<u64>> = const { Cell::new(None) };
}

impl Ctx<'_> {
    /// Appends `argv`, run in the client's database, to the replication stream. Call
    /// while the keys' shard locks are still held. Costs one atomic load when nothing
    /// is recorded.
    ///
    /// It also touches the command's keys for WATCH, under the same locks: a client
    /// whose EXEC locks a watched key after this write sees it changed.
    pub fn propagate<A: AsRef<[u8]>>(&self, argv: &[A]) {
        crate::cmd::touch_watched(self, argv);
        if let Some(offset) = self.server.repl.propagate(self.client.db, argv) {
            PROPAGATED.set(Some(offset));
        }
    }

    /// A write that changed `changed` elements propagates itself only when there was a
    /// change (HDEL, LREM, LTRIM of nothing are not sent). Returns `changed`.
    pub fn propagate_changes<A: AsRef<[u8]>>(&self, argv: &[A], changed: usize) -> usize {
        if changed > 0 {
            self.propagate(argv);
        }
        changed
    }
}

/// After a command ran: a successful write that changed something and did not propagate
/// itself goes to the stream as it was sent. Whether it changed something is what its
/// handler reported to the dirty counter, if it reported anything. The client's last
/// write offset (WAIT) is recorded either way.
pub fn command_done(ctx: &mut Ctx, spec: &CommandSpec, argv: &[Bytes], failed: bool) {
    if !ctx.server.repl.recording() {
        return;
    }
    let changes = crate::persist::dirty::reported();
    let mut offset = PROPAGATED.take();
    let write = spec.has(crate::cmd::flags::WRITE);
    if write && offset.is_none() && !failed && changes != Some(0) && ctx.client.blocked.is_none() {
        offset = ctx.server.repl.propagate(ctx.client.db, argv);
    }
    if let Some(offset) = offset {
        ctx.client.repl.write_offset = offset;
    }
}

impl ExpiryListener for Repl {
    fn expired(&self, db: usize, key: &[u8]) {
        self.propagate(db, &[b"DEL".as_slice(), key]);
    }
}
