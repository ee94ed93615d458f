//! Per-chunk partial results and their associative merge.
//!
//! Every chunk is decoded on its own (rayon) into a [`Partial`]; partials are
//! merged in file order. What crosses a chunk boundary is kept explicitly:
//! per thread, the syscall entry still open at the end of a partial
//! (`threads[tid].open`) and the exit seen before any other syscall record of
//! that thread at its start (`head_exits`). Merging pairs them up. Memory is
//! bounded by chunk size x threads: records are never collected.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget};
use ptrec_format::{
    ChildKind, ChunkData, Kind, Part, Record, Skimmed, SyscallStop, Termination, Tid, Trace,
    AUDIT_ARCH_X86_64,
};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// What a scan keeps besides the counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScanOptions {
    /// `-w`: time is wall time even when records carry CPU times.
    pub wall: bool,
    /// Keep latency histograms (`--percentiles`).
    pub histograms: bool,
}

/// Log-linear latency histogram over nanoseconds: exact below 16 ns, then 8
/// sub-buckets per power of two (12.5% relative error). Merges by addition.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Box<[u64; HIST_BUCKETS]>,
    max: u64,
}

const HIST_SUB: u32 = 3;
const HIST_EXP_MAX: u32 = 44;
pub const HIST_BUCKETS: usize = 16 + ((HIST_EXP_MAX - 3) as usize) * (1 << HIST_SUB);

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Box::new([0; HIST_BUCKETS]),
            max: 0,
        }
    }
}

impl Histogram {
    fn bucket(v: u64) -> usize {
        if v < 16 {
            return v as usize;
        }
        let e = (63 - v.leading_zeros()).min(HIST_EXP_MAX - 1);
        let sub = ((v >> (e - HIST_SUB)) & ((1 << HIST_SUB) - 1)) as usize;
        16 + (e as usize - 4) * (1 << HIST_SUB) + sub
    }

    /// The smallest value that falls in bucket `b`.
    fn lower(b: usize) -> u64 {
        if b < 16 {
            return b as u64;
        }
        let e = (b - 16) / (1 << HIST_SUB) + 4;
        let sub = ((b - 16) % (1 << HIST_SUB)) as u64;
        (1u64 << e) | (sub << (e as u32 - HIST_SUB))
    }

    pub fn add(&mut self, v: u64) {
        self.counts[Self::bucket(v)] += 1;
        self.max = self.max.max(v);
    }

    pub fn merge(&mut self, o: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(o.counts.iter()) {
            *a += b;
        }
        self.max = self.max.max(o.max);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0..=1): the lower bound of its bucket,
    /// capped by the exact maximum.
    pub fn quantile(&self, q: f64) -> u64 {
        let n = self.count();
        if n == 0 {
            return 0;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        if rank == n {
            return self.max;
        }
        let mut seen = 0;
        for (b, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::lower(b).min(self.max);
            }
        }
        self.max
    }
}

/// Counts of one syscall in one thread.
#[derive(Clone, Debug, Default)]
pub struct Stat {
    /// Entries (an entry whose exit was never seen still counts).
    pub calls: u64,
    /// Exits with a return value in -4095..=-1.
    pub errors: u64,
    /// Time of the paired calls, nanoseconds (CPU or wall, see [`ScanOptions`]).
    pub time_ns: u64,
    /// Wall latency of the paired calls.
    pub hist: Option<Histogram>,
}

impl Stat {
    pub fn merge(&mut self, o: &Stat) {
        self.calls += o.calls;
        self.errors += o.errors;
        self.time_ns += o.time_ns;
        match (&mut self.hist, &o.hist) {
            (Some(a), Some(b)) => a.merge(b),
            (None, Some(b)) => self.hist = Some(b.clone()),
            _ => {}
        }
    }
}

/// A syscall entry not yet paired with its exit.
#[derive(Clone, Copy, Debug)]
pub struct Open {
    pub nr: u32,
    pub time: u64,
    pub stime_us: Option<u64>,
}

/// An exit whose entry lies in an earlier partial.
#[derive(Clone, Copy, Debug)]
pub struct HeadExit {
    pub time: u64,
    pub stime_us: Option<u64>,
}

/// A thread's syscall state at the end of a partial. Its presence means the
/// partial saw a record that decides the thread's state (a syscall record,
/// an exec or its death), which supersedes any earlier partial's state.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadState {
    pub open: Option<Open>,
    /// This thread took over `former`'s tid by a non-leader execve in this
    /// partial, before `former`'s execve entry was seen: the execve exit
    /// pairs with an entry of an earlier partial.
    pub moved_from: Option<Tid>,
}

/// A process-structure event, owned (these are rare: kept for the tree).
#[derive(Clone, Debug)]
pub enum Event {
    NewChild {
        tid: Tid,
        time: u64,
        child: Tid,
        kind: ChildKind,
        flags: u64,
    },
    Exec {
        tid: Tid,
        time: u64,
        former_tid: Tid,
        filename: Vec<u8>,
        argv: Vec<Vec<u8>>,
    },
    Death {
        tid: Tid,
        time: u64,
        how: Termination,
    },
    Attach {
        tid: Tid,
        time: u64,
        tgid: Tid,
        comm: Vec<u8>,
    },
    Detach {
        tid: Tid,
    },
    Note {
        kind: u32,
        value: u64,
        text: Vec<u8>,
    },
}

/// First and last time a thread was seen.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub first: u64,
    pub last: u64,
}

/// The result of a scan over a range of chunks; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct Partial {
    pub stats: FxHashMap<(Tid, u32), Stat>,
    pub threads: FxHashMap<Tid, ThreadState>,
    pub head_exits: FxHashMap<Tid, HeadExit>,
    /// Exits of execve on the new tid whose entry (on `former`) lies in an
    /// earlier partial: (former, tid, exit).
    pub head_moved_exits: Vec<(Tid, Tid, HeadExit)>,
    pub events: Vec<Event>,
    pub spans: FxHashMap<Tid, Span>,
    /// Records per kind byte.
    pub by_kind: [u64; 16],
    pub unknown: u64,
    pub records: u64,
    pub first_time: Option<u64>,
    pub last_time: u64,
    pub chunks: u64,
    pub uncompressed: u64,
    pub compressed: u64,
    /// (compressed, decompressed) bytes of the events, times and detail
    /// streams over the chunks.
    pub streams: [(u64, u64); 3],
    /// The first error, by chunk index.
    pub error: Option<(usize, String)>,
}

/// Whether a return value is an error return (-4095..=-1).
pub fn is_error(ret: i64) -> bool {
    (-4095..=-1).contains(&ret)
}

/// Duration of a pair: CPU time when both stops carry it (and `-w` was not
/// given), else wall time.
fn pair_time(opts: &ScanOptions, enter: &Open, exit_time: u64, exit_stime: Option<u64>) -> u64 {
    match (opts.wall, enter.stime_us, exit_stime) {
        (false, Some(a), Some(b)) => b.saturating_sub(a).saturating_mul(1000),
        _ => exit_time.saturating_sub(enter.time),
    }
}

impl Partial {
    fn account_pair(
        &mut self,
        opts: &ScanOptions,
        tid: Tid,
        enter: &Open,
        time: u64,
        stime: Option<u64>,
    ) {
        let t = pair_time(opts, enter, time, stime);
        let s = self.stats.entry((tid, enter.nr)).or_default();
        s.time_ns += t;
        if opts.histograms {
            s.hist
                .get_or_insert_with(Histogram::default)
                .add(time.saturating_sub(enter.time));
        }
    }

    /// Scans one decompressed chunk.
    pub fn from_chunk(data: &ChunkData, opts: &ScanOptions) -> Partial {
        let mut p = Partial {
            chunks: 1,
            uncompressed: u64::from(data.info.header.uncompressed_len),
            compressed: u64::from(data.info.header.compressed_len),
            streams: data.stream_sizes.map(|(c, u)| (u64::from(c), u64::from(u))),
            ..Partial::default()
        };
        let mut it = data.stops();
        for r in it.by_ref() {
            match r {
                Ok(Skimmed::Syscall(s)) => p.syscall(&s, opts),
                Ok(Skimmed::Record(r)) => p.record(&r, opts),
                Ok(Skimmed::Unknown(_)) => {}
                Err(e) => {
                    p.error = Some((data.info.index, e.to_string()));
                    break;
                }
            }
        }
        p.unknown = it.unknown();
        p
    }

    /// Accounts one syscall stop (the analyzer's inner loop).
    #[inline]
    pub fn syscall(&mut self, s: &SyscallStop, opts: &ScanOptions) {
        let kind = if s.enter {
            Kind::SyscallEnter
        } else {
            Kind::SyscallExit
        };
        self.seen(s.tid, s.time, kind);
        if s.enter {
            self.enter(s.tid, s.nr, s.time, s.stime_us);
        } else {
            self.exit(opts, s.tid, s.nr, s.time, s.stime_us, s.ret);
        }
    }

    /// Counts a record and extends its thread's time span.
    #[inline]
    fn seen(&mut self, tid: Tid, time: u64, kind: Kind) {
        self.records += 1;
        self.by_kind[kind as usize] += 1;
        if self.first_time.is_none() {
            self.first_time = Some(time);
        }
        self.last_time = time;
        match self.spans.get_mut(&tid) {
            Some(s) => s.last = time,
            None => {
                if tid != 0 || kind != Kind::Note {
                    self.spans.insert(
                        tid,
                        Span {
                            first: time,
                            last: time,
                        },
                    );
                }
            }
        }
    }

    #[inline]
    fn enter(&mut self, tid: Tid, nr: u64, time: u64, stime_us: Option<u64>) {
        let nr = nr as u32;
        self.stats.entry((tid, nr)).or_default().calls += 1;
        let st = self.threads.entry(tid).or_default();
        st.open = Some(Open { nr, time, stime_us });
    }

    #[inline]
    fn exit(
        &mut self,
        opts: &ScanOptions,
        tid: Tid,
        nr: u64,
        time: u64,
        stime_us: Option<u64>,
        ret: i64,
    ) {
        let nr = nr as u32;
        if is_error(ret) {
            self.stats.entry((tid, nr)).or_default().errors += 1;
        }
        match self.threads.get_mut(&tid) {
            Some(st) => {
                if let Some(open) = st.open.take() {
                    self.account_pair(opts, tid, &open, time, stime_us);
                } else if let Some(former) = st.moved_from.take() {
                    self.head_moved_exits
                        .push((former, tid, HeadExit { time, stime_us }));
                }
            }
            None => {
                self.threads.insert(tid, ThreadState::default());
                self.head_exits.insert(tid, HeadExit { time, stime_us });
            }
        }
    }

    /// Accounts one record (records of a partial arrive in file order).
    pub fn record(&mut self, r: &Record<'_>, opts: &ScanOptions) {
        let time = r.time();
        let tid = r.tid();
        self.seen(tid, time, r.kind());
        match r {
            Record::SyscallEnter { nr, stime_us, .. } => self.enter(tid, *nr, time, *stime_us),
            Record::SyscallExit {
                nr, ret, stime_us, ..
            } => self.exit(opts, tid, *nr, time, *stime_us, *ret),
            Record::NewChild {
                child, kind, flags, ..
            } => self.events.push(Event::NewChild {
                tid,
                time,
                child: *child,
                kind: *kind,
                flags: *flags,
            }),
            Record::Exec {
                former_tid,
                filename,
                argv,
                ..
            } => {
                // execve's exit is reported on the new tid (the leader):
                // carry the open entry over so the pair still matches.
                if *former_tid != tid {
                    let st = match self.threads.get_mut(former_tid) {
                        Some(s) => ThreadState {
                            open: s.open.take(),
                            moved_from: s.moved_from.take(),
                        },
                        None => ThreadState {
                            open: None,
                            moved_from: Some(*former_tid),
                        },
                    };
                    self.threads.insert(*former_tid, ThreadState::default());
                    self.threads.insert(tid, st);
                }
                self.events.push(Event::Exec {
                    tid,
                    time,
                    former_tid: *former_tid,
                    filename: filename.to_vec(),
                    argv: argv.iter().map(|a| a.to_vec()).collect(),
                });
            }
            Record::Death { how, .. } => {
                self.threads.insert(tid, ThreadState::default());
                self.events.push(Event::Death {
                    tid,
                    time,
                    how: *how,
                });
            }
            Record::Attach { tgid, comm, .. } => self.events.push(Event::Attach {
                tid,
                time,
                tgid: *tgid,
                comm: comm.to_vec(),
            }),
            Record::Detach { .. } => self.events.push(Event::Detach { tid }),
            Record::Note {
                kind, value, text, ..
            } => self.events.push(Event::Note {
                kind: *kind,
                value: *value,
                text: text.to_vec(),
            }),
            Record::SignalDelivery { .. }
            | Record::GroupStop { .. }
            | Record::VforkDone { .. }
            | Record::ExitEvent { .. }
            | Record::OpenFd { .. } => {}
        }
    }

    /// Appends `b`, which covers the chunks right after `self`'s.
    pub fn merge(mut self, mut b: Partial, opts: &ScanOptions) -> Partial {
        if self.chunks == 0 {
            return b;
        }
        if b.chunks == 0 {
            return self;
        }
        for (tid, ex) in b.head_exits.drain() {
            match self.threads.get_mut(&tid) {
                Some(st) if st.open.is_none() && st.moved_from.is_some() => {
                    if let Some(former) = st.moved_from.take() {
                        self.head_moved_exits.push((former, tid, ex));
                    }
                }
                Some(st) => {
                    if let Some(open) = st.open.take() {
                        let t = pair_time(opts, &open, ex.time, ex.stime_us);
                        let s = self.stats.entry((tid, open.nr)).or_default();
                        s.time_ns += t;
                        if opts.histograms {
                            s.hist
                                .get_or_insert_with(Histogram::default)
                                .add(ex.time.saturating_sub(open.time));
                        }
                    }
                    // An exit after a closed state: its entry was never recorded.
                }
                None => {
                    self.head_exits.insert(tid, ex);
                }
            }
        }
        for (former, tid, ex) in std::mem::take(&mut b.head_moved_exits) {
            match self.threads.get_mut(&former) {
                Some(st) => {
                    if let Some(open) = st.open.take() {
                        self.account_pair(opts, former, &open, ex.time, ex.stime_us);
                    }
                }
                None => self.head_moved_exits.push((former, tid, ex)),
            }
        }
        for st in b.threads.values_mut() {
            // The execve exit is still to come: hand the entry over now.
            if let Some(former) = st.moved_from {
                if let Some(open) = self.threads.get_mut(&former).and_then(|s| s.open.take()) {
                    st.open = Some(open);
                    st.moved_from = None;
                }
            }
        }
        for (k, s) in b.stats.drain() {
            match self.stats.get_mut(&k) {
                Some(a) => a.merge(&s),
                None => {
                    self.stats.insert(k, s);
                }
            }
        }
        for (tid, st) in b.threads.drain() {
            self.threads.insert(tid, st);
        }
        self.events.append(&mut b.events);
        for (tid, sp) in b.spans.drain() {
            self.spans
                .entry(tid)
                .and_modify(|a| a.last = sp.last)
                .or_insert(sp);
        }
        for (a, x) in self.by_kind.iter_mut().zip(b.by_kind.iter()) {
            *a += x;
        }
        self.unknown += b.unknown;
        self.records += b.records;
        if self.first_time.is_none() {
            self.first_time = b.first_time;
        }
        if b.first_time.is_some() {
            self.last_time = b.last_time;
        }
        self.chunks += b.chunks;
        self.uncompressed += b.uncompressed;
        self.compressed += b.compressed;
        for (a, b) in self.streams.iter_mut().zip(b.streams) {
            a.0 += b.0;
            a.1 += b.1;
        }
        if self.error.is_none() {
            self.error = b.error;
        }
        self
    }

    /// Calls, errors and time per syscall number over all threads.
    pub fn by_syscall(&self) -> FxHashMap<u32, Stat> {
        let mut m: FxHashMap<u32, Stat> = FxHashMap::default();
        for ((_, nr), s) in &self.stats {
            m.entry(*nr).or_default().merge(s);
        }
        m
    }
}

/// Checks that the analyzer knows the trace's architecture.
pub fn check_arch(trace: &Trace) -> anyhow::Result<()> {
    let arch = trace.header().arch;
    if arch != AUDIT_ARCH_X86_64 {
        anyhow::bail!(
            "{}: unsupported architecture {arch:#x} (this analyzer knows x86_64, AUDIT_ARCH {AUDIT_ARCH_X86_64:#x})",
            trace.path().display()
        );
    }
    Ok(())
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

/// Scans every readable chunk in parallel and merges the partials in order.
/// Warns on stderr when the file is truncated; fails on a corrupted chunk.
pub fn scan(trace: &Trace, opts: &ScanOptions) -> anyhow::Result<Partial> {
    check_arch(trace)?;
    warn_truncation(trace);
    let progress = Progress::new(trace.chunks().len() as u64);
    let p = (0..trace.chunks().len())
        .into_par_iter()
        .map_init(
            || (Vec::new(), ChunkData::default()),
            |(scratch, data), i| {
                let p = match trace.read_chunk_part_into(i, Part::Stops, scratch, data) {
                    Ok(()) => Partial::from_chunk(data, opts),
                    Err(e) => Partial {
                        chunks: 1,
                        error: Some((i, e.to_string())),
                        ..Partial::default()
                    },
                };
                progress.inc();
                p
            },
        )
        .reduce(Partial::default, |a, b| a.merge(b, opts));
    progress.finish();
    if let Some((_, e)) = &p.error {
        anyhow::bail!("{}: {e}", trace.path().display());
    }
    Ok(p)
}

/// The truncation warning, once per run.
pub fn warn_truncation(trace: &Trace) {
    if let Some(t) = trace.truncation() {
        eprintln!(
            "warning: {}: {t}; analyzing the {} complete chunks before the cut",
            trace.path().display(),
            trace.chunks().len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_monotonic_and_bound_their_values() {
        let mut last = 0;
        for v in [
            0u64,
            1,
            15,
            16,
            17,
            31,
            32,
            1000,
            123_456,
            1 << 40,
            u64::MAX,
        ] {
            let b = Histogram::bucket(v);
            assert!(b >= last, "{v}");
            assert!(b < HIST_BUCKETS);
            last = b;
            if v < 1 << 43 {
                assert!(Histogram::lower(b) <= v);
                assert!(v - Histogram::lower(b) <= v / 8, "{v}");
            }
        }
    }

    #[test]
    fn histograms_merge_by_addition() {
        let mut a = Histogram::default();
        let mut b = Histogram::default();
        for v in 1..=100 {
            a.add(v * 1000);
        }
        b.add(5_000_000);
        a.merge(&b);
        assert_eq!(a.count(), 101);
        assert_eq!(a.max(), 5_000_000);
        let p50 = a.quantile(0.5);
        assert!((44_000..=51_000).contains(&p50), "{p50}");
        assert_eq!(a.quantile(1.0), 5_000_000);
    }

    fn enter(tid: Tid, time: u64, stime: u64, nr: u64) -> Record<'static> {
        Record::SyscallEnter {
            tid,
            time,
            stime_us: Some(stime),
            nr,
            args: [0; 6],
            regs: None,
            mem: Default::default(),
        }
    }

    fn exit(tid: Tid, time: u64, stime: u64, nr: u64, ret: i64) -> Record<'static> {
        Record::SyscallExit {
            tid,
            time,
            stime_us: Some(stime),
            nr,
            ret,
            regs: None,
            mem: Default::default(),
        }
    }

    /// Two threads interleaving, an entry that never returns (the thread
    /// dies), and a non-leader execve whose exit comes on the leader's tid.
    fn sample() -> Vec<Record<'static>> {
        vec![
            enter(1, 10, 0, 0),
            enter(2, 11, 0, 1),
            exit(1, 15, 3, 0, 5),
            exit(2, 20, 5, 1, -2),
            enter(1, 21, 5, 0),
            exit(1, 30, 9, 0, 1),
            enter(2, 31, 9, 231),
            Record::Death {
                tid: 2,
                time: 32,
                how: Termination::Exited(0),
            },
            enter(3, 40, 9, 59),
            Record::Exec {
                tid: 1,
                time: 41,
                former_tid: 3,
                filename: b"/bin/true",
                argv: vec![b"true"],
                argv_redacted: Vec::new(),
            },
            exit(1, 50, 19, 59, 0),
            enter(1, 51, 19, 0),
            exit(1, 60, 20, 0, -4096),
        ]
    }

    fn summary(p: &Partial) -> Vec<(u32, u64, u64, u64)> {
        let mut v: Vec<_> = p
            .by_syscall()
            .into_iter()
            .map(|(nr, s)| (nr, s.calls, s.errors, s.time_ns))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn merge_of_split_partials_equals_one_pass_at_every_split_point() {
        let opts = ScanOptions {
            wall: false,
            histograms: true,
        };
        let recs = sample();
        let mut whole = Partial {
            chunks: 1,
            ..Partial::default()
        };
        for r in &recs {
            whole.record(r, &opts);
        }
        // read: 3 calls, 3+4+1 us CPU; write: 1 call 1 error; exit_group
        // counted without an exit; execve paired across the tid change.
        assert_eq!(
            summary(&whole),
            [
                (0, 3, 0, 8000),
                (1, 1, 1, 5000),
                (59, 1, 0, 10000),
                (231, 1, 0, 0)
            ]
        );
        for a in 0..=recs.len() {
            for b in a..=recs.len() {
                let part = |rs: &[Record<'_>]| {
                    let mut p = Partial {
                        chunks: 1,
                        ..Partial::default()
                    };
                    for r in rs {
                        p.record(r, &opts);
                    }
                    p
                };
                let (x, y, z) = (part(&recs[..a]), part(&recs[a..b]), part(&recs[b..]));
                let left = x.clone().merge(y.clone(), &opts).merge(z.clone(), &opts);
                let right = x.merge(y.merge(z, &opts), &opts);
                assert_eq!(summary(&left), summary(&whole), "split {a} {b}");
                assert_eq!(summary(&left), summary(&right), "split {a} {b}");
                assert_eq!(left.records, whole.records);
            }
        }
    }

    #[test]
    fn error_returns_are_minus_4095_to_minus_1() {
        assert!(is_error(-1));
        assert!(is_error(-4095));
        assert!(!is_error(-4096));
        assert!(!is_error(0));
    }
}
