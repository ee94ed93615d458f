//! `analyze failures`: every process that exited non-zero or was killed by
//! a signal, the innermost first (the one whose failure its ancestors
//! propagated: a `cc1` before the `cc` before the `make`), each with its
//! command line, executable, working directory, lifetime, status, the last
//! lines it wrote to its stderr (reconstructed as [`output`] does), the
//! file operations that failed in it and its last syscalls.
//!
//! What a process did is kept while it runs and dropped when it exits 0,
//! so memory stays bounded by the live and the failed processes. One pass
//! reads the trace: it builds the process tree from the events as it goes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

use ptrec_format::{Record, Termination, Tid, Trace};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::calls::{Call, ChunkMeta, Entry, Exit};
use crate::clock;
use crate::decode::{escaped, secs};
use crate::files::errno_name;
use crate::procs::{self, Op, OpKind, PathKind, Procs, Watch};
use crate::replay::call_line;
use crate::stats::{self, Event, ScanOptions, Span};
use crate::tree::{self, Tree};

/// Last lines of stderr kept per process.
pub const STDERR_LINES: usize = 10;
/// Bytes of stderr kept per process (its tail).
const STDERR_BYTES: usize = 4096;
/// Last syscalls kept per process.
pub const LAST_CALLS: usize = 8;
/// Bytes of each buffer shown in a quoted call.
const CALL_LIMIT: usize = 64;

/// What is kept of a process while it runs.
#[derive(Default)]
struct Kept {
    stderr: VecDeque<u8>,
    /// Bytes of stderr dropped from the front (only the tail is kept).
    stderr_dropped: bool,
    /// Some stderr write was cut at rec's -s.
    stderr_cut: bool,
    /// (path, errno) -> (count, syscalls).
    failed: BTreeMap<(Vec<u8>, i32), (u64, BTreeSet<u32>)>,
    /// (thread, call line).
    last: VecDeque<(Tid, String)>,
    cwd: Option<Vec<u8>>,
    /// Base names it opened, stat'ed or exec'd successfully: a failed
    /// lookup of one of them was a search that found it elsewhere.
    found: rustc_hash::FxHashSet<Vec<u8>>,
}

fn base_name(p: &[u8]) -> &[u8] {
    p.rsplit(|&b| b == b'/').next().unwrap_or(p)
}

/// The base name of the path an open or path op gave, when it is the
/// resolved path's too: not for a descriptor's own path (fstat), nor for a
/// name that ends in `/`, `.` or `..` or is empty, which resolving changes.
fn given_base_name(kind: &OpKind) -> Option<&[u8]> {
    let path = match kind {
        OpKind::Open { path, .. } | OpKind::Path { path, fd: None, .. } => path,
        _ => return None,
    };
    match base_name(path) {
        b"" | b"." | b".." => None,
        name => Some(name),
    }
}

/// Where the pass finds the process of an op: in the tree of the whole
/// trace, built before it ([`report`]), or in the tree it builds from the
/// process events it reads ([`collect`]).
trait Source: Send {
    fn tree(&self) -> &Tree;
    /// The process `tid` belonged to at `time` (a lookup during the pass).
    fn lookup(&mut self, tid: Tid, time: u64) -> Option<usize>;
    /// Whether the pass collects the process events for [`Source::chunk`].
    fn events(&self) -> bool;
    /// A readable chunk, before its ops: its layer facts and events.
    fn chunk(&mut self, meta: &ChunkMeta, events: Vec<Event>);
}

impl Source for &Tree {
    fn tree(&self) -> &Tree {
        self
    }
    fn lookup(&mut self, tid: Tid, time: u64) -> Option<usize> {
        self.index_at(tid, time)
    }
    fn events(&self) -> bool {
        false
    }
    fn chunk(&mut self, _meta: &ChunkMeta, _events: Vec<Event>) {}
}

/// The tree as the pass builds it, each chunk's events given before its
/// ops: a process found on it is the finished tree's, at the same index,
/// unless a later event adds a thread entry at or before the time of a
/// lookup already made, or the thread had no process yet (the finished
/// tree gives it one). Either makes the pass `unsure`.
#[derive(Default)]
struct Growing {
    builder: tree::Builder,
    spans: FxHashMap<Tid, Span>,
    /// The first readable chunk's first record: the zero of relative
    /// times (as the scan's first record).
    t0: Option<u64>,
    /// The latest time a process was looked up at.
    looked: Option<u64>,
    unsure: bool,
}

impl Source for Growing {
    fn tree(&self) -> &Tree {
        self.builder.tree()
    }
    fn lookup(&mut self, tid: Tid, time: u64) -> Option<usize> {
        self.looked = Some(self.looked.map_or(time, |l| l.max(time)));
        let i = self.builder.tree().index_at(tid, time);
        self.unsure |= i.is_none();
        i
    }
    fn events(&self) -> bool {
        true
    }
    fn chunk(&mut self, meta: &ChunkMeta, events: Vec<Event>) {
        self.t0.get_or_insert(meta.info.header.first_time);
        stats::extend_spans(&mut self.spans, meta.spans.iter().copied());
        for e in &events {
            self.builder.event(e);
        }
        let looked = self.looked;
        if self
            .builder
            .take_added()
            .iter()
            .any(|&(_, time)| looked.is_some_and(|l| time <= l))
        {
            self.unsure = true;
        }
    }
}

/// What the pass keeps of one process.
#[derive(Default)]
enum Keep {
    #[default]
    Nothing,
    Kept(Box<Kept>),
    /// It exited 0 (or, on a tree built before, did not fail): nothing
    /// more is kept of it.
    Done,
}

struct Failures<S> {
    source: S,
    /// Per process of the tree (so far).
    kept: Vec<Keep>,
}

impl<S: Source> Failures<S> {
    fn new(source: S) -> Failures<S> {
        let kept = source
            .tree()
            .processes
            .iter()
            .map(|p| match failed(p) {
                Some(_) => Keep::Nothing,
                None => Keep::Done,
            })
            .collect();
        Failures { source, kept }
    }

    fn kept(&mut self, i: usize) -> Option<&mut Kept> {
        let k = self.kept.get_mut(i)?;
        if let Keep::Nothing = k {
            *k = Keep::Kept(Box::default());
        }
        match k {
            Keep::Kept(k) => Some(k),
            _ => None,
        }
    }

    fn done(&self, i: usize) -> bool {
        !matches!(self.kept.get(i), Some(Keep::Nothing | Keep::Kept(_)))
    }

    fn push_call(&mut self, tid: Tid, time: u64, line: String) {
        let Some(i) = self.source.lookup(tid, time) else {
            return;
        };
        if let Some(k) = self.kept(i) {
            if k.last.len() == LAST_CALLS {
                k.last.pop_front();
            }
            k.last.push_back((tid, line));
        }
    }

    /// Runs the pass.
    fn run(&mut self, t: &Trace, scanned: bool, strict: bool) -> anyhow::Result<()> {
        procs::run(
            t,
            procs::Want {
                write_data: true,
                scanned,
                strict,
            },
            self,
        )?;
        Ok(())
    }
}

/// Per chunk: each thread's last calls (formatted at seal only) and,
/// when the pass builds the tree, the process events.
pub struct Lasts<'a> {
    calls: FxHashMap<Tid, VecDeque<Call<'a>>>,
    events: Vec<Event>,
}

/// A chunk's part, sealed.
pub struct Sealed {
    /// (tid, entry time, call line), by entry time.
    calls: Vec<(Tid, u64, String)>,
    events: Vec<Event>,
}

/// The per-chunk part: each thread's last calls, and the process events
/// when `events`.
pub struct LastCalls {
    events: bool,
}

impl procs::ChunkWatch for LastCalls {
    type Extra<'a> = Lasts<'a>;
    type Sealed = Sealed;

    fn extra<'a>(&self, _index: usize) -> Lasts<'a> {
        Lasts {
            calls: FxHashMap::default(),
            events: Vec::new(),
        }
    }

    fn call<'a>(&self, x: &mut Lasts<'a>, call: &Call<'a>) {
        let q = x.calls.entry(call.entry.tid).or_default();
        if q.len() == LAST_CALLS {
            q.pop_front();
        }
        q.push_back(*call);
    }

    fn event<'a>(&self, x: &mut Lasts<'a>, record: &Record<'a>) {
        if self.events {
            x.events.extend(Event::of(record));
        }
    }

    fn seal(&self, x: Lasts<'_>) -> Sealed {
        let mut v: Vec<(Tid, u64, String)> = x
            .calls
            .into_iter()
            .flat_map(|(tid, q)| {
                q.into_iter().map(move |c| {
                    (
                        tid,
                        c.entry.time,
                        call_line(&c.entry, c.exit.as_ref(), CALL_LIMIT),
                    )
                })
            })
            .collect();
        v.sort_by_key(|c| c.1);
        Sealed {
            calls: v,
            events: x.events,
        }
    }
}

impl<S: Source> Watch for Failures<S> {
    type Chunk = LastCalls;
    fn chunk_watch(&self) -> LastCalls {
        LastCalls {
            events: self.source.events(),
        }
    }

    fn resumed(&mut self, e: &Entry<'_>, x: Option<&Exit<'_>>, _end: Option<crate::calls::End>) {
        self.push_call(e.tid, e.time, call_line(e, x, CALL_LIMIT));
    }

    fn before(&mut self, meta: &ChunkMeta, extra: &mut Sealed) {
        self.source.chunk(meta, std::mem::take(&mut extra.events));
        self.kept
            .resize_with(self.source.tree().processes.len(), Keep::default);
    }

    fn sealed(&mut self, extra: Sealed) {
        for (tid, time, line) in extra.calls {
            self.push_call(tid, time, line);
        }
    }

    fn op(&mut self, procs: &mut Procs, op: &Op) {
        let relevant = match &op.kind {
            OpKind::Open { .. } | OpKind::Path { .. } => op.ret.is_some(),
            OpKind::Write { .. } => op.ret.is_some_and(|r| r > 0),
            OpKind::Death { .. } => true,
            _ => false,
        };
        if !relevant {
            return;
        }
        let Some(i) = self.source.lookup(op.tid, op.time) else {
            return;
        };
        match &op.kind {
            OpKind::Open { .. } | OpKind::Path { .. } => {
                if self.done(i) {
                    return;
                }
                let readlink = matches!(
                    op.kind,
                    OpKind::Path {
                        kind: PathKind::Readlink,
                        ..
                    }
                );
                let errno = op.errno();
                if errno.is_none() {
                    if let Some(name) = given_base_name(&op.kind) {
                        // A success adds only its base name, which the
                        // name the call gave ends with: no resolving (the
                        // most frequent op; this runs in the sequential
                        // merge).
                        if let Some(k) = self.kept(i) {
                            if !k.found.contains(name) {
                                k.found.insert(name.to_vec());
                            }
                        }
                        return;
                    }
                }
                let path = procs.op_path_ref(op).unwrap_or_default();
                let Some(k) = self.kept(i) else { return };
                match errno {
                    // readlink's EINVAL says "not a symbolic link": a probe.
                    Some(22) if readlink => {}
                    Some(e) => {
                        let f = k.failed.entry((path.to_vec(), e)).or_default();
                        f.0 += 1;
                        f.1.insert(op.nr);
                    }
                    None => {
                        // Most lookups find a name already found: copied
                        // only the first time.
                        let name = base_name(path);
                        if !k.found.contains(name) {
                            k.found.insert(name.to_vec());
                        }
                    }
                }
            }
            OpKind::Write { fd, data, cut } => {
                let len = op.ret.unwrap_or(0);
                let obj = procs.fd(op.tid, *fd);
                if obj.is_none() || obj != procs.fd(op.tid, 2) {
                    return;
                }
                if let Some(k) = self.kept(i) {
                    k.stderr.extend(data.iter());
                    if *cut && (len as usize) > data.len() {
                        k.stderr_cut = true;
                        k.stderr.extend(b"[...]".iter());
                    }
                    while k.stderr.len() > STDERR_BYTES {
                        k.stderr.pop_front();
                        k.stderr_dropped = true;
                    }
                }
            }
            OpKind::Death { how } if op.tid == self.source.tree().processes[i].pid => {
                if *how == Termination::Exited(0) {
                    if let Some(k) = self.kept.get_mut(i) {
                        *k = Keep::Done;
                    }
                } else {
                    let cwd = procs.cwd(op.tid).to_vec();
                    if let Some(k) = self.kept(i) {
                        k.cwd = Some(cwd);
                    }
                }
            }
            _ => {}
        }
    }
}

/// One failed process, as the JSON shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    pub pid: Tid,
    #[serde(skip_serializing_if = "is_zero")]
    pub generation: u32,
    pub parent: Option<Tid>,
    #[serde(serialize_with = "lossy_list")]
    pub argv: Vec<Vec<u8>>,
    #[serde(serialize_with = "lossy")]
    pub executable: Vec<u8>,
    #[serde(serialize_with = "lossy")]
    pub cwd: Vec<u8>,
    pub start: When,
    pub end: When,
    pub exit: ExitJson,
    /// Its last lines on stderr (at most [`STDERR_LINES`]).
    #[serde(serialize_with = "lossy_list")]
    pub stderr: Vec<Vec<u8>>,
    /// Some of those bytes were not captured (rec's -s) or only the tail
    /// was kept.
    pub stderr_incomplete: bool,
    pub failed_files: Vec<FailedFile>,
    pub last_syscalls: Vec<String>,
    #[serde(skip)]
    pub name: Vec<u8>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn lossy<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(b))
}

fn lossy_list<S: serde::Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|b| String::from_utf8_lossy(b)))
}

/// A time, relative (seconds since the trace's first record) and on the
/// wall clock (RFC 3339, UTC).
#[derive(Clone, Debug, Serialize)]
pub struct When {
    pub relative: f64,
    pub wall: String,
    #[serde(skip)]
    mono: u64,
    #[serde(skip)]
    wall_ns: u64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum ExitJson {
    Code { code: i32 },
    Signal { signal: String, core_dumped: bool },
}

#[derive(Clone, Debug, Serialize)]
pub struct FailedFile {
    #[serde(serialize_with = "lossy")]
    pub path: Vec<u8>,
    pub errno: String,
    pub count: u64,
    pub syscalls: Vec<String>,
    /// The process later found a file of this name elsewhere (a search
    /// path miss, as a compiler's include search or a shell's PATH).
    pub found_elsewhere: bool,
}

/// The failures of a trace, innermost first, and how many processes ran.
pub struct Report {
    pub failures: Vec<Failure>,
    pub processes: usize,
    /// Processes with no recorded end: still running when the trace ends
    /// (a cut trace, a detach), so not known to have succeeded.
    pub unfinished: usize,
    t0: u64,
}

fn failed(p: &tree::Process) -> Option<ExitJson> {
    match p.exit? {
        tree::Exit::Code { code: 0 } => None,
        tree::Exit::Code { code } => Some(ExitJson::Code { code }),
        tree::Exit::Signal { signal } => Some(ExitJson::Signal {
            signal: crate::decode::signal_name(signal.0).into(),
            core_dumped: signal.1,
        }),
    }
}

/// Collects the report in one pass, which builds the process tree from the
/// events it reads; if a lookup on the tree so far may have found another
/// process than the finished tree would (see [`Growing`]), a second pass
/// over the finished tree.
pub fn collect(t: &Trace, so: &ScanOptions) -> anyhow::Result<Report> {
    let arch = stats::arch(t)?;
    let mut w = Failures::new(Growing::default());
    w.run(t, false, so.strict)?;
    let g = w.source;
    let tree = g.builder.finish(&g.spans, &crate::command(t));
    tree.warn_problems(t);
    let t0 = g.t0.unwrap_or(0);
    if g.unsure {
        return report(t, &tree, t0);
    }
    let w = Failures {
        source: &tree,
        kept: w.kept,
    };
    Ok(w.report(t, arch, t0))
}

/// The report over a tree already built; `t0` is the zero of relative times.
pub fn report(t: &Trace, tree: &Tree, t0: u64) -> anyhow::Result<Report> {
    let arch = stats::arch(t)?;
    let mut w = Failures::new(tree);
    w.run(t, true, false)?;
    Ok(w.report(t, arch, t0))
}

impl Failures<&Tree> {
    /// The failed processes of the tree, with what was kept of them.
    fn report(mut self, t: &Trace, arch: ptrec_abi::Arch, t0: u64) -> Report {
        let tree = self.source;
        let h = t.header();
        let when = |mono: u64| When {
            relative: mono.saturating_sub(t0) as f64 / 1e9,
            wall: clock::rfc3339(clock::wall(h, mono)),
            mono,
            wall_ns: clock::wall(h, mono),
        };
        let mut out = Vec::new();
        for (i, p) in tree.processes.iter().enumerate() {
            let Some(exit) = failed(p) else { continue };
            let k = match self.kept.get_mut(i).map(std::mem::take) {
                Some(Keep::Kept(k)) => *k,
                _ => Kept::default(),
            };
            // A process that never exec'd runs its parent's program.
            let mut a = Some(i);
            let mut exec = None;
            while let Some(j) = a {
                if let Some(e) = tree.processes[j].execs.last() {
                    exec = Some(e);
                    break;
                }
                a = tree.processes[j].parent_index;
            }
            let (argv, exe) = match exec {
                Some(e) => (e.argv.clone(), e.filename.clone()),
                None => (t.header().argv.clone(), p.command().to_vec()),
            };
            let bytes: Vec<u8> = k.stderr.iter().copied().collect();
            let mut lines: Vec<Vec<u8>> =
                bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            if lines.last().is_some_and(|l| l.is_empty()) {
                lines.pop();
            }
            if k.stderr_dropped && !lines.is_empty() {
                // The first kept line is a tail of a longer one.
                lines.remove(0);
            }
            let skip = lines.len().saturating_sub(STDERR_LINES);
            out.push(Failure {
                pid: p.pid,
                generation: p.generation,
                parent: p.parent,
                argv,
                executable: exe,
                cwd: k.cwd.unwrap_or_else(|| h.cwd.clone()),
                start: when(p.start),
                end: when(p.end),
                exit,
                stderr: lines.split_off(skip),
                stderr_incomplete: k.stderr_cut || k.stderr_dropped,
                failed_files: k
                    .failed
                    .into_iter()
                    .map(|((path, e), (count, nrs))| FailedFile {
                        found_elsewhere: k.found.contains(base_name(&path)),
                        path,
                        errno: errno_name(e),
                        count,
                        syscalls: nrs
                            .into_iter()
                            .map(|n| arch.syscall_name(n).into())
                            .collect(),
                    })
                    .collect(),
                last_syscalls: k
                    .last
                    .into_iter()
                    .map(|(tid, line)| {
                        if p.threads.len() > 1 {
                            format!("[{tid}] {line}")
                        } else {
                            line
                        }
                    })
                    .collect(),
                name: p.command().to_vec(),
            });
        }
        // Innermost first: a process ends before the parent that waited for
        // it; at equal ends, the deeper one first.
        let depth = |f: &Failure| {
            let mut d = 0;
            let mut i = tree.index_at(f.pid, f.start.mono);
            while let Some(j) = i.and_then(|j| tree.processes[j].parent_index) {
                d += 1;
                i = Some(j);
            }
            d
        };
        out.sort_by_key(|f| (f.end.mono, std::cmp::Reverse(depth(f))));
        Report {
            failures: out,
            processes: tree.processes.len(),
            unfinished: tree.processes.iter().filter(|p| p.exit.is_none()).count(),
            t0,
        }
    }
}

impl Report {
    /// The text view; `short` (the overview) keeps each process to its
    /// status, command, last stderr line and first failed files.
    pub fn text(&self, short: bool) -> String {
        let mut s = String::new();
        if self.failures.is_empty() {
            let _ = match (self.processes, self.unfinished) {
                (0, _) => writeln!(s, "no process failed: the trace holds no process"),
                (1, 0) => writeln!(s, "no process failed: its one process exited 0"),
                (1, _) => writeln!(
                    s,
                    "no process failed: its one process had not ended when the trace did"
                ),
                (n, 0) => writeln!(s, "no process failed: {n} processes, every one exited 0"),
                (n, u) => writeln!(
                    s,
                    "no process failed: {n} processes, {} exited 0, {u} had not ended when the trace did",
                    n - u
                ),
            };
            return s;
        }
        let _ = if self.processes == 1 {
            writeln!(s, "its one process failed:")
        } else {
            writeln!(
                s,
                "{} of {} processes failed (innermost first):",
                self.failures.len(),
                self.processes
            )
        };
        let shown = if short { 5 } else { usize::MAX };
        for f in self.failures.iter().take(shown) {
            let status = match &f.exit {
                ExitJson::Code { code } => format!("exited {code}"),
                ExitJson::Signal {
                    signal,
                    core_dumped,
                } => format!(
                    "killed by {signal}{}",
                    if *core_dumped { " (core dumped)" } else { "" }
                ),
            };
            let name = f.name.rsplit(|&b| b == b'/').next().unwrap_or(&f.name);
            let _ = writeln!(s, "\nprocess {} ({}) {status}", f.pid, escaped(name));
            let argv: Vec<String> = f.argv.iter().map(|a| escaped(a)).collect();
            let _ = writeln!(s, "  argv:    {}", argv.join(" "));
            if !short {
                let _ = writeln!(s, "  exe:     {}", escaped(&f.executable));
            }
            let _ = writeln!(s, "  cwd:     {}", escaped(&f.cwd));
            if !short {
                if let Some(pp) = f.parent {
                    let _ = writeln!(s, "  parent:  {pp}");
                }
                let local = |w: &When| {
                    format!(
                        "+{}s  {}",
                        secs(w.mono.saturating_sub(self.t0)),
                        clock::local_text(w.wall_ns)
                    )
                };
                let _ = writeln!(s, "  start:   {}", local(&f.start));
                let _ = writeln!(
                    s,
                    "  end:     {}  (ran {}s)",
                    local(&f.end),
                    secs(f.end.mono.saturating_sub(f.start.mono))
                );
            }
            let lines = if short { 5 } else { STDERR_LINES };
            if f.stderr.is_empty() {
                let _ = writeln!(s, "  stderr:  (nothing written)");
            } else {
                let _ = writeln!(
                    s,
                    "  stderr{}:",
                    if f.stderr_incomplete {
                        " (incomplete: cut at rec's -s or only its tail kept)"
                    } else {
                        ""
                    }
                );
                let skip = f.stderr.len().saturating_sub(lines);
                for l in &f.stderr[skip..] {
                    s.push_str("    ");
                    crate::decode::escape_lines_into(&mut s, l);
                    s.push('\n');
                }
            }
            let (misses, mut failed): (Vec<&FailedFile>, Vec<&FailedFile>) =
                f.failed_files.iter().partition(|f| f.found_elsewhere);
            // What could not be opened or run first: lookups after.
            failed.sort_by_key(|f| {
                !f.syscalls
                    .iter()
                    .any(|c| c.starts_with("open") || c.starts_with("exec") || c == "creat")
            });
            if !f.failed_files.is_empty() {
                let _ = writeln!(
                    s,
                    "  failed file operations{}:",
                    if misses.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({} more were search misses of names found elsewhere)",
                            misses.len()
                        )
                    }
                );
                let shown = if short { 3 } else { 40 };
                for ff in failed.iter().take(shown) {
                    let _ = writeln!(
                        s,
                        "    {:<8} {:>4}x  {}  ({})",
                        ff.errno,
                        ff.count,
                        escaped(&ff.path),
                        ff.syscalls.join(",")
                    );
                }
                if failed.len() > shown {
                    let _ = writeln!(
                        s,
                        "    ... {} more (analyze failures --json lists them all)",
                        failed.len() - shown
                    );
                }
            }
            if !short && !f.last_syscalls.is_empty() {
                let _ = writeln!(s, "  last syscalls:");
                for c in &f.last_syscalls {
                    let _ = writeln!(s, "    {c}");
                }
            }
        }
        if self.failures.len() > shown {
            let _ = writeln!(
                s,
                "\n... {} more failed processes (analyze failures)",
                self.failures.len() - shown
            );
        }
        s
    }
}

impl Report {
    /// The JSON form (as `analyze failures --json`).
    pub fn json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(JsonReport {
            ok: self.failures.is_empty(),
            processes: self.processes,
            unfinished: self.unfinished,
            failures: &self.failures,
        })
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    ok: bool,
    processes: usize,
    unfinished: usize,
    failures: &'a [Failure],
}

/// `analyze failures`.
pub fn run(t: &Trace, so: &ScanOptions, json: bool) -> anyhow::Result<()> {
    let r = collect(t, so)?;
    if json {
        crate::out(&(serde_json::to_string_pretty(&r.json()?)? + "\n"))
    } else {
        crate::out(&r.text(false))
    }
}
