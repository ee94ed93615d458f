//! Records survive a write and a read exactly.

use ptrec_format::*;

fn regs(seed: u64) -> Regs {
    let mut r = Regs::default();
    for (i, w) in r.words_mut().iter_mut().enumerate() {
        *w = seed.wrapping_mul(0x9e37_79b9).wrapping_add(i as u64 * 7);
    }
    r
}

#[test]
fn syscall_records_with_register_deltas_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    let opts = WriterOptions {
        chunk_bytes: 4096,
        ..Default::default()
    };
    let mut w = Writer::create(&path, &Header::default(), opts).unwrap();
    let data = b"hello world".to_vec();
    let mem = [Mem {
        arg: 1,
        flags: mem_flags::TRUNCATED,
        addr: 0x7fff_0000,
        data: &data,
        redacted: None,
    }];
    let mut expect = Vec::new();
    let mut cb = CaptureBuf::new();
    cb.push(0, mem_flags::AT_EXIT, 0x1000, b"read back");
    cb.push(2, mem_flags::UNREADABLE, 0xdead, b"");
    for i in 0..20_000u64 {
        let tid = 100 + (i % 3) as i32;
        let g = regs(i / 7);
        let rec = if i % 2 == 0 {
            Record::SyscallEnter {
                tid,
                time: 1_000 + i * 10,
                stime_us: Some(i / 5),
                nr: g.syscall_nr(),
                args: if i % 4 == 0 {
                    g.syscall_args()
                } else {
                    [i, 2, 3, 4, 5, 6]
                },
                regs: if i % 11 == 0 { None } else { Some(g) },
                mem: Captures::Slice(if i % 3 == 0 { &mem } else { &[] }),
            }
        } else {
            Record::SyscallExit {
                tid,
                time: 1_000 + i * 10,
                stime_us: None,
                nr: 39,
                ret: -(i as i64),
                regs: Some(g),
                mem: if i % 5 == 0 {
                    cb.captures()
                } else {
                    Captures::Slice(&[])
                },
            }
        };
        w.write(&rec).unwrap();
        expect.push(format!("{rec:?}"));
    }
    let stats = w.finish().unwrap();
    assert!(stats.chunks > 1);
    let t = Trace::open(&path).unwrap();
    assert!(t.is_clean());
    let mut got = Vec::new();
    t.for_each_record(|r| got.push(format!("{r:?}"))).unwrap();
    assert_eq!(got.len(), expect.len());
    assert_eq!(got, expect);
}

#[test]
fn a_chunk_read_for_statistics_skims_but_refuses_a_full_decode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    let opts = WriterOptions {
        time_unit_ns: 1000,
        ..Default::default()
    };
    let mut w = Writer::create(&path, &Header::default(), opts).unwrap();
    let g = regs(3);
    for i in 0..100u64 {
        w.write(&Record::SyscallEnter {
            tid: 9,
            time: 10_000 + i * 2_500,
            stime_us: Some(i),
            nr: g.syscall_nr(),
            args: g.syscall_args(),
            regs: Some(g),
            mem: Captures::default(),
        })
        .unwrap();
        w.write(&Record::SyscallExit {
            tid: 9,
            time: 11_000 + i * 2_500,
            stime_us: Some(i + 1),
            nr: g.syscall_nr(),
            ret: -2,
            regs: Some(g),
            mem: Captures::default(),
        })
        .unwrap();
    }
    w.finish().unwrap();
    let t = Trace::open(&path).unwrap();
    let mut data = ChunkData::default();
    let mut scratch = Vec::new();
    t.read_chunk_part_into(0, Part::Stops, &mut scratch, &mut data)
        .unwrap();
    assert!(data.streams.detail.is_empty(), "detail left compressed");
    let stops: Vec<SyscallStop> = data
        .stops()
        .map(|s| match s.unwrap() {
            Skimmed::Syscall(s) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(stops.len(), 200);
    // Times come back in whole microseconds, as rec stores them.
    assert_eq!((stops[0].time, stops[1].time), (10_000, 11_000));
    assert_eq!((stops[3].time, stops[3].ret), (13_000, -2));
    let err = data.records().next().unwrap().unwrap_err().to_string();
    assert!(err.contains("without its detail stream"), "{err}");
    t.read_chunk_part_into(0, Part::All, &mut scratch, &mut data)
        .unwrap();
    assert_eq!(data.records().filter(|r| r.is_ok()).count(), 200);
}

#[test]
fn redaction_markers_round_trip_redacted_argv_and_header_entries_and_captures() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.bin");
    let header = Header {
        argv: vec![b"mysql".to_vec(), b"--password=".to_vec()],
        argv_redacted: vec![(1, 7)],
        env: vec![b"API_TOKEN=".to_vec()],
        env_redacted: vec![(0, 40)],
        redaction: Some(Redaction {
            policy: "default".into(),
            applied_wall_ns: 5,
        }),
        ..Header::default()
    };
    let mut cb = CaptureBuf::new();
    cb.push_redacted(1, 0, 0x1000, &[], 42);
    let recs = vec![
        Record::Exec {
            tid: 1,
            time: 10,
            former_tid: 1,
            filename: b"/usr/bin/mysql",
            argv: vec![b"mysql", b"--password="],
            argv_redacted: vec![(1, 7)],
        },
        Record::SyscallEnter {
            tid: 1,
            time: 11,
            stime_us: None,
            nr: 1,
            args: [1, 0x1000, 42, 0, 0, 0],
            regs: None,
            mem: cb.captures(),
        },
    ];
    let mut w = Writer::create(&path, &header, WriterOptions::default()).unwrap();
    for r in &recs {
        w.write(r).unwrap();
    }
    w.finish().unwrap();
    let t = Trace::open(&path).unwrap();
    assert_eq!(t.header(), &header);
    let mut got = Vec::new();
    t.for_each_record(|r| got.push(r.to_owned())).unwrap();
    let want: Vec<OwnedRecord> = recs.iter().map(|r| r.to_owned()).collect();
    assert_eq!(got, want);
    match got[1].as_record() {
        Record::SyscallEnter { mem, .. } => {
            let m = mem.iter().next().unwrap();
            assert_eq!((m.redacted, m.len(), m.data), (Some(42), 42, &[][..]));
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn a_parallel_map_until_done_reads_no_chunk_once_done_and_every_chunk_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    crate::helpers::write_sample(&path, 8, 256);
    let t = Trace::open(&path).unwrap();
    assert!(t.chunks().len() > 4, "{} chunks", t.chunks().len());
    let read = std::sync::atomic::AtomicUsize::new(0);
    let count = |d: Result<&ChunkData>| {
        read.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        d.unwrap().stops().count()
    };
    let none = t.par_map_chunk_parts_until(Part::Stops, || true, count);
    assert_eq!(none.len(), t.chunks().len());
    assert!(none.iter().all(Option::is_none));
    assert_eq!(read.load(std::sync::atomic::Ordering::Relaxed), 0);
    let all = t.par_map_chunk_parts_until(Part::Stops, || false, count);
    let every = t.par_map_chunk_parts(Part::Stops, count);
    assert_eq!(all.into_iter().collect::<Option<Vec<_>>>(), Some(every));
}
