//! `analyze failures`: every process that exited non-zero or was killed by
//! a signal, the innermost first (the one whose failure its ancestors
//! propagated: a `cc1` before the `cc` before the `make`), each with its
//! command line, executable, working directory, lifetime, status, the last
//! lines it wrote to its stderr (reconstructed as [`output`] does), the
//! file operations that failed in it and its last syscalls.
//!
//! What a process did is kept while it runs and dropped when it exits 0,
//! so memory stays bounded by the live processes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

use ptrec_format::{Termination, Tid, Trace};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::calls::{Call, Entry, Exit};
use crate::clock;
use crate::decode::{escaped, secs};
use crate::files::errno_name;
use crate::procs::{self, Op, OpKind, PathKind, Procs, Watch};
use crate::replay::call_line;
use crate::stats::{self, ScanOptions};
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
    last: VecDeque<(u64, String)>,
    cwd: Option<Vec<u8>>,
    /// Base names it opened, stat'ed or exec'd successfully: a failed
    /// lookup of one of them was a search that found it elsewhere.
    found: rustc_hash::FxHashSet<Vec<u8>>,
}

fn base_name(p: &[u8]) -> &[u8] {
    p.rsplit(|&b| b == b'/').next().unwrap_or(p)
}

struct Failures<'t> {
    tree: &'t Tree,
    kept: FxHashMap<usize, Kept>,
    /// Processes that exited 0: nothing more is kept of them.
    done: Vec<bool>,
}

impl Failures<'_> {
    fn kept(&mut self, i: usize) -> Option<&mut Kept> {
        if self.done.get(i).copied().unwrap_or(true) {
            return None;
        }
        Some(self.kept.entry(i).or_default())
    }

    fn push_call(&mut self, tid: Tid, time: u64, line: String) {
        let Some(i) = self.tree.index_at(tid, time) else {
            return;
        };
        let prefix = if self.tree.processes[i].threads.len() > 1 {
            format!("[{tid}] ")
        } else {
            String::new()
        };
        if let Some(k) = self.kept(i) {
            if k.last.len() == LAST_CALLS {
                k.last.pop_front();
            }
            k.last.push_back((time, prefix + &line));
        }
    }
}

/// Per chunk: each thread's last calls (formatted at seal only).
pub struct Lasts<'a> {
    calls: FxHashMap<Tid, VecDeque<Call<'a>>>,
}

/// The per-chunk part: each thread's last calls.
pub struct LastCalls;

impl procs::ChunkWatch for LastCalls {
    type Extra<'a> = Lasts<'a>;
    type Sealed = Vec<(Tid, u64, String)>;

    fn extra<'a>(&self, _index: usize) -> Lasts<'a> {
        Lasts {
            calls: FxHashMap::default(),
        }
    }

    fn call<'a>(&self, x: &mut Lasts<'a>, call: &Call<'a>) {
        let q = x.calls.entry(call.entry.tid).or_default();
        if q.len() == LAST_CALLS {
            q.pop_front();
        }
        q.push_back(*call);
    }

    fn seal(&self, x: Lasts<'_>) -> Self::Sealed {
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
        v
    }
}

impl Watch for Failures<'_> {
    type Chunk = LastCalls;
    fn chunk_watch(&self) -> LastCalls {
        LastCalls
    }

    fn resumed(&mut self, e: &Entry<'_>, x: Option<&Exit<'_>>, _end: Option<crate::calls::End>) {
        self.push_call(e.tid, e.time, call_line(e, x, CALL_LIMIT));
    }

    fn sealed(&mut self, calls: Vec<(Tid, u64, String)>) {
        for (tid, time, line) in calls {
            self.push_call(tid, time, line);
        }
    }

    fn op(&mut self, procs: &mut Procs, op: &Op) {
        let Some(i) = self.tree.index_at(op.tid, op.time) else {
            return;
        };
        match &op.kind {
            OpKind::Open { .. } | OpKind::Path { .. } => {
                if self.done.get(i).copied().unwrap_or(true) || op.ret.is_none() {
                    return;
                }
                let readlink = matches!(
                    op.kind,
                    OpKind::Path {
                        kind: PathKind::Readlink,
                        ..
                    }
                );
                let path = procs.op_path_ref(op).unwrap_or_default();
                let Some(k) = self.kept(i) else { return };
                match op.errno() {
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
                let Some(len) = op.ret.filter(|r| *r > 0) else {
                    return;
                };
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
            OpKind::Death { how } => {
                let p = &self.tree.processes[i];
                if op.tid == p.pid {
                    if *how == Termination::Exited(0) {
                        self.kept.remove(&i);
                        if let Some(d) = self.done.get_mut(i) {
                            *d = true;
                        }
                    } else {
                        let cwd = procs.cwd(op.tid).to_vec();
                        if let Some(k) = self.kept(i) {
                            k.cwd = Some(cwd);
                        }
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

/// Collects the report.
pub fn collect(t: &Trace, so: &ScanOptions) -> anyhow::Result<Report> {
    let scan = stats::scan(t, so)?;
    let tree = Tree::build(&scan.events, &scan.spans, &crate::command(t));
    tree.warn_problems(t);
    report(t, &tree, scan.first_time.unwrap_or(0))
}

/// The report over a tree already built; `t0` is the zero of relative times.
pub fn report(t: &Trace, tree: &Tree, t0: u64) -> anyhow::Result<Report> {
    let arch = crate::stats::arch(t)?;
    let mut w = Failures {
        tree,
        kept: FxHashMap::default(),
        done: tree.processes.iter().map(|p| failed(p).is_none()).collect(),
    };
    procs::run(
        t,
        procs::Want {
            write_data: true,
            scanned: true,
            strict: false,
        },
        &mut w,
    )?;
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
        let k = w.kept.remove(&i).unwrap_or_default();
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
        let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
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
            last_syscalls: k.last.into_iter().map(|c| c.1).collect(),
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
    Ok(Report {
        failures: out,
        processes: tree.processes.len(),
        unfinished: tree.processes.iter().filter(|p| p.exit.is_none()).count(),
        t0,
    })
}

impl Report {
    /// The text view; `short` (the overview) keeps each process to its
    /// status, command, last stderr line and first failed files.
    pub fn text(&self, short: bool) -> String {
        let mut s = String::new();
        if self.failures.is_empty() {
            let _ = match (self.processes, self.unfinished) {
                (0, _) => writeln!(s, "no process failed: the trace holds no process"),
                (n, 0) => writeln!(s, "no process failed: {n} processes, every one exited 0"),
                (n, u) => writeln!(
                    s,
                    "no process failed: {n} processes, {} exited 0, {u} had not ended when the trace did",
                    n - u
                ),
            };
            return s;
        }
        let _ = writeln!(
            s,
            "{} of {} processes failed (innermost first):",
            self.failures.len(),
            self.processes
        );
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
