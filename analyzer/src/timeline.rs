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
//! encoded per chunk in parallel and written in chunk order, each chunk a
//! run of the one packet sequence: it clears the incremental state, interns
//! every event name, annotation name and string value it uses, and starts
//! an incremental clock, so that a slice's events carry iids and time
//! deltas instead of strings and absolute times (then zlib, per chunk).

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
    Clock, ClockSnapshot, DebugAnnotation, EventType, Interned, InternedBytes, InternedData,
    ProcessDescriptor, ThreadDescriptor, TracePacket, TracePacketDefaults, TrackDescriptor,
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
/// nothing.
fn compressed(packets: &[u8]) -> Vec<u8> {
    use flate2::write::ZlibEncoder;
    if packets.is_empty() {
        return Vec::new();
    }
    let mut z = ZlibEncoder::new(
        Vec::with_capacity(packets.len() / 4),
        flate2::Compression::new(COMPRESSION),
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

/// zlib's level: 1 is several times faster than the default 6 and the
/// interned packets still shrink about fivefold.
const COMPRESSION: u32 = 1;

/// A string table of one run of the sequence: iids from 1.
#[derive(Default)]
struct Table(FxHashMap<Box<str>, u64>);

impl Table {
    fn iid(&mut self, s: &str) -> u64 {
        if let Some(&i) = self.0.get(s) {
            return i;
        }
        let i = self.0.len() as u64 + 1;
        self.0.insert(s.into(), i);
        i
    }

    fn entries(&self) -> Vec<Interned> {
        let mut v: Vec<Interned> = self
            .0
            .iter()
            .map(|(s, &i)| Interned {
                iid: Some(i),
                name: Some(s.to_string()),
            })
            .collect();
        v.sort_by_key(|e| e.iid);
        v
    }
}

/// The iids every run interns first (so that a slice needs no lookup for
/// them).
const ARGS: u64 = 1;
const RETURN: u64 = 2;
const ERRNO: u64 = 3;
const SYSCALL: u64 = 1;

/// The packets of one run of the sequence (a chunk's, or those the
/// sequential half completes): encoded apart, then sorted by time and
/// written after a packet that clears the incremental state, interns
/// every string they name and starts an incremental clock, so that each
/// packet carries its time as a delta from the previous one.
struct Encoder {
    /// Encoded `TrackEvent`s and `TrackDescriptor`s, back to back.
    body: Vec<u8>,
    /// Per packet: time, its `TracePacket` field, where its message is in
    /// `body`.
    packets: Vec<(u64, u32, u32, u32)>,
    names: Table,
    annotation_names: Table,
    values: Table,
    categories: Table,
    /// The reused text of one slice's arguments.
    text: String,
}

impl Encoder {
    fn new() -> Encoder {
        let mut e = Encoder {
            body: Vec::new(),
            packets: Vec::new(),
            names: Table::default(),
            annotation_names: Table::default(),
            values: Table::default(),
            categories: Table::default(),
            text: String::new(),
        };
        for (iid, name) in [(ARGS, "args"), (RETURN, "return"), (ERRNO, "errno")] {
            let got = e.annotation_names.iid(name);
            debug_assert_eq!(got, iid);
        }
        let got = e.categories.iid("syscall");
        debug_assert_eq!(got, SYSCALL);
        e
    }

    /// A syscall's slice: its begin event (category, name, annotations
    /// args, return and errno by iid) and its end event. Encoded by hand,
    /// field by field as prost would ([`TrackEvent`]'s tags), because this
    /// is the one per call: no message values, no length computed twice.
    #[allow(clippy::too_many_arguments)]
    fn slice(
        &mut self,
        begin: u64,
        end: u64,
        track: u64,
        name: u64,
        args: u64,
        ret: u64,
        errno: Option<u64>,
    ) {
        use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};
        // DebugAnnotation { name_iid (1), string_value_iid (17) }.
        fn annotation(b: &mut Vec<u8>, name: u64, value: u64) {
            encode_key(4, WireType::LengthDelimited, b);
            encode_varint(
                (3 + encoded_len_varint(name) + encoded_len_varint(value)) as u64,
                b,
            );
            encode_key(1, WireType::Varint, b);
            encode_varint(name, b);
            encode_key(17, WireType::Varint, b);
            encode_varint(value, b);
        }
        let b = &mut self.body;
        let start = b.len() as u32;
        encode_key(3, WireType::Varint, b);
        encode_varint(SYSCALL, b);
        annotation(b, ARGS, args);
        annotation(b, RETURN, ret);
        if let Some(errno) = errno {
            annotation(b, ERRNO, errno);
        }
        encode_key(9, WireType::Varint, b);
        encode_varint(EventType::SliceBegin as u64, b);
        encode_key(10, WireType::Varint, b);
        encode_varint(name, b);
        encode_key(11, WireType::Varint, b);
        encode_varint(track, b);
        let mid = b.len() as u32;
        encode_key(9, WireType::Varint, b);
        encode_varint(EventType::SliceEnd as u64, b);
        encode_key(11, WireType::Varint, b);
        encode_varint(track, b);
        let stop = b.len() as u32;
        let field = perfetto::PACKET_TRACK_EVENT;
        self.packets.push((begin, field, start, mid - start));
        self.packets.push((end, field, mid, stop - mid));
    }

    fn event(&mut self, time: u64, ev: &TrackEvent) {
        let start = self.body.len() as u32;
        // Vec<u8> grows as needed: encoding into it cannot fail.
        let _ = ev.encode(&mut self.body);
        let len = self.body.len() as u32 - start;
        self.packets
            .push((time, perfetto::PACKET_TRACK_EVENT, start, len));
    }

    fn descriptor(&mut self, time: u64, d: &TrackDescriptor) {
        let start = self.body.len() as u32;
        let _ = d.encode(&mut self.body);
        let len = self.body.len() as u32 - start;
        self.packets
            .push((time, perfetto::PACKET_TRACK_DESCRIPTOR, start, len));
    }

    fn text(&mut self, name: &str, value: &str) -> DebugAnnotation {
        DebugAnnotation {
            name_iid: Some(self.annotation_names.iid(name)),
            string_value_iid: Some(self.values.iid(value)),
            int_value: None,
        }
    }

    fn int(&mut self, name: &str, value: i64) -> DebugAnnotation {
        DebugAnnotation {
            name_iid: Some(self.annotation_names.iid(name)),
            int_value: Some(value),
            string_value_iid: None,
        }
    }

    fn instant(&mut self, time: u64, track: u64, name: &str, ann: Vec<DebugAnnotation>) {
        let ev = TrackEvent {
            r#type: Some(EventType::Instant as i32),
            track_uuid: Some(track),
            name_iid: Some(self.names.iid(name)),
            debug_annotations: ann,
            ..TrackEvent::default()
        };
        self.event(time, &ev);
    }

    /// The packets, sorted by time, behind their header; zlib-compressed.
    fn seal(mut self) -> Vec<u8> {
        use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};
        if self.packets.is_empty() {
            return Vec::new();
        }
        // Stable: events of one time keep their order (a slice's begin
        // before its end, a flow's start before its end).
        self.packets.sort_by_key(|p| p.0);
        let t0 = self.packets[0].0;
        let values = {
            let mut v: Vec<InternedBytes> = self
                .values
                .0
                .iter()
                .map(|(s, &i)| InternedBytes {
                    iid: Some(i),
                    str: Some(s.as_bytes().to_vec()),
                })
                .collect();
            v.sort_by_key(|e| e.iid);
            v
        };
        let mut out = Vec::with_capacity(self.body.len() + 12 * self.packets.len() + 4096);
        put(
            &mut out,
            &TracePacket {
                timestamp: Some(t0),
                timestamp_clock_id: Some(perfetto::CLOCK_BOOTTIME),
                trusted_packet_sequence_id: Some(SEQ),
                sequence_flags: Some(perfetto::SEQ_INCREMENTAL_STATE_CLEARED),
                trace_packet_defaults: Some(TracePacketDefaults {
                    timestamp_clock_id: Some(perfetto::CLOCK_SEQUENCE),
                }),
                clock_snapshot: Some(ClockSnapshot {
                    clocks: vec![
                        Clock {
                            clock_id: Some(perfetto::CLOCK_BOOTTIME),
                            timestamp: Some(t0),
                            is_incremental: None,
                        },
                        Clock {
                            clock_id: Some(perfetto::CLOCK_SEQUENCE),
                            timestamp: Some(t0),
                            is_incremental: Some(true),
                        },
                    ],
                }),
                interned_data: Some(InternedData {
                    event_categories: self.categories.entries(),
                    event_names: self.names.entries(),
                    debug_annotation_names: self.annotation_names.entries(),
                    debug_annotation_string_values: values,
                }),
                ..TracePacket::default()
            },
        );
        let mut last = t0;
        for &(time, field, start, len) in &self.packets {
            let delta = time - last;
            last = time;
            let len = len as usize;
            let inner = 1
                + encoded_len_varint(delta)
                + 1
                + encoded_len_varint(u64::from(SEQ))
                + prost::encoding::key_len(field)
                + encoded_len_varint(len as u64)
                + len;
            out.push(0x0a);
            encode_varint(inner as u64, &mut out);
            encode_key(perfetto::PACKET_TIMESTAMP, WireType::Varint, &mut out);
            encode_varint(delta, &mut out);
            encode_key(perfetto::PACKET_SEQUENCE_ID, WireType::Varint, &mut out);
            encode_varint(u64::from(SEQ), &mut out);
            encode_key(field, WireType::LengthDelimited, &mut out);
            encode_varint(len as u64, &mut out);
            let start = start as usize;
            out.extend_from_slice(&self.body[start..start + len]);
        }
        compressed(&out)
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
    enc: Encoder,
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
    fn slice(&self, enc: &mut Encoder, e: &Entry<'_>, x: Option<&Exit<'_>>, end: u64) -> bool {
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
        let mut text = std::mem::take(&mut enc.text);
        text.clear();
        abi::write_args(&mut text, &call, abi::Part::Whole, &style);
        let args = enc.values.iid(&text);
        enc.text = text;
        let ret = match x {
            Some(_) => enc.values.iid(&abi::return_text(&call, &style)),
            None => enc.values.iid("? (did not return)"),
        };
        let errno = match x {
            Some(x) if is_error(x.ret) => Some(enc.values.iid(&errno_name(-x.ret as i32))),
            _ => None,
        };
        let name = enc.names.iid(&e.name());
        enc.slice(e.time, end.max(e.time), track, name, args, ret, errno);
        true
    }

    fn record(&self, p: &mut Part<'_>, r: &Record<'_>) {
        let (tid, time) = (r.tid(), r.time());
        if let Record::Exec { former_tid, .. } = *r {
            // The leader an execve of another thread supersedes is never
            // reaped: the call its exit event cut short ends at the exec.
            if former_tid != tid {
                if let Some(c) = p.dying.remove(&tid) {
                    if self.slice(&mut p.enc, &c.entry, None, time) {
                        p.slices += 1;
                    }
                }
            }
        }
        let enc = &mut p.enc;
        match *r {
            Record::SignalDelivery { signo, .. } => {
                if let Some(t) = self.track(tid, time) {
                    let name = format!("signal {}", signal_name(signo));
                    enc.instant(time, t, &name, Vec::new());
                }
            }
            Record::GroupStop { signo, .. } => {
                if let Some(t) = self.track(tid, time) {
                    let name = format!("group-stop {}", signal_name(signo));
                    enc.instant(time, t, &name, Vec::new());
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
                let ann = vec![enc.text("filename", &lossy(filename))];
                enc.instant(time, t, &format!("exec {name}"), ann);
                // The process track is renamed: its descriptor again.
                let d = process_descriptor(self.tree, i, name, argv.iter().map(|a| lossy(a)));
                enc.descriptor(time, &d);
            }
            Record::Death { how, .. } => {
                if let Some(c) = p.dying.remove(&tid) {
                    if self.slice(&mut p.enc, &c.entry, None, time) {
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
                    p.enc.instant(time, t, &text, Vec::new());
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
                let a = TrackEvent {
                    r#type: Some(EventType::Instant as i32),
                    track_uuid: Some(from),
                    name_iid: Some(enc.names.iid(&format!("{what} -> {child}"))),
                    debug_annotations: vec![enc.int("child", i64::from(child))],
                    flow_ids: vec![id],
                    ..TrackEvent::default()
                };
                enc.event(time, &a);
                let b = TrackEvent {
                    r#type: Some(EventType::Instant as i32),
                    track_uuid: Some(to),
                    name_iid: Some(enc.names.iid(&format!("created by {tid}"))),
                    debug_annotations: vec![enc.int("parent", i64::from(tid))],
                    terminating_flow_ids: vec![id],
                    ..TrackEvent::default()
                };
                enc.event(time, &b);
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
            enc: Encoder::new(),
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
                    if self.slice(&mut p.enc, &c.entry, Some(x), x.time) {
                        p.slices += 1;
                    }
                }
                (None, End::Death) => {
                    // A death that never came (another call on the tid
                    // began): ended where it began.
                    if let Some(old) = p.dying.insert(c.entry.tid, *c) {
                        if self.slice(&mut p.enc, &old.entry, None, old.entry.time) {
                            p.slices += 1;
                        }
                    }
                }
                (None, _) => {
                    if self.slice(&mut p.enc, &c.entry, None, c.entry.time) {
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
            if self.slice(&mut p.enc, &c.entry, None, c.entry.time) {
                p.slices += 1;
            }
        }
        Sealed {
            out: p.enc.seal(),
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
        self.slices += p.slices;
        self.flows += p.flows;
        self.out.write_all(&p.out).context("writing the timeline")?;
        // The calls this chunk ended that began before it: a run of the
        // sequence of their own, after the chunk's.
        let mut enc = Encoder::new();
        for ((x, time, _end), e) in p.resumed.iter().zip(entries) {
            let Some(e) = e else { continue };
            let exit = x.as_ref().map(|x| x.exit());
            if self.slice(&mut enc, &e.entry(), exit.as_ref(), *time) {
                self.slices += 1;
            }
        }
        self.out
            .write_all(&enc.seal())
            .context("writing the timeline")
    }

    fn skipped(&mut self, _index: usize, _reason: &str) -> anyhow::Result<()> {
        Ok(())
    }

    fn end(&mut self, open: Vec<OwnedEntry>) -> anyhow::Result<()> {
        let mut enc = Encoder::new();
        for e in open {
            if self.slice(&mut enc, &e.entry(), None, self.last_time) {
                self.slices += 1;
            }
        }
        self.out
            .write_all(&enc.seal())
            .context("writing the timeline")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(enc: &Encoder, i: usize) -> (u64, TrackEvent) {
        let (time, field, start, len) = enc.packets[i];
        assert_eq!(field, perfetto::PACKET_TRACK_EVENT);
        let b = &enc.body[start as usize..(start + len) as usize];
        (time, TrackEvent::decode(b).unwrap())
    }

    #[test]
    fn a_hand_encoded_slice_is_what_prost_reads_back() {
        let mut enc = Encoder::new();
        let track = thread_uuid(70_000, 4_000_000);
        enc.slice(5, 9, track, 300, 200_000, 2, Some(1));
        enc.slice(7, 8, track, 1, 1, 2, None);
        let (t, begin) = decoded(&enc, 0);
        assert_eq!(t, 5);
        let ann = |name, value| DebugAnnotation {
            name_iid: Some(name),
            string_value_iid: Some(value),
            int_value: None,
        };
        assert_eq!(
            begin,
            TrackEvent {
                category_iids: vec![SYSCALL],
                debug_annotations: vec![ann(ARGS, 200_000), ann(RETURN, 2), ann(ERRNO, 1)],
                r#type: Some(EventType::SliceBegin as i32),
                name_iid: Some(300),
                track_uuid: Some(track),
                ..TrackEvent::default()
            }
        );
        let (t, end) = decoded(&enc, 1);
        assert_eq!(t, 9);
        assert_eq!(
            end,
            TrackEvent {
                r#type: Some(EventType::SliceEnd as i32),
                track_uuid: Some(track),
                ..TrackEvent::default()
            }
        );
        assert_eq!(decoded(&enc, 2).1.debug_annotations.len(), 2);
    }
}
