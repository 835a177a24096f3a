//! Listening sockets: one SO_REUSEPORT listener per worker thread and bind address, so
//! the kernel spreads incoming connections over the workers with no shared accept queue.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};

use socket2::{Domain, Socket, Type};

/// Addresses from `bind` ("127.0.0.1 -::1"): a leading `-` marks an address that may be
/// missing on this host (Redis' syntax), whose failure to bind is only logged.
pub fn parse_bind(bind: &str, port: u16) -> Result<Vec<(SocketAddr, bool)>, String> {
    bind.split_whitespace()
        .map(|word| {
            let (optional, host) = match word.strip_prefix('-') {
                Some(host) => (true, host),
                None => (false, word),
            };
            let host = if host == "*" { "0.0.0.0" } else { host };
            host.parse::<IpAddr>()
                .map(|ip| (SocketAddr::new(ip, port), optional))
                .map_err(|_| format!("invalid bind address '{word}'"))
        })
        .collect()
}

/// Fails if some other process already listens on `addr`. SO_REUSEPORT would otherwise
/// let a second server on the same port silently share its connections.
pub fn ensure_port_free(addr: SocketAddr) -> io::Result<()> {
    let probe = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    probe.set_reuse_address(true)?;
    probe.bind(&addr.into())
}

/// A listening, non-blocking SO_REUSEPORT socket on `addr`.
pub fn bind_reuseport(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_lists_parse_like_redis() {
        let addrs = parse_bind("127.0.0.1 -::1", 6379).unwrap();
        assert_eq!(
            addrs,
            vec![
                ("127.0.0.1:6379".parse().unwrap(), false),
                ("[::1]:6379".parse().unwrap(), true)
            ]
        );
        assert!(parse_bind("localhost", 1).is_err());
    }

    #[test]
    fn two_reuseport_listeners_share_a_port_but_others_are_detected() {
        let first = bind_reuseport("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let addr = first.local_addr().unwrap();
        let second = bind_reuseport(addr, 16).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);
        assert!(ensure_port_free(addr).is_err());
    }
}
