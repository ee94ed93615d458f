//! `analyze timeline -o FILE`: the trace as a Perfetto trace (its protobuf
//! format; ui.perfetto.dev and Perfetto's trace processor open it).
//!
//! - A track per process, named by its command and renamed at each exec
//!   (its descriptor is emitted again then), and under it one per thread.
//! - A slice per syscall on its thread's track, from entry to exit, named
//!   by the syscall, with its decoded arguments, return value and errno as
//!   debug annotations. A call that did not return ends at the thread's
//!   death (or where it was cut off, or at the trace's end).
//! - Instants for signal deliveries, group-stops, execs and exits.
//! - A flow from each fork/vfork/clone (an instant on the creating thread)
//!   to the child (an instant on the child's first track).
//! - `-e SET`, `-p PID`, `--min-duration` keep a big trace small: they
//!   select the syscall slices (and `-p` the tracks and instants too).
//!
//! Timestamps are the trace's CLOCK_MONOTONIC nanoseconds. Packets are
//! encoded per chunk in parallel and written in chunk order.

pub mod perfetto;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use prost::Message;
use ptrec_abi::decode::{self as abi, Style};
use ptrec_format::{ChildKind, Mem, Record, Termination, Tid, Trace};
use rustc_hash::FxHashMap;

use crate::calls::{self, Call, ChunkMeta, End, Entry, Exit, Item, Mode, OwnedEntry};
use crate::decode::signal_name;
use crate::files::errno_name;
use crate::filter::Filter;
use crate::stats::{self, is_error, ScanOptions};
use crate::tree::Tree;
use perfetto::{
    DebugAnnotation, EventType, ProcessDescriptor, ThreadDescriptor, TracePacket, TrackDescriptor,
    TrackEvent,
};

/// Bytes of each buffer shown in a slice's arguments.
const ARG_LIMIT: usize = 64;
/// The one packet sequence of the file.
const SEQ: u32 = 1;

/// What to keep.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub exprs: Vec<String>,
    pub pids: Vec<Tid>,
    /// Slices shorter than this (nanoseconds) are left out.
    pub min_duration_ns: u64,
}

/// Track uuids: a process by its index in the tree, a thread by that and
/// its tid (so that reused pids and tids stay apart).
fn process_uuid(i: usize) -> u64 {
    (i as u64 + 1) << 32
}

fn thread_uuid(i: usize, tid: Tid) -> u64 {
    process_uuid(i) | u64::from(tid as u32)
}

fn base(b: &[u8]) -> String {
    String::from_utf8_lossy(b.rsplit(|&c| c == b'/').next().unwrap_or(b)).into_owned()
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Appends one packet to `out` as a `Trace.packet` field (tag 1, length
/// delimited): a file is the concatenation of such fields.
fn put(out: &mut Vec<u8>, p: &TracePacket) {
    out.push(0x0a);
    // Vec<u8> grows as needed: encoding into it cannot fail.
    let _ = p.encode_length_delimited(out);
}

/// `packets` (serialized `Trace.packet` fields) as one packet of
/// `compressed_packets` (zlib), itself a `Trace.packet` field; nothing for
/// nothing. The timeline is then about the size of the trace, not 7 times it.
fn compressed(packets: &[u8]) -> Vec<u8> {
    use flate2::write::ZlibEncoder;
    if packets.is_empty() {
        return Vec::new();
    }
    let mut z = ZlibEncoder::new(
        Vec::with_capacity(packets.len() / 4),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = z.write_all(packets);
    let data = z.finish().unwrap_or_default();
    let mut out = Vec::with_capacity(data.len() + 8);
    put(
        &mut out,
        &TracePacket {
            compressed_packets: Some(data),
            ..TracePacket::default()
        },
    );
    out
}

fn event(time: u64, ev: TrackEvent) -> TracePacket {
    TracePacket {
        timestamp: Some(time),
        trusted_packet_sequence_id: Some(SEQ),
        track_event: Some(ev),
        ..TracePacket::default()
    }
}

fn instant(track: u64, name: String, annotations: Vec<DebugAnnotation>) -> TrackEvent {
    TrackEvent {
        r#type: Some(EventType::Instant as i32),
        track_uuid: Some(track),
        name: Some(name),
        debug_annotations: annotations,
        ..TrackEvent::default()
    }
}

struct Writer<'t> {
    tree: &'t Tree,
    filter: Filter,
    opts: Options,
    /// Where the trace ends (calls still open end there).
    last_time: u64,
    out: std::io::BufWriter<std::fs::File>,
    slices: u64,
    flows: u64,
}

/// One chunk's packets and what its last items left open.
pub struct Part<'a> {
    out: Vec<u8>,
    slices: u64,
    flows: u64,
    /// A call that ended by its thread's death, waiting for the death
    /// record that follows it (for its end time).
    dying: FxHashMap<Tid, Call<'a>>,
    /// Per Item::Resumed: its exit, time and how it ended.
    resumed: Vec<(Option<calls::OwnedExit>, u64, End)>,
}

pub struct Sealed {
    out: Vec<u8>,
    slices: u64,
    flows: u64,
    resumed: Vec<(Option<calls::OwnedExit>, u64, End)>,
}

impl Writer<'_> {
    fn track(&self, tid: Tid, time: u64) -> Option<u64> {
        let i = self.tree.index_at(tid, time)?;
        if !self.opts.pids.is_empty() {
            let p = &self.tree.processes[i];
            if !self.opts.pids.contains(&p.pid) && !self.opts.pids.contains(&tid) {
                return None;
            }
        }
        Some(thread_uuid(i, tid))
    }

    /// A call's slice (begin and end events), if it is kept.
    fn slice(&self, out: &mut Vec<u8>, e: &Entry<'_>, x: Option<&Exit<'_>>, end: u64) -> bool {
        if !self.filter.shows(e.nr) || end.saturating_sub(e.time) < self.opts.min_duration_ns {
            return false;
        }
        let Some(track) = self.track(e.tid, e.time) else {
            return false;
        };
        let enter: Vec<Mem<'_>> = e.mem.iter().collect();
        let exit: Vec<Mem<'_>> = x.map(|x| x.mem.iter().collect()).unwrap_or_default();
        let call = abi::Call {
            arch: e.arch,
            nr: e.nr,
            args: e.args,
            ret: x.map(|x| x.ret),
            enter: &enter,
            exit: &exit,
        };
        let style = Style {
            string_limit: ARG_LIMIT,
            ..Style::default()
        };
        let mut args = String::new();
        abi::write_args(&mut args, &call, abi::Part::Whole, &style);
        let mut ann = vec![DebugAnnotation::text("args", args)];
        match x {
            Some(x) => {
                ann.push(DebugAnnotation::text(
                    "return",
                    abi::return_text(&call, &style),
                ));
                if is_error(x.ret) {
                    ann.push(DebugAnnotation::text("errno", errno_name(-x.ret as i32)));
                }
            }
            None => ann.push(DebugAnnotation::text("return", "? (did not return)".into())),
        }
        let begin = TrackEvent {
            r#type: Some(EventType::SliceBegin as i32),
            track_uuid: Some(track),
            name: Some(e.name().into_owned()),
            categories: vec!["syscall".into()],
            debug_annotations: ann,
            ..TrackEvent::default()
        };
        put(out, &event(e.time, begin));
        let end_ev = TrackEvent {
            r#type: Some(EventType::SliceEnd as i32),
            track_uuid: Some(track),
            ..TrackEvent::default()
        };
        put(out, &event(end.max(e.time), end_ev));
        true
    }

    fn record(&self, p: &mut Part<'_>, r: &Record<'_>) {
        let (tid, time) = (r.tid(), r.time());
        match *r {
            Record::SignalDelivery { signo, .. } => {
                if let Some(t) = self.track(tid, time) {
                    let ev = instant(t, format!("signal {}", signal_name(signo)), Vec::new());
                    put(&mut p.out, &event(time, ev));
                }
            }
            Record::GroupStop { signo, .. } => {
                if let Some(t) = self.track(tid, time) {
                    let ev = instant(t, format!("group-stop {}", signal_name(signo)), Vec::new());
                    put(&mut p.out, &event(time, ev));
                }
            }
            Record::Exec {
                filename, ref argv, ..
            } => {
                let Some(i) = self.tree.index_at(tid, time) else {
                    return;
                };
                let Some(t) = self.track(tid, time) else {
                    return;
                };
                let name = base(filename);
                let ev = instant(
                    t,
                    format!("exec {name}"),
                    vec![DebugAnnotation::text("filename", lossy(filename))],
                );
                put(&mut p.out, &event(time, ev));
                // The process track is renamed: its descriptor again.
                let d = process_descriptor(self.tree, i, name, argv.iter().map(|a| lossy(a)));
                put(
                    &mut p.out,
                    &TracePacket {
                        timestamp: Some(time),
                        trusted_packet_sequence_id: Some(SEQ),
                        track_descriptor: Some(d),
                        ..TracePacket::default()
                    },
                );
            }
            Record::Death { how, .. } => {
                if let Some(c) = p.dying.remove(&tid) {
                    if self.slice(&mut p.out, &c.entry, None, time) {
                        p.slices += 1;
                    }
                }
                if let Some(t) = self.track(tid, time) {
                    let text = match how {
                        Termination::Exited(c) => format!("exit {c}"),
                        Termination::Signaled { signo, core } => format!(
                            "killed by {}{}",
                            signal_name(signo),
                            if core { " (core dumped)" } else { "" }
                        ),
                    };
                    put(&mut p.out, &event(time, instant(t, text, Vec::new())));
                }
            }
            Record::NewChild {
                child, kind, flags, ..
            } => {
                let (Some(from), Some(to)) = (self.track(tid, time), self.track(child, time))
                else {
                    return;
                };
                // One flow per child: its id from the child and the time.
                let id = time.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(child as u32);
                let what = match kind {
                    ChildKind::Fork => "fork",
                    ChildKind::Vfork => "vfork",
                    ChildKind::Clone if flags & crate::tree::CLONE_THREAD != 0 => "clone thread",
                    ChildKind::Clone => "clone",
                };
                let mut a = instant(
                    from,
                    format!("{what} -> {child}"),
                    vec![DebugAnnotation::int("child", i64::from(child))],
                );
                a.flow_ids = vec![id];
                put(&mut p.out, &event(time, a));
                let mut b = instant(
                    to,
                    format!("created by {tid}"),
                    vec![DebugAnnotation::int("parent", i64::from(tid))],
                );
                b.terminating_flow_ids = vec![id];
                put(&mut p.out, &event(time, b));
                p.flows += 1;
            }
            _ => {}
        }
    }
}

fn process_descriptor(
    tree: &Tree,
    i: usize,
    name: String,
    cmdline: impl Iterator<Item = String>,
) -> TrackDescriptor {
    let p = &tree.processes[i];
    TrackDescriptor {
        uuid: Some(process_uuid(i)),
        name: Some(format!("{} {name}", p.pid)),
        process: Some(ProcessDescriptor {
            pid: Some(p.pid),
            cmdline: cmdline.collect(),
            process_name: Some(name),
        }),
        ..TrackDescriptor::default()
    }
}

impl crate::calls::Walk for Writer<'_> {
    type Part<'a> = Part<'a>;
    type Sealed = Sealed;

    fn part<'a>(&self, _index: usize) -> Part<'a> {
        Part {
            out: Vec::new(),
            slices: 0,
            flows: 0,
            dying: FxHashMap::default(),
            resumed: Vec::new(),
        }
    }

    fn item<'a>(&self, p: &mut Part<'a>, item: Item<'_, 'a>) {
        match item {
            Item::Enter(_) => {}
            Item::Call(c) => match (&c.exit, c.end) {
                (Some(x), _) => {
                    if self.slice(&mut p.out, &c.entry, Some(x), x.time) {
                        p.slices += 1;
                    }
                }
                (None, End::Death) => {
                    p.dying.insert(c.entry.tid, *c);
                }
                (None, _) => {
                    if self.slice(&mut p.out, &c.entry, None, c.entry.time) {
                        p.slices += 1;
                    }
                }
            },
            Item::Resumed(r) => {
                p.resumed
                    .push((r.exit.as_ref().map(calls::OwnedExit::of), r.time, r.end))
            }
            Item::Event(r) => self.record(p, r),
        }
    }

    fn seal(&self, mut p: Part<'_>) -> Sealed {
        // A death whose record did not follow in this chunk: end there.
        let mut dying: Vec<Call<'_>> = p.dying.drain().map(|(_, c)| c).collect();
        dying.sort_by_key(|c| c.entry.time);
        for c in dying {
            if self.slice(&mut p.out, &c.entry, None, c.entry.time) {
                p.slices += 1;
            }
        }
        Sealed {
            out: compressed(&p.out),
            slices: p.slices,
            flows: p.flows,
            resumed: p.resumed,
        }
    }
}

impl crate::calls::Merge for Writer<'_> {
    type Sealed = Sealed;

    fn finish(
        &mut self,
        _meta: &ChunkMeta,
        p: Sealed,
        entries: &[Option<OwnedEntry>],
    ) -> anyhow::Result<()> {
        let mut out = p.out;
        self.slices += p.slices;
        self.flows += p.flows;
        for ((x, time, _end), e) in p.resumed.iter().zip(entries) {
            let Some(e) = e else { continue };
            let exit = x.as_ref().map(|x| x.exit());
            if self.slice(&mut out, &e.entry(), exit.as_ref(), *time) {
                self.slices += 1;
            }
        }
        self.out.write_all(&out).context("writing the timeline")
    }

    fn skipped(&mut self, _index: usize, _reason: &str) -> anyhow::Result<()> {
        Ok(())
    }

    fn end(&mut self, open: Vec<OwnedEntry>) -> anyhow::Result<()> {
        let mut out = Vec::new();
        for e in open {
            if self.slice(&mut out, &e.entry(), None, self.last_time) {
                self.slices += 1;
            }
        }
        self.out.write_all(&out).context("writing the timeline")
    }
}

/// A new file for the timeline: never written through a link or over a
/// file that exists (a trace's contents are private: mode 0600).
fn create(path: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("{}: cannot create the timeline", path.display()))
}

/// What was written.
pub struct Written {
    pub slices: u64,
    pub flows: u64,
    pub bytes: u64,
}

/// `analyze timeline -o FILE`.
pub fn run(t: &Trace, so: &ScanOptions, out: &Path, opts: Options) -> anyhow::Result<Written> {
    let filter = Filter::parse(crate::stats::arch(t)?, &opts.exprs)?;
    let scan = stats::scan(t, so)?;
    let tree = Tree::build(&scan.events, &scan.spans, &crate::command(t));
    tree.warn_problems(t);
    let file = create(out)?;
    let mut w = Writer {
        tree: &tree,
        filter,
        opts,
        last_time: scan.last_time,
        out: std::io::BufWriter::new(file),
        slices: 0,
        flows: 0,
    };
    // Every track first, named as the process began (before any exec).
    let mut head = Vec::new();
    put(
        &mut head,
        &TracePacket {
            trusted_packet_sequence_id: Some(SEQ),
            sequence_flags: Some(perfetto::SEQ_INCREMENTAL_STATE_CLEARED),
            ..TracePacket::default()
        },
    );
    for (i, p) in tree.processes.iter().enumerate() {
        if !w.opts.pids.is_empty() && !w.opts.pids.contains(&p.pid) {
            continue;
        }
        let name = base(&p.name);
        let d = process_descriptor(&tree, i, name.clone(), std::iter::empty());
        put(
            &mut head,
            &TracePacket {
                trusted_packet_sequence_id: Some(SEQ),
                track_descriptor: Some(d),
                ..TracePacket::default()
            },
        );
        for &tid in &p.threads {
            let d = TrackDescriptor {
                uuid: Some(thread_uuid(i, tid)),
                parent_uuid: Some(process_uuid(i)),
                name: Some(format!("{tid}")),
                thread: Some(ThreadDescriptor {
                    pid: Some(p.pid),
                    tid: Some(i64::from(tid)),
                    thread_name: Some(format!("{name} {tid}")),
                }),
                ..TrackDescriptor::default()
            };
            put(
                &mut head,
                &TracePacket {
                    trusted_packet_sequence_id: Some(SEQ),
                    track_descriptor: Some(d),
                    ..TracePacket::default()
                },
            );
        }
    }
    w.out.write_all(&head).context("writing the timeline")?;
    calls::run(t, Mode::Full, &mut w)?;
    w.out.flush().context("writing the timeline")?;
    let bytes = w.out.get_ref().metadata().map_or(0, |m| m.len());
    Ok(Written {
        slices: w.slices,
        flows: w.flows,
        bytes,
    })
}
