//! `analyze export -o DIR [--format parquet|ndjson] TRACE...`: traces as
//! one dataset that DuckDB, Spark or Trino query with a glob.
//!
//! Layout: `DIR/TABLE/trace=ID/part-N.parquet` (Hive partitioning by
//! trace), tables `calls`, `processes`, `execs`, `signals`, `files`,
//! `traces`; the columns are in [`schema`] and documented in
//! `analyzer/EXPORT.md`.
//!
//! Each trace is read through the call layer: a skim pass builds the
//! process tree (so that every row names its process and generation as
//! `analyze tree` does); then the full pass of [`procs::run`] gives each
//! chunk's calls and signals to [`procs::ChunkWatch::call`] and
//! [`procs::ChunkWatch::event`] on rayon's threads, where the rows are built, and the per-process
//! descriptor and cwd state's ops, in trace order, to [`Watch::op`], where
//! each call's absolute path and descriptor target are taken from the state
//! as it was when the call was made; [`Watch::sealed`] then completes the
//! chunk's rows and hands them to the writers, whose row groups are encoded
//! on rayon's threads ([`sink`]). Memory stays bounded by the call layer's
//! window of chunks plus a few Parquet row groups per table being written.
//! Traces are exported in parallel with each other.

pub mod schema;
pub mod sink;

use std::path::{Path, PathBuf};

use ptrec_format::{mem_flags, note_kind, Record, Tid, Trace};
use rayon::prelude::*;

use rustc_hash::FxHashMap;

use crate::calls::{Call, End, Entry, Exit};
use crate::decode::{escaped, signal_name};
use crate::files::{errno_name, Files};
use crate::procs::{self, Object, Op, OpKind, Procs, Want, Watch};
use crate::stats::{self, is_error, ScanOptions};
use crate::tree::{self, Tree};
use schema::{Calls, Execs, FilesTable, Processes, Signals, Traces};
pub use sink::Format;
use sink::Partition;

/// What one exported trace added.
#[derive(Clone, Debug, Default)]
pub struct Exported {
    pub trace_id: String,
    pub calls: u64,
    pub processes: u64,
    pub signals: u64,
    pub clean: bool,
}

/// Exports `traces` into `out` in `format`, in parallel. A trace that
/// fails leaves nothing of itself in `out` (the others are exported) and
/// makes the whole command fail.
pub fn run(out: &Path, format: Format, traces: &[PathBuf]) -> anyhow::Result<Vec<Exported>> {
    if traces.is_empty() {
        anyhow::bail!("export: no trace given");
    }
    sink::create_dir_all(out)?;
    // Two arguments naming one recording would write one partition twice.
    let mut ids: Vec<(String, &PathBuf)> = Vec::with_capacity(traces.len());
    for p in traces {
        let t = crate::open(p)?;
        let id = t.header().trace_id().to_string();
        if let Some((_, first)) = ids.iter().find(|(i, _)| *i == id) {
            anyhow::bail!(
                "{} and {} are the same recording (trace id {id})",
                escaped(first.as_os_str().as_encoded_bytes()),
                escaped(p.as_os_str().as_encoded_bytes())
            );
        }
        ids.push((id, p));
    }
    let results: Vec<anyhow::Result<Exported>> = traces
        .par_iter()
        .map(|p| export_trace(p, out, format))
        .collect();
    let mut done = Vec::new();
    let mut failed = 0;
    for (r, p) in results.into_iter().zip(traces) {
        match r {
            Ok(e) => done.push(e),
            Err(e) => {
                failed += 1;
                eprintln!(
                    "error: {}: {e:#}",
                    escaped(p.as_os_str().as_encoded_bytes())
                );
            }
        }
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} traces not exported (the other {} are in {})",
            traces.len(),
            done.len(),
            escaped(out.as_os_str().as_encoded_bytes())
        );
    }
    Ok(done)
}

/// The partitions of one trace, removed again if the export fails.
struct Partitions {
    created: Vec<PathBuf>,
    done: bool,
}

impl Drop for Partitions {
    fn drop(&mut self) {
        if !self.done {
            for d in &self.created {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
}

impl Partitions {
    fn create(
        &mut self,
        out: &Path,
        table: &str,
        id: &str,
        schema: arrow_schema::SchemaRef,
        format: Format,
    ) -> anyhow::Result<Partition> {
        let p = Partition::create(out, table, id, schema, format)?;
        self.created.push(p.dir().to_path_buf());
        Ok(p)
    }
}

fn export_trace(path: &Path, out: &Path, format: Format) -> anyhow::Result<Exported> {
    let t = crate::open(path)?;
    let arch = stats::arch(&t)?;
    let id = t.header().trace_id().to_string();
    // The skim pass: the process tree and the counts.
    let scan = stats::scan(&t, &ScanOptions::default())?;
    let tree = Tree::build(&scan.events, &scan.spans, &crate::command(&t));
    tree.warn_problems(&t);
    let clock = Clock(t.header());

    let mut parts = Partitions {
        created: Vec::new(),
        done: false,
    };
    let calls_p = parts.create(out, "calls", &id, Calls::schema(), format)?;
    let mut files_p = parts.create(out, "files", &id, FilesTable::schema(), format)?;
    let mut procs_p = parts.create(out, "processes", &id, Processes::schema(), format)?;
    let mut execs_p = parts.create(out, "execs", &id, Execs::schema(), format)?;
    let mut traces_p = parts.create(out, "traces", &id, Traces::schema(), format)?;

    let signals_p = parts.create(out, "signals", &id, Signals::schema(), format)?;
    let mut x = Exporter {
        tree: &tree,
        shape: CallRows {
            id: id.clone(),
            clock,
            tree: &tree,
            arch,
            names: (0..1024)
                .map(|nr| arch.syscall_name(nr).into_owned())
                .collect(),
            commands: tree
                .processes
                .iter()
                .map(|p| {
                    std::iter::once(&p.name)
                        .chain(p.execs.iter().map(|e| &e.filename))
                        .map(|b| utf8(b).into_owned())
                        .collect()
                })
                .collect(),
            errnos: (0..512).map(errno_name).collect(),
            trace: &t,
        },
        resolved: Resolved::default(),
        resolved_late: Resolved::default(),
        resumed_key: None,
        cwd_at_end: vec![None; tree.processes.len()],
        files: Files::default(),
        calls: calls_p,
        signals: signals_p,
        late: Rows::default(),
        error: None,
    };
    let state = procs::run(&t, Want::default(), &mut x)?;
    if let Some(e) = x.error.take() {
        return Err(e);
    }
    x.flush_late()?;
    let signal_rows = x.signals.finish()?;
    // Processes alive at the end: their cwd as the stream left it.
    for (i, p) in tree.processes.iter().enumerate() {
        if x.cwd_at_end[i].is_none() && p.exit.is_none() {
            x.cwd_at_end[i] = Some(state.cwd(p.pid).to_vec());
        }
    }
    let calls_rows = x.calls.finish()?;
    let mut fr = FilesTable::new();
    for row in x.files.rows(crate::files::SortKey::Path) {
        file_row(&mut fr, &id, row);
    }
    files_p.write(&fr.finish()?)?;
    files_p.finish()?;

    let mut pr = Processes::new();
    let mut ex = Execs::new();
    for (i, p) in tree.processes.iter().enumerate() {
        process_row(&mut pr, &id, &clock, p, x.cwd_at_end[i].as_deref());
        for (seq, e) in p.execs.iter().enumerate() {
            ex.trace_id.append_value(&id);
            ex.pid.append_value(p.pid);
            ex.generation.append_value(p.generation as i32);
            ex.tid.append_value(e.tid);
            ex.seq.append_value(seq as i32);
            ex.time.append_value(clock.us(e.time));
            ex.filename
                .append_value(String::from_utf8_lossy(&e.filename));
            append_list(&mut ex.argv, &e.argv);
        }
    }
    procs_p.write(&pr.finish()?)?;
    execs_p.write(&ex.finish()?)?;
    let proc_rows = procs_p.finish()?;
    execs_p.finish()?;

    let mut tr = Traces::new();
    trace_row(
        &mut tr,
        &TraceFacts {
            id: &id,
            path,
            t: &t,
            scan: &scan,
            clock: &clock,
            calls: calls_rows,
            processes: proc_rows,
        },
    );
    traces_p.write(&tr.finish()?)?;
    traces_p.finish()?;
    parts.done = true;
    Ok(Exported {
        trace_id: id,
        calls: calls_rows,
        processes: proc_rows,
        signals: signal_rows,
        clean: t.truncation().is_none(),
    })
}

/// Record times (CLOCK_MONOTONIC ns) to wall-clock microseconds, by the
/// header's pair of clocks ([`crate::clock::wall`]).
#[derive(Clone, Copy, Debug)]
struct Clock<'h>(&'h ptrec_format::Header);

impl Clock<'_> {
    fn us(&self, mono: u64) -> i64 {
        (crate::clock::wall(self.0, mono) / 1000).min(i64::MAX as u64) as i64
    }
}

fn append_list(
    b: &mut arrow_array::builder::ListBuilder<arrow_array::builder::StringBuilder>,
    v: &[Vec<u8>],
) {
    for a in v {
        b.values().append_value(String::from_utf8_lossy(a));
    }
    b.append(true);
}

fn process_row(
    r: &mut Processes,
    id: &str,
    clock: &Clock<'_>,
    p: &tree::Process,
    cwd: Option<&[u8]>,
) {
    r.trace_id.append_value(id);
    r.pid.append_value(p.pid);
    r.generation.append_value(p.generation as i32);
    r.parent.append_option(p.parent);
    r.start.append_value(clock.us(p.start));
    r.end.append_value(clock.us(p.end));
    match p.exit {
        Some(tree::Exit::Code { code }) => {
            r.exit_code.append_value(code);
            r.exit_signal.append_null();
            r.core_dumped.append_null();
        }
        Some(tree::Exit::Signal { signal }) => {
            r.exit_code.append_null();
            r.exit_signal.append_value(signal_name(signal.0));
            r.core_dumped.append_value(signal.1);
        }
        None => {
            r.exit_code.append_null();
            r.exit_signal.append_null();
            r.core_dumped.append_null();
        }
    }
    r.threads.append_value(p.threads.len() as i32);
    r.execs.append_value(p.execs.len() as i32);
    r.command.append_value(String::from_utf8_lossy(p.command()));
    match (p.execs.first(), p.execs.last()) {
        (Some(f), Some(l)) => {
            append_list(&mut r.first_argv, &f.argv);
            append_list(&mut r.last_argv, &l.argv);
        }
        _ => {
            r.first_argv.append(false);
            r.last_argv.append(false);
        }
    }
    r.cwd.append_option(cwd.map(String::from_utf8_lossy));
}

struct TraceFacts<'a> {
    id: &'a str,
    path: &'a Path,
    t: &'a Trace,
    scan: &'a stats::Scan,
    clock: &'a Clock<'a>,
    calls: u64,
    processes: u64,
}

fn trace_row(r: &mut Traces, f: &TraceFacts<'_>) {
    let h = f.t.header();
    r.trace_id.append_value(f.id);
    r.file.append_value(String::from_utf8_lossy(
        f.path.as_os_str().as_encoded_bytes(),
    ));
    r.file_bytes.append_value(f.t.file_len() as i64);
    r.format_version.append_value(f.t.version() as i32);
    r.recorder.append_value(&h.recorder_version);
    r.hostname.append_value(&h.hostname);
    r.kernel.append_value(&h.kernel_release);
    append_list(&mut r.command, &h.argv);
    r.cwd.append_value(String::from_utf8_lossy(&h.cwd));
    r.start.append_value(f.clock.us(h.start_mono_ns));
    let last = f.scan.last_time.max(h.start_mono_ns);
    r.end.append_value(f.clock.us(last));
    r.duration_ns
        .append_value((last - h.start_mono_ns).min(i64::MAX as u64) as i64);
    match f.t.truncation() {
        None => {
            r.clean.append_value(true);
            r.truncation.append_null();
        }
        Some(c) => {
            r.clean.append_value(false);
            r.truncation.append_value(c.to_string());
        }
    }
    r.chunks.append_value(f.t.chunks().len() as i64);
    r.chunks_skipped.append_value(f.scan.skipped.len() as i64);
    r.records.append_value(f.scan.records as i64);
    r.calls.append_value(f.calls as i64);
    r.processes.append_value(f.processes as i64);
    let dropped: u64 = f
        .scan
        .events
        .iter()
        .filter_map(|e| match e {
            stats::Event::Note { kind, value, .. } if *kind == note_kind::RECORDS_DROPPED => {
                Some(*value)
            }
            _ => None,
        })
        .sum();
    r.records_dropped.append_value(dropped as i64);
    r.unknown_records.append_value(f.scan.unknown as i64);
    r.string_limit.append_value(h.options.string_limit as i32);
    r.filter.append_value(&h.options.filter);
    r.cpu_times.append_value(h.options.cpu_times);
}

/// A chunk's call rows, built in parallel: every column but `path` and
/// `fd_target`, which [`Watch::extra`] fills from `keys` in order; and the
/// chunk's signal rows (complete).
#[derive(Default)]
pub struct Rows {
    calls: Calls,
    /// Per row: (tid, entry time), the key of the call's ops.
    keys: Vec<(Tid, u64)>,
    signals: Signals,
}

/// What the state said of one call: its path and descriptor target, as
/// ranges of [`Resolved::bytes`] (the first op that gave each wins).
#[derive(Clone, Copy, Default)]
struct Found {
    path: Option<(u32, u32)>,
    fd_target: Option<(u32, u32)>,
}

/// The paths and descriptor targets of calls whose ops were applied but
/// whose rows are not written yet, by (tid, entry time): one arena of
/// bytes per set, so that no call allocates.
#[derive(Default)]
struct Resolved {
    by_call: FxHashMap<(Tid, u64), Found>,
    bytes: Vec<u8>,
}

impl Resolved {
    fn range(&self, r: Option<(u32, u32)>) -> Option<&[u8]> {
        r.and_then(|(at, len)| self.bytes.get(at as usize..(at + len) as usize))
    }

    /// Adds what `add` appends to the arena as the key's path (`path`
    /// true) or descriptor target, unless the key has one already.
    fn add(&mut self, key: (Tid, u64), path: bool, add: impl FnOnce(&mut Vec<u8>)) {
        let f = self.by_call.entry(key).or_default();
        let slot = if path { &mut f.path } else { &mut f.fd_target };
        if slot.is_some() {
            return;
        }
        let at = self.bytes.len();
        add(&mut self.bytes);
        let len = self.bytes.len() - at;
        match (u32::try_from(at), u32::try_from(len)) {
            (Ok(at), Ok(len)) => *slot = Some((at, len)),
            // Beyond 4 GiB of paths in one chunk: the value is dropped.
            _ => self.bytes.truncate(at),
        }
    }

    fn clear(&mut self) {
        self.by_call.clear();
        self.bytes.clear();
    }
}

/// Text of recorded bytes for a column: as it is when it is UTF-8 (the
/// fast check), else with U+FFFD for each invalid sequence.
fn utf8(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => s.into(),
        Err(_) => String::from_utf8_lossy(b),
    }
}

struct Exporter<'t> {
    tree: &'t Tree,
    /// The per-chunk part: the columns of each call's row.
    shape: CallRows<'t>,
    /// Paths and descriptor targets of the calls of the chunk being
    /// completed (cleared when its rows are written) ...
    resolved: Resolved,
    /// ... and of the calls resumed from an earlier chunk or open at the
    /// end, whose rows wait in `late`.
    resolved_late: Resolved,
    /// The call [`Watch::resumed`] announced: its ops come next.
    resumed_key: Option<(Tid, u64)>,
    /// Per process of the tree: its cwd when its leader died.
    cwd_at_end: Vec<Option<Vec<u8>>>,
    files: Files,
    /// Written sequentially (`sealed`, on the merge thread); its row
    /// groups are encoded on rayon's threads.
    calls: Partition,
    /// The signal rows of each chunk, built with its calls.
    signals: Partition,
    /// Rows of calls that ended in a later chunk than they began, and of
    /// calls still open at the end (made in trace order, not in parallel).
    late: Rows,
    error: Option<anyhow::Error>,
}

fn flag_bits(e: &Entry<'_>, x: Option<&Exit<'_>>) -> (bool, bool) {
    let mut cut = false;
    let mut unreadable = false;
    let exit_mem = x.map(|x| x.mem);
    for m in e.mem.iter().chain(exit_mem.iter().flat_map(|c| c.iter())) {
        cut |= m.flags & (mem_flags::TRUNCATED | mem_flags::PARTIAL) != 0;
        unreadable |= m.flags & mem_flags::UNREADABLE != 0;
    }
    (cut, unreadable)
}

/// What a descriptor refers to, for `calls.fd_target`, appended to `b`.
fn object_text(o: &Object, b: &mut Vec<u8>) {
    match o {
        Object::File(p) => b.extend_from_slice(p),
        Object::Inherited { fd, .. } => {
            use std::io::Write;
            let _ = write!(b, "inherited:[{fd}]");
        }
        Object::Anon(what) => b.extend_from_slice(what.as_bytes()),
        Object::Named(name) => b.extend_from_slice(name),
    }
}

/// What the columns of a call's row are made from, apart from the
/// per-process state (on rayon's threads).
#[derive(Clone)]
struct CallRows<'t> {
    id: String,
    clock: Clock<'t>,
    tree: &'t Tree,
    /// The trace's architecture: its syscall names.
    arch: ptrec_abi::Arch,
    names: std::sync::Arc<[String]>,
    /// Per process of the tree: its name, then the filename of each exec,
    /// as column text (converted once, not per call).
    commands: std::sync::Arc<[Vec<String>]>,
    /// Errno names by number, made once (errno_name allocates).
    errnos: std::sync::Arc<[String]>,
    trace: &'t Trace,
}

impl procs::ChunkWatch for CallRows<'_> {
    type Extra<'a> = Rows;
    type Sealed = Rows;

    fn extra<'a>(&self, index: usize) -> Self::Extra<'a> {
        // A call is at least its entry record; most are an entry and an
        // exit. The bound keeps a corrupt header from reserving much.
        let records = self
            .trace
            .chunks()
            .get(index)
            .map_or(0, |c| c.header.record_count as usize);
        let rows = (records / 2 + 64).min(1 << 16);
        Rows {
            calls: Calls::with_capacity(rows),
            keys: Vec::with_capacity(rows),
            signals: Signals::new(),
        }
    }

    fn call<'a>(&self, rows: &mut Rows, c: &Call<'a>) {
        self.push_call(rows, &c.entry, c.exit.as_ref(), Some(c.end));
    }

    fn event<'a>(&self, rows: &mut Rows, r: &Record<'a>) {
        self.push_signal(&mut rows.signals, r);
    }

    fn seal(&self, rows: Rows) -> Rows {
        rows
    }
}

impl CallRows<'_> {
    fn name(&self, nr: u32) -> std::borrow::Cow<'_, str> {
        match self.names.get(nr as usize) {
            Some(n) => n.as_str().into(),
            None => self.arch.syscall_name(nr),
        }
    }

    /// Every column of a call's row but `path` and `fd_target`. `end`
    /// None: the trace ended inside the call.
    fn push_call(&self, r: &mut Rows, e: &Entry<'_>, x: Option<&Exit<'_>>, end: Option<End>) {
        let c = &mut r.calls;
        let (pid, generation, command) = match self.tree.index_at(e.tid, e.time) {
            Some(i) => {
                let p = &self.tree.processes[i];
                // As Process::command_at: the last exec at or before the call.
                let k = p
                    .execs
                    .iter()
                    .rposition(|x| x.time <= e.time)
                    .map_or(0, |k| k + 1);
                let command = self.commands.get(i).and_then(|c| c.get(k));
                (
                    p.pid,
                    p.generation as i32,
                    command.map_or("", |c| c.as_str()),
                )
            }
            None => (e.tid, 0, ""),
        };
        r.keys.push((e.tid, e.time));
        c.trace_id.append_value(&self.id);
        c.pid.append_value(pid);
        c.generation.append_value(generation);
        c.tid.append_value(e.tid);
        c.command.append_value(command);
        c.syscall.append_value(self.name(e.nr));
        c.nr.append_value(e.nr as i32);
        c.arg0.append_value(e.args[0] as i64);
        c.arg1.append_value(e.args[1] as i64);
        c.arg2.append_value(e.args[2] as i64);
        c.arg3.append_value(e.args[3] as i64);
        c.arg4.append_value(e.args[4] as i64);
        c.arg5.append_value(e.args[5] as i64);
        match x {
            Some(x) => {
                c.ret.append_value(x.ret);
                if is_error(x.ret) {
                    let e = -x.ret as i32;
                    match self.errnos.get(e as usize) {
                        Some(name) => c.errno.append_value(name),
                        None => c.errno.append_value(errno_name(e)),
                    }
                } else {
                    c.errno.append_null();
                }
                c.exit_time.append_value(self.clock.us(x.time));
                c.wall_ns
                    .append_value(x.time.saturating_sub(e.time).min(i64::MAX as u64) as i64);
            }
            None => {
                c.ret.append_null();
                c.errno.append_null();
                c.exit_time.append_null();
                c.wall_ns.append_null();
            }
        }
        c.enter_time.append_value(self.clock.us(e.time));
        match (e.stime_us, x.and_then(|x| x.stime_us)) {
            (Some(a), Some(b)) => c.cpu_us.append_value(b.saturating_sub(a) as i64),
            _ => c.cpu_us.append_null(),
        }
        c.end.append_value(match end {
            None => "unfinished",
            Some(End::Returned) => "returned",
            Some(End::Death) => "death",
            Some(End::Lost) => "lost",
        });
        let (cut, unreadable) = flag_bits(e, x);
        c.cut.append_value(cut);
        c.unreadable.append_value(unreadable);
    }
}

impl Exporter<'_> {
    /// Fills `path` and `fd_target` of `rows` from what the ops said (in
    /// `resolved`, or `resolved_late` for the late rows), and writes them.
    fn complete(&mut self, mut rows: Rows, late: bool) -> anyhow::Result<()> {
        let res = if late {
            &mut self.resolved_late
        } else {
            &mut self.resolved
        };
        let c = &mut rows.calls;
        if res.by_call.is_empty() {
            // No op of these calls named a path or a descriptor.
            c.path.append_nulls(rows.keys.len());
            c.fd_target.append_nulls(rows.keys.len());
        } else {
            for k in &rows.keys {
                let f = res.by_call.get(k).copied().unwrap_or_default();
                c.path.append_option(res.range(f.path).map(utf8));
                c.fd_target.append_option(res.range(f.fd_target).map(utf8));
            }
        }
        res.clear();
        let batch = rows.calls.finish()?;
        self.calls.write(&batch)
    }

    fn write_signals(&mut self, s: &mut Signals) -> anyhow::Result<()> {
        if !s.is_empty() {
            self.signals.write(&s.finish()?)?;
        }
        Ok(())
    }

    fn flush_late(&mut self) -> anyhow::Result<()> {
        if !self.late.keys.is_empty() {
            let late = std::mem::take(&mut self.late);
            self.complete(late, true)?;
        }
        Ok(())
    }
}

impl<'t> Watch for Exporter<'t> {
    type Chunk = CallRows<'t>;

    fn chunk_watch(&self) -> CallRows<'t> {
        self.shape.clone()
    }

    fn resumed(&mut self, e: &Entry<'_>, x: Option<&Exit<'_>>, end: Option<End>) {
        let mut late = std::mem::take(&mut self.late);
        self.shape.push_call(&mut late, e, x, end);
        self.late = late;
        self.resumed_key = Some((e.tid, e.time));
    }

    fn sealed(&mut self, rows: Rows) {
        if self.error.is_some() {
            return;
        }
        self.resumed_key = None;
        let mut rows = rows;
        let r = self
            .write_signals(&mut rows.signals)
            .and_then(|()| self.complete(rows, false))
            .and_then(|()| {
                if self.late.keys.len() >= sink::ROW_GROUP_ROWS {
                    self.flush_late()
                } else {
                    Ok(())
                }
            });
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    fn op(&mut self, procs: &mut Procs, op: &Op) {
        self.files.see(procs, op);
        let tid = op.tid;
        let fd = match op.kind {
            OpKind::Death { .. } => {
                // Before the state forgets the leader: the process's cwd.
                if let Some(i) = self.tree.index_at(tid, op.time) {
                    if self.tree.processes[i].pid == tid {
                        self.cwd_at_end[i] = Some(procs.cwd(tid).to_vec());
                    }
                }
                return;
            }
            OpKind::NewChild { .. } | OpKind::Exec { .. } | OpKind::Attach { .. } => return,
            OpKind::Path { fd, .. } => fd,
            OpKind::Close { fd }
            | OpKind::Read { fd }
            | OpKind::Write { fd, .. }
            | OpKind::SetCloexec { fd, .. } => Some(fd),
            OpKind::Dup { old, .. } => Some(old),
            OpKind::Transfer { from, .. } => Some(from),
            _ => None,
        };
        let key = (tid, op.time);
        let res = if self.resumed_key == Some(key) {
            &mut self.resolved_late
        } else {
            &mut self.resolved
        };
        if let Some(p) = procs.op_path_ref(op) {
            res.add(key, true, |b| b.extend_from_slice(p));
        }
        if let Some(o) = fd.and_then(|fd| procs.fd(tid, fd)) {
            let o = procs.object(o);
            res.add(key, false, |b| object_text(o, b));
        }
    }
}

fn file_row(r: &mut FilesTable, id: &str, f: &crate::files::Row) {
    r.trace_id.append_value(id);
    r.path.append_value(String::from_utf8_lossy(&f.path));
    for p in &f.pids {
        r.pids.values().append_value(*p);
    }
    r.pids.append(true);
    r.opens_read.append_value(f.opens[0] as i64);
    r.opens_write.append_value(f.opens[1] as i64);
    r.opens_read_write.append_value(f.opens[2] as i64);
    r.stats.append_value(f.stats as i64);
    r.execs.append_value(f.execs as i64);
    r.creates.append_value(f.creates as i64);
    r.unlinks.append_value(f.unlinks as i64);
    r.renames.append_value(f.renames as i64);
    r.other.append_value(f.other as i64);
    r.errors.append_value(f.error_count() as i64);
    for (errno, n) in &f.errors {
        r.errnos
            .values()
            .append_value(format!("{}:{n}", errno_name(*errno)));
    }
    r.errnos.append(true);
    r.bytes_read.append_value(f.bytes_read as i64);
    r.bytes_written.append_value(f.bytes_written as i64);
}

impl CallRows<'_> {
    /// The row of a signal-delivery-stop or group-stop (other records add none).
    fn push_signal(&self, s: &mut Signals, r: &Record<'_>) {
        let (tid, time, signo, kind, info) = match *r {
            Record::SignalDelivery {
                tid,
                time,
                signo,
                siginfo,
            } => (tid, time, signo, "delivery", Some(siginfo)),
            Record::GroupStop { tid, time, signo } => (tid, time, signo, "group-stop", None),
            _ => return,
        };
        let (pid, generation) = match self.tree.process_at(tid, time) {
            Some(p) => (p.pid, p.generation as i32),
            None => (tid, 0),
        };
        s.trace_id.append_value(&self.id);
        s.pid.append_value(pid);
        s.generation.append_value(generation);
        s.tid.append_value(tid);
        s.time.append_value(self.clock.us(time));
        s.kind.append_value(kind);
        s.signal.append_value(signal_name(signo));
        s.signo.append_value(signo);
        let i32_at = |b: &[u8], at: usize| {
            b.get(at..at + 4)
                .map(|s| i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        };
        let code = info.and_then(|b| i32_at(b, 8));
        s.si_code.append_option(code);
        // si_pid is meaningful for kill (SI_USER), sigqueue (SI_QUEUE),
        // tkill/tgkill (SI_TKILL) and SIGCHLD; elsewhere the union holds
        // other fields (a fault address, a timer id).
        const SIGCHLD: i32 = 17;
        let has_pid = matches!(code, Some(0 | -1 | -6)) || (code.is_some() && signo == SIGCHLD);
        s.si_pid
            .append_option(info.filter(|_| has_pid).and_then(|b| i32_at(b, 16)));
    }
}
