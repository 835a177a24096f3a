//! Intset, the encoding of small all-integer sets (RDB type 11). The header, the size and
//! the strictly ascending order are checked; members come back as decimal text.
//!
//! ```text
//! <encoding u32 LE: 2, 4 or 8> <length u32 LE> <length integers of that width, LE, ascending>
//! ```

/// The members of an intset, as decimal text.
pub fn members(blob: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if blob.len() < 8 {
        return Err(format!("intset: {} bytes is too short", blob.len()));
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as u64;
    if !matches!(width, 2 | 4 | 8) {
        return Err(format!("intset: bad encoding {width}"));
    }
    if count * width as u64 + 8 != blob.len() as u64 {
        return Err(format!(
            "intset: {count} members of {width} bytes do not fill {} bytes",
            blob.len()
        ));
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut prev: Option<i64> = None;
    for chunk in blob[8..].chunks_exact(width) {
        let v = match width {
            2 => i64::from(i16::from_le_bytes([chunk[0], chunk[1]])),
            4 => i64::from(i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])),
            _ => i64::from_le_bytes(chunk.try_into().expect("8 bytes")),
        };
        if prev.is_some_and(|p| p >= v) {
            return Err("intset: members not in ascending order".into());
        }
        prev = Some(v);
        out.push(v.to_string().into_bytes());
    }
    Ok(out)
}

/// An intset of `members` (ascending, distinct), in the narrowest width that holds them all.
pub fn encode(members: &[i64], out: &mut Vec<u8>) {
    let width: usize = match (members.first(), members.last()) {
        (Some(&lo), Some(&hi)) if lo < i64::from(i32::MIN) || hi > i64::from(i32::MAX) => 8,
        (Some(&lo), Some(&hi)) if lo < i64::from(i16::MIN) || hi > i64::from(i16::MAX) => 4,
        _ => 2,
    };
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for &v in members {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
}
