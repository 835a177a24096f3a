//! A realistic redis-py session (tests/redis_py_session.py) against ringkv on both
//! backends: pipelines, MULTI/EXEC, expiry, CLIENT SETNAME / LIST / INFO through the
//! client's typed API, and the parts for MGET, counters and SCAN once they exist.
//!
//! Needs `python3` with redis-py (`python3 -m pip install redis`); without them the test
//! prints a notice and passes, unless `RINGKV_REQUIRE_REDIS=1`.

#[macro_use]
mod common;

use common::Server;
use std::process::Command;

/// Whether python3 can import redis-py.
fn redis_py_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import redis"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        if std::env::var("RINGKV_REQUIRE_REDIS").as_deref() == Ok("1") {
            panic!("python3 with redis-py is missing and RINGKV_REQUIRE_REDIS=1");
        }
        eprintln!("skipping: python3 with redis-py not found (python3 -m pip install redis)");
    }
    found
}

fn redis_py_session_runs_unchanged(srv: &mut Server) {
    if !redis_py_available() {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/redis_py_session.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(srv.port().to_string())
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("redis-py session OK"),
        "redis-py session failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    srv.assert_healthy();
}

backend_tests! {
    redis_py_session_runs_unchanged,
}
