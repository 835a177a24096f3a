//! Command argument documentation for COMMAND DOCS, which redis-cli reads to show its
//! hints (`SET k ` -> `value [NX|XX] [GET] [EX seconds|...]`).
//!
//! Each command's arguments are written in the syntax of Redis' documentation and parsed
//! into the tree COMMAND DOCS reports:
//!
//! ```text
//! key:key value [NX|XX] [EX seconds:integer|KEEPTTL] member... (field value)...
//! ```
//! `name:type` is an argument (type `string` when omitted); an UPPER-CASE word is a token,
//! which names the argument or group right after it (`EX seconds`) or stands alone as a
//! pure token; `[...]` is optional, `(...)` a block, `a|b` one of, `...` repeatable, and
//! `[name=...]` names a group.

use crate::resp::Reply;

/// The argument syntax of a command, by full name (`get`, `config|set`).
pub fn syntax(full_name: &str) -> &'static str {
    match full_name {
        "ping" => "[message]",
        "echo" => "message",
        "select" => "index:integer",
        "auth" => "[username] password",
        "hello" => {
            "[arguments=(protover:integer [AUTH (username_password=username password)] \
             [SETNAME clientname])]"
        }
        "client|setname" => "connection-name",
        "client|list" => {
            "[TYPE (normal_master_replica_pubsub=NORMAL|MASTER|REPLICA|PUBSUB)] \
             [ID (id=client-id:integer...)]"
        }
        "client|kill" => {
            "[ID client-id:integer] [TYPE (normal_master_slave_pubsub=NORMAL|MASTER|SLAVE\
             |REPLICA|PUBSUB)] [USER username] [ADDR ip-port] [LADDR ip-port] [SKIPME yes-no]"
        }
        "client|no-evict" => "(enabled=ON|OFF)",
        "client|reply" => "(on_off_skip=ON|OFF|SKIP)",
        "shutdown" => "[nosave_save=NOSAVE|SAVE] [NOW] [FORCE] [ABORT]",
        "get" | "type" | "ttl" | "pttl" | "persist" | "llen" | "scard" => "key:key",
        "set" => {
            "key:key value [condition=NX|XX] [GET] [expiration=EX seconds:integer|PX milliseconds:integer\
             |EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|KEEPTTL]"
        }
        "mset" => "(data=key:key value)...",
        "incrbyfloat" => "key:key increment:double",
        "lpush" | "rpush" => "key:key element...",
        "blpop" => "key:key... timeout:double",
        "sadd" => "key:key member...",
        "srandmember" => "key:key [count:integer]",
        "del" | "exists" => "key:key...",
        "keys" => "pattern:pattern",
        "expire" => "key:key seconds:integer [condition=NX|XX|GT|LT]",
        "pexpire" => "key:key milliseconds:integer [condition=NX|XX|GT|LT]",
        "flushdb" | "flushall" => "[flush-type=ASYNC|SYNC]",
        "info" => "[section...]",
        "config|get" => "parameter...",
        "config|set" => "(data=parameter value)...",
        "command|info" | "command|docs" => "[command-name...]",
        "command|list" => {
            "[FILTERBY (filterby=MODULE module-name|ACLCAT category|PATTERN pattern:pattern)]"
        }
        _ => "",
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Arg {
    pub name: String,
    /// `key`, `string`, `integer`, `double`, `pattern`, `unix-time`, `pure-token`,
    /// `oneof` or `block`.
    pub kind: String,
    pub token: Option<String>,
    pub optional: bool,
    pub multiple: bool,
    pub children: Vec<Arg>,
}

/// Parses an argument syntax (see the module comment). The syntax strings are ours and
/// fixed, so a malformed one is a bug caught by the tests, not an input error.
pub fn parse(syntax: &str) -> Vec<Arg> {
    let tokens = tokenize(syntax);
    let mut at = 0;
    let args = parse_sequence(&tokens, &mut at);
    assert_eq!(at, tokens.len(), "unbalanced argument syntax: {syntax}");
    args
}

fn tokenize(syntax: &str) -> Vec<String> {
    let spaced = syntax
        .replace("...", " ... ")
        .replace('[', " [ ")
        .replace(']', " ] ")
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('|', " | ");
    // `name=first` names a group: split it into `name=` and `first`.
    let mut tokens = Vec::new();
    for word in spaced.split_whitespace() {
        match word.split_once('=') {
            Some((name, rest)) => {
                tokens.push(format!("{name}="));
                if !rest.is_empty() {
                    tokens.push(rest.to_string());
                }
            }
            None => tokens.push(word.to_string()),
        }
    }
    tokens
}

fn is_token(word: &str) -> bool {
    word.bytes().any(|b| b.is_ascii_uppercase()) && !word.bytes().any(|b| b.is_ascii_lowercase())
}

fn is_structural(word: &str) -> bool {
    matches!(word, "[" | "]" | "(" | ")" | "|" | "...")
}

/// Items up to a closing bracket or `|`.
fn parse_sequence(tokens: &[String], at: &mut usize) -> Vec<Arg> {
    let mut items = Vec::new();
    while let Some(word) = tokens.get(*at) {
        if matches!(word.as_str(), "]" | ")" | "|") {
            break;
        }
        items.push(parse_item(tokens, at));
    }
    items
}

fn parse_item(tokens: &[String], at: &mut usize) -> Arg {
    let word = tokens[*at].clone();
    *at += 1;
    let mut arg = match word.as_str() {
        "[" => {
            let mut group = parse_group(tokens, at, "]");
            group.optional = true;
            group
        }
        "(" => parse_group(tokens, at, ")"),
        _ if is_token(&word) => match tokens.get(*at) {
            // A token followed by its value or group: `EX seconds`, `FILTERBY (...)`.
            Some(next) if !is_structural(next) && !is_token(next) || next == "(" => {
                let mut named = parse_item(tokens, at);
                named.token = Some(word);
                return named;
            }
            _ => leaf(&word.to_ascii_lowercase(), "pure-token", Some(word)),
        },
        _ => {
            let (name, kind) = word.split_once(':').unwrap_or((&word, "string"));
            leaf(name, kind, None)
        }
    };
    if tokens.get(*at).map(String::as_str) == Some("...") {
        *at += 1;
        arg.multiple = true;
    }
    arg
}

/// The inside of `[...]` or `(...)`: an optional `name=`, then alternatives separated
/// by `|`, each a sequence.
fn parse_group(tokens: &[String], at: &mut usize, close: &str) -> Arg {
    let name = tokens[*at].strip_suffix('=').map(str::to_string);
    if name.is_some() {
        *at += 1;
    }
    let mut alternatives = vec![parse_sequence(tokens, at)];
    while tokens.get(*at).map(String::as_str) == Some("|") {
        *at += 1;
        alternatives.push(parse_sequence(tokens, at));
    }
    assert_eq!(
        tokens.get(*at).map(String::as_str),
        Some(close),
        "unclosed group"
    );
    *at += 1;
    let mut group = if alternatives.len() > 1 {
        let children = alternatives.into_iter().map(collapse).collect();
        Arg {
            children,
            ..leaf("", "oneof", None)
        }
    } else {
        collapse(alternatives.pop().unwrap_or_default())
    };
    if let Some(name) = name {
        group.name = name;
    }
    group
}

/// One item stays itself; several become a block named after the first.
fn collapse(mut items: Vec<Arg>) -> Arg {
    if items.len() == 1 {
        return items.remove(0);
    }
    let name = items.first().map(|a| a.name.clone()).unwrap_or_default();
    Arg {
        children: items,
        ..leaf(&name, "block", None)
    }
}

fn leaf(name: &str, kind: &str, token: Option<String>) -> Arg {
    Arg {
        name: name.to_string(),
        kind: kind.to_string(),
        token,
        optional: false,
        multiple: false,
        children: Vec::new(),
    }
}

/// Writes arguments as COMMAND DOCS does: an array of flattened maps.
pub fn write_args(reply: &mut Reply, args: &[Arg]) {
    reply.array(args.len());
    for arg in args {
        let flags: Vec<&str> = [(arg.optional, "optional"), (arg.multiple, "multiple")]
            .into_iter()
            .filter_map(|(set, flag)| set.then_some(flag))
            .collect();
        let fields = 2
            + usize::from(arg.token.is_some())
            + usize::from(!flags.is_empty())
            + usize::from(!arg.children.is_empty());
        reply.array(fields * 2);
        reply.bulk(b"name");
        reply.bulk(arg.name.as_bytes());
        reply.bulk(b"type");
        reply.bulk(arg.kind.as_bytes());
        if let Some(token) = &arg.token {
            reply.bulk(b"token");
            reply.bulk(token.as_bytes());
        }
        if !flags.is_empty() {
            reply.bulk(b"flags");
            reply.array(flags.len());
            for flag in flags {
                reply.simple(flag);
            }
        }
        if !arg.children.is_empty() {
            reply.bulk(b"arguments");
            write_args(reply, &arg.children);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_syntax_becomes_redis_argument_tree() {
        let args = parse(syntax("set"));
        let shape: Vec<(&str, &str, bool)> = args
            .iter()
            .map(|a| (a.name.as_str(), a.kind.as_str(), a.optional))
            .collect();
        assert_eq!(
            shape,
            vec![
                ("key", "key", false),
                ("value", "string", false),
                ("condition", "oneof", true),
                ("get", "pure-token", true),
                ("expiration", "oneof", true),
            ]
        );
        let ex = &args[4].children[0];
        assert_eq!(
            (ex.name.as_str(), ex.kind.as_str(), ex.token.as_deref()),
            ("seconds", "integer", Some("EX"))
        );
        assert_eq!(args[4].children[4].kind, "pure-token");
    }

    #[test]
    fn blocks_and_repeats() {
        let args = parse(syntax("mset"));
        assert_eq!(args.len(), 1);
        assert_eq!(
            (
                args[0].name.as_str(),
                args[0].kind.as_str(),
                args[0].multiple
            ),
            ("data", "block", true)
        );
        assert_eq!(args[0].children.len(), 2);
        let blpop = parse(syntax("blpop"));
        assert!(blpop[0].multiple && blpop[1].kind == "double");
    }

    #[test]
    fn tokens_can_introduce_groups() {
        let args = parse(syntax("command|list"));
        let filter = &args[0];
        assert_eq!(
            (
                filter.name.as_str(),
                filter.kind.as_str(),
                filter.token.as_deref()
            ),
            ("filterby", "oneof", Some("FILTERBY"))
        );
        assert!(filter.optional);
        assert_eq!(filter.children[2].token.as_deref(), Some("PATTERN"));
    }

    #[test]
    fn every_command_syntax_parses() {
        for spec in super::super::commands() {
            parse(syntax(spec.name));
            for sub in spec.subcommands {
                parse(syntax(&sub.full_name(Some(spec))));
            }
        }
    }
}
