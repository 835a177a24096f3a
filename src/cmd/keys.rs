//! Key commands: the keyspace family.
//!
//! ```text
//! DEL key [key ...]              :<keys removed>
//! UNLINK key [key ...]           :<keys removed>; big values are freed on another thread
//! EXISTS key [key ...]           :<keys that exist; a key named twice counts twice>
//! TOUCH key [key ...]            :<keys that exist>, each marked as just accessed
//! TYPE key                       +string, +list, +set ..., +none for no key
//! KEYS pattern                   *<keys matching the glob>
//! SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
//!                                *2 $<next cursor, "0" when done> *<keys>
//! RANDOMKEY                      $<a random key>, a null bulk when the database is empty
//! RENAME key newkey              +OK (the value keeps its TTL); -ERR no such key
//! RENAMENX key newkey            :1 renamed, :0 newkey exists
//! COPY source destination [DB destination-db] [REPLACE]
//!                                :1 copied (with the TTL), :0 no source or destination taken
//! MOVE key db                    :1 moved (with the TTL), :0 no key or db has it
//! SWAPDB index1 index2           +OK; clients of each database now see the other's data
//! OBJECT ENCODING key            $embstr|int|raw|quicklist|intset|hashtable, null bulk
//! OBJECT REFCOUNT|IDLETIME|FREQ key   :<count / seconds idle / LFU counter>, null bulk
//! OBJECT HELP                    *<lines of help>
//! ```

use bytes::Bytes;

use super::server::help;
use super::{args, errors, Ctx};
use crate::db::expire::Rng;
use crate::db::glob::glob_match;
use crate::db::hash::Hash;
use crate::db::scan::{walk, Visit};
use crate::db::set::intset_limit;
use crate::db::zset::ZSet;
use crate::db::{Entry, Removed, Value};

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("del", -2, WRITE, ALL_KEYS, "generic", "Delete a key", del),
    since(command("unlink", -2, WRITE | FAST, ALL_KEYS, "generic", "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", unlink), "4.0.0"),
    command("exists", -2, READONLY | FAST, ALL_KEYS, "generic", "Determine if a key exists", exists),
    since(command("touch", -2, READONLY | FAST, ALL_KEYS, "generic", "Alters the last access time of a key(s). Returns the number of existing keys specified.", touch), "3.2.1"),
    command("type", 2, READONLY | FAST, ONE_KEY, "generic", "Determine the type stored at key", type_of),
    command("keys", 2, READONLY, NO_KEYS, "generic", "Find all keys matching the given pattern", keys),
    since(command("scan", -2, READONLY, NO_KEYS, "generic", "Incrementally iterate the keys space", scan), "2.8.0"),
    command("randomkey", 1, READONLY, NO_KEYS, "generic", "Return a random key from the keyspace", randomkey),
    command("rename", 3, WRITE, (1, 2, 1), "generic", "Rename a key", rename),
    command("renamenx", 3, WRITE | FAST, (1, 2, 1), "generic", "Rename a key, only if the new key does not exist", renamenx),
    since(command("copy", -3, WRITE | DENYOOM, (1, 2, 1), "generic", "Copy a key", copy), "6.2.0"),
    command("move", 3, WRITE | FAST, ONE_KEY, "generic", "Move a key to another database", move_key),
    since(command("swapdb", 3, WRITE | FAST, NO_KEYS, "server", "Swaps two Redis databases", swapdb), "4.0.0"),
    container("object", 0, "generic", "2.2.3", "A container for object introspection commands", &[
        since(command("encoding", 3, READONLY, (2, 2, 1), "generic", "Inspect the internal encoding of a Redis object", object_encoding), "2.2.3"),
        since(command("idletime", 3, READONLY, (2, 2, 1), "generic", "Get the time since a Redis object was last accessed", object_idletime), "2.2.3"),
        since(command("refcount", 3, READONLY, (2, 2, 1), "generic", "Get the number of references to the value of the key", object_refcount), "2.2.3"),
        since(command("freq", 3, READONLY, (2, 2, 1), "generic", "Get the logarithmic access frequency counter of a Redis object", object_freq), "4.0.0"),
        since(command("help", 2, LOADING | STALE, NO_KEYS, "generic", "Show helpful text about the different subcommands", object_help), "6.2.0"),
    ]),
];

const NO_SUCH_KEY: &str = "ERR no such key";
const SAME_OBJECT: &str = "ERR source and destination objects are the same";
const DB_OUT_OF_RANGE: &str = "ERR DB index is out of range";
const INT_OUT_OF_RANGE: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";

/// UNLINK frees a value with more parts than this on another thread, like Redis'
/// LAZYFREE_THRESHOLD: below it, handing the value over costs more than freeing it.
const LAZYFREE_THRESHOLD: usize = 64;

pub fn del(ctx: &mut Ctx, argv: &[Bytes]) {
    delete(ctx, argv, false);
}

pub fn unlink(ctx: &mut Ctx, argv: &[Bytes]) {
    delete(ctx, argv, true);
}

/// DEL and UNLINK. Removed values are freed after their shard is unlocked; with `lazy`,
/// big ones on a thread of their own, so the reply does not wait for them.
fn delete(ctx: &mut Ctx, argv: &[Bytes], lazy: bool) {
    let now = ctx.now_ms();
    let mut removed = 0;
    let mut big = Vec::new();
    let mut take = |entry: Option<Removed>| {
        if let Some(entry) = entry {
            removed += 1;
            if lazy && parts(&entry.value) > LAZYFREE_THRESHOLD {
                big.push(entry);
            }
        }
    };
    // The command enters the replication stream under the locks of all its keys, so at
    // one place among the writes to each of them; one key needs no lock set.
    if let [_, key] = argv {
        let mut guard = ctx.lock(key);
        take(guard.remove(now));
        if removed > 0 {
            ctx.propagate(argv);
        }
    } else {
        let db = ctx.client.db;
        let keys: Vec<(usize, &[u8])> = argv[1..].iter().map(|k| (db, &k[..])).collect();
        let mut guard = ctx.server.keyspace.lock_keys(&keys);
        for i in 0..keys.len() {
            take(guard.key(i).remove(now));
        }
        if removed > 0 {
            ctx.propagate(argv);
        }
    }
    if !big.is_empty() {
        std::thread::spawn(move || drop(big));
    }
    crate::persist::dirty::changed(removed as u64);
    ctx.reply.int(removed);
}

/// How many allocations freeing a value takes, roughly (Redis' lazyfreeGetFreeEffort):
/// a packed collection is one block.
fn parts(value: &Value) -> usize {
    match value {
        Value::Str(_) => 1,
        Value::List(list) => list.len(),
        Value::Set(set) => set.len(),
        Value::Hash(Hash::Packed(_)) | Value::ZSet(ZSet::Packed(_)) => 1,
        Value::Hash(hash) => hash.len(),
        Value::ZSet(zset) => zset.len(),
        Value::Stream(stream) => stream.len() + stream.groups.len(),
    }
}

pub fn exists(ctx: &mut Ctx, argv: &[Bytes]) {
    count_existing(ctx, argv, false);
}

pub fn touch(ctx: &mut Ctx, argv: &[Bytes]) {
    count_existing(ctx, argv, true);
}

/// EXISTS (which leaves the access time alone) and TOUCH (which sets it).
fn count_existing(ctx: &mut Ctx, argv: &[Bytes], touch: bool) {
    let now = ctx.now_ms();
    let mut found = 0;
    for key in &argv[1..] {
        let mut guard = ctx.lock(key);
        let hit = if touch {
            guard.find_live(now).is_some()
        } else {
            guard.find_live_untouched(now).is_some()
        };
        drop(guard);
        ctx.count_lookup(hit);
        found += i64::from(hit);
    }
    ctx.reply.int(found);
}

pub fn keys(ctx: &mut Ctx, argv: &[Bytes]) {
    let keys = ctx
        .server
        .keyspace
        .db(ctx.client.db)
        .keys_matching(&argv[1], ctx.now_ms());
    ctx.reply.bulk_array(&keys);
}

pub fn type_of(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let mut guard = ctx.lock(&argv[1]);
    let name = guard
        .find_live_untouched(now)
        .map(|pos| guard.entry(pos).value.type_name());
    drop(guard);
    ctx.count_lookup(name.is_some());
    ctx.reply.simple(name.unwrap_or("none"));
}

/// Redis' parseScanCursorOrReply, which reads the cursor with `strtoul`: an optional
/// sign (`-1` wraps to 2^64-1), no leading space, nothing after the digits, and an empty
/// string is 0.
pub fn parse_cursor(text: &[u8]) -> Option<u64> {
    // C's isspace also counts \v, which Rust's is_ascii_whitespace does not.
    if text
        .first()
        .is_some_and(|&b| b.is_ascii_whitespace() || b == 0x0b)
    {
        return None;
    }
    if text.is_empty() {
        return Some(0);
    }
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })?;
    Some(if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    })
}

/// The options of SCAN and SSCAN.
pub struct ScanOptions<'a> {
    /// None for no pattern, or `*`, which matches everything.
    pattern: Option<&'a [u8]>,
    /// The work to do, as Redis counts it: entries looked at, not entries returned.
    pub count: usize,
    type_name: Option<&'a [u8]>,
}

impl<'a> ScanOptions<'a> {
    /// Redis' option loop in scanGenericCommand: `options` follow the cursor; TYPE only
    /// when `allow_type` (SCAN, not SSCAN). None after an error reply.
    pub fn parse(ctx: &mut Ctx, options: &'a [Bytes], allow_type: bool) -> Option<Self> {
        let mut parsed = ScanOptions {
            pattern: None,
            count: 10,
            type_name: None,
        };
        for pair in options.chunks(2) {
            match pair {
                [name, count] if args::is(name, "COUNT") => {
                    let count = ctx.int_arg(count)?;
                    if count < 1 {
                        ctx.reply.error(errors::SYNTAX);
                        return None;
                    }
                    parsed.count = usize::try_from(count).unwrap_or(usize::MAX);
                }
                [name, pattern] if args::is(name, "MATCH") => {
                    parsed.pattern = (&pattern[..] != b"*").then_some(&pattern[..]);
                }
                [name, type_name] if allow_type && args::is(name, "TYPE") => {
                    parsed.type_name = Some(&type_name[..]);
                }
                _ => {
                    ctx.reply.error(errors::SYNTAX);
                    return None;
                }
            }
        }
        Some(parsed)
    }

    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern.is_none_or(|p| glob_match(p, item, false))
    }
}

/// The reply of the SCAN family: the next cursor as a bulk string, then the items.
pub fn reply_scan(ctx: &mut Ctx, cursor: u64, items: &[Bytes]) {
    ctx.reply.array(2);
    ctx.reply.bulk(cursor.to_string().as_bytes());
    ctx.reply.bulk_array(items);
}

/// HSCAN and ZSCAN: the (field, value) pairs of the collection (None: no key) whose
/// field matches `options`, with cursor 0. Like Redis, the options are checked only once
/// the key is known to hold the right type.
pub fn reply_scan_pairs(ctx: &mut Ctx, options: &[Bytes], pairs: Option<Vec<(Bytes, Bytes)>>) {
    let Some(pairs) = pairs else {
        return reply_scan(ctx, 0, &[]);
    };
    let Some(options) = ScanOptions::parse(ctx, options, false) else {
        return;
    };
    let items: Vec<Bytes> = pairs
        .into_iter()
        .filter(|(field, _)| options.matches(field))
        .flat_map(|(field, value)| [field, value])
        .collect();
    reply_scan(ctx, 0, &items);
}

/// SCAN: see [`crate::db::scan`] for the cursor and what it guarantees.
pub fn scan(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(cursor) = parse_cursor(&argv[1]) else {
        return ctx.reply.error("ERR invalid cursor");
    };
    let Some(options) = ScanOptions::parse(ctx, &argv[2..], true) else {
        return;
    };
    let now = ctx.now_ms();
    let (server, db) = (ctx.server, ctx.client.db);
    let (mut keys, mut hits, mut misses, mut expired) = (Vec::new(), 0, 0, 0);
    let keep_expired = server
        .keyspace
        .hide_expired
        .load(std::sync::atomic::Ordering::Relaxed);
    let next = walk(
        server.keyspace.db(db),
        cursor,
        options.count,
        |entry, deadline| {
            // Redis' order: the pattern, then the type (a lookup, so counted as a hit or
            // miss), then expiry; an expired key is deleted on the way.
            if !options.matches(&entry.key) {
                return Visit::Keep;
            }
            let is_expired = deadline.is_some_and(|at| crate::db::deadline_passed(at, now));
            if let Some(wanted) = options.type_name {
                if is_expired {
                    misses += 1;
                } else {
                    hits += 1;
                    if !entry
                        .value
                        .type_name()
                        .as_bytes()
                        .eq_ignore_ascii_case(wanted)
                    {
                        return Visit::Keep;
                    }
                }
            }
            if is_expired {
                // A read-only replica skips the key and leaves it to its master's DEL.
                if keep_expired {
                    return Visit::Keep;
                }
                expired += 1;
                // Deleted under its shard lock: replicas get the DEL in order.
                server.repl.propagate(db, &[b"DEL".as_slice(), &entry.key]);
                return Visit::Remove;
            }
            keys.push(Bytes::copy_from_slice(&entry.key));
            Visit::Keep
        },
    );
    server.keyspace.count_expired(expired);
    let stats = &server.stats;
    let relaxed = std::sync::atomic::Ordering::Relaxed;
    stats.keyspace_hits.fetch_add(hits, relaxed);
    stats.keyspace_misses.fetch_add(misses, relaxed);
    reply_scan(ctx, next, &keys);
}

pub fn randomkey(ctx: &mut Ctx, _argv: &[Bytes]) {
    let mut rng = Rng::seeded();
    let now = ctx.now_ms();
    match ctx.server.keyspace.random_key(ctx.client.db, now, &mut rng) {
        Some(key) => ctx.reply.bulk(&key),
        None => ctx.reply.null(),
    }
}

pub fn rename(ctx: &mut Ctx, argv: &[Bytes]) {
    rename_generic(ctx, argv, false);
}

pub fn renamenx(ctx: &mut Ctx, argv: &[Bytes]) {
    rename_generic(ctx, argv, true);
}

/// Redis' renameGenericCommand: both keys locked together, so no client sees the value
/// under both names or under neither. The value keeps its TTL; the destination's TTL is
/// not inherited.
fn rename_generic(ctx: &mut Ctx, argv: &[Bytes], nx: bool) {
    let (db, now, server) = (ctx.client.db, ctx.now_ms(), ctx.server);
    let (from, to) = (&argv[1][..], &argv[2][..]);
    let mut guard = server.keyspace.lock_keys(&[(db, from), (db, to)]);
    if guard.key(0).find_live(now).is_none() {
        return ctx.reply.error(NO_SUCH_KEY);
    }
    if from == to || (nx && guard.key(1).find_live(now).is_some()) {
        crate::persist::dirty::changed(0);
        return if nx { ctx.reply.int(0) } else { ctx.reply.ok() };
    }
    // Looked up again: deleting an expired destination may have moved the source.
    let Some(entry) = guard.key(0).remove(now) else {
        return ctx.reply.error(NO_SUCH_KEY);
    };
    let is_list = store(&mut guard.key(1), entry, now);
    ctx.propagate(argv);
    drop(guard);
    if is_list {
        server.blocked.key_ready(db, to);
    }
    if nx {
        ctx.reply.int(1);
    } else {
        ctx.reply.ok();
    }
}

/// Stores a removed or copied entry's value and deadline under the guard's key, replacing
/// what is there; returns whether it is a list (clients blocked on the key may pop it).
fn store<S>(guard: &mut crate::db::KeyGuard<'_, S>, entry: Removed, now: i64) -> bool
where
    S: std::ops::DerefMut<Target = crate::db::Shard>,
{
    let expires = entry.expires_at();
    let is_list = matches!(entry.value, Value::List(_));
    let pos = guard.set(entry.value, false, now);
    guard.set_expiry(pos, expires);
    is_list
}

/// A database index argument (MOVE, COPY's DB, SWAPDB), or None after the error reply.
/// Redis reads it with getIntFromObjectOrReply: `message` (when given) replaces both of
/// its errors, "not an integer" and "not a C int"; then a database that does not exist
/// is `DB index is out of range`.
fn db_index(ctx: &mut Ctx, arg: &[u8], message: Option<&str>) -> Option<usize> {
    let index = match args::parse_i64(arg) {
        None => Err(errors::NOT_AN_INTEGER),
        Some(n) => i32::try_from(n).map_err(|_| INT_OUT_OF_RANGE),
    };
    let index = match index {
        Ok(index) => index,
        Err(default) => {
            ctx.reply.error(message.unwrap_or(default));
            return None;
        }
    };
    match usize::try_from(index) {
        Ok(index) if index < ctx.server.keyspace.databases() => Some(index),
        _ => {
            ctx.reply.error(DB_OUT_OF_RANGE);
            None
        }
    }
}

pub fn move_key(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(target) = db_index(ctx, &argv[2], None) else {
        return;
    };
    let (db, now, server) = (ctx.client.db, ctx.now_ms(), ctx.server);
    if target == db {
        return ctx.reply.error(SAME_OBJECT);
    }
    let key = &argv[1][..];
    let mut guard = server.keyspace.lock_keys(&[(db, key), (target, key)]);
    let movable = guard.key(0).find_live(now).is_some() && guard.key(1).find_live(now).is_none();
    let Some(entry) = movable.then(|| guard.key(0).remove(now)).flatten() else {
        crate::persist::dirty::changed(0);
        return ctx.reply.int(0);
    };
    let is_list = store(&mut guard.key(1), entry, now);
    ctx.propagate(argv);
    // The key also appeared in the other database (propagate touched this one's).
    server.keyspace.watches.touch(target, key);
    drop(guard);
    if is_list {
        server.blocked.key_ready(target, key);
    }
    ctx.reply.int(1);
}

pub fn copy(ctx: &mut Ctx, argv: &[Bytes]) {
    let (db, now, server) = (ctx.client.db, ctx.now_ms(), ctx.server);
    let (mut target, mut replace) = (db, false);
    let mut i = 3;
    while i < argv.len() {
        if args::is(&argv[i], "REPLACE") {
            replace = true;
        } else if args::is(&argv[i], "DB") && i + 1 < argv.len() {
            let Some(index) = db_index(ctx, &argv[i + 1], None) else {
                return;
            };
            target = index;
            i += 1;
        } else {
            return ctx.reply.error(errors::SYNTAX);
        }
        i += 1;
    }
    let (from, to) = (&argv[1][..], &argv[2][..]);
    if target == db && from == to {
        return ctx.reply.error(SAME_OBJECT);
    }
    let mut guard = server.keyspace.lock_keys(&[(db, from), (target, to)]);
    let mut source_key = guard.key(0);
    let source = source_key.find_live(now).map(|pos| {
        (
            source_key.entry(pos).value.clone(),
            source_key.expires_at(pos),
        )
    });
    ctx.count_lookup(source.is_some());
    let Some((value, expires)) =
        source.filter(|_| replace || guard.key(1).find_live(now).is_none())
    else {
        crate::persist::dirty::changed(0);
        return ctx.reply.int(0);
    };
    let is_list = matches!(value, Value::List(_));
    let mut destination = guard.key(1);
    let pos = destination.set(value, false, now);
    destination.set_expiry(pos, expires);
    ctx.propagate(argv);
    // The destination may be in another database (propagate touched this one's keys).
    server.keyspace.watches.touch(target, to);
    drop(guard);
    if is_list {
        server.blocked.key_ready(target, to);
    }
    ctx.reply.int(1);
}

pub fn swapdb(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(a) = db_index(ctx, &argv[1], Some("ERR invalid first DB index")) else {
        return;
    };
    let Some(b) = db_index(ctx, &argv[2], Some("ERR invalid second DB index")) else {
        return;
    };
    ctx.server.keyspace.swap_dbs(a, b, || ctx.propagate(argv));
    // Clients blocked on a key of either database may now find data under it.
    for db in [a, b] {
        ctx.server.blocked.wake_db(db);
    }
    ctx.reply.ok();
}

/// Runs `answer` on the live entry of OBJECT's key, looked up without counting as an
/// access (Redis' LOOKUP_NOTOUCH); None, after a null bulk reply, when there is none.
fn object_lookup<T>(ctx: &mut Ctx, key: &[u8], answer: impl FnOnce(&Entry) -> T) -> Option<T> {
    let now = ctx.now_ms();
    let mut guard = ctx.lock(key);
    let found = guard
        .find_live_untouched(now)
        .map(|pos| answer(guard.entry(pos)));
    drop(guard);
    ctx.count_lookup(found.is_some());
    if found.is_none() {
        ctx.reply.null();
    }
    found
}

/// Redis' shared integers: SET of 0..9999 stores a pointer to a shared object, unless an
/// LRU/LFU maxmemory policy needs a private object per key for its access data.
const SHARED_INTEGERS: i64 = 10_000;
/// The refcount Redis reports for shared objects (OBJ_SHARED_REFCOUNT).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Redis keeps a string of up to this many bytes in the object's own allocation.
const EMBSTR_SIZE_LIMIT: usize = 44;
/// The counter an LFU policy gives a new key (LFU_INIT_VAL).
const LFU_INIT_VAL: u64 = 5;

/// `int`, `embstr` or `raw`, as Redis' tryObjectEncoding decides for a value SET stores.
fn string_encoding(data: &[u8]) -> &'static str {
    if data.len() <= 20 && args::parse_i64(data).is_some() {
        "int"
    } else if data.len() <= EMBSTR_SIZE_LIMIT {
        "embstr"
    } else {
        "raw"
    }
}

/// The encoding Redis 7.0 would use for the value. Lists are always quicklists in 7.0;
/// a set knows whether it is still an intset (src/db/set.rs).
fn encoding(value: &Value, max_intset_entries: usize) -> &'static str {
    match value {
        Value::Str(data) => string_encoding(data),
        Value::List(_) => "quicklist",
        Value::Hash(hash) => hash.encoding(),
        Value::ZSet(zset) => zset.encoding(),
        Value::Stream(_) => "stream",
        Value::Set(set) => set.encoding(max_intset_entries),
    }
}

pub fn object_encoding(ctx: &mut Ctx, argv: &[Bytes]) {
    let max_intset = intset_limit(ctx.server.config.get_int("set-max-intset-entries"));
    if let Some(name) = object_lookup(ctx, &argv[2], |e| encoding(&e.value, max_intset)) {
        ctx.reply.bulk(name.as_bytes());
    }
}

/// The maxmemory policy's kind: LFU policies track access counts instead of times.
fn policy_is(ctx: &Ctx, kind: &str) -> bool {
    ctx.server.config.get("maxmemory-policy").contains(kind)
}

pub fn object_refcount(ctx: &mut Ctx, argv: &[Bytes]) {
    let private_integers = ctx.server.config.get_int("maxmemory") != 0
        && (policy_is(ctx, "lru") || policy_is(ctx, "lfu"));
    let shared = |e: &Entry| match &e.value {
        Value::Str(data) if string_encoding(data) == "int" => {
            args::parse_i64(data).is_some_and(|n| (0..SHARED_INTEGERS).contains(&n))
        }
        _ => false,
    };
    if let Some(shared) = object_lookup(ctx, &argv[2], shared) {
        let refcount = if shared && !private_integers {
            SHARED_REFCOUNT
        } else {
            1
        };
        ctx.reply.int(refcount);
    }
}

pub fn object_idletime(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let Some(idle) = object_lookup(ctx, &argv[2], |e| e.idle_seconds(now)) else {
        return;
    };
    if policy_is(ctx, "lfu") {
        return ctx.reply.error(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that \
             when switching between policies at runtime LRU and LFU data will take some time \
             to adjust.",
        );
    }
    ctx.reply.int(idle as i64);
}

/// OBJECT FREQ. Access counts are not tracked (only access times are): under an LFU
/// policy this answers what Redis' counter would be for a key not accessed since its
/// last access was recorded, LFU_INIT_VAL decayed by one per `lfu-decay-time` minutes.
pub fn object_freq(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let Some(idle) = object_lookup(ctx, &argv[2], |e| e.idle_seconds(now)) else {
        return;
    };
    if !policy_is(ctx, "lfu") {
        return ctx.reply.error(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please \
             note that when switching between policies at runtime LRU and LFU data will take \
             some time to adjust.",
        );
    }
    let decay_minutes = u64::try_from(ctx.server.config.get_int("lfu-decay-time")).unwrap_or(0);
    let periods = (idle / 60).checked_div(decay_minutes).unwrap_or(0);
    ctx.reply.int(LFU_INIT_VAL.saturating_sub(periods) as i64);
}

pub fn object_help(ctx: &mut Ctx, _argv: &[Bytes]) {
    help(
        ctx,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b"-0"), Some(0));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"-18446744073709551615"), Some(1));
        for bad in [
            &b"18446744073709551616"[..],
            b"-18446744073709551616",
            b" 1",
            b"\x0b1",
            b"1 ",
            b"-",
            b"+",
            b"+-1",
            b"0x1",
            b"1e3",
            b"abc",
        ] {
            assert_eq!(
                parse_cursor(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn string_encodings_follow_redis_rules() {
        assert_eq!(string_encoding(b"123"), "int");
        assert_eq!(string_encoding(b"-9223372036854775808"), "int");
        assert_eq!(string_encoding(b"12345678901234567890"), "embstr");
        assert_eq!(string_encoding(b"-0"), "embstr");
        assert_eq!(string_encoding(b"01"), "embstr");
        assert_eq!(string_encoding(b""), "embstr");
        assert_eq!(string_encoding(&[b'a'; 44]), "embstr");
        assert_eq!(string_encoding(&[b'a'; 45]), "raw");
    }

    #[test]
    fn set_encodings_follow_contents_and_the_intset_limit() {
        let set = |members: &[&str]| {
            Value::Set(Box::new(
                members
                    .iter()
                    .map(|m| Bytes::copy_from_slice(m.as_bytes()))
                    .collect(),
            ))
        };
        assert_eq!(encoding(&set(&["1", "2", "-3"]), 512), "intset");
        assert_eq!(encoding(&set(&["1", "a"]), 512), "hashtable");
        assert_eq!(encoding(&set(&["1", "2", "3"]), 2), "hashtable");
        assert_eq!(encoding(&Value::List(Default::default()), 512), "quicklist");
    }
}
