//! Redis' own tools against the server: redis-cli (one-shot and interactive from stdin)
//! and redis-benchmark. They come with redis (Debian: redis-tools); without them these
//! tests print a notice and pass, unless RINGKV_REQUIRE_REDIS=1.

#[macro_use]
mod common;

use common::Server;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs a tool with `input` on stdin, killing it after a generous timeout.
fn run_tool(program: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{program} {args:?} still running after 120 s; stdout: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `redis-cli -p PORT args...`, returning its stdout (and asserting it exited 0).
fn redis_cli(port: u16, args: &[&str], input: &str) -> String {
    let port = port.to_string();
    let mut all = vec!["-p", port.as_str()];
    all.extend(args);
    let out = run_tool("redis-cli", &all, input.as_bytes());
    assert!(
        out.status.success(),
        "redis-cli {all:?} exited with {}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn redis_cli_one_shot_commands(srv: &mut Server) {
    if !common::tool_available("redis-cli") {
        return;
    }
    let port = srv.port();
    assert_eq!(redis_cli(port, &["PING"], ""), "PONG\n");
    assert_eq!(redis_cli(port, &["SET", "k", "v"], ""), "OK\n");
    assert_eq!(redis_cli(port, &["GET", "k"], ""), "v\n");
    assert_eq!(redis_cli(port, &["GET", "missing"], ""), "\n");
    assert_eq!(
        redis_cli(port, &["SET", "greeting", "hello world", "EX", "100"], ""),
        "OK\n"
    );
    assert_eq!(redis_cli(port, &["GET", "greeting"], ""), "hello world\n");
    assert_eq!(
        redis_cli(port, &["EXISTS", "k", "greeting", "nope"], ""),
        "2\n"
    );
    assert_eq!(redis_cli(port, &["-n", "2", "SET", "k", "two"], ""), "OK\n");
    assert_eq!(redis_cli(port, &["-n", "2", "GET", "k"], ""), "two\n");
    assert_eq!(redis_cli(port, &["GET", "k"], ""), "v\n");
    assert_eq!(
        redis_cli(port, &["CONFIG", "GET", "databases"], ""),
        "databases\n16\n"
    );
    assert_eq!(
        redis_cli(port, &["SET", "k", "v", "EX", "0"], ""),
        "ERR invalid expire time in 'set' command\n\n"
    );
    let info = redis_cli(port, &["INFO", "server"], "");
    assert!(
        info.contains("redis_version:"),
        "redis-cli INFO server: {info}"
    );
}

fn redis_cli_interactive_session_from_stdin(srv: &mut Server) {
    if !common::tool_available("redis-cli") {
        return;
    }
    let out = redis_cli(srv.port(), &[], "set a 1\nget a\n");
    assert_eq!(out, "OK\n1\n");
    let out = redis_cli(
        srv.port(),
        &[],
        "set b \"two words\"\nget b\ndel a b nope\nget a\nkeys *\nselect 3\ndbsize\n",
    );
    assert_eq!(out, "OK\ntwo words\n2\n\n\nOK\n0\n");
}

fn redis_benchmark_ping_set_get_runs_without_errors(srv: &mut Server) {
    if !common::tool_available("redis-benchmark") {
        return;
    }
    let port = srv.port().to_string();
    let out = run_tool(
        "redis-benchmark",
        &["-p", &port, "-t", "ping,set,get", "-n", "20000", "-q"],
        b"",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "redis-benchmark exited with {}:\n{stdout}\n{stderr}",
        out.status
    );
    let lines: Vec<&str> = stdout
        .split(['\r', '\n'])
        .chain(stderr.split(['\r', '\n']))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let bad: Vec<&&str> = lines
        .iter()
        .filter(|l| {
            l.contains("rror") || l.contains("ERR") || l.contains("WARN") || l.contains("Could not")
        })
        .collect();
    assert!(bad.is_empty(), "redis-benchmark reported: {bad:?}");
    for test in ["PING_INLINE", "PING_MBULK", "SET", "GET"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("{test}: ")) && l.contains("requests per second")),
            "no result line for {test} in: {stdout}"
        );
    }
    srv.assert_healthy();
    let mut c = srv.client();
    c.expect(&["EXISTS", "key:__rand_int__"], ":1\r\n");
}

backend_tests! {
    redis_cli_one_shot_commands,
    redis_cli_interactive_session_from_stdin,
    redis_benchmark_ping_set_get_runs_without_errors,
}
