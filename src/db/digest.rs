//! DEBUG DIGEST: Redis 7.0's fingerprint of a dataset (debug.c), so that the same data
//! gives the same hex string on ringkv and on redis-server.
//!
//! ```text
//! xor(d, s):  d ^= SHA1(s)                 (order-free: set members, hash pairs, keys)
//! mix(d, s):  d = SHA1(d ^ SHA1(s))        (ordered: list elements, stream entries)
//! dataset:    per non-empty DB j: mix(final, htonl(j)); per key:
//!               d = 0; mix(d, key); object(d, value); xor(final, d)
//! object:     mix(d, htonl(type)); string: mix(value); list: mix(each element);
//!             set: xor(each member); zset: xor(mix(mix(0, member), %.17g score));
//!             hash: xor(mix(mix(0, field), value)); stream: per entry mix("ms.seq"),
//!             then mix(field), mix(value); with a deadline: xor("!!expire!!")
//! ```

use super::keyspace::{lock, Keyspace};
use super::sha1::Sha1;
use super::value::Value;
use crate::num::format_double;

pub type Digest = [u8; 20];

/// Redis' object type numbers (OBJ_STRING ...), which the digest mixes in.
fn type_code(value: &Value) -> u32 {
    match value {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

fn xor(digest: &mut Digest, data: &[u8]) {
    for (d, h) in digest.iter_mut().zip(Sha1::digest(data)) {
        *d ^= h;
    }
}

fn mix(digest: &mut Digest, data: &[u8]) {
    xor(digest, data);
    *digest = Sha1::digest(digest);
}

/// A pair's digest, xored in: the order of pairs does not matter, inside one it does.
fn xor_pair(digest: &mut Digest, a: &[u8], b: &[u8]) {
    let mut element = Digest::default();
    mix(&mut element, a);
    mix(&mut element, b);
    xor(digest, &element);
}

/// Adds `value` (with or without a deadline) to `digest`: Redis' xorObjectDigest.
pub fn add_value(digest: &mut Digest, value: &Value, has_deadline: bool) {
    mix(digest, &type_code(value).to_be_bytes());
    match value {
        Value::Str(data) => mix(digest, data),
        Value::List(list) => list.iter().for_each(|item| mix(digest, item)),
        Value::Set(set) => set.iter().for_each(|member| xor(digest, member)),
        Value::ZSet(zset) => {
            for (member, score) in zset.iter() {
                xor_pair(digest, member, format_double(score).as_bytes());
            }
        }
        Value::Hash(hash) => {
            for (field, value) in hash.iter() {
                xor_pair(digest, field, value);
            }
        }
        Value::Stream(stream) => {
            for (id, fields) in stream.iter() {
                mix(digest, format!("{}.{}", id.ms, id.seq).as_bytes());
                for (field, value) in fields {
                    mix(digest, field);
                    mix(digest, value);
                }
            }
        }
    }
    if has_deadline {
        xor(digest, b"!!expire!!");
    }
}

/// The digest of every database (keys whose deadline passed but that are still stored
/// count, as in Redis, which walks its dicts). All zeros when the keyspace is empty.
pub fn dataset(keyspace: &Keyspace) -> Digest {
    let mut total = Digest::default();
    for (index, db) in keyspace.dbs().iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix(&mut total, &(index as u32).to_be_bytes());
        for shard in db.shards() {
            let shard = lock(shard);
            for (pos, entry) in shard.entries().iter().enumerate() {
                let mut digest = Digest::default();
                mix(&mut digest, &entry.key);
                add_value(&mut digest, &entry.value, shard.expires_at(pos).is_some());
                xor(&mut total, &digest);
            }
        }
    }
    total
}

/// Lower-case hex, as DEBUG DIGEST prints it.
pub fn hex(digest: &Digest) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn an_empty_keyspace_digests_to_zeros() {
        assert_eq!(hex(&dataset(&Keyspace::new(16))), "0".repeat(40));
    }

    #[test]
    fn key_order_does_not_matter_but_databases_and_deadlines_do() {
        let string = |s: &str| Value::string(&Bytes::copy_from_slice(s.as_bytes()));
        let (a, b) = (Keyspace::new(2), Keyspace::new(2));
        for key in ["k1", "k2", "k3"] {
            a.lock(0, key.as_bytes()).set(string(key), false, 0);
        }
        for key in ["k3", "k1", "k2"] {
            b.lock(0, key.as_bytes()).set(string(key), false, 0);
        }
        assert_eq!(dataset(&a), dataset(&b));
        let mut guard = b.lock(0, b"k1");
        let pos = guard.find_live(0).unwrap();
        guard.set_expiry(pos, Some(i64::MAX));
        drop(guard);
        assert_ne!(dataset(&a), dataset(&b));
        let c = Keyspace::new(2);
        for key in ["k1", "k2", "k3"] {
            c.lock(1, key.as_bytes()).set(string(key), false, 0);
        }
        assert_ne!(dataset(&a), dataset(&c));
    }
}
