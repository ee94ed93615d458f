//! Damaged files: every cut, every bit flip and thousands of random mutations
//! give complete chunks, a report or a clear error, and never a panic.

use crate::helpers as common;
use crate::helpers::Rng;

use ptrec_format::chunk::{self, ChunkHeader, Item, Part};
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
        let via_file = Trace::open(&path).map(|t| {
            let _ = t.par_map_chunks(|c| c.map(|d| d.records().count()).ok());
            let _ = t.verify();
            common::read_all(&t)
        });
        let via_mem = memfile::read_bytes(&b, |_| {});
        // One set of rules (layout): both readers agree on what is readable.
        match (&via_file, &via_mem) {
            (Ok(Ok(recs)), Ok(s)) => assert_eq!(recs.len() as u64, s.records, "round {round}"),
            (Err(e), Ok(_)) => panic!("round {round}: only the file reader refused: {e}"),
            (Ok(Ok(_)), Err(e)) => panic!("round {round}: only memfile failed: {e}"),
            _ => {}
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

/// The sample file's header bytes and each chunk's bytes (header + payload).
fn pieces() -> (Vec<u8>, Vec<Vec<u8>>, Vec<String>) {
    let (bytes, expect, spans) = sample_bytes();
    let head = bytes[..spans[0].0 as usize].to_vec();
    let chunks = spans
        .iter()
        .map(|s| bytes[s.0 as usize..s.1 as usize].to_vec())
        .collect();
    (head, chunks, expect)
}

/// A file of `head`, `chunks` in that order and, if `trailer`, a trailer
/// rebuilt to index them (what a forger or a broken copy tool makes).
fn assemble(head: &[u8], chunks: &[Vec<u8>], trailer: bool) -> Vec<u8> {
    let mut out = head.to_vec();
    let mut index = Index::default();
    for c in chunks {
        index.chunks.push(ChunkEntry {
            offset: out.len() as u64,
            ..Default::default()
        });
        out.extend_from_slice(c);
    }
    if trailer {
        let at = out.len() as u64;
        out.extend(chunk::encode_trailer(&index, at).unwrap());
    }
    out
}

fn open(bytes: &[u8], strict: bool) -> Result<Trace, Error> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    std::fs::write(&path, bytes).unwrap();
    Trace::open_with(&path, ReadOptions { strict })
}

#[test]
fn a_duplicated_chunk_with_a_rebuilt_trailer_is_reported_and_read_once() {
    let (head, mut chunks, expect) = pieces();
    chunks.push(chunks[0].clone());
    let bytes = assemble(&head, &chunks, true);
    let t = open(&bytes, false).unwrap();
    assert!(t.is_clean(), "the rebuilt trailer checks out");
    assert_eq!(t.chunks().len(), chunks.len() - 1);
    let dup = chunks.len() - 1;
    assert_eq!(
        t.skipped(),
        &[SkippedChunk {
            index: dup,
            offset: t
                .chunks()
                .last()
                .map_or(0, |c| c.offset + 48 + u64::from(c.header.compressed_len)),
            reason: SkipReason::Duplicate { seq: 0, of: 0 },
        }]
    );
    // Every record once, not 1 + 1/n times.
    assert_eq!(common::read_all(&t).unwrap(), expect);
    let v = t.verify();
    assert!(!v.is_ok());
    assert_eq!(v.records, expect.len() as u64);
    let e = open(&bytes, true)
        .err()
        .expect("strict refuses")
        .to_string();
    assert!(
        e.contains("duplicate") && e.contains(&format!("chunk {dup}")),
        "{e}"
    );
    // The in-memory reader applies the same rules.
    let mut n = 0;
    let s = memfile::read_bytes(&bytes, |_| n += 1).unwrap();
    assert_eq!((n, s.skipped.len()), (expect.len(), 1));
}

#[test]
fn reordered_chunks_are_reported_out_of_order_and_the_jump_as_missing() {
    let (head, mut chunks, _) = pieces();
    chunks.swap(1, 2);
    let bytes = assemble(&head, &chunks, false);
    let t = open(&bytes, false).unwrap();
    assert!(!t.is_clean());
    // seq 0, 2 read (seq 1 reported missing before file chunk 1), then seq 1
    // arrives late: left out.
    assert_eq!(
        t.gaps(),
        &[SeqGap {
            before: 1,
            first_seq: 1,
            count: 1
        }]
    );
    assert_eq!(t.skipped().len(), 1);
    assert_eq!(t.skipped()[0].index, 2);
    assert_eq!(
        t.skipped()[0].reason,
        SkipReason::OutOfOrder {
            seq: 1,
            expected: 3
        }
    );
    assert!(!t.verify().is_ok());
    assert!(open(&bytes, true).is_err());
}

#[test]
fn one_corrupt_chunk_is_skipped_with_its_reason_and_the_others_are_read() {
    let (head, mut chunks, _) = pieces();
    let last = chunks[1].len() - 1;
    chunks[1][last] ^= 0x40;
    let bytes = assemble(&head, &chunks, true);
    let t = open(&bytes, false).unwrap();
    assert!(
        t.skipped().is_empty(),
        "a payload flip is found when decoding"
    );
    let r = t
        .par_map_good_chunks(Part::All, false, |d| {
            d.records().try_fold(0usize, |n, r| r.map(|_| n + 1))
        })
        .unwrap();
    assert_eq!(r.good.len(), chunks.len() - 1);
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].index, 1);
    assert!(matches!(&r.skipped[0].reason, SkipReason::Corrupt(why) if why.contains("checksum")));
    let per_chunk: Vec<usize> = t
        .chunks()
        .iter()
        .map(|c| c.header.record_count as usize)
        .collect();
    let want: usize = per_chunk.iter().sum::<usize>() - per_chunk[1];
    assert_eq!(r.good.iter().sum::<usize>(), want);
    let strict = t.par_map_good_chunks(Part::All, true, |_| Ok(()));
    assert!(matches!(strict, Err(Error::CorruptChunk { index: 1, .. })));
}

#[test]
fn a_garbage_detail_stream_under_a_valid_checksum_fails_the_full_check_only() {
    let (head, mut chunks, _) = pieces();
    // Rebuild chunk 0 with its detail stream overwritten, checksums fixed.
    let info = ChunkHeader::decode(chunks[0][..48].try_into().unwrap(), 0).unwrap();
    let mut data = ChunkData::default();
    let ci = ChunkInfo {
        index: 0,
        offset: 0,
        header: info,
    };
    data.unpack(FORMAT_VERSION, ci, &chunks[0][48..], Part::All)
        .unwrap();
    let mut s = data.streams.clone();
    assert!(!s.detail.is_empty());
    s.detail.iter_mut().for_each(|b| *b = 0xfd);
    let mut payload = Vec::new();
    let mut comp = zstd::bulk::Compressor::new(3).unwrap();
    chunk::pack(&mut comp, &s, data.time_unit, &mut payload).unwrap();
    let h = ChunkHeader {
        compressed_len: payload.len() as u32,
        payload_crc: crc32fast::hash(&payload),
        ..info
    };
    chunks[0] = [&h.encode()[..], &payload[..]].concat();
    let bytes = assemble(&head, &chunks, true);
    let t = open(&bytes, false).unwrap();
    // The statistics pass (events and times only) is fine...
    let skim = t
        .par_map_good_chunks(Part::Stops, false, |d| {
            d.stops().try_fold(0usize, |n, r| r.map(|_| n + 1))
        })
        .unwrap();
    assert!(skim.skipped.is_empty());
    // ...the full check is not, and names the chunk.
    let v = t.verify();
    assert!(!v.is_ok());
    assert_eq!(v.skipped.len(), 1);
    assert_eq!(v.skipped[0].index, 0);
    assert_eq!(v.chunks_ok, chunks.len() - 1);
}

#[test]
fn an_intact_file_verifies_ok_to_the_last_record() {
    let (bytes, expect, spans) = sample_bytes();
    let t = open(&bytes, true).unwrap();
    let v = t.verify();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!((v.chunks_ok, v.records), (spans.len(), expect.len() as u64));
    assert!(v.truncation.is_none());
}
