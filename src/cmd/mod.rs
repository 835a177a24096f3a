//! The command table and the dispatcher.
//!
//! Every command is one [`CommandSpec`]: name, arity, flags, key positions and handler.
//! The dispatcher checks arity and authentication from the table alone, COMMAND reports
//! it, and later replication reads the `WRITE` flag from it: one source of truth.
//! Handlers fill a reply buffer through [`Ctx`]; they never see a socket.

pub mod args;
pub mod bitmap;
mod blocking;
pub mod connection;
pub mod docs;
pub mod expire;
pub mod hash;
pub mod introspection;
pub mod keys;
pub mod list;
pub mod list_move;
pub mod multi;
pub mod persistence;
mod pick;
pub mod replication;
pub mod server;
pub mod set;
pub mod set_algebra;
pub mod spec;
pub mod string;
pub mod timing;
pub mod zrange;
pub mod zset;
pub mod zset_algebra;
pub mod zset_pop;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hashbrown::HashMap;

use crate::resp::Reply;
use crate::server::client::Client;
use crate::server::state::{Server, Stats};

use spec::NO_AUTH;
pub use spec::{flags, CommandSpec};

/// What a handler works with: the shared server, its own client, and the reply buffer.
pub struct Ctx<'a> {
    pub server: &'a Server,
    pub client: &'a mut Client,
    pub reply: &'a mut Reply,
}

pub type Handler = fn(&mut Ctx, &[Bytes]);

/// Every family's table, in the order COMMAND lists them.
const FAMILIES: &[&[CommandSpec]] = &[
    connection::COMMANDS,
    string::COMMANDS,
    bitmap::COMMANDS,
    list::COMMANDS,
    list_move::COMMANDS,
    set::COMMANDS,
    set_algebra::COMMANDS,
    hash::COMMANDS,
    zset::COMMANDS,
    zset_algebra::COMMANDS,
    zset_pop::COMMANDS,
    keys::COMMANDS,
    expire::COMMANDS,
    multi::COMMANDS,
    server::COMMANDS,
    persistence::COMMANDS,
    introspection::COMMANDS,
    replication::COMMANDS,
];

/// Every top-level command.
pub fn commands() -> impl Iterator<Item = &'static CommandSpec> {
    FAMILIES.iter().flat_map(|family| family.iter())
}

/// The command table flattened once: every command followed by its subcommands, each
/// at a fixed position that per-command counters and CLIENT LIST's `cmd` use.
struct Table {
    by_name: HashMap<&'static str, (&'static CommandSpec, u32)>,
    /// (command, parent) by position.
    flat: Vec<(&'static CommandSpec, Option<&'static CommandSpec>)>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut by_name = HashMap::new();
        let mut flat = Vec::new();
        for spec in commands() {
            by_name.insert(spec.name, (spec, flat.len() as u32));
            flat.push((spec, None));
            flat.extend(spec.subcommands.iter().map(|sub| (sub, Some(spec))));
        }
        Table { by_name, flat }
    })
}

/// How many positions the flattened table has (commands and subcommands).
pub fn table_len() -> usize {
    table().flat.len()
}

/// The command (and its parent, for a subcommand) at a table position.
pub fn at_position(position: u32) -> Option<(&'static CommandSpec, Option<&'static CommandSpec>)> {
    table().flat.get(position as usize).copied()
}

/// Finds a command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    lookup_with_position(name).map(|(spec, _)| spec)
}

fn lookup_with_position(name: &[u8]) -> Option<(&'static CommandSpec, u32)> {
    let mut lower = [0u8; 32];
    let lower = lower.get_mut(..name.len())?;
    for (dst, src) in lower.iter_mut().zip(name) {
        *dst = src.to_ascii_lowercase();
    }
    table()
        .by_name
        .get(std::str::from_utf8(lower).ok()?)
        .copied()
}

/// The last two command names a connection sent, as sent, and what they resolved to: a
/// pipeline mostly repeats one or two commands, and comparing a few bytes costs less than
/// lowercasing and hashing them.
#[derive(Debug, Default)]
pub struct RecentCommands {
    recent: [Option<Recent>; 2],
    /// Which entry the next new name replaces.
    next: usize,
}

#[derive(Debug)]
struct Recent {
    name: [u8; 16],
    len: usize,
    found: (&'static CommandSpec, u32),
}

impl RecentCommands {
    /// Like [`lookup`], with the table position.
    fn lookup(&mut self, name: &[u8]) -> Option<(&'static CommandSpec, u32)> {
        let same = |r: &&Recent| r.name.get(..r.len) == Some(name);
        if let Some(recent) = self.recent.iter().flatten().find(same) {
            return Some(recent.found);
        }
        let found = lookup_with_position(name)?;
        if name.len() <= 16 {
            let mut recent = Recent {
                name: [0; 16],
                len: name.len(),
                found,
            };
            recent.name[..name.len()].copy_from_slice(name);
            self.recent[self.next] = Some(recent);
            self.next = 1 - self.next;
        }
        Some(found)
    }
}

/// A subcommand of `parent` (at `position`) by name, with its own position.
fn lookup_subcommand(
    parent: &'static CommandSpec,
    position: u32,
    name: &[u8],
) -> Option<(&'static CommandSpec, u32)> {
    let index = parent
        .subcommands
        .iter()
        .position(|s| s.name.as_bytes().eq_ignore_ascii_case(name))?;
    Some((&parent.subcommands[index], position + 1 + index as u32))
}

/// Executes one command, appending its reply. Inside MULTI the command is queued instead,
/// and a refused command marks the transaction failed.
///
/// Every executed command is counted for INFO commandstats (calls, time, failures) and,
/// while someone runs MONITOR, shown to the monitors.
pub fn execute(ctx: &mut Ctx, argv: &[Bytes]) {
    let (spec, position) = match resolve(ctx, argv) {
        Ok(found) => found,
        Err(mut rejection) => {
            if args::is(&argv[0], "EXEC") {
                rejection.message = multi::abort_message(ctx, &rejection.message);
            }
            return reject(ctx, rejection);
        }
    };
    ctx.client.last_command = Some(position);
    if ctx.client.transaction.is_some() && !multi::controls_transaction(spec.name) {
        if spec.has(spec::NO_MULTI) {
            return reject(
                ctx,
                Rejection {
                    message: "ERR Command not allowed inside a transaction".into(),
                    position: Some(position),
                },
            );
        }
        if let Some(transaction) = &mut ctx.client.transaction {
            transaction.queued.push(argv.to_vec());
        }
        ctx.reply.simple("QUEUED");
        return;
    }
    let handler = spec
        .handler
        .expect("containers without a handler always dispatch to a subcommand");
    let mark = ctx.reply.len();
    let in_run = spec.has(spec::FAST | spec::TIMED_IN_RUNS);
    let started = if in_run {
        ctx.client.clock.start_in_run()
    } else {
        ctx.client.clock.start_alone(ctx.server)
    };
    ctx.client.command_ms = (started / 1000) as i64;
    handler(ctx, argv);
    let failed = ctx.reply.buf.get(mark) == Some(&b'-');
    crate::repl::propagate::command_done(ctx, spec, argv, failed);
    let changed = spec.has(spec::WRITE)
        && !failed
        && ctx.client.blocked.is_none()
        && crate::persist::dirty::reported() != Some(0);
    if changed {
        // Handlers touch what they change as they propagate it; this covers the rest.
        touch_watched(ctx, argv);
    }
    crate::persist::dirty::command_done(spec.has(spec::WRITE) && !failed);
    if failed {
        count_error(ctx.server, &ctx.reply.buf[mark + 1..]);
    }
    // A blocked command runs again when woken: it is counted once, when it completes.
    if ctx.client.blocked.is_none() {
        if in_run {
            ctx.client.clock.done_in_run(ctx.server, position, failed);
        } else {
            let finished = ctx.client.clock.settle(ctx.server);
            let usec = finished.saturating_sub(started);
            ctx.server.command_stats.record(position, usec, failed);
            Stats::add(&ctx.server.stats.commands_processed, 1);
        }
    }
    // Like Redis, administrative commands are not shown (they may carry secrets).
    if ctx.server.monitors.active() && !spec.has(spec::ADMIN) && !ctx.client.reprocessing {
        let line = monitor_line(ctx.client.db, &ctx.client.addr, argv, spec.name);
        ctx.server.monitors.feed(line);
    }
}

/// Wall-clock microseconds since the epoch: commandstats time and the deadline clock in
/// one read (Redis times commands with the wall clock too).
pub fn clock_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// A command refused before it ran, and its table position when it was found.
struct Rejection {
    message: String,
    position: Option<u32>,
}

fn reject(ctx: &mut Ctx, rejection: Rejection) {
    if let Some(position) = rejection.position {
        ctx.server.command_stats.reject(position);
        ctx.client.last_command = Some(position);
    }
    count_error(ctx.server, rejection.message.as_bytes());
    ctx.reply.error(rejection.message);
    if let Some(transaction) = &mut ctx.client.transaction {
        transaction.failed = true;
    }
}

/// Counts an error reply (its text without the leading `-`) for INFO.
pub fn count_error(server: &Server, message: &[u8]) {
    Stats::add(&server.stats.error_replies, 1);
    server.error_stats.count(message);
}

/// One MONITOR line: `+1700000000.123456 [0 127.0.0.1:54321] "set" "k" "v"`, arguments
/// quoted as Redis' sdscatrepr quotes them and passwords replaced by `(redacted)`.
fn monitor_line(db: usize, addr: &SocketAddr, argv: &[Bytes], name: &str) -> Bytes {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        db,
        addr
    )
    .into_bytes();
    let hello_auth = (name == "hello")
        .then(|| {
            argv.iter()
                .skip(2)
                .position(|a| args::is(a, "AUTH"))
                .map(|i| i + 2)
        })
        .flatten();
    for (i, arg) in argv.iter().enumerate() {
        line.push(b' ');
        let redacted =
            (name == "auth" && i > 0) || hello_auth.is_some_and(|at| i == at + 1 || i == at + 2);
        if redacted {
            line.extend_from_slice(b"\"(redacted)\"");
        } else {
            quote(arg, &mut line);
        }
    }
    line.extend_from_slice(b"\r\n");
    Bytes::from(line)
}

/// Redis' sdscatrepr: a double-quoted string with C escapes and `\xHH` for the rest.
pub fn quote(arg: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in arg {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// The command `argv` names, checked for arity and authentication, or the error reply.
fn resolve(ctx: &mut Ctx, argv: &[Bytes]) -> Result<(&'static CommandSpec, u32), Rejection> {
    let Some((spec, position)) = ctx.client.recent_commands.lookup(&argv[0]) else {
        return Err(Rejection {
            message: unknown_command_message(argv),
            position: None,
        });
    };
    let (spec, position, parent) = match (spec.subcommands.is_empty(), argv.get(1)) {
        (false, Some(sub)) => match lookup_subcommand(spec, position, sub) {
            Some((sub_spec, sub_position)) => (sub_spec, sub_position, Some(spec)),
            None => {
                return Err(Rejection {
                    message: format!(
                        "ERR unknown subcommand '{}'. Try {} HELP.",
                        c_str(sub, 128),
                        spec.name.to_ascii_uppercase()
                    ),
                    position: None,
                })
            }
        },
        _ => (spec, position, None),
    };
    let argc = argv.len() as i32;
    let refuse = |message: String| {
        Err(Rejection {
            message,
            position: Some(position),
        })
    };
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        return refuse(wrong_arity(&spec.full_name(parent)));
    }
    let password_set = ctx.server.config.hot.password_set.load(Ordering::Relaxed);
    if ctx.client.auth_required(password_set) && !spec.has(NO_AUTH) {
        // Redis refuses a disabled DEBUG (a "protected" command) before it asks for AUTH.
        if spec.name == "debug" && !server::debug_allowed(ctx) {
            return refuse(server::DEBUG_NOT_ALLOWED.into());
        }
        return refuse("NOAUTH Authentication required.".into());
    }
    // After a failed BGSAVE only: one atomic load on the way for every other command.
    if !ctx.server.persistence.last_bgsave_ok()
        && (spec.has(spec::WRITE) || spec.name == "ping")
        && ctx.server.persistence.refuses_writes(&ctx.server.config)
    {
        return refuse(errors::MISCONF.into());
    }
    if spec.has(spec::WRITE) && !ctx.client.master_link && ctx.server.replica.is_active() {
        let hot = &ctx.server.config.hot;
        if hot
            .replica_read_only
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            return refuse(errors::READONLY.into());
        }
        // A writable replica deletes expired keys as a master does, or writes could
        // meet a key kept hidden.
        ctx.server
            .keyspace
            .hide_expired
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }
    Ok((spec, position))
}

/// Marks the keys the write `argv` writes (in the client's database) as changed for the
/// clients that WATCH them: not the ones it only reads (the sources of ZUNIONSTORE, COPY),
/// as Redis signals only what it modified. One atomic load while nobody watches.
pub fn touch_watched<A: AsRef<[u8]>>(ctx: &Ctx, argv: &[A]) {
    let watches = &ctx.server.keyspace.watches;
    if !watches.active() {
        return;
    }
    let Some(spec) = argv.first().and_then(|name| lookup(name.as_ref())) else {
        return;
    };
    // One flag set per key specification; the last one covers the remaining keys.
    let flags = introspection::key_flags(spec, argv);
    for (n, at) in key_positions(spec, argv).into_iter().enumerate() {
        let read_only = flags
            .get(n)
            .or(flags.last())
            .is_some_and(|f| f.starts_with("RO"));
        if !read_only {
            watches.touch(ctx.client.db, argv[at].as_ref());
        }
    }
}

/// Where a command line's keys are (indexes into `argv`): by the table's first, last and
/// step, or by parsing for movable keys (LMPOP's numkeys). Empty when there are none.
pub fn key_positions<A: AsRef<[u8]>>(spec: &CommandSpec, argv: &[A]) -> Vec<usize> {
    if spec.has(spec::MOVABLE_KEYS) {
        // numkeys, then that many keys: BLMPOP and BZMPOP have their timeout first, the
        // Z*STORE forms their destination (the table's one fixed key).
        let (fixed, numkeys_at) = match spec.name {
            "blmpop" | "bzmpop" => (None, 2),
            _ if spec.keys.0 > 0 => (Some(spec.keys.0 as usize), spec.keys.1 as usize + 1),
            _ => (None, 1),
        };
        return args::numkeys_range(argv, numkeys_at)
            .map_or_else(Vec::new, |keys| fixed.into_iter().chain(keys).collect());
    }
    let (first, last, step) = spec.keys;
    let argc = argv.len() as i32;
    if first <= 0 {
        return Vec::new();
    }
    let last = if last < 0 {
        argc + last
    } else {
        last.min(argc - 1)
    };
    (first..=last)
        .step_by(step.max(1) as usize)
        .map(|i| i as usize)
        .collect()
}

pub fn wrong_arity(full_name: &str) -> String {
    format!("ERR wrong number of arguments for '{full_name}' command")
}

/// `unknown command 'foo', with args beginning with: 'a' 'b' ` — Redis quotes the
/// arguments until the list passes 128 bytes.
fn unknown_command_message(argv: &[Bytes]) -> String {
    let mut args = String::new();
    for arg in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push('\'');
        args.push_str(&c_str(arg, room));
        args.push_str("' ");
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        c_str(&argv[0], 128),
        args
    )
}

/// What C's `%.Ns` prints of an argument: up to the first NUL, at most `max` bytes.
fn c_str(arg: &[u8], max: usize) -> String {
    let end = arg
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(arg.len())
        .min(max);
    String::from_utf8_lossy(&arg[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_rejects_long_names() {
        assert_eq!(lookup(b"GeT").unwrap().name, "get");
        assert!(lookup(b"nosuchcommand").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
    }

    #[test]
    fn recent_commands_resolve_as_the_table_does() {
        let mut recent = RecentCommands::default();
        let position = |name: &str| lookup_with_position(name.as_bytes()).map(|(_, p)| p);
        for name in [
            "GET", "set", "GET", "set", "Get", "hset", "GET", "nosuch", "set",
        ] {
            let found = recent.lookup(name.as_bytes()).map(|(_, p)| p);
            assert_eq!(found, position(name), "{name}");
        }
        // Names are kept as sent: `Get` is another entry than `GET`, both right.
        let long = "a-command-name-longer-than-16";
        assert_eq!(recent.lookup(long.as_bytes()).map(|(_, p)| p), None);
        assert_eq!(recent.lookup(b"GET").map(|(_, p)| p), position("get"));
        assert!(recent
            .recent
            .iter()
            .flatten()
            .any(|r| &r.name[..r.len] == b"GET"));
    }

    #[test]
    fn unknown_command_lists_arguments_like_redis() {
        let argv: Vec<Bytes> = ["foo", "a", "b"].iter().map(|s| Bytes::from(*s)).collect();
        assert_eq!(
            unknown_command_message(&argv),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
        let long: Vec<Bytes> = vec![
            Bytes::from("x"),
            Bytes::from(vec![b'y'; 200]),
            Bytes::from("z"),
        ];
        let message = unknown_command_message(&long);
        assert!(message.ends_with(&format!("'{}' ", "y".repeat(128))));
    }

    /// The hot path of a pipelined GET/SET batch, as the connection loop runs it (parse,
    /// execute, reply), allocates nothing once its buffers are warm.
    #[test]
    fn a_pipelined_get_set_batch_allocates_nothing() {
        use crate::alloc::thread_allocations;
        use crate::resp::{ParseLimits, RequestParser};
        use crate::server::client::ClientHandle;
        use std::sync::Arc;

        let server = Server::for_embedding(Arc::new(crate::config::Config::new()));
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut client = Client::new(Arc::new(ClientHandle::new(1, addr, addr, -1)), false);
        let mut reply = Reply::new();
        let (mut parser, mut argv) = (RequestParser::new(), Vec::new());
        let mut input = bytes::BytesMut::with_capacity(64 * 1024);
        let mut batch = Vec::new();
        for i in 0..100 {
            let key = format!("key:{i:08}");
            batch.extend_from_slice(
                format!(
                    "*3\r\n$3\r\nSET\r\n$12\r\n{key}\r\n$16\r\n{}\r\n",
                    "v".repeat(16)
                )
                .as_bytes(),
            );
            batch.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n$12\r\n{key}\r\n").as_bytes());
        }
        let mut run_batch = |input: &mut bytes::BytesMut| {
            let mut commands = 0;
            while parser
                .parse(input, &ParseLimits::default(), &mut argv)
                .unwrap()
            {
                let mut ctx = Ctx {
                    server: &server,
                    client: &mut client,
                    reply: &mut reply,
                };
                execute(&mut ctx, &argv);
                argv.clear();
                commands += 1;
            }
            reply.buf.clear();
            commands
        };
        // Warm up: the keys exist, the buffers have their size.
        input.extend_from_slice(&batch);
        assert_eq!(run_batch(&mut input), 200);
        input.extend_from_slice(&batch);
        let before = thread_allocations();
        assert_eq!(run_batch(&mut input), 200);
        assert_eq!(thread_allocations() - before, 0);
    }

    #[test]
    fn every_command_name_is_lower_case_and_unique() {
        let mut names: Vec<_> = commands().map(|c| c.name).collect();
        let count = names.len();
        assert!(names
            .iter()
            .all(|n| n.bytes().all(|b| !b.is_ascii_uppercase())));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}

/// A kind of collection value that [`Ctx::write_typed`] finds, creates and removes.
pub trait Collection: Default {
    fn of(value: &crate::db::Value) -> Option<&Self>;
    fn of_mut(value: &mut crate::db::Value) -> Option<&mut Self>;
    fn into_value(self) -> crate::db::Value;
    fn is_empty(&self) -> bool;
}

/// Implements [`Collection`] for the value type held (directly or boxed) by
/// `Value::$variant`.
macro_rules! collection {
    ($type:ty, $variant:ident) => {
        impl Collection for $type {
            fn of(value: &crate::db::Value) -> Option<&Self> {
                match value {
                    crate::db::Value::$variant(inner) => Some(inner),
                    _ => None,
                }
            }
            fn of_mut(value: &mut crate::db::Value) -> Option<&mut Self> {
                match value {
                    crate::db::Value::$variant(inner) => Some(inner),
                    _ => None,
                }
            }
            fn into_value(self) -> crate::db::Value {
                crate::db::Value::$variant(self.into())
            }
            fn is_empty(&self) -> bool {
                <$type>::is_empty(self)
            }
        }
    };
}

collection!(crate::db::hash::Hash, Hash);
collection!(crate::db::zset::ZSet, ZSet);
collection!(std::collections::VecDeque<Bytes>, List);

/// Error replies shared by many commands, worded as Redis words them.
pub mod errors {
    pub const SYNTAX: &str = "ERR syntax error";
    pub const NOT_AN_INTEGER: &str = "ERR value is not an integer or out of range";
    pub const READONLY: &str = "READONLY You can't write against a read only replica.";
    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's \
        currently unable to persist to disk. Commands that may modify the data set are \
        disabled, because this instance is configured to report errors during writes if RDB \
        snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs \
        for details about the RDB error.";
}

impl Ctx<'_> {
    /// The clock commands read deadlines against: the time the running command started.
    pub fn now_ms(&self) -> i64 {
        match self.client.command_ms {
            0 => crate::db::now_ms(),
            ms => ms,
        }
    }

    /// Locks the shard of `key` in the client's database.
    pub fn lock<'k>(&'k self, key: &'k [u8]) -> crate::db::KeyGuard<'k> {
        self.server.keyspace.lock(self.client.db, key)
    }

    /// Replies the number of elements a write changed, which are also its changes for the
    /// save policy (INFO's rdb_changes_since_last_save).
    pub fn reply_changes(&mut self, n: usize) {
        crate::persist::dirty::changed(n as u64);
        self.reply.int(n as i64);
    }

    /// Counts a read lookup for INFO's keyspace_hits / keyspace_misses.
    pub fn count_lookup(&self, hit: bool) {
        let stats = &self.server.stats;
        let counter = if hit {
            &stats.keyspace_hits
        } else {
            &stats.keyspace_misses
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Runs `read` under the lock of `key` on its value as `typed` takes it (None when the
    /// key is missing), with the reply buffer at hand so that a collection is written out
    /// without a copy; counts the lookup for INFO. Replies WRONGTYPE and returns None,
    /// without running `read`, when `typed` refuses the value.
    pub fn read_typed<T: ?Sized, R>(
        &mut self,
        key: &[u8],
        typed: impl Fn(&crate::db::Value) -> Option<&T>,
        read: impl FnOnce(Option<&T>, &mut Reply) -> R,
    ) -> Option<R> {
        let (server, db, now) = (self.server, self.client.db, self.now_ms());
        let mut guard = server.keyspace.lock(db, key);
        let (found, result) = match guard.get(now).map(|e| &e.value) {
            None => (false, Some(read(None, self.reply))),
            Some(value) => (true, typed(value).map(|v| read(Some(v), self.reply))),
        };
        drop(guard);
        self.count_lookup(found);
        if result.is_none() {
            self.reply.error(errors::WRONGTYPE);
        }
        result
    }

    /// Runs `write` on the collection at `key` under the key's lock (so that it
    /// propagates in keyspace order); a collection left empty is removed. When the key is
    /// missing the collection is created empty first if `create`, else `write` is not run
    /// and the result is Some(None). Replies WRONGTYPE and returns None for another type.
    pub fn write_typed<T: Collection, R>(
        &mut self,
        key: &[u8],
        create: bool,
        write: impl FnOnce(&Ctx, &mut T) -> R,
    ) -> Option<Option<R>> {
        let now = self.now_ms();
        let shared: &Ctx = self;
        let mut guard = shared.lock(key);
        let result = match guard.find_live_of(now, |v| T::of(v).is_some()) {
            Err(crate::db::WrongType) => None,
            Ok(None) if !create => Some(None),
            Ok(found) => {
                let pos = found.unwrap_or_else(|| guard.set(T::default().into_value(), false, now));
                let Some(collection) = T::of_mut(&mut guard.entry_mut(pos).value) else {
                    unreachable!("the type was checked above")
                };
                let result = write(shared, collection);
                if collection.is_empty() {
                    guard.remove_at(pos);
                }
                Some(Some(result))
            }
        };
        drop(guard);
        if result.is_none() {
            self.reply.error(errors::WRONGTYPE);
        }
        result
    }

    /// An integer argument, or the standard error reply and None.
    pub fn int_arg(&mut self, arg: &[u8]) -> Option<i64> {
        let n = args::parse_i64(arg);
        if n.is_none() {
            self.reply.error(errors::NOT_AN_INTEGER);
        }
        n
    }
}
