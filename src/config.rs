//! Configuration parameters: the table behind CONFIG GET/SET, the config file and the
//! `--name value` flags.
//!
//! Every parameter is stored in its canonical text form (what CONFIG GET prints: memory
//! values in bytes, booleans as yes/no), so CONFIG GET is a lookup and CONFIG SET a
//! validation plus a store. The few values read on hot paths are mirrored into atomics
//! ([`HotConfig`]) whenever they change, so connections never take the lock per command.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;

use crate::db::glob::glob_match;
use crate::server::output_limit::{self, NormalLimit};

/// How a parameter's value is checked and normalised.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    /// A byte count that accepts Redis' units (`1gb`, `100mb`, `64k`).
    Memory {
        max: u64,
    },
    /// A byte count, or a percentage of `maxmemory` (`10%`, at most 100%).
    MemoryOrPercent,
    Enum(&'static [&'static str]),
    Text,
    /// Pairs of `<seconds> <changes>`, or empty.
    SavePolicy,
    /// `<class> <hard> <soft> <seconds>` groups, merged into the current value.
    OutputBufferLimits,
}

#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    /// Other names Redis accepts for it (ziplist-era names, `slaveof`).
    pub aliases: &'static [&'static str],
    pub default: &'static str,
    pub kind: Kind,
    /// Settable with CONFIG SET (others only at start-up).
    pub mutable: bool,
    /// Left out of CONFIG GET patterns; only its exact name shows it (Redis' test-only
    /// parameters such as `key-load-delay`).
    pub hidden: bool,
}

const fn param(name: &'static str, default: &'static str, kind: Kind, mutable: bool) -> Param {
    Param {
        name,
        aliases: &[],
        default,
        kind,
        mutable,
        hidden: false,
    }
}

const fn hidden(name: &'static str, default: &'static str, kind: Kind) -> Param {
    Param {
        hidden: true,
        ..param(name, default, kind, true)
    }
}

const fn aliased(
    name: &'static str,
    aliases: &'static [&'static str],
    default: &'static str,
    kind: Kind,
) -> Param {
    Param {
        name,
        aliases,
        default,
        kind,
        mutable: true,
        hidden: false,
    }
}

const INT: Kind = Kind::Int {
    min: 0,
    max: i32::MAX as i64,
};
const LONG: Kind = Kind::Int {
    min: -1,
    max: i64::MAX,
};
const MEM: Kind = Kind::Memory { max: u64::MAX };
const LOG_LEVELS: &[&str] = &["debug", "verbose", "notice", "warning", "nothing"];
const EVICTION_POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

/// Parameters with Redis 7.0's names and defaults. Those ringkv acts on are listed in the
/// README; the rest are kept so that tools and test suites that read or set them work.
#[rustfmt::skip]
pub static PARAMS: &[Param] = &[
    param("port", "6379", Kind::Int { min: 0, max: 65535 }, false),
    // Loopback only, where Redis 7.0 listens on every interface (`* -::*`).
    param("bind", "127.0.0.1 -::1", Kind::Text, false),
    param("dir", ".", Kind::Text, true),
    param("dbfilename", "dump.rdb", Kind::Text, true),
    param("requirepass", "", Kind::Text, true),
    param("databases", "16", Kind::Int { min: 1, max: 16 }, false),
    param("threads", "0", Kind::Int { min: 0, max: 1024 }, false),
    param("io-backend", "auto", Kind::Enum(&["auto", "uring", "epoll"]), false),
    param("loglevel", "notice", Kind::Enum(LOG_LEVELS), true),
    param("logfile", "", Kind::Text, false),
    param("daemonize", "no", Kind::Bool, false),
    param("protected-mode", "yes", Kind::Bool, true),
    param( "enable-debug-command", "no", Kind::Enum(&["no", "yes", "local"]), false),
    param( "maxclients", "10000", Kind::Int { min: 1, max: i32::MAX as i64 }, true),
    param("timeout", "0", INT, true),
    param("tcp-keepalive", "300", INT, true),
    param("tcp-backlog", "511", INT, false),
    param("hz", "10", Kind::Int { min: 1, max: 500 }, true),
    param("proto-max-bulk-len", "536870912", Kind::Memory { max: i64::MAX as u64 }, true),
    param("client-query-buffer-limit", "1073741824", MEM, true),
    param("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", Kind::OutputBufferLimits, true),
    param("save", "3600 1 300 100 60 10000", Kind::SavePolicy, true),
    param("stop-writes-on-bgsave-error", "yes", Kind::Bool, true),
    param("rdbcompression", "yes", Kind::Bool, true),
    param("rdbchecksum", "yes", Kind::Bool, true),
    param("appendonly", "no", Kind::Bool, true),
    param("appendfilename", "appendonly.aof", Kind::Text, false),
    param("maxmemory", "0", MEM, true),
    param("maxmemory-clients", "0", Kind::MemoryOrPercent, true),
    hidden( "key-load-delay", "0", Kind::Int { min: i32::MIN as i64, max: i32::MAX as i64 }),
    param( "maxmemory-policy", "noeviction", Kind::Enum(EVICTION_POLICIES), true),
    param( "maxmemory-samples", "5", Kind::Int { min: 1, max: 64 }, true),
    aliased("replicaof", &["slaveof"], "", Kind::Text),
    param("masterauth", "", Kind::Text, true),
    param("masteruser", "", Kind::Text, true),
    aliased("replica-read-only", &["slave-read-only"], "yes", Kind::Bool),
    aliased("replica-serve-stale-data", &["slave-serve-stale-data"], "yes", Kind::Bool),
    aliased("replica-priority", &["slave-priority"], "100", INT),
    param("replica-announced", "yes", Kind::Bool, true),
    aliased("replica-announce-ip", &["slave-announce-ip"], "", Kind::Text),
    aliased("replica-announce-port", &["slave-announce-port"], "0", Kind::Int { min: 0, max: 65535 }),
    param("repl-backlog-size", "1048576", MEM, true),
    param("repl-backlog-ttl", "3600", INT, true),
    param("repl-timeout", "60", Kind::Int { min: 1, max: i32::MAX as i64 }, true),
    aliased("repl-ping-replica-period", &["repl-ping-slave-period"], "10", INT),
    param("repl-diskless-sync", "yes", Kind::Bool, true),
    param("repl-diskless-sync-delay", "5", INT, true),
    aliased("min-replicas-to-write", &["min-slaves-to-write"], "0", INT),
    aliased("min-replicas-max-lag", &["min-slaves-max-lag"], "10", INT),
    param("lazyfree-lazy-eviction", "no", Kind::Bool, true),
    param("lazyfree-lazy-expire", "no", Kind::Bool, true),
    param("lazyfree-lazy-server-del", "no", Kind::Bool, true),
    param("lazyfree-lazy-user-del", "no", Kind::Bool, true),
    param("lazyfree-lazy-user-flush", "no", Kind::Bool, true),
    param("notify-keyspace-events", "", Kind::Text, true),
    param("slowlog-log-slower-than", "10000", LONG, true),
    param("slowlog-max-len", "128", LONG, true),
    param("latency-monitor-threshold", "0", LONG, true),
    param("latency-tracking", "yes", Kind::Bool, true),
    aliased("busy-reply-threshold", &["lua-time-limit"], "5000", LONG),
    param("active-expire-effort", "1", Kind::Int { min: 1, max: 10 }, true),
    param("activerehashing", "yes", Kind::Bool, true),
    param("activedefrag", "no", Kind::Bool, true),
    aliased( "hash-max-listpack-entries", &["hash-max-ziplist-entries"], "512", LONG),
    aliased( "hash-max-listpack-value", &["hash-max-ziplist-value"], "64", LONG),
    aliased( "list-max-listpack-size", &["list-max-ziplist-size"], "-2", Kind::Int { min: i32::MIN as i64, max: i32::MAX as i64 }),
    param("list-compress-depth", "0", INT, true),
    param("set-max-intset-entries", "512", LONG, true),
    aliased("zset-max-listpack-entries", &["zset-max-ziplist-entries"], "128", LONG),
    aliased("zset-max-listpack-value", &["zset-max-ziplist-value"], "64", LONG),
    param("stream-node-max-bytes", "4096", MEM, true),
    param("stream-node-max-entries", "100", LONG, true),
    param("hll-sparse-max-bytes", "3000", MEM, true),
    param("lfu-log-factor", "10", INT, true),
    param("lfu-decay-time", "1", INT, true),
    param("close-on-replica-write", "yes", Kind::Bool, true),
];

/// Values read on every command or read, kept in atomics so connections need no lock.
#[derive(Debug)]
pub struct HotConfig {
    pub proto_max_bulk_len: AtomicU64,
    pub query_buffer_limit: AtomicU64,
    pub password_set: AtomicBool,
    pub hz: AtomicU64,
    /// `client-output-buffer-limit`'s normal class.
    pub output_limit: NormalLimit,
    /// `replica-read-only`: checked on every write while this server is a replica.
    pub replica_read_only: AtomicBool,
}

#[derive(Debug)]
pub struct Config {
    values: RwLock<Vec<String>>,
    pub hot: HotConfig,
}

/// Why a value was refused; the text is what Redis appends after ` - ` in its error.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError {
    Unknown(String),
    Immutable(String),
    Invalid { name: String, reason: String },
}

impl Config {
    pub fn new() -> Config {
        let config = Config {
            values: RwLock::new(PARAMS.iter().map(|p| p.default.to_string()).collect()),
            hot: HotConfig {
                proto_max_bulk_len: AtomicU64::new(0),
                query_buffer_limit: AtomicU64::new(0),
                password_set: AtomicBool::new(false),
                hz: AtomicU64::new(10),
                output_limit: NormalLimit::default(),
                replica_read_only: AtomicBool::new(true),
            },
        };
        config.refresh_hot();
        config
    }

    pub fn find(name: &str) -> Option<usize> {
        PARAMS.iter().position(|p| {
            p.name.eq_ignore_ascii_case(name)
                || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
    }

    /// The canonical value of a parameter by its name (panics on a name not in [`PARAMS`]:
    /// callers name parameters with literals).
    pub fn get(&self, name: &str) -> String {
        let index = Self::find(name).unwrap_or_else(|| panic!("no config parameter {name}"));
        self.read()[index].clone()
    }

    pub fn get_int(&self, name: &str) -> i64 {
        self.get(name).parse().unwrap_or(0)
    }

    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name) == "yes"
    }

    /// Every `(name, value)` whose name or alias matches one of the glob `patterns`, in
    /// table order; hidden parameters answer only to their exact name, so never here.
    pub fn matching(&self, patterns: &[&[u8]]) -> Vec<(&'static str, String)> {
        let values = self.read();
        let mut out = Vec::new();
        for (param, value) in PARAMS.iter().zip(values.iter()) {
            if param.hidden {
                continue;
            }
            for name in std::iter::once(&param.name).chain(param.aliases) {
                if patterns
                    .iter()
                    .any(|p| glob_match(p, name.as_bytes(), true))
                {
                    out.push((*name, value.clone()));
                }
            }
        }
        out
    }

    /// Sets several parameters at once, all or none (CONFIG SET a 1 b 2). `startup`
    /// allows immutable parameters (config file and command line).
    pub fn set_many(&self, pairs: &[(&str, &str)], startup: bool) -> Result<(), SetError> {
        let mut checked = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            let index = Self::find(name).ok_or_else(|| SetError::Unknown(name.to_string()))?;
            let param = &PARAMS[index];
            if !param.mutable && !startup {
                return Err(SetError::Immutable(name.to_string()));
            }
            if checked.iter().any(|(i, _)| *i == index) {
                return Err(SetError::Invalid {
                    name: name.to_string(),
                    reason: "duplicate parameter".into(),
                });
            }
            let current = self.read()[index].clone();
            let canonical =
                normalise(param, value, &current).map_err(|reason| SetError::Invalid {
                    name: name.to_string(),
                    reason,
                })?;
            checked.push((index, canonical));
        }
        {
            let mut values = self.values.write().unwrap_or_else(|e| e.into_inner());
            for (index, canonical) in checked {
                values[index] = canonical;
            }
        }
        self.refresh_hot();
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<String>> {
        // A panic while holding the lock cannot leave a half-written value (stores are
        // whole strings), so a poisoned lock is still consistent.
        self.values.read().unwrap_or_else(|e| e.into_inner())
    }

    fn refresh_hot(&self) {
        let hot = &self.hot;
        hot.proto_max_bulk_len
            .store(self.get_int("proto-max-bulk-len") as u64, Ordering::Relaxed);
        let query_limit: u64 = self
            .get("client-query-buffer-limit")
            .parse()
            .unwrap_or(u64::MAX);
        hot.query_buffer_limit.store(query_limit, Ordering::Relaxed);
        hot.password_set
            .store(!self.get("requirepass").is_empty(), Ordering::Relaxed);
        hot.hz.store(self.get_int("hz") as u64, Ordering::Relaxed);
        hot.output_limit
            .store(&self.get("client-output-buffer-limit"));
        hot.replica_read_only
            .store(self.get_bool("replica-read-only"), Ordering::Relaxed);
        if let Some(level) = crate::log::Level::parse(&self.get("loglevel")) {
            crate::log::set_level(level);
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

/// Checks `value` against the parameter's kind and returns the form CONFIG GET prints.
fn normalise(param: &Param, value: &str, current: &str) -> Result<String, String> {
    match param.kind {
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int { min, max } => {
            let n: i64 = value
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            if n < min || n > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(n.to_string())
        }
        Kind::Memory { max } => {
            let n =
                parse_memory(value).ok_or_else(|| "argument must be a memory value".to_string())?;
            if n > max {
                return Err(format!("argument must be between 0 and {max} inclusive"));
            }
            Ok(n.to_string())
        }
        Kind::MemoryOrPercent => match value.strip_suffix('%') {
            Some(percent) => {
                let n: u64 = percent
                    .parse()
                    .map_err(|_| "argument must be a memory or percent value".to_string())?;
                if n > 100 {
                    return Err("percentage argument must be less or equal to 100".into());
                }
                Ok(format!("{n}%"))
            }
            None => parse_memory(value)
                .map(|n| n.to_string())
                .ok_or_else(|| "argument must be a memory or percent value".to_string()),
        },
        Kind::Enum(choices) => choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(value))
            .map(|c| c.to_string())
            .ok_or_else(|| {
                format!(
                    "argument(s) must be one of the following: {}",
                    choices.join(", ")
                )
            }),
        Kind::Text => Ok(value.to_string()),
        Kind::OutputBufferLimits => output_limit::merge(current, value),
        Kind::SavePolicy => {
            let words: Vec<&str> = value.split_whitespace().collect();
            let valid = words.len() % 2 == 0 && words.iter().all(|w| w.parse::<u64>().is_ok());
            if valid {
                Ok(words.join(" "))
            } else {
                Err("Invalid save parameters".into())
            }
        }
    }
}

/// Redis' memtoull: a number with an optional unit; `k`/`m`/`g` are powers of 1000,
/// `kb`/`mb`/`gb` powers of 1024, case-insensitive.
pub fn parse_memory(value: &str) -> Option<u64> {
    let lower = value.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(digits_end);
    let multiplier: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(multiplier)
}

/// Splits a config-file line into words the way Redis does (sdssplitargs: quotes and
/// escapes), reusing the inline-command splitter. None for unbalanced quotes.
pub fn split_line(line: &str) -> Option<Vec<String>> {
    crate::resp::parse::split_line(line.as_bytes()).map(|words| {
        words
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect()
    })
}

/// Reads a redis.conf-style file into `(name, value)` pairs, in file order; a parameter
/// with several words (`save 900 1 300 10`) gets them joined by single spaces.
pub fn parse_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = split_line(line)
            .ok_or_else(|| format!("line {}: unbalanced quotes in '{line}'", number + 1))?;
        let Some((name, rest)) = words.split_first() else {
            continue;
        };
        pairs.push((name.to_ascii_lowercase(), rest.join(" ")));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_follow_redis() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("1G"), Some(1_000_000_000));
        assert_eq!(parse_memory("64kb"), Some(65536));
        assert_eq!(parse_memory("12"), Some(12));
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("1tb"), None);
        assert_eq!(parse_memory("99999999999999999999gb"), None);
    }

    #[test]
    fn set_validates_and_normalises() {
        let config = Config::new();
        config
            .set_many(&[("proto-max-bulk-len", "1mb")], false)
            .unwrap();
        assert_eq!(config.get("proto-max-bulk-len"), "1048576");
        assert_eq!(
            config.hot.proto_max_bulk_len.load(Ordering::Relaxed),
            1 << 20
        );
        config
            .set_many(&[("hash-max-ziplist-entries", "7")], false)
            .unwrap();
        assert_eq!(config.get("hash-max-listpack-entries"), "7");
        assert_eq!(
            config.set_many(&[("hz", "abc")], false),
            Err(SetError::Invalid {
                name: "hz".into(),
                reason: "argument couldn't be parsed into an integer".into()
            })
        );
        assert_eq!(
            config.set_many(&[("port", "1")], false),
            Err(SetError::Immutable("port".into()))
        );
        assert_eq!(
            config.set_many(&[("nope", "1")], false),
            Err(SetError::Unknown("nope".into()))
        );
    }

    #[test]
    fn a_failed_set_changes_nothing() {
        let config = Config::new();
        assert!(config
            .set_many(&[("maxclients", "7"), ("appendonly", "maybe")], false)
            .is_err());
        assert_eq!(config.get("maxclients"), "10000");
    }

    #[test]
    fn get_matches_names_and_aliases_by_glob() {
        let config = Config::new();
        let names: Vec<_> = config
            .matching(&[b"*max-*-entries*"])
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(names.contains(&"hash-max-listpack-entries"));
        assert!(names.contains(&"hash-max-ziplist-entries"));
        assert!(names.contains(&"set-max-intset-entries"));
        assert!(!names.contains(&"port"));
    }

    #[test]
    fn config_file_lines_split_like_redis() {
        let pairs =
            parse_file("# comment\nport 6380\nsave 900 1 300 10\nrequirepass \"a b\"\n").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("port".to_string(), "6380".to_string()),
                ("save".to_string(), "900 1 300 10".to_string()),
                ("requirepass".to_string(), "a b".to_string()),
            ]
        );
    }
}
