//! What a key costs in memory, estimated for MEMORY USAGE.
//!
//! Like Redis' `objectComputeSize`, a collection is measured on a sample of its elements
//! (`samples`, 0 for all of them) and the average is scaled to its length, so the answer
//! for a big key stays cheap. The figures are this server's own layout: the entry's slot,
//! heap blocks of keys and values (short strings live inline and cost nothing extra), and
//! the per-element slots of tables; allocator rounding is not counted.

use std::mem::size_of;

use bytes::Bytes;

use super::hash::Hash;
use super::shard::Entry;
use super::value::Compact;
use super::zset::ZSet;
use super::Value;

/// Estimated bytes of one entry: its slot, its key and its value.
pub fn entry_usage(entry: &Entry, samples: usize) -> usize {
    size_of::<Entry>() + compact(&entry.key) + value(&entry.value, samples)
}

/// Heap bytes of a string beyond its 24 bytes.
fn compact(c: &Compact) -> usize {
    match c {
        Compact::Inline { .. } => 0,
        Compact::Boxed(data) => data.len(),
        Compact::Shared(bytes) => size_of::<Bytes>() + bytes.len(),
    }
}

/// Heap bytes of a value beyond its 24 bytes.
fn value(value: &Value, samples: usize) -> usize {
    match value {
        Value::Str(data) => compact(data),
        Value::List(list) => {
            size_of_val(&**list)
                + list.capacity() * size_of::<Bytes>()
                + scaled(list.iter().map(|b| b.len()), list.len(), samples)
        }
        Value::Set(set) => {
            size_of_val(&**set)
                + set.table_bytes()
                + scaled(set.iter().map(|b| b.len()), set.len(), samples)
        }
        Value::Hash(Hash::Packed(packed)) => packed.bytes(),
        Value::Hash(hash @ Hash::Table(_)) => {
            let pair = 2 * size_of::<Compact>() + 1;
            let heap = |(f, v): (&[u8], &[u8])| inline_or_heap(f) + inline_or_heap(v);
            hash.len() * pair + scaled(hash.iter().map(heap), hash.len(), samples)
        }
        Value::ZSet(ZSet::Packed(packed)) => packed.bytes(),
        Value::ZSet(zset) => {
            // A member is held twice (score map and order), with a score each time.
            let member = 2 * (size_of::<Compact>() + size_of::<f64>()) + 1;
            let heap = |(m, _): (&[u8], f64)| 2 * inline_or_heap(m);
            zset.len() * member + scaled(zset.iter().map(heap), zset.len(), samples)
        }
        Value::Stream(stream) => {
            let entry = |(_, fields): (_, &[(Compact, Compact)])| {
                fields
                    .iter()
                    .map(|(f, v)| 2 * size_of::<Compact>() + compact(f) + compact(v))
                    .sum::<usize>()
            };
            size_of_val(&**stream)
                + stream.len() * (size_of::<crate::rdb::StreamId>() + size_of::<usize>() * 2)
                + scaled(stream.iter().map(entry), stream.len(), samples)
        }
    }
}

/// Heap bytes a string of this length takes once stored as a [`Compact`].
fn inline_or_heap(data: &[u8]) -> usize {
    compact(&Compact::copy(data))
}

/// The sum of `sizes` over `len` elements, from the first `samples` of them (all when
/// `samples` is 0), scaled to the whole.
fn scaled(sizes: impl Iterator<Item = usize>, len: usize, samples: usize) -> usize {
    let take = if samples == 0 { len } else { samples.min(len) };
    if take == 0 {
        return 0;
    }
    let sampled: usize = sizes.take(take).sum();
    sampled / take * len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::hash::Limits;

    #[test]
    fn bigger_values_cost_more_and_samples_scale_to_the_whole() {
        let small = Value::Str(Compact::copy(b"short"));
        let big = Value::Str(Compact::copy(&[b'x'; 1000]));
        assert_eq!(
            value(&small, 5),
            0,
            "inline strings cost nothing beyond the slot"
        );
        assert_eq!(value(&big, 5), 1000);

        let list = |n: usize| {
            Value::List(Box::new(
                (0..n).map(|_| Bytes::from(vec![b'v'; 100])).collect(),
            ))
        };
        assert!(value(&list(1000), 5) > 100 * 1000);
        assert!(value(&list(1000), 5) > value(&list(10), 5));
        // Uniform elements: a sample of 5 says what measuring all of them says.
        assert_eq!(value(&list(1000), 5), value(&list(1000), 0));

        let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..100)
            .map(|i| (format!("field:{i}").into_bytes(), vec![b'v'; 50]))
            .collect();
        let pairs = || pairs.iter().map(|(f, v)| (&f[..], &v[..]));
        let packed = Value::Hash(Hash::from_pairs(pairs(), Limits::new(128, 64)).unwrap());
        let table = Value::Hash(Hash::from_pairs(pairs(), Limits::new(10, 64)).unwrap());
        assert!(value(&packed, 5) > 100 * 50);
        assert!(
            value(&table, 5) > value(&packed, 5),
            "a table costs more than a block"
        );
    }
}
