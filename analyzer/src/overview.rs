//! `analyze` alone: the command, its duration, processes, the first levels
//! of the tree, the top syscalls by time and the errors.

use std::fmt::Write;

use ptrec_format::Trace;

use crate::decode::secs;
use crate::stats::{self, ScanOptions};
use crate::summary::{self, SortKey};
use crate::tree::{Limits, Tree};

pub fn run(t: &Trace, so: &ScanOptions) -> anyhow::Result<()> {
    crate::out(&text(t, so)?)
}

pub fn text(t: &Trace, so: &ScanOptions) -> anyhow::Result<String> {
    let p = stats::scan(t, so)?;
    let tree = Tree::build(&p.events, &p.spans, &crate::command(t));
    let cmd = crate::command_text(t);
    tree.warn_problems(t);
    let first = p.first_time.unwrap_or(0);
    let mut s = String::new();
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
    let threads: usize = tree.processes.iter().map(|p| p.threads.len()).sum();
    let _ = writeln!(
        s,
        "processes:  {} ({} threads), {} stops recorded",
        tree.processes.len(),
        threads,
        p.records
    );
    if let Some(c) = t.truncation() {
        let _ = writeln!(s, "truncated:  {c}");
    }
    for k in &p.skipped {
        let _ = writeln!(s, "skipped:    chunk {} ({})", k.chunk, k.reason);
    }
    s.push_str("\nprocess tree:\n");
    s.push_str(&tree.text(
        first,
        Limits {
            depth: Some(3),
            children: Some(8),
            argv_chars: Some(160),
        },
    ));
    let rows = summary::rows(p.by_syscall(), SortKey::Time);
    let _ = writeln!(s, "\ntop syscalls by time:");
    let top: Vec<_> = rows.into_iter().take(10).collect();
    s.push_str(&summary::table(&top, false));
    let mut errs: Vec<(String, u64)> = summary::rows(p.by_syscall(), SortKey::Errors)
        .into_iter()
        .filter(|r| r.stat.errors > 0)
        .map(|r| (r.name, r.stat.errors))
        .collect();
    let total: u64 = errs.iter().map(|e| e.1).sum();
    let _ = writeln!(s, "\nerrors: {total}");
    errs.truncate(10);
    for (name, n) in errs {
        let _ = writeln!(s, "  {name:<20} {n}");
    }
    Ok(s)
}
