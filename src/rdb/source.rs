//! The byte source of the decoder: counts the offset of every byte, keeps the running
//! CRC-64, and reads RDB's length and string encodings with bounded allocation (a length
//! from the file never reserves more than [`PREALLOC_CAP`] up front; buffers grow as bytes
//! actually arrive). It reads through its own buffer ([`BUFFER`] bytes), so a string that
//! fits is handed out borrowed from it ([`Source::string_ref`]) instead of copied.
//!
//! ```text
//! length:  00xxxxxx                      6-bit
//!          01xxxxxx yyyyyyyy             14-bit, big-endian
//!          10000000 <u32 BE> | 10000001 <u64 BE>
//!          11xxxxxx                      "encoded string" follows, kind xxxxxx:
//! string:  <length> <bytes>
//!          0xC0 <i8> | 0xC1 <i16 LE> | 0xC2 <i32 LE>     integer, loaded as decimal text
//!          0xC3 <length clen> <length len> <clen LZF bytes>
//! ```

use std::borrow::Cow;
use std::io::{ErrorKind, Read};

use super::crc64::{crc64, Crc64};
use super::{lzf, RdbError};

/// The most a length read from the file may reserve before the bytes arrive.
pub const PREALLOC_CAP: usize = 4096;

/// The read buffer: strings up to this size are handed out borrowed from it.
pub const BUFFER: usize = 64 * 1024;

/// A length field, or the kind of encoded string that follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Len {
    Plain(u64),
    Encoded(u8),
}

/// The decoder's reader: its own buffer (so values can be borrowed from it), offsets, and
/// the checksum of everything consumed (folded in a buffer at a time, not per read).
pub struct Source<R> {
    inner: R,
    buf: Box<[u8]>,
    /// The next unread byte of `buf`.
    pos: usize,
    /// `buf[..end]` holds bytes read from `inner`.
    end: usize,
    /// The file offset of `buf[0]`.
    base: u64,
    /// `crc` covers the file up to `buf[..crc_pos]`.
    crc_pos: usize,
    crc: Crc64,
    /// Read only the bytes asked for, never ahead (see [`Source::exact`]).
    exact: bool,
}

impl<R: Read> Source<R> {
    pub fn new(inner: R) -> Source<R> {
        Source::with_buffer(inner, BUFFER)
    }

    /// A source with a `size`-byte buffer (at least 16): a DUMP payload already in memory
    /// needs no more than its own length, and a small one should not pay for a whole
    /// [`BUFFER`].
    pub fn with_buffer(inner: R, size: usize) -> Source<R> {
        Source {
            inner,
            buf: vec![0; size.max(16)].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            crc_pos: 0,
            crc: Crc64::new(),
            exact: false,
        }
    }

    /// A source that never reads `inner` past the bytes the decoder asks for, so whatever
    /// follows the RDB (a replication stream after a snapshot) stays in `inner`. Strings
    /// are still borrowed from the buffer; reads are smaller.
    pub fn exact(inner: R) -> Source<R> {
        Source {
            exact: true,
            ..Source::new(inner)
        }
    }

    /// Bytes read so far: the offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The CRC-64 of every byte read so far.
    pub fn crc(&self) -> u64 {
        crc64(self.crc.value(), &self.buf[self.crc_pos..self.pos])
    }

    pub fn error(&self, reason: impl Into<String>) -> RdbError {
        RdbError::new(self.offset(), reason)
    }

    /// Makes at least `need` (at most the buffer's size) unread bytes available (the caller checked
    /// that fewer are buffered: a refill is the rare case). Short of them, the
    /// bytes that did arrive count as read and the error is at the offset after them.
    #[cold]
    fn fill(&mut self, need: usize) -> Result<(), RdbError> {
        debug_assert!(need <= self.buf.len());
        self.crc.update(&self.buf[self.crc_pos..self.pos]);
        self.buf.copy_within(self.pos..self.end, 0);
        self.base += self.pos as u64;
        self.end -= self.pos;
        self.pos = 0;
        self.crc_pos = 0;
        while self.end < need {
            let limit = if self.exact { need } else { self.buf.len() };
            match self.inner.read(&mut self.buf[self.end..limit]) {
                Ok(0) => {
                    self.pos = self.end;
                    return Err(self.error("unexpected end of file"));
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.pos = self.end;
                    return Err(self.error(format!("read failed: {e}")));
                }
            }
        }
        Ok(())
    }

    /// The next `len` (at most the buffer's size) bytes, borrowed from the buffer.
    fn take(&mut self, len: usize) -> Result<&[u8], RdbError> {
        if self.end - self.pos < len {
            self.fill(len)?;
        }
        self.pos += len;
        Ok(&self.buf[self.pos - len..self.pos])
    }

    pub fn read_exact(&mut self, out: &mut [u8]) -> Result<(), RdbError> {
        for chunk in out.chunks_mut(self.buf.len()) {
            let n = chunk.len();
            chunk.copy_from_slice(self.take(n)?);
        }
        Ok(())
    }

    /// Exactly `len` bytes, allocated as they arrive (a lying length costs no more than
    /// the bytes that really arrive).
    pub fn bytes(&mut self, len: u64) -> Result<Vec<u8>, RdbError> {
        let mut out = Vec::with_capacity((len as usize).min(PREALLOC_CAP));
        let mut left = len;
        while left > 0 {
            let n = usize::try_from(left).map_or(self.buf.len(), |l| l.min(self.buf.len()));
            out.extend_from_slice(self.take(n)?);
            left -= n as u64;
        }
        Ok(out)
    }

    /// `len` bytes: borrowed when they fit in the buffer, allocated as they arrive if not.
    fn bytes_ref(&mut self, len: u64) -> Result<Cow<'_, [u8]>, RdbError> {
        match usize::try_from(len) {
            Ok(n) if n <= self.buf.len() => Ok(Cow::Borrowed(self.take(n)?)),
            _ => Ok(Cow::Owned(self.bytes(len)?)),
        }
    }

    pub fn u8(&mut self) -> Result<u8, RdbError> {
        if self.pos == self.end {
            self.fill(1)?;
        }
        self.pos += 1;
        Ok(self.buf[self.pos - 1])
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut b = [0u8; N];
        self.read_exact(&mut b)?;
        Ok(b)
    }

    pub fn len_or_encoding(&mut self) -> Result<Len, RdbError> {
        let first = self.u8()?;
        Ok(match first >> 6 {
            0 => Len::Plain(u64::from(first & 0x3f)),
            1 => Len::Plain(u64::from(first & 0x3f) << 8 | u64::from(self.u8()?)),
            2 => match first {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.array()?))),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => {
                    return Err(RdbError::new(
                        self.offset() - 1,
                        format!("unknown length encoding {first:#04x}"),
                    ))
                }
            },
            _ => Len::Encoded(first & 0x3f),
        })
    }

    /// A length (an encoded-string marker here is an error).
    pub fn length(&mut self) -> Result<u64, RdbError> {
        let at = self.offset();
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(kind) => Err(RdbError::new(
                at,
                format!("expected a length, found string encoding {kind}"),
            )),
        }
    }

    /// A string in any of its encodings.
    pub fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        self.string_ref().map(Cow::into_owned)
    }

    /// A string in any of its encodings: a plain one that fits the buffer borrowed from it.
    pub fn string_ref(&mut self) -> Result<Cow<'_, [u8]>, RdbError> {
        let at = self.offset();
        let int = |v: i64| Ok(Cow::Owned(v.to_string().into_bytes()));
        match self.len_or_encoding()? {
            Len::Plain(n) => self.bytes_ref(n),
            Len::Encoded(0) => int(i8::from_le_bytes(self.array()?).into()),
            Len::Encoded(1) => int(i16::from_le_bytes(self.array()?).into()),
            Len::Encoded(2) => int(i32::from_le_bytes(self.array()?).into()),
            Len::Encoded(3) => {
                let clen = self.length()?;
                let len = self.length()?;
                if len > clen.saturating_mul(lzf::MAX_EXPANSION) {
                    return Err(RdbError::new(
                        at,
                        format!("LZF string of {clen} bytes cannot expand to {len}"),
                    ));
                }
                let len =
                    usize::try_from(len).map_err(|_| RdbError::new(at, "LZF length too large"))?;
                let packed = self.bytes_ref(clen)?;
                lzf::decompress(&packed, len)
                    .map(Cow::Owned)
                    .map_err(|e| RdbError::new(at, e.0))
            }
            Len::Encoded(kind) => Err(RdbError::new(at, format!("unknown string encoding {kind}"))),
        }
    }

    /// A score as ZSET (type 3) stores it: a length byte, then ASCII; 253/254/255 stand for
    /// NaN, +inf and -inf.
    pub fn ascii_double(&mut self) -> Result<f64, RdbError> {
        let at = self.offset();
        match self.u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let text = self.bytes(u64::from(n))?;
                parse_double(&text).ok_or_else(|| RdbError::new(at, "bad double value"))
            }
        }
    }

    /// A score as ZSET_2 (type 5) stores it: an IEEE 754 double, little-endian.
    pub fn binary_double(&mut self) -> Result<f64, RdbError> {
        Ok(f64::from_le_bytes(self.array()?))
    }
}

/// A double as Redis writes it in text (`%.17g`, `inf`, `-inf`, `nan`).
pub fn parse_double(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" | "-nan" => Some(f64::NAN),
        _ => s.parse().ok().filter(|v: &f64| v.is_finite()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings of `lens` bytes, each as <length> <bytes>.
    fn strings(lens: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, &len) in lens.iter().enumerate() {
            match len {
                0..=63 => out.push(len as u8),
                _ => {
                    out.push(0x80);
                    out.extend_from_slice(&(len as u32).to_be_bytes());
                }
            }
            out.extend((0..len).map(|j| (i * 31 + j) as u8));
        }
        out
    }

    #[test]
    fn any_buffer_size_reads_the_same_strings_offsets_and_checksum() {
        let lens = [0, 5, 16, 17, 63, 100, BUFFER - 1, BUFFER + 5, 3];
        let data = strings(&lens);
        let read_all = |size: usize| {
            let mut src = Source::with_buffer(&data[..], size);
            let got: Vec<(Vec<u8>, u64)> = lens
                .iter()
                .map(|_| (src.string_ref().unwrap().into_owned(), src.offset()))
                .collect();
            (got, src.crc())
        };
        let (big, crc) = read_all(BUFFER);
        assert_eq!(big.last().unwrap().1, data.len() as u64);
        assert_eq!(crc, crc64(0, &data));
        for size in [1, 16, 17, 100, 4096] {
            assert_eq!(read_all(size), (big.clone(), crc), "buffer of {size}");
        }
    }

    #[test]
    fn a_truncated_string_fails_at_the_end_of_the_input_whatever_the_buffer() {
        let mut data = strings(&[10, 40_000]);
        data.truncate(data.len() - 7);
        for size in [16, 100, BUFFER] {
            let mut src = Source::with_buffer(&data[..], size);
            assert_eq!(src.string().unwrap().len(), 10);
            let error = src.string().unwrap_err();
            assert_eq!(error.offset, data.len() as u64, "buffer of {size}");
            assert_eq!(error.reason, "unexpected end of file");
            assert_eq!(src.crc(), crc64(0, &data));
        }
    }
}
