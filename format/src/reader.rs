//! Reading a trace file: header, chunk index (from the trailer, or by
//! scanning after a crash), and chunks that decode independently, in parallel.
//!
//! Memory stays bounded by the chunk size times the number of chunks being
//! decoded at once: the file is read with positioned reads, never whole.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::chunk::{self, Part, CHUNK_HEADER_LEN};
use crate::codec::{ChunkDecoder, Cursors, Decoded, Lean, Skimmed, Streams};
use crate::error::{Error, Result};
use crate::header::Header;
use crate::layout::{self, ChunkInfo, SeqGap, SkipReason, SkippedChunk, Truncation};
use crate::record::{Record, RegLayout};
use crate::trailer::Index;

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
    skipped: Vec<SkippedChunk>,
    gaps: Vec<SeqGap>,
}

/// How [`Trace::open_with`] treats a damaged file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Refuse the file (and, in [`Trace::par_map_good_chunks`], stop) at the
    /// first chunk that would be skipped or missing, instead of reading on.
    pub strict: bool,
}

/// What [`Trace::par_map_good_chunks`] produced: one value per good chunk,
/// in file order, and every chunk left out with why.
#[derive(Clone, Debug)]
pub struct GoodChunks<T> {
    pub good: Vec<T>,
    /// Sorted by file position: the sequence check's and the decoder's.
    pub skipped: Vec<SkippedChunk>,
}

/// What [`Trace::verify`] found after decoding every stream of every chunk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Integrity {
    /// Chunks whose every stream and record decoded.
    pub chunks_ok: usize,
    pub records: u64,
    /// Records of kinds this reader does not know (skipped, not errors).
    pub unknown: u64,
    /// Every chunk left out, with why (sequence and decoding).
    pub skipped: Vec<SkippedChunk>,
    /// Chunks missing from the sequence.
    pub gaps: Vec<SeqGap>,
    /// Where the readable part ends early, if it does.
    pub truncation: Option<Truncation>,
}

impl Integrity {
    /// Every chunk there is decoded, none is missing, none left out
    /// (the file may still end without a trailer: see `truncation`).
    pub fn is_ok(&self) -> bool {
        self.skipped.is_empty() && self.gaps.is_empty()
    }
}

impl Trace {
    /// Opens a trace: reads the header and the chunk index, from the trailer
    /// when the file was closed cleanly, else by scanning chunk headers
    /// (the rules of [`layout`](crate::layout), shared with
    /// [`memfile`](crate::memfile)).
    ///
    /// Duplicated and reordered chunks are left out (see [`Trace::skipped`]);
    /// [`Trace::open_with`] with `strict` refuses such a file instead.
    pub fn open(path: impl AsRef<Path>) -> Result<Trace> {
        Self::open_with(path, ReadOptions::default())
    }

    /// [`Trace::open`] with options.
    pub fn open_with(path: impl AsRef<Path>, opts: ReadOptions) -> Result<Trace> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Open {
            path: path.to_owned(),
            source,
        })?;
        let l = layout::locate(&file)?;
        if opts.strict {
            if let Some(s) = l.skipped.first() {
                return Err(s.to_error());
            }
            if let Some(g) = l.gaps.first() {
                return Err(Error::CorruptChunk {
                    index: g.before,
                    offset: l
                        .chunks
                        .iter()
                        .find(|c| c.index == g.before)
                        .map_or(0, |c| c.offset),
                    reason: g.to_string(),
                });
            }
        }
        Ok(Trace {
            file,
            path: path.to_owned(),
            version: l.version,
            header: l.header,
            chunks: l.chunks,
            trailer: l.trailer,
            cut: l.cut,
            file_len: l.file_len,
            skipped: l.skipped,
            gaps: l.gaps,
        })
    }

    /// Chunks the sequence check left out of [`Trace::chunks`]: duplicates
    /// and chunks out of order (FORMAT.md, section 7).
    pub fn skipped(&self) -> &[SkippedChunk] {
        &self.skipped
    }

    /// Chunks missing from the sequence (their seqs never appear).
    pub fn gaps(&self) -> &[SeqGap] {
        &self.gaps
    }

    /// The register layout of the recording's snapshots, from the header's
    /// `reg_layout`; `None` when this reader does not know it.
    pub fn layout(&self) -> Option<RegLayout> {
        RegLayout::from_id(self.header.reg_layout)
    }

    /// The recording's identifier ([`Header::trace_id`]).
    pub fn trace_id(&self) -> crate::TraceId {
        self.header.trace_id()
    }

    /// Maps every good chunk to a `T` in parallel, in file order, and lists
    /// the chunks left out: by the sequence check, because the chunk does
    /// not unpack (checksum, stream table, zstd), or because `f` says its
    /// records do not decode (return the first record error). With
    /// `strict`, the first chunk left out is the error instead.
    pub fn par_map_good_chunks<T, F>(&self, part: Part, strict: bool, f: F) -> Result<GoodChunks<T>>
    where
        T: Send,
        F: Fn(&ChunkData) -> Result<T> + Sync,
    {
        if strict {
            if let Some(s) = self.skipped.first() {
                return Err(s.to_error());
            }
        }
        let results = self.par_map_chunk_parts(part, |c| c.and_then(&f));
        let mut good = Vec::with_capacity(results.len());
        let mut skipped = self.skipped.clone();
        for (info, r) in self.chunks.iter().zip(results) {
            match r {
                Ok(t) => good.push(t),
                Err(e) => {
                    let reason = match e {
                        Error::CorruptChunk { reason, .. } => reason,
                        Error::BadRecord { record, reason, .. } => {
                            format!("record {record}: {reason}")
                        }
                        other => other.to_string(),
                    };
                    let s = SkippedChunk {
                        index: info.index,
                        offset: info.offset,
                        reason: SkipReason::Corrupt(reason),
                    };
                    if strict {
                        return Err(s.to_error());
                    }
                    skipped.push(s);
                }
            }
        }
        skipped.sort_by_key(|s| s.index);
        Ok(GoodChunks { good, skipped })
    }

    /// The full integrity check: decompresses every stream of every chunk
    /// and decodes every record to its last field and capture, so "ok"
    /// means every byte was read (a valid checksum over a garbage detail
    /// stream is found here). For `analyze info`.
    pub fn verify(&self) -> Integrity {
        let r = self.par_map_good_chunks(Part::All, false, |d| {
            let mut it = d.records();
            let mut n = 0u64;
            for r in it.by_ref() {
                for m in r?.captures().iter() {
                    std::hint::black_box(m.data);
                }
                n += 1;
            }
            Ok((n, it.unknown()))
        });
        // Not strict: par_map_good_chunks cannot fail.
        let r = r.unwrap_or(GoodChunks {
            good: Vec::new(),
            skipped: Vec::new(),
        });
        Integrity {
            chunks_ok: r.good.len(),
            records: r.good.iter().map(|g| g.0).sum(),
            unknown: r.good.iter().map(|g| g.1).sum(),
            skipped: r.skipped,
            gaps: self.gaps.clone(),
            truncation: self.cut.clone(),
        }
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
        // Not cleared first: resizing zeroes only what the buffer grows by,
        // and the read overwrites every byte.
        scratch.resize(info.header.compressed_len as usize, 0);
        self.file
            .read_exact_at(scratch, info.offset + CHUNK_HEADER_LEN as u64)?;
        out.layout = self.layout();
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
        let all = self.par_map_chunk_parts_until(part, || false, f);
        all.into_iter().flatten().collect()
    }

    /// Like [`Trace::par_map_chunk_parts`], but a chunk is not read (its
    /// entry is `None`) once `done` says the answer is known: a search
    /// that stops early reads only the chunks it needs, or about one per
    /// thread more.
    pub fn par_map_chunk_parts_until<T, D, F>(&self, part: Part, done: D, f: F) -> Vec<Option<T>>
    where
        T: Send,
        D: Fn() -> bool + Sync,
        F: Fn(Result<&ChunkData>) -> T + Sync,
    {
        (0..self.chunks.len())
            .into_par_iter()
            .map_init(
                || (Vec::new(), ChunkData::default()),
                |(scratch, data), i| {
                    if done() {
                        return None;
                    }
                    Some(match self.read_chunk_part_into(i, part, scratch, data) {
                        Ok(()) => f(Ok(data)),
                        Err(e) => f(Err(e)),
                    })
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

/// One decompressed chunk.
#[derive(Clone, Debug)]
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
    /// The register layout its snapshots have (the header's; `None` when
    /// this reader does not know it). [`Trace`] sets it; x86_64 by default.
    pub layout: Option<RegLayout>,
}

impl Default for ChunkData {
    fn default() -> Self {
        ChunkData {
            info: ChunkInfo::default(),
            version: 0,
            streams: Streams::default(),
            time_unit: 1,
            detail: false,
            stream_sizes: [(0, 0); 3],
            layout: Some(RegLayout::X86_64),
        }
    }
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

    /// The chunk's records as [`ChunkDecoder::lean`] reads them: syscall
    /// stops with their arguments, program counter and captures but no
    /// register snapshot, every other kind in full. For readers of calls.
    pub fn lean(&self) -> LeanRecords<'_> {
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

impl<'a> ReadMode<'a> for LeanMode {
    type Item = Lean<'a>;
    const DETAIL: bool = true;
    #[inline]
    fn read(
        dec: &mut ChunkDecoder,
        c: &mut Cursors<'a>,
    ) -> std::result::Result<Option<Lean<'a>>, String> {
        dec.lean(c).map(|d| match d {
            Lean::Unknown(_) => None,
            d => Some(d),
        })
    }
}

/// Syscall stops without their register snapshots ([`ChunkData::lean`]).
pub struct LeanMode;

/// Iterator over a chunk's records, syscall stops in their lean form.
pub type LeanRecords<'a> = Walk<'a, LeanMode>;

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
            dec: ChunkDecoder::for_layout(data.version, data.time_unit, data.layout),
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
