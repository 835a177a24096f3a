//! Glob matching (KEYS, SCAN MATCH, PSUBSCRIBE patterns): Redis' stringmatchlen rules over
//! `key:%08d` subjects, in bytes of subject per second.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringkv::db::glob::glob_match;

fn bench_glob(c: &mut Criterion) {
    let subjects: Vec<Vec<u8>> = (0..1000)
        .map(|n| format!("key:{n:08}").into_bytes())
        .collect();
    let bytes: usize = subjects.iter().map(Vec::len).sum();
    let patterns: &[(&str, &[u8], bool)] = &[
        ("star", b"*", false),
        ("prefix_star", b"key:*", false),
        ("star_suffix", b"*99", false),
        ("classes", b"key:0000[0-4]?[!5]*", false),
        ("two_stars_nocase", b"KEY*0*9", true),
    ];
    let mut group = c.benchmark_group("glob_match");
    group.throughput(Throughput::Bytes(bytes as u64));
    for (name, pattern, nocase) in patterns {
        group.bench_function(*name, |b| {
            b.iter(|| {
                subjects
                    .iter()
                    .filter(|s| glob_match(black_box(pattern), s, *nocase))
                    .count()
            })
        });
    }
    // A pathological pattern: Redis' matcher backtracks on every star.
    let long = vec![b'a'; 64];
    group.throughput(Throughput::Bytes(long.len() as u64));
    group.bench_function("backtracking_a_star_x", |b| {
        b.iter(|| glob_match(black_box(b"*a*a*a*a*a*b"), black_box(&long), false))
    });
    group.finish();
}

criterion_group!(benches, bench_glob);
criterion_main!(benches);
