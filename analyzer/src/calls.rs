//! The call layer: the trace as syscall calls (an entry joined with its
//! exit), signals and process events, in record order, whatever chunk they
//! fall in. Every view reads the trace through [`run`]; no view pairs
//! records itself.
//!
//! Chunks are decoded in parallel, a window of a few chunks per thread at a
//! time. Within a chunk, each thread's open entry waits in a small map until
//! its exit (or the thread's death, or its exec) comes. What is still open at
//! a chunk's end, and an exit at a chunk's start whose entry lies in an
//! earlier chunk, are joined by a sequential boundary fix-up: the consumer
//! gets, for each [`Item::Resumed`] of a chunk, the entry it completes
//! ([`OwnedEntry`]). Memory stays bounded by chunk size × threads plus one
//! open entry per thread.
//!
//! The items of one call, in record order: [`Item::Enter`] at its entry, then
//! either [`Item::Call`] (the exit, death or exec that ends it is in the same
//! chunk; the call is complete) or [`Item::Resumed`] (it ends in a later
//! chunk), or nothing more when the trace ends first ([`Merge::end`]).
//!
//! [`Mode::Skim`] reads only the stops' small fields (counts and times: no
//! arguments, no captures, no detail stream); [`Mode::Full`] reads everything.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget};
use ptrec_abi::{Arch, Sysno};
use ptrec_format::{
    CaptureBuf, Captures, ChunkData, ChunkInfo, Lean, LeanStop, Part, Record, Skimmed, Tid, Trace,
};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// How much of each record the layer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Syscall stops' tid, times, number and return value only.
    Skim,
    /// Arguments, instruction pointer and captured memory as well.
    Full,
}

/// A syscall-enter-stop.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub tid: Tid,
    pub time: u64,
    /// System CPU time of the thread group at the stop (microseconds).
    pub stime_us: Option<u64>,
    /// The trace's architecture: `nr`'s numbering ([`Entry::name`],
    /// [`Entry::sysno`]) and how the decoders read the call.
    pub arch: Arch,
    pub nr: u32,
    /// Zero in [`Mode::Skim`].
    pub args: [u64; 6],
    /// The instruction pointer, when the trace holds registers.
    pub ip: Option<u64>,
    /// Memory captured at entry (empty in [`Mode::Skim`]).
    pub mem: Captures<'a>,
}

impl Exit<'_> {
    /// The syscall's name in its architecture.
    pub fn name(&self) -> std::borrow::Cow<'static, str> {
        self.arch.syscall_name(self.nr)
    }
}

impl Entry<'_> {
    /// The syscall's name in its architecture (`openat`, `syscall_0x1ff`).
    pub fn name(&self) -> std::borrow::Cow<'static, str> {
        self.arch.syscall_name(self.nr)
    }

    /// The syscall's identity across architectures ([`Arch::sysno`]).
    #[inline]
    pub fn sysno(&self) -> Option<Sysno> {
        self.arch.sysno(self.nr)
    }
}

/// A syscall-exit-stop.
#[derive(Clone, Copy, Debug)]
pub struct Exit<'a> {
    /// The thread the exit was reported on: after an execve from a
    /// non-leader thread, the leader's tid (the entry's is the former one).
    pub tid: Tid,
    pub time: u64,
    pub stime_us: Option<u64>,
    /// The trace's architecture (see [`Entry::arch`]).
    pub arch: Arch,
    pub nr: u32,
    pub ret: i64,
    /// Memory captured at exit (output parameters).
    pub mem: Captures<'a>,
}

/// Why a call ended as it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Its exit was recorded.
    Returned,
    /// The thread died inside it (exit, exit_group, a fatal signal, an
    /// execve by another thread of its process): the call ends at the
    /// thread's PTRACE_EVENT_EXIT, or at its death when no exit event was
    /// recorded.
    Death,
    /// A new entry came on the same thread without an exit (records lost,
    /// or an exec by another thread took the tid over).
    Lost,
}

/// A syscall: its entry joined with what ended it.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    pub entry: Entry<'a>,
    /// `None` when it did not return (see `end`).
    pub exit: Option<Exit<'a>>,
    pub end: End,
}

/// What ends, in this chunk, a call whose entry lies in an earlier chunk:
/// its exit, or the thread's death. The boundary fix-up hands the consumer
/// the entry ([`Merge::finish`]), in the order of these items.
#[derive(Clone, Copy, Debug)]
pub struct Resumed<'a> {
    /// The thread the entry was made on (differs from `tid` after a
    /// non-leader execve).
    pub entry_tid: Tid,
    pub tid: Tid,
    pub time: u64,
    pub exit: Option<Exit<'a>>,
    pub end: End,
}

/// One item of the stream.
#[derive(Clone, Copy, Debug)]
pub enum Item<'r, 'a> {
    /// A syscall entry, at its position.
    Enter(&'r Entry<'a>),
    /// A call that ends here, whose entry is in the same chunk.
    Call(&'r Call<'a>),
    /// A call that ends here, whose entry is in an earlier chunk.
    Resumed(&'r Resumed<'a>),
    /// Every other record: signal-delivery, group-stop and process events
    /// (new child, exec with the former tid, exit event, death, attach,
    /// detach, notes).
    Event(&'r Record<'a>),
}

fn owned_captures(c: &Captures<'_>) -> CaptureBuf {
    let mut b = CaptureBuf::new();
    for m in c.iter() {
        b.push_mem(&m);
    }
    b
}

/// The owned form of an [`Entry`]: what crosses a chunk boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedEntry {
    pub tid: Tid,
    pub time: u64,
    pub stime_us: Option<u64>,
    pub arch: Arch,
    pub nr: u32,
    pub args: [u64; 6],
    pub ip: Option<u64>,
    /// format's owned form of captures.
    pub mem: CaptureBuf,
}

impl OwnedEntry {
    pub fn of(e: &Entry<'_>) -> OwnedEntry {
        OwnedEntry {
            tid: e.tid,
            time: e.time,
            stime_us: e.stime_us,
            arch: e.arch,
            nr: e.nr,
            args: e.args,
            ip: e.ip,
            mem: owned_captures(&e.mem),
        }
    }

    /// The borrowed form.
    pub fn entry(&self) -> Entry<'_> {
        Entry {
            tid: self.tid,
            time: self.time,
            stime_us: self.stime_us,
            arch: self.arch,
            nr: self.nr,
            args: self.args,
            ip: self.ip,
            mem: self.mem.captures(),
        }
    }
}

/// The owned form of an [`Exit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedExit {
    pub tid: Tid,
    pub time: u64,
    pub stime_us: Option<u64>,
    pub arch: Arch,
    pub nr: u32,
    pub ret: i64,
    pub mem: CaptureBuf,
}

impl OwnedExit {
    pub fn of(x: &Exit<'_>) -> OwnedExit {
        OwnedExit {
            tid: x.tid,
            time: x.time,
            stime_us: x.stime_us,
            arch: x.arch,
            nr: x.nr,
            ret: x.ret,
            mem: owned_captures(&x.mem),
        }
    }

    /// The borrowed form.
    pub fn exit(&self) -> Exit<'_> {
        Exit {
            tid: self.tid,
            time: self.time,
            stime_us: self.stime_us,
            arch: self.arch,
            nr: self.nr,
            ret: self.ret,
            mem: self.mem.captures(),
        }
    }
}

/// What the layer knows of a chunk when it hands its part over.
#[derive(Clone, Debug)]
pub struct ChunkMeta {
    pub info: ChunkInfo,
    /// (tid, first, last): the time of each thread's first and last record
    /// in the chunk (rec's thread-less notes left out).
    pub spans: Vec<(Tid, u64, u64)>,
    /// Records of kinds this reader does not know, skipped.
    pub unknown: u64,
    /// (compressed, decompressed) bytes of the events, times and detail streams.
    pub stream_sizes: [(u32, u32); 3],
}

/// A view over the call layer is two halves: a [`Walk`] (parallel) and a
/// [`Merge`] (sequential). A view implements both on one value ([`run`]),
/// or on two values ([`run_split`], [`Stream::chunks_split`]) so that the
/// merge can run at the same time, on the calling thread, over the chunks
/// walked before.
///
/// The parallel half: `part`, `item` and `seal` run on rayon's threads, one
/// part per chunk, while the chunk's data is alive (a part may borrow it).
pub trait Walk: Sync {
    type Part<'a>;
    type Sealed: Send;
    /// A fresh part for chunk `index`.
    fn part<'a>(&self, index: usize) -> Self::Part<'a>;
    /// The chunk's items, in record order.
    fn item<'a>(&self, part: &mut Self::Part<'a>, item: Item<'_, 'a>);
    /// The chunk's last item was given: the owned form of its part.
    fn seal(&self, part: Self::Part<'_>) -> Self::Sealed;
}

/// The sequential half of a view: `finish`, `skipped` and `end` run on one
/// thread, in chunk order, with the sealed (owned) form of each part.
pub trait Merge {
    type Sealed;
    /// A chunk's sealed part, in chunk order. `entries[i]` is the entry that
    /// the chunk's i-th [`Item::Resumed`] ends (`None`: never recorded, as
    /// for a thread attached inside a call).
    fn finish(
        &mut self,
        meta: &ChunkMeta,
        part: Self::Sealed,
        entries: &[Option<OwnedEntry>],
    ) -> anyhow::Result<()>;
    /// Chunk `index` could not be read; the calls open across it are lost.
    fn skipped(&mut self, index: usize, reason: &str) -> anyhow::Result<()>;
    /// After the last chunk: the calls still open, by entry time.
    fn end(&mut self, open: Vec<OwnedEntry>) -> anyhow::Result<()>;
}

/// A thread's state within one chunk.
#[derive(Default)]
struct ThreadState<'a> {
    open: Option<Entry<'a>>,
    /// This thread took `former`'s tid over by a non-leader execve, whose
    /// entry lies in an earlier chunk: the execve exit ends that entry.
    moved_from: Option<Tid>,
    /// The chunk decided the thread's syscall state (a syscall stop, its
    /// death or its exec), which supersedes what an earlier chunk left open.
    decided: bool,
    /// First and last time of the thread's records in the chunk.
    span: Option<(u64, u64)>,
}

/// What one chunk leaves for the boundary fix-up.
#[derive(Default)]
struct Edges {
    /// Per [`Item::Resumed`], in order: the tid whose boundary entry it ends,
    /// or `None` when it cannot end one.
    resumed: Vec<Option<Tid>>,
    /// Threads whose state the chunk decided.
    decided: Vec<Tid>,
    /// Entries open at the chunk's end.
    tails: Vec<OwnedEntry>,
    /// (tid, former): an execve exit still to come on `tid` ends `former`'s entry.
    moves: Vec<(Tid, Tid)>,
    /// (tid, first, last) time of each thread's records in the chunk.
    spans: Vec<(Tid, u64, u64)>,
    unknown: u64,
}

struct Walker<'a, 'c, C: Walk> {
    c: &'c C,
    part: C::Part<'a>,
    /// Per thread seen in the chunk, in order of first record.
    threads: Vec<(Tid, ThreadState<'a>)>,
    index: TidIndex,
    edges: Edges,
}

impl<'a, C: Walk> Walker<'a, '_, C> {
    /// The state of `tid`, made when the chunk has none yet.
    #[inline(always)]
    fn slot(&mut self, tid: Tid) -> &mut ThreadState<'a> {
        let (i, new) = self.index.get_or_insert(tid, self.threads.len() as u32);
        if new {
            self.threads.push((tid, ThreadState::default()));
        }
        &mut self.threads[i as usize].1
    }

    /// The state of `tid`, whose record at `time` is being read.
    #[inline]
    fn thread(&mut self, tid: Tid, time: u64) -> &mut ThreadState<'a> {
        let st = self.slot(tid);
        match &mut st.span {
            Some(s) => s.1 = time,
            None => st.span = Some((time, time)),
        }
        st
    }

    #[inline]
    fn enter(&mut self, e: Entry<'a>) {
        let st = self.thread(e.tid, e.time);
        st.decided = true;
        st.moved_from = None;
        if let Some(old) = st.open.replace(e) {
            let call = Call {
                entry: old,
                exit: None,
                end: End::Lost,
            };
            self.c.item(&mut self.part, Item::Call(&call));
        }
        self.c.item(&mut self.part, Item::Enter(&e));
    }

    #[inline]
    fn exit(&mut self, x: Exit<'a>) {
        let st = self.thread(x.tid, x.time);
        let from = if !st.decided {
            st.decided = true;
            Some(x.tid)
        } else {
            match st.open.take() {
                Some(entry) => {
                    let call = Call {
                        entry,
                        exit: Some(x),
                        end: End::Returned,
                    };
                    self.c.item(&mut self.part, Item::Call(&call));
                    return;
                }
                None => st.moved_from.take(),
            }
        };
        self.resumed(
            Resumed {
                entry_tid: from.unwrap_or(x.tid),
                tid: x.tid,
                time: x.time,
                exit: Some(x),
                end: End::Returned,
            },
            from,
        );
    }

    /// A syscall stop: an entry or an exit.
    #[inline]
    fn stop(&mut self, s: LeanStop<'a>, arch: Arch) {
        if s.enter {
            self.enter(Entry {
                tid: s.tid,
                time: s.time,
                stime_us: s.stime_us,
                arch,
                nr: s.nr as u32,
                args: s.args,
                ip: s.pc,
                mem: s.mem,
            })
        } else {
            self.exit(Exit {
                tid: s.tid,
                time: s.time,
                stime_us: s.stime_us,
                arch,
                nr: s.nr as u32,
                ret: s.ret,
                mem: s.mem,
            })
        }
    }

    fn resumed(&mut self, r: Resumed<'a>, from: Option<Tid>) {
        self.edges.resumed.push(from);
        self.c.item(&mut self.part, Item::Resumed(&r));
    }

    fn record(&mut self, r: &Record<'a>) {
        let (tid, time) = (r.tid(), r.time());
        match *r {
            // PTRACE_EVENT_EXIT: the thread is exiting, and the call it is
            // in (exit_group, or one a fatal signal or another thread's
            // exec cut short) will not return; strace ends its line there.
            // The death that follows finds the call ended.
            Record::Death { .. } | Record::ExitEvent { .. } => {
                let st = self.thread(tid, time);
                let from = if st.decided {
                    st.moved_from.take()
                } else {
                    Some(tid)
                };
                st.decided = true;
                match st.open.take() {
                    Some(entry) => {
                        let call = Call {
                            entry,
                            exit: None,
                            end: End::Death,
                        };
                        self.c.item(&mut self.part, Item::Call(&call));
                    }
                    None if from.is_some() => {
                        let r = Resumed {
                            entry_tid: from.unwrap_or(tid),
                            tid,
                            time,
                            exit: None,
                            end: End::Death,
                        };
                        self.resumed(r, from);
                    }
                    None => {}
                }
            }
            Record::Exec { former_tid, .. } if former_tid != tid => {
                // execve's exit is reported on the new tid (the leader):
                // the open entry moves over so the call still joins.
                let f = self.slot(former_tid);
                let (open, moved) = if f.decided {
                    (f.open.take(), f.moved_from.take())
                } else {
                    (None, Some(former_tid))
                };
                f.decided = true;
                f.open = None;
                f.moved_from = None;
                let st = self.thread(tid, time);
                st.decided = true;
                if let Some(old) = st.open.take() {
                    // The leader was inside a call the exec cut short.
                    let call = Call {
                        entry: old,
                        exit: None,
                        end: End::Lost,
                    };
                    self.c.item(&mut self.part, Item::Call(&call));
                }
                let st = self.thread(tid, time);
                st.open = open;
                st.moved_from = if open.is_none() { moved } else { None };
            }
            // rec's own notes concern no thread.
            Record::Note { .. } if tid == 0 => {}
            _ => {
                self.thread(tid, time);
            }
        }
        self.c.item(&mut self.part, Item::Event(r));
    }

    fn finish(mut self) -> (C::Sealed, Edges) {
        for (tid, st) in self.threads {
            if let Some((first, last)) = st.span {
                self.edges.spans.push((tid, first, last));
            }
            if !st.decided {
                continue;
            }
            self.edges.decided.push(tid);
            if let Some(e) = st.open {
                self.edges.tails.push(OwnedEntry::of(&e));
            } else if let Some(former) = st.moved_from {
                if former != tid {
                    self.edges.moves.push((tid, former));
                }
            }
        }
        (self.c.seal(self.part), self.edges)
    }
}

/// Walks one decompressed chunk, feeding `c`.
fn walk_chunk<C: Walk>(
    c: &C,
    data: &ChunkData,
    mode: Mode,
    arch: Arch,
) -> Result<(C::Sealed, Edges), String> {
    let mut w = Walker {
        c,
        part: c.part(data.info.index),
        threads: Vec::new(),
        index: TidIndex::default(),
        edges: Edges::default(),
    };
    let unknown = match mode {
        Mode::Skim => {
            let mut it = data.stops();
            for r in it.by_ref() {
                match r.map_err(|e| e.to_string())? {
                    Skimmed::Syscall(s) => w.stop(
                        LeanStop {
                            enter: s.enter,
                            tid: s.tid,
                            time: s.time,
                            stime_us: s.stime_us,
                            nr: s.nr,
                            args: [0; 6],
                            ret: s.ret,
                            pc: None,
                            mem: Captures::default(),
                        },
                        arch,
                    ),
                    Skimmed::Record(r) => w.record(&r),
                    Skimmed::Unknown(_) => {}
                }
            }
            it.unknown()
        }
        Mode::Full => {
            let mut it = data.lean();
            for r in it.by_ref() {
                match r.map_err(|e| e.to_string())? {
                    Lean::Syscall(s) => w.stop(s, arch),
                    Lean::Record(r) => w.record(&r),
                    Lean::Unknown(_) => {}
                }
            }
            it.unknown()
        }
    };
    let (part, mut edges) = w.finish();
    edges.unknown = unknown;
    Ok((part, edges))
}

/// One chunk after its walk: where it is, its stream sizes, and its sealed
/// part and edges (or why it could not be read).
type Walked<S> = (ChunkInfo, [(u32, u32); 3], Result<(S, Edges), String>);

/// Reads every chunk of `trace` through the layer into `c`. A chunk that
/// cannot be read or decoded is handed to [`Merge::skipped`] and the rest
/// goes on.
pub fn run<C>(trace: &Trace, mode: Mode, c: &mut C) -> anyhow::Result<()>
where
    C: Walk + Merge<Sealed = <C as Walk>::Sealed>,
{
    let mut s = Stream::new(trace, mode)?;
    s.chunks(0..trace.chunks().len(), c)?;
    s.end(c)
}

/// [`run`] for a view split in two (see [`Stream::chunks_split`]).
pub fn run_split<W, M>(trace: &Trace, mode: Mode, walk: &W, merge: &mut M) -> anyhow::Result<()>
where
    W: Walk,
    M: Merge<Sealed = W::Sealed>,
{
    let mut s = Stream::new(trace, mode)?;
    s.chunks_split(0..trace.chunks().len(), walk, merge)?;
    s.end(merge)
}

/// Chunks decoded at a time: a few per thread.
pub fn window() -> usize {
    (4 * rayon::current_num_threads()).max(2)
}

/// Dense indices (0, 1, ...) for the tids of one chunk, in order of first
/// sight. The threads seen lately are found without hashing: a call's exit
/// mostly follows its entry, and the few threads a busy chunk interleaves
/// have tids that differ in their low bits.
pub struct TidIndex {
    /// (tid, its index) by the tid's low bits; `u32::MAX`: empty.
    recent: [(Tid, u32); TidIndex::RECENT],
    map: FxHashMap<Tid, u32>,
}

impl Default for TidIndex {
    fn default() -> Self {
        TidIndex {
            recent: [(0, u32::MAX); TidIndex::RECENT],
            map: FxHashMap::default(),
        }
    }
}

impl TidIndex {
    const RECENT: usize = 64;

    #[inline]
    fn way(tid: Tid) -> usize {
        tid as u32 as usize % Self::RECENT
    }

    /// The index of `tid`, and whether it is new: a tid seen for the first
    /// time gets `next` (the count of tids so far, or of the slots the
    /// caller keeps).
    // Always (as `Walker::slot` and the scan's `item`): in one codegen
    // unit LLVM left it out of line, summary +10%.
    #[inline(always)]
    pub fn get_or_insert(&mut self, tid: Tid, next: u32) -> (u32, bool) {
        let way = &mut self.recent[Self::way(tid)];
        if way.0 == tid && way.1 != u32::MAX {
            return (way.1, false);
        }
        let i = *self.map.entry(tid).or_insert(next);
        *way = (tid, i);
        (i, i == next)
    }

    /// `tid` has index `i` from now on.
    pub fn set(&mut self, tid: Tid, i: u32) {
        self.map.insert(tid, i);
        self.recent[Self::way(tid)] = (tid, i);
    }
}

/// Buffers emptied (by the merge, or by a chunk's walk when it is done
/// with its scratch), handed back to the walk of later chunks: a chunk's
/// part then fills memory that is paged in and large enough, where one
/// grown from empty at every chunk costs a copy at each doubling and a
/// page fault at each new page. At most as many are kept as parts are
/// alive at once (two windows).
pub struct Spare<T>(std::sync::Mutex<Vec<T>>);

impl<T> Default for Spare<T> {
    fn default() -> Self {
        Spare(std::sync::Mutex::new(Vec::new()))
    }
}

impl<T: Default> Spare<T> {
    /// A kept buffer, or a new one.
    pub fn take(&self) -> T {
        self.0
            .lock()
            .map(|mut v| v.pop().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Keeps `emptied` for a later part.
    pub fn put(&self, emptied: T) {
        if let Ok(mut v) = self.0.lock() {
            if v.len() < 2 * window() {
                v.push(emptied);
            }
        }
    }
}

/// The layer over a trace, a range of chunks at a time (in order): what is
/// open at the end of one range is joined in the next.
pub struct Stream<'t> {
    trace: &'t Trace,
    mode: Mode,
    arch: Arch,
    boundary: FxHashMap<Tid, OwnedEntry>,
    progress: Progress,
}

impl<'t> Stream<'t> {
    /// The layer over `trace`; an error when the analyzer does not know
    /// the trace's architecture.
    pub fn new(trace: &'t Trace, mode: Mode) -> anyhow::Result<Stream<'t>> {
        Ok(Stream {
            trace,
            mode,
            arch: crate::stats::arch(trace)?,
            boundary: FxHashMap::default(),
            progress: Progress::new(trace.chunks().len() as u64),
        })
    }

    /// Feeds chunks `range` (after every earlier one) to `c`, a window of a
    /// few chunks per thread decoded at a time.
    pub fn chunks<C>(&mut self, range: std::ops::Range<usize>, c: &mut C) -> anyhow::Result<()>
    where
        C: Walk + Merge<Sealed = <C as Walk>::Sealed>,
    {
        let mut first = range.start;
        let n = range.end.min(self.trace.chunks().len());
        while first < n {
            let last = (first + window()).min(n);
            let parts = self.walk(first..last, &*c);
            for w in parts {
                merge_walked(&mut self.boundary, w, &mut *c)?;
            }
            first = last;
        }
        Ok(())
    }

    /// [`Stream::chunks`] for a view split in two: with more than one
    /// thread, `merge` runs on this thread over each chunk in order while
    /// rayon's threads walk the chunks after it, so that the sequential
    /// part costs no wall time while it is cheaper than the walk. Each
    /// chunk is a job of its own, at most two windows of them ahead of the
    /// merge: no thread waits for the slowest chunk of a window, as one
    /// does under a parallel map over the window.
    pub fn chunks_split<W, M>(
        &mut self,
        range: std::ops::Range<usize>,
        walk: &W,
        merge: &mut M,
    ) -> anyhow::Result<()>
    where
        W: Walk,
        M: Merge<Sealed = W::Sealed>,
    {
        let n = range.end.min(self.trace.chunks().len());
        let window = window();
        if rayon::current_num_threads() == 1 {
            let windows = (range.start..n)
                .step_by(window)
                .map(|f| f..(f + window).min(n));
            for r in windows {
                for w in self.walk(r, walk) {
                    merge_walked(&mut self.boundary, w, merge)?;
                }
            }
            return Ok(());
        }
        let ahead = 2 * window;
        let slots: Vec<Slot<std::thread::Result<Walked<W::Sealed>>>> =
            (0..ahead).map(|_| Slot::default()).collect();
        let scratch: Spare<(Vec<u8>, ChunkData)> = Spare::default();
        let (trace, mode, arch) = (self.trace, self.mode, self.arch);
        let progress = &self.progress;
        let boundary = &mut self.boundary;
        rayon::in_place_scope_fifo(|s| {
            let mut spawned = range.start;
            for i in range.start..n {
                // Chunk j's slot is that of j - ahead, merged by now.
                while spawned < n && spawned < i + ahead {
                    let j = spawned;
                    let (slot, scratch) = (&slots[j % ahead], &scratch);
                    s.spawn_fifo(move |_| {
                        // A panic is the merge's to raise: caught here, a
                        // slot never filled would leave it waiting.
                        let w = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            let mut sc = scratch.take();
                            let w = walk_one(trace, mode, arch, j, walk, &mut sc, progress);
                            scratch.put(sc);
                            w
                        }));
                        slot.put(w);
                    });
                    spawned += 1;
                }
                let w = slots[i % ahead]
                    .take()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                // On an error the scope still waits for the chunks spawned.
                merge_walked(boundary, w, merge)?;
            }
            Ok(())
        })
    }

    fn walk<W: Walk>(&self, range: std::ops::Range<usize>, c: &W) -> Vec<Walked<W::Sealed>> {
        walk_window(self.trace, self.mode, self.arch, range, c, &self.progress)
    }

    /// After the last range: the calls still open go to [`Merge::end`].
    pub fn end<M: Merge>(self, m: &mut M) -> anyhow::Result<()> {
        m.end(self.open())
    }

    fn open(self) -> Vec<OwnedEntry> {
        self.progress.finish();
        let mut open: Vec<OwnedEntry> = self.boundary.into_values().collect();
        open.sort_by_key(|e| (e.time, e.tid));
        open
    }
}

/// Reads and walks chunks `range` in parallel.
fn walk_window<W: Walk>(
    trace: &Trace,
    mode: Mode,
    arch: Arch,
    range: std::ops::Range<usize>,
    c: &W,
    progress: &Progress,
) -> Vec<Walked<W::Sealed>> {
    range
        .into_par_iter()
        .map_init(
            || (Vec::new(), ChunkData::default()),
            |scratch, i| walk_one(trace, mode, arch, i, c, scratch, progress),
        )
        .collect()
}

/// Reads and walks chunk `i`, in `scratch` (the compressed chunk, its
/// decoded data).
fn walk_one<W: Walk>(
    trace: &Trace,
    mode: Mode,
    arch: Arch,
    i: usize,
    c: &W,
    (scratch, data): &mut (Vec<u8>, ChunkData),
    progress: &Progress,
) -> Walked<W::Sealed> {
    let part = match mode {
        Mode::Skim => Part::Stops,
        Mode::Full => Part::All,
    };
    let r = match trace.read_chunk_part_into(i, part, scratch, data) {
        Ok(()) => walk_chunk(c, data, mode, arch),
        Err(e) => Err(e.to_string()),
    };
    progress.inc();
    (trace.chunks()[i], data.stream_sizes, r)
}

/// One chunk's result, handed from the thread that walked it to the merge.
struct Slot<T> {
    value: std::sync::Mutex<Option<T>>,
    filled: std::sync::Condvar,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            value: std::sync::Mutex::new(None),
            filled: std::sync::Condvar::new(),
        }
    }
}

impl<T> Slot<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<T>> {
        // Nothing panics while holding the lock.
        self.value.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn put(&self, v: T) {
        *self.lock() = Some(v);
        self.filled.notify_one();
    }

    /// The value, once it is put. A thread of rayon's pool (`export` of
    /// several traces merges on one) runs the pool's waiting jobs
    /// meanwhile: the chunk it waits for may be one of them.
    fn take(&self) -> T {
        let on_pool = rayon::current_thread_index().is_some();
        let mut g = self.lock();
        loop {
            if let Some(v) = g.take() {
                return v;
            }
            if !on_pool {
                g = self.filled.wait(g).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            drop(g);
            let ran = rayon::yield_now() == Some(rayon::Yield::Executed);
            g = self.lock();
            if !ran && g.is_none() {
                // Woken when it is put; the timeout looks for new jobs.
                let wait = self
                    .filled
                    .wait_timeout(g, std::time::Duration::from_millis(1));
                g = wait.unwrap_or_else(|e| e.into_inner()).0;
            }
        }
    }
}

/// One walked chunk, in order: its boundary fix-up, then `finish` (or
/// `skipped` when it could not be read).
fn merge_walked<M: Merge>(
    boundary: &mut FxHashMap<Tid, OwnedEntry>,
    (info, stream_sizes, r): Walked<M::Sealed>,
    m: &mut M,
) -> anyhow::Result<()> {
    match r {
        Ok((part, mut edges)) => {
            let entries = fix_up(boundary, &edges);
            let meta = ChunkMeta {
                info,
                spans: std::mem::take(&mut edges.spans),
                unknown: edges.unknown,
                stream_sizes,
            };
            m.finish(&meta, part, &entries)
        }
        Err(reason) => {
            // What was open across the chunk cannot be joined.
            boundary.clear();
            m.skipped(info.index, &reason)
        }
    }
}

/// The boundary fix-up after one chunk: the entries its resumed items end,
/// then the chunk's open entries for the next chunks.
fn fix_up(boundary: &mut FxHashMap<Tid, OwnedEntry>, edges: &Edges) -> Vec<Option<OwnedEntry>> {
    let entries = edges
        .resumed
        .iter()
        .map(|from| from.and_then(|t| boundary.remove(&t)))
        .collect();
    let moved: Vec<(Tid, OwnedEntry)> = edges
        .moves
        .iter()
        .filter_map(|(tid, former)| boundary.remove(former).map(|e| (*tid, e)))
        .collect();
    // An entry still open from before a thread's state was decided anew
    // never got its exit (records lost).
    for t in &edges.decided {
        boundary.remove(t);
    }
    for e in &edges.tails {
        boundary.insert(e.tid, e.clone());
    }
    boundary.extend(moved);
    entries
}

/// A progress bar on stderr that appears only when stderr is a terminal and
/// the work has taken more than about a second.
pub struct Progress {
    bar: ProgressBar,
    start: Instant,
    shown: AtomicBool,
    enabled: bool,
}

impl Progress {
    pub fn new(len: u64) -> Progress {
        use std::io::IsTerminal;
        Progress {
            bar: ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden()),
            start: Instant::now(),
            shown: AtomicBool::new(false),
            enabled: std::io::stderr().is_terminal(),
        }
    }

    pub fn inc(&self) {
        self.bar.inc(1);
        if self.enabled
            && self.start.elapsed().as_millis() > 1000
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    pub fn finish(&self) {
        if self.shown.load(Ordering::Relaxed) {
            self.bar.finish_and_clear();
        }
    }
}
