//! `analyze output`: what processes wrote, reconstructed from the buffers
//! rec captured at write, pwrite64, writev, pwritev*, sendto and sendmsg,
//! with descriptors followed through dup, fork and exec ([`procs`]).
//!
//! Which writes:
//! - without `-p`: every write, by any process, to the place the recorded
//!   command's stdout and stderr (or its fd N) led to when the trace began
//!   (the terminal, pipe or file the user saw): the command's output, as it
//!   was printed;
//! - with `-p PID`: the writes of PID to what its own fd 1 and 2 (or N)
//!   referred to at each write (a dup of fd 2 is still its stderr).
//!
//! A write whose capture was cut at rec's `-s` is marked where the bytes are
//! missing. Text output is escaped line by line (newlines kept); `--raw`
//! writes the bytes as they were, to a pipe or file only.

use std::io::Write as _;

use anyhow::Context;
use ptrec_format::{Tid, Trace};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::decode::{escape_into, escape_lines_into, secs};
use crate::procs::{self, ObjId, Op, OpKind, Procs, Watch};

/// Which writes the view shows and how.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub pids: Vec<Tid>,
    /// The descriptors (default 1 and 2).
    pub fds: Vec<i32>,
    pub by_process: bool,
    pub raw: bool,
    pub json: bool,
    pub strict: bool,
}

/// One selected write.
#[derive(Clone, Debug, Serialize)]
pub struct Piece {
    pub pid: Tid,
    pub tid: Tid,
    /// The descriptor it was written through.
    pub fd: i32,
    /// Which of the selected descriptors it reached (1: stdout, 2: stderr).
    pub stream: i32,
    /// Seconds since the trace's first record.
    pub time: f64,
    /// Bytes written (the call's return value).
    pub len: u64,
    /// The captured bytes (lossy UTF-8 in JSON).
    #[serde(serialize_with = "lossy")]
    pub data: Vec<u8>,
    /// Fewer bytes were captured than written (rec's `-s`).
    pub cut: bool,
}

fn lossy<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(b))
}

/// The writes that reached each process's stdout/stderr, and the root's
/// objects: the part of the view that `failures` reuses.
#[derive(Default)]
pub struct Selector {
    pub pids: Vec<Tid>,
    pub fds: Vec<i32>,
    /// The started command's thread (the first the trace shows) and the
    /// objects its fds led to.
    root: Option<Tid>,
    root_objs: Vec<(i32, ObjId)>,
}

impl Selector {
    pub fn new(pids: Vec<Tid>, fds: Vec<i32>) -> Selector {
        Selector {
            pids,
            fds,
            ..Selector::default()
        }
    }

    /// Whether `op` is a selected write: the stream (selected fd) it reached.
    pub fn stream(&mut self, procs: &mut Procs, op: &Op) -> Option<i32> {
        // The places the command's fds led to when it started: after its
        // attach record and the descriptors listed with it.
        let start = !matches!(op.kind, OpKind::Attach { .. } | OpKind::OpenFd { .. });
        if self.root.is_none() && start {
            self.root = Some(op.tid);
            let root = op.tid;
            self.root_objs = self
                .fds
                .iter()
                .filter_map(|&fd| procs.fd(root, fd).map(|o| (fd, o)))
                .collect();
        }
        let OpKind::Write { fd, .. } = op.kind else {
            return None;
        };
        let obj = procs.fd(op.tid, fd)?;
        if self.pids.is_empty() {
            return self.root_objs.iter().find(|x| x.1 == obj).map(|x| x.0);
        }
        let pid = procs.pid(op.tid);
        if !self.pids.contains(&pid) && !self.pids.contains(&op.tid) {
            return None;
        }
        self.fds
            .clone()
            .into_iter()
            .find(|&f| procs.fd(op.tid, f) == Some(obj))
    }
}

/// The view as a [`Watch`]: prints as it goes.
struct View<W: std::io::Write> {
    opts: Options,
    sel: Selector,
    t0: u64,
    out: W,
    /// --by-process: each process's unfinished line.
    lines: FxHashMap<Tid, Vec<u8>>,
    /// Process names (the last exec's file name), for --by-process.
    names: FxHashMap<Tid, Vec<u8>>,
    /// The name of a process no exec names: the recorded command.
    default_name: Vec<u8>,
    cut: (u64, u64),
    pieces: Vec<Piece>,
    err: Option<std::io::Error>,
    /// Text mode: at the start of an output line.
    bol: bool,
}

fn base(p: &[u8]) -> &[u8] {
    p.rsplit(|&b| b == b'/').next().unwrap_or(p)
}

impl<W: std::io::Write> View<W> {
    fn emit(&mut self, b: &[u8]) {
        if self.err.is_none() {
            if let Err(e) = self.out.write_all(b) {
                self.err = Some(e);
            }
        }
    }

    /// `data` as text: each line escaped, newlines kept.
    fn text(&mut self, data: &[u8]) {
        let mut s = String::with_capacity(data.len() + 8);
        escape_lines_into(&mut s, data);
        self.bol = data.last() == Some(&b'\n');
        self.emit(s.as_bytes());
    }

    fn marker(&self, missing: u64) -> String {
        format!("[rec -s: {missing} more bytes not captured]")
    }

    fn prefix(&self, pid: Tid) -> Vec<u8> {
        let mut s = format!("[{pid} ");
        escape_into(
            &mut s,
            base(self.names.get(&pid).unwrap_or(&self.default_name)),
        );
        s.push_str("] ");
        s.into_bytes()
    }

    fn piece(&mut self, p: Piece) {
        let missing = p.len.saturating_sub(p.data.len() as u64);
        if p.cut {
            self.cut.0 += 1;
            self.cut.1 += missing;
        }
        if self.opts.json {
            self.pieces.push(p);
            return;
        }
        if self.opts.by_process {
            let mut buf = self.lines.remove(&p.pid).unwrap_or_default();
            buf.extend_from_slice(&p.data);
            if p.cut {
                buf.extend_from_slice(self.marker(missing).as_bytes());
            }
            while let Some(i) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=i).collect();
                self.line(p.pid, &line);
            }
            self.lines.insert(p.pid, buf);
            return;
        }
        if self.opts.raw {
            self.emit(&p.data);
        } else {
            self.text(&p.data);
            if p.cut {
                let m = self.marker(missing);
                self.emit(m.as_bytes());
                self.bol = false;
            }
        }
    }

    /// One --by-process line (with its newline, if it has one).
    fn line(&mut self, pid: Tid, line: &[u8]) {
        let mut v = self.prefix(pid);
        if self.opts.raw {
            v.extend_from_slice(line);
            self.emit(&v);
        } else {
            self.emit(&v);
            self.text(line);
        }
    }
}

impl<W: std::io::Write + Send + Sync> Watch for View<W> {
    type Chunk = ();
    fn chunk_watch(&self) {}

    fn op(&mut self, procs: &mut Procs, op: &Op) {
        match &op.kind {
            OpKind::NewChild { child, .. } => {
                let pid = procs.pid(op.tid);
                let n = self.names.get(&pid).unwrap_or(&self.default_name).clone();
                self.names.insert(*child, n);
            }
            OpKind::Exec { filename, .. } => {
                self.names.insert(procs.pid(op.tid), filename.clone());
            }
            _ => {}
        }
        let Some(stream) = self.sel.stream(procs, op) else {
            return;
        };
        let OpKind::Write { fd, data, cut } = &op.kind else {
            return;
        };
        let Some(len) = op.ret.filter(|r| *r > 0) else {
            return;
        };
        let p = Piece {
            pid: procs.pid(op.tid),
            tid: op.tid,
            fd: *fd,
            stream,
            time: op.time.saturating_sub(self.t0) as f64 / 1e9,
            len: len as u64,
            data: data.clone(),
            cut: *cut,
        };
        self.piece(p);
    }
}

#[derive(Serialize)]
struct JsonOutput<'a> {
    writes: &'a [Piece],
    /// Writes cut at rec's -s and the bytes they miss.
    cut_writes: u64,
    missing_bytes: u64,
}

/// `analyze output`.
pub fn run(t: &Trace, opts: Options) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if opts.raw && std::io::stdout().is_terminal() {
        anyhow::bail!(
            "--raw writes the recorded bytes unescaped: redirect it to a file or a pipe, not a terminal"
        );
    }
    let mut opts = opts;
    if opts.fds.is_empty() {
        opts.fds = vec![1, 2];
    }
    let stdout = std::io::stdout();
    let mut v = View {
        sel: Selector::new(opts.pids.clone(), opts.fds.clone()),
        opts,
        t0: 0,
        out: std::io::BufWriter::new(stdout),
        lines: FxHashMap::default(),
        names: FxHashMap::default(),
        default_name: t.header().argv.first().cloned().unwrap_or_default(),
        cut: (0, 0),
        pieces: Vec::new(),
        err: None,
        bol: true,
    };
    v.t0 = first_time(t);
    procs::run(
        t,
        procs::Want {
            write_data: true,
            scanned: false,
            strict: v.opts.strict,
        },
        &mut v,
    )?;
    if v.opts.by_process {
        let mut rest: Vec<(Tid, Vec<u8>)> = v.lines.drain().filter(|l| !l.1.is_empty()).collect();
        rest.sort();
        for (pid, mut line) in rest {
            line.push(b'\n');
            v.line(pid, &line);
        }
    } else if !v.opts.raw && !v.bol && !v.opts.json {
        // The output did not end with a newline: end the view's last line.
        v.emit(b"\n");
    }
    if v.opts.json {
        let j = JsonOutput {
            writes: &v.pieces,
            cut_writes: v.cut.0,
            missing_bytes: v.cut.1,
        };
        let s = serde_json::to_string_pretty(&j)? + "\n";
        v.emit(s.as_bytes());
    }
    if let Some(e) = v.err.take() {
        return Err(e).context("writing to stdout");
    }
    v.out.flush().context("writing to stdout")?;
    if v.cut.0 > 0 && v.opts.raw {
        eprintln!(
            "warning: {} writes were cut at rec's -s: {} bytes were not captured",
            v.cut.0, v.cut.1
        );
    }
    Ok(())
}

/// The time of the trace's first record (chunk 0's start), the zero of
/// relative times.
pub fn first_time(t: &Trace) -> u64 {
    t.chunks()
        .first()
        .map_or(t.header().start_mono_ns, |c| c.header.first_time)
}

/// `secs` of a relative time.
pub fn rel(t0: u64, time: u64) -> String {
    secs(time.saturating_sub(t0))
}
