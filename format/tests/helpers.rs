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
    for (i, w) in g.words_mut().iter_mut().enumerate() {
        *w = 0x1000 + i as u64;
    }
    g[x86_64::ORIG_RAX] = 0;
    let mut g2 = g;
    g2[x86_64::RAX] = 5;
    g2[x86_64::RCX] = 0x401000;
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
            argv_redacted: if version >= 3 {
                vec![(1, 9)]
            } else {
                Vec::new()
            },
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
                detail: b"",
            },
            Record::OpenFd {
                tid: 100,
                time: 3_950,
                fd: 4,
                flags: 0o4002,
                pos: 0,
                target: b"pipe:[12345]",
                // A body without the optional detail: read back empty.
                detail: b"",
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
        cb.push_redacted(2, mem_flags::AT_EXIT, 0x7fff_1000, b"Authorization: ", 4081);
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
        argv: vec![b"cat".to_vec(), b"--token=".to_vec()],
        argv_redacted: vec![(1, 6)],
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

/// xorshift64*: deterministic, so a failure reproduces.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Counts the bytes each thread has allocated and not freed, so that a test
/// can bound what one call allocates (other tests run on other threads).
struct Counting;

thread_local! {
    static LIVE: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
    static PEAK: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

fn account(delta: isize) {
    let _ = LIVE.try_with(|l| {
        let v = l.get() + delta;
        l.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
    });
}

// SAFETY: every method forwards to the system allocator unchanged; the
// accounting only touches thread-local counters, which never allocate.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let p = unsafe { std::alloc::System.alloc(l) };
        if !p.is_null() {
            account(l.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        // SAFETY: `p` was allocated by `alloc` above with layout `l`.
        unsafe { std::alloc::System.dealloc(p, l) };
        account(-(l.size() as isize));
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, new: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc` is passed on as is.
        let q = unsafe { std::alloc::System.realloc(p, l, new) };
        if !q.is_null() {
            account(new as isize - l.size() as isize);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its value and the most bytes it had allocated on
/// this thread at once (beyond what was live before).
pub fn peak_alloc<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(base));
    let t = f();
    let peak = PEAK.with(|p| p.get());
    (t, (peak - base).max(0) as usize)
}

/// An arm64 recording's header (register layout 2).
pub fn aarch64_header() -> Header {
    Header {
        arch: AUDIT_ARCH_AARCH64,
        reg_layout: REG_LAYOUT_AARCH64,
        hostname: "arm-golden".into(),
        page_size: 16384,
        argv: vec![b"cat".to_vec(), b"/etc/hostname".to_vec()],
        ..sample_header()
    }
}

/// A snapshot as an arm64 thread has it at a syscall entry: x8 the
/// number, x0..x5 the arguments.
pub fn aarch64_entry(pc: u64, nr: u64, args: [u64; 6]) -> Regs {
    let mut g = Regs::new(RegLayout::Aarch64);
    for (i, w) in g.words_mut().iter_mut().enumerate() {
        *w = 0x1000 + i as u64;
    }
    for (r, a) in aarch64::ARGS.iter().zip(args) {
        g[*r] = a;
    }
    g[aarch64::X8] = nr;
    g[aarch64::PC] = pc;
    g[aarch64::SP] = 0xffff_f000_0000;
    g[aarch64::PSTATE] = 0x6000_0000;
    g
}

/// What `cat /etc/hostname` does on arm64, as the recorder would store it:
/// openat, read, write, close, exit_group (aarch64 numbers 56, 63, 64, 57,
/// 94), each exit with x0 = the return value, plus the process events.
pub fn aarch64_records(cb: &CaptureBuf) -> Vec<Record<'_>> {
    let calls: [(u64, [u64; 6], i64); 5] = [
        (56, [(-100i64) as u64, 0xaaaa_0000_1000, 0, 0, 0, 0], 3),
        (63, [3, 0xffff_e000_0000, 4096, 0, 0, 0], 8),
        (64, [1, 0xffff_e000_0000, 8, 0, 0, 0], 8),
        (57, [3, 0, 0, 0, 0, 0], 0),
        (94, [0, 0, 0, 0, 0, 0], 0),
    ];
    let mut v = vec![Record::Exec {
        tid: 500,
        time: 1_000,
        former_tid: 500,
        filename: b"/usr/bin/cat",
        argv: vec![b"cat", b"/etc/hostname"],
        argv_redacted: Vec::new(),
    }];
    let mut time = 2_000;
    for (i, (nr, args, ret)) in calls.into_iter().enumerate() {
        let g = aarch64_entry(0xffff_8000_0000 + 0x40 * i as u64, nr, args);
        v.push(Record::SyscallEnter {
            tid: 500,
            time,
            stime_us: Some(i as u64),
            nr,
            args,
            regs: Some(g),
            mem: if nr == 56 {
                cb.captures()
            } else {
                Captures::default()
            },
        });
        if nr == 94 {
            break;
        }
        let mut x = g;
        x[aarch64::X0] = ret as u64;
        v.push(Record::SyscallExit {
            tid: 500,
            time: time + 500,
            stime_us: Some(i as u64 + 1),
            nr,
            ret,
            regs: Some(x),
            mem: Captures::default(),
        });
        time += 1_000;
    }
    v.extend([
        Record::ExitEvent {
            tid: 500,
            time: time + 10,
            status: 0,
        },
        Record::Death {
            tid: 500,
            time: time + 20,
            how: Termination::Exited(0),
        },
    ]);
    v
}

/// The capture of the openat's path.
pub fn aarch64_capture() -> CaptureBuf {
    let mut cb = CaptureBuf::new();
    cb.push(1, mem_flags::STRING, 0xaaaa_0000_1000, b"/etc/hostname");
    cb
}
