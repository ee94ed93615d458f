//! Command line, as /work/shared/interface.md fixes it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::summary::SortKey;

#[derive(Parser, Debug)]
#[command(
    name = "analyze",
    version,
    about = "Analyze a ptrec trace offline: overview, strace -c summary, process tree, replay, info",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
    /// `analyze -c TRACE`: the summary table (like `strace -c`).
    #[arg(short = 'c')]
    pub summary: bool,
    #[command(flatten)]
    pub summary_opts: SummaryOpts,
    /// A chunk that cannot be read is an error; without it every view goes
    /// on with the other chunks and says on stderr which were skipped and why.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Trace file.
    #[arg(default_value = "trace.bin")]
    pub trace: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Per-syscall table, like `strace -c`.
    Summary {
        #[command(flatten)]
        opts: SummaryOpts,
        #[arg(default_value = "trace.bin")]
        trace: PathBuf,
    },
    /// Process tree with exec transitions and exit statuses.
    Tree {
        #[arg(long)]
        json: bool,
        #[arg(default_value = "trace.bin")]
        trace: PathBuf,
    },
    /// Every recorded stop as strace-style text lines.
    Replay {
        #[command(flatten)]
        opts: ReplayOpts,
        #[arg(default_value = "trace.bin")]
        trace: PathBuf,
    },
    /// Failed processes, innermost first: argv, status, stderr, failed files.
    Failures {
        #[arg(long)]
        json: bool,
        #[arg(default_value = "trace.bin")]
        trace: PathBuf,
    },
    /// What processes wrote to stdout/stderr (or fd N), reconstructed.
    Output {
        /// Only what these processes wrote to their own fds (else: what
        /// reached the recorded command's stdout/stderr).
        #[arg(short = 'p')]
        pids: Vec<i32>,
        /// This descriptor instead of 1 and 2 (repeatable).
        #[arg(long = "fd")]
        fds: Vec<i32>,
        /// Prefix each line with the pid and command that wrote it.
        #[arg(long)]
        by_process: bool,
        /// The recorded bytes unescaped (to a file or pipe only).
        #[arg(long)]
        raw: bool,
        #[arg(long)]
        json: bool,
        #[arg(default_value = "trace.bin")]
        trace: PathBuf,
    },
    /// Every path touched: opens, errors, bytes, by which processes.
    Files {
        #[arg(long)]
        json: bool,
        /// Only what these processes did.
        #[arg(short = 'p')]
        pids: Vec<i32>,
        /// Order by this column (counts largest first).
        #[arg(short = 'S', long = "sort", value_enum, default_value = "path")]
        sort: crate::files::SortKey,
        /// `[PATTERN] [TRACE]`: paths containing PATTERN (a glob when it
        /// holds `*` or `?`); a single argument that is an existing file is
        /// the trace, and of two the one that names a file when only one
        /// does.
        #[arg(num_args = 0..=2)]
        args: Vec<String>,
    },
    /// The N slowest calls and per-syscall latency distributions.
    Slow {
        /// How many calls.
        #[arg(short = 'n', default_value_t = 20)]
        n: usize,
        /// Only these syscalls (strace syntax, as replay's -e).
        #[arg(short = 'e')]
        expr: Vec<String>,
        #[arg(long)]
        json: bool,
        #[arg(default_value = "trace.bin")]
        trace: PathBuf,
    },
    /// A Perfetto trace (ui.perfetto.dev): tracks per process and thread,
    /// a slice per syscall, instants, fork flows.
    Timeline {
        /// The file to write (a new one).
        #[arg(short = 'o', required = true)]
        output: PathBuf,
        /// Only these syscalls' slices (strace syntax, as replay's -e).
        #[arg(short = 'e')]
        expr: Vec<String>,
        /// Only these processes (or threads).
        #[arg(short = 'p')]
        pids: Vec<i32>,
        /// Leave out slices shorter than this (`250us`, `1ms`, `0.5s`; a
        /// bare number is nanoseconds).
        #[arg(long, value_parser = parse_duration, default_value = "0")]
        min_duration: u64,
        #[arg(default_value = "trace.bin")]
        trace: PathBuf,
    },
    /// Header metadata, chunk count, integrity check, fidelity report.
    Info {
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// The recorded environment instead (as `analyze env`).
        #[arg(long)]
        env: bool,
        #[arg(default_value = "trace.bin")]
        trace: PathBuf,
    },
    /// The traces as one dataset (Parquet or NDJSON tables, partitioned by
    /// trace) for DuckDB, Spark or Trino; see analyzer/EXPORT.md.
    Export {
        /// Directory of the dataset (created if missing; traces already in it stay).
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        out: PathBuf,
        #[arg(long, value_enum, default_value = "parquet")]
        format: crate::export::Format,
        /// The traces to export.
        #[arg(required = true, value_name = "TRACE")]
        traces: Vec<PathBuf>,
    },
    /// What changed between two runs of a command: processes aligned by
    /// exec history, exit status changes, processes in one run only, the
    /// first divergence, new errors, files, time and syscall deltas.
    Diff {
        #[arg(long)]
        json: bool,
        a: PathBuf,
        b: PathBuf,
    },
    /// The environment the command was started with.
    Env {
        #[arg(long)]
        json: bool,
        #[arg(default_value = "trace.bin")]
        trace: PathBuf,
    },
    /// A copy of TRACE without what POLICY names (default: environment
    /// values outside PATH HOME USER LOGNAME SHELL LANG LC_* TERM TZ PWD,
    /// every buffer's content, secret-looking argv parts). POLICY:
    /// comma-separated rules: default, env=all|allow[:NAME:...]|secrets,
    /// secrets, buffers=all|files|sockets|pipes|ttys|other|GLOB,
    /// paths=hash (key from $PTREC_REDACT_KEY, else random), none.
    Redact {
        #[arg(long = "redact", value_name = "POLICY")]
        policy: Option<String>,
        /// The redacted trace to write (a new 0600 file).
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: PathBuf,
        trace: PathBuf,
    },
}

#[derive(Args, Debug, Clone, Default)]
pub struct SummaryOpts {
    /// Sort by: time, calls, errors, name.
    #[arg(short = 'S', long = "sort", value_enum, default_value = "time")]
    pub sort: SortKey,
    /// One table per thread group.
    #[arg(long)]
    pub per_process: bool,
    /// p50, p99 and max wall latency per syscall.
    #[arg(long)]
    pub percentiles: bool,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Wall time instead of system CPU time.
    #[arg(short = 'w')]
    pub wall: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ReplayOpts {
    /// Syscalls to show (strace syntax: `trace=open,read`, `%file`, `!write`).
    #[arg(short = 'e')]
    pub expr: Vec<String>,
    /// Only these processes or threads.
    #[arg(short = 'p')]
    pub pids: Vec<i32>,
    /// Prefix lines with the wall-clock time (-tt: with microseconds).
    #[arg(short = 't', action = clap::ArgAction::Count)]
    pub timestamps: u8,
    /// Show the time spent in each syscall.
    #[arg(short = 'T')]
    pub durations: bool,
    /// Show at most N bytes of each buffer and argv string, as strace's
    /// -s (its default too; rec captures up to its own -s, 4096 by default,
    /// so a larger N shows more). Paths are always shown whole.
    #[arg(short = 's', value_name = "N", default_value_t = 32)]
    pub string_limit: usize,
    /// Only calls that failed (as `-e status=failed`).
    #[arg(short = 'Z')]
    pub failed_only: bool,
    /// Only calls that succeeded (as `-e status=successful`).
    #[arg(short = 'z')]
    pub successful_only: bool,
    /// Show what descriptors refer to (`3</etc/passwd>`), from the
    /// descriptor tables kept over the trace; -yy shows sockets' addresses too.
    #[arg(short = 'y', action = clap::ArgAction::Count)]
    pub decode_fds: u8,
    /// NDJSON: one object per call, signal or event (schema:
    /// analyzer/replay.schema.json).
    #[arg(long)]
    pub json: bool,
    /// Prefix each call with the instruction pointer at its entry.
    #[arg(short = 'i')]
    pub instruction_pointer: bool,
    /// Taken as strace takes it, changing nothing: every process of the
    /// tree is in the trace and shown (strace's -ff, a file per process,
    /// is not replay's).
    #[arg(short = 'f')]
    pub follow_forks: bool,
}

/// `250us`, `1ms`, `0.5s`, `100ns` or a bare number of nanoseconds.
pub fn parse_duration(v: &str) -> Result<u64, String> {
    let (num, unit) = match v.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => v.split_at(i),
        None => (v, "ns"),
    };
    let scale = match unit {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return Err(format!("{v}: unit must be ns, us, ms or s")),
    };
    match num.parse::<f64>() {
        Ok(n) if n >= 0.0 && n.is_finite() => Ok((n * scale).round() as u64),
        _ => Err(format!("{v}: not a duration")),
    }
}
