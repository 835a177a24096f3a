//! Feeds arbitrary bytes to the RDB decoder and checks that it never panics, that an error
//! names an offset inside the input, and that a success read no more than the input holds;
//! then to the keyspace loader (small listpack limits, so both encodings of hashes and
//! sorted sets are built), which must not panic either and must agree on the key count.
//!
//! Half the runs get a valid header and a recomputed checksum spliced on (chosen by the
//! input's first byte), so mutations reach the value decoders instead of dying at the
//! signature or the CRC.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringkv::db::hash::Limits;
use ringkv::db::Keyspace;
use ringkv::rdb::crc64::crc64;
use ringkv::rdb::into_keyspace::Options;
use ringkv::rdb::{into_keyspace, load, Item};

fn run(data: &[u8]) {
    let mut keys = 0u64;
    match load(data, |item| {
        if matches!(item, Item::Key { .. }) {
            keys += 1;
        }
        Ok::<(), String>(())
    }) {
        Ok(summary) => {
            assert!(summary.bytes <= data.len() as u64);
            assert_eq!(summary.keys, keys);
            let options = Options {
                now_ms: 0,
                drop_expired: false,
                hash: Limits::new(4, 16),
                zset: Limits::new(4, 16),
            };
            if let Ok(loaded) = into_keyspace(data, &Keyspace::new(2), &options) {
                assert_eq!(loaded.keys_loaded + loaded.empty_keys_skipped, keys);
            }
        }
        Err(error) => {
            assert!(error.offset <= data.len() as u64, "{error}");
            assert!(error.to_string().starts_with("RDB error at byte "));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    run(data);
    if let Some((&mode, body)) = data.split_first() {
        if mode & 1 == 1 {
            let mut file = b"REDIS0011".to_vec();
            file.extend_from_slice(body);
            file.push(0xff);
            let crc = crc64(0, &file);
            file.extend_from_slice(&crc.to_le_bytes());
            run(&file);
        }
    }
});
