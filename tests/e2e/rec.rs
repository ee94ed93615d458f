//! End-to-end tests of `rec` on the C tracee programs of `tracees/`: each
//! runs the program once directly and once under `rec`, asserts that its
//! stdout and exit status are the same, and checks the recorded trace
//! through `ptrec_format::Trace`.
//!
//! `rec` must have been built first (`cargo build --workspace`); the tests
//! find it beside their own executable.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ptrec_format::{
    x86_64 as regs, ChildKind, OwnedRecord as R, Record, Termination, Trace, AUDIT_ARCH_X86_64,
};
use ptrec_tests::{bin, kill, tracee, Tmpfs};

struct Run {
    code: i32,
    stdout: String,
    recs: Vec<R>,
    root: i32,
}

/// A shell-style exit status.
fn shell_code(st: std::process::ExitStatus) -> i32 {
    st.code()
        .unwrap_or_else(|| 128 + st.signal().expect("exited or signaled"))
}

/// Runs `name` directly and under rec; asserts equal stdout and exit status;
/// returns the recorded trace, checked for the invariants every trace holds.
fn record(name: &str, args: &[&str]) -> Run {
    record_with(name, &[], args)
}

/// `record` with extra rec options.
fn record_with(name: &str, rec_args: &[&str], args: &[&str]) -> Run {
    let exe = tracee(name);
    let direct = Command::new(&exe).args(args).output().expect("run tracee");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let t0 = Instant::now();
    let rec = Command::new(bin("rec"))
        .arg("-o")
        .arg(&out)
        .arg("-q")
        .arg("--verify-exit-regs")
        .args(rec_args)
        .arg("--")
        .arg(&exe)
        .args(args)
        .output()
        .expect("run rec");
    assert!(t0.elapsed() < Duration::from_secs(10), "rec took too long");
    let stderr = String::from_utf8_lossy(&rec.stderr);
    assert!(stderr.is_empty(), "rec -q printed: {stderr}");
    let code = shell_code(rec.status);
    assert_eq!(
        code,
        shell_code(direct.status),
        "exit status differs under rec"
    );
    let stdout = String::from_utf8(rec.stdout).expect("utf8");
    assert_eq!(
        stdout,
        String::from_utf8_lossy(&direct.stdout),
        "stdout differs under rec"
    );

    let trace = Trace::open(&out).expect("open trace");
    assert!(trace.is_clean(), "trace not closed cleanly");
    let h = trace.header();
    assert_eq!(h.arch, AUDIT_ARCH_X86_64);
    assert!(h.options.registers && h.options.cpu_times);
    assert_eq!(h.argv[0], exe.as_os_str().as_encoded_bytes());
    assert!(h.recorder_version.starts_with("ptrec "));
    let mut recs = Vec::new();
    let mut last_time = 0;
    trace
        .for_each_record(|r| {
            assert!(r.time() >= last_time, "times go backwards at {r:?}");
            last_time = r.time();
            recs.push(r.to_owned());
        })
        .expect("read records");
    let root = match recs.first() {
        Some(R::Attach { tid, .. }) => *tid,
        other => panic!("first record is not the start: {other:?}"),
    };
    match recs.last() {
        Some(R::Note { kind, value, .. }) => {
            assert_eq!(*kind, ptrec_format::note_kind::END);
            assert_eq!(*value as i32, code);
        }
        other => panic!("last record is not the end note: {other:?}"),
    }
    check_invariants(&recs, root);
    Run {
        code,
        stdout,
        recs,
        root,
    }
}

/// What every trace must satisfy: syscall enters and exits pair up per
/// thread with the same number; an exit's registers equal its enter's except
/// rax (and the syscalls that rewrite registers), and rec, run with
/// --verify-exit-regs, found them equal to a full PTRACE_GETREGS (no note); no record of a thread
/// before its creation or after its death; every thread dies or vanishes by exec.
fn check_invariants(recs: &[R], root: i32) {
    const FULL: [u64; 9] = [15, 59, 322, 158, 172, 56, 435, 57, 58];
    let mut open: HashMap<i32, (u64, ptrec_format::Regs)> = HashMap::new();
    let mut alive: BTreeSet<i32> = BTreeSet::from([root]);
    let mut dead: BTreeSet<i32> = BTreeSet::new();
    for r in recs {
        let tid = r.tid();
        if tid != 0 && !matches!(r, R::Attach { .. }) {
            assert!(alive.contains(&tid), "record of a thread not alive: {r:?}");
        }
        match r {
            R::SyscallEnter { tid, nr, regs, .. } => {
                let g = regs.expect("registers recorded");
                assert_eq!(g[regs::ORIG_RAX], *nr);
                assert_eq!(g[regs::RAX] as i64, -38, "enter rax is -ENOSYS");
                open.insert(*tid, (*nr, g));
            }
            R::SyscallExit {
                tid, nr, ret, regs, ..
            } => {
                let g = regs.expect("registers recorded");
                let (enr, eregs) = open.remove(tid).expect("exit without enter");
                assert_eq!(*nr, enr);
                assert_eq!(g[regs::RAX] as i64, *ret);
                if !FULL.contains(nr) {
                    let mut e = eregs;
                    e[regs::RAX] = g[regs::RAX];
                    assert_eq!(e, g, "exit regs of {nr} differ beyond rax");
                }
            }
            R::NewChild { child, .. } => {
                assert!(alive.insert(*child), "child {child} announced twice");
            }
            // The former tid becomes the leader's; its open syscall moves.
            R::Exec {
                tid,
                former_tid: former,
                ..
            } if former != tid => {
                alive.remove(former);
                if let Some(o) = open.remove(former) {
                    open.insert(*tid, o);
                }
            }
            R::Note { kind, .. } => {
                assert_eq!(*kind, ptrec_format::note_kind::END, "unexpected note {r:?}");
            }
            R::Death { tid, .. } => {
                open.remove(tid);
                alive.remove(tid);
                dead.insert(*tid);
            }
            _ => {}
        }
    }
    assert!(alive.is_empty(), "threads never seen to end: {alive:?}");
}

fn deaths(run: &Run) -> BTreeMap<i32, Termination> {
    run.recs
        .iter()
        .filter_map(|r| match r {
            R::Death { tid, how, .. } => Some((*tid, *how)),
            _ => None,
        })
        .collect()
}

fn children(run: &Run) -> Vec<(i32, i32, ChildKind, u64)> {
    run.recs
        .iter()
        .filter_map(|r| match r {
            R::NewChild {
                tid,
                child,
                kind,
                flags,
                ..
            } => Some((*tid, *child, *kind, *flags)),
            _ => None,
        })
        .collect()
}

#[test]
fn fork_tree_has_exact_parents_and_exit_codes() {
    let run = record("forktree", &[]);
    assert_eq!(run.code, 0);
    let kids = children(&run);
    assert_eq!(kids.len(), 4, "{kids:?}");
    let of_root: Vec<i32> = kids
        .iter()
        .filter(|k| k.0 == run.root)
        .map(|k| k.1)
        .collect();
    assert_eq!(of_root.len(), 2);
    let d = deaths(&run);
    for (i, c) in of_root.iter().enumerate() {
        let grand: Vec<i32> = kids.iter().filter(|k| k.0 == *c).map(|k| k.1).collect();
        assert_eq!(grand.len(), 1, "child {c} made one grandchild");
        assert!(kids
            .iter()
            .all(|k| k.2 == ChildKind::Fork || k.2 == ChildKind::Clone));
        assert_eq!(d[c], Termination::Exited(10 + i as i32));
        assert_eq!(d[&grand[0]], Termination::Exited(20 + i as i32));
    }
    assert_eq!(d[&run.root], Termination::Exited(0));
}

#[test]
fn the_sleeping_wait_without_polling_records_the_same_tree() {
    // rec polls for stops by default; --spin-us 0 only ever sleeps in wait4.
    let run = record_with("forktree", &["--spin-us", "0"], &[]);
    assert_eq!(run.code, 0);
    let kids = children(&run);
    assert_eq!(kids.len(), 4, "{kids:?}");
    let d = deaths(&run);
    assert_eq!(d.len(), 5, "{d:?}");
    assert_eq!(d[&run.root], Termination::Exited(0));
    let run = record_with("threads200", &["--spin-us", "0"], &[]);
    assert_eq!(run.code, 0);
    assert_eq!(children(&run).len(), 200);
}

/// rec's own wait4 calls, seen by strace (rec's children are rec's tracees,
/// so strace follows rec alone), with `--spin-always`; with `one_cpu`, rec
/// and its command may use only the first CPU this test may use.
fn rec_wait4_calls(one_cpu: bool) -> Vec<String> {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("wait4.txt");
    let mut cmd = Command::new("strace");
    cmd.args(["-qq", "-e", "trace=wait4", "-o"])
        .arg(&log)
        .arg(bin("rec"))
        // Poll whatever the load of the machine (which decides otherwise:
        // the next test), so that only the CPU count decides.
        .args(["--spin-always", "-q", "-o"])
        .arg(dir.path().join("t.bin"))
        .arg("--")
        .arg(tracee("forktree"));
    if one_cpu {
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: cpu_set_t is plain data; zeroed is the empty set.
        let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: a valid out-pointer of `size` bytes.
        assert_eq!(unsafe { libc::sched_getaffinity(0, size, &mut allowed) }, 0);
        let first = (0..libc::CPU_SETSIZE as usize)
            .find(|&c| {
                // SAFETY: c is below CPU_SETSIZE.
                unsafe { libc::CPU_ISSET(c, &allowed) }
            })
            .expect("this test may use some CPU");
        // SAFETY: zeroed is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: first is below CPU_SETSIZE.
        unsafe { libc::CPU_SET(first, &mut set) };
        // SAFETY: between fork and exec only sched_setaffinity, which is
        // async-signal-safe, on a set built before the fork.
        unsafe {
            cmd.pre_exec(move || {
                if libc::sched_setaffinity(0, size, &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let o = cmd.output().expect("strace runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(&log)
        .expect("strace's log")
        .lines()
        .filter(|l| l.starts_with("wait4("))
        .map(str::to_string)
        .collect()
}

#[test]
fn with_one_cpu_rec_never_polls_for_stops_with_more_it_does() {
    // Polling would only keep the one CPU from the tracee it waits for.
    // A WNOHANG wait4 that finds nothing ends either the collection of the
    // stops pending after a stop (rec then sleeps in a blocking wait4) or
    // one poll of the polling wait (rec then polls again).
    let polls = |calls: &[String]| {
        calls
            .windows(2)
            .filter(|w| w[0].contains("WNOHANG") && w[0].ends_with(") = 0"))
            .filter(|w| w[1].contains("WNOHANG"))
            .count()
    };
    let one = rec_wait4_calls(true);
    assert!(one.len() >= 10, "{one:?}");
    assert_eq!(polls(&one), 0, "{one:?}");
    if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
        let all = rec_wait4_calls(false);
        assert!(polls(&all) > 0, "{all:?}");
    }
}

/// Processes that keep `n` CPUs busy (plain loops, not traced) until dropped.
struct Hogs(Vec<std::process::Child>);

impl Hogs {
    fn start(n: usize) -> Hogs {
        Hogs(
            (0..n)
                .map(|_| {
                    Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .spawn()
                        .expect("start a busy loop")
                })
                .collect(),
        )
    }
}

impl Drop for Hogs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// rec's own wait4 calls (as `rec_wait4_calls`) while it records
/// `getppid_loop N` with `rec_args`.
fn rec_wait4_calls_on_a_syscall_loop(rec_args: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("wait4.txt");
    let o = Command::new("strace")
        .args(["-qq", "-e", "trace=wait4", "-o"])
        .arg(&log)
        .arg(bin("rec"))
        .args(rec_args)
        .args(["-q", "-o"])
        .arg(dir.path().join("t.bin"))
        .arg("--")
        .arg(tracee("getppid_loop"))
        .arg("3000")
        .output()
        .expect("strace runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(&log)
        .expect("strace's log")
        .lines()
        .filter(|l| l.starts_with("wait4("))
        .map(str::to_string)
        .collect()
}

#[test]
fn with_every_cpu_busy_rec_sleeps_instead_of_polling_and_spin_always_polls() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(
        cpus > 1,
        "this test needs two CPUs (with one, rec never polls)"
    );
    let _hogs = Hogs::start(cpus);
    let busy = rec_wait4_calls_on_a_syscall_loop(&[]);
    assert!(busy.len() >= 1000, "{}", busy.len());
    // rec starts out polling and needs a few 10 ms samples of the CPUs'
    // idle time to see that they are busy; from then on it only sleeps.
    let late = &busy[busy.len() / 5..];
    let polls = late.iter().filter(|l| l.contains("WNOHANG")).count();
    assert_eq!(
        polls,
        0,
        "polls after the first fifth of {} waits",
        busy.len()
    );
    let always = rec_wait4_calls_on_a_syscall_loop(&["--spin-always"]);
    let polls = always.iter().filter(|l| l.contains("WNOHANG")).count();
    assert!(
        polls * 2 > always.len(),
        "{polls} polls of {} waits",
        always.len()
    );
}

#[test]
fn the_header_records_the_wait_policy_rec_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = |flags: &[&str]| {
        let out = dir.path().join("t.bin");
        let st = Command::new(bin("rec"))
            .args(flags)
            .arg("-q")
            .arg("-o")
            .arg(&out)
            .args(["--", "true"])
            .status()
            .expect("rec runs");
        assert!(st.success());
        Trace::open(&out)
            .expect("trace")
            .header()
            .wait_policy
            .clone()
    };
    let level = "; zstd level 3, 1 while every CPU is busy";
    let never = ["--idle-poll", "never"];
    assert_eq!(
        policy(&["--spin-us", "0", never[0], never[1]]),
        format!("sleep{level}")
    );
    assert_eq!(
        policy(&["--spin-always", "--spin-us", "20", never[0], never[1]]),
        format!("poll<=20us{level}")
    );
    let adaptive = policy(&never);
    assert!(
        adaptive.starts_with("poll<=50us while a CPU is free (idle time of the ")
            && adaptive.ends_with(&format!("/proc/stat every 10 ms), else sleep{level}")),
        "{adaptive}"
    );
    let busy = "; idle CPUs poll while every CPU is busy, if rec may write /dev/cpu_dma_latency (--idle-poll busy)";
    assert!(policy(&["--idle-poll", "busy"]).ends_with(&format!("{level}{busy}")));
    let auto = if cpu_latency_limit().is_some() {
        "; idle CPUs poll (--idle-poll auto)"
    } else {
        "; idle CPUs halt: rec may not write /dev/cpu_dma_latency (--idle-poll auto)"
    };
    assert!(policy(&[]).ends_with(&format!("{level}{auto}")));
    if cpu_latency_limit().is_some() {
        assert!(policy(&["--idle-poll"])
            .ends_with(&format!("{level}; idle CPUs poll (--idle-poll always)")));
    }
}

/// The machine's current CPU latency limit, as `/dev/cpu_dma_latency` reads
/// it (µs); None when this process may not write a request there, as rec
/// must (not root).
fn cpu_latency_limit() -> Option<i32> {
    // Opened without a write, a request asks for nothing.
    let mut dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/cpu_dma_latency")
        .ok()?;
    let mut value = [0u8; 4];
    std::io::Read::read_exact(&mut dev, &mut value).ok()?;
    Some(i32::from_ne_bytes(value))
}

/// A shell command, run by rec's command, that prints `held` or `free`:
/// whether rec (the command's parent) holds a request open on
/// /dev/cpu_dma_latency. The other tests' recs may hold one at the same
/// moment, so the machine's limit alone would not tell.
const REC_HOLDS: &str = "if ls -l /proc/$PPID/fd | grep -q /dev/cpu_dma_latency; \
                         then echo held; else echo free; fi";

/// Runs `sh -c script` under `rec -q ARGS`; its stdout.
fn rec_sh(args: &[&str], script: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let r = Command::new(bin("rec"))
        .arg("-o")
        .arg(&out)
        .arg("-q")
        .args(args)
        .args(["--", "sh", "-c", script])
        .output()
        .expect("run rec");
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(Trace::open(&out).expect("trace").is_clean());
    String::from_utf8_lossy(&r.stdout).into_owned()
}

#[test]
fn idle_poll_always_holds_a_zero_latency_request_the_command_does_not_inherit() {
    if cpu_latency_limit().is_none() {
        // Not allowed to open the device: rec says so in one line and
        // records nothing.
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("t.bin");
        let r = Command::new(bin("rec"))
            .arg("-o")
            .arg(&out)
            .args(["-q", "--idle-poll", "--", "true"])
            .output()
            .expect("run rec");
        assert_eq!(r.status.code(), Some(1));
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("--idle-poll") && err.contains("/dev/cpu_dma_latency"),
            "{err}"
        );
        assert!(!out.exists(), "rec created {}", out.display());
        return;
    }
    // rec holds it while it records, the limit is then 0, and the command
    // does not hold it (an inherited request would outlive rec).
    let script = format!(
        "{REC_HOLDS}; od -An -td4 /dev/cpu_dma_latency; \
         ls -l /proc/self/fd | grep -c /dev/cpu_dma_latency || true"
    );
    let got = rec_sh(&["--idle-poll"], &script);
    let got: Vec<&str> = got.split_whitespace().collect();
    assert_eq!(got, ["held", "0", "0"]);
}

#[test]
fn by_default_rec_as_root_keeps_idle_cpus_polling_for_the_whole_recording() {
    ptrec_tests::require_root("rec writes a request to /dev/cpu_dma_latency");
    assert_eq!(rec_sh(&[], REC_HOLDS).trim(), "held");
    assert_eq!(rec_sh(&["--idle-poll", "never"], REC_HOLDS).trim(), "free");
}

#[test]
fn idle_poll_busy_holds_the_request_while_every_cpu_is_busy() {
    ptrec_tests::require_root("rec writes a request to /dev/cpu_dma_latency");
    // One loop without syscalls per CPU keeps every CPU busy; the check
    // comes after the load sampler (~80 ms) has seen it. (That it lets go
    // once a CPU is free again is not checked: the other tests running
    // beside this one may keep every CPU busy.)
    let script = format!(
        "for i in $(seq $(nproc)); do timeout 2 sh -c 'while :; do :; done' & done; \
         sleep 1.2; {REC_HOLDS}; wait"
    );
    assert_eq!(rec_sh(&["--idle-poll", "busy"], &script).trim(), "held");
}

#[test]
fn vfork_child_writes_parent_memory() {
    let run = record("vfork", &[]);
    assert_eq!(run.stdout, "shared=42 child=9\n");
    let kids = children(&run);
    assert_eq!(kids.len(), 1);
    let (parent, child, kind, flags) = kids[0];
    assert_eq!(parent, run.root);
    assert_eq!(kind, ChildKind::Vfork);
    assert_ne!(flags & libc::CLONE_VFORK as u64, 0);
    assert!(run
        .recs
        .iter()
        .any(|r| matches!(r, R::VforkDone { tid, child: c, .. } if *tid == parent && *c == child)));
    assert_eq!(deaths(&run)[&child], Termination::Exited(9));
}

#[test]
fn clone_parent_sibling_is_recorded_with_its_flags() {
    let run = record("clone_parent", &[]);
    assert_eq!(run.stdout, "reaped 2 children, codes sum 11\n");
    let kids = children(&run);
    assert_eq!(kids.len(), 2, "{kids:?}");
    let a = kids[0].1;
    let (creator, sibling, _, flags) = kids[1];
    assert_eq!(creator, a, "the sibling's NewChild comes from its creator");
    assert_ne!(flags & libc::CLONE_PARENT as u64, 0);
    let d = deaths(&run);
    assert_eq!(d[&a], Termination::Exited(5));
    assert_eq!(d[&sibling], Termination::Exited(6));
}

#[test]
fn two_hundred_threads_created_and_joined() {
    let run = record("threads200", &[]);
    assert_eq!(run.stdout, "count=200\n");
    let kids = children(&run);
    assert_eq!(kids.len(), 200);
    assert!(kids
        .iter()
        .all(|k| k.2 == ChildKind::Clone && k.3 & libc::CLONE_THREAD as u64 != 0));
    let d = deaths(&run);
    assert_eq!(d.len(), 201);
}

#[test]
fn exec_from_non_leader_thread_is_attributed_and_former_tid_recorded() {
    let run = record("exec_thread", &[]);
    assert_eq!(run.code, 3);
    let kids = children(&run);
    assert_eq!(kids.len(), 1);
    let thread = kids[0].1;
    let execs: Vec<&R> = run
        .recs
        .iter()
        .filter(|r| matches!(r, R::Exec { .. }))
        .collect();
    // The first exec is the command's own start.
    assert_eq!(execs.len(), 2, "{execs:?}");
    match execs[1] {
        R::Exec {
            tid,
            former_tid: former,
            filename,
            argv,
            ..
        } => {
            assert_eq!(*tid, run.root, "after exec the thread has the leader's tid");
            assert_eq!(
                *former, thread,
                "former tid is the thread that called execve"
            );
            assert_eq!(
                filename.as_slice(),
                tracee("exec_thread").as_os_str().as_encoded_bytes()
            );
            assert_eq!(argv[1], b"after-exec");
        }
        _ => unreachable!(),
    }
    // The execve entered on the thread and returned 0 on the leader's tid.
    let i = run
        .recs
        .iter()
        .position(|r| std::ptr::eq(r, execs[1]))
        .expect("exec");
    assert!(run.recs[..i]
        .iter()
        .any(|r| matches!(r, R::SyscallEnter { tid, nr: 59, .. } if *tid == thread)));
    assert!(run.recs[i..]
        .iter()
        .any(|r| matches!(r, R::SyscallExit { tid, nr: 59, ret: 0, .. } if *tid == run.root)));
    assert_eq!(deaths(&run)[&run.root], Termination::Exited(3));
}

#[test]
fn leader_pthread_exit_while_threads_go_on() {
    let run = record("leader_exit", &[]);
    assert_eq!(run.code, 7);
    assert_eq!(run.stdout, "thread after leader exit\n");
    let thread = children(&run)[0].1;
    // The leader's exit event comes first; its death only after the thread's.
    let pos = |p: &dyn Fn(&R) -> bool| run.recs.iter().position(p).expect("record");
    let leader_exit = pos(&|r| matches!(r, R::ExitEvent { tid, .. } if *tid == run.root));
    let thread_death = pos(&|r| matches!(r, R::Death { tid, .. } if *tid == thread));
    let leader_death = pos(&|r| matches!(r, R::Death { tid, .. } if *tid == run.root));
    assert!(leader_exit < thread_death && thread_death < leader_death);
    assert_eq!(deaths(&run)[&run.root], Termination::Exited(7));
}

#[test]
fn sigstop_sigcont_of_child_is_seen_by_its_parent() {
    let run = record("stopcont", &[]);
    assert_eq!(
        run.stdout,
        "stopped=1 sig=19\ncontinued=1\nchild continued\nexited=1 code=3\n"
    );
    let child = children(&run)[0].1;
    assert!(run
        .recs
        .iter()
        .any(|r| matches!(r, R::GroupStop { tid, signo: 19, .. } if *tid == child)));
    assert!(run
        .recs
        .iter()
        .any(|r| matches!(r, R::SignalDelivery { tid, signo: 18, .. } if *tid == child)));
}

#[test]
fn signal_handler_runs_and_sigreturn_restores_registers() {
    let run = record("sighandler", &[]);
    assert_eq!(run.stdout, "handled 10\n");
    assert!(run.recs.iter().any(|r| matches!(
        r,
        R::SignalDelivery { signo: 10, siginfo, .. } if siginfo.len() == 128
    )));
    // rt_sigreturn's exit restores the registers of the interrupted code.
    let ret = run
        .recs
        .iter()
        .find_map(|r| match r {
            R::SyscallExit { nr: 15, regs, .. } => *regs,
            _ => None,
        })
        .expect("rt_sigreturn exit");
    let enter = run
        .recs
        .iter()
        .find_map(|r| match r {
            R::SyscallEnter { nr: 15, regs, .. } => *regs,
            _ => None,
        })
        .expect("rt_sigreturn enter");
    assert_ne!(ret[regs::RIP], enter[regs::RIP]);
}

#[test]
fn sigkill_of_thread_group_mid_syscall() {
    let run = record("killmid", &[]);
    assert_eq!(run.code, 128 + 9);
    let threads: Vec<i32> = children(&run)
        .iter()
        .filter(|k| k.2 == ChildKind::Clone)
        .map(|k| k.1)
        .collect();
    assert_eq!(threads.len(), 3);
    for t in threads.iter().chain([run.root].iter()) {
        // The last syscall record of each thread is an enter of read(2).
        let last = run
            .recs
            .iter()
            .rfind(|r| r.tid() == *t && matches!(r, R::SyscallEnter { .. } | R::SyscallExit { .. }))
            .expect("syscalls");
        assert!(
            matches!(last, R::SyscallEnter { nr: 0, .. }),
            "{t}: {last:?}"
        );
    }
    assert!(matches!(
        deaths(&run)[&run.root],
        Termination::Signaled { signo: 9, .. }
    ));
}

#[test]
fn exit_group_from_non_leader_with_many_threads() {
    let run = record("exit_group_thread", &[]);
    assert_eq!(run.code, 4);
    let d = deaths(&run);
    assert_eq!(d.len(), 42);
    assert_eq!(d[&run.root], Termination::Exited(4));
}

#[test]
fn fork_then_threads_and_sigfpe_in_both_processes() {
    let run = record("fork_fpe", &[]);
    assert_eq!(run.code, 128 + 8);
    assert_eq!(run.stdout, "child signaled=1 sig=8\n");
    let child = children(&run)
        .iter()
        .find(|k| k.2 == ChildKind::Fork)
        .expect("fork")
        .1;
    let d = deaths(&run);
    for p in [child, run.root] {
        assert!(
            matches!(d[&p], Termination::Signaled { signo: 8, .. }),
            "{p}"
        );
        assert!(run
            .recs
            .iter()
            .any(|r| matches!(r, R::SignalDelivery { tid, signo: 8, .. } if *tid == p)));
    }
}

#[test]
fn orphan_outlives_its_parent_and_is_recorded_to_the_end() {
    let run = record("orphan", &[]);
    assert_eq!(run.code, 0);
    let kids = children(&run);
    assert_eq!(kids.len(), 2);
    let (parent, orphan) = (kids[1].0, kids[1].1);
    assert_eq!(parent, kids[0].1);
    let d = deaths(&run);
    assert_eq!(d[&parent], Termination::Exited(0));
    assert_eq!(d[&orphan], Termination::Exited(2));
    let pos = |t: i32| {
        run.recs
            .iter()
            .position(|r| matches!(r, R::Death { tid, .. } if *tid == t))
    };
    assert!(pos(parent) < pos(orphan));
}

#[test]
fn command_not_found_exits_127_and_not_executable_126() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let r = Command::new(bin("rec"))
        .arg("-o")
        .arg(&out)
        .args(["-q", "--", "no-such-command-ptrec"])
        .output()
        .expect("run rec");
    assert_eq!(r.status.code(), Some(127));
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("command not found"), "{err}");
    let r = Command::new(bin("rec"))
        .arg("-o")
        .arg(&out)
        .args(["-q", "--", "/etc/passwd"])
        .output()
        .expect("run rec");
    assert_eq!(r.status.code(), Some(126));
}

#[test]
fn command_is_found_on_path_and_its_exec_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let r = Command::new(bin("rec"))
        .arg("-o")
        .arg(&out)
        .args(["--", "forktree"])
        .env("PATH", format!("/nonexistent:{}", env!("TRACEES_DIR")))
        .output()
        .expect("run rec");
    assert_eq!(r.status.code(), Some(0));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.starts_with("rec: 5 processes, 5 threads, "), "{err}");
    let t = Trace::open(&out).expect("trace");
    let mut execs = Vec::new();
    t.for_each_record(|r| {
        if let Record::Exec { filename, .. } = r {
            execs.push(filename.to_vec());
        }
    })
    .expect("records");
    assert_eq!(
        execs,
        vec![tracee("forktree").as_os_str().as_encoded_bytes().to_vec()]
    );
}

#[test]
fn every_exec_of_a_run_has_its_own_argv() {
    // rec reuses one vector for the argv of every exec record.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let script = "/bin/echo first call; /bin/echo 2; exec /bin/echo a b c d e";
    let r = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(&out)
        .args(["--", "/bin/sh", "-c", script])
        .output()
        .expect("run rec");
    assert_eq!(r.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&r.stdout),
        "first call\n2\na b c d e\n"
    );
    let t = Trace::open(&out).expect("trace");
    let mut argvs: Vec<Vec<String>> = Vec::new();
    t.for_each_record(|r| {
        if let Record::Exec { argv, .. } = r {
            argvs.push(
                argv.iter()
                    .map(|a| String::from_utf8_lossy(a).into())
                    .collect(),
            );
        }
    })
    .expect("records");
    let want: Vec<Vec<&str>> = vec![
        vec!["/bin/sh", "-c", script],
        vec!["/bin/echo", "first", "call"],
        vec!["/bin/echo", "2"],
        vec!["/bin/echo", "a", "b", "c", "d", "e"],
    ];
    assert_eq!(argvs, want);
}

/// Starts rec on `wait_term ARGS` with stdout piped and waits for "ready".
fn start_waiting(out: &Path, args: &[&str]) -> std::process::Child {
    use std::io::BufRead;
    let mut child = Command::new(bin("rec"))
        .arg("-o")
        .arg(out)
        .args(["-q", "--"])
        .arg(tracee("wait_term"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run rec");
    let mut line = String::new();
    let stdout = child.stdout.as_mut().expect("piped");
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read ready");
    assert_eq!(line, "ready\n");
    child
}

fn root_death(path: &Path) -> Option<Termination> {
    let t = Trace::open(path).expect("trace");
    let mut d = None;
    let mut root = 0;
    t.for_each_record(|r| match r {
        Record::Attach { tid, .. } => root = *tid,
        Record::Death { tid, how, .. } if *tid == root => d = Some(*how),
        _ => {}
    })
    .expect("records");
    d
}

#[test]
fn sigterm_sent_to_rec_reaches_the_command_and_the_trace_is_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let rec = start_waiting(&out, &[]);
    kill(rec.id() as i32, libc::SIGTERM);
    let o = rec.wait_with_output().expect("wait rec");
    // rec dies of the signal that killed its command.
    assert_both_died_of_sigterm(o.status, &out);
}

/// rec died of SIGTERM, as its command did, and the trace is closed and
/// says so.
fn assert_both_died_of_sigterm(status: std::process::ExitStatus, out: &Path) {
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert!(Trace::open(out).expect("trace").is_clean());
    assert!(matches!(
        root_death(out),
        Some(Termination::Signaled {
            signo: libc::SIGTERM,
            ..
        })
    ));
}

#[test]
fn sigterm_to_rec_while_its_command_never_stops_making_syscalls() {
    // `yes` writes without pause, so rec is always handling a stop or
    // polling for the next one, never asleep in wait4 where the signal
    // would interrupt it: the forward must not depend on that.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let mut rec = Command::new(bin("rec"))
        .arg("-o")
        .arg(&out)
        .args(["-q", "-s", "16", "--", "yes"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run rec");
    // Its first line means the command runs (rec's handlers are installed
    // before it starts); then keep draining so that `yes` never blocks.
    let mut stdout = std::io::BufReader::new(rec.stdout.take().expect("piped"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).expect("read");
    assert_eq!(line, "y\n");
    let drain = std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    kill(rec.id() as i32, libc::SIGTERM);
    let status = loop {
        if let Some(st) = rec.try_wait().expect("try_wait") {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(5) {
            let _ = rec.kill();
            let _ = rec.wait();
            panic!("rec did not end within 5 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    drain.join().expect("drain").expect("copy");
    assert_both_died_of_sigterm(status, &out);
}

#[test]
fn sigterm_to_rec_runs_the_commands_handler_and_rec_reports_its_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let rec = start_waiting(&out, &["handle"]);
    kill(rec.id() as i32, libc::SIGTERM);
    let o = rec.wait_with_output().expect("wait rec");
    // The command's handler ran and chose its exit code; rec reports it.
    assert_eq!(o.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "got TERM\n");
    assert!(Trace::open(&out).expect("trace").is_clean());
}

#[test]
fn trace_is_readable_after_rec_is_sigkilled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let mut rec = start_waiting(&out, &["-", "5000"]);
    // The 1 s tick seals the chunk holding everything up to "ready".
    std::thread::sleep(Duration::from_millis(1600));
    kill(rec.id() as i32, libc::SIGKILL);
    rec.wait().expect("wait rec");
    let t = Trace::open(&out).expect("trace readable after SIGKILL");
    assert!(!t.is_clean());
    let mut kinds = Vec::new();
    t.for_each_record(|r| kinds.push(r.kind()))
        .expect("records of the flushed chunks");
    assert!(kinds.contains(&ptrec_format::Kind::Exec), "{kinds:?}");
    assert!(kinds.contains(&ptrec_format::Kind::SyscallEnter));
}

#[test]
fn a_disk_that_fills_mid_recording_is_one_error_line_and_the_trace_stays_readable() {
    let dir = Tmpfs::mount("256k");
    let out = dir.path().join("t.bin");
    // 5,000 small writes; a pause in which rec seals their chunk (its
    // first record is then older than the 1 s flush interval, and rec's
    // 1 s tick comes at least once in any 1.5 s after that); then 2 MB of
    // random bytes read and written in small blocks, each captured twice:
    // megabytes of trace that do not compress.
    let script = "i=0; while [ $i -lt 5000 ]; do echo $i; i=$((i+1)); done > /dev/null; \
                  sleep 2.5; head -c 2000000 /dev/urandom > /dev/null; echo done";
    let o = Command::new(bin("rec"))
        .arg("-o")
        .arg(&out)
        .args(["--", "/bin/sh", "-c", script])
        .output()
        .expect("run rec");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "done\n",
        "the command ran to its end"
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "a recording that failed is an error"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        errors[0].contains("No space left on device")
            && errors[0].contains("readable up to the last complete chunk"),
        "{err}"
    );
    // The summary line tells what reached the disk.
    let size = std::fs::metadata(&out).expect("trace file").len();
    assert!(
        err.contains(&format!(" {size} bytes written to ")),
        "{size}: {err}"
    );
    let t = Trace::open(&out).expect("the filled trace opens");
    assert!(!t.is_clean());
    let mut syscalls = 0;
    t.for_each_record(|r| {
        if matches!(r, Record::SyscallEnter { .. }) {
            syscalls += 1;
        }
    })
    .expect("every complete chunk decodes");
    assert!(
        syscalls > 1000,
        "{syscalls} syscalls before the disk filled"
    );
}

#[test]
fn derived_exit_registers_equal_full_getregs_on_real_programs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let script = "ls / | wc -l >/dev/null; cat /proc/self/status >/dev/null; \
                  (sleep 0.01 &) ; command -v python3 >/dev/null && python3 -c 'import json'; true";
    let o = Command::new(bin("rec"))
        .arg("-o")
        .arg(&out)
        .args(["-q", "--verify-exit-regs", "--", "sh", "-c", script])
        .output()
        .expect("run rec");
    assert_eq!(o.status.code(), Some(0));
    let t = Trace::open(&out).expect("trace");
    let (mut notes, mut exits) = (Vec::new(), 0);
    t.for_each_record(|r| match r {
        Record::Note { kind, value, .. } if *kind != ptrec_format::note_kind::END => {
            notes.push(*value)
        }
        Record::SyscallExit { .. } => exits += 1,
        _ => {}
    })
    .expect("records");
    assert!(exits > 100, "{exits}");
    assert!(
        notes.is_empty(),
        "syscalls whose derived exit registers differ: {notes:?}"
    );
}

/// ^C on the terminal reaches the command (once: a handler counts it), rec
/// survives it, keeps recording, and reports the command's own exit code.
/// (Whether rec also forwarded it is not observable here: a duplicate
/// standard signal merges with the pending one.)
#[test]
fn terminal_sigint_reaches_the_command_and_rec_closes_the_trace() {
    use std::io::{BufRead, Read, Write};
    use std::os::fd::FromRawFd;
    use std::os::unix::process::CommandExt;
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors; the other arguments may be null.
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0, "openpty");
    // SAFETY: we own both fresh descriptors.
    let (mut master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let mut cmd = Command::new(bin("rec"));
    cmd.arg("-o")
        .arg(&out)
        .args(["-q", "--"])
        .arg(tracee("count_int"))
        .stdin(slave)
        .stdout(std::process::Stdio::piped());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            // A new session whose controlling terminal is the pty: rec and
            // the command are its foreground process group, as in a shell.
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("run rec");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("ready");
    assert_eq!(line, "ready\n");
    // ^C on the terminal: the kernel signals the whole foreground group.
    master.write_all(&[3]).expect("write ^C");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("rest");
    let st = child.wait().expect("wait rec");
    assert_eq!(
        rest, "ints=1\n",
        "the command got the terminal's SIGINT exactly once"
    );
    assert_eq!(st.code(), Some(0));
    assert!(Trace::open(&out).expect("trace").is_clean());
}

#[test]
fn the_first_recorded_syscall_is_the_commands_execve_not_rec_s_launcher() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let st = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(&out)
        .args(["--", "/bin/true"])
        .status()
        .expect("run rec");
    assert!(st.success());
    let t = Trace::open(&out).expect("trace");
    let mut first = None;
    t.for_each_record(|r| {
        if let Record::SyscallEnter { nr, .. } = r {
            first.get_or_insert(*nr);
        }
    })
    .expect("records");
    assert_eq!(first, Some(59), "execve first, not the launcher's read");
}

#[test]
fn the_command_starts_with_the_signal_dispositions_it_has_without_rec() {
    // The test harness's children start with SIGPIPE at its default, as
    // from a shell; under rec they must too (SigIgn is the ignored mask).
    let ignored = |o: std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .find(|l| l.starts_with("SigIgn:"))
            .map(str::to_string)
    };
    let native = ignored(
        Command::new("grep")
            .args(["SigIgn", "/proc/self/status"])
            .output()
            .expect("run grep"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let under_rec = ignored(
        Command::new(bin("rec"))
            .args(["-q", "-o"])
            .arg(dir.path().join("t.bin"))
            .args(["--", "grep", "SigIgn", "/proc/self/status"])
            .output()
            .expect("run rec"),
    );
    assert!(native.is_some());
    assert_eq!(under_rec, native);
    // And so `yes | head` ends by SIGPIPE, silently, as without rec.
    let o = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(dir.path().join("p.bin"))
        .args(["--", "sh", "-c", "yes | head -1000 > /dev/null"])
        .output()
        .expect("run rec");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
}

#[test]
fn times_are_recorded_to_the_microsecond() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let o = Command::new(bin("rec"))
        .arg("-o")
        .arg(&out)
        .args(["-q", "--", "sh", "-c", "ls / >/dev/null"])
        .output()
        .expect("run rec");
    assert_eq!(o.status.code(), Some(0));
    let t = Trace::open(&out).expect("trace");
    for i in 0..t.chunks().len() {
        assert_eq!(t.read_chunk(i).expect("chunk").time_unit, 1000);
    }
    let mut n = 0;
    t.for_each_record(|r| {
        assert_eq!(r.time() % 1000, 0, "{r:?}");
        n += 1;
    })
    .expect("records");
    assert!(n > 50, "{n}");
}
