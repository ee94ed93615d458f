//! `analyze diff A B`: what changed between two runs of "the same" command
//! (the one that passed and the one that failed).
//!
//! The process trees are aligned by exec history, not pids: the roots with
//! each other, then, under each aligned pair, children with the same
//! history (filename and argv of every exec; a child that never exec'd by
//! its parent's program) in creation order. Then, most significant first:
//! changed exit statuses, processes in one run only, the first process whose
//! behaviour diverges, errors (syscall, path, errno) new in B, files opened
//! in one run only, and per-command wall time, syscall CPU time and syscall
//! count deltas, largest first.
//!
//! Calls are read through the call layer ([`crate::calls`]); the diff only
//! looks at each call's path argument and result.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use ptrec_abi::Sysno;
use ptrec_format::{mem_flags, Tid, Trace};
use serde::Serialize;

use crate::calls::{self, ChunkMeta, Item, Mode, OwnedEntry};
use crate::decode::{escaped, secs};
use crate::stats::{self, ScanOptions};
use crate::tree::{Exit, Tree};
use ptrec_abi::decode::Role;
use ptrec_abi::names::errno_text;

/// The argument that holds the path of the syscalls a diff compares: the
/// first path of the call, by abi's roles (the decoders' and rec's capture
/// tables).
fn path_arg(arch: ptrec_abi::Arch, nr: u32) -> Option<u8> {
    ptrec_abi::decode::roles(arch, nr)
        .iter()
        .position(|r| matches!(r, Role::Path | Role::PathAt { .. }))
        .map(|i| i as u8)
}

/// One path call: who, which, on what, with what result.
#[derive(Clone, Debug)]
struct PathCall {
    tid: Tid,
    /// Entry time.
    time: u64,
    /// The syscall (the same on every architecture: traces of two
    /// architectures compare).
    sys: Sysno,
    path: Vec<u8>,
    ret: i64,
}

fn path_of(
    arch: ptrec_abi::Arch,
    nr: u32,
    mem: impl Iterator<Item = (u8, u8, Vec<u8>)>,
) -> Option<Vec<u8>> {
    let want = path_arg(arch, nr)?;
    mem.into_iter()
        .find(|(arg, flags, _)| *arg == want && flags & mem_flags::STRING != 0)
        .map(|m| m.2)
}

/// Collects the path calls of a trace in record order.
#[derive(Default)]
struct Paths {
    calls: Vec<PathCall>,
}

#[derive(Default)]
struct PathsPart {
    calls: Vec<PathCall>,
    /// Per Item::Resumed of the chunk: its exit's return value, if any.
    resumed: Vec<Option<(Tid, i64)>>,
}

impl crate::calls::Walk for Paths {
    type Part<'a> = PathsPart;
    type Sealed = PathsPart;

    fn part<'a>(&self, _index: usize) -> Self::Part<'a> {
        PathsPart::default()
    }

    fn item<'a>(&self, p: &mut PathsPart, item: Item<'_, 'a>) {
        match item {
            Item::Call(c) => {
                let (Some(x), Some(sys)) = (c.exit, c.entry.sysno()) else {
                    return;
                };
                if path_arg(c.entry.arch, c.entry.nr).is_none() {
                    return;
                }
                let mem = c
                    .entry
                    .mem
                    .iter()
                    .map(|m| (m.arg, m.flags, m.data.to_vec()));
                if let Some(path) = path_of(c.entry.arch, c.entry.nr, mem) {
                    p.calls.push(PathCall {
                        tid: c.entry.tid,
                        time: c.entry.time,
                        sys,
                        path,
                        ret: x.ret,
                    });
                }
            }
            Item::Resumed(r) => p.resumed.push(r.exit.map(|x| (r.entry_tid, x.ret))),
            Item::Enter(_) | Item::Event(_) => {}
        }
    }

    fn seal(&self, p: PathsPart) -> PathsPart {
        p
    }
}

impl crate::calls::Merge for Paths {
    type Sealed = PathsPart;

    fn finish(
        &mut self,
        _meta: &ChunkMeta,
        part: PathsPart,
        entries: &[Option<OwnedEntry>],
    ) -> anyhow::Result<()> {
        // A call that crossed the chunk boundary comes first in the chunk.
        for (r, e) in part.resumed.iter().zip(entries) {
            if let (Some((tid, ret)), Some(e)) = (r, e) {
                let Some(sys) = e.arch.sysno(e.nr) else {
                    continue;
                };
                let mem = e.mem.iter().map(|m| (m.arg, m.flags, m.data.to_vec()));
                if let Some(path) = path_of(e.arch, e.nr, mem) {
                    self.calls.push(PathCall {
                        tid: *tid,
                        time: e.time,
                        sys,
                        path,
                        ret: *ret,
                    });
                }
            }
        }
        self.calls.extend(part.calls);
        Ok(())
    }

    fn skipped(&mut self, _index: usize, _reason: &str) -> anyhow::Result<()> {
        Ok(())
    }

    fn end(&mut self, _open: Vec<OwnedEntry>) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A failed path call: (syscall, path, errno).
type ErrorKey = (String, Vec<u8>, i32);

/// One process of a run, as the diff sees it.
#[derive(Clone, Debug, Default)]
struct Proc {
    pid: Tid,
    /// Exec history: (filename, argv) of each exec.
    key: String,
    command: String,
    exit: Option<Exit>,
    wall_ns: u64,
    cpu_ns: u64,
    calls: u64,
    by_syscall: BTreeMap<String, u64>,
    opened: BTreeSet<Vec<u8>>,
    /// When each error first happened.
    errors: BTreeMap<ErrorKey, u64>,
    start: u64,
    end: u64,
    children: Vec<usize>,
}

struct Run {
    procs: Vec<Proc>,
    roots: Vec<usize>,
}

fn exec_key(p: &crate::tree::Process) -> String {
    let mut k = String::new();
    for e in &p.execs {
        let argv: Vec<String> = e.argv.iter().map(|a| escaped(a)).collect();
        let _ = write!(k, "{} [{}]; ", escaped(&e.filename), argv.join(" "));
    }
    k
}

fn load(t: &Trace) -> anyhow::Result<Run> {
    let arch = stats::arch(t)?;
    let so = ScanOptions::default();
    let scan = stats::scan(t, &so)?;
    let tree = Tree::build(&scan.events, &scan.spans, &crate::command(t));
    let mut paths = Paths::default();
    calls::run(t, Mode::Full, &mut paths)?;
    let mut procs: Vec<Proc> = tree
        .processes
        .iter()
        .map(|p| Proc {
            pid: p.pid,
            key: exec_key(p),
            command: p.command_text(),
            exit: p.exit,
            wall_ns: p.end.saturating_sub(p.start),
            start: p.start,
            end: p.end,
            ..Proc::default()
        })
        .collect();
    // A process that never exec'd runs its parent's program: its key says so.
    for i in 0..procs.len() {
        if procs[i].key.is_empty() {
            let parent = tree.processes[i]
                .parent_index
                .map(|pi| procs[pi].key.clone());
            procs[i].key = format!("(fork of {})", parent.unwrap_or_default());
        }
    }
    let mut roots = Vec::new();
    for (i, p) in tree.processes.iter().enumerate() {
        match p.parent_index {
            Some(pi) => procs[pi].children.push(i),
            None => roots.push(i),
        }
    }
    // Counts and calls go to the process (pid and generation) the thread
    // was in at the time: a reused pid is another process.
    for ((life, nr), s) in &scan.stats {
        if let Some(i) = life.process(&tree) {
            let p = &mut procs[i];
            p.calls += s.calls;
            p.cpu_ns += s.time_ns;
            *p.by_syscall
                .entry(arch.syscall_name(*nr).into_owned())
                .or_default() += s.calls;
        }
    }
    for c in paths.calls {
        let Some(i) = tree.index_at(c.tid, c.time) else {
            continue;
        };
        let p = &mut procs[i];
        if (-4095..0).contains(&c.ret) {
            p.errors
                .entry((c.sys.name().to_string(), c.path, -c.ret as i32))
                .or_insert(c.time);
        } else if ptrec_abi::fds::opens_path(c.sys) {
            p.opened.insert(c.path);
        }
    }
    Ok(Run { procs, roots })
}

/// Pairs of aligned processes (index in A, index in B), in A's creation
/// order, and the processes of each run left unpaired.
fn align(a: &Run, b: &Run) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    let mut pairs = Vec::new();
    let mut only_a = Vec::new();
    let mut only_b = Vec::new();
    // The roots pair up whatever their history (the same command, run twice).
    let mut todo: Vec<(Vec<usize>, Vec<usize>)> = vec![(a.roots.clone(), b.roots.clone())];
    let mut first = true;
    while let Some((ka, kb)) = todo.pop() {
        let mut used = vec![false; kb.len()];
        for &ia in &ka {
            let hit = (0..kb.len())
                .find(|&j| !used[j] && (first || a.procs[ia].key == b.procs[kb[j]].key));
            match hit {
                Some(j) => {
                    used[j] = true;
                    pairs.push((ia, kb[j]));
                    todo.push((
                        a.procs[ia].children.clone(),
                        b.procs[kb[j]].children.clone(),
                    ));
                }
                None => only_a.push(ia),
            }
        }
        first = false;
        only_b.extend(kb.iter().zip(&used).filter(|x| !x.1).map(|x| *x.0));
    }
    pairs.sort();
    only_a.sort();
    only_b.sort();
    (pairs, only_a, only_b)
}

#[derive(Serialize)]
struct ProcRef {
    pid: Tid,
    command: String,
    exit: Option<String>,
}

#[derive(Serialize)]
struct ExitChange {
    command: String,
    a_pid: Tid,
    b_pid: Tid,
    a: Option<String>,
    b: Option<String>,
}

#[derive(Serialize)]
struct Divergence {
    command: String,
    a_pid: Tid,
    b_pid: Tid,
    why: Vec<String>,
}

#[derive(Serialize)]
struct NewError {
    command: String,
    pid: Tid,
    syscall: String,
    path: String,
    errno: String,
}

#[derive(Serialize)]
struct Delta {
    command: String,
    a_pid: Tid,
    b_pid: Tid,
    a_wall_s: f64,
    b_wall_s: f64,
    a_cpu_s: f64,
    b_cpu_s: f64,
    a_calls: u64,
    b_calls: u64,
    /// The syscalls whose counts changed most: (name, A, B).
    syscalls: Vec<(String, u64, u64)>,
}

#[derive(Serialize, Default)]
struct Report {
    exit_changes: Vec<ExitChange>,
    only_in_a: Vec<ProcRef>,
    only_in_b: Vec<ProcRef>,
    first_divergence: Option<Divergence>,
    new_errors_in_b: Vec<NewError>,
    files_only_in_a: Vec<String>,
    files_only_in_b: Vec<String>,
    deltas: Vec<Delta>,
}

fn exit_text(e: &Option<Exit>) -> Option<String> {
    e.as_ref().map(Exit::text)
}

fn proc_ref(p: &Proc) -> ProcRef {
    ProcRef {
        pid: p.pid,
        command: p.command.clone(),
        exit: exit_text(&p.exit),
    }
}

fn report(a: &Run, b: &Run) -> Report {
    let (pairs, only_a, only_b) = align(a, b);
    let mut r = Report {
        only_in_a: only_a.iter().map(|&i| proc_ref(&a.procs[i])).collect(),
        only_in_b: only_b.iter().map(|&i| proc_ref(&b.procs[i])).collect(),
        ..Report::default()
    };
    // The divergence that happens first in B's time.
    let mut first: Option<(u64, Divergence)> = None;
    let paired_a: BTreeSet<usize> = pairs.iter().map(|p| p.0).collect();
    let paired_b: BTreeSet<usize> = pairs.iter().map(|p| p.1).collect();
    for &(ia, ib) in &pairs {
        let (pa, pb) = (&a.procs[ia], &b.procs[ib]);
        if pa.exit != pb.exit {
            r.exit_changes.push(ExitChange {
                command: pb.command.clone(),
                a_pid: pa.pid,
                b_pid: pb.pid,
                a: exit_text(&pa.exit),
                b: exit_text(&pb.exit),
            });
        }
        let new_errors: Vec<(&ErrorKey, u64)> = pb
            .errors
            .iter()
            .filter(|(k, _)| !pa.errors.contains_key(*k))
            .map(|(k, &t)| (k, t))
            .collect();
        for ((sc, path, errno), _) in &new_errors {
            r.new_errors_in_b.push(NewError {
                command: pb.command.clone(),
                pid: pb.pid,
                syscall: sc.clone(),
                path: escaped(path),
                errno: errno_text(*errno),
            });
        }
        {
            // When, in B, this pair's behaviour first differs.
            let mut when: Option<u64> = None;
            let mut at = |t: u64| when = Some(when.map_or(t, |w| w.min(t)));
            let mut why = Vec::new();
            if pa.key != pb.key {
                why.push("another exec history".to_string());
                at(pb.start);
            }
            if pa.exit != pb.exit {
                at(pb.end);
                why.push(format!(
                    "exit {} -> {}",
                    exit_text(&pa.exit).unwrap_or_else(|| "none".into()),
                    exit_text(&pb.exit).unwrap_or_else(|| "none".into())
                ));
            }
            let kids_a = pa.children.iter().filter(|c| !paired_a.contains(c)).count();
            let kids_b: Vec<usize> = pb
                .children
                .iter()
                .copied()
                .filter(|c| !paired_b.contains(c))
                .collect();
            if kids_a + kids_b.len() > 0 {
                why.push(format!(
                    "{kids_a} children only in A, {} only in B",
                    kids_b.len()
                ));
                for &k in &kids_b {
                    at(b.procs[k].start);
                }
                if kids_a > 0 {
                    at(pb.end);
                }
            }
            if !new_errors.is_empty() {
                why.push(format!("{} new errors", new_errors.len()));
                for (_, t) in &new_errors {
                    at(*t);
                }
            }
            if pa.opened != pb.opened {
                why.push("other files opened".into());
            }
            if let Some(t) = when {
                if first.as_ref().is_none_or(|(f, _)| t < *f) {
                    first = Some((
                        t,
                        Divergence {
                            command: pb.command.clone(),
                            a_pid: pa.pid,
                            b_pid: pb.pid,
                            why,
                        },
                    ));
                }
            }
        }
        let mut sys: Vec<(String, u64, u64)> = pa
            .by_syscall
            .keys()
            .chain(pb.by_syscall.keys())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|k| {
                let g = |m: &BTreeMap<String, u64>| m.get(k).copied().unwrap_or(0);
                (k.clone(), g(&pa.by_syscall), g(&pb.by_syscall))
            })
            .filter(|x| x.1 != x.2)
            .collect();
        sys.sort_by_key(|x| std::cmp::Reverse(x.1.abs_diff(x.2)));
        sys.truncate(5);
        r.deltas.push(Delta {
            command: pb.command.clone(),
            a_pid: pa.pid,
            b_pid: pb.pid,
            a_wall_s: pa.wall_ns as f64 / 1e9,
            b_wall_s: pb.wall_ns as f64 / 1e9,
            a_cpu_s: pa.cpu_ns as f64 / 1e9,
            b_cpu_s: pb.cpu_ns as f64 / 1e9,
            a_calls: pa.calls,
            b_calls: pb.calls,
            syscalls: sys,
        });
    }
    r.first_divergence = first.map(|f| f.1);
    let opened = |run: &Run| -> BTreeSet<Vec<u8>> {
        run.procs
            .iter()
            .flat_map(|p| p.opened.iter().cloned())
            .collect()
    };
    let (oa, ob) = (opened(a), opened(b));
    r.files_only_in_a = oa.difference(&ob).map(|p| escaped(p)).collect();
    r.files_only_in_b = ob.difference(&oa).map(|p| escaped(p)).collect();
    // Most significant first: the largest wall time change.
    r.deltas.sort_by(|x, y| {
        let d = |d: &Delta| (d.b_wall_s - d.a_wall_s).abs();
        d(y).total_cmp(&d(x)).then_with(|| {
            y.a_calls
                .abs_diff(y.b_calls)
                .cmp(&x.a_calls.abs_diff(x.b_calls))
        })
    });
    r
}

fn text(r: &Report) -> String {
    let mut s = String::new();
    let ns = |x: f64| secs((x.max(0.0) * 1e9) as u64);
    if r.exit_changes.is_empty() {
        s.push_str("exit statuses: the same\n");
    } else {
        s.push_str("exit status changed:\n");
        for e in &r.exit_changes {
            let _ = writeln!(
                s,
                "  {} (pid {} -> {}): {} -> {}",
                e.command,
                e.a_pid,
                e.b_pid,
                e.a.as_deref().unwrap_or("no exit"),
                e.b.as_deref().unwrap_or("no exit")
            );
        }
    }
    for (title, v) in [("only in A", &r.only_in_a), ("only in B", &r.only_in_b)] {
        if !v.is_empty() {
            let _ = writeln!(s, "processes {title}:");
            for p in v {
                let _ = writeln!(
                    s,
                    "  {} {} ({})",
                    p.pid,
                    p.command,
                    p.exit.as_deref().unwrap_or("no exit")
                );
            }
        }
    }
    match &r.first_divergence {
        Some(d) => {
            let _ = writeln!(
                s,
                "first divergence: {} (pid {} -> {}): {}",
                d.command,
                d.a_pid,
                d.b_pid,
                d.why.join(", ")
            );
        }
        None => s.push_str("first divergence: none\n"),
    }
    if !r.new_errors_in_b.is_empty() {
        s.push_str("errors new in B:\n");
        for e in &r.new_errors_in_b {
            let _ = writeln!(
                s,
                "  {} {}: {}(\"{}\") = {}",
                e.pid, e.command, e.syscall, e.path, e.errno
            );
        }
    }
    for (title, v) in [
        ("files opened only in A", &r.files_only_in_a),
        ("files opened only in B", &r.files_only_in_b),
    ] {
        if !v.is_empty() {
            let _ = writeln!(s, "{title}:");
            for f in v {
                let _ = writeln!(s, "  {f}");
            }
        }
    }
    if !r.deltas.is_empty() {
        s.push_str("per command (A -> B), largest change first:\n");
        for d in &r.deltas {
            let sys: Vec<String> = d
                .syscalls
                .iter()
                .map(|(n, x, y)| format!("{n} {x}->{y}"))
                .collect();
            let _ = writeln!(
                s,
                "  {} (pid {} -> {}): wall {}s -> {}s, syscall cpu {}s -> {}s, calls {} -> {}{}{}",
                d.command,
                d.a_pid,
                d.b_pid,
                ns(d.a_wall_s),
                ns(d.b_wall_s),
                ns(d.a_cpu_s),
                ns(d.b_cpu_s),
                d.a_calls,
                d.b_calls,
                if sys.is_empty() { "" } else { ": " },
                sys.join(", ")
            );
        }
    }
    s
}

pub fn run(a: &Trace, b: &Trace, json: bool) -> anyhow::Result<()> {
    let r = report(&load(a)?, &load(b)?);
    if json {
        crate::out(&(serde_json::to_string_pretty(&r)? + "\n"))
    } else {
        crate::out(&text(&r))
    }
}
