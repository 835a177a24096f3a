//! Incremental, zero-copy parser for client requests, byte-for-byte compatible with Redis 7.0.
//!
//! A request is either a RESP multibulk frame (what client libraries and `redis-cli` send) or
//! an inline command (what a person types into telnet). The first byte decides: `*` starts a
//! multibulk frame, anything else an inline line.
//!
//! ```text
//! multibulk:  *<count>\r\n   then <count> times:   $<len>\r\n<len bytes>\r\n
//!             *3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n
//! inline:     <args separated by spaces>\n   (or \r\n)
//!             SET key "a \"quoted\" value\x21" 'single quoted'\r\n
//! ```
//!
//! This follows `processInlineBuffer`, `processMultibulkBuffer` (networking.c) and
//! `sdssplitargs` (sds.c) of Redis 7.0.15, including their quirks, which clients can observe:
//!
//! - A header line (`*<count>`, `$<len>`) ends at the first `\r`; the byte after it is skipped
//!   without being checked, and so are the two bytes after a bulk payload.
//! - Redis searches for line ends with `strchr`, which stops at a NUL byte: a line with a NUL
//!   before its end never completes, and the connection waits until the 64 KiB limit fails it.
//! - The 64 KiB limits (`too big inline request`, `too big ... count string`) apply only while
//!   no line end has been found, to everything buffered from the start of the line.
//! - `*0`, `*-1` (any count <= 0) and blank inline lines are empty commands, skipped.
//! - Counts and lengths are parsed with `string2ll`: an optional `-`, no `+`, no leading zeros.
//!
//! The parser never copies a multibulk argument: a complete command is split off the read
//! buffer, frozen, and its arguments are slices of it. Inline arguments that needed unescaping
//! are owned. Between calls it keeps its position, so a 500 MB value arriving in 64 KiB reads is
//! neither rescanned nor reallocated by the parser.

use std::ops::Range;

use bytes::{Buf, Bytes, BytesMut};

/// `PROTO_INLINE_MAX_SIZE`: how many bytes may be buffered while looking for the end of an
/// inline line or of a header line, before the request is refused.
pub const INLINE_MAX: usize = 64 * 1024;

/// Redis' caps while the client still has to AUTH (`authRequired()` in networking.c).
const UNAUTH_MAX_ARGS: i64 = 10;
const UNAUTH_MAX_BULK_LEN: u64 = 16 * 1024;

/// A multibulk count above `INT_MAX` is invalid.
const MAX_ARGS: i64 = i32::MAX as i64;

/// Never reserve room for more arguments than this up front: a client may announce
/// `*2147483647` and send nothing (Redis caps its `argv` allocation the same way).
const ARGS_RESERVE_MAX: usize = 1024;

/// Limits a parser enforces; the connection fills them from the live config.
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// `proto-max-bulk-len` (512 MiB by default).
    pub max_bulk_len: u64,
    /// True while the client still has to AUTH: Redis then caps multibulk counts at 10
    /// and bulk lengths at 16384 ("unauthenticated multibulk length" / "bulk length").
    pub auth_required: bool,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bulk_len: 512 * 1024 * 1024,
            auth_required: false,
        }
    }
}

/// A request the server refuses; the connection replies with [`ProtocolError::reply_text`]
/// and closes. The text is what follows `Protocol error: ` in Redis' reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub &'static str);

impl ProtocolError {
    /// The error reply's text, without the leading `-` and trailing CRLF.
    ///
    /// One text holds a non-ASCII character: `expected '$', got '<c>'` for a byte of 0x80 or
    /// more, which Redis prints raw. It is stored as the Latin-1 character of that byte
    /// (U+0080..U+00FF); [`ProtocolError::reply_bytes`] gives the exact bytes Redis sends.
    pub fn reply_text(&self) -> String {
        format!("ERR Protocol error: {}", self.0)
    }

    /// [`ProtocolError::reply_text`] exactly as Redis sends it: the text is Latin-1, so every
    /// character is one byte.
    pub fn reply_bytes(&self) -> Vec<u8> {
        self.reply_text()
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect()
    }
}

const TOO_BIG_INLINE: ProtocolError = ProtocolError("too big inline request");
const UNBALANCED_QUOTES: ProtocolError = ProtocolError("unbalanced quotes in request");
const TOO_BIG_COUNT: ProtocolError = ProtocolError("too big mbulk count string");
const INVALID_COUNT: ProtocolError = ProtocolError("invalid multibulk length");
const UNAUTH_COUNT: ProtocolError = ProtocolError("unauthenticated multibulk length");
const TOO_BIG_BULK_LINE: ProtocolError = ProtocolError("too big bulk count string");
const INVALID_BULK_LEN: ProtocolError = ProtocolError("invalid bulk length");
const UNAUTH_BULK_LEN: ProtocolError = ProtocolError("unauthenticated bulk length");

/// Takes complete commands out of a connection's read buffer, one per call.
#[derive(Debug, Default)]
pub struct RequestParser {
    phase: Phase,
    cursor: Cursor,
    /// Payloads of the multibulk arguments received so far, as offsets into `buf`
    /// (kept across calls; reused between commands).
    spans: Vec<Range<usize>>,
    /// Arguments of the inline line being split (reused between commands).
    inline_args: Vec<InlineArg>,
    /// `buf.len()` at the end of the last call, for [`RequestParser::wanted`].
    seen: usize,
    /// After a protocol error the stream cannot be resynchronised: every later call repeats it.
    failed: Option<ProtocolError>,
}

/// What the parser expects next; one of Redis' `reqtype` / `multibulklen` / `bulklen` states.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between commands: the next byte decides between inline and multibulk.
    #[default]
    Start,
    /// An inline line, up to `\n`.
    Inline,
    /// The `*<count>` line.
    Count,
    /// The `$<len>` line of the next argument; `left` (>= 1) arguments are still to come.
    BulkLen { left: usize },
    /// `len` payload bytes and the 2 bytes after them.
    BulkData { left: usize, len: usize },
}

impl RequestParser {
    pub fn new() -> Self {
        RequestParser::default()
    }

    /// Takes the next complete command out of `buf`, consuming its bytes, and puts its
    /// arguments into `argv` (cleared first). Ok(true): a command is in argv. Ok(false): buf
    /// holds no complete command yet (partial state is kept, so the next call resumes without
    /// rescanning what it already parsed). Empty commands (`*0\r\n`, `*-1\r\n`, a blank inline
    /// line) are skipped silently, as Redis does. Err: a protocol error; the caller replies
    /// with reply_text() and closes the connection.
    ///
    /// Between calls the caller may only append to `buf` (a half-received command stays at
    /// its front); if `buf` got shorter than what was parsed, parsing starts over.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &ParseLimits,
        argv: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        argv.clear();
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        if !self.cursor.fits(buf.len()) {
            self.start_over();
        }
        let outcome = self.next_command(buf, limits, argv);
        self.seen = buf.len();
        if let Err(error) = &outcome {
            self.failed = Some(error.clone());
        }
        outcome
    }

    /// How many more bytes `buf` needs (beyond what it held at the last call) to complete the
    /// bulk argument being received, so the caller can reserve them; 0 when not in a bulk.
    /// This is the client's claim, up to `max_bulk_len`: cap what is reserved on trust.
    pub fn wanted(&self) -> usize {
        match self.phase {
            Phase::BulkData { len, .. } => self.cursor.bulk_shortfall(len, self.seen),
            _ => 0,
        }
    }

    fn next_command(
        &mut self,
        buf: &mut BytesMut,
        limits: &ParseLimits,
        argv: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        loop {
            match self.phase {
                Phase::Start => match self.cursor.peek(buf) {
                    None => return Ok(false),
                    Some(b'*') => {
                        if let Some(len) = self.whole_multibulk(buf, limits) {
                            // Each argument is split off the buffer itself: one reference
                            // count per argument and none for the frame.
                            let mut taken = 0;
                            for span in self.spans.drain(..) {
                                buf.advance(span.start - taken);
                                argv.push(buf.split_to(span.len()).freeze());
                                taken = span.end;
                            }
                            buf.advance(len - taken);
                            return Ok(true);
                        }
                        self.phase = Phase::Count;
                    }
                    Some(_) => self.phase = Phase::Inline,
                },
                Phase::Inline => {
                    let Some(line) = self.cursor.inline_line(buf) else {
                        return self.incomplete_line(buf, TOO_BIG_INLINE);
                    };
                    self.inline_args.clear();
                    if !split_args(buf, line, &mut self.inline_args) {
                        return Err(UNBALANCED_QUOTES);
                    }
                    if self.inline_args.is_empty() {
                        self.skip_empty_command(buf);
                        continue;
                    }
                    let frame = self.take_frame(buf);
                    argv.extend(self.inline_args.drain(..).map(|arg| arg.into_bytes(&frame)));
                    // One huge command should not pin its bookkeeping for the connection's life.
                    self.inline_args.shrink_to(ARGS_RESERVE_MAX);
                    return Ok(true);
                }
                Phase::Count => {
                    let Some(line) = self.cursor.header_line(buf) else {
                        return self.incomplete_line(buf, TOO_BIG_COUNT);
                    };
                    // The count is checked against INT_MAX before the auth cap, as Redis does.
                    let count = crate::num::parse_i64(&buf[line.digits])
                        .filter(|&count| count <= MAX_ARGS)
                        .ok_or(INVALID_COUNT)?;
                    if count > UNAUTH_MAX_ARGS && limits.auth_required {
                        return Err(UNAUTH_COUNT);
                    }
                    if count <= 0 {
                        self.skip_empty_command(buf);
                        continue;
                    }
                    let count = usize::try_from(count).map_err(|_| INVALID_COUNT)?;
                    self.spans.clear();
                    self.spans.reserve(count.min(ARGS_RESERVE_MAX));
                    self.phase = Phase::BulkLen { left: count };
                }
                Phase::BulkLen { left } => {
                    let Some(line) = self.cursor.header_line(buf) else {
                        return self.incomplete_line(buf, TOO_BIG_BULK_LINE);
                    };
                    if line.kind != b'$' {
                        return Err(expected_dollar(line.kind));
                    }
                    let len = crate::num::parse_i64(&buf[line.digits])
                        .and_then(|len| u64::try_from(len).ok())
                        .filter(|&len| len <= limits.max_bulk_len)
                        .ok_or(INVALID_BULK_LEN)?;
                    if len > UNAUTH_MAX_BULK_LEN && limits.auth_required {
                        return Err(UNAUTH_BULK_LEN);
                    }
                    // Only a 32-bit target cannot index such a length; it then waits forever,
                    // as it could never buffer the payload anyway.
                    let len = usize::try_from(len).unwrap_or(usize::MAX);
                    self.phase = Phase::BulkData { left, len };
                }
                Phase::BulkData { left, len } => {
                    let Some(payload) = self.cursor.bulk(buf, len) else {
                        return Ok(false);
                    };
                    self.spans.push(payload);
                    if left > 1 {
                        self.phase = Phase::BulkLen { left: left - 1 };
                        continue;
                    }
                    let frame = self.take_frame(buf);
                    argv.extend(self.spans.drain(..).map(|span| frame.slice(span)));
                    self.spans.shrink_to(ARGS_RESERVE_MAX);
                    return Ok(true);
                }
            }
        }
    }

    /// The common case in one pass: a whole multibulk command with plain headers is already
    /// buffered at the front of `buf`. Returns its length, with its payloads in `spans`.
    /// Anything else (a partial command, an unusual header, a limit reached) returns None
    /// and the state machine takes the command from its start, so every error and quirk
    /// stays decided there.
    fn whole_multibulk(&mut self, buf: &[u8], limits: &ParseLimits) -> Option<usize> {
        let (count, mut at) = plain_header(buf, 0, b'*')?;
        let unauth_cap = limits.auth_required && count > UNAUTH_MAX_ARGS as u64;
        if count == 0 || count > ARGS_RESERVE_MAX as u64 || unauth_cap {
            return None;
        }
        self.spans.clear();
        for _ in 0..count {
            let (len, start) = plain_header(buf, at, b'$')?;
            let unauth_cap = limits.auth_required && len > UNAUTH_MAX_BULK_LEN;
            if len > limits.max_bulk_len || unauth_cap {
                return None;
            }
            let end = start.checked_add(usize::try_from(len).ok()?)?;
            at = end.checked_add(2).filter(|&next| next <= buf.len())?;
            self.spans.push(start..end);
        }
        Some(at)
    }

    /// No line end yet: wait for more bytes, unless the line already holds more than Redis
    /// buffers without one.
    fn incomplete_line(&self, buf: &[u8], too_big: ProtocolError) -> Result<bool, ProtocolError> {
        if self.cursor.unparsed(buf) > INLINE_MAX {
            Err(too_big)
        } else {
            Ok(false)
        }
    }

    /// Splits the complete command off the front of `buf`; offsets in `spans` and
    /// `inline_args` index the returned frame.
    /// The caller drains them into `argv` next.
    fn take_frame(&mut self, buf: &mut BytesMut) -> Bytes {
        let frame = buf.split_to(self.cursor.parsed_len(buf.len())).freeze();
        self.phase = Phase::Start;
        self.cursor = Cursor::default();
        frame
    }

    fn skip_empty_command(&mut self, buf: &mut BytesMut) {
        buf.advance(self.cursor.parsed_len(buf.len()));
        self.start_over();
    }

    fn start_over(&mut self) {
        self.phase = Phase::Start;
        self.cursor = Cursor::default();
        self.spans.clear();
        self.inline_args.clear();
    }
}

/// Where the parser stands in the unconsumed input, and the only place that does index
/// arithmetic on it.
///
/// Invariant: `pos <= scanned <= input.len()`. Bytes before `pos` belong to the command in
/// progress and are parsed; `scanned` is how far the search for the current line's end has
/// looked without finding it, so the next call resumes there instead of rescanning. Input only
/// grows between calls (checked by [`Cursor::fits`]), and every method below moves `pos` and
/// `scanned` only over bytes it has checked are in `input`.
#[derive(Debug, Default, Clone, Copy)]
struct Cursor {
    pos: usize,
    scanned: usize,
}

/// A complete `*<count>` or `$<len>` line.
struct HeaderLine {
    /// Its first byte (what Redis reports in "expected '$', got ..."); the `\r` itself when
    /// the line is empty.
    kind: u8,
    /// The bytes between `kind` and the `\r`.
    digits: Range<usize>,
}

impl Cursor {
    fn starting_at(pos: usize) -> Cursor {
        Cursor { pos, scanned: pos }
    }

    /// Whether the invariant holds for an input of `len` bytes.
    fn fits(&self, len: usize) -> bool {
        self.pos <= self.scanned && self.scanned <= len
    }

    fn peek(&self, input: &[u8]) -> Option<u8> {
        input.get(self.pos).copied()
    }

    /// The byte `ahead` bytes after `pos`, or 0 past the end: C's NUL terminator, which
    /// `sdssplitargs` relies on.
    fn byte(&self, input: &[u8], ahead: usize) -> u8 {
        self.pos
            .checked_add(ahead)
            .and_then(|at| input.get(at))
            .copied()
            .unwrap_or(0)
    }

    /// The range of the byte at `pos` (empty at the end of input).
    fn current(&self, input: &[u8]) -> Range<usize> {
        self.pos..(self.pos + 1).min(input.len())
    }

    /// Moves `pos` forward by `n`, never past the end of `input`.
    fn skip(&mut self, input: &[u8], n: usize) {
        self.pos = self.pos.saturating_add(n).min(input.len());
        self.scanned = self.scanned.max(self.pos);
    }

    /// Bytes buffered from `pos` on: Redis' `sdslen(querybuf) - qb_pos`.
    fn unparsed(&self, input: &[u8]) -> usize {
        input.len().saturating_sub(self.pos)
    }

    /// Bytes of `input` that the command in progress spans so far.
    fn parsed_len(&self, len: usize) -> usize {
        self.pos.min(len)
    }

    /// Finds `stop` at or after `pos`, resuming where the last search gave up. `None` if it
    /// is not there yet, or if a NUL comes first: Redis' `strchr` stops at a NUL, so that line
    /// never ends (`scanned` then stays on the NUL, and every later search stops there at once).
    fn find(&mut self, input: &[u8], stop: u8) -> Option<usize> {
        let from = self.scanned;
        let Some(found) = memchr::memchr2(stop, 0, input.get(from..)?) else {
            self.scanned = input.len();
            return None;
        };
        self.scanned = from + found;
        (input[self.scanned] == stop).then_some(self.scanned)
    }

    /// Takes a header line. Like Redis it needs one byte after the `\r`, and skips that byte
    /// unchecked.
    fn header_line(&mut self, input: &[u8]) -> Option<HeaderLine> {
        let cr = self.find(input, b'\r')?;
        if cr + 1 >= input.len() {
            return None;
        }
        let line = HeaderLine {
            kind: input[self.pos],
            digits: (self.pos + 1).min(cr)..cr,
        };
        *self = Cursor::starting_at(cr + 2);
        Some(line)
    }

    /// Takes an inline line ending in `\n`, returning it without the `\n` and without one
    /// `\r` before it.
    fn inline_line(&mut self, input: &[u8]) -> Option<Range<usize>> {
        let lf = self.find(input, b'\n')?;
        let end = if lf > self.pos && input[lf - 1] == b'\r' {
            lf - 1
        } else {
            lf
        };
        let line = self.pos..end;
        *self = Cursor::starting_at(lf + 1);
        Some(line)
    }

    /// Takes a `len`-byte payload and the 2 (unchecked) bytes after it, once all are there.
    fn bulk(&mut self, input: &[u8], len: usize) -> Option<Range<usize>> {
        let end = self.pos.checked_add(len)?;
        let next = end.checked_add(2).filter(|&next| next <= input.len())?;
        let payload = self.pos..end;
        *self = Cursor::starting_at(next);
        Some(payload)
    }

    /// How many bytes beyond `have` a `len`-byte payload at `pos` still needs.
    fn bulk_shortfall(&self, len: usize, have: usize) -> usize {
        self.pos
            .saturating_add(len)
            .saturating_add(2)
            .saturating_sub(have)
    }
}

/// A complete `<kind><digits>\r` header line at `at`, plus the unchecked byte after it, whose
/// digits are what `string2ll` reads the same way (1 to 18 digits, no sign, no leading zero):
/// the number and where the line ends. None for anything else, including an incomplete line.
fn plain_header(buf: &[u8], at: usize, kind: u8) -> Option<(u64, usize)> {
    let line = buf.get(at..)?;
    if line.first() != Some(&kind) {
        return None;
    }
    let mut value: u64 = 0;
    let mut cr = 1;
    while *line.get(cr)? != b'\r' {
        let digit = line[cr].wrapping_sub(b'0');
        if digit > 9 || cr > 18 {
            return None;
        }
        value = value * 10 + u64::from(digit);
        cr += 1;
    }
    let leading_zero = line[1] == b'0' && cr > 2;
    if cr == 1 || leading_zero || cr + 1 >= line.len() {
        return None;
    }
    Some((value, at + cr + 2))
}

/// One argument of an inline command: a slice of the frame while its bytes appear in it
/// unchanged and contiguous (the common case), else built byte by byte.
#[derive(Debug)]
struct InlineArg {
    /// The argument's bytes in the frame, while `owned` is `None`.
    span: Range<usize>,
    owned: Option<Vec<u8>>,
}

impl InlineArg {
    fn starting_at(pos: usize) -> InlineArg {
        InlineArg {
            span: pos..pos,
            owned: None,
        }
    }

    /// Appends the input bytes `at`.
    fn push_input(&mut self, input: &[u8], at: Range<usize>) {
        match &mut self.owned {
            Some(bytes) => bytes.extend_from_slice(&input[at]),
            None if self.span.is_empty() => self.span = at,
            None if self.span.end == at.start => self.span.end = at.end,
            None => self.owned(input).extend_from_slice(&input[at]),
        }
    }

    /// Appends a byte that is not in the input as such (an escape's result).
    fn push_byte(&mut self, input: &[u8], byte: u8) {
        self.owned(input).push(byte);
    }

    fn owned(&mut self, input: &[u8]) -> &mut Vec<u8> {
        let span = &self.span;
        self.owned
            .get_or_insert_with(|| input[span.clone()].to_vec())
    }

    fn into_bytes(self, frame: &Bytes) -> Bytes {
        match self.owned {
            None => frame.slice(self.span),
            Some(bytes) => Bytes::from(bytes),
        }
    }
}

/// Redis' `sdssplitargs()` over `input[line]`, which holds no NUL (the line search stops at
/// one). Returns false for unbalanced quotes. Its rules:
///
/// - Arguments are separated by C `isspace` bytes (space, `\t`, `\n`, `\v`, `\f`, `\r`), but an
///   unquoted argument ends only at space, `\t`, `\n` or `\r`: `a\vb` is one argument.
/// - `"..."` understands `\n \r \t \b \a`, `\xHH` and `\<any>` (that byte); `'...'` only `\'`.
/// - A quote may start in the middle of an argument (`foo"bar"` is `foobar`), but a closing
///   quote must be followed by a space or the end of the line (`"a"b` is unbalanced).
fn split_args(input: &[u8], line: Range<usize>, args: &mut Vec<InlineArg>) -> bool {
    // Past the line's end `byte()` reads 0, like the NUL after Redis' copy of the line.
    let text = &input[..line.end];
    let mut p = Cursor::starting_at(line.start);
    loop {
        while p.byte(text, 0) != 0 && is_c_space(p.byte(text, 0)) {
            p.skip(text, 1);
        }
        if p.byte(text, 0) == 0 {
            return true;
        }
        let mut arg = InlineArg::starting_at(p.pos);
        let (mut in_double, mut in_single, mut done) = (false, false, false);
        while !done {
            let c = p.byte(text, 0);
            if in_double {
                if c == b'\\'
                    && p.byte(text, 1) == b'x'
                    && p.byte(text, 2).is_ascii_hexdigit()
                    && p.byte(text, 3).is_ascii_hexdigit()
                {
                    arg.push_byte(
                        text,
                        hex_value(p.byte(text, 2)) * 16 + hex_value(p.byte(text, 3)),
                    );
                    p.skip(text, 3);
                } else if c == b'\\' && p.byte(text, 1) != 0 {
                    p.skip(text, 1);
                    let unescaped = match p.byte(text, 0) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    };
                    arg.push_byte(text, unescaped);
                } else if c == b'"' {
                    if p.byte(text, 1) != 0 && !is_c_space(p.byte(text, 1)) {
                        return false;
                    }
                    done = true;
                } else if c == 0 {
                    return false;
                } else {
                    arg.push_input(text, p.current(text));
                }
            } else if in_single {
                if c == b'\\' && p.byte(text, 1) == b'\'' {
                    p.skip(text, 1);
                    arg.push_byte(text, b'\'');
                } else if c == b'\'' {
                    if p.byte(text, 1) != 0 && !is_c_space(p.byte(text, 1)) {
                        return false;
                    }
                    done = true;
                } else if c == 0 {
                    return false;
                } else {
                    arg.push_input(text, p.current(text));
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => arg.push_input(text, p.current(text)),
                }
            }
            if p.byte(text, 0) != 0 {
                p.skip(text, 1);
            }
        }
        args.push(arg);
    }
}

/// C's `isspace()` in the "C" locale (Redis never sets LC_CTYPE). Unlike
/// `u8::is_ascii_whitespace` it includes `\v`.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

/// `expected '$', got '<byte>'`. Redis formats the byte with `%c` and then turns `\r` and `\n`
/// into spaces (an error reply must stay on one line); a byte of 0x80 or more is sent raw, here
/// kept as its Latin-1 character (see [`ProtocolError::reply_bytes`]).
fn expected_dollar(byte: u8) -> ProtocolError {
    let text = &EXPECTED_DOLLAR[usize::from(byte)];
    ProtocolError(std::str::from_utf8(&text.bytes[..text.len]).unwrap_or("expected '$'"))
}

const GOT_PREFIX: &[u8] = b"expected '$', got '";

/// One `expected '$', got 'c'` text; they are built at compile time because a
/// [`ProtocolError`] holds a `&'static str`.
struct GotText {
    bytes: [u8; GOT_PREFIX.len() + 3],
    len: usize,
}

static EXPECTED_DOLLAR: [GotText; 256] = expected_dollar_texts();

const fn expected_dollar_texts() -> [GotText; 256] {
    const EMPTY: GotText = GotText {
        bytes: [0; GOT_PREFIX.len() + 3],
        len: 0,
    };
    let mut table = [EMPTY; 256];
    let mut index = 0;
    while index < 256 {
        let text = &mut table[index];
        let mut len = 0;
        while len < GOT_PREFIX.len() {
            text.bytes[len] = GOT_PREFIX[len];
            len += 1;
        }
        let byte = index as u8;
        // Unreachable (a line search stops at a NUL before its first byte is looked at), but
        // for the record: Redis' C string ends at the NUL that %c wrote, so its text stops here.
        let ends_at_nul = byte == 0;
        if byte == b'\r' || byte == b'\n' {
            text.bytes[len] = b' ';
            len += 1;
        } else if byte >= 0x80 {
            // UTF-8 of U+0080..U+00FF, the Latin-1 character of this byte.
            text.bytes[len] = 0xc0 | (byte >> 6);
            text.bytes[len + 1] = 0x80 | (byte & 0x3f);
            len += 2;
        } else if !ends_at_nul {
            text.bytes[len] = byte;
            len += 1;
        }
        if !ends_at_nul {
            text.bytes[len] = b'\'';
            len += 1;
        }
        text.len = len;
        index += 1;
    }
    table
}

/// Splits one line into words with Redis' quoting rules (sdssplitargs), as redis.conf
/// lines are read; None for unbalanced quotes. A line holds no NUL.
pub fn split_line(line: &[u8]) -> Option<Vec<Bytes>> {
    let line = &line[..line.iter().position(|&b| b == 0).unwrap_or(line.len())];
    let frame = Bytes::copy_from_slice(line);
    let mut words = Vec::new();
    if !split_args(&frame, 0..frame.len(), &mut words) {
        return None;
    }
    Some(words.into_iter().map(|w| w.into_bytes(&frame)).collect())
}

/// Prefetch hints for the commands at the start of `input`: the second argument of each
/// (the key, for most commands), put into `keys` in order. Returns how many commands were
/// walked over whole (at most `keys.len()`) and how many keys were found; a command cut
/// short still gives its key if that has arrived. Deliberately lax (no limits): a wrong
/// guess only costs a wasted prefetch, and the real parse still judges every byte.
pub fn peek_keys<'a>(input: &'a [u8], keys: &mut [&'a [u8]]) -> (usize, usize) {
    let (mut walked, mut found) = (0, 0);
    let mut rest = input;
    // `found <= walked + 1 <= keys.len()` below, so `keys[found]` is in bounds.
    while walked < keys.len() {
        let Some((count, mut args)) = peek_header(rest, b'*') else {
            break;
        };
        // Every argument takes at least 4 bytes: the loop ends with the input.
        for i in 0..count {
            let Some((arg, after)) = peek_bulk(args) else {
                return (walked, found);
            };
            if i == 1 {
                keys[found] = arg;
                found += 1;
            }
            args = after;
        }
        rest = args;
        walked += 1;
    }
    (walked, found)
}

/// A `$<len>` line and its payload: the payload and what follows its CRLF.
fn peek_bulk(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = peek_header(input, b'$')?;
    let len = usize::try_from(len).ok()?;
    Some((rest.get(..len)?, rest.get(len.checked_add(2)?..)?))
}

/// A header line read as the one-pass parse reads it ([`plain_header`]): the number and
/// what follows the line.
fn peek_header(input: &[u8], kind: u8) -> Option<(u64, &[u8])> {
    let (n, end) = plain_header(input, 0, kind)?;
    Some((n, &input[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: ParseLimits = ParseLimits {
        max_bulk_len: 512 * 1024 * 1024,
        auth_required: true,
    };

    /// Everything the parser makes of `input` given at once: the commands, then the error if
    /// any, and the bytes left in the buffer.
    struct Outcome {
        commands: Vec<Vec<Vec<u8>>>,
        error: Option<ProtocolError>,
        left: usize,
    }

    fn drain(
        parser: &mut RequestParser,
        buf: &mut BytesMut,
        limits: &ParseLimits,
        out: &mut Outcome,
    ) -> bool {
        let mut argv = Vec::new();
        loop {
            match parser.parse(buf, limits, &mut argv) {
                Ok(true) => out
                    .commands
                    .push(argv.iter().map(|arg| arg.to_vec()).collect()),
                Ok(false) => return true,
                Err(error) => {
                    out.error = Some(error);
                    return false;
                }
            }
        }
    }

    fn parse_with(input: &[u8], limits: &ParseLimits) -> Outcome {
        let mut out = Outcome {
            commands: Vec::new(),
            error: None,
            left: 0,
        };
        let mut buf = BytesMut::from(input);
        drain(&mut RequestParser::new(), &mut buf, limits, &mut out);
        out.left = buf.len();
        out
    }

    fn parse(input: &[u8]) -> Outcome {
        parse_with(input, &ParseLimits::default())
    }

    /// The same input fed in pieces of `piece` bytes.
    fn parse_in_pieces(input: &[u8], piece: usize, limits: &ParseLimits) -> Outcome {
        let mut out = Outcome {
            commands: Vec::new(),
            error: None,
            left: 0,
        };
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::new();
        for chunk in input.chunks(piece) {
            buf.extend_from_slice(chunk);
            if !drain(&mut parser, &mut buf, limits, &mut out) {
                break;
            }
        }
        out.left = buf.len();
        out
    }

    fn error(input: &[u8]) -> &'static str {
        error_with(input, &ParseLimits::default())
    }

    fn error_with(input: &[u8], limits: &ParseLimits) -> &'static str {
        match parse_with(input, limits).error {
            Some(ProtocolError(text)) => text,
            None => panic!("no error for {:?}", String::from_utf8_lossy(input)),
        }
    }

    /// Whether `input` is still waiting for bytes: no command, no error.
    fn pending(input: &[u8], limits: &ParseLimits) -> bool {
        let out = parse_with(input, limits);
        out.commands.is_empty() && out.error.is_none()
    }

    fn args(words: &[&[u8]]) -> Vec<Vec<u8>> {
        words.iter().map(|word| word.to_vec()).collect()
    }

    fn inline(line: &str) -> Result<Vec<Vec<u8>>, &'static str> {
        let out = parse(format!("{line}\r\n").as_bytes());
        match (out.error, out.commands.as_slice()) {
            (Some(ProtocolError(text)), _) => Err(text),
            (None, [command]) => Ok(command.clone()),
            (None, []) => Ok(Vec::new()),
            (None, _) => panic!("more than one command from {line:?}"),
        }
    }

    #[test]
    fn multibulk_command() {
        let out = parse(b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
        assert_eq!(out.commands, vec![args(&[b"SET", b"key", b"value"])]);
        assert_eq!((out.error, out.left), (None, 0));
    }

    #[test]
    fn pipelined_commands_come_out_one_per_call() {
        let mut buf =
            BytesMut::from(&b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO hi\r\n"[..]);
        let (mut parser, mut argv) = (RequestParser::new(), Vec::new());
        let limits = ParseLimits::default();
        assert_eq!(parser.parse(&mut buf, &limits, &mut argv), Ok(true));
        assert_eq!(argv, [Bytes::from_static(b"PING")]);
        assert_eq!(parser.parse(&mut buf, &limits, &mut argv), Ok(true));
        assert_eq!(argv, [Bytes::from_static(b"GET"), Bytes::from_static(b"k")]);
        assert_eq!(parser.parse(&mut buf, &limits, &mut argv), Ok(true));
        assert_eq!(
            argv,
            [Bytes::from_static(b"ECHO"), Bytes::from_static(b"hi")]
        );
        assert_eq!(parser.parse(&mut buf, &limits, &mut argv), Ok(false));
        assert!(argv.is_empty() && buf.is_empty());
    }

    #[test]
    fn arguments_share_the_read_buffer() {
        let mut buf = BytesMut::with_capacity(256);
        buf.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$5\r\nmykey\r\nSET k \"v\" 'w'\r\n");
        let whole = buf.as_ptr_range();
        let within = |arg: &Bytes| whole.contains(&arg.as_ptr());
        let (mut parser, mut argv) = (RequestParser::new(), Vec::new());
        assert_eq!(
            parser.parse(&mut buf, &ParseLimits::default(), &mut argv),
            Ok(true)
        );
        assert!(argv.iter().all(within));
        assert_eq!(
            parser.parse(&mut buf, &ParseLimits::default(), &mut argv),
            Ok(true)
        );
        assert_eq!(argv, [&b"SET"[..], b"k", b"v", b"w"]);
        assert!(
            argv.iter().all(within),
            "plain and simply quoted inline arguments are slices"
        );
    }

    #[test]
    fn inline_commands() {
        assert_eq!(parse(b"PING\r\n").commands, vec![args(&[b"PING"])]);
        assert_eq!(parse(b"PING\n").commands, vec![args(&[b"PING"])]);
        assert_eq!(
            parse(b"  SET   a\tb  \r\n").commands,
            vec![args(&[b"SET", b"a", b"b"])]
        );
        // Only one \r is part of the line ending; the other splits like a space.
        assert_eq!(parse(b"PING\r\r\n").commands, vec![args(&[b"PING"])]);
        assert_eq!(parse(b"a\rb\n").commands, vec![args(&[b"a", b"b"])]);
        // `$` starts no multibulk: it is an inline command.
        assert_eq!(parse(b"$4\r\n").commands, vec![args(&[b"$4"])]);
        assert_eq!(parse(b"\x80\r\n").commands, vec![args(&[b"\x80"])]);
        assert!(pending(b"PING\r", &ParseLimits::default()));
    }

    #[test]
    fn inline_quoting_follows_sdssplitargs() {
        let ok = |words: &[&[u8]]| Ok(args(words));
        assert_eq!(inline(r#"ECHO "a\x41\n\q""#), ok(&[b"ECHO", b"aA\nq"]));
        assert_eq!(
            inline(r#"ECHO "\r\t\b\a\\\"""#),
            ok(&[b"ECHO", b"\r\t\x08\x07\\\""])
        );
        assert_eq!(
            inline(r#"ECHO "\xff\x00\xAb""#),
            ok(&[b"ECHO", b"\xff\x00\xab"])
        );
        // Not two hex digits: `\x` is just `x`.
        assert_eq!(
            inline(r#"ECHO "a\xZZ" "\x4""#),
            ok(&[b"ECHO", b"axZZ", b"x4"])
        );
        assert_eq!(inline(r"ECHO 'it\'s'"), ok(&[b"ECHO", b"it's"]));
        assert_eq!(inline(r"ECHO 'a\nb\\c'"), ok(&[b"ECHO", b"a\\nb\\\\c"]));
        assert_eq!(
            inline(r#"ECHO foo"bar" x'y'"#),
            ok(&[b"ECHO", b"foobar", b"xy"])
        );
        assert_eq!(inline(r#"ECHO "" ''"#), ok(&[b"ECHO", b"", b""]));
        assert_eq!(
            inline(r#"ECHO "a b"  'c  d'"#),
            ok(&[b"ECHO", b"a b", b"c  d"])
        );
        // \v and \f separate arguments only where a closing quote or leading blanks are
        // concerned; inside an unquoted argument they are ordinary bytes.
        assert_eq!(inline("ECHO a\x0bb\x0cc"), ok(&[b"ECHO", b"a\x0bb\x0cc"]));
        assert_eq!(inline("ECHO \"a\"\x0bb"), ok(&[b"ECHO", b"a", b"b"]));
        assert_eq!(inline("\x0b\x0cECHO"), ok(&[b"ECHO"]));
        // Quotes in mid-argument do not start a new argument after them.
        assert_eq!(inline(r#"a"b c"d"#), Err("unbalanced quotes in request"));
    }

    #[test]
    fn unbalanced_quotes() {
        for line in [
            r#"ECHO "abc"#,
            r#"ECHO "a"b"#,
            r"ECHO 'a'b",
            r#"ECHO "a\""#,
            r"ECHO 'abc",
            r"ECHO 'a\'",
        ] {
            assert_eq!(inline(line), Err("unbalanced quotes in request"), "{line}");
        }
        assert_eq!(inline(r#"ECHO "a\"#), Err("unbalanced quotes in request"));
        // In single quotes `\\` is no escape, so `\\'` is a backslash and an escaped quote.
        assert_eq!(inline(r"ECHO 'a\\'"), Err("unbalanced quotes in request"));
    }

    #[test]
    fn inline_arguments_needing_unescaping_are_owned() {
        let mut buf = BytesMut::from(&br#"SET "a\nb" foo"bar""#[..]);
        buf.extend_from_slice(b"\r\n");
        let whole = buf.as_ptr_range();
        let mut argv = Vec::new();
        let result = RequestParser::new().parse(&mut buf, &ParseLimits::default(), &mut argv);
        assert_eq!(result, Ok(true));
        assert_eq!(argv, [&b"SET"[..], b"a\nb", b"foobar"]);
        assert!(whole.contains(&argv[0].as_ptr()));
        assert!(!whole.contains(&argv[1].as_ptr()) && !whole.contains(&argv[2].as_ptr()));
    }

    #[test]
    fn empty_commands_are_skipped() {
        let out = parse(b"*0\r\n*-1\r\n*-9223372036854775808\r\n\r\n   \r\n\n\x0b\nPING\r\n*0\r\n");
        assert_eq!(out.commands, vec![args(&[b"PING"])]);
        assert_eq!((out.error, out.left), (None, 0));
        // Skipped even when nothing follows, so the buffer does not keep them.
        assert_eq!(parse(b"*0\r\n\r\n").left, 0);
    }

    #[test]
    fn invalid_multibulk_length() {
        for input in [
            &b"*1x\r\n"[..],
            b"*\r\n",
            b"*-\r\n",
            b"*-0\r\n",
            b"*01\r\n",
            b"*+1\r\n",
            b"* 1\r\n",
            b"*2147483648\r\n",
            b"*9223372036854775808\r\n",
            b"*99999999999999999999\r\n",
            b"*-9223372036854775809\r\n",
        ] {
            assert_eq!(error(input), "invalid multibulk length", "{input:?}");
        }
        // INT_MAX itself is fine, and waits for its arguments.
        assert!(pending(b"*2147483647\r\n", &ParseLimits::default()));
    }

    #[test]
    fn unauthenticated_multibulk_length() {
        assert_eq!(
            error_with(b"*11\r\n", &AUTH),
            "unauthenticated multibulk length"
        );
        assert!(pending(b"*10\r\n", &AUTH));
        assert!(pending(b"*11\r\n", &ParseLimits::default()));
        // Validity is checked first, and empty commands are no concern.
        assert_eq!(
            error_with(b"*2147483648\r\n", &AUTH),
            "invalid multibulk length"
        );
        assert_eq!(
            parse_with(b"*-5\r\nPING\r\n", &AUTH).commands,
            vec![args(&[b"PING"])]
        );
    }

    #[test]
    fn expected_dollar() {
        assert_eq!(
            error(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"),
            "expected '$', got 'f'"
        );
        assert_eq!(error(b"*1\r\n*1\r\n"), "expected '$', got '*'");
        // Redis turns \r and \n in error replies into spaces; an empty line's byte is its \r.
        assert_eq!(error(b"*1\r\n\r\r\n"), "expected '$', got ' '");
        assert_eq!(error(b"*1\r\n\n\r\n"), "expected '$', got ' '");
        let high = ProtocolError(error(b"*1\r\n\xff\r\n"));
        assert_eq!(
            high.reply_bytes(),
            b"ERR Protocol error: expected '$', got '\xff'"
        );
        assert_eq!(
            high.reply_text(),
            "ERR Protocol error: expected '$', got '\u{ff}'"
        );
        for byte in 1..=255u8 {
            let text = super::expected_dollar(byte).0;
            assert!(
                text.starts_with("expected '$', got '") && text.ends_with('\''),
                "{byte}"
            );
        }
        assert_eq!(super::expected_dollar(0).0, "expected '$', got '");
    }

    #[test]
    fn invalid_bulk_length() {
        for input in [
            &b"*1\r\n$-1\r\n"[..],
            b"*1\r\n$\r\n",
            b"*1\r\n$4x\r\n",
            b"*1\r\n$04\r\n",
            b"*1\r\n$536870913\r\n",
            b"*1\r\n$9223372036854775807\r\n",
            b"*1\r\n$99999999999999999999\r\n",
            b"*2\r\n$3\r\nGET\r\n$-0\r\n",
        ] {
            assert_eq!(error(input), "invalid bulk length", "{input:?}");
        }
        let small = ParseLimits {
            max_bulk_len: 3,
            auth_required: false,
        };
        assert_eq!(error_with(b"*1\r\n$4\r\n", &small), "invalid bulk length");
        assert!(pending(b"*1\r\n$3\r\n", &small));
        let unlimited = ParseLimits {
            max_bulk_len: u64::MAX,
            auth_required: false,
        };
        assert!(pending(b"*1\r\n$9223372036854775807\r\n", &unlimited));
    }

    #[test]
    fn unauthenticated_bulk_length() {
        assert_eq!(
            error_with(b"*1\r\n$16385\r\n", &AUTH),
            "unauthenticated bulk length"
        );
        assert!(pending(b"*1\r\n$16384\r\n", &AUTH));
        assert_eq!(
            error_with(b"*1\r\n$536870913\r\n", &AUTH),
            "invalid bulk length"
        );
        assert_eq!(error_with(b"*1\r\n$-1\r\n", &AUTH), "invalid bulk length");
    }

    #[test]
    fn too_big_lines_are_judged_only_without_a_line_end() {
        let limits = ParseLimits::default();
        let line = |head: &[u8], fill: u8, len: usize| {
            let mut input = head.to_vec();
            input.resize(len, fill);
            input
        };
        // Inline: up to 64 KiB may wait for the \n.
        assert!(pending(&line(b"", b'A', INLINE_MAX), &limits));
        assert_eq!(
            error(&line(b"", b'A', INLINE_MAX + 1)),
            "too big inline request"
        );
        // Counted from the start of the line, after earlier commands.
        assert_eq!(parse(&line(b"PING\r\n", b'A', 6 + INLINE_MAX)).error, None);
        assert_eq!(
            error(&line(b"PING\r\n", b'A', 7 + INLINE_MAX)),
            "too big inline request"
        );
        // A longer line that is complete is fine.
        let mut long = line(b"ECHO ", b'x', INLINE_MAX + 10);
        long.extend_from_slice(b"\r\n");
        assert_eq!(parse(&long).commands[0][1].len(), INLINE_MAX + 5);
        // The *<count> line, and \r is what ends it.
        assert!(pending(&line(b"*", b'1', INLINE_MAX), &limits));
        assert_eq!(
            error(&line(b"*", b'1', INLINE_MAX + 1)),
            "too big mbulk count string"
        );
        assert_eq!(
            error(&line(b"*", b'\n', INLINE_MAX + 1)),
            "too big mbulk count string"
        );
        // The $<len> line, counted from its own start; the limit comes before the '$' check.
        assert!(pending(&line(b"*1\r\n$", b'1', 4 + INLINE_MAX), &limits));
        assert_eq!(
            error(&line(b"*1\r\n$", b'1', 5 + INLINE_MAX)),
            "too big bulk count string"
        );
        assert_eq!(
            error(&line(b"*1\r\n", b'X', 5 + INLINE_MAX)),
            "too big bulk count string"
        );
        let mut found = line(b"*1\r\n", b'X', 70_000);
        found.extend_from_slice(b"\r\n");
        assert_eq!(error(&found), "expected '$', got 'X'");
    }

    #[test]
    fn a_nul_byte_stops_the_line_search_as_strchr_does() {
        let limits = ParseLimits::default();
        assert!(pending(b"ECHO a\0b\r\n", &limits));
        assert!(pending(b"*1\0\r\n$4\r\nPING\r\n", &limits));
        assert!(pending(b"*1\r\n$4\0\r\nPING\r\n", &limits));
        // But not inside a payload, which is counted, not searched.
        assert_eq!(
            parse(b"*1\r\n$3\r\na\0b\r\n").commands,
            vec![args(&[b"a\0b"])]
        );
        // Such a line only ever ends in the 64 KiB error.
        let mut stuck = b"ECHO a\0".to_vec();
        stuck.resize(INLINE_MAX + 1, b'\n');
        assert_eq!(error(&stuck), "too big inline request");
        let mut stuck = b"*1\r\n$4\0".to_vec();
        stuck.resize(4 + INLINE_MAX + 1, b'\r');
        assert_eq!(error(&stuck), "too big bulk count string");
        let mut stuck = b"*1\0".to_vec();
        stuck.resize(INLINE_MAX + 1, b'\r');
        assert_eq!(error(&stuck), "too big mbulk count string");
    }

    #[test]
    fn bytes_after_a_cr_or_a_payload_are_not_checked() {
        let out = parse(b"*1\rX$4\r\nPINGXY*1\r\n$4\r\nPING\r\n");
        assert_eq!(out.commands, vec![args(&[b"PING"]), args(&[b"PING"])]);
        // But they must have arrived.
        assert!(pending(b"*1\r", &ParseLimits::default()));
        assert!(pending(b"*1\r\n$4\r\nPING\r", &ParseLimits::default()));
        assert_eq!(parse(b"*1\r\n$0\r\n\r\n").commands, vec![args(&[b""])]);
    }

    /// A batch mixing every kind of request, including the skipped ones.
    fn mixed_batch() -> Vec<u8> {
        let mut batch = Vec::new();
        for n in 0..20 {
            batch.extend_from_slice(
                format!("*3\r\n$3\r\nSET\r\n$6\r\nkey:{n:02}\r\n$8\r\nvalue:{n:02}\r\n").as_bytes(),
            );
            batch.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n$6\r\nkey:{n:02}\r\n").as_bytes());
        }
        batch.extend_from_slice(b"*0\r\nPING\r\n\r\nECHO \"x\\ty\" 'it\\'s'\n*-1\r\n");
        batch.extend_from_slice(b"*2\r\n$4\r\nECHO\r\n$5\r\na\r\nb\0\r\nMGET a b c\r\n");
        batch
    }

    #[test]
    fn split_at_every_byte_gives_the_same_commands() {
        let batch = mixed_batch();
        let whole = parse(&batch);
        assert_eq!(whole.commands.len(), 44);
        assert_eq!(whole.commands[41], args(&[b"ECHO", b"x\ty", b"it's"]));
        assert_eq!(whole.commands[42], args(&[b"ECHO", b"a\r\nb\0"]));
        for piece in [1, 2, 3, 7, 64] {
            let split = parse_in_pieces(&batch, piece, &ParseLimits::default());
            assert_eq!(split.commands, whole.commands, "pieces of {piece}");
            assert_eq!((split.error, split.left), (None, 0));
        }
        // Every single split point of a two-piece delivery.
        for at in 0..=batch.len() {
            let mut out = Outcome {
                commands: Vec::new(),
                error: None,
                left: 0,
            };
            let (mut parser, mut buf) = (RequestParser::new(), BytesMut::new());
            for part in [&batch[..at], &batch[at..]] {
                buf.extend_from_slice(part);
                drain(&mut parser, &mut buf, &ParseLimits::default(), &mut out);
            }
            assert_eq!(out.commands, whole.commands, "split at {at}");
        }
    }

    #[test]
    fn errors_are_the_same_split_at_every_byte() {
        for input in [
            &b"*2\r\n$3\r\nGET\r\n$x\r\n"[..],
            b"PING\r\nECHO \"a\"b\r\n",
            b"*1\r\n$3\r\nfoo\r\n*1\r\nfoo\r\n",
            b"*12\r\n",
        ] {
            for limits in [ParseLimits::default(), AUTH] {
                let whole = parse_with(input, &limits);
                let split = parse_in_pieces(input, 1, &limits);
                assert_eq!(split.commands, whole.commands);
                assert_eq!(split.error, whole.error);
            }
        }
    }

    /// Whole commands take the one-pass path, byte-by-byte delivery the state machine:
    /// headers at the edges of the one-pass path must end the same way in both.
    #[test]
    fn edge_headers_parse_the_same_whole_and_in_pieces() {
        let many_args = format!("*1025\r\n{}", "$1\r\nx\r\n".repeat(1025));
        let long_bulk = format!("*2\r\n$4\r\nECHO\r\n$16385\r\n{}\r\n", "x".repeat(16385));
        for input in [
            &b"*1\rX$4\rYPING\r\n"[..],
            b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
            b"*2\r\n$4\r\nECHO\r\n$01\r\nx\r\n",
            b"*01\r\n$4\r\nPING\r\n",
            b"*2\r\n$4\r\nECHO\r\n$-1\r\n",
            b"*2\r\n$4\r\nECHO\r\n$+1\r\nx\r\n",
            b"*1\r\n$0000000000000000004\r\nPING\r\n",
            b"*1\r\n$1000000000000000000\r\nPING\r\n",
            b"*2\r\n$4\r\nECHO\r\n$1\r\n\0\r\n",
            b"*1\r\n$4\r\nPI\0G\r\n",
            b"*1\r\n$4\0\r\nPING\r\n",
            b"*11\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n\
              $1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n",
            many_args.as_bytes(),
            long_bulk.as_bytes(),
        ] {
            let small_bulks = ParseLimits {
                max_bulk_len: 3,
                ..ParseLimits::default()
            };
            for limits in [ParseLimits::default(), AUTH, small_bulks] {
                let whole = parse_with(input, &limits);
                let split = parse_in_pieces(input, 1, &limits);
                assert_eq!(split.commands, whole.commands, "{input:?}");
                assert_eq!(split.error, whole.error, "{input:?}");
            }
        }
        assert_eq!(parse(b"*1\rX$4\rYPING\r\n").commands, [args(&[b"PING"])]);
        assert_eq!(parse(many_args.as_bytes()).commands[0].len(), 1025);
    }

    #[test]
    fn huge_declared_lengths_allocate_nothing_up_front() {
        let (mut parser, mut argv) = (RequestParser::new(), Vec::new());
        let mut buf = BytesMut::from(&b"*2147483647\r\n$3\r\nSET\r\n"[..]);
        assert_eq!(
            parser.parse(&mut buf, &ParseLimits::default(), &mut argv),
            Ok(false)
        );
        assert!(parser.spans.capacity() <= ARGS_RESERVE_MAX);
        let (mut parser, mut buf) = (
            RequestParser::new(),
            BytesMut::from(&b"*1\r\n$536870912\r\nab"[..]),
        );
        assert_eq!(
            parser.parse(&mut buf, &ParseLimits::default(), &mut argv),
            Ok(false)
        );
        assert_eq!(parser.wanted(), 536_870_912 + 2 - 2);
        assert!(buf.capacity() < 1024);
    }

    #[test]
    fn a_big_value_arrives_in_reads_without_rescanning() {
        const LEN: usize = 1 << 20;
        let mut input = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${LEN}\r\n").into_bytes();
        let header = input.len();
        input.resize(header + LEN, b'\r');
        input.extend_from_slice(b"\r\n*1\r\n$4\r\nPING\r\n");
        let (mut parser, mut buf, mut argv) = (RequestParser::new(), BytesMut::new(), Vec::new());
        let limits = ParseLimits::default();
        let mut reads = input.chunks(64 * 1024);
        buf.extend_from_slice(reads.next().unwrap());
        assert_eq!(parser.parse(&mut buf, &limits, &mut argv), Ok(false));
        assert_eq!(parser.wanted(), header + LEN + 2 - 64 * 1024);
        for read in reads {
            // The parser stays on the payload's first byte and reads nothing of it.
            assert_eq!(parser.cursor.pos, header);
            buf.extend_from_slice(read);
            if parser.parse(&mut buf, &limits, &mut argv) == Ok(true) {
                break;
            }
        }
        assert_eq!(argv.len(), 3);
        assert_eq!(argv[2].len(), LEN);
        assert_eq!(parser.wanted(), 0);
        assert_eq!(parser.parse(&mut buf, &limits, &mut argv), Ok(true));
        assert_eq!(argv, [Bytes::from_static(b"PING")]);
    }

    #[test]
    fn a_line_arriving_in_pieces_is_searched_once() {
        let mut line = b"ECHO ".to_vec();
        line.resize(1000, b'x');
        let (mut parser, mut buf, mut argv) = (RequestParser::new(), BytesMut::new(), Vec::new());
        for piece in line.chunks(10) {
            buf.extend_from_slice(piece);
            assert_eq!(
                parser.parse(&mut buf, &ParseLimits::default(), &mut argv),
                Ok(false)
            );
            // The next search starts after everything already looked at.
            assert_eq!(parser.cursor.scanned, buf.len());
        }
        buf.extend_from_slice(b"\r\n");
        assert_eq!(
            parser.parse(&mut buf, &ParseLimits::default(), &mut argv),
            Ok(true)
        );
        assert_eq!(argv[1].len(), 995);
    }

    #[test]
    fn a_huge_command_leaves_no_big_bookkeeping() {
        let mut input = b"*3000\r\n".to_vec();
        for _ in 0..3000 {
            input.extend_from_slice(b"$1\r\na\r\n");
        }
        let (mut parser, mut buf, mut argv) =
            (RequestParser::new(), BytesMut::from(&input[..]), Vec::new());
        assert_eq!(
            parser.parse(&mut buf, &ParseLimits::default(), &mut argv),
            Ok(true)
        );
        assert_eq!(argv.len(), 3000);
        assert!(parser.spans.capacity() <= ARGS_RESERVE_MAX);
    }

    #[test]
    fn an_error_is_final() {
        let (mut parser, mut argv) = (RequestParser::new(), Vec::new());
        let mut buf = BytesMut::from(&b"*x\r\n"[..]);
        let expected = Err(ProtocolError("invalid multibulk length"));
        assert_eq!(
            parser.parse(&mut buf, &ParseLimits::default(), &mut argv),
            expected
        );
        buf.clear();
        buf.extend_from_slice(b"PING\r\n");
        assert_eq!(
            parser.parse(&mut buf, &ParseLimits::default(), &mut argv),
            expected
        );
        assert!(argv.is_empty());
    }

    #[test]
    fn a_buffer_that_shrank_restarts_the_parse() {
        let (mut parser, mut argv) = (RequestParser::new(), Vec::new());
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$100\r\n"[..]);
        assert_eq!(
            parser.parse(&mut buf, &ParseLimits::default(), &mut argv),
            Ok(false)
        );
        let mut buf = BytesMut::from(&b"PING\r\n"[..]);
        assert_eq!(
            parser.parse(&mut buf, &ParseLimits::default(), &mut argv),
            Ok(true)
        );
        assert_eq!(argv, [Bytes::from_static(b"PING")]);
    }

    #[test]
    fn reply_text() {
        let error = ProtocolError("invalid bulk length");
        assert_eq!(
            error.reply_text(),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            error.reply_bytes(),
            b"ERR Protocol error: invalid bulk length"
        );
    }

    #[test]
    fn split_line_splits_like_an_inline_command() {
        let words = split_line(br#"save "" 'a b' x\y"#).expect("balanced");
        assert_eq!(words, [&b"save"[..], b"", b"a b", b"x\\y"]);
        assert_eq!(split_line(b"  "), Some(Vec::new()));
        assert_eq!(split_line(br#"dir "a"b"#), None);
        // A NUL ends the line, as it ends Redis' C string.
        assert_eq!(split_line(b"a b\0c d").map(|w| w.len()), Some(2));
    }

    fn peek_key1(input: &[u8]) -> Option<&[u8]> {
        let mut keys = [&[][..]; 1];
        let (_, found) = peek_keys(input, &mut keys);
        (found == 1).then_some(keys[0])
    }

    /// The keys `peek_keys` finds with room for `room`, and how many commands it walked.
    fn peeked(input: &[u8], room: usize) -> (usize, Vec<&[u8]>) {
        let mut keys = vec![&[][..]; room];
        let (walked, found) = peek_keys(input, &mut keys);
        keys.truncate(found);
        (walked, keys)
    }

    #[test]
    fn peek_keys_finds_the_second_argument_of_the_next_commands() {
        let get = |key: &str| format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len());
        let two = format!("{}{}", get("a"), get("bc"));
        assert_eq!(peeked(two.as_bytes(), 4), (2, vec![&b"a"[..], b"bc"]));
        let cut = &two.as_bytes()[..two.len() - 3];
        assert_eq!(peeked(cut, 4), (1, vec![&b"a"[..]]));
        let ping_first = format!("*1\r\n$4\r\nPING\r\n{}", get("a"));
        assert_eq!(peeked(ping_first.as_bytes(), 4), (2, vec![&b"a"[..]]));
        let three = format!("{two}{}", get("d"));
        assert_eq!(
            peeked(three.as_bytes(), 4),
            (3, vec![&b"a"[..], b"bc", b"d"])
        );
        // No more commands than there is room for.
        assert_eq!(peeked(three.as_bytes(), 2), (2, vec![&b"a"[..], b"bc"]));
        // The key of a command still arriving counts, the command does not.
        let set_cut = format!("{}*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva", get("a"));
        assert_eq!(peeked(set_cut.as_bytes(), 4), (1, vec![&b"a"[..], b"k"]));
        assert_eq!(peeked(set_cut.as_bytes(), 1), (1, vec![&b"a"[..]]));
    }

    #[test]
    fn peek_key_finds_the_second_argument_of_a_complete_prefix() {
        let batch = b"*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n";
        assert_eq!(peek_key1(batch), Some(&b"key:1"[..]));
        // Only the key needs to have arrived.
        assert_eq!(
            peek_key1(b"*3\r\n$3\r\nSET\r\n$2\r\nab\r\n"),
            Some(&b"ab"[..])
        );
        assert_eq!(peek_key1(b"*2\r\n$3\r\nGET\r\n$2\r\nab\r"), None);
        assert_eq!(peek_key1(b"*2\r\n$3\r\nGET\r\n$2\r\na"), None);
        // One argument, inline commands, junk and absurd lengths give no hint.
        assert_eq!(peek_key1(b"*1\r\n$4\r\nPING\r\n"), None);
        assert_eq!(peek_key1(b"GET key\r\n"), None);
        assert_eq!(peek_key1(b"*2\r\n$x\r\nGET\r\n$1\r\nk\r\n"), None);
        assert_eq!(peek_key1(b"*2\r\n$99999999999\r\n"), None);
        assert_eq!(peek_key1(b""), None);
    }
}
