//! Who may talk to the server: Redis' protected mode, decided when a connection is accepted.
//!
//! Authentication itself (requirepass, AUTH, HELLO AUTH, NOAUTH) is per command: see
//! [`super::client::Client::auth_required`] and the dispatcher.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::Ordering;

use crate::config::Config;

/// What Redis 7.0.15 sends a connection it turns away in protected mode, byte for byte
/// (typo "Setup a an" included), before closing it.
pub const PROTECTED_MODE_DENIED: &[u8] =
    b"-DENIED Redis is running in protected mode because protected mode is enabled and \
      no password is set for the default user. In this mode connections are only \
      accepted from the loopback interface. If you want to connect from external \
      computers to Redis you may adopt one of the following solutions: 1) Just disable \
      protected mode sending the command 'CONFIG SET protected-mode no' from the \
      loopback interface by connecting to Redis from the same host the server is \
      running, however MAKE SURE Redis is not publicly accessible from internet if you \
      do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you \
      can just disable the protected mode by editing the Redis configuration file, and \
      setting the protected mode option to 'no', and then restarting the server. 3) If \
      you started the server manually just for testing, restart it with the \
      '--protected-mode no' option. 4) Setup a an authentication password for the \
      default user. NOTE: You only need to do one of the above things in order for the \
      server to start accepting connections from the outside.\r\n";

/// Redis 7.0's rule: with `protected-mode yes` and no password for the default user, only
/// clients connecting from exactly 127.0.0.1 or ::1 are served, whatever `bind` says.
pub fn protected_mode_denies(protected_mode: bool, password_set: bool, peer: IpAddr) -> bool {
    protected_mode && !password_set && !is_local_peer(peer)
}

/// Redis' `islocalClient` (protected mode, `enable-debug-command local`): it compares the
/// peer's address text with "127.0.0.1" and "::1", so 127.0.0.2 and IPv4-mapped forms
/// are not local to it.
pub fn is_local_peer(peer: IpAddr) -> bool {
    peer == IpAddr::V4(Ipv4Addr::LOCALHOST) || peer == IpAddr::V6(Ipv6Addr::LOCALHOST)
}

/// [`protected_mode_denies`] with the live configuration.
pub fn denied(config: &Config, peer: IpAddr) -> bool {
    let password_set = config.hot.password_set.load(Ordering::Relaxed);
    protected_mode_denies(config.get_bool("protected-mode"), password_set, peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_loopback_peers_pass_without_a_password() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for peer in ["127.0.0.1", "::1"] {
            assert!(!protected_mode_denies(true, false, ip(peer)), "{peer}");
        }
        for peer in [
            "192.0.2.2",
            "10.0.0.1",
            "127.0.0.2",
            "::ffff:127.0.0.1",
            "fe80::1",
        ] {
            assert!(protected_mode_denies(true, false, ip(peer)), "{peer}");
            assert!(
                !protected_mode_denies(true, true, ip(peer)),
                "password set: {peer}"
            );
            assert!(
                !protected_mode_denies(false, false, ip(peer)),
                "mode off: {peer}"
            );
        }
    }

    #[test]
    fn the_denial_is_one_error_line() {
        assert!(PROTECTED_MODE_DENIED.starts_with(b"-DENIED Redis is running in protected mode"));
        assert!(PROTECTED_MODE_DENIED.ends_with(b"from the outside.\r\n"));
        let body = &PROTECTED_MODE_DENIED[..PROTECTED_MODE_DENIED.len() - 2];
        assert!(!body.contains(&b'\r') && !body.contains(&b'\n'));
        assert_eq!(PROTECTED_MODE_DENIED.len(), 1067);
    }
}
