//! Property tests over arbitrary records of every kind: what is encoded is
//! decoded exactly (in memory and through a file of many small chunks), the
//! skimmed reading agrees with the full one, and a file cut anywhere yields
//! a prefix of what was written.

use proptest::prelude::*;
use ptrec_format::codec::{ChunkDecoder, ChunkEncoder, Cursors, Decoded, Skimmed, SyscallStop};
use ptrec_format::*;

type Cap = (u8, u8, u64, Vec<u8>);

/// A record with owned data, from which a [`Record`] borrows.
#[derive(Clone, Debug)]
enum Owned {
    Enter {
        tid: Tid,
        stime: Option<u64>,
        nr: u64,
        args: [u64; 6],
        regs: Option<[u64; REG_COUNT]>,
        derived: bool,
        caps: Vec<Cap>,
    },
    Exit {
        tid: Tid,
        stime: Option<u64>,
        nr: u64,
        ret: i64,
        regs: Option<[u64; REG_COUNT]>,
        derived: bool,
        caps: Vec<Cap>,
    },
    Signal(Tid, i32, Vec<u8>),
    GroupStop(Tid, i32),
    Child(Tid, Tid, u8, u64),
    VforkDone(Tid, Tid),
    Exec(Tid, Tid, Vec<u8>, Vec<Vec<u8>>),
    ExitEvent(Tid, i32),
    Death(Tid, u8, i32),
    Attach(Tid, Tid, Tid, u8, bool, Vec<u8>, Vec<u8>, Vec<u8>),
    Detach(Tid, u8, i32),
    Note(Tid, u32, u64, Vec<u8>),
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn caps() -> impl Strategy<Value = Vec<Cap>> {
    proptest::collection::vec((0u8..16, any::<u8>(), any::<u64>(), bytes(40)), 0..4)
}

/// Few threads, so that register and CPU-time deltas chain.
fn tid() -> impl Strategy<Value = Tid> {
    prop_oneof![1 => any::<i32>(), 6 => 100..104i32]
}

/// Registers that are either arbitrary or small changes of a base, as real
/// snapshots are.
fn regs() -> impl Strategy<Value = Option<[u64; REG_COUNT]>> {
    prop_oneof![
        1 => Just(None),
        2 => proptest::array::uniform27(any::<u64>()).prop_map(Some),
        3 => (any::<u64>(), 0u64..4).prop_map(|(seed, k)| {
            let mut r = [0x7ffd_0000_0000u64; REG_COUNT];
            for (i, w) in r.iter_mut().enumerate() {
                *w += (i as u64) * 0x1000 + k * (seed % 7);
            }
            Some(r)
        }),
    ]
}

fn owned() -> impl Strategy<Value = Owned> {
    prop_oneof![
        6 => (tid(), any::<Option<u64>>(), any::<u64>(), any::<[u64; 6]>(), regs(), any::<bool>(), caps())
            .prop_map(|(tid, stime, nr, args, regs, derived, caps)| Owned::Enter { tid, stime, nr, args, regs, derived, caps }),
        6 => (tid(), any::<Option<u64>>(), any::<u64>(), any::<i64>(), regs(), any::<bool>(), caps())
            .prop_map(|(tid, stime, nr, ret, regs, derived, caps)| Owned::Exit { tid, stime, nr, ret, regs, derived, caps }),
        1 => (tid(), any::<i32>(), bytes(130)).prop_map(|(t, s, b)| Owned::Signal(t, s, b)),
        1 => (tid(), any::<i32>()).prop_map(|(t, s)| Owned::GroupStop(t, s)),
        1 => (tid(), tid(), 0u8..6, any::<u64>()).prop_map(|(t, c, k, f)| Owned::Child(t, c, k, f)),
        1 => (tid(), tid()).prop_map(|(t, c)| Owned::VforkDone(t, c)),
        1 => (tid(), tid(), bytes(30), proptest::collection::vec(bytes(12), 0..5))
            .prop_map(|(t, f, p, a)| Owned::Exec(t, f, p, a)),
        1 => (tid(), any::<i32>()).prop_map(|(t, s)| Owned::ExitEvent(t, s)),
        1 => (tid(), 0u8..3, any::<i32>()).prop_map(|(t, k, v)| Owned::Death(t, k, v)),
        1 => (tid(), tid(), tid(), any::<u8>(), any::<bool>(), bytes(16), bytes(30), bytes(30))
            .prop_map(|(t, g, p, s, gs, c, e, w)| Owned::Attach(t, g, p, s, gs, c, e, w)),
        1 => (tid(), any::<u8>(), any::<i32>()).prop_map(|(t, s, g)| Owned::Detach(t, s, g)),
        1 => (tid(), any::<u32>(), any::<u64>(), bytes(40)).prop_map(|(t, k, v, x)| Owned::Note(t, k, v, x)),
    ]
}

/// Records with the times given; captures go through a [`CaptureBuf`] (as
/// the recorder builds them) or a slice, alternately.
fn build<'a>(items: &'a [Owned], times: &[u64], bufs: &'a mut Vec<CaptureBuf>) -> Vec<Record<'a>> {
    bufs.clear();
    for o in items {
        let mut b = CaptureBuf::new();
        if let Owned::Enter { caps, .. } | Owned::Exit { caps, .. } = o {
            for (arg, flags, addr, data) in caps {
                b.push(*arg, *flags, *addr, data);
            }
        }
        bufs.push(b);
    }
    let bufs: &'a [CaptureBuf] = bufs;
    items
        .iter()
        .zip(times)
        .zip(bufs)
        .map(|((o, &time), buf)| match o {
            Owned::Enter {
                tid,
                stime,
                nr,
                args,
                regs,
                derived,
                ..
            } => {
                let regs = regs.map(Regs);
                let (nr, args) = match (&regs, derived) {
                    (Some(g), true) => (g.syscall_nr(), g.syscall_args()),
                    _ => (*nr, *args),
                };
                Record::SyscallEnter {
                    tid: *tid,
                    time,
                    stime_us: *stime,
                    nr,
                    args,
                    regs,
                    mem: buf.captures(),
                }
            }
            Owned::Exit {
                tid,
                stime,
                nr,
                ret,
                regs,
                derived,
                ..
            } => {
                let regs = regs.map(Regs);
                let (nr, ret) = match (&regs, derived) {
                    (Some(g), true) => (g.syscall_nr(), g.ret()),
                    _ => (*nr, *ret),
                };
                Record::SyscallExit {
                    tid: *tid,
                    time,
                    stime_us: *stime,
                    nr,
                    ret,
                    regs,
                    mem: buf.captures(),
                }
            }
            Owned::Signal(tid, signo, info) => Record::SignalDelivery {
                tid: *tid,
                time,
                signo: *signo,
                siginfo: info,
            },
            Owned::GroupStop(tid, signo) => Record::GroupStop {
                tid: *tid,
                time,
                signo: *signo,
            },
            Owned::Child(tid, child, kind, flags) => Record::NewChild {
                tid: *tid,
                time,
                child: *child,
                kind: [ChildKind::Fork, ChildKind::Vfork, ChildKind::Clone][*kind as usize % 3],
                flags: *flags,
                inferred: *kind >= 3,
            },
            Owned::VforkDone(tid, child) => Record::VforkDone {
                tid: *tid,
                time,
                child: *child,
            },
            Owned::Exec(tid, former, path, argv) => Record::Exec {
                tid: *tid,
                time,
                former_tid: *former,
                filename: path,
                argv: argv.iter().map(|a| a.as_slice()).collect(),
                argv_redacted: Vec::new(),
            },
            Owned::ExitEvent(tid, status) => Record::ExitEvent {
                tid: *tid,
                time,
                status: *status,
            },
            Owned::Death(tid, k, v) => Record::Death {
                tid: *tid,
                time,
                how: match k {
                    0 => Termination::Exited(*v),
                    k => Termination::Signaled {
                        signo: *v,
                        core: *k == 2,
                    },
                },
            },
            Owned::Attach(tid, tgid, ppid, state, gs, comm, exe, cwd) => Record::Attach {
                tid: *tid,
                time,
                tgid: *tgid,
                ppid: *ppid,
                state: *state,
                group_stopped: *gs,
                comm,
                exe,
                cwd,
            },
            Owned::Detach(tid, state, signo) => Record::Detach {
                tid: *tid,
                time,
                state: *state,
                signo: *signo,
            },
            Owned::Note(tid, kind, value, text) => Record::Note {
                tid: *tid,
                time,
                kind: *kind,
                value: *value,
                text,
            },
        })
        .collect()
}

/// A record as comparable text: its fields with the captures listed one by
/// one (a written record holds them as a slice or a buffer, a read one as
/// stored bytes; both list the same captures).
fn text(r: &Record<'_>) -> String {
    match r {
        Record::SyscallEnter { mem, .. } | Record::SyscallExit { mem, .. } => {
            let mut bare = r.clone();
            if let Record::SyscallEnter { mem, .. } | Record::SyscallExit { mem, .. } = &mut bare {
                *mem = Captures::default();
            }
            format!("{bare:?} {:?}", mem.iter().collect::<Vec<_>>())
        }
        _ => format!("{r:?}"),
    }
}

fn items() -> impl Strategy<Value = (Vec<Owned>, Vec<u64>)> {
    proptest::collection::vec((owned(), any::<u64>()), 1..60).prop_map(|v| v.into_iter().unzip())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_records_decode_to_exactly_what_was_encoded((items, times) in items()) {
        let mut bufs = Vec::new();
        let recs = build(&items, &times, &mut bufs);
        let mut enc = ChunkEncoder::new();
        let mut payload = Streams::default();
        for r in &recs {
            enc.encode(r, &mut payload);
        }
        let mut dec = ChunkDecoder::new();
        let mut skim = ChunkDecoder::new();
        let mut cur = Cursors::new(&payload);
        // The skimmer never sees the detail stream.
        let mut scur = Cursors::from_slices(&payload.events, &payload.times, &[]);
        for r in &recs {
            let got = dec.decode(&mut cur).unwrap();
            let Decoded::Record(got) = got else { panic!("unknown kind") };
            prop_assert_eq!(text(&got), text(r));
            let s = skim.skim(&mut scur).unwrap();
            match (r, s) {
                (Record::SyscallEnter { tid, time, stime_us, nr, .. }, Skimmed::Syscall(s)) => {
                    prop_assert_eq!(s, SyscallStop { enter: true, tid: *tid, time: *time, stime_us: *stime_us, nr: *nr, ret: 0 });
                }
                (Record::SyscallExit { tid, time, stime_us, nr, ret, .. }, Skimmed::Syscall(s)) => {
                    prop_assert_eq!(s, SyscallStop { enter: false, tid: *tid, time: *time, stime_us: *stime_us, nr: *nr, ret: *ret });
                }
                (r, Skimmed::Record(q)) => prop_assert_eq!(text(&q), text(r)),
                (r, s) => prop_assert!(false, "{:?} skimmed as {:?}", r, s),
            }
        }
        prop_assert!(cur.is_empty() && scur.is_empty());
        prop_assert_eq!(cur.leftover(true), None);
        prop_assert_eq!(scur.leftover(false), None);
    }

    #[test]
    fn any_records_survive_a_file_of_small_chunks_and_any_cut_gives_a_prefix(
        (items, steps) in items(),
        cut in any::<prop::sample::Index>(),
    ) {
        // Time moves forward in a recording.
        let times: Vec<u64> = steps
            .iter()
            .scan(1_000u64, |t, s| { *t += s % 100_000; Some(*t) })
            .collect();
        let mut bufs = Vec::new();
        let recs = build(&items, &times, &mut bufs);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.bin");
        // The smallest chunk the writer makes: most cases span several.
        let opts = WriterOptions { chunk_bytes: 4096, ..Default::default() };
        let mut w = Writer::create(&path, &Header::default(), opts).unwrap();
        for r in &recs {
            w.write(r).unwrap();
        }
        let stats = w.finish().unwrap();
        prop_assert_eq!(stats.records, recs.len() as u64);
        let want: Vec<String> = recs.iter().map(text).collect();

        let t = Trace::open(&path).unwrap();
        prop_assert!(t.is_clean());
        prop_assert_eq!(t.record_count(), recs.len() as u64);
        let mut got = Vec::new();
        t.for_each_record(|r| got.push(text(r))).unwrap();
        prop_assert_eq!(&got, &want);

        let bytes = std::fs::read(&path).unwrap();
        let at = cut.index(bytes.len() + 1);
        let cut_path = dir.path().join("cut.bin");
        std::fs::write(&cut_path, &bytes[..at]).unwrap();
        if let Ok(t) = Trace::open(&cut_path) {
            let mut got = Vec::new();
            t.for_each_record(|r| got.push(text(r))).unwrap();
            prop_assert!(got.len() <= want.len());
            prop_assert_eq!(&got[..], &want[..got.len()]);
            if at < bytes.len() {
                prop_assert!(!t.is_clean() || got.len() == want.len());
            }
        }
    }
}
