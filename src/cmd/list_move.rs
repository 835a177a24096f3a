//! Moving elements between lists, and the blocking pops.
//!
//! ```text
//! LMOVE source destination LEFT|RIGHT LEFT|RIGHT    the element moved, or a null bulk
//! RPOPLPUSH source destination                      LMOVE source destination RIGHT LEFT
//! BLPOP / BRPOP key [key ...] timeout   *2 key element from the first non-empty list;
//!                                       blocks up to `timeout` seconds (0: forever), then *-1
//! BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout   LMOVE that waits for an element
//! BRPOPLPUSH source destination timeout                     RPOPLPUSH that waits
//! LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
//!                       *2 key *<up to count elements> from the first non-empty list, or *-1
//! BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]    LMPOP that waits
//! ```
//! How a blocked client waits is in [`super::blocking`]. Replicas never block: what a
//! blocking command did goes out as its plain form (LPOP, RPOP, LMOVE, RPOPLPUSH; LMPOP
//! as LPOP/RPOP key count), as Redis 7.0 sends it.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;

use super::blocking::{
    block, finish, parse_mpop, parse_timeout, pop_first, retry_turn, woken, Popped,
};
use super::list::{find_list, list_at};
use super::{args, errors, Ctx};
use crate::db::{Value, WrongType};

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    since(command("lmove", 5, WRITE | DENYOOM, (1, 2, 1), "list", "Pop an element from a list, push it to another list and return it", lmove), "6.2.0"),
    since(command("rpoplpush", 3, WRITE | DENYOOM, (1, 2, 1), "list", "Remove the last element in a list, prepend it to another list and return it", rpoplpush), "1.2.0"),
    since(command("blpop", -3, WRITE | NOSCRIPT | BLOCKING, (1, -2, 1), "list", "Remove and get the first element in a list, or block until one is available", blpop), "2.0.0"),
    since(command("brpop", -3, WRITE | NOSCRIPT | BLOCKING, (1, -2, 1), "list", "Remove and get the last element in a list, or block until one is available", brpop), "2.0.0"),
    since(command("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, (1, 2, 1), "list", "Pop an element from a list, push it to another list and return it; or block until one is available", blmove), "6.2.0"),
    since(command("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, (1, 2, 1), "list", "Pop an element from a list, push it to another list and return it; or block until one is available", brpoplpush), "2.2.0"),
    since(command("lmpop", -4, WRITE | MOVABLE_KEYS, NO_KEYS, "list", "Pop elements from a list", lmpop), "7.0.0"),
    since(command("blmpop", -5, WRITE | BLOCKING | MOVABLE_KEYS, NO_KEYS, "list", "Pop elements from a list, or block until one is available", blmpop), "7.0.0"),
];

/// LEFT or RIGHT: whether the end is the head; None after the syntax error reply.
fn list_end(ctx: &mut Ctx, arg: &[u8]) -> Option<bool> {
    if args::is(arg, "LEFT") {
        Some(true)
    } else if args::is(arg, "RIGHT") {
        Some(false)
    } else {
        ctx.reply.error(errors::SYNTAX);
        None
    }
}

pub fn lmove(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(from_head) = list_end(ctx, &argv[3]) else {
        return;
    };
    let Some(to_head) = list_end(ctx, &argv[4]) else {
        return;
    };
    move_element(ctx, argv, from_head, to_head, None);
}

pub fn rpoplpush(ctx: &mut Ctx, argv: &[Bytes]) {
    move_element(ctx, argv, false, true, None);
}

pub fn blmove(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(from_head) = list_end(ctx, &argv[3]) else {
        return;
    };
    let Some(to_head) = list_end(ctx, &argv[4]) else {
        return;
    };
    if let Some(timeout) = parse_timeout(ctx, &argv[5]) {
        move_element(ctx, argv, from_head, to_head, Some(timeout));
    }
}

pub fn brpoplpush(ctx: &mut Ctx, argv: &[Bytes]) {
    if let Some(timeout) = parse_timeout(ctx, &argv[3]) {
        move_element(ctx, argv, false, true, Some(timeout));
    }
}

/// Redis' lmoveGenericCommand: both keys are locked together; the destination's type
/// is checked before anything is popped; the source goes when emptied (unless it is also
/// the destination). With `wait` (BLMOVE, BRPOPLPUSH), an empty source makes the client
/// wait on it for up to the timeout.
fn move_element(
    ctx: &mut Ctx,
    argv: &[Bytes],
    from_head: bool,
    to_head: bool,
    wait: Option<Option<Duration>>,
) {
    let (db, now, server) = (ctx.client.db, ctx.now_ms(), ctx.server);
    let (source, destination) = (&argv[1][..], &argv[2][..]);
    let _turn = retry_turn(ctx);
    let mut guard = server
        .keyspace
        .lock_keys(&[(db, source), (db, destination)]);
    let moved = (|| {
        // The source's type first: an empty source blocks whatever the destination is.
        let source_found = match find_list(&mut guard.key(0), now) {
            Err(WrongType) if woken(ctx) => Ok(None),
            found => found,
        };
        let Some(_) = source_found? else {
            return Ok(None);
        };
        find_list(&mut guard.key(1), now)?;
        // Looked up again: deleting an expired destination may have moved the source.
        let mut from = guard.key(0);
        let Ok(Some(pos)) = find_list(&mut from, now) else {
            return Ok(None);
        };
        let list = list_at(&mut from, pos);
        let element = if from_head {
            list.pop_front()
        } else {
            list.pop_back()
        };
        let Some(element) = element else {
            return Ok(None);
        };
        if list.is_empty() && source != destination {
            from.remove_at(pos);
        }
        let mut to = guard.key(1);
        let pos = match find_list(&mut to, now) {
            Ok(Some(pos)) => pos,
            _ => to.set(Value::List(Box::default()), false, now),
        };
        let list = list_at(&mut to, pos);
        if to_head {
            list.push_front(element.clone());
        } else {
            list.push_back(element.clone());
        }
        // A served blocking form goes out as its plain one.
        match (wait.is_some(), argv.len()) {
            (false, _) => ctx.propagate(argv),
            (true, 6) => ctx.propagate(&[b"LMOVE", source, destination, &argv[3], &argv[4]]),
            (true, _) => ctx.propagate(&[b"RPOPLPUSH", source, destination]),
        }
        Ok::<_, WrongType>(Some(element))
    })();
    drop(guard);
    match moved {
        Err(WrongType) => ctx.reply.error(errors::WRONGTYPE),
        Ok(Some(element)) => {
            server.blocked.key_ready(db, destination);
            ctx.reply.bulk(&element);
        }
        Ok(None) => match wait {
            // Inside MULTI nothing waits: a null bulk at once, as Redis replies there.
            Some(timeout) if !ctx.client.in_exec => block(ctx, &argv[1..2], timeout),
            _ => {
                crate::persist::dirty::changed(0);
                ctx.reply.null();
            }
        },
    }
}

pub fn blpop(ctx: &mut Ctx, argv: &[Bytes]) {
    blocking_pop(ctx, argv, true);
}

pub fn brpop(ctx: &mut Ctx, argv: &[Bytes]) {
    blocking_pop(ctx, argv, false);
}

/// BLPOP and BRPOP: one element from the first non-empty list among the keys, or the
/// client waits on all of them.
fn blocking_pop(ctx: &mut Ctx, argv: &[Bytes], from_head: bool) {
    let keys = &argv[1..argv.len() - 1];
    let Some(timeout) = parse_timeout(ctx, &argv[argv.len() - 1]) else {
        return;
    };
    let popped = pop_first_list(ctx, keys, from_head, None);
    finish(ctx, keys, Some(timeout), popped, |reply, key, popped| {
        reply.array(2);
        reply.bulk(key);
        reply.bulk(&popped[0]);
    });
}

/// Pops up to `count` (None: one, and replicas get no count) elements from one end of
/// the first non-empty list among `keys`, which replicas get as `LPOP|RPOP key [count]`.
fn pop_first_list<'k>(
    ctx: &mut Ctx,
    keys: &'k [Bytes],
    from_head: bool,
    count: Option<usize>,
) -> Popped<'k, Bytes> {
    let plain: &[u8] = if from_head { b"LPOP" } else { b"RPOP" };
    pop_first(
        ctx,
        keys,
        count,
        plain,
        |list: &mut VecDeque<Bytes>, count| {
            let take = count.min(list.len());
            if from_head {
                list.drain(..take).collect()
            } else {
                list.drain(list.len() - take..).rev().collect()
            }
        },
    )
}

pub fn lmpop(ctx: &mut Ctx, argv: &[Bytes]) {
    mpop(ctx, argv, 1);
}

pub fn blmpop(ctx: &mut Ctx, argv: &[Bytes]) {
    mpop(ctx, argv, 2);
}

/// Redis' lmpopGenericCommand: `numkeys`, LEFT|RIGHT, COUNT and then BLMPOP's timeout are
/// checked first, then the first non-empty list among the keys gives up to `count`
/// elements.
fn mpop(ctx: &mut Ctx, argv: &[Bytes], numkeys_at: usize) {
    let Some(args) = parse_mpop(ctx, argv, numkeys_at, ["LEFT", "RIGHT"]) else {
        return;
    };
    let keys = &argv[args.keys];
    let popped = pop_first_list(ctx, keys, args.first_end, Some(args.count));
    finish(ctx, keys, args.wait, popped, |reply, key, popped| {
        reply.array(2);
        reply.bulk(key);
        reply.bulk_array(&popped);
    });
}
