//! Differential test: the same sessions are sent over raw sockets to ringkv and to a real
//! redis-server started here, and the replies must be byte-identical.
//!
//! The sessions are written as a script (see `SCRIPT`), one request per line:
//!
//! ```text
//! ## name             starts a new session (a new connection on each server; FLUSHALL first)
//! ##- name            starts a new session that keeps the data of the one before
//! SET k "a b"        a command, sent as a multibulk; its reply must be identical
//! shape: TTL k       same RESP shape only: type, nil-ness, array lengths, negative integers
//!                    exactly (TTL's -1/-2) and any non-negative integer for a non-negative one
//! type: INFO         same RESP type only
//! set: KEYS *        an array whose items may come in any order (hash-table order)
//! pairs: CONFIG GET *   an array of name/value pairs in any order
//! raw 2: "PING\r\nPING\r\n"   raw bytes, then this many replies, identical
//! close: "*abc\r\n"  raw bytes, then everything until the server closes, identical
//! sleep: 200         wait this many milliseconds
//! ```
//! Arguments are split on blanks; double quotes group words and take `\r \n \t \\ \" \xHH`.
//!
//! What is compared loosely, and why:
//! * INFO: the field set and the values (memory, uptime, run id, build) belong to each
//!   server; only the reply type is compared here, field names are tested in server_cmds.
//! * COMMAND COUNT/INFO/LIST/DOCS: ringkv implements a subset of Redis' 240 commands, so
//!   the tables differ in size and content; only the type is compared (the entries for the
//!   commands ringkv has are tested in server_cmds).
//! * TTL/PTTL of a key with an expiry: the value depends on when the command ran.
//! * KEYS and CONFIG GET with globs or several names: Redis orders the reply by its hash
//!   tables, which is not part of the protocol.
//! * CONFIG GET port/dir: each server has its own port and directory.

#[macro_use]
mod common;

use common::{show, Backend, Client, Resp, Server};
use std::time::Duration;

const SCRIPT: &str = r#"
## ping echo and errors
PING
PING hello
PING ""
PING a b
ECHO "hello world"
ECHO ""
ECHO
ECHO a b
NOSUCH
nosuch a "b c"
""
GET
GET a b
gEt
SET k
DEL
EXISTS
KEYS
TTL
PTTL a b
EXPIRE k
PEXPIRE
PERSIST
SELECT
DBSIZE x
FLUSHDB a b
CONFIG
CONFIG GET
CONFIG SET hz
CONFIG FOO
COMMAND FOO
COMMAND COUNT x

## set and get
GET k
SET k v
GET k
SET k "a b c"
GET k
SET "" ""
GET ""
EXISTS ""
SET bin "\x00\xff\r\n$1\r\n"
GET bin
SET big "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
GET big
set lower case
GET lower

## set conditions
SET k v NX
SET k w NX
GET k
SET k x XX
GET k
SET missing v XX
EXISTS missing
SET k v NX XX
SET k v XX NX
SET k v nx nx
SET k1 v1 NX GET
SET k1 v2 NX GET
SET k1 v3 XX GET
SET nokey v XX GET
SET k1 v4 GET
SET k1 v5 GET GET
GET k1

## set expiry options
SET k v EX 100
shape: TTL k
shape: PTTL k
SET k v PX 100000
shape: TTL k
SET k v EXAT 99999999999
shape: TTL k
SET k v PXAT 99999999999999
shape: PTTL k
SET k v KEEPTTL
shape: TTL k
SET k v
TTL k
SET k v EX 10 EX 200
shape: TTL k
SET k v ex 50 nx
SET k v EXAT 1
EXISTS k
GET k
SET k v PXAT 1 GET
EXISTS k
DBSIZE

## set expiry errors
SET k v EX 0
SET k v PX 0
SET k v EX -1
SET k v PX -1
SET k v EXAT 0
SET k v EXAT -1
SET k v PXAT 0
SET k v EX abc
SET k v EX 1.5
SET k v EX ""
SET k v EX 01
SET k v EX +5
SET k v EX " 5"
SET k v PX 1e3
SET k v EX 99999999999999999999
SET k v EX 9223372036854775807
SET k v EX 9999999999999999
SET k v PX 9223372036854775807
SET k v EX
SET k v PX
SET k v EXAT
SET k v FOO
SET k v EX 10 bar
SET k v EX 1 PX 1000
SET k v PX 1000 EX 1
SET k v EX 1 EXAT 99999999999
SET k v KEEPTTL EX 1
SET k v PX 5 KEEPTTL
SET k v EX 1 KEEPTTL
EXISTS k

## del exists dbsize
SET a 1
SET b 2
SET c 3
DBSIZE
DEL a a b missing
DEL a
EXISTS a
EXISTS c c c missing
EXISTS missing
DBSIZE
DEL c
DBSIZE

## keys globs
SET hello 1
SET hallo 1
SET hxllo 1
SET hllo 1
SET heeeello 1
SET a*b 1
SET axb 1
SET a?b 1
SET a[b 1
SET "a\\b" 1
SET "a]b" 1
SET A1 1
set: KEYS *
set: KEYS h?llo
set: KEYS h*llo
set: KEYS ***o
set: KEYS h[ae]llo
set: KEYS h[^e]llo
set: KEYS h[a-b]llo
set: KEYS h[e-a]llo
set: KEYS h[!e]llo
set: KEYS "a\\*b"
set: KEYS "a\\?b"
set: KEYS a[*]b
set: KEYS "a\\[b"
set: KEYS "a\\\\b"
set: KEYS "a[\\]]b"
set: KEYS a?b
set: KEYS [a-h]?
set: KEYS [A-Z][0-9]
set: KEYS HELLO
set: KEYS hello
set: KEYS ""
set: KEYS a[
set: KEYS h[el
set: KEYS *[
set: KEYS "*\\"
set: KEYS [^a-h]*
set: KEYS [-]*
set: KEYS *l[l-]o
set: KEYS nothing*

## select and flush
SET k db0
SELECT 1
GET k
SET k db1
DBSIZE
SELECT 15
SET k db15
SELECT 16
SELECT -1
SELECT 2147483648
SELECT abc
SELECT 1.0
SELECT ""
SELECT 0x1
SELECT 0 1
GET k
SELECT 0
GET k
SELECT 1
FLUSHDB
DBSIZE
SELECT 0
DBSIZE
FLUSHDB ASYNC
DBSIZE
SET k v
FLUSHDB sync
GET k
FLUSHDB LAZY
FLUSHDB ASYNC SYNC
SET k v
FLUSHALL foo
DBSIZE
SELECT 15
GET k
FLUSHALL
GET k
SELECT 0
DBSIZE
SET k v
FLUSHALL ASYNC
DBSIZE
SET k v
FLUSHALL SYNC
DBSIZE

## ttl and expire
TTL nokey
PTTL nokey
SET k v
TTL k
PTTL k
EXPIRE nokey 10
PEXPIRE nokey 10
EXPIRE k 100
shape: TTL k
shape: PTTL k
PEXPIRE k 50000
shape: PTTL k
PERSIST k
PERSIST k
PERSIST nokey
TTL k
EXPIRE k abc
EXPIRE k 1.5
EXPIRE k ""
PEXPIRE k 10s
EXPIRE k 9223372036854775807
EXPIRE k 9223372036854775
EXPIRE k -9223372036854775808
PEXPIRE k 9223372036854775807
TTL k
EXPIRE k 9223372036854
PEXPIRE k 99999999999999
PERSIST k
EXPIRE k 100 XX
EXPIRE k 100 GT
EXPIRE k 100 LT
EXPIRE k 200 NX
EXPIRE k 50 GT
EXPIRE k 200 gt
EXPIRE k 300 LT
PEXPIRE k 10000 lt
shape: TTL k
EXPIRE k 10 FOO
PEXPIRE k 10 NX bar
EXPIRE k 10 NX XX
EXPIRE k 10 NX GT
EXPIRE k 10 GT LT
EXPIRE k 0
EXISTS k
SET k v
EXPIRE k -1
TTL k
SET k v
PEXPIRE k -5
GET k
SET k v EX 100
DEL k
SET k v
TTL k

## lazy expiry
SET k v PX 50
SET k2 v
PEXPIRE k2 50
SET k3 v
sleep: 200
GET k
EXISTS k k2 k3
TTL k2
PTTL k2
set: KEYS *
SET k new NX
GET k

## config
CONFIG GET maxmemory
CONFIG GET MAXMEMORY
CONFIG GET databases
CONFIG GET dbfilename
CONFIG GET bind
shape: CONFIG GET port
shape: CONFIG GET dir
CONFIG GET nosuch
CONFIG GET zzz*
pairs: CONFIG GET *max-*-entries*
shape: CONFIG GET p?rt
pairs: CONFIG GET maxmemory databases nosuch maxmemory
pairs: CONFIG GET databases *databases* set-max-intset-entries
CONFIG SET maxmemory 10mb
CONFIG GET maxmemory
CONFIG SET maxmemory 1gb
CONFIG GET maxmemory
CONFIG SET maxmemory 5m
CONFIG GET maxmemory
CONFIG SET maxmemory 100KB
CONFIG GET maxmemory
CONFIG SET maxmemory 1.5gb
CONFIG SET maxmemory -1
CONFIG SET maxmemory 10xb
CONFIG SET hz 20
CONFIG GET hz
CONFIG SET maxmemory 0 hz 10
pairs: CONFIG GET maxmemory hz
CONFIG SET timeout 300
CONFIG GET timeout
CONFIG SET timeout 0
CONFIG SET nosuch 1
CONFIG SET hz 15 nosuch 5
CONFIG GET hz
CONFIG SET hz 10 maxmemory
CONFIG SET maxmemory abc
CONFIG SET hz abc
CONFIG SET timeout -1
CONFIG SET maxmemory-policy foo
CONFIG SET maxmemory 1 maxmemory 2
CONFIG SET databases 4
CONFIG GET maxmemory

## info and command
type: INFO
type: INFO server
type: INFO all
type: INFO default
type: INFO server clients
type: INFO keyspace
INFO nosuch
type: COMMAND COUNT
type: COMMAND LIST
type: COMMAND INFO get
type: COMMAND DOCS get
COMMAND INFO nosuch
COMMAND DOCS nosuch

## inline commands
raw 1: "PING\r\n"
raw 1: "ping\n"
raw 1: "PING hello\r\n"
raw 1: "SET k \"a b\"\r\n"
raw 1: "GET k\r\n"
raw 1: "SET k 'a b'\r\n"
raw 1: "ECHO \"\\x41\\n\"\r\n"
raw 1: "ECHO \"\\t\\r\\b\\a\\z\"\r\n"
raw 1: "ECHO \"say \\\"hi\\\"\"\r\n"
raw 1: "ECHO \"\\x4\"\r\n"
raw 1: "ECHO \"\"\r\n"
raw 1: "ECHO 'it\\'s'\r\n"
raw 1: "ECHO '\\x41'\r\n"
raw 1: "ECHO 'a\"b'\r\n"
raw 1: "  ECHO   hi  \r\n"
raw 1: "SET\tk\tv\r\n"
raw 1: "\r\n\n   \r\n*0\r\n*-1\r\nPING\r\n"
raw 3: "SET a 1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\nEXISTS a b\r\n"
raw 1: "NOSUCH a b\r\n"
raw 1: "GET\r\n"

## pipelined mix
raw 6: "*3\r\n$3\r\nSET\r\n$1\r\np\r\n$1\r\n1\r\nGET p\r\n*2\r\n$3\r\nDEL\r\n$1\r\np\r\nNOSUCH\r\n*1\r\n$3\r\nGET\r\nPING\r\n"
raw 3: "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n*1\r\n$0\r\n\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n"

## unknown command truncation
XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX
FOO aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b
FOO a1 a2 a3 a4 a5 a6 a7 a8 a9 a10 a11 a12 a13 a14 a15 a16 a17 a18 a19 a20 a21 a22 a23 a24 a25 a26 a27 a28 a29 a30 a31 a32 a33 a34 a35 a36 a37 a38 a39 a40
"FO\r\nO" "a\nb"

## protocol error invalid multibulk length
close: "*1\r\n$4\r\nPING\r\n*abc\r\n"

## protocol error multibulk length with junk
close: "*1x\r\n"

## protocol error empty multibulk length
close: "*\r\n"

## protocol error multibulk length over int max
close: "*2147483648\r\n"

## protocol error plus sign in multibulk length
close: "*+1\r\n$4\r\nPING\r\n"

## protocol error leading zero in multibulk length
close: "*01\r\n$4\r\nPING\r\n"

## protocol error invalid bulk length
close: "*1\r\n$abc\r\n"

## protocol error negative bulk length
close: "*1\r\n$-1\r\n"

## protocol error empty bulk length
close: "*1\r\n$\r\n"

## protocol error leading zero in bulk length
close: "*1\r\n$04\r\nPING\r\n"

## protocol error bulk over proto-max-bulk-len
close: "*2\r\n$4\r\nECHO\r\n$536870913\r\n"

## protocol error bulk over a proto-max-bulk-len set at runtime
CONFIG SET proto-max-bulk-len 1048576
close: "*2\r\n$4\r\nECHO\r\n$1048577\r\n"

##- proto-max-bulk-len back to its default
CONFIG SET proto-max-bulk-len 536870912
CONFIG GET proto-max-bulk-len

## protocol error expected dollar
close: "*1\r\nfoo\r\n"

## protocol error expected dollar got colon
close: "*2\r\n$4\r\nECHO\r\n:1\r\n"

## protocol error unbalanced double quote
close: "SET k \"a\r\n"

## protocol error unbalanced single quote
close: "SET k 'a\r\n"

## protocol error text after closing quote
close: "SET k \"a\"b\r\n"

## protocol error quote inside a word
close: "ECHO a\"b\r\n"

## protocol error after a good pipeline
close: "SET x 1\r\n*2\r\n$3\r\nGET\r\n$1\r\nx\r\nPING\r\n*-\r\nSET y 1\r\n"

##- what ran before the error is kept, what followed it was dropped
EXISTS x
EXISTS y

##- quit
SET q 1
QUIT
close: ""

##- quit in a pipeline
close: "*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n2\r\n*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n3\r\n"

##- quit with arguments
close: "*2\r\n$4\r\nquit\r\n$3\r\nnow\r\n"

##- the command after quit was dropped
GET q
"#;

/// How one request's replies are compared.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Compare {
    Exact,
    Shape,
    Type,
    Set,
    Pairs,
}

#[derive(Debug)]
enum Step {
    /// A command (multibulk), one reply.
    Cmd(Vec<Vec<u8>>, Compare),
    /// Raw bytes, then this many replies.
    Raw(Vec<u8>, usize),
    /// Raw bytes, then everything until the server closes the connection.
    Close(Vec<u8>),
    Sleep(u64),
}

struct Session {
    name: String,
    flush: bool,
    steps: Vec<(usize, String, Step)>,
}

/// Splits a script line into arguments (blanks separate; double quotes group and escape).
fn split_args(line: &str) -> Vec<Vec<u8>> {
    let bytes = line.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        let mut arg = Vec::new();
        if bytes[i] == b'"' {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => panic!("unterminated quote in script line {line:?}"),
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        let (b, used) = match bytes[i + 1] {
                            b'r' => (b'\r', 2),
                            b'n' => (b'\n', 2),
                            b't' => (b'\t', 2),
                            b'x' => {
                                let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap();
                                (u8::from_str_radix(hex, 16).expect("\\xHH"), 4)
                            }
                            other => (other, 2),
                        };
                        arg.push(b);
                        i += used;
                    }
                    Some(&b) => {
                        arg.push(b);
                        i += 1;
                    }
                }
            }
        } else {
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                arg.push(bytes[i]);
                i += 1;
            }
        }
        args.push(arg);
    }
    args
}

fn one_arg(rest: &str) -> Vec<u8> {
    let mut args = split_args(rest);
    assert_eq!(args.len(), 1, "expected one quoted argument in {rest:?}");
    args.pop().unwrap()
}

fn parse_script(script: &str) -> Vec<Session> {
    let mut sessions: Vec<Session> = Vec::new();
    for (n, line) in script.lines().enumerate() {
        let lineno = n + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let header = match line.strip_prefix("## ") {
            Some(name) => Some((name, true)),
            None => line.strip_prefix("##- ").map(|name| (name, false)),
        };
        if let Some((name, flush)) = header {
            sessions.push(Session {
                name: name.to_string(),
                flush,
                steps: Vec::new(),
            });
            continue;
        }
        let step = if let Some(rest) = line.strip_prefix("shape: ") {
            Step::Cmd(split_args(rest), Compare::Shape)
        } else if let Some(rest) = line.strip_prefix("type: ") {
            Step::Cmd(split_args(rest), Compare::Type)
        } else if let Some(rest) = line.strip_prefix("set: ") {
            Step::Cmd(split_args(rest), Compare::Set)
        } else if let Some(rest) = line.strip_prefix("pairs: ") {
            Step::Cmd(split_args(rest), Compare::Pairs)
        } else if let Some(rest) = line.strip_prefix("close: ") {
            Step::Close(one_arg(rest))
        } else if let Some(rest) = line.strip_prefix("sleep: ") {
            Step::Sleep(rest.parse().expect("sleep: milliseconds"))
        } else if let Some(rest) = line.strip_prefix("raw ") {
            let (count, data) = rest.split_once(": ").expect("raw N: \"bytes\"");
            Step::Raw(one_arg(data), count.parse().expect("raw N"))
        } else {
            Step::Cmd(split_args(line), Compare::Exact)
        };
        sessions
            .last_mut()
            .expect("a ## session line first")
            .steps
            .push((lineno, line.to_string(), step));
    }
    sessions
}

/// Whether two replies have the same shape (see the module doc).
fn same_shape(a: &Resp, b: &Resp) -> bool {
    match (a, b) {
        (Resp::Int(x), Resp::Int(y)) => x == y || (*x >= 0 && *y >= 0),
        (Resp::Bulk(x), Resp::Bulk(y)) => x.is_some() == y.is_some(),
        (Resp::Array(Some(x)), Resp::Array(Some(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_shape(p, q))
        }
        (Resp::Array(None), Resp::Array(None)) => true,
        (Resp::Simple(x), Resp::Simple(y)) => x == y,
        (Resp::Error(x), Resp::Error(y)) => x == y,
        _ => false,
    }
}

/// Sorted chunks of an array reply (chunk 1 for KEYS, 2 for CONFIG GET pairs).
fn sorted_chunks(r: &Resp, chunk: usize) -> Option<Vec<Vec<Resp>>> {
    let Resp::Array(Some(items)) = r else {
        return None;
    };
    if !items.chunks_exact(chunk).remainder().is_empty() {
        return None;
    }
    let mut chunks: Vec<Vec<Resp>> = items.chunks(chunk).map(<[Resp]>::to_vec).collect();
    chunks.sort();
    Some(chunks)
}

fn replies_match(ours: &[u8], theirs: &[u8], how: Compare) -> bool {
    if how == Compare::Exact || ours == theirs {
        return ours == theirs;
    }
    if ours.first() != theirs.first() {
        return false;
    }
    let (a, b) = (Resp::parse(ours), Resp::parse(theirs));
    match how {
        Compare::Exact => unreachable!(),
        Compare::Type => !matches!(a, Resp::Error(_)),
        Compare::Shape => same_shape(&a, &b),
        Compare::Set => {
            sorted_chunks(&a, 1).is_some() && sorted_chunks(&a, 1) == sorted_chunks(&b, 1)
        }
        Compare::Pairs => {
            sorted_chunks(&a, 2).is_some() && sorted_chunks(&a, 2) == sorted_chunks(&b, 2)
        }
    }
}

/// What a step got back: the raw bytes, or why there are none.
fn run_step(c: &mut Client, step: &Step) -> Result<Vec<u8>, String> {
    match step {
        Step::Cmd(args, _) => {
            c.send_cmd(args);
            c.try_read_reply().map_err(|e| e.to_string())
        }
        Step::Raw(bytes, count) => {
            c.send(bytes);
            let mut out = Vec::new();
            for _ in 0..*count {
                out.extend(
                    c.try_read_reply()
                        .map_err(|e| format!("{e}; got so far \"{}\"", show(&out)))?,
                );
            }
            Ok(out)
        }
        Step::Close(bytes) => {
            if !bytes.is_empty() {
                c.send(bytes);
            }
            Ok(c.read_to_eof())
        }
        Step::Sleep(ms) => {
            std::thread::sleep(Duration::from_millis(*ms));
            Ok(Vec::new())
        }
    }
}

/// The sessions of `SCRIPT` and of every `tests/scripts/*.redis` file (same format; one
/// file per command family), in file-name order.
fn all_sessions() -> Vec<Session> {
    let mut text = SCRIPT.to_string();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "redis"));
    files.sort();
    for file in files {
        text.push('\n');
        text.push_str(
            &std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
        );
    }
    parse_script(&text)
}

/// Runs every session on both servers and returns the differences found.
fn differences(ours: &Server, reference: &Server) -> (usize, Vec<String>) {
    let mut diffs = Vec::new();
    let mut compared = 0;
    for session in all_sessions() {
        let mut a = ours.client();
        let mut b = reference.client();
        // A missing reply costs this long, not the default 10 s, then skips the session.
        a.set_timeout(Duration::from_secs(3));
        if session.flush {
            a.expect(&["FLUSHALL"], "+OK\r\n");
            b.expect(&["FLUSHALL"], "+OK\r\n");
        }
        for (lineno, line, step) in &session.steps {
            let how = match step {
                Step::Cmd(_, how) => *how,
                _ => Compare::Exact,
            };
            let theirs = run_step(&mut b, step)
                .unwrap_or_else(|e| panic!("redis-server failed line {lineno} `{line}`: {e}"));
            compared += 1;
            match run_step(&mut a, step) {
                Ok(got) if replies_match(&got, &theirs, how) => {}
                Ok(got) => diffs.push(format!(
                    "[{}] line {lineno} `{line}` ({how:?})\n    redis:  \"{}\"\n    ringkv: \"{}\"",
                    session.name,
                    show(&theirs),
                    show(&got)
                )),
                Err(e) => {
                    diffs.push(format!(
                        "[{}] line {lineno} `{line}`\n    redis:  \"{}\"\n    ringkv: {e} (rest of the session skipped)",
                        session.name,
                        show(&theirs)
                    ));
                    break;
                }
            }
        }
    }
    (compared, diffs)
}

fn ringkv_replies_like_redis_server(backend: Backend) {
    if !common::redis_server_available() {
        return;
    }
    let reference = Server::start_redis();
    let ours = Server::start(backend);
    let (compared, diffs) = differences(&ours, &reference);
    assert!(compared > 300, "only {compared} requests compared");
    if !diffs.is_empty() {
        panic!(
            "{} of {compared} replies differ from redis-server's:\n{}",
            diffs.len(),
            diffs.join("\n")
        );
    }
}

#[test]
fn script_parses_into_sessions_of_requests() {
    let sessions = parse_script(SCRIPT);
    assert!(sessions.len() > 30);
    assert_eq!(split_args(r#"SET "a b" c"#), [&b"SET"[..], b"a b", b"c"]);
    assert_eq!(split_args(r#""\x00\r\n\"\\""#), [&b"\x00\r\n\"\\"[..]]);
    assert_eq!(split_args(r#""""#), [&b""[..]]);
}

#[test]
fn ringkv_uring_replies_like_redis_server() {
    ringkv_replies_like_redis_server(Backend::Uring);
}

#[test]
fn ringkv_epoll_replies_like_redis_server() {
    ringkv_replies_like_redis_server(Backend::Epoll);
}
