//! Synthetic traces written with `ptrec_format::Writer`, records crafted by hand.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ptrec_format::{
    mem_flags, note_kind, CaptureBuf, ChildKind, Header, Record, RecordingOptions, Termination,
    Writer, WriterOptions, AUDIT_ARCH_X86_64, REG_LAYOUT_X86_64,
};

pub const T0: u64 = 1_000_000_000;
pub const CLONE_THREAD: u64 = 0x10000;
/// CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|...
pub const PTHREAD_FLAGS: u64 = 0x3d0f00;

pub fn header(argv: &[&str]) -> Header {
    Header {
        arch: AUDIT_ARCH_X86_64,
        reg_layout: REG_LAYOUT_X86_64,
        kernel_release: "6.0.0-test".into(),
        hostname: "testhost".into(),
        page_size: 4096,
        start_wall_ns: 1_700_000_000_000_000_000,
        start_mono_ns: T0,
        argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        cwd: b"/tmp".to_vec(),
        env: vec![b"PATH=/bin".to_vec()],
        options: RecordingOptions {
            string_limit: 32,
            filter_mode: "none".into(),
            cpu_times: true,
            registers: false,
            ..RecordingOptions::default()
        },
        recorder_version: "ptrec test".into(),
        ..Header::default()
    }
}

/// Writes records with increasing times (1 us apart) and CPU times.
pub struct Gen {
    pub w: Writer,
    pub time: u64,
    pub stime: u64,
    caps: CaptureBuf,
    /// Seal a chunk after every record (`chunk_bytes` 1; the writer's
    /// smallest chunk is otherwise 4 KiB).
    every: bool,
}

impl Gen {
    pub fn new(path: &Path, argv: &[&str], chunk_bytes: usize) -> Gen {
        let opts = WriterOptions {
            chunk_bytes,
            flush_interval: std::time::Duration::from_secs(3600),
            ..WriterOptions::default()
        };
        Gen {
            w: Writer::create(path, &header(argv), opts).unwrap(),
            time: T0,
            stime: 0,
            caps: CaptureBuf::new(),
            every: chunk_bytes == 1,
        }
    }
    pub fn tick(&mut self) -> u64 {
        self.time += 1000;
        self.time
    }
    pub fn put(&mut self, r: Record<'_>) {
        self.w.write(&r).unwrap();
        if self.every {
            self.w.flush().unwrap();
        }
    }
    /// A syscall entry; `mem` are (arg, flags, addr, bytes).
    pub fn enter(&mut self, tid: i32, nr: u64, args: [u64; 6], mem: &[(u8, u8, u64, &[u8])]) {
        let time = self.tick();
        self.caps.clear();
        for (a, f, addr, d) in mem {
            self.caps.push(*a, *f, *addr, d);
        }
        let r = Record::SyscallEnter {
            tid,
            time,
            stime_us: Some(self.stime),
            nr,
            args,
            regs: None,
            mem: self.caps.captures(),
        };
        self.w.write(&r).unwrap();
        if self.every {
            self.w.flush().unwrap();
        }
    }
    /// A syscall exit, `cpu_us` of system time after its entry.
    pub fn exit(&mut self, tid: i32, nr: u64, ret: i64, cpu_us: u64, mem: &[(u8, u8, u64, &[u8])]) {
        let time = self.tick();
        self.stime += cpu_us;
        self.caps.clear();
        for (a, f, addr, d) in mem {
            self.caps.push(*a, *f, *addr, d);
        }
        let r = Record::SyscallExit {
            tid,
            time,
            stime_us: Some(self.stime),
            nr,
            ret,
            regs: None,
            mem: self.caps.captures(),
        };
        self.w.write(&r).unwrap();
        if self.every {
            self.w.flush().unwrap();
        }
    }
    pub fn call(&mut self, tid: i32, nr: u64, args: [u64; 6], ret: i64, cpu_us: u64) {
        self.enter(tid, nr, args, &[]);
        self.exit(tid, nr, ret, cpu_us, &[]);
    }
    pub fn finish(self) {
        self.w.finish().unwrap();
    }
}

pub const S: u8 = mem_flags::STRING;

/// A small process tree: the command (pid 100) forks 101, starts thread 102;
/// 101 forks 103, whose thread 104 execs /usr/bin/true; 101 is killed by
/// SIGKILL; signals, a group-stop, an error return and interleaved threads.
pub fn forktree(path: &Path) {
    forktree_chunked(path, 1 << 20);
}

/// [`forktree`] in chunks of about `chunk_bytes` (1: one record per chunk).
pub fn forktree_chunked(path: &Path, chunk_bytes: usize) {
    let mut g = Gen::new(path, &["sh", "-c", "demo"], chunk_bytes);
    let t = g.tick();
    g.put(Record::Attach {
        tid: 100,
        time: t,
        tgid: 100,
        ppid: 1,
        state: b'R',
        group_stopped: false,
        comm: b"",
        exe: b"",
        cwd: b"",
    });
    g.enter(
        100,
        59,
        [0x1000, 0x2000, 0x3000, 0, 0, 0],
        &[
            (0, S, 0x1000, b"/bin/sh"),
            (
                1,
                0,
                0x2000,
                &[
                    0x10, 0x20, 0, 0, 0, 0, 0, 0, 0x20, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                    0, 0,
                ],
            ),
            (9, S, 0x2010, b"sh"),
            (9, S, 0x2020, b"-c"),
        ],
    );
    let t = g.tick();
    g.put(Record::Exec {
        tid: 100,
        time: t,
        former_tid: 100,
        filename: b"/bin/sh",
        argv: vec![b"sh", b"-c", b"demo"],
        argv_redacted: Vec::new(),
    });
    g.exit(100, 59, 0, 40, &[]);
    g.enter(
        100,
        257,
        [(-100i64) as u64, 0x4000, 0, 0, 0, 0],
        &[(1, S, 0x4000, b"/etc/nonexistent")],
    );
    g.exit(100, 257, -2, 3, &[]);
    g.enter(100, 56, [0x1200011, 0, 0, 0, 0, 0], &[]);
    let t = g.tick();
    g.put(Record::NewChild {
        tid: 100,
        time: t,
        child: 101,
        kind: ChildKind::Fork,
        flags: 0x1200011,
        inferred: false,
    });
    g.exit(100, 56, 101, 20, &[]);
    g.enter(100, 56, [PTHREAD_FLAGS, 0, 0, 0, 0, 0], &[]);
    let t = g.tick();
    g.put(Record::NewChild {
        tid: 100,
        time: t,
        child: 102,
        kind: ChildKind::Clone,
        flags: PTHREAD_FLAGS,
        inferred: false,
    });
    g.exit(100, 56, 102, 10, &[]);
    // 101 writes while thread 102 is inside read: strace shows unfinished/resumed.
    g.enter(102, 0, [3, 0x5000, 64, 0, 0, 0], &[]);
    g.enter(
        101,
        1,
        [1, 0x6000, 6, 0, 0, 0],
        &[(1, 0, 0x6000, b"hello\n")],
    );
    g.exit(101, 1, 6, 2, &[]);
    g.exit(
        102,
        0,
        5,
        1,
        &[(1, mem_flags::AT_EXIT, 0x5000, b"abc\0\x01")],
    );
    g.enter(101, 57, [0; 6], &[]);
    let t = g.tick();
    g.put(Record::NewChild {
        tid: 101,
        time: t,
        child: 103,
        kind: ChildKind::Fork,
        flags: 0,
        inferred: false,
    });
    g.exit(101, 57, 103, 15, &[]);
    g.enter(103, 56, [PTHREAD_FLAGS, 0, 0, 0, 0, 0], &[]);
    let t = g.tick();
    g.put(Record::NewChild {
        tid: 103,
        time: t,
        child: 104,
        kind: ChildKind::Clone,
        flags: PTHREAD_FLAGS,
        inferred: false,
    });
    g.exit(103, 56, 104, 5, &[]);
    // Non-leader exec: 104 calls execve, becomes 103.
    g.enter(
        104,
        59,
        [0x7000, 0x7100, 0, 0, 0, 0],
        &[
            (0, S, 0x7000, b"/usr/bin/true"),
            (
                1,
                0,
                0x7100,
                &[0x00, 0x72, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ),
            (9, S, 0x7200, b"true"),
        ],
    );
    let t = g.tick();
    g.put(Record::Exec {
        tid: 103,
        time: t,
        former_tid: 104,
        filename: b"/usr/bin/true",
        argv: vec![b"true"],
        argv_redacted: Vec::new(),
    });
    g.exit(103, 59, 0, 30, &[]);
    g.enter(103, 231, [0; 6], &[]);
    let t = g.tick();
    g.put(Record::Death {
        tid: 103,
        time: t,
        how: Termination::Exited(0),
    });
    let mut si = [0u8; 128];
    si[0..4].copy_from_slice(&17i32.to_le_bytes());
    si[8..12].copy_from_slice(&1i32.to_le_bytes());
    si[16..20].copy_from_slice(&103i32.to_le_bytes());
    let t = g.tick();
    g.put(Record::SignalDelivery {
        tid: 101,
        time: t,
        signo: 17,
        siginfo: &si,
    });
    let t = g.tick();
    g.put(Record::GroupStop {
        tid: 100,
        time: t,
        signo: 19,
    });
    let t = g.tick();
    g.put(Record::Death {
        tid: 101,
        time: t,
        how: Termination::Signaled {
            signo: 9,
            core: false,
        },
    });
    g.call(102, 60, [0; 6], 0, 0);
    let t = g.tick();
    g.put(Record::Death {
        tid: 102,
        time: t,
        how: Termination::Exited(0),
    });
    g.enter(100, 231, [3, 0, 0, 0, 0, 0], &[]);
    let t = g.tick();
    g.put(Record::Death {
        tid: 100,
        time: t,
        how: Termination::Exited(3),
    });
    let t = g.tick();
    g.put(Record::Note {
        tid: 0,
        time: t,
        kind: note_kind::END,
        value: 3,
        text: b"",
    });
    g.finish();
}

/// `n` getppid calls of thread 100, each taking 1 us of CPU time and 1 us of
/// wall time, in 4 KiB chunks so that some pairs straddle a chunk boundary.
pub fn many_calls(path: &Path, n: u64) {
    let mut g = Gen::new(path, &["loop"], 4096);
    for _ in 0..n {
        g.call(100, 110, [0; 6], 1, 1);
    }
    g.call(100, 2, [0; 6], -13, 1);
    g.finish();
}

pub fn analyze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analyze"))
        // Local times (info's start) the same on every machine.
        .env("TZ", "UTC")
        .args(args)
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "analyze failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn tmp(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}
