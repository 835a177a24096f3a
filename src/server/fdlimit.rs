//! The open-files limit (RLIMIT_NOFILE), raised at start to `maxclients` + 32 descriptors,
//! or `maxclients` lowered to what the system allows: Redis' adjustOpenFilesLimit, with its
//! log lines.

use std::io;

use crate::config::Config;

/// Descriptors kept for listeners, rings, the log and the dump beside the clients.
const RESERVED_FDS: u64 = 32;
/// Redis lowers its request in steps of 16 until the kernel accepts it.
const STEP: u64 = 16;

/// The soft and hard limits on open files.
pub fn get() -> io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a pointer to a live local of that type.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

/// Sets the soft and hard limits on open files.
pub fn set(soft: u64, hard: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit only reads one `rlimit` through a pointer to a live local.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Raises the limit for `maxclients` (lowering `maxclients` when it cannot), logging as
/// Redis does. Fails when not even the reserved descriptors fit.
pub fn adjust(config: &Config) -> Result<(), String> {
    let maxclients = config.get_int("maxclients").max(0) as u64;
    let wanted = maxclients + RESERVED_FDS;
    let old = match get() {
        Ok((soft, _)) => soft,
        Err(e) => {
            crate::warning!(
                "Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the \
                 max clients configuration accordingly.",
                strerror(&e)
            );
            return set_maxclients(config, 1024 - RESERVED_FDS);
        }
    };
    if old >= wanted {
        return Ok(());
    }
    let (best, error) = best_limit(wanted, old, |n| set(n, n));
    if best >= wanted {
        crate::notice!(
            "Increased maximum number of open files to {wanted} (it was originally set to {old})."
        );
        return Ok(());
    }
    if best <= RESERVED_FDS {
        let text = format!(
            "Your current 'ulimit -n' of {old} is not enough for the server to start. Please \
             increase your open file limit to at least {wanted}. Exiting."
        );
        crate::warning!("{text}");
        return Err(text);
    }
    let reduced = best - RESERVED_FDS;
    let why = error.as_ref().map(strerror).unwrap_or_default();
    crate::warning!(
        "You requested maxclients of {maxclients} requiring at least {wanted} max file descriptors."
    );
    crate::warning!("Server can't set maximum open files to {wanted} because of OS error: {why}.");
    crate::warning!(
        "Current maximum open files is {best}. maxclients has been reduced to {reduced} to \
         compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
    );
    set_maxclients(config, reduced)
}

/// The highest limit from `wanted` down (in steps of 16, never below `old`) that `try_set`
/// accepts, and the last refusal.
fn best_limit(
    wanted: u64,
    old: u64,
    mut try_set: impl FnMut(u64) -> io::Result<()>,
) -> (u64, Option<io::Error>) {
    let mut best = wanted;
    let mut error = None;
    while best > old {
        match try_set(best) {
            Ok(()) => return (best, error),
            Err(e) => error = Some(e),
        }
        if best < STEP {
            return (old, error);
        }
        best -= STEP;
    }
    (best.max(old), error)
}

fn set_maxclients(config: &Config, n: u64) -> Result<(), String> {
    config
        .set_many(&[("maxclients", &n.to_string())], true)
        .map_err(|e| format!("cannot set maxclients to {n}: {e:?}"))
}

/// The C library's text for an OS error, without Rust's " (os error N)".
fn strerror(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(end) => text[..end].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_steps_down_by_16_to_what_is_allowed() {
        let allowed = 1000;
        let refuse = |n: u64| {
            if n <= allowed {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(libc::EPERM))
            }
        };
        let (best, error) = best_limit(1064, 100, refuse);
        assert_eq!(best, 1000);
        assert_eq!(strerror(&error.unwrap()), "Operation not permitted");
        // Never below the old limit.
        assert_eq!(best_limit(1064, 1050, refuse).0, 1050);
        assert!(best_limit(500, 100, refuse).1.is_none());
    }

    #[test]
    fn the_current_limit_can_be_read_and_set_again() {
        let (soft, hard) = get().unwrap();
        assert!(soft <= hard);
        set(soft, hard).unwrap();
        assert_eq!(get().unwrap(), (soft, hard));
    }
}
