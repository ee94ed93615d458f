//! Property tests over arbitrary records of every kind: what is encoded is
//! decoded exactly (in memory and through a file of many small chunks), the
//! skimmed reading agrees with the full one, and a file cut anywhere yields
//! a prefix of what was written. Records are generated as [`OwnedRecord`]s
//! and borrowed with `as_record()`, as any user of the crate would keep them.

use proptest::prelude::*;
use ptrec_format::codec::{ChunkDecoder, ChunkEncoder, Cursors, Decoded, Skimmed, SyscallStop};
use ptrec_format::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// Captures as the recorder builds them, some redacted (keeping a prefix).
fn caps() -> impl Strategy<Value = CaptureBuf> {
    let cap = (
        0u8..16,
        any::<u8>(),
        any::<u64>(),
        bytes(40),
        any::<Option<u64>>(),
    );
    proptest::collection::vec(cap, 0..4).prop_map(|v| {
        let mut b = CaptureBuf::new();
        for (arg, flags, addr, data, redacted) in v {
            match redacted {
                Some(n) => b.push_redacted(arg, flags, addr, &data, n),
                None => b.push(arg, flags & !mem_flags::REDACTED, addr, &data),
            }
        }
        b
    })
}

/// Few threads, so that register and CPU-time deltas chain.
fn tid() -> impl Strategy<Value = Tid> {
    prop_oneof![1 => any::<i32>(), 6 => 100..104i32]
}

/// Registers that are either arbitrary or small changes of a base, as real
/// snapshots are.
fn regs() -> impl Strategy<Value = Option<Regs>> {
    prop_oneof![
        1 => Just(None),
        2 => proptest::array::uniform27(any::<u64>()).prop_map(|w| Some(Regs::x86_64(w))),
        3 => (any::<u64>(), 0u64..4).prop_map(|(seed, k)| {
            let mut r = [0x7ffd_0000_0000u64; REG_COUNT];
            for (i, w) in r.iter_mut().enumerate() {
                *w += (i as u64) * 0x1000 + k * (seed % 7);
            }
            Some(Regs::x86_64(r))
        }),
    ]
}

/// Pairs of a redaction list.
fn cuts() -> impl Strategy<Value = Vec<(u32, u64)>> {
    proptest::collection::vec((0u32..6, any::<u64>()), 0..3)
}

/// A record of any kind, at time 0 (see [`retime`]). A syscall stop's
/// number, arguments and return value are, half the time, those its
/// registers hold (the case the codec stores without them).
fn owned() -> impl Strategy<Value = OwnedRecord> {
    prop_oneof![
        6 => (tid(), any::<Option<u64>>(), any::<u64>(), any::<[u64; 6]>(), regs(), any::<bool>(), caps())
            .prop_map(|(tid, stime_us, nr, args, regs, derived, mem)| {
                let (nr, args) = match (&regs, derived) {
                    (Some(g), true) => (g.syscall_nr(), g.syscall_args()),
                    _ => (nr, args),
                };
                OwnedRecord::SyscallEnter { tid, time: 0, stime_us, nr, args, regs, mem }
            }),
        6 => (tid(), any::<Option<u64>>(), any::<u64>(), any::<i64>(), regs(), any::<bool>(), caps())
            .prop_map(|(tid, stime_us, nr, ret, regs, derived, mem)| {
                let (nr, ret) = match (&regs, derived) {
                    (Some(g), true) => (g.syscall_nr(), g.ret()),
                    _ => (nr, ret),
                };
                OwnedRecord::SyscallExit { tid, time: 0, stime_us, nr, ret, regs, mem }
            }),
        1 => (tid(), any::<i32>(), bytes(130))
            .prop_map(|(tid, signo, siginfo)| OwnedRecord::SignalDelivery { tid, time: 0, signo, siginfo }),
        1 => (tid(), any::<i32>()).prop_map(|(tid, signo)| OwnedRecord::GroupStop { tid, time: 0, signo }),
        1 => (tid(), tid(), 0u8..3, any::<u64>(), any::<bool>()).prop_map(|(tid, child, k, flags, inferred)| {
            let kind = [ChildKind::Fork, ChildKind::Vfork, ChildKind::Clone][k as usize];
            OwnedRecord::NewChild { tid, time: 0, child, kind, flags, inferred }
        }),
        1 => (tid(), tid()).prop_map(|(tid, child)| OwnedRecord::VforkDone { tid, time: 0, child }),
        1 => (tid(), tid(), bytes(30), proptest::collection::vec(bytes(12), 0..5), cuts())
            .prop_map(|(tid, former_tid, filename, argv, argv_redacted)| OwnedRecord::Exec {
                tid, time: 0, former_tid, filename, argv, argv_redacted,
            }),
        1 => (tid(), any::<i32>()).prop_map(|(tid, status)| OwnedRecord::ExitEvent { tid, time: 0, status }),
        1 => (tid(), 0u8..3, any::<i32>()).prop_map(|(tid, k, v)| OwnedRecord::Death {
            tid,
            time: 0,
            how: match k {
                0 => Termination::Exited(v),
                k => Termination::Signaled { signo: v, core: k == 2 },
            },
        }),
        1 => (tid(), tid(), tid(), any::<u8>(), any::<bool>(), bytes(16), bytes(30), bytes(30))
            .prop_map(|(tid, tgid, ppid, state, group_stopped, comm, exe, cwd)| OwnedRecord::Attach {
                tid, time: 0, tgid, ppid, state, group_stopped, comm, exe, cwd,
            }),
        1 => (tid(), any::<u8>(), any::<i32>())
            .prop_map(|(tid, state, signo)| OwnedRecord::Detach { tid, time: 0, state, signo }),
        1 => (tid(), any::<u32>(), any::<u64>(), bytes(40))
            .prop_map(|(tid, kind, value, text)| OwnedRecord::Note { tid, time: 0, kind, value, text }),
        1 => (tid(), any::<i32>(), any::<u32>(), any::<u64>(), bytes(40), bytes(20))
            .prop_map(|(tid, fd, flags, pos, target, detail)| OwnedRecord::OpenFd { tid, time: 0, fd, flags, pos, target, detail }),
    ]
}

/// Sets a record's time.
fn retime(o: &mut OwnedRecord, t: u64) {
    match o {
        OwnedRecord::SyscallEnter { time, .. }
        | OwnedRecord::SyscallExit { time, .. }
        | OwnedRecord::SignalDelivery { time, .. }
        | OwnedRecord::GroupStop { time, .. }
        | OwnedRecord::NewChild { time, .. }
        | OwnedRecord::VforkDone { time, .. }
        | OwnedRecord::Exec { time, .. }
        | OwnedRecord::ExitEvent { time, .. }
        | OwnedRecord::Death { time, .. }
        | OwnedRecord::Attach { time, .. }
        | OwnedRecord::Detach { time, .. }
        | OwnedRecord::Note { time, .. }
        | OwnedRecord::OpenFd { time, .. } => *time = t,
    }
}

/// The records, at the times given, borrowed.
fn build<'a>(items: &'a mut [OwnedRecord], times: &[u64]) -> Vec<Record<'a>> {
    for (o, &t) in items.iter_mut().zip(times) {
        retime(o, t);
    }
    items.iter().map(|o| o.as_record()).collect()
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

fn items() -> impl Strategy<Value = (Vec<OwnedRecord>, Vec<u64>)> {
    proptest::collection::vec((owned(), any::<u64>()), 1..60).prop_map(|v| v.into_iter().unzip())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_records_decode_to_exactly_what_was_encoded((mut items, times) in items()) {
        let recs = build(&mut items, &times);
        let mut enc = ChunkEncoder::new();
        let mut payload = Streams::default();
        for r in &recs {
            enc.encode(r, &mut payload);
        }
        let mut dec = ChunkDecoder::new();
        let mut skim = ChunkDecoder::new();
        let mut lean = ChunkDecoder::new();
        let mut cur = Cursors::new(&payload);
        let mut lcur = Cursors::new(&payload);
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
            // The lean form: every field of the record but the registers, of
            // which the program counter.
            let l = lean.lean(&mut lcur).unwrap();
            match (r, l) {
                (Record::SyscallEnter { tid, time, stime_us, nr, args, regs, mem }, Lean::Syscall(l)) => {
                    prop_assert_eq!(l, LeanStop { enter: true, tid: *tid, time: *time, stime_us: *stime_us, nr: *nr, args: *args, ret: 0, pc: regs.map(|g| g.pc()), mem: *mem });
                }
                (Record::SyscallExit { tid, time, stime_us, nr, ret, regs, mem }, Lean::Syscall(l)) => {
                    prop_assert_eq!(l, LeanStop { enter: false, tid: *tid, time: *time, stime_us: *stime_us, nr: *nr, args: [0; 6], ret: *ret, pc: regs.map(|g| g.pc()), mem: *mem });
                }
                (r, Lean::Record(q)) => prop_assert_eq!(text(&q), text(r)),
                (r, l) => prop_assert!(false, "{:?} read lean as {:?}", r, l),
            }
        }
        prop_assert!(cur.is_empty() && scur.is_empty() && lcur.is_empty());
        prop_assert_eq!(cur.leftover(true), None);
        prop_assert_eq!(scur.leftover(false), None);
    }

    #[test]
    fn any_records_survive_a_file_of_small_chunks_and_any_cut_gives_a_prefix(
        (mut items, steps) in items(),
        cut in any::<prop::sample::Index>(),
    ) {
        // Time moves forward in a recording.
        let times: Vec<u64> = steps
            .iter()
            .scan(1_000u64, |t, s| { *t += s % 100_000; Some(*t) })
            .collect();
        let recs = build(&mut items, &times);
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
