//! Feeds arbitrary bytes to the request parser twice, whole and cut into chunks, and checks
//! that it never panics and that both deliveries give the same commands and the same error.
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
});
