//! Reply encoder: appends RESP2 replies to a connection's output buffer.
//!
//! ```text
//! +OK\r\n                 simple string      -ERR message\r\n   error
//! :42\r\n                 integer            $3\r\nfoo\r\n      bulk string
//! $-1\r\n                 null bulk          *2\r\n...          array of n replies
//! *-1\r\n                 null array
//! ```
//! Handlers append every reply of a pipelined batch to one buffer, which the connection
//! writes with a single submission.

#[derive(Debug, Default)]
pub struct Reply {
    pub buf: Vec<u8>,
}

impl Reply {
    pub fn new() -> Reply {
        Reply {
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, text: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(text.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply. `text` starts with its code (`ERR ...`, `WRONGTYPE ...`); newlines
    /// in it would break the protocol, so like Redis they become spaces.
    pub fn error(&mut self, text: impl AsRef<[u8]>) {
        self.buf.push(b'-');
        let text = text.as_ref().iter();
        self.buf
            .extend(text.map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer sent as a bulk string (`$2\r\n42\r\n`).
    pub fn bulk_int(&mut self, n: i64) {
        let mut digits = [0u8; 20];
        let text = crate::num::format_i64(n, &mut digits);
        self.bulk(text);
    }

    pub fn null(&mut self) {
        self.buf.extend_from_slice(b"$-1\r\n");
    }

    pub fn null_array(&mut self) {
        self.buf.extend_from_slice(b"*-1\r\n");
    }

    pub fn array(&mut self, len: usize) {
        self.header(b'*', len as i64);
    }

    /// An array of bulk strings.
    pub fn bulk_array<T: AsRef<[u8]>>(&mut self, items: &[T]) {
        self.array(items.len());
        for item in items {
            self.bulk(item.as_ref());
        }
    }

    /// Raw, already encoded bytes (a cached reply).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn header(&mut self, kind: u8, n: i64) {
        let mut digits = [0u8; 20];
        self.buf.push(kind);
        self.buf
            .extend_from_slice(crate::num::format_i64(n, &mut digits));
        self.buf.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_reply_kind() {
        let mut r = Reply::new();
        r.ok();
        r.error("ERR bad\r\nthing");
        r.int(-42);
        r.bulk(b"foo");
        r.null();
        r.array(2);
        r.bulk(b"");
        r.bulk_int(i64::MIN);
        r.null_array();
        assert_eq!(
            r.buf,
            b"+OK\r\n-ERR bad  thing\r\n:-42\r\n$3\r\nfoo\r\n$-1\r\n*2\r\n$0\r\n\r\n$20\r\n-9223372036854775808\r\n*-1\r\n"
        );
    }
}
