//! ringkv as a replica: of a live redis-server master (full sync of every type in both
//! snapshot forms, the stream, expiries, offsets, WAIT, partial resync, promotion) and of
//! a fake master on a raw socket (the exact handshake, a snapshot and commands in one
//! write, the 88-byte empty snapshot, garbage, truncation, a master gone mid-transfer).
//! The redis-server tests skip without it unless RINGKV_REQUIRE_REDIS=1.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::{free_port, multibulk, redis_server_available, Backend, Client, Resp, Server};

const WAIT: Duration = Duration::from_secs(20);

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One `name:value` field of INFO `section`.
fn info(client: &mut Client, section: &str, name: &str) -> String {
    let text = client.cmd_resp(&["INFO", section]).text();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in INFO {section}:\n{text}"))
        .to_string()
}

/// A redis-server master that sends snapshots at once (no diskless delay).
fn redis_master(diskless: bool) -> Server {
    Server::start_redis_with(&[
        ("enable-debug-command", "yes"),
        ("repl-diskless-sync", if diskless { "yes" } else { "no" }),
        ("repl-diskless-sync-delay", "0"),
    ])
}

/// ringkv replicating from `master`, once its link is up.
fn ringkv_replica_of(port: u16, backend: Backend) -> Server {
    let replicaof = format!("127.0.0.1 {port}");
    let replica = Server::start_ringkv(
        backend,
        &[
            ("replicaof", &replicaof),
            ("enable-debug-command", "yes"),
            ("repl-timeout", "5"),
        ],
    );
    let mut c = replica.client();
    wait_until("the link to come up", || {
        info(&mut c, "replication", "master_link_status") == "up"
    });
    replica
}

/// Waits until the replica has applied everything the master wrote, by offset.
fn caught_up(master: &mut Client, replica: &mut Client) -> i64 {
    let mut offset = 0;
    wait_until("the replica to catch up", || {
        offset = info(master, "replication", "master_repl_offset")
            .parse()
            .unwrap();
        info(replica, "replication", "slave_repl_offset") == offset.to_string()
    });
    offset
}

/// A redis-server master, prepared by `setup` (through its client), and a ringkv replica
/// of it whose link is up; None (skip) without redis-server.
struct Pair {
    master: Server,
    m: Client,
    replica: Server,
    r: Client,
}

fn pair(diskless: bool, backend: Backend, setup: impl FnOnce(&mut Client)) -> Option<Pair> {
    if !redis_server_available() {
        return None;
    }
    let master = redis_master(diskless);
    let mut m = master.client();
    setup(&mut m);
    let replica = ringkv_replica_of(master.port(), backend);
    let r = replica.client();
    Some(Pair {
        master,
        m,
        replica,
        r,
    })
}

fn digest(client: &mut Client) -> String {
    client.cmd_resp(&["DEBUG", "DIGEST"]).text()
}

/// Keys of every type and encoding Redis 7.0 writes, in two databases, some with TTLs.
fn fill_every_type(c: &mut Client) {
    c.expect(&["SET", "str", "hello"], "+OK\r\n");
    c.expect(&["SET", "int", "12345"], "+OK\r\n");
    c.expect(&["SET", "ttl", "v", "PX", "100000"], "+OK\r\n");
    c.cmd(&["RPUSH", "list", "a", "b", "c"]);
    c.cmd(&["SADD", "intset", "1", "2", "3"]);
    c.cmd(&["SADD", "set", "x", "y", "z"]);
    c.cmd(&["HSET", "hash", "f", "v", "g", "w"]);
    c.cmd(&["ZADD", "zset", "1", "a", "2.5", "b"]);
    c.cmd(&["XADD", "stream", "1-1", "f", "v"]);
    c.cmd(&["XADD", "stream", "2-1", "g", "w"]);
    c.cmd(&["XGROUP", "CREATE", "stream", "grp", "0"]);
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "grp",
        "alice",
        "COUNT",
        "1",
        "STREAMS",
        "stream",
        ">",
    ]);
    let many: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let mut big_hash = vec!["HSET".to_string(), "bighash".into()];
    let mut big_zset = vec!["ZADD".to_string(), "bigzset".into()];
    for (i, m) in many.iter().enumerate() {
        big_hash.extend([m.clone(), i.to_string()]);
        big_zset.extend([i.to_string(), m.clone()]);
    }
    c.cmd(&big_hash);
    c.cmd(&big_zset);
    c.expect(&["SELECT", "3"], "+OK\r\n");
    c.expect(&["SET", "in3", "three"], "+OK\r\n");
    c.expect(&["SELECT", "0"], "+OK\r\n");
}

fn full_sync_copies_every_type(diskless: bool) {
    let Some(Pair {
        master,
        mut m,
        replica,
        mut r,
    }) = pair(diskless, Backend::Uring, fill_every_type)
    else {
        return;
    };
    caught_up(&mut m, &mut r);
    assert_eq!(digest(&mut r), digest(&mut m));
    let target = if diskless {
        "target: replicas sockets"
    } else {
        "target: disk"
    };
    assert!(master.log().contains(target), "{}", master.log());
    let log = replica.log();
    assert!(log.contains("Full resync from master: "), "{log}");
    assert!(
        log.contains("MASTER <-> REPLICA sync: Finished with success"),
        "{log}"
    );
}

#[test]
fn full_sync_from_a_diskless_redis_master_copies_every_type() {
    full_sync_copies_every_type(true);
}

#[test]
fn full_sync_from_a_disk_based_redis_master_copies_every_type() {
    full_sync_copies_every_type(false);
}

#[test]
fn follows_the_stream_with_equal_offsets_and_counts_for_wait() {
    let Some(Pair {
        mut m,
        mut r,
        master: _master,
        replica: _replica,
    }) = pair(true, Backend::Epoll, |m| {
        m.expect(&["SET", "before", "1"], "+OK\r\n")
    })
    else {
        return;
    };
    // Commands of the types ringkv has commands for (hashes, sorted sets and streams
    // arrive through the snapshot only, until their commands exist).
    m.expect(&["SET", "str", "hello"], "+OK\r\n");
    m.expect(&["SET", "int", "12345"], "+OK\r\n");
    m.expect(&["SET", "ttl", "v", "PX", "100000"], "+OK\r\n");
    m.cmd(&["SETEX", "setex", "100", "v"]);
    m.cmd(&["RPUSH", "list", "a", "b", "c"]);
    m.cmd(&["SADD", "set", "x", "y", "z", "1"]);
    m.cmd(&["SREM", "set", "y"]);
    m.cmd(&["SETRANGE", "str", "3", "XY"]);
    m.cmd(&["APPEND", "str", "!"]);
    m.cmd(&["GETDEL", "setex"]);
    m.cmd(&["INCR", "counter"]);
    m.cmd(&["INCRBYFLOAT", "float", "1.5"]);
    m.cmd(&["EXPIRE", "str", "1000"]);
    m.cmd(&["SET", "pxat", "v", "PXAT", "99999999999999"]);
    m.cmd(&["LPOP", "list"]);
    m.cmd(&["RENAME", "set", "set2"]);
    m.cmd(&["DEL", "int"]);
    m.cmd(&["SELECT", "5"]);
    m.cmd(&["SET", "in5", "five"]);
    // WAIT sends REPLCONF GETACK: ringkv's ACK counts.
    assert_eq!(m.cmd_resp(&["WAIT", "1", "5000"]).int(), 1);
    let offset = caught_up(&mut m, &mut r);
    assert_eq!(digest(&mut r), digest(&mut m));
    // The master's view of the replica: the ACKed offset is its own offset.
    wait_until("the master to see the ACK", || {
        let slave0 = info(&mut m, "replication", "slave0");
        slave0.contains(&format!("offset={offset},"))
    });
    assert_eq!(
        r.cmd_resp(&["ROLE"]).items()[4].int(),
        offset,
        "ROLE reports the offset"
    );
    // 10k pipelined writes arrive intact.
    let mut pipeline = Vec::new();
    for i in 0..10_000 {
        pipeline.extend(multibulk(&["RPUSH", "pipelined", i.to_string().as_str()]));
    }
    m.send(&pipeline);
    for _ in 0..10_000 {
        m.read_reply();
    }
    caught_up(&mut m, &mut r);
    assert_eq!(digest(&mut r), digest(&mut m));
}

#[test]
fn expired_keys_are_hidden_until_the_masters_del_arrives() {
    let Some(Pair {
        mut m,
        mut r,
        master: _master,
        replica: _replica,
    }) = pair(true, Backend::Uring, |m| {
        m.expect(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"], "+OK\r\n")
    })
    else {
        return;
    };
    m.expect(&["SET", "short", "v", "PX", "200"], "+OK\r\n");
    m.expect(&["SET", "long", "v"], "+OK\r\n");
    caught_up(&mut m, &mut r);
    std::thread::sleep(Duration::from_millis(400));
    // Logically expired on the replica: not shown, but kept (no DEL of its own).
    r.expect(&["GET", "short"], "$-1\r\n");
    r.expect(&["EXISTS", "short"], ":0\r\n");
    r.expect(&["TTL", "short"], ":-2\r\n");
    std::thread::sleep(Duration::from_millis(300));
    r.expect(&["DBSIZE"], ":2\r\n");
    // The master deletes it on access and propagates DEL: now it is gone.
    m.expect(&["GET", "short"], "$-1\r\n");
    caught_up(&mut m, &mut r);
    r.expect(&["DBSIZE"], ":1\r\n");
    assert_eq!(digest(&mut r), digest(&mut m));
}

#[test]
fn client_writes_are_refused_as_read_only_also_in_multi() {
    let Some(Pair {
        master,
        mut r,
        m: _m,
        replica: _replica,
    }) = pair(true, Backend::Epoll, |_| {})
    else {
        return;
    };
    let readonly = "-READONLY You can't write against a read only replica.\r\n";
    r.expect(&["SET", "k", "v"], readonly);
    r.expect(&["DEL", "k"], readonly);
    r.expect(&["GET", "k"], "$-1\r\n");
    r.expect(&["MULTI"], "+OK\r\n");
    r.expect(&["INCR", "k"], readonly);
    r.expect(&["GET", "k"], "+QUEUED\r\n");
    r.expect(
        &["EXEC"],
        "-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    let role = r.cmd_resp(&["ROLE"]);
    assert_eq!(role.items()[0].text(), "slave");
    assert_eq!(role.items()[2].int(), i64::from(master.port()));
    assert_eq!(role.items()[3].text(), "connected");
}

#[test]
fn a_killed_link_resumes_with_a_partial_resync() {
    let Some(Pair {
        mut m,
        replica,
        mut r,
        master: _master,
    }) = pair(true, Backend::Uring, |m| {
        m.expect(&["SET", "a", "1"], "+OK\r\n")
    })
    else {
        return;
    };
    caught_up(&mut m, &mut r);
    assert_eq!(info(&mut m, "stats", "sync_partial_ok"), "0");
    assert_eq!(m.cmd_resp(&["CLIENT", "KILL", "TYPE", "replica"]).int(), 1);
    m.expect(&["SET", "b", "2"], "+OK\r\n");
    wait_until("a partial resync", || {
        info(&mut m, "stats", "sync_partial_ok") == "1"
    });
    caught_up(&mut m, &mut r);
    r.expect(&["GET", "b"], "$1\r\n2\r\n");
    assert_eq!(info(&mut m, "stats", "sync_full"), "1");
    assert!(replica.log().contains("Trying a partial resynchronization"));
}

#[test]
fn replicaof_no_one_promotes_and_keeps_the_data_and_history() {
    let Some(Pair {
        master,
        mut m,
        mut r,
        replica: _replica,
    }) = pair(true, Backend::Epoll, |m| {
        m.expect(&["SET", "a", "1"], "+OK\r\n")
    })
    else {
        return;
    };
    let offset = caught_up(&mut m, &mut r);
    let port = master.port().to_string();
    r.expect(
        &["REPLICAOF", "127.0.0.1", &port],
        "+OK Already connected to specified master\r\n",
    );
    r.expect(
        &["REPLICAOF", "127.0.0.1", "nope"],
        "-ERR Invalid master port\r\n",
    );
    let master_replid = info(&mut m, "replication", "master_replid");
    r.expect(&["REPLICAOF", "NO", "ONE"], "+OK\r\n");
    assert_eq!(info(&mut r, "replication", "role"), "master");
    assert_eq!(info(&mut r, "replication", "master_replid2"), master_replid);
    assert_eq!(
        info(&mut r, "replication", "second_repl_offset"),
        (offset + 1).to_string()
    );
    r.expect(&["GET", "a"], "$1\r\n1\r\n");
    r.expect(&["SET", "a", "2"], "+OK\r\n");
    r.expect(&["REPLICAOF", "NO", "ONE"], "+OK\r\n");
    // The old master's writes no longer arrive.
    m.expect(&["SET", "a", "3"], "+OK\r\n");
    std::thread::sleep(Duration::from_millis(300));
    r.expect(&["GET", "a"], "$1\r\n2\r\n");
}

#[test]
fn a_password_protected_master_gets_auth_with_masterauth() {
    if !redis_server_available() {
        return;
    }
    let master = Server::start_redis_with(&[("requirepass", "s3cret")]);
    let replicaof = format!("127.0.0.1 {}", master.port());
    let replica = Server::start_ringkv(
        Backend::Epoll,
        &[("replicaof", &replicaof), ("masterauth", "s3cret")],
    );
    let mut r = replica.client();
    wait_until("the link to come up", || {
        info(&mut r, "replication", "master_link_status") == "up"
    });
    let mut m = master.client();
    m.expect(&["AUTH", "s3cret"], "+OK\r\n");
    m.expect(&["SET", "k", "v"], "+OK\r\n");
    caught_up(&mut m, &mut r);
    r.expect(&["GET", "k"], "$1\r\nv\r\n");
}

// ---- a fake master on a raw socket ----

/// An RDB file of version `version` holding string keys (checksum "not computed").
fn rdb(version: u32, keys: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("REDIS{version:04}").into_bytes();
    out.extend([0xfe, 0x00]);
    for (key, value) in keys {
        out.push(0);
        out.push(key.len() as u8);
        out.extend(key.as_bytes());
        out.push(value.len() as u8);
        out.extend(value.as_bytes());
    }
    out.push(0xff);
    out.extend([0; 8]);
    out
}

/// The 88-byte empty snapshot minimal masters send (RDB 11, valid checksum).
const EMPTY_RDB: &str = "524544495330303131fa0972656469732d76657205372e322e30fa0a72656469732d\
    62697473c040fa056374696d65c26d08bc65fa08757365642d6d656dc2b0c41000fa08616f662d626173\
    65c000fff06e3bfec0ff5aa2";

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

const REPLID: &str = "0123456789abcdef0123456789abcdef01234567";

struct FakeMaster {
    listener: TcpListener,
}

impl FakeMaster {
    fn new() -> FakeMaster {
        let listener = TcpListener::bind(("127.0.0.1", free_port())).expect("bind");
        FakeMaster { listener }
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }

    /// Accepts the replica's next connection and checks its handshake up to PSYNC,
    /// answering each step; returns the link and PSYNC's arguments.
    fn handshake(&self, replica_port: u16) -> (Link, Vec<String>) {
        let (stream, _) = self.listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut link = Link {
            stream,
            buf: Vec::new(),
        };
        assert_eq!(link.command(), ["PING"]);
        link.send(b"+PONG\r\n");
        assert_eq!(
            link.command(),
            ["REPLCONF", "listening-port", &replica_port.to_string()]
        );
        link.send(b"+OK\r\n");
        assert_eq!(
            link.command(),
            ["REPLCONF", "capa", "eof", "capa", "psync2"]
        );
        link.send(b"+OK\r\n");
        let psync = link.command();
        assert_eq!(psync[0], "PSYNC");
        (link, psync)
    }
}

struct Link {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Link {
    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next command the replica sends.
    fn command(&mut self) -> Vec<String> {
        loop {
            if let Ok(Some(len)) = common::reply_len(&self.buf) {
                let reply: Vec<u8> = self.buf.drain(..len).collect();
                return Resp::parse(&reply).items().iter().map(Resp::text).collect();
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("read from the replica");
            assert!(n > 0, "the replica closed the link");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Skips the one-second ACKs until a REPLCONF ACK with `offset` arrives.
    fn expect_ack(&mut self, offset: usize) {
        let deadline = Instant::now() + WAIT;
        loop {
            let command = self.command();
            assert_eq!(command[..2], ["REPLCONF", "ACK"], "{command:?}");
            if command[2] == offset.to_string() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no ACK {offset}, last {command:?}"
            );
        }
    }
}

fn start_replica_of(fake: &FakeMaster) -> Server {
    let replicaof = format!("127.0.0.1 {}", fake.port());
    Server::start_ringkv(Backend::Uring, &[("replicaof", &replicaof)])
}

#[test]
fn handshake_is_redis_order_and_a_snapshot_commands_and_getack_in_one_write_split_exactly() {
    let fake = FakeMaster::new();
    let replica = start_replica_of(&fake);
    let (mut link, psync) = fake.handshake(replica.port());
    assert_eq!(psync, ["PSYNC", "?", "-1"]);
    let snapshot = rdb(9, &[("old", "1")]);
    let set = multibulk(&["SET", "k", "v"]);
    let getack = multibulk(&["REPLCONF", "GETACK", "*"]);
    let mut write = format!("+FULLRESYNC {REPLID} 100\r\n${}\r\n", snapshot.len()).into_bytes();
    write.extend(&snapshot);
    write.extend(&set);
    write.extend(&getack);
    write.extend(multibulk(&["PING"]));
    link.send(&write);
    // The first ACK at once, then GETACK's: the offset of what came before it.
    link.expect_ack(100);
    link.expect_ack(100 + set.len());
    let mut r = replica.client();
    r.expect(&["GET", "old"], "$1\r\n1\r\n");
    r.expect(&["GET", "k"], "$1\r\nv\r\n");
    // The one-second ACK counts the GETACK and the PING after it.
    link.expect_ack(100 + set.len() + getack.len() + multibulk(&["PING"]).len());
    assert_eq!(
        info(&mut r, "replication", "master_replid"),
        REPLID,
        "the replica takes its master's id"
    );
}

#[test]
fn the_88_byte_empty_snapshot_in_eof_form_replaces_the_data() {
    let fake = FakeMaster::new();
    let replica = start_replica_of(&fake);
    let (mut link, _) = fake.handshake(replica.port());
    let mark = "m".repeat(40);
    let mut write = format!("+FULLRESYNC {REPLID} 0\r\n\n\n$EOF:{mark}\r\n").into_bytes();
    write.extend(rdb(12, &[("a", "1"), ("b", "2")]));
    write.extend(mark.as_bytes());
    link.send(&write);
    link.expect_ack(0);
    let mut r = replica.client();
    r.expect(&["DBSIZE"], ":2\r\n");
    // The link drops; the next sync is full again, with the empty snapshot.
    drop(link);
    let (mut link, psync) = fake.handshake(replica.port());
    assert_eq!(
        psync,
        ["PSYNC", REPLID, "1"],
        "a partial resync is tried first"
    );
    let empty = hex(EMPTY_RDB);
    assert_eq!(empty.len(), 88);
    let mut write = format!("+FULLRESYNC {REPLID} 500\r\n${}\r\n", empty.len()).into_bytes();
    write.extend(&empty);
    link.send(&write);
    link.expect_ack(500);
    r.expect(&["DBSIZE"], ":0\r\n");
}

#[test]
fn garbage_truncation_or_a_master_gone_mid_snapshot_keep_the_previous_data() {
    let fake = FakeMaster::new();
    let replica = start_replica_of(&fake);
    let (mut link, _) = fake.handshake(replica.port());
    let snapshot = rdb(10, &[("kept", "yes")]);
    let mut write = format!("+FULLRESYNC {REPLID} 0\r\n${}\r\n", snapshot.len()).into_bytes();
    write.extend(&snapshot);
    link.send(&write);
    link.expect_ack(0);
    drop(link);
    let mut r = replica.client();
    wait_until("the link to be seen down", || {
        info(&mut r, "replication", "master_link_status") == "down"
    });
    let down: i64 = info(&mut r, "replication", "master_link_down_since_seconds")
        .parse()
        .unwrap();
    assert!((0..5).contains(&down), "{down}");
    let big = rdb(10, &[("new", "value")]);
    let failures: Vec<Vec<u8>> = vec![
        // Garbage instead of an RDB.
        b"$11\r\nhello world".to_vec(),
        // A length longer than what arrives: the master vanishes mid-transfer.
        [b"$1000\r\n".to_vec(), big[..12].to_vec()].concat(),
        // The EOF form cut short.
        [
            format!("$EOF:{}\r\n", "x".repeat(40)).into_bytes(),
            big[..12].to_vec(),
        ]
        .concat(),
        // A complete RDB whose EOF mark is wrong.
        [
            format!("$EOF:{}\r\n", "x".repeat(40)).into_bytes(),
            big.clone(),
            "y".repeat(40).into_bytes(),
        ]
        .concat(),
        // Not a snapshot at all.
        b"what is this\r\n".to_vec(),
    ];
    for failure in &failures {
        let (mut link, psync) = fake.handshake(replica.port());
        assert_eq!(psync[0], "PSYNC");
        let mut write = format!("+FULLRESYNC {REPLID} 0\r\n").into_bytes();
        write.extend(failure);
        link.send(&write);
        drop(link);
        // Reads go on from the previous data meanwhile.
        r.expect(&["GET", "kept"], "$3\r\nyes\r\n");
        r.expect(&["GET", "new"], "$-1\r\n");
    }
    // The next attempt succeeds.
    let (mut link, _) = fake.handshake(replica.port());
    let mut write = format!("+FULLRESYNC {REPLID} 7\r\n${}\r\n", big.len()).into_bytes();
    write.extend(&big);
    link.send(&write);
    link.expect_ack(7);
    r.expect(&["GET", "new"], "$5\r\nvalue\r\n");
    r.expect(&["GET", "kept"], "$-1\r\n");
    let log = replica.log();
    assert!(log.contains("Connecting to MASTER 127.0.0.1:"), "{log}");
    assert!(log.contains("MASTER <-> REPLICA sync started"), "{log}");
    assert!(
        log.contains("I/O error trying to sync with MASTER"),
        "{log}"
    );
    assert!(
        log.contains("Failed trying to load the MASTER synchronization DB from socket"),
        "{log}"
    );
    assert!(log.contains("Bad protocol from MASTER"), "{log}");
}

#[test]
fn replicaof_in_the_config_file_resolves_the_host_name() {
    let fake = FakeMaster::new();
    let dir = common::fresh_dir("replica-conf");
    let file = dir.join("ringkv.conf");
    std::fs::write(&file, format!("replicaof localhost {}\n", fake.port())).unwrap();
    let port = free_port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ringkv"))
        .arg(&file)
        .args(["--port", &port.to_string(), "--dir"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start ringkv");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Kill(child);
    let (mut link, psync) = fake.handshake(port);
    assert_eq!(psync, ["PSYNC", "?", "-1"]);
    let snapshot = rdb(11, &[("from", "conf")]);
    let mut write = format!("+FULLRESYNC {REPLID} 3\r\n${}\r\n", snapshot.len()).into_bytes();
    write.extend(&snapshot);
    link.send(&write);
    link.expect_ack(3);
    let mut r = Client::connect(port);
    r.expect(&["GET", "from"], "$4\r\nconf\r\n");
    assert_eq!(info(&mut r, "replication", "master_host"), "localhost");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_transfer_in_progress_shows_in_info_and_role() {
    let fake = FakeMaster::new();
    let replica = start_replica_of(&fake);
    let (mut link, _) = fake.handshake(replica.port());
    let snapshot = rdb(10, &[("k", "v")]);
    let mut write = format!("+FULLRESYNC {REPLID} 0\r\n$1000\r\n").into_bytes();
    write.extend(&snapshot[..12]);
    link.send(&write);
    let mut r = replica.client();
    wait_until("12 bytes of the snapshot", || {
        let text = r.cmd_resp(&["INFO", "replication"]).text();
        text.contains("master_sync_read_bytes:12\r\n")
    });
    for (name, value) in [
        ("master_link_status", "down"),
        ("master_last_io_seconds_ago", "-1"),
        ("master_sync_in_progress", "1"),
        ("master_sync_total_bytes", "1000"),
        ("master_sync_left_bytes", "988"),
        ("master_sync_perc", "1.20"),
        ("master_sync_last_io_seconds_ago", "0"),
        ("master_link_down_since_seconds", "-1"),
    ] {
        assert_eq!(info(&mut r, "replication", name), value, "{name}");
    }
    let role = r.cmd_resp(&["ROLE"]);
    assert_eq!(role.items()[3].text(), "sync");
    assert_eq!(role.items()[4].int(), -1);
}

#[test]
fn a_redis_replica_of_the_ringkv_replica_gets_the_masters_stream_and_offsets() {
    let Some(Pair {
        master,
        mut m,
        replica,
        mut r,
    }) = pair(true, Backend::Uring, |m| {
        m.expect(&["SET", "before", "1"], "+OK\r\n")
    })
    else {
        return;
    };
    caught_up(&mut m, &mut r);
    let replicaof = format!("127.0.0.1 {}", replica.port());
    let sub =
        Server::start_redis_with(&[("replicaof", &replicaof), ("enable-debug-command", "yes")]);
    let mut s = sub.client();
    wait_until("the sub-replica's link", || {
        info(&mut s, "replication", "master_link_status") == "up"
    });
    m.expect(&["SET", "after", "2"], "+OK\r\n");
    m.cmd(&["RPUSH", "list", "a", "b"]);
    m.cmd(&["SELECT", "2"]);
    m.cmd(&["INCR", "n"]);
    let offset = caught_up(&mut m, &mut r);
    wait_until("the sub-replica to catch up", || {
        info(&mut s, "replication", "slave_repl_offset") == offset.to_string()
    });
    assert_eq!(digest(&mut s), digest(&mut m));
    assert_eq!(
        info(&mut s, "replication", "master_replid"),
        info(&mut m, "replication", "master_replid"),
        "one history along the chain"
    );
    assert_eq!(info(&mut r, "replication", "connected_slaves"), "1");
    drop(master);
}

#[test]
fn a_ringkv_replica_of_a_ringkv_master_follows_and_resumes_partially() {
    let master = Server::start_ringkv(Backend::Epoll, &[("enable-debug-command", "yes")]);
    let mut m = master.client();
    m.expect(&["SET", "a", "1"], "+OK\r\n");
    m.cmd(&["RPUSH", "l", "x", "y"]);
    let replica = ringkv_replica_of(master.port(), Backend::Uring);
    let mut r = replica.client();
    caught_up(&mut m, &mut r);
    m.cmd(&["SET", "t", "v", "EX", "100"]);
    m.cmd(&["SADD", "s", "m"]);
    m.cmd(&["SELECT", "4"]);
    m.cmd(&["INCRBYFLOAT", "f", "2.5"]);
    assert_eq!(m.cmd_resp(&["WAIT", "1", "5000"]).int(), 1);
    caught_up(&mut m, &mut r);
    assert_eq!(digest(&mut r), digest(&mut m));
    assert_eq!(m.cmd_resp(&["CLIENT", "KILL", "TYPE", "replica"]).int(), 1);
    // Still in database 4: the resumed stream has no SELECT before this DEL.
    m.cmd(&["DEL", "f"]);
    wait_until("a partial resync", || {
        info(&mut m, "stats", "sync_partial_ok") == "1"
    });
    caught_up(&mut m, &mut r);
    assert_eq!(digest(&mut r), digest(&mut m));
}
