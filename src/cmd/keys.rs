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

pub fn del(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now_ms();
    let removed = argv[1..]
        .iter()
        .filter(|key| ctx.lock(key).remove(now))
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
