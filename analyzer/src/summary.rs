//! `analyze summary`: the `strace -c` table, per process, with percentiles, as JSON.

use std::fmt::Write;

use ptrec_abi::Arch;
use ptrec_format::Tid;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::decode::secs;
use crate::stats::{Life, Stat};
use crate::tree::Tree;

/// `-S` sort keys, as strace names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum SortKey {
    #[default]
    Time,
    Calls,
    Errors,
    Name,
}

/// One table row.
pub struct Row {
    pub nr: u32,
    pub name: String,
    pub stat: Stat,
}

/// Rows sorted as strace sorts them: by the key (descending, names
/// ascending), ties in syscall number order.
pub fn rows(arch: Arch, stats: FxHashMap<u32, Stat>, key: SortKey) -> Vec<Row> {
    let mut v: Vec<Row> = stats
        .into_iter()
        .filter(|(_, s)| s.calls > 0 || s.errors > 0)
        .map(|(nr, stat)| Row {
            nr,
            name: arch.syscall_name(nr).into_owned(),
            stat,
        })
        .collect();
    v.sort_by(|a, b| {
        let o = match key {
            SortKey::Time => b.stat.time_ns.cmp(&a.stat.time_ns),
            SortKey::Calls => b.stat.calls.cmp(&a.stat.calls),
            SortKey::Errors => b.stat.errors.cmp(&a.stat.errors),
            SortKey::Name => a.name.cmp(&b.name),
        };
        o.then(a.nr.cmp(&b.nr))
    });
    v
}

fn errors_col(e: u64) -> String {
    if e == 0 {
        String::new()
    } else {
        e.to_string()
    }
}

const DASHES: &str = "------ ----------- ----------- --------- --------- ----------------";

/// The `strace -c` table. With `percentiles`, three columns of wall latency
/// (p50, p99, max in microseconds) are added before the name.
pub fn table(rows: &[Row], percentiles: bool) -> String {
    let total = Stat {
        calls: rows.iter().map(|r| r.stat.calls).sum(),
        errors: rows.iter().map(|r| r.stat.errors).sum(),
        time_ns: rows.iter().map(|r| r.stat.time_ns).sum(),
        hist: None,
    };
    table_of(rows, percentiles, &total)
}

/// [`table`] of some of the rows: percentages and the total line are of
/// `total` (the whole trace), not of the rows shown.
pub fn table_of(rows: &[Row], percentiles: bool, total: &Stat) -> String {
    let mut out = String::new();
    let total_ns = total.time_ns;
    let total_calls = total.calls;
    let total_errors = total.errors;
    let _ = write!(
        out,
        "{:>6} {:>11} {:>11} {:>9} {:>9} ",
        "% time", "seconds", "usecs/call", "calls", "errors"
    );
    if percentiles {
        let _ = write!(
            out,
            "{:>11} {:>11} {:>11} ",
            "p50 usecs", "p99 usecs", "max usecs"
        );
    }
    out.push_str("syscall\n");
    out.push_str(DASHES);
    if percentiles {
        out.insert_str(out.len() - 16, "----------- ----------- ----------- ");
    }
    out.push('\n');
    let line = |out: &mut String,
                pct: f64,
                ns: u64,
                calls: u64,
                errors: u64,
                extra: Option<&Stat>,
                name: &str| {
        let per = (ns / 1000).checked_div(calls).unwrap_or(0);
        let _ = write!(
            out,
            "{:>6.2} {:>11} {:>11} {:>9} {:>9} ",
            pct,
            secs(ns),
            per,
            calls,
            errors_col(errors)
        );
        if let Some(s) = extra {
            match &s.hist {
                Some(h) => {
                    let _ = write!(
                        out,
                        "{:>11} {:>11} {:>11} ",
                        h.quantile(0.5) / 1000,
                        h.quantile(0.99) / 1000,
                        h.max() / 1000
                    );
                }
                None => {
                    let _ = write!(out, "{:>11} {:>11} {:>11} ", "", "", "");
                }
            }
        }
        out.push_str(name);
        out.push('\n');
    };
    for r in rows {
        let pct = if total_ns > 0 {
            100.0 * r.stat.time_ns as f64 / total_ns as f64
        } else {
            0.0
        };
        line(
            &mut out,
            pct,
            r.stat.time_ns,
            r.stat.calls,
            r.stat.errors,
            percentiles.then_some(&r.stat),
            &r.name,
        );
    }
    out.push_str(DASHES);
    if percentiles {
        out.insert_str(out.len() - 16, "----------- ----------- ----------- ");
    }
    out.push('\n');
    let total_stat = Stat::default();
    line(
        &mut out,
        if total_ns > 0 { 100.0 } else { 0.0 },
        total_ns,
        total_calls,
        total_errors,
        percentiles.then_some(&total_stat),
        "total",
    );
    out
}

#[derive(Serialize)]
pub struct JsonRow {
    pub name: String,
    pub calls: u64,
    pub errors: u64,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_seconds: Option<f64>,
}

#[derive(Serialize)]
pub struct JsonTotal {
    pub calls: u64,
    pub errors: u64,
    pub seconds: f64,
}

#[derive(Serialize)]
pub struct JsonSummary {
    pub syscalls: Vec<JsonRow>,
    pub total: JsonTotal,
}

#[derive(Serialize)]
pub struct JsonProcess {
    pub pid: i32,
    /// 0 for the first process with this pid, 1 for the next (pid reuse),
    /// as in `tree --json`.
    pub generation: u32,
    pub syscalls: Vec<JsonRow>,
    pub total: JsonTotal,
}

#[derive(Serialize)]
pub struct JsonPerProcess {
    pub processes: Vec<JsonProcess>,
}

pub fn json_summary(rows: &[Row]) -> JsonSummary {
    let s = |ns: u64| ns as f64 / 1e9;
    JsonSummary {
        syscalls: rows
            .iter()
            .map(|r| JsonRow {
                name: r.name.clone(),
                calls: r.stat.calls,
                errors: r.stat.errors,
                seconds: s(r.stat.time_ns),
                p50_seconds: r.stat.hist.as_ref().map(|h| s(h.quantile(0.5))),
                p99_seconds: r.stat.hist.as_ref().map(|h| s(h.quantile(0.99))),
                max_seconds: r.stat.hist.as_ref().map(|h| s(h.max())),
            })
            .collect(),
        total: JsonTotal {
            calls: rows.iter().map(|r| r.stat.calls).sum(),
            errors: rows.iter().map(|r| r.stat.errors).sum(),
            seconds: s(rows.iter().map(|r| r.stat.time_ns).sum()),
        },
    }
}

/// Per-syscall stats of each process (a pid and its generation: a reused
/// pid is another process), in tree order: (the process's index in
/// [`Tree::processes`], its stats). Threads the tree does not know (no
/// process record of theirs) come last, one group per tid, without an
/// index.
pub fn per_process(
    stats: &FxHashMap<(Life, u32), Stat>,
    tree: &Tree,
) -> Vec<(Option<usize>, Tid, FxHashMap<u32, Stat>)> {
    let mut known: Vec<Option<FxHashMap<u32, Stat>>> = vec![None; tree.processes.len()];
    let mut unknown: FxHashMap<Tid, FxHashMap<u32, Stat>> = FxHashMap::default();
    for ((life, nr), s) in stats {
        let m = match life.process(tree) {
            Some(i) => known[i].get_or_insert_with(FxHashMap::default),
            None => unknown.entry(life.tid).or_default(),
        };
        m.entry(*nr).or_default().merge(s);
    }
    let mut out: Vec<_> = known
        .into_iter()
        .enumerate()
        .filter_map(|(i, m)| Some((Some(i), tree.processes[i].pid, m?)))
        .collect();
    let mut rest: Vec<_> = unknown.into_iter().collect();
    rest.sort_by_key(|(tid, _)| *tid);
    out.extend(rest.into_iter().map(|(tid, m)| (None, tid, m)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(calls: u64, errors: u64, us: u64) -> Stat {
        Stat {
            calls,
            errors,
            time_ns: us * 1000,
            hist: None,
        }
    }

    #[test]
    fn table_matches_strace_c_layout() {
        let mut m = FxHashMap::default();
        m.insert(257, stat(34, 13, 226));
        m.insert(9, stat(30, 0, 150));
        m.insert(0, stat(7, 0, 0));
        let t = table(&rows(Arch::X86_64, m, SortKey::Time), false);
        let expected = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 60.11    0.000226           6        34        13 openat
 39.89    0.000150           5        30           mmap
  0.00    0.000000           0         7           read
------ ----------- ----------- --------- --------- ----------------
100.00    0.000376           5        71        13 total
";
        assert_eq!(t, expected);
    }

    #[test]
    fn sort_keys_order_like_strace() {
        let mut m = FxHashMap::default();
        m.insert(1, stat(5, 0, 1));
        m.insert(0, stat(9, 2, 0));
        let names = |k| -> Vec<String> {
            rows(Arch::X86_64, m.clone(), k)
                .into_iter()
                .map(|r| r.name)
                .collect()
        };
        assert_eq!(names(SortKey::Time), ["write", "read"]);
        assert_eq!(names(SortKey::Calls), ["read", "write"]);
        assert_eq!(names(SortKey::Errors), ["read", "write"]);
        assert_eq!(names(SortKey::Name), ["read", "write"]);
    }
}
