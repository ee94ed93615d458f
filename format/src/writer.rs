//! The trace writer: records are encoded into a chunk buffer on the caller's
//! thread; full (or stale) chunks go through a bounded queue to a background
//! thread that compresses and writes them, and sends the buffer back for reuse.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::chunk::{self, ChunkHeader, MAX_CHUNK_BYTES};
use crate::codec::{ChunkEncoder, Streams};
use crate::error::{Error, Result};
use crate::header::Header;
use crate::record::{Kind, Record, RegLayout};
use crate::trailer::{ChunkEntry, Index, Totals};

/// Tuning of a [`Writer`].
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// A chunk is sealed once its encoded records reach this many bytes.
    pub chunk_bytes: usize,
    /// A chunk whose first record is older than this is sealed at the next
    /// record or [`Writer::flush_if_older`], bounding what a crash loses.
    pub flush_interval: Duration,
    /// zstd compression level.
    pub level: i32,
    /// Sealed chunks that may wait for the background thread.
    pub queue_depth: usize,
    /// Record times are stored in units of this many nanoseconds, rounded
    /// down (1: exact; `rec` uses 1000, the resolution every view prints).
    pub time_unit_ns: u32,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            chunk_bytes: 1 << 20,
            flush_interval: Duration::from_secs(1),
            level: 3,
            queue_depth: 4,
            time_unit_ns: 1,
        }
    }
}

/// What a finished writer wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub records: u64,
    pub chunks: u64,
    /// Encoded record bytes before compression.
    pub uncompressed_bytes: u64,
    /// Size of the file.
    pub file_bytes: u64,
}

struct Sealed {
    payload: Streams,
    /// The zstd level to compress it at (see [`Writer::set_level`]).
    level: i32,
    record_count: u32,
    first_time: u64,
    last_time: u64,
}

enum Msg {
    Chunk(Sealed),
    Finish { by_kind: Vec<u64> },
}

/// Writes a trace file. See the crate docs for an example.
pub struct Writer {
    enc: ChunkEncoder,
    /// The header's register layout, if this crate knows it.
    layout: Option<RegLayout>,
    /// The header's `reg_layout` value, for errors.
    header_layout: u32,
    buf: Streams,
    count: u32,
    first_time: u64,
    last_time: u64,
    by_kind: [u64; Kind::TABLE_LEN],
    records: u64,
    opts: WriterOptions,
    tx: Option<SyncSender<Msg>>,
    recycled: Receiver<Streams>,
    thread: Option<JoinHandle<Result<WriteStats>>>,
}

impl Writer {
    /// Creates `path` (mode 0600: traces hold environments and buffers) and
    /// writes the file header.
    pub fn create(path: &Path, header: &Header, opts: WriterOptions) -> Result<Writer> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| Error::Open {
                path: path.to_owned(),
                source,
            })?;
        Writer::from_file(file, header, opts)
    }

    /// Writes a trace into an already open file, from its current position
    /// (which must be 0 for the trace to be readable).
    pub fn from_file(mut file: File, header: &Header, opts: WriterOptions) -> Result<Writer> {
        // The encoder stores snapshots by the header's layout's rules.
        let layout = RegLayout::from_id(header.reg_layout);
        // A trace holds the environment and buffers: an existing file that
        // is overwritten keeps its old mode, so restrict it here too. Only a
        // regular file (never /dev/null) and only where we may (best effort).
        if file.metadata().is_ok_and(|m| m.is_file()) {
            let _ = file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
        }
        let prefix = chunk::encode_file_header(header)?;
        file.write_all(&prefix)?;
        let chunk_bytes = opts.chunk_bytes.clamp(4096, MAX_CHUNK_BYTES as usize / 2);
        let (tx, rx) = sync_channel::<Msg>(opts.queue_depth.max(1));
        let (back_tx, recycled) = sync_channel::<Streams>(opts.queue_depth.max(1) + 2);
        let level = opts.level;
        let time_unit = opts.time_unit_ns.max(1);
        let start = prefix.len() as u64;
        let thread = std::thread::Builder::new()
            .name("ptrec-writer".into())
            .spawn(move || write_loop(file, start, level, time_unit, rx, back_tx))?;
        Ok(Writer {
            enc: ChunkEncoder::for_layout(layout.unwrap_or_default(), opts.time_unit_ns),
            layout,
            header_layout: header.reg_layout,
            buf: Streams::with_capacity(chunk_bytes + chunk_bytes / 4),
            count: 0,
            first_time: 0,
            last_time: 0,
            by_kind: [0; Kind::TABLE_LEN],
            records: 0,
            opts: WriterOptions {
                chunk_bytes,
                ..opts
            },
            tx: Some(tx),
            recycled,
            thread: Some(thread),
        })
    }

    /// Appends a record. Does not allocate once the chunk buffers are warm,
    /// and never blocks unless the background thread is `queue_depth` chunks behind.
    pub fn write(&mut self, r: &Record<'_>) -> Result<()> {
        if let Some(g) = r.regs() {
            if Some(g.layout()) != self.layout {
                return Err(Error::Encode(format!(
                    "a {} register snapshot in a trace whose header says register layout {}",
                    g.layout().name(),
                    self.header_layout
                )));
            }
        }
        // The chunk header's times are the records' times as stored:
        // rounded down to the time unit (FORMAT.md, section 3).
        let unit = u64::from(self.opts.time_unit_ns.max(1));
        let time = r.time() / unit * unit;
        if self.count == 0 {
            self.first_time = time;
        }
        self.enc.encode(r, &mut self.buf);
        self.count += 1;
        self.last_time = time;
        self.records += 1;
        self.by_kind[r.kind() as usize] += 1;
        if self.buf.len() >= self.opts.chunk_bytes
            || self.enc.threads() >= crate::codec::MAX_CHUNK_THREADS
            || time.saturating_sub(self.first_time) >= self.opts.flush_interval.as_nanos() as u64
        {
            self.seal()?;
        }
        Ok(())
    }

    /// Seals the current chunk if its first record is older than the flush
    /// interval at monotonic time `now_ns`. Call it when no stop has come for
    /// a while, so that a crash loses at most the flush interval.
    pub fn flush_if_older(&mut self, now_ns: u64) -> Result<()> {
        if self.count > 0
            && now_ns.saturating_sub(self.first_time) >= self.opts.flush_interval.as_nanos() as u64
        {
            self.seal()?;
        }
        Ok(())
    }

    /// Seals the current chunk now.
    pub fn flush(&mut self) -> Result<()> {
        if self.count > 0 {
            self.seal()?;
        }
        Ok(())
    }

    /// The zstd level of the chunks sealed from now on (a chunk is
    /// compressed on its own, so the level may change between chunks; the
    /// background thread changes it only when it differs). rec lowers it
    /// while every CPU it may use is busy, where compression takes CPU
    /// from the tracees.
    pub fn set_level(&mut self, level: i32) {
        self.opts.level = level;
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    fn seal(&mut self) -> Result<()> {
        // Each stream may take the whole chunk: full capacity for each, so
        // that the tracer's thread never grows a buffer (untouched pages
        // cost no memory).
        let next = self.recycled.try_recv().unwrap_or_else(|_| {
            Streams::with_capacity(self.opts.chunk_bytes + self.opts.chunk_bytes / 4)
        });
        let payload = std::mem::replace(&mut self.buf, next);
        let sealed = Sealed {
            payload,
            level: self.opts.level,
            record_count: self.count,
            first_time: self.first_time,
            last_time: self.last_time,
        };
        self.count = 0;
        self.enc.reset();
        let sent = match &self.tx {
            Some(tx) => tx.send(Msg::Chunk(sealed)).is_ok(),
            None => false,
        };
        if !sent {
            return Err(self.thread_error());
        }
        Ok(())
    }

    /// The background thread stopped early: collect its error.
    fn thread_error(&mut self) -> Error {
        self.tx = None;
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(Err(e))) => e,
            Some(Err(_)) => Error::WriterGone("the writer thread panicked".into()),
            _ => Error::WriterGone("the writer thread has stopped".into()),
        }
    }

    /// Flushes the last chunk, writes the trailer, and returns what was written.
    pub fn finish(mut self) -> Result<WriteStats> {
        self.flush()?;
        let sent = match self.tx.take() {
            Some(tx) => tx
                .send(Msg::Finish {
                    by_kind: self.by_kind.to_vec(),
                })
                .is_ok(),
            None => false,
        };
        let result = match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(Error::WriterGone("the writer thread panicked".into())),
            None => Err(Error::WriterGone("the writer thread has stopped".into())),
        };
        let mut stats = result?;
        if !sent {
            return Err(Error::WriterGone("the writer thread has stopped".into()));
        }
        stats.records = self.records;
        Ok(stats)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Not finished (an error path): seal what we have so it is readable
        // up to here, then let the thread end without a trailer.
        if self.tx.is_some() {
            let _ = self.flush();
            self.tx = None;
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }
}

fn write_loop(
    mut file: File,
    mut offset: u64,
    level: i32,
    time_unit: u32,
    rx: Receiver<Msg>,
    back: SyncSender<Streams>,
) -> Result<WriteStats> {
    let mut comp = zstd::bulk::Compressor::new(level)?;
    let mut comp_level = level;
    let mut out: Vec<u8> = Vec::new();
    let mut index = Index::default();
    let mut totals = Totals::default();
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Chunk(s) => {
                if s.level != comp_level {
                    comp.set_compression_level(s.level)?;
                    comp_level = s.level;
                }
                chunk::pack(&mut comp, &s.payload, time_unit, &mut out)?;
                let n = out.len();
                let h = ChunkHeader {
                    compressed_len: n as u32,
                    uncompressed_len: s.payload.len() as u32,
                    record_count: s.record_count,
                    first_time: s.first_time,
                    last_time: s.last_time,
                    payload_crc: crc32fast::hash(&out[..n]),
                    seq: index.chunks.len() as u64,
                };
                file.write_all(&h.encode())?;
                file.write_all(&out[..n])?;
                index.chunks.push(ChunkEntry {
                    offset,
                    record_count: s.record_count,
                    first_time: s.first_time,
                    last_time: s.last_time,
                });
                offset += (chunk::CHUNK_HEADER_LEN + n) as u64;
                totals.records += u64::from(s.record_count);
                totals.uncompressed_bytes += s.payload.len() as u64;
                totals.compressed_bytes += n as u64;
                let mut p = s.payload;
                p.clear();
                // The writer keeps at most a few spare buffers; drop the rest.
                let _ = back.try_send(p);
            }
            Msg::Finish { by_kind } => {
                totals.by_kind = by_kind;
                index.totals = totals;
                let tail = chunk::encode_trailer(&index, offset)?;
                file.write_all(&tail)?;
                file.flush()?;
                offset += tail.len() as u64;
                return Ok(WriteStats {
                    records: index.totals.records,
                    chunks: index.chunks.len() as u64,
                    uncompressed_bytes: index.totals.uncompressed_bytes,
                    file_bytes: offset,
                });
            }
        }
    }
    // The Writer was dropped without finish(): the file ends without a
    // trailer, which readers handle by scanning.
    Ok(WriteStats {
        records: totals.records,
        chunks: index.chunks.len() as u64,
        uncompressed_bytes: totals.uncompressed_bytes,
        file_bytes: offset,
    })
}
