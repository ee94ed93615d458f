//! Shared sample traces for the format tests.
use ptrec_format::*;
use std::path::Path;

/// The current version's sample records.
pub fn sample_records(cb: &CaptureBuf) -> Vec<Record<'_>> {
    sample_records_of(FORMAT_VERSION, cb)
}

/// A few records of every kind a file of `version` holds, with captures,
/// None regs, odd tids and a time that goes backwards.
pub fn sample_records_of(version: u32, cb: &CaptureBuf) -> Vec<Record<'_>> {
    let mut g = Regs::default();
    for (i, w) in g.0.iter_mut().enumerate() {
        *w = 0x1000 + i as u64;
    }
    g.0[x86_64::ORIG_RAX] = 0;
    let mut g2 = g;
    g2.0[x86_64::RAX] = 5;
    g2.0[x86_64::RCX] = 0x401000;
    let mut v = vec![
        Record::Attach {
            tid: 100,
            time: 1_000,
            tgid: 100,
            ppid: 1,
            state: b'S',
            group_stopped: false,
            comm: b"cat",
            exe: b"/bin/cat",
            cwd: b"/tmp",
        },
        Record::SyscallEnter {
            tid: 100,
            time: 2_000,
            stime_us: Some(7),
            nr: 0,
            args: g.syscall_args(),
            regs: Some(g),
            mem: Captures::Slice(&[]),
        },
        Record::SyscallExit {
            tid: 100,
            time: 2_500,
            stime_us: Some(9),
            nr: 0,
            ret: 5,
            regs: Some(g2),
            mem: cb.captures(),
        },
        Record::SyscallEnter {
            tid: -1,
            time: 1_500,
            stime_us: None,
            nr: 231,
            args: [1, 2, 3, 4, 5, u64::MAX],
            regs: None,
            mem: Captures::Slice(&[]),
        },
        Record::SyscallExit {
            tid: i32::MAX,
            time: u64::MAX,
            stime_us: None,
            nr: 9,
            ret: -14,
            regs: None,
            mem: Captures::Slice(&[]),
        },
        Record::SignalDelivery {
            tid: 100,
            time: 3_000,
            signo: 11,
            siginfo: &[7u8; 128],
        },
        Record::GroupStop {
            tid: 100,
            time: 3_100,
            signo: 19,
        },
        Record::NewChild {
            tid: 100,
            time: 3_200,
            child: 101,
            kind: ChildKind::Vfork,
            flags: 0x4111,
            inferred: false,
        },
        Record::VforkDone {
            tid: 100,
            time: 3_300,
            child: 101,
        },
        Record::Exec {
            tid: 101,
            time: 3_400,
            former_tid: 102,
            filename: b"/bin/ls",
            argv: vec![b"ls", b"-l", b""],
            argv_redacted: Vec::new(),
        },
        Record::ExitEvent {
            tid: 101,
            time: 3_500,
            status: 0x100,
        },
        Record::Death {
            tid: 101,
            time: 3_600,
            how: Termination::Exited(1),
        },
        Record::Death {
            tid: 102,
            time: 3_610,
            how: Termination::Signaled {
                signo: 9,
                core: true,
            },
        },
        Record::Detach {
            tid: 100,
            time: 3_700,
            state: b'T',
            signo: 0,
        },
        Record::Note {
            tid: 0,
            time: 3_800,
            kind: note_kind::END,
            value: 0,
            text: b"done",
        },
    ];
    if version >= 3 {
        v.extend([
            Record::NewChild {
                tid: 100,
                time: 3_900,
                child: 103,
                kind: ChildKind::Clone,
                flags: 0,
                inferred: true,
            },
            Record::OpenFd {
                tid: 100,
                time: 3_950,
                fd: 3,
                flags: 0o2100002,
                pos: 4096,
                target: b"/var/log/app.log",
            },
            Record::OpenFd {
                tid: 100,
                time: 3_950,
                fd: 4,
                flags: 0o4002,
                pos: 0,
                target: b"pipe:[12345]",
            },
        ]);
    }
    v
}

pub fn sample_capture() -> CaptureBuf {
    sample_capture_of(FORMAT_VERSION)
}

/// The sample captures of a file of `version` (version 3: one redacted).
pub fn sample_capture_of(version: u32) -> CaptureBuf {
    let mut cb = CaptureBuf::new();
    cb.push(1, mem_flags::AT_EXIT, 0x7fff_0000, b"hello");
    cb.push(8, mem_flags::UNREADABLE, 0xdead, b"");
    if version >= 3 {
        cb.push_redacted(2, mem_flags::AT_EXIT, 0x7fff_1000, 4096);
    }
    cb
}

/// The current version's sample header.
pub fn sample_header() -> Header {
    sample_header_of(FORMAT_VERSION)
}

/// The sample header of a file of `version`.
pub fn sample_header_of(version: u32) -> Header {
    let h = Header {
        arch: AUDIT_ARCH_X86_64,
        reg_layout: REG_LAYOUT_X86_64,
        kernel_release: "6.1.0-test".into(),
        hostname: "golden".into(),
        page_size: 4096,
        start_wall_ns: 1_700_000_000_000_000_000,
        start_mono_ns: 999,
        argv: vec![b"cat".to_vec(), b"x".to_vec()],
        cwd: b"/tmp".to_vec(),
        env: vec![b"A=1".to_vec()],
        options: RecordingOptions {
            string_limit: 32,
            filter: String::new(),
            filter_mode: "none".into(),
            filter_syscalls: vec![],
            attach_pids: vec![],
            cpu_times: true,
            registers: true,
        },
        recorder_version: "ptrec 0.1.0".into(),
        ..Header::default()
    };
    if version < 3 {
        return h;
    }
    Header {
        nonce: *b"0123456789abcdef",
        wait_policy: "spin<=50us,adaptive".into(),
        redaction: Some(Redaction {
            policy: "default".into(),
            applied_wall_ns: 1_700_000_001_000_000_000,
        }),
        env: vec![b"A=".to_vec(), b"PATH=/bin".to_vec()],
        env_redacted: vec![(0, 1)],
        ..h
    }
}

/// Writes `rounds` copies of the sample records in small chunks.
pub fn write_sample(path: &Path, rounds: usize, chunk_bytes: usize) -> Vec<String> {
    let cb = sample_capture();
    let recs = sample_records(&cb);
    let opts = WriterOptions {
        chunk_bytes,
        ..Default::default()
    };
    let mut w = Writer::create(path, &sample_header(), opts).unwrap();
    let mut expect = Vec::new();
    for _ in 0..rounds {
        for r in &recs {
            w.write(r).unwrap();
            expect.push(format!("{r:?}"));
        }
    }
    w.finish().unwrap();
    expect
}

/// Every record of a trace, or the first error; never panics on bad input.
pub fn read_all(t: &Trace) -> Result<Vec<String>, Error> {
    let mut v = Vec::new();
    t.for_each_record(|r| v.push(format!("{r:?}")))?;
    Ok(v)
}
