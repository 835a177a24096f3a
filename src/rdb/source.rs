//! The byte source of the decoder: counts the offset of every byte, keeps the running
//! CRC-64, and reads RDB's length and string encodings with bounded allocation (a length
//! from the file never reserves more than [`PREALLOC_CAP`] up front; buffers grow as bytes
//! actually arrive).
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

use std::io::{ErrorKind, Read};

use super::crc64::Crc64;
use super::{lzf, RdbError};

/// The most a length read from the file may reserve before the bytes arrive.
pub const PREALLOC_CAP: usize = 4096;

/// A length field, or the kind of encoded string that follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Len {
    Plain(u64),
    Encoded(u8),
}

/// The decoder's reader: offsets and checksum of everything read.
pub struct Source<R> {
    inner: R,
    offset: u64,
    crc: Crc64,
}

impl<R: Read> Source<R> {
    pub fn new(inner: R) -> Source<R> {
        Source {
            inner,
            offset: 0,
            crc: Crc64::new(),
        }
    }

    /// Bytes read so far: the offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The CRC-64 of every byte read so far.
    pub fn crc(&self) -> u64 {
        self.crc.value()
    }

    pub fn error(&self, reason: impl Into<String>) -> RdbError {
        RdbError::new(self.offset, reason)
    }

    pub fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), RdbError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => {
                    self.note(&buf[..filled]);
                    return Err(self.error("unexpected end of file"));
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.note(&buf[..filled]);
                    return Err(self.error(format!("read failed: {e}")));
                }
            }
        }
        self.note(buf);
        Ok(())
    }

    fn note(&mut self, bytes: &[u8]) {
        self.crc.update(bytes);
        self.offset += bytes.len() as u64;
    }

    /// Exactly `len` bytes, allocated as they arrive.
    pub fn bytes(&mut self, len: u64) -> Result<Vec<u8>, RdbError> {
        let mut out = Vec::with_capacity((len as usize).min(PREALLOC_CAP));
        let mut left = len;
        // Read straight into `out`, growing it one chunk at a time (a lying length costs
        // no more than the bytes that really arrive); zeroing only what is read keeps a
        // key of a few bytes from paying for a whole chunk.
        while left > 0 {
            let n = (left as usize).min(8192);
            let start = out.len();
            out.resize(start + n, 0);
            self.read_exact(&mut out[start..])?;
            left -= n as u64;
        }
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, RdbError> {
        let mut b = [0u8; 1];
        self.read_exact(&mut b)?;
        Ok(b[0])
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
                        self.offset - 1,
                        format!("unknown length encoding {first:#04x}"),
                    ))
                }
            },
            _ => Len::Encoded(first & 0x3f),
        })
    }

    /// A length (an encoded-string marker here is an error).
    pub fn length(&mut self) -> Result<u64, RdbError> {
        let at = self.offset;
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
        let at = self.offset;
        match self.len_or_encoding()? {
            Len::Plain(n) => self.bytes(n),
            Len::Encoded(0) => Ok(i8::from_le_bytes(self.array()?).to_string().into_bytes()),
            Len::Encoded(1) => Ok(i16::from_le_bytes(self.array()?).to_string().into_bytes()),
            Len::Encoded(2) => Ok(i32::from_le_bytes(self.array()?).to_string().into_bytes()),
            Len::Encoded(3) => {
                let clen = self.length()?;
                let len = self.length()?;
                if len > clen.saturating_mul(lzf::MAX_EXPANSION) {
                    return Err(RdbError::new(
                        at,
                        format!("LZF string of {clen} bytes cannot expand to {len}"),
                    ));
                }
                let packed = self.bytes(clen)?;
                let len =
                    usize::try_from(len).map_err(|_| RdbError::new(at, "LZF length too large"))?;
                lzf::decompress(&packed, len).map_err(|e| RdbError::new(at, e.0))
            }
            Len::Encoded(kind) => Err(RdbError::new(at, format!("unknown string encoding {kind}"))),
        }
    }

    /// A score as ZSET (type 3) stores it: a length byte, then ASCII; 253/254/255 stand for
    /// NaN, +inf and -inf.
    pub fn ascii_double(&mut self) -> Result<f64, RdbError> {
        let at = self.offset;
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
