//! Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET, CLIENT.
//!
//! ```text
//! PING [message]           +PONG, or the message as a bulk string
//! ECHO message             the message
//! QUIT                     +OK, then the server closes the connection
//! SELECT index             +OK; later commands use database `index`
//! AUTH [username] password +OK, or -WRONGPASS
//! HELLO [2 [AUTH user pass] [SETNAME name]]
//!                          *14: server redis version 7.0.15 proto 2 id <id> mode standalone
//!                          role master modules *0 (RESP3 is refused with -NOPROTO)
//! RESET                    +RESET: db 0, no name, no MULTI, no MONITOR, replies on, AUTH again
//! CLIENT ID                :<id>
//! CLIENT SETNAME name      +OK (`name` of '!'..'~' only; empty clears it)
//! CLIENT GETNAME           the name, or a null bulk
//! CLIENT LIST [TYPE type | ID id ..]   $"id=.. addr=.. ... resp=2\n" per client
//! CLIENT INFO              $"id=.. ... resp=2\n" for this client
//! CLIENT KILL ip:port      +OK, or -ERR No such client
//! CLIENT KILL [ID id] [TYPE type] [USER user] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]
//!                          :<clients killed>
//! CLIENT NO-EVICT on|off   +OK
//! CLIENT REPLY on|off|skip +OK for ON; OFF and SKIP silence replies (SKIP: the next one)
//! ```

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::introspection::REDIS_VERSION;
use super::{args, at_position, errors, wrong_arity, Ctx};
use crate::server::client::{flag_letters, ClientHandle, FLAG_REPLICA};

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("ping", -1, FAST | SENTINEL, NO_KEYS, "connection", "Ping the server", ping),
    command("echo", 2, FAST, NO_KEYS, "connection", "Echo the given string", echo),
    command("quit", -1, ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH, NO_KEYS, "connection", "Close the connection", quit),
    command("select", 2, LOADING | STALE | FAST, NO_KEYS, "connection", "Change the selected database for the current connection", select),
    command("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, NO_KEYS, "connection", "Authenticate to the server", auth),
    since(command("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, NO_KEYS, "connection", "Handshake with Redis", hello), "6.0.0"),
    since(command("reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, NO_KEYS, "connection", "Reset the connection", reset), "6.2.0"),
    container("client", 0, "connection", "2.4.0", "A container for client connection commands", &[
        since(command("id", 2, NOSCRIPT | LOADING | STALE, NO_KEYS, "connection", "Returns the client ID for the current connection", client_id), "5.0.0"),
        since(command("setname", 3, NOSCRIPT | LOADING | STALE, NO_KEYS, "connection", "Set the current connection name", client_setname), "2.6.9"),
        since(command("getname", 2, NOSCRIPT | LOADING | STALE, NO_KEYS, "connection", "Get the current connection name", client_getname), "2.6.9"),
        since(command("list", -2, ADMIN | NOSCRIPT | LOADING | STALE, NO_KEYS, "connection", "Get the list of client connections", client_list), "2.4.0"),
        since(command("info", 2, NOSCRIPT | LOADING | STALE, NO_KEYS, "connection", "Returns information about the current client connection.", client_info), "6.2.0"),
        since(command("kill", -3, ADMIN | NOSCRIPT | LOADING | STALE, NO_KEYS, "connection", "Kill the connection of a client", client_kill), "2.4.0"),
        since(command("no-evict", 3, ADMIN | NOSCRIPT | LOADING | STALE, NO_KEYS, "connection", "Set client eviction mode for the current connection", client_no_evict), "7.0.0"),
        since(command("reply", 3, NOSCRIPT | LOADING | STALE, NO_KEYS, "connection", "Instruct the server whether to reply to commands", client_reply), "3.2.0"),
        since(command("help", 2, LOADING | STALE, NO_KEYS, "connection", "Show helpful text about the different subcommands", client_help), "5.0.0"),
    ]),
];

pub fn ping(ctx: &mut Ctx, argv: &[Bytes]) {
    match argv {
        [_] => ctx.reply.simple("PONG"),
        [_, message] => ctx.reply.bulk(message),
        _ => ctx.reply.error(wrong_arity("ping")),
    }
}

pub fn echo(ctx: &mut Ctx, argv: &[Bytes]) {
    ctx.reply.bulk(&argv[1]);
}

pub fn quit(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.reply.ok();
    ctx.client.close_after_reply = true;
}

pub fn select(ctx: &mut Ctx, argv: &[Bytes]) {
    // Redis' getIntFromObjectOrReply: not a number, or a number beyond a C int.
    let Some(index) = args::parse_i64(&argv[1]) else {
        ctx.reply.error(errors::NOT_AN_INTEGER);
        return;
    };
    let Ok(index) = i32::try_from(index) else {
        ctx.reply
            .error("ERR value is out of range, value must between -2147483648 and 2147483647");
        return;
    };
    if index < 0 || index as usize >= ctx.server.keyspace.databases() {
        ctx.reply.error("ERR DB index is out of range");
        return;
    }
    ctx.client.db = index as usize;
    ctx.reply.ok();
}

/// AUTH with `requirepass`: the password belongs to the `default` user, the only user
/// until ACLs exist. Without a password any `AUTH default <anything>` succeeds, as the
/// default user is `nopass` in Redis.
pub fn auth(ctx: &mut Ctx, argv: &[Bytes]) {
    let (user, password) = match argv {
        [_, password] => (None, password),
        [_, user, password] => (Some(&user[..]), password),
        _ => {
            ctx.reply.error(errors::SYNTAX);
            return;
        }
    };
    if user.is_none() && ctx.server.config.get("requirepass").is_empty() {
        ctx.reply.error(
            "ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?",
        );
        return;
    }
    if authenticate(ctx, user, password) {
        ctx.reply.ok();
    }
}

/// Checks a user and password, marks the client authenticated, or replies WRONGPASS.
fn authenticate(ctx: &mut Ctx, user: Option<&[u8]>, password: &[u8]) -> bool {
    let required = ctx.server.config.get("requirepass");
    let user_ok = user.is_none_or(|u| u == b"default");
    let password_ok = required.is_empty() || password == required.as_bytes();
    if user_ok && password_ok {
        ctx.client.authenticated = true;
        true
    } else {
        ctx.reply
            .error("WRONGPASS invalid username-password pair or user is disabled.");
        false
    }
}

/// HELLO: only RESP2 is spoken, so `HELLO 3` is refused as Redis refuses a version it
/// does not know, and clients fall back to RESP2.
pub fn hello(ctx: &mut Ctx, argv: &[Bytes]) {
    if let Some(version) = argv.get(1) {
        let Some(version) = args::parse_i64(version) else {
            return ctx
                .reply
                .error("ERR Protocol version is not an integer or out of range");
        };
        if version != 2 {
            return ctx.reply.error("NOPROTO unsupported protocol version");
        }
    }
    let mut credentials = None;
    let mut name = None;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if args::is(&argv[i], "AUTH") && more >= 2 {
            credentials = Some((&argv[i + 1], &argv[i + 2]));
            i += 3;
        } else if args::is(&argv[i], "SETNAME") && more >= 1 {
            if let Err(message) = validate_name(&argv[i + 1]) {
                return ctx.reply.error(message);
            }
            name = Some(&argv[i + 1]);
            i += 2;
        } else {
            return ctx.reply.error(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&argv[i])
            ));
        }
    }
    if let Some((user, password)) = credentials {
        if !authenticate(ctx, Some(user), password) {
            return;
        }
    }
    if !ctx.client.authenticated {
        return ctx.reply.error(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO AUTH <user> <pass> option can be used to authenticate the client and \
             select the RESP protocol version at the same time",
        );
    }
    if let Some(name) = name {
        set_name(ctx, name);
    }
    let reply = &mut *ctx.reply;
    reply.array(14);
    for (key, value) in [("server", "redis"), ("version", REDIS_VERSION)] {
        reply.bulk(key.as_bytes());
        reply.bulk(value.as_bytes());
    }
    reply.bulk(b"proto");
    reply.int(2);
    reply.bulk(b"id");
    reply.int(ctx.client.id as i64);
    for (key, value) in [("mode", "standalone"), ("role", "master")] {
        reply.bulk(key.as_bytes());
        reply.bulk(value.as_bytes());
    }
    reply.bulk(b"modules");
    reply.array(0);
}

/// RESET: the connection as it was when it connected (Redis' clearClientConnectionState;
/// like Redis 7.0, CLIENT NO-EVICT survives it).
pub fn reset(ctx: &mut Ctx, _argv: &[Bytes]) {
    let client = &mut *ctx.client;
    if client.monitor.take().is_some() {
        ctx.server.monitors.remove(client.id);
    }
    client.transaction = None;
    client.watching = None;
    client.db = 0;
    client.handle.set_name(None);
    client.reply_off = false;
    client.reply_skip_next = false;
    client.authenticated = !ctx.server.config.hot.password_set.load(Ordering::Relaxed);
    ctx.reply.simple("RESET");
}

pub fn client_id(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.reply.int(ctx.client.id as i64);
}

/// Redis' validateClientName: printable ASCII without spaces.
fn validate_name(name: &[u8]) -> Result<(), &'static str> {
    if name.iter().all(|&b| (b'!'..=b'~').contains(&b)) {
        Ok(())
    } else {
        Err("ERR Client names cannot contain spaces, newlines or special characters.")
    }
}

/// Sets the name (an empty name removes it).
fn set_name(ctx: &mut Ctx, name: &Bytes) {
    let name = (!name.is_empty()).then(|| name.clone());
    ctx.client.handle.set_name(name);
}

pub fn client_setname(ctx: &mut Ctx, argv: &[Bytes]) {
    if let Err(message) = validate_name(&argv[2]) {
        return ctx.reply.error(message);
    }
    set_name(ctx, &argv[2]);
    ctx.reply.ok();
}

pub fn client_getname(ctx: &mut Ctx, _argv: &[Bytes]) {
    match ctx.client.handle.name() {
        Some(name) => ctx.reply.bulk(&name),
        None => ctx.reply.null(),
    }
}

/// Client types CLIENT LIST and CLIENT KILL filter on: `normal`, a replica being fed the
/// stream, or a kind ringkv does not have (a monitor is normal in Redis).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Other,
}

impl ClientType {
    fn of(handle: &ClientHandle) -> ClientType {
        if handle.flags.load(Ordering::Relaxed) & FLAG_REPLICA != 0 {
            ClientType::Replica
        } else {
            ClientType::Normal
        }
    }
}

fn client_type(name: &[u8]) -> Option<ClientType> {
    if args::is(name, "normal") {
        Some(ClientType::Normal)
    } else if args::is(name, "slave") || args::is(name, "replica") {
        Some(ClientType::Replica)
    } else if ["pubsub", "master"].iter().any(|t| args::is(name, t)) {
        Some(ClientType::Other)
    } else {
        None
    }
}

fn unknown_type(ctx: &mut Ctx, name: &[u8]) {
    ctx.reply.error(format!(
        "ERR Unknown client type '{}'",
        String::from_utf8_lossy(name)
    ));
}

pub fn client_list(ctx: &mut Ctx, argv: &[Bytes]) {
    let all = ctx.server.clients.all();
    let listed: Vec<&Arc<ClientHandle>> = match &argv[2..] {
        [] => all.iter().collect(),
        [kind, name] if args::is(kind, "TYPE") => match client_type(name) {
            Some(wanted) => all.iter().filter(|h| ClientType::of(h) == wanted).collect(),
            None => return unknown_type(ctx, name),
        },
        [kind, ids @ ..] if args::is(kind, "ID") && !ids.is_empty() => {
            let mut listed = Vec::new();
            for id in ids {
                let Some(id) = args::parse_i64(id) else {
                    return ctx.reply.error("ERR Invalid client ID");
                };
                listed.extend(all.iter().filter(|h| h.id as i64 == id));
            }
            listed
        }
        _ => return ctx.reply.error(errors::SYNTAX),
    };
    ctx.client.publish();
    let mut text = String::new();
    for handle in listed {
        client_line(ctx, handle, &mut text);
    }
    ctx.reply.bulk(text.as_bytes());
}

pub fn client_info(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.client.publish();
    let handle = ctx.client.handle.clone();
    let mut text = String::new();
    client_line(ctx, &handle, &mut text);
    ctx.reply.bulk(text.as_bytes());
}

/// One CLIENT LIST line, with Redis 7.0's fields in its order. Buffers that ringkv does
/// not keep per client (reply lists, Pub/Sub) report Redis' idle values.
fn client_line(ctx: &Ctx, handle: &ClientHandle, out: &mut String) {
    let me = handle.id == ctx.client.id;
    let client = &*ctx.client;
    let (qbuf, qbuf_free, argv_mem, obl) = if me {
        let (len, free) = client.query_buffer;
        (len, free, client.argv_bytes, client.pending_reply)
    } else {
        (0, 0, 0, 0)
    };
    let name = handle.name().unwrap_or_default();
    let command = match handle.last_command.load(Ordering::Relaxed) {
        u32::MAX => "NULL".to_string(),
        position => at_position(position)
            .map(|(spec, parent)| spec.full_name(parent))
            .unwrap_or_else(|| "NULL".into()),
    };
    const REPLY_BUFFER: usize = 16 * 1024;
    let total = qbuf + qbuf_free + argv_mem + REPLY_BUFFER + obl;
    let _ = writeln!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 \
         ssub=0 multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp={} obl={} \
         oll=0 omem=0 tot-mem={} events=r cmd={} user=default redir=-1 resp=2",
        handle.id,
        handle.addr,
        handle.laddr,
        handle.fd,
        String::from_utf8_lossy(&name),
        handle.created.elapsed().as_secs(),
        if me { 0 } else { handle.idle_secs() },
        flag_letters(handle.flags.load(Ordering::Relaxed), handle.is_killed()),
        handle.db.load(Ordering::Relaxed),
        handle.multi.load(Ordering::Relaxed),
        qbuf,
        qbuf_free,
        argv_mem,
        REPLY_BUFFER,
        REPLY_BUFFER,
        obl,
        total,
        command,
    );
}

/// What CLIENT KILL's filters select.
#[derive(Default)]
struct KillFilter<'a> {
    addr: Option<&'a [u8]>,
    laddr: Option<&'a [u8]>,
    id: Option<u64>,
    client_type: Option<ClientType>,
    skip_me: bool,
}

impl KillFilter<'_> {
    fn matches(&self, handle: &ClientHandle) -> bool {
        let same = |wanted: Option<&[u8]>, addr: &std::net::SocketAddr| {
            wanted.is_none_or(|w| w == addr.to_string().as_bytes())
        };
        same(self.addr, &handle.addr)
            && same(self.laddr, &handle.laddr)
            && self.id.is_none_or(|id| id == handle.id)
            && self.client_type.is_none_or(|t| t == ClientType::of(handle))
    }
}

/// CLIENT KILL, old form (`CLIENT KILL ip:port`, +OK) and new form (filters, a count).
pub fn client_kill(ctx: &mut Ctx, argv: &[Bytes]) {
    let old_form = argv.len() == 3;
    let mut filter = KillFilter {
        skip_me: !old_form,
        ..KillFilter::default()
    };
    if old_form {
        filter.addr = Some(&argv[2]);
    } else {
        for pair in argv[2..].chunks(2) {
            let [option, value] = pair else {
                return ctx.reply.error(errors::SYNTAX);
            };
            if args::is(option, "ID") {
                match args::parse_i64(value) {
                    Some(id) if id > 0 => filter.id = Some(id as u64),
                    _ => return ctx.reply.error("ERR client-id should be greater than 0"),
                }
            } else if args::is(option, "TYPE") {
                match client_type(value) {
                    Some(kind) => filter.client_type = Some(kind),
                    None => return unknown_type(ctx, value),
                }
            } else if args::is(option, "ADDR") {
                filter.addr = Some(value);
            } else if args::is(option, "LADDR") {
                filter.laddr = Some(value);
            } else if args::is(option, "USER") {
                if value.as_ref() != b"default" {
                    return ctx.reply.error(format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(value)
                    ));
                }
            } else if args::is(option, "SKIPME") && args::is(value, "YES") {
                filter.skip_me = true;
            } else if args::is(option, "SKIPME") && args::is(value, "NO") {
                filter.skip_me = false;
            } else {
                return ctx.reply.error(errors::SYNTAX);
            }
        }
    }
    let mut killed = 0;
    for handle in ctx.server.clients.all() {
        if !filter.matches(&handle) {
            continue;
        }
        if handle.id == ctx.client.id {
            if filter.skip_me {
                continue;
            }
            // This client: reply first, then close.
            ctx.client.close_after_reply = true;
        } else {
            handle.kill();
            // Gone from CLIENT LIST at once, like Redis' synchronous freeClient.
            ctx.server.clients.unregister(handle.id);
        }
        killed += 1;
    }
    if !old_form {
        ctx.reply.int(killed);
    } else if killed == 0 {
        ctx.reply.error("ERR No such client");
    } else {
        ctx.reply.ok();
    }
}

/// ON or OFF, or a syntax error reply.
fn on_off(ctx: &mut Ctx, arg: &[u8]) -> Option<bool> {
    if args::is(arg, "ON") {
        Some(true)
    } else if args::is(arg, "OFF") {
        Some(false)
    } else {
        ctx.reply.error(errors::SYNTAX);
        None
    }
}

pub fn client_no_evict(ctx: &mut Ctx, argv: &[Bytes]) {
    if let Some(on) = on_off(ctx, &argv[2]) {
        ctx.client.no_evict = on;
        ctx.reply.ok();
    }
}

/// CLIENT REPLY: OFF and SKIP send no reply of their own (the connection drops the
/// replies of silenced commands).
pub fn client_reply(ctx: &mut Ctx, argv: &[Bytes]) {
    let client = &mut *ctx.client;
    if args::is(&argv[2], "ON") {
        client.reply_off = false;
        client.reply_skip = false;
        ctx.reply.ok();
    } else if args::is(&argv[2], "OFF") {
        client.reply_off = true;
    } else if args::is(&argv[2], "SKIP") {
        if !client.reply_off {
            client.reply_skip_next = true;
        }
    } else {
        ctx.reply.error(errors::SYNTAX);
    }
}

pub fn client_help(ctx: &mut Ctx, _argv: &[Bytes]) {
    super::server::help(
        ctx,
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    );
}
