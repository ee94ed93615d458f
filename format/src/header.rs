//! The file header: what was recorded, where, when and how.

use crate::error::{Error, Result};
use crate::wire::{Cur, Put, Step};

/// Upper bound on the header and index bodies: enough for a huge environment,
/// small enough that a hostile length cannot exhaust memory.
pub const MAX_META_BYTES: usize = 64 << 20;

/// Everything a reader needs to interpret the records, and what a person
/// doing a postmortem wants to know about the recording.
///
/// Encoded field by field in the forms of [`crate::wire`] (FORMAT.md,
/// section 2). New fields are only ever appended at the end; a reader
/// ignores header bytes past the fields it knows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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

fn put_list(p: &mut Put<'_>, v: &[Vec<u8>]) {
    p.u64(v.len() as u64);
    for x in v {
        p.bytes(x);
    }
}

fn read_list(c: &mut Cur<'_>) -> Step<Vec<Vec<u8>>> {
    let n = c.count(1)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(c.bytes()?.to_vec());
    }
    Ok(v)
}

impl Header {
    /// The header body (without the file prefix).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let p = &mut Put(&mut out);
        p.u32(self.arch);
        p.u32(self.reg_layout);
        p.bytes(self.kernel_release.as_bytes());
        p.bytes(self.hostname.as_bytes());
        p.u32(self.page_size);
        p.u64(self.start_wall_ns);
        p.u64(self.start_mono_ns);
        put_list(p, &self.argv);
        p.bytes(&self.cwd);
        put_list(p, &self.env);
        let o = &self.options;
        p.u32(o.string_limit);
        p.bytes(o.filter.as_bytes());
        p.bytes(o.filter_mode.as_bytes());
        p.u64(o.filter_syscalls.len() as u64);
        for &n in &o.filter_syscalls {
            p.u32(n);
        }
        p.u64(o.attach_pids.len() as u64);
        for &n in &o.attach_pids {
            p.i32(n);
        }
        p.bool(o.cpu_times);
        p.bool(o.registers);
        p.bytes(self.recorder_version.as_bytes());
        out
    }

    /// Decodes a header body; `offset` (of the body in the file) is only
    /// used in errors. Bytes past the known fields are ignored: later
    /// versions only append fields.
    pub fn decode(b: &[u8], offset: u64) -> Result<Header> {
        let mut c = Cur::new(b);
        Self::read(&mut c).map_err(|reason| Error::Corrupt {
            what: "file header",
            offset: offset + (b.len() - c.b.len()) as u64,
            reason: reason.into(),
        })
    }

    fn read(c: &mut Cur<'_>) -> Step<Header> {
        Ok(Header {
            arch: c.u32()?,
            reg_layout: c.u32()?,
            kernel_release: c.str()?.to_owned(),
            hostname: c.str()?.to_owned(),
            page_size: c.u32()?,
            start_wall_ns: c.u64()?,
            start_mono_ns: c.u64()?,
            argv: read_list(c)?,
            cwd: c.bytes()?.to_vec(),
            env: read_list(c)?,
            options: RecordingOptions {
                string_limit: c.u32()?,
                filter: c.str()?.to_owned(),
                filter_mode: c.str()?.to_owned(),
                filter_syscalls: {
                    let n = c.count(1)?;
                    let mut v = Vec::with_capacity(n);
                    for _ in 0..n {
                        v.push(c.u32()?);
                    }
                    v
                },
                attach_pids: {
                    let n = c.count(1)?;
                    let mut v = Vec::with_capacity(n);
                    for _ in 0..n {
                        v.push(c.i32()?);
                    }
                    v
                },
                cpu_times: c.bool()?,
                registers: c.bool()?,
            },
            recorder_version: c.str()?.to_owned(),
        })
    }
}
