//! `analyze` alone: what failed first (see [`crate::failures`]), then the
//! command, its duration, processes, the first levels of the tree, the top
//! syscalls by time and the errors; `--json` gives the same as one object.
//!
//! The top table ranks by system CPU time when the trace carries CPU
//! times, and by wall time with `-w` or when every CPU time is zero (a
//! short run: wait4's rusage counts in ticks); its percentages are of the
//! whole trace. "records" counts what the file holds (every stop rec
//! recorded plus its events and notes), and the compression is the
//! decompressed records over the file's size, as rec's own last line.

use std::fmt::Write;

use ptrec_format::{Kind, Trace};
use serde::Serialize;

use crate::decode::secs;
use crate::stats::{self, Scan, ScanOptions, Stat};
use crate::summary::{self, SortKey};
use crate::tree::{Limits, Tree};

/// Rows of the top-syscalls table.
const TOP: usize = 10;

pub fn run(t: &Trace, so: &ScanOptions, sort: SortKey, json: bool) -> anyhow::Result<()> {
    let o = Overview::collect(t, so)?;
    if json {
        crate::out(&(serde_json::to_string_pretty(&o.json(t, sort)?)? + "\n"))
    } else {
        crate::out(&o.text(t, sort)?)
    }
}

/// What both forms show.
struct Overview {
    arch: ptrec_abi::Arch,
    scan: Scan,
    tree: Tree,
    /// The times in the table are wall times.
    wall: bool,
    failures: crate::failures::Report,
}

#[derive(Serialize)]
struct JsonTop {
    name: String,
    calls: u64,
    errors: u64,
    seconds: f64,
    /// Of the whole trace's time.
    percent: f64,
}

#[derive(Serialize)]
struct JsonSkipped {
    chunk: usize,
    reason: String,
}

#[derive(Serialize)]
struct JsonOverview {
    command: Vec<String>,
    duration: f64,
    processes: usize,
    threads: usize,
    records: u64,
    syscall_stops: u64,
    file_bytes: u64,
    decompressed_bytes: u64,
    compression: f64,
    truncated: Option<String>,
    skipped: Vec<JsonSkipped>,
    failures: serde_json::Value,
    time: &'static str,
    top_syscalls: Vec<JsonTop>,
    total: summary::JsonTotal,
}

impl Overview {
    fn collect(t: &Trace, so: &ScanOptions) -> anyhow::Result<Overview> {
        let mut scan = stats::scan(t, so)?;
        let mut wall = so.wall || !t.header().options.cpu_times;
        if !wall && scan.stats.values().all(|s| s.time_ns == 0) {
            // Every CPU time is zero: rank by wall time instead.
            scan = stats::scan(t, &ScanOptions { wall: true, ..*so })?;
            wall = true;
        }
        let tree = Tree::build(&scan.events, &scan.spans, &crate::command(t));
        tree.warn_problems(t);
        let failures = crate::failures::report(t, &tree, scan.first_time.unwrap_or(0))?;
        Ok(Overview {
            arch: stats::arch(t)?,
            scan,
            tree,
            wall,
            failures,
        })
    }

    fn total(&self) -> Stat {
        let mut total = Stat::default();
        for s in self.scan.stats.values() {
            total.calls += s.calls;
            total.errors += s.errors;
            total.time_ns += s.time_ns;
        }
        total
    }

    fn compression(&self, t: &Trace) -> f64 {
        let f = t.file_len();
        if f == 0 {
            0.0
        } else {
            self.scan.uncompressed as f64 / f as f64
        }
    }

    fn syscall_stops(&self) -> u64 {
        self.scan.by_kind[Kind::SyscallEnter as usize]
            + self.scan.by_kind[Kind::SyscallExit as usize]
    }

    fn json(&self, t: &Trace, sort: SortKey) -> anyhow::Result<JsonOverview> {
        let p = &self.scan;
        let first = p.first_time.unwrap_or(0);
        let total = self.total();
        let rows = summary::rows(self.arch, p.by_syscall(), sort);
        let top = rows
            .iter()
            .take(TOP)
            .map(|r| JsonTop {
                name: r.name.clone(),
                calls: r.stat.calls,
                errors: r.stat.errors,
                seconds: r.stat.time_ns as f64 / 1e9,
                percent: if total.time_ns > 0 {
                    100.0 * r.stat.time_ns as f64 / total.time_ns as f64
                } else {
                    0.0
                },
            })
            .collect();
        Ok(JsonOverview {
            command: t
                .header()
                .argv
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect(),
            duration: p.last_time.saturating_sub(first) as f64 / 1e9,
            processes: self.tree.processes.len(),
            threads: self.tree.processes.iter().map(|p| p.threads.len()).sum(),
            records: p.records,
            syscall_stops: self.syscall_stops(),
            file_bytes: t.file_len(),
            decompressed_bytes: p.uncompressed,
            compression: self.compression(t),
            truncated: t.truncation().map(|c| c.to_string()),
            skipped: p
                .skipped
                .iter()
                .map(|k| JsonSkipped {
                    chunk: k.chunk,
                    reason: k.reason.clone(),
                })
                .collect(),
            failures: self.failures.json()?,
            time: if self.wall { "wall" } else { "cpu" },
            top_syscalls: top,
            total: summary::JsonTotal {
                calls: total.calls,
                errors: total.errors,
                seconds: total.time_ns as f64 / 1e9,
            },
        })
    }

    fn text(&self, t: &Trace, sort: SortKey) -> anyhow::Result<String> {
        let p = &self.scan;
        let cmd = crate::command_text(t);
        let first = p.first_time.unwrap_or(0);
        let mut s = self.failures.text(true);
        s.push('\n');
        let _ = writeln!(
            s,
            "command:    {}",
            if cmd.is_empty() { "(attached)" } else { &cmd }
        );
        let _ = writeln!(
            s,
            "duration:   {}s",
            secs(p.last_time.saturating_sub(first))
        );
        let threads: usize = self.tree.processes.iter().map(|p| p.threads.len()).sum();
        let _ = writeln!(
            s,
            "processes:  {} ({} threads)",
            self.tree.processes.len(),
            threads
        );
        let _ = writeln!(
            s,
            "records:    {} ({} syscall stops); {} bytes, compression {:.1}x (decompressed records / file size)",
            p.records,
            self.syscall_stops(),
            t.file_len(),
            self.compression(t)
        );
        if let Some(c) = t.truncation() {
            let _ = writeln!(s, "truncated:  {c}");
        }
        for k in &p.skipped {
            let _ = writeln!(s, "skipped:    chunk {} ({})", k.chunk, k.reason);
        }
        s.push_str("\nprocess tree:\n");
        s.push_str(&self.tree.text(
            first,
            Limits {
                depth: Some(3),
                children: Some(8),
                argv_chars: Some(160),
            },
        ));
        let total = self.total();
        let rows = summary::rows(self.arch, p.by_syscall(), sort);
        let _ = writeln!(
            s,
            "\ntop syscalls by {} (% of the whole trace):",
            match (self.wall, t.header().options.cpu_times) {
                (false, _) => "system CPU time",
                (true, true) => "wall time (every CPU time is zero or -w)",
                (true, false) => "wall time",
            }
        );
        let top: Vec<_> = rows.into_iter().take(TOP).collect();
        s.push_str(&summary::table_of(&top, false, &total));
        let mut errs: Vec<(String, u64)> =
            summary::rows(self.arch, p.by_syscall(), SortKey::Errors)
                .into_iter()
                .filter(|r| r.stat.errors > 0)
                .map(|r| (r.name, r.stat.errors))
                .collect();
        let _ = writeln!(
            s,
            "\nerrors: {} (analyze failures and analyze files name the errnos and paths)",
            total.errors
        );
        errs.truncate(10);
        for (name, n) in errs {
            let _ = writeln!(s, "  {name:<20} {n}");
        }
        Ok(s)
    }
}

/// The overview text with the default sort (for tests and callers).
pub fn text(t: &Trace, so: &ScanOptions) -> anyhow::Result<String> {
    Overview::collect(t, so)?.text(t, SortKey::Time)
}
