//! Ziplist, the packed encoding of small lists, hashes and sorted sets in RDB files written
//! by Redis 2.6 to 6.2 (and quicklist nodes up to 6.2). Every header, entry and the
//! terminator is checked; integers come back as their decimal text.
//!
//! ```text
//! <zlbytes u32 LE> <zltail u32 LE> <zllen u16 LE> <entry>* <0xFF>
//! entry:  <prevlen> <encoding> <data>
//!   prevlen   1 byte if < 254, else 0xFE and a u32 LE
//!   00pppppp                      string, 6-bit length
//!   01pppppp qqqqqqqq             string, 14-bit length (big-endian)
//!   10000000 <u32 BE>             string, 32-bit length
//!   11000000 i16 | 11010000 i32 | 11100000 i64 | 11110000 i24 | 11111110 i8  (LE)
//!   1111xxxx (xxxx 0001..=1101)   immediate integer xxxx - 1 (0..=12)
//! zltail is the offset of the last entry; zllen is the entry count (65535: count them)
//! ```

fn fail<T>(at: usize, what: impl std::fmt::Display) -> Result<T, String> {
    Err(format!("ziplist: {what} (at byte {at} of the ziplist)"))
}

use super::le;

/// The entries of a ziplist, integers as decimal text.
pub fn entries(zl: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    const HEADER: usize = 10;
    if zl.len() < HEADER + 1 {
        return fail(0, format!("{} bytes is too short", zl.len()));
    }
    let zlbytes = le(&zl[0..4]) as usize;
    let zltail = le(&zl[4..8]) as usize;
    let zllen = le(&zl[8..10]) as usize;
    if zlbytes != zl.len() {
        return fail(
            0,
            format!("header says {zlbytes} bytes, the blob has {}", zl.len()),
        );
    }
    if zl[zl.len() - 1] != 0xff {
        return fail(zl.len() - 1, "no 0xFF terminator");
    }
    let end = zl.len() - 1;
    let mut out = Vec::new();
    let mut pos = HEADER;
    let mut prev_size = 0usize;
    let mut last_start = HEADER;
    while pos < end {
        let start = pos;
        let (prevlen, n) = if zl[pos] < 254 {
            (usize::from(zl[pos]), 1)
        } else if zl[pos] == 254 {
            if pos + 5 > end {
                return fail(pos, "prevlen cut short");
            }
            (le(&zl[pos + 1..pos + 5]) as usize, 5)
        } else {
            return fail(pos, "0xFF before the end");
        };
        if prevlen != prev_size {
            return fail(
                pos,
                format!("prevlen {prevlen}, previous entry is {prev_size} bytes"),
            );
        }
        pos += n;
        if pos >= end {
            return fail(pos, "entry header cut short");
        }
        let enc = zl[pos];
        let need = |pos: usize, k: usize| -> Result<(), String> {
            if pos + k > end {
                fail(pos, "entry passes the end")
            } else {
                Ok(())
            }
        };
        let value: Vec<u8> = match enc >> 6 {
            0 => {
                let len = usize::from(enc & 0x3f);
                pos += 1;
                need(pos, len)?;
                pos += len;
                zl[pos - len..pos].to_vec()
            }
            1 => {
                need(pos, 2)?;
                let len = (usize::from(enc & 0x3f) << 8) | usize::from(zl[pos + 1]);
                pos += 2;
                need(pos, len)?;
                pos += len;
                zl[pos - len..pos].to_vec()
            }
            2 => {
                if enc != 0x80 {
                    return fail(pos, format!("bad string encoding {enc:#04x}"));
                }
                need(pos, 5)?;
                let b = &zl[pos + 1..pos + 5];
                let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                pos += 5;
                need(pos, len)?;
                pos += len;
                zl[pos - len..pos].to_vec()
            }
            _ => {
                let (width, imm) = match enc {
                    0xc0 => (2, None),
                    0xd0 => (4, None),
                    0xe0 => (8, None),
                    0xf0 => (3, None),
                    0xfe => (1, None),
                    0xf1..=0xfd => (0, Some(i64::from(enc & 0x0f) - 1)),
                    _ => return fail(pos, format!("bad integer encoding {enc:#04x}")),
                };
                pos += 1;
                need(pos, width)?;
                let v = match imm {
                    Some(v) => v,
                    None => {
                        let raw = le(&zl[pos..pos + width]);
                        let shift = 64 - 8 * width as u32;
                        ((raw << shift) as i64) >> shift
                    }
                };
                pos += width;
                v.to_string().into_bytes()
            }
        };
        prev_size = pos - start;
        last_start = start;
        out.push(value);
    }
    if zltail != last_start {
        return fail(
            4,
            format!("zltail {zltail}, the last entry starts at {last_start}"),
        );
    }
    if zllen != usize::from(u16::MAX) && zllen != out.len() {
        return fail(8, format!("zllen {zllen}, found {} entries", out.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_small() {
        let empty = [11, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0xff];
        assert_eq!(entries(&empty).unwrap(), Vec::<Vec<u8>>::new());
        // "ab", 5 (immediate), 300 (i16)
        let mut zl = vec![0u8; 10];
        zl.extend_from_slice(&[0, 0x02, b'a', b'b']);
        zl.extend_from_slice(&[4, 0xf6]);
        zl.extend_from_slice(&[2, 0xc0, 0x2c, 0x01]);
        zl.push(0xff);
        let total = zl.len() as u32;
        zl[0..4].copy_from_slice(&total.to_le_bytes());
        zl[4..8].copy_from_slice(&16u32.to_le_bytes());
        zl[8..10].copy_from_slice(&3u16.to_le_bytes());
        assert_eq!(
            entries(&zl).unwrap(),
            vec![b"ab".to_vec(), b"5".to_vec(), b"300".to_vec()]
        );
        for cut in 0..zl.len() {
            assert!(entries(&zl[..cut]).is_err());
        }
        let mut bad = zl.clone();
        bad[15] = 9;
        assert!(entries(&bad).is_err());
    }
}
