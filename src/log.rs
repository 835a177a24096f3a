//! Redis-style log lines on stdout: `pid:M 25 Nov 2026 22:50:41.123 * message`.
//!
//! The level is global (CONFIG SET loglevel changes it at run time), so it lives in an
//! atomic rather than in a logger object threaded through every call.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Debug = 0,
    Verbose = 1,
    Notice = 2,
    Warning = 3,
    Nothing = 4,
}

impl Level {
    pub const NAMES: [&'static str; 5] = ["debug", "verbose", "notice", "warning", "nothing"];

    pub fn parse(name: &str) -> Option<Level> {
        let all = [
            Level::Debug,
            Level::Verbose,
            Level::Notice,
            Level::Warning,
            Level::Nothing,
        ];
        Self::NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .map(|i| all[i])
    }

    /// The mark Redis prints before the message: `.` debug, `-` verbose, `*` notice, `#` warning.
    fn mark(self) -> char {
        ['.', '-', '*', '#', ' '][self as usize]
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Notice as u8);

pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level != Level::Nothing && level as u8 >= LEVEL.load(Ordering::Relaxed)
}

pub fn write(level: Level, message: std::fmt::Arguments) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = format_utc(now.as_secs() as i64, now.subsec_millis());
    // A closed stdout (a pipe whose reader left) must not take a thread down with it:
    // like Redis, a log line that cannot be written is dropped.
    let _ = writeln!(
        std::io::stdout().lock(),
        "{}:M {} {} {}",
        std::process::id(),
        stamp,
        level.mark(),
        message
    );
}

/// `25 Nov 2026 22:50:41.123` in UTC (civil-from-days, so no time-zone crate is needed).
fn format_utc(secs: i64, millis: u32) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let day_secs = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{} {} {} {:02}:{:02}:{:02}.{:03}",
        day,
        MONTHS[(month - 1) as usize],
        year,
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60,
        millis
    )
}

#[macro_export]
macro_rules! log_at {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::write($level, format_args!($($arg)*));
        }
    };
}

#[macro_export]
macro_rules! notice { ($($arg:tt)*) => { $crate::log_at!($crate::log::Level::Notice, $($arg)*) }; }
#[macro_export]
macro_rules! warning { ($($arg:tt)*) => { $crate::log_at!($crate::log::Level::Warning, $($arg)*) }; }
#[macro_export]
macro_rules! verbose { ($($arg:tt)*) => { $crate::log_at!($crate::log::Level::Verbose, $($arg)*) }; }
#[macro_export]
macro_rules! debug { ($($arg:tt)*) => { $crate::log_at!($crate::log::Level::Debug, $($arg)*) }; }

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_timestamps_like_redis() {
        assert_eq!(format_utc(0, 0), "1 Jan 1970 00:00:00.000");
        assert_eq!(format_utc(1_795_647_041, 123), "25 Nov 2026 22:50:41.123");
        assert_eq!(format_utc(951_782_400, 5), "29 Feb 2000 00:00:00.005");
    }

    #[test]
    fn level_names_parse_case_insensitively() {
        assert_eq!(Level::parse("NOTICE"), Some(Level::Notice));
        assert_eq!(Level::parse("warning"), Some(Level::Warning));
        assert_eq!(Level::parse("loud"), None);
    }
}
