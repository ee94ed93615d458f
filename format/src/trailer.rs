//! The trailer written on clean close: where every chunk is, and totals.

use serde::{Deserialize, Serialize};

/// Index of a cleanly closed trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub chunks: Vec<ChunkEntry>,
    pub totals: Totals,
}

/// Where one chunk is and what it holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkEntry {
    /// Byte offset of the chunk header in the file.
    pub offset: u64,
    pub record_count: u32,
    pub first_time: u64,
    pub last_time: u64,
}

/// Totals over the whole recording.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub records: u64,
    /// Records per kind, indexed by the kind byte (index 0 unused).
    pub by_kind: Vec<u64>,
    /// Sum of the chunks' payloads before compression.
    pub uncompressed_bytes: u64,
    /// Sum of the chunks' compressed payloads.
    pub compressed_bytes: u64,
}
