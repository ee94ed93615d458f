//! Damaged files: every cut, every bit flip and thousands of random mutations
//! give complete chunks, a report or a clear error, and never a panic.

use crate::helpers as common;

use ptrec_format::chunk::{self, Item};
use ptrec_format::*;

/// Per chunk: (start offset, end offset, records up to its end).
type Spans = Vec<(u64, u64, usize)>;

fn sample_bytes() -> (Vec<u8>, Vec<String>, Spans) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    let expect = common::write_sample(&path, 4, 256);
    let t = Trace::open(&path).unwrap();
    assert!(t.is_clean());
    assert!(t.chunks().len() >= 3, "want several chunks");
    // (start, end, records before the end of this chunk)
    let mut spans = Vec::new();
    let mut n = 0;
    for c in t.chunks() {
        n += c.header.record_count as usize;
        spans.push((
            c.offset,
            c.offset + 48 + u64::from(c.header.compressed_len),
            n,
        ));
    }
    (std::fs::read(&path).unwrap(), expect, spans)
}

#[test]
fn truncation_at_every_byte_returns_every_complete_chunk_and_reports_the_cut() {
    let (bytes, expect, spans) = sample_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.bin");
    let data_start = spans[0].0 as usize;
    for cut in 0..bytes.len() {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let t = match Trace::open(&path) {
            Ok(t) => t,
            Err(e) => {
                assert!(cut < data_start, "cut {cut} after the header refused: {e}");
                continue;
            }
        };
        assert!(cut >= data_start, "cut {cut} inside the header accepted");
        let complete = spans.iter().filter(|s| s.1 <= cut as u64).count();
        assert_eq!(t.chunks().len(), complete, "cut {cut}");
        let want = if complete == 0 {
            0
        } else {
            spans[complete - 1].2
        };
        let got = common::read_all(&t).unwrap();
        assert_eq!(got, expect[..want], "cut {cut}");
        let tr = t.truncation().expect("a cut file reports its truncation");
        assert_eq!(tr.file_len, cut as u64);
        let end = if complete == 0 {
            data_start as u64
        } else {
            spans[complete - 1].1
        };
        assert_eq!(tr.offset, end, "cut {cut}: {tr}");
        // The in-memory reader agrees.
        let mut n = 0;
        let s = memfile::read_bytes(&bytes[..cut], |_| n += 1).unwrap();
        assert_eq!(n, want, "memfile, cut {cut}");
        assert!(s.truncation.is_some());
    }
    std::fs::write(&path, &bytes).unwrap();
    let t = Trace::open(&path).unwrap();
    assert!(t.truncation().is_none());
    assert_eq!(common::read_all(&t).unwrap(), expect);
}

#[test]
fn a_bit_flip_at_every_byte_is_an_error_naming_the_chunk_or_still_valid_data() {
    let (bytes, expect, spans) = sample_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flip.bin");
    for at in 0..bytes.len() {
        let mut b = bytes.clone();
        b[at] ^= 1 << (at % 8);
        std::fs::write(&path, &b).unwrap();
        let _ = memfile::read_bytes(&b, |_| {});
        let t = match Trace::open(&path) {
            Ok(t) => t,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                continue;
            }
        };
        // A flip inside a chunk's payload is caught by its checksum, naming it.
        if let Some(i) = spans
            .iter()
            .position(|s| s.0 + 48 <= at as u64 && (at as u64) < s.1)
        {
            match t.read_chunk(i) {
                Err(Error::CorruptChunk { index, .. }) => assert_eq!(index, i, "flip at {at}"),
                other => panic!("flip at {at} in chunk {i}'s payload: {other:?}"),
            }
            continue;
        }
        match common::read_all(&t) {
            Ok(got) => {
                // Only records of complete chunks, and each one as written.
                assert!(got.len() <= expect.len(), "flip at {at}");
                if t.is_clean() && at < spans[0].0 as usize {
                    continue; // a header field changed; records are unaffected
                }
                assert_eq!(got, expect[..got.len()], "flip at {at}");
            }
            Err(e) => assert!(e.to_string().contains("chunk"), "flip at {at}: {e}"),
        }
    }
}

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn thousands_of_randomly_mutated_files_never_panic_the_reader() {
    let (bytes, _, _) = sample_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.bin");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for round in 0..3000 {
        let mut b = bytes.clone();
        for _ in 0..1 + rng.below(4) {
            match rng.below(6) {
                0 => {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
                1 => {
                    let i = rng.below(b.len());
                    b[i] = rng.next() as u8;
                }
                2 => {
                    // A hostile length or count: all ones in a u32 slot.
                    let i = rng.below(b.len().saturating_sub(4).max(1));
                    for x in b.iter_mut().skip(i).take(4) {
                        *x = 0xff;
                    }
                }
                3 => b.truncate(rng.below(b.len() + 1)),
                4 => {
                    let i = rng.below(b.len() + 1);
                    let n = rng.below(16);
                    let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                    b.splice(i..i, junk);
                }
                _ => {
                    if !b.is_empty() {
                        let i = rng.below(b.len());
                        let n = rng.below(16).min(b.len() - i);
                        b.drain(i..i + n);
                    }
                }
            }
            if b.is_empty() {
                break;
            }
        }
        std::fs::write(&path, &b).unwrap();
        if let Ok(t) = Trace::open(&path) {
            let _ = common::read_all(&t);
            let _ = t.par_map_chunks(|c| c.map(|d| d.records().count()).ok());
        }
        let r = memfile::read_bytes(&b, |_| {});
        if round == 0 {
            let _ = r;
        }
    }
}

#[test]
fn decode_says_incomplete_on_every_prefix_of_every_item() {
    let (bytes, _, _) = sample_bytes();
    let mut offset = 0usize;
    let mut items = 0;
    while offset < bytes.len() {
        let rest = &bytes[offset..];
        let (_, after) = chunk::decode(rest, offset as u64).unwrap();
        let len = rest.len() - after.len();
        for p in 0..len {
            match chunk::decode(&rest[..p], offset as u64) {
                Err(Error::Incomplete { needed }) => assert!(needed > 0 && needed <= len - p),
                other => panic!("prefix {p} of the item at {offset}: {other:?}"),
            }
        }
        offset += len;
        items += 1;
    }
    assert_eq!(offset, bytes.len());
    assert!(items >= 5);
    // The last two items are the trailer and the footer.
    let (item, _) = chunk::decode(&bytes[bytes.len() - 16..], bytes.len() as u64 - 16).unwrap();
    assert!(matches!(item, Item::Footer { .. }));
}
