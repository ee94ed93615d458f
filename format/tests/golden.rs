//! Committed traces written by every version must read back to exactly the
//! same values forever. Regenerate the current version's files (only for a
//! deliberate format change, with a FORMAT_VERSION bump) with
//! `PTREC_REGEN_GOLDEN=1 cargo test -p ptrec-format --test tests golden`;
//! older versions' files can no longer be written and are never regenerated.

use crate::helpers as common;

use ptrec_format::*;
use std::path::PathBuf;

fn golden_path(version: u32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/golden-v{version}.bin"))
}

fn regen() -> bool {
    std::env::var_os("PTREC_REGEN_GOLDEN").is_some()
}

#[test]
fn format_version_is_pinned_to_3() {
    assert_eq!(FORMAT_VERSION, 3);
}

#[test]
fn the_golden_v1_trace_reads_back_to_exact_values() {
    check_golden(1);
}

#[test]
fn the_golden_v2_trace_reads_back_to_exact_values() {
    check_golden(2);
}

#[test]
fn the_golden_v3_trace_reads_back_to_exact_values() {
    if regen() {
        common::write_sample(&golden_path(3), 3, 512);
    }
    check_golden(3);
}

#[test]
fn todays_writer_writes_the_committed_golden_file_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.bin");
    common::write_sample(&path, 3, 512);
    let want = std::fs::read(golden_path(FORMAT_VERSION)).unwrap();
    assert!(std::fs::read(&path).unwrap() == want, "an encoding change");
}

#[test]
fn the_trace_id_is_stable_per_file_and_differs_between_recordings() {
    let ids: Vec<TraceId> = (1..=3)
        .map(|v| Trace::open(golden_path(v)).unwrap().header().trace_id())
        .collect();
    // v1 and v2 hold the same header (no nonce): the derived id is the same
    // hash of the same fields, and it is pinned so that it never changes.
    assert_eq!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    assert_eq!(ids[0].to_string().len(), 32);
    assert_eq!(ids[0], common::sample_header_of(2).trace_id());
    assert_eq!(ids[0].to_string(), "5fa707204ca9d39bbdac9ff22bb30a37");
    let mut h = common::sample_header();
    h.nonce[0] ^= 1;
    assert_ne!(h.trace_id(), ids[2]);
    let (a, b) = (TraceId::random().unwrap(), TraceId::random().unwrap());
    assert_ne!(a, b);
}

fn check_golden(version: u32) {
    let path = golden_path(version);
    let cb = common::sample_capture_of(version);
    let recs = common::sample_records_of(version, &cb);
    let t = Trace::open(&path).unwrap();
    assert_eq!(t.version(), version);
    assert!(t.is_clean());
    assert_eq!(t.header(), &common::sample_header_of(version));
    let mut got = Vec::new();
    t.for_each_record(|r| got.push(format!("{r:?}"))).unwrap();
    let want: Vec<String> = (0..3)
        .flat_map(|_| recs.iter().map(|r| format!("{r:?}")))
        .collect();
    assert_eq!(got, want);
    // Typed comparison too, not only Debug text, and through the owned form.
    let mut i = 0;
    t.for_each_record(|r| {
        assert_eq!(r, &recs[i % recs.len()]);
        assert_eq!(&r.to_owned().as_record(), r);
        i += 1;
    })
    .unwrap();
    let idx = t.index().unwrap();
    assert_eq!(idx.totals.records, 3 * recs.len() as u64);
    assert_eq!(idx.chunks.len(), t.chunks().len());
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PTREC\r\n");
    assert_eq!(&bytes[8..12], &version.to_le_bytes());
    assert_eq!(&bytes[bytes.len() - 8..], b"PTRECEND");
}

/// The writer's decompressed streams for the sample records, chunk by
/// chunk: `len(events) len(times) len(detail)` (u32 LE each), then the three.
fn stream_bytes() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.bin");
    let cb = common::sample_capture();
    let opts = WriterOptions {
        time_unit_ns: 100,
        ..Default::default()
    };
    let mut w = Writer::create(&path, &common::sample_header(), opts).unwrap();
    for r in common::sample_records(&cb) {
        w.write(&r).unwrap();
    }
    w.finish().unwrap();
    let t = Trace::open(&path).unwrap();
    // The sample's u64::MAX time seals a chunk (flush interval).
    assert_eq!(t.chunks().len(), 2);
    assert_eq!(t.version(), FORMAT_VERSION);
    let mut out = Vec::new();
    for i in 0..t.chunks().len() {
        let d = t.read_chunk(i).unwrap();
        let s = &d.streams;
        for part in [&s.events, &s.times, &s.detail] {
            out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        }
        for part in [&s.events, &s.times, &s.detail] {
            out.extend_from_slice(part);
        }
    }
    out
}

#[test]
fn the_writer_encodes_the_sample_records_to_the_committed_stream_bytes() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/data/streams-v{FORMAT_VERSION}.bin"));
    let got = stream_bytes();
    if regen() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read(&path).unwrap();
    // The first chunk's stream lengths first, for a message that says where.
    let len = |b: &[u8], i: usize| u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap());
    for (i, name) in ["events", "times", "detail"].iter().enumerate() {
        assert_eq!(
            len(&got, i),
            len(&want, i),
            "{name} stream length of chunk 0"
        );
    }
    assert_eq!(
        got, want,
        "an encoding change: bump FORMAT_VERSION or fix it"
    );
}
