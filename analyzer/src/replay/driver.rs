//! The replay driver: strace's printing rules over the call layer.
//!
//! strace prints a syscall's entry part when the entry stop comes and its
//! rest at the exit; when a line of another thread comes in between, the
//! entry part ends in `<unfinished ...>` and the exit prints as
//! `<... name resumed>`. Here each chunk's lines are made in parallel: an
//! entry whose call ends in the same chunk before any other printed line is
//! one line; a call that ends in a later chunk is rendered there, at its
//! exit, when the boundary fix-up has given its entry. The sequential
//! [`Consumer::finish`] then decides whether the line left open at a chunk's
//! end goes on in the next chunk (nothing printed in between) or is cut.

use std::fmt::Write;

use ptrec_format::{Mem, Record, Termination, Tid, Trace};

use ptrec_abi::decode::{self as abi, Part, Style};

use super::finish;
use crate::calls::{
    self, ChunkMeta, Consumer, Entry, Exit, Item, Mode, OwnedEntry, OwnedExit, OwnedMem,
};
use crate::cli::ReplayOpts;
use crate::decode::{signal_name, syscall_name};
use crate::filter::Filter;
use crate::stats::{self, is_error, ScanOptions};
use crate::tree::Tree;

/// `-e status=`: which calls are shown by how they ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Status {
    successful: bool,
    failed: bool,
    unfinished: bool,
}

impl Status {
    const ALL: Status = Status {
        successful: true,
        failed: true,
        unfinished: true,
    };

    fn parse(v: &str) -> anyhow::Result<Status> {
        let (neg, v) = match v.strip_prefix('!') {
            Some(v) => (true, v),
            None => (false, v),
        };
        let mut s = Status::default();
        for w in v.split(',') {
            match w {
                "successful" => s.successful = true,
                "failed" => s.failed = true,
                "unfinished" => s.unfinished = true,
                "all" => s = Status::ALL,
                "none" => {}
                // A trace holds no detached or unavailable returns: selecting
                // them selects nothing.
                "unavailable" | "detached" => {}
                _ => anyhow::bail!("-e status={v}: unknown status {w:?}"),
            }
        }
        if neg {
            s = Status {
                successful: !s.successful,
                failed: !s.failed,
                unfinished: !s.unfinished,
            };
        }
        Ok(s)
    }

    fn shows(&self, ret: Option<i64>) -> bool {
        match ret {
            Some(r) if is_error(r) => self.failed,
            Some(_) => self.successful,
            None => self.unfinished,
        }
    }
}

/// Per-run settings.
struct Ctx<'a> {
    filter: Filter,
    /// `Some` when `-e status=`, `-z` or `-Z` select calls by their result:
    /// each call is then printed whole, once it has ended, as strace does.
    status: Option<Status>,
    pids: Vec<Tid>,
    prefix: bool,
    timestamps: u8,
    durations: bool,
    ip: bool,
    limit: usize,
    tree: &'a Tree,
    /// CLOCK_MONOTONIC -> wall clock, nanoseconds.
    wall_offset: i128,
    /// Local time's offset from UTC, seconds (at the trace's start).
    utc_offset: i64,
}

impl Ctx<'_> {
    /// How the decoders show arguments (`-s`).
    fn style(&self) -> Style<'static> {
        Style {
            string_limit: self.limit,
            ..Style::default()
        }
    }

    fn wanted(&self, tid: Tid, time: u64) -> bool {
        self.pids.is_empty()
            || self.pids.contains(&tid)
            || self.pids.contains(&self.tree.pid_at(tid, time))
    }

    fn shows(&self, e: &Entry<'_>) -> bool {
        self.filter.shows(e.nr) && self.wanted(e.tid, e.time)
    }

    fn head(&self, s: &mut String, tid: Tid, time: u64, ip: Option<u64>) {
        if self.prefix {
            let _ = write!(s, "[pid {tid:>5}] ");
        }
        if self.timestamps > 0 {
            let wall = (time as i128 + self.wall_offset).max(0) as u64;
            let secs = wall / 1_000_000_000;
            let micros = (wall % 1_000_000_000) / 1000;
            if self.timestamps > 2 {
                let _ = write!(s, "{secs}.{micros:06}");
            } else {
                let local = (secs as i64 + self.utc_offset).rem_euclid(86_400);
                let (h, m, sec) = (local / 3600, (local / 60) % 60, local % 60);
                let _ = write!(s, "{h:02}:{m:02}:{sec:02}");
                if self.timestamps > 1 {
                    let _ = write!(s, ".{micros:06}");
                }
            }
            s.push(' ');
        }
        if self.ip {
            match ip {
                Some(ip) => {
                    let _ = write!(s, "[{ip:016x}] ");
                }
                None => s.push_str("[????????????????] "),
            }
        }
    }

    fn dur(&self, s: &mut String, ns: u64) {
        if self.durations {
            let _ = write!(
                s,
                " <{}.{:06}>",
                ns / 1_000_000_000,
                (ns % 1_000_000_000) / 1000
            );
        }
    }
}

/// The line of a call whose entry part is printed and whose rest is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Open {
    tid: Tid,
    /// Byte offset of the line's start in the chunk's text.
    start: usize,
    /// Arguments printed.
    known: usize,
    /// Whether an argument is still to come (`, ` before `<unfinished ...>`).
    more: bool,
    nr: u32,
}

impl Open {
    fn cut(&self) -> &'static str {
        if self.more && self.known > 0 {
            ",  <unfinished ...>\n"
        } else {
            " <unfinished ...>\n"
        }
    }
}

/// A call that ends in this chunk and began in an earlier one, owned until
/// its entry is known.
struct Later {
    /// Where its line goes in the chunk's text.
    at: usize,
    tid: Tid,
    time: u64,
    exit: Option<OwnedExit>,
    /// Whether it is the chunk's first printed line (it may then finish the
    /// line the previous chunk left open).
    first: bool,
}

/// One chunk's lines while it is walked: the entry of the call whose line
/// is not yet printed is kept (borrowed from the chunk) until the call ends
/// (one line) or another line comes first (it is cut).
struct Walk<'a> {
    text: Text,
    /// The entry waiting, and whether its line was already begun.
    cur: Option<Entry<'a>>,
}

/// One chunk's lines.
#[derive(Default)]
struct Text {
    out: String,
    /// Calls resumed from earlier chunks, in their item order (`None`: not printed).
    later: Vec<Option<Later>>,
    /// Whether any line was printed.
    printed: bool,
    /// The line left open at the chunk's end.
    open: Option<Open>,
}

struct Printer<'a> {
    ctx: Ctx<'a>,
    /// The line left open by the chunks printed so far: (thread, entry
    /// syscall, bytes already on its line, cut suffix).
    open: Option<(Tid, u32, usize, &'static str)>,
    /// Chunks the first pass could not read (and said so).
    skipped: Vec<usize>,
    strict: bool,
    trace: String,
}

fn collect<'a>(c: &ptrec_format::Captures<'a>) -> Vec<Mem<'a>> {
    c.iter().collect()
}

impl Printer<'_> {
    /// Before another line is printed: the waiting entry's line is begun
    /// and cut.
    fn interrupt(&self, w: &mut Walk<'_>) {
        if let Some(e) = w.cur.take() {
            let o = self.entry_part(&mut w.text.out, &e);
            w.text.out.push_str(o.cut());
        }
        w.text.printed = true;
    }

    /// `name(args` of an entry, as far as it is known at entry.
    fn entry_part(&self, out: &mut String, e: &Entry<'_>) -> Open {
        let start = out.len();
        self.ctx.head(out, e.tid, e.time, e.ip);
        let enter = collect(&e.mem);
        let call = abi::Call {
            nr: e.nr,
            args: e.args,
            ret: None,
            enter: &enter,
            exit: &[],
        };
        abi::write_call(out, &call, Part::Entry, &self.ctx.style());
        let known = abi::args_known_at_entry(e.nr);
        let more = abi::has_exit_part(e.nr);
        Open {
            tid: e.tid,
            start,
            known,
            more,
            nr: e.nr,
        }
    }

    /// The rest of a call after its entry part: `, rest) = ret <dur>`.
    fn rest(
        &self,
        s: &mut String,
        line_start: usize,
        e: &Entry<'_>,
        x: Option<&Exit<'_>>,
        known: usize,
    ) {
        let Some(x) = x else {
            let name = syscall_name(e.nr);
            if !matches!(&*name, "exit" | "exit_group") {
                s.push_str(" <unfinished ...>");
            }
            s.push(')');
            finish(s, line_start, "?");
            s.push('\n');
            return;
        };
        let enter = collect(&e.mem);
        let exit = collect(&x.mem);
        let call = abi::Call {
            nr: e.nr,
            args: e.args,
            ret: Some(x.ret),
            enter: &enter,
            exit: &exit,
        };
        let mut rest = String::new();
        abi::write_args(&mut rest, &call, Part::Exit, &self.ctx.style());
        if known > 0 && !rest.is_empty() {
            s.push_str(", ");
        }
        s.push_str(&rest);
        s.push(')');
        finish(s, line_start, &abi::return_text(&call, &self.ctx.style()));
        self.ctx.dur(s, x.time.saturating_sub(e.time));
        s.push('\n');
    }

    /// A call printed whole on one line.
    fn whole(&self, s: &mut String, e: &Entry<'_>, x: Option<&Exit<'_>>) {
        let start = s.len();
        self.ctx.head(s, e.tid, e.time, e.ip);
        let enter = collect(&e.mem);
        let exit = x.map(|x| collect(&x.mem)).unwrap_or_default();
        let call = abi::Call {
            nr: e.nr,
            args: e.args,
            ret: x.map(|x| x.ret),
            enter: &enter,
            exit: &exit,
        };
        abi::write_call(s, &call, Part::Whole, &self.ctx.style());
        s.push(')');
        match x {
            Some(x) => {
                finish(s, start, &abi::return_text(&call, &self.ctx.style()));
                self.ctx.dur(s, x.time.saturating_sub(e.time));
            }
            None => finish(s, start, "?"),
        }
        s.push('\n');
    }

    /// `<... name resumed>rest) = ret <dur>`, under the thread that
    /// reported the exit (the leader's tid after a non-leader execve).
    fn resumed_line(
        &self,
        s: &mut String,
        e: Option<&Entry<'_>>,
        tid: Tid,
        time: u64,
        x: Option<&Exit<'_>>,
    ) {
        let start = s.len();
        self.ctx.head(s, tid, time, None);
        let nr = e.map(|e| e.nr).or(x.map(|x| x.nr)).unwrap_or(0);
        let _ = write!(s, "<... {} resumed>", syscall_name(nr));
        match (e, x) {
            (Some(e), Some(x)) => {
                let enter = collect(&e.mem);
                let exit = collect(&x.mem);
                let call = abi::Call {
                    nr,
                    args: e.args,
                    ret: Some(x.ret),
                    enter: &enter,
                    exit: &exit,
                };
                abi::write_args(s, &call, Part::Exit, &self.ctx.style());
                s.push(')');
                finish(s, start, &abi::return_text(&call, &self.ctx.style()));
                self.ctx.dur(s, x.time.saturating_sub(e.time));
            }
            (None, Some(x)) => {
                // The entry is not in the trace: only the result is known.
                let call = abi::Call {
                    nr,
                    args: [0; 6],
                    ret: Some(x.ret),
                    enter: &[],
                    exit: &[],
                };
                s.push(')');
                finish(s, start, &abi::return_text(&call, &self.ctx.style()));
            }
            (_, None) => {
                s.push(')');
                finish(s, start, "?");
            }
        }
        s.push('\n');
    }

    fn call<'a>(&self, w: &mut Walk<'a>, c: &calls::Call<'a>) {
        let e = &c.entry;
        if !self.ctx.shows(e) {
            return;
        }
        if let Some(st) = self.ctx.status {
            if c.end != calls::End::Lost && st.shows(c.exit.map(|x| x.ret)) {
                self.interrupt(w);
                self.whole(&mut w.text.out, e, c.exit.as_ref());
            }
            return;
        }
        if c.end == calls::End::Lost {
            // No exit will come: the next printed line cuts it.
            return;
        }
        let x = c.exit.as_ref();
        let exit_tid = x.map_or(e.tid, |x| x.tid);
        match w.cur {
            Some(cur) if cur.tid == e.tid && exit_tid == e.tid => {
                w.cur = None;
                w.text.printed = true;
                let name = syscall_name(e.nr);
                if x.is_none() && !matches!(&*name, "exit" | "exit_group") {
                    // Killed inside the call.
                    let o = self.entry_part(&mut w.text.out, e);
                    self.rest(&mut w.text.out, o.start, e, None, o.known);
                } else {
                    self.whole(&mut w.text.out, e, x);
                }
            }
            _ => {
                self.interrupt(w);
                let time = x.map_or(e.time, |x| x.time);
                self.resumed_line(&mut w.text.out, Some(e), exit_tid, time, x);
            }
        }
    }

    fn event(&self, w: &mut Walk<'_>, r: &Record<'_>) {
        let tid = r.tid();
        let time = r.time();
        if !self.ctx.wanted(tid, time) {
            return;
        }
        let mut line = String::new();
        match *r {
            Record::SignalDelivery { signo, siginfo, .. } => {
                let _ = write!(
                    line,
                    "--- {} {} ---",
                    signal_name(signo),
                    abi::siginfo_text(signo, siginfo)
                );
            }
            Record::GroupStop { signo, .. } => {
                let _ = write!(line, "--- stopped by {} ---", signal_name(signo));
            }
            Record::Death { how, .. } => match how {
                Termination::Exited(c) => {
                    let _ = write!(line, "+++ exited with {c} +++");
                }
                Termination::Signaled { signo, core } => {
                    let _ = write!(
                        line,
                        "+++ killed by {}{} +++",
                        signal_name(signo),
                        if core { " (core dumped)" } else { "" }
                    );
                }
            },
            Record::Detach { .. } => line.push_str("+++ detached +++"),
            Record::Exec { former_tid, .. } if former_tid != tid => {
                // strace: the execve of a non-leader thread resumes in the
                // leader's tid; the leader's own line says so.
                let _ = write!(line, "+++ superseded by execve in pid {former_tid} +++");
            }
            // rec's notes, but the end (its status is the root's exit line).
            Record::Note {
                kind, value, text, ..
            } if kind != ptrec_format::note_kind::END => {
                line.push_str(&crate::fidelity::note_line(kind, value, text));
            }
            _ => return,
        }
        self.interrupt(w);
        self.ctx.head(&mut w.text.out, tid, time, None);
        w.text.out.push_str(&line);
        w.text.out.push('\n');
    }
}

impl Consumer for Printer<'_> {
    type Part<'a> = Walk<'a>;
    type Sealed = Text;

    fn part<'a>(&self, _index: usize) -> Self::Part<'a> {
        Walk {
            text: Text::default(),
            cur: None,
        }
    }

    fn item<'a>(&self, w: &mut Walk<'a>, item: Item<'_, 'a>) {
        match item {
            Item::Enter(e) => {
                if self.ctx.status.is_none() && self.ctx.shows(e) {
                    self.interrupt(w);
                    w.cur = Some(*e);
                }
            }
            Item::Call(c) => self.call(w, c),
            Item::Resumed(r) => {
                // The entry decides whether it is shown; it is known only in
                // `finish`. An exit's syscall number is a first filter.
                if r.exit.is_some_and(|x| !self.ctx.filter.shows(x.nr))
                    || !self.ctx.wanted(r.tid, r.time)
                {
                    w.text.later.push(None);
                    return;
                }
                let first = !w.text.printed;
                if self.ctx.status.is_none() {
                    self.interrupt(w);
                }
                w.text.printed = true;
                w.text.later.push(Some(Later {
                    at: w.text.out.len(),
                    tid: r.tid,
                    time: r.time,
                    exit: r.exit.as_ref().map(OwnedExit::of),
                    first,
                }));
            }
            Item::Event(r) => self.event(w, r),
        }
    }

    fn seal(&self, mut w: Walk<'_>) -> Text {
        // A call still open at the chunk's end: its entry part now; the next
        // chunks finish or cut the line.
        if let Some(e) = w.cur.take() {
            let o = self.entry_part(&mut w.text.out, &e);
            w.text.open = Some(o);
            w.text.printed = true;
        }
        w.text
    }

    fn finish(
        &mut self,
        _meta: &ChunkMeta,
        t: Text,
        entries: &[Option<OwnedEntry>],
    ) -> anyhow::Result<()> {
        let mut s = String::with_capacity(t.out.len() + 64);
        let mut open = self.open.take();
        // The line the previous chunks left open goes on here when this
        // chunk's first printed line is that call's end; else it is cut.
        let join = open.and_then(|(tid, nr, _, _)| {
            t.later.iter().zip(entries).position(|(l, e)| {
                l.as_ref().is_some_and(|l| l.first && l.tid == tid)
                    && e.as_ref().is_some_and(|e| e.tid == tid && e.nr == nr)
            })
        });
        if t.printed && join.is_none() {
            if let Some((_, _, _, cut)) = open.take() {
                s.push_str(cut);
            }
        }
        let mut done = 0;
        for (k, (l, e)) in t.later.iter().zip(entries).enumerate() {
            let Some(l) = l else { continue };
            s.push_str(&t.out[done..l.at]);
            done = l.at;
            let ent_mem = e.as_ref().map(|e| OwnedMem::borrow(&e.mem));
            let entry = match (e, &ent_mem) {
                (Some(e), Some(m)) => Some(e.entry(m)),
                _ => None,
            };
            let exit_mem = l.exit.as_ref().map(|x| OwnedMem::borrow(&x.mem));
            let exit = match (&l.exit, &exit_mem) {
                (Some(x), Some(m)) => Some(x.exit(m)),
                _ => None,
            };
            if entry.is_some_and(|e| !self.ctx.filter.shows(e.nr))
                || (entry.is_none() && exit.is_none())
            {
                // Filtered out, or a death with no call open.
                continue;
            }
            match (self.ctx.status, entry) {
                (Some(st), Some(e)) => {
                    if st.shows(exit.map(|x| x.ret)) {
                        self.whole(&mut s, &e, exit.as_ref());
                    }
                }
                (Some(_), None) => {}
                (None, entry) => match (join == Some(k), entry, open.take()) {
                    (true, Some(e), Some((_, _, width, _))) => {
                        // Padded as if the line were one string.
                        let mut line = " ".repeat(width);
                        self.rest(
                            &mut line,
                            0,
                            &e,
                            exit.as_ref(),
                            abi::args_known_at_entry(e.nr),
                        );
                        s.push_str(&line[width..]);
                    }
                    (_, entry, o) => {
                        open = o;
                        self.resumed_line(&mut s, entry.as_ref(), l.tid, l.time, exit.as_ref());
                    }
                },
            }
        }
        s.push_str(&t.out[done..]);
        self.open = match t.open {
            Some(o) => Some((o.tid, o.nr, t.out.len() - o.start, o.cut())),
            None if t.printed => None,
            None => open,
        };
        crate::out(&s)
    }

    fn skipped(&mut self, index: usize, reason: &str) -> anyhow::Result<()> {
        if let Some((_, _, _, cut)) = self.open.take() {
            crate::out(cut)?;
        }
        if self.strict {
            anyhow::bail!("{}: chunk {index}: {reason}", self.trace);
        }
        // The first pass warned of the chunks it could not read; the detail
        // stream, which only this pass decodes, can fail on its own.
        if !self.skipped.contains(&index) {
            eprintln!(
                "warning: {}: chunk {index} skipped: {reason}; the other chunks are shown",
                self.trace
            );
        }
        Ok(())
    }

    fn end(&mut self, _open: Vec<OwnedEntry>) -> anyhow::Result<()> {
        if let Some((_, _, _, cut)) = self.open.take() {
            crate::out(cut)?;
        }
        Ok(())
    }
}

/// Local time's offset from UTC at `wall_ns`, in seconds.
fn utc_offset(wall_ns: u64) -> i64 {
    let t = (wall_ns / 1_000_000_000) as libc::time_t;
    // SAFETY: localtime_r only reads `t` and writes the `tm` we own; an
    // all-zero `tm` is a valid value of the plain C struct.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            0
        } else {
            tm.tm_gmtoff
        }
    }
}

pub fn run(t: &Trace, opts: &ReplayOpts, strict: bool) -> anyhow::Result<()> {
    let mut exprs = Vec::new();
    let mut status = None;
    for e in &opts.expr {
        match e.split_once('=') {
            Some(("status", v)) => status = Some(Status::parse(v)?),
            _ => exprs.push(e.clone()),
        }
    }
    if opts.failed_only {
        status = Some(Status {
            failed: true,
            ..Status::default()
        });
    }
    if opts.successful_only {
        status = Some(Status {
            successful: true,
            ..Status::default()
        });
    }
    let filter = Filter::parse(&exprs)?;
    // A first pass for the processes (-p, and whether to prefix pids).
    let so = ScanOptions {
        strict,
        ..ScanOptions::default()
    };
    let p = stats::scan(t, &so)?;
    let tree = Tree::build(&p.events, &p.spans, &crate::command(t));
    let h = t.header();
    let ctx = Ctx {
        filter,
        status,
        pids: opts.pids.clone(),
        prefix: p.spans.len() > 1,
        timestamps: opts.timestamps,
        limit: opts.string_limit,
        durations: opts.durations,
        ip: opts.instruction_pointer,
        tree: &tree,
        wall_offset: i128::from(h.start_wall_ns) - i128::from(h.start_mono_ns),
        utc_offset: utc_offset(h.start_wall_ns),
    };
    let mut pr = Printer {
        ctx,
        open: None,
        skipped: p.skipped.iter().map(|k| k.chunk).collect(),
        strict,
        trace: t.path().display().to_string(),
    };
    calls::run(t, Mode::Full, &mut pr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_sets_parse_as_strace_takes_them() {
        let s = Status::parse("failed").unwrap();
        assert!(s.shows(Some(-2)) && !s.shows(Some(0)) && !s.shows(None));
        let s = Status::parse("!failed").unwrap();
        assert!(!s.shows(Some(-2)) && s.shows(Some(3)) && s.shows(None));
        let s = Status::parse("successful,unfinished").unwrap();
        assert!(s.shows(Some(0)) && s.shows(None) && !s.shows(Some(-1)));
        assert!(Status::parse("bogus").is_err());
    }

    #[test]
    fn an_open_line_is_cut_with_a_comma_only_when_arguments_follow() {
        let o = Open {
            tid: 1,
            start: 0,
            known: 1,
            more: true,
            nr: 0,
        };
        assert_eq!(o.cut(), ",  <unfinished ...>\n");
        let o = Open { known: 0, ..o };
        assert_eq!(o.cut(), " <unfinished ...>\n");
    }
}
