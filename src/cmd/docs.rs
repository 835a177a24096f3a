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
        "bgsave" => "[SCHEDULE]",
        "replicaof" | "slaveof" => "(args=(host-port=host port:integer)|(no-one=NO ONE))",
        "psync" => "replicationid offset:integer",
        "wait" => "numreplicas:integer timeout:integer",
        "dump" => "key:key",
        "memory|usage" => "key:key [SAMPLES count:integer]",
        "restore" => {
            "key:key ttl:integer serialized-value [REPLACE] [ABSTTL] \
             [IDLETIME seconds:integer] [FREQ frequency:integer]"
        }
        "get" | "type" | "ttl" | "pttl" | "persist" | "llen" | "scard" | "expiretime"
        | "pexpiretime" | "object|encoding" | "object|freq" | "object|idletime"
        | "object|refcount" | "hlen" | "hkeys" | "hvals" | "hgetall" | "smembers" => "key:key",
        "set" => {
            "key:key value [condition=NX|XX] [GET] [expiration=EX seconds:integer|PX milliseconds:integer\
             |EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|KEEPTTL]"
        }
        "mset" | "msetnx" => "(key_value=key:key value)...",
        "setnx" | "getset" | "append" => "key:key value",
        "setex" => "key:key seconds:integer value",
        "psetex" => "key:key milliseconds:integer value",
        "getdel" | "strlen" | "incr" | "decr" => "key:key",
        "getex" => {
            "key:key [expiration=EX seconds:integer|PX milliseconds:integer\
             |EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|PERSIST]"
        }
        "mget" => "key:key...",
        "getrange" | "substr" => "key:key start:integer end:integer",
        "setrange" => "key:key offset:integer value",
        "incrby" => "key:key increment:integer",
        "decrby" => "key:key decrement:integer",
        "incrbyfloat" => "key:key increment:double",
        "lcs" => "key1:key key2:key [LEN] [IDX] [MINMATCHLEN len:integer] [WITHMATCHLEN]",
        "setbit" => "key:key offset:integer value:integer",
        "getbit" => "key:key offset:integer",
        "bitcount" => "key:key [index=start:integer end:integer [index_unit=BYTE|BIT]]",
        "bitpos" => {
            "key:key bit:integer [index=start:integer [end_index=end:integer [index_unit=BYTE|BIT]]]"
        }
        "bitop" => "operation destkey:key key:key...",
        "lpush" | "rpush" | "lpushx" | "rpushx" => "key:key element...",
        "lindex" => "key:key index:integer",
        "lset" => "key:key index:integer element",
        "linsert" => "key:key (where=BEFORE|AFTER) pivot element",
        "lrem" => "key:key count:integer element",
        "ltrim" => "key:key start:integer stop:integer",
        "lpos" => {
            "key:key element [RANK rank:integer] [COUNT num-matches:integer] \
             [MAXLEN len:integer]"
        }
        "lmove" => "source:key destination:key (wherefrom=LEFT|RIGHT) (whereto=LEFT|RIGHT)",
        "blmove" => {
            "source:key destination:key (wherefrom=LEFT|RIGHT) (whereto=LEFT|RIGHT) \
             timeout:double"
        }
        "rpoplpush" => "source:key destination:key",
        "lmpop" => "numkeys:integer key:key... (where=LEFT|RIGHT) [COUNT count:integer]",
        "blmpop" => {
            "timeout:double numkeys:integer key:key... (where=LEFT|RIGHT) [COUNT count:integer]"
        }
        "brpoplpush" => "source:key destination:key timeout:double",
        "lpop" | "rpop" => "key:key [count:integer]",
        "srem" => "key:key member...",
        "blpop" | "brpop" => "key:key... timeout:double",
        "sadd" => "key:key member...",
        "srandmember" | "spop" => "key:key [count:integer]",
        "sismember" => "key:key member",
        "smismember" => "key:key member...",
        "smove" => "source:key destination:key member",
        "sinter" | "sunion" | "sdiff" => "key:key...",
        "sinterstore" | "sunionstore" | "sdiffstore" => "destination:key key:key...",
        "sintercard" => "numkeys:integer key:key... [LIMIT limit:integer]",
        "lrange" => "key:key start:integer stop:integer",
        "sscan" | "hscan" | "zscan" => {
            "key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]"
        }
        "hset" | "hmset" => "key:key (field_value=field value)...",
        "hsetnx" => "key:key field value",
        "hget" | "hstrlen" | "hexists" => "key:key field",
        "hmget" | "hdel" => "key:key field...",
        "hincrby" => "key:key field increment:integer",
        "hincrbyfloat" => "key:key field increment:double",
        "hrandfield" => "key:key [options=count:integer [WITHVALUES]]",
        "zadd" => {
            "key:key [condition=NX|XX] [comparison=GT|LT] [change=CH] [increment=INCR] \
             (data=score:double member)..."
        }
        "zincrby" => "key:key increment:integer member",
        "zrem" | "zmscore" => "key:key member...",
        "zcard" => "key:key",
        "zscore" | "zrank" | "zrevrank" => "key:key member",
        "zcount" | "zremrangebyscore" => "key:key min:double max:double",
        "zlexcount" | "zremrangebylex" => "key:key min max",
        "zremrangebyrank" => "key:key start:integer stop:integer",
        "zrange" => {
            "key:key start stop [sortby=BYSCORE|BYLEX] [REV] \
             [LIMIT (limit=offset:integer count:integer)] [WITHSCORES]"
        }
        "zrangestore" => {
            "dst:key src:key min max [sortby=BYSCORE|BYLEX] [REV] \
             [LIMIT (limit=offset:integer count:integer)]"
        }
        "zrevrange" => "key:key start:integer stop:integer [WITHSCORES]",
        "zrangebyscore" => {
            "key:key min:double max:double [WITHSCORES] \
             [LIMIT (limit=offset:integer count:integer)]"
        }
        "zrevrangebyscore" => {
            "key:key max:double min:double [WITHSCORES] \
             [LIMIT (limit=offset:integer count:integer)]"
        }
        "zrangebylex" => "key:key min max [LIMIT (limit=offset:integer count:integer)]",
        "zrevrangebylex" => "key:key max min [LIMIT (limit=offset:integer count:integer)]",
        "zpopmin" | "zpopmax" => "key:key [count:integer]",
        "zmpop" => "numkeys:integer key:key... (where=MIN|MAX) [COUNT count:integer]",
        "bzmpop" => {
            "timeout:double numkeys:integer key:key... (where=MIN|MAX) [COUNT count:integer]"
        }
        "bzpopmin" | "bzpopmax" => "key:key... timeout:double",
        "zrandmember" => "key:key [options=count:integer [WITHSCORES]]",
        "zunionstore" | "zinterstore" => {
            "destination:key numkeys:integer key:key... [WEIGHTS weight:integer...] \
             [AGGREGATE (aggregate=SUM|MIN|MAX)]"
        }
        "zunion" | "zinter" => {
            "numkeys:integer key:key... [WEIGHTS weight:integer...] \
             [AGGREGATE (aggregate=SUM|MIN|MAX)] [WITHSCORES]"
        }
        "zdiff" => "numkeys:integer key:key... [WITHSCORES]",
        "zdiffstore" => "destination:key numkeys:integer key:key...",
        "zintercard" => "numkeys:integer key:key... [LIMIT limit:integer]",
        "del" | "exists" | "unlink" | "touch" => "key:key...",
        "keys" => "pattern:pattern",
        "scan" => "cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type]",
        "rename" | "renamenx" => "key:key newkey:key",
        "copy" => "source:key destination:key [DB destination-db:integer] [REPLACE]",
        "move" => "key:key db:integer",
        "swapdb" => "index1:integer index2:integer",
        "expire" => "key:key seconds:integer [condition=NX|XX|GT|LT]",
        "pexpire" => "key:key milliseconds:integer [condition=NX|XX|GT|LT]",
        "expireat" => "key:key unix-time-seconds:unix-time [condition=NX|XX|GT|LT]",
        "pexpireat" => "key:key unix-time-milliseconds:unix-time [condition=NX|XX|GT|LT]",
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

/// The time complexity Redis documents for a command, by full name.
#[rustfmt::skip]
pub fn complexity(full_name: &str) -> Option<&'static str> {
    Some(match full_name {
        "ping" | "echo" | "quit" | "select" | "get" | "set" | "setnx" | "setex" | "psetex" | "getset" | "getdel" | "getex" | "strlen" | "incr" | "incrby" | "decr" | "decrby" | "incrbyfloat" | "setbit" | "getbit" | "llen" | "scard" | "type" | "ttl" | "pttl" | "expire" | "pexpire" | "persist" | "multi" | "dbsize" | "config|resetstat" | "config|help" | "info" | "command|count" | "command|help" | "rename" | "renamenx" | "move" | "randomkey" | "expireat" | "pexpireat" | "expiretime" | "pexpiretime" | "object|encoding" | "object|freq" | "object|idletime" | "object|refcount" | "object|help" | "hello" | "client|id" | "client|setname" | "client|getname" | "client|info" | "client|no-evict" | "client|reply" | "client|help" | "reset" | "time" => "O(1)",
        "auth" => "O(N) where N is the number of passwords defined for the user",
        "mget" => "O(N) where N is the number of keys to retrieve.",
        "mset" | "msetnx" => "O(N) where N is the number of keys to set.",
        "append" => "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
        "getrange" | "substr" => "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
        "setrange" => "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
        "lcs" => "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        "bitcount" | "bitpos" | "bitop" => "O(N)",
        "lpush" | "rpush" | "sadd" => "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        "blpop" => "O(N) where N is the number of provided keys.",
        "srandmember" => "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        "del" => "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
        "exists" => "O(N) where N is the number of keys to check.",
        "keys" => "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
        "exec" => "Depends on commands in the transaction",
        "discard" => "O(N), when N is the number of queued commands",
        "flushdb" => "O(N) where N is the number of keys in the selected database",
        "flushall" => "O(N) where N is the total number of keys in all databases",
        "config" | "debug" => "Depends on subcommand.",
        "config|get" | "config|set" => "O(N) when N is the number of configuration parameters provided",
        "command" | "command|list" => "O(N) where N is the total number of Redis commands",
        "command|info" | "command|docs" => "O(N) where N is the number of commands to look up",
        "unlink" => "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
        "copy" => "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
        "touch" => "O(N) where N is the number of keys that will be touched.",
        "swapdb" => "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        "scan" => "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        "client|list" | "client|kill" => "O(N) where N is the number of client connections",
        "command|getkeys" | "command|getkeysandflags" => "O(N) where N is the number of arguments to the command",
        "shutdown" => "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        "lrange" => "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
        "smembers" => "O(N) where N is the set cardinality.",
        "rpop" | "lpop" => "O(N) where N is the number of elements returned",
        "srem" => "O(N) where N is the number of members to be removed.",
        "sismember" | "smove" => "O(1)",
        "smismember" => "O(N) where N is the number of elements being checked for membership",
        "spop" => "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        "sinter" | "sinterstore" | "sintercard" => "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        "sunion" | "sdiff" | "sunionstore" | "sdiffstore" => "O(N) where N is the total number of elements in all given sets.",
        _ => return None,
    })
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
            ("key_value", "block", true)
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
