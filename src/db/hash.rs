//! Hash values: packed field/value pairs while small (Redis' listpack encoding), a
//! hashbrown map past `hash-max-listpack-entries` / `hash-max-listpack-value` (Redis'
//! hashtable encoding). Like Redis, a hash never converts back to packed.

use hashbrown::HashMap;

use super::packed::{all_distinct, Packed};
use super::value::Compact;
use crate::config::Config;

/// When a small collection must become a table: more than `entries` elements, or an
/// element longer than `value` bytes (Redis' `*-max-listpack-entries` / `-value`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl Limits {
    /// From the two config values (negative ones count as 0, as Redis' size_t casts
    /// would make them huge; a negative limit is refused by CONFIG anyway).
    pub fn new(entries: i64, value: i64) -> Limits {
        Limits {
            entries: usize::try_from(entries).unwrap_or(0),
            value: usize::try_from(value).unwrap_or(0),
        }
    }

    /// The live limits of `kind` (`hash`, `zset`): `<kind>-max-listpack-entries/-value`.
    pub fn from_config(config: &Config, kind: &str) -> Limits {
        Limits::new(
            config.get_int(&format!("{kind}-max-listpack-entries")),
            config.get_int(&format!("{kind}-max-listpack-value")),
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hash {
    /// Field, value, field, value, ... in insertion order.
    Packed(Packed),
    /// Boxed so that a hash is 16 bytes and fits in a [`super::Value`] unboxed.
    Table(Box<HashMap<Compact, Compact>>),
}

impl Default for Hash {
    fn default() -> Hash {
        Hash::Packed(Packed::default())
    }
}

impl Hash {
    /// A hash holding `pairs`, encoded as Redis would encode the same contents; None if
    /// a field repeats. Linear in the number of pairs whatever the limits.
    pub fn from_pairs<'a>(
        pairs: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])> + Clone,
        limits: Limits,
    ) -> Option<Hash> {
        let fits = |s: &[u8]| s.len() <= limits.value;
        if pairs.len() > limits.entries || !pairs.clone().all(|(f, v)| fits(f) && fits(v)) {
            let mut map = HashMap::with_capacity(pairs.len());
            for (field, value) in pairs {
                if map
                    .insert(Compact::copy(field), Compact::copy(value))
                    .is_some()
                {
                    return None;
                }
            }
            return Some(Hash::Table(Box::new(map)));
        }
        if !all_distinct(pairs.clone().map(|(field, _)| field)) {
            return None;
        }
        let items = pairs.flat_map(|(field, value)| [field, value]);
        Some(Hash::Packed(Packed::from_items(items)))
    }

    pub fn len(&self) -> usize {
        match self {
            Hash::Packed(packed) => packed.count() / 2,
            Hash::Table(map) => map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Packed(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Field/value pairs, borrowed: insertion order while packed, table order after.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + Clone {
        let (packed, table) = match self {
            Hash::Packed(packed) => (Some(pairs(packed)), None),
            Hash::Table(map) => (None, Some(map.iter().map(|(f, v)| (&**f, &**v)))),
        };
        packed
            .into_iter()
            .flatten()
            .map(|(f, v)| (f.0, v.0))
            .chain(table.into_iter().flatten())
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Packed(packed) => pairs(packed).find(|(f, _)| f.0 == field).map(|(_, v)| v.0),
            Hash::Table(map) => map.get(field).map(|v| &**v),
        }
    }

    /// Sets `field` to `value`; returns whether the field is new. Converts to a table when
    /// the hash outgrows `limits`.
    pub fn insert(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if let Hash::Packed(packed) = self {
            let existing = pairs(packed).find(|(f, _)| f.0 == field).map(|(_, v)| v.1);
            let too_long = field.len() > limits.value || value.len() > limits.value;
            let too_many = existing.is_none() && packed.count() / 2 + 1 > limits.entries;
            if !too_long && !too_many {
                let is_new = existing.is_none();
                match existing {
                    Some(range) => packed.replace(range, value),
                    None => packed.insert_at(packed.bytes(), &[field, value]),
                }
                return is_new;
            }
            self.convert();
        }
        let Hash::Table(map) = self else {
            unreachable!("converted above")
        };
        map.insert(Compact::copy(field), Compact::copy(value))
            .is_none()
    }

    /// Removes `field`; returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Packed(packed) => {
                let found = pairs(packed)
                    .find(|(f, _)| f.0 == field)
                    .map(|(f, v)| f.1.start..v.1.end);
                let removed = found.is_some();
                if let Some(pair) = found {
                    packed.remove(pair, 2);
                }
                removed
            }
            Hash::Table(map) => map.remove(field).is_some(),
        }
    }

    fn convert(&mut self) {
        if let Hash::Packed(packed) = self {
            let mut map = HashMap::with_capacity(packed.count() / 2);
            for (f, v) in pairs(packed) {
                map.insert(Compact::copy(f.0), Compact::copy(v.0));
            }
            *self = Hash::Table(Box::new(map));
        }
    }
}

type Item<'a> = (&'a [u8], std::ops::Range<usize>);

/// A packed buffer's strings two by two.
fn pairs(packed: &Packed) -> impl Iterator<Item = (Item<'_>, Item<'_>)> + Clone {
    let mut items = packed.iter();
    std::iter::from_fn(move || Some((items.next()?, items.next()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        entries: 4,
        value: 8,
    };

    #[test]
    fn small_hashes_stay_packed_and_answer_like_a_map() {
        let mut hash = Hash::default();
        assert!(hash.insert(b"a", b"1", LIMITS));
        assert!(hash.insert(b"b", b"2", LIMITS));
        assert!(!hash.insert(b"a", b"one", LIMITS));
        assert_eq!(hash.encoding(), "listpack");
        assert_eq!(hash.len(), 2);
        assert_eq!(hash.get(b"a"), Some(&b"one"[..]));
        assert_eq!(hash.get(b"c"), None);
        let pairs: Vec<_> = hash.iter().collect();
        assert_eq!(pairs, [(&b"a"[..], &b"one"[..]), (b"b", b"2")]);
        hash.insert(b"c", b"3", LIMITS);
        assert!(hash.remove(b"b"));
        assert!(!hash.remove(b"b"));
        let pairs: Vec<_> = hash.iter().collect();
        assert_eq!(pairs, [(&b"a"[..], &b"one"[..]), (b"c", b"3")]);
        assert!(hash.remove(b"a") && hash.remove(b"c"));
        assert!(hash.is_empty());
        assert_eq!(
            hash,
            Hash::default(),
            "an emptied packed hash holds no block"
        );
    }

    #[test]
    fn hashes_convert_past_either_limit() {
        let mut many = Hash::default();
        for i in 0..5 {
            many.insert(format!("f{i}").as_bytes(), b"v", LIMITS);
        }
        assert_eq!(many.encoding(), "hashtable");
        assert_eq!(many.len(), 5);
        assert_eq!(many.get(b"f0"), Some(&b"v"[..]));
        assert!(many.remove(b"f0") && !many.remove(b"f0"));
        assert_eq!((many.len(), many.encoding()), (4, "hashtable"));

        let mut long = Hash::default();
        long.insert(b"f", b"v", LIMITS);
        long.insert(b"g", b"123456789", LIMITS);
        assert_eq!(long.encoding(), "hashtable");
        assert_eq!(long.get(b"f"), Some(&b"v"[..]));

        let pairs = [(&b"f"[..], &b"v"[..])];
        let built = Hash::from_pairs(pairs.into_iter(), LIMITS).unwrap();
        assert_eq!(built.encoding(), "listpack");
        let zero = Hash::from_pairs(pairs.into_iter(), Limits::new(0, 64)).unwrap();
        assert_eq!(zero.encoding(), "hashtable");
        let twice = [(&b"f"[..], &b"v"[..]), (b"f", b"w")];
        assert!(Hash::from_pairs(twice.into_iter(), LIMITS).is_none());
        assert!(Hash::from_pairs(twice.into_iter(), Limits::new(0, 64)).is_none());
    }
}
