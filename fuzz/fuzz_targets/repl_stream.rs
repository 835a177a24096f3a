//! A replica fed arbitrary bytes as if from its master: one session of the real link
//! (`replica::run_session_over`: handshake, PSYNC, snapshot or +CONTINUE, the stream) runs
//! in-process over the input; what the replica writes is dropped, and the end of the input
//! is the master closing the link. A panic or a hang is a finding.
//!
//! The first byte picks the run (so mutations get past the handshake to the snapshot
//! loader and the stream applier):
//! - `% 4 == 0`: a valid handshake and `+FULLRESYNC` are spliced before the rest, which is
//!   the snapshot (`$<len>` or `$EOF:<mark>`) and the stream;
//! - `% 4 == 1`: the same and a valid snapshot of redis-server 7.0.15; the rest is the
//!   stream;
//! - `% 4 == 2`: a replica with a cached position gets the handshake and `+CONTINUE`;
//!   the rest is the stream;
//! - `% 4 == 3`: the whole input as it is (captured traffic starts with `+PONG`, 0x2b).
//!
//! Bits 2-4 of the first byte choose how the input is cut into reads.
//!
//! Checked after the session:
//! - it ended with an error, or cleanly only once the whole input was read;
//! - the replica's offset grew by no more than the bytes fed, and after a snapshot or
//!   `+CONTINUE` spliced on, its own stream (what its replicas get) is exactly the start
//!   of the stream it was fed;
//! - every database is consistent: after a full SCAN, DBSIZE equals the keys it returned;
//! - without a completed full sync, the key set before the session is intact.
#![no_main]

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use ringkv::cmd::{self, Ctx};
use ringkv::config::Config;
use ringkv::repl::replica;
use ringkv::resp::Reply;
use ringkv::server::client::{Client, ClientHandle};
use ringkv::server::state::Server;

const DATABASES: usize = 4;
const BACKLOG: usize = 1 << 20;
/// The history a `+CONTINUE` run continues.
const CACHED_REPLID: &str = "0123456789abcdef0123456789abcdef01234567";
const CACHED_OFFSET: u64 = 1000;
/// Set before the session; a failed full sync must leave it.
const SEED_KEY: &[u8] = b"__fuzz_seed__";
const HANDSHAKE: &[u8] = b"+PONG\r\n+OK\r\n+OK\r\n";
const FULLRESYNC: &[u8] = b"+FULLRESYNC fedcba9876543210fedcba9876543210fedcba98 0\r\n";
/// SAVE of redis-server 7.0.15 with a string, a list, a hash, a zset, an intset in db 0
/// and a key in db 1.
const SNAPSHOT: &[u8] = b"REDIS0010\xfa\x09redis-ver\x067.0.15\xfa\x0aredis-bits\xc0@\xfa\x05ctime\xc2\x03\xb0\x07k\xfa\x08used-mem\xc2hh\x1d\x00\xfa\x0erepl-stream-db\xc0\x01\xfa\x07repl-id(dfbd539d6af1fb1fd5e04102e1d2c54eb89aeb23\xfa\x0brepl-offset\xc2U\xd8\x01\x00\xfa\x08aof-base\xc0\x00\xfe\x00\xfb\x05\x00\x10\x01h\x0d\x0d\x00\x00\x00\x02\x00\x81f\x02\x81v\x02\xff\x00\x03str\x05hello\x12\x04list\x01\x02\x0d\x0d\x00\x00\x00\x02\x00\x81a\x02\x81b\x02\xff\x11\x01z\x0c\x0c\x00\x00\x00\x02\x00\x81m\x02\x01\x01\xff\x0b\x01s\x0a\x02\x00\x00\x00\x01\x00\x00\x00\x07\x00\xfe\x01\xfb\x01\x00\x00\x03one\xc0\x01\xffZ\x0aG\xb5\xa3\x86J9";
/// Largest read the master's side returns, by bits 2-4 of the first byte.
const CHUNKS: [usize; 8] = [usize::MAX, 1, 2, 5, 16, 100, 1024, 4096];

#[derive(Clone, Copy, PartialEq)]
enum Run {
    Snapshot,
    Stream,
    Continue,
    Raw,
}

/// The master's side of the link: the input in reads of at most `chunk` bytes, then end
/// of stream; what the replica writes is dropped.
struct FromMaster<'a, 'd> {
    rest: &'a mut &'d [u8],
    chunk: usize,
}

impl Read for FromMaster<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = out.len().min(self.chunk);
        self.rest.read(&mut out[..n])
    }
}

impl Write for FromMaster<'_, '_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A client of the in-process server, running one command at a time.
struct Checker<'s> {
    server: &'s Server,
    client: Client,
    reply: Reply,
}

impl Checker<'_> {
    fn new(server: &Server) -> Checker<'_> {
        let addr = "127.0.0.1:1".parse().expect("a literal address");
        let handle = ClientHandle::new(server.stats.next_client_id(), addr, addr, -1);
        Checker {
            server,
            client: Client::new(Arc::new(handle), false),
            reply: Reply::new(),
        }
    }

    fn run(&mut self, args: &[&[u8]]) -> &[u8] {
        let argv: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        self.reply.buf.clear();
        let mut ctx = Ctx {
            server: self.server,
            client: &mut self.client,
            reply: &mut self.reply,
        };
        cmd::execute(&mut ctx, &argv);
        &self.reply.buf
    }

    /// The keys a full SCAN of `db` returns and DBSIZE after it (the SCAN reaps expired
    /// keys on the way, so the two must agree).
    fn check_db(&mut self, db: usize) {
        assert_eq!(
            self.run(&[b"SELECT", db.to_string().as_bytes()]),
            b"+OK\r\n"
        );
        let mut keys = HashSet::new();
        let mut cursor = b"0".to_vec();
        for round in 0.. {
            assert!(round < 100_000, "SCAN does not finish in db {db}");
            let reply = self.run(&[b"SCAN", &cursor, b"COUNT", b"50"]).to_vec();
            let (next, batch) = parse_scan(&reply).expect("a well-formed SCAN reply");
            keys.extend(batch);
            cursor = next;
            if cursor == b"0" {
                break;
            }
        }
        let dbsize = self.run(&[b"DBSIZE"]).to_vec();
        assert_eq!(
            dbsize,
            format!(":{}\r\n", keys.len()).into_bytes(),
            "DBSIZE after a full SCAN of db {db} returned {} keys",
            keys.len()
        );
    }
}

/// `*2 $<cursor> *<n> $<key>...` of a SCAN reply.
fn parse_scan(reply: &[u8]) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    let mut lines = Lines(reply);
    (lines.line()? == b"*2").then_some(())?;
    let cursor = lines.bulk()?;
    let count: usize = std::str::from_utf8(lines.line()?.strip_prefix(b"*")?)
        .ok()?
        .parse()
        .ok()?;
    let keys = (0..count).map(|_| lines.bulk()).collect::<Option<_>>()?;
    lines.0.is_empty().then_some((cursor, keys))
}

struct Lines<'a>(&'a [u8]);

impl<'a> Lines<'a> {
    fn line(&mut self) -> Option<&'a [u8]> {
        let end = self.0.windows(2).position(|w| w == b"\r\n")?;
        let line = &self.0[..end];
        self.0 = &self.0[end + 2..];
        Some(line)
    }

    fn bulk(&mut self) -> Option<Vec<u8>> {
        let len: usize = std::str::from_utf8(self.line()?.strip_prefix(b"$")?)
            .ok()?
            .parse()
            .ok()?;
        let data = self.0.get(..len)?.to_vec();
        (self.0.get(len..len + 2)? == b"\r\n").then_some(())?;
        self.0 = &self.0[len + 2..];
        Some(data)
    }
}

/// The offsets announced after `replid` on a line of `fed`: where a full sync to
/// `replid` may have started the replica's stream.
fn announced_offsets(fed: &[u8], replid: &str) -> Vec<u64> {
    let id = replid.as_bytes();
    fed.windows(id.len())
        .enumerate()
        .filter(|(_, w)| *w == id)
        .filter_map(|(at, _)| {
            let line = fed[at + id.len()..].split(|&b| b == b'\n').next()?;
            String::from_utf8_lossy(line).trim().parse::<u64>().ok()
        })
        .collect()
}

fn replica_server(cached: bool) -> Server {
    let config = Arc::new(Config::new());
    let databases = DATABASES.to_string();
    let backlog = BACKLOG.to_string();
    config
        .set_many(
            &[
                ("databases", databases.as_str()),
                ("save", ""),
                // A session logs a dozen lines: they would cost more than the run.
                ("loglevel", "nothing"),
                ("repl-backlog-size", backlog.as_str()),
                // SETRANGE k 500000000 x from the stream would build 500 MB per run.
                ("proto-max-bulk-len", "1mb"),
            ],
            true,
        )
        .expect("valid start-up settings");
    let server = Server::for_embedding(config);
    assert_eq!(
        Checker::new(&server).run(&[b"SET", SEED_KEY, b"kept"]),
        b"+OK\r\n"
    );
    if cached {
        server
            .repl
            .stream()
            .reset(CACHED_REPLID, CACHED_OFFSET, BACKLOG);
    }
    // Not at start-up: the replica offers its history (PSYNC <replid> <offset+1>);
    // at start-up it has none (PSYNC ? -1).
    replica::set_master(&server, Some(("fuzz-master".into(), 6379)), !cached);
    server
}

fn run(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let run = [Run::Snapshot, Run::Stream, Run::Continue, Run::Raw][usize::from(mode % 4)];
    let mut fed = Vec::with_capacity(data.len() + SNAPSHOT.len() + 100);
    match run {
        Run::Snapshot | Run::Stream => {
            fed.extend_from_slice(HANDSHAKE);
            fed.extend_from_slice(FULLRESYNC);
            if run == Run::Stream {
                fed.extend_from_slice(format!("${}\r\n", SNAPSHOT.len()).as_bytes());
                fed.extend_from_slice(SNAPSHOT);
            }
            fed.extend_from_slice(body);
        }
        Run::Continue => {
            fed.extend_from_slice(HANDSHAKE);
            fed.extend_from_slice(b"+CONTINUE\r\n");
            fed.extend_from_slice(body);
        }
        Run::Raw => fed.extend_from_slice(data),
    }
    // Small reads on a big input only up to about 64 reads: each read costs a buffer's
    // worth of zeroing, and the splits that matter are the first ones.
    let chunk = CHUNKS[usize::from(mode >> 2) % CHUNKS.len()].max(fed.len() / 64);

    let server = replica_server(run == Run::Continue);
    let replid_before = server.repl.stream().replid.clone();
    let offset_before = server.repl.stream().offset();
    let mut rest = &fed[..];
    let outcome = replica::run_session_over(
        &server,
        FromMaster {
            rest: &mut rest,
            chunk,
        },
    );
    if outcome.is_ok() {
        assert!(rest.is_empty(), "a clean end before the master closed");
    }

    let (replid, offset) = {
        let stream = server.repl.stream();
        (stream.replid.clone(), stream.offset())
    };
    let synced = replid != replid_before;
    // Where the replica's stream may have started: the offset of the full sync or of the
    // cached position.
    let bases = match run {
        Run::Stream => {
            assert!(synced, "the spliced snapshot was not loaded: {outcome:?}");
            vec![0]
        }
        Run::Snapshot if synced => vec![0],
        Run::Raw if synced => announced_offsets(&fed, &replid),
        Run::Continue => vec![CACHED_OFFSET],
        Run::Snapshot | Run::Raw => vec![offset_before],
    };
    assert!(
        bases
            .iter()
            .any(|&base| offset >= base && offset - base <= fed.len() as u64),
        "offset {offset}: not within the {} bytes fed of a start in {bases:?}",
        fed.len()
    );
    if matches!(run, Run::Stream | Run::Continue) {
        let stream = server.repl.stream();
        let backlog = stream.backlog().expect("a replica's backlog after a sync");
        let mut own = Vec::new();
        backlog
            .read_from(bases[0], BACKLOG, &mut own)
            .expect("the backlog holds the whole stream");
        assert!(
            body.get(..own.len()) == Some(&own[..]),
            "the replica's own stream is not the start of what it was fed"
        );
    }
    if !synced && run != Run::Continue {
        assert_eq!(offset, offset_before, "a stream applied without a sync");
        let mut checker = Checker::new(&server);
        assert_eq!(
            checker.run(&[b"GET", SEED_KEY]),
            b"$4\r\nkept\r\n",
            "a failed sync lost the previous data: {outcome:?}"
        );
    }

    // Checked as on a master: SCAN reaps expired keys instead of hiding them.
    server.keyspace.hide_expired.store(false, Ordering::Relaxed);
    let mut checker = Checker::new(&server);
    for db in 0..DATABASES {
        checker.check_db(db);
    }
}

fuzz_target!(|data: &[u8]| run(data));
