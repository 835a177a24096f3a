//! Small collections in one contiguous buffer (what Redis' listpack is for): byte strings
//! one after another, each behind its length as a LEB128 varint.
//!
//! ```text
//! [count u32 LE][len varint][bytes][len varint][bytes] ...     (empty: no block at all)
//! ```
//! A hash of ten short fields costs one allocation of ~100 bytes instead of twenty. Every
//! lookup is a linear scan, so owners convert to a table past Redis' size thresholds.

use std::ops::Range;

/// Bytes before the strings: their count, u32 little-endian (absent when empty).
const HEADER: usize = 4;

/// One exact-size block (16 bytes in the value, no spare capacity): every change
/// reallocates, as Redis' listpack does; small sizes keep that cheap.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Packed(Box<[u8]>);

impl Packed {
    /// The strings `items`, in order, built in one allocation.
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a [u8], IntoIter: Clone>) -> Packed {
        let items = items.into_iter();
        // Sized first: one exact allocation, no regrowth.
        let size = items
            .clone()
            .map(|item| varint_len(item.len()) + item.len())
            .sum::<usize>();
        let mut buf = Vec::with_capacity(HEADER + size);
        buf.resize(HEADER, 0);
        let mut count = 0u32;
        for item in items {
            put_varint(&mut buf, item.len());
            buf.extend_from_slice(item);
            count += 1;
        }
        Packed::with_count(buf, count)
    }

    fn with_count(mut buf: Vec<u8>, count: u32) -> Packed {
        if count == 0 {
            return Packed::default();
        }
        buf[..HEADER].copy_from_slice(&count.to_le_bytes());
        Packed(buf.into_boxed_slice())
    }

    /// Number of strings.
    pub fn count(&self) -> usize {
        self.0
            .get(..HEADER)
            .map_or(0, |h| u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize)
    }

    fn items(&self) -> &[u8] {
        self.0.get(HEADER..).unwrap_or_default()
    }

    /// Bytes used by the strings (ranges from [`Packed::iter`] are within these).
    pub fn bytes(&self) -> usize {
        self.items().len()
    }

    /// The strings in order, each with the byte range it occupies (prefix included).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: self.items(),
            at: 0,
        }
    }

    /// Inserts `items` at byte offset `at` (the start of a string, or the end).
    pub fn insert_at(&mut self, at: usize, items: &[&[u8]]) {
        let mut encoded = Vec::with_capacity(items.iter().map(|i| i.len() + 5).sum());
        for item in items {
            put_varint(&mut encoded, item.len());
            encoded.extend_from_slice(item);
        }
        let count = self.count() + items.len();
        self.edit(count, |buf| {
            buf.splice(HEADER + at..HEADER + at, encoded);
        });
    }

    /// Replaces the string at `range` (as [`Packed::iter`] gave it) with `item`.
    pub fn replace(&mut self, range: Range<usize>, item: &[u8]) {
        let mut encoded = Vec::with_capacity(item.len() + 5);
        put_varint(&mut encoded, item.len());
        encoded.extend_from_slice(item);
        self.edit(self.count(), |buf| {
            buf.splice(HEADER + range.start..HEADER + range.end, encoded);
        });
    }

    /// Removes the `n` strings that make up `range`.
    pub fn remove(&mut self, range: Range<usize>, n: usize) {
        self.edit(self.count() - n, |buf| {
            buf.drain(HEADER + range.start..HEADER + range.end);
        });
    }

    /// Changes the block as a Vec (header included) and stores the new count.
    fn edit(&mut self, count: usize, change: impl FnOnce(&mut Vec<u8>)) {
        let mut buf = std::mem::take(&mut self.0).into_vec();
        buf.resize(buf.len().max(HEADER), 0);
        change(&mut buf);
        *self = Packed::with_count(buf, count as u32);
    }
}

/// Strings of a [`Packed`] with their byte ranges.
#[derive(Clone)]
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

/// How many bytes [`put_varint`] takes for `n`.
fn varint_len(n: usize) -> usize {
    (usize::BITS - (n | 1).leading_zeros()).div_ceil(7) as usize
}

/// True when no two of `items` are equal (small collections: compared pairwise, without
/// the allocation of a set).
pub fn all_distinct<'a>(mut items: impl ExactSizeIterator<Item = &'a [u8]> + Clone) -> bool {
    if items.len() <= 16 {
        let mut rest = items.clone();
        return items.all(|a| {
            rest.next();
            rest.clone().all(|b| a != b)
        });
    }
    let mut seen = hashbrown::HashSet::with_capacity(items.len());
    items.all(|item| seen.insert(item))
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
        let long = vec![b'x'; 20_000];
        let p = Packed::from_items([&b""[..], b"a", &[b'y'; 127], &[b'z'; 128], &long]);
        assert_eq!(p.count(), 5);
        let got = items(&p);
        assert_eq!(got[0], b"");
        assert_eq!(got[2].len(), 127);
        assert_eq!(got[3].len(), 128);
        assert_eq!(got[4], long);
        // Sized up front: the block is exactly what the strings take.
        assert_eq!(
            p.0.len(),
            HEADER + (1 + 1 + 1 + 1 + 127 + 2 + 128 + 3 + 20_000)
        );
        for n in [0, 1, 127, 128, 16_383, 16_384, usize::MAX] {
            let mut buf = Vec::new();
            put_varint(&mut buf, n);
            assert_eq!(varint_len(n), buf.len(), "{n}");
        }
    }

    #[test]
    fn all_distinct_finds_a_repeat_pairwise_and_through_a_set() {
        for n in [2, 3, 16, 17, 200] {
            let items: Vec<Vec<u8>> = (0..n).map(|i: u32| i.to_string().into_bytes()).collect();
            let slices = || items.iter().map(|v| &v[..]);
            assert!(all_distinct(slices()), "{n}");
            for (a, b) in [(0, n - 1), (n / 2 - 1, n / 2), (n - 2, n - 1)] {
                let mut with_repeat = items.clone();
                with_repeat[b as usize] = with_repeat[a as usize].clone();
                assert!(
                    !all_distinct(with_repeat.iter().map(|v| &v[..])),
                    "{n}: {a}={b}"
                );
            }
        }
        assert!(all_distinct(std::iter::empty()));
    }

    #[test]
    fn insert_replace_and_remove_keep_the_rest() {
        let mut p = Packed::default();
        assert_eq!(std::mem::size_of::<Packed>(), 16);
        p.insert_at(0, &[b"c"]);
        p.insert_at(0, &[b"a"]);
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
        p.remove(0..p.bytes(), 2);
        assert_eq!((p.count(), p.bytes()), (0, 0));
        assert_eq!(p, Packed::default());
    }
}
