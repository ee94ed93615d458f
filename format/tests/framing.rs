//! The version-3 framing: a stream table with a count (a new stream is a
//! compatible change), header fields appended, chunk times as stored.

use crate::helpers as common;

use ptrec_format::chunk::{ChunkHeader, Part};
use ptrec_format::*;

/// The records of chunk 0 of a sample file, and its decompressed streams.
fn sample_chunk() -> (Vec<String>, Streams, ChunkHeader) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    let cb = common::sample_capture();
    let opts = WriterOptions {
        time_unit_ns: 7,
        ..Default::default()
    };
    let mut w = Writer::create(&path, &common::sample_header(), opts).unwrap();
    for r in common::sample_records(&cb) {
        w.write(&r).unwrap();
    }
    w.finish().unwrap();
    let t = Trace::open(&path).unwrap();
    let d = t.read_chunk(0).unwrap();
    let recs = d.records().map(|r| format!("{:?}", r.unwrap())).collect();
    (recs, d.streams.clone(), d.info.header)
}

/// A version-3 payload of `streams` (plus `extra` unknown ones) with a
/// table that says `count` streams.
fn payload(s: &Streams, extra: &[&[u8]], count: u32) -> (Vec<u8>, u32) {
    let mut parts: Vec<&[u8]> = vec![&s.events, &s.times, &s.detail];
    parts.extend_from_slice(extra);
    let frames: Vec<Vec<u8>> = parts
        .iter()
        .map(|p| zstd::bulk::compress(p, 3).unwrap())
        .collect();
    let mut out = Vec::new();
    out.extend_from_slice(&7u32.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    for (p, f) in parts.iter().zip(&frames) {
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
    }
    for f in &frames {
        out.extend_from_slice(f);
    }
    let ulen = parts.iter().map(|p| p.len() as u32).sum();
    (out, ulen)
}

fn unpack(payload: &[u8], ulen: u32, like: &ChunkHeader) -> Result<ChunkData, Error> {
    let header = ChunkHeader {
        compressed_len: payload.len() as u32,
        uncompressed_len: ulen,
        payload_crc: crc32fast::hash(payload),
        ..*like
    };
    let info = ChunkInfo {
        index: 0,
        offset: 0,
        header,
    };
    let mut d = ChunkData::default();
    d.unpack(3, info, payload, Part::All)?;
    Ok(d)
}

#[test]
fn a_stream_this_reader_does_not_know_is_skipped_and_the_records_read_the_same() {
    let (want, s, h) = sample_chunk();
    let (p, ulen) = payload(&s, &[b"a future stream's bytes"], 4);
    let d = unpack(&p, ulen, &h).unwrap();
    let got: Vec<String> = d.records().map(|r| format!("{:?}", r.unwrap())).collect();
    assert_eq!(got, want);
    assert_eq!(d.time_unit, 7);
}

#[test]
fn a_stream_table_with_fewer_than_three_or_absurdly_many_streams_is_refused() {
    let (_, s, h) = sample_chunk();
    for count in [0, 2, 65, u32::MAX] {
        let (p, ulen) = payload(&s, &[], count);
        let e = unpack(&p, ulen, &h).expect_err("refused").to_string();
        assert!(e.contains("stream table"), "{count}: {e}");
    }
    // A count that fits but whose entries overrun the payload.
    let (mut p, ulen) = payload(&s, &[], 3);
    p[4..8].copy_from_slice(&60u32.to_le_bytes());
    assert!(unpack(&p, ulen, &h).is_err());
}

#[test]
fn header_fields_appended_by_a_later_version_are_ignored() {
    let mut body = common::sample_header().encode();
    let plain = Header::decode(&body, 0).unwrap();
    body.extend_from_slice(b"\x05later");
    assert_eq!(Header::decode(&body, 0).unwrap(), plain);
    // A version-2 body (no version-3 field) reads with their defaults.
    let old = common::sample_header_of(2);
    let h = Header::decode(&old.encode()[..], 0).unwrap();
    assert_eq!(
        (h.nonce, h.redaction, &h.wait_policy[..]),
        ([0; 16], None, "")
    );
    // A version-3 field cut in the middle is an error, not a default.
    // (The body ends with argv_redacted: count 1, then index 1 and length 6.)
    let full = common::sample_header().encode();
    assert_eq!(&full[full.len() - 3..], &[1, 1, 6]);
    for cut in [1, 2] {
        assert!(Header::decode(&full[..full.len() - cut], 0).is_err());
    }
    let h = Header::decode(&full[..full.len() - 3], 0).unwrap();
    assert!(h.argv_redacted.is_empty() && h.env_redacted == [(0, 1)]);
}

#[test]
fn chunk_times_are_the_records_times_as_stored_rounded_to_the_unit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    let opts = WriterOptions {
        time_unit_ns: 1000,
        ..Default::default()
    };
    let mut w = Writer::create(&path, &Header::default(), opts).unwrap();
    for t in [1_234_567u64, 1_999_999] {
        w.write(&Record::GroupStop {
            tid: 1,
            time: t,
            signo: 19,
        })
        .unwrap();
    }
    w.finish().unwrap();
    let t = Trace::open(&path).unwrap();
    let h = t.chunks()[0].header;
    assert_eq!((h.first_time, h.last_time), (1_234_000, 1_999_000));
    let mut times = Vec::new();
    t.for_each_record(|r| times.push(r.time())).unwrap();
    assert_eq!(times, [h.first_time, h.last_time]);
}

#[test]
fn an_owned_record_outlives_its_chunk_and_borrows_back_equal() {
    let cb = common::sample_capture();
    let recs = common::sample_records(&cb);
    let owned: Vec<OwnedRecord> = recs.iter().map(|r| r.to_owned()).collect();
    drop(recs);
    let cb2 = common::sample_capture();
    for (o, r) in owned.iter().zip(common::sample_records(&cb2)) {
        assert_eq!(o.as_record(), r);
        assert_eq!((o.kind(), o.tid(), o.time()), (r.kind(), r.tid(), r.time()));
    }
    // The redacted capture keeps its prefix, its length and its marker.
    let m = cb.iter().find(|m| m.redacted.is_some()).unwrap();
    assert_eq!((m.len(), m.data), (4096, &b"Authorization: "[..]));
    assert_ne!(m.flags & mem_flags::REDACTED, 0);
}
