//! The process tree, from recorded events only: parents from NewChild
//! records, exec transitions from Exec records, exits from Death records.
//!
//! A process is its pid plus a generation: a pid created again (pid reuse,
//! or a forged record) starts a new process and never merges with the old
//! one's lifetime. A process's parent is always created before it, so no
//! record sequence (cycles, a child created twice, a death before a birth,
//! a tid in two groups) can make the tree loop; what does not add up is
//! listed in [`Tree::problems`] and the tree goes on. Printing is linear in
//! processes, iterative and with bounded indentation.

use std::fmt::Write;

use ptrec_format::{ChildKind, Termination, Tid};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::decode::{escape_into, escaped, quoted, redacted_text, secs, signal_name};
use crate::stats::{Event, Span};

/// `CLONE_THREAD`: the new task joins the caller's thread group.
pub const CLONE_THREAD: u64 = 0x10000;

#[derive(Clone, Debug, Serialize)]
pub struct ExecInfo {
    /// The thread that called execve (before the tid change).
    pub tid: Tid,
    /// As recorded: views escape it, JSON holds it as (lossy) UTF-8.
    #[serde(serialize_with = "lossy_bytes")]
    pub filename: Vec<u8>,
    #[serde(serialize_with = "lossy_list")]
    pub argv: Vec<Vec<u8>>,
    /// (index, bytes a redaction dropped after `argv[index]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub argv_redacted: Vec<(u32, u64)>,
    #[serde(skip)]
    pub time: u64,
}

fn lossy_bytes<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(b))
}

fn lossy_list<S: serde::Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|b| String::from_utf8_lossy(b)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Exit {
    Code { code: i32 },
    Signal { signal: Sig },
}

/// A signal serialized by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sig(pub i32, pub bool);

impl Serialize for Sig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&signal_name(self.0))
    }
}

impl Exit {
    fn from(how: Termination) -> Exit {
        match how {
            Termination::Exited(code) => Exit::Code { code },
            Termination::Signaled { signo, core } => Exit::Signal {
                signal: Sig(signo, core),
            },
        }
    }
    pub fn text(&self) -> String {
        match self {
            Exit::Code { code } => format!("exited {code}"),
            Exit::Signal { signal } => format!(
                "killed by {}{}",
                signal_name(signal.0),
                if signal.1 { " (core dumped)" } else { "" }
            ),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Process {
    pub pid: Tid,
    /// 0 for the first process with this pid, 1 for the next one, ...
    #[serde(skip_serializing_if = "is_zero")]
    pub generation: u32,
    pub parent: Option<Tid>,
    pub threads: Vec<Tid>,
    pub execs: Vec<ExecInfo>,
    pub exit: Option<Exit>,
    /// Name before any exec: comm at attach, or the recorded command (raw).
    #[serde(skip)]
    pub name: Vec<u8>,
    #[serde(skip)]
    pub start: u64,
    #[serde(skip)]
    pub end: u64,
    /// Index of the parent in [`Tree::processes`] (always smaller).
    #[serde(skip)]
    pub parent_index: Option<usize>,
    #[serde(skip)]
    alive: Vec<Tid>,
    #[serde(skip)]
    last_death: Option<Exit>,
    #[serde(skip)]
    detached: bool,
    #[serde(skip)]
    dead: bool,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl Process {
    fn new(pid: Tid, generation: u32, parent: Option<(usize, Tid)>, time: u64) -> Process {
        Process {
            pid,
            generation,
            parent: parent.map(|p| p.1),
            parent_index: parent.map(|p| p.0),
            threads: vec![pid],
            execs: Vec::new(),
            exit: None,
            name: Vec::new(),
            start: time,
            end: time,
            alive: vec![pid],
            last_death: None,
            detached: false,
            dead: false,
        }
    }

    /// The program it ran last, as recorded.
    pub fn command(&self) -> &[u8] {
        match self.execs.last() {
            Some(e) => &e.filename,
            None => &self.name,
        }
    }

    /// The program it was running at `time`: the filename of its last exec
    /// before then, else the name it was created with.
    pub fn command_at(&self, time: u64) -> &[u8] {
        match self.execs.iter().rev().find(|e| e.time <= time) {
            Some(e) => &e.filename,
            None => &self.name,
        }
    }

    /// [`Process::command`], escaped for a text view.
    pub fn command_text(&self) -> String {
        escaped(self.command())
    }

    /// `1234` or, for a reused pid, `1234#2` (its third process).
    pub fn id(&self) -> String {
        if self.generation == 0 {
            self.pid.to_string()
        } else {
            format!("{}#{}", self.pid, self.generation)
        }
    }
}

#[derive(Default, Debug)]
pub struct Tree {
    /// In creation order; a parent always comes before its children.
    pub processes: Vec<Process>,
    /// pid -> its latest process.
    index: FxHashMap<Tid, usize>,
    /// tid -> the processes it belonged to, from when: (time, process).
    threads: FxHashMap<Tid, Vec<(u64, usize)>>,
    /// Record sequences that do not add up, in order (the tree went on).
    pub problems: Vec<String>,
    /// Children of each process, in creation order.
    children: Vec<Vec<usize>>,
}

/// Indentation stops growing at this depth; deeper lines say their depth.
const MAX_INDENT: usize = 24;

impl Tree {
    /// The thread group `tid` belonged to at `time` (pid reuse aware).
    pub fn pid_at(&self, tid: Tid, time: u64) -> Tid {
        self.process_at(tid, time).map_or(tid, |p| p.pid)
    }

    /// The process `tid` belonged to at `time`.
    pub fn process_at(&self, tid: Tid, time: u64) -> Option<&Process> {
        self.index_at(tid, time).map(|i| &self.processes[i])
    }

    /// The index in [`Tree::processes`] of the process `tid` belonged to at
    /// `time` (pid reuse aware).
    pub fn index_at(&self, tid: Tid, time: u64) -> Option<usize> {
        let v = self.threads.get(&tid)?;
        let k = v.partition_point(|(t, _)| *t <= time);
        v.get(k.saturating_sub(1)).map(|x| x.1)
    }

    fn proc_of(&self, tid: Tid) -> Option<usize> {
        self.threads.get(&tid).and_then(|v| v.last()).map(|x| x.1)
    }

    /// The latest process with this pid.
    pub fn get(&self, pid: Tid) -> Option<&Process> {
        self.index.get(&pid).map(|&i| &self.processes[i])
    }

    /// `tid` belongs to `proc` from `time`; whether that added an entry.
    fn set_thread(&mut self, tid: Tid, time: u64, proc: usize) -> bool {
        let v = self.threads.entry(tid).or_default();
        if v.last().map(|x| x.1) == Some(proc) {
            return false;
        }
        v.push((time, proc));
        true
    }

    /// A new process, its leader's thread entry still to set.
    fn add_process(&mut self, pid: Tid, parent: Option<usize>, time: u64) -> usize {
        let generation = match self.index.get(&pid) {
            Some(&old) => {
                let p = &self.processes[old];
                if !p.dead && !p.detached {
                    self.problems.push(format!(
                        "pid {pid} created again at {time} while process {} was alive",
                        p.id()
                    ));
                }
                p.generation + 1
            }
            None => 0,
        };
        let i = self.processes.len();
        let parent = parent.map(|pi| (pi, self.processes[pi].pid));
        self.processes
            .push(Process::new(pid, generation, parent, time));
        self.index.insert(pid, i);
        i
    }

    /// Builds the tree from the events in file order; `spans` give every
    /// thread's first and last record; `command` names the root process.
    pub fn build(events: &[Event], spans: &FxHashMap<Tid, Span>, command: &[u8]) -> Tree {
        let mut b = Builder::default();
        for e in events {
            b.event(e);
        }
        b.finish(spans, command)
    }
}

/// The tree built event by event, as a pass reads them ([`Tree::build`]):
/// the processes and threads the events made so far are those of the
/// finished tree, at the same indices ([`Builder::finish`] only adds the
/// threads no event named, after them).
#[derive(Default)]
pub struct Builder {
    t: Tree,
    /// Threads a NewChild or an Attach of a non-leader created.
    created: rustc_hash::FxHashSet<Tid>,
    /// The thread group of the first Attach: the started command's.
    started: Option<Tid>,
    /// Thread entries added (tid, from when) since [`Builder::take_added`].
    added: Vec<(Tid, u64)>,
}

impl Builder {
    /// The tree so far.
    pub fn tree(&self) -> &Tree {
        &self.t
    }

    /// The (tid, time) of the thread entries the events added since the
    /// last call: a caller that looked processes up on the tree so far
    /// learns whether a later event changed what a lookup at some time
    /// gives.
    pub fn take_added(&mut self) -> Vec<(Tid, u64)> {
        std::mem::take(&mut self.added)
    }

    fn set_thread(&mut self, tid: Tid, time: u64, proc: usize) {
        if self.t.set_thread(tid, time, proc) {
            self.added.push((tid, time));
        }
    }

    /// The process of `tid`, creating a root process for a thread that
    /// appears without a recorded creation (the started command, or an
    /// attached thread without an Attach record).
    fn ensure(&mut self, tid: Tid, time: u64) -> usize {
        if let Some(i) = self.t.proc_of(tid) {
            return i;
        }
        self.add_process(tid, None, time)
    }

    fn add_process(&mut self, pid: Tid, parent: Option<usize>, time: u64) -> usize {
        let i = self.t.add_process(pid, parent, time);
        self.set_thread(pid, time, i);
        i
    }

    /// The next event in file order.
    pub fn event(&mut self, e: &Event) {
        match e {
            Event::Attach {
                tid,
                time,
                tgid,
                comm,
                ..
            } => {
                if tid != tgid {
                    self.created.insert(*tid);
                }
                self.started.get_or_insert(*tgid);
                let pi = match self.t.index.get(tgid) {
                    Some(&i) if !self.t.processes[i].dead => i,
                    _ => self.add_process(*tgid, None, *time),
                };
                self.set_thread(*tid, *time, pi);
                let p = &mut self.t.processes[pi];
                if !p.threads.contains(tid) {
                    p.threads.push(*tid);
                    p.alive.push(*tid);
                }
                if p.name.is_empty() {
                    p.name = comm.clone();
                }
            }
            Event::NewChild {
                tid,
                time,
                child,
                kind,
                flags,
            } => {
                self.created.insert(*child);
                let parent = self.ensure(*tid, *time);
                let thread = *kind == ChildKind::Clone && flags & CLONE_THREAD != 0;
                if let Some(other) = self.t.proc_of(*child) {
                    let o = &self.t.processes[other];
                    if o.alive.contains(child) && !(thread && other == parent) {
                        self.t.problems.push(format!(
                            "tid {child} created at {time} by {tid} while alive in process {}",
                            o.id()
                        ));
                        let o = &mut self.t.processes[other];
                        o.alive.retain(|x| x != child);
                    }
                }
                if thread {
                    self.set_thread(*child, *time, parent);
                    let p = &mut self.t.processes[parent];
                    if !p.threads.contains(child) {
                        p.threads.push(*child);
                    }
                    p.alive.push(*child);
                } else {
                    let name = self.t.processes[parent].command().to_vec();
                    let i = self.add_process(*child, Some(parent), *time);
                    self.t.processes[i].name = name;
                }
            }
            Event::Exec {
                tid,
                time,
                former_tid,
                filename,
                argv,
                argv_redacted,
            } => {
                let pi = match self.t.proc_of(*former_tid) {
                    Some(i) => i,
                    None => self.ensure(*tid, *time),
                };
                self.set_thread(*tid, *time, pi);
                let p = &mut self.t.processes[pi];
                p.execs.push(ExecInfo {
                    tid: *former_tid,
                    filename: filename.clone(),
                    argv: argv.clone(),
                    argv_redacted: argv_redacted.clone(),
                    time: *time,
                });
                // Every other thread is gone; the exec'ing thread is the leader.
                p.alive.clear();
                p.alive.push(*tid);
                if !p.threads.contains(tid) {
                    p.threads.push(*tid);
                }
                // A leader "death" reported around a non-leader exec is not the group's exit.
                p.exit = None;
                p.dead = false;
                p.end = p.end.max(*time);
            }
            Event::Death { tid, time, how } => {
                let pi = self.ensure(*tid, *time);
                let p = &mut self.t.processes[pi];
                p.alive.retain(|x| x != tid);
                let ex = Exit::from(*how);
                p.last_death = Some(ex);
                if *tid == p.pid {
                    p.exit = Some(ex);
                }
                if p.alive.is_empty() {
                    p.dead = true;
                }
                p.end = p.end.max(*time);
            }
            Event::Detach { tid, time } => {
                if let Some(pi) = self.t.proc_of(*tid) {
                    let p = &mut self.t.processes[pi];
                    p.alive.retain(|x| x != tid);
                    p.detached = true;
                    p.end = p.end.max(*time);
                }
            }
            Event::Note { .. } => {}
        }
    }

    /// The tree: `spans` give every thread's first and last record;
    /// `command` names the root process.
    pub fn finish(self, spans: &FxHashMap<Tid, Span>, command: &[u8]) -> Tree {
        let Builder {
            mut t,
            created,
            started,
            ..
        } = self;
        // The first thread seen that nothing created is the started command.
        let mut first: Vec<(u64, Tid)> = spans.iter().map(|(t, s)| (s.first, *t)).collect();
        first.sort();
        for (time, tid) in first {
            if !created.contains(&tid) && !t.threads.contains_key(&tid) {
                let i = t.add_process(tid, None, time);
                t.set_thread(tid, time, i);
            }
        }
        // A thread's span covers all its lifetimes: it dates a process only
        // when the tid had one.
        for (tid, v) in &t.threads {
            if let (Some(s), [(_, pi)]) = (spans.get(tid), v.as_slice()) {
                let p = &mut t.processes[*pi];
                p.start = p.start.min(s.first);
                p.end = p.end.max(s.last);
            }
        }
        for p in &mut t.processes {
            if p.exit.is_none() && p.alive.is_empty() && !p.detached {
                p.exit = p.last_death;
            }
        }
        // rec attaches to the command it starts before that child execs it,
        // so its attach-time comm is rec's own: name it after the command.
        // The started command's is the trace's first attach record.
        if let Some(root) = t.processes.iter_mut().find(|p| p.parent.is_none()) {
            let launched = !command.is_empty() && started == Some(root.pid);
            if root.name.is_empty() || launched {
                root.name = command.to_vec();
            }
        }
        t.children = vec![Vec::new(); t.processes.len()];
        for (i, p) in t.processes.iter().enumerate() {
            if let Some(pi) = p.parent_index {
                t.children[pi].push(i);
            }
        }
        t
    }
}

/// How much of the tree [`Tree::text`] shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// Levels shown (None: all); deeper processes are counted.
    pub depth: Option<usize>,
    /// Children shown per process; the others are counted.
    pub children: Option<usize>,
    /// An exec's argument list is cut after this many characters.
    pub argv_chars: Option<usize>,
}

impl Limits {
    /// Everything (`analyze tree`).
    pub const ALL: Limits = Limits {
        depth: None,
        children: None,
        argv_chars: None,
    };
}

impl Tree {
    /// One warning line per inconsistency (at most 10, then a count).
    pub fn warn_problems(&self, trace: &ptrec_format::Trace) {
        for p in self.problems.iter().take(10) {
            eprintln!("warning: {}: {p}", trace.path().display());
        }
        if self.problems.len() > 10 {
            eprintln!(
                "warning: {}: {} more inconsistencies in the process records",
                trace.path().display(),
                self.problems.len() - 10
            );
        }
    }

    /// The processes `i` created, in creation order.
    pub fn children_of(&self, i: usize) -> &[usize] {
        self.children.get(i).map_or(&[], |v| v.as_slice())
    }

    /// Processes below each process (parents come before children, so one
    /// backward pass adds them up).
    fn descendants(&self) -> Vec<usize> {
        let mut n = vec![0usize; self.processes.len()];
        for i in (0..self.processes.len()).rev() {
            if let Some(pi) = self.processes[i].parent_index {
                n[pi] += 1 + n[i];
            }
        }
        n
    }

    /// The indented tree within `limits`. `t0` is the time origin of the
    /// relative start/end times.
    pub fn text(&self, t0: u64, limits: Limits) -> String {
        let mut v = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_text(&mut v, t0, limits);
        String::from_utf8_lossy(&v).into_owned()
    }

    /// [`Tree::text`], streamed to `w` line by line: memory stays linear in
    /// processes whatever the depth, and indentation stops at a bounded
    /// depth (deeper lines say theirs: `[depth 30] `).
    pub fn write_text(
        &self,
        w: &mut dyn std::io::Write,
        t0: u64,
        limits: Limits,
    ) -> std::io::Result<()> {
        enum Step {
            Node { i: usize, depth: usize, last: bool },
            Text(String),
        }
        let desc = self.descendants();
        let mut stack: Vec<Step> = Vec::new();
        for (i, p) in self.processes.iter().enumerate().rev() {
            if p.parent_index.is_none() {
                stack.push(Step::Node {
                    i,
                    depth: 0,
                    last: true,
                });
            }
        }
        // Per indented ancestor level: whether that ancestor was a last child.
        let mut guides: Vec<bool> = Vec::new();
        let mut line = String::new();
        while let Some(step) = stack.pop() {
            let (i, depth, last) = match step {
                Step::Node { i, depth, last } => (i, depth, last),
                Step::Text(t) => {
                    w.write_all(t.as_bytes())?;
                    continue;
                }
            };
            let p = &self.processes[i];
            guides.truncate(depth.saturating_sub(1).min(MAX_INDENT));
            let mut lead = String::new();
            for &g in &guides {
                lead.push_str(if g { "   " } else { "│  " });
            }
            let mut rest = lead.clone();
            if depth > 0 {
                lead.push_str(if last { "└─ " } else { "├─ " });
                rest.push_str(if last { "   " } else { "│  " });
            }
            if depth > MAX_INDENT {
                let _ = write!(lead, "[depth {depth}] ");
            }
            line.clear();
            line.push_str(&lead);
            self.node_line(&mut line, p, t0);
            for e in &p.execs {
                line.push_str(&rest);
                exec_line(&mut line, p, e, t0, &limits);
            }
            w.write_all(line.as_bytes())?;
            let kids = self.children_of(i);
            if kids.is_empty() {
                continue;
            }
            if limits.depth.is_some_and(|m| depth + 1 >= m) {
                writeln!(w, "{rest}└─ ... {} more processes", desc[i])?;
                continue;
            }
            let (shown, hidden) = match limits.children {
                Some(n) if kids.len() > n => kids.split_at(n),
                _ => (kids, &[][..]),
            };
            if !hidden.is_empty() {
                let n: usize = hidden.iter().map(|&k| 1 + desc[k]).sum();
                stack.push(Step::Text(format!(
                    "{rest}└─ ... {} more children ({n} processes)\n",
                    hidden.len()
                )));
            }
            if depth > 0 && guides.len() < MAX_INDENT {
                guides.push(last);
            }
            for (k, &c) in shown.iter().enumerate().rev() {
                stack.push(Step::Node {
                    i: c,
                    depth: depth + 1,
                    last: k + 1 == shown.len() && hidden.is_empty(),
                });
            }
        }
        Ok(())
    }

    /// `pid name [N threads] start..end status`, and a newline.
    fn node_line(&self, out: &mut String, p: &Process, t0: u64) {
        let name: &[u8] = if p.name.is_empty() { b"?" } else { &p.name };
        out.push_str(&p.id());
        out.push(' ');
        // A recorded name is escaped: it must never reach the terminal raw.
        escape_into(out, name);
        let nthreads = p.threads.len();
        if nthreads > 1 {
            let _ = write!(out, " [{nthreads} threads]");
        }
        let _ = write!(
            out,
            " {}s..{}s",
            secs(p.start.saturating_sub(t0)),
            secs(p.end.saturating_sub(t0))
        );
        match &p.exit {
            Some(e) => {
                let _ = write!(out, " {}", e.text());
            }
            None => out.push_str(" (running at end)"),
        }
        out.push('\n');
    }

    /// The contract's `{"processes": [...]}`, keys in the contract's order.
    pub fn json(&self) -> serde_json::Result<String> {
        #[derive(Serialize)]
        struct Json<'a> {
            processes: &'a [Process],
        }
        serde_json::to_string_pretty(&Json {
            processes: &self.processes,
        })
    }
}

/// `  exec "file" [argv] by thread N at T`, and a newline.
fn exec_line(out: &mut String, p: &Process, e: &ExecInfo, t0: u64, limits: &Limits) {
    let argv: Vec<String> = e
        .argv
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut q = quoted(a, false);
            if let Some(&(_, n)) = e.argv_redacted.iter().find(|r| r.0 as usize == i) {
                q.push_str(&redacted_text(n));
            }
            q
        })
        .collect();
    let mut argv = argv.join(", ");
    if let Some(n) = limits.argv_chars {
        if argv.len() > n {
            let mut cut = n;
            while !argv.is_char_boundary(cut) {
                cut -= 1;
            }
            argv.truncate(cut);
            let _ = write!(argv, "... ({} arguments)", e.argv.len());
        }
    }
    let _ = write!(out, "  exec {} [{argv}]", quoted(&e.filename, false));
    if e.tid != p.pid {
        let _ = write!(out, " by thread {}", e.tid);
    }
    let _ = writeln!(out, " at {}s", secs(e.time.saturating_sub(t0)));
}

/// Where each process ran: its working directory at each exec and at its
/// end, from the per-process state ([`crate::procs`]).
#[derive(Default)]
pub struct Places {
    /// Per process (index in [`Tree::processes`]): cwd at each exec, in order.
    pub exec_cwds: Vec<Vec<Vec<u8>>>,
    /// Per process: cwd when it ended (or when the trace did).
    pub end_cwd: Vec<Option<Vec<u8>>>,
}

struct PlacesWatch<'t> {
    tree: &'t Tree,
    places: Places,
}

impl crate::procs::Watch for PlacesWatch<'_> {
    type Chunk = ();
    fn chunk_watch(&self) {}
    fn op(&mut self, procs: &mut crate::procs::Procs, op: &crate::procs::Op) {
        use crate::procs::OpKind;
        let death = matches!(op.kind, OpKind::Death { .. });
        if !death && !matches!(op.kind, OpKind::Exec { .. }) {
            return;
        }
        let Some(i) = self.tree.index_at(op.tid, op.time) else {
            return;
        };
        let cwd = procs.cwd(op.tid).to_vec();
        if death {
            if self.tree.processes[i].pid == op.tid {
                self.places.end_cwd[i] = Some(cwd);
            }
        } else {
            self.places.exec_cwds[i].push(cwd);
        }
    }
}

impl Places {
    /// One pass over the trace (full mode) for the places of `tree`'s processes.
    pub fn collect(t: &ptrec_format::Trace, tree: &Tree, strict: bool) -> anyhow::Result<Places> {
        let n = tree.processes.len();
        let mut w = PlacesWatch {
            tree,
            places: Places {
                exec_cwds: vec![Vec::new(); n],
                end_cwd: vec![None; n],
            },
        };
        let procs = crate::procs::run(
            t,
            crate::procs::Want {
                scanned: true,
                strict,
                ..Default::default()
            },
            &mut w,
        )?;
        for (i, p) in tree.processes.iter().enumerate() {
            if w.places.end_cwd[i].is_none() {
                w.places.end_cwd[i] = Some(procs.cwd(p.pid).to_vec());
            }
        }
        Ok(w.places)
    }
}

impl Tree {
    /// `tree --json` with times and places: each process gains `start` and
    /// `end` (`{"relative": seconds since the trace's first record, "wall":
    /// RFC 3339 UTC}`) and `cwd` (at its end); each exec gains `time` (the
    /// same form) and `cwd` (at the exec).
    pub fn json_full(
        &self,
        h: &ptrec_format::Header,
        t0: u64,
        places: &Places,
    ) -> serde_json::Result<String> {
        #[derive(Serialize)]
        struct When {
            relative: f64,
            wall: String,
        }
        #[derive(Serialize)]
        struct ExecJson<'a> {
            #[serde(flatten)]
            exec: &'a ExecInfo,
            time: When,
            cwd: Option<String>,
        }
        #[derive(Serialize)]
        struct ProcJson<'a> {
            pid: Tid,
            #[serde(skip_serializing_if = "is_zero")]
            generation: u32,
            parent: Option<Tid>,
            threads: &'a [Tid],
            execs: Vec<ExecJson<'a>>,
            exit: Option<Exit>,
            start: When,
            end: When,
            cwd: String,
        }
        #[derive(Serialize)]
        struct Json<'a> {
            processes: Vec<ProcJson<'a>>,
        }
        let when = |mono: u64| When {
            relative: mono.saturating_sub(t0) as f64 / 1e9,
            wall: crate::clock::rfc3339(crate::clock::wall(h, mono)),
        };
        let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let processes = self
            .processes
            .iter()
            .enumerate()
            .map(|(i, p)| ProcJson {
                pid: p.pid,
                generation: p.generation,
                parent: p.parent,
                threads: &p.threads,
                execs: p
                    .execs
                    .iter()
                    .enumerate()
                    .map(|(k, e)| ExecJson {
                        exec: e,
                        time: when(e.time),
                        cwd: places
                            .exec_cwds
                            .get(i)
                            .and_then(|v| v.get(k))
                            .map(|c| lossy(c)),
                    })
                    .collect(),
                exit: p.exit,
                start: when(p.start),
                end: when(p.end),
                cwd: places
                    .end_cwd
                    .get(i)
                    .and_then(|c| c.as_deref())
                    .map(lossy)
                    .unwrap_or_default(),
            })
            .collect();
        serde_json::to_string_pretty(&Json { processes })
    }
}
