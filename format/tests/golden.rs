//! Committed traces written by every version must read back to exactly the
//! same values forever. Regenerate the current version's file (only for a
//! deliberate format change, with a FORMAT_VERSION bump) with
//! `PTREC_REGEN_GOLDEN=1 cargo test -p ptrec-format --test golden`; older
//! versions' files can no longer be written and are never regenerated.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns; a panic is the failure report

mod common;

use ptrec_format::*;
use std::path::PathBuf;

fn golden_path(version: u32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/golden-v{version}.bin"))
}

#[test]
fn format_version_is_pinned_to_2() {
    assert_eq!(FORMAT_VERSION, 2);
}

#[test]
fn the_golden_v1_trace_reads_back_to_exact_values() {
    check_golden(1);
}

#[test]
fn the_golden_v2_trace_reads_back_to_exact_values() {
    let path = golden_path(2);
    if std::env::var_os("PTREC_REGEN_GOLDEN").is_some() {
        common::write_sample(&path, 3, 512);
    }
    check_golden(2);
}

fn check_golden(version: u32) {
    let path = golden_path(version);
    let cb = common::sample_capture();
    let recs = common::sample_records(&cb);
    let t = Trace::open(&path).unwrap();
    assert_eq!(t.version(), version);
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
    assert_eq!(&bytes[8..12], &version.to_le_bytes());
    assert_eq!(&bytes[bytes.len() - 8..], b"PTRECEND");
}
