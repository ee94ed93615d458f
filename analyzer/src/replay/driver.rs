//! The replay driver: strace's printing rules over the call layer.
//!
//! strace prints a syscall's entry part when the entry stop comes and its
//! rest at the exit; when a line of another thread comes in between, the
//! entry part ends in `<unfinished ...>` and the exit prints as
//! `<... name resumed>`. Here each chunk's lines are made in parallel: an
//! entry whose call ends in the same chunk before any other printed line is
//! one line; a call that ends in a later chunk is rendered there, at its
//! exit, when the boundary fix-up has given its entry. The sequential
//! [`Merge::finish`](crate::calls::Merge::finish) then decides whether the line left open at a chunk's
//! end goes on in the next chunk (nothing printed in between) or is cut.

use std::fmt::Write;

use ptrec_format::{Mem, Record, Termination, Tid, Trace};

use ptrec_abi::decode::{self as abi, FdResolver, FdStyle, NoFds, Part, Style};

use super::{finish, pad};
use crate::calls::{self, ChunkMeta, Entry, Exit, Item, Mode, OwnedEntry, OwnedExit};
use crate::cli::ReplayOpts;
use crate::decode::signal_name;
use crate::filter::Filter;
use crate::procs::{self, ChunkStarts, Procs};
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
    /// The trace's architecture (for what has no entry to say it).
    arch: ptrec_abi::Arch,
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
    /// The processes, when `-p` or `--json` asks for them (a text replay
    /// without `-p` reads no tree first: this one is then empty).
    tree: &'a Tree,
    /// CLOCK_MONOTONIC -> wall clock, nanoseconds.
    wall_offset: i128,
    /// Local time's offset from UTC, seconds (at the trace's start).
    utc_offset: i64,
    /// `--json`: NDJSON objects, each call once it has ended.
    json: bool,
    /// `-y` or `-yy`.
    fd_style: FdStyle,
}

impl Ctx<'_> {
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
            // `[pid {tid:>5}] `.
            s.push_str("[pid ");
            ptrec_abi::text::push_right(s, tid, 5);
            s.push_str("] ");
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
    end: calls::End,
    /// Whether it is the chunk's first printed line (it may then finish the
    /// line the previous chunk left open).
    first: bool,
    /// `-y`: made during the walk, with the descriptors of that moment: the
    /// rest that finishes an open line, and the whole resumed line.
    pre: Option<Pre>,
}

/// A resumed call rendered during the walk (`-y`), in the pieces `finish`
/// chooses from.
#[derive(Default)]
struct Pre {
    /// `, args)` after the entry part, when it finishes the open line.
    rest_args: String,
    ret: String,
    dur: String,
    /// `<... name resumed>...` whole line.
    resumed: String,
    /// The call on one line (`-e status=`).
    whole: String,
}

/// One chunk's lines while it is walked: the entry of the call whose line
/// is not yet printed is kept (borrowed from the chunk) until the call ends
/// (one line) or another line comes first (it is cut).
struct Walk<'a> {
    text: Text,
    /// The entry waiting, and whether its line was already begun.
    cur: Option<Entry<'a>>,
    /// `-y`: the descriptor tables, from the chunk's start.
    state: Option<Procs>,
    /// `-y`: the entries the chunk's resumed items end (from the first pass).
    known: Vec<Option<OwnedEntry>>,
    /// Resumed items seen.
    resumed: usize,
    /// Threads whose last call returned ERESTART_RESTARTBLOCK, with that
    /// call's number: the restart_syscall that follows resumes it. Known
    /// within the chunk (a restart_syscall whose interrupted call lies in
    /// an earlier chunk shows `system call`, as strace attached late does).
    restart: Vec<(Tid, u32)>,
    /// `--json`: the buffers each call is written with.
    json: super::json::Scratch,
}

/// ERESTART_RESTARTBLOCK: the call is resumed by restart_syscall.
const ERESTART_RESTARTBLOCK: i64 = -516;

impl Walk<'_> {
    /// What `e` resumes, if it is a restart_syscall.
    fn interrupted(&self, e: &Entry<'_>) -> Option<u32> {
        if self.restart.is_empty() {
            return None;
        }
        let (_, nr) = self.restart.iter().find(|(t, _)| *t == e.tid)?;
        (e.name() == "restart_syscall").then_some(*nr)
    }

    /// After call `e` ended with `ret`: what a restart_syscall of its
    /// thread resumes from now on.
    fn ended(&mut self, e: &Entry<'_>, ret: Option<i64>) {
        if ret == Some(ERESTART_RESTARTBLOCK) {
            self.restart.retain(|(t, _)| *t != e.tid);
            self.restart.push((e.tid, e.nr));
        } else if !self.restart.is_empty() && e.name() == "restart_syscall" {
            self.restart.retain(|(t, _)| *t != e.tid);
        }
    }
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
    /// The chunk's first printed line is the leader's `superseded by
    /// execve` of (former tid, new tid): a line left open by the former
    /// says the pid changes.
    exec_first: Option<(Tid, Tid)>,
}

/// The parallel half of the replay: formats each chunk's lines.
struct Printer<'a> {
    ctx: Ctx<'a>,
    /// `-y`: per chunk of the current window (from `window_first`), the
    /// descriptor tables at its start and its resumed items' entries.
    window: Vec<procs::Start>,
    window_first: usize,
    /// The text buffers of chunks already written, for the next chunks:
    /// a fresh one is page after page the kernel clears and the walk
    /// then fills (a JSON replay's chunk is megabytes).
    spare: calls::Spare<String>,
}

/// The sequential half's state: what joins the chunks' texts.
struct Join {
    /// The line left open by the chunks printed so far: (thread, entry
    /// syscall, bytes already on its line, cut suffix).
    open: Option<(Tid, u32, usize, &'static str)>,
    /// Chunks the first pass could not read (and said so).
    skipped: Vec<usize>,
    strict: bool,
    trace: String,
    /// `--json`: the buffers of the calls written as chunks are joined.
    json: super::json::Scratch,
    /// `-y`: the descriptor tables at the trace's end, for the calls it
    /// ends inside.
    state: Option<Procs>,
}

/// The sequential half: writes the chunks' texts in order, with the lines
/// their boundaries joined. With more than one thread it runs on a thread
/// of its own while the next chunks are formatted
/// ([`calls::Stream::chunks_split`]).
struct Joiner<'p, 'a> {
    p: &'p Printer<'a>,
    j: &'p mut Join,
}

/// A stop's captures as a slice: on the stack when there are few (most
/// calls have none or one or two), so a line costs no allocation.
pub(super) enum Mems<'a> {
    Few(usize, [Mem<'a>; 4]),
    Many(Vec<Mem<'a>>),
}

const NO_MEM: Mem<'static> = Mem {
    arg: 0,
    flags: 0,
    addr: 0,
    data: &[],
    redacted: None,
};

impl<'a> std::ops::Deref for Mems<'a> {
    type Target = [Mem<'a>];
    fn deref(&self) -> &[Mem<'a>] {
        match self {
            Mems::Few(n, a) => &a[..*n],
            Mems::Many(v) => v,
        }
    }
}

pub(super) fn collect<'a>(c: &ptrec_format::Captures<'a>) -> Mems<'a> {
    let n = c.len();
    if n > 4 {
        return Mems::Many(c.iter().collect());
    }
    let mut a = [NO_MEM; 4];
    let mut k = 0;
    for (slot, m) in a.iter_mut().zip(c.iter()) {
        *slot = m;
        k += 1;
    }
    Mems::Few(k, a)
}

/// `-y`: what the calling process's descriptors refer to when its
/// arguments are shown (before the call), and what its returned
/// descriptor refers to (after it).
#[derive(Clone, Copy)]
struct Fds<'r> {
    args: Option<&'r dyn FdResolver>,
    ret: Option<&'r dyn FdResolver>,
    /// A restart_syscall's interrupted call ([`Style::interrupted`]).
    interrupted: Option<u32>,
}

impl Fds<'_> {
    const NONE: Fds<'static> = Fds {
        args: None,
        ret: None,
        interrupted: None,
    };
}

/// What the descriptors of thread `.1` refer to, for the decoders; `.2`
/// names those the call made, as they are after it (pipe's pair, shown
/// with the call's arguments), and `.3` holds what `rec -yy` read of them.
struct Of<'a>(&'a Procs, Tid, &'a Made);

/// What rec read at a call's exit about the descriptors it made
/// ([`procs::made_names`], [`procs::made_details`]).
struct Made {
    names: Vec<(i32, Vec<u8>)>,
    details: Vec<(i32, Vec<u8>)>,
}

/// A call that made no descriptors.
static NO_FDS_MADE: Made = Made {
    names: Vec::new(),
    details: Vec::new(),
};

impl Made {
    fn of(x: Option<&Exit<'_>>) -> Made {
        Made {
            names: procs::made_names(x),
            details: procs::made_details(x),
        }
    }

    /// `fd`'s `-yy` detail in a second `<...>` (a device's numbers).
    fn detail(&self, fd: i32) -> Option<&[u8]> {
        procs::made_fd_name(&self.details, fd, true).filter(|d| procs::detail_follows_name(d))
    }
}

impl FdResolver for Of<'_> {
    fn describe(&self, fd: i32, full: bool) -> Option<abi::FdDesc<'_>> {
        let made = &self.2;
        // Only of the descriptors the call made: the arguments of a
        // connect or bind are shown as they were before it, as strace
        // shows them.
        let socket = (full && made.names.iter().any(|(f, _)| *f == fd))
            .then(|| procs::made_fd_name(&made.details, fd, true))
            .flatten()
            .filter(|d| !procs::detail_follows_name(d));
        let (path, detail, deleted) =
            match socket.or_else(|| procs::made_fd_name(&made.names, fd, full)) {
                Some(n) => (std::borrow::Cow::Borrowed(n), made.detail(fd), false),
                None => (
                    self.0.fd_name(self.1, fd, full)?,
                    self.0.fd_detail(self.1, fd),
                    self.0.fd_deleted(self.1, fd),
                ),
            };
        Some(abi::FdDesc {
            path,
            detail: detail.filter(|_| full).map(String::from_utf8_lossy),
            deleted,
        })
    }
}

/// The descriptor a call returned, named as it is after the call, with
/// its `-yy` detail.
struct RetFd<'a>(i32, &'a [u8], Option<&'a [u8]>);

impl FdResolver for RetFd<'_> {
    fn describe(&self, fd: i32, full: bool) -> Option<abi::FdDesc<'_>> {
        (fd == self.0).then_some(abi::FdDesc {
            path: std::borrow::Cow::Borrowed(self.1),
            detail: self.2.filter(|_| full).map(String::from_utf8_lossy),
            deleted: false,
        })
    }
}

impl Printer<'_> {
    /// Before another line is printed: the waiting entry's line is begun
    /// and cut.
    fn interrupt(&self, w: &mut Walk<'_>) {
        if let Some(e) = w.cur.take() {
            let of = w.state.as_ref().map(|st| Of(st, e.tid, &NO_FDS_MADE));
            let fds = Fds {
                args: of.as_ref().map(|o| o as &dyn FdResolver),
                ret: None,
                interrupted: w.interrupted(&e),
            };
            let o = self.entry_part(&mut w.text.out, &e, fds);
            w.text.out.push_str(o.cut());
        }
        w.text.printed = true;
    }

    /// How the decoders show a call, with `-y` what `fds` resolves.
    fn style<'r>(&self, fds: Option<&'r dyn FdResolver>) -> Style<'r> {
        self.style_of(fds, None)
    }

    /// [`Printer::style`] for a call that may be a restart_syscall.
    fn style_of<'r>(&self, fds: Option<&'r dyn FdResolver>, interrupted: Option<u32>) -> Style<'r> {
        Style {
            string_limit: self.ctx.limit,
            fds: if fds.is_some() {
                self.ctx.fd_style
            } else {
                FdStyle::Plain
            },
            resolver: fds.unwrap_or(&NoFds),
            utc_offset: self.ctx.utc_offset,
            interrupted,
        }
    }

    /// `--json`: how the arguments and the return value are shown.
    fn styles<'r>(&self, fds: Fds<'r>) -> super::json::Styles<'r> {
        super::json::Styles {
            args: self.style_of(fds.args, fds.interrupted),
            ret: self.style(fds.ret),
        }
    }

    /// `name(args` of an entry, as far as it is known at entry.
    fn entry_part(&self, out: &mut String, e: &Entry<'_>, fds: Fds<'_>) -> Open {
        let start = out.len();
        self.ctx.head(out, e.tid, e.time, e.ip);
        let enter = collect(&e.mem);
        let call = abi::Call {
            arch: e.arch,
            nr: e.nr,
            args: e.args,
            ret: None,
            enter: &enter,
            exit: &[],
        };
        abi::write_call(
            out,
            &call,
            Part::Entry,
            &self.style_of(fds.args, fds.interrupted),
        );
        Open {
            tid: e.tid,
            start,
            known: abi::args_known_at_entry(e.arch, e.nr),
            more: abi::has_exit_part(e.arch, e.nr),
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
        fds: Fds<'_>,
    ) {
        let Some(x) = x else {
            if exit_part_lost(e.arch, e.nr) {
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
            arch: e.arch,
            nr: e.nr,
            args: e.args,
            ret: Some(x.ret),
            enter: &enter,
            exit: &exit,
        };
        let mut rest = String::new();
        abi::write_args(&mut rest, &call, Part::Exit, &self.style(fds.args));
        // A rest that brings its own separator (clone3's ` => {...}`) gets none.
        if known > 0 && !rest.is_empty() && !rest.starts_with(' ') {
            s.push_str(", ");
        }
        s.push_str(&rest);
        s.push(')');
        finish(
            s,
            line_start,
            &abi::return_text(&call, &self.style(fds.ret)),
        );
        self.ctx.dur(s, x.time.saturating_sub(e.time));
        s.push('\n');
    }

    /// A call printed whole on one line.
    fn whole(&self, s: &mut String, e: &Entry<'_>, x: Option<&Exit<'_>>, fds: Fds<'_>) {
        let start = s.len();
        self.ctx.head(s, e.tid, e.time, e.ip);
        let enter = collect(&e.mem);
        let exit = x.map_or(Mems::Few(0, [NO_MEM; 4]), |x| collect(&x.mem));
        let call = abi::Call {
            arch: e.arch,
            nr: e.nr,
            args: e.args,
            ret: x.map(|x| x.ret),
            enter: &enter,
            exit: &exit,
        };
        abi::write_call(
            s,
            &call,
            Part::Whole,
            &self.style_of(fds.args, fds.interrupted),
        );
        s.push(')');
        match x {
            Some(x) => {
                pad(s, start);
                abi::write_return(s, &call, &self.style(fds.ret));
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
        fds: Fds<'_>,
    ) {
        let start = s.len();
        self.ctx.head(s, tid, time, None);
        let nr = e.map(|e| e.nr).or(x.map(|x| x.nr)).unwrap_or(0);
        let _ = write!(s, "<... {} resumed>", self.ctx.arch.syscall_name(nr));
        match (e, x) {
            (Some(e), Some(x)) => {
                let enter = collect(&e.mem);
                let exit = collect(&x.mem);
                let call = abi::Call {
                    arch: self.ctx.arch,
                    nr,
                    args: e.args,
                    ret: Some(x.ret),
                    enter: &enter,
                    exit: &exit,
                };
                abi::write_args(s, &call, Part::Exit, &self.style(fds.args));
                s.push(')');
                finish(s, start, &abi::return_text(&call, &self.style(fds.ret)));
                self.ctx.dur(s, x.time.saturating_sub(e.time));
            }
            (None, Some(x)) => {
                // The entry is not in the trace: only the result is known.
                let call = abi::Call {
                    arch: self.ctx.arch,
                    nr,
                    args: [0; 6],
                    ret: Some(x.ret),
                    enter: &[],
                    exit: &[],
                };
                s.push(')');
                finish(s, start, &abi::return_text(&call, &self.style(None)));
            }
            (_, None) => {
                if exit_part_lost(self.ctx.arch, nr) {
                    s.push_str(" <unfinished ...>");
                }
                s.push(')');
                finish(s, start, "?");
            }
        }
        s.push('\n');
    }

    /// `-y`: a resumed call's pieces with the descriptors of this moment;
    /// the call's effect on them is applied. A call that did not return
    /// (`x` is `None`) is shown only whole (JSON, `-e status=`): the line
    /// that ends it names no descriptor.
    fn pre_render(
        &self,
        w: &mut Walk<'_>,
        e: &OwnedEntry,
        r: &calls::Resumed<'_>,
        x: Option<&Exit<'_>>,
    ) -> Pre {
        let e = e.entry();
        let full = self.ctx.fd_style == FdStyle::Full;
        let made = x.and_then(|x| ret_name(w.state.as_mut(), &e, x, full));
        let names = Made::of(x);
        let of = w.state.as_ref().map(|st| Of(st, e.tid, &names));
        let ret = x.map_or(-1, |x| x.ret as i32);
        let rf = made.as_ref().map(|(n, d)| RetFd(ret, n, d.as_deref()));
        let fds = Fds {
            args: of.as_ref().map(|o| o as &dyn FdResolver),
            ret: rf.as_ref().map(|r| r as &dyn FdResolver),
            interrupted: None,
        };
        let x = match x {
            Some(x) if !self.ctx.json => x,
            _ => {
                let mut whole = String::new();
                if self.ctx.json {
                    let pid = self.ctx.tree.pid_at(e.tid, e.time);
                    let styles = self.styles(fds);
                    super::json::call(&mut whole, &mut w.json, pid, &e, x, r.end, styles);
                } else {
                    self.whole(&mut whole, &e, None, fds);
                }
                if let (Some(st), Some(x)) = (w.state.as_mut(), x) {
                    procs::apply_call(st, &e, x, &mut Vec::new());
                }
                return Pre {
                    whole,
                    ..Pre::default()
                };
            }
        };
        let enter = collect(&e.mem);
        let exit = collect(&x.mem);
        let call = abi::Call {
            arch: e.arch,
            nr: e.nr,
            args: e.args,
            ret: Some(x.ret),
            enter: &enter,
            exit: &exit,
        };
        let known = abi::args_known_at_entry(e.arch, e.nr);
        let mut rest = String::new();
        abi::write_args(&mut rest, &call, Part::Exit, &self.style(fds.args));
        let mut rest_args = String::new();
        if known > 0 && !rest.is_empty() && !rest.starts_with(' ') {
            rest_args.push_str(", ");
        }
        rest_args.push_str(&rest);
        rest_args.push(')');
        let ret = abi::return_text(&call, &self.style(fds.ret));
        let mut dur = String::new();
        self.ctx.dur(&mut dur, x.time.saturating_sub(e.time));
        let mut resumed = String::new();
        self.resumed_line(&mut resumed, Some(&e), r.tid, r.time, Some(x), fds);
        let mut whole = String::new();
        self.whole(&mut whole, &e, Some(x), fds);
        if let Some(st) = w.state.as_mut() {
            procs::apply_call(st, &e, x, &mut Vec::new());
        }
        Pre {
            rest_args,
            ret,
            dur,
            resumed,
            whole,
        }
    }

    fn call<'a>(&self, w: &mut Walk<'a>, c: &calls::Call<'a>) {
        let e = &c.entry;
        let x = c.exit.as_ref();
        let full = self.ctx.fd_style == FdStyle::Full;
        let made = x.and_then(|x| ret_name(w.state.as_mut(), e, x, full));
        let made = made.as_ref().map(|(n, d)| (n.as_slice(), d.as_deref()));
        self.show_call(w, c, made);
        w.ended(e, x.map(|x| x.ret));
        if let (Some(st), Some(x)) = (w.state.as_mut(), x) {
            procs::apply_call(st, e, x, &mut Vec::new());
        }
    }

    /// `made`: the returned descriptor's name and `-yy` detail ([`ret_name`]).
    fn show_call<'a>(
        &self,
        w: &mut Walk<'a>,
        c: &calls::Call<'a>,
        made: Option<(&[u8], Option<&[u8]>)>,
    ) {
        let e = &c.entry;
        if !self.ctx.shows(e) {
            return;
        }
        // A call shown whole: JSON, and `-e status=` (which shows neither
        // a lost call nor, by then, the line of another call begun).
        let json = self.ctx.json;
        if json || self.ctx.status.is_some() {
            let shown = self
                .ctx
                .status
                .is_none_or(|st| st.shows(c.exit.map(|x| x.ret)))
                && (json || c.end != calls::End::Lost);
            if !shown {
                return;
            }
            if !json {
                self.interrupt(w);
            }
            let names = Made::of(c.exit.as_ref());
            let of = w.state.as_ref().map(|st| Of(st, e.tid, &names));
            let ret = c.exit.map_or(-1, |x| x.ret as i32);
            let rf = made.map(|(n, d)| RetFd(ret, n, d));
            let fds = Fds {
                args: of.as_ref().map(|o| o as &dyn FdResolver),
                ret: rf.as_ref().map(|r| r as &dyn FdResolver),
                interrupted: w.interrupted(e),
            };
            if json {
                let pid = self.ctx.tree.pid_at(e.tid, e.time);
                super::json::call(
                    &mut w.text.out,
                    &mut w.json,
                    pid,
                    e,
                    c.exit.as_ref(),
                    c.end,
                    self.styles(fds),
                );
                w.text.printed = true;
            } else {
                self.whole(&mut w.text.out, e, c.exit.as_ref(), fds);
            }
            return;
        }
        if c.end == calls::End::Lost {
            // No exit will come: the next printed line cuts it.
            return;
        }
        let x = c.exit.as_ref();
        let exit_tid = x.map_or(e.tid, |x| x.tid);
        let one_line = w
            .cur
            .is_some_and(|cur| cur.tid == e.tid && exit_tid == e.tid);
        if one_line {
            w.cur = None;
        } else {
            self.interrupt(w);
        }
        w.text.printed = true;
        let names = Made::of(x);
        let of = w.state.as_ref().map(|st| Of(st, e.tid, &names));
        let ret = x.map_or(-1, |x| x.ret as i32);
        let rf = made.map(|(n, d)| RetFd(ret, n, d));
        let fds = Fds {
            args: of.as_ref().map(|o| o as &dyn FdResolver),
            ret: rf.as_ref().map(|r| r as &dyn FdResolver),
            interrupted: w.interrupted(e),
        };
        let out = &mut w.text.out;
        if one_line {
            let name = e.name();
            if x.is_none() && !matches!(&*name, "exit" | "exit_group") {
                // Killed inside the call.
                let o = self.entry_part(out, e, fds);
                self.rest(out, o.start, e, None, o.known, fds);
            } else {
                self.whole(out, e, x, fds);
            }
        } else {
            let time = x.map_or(e.time, |x| x.time);
            self.resumed_line(out, Some(e), exit_tid, time, x, fds);
        }
    }

    fn event(&self, w: &mut Walk<'_>, r: &Record<'_>) {
        self.show_event(w, r);
        if let (Some(st), Some(op)) = (w.state.as_mut(), procs::event_op(r)) {
            st.apply(&op);
        }
    }

    fn show_event(&self, w: &mut Walk<'_>, r: &Record<'_>) {
        let tid = r.tid();
        let time = r.time();
        if !self.ctx.wanted(tid, time) {
            return;
        }
        if self.ctx.json {
            if let Some(v) = super::json::event(self.ctx.arch, self.ctx.tree.pid_at(tid, time), r) {
                w.text.out.push_str(&v.to_string());
                w.text.out.push('\n');
                w.text.printed = true;
            }
            return;
        }
        let mut line = String::new();
        match *r {
            Record::SignalDelivery { signo, siginfo, .. } => {
                let _ = write!(
                    line,
                    "--- {} {} ---",
                    signal_name(signo),
                    abi::siginfo_text(self.ctx.arch, signo, siginfo)
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
        match (r, w.cur) {
            // strace: the execve line of a non-leader thread, still open,
            // says the pid changes; the leader's line follows.
            (Record::Exec { former_tid, .. }, Some(cur))
                if cur.tid == *former_tid && tid != *former_tid =>
            {
                w.cur = None;
                let of = w.state.as_ref().map(|st| Of(st, cur.tid, &NO_FDS_MADE));
                let fds = Fds {
                    args: of.as_ref().map(|o| o as &dyn FdResolver),
                    ret: None,
                    interrupted: w.interrupted(&cur),
                };
                self.entry_part(&mut w.text.out, &cur, fds);
                let _ = writeln!(w.text.out, " <pid changed to {tid} ...>");
                w.text.printed = true;
            }
            _ => {
                if let Record::Exec { former_tid, .. } = r {
                    if !w.text.printed && w.cur.is_none() {
                        w.text.exec_first = Some((*former_tid, tid));
                    }
                }
                self.interrupt(w)
            }
        }
        self.ctx.head(&mut w.text.out, tid, time, None);
        w.text.out.push_str(&line);
        w.text.out.push('\n');
    }
}

impl crate::calls::Walk for Printer<'_> {
    type Part<'a> = Walk<'a>;
    type Sealed = Text;

    fn part<'a>(&self, index: usize) -> Self::Part<'a> {
        let w = index
            .checked_sub(self.window_first)
            .and_then(|k| self.window.get(k));
        Walk {
            text: Text {
                out: self.spare.take(),
                ..Text::default()
            },
            cur: None,
            state: w.map(|w| w.0.clone()),
            known: w.map(|w| w.1.clone()).unwrap_or_default(),
            resumed: 0,
            restart: Vec::new(),
            json: super::json::Scratch::default(),
        }
    }

    fn item<'a>(&self, w: &mut Walk<'a>, item: Item<'_, 'a>) {
        match item {
            Item::Enter(e) => {
                if self.ctx.status.is_none() && !self.ctx.json && self.ctx.shows(e) {
                    self.interrupt(w);
                    w.cur = Some(*e);
                }
            }
            Item::Call(c) => self.call(w, c),
            Item::Resumed(r) => {
                let known = w.known.get(w.resumed).cloned().flatten();
                w.resumed += 1;
                // One that did not return is shown with its descriptors only
                // whole; its `<... resumed>` line shows none.
                let whole = self.ctx.json || self.ctx.status.is_some();
                let pre = match (&known, r.exit.as_ref()) {
                    (Some(e), x) if x.is_some() || whole => Some(self.pre_render(w, e, r, x)),
                    _ => None,
                };
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
                    end: r.end,
                    first,
                    pre,
                }));
            }
            Item::Event(r) => self.event(w, r),
        }
    }

    fn seal(&self, mut w: Walk<'_>) -> Text {
        // A call still open at the chunk's end: its entry part now; the next
        // chunks finish or cut the line.
        if let Some(e) = w.cur.take() {
            let of = w.state.as_ref().map(|st| Of(st, e.tid, &NO_FDS_MADE));
            let fds = Fds {
                args: of.as_ref().map(|o| o as &dyn FdResolver),
                ret: None,
                interrupted: w.interrupted(&e),
            };
            let o = self.entry_part(&mut w.text.out, &e, fds);
            w.text.open = Some(o);
            w.text.printed = true;
        }
        w.text
    }
}

impl crate::calls::Merge for Joiner<'_, '_> {
    type Sealed = Text;

    fn finish(
        &mut self,
        _meta: &ChunkMeta,
        t: Text,
        entries: &[Option<OwnedEntry>],
    ) -> anyhow::Result<()> {
        // What goes before and between the chunk's own text, which is
        // written as it is: copying it into `s` would cost a pass over the
        // whole output (a JSON replay's is large).
        let mut s = String::new();
        let mut open = self.j.open.take();
        // The line the previous chunks left open goes on here when this
        // chunk's first printed line is that call's end; else it is cut.
        let join = open.and_then(|(tid, nr, _, _)| {
            t.later.iter().zip(entries).position(|(l, e)| {
                l.as_ref().is_some_and(|l| l.first && l.tid == tid)
                    && e.as_ref().is_some_and(|e| e.tid == tid && e.nr == nr)
            })
        });
        if t.printed && join.is_none() {
            match (open.take(), t.exec_first) {
                (Some((tid, ..)), Some((former, new))) if tid == former => {
                    let _ = writeln!(s, " <pid changed to {new} ...>");
                }
                (Some((_, _, _, cut)), _) => s.push_str(cut),
                (None, _) => {}
            }
        }
        let mut done = 0;
        for (k, (l, e)) in t.later.iter().zip(entries).enumerate() {
            let Some(l) = l else { continue };
            out_then(&mut s, &t.out[done..l.at])?;
            done = l.at;
            let entry = e.as_ref().map(OwnedEntry::entry);
            let exit = l.exit.as_ref().map(OwnedExit::exit);
            if entry.is_some_and(|e| !self.p.ctx.filter.shows(e.nr))
                || (entry.is_none() && exit.is_none())
            {
                // Filtered out, or a death with no call open.
                continue;
            }
            if self.p.ctx.json {
                if let Some(e) = entry.filter(|_| {
                    self.p
                        .ctx
                        .status
                        .is_none_or(|st| st.shows(exit.map(|x| x.ret)))
                }) {
                    match &l.pre {
                        // -y: written in the walk, with the descriptors.
                        Some(p) => s.push_str(&p.whole),
                        None => {
                            let pid = self.p.ctx.tree.pid_at(e.tid, e.time);
                            super::json::call(
                                &mut s,
                                &mut self.j.json,
                                pid,
                                &e,
                                exit.as_ref(),
                                l.end,
                                self.p.styles(Fds::NONE),
                            );
                        }
                    }
                }
                continue;
            }
            match (self.p.ctx.status, entry) {
                (Some(st), Some(e)) => {
                    // Not a lost call, as within a chunk.
                    if l.end != calls::End::Lost && st.shows(exit.map(|x| x.ret)) {
                        match &l.pre {
                            Some(p) => s.push_str(&p.whole),
                            None => self.p.whole(&mut s, &e, exit.as_ref(), Fds::NONE),
                        }
                    }
                }
                (Some(_), None) => {}
                (None, entry) => match (join == Some(k), entry, open.take()) {
                    (true, Some(e), Some((_, _, width, _))) => {
                        // Padded as if the line were one string.
                        let mut line = " ".repeat(width);
                        match &l.pre {
                            Some(p) => {
                                line.push_str(&p.rest_args);
                                finish(&mut line, 0, &p.ret);
                                line.push_str(&p.dur);
                                line.push('\n');
                            }
                            None => {
                                let known = abi::args_known_at_entry(e.arch, e.nr);
                                self.p
                                    .rest(&mut line, 0, &e, exit.as_ref(), known, Fds::NONE);
                            }
                        }
                        s.push_str(&line[width..]);
                    }
                    (_, entry, o) => {
                        open = o;
                        match &l.pre {
                            Some(p) => s.push_str(&p.resumed),
                            None => {
                                let x = exit.as_ref();
                                self.p.resumed_line(
                                    &mut s,
                                    entry.as_ref(),
                                    l.tid,
                                    l.time,
                                    x,
                                    Fds::NONE,
                                );
                            }
                        }
                    }
                },
            }
        }
        out_then(&mut s, &t.out[done..])?;
        self.j.open = match t.open {
            Some(o) => Some((o.tid, o.nr, t.out.len() - o.start, o.cut())),
            None if t.printed => None,
            None => open,
        };
        let mut out = t.out;
        out.clear();
        self.p.spare.put(out);
        Ok(())
    }

    fn skipped(&mut self, index: usize, reason: &str) -> anyhow::Result<()> {
        if let Some((_, _, _, cut)) = self.j.open.take() {
            crate::out(cut)?;
        }
        if self.j.strict {
            anyhow::bail!("{}: chunk {index}: {reason}", self.j.trace);
        }
        // The first pass warned of the chunks it could not read; the detail
        // stream, which only this pass decodes, can fail on its own.
        if !self.j.skipped.contains(&index) {
            let what = format!("chunk {index} skipped: {reason}");
            stats::warn_skipped(&self.j.trace, &what, true);
        }
        Ok(())
    }

    fn end(&mut self, open: Vec<OwnedEntry>) -> anyhow::Result<()> {
        if let Some((_, _, _, cut)) = self.j.open.take() {
            crate::out(cut)?;
        }
        // Text shows these calls as they began (their lines already cut
        // `<unfinished ...>`), but not under `-e status=`, which holds a
        // line until its call ends: there `unfinished` lists them here.
        let listed = match &self.p.ctx.status {
            None => self.p.ctx.json,
            Some(st) => st.unfinished,
        };
        if listed {
            let mut s = String::new();
            let mut ops = Vec::new();
            for e in &open {
                let e = e.entry();
                if self.p.ctx.shows(&e) {
                    let of = self.j.state.as_ref().map(|st| Of(st, e.tid, &NO_FDS_MADE));
                    let fds = Fds {
                        args: of.as_ref().map(|o| o as &dyn FdResolver),
                        ..Fds::NONE
                    };
                    if self.p.ctx.json {
                        let pid = self.p.ctx.tree.pid_at(e.tid, e.time);
                        let st = self.p.styles(fds);
                        super::json::unfinished(&mut s, &mut self.j.json, pid, &e, st);
                    } else {
                        let o = self.p.entry_part(&mut s, &e, fds);
                        s.push_str(o.cut());
                    }
                }
                // What it did at entry, as the first pass takes it
                // (procs::run's end): the state the next one sees.
                if let Some(st) = self.j.state.as_mut() {
                    ops.clear();
                    procs::ops_of(&e, None, procs::Want::default(), &mut ops);
                    for op in &ops {
                        st.apply(op);
                    }
                }
            }
            crate::out(&s)?;
        }
        Ok(())
    }
}

/// Writes `s`, emptied, and then `text`.
fn out_then(s: &mut String, text: &str) -> anyhow::Result<()> {
    if !s.is_empty() {
        crate::out(s)?;
        s.clear();
    }
    if text.is_empty() {
        return Ok(());
    }
    crate::out(text)
}

/// Whether a call that will not return (its thread is exiting) lost
/// what it would have shown at its exit: strace then ends its line with
/// ` <unfinished ...>) = ?`, and with `) = ?` a call shown whole at entry
/// (`futex(...) = ?`, `exit_group(0) = ?`).
fn exit_part_lost(arch: ptrec_abi::Arch, nr: u32) -> bool {
    // clone3's exit part brings its own separator (` => {...}, 88`).
    abi::has_exit_part(arch, nr) || arch.syscall_name(nr) == "clone3"
}

/// `-y`: the name, after the call, of the descriptor a call returned
/// (its arguments are shown as the table was before it).
/// The name of the descriptor a call returned, as it is after the call,
/// and under `-yy` its detail ([`Procs::made_detail`]).
fn ret_name(
    st: Option<&mut Procs>,
    e: &Entry<'_>,
    x: &Exit<'_>,
    full: bool,
) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let st = st?;
    if x.ret < 0 || !abi::returns_fd_call(e.arch, e.nr, &e.args) {
        return None;
    }
    let op = procs::op_of(e, Some(x), procs::Want::default())?;
    let name = st.made_name(&op, full)?;
    Some((name, full.then(|| st.made_detail(&op)).flatten()))
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
    let filter = Filter::parse(stats::arch(t)?, &exprs)?;
    // A first pass for the processes (-p, JSON's pids); text without -p
    // only asks whether to prefix lines with their thread's id.
    let (tree, prefix, skipped) = if opts.pids.is_empty() && !opts.json {
        stats::warn_truncation(t);
        stats::report_skipped(t, &[], strict, true)?;
        (Tree::default(), stats::many_threads(t), Vec::new())
    } else {
        let so = ScanOptions {
            strict,
            shown: true,
            ..ScanOptions::default()
        };
        let p = stats::scan(t, &so)?;
        let tree = Tree::build(&p.events, &p.spans, &crate::command(t));
        let skipped = p.skipped.iter().map(|k| k.chunk).collect();
        (tree, p.spans.len() > 1, skipped)
    };
    let h = t.header();
    let ctx = Ctx {
        arch: stats::arch(t)?,
        filter,
        status,
        pids: opts.pids.clone(),
        prefix,
        timestamps: opts.timestamps,
        limit: opts.string_limit,
        durations: opts.durations,
        ip: opts.instruction_pointer,
        tree: &tree,
        wall_offset: i128::from(h.start_wall_ns) - i128::from(h.start_mono_ns),
        utc_offset: utc_offset(h.start_wall_ns),
        json: opts.json,
        fd_style: if opts.decode_fds > 1 {
            FdStyle::Full
        } else {
            FdStyle::Paths
        },
    };
    let mut pr = Printer {
        ctx,
        window: Vec::new(),
        window_first: 0,
        spare: calls::Spare::default(),
    };
    let mut join = Join {
        open: None,
        skipped,
        strict,
        trace: t.path().display().to_string(),
        json: super::json::Scratch::default(),
        state: None,
    };
    if opts.decode_fds == 0 {
        return calls::run_split(
            t,
            Mode::Full,
            &pr,
            &mut Joiner {
                p: &pr,
                j: &mut join,
            },
        );
    }
    // -y: a first pass over each window gives every chunk its descriptor
    // tables at its start (the state is sequential; the printing is not).
    let mut first = ChunkStarts::new(t)?;
    let mut print = calls::Stream::new(t, Mode::Full)?;
    let n = t.chunks().len();
    let window = calls::window();
    let mut at = 0;
    while at < n {
        let last = (at + window).min(n);
        pr.window = first.window(at..last)?;
        pr.window_first = at;
        let mut joiner = Joiner {
            p: &pr,
            j: &mut join,
        };
        print.chunks_split(at..last, &pr, &mut joiner)?;
        at = last;
    }
    join.state = Some(first.into_procs());
    print.end(&mut Joiner {
        p: &pr,
        j: &mut join,
    })
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
