//! The idle `timeout`: a thread that closes clients idle for longer than `timeout` seconds,
//! as Redis' clientsCron does. Blocked clients (BLPOP) and monitors are left alone, as Redis
//! leaves blocked clients, replicas and monitors; 0 turns it off.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::client::{ClientHandle, FLAG_BLOCKED, FLAG_MONITOR};
use super::state::Server;

/// Starts the thread; it runs for the life of the process.
pub fn spawn_idle_timeout(server: Arc<Server>) {
    std::thread::Builder::new()
        .name("clients-cron".into())
        .spawn(move || loop {
            let hz = server.config.hot.hz.load(Ordering::Relaxed).clamp(1, 500);
            std::thread::sleep(Duration::from_millis(1000 / hz));
            let timeout = server.config.get_int("timeout");
            if timeout > 0 {
                close_idle(&server.clients.all(), timeout as u64);
            }
        })
        .expect("spawning the clients cron thread");
}

/// Closes every client in `clients` idle for more than `timeout` seconds.
fn close_idle(clients: &[Arc<ClientHandle>], timeout: u64) {
    for client in clients {
        if exempt(client.flags.load(Ordering::Relaxed)) || client.is_killed() {
            continue;
        }
        if client.idle_secs() > timeout {
            crate::verbose!("Closing idle client");
            client.kill();
        }
    }
}

fn exempt(flags: u32) -> bool {
    flags & (FLAG_BLOCKED | FLAG_MONITOR) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(idle_ms: i64, flags: u32) -> Arc<ClientHandle> {
        let addr = "127.0.0.1:1".parse().unwrap();
        let handle = Arc::new(ClientHandle::new(1, addr, addr, -1));
        handle.touch_at(crate::db::now_ms() - idle_ms);
        handle.flags.store(flags, Ordering::Relaxed);
        handle
    }

    #[test]
    fn only_clients_idle_past_the_timeout_are_closed() {
        let (idle, fresh) = (client(3_500, 0), client(500, 0));
        close_idle(&[idle.clone(), fresh.clone()], 2);
        assert!(idle.is_killed());
        assert!(!fresh.is_killed());
        // Exactly the timeout is not past it (Redis compares with `>`).
        let edge = client(2_000, 0);
        close_idle(std::slice::from_ref(&edge), 2);
        assert!(!edge.is_killed());
    }

    #[test]
    fn blocked_clients_and_monitors_are_exempt() {
        let (blocked, monitor) = (client(10_000, FLAG_BLOCKED), client(10_000, FLAG_MONITOR));
        close_idle(&[blocked.clone(), monitor.clone()], 1);
        assert!(!blocked.is_killed() && !monitor.is_killed());
    }
}
