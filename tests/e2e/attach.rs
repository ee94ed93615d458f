//! End-to-end tests of `rec -p` (attach to running processes, then detach)
//! and `rec -e` (seccomp-bpf filtered recording), on the C tracees
//! `tracees/attach_*.c`.
//!
//! `rec` must have been built first (`cargo build --workspace`); the tests
//! find it beside their own executable.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use ptrec_format::{ChildKind, OwnedRecord as R, Termination, Trace};
use ptrec_tests::{bin, kill, require_root, tracee};
use syscalls::Sysno;

/// A running tracee program, killed and reaped if the test ends early.
struct Proc {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Proc {
    /// Starts `name args` and waits for its "ready" line.
    fn start(name: &str, args: &[&str]) -> Proc {
        let mut child = Command::new(tracee(name))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tracee");
        let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("read ready");
        assert_eq!(line, "ready\n");
        Proc { child, out }
    }
    fn pid(&self) -> i32 {
        self.child.id() as i32
    }
    /// Waits for the end; returns the rest of stdout and the exit code.
    fn finish(mut self, limit: Duration) -> (String, i32) {
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                let mut rest = String::new();
                self.out.read_to_string(&mut rest).expect("read stdout");
                return (rest, st.code().unwrap_or(-1));
            }
            assert!(t0.elapsed() < limit, "tracee did not finish in {limit:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The state letter of /proc/PID/stat.
fn state(pid: i32) -> u8 {
    let s = std::fs::read(format!("/proc/{pid}/stat")).expect("stat");
    let close = s.iter().rposition(|&b| b == b')').expect("comm end");
    s[close + 2]
}

fn tracer_pid(pid: i32) -> i32 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("TracerPid")
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `rec -q -o FILE -p PID...` in the background.
fn rec_attach(out: &Path, pids: &[i32]) -> Child {
    let mut cmd = Command::new(bin("rec"));
    cmd.arg("-q").arg("-o").arg(out);
    for p in pids {
        cmd.arg("-p").arg(p.to_string());
    }
    cmd.stderr(Stdio::piped()).spawn().expect("start rec")
}

/// Waits until every pid is traced by `rec`.
fn wait_traced(rec: &Child, pids: &[i32]) {
    wait_until("the attach", Duration::from_secs(5), || {
        pids.iter().all(|&p| tracer_pid(p) == rec.id() as i32)
    });
}

/// Ends `rec` with `sig`; returns its exit code and stderr.
fn stop_rec(mut rec: Child, sig: i32, limit: Duration) -> (i32, String) {
    kill(rec.id() as i32, sig);
    let t0 = Instant::now();
    let st = loop {
        if let Some(st) = rec.try_wait().expect("try_wait") {
            break st;
        }
        if t0.elapsed() > limit {
            let _ = rec.kill();
            panic!("rec did not exit within {limit:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    rec.stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut err)
        .expect("read stderr");
    (st.code().unwrap_or(-1), err)
}

fn records(path: &Path) -> (Trace, Vec<R>) {
    let t = Trace::open(path).expect("open trace");
    assert!(t.is_clean(), "trace closed cleanly");
    let mut v = Vec::new();
    t.for_each_record(|r| v.push(r.to_owned()))
        .expect("read records");
    (t, v)
}

fn attached_tids(recs: &[R], tgid: i32) -> BTreeSet<i32> {
    recs.iter()
        .filter_map(|r| match r {
            R::Attach { tid, tgid: g, .. } if *g == tgid => Some(*tid),
            _ => None,
        })
        .collect()
}

fn detached(recs: &[R]) -> Vec<(i32, u8, i32)> {
    recs.iter()
        .filter_map(|r| match r {
            R::Detach {
                tid, state, signo, ..
            } => Some((*tid, *state, *signo)),
            _ => None,
        })
        .collect()
}

#[test]
fn attach_to_a_process_creating_threads_then_detach_on_sigint_and_it_finishes_right() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let p = Proc::start("attach_threads", &["700"]);
    let pid = p.pid();
    std::thread::sleep(Duration::from_millis(200));
    let rec = rec_attach(&out, &[pid]);
    wait_traced(&rec, &[pid]);
    std::thread::sleep(Duration::from_millis(700));
    let (code, err) = stop_rec(rec, libc::SIGINT, Duration::from_secs(5));
    assert_eq!(code, 0, "rec -p exits 0 after a detach; stderr: {err}");
    assert_eq!(err, "", "-q: nothing on stderr");
    assert_eq!(tracer_pid(pid), 0, "no thread left traced");
    let (stdout, status) = p.finish(Duration::from_secs(8));
    assert_eq!(stdout, "threads=2800 sum=3918600 ok=1\n");
    assert_eq!(status, 0);

    let (_, recs) = records(&out);
    let attached = attached_tids(&recs, pid);
    assert!(
        attached.contains(&pid),
        "the leader is attached: {attached:?}"
    );
    let created: Vec<i32> = recs
        .iter()
        .filter_map(|r| match r {
            R::NewChild {
                tid, child, kind, ..
            } => {
                assert_eq!(*kind, ChildKind::Clone);
                assert_eq!(*tid, pid, "threads are created by the leader");
                Some(*child)
            }
            _ => None,
        })
        .collect();
    assert!(
        created.len() >= 8,
        "threads created while attached: {created:?}"
    );
    // Every thread rec knew is accounted for: it died, or was detached.
    let dead: BTreeSet<i32> = recs
        .iter()
        .filter_map(|r| match r {
            R::Death { tid, .. } => Some(*tid),
            _ => None,
        })
        .collect();
    let det: BTreeSet<i32> = detached(&recs).iter().map(|d| d.0).collect();
    assert!(det.contains(&pid), "the leader was detached");
    for t in attached.iter().chain(&created) {
        assert!(
            dead.contains(t) || det.contains(t),
            "thread {t} neither died nor was detached"
        );
    }
    for (tid, st, sig) in detached(&recs) {
        assert_eq!((st, sig), (b'R', 0), "thread {tid}");
    }
}

#[test]
fn detach_leaves_running_sleeping_and_stopped_processes_in_r_s_and_t() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let run = Proc::start("attach_states", &["spin"]);
    let sleep = Proc::start("attach_states", &["sleep"]);
    let stop = Proc::start("attach_states", &["sleep"]);
    let pids = [run.pid(), sleep.pid(), stop.pid()];
    kill(pids[2], libc::SIGSTOP);
    wait_until("SIGSTOP", Duration::from_secs(3), || state(pids[2]) == b'T');
    wait_until("sleep", Duration::from_secs(3), || state(pids[1]) == b'S');
    let rec = rec_attach(&out, &pids);
    wait_traced(&rec, &pids);
    std::thread::sleep(Duration::from_millis(300));
    let (code, err) = stop_rec(rec, libc::SIGTERM, Duration::from_secs(5));
    assert_eq!(code, 0, "stderr: {err}");
    for p in pids {
        assert_eq!(tracer_pid(p), 0);
    }
    // /proc's R is "running or runnable": the spinner is one of the two.
    assert_eq!(state(pids[0]), b'R', "running stays running");
    assert_eq!(state(pids[1]), b'S', "sleeping stays sleeping");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(state(pids[2]), b'T', "stopped stays stopped");

    let (t, recs) = records(&out);
    assert_eq!(t.header().options.attach_pids, pids.to_vec());
    let att = |pid: i32| {
        recs.iter()
            .find_map(|r| match r {
                R::Attach {
                    tid,
                    state,
                    group_stopped,
                    comm,
                    ..
                } if *tid == pid => Some((*state, *group_stopped, comm.clone())),
                _ => None,
            })
            .expect("attach record")
    };
    assert_eq!(att(pids[0]), (b'R', false, b"attach_states".to_vec()));
    assert_eq!(att(pids[1]), (b'S', false, b"attach_states".to_vec()));
    assert_eq!(att(pids[2]), (b'T', true, b"attach_states".to_vec()));
    let det = detached(&recs);
    assert!(det.contains(&(pids[0], b'R', 0)), "{det:?}");
    assert!(det.contains(&(pids[1], b'R', 0)), "{det:?}");
    assert!(det.contains(&(pids[2], b'T', 0)), "{det:?}");

    // Each goes on as without rec.
    kill(pids[2], libc::SIGCONT);
    wait_until("SIGCONT", Duration::from_secs(3), || state(pids[2]) == b'S');
}

#[test]
fn sigterm_to_rec_while_the_tracee_waits_for_a_vfork_child_does_not_hang() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let p = Proc::start("attach_vfork", &[]);
    let pid = p.pid();
    let rec = rec_attach(&out, &[pid]);
    wait_traced(&rec, &[pid]);
    // The first vfork child sleeps from ~200 ms to ~800 ms: the parent is
    // waiting for it now.
    std::thread::sleep(Duration::from_millis(450));
    let t0 = Instant::now();
    let (code, err) = stop_rec(rec, libc::SIGTERM, Duration::from_secs(5));
    assert_eq!(code, 0, "stderr: {err}");
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    assert_eq!(tracer_pid(pid), 0, "rec exited: nothing is traced");
    let (stdout, status) = p.finish(Duration::from_secs(5));
    assert_eq!(stdout, "vforks=3 codes=123\n");
    assert_eq!(status, 0);
    let (_, recs) = records(&out);
    assert!(attached_tids(&recs, pid).contains(&pid));
}

/// Process tree of a trace, with tids replaced by their order of appearance:
/// (parent index, how it was created, exec filenames, how it ended).
type Tree = Vec<(usize, Option<ChildKind>, Vec<Vec<u8>>, Option<Termination>)>;

fn tree(recs: &[R]) -> Tree {
    let mut ids: Vec<i32> = Vec::new();
    let mut nodes: Tree = Vec::new();
    for r in recs {
        match r {
            R::Attach { tid, .. } if ids.is_empty() => {
                ids.push(*tid);
                nodes.push((0, None, vec![], None));
            }
            R::NewChild {
                tid, child, kind, ..
            } => {
                let parent = ids.iter().position(|t| t == tid).expect("known parent");
                ids.push(*child);
                nodes.push((parent, Some(*kind), vec![], None));
            }
            R::Exec { tid, filename, .. } => {
                let i = ids.iter().position(|t| t == tid).expect("known exec");
                nodes[i].2.push(filename.clone());
            }
            R::Death { tid, how, .. } => {
                let i = ids.iter().position(|t| t == tid).expect("known death");
                nodes[i].3 = Some(*how);
            }
            _ => {}
        }
    }
    nodes
}

#[test]
fn trace_process_records_the_exact_process_tree_and_no_other_syscalls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |extra: &[&str], file: &str| {
        let out = dir.path().join(file);
        let o = Command::new(bin("rec"))
            .arg("-q")
            .args(extra)
            .arg("-o")
            .arg(&out)
            .arg("--")
            .arg(tracee("attach_forkexec"))
            .output()
            .expect("run rec");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            "parent start\nchild b\na=0 b=5\n"
        );
        records(&out)
    };
    let (full_t, full) = run(&[], "full.bin");
    let (t, filtered) = run(&["-e", "trace=%process"], "filtered.bin");

    let opts = &t.header().options;
    assert_eq!(opts.filter, "trace=%process");
    assert_eq!(opts.filter_mode, "seccomp-bpf");
    let process: BTreeSet<u32> = [
        "clone",
        "fork",
        "vfork",
        "execve",
        "exit",
        "wait4",
        "kill",
        "rt_sigqueueinfo",
        "tkill",
        "exit_group",
        "tgkill",
        "waitid",
        "rt_tgsigqueueinfo",
        "execveat",
        "pidfd_send_signal",
        "clone3",
    ]
    .iter()
    .map(|n| Sysno::from_str(n).expect("a syscall").id() as u32)
    .collect();
    assert_eq!(
        opts.filter_syscalls
            .iter()
            .copied()
            .collect::<BTreeSet<u32>>(),
        process
    );
    assert_eq!(full_t.header().options.filter_mode, "none");

    assert_eq!(tree(&filtered), tree(&full), "the same process tree");
    let t = tree(&filtered);
    assert_eq!(t.len(), 3, "{t:?}");
    assert_eq!(t[1].0, 0);
    assert_eq!(t[2].0, 0);
    assert_eq!(t[0].3, Some(Termination::Exited(0)));
    assert!(
        t[1..].iter().any(|n| n.2 == [b"/bin/true".to_vec()]),
        "{t:?}"
    );
    assert!(
        t[1..].iter().any(|n| n.3 == Some(Termination::Exited(5))),
        "{t:?}"
    );

    // A SIGCHLD that lands while the parent sits in wait4 makes the kernel
    // restart it: one more enter/exit pair whose first exit is ERESTARTSYS.
    // That depends on timing, so completed syscalls are what get compared.
    let nrs = |recs: &[R]| -> Vec<u64> {
        let mut open: Vec<(i32, u64)> = Vec::new();
        let mut done = Vec::new();
        for r in recs {
            match r {
                R::SyscallEnter { tid, nr, .. } => open.push((*tid, *nr)),
                R::SyscallExit { tid, ret, .. } => {
                    if let Some(i) = open.iter().position(|(t, _)| t == tid) {
                        let (_, nr) = open.remove(i);
                        if !(-516..=-512).contains(ret) {
                            done.push(nr);
                        }
                    }
                }
                R::Death { tid, .. } => {
                    // exit_group and an exit interrupted by death never exit.
                    if let Some(i) = open.iter().position(|(t, _)| t == tid) {
                        done.push(open.remove(i).1);
                    }
                }
                _ => {}
            }
        }
        done
    };
    let write = Sysno::write as u64;
    assert!(nrs(&full).contains(&write), "the full trace has the writes");
    let got = nrs(&filtered);
    for nr in &got {
        assert!(
            process.contains(&(*nr as u32)),
            "syscall {nr} recorded under %process"
        );
    }
    // Exactly the %process syscalls of the full recording, in order.
    let want: Vec<u64> = nrs(&full)
        .into_iter()
        .filter(|nr| process.contains(&(*nr as u32)))
        .collect();
    assert_eq!(got.len(), want.len(), "got {got:?}, want {want:?}");
    let mut a = got.clone();
    let mut b = want.clone();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
}

#[test]
fn attach_errors_are_one_line_each_and_the_other_targets_are_still_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A pid that cannot exist (pid_max is at most 2^22).
    let o = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(dir.path().join("a.bin"))
        .args(["-p", "2147483632"])
        .output()
        .expect("run rec");
    assert_ne!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: cannot attach to 2147483632: no such process\n"
    );

    // rec's own pid: the shell execs rec with its own pid.
    let o = Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" -q -o \"$1\" -p $$")
        .arg(bin("rec"))
        .arg(dir.path().join("b.bin"))
        .output()
        .expect("run rec");
    assert_ne!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.ends_with(": it is rec itself\n") && err.lines().count() == 1,
        "{err}"
    );

    // Already traced (by another rec), next to a target that can be attached.
    let traced = Proc::start("attach_states", &["sleep"]);
    let other = Proc::start("attach_states", &["sleep"]);
    let first = rec_attach(&dir.path().join("c.bin"), &[traced.pid()]);
    wait_traced(&first, &[traced.pid()]);
    let out = dir.path().join("d.bin");
    let second = rec_attach(&out, &[traced.pid(), other.pid()]);
    wait_traced(&second, &[other.pid()]);
    let (code, err) = stop_rec(second, libc::SIGINT, Duration::from_secs(5));
    assert_eq!(code, 1, "a failed attach makes rec fail");
    assert_eq!(
        err,
        format!(
            "error: cannot attach to {}: it is already traced by process {} (rec)\n",
            traced.pid(),
            first.id()
        )
    );
    let (_, recs) = records(&out);
    assert_eq!(
        attached_tids(&recs, other.pid()),
        BTreeSet::from([other.pid()])
    );
    assert!(attached_tids(&recs, traced.pid()).is_empty());
    let (code, _) = stop_rec(first, libc::SIGINT, Duration::from_secs(5));
    assert_eq!(code, 0);
    assert_eq!(tracer_pid(traced.pid()), 0);
    assert_eq!(tracer_pid(other.pid()), 0);
}

#[test]
fn attach_without_permission_names_the_owner_in_one_line() {
    require_root("it runs rec as another user (nobody)");
    let target = Proc::start("attach_states", &["sleep"]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    // A copy nobody can execute: the build tree may sit under /root.
    let rec = dir.path().join("rec");
    std::fs::copy(bin("rec"), &rec).expect("copy rec");
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&rec)
        .args(["-q", "-o"])
        .arg(dir.path().join("n.bin"))
        .args(["-p", &target.pid().to_string()])
        .output()
        .expect("run setpriv (util-linux)");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "error: cannot attach to {}: permission denied (it belongs to uid 0, rec runs as uid 65534)\n",
            target.pid()
        )
    );
    assert_eq!(tracer_pid(target.pid()), 0, "the target is left untraced");
}

#[test]
fn when_every_attached_process_has_exited_its_remaining_children_are_detached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let marker = dir.path().join("child.txt");
    let p = Proc::start("attach_outlive", &[marker.to_str().expect("utf-8 path")]);
    let pid = p.pid();
    let mut rec = rec_attach(&out, &[pid]);
    wait_traced(&rec, &[pid]);
    // rec ends by itself once the -p process is gone, before the child is.
    let t0 = Instant::now();
    let st = loop {
        if let Some(st) = rec.try_wait().expect("try_wait") {
            break st;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "rec did not end");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(st.code(), Some(0));
    assert!(!marker.exists(), "rec ended before the child did");
    let (stdout, status) = p.finish(Duration::from_secs(2));
    assert_eq!((stdout.as_str(), status), ("", 0));
    wait_until("the child's end", Duration::from_secs(5), || {
        std::fs::read_to_string(&marker).is_ok_and(|s| s == "child end\n")
    });

    let (_, recs) = records(&out);
    let child = recs
        .iter()
        .find_map(|r| match r {
            R::NewChild {
                tid, child, kind, ..
            } if *tid == pid => {
                assert_eq!(*kind, ChildKind::Fork);
                Some(*child)
            }
            _ => None,
        })
        .expect("the fork is recorded");
    assert!(recs.iter().any(|r| matches!(
        r,
        R::Death {
            tid,
            how: Termination::Exited(0),
            ..
        } if *tid == pid
    )));
    assert_eq!(detached(&recs), vec![(child, b'R', 0)]);
}

#[test]
fn attach_next_to_a_started_command_records_both_and_exits_with_the_command_s_status() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let sleeper = Proc::start("attach_states", &["sleep"]);
    let o = Command::new(bin("rec"))
        .arg("-q")
        .arg("-o")
        .arg(&out)
        .arg("-p")
        .arg(sleeper.pid().to_string())
        .args(["--", "sh", "-c", "exit 7"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rec");
    wait_traced(&o, &[sleeper.pid()]);
    // The command is done at once; the attached process keeps rec going
    // until rec is told to detach.
    std::thread::sleep(Duration::from_millis(300));
    let (code, err) = stop_rec(o, libc::SIGINT, Duration::from_secs(5));
    assert_eq!(code, 7, "the command's status; stderr: {err}");
    assert_eq!(tracer_pid(sleeper.pid()), 0);
    assert_eq!(state(sleeper.pid()), b'S');
    let (_, recs) = records(&out);
    assert_eq!(
        attached_tids(&recs, sleeper.pid()),
        BTreeSet::from([sleeper.pid()])
    );
    assert!(recs.iter().any(|r| matches!(
        r,
        R::Death {
            how: Termination::Exited(7),
            ..
        }
    )));
    assert_eq!(detached(&recs), vec![(sleeper.pid(), b'R', 0)]);
}

/// Regression: the errno of an interrupted wait4 was read after forwarding
/// the signal, whose kill() to the already dead command failed with ESRCH;
/// rec took that for "no tracee left" and stopped (EXITKILL then killed
/// the command's surviving child).
#[test]
fn a_signal_to_rec_after_the_command_exited_does_not_end_the_recording() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let rec = Command::new(bin("rec"))
        .arg("-q")
        .arg("-o")
        .arg(&out)
        .args(["--", "sh", "-c", "sleep 1 & exit 0"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rec");
    std::thread::sleep(Duration::from_millis(300));
    let (code, err) = stop_rec(rec, libc::SIGTERM, Duration::from_secs(5));
    assert_eq!(code, 0, "{err}");
    let (_, recs) = records(&out);
    let deaths: Vec<&Termination> = recs
        .iter()
        .filter_map(|r| match r {
            R::Death { how, .. } => Some(how),
            _ => None,
        })
        .collect();
    assert_eq!(
        deaths,
        [&Termination::Exited(0), &Termination::Exited(0)],
        "sh, then sleep after its full second"
    );
}

#[test]
fn trace_set_with_p_skips_the_other_records_and_the_header_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let p = Proc::start("attach_threads", &["300"]);
    let pid = p.pid();
    let rec = Command::new(bin("rec"))
        .args(["-q", "-e", "trace=clock_nanosleep,%process", "-o"])
        .arg(&out)
        .arg("-p")
        .arg(pid.to_string())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rec");
    wait_traced(&rec, &[pid]);
    std::thread::sleep(Duration::from_millis(400));
    let (code, err) = stop_rec(rec, libc::SIGINT, Duration::from_secs(5));
    assert_eq!(code, 0, "{err}");
    let (stdout, status) = p.finish(Duration::from_secs(8));
    assert_eq!(
        (stdout.as_str(), status),
        ("threads=1200 sum=719400 ok=1\n", 0)
    );
    let (t, recs) = records(&out);
    let o = &t.header().options;
    assert_eq!(o.filter_mode, "skip-records");
    assert_eq!(o.filter, "trace=clock_nanosleep,%process");
    assert!(o.filter_syscalls.contains(&(Sysno::clock_nanosleep as u32)));
    assert!(!o.filter_syscalls.contains(&(Sysno::futex as u32)));
    let nrs: BTreeSet<u64> = recs
        .iter()
        .filter_map(|r| match r {
            R::SyscallEnter { nr, .. } => Some(*nr),
            _ => None,
        })
        .collect();
    // The threads sleep and are created by clone3 (or clone); they also
    // call futex, mmap, mprotect... which are not recorded.
    assert!(nrs.contains(&(Sysno::clock_nanosleep as u64)), "{nrs:?}");
    for nr in &nrs {
        assert!(o.filter_syscalls.contains(&(*nr as u32)), "{nr} recorded");
    }
}
