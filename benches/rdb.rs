//! RDB save and load of 1M `key:%08d` -> 16-byte string keys: the writer into memory, the
//! decoder from memory (owned items), the whole load into a fresh keyspace (the start-up
//! path: borrowed items, RESIZEDB pre-sizing), and a SAVE/BGSAVE snapshot of such a
//! keyspace: the pause (every shard locked while it is marked) and the whole copy (the
//! marking plus every shard copied, one lock at a time).

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::BatchSize;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringkv::db::{Keyspace, Value};
use ringkv::persist::snapshot::Snapshot;
use ringkv::rdb::into_keyspace::{into_keyspace, Options};
use ringkv::rdb::load;
use ringkv::rdb::save::{AuxInfo, Encoding, KeyMeta, Writer};

const KEYS: usize = 1_000_000;

fn data() -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..KEYS)
        .map(|n| {
            (
                format!("key:{n:08}").into_bytes(),
                format!("value-{n:010}").into_bytes(),
            )
        })
        .collect()
}

fn save(data: &[(Vec<u8>, Vec<u8>)], out: Vec<u8>) -> Vec<u8> {
    let mut w = Writer::new(out, Encoding::default());
    w.header().unwrap();
    w.aux_fields(AuxInfo {
        ctime: 0,
        used_mem: 0,
    })
    .unwrap();
    w.select_db(0).unwrap();
    w.resize_db(data.len() as u64, 0).unwrap();
    for (key, value) in data {
        w.key(key, KeyMeta::default())
            .unwrap()
            .string(value)
            .unwrap();
    }
    w.finish().unwrap()
}

fn bench(c: &mut Criterion) {
    let data = data();
    assert_eq!(data[0].1.len(), 16);
    let file = save(&data, Vec::new());
    let mut group = c.benchmark_group("rdb_1m_strings");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(KEYS as u64));
    group.bench_function("save", |b| {
        b.iter(|| black_box(save(&data, Vec::with_capacity(file.len()))).len())
    });
    group.bench_function("load", |b| {
        b.iter(|| {
            let mut n = 0u64;
            load(file.as_slice(), |item| {
                n += u64::from(matches!(item, ringkv::rdb::Item::Key { .. }));
                Ok::<(), Infallible>(())
            })
            .unwrap();
            black_box(n)
        })
    });
    let options = Options {
        now_ms: 0,
        drop_expired: true,
        hash: ringkv::db::hash::Limits::new(128, 64),
        zset: ringkv::db::hash::Limits::new(128, 64),
    };
    group.bench_function("into_keyspace", |b| {
        b.iter_batched(
            || Keyspace::new(16),
            |ks| {
                let loaded = into_keyspace(file.as_slice(), &ks, &options).unwrap();
                // The keyspace is dropped outside the timing.
                (black_box(loaded.keys_loaded), ks)
            },
            BatchSize::PerIteration,
        )
    });
    let ks = Keyspace::new(16);
    let now = ringkv::db::now_ms();
    for (key, value) in &data {
        ks.lock(0, key)
            .set(Value::string(&Bytes::copy_from_slice(value)), false, now);
    }
    group.bench_function("snapshot_pause", |b| {
        b.iter(|| black_box(Snapshot::mark(&ks, || ()).0).pause())
    });
    group.bench_function("snapshot_copy", |b| {
        b.iter(|| black_box(Snapshot::take(&ks)).keys())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
