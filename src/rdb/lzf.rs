//! LZF, the compression Redis applies to RDB strings longer than 20 bytes when
//! `rdbcompression` is on. Decompression is bounded by the length the file declares.
//!
//! ```text
//! a compressed stream is a sequence of chunks, each starting with a control byte c:
//!   c < 32          literal run: the next c+1 bytes are copied as they are
//!   c >> 5 in 1..=6 back reference: len = (c >> 5) + 2, then one byte b,
//!                   copy len bytes from offset ((c & 31) << 8 | b) + 1 back in the output
//!   c >> 5 == 7     long back reference: one more byte n first, len = 7 + n + 2
//! in an RDB file:   0xC3 <compressed len> <uncompressed len> <compressed bytes>
//! ```

/// Why a compressed block is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LzfError(pub String);

/// One chunk of output can be at most 264 bytes from 3 bytes of input.
pub const MAX_EXPANSION: u64 = 88;

/// Decompresses `input` into exactly `expected_len` bytes, or fails. Never writes past
/// `expected_len` and never reserves more than the input could possibly expand to.
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, LzfError> {
    let bound = (input.len() as u64).saturating_mul(MAX_EXPANSION);
    if expected_len as u64 > bound {
        return Err(LzfError(format!(
            "LZF: {} compressed bytes cannot expand to {expected_len}",
            input.len()
        )));
    }
    let mut out: Vec<u8> = Vec::with_capacity(expected_len.min(1 << 20));
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            if ip + run > input.len() {
                return Err(LzfError(format!(
                    "LZF: literal run of {run} at input byte {} passes the end",
                    ip - 1
                )));
            }
            if out.len() + run > expected_len {
                return Err(LzfError(format!(
                    "LZF: output longer than the declared {expected_len} bytes"
                )));
            }
            out.extend_from_slice(&input[ip..ip + run]);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                let Some(&more) = input.get(ip) else {
                    return Err(LzfError("LZF: back reference cut short".into()));
                };
                len += usize::from(more);
                ip += 1;
            }
            let Some(&low) = input.get(ip) else {
                return Err(LzfError("LZF: back reference cut short".into()));
            };
            ip += 1;
            let back = ((ctrl & 0x1f) << 8) + usize::from(low) + 1;
            len += 2;
            if back > out.len() {
                return Err(LzfError(format!(
                    "LZF: back reference {back} bytes before the start of the output"
                )));
            }
            if out.len() + len > expected_len {
                return Err(LzfError(format!(
                    "LZF: output longer than the declared {expected_len} bytes"
                )));
            }
            let start = out.len() - back;
            for i in 0..len {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    if out.len() != expected_len {
        return Err(LzfError(format!(
            "LZF: decompressed to {} bytes, the file declares {expected_len}",
            out.len()
        )));
    }
    Ok(out)
}

const HASH_LOG: u32 = 14;
const MAX_OFFSET: usize = 1 << 13;
const MAX_REF_LEN: usize = 7 + 255 + 2;
const MAX_LITERAL: usize = 32;

fn hash(input: &[u8], at: usize) -> usize {
    let v = u32::from(input[at]) << 16 | u32::from(input[at + 1]) << 8 | u32::from(input[at + 2]);
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_LOG)) as usize
}

/// Compresses `input`. The result may be longer than the input for incompressible data:
/// the writer stores the string raw unless compression saves bytes (Redis needs a gain of
/// at least 4 bytes and only tries strings longer than 20 bytes).
pub fn compress(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 32 + 1);
    let mut table = vec![0usize; 1 << HASH_LOG];
    let mut lit_pos = out.len();
    let mut lit = 0usize;
    out.push(0);
    let mut ip = 0;
    while ip < input.len() {
        if ip + 2 < input.len() {
            let h = hash(input, ip);
            let candidate = table[h];
            table[h] = ip + 1;
            if candidate > 0 {
                let r = candidate - 1;
                let off = ip - r - 1;
                if off < MAX_OFFSET && input[r..r + 3] == input[ip..ip + 3] {
                    let max = MAX_REF_LEN.min(input.len() - ip);
                    let mut len = 3;
                    while len < max && input[r + len] == input[ip + len] {
                        len += 1;
                    }
                    if lit == 0 {
                        out.pop();
                    } else {
                        out[lit_pos] = (lit - 1) as u8;
                    }
                    let code = len - 2;
                    if code < 7 {
                        out.push(((off >> 8) + (code << 5)) as u8);
                    } else {
                        out.push(((off >> 8) + (7 << 5)) as u8);
                        out.push((code - 7) as u8);
                    }
                    out.push(off as u8);
                    ip += len;
                    lit = 0;
                    lit_pos = out.len();
                    out.push(0);
                    continue;
                }
            }
        }
        out.push(input[ip]);
        lit += 1;
        ip += 1;
        if lit == MAX_LITERAL {
            out[lit_pos] = (lit - 1) as u8;
            lit = 0;
            lit_pos = out.len();
            out.push(0);
        }
    }
    if lit == 0 {
        out.pop();
    } else {
        out[lit_pos] = (lit - 1) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(data: &[u8]) {
        let packed = compress(data);
        assert_eq!(decompress(&packed, data.len()).unwrap(), data);
    }

    #[test]
    fn round_trips() {
        round_trip(b"");
        round_trip(b"a");
        round_trip(b"abcabcabcabcabcabcabcabcabcabcabc");
        round_trip(&vec![b'x'; 10_000]);
        let noise: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        round_trip(&noise);
        let text = b"the quick brown fox jumps over the lazy dog; ".repeat(100);
        round_trip(&text);
        assert!(compress(&text).len() < text.len() / 5);
    }

    #[test]
    fn refuses_bad_input() {
        let packed = compress(&[b'y'; 100]);
        assert!(decompress(&packed, 99).is_err());
        assert!(decompress(&packed, 101).is_err());
        assert!(
            decompress(&[0x20, 0x00], 3).is_err(),
            "reference before the start"
        );
        assert!(
            decompress(&[0x05, b'a'], 6).is_err(),
            "literal past the end"
        );
        assert!(
            decompress(&[0x00, b'a'], usize::MAX).is_err(),
            "impossible length"
        );
        assert!(decompress(&[0xe0], 10).is_err(), "cut short");
    }
}
