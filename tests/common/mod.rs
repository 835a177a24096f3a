//! Test harness shared by every integration test file (`mod common;`).
//!
//! * [`Server`] starts the server under test on a free loopback port in a temporary
//!   directory and kills it on drop (printing its log when the test is failing).
//!   By default that is `ringkv` (the binary cargo built); with `RINGKV_TEST_TARGET=redis`
//!   it is the real `redis-server`, so every expectation here can be checked against Redis
//!   itself: `RINGKV_TEST_TARGET=redis cargo test`.
//! * [`Client`] is a raw-socket RESP client: it sends exactly the bytes a test gives and
//!   reads back exactly one complete reply at a time, as raw bytes.
//! * [`backend_tests!`] turns each test function into a test per I/O backend
//!   (`name::uring` and `name::epoll`).
//! * [`redis_server_available`] decides whether tests that need the real redis-server (and
//!   its tools) can run: they print a notice and return when it is missing, unless
//!   `RINGKV_REQUIRE_REDIS=1`, which makes them fail instead.
#![allow(dead_code)]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a client waits for a reply before the test fails. Generous on purpose: tests
/// assert behaviour, never speed.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server may take to start accepting connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);
/// Server arguments only ringkv understands: left out when the target is redis-server.
const RINGKV_ONLY_ARGS: &[&str] = &["threads", "io-backend"];

/// The I/O backend ringkv is started with (`--io-backend`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Uring,
    Epoll,
}

impl Backend {
    pub fn arg(self) -> &'static str {
        match self {
            Backend::Uring => "uring",
            Backend::Epoll => "epoll",
        }
    }
}

/// Which server binary the tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Ringkv,
    Redis,
}

/// `RINGKV_TEST_TARGET=redis` runs the suite against the real redis-server.
pub fn target() -> Target {
    match std::env::var("RINGKV_TEST_TARGET").as_deref() {
        Ok("redis") | Ok("redis-server") => Target::Redis,
        Ok("") | Ok("ringkv") | Err(_) => Target::Ringkv,
        Ok(other) => panic!("RINGKV_TEST_TARGET={other:?}: expected `ringkv` or `redis`"),
    }
}

/// True when the tests run against ringkv itself.
pub fn testing_ringkv() -> bool {
    target() == Target::Ringkv
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// Whether `redis-server` (and so its tools) can be used. When it is missing this prints
/// "skipping: redis-server not on PATH" and returns false, so the caller returns early;
/// with `RINGKV_REQUIRE_REDIS=1` (CI) a missing redis-server fails the test instead.
pub fn redis_server_available() -> bool {
    tool_available("redis-server")
}

/// Like [`redis_server_available`] for any of redis' programs (`redis-cli`, ...).
pub fn tool_available(program: &str) -> bool {
    if on_path(program) {
        return true;
    }
    if std::env::var("RINGKV_REQUIRE_REDIS").as_deref() == Ok("1") {
        panic!("{program} is not on PATH and RINGKV_REQUIRE_REDIS=1");
    }
    eprintln!("skipping: {program} not on PATH");
    false
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static PORTS_HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A loopback port that was free a moment ago and that this process has not used yet.
pub fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut used = PORTS_HANDED_OUT.lock().unwrap();
        if used.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
}

/// Whether process `pid` holds a socket listening on TCP `port` (Linux: /proc/net/tcp*
/// maps listening sockets to inodes, /proc/PID/fd links to `socket:[inode]`). Where /proc
/// cannot be read this answers true, and a successful connect is taken as enough.
fn listens_on(pid: u32, port: u16) -> bool {
    let mut inodes = Vec::new();
    let mut readable = false;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        readable = true;
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            if cols.len() < 10 || cols[3] != "0A" {
                continue;
            }
            let local_port = cols[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) {
                inodes.push(format!("socket:[{}]", cols[9]));
            }
        }
    }
    if !readable {
        return true;
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .map(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
            .unwrap_or(false)
    })
}

/// A fresh, empty directory under the system temp dir, removed by [`Server`]'s drop.
pub fn fresh_dir(tag: &str) -> PathBuf {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let dir = std::env::temp_dir().join(format!(
        "ringkv-test-{tag}-{}-{n}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A running server (ringkv or redis-server), killed when dropped.
pub struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
    log: PathBuf,
    what: String,
    program: String,
    args: Vec<String>,
}

impl Server {
    /// The server under test (see [`target`]) with the given backend.
    pub fn start(backend: Backend) -> Server {
        Server::start_with(backend, &[])
    }

    /// Like [`Server::start`] with extra `--name value` settings (`&[("threads", "2")]`).
    /// Settings only ringkv knows (`threads`, `io-backend`) are not passed to redis-server.
    pub fn start_with(backend: Backend, settings: &[(&str, &str)]) -> Server {
        match target() {
            Target::Ringkv => Server::start_ringkv(backend, settings),
            Target::Redis => Server::start_redis_with(settings),
        }
    }

    /// ringkv, whatever the target: used by the differential test.
    pub fn start_ringkv(backend: Backend, settings: &[(&str, &str)]) -> Server {
        let mut args = vec!["--io-backend".to_string(), backend.arg().to_string()];
        for (name, value) in settings {
            args.push(format!("--{name}"));
            args.push(value.to_string());
        }
        Server::spawn(
            env!("CARGO_BIN_EXE_ringkv"),
            &args,
            &format!("ringkv ({})", backend.arg()),
        )
    }

    /// The real redis-server, whatever the target (callers check
    /// [`redis_server_available`] first).
    pub fn start_redis() -> Server {
        Server::start_redis_with(&[])
    }

    /// The real redis-server with extra `--name value` settings (later ones win, so `dir`
    /// and `dbfilename` can point it at a dump to load).
    pub fn start_redis_with(settings: &[(&str, &str)]) -> Server {
        let mut args: Vec<String> = ["--save", "", "--appendonly", "no"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for (name, value) in settings {
            if RINGKV_ONLY_ARGS.contains(name) {
                continue;
            }
            args.push(format!("--{name}"));
            args.push(value.to_string());
        }
        Server::spawn("redis-server", &args, "redis-server")
    }

    /// Starts `program --port P --bind 127.0.0.1 --dir D <args>`, retrying on another port
    /// when it exits before accepting connections (the port may have been taken meanwhile).
    fn spawn(program: &str, args: &[String], what: &str) -> Server {
        let dir = fresh_dir(if what.starts_with("redis") {
            "redis"
        } else {
            "ringkv"
        });
        let mut last_log = String::new();
        for attempt in 1..=5 {
            let port = free_port();
            let log = dir.join(format!("server-{attempt}.log"));
            let mut server = Server {
                child: launch(program, args, port, &dir, &log),
                port,
                dir: dir.clone(),
                log,
                what: what.to_string(),
                program: program.to_string(),
                args: args.to_vec(),
            };
            match server.wait_until_accepting() {
                Ok(()) => return server,
                Err(why) => {
                    last_log = format!("attempt {attempt} on port {port}: {why}\n{}", server.log());
                    server.kill();
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!("{what} did not come up after 5 attempts; last log:\n{last_log}");
    }

    fn wait_until_accepting(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("{} exited early with {status}", self.what));
            }
            // Another program (a test run beside this one) may have taken the port in the
            // meantime: only a listener of our own child counts.
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && listens_on(self.child.id(), self.port)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not accept within {STARTUP_TIMEOUT:?}",
                    self.what
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (SIGKILL: nothing is saved) and starts the same program with the
    /// same arguments on the same port and directory: the same address, a new process.
    /// Start-up is retried for a while: a killed io_uring process's listening socket is
    /// closed by the kernel asynchronously, after the process is gone.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        for attempt in 1.. {
            let log = self.dir.join(format!("server-restart-{attempt}.log"));
            self.child = launch(&self.program, &self.args, self.port, &self.dir, &log);
            self.log = log;
            match self.wait_until_accepting() {
                Ok(()) => return,
                Err(why) if Instant::now() > deadline => {
                    panic!(
                        "{} did not restart on port {}: {why}\n{}",
                        self.what,
                        self.port,
                        self.log()
                    )
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// One field of `INFO section` ("" when absent), on a new connection.
    pub fn info(&self, section: &str, field: &str) -> String {
        info_field(&self.client().cmd(&["INFO", section]), field).unwrap_or_default()
    }

    /// Sends signal `name` (`STOP`, `CONT`, ...) to the server process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {}", self.pid());
        if name == "STOP" {
            // Delivery is asynchronous: a thread on another core may still run for a
            // moment. Stopped means every thread is in state T.
            wait_for(STARTUP_TIMEOUT, "the process to stop", || {
                self.threads_states()
                    .iter()
                    .all(|&state| state == 'T')
                    .then_some(())
            });
        }
    }

    /// The scheduler state letter of each of the server's threads (from /proc).
    fn threads_states(&self) -> Vec<char> {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.pid())) else {
            return Vec::new();
        };
        tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
            // pid (comm) S ...: the state follows the last ')'.
            .filter_map(|stat| stat.rsplit_once(')')?.1.trim_start().chars().next())
            .collect()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The OS process id of the server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// A new raw-socket client.
    pub fn client(&self) -> Client {
        Client::connect(self.port)
    }

    /// A new connection from the `redis` crate.
    pub fn redis_conn(&self) -> redis::Connection {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .expect("redis::Client::open");
        let conn = client
            .get_connection_with_timeout(REPLY_TIMEOUT)
            .expect("redis crate: connect");
        conn.set_read_timeout(Some(REPLY_TIMEOUT)).unwrap();
        conn.set_write_timeout(Some(REPLY_TIMEOUT)).unwrap();
        conn
    }

    /// Panics (with the log) unless the server still runs and answers PING on a new
    /// connection.
    pub fn assert_healthy(&mut self) {
        assert!(
            self.is_running(),
            "{} is no longer running; log:\n{}",
            self.what,
            self.log()
        );
        let mut c = self.client();
        c.expect(&["PING"], "+PONG\r\n");
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let still_running = self.is_running();
        self.kill();
        if std::thread::panicking() {
            let log = self.log();
            let tail_start = log.len().saturating_sub(8000);
            let tail_start = (tail_start..log.len())
                .find(|&i| log.is_char_boundary(i))
                .unwrap_or(log.len());
            eprintln!(
                "---- {} on port {} ({}) log, last {} bytes ----\n{}\n---- end of log ----",
                self.what,
                self.port,
                if still_running {
                    "was running"
                } else {
                    "had exited"
                },
                log.len() - tail_start,
                &log[tail_start..]
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `program --port P --bind 127.0.0.1 --dir D <args>` with its output in `log`.
fn launch(program: &str, args: &[String], port: u16, dir: &Path, log: &Path) -> Child {
    let out = std::fs::File::create(log).expect("create log file");
    let err = out.try_clone().unwrap();
    Command::new(program)
        .arg("--port")
        .arg(port.to_string())
        .arg("--bind")
        .arg("127.0.0.1")
        .arg("--dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"))
}

/// Generates, for each named test function `fn name(srv: &mut Server)`, one test per I/O
/// backend: `name::uring` and `name::epoll`, each with its own freshly started server.
/// Server settings follow `with`:
///
/// ```ignore
/// fn ping_replies_pong(srv: &mut Server) {
///     srv.client().expect(&["PING"], "+PONG\r\n");
/// }
///
/// backend_tests! {
///     ping_replies_pong,
///     many_clients_at_once with [("threads", "2")],
/// }
/// ```
/// A test function left out of the list is dead code, which clippy's `-D warnings` rejects.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident $(with [$($setting:expr),* $(,)?])?),* $(,)?) => {
        $(
            mod $name {
                // Settings may name constants of the test file.
                #[allow(unused_imports)]
                use super::*;

                #[test]
                fn uring() {
                    let settings: &[(&str, &str)] = &[$($($setting),*)?];
                    super::$name(&mut $crate::common::Server::start_with(
                        $crate::common::Backend::Uring,
                        settings,
                    ));
                }

                #[test]
                fn epoll() {
                    let settings: &[(&str, &str)] = &[$($($setting),*)?];
                    super::$name(&mut $crate::common::Server::start_with(
                        $crate::common::Backend::Epoll,
                        settings,
                    ));
                }
            }
        )*
    };
}

/// Runs one command (name and arguments, as text or bytes) through the `redis` crate;
/// panics naming the command when it fails.
pub fn query<A: redis::ToRedisArgs + std::fmt::Debug>(
    con: &mut redis::Connection,
    args: &[A],
) -> redis::Value {
    let mut cmd = redis::Cmd::new();
    for arg in args {
        cmd.arg(arg);
    }
    cmd.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Encodes a command as a RESP multibulk request.
pub fn multibulk<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Bytes shown the way a test writes them: printable ASCII as is, `\r\n` and the rest
/// escaped, so a failing assertion reads like the wire.
pub fn show(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// Asserts two byte strings are equal, showing both as escaped text.
#[track_caller]
pub fn assert_bytes_eq(actual: &[u8], expected: &[u8], context: &str) {
    if actual != expected {
        panic!(
            "{context}\n  expected: \"{}\"\n       got: \"{}\"",
            show(expected),
            show(actual)
        );
    }
}

/// Where a complete RESP reply starting at `buf[0]` ends, `Ok(None)` if more bytes are
/// needed, `Err` if the bytes are not RESP.
pub fn reply_len(buf: &[u8]) -> Result<Option<usize>, String> {
    fn line_end(buf: &[u8], from: usize) -> Option<usize> {
        buf[from..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|p| from + p)
    }
    fn parse_int(bytes: &[u8]) -> Result<i64, String> {
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad RESP length \"{}\"", show(bytes)))
    }
    fn one(buf: &[u8], at: usize) -> Result<Option<usize>, String> {
        if at >= buf.len() {
            return Ok(None);
        }
        let Some(eol) = line_end(buf, at + 1) else {
            return Ok(None);
        };
        let header = &buf[at + 1..eol];
        let after = eol + 2;
        match buf[at] {
            b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Ok(Some(after)),
            b'$' | b'!' | b'=' => {
                let n = parse_int(header)?;
                if n < 0 {
                    return Ok(Some(after));
                }
                let end = after + n as usize + 2;
                if buf.len() < end {
                    return Ok(None);
                }
                if &buf[end - 2..end] != b"\r\n" {
                    return Err(format!("bulk of {n} bytes not followed by \\r\\n"));
                }
                Ok(Some(end))
            }
            b'*' | b'~' | b'>' | b'%' => {
                let n = parse_int(header)?;
                let items = if buf[at] == b'%' { n * 2 } else { n };
                let mut pos = after;
                for _ in 0..items.max(0) {
                    match one(buf, pos)? {
                        Some(next) => pos = next,
                        None => return Ok(None),
                    }
                }
                Ok(Some(pos))
            }
            other => Err(format!(
                "not a RESP reply: starts with {:?} in \"{}\"",
                other as char,
                show(&buf[at..buf.len().min(at + 80)])
            )),
        }
    }
    one(buf, 0)
}

/// A parsed RESP2 reply, for tests that compare structure rather than bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

/// Shown the way redis-cli would: `+simple`, `-error`, `:1`, `"bulk"`, `nil`, `[..]`.
impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resp::Simple(s) => write!(f, "+{s}"),
            Resp::Error(s) => write!(f, "-{s}"),
            Resp::Int(n) => write!(f, ":{n}"),
            Resp::Bulk(Some(b)) => write!(f, "\"{}\"", show(b)),
            Resp::Bulk(None) => write!(f, "nil"),
            Resp::Array(Some(items)) => f.debug_list().entries(items).finish(),
            Resp::Array(None) => write!(f, "nil-array"),
        }
    }
}

impl Resp {
    /// Parses one complete reply (as returned by [`Client::read_reply`]).
    pub fn parse(bytes: &[u8]) -> Resp {
        let (value, used) = Resp::parse_at(bytes, 0);
        assert_eq!(used, bytes.len(), "trailing bytes after reply");
        value
    }

    fn parse_at(buf: &[u8], at: usize) -> (Resp, usize) {
        let eol = at
            + 1
            + buf[at + 1..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("incomplete reply");
        let line = String::from_utf8_lossy(&buf[at + 1..eol]).into_owned();
        let after = eol + 2;
        match buf[at] {
            b'+' => (Resp::Simple(line), after),
            b'-' => (Resp::Error(line), after),
            b':' => (Resp::Int(line.parse().expect("integer reply")), after),
            b'$' => {
                let n: i64 = line.parse().expect("bulk length");
                if n < 0 {
                    (Resp::Bulk(None), after)
                } else {
                    let end = after + n as usize;
                    (Resp::Bulk(Some(buf[after..end].to_vec())), end + 2)
                }
            }
            b'*' => {
                let n: i64 = line.parse().expect("array length");
                if n < 0 {
                    return (Resp::Array(None), after);
                }
                let mut items = Vec::new();
                let mut pos = after;
                for _ in 0..n {
                    let (item, next) = Resp::parse_at(buf, pos);
                    items.push(item);
                    pos = next;
                }
                (Resp::Array(Some(items)), pos)
            }
            other => panic!("unexpected RESP type byte {:?}", other as char),
        }
    }

    /// The items of an array reply (panics otherwise).
    pub fn items(&self) -> &[Resp] {
        match self {
            Resp::Array(Some(items)) => items,
            other => panic!("expected an array, got {other:?}"),
        }
    }

    /// The text of a bulk or simple string reply (panics otherwise).
    pub fn text(&self) -> String {
        match self {
            Resp::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            Resp::Simple(s) => s.clone(),
            other => panic!("expected a string, got {other:?}"),
        }
    }

    /// The value of an integer reply (panics otherwise).
    pub fn int(&self) -> i64 {
        match self {
            Resp::Int(n) => *n,
            other => panic!("expected an integer, got {other:?}"),
        }
    }
}

/// A raw-socket RESP client: sends bytes, reads one complete reply at a time.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    timeout: Duration,
}

impl Client {
    pub fn connect(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(REPLY_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(REPLY_TIMEOUT)).unwrap();
        Client {
            stream,
            buf: Vec::new(),
            timeout: REPLY_TIMEOUT,
        }
    }

    /// How long reads wait before failing (default [`REPLY_TIMEOUT`]).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        self.stream.set_read_timeout(Some(timeout)).unwrap();
    }

    /// The underlying socket (for tests that write from another thread).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Sends raw bytes.
    #[track_caller]
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("send \"{}\": {e}", show(&bytes[..bytes.len().min(80)])));
    }

    /// Sends a command as a multibulk request.
    #[track_caller]
    pub fn send_cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        self.send(&multibulk(args));
    }

    /// Reads exactly one complete reply (bytes left over stay buffered for the next one).
    /// Panics on timeout, on EOF and on bytes that are not RESP.
    #[track_caller]
    pub fn read_reply(&mut self) -> Vec<u8> {
        match self.try_read_reply() {
            Ok(reply) => reply,
            Err(e) => panic!("reading a reply: {e}"),
        }
    }

    /// Like [`Client::read_reply`], as a `Result`.
    pub fn try_read_reply(&mut self) -> io::Result<Vec<u8>> {
        loop {
            match reply_len(&self.buf) {
                Ok(Some(n)) => return Ok(self.buf.drain(..n).collect()),
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            let mut chunk = [0u8; 64 * 1024];
            let n = match self.stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_timeout(&e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!(
                            "no complete reply within {:?}; buffered: \"{}\"",
                            self.timeout,
                            show(&self.buf)
                        ),
                    ))
                }
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("connection closed; buffered: \"{}\"", show(&self.buf)),
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends a command and returns its raw reply.
    #[track_caller]
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Vec<u8> {
        self.send_cmd(args);
        self.read_reply()
    }

    /// Sends a command and returns its parsed reply.
    #[track_caller]
    pub fn cmd_resp<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Resp {
        Resp::parse(&self.cmd(args))
    }

    /// Sends a command and asserts its reply is exactly `expected`.
    #[track_caller]
    pub fn expect<A: AsRef<[u8]>>(&mut self, args: &[A], expected: &str) {
        self.expect_bytes(args, expected.as_bytes());
    }

    /// Like [`Client::expect`] with a binary expected reply.
    #[track_caller]
    pub fn expect_bytes<A: AsRef<[u8]>>(&mut self, args: &[A], expected: &[u8]) {
        let request: Vec<String> = args.iter().map(|a| show(a.as_ref())).collect();
        let reply = self.cmd(args);
        assert_bytes_eq(&reply, expected, &format!("> {}", request.join(" ")));
    }

    /// Sends raw bytes and asserts the next reply is exactly `expected`.
    #[track_caller]
    pub fn expect_raw(&mut self, request: &[u8], expected: &str) {
        self.send(request);
        let reply = self.read_reply();
        assert_bytes_eq(
            &reply,
            expected.as_bytes(),
            &format!("> \"{}\"", show(request)),
        );
    }

    /// Reads the next reply and asserts it is exactly `expected`.
    #[track_caller]
    pub fn expect_reply(&mut self, expected: &str) {
        let reply = self.read_reply();
        assert_bytes_eq(&reply, expected.as_bytes(), "next reply");
    }

    /// Asserts the server closes the connection: no further bytes, then EOF (or a reset).
    #[track_caller]
    pub fn expect_closed(&mut self) {
        assert!(
            self.buf.is_empty(),
            "expected the connection to close, but bytes are buffered: \"{}\"",
            show(&self.buf)
        );
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => panic!(
                    "expected the connection to close, got \"{}\"",
                    show(&chunk[..n])
                ),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    return
                }
                Err(e) if is_timeout(&e) => panic!(
                    "expected the connection to close, but it stayed open for {:?}",
                    self.timeout
                ),
                Err(e) => panic!("expected the connection to close, got error {e}"),
            }
        }
    }

    /// Asserts that no byte arrives within `wait` (and the connection stays open).
    #[track_caller]
    pub fn expect_silence(&mut self, wait: Duration) {
        assert!(
            self.buf.is_empty(),
            "expected no reply, but bytes are buffered: \"{}\"",
            show(&self.buf)
        );
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut chunk = [0u8; 4096];
        let result = self.stream.read(&mut chunk);
        self.stream.set_read_timeout(Some(self.timeout)).unwrap();
        match result {
            Ok(0) => panic!("expected no reply, but the connection was closed"),
            Ok(n) => panic!("expected no reply, got \"{}\"", show(&chunk[..n])),
            Err(e) if is_timeout(&e) => {}
            Err(e) => panic!("expected no reply, got error {e}"),
        }
    }

    /// Reads everything until the server closes the connection.
    pub fn read_to_eof(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_timeout(&e) => {
                    out.extend_from_slice(b"<still open>");
                    return out;
                }
                Err(_) => return out,
            }
        }
    }

    /// Closes the write side (the server sees EOF after what was sent).
    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The `field:value` lines of an INFO reply, in order.
pub fn info_fields(info: &[u8]) -> Vec<(String, String)> {
    let text = match Resp::parse(info) {
        Resp::Bulk(Some(b)) => String::from_utf8(b).expect("INFO is UTF-8"),
        other => panic!("INFO should be a bulk string, got {other:?}"),
    };
    text.split("\r\n")
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("INFO line without ':': {l:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// One field of an INFO reply.
pub fn info_field(info: &[u8], name: &str) -> Option<String> {
    info_fields(info)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Polls `f` every 50 ms until it returns `Some`, failing with `what` after `timeout`.
#[track_caller]
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (up to 20 s) until `replica`'s link is up and its offset equals `master`'s.
pub fn wait_synced(master: &Server, replica: &Server) {
    wait_for(Duration::from_secs(20), "the replica to catch up", || {
        let offset = master.info("replication", "master_repl_offset");
        let link = replica.info("replication", "master_link_status");
        let theirs = replica.info("replication", "slave_repl_offset");
        (link == "up" && theirs == offset).then_some(())
    });
}
