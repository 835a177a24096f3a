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

const fn make_table() -> [u64; 256] {
    let mut table = [0u64; 256];
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
        table[i] = crc;
        i += 1;
    }
    table
}

static TABLE: [u64; 256] = make_table();

/// Continues the checksum `crc` over `bytes` (start with 0).
pub fn crc64(mut crc: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        crc = TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
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
