//! Replication.
//!
//! - [`replica`]: the replica side (REPLICAOF, the link to the master)

pub mod replica;
