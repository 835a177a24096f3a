//! Request parsing throughput: pipelined batches of SET/GET as clients send them (multibulk),
//! and the same commands inline (as typed into telnet).
//!
//! Each iteration parses a fresh copy of the batch (the copy is made outside the timing) until
//! the buffer is empty, the way a connection drains one read.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ringkv::resp::parse::{ParseLimits, RequestParser};

/// `count` commands alternating `SET key:NNNNNNNN <16-byte value>` and `GET key:NNNNNNNN`.
fn commands(count: usize) -> Vec<Vec<String>> {
    (0..count)
        .map(|n| {
            let key = format!("key:{:08}", n / 2);
            if n % 2 == 0 {
                vec!["SET".into(), key, format!("value-{:010}", n / 2)]
            } else {
                vec!["GET".into(), key]
            }
        })
        .collect()
}

fn multibulk_batch(count: usize) -> Vec<u8> {
    let mut batch = Vec::new();
    for command in commands(count) {
        batch.extend_from_slice(format!("*{}\r\n", command.len()).as_bytes());
        for arg in command {
            batch.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
    }
    batch
}

fn inline_batch(count: usize) -> Vec<u8> {
    let mut batch = Vec::new();
    for command in commands(count) {
        batch.extend_from_slice(command.join(" ").as_bytes());
        batch.extend_from_slice(b"\r\n");
    }
    batch
}

/// Parses every command in `buf`; returns how many there were.
fn drain(parser: &mut RequestParser, buf: &mut BytesMut, argv: &mut Vec<Bytes>) -> usize {
    let limits = ParseLimits::default();
    let mut parsed = 0;
    while let Ok(true) = parser.parse(buf, &limits, argv) {
        black_box(&argv);
        parsed += 1;
    }
    parsed
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("resp_parse");
    let batches = [
        ("multibulk_16", multibulk_batch(16), 16),
        ("multibulk_128", multibulk_batch(128), 128),
        ("inline_128", inline_batch(128), 128),
    ];
    for (name, batch, count) in batches {
        group.throughput(Throughput::Bytes(batch.len() as u64));
        let (mut parser, mut argv) = (RequestParser::new(), Vec::new());
        group.bench_function(name, |b| {
            b.iter_batched(
                || BytesMut::from(&batch[..]),
                |mut buf| {
                    assert_eq!(drain(&mut parser, &mut buf, &mut argv), count);
                    buf // dropped outside the timing
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
