//! DUMP / RESTORE payloads (Redis cluster.c createDumpPayload / verifyDumpPayload): one
//! value in RDB form, the RDB version it was written with, and a CRC-64 of both.
//!
//! ```text
//! <type u8> <value>  <RDB version u16 LE>  <CRC-64 LE of everything before it>
//! ```

use std::io;

use super::crc64::crc64;
use super::load::read_typed_value;
use super::model::RdbValue;
use super::save::{Encoding, Value, Writer, RDB_VERSION};

/// Why a payload is refused; RESTORE words each as Redis does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Too short, written by a newer RDB version, or a wrong checksum.
    VersionOrChecksum,
    /// The footer is fine but the value does not decode.
    BadData(String),
}

impl PayloadError {
    /// The error reply RESTORE sends.
    pub fn message(&self) -> &'static str {
        match self {
            PayloadError::VersionOrChecksum => "ERR DUMP payload version or checksum are wrong",
            PayloadError::BadData(_) => "ERR Bad data format",
        }
    }
}

/// A payload of the value `write` writes (with `enc`'s encodings and compression).
pub fn encode(
    enc: &Encoding,
    write: impl FnOnce(Value<'_, Vec<u8>>) -> io::Result<()>,
) -> io::Result<Vec<u8>> {
    let mut w = Writer::new(Vec::new(), enc.clone());
    write(w.value())?;
    let mut payload = w.into_inner();
    payload.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = crc64(0, &payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    Ok(payload)
}

/// The value a payload holds, after checking its footer: a version up to ours (10) and
/// the checksum. Bytes between the value and the footer are ignored, as Redis ignores them.
pub fn decode(payload: &[u8]) -> Result<RdbValue, PayloadError> {
    if payload.len() < 10 {
        return Err(PayloadError::VersionOrChecksum);
    }
    let (body, crc) = payload.split_at(payload.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    if u32::from(version) > RDB_VERSION || crc64(0, body).to_le_bytes() != crc {
        return Err(PayloadError::VersionOrChecksum);
    }
    read_typed_value(&body[..body.len() - 2]).map_err(|e| PayloadError::BadData(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_match_redis_bytes() {
        // What redis-server 7.0.15 answers to `SET k hello` + `DUMP k`.
        let redis = b"\x00\x05hello\x0a\x00cr\xdfve4 \n";
        let ours = encode(&Encoding::default(), |v| v.string(b"hello")).unwrap();
        assert_eq!(ours, redis);
        assert_eq!(decode(redis), Ok(RdbValue::String(b"hello".to_vec())));
    }

    #[test]
    fn bad_footers_and_bodies_are_refused() {
        let good = encode(&Encoding::default(), |v| v.string(b"hello")).unwrap();
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(decode(&flipped), Err(PayloadError::VersionOrChecksum));
        assert_eq!(decode(&good[..9]), Err(PayloadError::VersionOrChecksum));
        // Version 11, with a checksum that matches it.
        let mut newer = good[..good.len() - 10].to_vec();
        newer.extend_from_slice(&11u16.to_le_bytes());
        let crc = crc64(0, &newer);
        newer.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(decode(&newer), Err(PayloadError::VersionOrChecksum));
        // A sound footer around a value that is cut short.
        let mut cut = vec![0u8, 0x05, b'h'];
        cut.extend_from_slice(&10u16.to_le_bytes());
        let crc = crc64(0, &cut);
        cut.extend_from_slice(&crc.to_le_bytes());
        assert!(matches!(decode(&cut), Err(PayloadError::BadData(_))));
    }
}
