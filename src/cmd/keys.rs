//! Key commands: DEL, EXISTS, TYPE, KEYS.
//!
//! ```text
//! DEL key [key ...]       :<number of keys removed>
//! EXISTS key [key ...]    :<number of keys that exist; a key named twice counts twice>
//! TYPE key              +string, +list, +set ..., +none for no key
//! KEYS pattern            *<keys matching the glob>
//! ```

use bytes::Bytes;

use super::Ctx;

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("del", -2, WRITE, ALL_KEYS, "generic", "Delete a key", del),
    command("exists", -2, READONLY | FAST, ALL_KEYS, "generic", "Determine if a key exists", exists),
    command("type", 2, READONLY | FAST, ONE_KEY, "generic", "Determine the type stored at key", type_of),
    command("keys", 2, READONLY, NO_KEYS, "generic", "Find all keys matching the given pattern", keys),
];

pub fn del(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let removed = argv[1..]
        .iter()
        .filter(|key| ctx.lock(key).remove(now).is_some())
        .count();
    ctx.reply.int(removed as i64);
}

pub fn exists(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let found = argv[1..]
        .iter()
        .filter(|key| ctx.lock(key).find_live(now).is_some())
        .count();
    ctx.reply.int(found as i64);
}

pub fn keys(ctx: &mut Ctx, argv: &[Bytes]) {
    let keys = ctx
        .server
        .keyspace
        .db(ctx.client.db)
        .keys_matching(&argv[1], ctx.now_ms());
    ctx.reply.bulk_array(&keys);
}

pub fn type_of(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let name = ctx
        .lock(&argv[1])
        .get(now)
        .map_or("none", |e| e.value.type_name());
    ctx.reply.simple(name);
}
