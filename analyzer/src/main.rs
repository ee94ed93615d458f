//! `analyze`: offline, parallel analysis of ptrec traces.
//!
//! Every view scans the trace's chunks in parallel (rayon) into per-chunk
//! partial results that merge in file order (`model`), then formats them.

mod cli;
mod decode;
mod env;
mod fidelity;
mod filter;
mod info;
mod model;
mod overview;
mod redact;
mod replay;
mod summary;
mod tree;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::Parser;
use ptrec_format::Trace;

use cli::{Cli, Cmd, SummaryOpts};
use model::ScanOptions;

fn main() {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => {}
        Err(e) if is_broken_pipe(&e) => {}
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn open(path: &Path) -> anyhow::Result<Trace> {
    let t = Trace::open(path).map_err(|e| match e {
        ptrec_format::Error::Open { .. } => anyhow::anyhow!("{e}"),
        e => anyhow::anyhow!("{}: {e}", path.display()),
    })?;
    model::check_arch(&t)?;
    Ok(t)
}

/// Writes `s` to stdout (a closed pipe surfaces as BrokenPipe and ends quietly).
pub fn out(s: &str) -> anyhow::Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(s.as_bytes()).context("writing to stdout")?;
    o.flush().context("writing to stdout")?;
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.cmd {
        None if cli.summary => summary_cmd(&cli.trace, &cli.summary_opts),
        None => overview::run(&open(&cli.trace)?),
        Some(Cmd::Summary { opts, trace }) => summary_cmd(&trace, &opts),
        Some(Cmd::Tree { json, trace }) => {
            let t = open(&trace)?;
            let p = model::scan(&t, &ScanOptions::default())?;
            let tree = tree::Tree::build(&p.events, &p.spans, &command(&t));
            if json {
                out(&(tree.json()? + "\n"))
            } else {
                out(&tree.text(p.first_time.unwrap_or(0), tree::Limits::ALL))
            }
        }
        Some(Cmd::Replay { opts, trace }) => replay::run(&open(&trace)?, &opts),
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
        Some(Cmd::Redact {
            policy,
            output,
            trace,
        }) => redact::run(&open(&trace)?, policy.as_deref(), &output),
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

fn summary_cmd(path: &Path, opts: &SummaryOpts) -> anyhow::Result<()> {
    let t = open(path)?;
    let so = ScanOptions {
        wall: opts.wall,
        histograms: opts.percentiles,
    };
    let p = model::scan(&t, &so)?;
    if opts.per_process {
        let tree = tree::Tree::build(&p.events, &p.spans, &command(&t));
        let groups = summary::per_process(&p.stats, &tree);
        if opts.json {
            let procs = groups
                .into_iter()
                .map(|(pid, s)| {
                    let j = summary::json_summary(&summary::rows(s, opts.sort));
                    summary::JsonProcess {
                        pid,
                        syscalls: j.syscalls,
                        total: j.total,
                    }
                })
                .collect();
            let j = summary::JsonPerProcess { processes: procs };
            return out(&(serde_json::to_string_pretty(&j)? + "\n"));
        }
        let mut s = String::new();
        for (i, (pid, stats)) in groups.into_iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            let cmd = tree.get(pid).map(|p| p.command_text()).unwrap_or_default();
            s.push_str(&format!("process {pid} {cmd}\n"));
            s.push_str(&summary::table(
                &summary::rows(stats, opts.sort),
                opts.percentiles,
            ));
        }
        return out(&s);
    }
    let rows = summary::rows(p.by_syscall(), opts.sort);
    if opts.json {
        out(&(serde_json::to_string_pretty(&summary::json_summary(&rows))? + "\n"))
    } else {
        out(&summary::table(&rows, opts.percentiles))
    }
}
