//! Bitmap commands: strings read as arrays of bits, most significant bit of byte 0 first.
//!
//! ```text
//! SETBIT key offset 0|1              :<the bit's old value>; the string grows zero-filled
//! GETBIT key offset                  :0 or :1 (bits past the end are 0)
//! BITCOUNT key [start end [BYTE|BIT]]
//!                                    :<set bits in the range> (byte indexes by default)
//! BITPOS key 0|1 [start [end [BYTE|BIT]]]
//!                                    :<first such bit>, :-1 none; without an end a
//!                                    missing or all-ones string has a clear bit just past it
//! BITOP AND|OR|XOR|NOT destkey key [key ...]
//!                                    :<length of the result>, stored at destkey (deleted
//!                                    when empty); shorter strings are zero-padded
//! ```
//! Offsets stop below `proto-max-bulk-len` bytes, so `SETBIT key 4294967295 1` allocates
//! 512 MB (as in Redis) and larger offsets are refused.

use bytes::Bytes;

use super::string::{
    clamp_range, clamp_range_unchecked, grow_zeroed, max_string_len, modify_string, read_string,
    OUT_OF_MEMORY,
};
use super::{args, errors, Ctx};
use crate::db::{Compact, Value};

use super::spec::*;

/// This family's rows of the command table: name, arity, flags, key positions, group,
/// summary, handler.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    since(command("setbit", 4, WRITE | DENYOOM, ONE_KEY, "bitmap", "Sets or clears the bit at offset in the string value stored at key", setbit), "2.2.0"),
    since(command("getbit", 3, READONLY | FAST, ONE_KEY, "bitmap", "Returns the bit value at offset in the string value stored at key", getbit), "2.2.0"),
    since(command("bitcount", -2, READONLY, ONE_KEY, "bitmap", "Count set bits in a string", bitcount), "2.6.0"),
    since(command("bitpos", -3, READONLY, ONE_KEY, "bitmap", "Find first bit set or clear in a string", bitpos), "2.8.7"),
    since(command("bitop", -4, WRITE | DENYOOM, (2, -1, 1), "bitmap", "Perform bitwise operations between strings", bitop), "2.6.0"),
];

const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_BIT: &str = "ERR bit is not an integer or out of range";

/// Redis' getBitOffsetFromArgument: a bit offset whose byte lies below
/// proto-max-bulk-len, or None after the error reply.
fn bit_offset(ctx: &mut Ctx, arg: &[u8]) -> Option<u64> {
    let max = max_string_len(ctx);
    match args::parse_i64(arg) {
        Some(offset) if offset >= 0 && (offset as u64 >> 3) < max => Some(offset as u64),
        _ => {
            ctx.reply.error(BAD_OFFSET);
            None
        }
    }
}

/// The bit at `offset` (0 past the end).
fn bit_at(data: &[u8], offset: u64) -> bool {
    let byte = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    data.get(byte)
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

pub fn setbit(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(offset) = bit_offset(ctx, &argv[2]) else {
        return;
    };
    let on = match args::parse_i64(&argv[3]) {
        Some(bit @ (0 | 1)) => bit == 1,
        _ => return ctx.reply.error(BAD_BIT),
    };
    // Below proto-max-bulk-len, which the config keeps within memory sizes.
    let byte = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    let mask = 0x80u8 >> (offset & 7);
    let now = ctx.now_ms();
    let mut guard = ctx.server.keyspace.lock(ctx.client.db, &argv[1]);
    let pos = match guard.find_live(now) {
        Some(pos) if !matches!(guard.entry(pos).value, Value::Str(_)) => {
            drop(guard);
            return ctx.reply.error(errors::WRONGTYPE);
        }
        Some(pos) => pos,
        None => guard.set(Value::Str(Compact::default()), false, now),
    };
    let old = modify_string(&mut guard, pos, |data| {
        grow_zeroed(data, byte.saturating_add(1))?;
        let old = data[byte] & mask != 0;
        if on {
            data[byte] |= mask;
        } else {
            data[byte] &= !mask;
        }
        Ok(old)
    });
    if old.is_err() && matches!(&guard.entry(pos).value, Value::Str(d) if d.is_empty()) {
        // The key was created for this bit: do not leave it behind empty.
        guard.remove_at(pos);
    } else if old.is_ok() {
        ctx.propagate(argv);
    }
    drop(guard);
    match old {
        Ok(old) => ctx.reply.int(i64::from(old)),
        Err(()) => ctx.reply.error(OUT_OF_MEMORY),
    }
}

pub fn getbit(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(offset) = bit_offset(ctx, &argv[2]) else {
        return;
    };
    if let Ok(value) = read_string(ctx, &argv[1]) {
        let bit = value.is_some_and(|data| bit_at(&data, offset));
        ctx.reply.int(i64::from(bit));
    }
}

/// Whether a range counts bits (`BIT`) or bytes (`BYTE`, or no unit given); None after
/// the syntax error reply.
fn index_unit_is_bit(ctx: &mut Ctx, arg: Option<&Bytes>) -> Option<bool> {
    match arg {
        None => Some(false),
        Some(unit) if args::is(unit, "BIT") => Some(true),
        Some(unit) if args::is(unit, "BYTE") => Some(false),
        Some(_) => {
            ctx.reply.error(errors::SYNTAX);
            None
        }
    }
}

/// A range of whole bits `[first, last]` from a range in `bit` or byte units.
fn bit_span(range: (i64, i64), bit: bool) -> (u64, u64) {
    let (start, end) = (range.0 as u64, range.1 as u64);
    if bit {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    }
}

pub fn bitcount(ctx: &mut Ctx, argv: &[Bytes]) {
    // Redis looks the key up before it reads the range: no key counts 0 whatever follows.
    let Ok(value) = read_string(ctx, &argv[1]) else {
        return;
    };
    let Some(data) = value else {
        return ctx.reply.int(0);
    };
    let len = data.len() as i64;
    let span = match argv.len() {
        2 => clamp_range(0, -1, len).map(|r| bit_span(r, false)),
        4 | 5 => {
            let Some(start) = ctx.int_arg(&argv[2]) else {
                return;
            };
            let Some(end) = ctx.int_arg(&argv[3]) else {
                return;
            };
            // Like Redis, a reversed negative range is empty before the unit is read.
            if start < 0 && end < 0 && start > end {
                return ctx.reply.int(0);
            }
            let Some(bit) = index_unit_is_bit(ctx, argv.get(4)) else {
                return;
            };
            let total = if bit { len * 8 } else { len };
            clamp_range(start, end, total).map(|r| bit_span(r, bit))
        }
        _ => return ctx.reply.error(errors::SYNTAX),
    };
    let count = span.map_or(0, |(first, last)| count_ones(&data, first, last));
    ctx.reply.int(count as i64);
}

/// Set bits among bits `first..=last` (both within `data`).
fn count_ones(data: &[u8], first: u64, last: u64) -> u64 {
    let (first_byte, last_byte) = ((first >> 3) as usize, (last >> 3) as usize);
    let bytes = &data[first_byte..=last_byte];
    let (words, rest) = bytes.split_at(bytes.len() / 8 * 8);
    let mut count: u64 = words
        .chunks_exact(8)
        .map(|w| u64::from(u64::from_ne_bytes(w.try_into().unwrap_or_default()).count_ones()))
        .sum();
    count += rest.iter().map(|b| u64::from(b.count_ones())).sum::<u64>();
    // Take off the bits of the edge bytes that lie outside the range.
    let before = !(0xFFu32 >> (first & 7)) as u8;
    let after = (0xFFu32 >> ((last & 7) + 1)) as u8;
    count -= u64::from((data[first_byte] & before).count_ones());
    count -= u64::from((data[last_byte] & after).count_ones());
    count
}

pub fn bitpos(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(bit) = ctx.int_arg(&argv[2]) else {
        return;
    };
    if bit != 0 && bit != 1 {
        return ctx.reply.error("ERR The bit argument must be 1 or 0.");
    }
    let looking_for_one = bit == 1;
    let Ok(value) = read_string(ctx, &argv[1]) else {
        return;
    };
    // No key is an endless run of clear bits.
    let Some(data) = value else {
        return ctx.reply.int(if looking_for_one { -1 } else { 0 });
    };
    let len = data.len() as i64;
    let mut end_given = false;
    let span = match argv.len() {
        3 => clamp_range(0, -1, len).map(|r| bit_span(r, false)),
        4..=6 => {
            let Some(start) = ctx.int_arg(&argv[3]) else {
                return;
            };
            // Redis reads the unit before the end.
            let Some(bit_unit) = index_unit_is_bit(ctx, argv.get(5)) else {
                return;
            };
            let total = if bit_unit { len * 8 } else { len };
            let end = match argv.get(4) {
                Some(end) => {
                    end_given = true;
                    match ctx.int_arg(end) {
                        Some(end) => end,
                        None => return,
                    }
                }
                None => total - 1,
            };
            clamp_range_unchecked(start, end, total).map(|r| bit_span(r, bit_unit))
        }
        _ => return ctx.reply.error(errors::SYNTAX),
    };
    let Some((first, last)) = span else {
        return ctx.reply.int(-1);
    };
    let reply = match find_bit(&data, first, last, looking_for_one) {
        Some(pos) => pos as i64,
        // Without an explicit end the string counts as padded with clear bits.
        None if !looking_for_one && !end_given => last as i64 + 1,
        None => -1,
    };
    ctx.reply.int(reply);
}

/// The first bit equal to `one` among bits `first..=last` (both within `data`).
fn find_bit(data: &[u8], first: u64, last: u64, one: bool) -> Option<u64> {
    let (first_byte, last_byte) = ((first >> 3) as usize, (last >> 3) as usize);
    // Bytes in which no bit matches are skipped whole.
    let skip = if one { 0x00 } else { 0xFF };
    let mut byte = first_byte;
    while byte <= last_byte {
        let b = data[byte];
        if b != skip {
            let lo = if byte == first_byte { first & 7 } else { 0 };
            let hi = if byte == last_byte { last & 7 } else { 7 };
            for bit in lo..=hi {
                if (b & (0x80 >> bit) != 0) == one {
                    return Some(byte as u64 * 8 + bit);
                }
            }
        }
        byte += 1;
        if byte < last_byte {
            // Fast-forward over whole bytes that cannot match.
            byte += data[byte..last_byte]
                .iter()
                .take_while(|&&b| b == skip)
                .count();
        }
    }
    None
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

pub fn bitop(ctx: &mut Ctx, argv: &[Bytes]) {
    let op = match &argv[1][..] {
        op if args::is(op, "AND") => BitOp::And,
        op if args::is(op, "OR") => BitOp::Or,
        op if args::is(op, "XOR") => BitOp::Xor,
        op if args::is(op, "NOT") => BitOp::Not,
        _ => return ctx.reply.error(errors::SYNTAX),
    };
    if op == BitOp::Not && argv.len() != 4 {
        return ctx
            .reply
            .error("ERR BITOP NOT must be called with a single source key.");
    }
    let now = ctx.now_ms();
    let db = ctx.client.db;
    // The destination and every source under one lock: the result is computed and
    // stored at one moment, as Redis does.
    let keys: Vec<(usize, &[u8])> = argv[2..].iter().map(|k| (db, &k[..])).collect();
    let mut guard = ctx.server.keyspace.lock_keys(&keys);
    let mut sources = Vec::with_capacity(keys.len() - 1);
    for i in 1..keys.len() {
        let mut key = guard.key(i);
        let value = key.get(now).map(|e| &e.value);
        ctx.count_lookup(value.is_some());
        match value {
            None => sources.push(Bytes::new()),
            Some(Value::Str(data)) => sources.push(data.to_bytes()),
            Some(_) => {
                drop(guard);
                return ctx.reply.error(errors::WRONGTYPE);
            }
        }
    }
    let result = combine(op, &sources);
    let len = result.len();
    let mut dest = guard.key(0);
    if result.is_empty() {
        if let Some(pos) = dest.find_live(now) {
            dest.remove_at(pos);
        }
    } else {
        dest.set(Value::Str(Compact::from(result)), false, now);
    }
    ctx.propagate(argv);
    drop(guard);
    ctx.reply.int(len as i64);
}

/// `op` over the sources, each zero-padded to the longest.
fn combine(op: BitOp, sources: &[Bytes]) -> Vec<u8> {
    let len = sources.iter().map(Bytes::len).max().unwrap_or(0);
    let mut result = match sources.first() {
        Some(first) => {
            let mut out = first.to_vec();
            out.resize(len, 0);
            out
        }
        None => return Vec::new(),
    };
    if op == BitOp::Not {
        result.iter_mut().for_each(|b| *b = !*b);
        return result;
    }
    for source in &sources[1..] {
        for (i, out) in result.iter_mut().enumerate() {
            let b = source.get(i).copied().unwrap_or(0);
            match op {
                BitOp::And => *out &= b,
                BitOp::Or => *out |= b,
                BitOp::Xor => *out ^= b,
                BitOp::Not => unreachable!("handled above"),
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_count_from_the_top_of_each_byte() {
        assert!(!bit_at(b"`", 0));
        assert!(bit_at(b"`", 1) && bit_at(b"`", 2));
        assert!(!bit_at(b"`", 8));
        assert!(!bit_at(b"", u64::MAX));
    }

    #[test]
    fn counting_honours_bit_edges() {
        let data = [0xFFu8, 0x0F, 0xF0];
        assert_eq!(count_ones(&data, 0, 23), 16);
        assert_eq!(count_ones(&data, 1, 7), 7);
        assert_eq!(count_ones(&data, 12, 19), 8);
        assert_eq!(count_ones(&data, 12, 12), 1);
        assert_eq!(count_ones(&data, 8, 11), 0);
        let long = vec![0x55u8; 100];
        assert_eq!(count_ones(&long, 0, 799), 400);
        assert_eq!(
            count_ones(&long, 1, 798),
            399,
            "bit 799 is set, bit 0 clear"
        );
    }

    #[test]
    fn finding_bits_within_a_span() {
        let data = [0xFFu8, 0xFF, 0x00, 0x01];
        assert_eq!(find_bit(&data, 0, 31, true), Some(0));
        assert_eq!(find_bit(&data, 0, 31, false), Some(16));
        assert_eq!(find_bit(&data, 16, 31, true), Some(31));
        assert_eq!(find_bit(&data, 16, 30, true), None);
        assert_eq!(find_bit(&data, 3, 15, false), None);
        assert_eq!(find_bit(&[0u8; 64], 5, 511, true), None);
        let mut sparse = [0u8; 64];
        sparse[40] = 0x10;
        assert_eq!(find_bit(&sparse, 0, 511, true), Some(40 * 8 + 3));
    }

    #[test]
    fn operations_pad_with_zeros() {
        let s = |b: &[u8]| Bytes::copy_from_slice(b);
        let sources = [s(&[0xF0, 0xFF]), s(&[0xFF])];
        assert_eq!(combine(BitOp::And, &sources), vec![0xF0, 0x00]);
        assert_eq!(combine(BitOp::Or, &sources), vec![0xFF, 0xFF]);
        assert_eq!(combine(BitOp::Xor, &sources), vec![0x0F, 0xFF]);
        assert_eq!(combine(BitOp::Not, &sources[..1]), vec![0x0F, 0x00]);
        assert!(combine(BitOp::Or, &[s(b""), s(b"")]).is_empty());
    }
}
