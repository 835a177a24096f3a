//! Small collections in one contiguous buffer (what Redis' listpack is for): byte strings
//! one after another, each behind its length as a LEB128 varint.
//!
//! ```text
//! buf: [len varint][bytes][len varint][bytes] ...      count: number of strings
//! ```
//! A hash of ten short fields costs one allocation of ~100 bytes instead of twenty. Every
//! lookup is a linear scan, so owners convert to a table past Redis' size thresholds.

use std::ops::Range;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Packed {
    buf: Vec<u8>,
    count: u32,
}

impl Packed {
    /// Number of strings.
    pub fn count(&self) -> usize {
        self.count as usize
    }

    /// Bytes used by the contents.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// The strings in order, each with the byte range it occupies (prefix included).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            at: 0,
        }
    }

    pub fn push(&mut self, item: &[u8]) {
        put_varint(&mut self.buf, item.len());
        self.buf.extend_from_slice(item);
        self.count += 1;
    }

    /// Inserts `items` at byte offset `at` (the start of a string, or the end).
    pub fn insert_at(&mut self, at: usize, items: &[&[u8]]) {
        let mut encoded = Vec::with_capacity(items.iter().map(|i| i.len() + 5).sum());
        for item in items {
            put_varint(&mut encoded, item.len());
            encoded.extend_from_slice(item);
        }
        self.buf.splice(at..at, encoded);
        self.count += items.len() as u32;
    }

    /// Replaces the string at `range` (as [`Packed::iter`] gave it) with `item`.
    pub fn replace(&mut self, range: Range<usize>, item: &[u8]) {
        let mut encoded = Vec::with_capacity(item.len() + 5);
        put_varint(&mut encoded, item.len());
        encoded.extend_from_slice(item);
        self.buf.splice(range, encoded);
    }

    /// Removes the `n` strings that make up `range`.
    pub fn remove(&mut self, range: Range<usize>, n: usize) {
        self.buf.drain(range);
        self.count -= n as u32;
    }

    /// Gives back spare capacity (after a bulk build, such as a load).
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }
}

/// Strings of a [`Packed`] with their byte ranges.
pub struct Iter<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.at;
        let (len, header) = get_varint(self.buf.get(start..)?)?;
        let data = start + header;
        let end = data + len;
        self.at = end;
        Some((&self.buf[data..end], start..end))
    }
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A varint at the start of `buf`: its value and how many bytes it took. None at the end
/// of the buffer (the buffer is only ever written by [`put_varint`]).
fn get_varint(buf: &[u8]) -> Option<(usize, usize)> {
    let mut n = 0usize;
    for (i, &b) in buf.iter().enumerate() {
        n |= usize::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some((n, i + 1));
        }
    }
    None
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|(item, _)| bytes::Bytes::copy_from_slice(item)),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(p: &Packed) -> Vec<Vec<u8>> {
        p.iter().map(|(i, _)| i.to_vec()).collect()
    }

    #[test]
    fn strings_of_every_length_class_round_trip() {
        let mut p = Packed::default();
        let long = vec![b'x'; 20_000];
        for item in [&b""[..], b"a", &[b'y'; 127], &[b'z'; 128], &long] {
            p.push(item);
        }
        assert_eq!(p.count(), 5);
        let got = items(&p);
        assert_eq!(got[0], b"");
        assert_eq!(got[2].len(), 127);
        assert_eq!(got[3].len(), 128);
        assert_eq!(got[4], long);
    }

    #[test]
    fn insert_replace_and_remove_keep_the_rest() {
        let mut p = Packed::default();
        p.push(b"a");
        p.push(b"c");
        let (_, c) = p.iter().nth(1).unwrap();
        p.insert_at(c.start, &[b"b", b"bb"]);
        assert_eq!(items(&p), [&b"a"[..], b"b", b"bb", b"c"]);
        let (_, b) = p.iter().nth(1).unwrap();
        p.replace(b, &[b'q'; 300]);
        assert_eq!(items(&p)[1], vec![b'q'; 300]);
        let (_, first) = p.iter().next().unwrap();
        let (_, second) = p.iter().nth(1).unwrap();
        p.remove(first.start..second.end, 2);
        assert_eq!(items(&p), [&b"bb"[..], b"c"]);
        assert_eq!(p.count(), 2);
    }
}
