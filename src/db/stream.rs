//! Stream values: entries by ID in a B-tree (XADD appends at the end, XRANGE walks a
//! range), the ID bookkeeping RDB 7.0 stores, and consumer groups with their pending
//! entries lists. Groups and consumers are ordered by name, as Redis' radix trees are.

use std::collections::{BTreeMap, BTreeSet};

use super::value::Compact;
use crate::rdb::{self, StreamId};

/// An entry's field/value pairs, in the order XADD gave them.
pub type Fields = Box<[(Compact, Compact)]>;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stream {
    pub entries: BTreeMap<StreamId, Fields>,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Compact, Group>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub last_id: StreamId,
    /// None when unknown (Redis' SCG_INVALID_ENTRIES_READ).
    pub entries_read: Option<u64>,
    pub pending: BTreeMap<StreamId, Pending>,
    pub consumers: BTreeMap<Compact, Consumer>,
}

/// A delivered, not yet acknowledged entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub delivery_time_ms: i64,
    pub delivery_count: u64,
    /// The consumer that owns it (None only if a file gave it to no consumer).
    pub consumer: Option<Compact>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumer {
    pub seen_time_ms: i64,
    pub active_time_ms: i64,
    pub pending: BTreeSet<StreamId>,
}

impl Stream {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in ID order, fields borrowed.
    pub fn iter(&self) -> impl Iterator<Item = (StreamId, &[(Compact, Compact)])> {
        self.entries.iter().map(|(id, fields)| (*id, &**fields))
    }
}

impl Stream {
    /// The decoder's model of this stream, which the RDB writer encodes (a copy: streams
    /// are saved rarely next to the strings and collections that are borrowed).
    pub fn to_model(&self) -> rdb::Stream {
        let mut groups = Vec::with_capacity(self.groups.len());
        for (name, group) in &self.groups {
            groups.push(rdb::ConsumerGroup {
                name: name.to_vec(),
                last_id: group.last_id,
                entries_read: group.entries_read,
                pending: group
                    .pending
                    .iter()
                    .map(|(id, p)| rdb::PendingEntry {
                        id: *id,
                        delivery_time_ms: p.delivery_time_ms,
                        delivery_count: p.delivery_count,
                    })
                    .collect(),
                consumers: group
                    .consumers
                    .iter()
                    .map(|(name, c)| rdb::Consumer {
                        name: name.to_vec(),
                        seen_time_ms: c.seen_time_ms,
                        active_time_ms: c.active_time_ms,
                        pending: c.pending.iter().copied().collect(),
                    })
                    .collect(),
            });
        }
        rdb::Stream {
            entries: self
                .iter()
                .map(|(id, fields)| rdb::StreamEntry {
                    id,
                    fields: fields
                        .iter()
                        .map(|(f, v)| (f.to_vec(), v.to_vec()))
                        .collect(),
                })
                .collect(),
            length: self.len() as u64,
            last_id: self.last_id,
            first_id: self.first_id,
            max_deleted_id: self.max_deleted_id,
            entries_added: self.entries_added,
            groups,
        }
    }
}

impl TryFrom<rdb::Stream> for Stream {
    type Error = String;

    /// The keyspace form of a decoded stream. Fails where Redis' loader reports a corrupt
    /// file: an ID in two consumers' PELs, or a group or consumer name twice.
    fn try_from(decoded: rdb::Stream) -> Result<Stream, String> {
        let mut stream = Stream {
            entries: BTreeMap::new(),
            last_id: decoded.last_id,
            first_id: decoded.first_id,
            max_deleted_id: decoded.max_deleted_id,
            entries_added: decoded.entries_added,
            groups: BTreeMap::new(),
        };
        for entry in decoded.entries {
            let fields = entry
                .fields
                .iter()
                .map(|(f, v)| (Compact::copy(f), Compact::copy(v)))
                .collect();
            if stream.entries.insert(entry.id, fields).is_some() {
                return Err(format!("stream entry {} appears twice", entry.id));
            }
        }
        for decoded in decoded.groups {
            let group = group(&decoded)?;
            let name = Compact::copy(&decoded.name);
            if stream.groups.insert(name, group).is_some() {
                return Err("duplicated consumer group name".into());
            }
        }
        Ok(stream)
    }
}

fn group(decoded: &rdb::ConsumerGroup) -> Result<Group, String> {
    let mut group = Group {
        last_id: decoded.last_id,
        entries_read: decoded.entries_read,
        ..Group::default()
    };
    for p in &decoded.pending {
        let pending = Pending {
            delivery_time_ms: p.delivery_time_ms,
            delivery_count: p.delivery_count,
            consumer: None,
        };
        if group.pending.insert(p.id, pending).is_some() {
            return Err(format!("duplicated global PEL entry {}", p.id));
        }
    }
    for c in &decoded.consumers {
        let name = Compact::copy(&c.name);
        for id in &c.pending {
            match group.pending.get_mut(id) {
                Some(Pending {
                    consumer: owner @ None,
                    ..
                }) => *owner = Some(name.clone()),
                _ => return Err(format!("consumer PEL entry {id} not in the group PEL once")),
            }
        }
        let consumer = Consumer {
            seen_time_ms: c.seen_time_ms,
            active_time_ms: c.active_time_ms,
            pending: c.pending.iter().copied().collect(),
        };
        if group.consumers.insert(name, consumer).is_some() {
            return Err("duplicated consumer name".into());
        }
    }
    Ok(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId { ms, seq: 0 }
    }

    fn decoded() -> rdb::Stream {
        rdb::Stream {
            entries: vec![rdb::StreamEntry {
                id: id(1),
                fields: vec![(b"f".to_vec(), b"v".to_vec())],
            }],
            length: 1,
            last_id: id(1),
            first_id: id(1),
            max_deleted_id: id(0),
            entries_added: 1,
            groups: vec![rdb::ConsumerGroup {
                name: b"g".to_vec(),
                last_id: id(1),
                entries_read: Some(1),
                pending: vec![rdb::PendingEntry {
                    id: id(1),
                    delivery_time_ms: 5,
                    delivery_count: 2,
                }],
                consumers: vec![rdb::Consumer {
                    name: b"alice".to_vec(),
                    seen_time_ms: 5,
                    active_time_ms: 5,
                    pending: vec![id(1)],
                }],
            }],
        }
    }

    #[test]
    fn decoded_streams_keep_entries_groups_and_owners() {
        let stream = Stream::try_from(decoded()).unwrap();
        assert_eq!(stream.len(), 1);
        let (first, fields) = stream.iter().next().unwrap();
        assert_eq!(
            (first, &*fields[0].0, &*fields[0].1),
            (id(1), &b"f"[..], &b"v"[..])
        );
        let group = &stream.groups[&b"g"[..]];
        assert_eq!(
            group.pending[&id(1)].consumer.as_deref(),
            Some(&b"alice"[..])
        );
        assert!(group.consumers[&b"alice"[..]].pending.contains(&id(1)));
    }

    #[test]
    fn an_entry_owned_by_two_consumers_is_refused() {
        let mut twice = decoded();
        let mut bob = twice.groups[0].consumers[0].clone();
        bob.name = b"bob".to_vec();
        twice.groups[0].consumers.push(bob);
        assert!(Stream::try_from(twice).is_err());
    }
}
