//! `analyze`: offline, parallel analysis of ptrec traces, as a library.
//!
//! Every view reads one call layer ([`calls`]): the trace's chunks are
//! decoded in parallel into syscall calls (an entry joined with its exit),
//! signals and process events, in record order; what is open at a chunk's
//! end is joined in a sequential boundary fix-up, so no view pairs records
//! itself or sees a chunk boundary. Views: [`summary`] (`strace -c`),
//! [`tree`], [`overview`], [`replay`] (strace-style lines), [`info`],
//! [`export`] (Parquet or NDJSON datasets for SQL engines).
//!
//! ```no_run
//! let t = ptrec_format::Trace::open("trace.bin")?;
//! let scan = ptrec_analyzer::stats::scan(&t, &Default::default())?;
//! println!("{} calls", scan.by_syscall().values().map(|s| s.calls).sum::<u64>());
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Naming: `tid` is a thread id, `pid` a thread-group id; times are
//! CLOCK_MONOTONIC nanoseconds.

pub mod calls;
pub mod cli;
pub mod clock;
pub mod decode;
pub mod diff;
pub mod env;
pub mod export;
pub mod failures;
pub mod fidelity;
pub mod files;
pub mod filter;
pub mod info;
pub mod output;
pub mod overview;
pub mod procs;
pub mod redact;
pub mod replay;
pub mod slow;
pub mod stats;
pub mod summary;
pub mod timeline;
pub mod tree;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use ptrec_format::Trace;

use cli::{Cli, Cmd, SummaryOpts};
use stats::ScanOptions;

/// Whether `e` is a closed stdout pipe (`analyze ... | head`): the binary
/// then exits quietly.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

pub fn open(path: &Path) -> anyhow::Result<Trace> {
    let t = Trace::open(path).map_err(|e| match e {
        ptrec_format::Error::Open { .. } => anyhow::anyhow!("{e}"),
        e => anyhow::anyhow!("{}: {e}", path.display()),
    })?;
    stats::arch(&t)?;
    Ok(t)
}

/// Writes `s` to stdout (a closed pipe surfaces as BrokenPipe and ends quietly).
pub fn out(s: &str) -> anyhow::Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(s.as_bytes()).context("writing to stdout")?;
    o.flush().context("writing to stdout")?;
    Ok(())
}

/// Runs one command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let strict = cli.strict;
    let so = ScanOptions {
        strict,
        ..ScanOptions::default()
    };
    match cli.cmd {
        None if cli.summary => summary_cmd(&cli.trace, &cli.summary_opts, strict),
        None => {
            let o = &cli.summary_opts;
            if o.per_process || o.percentiles {
                anyhow::bail!(
                    "--per-process and --percentiles are options of the summary: use them with -c or `analyze summary`"
                );
            }
            let so = ScanOptions { wall: o.wall, ..so };
            overview::run(&open(&cli.trace)?, &so, o.sort, o.json)
        }
        Some(Cmd::Summary { opts, trace }) => summary_cmd(&trace, &opts, strict),
        Some(Cmd::Tree { json, trace }) => {
            let t = open(&trace)?;
            let p = stats::scan(&t, &so)?;
            let tree = tree::Tree::build(&p.events, &p.spans, &command(&t));
            tree.warn_problems(&t);
            if json {
                let places = tree::Places::collect(&t, &tree, strict)?;
                let j = tree.json_full(t.header(), p.first_time.unwrap_or(0), &places)?;
                out(&(j + "\n"))
            } else {
                let mut o = std::io::BufWriter::new(std::io::stdout().lock());
                tree.write_text(&mut o, p.first_time.unwrap_or(0), tree::Limits::ALL)
                    .and_then(|()| o.flush())
                    .context("writing to stdout")
            }
        }
        Some(Cmd::Replay { opts, trace }) => replay::run(&open(&trace)?, &opts, strict),
        Some(Cmd::Export {
            out: dir,
            format,
            traces,
        }) => {
            let done = export::run(&dir, format, &traces)?;
            let calls: u64 = done.iter().map(|e| e.calls).sum();
            let procs: u64 = done.iter().map(|e| e.processes).sum();
            out(&format!(
                "{}: {} traces exported ({calls} calls, {procs} processes)\n",
                decode::escaped(dir.as_os_str().as_encoded_bytes()),
                done.len()
            ))
        }
        Some(Cmd::Slow {
            n,
            expr,
            json,
            trace,
        }) => slow::run(&open(&trace)?, &so, n, &expr, json),
        Some(Cmd::Timeline {
            output,
            expr,
            pids,
            min_duration,
            trace,
        }) => {
            let w = timeline::run(
                &open(&trace)?,
                &so,
                &output,
                timeline::Options {
                    exprs: expr,
                    pids,
                    min_duration_ns: min_duration,
                },
            )?;
            eprintln!(
                "analyze: {} slices, {} flows, {} bytes written to {}",
                w.slices,
                w.flows,
                w.bytes,
                output.display()
            );
            Ok(())
        }
        Some(Cmd::Failures { json, trace }) => failures::run(&open(&trace)?, &so, json),
        Some(Cmd::Output {
            pids,
            fds,
            by_process,
            raw,
            json,
            trace,
        }) => output::run(
            &open(&trace)?,
            output::Options {
                pids,
                fds,
                by_process,
                raw,
                json,
                strict,
            },
        ),
        Some(Cmd::Files {
            json,
            pids,
            sort,
            args,
        }) => {
            let (pattern, trace) = files_args(args);
            files::run(
                &open(&trace)?,
                &pids,
                pattern.as_deref(),
                sort,
                json,
                strict,
            )
        }
        Some(Cmd::Info {
            env: false,
            json,
            trace,
        }) => info::run(&open(&trace)?, json),
        Some(Cmd::Info { json, trace, .. } | Cmd::Env { json, trace }) => {
            let t = open(&trace)?;
            if json {
                out(&(env::json(t.header())? + "\n"))
            } else {
                out(&env::text(t.header()))
            }
        }
        Some(Cmd::Diff { json, a, b }) => diff::run(&open(&a)?, &open(&b)?, json),
        Some(Cmd::Redact {
            policy,
            output,
            trace,
        }) => redact::run(&open(&trace)?, policy.as_deref(), &output),
    }
}

/// `files [PATTERN] [TRACE]`: one argument naming an existing file is the
/// trace; of two, the second, unless only the first names a file (`files
/// trace.bin '*.h'`, the order every other view takes).
fn files_args(mut args: Vec<String>) -> (Option<String>, std::path::PathBuf) {
    let default = std::path::PathBuf::from("trace.bin");
    match args.len() {
        2 => {
            if Path::new(&args[0]).is_file() && !Path::new(&args[1]).exists() {
                args.swap(0, 1);
            }
            let t = args.pop().map(Into::into).unwrap_or(default);
            (args.pop(), t)
        }
        1 if Path::new(&args[0]).is_file() => (None, args.remove(0).into()),
        _ => (args.pop(), default),
    }
}

/// The recorded command line, its arguments joined by spaces, as recorded
/// (what a redaction dropped as `<redacted N bytes>`, which escaping keeps).
pub fn command(t: &Trace) -> Vec<u8> {
    let h = t.header();
    let mut out = Vec::new();
    for (i, a) in h.argv.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(a);
        if let Some(&(_, n)) = h.argv_redacted.iter().find(|r| r.0 as usize == i) {
            out.extend_from_slice(decode::redacted_text(n).as_bytes());
        }
    }
    out
}

/// The recorded command line for a text view: each argument escaped, and
/// what a redaction dropped from it shown as `<redacted N bytes>`.
pub fn command_text(t: &Trace) -> String {
    let h = t.header();
    let a: Vec<String> = h
        .argv
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut s = decode::escaped(a);
            if let Some(&(_, n)) = h.argv_redacted.iter().find(|r| r.0 as usize == i) {
                s.push_str(&decode::redacted_text(n));
            }
            s
        })
        .collect();
    a.join(" ")
}

fn summary_cmd(path: &Path, opts: &SummaryOpts, strict: bool) -> anyhow::Result<()> {
    let t = open(path)?;
    let arch = stats::arch(&t)?;
    let so = ScanOptions {
        wall: opts.wall,
        histograms: opts.percentiles,
        strict,
        ..ScanOptions::default()
    };
    let p = stats::scan(&t, &so)?;
    if opts.per_process {
        let tree = tree::Tree::build(&p.events, &p.spans, &command(&t));
        let groups = summary::per_process(&p.stats, &tree);
        if opts.json {
            let procs = groups
                .into_iter()
                .map(|(i, pid, s)| {
                    let j = summary::json_summary(&summary::rows(arch, s, opts.sort));
                    summary::JsonProcess {
                        pid,
                        generation: i.map_or(0, |i| tree.processes[i].generation),
                        syscalls: j.syscalls,
                        total: j.total,
                    }
                })
                .collect();
            let j = summary::JsonPerProcess { processes: procs };
            return out(&(serde_json::to_string_pretty(&j)? + "\n"));
        }
        let mut s = String::new();
        for (n, (i, pid, stats)) in groups.into_iter().enumerate() {
            if n > 0 {
                s.push('\n');
            }
            // `1234` or, for a reused pid, `1234#1`, with the command that
            // process ran.
            let (id, cmd) = match i.map(|i| &tree.processes[i]) {
                Some(p) => (p.id(), p.command_text()),
                None => (pid.to_string(), String::new()),
            };
            s.push_str(&format!("process {id} {cmd}\n"));
            s.push_str(&summary::table(
                &summary::rows(arch, stats, opts.sort),
                opts.percentiles,
            ));
        }
        return out(&s);
    }
    let rows = summary::rows(arch, p.by_syscall(), opts.sort);
    if opts.json {
        out(&(serde_json::to_string_pretty(&summary::json_summary(&rows))? + "\n"))
    } else {
        out(&summary::table(&rows, opts.percentiles))
    }
}
