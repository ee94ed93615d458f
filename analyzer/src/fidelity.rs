//! The fidelity report of `analyze info`: what the trace does not hold, and
//! why — chunks lost or corrupt, records the writer dropped, captures cut
//! at `-s` or unreadable (per syscall), tracees that appeared without a
//! creation record, the syscall filter, attach and detach, threads left
//! undetached or still running, an abnormal end, rec's own notes — and a
//! one-line verdict.
//!
//! It reads every chunk on its own (a corrupt chunk is reported, not
//! fatal) and only counts: no pairing of records.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use ptrec_format::{mem_flags, note_kind, Record, Tid, Trace};
use serde::Serialize;

use crate::decode::{escaped, secs};

/// A note rec wrote into the trace.
#[derive(Clone, Debug, Serialize)]
pub struct Note {
    pub tid: Tid,
    /// Seconds after the recording's start.
    pub at: f64,
    pub kind: &'static str,
    pub value: u64,
    pub text: String,
    #[serde(skip)]
    kind_nr: u32,
    #[serde(skip)]
    raw: Vec<u8>,
}

/// The name of a note kind.
pub fn note_kind_name(kind: u32) -> &'static str {
    match kind {
        note_kind::RECORDS_DROPPED => "records-dropped",
        note_kind::MEMORY_UNREADABLE => "memory-unreadable",
        note_kind::ABNORMAL_END => "abnormal-end",
        note_kind::UNEXPECTED_STOP => "unexpected-stop",
        note_kind::INFO => "info",
        note_kind::END => "end",
        _ => "unknown",
    }
}

/// How replay shows a note: one line, its text escaped.
pub fn note_line(kind: u32, value: u64, text: &[u8]) -> String {
    let name = note_kind_name(kind);
    match kind {
        note_kind::END => format!("+++ rec: end, exit status {value} +++"),
        note_kind::RECORDS_DROPPED => format!("+++ rec: {value} records dropped +++"),
        note_kind::MEMORY_UNREADABLE if text.is_empty() => {
            format!("+++ rec: memory at {value:#x} unreadable +++")
        }
        _ if text.is_empty() => format!("+++ rec: {name} {value} +++"),
        _ => format!("+++ rec: {name}: {} +++", escaped(text)),
    }
}

/// Counts of one chunk, merged in file order.
#[derive(Default)]
struct Part {
    cut: BTreeMap<u32, u64>,
    unreadable: BTreeMap<u32, u64>,
    partial: BTreeMap<u32, u64>,
    redacted: BTreeMap<u32, u64>,
    notes: Vec<(Tid, u64, u32, u64, Vec<u8>)>,
    seen: BTreeSet<Tid>,
    attached: BTreeMap<Tid, u64>,
    detached: BTreeMap<Tid, u64>,
    created: BTreeSet<Tid>,
    inferred: BTreeSet<Tid>,
    dead: BTreeSet<Tid>,
    corrupt: Vec<(usize, String)>,
}

impl Part {
    fn merge(mut self, o: Part) -> Part {
        for (a, b) in [
            (&mut self.cut, o.cut),
            (&mut self.unreadable, o.unreadable),
            (&mut self.partial, o.partial),
            (&mut self.redacted, o.redacted),
        ] {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
        }
        self.notes.extend(o.notes);
        self.seen.extend(o.seen);
        for (k, v) in o.attached {
            self.attached.entry(k).or_insert(v);
        }
        self.detached.extend(o.detached);
        self.created.extend(o.created);
        self.inferred.extend(o.inferred);
        self.dead.extend(o.dead);
        self.corrupt.extend(o.corrupt);
        self
    }

    fn add(&mut self, r: &Record<'_>) {
        let tid = r.tid();
        if tid > 0 {
            self.seen.insert(tid);
        }
        match r {
            Record::SyscallEnter { nr, mem, .. } | Record::SyscallExit { nr, mem, .. } => {
                for m in mem.iter() {
                    let nr = *nr as u32;
                    let count = |t: &mut BTreeMap<u32, u64>| *t.entry(nr).or_default() += 1;
                    if m.flags & mem_flags::TRUNCATED != 0 {
                        count(&mut self.cut);
                    }
                    if m.flags & mem_flags::UNREADABLE != 0 {
                        count(&mut self.unreadable);
                    }
                    if m.flags & mem_flags::PARTIAL != 0 {
                        count(&mut self.partial);
                    }
                    if m.redacted.is_some() {
                        count(&mut self.redacted);
                    }
                }
            }
            Record::NewChild {
                child, inferred, ..
            } => {
                self.seen.insert(*child);
                self.created.insert(*child);
                if *inferred {
                    self.inferred.insert(*child);
                }
            }
            Record::Attach { tid, time, .. } => {
                self.attached.entry(*tid).or_insert(*time);
            }
            Record::Detach { tid, time, .. } => {
                self.detached.insert(*tid, *time);
            }
            Record::Death { tid, .. } => {
                self.dead.insert(*tid);
            }
            // The thread that called execve took the leader's tid.
            Record::Exec {
                tid, former_tid, ..
            } if tid != former_tid => {
                self.dead.insert(*former_tid);
            }
            Record::Note {
                tid,
                time,
                kind,
                value,
                text,
            } => self.notes.push((*tid, *time, *kind, *value, text.to_vec())),
            _ => {}
        }
    }
}

/// Syscall name -> count, most first.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PerSyscall(pub Vec<(String, u64)>);

impl PerSyscall {
    fn from(arch: ptrec_abi::Arch, m: BTreeMap<u32, u64>) -> PerSyscall {
        let mut v: Vec<(String, u64)> = m
            .into_iter()
            .map(|(nr, n)| (arch.syscall_name(nr).into_owned(), n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        PerSyscall(v)
    }
    fn total(&self) -> u64 {
        self.0.iter().map(|x| x.1).sum()
    }
    fn text(&self) -> String {
        let v: Vec<String> = self.0.iter().map(|(s, n)| format!("{s} {n}")).collect();
        v.join(", ")
    }
}

/// The report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Fidelity {
    pub complete_chunks: usize,
    /// Where the file ends early, and why.
    pub truncation: Option<String>,
    /// Chunks that failed their checks and were skipped: (index, why).
    pub corrupt_chunks: Vec<(usize, String)>,
    pub records_dropped: u64,
    pub string_limit: u32,
    pub captures_cut: PerSyscall,
    pub captures_unreadable: PerSyscall,
    pub captures_partial: PerSyscall,
    pub captures_redacted: PerSyscall,
    /// Tracees whose creation the trace does not show (no fork/clone event
    /// and no attach): their parent is unknown.
    pub adopted_without_creation: Vec<Tid>,
    /// Tracees whose creation record rec inferred (the event never came).
    pub creation_inferred: Vec<Tid>,
    /// `-e` as given, and how it was applied.
    pub filter: Option<String>,
    pub attached: Vec<(Tid, f64)>,
    pub detached: Vec<(Tid, f64)>,
    /// Attached threads neither detached nor dead at the end.
    pub not_detached: Vec<Tid>,
    /// Threads of the started command without a recorded end.
    pub running_at_end: Vec<Tid>,
    pub abnormal_end: Vec<String>,
    /// rec's end note: its exit status.
    pub end_status: Option<u64>,
    pub notes: Vec<Note>,
    /// "complete", or the gaps.
    pub verdict: Vec<String>,
}

pub fn report(t: &Trace, arch: ptrec_abi::Arch) -> Fidelity {
    let parts = t.par_map_chunks(|d| {
        let mut p = Part::default();
        match d {
            Ok(d) => {
                for r in d.records() {
                    match r {
                        Ok(r) => p.add(&r),
                        Err(e) => {
                            p.corrupt.push((d.info.index, e.to_string()));
                            break;
                        }
                    }
                }
            }
            Err(e) => p.corrupt.push((usize::MAX, e.to_string())),
        }
        p
    });
    // A chunk that could not be read names itself by position.
    let mut p = Part::default();
    for (i, mut x) in parts.into_iter().enumerate() {
        for c in &mut x.corrupt {
            if c.0 == usize::MAX {
                c.0 = i;
            }
        }
        p = p.merge(x);
    }
    let h = t.header();
    let rel = |ns: u64| ns.saturating_sub(h.start_mono_ns) as f64 / 1e9;
    let mut f = Fidelity {
        complete_chunks: t.chunks().len() - p.corrupt.len().min(t.chunks().len()),
        truncation: t.truncation().map(|c| c.to_string()),
        corrupt_chunks: p.corrupt,
        string_limit: h.options.string_limit,
        captures_cut: PerSyscall::from(arch, p.cut),
        captures_unreadable: PerSyscall::from(arch, p.unreadable),
        captures_partial: PerSyscall::from(arch, p.partial),
        captures_redacted: PerSyscall::from(arch, p.redacted),
        filter: (!h.options.filter.is_empty()).then(|| {
            format!(
                "{} ({})",
                escaped(h.options.filter.as_bytes()),
                escaped(h.options.filter_mode.as_bytes())
            )
        }),
        creation_inferred: p.inferred.iter().copied().collect(),
        attached: Vec::new(),
        detached: p.detached.iter().map(|(&t, &n)| (t, rel(n))).collect(),
        ..Fidelity::default()
    };
    // rec's first record is the attach of the command it starts.
    let root = if h.argv.is_empty() {
        None
    } else {
        p.attached.iter().min_by_key(|a| *a.1).map(|a| *a.0)
    };
    // Only -p attaches leave out what happened before them.
    f.attached = p
        .attached
        .iter()
        .filter(|a| Some(*a.0) != root)
        .map(|(&t, &n)| (t, rel(n)))
        .collect();
    for &tid in &p.seen {
        if !p.created.contains(&tid) && !p.attached.contains_key(&tid) && Some(tid) != root {
            f.adopted_without_creation.push(tid);
        }
        let ended = p.dead.contains(&tid) || p.detached.contains_key(&tid);
        if !ended {
            if p.attached.contains_key(&tid) && Some(tid) != root {
                f.not_detached.push(tid);
            } else {
                f.running_at_end.push(tid);
            }
        }
    }
    for (tid, time, kind, value, text) in p.notes {
        match kind {
            note_kind::RECORDS_DROPPED => f.records_dropped += value,
            note_kind::ABNORMAL_END => f.abnormal_end.push(escaped(&text)),
            note_kind::END => f.end_status = Some(value),
            _ => {}
        }
        f.notes.push(Note {
            tid,
            at: rel(time),
            kind: note_kind_name(kind),
            value,
            text: escaped(&text),
            kind_nr: kind,
            raw: text,
        });
    }
    f.verdict = f.gaps();
    f
}

impl Fidelity {
    fn gaps(&self) -> Vec<String> {
        let mut g = Vec::new();
        if self.truncation.is_some() {
            g.push("the file ends early".into());
        }
        if !self.corrupt_chunks.is_empty() {
            g.push(format!(
                "{} corrupt chunks skipped",
                self.corrupt_chunks.len()
            ));
        }
        if self.records_dropped > 0 {
            g.push(format!("{} records dropped", self.records_dropped));
        }
        let n = self.captures_cut.total();
        if n > 0 {
            g.push(format!("{n} captures cut at -s {}", self.string_limit));
        }
        let n = self.captures_unreadable.total() + self.captures_partial.total();
        if n > 0 {
            g.push(format!("{n} captures unreadable or partial"));
        }
        let n = self.captures_redacted.total();
        if n > 0 {
            g.push(format!("{n} captures redacted"));
        }
        if !self.adopted_without_creation.is_empty() {
            g.push(format!(
                "{} tracees without a creation record",
                self.adopted_without_creation.len()
            ));
        }
        if !self.creation_inferred.is_empty() {
            g.push(format!(
                "{} creation records inferred",
                self.creation_inferred.len()
            ));
        }
        if let Some(s) = &self.filter {
            g.push(format!("syscall filter {s}"));
        }
        if !self.not_detached.is_empty() {
            g.push(format!("{} threads not detached", self.not_detached.len()));
        }
        if !self.running_at_end.is_empty() {
            g.push(format!(
                "{} threads without a recorded end",
                self.running_at_end.len()
            ));
        }
        if !self.abnormal_end.is_empty() {
            g.push("abnormal end".into());
        }
        if self.end_status.is_none() {
            g.push("no end note (rec did not finish)".into());
        }
        if g.is_empty() {
            g.push("complete".into());
        }
        g
    }

    /// The report's text, after info's other lines.
    pub fn text(&self) -> String {
        let mut s = String::from("\nnot in this trace:\n");
        let line = |s: &mut String, k: &str, v: &str| {
            let _ = writeln!(s, "  {k:<30}{v}");
        };
        let mut any = false;
        if let Some(c) = &self.truncation {
            line(
                &mut s,
                "file ends early:",
                &format!(
                    "what came after chunk {} is lost ({c})",
                    self.complete_chunks
                ),
            );
            any = true;
        }
        for (i, e) in &self.corrupt_chunks {
            line(&mut s, "corrupt chunk:", &format!("{i}: {e} (skipped)"));
            any = true;
        }
        if self.records_dropped > 0 {
            line(
                &mut s,
                "records dropped by rec:",
                &self.records_dropped.to_string(),
            );
            any = true;
        }
        if self.captures_cut.total() > 0 {
            line(
                &mut s,
                &format!("captures cut at -s {}:", self.string_limit),
                &self.captures_cut.text(),
            );
            any = true;
        }
        if self.captures_unreadable.total() > 0 {
            line(
                &mut s,
                "captures unreadable:",
                &self.captures_unreadable.text(),
            );
            any = true;
        }
        if self.captures_partial.total() > 0 {
            line(
                &mut s,
                "captures partly readable:",
                &self.captures_partial.text(),
            );
            any = true;
        }
        if self.captures_redacted.total() > 0 {
            line(&mut s, "captures redacted:", &self.captures_redacted.text());
            any = true;
        }
        if !self.adopted_without_creation.is_empty() {
            line(
                &mut s,
                "no creation record:",
                &format!("tids {:?} (parent unknown)", self.adopted_without_creation),
            );
            any = true;
        }
        if !self.creation_inferred.is_empty() {
            line(
                &mut s,
                "creation record inferred:",
                &format!(
                    "tids {:?} (no fork/clone event came)",
                    self.creation_inferred
                ),
            );
            any = true;
        }
        if let Some(f) = &self.filter {
            line(&mut s, "syscall filter:", &format!("only {f} recorded"));
            any = true;
        }
        if !self.attached.is_empty() {
            let first = self
                .attached
                .iter()
                .map(|a| a.1)
                .fold(f64::INFINITY, f64::min);
            line(
                &mut s,
                "before attach:",
                &format!(
                    "{} threads attached from +{}s",
                    self.attached.len(),
                    secs((first * 1e9) as u64)
                ),
            );
            any = true;
        }
        if !self.detached.is_empty() {
            let last = self.detached.iter().map(|a| a.1).fold(0.0, f64::max);
            line(
                &mut s,
                "after detach:",
                &format!(
                    "{} threads detached, the last at +{}s",
                    self.detached.len(),
                    secs((last * 1e9) as u64)
                ),
            );
            any = true;
        }
        if !self.not_detached.is_empty() {
            line(
                &mut s,
                "not detached:",
                &format!("tids {:?}", self.not_detached),
            );
            any = true;
        }
        if !self.running_at_end.is_empty() {
            line(
                &mut s,
                "no recorded end:",
                &format!("tids {:?}", self.running_at_end),
            );
            any = true;
        }
        for a in &self.abnormal_end {
            line(&mut s, "abnormal end:", a);
            any = true;
        }
        if self.end_status.is_none() {
            line(
                &mut s,
                "end:",
                "no end note: rec did not finish the recording",
            );
            any = true;
        }
        if !any {
            s.push_str("  nothing\n");
        }
        let shown: Vec<&Note> = self
            .notes
            .iter()
            .filter(|n| n.kind != "end" && n.kind != "records-dropped")
            .collect();
        if !shown.is_empty() {
            s.push_str("rec's notes:\n");
            for n in shown {
                let _ = writeln!(
                    s,
                    "  +{}s tid {}: {}",
                    secs((n.at * 1e9) as u64),
                    n.tid,
                    note_line(n.kind_nr, n.value, &n.raw)
                );
            }
        }
        let _ = writeln!(s, "verdict:          {}", self.verdict.join("; "));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_one_escaped_line() {
        assert_eq!(
            note_line(note_kind::INFO, 0, b"cannot attach to 7: \x1b[31m"),
            r"+++ rec: info: cannot attach to 7: \33[31m +++"
        );
        assert_eq!(
            note_line(note_kind::END, 3, b""),
            "+++ rec: end, exit status 3 +++"
        );
        assert_eq!(
            note_line(note_kind::RECORDS_DROPPED, 12, b""),
            "+++ rec: 12 records dropped +++"
        );
    }

    #[test]
    fn the_verdict_is_complete_only_without_gaps() {
        let f = Fidelity {
            end_status: Some(0),
            ..Fidelity::default()
        };
        assert_eq!(f.gaps(), vec!["complete".to_string()]);
        let g = Fidelity {
            end_status: None,
            records_dropped: 4,
            ..Fidelity::default()
        };
        assert_eq!(
            g.gaps(),
            vec![
                "4 records dropped".to_string(),
                "no end note (rec did not finish)".to_string()
            ]
        );
    }
}
