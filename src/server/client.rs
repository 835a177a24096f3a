//! Per-connection state that commands read and change (SELECT, AUTH, QUIT, MULTI, BLPOP).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

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
    /// Set by a blocking command that found nothing: the connection waits, then runs the
    /// same command again.
    pub blocked: Option<Blocked>,
    /// Commands queued since MULTI.
    pub transaction: Option<Transaction>,
}

/// What a blocked client waits for.
#[derive(Debug)]
pub struct Blocked {
    pub keys: Vec<Bytes>,
    /// None: until data arrives.
    pub timeout: Option<Duration>,
}

#[derive(Debug, Default)]
pub struct Transaction {
    pub queued: Vec<Vec<Bytes>>,
    /// A command was refused while queueing: EXEC will abort.
    pub failed: bool,
}

impl Client {
    pub fn new(id: u64, addr: SocketAddr, password_required: bool) -> Client {
        Client {
            id,
            addr,
            db: 0,
            authenticated: !password_required,
            close_after_reply: false,
            blocked: None,
            transaction: None,
        }
    }
}
