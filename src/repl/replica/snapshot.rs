//! The snapshot after `+FULLRESYNC`, in either form a master sends it, loaded key by key
//! (never buffered whole) into a staging keyspace that replaces the live one only once
//! complete: a truncated snapshot or a master gone mid-transfer leaves the previous data
//! serving reads.
//!
//! ```text
//! $<len>\r\n<len bytes of RDB>                 disk-based (no CRLF after it)
//! $EOF:<40 random bytes>\r\n<RDB><the same 40 bytes>   diskless, for `capa eof`
//! ```
//!
//! The RDB ends itself (EOF opcode and checksum), so the loader reads exactly the
//! snapshot; whatever follows it in the same read (the mark, then the first commands of
//! the stream) stays in the link's buffer.

use std::io::{self, Read};
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Buf;

use super::link::{Conn, LinkError};
use crate::db::Keyspace;
use crate::rdb::into_keyspace::{into_keyspace_exact, Options};
use crate::server::state::Server;

/// Length of the diskless form's end mark.
const EOF_MARK_LEN: usize = 40;

/// How the snapshot is delimited.
enum Form {
    Length(u64),
    Mark(Vec<u8>),
}

/// Receives the snapshot that follows `+FULLRESYNC` into a staging keyspace, for the
/// caller to swap in.
pub(super) fn receive(server: &Server, conn: &mut Conn) -> Result<Keyspace, LinkError> {
    let replica = &server.replica;
    let header = conn.read_reply_line()?;
    let form = parse_header(&header)?;
    match &form {
        Form::Length(len) => {
            replica.state().transfer_size = i64::try_from(*len).unwrap_or(i64::MAX);
            crate::notice!("MASTER <-> REPLICA sync: receiving {len} bytes from master to parser");
        }
        Form::Mark(_) => {
            replica.state().transfer_size = 0;
            crate::notice!(
                "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to parser"
            )
        }
    }
    crate::notice!("MASTER <-> REPLICA sync: Loading DB in memory");
    let started = Instant::now();
    let staging = server.keyspace.empty_like();
    let options = Options::for_replica(&server.config, crate::db::now_ms());
    let limit = match form {
        Form::Length(len) => Some(len),
        Form::Mark(_) => None,
    };
    let mut reader = SnapshotReader {
        conn: &mut *conn,
        left: limit,
        failure: None,
    };
    let loaded = into_keyspace_exact(&mut reader, &staging, &options);
    let failure = reader.failure.take();
    let loaded = match (loaded, failure) {
        (_, Some(LinkError::Replaced)) => return Err(LinkError::Replaced),
        (_, Some(LinkError::Failed(reason))) => {
            return Err(LinkError::Failed(format!(
                "I/O error trying to sync with MASTER: {reason}"
            )))
        }
        (Err(e), None) => {
            return Err(LinkError::Failed(format!(
                "Failed trying to load the MASTER synchronization DB from socket: {e}"
            )))
        }
        (Ok(loaded), None) => loaded,
    };
    // What follows the RDB: the rest of a `$<len>` (Redis' loader ignores it too), or
    // the end mark.
    match form {
        Form::Length(_) => {
            let mut rest = reader.left.unwrap_or(0);
            while rest > 0 {
                conn.fill(1).map_err(transfer_error)?;
                let n = (rest as usize).min(conn.buf.len());
                conn.buf.advance(n);
                rest -= n as u64;
            }
        }
        Form::Mark(mark) => {
            conn.fill(EOF_MARK_LEN).map_err(transfer_error)?;
            let found = conn.buf.split_to(EOF_MARK_LEN);
            if found[..] != mark[..] {
                return Err(LinkError::Failed(
                    "Failed trying to load the MASTER synchronization DB from socket: \
                     the snapshot does not end with its EOF mark"
                        .into(),
                ));
            }
        }
    }
    crate::notice!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        loaded.keys_loaded,
        loaded.keys_expired
    );
    crate::verbose!(
        "MASTER <-> REPLICA sync: {} bytes loaded in {:.3} seconds",
        loaded.summary.bytes,
        started.elapsed().as_secs_f64()
    );
    Ok(staging)
}

fn transfer_error(error: LinkError) -> LinkError {
    match error {
        LinkError::Failed(reason) => {
            LinkError::Failed(format!("I/O error trying to sync with MASTER: {reason}"))
        }
        replaced => replaced,
    }
}

/// `$EOF:<mark>` or `$<len>`; anything else is not a snapshot.
fn parse_header(header: &str) -> Result<Form, LinkError> {
    if let Some(error) = header.strip_prefix('-') {
        return Err(LinkError::Failed(format!(
            "MASTER aborted replication with an error: {error}"
        )));
    }
    let Some(rest) = header.strip_prefix('$') else {
        return Err(LinkError::Failed(format!(
            "Bad protocol from MASTER, the first byte is not '$' (we received '{header}'), \
             are you sure the host and port are right?"
        )));
    };
    if let Some(mark) = rest.strip_prefix("EOF:") {
        if mark.len() == EOF_MARK_LEN {
            return Ok(Form::Mark(mark.as_bytes().to_vec()));
        }
    } else if let Ok(len) = rest.parse::<u64>() {
        return Ok(Form::Length(len));
    }
    Err(LinkError::Failed(format!(
        "Bad protocol from MASTER, not a snapshot header: '{header}'"
    )))
}

/// The snapshot as the RDB loader reads it: from the link's buffer, then the socket,
/// never past `left` bytes (the `$<len>` form). A link failure is kept aside for the
/// caller; the loader only sees an I/O error.
struct SnapshotReader<'c, 'r> {
    conn: &'c mut Conn<'r>,
    left: Option<u64>,
    failure: Option<LinkError>,
}

impl Read for SnapshotReader<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.left == Some(0) || out.is_empty() {
            return Ok(0);
        }
        while self.conn.buf.is_empty() {
            if let Err(e) = self.conn.read_some() {
                let text = match &e {
                    LinkError::Replaced => "replaced by REPLICAOF".to_string(),
                    LinkError::Failed(reason) => reason.clone(),
                };
                self.failure = Some(e);
                return Err(io::Error::other(text));
            }
        }
        let mut n = out.len().min(self.conn.buf.len());
        if let Some(left) = &mut self.left {
            n = n.min(usize::try_from(*left).unwrap_or(usize::MAX));
            *left -= n as u64;
        }
        out[..n].copy_from_slice(&self.conn.buf[..n]);
        self.conn.buf.advance(n);
        self.conn
            .replica()
            .transfer_read
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_headers_are_a_length_or_a_40_byte_mark() {
        assert!(matches!(parse_header("$88"), Ok(Form::Length(88))));
        let mark = "a".repeat(40);
        assert!(
            matches!(parse_header(&format!("$EOF:{mark}")), Ok(Form::Mark(m)) if m == mark.as_bytes())
        );
        for bad in ["$EOF:short", "$-1", "$", "+OK", "-ERR no", "$12x"] {
            assert!(parse_header(bad).is_err(), "{bad}");
        }
    }
}
