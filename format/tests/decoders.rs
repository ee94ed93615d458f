//! The record decoders fed hostile streams directly, past the checksums and
//! zstd that stop random bytes at the framing: what the `decode_records`
//! fuzz target does (tools/fuzz), a few thousand times in every CI run.

use crate::helpers::{self as common, peak_alloc, Rng};

use ptrec_format::codec::decode_streams;
use ptrec_format::*;
use std::path::PathBuf;

/// The decompressed streams of every chunk of a golden file.
fn golden_streams(version: u32) -> Vec<Streams> {
    golden_streams_of(&format!("golden-v{version}.bin"))
}

fn golden_streams_of(name: &str) -> Vec<Streams> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let t = Trace::open(path).unwrap();
    (0..t.chunks().len())
        .map(|i| t.read_chunk(i).unwrap().streams)
        .collect()
}

/// Decoder state that is fixed in size (the call-site table: ~230 KiB for
/// x86_64, ~290 KiB for aarch64)
/// plus what the input can justify: a thread slot (~250 bytes) costs at
/// least two bytes of input, a list element at least one.
fn bound(input: usize) -> usize {
    (512 << 10) + 256 * input
}

fn mutate(rng: &mut Rng, v: &mut Vec<u8>) {
    if v.is_empty() {
        v.push(rng.next() as u8);
        return;
    }
    let i = rng.below(v.len());
    match rng.below(6) {
        0 => v[i] ^= 1 << rng.below(8),
        1 => v[i] = rng.next() as u8,
        // A hostile varint: the u64 marker and all ones.
        2 => v
            .splice(i..i, [253, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
            .for_each(drop),
        3 => v.truncate(i),
        4 => v.insert(i, [250, 251, 252, 253, 254, 255][rng.below(6)]),
        _ => {
            let n = rng.below(16).min(v.len() - i);
            v.drain(i..i + n);
        }
    }
}

#[test]
fn the_golden_streams_decode_in_full_through_the_fuzzing_entry_point() {
    for version in 1..=FORMAT_VERSION {
        let cb = common::sample_capture_of(version);
        let per_round = common::sample_records_of(version, &cb).len() as u64;
        let mut records = 0;
        for s in golden_streams(version) {
            // The golden files were written with a time unit of 1 ns.
            let r = decode_streams(
                version,
                1,
                Some(RegLayout::X86_64),
                &s.events,
                &s.times,
                &s.detail,
            );
            assert_eq!(r.error, None, "v{version}");
            assert_eq!(r.skimmed, r.records, "v{version}");
            records += r.records;
        }
        assert_eq!(records, 3 * per_round, "v{version}");
    }
}

#[test]
fn thousands_of_mutated_streams_never_panic_and_allocate_in_proportion_to_their_size() {
    let x86 = Some(RegLayout::X86_64);
    let mut bases: Vec<(u32, Option<RegLayout>, Streams)> = (1..=FORMAT_VERSION)
        .flat_map(|v| golden_streams(v).into_iter().map(move |s| (v, x86, s)))
        .collect();
    for s in golden_streams_of("golden-aarch64.bin") {
        bases.push((3, Some(RegLayout::Aarch64), s.clone()));
        // The same bytes read as x86_64 and as a layout nobody knows.
        bases.push((3, x86, s.clone()));
        bases.push((3, None, s));
    }
    let mut rng = Rng(0xdec0_de00_5eed_0002);
    let mut errors = 0;
    for round in 0..4000 {
        let (version, layout, base) = &bases[rng.below(bases.len())];
        let mut s = base.clone();
        for _ in 0..1 + rng.below(4) {
            let which = match rng.below(3) {
                0 => &mut s.events,
                1 => &mut s.times,
                _ => &mut s.detail,
            };
            mutate(&mut rng, which);
        }
        let size = s.len();
        let (r, peak) =
            peak_alloc(|| decode_streams(*version, 1000, *layout, &s.events, &s.times, &s.detail));
        assert!(
            peak <= bound(size),
            "round {round}: {peak} bytes for {size} of input"
        );
        assert!(r.records <= s.events.len() as u64 + 1, "round {round}");
        errors += usize::from(r.error.is_some());
    }
    // The mutations reach the decoders' error paths, not only the happy one.
    assert!(errors > 1000, "{errors}");
}

#[test]
fn random_bytes_as_every_stream_never_panic_and_allocate_in_proportion() {
    let mut rng = Rng(0x0bad_f00d_0000_0003);
    for round in 0..2000 {
        let mut streams: Vec<Vec<u8>> = (0..3)
            .map(|_| (0..rng.below(300)).map(|_| rng.next() as u8).collect())
            .collect();
        // Mostly plausible kinds at the start of records.
        if let Some(b) = streams[0].first_mut() {
            *b = 1 + (*b % 14);
        }
        let version = 1 + (round % 3) as u32;
        let size: usize = streams.iter().map(Vec::len).sum();
        let (r, peak) = peak_alloc(|| {
            decode_streams(
                version,
                1,
                Some(RegLayout::X86_64),
                &streams[0],
                &streams[1],
                &streams[2],
            )
        });
        assert!(
            peak <= bound(size),
            "round {round}: {peak} bytes for {size}"
        );
        assert!(r.skimmed <= streams[0].len() as u64);
    }
}

#[test]
fn a_huge_announced_count_allocates_nothing_it_cannot_back() {
    // An exec whose argc and a capture list whose count claim billions.
    let mut body = vec![0u8, 0]; // former_tid 0, empty filename
    body.extend([253, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]); // argc ~4e9
    let mut events = vec![Kind::Exec as u8, 0, 2]; // kind, slot 0, tid 1
    events.push(body.len() as u8);
    events.extend(&body);
    let (r, peak) =
        peak_alloc(|| decode_streams(3, 1, Some(RegLayout::X86_64), &events, &[0], &[]));
    assert!(r.error.is_some());
    assert!(peak <= bound(events.len()), "{peak}");
    // The measurement itself sees allocations (so the bounds above can fail).
    let (v, peak) = peak_alloc(|| vec![1u8; 1 << 20]);
    assert!(peak >= v.len());
}

/// Found by `cargo fuzz run decode_records` in its first minute: redacted
/// captures whose lengths add up past u64::MAX made the capture total
/// overflow (a panic in a debug build).
#[test]
fn redacted_lengths_near_u64_max_do_not_overflow_the_capture_total() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-redacted-len-overflow.bin");
    let data = std::fs::read(path).unwrap();
    // The fuzz target's input form: version and layout byte, two lengths.
    let ev = usize::from(u16::from_le_bytes([data[1], data[2]]));
    let tm = usize::from(u16::from_le_bytes([data[3], data[4]]));
    let rest = &data[5..];
    let (events, rest) = rest.split_at(ev.min(rest.len()));
    let (times, detail) = rest.split_at(tm.min(rest.len()));
    let r = decode_streams(3, 1, Some(RegLayout::Aarch64), events, times, detail);
    assert_eq!(r.capture_bytes, u64::MAX);
    // And directly: two captures of u64::MAX / 2 + 1 redacted bytes each.
    let mut cb = CaptureBuf::new();
    cb.push_redacted(1, 0, 0, b"x", u64::MAX);
    cb.push_redacted(2, 0, 0, b"", u64::MAX / 2);
    assert_eq!(
        cb.iter().map(|m| m.len()).collect::<Vec<_>>(),
        [u64::MAX, u64::MAX / 2]
    );
}
