//! Feeds arbitrary bytes to the request parser twice, whole and cut into chunks, and checks
//! that it never panics and that both deliveries give the same commands and the same error.
//! Two more checks against a reference:
//!
//! - `reference_decode`, a plain strict RESP decoder: wherever the input starts with
//!   well-formed multibulk commands, the parser gives exactly those commands first.
//! - the input read as commands (`0xff` ends a command, `0xfe` an argument), encoded as
//!   RESP and parsed in chunks, comes back unchanged.
//!
//! The chunk sizes come from the input's first bytes, so libFuzzer explores split points
//! together with contents. The same input also picks the limits (see `limits_for`).
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use ringkv::resp::parse::{ParseLimits, ProtocolError, RequestParser, INLINE_MAX};

/// What a delivery made of the input: every command, then the error that ended it, if any.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    commands: Vec<Vec<Bytes>>,
    error: Option<ProtocolError>,
}

/// Parses everything `buf` holds; false once a protocol error ended the connection.
fn drain(
    parser: &mut RequestParser,
    buf: &mut BytesMut,
    limits: &ParseLimits,
    out: &mut Outcome,
) -> bool {
    let mut argv = Vec::new();
    loop {
        let before = buf.len();
        match parser.parse(buf, limits, &mut argv) {
            Ok(true) => {
                assert!(!argv.is_empty(), "a command has at least one argument");
                assert!(buf.len() < before, "a command consumes its bytes");
                out.commands.push(std::mem::take(&mut argv));
            }
            Ok(false) => {
                assert!(argv.is_empty());
                // Asking for the shortfall of a pending bulk must be safe at any time.
                let _ = parser.wanted();
                return true;
            }
            Err(error) => {
                assert!(argv.is_empty());
                assert!(error.reply_text().starts_with("ERR Protocol error: "));
                assert_eq!(
                    parser.parse(buf, limits, &mut argv),
                    Err(error.clone()),
                    "errors are final"
                );
                out.error = Some(error);
                return false;
            }
        }
    }
}

/// Default limits, or the ones an unauthenticated client gets, or a tiny bulk limit.
fn limits_for(data: &[u8]) -> ParseLimits {
    match data.len() % 3 {
        0 => ParseLimits::default(),
        1 => ParseLimits {
            auth_required: true,
            ..ParseLimits::default()
        },
        _ => ParseLimits {
            max_bulk_len: 16,
            auth_required: false,
        },
    }
}

fn whole(data: &[u8], limits: &ParseLimits) -> Outcome {
    let mut out = Outcome {
        commands: Vec::new(),
        error: None,
    };
    let mut buf = BytesMut::from(data);
    drain(&mut RequestParser::new(), &mut buf, limits, &mut out);
    out
}

/// Chunk `i` is `data[i % 8] % 32 + 1` bytes long: split points come from the first bytes.
fn chunked(data: &[u8], limits: &ParseLimits) -> Outcome {
    let mut out = Outcome {
        commands: Vec::new(),
        error: None,
    };
    let (mut parser, mut buf) = (RequestParser::new(), BytesMut::new());
    let (mut start, mut chunk) = (0, 0);
    while start < data.len() {
        let len = usize::from(data[chunk % 8.min(data.len())] % 32) + 1;
        let end = data.len().min(start + len);
        buf.extend_from_slice(&data[start..end]);
        if !drain(&mut parser, &mut buf, limits, &mut out) {
            break;
        }
        (start, chunk) = (end, chunk + 1);
    }
    out
}

/// A strict RESP decoder, written apart from the parser: `*<n>\r\n` (n >= 1) then n times
/// `$<len>\r\n<len bytes>\r\n`, decimal without sign or leading zeros. It returns the
/// commands at the start of `data` up to the first byte that is not such a command, or
/// that `limits` refuse.
fn reference_decode(data: &[u8], limits: &ParseLimits) -> Vec<Vec<Bytes>> {
    fn number(data: &[u8], at: &mut usize, tag: u8) -> Option<u64> {
        if data.get(*at) != Some(&tag) {
            return None;
        }
        let start = *at + 1;
        let len = data[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let digits = &data[start..start + len];
        if digits.is_empty() || digits.len() > 18 || (digits[0] == b'0' && digits.len() > 1) {
            return None;
        }
        if data.get(start + len..start + len + 2) != Some(b"\r\n") {
            return None;
        }
        *at = start + len + 2;
        std::str::from_utf8(digits).ok()?.parse().ok()
    }
    let (max_args, max_bulk) = if limits.auth_required {
        (10, limits.max_bulk_len.min(16 * 1024))
    } else {
        (i32::MAX as u64, limits.max_bulk_len)
    };
    let mut commands = Vec::new();
    let mut at = 0;
    'commands: while at < data.len() {
        let mut next = at;
        let Some(count) = number(data, &mut next, b'*') else {
            break;
        };
        if count == 0 || count > max_args {
            break;
        }
        let mut command = Vec::new();
        for _ in 0..count {
            let Some(len) = number(data, &mut next, b'$') else {
                break 'commands;
            };
            if len > max_bulk {
                break 'commands;
            }
            let end = next + len as usize;
            if data.len() < end + 2 || &data[end..end + 2] != b"\r\n" {
                break 'commands;
            }
            command.push(Bytes::copy_from_slice(&data[next..end]));
            next = end + 2;
        }
        commands.push(command);
        at = next;
    }
    commands
}

/// The input read as commands: `0xff` ends a command and `0xfe` an argument.
fn commands_in(data: &[u8]) -> Vec<Vec<Bytes>> {
    data.split(|&b| b == 0xff)
        .map(|command| {
            command
                .split(|&b| b == 0xfe)
                .map(Bytes::copy_from_slice)
                .collect()
        })
        .collect()
}

fn encode(commands: &[Vec<Bytes>]) -> Vec<u8> {
    let mut out = Vec::new();
    for command in commands {
        out.extend_from_slice(format!("*{}\r\n", command.len()).as_bytes());
        for arg in command {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    // Past 64 KiB Redis' own answer depends on how reads split a long line (the limit applies
    // only while no line end has arrived), so only shorter inputs must agree both ways.
    if data.len() > INLINE_MAX {
        return;
    }
    let limits = limits_for(data);
    let all_at_once = whole(data, &limits);
    let in_chunks = chunked(data, &limits);
    assert_eq!(all_at_once, in_chunks);
    let argument_bytes: usize = all_at_once.commands.iter().flatten().map(Bytes::len).sum();
    assert!(
        argument_bytes <= data.len(),
        "arguments never hold more than the input"
    );

    let expected = reference_decode(data, &limits);
    assert_eq!(
        all_at_once.commands.get(..expected.len()),
        Some(&expected[..]),
        "well-formed commands decode as the reference decodes them"
    );

    let commands = commands_in(data);
    let encoded = encode(&commands);
    let roundtrip = chunked(&encoded, &ParseLimits::default());
    assert_eq!(roundtrip.error, None);
    assert_eq!(
        roundtrip.commands, commands,
        "encoded commands come back unchanged"
    );
});
