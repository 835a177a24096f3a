//! Per-connection state that commands read and change (SELECT, AUTH, QUIT).

use std::net::SocketAddr;

#[derive(Debug)]
pub struct Client {
    pub id: u64,
    pub addr: SocketAddr,
    /// The database SELECT chose.
    pub db: usize,
    /// False while a password is required and AUTH has not succeeded.
    pub authenticated: bool,
    /// Set by QUIT: write the pending replies, then close.
    pub close_after_reply: bool,
}

impl Client {
    pub fn new(id: u64, addr: SocketAddr, password_required: bool) -> Client {
        Client {
            id,
            addr,
            db: 0,
            authenticated: !password_required,
            close_after_reply: false,
        }
    }
}
