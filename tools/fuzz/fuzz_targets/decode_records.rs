//! Arbitrary bytes as the decompressed streams of one chunk, past the
//! checksums and zstd that stop random bytes at the framing: the record
//! decoders of every version (full and skimmed) must return records or an
//! error, never panic, hang or over-allocate.
//!
//! Input: byte 0 picks the version (bits 0-4: 1 + value % 3), the time
//! unit (bit 7: 1000, else 1) and the register layout (bits 5-6: x86_64,
//! x86_64, aarch64, unknown); bytes 1..3 and 3..5 the
//! lengths of the events and times streams (u16 LE, cut to what is there);
//! the rest is events, times, detail in that order.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let version = 1 + u32::from((data[0] & 0x1f) % 3);
    let unit = if data[0] & 0x80 != 0 { 1000 } else { 1 };
    let ev = usize::from(u16::from_le_bytes([data[1], data[2]]));
    let tm = usize::from(u16::from_le_bytes([data[3], data[4]]));
    let rest = &data[5..];
    let (events, rest) = rest.split_at(ev.min(rest.len()));
    let (times, detail) = rest.split_at(tm.min(rest.len()));
    let layout = match data[0] & 0x60 {
        0x00 | 0x20 => Some(ptrec_format::RegLayout::X86_64),
        0x40 => Some(ptrec_format::RegLayout::Aarch64),
        _ => None,
    };
    let r = ptrec_format::codec::decode_streams(version, unit, layout, events, times, detail);
    // Every record takes at least one byte of the events stream.
    assert!(r.records <= events.len() as u64 + 1);
    assert!(r.skimmed <= events.len() as u64);
});
