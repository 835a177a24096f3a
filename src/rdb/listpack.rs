//! Listpack, the packed encoding of small collections since Redis 7.0 (and of stream
//! nodes since 5.0). Every header, entry, back-length and the terminator is checked;
//! integers come back as their decimal text.
//!
//! ```text
//! <total bytes u32 LE> <count u16 LE> <entry>* <0xFF>
//! entry:  <encoding+data> <backlen>
//!   0xxxxxxx                       7-bit unsigned integer
//!   10xxxxxx <data>                string, 6-bit length
//!   110xxxxx yyyyyyyy              13-bit signed integer
//!   1110xxxx yyyyyyyy <data>       string, 12-bit length
//!   11110000 <u32 LE> <data>       string, 32-bit length
//!   11110001 i16 | 11110010 i24 | 11110011 i32 | 11110100 i64   (LE)
//!   backlen: the size of encoding+data in 1..=5 bytes, 7 bits each, read right to left
//! count 65535 means "count them"
//! ```

fn fail<T>(at: usize, what: impl std::fmt::Display) -> Result<T, String> {
    Err(format!("listpack: {what} (at byte {at} of the listpack)"))
}

use super::le;

fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16_382 => 2,
        16_383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// One listpack entry: a string borrowed from the listpack, or an integer as its decimal
/// text (kept inline: no allocation per entry).
#[derive(Clone, Copy, Debug)]
pub enum Entry<'a> {
    Bytes(&'a [u8]),
    Int { len: u8, text: [u8; 20] },
}

impl Entry<'_> {
    /// `v` in decimal, without allocating (this runs for every integer entry of a load).
    fn int(v: i64) -> Self {
        let mut text = [0u8; 20];
        let len = crate::num::format_i64(v, &mut text).len();
        text.copy_within(20 - len.., 0);
        Entry::Int {
            len: len as u8,
            text,
        }
    }
}

impl std::ops::Deref for Entry<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Entry::Bytes(b) => b,
            Entry::Int { len, text } => &text[..usize::from(*len)],
        }
    }
}

/// The entries of a listpack, integers as decimal text.
pub fn entries(lp: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    Ok(parse(lp)?.iter().map(|e| e.to_vec()).collect())
}

/// The entries of a listpack, strings borrowed from it.
pub fn parse(lp: &[u8]) -> Result<Vec<Entry<'_>>, String> {
    const HEADER: usize = 6;
    if lp.len() < HEADER + 1 {
        return fail(0, format!("{} bytes is too short", lp.len()));
    }
    let total = le(&lp[0..4]) as usize;
    let count = le(&lp[4..6]) as usize;
    if total != lp.len() {
        return fail(
            0,
            format!("header says {total} bytes, the blob has {}", lp.len()),
        );
    }
    let end = lp.len() - 1;
    if lp[end] != 0xff {
        return fail(end, "no 0xFF terminator");
    }
    // The header's count (when not 65535) bounds the entries: the blob is already here,
    // and holds at least one byte per entry.
    let mut out = Vec::with_capacity(if count == usize::from(u16::MAX) {
        0
    } else {
        count.min(lp.len())
    });
    let mut pos = HEADER;
    while pos < end {
        let start = pos;
        let enc = lp[pos];
        let need = |at: usize, k: usize| -> Result<(), String> {
            if at + k > end {
                fail(at, "entry passes the end")
            } else {
                Ok(())
            }
        };
        let int = |raw: u64, bits: u32| {
            let shift = 64 - bits;
            Entry::int(((raw << shift) as i64) >> shift)
        };
        let value = if enc & 0x80 == 0 {
            pos += 1;
            Entry::int(i64::from(enc & 0x7f))
        } else if enc & 0xc0 == 0x80 {
            let len = usize::from(enc & 0x3f);
            need(pos + 1, len)?;
            pos += 1 + len;
            Entry::Bytes(&lp[pos - len..pos])
        } else if enc & 0xe0 == 0xc0 {
            need(pos, 2)?;
            let raw = (u64::from(enc & 0x1f) << 8) | u64::from(lp[pos + 1]);
            pos += 2;
            int(raw, 13)
        } else if enc & 0xf0 == 0xe0 {
            need(pos, 2)?;
            let len = (usize::from(enc & 0x0f) << 8) | usize::from(lp[pos + 1]);
            need(pos + 2, len)?;
            pos += 2 + len;
            Entry::Bytes(&lp[pos - len..pos])
        } else {
            let width = match enc {
                0xf0 => {
                    need(pos, 5)?;
                    let len = le(&lp[pos + 1..pos + 5]) as usize;
                    need(pos + 5, len)?;
                    pos += 5 + len;
                    let v = Entry::Bytes(&lp[pos - len..pos]);
                    check_backlen(lp, start, pos, end)?;
                    pos += backlen_size(pos - start);
                    out.push(v);
                    continue;
                }
                0xf1 => 2,
                0xf2 => 3,
                0xf3 => 4,
                0xf4 => 8,
                0xff => return fail(pos, "0xFF before the end"),
                _ => return fail(pos, format!("bad encoding {enc:#04x}")),
            };
            need(pos + 1, width)?;
            let raw = le(&lp[pos + 1..pos + 1 + width]);
            pos += 1 + width;
            int(raw, 8 * width as u32)
        };
        check_backlen(lp, start, pos, end)?;
        pos += backlen_size(pos - start);
        out.push(value);
    }
    if count != usize::from(u16::MAX) && count != out.len() {
        return fail(
            4,
            format!("header count {count}, found {} entries", out.len()),
        );
    }
    Ok(out)
}

/// The back-length after an entry of `pos - start` bytes must encode that size.
fn check_backlen(lp: &[u8], start: usize, pos: usize, end: usize) -> Result<(), String> {
    let size = pos - start;
    let n = backlen_size(size);
    if pos + n > end {
        return fail(pos, "back-length passes the end");
    }
    // Read right to left (lpDecodeBacklen): the last byte holds the low 7 bits, bit 7 set
    // on every byte but the first.
    let mut v: u64 = 0;
    for (i, &b) in lp[pos..pos + n].iter().rev().enumerate() {
        let more = b & 0x80 != 0;
        if more != (i + 1 < n) {
            return fail(pos, "bad back-length");
        }
        v |= u64::from(b & 0x7f) << (7 * i);
    }
    if v != size as u64 {
        return fail(pos, format!("back-length {v}, the entry is {size} bytes"));
    }
    Ok(())
}

/// Builds a listpack the way Redis' `lpAppend` does: strings that are canonical integers
/// (`string2ll`) take the smallest integer encoding, others the shortest string header.
#[derive(Clone, Debug)]
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

/// The header: total bytes (u32) and entry count (u16).
const HEADER_LEN: usize = 6;

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            buf: vec![0; HEADER_LEN],
            count: 0,
        }
    }

    /// Starts over, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.truncate(HEADER_LEN);
        self.buf[..HEADER_LEN].fill(0);
        self.count = 0;
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The listpack's size once finished (header, entries and terminator).
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Appends `entry`, integer-encoded when it is a canonical integer.
    pub fn push(&mut self, entry: &[u8]) {
        let start = self.buf.len();
        match crate::num::parse_i64(entry) {
            Some(v) => self.encode_int(v),
            None => self.encode_str(entry),
        }
        self.finish_entry(start);
    }

    /// Appends an integer entry.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        self.encode_int(v);
        self.finish_entry(start);
    }

    fn encode_int(&mut self, v: i64) {
        let b = &mut self.buf;
        match v {
            0..=127 => b.push(v as u8),
            -4096..=4095 => {
                let u = (v as u16) & 0x1fff;
                b.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
            }
            -32_768..=32_767 => {
                b.push(0xf1);
                b.extend_from_slice(&(v as i16).to_le_bytes());
            }
            -8_388_608..=8_388_607 => {
                b.push(0xf2);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            -2_147_483_648..=2_147_483_647 => {
                b.push(0xf3);
                b.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                b.push(0xf4);
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
    }

    fn encode_str(&mut self, s: &[u8]) {
        let b = &mut self.buf;
        let len = s.len();
        if len < 64 {
            b.push(0x80 | len as u8);
        } else if len < 4096 {
            b.extend_from_slice(&[0xe0 | (len >> 8) as u8, len as u8]);
        } else {
            b.push(0xf0);
            b.extend_from_slice(&(len as u32).to_le_bytes());
        }
        b.extend_from_slice(s);
    }

    /// Appends the back-length of the entry that starts at `start` (lpEncodeBacklen: the
    /// first byte holds the high bits, every later byte has bit 7 set).
    fn finish_entry(&mut self, start: usize) {
        let l = (self.buf.len() - start) as u64;
        let n = backlen_size(l as usize);
        for i in (0..n).rev() {
            let bits = ((l >> (7 * i)) & 127) as u8;
            self.buf.push(if i + 1 == n { bits } else { bits | 128 });
        }
        self.count += 1;
    }

    /// The finished listpack: header filled in, terminator appended. The builder can be
    /// reused after [`Builder::clear`].
    pub fn finish(&mut self) -> &[u8] {
        self.buf.push(0xff);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        // More entries than a u16 holds: "count them" (lpLength).
        let count = u16::try_from(self.count).unwrap_or(u16::MAX);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_as_their_decimal_text() {
        for v in [0, 7, -1, 10, -10, 1000, i64::MAX, i64::MIN] {
            assert_eq!(&*Entry::int(v), v.to_string().as_bytes(), "{v}");
        }
    }

    #[test]
    fn small() {
        // "ab", 5, -2 (13-bit), 1000 (i16)
        let mut lp = vec![0u8; 6];
        lp.extend_from_slice(&[0x82, b'a', b'b', 3]);
        lp.extend_from_slice(&[0x05, 1]);
        lp.extend_from_slice(&[0xdf, 0xfe, 2]);
        lp.extend_from_slice(&[0xf1, 0xe8, 0x03, 3]);
        lp.push(0xff);
        let total = lp.len() as u32;
        lp[0..4].copy_from_slice(&total.to_le_bytes());
        lp[4..6].copy_from_slice(&4u16.to_le_bytes());
        assert_eq!(
            entries(&lp).unwrap(),
            vec![
                b"ab".to_vec(),
                b"5".to_vec(),
                b"-2".to_vec(),
                b"1000".to_vec()
            ]
        );
        for cut in 0..lp.len() {
            assert!(entries(&lp[..cut]).is_err());
        }
        let mut bad = lp.clone();
        bad[9] = 7;
        assert!(entries(&bad).is_err());
    }
}
