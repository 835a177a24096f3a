//! Runs arbitrary command sequences through the real dispatcher (`cmd::execute`) against an
//! in-process server and checks invariants after every command; a panic is a finding.
//!
//! Input: commands separated by `\n`, arguments by ` `. An argument that is one byte
//! `>= 0x80` picks from a pool (see [`pick`]): as a command name, a row of the command
//! table (with its subcommand); elsewhere a key, an integer, a value or a DUMP payload, so
//! that commands collide on the same keys and reach deep paths. Anything else is literal,
//! which lets the dictionary (fuzz/dicts/commands.dict) splice in names and options.
//!
//! Checked after each command, by a second client on the same server:
//! - `execute` appended exactly one well-formed RESP2 reply (none if it blocked);
//! - DBSIZE equals the number of keys KEYS * lists, in every database it could touch;
//! - PTTL of every key is -2, -1 or no longer than the largest integer the input holds
//!   allows, and TTL agrees with it;
//! - after a write: DUMP of each key RESTOREd into a scratch key (same absolute deadline)
//!   has the same DEBUG DIGEST-VALUE and the same PEXPIRETIME, and a full SCAN returns
//!   every key KEYS * returns.
//!
//! Only the databases the command could reach are checked: the client's before and after,
//! all of them after MOVE, SWAPDB, COPY, FLUSHALL and EXEC.
#![no_main]

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use ringkv::cmd::{self, Ctx};
use ringkv::config::Config;
use ringkv::resp::Reply;
use ringkv::server::client::{Client, ClientHandle};
use ringkv::server::state::Server;

/// Databases the server has: few, so that SELECT, MOVE and SWAPDB meet the keys again.
const DATABASES: usize = 4;
const MAX_COMMANDS: usize = 32;
const MAX_ARGS: usize = 16;
const SCRATCH: &[u8] = b"__fuzz_scratch__";

/// Never run: they block, sleep, write files, or change what the checks rely on.
/// (BLPOP stays: in-process a blocked command only registers, see `run_fuzzed`.)
const DENIED: &[&str] = &[
    "shutdown",
    "save",
    "bgsave",
    "monitor",
    "replicaof",
    "slaveof",
    "sync",
    "psync",
];
/// DEBUG subcommands that may run (SLEEP stalls, LOG writes to the log).
const DEBUG_ALLOWED: &[&str] = &["digest", "digest-value", "help", "set-active-expire"];
/// CONFIG SET may change only these (not dir, dbfilename, save, requirepass, ...).
const CONFIG_SAFE: &[&str] = &[
    "set-max-intset-entries",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
    "maxmemory-policy",
    "hz",
];

#[rustfmt::skip]
const KEYS: &[&[u8]] = &[
    b"k0", b"k1", b"k2", b"k3", b"{k}1", b"", b"\x00k", b"k*", b"ss", b"l",
];
#[rustfmt::skip]
const INTS: &[&[u8]] = &[
    b"0", b"1", b"-1", b"2", b"3", b"10", b"100", b"1000", b"-100", b"86400",
    b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808",
    b"4611686018427387904", b"1700000000", b"1700000000000", b"4294967296", b"65536",
    b"536870911", b"536870912", b"+1", b"01", b" 1", b"0x10", b"1e3", b"-0",
    b"99999999999999", b"2147483647", b"-2147483648", b"5", b"7", b"12",
];
#[rustfmt::skip]
const VALUES: &[&[u8]] = &[
    b"v", b"", b"123", b"-5", b"1.5", b"-0", b"inf", b"-inf", b"nan", b"1e308", b"-1e308",
    b"3.0000000000000000001", b"5.0e3", b"0.1", b"*", b"k?", b"k[0-2]", b"[a-", b"\\",
    b"*k*", b"h*llo", b"\x00\xff\x80", b"hello world", b"10", b"a", b"b", b"c", b"\r\n",
    b"$-1", b"+OK", b"-ERR", b"17179869184",
];
/// DUMP payloads written by redis-server 7.0.15: a string, an integer string, a list, an
/// intset, a set, a listpack hash, a listpack zset, a stream with a consumer group, a big
/// hash and a big (skiplist) zset.
const PAYLOADS: &[&[u8]] = &[
    // str
    b"\x00\x05hello\x0a\x00cr\xdfve4 \x0a",
    // int
    b"\x00\xc190\x0a\x00\x9d\x94\xea'\x93\xfc\x08\xb9",
    // l
    b"\x12\x01\x02\x11\x11\x00\x00\x00\x04\x00\x81a\x02\x81b\x02\x01\x01\x02\x01\xff\x0a\x00mrq>\x9bCH+",
    // si
    b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00\x0a\x00\xa5\x02\x5c\xe2mnM\x1b",
    // ss
    b"\x02\x03\x01a\x01c\x01b\x0a\x00\x0d~\x8a\x01L\xfe2l",
    // h
    b"\x10\x16\x16\x00\x00\x00\x06\x00\x81a\x02\x01\x01\x81b\x02\x02\x01\x81c\x02\x03\x01\xff\x0a\x00\xb8\x9b\x87\xb6\x0d^\xbe^",
    // z
    b"\x11\x1a\x1a\x00\x00\x00\x06\x00\x81c\x02\xdf\xfd\x02\x81a\x02\x01\x01\x81b\x02\x832.5\x04\xff\x0a\x00\xa6\x8a\x1a\xb1\xa9\xf2\xdc\xc2",
    // s
    b"\x13\x01\x10\x00\x00\x01\xa2\x15\xa5\xa6\xb2\x00\x00\x00\x00\x00\x00\x00\x00--\x00\x00\x00\x11\x00\x02\x01\x00\x01\x01\x01\x81f\x02\x00\x01\x02\x01\x00\x01\x00\x01\x81v\x02\x04\x01\x00\x01\x0a\x01\x00\x01\x01\x01\x81g\x02\x81w\x02\x06\x01\xff\x02\x81\x00\x00\x01\xa2\x15\xa5\xa6\xbc\x00\x81\x00\x00\x01\xa2\x15\xa5\xa6\xb2\x00\x00\x00\x02\x01\x03grp\x81\x00\x00\x01\xa2\x15\xa5\xa6\xb2\x00\x01\x01\x00\x00\x01\xa2\x15\xa5\xa6\xb2\x00\x00\x00\x00\x00\x00\x00\x00\xd6\xa6\xa5\x15\xa2\x01\x00\x00\x01\x01\x02c1\xd6\xa6\xa5\x15\xa2\x01\x00\x00\x01\x00\x00\x01\xa2\x15\xa5\xa6\xb2\x00\x00\x00\x00\x00\x00\x00\x00\x0a\x00\xe2\xdd\xc9T_\xcb\xe4\xb4",
    // hbig
    b"\x10\xc3C\xd9EG\x0bG\x05\x00\x00\x04\x01\x82f1\x03\x82v \x03\x01f2 \x07 \x03\x01f3 \x07 \x03\x01f4 \x07 \x03\x01f5 \x07 \x03\x01f6 \x07 \x03\x01f7 \x07 \x03\x01f8 \x07 \x03\x01f9 \x07\x089\x03\x83f10\x04\x83v@\x04\x02f11@\x09 \x04\x02f12@\x09 \x04\x02f13@\x09 \x04\x02f14@\x09 \x04\x02f15@\x09 \x04\x02f16@\x09 \x04\x02f17@\x09 \x04\x02f18@\x09 \x04\x02f19@\x09 \x04\x01f2@c@\x04\x01f2 ^\x00v@\x04\x01f2 ^\x00v@\x04\x01f2 ^\x00v@\x04\x01f2 ^\x00v@\x04\x01f2 ^\x00v@\x04\x01f2 ^\x00v@\x04\x01f2 ^\x00v@\x04\x01f2 ^\x00v@\x04\x01f2 ^\x00v@\x04\x01f3@c@\x04\x01f3@c@\x04\x01f3@c@\x04\x01f3@c@\x04\x01f3@c@\x04\x01f3@c@\x04\x01f3@c@\x04\x01f3@c@\x04\x01f3@c@\x04\x01f3@c@\x04\x01f4@c@\x04\x01f4@c@\x04\x01f4@c@\x04\x01f4@c@\x04\x01f4@c@\x04\x01f4@c@\x04\x01f4@c@\x04\x01f4@c@\x04\x01f4@c@\x04\x01f4@c@\x04\x01f5@c@\x04\x01f5@c@\x04\x01f5@c@\x04\x01f5@c@\x04\x01f5@c@\x04\x01f5@c@\x04\x01f5@c@\x04\x01f5@c@\x04\x01f5@c@\x04\x01f5@c@\x04\x01f6@c@\x04\x01f6@c@\x04\x01f6@c@\x04\x01f6@c@\x04\x01f6@c@\x04\x01f6@c@\x04\x01f6@c@\x04\x01f6@c@\x04\x01f6@c@\x04\x01f6@c@\x04\x01f7@c@\x04\x01f7@c@\x04\x01f7@c@\x04\x01f7@c@\x04\x01f7@c@\x04\x01f7@c@\x04\x01f7@c@\x04\x01f7@c@\x04\x01f7@c@\x04\x01f7@c@\x04\x01f8@c@\x04\x01f8@c@\x04\x01f8@c@\x04\x01f8@c@\x04\x01f8@c@\x04\x01f8@c@\x04\x01f8@c@\x04\x01f8@c@\x04\x01f8@c@\x04\x01f8@c@\x04\x01f9@c@\x04\x01f9@c@\x04\x01f9@c@\x04\x01f9@c@\x04\x01f9@c@\x04\x01f9@c@\x04\x01f9@c@\x04\x01f9@c@\x04\x01f9@c@\x04\x01f9@c \x04\x00\x84#\x83\x020\x05\x84#\x84 \x05 \x0b\x001`\x0b \x05 \x0b\x002`\x0b \x05 \x0b\x003`\x0b \x05 \x0b\x004`\x0b \x05 \x0b\x005`\x0b \x05 \x0b\x006`\x0b \x05 \x0b\x007`\x0b \x05 \x0b\x008`\x0b \x05 \x0b\x009`\x0b \x05#\xf1 q#\xf2 \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05$_ q$` \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05 \x0b q \x0b \x05$\xcd q$\xce\x020\x05\xff\x0a\x00\x22\xf8\xe7\x97\x9a<R2",
    // zbig
    b"\x05@\x82\x04m130\x00\x00\x00\x00\x00@`@\x04m129\x00\x00\x00\x00\x00 `@\x04m128\x00\x00\x00\x00\x00\x00`@\x04m127\x00\x00\x00\x00\x00\xc0_@\x04m126\x00\x00\x00\x00\x00\x80_@\x04m125\x00\x00\x00\x00\x00@_@\x04m124\x00\x00\x00\x00\x00\x00_@\x04m123\x00\x00\x00\x00\x00\xc0^@\x04m122\x00\x00\x00\x00\x00\x80^@\x04m121\x00\x00\x00\x00\x00@^@\x04m120\x00\x00\x00\x00\x00\x00^@\x04m119\x00\x00\x00\x00\x00\xc0]@\x04m118\x00\x00\x00\x00\x00\x80]@\x04m117\x00\x00\x00\x00\x00@]@\x04m116\x00\x00\x00\x00\x00\x00]@\x04m115\x00\x00\x00\x00\x00\xc0\x5c@\x04m114\x00\x00\x00\x00\x00\x80\x5c@\x04m113\x00\x00\x00\x00\x00@\x5c@\x04m112\x00\x00\x00\x00\x00\x00\x5c@\x04m111\x00\x00\x00\x00\x00\xc0[@\x04m110\x00\x00\x00\x00\x00\x80[@\x04m109\x00\x00\x00\x00\x00@[@\x04m108\x00\x00\x00\x00\x00\x00[@\x04m107\x00\x00\x00\x00\x00\xc0Z@\x04m106\x00\x00\x00\x00\x00\x80Z@\x04m105\x00\x00\x00\x00\x00@Z@\x04m104\x00\x00\x00\x00\x00\x00Z@\x04m103\x00\x00\x00\x00\x00\xc0Y@\x04m102\x00\x00\x00\x00\x00\x80Y@\x04m101\x00\x00\x00\x00\x00@Y@\x04m100\x00\x00\x00\x00\x00\x00Y@\x03m99\x00\x00\x00\x00\x00\xc0X@\x03m98\x00\x00\x00\x00\x00\x80X@\x03m97\x00\x00\x00\x00\x00@X@\x03m96\x00\x00\x00\x00\x00\x00X@\x03m95\x00\x00\x00\x00\x00\xc0W@\x03m94\x00\x00\x00\x00\x00\x80W@\x03m93\x00\x00\x00\x00\x00@W@\x03m92\x00\x00\x00\x00\x00\x00W@\x03m91\x00\x00\x00\x00\x00\xc0V@\x03m90\x00\x00\x00\x00\x00\x80V@\x03m89\x00\x00\x00\x00\x00@V@\x03m88\x00\x00\x00\x00\x00\x00V@\x03m87\x00\x00\x00\x00\x00\xc0U@\x03m86\x00\x00\x00\x00\x00\x80U@\x03m85\x00\x00\x00\x00\x00@U@\x03m84\x00\x00\x00\x00\x00\x00U@\x03m83\x00\x00\x00\x00\x00\xc0T@\x03m82\x00\x00\x00\x00\x00\x80T@\x03m81\x00\x00\x00\x00\x00@T@\x03m80\x00\x00\x00\x00\x00\x00T@\x03m79\x00\x00\x00\x00\x00\xc0S@\x03m78\x00\x00\x00\x00\x00\x80S@\x03m77\x00\x00\x00\x00\x00@S@\x03m76\x00\x00\x00\x00\x00\x00S@\x03m75\x00\x00\x00\x00\x00\xc0R@\x03m74\x00\x00\x00\x00\x00\x80R@\x03m73\x00\x00\x00\x00\x00@R@\x03m72\x00\x00\x00\x00\x00\x00R@\x03m71\x00\x00\x00\x00\x00\xc0Q@\x03m70\x00\x00\x00\x00\x00\x80Q@\x03m69\x00\x00\x00\x00\x00@Q@\x03m68\x00\x00\x00\x00\x00\x00Q@\x03m67\x00\x00\x00\x00\x00\xc0P@\x03m66\x00\x00\x00\x00\x00\x80P@\x03m65\x00\x00\x00\x00\x00@P@\x03m64\x00\x00\x00\x00\x00\x00P@\x03m63\x00\x00\x00\x00\x00\x80O@\x03m62\x00\x00\x00\x00\x00\x00O@\x03m61\x00\x00\x00\x00\x00\x80N@\x03m60\x00\x00\x00\x00\x00\x00N@\x03m59\x00\x00\x00\x00\x00\x80M@\x03m58\x00\x00\x00\x00\x00\x00M@\x03m57\x00\x00\x00\x00\x00\x80L@\x03m56\x00\x00\x00\x00\x00\x00L@\x03m55\x00\x00\x00\x00\x00\x80K@\x03m54\x00\x00\x00\x00\x00\x00K@\x03m53\x00\x00\x00\x00\x00\x80J@\x03m52\x00\x00\x00\x00\x00\x00J@\x03m51\x00\x00\x00\x00\x00\x80I@\x03m50\x00\x00\x00\x00\x00\x00I@\x03m49\x00\x00\x00\x00\x00\x80H@\x03m48\x00\x00\x00\x00\x00\x00H@\x03m47\x00\x00\x00\x00\x00\x80G@\x03m46\x00\x00\x00\x00\x00\x00G@\x03m45\x00\x00\x00\x00\x00\x80F@\x03m44\x00\x00\x00\x00\x00\x00F@\x03m43\x00\x00\x00\x00\x00\x80E@\x03m42\x00\x00\x00\x00\x00\x00E@\x03m41\x00\x00\x00\x00\x00\x80D@\x03m40\x00\x00\x00\x00\x00\x00D@\x03m39\x00\x00\x00\x00\x00\x80C@\x03m38\x00\x00\x00\x00\x00\x00C@\x03m37\x00\x00\x00\x00\x00\x80B@\x03m36\x00\x00\x00\x00\x00\x00B@\x03m35\x00\x00\x00\x00\x00\x80A@\x03m34\x00\x00\x00\x00\x00\x00A@\x03m33\x00\x00\x00\x00\x00\x80@@\x03m32\x00\x00\x00\x00\x00\x00@@\x03m31\x00\x00\x00\x00\x00\x00?@\x03m30\x00\x00\x00\x00\x00\x00>@\x03m29\x00\x00\x00\x00\x00\x00=@\x03m28\x00\x00\x00\x00\x00\x00<@\x03m27\x00\x00\x00\x00\x00\x00;@\x03m26\x00\x00\x00\x00\x00\x00:@\x03m25\x00\x00\x00\x00\x00\x009@\x03m24\x00\x00\x00\x00\x00\x008@\x03m23\x00\x00\x00\x00\x00\x007@\x03m22\x00\x00\x00\x00\x00\x006@\x03m21\x00\x00\x00\x00\x00\x005@\x03m20\x00\x00\x00\x00\x00\x004@\x03m19\x00\x00\x00\x00\x00\x003@\x03m18\x00\x00\x00\x00\x00\x002@\x03m17\x00\x00\x00\x00\x00\x001@\x03m16\x00\x00\x00\x00\x00\x000@\x03m15\x00\x00\x00\x00\x00\x00.@\x03m14\x00\x00\x00\x00\x00\x00,@\x03m13\x00\x00\x00\x00\x00\x00*@\x03m12\x00\x00\x00\x00\x00\x00(@\x03m11\x00\x00\x00\x00\x00\x00&@\x03m10\x00\x00\x00\x00\x00\x00$@\x02m9\x00\x00\x00\x00\x00\x00\x22@\x02m8\x00\x00\x00\x00\x00\x00 @\x02m7\x00\x00\x00\x00\x00\x00\x1c@\x02m6\x00\x00\x00\x00\x00\x00\x18@\x02m5\x00\x00\x00\x00\x00\x00\x14@\x02m4\x00\x00\x00\x00\x00\x00\x10@\x02m3\x00\x00\x00\x00\x00\x00\x08@\x02m2\x00\x00\x00\x00\x00\x00\x00@\x02m1\x00\x00\x00\x00\x00\x00\xf0?\x0a\x00\xef\x13\x9e\x0d\x1b8T\xed",
];

/// The pool entry an argument byte `>= 0x80` names: bits 5-6 pick the pool, the rest the
/// entry. Payloads also come from DUMP replies seen so far, and one in eight is a copy with
/// one byte changed.
fn pick(byte: u8, dumps: &[Bytes]) -> Bytes {
    let index = usize::from(byte & 0x1f);
    match (byte >> 5) & 3 {
        0 => Bytes::from_static(KEYS[index % KEYS.len()]),
        1 => Bytes::from_static(INTS[index % INTS.len()]),
        2 => Bytes::from_static(VALUES[index % VALUES.len()]),
        _ => {
            let all = PAYLOADS.len() + dumps.len();
            let chosen = index % all;
            let payload = match dumps.get(chosen.wrapping_sub(PAYLOADS.len())) {
                Some(dump) => dump.to_vec(),
                None => PAYLOADS[chosen].to_vec(),
            };
            let mut payload = payload;
            if index >= 24 && !payload.is_empty() {
                let at = index * 7 % payload.len();
                payload[at] ^= 0x5a;
            }
            Bytes::from(payload)
        }
    }
}

/// Every command and subcommand as the words that invoke it.
fn table() -> &'static [Vec<&'static str>] {
    static TABLE: std::sync::OnceLock<Vec<Vec<&'static str>>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows = Vec::new();
        for spec in cmd::commands() {
            if spec.handler.is_some() {
                rows.push(vec![spec.name]);
            }
            for sub in spec.subcommands {
                rows.push(vec![spec.name, sub.name]);
            }
        }
        rows
    })
}

fn decode(line: &[u8], dumps: &[Bytes]) -> Vec<Bytes> {
    let mut argv = Vec::new();
    for (i, word) in line.split(|&b| b == b' ').take(MAX_ARGS).enumerate() {
        match word {
            [b] if *b >= 0x80 && i == 0 => {
                let rows = table();
                let row = &rows[usize::from(b & 0x7f) % rows.len()];
                argv.extend(row.iter().map(|w| Bytes::from_static(w.as_bytes())));
            }
            [b] if *b >= 0x80 => argv.push(pick(*b, dumps)),
            _ => argv.push(Bytes::copy_from_slice(word)),
        }
    }
    argv
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

fn denied(argv: &[Bytes]) -> bool {
    let name = &argv[0];
    if DENIED.iter().any(|d| is(name, d)) {
        return true;
    }
    if is(name, "debug") {
        return !argv
            .get(1)
            .is_some_and(|sub| DEBUG_ALLOWED.iter().any(|d| is(sub, d)));
    }
    if is(name, "config") && argv.get(1).is_some_and(|sub| is(sub, "set")) {
        return !argv
            .iter()
            .skip(2)
            .step_by(2)
            .all(|param| CONFIG_SAFE.iter().any(|p| is(param, p)));
    }
    false
}

/// One RESP2 value.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Value>>),
}

/// A strict RESP2 decoder: the value at the start of `buf` and the bytes it took, or None
/// if `buf` does not start with a complete well-formed value.
fn decode_value(buf: &[u8], depth: usize) -> Option<(Value, usize)> {
    let end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = &buf[1..end];
    let rest = end + 2;
    let number = || -> Option<i64> {
        let text = std::str::from_utf8(line).ok()?;
        let n: i64 = text.parse().ok()?;
        (n.to_string() == text).then_some(n)
    };
    match *buf.first()? {
        b'+' => {
            assert!(!line.contains(&b'\n') && !line.contains(&b'\r'));
            Some((Value::Simple(line.to_vec()), rest))
        }
        b'-' => {
            assert!(!line.contains(&b'\n') && !line.contains(&b'\r'));
            Some((Value::Error(line.to_vec()), rest))
        }
        b':' => Some((Value::Int(number()?), rest)),
        b'$' => match number()? {
            -1 => Some((Value::Bulk(None), rest)),
            n if n >= 0 => {
                let n = n as usize;
                let data = buf.get(rest..rest.checked_add(n)?)?;
                (buf.get(rest + n..rest + n + 2)? == b"\r\n")
                    .then(|| (Value::Bulk(Some(data.to_vec())), rest + n + 2))
            }
            _ => None,
        },
        b'*' => match number()? {
            -1 => Some((Value::Array(None), rest)),
            n if n >= 0 && depth < 32 => {
                let mut items = Vec::new();
                let mut at = rest;
                for _ in 0..n {
                    let (item, used) = decode_value(&buf[at..], depth + 1)?;
                    items.push(item);
                    at += used;
                }
                Some((Value::Array(Some(items)), at))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The one reply `reply` holds, panicking unless it is exactly one well-formed value.
fn single_reply(reply: &[u8], argv: &[Bytes]) -> Value {
    let Some((value, used)) = decode_value(reply, 0) else {
        let start = Bytes::copy_from_slice(&reply[..reply.len().min(400)]);
        panic!("malformed reply to {argv:?}, starting {start:?}");
    };
    assert_eq!(used, reply.len(), "more than one reply to {argv:?}");
    if let Value::Error(text) = &value {
        assert!(
            text.first().is_some_and(u8::is_ascii_uppercase),
            "error without a code: {argv:?} -> {:?}",
            Bytes::copy_from_slice(text)
        );
    }
    value
}

fn new_client(id: u64) -> Client {
    let addr = "127.0.0.1:1".parse().expect("a literal address");
    Client::new(Arc::new(ClientHandle::new(id, addr, addr, -1)), false)
}

/// The checking client: runs one command and returns its single reply.
struct Checker<'a> {
    server: &'a Server,
    client: Client,
    reply: Reply,
    /// The clock (µs) every command of one round of checks runs at, so that a key cannot
    /// expire between, say, KEYS and DBSIZE.
    now_us: u64,
}

impl Checker<'_> {
    fn run(&mut self, args: &[&[u8]]) -> Value {
        let argv: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        self.reply.buf.clear();
        // Counted what ran before, so this command starts exactly at `now_us`.
        self.client.clock.settle_pending(self.server);
        self.client.clock.start_run_at(self.now_us);
        let mut ctx = Ctx {
            server: self.server,
            client: &mut self.client,
            reply: &mut self.reply,
        };
        cmd::execute(&mut ctx, &argv);
        single_reply(&self.reply.buf, &argv)
    }

    fn int(&mut self, args: &[&[u8]]) -> i64 {
        match self.run(args) {
            Value::Int(n) => n,
            other => panic!("{args:?} -> {other:?}"),
        }
    }

    fn keys(&mut self) -> HashSet<Vec<u8>> {
        match self.run(&[b"KEYS", b"*"]) {
            Value::Array(Some(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::Bulk(Some(key)) => key,
                    other => panic!("KEYS item {other:?}"),
                })
                .collect(),
            other => panic!("KEYS -> {other:?}"),
        }
    }

    /// Every check on one database; `known` holds every name a key could have. `full`
    /// adds SCAN and the DUMP/RESTORE round trips.
    fn check_db(&mut self, db: usize, known: &HashSet<Bytes>, max_ttl_ms: i128, full: bool) {
        let db_arg = db.to_string();
        assert_eq!(
            self.run(&[b"SELECT", db_arg.as_bytes()]),
            Value::Simple(b"OK".to_vec())
        );
        let mut keys = self.keys();
        let mut dbsize = self.int(&[b"DBSIZE"]);
        if dbsize != keys.len() as i64 {
            // DBSIZE counts keys past their deadline until something touches them.
            for key in known {
                self.run(&[b"EXISTS", key]);
            }
            keys = self.keys();
            dbsize = self.int(&[b"DBSIZE"]);
        }
        assert_eq!(
            dbsize,
            keys.len() as i64,
            "DBSIZE vs KEYS * in db {db}: {keys:?}"
        );

        for key in KEYS.iter().copied().chain(keys.iter().map(Vec::as_slice)) {
            let pttl = self.int(&[b"PTTL", key]);
            assert!(
                pttl == -2 || pttl == -1 || (0..=max_ttl_ms).contains(&i128::from(pttl)),
                "PTTL {key:?} = {pttl}, the input allows at most {max_ttl_ms}"
            );
            let ttl = self.int(&[b"TTL", key]);
            if pttl < 0 {
                assert_eq!(ttl, pttl, "TTL after PTTL");
            } else {
                assert_eq!(ttl, (pttl + 500) / 1000, "TTL after PTTL {pttl}");
            }
        }

        if !full {
            return;
        }
        let mut scanned = HashSet::new();
        let mut cursor = b"0".to_vec();
        for round in 0.. {
            assert!(round < 10_000, "SCAN does not finish in db {db}");
            let Value::Array(Some(items)) = self.run(&[b"SCAN", &cursor, b"COUNT", b"3"]) else {
                panic!("SCAN reply");
            };
            let [Value::Bulk(Some(next)), Value::Array(Some(batch))] = &items[..] else {
                panic!("SCAN reply {items:?}");
            };
            scanned.extend(batch.iter().map(|item| match item {
                Value::Bulk(Some(key)) => key.clone(),
                other => panic!("SCAN item {other:?}"),
            }));
            cursor = next.clone();
            if cursor == b"0" {
                break;
            }
        }
        assert!(
            keys.is_subset(&scanned),
            "SCAN missed some of {keys:?} in db {db}"
        );

        for key in &keys {
            self.round_trip(key);
        }
    }

    /// DUMP, RESTORE into the scratch key with the same deadline, compare digests.
    fn round_trip(&mut self, key: &[u8]) {
        let deadline = self.int(&[b"PEXPIRETIME", key]);
        let payload = match self.run(&[b"DUMP", key]) {
            Value::Bulk(Some(payload)) => payload,
            other => panic!("DUMP {key:?} -> {other:?}"),
        };
        let restored = if deadline > 0 {
            let deadline = deadline.to_string();
            self.run(&[
                b"RESTORE",
                SCRATCH,
                deadline.as_bytes(),
                &payload,
                b"REPLACE",
                b"ABSTTL",
            ])
        } else {
            self.run(&[b"RESTORE", SCRATCH, b"0", &payload, b"REPLACE"])
        };
        assert_eq!(
            restored,
            Value::Simple(b"OK".to_vec()),
            "RESTORE of DUMP {key:?}"
        );
        // A key lives through its deadline's millisecond, but RESTORE refuses a deadline
        // that is not in the future (both as Redis): at that edge nothing is restored.
        if deadline > 0 && self.int(&[b"EXISTS", SCRATCH]) == 0 {
            assert!(
                deadline <= ringkv::db::now_ms(),
                "RESTORE of {key:?} lost it"
            );
            return;
        }
        let digests = self.run(&[b"DEBUG", b"DIGEST-VALUE", key, SCRATCH]);
        let Value::Array(Some(pair)) = &digests else {
            panic!("DIGEST-VALUE -> {digests:?}");
        };
        assert_eq!(pair[0], pair[1], "DUMP/RESTORE changed {key:?}");
        let scratch_deadline = self.int(&[b"PEXPIRETIME", SCRATCH]);
        assert_eq!(
            scratch_deadline, deadline,
            "deadline of {key:?} after RESTORE"
        );
        self.run(&[b"DEL", SCRATCH]);
    }
}

/// Runs one fuzzed command and returns its reply (None if it answers nothing).
fn run_fuzzed(
    server: &Server,
    client: &mut Client,
    reply: &mut Reply,
    argv: &[Bytes],
) -> Option<Value> {
    reply.buf.clear();
    let mut ctx = Ctx {
        server,
        client,
        reply,
    };
    cmd::execute(&mut ctx, argv);
    // Nothing wakes a blocked command here: it is dropped, as if its client left.
    if client.blocked.take().is_some() {
        assert!(reply.buf.is_empty(), "a blocked command replied");
        return None;
    }
    client.close_after_reply = false;
    // CLIENT REPLY OFF and SKIP answer nothing.
    if reply.buf.is_empty() && (client.reply_off || client.reply_skip_next) {
        return None;
    }
    Some(single_reply(&reply.buf, argv))
}

/// The largest deadline distance the input's integers allow: any of them read as
/// seconds (EXPIRE, SET EX) or milliseconds (absolute or relative).
fn max_ttl_ms(argv_seen: &HashSet<Bytes>) -> i128 {
    let largest = argv_seen
        .iter()
        .filter_map(|a| std::str::from_utf8(a).ok()?.trim().parse::<f64>().ok())
        .filter(|n| n.is_finite())
        .map(|n| n.abs())
        .fold(0.0f64, f64::max);
    (largest.min(1e30) as i128).saturating_mul(1000)
}

fn run(data: &[u8]) {
    let config = Arc::new(Config::new());
    let databases = DATABASES.to_string();
    config
        .set_many(
            &[
                ("databases", databases.as_str()),
                ("save", ""),
                ("enable-debug-command", "yes"),
                ("set-max-intset-entries", "4"),
                // SETBIT k 4294967295 1 would build 512 MB and slow every later check.
                ("proto-max-bulk-len", "1mb"),
            ],
            true,
        )
        .expect("valid start-up settings");
    let server = Server::for_embedding(config);
    let mut client = new_client(1);
    let mut reply = Reply::new();
    let mut checker = Checker {
        server: &server,
        client: new_client(2),
        reply: Reply::new(),
        now_us: 0,
    };
    let mut dumps: Vec<Bytes> = Vec::new();
    let mut seen: HashSet<Bytes> = KEYS.iter().map(|k| Bytes::from_static(k)).collect();
    for line in data.split(|&b| b == b'\n').take(MAX_COMMANDS) {
        let argv = decode(line, &dumps);
        if argv.is_empty() || argv.iter().any(|a| a == SCRATCH) || denied(&argv) {
            continue;
        }
        seen.extend(argv.iter().cloned());
        let db_before = client.db;
        let reply_value = run_fuzzed(&server, &mut client, &mut reply, &argv);
        if let Some(Value::Bulk(Some(payload))) = &reply_value {
            if is(&argv[0], "dump") && dumps.len() < 8 {
                dumps.push(Bytes::copy_from_slice(payload));
            }
        }
        // Commands that reach other databases get all of them checked.
        let all = ["move", "swapdb", "copy", "flushall", "exec"]
            .iter()
            .any(|name| is(&argv[0], name));
        // SCAN and DUMP/RESTORE again only when the data may have changed (reads change
        // it only by expiring keys, which the cheaper checks cover).
        let full = all || cmd::lookup(&argv[0]).is_some_and(|spec| spec.has(cmd::flags::WRITE));
        let limit = max_ttl_ms(&seen);
        checker.now_us = cmd::clock_us();
        for db in 0..DATABASES {
            if all || db == db_before || db == client.db {
                checker.check_db(db, &seen, limit, full);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| run(data));
