//! Reply encoding: the replies a SET/GET batch produces, and a long array as KEYS or
//! LRANGE produce it, appended to one reply buffer the way a connection fills it.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringkv::resp::Reply;

fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("reply_encode");
    let value = [b'v'; 16];

    // 128 replies of a SET/GET pipeline: +OK and 16-byte bulks, alternating.
    group.throughput(Throughput::Elements(128));
    group.bench_function("set_get_128", |b| {
        let mut reply = Reply::new();
        b.iter(|| {
            reply.buf.clear();
            for n in 0..128 {
                if n % 2 == 0 {
                    reply.ok();
                } else {
                    reply.bulk(black_box(&value));
                }
            }
            black_box(reply.len())
        })
    });

    // Integers (INCR, DEL, EXISTS): the number formatting path.
    group.bench_function("int_128", |b| {
        let mut reply = Reply::new();
        b.iter(|| {
            reply.buf.clear();
            for n in 0..128i64 {
                reply.int(black_box(n * 7919 - 500_000));
            }
            black_box(reply.len())
        })
    });

    // A 1000-element array of 12-byte keys.
    let keys: Vec<Vec<u8>> = (0..1000)
        .map(|n| format!("key:{n:08}").into_bytes())
        .collect();
    group.throughput(Throughput::Elements(keys.len() as u64));
    group.bench_function("bulk_array_1000", |b| {
        let mut reply = Reply::new();
        b.iter(|| {
            reply.buf.clear();
            reply.bulk_array(black_box(&keys));
            black_box(reply.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_encode);
criterion_main!(benches);
