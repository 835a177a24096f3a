//! Set commands over TCP, where a script cannot say it: SPOP's random picks are members
//! that leave the set, each once; SMOVE between two sets from several clients at once
//! neither loses nor duplicates a member (the two keys are locked together); and the
//! keyspace hits and misses each command counts equal redis-server's, command by command,
//! and so do their COMMAND INFO rows.

#[macro_use]
mod common;

use std::collections::HashSet;

use common::{redis_server_available, Client, Resp, Server};

fn members(reply: &Resp) -> Vec<String> {
    reply.items().iter().map(Resp::text).collect()
}

fn add_numbers(c: &mut Client, key: &str, n: usize) -> HashSet<String> {
    let all: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    let mut args = vec!["SADD", key];
    args.extend(all.iter().map(String::as_str));
    assert_eq!(c.cmd_resp(&args).int(), n as i64);
    all.into_iter().collect()
}

/// Pops with counts that take each of Redis' three paths (few, most, all) and without a
/// count: every popped member was in the set, none twice, and none is left in it.
fn spop_pops_distinct_members_that_leave_the_set(srv: &mut Server) {
    let mut c = srv.client();
    let mut left = add_numbers(&mut c, "s", 100);
    let pop = |c: &mut Client, left: &mut HashSet<String>, args: &[&str], expected: usize| {
        let got = match c.cmd_resp(args) {
            Resp::Bulk(Some(member)) => vec![String::from_utf8_lossy(&member).into_owned()],
            reply => members(&reply),
        };
        assert_eq!(got.len(), expected, "{args:?}");
        for member in got {
            assert!(
                left.remove(&member),
                "{args:?} popped {member} twice or from nowhere"
            );
        }
        assert_eq!(c.cmd_resp(&["SCARD", "s"]).int(), left.len() as i64);
    };
    pop(&mut c, &mut left, &["SPOP", "s"], 1);
    pop(&mut c, &mut left, &["SPOP", "s", "5"], 5);
    pop(&mut c, &mut left, &["SPOP", "s", "90"], 90);
    pop(&mut c, &mut left, &["SPOP", "s", "0"], 0);
    let rest: HashSet<String> = members(&c.cmd_resp(&["SMEMBERS", "s"]))
        .into_iter()
        .collect();
    assert_eq!(rest, left);
    pop(&mut c, &mut left, &["SPOP", "s", "10"], 4);
    assert_eq!(c.cmd_resp(&["EXISTS", "s"]).int(), 0);
}

/// Four clients move members back and forth between two sets (in both directions, so
/// their lock orders cross) while one more reads SUNION: nothing is lost or duplicated.
fn concurrent_smoves_keep_every_member_once(srv: &mut Server) {
    let all = add_numbers(&mut srv.client(), "left", 50);
    let port = srv.port();
    let movers: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                let (from, to) = if t % 2 == 0 {
                    ("left", "right")
                } else {
                    ("right", "left")
                };
                for i in 0..300 {
                    let member = format!("m{}", (i * 7 + t) % 50);
                    let moved = c.cmd_resp(&["SMOVE", from, to, &member]).int();
                    assert!(moved == 0 || moved == 1);
                }
            })
        })
        .collect();
    let mut reader = srv.client();
    for _ in 0..100 {
        let union: HashSet<String> = members(&reader.cmd_resp(&["SUNION", "left", "right"]))
            .into_iter()
            .collect();
        assert_eq!(union, all);
    }
    movers.into_iter().for_each(|m| m.join().unwrap());
    let cards: i64 = ["left", "right"]
        .iter()
        .map(|k| reader.cmd_resp(&["SCARD", k]).int())
        .sum();
    assert_eq!(cards, 50);
}

backend_tests! {
    spop_pops_distinct_members_that_leave_the_set,
    concurrent_smoves_keep_every_member_once,
}

/// `keyspace_hits:N` and `keyspace_misses:N` from INFO stats.
fn lookups(c: &mut Client) -> (String, String) {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "stats"])).into_owned();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_string()
    };
    (field("keyspace_hits:"), field("keyspace_misses:"))
}

/// A ringkv and a redis-server to compare; None (skip) without redis-server.
fn ringkv_and_redis() -> Option<(Server, Server)> {
    redis_server_available().then(|| (Server::start(common::Backend::Epoll), Server::start_redis()))
}

/// Each set command counts the lookups redis-server counts: reads one per key until a key
/// of another type stops them (the *STORE forms included), SPOP and SMOVE none.
#[test]
fn set_commands_count_keyspace_lookups_like_redis() {
    let Some((ours, reference)) = ringkv_and_redis() else {
        return;
    };
    let commands: &[&[&str]] = &[
        &["SMEMBERS", "a"],
        &["SMEMBERS", "no"],
        &["SISMEMBER", "a", "1"],
        &["SMISMEMBER", "no", "1", "2"],
        &["SCARD", "a"],
        &["SCARD", "no"],
        &["SRANDMEMBER", "a"],
        &["SRANDMEMBER", "no", "3"],
        &["SSCAN", "a", "0"],
        &["SINTER", "a", "no", "b"],
        &["SINTER", "a", "str", "b"],
        &["SUNION", "str", "a"],
        &["SDIFF", "no", "a", "b"],
        &["SINTERCARD", "3", "a", "no", "b"],
        &["SINTERSTORE", "d", "a", "b"],
        &["SUNIONSTORE", "d", "a", "no"],
        &["SDIFFSTORE", "d", "a", "b", "no"],
        &["SPOP", "no"],
        &["SPOP", "a", "0"],
        &["SMOVE", "a", "c", "1"],
        &["SMOVE", "no", "a", "1"],
        &["SREM", "a", "9"],
        &["SADD", "a", "8"],
    ];
    for server in [&ours, &reference] {
        let mut c = server.client();
        c.cmd(&["SADD", "a", "1", "2", "3"]);
        c.cmd(&["SADD", "b", "2", "3", "4"]);
        c.cmd(&["SET", "str", "x"]);
    }
    let (mut a, mut b) = (ours.client(), reference.client());
    for args in commands {
        a.cmd(args);
        b.cmd(args);
        assert_eq!(lookups(&mut a), lookups(&mut b), "after {args:?}");
    }
}

/// COMMAND INFO of every set command equals redis-server's in name, arity, flags, key
/// positions and ACL categories (tips and key specifications are not reported yet).
#[test]
fn set_commands_are_described_like_redis() {
    let Some((ours, reference)) = ringkv_and_redis() else {
        return;
    };
    let (mut a, mut b) = (ours.client(), reference.client());
    let names = a.cmd_resp(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "set"]);
    let names = members(&names);
    assert_eq!(names.len(), 17, "{names:?}");
    for name in &names {
        let row = |c: &mut Client| {
            c.cmd_resp(&["COMMAND", "INFO", name]).items()[0].items()[..7].to_vec()
        };
        assert_eq!(row(&mut a), row(&mut b), "COMMAND INFO {name}");
    }
}
