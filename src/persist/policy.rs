//! The save policy: `save <seconds> <changes> [...]` starts a BGSAVE once at least
//! `changes` writes happened and more than `seconds` passed since the last save (a failed
//! BGSAVE is retried after 5 seconds, as Redis' serverCron does); a BGSAVE scheduled inside
//! EXEC starts here too. Checked ten times a second on a thread of its own.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{bgsave, unix_now};
use crate::server::state::Server;

/// CONFIG_BGSAVE_RETRY_DELAY.
const RETRY_DELAY_S: i64 = 5;

/// `(seconds, changes)` pairs of a `save` value ("" = none). The config table has
/// validated it: pairs of non-negative integers.
pub fn save_points(value: &str) -> Vec<(i64, u64)> {
    let words: Vec<&str> = value.split_whitespace().collect();
    words
        .chunks_exact(2)
        .filter_map(|pair| Some((pair[0].parse().ok()?, pair[1].parse().ok()?)))
        .collect()
}

/// Whether a save point is met now.
fn due(points: &[(i64, u64)], changes: u64, since_save_s: i64, retry_ok: bool) -> bool {
    retry_ok
        && points
            .iter()
            .any(|&(seconds, min_changes)| changes >= min_changes && since_save_s > seconds)
}

/// Starts the policy thread.
pub fn spawn(server: Arc<Server>) {
    std::thread::Builder::new()
        .name("save-policy".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            tick(&server);
        })
        .expect("spawn the save policy thread");
}

fn tick(server: &Server) {
    let p = &server.persistence;
    if p.bgsave_running_secs().is_some() {
        return;
    }
    if p.scheduled.swap(false, Ordering::Relaxed) {
        let _ = bgsave(server);
        return;
    }
    let points = save_points(&server.config.get("save"));
    if points.is_empty() {
        return;
    }
    let now = unix_now();
    let retry_ok =
        p.last_bgsave_ok() || now - p.last_bgsave_try.load(Ordering::Relaxed) > RETRY_DELAY_S;
    let changes = p.changes_since_save();
    if due(&points, changes, now - p.last_save(), retry_ok) {
        crate::notice!(
            "{changes} changes in {} seconds. Saving...",
            now - p.last_save()
        );
        let _ = bgsave(server);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_points_fire_like_server_cron() {
        let points = save_points("3600 1 300 100 60 10000");
        assert_eq!(points, vec![(3600, 1), (300, 100), (60, 10000)]);
        assert!(save_points("").is_empty());
        assert!(!due(&points, 0, 10_000, true));
        assert!(due(&points, 1, 3601, true));
        assert!(!due(&points, 1, 3600, true));
        assert!(due(&points, 100, 301, true));
        assert!(!due(&points, 100, 301, false));
        assert!(due(&save_points("1 1"), 1, 2, true));
    }
}
