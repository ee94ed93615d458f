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
#[derive(Clone, Debug, PartialEq, Eq)]
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
    // Fields appended in version 3 (absent from older files: their default).
    /// Random bytes rec draws for each recording ([`TraceId::random`]):
    /// with the host and start time, what makes [`Header::trace_id`] unique.
    /// All zero when not recorded (files before version 3).
    pub nonce: [u8; 16],
    /// How rec waited for stops, free-form (for example
    /// `spin<=50us,adaptive`); empty when not recorded.
    pub wait_policy: String,
    /// The redaction applied to this trace, if any.
    pub redaction: Option<Redaction>,
    /// Entries of `env` whose value (after the first `=`) a redaction
    /// dropped: (index into `env`, the value's original length in bytes).
    pub env_redacted: Vec<(u32, u64)>,
    /// Elements of `argv` a redaction cut: (index, bytes dropped after what
    /// the element still holds).
    pub argv_redacted: Vec<(u32, u64)>,
}

impl Default for Header {
    /// An empty header of an x86_64 recording.
    fn default() -> Self {
        Header {
            arch: crate::arch::AUDIT_ARCH_X86_64,
            reg_layout: crate::arch::REG_LAYOUT_X86_64,
            kernel_release: String::new(),
            hostname: String::new(),
            page_size: 0,
            start_wall_ns: 0,
            start_mono_ns: 0,
            argv: Vec::new(),
            cwd: Vec::new(),
            env: Vec::new(),
            options: RecordingOptions::default(),
            recorder_version: String::new(),
            nonce: [0; 16],
            wait_policy: String::new(),
            redaction: None,
            env_redacted: Vec::new(),
            argv_redacted: Vec::new(),
        }
    }
}

/// A redaction applied to a trace (by `rec --redact` or `analyze redact`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Redaction {
    /// The policy's name (`default`, or what the user named).
    pub policy: String,
    /// When it was applied: wall clock, nanoseconds since the Unix epoch.
    pub applied_wall_ns: u64,
}

/// A stable identifier of one recording, 16 bytes, shown as 32 hex digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(pub [u8; 16]);

impl std::fmt::Display for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl TraceId {
    /// 16 random bytes from the kernel (`/dev/urandom`), for
    /// [`Header::nonce`].
    pub fn random() -> std::io::Result<[u8; 16]> {
        use std::io::Read;
        let mut b = [0u8; 16];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
        Ok(b)
    }
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
    /// The recording's identifier: the nonce, hashed with the host and the
    /// start times, so that two recordings never share one even if a nonce
    /// repeats; for a file without a nonce (before version 3) the same
    /// hash of what the header holds, stable for that file.
    pub fn trace_id(&self) -> TraceId {
        let mut b = Vec::new();
        let p = &mut Put(&mut b);
        p.bytes(&self.nonce);
        p.bytes(self.hostname.as_bytes());
        p.u64(self.start_wall_ns);
        p.u64(self.start_mono_ns);
        p.bytes(self.kernel_release.as_bytes());
        put_list(p, &self.argv);
        p.bytes(&self.cwd);
        // Four CRC32s with different seeds: not a cryptographic hash, an
        // identifier; the nonce provides the uniqueness.
        let mut id = [0u8; 16];
        for (i, part) in id.chunks_exact_mut(4).enumerate() {
            let mut h = crc32fast::Hasher::new_with_initial(0x5054_5245 ^ (i as u32 + 1));
            h.update(&b);
            part.copy_from_slice(&h.finalize().to_le_bytes());
        }
        TraceId(id)
    }

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
        p.bytes(&self.nonce);
        p.bytes(self.wait_policy.as_bytes());
        match &self.redaction {
            None => p.u8(0),
            Some(r) => {
                p.u8(1);
                p.bytes(r.policy.as_bytes());
                p.u64(r.applied_wall_ns);
            }
        }
        p.pairs(&self.env_redacted);
        p.pairs(&self.argv_redacted);
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
        let mut h = Self::read_v1(c)?;
        // Version 3's fields, each absent when the body ends before it.
        if !c.is_empty() {
            h.nonce = match c.bytes()? {
                [] => [0; 16],
                b => b.try_into().map_err(|_| "a nonce that is not 16 bytes")?,
            };
        }
        if !c.is_empty() {
            h.wait_policy = c.str()?.to_owned();
        }
        if !c.is_empty() {
            h.redaction = match c.u8()? {
                0 => None,
                1 => Some(Redaction {
                    policy: c.str()?.to_owned(),
                    applied_wall_ns: c.u64()?,
                }),
                _ => return Err("a redaction tag that is neither 0 nor 1"),
            };
        }
        if !c.is_empty() {
            h.env_redacted = c.pairs()?;
        }
        if !c.is_empty() {
            h.argv_redacted = c.pairs()?;
        }
        Ok(h)
    }

    /// The fields of versions 1 and 2.
    fn read_v1(c: &mut Cur<'_>) -> Step<Header> {
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
            ..Header::default()
        })
    }
}
