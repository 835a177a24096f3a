//! ringkv as a master: live redis-server 7.0.15 replicas sync from it (every type), follow
//! its writes (with Redis 7.0's rewrites), resync partially after a dropped link and fully
//! when they fell out of the backlog; WAIT counts their ACKs; and the handshake bytes a
//! raw-socket replica sees. Tests needing redis-server skip without it unless
//! RINGKV_REQUIRE_REDIS=1.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::{
    info_field, redis_server_available, wait_for, wait_synced, Backend, Client, Resp, Server,
};

const SYNC_TIMEOUT: Duration = Duration::from_secs(20);

fn ringkv(backend: Backend, settings: &[(&str, &str)]) -> Server {
    let mut all = vec![("enable-debug-command", "yes")];
    all.extend_from_slice(settings);
    Server::start_ringkv(backend, &all)
}

fn replica_of(master: &Server) -> Server {
    let at = format!("127.0.0.1 {}", master.port());
    Server::start_redis_with(&[
        ("replicaof", &at),
        ("enable-debug-command", "yes"),
        ("repl-diskless-load", "disabled"),
    ])
}

fn digest(server: &Server) -> String {
    server.client().cmd_resp(&["DEBUG", "DIGEST"]).text()
}

fn assert_same_data(master: &Server, replica: &Server) {
    wait_synced(master, replica);
    let (ours, theirs) = (digest(master), digest(replica));
    assert_ne!(ours, "0".repeat(40), "the master has data");
    assert_eq!(ours, theirs, "DEBUG DIGEST of master and replica");
}

/// A dump written by redis-server with a value of every type, for ringkv to load.
fn dump_of_every_type() -> Server {
    let redis = Server::start_redis();
    let mut c = redis.client();
    for args in [
        &["SET", "s", "string"][..],
        &["SET", "n", "12345"],
        &["SET", "ttl", "x", "PX", "600000"],
        &["RPUSH", "list", "a", "b", "c"],
        &["SADD", "set", "1", "2", "3"],
        &["SADD", "words", "x", "y"],
        &["HSET", "hash", "f1", "v1", "f2", "v2"],
        &["ZADD", "zset", "1", "one", "2.5", "two"],
        &["XADD", "stream", "1-1", "field", "value"],
        &["SELECT", "3"],
        &["SET", "in-db-3", "v"],
    ] {
        c.cmd(args);
    }
    c.expect(&["SAVE"], "+OK\r\n");
    redis
}

fn replica_syncs_every_type_and_follows_writes(backend: Backend) {
    let dump = dump_of_every_type();
    // ringkv takes one --dir (its own test directory): the dump is named by full path.
    let path = dump.dir().join("dump.rdb");
    let master = ringkv(backend, &[("dbfilename", path.to_str().unwrap())]);
    let replica = replica_of(&master);
    assert_same_data(&master, &replica);

    let mut monitor = replica.client();
    monitor.expect(&["MONITOR"], "+OK\r\n");
    let mut c = master.client();
    for args in [
        &["SET", "ex", "v", "EX", "100"][..],
        &["SETEX", "setex", "100", "v"],
        &["EXPIRE", "s", "1000"],
        &["INCRBYFLOAT", "n", "0.5"],
        &["GETDEL", "ttl"],
        &["APPEND", "s", "-more"],
        &["RPUSH", "list", "d"],
        &["LPOP", "list"],
        &["SREM", "set", "1"],
        &["DEL", "hash"],
        &["SELECT", "3"],
        &["SET", "in-db-3", "changed"],
        &["PEXPIRE", "in-db-3", "1"],
    ] {
        c.cmd(args);
    }
    thread::sleep(Duration::from_millis(20));
    // The key expired in db 3: reading it deletes it, and the replica is told.
    c.expect(&["GET", "in-db-3"], "$-1\r\n");
    assert_same_data(&master, &replica);
    monitor.set_timeout(Duration::from_secs(5));
    let mut seen = String::new();
    while !seen.contains("\"DEL\" \"in-db-3\"") {
        seen.push_str(&String::from_utf8_lossy(&monitor.read_reply()));
    }
    assert!(seen.contains("\"SET\" \"ex\" \"v\" \"PXAT\""), "{seen}");
    assert!(seen.contains("\"PEXPIREAT\" \"s\""), "{seen}");
    assert!(
        seen.contains("\"SET\" \"n\" \"12345.5\" \"KEEPTTL\""),
        "{seen}"
    );
    assert!(seen.contains("\"DEL\" \"ttl\""), "{seen}");

    let replication = master.client().cmd(&["INFO", "replication"]);
    let slave0 = info_field(&replication, "slave0").expect("slave0 line");
    assert!(
        slave0.starts_with(&format!(
            "ip=127.0.0.1,port={},state=online,offset=",
            replica.port()
        )),
        "{slave0}"
    );
    assert_eq!(info_field(&replication, "connected_slaves").unwrap(), "1");
    assert_eq!(
        info_field(&replication, "repl_backlog_active").unwrap(),
        "1"
    );
    let list = master
        .client()
        .cmd_resp(&["CLIENT", "LIST", "TYPE", "replica"])
        .text();
    assert!(list.contains("flags=S"), "{list}");
    // On io_uring the stream went out through registered buffers.
    let log = master.log();
    assert!(!log.contains("Cannot register io_uring buffers"), "{log}");
}

#[test]
fn redis_replica_syncs_every_type_and_follows_writes_uring() {
    if redis_server_available() {
        replica_syncs_every_type_and_follows_writes(Backend::Uring);
    }
}

#[test]
fn redis_replica_syncs_every_type_and_follows_writes_epoll() {
    if redis_server_available() {
        replica_syncs_every_type_and_follows_writes(Backend::Epoll);
    }
}

/// Six clients on a two-thread ringkv master each send `rounds` commands made by
/// `command(writer, round)`, while a redis-server replica follows; at the end both hold
/// the same data.
fn race_writers(rounds: usize, command: fn(usize, usize) -> Vec<String>) {
    if !redis_server_available() {
        return;
    }
    let master = ringkv(Backend::Uring, &[("threads", "2")]);
    let replica = replica_of(&master);
    wait_synced(&master, &replica);
    let port = master.port();
    let writers: Vec<_> = (0..6)
        .map(|w| {
            thread::spawn(move || {
                let mut c = Client::connect(port);
                for i in 0..rounds {
                    c.cmd(&command(w, i));
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    master.client().cmd(&["SET", "done", "1"]);
    assert_same_data(&master, &replica);
}

fn words(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn concurrent_writers_on_two_threads_leave_master_and_replica_equal() {
    race_writers(600, |w, i| {
        let key = format!("k{}", i % 5);
        let n = format!("n{}", i % 3);
        match (i + w) % 5 {
            0 => words(&["INCR", &n]),
            1 => words(&["APPEND", &key, &format!("{w}.")]),
            2 => words(&["SET", &key, &format!("w{w}i{i}")]),
            3 => words(&["DEL", &key, &n]),
            _ => words(&["INCRBY", &n, "7"]),
        }
    });
}

/// Whole-database writes (FLUSHDB, FLUSHALL, SWAPDB) and bit writes racing with key
/// writes on other threads: each enters the stream while its locks are held, so the
/// replica ends equal whatever the interleaving.
#[test]
fn flushes_swaps_and_bit_writes_racing_with_writers_keep_the_replica_equal() {
    race_writers(400, |w, i| {
        let key = format!("k{}", i % 7);
        match (i * 7 + w) % 11 {
            0 if w == 0 => words(&["FLUSHDB"]),
            1 if w == 1 => words(&["SWAPDB", "0", "1"]),
            2 if w == 2 && i % 4 == 0 => words(&["FLUSHALL"]),
            3 => words(&["SETBIT", &key, &(i % 64).to_string(), "1"]),
            4 => words(&["BITOP", "OR", "dest", &key, "k1"]),
            5 => words(&["SELECT", &(i % 2).to_string()]),
            _ => words(&["SET", &key, &format!("w{w}i{i}")]),
        }
    });
}

#[test]
fn dropped_link_resyncs_partially() {
    if !redis_server_available() {
        return;
    }
    let master = ringkv(Backend::Uring, &[]);
    let replica = replica_of(&master);
    let mut c = master.client();
    c.cmd(&["SET", "before", "1"]);
    wait_synced(&master, &replica);
    assert_eq!(master.info("stats", "sync_full"), "1");
    c.expect(&["CLIENT", "KILL", "TYPE", "replica"], ":1\r\n");
    c.cmd(&["SET", "while-away", "2"]);
    wait_for(SYNC_TIMEOUT, "a partial resync", || {
        (master.info("stats", "sync_partial_ok") == "1").then_some(())
    });
    assert_same_data(&master, &replica);
    assert_eq!(master.info("stats", "sync_full"), "1");
    assert_eq!(master.info("stats", "sync_partial_err"), "0");
}

#[test]
fn replica_that_fell_out_of_the_backlog_resyncs_fully() {
    if !redis_server_available() {
        return;
    }
    let master = ringkv(Backend::Uring, &[("repl-backlog-size", "16384")]);
    let replica = replica_of(&master);
    wait_synced(&master, &replica);
    // The link goes while the replica is stopped, then more than the backlog is written.
    replica.signal("STOP");
    let mut c = master.client();
    c.expect(&["CLIENT", "KILL", "TYPE", "replica"], ":1\r\n");
    let big = "x".repeat(1000);
    for i in 0..100 {
        c.cmd(&["SET", &format!("k{i}"), &big]);
    }
    replica.signal("CONT");
    wait_for(SYNC_TIMEOUT, "a second full resync", || {
        (master.info("stats", "sync_full") == "2").then_some(())
    });
    assert_eq!(master.info("stats", "sync_partial_err"), "1");
    assert_same_data(&master, &replica);
}

#[test]
fn slow_replica_is_limited_by_its_output_buffer_not_the_backlog() {
    if !redis_server_available() {
        return;
    }
    let master = ringkv(Backend::Uring, &[("repl-backlog-size", "16384")]);
    let replica = replica_of(&master);
    wait_synced(&master, &replica);
    let mut c = master.client();
    let value = "v".repeat(10_000);
    // Writes of 10 kB each, far more than the 16 KiB backlog, while the replica is
    // stopped: the backlog keeps them for it within its output buffer limit.
    let write_while_stopped = |c: &mut Client, round: usize, writes: usize| {
        replica.signal("STOP");
        for i in 0..writes {
            c.cmd(&["SET", &format!("k{}", i % 100), &format!("{round}{value}")]);
        }
        replica.signal("CONT");
    };
    write_while_stopped(&mut c, 1, 2000);
    assert_same_data(&master, &replica);
    assert_eq!(master.info("stats", "sync_full"), "1", "{}", master.log());
    // Past `client-output-buffer-limit replica`: dropped, then a full resync.
    c.expect(
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "replica 1048576 0 0",
        ],
        "+OK\r\n",
    );
    // 40 MB: more than loopback socket buffers can absorb, whatever their tuning.
    write_while_stopped(&mut c, 2, 4000);
    wait_for(SYNC_TIMEOUT, "a second full resync", || {
        (master.info("stats", "sync_full") == "2").then_some(())
    });
    assert_same_data(&master, &replica);
    assert!(master.log().contains("overcoming of output buffer limits"));
}

#[test]
fn wait_counts_acks_and_times_out_while_the_replica_is_stopped() {
    if !redis_server_available() {
        return;
    }
    let master = ringkv(Backend::Uring, &[]);
    let replica = replica_of(&master);
    wait_synced(&master, &replica);
    let mut c = master.client();
    // No write pending: the connected replicas, at once.
    c.expect(&["WAIT", "1", "0"], ":1\r\n");
    c.cmd(&["SET", "k", "v"]);
    c.expect(&["WAIT", "1", "5000"], ":1\r\n");
    c.expect(&["WAIT", "2", "100"], ":1\r\n");
    replica.signal("STOP");
    c.cmd(&["SET", "k", "w"]);
    let started = Instant::now();
    c.expect(&["WAIT", "1", "300"], ":0\r\n");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // Timeout 0 waits until the replica answers.
    c.send_cmd(&["WAIT", "1", "0"]);
    thread::sleep(Duration::from_millis(200));
    replica.signal("CONT");
    c.set_timeout(Duration::from_secs(10));
    assert_eq!(c.read_reply(), b":1\r\n");
}

#[test]
fn two_replicas_follow_at_once() {
    if !redis_server_available() {
        return;
    }
    let master = ringkv(Backend::Epoll, &[]);
    let mut c = master.client();
    c.cmd(&["RPUSH", "l", "a", "b"]);
    let first = replica_of(&master);
    let second = replica_of(&master);
    for i in 0..200 {
        c.cmd(&["SET", &format!("k{i}"), &i.to_string()]);
    }
    assert_same_data(&master, &first);
    assert_same_data(&master, &second);
    assert_eq!(master.info("replication", "connected_slaves"), "2");
    c.expect(&["WAIT", "2", "5000"], ":2\r\n");
    let role = c.cmd_resp(&["ROLE"]);
    assert_eq!(role.items()[0].text(), "master");
    assert_eq!(role.items()[2].items().len(), 2);
}

/// Reads `+FULLRESYNC <replid> <offset>\r\n` and returns (replid, offset).
fn read_fullresync(c: &mut Client) -> (String, u64) {
    let line = read_line(c);
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(words.len(), 3, "{line:?}");
    assert_eq!(words[0], "+FULLRESYNC");
    assert_eq!(words[1].len(), 40);
    assert!(
        words[1].bytes().all(|b| b.is_ascii_alphanumeric()),
        "{line:?}"
    );
    (words[1].to_string(), words[2].parse().unwrap())
}

fn read_line(c: &mut Client) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        std::io::Read::read_exact(&mut c.stream(), &mut byte).expect("read");
        line.push(byte[0]);
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).unwrap()
}

fn read_exact(c: &mut Client, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    std::io::Read::read_exact(&mut c.stream(), &mut buf).expect("read");
    buf
}

fn handshake_bytes_of_a_raw_replica(srv: &mut Server) {
    let mut writer = srv.client();
    writer.cmd(&["SET", "a", "1"]);

    // capa eof: the diskless form, ended by the 40-byte mark.
    let mut eof = srv.client();
    eof.expect(&["REPLCONF", "capa", "eof", "capa", "psync2"], "+OK\r\n");
    eof.send_cmd(&["PSYNC", "?", "-1"]);
    let (replid, offset) = read_fullresync(&mut eof);
    let header = read_line(&mut eof);
    let mark = header
        .strip_prefix("$EOF:")
        .expect("$EOF:<mark>")
        .to_string();
    assert_eq!(mark.len(), 40);
    let mut rdb = Vec::new();
    while !rdb.ends_with(mark.as_bytes()) {
        rdb.extend(read_exact(&mut eof, 1));
    }
    assert!(rdb.starts_with(b"REDIS0010"), "{:?}", &rdb[..9]);
    // After the mark nothing follows until the replica's first ACK: stream bytes behind
    // the mark would hide it from a replica that looks for it at the end of a read.
    writer.cmd(&["SET", "early", "1"]);
    eof.expect_silence(Duration::from_millis(300));
    eof.send_cmd(&["REPLCONF", "ACK", &offset.to_string()]);
    let early = [
        common::multibulk(&["SELECT", "0"]),
        common::multibulk(&["SET", "early", "1"]),
    ]
    .concat();
    assert_eq!(read_exact(&mut eof, early.len()), early);

    // No capa: `$<len>` and exactly that many bytes.
    let mut plain = srv.client();
    plain.send_cmd(&["PSYNC", "?", "-1"]);
    let (same_id, _) = read_fullresync(&mut plain);
    assert_eq!(same_id, replid);
    let len: usize = read_line(&mut plain)
        .strip_prefix('$')
        .expect("$<len>")
        .parse()
        .unwrap();
    let body = read_exact(&mut plain, len);
    assert!(body.starts_with(b"REDIS0010"));

    // With `$<len>` the stream follows at once: a write, in its database.
    writer.cmd(&["SET", "b", "2"]);
    let select = common::multibulk(&["SELECT", "0"]);
    let set = common::multibulk(&["SET", "b", "2"]);
    assert_eq!(read_exact(&mut plain, select.len()), select);
    assert_eq!(read_exact(&mut plain, set.len()), set);

    // A partial resync from where the stream was (the first replica's offset).
    let mut again = srv.client();
    again.expect(&["REPLCONF", "capa", "psync2"], "+OK\r\n");
    again.send_cmd(&["PSYNC", &replid, &(offset + 1).to_string()]);
    assert_eq!(read_line(&mut again), format!("+CONTINUE {replid}"));
    // The full sync in between asked for a SELECT before the next command.
    let missed = [early, select.clone(), set].concat();
    assert_eq!(read_exact(&mut again, missed.len()), missed);
    let stats = srv.client().cmd(&["INFO", "stats"]);
    assert_eq!(info_field(&stats, "sync_full").unwrap(), "2");
    assert_eq!(info_field(&stats, "sync_partial_ok").unwrap(), "1");

    // An unknown history or an offset past the stream: a full resync.
    let mut stranger = srv.client();
    stranger.send_cmd(&["PSYNC", &"f".repeat(40), "1"]);
    read_fullresync(&mut stranger);
    let stats = srv.client().cmd(&["INFO", "stats"]);
    assert_eq!(info_field(&stats, "sync_partial_err").unwrap(), "1");
}

fn sync_sends_the_snapshot_without_fullresync(srv: &mut Server) {
    srv.client().cmd(&["SET", "a", "1"]);
    let mut c = srv.client();
    c.send_cmd(&["SYNC"]);
    let header = read_line(&mut c);
    let len: usize = header.strip_prefix('$').expect(&header).parse().unwrap();
    assert!(read_exact(&mut c, len).starts_with(b"REDIS0010"));
}

fn replconf_answers_like_redis(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["REPLCONF"], "+OK\r\n");
    c.expect(&["REPLCONF", "listening-port"], "-ERR syntax error\r\n");
    c.expect(
        &["REPLCONF", "listening-port", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    c.expect(
        &[
            "REPLCONF",
            "listening-port",
            "6380",
            "ip-address",
            "10.0.0.1",
        ],
        "+OK\r\n",
    );
    c.expect(&["REPLCONF", "capa", "eof", "capa", "future"], "+OK\r\n");
    c.expect(
        &["REPLCONF", "foo", "bar"],
        "-ERR Unrecognized REPLCONF option: foo\r\n",
    );
    c.expect(
        &["REPLCONF", "rdb-only", "2"],
        "-ERR value is out of range, value must between 0 and 1\r\n",
    );
    c.expect(
        &["REPLCONF", "rdb-filter-only", "x"],
        "-ERR Unsupported rdb-filter-only option: x\r\n",
    );
    // ACK and GETACK from a client that is not a replica get no reply.
    c.send_cmd(&["REPLCONF", "ACK", "5"]);
    c.send_cmd(&["REPLCONF", "GETACK", "*"]);
    c.expect(&["PING"], "+PONG\r\n");
    c.expect(&["WAIT", "0", "0"], ":0\r\n");
    c.expect(&["WAIT", "1", "-1"], "-ERR timeout is negative\r\n");
    c.expect(
        &["WAIT", "1", "x"],
        "-ERR timeout is not an integer or out of range\r\n",
    );
    c.expect(
        &["WAIT", "x", "0"],
        "-ERR value is not an integer or out of range\r\n",
    );
    c.expect(&["ROLE"], "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
    // Replies still pending in the same batch would land in the stream.
    c.send(
        &[
            common::multibulk(&["PING"]),
            common::multibulk(&["PSYNC", "?", "-1"]),
        ]
        .concat(),
    );
    c.expect_reply("+PONG\r\n");
    c.expect_reply("-ERR SYNC and PSYNC are invalid with pending output\r\n");
    let info = c.cmd(&["INFO", "replication"]);
    assert_eq!(info_field(&info, "role").unwrap(), "master");
    assert_eq!(info_field(&info, "repl_backlog_active").unwrap(), "0");
    assert!(matches!(c.cmd_resp(&["ROLE"]), Resp::Array(Some(_))));
}

fn config_set_resizes_the_backlog_keeping_its_newest_bytes(srv: &mut Server) {
    let mut replica = srv.client();
    replica.send_cmd(&["SYNC"]);
    let len: usize = read_line(&mut replica)[1..].parse().unwrap();
    read_exact(&mut replica, len);
    let mut c = srv.client();
    let field =
        |c: &mut Client, name: &str| info_field(&c.cmd(&["INFO", "replication"]), name).unwrap();
    let synced: u64 = field(&mut c, "master_repl_offset").parse().unwrap();
    let value = "v".repeat(1000);
    for i in 0..40 {
        c.cmd(&["SET", &format!("k{i}"), &value]);
    }
    let offset: u64 = field(&mut c, "master_repl_offset").parse().unwrap();
    assert!(offset > 40_000, "{offset}");
    // The replica has the whole stream: the backlog need not keep anything for it past
    // its size (it keeps what a lagging replica still needs, as Redis 7.0 does).
    read_exact(&mut replica, (offset - synced) as usize);
    assert_eq!(field(&mut c, "repl_backlog_histlen"), offset.to_string());
    c.expect(&["CONFIG", "SET", "repl-backlog-size", "20000"], "+OK\r\n");
    assert_eq!(field(&mut c, "repl_backlog_size"), "20000");
    // The sender notes how far it got just after its write completes: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while field(&mut c, "repl_backlog_histlen") != "20000" && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(field(&mut c, "repl_backlog_histlen"), "20000");
    assert_eq!(
        field(&mut c, "repl_backlog_first_byte_offset"),
        (offset - 20000 + 1).to_string()
    );
}

backend_tests! {
    config_set_resizes_the_backlog_keeping_its_newest_bytes,
    handshake_bytes_of_a_raw_replica,
    sync_sends_the_snapshot_without_fullresync,
    replconf_answers_like_redis,
}
