//! The format crate's one error type.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The buffer ends before the item does: give the decoder more bytes.
    #[error("incomplete input: {needed} more bytes needed at least")]
    Incomplete { needed: usize },
    #[error("not a ptrec trace file (bad magic)")]
    NotATrace,
    #[error("empty file, not a ptrec trace (nothing was ever written to it)")]
    Empty,
    #[error("trace format version {found} is newer than this reader supports ({supported}); upgrade ptrec")]
    NewerVersion { found: u32, supported: u32 },
    #[error("corrupted {what} at byte offset {offset}: {reason}")]
    Corrupt {
        what: &'static str,
        offset: u64,
        reason: String,
    },
    #[error("chunk {index} at byte offset {offset} is corrupted: {reason}")]
    CorruptChunk {
        index: usize,
        offset: u64,
        reason: String,
    },
    #[error("cannot decode record {record} of chunk {chunk}: {reason}")]
    BadRecord {
        chunk: usize,
        record: u64,
        reason: String,
    },
    #[error("{what} too large: {len} bytes (limit {limit})")]
    TooLarge {
        what: &'static str,
        len: u64,
        limit: u64,
    },
    #[error("{path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("the trace writer thread failed: {0}")]
    WriterGone(String),
    #[error("cannot encode: {0}")]
    Encode(String),
}
