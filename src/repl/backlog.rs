//! The replication backlog: a ring buffer holding the newest `repl-backlog-size` bytes of
//! the replication stream, addressed by absolute offsets.
//!
//! ```text
//!  stream bytes are numbered 1, 2, 3, ... ; `end` = number of the last byte appended
//!  (Redis' master_repl_offset). The buffer keeps bytes (end - histlen, end]:
//!      first_offset() = end - histlen + 1          (repl_backlog_first_byte_offset)
//!  A reader that has received every byte up to `have` asks for (have, end].
//! ```
//! A replica asking `PSYNC <replid> <have + 1>` can continue exactly when `have` lies in
//! `[end - histlen, end]`; otherwise the bytes it misses are gone and it must full-resync.

/// Why a read from the backlog cannot be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// The reader's next byte was already overwritten: it fell too far behind.
    Overwritten,
    /// The reader claims bytes beyond the end of the stream.
    Ahead,
}

#[derive(Debug)]
pub struct Backlog {
    buf: Box<[u8]>,
    /// Where the next byte is written in `buf`.
    head: usize,
    /// Bytes of history held (at most `buf.len()`).
    histlen: usize,
    /// Absolute number of the last byte appended.
    end: u64,
}

impl Backlog {
    /// An empty backlog of `size` bytes (at least 1) whose next byte is number `end + 1`.
    pub fn new(size: usize, end: u64) -> Backlog {
        Backlog {
            buf: vec![0; size.max(1)].into_boxed_slice(),
            head: 0,
            histlen: 0,
            end,
        }
    }

    pub fn size(&self) -> usize {
        self.buf.len()
    }

    /// Number of the last byte appended (`master_repl_offset`).
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Bytes of history held (`repl_backlog_histlen`).
    pub fn histlen(&self) -> usize {
        self.histlen
    }

    /// Number of the oldest byte held (`repl_backlog_first_byte_offset`); `end + 1` when
    /// nothing is held yet.
    pub fn first_offset(&self) -> u64 {
        self.end - self.histlen as u64 + 1
    }

    /// Appends bytes, overwriting the oldest ones when the buffer is full.
    pub fn append(&mut self, mut bytes: &[u8]) {
        self.end += bytes.len() as u64;
        let size = self.buf.len();
        // Only the newest `size` bytes can survive.
        if bytes.len() > size {
            bytes = &bytes[bytes.len() - size..];
        }
        let first = bytes.len().min(size - self.head);
        self.buf[self.head..self.head + first].copy_from_slice(&bytes[..first]);
        self.buf[..bytes.len() - first].copy_from_slice(&bytes[first..]);
        self.head = (self.head + bytes.len()) % size;
        self.histlen = (self.histlen + bytes.len()).min(size);
    }

    /// Whether a reader that has every byte up to `have` can be served from here.
    pub fn can_serve(&self, have: u64) -> Result<(), ReadError> {
        if have > self.end {
            Err(ReadError::Ahead)
        } else if have < self.end - self.histlen as u64 {
            Err(ReadError::Overwritten)
        } else {
            Ok(())
        }
    }

    /// Appends to `out` at most `max` bytes following byte number `have`; returns how many.
    pub fn read_from(&self, have: u64, max: usize, out: &mut Vec<u8>) -> Result<usize, ReadError> {
        self.can_serve(have)?;
        let size = self.buf.len();
        let skip = (have - (self.end - self.histlen as u64)) as usize;
        let count = (self.histlen - skip).min(max);
        let start = (self.head + size - self.histlen + skip) % size;
        let first = count.min(size - start);
        out.extend_from_slice(&self.buf[start..start + first]);
        out.extend_from_slice(&self.buf[..count - first]);
        Ok(count)
    }

    /// Changes the size (CONFIG SET repl-backlog-size), keeping the newest history that fits.
    pub fn resize(&mut self, size: usize) {
        let size = size.max(1);
        if size == self.buf.len() {
            return;
        }
        let keep = self.histlen.min(size);
        let mut kept = Vec::with_capacity(size);
        let have = self.end - keep as u64;
        // `have` is inside the history by construction.
        let _ = self.read_from(have, keep, &mut kept);
        kept.resize(size, 0);
        self.buf = kept.into_boxed_slice();
        self.histlen = keep;
        self.head = keep % size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(b: &Backlog, have: u64) -> Result<Vec<u8>, ReadError> {
        let mut out = Vec::new();
        b.read_from(have, usize::MAX, &mut out).map(|_| out)
    }

    #[test]
    fn a_new_backlog_is_empty_and_starts_after_the_offset() {
        let b = Backlog::new(8, 100);
        assert_eq!((b.end(), b.histlen(), b.first_offset()), (100, 0, 101));
        assert_eq!(read(&b, 100), Ok(vec![]));
        assert_eq!(read(&b, 99), Err(ReadError::Overwritten));
        assert_eq!(read(&b, 101), Err(ReadError::Ahead));
    }

    #[test]
    fn reads_follow_absolute_offsets_across_the_wrap() {
        let mut b = Backlog::new(8, 0);
        b.append(b"abcde");
        assert_eq!(read(&b, 0).unwrap(), b"abcde");
        assert_eq!(read(&b, 3).unwrap(), b"de");
        b.append(b"fghij");
        // Bytes 3..=10 (c..j) are held; a and b were overwritten.
        assert_eq!((b.end(), b.histlen(), b.first_offset()), (10, 8, 3));
        assert_eq!(read(&b, 2).unwrap(), b"cdefghij");
        assert_eq!(read(&b, 7).unwrap(), b"hij");
        assert_eq!(read(&b, 1), Err(ReadError::Overwritten));
        assert_eq!(read(&b, 10).unwrap(), b"");
        let mut out = Vec::new();
        assert_eq!(b.read_from(4, 3, &mut out), Ok(3));
        assert_eq!(out, b"efg");
    }

    #[test]
    fn an_append_larger_than_the_buffer_keeps_its_tail() {
        let mut b = Backlog::new(4, 0);
        b.append(b"xy");
        b.append(b"0123456789");
        assert_eq!((b.end(), b.histlen()), (12, 4));
        assert_eq!(read(&b, 8).unwrap(), b"6789");
    }

    #[test]
    fn resizing_keeps_the_newest_history() {
        let mut b = Backlog::new(8, 0);
        b.append(b"abcdefghij");
        b.resize(4);
        assert_eq!((b.size(), b.histlen(), b.first_offset()), (4, 4, 7));
        assert_eq!(read(&b, 6).unwrap(), b"ghij");
        b.append(b"kl");
        assert_eq!(read(&b, 8).unwrap(), b"ijkl");
        b.resize(16);
        assert_eq!(read(&b, 8).unwrap(), b"ijkl");
        b.append(b"mnopqrstuvwx");
        assert_eq!(read(&b, 8).unwrap(), b"ijklmnopqrstuvwx");
    }

    #[test]
    fn matches_a_plain_vector_model_under_random_appends() {
        let mut b = Backlog::new(37, 5);
        let mut all: Vec<u8> = Vec::new();
        let mut seed = 12345u64;
        for round in 0..500 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 33) as usize % 50;
            let chunk: Vec<u8> = (0..len).map(|i| (round + i) as u8).collect();
            b.append(&chunk);
            all.extend_from_slice(&chunk);
            if round % 97 == 0 {
                b.resize(20 + round % 40);
            }
            let end = 5 + all.len() as u64;
            assert_eq!(b.end(), end);
            let have = end - b.histlen() as u64;
            let held = &all[all.len() - b.histlen()..];
            assert_eq!(read(&b, have).unwrap(), held);
        }
    }
}
