//! Redis' CRC-64: the Jones polynomial, reflected input and output, initial value 0 and no
//! final xor. An RDB file (version 5 and later) ends with this checksum of every byte before
//! it, and DUMP payloads end with it too.
//!
//! ```text
//! polynomial   0xad93d23594c935a9 (reflected: 0x95ac9329ac4bc9b5)
//! init 0, refin true, refout true, xorout 0
//! check        crc64(0, b"123456789") == 0xe9c6d914c4b8d9ca
//! on disk      8 bytes, little-endian, after the EOF opcode (0 = not computed)
//! ```

/// The reflected Jones polynomial.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

/// Slicing-by-8 tables (as Redis' crcspeed): `TABLES[0]` is the byte-at-a-time table,
/// `TABLES[k][b]` the CRC of byte `b` followed by `k` zero bytes, so eight bytes are folded
/// in with eight independent look-ups instead of eight dependent ones.
const fn make_tables() -> [[u64; 256]; 8] {
    let mut tables = [[0u64; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        tables[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = tables[k - 1][i];
            tables[k][i] = tables[0][(prev & 0xff) as usize] ^ (prev >> 8);
            i += 1;
        }
        k += 1;
    }
    tables
}

static TABLES: [[u64; 256]; 8] = make_tables();

/// Continues the checksum `crc` over `bytes` (start with 0).
pub fn crc64(mut crc: u64, bytes: &[u8]) -> u64 {
    let t = &TABLES;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = crc ^ u64::from_le_bytes(w);
        crc = t[7][(x & 0xff) as usize]
            ^ t[6][((x >> 8) & 0xff) as usize]
            ^ t[5][((x >> 16) & 0xff) as usize]
            ^ t[4][((x >> 24) & 0xff) as usize]
            ^ t[3][((x >> 32) & 0xff) as usize]
            ^ t[2][((x >> 40) & 0xff) as usize]
            ^ t[1][((x >> 48) & 0xff) as usize]
            ^ t[0][(x >> 56) as usize];
    }
    for &b in words.remainder() {
        crc = t[0][((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// An incremental CRC-64 for data that arrives in pieces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Crc64 {
    state: u64,
}

impl Crc64 {
    pub fn new() -> Crc64 {
        Crc64 { state: 0 }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.state = crc64(self.state, bytes);
    }

    /// The checksum of everything given so far.
    pub fn value(&self) -> u64 {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_test_vectors() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64(0, b""), 0);
    }

    /// The byte-at-a-time definition the sliced tables must agree with, at every length
    /// and alignment (the 8-byte loop and the tail both exercised).
    #[test]
    fn sliced_matches_bitwise_definition() {
        fn bitwise(mut crc: u64, bytes: &[u8]) -> u64 {
            for &b in bytes {
                crc ^= u64::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 {
                        (crc >> 1) ^ POLY_REFLECTED
                    } else {
                        crc >> 1
                    };
                }
            }
            crc
        }
        let data: Vec<u8> = (0..300u32).map(|i| (i * 131 + 17) as u8).collect();
        for start in 0..9 {
            for end in start..data.len() {
                let part = &data[start..end];
                assert_eq!(crc64(0x1234, part), bitwise(0x1234, part), "{start}..{end}");
            }
        }
    }

    #[test]
    fn incremental_matches_one_shot() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut c = Crc64::new();
        for chunk in data.chunks(37) {
            c.update(chunk);
        }
        assert_eq!(c.value(), crc64(0, &data));
    }
}
