//! Many clients at once on every worker thread (`--threads 2`): each sees its own data,
//! clients that vanish mid-pipeline leave nothing broken behind.

#[macro_use]
mod common;

use common::{info_field, multibulk, wait_for, Client, Resp, Server};
use std::io::Write;
use std::time::Duration;

const CLIENTS: usize = 60;

fn bulk(v: &str) -> String {
    format!("${}\r\n{v}\r\n", v.len())
}

/// One client's session: single commands and pipelined batches on keys of its own.
fn client_session(mut c: Client, id: usize) {
    for round in 0..40 {
        let key = format!("c{id}:k{round}");
        let value = format!("value of {id} in round {round}");
        c.expect(&["SET", &key, &value], "+OK\r\n");
        c.expect(&["GET", &key], &bulk(&value));
        c.expect(&["EXISTS", &key, &key], ":2\r\n");
        if round % 2 == 1 {
            c.expect(&["DEL", &key], ":1\r\n");
        }
    }
    // Pipelined batches interleaving writes and reads of this client's keys.
    for batch in 0..5 {
        let mut req = Vec::new();
        let mut expected = String::new();
        for i in 0..50 {
            let key = format!("c{id}:p{i}");
            let value = format!("{id}/{batch}/{i}");
            req.extend(multibulk(&["SET", &key, &value, "GET"]));
            if batch == 0 {
                expected.push_str("$-1\r\n");
            } else {
                expected.push_str(&bulk(&format!("{id}/{}/{i}", batch - 1)));
            }
            req.extend(multibulk(&["GET", &key]));
            expected.push_str(&bulk(&value));
        }
        c.send(&req);
        let mut got = Vec::new();
        while got.len() < expected.len() {
            got.extend(c.read_reply());
        }
        common::assert_bytes_eq(
            &got,
            expected.as_bytes(),
            &format!("client {id} batch {batch}"),
        );
    }
    // This client's keys are all there: 20 from the rounds, 50 from the batches.
    let keys = c.cmd_resp(&["KEYS", &format!("c{id}:*")]).items().len();
    assert_eq!(keys, 70, "client {id} sees {keys} of its 70 keys");
}

fn connected_clients(c: &mut Client) -> String {
    info_field(&c.cmd(&["INFO", "clients"]), "connected_clients").expect("connected_clients")
}

fn many_clients_on_all_threads_each_see_their_own_data(srv: &mut Server) {
    let clients: Vec<Client> = (0..CLIENTS).map(|_| srv.client()).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .into_iter()
            .enumerate()
            .map(|(id, c)| s.spawn(move || client_session(c, id)))
            .collect();
        for (id, h) in handles.into_iter().enumerate() {
            if h.join().is_err() {
                panic!("client {id} failed (see its panic above)");
            }
        }
    });
    let mut c = srv.client();
    c.expect(&["DBSIZE"], &format!(":{}\r\n", CLIENTS * 70));
    srv.assert_healthy();
}

fn clients_writing_one_key_see_one_of_the_written_values(srv: &mut Server) {
    std::thread::scope(|s| {
        for id in 0..20 {
            let mut c = srv.client();
            s.spawn(move || {
                for i in 0..100 {
                    c.expect(&["SET", "shared", &format!("{id}:{i}")], "+OK\r\n");
                    let v = c.cmd_resp(&["GET", "shared"]).text();
                    let (who, n) = v.split_once(':').expect("a written value");
                    assert!(
                        who.parse::<usize>().unwrap() < 20 && n.parse::<usize>().unwrap() < 100,
                        "{v}"
                    );
                }
            });
        }
    });
    srv.client().expect(&["EXISTS", "shared"], ":1\r\n");
}

fn clients_vanishing_mid_pipeline_leave_the_server_healthy(srv: &mut Server) {
    let mut watcher = srv.client();
    for id in 0..40 {
        let mut c = srv.client();
        let mut req = Vec::new();
        for i in 0..2000 {
            req.extend(multibulk(&[
                "SET",
                &format!("v{id}:{i}"),
                "some value to store",
            ]));
        }
        // Some leave after whole commands, some in the middle of one.
        let cut = if id % 2 == 0 {
            req.len()
        } else {
            req.len() - 7 - id
        };
        c.send(&req[..cut]);
        if id % 3 == 0 {
            c.shutdown_write();
        }
        drop(c);
    }
    srv.assert_healthy();
    wait_for(
        Duration::from_secs(20),
        "connected_clients to fall back to 1",
        || (connected_clients(&mut watcher) == "1").then_some(()),
    );
    watcher.expect(&["SET", "after", "ok"], "+OK\r\n");
    watcher.expect(&["GET", "after"], "$2\r\nok\r\n");
    let stored = watcher.cmd_resp(&["DBSIZE"]).int();
    assert!(stored <= 40 * 2000 + 1, "DBSIZE {stored}");
}

fn a_client_that_does_not_read_its_replies_does_not_stall_others(srv: &mut Server) {
    let mut c = srv.client();
    let value = "x".repeat(10_000);
    c.expect(&["SET", "big", &value], "+OK\r\n");
    let mut lazy = srv.client();
    let mut req = Vec::new();
    for _ in 0..2000 {
        req.extend(multibulk(&["GET", "big"]));
    }
    // 20 MB of replies that nobody reads for now.
    let mut writer = lazy.stream().try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(&req));
    for i in 0..50 {
        let mut other = srv.client();
        other.expect(&["SET", &format!("k{i}"), "v"], "+OK\r\n");
        other.expect(&["GET", &format!("k{i}")], "$1\r\nv\r\n");
    }
    let expected = bulk(&value);
    for i in 0..2000 {
        let reply = lazy.read_reply();
        assert!(
            reply == expected.as_bytes(),
            "reply {i} to GET big is wrong ({} bytes)",
            reply.len()
        );
    }
    sender.join().unwrap().expect("write the pipeline");
}

fn set_nx_race_has_exactly_one_winner_per_key(srv: &mut Server) {
    const KEYS: usize = 300;
    let wins: Vec<Vec<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|id| {
                let mut c = srv.client();
                s.spawn(move || {
                    let mut req = Vec::new();
                    for k in 0..KEYS {
                        req.extend(multibulk(&[
                            "SET",
                            &format!("lock:{k}"),
                            &id.to_string(),
                            "NX",
                        ]));
                    }
                    c.send(&req);
                    (0..KEYS)
                        .filter(|_| {
                            let reply = c.read_reply();
                            assert!(reply == b"+OK\r\n" || reply == b"$-1\r\n", "{reply:?}");
                            reply == b"+OK\r\n"
                        })
                        .collect::<Vec<usize>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut winners = vec![0; KEYS];
    for k in wins.iter().flatten() {
        winners[*k] += 1;
    }
    assert!(
        winners.iter().all(|&n| n == 1),
        "SET NX winners per key: {winners:?}"
    );
    srv.client().expect(&["DBSIZE"], &format!(":{KEYS}\r\n"));
}

fn del_race_deletes_each_key_once(srv: &mut Server) {
    const KEYS: usize = 300;
    let mut c = srv.client();
    let mut req = Vec::new();
    for k in 0..KEYS {
        req.extend(multibulk(&["SET", &format!("d:{k}"), "v"]));
    }
    c.send(&req);
    for _ in 0..KEYS {
        c.expect_reply("+OK\r\n");
    }
    let deleted: i64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let mut c = srv.client();
                s.spawn(move || {
                    let mut req = Vec::new();
                    for k in 0..KEYS {
                        req.extend(multibulk(&["DEL", &format!("d:{k}")]));
                    }
                    c.send(&req);
                    (0..KEYS)
                        .map(|_| Resp::parse(&c.read_reply()).int())
                        .sum::<i64>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(deleted, KEYS as i64, "DEL replies summed over all clients");
    c.expect(&["DBSIZE"], ":0\r\n");
}

backend_tests! {
    many_clients_on_all_threads_each_see_their_own_data with [("threads", "2")],
    clients_writing_one_key_see_one_of_the_written_values with [("threads", "2")],
    clients_vanishing_mid_pipeline_leave_the_server_healthy with [("threads", "2")],
    a_client_that_does_not_read_its_replies_does_not_stall_others with [("threads", "2")],
    set_nx_race_has_exactly_one_winner_per_key with [("threads", "2")],
    del_race_deletes_each_key_once with [("threads", "2")],
}
