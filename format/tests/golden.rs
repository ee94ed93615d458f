//! A committed trace written by version 1 must read back to exactly the same
//! values forever. Regenerate (only for a deliberate format change, with a
//! FORMAT_VERSION bump) with `PTREC_REGEN_GOLDEN=1 cargo test -p ptrec-format --test golden`.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns; a panic is the failure report

mod common;

use ptrec_format::*;
use std::path::PathBuf;

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden-v1.bin")
}

#[test]
fn format_version_is_pinned_to_1() {
    assert_eq!(FORMAT_VERSION, 1);
}

#[test]
fn the_golden_v1_trace_reads_back_to_exact_values() {
    let path = golden_path();
    if std::env::var_os("PTREC_REGEN_GOLDEN").is_some() {
        common::write_sample(&path, 3, 512);
    }
    let cb = common::sample_capture();
    let recs = common::sample_records(&cb);
    let t = Trace::open(&path).unwrap();
    assert_eq!(t.version(), 1);
    assert!(t.is_clean());
    assert_eq!(t.header(), &common::sample_header());
    let mut got = Vec::new();
    t.for_each_record(|r| got.push(format!("{r:?}"))).unwrap();
    let want: Vec<String> = (0..3)
        .flat_map(|_| recs.iter().map(|r| format!("{r:?}")))
        .collect();
    assert_eq!(got, want);
    // Typed comparison too, not only Debug text.
    let mut i = 0;
    t.for_each_record(|r| {
        assert_eq!(r, &recs[i % recs.len()]);
        i += 1;
    })
    .unwrap();
    let idx = t.index().unwrap();
    assert_eq!(idx.totals.records, 45);
    assert_eq!(idx.chunks.len(), t.chunks().len());
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PTREC\r\n");
    assert_eq!(&bytes[8..12], &1u32.to_le_bytes());
    assert_eq!(&bytes[bytes.len() - 8..], b"PTRECEND");
}
