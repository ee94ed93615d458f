//! File framing: the file prefix, chunk headers, the trailer and the footer,
//! and an I/O-free decoder for them.
//!
//! All fixed-size fields are little endian. See FORMAT.md for the layout.

use crate::codec::Streams;
use crate::error::{Error, Result};
use crate::header::{Header, MAX_META_BYTES};
use crate::trailer::Index;

pub use crate::version::FORMAT_VERSION;

/// First eight bytes of every trace file.
pub const FILE_MAGIC: [u8; 8] = *b"\x89PTREC\r\n";
/// Bytes before the header body: magic, version, body length, body CRC32.
pub const PREFIX_LEN: usize = 20;

pub const CHUNK_MAGIC: [u8; 4] = *b"PTCH";
pub const CHUNK_HEADER_LEN: usize = 48;
pub const TRAILER_MAGIC: [u8; 4] = *b"PTIX";
pub const TRAILER_HEAD_LEN: usize = 12;
pub const END_MAGIC: [u8; 8] = *b"PTRECEND";
pub const FOOTER_LEN: usize = 16;

/// No chunk payload, compressed or not, may exceed this. Writers stay far below.
pub const MAX_CHUNK_BYTES: u32 = 64 << 20;

/// The fixed header in front of each chunk's zstd frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkHeader {
    pub compressed_len: u32,
    pub uncompressed_len: u32,
    pub record_count: u32,
    pub first_time: u64,
    pub last_time: u64,
    /// CRC32 (IEEE) of the compressed payload.
    pub payload_crc: u32,
    /// Position of this chunk in the file, from 0.
    pub seq: u64,
}

impl ChunkHeader {
    pub fn encode(&self) -> [u8; CHUNK_HEADER_LEN] {
        let mut b = [0u8; CHUNK_HEADER_LEN];
        b[0..4].copy_from_slice(&CHUNK_MAGIC);
        b[4..8].copy_from_slice(&self.compressed_len.to_le_bytes());
        b[8..12].copy_from_slice(&self.uncompressed_len.to_le_bytes());
        b[12..16].copy_from_slice(&self.record_count.to_le_bytes());
        b[16..24].copy_from_slice(&self.first_time.to_le_bytes());
        b[24..32].copy_from_slice(&self.last_time.to_le_bytes());
        b[32..36].copy_from_slice(&self.payload_crc.to_le_bytes());
        b[36..44].copy_from_slice(&self.seq.to_le_bytes());
        let crc = crc32fast::hash(&b[..44]);
        b[44..48].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses and validates a chunk header; `offset` is only used in errors.
    pub fn decode(b: &[u8; CHUNK_HEADER_LEN], offset: u64) -> Result<ChunkHeader> {
        let corrupt = |reason: String| Error::Corrupt {
            what: "chunk header",
            offset,
            reason,
        };
        if b[0..4] != CHUNK_MAGIC {
            return Err(corrupt("bad chunk magic".into()));
        }
        let crc = u32_at(b, 44);
        if crc != crc32fast::hash(&b[..44]) {
            return Err(corrupt("header checksum mismatch".into()));
        }
        let h = ChunkHeader {
            compressed_len: u32_at(b, 4),
            uncompressed_len: u32_at(b, 8),
            record_count: u32_at(b, 12),
            first_time: u64_at(b, 16),
            last_time: u64_at(b, 24),
            payload_crc: u32_at(b, 32),
            seq: u64_at(b, 36),
        };
        if h.compressed_len > MAX_CHUNK_BYTES || h.uncompressed_len > MAX_CHUNK_BYTES {
            return Err(corrupt(format!(
                "chunk lengths {}/{} exceed the limit of {MAX_CHUNK_BYTES} bytes",
                h.compressed_len, h.uncompressed_len
            )));
        }
        // Every record takes at least 4 bytes (kind, length, tid, time).
        if u64::from(h.record_count) * 4 > u64::from(h.uncompressed_len) {
            return Err(corrupt(format!(
                "{} records cannot fit in {} bytes",
                h.record_count, h.uncompressed_len
            )));
        }
        Ok(h)
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Encodes the file prefix and header body.
pub fn encode_file_header(h: &Header) -> Result<Vec<u8>> {
    let body = h.encode();
    let mut out = Vec::with_capacity(PREFIX_LEN + body.len());
    out.extend_from_slice(&FILE_MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Encodes the trailer (index) and the footer that points at it.
pub fn encode_trailer(index: &Index, trailer_offset: u64) -> Result<Vec<u8>> {
    let body = index.encode();
    let mut out = Vec::with_capacity(TRAILER_HEAD_LEN + body.len() + FOOTER_LEN);
    out.extend_from_slice(&TRAILER_MAGIC);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&trailer_offset.to_le_bytes());
    out.extend_from_slice(&END_MAGIC);
    Ok(out)
}

/// What [`decode`] found at the start of its input.
#[derive(Debug)]
pub enum Item<'a> {
    /// The file prefix and header (only at offset 0).
    FileHeader { version: u32, header: Box<Header> },
    /// A chunk header and its (still compressed, checksum not yet verified) payload.
    Chunk {
        header: ChunkHeader,
        payload: &'a [u8],
    },
    /// The trailer index.
    Trailer(Index),
    /// The 16-byte footer: the trailer's offset and the end magic.
    Footer { trailer_offset: u64 },
}

/// Decodes the item at the start of `buf`, which sits at byte `offset` of the
/// file. Returns the item and the bytes after it, or [`Error::Incomplete`] if
/// `buf` ends before the item does. Does no I/O and never allocates more than
/// the bounded header or index it decodes.
pub fn decode(buf: &[u8], offset: u64) -> Result<(Item<'_>, &[u8])> {
    let need = |n: usize| -> Result<()> {
        if buf.len() < n {
            Err(Error::Incomplete {
                needed: n - buf.len(),
            })
        } else {
            Ok(())
        }
    };
    if offset == 0 {
        need(8)?;
        if buf[..8] != FILE_MAGIC {
            return Err(Error::NotATrace);
        }
        need(PREFIX_LEN)?;
        let version = u32_at(buf, 8);
        if version > FORMAT_VERSION {
            return Err(Error::NewerVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if version == 0 {
            return Err(Error::Corrupt {
                what: "file header",
                offset: 8,
                reason: "format version 0".into(),
            });
        }
        let len = u32_at(buf, 12) as usize;
        if len > MAX_META_BYTES {
            return Err(Error::TooLarge {
                what: "file header",
                len: len as u64,
                limit: MAX_META_BYTES as u64,
            });
        }
        need(PREFIX_LEN + len)?;
        let body = &buf[PREFIX_LEN..PREFIX_LEN + len];
        if crc32fast::hash(body) != u32_at(buf, 16) {
            return Err(Error::Corrupt {
                what: "file header",
                offset: PREFIX_LEN as u64,
                reason: "checksum mismatch".into(),
            });
        }
        let header = Header::decode(body, PREFIX_LEN as u64)?;
        return Ok((
            Item::FileHeader {
                version,
                header: Box::new(header),
            },
            &buf[PREFIX_LEN + len..],
        ));
    }
    match decode_head(buf, offset)? {
        Head::Chunk(header) => {
            let end = CHUNK_HEADER_LEN + header.compressed_len as usize;
            need(end)?;
            Ok((
                Item::Chunk {
                    header,
                    payload: &buf[CHUNK_HEADER_LEN..end],
                },
                &buf[end..],
            ))
        }
        Head::Trailer { body_len, body_crc } => {
            let len = body_len as usize;
            need(TRAILER_HEAD_LEN + len)?;
            let body = &buf[TRAILER_HEAD_LEN..TRAILER_HEAD_LEN + len];
            if crc32fast::hash(body) != body_crc {
                return Err(Error::Corrupt {
                    what: "trailer index",
                    offset,
                    reason: "checksum mismatch".into(),
                });
            }
            let index = Index::decode(body, offset + TRAILER_HEAD_LEN as u64)?;
            Ok((Item::Trailer(index), &buf[TRAILER_HEAD_LEN + len..]))
        }
        Head::Footer { trailer_offset } => {
            Ok((Item::Footer { trailer_offset }, &buf[FOOTER_LEN..]))
        }
    }
}

/// The fixed-size start of an item after the file header, as
/// [`decode_head`] reads it: enough to know the item's kind and length
/// without its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
    /// A valid chunk header; its payload follows.
    Chunk(ChunkHeader),
    /// The trailer's head: its body (≤ [`MAX_META_BYTES`]) follows.
    Trailer { body_len: u32, body_crc: u32 },
    /// The footer.
    Footer { trailer_offset: u64 },
}

/// Decodes the head of the item at the start of `buf` (at byte `offset`
/// of the file, after the file header): at most [`CHUNK_HEADER_LEN`] bytes
/// are looked at. [`decode`] and the readers' scan both go through this, so
/// there is one set of rules for what may follow a chunk.
pub fn decode_head(buf: &[u8], offset: u64) -> Result<Head> {
    let need = |n: usize| -> Result<()> {
        if buf.len() < n {
            Err(Error::Incomplete {
                needed: n - buf.len(),
            })
        } else {
            Ok(())
        }
    };
    need(4)?;
    let magic = &buf[..4];
    if magic == CHUNK_MAGIC {
        need(CHUNK_HEADER_LEN)?;
        let mut hb = [0u8; CHUNK_HEADER_LEN];
        hb.copy_from_slice(&buf[..CHUNK_HEADER_LEN]);
        Ok(Head::Chunk(ChunkHeader::decode(&hb, offset)?))
    } else if magic == TRAILER_MAGIC {
        need(TRAILER_HEAD_LEN)?;
        let body_len = u32_at(buf, 4);
        if body_len as usize > MAX_META_BYTES {
            return Err(Error::TooLarge {
                what: "trailer index",
                len: u64::from(body_len),
                limit: MAX_META_BYTES as u64,
            });
        }
        Ok(Head::Trailer {
            body_len,
            body_crc: u32_at(buf, 8),
        })
    } else if buf.len() < FOOTER_LEN {
        // Too short to tell a footer (whose first eight bytes are an offset,
        // not a magic) from garbage: wait for more bytes.
        Err(Error::Incomplete {
            needed: FOOTER_LEN - buf.len(),
        })
    } else if buf[8..16] == END_MAGIC {
        Ok(Head::Footer {
            trailer_offset: u64_at(buf, 0),
        })
    } else {
        Err(Error::Corrupt {
            what: "chunk",
            offset,
            reason: "expected a chunk or the trailer (bad magic)".into(),
        })
    }
}

/// Bytes in front of the frames of a version-2 chunk payload: the time
/// unit, then compressed and uncompressed length of each of three streams.
pub const STREAM_TABLE_LEN_V2: usize = 4 + 3 * 8;

/// The streams this crate knows, in stream-table order. A version-3 table
/// may list more: a reader skips those (a new stream is a compatible change).
pub const KNOWN_STREAMS: usize = 3;

/// Most streams a version-3 table may list: bounds the table a reader
/// walks, far above what any writer needs.
pub const MAX_STREAMS: u32 = 64;

/// Compresses the streams of a chunk into its current-version payload
/// (stream table with a count, then one zstd frame per stream) in `out`.
pub fn pack(
    comp: &mut zstd::bulk::Compressor<'_>,
    streams: &Streams,
    time_unit: u32,
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    let parts = [&streams.events, &streams.times, &streams.detail];
    let table = 8 + 8 * parts.len();
    out.clear();
    out.extend_from_slice(&time_unit.to_le_bytes());
    out.extend_from_slice(&(parts.len() as u32).to_le_bytes());
    out.resize(table, 0);
    let mut frame = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        frame.clear();
        frame.reserve(zstd::zstd_safe::compress_bound(part.len()));
        let n = comp.compress_to_buffer(&part[..], &mut frame)?;
        out.extend_from_slice(&frame[..n]);
        let at = 8 + i * 8;
        out[at..at + 4].copy_from_slice(&(n as u32).to_le_bytes());
        out[at + 4..at + 8].copy_from_slice(&(part.len() as u32).to_le_bytes());
    }
    Ok(())
}

/// A chunk's stream table, as [`unpack`] found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamTable {
    /// Record times are in units of this many nanoseconds.
    pub time_unit: u32,
    /// (compressed, decompressed) bytes of the events, times and detail
    /// streams; version 1: the whole payload counts as events.
    pub sizes: [(u32, u32); KNOWN_STREAMS],
    /// Streams the table lists after the known ones, which this reader
    /// skipped (written by a later version).
    pub unknown_streams: u32,
}

/// Which streams of a chunk to decompress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Everything: records in full.
    All,
    /// What [`ChunkDecoder::skim`](crate::codec::ChunkDecoder::skim) reads:
    /// the detail stream of a version-2 or 3 chunk stays compressed.
    Stops,
}

/// Verifies a chunk payload's checksum and decompresses it (all of it, or
/// only what `part` needs) into `out`, refusing to produce more than the
/// chunk announced. Returns the chunk's stream table.
pub fn unpack(
    version: u32,
    header: &ChunkHeader,
    payload: &[u8],
    part: Part,
    out: &mut Streams,
) -> Result<StreamTable, String> {
    if crc32fast::hash(payload) != header.payload_crc {
        return Err("payload checksum mismatch".into());
    }
    out.clear();
    if version == 1 {
        decompress(payload, header.uncompressed_len, &mut out.events)?;
        return Ok(StreamTable {
            time_unit: 1,
            sizes: [
                (header.compressed_len, header.uncompressed_len),
                (0, 0),
                (0, 0),
            ],
            unknown_streams: 0,
        });
    }
    // Version 2: three streams, no count. Version 3: a count.
    let (count, table_len) = if version == 2 {
        (KNOWN_STREAMS as u32, STREAM_TABLE_LEN_V2)
    } else {
        if payload.len() < 8 {
            return Err("payload shorter than its stream table".into());
        }
        let n = u32_at(payload, 4);
        if n < KNOWN_STREAMS as u32 || n > MAX_STREAMS {
            return Err(format!(
                "a stream table of {n} streams (at least {KNOWN_STREAMS}, at most {MAX_STREAMS})"
            ));
        }
        (n, 8 + 8 * n as usize)
    };
    if payload.len() < table_len {
        return Err("payload shorter than its stream table".into());
    }
    let unit = u32_at(payload, 0);
    if unit == 0 {
        return Err("time unit 0".into());
    }
    let entries = &payload[table_len - 8 * count as usize..table_len];
    let size = |i: usize| (u32_at(entries, i * 8), u32_at(entries, i * 8 + 4));
    let compressed: u64 = (0..count as usize).map(|i| u64::from(size(i).0)).sum();
    let uncompressed: u64 = (0..count as usize).map(|i| u64::from(size(i).1)).sum();
    if table_len as u64 + compressed != payload.len() as u64 {
        return Err(format!(
            "stream table announces {} compressed bytes, the payload holds {}",
            table_len as u64 + compressed,
            payload.len()
        ));
    }
    if uncompressed != u64::from(header.uncompressed_len) {
        return Err(format!(
            "stream table announces {uncompressed} bytes, the chunk header {}",
            header.uncompressed_len
        ));
    }
    let sizes: [(u32, u32); KNOWN_STREAMS] = std::array::from_fn(size);
    let mut at = table_len;
    let outs = [&mut out.events, &mut out.times, &mut out.detail];
    for (i, (dst, (clen, ulen))) in outs.into_iter().zip(sizes).enumerate() {
        let frame = &payload[at..at + clen as usize];
        at += clen as usize;
        if i == 2 && part == Part::Stops {
            break;
        }
        decompress(frame, ulen, dst)?;
    }
    Ok(StreamTable {
        time_unit: unit,
        sizes,
        unknown_streams: count - KNOWN_STREAMS as u32,
    })
}

/// Decompresses one zstd frame of exactly `len` bytes into `out`.
fn decompress(frame: &[u8], len: u32, out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    let cap = len as usize;
    out.reserve(cap);
    // Decompress into the Vec's capacity (the free function would take the
    // empty slice), so a frame larger than announced is refused by zstd.
    // One decompression context per thread: making one per chunk costs an
    // allocation and its initialisation every megabyte.
    thread_local! {
        static DCTX: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    let n = DCTX
        .with(|cell| {
            let mut slot = cell.borrow_mut();
            let d = match slot.as_mut() {
                Some(d) => d,
                None => slot.insert(zstd::bulk::Decompressor::new()?),
            };
            d.decompress_to_buffer(frame, out)
        })
        .map_err(|e| format!("zstd: {e}"))?;
    if n != cap {
        return Err(format!("decompressed {n} bytes, the chunk announced {cap}"));
    }
    Ok(())
}
