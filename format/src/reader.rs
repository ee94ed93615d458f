//! Reading a trace file: header, chunk index (from the trailer, or by
//! scanning after a crash), and chunks that decode independently, in parallel.
//!
//! Memory stays bounded by the chunk size times the number of chunks being
//! decoded at once: the file is read with positioned reads, never whole.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::chunk::{self, ChunkHeader, Item, Part, CHUNK_HEADER_LEN, FOOTER_LEN, PREFIX_LEN};
use crate::codec::{ChunkDecoder, Cursors, Decoded, Skimmed, Streams, MAX_META_BYTES};
use crate::error::{Error, Result};
use crate::header::Header;
use crate::record::Record;
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

/// An open trace file.
pub struct Trace {
    file: File,
    path: PathBuf,
    version: u32,
    header: Header,
    chunks: Vec<ChunkInfo>,
    trailer: Option<Index>,
    cut: Option<Truncation>,
    file_len: u64,
}

impl Trace {
    /// Opens a trace: reads the header and the chunk index, from the trailer
    /// when the file was closed cleanly, else by scanning chunk headers.
    pub fn open(path: impl AsRef<Path>) -> Result<Trace> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Open {
            path: path.to_owned(),
            source,
        })?;
        let file_len = file.metadata()?.len();
        if file_len == 0 {
            return Err(Error::Empty);
        }
        let mut prefix = [0u8; PREFIX_LEN];
        let n = read_at_most(&file, &mut prefix, 0)?;
        let hlen = match chunk::decode(&prefix[..n], 0) {
            Err(Error::Incomplete { .. }) if n == PREFIX_LEN => {
                u32::from_le_bytes([prefix[12], prefix[13], prefix[14], prefix[15]]) as usize
            }
            Err(Error::Incomplete { .. }) => return Err(Error::NotATrace),
            Err(e) => return Err(e),
            Ok(_) => 0,
        };
        if hlen > MAX_META_BYTES {
            return Err(Error::TooLarge {
                what: "file header",
                len: hlen as u64,
                limit: MAX_META_BYTES as u64,
            });
        }
        let hend = PREFIX_LEN + hlen;
        if hend as u64 > file_len {
            return Err(Error::Corrupt {
                what: "file header",
                offset: PREFIX_LEN as u64,
                reason: format!("the file ends at byte {file_len}, inside the header"),
            });
        }
        let mut hbuf = vec![0u8; hend];
        file.read_exact_at(&mut hbuf, 0)?;
        let (version, header) = match chunk::decode(&hbuf, 0)? {
            (Item::FileHeader { version, header }, _) => (version, *header),
            _ => return Err(Error::NotATrace),
        };
        let mut t = Trace {
            file,
            path: path.to_owned(),
            version,
            header,
            chunks: Vec::new(),
            trailer: None,
            cut: None,
            file_len,
        };
        if !t.load_trailer(hend as u64) {
            t.scan(hend as u64);
        }
        Ok(t)
    }

    /// Uses the trailer's index if there is a valid one; `false` otherwise.
    fn load_trailer(&mut self, data_start: u64) -> bool {
        if self.file_len < data_start + FOOTER_LEN as u64 {
            return false;
        }
        let mut foot = [0u8; FOOTER_LEN];
        if self
            .file
            .read_exact_at(&mut foot, self.file_len - FOOTER_LEN as u64)
            .is_err()
        {
            return false;
        }
        let trailer_offset = match chunk::decode(&foot, self.file_len - FOOTER_LEN as u64) {
            Ok((Item::Footer { trailer_offset }, _)) => trailer_offset,
            _ => return false,
        };
        if trailer_offset < data_start || trailer_offset >= self.file_len - FOOTER_LEN as u64 {
            return false;
        }
        let len = self.file_len - FOOTER_LEN as u64 - trailer_offset;
        if len > MAX_META_BYTES as u64 + 16 {
            return false;
        }
        let mut buf = vec![0u8; len as usize];
        if self.file.read_exact_at(&mut buf, trailer_offset).is_err() {
            return false;
        }
        let index = match chunk::decode(&buf, trailer_offset) {
            Ok((Item::Trailer(index), _)) => index,
            _ => return false,
        };
        // The index must describe chunks that really are there, in order.
        let mut chunks = Vec::with_capacity(index.chunks.len().min(1 << 20));
        let mut expect = data_start;
        for (i, e) in index.chunks.iter().enumerate() {
            if e.offset != expect {
                return false;
            }
            let Ok(h) = self.chunk_header_at(e.offset) else {
                return false;
            };
            chunks.push(ChunkInfo {
                index: i,
                offset: e.offset,
                header: h,
            });
            expect = e.offset + (CHUNK_HEADER_LEN as u64) + u64::from(h.compressed_len);
        }
        if expect != trailer_offset {
            return false;
        }
        self.chunks = chunks;
        self.trailer = Some(index);
        true
    }

    fn chunk_header_at(&self, offset: u64) -> Result<ChunkHeader> {
        let mut hb = [0u8; CHUNK_HEADER_LEN];
        self.file.read_exact_at(&mut hb, offset)?;
        ChunkHeader::decode(&hb, offset)
    }

    /// Finds the chunks by walking their headers, stopping where the file
    /// ends inside a chunk or something that is not a chunk begins.
    fn scan(&mut self, mut offset: u64) {
        loop {
            let idx = self.chunks.len();
            if offset == self.file_len {
                let reason = format!(
                    "the recording did not end cleanly (no trailer) after {idx} complete chunks"
                );
                return self.cut_at(offset, reason);
            }
            let mut hb = [0u8; CHUNK_HEADER_LEN];
            let n = match read_at_most(&self.file, &mut hb, offset) {
                Ok(n) => n,
                Err(e) => return self.cut_at(offset, format!("read error: {e}")),
            };
            if n >= 4 && hb[..4] == chunk::TRAILER_MAGIC {
                return self.cut_at(offset, "the trailer is damaged".into());
            }
            if n >= 4 && hb[..4] != chunk::CHUNK_MAGIC {
                let reason = format!("unrecognised bytes where chunk {idx} should start");
                return self.cut_at(offset, reason);
            }
            if n < CHUNK_HEADER_LEN {
                let reason = format!("the file ends inside the header of chunk {idx}");
                return self.cut_at(offset, reason);
            }
            let h = match ChunkHeader::decode(&hb, offset) {
                Ok(h) => h,
                Err(e) => return self.cut_at(offset, format!("chunk {idx}: {e}")),
            };
            let end = offset + CHUNK_HEADER_LEN as u64 + u64::from(h.compressed_len);
            if end > self.file_len {
                let reason = format!(
                    "the file ends inside chunk {idx} ({} of its {} payload bytes present)",
                    self.file_len - offset - CHUNK_HEADER_LEN as u64,
                    h.compressed_len
                );
                return self.cut_at(offset, reason);
            }
            self.chunks.push(ChunkInfo {
                index: idx,
                offset,
                header: h,
            });
            offset = end;
        }
    }

    fn cut_at(&mut self, offset: u64, reason: String) {
        self.cut = Some(Truncation {
            offset,
            file_len: self.file_len,
            reason,
        });
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The FORMAT_VERSION the file was written with.
    pub fn version(&self) -> u32 {
        self.version
    }
    pub fn header(&self) -> &Header {
        &self.header
    }
    pub fn chunks(&self) -> &[ChunkInfo] {
        &self.chunks
    }
    /// The trailer's index, when the recording ended cleanly.
    pub fn index(&self) -> Option<&Index> {
        self.trailer.as_ref()
    }
    /// Whether the file has a valid trailer.
    pub fn is_clean(&self) -> bool {
        self.trailer.is_some()
    }
    /// Where the readable part ends, if the file has no valid trailer.
    pub fn truncation(&self) -> Option<&Truncation> {
        self.cut.as_ref()
    }
    pub fn file_len(&self) -> u64 {
        self.file_len
    }
    /// Records in all readable chunks, from the chunk headers.
    pub fn record_count(&self) -> u64 {
        self.chunks
            .iter()
            .map(|c| u64::from(c.header.record_count))
            .sum()
    }

    /// Reads, verifies and decompresses chunk `i`.
    pub fn read_chunk(&self, i: usize) -> Result<ChunkData> {
        let mut data = ChunkData::default();
        let mut scratch = Vec::new();
        self.read_chunk_into(i, &mut scratch, &mut data)?;
        Ok(data)
    }

    /// Like [`Trace::read_chunk`], reusing buffers.
    pub fn read_chunk_into(
        &self,
        i: usize,
        scratch: &mut Vec<u8>,
        out: &mut ChunkData,
    ) -> Result<()> {
        self.read_chunk_part_into(i, Part::All, scratch, out)
    }

    /// Like [`Trace::read_chunk_into`], decompressing only `part`: with
    /// [`Part::Stops`] only [`ChunkData::stops`] can read the chunk.
    pub fn read_chunk_part_into(
        &self,
        i: usize,
        part: Part,
        scratch: &mut Vec<u8>,
        out: &mut ChunkData,
    ) -> Result<()> {
        let info = *self.chunks.get(i).ok_or_else(|| Error::CorruptChunk {
            index: i,
            offset: 0,
            reason: "no such chunk".into(),
        })?;
        scratch.clear();
        scratch.resize(info.header.compressed_len as usize, 0);
        self.file
            .read_exact_at(scratch, info.offset + CHUNK_HEADER_LEN as u64)?;
        out.unpack(self.version, info, scratch, part)
    }

    /// Reads every chunk in parallel (rayon) and maps each to a `T`, in chunk
    /// order. Each worker reuses its buffers; `f` sees a chunk only while it
    /// runs, so memory stays bounded by chunk size times threads.
    pub fn par_map_chunks<T, F>(&self, f: F) -> Vec<T>
    where
        T: Send,
        F: Fn(Result<&ChunkData>) -> T + Sync,
    {
        self.par_map_chunk_parts(Part::All, f)
    }

    /// Like [`Trace::par_map_chunks`], decompressing only `part` of each chunk.
    pub fn par_map_chunk_parts<T, F>(&self, part: Part, f: F) -> Vec<T>
    where
        T: Send,
        F: Fn(Result<&ChunkData>) -> T + Sync,
    {
        (0..self.chunks.len())
            .into_par_iter()
            .map_init(
                || (Vec::new(), ChunkData::default()),
                |(scratch, data), i| match self.read_chunk_part_into(i, part, scratch, data) {
                    Ok(()) => f(Ok(data)),
                    Err(e) => f(Err(e)),
                },
            )
            .collect()
    }

    /// Every record of every chunk in order, on the calling thread. Mostly
    /// for tests and small traces; the analyzer uses [`Trace::par_map_chunks`].
    pub fn for_each_record(&self, mut f: impl FnMut(&Record<'_>)) -> Result<()> {
        let mut scratch = Vec::new();
        let mut data = ChunkData::default();
        for i in 0..self.chunks.len() {
            self.read_chunk_into(i, &mut scratch, &mut data)?;
            for r in data.records() {
                f(&r?);
            }
        }
        Ok(())
    }
}

/// Reads as much of `buf` as the file has at `offset`.
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// One decompressed chunk.
#[derive(Clone, Debug, Default)]
pub struct ChunkData {
    pub info: ChunkInfo,
    /// The file's format version.
    pub version: u32,
    /// The decompressed payload (version 1: all of it in `events`).
    pub streams: Streams,
    /// Record times are in units of this many nanoseconds.
    pub time_unit: u32,
    /// Whether the detail stream was decompressed ([`Part::All`]).
    pub detail: bool,
    /// (compressed, decompressed) bytes of the events, times and detail
    /// streams (version 1: the whole payload counts as events).
    pub stream_sizes: [(u32, u32); 3],
}

impl ChunkData {
    /// Verifies and decompresses a chunk's payload (its bytes after the chunk
    /// header) of a file of format `version` into this buffer.
    pub fn unpack(
        &mut self,
        version: u32,
        info: ChunkInfo,
        payload: &[u8],
        part: Part,
    ) -> Result<()> {
        self.info = info;
        self.version = version;
        self.detail = false;
        let table = chunk::unpack(version, &info.header, payload, part, &mut self.streams)
            .map_err(|reason| Error::CorruptChunk {
                index: info.index,
                offset: info.offset,
                reason,
            })?;
        self.time_unit = table.time_unit;
        self.stream_sizes = table.sizes;
        self.detail = part == Part::All || version == 1;
        Ok(())
    }

    /// The records of this chunk, in order. Records of kinds this reader does
    /// not know are skipped (see [`Walk::unknown`]).
    pub fn records(&self) -> Records<'_> {
        Walk::new(self)
    }

    /// The chunk's records as [`ChunkDecoder::skim`] reads them: syscall
    /// stops as small [`SyscallStop`](crate::SyscallStop)s, every other kind
    /// in full. For statistics over huge traces.
    pub fn stops(&self) -> Stops<'_> {
        Walk::new(self)
    }
}

/// How a [`Walk`] reads each record: in full or skimmed.
pub trait ReadMode<'a> {
    type Item;
    /// Whether this mode reads a chunk's detail stream.
    const DETAIL: bool;
    /// The item at the cursors (None for a kind this reader does not
    /// know); advances them.
    fn read(
        dec: &mut ChunkDecoder,
        c: &mut Cursors<'a>,
    ) -> std::result::Result<Option<Self::Item>, String>;
}

/// Records in full ([`ChunkData::records`]).
pub struct Full;

/// Syscall stops skimmed ([`ChunkData::stops`]).
pub struct Skim;

impl<'a> ReadMode<'a> for Full {
    type Item = Record<'a>;
    const DETAIL: bool = true;
    #[inline]
    fn read(
        dec: &mut ChunkDecoder,
        c: &mut Cursors<'a>,
    ) -> std::result::Result<Option<Record<'a>>, String> {
        dec.decode(c).map(|d| match d {
            Decoded::Record(r) => Some(r),
            Decoded::Unknown(_) => None,
        })
    }
}

impl<'a> ReadMode<'a> for Skim {
    type Item = Skimmed<'a>;
    const DETAIL: bool = false;
    #[inline]
    fn read(
        dec: &mut ChunkDecoder,
        c: &mut Cursors<'a>,
    ) -> std::result::Result<Option<Skimmed<'a>>, String> {
        dec.skim(c).map(|d| match d {
            Skimmed::Unknown(_) => None,
            d => Some(d),
        })
    }
}

/// Iterator over a chunk's records in full.
pub type Records<'a> = Walk<'a, Full>;
/// Iterator over a chunk's records in skimmed form.
pub type Stops<'a> = Walk<'a, Skim>;

/// Iterator over a chunk's records; after an error it ends.
pub struct Walk<'a, M> {
    dec: ChunkDecoder,
    cur: Cursors<'a>,
    chunk: usize,
    n: u64,
    expected: u32,
    unknown: u64,
    /// Whether the chunk's detail stream was decompressed.
    detail: bool,
    failed: bool,
    _mode: std::marker::PhantomData<M>,
}

impl<'a, M> Walk<'a, M> {
    fn new(data: &'a ChunkData) -> Self {
        Walk {
            dec: ChunkDecoder::for_chunk(data.version, data.time_unit),
            cur: Cursors::new(&data.streams),
            chunk: data.info.index,
            n: 0,
            expected: data.info.header.record_count,
            unknown: 0,
            detail: data.detail,
            failed: false,
            _mode: std::marker::PhantomData,
        }
    }

    /// Records of unknown kinds skipped so far.
    pub fn unknown(&self) -> u64 {
        self.unknown
    }

    fn fail(&mut self, reason: String) -> Error {
        self.failed = true;
        Error::BadRecord {
            chunk: self.chunk,
            record: self.n,
            reason,
        }
    }
}

impl<'a, M: ReadMode<'a>> Iterator for Walk<'a, M> {
    type Item = Result<M::Item>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            if M::DETAIL && !self.detail {
                let reason = "the chunk was read without its detail stream".into();
                return Some(Err(self.fail(reason)));
            }
            if self.cur.is_empty() {
                if self.n != u64::from(self.expected) {
                    let reason = format!(
                        "chunk holds {} records, its header says {}",
                        self.n, self.expected
                    );
                    return Some(Err(self.fail(reason)));
                }
                if let Some(reason) = self.cur.leftover(M::DETAIL) {
                    return Some(Err(self.fail(reason.into())));
                }
                return None;
            }
            match M::read(&mut self.dec, &mut self.cur) {
                Ok(item) => {
                    self.n += 1;
                    match item {
                        Some(item) => return Some(Ok(item)),
                        None => self.unknown += 1,
                    }
                }
                Err(reason) => {
                    return Some(Err(self.fail(reason)));
                }
            }
        }
    }
}
