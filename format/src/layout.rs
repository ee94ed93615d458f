//! Where a trace's chunks are: the crash-reading rules of FORMAT.md,
//! section 7, in one place for both readers.
//!
//! [`Trace`](crate::Trace) reads a file with positioned reads and
//! [`memfile`](crate::memfile) a slice; both call [`locate`] on a
//! [`Source`], which reads the header, then takes the trailer's index when
//! it checks out and walks the chunk headers otherwise, with
//! [`chunk::decode_head`] deciding what each item is.

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::chunk::{self, ChunkHeader, Head, Item, CHUNK_HEADER_LEN, FOOTER_LEN, PREFIX_LEN};
use crate::error::{Error, Result};
use crate::header::{Header, MAX_META_BYTES};
use crate::trailer::Index;

/// Where one chunk is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkInfo {
    /// Position in the file, from 0.
    pub index: usize,
    /// Byte offset of the chunk header.
    pub offset: u64,
    pub header: ChunkHeader,
}

/// Where and why the readable part of a file ends early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// Byte offset of the first byte that is not part of a complete chunk.
    pub offset: u64,
    /// The file's length.
    pub file_len: u64,
    pub reason: String,
}

impl std::fmt::Display for Truncation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "trace cut at byte {} of {}: {}",
            self.offset, self.file_len, self.reason
        )
    }
}

/// Why a reader left a chunk out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Its payload checksum, stream table, a zstd frame, a decompressed
    /// length or one of its records does not check out.
    Corrupt(String),
    /// Its `seq` is that of an earlier chunk (file position `of`): a copy.
    Duplicate { seq: u64, of: usize },
    /// Its `seq` is lower than that of a chunk before it and was not seen:
    /// the file's chunks were reordered.
    OutOfOrder { seq: u64, expected: u64 },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Corrupt(why) => write!(f, "corrupt: {why}"),
            SkipReason::Duplicate { seq, of } => {
                write!(f, "duplicate: seq {seq} repeats chunk {of}")
            }
            SkipReason::OutOfOrder { seq, expected } => {
                write!(
                    f,
                    "out of order: seq {seq} where {expected} or later was due"
                )
            }
        }
    }
}

/// A chunk a reader left out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedChunk {
    /// Position in the file, from 0.
    pub index: usize,
    /// Byte offset of its chunk header.
    pub offset: u64,
    pub reason: SkipReason,
}

impl std::fmt::Display for SkippedChunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "chunk {} at byte {} skipped, {}",
            self.index, self.offset, self.reason
        )
    }
}

impl SkippedChunk {
    /// The error a strict reader gives instead of skipping.
    pub fn to_error(&self) -> Error {
        let reason = match &self.reason {
            SkipReason::Corrupt(why) => why.clone(),
            other => other.to_string(),
        };
        Error::CorruptChunk {
            index: self.index,
            offset: self.offset,
            reason,
        }
    }
}

/// Chunks missing from the sequence: `count` chunks from `first_seq` on
/// are not in the file, before the chunk at file position `before`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqGap {
    pub before: usize,
    pub first_seq: u64,
    pub count: u64,
}

impl std::fmt::Display for SeqGap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} chunk(s) missing (seq {}..{}) before chunk {}",
            self.count,
            self.first_seq,
            self.first_seq.saturating_add(self.count - 1),
            self.before
        )
    }
}

/// Bytes a trace can be read from at any offset.
pub(crate) trait Source {
    fn size(&self) -> u64;
    /// Reads as much of `buf` as there is at `offset`; returns how much.
    fn read_at_most(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize>;

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        if self.read_at_most(buf, offset)? == buf.len() {
            Ok(())
        } else {
            Err(std::io::ErrorKind::UnexpectedEof.into())
        }
    }
}

impl Source for File {
    fn size(&self) -> u64 {
        self.metadata().map(|m| m.len()).unwrap_or(0)
    }
    fn read_at_most(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match self.read_at(&mut buf[got..], offset + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    }
}

impl Source for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at_most(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

/// What [`locate`] found.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub version: u32,
    pub header: Header,
    /// The file's length when it was opened.
    pub file_len: u64,
    pub chunks: Vec<ChunkInfo>,
    /// The trailer's index, when it checks out.
    pub trailer: Option<Index>,
    /// Where the readable part ends early (no valid trailer).
    pub cut: Option<Truncation>,
    /// Chunks left out of `chunks` by the sequence check.
    pub skipped: Vec<SkippedChunk>,
    /// Chunks missing from the sequence.
    pub gaps: Vec<SeqGap>,
}

/// Reads the header of `src` and finds its chunks: from the trailer when the
/// file was closed cleanly, else by walking chunk headers (FORMAT.md,
/// section 7, rules 1-3). Errors only when the header is unreadable.
pub(crate) fn locate<S: Source + ?Sized>(src: &S) -> Result<Layout> {
    let file_len = src.size();
    if file_len == 0 {
        return Err(Error::Empty);
    }
    let mut prefix = [0u8; PREFIX_LEN];
    let n = src.read_at_most(&mut prefix, 0)?;
    let hlen = match chunk::decode(&prefix[..n], 0) {
        Err(Error::Incomplete { .. }) if n == PREFIX_LEN => {
            u32::from_le_bytes([prefix[12], prefix[13], prefix[14], prefix[15]]) as usize
        }
        Err(Error::Incomplete { .. }) => return Err(Error::NotATrace),
        Err(e) => return Err(e),
        Ok(_) => 0,
    };
    // chunk::decode has refused a length over MAX_META_BYTES already.
    let hend = (PREFIX_LEN + hlen) as u64;
    if hend > file_len {
        return Err(Error::Corrupt {
            what: "file header",
            offset: PREFIX_LEN as u64,
            reason: format!("the file ends at byte {file_len}, inside the header"),
        });
    }
    let mut hbuf = vec![0u8; hend as usize];
    src.read_exact_at(&mut hbuf, 0)?;
    let (version, header) = match chunk::decode(&hbuf, 0)? {
        (Item::FileHeader { version, header }, _) => (version, *header),
        _ => return Err(Error::NotATrace),
    };
    let mut l = Layout {
        version,
        header,
        file_len,
        chunks: Vec::new(),
        trailer: None,
        cut: None,
        skipped: Vec::new(),
        gaps: Vec::new(),
    };
    match load_trailer(src, hend, file_len) {
        Some((chunks, index)) => {
            l.chunks = chunks;
            l.trailer = Some(index);
        }
        None => scan(src, hend, &mut l),
    }
    check_sequence(&mut l);
    Ok(l)
}

/// FORMAT.md, section 7, rule 4: chunk `seq`s count 0, 1, 2, ... in file
/// order. A chunk whose seq was seen before is a duplicate, one whose seq is
/// lower than a chunk's before it is out of order: both are left out. A seq
/// higher than due is kept, and the chunks it jumps over reported missing.
fn check_sequence(l: &mut Layout) {
    let mut seen: rustc_hash::FxHashMap<u64, usize> = Default::default();
    let mut next = 0u64;
    let chunks = std::mem::take(&mut l.chunks);
    l.chunks.reserve(chunks.len());
    for c in chunks {
        let seq = c.header.seq;
        let reason = if let Some(&of) = seen.get(&seq) {
            SkipReason::Duplicate { seq, of }
        } else if seq < next {
            SkipReason::OutOfOrder {
                seq,
                expected: next,
            }
        } else {
            if seq > next {
                l.gaps.push(SeqGap {
                    before: c.index,
                    first_seq: next,
                    count: seq - next,
                });
            }
            seen.insert(seq, c.index);
            next = seq.saturating_add(1);
            l.chunks.push(c);
            continue;
        };
        seen.entry(seq).or_insert(c.index);
        l.skipped.push(SkippedChunk {
            index: c.index,
            offset: c.offset,
            reason,
        });
    }
}

/// The trailer's index and the chunks it lists, if there is a valid
/// trailer that describes chunks which really are there, in order.
fn load_trailer<S: Source + ?Sized>(
    src: &S,
    data_start: u64,
    file_len: u64,
) -> Option<(Vec<ChunkInfo>, Index)> {
    let foot_at = file_len.checked_sub(FOOTER_LEN as u64)?;
    if foot_at < data_start {
        return None;
    }
    let mut foot = [0u8; FOOTER_LEN];
    src.read_exact_at(&mut foot, foot_at).ok()?;
    let Ok(Head::Footer { trailer_offset }) = chunk::decode_head(&foot, foot_at) else {
        return None;
    };
    if trailer_offset < data_start || trailer_offset >= foot_at {
        return None;
    }
    let len = foot_at - trailer_offset;
    if len > MAX_META_BYTES as u64 + 16 {
        return None;
    }
    let mut buf = vec![0u8; len as usize];
    src.read_exact_at(&mut buf, trailer_offset).ok()?;
    let index = match chunk::decode(&buf, trailer_offset) {
        Ok((Item::Trailer(index), [])) => index,
        _ => return None,
    };
    let mut chunks = Vec::with_capacity(index.chunks.len().min(1 << 20));
    let mut expect = data_start;
    for (i, e) in index.chunks.iter().enumerate() {
        if e.offset != expect {
            return None;
        }
        let mut hb = [0u8; CHUNK_HEADER_LEN];
        src.read_exact_at(&mut hb, e.offset).ok()?;
        let Ok(Head::Chunk(h)) = chunk::decode_head(&hb, e.offset) else {
            return None;
        };
        chunks.push(ChunkInfo {
            index: i,
            offset: e.offset,
            header: h,
        });
        expect = e.offset + (CHUNK_HEADER_LEN as u64) + u64::from(h.compressed_len);
    }
    (expect == trailer_offset).then_some((chunks, index))
}

/// Walks chunk headers from `offset`, stopping where the file ends inside a
/// chunk or something that is not a chunk begins.
fn scan<S: Source + ?Sized>(src: &S, mut offset: u64, l: &mut Layout) {
    let file_len = l.file_len;
    let reason = loop {
        let idx = l.chunks.len();
        if offset == file_len {
            break format!(
                "the recording did not end cleanly (no trailer) after {idx} complete chunks"
            );
        }
        let mut hb = [0u8; CHUNK_HEADER_LEN];
        let n = match src.read_at_most(&mut hb, offset) {
            Ok(n) => n,
            Err(e) => break format!("read error: {e}"),
        };
        let h = match chunk::decode_head(&hb[..n], offset) {
            Ok(Head::Chunk(h)) => h,
            // Only reached when the trailer did not check out.
            Ok(Head::Trailer { .. }) => break "the trailer is damaged".into(),
            Ok(Head::Footer { .. }) => break "a footer without a trailer".into(),
            Err(Error::Incomplete { .. }) if n >= 4 && hb[..4] == chunk::TRAILER_MAGIC => {
                break "the trailer is damaged".into()
            }
            Err(Error::Incomplete { .. }) => {
                break format!("the file ends inside the header of chunk {idx}")
            }
            Err(Error::Corrupt { what: "chunk", .. }) => {
                break format!("unrecognised bytes where chunk {idx} should start")
            }
            Err(e) => break format!("chunk {idx}: {e}"),
        };
        let end = offset + CHUNK_HEADER_LEN as u64 + u64::from(h.compressed_len);
        if end > file_len {
            break format!(
                "the file ends inside chunk {idx} ({} of its {} payload bytes present)",
                file_len - offset - CHUNK_HEADER_LEN as u64,
                h.compressed_len
            );
        }
        l.chunks.push(ChunkInfo {
            index: idx,
            offset,
            header: h,
        });
        offset = end;
    };
    l.cut = Some(Truncation {
        offset,
        file_len,
        reason,
    });
}
