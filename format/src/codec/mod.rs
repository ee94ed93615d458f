//! The one place that knows how values become bytes.
//!
//! Everything inside a chunk payload, the header body and the trailer index
//! are encoded with bincode 2 (`config::standard()`: little endian, variable
//! length integers, zigzag for signed ones). Records are written field by field
//! through bincode's `Encode`/`Decode` so that register snapshots, timestamps
//! and CPU times can be stored as differences to the same thread's previous
//! values within the chunk (see FORMAT.md, "Records"). Switching the
//! encoding later means changing this module only: `v1` reads version-1
//! payloads, `v2` writes and reads the current ones.

#[cfg(test)]
use bincode::de::read::{BorrowReader, Reader};
#[cfg(test)]
use bincode::de::{BorrowDecode, Decode, DecoderImpl};
use bincode::enc::write::Writer as BinWriter;
use bincode::enc::{Encode, Encoder, EncoderImpl};
#[cfg(test)]
use bincode::error::DecodeError;
use bincode::error::EncodeError;
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::header::Header;
use crate::record::{Captures, ChildKind, Kind, Mem, Record, Regs, Termination, Tid, REG_COUNT};
use crate::trailer::Index;

mod v1;
mod v2;

pub use v2::Encoder as ChunkEncoder;

type Config = bincode::config::Configuration;
const CONFIG: Config = bincode::config::standard();

/// Upper bound on the header and index bodies: enough for a huge environment,
/// small enough that a hostile length cannot exhaust memory.
pub const MAX_META_BYTES: usize = 64 << 20;

/// Appends to a `Vec<u8>` (bincode's own vec writer is private).
struct VecSink<'v>(&'v mut Vec<u8>);

impl BinWriter for VecSink<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::result::Result<(), EncodeError> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

#[cfg(test)]
/// A slice reader that lets us see what is left (bincode's hides it).
struct Src<'a> {
    s: &'a [u8],
}

#[cfg(test)]
impl Reader for Src<'_> {
    #[inline]
    fn read(&mut self, bytes: &mut [u8]) -> std::result::Result<(), DecodeError> {
        let head = self
            .s
            .get(..bytes.len())
            .ok_or_else(|| DecodeError::UnexpectedEnd {
                additional: bytes.len() - self.s.len(),
            })?;
        bytes.copy_from_slice(head);
        self.s = &self.s[bytes.len()..];
        Ok(())
    }
    #[inline]
    fn peek_read(&mut self, n: usize) -> Option<&[u8]> {
        self.s.get(..n)
    }
    #[inline]
    fn consume(&mut self, n: usize) {
        self.s = self.s.get(n..).unwrap_or_default();
    }
}

#[cfg(test)]
impl<'a> BorrowReader<'a> for Src<'a> {
    #[inline]
    fn take_bytes(&mut self, length: usize) -> std::result::Result<&'a [u8], DecodeError> {
        if length > self.s.len() {
            return Err(DecodeError::UnexpectedEnd {
                additional: length - self.s.len(),
            });
        }
        let (head, rest) = self.s.split_at(length);
        self.s = rest;
        Ok(head)
    }
}

type Enc<'v> = EncoderImpl<VecSink<'v>, Config>;
#[cfg(test)]
type Dec<'a> = DecoderImpl<Src<'a>, Config, ()>;

fn enc(buf: &mut Vec<u8>) -> Enc<'_> {
    EncoderImpl::new(VecSink(buf), CONFIG)
}

#[cfg(test)]
fn dec(s: &[u8]) -> Dec<'_> {
    DecoderImpl::new(Src { s }, CONFIG, ())
}

#[cfg(test)]
fn rest<'a>(d: &mut Dec<'a>) -> &'a [u8] {
    use bincode::de::BorrowDecoder;
    d.borrow_reader().s
}

fn put<T: Encode>(e: &mut Enc<'_>, v: T) {
    // Writing into a Vec cannot fail.
    let _ = v.encode(e);
}

#[cfg(test)]
#[inline]
fn get<T: Decode<()>>(d: &mut Dec<'_>) -> std::result::Result<T, DecodeError> {
    T::decode(d)
}

#[cfg(test)]
#[inline]
fn get_bytes<'a>(d: &mut Dec<'a>) -> std::result::Result<&'a [u8], DecodeError> {
    <&'a [u8]>::borrow_decode(d)
}

// ---------------------------------------------------------------- header / index

/// Encodes the header body (without the file prefix).
pub fn encode_header(h: &Header) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(h, CONFIG).map_err(|e| Error::Encode(e.to_string()))
}

/// Decodes a header body. Bytes past the known fields are ignored: later
/// versions only append fields.
pub fn decode_header(b: &[u8], offset: u64) -> Result<Header> {
    let cfg = CONFIG.with_limit::<MAX_META_BYTES>();
    bincode::serde::decode_from_slice::<Header, _>(b, cfg)
        .map(|(h, _)| h)
        .map_err(|e| Error::Corrupt {
            what: "file header",
            offset,
            reason: e.to_string(),
        })
}

pub fn encode_index(i: &Index) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(i, CONFIG).map_err(|e| Error::Encode(e.to_string()))
}

pub fn decode_index(b: &[u8], offset: u64) -> Result<Index> {
    let cfg = CONFIG.with_limit::<MAX_META_BYTES>();
    bincode::serde::decode_from_slice::<Index, _>(b, cfg)
        .map(|(i, _)| i)
        .map_err(|e| Error::Corrupt {
            what: "trailer index",
            offset,
            reason: e.to_string(),
        })
}

fn encode_captures(e: &mut Enc<'_>, mem: &Captures<'_>) {
    put(e, mem.len() as u64);
    match mem {
        // Already in the stored form (a CaptureBuf, or a record read back).
        Captures::Encoded { bytes, .. } => {
            let _ = e.writer().write(bytes);
        }
        Captures::Slice(s) => {
            for m in s.iter() {
                encode_mem(e, m);
            }
        }
    }
}

fn encode_mem(e: &mut Enc<'_>, m: &Mem<'_>) {
    put(e, m.arg);
    put(e, m.flags);
    put(e, m.addr);
    put(e, m.data);
}

/// Captured memory of one stop, built in its stored form so that a record
/// can carry it as [`Captures::Encoded`] without copying or allocating once
/// the buffer is warm. The recorder keeps one and clears it at every stop.
#[derive(Default, Clone)]
pub struct CaptureBuf {
    bytes: Vec<u8>,
    count: u32,
}

impl CaptureBuf {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.count = 0;
    }
    pub fn len(&self) -> usize {
        self.count as usize
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Appends one capture (see [`Mem`] for the fields).
    pub fn push(&mut self, arg: u8, flags: u8, addr: u64, data: &[u8]) {
        encode_mem(
            &mut enc(&mut self.bytes),
            &Mem {
                arg,
                flags,
                addr,
                data,
            },
        );
        self.count += 1;
    }
    /// The captures, to put in a record.
    pub fn captures(&self) -> Captures<'_> {
        Captures::Encoded {
            count: self.count,
            bytes: &self.bytes,
        }
    }
}

/// Decodes one capture from the encoded form of [`Captures::Encoded`].
pub(crate) fn decode_mem(b: &[u8]) -> std::result::Result<(Mem<'_>, &[u8]), &'static str> {
    let mut c = Cur { b };
    let m = c.mem()?;
    Ok((m, c.b))
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

/// The decoding side reads bincode's `standard()` varints by hand: this is
/// the analyzer's inner loop, and bincode's generic readers cost several
/// times more per field. The rules (FORMAT.md, "Integers") are: a first byte
/// up to 250 is the value; 251, 252 and 253 announce a little-endian u16, u32
/// or u64; signed values are zigzag-mapped first; a u8 is one raw byte; a
/// byte slice is a u64 length and the bytes. The `reference` tests check this
/// reader against bincode's own on valid and mutated payloads.
#[derive(Clone, Copy, Debug, Default)]
struct Cur<'a> {
    b: &'a [u8],
}

type Step<T> = std::result::Result<T, &'static str>;

/// Up to this many threads in a chunk, a linear scan of its thread table
/// beats hashing tids (the encoders' lookups).
const SCAN_THREADS: usize = 8;

/// Threads one chunk may hold: the writer seals a chunk when it reaches
/// this many, and a decoder refuses more (each costs it ~250 bytes).
pub const MAX_CHUNK_THREADS: usize = 65536;
const TOO_MANY_THREADS: &str = "more than 65536 threads in one chunk";

const END: &str = "record ends inside a field";

/// `flag` when `on`, else no bit: syscall-record flags.
fn bit(on: bool, flag: u8) -> u8 {
    if on {
        flag
    } else {
        0
    }
}

impl<'a> Cur<'a> {
    #[inline(always)]
    fn u8(&mut self) -> Step<u8> {
        let (&x, rest) = self.b.split_first().ok_or(END)?;
        self.b = rest;
        Ok(x)
    }

    #[inline(always)]
    fn u64(&mut self) -> Step<u64> {
        let (&x, rest) = self.b.split_first().ok_or(END)?;
        if x <= 250 {
            self.b = rest;
            return Ok(u64::from(x));
        }
        self.u64_wide(x)
    }

    /// Register deltas of pointers are often wide: this is not a cold path.
    #[inline(always)]
    fn u64_wide(&mut self, x: u8) -> Step<u64> {
        let b = self.b;
        match x {
            251 if b.len() >= 3 => {
                self.b = &b[3..];
                Ok(u64::from(u16::from_le_bytes([b[1], b[2]])))
            }
            252 if b.len() >= 5 => {
                self.b = &b[5..];
                Ok(u64::from(u32::from_le_bytes([b[1], b[2], b[3], b[4]])))
            }
            253 if b.len() >= 9 => {
                self.b = &b[9..];
                let mut w = [0u8; 8];
                w.copy_from_slice(&b[1..9]);
                Ok(u64::from_le_bytes(w))
            }
            251..=253 => Err(END),
            254 => Err("a 128-bit integer where 64 bits are expected"),
            _ => Err("reserved integer marker 255"),
        }
    }

    /// Steps over `n` varints without computing them.
    #[inline(always)]
    fn skip(&mut self, n: u32) -> Step<()> {
        for _ in 0..n {
            let &x = self.b.first().ok_or(END)?;
            let len = match x {
                0..=250 => 1,
                251 => 3,
                252 => 5,
                253 => 9,
                _ => return Err("a 128-bit or reserved integer marker in a register delta"),
            };
            self.b = self.b.get(len..).ok_or(END)?;
        }
        Ok(())
    }

    #[inline(always)]
    fn u32(&mut self) -> Step<u32> {
        let (&x, rest) = self.b.split_first().ok_or(END)?;
        if x <= 250 {
            self.b = rest;
            return Ok(u32::from(x));
        }
        match x {
            251 | 252 => self.u64_wide(x).map(|v| v as u32),
            253 => Err("a 64-bit integer where 32 bits are expected"),
            254 => Err("a 128-bit integer where 32 bits are expected"),
            _ => Err("reserved integer marker 255"),
        }
    }

    #[inline(always)]
    fn i64(&mut self) -> Step<i64> {
        let n = self.u64()?;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    #[inline(always)]
    fn i32(&mut self) -> Step<i32> {
        let n = self.u32()?;
        Ok(((n >> 1) as i32) ^ -((n & 1) as i32))
    }

    fn bool(&mut self) -> Step<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err("a boolean that is neither 0 nor 1"),
        }
    }

    #[inline]
    fn bytes(&mut self) -> Step<&'a [u8]> {
        let n = self.u64()?;
        if n > self.b.len() as u64 {
            return Err("a byte string longer than its record");
        }
        let (head, rest) = self.b.split_at(n as usize);
        self.b = rest;
        Ok(head)
    }

    fn mem(&mut self) -> Step<Mem<'a>> {
        Ok(Mem {
            arg: self.u8()?,
            flags: self.u8()?,
            addr: self.u64()?,
            data: self.bytes()?,
        })
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

/// Validates the captures at the cursor and returns a lazy view.
fn captures<'a>(c: &mut Cur<'a>) -> Step<Captures<'a>> {
    let n = c.u64()?;
    let start = c.b;
    // Each capture takes at least four bytes.
    if n > start.len() as u64 / 4 {
        return Err("capture count exceeds record size");
    }
    for _ in 0..n {
        c.mem()?;
    }
    let used = start.len() - c.b.len();
    Ok(Captures::Encoded {
        count: n as u32,
        bytes: &start[..used],
    })
}

/// Encodes the fields of a record that is not a syscall stop, after its tid
/// and time (the same in every version).
fn encode_other(e: &mut Enc<'_>, r: &Record<'_>) {
    match r {
        Record::SignalDelivery { signo, siginfo, .. } => {
            put(e, *signo);
            put(e, *siginfo);
        }
        Record::GroupStop { signo, .. } => {
            put(e, *signo);
        }
        Record::NewChild {
            child, kind, flags, ..
        } => {
            put(e, *child);
            put(e, *kind as u8);
            put(e, *flags);
        }
        Record::VforkDone { child, .. } => {
            put(e, *child);
        }
        Record::Exec {
            former_tid,
            filename,
            argv,
            ..
        } => {
            put(e, *former_tid);
            put(e, *filename);
            put(e, argv.len() as u64);
            for a in argv {
                put(e, *a);
            }
        }
        Record::ExitEvent { status, .. } => {
            put(e, *status);
        }
        Record::Death { how, .. } => match how {
            Termination::Exited(code) => {
                put(e, 0u8);
                put(e, *code);
            }
            Termination::Signaled { signo, core } => {
                put(e, 1u8 + *core as u8);
                put(e, *signo);
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
            put(e, *tgid);
            put(e, *ppid);
            put(e, *state);
            put(e, *group_stopped);
            put(e, *comm);
            put(e, *exe);
            put(e, *cwd);
        }
        Record::Detach { state, signo, .. } => {
            put(e, *state);
            put(e, *signo);
        }
        Record::Note {
            kind, value, text, ..
        } => {
            put(e, *kind);
            put(e, *value);
            put(e, *text);
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
            Record::NewChild {
                tid,
                time,
                child,
                kind,
                flags: c.u64()?,
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
            Record::Exec {
                tid,
                time,
                former_tid,
                filename,
                argv,
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
        self.ev.b.is_empty()
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
    V2(v2::Decoder),
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkDecoder {
    /// A decoder of the current version's payloads with times in nanoseconds.
    pub fn new() -> Self {
        Self::for_chunk(crate::chunk::FORMAT_VERSION, 1)
    }

    /// A decoder of a payload of file version `version` whose times are in
    /// units of `time_unit` nanoseconds (version 1: always 1).
    pub fn for_chunk(version: u32, time_unit: u32) -> Self {
        let inner = if version == 1 {
            Inner::V1(v1::ChunkDecoder::new())
        } else {
            Inner::V2(v2::Decoder::new(time_unit))
        };
        ChunkDecoder { inner }
    }

    pub fn reset(&mut self) {
        match &mut self.inner {
            Inner::V1(d) => d.reset(),
            Inner::V2(d) => d.reset(),
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
            Inner::V2(d) => d.decode(c).map_err(String::from),
        }
    }

    /// Like [`ChunkDecoder::decode`], but a syscall record comes back as a
    /// small [`SyscallStop`], without registers or captures (in version 2
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
            Inner::V2(d) => d.skim(c).map_err(String::from),
        }
    }
}
