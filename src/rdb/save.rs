//! The RDB writer: version 10 files (what Redis 7.0 writes) over any `io::Write` (a file,
//! a DUMP payload buffer, later a replication socket), with the CRC-64 computed as bytes go
//! out. Values come in as borrowed slices through [`Value`], so any keyspace layout can
//! drive it without copying items; encodings are chosen as Redis 7.0 would hold the value
//! in memory (see [`Encoding`]).
//!
//! ```text
//! "REDIS0010"  AUX redis-ver, redis-bits, ctime, used-mem, aof-base
//! per database: SELECTDB <db> RESIZEDB <keys> <volatile keys>
//!               ( [EXPIRETIME_MS <i64 LE>] [IDLE <len>] [FREQ <u8>] <type> <key> <value> )*
//! EOF <CRC-64 LE, 0 with rdbchecksum no>
//! string      integer-encoded (8/16/32-bit) when canonical, LZF when > 20 bytes and it saves
//! list        18 QUICKLIST_2: listpack nodes of `list-max-listpack-size`, PLAIN for >= 1 GiB
//! set         11 INTSET (all integers, <= set-max-intset-entries) | 2 SET
//! hash        16 HASH_LISTPACK (small) | 4 HASH
//! zset        17 ZSET_LISTPACK (small, by score) | 5 ZSET_2 (binary doubles)
//! stream      19 STREAM_LISTPACKS_2
//! ```

use std::io::{self, Write};

use super::crc64::Crc64;
use super::load::{
    OPCODE_AUX, OPCODE_EOF, OPCODE_EXPIRETIME_MS, OPCODE_FREQ, OPCODE_IDLE, OPCODE_RESIZEDB,
    OPCODE_SELECTDB, TYPE_HASH, TYPE_HASH_LISTPACK, TYPE_LIST_QUICKLIST_2, TYPE_SET,
    TYPE_SET_INTSET, TYPE_STRING, TYPE_ZSET_2, TYPE_ZSET_LISTPACK,
};
use super::model::{Item, RdbValue, Stream, StreamEntry, StreamId};
use super::{intset, listpack, lzf, stream};

/// The RDB version this writer produces (Redis 7.0).
pub const RDB_VERSION: u32 = 10;

/// Quicklist node containers (as the loader reads them).
const QUICKLIST_NODE_PLAIN: u64 = 1;
const QUICKLIST_NODE_PACKED: u64 = 2;
/// Elements this large get a PLAIN quicklist node of their own (quicklist.c
/// `packed_threshold`).
const PACKED_THRESHOLD: usize = 1 << 30;
/// A listpack node never grows past this unless a count limit allows (SIZE_SAFETY_LIMIT).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Byte limits of `list-max-listpack-size` -1 .. -5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Streams: stream-node-max-bytes of 0 or above this means this (STREAM_LISTPACK_MAX_SIZE).
const STREAM_LISTPACK_MAX_SIZE: usize = 1 << 30;

/// The settings that decide encodings (Redis' config parameters of the same names).
#[derive(Clone, Debug, PartialEq)]
pub struct Encoding {
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    pub list_max_listpack_size: i64,
    pub set_max_intset_entries: usize,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub stream_node_max_bytes: usize,
    pub stream_node_max_entries: usize,
}

impl Default for Encoding {
    /// Redis 7.0's defaults (hash-max-listpack-entries as the Debian build ships it).
    fn default() -> Encoding {
        Encoding {
            rdbcompression: true,
            rdbchecksum: true,
            list_max_listpack_size: -2,
            set_max_intset_entries: 512,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
        }
    }
}

/// What precedes a key besides its type: expiry and eviction data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyMeta {
    /// Absolute Unix time in milliseconds.
    pub expire_ms: Option<i64>,
    /// LRU idle seconds (written when the eviction policy is LRU).
    pub idle: Option<u64>,
    /// LFU counter (written when the eviction policy is LFU).
    pub freq: Option<u8>,
}

/// The AUX fields Redis 7.0 writes at the top of a file (replication ones aside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuxInfo {
    /// Unix seconds of the save.
    pub ctime: i64,
    pub used_mem: u64,
}

/// An RDB stream being written. Call [`Writer::header`], then databases and keys, then
/// [`Writer::finish`]. An I/O error leaves the output incomplete (callers write to a
/// temporary file and rename only on success).
pub struct Writer<W: Write> {
    out: W,
    crc: Crc64,
    enc: Encoding,
    written: u64,
    lp: listpack::Builder,
    scratch: Vec<u8>,
    text: String,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W, enc: Encoding) -> Writer<W> {
        Writer {
            out,
            crc: Crc64::new(),
            enc,
            written: 0,
            lp: listpack::Builder::new(),
            scratch: Vec::new(),
            text: String::new(),
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The CRC-64 of everything written so far.
    pub fn crc(&self) -> u64 {
        self.crc.value()
    }

    /// The output, without finishing the file (DUMP payloads add their own footer).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.crc.update(bytes);
        self.written += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    fn put_len(&mut self, n: u64) -> io::Result<()> {
        if n < 1 << 6 {
            self.put(&[n as u8])
        } else if n < 1 << 14 {
            self.put(&[0x40 | (n >> 8) as u8, n as u8])
        } else if let Ok(n) = u32::try_from(n) {
            self.put(&[0x80])?;
            self.put(&n.to_be_bytes())
        } else {
            self.put(&[0x81])?;
            self.put(&n.to_be_bytes())
        }
    }

    /// A string as rdbSaveRawString writes it: integer-encoded when it is a canonical
    /// integer of up to 32 bits, LZF when compression is on, the string is longer than 20
    /// bytes and it shrinks by at least 4 bytes, else raw.
    fn put_string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11 {
            if let Some(v) = crate::num::parse_i64(s) {
                if let Ok(v) = i8::try_from(v) {
                    return self.put(&[0xc0, v as u8]);
                } else if let Ok(v) = i16::try_from(v) {
                    self.put(&[0xc1])?;
                    return self.put(&v.to_le_bytes());
                } else if let Ok(v) = i32::try_from(v) {
                    self.put(&[0xc2])?;
                    return self.put(&v.to_le_bytes());
                }
            }
        }
        if self.enc.rdbcompression && s.len() > 20 {
            let packed = lzf::compress(s);
            if packed.len() + 4 <= s.len() {
                self.put(&[0xc3])?;
                self.put_len(packed.len() as u64)?;
                self.put_len(s.len() as u64)?;
                return self.put(&packed);
            }
        }
        self.put_len(s.len() as u64)?;
        self.put(s)
    }

    /// `REDIS0010`.
    pub fn header(&mut self) -> io::Result<()> {
        self.put(format!("REDIS{RDB_VERSION:04}").as_bytes())
    }

    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.put(&[OPCODE_AUX])?;
        self.put_string(key)?;
        self.put_string(value)
    }

    /// The AUX fields of rdbSaveInfoAuxFields, in its order.
    pub fn aux_fields(&mut self, info: AuxInfo) -> io::Result<()> {
        let version = crate::cmd::introspection::REDIS_VERSION;
        self.aux(b"redis-ver", version.as_bytes())?;
        self.aux(b"redis-bits", b"64")?;
        self.aux(b"ctime", info.ctime.to_string().as_bytes())?;
        self.aux(b"used-mem", info.used_mem.to_string().as_bytes())?;
        self.aux(b"aof-base", b"0")
    }

    pub fn select_db(&mut self, db: u64) -> io::Result<()> {
        self.put(&[OPCODE_SELECTDB])?;
        self.put_len(db)
    }

    pub fn resize_db(&mut self, keys: u64, volatile_keys: u64) -> io::Result<()> {
        self.put(&[OPCODE_RESIZEDB])?;
        self.put_len(keys)?;
        self.put_len(volatile_keys)
    }

    /// Starts a key: writes its metadata; the returned [`Value`] writes type, key, value.
    pub fn key<'a>(&'a mut self, key: &'a [u8], meta: KeyMeta) -> io::Result<Value<'a, W>> {
        if let Some(ms) = meta.expire_ms {
            self.put(&[OPCODE_EXPIRETIME_MS])?;
            self.put(&ms.to_le_bytes())?;
        }
        if let Some(idle) = meta.idle {
            self.put(&[OPCODE_IDLE])?;
            self.put_len(idle)?;
        }
        if let Some(freq) = meta.freq {
            self.put(&[OPCODE_FREQ, freq])?;
        }
        Ok(Value {
            w: self,
            key: Some(key),
        })
    }

    /// A bare value (type and value, no key): the body of a DUMP payload.
    pub fn value(&mut self) -> Value<'_, W> {
        Value { w: self, key: None }
    }

    /// One decoded item, as the decoder produced it (tools and tests: re-encoding a file).
    /// Function libraries cannot be written back: the decoder keeps only their code, and
    /// ringkv has no functions, so they are refused.
    pub fn write_item(&mut self, item: &Item) -> io::Result<()> {
        match item {
            Item::Aux { key, value } => self.aux(key, value),
            Item::SelectDb(db) => self.select_db(*db),
            Item::ResizeDb {
                db_size,
                expires_size,
            } => self.resize_db(*db_size, *expires_size),
            Item::SlotInfo { .. } => Ok(()), // RDB 12 only; version 10 has no such opcode
            Item::FunctionSkipped { .. } => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "function libraries cannot be written",
            )),
            Item::Key {
                key,
                value,
                expire_ms,
                idle,
                freq,
                ..
            } => {
                let meta = KeyMeta {
                    expire_ms: *expire_ms,
                    idle: *idle,
                    freq: *freq,
                };
                self.key(key, meta)?.rdb_value(value)
            }
        }
    }

    /// EOF and the checksum; flushes and hands back the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.put(&[OPCODE_EOF])?;
        let crc = if self.enc.rdbchecksum {
            self.crc.value()
        } else {
            0
        };
        self.put(&crc.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A whole file from decoded items (tools and tests re-encoding a dump): the header, this
/// writer's AUX fields (the items' own AUX fields are left out), the items, EOF.
pub fn write_file<W: Write>(out: W, enc: Encoding, aux: AuxInfo, items: &[Item]) -> io::Result<W> {
    let mut w = Writer::new(out, enc);
    w.header()?;
    w.aux_fields(aux)?;
    for item in items.iter().filter(|i| !matches!(i, Item::Aux { .. })) {
        w.write_item(item)?;
    }
    w.finish()
}

/// Where one value goes: after the type byte comes the key (none in a DUMP payload).
pub struct Value<'a, W: Write> {
    w: &'a mut Writer<W>,
    key: Option<&'a [u8]>,
}

fn mismatch(what: &str, declared: usize, got: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what}: {declared} elements declared, {got} given"),
    )
}

impl<W: Write> Value<'_, W> {
    fn head(&mut self, rdb_type: u8) -> io::Result<()> {
        self.w.put(&[rdb_type])?;
        match self.key {
            Some(key) => self.w.put_string(key),
            None => Ok(()),
        }
    }

    pub fn string(mut self, value: &[u8]) -> io::Result<()> {
        self.head(TYPE_STRING)?;
        self.w.put_string(value)
    }

    /// A list as a quicklist: listpack nodes split as `list-max-listpack-size` splits them.
    /// The items are walked twice (node count first).
    pub fn list<'v, I>(mut self, items: I) -> io::Result<()>
    where
        I: IntoIterator<Item = &'v [u8]>,
        I::IntoIter: Clone,
    {
        let items = items.into_iter();
        let fill = self.w.enc.list_max_listpack_size;
        let mut split = NodeSplit::new(fill);
        let nodes = items.clone().filter(|item| split.starts_node(item)).count();
        self.head(TYPE_LIST_QUICKLIST_2)?;
        self.w.put_len(nodes as u64)?;
        let mut split = NodeSplit::new(fill);
        let mut lp = std::mem::take(&mut self.w.lp);
        lp.clear();
        let result = (|| -> io::Result<()> {
            for item in items {
                if split.starts_node(item) && lp.count() > 0 {
                    self.w.put_len(QUICKLIST_NODE_PACKED)?;
                    self.w.put_string(lp.finish())?;
                    lp.clear();
                }
                if item.len() >= PACKED_THRESHOLD {
                    self.w.put_len(QUICKLIST_NODE_PLAIN)?;
                    self.w.put_string(item)?;
                } else {
                    lp.push(item);
                }
            }
            if lp.count() > 0 {
                self.w.put_len(QUICKLIST_NODE_PACKED)?;
                self.w.put_string(lp.finish())?;
            }
            Ok(())
        })();
        self.w.lp = lp;
        result
    }

    /// A set: an intset when every member is an integer and there are at most
    /// `set-max-intset-entries`, else a plain set of `len` members.
    pub fn set<'v, I>(mut self, len: usize, members: I) -> io::Result<()>
    where
        I: IntoIterator<Item = &'v [u8]>,
        I::IntoIter: Clone,
    {
        let members = members.into_iter();
        if len <= self.w.enc.set_max_intset_entries {
            let ints: Option<Vec<i64>> = members.clone().map(crate::num::parse_i64).collect();
            if let Some(mut ints) = ints {
                ints.sort_unstable();
                ints.dedup();
                if ints.len() != len {
                    return Err(mismatch("set", len, ints.len()));
                }
                let mut blob = std::mem::take(&mut self.w.scratch);
                blob.clear();
                intset::encode(&ints, &mut blob);
                let result = self
                    .head(TYPE_SET_INTSET)
                    .and_then(|()| self.w.put_string(&blob));
                self.w.scratch = blob;
                return result;
            }
        }
        self.head(TYPE_SET)?;
        self.w.put_len(len as u64)?;
        let mut n = 0;
        for member in members {
            self.w.put_string(member)?;
            n += 1;
        }
        if n != len {
            return Err(mismatch("set", len, n));
        }
        Ok(())
    }

    /// A hash: a listpack when it has at most `hash-max-listpack-entries` fields and no
    /// field or value is longer than `hash-max-listpack-value`, else a plain hash.
    pub fn hash<'v, I>(mut self, len: usize, pairs: I) -> io::Result<()>
    where
        I: IntoIterator<Item = (&'v [u8], &'v [u8])>,
        I::IntoIter: Clone,
    {
        let pairs = pairs.into_iter();
        let enc = &self.w.enc;
        let small = len <= enc.hash_max_listpack_entries
            && pairs.clone().all(|(f, v)| {
                f.len() <= enc.hash_max_listpack_value && v.len() <= enc.hash_max_listpack_value
            });
        let mut n = 0;
        if small {
            self.head(TYPE_HASH_LISTPACK)?;
            let mut lp = std::mem::take(&mut self.w.lp);
            lp.clear();
            for (field, value) in pairs {
                lp.push(field);
                lp.push(value);
                n += 1;
            }
            let result = self.w.put_string(lp.finish());
            self.w.lp = lp;
            result?;
        } else {
            self.head(TYPE_HASH)?;
            self.w.put_len(len as u64)?;
            for (field, value) in pairs {
                self.w.put_string(field)?;
                self.w.put_string(value)?;
                n += 1;
            }
        }
        if n != len {
            return Err(mismatch("hash", len, n));
        }
        Ok(())
    }

    /// A sorted set: a listpack ordered by (score, member) when it has at most
    /// `zset-max-listpack-entries` members of at most `zset-max-listpack-value` bytes,
    /// scores as d2string text; else ZSET_2 with binary scores.
    pub fn zset<'v, I>(mut self, len: usize, members: I) -> io::Result<()>
    where
        I: IntoIterator<Item = (&'v [u8], f64)>,
        I::IntoIter: Clone,
    {
        let members = members.into_iter();
        let enc = &self.w.enc;
        let small = len <= enc.zset_max_listpack_entries
            && members
                .clone()
                .all(|(m, _)| m.len() <= enc.zset_max_listpack_value);
        if small {
            let mut sorted: Vec<(&[u8], f64)> = members.collect();
            if sorted.len() != len {
                return Err(mismatch("zset", len, sorted.len()));
            }
            sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)));
            self.head(TYPE_ZSET_LISTPACK)?;
            let mut lp = std::mem::take(&mut self.w.lp);
            let mut text = std::mem::take(&mut self.w.text);
            lp.clear();
            for (member, score) in sorted {
                lp.push(member);
                crate::num::format_double(score, &mut text);
                lp.push(text.as_bytes());
            }
            let result = self.w.put_string(lp.finish());
            self.w.lp = lp;
            self.w.text = text;
            return result;
        }
        self.head(TYPE_ZSET_2)?;
        self.w.put_len(len as u64)?;
        let mut n = 0;
        for (member, score) in members {
            self.w.put_string(member)?;
            self.w.put(&score.to_le_bytes())?;
            n += 1;
        }
        if n != len {
            return Err(mismatch("zset", len, n));
        }
        Ok(())
    }

    /// A stream as STREAM_LISTPACKS_2: entries packed into nodes as streamAppendItem packs
    /// them (stream-node-max-bytes / -entries), then the metadata, groups, PELs, consumers.
    pub fn stream(mut self, s: &Stream) -> io::Result<()> {
        self.head(stream::TYPE_STREAM_LISTPACKS_2)?;
        let nodes = stream_nodes(&s.entries, &self.w.enc);
        self.w.put_len(nodes.len() as u64)?;
        let mut lp = std::mem::take(&mut self.w.lp);
        let result = (|| -> io::Result<()> {
            for node in nodes {
                let master = node[0].id;
                stream_node(node, &mut lp);
                self.w.put_string(&raw_id(master))?;
                self.w.put_string(lp.finish())?;
            }
            Ok(())
        })();
        self.w.lp = lp;
        result?;
        let w = &mut *self.w;
        w.put_len(s.length)?;
        for id in [s.last_id, s.first_id, s.max_deleted_id] {
            w.put_len(id.ms)?;
            w.put_len(id.seq)?;
        }
        w.put_len(s.entries_added)?;
        w.put_len(s.groups.len() as u64)?;
        for g in &s.groups {
            w.put_string(&g.name)?;
            w.put_len(g.last_id.ms)?;
            w.put_len(g.last_id.seq)?;
            // Unknown entries-read is stored as -1 (SCG_INVALID_ENTRIES_READ) cast to u64.
            w.put_len(g.entries_read.unwrap_or(u64::MAX))?;
            w.put_len(g.pending.len() as u64)?;
            for p in &g.pending {
                w.put(&raw_id(p.id))?;
                w.put(&p.delivery_time_ms.to_le_bytes())?;
                w.put_len(p.delivery_count)?;
            }
            w.put_len(g.consumers.len() as u64)?;
            for c in &g.consumers {
                w.put_string(&c.name)?;
                w.put(&c.seen_time_ms.to_le_bytes())?;
                w.put_len(c.pending.len() as u64)?;
                for id in &c.pending {
                    w.put(&raw_id(*id))?;
                }
            }
        }
        Ok(())
    }

    /// A decoded value.
    pub fn rdb_value(self, value: &RdbValue) -> io::Result<()> {
        match value {
            RdbValue::String(s) => self.string(s),
            RdbValue::List(l) => self.list(l.iter().map(Vec::as_slice)),
            RdbValue::Set(s) => self.set(s.len(), s.iter().map(Vec::as_slice)),
            RdbValue::Hash(h) => {
                self.hash(h.len(), h.iter().map(|(f, v)| (f.as_slice(), v.as_slice())))
            }
            RdbValue::ZSet(z) => self.zset(z.len(), z.iter().map(|(m, s)| (m.as_slice(), *s))),
            RdbValue::Stream(s) => self.stream(s),
        }
    }
}

/// Where quicklist nodes begin (`_quicklistNodeAllowInsert` for an append).
struct NodeSplit {
    fill: i64,
    /// Listpack bytes of the current node; None before the first item or after a PLAIN one.
    node_bytes: Option<usize>,
    count: i64,
}

impl NodeSplit {
    fn new(fill: i64) -> NodeSplit {
        NodeSplit {
            fill,
            node_bytes: None,
            count: 0,
        }
    }

    /// Takes the next item; true when it starts a new node.
    fn starts_node(&mut self, item: &[u8]) -> bool {
        let sz = item.len();
        let overhead = if sz < 254 { 1 } else { 5 }
            + match sz {
                0..=63 => 1,
                64..=16_383 => 2,
                _ => 5,
            };
        let fits = match self.node_bytes {
            Some(bytes) if sz < PACKED_THRESHOLD => {
                let new_sz = bytes + sz + overhead;
                let level = usize::try_from(-self.fill - 1)
                    .ok()
                    .and_then(|i| OPTIMIZATION_LEVEL.get(i));
                match level {
                    Some(&limit) if new_sz <= limit => true,
                    _ => new_sz <= SIZE_SAFETY_LIMIT && self.count < self.fill,
                }
            }
            _ => false,
        };
        if fits {
            self.node_bytes = self.node_bytes.map(|b| b + sz + overhead);
            self.count += 1;
        } else if sz >= PACKED_THRESHOLD {
            self.node_bytes = None;
            self.count = 0;
        } else {
            // An empty listpack is 7 bytes (header and terminator).
            self.node_bytes = Some(7 + sz + overhead);
            self.count = 1;
        }
        !fits
    }
}

/// A stream ID as node keys and PELs store it: 16 bytes, big-endian.
fn raw_id(id: StreamId) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&id.ms.to_be_bytes());
    out[8..].copy_from_slice(&id.seq.to_be_bytes());
    out
}

/// Splits the entries into nodes: a new node when the current one reached
/// stream-node-max-entries or its size plus the entry's would reach stream-node-max-bytes.
fn stream_nodes<'s>(entries: &'s [StreamEntry], enc: &Encoding) -> Vec<&'s [StreamEntry]> {
    let max_bytes = match enc.stream_node_max_bytes {
        0 => STREAM_LISTPACK_MAX_SIZE,
        n => n.min(STREAM_LISTPACK_MAX_SIZE),
    };
    let mut nodes = Vec::new();
    let (mut start, mut bytes) = (0, 0usize);
    for (i, entry) in entries.iter().enumerate() {
        let size: usize = entry.fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        let full = (enc.stream_node_max_entries > 0 && i - start >= enc.stream_node_max_entries)
            || bytes + size >= max_bytes;
        if i > start && full {
            nodes.push(&entries[start..i]);
            start = i;
            bytes = 0;
        }
        // Roughly what the entry adds to the listpack: data plus a few header bytes each.
        bytes += size + 4 * entry.fields.len() + 8;
    }
    if start < entries.len() {
        nodes.push(&entries[start..]);
    }
    nodes
}

/// The listpack of one stream node: the master entry (the first entry's fields), then each
/// entry relative to it.
fn stream_node(node: &[StreamEntry], lp: &mut listpack::Builder) {
    const FLAG_NONE: i64 = 0;
    const FLAG_SAMEFIELDS: i64 = 2;
    let master = &node[0];
    lp.clear();
    lp.push_int(node.len() as i64);
    lp.push_int(0);
    lp.push_int(master.fields.len() as i64);
    for (field, _) in &master.fields {
        lp.push(field);
    }
    lp.push_int(0);
    for entry in node {
        let same = entry.fields.len() == master.fields.len()
            && entry
                .fields
                .iter()
                .zip(&master.fields)
                .all(|((a, _), (b, _))| a == b);
        lp.push_int(if same { FLAG_SAMEFIELDS } else { FLAG_NONE });
        lp.push_int(entry.id.ms.wrapping_sub(master.id.ms) as i64);
        lp.push_int(entry.id.seq.wrapping_sub(master.id.seq) as i64);
        let n = entry.fields.len() as i64;
        if same {
            for (_, value) in &entry.fields {
                lp.push(value);
            }
            lp.push_int(n + 3);
        } else {
            lp.push_int(n);
            for (field, value) in &entry.fields {
                lp.push(field);
                lp.push(value);
            }
            lp.push_int(2 * n + 4);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::load::{read_typed_value, TYPE_SET_INTSET};
    use crate::rdb::model::{Consumer, ConsumerGroup, PendingEntry};
    use crate::rdb::{load, Checksum};

    /// A value's bare encoding (type byte first), and what the loader makes of it.
    fn round_trip(value: &RdbValue, enc: &Encoding) -> (u8, RdbValue) {
        let mut w = Writer::new(Vec::new(), enc.clone());
        w.value().rdb_value(value).unwrap();
        let bytes = w.into_inner();
        (bytes[0], read_typed_value(&bytes).unwrap())
    }

    fn strs(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        v.sort();
        v
    }

    #[test]
    fn strings_take_integer_lzf_and_raw_encodings() {
        let long = "abcdefgh".repeat(40);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for (text, first) in [
            (&b"-7"[..], 0xc0),
            (b"12345", 0xc1),
            (b"-2000000000", 0xc2),
            (b"123456789012", 12),
            (b"0123", 4),
            (b"-0", 2),
            (b"", 0),
            (long.as_bytes(), 0xc3),
            (&noise, 0x41),
        ] {
            let mut w = Writer::new(Vec::new(), Encoding::default());
            w.value().string(text).unwrap();
            let bytes = w.into_inner();
            assert_eq!(bytes[1], first, "{:?}", String::from_utf8_lossy(text));
            assert_eq!(
                read_typed_value(&bytes).unwrap(),
                RdbValue::String(text.to_vec())
            );
        }
        let enc = Encoding {
            rdbcompression: false,
            ..Encoding::default()
        };
        let (_, back) = round_trip(&RdbValue::String(long.clone().into_bytes()), &enc);
        assert_eq!(back, RdbValue::String(long.into_bytes()));
    }

    #[test]
    fn lists_become_quicklists_of_listpack_nodes() {
        let small = strs(&[
            "a",
            "1",
            "-300",
            "70000",
            "5000000000",
            "",
            "-9223372036854775808",
        ]);
        let (ty, back) = round_trip(&RdbValue::List(small.clone()), &Encoding::default());
        assert_eq!((ty, back), (TYPE_LIST_QUICKLIST_2, RdbValue::List(small)));
        let big: Vec<Vec<u8>> = (0..5000)
            .map(|i| format!("element-{i}-{}", "x".repeat(i % 300)).into_bytes())
            .collect();
        let mut w = Writer::new(Vec::new(), Encoding::default());
        w.value().list(big.iter().map(Vec::as_slice)).unwrap();
        let bytes = w.into_inner();
        assert_eq!(bytes[1] & 0xc0, 0x40, "64 nodes or more: {:#x}", bytes[1]);
        assert_eq!(read_typed_value(&bytes).unwrap(), RdbValue::List(big));
    }

    #[test]
    fn quicklist_nodes_stay_within_the_size_limit() {
        let mut split = NodeSplit::new(-2);
        let starts: Vec<bool> = (0..100).map(|_| split.starts_node(&[b'x'; 1000])).collect();
        // 1000-byte items: 8 fit in 8 KiB.
        assert_eq!(starts.iter().filter(|s| **s).count(), 13);
        let mut split = NodeSplit::new(3);
        let starts: Vec<bool> = (0..7).map(|_| split.starts_node(b"a")).collect();
        assert_eq!(starts, [true, false, false, true, false, false, true]);
    }

    #[test]
    fn sets_become_intsets_when_small_and_all_integers() {
        let enc = Encoding::default();
        for members in [
            strs(&["1", "-5", "300"]),
            strs(&["70000", "-1"]),
            strs(&["-9000000000000", "2"]),
        ] {
            let (ty, back) = round_trip(&RdbValue::Set(members.clone()), &enc);
            assert_eq!(ty, TYPE_SET_INTSET);
            assert_eq!(sorted(members), sorted(back_set(back)));
        }
        for members in [
            strs(&["1", "x"]),
            strs(&["01", "2"]),
            (0..600).map(|i| i.to_string().into_bytes()).collect(),
        ] {
            let (ty, back) = round_trip(&RdbValue::Set(members.clone()), &enc);
            assert_eq!(ty, TYPE_SET);
            assert_eq!(sorted(members), sorted(back_set(back)));
        }
    }

    fn back_set(v: RdbValue) -> Vec<Vec<u8>> {
        match v {
            RdbValue::Set(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hashes_and_zsets_pick_listpack_or_plain() {
        let enc = Encoding::default();
        let small = vec![
            (b"f".to_vec(), b"v".to_vec()),
            (b"n".to_vec(), b"42".to_vec()),
            (vec![b'k'; 64], vec![b'v'; 64]),
        ];
        let (ty, back) = round_trip(&RdbValue::Hash(small.clone()), &enc);
        assert_eq!((ty, back), (TYPE_HASH_LISTPACK, RdbValue::Hash(small)));
        let long = vec![(b"f".to_vec(), vec![b'L'; 65])];
        let (ty, back) = round_trip(&RdbValue::Hash(long.clone()), &enc);
        assert_eq!((ty, back), (TYPE_HASH, RdbValue::Hash(long)));
        // Entries of 128 bytes and more have 2-byte back-lengths.
        let wide = Encoding {
            hash_max_listpack_value: 10_000,
            ..Encoding::default()
        };
        let big_values = vec![
            (b"a".to_vec(), vec![b'x'; 200]),
            (b"b".to_vec(), vec![b'y'; 5000]),
        ];
        let (ty, back) = round_trip(&RdbValue::Hash(big_values.clone()), &wide);
        assert_eq!((ty, back), (TYPE_HASH_LISTPACK, RdbValue::Hash(big_values)));

        let zset = vec![
            (b"top".to_vec(), f64::INFINITY),
            (b"a".to_vec(), 1.5),
            (b"bottom".to_vec(), f64::NEG_INFINITY),
            (b"neg".to_vec(), -0.1),
            (b"int".to_vec(), 3.0),
            (b"b".to_vec(), 1.5),
        ];
        let (ty, back) = round_trip(&RdbValue::ZSet(zset.clone()), &enc);
        assert_eq!(ty, TYPE_ZSET_LISTPACK);
        let mut by_score = zset.clone();
        by_score.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        assert_eq!(back, RdbValue::ZSet(by_score));
        let big: Vec<(Vec<u8>, f64)> = (0..200)
            .map(|i| (format!("m{i}").into_bytes(), f64::from(i) / 3.0))
            .collect();
        let (ty, back) = round_trip(&RdbValue::ZSet(big.clone()), &enc);
        assert_eq!((ty, back), (TYPE_ZSET_2, RdbValue::ZSet(big)));
    }

    fn test_stream() -> Stream {
        let id = |ms, seq| StreamId { ms, seq };
        let entries: Vec<StreamEntry> = (1..=250u64)
            .map(|i| StreamEntry {
                id: id(1000 + i, i % 3),
                fields: if i % 4 == 0 {
                    vec![(b"other".to_vec(), format!("v{i}").into_bytes())]
                } else {
                    vec![
                        (b"a".to_vec(), i.to_string().into_bytes()),
                        (b"b".to_vec(), "x".repeat(i as usize % 7).into_bytes()),
                    ]
                },
            })
            .collect();
        Stream {
            length: entries.len() as u64,
            last_id: id(1250, 1),
            first_id: id(1001, 1),
            max_deleted_id: id(900, 0),
            entries_added: 260,
            groups: vec![
                ConsumerGroup {
                    name: b"g1".to_vec(),
                    last_id: id(1006, 0),
                    entries_read: Some(6),
                    pending: vec![
                        PendingEntry {
                            id: id(1001, 1),
                            delivery_time_ms: 1_700_000_000_000,
                            delivery_count: 1,
                        },
                        PendingEntry {
                            id: id(1004, 1),
                            delivery_time_ms: 1_700_000_000_500,
                            delivery_count: 2,
                        },
                    ],
                    consumers: vec![Consumer {
                        name: b"alice".to_vec(),
                        seen_time_ms: 1_700_000_001_000,
                        active_time_ms: 1_700_000_001_000,
                        pending: vec![id(1001, 1), id(1004, 1)],
                    }],
                },
                ConsumerGroup {
                    name: b"g2".to_vec(),
                    last_id: id(1250, 1),
                    entries_read: None,
                    pending: vec![],
                    consumers: vec![],
                },
            ],
            entries,
        }
    }

    #[test]
    fn streams_round_trip_with_groups() {
        let st = test_stream();
        let value = RdbValue::Stream(Box::new(st));
        let (ty, back) = round_trip(&value, &Encoding::default());
        assert_eq!((ty, back), (stream::TYPE_STREAM_LISTPACKS_2, value));
        let empty = RdbValue::Stream(Box::new(Stream {
            last_id: StreamId { ms: 7, seq: 7 },
            entries_added: 1,
            ..Stream::default()
        }));
        let (_, back) = round_trip(&empty, &Encoding::default());
        assert_eq!(back, empty);
    }

    #[test]
    fn files_round_trip_through_the_loader() {
        let items = vec![
            Item::SelectDb(0),
            Item::ResizeDb {
                db_size: 2,
                expires_size: 1,
            },
            Item::Key {
                db: 0,
                key: b"s".to_vec(),
                value: RdbValue::String(b"v".to_vec()),
                expire_ms: Some(4_102_444_800_123),
                idle: None,
                freq: Some(5),
            },
            Item::Key {
                db: 0,
                key: b"12".to_vec(),
                value: RdbValue::Stream(Box::new(test_stream())),
                expire_ms: None,
                idle: Some(30),
                freq: None,
            },
            Item::SelectDb(300),
            Item::Key {
                db: 300,
                key: b"l".to_vec(),
                value: RdbValue::List(strs(&["x"])),
                expire_ms: None,
                idle: None,
                freq: None,
            },
        ];
        for checksum in [true, false] {
            let enc = Encoding {
                rdbchecksum: checksum,
                ..Encoding::default()
            };
            let aux = AuxInfo {
                ctime: 1_700_000_000,
                used_mem: 1 << 20,
            };
            let bytes = write_file(Vec::new(), enc, aux, &items).unwrap();
            assert_eq!(&bytes[..9], b"REDIS0010");
            let mut back = Vec::new();
            let summary = load(bytes.as_slice(), |item| {
                back.push(item);
                Ok::<(), std::convert::Infallible>(())
            })
            .unwrap();
            assert_eq!(summary.version, 10);
            assert_eq!(
                matches!(summary.checksum, Checksum::Verified(_)),
                checksum,
                "{:?}",
                summary.checksum
            );
            let aux: Vec<&Item> = back
                .iter()
                .filter(|i| matches!(i, Item::Aux { .. }))
                .collect();
            assert_eq!(aux.len(), 5);
            assert_eq!(
                aux[2],
                &Item::Aux {
                    key: b"ctime".to_vec(),
                    value: b"1700000000".to_vec()
                }
            );
            let rest: Vec<Item> = back
                .into_iter()
                .filter(|i| !matches!(i, Item::Aux { .. }))
                .collect();
            assert_eq!(rest, items);
        }
    }

    #[test]
    fn declared_lengths_must_match() {
        let mut w = Writer::new(Vec::new(), Encoding::default());
        let err = w.value().set(3, [&b"a"[..], b"b"]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = w.value().hash(1, []).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
