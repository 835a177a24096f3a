//! ringkv: a Redis-compatible in-memory server on io_uring.
//!
//! - [`resp`]: the wire protocol (request parser, reply encoder)
//! - [`cmd`]: the command table and the commands, by family
//! - [`db`]: the keyspace (sharded tables, values, expiry, glob patterns)
//! - [`server`]: worker threads, I/O backends, connections
//! - [`repl`]: master-replica replication
//! - [`config`]: parameters for CONFIG GET/SET, the config file and flags

pub mod alloc;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod db;
pub mod log;
pub mod num;
pub mod persist;
pub mod rdb;
pub mod repl;
pub mod resp;
pub mod server;
