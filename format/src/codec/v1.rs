//! Version 1 chunk payloads: one stream of records, each `kind, length,
//! body`. Read, never written any more; the encoder stays for the tests,
//! which check the hand-written reader against bincode's own on it.

use super::*;
#[cfg(test)]
use crate::record::put_captures;

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
    tids: Vec<Tid>,
    threads: Vec<ThreadState>,
    /// tid to position, consulted once the chunk has more threads than a
    /// short scan handles well.
    index: FxHashMap<Tid, u32>,
    /// Position of the last thread looked up: consecutive stops are mostly
    /// the same thread's.
    last: usize,
}

impl ChunkState {
    fn reset(&mut self) {
        self.time = 0;
        self.tids.clear();
        self.threads.clear();
        self.index.clear();
        self.last = 0;
    }

    /// The thread's delta state, a new one for a tid not seen yet in this
    /// chunk: at most [`MAX_CHUNK_THREADS`], so that a hostile chunk cannot
    /// make a decoder allocate gigabytes.
    #[inline(always)]
    fn thread(&mut self, tid: Tid) -> Step<&mut ThreadState> {
        let i = match self.tids.get(self.last) {
            Some(&t) if t == tid => self.last,
            _ => self.find(tid)?,
        };
        self.last = i;
        Ok(&mut self.threads[i])
    }

    fn find(&mut self, tid: Tid) -> Step<usize> {
        let found = if self.tids.len() <= SCAN_THREADS {
            self.tids.iter().position(|&t| t == tid)
        } else {
            self.index.get(&tid).map(|&i| i as usize)
        };
        if let Some(i) = found {
            return Ok(i);
        }
        let i = self.tids.len();
        if i >= MAX_CHUNK_THREADS {
            return Err(TOO_MANY_THREADS);
        }
        self.tids.push(tid);
        self.threads.push(ZERO_STATE);
        self.index.insert(tid, i as u32);
        Ok(i)
    }
}

// Flag bits of syscall records.
const F_STIME: u8 = 1;
const F_REGS: u8 = 2;
/// Enter: nr and args equal orig_rax and the argument registers. Exit: nr equals orig_rax.
const F_DERIVED: u8 = 4;
/// Exit: ret equals rax.
const F_RET_DERIVED: u8 = 8;

/// Encodes records into a chunk payload (before compression).
#[cfg(test)]
#[derive(Default)]
pub struct ChunkEncoder {
    state: ChunkState,
    scratch: Vec<u8>,
}

#[cfg(test)]
impl ChunkEncoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one record (`kind`, body length, body) to `out`.
    pub fn encode(&mut self, r: &Record<'_>, out: &mut Vec<u8>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        self.encode_body(r, &mut scratch);
        out.push(r.kind() as u8);
        Put(out).u64(scratch.len() as u64);
        out.extend_from_slice(&scratch);
        self.scratch = scratch;
    }

    fn thread(&mut self, tid: Tid) -> &mut ThreadState {
        self.state
            .thread(tid)
            .expect("test payloads stay under the thread limit")
    }

    fn common(&mut self, e: &mut Put<'_>, tid: Tid, time: u64) {
        e.i32(tid);
        e.i64(time.wrapping_sub(self.state.time) as i64);
        self.state.time = time;
    }

    fn regs(&mut self, e: &mut Put<'_>, tid: Tid, regs: &Regs) {
        let prev = &mut self.thread(tid).regs;
        let mut mask = 0u32;
        for (i, (new, old)) in regs.words().iter().zip(prev.iter()).enumerate() {
            if new != old {
                mask |= 1 << i;
            }
        }
        e.u32(mask);
        for (new, old) in regs.words().iter().zip(prev.iter()) {
            if new != old {
                e.i64(new.wrapping_sub(*old) as i64);
            }
        }
        prev.copy_from_slice(regs.words());
    }

    fn stime(&mut self, e: &mut Put<'_>, tid: Tid, stime: u64) {
        let st = &mut self.thread(tid).stime;
        e.i64(stime.wrapping_sub(*st) as i64);
        *st = stime;
    }

    fn encode_body(&mut self, r: &Record<'_>, buf: &mut Vec<u8>) {
        let e = &mut Put(buf);
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
                e.u8(flags);
                if let Some(s) = stime_us {
                    self.stime(e, *tid, *s);
                }
                if let Some(g) = regs {
                    self.regs(e, *tid, g);
                }
                if !derived {
                    e.u64(*nr);
                    for a in args {
                        e.u64(*a);
                    }
                }
                put_captures(e, mem);
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
                e.u8(flags);
                if let Some(s) = stime_us {
                    self.stime(e, *tid, *s);
                }
                if let Some(g) = regs {
                    self.regs(e, *tid, g);
                }
                if !nr_derived {
                    e.u64(*nr);
                }
                if !ret_derived {
                    e.i64(*ret);
                }
                put_captures(e, mem);
            }
            other => {
                self.common(e, other.tid(), other.time());
                encode_other(e, other);
            }
        }
    }
}

#[derive(Default)]
pub struct ChunkDecoder {
    state: ChunkState,
    /// Whether the header says x86_64, the only layout of version 1: any
    /// other makes every snapshot an error.
    regs_known: bool,
}

impl ChunkDecoder {
    pub fn new(regs_known: bool) -> Self {
        ChunkDecoder {
            state: ChunkState::default(),
            regs_known,
        }
    }

    pub fn reset(&mut self) {
        self.state.reset();
    }

    /// Splits the record at the start of `b` into its kind, its body and
    /// the bytes after it.
    #[inline(always)]
    fn frame(b: &[u8]) -> Step<(u8, &[u8], &[u8])> {
        let mut c = Cur::new(b);
        let kind = c.u8().map_err(|_| "empty record")?;
        let len = c.u64()?;
        if len > c.b.len() as u64 {
            return Err("record length exceeds the bytes left in the chunk");
        }
        let (body, tail) = c.b.split_at(len as usize);
        Ok((kind, body, tail))
    }

    /// Decodes the record at the start of `b`; returns it and the bytes after it.
    #[inline]
    pub fn decode<'a>(
        &mut self,
        b: &'a [u8],
    ) -> std::result::Result<(Decoded<'a>, &'a [u8]), String> {
        let (kind, body, tail) = Self::frame(b).map_err(String::from)?;
        let Some(k) = Kind::from_u8(kind) else {
            return Ok((Decoded::Unknown(kind), tail));
        };
        let r = self.decode_body(k, body).map_err(String::from)?;
        Ok((Decoded::Record(r), tail))
    }

    /// Like [`ChunkDecoder::decode`], but a syscall record comes back as a
    /// small [`SyscallStop`]: of its registers only rax and orig_rax are
    /// followed, and its captures are skipped unread. Use one decoder per
    /// chunk for either skimming or decoding, not both. The chunk checksum has already
    /// vouched for their bytes; [`ChunkDecoder::decode`] also checks their
    /// structure.
    #[inline]
    pub fn skim<'a>(
        &mut self,
        b: &'a [u8],
    ) -> std::result::Result<(Skimmed<'a>, &'a [u8]), String> {
        let (kind, body, tail) = Self::frame(b).map_err(String::from)?;
        let enter = match kind {
            k if k == Kind::SyscallEnter as u8 => true,
            k if k == Kind::SyscallExit as u8 => false,
            _ => {
                let Some(k) = Kind::from_u8(kind) else {
                    return Ok((Skimmed::Unknown(kind), tail));
                };
                let r = self.decode_body(k, body).map_err(String::from)?;
                return Ok((Skimmed::Record(Box::new(r)), tail));
            }
        };
        let s = self.skim_syscall(enter, body).map_err(String::from)?;
        Ok((Skimmed::Syscall(s), tail))
    }

    #[inline(always)]
    fn skim_syscall(&mut self, enter: bool, body: &[u8]) -> Step<SyscallStop> {
        let c = &mut Cur::new(body);
        let (tid, time) = self.common(c)?;
        let flags = c.u8()?;
        let t = self.state.thread(tid)?;
        let stime_us = if flags & F_STIME != 0 {
            t.stime = t.stime.wrapping_add(c.i64()? as u64);
            Some(t.stime)
        } else {
            None
        };
        let regs = flags & F_REGS != 0;
        if regs {
            skim_regs(c, &mut t.regs)?;
        }
        let derived = flags & F_DERIVED != 0;
        let ret_derived = !enter && flags & F_RET_DERIVED != 0;
        if !regs && (derived || ret_derived) {
            return Err("derived values without registers");
        }
        let orig = t.regs[crate::record::x86_64::ORIG_RAX];
        let rax = t.regs[crate::record::x86_64::RAX];
        let nr = if derived { orig } else { c.u64()? };
        let ret = if enter {
            if !derived {
                c.skip(6)?;
            }
            0
        } else if ret_derived {
            rax as i64
        } else {
            c.i64()?
        };
        Ok(SyscallStop {
            enter,
            tid,
            time,
            stime_us,
            nr,
            ret,
        })
    }

    #[inline(always)]
    fn common(&mut self, c: &mut Cur<'_>) -> Step<(Tid, u64)> {
        let tid = c.i32()?;
        let dt = c.i64()?;
        self.state.time = self.state.time.wrapping_add(dt as u64);
        Ok((tid, self.state.time))
    }

    #[inline(always)]
    fn decode_body<'a>(&mut self, k: Kind, body: &'a [u8]) -> Step<Record<'a>> {
        let c = &mut Cur::new(body);
        let (tid, time) = self.common(c)?;
        let known = self.regs_known;
        let check = |flags: u8| {
            if flags & F_REGS != 0 && !known {
                Err("a register snapshot of a layout this reader does not know")
            } else {
                Ok(flags)
            }
        };
        Ok(match k {
            Kind::SyscallEnter => {
                let flags = check(c.u8()?)?;
                let t = self.state.thread(tid)?;
                let stime_us = if flags & F_STIME != 0 {
                    t.stime = t.stime.wrapping_add(c.i64()? as u64);
                    Some(t.stime)
                } else {
                    None
                };
                let regs = if flags & F_REGS != 0 {
                    apply_regs(c, &mut t.regs)?;
                    Some(Regs::x86_64(t.regs))
                } else {
                    None
                };
                let (nr, args) = match &regs {
                    Some(g) if flags & F_DERIVED != 0 => (g.syscall_nr(), g.syscall_args()),
                    _ if flags & F_DERIVED != 0 => {
                        return Err("derived arguments without registers")
                    }
                    _ => {
                        let nr = c.u64()?;
                        let mut args = [0u64; 6];
                        for a in &mut args {
                            *a = c.u64()?;
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
                    mem: read_captures(c)?,
                }
            }
            Kind::SyscallExit => {
                let flags = check(c.u8()?)?;
                let t = self.state.thread(tid)?;
                let stime_us = if flags & F_STIME != 0 {
                    t.stime = t.stime.wrapping_add(c.i64()? as u64);
                    Some(t.stime)
                } else {
                    None
                };
                let regs = if flags & F_REGS != 0 {
                    apply_regs(c, &mut t.regs)?;
                    Some(Regs::x86_64(t.regs))
                } else {
                    None
                };
                if regs.is_none() && flags & (F_DERIVED | F_RET_DERIVED) != 0 {
                    return Err("derived values without registers");
                }
                let nr = match &regs {
                    Some(g) if flags & F_DERIVED != 0 => g.syscall_nr(),
                    _ => c.u64()?,
                };
                let ret = match &regs {
                    Some(g) if flags & F_RET_DERIVED != 0 => g.ret(),
                    _ => c.i64()?,
                };
                Record::SyscallExit {
                    tid,
                    time,
                    stime_us,
                    nr,
                    ret,
                    regs,
                    mem: read_captures(c)?,
                }
            }
            k => decode_other(k, tid, time, c)?,
        })
    }
}

/// Applies a register delta (mask, then one zigzag delta per set bit, in
/// register order) to a thread's snapshot.
#[inline(always)]
fn apply_regs(c: &mut Cur<'_>, regs: &mut [u64; REG_COUNT]) -> Step<()> {
    let mut mask = c.u32()?;
    if mask >> REG_COUNT != 0 {
        return Err("register mask names unknown registers");
    }
    while mask != 0 {
        let i = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        regs[i] = regs[i].wrapping_add(c.i64()? as u64);
    }
    Ok(())
}

/// Like [`apply_regs`], but only rax and orig_rax, the two registers the
/// syscall number and return value derive from, are kept up to date: the
/// other deltas are stepped over. A decoder that skims a chunk's syscall
/// records therefore cannot also fully decode some of them.
#[inline(always)]
fn skim_regs(c: &mut Cur<'_>, regs: &mut [u64; REG_COUNT]) -> Step<()> {
    use crate::record::x86_64::{ORIG_RAX, RAX};
    let mask = c.u32()?;
    if mask >> REG_COUNT != 0 {
        return Err("register mask names unknown registers");
    }
    let below = |i: usize| mask & ((1u32 << i) - 1);
    c.skip(below(RAX).count_ones())?;
    if mask & (1 << RAX) != 0 {
        regs[RAX] = regs[RAX].wrapping_add(c.i64()? as u64);
    }
    c.skip((below(ORIG_RAX) >> (RAX + 1)).count_ones())?;
    if mask & (1 << ORIG_RAX) != 0 {
        regs[ORIG_RAX] = regs[ORIG_RAX].wrapping_add(c.i64()? as u64);
    }
    c.skip((mask >> (ORIG_RAX + 1)).count_ones())
}

#[cfg(test)]
mod reference {
    //! The first, bincode-driven decoder, kept to check the hand-written one
    //! (bincode is a dev-dependency: the oracle, never on the run-time path).
    use super::*;

    use bincode::de::read::{BorrowReader, Reader};
    use bincode::de::{BorrowDecode, Decode, DecoderImpl};
    use bincode::error::DecodeError;

    type Config = bincode::config::Configuration;
    const CONFIG: Config = bincode::config::standard();

    /// A slice reader that lets us see what is left (bincode's hides it).
    pub(super) struct Src<'a> {
        s: &'a [u8],
    }

    impl Reader for Src<'_> {
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
        fn peek_read(&mut self, n: usize) -> Option<&[u8]> {
            self.s.get(..n)
        }
        fn consume(&mut self, n: usize) {
            self.s = self.s.get(n..).unwrap_or_default();
        }
    }

    impl<'a> BorrowReader<'a> for Src<'a> {
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

    type Dec<'a> = DecoderImpl<Src<'a>, Config, ()>;

    fn dec(s: &[u8]) -> Dec<'_> {
        DecoderImpl::new(Src { s }, CONFIG, ())
    }

    fn rest<'a>(d: &mut Dec<'a>) -> &'a [u8] {
        use bincode::de::BorrowDecoder;
        d.borrow_reader().s
    }

    fn get<T: Decode<()>>(d: &mut Dec<'_>) -> std::result::Result<T, DecodeError> {
        T::decode(d)
    }

    fn get_bytes<'a>(d: &mut Dec<'a>) -> std::result::Result<&'a [u8], DecodeError> {
        <&'a [u8]>::borrow_decode(d)
    }

    /// bincode's reading of one capture.
    pub(crate) fn decode_mem_ref(b: &[u8]) -> std::result::Result<(Mem<'_>, &[u8]), DecodeError> {
        let d = &mut dec(b);
        let (arg, flags, addr, data): (u8, u8, u64, &[u8]) =
            (get(d)?, get(d)?, get(d)?, get_bytes(d)?);
        let redacted = if flags & crate::record::mem_flags::REDACTED != 0 {
            Some(get(d)?)
        } else {
            None
        };
        let m = Mem {
            arg,
            flags,
            addr,
            data,
            redacted,
        };
        Ok((m, rest(d)))
    }

    /// bincode's own reading of a chunk payload, as the decoder was first
    /// written: the hand-written reader must agree with it.
    #[derive(Default)]
    pub struct RefDecoder {
        state: ChunkState,
    }

    impl RefDecoder {
        pub fn new() -> Self {
            Self::default()
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
            let prev = &mut self.state.thread(tid).map_err(DecodeError::Other)?.regs;
            for (i, r) in prev.iter_mut().enumerate() {
                if mask & (1 << i) != 0 {
                    let delta: i64 = get(d)?;
                    *r = r.wrapping_add(delta as u64);
                }
            }
            Ok(Regs::x86_64(*prev))
        }

        fn stime(&mut self, d: &mut Dec<'_>, tid: Tid) -> std::result::Result<u64, DecodeError> {
            let delta: i64 = get(d)?;
            let st = &mut self.state.thread(tid).map_err(DecodeError::Other)?.stime;
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
                    let flags = get(d)?;
                    let inferred = !rest(d).is_empty() && get(d)?;
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
                    let argv_redacted = if rest(d).is_empty() {
                        Vec::new()
                    } else {
                        let n: u64 = get(d)?;
                        if n > rest(d).len() as u64 / 2 {
                            return Err(DecodeError::Other(
                                "a count larger than the bytes left can hold",
                            ));
                        }
                        let mut v = Vec::new();
                        for _ in 0..n {
                            v.push((get(d)?, get(d)?));
                        }
                        v
                    };
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
                Kind::OpenFd => Record::OpenFd {
                    tid,
                    time,
                    fd: get(d)?,
                    flags: get(d)?,
                    pos: get(d)?,
                    target: get_bytes(d)?,
                    detail: &[],
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
            b = decode_mem_ref(b)?.1;
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
}

#[cfg(test)]
mod tests {
    use super::reference::RefDecoder;
    use super::*;
    use crate::record::x86_64;
    use proptest::prelude::*;

    fn regs(seed: u64, nr: u64) -> Regs {
        let mut g = Regs::default();
        for (i, w) in g.words_mut().iter_mut().enumerate() {
            *w = seed
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(i as u32)
                >> (i % 40);
        }
        g[x86_64::ORIG_RAX] = nr;
        g
    }

    /// Every record kind, and every syscall-record flag combination.
    fn payload() -> Vec<u8> {
        payload_of(40)
    }

    fn payload_of(syscalls: u64) -> Vec<u8> {
        let mems = [
            Mem {
                arg: 1,
                flags: mem_flags_string(),
                addr: 0x7ffd_1000,
                data: b"/etc/passwd",
                redacted: None,
            },
            Mem {
                arg: 9,
                flags: 2,
                addr: u64::MAX,
                data: b"",
                redacted: Some(4096),
            },
        ];
        let mut recs = Vec::new();
        for i in 0..syscalls {
            let tid = 100 + (i % 11) as i32;
            let g = regs(i, i % 5);
            let time = 1_000_000 + i * i * 977;
            let stime = (i % 3 != 0).then_some(i * 7);
            recs.push(Record::SyscallEnter {
                tid,
                time,
                stime_us: stime,
                nr: if i % 4 == 0 { 999 } else { g.syscall_nr() },
                args: if i % 6 == 0 { [i; 6] } else { g.syscall_args() },
                regs: (i % 7 != 0).then_some(g),
                mem: Captures::Slice(if i % 2 == 0 { &mems[..] } else { &[] }),
            });
            let mut g2 = g;
            g2[x86_64::RAX] = (-(i as i64)) as u64;
            recs.push(Record::SyscallExit {
                tid,
                time: time + 500,
                stime_us: stime.map(|s| s + 2),
                nr: if i % 9 == 0 { 7 } else { g2.syscall_nr() },
                ret: if i % 5 == 0 { 1 << 40 } else { g2.ret() },
                regs: (i % 8 != 0).then_some(g2),
                mem: Captures::Slice(if i % 3 == 0 { &mems[..1] } else { &[] }),
            });
        }
        let argv: Vec<&[u8]> = vec![b"sh", b"-c", b"true"];
        recs.extend([
            Record::SignalDelivery {
                tid: 5,
                time: 9,
                signo: 17,
                siginfo: &[1, 2, 3],
            },
            Record::GroupStop {
                tid: 5,
                time: 10,
                signo: 19,
            },
            Record::NewChild {
                tid: 5,
                time: 11,
                child: 6,
                kind: ChildKind::Vfork,
                flags: 0x4111,
                inferred: true,
            },
            Record::VforkDone {
                tid: 5,
                time: 12,
                child: 6,
            },
            Record::Exec {
                tid: 5,
                time: 13,
                former_tid: 7,
                filename: b"/bin/sh",
                argv,
                argv_redacted: vec![(2, 7)],
            },
            Record::ExitEvent {
                tid: 6,
                time: 14,
                status: 0x500,
            },
            Record::Death {
                tid: 6,
                time: 15,
                how: Termination::Exited(-3),
            },
            Record::Death {
                tid: 7,
                time: 15,
                how: Termination::Signaled {
                    signo: 11,
                    core: true,
                },
            },
            Record::Attach {
                tid: 8,
                time: 16,
                tgid: 8,
                ppid: 1,
                state: b'S',
                group_stopped: true,
                comm: b"svc",
                exe: b"/usr/bin/svc",
                cwd: b"/",
            },
            Record::Detach {
                tid: 8,
                time: 17,
                state: b'T',
                signo: 0,
            },
            Record::Note {
                tid: 0,
                time: 1,
                kind: 3,
                value: 1 << 33,
                text: b"note",
            },
        ]);
        let mut e = ChunkEncoder::new();
        let mut out = Vec::new();
        for r in &recs {
            e.encode(r, &mut out);
        }
        out
    }

    fn mem_flags_string() -> u8 {
        crate::record::mem_flags::STRING
    }

    /// Every item both decoders read from `b`, as text; an error ends the list.
    fn both(b: &[u8]) -> (Vec<String>, Vec<String>) {
        let mut new = Vec::new();
        let mut d = ChunkDecoder::new(true);
        let mut rest = b;
        while !rest.is_empty() {
            match d.decode(rest) {
                Ok((item, tail)) => {
                    new.push(format!("{item:?}"));
                    rest = tail;
                }
                Err(_) => {
                    new.push("error".into());
                    break;
                }
            }
        }
        let mut old = Vec::new();
        let mut d = RefDecoder::new();
        let mut rest = b;
        while !rest.is_empty() {
            match d.decode(rest) {
                Ok((item, tail)) => {
                    old.push(format!("{item:?}"));
                    rest = tail;
                }
                Err(_) => {
                    old.push("error".into());
                    break;
                }
            }
        }
        (new, old)
    }

    #[test]
    fn the_hand_written_reader_equals_bincode_on_every_record_kind() {
        let p = payload();
        let (new, old) = both(&p);
        assert_eq!(new.len(), 91);
        assert!(!new.iter().any(|s| s == "error"));
        assert_eq!(new, old);
    }

    #[test]
    fn wide_integers_and_their_limits_read_as_bincode_reads_them() {
        let mut out = Vec::new();
        let mut e = ChunkEncoder::new();
        for (tid, time) in [
            (i32::MIN, 0),
            (i32::MAX, u64::MAX),
            (-1, 1 << 16),
            (300, 1 << 32),
        ] {
            e.encode(
                &Record::Note {
                    tid,
                    time,
                    kind: u32::MAX,
                    value: u64::MAX,
                    text: &[0xff; 300],
                },
                &mut out,
            );
        }
        let (new, old) = both(&out);
        assert_eq!(new, old);
        assert!(!new.iter().any(|s| s == "error"));
    }

    #[test]
    fn skim_gives_the_syscall_fields_decode_gives() {
        let p = payload();
        let (mut a, mut b) = (ChunkDecoder::new(true), ChunkDecoder::new(true));
        let (mut ra, mut rb) = (&p[..], &p[..]);
        let mut syscalls = 0;
        while !ra.is_empty() {
            let (full, ta) = a.decode(ra).expect("decode");
            let (skim, tb) = b.skim(rb).expect("skim");
            assert_eq!(ta.len(), tb.len());
            match (full, skim) {
                (
                    Decoded::Record(Record::SyscallEnter {
                        tid,
                        time,
                        stime_us,
                        nr,
                        ..
                    }),
                    Skimmed::Syscall(s),
                ) => {
                    assert_eq!(
                        s,
                        SyscallStop {
                            enter: true,
                            tid,
                            time,
                            stime_us,
                            nr,
                            ret: 0
                        }
                    );
                    syscalls += 1;
                }
                (
                    Decoded::Record(Record::SyscallExit {
                        tid,
                        time,
                        stime_us,
                        nr,
                        ret,
                        ..
                    }),
                    Skimmed::Syscall(s),
                ) => {
                    assert_eq!(
                        s,
                        SyscallStop {
                            enter: false,
                            tid,
                            time,
                            stime_us,
                            nr,
                            ret
                        }
                    );
                    syscalls += 1;
                }
                (Decoded::Record(r), Skimmed::Record(q)) => {
                    assert_eq!(format!("{r:?}"), format!("{q:?}"))
                }
                (x, y) => panic!("{x:?} skimmed as {y:?}"),
            }
            (ra, rb) = (ta, tb);
        }
        assert_eq!(syscalls, 80);
    }

    #[test]
    fn every_byte_set_to_every_varint_marker_reads_the_same() {
        // Few syscalls (each carries up to 27 register deltas), every other kind.
        let p = payload_of(3);
        for i in 0..p.len() {
            let x = p[i];
            for v in [2, 251, 252, 253, 254, 255, x ^ 1] {
                let mut q = p.clone();
                q[i] = v;
                let (new, old) = both(&q);
                assert_eq!(new, old, "byte {i} set to {v}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn mutated_payloads_read_the_same_or_fail_at_the_same_record(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..4), 1..6),
            cut in any::<usize>(),
        ) {
            let mut p = payload();
            for (at, byte, how) in edits {
                let i = at % p.len();
                match how {
                    0 => p[i] = byte,
                    1 => p[i] ^= 1 << (byte % 8),
                    2 => p.insert(i, byte),
                    _ => { p.remove(i); }
                }
            }
            if cut % 3 == 0 {
                p.truncate(cut % (p.len() + 1));
            }
            let (new, old) = both(&p);
            prop_assert_eq!(new, old);
        }
    }
}
