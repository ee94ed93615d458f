//! `rec -p PID`: seizing every thread of a running process, with its state
//! at attach time, and telling apart why an attach failed.
//!
//! Threads can be created while we attach: every thread seized with
//! PTRACE_O_TRACECLONE brings its new threads along (they are auto-attached
//! and announced by a clone event), but a thread not seized yet can still
//! create one we would miss. So /proc/PID/task is rescanned until a scan
//! finds no thread we have not handled.

use std::collections::BTreeSet;
use std::os::unix::ffi::OsStringExt;

use ptrec_format::Tid;

use crate::tracee::{self, Errno};

/// Why a process could not be attached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("cannot attach to {pid}: no such process")]
    NoSuchProcess { pid: Tid },
    #[error("cannot attach to {pid}: it is rec itself")]
    Myself { pid: Tid },
    #[error("cannot attach to {pid}: it is an ancestor of rec (rec would trace the process waiting for it)")]
    Ancestor { pid: Tid },
    #[error("cannot attach to {pid}: it has exited (zombie)")]
    Zombie { pid: Tid },
    #[error("cannot attach to {pid}: it is already traced by process {tracer} ({tracer_comm})")]
    AlreadyTraced {
        pid: Tid,
        tracer: Tid,
        tracer_comm: String,
    },
    #[error("cannot attach to {pid}: permission denied ({why})")]
    Permission { pid: Tid, why: String },
    #[error("cannot attach to {pid}: PTRACE_SEIZE: {errno}")]
    Other { pid: Tid, errno: Errno },
}

/// A thread's state when it was seized, from /proc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadInfo {
    pub tid: Tid,
    pub tgid: Tid,
    pub ppid: Tid,
    /// The state letter of /proc/PID/task/TID/stat read just before the
    /// seize: `R`, `S`, `D`, `T` (stopped: group-stop), `t` (in a ptrace
    /// stop of another tracer), `Z`...
    pub state: u8,
    pub comm: Vec<u8>,
    pub exe: Vec<u8>,
    pub cwd: Vec<u8>,
}

impl ThreadInfo {
    /// Stopped by a stop signal: it stays stopped under rec and after detach.
    pub fn group_stopped(&self) -> bool {
        self.state == b'T'
    }
}

/// A process whose threads were all seized and interrupted: each will
/// report a stop (PTRACE_EVENT_STOP, or a group-stop if it was stopped).
#[derive(Debug)]
pub struct Attached {
    pub pid: Tid,
    /// The seized threads, in the order they were seized.
    pub threads: Vec<ThreadInfo>,
    /// Threads found during a rescan that an already seized thread had
    /// created: auto-attached, they will be announced by a clone event.
    pub auto_attached: Vec<Tid>,
}

/// The thread ids of process `pid` (/proc/PID/task).
pub fn tids(pid: Tid) -> std::io::Result<Vec<Tid>> {
    let mut v: Vec<Tid> = std::fs::read_dir(format!("/proc/{pid}/task"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    v.sort_unstable();
    Ok(v)
}

/// Fields of a /proc stat line after `comm`: the comm may itself contain
/// spaces and parentheses, so it ends at the last `)`.
fn parse_stat(stat: &[u8]) -> Option<(Vec<u8>, u8, Tid)> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let comm = stat.get(open + 1..close)?.to_vec();
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    let mut f = rest.split_ascii_whitespace();
    let state = *f.next()?.as_bytes().first()?;
    let ppid = f.next()?.parse().ok()?;
    Some((comm, state, ppid))
}

/// The state letter of a thread (/proc/PID/task/TID/stat), if it exists.
pub fn thread_state(pid: Tid, tid: Tid) -> Option<u8> {
    let stat = std::fs::read(format!("/proc/{pid}/task/{tid}/stat")).ok()?;
    parse_stat(&stat).map(|(_, s, _)| s)
}

/// A thread's attach-time state, or None when it is gone.
pub fn thread_info(pid: Tid, tid: Tid) -> Option<ThreadInfo> {
    let stat = std::fs::read(format!("/proc/{pid}/task/{tid}/stat")).ok()?;
    let (comm, state, ppid) = parse_stat(&stat)?;
    let link = |what: &str| {
        std::fs::read_link(format!("/proc/{pid}/task/{tid}/{what}"))
            .map(|p| p.into_os_string().into_vec())
            .unwrap_or_default()
    };
    Some(ThreadInfo {
        tid,
        tgid: pid,
        ppid,
        state,
        comm,
        exe: link("exe"),
        cwd: link("cwd"),
    })
}

/// One open descriptor of a process, as /proc showed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFd {
    pub fd: i32,
    /// `flags:` of /proc/PID/fdinfo/FD (octal there): the O_* bits.
    pub flags: u32,
    /// `pos:` of fdinfo.
    pub pos: u64,
    /// The readlink of /proc/PID/fd/FD.
    pub target: Vec<u8>,
}

/// The open descriptors of process `pid`, in ascending order (none when
/// /proc cannot be read; a descriptor closed while it is read is left out).
pub fn open_fds(pid: Tid) -> Vec<OpenFd> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let mut fds: Vec<i32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort_unstable();
    fds.into_iter()
        .filter_map(|fd| {
            let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
            let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).ok()?;
            let (flags, pos) = parse_fdinfo(&info);
            Some(OpenFd {
                fd,
                flags,
                pos,
                target: target.into_os_string().into_vec(),
            })
        })
        .collect()
}

/// `flags:` (octal) and `pos:` of a /proc/PID/fdinfo/FD text (0 when absent).
fn parse_fdinfo(info: &str) -> (u32, u64) {
    let value = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    let flags = value("flags:").and_then(|v| u32::from_str_radix(v, 8).ok());
    let pos = value("pos:").and_then(|v| v.parse().ok());
    (flags.unwrap_or(0), pos.unwrap_or(0))
}

/// A field of a /proc/PID/status text, as an integer.
fn field(status: &str, name: &str) -> Option<Tid> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        // Uid and Gid hold four numbers (real, effective, saved, fs): the first.
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// A field of /proc/PID/status, as an integer.
fn status_field(pid: Tid, name: &str) -> Option<Tid> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    field(&s, name)
}

/// The thread-group id of a thread (Tgid of /proc/TID/status).
pub fn tgid_of(tid: Tid) -> Option<Tid> {
    status_field(tid, "Tgid")
}

/// Tgid and PPid of a thread, from one read of /proc/TID/status.
pub fn tgid_ppid(tid: Tid) -> Option<(Tid, Tid)> {
    let s = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    Some((field(&s, "Tgid")?, field(&s, "PPid").unwrap_or(0)))
}

/// Who traces `tid` (TracerPid of /proc/TID/status: the tracing thread's
/// id), 0 when nobody, None when the thread is gone.
pub fn tracer_pid(tid: Tid) -> Option<Tid> {
    status_field(tid, "TracerPid")
}

fn comm(pid: Tid) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim_end().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// rec's own ancestors, parent first (up to, not including, pid 0).
pub fn ancestors() -> Vec<Tid> {
    let mut out = Vec::new();
    // SAFETY: getppid has no arguments.
    let mut p = unsafe { libc::getppid() };
    while p > 0 && !out.contains(&p) {
        out.push(p);
        p = match std::fs::read(format!("/proc/{p}/stat"))
            .ok()
            .and_then(|s| parse_stat(&s))
        {
            Some((_, _, pp)) => pp,
            None => break,
        };
    }
    out
}

/// Explains an EPERM from PTRACE_SEIZE on `tid`: another tracer, or no
/// permission (ptrace(2): EPERM "The specified process cannot be traced.
/// This could be because the tracer has insufficient privileges ... or if
/// the process is already being traced").
fn eperm(pid: Tid, tid: Tid) -> Error {
    match tracer_pid(tid) {
        Some(t) if t != 0 => Error::AlreadyTraced {
            pid,
            tracer: t,
            tracer_comm: comm(t),
        },
        _ => {
            let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok());
            // SAFETY: geteuid has no arguments.
            let euid = unsafe { libc::geteuid() };
            let owner = status_field(pid, "Uid");
            let why = match (scope, owner) {
                (_, Some(uid)) if euid != 0 && uid as u32 != euid => {
                    format!("it belongs to uid {uid}, rec runs as uid {euid}")
                }
                (Some(s), _) if s >= 1 && euid != 0 => format!(
                    "kernel.yama.ptrace_scope is {s}: only descendants (or with CAP_SYS_PTRACE) can be traced"
                ),
                _ => "ptrace access is not allowed (a kernel thread, a setuid program, or a security module)".into(),
            };
            Error::Permission { pid, why }
        }
    }
}

/// Checks a `-p` target before any thread of it is seized; returns its
/// thread-group id (a thread id given with -p means its whole process).
pub fn check_target(pid: Tid) -> Result<Tid, Error> {
    if pid <= 0 {
        return Err(Error::NoSuchProcess { pid });
    }
    let Some(tgid) = status_field(pid, "Tgid") else {
        return Err(Error::NoSuchProcess { pid });
    };
    // SAFETY: getpid has no arguments.
    let me = unsafe { libc::getpid() };
    if tgid == me {
        return Err(Error::Myself { pid });
    }
    if ancestors().contains(&tgid) {
        return Err(Error::Ancestor { pid });
    }
    Ok(tgid)
}

/// Seizes every thread of process `pid` with `options` (for `-p`: the
/// engine's options without PTRACE_O_EXITKILL, so the process survives rec)
/// and interrupts each one. Threads that vanish meanwhile are skipped.
pub fn seize_process(pid: Tid, options: libc::c_int) -> Result<Attached, Error> {
    let tgid = check_target(pid)?;
    // TracerPid names the tracing thread, and ptrace is per thread.
    // SAFETY: gettid has no arguments.
    let me = unsafe { libc::gettid() };
    let mut seen: BTreeSet<Tid> = BTreeSet::new();
    let mut att = Attached {
        pid: tgid,
        threads: Vec::new(),
        auto_attached: Vec::new(),
    };
    let mut first_error: Option<Error> = None;
    let mut zombie_leader = false;
    // Ends when a scan finds nothing new, or the process has exited.
    while let Ok(list) = tids(tgid) {
        let mut found_new = false;
        for tid in list {
            if !seen.insert(tid) {
                continue;
            }
            found_new = true;
            // The state before the seize: after it, the thread shows `t`.
            let Some(info) = thread_info(tgid, tid) else {
                continue;
            };
            if info.state == b'Z' || info.state == b'X' {
                // A leader that called pthread_exit while its threads run:
                // it cannot be seized (it has exited), its threads can.
                zombie_leader |= tid == tgid;
                continue;
            }
            match tracee::seize(tid, options) {
                Ok(_) => {}
                Err(Errno::ESRCH) => continue,
                Err(Errno(libc::EPERM)) => {
                    // A thread created by a thread we already seized was
                    // auto-attached (PTRACE_O_TRACECLONE): it is ours.
                    if !att.threads.is_empty() && tracer_pid(tid) == Some(me) {
                        att.auto_attached.push(tid);
                    } else if first_error.is_none() {
                        first_error = Some(eperm(tgid, tid));
                    }
                    continue;
                }
                Err(errno) => {
                    first_error.get_or_insert(Error::Other { pid: tgid, errno });
                    continue;
                }
            }
            // ESRCH: it died right after the seize; its death is reported.
            let _ = tracee::interrupt(tid);
            att.threads.push(info);
        }
        if !found_new {
            break;
        }
    }
    if att.threads.is_empty() {
        return Err(first_error.unwrap_or(if zombie_leader {
            Error::Zombie { pid }
        } else {
            Error::NoSuchProcess { pid }
        }));
    }
    Ok(att)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fdinfo_gives_the_octal_flags_and_the_position() {
        let info = "pos:\t12\nflags:\t02100002\nmnt_id:\t25\nino:\t7\n";
        assert_eq!(parse_fdinfo(info), (0o2100002, 12));
        assert_eq!(parse_fdinfo(""), (0, 0));
    }

    #[test]
    fn open_fds_of_this_process_name_a_file_it_opened() {
        use std::os::fd::AsRawFd;
        let f = std::fs::File::open("/dev/null").unwrap();
        let fds = open_fds(std::process::id() as Tid);
        let it = fds.iter().find(|o| o.fd == f.as_raw_fd()).unwrap();
        assert_eq!(it.target, b"/dev/null");
        // Rust opens with O_CLOEXEC.
        assert_ne!(it.flags & libc::O_CLOEXEC as u32, 0, "{it:?}");
        assert!(fds.windows(2).all(|w| w[0].fd < w[1].fd));
    }

    use super::*;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    const HELPER_ENV: &str = "PTREC_ATTACH_TEST_HELPER";

    /// The body of the helper process that the tests start (this test
    /// binary again, with HELPER_ENV set): four threads that sleep, then
    /// the main thread sleeps too. Not a test: a constructor that runs
    /// before the test harness's `main` and never returns to it.
    #[used]
    #[link_section = ".init_array"]
    static HELPER: extern "C" fn() = helper_sleeping_threads;

    extern "C" fn helper_sleeping_threads() {
        extern "C" fn sleeper(_: *mut libc::c_void) -> *mut libc::c_void {
            // SAFETY: sleep has no memory arguments.
            unsafe { libc::sleep(30) };
            std::ptr::null_mut()
        }
        // SAFETY: getenv reads a NUL-terminated name; before main nothing
        // else changes the environment.
        if unsafe { libc::getenv(c"PTREC_ATTACH_TEST_HELPER".as_ptr()) }.is_null() {
            return;
        }
        for _ in 0..4 {
            let mut t: libc::pthread_t = 0;
            // SAFETY: a valid out-pointer, default attributes, and a start
            // routine that takes no argument.
            unsafe {
                libc::pthread_create(&mut t, std::ptr::null(), sleeper, std::ptr::null_mut())
            };
        }
        // SAFETY: sleep has no memory arguments; _exit ends the process
        // without running the harness.
        unsafe {
            libc::sleep(30);
            libc::_exit(0);
        }
    }

    struct Helper(Child);

    impl Drop for Helper {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn helper(threads_at_least: usize) -> Helper {
        let exe = std::env::current_exe().expect("test executable");
        let child = Command::new(exe)
            .env(HELPER_ENV, "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn helper");
        let h = Helper(child);
        let pid = h.0.id() as Tid;
        let t0 = Instant::now();
        while tids(pid).map_or(0, |t| t.len()) < threads_at_least
            || tids(pid)
                .unwrap_or_default()
                .iter()
                .any(|&t| thread_state(pid, t) != Some(b'S'))
        {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "helper did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        h
    }

    fn options() -> libc::c_int {
        crate::engine::SEIZE_OPTIONS & !libc::PTRACE_O_EXITKILL
    }

    /// Waits for the stop of a seized thread; returns the raw status.
    fn wait_stop(tid: Tid) -> i32 {
        let mut status = 0;
        // SAFETY: a valid pointer to a local.
        let r = unsafe { libc::waitpid(tid, &mut status, libc::__WALL) };
        assert_eq!(r, tid, "waitpid {tid}");
        status
    }

    #[test]
    fn parses_stat_with_parentheses_and_spaces_in_comm() {
        let (comm, state, ppid) = parse_stat(b"42 (a) (b c)) T 7 42 42 0 -1").expect("parses");
        assert_eq!(comm, b"a) (b c)");
        assert_eq!(state, b'T');
        assert_eq!(ppid, 7);
    }

    #[test]
    fn seizes_every_thread_then_detaches_leaving_them_sleeping() {
        let h = helper(5);
        let pid = h.0.id() as Tid;
        let before = tids(pid).expect("tids");
        let att = seize_process(pid, options()).expect("attach");
        assert_eq!(att.pid, pid);
        let mut seized: Vec<Tid> = att.threads.iter().map(|t| t.tid).collect();
        seized.sort_unstable();
        assert_eq!(seized, before, "every thread is seized");
        for t in &att.threads {
            assert_eq!(t.tgid, pid);
            assert_eq!(t.state, b'S', "state read before the seize");
            assert!(!t.group_stopped());
            assert!(!t.comm.is_empty() && !t.exe.is_empty() && !t.cwd.is_empty());
            // SAFETY: getpid and gettid have no arguments.
            let (me, thread) = unsafe { (libc::getpid(), libc::gettid()) };
            assert_eq!(t.ppid, me);
            assert_eq!(tracer_pid(t.tid), Some(thread));
        }
        for t in &att.threads {
            let st = wait_stop(t.tid);
            // PTRACE_EVENT_STOP with SIGTRAP: the interrupt stop.
            assert_eq!(st & 0xff, 0x7f, "stopped: {st:#x}");
            assert_eq!((st >> 8) & 0xff, libc::SIGTRAP, "{st:#x}");
            assert_eq!(st >> 16, libc::PTRACE_EVENT_STOP, "{st:#x}");
        }
        for t in &att.threads {
            tracee::detach(t.tid, 0).expect("detach");
        }
        let t0 = Instant::now();
        loop {
            let states: Vec<_> = before.iter().map(|&t| thread_state(pid, t)).collect();
            let tracers: Vec<_> = before.iter().map(|&t| tracer_pid(t)).collect();
            if states.iter().all(|&s| s == Some(b'S')) && tracers.iter().all(|&t| t == Some(0)) {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(3),
                "after detach: states {states:?}, tracers {tracers:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_stopped_process_is_seen_group_stopped_and_stays_stopped_after_detach() {
        let h = helper(1);
        let pid = h.0.id() as Tid;
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        let t0 = Instant::now();
        while tids(pid)
            .unwrap_or_default()
            .iter()
            .any(|&t| thread_state(pid, t) != Some(b'T'))
        {
            assert!(t0.elapsed() < Duration::from_secs(3), "did not stop");
            std::thread::sleep(Duration::from_millis(5));
        }
        let att = seize_process(pid, options()).expect("attach");
        for t in &att.threads {
            assert!(t.group_stopped(), "{t:?}");
            let st = wait_stop(t.tid);
            // Seizing a stopped thread re-traps it as a group-stop.
            assert_eq!(st >> 16, libc::PTRACE_EVENT_STOP, "{st:#x}");
            assert_eq!((st >> 8) & 0xff, libc::SIGSTOP, "{st:#x}");
        }
        for t in &att.threads {
            tracee::detach(t.tid, 0).expect("detach");
        }
        std::thread::sleep(Duration::from_millis(50));
        for t in &att.threads {
            assert_eq!(thread_state(pid, t.tid), Some(b'T'), "still stopped");
        }
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid, libc::SIGCONT) };
    }

    #[test]
    fn errors_are_told_apart() {
        // pid_max is at most 2^22: this pid never exists.
        assert_eq!(
            seize_process(0x7fff_fff0, options()).map(|_| ()),
            Err(Error::NoSuchProcess { pid: 0x7fff_fff0 })
        );
        assert_eq!(
            seize_process(0, options()).map(|_| ()),
            Err(Error::NoSuchProcess { pid: 0 })
        );
        // SAFETY: getpid/getppid have no arguments.
        let (me, parent) = unsafe { (libc::getpid(), libc::getppid()) };
        assert_eq!(
            seize_process(me, options()).map(|_| ()),
            Err(Error::Myself { pid: me })
        );
        assert_eq!(
            seize_process(parent, options()).map(|_| ()),
            Err(Error::Ancestor { pid: parent })
        );
        let msg = Error::AlreadyTraced {
            pid: 5,
            tracer: 6,
            tracer_comm: "strace".into(),
        }
        .to_string();
        assert_eq!(
            msg,
            "cannot attach to 5: it is already traced by process 6 (strace)"
        );
    }

    #[test]
    fn a_process_traced_by_us_already_is_reported_as_already_traced() {
        let h = helper(1);
        let pid = h.0.id() as Tid;
        let att = seize_process(pid, options()).expect("first attach");
        let again = seize_process(pid, options()).map(|_| ());
        // SAFETY: gettid has no arguments.
        let me = unsafe { libc::gettid() };
        assert!(
            matches!(again, Err(Error::AlreadyTraced { tracer, .. }) if tracer == me),
            "{again:?}"
        );
        for t in &att.threads {
            wait_stop(t.tid);
            tracee::detach(t.tid, 0).expect("detach");
        }
    }
}
