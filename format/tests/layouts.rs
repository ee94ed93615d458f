//! The architecture as a value: a second register layout (aarch64,
//! `user_pt_regs`) written and read by the same codec, with its own
//! syscall registers and predictions; a layout the reader does not know.

use crate::helpers as common;

use ptrec_format::*;
use std::path::PathBuf;

fn golden_aarch64() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden-aarch64.bin")
}

fn write(path: &std::path::Path, h: &Header, recs: &[Record<'_>]) -> Result<WriteStats, Error> {
    let mut w = Writer::create(path, h, WriterOptions::default())?;
    for r in recs {
        w.write(r)?;
    }
    w.finish()
}

#[test]
fn the_golden_aarch64_trace_reads_back_with_arm64_registers() {
    let cb = common::aarch64_capture();
    let recs = common::aarch64_records(&cb);
    if std::env::var_os("PTREC_REGEN_GOLDEN").is_some() {
        write(&golden_aarch64(), &common::aarch64_header(), &recs).unwrap();
    }
    let t = Trace::open(golden_aarch64()).unwrap();
    assert_eq!(t.header(), &common::aarch64_header());
    assert_eq!(t.layout(), Some(RegLayout::Aarch64));
    assert_eq!(
        RegLayout::from_audit_arch(t.header().arch),
        Some(RegLayout::Aarch64)
    );
    let mut got = Vec::new();
    t.for_each_record(|r| got.push(r.to_owned())).unwrap();
    assert_eq!(got.len(), recs.len());
    for (g, r) in got.iter().zip(&recs) {
        assert_eq!(&g.as_record(), r);
    }
    // The syscall registers are arm64's: x8 the number, x0.. the arguments
    // and, at an exit, the return value.
    let Record::SyscallEnter { nr, args, regs, .. } = got[1].as_record() else {
        panic!("{:?}", got[1]);
    };
    let g = regs.unwrap();
    assert_eq!((nr, g.layout()), (56, RegLayout::Aarch64));
    assert_eq!((g.syscall_nr(), g.syscall_args()), (nr, args));
    assert_eq!(g.get("x8"), Some(56));
    assert_eq!(g.pc(), 0xffff_8000_0000);
    assert_eq!(g.sp(), 0xffff_f000_0000);
    assert!(format!("{g:?}").contains("\"pstate\": 0x60000000"));
    let Record::SyscallExit { ret, regs, .. } = got[4].as_record() else {
        panic!("{:?}", got[4]);
    };
    assert_eq!((ret, regs.unwrap().ret()), (8, 8));
    assert!(t.verify().is_ok());
}

#[test]
fn an_arm64_exit_that_repeats_its_entry_stores_no_register() {
    // Per exit, the detail stream holds an empty register mask and an empty
    // capture list: x8 and x0 are predicted from the number and the
    // return value, everything else from the entry.
    let cb = CaptureBuf::new();
    let recs: Vec<Record<'_>> = common::aarch64_records(&cb)
        .into_iter()
        .filter(|r| matches!(r, Record::SyscallEnter { .. } | Record::SyscallExit { .. }))
        .collect();
    let mut enc = codec::ChunkEncoder::for_layout(RegLayout::Aarch64, 1);
    let mut s = Streams::default();
    let mut exits = Vec::new();
    for r in &recs {
        let before = s.detail.len();
        enc.encode(r, &mut s);
        if matches!(r, Record::SyscallExit { .. }) {
            exits.push(s.detail.len() - before);
        }
    }
    assert_eq!(exits, [2, 2, 2, 2]);
    let read = codec::decode_streams(
        3,
        1,
        Some(RegLayout::Aarch64),
        &s.events,
        &s.times,
        &s.detail,
    );
    assert_eq!((read.records, read.error), (recs.len() as u64, None));
}

#[test]
fn a_snapshot_of_another_layout_than_the_headers_is_refused_by_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let cb = CaptureBuf::new();
    let recs = common::aarch64_records(&cb);
    // aarch64 snapshots under an x86_64 header.
    let e = write(&dir.path().join("t.bin"), &common::sample_header(), &recs)
        .expect_err("refused")
        .to_string();
    assert!(e.contains("aarch64") && e.contains("layout 1"), "{e}");
}

#[test]
fn a_layout_this_reader_does_not_know_keeps_the_statistics_and_refuses_the_registers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    let h = Header {
        reg_layout: 77,
        ..common::aarch64_header()
    };
    let cb = CaptureBuf::new();
    let with_regs = common::aarch64_records(&cb);
    // The writer refuses snapshots it cannot encode by the header's rules...
    assert!(write(&path, &h, &with_regs).is_err());
    // ...and writes records without them.
    let no_regs: Vec<Record<'_>> = with_regs
        .iter()
        .map(|r| match r.clone() {
            Record::SyscallEnter {
                tid,
                time,
                stime_us,
                nr,
                args,
                mem,
                ..
            } => Record::SyscallEnter {
                tid,
                time,
                stime_us,
                nr,
                args,
                regs: None,
                mem,
            },
            Record::SyscallExit {
                tid,
                time,
                stime_us,
                nr,
                ret,
                mem,
                ..
            } => Record::SyscallExit {
                tid,
                time,
                stime_us,
                nr,
                ret,
                regs: None,
                mem,
            },
            other => other,
        })
        .collect();
    write(&path, &h, &no_regs).unwrap();
    let t = Trace::open(&path).unwrap();
    assert_eq!(t.layout(), None);
    assert_eq!(common::read_all(&t).unwrap().len(), no_regs.len());
    // A snapshot in such a file (forged: the aarch64 golden file's chunk
    // under this header) is a decoding error, while skimming reads on.
    let golden = Trace::open(golden_aarch64()).unwrap();
    let d = golden.read_chunk(0).unwrap();
    let s = &d.streams;
    let full = codec::decode_streams(3, 1, None, &s.events, &s.times, &s.detail);
    assert!(full
        .error
        .unwrap()
        .contains("layout this reader does not know"));
    assert_eq!(full.skimmed, d.info.header.record_count as u64);
}

#[test]
fn every_layout_names_its_registers_and_its_syscall_registers() {
    for l in RegLayout::ALL {
        let d = l.desc();
        assert_eq!(RegLayout::from_id(d.id), Some(l));
        assert_eq!(d.names.len(), l.count());
        assert!(l.count() <= MAX_REGS);
        for i in d.args.iter().chain([&d.nr, &d.ret, &d.pc, &d.sp]) {
            assert!(*i < l.count(), "{}", d.name);
        }
    }
    let x = RegLayout::X86_64.desc();
    assert_eq!(
        (x.names[x.nr], x.names[x.ret], x.names[x.pc]),
        ("orig_rax", "rax", "rip")
    );
    let a = RegLayout::Aarch64.desc();
    assert_eq!(
        (a.names[a.nr], a.names[a.ret], a.names[a.pc]),
        ("x8", "x0", "pc")
    );
    assert_eq!(a.names[a.args[5]], "x5");
    assert_eq!(RegLayout::from_id(0), None);
    assert!(Regs::from_words(RegLayout::Aarch64, &[0; 27]).is_none());
}
