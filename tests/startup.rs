//! Starting and stopping the `ringkv` binary: the config file and flags, refusing bad
//! settings, the start-up banner, SIGTERM, and the fallback to epoll when io_uring is
//! forbidden the way Docker's seccomp profile forbids it.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, fresh_dir, Client};

const RINGKV: &str = env!("CARGO_BIN_EXE_ringkv");

/// Starts ringkv with `args` and waits until `port` accepts connections.
fn start(args: &[&str], port: u16) -> Child {
    start_with(Command::new(RINGKV).args(args), port)
}

fn start_with(command: &mut Command, port: u16) -> Child {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ringkv");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut log = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut log)
                .unwrap();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut log)
                .unwrap();
            panic!("ringkv exited ({status}) before listening:\n{log}");
        }
        assert!(Instant::now() < deadline, "ringkv did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Sends SIGTERM and returns what the process printed and how it ended.
fn terminate(child: Child) -> Output {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait_with_output().unwrap()
}

fn run_to_exit(args: &[&str]) -> Output {
    let mut child = Command::new(RINGKV)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("ringkv {args:?} kept running; it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn config_get(port: u16, name: &str) -> String {
    let reply = Client::connect(port).cmd_resp(&["CONFIG", "GET", name]);
    reply.items()[1].text()
}

#[test]
fn config_file_settings_apply_and_flags_override_them() {
    let dir = fresh_dir("startup");
    let port = free_port();
    let file = dir.join("ringkv.conf");
    std::fs::write(
        &file,
        "# a comment\nmaxclients 123\nhz 20\nsave \"\"\nloglevel warning\n",
    )
    .unwrap();
    let port_text = port.to_string();
    let dir_text = dir.to_str().unwrap();
    let child = start(
        &[
            file.to_str().unwrap(),
            "--port",
            &port_text,
            "--dir",
            dir_text,
            "--hz",
            "30",
        ],
        port,
    );
    assert_eq!(config_get(port, "maxclients"), "123");
    assert_eq!(config_get(port, "hz"), "30", "the flag wins over the file");
    assert_eq!(config_get(port, "save"), "");
    assert_eq!(
        config_get(port, "dir"),
        std::fs::canonicalize(&dir).unwrap().to_str().unwrap()
    );
    let out = terminate(child);
    assert!(out.status.success());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn unknown_or_invalid_settings_stop_startup_naming_them() {
    let dir = fresh_dir("startup");
    let bad_file = dir.join("bad.conf");
    std::fs::write(&bad_file, "port 7000\nnosuchdirective yes\n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--nosuch", "1"], "--nosuch"),
        (vec!["--maxclients", "lots"], "maxclients"),
        (vec!["--io-backend", "kqueue"], "kqueue"),
        (vec!["--dir", "/nonexistent/ringkv/dir"], "dir"),
        (vec![bad_file.to_str().unwrap()], "nosuchdirective"),
        (vec!["/nonexistent/ringkv.conf"], "/nonexistent/ringkv.conf"),
    ];
    for (args, named) in cases {
        let out = run_to_exit(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(
            stderr.contains(named),
            "{args:?}: the error should name {named:?}: {stderr}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_busy_port_fails_startup() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port().to_string();
    let out = run_to_exit(&["--port", &port]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&port));
}

#[test]
fn banner_and_sigterm_are_logged_and_the_exit_is_clean() {
    let port = free_port();
    let dir = fresh_dir("startup");
    let port_text = port.to_string();
    let child = start(
        &[
            "--port",
            &port_text,
            "--dir",
            dir.to_str().unwrap(),
            "--threads",
            "2",
        ],
        port,
    );
    let out = terminate(child);
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{log}");
    let banner = log
        .lines()
        .find(|l| l.contains("started:"))
        .unwrap_or_else(|| panic!("no banner: {log}"));
    for part in [
        env!("CARGO_PKG_VERSION"),
        &format!("port {port}"),
        "2 worker thread(s)",
        "io_uring",
    ] {
        assert!(banner.contains(part), "banner lacks {part:?}: {banner}");
    }
    assert!(
        log.contains("Received SIGTERM scheduling shutdown"),
        "{log}"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// Runs ringkv under a seccomp filter that makes io_uring_setup fail with EPERM, as
/// Docker's default profile does (python3-seccomp installs the filter, then execs).
fn under_docker_like_seccomp(args: &[&str]) -> Option<Command> {
    let python = Path::new("/usr/bin/python3");
    let has_seccomp = python.exists()
        && Command::new(python)
            .args(["-c", "import seccomp"])
            .status()
            .is_ok_and(|s| s.success());
    if !has_seccomp {
        if std::env::var("RINGKV_REQUIRE_REDIS").as_deref() == Ok("1") {
            panic!("/usr/bin/python3 with python3-seccomp is missing and RINGKV_REQUIRE_REDIS=1");
        }
        eprintln!(
            "skipping: /usr/bin/python3 with seccomp not found (apt-get install python3-seccomp)"
        );
        return None;
    }
    let script = "import errno, os, sys, seccomp\n\
                  f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)\n\
                  f.add_rule(seccomp.ERRNO(errno.EPERM), 'io_uring_setup')\n\
                  f.load()\n\
                  os.execv(sys.argv[1], sys.argv[1:])\n";
    let mut command = Command::new(python);
    command.args(["-c", script, RINGKV]).args(args);
    Some(command)
}

#[test]
fn without_io_uring_auto_falls_back_to_epoll_and_says_why() {
    let port = free_port();
    let port_text = port.to_string();
    let dir = fresh_dir("startup");
    let Some(mut command) =
        under_docker_like_seccomp(&["--port", &port_text, "--dir", dir.to_str().unwrap()])
    else {
        return;
    };
    let child = start_with(&mut command, port);
    let mut client = Client::connect(port);
    client.expect(&["SET", "k", "v"], "+OK\r\n");
    client.expect(&["GET", "k"], "$1\r\nv\r\n");
    let info = client.cmd_resp(&["INFO", "server"]).text();
    assert!(info.contains("multiplexing_api:epoll"), "{info}");
    drop(client);
    let out = terminate(child);
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        log.contains("io_uring is not available (Operation not permitted"),
        "{log}"
    );
    assert!(log.contains("falling back to epoll"), "{log}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn without_io_uring_an_explicit_uring_backend_refuses_to_start() {
    let Some(mut command) = under_docker_like_seccomp(&["--port", "0", "--io-backend", "uring"])
    else {
        return;
    };
    let out = command.output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("io_uring was requested but cannot be set up"),
        "{stderr}"
    );
}
