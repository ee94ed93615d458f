//! End-to-end tests of argument capture: `rec` runs the `capture_*` tracees
//! and the exact bytes they pass to the kernel are found in the trace.
//!
//! `rec` must have been built first (`cargo build --workspace`); the tests
//! find it beside their own executable.

use std::path::Path;
use std::process::Command;

use ptrec_format::{mem_flags, Record, Trace};
use ptrec_tests::{bin, tracee};
use syscalls::x86_64::Sysno;

/// One capture, owned: (at exit?, syscall, arg, flags, data).
#[derive(Debug, Clone)]
struct Cap {
    exit: bool,
    nr: u64,
    ret: i64,
    arg: u8,
    flags: u8,
    data: Vec<u8>,
}

/// Runs `prog` under rec with `-s limit`; returns its stdout and every capture.
fn record(prog: &Path, limit: u32) -> (String, Vec<Cap>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("t.bin");
    let out = Command::new(bin("rec"))
        .arg("-q")
        .arg("-s")
        .arg(limit.to_string())
        .arg("-o")
        .arg(&trace)
        .arg("--")
        .arg(prog)
        .output()
        .expect("rec runs");
    let t = Trace::open(&trace).expect("trace opens");
    let mut caps = Vec::new();
    t.for_each_record(|r| {
        let (exit, nr, ret, mem) = match r {
            Record::SyscallEnter { nr, mem, .. } => (false, *nr, 0, mem),
            Record::SyscallExit { nr, ret, mem, .. } => (true, *nr, *ret, mem),
            _ => return,
        };
        for m in mem.iter() {
            caps.push(Cap {
                exit,
                nr,
                ret,
                arg: m.arg,
                flags: m.flags,
                data: m.data.to_vec(),
            });
        }
    })
    .expect("records decode");
    (String::from_utf8_lossy(&out.stdout).into_owned(), caps)
}

fn find(caps: &[Cap], nr: Sysno, f: impl Fn(&Cap) -> bool) -> Option<&Cap> {
    caps.iter().find(|c| c.nr == nr as u64 && f(c))
}

#[test]
fn known_bytes_paths_sockaddrs_iovecs_and_faults_are_captured_exactly() {
    let (stdout, caps) = record(&tracee("capture_args"), 4096);
    assert_eq!(
        stdout, "capture-write-bytes\niov-one|iov-two\nok\n",
        "tracee output undisturbed"
    );
    // write: input buffer at entry, exact bytes.
    assert!(find(&caps, Sysno::write, |c| !c.exit
        && c.arg == 1
        && c.flags == 0
        && c.data == b"capture-write-bytes\n")
    .is_some());
    // openat: the path as a string, not cut.
    assert!(find(&caps, Sysno::openat, |c| c.arg == 1
        && c.flags == mem_flags::STRING
        && c.data == b"/nonexistent/capture/path-XYZ")
    .is_some());
    // writev: the iovec array (arg 1) then each buffer (arg 8 + 1).
    let iov = find(&caps, Sysno::writev, |c| c.arg == 1).expect("iovec array");
    assert_eq!(iov.data.len(), 32);
    let bufs: Vec<&[u8]> = caps
        .iter()
        .filter(|c| c.nr == Sysno::writev as u64 && c.arg == 9)
        .map(|c| &c.data[..])
        .collect();
    assert_eq!(bufs, vec![&b"iov-one|"[..], &b"iov-two\n"[..]]);
    // connect: the whole sockaddr_un, sized by addrlen (110).
    let un = find(&caps, Sysno::connect, |c| c.arg == 1).expect("connect sockaddr");
    assert_eq!(un.data.len(), 110);
    assert_eq!(&un.data[..2], &(libc::AF_UNIX as u16).to_ne_bytes());
    assert!(un.data[2..].starts_with(b"/tmp/ptrec-capture-nosuch.sock\0"));
    // bind: sockaddr_in 127.0.0.1:0.
    let sin = find(&caps, Sysno::bind, |c| c.arg == 1).expect("bind sockaddr");
    assert_eq!(
        &sin.data[..8],
        &[libc::AF_INET as u8, 0, 0, 0, 127, 0, 0, 1]
    );
    // read: output buffer at exit, sized by the return value.
    assert!(find(&caps, Sysno::read, |c| c.exit
        && c.ret == 12
        && c.arg == 1
        && c.flags == mem_flags::AT_EXIT
        && c.data == b"pipe-data-42")
    .is_some());
    // pipe2: the fd pair at exit.
    assert!(find(&caps, Sysno::pipe2, |c| c.exit && c.data.len() == 8).is_some());
    // A bad pointer: recorded as unreadable, no bytes.
    assert!(find(&caps, Sysno::write, |c| c.arg == 1
        && c.flags == mem_flags::UNREADABLE
        && c.data.is_empty())
    .is_some());
    // A buffer ending at a mapping's end: the readable 96 bytes, PARTIAL.
    assert!(find(&caps, Sysno::write, |c| c.flags == mem_flags::PARTIAL
        && c.data == [b'E'; 96])
    .is_some());
}

#[test]
fn s_limit_cuts_buffers_and_strings_but_not_paths() {
    let (_, caps) = record(&tracee("capture_args"), 8);
    assert!(
        find(&caps, Sysno::write, |c| c.flags == mem_flags::TRUNCATED
            && c.data == b"capture-")
        .is_some()
    );
    assert!(find(&caps, Sysno::openat, |c| c.data
        == b"/nonexistent/capture/path-XYZ")
    .is_some());
    assert!(find(&caps, Sysno::read, |c| c.flags
        == mem_flags::AT_EXIT | mem_flags::TRUNCATED
        && c.data == b"pipe-dat")
    .is_some());
}

#[test]
fn execve_with_10000_environment_variables_is_captured_whole() {
    let (_, caps) = record(&tracee("capture_bigenv"), 4096);
    // The second execve is the tracee's own (the first is rec's launch).
    let argv: Vec<&[u8]> = caps
        .iter()
        .filter(|c| c.nr == Sysno::execve as u64 && !c.exit && c.arg == 9)
        .map(|c| &c.data[..])
        .collect();
    assert!(
        argv.windows(2)
            .any(|w| w == [&b"/bin/true"[..], &b"arg-one"[..]]),
        "{argv:?}"
    );
    let env: Vec<&Cap> = caps
        .iter()
        .filter(|c| c.nr == Sysno::execve as u64 && c.arg == 10 && c.data.starts_with(b"CAPENV_"))
        .collect();
    assert_eq!(env.len(), 10_000);
    for (i, c) in env.iter().enumerate() {
        assert_eq!(c.data, format!("CAPENV_{i}=value-{i}").into_bytes());
        assert_eq!(c.flags, mem_flags::STRING);
    }
}

#[test]
fn no_capture_keeps_every_stop_and_register_but_no_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |extra: &[&str], name: &str| {
        let trace = dir.path().join(name);
        let out = Command::new(bin("rec"))
            .arg("-q")
            .args(extra)
            .arg("-o")
            .arg(&trace)
            .arg("--")
            .arg(tracee("capture_args"))
            .output()
            .expect("rec runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let t = Trace::open(&trace).expect("trace opens");
        let (mut syscalls, mut with_regs, mut caps) = (0u64, 0u64, 0usize);
        t.for_each_record(|r| {
            if let Record::SyscallEnter { regs, mem, .. } = r {
                syscalls += 1;
                with_regs += u64::from(regs.is_some());
                caps += mem.len();
            }
        })
        .expect("records decode");
        (t.header().options.string_limit, syscalls, with_regs, caps)
    };
    let (limit, syscalls, with_regs, caps) = run(&["--no-capture"], "off.bin");
    let (_, syscalls_on, _, caps_on) = run(&[], "on.bin");
    assert_eq!(limit, 0, "the header says nothing was captured");
    assert_eq!(syscalls, syscalls_on);
    assert_eq!(with_regs, syscalls);
    assert_eq!(caps, 0);
    assert!(caps_on > 0);
}
