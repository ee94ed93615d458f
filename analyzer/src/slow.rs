//! `analyze slow`: the N slowest calls by wall time (entry stop to exit
//! stop), each with its process, its arguments decoded as `replay` shows
//! them and when it happened; and per syscall its latency distribution:
//! exact percentiles (nearest rank over every returned call's latency, kept
//! as one u64 per call) and a histogram by decade with exact counts.
//!
//! A call that never returned (its thread died in it, the recording ended)
//! has no latency and is left out of both.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write;

use ptrec_format::{Tid, Trace};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::calls::{self, Call, ChunkMeta, Item, Mode, OwnedEntry, OwnedExit};
use crate::clock;
use crate::decode::{escaped, secs};
use crate::filter::Filter;
use crate::replay::call_line;
use crate::stats::{self, ScanOptions};
use crate::tree::Tree;

/// Bytes of each buffer shown in a quoted call.
const CALL_LIMIT: usize = 64;

/// Upper bounds of the histogram's buckets, nanoseconds (the last is open).
pub const DECADES: [u64; 7] = [
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// One of the slowest calls.
#[derive(Clone, Debug)]
pub struct Slow {
    pub ns: u64,
    pub tid: Tid,
    pub time: u64,
    pub nr: u32,
    pub line: String,
}

/// Kept per chunk: the chunk's N slowest calls (borrowed, formatted at
/// seal) and every latency by syscall.
pub struct Part<'a> {
    top: BinaryHeap<Reverse<(u64, u64, Tid, Cand<'a>)>>,
    lat: FxHashMap<u32, Vec<u64>>,
    /// Per Item::Resumed: its exit (when shown), filled with its entry in finish.
    resumed: Vec<Option<OwnedExit>>,
}

/// A call in a heap (ordered by the key beside it only).
#[derive(Clone, Copy)]
pub struct Cand<'a>(Call<'a>);

impl PartialEq for Cand<'_> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Cand<'_> {}
impl PartialOrd for Cand<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Cand<'_> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

pub struct Sealed {
    top: Vec<Slow>,
    lat: FxHashMap<u32, Vec<u64>>,
    resumed: Vec<Option<OwnedExit>>,
}

struct Collector {
    n: usize,
    filter: Filter,
    top: Vec<Slow>,
    lat: FxHashMap<u32, Vec<u64>>,
}

impl Collector {
    fn keep(&mut self, mut more: Vec<Slow>) {
        self.top.append(&mut more);
        self.top
            .sort_by(|a, b| b.ns.cmp(&a.ns).then(a.time.cmp(&b.time)));
        self.top.truncate(self.n);
    }
}

impl crate::calls::Walk for Collector {
    type Part<'a> = Part<'a>;
    type Sealed = Sealed;

    fn part<'a>(&self, _index: usize) -> Part<'a> {
        Part {
            top: BinaryHeap::new(),
            lat: FxHashMap::default(),
            resumed: Vec::new(),
        }
    }

    fn item<'a>(&self, p: &mut Part<'a>, item: Item<'_, 'a>) {
        match item {
            Item::Call(c) => {
                let Some(x) = &c.exit else { return };
                if !self.filter.shows(c.entry.nr) {
                    return;
                }
                let ns = x.time.saturating_sub(c.entry.time);
                p.lat.entry(c.entry.nr).or_default().push(ns);
                if self.n == 0 {
                    return;
                }
                // Ties: the earlier call ranks first (the heap evicts the later).
                let key = Reverse((ns, u64::MAX - c.entry.time, c.entry.tid, Cand(*c)));
                if p.top.len() < self.n {
                    p.top.push(key);
                } else if p.top.peek().is_some_and(|min| key < *min) {
                    p.top.pop();
                    p.top.push(key);
                }
            }
            Item::Resumed(r) => p.resumed.push(r.exit.as_ref().map(OwnedExit::of)),
            Item::Enter(_) | Item::Event(_) => {}
        }
    }

    fn seal(&self, p: Part<'_>) -> Sealed {
        let top = p
            .top
            .into_iter()
            .map(|Reverse((ns, _, tid, Cand(c)))| Slow {
                ns,
                tid,
                time: c.entry.time,
                nr: c.entry.nr,
                line: call_line(&c.entry, c.exit.as_ref(), CALL_LIMIT),
            })
            .collect();
        Sealed {
            top,
            lat: p.lat,
            resumed: p.resumed,
        }
    }
}

impl crate::calls::Merge for Collector {
    type Sealed = Sealed;

    fn finish(
        &mut self,
        _meta: &ChunkMeta,
        p: Sealed,
        entries: &[Option<OwnedEntry>],
    ) -> anyhow::Result<()> {
        let mut more = p.top;
        for (x, e) in p.resumed.iter().zip(entries) {
            let (Some(x), Some(e)) = (x, e) else { continue };
            if !self.filter.shows(e.nr) {
                continue;
            }
            let ns = x.time.saturating_sub(e.time);
            self.lat.entry(e.nr).or_default().push(ns);
            if self.n > 0 {
                more.push(Slow {
                    ns,
                    tid: e.tid,
                    time: e.time,
                    nr: e.nr,
                    line: call_line(&e.entry(), Some(&x.exit()), CALL_LIMIT),
                });
            }
        }
        for (nr, mut v) in p.lat {
            self.lat.entry(nr).or_default().append(&mut v);
        }
        self.keep(more);
        Ok(())
    }

    fn skipped(&mut self, _index: usize, _reason: &str) -> anyhow::Result<()> {
        Ok(())
    }

    fn end(&mut self, _open: Vec<OwnedEntry>) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A syscall's latency distribution.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub name: String,
    pub calls: u64,
    pub total_ns: u64,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
    /// Calls per bucket: `le_ns` is the bucket's upper bound (null: above
    /// the last).
    pub histogram: Vec<Bucket>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Bucket {
    pub le_ns: Option<u64>,
    pub count: u64,
}

/// The value at quantile `q` of sorted `v`: nearest rank (the smallest
/// value with at least q of the values at or below it), exact.
pub fn nearest_rank(v: &[u64], q: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn latency(arch: ptrec_abi::Arch, nr: u32, mut v: Vec<u64>) -> Latency {
    v.sort_unstable();
    let mut histogram: Vec<Bucket> = DECADES
        .iter()
        .map(|&le| Bucket {
            le_ns: Some(le),
            count: 0,
        })
        .collect();
    histogram.push(Bucket {
        le_ns: None,
        count: 0,
    });
    for &ns in &v {
        let i = DECADES.partition_point(|&le| le < ns);
        histogram[i].count += 1;
    }
    Latency {
        name: arch.syscall_name(nr).into(),
        calls: v.len() as u64,
        total_ns: v.iter().sum(),
        p50_ns: nearest_rank(&v, 0.50),
        p90_ns: nearest_rank(&v, 0.90),
        p99_ns: nearest_rank(&v, 0.99),
        max_ns: v.last().copied().unwrap_or(0),
        histogram,
    }
}

#[derive(Serialize)]
struct JsonSlow {
    pid: Tid,
    tid: Tid,
    syscall: String,
    call: String,
    seconds: f64,
    start: When,
}

#[derive(Serialize)]
struct When {
    relative: f64,
    wall: String,
}

#[derive(Serialize)]
struct JsonReport {
    slowest: Vec<JsonSlow>,
    latency: Vec<Latency>,
}

fn dur(ns: u64) -> String {
    match ns {
        0..=999 => format!("{ns}ns"),
        1_000..=999_999 => format!("{:.1}us", ns as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.1}ms", ns as f64 / 1e6),
        _ => format!("{:.2}s", ns as f64 / 1e9),
    }
}

/// `analyze slow`.
pub fn run(
    t: &Trace,
    so: &ScanOptions,
    n: usize,
    exprs: &[String],
    json: bool,
) -> anyhow::Result<()> {
    let arch = stats::arch(t)?;
    let filter = Filter::parse(arch, exprs)?;
    let scan = stats::scan(t, so)?;
    let tree = Tree::build(&scan.events, &scan.spans, &crate::command(t));
    let t0 = scan.first_time.unwrap_or(0);
    let mut c = Collector {
        n,
        filter,
        top: Vec::new(),
        lat: FxHashMap::default(),
    };
    calls::run(t, Mode::Full, &mut c)?;
    let mut lat: Vec<Latency> = c
        .lat
        .into_iter()
        .map(|(nr, v)| latency(arch, nr, v))
        .collect();
    lat.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then(a.name.cmp(&b.name)));
    let h = t.header();
    let pid = |s: &Slow| tree.pid_at(s.tid, s.time);
    if json {
        let j = JsonReport {
            slowest: c
                .top
                .iter()
                .map(|s| JsonSlow {
                    pid: pid(s),
                    tid: s.tid,
                    syscall: arch.syscall_name(s.nr).into(),
                    call: s.line.clone(),
                    seconds: s.ns as f64 / 1e9,
                    start: When {
                        relative: s.time.saturating_sub(t0) as f64 / 1e9,
                        wall: clock::rfc3339(clock::wall(h, s.time)),
                    },
                })
                .collect(),
            latency: lat,
        };
        return crate::out(&(serde_json::to_string_pretty(&j)? + "\n"));
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} slowest calls (wall time, entry to exit):",
        c.top.len()
    );
    let _ = writeln!(
        s,
        "{:>10}  {:>11}  {:<26}  {:>7}  call",
        "time", "at", "wall clock", "pid"
    );
    for x in &c.top {
        let p = pid(x);
        let who = match tree.index_at(x.tid, x.time) {
            Some(i) => {
                let c = tree.processes[i].command();
                escaped(c.rsplit(|&b| b == b'/').next().unwrap_or(c))
            }
            None => String::new(),
        };
        let tid = if x.tid == p {
            String::new()
        } else {
            format!("[{}] ", x.tid)
        };
        let _ = writeln!(
            s,
            "{:>10}  +{:>10}  {:<26}  {:>7}  {who}: {tid}{}",
            dur(x.ns),
            secs(x.time.saturating_sub(t0)),
            clock::local_text(clock::wall(h, x.time)),
            p,
            x.line
        );
    }
    let _ = writeln!(
        s,
        "\nlatency per syscall (exact nearest-rank percentiles; calls per bucket):"
    );
    let _ = writeln!(
        s,
        "{:<20} {:>8} {:>9} {:>9} {:>9} {:>9}  {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "syscall",
        "calls",
        "p50",
        "p90",
        "p99",
        "max",
        "<=1us",
        "<=10us",
        "<=100us",
        "<=1ms",
        "<=10ms",
        "<=100ms",
        "<=1s",
        ">1s"
    );
    for l in &lat {
        let _ = write!(
            s,
            "{:<20} {:>8} {:>9} {:>9} {:>9} {:>9} ",
            l.name,
            l.calls,
            dur(l.p50_ns),
            dur(l.p90_ns),
            dur(l.p99_ns),
            dur(l.max_ns)
        );
        for b in &l.histogram {
            let _ = write!(s, " {:>6}", b.count);
        }
        s.push('\n');
    }
    crate::out(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_exact_nearest_ranks() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&v, 0.5), 50);
        assert_eq!(nearest_rank(&v, 0.99), 99);
        assert_eq!(nearest_rank(&v, 1.0), 100);
        assert_eq!(nearest_rank(&[7], 0.5), 7);
        assert_eq!(nearest_rank(&[], 0.5), 0);
        // 1001 ns is not rounded to a bucket edge.
        let l = latency(ptrec_abi::Arch::X86_64, 0, vec![1001, 5, 1_000_000_001]);
        assert_eq!((l.p50_ns, l.max_ns), (1001, 1_000_000_001));
        let counts: Vec<u64> = l.histogram.iter().map(|b| b.count).collect();
        assert_eq!(counts, [1, 1, 0, 0, 0, 0, 0, 1]);
    }
}
