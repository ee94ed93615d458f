//! `analyze files`: every path the trace touched, absolute, with what was
//! done to it and by whom. [`Files`] is the per-path aggregation over the
//! ops of [`procs`] (reused by `analyze export`); [`run`] is the view.
//!
//! Each column counts the calls that succeeded; the failed ones are counted
//! in `errors`, by errno. Bytes read and written are those of calls on a
//! descriptor of the file at that path (read/write families, sendfile,
//! splice, copy_file_range): opened by it, or by the name the file had
//! before a rename of it or of a directory above it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use clap::ValueEnum;
use ptrec_format::{Tid, Trace};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::procs::{self, Access, Op, OpKind, PathKind, Procs, Watch};
use ptrec_abi::text::{push_i64, push_right, push_u64};

/// One path's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    /// Absolute, as resolved when it was used (see [`Procs::resolve`]).
    pub path: Vec<u8>,
    /// Successful opens by access mode: read, write, read-write.
    pub opens: [u64; 3],
    /// stat, lstat, fstat, newfstatat, statx, statfs, access, faccessat,
    /// readlink: lookups that do not open.
    pub stats: u64,
    pub execs: u64,
    /// Opens with O_CREAT, mkdir, mknod, and the new names of link/symlink.
    pub creates: u64,
    /// unlink and rmdir.
    pub unlinks: u64,
    /// Renames from or to it.
    pub renames: u64,
    /// chdir, chmod, chown, truncate, utimensat, setxattr.
    pub other: u64,
    /// Failed calls by errno.
    pub errors: BTreeMap<i32, u64>,
    pub bytes_read: u64,
    pub bytes_written: u64,
    /// Thread groups that did any of it.
    pub pids: BTreeSet<Tid>,
}

impl Row {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn add_pid(&mut self, pid: Tid) {
        // Mostly the latest process to use it, and the highest pid.
        if self.pids.last() != Some(&pid) {
            self.pids.insert(pid);
        }
    }
}

/// The per-path aggregation.
#[derive(Debug, Default)]
pub struct Files {
    /// In order of first use.
    rows: Vec<Row>,
    /// Path -> its row.
    index: FxHashMap<Vec<u8>, usize>,
    /// The row used last: the calls on one file mostly follow each other
    /// (an open, then fstat, reads and close on its descriptor).
    last: usize,
    /// Only ops of these processes or threads (empty: all).
    pub pids: Vec<Tid>,
}

impl Files {
    /// The row of `path`, made when it is first seen (the only copy of a
    /// path besides the index's).
    fn row(&mut self, path: &[u8]) -> &mut Row {
        if self.rows.get(self.last).is_some_and(|r| r.path == path) {
            return &mut self.rows[self.last];
        }
        let i = match self.index.get(path) {
            Some(&i) => i,
            None => {
                let i = self.rows.len();
                self.index.insert(path.to_vec(), i);
                self.rows.push(Row {
                    path: path.to_vec(),
                    ..Row::default()
                });
                i
            }
        };
        self.last = i;
        &mut self.rows[i]
    }

    /// Counts one op (with the state before it).
    pub fn see(&mut self, procs: &mut Procs, op: &Op) {
        let pid = procs.pid(op.tid);
        if !self.pids.is_empty() && !self.pids.contains(&pid) && !self.pids.contains(&op.tid) {
            return;
        }
        let bytes = op.ret.filter(|r| *r > 0).unwrap_or(0) as u64;
        if let OpKind::Transfer { from, to } = op.kind {
            let failed = op.errno();
            for (fd, read) in [(from, true), (to, false)] {
                let Some(p) = procs.fd_path_ref(op.tid, fd) else {
                    continue;
                };
                let r = self.row(p);
                r.add_pid(pid);
                match failed {
                    Some(e) => *r.errors.entry(e).or_default() += 1,
                    None if read => r.bytes_read += bytes,
                    None => r.bytes_written += bytes,
                }
            }
            return;
        }
        let path = match &op.kind {
            OpKind::Open { .. } | OpKind::Path { .. } => procs.op_path_ref(op),
            OpKind::Read { fd } | OpKind::Write { fd, .. } => procs.fd_path_ref(op.tid, *fd),
            _ => return,
        };
        let Some(path) = path else { return };
        let r = self.row(path);
        r.add_pid(pid);
        if op.ret.is_none() {
            // The call did not return (the process died in it, the
            // recording ended): it touched the path, with no result.
            return;
        }
        if let Some(e) = op.errno() {
            *r.errors.entry(e).or_default() += 1;
            return;
        }
        match &op.kind {
            OpKind::Open { flags, .. } => {
                r.opens[Access::of(*flags) as usize] += 1;
                if procs::creates(*flags) {
                    r.creates += 1;
                }
            }
            OpKind::Path { kind, .. } => match kind {
                PathKind::Stat | PathKind::Access | PathKind::Readlink => r.stats += 1,
                PathKind::Exec => r.execs += 1,
                PathKind::Unlink | PathKind::Rmdir => r.unlinks += 1,
                PathKind::Create | PathKind::Link => r.creates += 1,
                PathKind::RenameFrom | PathKind::RenameTo | PathKind::RenameExchange => {
                    r.renames += 1
                }
                PathKind::Chdir | PathKind::Attr => r.other += 1,
            },
            OpKind::Read { .. } => r.bytes_read += bytes,
            OpKind::Write { .. } => r.bytes_written += bytes,
            _ => {}
        }
    }

    /// The rows, sorted by `key` (a count: largest first; the path: in
    /// byte order), ties by path.
    pub fn rows(&self, key: SortKey) -> Vec<&Row> {
        let mut v: Vec<&Row> = self.rows.iter().collect();
        // Paths are unique: no two rows compare equal.
        v.sort_unstable_by(|a, b| {
            let k = |r: &Row| -> u64 {
                match key {
                    SortKey::Path => 0,
                    SortKey::Opens => r.opens.iter().sum(),
                    SortKey::Stats => r.stats,
                    SortKey::Execs => r.execs,
                    SortKey::Creates => r.creates,
                    SortKey::Unlinks => r.unlinks,
                    SortKey::Renames => r.renames,
                    SortKey::Errors => r.error_count(),
                    SortKey::Read => r.bytes_read,
                    SortKey::Written => r.bytes_written,
                    SortKey::Processes => r.pids.len() as u64,
                }
            };
            k(b).cmp(&k(a)).then_with(|| a.path.cmp(&b.path))
        });
        v
    }
}

impl Watch for Files {
    type Chunk = ();
    fn chunk_watch(&self) {}
    fn op(&mut self, procs: &mut Procs, op: &Op) {
        self.see(procs, op);
    }
}

/// Columns `--sort` orders by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum SortKey {
    #[default]
    Path,
    Opens,
    Stats,
    Execs,
    Creates,
    Unlinks,
    Renames,
    Errors,
    Read,
    Written,
    Processes,
}

/// `ENOENT` for 2.
pub fn errno_name(e: i32) -> String {
    syscalls::Errno::new(e)
        .name()
        .map_or_else(|| format!("E{e}"), str::to_string)
}

/// Whether `path` matches `pattern`: a glob (`*`, `?`) that matches the
/// whole path or its last component when it holds one, else a substring.
pub fn matches(pattern: &[u8], path: &[u8]) -> bool {
    if !pattern.iter().any(|c| matches!(c, b'*' | b'?')) {
        return pattern.is_empty() || path.windows(pattern.len()).any(|w| w == pattern);
    }
    let base = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    glob(pattern, path) || glob(pattern, base)
}

fn glob(pattern: &[u8], path: &[u8]) -> bool {
    // Iterative glob with one backtrack point (the last `*`).
    let (mut p, mut s) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while s < path.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, s));
                p += 1;
            }
            Some(&c) if c == b'?' || c == path[s] => {
                p += 1;
                s += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    p = sp + 1;
                    s = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[derive(Serialize)]
struct JsonOpens {
    read: u64,
    write: u64,
    read_write: u64,
}

#[derive(Serialize)]
struct JsonRow {
    path: String,
    opens: JsonOpens,
    stats: u64,
    execs: u64,
    creates: u64,
    unlinks: u64,
    renames: u64,
    other: u64,
    errors: BTreeMap<String, u64>,
    bytes_read: u64,
    bytes_written: u64,
    processes: Vec<Tid>,
}

#[derive(Serialize)]
struct JsonFiles {
    files: Vec<JsonRow>,
}

fn json_row(r: &Row) -> JsonRow {
    JsonRow {
        path: String::from_utf8_lossy(&r.path).into_owned(),
        opens: JsonOpens {
            read: r.opens[0],
            write: r.opens[1],
            read_write: r.opens[2],
        },
        stats: r.stats,
        execs: r.execs,
        creates: r.creates,
        unlinks: r.unlinks,
        renames: r.renames,
        other: r.other,
        errors: r.errors.iter().map(|(e, n)| (errno_name(*e), *n)).collect(),
        bytes_read: r.bytes_read,
        bytes_written: r.bytes_written,
        processes: r.pids.iter().copied().collect(),
    }
}

/// The widest column's padding.
const SPACES: &str = "                ";

/// Pads what was pushed since `start` (ASCII) to `width` columns (at most
/// 16), then a space (as `{:<width$} `).
fn pad_from(s: &mut String, start: usize, width: usize) {
    s.push_str(&SPACES[..width.saturating_sub(s.len() - start)]);
    s.push(' ');
}

/// The table.
pub fn text(rows: &[&Row]) -> String {
    // A row is about 100 columns and its path.
    let mut s = String::with_capacity(rows.iter().map(|r| 100 + r.path.len()).sum::<usize>() + 128);
    let _ = writeln!(
        s,
        "{:>6} {:>6} {:>7} {:>6} {:>5} {:>6} {:>6} {:>6} {:>10} {:>10}  {:<16} {:<12} path",
        "open-r",
        "open-w",
        "open-rw",
        "stat",
        "exec",
        "creat",
        "unlink",
        "rename",
        "read",
        "written",
        "errors",
        "pids"
    );
    for r in rows {
        for (v, w) in [
            (r.opens[0], 6),
            (r.opens[1], 6),
            (r.opens[2], 7),
            (r.stats, 6),
            (r.execs, 5),
            (r.creates, 6),
            (r.unlinks, 6),
            (r.renames, 6),
            (r.bytes_read, 10),
            (r.bytes_written, 10),
        ] {
            push_right(&mut s, v, w);
            s.push(' ');
        }
        s.push(' ');
        let start = s.len();
        if r.errors.is_empty() {
            s.push('-');
        }
        for (k, (e, n)) in r.errors.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            s.push_str(&errno_name(*e));
            s.push(':');
            push_u64(&mut s, *n);
        }
        pad_from(&mut s, start, 16);
        let start = s.len();
        for (k, p) in r.pids.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            push_i64(&mut s, (*p).into());
        }
        pad_from(&mut s, start, 12);
        crate::decode::escape_into(&mut s, &r.path);
        s.push('\n');
    }
    s
}

/// Collects the aggregation of the whole trace for `pids` (empty: all).
pub fn collect(t: &Trace, pids: &[Tid], strict: bool) -> anyhow::Result<Files> {
    let mut f = Files {
        pids: pids.to_vec(),
        ..Files::default()
    };
    procs::run(
        t,
        procs::Want {
            strict,
            ..procs::Want::default()
        },
        &mut f,
    )?;
    Ok(f)
}

/// `analyze files`.
pub fn run(
    t: &Trace,
    pids: &[Tid],
    pattern: Option<&str>,
    sort: SortKey,
    json: bool,
    strict: bool,
) -> anyhow::Result<()> {
    let f = collect(t, pids, strict)?;
    let rows: Vec<&Row> = f
        .rows(sort)
        .into_iter()
        .filter(|r| pattern.is_none_or(|p| matches(p.as_bytes(), &r.path)))
        .collect();
    if json {
        let j = JsonFiles {
            files: rows.iter().map(|r| json_row(r)).collect(),
        };
        crate::out(&(serde_json::to_string_pretty(&j)? + "\n"))
    } else {
        crate::out(&text(&rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_globs_or_substrings() {
        assert!(matches(b"inc", b"/usr/include/stdio.h"));
        assert!(matches(b"*.h", b"/usr/include/stdio.h"));
        assert!(!matches(b"*.h", b"/usr/include/stdio.hpp"));
        assert!(matches(b"/usr/*/std?o.h", b"/usr/include/stdio.h"));
        assert!(matches(b"*a*b", b"xaxxb"));
        assert!(!matches(b"*a*b", b"xaxxbc"));
        assert!(matches(b"missing*", b"/usr/include/missing.h"));
        assert!(!matches(b"issing*", b"/usr/include/missing.h"));
    }

    #[test]
    fn table_rows_pad_as_fmt_does_and_overflow_their_columns() {
        let r = Row {
            path: b"/tmp/a\nb".to_vec(),
            opens: [1, 22, 333],
            stats: 1_234_567,
            execs: 123_456,
            creates: 0,
            unlinks: 7,
            renames: 1,
            other: 5,
            errors: [(2, 3), (13, 1), (1, 12)].into_iter().collect(),
            bytes_read: 123_456_789_012,
            bytes_written: 42,
            pids: [7, 100, 123_456, 4_194_304].into_iter().collect(),
        };
        let one = Row {
            path: b"/x".to_vec(),
            pids: [1].into_iter().collect(),
            ..Row::default()
        };
        let t = text(&[&r, &one]);
        let lines: Vec<&str> = t.lines().collect();
        let want = |r: &Row, errors: &str, pids: &str, path: &str| {
            format!(
                "{:>6} {:>6} {:>7} {:>6} {:>5} {:>6} {:>6} {:>6} {:>10} {:>10}  {:<16} {:<12} {}",
                r.opens[0],
                r.opens[1],
                r.opens[2],
                r.stats,
                r.execs,
                r.creates,
                r.unlinks,
                r.renames,
                r.bytes_read,
                r.bytes_written,
                errors,
                pids,
                path
            )
        };
        assert_eq!(
            lines[1],
            want(
                &r,
                "EPERM:12,ENOENT:3,EACCES:1",
                "7,100,123456,4194304",
                "/tmp/a\\nb"
            )
        );
        assert_eq!(lines[2], want(&one, "-", "1", "/x"));
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn errnos_are_named() {
        assert_eq!(errno_name(2), "ENOENT");
        assert_eq!(errno_name(13), "EACCES");
    }
}
