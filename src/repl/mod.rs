//! Replication state shared by the master and the replica halves: the role, the
//! replication ids and the one ordered stream (offset + backlog).
//!
//! Every write reaches the stream through [`Repl::propagate`] while the writer still
//! holds its key's shard lock (lock order: shard locks, then the stream lock, never the
//! reverse), so the stream's order is the order the keyspace applied the writes. Nothing
//! is recorded until the backlog exists (Redis creates it when the first replica
//! connects): until then a write pays one relaxed atomic load.
//!
//! A replica feeds the bytes it receives from its master unchanged into its own stream
//! with [`Repl::append_raw`], so its offset equals its master's and sub-replicas get the
//! master's stream.

pub mod backlog;
pub mod master;
pub mod propagate;
pub mod replica;

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;

use self::backlog::Backlog;
use crate::config::Config;
use crate::server::state::random_hex_id;

/// The smallest backlog Redis keeps, whatever `repl-backlog-size` says.
const MIN_BACKLOG_SIZE: usize = 16 * 1024;

/// The backlog size `repl-backlog-size` asks for.
pub fn backlog_size(config: &Config) -> usize {
    usize::try_from(config.get_int("repl-backlog-size"))
        .unwrap_or(usize::MAX)
        .max(MIN_BACKLOG_SIZE)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Master,
    Replica,
}

#[derive(Debug)]
pub struct Repl {
    /// Master with a backlog: the one flag a write checks before anything else.
    recording: AtomicBool,
    /// 0 = master, 1 = replica.
    role: AtomicU8,
    stream: Mutex<Stream>,
    /// Woken whenever the stream grows; replica senders wait on it (from any worker
    /// thread: `Notify` is not tied to a runtime).
    grown: Notify,
    /// The replicas attached to this server (as a master).
    pub replicas: master::Replicas,
}

/// The stream and its identity, changed together under one lock so that an id and an
/// offset read together always belong together (PSYNC, `+FULLRESYNC <id> <offset>`).
#[derive(Debug)]
pub struct Stream {
    /// 40 hex characters naming this history (`master_replid`).
    pub replid: String,
    /// The previous history's id after a promotion (`master_replid2`), else 40 zeros.
    pub replid2: String,
    /// First offset that does not belong to `replid2`'s history (`second_repl_offset`),
    /// -1 when there is none.
    pub second_replid_offset: i64,
    /// Bytes of stream so far (`master_repl_offset`).
    offset: u64,
    backlog: Option<Backlog>,
    /// The database the stream's last SELECT chose; None: the next command needs one.
    selected_db: Option<usize>,
    /// Each replica sender's position (its client id, the bytes it has written). The
    /// backlog keeps what the slowest one still needs even past `repl-backlog-size`, up
    /// to `retain_extra` more bytes, as Redis 7.0's shared replication buffer keeps what
    /// replicas still reference: a slow replica is bounded by its output buffer limit,
    /// not by the backlog, and writers never wait for it.
    cursors: Vec<(u64, u64)>,
    /// `repl-backlog-size`: what the backlog shrinks back to.
    base_size: usize,
    /// `client-output-buffer-limit replica` hard limit (None: no limit).
    retain_extra: Option<usize>,
}

const NO_REPLID: &str = "0000000000000000000000000000000000000000";

impl Default for Repl {
    fn default() -> Repl {
        Repl {
            recording: AtomicBool::new(false),
            role: AtomicU8::new(0),
            stream: Mutex::new(Stream {
                replid: random_hex_id(),
                replid2: NO_REPLID.to_string(),
                second_replid_offset: -1,
                offset: 0,
                backlog: None,
                selected_db: None,
                cursors: Vec::new(),
                base_size: 0,
                retain_extra: None,
            }),
            grown: Notify::new(),
            replicas: master::Replicas::default(),
        }
    }
}

impl Repl {
    /// Whether writes are being recorded (a master that has a backlog).
    #[inline]
    pub fn recording(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }

    pub fn role(&self) -> Role {
        match self.role.load(Ordering::Relaxed) {
            0 => Role::Master,
            _ => Role::Replica,
        }
    }

    /// Switches the role. A replica records nothing itself (it appends its master's
    /// bytes with [`Repl::append_raw`]); a master records once it has a backlog.
    pub fn set_role(&self, role: Role) {
        let stream = self.stream();
        self.role
            .store(u8::from(role == Role::Replica), Ordering::Relaxed);
        self.update_recording(&stream);
    }

    fn update_recording(&self, stream: &Stream) {
        let on = stream.backlog.is_some() && self.role() == Role::Master;
        self.recording.store(on, Ordering::Relaxed);
    }

    /// The stream, locked. Callers holding shard locks may take it (never the reverse).
    pub fn stream(&self) -> MutexGuard<'_, Stream> {
        self.stream.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates the backlog if there is none yet (the first replica connects, or a replica
    /// finished its first sync), so that writes start being recorded.
    pub fn ensure_backlog(&self, size: usize) {
        let mut stream = self.stream();
        if stream.backlog.is_none() {
            stream.backlog = Some(Backlog::new(size, stream.offset));
            stream.base_size = size;
            // The new history starts with an explicit SELECT.
            stream.selected_db = None;
        }
        self.update_recording(&stream);
    }

    /// After CONFIG SET: an existing backlog takes the new `repl-backlog-size`, and
    /// the limit of what it keeps for slow replicas follows their output buffer limit.
    pub fn config_changed(&self, config: &Config) {
        let mut stream = self.stream();
        stream.retain_extra = master::output_hard_limit(config);
        stream.resize_backlog(backlog_size(config));
    }

    /// Appends one command run in database `db` to the stream, with a SELECT first when
    /// the stream was in another database. Call while holding the key's shard lock.
    /// Returns the stream's offset after it (None when nothing is recorded).
    pub fn propagate<A: AsRef<[u8]>>(&self, db: usize, argv: &[A]) -> Option<u64> {
        if !self.recording() {
            return None;
        }
        let mut encoded = Vec::with_capacity(64);
        let mut stream = self.stream();
        if stream.selected_db != Some(db) {
            encode(
                &mut encoded,
                &[b"SELECT".as_slice(), db.to_string().as_bytes()],
            );
            stream.selected_db = Some(db);
        }
        encode(&mut encoded, argv);
        stream.append(&encoded);
        let offset = stream.offset;
        drop(stream);
        self.grown.notify_waiters();
        Some(offset)
    }

    /// Appends a command that belongs to no database (PING, `REPLCONF GETACK *`) to the
    /// stream, if it is being recorded.
    pub fn feed<A: AsRef<[u8]>>(&self, argv: &[A]) {
        if !self.recording() {
            return;
        }
        let mut encoded = Vec::with_capacity(32);
        encode(&mut encoded, argv);
        self.stream().append(&encoded);
        self.grown.notify_waiters();
    }

    /// Appends bytes received from this replica's master, exactly as they came.
    pub fn append_raw(&self, bytes: &[u8]) {
        self.stream().append(bytes);
        self.grown.notify_waiters();
    }

    /// What replica senders wait on: create the `notified()` future before checking the
    /// offset, so that growth in between is not missed.
    pub fn grown(&self) -> &Notify {
        &self.grown
    }
}

impl Stream {
    /// Bytes of stream so far (`master_repl_offset`).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn backlog(&self) -> Option<&Backlog> {
        self.backlog.as_ref()
    }

    /// Changes the backlog's size (CONFIG SET repl-backlog-size), keeping what replica
    /// senders still need.
    pub fn resize_backlog(&mut self, size: usize) {
        self.base_size = size;
        let needed = self.needed();
        if let Some(backlog) = &mut self.backlog {
            backlog.resize(size.max(needed));
        }
    }

    /// Records where replica sender `id` is (bytes written to it); the backlog shrinks
    /// back to its size once no sender needs more.
    pub fn set_cursor(&mut self, id: u64, written: u64) {
        match self.cursors.iter_mut().find(|(c, _)| *c == id) {
            Some(cursor) => cursor.1 = written,
            None => self.cursors.push((id, written)),
        }
        self.shrink_if_unneeded();
    }

    /// Replica sender `id` is gone.
    pub fn remove_cursor(&mut self, id: u64) {
        self.cursors.retain(|(c, _)| *c != id);
        self.shrink_if_unneeded();
    }

    /// The limit of what the backlog keeps past its size for slow replicas.
    pub fn set_retain_extra(&mut self, extra: Option<usize>) {
        self.retain_extra = extra;
    }

    /// Bytes from the slowest sender's position to the end of the stream.
    fn needed(&self) -> usize {
        let slowest = self.cursors.iter().map(|&(_, at)| at).min();
        slowest.map_or(0, |at| (self.offset.saturating_sub(at)) as usize)
    }

    fn shrink_if_unneeded(&mut self) {
        let (base, needed) = (self.base_size, self.needed());
        if let Some(backlog) = &mut self.backlog {
            if backlog.size() > base && needed <= base {
                backlog.resize(base);
            }
        }
    }

    fn append(&mut self, bytes: &[u8]) {
        let needed = self.needed() + bytes.len();
        let limit = self
            .retain_extra
            .map_or(usize::MAX, |extra| self.base_size.saturating_add(extra));
        self.offset += bytes.len() as u64;
        if let Some(backlog) = &mut self.backlog {
            // Grow (doubling) rather than overwrite what a sender still needs, within
            // the limit; past it the slow replica loses its bytes and is dropped.
            if needed > backlog.size() && backlog.size() < limit {
                backlog.resize(needed.max(backlog.size() * 2).min(limit));
            }
            backlog.append(bytes);
        }
    }

    /// The stream continues from another master's history (a replica after a full
    /// sync): its id and offset, an empty backlog, no previous id.
    pub fn reset(&mut self, replid: &str, offset: u64, backlog_size: usize) {
        self.replid = replid.to_string();
        self.replid2 = NO_REPLID.to_string();
        self.second_replid_offset = -1;
        self.offset = offset;
        self.backlog = Some(Backlog::new(backlog_size, offset));
        self.base_size = backlog_size;
        self.selected_db = None;
    }

    /// A new history begins here (a replica promoted to master): the old id stays valid
    /// as `replid2` up to the current offset, so former siblings can continue partially.
    pub fn shift_replid(&mut self) {
        self.replid2 = std::mem::replace(&mut self.replid, random_hex_id());
        self.second_replid_offset = self.offset as i64 + 1;
    }

    /// The next command gets an explicit SELECT (a snapshot was taken for a replica, or
    /// the stream's source changed).
    pub fn forget_selected_db(&mut self) {
        self.selected_db = None;
    }
}

/// Appends `argv` as a RESP array of bulk strings.
pub fn encode<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    out.push(b'*');
    out.extend_from_slice(argv.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for arg in argv {
        let arg = arg.as_ref();
        out.push(b'$');
        out.extend_from_slice(arg.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(repl: &Repl) -> Vec<u8> {
        let stream = repl.stream();
        let backlog = stream.backlog().unwrap();
        let mut out = Vec::new();
        let have = backlog.end() - backlog.histlen() as u64;
        backlog.read_from(have, usize::MAX, &mut out).unwrap();
        out
    }

    #[test]
    fn nothing_is_recorded_before_the_backlog_exists() {
        let repl = Repl::default();
        repl.propagate(0, &["SET", "k", "v"]);
        assert_eq!(repl.stream().offset(), 0);
        assert!(repl.stream().backlog().is_none());
    }

    #[test]
    fn commands_are_encoded_with_select_when_the_database_changes() {
        let repl = Repl::default();
        repl.ensure_backlog(1024);
        repl.propagate(0, &["SET", "k", "v"]);
        repl.propagate(0, &["DEL", "k"]);
        repl.propagate(3, &["INCR", "n"]);
        let expected = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n\
             *2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n";
        assert_eq!(held(&repl), expected.as_bytes());
        assert_eq!(repl.stream().offset(), expected.len() as u64);
    }

    #[test]
    fn a_replica_records_only_its_masters_bytes() {
        let repl = Repl::default();
        repl.set_role(Role::Replica);
        repl.stream().reset("a".repeat(40).as_str(), 1000, 64);
        repl.ensure_backlog(64);
        repl.propagate(0, &["SET", "k", "v"]);
        repl.append_raw(b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(repl.stream().offset(), 1014);
        assert_eq!(held(&repl), b"*1\r\n$4\r\nPING\r\n");
        repl.set_role(Role::Master);
        assert!(repl.recording());
    }

    #[test]
    fn the_backlog_keeps_what_a_slow_sender_needs_within_the_limit() {
        let repl = Repl::default();
        repl.ensure_backlog(16);
        let mut stream = repl.stream();
        stream.set_retain_extra(Some(48));
        stream.set_cursor(7, 0);
        stream.append(&[b'a'; 40]);
        // Past the size, not lost: the sender at 0 still needs all of it.
        let backlog = stream.backlog().unwrap();
        assert!(backlog.size() >= 40);
        assert_eq!(backlog.can_serve(0), Ok(()));
        stream.set_cursor(7, 30);
        assert_eq!(
            stream.backlog().unwrap().size(),
            16,
            "shrunk back once caught up"
        );
        assert_eq!(stream.backlog().unwrap().can_serve(30), Ok(()));
        // Beyond size + limit the slow sender's bytes are overwritten.
        stream.append(&[b'b'; 100]);
        let backlog = stream.backlog().unwrap();
        assert_eq!(backlog.size(), 64);
        assert!(backlog.can_serve(30).is_err());
        stream.remove_cursor(7);
        assert_eq!(stream.backlog().unwrap().size(), 16);
    }

    #[test]
    fn shifting_the_id_keeps_the_old_one_up_to_the_offset() {
        let repl = Repl::default();
        repl.ensure_backlog(64);
        repl.append_raw(b"12345");
        let mut stream = repl.stream();
        let old = stream.replid.clone();
        stream.shift_replid();
        assert_eq!(stream.replid2, old);
        assert_eq!(stream.second_replid_offset, 6);
        assert_ne!(stream.replid, old);
        assert_eq!(stream.replid.len(), 40);
    }
}
