//! Hostile clients: garbage, huge declared lengths, slow and abandoned uploads, slowloris,
//! thousands of connections, clients vanishing mid-pipeline, clients that never read,
//! `maxclients` and the idle `timeout`. After each the server is alive and a well-behaved
//! client's data is intact. Bounds are generous: these tests assert behaviour, not speed.

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{info_field, multibulk, testing_ringkv, Client, Server};

/// A value a well-behaved client stores first and finds intact at the end.
fn store_keeper(srv: &Server) -> Client {
    let mut c = srv.client();
    c.expect(&["SET", "keeper", "precious"], "+OK\r\n");
    c
}

/// The server is alive, answers a new client, and the keeper's value is intact.
fn assert_intact(srv: &mut Server, keeper: &mut Client) {
    srv.assert_healthy();
    keeper.expect(&["GET", "keeper"], "$8\r\nprecious\r\n");
}

/// The server's resident memory in KiB.
fn rss_kib(srv: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", srv.pid())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

fn info_int(c: &mut Client, section: &str, field: &str) -> u64 {
    info_field(&c.cmd(&["INFO", section]), field)
        .unwrap_or_else(|| panic!("INFO {section} has no {field}"))
        .parse()
        .unwrap()
}

/// Sends `request` on a new connection and expects `error`, then the close.
fn expect_refused(srv: &Server, request: &[u8], error: &str) {
    let mut c = srv.client();
    c.expect_raw(request, error);
    c.expect_closed();
}

fn garbage_gets_a_protocol_error_and_the_close(srv: &mut Server) {
    let mut keeper = store_keeper(srv);
    let cases: &[(&[u8], &str)] = &[
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\nfoo\r\n",
            "-ERR Protocol error: expected '$', got 'f'\r\n",
        ),
        (
            b"*1\r\n$x\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"PING \"unbalanced\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (request, error) in cases {
        expect_refused(srv, request, error);
    }
    // 64 KiB of binary noise without a line end.
    let mut noise = Vec::with_capacity(70_000);
    let mut x: u32 = 12345;
    while noise.len() < 70_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let b = (x >> 16) as u8;
        if b != b'\n' && b != b'\r' && b != b'*' && b != 0 {
            noise.push(b);
        }
    }
    noise[0] = b'x';
    expect_refused(
        srv,
        &noise,
        "-ERR Protocol error: too big inline request\r\n",
    );
    assert_intact(srv, &mut keeper);
}

fn huge_declared_lengths_are_refused_without_allocating(srv: &mut Server) {
    let mut keeper = store_keeper(srv);
    let before = rss_kib(srv);
    let invalid_bulk = "-ERR Protocol error: invalid bulk length\r\n";
    let invalid_count = "-ERR Protocol error: invalid multibulk length\r\n";
    expect_refused(srv, b"*1\r\n$536870913\r\n", invalid_bulk);
    expect_refused(srv, b"*1\r\n$9223372036854775807\r\n", invalid_bulk);
    expect_refused(srv, b"*1\r\n$9223372036854775808\r\n", invalid_bulk);
    expect_refused(srv, b"*1\r\n$-5\r\n", invalid_bulk);
    expect_refused(srv, b"*1\r\n$-1\r\n", invalid_bulk);
    expect_refused(srv, b"*2147483648\r\n", invalid_count);
    expect_refused(srv, b"*99999999999999999999\r\n", invalid_count);
    // A negative count is an empty command, skipped.
    srv.client().expect_raw(b"*-7\r\nPING\r\n", "+PONG\r\n");
    // The largest count and length that are allowed, announced and never sent: the
    // connection waits, and nothing the size of the announcement is allocated.
    let mut idle = Vec::new();
    for request in [
        &b"*2147483647\r\n$3\r\nGET\r\n"[..],
        b"*1\r\n$536870912\r\nabc",
    ] {
        for _ in 0..20 {
            let mut c = srv.client();
            c.send(request);
            idle.push(c);
        }
    }
    keeper.expect(&["PING"], "+PONG\r\n");
    let grown_mib = rss_kib(srv).saturating_sub(before) / 1024;
    println!("RSS grew by {grown_mib} MiB for 40 huge announcements");
    assert!(
        grown_mib < 64,
        "RSS grew by {grown_mib} MiB for 40 announcements"
    );
    drop(idle);
    assert_intact(srv, &mut keeper);
}

fn a_slow_upload_abandoned_leaves_nothing_behind(srv: &mut Server) {
    let mut keeper = store_keeper(srv);
    let mut c = srv.client();
    c.send(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10000000\r\n");
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..16 {
        c.send(&chunk);
        thread::sleep(Duration::from_millis(20));
    }
    drop(c);
    keeper.expect(&["EXISTS", "half"], ":0\r\n");
    assert_intact(srv, &mut keeper);
}

fn slowloris_clients_do_not_hold_up_a_normal_client(srv: &mut Server) {
    const DRIBBLERS: usize = 300;
    let mut keeper = store_keeper(srv);
    let mut dribblers: Vec<(TcpStream, Vec<u8>)> = (0..DRIBBLERS)
        .map(|i| {
            let stream = TcpStream::connect(("127.0.0.1", srv.port())).unwrap();
            stream.set_nodelay(true).unwrap();
            (stream, multibulk(&["SET", &format!("slow:{i}"), "v"]))
        })
        .collect();
    let longest = dribblers.iter().map(|(_, r)| r.len()).max().unwrap();
    let port = srv.port();
    // One byte per client per round, one round every 20 ms: each SET takes ~0.6 s.
    let dribbling = thread::spawn(move || {
        for at in 0..longest {
            for (stream, request) in dribblers.iter_mut() {
                if let Some(byte) = request.get(at) {
                    stream.write_all(&[*byte]).unwrap();
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        dribblers
    });
    let mut normal = Client::connect(port);
    let started = Instant::now();
    for i in 0..100 {
        normal.expect(&["SET", &format!("fast:{i}"), "v"], "+OK\r\n");
        normal.expect(&["GET", "keeper"], "$8\r\nprecious\r\n");
    }
    println!(
        "200 commands in {:?} beside {DRIBBLERS} slow clients",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "200 commands took {:?} beside {DRIBBLERS} slow clients",
        started.elapsed()
    );
    // The slow clients are served too, once their commands are complete.
    for (mut stream, _) in dribbling.join().unwrap() {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reply = [0u8; 5];
        stream.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"+OK\r\n");
    }
    keeper.expect(&["GET", "slow:299"], "$1\r\nv\r\n");
    assert_intact(srv, &mut keeper);
}

/// Raises this test process' own soft limit on open files to `wanted` (or its hard limit).
fn raise_own_fd_limit(wanted: u64) -> u64 {
    let (soft, hard) = ringkv::server::fdlimit::get().unwrap();
    if soft < wanted {
        ringkv::server::fdlimit::set(wanted.min(hard), hard).unwrap();
    }
    ringkv::server::fdlimit::get().unwrap().0
}

fn five_thousand_simultaneous_connections(srv: &mut Server) {
    const CONNECTIONS: usize = 5000;
    // Both backends' tests may run at once in this process: room for both, and more.
    let limit = raise_own_fd_limit(4 * CONNECTIONS as u64);
    assert!(
        limit > CONNECTIONS as u64,
        "this process may open only {limit} files"
    );
    let mut keeper = store_keeper(srv);
    let mut clients: Vec<TcpStream> = (0..CONNECTIONS)
        .map(|i| {
            TcpStream::connect(("127.0.0.1", srv.port()))
                .unwrap_or_else(|e| panic!("connection {i}: {e}"))
        })
        .collect();
    for stream in clients.iter_mut() {
        stream.write_all(b"PING\r\n").unwrap();
    }
    for stream in clients.iter_mut() {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"+PONG\r\n");
    }
    let connected = info_int(&mut keeper, "clients", "connected_clients");
    println!("{CONNECTIONS} connections, RSS {} MiB", rss_kib(srv) / 1024);
    assert!(
        connected > CONNECTIONS as u64,
        "connected_clients:{connected}"
    );
    drop(clients);
    common::wait_for(Duration::from_secs(30), "the connections to close", || {
        (info_int(&mut keeper, "clients", "connected_clients") == 1).then_some(())
    });
    assert_intact(srv, &mut keeper);
}

/// Started with `maxclients` above what the hard limit allows, the server lowers it to
/// fit, as Redis does, and logs why.
#[test]
fn maxclients_beyond_the_open_files_limit_is_lowered_to_fit() {
    let mut srv = Server::start_with(common::Backend::Epoll, &[("maxclients", "4000000")]);
    let mut c = srv.client();
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", srv.pid())).unwrap();
    let soft: u64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .expect("Max open files");
    c.expect(
        &["CONFIG", "GET", "maxclients"],
        &format!(
            "*2\r\n$10\r\nmaxclients\r\n${}\r\n{}\r\n",
            (soft - 32).to_string().len(),
            soft - 32
        ),
    );
    let log = srv.log();
    assert!(
        log.contains(&format!(
            "maxclients has been reduced to {} to compensate for low ulimit.",
            soft - 32
        )),
        "{log}"
    );
    srv.assert_healthy();
}

fn clients_vanishing_mid_pipeline(srv: &mut Server) {
    let mut keeper = store_keeper(srv);
    let mut pipeline = Vec::new();
    for _ in 0..2000 {
        pipeline.extend_from_slice(&multibulk(&["INCR", "counter"]));
    }
    // Cut the last command in half.
    pipeline.extend_from_slice(b"*2\r\n$4\r\nINCR\r\n$7\r\ncou");
    for _ in 0..50 {
        let mut stream = TcpStream::connect(("127.0.0.1", srv.port())).unwrap();
        let _ = stream.write_all(&pipeline);
        drop(stream);
    }
    let counter = keeper.cmd_resp(&["INCR", "counter"]).int();
    assert!((1..=100_001).contains(&counter), "{counter}");
    assert_intact(srv, &mut keeper);
}

/// A client sends GETs of a 256 KiB value and never reads: it sends 128 MiB worth.
fn spawn_non_reader(srv: &Server) -> (TcpStream, thread::JoinHandle<()>) {
    let stream = TcpStream::connect(("127.0.0.1", srv.port())).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let request = multibulk(&["GET", "big"]);
    let sending = thread::spawn(move || {
        for _ in 0..512 {
            // Blocks once the server stops reading; gives up after the write timeout.
            if writer.write_all(&request).is_err() {
                return;
            }
        }
    });
    (stream, sending)
}

fn set_big_value(c: &mut Client) {
    let big = vec![b'v'; 256 * 1024];
    c.expect_bytes(&[&b"SET"[..], b"big", &big], b"+OK\r\n");
}

fn a_client_that_never_reads_costs_bounded_memory(srv: &mut Server) {
    let mut keeper = store_keeper(srv);
    set_big_value(&mut keeper);
    let before = rss_kib(srv);
    let (stream, sending) = spawn_non_reader(srv);
    thread::sleep(Duration::from_secs(3));
    let grown_mib = rss_kib(srv).saturating_sub(before) / 1024;
    println!("RSS grew by {grown_mib} MiB while a client did not read 128 MiB of replies");
    // Redis would buffer the replies (up to 128 MiB here); ringkv stops reading instead.
    if testing_ringkv() {
        assert!(grown_mib < 32, "RSS grew by {grown_mib} MiB");
    }
    keeper.expect(&["PING"], "+PONG\r\n");
    drop(stream);
    let _ = sending.join();
    assert_intact(srv, &mut keeper);
}

fn a_client_over_its_output_buffer_limit_is_closed(srv: &mut Server) {
    let mut keeper = store_keeper(srv);
    set_big_value(&mut keeper);
    keeper.expect(
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1mb 128kb 1",
        ],
        "+OK\r\n",
    );
    let (mut stream, sending) = spawn_non_reader(srv);
    thread::sleep(Duration::from_secs(3));
    // Whatever was written before the close can be read; then the connection ends.
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut chunk = vec![0u8; 1 << 20];
    let mut received = 0usize;
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => received += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("still open after {received} bytes: {e}"),
        }
    }
    assert!(
        received < 512 * 256 * 1024,
        "every reply arrived: {received}"
    );
    let _ = sending.join();
    if testing_ringkv() {
        assert!(srv
            .log()
            .contains("scheduled to be closed ASAP for overcoming of output buffer limits."));
    }
    // A single reply over the hard limit closes the client at once, as in Redis.
    keeper.expect(
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 100kb 0 0",
        ],
        "+OK\r\n",
    );
    let mut c = srv.client();
    c.send_cmd(&["GET", "big"]);
    c.expect_closed();
    keeper.expect(
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 0 0 0",
        ],
        "+OK\r\n",
    );
    assert_intact(srv, &mut keeper);
}

fn maxclients_turns_the_next_client_away(srv: &mut Server) {
    let mut keeper = store_keeper(srv);
    // The start-up probe's connection may not be gone yet.
    common::wait_for(Duration::from_secs(10), "only the keeper connected", || {
        (info_int(&mut keeper, "clients", "connected_clients") == 1).then_some(())
    });
    let rejected = info_int(&mut keeper, "stats", "rejected_connections");
    let mut others: Vec<Client> = (0..2).map(|_| srv.client()).collect();
    for c in others.iter_mut() {
        c.expect(&["PING"], "+PONG\r\n");
    }
    let mut refused = srv.client();
    refused.expect_reply("-ERR max number of clients reached\r\n");
    refused.expect_closed();
    assert_eq!(
        info_int(&mut keeper, "stats", "rejected_connections"),
        rejected + 1
    );
    // A place freed is a place taken.
    drop(others.pop());
    common::wait_for(Duration::from_secs(10), "a free place", || {
        let mut stream = TcpStream::connect(("127.0.0.1", srv.port())).ok()?;
        stream.write_all(b"PING\r\n").ok()?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).ok()?;
        (&reply == b"+PONG\r\n").then_some(())
    });
    keeper.expect(&["GET", "keeper"], "$8\r\nprecious\r\n");
}

fn idle_clients_are_closed_after_the_timeout(srv: &mut Server) {
    let mut keeper = store_keeper(srv);
    keeper.expect(&["CONFIG", "SET", "timeout", "1"], "+OK\r\n");
    let mut idle = srv.client();
    idle.expect(&["PING"], "+PONG\r\n");
    let mut blocked = srv.client();
    blocked.send_cmd(&["BLPOP", "queue", "0"]);
    let mut busy = srv.client();
    let started = Instant::now();
    // The idle client goes within a few seconds; the busy one stays.
    while started.elapsed() < Duration::from_secs(4) {
        busy.expect(&["PING"], "+PONG\r\n");
        thread::sleep(Duration::from_millis(200));
    }
    idle.set_timeout(Duration::from_secs(10));
    idle.expect_closed();
    // The blocked client was exempt: it still gets its element.
    busy.expect(&["RPUSH", "queue", "x"], ":1\r\n");
    blocked.expect_reply("*2\r\n$5\r\nqueue\r\n$1\r\nx\r\n");
    busy.expect(&["CONFIG", "SET", "timeout", "0"], "+OK\r\n");
    // The keeper was idle too: a new one reads the data.
    let mut keeper = srv.client();
    assert_intact(srv, &mut keeper);
}

backend_tests! {
    garbage_gets_a_protocol_error_and_the_close,
    huge_declared_lengths_are_refused_without_allocating,
    a_slow_upload_abandoned_leaves_nothing_behind,
    slowloris_clients_do_not_hold_up_a_normal_client,
    five_thousand_simultaneous_connections,
    clients_vanishing_mid_pipeline,
    a_client_that_never_reads_costs_bounded_memory,
    a_client_over_its_output_buffer_limit_is_closed,
    maxclients_turns_the_next_client_away with [("maxclients", "3")],
    idle_clients_are_closed_after_the_timeout,
}
