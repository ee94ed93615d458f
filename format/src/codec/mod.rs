//! Record bodies, per format version: how a [`Record`] is laid out in a
//! chunk's decompressed streams (FORMAT.md, sections 4 and 9).
//!
//! The values themselves are written and read by [`crate::wire`]; this layer
//! adds the per-chunk delta state (thread slots, times, register
//! predictions). It knows nothing of compression, chunk headers or files:
//! `chunk` frames what this produces. `v1` reads version-1 payloads (one
//! stream), `v2` writes and reads the three-stream payloads of versions 2
//! and 3, which differ only in their framing.

use rustc_hash::FxHashMap;

use crate::record::{read_captures, ChildKind, Kind, Record, Regs, Termination, Tid, REG_COUNT};
#[cfg(test)]
use crate::record::{Captures, Mem};
use crate::wire::{Cur, Put, Step};

pub use crate::record::CaptureBuf;

mod v1;
mod v2;

use crate::arch::RegLayout;

/// Encodes records into the streams of a chunk payload of the current
/// version, by the rules of one register layout (from the header).
pub struct ChunkEncoder {
    inner: EncInner,
}

enum EncInner {
    X86(v2::Encoder<v2::X86>),
    Aarch64(v2::Encoder<v2::Aarch64>),
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkEncoder {
    /// An x86_64 encoder that keeps times to the nanosecond.
    pub fn new() -> Self {
        Self::with_time_unit(1)
    }

    /// An x86_64 encoder that stores times in units of `ns` nanoseconds
    /// (rounded down). `rec` uses 1000: every view prints microseconds.
    pub fn with_time_unit(ns: u32) -> Self {
        Self::for_layout(RegLayout::X86_64, ns)
    }

    /// An encoder of snapshots of `layout`, times in units of `ns`.
    pub fn for_layout(layout: RegLayout, ns: u32) -> Self {
        let inner = match layout {
            RegLayout::X86_64 => EncInner::X86(v2::Encoder::with_time_unit(ns)),
            RegLayout::Aarch64 => EncInner::Aarch64(v2::Encoder::with_time_unit(ns)),
        };
        ChunkEncoder { inner }
    }

    /// Threads in the current chunk: a writer seals the chunk at
    /// [`MAX_CHUNK_THREADS`], the most a reader accepts.
    pub fn threads(&self) -> usize {
        match &self.inner {
            EncInner::X86(e) => e.threads(),
            EncInner::Aarch64(e) => e.threads(),
        }
    }

    /// Forget the delta state: call when a new chunk starts.
    pub fn reset(&mut self) {
        match &mut self.inner {
            EncInner::X86(e) => e.reset(),
            EncInner::Aarch64(e) => e.reset(),
        }
    }

    /// Appends one record to the streams. A register snapshot of another
    /// layout than the encoder's is not stored ([`Writer`](crate::Writer)
    /// refuses such a record with an error instead).
    #[inline]
    pub fn encode(&mut self, r: &Record<'_>, out: &mut Streams) {
        match &mut self.inner {
            EncInner::X86(e) => e.encode(r, out),
            EncInner::Aarch64(e) => e.encode(r, out),
        }
    }
}

/// One item of a chunk payload.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // a Record is the common case; boxing it would allocate per record
pub enum Decoded<'a> {
    Record(Record<'a>),
    /// A record kind this reader does not know (written by a later minor
    /// revision): skipped, its kind byte reported.
    Unknown(u8),
}

/// Up to this many threads in a chunk, a linear scan of its thread table
/// beats hashing tids (the encoders' lookups).
const SCAN_THREADS: usize = 8;

/// Threads one chunk may hold: the writer seals a chunk when it reaches
/// this many, and a decoder refuses more (each costs it ~250 bytes).
pub const MAX_CHUNK_THREADS: usize = 65536;
const TOO_MANY_THREADS: &str = "more than 65536 threads in one chunk";

/// `flag` when `on`, else no bit: syscall-record flags.
fn bit(on: bool, flag: u8) -> u8 {
    if on {
        flag
    } else {
        0
    }
}

/// A syscall stop as the statistics need it: no registers copied out and
/// captures skipped (see [`ChunkDecoder::skim`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallStop {
    /// Entry (true) or exit (false).
    pub enter: bool,
    pub tid: Tid,
    pub time: u64,
    pub stime_us: Option<u64>,
    pub nr: u64,
    /// The return value at an exit; 0 at an entry.
    pub ret: i64,
}

/// One item of a chunk payload as [`ChunkDecoder::skim`] sees it.
#[derive(Debug)]
pub enum Skimmed<'a> {
    Syscall(SyscallStop),
    /// Every other record kind, fully decoded. Boxed: these are rare, and an
    /// unboxed `Record` would make every skimmed stop as large as a record
    /// with registers, copied at every step of the iteration.
    Record(Box<Record<'a>>),
    Unknown(u8),
}

/// A syscall stop as [`ChunkDecoder::lean`] reads it: everything but the
/// register snapshot, of which only the program counter is kept. What a
/// reader of calls (entries joined with exits) needs, at a fraction of a
/// [`Record`]'s size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeanStop<'a> {
    /// Entry (true) or exit (false).
    pub enter: bool,
    pub tid: Tid,
    pub time: u64,
    pub stime_us: Option<u64>,
    pub nr: u64,
    /// The six arguments at an entry; zero at an exit.
    pub args: [u64; 6],
    /// The return value at an exit; 0 at an entry.
    pub ret: i64,
    /// The program counter, when the stop holds registers.
    pub pc: Option<u64>,
    /// Memory captured at the stop.
    pub mem: crate::record::Captures<'a>,
}

/// One item of a chunk payload as [`ChunkDecoder::lean`] sees it.
#[derive(Debug)]
pub enum Lean<'a> {
    Syscall(LeanStop<'a>),
    /// Every other record kind, fully decoded; boxed as in [`Skimmed`].
    Record(Box<Record<'a>>),
    Unknown(u8),
}

impl<'a> Lean<'a> {
    /// The lean form of a decoded record.
    fn of(d: Decoded<'a>) -> Lean<'a> {
        match d {
            Decoded::Record(Record::SyscallEnter {
                tid,
                time,
                stime_us,
                nr,
                args,
                regs,
                mem,
            }) => Lean::Syscall(LeanStop {
                enter: true,
                tid,
                time,
                stime_us,
                nr,
                args,
                ret: 0,
                pc: regs.map(|r| r.pc()),
                mem,
            }),
            Decoded::Record(Record::SyscallExit {
                tid,
                time,
                stime_us,
                nr,
                ret,
                regs,
                mem,
            }) => Lean::Syscall(LeanStop {
                enter: false,
                tid,
                time,
                stime_us,
                nr,
                args: [0; 6],
                ret,
                pc: regs.map(|r| r.pc()),
                mem,
            }),
            Decoded::Record(r) => Lean::Record(Box::new(r)),
            Decoded::Unknown(k) => Lean::Unknown(k),
        }
    }
}

/// Encodes the fields of a record that is not a syscall stop, after its tid
/// and time (the same in every version).
fn encode_other(e: &mut Put<'_>, r: &Record<'_>) {
    match r {
        Record::SignalDelivery { signo, siginfo, .. } => {
            e.i32(*signo);
            e.bytes(siginfo);
        }
        Record::GroupStop { signo, .. } => {
            e.i32(*signo);
        }
        Record::NewChild {
            child,
            kind,
            flags,
            inferred,
            ..
        } => {
            e.i32(*child);
            e.u8(*kind as u8);
            e.u64(*flags);
            // Appended in version 3: older readers ignore it.
            e.bool(*inferred);
        }
        Record::VforkDone { child, .. } => {
            e.i32(*child);
        }
        Record::Exec {
            former_tid,
            filename,
            argv,
            argv_redacted,
            ..
        } => {
            e.i32(*former_tid);
            e.bytes(filename);
            e.u64(argv.len() as u64);
            for a in argv {
                e.bytes(a);
            }
            // Appended in version 3.
            e.pairs(argv_redacted);
        }
        Record::ExitEvent { status, .. } => {
            e.i32(*status);
        }
        Record::Death { how, .. } => match how {
            Termination::Exited(code) => {
                e.u8(0);
                e.i32(*code);
            }
            Termination::Signaled { signo, core } => {
                e.u8(1 + u8::from(*core));
                e.i32(*signo);
            }
        },
        Record::Attach {
            tgid,
            ppid,
            state,
            group_stopped,
            comm,
            exe,
            cwd,
            ..
        } => {
            e.i32(*tgid);
            e.i32(*ppid);
            e.u8(*state);
            e.bool(*group_stopped);
            e.bytes(comm);
            e.bytes(exe);
            e.bytes(cwd);
        }
        Record::Detach { state, signo, .. } => {
            e.u8(*state);
            e.i32(*signo);
        }
        Record::Note {
            kind, value, text, ..
        } => {
            e.u32(*kind);
            e.u64(*value);
            e.bytes(text);
        }
        Record::OpenFd {
            fd,
            flags,
            pos,
            target,
            detail,
            ..
        } => {
            e.i32(*fd);
            e.u32(*flags);
            e.u64(*pos);
            e.bytes(target);
            // Optional: a body that ends after `target` has none.
            if !detail.is_empty() {
                e.bytes(detail);
            }
        }
        // The chunk encoders write these themselves.
        Record::SyscallEnter { .. } | Record::SyscallExit { .. } => {}
    }
}

/// Decodes the fields of a record that is not a syscall stop, after its tid
/// and time (the same in every version).
fn decode_other<'a>(k: Kind, tid: Tid, time: u64, c: &mut Cur<'a>) -> Step<Record<'a>> {
    Ok(match k {
        Kind::SignalDelivery => Record::SignalDelivery {
            tid,
            time,
            signo: c.i32()?,
            siginfo: c.bytes()?,
        },
        Kind::GroupStop => Record::GroupStop {
            tid,
            time,
            signo: c.i32()?,
        },
        Kind::NewChild => {
            let child = c.i32()?;
            let kind = match c.u8()? {
                0 => ChildKind::Fork,
                1 => ChildKind::Vfork,
                2 => ChildKind::Clone,
                _ => return Err("unknown child kind"),
            };
            let flags = c.u64()?;
            // Absent before version 3.
            let inferred = !c.is_empty() && c.bool()?;
            Record::NewChild {
                tid,
                time,
                child,
                kind,
                flags,
                inferred,
            }
        }
        Kind::VforkDone => Record::VforkDone {
            tid,
            time,
            child: c.i32()?,
        },
        Kind::Exec => {
            let former_tid = c.i32()?;
            let filename = c.bytes()?;
            let n = c.u64()?;
            // Every element takes at least one byte: bound before allocating.
            if n > c.b.len() as u64 {
                return Err("argv count exceeds record size");
            }
            let mut argv = Vec::with_capacity(n as usize);
            for _ in 0..n {
                argv.push(c.bytes()?);
            }
            // Absent before version 3.
            let argv_redacted = if c.is_empty() { Vec::new() } else { c.pairs()? };
            Record::Exec {
                tid,
                time,
                former_tid,
                filename,
                argv,
                argv_redacted,
            }
        }
        Kind::ExitEvent => Record::ExitEvent {
            tid,
            time,
            status: c.i32()?,
        },
        Kind::Death => {
            let how = match c.u8()? {
                0 => Termination::Exited(c.i32()?),
                t @ (1 | 2) => Termination::Signaled {
                    signo: c.i32()?,
                    core: t == 2,
                },
                _ => return Err("unknown termination kind"),
            };
            Record::Death { tid, time, how }
        }
        Kind::Attach => Record::Attach {
            tid,
            time,
            tgid: c.i32()?,
            ppid: c.i32()?,
            state: c.u8()?,
            group_stopped: c.bool()?,
            comm: c.bytes()?,
            exe: c.bytes()?,
            cwd: c.bytes()?,
        },
        Kind::Detach => Record::Detach {
            tid,
            time,
            state: c.u8()?,
            signo: c.i32()?,
        },
        Kind::Note => Record::Note {
            tid,
            time,
            kind: c.u32()?,
            value: c.u64()?,
            text: c.bytes()?,
        },
        Kind::OpenFd => Record::OpenFd {
            tid,
            time,
            fd: c.i32()?,
            flags: c.u32()?,
            pos: c.u64()?,
            target: c.bytes()?,
            detail: if c.is_empty() { &[] } else { c.bytes()? },
        },
        Kind::SyscallEnter | Kind::SyscallExit => {
            return Err("a syscall record where another kind is expected")
        }
    })
}

// ---------------------------------------------------------------- chunks

/// A chunk payload before compression, as the current version's encoder
/// writes it: three streams (FORMAT.md, section 4). A version-1 payload,
/// read back, sits whole in `events`.
#[derive(Clone, Debug, Default)]
pub struct Streams {
    pub events: Vec<u8>,
    pub times: Vec<u8>,
    pub detail: Vec<u8>,
}

impl Streams {
    /// Streams that each hold `n` bytes without reallocating.
    pub fn with_capacity(n: usize) -> Self {
        Streams {
            events: Vec::with_capacity(n),
            times: Vec::with_capacity(n),
            detail: Vec::with_capacity(n),
        }
    }

    /// Bytes in all three streams.
    pub fn len(&self) -> usize {
        self.events.len() + self.times.len() + self.detail.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn clear(&mut self) {
        self.events.clear();
        self.times.clear();
        self.detail.clear();
    }
}

/// Read positions in the streams of one chunk payload.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cursors<'a> {
    ev: Cur<'a>,
    tm: Cur<'a>,
    de: Cur<'a>,
}

impl<'a> Cursors<'a> {
    pub fn new(s: &'a Streams) -> Self {
        Self::from_slices(&s.events, &s.times, &s.detail)
    }
    pub fn from_slices(events: &'a [u8], times: &'a [u8], detail: &'a [u8]) -> Self {
        Cursors {
            ev: Cur { b: events },
            tm: Cur { b: times },
            de: Cur { b: detail },
        }
    }
    /// No record left: the events stream is consumed.
    pub fn is_empty(&self) -> bool {
        self.ev.is_empty()
    }
    /// After the last record: what is wrong if the other streams still hold
    /// bytes (the detail stream only counts when it was read).
    pub fn leftover(&self, detail_read: bool) -> Option<&'static str> {
        if !self.tm.b.is_empty() {
            Some("bytes left in the times stream after the last record")
        } else if detail_read && !self.de.b.is_empty() {
            Some("bytes left in the detail stream after the last record")
        } else {
            None
        }
    }
}

/// Decodes the records of one chunk payload, in order, in the chunk's
/// format version.
pub struct ChunkDecoder {
    inner: Inner,
}

enum Inner {
    V1(v1::ChunkDecoder),
    X86(v2::Decoder<v2::X86>),
    Aarch64(v2::Decoder<v2::Aarch64>),
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkDecoder {
    /// A decoder of the current version's payloads with times in nanoseconds.
    pub fn new() -> Self {
        Self::for_chunk(crate::version::FORMAT_VERSION, 1)
    }

    /// A decoder of an x86_64 payload of file version `version` whose
    /// times are in units of `time_unit` nanoseconds (version 1: always 1).
    pub fn for_chunk(version: u32, time_unit: u32) -> Self {
        Self::for_layout(version, time_unit, Some(RegLayout::X86_64))
    }

    /// A decoder of a payload of `version` whose snapshots have `layout`
    /// (the header's; `None` when this reader does not know it: every
    /// snapshot is then an error, the statistics still read).
    pub fn for_layout(version: u32, time_unit: u32, layout: Option<RegLayout>) -> Self {
        let (l, known) = v2::known(layout);
        let inner = match (version, l) {
            // Version 1 knew only x86_64 snapshots.
            (1, _) => Inner::V1(v1::ChunkDecoder::new(layout == Some(RegLayout::X86_64))),
            (_, RegLayout::X86_64) => Inner::X86(v2::Decoder::new(time_unit, known)),
            (_, RegLayout::Aarch64) => Inner::Aarch64(v2::Decoder::new(time_unit, known)),
        };
        ChunkDecoder { inner }
    }

    pub fn reset(&mut self) {
        match &mut self.inner {
            Inner::V1(d) => d.reset(),
            Inner::X86(d) => d.reset(),
            Inner::Aarch64(d) => d.reset(),
        }
    }

    /// Decodes the record at the cursors and advances them.
    #[inline]
    pub fn decode<'a>(&mut self, c: &mut Cursors<'a>) -> std::result::Result<Decoded<'a>, String> {
        match &mut self.inner {
            Inner::V1(d) => {
                let (r, rest) = d.decode(c.ev.b)?;
                c.ev.b = rest;
                Ok(r)
            }
            Inner::X86(d) => d.decode(c).map_err(String::from),
            Inner::Aarch64(d) => d.decode(c).map_err(String::from),
        }
    }

    /// Like [`ChunkDecoder::decode`], but a syscall stop comes back as a
    /// [`LeanStop`]: its arguments and program counter without the whole
    /// register snapshot (which version 1 decodes anyway).
    #[inline]
    pub fn lean<'a>(&mut self, c: &mut Cursors<'a>) -> std::result::Result<Lean<'a>, String> {
        match &mut self.inner {
            Inner::V1(d) => {
                let (r, rest) = d.decode(c.ev.b)?;
                c.ev.b = rest;
                Ok(Lean::of(r))
            }
            Inner::X86(d) => d.lean(c).map_err(String::from),
            Inner::Aarch64(d) => d.lean(c).map_err(String::from),
        }
    }

    /// Like [`ChunkDecoder::decode`], but a syscall record comes back as a
    /// small [`SyscallStop`], without registers or captures (in versions 2 and 3
    /// the detail stream is not read at all). Use one decoder per chunk for
    /// either skimming or decoding, not both.
    #[inline]
    pub fn skim<'a>(&mut self, c: &mut Cursors<'a>) -> std::result::Result<Skimmed<'a>, String> {
        match &mut self.inner {
            Inner::V1(d) => {
                let (r, rest) = d.skim(c.ev.b)?;
                c.ev.b = rest;
                Ok(r)
            }
            Inner::X86(d) => d.skim(c).map_err(String::from),
            Inner::Aarch64(d) => d.skim(c).map_err(String::from),
        }
    }
}

/// What [`decode_streams`] read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamsRead {
    /// Records decoded in full before the first error (or the end).
    pub records: u64,
    /// Bytes of captured memory those records hold (their lazily decoded
    /// captures walked to the end).
    pub capture_bytes: u64,
    /// Records the skimming decoder read before its first error.
    pub skimmed: u64,
    /// The full decoder's first error, if any.
    pub error: Option<String>,
}

/// Decodes already decompressed streams of a chunk of `version` twice,
/// in full and skimmed, to the end or the first error, touching every
/// capture: what a fuzzer and the no-panic tests feed hostile bytes to,
/// past the checksums that stop random bytes at the framing.
pub fn decode_streams(
    version: u32,
    time_unit: u32,
    layout: Option<RegLayout>,
    events: &[u8],
    times: &[u8],
    detail: &[u8],
) -> StreamsRead {
    let mut out = StreamsRead::default();
    // One decoder at a time: each holds a call-site table.
    {
        let mut d = ChunkDecoder::for_layout(version, time_unit, layout);
        let mut c = Cursors::from_slices(events, times, detail);
        while !c.is_empty() {
            match d.decode(&mut c) {
                Ok(Decoded::Record(r)) => {
                    out.records += 1;
                    // Saturating: a hostile redacted length may be near u64::MAX.
                    let n = r
                        .captures()
                        .iter()
                        .fold(0u64, |n, m| n.saturating_add(m.len()));
                    out.capture_bytes = out.capture_bytes.saturating_add(n);
                }
                Ok(Decoded::Unknown(_)) => out.records += 1,
                Err(e) => {
                    out.error = Some(e);
                    break;
                }
            }
        }
    }
    let mut d = ChunkDecoder::for_layout(version, time_unit, layout);
    let mut c = Cursors::from_slices(events, times, &[]);
    while !c.is_empty() && d.skim(&mut c).is_ok() {
        out.skimmed += 1;
    }
    out
}
