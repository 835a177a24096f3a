//! How long commands ran, for INFO commandstats, at one clock read per run of fast commands.
//!
//! Reading the clock costs about as much as a whole GET, so fast commands (Redis' `fast`
//! flag: O(1) or O(log n); and SET, see [`crate::cmd::spec::TIMED_IN_RUNS`]) are not
//! timed one by one. A connection times a *run*: the fast
//! commands it executes between two clock reads. When the run ends (another command starts,
//! replies are written, the run grows long), the time since its start is shared among its
//! commands, and their counters are updated once per kind of command instead of once per
//! command. Any other command is timed on its own and ends the run before it starts, so an
//! INFO in the same pipeline already sees the run's commands counted.

use crate::server::state::{Server, Stats};

/// A run is settled after this many kinds of command at the latest, so the bookkeeping stays
/// small and a long mixed pipeline is not timed as one lump.
const MAX_UNTIMED: usize = 64;

/// One connection's command clock.
#[derive(Debug, Default)]
pub struct CommandClock {
    /// Wall-clock microseconds at the start of the current run: the last clock read, as
    /// long as the connection has not waited since.
    run_start: Option<u64>,
    /// The run's fast commands not yet counted, consecutive repeats merged.
    untimed: Vec<Untimed>,
}

#[derive(Debug)]
struct Untimed {
    position: u32,
    calls: u64,
    failed: u64,
}

impl CommandClock {
    /// The connection has just read the clock (after a read): the next run starts there.
    pub fn start_run_at(&mut self, now_us: u64) {
        debug_assert!(self.untimed.is_empty(), "a run was left unsettled");
        self.run_start = Some(now_us);
    }

    /// When a command timed in runs starts: the start of the run it joins.
    pub fn start_in_run(&mut self) -> u64 {
        *self.run_start.get_or_insert_with(super::clock_us)
    }

    /// A command timed in runs finished: counted when the run is settled.
    pub fn done_in_run(&mut self, server: &Server, position: u32, failed: bool) {
        match self.untimed.last_mut() {
            Some(last) if last.position == position => {
                last.calls += 1;
                last.failed += u64::from(failed);
            }
            _ => self.untimed.push(Untimed {
                position,
                calls: 1,
                failed: u64::from(failed),
            }),
        }
        if self.untimed.len() >= MAX_UNTIMED {
            self.settle(server);
        }
    }

    /// Ends the run now: counts its commands, sharing its time among them, and starts the
    /// next run. Returns the clock read (the start of whatever comes next).
    pub fn settle(&mut self, server: &Server) -> u64 {
        let now = super::clock_us();
        let start = self.run_start.unwrap_or(now);
        let calls: u64 = self.untimed.iter().map(|u| u.calls).sum();
        let elapsed = now.saturating_sub(start);
        for u in self.untimed.drain(..) {
            let share = (elapsed.saturating_mul(u.calls))
                .checked_div(calls)
                .unwrap_or(0);
            server
                .command_stats
                .record_many(u.position, u.calls, share, u.failed);
        }
        if calls > 0 {
            Stats::add(&server.stats.commands_processed, calls);
        }
        self.run_start = Some(now);
        now
    }

    /// When a command that is timed on its own starts: the run before it ends here.
    pub fn start_alone(&mut self, server: &Server) -> u64 {
        match self.run_start {
            Some(start) if self.untimed.is_empty() => start,
            _ => self.settle(server),
        }
    }

    /// Counts the run's commands now if any are pending: before the connection waits (a
    /// write, a read, BLPOP), so the wait is never counted as command time, and after a
    /// blocked command was served at last.
    pub fn settle_pending(&mut self, server: &Server) {
        if !self.untimed.is_empty() {
            self.settle(server);
        }
    }

    /// The connection waited: the next command reads the clock again.
    pub fn waited(&mut self) {
        debug_assert!(self.untimed.is_empty(), "a run was left unsettled");
        self.run_start = None;
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    use bytes::Bytes;

    use crate::cmd::{execute, lookup_with_position, Ctx};
    use crate::resp::Reply;
    use crate::server::client::{Client, ClientHandle};
    use crate::server::state::Server;

    fn run(server: &Server, client: &mut Client, argv: &[&str]) {
        let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::from(a.to_string())).collect();
        let mut reply = Reply::new();
        let mut ctx = Ctx {
            server,
            client,
            reply: &mut reply,
        };
        execute(&mut ctx, &argv);
    }

    fn calls(server: &Server, name: &str) -> (u64, u64) {
        let (_, position) = lookup_with_position(name.as_bytes()).unwrap();
        let counters = server.command_stats.get(position).unwrap();
        let load = |n: &std::sync::atomic::AtomicU64| n.load(Ordering::Relaxed);
        (load(&counters.calls), load(&counters.failed_calls))
    }

    #[test]
    fn fast_commands_are_counted_when_their_run_ends() {
        let server = Server::for_embedding(Arc::new(crate::config::Config::new()));
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut client = Client::new(Arc::new(ClientHandle::new(1, addr, addr, -1)), false);
        client.clock.start_run_at(super::super::clock_us());
        run(&server, &mut client, &["PING"]);
        run(&server, &mut client, &["PING"]);
        run(&server, &mut client, &["GET", "a", "b"]);
        run(&server, &mut client, &["INCR", "s"]);
        run(&server, &mut client, &["SET", "s", "x"]);
        run(&server, &mut client, &["INCR", "s"]);
        run(&server, &mut client, &["SET", "s", "1"]);
        assert_eq!(
            calls(&server, "ping"),
            (0, 0),
            "counted before the run ended"
        );
        // KEYS is not fast: it ends the run before it starts, and counts itself.
        run(&server, &mut client, &["KEYS", "*"]);
        assert_eq!(calls(&server, "ping"), (2, 0));
        assert_eq!(calls(&server, "incr"), (2, 1));
        assert_eq!(calls(&server, "set"), (2, 0));
        assert_eq!(calls(&server, "keys"), (1, 0));
        // GET's arity error is a rejection, not a call.
        assert_eq!(calls(&server, "get"), (0, 0));
        let processed = &server.stats.commands_processed;
        assert_eq!(processed.load(Ordering::Relaxed), 7);
        run(&server, &mut client, &["PING"]);
        client.clock.settle_pending(&server);
        client.clock.waited();
        assert_eq!(calls(&server, "ping"), (3, 0));
    }

    #[test]
    fn a_long_mixed_run_is_settled_on_the_way() {
        let server = Server::for_embedding(Arc::new(crate::config::Config::new()));
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut client = Client::new(Arc::new(ClientHandle::new(1, addr, addr, -1)), false);
        for _ in 0..super::MAX_UNTIMED / 2 {
            run(&server, &mut client, &["PING"]);
            run(&server, &mut client, &["ECHO", "x"]);
        }
        assert_eq!(calls(&server, "ping"), (32, 0));
        assert!(client.clock.untimed.is_empty());
    }
}
