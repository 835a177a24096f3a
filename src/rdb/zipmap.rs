//! Zipmap, the encoding of small hashes in RDB files written by Redis before 2.6 (RDB type
//! 9). Lengths, free space and the terminator are checked.
//!
//! ```text
//! <zmlen u8> (<len> <field> <len> <free u8> <value> <free bytes>)* <0xFF>
//!   len: 1 byte if < 254, else 254 and a u32 LE; zmlen 254+ means "count them"
//! ```

use super::model::Pairs;

fn fail<T>(at: usize, what: impl std::fmt::Display) -> Result<T, String> {
    Err(format!("zipmap: {what} (at byte {at} of the zipmap)"))
}

/// The field/value pairs of a zipmap.
pub fn pairs(zm: &[u8]) -> Result<Pairs, String> {
    if zm.len() < 2 {
        return fail(0, "too short");
    }
    let declared = usize::from(zm[0]);
    let mut pos = 1;
    let mut out = Vec::new();
    let read_len = |pos: &mut usize| -> Result<Option<usize>, String> {
        match zm.get(*pos) {
            None => fail(*pos, "cut short"),
            Some(0xff) => Ok(None),
            Some(&b) if b < 254 => {
                *pos += 1;
                Ok(Some(usize::from(b)))
            }
            Some(254) => {
                let Some(raw) = zm.get(*pos + 1..*pos + 5) else {
                    return fail(*pos, "length cut short");
                };
                *pos += 5;
                Ok(Some(
                    u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize
                ))
            }
            Some(_) => fail(*pos, "bad length byte 253"),
        }
    };
    let take = |pos: &mut usize, len: usize| -> Result<Vec<u8>, String> {
        match zm.get(*pos..pos.saturating_add(len)) {
            Some(bytes) => {
                *pos += len;
                Ok(bytes.to_vec())
            }
            None => fail(*pos, "string passes the end"),
        }
    };
    while let Some(flen) = read_len(&mut pos)? {
        let field = take(&mut pos, flen)?;
        let Some(vlen) = read_len(&mut pos)? else {
            return fail(pos, "field without a value");
        };
        let Some(&free) = zm.get(pos) else {
            return fail(pos, "cut short");
        };
        pos += 1;
        let value = take(&mut pos, vlen)?;
        take(&mut pos, usize::from(free))?;
        out.push((field, value));
    }
    if pos != zm.len() - 1 {
        return fail(pos, "bytes after the terminator");
    }
    if declared < 254 && declared != out.len() {
        return fail(0, format!("zmlen {declared}, found {} pairs", out.len()));
    }
    Ok(out)
}
