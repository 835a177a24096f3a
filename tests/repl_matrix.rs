//! The replication proof matrix: every scenario runs for each of the three pairings,
//! ringkv → ringkv, redis-server → ringkv and ringkv → redis-server. Writes of every kind
//! propagate (TTLs, deletes, expirations by TTL, FLUSHDB), a late replica gets the whole
//! dataset, WAIT counts real ACKs and times out while the replica is stopped, offsets
//! agree when idle, the replica is read-only, a killed link resumes partially, a restarted
//! master forces a full resync, and 100k pipelined writes arrive intact. Data is compared
//! with DEBUG DIGEST. Pairings with redis-server skip without it unless
//! RINGKV_REQUIRE_REDIS=1.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::{redis_server_available, wait_for, wait_synced, Backend, Client, Server};

const SYNC_TIMEOUT: Duration = Duration::from_secs(20);

/// Which server plays a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ringkv,
    Redis,
}

/// A master kind and a replica kind; starts both sides.
#[derive(Clone, Copy, Debug)]
struct Pairing {
    master: Kind,
    replica: Kind,
}

impl Pairing {
    /// False (after the skip notice) when the pairing needs redis-server and it is missing.
    fn available(self) -> bool {
        (self.master == Kind::Ringkv && self.replica == Kind::Ringkv) || redis_server_available()
    }

    fn start_master(self) -> Server {
        match self.master {
            Kind::Ringkv => {
                Server::start_ringkv(Backend::Uring, &[("enable-debug-command", "yes")])
            }
            // Diskless with no delay: the snapshot goes out at once.
            Kind::Redis => Server::start_redis_with(&[
                ("enable-debug-command", "yes"),
                ("repl-diskless-sync", "yes"),
                ("repl-diskless-sync-delay", "0"),
            ]),
        }
    }

    /// A replica of `master`, returned once its link is up.
    fn start_replica(self, master: &Server) -> Server {
        let at = format!("127.0.0.1 {}", master.port());
        let replica = match self.replica {
            Kind::Ringkv => Server::start_ringkv(
                Backend::Epoll,
                &[
                    ("replicaof", &at),
                    ("enable-debug-command", "yes"),
                    ("repl-timeout", "5"),
                ],
            ),
            Kind::Redis => Server::start_redis_with(&[
                ("replicaof", &at),
                ("enable-debug-command", "yes"),
                ("repl-diskless-load", "disabled"),
            ]),
        };
        wait_for(SYNC_TIMEOUT, "the link to come up", || {
            (replica.info("replication", "master_link_status") == "up").then_some(())
        });
        replica
    }

    /// Both sides, the replica attached; None (skip) without redis-server.
    fn start(self) -> Option<(Server, Server)> {
        if !self.available() {
            return None;
        }
        let master = self.start_master();
        let replica = self.start_replica(&master);
        Some((master, replica))
    }
}

const RINGKV_TO_RINGKV: Pairing = Pairing {
    master: Kind::Ringkv,
    replica: Kind::Ringkv,
};
const REDIS_TO_RINGKV: Pairing = Pairing {
    master: Kind::Redis,
    replica: Kind::Ringkv,
};
const RINGKV_TO_REDIS: Pairing = Pairing {
    master: Kind::Ringkv,
    replica: Kind::Redis,
};

fn digest(server: &Server) -> String {
    server.client().cmd_resp(&["DEBUG", "DIGEST"]).text()
}

/// The `offset=` of the master's `slave0` line.
fn slave0_offset(master: &Server) -> String {
    let line = master.info("replication", "slave0");
    line.split(',')
        .find_map(|kv| kv.strip_prefix("offset="))
        .unwrap_or_default()
        .to_string()
}

/// The replica has caught up and holds the master's data, database by database.
fn assert_same_data(master: &Server, replica: &Server) {
    wait_synced(master, replica);
    let (mut m, mut r) = (master.client(), replica.client());
    for db in 0..4 {
        let db = db.to_string();
        m.expect(&["SELECT", &db], "+OK\r\n");
        r.expect(&["SELECT", &db], "+OK\r\n");
        assert_eq!(r.cmd(&["DBSIZE"]), m.cmd(&["DBSIZE"]), "DBSIZE of db {db}");
    }
    assert_eq!(digest(replica), digest(master), "DEBUG DIGEST");
}

/// Sends each command, failing on an error reply.
fn run(c: &mut Client, commands: &[&[&str]]) {
    for args in commands {
        let reply = c.cmd(args);
        assert!(
            !reply.starts_with(b"-"),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&reply)
        );
    }
}

/// Writes of every kind ringkv has commands for, in databases 0, 1 and 2 (sorted sets
/// and streams arrive through the snapshot tests only).
fn write_every_kind(c: &mut Client) {
    run(
        c,
        &[
            &["SET", "s", "hello"],
            &["SET", "ex", "v", "EX", "1000"],
            &["SET", "px", "v", "PX", "1000000"],
            &["SET", "ex", "kept", "KEEPTTL"],
            &["SETEX", "setex", "1000", "v"],
            &["SET", "n", "10"],
            &["INCR", "n"],
            &["INCRBYFLOAT", "f", "1.5"],
            &["INCRBYFLOAT", "f", "0.1"],
            &["APPEND", "s", " world"],
            &["SETRANGE", "s", "0", "J"],
            &["SETRANGE", "padded", "5", "x"],
            &["GETEX", "s", "PX", "5000000"],
            &["RPUSH", "l", "a", "b", "c", "d"],
            &["LPUSH", "l", "z"],
            &["LPOP", "l"],
            &["RPOP", "l"],
            &["RPUSH", "edits", "a", "b", "c", "b", "d", "e", "f"],
            &["LSET", "edits", "0", "A"],
            &["LINSERT", "edits", "BEFORE", "c", "pivot"],
            &["LREM", "edits", "-1", "b"],
            &["LTRIM", "edits", "0", "-2"],
            &["LPUSHX", "edits", "x"],
            &["LMOVE", "edits", "moved", "LEFT", "RIGHT"],
            &["RPOPLPUSH", "edits", "moved"],
            &["BRPOP", "edits", "0"],
            &["BLMOVE", "edits", "moved", "RIGHT", "LEFT", "0"],
            &["BRPOPLPUSH", "moved", "moved", "0"],
            &["SADD", "set", "a", "b", "c", "1"],
            &["SREM", "set", "a"],
            // SPOP reaches replicas as SREM (in MULTI/EXEC when several) or DEL.
            &[
                "SADD", "pool", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
                "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26",
                "27", "28", "29", "30", "x",
            ],
            &["SPOP", "pool"],
            &["SPOP", "pool", "3"],
            &["SPOP", "pool", "23"],
            &["SPOP", "pool", "0"],
            &["SADD", "popped", "1", "2"],
            &["SPOP", "popped", "5"],
            &["SMOVE", "set", "set-moved", "b"],
            &["SMOVE", "set", "set-moved", "nomember"],
            &["MSET", "m1", "a", "m2", "b"],
            &["GETSET", "m1", "c"],
            &["PSETEX", "psetex", "1000000", "v"],
            &["SETBIT", "bits", "7", "1"],
            &["RENAMENX", "m2", "m3"],
            &["SADD", "nums", "1", "2", "3"],
            &["SINTERSTORE", "inter", "set", "nums"],
            &["SUNIONSTORE", "union", "set", "nums", "set-moved"],
            &["SDIFFSTORE", "diff", "nums", "set"],
            &["SET", "emptied", "x", "EX", "1000"],
            &["SINTERSTORE", "emptied", "set", "nokey"],
            &["SET", "replaced", "x", "EX", "1000"],
            &["SUNIONSTORE", "replaced", "nums"],
            &["HSET", "h", "a", "1", "b", "2", "c", "3"],
            &["HMSET", "h", "d", "4"],
            &["HSETNX", "h", "e", "5"],
            &["HDEL", "h", "a"],
            &["HINCRBY", "h", "b", "40"],
            &["HINCRBYFLOAT", "h", "c", "0.25"],
            &["HSET", "big-hash", "f", &"x".repeat(100)],
            &[
                "ZADD", "z", "1", "a", "2.5", "b", "-0", "c", "0.1", "d", "5", "e", "6", "f",
            ],
            &["ZADD", "z", "XX", "CH", "GT", "3", "a", "1", "b"],
            &["ZADD", "z", "NX", "9", "a"],
            &["ZINCRBY", "z", "0.25", "d"],
            &["ZADD", "z", "INCR", "-1", "e"],
            &["ZREM", "z", "c", "nomember"],
            &["ZPOPMIN", "z"],
            &["ZPOPMAX", "z", "2"],
            &[
                "ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f",
            ],
            &["ZREMRANGEBYLEX", "lex", "[b", "(d"],
            &["ZREMRANGEBYRANK", "lex", "-1", "-1"],
            &["ZREMRANGEBYSCORE", "z", "(3", "+inf"],
            &["ZRANGESTORE", "zcopy", "lex", "0", "-1", "REV"],
            &["ZRANGESTORE", "zcopy-none", "nokey", "0", "-1"],
            &["ZADD", "big-zset", "1", &"m".repeat(100), "2", "n"],
            &[
                "ZUNIONSTORE",
                "zunion",
                "3",
                "z",
                "lex",
                "nums",
                "WEIGHTS",
                "2",
                "1",
                "0.5",
            ],
            &["ZINTERSTORE", "zinter", "2", "z", "z", "AGGREGATE", "MAX"],
            &["ZDIFFSTORE", "zdiff", "2", "lex", "zcopy"],
            &["ZUNIONSTORE", "zunion-big", "2", "big-zset", "z"],
            &["SET", "zinter-gone", "x", "EX", "1000"],
            &[
                "ZADD", "zpops", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
            ],
            &["ZMPOP", "2", "nokey", "zpops", "MIN", "COUNT", "2"],
            &["BZPOPMAX", "nokey", "zpops", "0"],
            &["BZMPOP", "0", "1", "zpops", "MAX", "COUNT", "9"],
            &["ZADD", "zpops", "1", "a", "2", "b"],
            &["BZPOPMIN", "zpops", "0"],
            &["ZINTERSTORE", "zinter-gone", "2", "z", "nokey"],
            &["SET", "del-me", "x"],
            &["DEL", "del-me"],
            &["SET", "unlink-me", "x"],
            &["UNLINK", "unlink-me"],
            &["SET", "old", "renamed"],
            &["RENAME", "old", "new"],
            &["COPY", "l", "l-copy"],
            &["COPY", "nums", "nums", "DB", "1"],
            &["SET", "mover", "m"],
            &["MOVE", "mover", "2"],
            &["SET", "persist", "p", "EX", "1000"],
            &["PERSIST", "persist"],
            &["EXPIRE", "nums", "1000"],
            &["PEXPIREAT", "new", "99999999999999"],
            &["GETDEL", "px"],
            &["SELECT", "2"],
            &["SET", "in2", "two"],
            &["SELECT", "3"],
            &["SET", "in3", "gone"],
            &["RPUSH", "l3", "gone"],
            &["FLUSHDB"],
            &["SET", "after-flush", "kept"],
            &["SELECT", "0"],
        ],
    );
}

fn writes_of_every_kind_propagate(pairing: Pairing) {
    let Some((master, replica)) = pairing.start() else {
        return;
    };
    let mut m = master.client();
    write_every_kind(&mut m);
    assert_same_data(&master, &replica);
    let mut r = replica.client();
    r.expect(&["GET", "s"], "$11\r\nJello world\r\n");
    r.expect(&["GET", "f"], "$3\r\n1.6\r\n");
    r.expect(
        &["HMGET", "h", "b", "c"],
        "*2\r\n$2\r\n42\r\n$4\r\n3.25\r\n",
    );
    r.expect(&["TTL", "persist"], ":-1\r\n");

    // Keys expiring by TTL on the master, untouched: the master's active expiry deletes
    // them and the replica is told (DBSIZE counts expired keys not yet deleted).
    run(
        &mut m,
        &[
            &["SET", "short", "v", "PX", "50"],
            &["PEXPIRE", "s", "50"],
            &["RPUSH", "l-short", "a"],
            &["PEXPIRE", "l-short", "50"],
        ],
    );
    wait_synced(&master, &replica);
    let before: i64 = r.cmd_resp(&["DBSIZE"]).int();
    wait_for(SYNC_TIMEOUT, "the master to expire the keys", || {
        (m.cmd_resp(&["DBSIZE"]).int() == before - 3).then_some(())
    });
    assert_same_data(&master, &replica);
    r.expect(&["EXISTS", "short", "s", "l-short"], ":0\r\n");
}

fn late_replica_gets_the_full_dataset(pairing: Pairing) {
    if !pairing.available() {
        return;
    }
    let master = pairing.start_master();
    let mut m = master.client();
    write_every_kind(&mut m);
    let big = "v".repeat(5000);
    for i in 0..500 {
        run(&mut m, &[&["SET", &format!("bulk:{i}"), &big]]);
    }
    let replica = pairing.start_replica(&master);
    assert_same_data(&master, &replica);
    assert_eq!(master.info("stats", "sync_full"), "1");
}

fn wait_counts_acks_and_times_out(pairing: Pairing) {
    let Some((master, replica)) = pairing.start() else {
        return;
    };
    let mut m = master.client();
    run(&mut m, &[&["SET", "a", "1"]]);
    m.expect(&["WAIT", "1", "5000"], ":1\r\n");
    // One replica: asking for two waits the whole timeout and answers one.
    let start = Instant::now();
    m.expect(&["WAIT", "2", "300"], ":1\r\n");
    assert!(start.elapsed() >= Duration::from_millis(300));

    replica.signal("STOP");
    run(&mut m, &[&["SET", "b", "2"]]);
    let start = Instant::now();
    let acked = m.cmd_resp(&["WAIT", "1", "500"]).int();
    let took = start.elapsed();
    replica.signal("CONT");
    assert_eq!(acked, 0, "a stopped replica cannot acknowledge");
    assert!(
        took >= Duration::from_millis(500),
        "WAIT returned after {took:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "WAIT returned after {took:?}"
    );
    m.expect(&["WAIT", "1", "5000"], ":1\r\n");
    assert_same_data(&master, &replica);
}

fn offsets_agree_when_idle(pairing: Pairing) {
    let Some((master, replica)) = pairing.start() else {
        return;
    };
    write_every_kind(&mut master.client());
    wait_for(SYNC_TIMEOUT, "the offsets to agree", || {
        let ours = master.info("replication", "master_repl_offset");
        let theirs = replica.info("replication", "slave_repl_offset");
        let acked = slave0_offset(&master);
        (ours != "0" && ours == theirs && ours == acked).then_some(())
    });
    assert_eq!(
        master.info("replication", "master_replid"),
        replica.info("replication", "master_replid")
    );
}

fn replica_is_read_only(pairing: Pairing) {
    let Some((master, replica)) = pairing.start() else {
        return;
    };
    run(&mut master.client(), &[&["SET", "k", "v"]]);
    wait_synced(&master, &replica);
    let mut r = replica.client();
    r.expect(
        &["SET", "k", "other"],
        "-READONLY You can't write against a read only replica.\r\n",
    );
    r.expect(
        &["DEL", "k"],
        "-READONLY You can't write against a read only replica.\r\n",
    );
    r.expect(&["GET", "k"], "$1\r\nv\r\n");
}

fn killed_link_resyncs_partially(pairing: Pairing) {
    let Some((master, replica)) = pairing.start() else {
        return;
    };
    let mut m = master.client();
    run(
        &mut m,
        &[
            &["SET", "before", "1"],
            &["SELECT", "1"],
            &["SET", "in1", "1"],
        ],
    );
    wait_synced(&master, &replica);
    assert_eq!(master.info("stats", "sync_full"), "1");
    assert_eq!(master.info("stats", "sync_partial_ok"), "0");
    m.expect(&["CLIENT", "KILL", "TYPE", "replica"], ":1\r\n");
    // Still in database 1: the resumed stream has no SELECT before this write.
    run(&mut m, &[&["SET", "while-away", "2"], &["DEL", "in1"]]);
    wait_for(SYNC_TIMEOUT, "a partial resync", || {
        (master.info("stats", "sync_partial_ok") == "1").then_some(())
    });
    assert_same_data(&master, &replica);
    assert_eq!(master.info("stats", "sync_full"), "1");
}

fn restarted_master_leads_to_a_full_resync(pairing: Pairing) {
    let Some((mut master, replica)) = pairing.start() else {
        return;
    };
    run(&mut master.client(), &[&["SET", "old-master", "1"]]);
    wait_synced(&master, &replica);
    let old_replid = master.info("replication", "master_replid");
    master.restart();
    assert_ne!(master.info("replication", "master_replid"), old_replid);
    run(&mut master.client(), &[&["SET", "new-master", "2"]]);
    wait_for(SYNC_TIMEOUT, "a full resync with the new master", || {
        (master.info("stats", "sync_full") == "1").then_some(())
    });
    assert_same_data(&master, &replica);
    let mut r = replica.client();
    r.expect(&["EXISTS", "old-master"], ":0\r\n");
    r.expect(&["GET", "new-master"], "$1\r\n2\r\n");
}

fn pipelined_writes_arrive_intact(pairing: Pairing) {
    let Some((master, replica)) = pairing.start() else {
        return;
    };
    const WRITES: usize = 100_000;
    let mut burst = Vec::new();
    let mut expected = Vec::new();
    for i in 0..WRITES {
        let args = if i % 2 == 0 {
            expected.extend_from_slice(b"+OK\r\n");
            vec!["SET".to_string(), format!("key:{i}"), format!("value:{i}")]
        } else {
            expected.extend_from_slice(b":1\r\n");
            vec!["SADD".to_string(), format!("set:{}", i % 97), i.to_string()]
        };
        burst.extend_from_slice(&common::multibulk(&args));
    }
    // One burst on a raw socket, written while the replies are read so neither side's
    // buffers fill up.
    let mut writer = std::net::TcpStream::connect(("127.0.0.1", master.port())).unwrap();
    let mut reader = writer.try_clone().unwrap();
    reader.set_read_timeout(Some(SYNC_TIMEOUT)).unwrap();
    let sender = std::thread::spawn(move || writer.write_all(&burst).unwrap());
    let mut replies = vec![0; expected.len()];
    reader.read_exact(&mut replies).unwrap();
    sender.join().unwrap();
    assert!(replies == expected, "the replies to the burst");
    assert_same_data(&master, &replica);
    assert_eq!(
        replica.client().cmd_resp(&["DBSIZE"]).int(),
        (WRITES / 2 + 97) as i64
    );
}

/// One test per scenario and pairing.
macro_rules! matrix {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[test]
                fn ringkv_to_ringkv() {
                    super::$scenario(super::RINGKV_TO_RINGKV);
                }

                #[test]
                fn redis_to_ringkv() {
                    super::$scenario(super::REDIS_TO_RINGKV);
                }

                #[test]
                fn ringkv_to_redis() {
                    super::$scenario(super::RINGKV_TO_REDIS);
                }
            }
        )*
    };
}

matrix! {
    writes_of_every_kind_propagate,
    late_replica_gets_the_full_dataset,
    wait_counts_acks_and_times_out,
    offsets_agree_when_idle,
    replica_is_read_only,
    killed_link_resyncs_partially,
    restarted_master_leads_to_a_full_resync,
    pipelined_writes_arrive_intact,
}
