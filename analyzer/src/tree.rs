//! The process tree, from recorded events only: parents from NewChild
//! records, exec transitions from Exec records, exits from Death records.

use std::fmt::Write;

use ptrec_format::{ChildKind, Termination, Tid};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::decode::{escaped, quoted, redacted_text, secs, signal_name};
use crate::model::{Event, Span};

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
    #[serde(skip)]
    alive: Vec<Tid>,
    #[serde(skip)]
    last_death: Option<Exit>,
    #[serde(skip)]
    detached: bool,
}

impl Process {
    fn new(pid: Tid, parent: Option<Tid>, time: u64) -> Process {
        Process {
            pid,
            parent,
            threads: vec![pid],
            execs: Vec::new(),
            exit: None,
            name: Vec::new(),
            start: time,
            end: time,
            alive: vec![pid],
            last_death: None,
            detached: false,
        }
    }

    /// The program it ran last, as recorded.
    pub fn command(&self) -> &[u8] {
        match self.execs.last() {
            Some(e) => &e.filename,
            None => &self.name,
        }
    }

    /// [`Process::command`], escaped for a text view.
    pub fn command_text(&self) -> String {
        escaped(self.command())
    }
}

#[derive(Default, Debug)]
pub struct Tree {
    /// In creation order.
    pub processes: Vec<Process>,
    index: FxHashMap<Tid, usize>,
    tgid: FxHashMap<Tid, Tid>,
}

impl Tree {
    /// The thread group of `tid` (itself when unknown).
    pub fn tgid_of(&self, tid: Tid) -> Tid {
        self.tgid.get(&tid).copied().unwrap_or(tid)
    }

    pub fn get(&self, pid: Tid) -> Option<&Process> {
        self.index.get(&pid).map(|&i| &self.processes[i])
    }

    fn proc_mut(&mut self, pid: Tid) -> Option<&mut Process> {
        self.index.get(&pid).map(|&i| &mut self.processes[i])
    }

    /// The process of `tid`, creating a root process for a thread that
    /// appears without a recorded creation (the started command, or an
    /// attached thread without an Attach record).
    fn ensure(&mut self, tid: Tid, time: u64) -> Tid {
        if let Some(&g) = self.tgid.get(&tid) {
            return g;
        }
        self.add_process(tid, None, time);
        tid
    }

    fn add_process(&mut self, pid: Tid, parent: Option<Tid>, time: u64) {
        self.tgid.insert(pid, pid);
        self.index.insert(pid, self.processes.len());
        self.processes.push(Process::new(pid, parent, time));
    }

    /// Builds the tree from the events in file order; `spans` give every
    /// thread's first and last record; `command` names the root process.
    pub fn build(events: &[Event], spans: &FxHashMap<Tid, Span>, command: &[u8]) -> Tree {
        let mut t = Tree::default();
        // The first thread seen that nothing created is the started command.
        let mut first: Vec<(u64, Tid)> = spans.iter().map(|(t, s)| (s.first, *t)).collect();
        first.sort();
        let created: rustc_hash::FxHashSet<Tid> = events
            .iter()
            .filter_map(|e| match e {
                Event::NewChild { child, .. } => Some(*child),
                Event::Attach { tid, tgid, .. } if tid != tgid => Some(*tid),
                _ => None,
            })
            .collect();
        for e in events {
            match e {
                Event::Attach {
                    tid,
                    time,
                    tgid,
                    comm,
                    ..
                } => {
                    if !t.index.contains_key(tgid) {
                        t.add_process(*tgid, None, *time);
                    }
                    t.tgid.insert(*tid, *tgid);
                    if let Some(p) = t.proc_mut(*tgid) {
                        if !p.threads.contains(tid) {
                            p.threads.push(*tid);
                            p.alive.push(*tid);
                        }
                        if p.name.is_empty() {
                            p.name = comm.clone();
                        }
                    }
                }
                Event::NewChild {
                    tid,
                    time,
                    child,
                    kind,
                    flags,
                } => {
                    let parent = t.ensure(*tid, *time);
                    let thread = *kind == ChildKind::Clone && flags & CLONE_THREAD != 0;
                    if thread {
                        t.tgid.insert(*child, parent);
                        if let Some(p) = t.proc_mut(parent) {
                            p.threads.push(*child);
                            p.alive.push(*child);
                        }
                    } else {
                        let name = t
                            .get(parent)
                            .map(|p| p.command().to_vec())
                            .unwrap_or_default();
                        t.add_process(*child, Some(parent), *time);
                        if let Some(p) = t.proc_mut(*child) {
                            p.name = name;
                        }
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
                    let pid = match t.tgid.get(former_tid) {
                        Some(&g) => g,
                        None => t.ensure(*tid, *time),
                    };
                    t.tgid.insert(*tid, pid);
                    if let Some(p) = t.proc_mut(pid) {
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
                    }
                }
                Event::Death { tid, time, how } => {
                    let pid = t.ensure(*tid, *time);
                    if let Some(p) = t.proc_mut(pid) {
                        p.alive.retain(|x| x != tid);
                        let ex = Exit::from(*how);
                        p.last_death = Some(ex);
                        if *tid == p.pid {
                            p.exit = Some(ex);
                        }
                        p.end = p.end.max(*time);
                    }
                }
                Event::Detach { tid, .. } => {
                    let pid = t.tgid_of(*tid);
                    if let Some(p) = t.proc_mut(pid) {
                        p.alive.retain(|x| x != tid);
                        p.detached = true;
                    }
                }
                Event::Note { .. } => {}
            }
        }
        for (time, tid) in first {
            if !created.contains(&tid) && !t.tgid.contains_key(&tid) {
                t.add_process(tid, None, time);
            }
        }
        for p in &mut t.processes {
            if p.exit.is_none() && p.alive.is_empty() && !p.detached {
                p.exit = p.last_death;
            }
            for th in &p.threads {
                if let Some(s) = spans.get(th) {
                    p.start = p.start.min(s.first);
                    p.end = p.end.max(s.last);
                }
            }
        }
        // rec attaches to the command it starts before that child execs it,
        // so its attach-time comm is rec's own: name it after the command.
        // The started command's is the trace's first attach record.
        let started = events.iter().find_map(|e| match e {
            Event::Attach { tgid, .. } => Some(*tgid),
            _ => None,
        });
        if let Some(root) = t.processes.iter_mut().find(|p| p.parent.is_none()) {
            let launched = !command.is_empty() && started == Some(root.pid);
            if root.name.is_empty() || launched {
                root.name = command.to_vec();
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
    pub fn children(&self, pid: Option<Tid>) -> impl Iterator<Item = &Process> {
        self.processes.iter().filter(move |p| p.parent == pid)
    }

    /// The indented tree within `limits`. `t0` is the time origin of the
    /// relative start/end times.
    pub fn text(&self, t0: u64, limits: Limits) -> String {
        let mut out = String::new();
        let roots: Vec<&Process> = self
            .processes
            .iter()
            .filter(|p| p.parent.is_none_or(|pp| self.get(pp).is_none()))
            .collect();
        for r in roots {
            self.node(&mut out, r, "", "", 0, t0, &limits);
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn node(
        &self,
        out: &mut String,
        p: &Process,
        lead: &str,
        rest: &str,
        depth: usize,
        t0: u64,
        limits: &Limits,
    ) {
        let _ = write!(
            out,
            "{lead}{} {}",
            p.pid,
            if p.name.is_empty() {
                "?".to_string()
            } else {
                escaped(&p.name)
            }
        );
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
        for e in &p.execs {
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
                    argv.push_str(&format!("... ({} arguments)", e.argv.len()));
                }
            }
            let _ = write!(out, "{rest}  exec {} [{argv}]", quoted(&e.filename, false),);
            if e.tid != p.pid {
                let _ = write!(out, " by thread {}", e.tid);
            }
            let _ = writeln!(out, " at {}s", secs(e.time.saturating_sub(t0)));
        }
        let mut kids: Vec<&Process> = self.children(Some(p.pid)).collect();
        if limits.depth.is_some_and(|m| depth + 1 >= m) {
            if !kids.is_empty() {
                let _ = writeln!(
                    out,
                    "{rest}└─ ... {} more processes",
                    self.descendants(p.pid)
                );
            }
            return;
        }
        let hidden: Vec<&Process> = match limits.children {
            Some(n) if kids.len() > n => kids.split_off(n),
            _ => Vec::new(),
        };
        for (i, k) in kids.iter().enumerate() {
            let last = i + 1 == kids.len() && hidden.is_empty();
            let lead = format!("{rest}{}", if last { "└─ " } else { "├─ " });
            let next = format!("{rest}{}", if last { "   " } else { "│  " });
            self.node(out, k, &lead, &next, depth + 1, t0, limits);
        }
        if !hidden.is_empty() {
            let n: usize = hidden.iter().map(|k| 1 + self.descendants(k.pid)).sum();
            let _ = writeln!(
                out,
                "{rest}└─ ... {} more children ({n} processes)",
                hidden.len()
            );
        }
    }

    fn descendants(&self, pid: Tid) -> usize {
        self.children(Some(pid))
            .map(|k| 1 + self.descendants(k.pid))
            .sum()
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
