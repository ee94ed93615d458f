//! Version 2 and 3 chunk payloads (FORMAT.md, section 4): each record is
//! split over three streams, compressed as separate zstd frames.
//!
//! - *events*: kind, thread slot, syscall flags, number and return value, and
//!   the whole body of every other kind. What the statistics need.
//! - *times*: time deltas and CPU-time deltas. Also needed by the
//!   statistics; kept apart because these few noisy bytes per stop would
//!   otherwise break zstd's long matches over the very regular rest.
//! - *detail*: register deltas, arguments not in the registers, captures.
//!   Never decompressed for statistics.
//!
//! Registers are stored as deltas against a prediction, by the rules of the
//! recording's register layout ([`LayoutDesc`], given from the header): the
//! thread's previous snapshot with the syscall-number register set to the
//! number, the return register to the return value at an exit (or to the
//! layout's fixed entry value, x86_64's -ENOSYS, at an entry), and the
//! registers the syscall instruction links (x86_64: `rcx` to `rip`, `r11` to
//! `rflags`) taken relative to their base. An exit then usually stores no
//! register at all. An entry may instead be predicted from the thread's
//! last entry at the same call site (program counter), whichever leaves
//! fewer registers to store: a loop over a few syscalls finds each site's
//! registers as it left them.
//!
//! The codec is generic over an [`Arch`], one per layout, whose constants
//! come from the layout's [`LayoutDesc`]: each layout's encoder and decoder
//! are compiled with its register count fixed.

use super::*;
use crate::arch::{LayoutDesc, RegLayout, AARCH64_DESC, X86_64_DESC};
use crate::record::put_captures;

/// One register layout, as the codec needs it at compile time.
pub(crate) trait Arch: 'static {
    /// A snapshot's words.
    type W: Copy + PartialEq + AsRef<[u64]> + AsMut<[u64]> + std::ops::IndexMut<usize, Output = u64>;
    const ZERO: Self::W;
    const DESC: LayoutDesc;
    const COUNT: usize = Self::DESC.names.len();
    /// Mask bit of an entry stored against the call-site table.
    const SITE: u64 = 1 << Self::COUNT;
}

pub(crate) struct X86;
impl Arch for X86 {
    type W = [u64; crate::arch::x86_64::COUNT];
    const ZERO: Self::W = [0; crate::arch::x86_64::COUNT];
    const DESC: LayoutDesc = X86_64_DESC;
}

pub(crate) struct Aarch64;
impl Arch for Aarch64 {
    type W = [u64; crate::arch::aarch64::COUNT];
    const ZERO: Self::W = [0; crate::arch::aarch64::COUNT];
    const DESC: LayoutDesc = AARCH64_DESC;
}

// Flag bits of syscall records.
const F_STIME: u8 = 1;
const F_REGS: u8 = 2;
/// Enter: the six arguments follow in the detail stream (they are not the
/// argument registers of the snapshot, or there is no snapshot).
const F_ARGS: u8 = 4;
/// Exit: the syscall number follows in the events stream (it is not the one
/// of this thread's last syscall record in this chunk).
const F_NR: u8 = 8;
const ENTER_FLAGS: u8 = F_STIME | F_REGS | F_ARGS;
const EXIT_FLAGS: u8 = F_STIME | F_REGS | F_NR;

/// Per-thread values later records of the same chunk are stored against.
struct Thread<A: Arch> {
    tid: Tid,
    /// The last register snapshot, with the linked registers transformed.
    x: A::W,
    stime: u64,
    /// Syscall number of the thread's last syscall record.
    nr: Option<u64>,
}

impl<A: Arch> Thread<A> {
    fn new(tid: Tid) -> Self {
        Thread {
            tid,
            x: A::ZERO,
            stime: 0,
            nr: None,
        }
    }
}

/// The snapshot's words with each linked register taken relative to its
/// base: zero at a syscall entry.
#[inline(always)]
fn transform<A: Arch>(g: &Regs) -> A::W {
    let mut x = A::ZERO;
    x.as_mut().copy_from_slice(g.words());
    for &(r, base) in A::DESC.linked {
        x[r] = x[r].wrapping_sub(x[base]);
    }
    x
}

/// Word `i` of a snapshot as recorded, from its transformed form.
#[inline(always)]
fn word<A: Arch>(x: &A::W, i: usize) -> u64 {
    let mut w = x[i];
    for &(r, base) in A::DESC.linked {
        if r == i {
            w = w.wrapping_add(x[base]);
        }
    }
    w
}

#[inline(always)]
fn untransform<A: Arch>(x: &A::W) -> Regs {
    let mut g = Regs::new(A::DESC.layout);
    let w = g.words_mut();
    w.copy_from_slice(x.as_ref());
    for &(r, base) in A::DESC.linked {
        w[r] = w[r].wrapping_add(w[base]);
    }
    g
}

/// Delta state of one chunk. Threads are numbered by first appearance.
struct State<A: Arch> {
    /// Time of the previous record, in time units.
    time: u64,
    threads: Vec<Thread<A>>,
    /// The last entry snapshot (transformed) at a (thread slot, pc): the
    /// prediction of the next entry from the same call site. A
    /// direct-mapped table: fixed in size, no allocation per stop, a
    /// collision forgets the older site.
    sites: Vec<Site<A>>,
}

struct Site<A: Arch> {
    /// `u32::MAX`: empty.
    slot: u32,
    pc: u64,
    x: A::W,
}

// Not derived: a derive would ask `A: Copy`, and only `A::W` is stored.
impl<A: Arch> Clone for Site<A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A: Arch> Copy for Site<A> {}

impl<A: Arch> Site<A> {
    const EMPTY: Self = Site {
        slot: u32::MAX,
        pc: 0,
        x: A::ZERO,
    };
}

/// log2 of the call-site table's size (FORMAT.md, section 4).
const SITE_BITS: u32 = 10;

/// The call-site table's index of (slot, pc).
#[inline(always)]
fn site_index(slot: usize, pc: u64) -> usize {
    let h = (pc ^ (slot as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_mul(0xD6E8_FEB8_6659_FD93);
    (h >> (64 - SITE_BITS)) as usize
}

impl<A: Arch> State<A> {
    fn new() -> Self {
        State {
            time: 0,
            threads: Vec::new(),
            sites: vec![Site::EMPTY; 1 << SITE_BITS],
        }
    }

    fn clear(&mut self) {
        self.time = 0;
        self.threads.clear();
        self.sites.fill(Site::EMPTY);
    }

    /// The thread's last entry snapshot at `pc`, if the table holds it.
    #[inline(always)]
    fn site(&self, slot: usize, pc: u64) -> Option<&A::W> {
        let e = self.sites.get(site_index(slot, pc))?;
        (e.slot == slot as u32 && e.pc == pc).then_some(&e.x)
    }

    #[inline(always)]
    fn remember(&mut self, slot: usize, x: A::W) {
        self.threads[slot].x = x;
        self.remember_last(slot);
    }

    /// Remembers the thread's last snapshot at its call site.
    #[inline(always)]
    fn remember_last(&mut self, slot: usize) {
        let x = &self.threads[slot].x;
        let pc = x[A::DESC.pc];
        if let Some(e) = self.sites.get_mut(site_index(slot, pc)) {
            *e = Site {
                slot: slot as u32,
                pc,
                x: *x,
            };
        }
    }
}

/// The prediction of a thread's next (transformed) snapshot: `x` with the
/// syscall number and, where known, the return register set.
#[inline(always)]
fn predict<A: Arch>(x: &A::W, nr: u64, ret: Option<u64>) -> A::W {
    let mut p = *x;
    predict_in::<A>(&mut p, nr, ret);
    p
}

/// [`predict`] in place.
#[inline(always)]
fn predict_in<A: Arch>(p: &mut A::W, nr: u64, ret: Option<u64>) {
    p[A::DESC.nr] = nr;
    if let Some(v) = ret {
        p[A::DESC.ret] = v;
    }
}

/// The prediction of an entry's snapshot at `pc` from base snapshot `x`.
#[inline(always)]
fn entry_prediction<A: Arch>(x: &A::W, pc: u64, nr: u64) -> A::W {
    let mut p = *x;
    entry_prediction_in::<A>(&mut p, pc, nr);
    p
}

/// [`entry_prediction`] in place.
#[inline(always)]
fn entry_prediction_in<A: Arch>(p: &mut A::W, pc: u64, nr: u64) {
    predict_in::<A>(p, nr, A::DESC.entry_ret);
    p[A::DESC.pc] = pc;
}

/// Encodes records into the three streams of a chunk payload.
pub(crate) struct Encoder<A: Arch> {
    st: State<A>,
    unit: u64,
    /// tid to slot, for chunks with more threads than a scan handles well.
    index: FxHashMap<Tid, u32>,
    /// Slot of the last thread looked up: consecutive stops are mostly the
    /// same thread's.
    last: usize,
    scratch: Vec<u8>,
}

impl<A: Arch> Encoder<A> {
    /// An encoder that stores times in units of `ns` nanoseconds (rounded
    /// down). `rec` uses 1000: every view prints microseconds.
    pub fn with_time_unit(ns: u32) -> Self {
        Encoder {
            st: State::new(),
            unit: u64::from(ns.max(1)),
            index: FxHashMap::default(),
            last: 0,
            scratch: Vec::new(),
        }
    }

    /// Threads in the current chunk: a writer seals the chunk at
    /// [`MAX_CHUNK_THREADS`], the most a reader accepts.
    pub fn threads(&self) -> usize {
        self.st.threads.len()
    }

    /// Forget the delta state: call when a new chunk starts.
    pub fn reset(&mut self) {
        self.st.clear();
        self.index.clear();
        self.last = 0;
    }

    /// Writes the thread's slot (and its tid, the first time) to `ev`.
    #[inline(always)]
    fn slot(&mut self, tid: Tid, ev: &mut Vec<u8>) -> usize {
        let threads = &self.st.threads;
        let found = match threads.get(self.last) {
            Some(t) if t.tid == tid => Some(self.last),
            _ if threads.len() <= SCAN_THREADS => threads.iter().position(|t| t.tid == tid),
            _ => self.index.get(&tid).map(|&i| i as usize),
        };
        let e = &mut Put(ev);
        let i = match found {
            Some(i) => {
                e.u32(i as u32);
                i
            }
            None => {
                let i = threads.len();
                e.u32(i as u32);
                e.i32(tid);
                self.st.threads.push(Thread::new(tid));
                self.index.insert(tid, i as u32);
                i
            }
        };
        self.last = i;
        i
    }

    /// Appends one record to the streams. A snapshot of another layout
    /// than the encoder's is not stored (the writer refuses such a record
    /// before it gets here).
    pub fn encode(&mut self, r: &Record<'_>, out: &mut Streams) {
        out.events.push(r.kind() as u8);
        let slot = self.slot(r.tid(), &mut out.events);
        let t = r.time() / self.unit;
        Put(&mut out.times).i64(t.wrapping_sub(self.st.time) as i64);
        self.st.time = t;
        let pc = A::DESC.pc;
        let th = &mut self.st.threads[slot];
        match r {
            Record::SyscallEnter {
                stime_us,
                nr,
                args,
                regs,
                mem,
                ..
            } => {
                let regs = regs.as_ref().filter(|g| g.layout() == A::DESC.layout);
                let args_stored = regs.is_none_or(|g| g.syscall_args() != *args);
                let flags = bit(stime_us.is_some(), F_STIME)
                    | bit(regs.is_some(), F_REGS)
                    | bit(args_stored, F_ARGS);
                let ev = &mut Put(&mut out.events);
                ev.u8(flags);
                ev.u64(*nr);
                put_stime(&mut out.times, &mut th.stime, *stime_us);
                let de = &mut Put(&mut out.detail);
                if let Some(g) = regs {
                    // The program counter first: it picks the prediction of the rest.
                    let x = transform::<A>(g);
                    de.i64(x[pc].wrapping_sub(th.x[pc]) as i64);
                    // Of the two predictions, the one that leaves fewer
                    // registers to store; the mask's SITE bit says which.
                    let thread = entry_prediction::<A>(&self.st.threads[slot].x, x[pc], *nr);
                    let thread_mask = differing::<A>(&x, &thread);
                    let site = self.st.site(slot, x[pc]).map(|b| {
                        let p = entry_prediction::<A>(b, x[pc], *nr);
                        (differing::<A>(&x, &p), p)
                    });
                    match site {
                        Some((m, p)) if m.count_ones() < thread_mask.count_ones() => {
                            put_regs::<A>(de, &x, &p, m | A::SITE)
                        }
                        _ => put_regs::<A>(de, &x, &thread, thread_mask),
                    }
                    self.st.remember(slot, x);
                }
                if args_stored {
                    for a in args {
                        de.u64(*a);
                    }
                }
                put_captures(de, mem);
                self.st.threads[slot].nr = Some(*nr);
            }
            Record::SyscallExit {
                stime_us,
                nr,
                ret,
                regs,
                mem,
                ..
            } => {
                let regs = regs.as_ref().filter(|g| g.layout() == A::DESC.layout);
                let nr_stored = th.nr != Some(*nr);
                let flags = bit(stime_us.is_some(), F_STIME)
                    | bit(regs.is_some(), F_REGS)
                    | bit(nr_stored, F_NR);
                let ev = &mut Put(&mut out.events);
                ev.u8(flags);
                if nr_stored {
                    ev.u64(*nr);
                }
                ev.i64(*ret);
                put_stime(&mut out.times, &mut th.stime, *stime_us);
                let de = &mut Put(&mut out.detail);
                if let Some(g) = regs {
                    let x = transform::<A>(g);
                    let p = predict::<A>(&th.x, *nr, Some(*ret as u64));
                    put_regs::<A>(de, &x, &p, differing::<A>(&x, &p));
                    th.x = x;
                }
                put_captures(de, mem);
                th.nr = Some(*nr);
            }
            other => {
                let mut body = std::mem::take(&mut self.scratch);
                body.clear();
                encode_other(&mut Put(&mut body), other);
                Put(&mut out.events).bytes(&body);
                self.scratch = body;
            }
        }
    }
}

/// A syscall stop's CPU time, as a delta from the thread's last one (the
/// encoding half of `Decoder::stime`).
#[inline(always)]
fn put_stime(times: &mut Vec<u8>, last: &mut u64, stime_us: Option<u64>) {
    if let Some(s) = stime_us {
        Put(times).i64(s.wrapping_sub(*last) as i64);
        *last = s;
    }
}

/// Stores the (transformed) snapshot `new` against the prediction `p`:
/// `mask` (the registers that differ, [`differing`], plus any base bit),
/// then one zigzag delta per differing register, in register order.
#[inline(always)]
fn put_regs<A: Arch>(e: &mut Put<'_>, new: &A::W, p: &A::W, mask: u64) {
    // Written as the u32 of x86_64's 27 registers (+ SITE) in versions 2
    // and 3; a u64 for layouts of more: the same bytes for the same value.
    e.u64(mask);
    for (a, b) in new.as_ref().iter().zip(p.as_ref()) {
        if a != b {
            e.i64(a.wrapping_sub(*b) as i64);
        }
    }
}

/// Mask of the registers that differ.
#[inline(always)]
fn differing<A: Arch>(a: &A::W, b: &A::W) -> u64 {
    let mut mask = 0u64;
    for (i, (x, y)) in a.as_ref().iter().zip(b.as_ref()).enumerate() {
        if x != y {
            mask |= 1 << i;
        }
    }
    mask
}

/// A register mask: a u32 varint while the registers and the SITE bit fit
/// in 32 bits (x86_64), else a u64.
#[inline(always)]
fn read_mask<A: Arch>(c: &mut Cur<'_>) -> Step<u64> {
    if A::COUNT < 32 {
        c.u32().map(u64::from)
    } else {
        c.u64()
    }
}

/// The reverse of [`put_regs`], `mask` already read (without its SITE
/// bit): the deltas added to prediction `p`, in place.
#[inline(always)]
fn apply_regs<A: Arch>(c: &mut Cur<'_>, mut mask: u64, p: &mut A::W) -> Step<()> {
    if mask >> A::COUNT != 0 {
        return Err("register mask names unknown registers");
    }
    while mask != 0 {
        let i = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        p[i] = p[i].wrapping_add(c.i64()? as u64);
    }
    Ok(())
}

/// Decodes the three streams of a version-2 or 3 chunk.
pub(crate) struct Decoder<A: Arch> {
    st: State<A>,
    unit: u64,
    /// Whether the header named this layout: a snapshot of a layout the
    /// reader does not know is an error (statistics, which never look at
    /// registers, still work).
    regs_known: bool,
}

/// The start of every record: its kind, thread slot, tid and time.
struct Head {
    kind: u8,
    slot: usize,
    tid: Tid,
    time: u64,
}

impl<A: Arch> Decoder<A> {
    pub fn new(time_unit: u32, regs_known: bool) -> Self {
        Decoder {
            st: State::new(),
            unit: u64::from(time_unit.max(1)),
            regs_known,
        }
    }

    pub fn reset(&mut self) {
        self.st.clear();
    }

    #[inline(always)]
    fn head(&mut self, c: &mut Cursors<'_>) -> Step<Head> {
        let kind = c.ev.u8().map_err(|_| "empty record")?;
        let slot = c.ev.u32()? as usize;
        let n = self.st.threads.len();
        let tid = if slot < n {
            self.st.threads[slot].tid
        } else if slot == n && n < MAX_CHUNK_THREADS {
            // A new thread costs at least two bytes of the events stream:
            // the table stays bounded by the chunk's size.
            let tid = c.ev.i32()?;
            self.st.threads.push(Thread::new(tid));
            tid
        } else if slot == n {
            return Err(TOO_MANY_THREADS);
        } else {
            return Err("thread slot beyond the threads seen in this chunk");
        };
        let dt = c.tm.i64()?;
        self.st.time = self.st.time.wrapping_add(dt as u64);
        Ok(Head {
            kind,
            slot,
            tid,
            time: self.st.time.wrapping_mul(self.unit),
        })
    }

    /// Any kind but the syscall stops: its body is in the events stream.
    #[inline]
    fn other<'a>(h: &Head, c: &mut Cursors<'a>) -> Step<Option<Record<'a>>> {
        let body = c.ev.bytes()?;
        match Kind::from_u8(h.kind) {
            Some(k) => decode_other(k, h.tid, h.time, &mut Cur::new(body)).map(Some),
            None => Ok(None),
        }
    }

    #[inline(always)]
    fn stime(th: &mut Thread<A>, flags: u8, c: &mut Cursors<'_>) -> Step<Option<u64>> {
        if flags & F_STIME == 0 {
            return Ok(None);
        }
        th.stime = th.stime.wrapping_add(c.tm.i64()? as u64);
        Ok(Some(th.stime))
    }

    /// An exit's flags, syscall number and return value.
    #[inline(always)]
    fn exit_head(th: &Thread<A>, c: &mut Cursors<'_>) -> Step<(u8, u64, i64)> {
        let flags = c.ev.u8()?;
        if flags & !EXIT_FLAGS != 0 {
            return Err("unknown syscall-exit flag bits");
        }
        let nr = if flags & F_NR != 0 {
            c.ev.u64()?
        } else {
            th.nr
                .ok_or("a syscall exit without its number, first of its thread in the chunk")?
        };
        Ok((flags, nr, c.ev.i64()?))
    }

    #[inline(always)]
    fn enter_head(c: &mut Cursors<'_>) -> Step<(u8, u64)> {
        let flags = c.ev.u8()?;
        if flags & !ENTER_FLAGS != 0 {
            return Err("unknown syscall-entry flag bits");
        }
        if flags & (F_REGS | F_ARGS) == 0 {
            return Err("a syscall entry with neither registers nor arguments");
        }
        Ok((flags, c.ev.u64()?))
    }

    #[inline(always)]
    fn check_regs(&self, flags: u8) -> Step<()> {
        if flags & F_REGS != 0 && !self.regs_known {
            return Err("a register snapshot of a layout this reader does not know");
        }
        Ok(())
    }

    /// An entry's register snapshot, after its flags and number: read
    /// against its prediction into the thread's last snapshot (transformed)
    /// and remembered at its call site, in place. Whether it had one.
    #[inline(always)]
    fn enter_regs(&mut self, slot: usize, flags: u8, nr: u64, c: &mut Cursors<'_>) -> Step<bool> {
        if flags & F_REGS == 0 {
            return Ok(false);
        }
        let pc = A::DESC.pc;
        let at = self.st.threads[slot].x[pc].wrapping_add(c.de.i64()? as u64);
        let mask = read_mask::<A>(&mut c.de)?;
        if mask & A::SITE != 0 {
            let base = *self
                .st
                .site(slot, at)
                .ok_or("a call-site prediction without an earlier entry at that site")?;
            self.st.threads[slot].x = base;
        }
        let x = &mut self.st.threads[slot].x;
        entry_prediction_in::<A>(x, at, nr);
        apply_regs::<A>(&mut c.de, mask & !A::SITE, x)?;
        self.st.remember_last(slot);
        Ok(true)
    }

    /// An exit's register snapshot, after its head: read against its
    /// prediction into the thread's last snapshot, in place. Whether it had one.
    #[inline(always)]
    fn exit_regs(
        th: &mut Thread<A>,
        flags: u8,
        nr: u64,
        ret: i64,
        c: &mut Cursors<'_>,
    ) -> Step<bool> {
        if flags & F_REGS == 0 {
            return Ok(false);
        }
        let mask = read_mask::<A>(&mut c.de)?;
        predict_in::<A>(&mut th.x, nr, Some(ret as u64));
        apply_regs::<A>(&mut c.de, mask, &mut th.x)?;
        Ok(true)
    }

    /// An entry's arguments: the snapshot's argument registers, or the six
    /// words that follow in the detail stream.
    #[inline(always)]
    fn args(flags: u8, x: Option<&A::W>, c: &mut Cursors<'_>) -> Step<[u64; 6]> {
        match x {
            Some(x) if flags & F_ARGS == 0 => Ok(A::DESC.args.map(|i| word::<A>(x, i))),
            _ => {
                let mut args = [0u64; 6];
                for a in &mut args {
                    *a = c.de.u64()?;
                }
                Ok(args)
            }
        }
    }

    pub fn decode<'a>(&mut self, c: &mut Cursors<'a>) -> Step<Decoded<'a>> {
        let h = self.head(c)?;
        let Some(s) = self.syscall(&h, c)? else {
            return Ok(match Self::other(&h, c)? {
                Some(r) => Decoded::Record(r),
                None => Decoded::Unknown(h.kind),
            });
        };
        // The whole snapshot, as the thread's last one holds it now.
        let regs = s.pc.map(|_| untransform::<A>(&self.st.threads[h.slot].x));
        let (tid, time, stime_us, nr, mem) = (s.tid, s.time, s.stime_us, s.nr, s.mem);
        Ok(Decoded::Record(if s.enter {
            Record::SyscallEnter {
                tid,
                time,
                stime_us,
                nr,
                args: s.args,
                regs,
                mem,
            }
        } else {
            Record::SyscallExit {
                tid,
                time,
                stime_us,
                nr,
                ret: s.ret,
                regs,
                mem,
            }
        }))
    }

    /// Like [`Decoder::decode`], but a syscall stop comes back without its
    /// register snapshot, only the arguments and program counter it holds
    /// ([`LeanStop`]): a reader of calls then never copies a whole
    /// register set. The same state is kept as by `decode`.
    #[inline]
    pub fn lean<'a>(&mut self, c: &mut Cursors<'a>) -> Step<Lean<'a>> {
        let h = self.head(c)?;
        Ok(match self.syscall(&h, c)? {
            Some(s) => Lean::Syscall(s),
            None => match Self::other(&h, c)? {
                Some(r) => Lean::Record(Box::new(r)),
                None => Lean::Unknown(h.kind),
            },
        })
    }

    /// The body of a syscall stop after its head (None for another kind,
    /// nothing read): its registers are applied to the thread's last
    /// snapshot, where [`Decoder::decode`] finds them. `pc` is Some exactly
    /// when the stop holds a snapshot.
    #[inline(always)]
    fn syscall<'a>(&mut self, h: &Head, c: &mut Cursors<'a>) -> Step<Option<LeanStop<'a>>> {
        let pc = A::DESC.pc;
        let (enter, flags, nr, ret) = match h.kind {
            1 => {
                let (flags, nr) = Self::enter_head(c)?;
                (true, flags, nr, 0)
            }
            2 => {
                let (flags, nr, ret) = Self::exit_head(&self.st.threads[h.slot], c)?;
                (false, flags, nr, ret)
            }
            _ => return Ok(None),
        };
        self.check_regs(flags)?;
        let stime_us = Self::stime(&mut self.st.threads[h.slot], flags, c)?;
        let (regs, args) = if enter {
            let regs = self.enter_regs(h.slot, flags, nr, c)?;
            let th = &self.st.threads[h.slot];
            (regs, Self::args(flags, regs.then_some(&th.x), c)?)
        } else {
            let th = &mut self.st.threads[h.slot];
            (Self::exit_regs(th, flags, nr, ret, c)?, [0; 6])
        };
        let th = &mut self.st.threads[h.slot];
        th.nr = Some(nr);
        Ok(Some(LeanStop {
            enter,
            tid: h.tid,
            time: h.time,
            stime_us,
            nr,
            args,
            ret,
            pc: regs.then(|| word::<A>(&th.x, pc)),
            mem: read_captures(&mut c.de)?,
        }))
    }

    /// Like [`Decoder::decode`] without reading the detail stream: syscall
    /// stops come back as [`SyscallStop`]s. A decoder that skims keeps no
    /// registers, so it cannot also decode records of the same chunk.
    #[inline]
    pub fn skim<'a>(&mut self, c: &mut Cursors<'a>) -> Step<Skimmed<'a>> {
        let h = self.head(c)?;
        let th = &mut self.st.threads[h.slot];
        let (enter, flags, nr, ret) = match h.kind {
            1 => {
                let (flags, nr) = Self::enter_head(c)?;
                (true, flags, nr, 0)
            }
            2 => {
                let (flags, nr, ret) = Self::exit_head(th, c)?;
                (false, flags, nr, ret)
            }
            _ => {
                return Ok(match Self::other(&h, c)? {
                    Some(r) => Skimmed::Record(Box::new(r)),
                    None => Skimmed::Unknown(h.kind),
                })
            }
        };
        let stime_us = Self::stime(th, flags, c)?;
        th.nr = Some(nr);
        Ok(Skimmed::Syscall(SyscallStop {
            enter,
            tid: h.tid,
            time: h.time,
            stime_us,
            nr,
            ret,
        }))
    }
}

/// The layout a decoder for `layout` runs with: an unknown one decodes
/// with x86_64's word count and refuses every snapshot.
pub(crate) fn known(layout: Option<RegLayout>) -> (RegLayout, bool) {
    match layout {
        Some(l) => (l, true),
        None => (RegLayout::X86_64, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::x86_64;
    use crate::record::x86_64::{EFLAGS, ORIG_RAX, R11, RAX, RCX, RIP};

    const ENOSYS: u64 = -38i64 as u64;
    type Encoder = super::Encoder<X86>;
    type Decoder = super::Decoder<X86>;

    impl Encoder {
        fn new() -> Self {
            Self::with_time_unit(1)
        }
    }
    use proptest::prelude::*;

    fn snapshot(rip: u64, nr: u64, args: [u64; 6]) -> Regs {
        let mut g = Regs::default();
        g[RIP] = rip;
        g[RCX] = rip;
        g[EFLAGS] = 0x246;
        g[R11] = 0x246;
        g[ORIG_RAX] = nr;
        g[RAX] = ENOSYS;
        for (r, a) in x86_64::ARGS.iter().zip(args) {
            g[*r] = a;
        }
        g
    }

    /// Syscall pairs of three threads, a few of every other kind.
    fn sample(out: &mut Streams, enc: &mut Encoder) -> Vec<String> {
        let mems = [Mem {
            arg: 1,
            flags: 8,
            addr: 0x7ffd_1000,
            data: b"/etc/passwd",
            redacted: None,
        }];
        let mut recs = Vec::new();
        for i in 0..30u64 {
            let tid = 100 + (i % 3) as i32;
            let g = snapshot(
                0x7f00_0000 + (i % 4) * 0x40,
                i % 5,
                [3, 0x7ffd_1000, i, 0, 0, 0],
            );
            recs.push(Record::SyscallEnter {
                tid,
                time: 1_000_000 + i * 977,
                stime_us: (i % 4 != 0).then_some(i * 7),
                nr: i % 5,
                args: if i % 6 == 0 { [i; 6] } else { g.syscall_args() },
                regs: (i % 7 != 0).then_some(g),
                mem: Captures::Slice(if i % 2 == 0 { &mems[..] } else { &[] }),
            });
            let mut g2 = g;
            g2[RAX] = i.wrapping_neg();
            recs.push(Record::SyscallExit {
                tid,
                time: 1_000_500 + i * 977,
                stime_us: (i % 4 != 0).then_some(i * 7 + 2),
                nr: if i % 9 == 0 { 59 } else { i % 5 },
                ret: if i % 5 == 0 { 1 << 40 } else { g2.ret() },
                regs: (i % 8 != 0).then_some(g2),
                mem: Captures::Slice(&[]),
            });
        }
        recs.push(Record::Exec {
            tid: 101,
            time: 2_000_000,
            former_tid: 102,
            filename: b"/bin/true",
            argv: vec![b"true"],
            argv_redacted: Vec::new(),
        });
        recs.push(Record::Death {
            tid: 100,
            time: 2_000_001,
            how: Termination::Exited(0),
        });
        for r in &recs {
            enc.encode(r, out);
        }
        recs.iter().map(|r| format!("{r:?}")).collect()
    }

    fn decode_all(s: &Streams) -> Vec<String> {
        let mut d = Decoder::new(1, true);
        let mut c = Cursors::new(s);
        let mut got = Vec::new();
        while !c.is_empty() {
            match d.decode(&mut c) {
                Ok(Decoded::Record(r)) => got.push(format!("{r:?}")),
                Ok(Decoded::Unknown(k)) => got.push(format!("unknown {k}")),
                Err(e) => {
                    got.push(format!("error: {e}"));
                    break;
                }
            }
        }
        got
    }

    #[test]
    fn every_kind_round_trips_through_the_three_streams() {
        let (mut s, mut e) = (Streams::default(), Encoder::new());
        let want = sample(&mut s, &mut e);
        assert_eq!(decode_all(&s), want);
    }

    #[test]
    fn an_exit_that_repeats_its_entry_stores_no_register_and_no_number() {
        let (mut s, mut e) = (Streams::default(), Encoder::new());
        let g = snapshot(0x7f00_1234, 0, [3, 0x7ffd_0000, 4096, 0, 0, 0]);
        let enter = Record::SyscallEnter {
            tid: 7,
            time: 0,
            stime_us: None,
            nr: 0,
            args: g.syscall_args(),
            regs: Some(g),
            mem: Captures::default(),
        };
        e.encode(&enter, &mut s);
        let before = s.detail.len();
        let ev_before = s.events.len();
        let mut g2 = g;
        g2[RAX] = 4096;
        e.encode(
            &Record::SyscallExit {
                tid: 7,
                time: 0,
                stime_us: None,
                nr: 0,
                ret: 4096,
                regs: Some(g2),
                mem: Captures::default(),
            },
            &mut s,
        );
        // Detail: an empty mask and no captures. Events: kind, slot, flags, ret.
        assert_eq!(s.detail.len() - before, 2);
        assert_eq!(s.events.len() - ev_before, 1 + 1 + 1 + 3);
    }

    #[test]
    fn times_are_kept_to_the_time_unit() {
        let (mut s, mut e) = (Streams::default(), Encoder::with_time_unit(1000));
        for t in [1_234_567u64, 1_235_999, 1_236_000] {
            e.encode(
                &Record::GroupStop {
                    tid: 1,
                    time: t,
                    signo: 19,
                },
                &mut s,
            );
        }
        let mut d = Decoder::new(1000, true);
        let mut c = Cursors::new(&s);
        let mut times = Vec::new();
        while !c.is_empty() {
            if let Decoded::Record(r) = d.decode(&mut c).unwrap() {
                times.push(r.time());
            }
        }
        assert_eq!(times, [1_234_000, 1_235_000, 1_236_000]);
    }

    #[test]
    fn a_slot_beyond_the_known_threads_and_unknown_flag_bits_are_errors() {
        let (mut s, mut e) = (Streams::default(), Encoder::new());
        sample(&mut s, &mut e);
        let mut bad = s.clone();
        bad.events[1] = 5; // the first record's slot, with no thread seen yet
        assert!(decode_all(&bad)[0].starts_with("error: thread slot"));
        let mut bad = s.clone();
        // First record: kind, slot 0, tid 100 (zigzag 200), flags.
        assert_eq!(&bad.events[..3], &[1, 0, 200]);
        bad.events[3] |= 0x80;
        assert!(decode_all(&bad)[0].contains("flag bits"));
    }

    #[test]
    fn a_loop_over_two_call_sites_stores_no_register_the_second_time_round() {
        let (mut s, mut e) = (Streams::default(), Encoder::new());
        let sites = [
            snapshot(0x7f00_0100, 0, [3, 0x7ffd_0000, 64, 0, 0, 0]),
            snapshot(0x7f00_0200, 1, [4, 0x5555_0000, 64, 0, 0, 0]),
        ];
        let mut round = |s: &mut Streams| {
            for g in &sites {
                e.encode(
                    &Record::SyscallEnter {
                        tid: 1,
                        time: 0,
                        stime_us: None,
                        nr: g.syscall_nr(),
                        args: g.syscall_args(),
                        regs: Some(*g),
                        mem: Captures::default(),
                    },
                    s,
                );
                let mut x = *g;
                x[RAX] = 64;
                e.encode(
                    &Record::SyscallExit {
                        tid: 1,
                        time: 0,
                        stime_us: None,
                        nr: g.syscall_nr(),
                        ret: 64,
                        regs: Some(x),
                        mem: Captures::default(),
                    },
                    s,
                );
            }
        };
        round(&mut s);
        let first = s.detail.len();
        round(&mut s);
        // Per entry: rip delta (3 bytes: 251 + u16), the mask with only the
        // SITE bit (5 bytes: 252 + u32), no captures (1). Per exit: an empty
        // mask and no captures.
        assert_eq!(s.detail.len() - first, 2 * (3 + 5 + 1) + 2 * 2);
        assert_eq!(decode_all(&s).len(), 8);
        assert!(!decode_all(&s).iter().any(|r| r.starts_with("error")));
    }

    #[test]
    fn a_decoder_refuses_more_threads_than_a_chunk_may_hold() {
        let (mut s, mut e) = (Streams::default(), Encoder::new());
        for tid in 0..=MAX_CHUNK_THREADS as i32 {
            let r = Record::GroupStop {
                tid,
                time: 0,
                signo: 19,
            };
            e.encode(&r, &mut s);
        }
        let got = decode_all(&s);
        assert_eq!(got.len(), MAX_CHUNK_THREADS + 1);
        assert_eq!(got[MAX_CHUNK_THREADS], format!("error: {TOO_MANY_THREADS}"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// A hostile payload is an error or a shorter list of records, never
        /// a panic, whichever stream it hits.
        #[test]
        fn mutated_streams_never_panic(
            edits in proptest::collection::vec((0usize..3, any::<usize>(), any::<u8>(), 0u8..3), 1..6),
        ) {
            let (mut s, mut e) = (Streams::default(), Encoder::new());
            sample(&mut s, &mut e);
            for (which, at, byte, how) in edits {
                let v = match which {
                    0 => &mut s.events,
                    1 => &mut s.times,
                    _ => &mut s.detail,
                };
                if v.is_empty() {
                    continue;
                }
                let i = at % v.len();
                match how {
                    0 => v[i] = byte,
                    1 => v.insert(i, byte),
                    _ => v.truncate(i),
                }
            }
            let full = decode_all(&s);
            let mut d = Decoder::new(1, true);
            let mut c = Cursors::from_slices(&s.events, &s.times, &[]);
            let mut n = 0;
            while !c.is_empty() && d.skim(&mut c).is_ok() {
                n += 1;
            }
            // Every record takes at least one byte of the events stream.
            prop_assert!(full.len() <= s.events.len() + 1 && n <= s.events.len());
        }
    }
}
