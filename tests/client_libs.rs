//! The `redis` crate, the way a Rust application talks to a Redis server: connection
//! setup (it sends `CLIENT SETINFO` and, for a database in the URL, `SELECT`), typed
//! commands, pipelines, expiry and errors.

#[macro_use]
mod common;

use common::Server;

use redis::{Commands, ExistenceCheck, SetExpiry, SetOptions};

fn redis_crate_session_with_pipeline_expire_and_keys(srv: &mut Server) {
    let mut con = srv.redis_conn();
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");

    let () = con.set("user:1", "alice").unwrap();
    let name: String = con.get("user:1").unwrap();
    assert_eq!(name, "alice");
    let missing: Option<String> = con.get("user:404").unwrap();
    assert_eq!(missing, None);

    let mut pipe = redis::pipe();
    for i in 2..=50 {
        pipe.set(format!("user:{i}"), format!("name {i}")).ignore();
    }
    pipe.get("user:2").get("user:50").exists("user:49");
    let (two, fifty, exists): (String, String, bool) = pipe.query(&mut con).unwrap();
    assert_eq!(
        (two.as_str(), fifty.as_str(), exists),
        ("name 2", "name 50", true)
    );

    assert!(con.expire::<_, bool>("user:1", 100).unwrap());
    assert!(!con.expire::<_, bool>("user:404", 100).unwrap());
    let ttl: i64 = con.ttl("user:1").unwrap();
    assert!((90..=100).contains(&ttl), "TTL {ttl}");
    assert!(con.pexpire::<_, bool>("user:2", 50_000).unwrap());
    let pttl: i64 = con.pttl("user:2").unwrap();
    assert!((40_000..=50_000).contains(&pttl), "PTTL {pttl}");
    assert!(con.persist::<_, bool>("user:2").unwrap());
    assert_eq!(con.ttl::<_, i64>("user:2").unwrap(), -1);

    let mut keys: Vec<String> = con.keys("user:?").unwrap();
    keys.sort();
    let expected: Vec<String> = (1..=9).map(|i| format!("user:{i}")).collect();
    assert_eq!(keys, expected);
    let all: Vec<String> = con.keys("user:*").unwrap();
    assert_eq!(all.len(), 50);

    let removed: i64 = con.del(&["user:1", "user:2", "user:404"]).unwrap();
    assert_eq!(removed, 2);
    let count: i64 = con.exists(&["user:1", "user:3", "user:3"]).unwrap();
    assert_eq!(count, 2);
    let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, 48);
}

fn redis_crate_session_with_counters_mget_and_scan(srv: &mut Server) {
    let mut con = srv.redis_conn();
    let pairs: Vec<(String, String)> = (0..300)
        .map(|i| (format!("item:{i}"), format!("v{i}")))
        .collect();
    let () = con.mset(&pairs).unwrap();
    let values: Vec<Option<String>> = con.mget(&["item:0", "item:299", "item:nope"]).unwrap();
    assert_eq!(values, vec![Some("v0".into()), Some("v299".into()), None]);

    assert_eq!(con.incr::<_, _, i64>("hits", 1).unwrap(), 1);
    assert_eq!(con.incr::<_, _, i64>("hits", 41).unwrap(), 42);
    assert_eq!(con.decr::<_, _, i64>("hits", 2).unwrap(), 40);
    let float: f64 = con.incr("ratio", 0.5).unwrap();
    assert_eq!(float, 0.5);

    let mut pipe = redis::pipe();
    pipe.atomic().incr("hits", 1).get("hits");
    let (after, read): (i64, String) = pipe.query(&mut con).unwrap();
    assert_eq!((after, read.as_str()), (41, "41"));

    let mut seen: Vec<String> = con.scan_match("item:*").unwrap().collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 300);

    let () = con.set_ex("short", "v", 100).unwrap();
    let ttl: i64 = con.ttl("short").unwrap();
    assert!((99..=100).contains(&ttl), "TTL {ttl}");
}

fn redis_crate_set_options_and_binary_values(srv: &mut Server) {
    let mut con = srv.redis_conn();
    let opts = SetOptions::default()
        .conditional_set(ExistenceCheck::NX)
        .with_expiration(SetExpiry::EX(300));
    let set: Option<String> = con.set_options("session", "token-1", opts).unwrap();
    assert_eq!(set.as_deref(), Some("OK"));
    let again: Option<String> = con.set_options("session", "token-2", opts).unwrap();
    assert_eq!(again, None);
    let ttl: i64 = con.ttl("session").unwrap();
    assert!((290..=300).contains(&ttl), "TTL {ttl}");

    let old: Option<String> = con
        .set_options(
            "session",
            "token-3",
            SetOptions::default()
                .get(true)
                .with_expiration(SetExpiry::KEEPTTL),
        )
        .unwrap();
    assert_eq!(old.as_deref(), Some("token-1"));
    assert!(con.ttl::<_, i64>("session").unwrap() > 0);

    let bytes: Vec<u8> = (0..=255).collect();
    let () = con.set(&b"bin\x00key"[..], &bytes[..]).unwrap();
    let back: Vec<u8> = con.get(&b"bin\x00key"[..]).unwrap();
    assert_eq!(back, bytes);
}

fn redis_crate_set_ex_sends_setex(srv: &mut Server) {
    // `set_ex` is sent as `SETEX key seconds value`.
    let mut con = srv.redis_conn();
    let () = con.set_ex("short", "v", 100).unwrap();
    let ttl: i64 = con.ttl("short").unwrap();
    assert!((90..=100).contains(&ttl), "TTL {ttl}");
    assert_eq!(con.get::<_, String>("short").unwrap(), "v");
}

fn redis_crate_sees_server_errors_with_redis_codes(srv: &mut Server) {
    let mut con = srv.redis_conn();
    let err = redis::cmd("SET")
        .arg("k")
        .query::<()>(&mut con)
        .unwrap_err();
    assert_eq!(err.code(), Some("ERR"));
    assert_eq!(
        err.detail(),
        Some("wrong number of arguments for 'set' command")
    );
    let err = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .arg("EX")
        .arg(0)
        .query::<()>(&mut con)
        .unwrap_err();
    assert_eq!(err.detail(), Some("invalid expire time in 'set' command"));
    let err = redis::cmd("NOSUCHCMD").query::<()>(&mut con).unwrap_err();
    assert_eq!(
        err.detail(),
        Some("unknown command 'NOSUCHCMD', with args beginning with: ")
    );
    // The connection is still usable after errors.
    let () = con.set("k", "v").unwrap();
    assert_eq!(con.get::<_, String>("k").unwrap(), "v");
}

fn redis_crate_selects_the_database_in_the_url(srv: &mut Server) {
    let url = format!("redis://127.0.0.1:{}/3", srv.port());
    let mut db3 = redis::Client::open(url).unwrap().get_connection().unwrap();
    let () = db3.set("where", "three").unwrap();
    let mut db0 = srv.redis_conn();
    assert_eq!(db0.get::<_, Option<String>>("where").unwrap(), None);
    let () = redis::cmd("SELECT").arg(3).query(&mut db0).unwrap();
    assert_eq!(db0.get::<_, String>("where").unwrap(), "three");
}

fn redis_crate_reads_info_and_config(srv: &mut Server) {
    let mut con = srv.redis_conn();
    let info: redis::InfoDict = redis::cmd("INFO").query(&mut con).unwrap();
    assert_eq!(info.get::<String>("role").as_deref(), Some("master"));
    assert_eq!(info.get::<u16>("tcp_port"), Some(srv.port()));
    let config: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("databases")
        .query(&mut con)
        .unwrap();
    assert_eq!(config, ["databases", "16"]);
}

backend_tests! {
    redis_crate_session_with_pipeline_expire_and_keys,
    redis_crate_session_with_counters_mget_and_scan,
    redis_crate_set_options_and_binary_values,
    redis_crate_set_ex_sends_setex,
    redis_crate_sees_server_errors_with_redis_codes,
    redis_crate_selects_the_database_in_the_url,
    redis_crate_reads_info_and_config,
}
