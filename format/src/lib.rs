//! The ptrec trace file format.
//!
//! A trace file is a header, a sequence of independently decodable chunks
//! (a fixed little-endian chunk header, a stream table, and one zstd frame
//! per stream of encoded records), and, when the recording ended cleanly, a
//! trailer with an index.
//! `FORMAT.md` beside this crate is the specification; this crate is its
//! reference implementation. It knows nothing of ptrace: it stores raw
//! integers (tids, signal numbers, syscall numbers) and the architecture tag
//! of the recording, so it builds and reads traces on any host.
//!
//! Main types:
//! - [`Record`]: one ptrace stop or recorder event, named after `ptrace(2)`;
//!   it borrows its bytes. [`OwnedRecord`] ([`Record::to_owned`]) owns them.
//! - [`Regs`]: a register snapshot tagged by its [`RegLayout`] (x86_64,
//!   aarch64); [`LayoutDesc`] says which registers hold the syscall number,
//!   arguments and return value, and drives the codec's predictions.
//! - [`Header`]: what was recorded, where, how; [`Header::trace_id`].
//! - [`Writer`]: encodes records on the caller's thread; a background thread
//!   compresses and writes chunks.
//! - [`Trace`]: opens a file, finds its chunks (trailer or scan; duplicated
//!   and reordered chunks left out and reported) and decodes them, in
//!   parallel with [`Trace::par_map_chunks`], or only the good ones with
//!   [`Trace::par_map_good_chunks`]; [`Trace::verify`] decodes everything.
//! - [`chunk::decode`]: the I/O-free decoder of the framing;
//!   [`memfile::read_bytes`] reads a trace held in memory by the same rules.
//! - [`codec::ChunkEncoder`], [`codec::ChunkDecoder`]: record bodies, per
//!   format version and register layout.
//!
//! ```
//! use ptrec_format::{Header, Record, Trace, Writer, WriterOptions};
//! # fn main() -> Result<(), ptrec_format::Error> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("t.bin");
//! let mut w = Writer::create(&path, &Header::default(), WriterOptions::default())?;
//! w.write(&Record::GroupStop { tid: 42, time: 1_000, signo: 19 })?;
//! w.finish()?;
//! let t = Trace::open(&path)?;
//! let mut n = 0;
//! t.for_each_record(|r| { assert_eq!(r.tid(), 42); n += 1; })?;
//! assert_eq!(n, 1);
//! # Ok(()) }
//! ```
//!
//! Naming: `tid` is a thread id, `tgid` a thread-group (process) id; times are
//! CLOCK_MONOTONIC nanoseconds.

// Layers, each using only the ones above it: version, wire (values) → arch
// (register layouts), record, owned (the types) → header, trailer
// (hand-coded metadata) → codec (record bodies per version and layout) →
// chunk (framing: prefix, chunk header, stream table, zstd) → layout (where
// the chunks are: the crash-reading rules, with the sequence check) →
// reader, writer, memfile.
mod arch;
pub mod chunk;
pub mod codec;
mod error;
mod header;
mod layout;
pub mod memfile;
mod owned;
mod reader;
mod record;
mod trailer;
mod version;
mod wire;
mod writer;

pub use chunk::{ChunkHeader, Part, FORMAT_VERSION};
pub use codec::{Lean, LeanStop, Skimmed, Streams, SyscallStop};
pub use error::{Error, Result};
pub use header::{Header, RecordingOptions, Redaction, TraceId, MAX_META_BYTES};
pub use layout::{ChunkInfo, SeqGap, SkipReason, SkippedChunk, Truncation};
pub use owned::OwnedRecord;
pub use reader::{
    ChunkData, GoodChunks, Integrity, LeanRecords, ReadOptions, Records, Stops, Trace, Walk,
};
pub use record::*;
pub use trailer::{ChunkEntry, Index, Totals};
pub use writer::{WriteStats, Writer, WriterOptions};
