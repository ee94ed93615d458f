//! Reading a whole trace that is already in memory, with the I/O-free
//! [`chunk::decode`](crate::chunk::decode): for fuzzing and for tools that
//! receive a trace as bytes. Follows the same rules as [`Trace`](crate::Trace)
//! reading by scan: chunks in order until the trailer, the end, or a cut.

use crate::chunk::{self, ChunkHeader, Item, Part};
use crate::error::{Error, Result};
use crate::header::Header;
use crate::reader::{ChunkData, ChunkInfo, Truncation};
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
}

/// Decodes every record of the in-memory trace file `buf`, calling `f` on
/// each in order. A bad file prefix or header, a corrupted chunk payload or
/// a bad record is an error; an early end is reported in the summary.
pub fn read_bytes(buf: &[u8], mut f: impl FnMut(&Record<'_>)) -> Result<BytesSummary> {
    let file_len = buf.len() as u64;
    let (version, header, mut rest) = match chunk::decode(buf, 0) {
        Ok((Item::FileHeader { version, header }, rest)) => (version, *header, rest),
        Ok(_) | Err(Error::Incomplete { .. }) => return Err(Error::NotATrace),
        Err(e) => return Err(e),
    };
    let mut s = BytesSummary {
        version,
        header,
        ..Default::default()
    };
    let mut data = ChunkData::default();
    loop {
        let offset = file_len - rest.len() as u64;
        let idx = s.chunks.len();
        if rest.is_empty() {
            s.truncation = Some(Truncation {
                offset,
                file_len,
                reason: format!(
                    "the recording did not end cleanly (no trailer) after {idx} complete chunks"
                ),
            });
            return Ok(s);
        }
        let (item, after) = match chunk::decode(rest, offset) {
            Ok(x) => x,
            Err(e) => {
                s.truncation = Some(Truncation {
                    offset,
                    file_len,
                    reason: format!("chunk {idx}: {e}"),
                });
                return Ok(s);
            }
        };
        match item {
            Item::Chunk { header, payload } => {
                let info = ChunkInfo {
                    index: idx,
                    offset,
                    header,
                };
                data.unpack(version, info, payload, Part::All)?;
                let mut it = data.records();
                for r in it.by_ref() {
                    f(&r?);
                    s.records += 1;
                }
                s.unknown += it.unknown();
                s.chunks.push(header);
            }
            Item::Trailer(_) => {
                let foot = file_len - after.len() as u64;
                match chunk::decode(after, foot) {
                    Ok((Item::Footer { trailer_offset }, end))
                        if end.is_empty() && trailer_offset == offset =>
                    {
                        s.has_trailer = true
                    }
                    _ => {
                        s.truncation = Some(Truncation {
                            offset,
                            file_len,
                            reason: "the trailer is damaged".into(),
                        })
                    }
                }
                return Ok(s);
            }
            Item::Footer { .. } => {
                s.truncation = Some(Truncation {
                    offset,
                    file_len,
                    reason: "a footer without a trailer".into(),
                });
                return Ok(s);
            }
            Item::FileHeader { .. } => {
                return Err(Error::Corrupt {
                    what: "chunk",
                    offset,
                    reason: "a second file header".into(),
                })
            }
        }
        rest = after;
    }
}
