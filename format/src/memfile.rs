//! Reading a whole trace that is already in memory, with the I/O-free
//! [`chunk::decode`](crate::chunk::decode): for fuzzing and for tools that
//! receive a trace as bytes. It finds the chunks with the same rules as
//! [`Trace`](crate::Trace) (the crate's `layout` module): the trailer's index
//! when it checks out, else chunks in order until the end or a cut.

use crate::chunk::{ChunkHeader, Part, CHUNK_HEADER_LEN};
use crate::error::Result;
use crate::header::Header;
use crate::layout::{self, SkippedChunk, Truncation};
use crate::reader::ChunkData;
use crate::record::Record;

/// What [`read_bytes`] found besides the records.
#[derive(Clone, Debug, Default)]
pub struct BytesSummary {
    pub version: u32,
    pub header: Header,
    pub chunks: Vec<ChunkHeader>,
    pub records: u64,
    /// Records of unknown kinds that were skipped.
    pub unknown: u64,
    /// Whether a trailer followed the chunks.
    pub has_trailer: bool,
    /// Where the readable part ends early (no trailer, or garbage after a chunk).
    pub truncation: Option<Truncation>,
    /// Chunks the sequence check left out (duplicates, out of order).
    pub skipped: Vec<SkippedChunk>,
}

/// Decodes every record of the in-memory trace file `buf`, calling `f` on
/// each in order. A bad file prefix or header, a corrupted chunk payload or
/// a bad record is an error; an early end is reported in the summary.
pub fn read_bytes(buf: &[u8], mut f: impl FnMut(&Record<'_>)) -> Result<BytesSummary> {
    let l = layout::locate(buf)?;
    let mut s = BytesSummary {
        version: l.version,
        has_trailer: l.trailer.is_some(),
        truncation: l.cut,
        skipped: l.skipped,
        header: l.header,
        ..Default::default()
    };
    let mut data = ChunkData::default();
    for info in l.chunks {
        // locate() checked that every chunk lies inside the buffer.
        let start = (info.offset as usize).saturating_add(CHUNK_HEADER_LEN);
        let payload = buf
            .get(start..start.saturating_add(info.header.compressed_len as usize))
            .unwrap_or_default();
        data.layout = crate::RegLayout::from_id(s.header.reg_layout);
        data.unpack(l.version, info, payload, Part::All)?;
        let mut it = data.records();
        for r in it.by_ref() {
            f(&r?);
            s.records += 1;
        }
        s.unknown += it.unknown();
        s.chunks.push(info.header);
    }
    Ok(s)
}
