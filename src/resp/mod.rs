//! RESP2, the Redis wire protocol: every byte that crosses a socket is read in
//! [`parse`] or written in [`write`].

pub mod parse;
pub mod write;

pub use parse::{ParseLimits, ProtocolError, RequestParser};
pub use write::Reply;
