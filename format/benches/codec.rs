//! Encode and decode throughput of syscall records with full register
//! snapshots, and bytes per stop on disk when registers barely change.
//! `cargo bench -p ptrec-format --bench codec`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ptrec_format::codec::{ChunkDecoder, ChunkEncoder, Cursors, Decoded};
use ptrec_format::*;
use std::hint::black_box;

/// Alternating enter/exit stops of 4 threads; between stops a few registers
/// change a little, as in a loop of read/write calls.
fn stops(n: usize) -> Vec<Record<'static>> {
    let mut base = Regs::default();
    for (i, w) in base.words_mut().iter_mut().enumerate() {
        *w = 0x7ffd_0000_0000 + (i as u64) * 0x1000;
    }
    let mut threads = [base; 4];
    (0..n)
        .map(|i| {
            let t = i % 4;
            let g = &mut threads[t];
            let enter = (i / 4) % 2 == 0;
            if enter {
                g[x86_64::ORIG_RAX] = if i % 8 < 4 { 0 } else { 1 };
                g[x86_64::RSI] = g[x86_64::RSI].wrapping_add(64);
                g[x86_64::RDX] = 64;
                g[x86_64::RAX] = (-38i64) as u64;
            } else {
                g[x86_64::RAX] = 64;
                g[x86_64::RCX] = g[x86_64::RIP];
                g[x86_64::R11] = 0x246;
            }
            let g = *g;
            let tid = 1000 + t as i32;
            let time = 1_000_000 + i as u64 * 900;
            if enter {
                Record::SyscallEnter {
                    tid,
                    time,
                    stime_us: Some(i as u64 / 50),
                    nr: g.syscall_nr(),
                    args: g.syscall_args(),
                    regs: Some(g),
                    mem: Captures::default(),
                }
            } else {
                Record::SyscallExit {
                    tid,
                    time,
                    stime_us: Some(i as u64 / 50),
                    nr: g.syscall_nr(),
                    ret: g.ret(),
                    regs: Some(g),
                    mem: Captures::default(),
                }
            }
        })
        .collect()
}

fn encode_all(recs: &[Record<'_>], out: &mut Streams) {
    let mut enc = ChunkEncoder::new();
    out.clear();
    for (i, r) in recs.iter().enumerate() {
        // Same chunking as the default Writer: state resets each ~1 MiB.
        if i % 16384 == 0 {
            enc.reset();
        }
        enc.encode(r, out);
    }
}

fn bench(c: &mut Criterion) {
    const N: usize = 16384;
    let recs = stops(N);
    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    let mut out = Streams::default();
    g.bench_function("encode_syscall_stops", |b| {
        b.iter(|| encode_all(black_box(&recs), &mut out))
    });
    encode_all(&recs, &mut out);
    g.bench_function("decode_syscall_stops", |b| {
        b.iter(|| {
            let mut d = ChunkDecoder::new();
            let mut cur = Cursors::new(&out);
            let mut n = 0u64;
            while !cur.is_empty() {
                if let Decoded::Record(r) = d.decode(&mut cur).expect("valid") {
                    n += r.time() & 1;
                }
            }
            black_box(n)
        })
    });
    g.finish();

    // Bytes per stop on disk for 1 M stops whose registers barely change.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.bin");
    let mut w =
        Writer::create(&path, &Header::default(), WriterOptions::default()).expect("create");
    let recs = stops(1_000_000);
    for r in &recs {
        w.write(r).expect("write");
    }
    let st = w.finish().expect("finish");
    println!(
        "1M barely-changing stops: {} bytes on disk = {:.2} bytes/stop ({:.2} encoded bytes/stop before zstd)",
        st.file_bytes,
        st.file_bytes as f64 / 1e6,
        st.uncompressed_bytes as f64 / 1e6
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
