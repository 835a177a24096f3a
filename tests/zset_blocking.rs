//! Blocking sorted set pops across clients (BZPOPMIN, BZPOPMAX, BZMPOP): who is served,
//! by which writes, with what, and what is left; and which lookups of the multi-key
//! sorted set commands INFO counts. Each scenario also runs against redis-server, so they
//! say what Redis does (the non-waiting replies are compared in tests/scripts/zsets.redis).

#[macro_use]
mod common;

use std::time::Duration;

use common::{multibulk, redis_server_available, Server};

/// Long enough for a blocked command to be seen waiting.
const SETTLE: Duration = Duration::from_millis(100);

fn bzpopmin_is_served_the_lowest_member_by_a_later_zadd(srv: &mut Server) {
    let mut blocked = srv.client();
    let mut c = srv.client();
    blocked.send_cmd(&["BZPOPMIN", "empty", "z", "0"]);
    blocked.expect_silence(SETTLE);
    c.expect(&["ZADD", "z", "2", "b", "1", "a"], ":2\r\n");
    blocked.expect_reply("*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n");
    c.expect(&["ZRANGE", "z", "0", "-1"], "*1\r\n$1\r\nb\r\n");
}

fn bzpopmax_is_served_by_zincrby_creating_the_key(srv: &mut Server) {
    let mut blocked = srv.client();
    let mut c = srv.client();
    blocked.send_cmd(&["BZPOPMAX", "z", "0"]);
    blocked.expect_silence(SETTLE);
    c.expect(&["ZINCRBY", "z", "1.5", "m"], "$3\r\n1.5\r\n");
    blocked.expect_reply("*3\r\n$1\r\nz\r\n$1\r\nm\r\n$3\r\n1.5\r\n");
    c.expect(&["EXISTS", "z"], ":0\r\n");
}

fn bzmpop_takes_up_to_its_count_from_a_stored_union(srv: &mut Server) {
    let mut blocked = srv.client();
    let mut c = srv.client();
    blocked.send_cmd(&["BZMPOP", "0", "2", "nokey", "dst", "MAX", "COUNT", "5"]);
    blocked.expect_silence(SETTLE);
    c.expect(&["ZADD", "src", "1", "a", "2", "b"], ":2\r\n");
    blocked.expect_silence(SETTLE);
    c.expect(
        &["ZUNIONSTORE", "dst", "1", "src", "WEIGHTS", "10"],
        ":2\r\n",
    );
    blocked.expect_reply(
        "*2\r\n$3\r\ndst\r\n*2\r\n*2\r\n$1\r\nb\r\n$2\r\n20\r\n*2\r\n$1\r\na\r\n$2\r\n10\r\n",
    );
    c.expect(&["EXISTS", "dst"], ":0\r\n");
}

fn a_key_of_another_type_keeps_a_zset_pop_waiting(srv: &mut Server) {
    let mut blocked = srv.client();
    let mut c = srv.client();
    blocked.send_cmd(&["BZPOPMIN", "k", "0"]);
    blocked.expect_silence(SETTLE);
    c.expect(&["RPUSH", "k", "x"], ":1\r\n");
    blocked.expect_silence(SETTLE);
    c.expect(&["DEL", "k"], ":1\r\n");
    c.expect(&["ZADD", "k", "7", "m"], ":1\r\n");
    blocked.expect_reply("*3\r\n$1\r\nk\r\n$1\r\nm\r\n$1\r\n7\r\n");
}

/// Both waiters are served from one ZADD, each member once. Redis serves them in arrival
/// order; ringkv wakes both and the first to retry wins, so either may go first.
fn two_waiters_share_the_members_of_one_zadd(srv: &mut Server) {
    let mut bzmpop = srv.client();
    let mut bzpopmin = srv.client();
    let mut c = srv.client();
    bzmpop.send_cmd(&["BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"]);
    bzmpop.expect_silence(SETTLE);
    bzpopmin.send_cmd(&["BZPOPMIN", "z", "0"]);
    bzpopmin.expect_silence(SETTLE);
    c.expect(&["ZADD", "z", "1", "a", "2", "b", "3", "c"], ":3\r\n");
    let pair = |m: &str, s: &str| format!("*2\r\n$1\r\n{m}\r\n$1\r\n{s}\r\n");
    let two = |a: String, b: String| format!("*2\r\n$1\r\nz\r\n*2\r\n{a}{b}");
    let one = |m: &str, s: &str| format!("*3\r\n$1\r\nz\r\n$1\r\n{m}\r\n$1\r\n{s}\r\n");
    let served = (
        String::from_utf8_lossy(&bzmpop.read_reply()).into_owned(),
        String::from_utf8_lossy(&bzpopmin.read_reply()).into_owned(),
    );
    let arrival_order = (two(pair("a", "1"), pair("b", "2")), one("c", "3"));
    let other_order = (two(pair("b", "2"), pair("c", "3")), one("a", "1"));
    assert!(
        served == arrival_order || served == other_order,
        "served {served:?}"
    );
    c.expect(&["EXISTS", "z"], ":0\r\n");
}

/// Redis serves blocked clients after the whole EXEC: what a transaction adds and takes
/// away again is never popped, whether the waiter blocked long before (woken by the
/// ZADD) or has only just blocked (the transaction is pipelined as soon as INFO counts
/// the waiter, while it may still be checking its keys).
fn a_transaction_that_adds_and_removes_serves_nobody(srv: &mut Server) {
    let transaction: [&[&str]; 5] = [
        &["MULTI"],
        &["ZADD", "z", "0", "foo"],
        &["DEL", "z"],
        &["SET", "z", "foo"],
        &["EXEC"],
    ];
    let pipelined: Vec<u8> = transaction.iter().flat_map(|c| multibulk(c)).collect();
    for settle in [Duration::ZERO, SETTLE] {
        let mut blocked = srv.client();
        let mut c = srv.client();
        blocked.send_cmd(&["BZMPOP", "0", "1", "z", "MIN"]);
        common::wait_for(Duration::from_secs(5), "the client to block", || {
            (srv.info("clients", "blocked_clients") == "1").then_some(())
        });
        std::thread::sleep(settle);
        c.send(&pipelined);
        for _ in 0..4 {
            c.read_reply();
        }
        assert_eq!(c.read_reply(), b"*3\r\n:1\r\n:1\r\n+OK\r\n");
        blocked.expect_silence(SETTLE);
        c.expect(&["DEL", "z"], ":1\r\n");
        c.expect(&["ZADD", "z", "1", "bar"], ":1\r\n");
        blocked.expect_reply("*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$3\r\nbar\r\n$1\r\n1\r\n");
        c.expect(&["DEL", "z"], ":0\r\n");
    }
}

fn blocking_zset_pops_time_out_with_a_null_array(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["BZPOPMIN", "nokey", "0.05"], "*-1\r\n");
    c.expect(&["BZPOPMAX", "a", "b", "0.05"], "*-1\r\n");
    c.expect(&["BZMPOP", "0.05", "1", "nokey", "MAX"], "*-1\r\n");
}

/// The algebra looks its inputs up for reading, each counted; the pops look keys up for
/// writing, which INFO does not count.
fn only_the_algebra_counts_keyspace_hits_and_misses(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["ZADD", "z", "1", "a", "2", "b"], ":2\r\n");
    c.expect(&["SET", "s", "v"], "+OK\r\n");
    c.expect(&["CONFIG", "RESETSTAT"], "+OK\r\n");
    c.cmd(&["ZUNION", "3", "z", "nokey", "z"]);
    c.cmd(&["ZINTERSTORE", "d", "2", "z", "z"]);
    c.cmd(&["ZINTERCARD", "3", "nokey", "s", "z"]);
    c.cmd(&["ZMPOP", "2", "nokey", "z", "MIN"]);
    c.cmd(&["BZPOPMAX", "nokey", "z", "0"]);
    assert_eq!(srv.info("stats", "keyspace_hits"), "5");
    assert_eq!(srv.info("stats", "keyspace_misses"), "2");
}

/// Runs each scenario on both ringkv backends, and all of them against the real
/// redis-server, whose behaviour the expectations are.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        backend_tests! { $($name),* }

        #[test]
        fn redis_server_behaves_the_same() {
            if !redis_server_available() {
                return;
            }
            let scenarios: &[fn(&mut Server)] = &[$($name),*];
            for scenario in scenarios {
                scenario(&mut Server::start_redis());
            }
        }
    };
}

scenarios! {
    bzpopmin_is_served_the_lowest_member_by_a_later_zadd,
    bzpopmax_is_served_by_zincrby_creating_the_key,
    bzmpop_takes_up_to_its_count_from_a_stored_union,
    a_key_of_another_type_keeps_a_zset_pop_waiting,
    two_waiters_share_the_members_of_one_zadd,
    a_transaction_that_adds_and_removes_serves_nobody,
    blocking_zset_pops_time_out_with_a_null_array,
    only_the_algebra_counts_keyspace_hits_and_misses,
}
