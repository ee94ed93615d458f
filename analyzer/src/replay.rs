//! `analyze replay`: every recorded stop as a strace-like line, in file
//! order. Chunks are decoded and formatted in parallel, a window of
//! 2 x threads chunks at a time, then printed in order.

use std::fmt::Write;

use ptrec_format::{ChunkData, Mem, Record, Termination, Tid, Trace};
use rayon::prelude::*;

use crate::cli::ReplayOpts;
use ptrec_abi::decode::{self as abi, Call, Part, Style};

use crate::decode::{signal_name, syscall_name};
use crate::filter::Filter;
use crate::model::{self, ScanOptions};
use crate::tree::Tree;

/// Pads the call text to strace's 40th column before ` = `.
fn finish(s: &mut String, start: usize, ret: &str) {
    let w = s.len() - start;
    if w < 39 {
        s.extend(std::iter::repeat_n(' ', 39 - w));
    }
    s.push_str(" = ");
    s.push_str(ret);
}

/// Per-run settings for the formatter.
struct Ctx<'a> {
    filter: Filter,
    pids: Vec<Tid>,
    prefix: bool,
    timestamps: u8,
    durations: bool,
    limit: usize,
    tree: &'a Tree,
    /// CLOCK_MONOTONIC -> wall clock.
    wall_offset: i128,
}

impl Ctx<'_> {
    fn wanted(&self, tid: Tid) -> bool {
        self.pids.is_empty()
            || self.pids.contains(&tid)
            || self.pids.contains(&self.tree.tgid_of(tid))
    }

    fn head(&self, s: &mut String, tid: Tid, time: u64) {
        if self.prefix {
            let _ = write!(s, "[pid {tid:>5}] ");
        }
        if self.timestamps > 0 {
            let wall = (time as i128 + self.wall_offset).max(0) as u64;
            let secs = wall / 1_000_000_000;
            let (h, m, sec) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
            let _ = write!(s, "{h:02}:{m:02}:{sec:02}");
            if self.timestamps > 1 {
                let _ = write!(s, ".{:06}", (wall % 1_000_000_000) / 1000);
            }
            s.push(' ');
        }
    }

    fn style(&self) -> Style<'static> {
        Style {
            string_limit: self.limit,
            ..Style::default()
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

fn collect_caps<'a>(r: &Record<'a>) -> Vec<Mem<'a>> {
    match r {
        Record::SyscallEnter { mem, .. } | Record::SyscallExit { mem, .. } => mem.iter().collect(),
        _ => Vec::new(),
    }
}

/// Formats one chunk's records. A syscall whose exit directly follows its
/// entry (ignoring the exec event in between) is one line; otherwise the
/// entry ends in `<unfinished ...>` and the exit starts with `<... resumed>`.
fn format_chunk(
    data: &ChunkData,
    next_chunk: &dyn Fn() -> anyhow::Result<Option<ChunkData>>,
    ctx: &Ctx<'_>,
) -> anyhow::Result<ChunkText> {
    let recs: Vec<Record<'_>> = data.records().collect::<Result<_, _>>()?;
    let mut s = String::with_capacity(data.streams.len());
    let mut out = ChunkText::default();
    // Threads whose entry was printed unfinished: index of that entry.
    let mut pending: rustc_hash::FxHashMap<Tid, usize> = rustc_hash::FxHashMap::default();
    let mut i = 0;
    while i < recs.len() {
        let r = &recs[i];
        i += 1;
        let tid = r.tid();
        if !ctx.wanted(tid) {
            continue;
        }
        match r {
            Record::SyscallEnter { time, nr, args, .. } => {
                let nr = *nr as u32;
                if !ctx.filter.shows(nr) {
                    continue;
                }
                // Events strace does not print (the fork/clone/exec events of
                // this very call) do not interrupt it.
                let mut j = i;
                let mut exit_tid = tid;
                loop {
                    match recs.get(j) {
                        Some(Record::Exec {
                            tid: t2,
                            former_tid,
                            ..
                        }) if *former_tid == tid => exit_tid = *t2,
                        Some(
                            Record::NewChild { tid: t2, .. } | Record::VforkDone { tid: t2, .. },
                        ) if *t2 == tid => {}
                        _ => break,
                    }
                    j += 1;
                }
                // An entry that ends the chunk: its exit may open the next one.
                let next_data;
                let next_first;
                let candidate = match recs.get(j) {
                    Some(x) => Some(x),
                    None => {
                        next_data = next_chunk()?;
                        next_first = next_data
                            .as_ref()
                            .and_then(|d| d.records().next())
                            .transpose()?;
                        next_first.as_ref()
                    }
                };
                let exit = match candidate {
                    Some(x @ Record::SyscallExit { tid: t, .. }) if *t == exit_tid => Some(x),
                    _ => None,
                };
                if exit.is_some() && j == recs.len() {
                    out.tail_joined = true;
                }
                let enter_caps = collect_caps(r);
                // strace aligns ` = ` at column 40 of the whole line, its
                // [pid N] and time prefixes included.
                let line_start = s.len();
                ctx.head(&mut s, tid, *time);
                match exit {
                    Some(x @ Record::SyscallExit { ret, time: t2, .. }) => {
                        let exit_caps = collect_caps(x);
                        let call = Call {
                            nr,
                            args: *args,
                            ret: Some(*ret),
                            enter: &enter_caps,
                            exit: &exit_caps,
                        };
                        abi::write_call(&mut s, &call, Part::Whole, &ctx.style());
                        if exit_tid != tid {
                            // Non-leader exec: strace shows the call unfinished in the
                            // old thread and resumed under the leader's tid.
                            s.push_str(" <unfinished ...>\n");
                            ctx.head(&mut s, exit_tid, *t2);
                            let _ = writeln!(s, "+++ superseded by execve in pid {tid} +++");
                            let ls = s.len();
                            ctx.head(&mut s, exit_tid, *t2);
                            let _ = write!(s, "<... {} resumed>)", syscall_name(nr));
                            finish(&mut s, ls, &abi::return_text(&call, &ctx.style()));
                        } else {
                            s.push(')');
                            finish(&mut s, line_start, &abi::return_text(&call, &ctx.style()));
                        }
                        ctx.dur(&mut s, t2.saturating_sub(*time));
                        s.push('\n');
                        i = j + 1;
                    }
                    _ => {
                        let call = Call {
                            nr,
                            args: *args,
                            ret: None,
                            enter: &enter_caps,
                            exit: &[],
                        };
                        let name = syscall_name(nr);
                        let ends = matches!(&*name, "exit" | "exit_group")
                            && matches!(
                                recs.get(i),
                                None | Some(Record::ExitEvent { .. }) | Some(Record::Death { .. })
                            );
                        if ends {
                            abi::write_call(&mut s, &call, Part::Whole, &ctx.style());
                            s.push(')');
                            finish(&mut s, line_start, "?");
                        } else {
                            // As strace: the arguments known at entry now,
                            // the ones the kernel fills in when it resumes.
                            abi::write_call(&mut s, &call, Part::Entry, &ctx.style());
                            s.push_str(" <unfinished ...>");
                            pending.insert(tid, i - 1);
                        }
                        s.push('\n');
                    }
                }
            }
            Record::SyscallExit { time, nr, ret, .. } => {
                let nr = *nr as u32;
                if !ctx.filter.shows(nr) {
                    continue;
                }
                if i == 1 {
                    // Printed only if the previous chunk did not join it to its entry.
                    out.head_len = Some(0);
                }
                // strace aligns ` = ` at column 40 of the whole line, its
                // [pid N] and time prefixes included.
                let line_start = s.len();
                ctx.head(&mut s, tid, *time);
                let _ = write!(s, "<... {} resumed>", syscall_name(nr));
                // The entry, when it is in this chunk, gives the remaining arguments.
                let enter = pending.remove(&tid).and_then(|k| recs.get(k));
                if let Some(e @ Record::SyscallEnter { args, time: t0, .. }) = enter {
                    let enter_caps = collect_caps(e);
                    let exit_caps = collect_caps(r);
                    let call = Call {
                        nr,
                        args: *args,
                        ret: Some(*ret),
                        enter: &enter_caps,
                        exit: &exit_caps,
                    };
                    abi::write_args(&mut s, &call, Part::Exit, &ctx.style());
                    s.push(')');
                    finish(&mut s, line_start, &abi::return_text(&call, &ctx.style()));
                    ctx.dur(&mut s, time.saturating_sub(*t0));
                } else {
                    let call = Call {
                        nr,
                        args: [0; 6],
                        ret: Some(*ret),
                        enter: &[],
                        exit: &[],
                    };
                    s.push(')');
                    finish(&mut s, line_start, &abi::return_text(&call, &ctx.style()));
                }
                s.push('\n');
                if let Some(h) = out.head_len.as_mut() {
                    if i == 1 {
                        *h = s.len();
                    }
                }
            }
            Record::SignalDelivery {
                time,
                signo,
                siginfo,
                ..
            } => {
                ctx.head(&mut s, tid, *time);
                let _ = writeln!(
                    s,
                    "--- {} {} ---",
                    signal_name(*signo),
                    abi::siginfo_text(*signo, siginfo)
                );
            }
            Record::GroupStop { time, signo, .. } => {
                ctx.head(&mut s, tid, *time);
                let _ = writeln!(s, "--- stopped by {} ---", signal_name(*signo));
            }
            Record::Death { time, how, .. } => {
                ctx.head(&mut s, tid, *time);
                match how {
                    Termination::Exited(c) => {
                        let _ = writeln!(s, "+++ exited with {c} +++");
                    }
                    Termination::Signaled { signo, core } => {
                        let _ = writeln!(
                            s,
                            "+++ killed by {}{} +++",
                            signal_name(*signo),
                            if *core { " (core dumped)" } else { "" }
                        );
                    }
                }
            }
            Record::Detach { time, .. } => {
                ctx.head(&mut s, tid, *time);
                s.push_str("+++ detached +++\n");
            }
            Record::Exec {
                time, former_tid, ..
            } if *former_tid != tid => {
                // A non-leader exec whose execve line was not joined above.
                ctx.head(&mut s, tid, *time);
                let _ = writeln!(s, "+++ superseded by execve in pid {former_tid} +++");
            }
            Record::NewChild { .. }
            | Record::VforkDone { .. }
            | Record::Exec { .. }
            | Record::ExitEvent { .. }
            | Record::Attach { .. }
            | Record::Note { .. } => {}
        }
    }
    out.text = s;
    Ok(out)
}

pub fn run(t: &Trace, opts: &ReplayOpts) -> anyhow::Result<()> {
    let filter = Filter::parse(&opts.expr)?;
    // A first pass for the thread groups (-p, and whether to prefix pids).
    let p = model::scan(t, &ScanOptions::default())?;
    let tree = Tree::build(&p.events, &p.spans, &crate::command(t));
    let h = t.header();
    let ctx = Ctx {
        filter,
        pids: opts.pids.clone(),
        prefix: p.spans.len() > 1,
        timestamps: opts.timestamps,
        limit: opts.string_limit,
        durations: opts.durations,
        tree: &tree,
        wall_offset: i128::from(h.start_wall_ns) - i128::from(h.start_mono_ns),
    };
    let n = t.chunks().len();
    let window = (2 * rayon::current_num_threads()).max(2);
    let mut first = 0;
    let mut prev_joined = false;
    while first < n {
        let last = (first + window).min(n);
        let read = |i: usize| {
            t.read_chunk(i)
                .map_err(|e| anyhow::anyhow!("{}: {e}", t.path().display()))
        };
        let texts: Vec<anyhow::Result<ChunkText>> = (first..last)
            .into_par_iter()
            .map(|i| {
                let d = read(i)?;
                let next = || {
                    if i + 1 < n {
                        read(i + 1).map(Some)
                    } else {
                        Ok(None)
                    }
                };
                format_chunk(&d, &next, &ctx)
            })
            .collect();
        for txt in texts {
            let txt = txt?;
            let skip = match txt.head_len {
                Some(h) if prev_joined => h,
                _ => 0,
            };
            crate::out(&txt.text[skip..])?;
            prev_joined = txt.tail_joined;
        }
        first = last;
    }
    Ok(())
}

/// One chunk's lines. A syscall entry that ends a chunk is joined with the
/// exit that opens the next chunk (`tail_joined`); the next chunk then drops
/// its first line (`head_len` bytes), the `<... resumed>` form of that exit.
#[derive(Default)]
struct ChunkText {
    text: String,
    head_len: Option<usize>,
    tail_joined: bool,
}
