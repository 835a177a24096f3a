//! WATCH across clients: another client's write makes EXEC fail, and optimistic
//! transactions (WATCH, read, MULTI, write, EXEC) never lose an update under contention.
//! Each scenario also runs against redis-server (single-client WATCH replies are compared
//! with it in tests/scripts/watch.redis).

#[macro_use]
mod common;

use common::{redis_server_available, Client, Resp, Server};

fn another_clients_write_fails_exec(srv: &mut Server) {
    let (mut a, mut b) = (srv.client(), srv.client());
    a.expect(&["SET", "k", "1"], "+OK\r\n");
    a.expect(&["WATCH", "k", "other"], "+OK\r\n");
    b.expect(&["SET", "k", "2"], "+OK\r\n");
    a.expect(&["MULTI"], "+OK\r\n");
    a.expect(&["SET", "k", "from-a"], "+QUEUED\r\n");
    a.expect(&["EXEC"], "*-1\r\n");
    a.expect(&["GET", "k"], "$1\r\n2\r\n");
    // Unwatched by that EXEC: the next transaction runs.
    b.expect(&["SET", "k", "3"], "+OK\r\n");
    a.expect(&["MULTI"], "+OK\r\n");
    a.expect(&["SET", "k", "from-a"], "+QUEUED\r\n");
    a.expect(&["EXEC"], "*1\r\n+OK\r\n");
}

fn a_read_by_another_client_does_not_fail_exec(srv: &mut Server) {
    let (mut a, mut b) = (srv.client(), srv.client());
    a.expect(&["RPUSH", "l", "x"], ":1\r\n");
    a.expect(&["WATCH", "l"], "+OK\r\n");
    b.expect(&["LRANGE", "l", "0", "-1"], "*1\r\n$1\r\nx\r\n");
    b.expect(&["LPUSHX", "nokey", "y"], ":0\r\n");
    a.expect(&["MULTI"], "+OK\r\n");
    a.expect(&["LLEN", "l"], "+QUEUED\r\n");
    a.expect(&["EXEC"], "*1\r\n:1\r\n");
}

/// Optimistic increments from several clients at once: every EXEC that succeeds adds
/// exactly one, so the counter ends at the number of successful EXECs. Each transaction
/// reads a long list before its write, which widens the time between an EXEC's check and
/// its write, where another EXEC must not pass its own check.
fn optimistic_increments_never_lose_an_update(srv: &mut Server) {
    const CLIENTS: usize = 4;
    const SUCCESSES_EACH: usize = 50;
    let mut setup = srv.client();
    for chunk in (0..20_000).collect::<Vec<i32>>().chunks(1000) {
        let mut push = vec!["RPUSH".to_string(), "pad".to_string()];
        push.extend(chunk.iter().map(|i| i.to_string()));
        setup.cmd(&push);
    }
    let port = srv.port();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                let mut done = 0;
                while done < SUCCESSES_EACH {
                    c.expect(&["WATCH", "counter"], "+OK\r\n");
                    let current: i64 = match c.cmd_resp(&["GET", "counter"]) {
                        Resp::Bulk(Some(text)) => String::from_utf8_lossy(&text).parse().unwrap(),
                        _ => 0,
                    };
                    c.expect(&["MULTI"], "+OK\r\n");
                    c.expect(&["LRANGE", "pad", "0", "-1"], "+QUEUED\r\n");
                    let next = (current + 1).to_string();
                    c.expect(&["SET", "counter", &next], "+QUEUED\r\n");
                    if c.cmd(&["EXEC"]) != b"*-1\r\n" {
                        done += 1;
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let total = (CLIENTS * SUCCESSES_EACH).to_string();
    srv.client().expect(
        &["GET", "counter"],
        &format!("${}\r\n{total}\r\n", total.len()),
    );
}

backend_tests! {
    another_clients_write_fails_exec,
    a_read_by_another_client_does_not_fail_exec,
    optimistic_increments_never_lose_an_update,
}

/// Every scenario above, against the real redis-server: the expectations are Redis'.
#[test]
fn redis_server_behaves_the_same() {
    if !redis_server_available() {
        return;
    }
    let scenarios: &[fn(&mut Server)] = &[
        another_clients_write_fails_exec,
        a_read_by_another_client_does_not_fail_exec,
        optimistic_increments_never_lose_an_update,
    ];
    for scenario in scenarios {
        scenario(&mut Server::start_redis());
    }
}
