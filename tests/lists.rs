//! Blocking list commands across clients: who is served, with what, and what is left.
//! Each scenario also runs against redis-server, so they say what Redis does (the replies
//! of the non-waiting forms are compared with it in tests/scripts/lists.redis).

#[macro_use]
mod common;

use std::time::Duration;

use common::{redis_server_available, Server};

/// Long enough for a blocked command to be seen waiting.
const SETTLE: Duration = Duration::from_millis(100);

fn brpop_is_served_from_the_tail_by_a_later_push(srv: &mut Server) {
    let mut blocked = srv.client();
    let mut c = srv.client();
    blocked.send_cmd(&["BRPOP", "empty", "q", "0"]);
    blocked.expect_silence(SETTLE);
    c.expect(&["RPUSH", "q", "a", "b"], ":2\r\n");
    blocked.expect_reply("*2\r\n$1\r\nq\r\n$1\r\nb\r\n");
    c.expect(&["LRANGE", "q", "0", "-1"], "*1\r\n$1\r\na\r\n");
}

fn blmove_waits_for_its_source_and_moves_the_element(srv: &mut Server) {
    let mut blocked = srv.client();
    let mut c = srv.client();
    c.expect(&["RPUSH", "dst", "old"], ":1\r\n");
    blocked.send_cmd(&["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]);
    blocked.expect_silence(SETTLE);
    // A push elsewhere does not serve it.
    c.expect(&["RPUSH", "other", "x"], ":1\r\n");
    blocked.expect_silence(SETTLE);
    c.expect(&["LPUSH", "src", "x", "y"], ":2\r\n");
    blocked.expect_reply("$1\r\nx\r\n");
    c.expect(&["LRANGE", "src", "0", "-1"], "*1\r\n$1\r\ny\r\n");
    c.expect(
        &["LRANGE", "dst", "0", "-1"],
        "*2\r\n$1\r\nx\r\n$3\r\nold\r\n",
    );
}

fn a_move_into_a_list_wakes_a_client_blocked_on_it(srv: &mut Server) {
    let mut blocked = srv.client();
    let mut c = srv.client();
    blocked.send_cmd(&["BLPOP", "dst", "0"]);
    blocked.expect_silence(SETTLE);
    c.expect(&["RPUSH", "src", "a"], ":1\r\n");
    c.expect(&["RPOPLPUSH", "src", "dst"], "$1\r\na\r\n");
    blocked.expect_reply("*2\r\n$3\r\ndst\r\n$1\r\na\r\n");
    c.expect(&["EXISTS", "src", "dst"], ":0\r\n");
}

fn blocking_moves_time_out_with_a_null_array(srv: &mut Server) {
    let mut c = srv.client();
    c.expect(&["BRPOPLPUSH", "nokey", "dst", "0.05"], "*-1\r\n");
    c.expect(
        &["BLMOVE", "nokey", "dst", "LEFT", "LEFT", "0.05"],
        "*-1\r\n",
    );
    c.expect(&["EXISTS", "dst"], ":0\r\n");
}

fn a_destination_of_another_type_keeps_the_source_intact(srv: &mut Server) {
    let mut blocked = srv.client();
    let mut c = srv.client();
    c.expect(&["SET", "dst", "string"], "+OK\r\n");
    blocked.send_cmd(&["BRPOPLPUSH", "src", "dst", "0"]);
    blocked.expect_silence(SETTLE);
    c.expect(&["RPUSH", "src", "a"], ":1\r\n");
    blocked.expect_reply("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    c.expect(&["LRANGE", "src", "0", "-1"], "*1\r\n$1\r\na\r\n");
}

backend_tests! {
    brpop_is_served_from_the_tail_by_a_later_push,
    blmove_waits_for_its_source_and_moves_the_element,
    a_move_into_a_list_wakes_a_client_blocked_on_it,
    blocking_moves_time_out_with_a_null_array,
    a_destination_of_another_type_keeps_the_source_intact,
}

/// Every scenario above, against the real redis-server: the expectations are Redis'.
#[test]
fn redis_server_behaves_the_same() {
    if !redis_server_available() {
        return;
    }
    let scenarios: &[fn(&mut Server)] = &[
        brpop_is_served_from_the_tail_by_a_later_push,
        blmove_waits_for_its_source_and_moves_the_element,
        a_move_into_a_list_wakes_a_client_blocked_on_it,
        blocking_moves_time_out_with_a_null_array,
        a_destination_of_another_type_keeps_the_source_intact,
    ];
    for scenario in scenarios {
        scenario(&mut Server::start_redis());
    }
}
