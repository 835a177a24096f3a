//! Stream values: RDB types 15 (Redis 5.0-6.2), 19 (7.0) and 21 (7.2+).
//!
//! ```text
//! <len nodes> ( <string: 16-byte master ID, BE ms + BE seq> <string: listpack> )*
//! <len length> <len last_id.ms> <len last_id.seq>
//! type >= 19: <len first_id.ms> <len first_id.seq> <len max_deleted.ms>
//!             <len max_deleted.seq> <len entries_added>
//! <len groups> ( <string name> <len last_id.ms> <len last_id.seq>
//!                type >= 19: <len entries_read (u64::MAX = unknown)>
//!                <len pel> ( <16-byte ID raw> <u64 LE delivery ms> <len delivery count> )*
//!                <len consumers> ( <string name> <u64 LE seen ms>
//!                                  type >= 21: <u64 LE active ms>
//!                                  <len pel> ( <16-byte ID raw> )* )* )*
//! node listpack:  <count> <deleted> <n master fields> <field>* 0
//!                 then per entry: <flags> <ms diff> <seq diff>
//!                   [flags & SAMEFIELDS(2): <value> per master field]
//!                   [otherwise: <n fields> (<field> <value>)*]
//!                   <lp-count>;    flags & DELETED(1): a deleted entry
//! ```

use std::collections::HashSet;
use std::io::Read;

use super::listpack;
use super::model::{Consumer, ConsumerGroup, PendingEntry, Stream, StreamEntry, StreamId};
use super::source::{Source, PREALLOC_CAP};
use super::RdbError;

pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

fn stream_id<R: Read>(src: &mut Source<R>) -> Result<StreamId, RdbError> {
    Ok(StreamId {
        ms: src.length()?,
        seq: src.length()?,
    })
}

fn raw_id<R: Read>(src: &mut Source<R>) -> Result<StreamId, RdbError> {
    Ok(StreamId::from_be_bytes(&src.array::<16>()?))
}

fn ms_time<R: Read>(src: &mut Source<R>) -> Result<i64, RdbError> {
    Ok(i64::from_le_bytes(src.array()?))
}

/// Reads a stream value of `rdb_type` (15, 19 or 21).
pub fn read<R: Read>(src: &mut Source<R>, rdb_type: u8) -> Result<Stream, RdbError> {
    let mut stream = Stream::default();
    let nodes = src.length()?;
    for _ in 0..nodes {
        let at = src.offset();
        let key = src.string()?;
        let master: [u8; 16] = key.as_slice().try_into().map_err(|_| {
            RdbError::new(
                at,
                format!("stream node key of {} bytes, not 16", key.len()),
            )
        })?;
        let master = StreamId::from_be_bytes(&master);
        let at = src.offset();
        let lp = src.string()?;
        let values = listpack::entries(&lp).map_err(|e| RdbError::new(at, e))?;
        if values.is_empty() {
            return Err(RdbError::new(at, "empty listpack inside a stream"));
        }
        node_entries(master, &values, &mut stream.entries)
            .map_err(|e| RdbError::new(at, format!("stream node {master}: {e}")))?;
    }
    stream.length = src.length()?;
    stream.last_id = stream_id(src)?;
    if rdb_type >= TYPE_STREAM_LISTPACKS_2 {
        stream.first_id = stream_id(src)?;
        stream.max_deleted_id = stream_id(src)?;
        stream.entries_added = src.length()?;
    } else {
        stream.first_id = stream.entries.first().map(|e| e.id).unwrap_or_default();
        stream.entries_added = stream.length;
    }
    let groups = src.length()?;
    stream.groups = Vec::with_capacity((groups as usize).min(PREALLOC_CAP));
    for _ in 0..groups {
        stream.groups.push(group(src, rdb_type)?);
    }
    Ok(stream)
}

fn group<R: Read>(src: &mut Source<R>, rdb_type: u8) -> Result<ConsumerGroup, RdbError> {
    let name = src.string()?;
    let last_id = stream_id(src)?;
    let entries_read = if rdb_type >= TYPE_STREAM_LISTPACKS_2 {
        Some(src.length()?).filter(|&n| n != u64::MAX)
    } else {
        None
    };
    let n = src.length()?;
    let mut pending = Vec::with_capacity((n as usize).min(PREALLOC_CAP));
    for _ in 0..n {
        pending.push(PendingEntry {
            id: raw_id(src)?,
            delivery_time_ms: ms_time(src)?,
            delivery_count: src.length()?,
        });
    }
    let known: HashSet<StreamId> = pending.iter().map(|p| p.id).collect();
    let n = src.length()?;
    let mut consumers = Vec::with_capacity((n as usize).min(PREALLOC_CAP));
    for _ in 0..n {
        let name = src.string()?;
        let seen_time_ms = ms_time(src)?;
        let active_time_ms = if rdb_type >= TYPE_STREAM_LISTPACKS_3 {
            ms_time(src)?
        } else {
            seen_time_ms
        };
        let count = src.length()?;
        let mut ids = Vec::with_capacity((count as usize).min(PREALLOC_CAP));
        for _ in 0..count {
            let at = src.offset();
            let id = raw_id(src)?;
            if !known.contains(&id) {
                return Err(RdbError::new(
                    at,
                    format!("consumer PEL entry {id} is not in the group's PEL"),
                ));
            }
            ids.push(id);
        }
        consumers.push(Consumer {
            name,
            seen_time_ms,
            active_time_ms,
            pending: ids,
        });
    }
    Ok(ConsumerGroup {
        name,
        last_id,
        entries_read,
        pending,
        consumers,
    })
}

fn int(values: &[Vec<u8>], at: usize, what: &str) -> Result<i64, String> {
    let v = values
        .get(at)
        .ok_or_else(|| format!("listpack ends before the {what}"))?;
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{what} is not an integer"))
}

fn get<'a>(values: &'a [Vec<u8>], at: usize, what: &str) -> Result<&'a Vec<u8>, String> {
    values
        .get(at)
        .ok_or_else(|| format!("listpack ends before the {what}"))
}

/// The live entries of one node (a master ID and its listpack).
fn node_entries(
    master: StreamId,
    values: &[Vec<u8>],
    out: &mut Vec<StreamEntry>,
) -> Result<(), String> {
    let count = int(values, 0, "entry count")?;
    let deleted = int(values, 1, "deleted count")?;
    let master_fields = int(values, 2, "master field count")?;
    if count < 0 || deleted < 0 || master_fields < 0 {
        return Err("negative count in the master entry".into());
    }
    let master_fields = master_fields as usize;
    if master_fields > values.len() {
        return Err("master field count past the listpack".into());
    }
    let fields: Vec<&Vec<u8>> = (0..master_fields)
        .map(|i| get(values, 3 + i, "master field"))
        .collect::<Result<_, _>>()?;
    let mut pos = 3 + master_fields;
    if int(values, pos, "master terminator")? != 0 {
        return Err("master entry not terminated by 0".into());
    }
    pos += 1;
    let (mut live, mut dead) = (0i64, 0i64);
    while pos < values.len() {
        let start = pos;
        let flags = int(values, pos, "entry flags")?;
        let ms_diff = int(values, pos + 1, "ID ms difference")?;
        let seq_diff = int(values, pos + 2, "ID seq difference")?;
        pos += 3;
        let id = StreamId {
            ms: master.ms.wrapping_add(ms_diff as u64),
            seq: master.seq.wrapping_add(seq_diff as u64),
        };
        let mut entry_fields = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            for field in &fields {
                entry_fields.push(((*field).clone(), get(values, pos, "value")?.clone()));
                pos += 1;
            }
        } else {
            let n = int(values, pos, "field count")?;
            if n < 0 || n as usize > values.len() {
                return Err(format!("bad field count {n}"));
            }
            pos += 1;
            for _ in 0..n {
                let field = get(values, pos, "field")?.clone();
                let value = get(values, pos + 1, "value")?.clone();
                entry_fields.push((field, value));
                pos += 2;
            }
        }
        let lp_count = int(values, pos, "entry lp-count")?;
        pos += 1;
        if lp_count != (pos - start - 1) as i64 {
            return Err(format!("entry {id}: lp-count {lp_count} does not match"));
        }
        if flags & FLAG_DELETED != 0 {
            dead += 1;
        } else {
            live += 1;
            out.push(StreamEntry {
                id,
                fields: entry_fields,
            });
        }
    }
    if live != count || dead != deleted {
        return Err(format!(
            "master entry counts {count} live and {deleted} deleted, found {live} and {dead}"
        ));
    }
    Ok(())
}
