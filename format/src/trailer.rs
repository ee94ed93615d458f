//! The trailer written on clean close: where every chunk is, and totals.

use crate::error::{Error, Result};
use crate::wire::{Cur, Put, Step};

/// Index of a cleanly closed trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Index {
    pub chunks: Vec<ChunkEntry>,
    pub totals: Totals,
}

/// Where one chunk is and what it holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkEntry {
    /// Byte offset of the chunk header in the file.
    pub offset: u64,
    pub record_count: u32,
    pub first_time: u64,
    pub last_time: u64,
}

/// Totals over the whole recording.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub records: u64,
    /// Records per kind, indexed by the kind byte (index 0 unused).
    pub by_kind: Vec<u64>,
    /// Sum of the chunks' payloads before compression.
    pub uncompressed_bytes: u64,
    /// Sum of the chunks' compressed payloads.
    pub compressed_bytes: u64,
}

impl Index {
    /// The index body (FORMAT.md, section 6).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let p = &mut Put(&mut out);
        p.u64(self.chunks.len() as u64);
        for e in &self.chunks {
            p.u64(e.offset);
            p.u32(e.record_count);
            p.u64(e.first_time);
            p.u64(e.last_time);
        }
        let t = &self.totals;
        p.u64(t.records);
        p.u64(t.by_kind.len() as u64);
        for &n in &t.by_kind {
            p.u64(n);
        }
        p.u64(t.uncompressed_bytes);
        p.u64(t.compressed_bytes);
        out
    }

    /// Decodes an index body; `offset` is only used in errors. Bytes past
    /// the known fields are ignored.
    pub fn decode(b: &[u8], offset: u64) -> Result<Index> {
        let mut c = Cur::new(b);
        Self::read(&mut c).map_err(|reason| Error::Corrupt {
            what: "trailer index",
            offset: offset + (b.len() - c.b.len()) as u64,
            reason: reason.into(),
        })
    }

    fn read(c: &mut Cur<'_>) -> Step<Index> {
        // Each entry takes at least four bytes.
        let n = c.count(4)?;
        let mut chunks = Vec::with_capacity(n);
        for _ in 0..n {
            chunks.push(ChunkEntry {
                offset: c.u64()?,
                record_count: c.u32()?,
                first_time: c.u64()?,
                last_time: c.u64()?,
            });
        }
        let records = c.u64()?;
        let n = c.count(1)?;
        let mut by_kind = Vec::with_capacity(n);
        for _ in 0..n {
            by_kind.push(c.u64()?);
        }
        Ok(Index {
            chunks,
            totals: Totals {
                records,
                by_kind,
                uncompressed_bytes: c.u64()?,
                compressed_bytes: c.u64()?,
            },
        })
    }
}
