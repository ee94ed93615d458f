//! Writes the seed inputs of the `decode_records` fuzz target (tools/fuzz)
//! from the committed golden traces: for every chunk, byte 0 (version,
//! layout bits), the events and times lengths (u16 LE), then the three
//! decompressed streams — the input format the target documents.
//!
//! `cargo run -p ptrec-format --example fuzz_seeds -- OUT_DIR`

use ptrec_format::{RegLayout, Trace};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).ok_or("usage: fuzz_seeds OUT_DIR")?);
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for name in ["golden-v1", "golden-v2", "golden-v3", "golden-aarch64"] {
        let t = Trace::open(data.join(format!("{name}.bin")))?;
        // The target's byte 0: version - 1 in bits 0-4, the layout in bits
        // 5-6 (0: x86_64, 0x40: aarch64), bit 7 clear (time unit 1).
        let layout = match t.layout() {
            Some(RegLayout::Aarch64) => 0x40,
            _ => 0,
        };
        let tag = (t.version() - 1) as u8 | layout;
        for i in 0..t.chunks().len() {
            let d = t.read_chunk(i)?;
            let s = &d.streams;
            let mut b = vec![tag];
            b.extend_from_slice(&u16::try_from(s.events.len())?.to_le_bytes());
            b.extend_from_slice(&u16::try_from(s.times.len())?.to_le_bytes());
            for part in [&s.events, &s.times, &s.detail] {
                b.extend_from_slice(part);
            }
            std::fs::write(out.join(format!("{name}-chunk{i}.bin")), b)?;
        }
    }
    Ok(())
}
