//! The one place that knows how values become bytes.
//!
//! Everything inside a chunk payload, the header body and the trailer index
//! are encoded with bincode 2 (`config::standard()`: little endian, variable
//! length integers, zigzag for signed ones). Records are written field by field
//! through bincode's `Encode`/`Decode` so that register snapshots, timestamps
//! and CPU times can be stored as differences to the same thread's previous
//! values within the chunk (see FORMAT.md, "Record encoding"). Switching the
//! encoding later means changing this file only.

use bincode::de::read::{BorrowReader, Reader};
use bincode::de::{BorrowDecode, Decode, DecoderImpl};
use bincode::enc::write::Writer as BinWriter;
use bincode::enc::{Encode, Encoder, EncoderImpl};
use bincode::error::{DecodeError, EncodeError};
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::header::Header;
use crate::record::{Captures, ChildKind, Kind, Mem, Record, Regs, Termination, Tid, REG_COUNT};
use crate::trailer::Index;

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

/// A slice reader that lets us see what is left (bincode's hides it).
struct Src<'a> {
    s: &'a [u8],
}

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
type Dec<'a> = DecoderImpl<Src<'a>, Config, ()>;

fn enc(buf: &mut Vec<u8>) -> Enc<'_> {
    EncoderImpl::new(VecSink(buf), CONFIG)
}

fn dec(s: &[u8]) -> Dec<'_> {
    DecoderImpl::new(Src { s }, CONFIG, ())
}

fn rest<'a>(d: &mut Dec<'a>) -> &'a [u8] {
    use bincode::de::BorrowDecoder;
    d.borrow_reader().s
}

fn put<T: Encode>(e: &mut Enc<'_>, v: T) {
    // Writing into a Vec cannot fail.
    let _ = v.encode(e);
}

#[inline]
fn get<T: Decode<()>>(d: &mut Dec<'_>) -> std::result::Result<T, DecodeError> {
    T::decode(d)
}

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

// ---------------------------------------------------------------- records

/// Per-thread values that later records of the same chunk are stored against.
#[derive(Clone, Copy)]
struct ThreadState {
    regs: [u64; REG_COUNT],
    stime: u64,
}

const ZERO_STATE: ThreadState = ThreadState {
    regs: [0; REG_COUNT],
    stime: 0,
};

/// Delta state shared by the encoder and the decoder of one chunk. Both start
/// empty at every chunk, which is what makes each chunk decodable on its own.
#[derive(Default)]
struct ChunkState {
    time: u64,
    threads: FxHashMap<Tid, ThreadState>,
}

impl ChunkState {
    fn reset(&mut self) {
        self.time = 0;
        self.threads.clear();
    }
    fn thread(&mut self, tid: Tid) -> &mut ThreadState {
        self.threads.entry(tid).or_insert(ZERO_STATE)
    }
}

// Flag bits of syscall records.
const F_STIME: u8 = 1;
const F_REGS: u8 = 2;
/// Enter: nr and args equal orig_rax and the argument registers. Exit: nr equals orig_rax.
const F_DERIVED: u8 = 4;
/// Exit: ret equals rax.
const F_RET_DERIVED: u8 = 8;

fn bit(on: bool, flag: u8) -> u8 {
    if on {
        flag
    } else {
        0
    }
}

/// Encodes records into a chunk payload (before compression).
#[derive(Default)]
pub struct ChunkEncoder {
    state: ChunkState,
    scratch: Vec<u8>,
}

impl ChunkEncoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget the delta state: call when a new chunk starts.
    pub fn reset(&mut self) {
        self.state.reset();
    }

    /// Appends one record (`kind`, body length, body) to `out`.
    pub fn encode(&mut self, r: &Record<'_>, out: &mut Vec<u8>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        self.encode_body(r, &mut scratch);
        out.push(r.kind() as u8);
        put(&mut enc(out), scratch.len() as u64);
        out.extend_from_slice(&scratch);
        self.scratch = scratch;
    }

    fn common(&mut self, e: &mut Enc<'_>, tid: Tid, time: u64) {
        put(e, tid);
        put(e, time.wrapping_sub(self.state.time) as i64);
        self.state.time = time;
    }

    fn regs(&mut self, e: &mut Enc<'_>, tid: Tid, regs: &Regs) {
        let prev = &mut self.state.thread(tid).regs;
        let mut mask = 0u32;
        for (i, (new, old)) in regs.0.iter().zip(prev.iter()).enumerate() {
            if new != old {
                mask |= 1 << i;
            }
        }
        put(e, mask);
        for (new, old) in regs.0.iter().zip(prev.iter()) {
            if new != old {
                put(e, new.wrapping_sub(*old) as i64);
            }
        }
        *prev = regs.0;
    }

    fn stime(&mut self, e: &mut Enc<'_>, tid: Tid, stime: u64) {
        let st = &mut self.state.thread(tid).stime;
        put(e, stime.wrapping_sub(*st) as i64);
        *st = stime;
    }

    fn encode_body(&mut self, r: &Record<'_>, buf: &mut Vec<u8>) {
        let e = &mut enc(buf);
        match r {
            Record::SyscallEnter {
                tid,
                time,
                stime_us,
                nr,
                args,
                regs,
                mem,
            } => {
                self.common(e, *tid, *time);
                let derived = regs
                    .as_ref()
                    .is_some_and(|g| g.syscall_nr() == *nr && g.syscall_args() == *args);
                let flags = bit(stime_us.is_some(), F_STIME)
                    | bit(regs.is_some(), F_REGS)
                    | bit(derived, F_DERIVED);
                put(e, flags);
                if let Some(s) = stime_us {
                    self.stime(e, *tid, *s);
                }
                if let Some(g) = regs {
                    self.regs(e, *tid, g);
                }
                if !derived {
                    put(e, *nr);
                    for a in args {
                        put(e, *a);
                    }
                }
                encode_captures(e, mem);
            }
            Record::SyscallExit {
                tid,
                time,
                stime_us,
                nr,
                ret,
                regs,
                mem,
            } => {
                self.common(e, *tid, *time);
                let nr_derived = regs.as_ref().is_some_and(|g| g.syscall_nr() == *nr);
                let ret_derived = regs.as_ref().is_some_and(|g| g.ret() == *ret);
                let flags = bit(stime_us.is_some(), F_STIME)
                    | bit(regs.is_some(), F_REGS)
                    | bit(nr_derived, F_DERIVED)
                    | bit(ret_derived, F_RET_DERIVED);
                put(e, flags);
                if let Some(s) = stime_us {
                    self.stime(e, *tid, *s);
                }
                if let Some(g) = regs {
                    self.regs(e, *tid, g);
                }
                if !nr_derived {
                    put(e, *nr);
                }
                if !ret_derived {
                    put(e, *ret);
                }
                encode_captures(e, mem);
            }
            Record::SignalDelivery {
                tid,
                time,
                signo,
                siginfo,
            } => {
                self.common(e, *tid, *time);
                put(e, *signo);
                put(e, *siginfo);
            }
            Record::GroupStop { tid, time, signo } => {
                self.common(e, *tid, *time);
                put(e, *signo);
            }
            Record::NewChild {
                tid,
                time,
                child,
                kind,
                flags,
            } => {
                self.common(e, *tid, *time);
                put(e, *child);
                put(e, *kind as u8);
                put(e, *flags);
            }
            Record::VforkDone { tid, time, child } => {
                self.common(e, *tid, *time);
                put(e, *child);
            }
            Record::Exec {
                tid,
                time,
                former_tid,
                filename,
                argv,
            } => {
                self.common(e, *tid, *time);
                put(e, *former_tid);
                put(e, *filename);
                put(e, argv.len() as u64);
                for a in argv {
                    put(e, *a);
                }
            }
            Record::ExitEvent { tid, time, status } => {
                self.common(e, *tid, *time);
                put(e, *status);
            }
            Record::Death { tid, time, how } => {
                self.common(e, *tid, *time);
                match how {
                    Termination::Exited(code) => {
                        put(e, 0u8);
                        put(e, *code);
                    }
                    Termination::Signaled { signo, core } => {
                        put(e, 1u8 + *core as u8);
                        put(e, *signo);
                    }
                }
            }
            Record::Attach {
                tid,
                time,
                tgid,
                ppid,
                state,
                group_stopped,
                comm,
                exe,
                cwd,
            } => {
                self.common(e, *tid, *time);
                put(e, *tgid);
                put(e, *ppid);
                put(e, *state);
                put(e, *group_stopped);
                put(e, *comm);
                put(e, *exe);
                put(e, *cwd);
            }
            Record::Detach {
                tid,
                time,
                state,
                signo,
            } => {
                self.common(e, *tid, *time);
                put(e, *state);
                put(e, *signo);
            }
            Record::Note {
                tid,
                time,
                kind,
                value,
                text,
            } => {
                self.common(e, *tid, *time);
                put(e, *kind);
                put(e, *value);
                put(e, *text);
            }
        }
    }
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
pub(crate) fn decode_mem(b: &[u8]) -> std::result::Result<(Mem<'_>, &[u8]), DecodeError> {
    let d = &mut dec(b);
    let m = Mem {
        arg: get(d)?,
        flags: get(d)?,
        addr: get(d)?,
        data: get_bytes(d)?,
    };
    Ok((m, rest(d)))
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

/// Decodes the records of one chunk payload, in order.
#[derive(Default)]
pub struct ChunkDecoder {
    state: ChunkState,
}

impl ChunkDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn reset(&mut self) {
        self.state.reset();
    }

    /// Decodes the record at the start of `b`; returns it and the bytes after it.
    pub fn decode<'a>(
        &mut self,
        b: &'a [u8],
    ) -> std::result::Result<(Decoded<'a>, &'a [u8]), String> {
        let (&kind, after) = b.split_first().ok_or("empty record")?;
        let d = &mut dec(after);
        let len: u64 = get(d).map_err(|e| e.to_string())?;
        let after = rest(d);
        if len > after.len() as u64 {
            return Err(format!(
                "record length {len} exceeds the {} bytes left in the chunk",
                after.len()
            ));
        }
        let (body, tail) = after.split_at(len as usize);
        let Some(k) = Kind::from_u8(kind) else {
            return Ok((Decoded::Unknown(kind), tail));
        };
        let r = self.decode_body(k, body).map_err(|e| e.to_string())?;
        Ok((Decoded::Record(r), tail))
    }

    fn common(&mut self, d: &mut Dec<'_>) -> std::result::Result<(Tid, u64), DecodeError> {
        let tid: Tid = get(d)?;
        let dt: i64 = get(d)?;
        self.state.time = self.state.time.wrapping_add(dt as u64);
        Ok((tid, self.state.time))
    }

    fn regs(&mut self, d: &mut Dec<'_>, tid: Tid) -> std::result::Result<Regs, DecodeError> {
        let mask: u32 = get(d)?;
        if mask >> REG_COUNT != 0 {
            return Err(DecodeError::Other("register mask names unknown registers"));
        }
        let prev = &mut self.state.thread(tid).regs;
        for (i, r) in prev.iter_mut().enumerate() {
            if mask & (1 << i) != 0 {
                let delta: i64 = get(d)?;
                *r = r.wrapping_add(delta as u64);
            }
        }
        Ok(Regs(*prev))
    }

    fn stime(&mut self, d: &mut Dec<'_>, tid: Tid) -> std::result::Result<u64, DecodeError> {
        let delta: i64 = get(d)?;
        let st = &mut self.state.thread(tid).stime;
        *st = st.wrapping_add(delta as u64);
        Ok(*st)
    }

    fn decode_body<'a>(
        &mut self,
        k: Kind,
        body: &'a [u8],
    ) -> std::result::Result<Record<'a>, DecodeError> {
        let d = &mut dec(body);
        let (tid, time) = self.common(d)?;
        Ok(match k {
            Kind::SyscallEnter => {
                let flags: u8 = get(d)?;
                let stime_us = if flags & F_STIME != 0 {
                    Some(self.stime(d, tid)?)
                } else {
                    None
                };
                let regs = if flags & F_REGS != 0 {
                    Some(self.regs(d, tid)?)
                } else {
                    None
                };
                let (nr, args) = match regs {
                    Some(g) if flags & F_DERIVED != 0 => (g.syscall_nr(), g.syscall_args()),
                    _ if flags & F_DERIVED != 0 => {
                        return Err(DecodeError::Other("derived arguments without registers"))
                    }
                    _ => {
                        let nr = get(d)?;
                        let mut args = [0u64; 6];
                        for a in &mut args {
                            *a = get(d)?;
                        }
                        (nr, args)
                    }
                };
                Record::SyscallEnter {
                    tid,
                    time,
                    stime_us,
                    nr,
                    args,
                    regs,
                    mem: decode_captures(d)?,
                }
            }
            Kind::SyscallExit => {
                let flags: u8 = get(d)?;
                let stime_us = if flags & F_STIME != 0 {
                    Some(self.stime(d, tid)?)
                } else {
                    None
                };
                let regs = if flags & F_REGS != 0 {
                    Some(self.regs(d, tid)?)
                } else {
                    None
                };
                if regs.is_none() && flags & (F_DERIVED | F_RET_DERIVED) != 0 {
                    return Err(DecodeError::Other("derived values without registers"));
                }
                let nr = match regs {
                    Some(g) if flags & F_DERIVED != 0 => g.syscall_nr(),
                    _ => get(d)?,
                };
                let ret = match regs {
                    Some(g) if flags & F_RET_DERIVED != 0 => g.ret(),
                    _ => get(d)?,
                };
                Record::SyscallExit {
                    tid,
                    time,
                    stime_us,
                    nr,
                    ret,
                    regs,
                    mem: decode_captures(d)?,
                }
            }
            Kind::SignalDelivery => Record::SignalDelivery {
                tid,
                time,
                signo: get(d)?,
                siginfo: get_bytes(d)?,
            },
            Kind::GroupStop => Record::GroupStop {
                tid,
                time,
                signo: get(d)?,
            },
            Kind::NewChild => {
                let child = get(d)?;
                let kind = match get::<u8>(d)? {
                    0 => ChildKind::Fork,
                    1 => ChildKind::Vfork,
                    2 => ChildKind::Clone,
                    _ => return Err(DecodeError::Other("unknown child kind")),
                };
                Record::NewChild {
                    tid,
                    time,
                    child,
                    kind,
                    flags: get(d)?,
                }
            }
            Kind::VforkDone => Record::VforkDone {
                tid,
                time,
                child: get(d)?,
            },
            Kind::Exec => {
                let former_tid = get(d)?;
                let filename = get_bytes(d)?;
                let n: u64 = get(d)?;
                // Every element takes at least one byte: bound before allocating.
                if n > rest(d).len() as u64 {
                    return Err(DecodeError::Other("argv count exceeds record size"));
                }
                let mut argv = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    argv.push(get_bytes(d)?);
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
                status: get(d)?,
            },
            Kind::Death => {
                let how = match get::<u8>(d)? {
                    0 => Termination::Exited(get(d)?),
                    t @ (1 | 2) => Termination::Signaled {
                        signo: get(d)?,
                        core: t == 2,
                    },
                    _ => return Err(DecodeError::Other("unknown termination kind")),
                };
                Record::Death { tid, time, how }
            }
            Kind::Attach => Record::Attach {
                tid,
                time,
                tgid: get(d)?,
                ppid: get(d)?,
                state: get(d)?,
                group_stopped: get(d)?,
                comm: get_bytes(d)?,
                exe: get_bytes(d)?,
                cwd: get_bytes(d)?,
            },
            Kind::Detach => Record::Detach {
                tid,
                time,
                state: get(d)?,
                signo: get(d)?,
            },
            Kind::Note => Record::Note {
                tid,
                time,
                kind: get(d)?,
                value: get(d)?,
                text: get_bytes(d)?,
            },
        })
    }
}

/// Validates the captures at the decoder's position and returns a lazy view.
fn decode_captures<'a>(d: &mut Dec<'a>) -> std::result::Result<Captures<'a>, DecodeError> {
    let n: u64 = get(d)?;
    let start = rest(d);
    // Each capture takes at least four bytes.
    if n > start.len() as u64 / 4 {
        return Err(DecodeError::Other("capture count exceeds record size"));
    }
    let mut b = start;
    for _ in 0..n {
        b = decode_mem(b)?.1;
    }
    let used = start.len() - b.len();
    d.borrow_reader_consume(used);
    Ok(Captures::Encoded {
        count: n as u32,
        bytes: &start[..used],
    })
}

trait Consume {
    fn borrow_reader_consume(&mut self, n: usize);
}

impl Consume for Dec<'_> {
    fn borrow_reader_consume(&mut self, n: usize) {
        use bincode::de::BorrowDecoder;
        self.borrow_reader().consume(n);
    }
}
