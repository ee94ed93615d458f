//! The file header: what was recorded, where, when and how.

use serde::{Deserialize, Serialize};

/// Everything a reader needs to interpret the records, and what a person
/// doing a postmortem wants to know about the recording.
///
/// Encoded with bincode (see `codec`). New fields are only ever appended at
/// the end; a reader ignores header bytes past the fields it knows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// AUDIT_ARCH value of the tracees (`AUDIT_ARCH_X86_64`).
    pub arch: u32,
    /// Register snapshot layout id (`REG_LAYOUT_X86_64`).
    pub reg_layout: u32,
    /// `uname -r` of the recording machine.
    pub kernel_release: String,
    pub hostname: String,
    pub page_size: u32,
    /// Wall clock at the start, nanoseconds since the Unix epoch.
    pub start_wall_ns: u64,
    /// CLOCK_MONOTONIC at the same instant: record times are on this clock.
    pub start_mono_ns: u64,
    /// The command line that was started (empty when only attaching).
    pub argv: Vec<Vec<u8>>,
    /// rec's working directory, where the command started.
    pub cwd: Vec<u8>,
    /// The command's environment, `NAME=value` entries.
    pub env: Vec<Vec<u8>>,
    pub options: RecordingOptions,
    /// `ptrec <version>` of the recorder that wrote the file.
    pub recorder_version: String,
}

/// How the recording was made.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingOptions {
    /// `-s`: bytes captured of each string or buffer argument.
    pub string_limit: u32,
    /// `-e trace=...` as given, empty for "all".
    pub filter: String,
    /// How the filter is applied: "none", "seccomp-bpf" or "skip-records".
    pub filter_mode: String,
    /// The syscall numbers the filter selects (empty when there is no filter).
    pub filter_syscalls: Vec<u32>,
    /// Processes attached with `-p`.
    pub attach_pids: Vec<i32>,
    /// Whether syscall records carry `stime_us`.
    pub cpu_times: bool,
    /// Whether syscall records carry full register snapshots.
    pub registers: bool,
}
