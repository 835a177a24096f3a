//! Connection commands: PING, ECHO, QUIT, SELECT, AUTH.
//!
//! ```text
//! PING [message]           +PONG, or the message as a bulk string
//! ECHO message             the message
//! QUIT                     +OK, then the server closes the connection
//! SELECT index             +OK; later commands use database `index`
//! AUTH [username] password +OK, or -WRONGPASS
//! ```

use bytes::Bytes;

use super::{errors, wrong_arity, Ctx};

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    command("ping", -1, FAST | SENTINEL, NO_KEYS, "connection", "Ping the server", ping),
    command("echo", 2, FAST, NO_KEYS, "connection", "Echo the given string", echo),
    command("quit", -1, ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH, NO_KEYS, "connection", "Close the connection", quit),
    command("select", 2, LOADING | STALE | FAST, NO_KEYS, "connection", "Change the selected database for the current connection", select),
    command("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, NO_KEYS, "connection", "Authenticate to the server", auth),
];

pub fn ping(ctx: &mut Ctx, argv: &[Bytes]) {
    match argv {
        [_] => ctx.reply.simple("PONG"),
        [_, message] => ctx.reply.bulk(message),
        _ => ctx.reply.error(wrong_arity("ping")),
    }
}

pub fn echo(ctx: &mut Ctx, argv: &[Bytes]) {
    ctx.reply.bulk(&argv[1]);
}

pub fn quit(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.reply.ok();
    ctx.client.close_after_reply = true;
}

pub fn select(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(index) = ctx.int_arg(&argv[1]) else {
        return;
    };
    let Ok(index) = i32::try_from(index) else {
        return ctx
            .reply
            .error("ERR value is out of range, value must between -2147483648 and 2147483647");
    };
    if index < 0 || index as usize >= ctx.server.keyspace.databases() {
        ctx.reply.error("ERR DB index is out of range");
        return;
    }
    ctx.client.db = index as usize;
    ctx.reply.ok();
}

/// AUTH with `requirepass`: the password belongs to the `default` user, the only user
/// until ACLs exist. Without a password any `AUTH default <anything>` succeeds, as the
/// default user is `nopass` in Redis.
pub fn auth(ctx: &mut Ctx, argv: &[Bytes]) {
    let (user, password) = match argv {
        [_, password] => (None, password),
        [_, user, password] => (Some(user), password),
        _ => {
            ctx.reply.error(errors::SYNTAX);
            return;
        }
    };
    let required = ctx.server.config.get("requirepass");
    if user.is_none() && required.is_empty() {
        ctx.reply.error(
            "ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?",
        );
        return;
    }
    let user_ok = user.is_none_or(|u| u.as_ref() == b"default");
    let password_ok = required.is_empty() || password.as_ref() == required.as_bytes();
    if user_ok && password_ok {
        ctx.client.authenticated = true;
        ctx.reply.ok();
    } else {
        ctx.reply
            .error("WRONGPASS invalid username-password pair or user is disabled.");
    }
}
