//! The keyspace through its public API only (`Keyspace::lock` + `KeyGuard::set`/`get`), so
//! these numbers stay comparable while the entry layout behind it changes: SET and GET of
//! `key:%08d` -> 16-byte values over 100,000 keys, and one active expiry cycle.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ringkv::db::expire::{run_cycle, Rng};
use ringkv::db::{Keyspace, Value};

const KEYS: usize = 100_000;
/// Operations per timed iteration (keys visited in a scattered order, like -r 100000).
const OPS: usize = 1024;

fn keys() -> Vec<Vec<u8>> {
    (0..KEYS)
        .map(|n| format!("key:{n:08}").into_bytes())
        .collect()
}

/// Indexes that jump around the keyspace (a fixed stride coprime to KEYS).
fn scattered(start: usize) -> impl Iterator<Item = usize> {
    (0..OPS).map(move |i| (start + i * 7919) % KEYS)
}

fn filled(keys: &[Vec<u8>], value: &Bytes, ttl_ms: Option<i64>) -> Keyspace {
    let ks = Keyspace::new(16);
    let now = ringkv::db::now_ms();
    for key in keys {
        let mut guard = ks.lock(0, key);
        let pos = guard.set(Value::string(value), false, now);
        if let Some(ttl) = ttl_ms {
            guard.set_expiry(pos, Some(now + ttl));
        }
    }
    ks
}

fn bench_get_set(c: &mut Criterion) {
    let keys = keys();
    let value = Bytes::from_static(b"0123456789abcdef");
    let ks = filled(&keys, &value, None);
    let now = ringkv::db::now_ms();
    let mut group = c.benchmark_group("keyspace");
    group.throughput(Throughput::Elements(OPS as u64));
    let mut start = 0;
    group.bench_function("get_hit_100k", |b| {
        b.iter(|| {
            start = (start + OPS) % KEYS;
            let mut hits = 0;
            for i in scattered(start) {
                hits += ks.lock(0, &keys[i]).get(now).is_some() as usize;
            }
            black_box(hits)
        })
    });
    group.bench_function("get_miss", |b| {
        let missing: Vec<Vec<u8>> = (0..OPS)
            .map(|n| format!("nokey:{n:06}").into_bytes())
            .collect();
        b.iter(|| {
            let mut hits = 0;
            for key in &missing {
                hits += ks.lock(0, key).get(now).is_some() as usize;
            }
            black_box(hits)
        })
    });
    group.bench_function("set_overwrite_100k", |b| {
        b.iter(|| {
            start = (start + OPS) % KEYS;
            for i in scattered(start) {
                black_box(ks.lock(0, &keys[i]).set(Value::string(&value), false, now));
            }
        })
    });
    group.finish();
}

fn bench_expire_cycle(c: &mut Criterion) {
    let keys = keys();
    let value = Bytes::from_static(b"0123456789abcdef");
    let mut group = c.benchmark_group("expire_cycle");
    group.sample_size(10);
    // Every key has a TTL and none is due: one cycle samples each shard once and stops.
    let ks = filled(&keys, &value, Some(3_600_000));
    let mut rng = Rng::seeded();
    group.bench_function("100k_volatile_none_due", |b| {
        b.iter(|| {
            let deadline = Instant::now() + Duration::from_secs(1);
            black_box(run_cycle(&ks, ringkv::db::now_ms(), deadline, &mut rng))
        })
    });
    // Every key is due: one cycle deletes until the shards are empty (the worst case for
    // the cycle, bounded by Redis' 25 ms budget in the server; unbounded here).
    group.throughput(Throughput::Elements(KEYS as u64));
    group.bench_function("100k_all_due", |b| {
        b.iter_batched(
            || filled(&keys, &value, Some(1)),
            |ks| {
                let later = ringkv::db::now_ms() + 10;
                let deadline = Instant::now() + Duration::from_secs(60);
                let report = run_cycle(&ks, later, deadline, &mut rng);
                assert_eq!(report.expired, KEYS as u64);
                ks // dropped outside the timing
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_get_set, bench_expire_cycle);
criterion_main!(benches);
