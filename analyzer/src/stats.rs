//! Counts over the call layer: calls, errors and times per thread and
//! syscall, latency histograms, thread spans and the process events the
//! tree is built from ([`scan`]). The calls come joined from [`calls`]; this
//! module only adds them up.

use ptrec_abi::Arch;
use ptrec_format::{ChildKind, Kind, Record, Termination, Tid, Trace};
use rustc_hash::FxHashMap;

use crate::calls::{self, Item, Mode, OwnedEntry};

/// What a scan keeps besides the counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScanOptions {
    /// `-w`: time is wall time even when records carry CPU times.
    pub wall: bool,
    /// Keep latency histograms (`--percentiles`).
    pub histograms: bool,
    /// `--strict`: a chunk that cannot be read is an error.
    pub strict: bool,
    /// Decode every stream of every chunk (arguments and captures too),
    /// not only what the counts need.
    pub full: bool,
    /// The caller prints the records (replay): the warnings about the
    /// chunks it could not read say the others are shown, not analyzed.
    pub shown: bool,
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
        /// (index, bytes a redaction dropped after `argv[index]`).
        argv_redacted: Vec<(u32, u64)>,
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
        time: u64,
    },
    Note {
        kind: u32,
        value: u64,
        text: Vec<u8>,
    },
}

impl Event {
    /// The event of a process-structure record (or a note).
    pub fn of(r: &Record<'_>) -> Option<Event> {
        let time = r.time();
        let tid = r.tid();
        Some(match *r {
            Record::NewChild {
                child, kind, flags, ..
            } => Event::NewChild {
                tid,
                time,
                child,
                kind,
                flags,
            },
            Record::Exec {
                former_tid,
                filename,
                ref argv,
                ref argv_redacted,
                ..
            } => Event::Exec {
                tid,
                time,
                former_tid,
                filename: filename.to_vec(),
                argv: argv.iter().map(|a| a.to_vec()).collect(),
                argv_redacted: argv_redacted.clone(),
            },
            Record::Death { how, .. } => Event::Death { tid, time, how },
            Record::Attach { tgid, comm, .. } => Event::Attach {
                tid,
                time,
                tgid,
                comm: comm.to_vec(),
            },
            Record::Detach { .. } => Event::Detach { tid, time },
            Record::Note {
                kind, value, text, ..
            } => Event::Note {
                kind,
                value,
                text: text.to_vec(),
            },
            _ => return None,
        })
    }
}

/// First and last time a thread was seen.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub first: u64,
    pub last: u64,
}

/// Adds a later chunk's (tid, first, last) times to `spans`: a thread's
/// first time stays, its last moves on.
pub fn extend_spans(
    spans: &mut FxHashMap<Tid, Span>,
    chunk: impl IntoIterator<Item = (Tid, u64, u64)>,
) {
    for (tid, first, last) in chunk {
        spans
            .entry(tid)
            .and_modify(|a| a.last = last)
            .or_insert(Span { first, last });
    }
}

/// A chunk that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub chunk: usize,
    pub reason: String,
}

/// One lifetime of a thread: its tid and the time of the record that
/// created it (its NewChild), 0 for a thread alive when the trace begins.
/// A tid that is created again (pid reuse) starts a new lifetime, so the
/// counts of two processes that had the same pid never merge; the tree
/// names the process of a lifetime ([`Life::process`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Life {
    pub tid: Tid,
    pub since: u64,
}

/// In a chunk's part: the lifetime that was current when the chunk began
/// (the merge in chunk order resolves it).
const CONTINUING: u64 = u64::MAX;

impl Life {
    /// The index in [`Tree::processes`] of the process this lifetime of the
    /// thread belonged to when it began (pid reuse aware, as every view).
    pub fn process(self, tree: &crate::tree::Tree) -> Option<usize> {
        tree.index_at(self.tid, self.since)
    }
}

/// What a scan of the call layer keeps: counts per thread lifetime and
/// syscall, process events, thread spans, record counts. See [`scan`].
#[derive(Clone, Debug, Default)]
pub struct Scan {
    pub stats: FxHashMap<(Life, u32), Stat>,
    /// tid -> the start of its current lifetime (see [`Life`]), for the
    /// tids created again so far.
    lives: FxHashMap<Tid, u64>,
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
    /// Chunks that could not be read, in order.
    pub skipped: Vec<Skipped>,
}

/// One chunk's share of a [`Scan`].
#[derive(Default)]
pub struct ScanPart {
    scan: Scan,
    /// Calls that end in this chunk and began in an earlier one:
    /// (tid, nr, exit time, exit CPU time).
    /// (exit time, exit CPU time) per [`Item::Resumed`], in order (`None`: no exit).
    resumed: Vec<Option<(u64, Option<u64>)>>,
    /// The chunk's counts per thread lifetime, indexed by syscall number
    /// (merged into `scan.stats` at the end), and each tid's current one.
    threads: Vec<(Life, Vec<Stat>)>,
    index: crate::calls::TidIndex,
}

impl ScanPart {
    /// `tid` is created (again) at `time`: its calls from here on are a
    /// new lifetime's.
    fn born(&mut self, tid: Tid, time: u64) {
        let n = self.threads.len() as u32;
        self.threads.push((Life { tid, since: time }, Vec::new()));
        self.index.set(tid, n);
        self.scan.lives.insert(tid, time);
    }

    #[inline]
    fn stat(&mut self, tid: Tid, nr: u32) -> &mut Stat {
        let (i, new) = self.index.get_or_insert(tid, self.threads.len() as u32);
        if new {
            let life = Life {
                tid,
                since: CONTINUING,
            };
            self.threads.push((life, Vec::new()));
        }
        let (life, v) = &mut self.threads[i as usize];
        let nr = nr as usize;
        if nr >= v.len() {
            // Syscall numbers are small; a forged one is counted all the same.
            if nr < 4096 {
                v.resize_with(nr + 1, Stat::default);
            } else {
                return self.scan.stats.entry((*life, nr as u32)).or_default();
            }
        }
        &mut v[nr]
    }
}

/// Whether a return value is an error return (-4095..=-1).
pub fn is_error(ret: i64) -> bool {
    (-4095..=-1).contains(&ret)
}

/// Duration of a call: CPU time when both stops carry it (and `-w` was not
/// given), else wall time.
fn call_time(opts: &ScanOptions, t0: u64, s0: Option<u64>, t1: u64, s1: Option<u64>) -> u64 {
    match (opts.wall, s0, s1) {
        (false, Some(a), Some(b)) => b.saturating_sub(a).saturating_mul(1000),
        _ => t1.saturating_sub(t0),
    }
}

impl Scan {
    /// Counts a record (thread spans come from the layer, per chunk).
    #[inline]
    fn seen(&mut self, time: u64, kind: Kind) {
        self.records += 1;
        self.by_kind[kind as usize] += 1;
        if self.first_time.is_none() {
            self.first_time = Some(time);
        }
        self.last_time = time;
    }

    fn account(
        &mut self,
        opts: &ScanOptions,
        tid: Tid,
        nr: u32,
        t: (u64, Option<u64>),
        x: (u64, Option<u64>),
    ) {
        let d = call_time(opts, t.0, t.1, x.0, x.1);
        let life = Life {
            tid,
            since: CONTINUING,
        };
        let s = self.stats.entry((life, nr)).or_default();
        s.time_ns += d;
        if opts.histograms {
            s.hist
                .get_or_insert_with(Histogram::default)
                .add(x.0.saturating_sub(t.0));
        }
    }

    fn event(&mut self, r: &Record<'_>) {
        self.seen(r.time(), r.kind());
        if let Some(e) = Event::of(r) {
            self.events.push(e);
        }
    }

    /// Appends `b`, which covers the chunks right after `self`'s.
    fn append(&mut self, mut b: Scan) {
        for ((life, nr), s) in b.stats.drain() {
            let since = match life.since {
                CONTINUING => self.lives.get(&life.tid).copied().unwrap_or(0),
                t => t,
            };
            let k = (
                Life {
                    tid: life.tid,
                    since,
                },
                nr,
            );
            match self.stats.get_mut(&k) {
                Some(a) => a.merge(&s),
                None => {
                    self.stats.insert(k, s);
                }
            }
        }
        self.lives.extend(b.lives.drain());
        self.events.append(&mut b.events);
        extend_spans(
            &mut self.spans,
            b.spans.drain().map(|(tid, sp)| (tid, sp.first, sp.last)),
        );
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
        self.skipped.append(&mut b.skipped);
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

/// The scan as a view of the call layer ([`calls::Walk`] and [`calls::Merge`]).
struct Scanner {
    opts: ScanOptions,
    scan: Scan,
}

impl crate::calls::Walk for Scanner {
    type Part<'a> = ScanPart;
    type Sealed = ScanPart;

    fn part<'a>(&self, _index: usize) -> Self::Part<'a> {
        ScanPart::default()
    }

    fn seal(&self, p: ScanPart) -> ScanPart {
        p
    }

    // Always: in one codegen unit LLVM left it out of line.
    #[inline(always)]
    fn item<'a>(&self, p: &mut ScanPart, item: Item<'_, 'a>) {
        match item {
            Item::Enter(e) => {
                p.scan.seen(e.time, Kind::SyscallEnter);
                p.stat(e.tid, e.nr).calls += 1;
            }
            Item::Call(c) => {
                if let Some(x) = &c.exit {
                    p.scan.seen(x.time, Kind::SyscallExit);
                    if is_error(x.ret) {
                        p.stat(x.tid, x.nr).errors += 1;
                    }
                    let e = &c.entry;
                    let d = call_time(&self.opts, e.time, e.stime_us, x.time, x.stime_us);
                    let histograms = self.opts.histograms;
                    let st = p.stat(e.tid, e.nr);
                    st.time_ns += d;
                    if histograms {
                        st.hist
                            .get_or_insert_with(Histogram::default)
                            .add(x.time.saturating_sub(e.time));
                    }
                }
            }
            Item::Resumed(r) => {
                if let Some(x) = &r.exit {
                    p.scan.seen(x.time, Kind::SyscallExit);
                    if is_error(x.ret) {
                        p.stat(x.tid, x.nr).errors += 1;
                    }
                }
                p.resumed.push(r.exit.map(|x| (x.time, x.stime_us)));
            }
            Item::Event(r) => {
                if let Record::NewChild { child, time, .. } = *r {
                    p.born(child, time);
                }
                p.scan.event(r)
            }
        }
    }
}

impl crate::calls::Merge for Scanner {
    type Sealed = ScanPart;

    fn finish(
        &mut self,
        meta: &calls::ChunkMeta,
        mut p: ScanPart,
        entries: &[Option<OwnedEntry>],
    ) -> anyhow::Result<()> {
        for (x, e) in p.resumed.iter().zip(entries) {
            if let (Some(x), Some(e)) = (x, e) {
                p.scan
                    .account(&self.opts, e.tid, e.nr, (e.time, e.stime_us), *x);
            }
        }
        for (life, v) in std::mem::take(&mut p.threads) {
            for (nr, st) in v.into_iter().enumerate() {
                if st.calls > 0 || st.errors > 0 || st.time_ns > 0 || st.hist.is_some() {
                    match p.scan.stats.get_mut(&(life, nr as u32)) {
                        Some(a) => a.merge(&st),
                        None => {
                            p.scan.stats.insert((life, nr as u32), st);
                        }
                    }
                }
            }
        }
        p.scan.chunks = 1;
        p.scan.uncompressed = u64::from(meta.info.header.uncompressed_len);
        p.scan.compressed = u64::from(meta.info.header.compressed_len);
        p.scan.streams = meta.stream_sizes.map(|(c, u)| (u64::from(c), u64::from(u)));
        p.scan.unknown = meta.unknown;
        for &(tid, first, last) in &meta.spans {
            p.scan.spans.insert(tid, Span { first, last });
        }
        self.scan.append(p.scan);
        Ok(())
    }

    fn skipped(&mut self, index: usize, reason: &str) -> anyhow::Result<()> {
        self.scan.skipped.push(Skipped {
            chunk: index,
            reason: reason.to_string(),
        });
        Ok(())
    }

    fn end(&mut self, _open: Vec<OwnedEntry>) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The trace's architecture (its syscall numbering, struct layouts and
/// flag values), or an error when the analyzer does not know it or the
/// header's register layout is not that architecture's.
pub fn arch(trace: &Trace) -> anyhow::Result<Arch> {
    let h = trace.header();
    Arch::of(h).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: unsupported architecture {:#x} with register layout {} (this analyzer knows x86_64, AUDIT_ARCH {:#x}, layout {}, and aarch64, AUDIT_ARCH {:#x}, layout {})",
            trace.path().display(),
            h.arch,
            h.reg_layout,
            ptrec_format::AUDIT_ARCH_X86_64,
            ptrec_format::REG_LAYOUT_X86_64,
            ptrec_format::AUDIT_ARCH_AARCH64,
            ptrec_format::REG_LAYOUT_AARCH64,
        )
    })
}

/// Scans every readable chunk through the call layer (skim mode) and
/// merges the counts in order. Warns on stderr when the file is truncated
/// and for every chunk that could not be read.
pub fn scan(trace: &Trace, opts: &ScanOptions) -> anyhow::Result<Scan> {
    arch(trace)?;
    warn_truncation(trace);
    let mut s = Scanner {
        opts: *opts,
        scan: Scan::default(),
    };
    let mode = if opts.full { Mode::Full } else { Mode::Skim };
    calls::run(trace, mode, &mut s)?;
    report_skipped(trace, &s.scan.skipped, opts.strict, opts.shown)?;
    Ok(s.scan)
}

/// Whether the readable chunks hold records of more than one thread (what
/// [`scan`]'s `spans` would count: every record's thread but rec's own
/// notes'), without a scan: the chunks' events and times streams are read
/// in parallel and the reading stops once two threads are known, mostly in
/// the first chunk. A chunk that cannot be read counts for nothing (the
/// pass that reads it in full says why).
pub fn many_threads(trace: &Trace) -> bool {
    use ptrec_format::{Part, Skimmed};
    use std::sync::atomic::{AtomicBool, Ordering};
    let found = AtomicBool::new(false);
    // Per chunk: None once it (or another) holds two threads, else the one
    // thread it holds, if any. A chunk is not read once two are known.
    let done = || found.load(Ordering::Relaxed);
    let one = trace.par_map_chunk_parts_until(Part::Stops, done, |data| {
        let mut first = None;
        for r in data.ok()?.stops() {
            let tid = match r.ok()? {
                Skimmed::Syscall(s) => s.tid,
                Skimmed::Record(r) if matches!(*r, Record::Note { tid: 0, .. }) => continue,
                Skimmed::Record(r) => r.tid(),
                Skimmed::Unknown(_) => continue,
            };
            match first {
                None => first = Some(tid),
                Some(f) if f != tid => {
                    found.store(true, Ordering::Relaxed);
                    return None;
                }
                Some(_) => {}
            }
        }
        first
    });
    let mut tids = one.into_iter().flatten().flatten();
    found.load(Ordering::Relaxed) || tids.next().is_some_and(|a| tids.any(|b| b != a))
}

/// One warning line per chunk that could not be read ([`warn_skipped`]),
/// or with `strict` an error naming the first.
pub fn report_skipped(
    trace: &Trace,
    skipped: &[Skipped],
    strict: bool,
    shown: bool,
) -> anyhow::Result<()> {
    let path = trace.path().display();
    // Chunks the reader left out when it opened the file (duplicated or
    // out of sequence), chunks missing from the sequence, then the ones
    // that did not decode.
    let mut lines: Vec<String> = trace.skipped().iter().map(|s| s.to_string()).collect();
    lines.extend(trace.gaps().iter().map(|g| g.to_string()));
    lines.extend(
        skipped
            .iter()
            .map(|s| format!("chunk {} skipped: {}", s.chunk, s.reason)),
    );
    if let (true, Some(l)) = (strict, lines.first()) {
        anyhow::bail!("{path}: {l} (--strict)");
    }
    for l in &lines {
        warn_skipped(&path, l, shown);
    }
    Ok(())
}

/// The warning about what a view goes on without (`what`: a chunk that
/// did not decode, a run of the file that held none): the other chunks are
/// `shown` by replay, which prints their records, and analyzed by every
/// other view.
pub fn warn_skipped(path: &dyn std::fmt::Display, what: &str, shown: bool) {
    let done = if shown { "shown" } else { "analyzed" };
    eprintln!("warning: {path}: {what}; the other chunks are {done}");
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

    #[test]
    fn error_returns_are_minus_4095_to_minus_1() {
        assert!(is_error(-1));
        assert!(is_error(-4095));
        assert!(!is_error(-4096));
        assert!(!is_error(0));
    }
}
