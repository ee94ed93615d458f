//! The ptrace engine: one `wait4(-1, __WALL)` loop over every tracee, the raw
//! wait status decoded here, and every stop kind of `ptrace(2)` handled in
//! one `match` ([`Engine::on_stop`]).
//!
//! A [`Stop`] is a stopped thread; [`Stop::resume`] consumes it, so a stop
//! can be neither resumed twice nor forgotten. On every stop the engine reads
//! what must be read while the tracee is stopped, resumes it, and only then
//! encodes the record (the Writer compresses and writes on its own thread).
//!
//! The engine is bound to the thread that seized the tracees (ptrace is
//! per-thread): [`Engine`] and [`Stop`] are `!Send`.
//!
//! ```compile_fail
//! fn is_send<T: Send>() {}
//! is_send::<ptrec_recorder::engine::Engine>();
//! ```
//! ```compile_fail
//! fn is_send<T: Send>() {}
//! is_send::<ptrec_recorder::engine::Stop>();
//! ```

use std::marker::PhantomData;

use ptrec_format::{note_kind, CaptureBuf, ChildKind, Record, Regs, Termination, Tid, Writer};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::arch;
use crate::attach::Attached;
use crate::capture::Capture;
use crate::cpuload::CpuLoad;
use crate::filter::Selection;
use crate::tracee::{self, mono_ns, ptrace, Errno};

/// Marker that makes a type `!Send` and `!Sync`.
type NotSend = PhantomData<*const ()>;

/// Options of the started command's tracees. TRACEVFORKDONE too: the end of
/// a vfork (the parent runs again) is a recorded event.
pub const SEIZE_OPTIONS: libc::c_int = libc::PTRACE_O_TRACESYSGOOD
    | libc::PTRACE_O_TRACEFORK
    | libc::PTRACE_O_TRACEVFORK
    | libc::PTRACE_O_TRACEVFORKDONE
    | libc::PTRACE_O_TRACECLONE
    | libc::PTRACE_O_TRACEEXEC
    | libc::PTRACE_O_TRACEEXIT
    | libc::PTRACE_O_EXITKILL;

/// How a stopped thread is resumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// PTRACE_SYSCALL, injecting the signal (0 for none).
    Syscall(i32),
    /// PTRACE_LISTEN: stay group-stopped until SIGCONT, as without a tracer.
    Listen,
    /// PTRACE_CONT, injecting the signal: no syscall stops; under the `-e`
    /// seccomp filter its SECCOMP_RET_TRACE stops the selected syscalls.
    Cont(i32),
}

/// A stopped tracee thread. Must be resumed exactly once.
#[must_use = "a stopped tracee must be resumed"]
#[derive(Debug)]
pub struct Stop {
    tid: Tid,
    _thread: NotSend,
}

impl Stop {
    /// Takes ownership of a thread that is in a ptrace-stop.
    pub fn new(tid: Tid) -> Stop {
        Stop {
            tid,
            _thread: PhantomData,
        }
    }
    pub fn tid(&self) -> Tid {
        self.tid
    }
    /// Resumes the thread. ESRCH (the thread was killed meanwhile) is returned
    /// like any errno; callers treat it as the event it is.
    pub fn resume(self, how: Resume) -> Result<(), Errno> {
        match how {
            Resume::Syscall(sig) => ptrace(libc::PTRACE_SYSCALL, self.tid, 0, sig as usize),
            Resume::Listen => ptrace(libc::PTRACE_LISTEN, self.tid, 0, 0),
            Resume::Cont(sig) => ptrace(libc::PTRACE_CONT, self.tid, 0, sig as usize),
        }
        .map(|_| ())
    }
}

/// What a wait status says, decoded by hand: libc/nix wrappers may reject
/// stops they do not know (real-time signals, new events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopKind {
    /// syscall-enter-stop or syscall-exit-stop (SIGTRAP|0x80, TRACESYSGOOD):
    /// which one is per-thread state.
    Syscall,
    /// signal-delivery-stop.
    SignalDelivery(i32),
    /// group-stop: PTRACE_EVENT_STOP with a stopping signal.
    GroupStop(i32),
    /// PTRACE_EVENT_* stop (fork, vfork, clone, exec, vfork-done, exit,
    /// and PTRACE_EVENT_STOP with SIGTRAP: interrupt, new child, SIGCONT
    /// while listening).
    Event { event: i32, sig: i32 },
}

/// A decoded wait status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    Stopped(StopKind),
    Died(Termination),
    /// Anything else (WIFCONTINUED, which we never ask for).
    Other,
}

/// Decodes a raw wait status.
pub fn decode(status: i32) -> Report {
    let low = status & 0x7f;
    if low == 0 {
        return Report::Died(Termination::Exited((status >> 8) & 0xff));
    }
    if status & 0xff == 0x7f {
        let sig = (status >> 8) & 0xff;
        let event = (status >> 16) & 0xff;
        if sig == libc::SIGTRAP | 0x80 {
            return Report::Stopped(StopKind::Syscall);
        }
        if event == libc::PTRACE_EVENT_STOP {
            // ptrace(2): "If WSTOPSIG(status) is SIGSTOP, SIGTSTP, SIGTTIN, or
            // SIGTTOU, this is a group-stop. Otherwise, it is a
            // PTRACE_INTERRUPT or new-child stop (SIGTRAP)."
            if matches!(
                sig,
                libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
            ) {
                return Report::Stopped(StopKind::GroupStop(sig));
            }
            return Report::Stopped(StopKind::Event { event, sig });
        }
        if event != 0 {
            return Report::Stopped(StopKind::Event { event, sig });
        }
        return Report::Stopped(StopKind::SignalDelivery(sig));
    }
    if status == 0xffff {
        return Report::Other;
    }
    Report::Died(Termination::Signaled {
        signo: low,
        core: status & 0x80 != 0,
    })
}

/// Taken at once after `wait4`: forwarding (a kill that may fail with
/// ESRCH) and detaching make system calls that overwrite errno.
fn wait_error(tid: Tid) -> Option<i32> {
    if tid < 0 {
        std::io::Error::last_os_error().raw_os_error()
    } else {
        None
    }
}

/// Counters for the summary line.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub processes: u64,
    pub threads: u64,
    pub stops: u64,
    pub syscalls: u64,
    /// Records that could not be written after the writer failed.
    pub dropped: u64,
}

/// Per-thread state.
struct Thread {
    /// Between a syscall-enter-stop and its exit (or an event stop, or death).
    /// ptrace(2): syscall-enter-stop and syscall-exit-stop are
    /// indistinguishable from each other by the tracer; it has to keep track.
    in_syscall: bool,
    /// Syscall number of the current (or last) syscall.
    nr: u64,
    /// Registers at the last syscall stop: the exit snapshot is derived from it.
    regs: Regs,
    /// The path an execve/execveat enter passed (exec is rare: may allocate).
    exec_path: Vec<u8>,
    /// rec's launched child before it execs the command: its syscalls
    /// (waiting for rec's go byte, installing the -e filter) are rec's, not
    /// the command's, and are not recorded.
    launcher: bool,
}

impl Thread {
    fn new() -> Thread {
        Thread {
            in_syscall: false,
            nr: 0,
            regs: Regs::default(),
            exec_path: Vec::new(),
            launcher: false,
        }
    }
}

/// A first stop of a thread whose creation its parent has not reported yet.
struct Held {
    tid: Tid,
    status: i32,
    stime: u64,
    since: u64,
}

/// How long a new thread is held for its parent's fork/clone event before it
/// is released anyway (its parent may have been killed before reporting).
const HOLD_LIMIT_NS: u64 = 1_000_000_000;

/// PATH_MAX: the longest path an exec takes.
const PATH_MAX: usize = 4096;

/// How long a `-p` detach waits for interrupted threads to stop. A thread
/// can be unable to stop for a while (a vfork parent waits, unkillable,
/// for its child); rec then exits and the kernel detaches it (ptrace(2):
/// "If the tracer dies, all tracees are automatically detached").
const DETACH_LIMIT_NS: u64 = 1_500_000_000;

/// `-p` bookkeeping: which tracees came from attached processes, and the
/// detach in progress.
#[derive(Default)]
struct AttachState {
    /// Traced threads of the attached processes and of their descendants.
    origin: FxHashSet<Tid>,
    /// Live threads of the `-p` processes themselves: when none is left,
    /// their remaining descendants are detached.
    p_threads: FxHashSet<Tid>,
    /// Interrupted for the detach, not stopped yet.
    pending: FxHashSet<Tid>,
    detaching: bool,
    /// When the detach began.
    since: u64,
    /// Threads that did not stop within DETACH_LIMIT_NS were left to the
    /// kernel's detach at rec's exit.
    gave_up: bool,
    /// A command was started too: it is recorded to its end, not detached.
    command: bool,
}

/// The engine. See the module docs.
pub struct Engine {
    writer: Writer,
    threads: FxHashMap<Tid, Thread>,
    /// Children announced by their parent's event whose first stop has not come.
    expected: FxHashSet<Tid>,
    held: Vec<Held>,
    root: Tid,
    root_end: Option<Termination>,
    caps: CaptureBuf,
    capture: Capture,
    siginfo: [u8; 128],
    cmdline: Vec<u8>,
    /// The argv slices of an exec record: kept empty between execs, so that
    /// an exec stop allocates nothing once it has grown.
    argv: Vec<&'static [u8]>,
    stats: Stats,
    write_error: Option<ptrec_format::Error>,
    /// Check every derived exit snapshot against a full PTRACE_GETREGS.
    verify_exit_regs: bool,
    capture_on: bool,
    /// `-e`: only these syscalls are recorded (None: every syscall).
    selection: Option<Selection>,
    /// The started command runs under the `-e` seccomp filter: its threads
    /// are resumed with PTRACE_CONT outside syscalls.
    seccomp: bool,
    /// `-p` (None without it).
    attach: Option<Box<AttachState>>,
    /// How long `wait` polls before it sleeps (0: it only sleeps).
    spin_ns: u64,
    /// Polls only while a CPU is free (None: whenever `spin_ns` > 0).
    load: Option<CpuLoad>,
    _thread: NotSend,
}

impl Engine {
    /// An engine for the command `root`, already seized (with
    /// [`SEIZE_OPTIONS`]) and stopped by PTRACE_INTERRUPT: `stop` is that stop.
    /// Records the start and resumes it.
    pub fn start(writer: Writer, stop: Stop, ppid: Tid) -> Engine {
        let root = stop.tid();
        let mut e = Engine::new(writer, root);
        let mut th = Thread::new();
        th.launcher = true;
        e.threads.insert(root, th);
        e.stats.processes = 1;
        e.stats.threads = 1;
        let time = mono_ns();
        // Before the exec: comm and exe are still rec's (the child is a copy
        // of rec waiting to exec), cwd is where the command starts.
        let mut comm = std::fs::read(format!("/proc/{root}/comm")).unwrap_or_default();
        if comm.last() == Some(&b'\n') {
            comm.pop();
        }
        let link = |what: &str| {
            std::fs::read_link(format!("/proc/{root}/{what}"))
                .map(|p| std::os::unix::ffi::OsStringExt::into_vec(p.into_os_string()))
                .unwrap_or_default()
        };
        let (exe, cwd) = (link("exe"), link("cwd"));
        e.resume(stop, 0);
        e.emit(&Record::Attach {
            tid: root,
            time,
            tgid: root,
            ppid,
            state: b'R',
            group_stopped: false,
            comm: &comm,
            exe: &exe,
            cwd: &cwd,
        });
        e
    }

    /// An engine with no command, for `rec -p` alone: add the processes
    /// with [`Engine::attached`].
    pub fn without_command(writer: Writer) -> Engine {
        Engine::new(writer, 0)
    }

    fn new(writer: Writer, root: Tid) -> Engine {
        Engine {
            writer,
            threads: FxHashMap::default(),
            expected: FxHashSet::default(),
            held: Vec::new(),
            root,
            root_end: None,
            caps: CaptureBuf::new(),
            capture: Capture::new(4096),
            siginfo: [0; 128],
            cmdline: Vec::new(),
            argv: Vec::new(),
            stats: Stats::default(),
            write_error: None,
            verify_exit_regs: false,
            capture_on: true,
            selection: None,
            seccomp: false,
            attach: None,
            spin_ns: 0,
            load: None,
            _thread: PhantomData,
        }
    }

    /// `--spin-us`: how long to poll for the next stop before sleeping
    /// (see `wait`); 0 never polls. With `load`, only while a CPU is free
    /// (`--spin-always` passes None).
    pub fn spin(&mut self, ns: u64, load: Option<CpuLoad>) {
        self.spin_ns = ns;
        self.load = load;
    }

    /// `-s`: the most bytes kept of a captured string or buffer.
    pub fn string_limit(&mut self, limit: usize) {
        self.capture = Capture::new(limit);
    }

    /// Records no argument memory at all (paths included): the baseline
    /// against which the cost of capturing is measured.
    pub fn capture_off(&mut self) {
        self.capture_on = false;
    }

    /// `-e`: record only the syscalls in `selection`. With `seccomp`, the
    /// started command runs under the filter program of the same set (with
    /// PTRACE_O_TRACESECCOMP): its threads are resumed with PTRACE_CONT
    /// outside syscalls and a PTRACE_EVENT_SECCOMP stop is a syscall's enter.
    /// Attached threads, which run no filter, stop at every syscall and the
    /// records of the others are skipped.
    pub fn filter(&mut self, selection: Selection, seccomp: bool) {
        self.selection = Some(selection);
        self.seccomp = seccomp;
    }

    /// Takes over the threads of a process seized by `rec -p` (each
    /// interrupted, its stop still to come) and records their attach-time state.
    pub fn attached(&mut self, att: &Attached) {
        let command = self.root != 0;
        let a = self.attach.get_or_insert_with(|| {
            Box::new(AttachState {
                command,
                ..AttachState::default()
            })
        });
        for t in &att.threads {
            a.origin.insert(t.tid);
            a.p_threads.insert(t.tid);
        }
        for &t in &att.auto_attached {
            a.p_threads.insert(t);
        }
        self.stats.processes += 1;
        for t in &att.threads {
            self.threads.insert(t.tid, Thread::new());
            self.stats.threads += 1;
            self.emit(&Record::Attach {
                tid: t.tid,
                time: mono_ns(),
                tgid: t.tgid,
                ppid: t.ppid,
                state: t.state,
                group_stopped: t.group_stopped(),
                comm: &t.comm,
                exe: &t.exe,
                cwd: &t.cwd,
            });
        }
    }

    /// Records an INFO note (for example why a `-p` target was not attached).
    pub fn info(&mut self, text: &str) {
        self.emit(&Record::Note {
            tid: 0,
            time: mono_ns(),
            kind: note_kind::INFO,
            value: 0,
            text: text.as_bytes(),
        });
    }

    /// Makes every syscall exit whose registers are derived from the entry
    /// snapshot (see `arch`) also fetch them in full and compare; a mismatch
    /// is recorded as an UNEXPECTED_STOP note. For tests: it costs a GETREGS.
    pub fn verify_exit_regs(&mut self, on: bool) {
        self.verify_exit_regs = on;
    }

    /// Runs until no tracee is left, then writes the END note and closes the
    /// trace. `exit_status` maps the root's end to rec's exit status.
    pub fn run(mut self, exit_status: impl Fn(Option<Termination>) -> i32) -> Finished {
        loop {
            let mut status: libc::c_int = 0;
            // SAFETY: rusage is plain data; zeroed is a valid value.
            let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
            let (tid, wait_errno) = self.wait(&mut status, &mut ru);
            let fwd = crate::signals::take_forward();
            if fwd != 0 {
                self.forward(fwd);
            }
            if self.attach.is_some() && crate::signals::take_received() != 0 {
                self.begin_detach(b"rec received SIGINT, SIGTERM or SIGHUP");
            }
            if tid < 0 {
                match wait_errno {
                    Some(libc::EINTR) => {
                        self.on_tick();
                        if self.detach_done() {
                            break;
                        }
                        continue;
                    }
                    // ECHILD: every tracee and child is gone.
                    _ => break,
                }
            }
            self.stats.stops += 1;
            let time = mono_ns();
            let stime = ru.ru_stime.tv_sec as u64 * 1_000_000 + ru.ru_stime.tv_usec as u64;
            self.on_status(tid, status, time, stime);
            if self.attach.is_some() && self.detach_done() {
                break;
            }
        }
        // Children still held have nothing left to wait for (cannot happen
        // after ECHILD, but never leave a tracee stopped).
        for h in std::mem::take(&mut self.held) {
            let _ = Stop::new(h.tid).resume(Resume::Syscall(0));
        }
        let code = exit_status(self.root_end);
        let time = mono_ns();
        self.emit(&Record::Note {
            tid: 0,
            time,
            kind: note_kind::END,
            value: code as u64,
            text: b"",
        });
        let mut write_error = self.write_error;
        let written = match self.writer.finish() {
            Ok(w) => Some(w),
            Err(e) => {
                write_error.get_or_insert(e);
                None
            }
        };
        Finished {
            root: self.root_end,
            stats: self.stats,
            written,
            write_error,
        }
    }

    /// The next wait status of any tracee: the tid, or -1 and the errno
    /// (EINTR for a signal to rec, ECHILD when no tracee is left).
    ///
    /// A stop's round trip is dominated by two cross-CPU wake-ups: the
    /// tracer's when a tracee stops, the tracee's when it is resumed. A
    /// sleeping tracer's CPU goes idle, and waking an idle CPU (an IPI, and
    /// on a VM an exit to the hypervisor) costs more than the stop itself:
    /// on the 2-vCPU development VM a bare loop's round trip was 52 us, 6.6 us
    /// with tracer and tracee on one CPU. So rec first polls (WNOHANG) for
    /// up to `spin_ns`, yielding its CPU between polls, so that a tracee
    /// woken onto the tracer's CPU runs at once; only then does it sleep.
    /// But when every CPU rec may use has another task to run, the poll
    /// takes its CPU from a tracee: then rec sleeps at once (see `cpuload`).
    fn wait(&mut self, status: &mut libc::c_int, ru: &mut libc::rusage) -> (Tid, Option<i32>) {
        if self.spin_ns > 0 && self.load.as_mut().is_none_or(|l| l.cpu_free(mono_ns())) {
            let start = mono_ns();
            loop {
                // SAFETY: valid pointers to the caller's locals.
                let tid = unsafe { libc::wait4(-1, status, libc::__WALL | libc::WNOHANG, ru) };
                if tid != 0 {
                    return (tid, wait_error(tid));
                }
                if crate::signals::take_wake() {
                    return (-1, Some(libc::EINTR));
                }
                if mono_ns().wrapping_sub(start) >= self.spin_ns {
                    break;
                }
                // SAFETY: no arguments.
                unsafe { libc::sched_yield() };
            }
        }
        // SAFETY: valid pointers to the caller's locals.
        let tid = unsafe { libc::wait4(-1, status, libc::__WALL, ru) };
        let errno = wait_error(tid);
        if errno == Some(libc::EINTR) {
            // The signal is being handled: a later poll need not see it again.
            crate::signals::take_wake();
        }
        (tid, errno)
    }

    fn forward(&mut self, mask: u64) {
        // Without a command (`rec -p` alone) there is nobody to forward to:
        // the signal means "detach" (see `run`).
        if self.root <= 0 {
            return;
        }
        for sig in crate::signals::FORWARDED {
            if mask & (1 << sig) != 0 {
                // SAFETY: kill has no memory arguments. ESRCH (the root is
                // gone, its descendants remain) is fine to ignore.
                unsafe { libc::kill(self.root, sig) };
            }
        }
    }

    /// The 1 s tick while no stop comes: bound what a crash loses, and release
    /// children whose parent's event never came.
    fn on_tick(&mut self) {
        let now = mono_ns();
        if self.write_error.is_none() {
            if let Err(e) = self.writer.flush_if_older(now) {
                self.write_error = Some(e);
            }
        }
        let mut i = 0;
        while i < self.held.len() {
            if now.saturating_sub(self.held[i].since) >= HOLD_LIMIT_NS {
                let h = self.held.swap_remove(i);
                self.emit(&Record::Note {
                    tid: h.tid,
                    time: now,
                    kind: note_kind::INFO,
                    value: 0,
                    text: b"new tracee released: its parent's fork/clone event never came",
                });
                self.adopt(h.tid);
                self.on_status(h.tid, h.status, now, h.stime);
            } else {
                i += 1;
            }
        }
        self.check_detach_limit(now);
    }

    fn adopt(&mut self, tid: Tid) {
        self.threads.insert(tid, Thread::new());
        self.stats.threads += 1;
    }

    fn on_status(&mut self, tid: Tid, status: i32, time: u64, stime: u64) {
        if let Some(a) = &self.attach {
            // While detaching, every stop of an interrupted thread is where
            // it is detached; with `-p` alone, so is a new thread's first stop.
            if a.detaching
                && (a.pending.contains(&tid) || (!a.command && !self.threads.contains_key(&tid)))
            {
                return self.on_detach_status(tid, status, time);
            }
        }
        let report = decode(status);
        if !self.threads.contains_key(&tid) {
            if self.expected.remove(&tid) {
                self.adopt(tid);
            } else if let Some(h) = self.held.iter_mut().find(|h| h.tid == tid) {
                // A held new thread was killed while held: its death is what
                // is recorded once its creation has been.
                h.status = status;
                h.stime = stime;
                return;
            } else if let Report::Stopped(_) = report {
                // ptrace(2): a new child "may report before the parent's
                // PTRACE_EVENT_FORK/VFORK/CLONE" stop: hold it until then, so
                // its records follow the record of its creation.
                self.held.push(Held {
                    tid,
                    status,
                    stime,
                    since: time,
                });
                return;
            }
        }
        match report {
            Report::Stopped(kind) => self.on_stop(Stop::new(tid), kind, time, stime),
            Report::Died(how) => self.on_death(tid, how, time),
            Report::Other => {}
        }
    }

    fn on_death(&mut self, tid: Tid, how: Termination, time: u64) {
        self.threads.remove(&tid);
        if tid == self.root {
            self.root_end = Some(how);
        }
        self.emit(&Record::Death { tid, time, how });
        if let Some(a) = self.attach.as_deref_mut() {
            a.origin.remove(&tid);
            a.pending.remove(&tid);
            if a.p_threads.remove(&tid) && a.p_threads.is_empty() {
                self.begin_detach(b"every -p process has exited");
            }
        }
    }

    /// Resumes a stop the normal way. The one place that chooses how a
    /// running tracee continues (an attach/seccomp mode would choose here).
    #[inline]
    fn resume(&mut self, stop: Stop, sig: i32) {
        let tid = stop.tid();
        let how = if self.seccomp && self.between_syscalls_under_filter(tid) {
            Resume::Cont(sig)
        } else {
            Resume::Syscall(sig)
        };
        self.resume_with(stop, how, tid);
    }

    /// Under the `-e` seccomp filter, a command thread outside a syscall
    /// runs with PTRACE_CONT; inside one (after its seccomp stop) it is
    /// resumed with PTRACE_SYSCALL to get the syscall-exit-stop. Attached
    /// threads run no filter and always stop at syscalls.
    fn between_syscalls_under_filter(&self, tid: Tid) -> bool {
        !self.threads.get(&tid).is_some_and(|t| t.in_syscall)
            && !self
                .attach
                .as_ref()
                .is_some_and(|a| a.origin.contains(&tid))
    }

    #[inline]
    fn resume_with(&mut self, stop: Stop, how: Resume, tid: Tid) {
        match stop.resume(how) {
            // The thread was killed meanwhile: its death will be reported.
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(e) => {
                let text = format!("cannot resume with {how:?}: {e}");
                self.emit(&Record::Note {
                    tid,
                    time: mono_ns(),
                    kind: note_kind::UNEXPECTED_STOP,
                    value: e.0 as u64,
                    text: text.as_bytes(),
                });
            }
        }
    }

    /// Every stop kind, in one match.
    fn on_stop(&mut self, stop: Stop, kind: StopKind, time: u64, stime: u64) {
        let tid = stop.tid();
        match kind {
            StopKind::Syscall => self.on_syscall(stop, time, stime),
            StopKind::SignalDelivery(sig) => {
                let ok = tracee::siginfo(tid, &mut self.siginfo).is_ok();
                // Inject the signal: the tracee gets it as without a tracer.
                self.resume(stop, sig);
                let siginfo: &[u8] = if ok { &self.siginfo } else { &[] };
                let r = Record::SignalDelivery {
                    tid,
                    time,
                    signo: sig,
                    siginfo,
                };
                emit_to(&mut self.writer, &mut self.write_error, &mut self.stats, &r);
            }
            StopKind::GroupStop(sig) => {
                // ptrace(2): PTRACE_LISTEN "restarts the stopped tracee, but
                // prevents it from executing": it stays stopped until SIGCONT
                // and its real parent sees the stop through waitpid.
                self.resume_with(stop, Resume::Listen, tid);
                self.emit(&Record::GroupStop {
                    tid,
                    time,
                    signo: sig,
                });
            }
            StopKind::Event { event, sig } => match event {
                libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE => {
                    let child = match tracee::event_msg(tid) {
                        Ok(c) => c as Tid,
                        Err(_) => return self.resume(stop, 0),
                    };
                    let flags = match self.threads.get(&tid) {
                        Some(th) if th.in_syscall => {
                            let args = th.regs.syscall_args();
                            arch::clone_flags(th.nr, &args, |a| tracee::read_u64(tid, a))
                        }
                        _ => 0,
                    };
                    self.resume(stop, 0);
                    let kind = match event {
                        libc::PTRACE_EVENT_FORK => ChildKind::Fork,
                        libc::PTRACE_EVENT_VFORK => ChildKind::Vfork,
                        _ => ChildKind::Clone,
                    };
                    if kind != ChildKind::Clone || flags & libc::CLONE_THREAD as u64 == 0 {
                        self.stats.processes += 1;
                    }
                    self.emit(&Record::NewChild {
                        tid,
                        time,
                        child,
                        kind,
                        flags,
                        inferred: false,
                    });
                    if self.attach.is_some() {
                        self.attached_child(tid, child, flags);
                    }
                    self.announce(child);
                }
                libc::PTRACE_EVENT_VFORK_DONE => {
                    let child = tracee::event_msg(tid).unwrap_or(0) as Tid;
                    self.resume(stop, 0);
                    self.emit(&Record::VforkDone { tid, time, child });
                }
                libc::PTRACE_EVENT_EXEC => self.on_exec(stop, time),
                libc::PTRACE_EVENT_SECCOMP if self.seccomp => {
                    // The filter's SECCOMP_RET_TRACE: the thread was resumed
                    // with PTRACE_CONT, so this stop, before the syscall
                    // runs, takes the place of its syscall-enter-stop.
                    if let Some(th) = self.threads.get_mut(&tid) {
                        th.in_syscall = false;
                    }
                    self.on_syscall(stop, time, stime);
                }
                libc::PTRACE_EVENT_EXIT => {
                    let status = tracee::event_msg(tid).unwrap_or(0) as i32;
                    self.resume(stop, 0);
                    self.emit(&Record::ExitEvent { tid, time, status });
                }
                libc::PTRACE_EVENT_STOP => {
                    // PTRACE_INTERRUPT, a new child's first stop, or the
                    // wake-up of a listening thread on SIGCONT: nothing to
                    // record, continue.
                    self.resume(stop, 0);
                }
                _ => {
                    self.resume(stop, 0);
                    let text = format!("ptrace event {event} with signal {sig}");
                    self.emit(&Record::Note {
                        tid,
                        time,
                        kind: note_kind::UNEXPECTED_STOP,
                        value: ((event as u64) << 16) | ((sig as u64) << 8) | 0x7f,
                        text: text.as_bytes(),
                    });
                }
            },
        }
    }

    /// A parent reported `child`: let its held first stop go, or expect it.
    fn announce(&mut self, child: Tid) {
        if let Some(i) = self.held.iter().position(|h| h.tid == child) {
            let h = self.held.swap_remove(i);
            self.adopt(child);
            // Its stop happened before its creation was recorded; it is
            // recorded now, with the time it is handled, so times stay monotonic.
            self.on_status(child, h.status, mono_ns(), h.stime);
        } else {
            self.expected.insert(child);
        }
    }

    fn on_syscall(&mut self, stop: Stop, time: u64, stime: u64) {
        let tid = stop.tid();
        let Some(th) = self.threads.get_mut(&tid) else {
            return self.resume(stop, 0);
        };
        if !th.in_syscall {
            let regs = match arch::get_regs(tid) {
                Ok(r) => r,
                Err(_) => return self.resume(stop, 0),
            };
            if regs.0[ptrec_format::x86_64::RAX] != arch::ENTER_RAX {
                // An exit whose enter we never saw (cannot happen while the
                // enter/exit tracking is right): record it as the exit it is.
                th.nr = regs.syscall_nr();
                th.regs = regs;
                let skip = th.launcher || self.selection.is_some_and(|s| !s.records(th.nr, &regs));
                self.resume(stop, 0);
                if skip {
                    return;
                }
                return self.emit_exit(tid, time, stime);
            }
            th.in_syscall = true;
            th.nr = regs.syscall_nr();
            th.regs = regs;
            let args = regs.syscall_args();
            if th.launcher {
                if arch::exec_path_arg(th.nr, &args).is_none() {
                    return self.resume(stop, 0);
                }
                th.launcher = false;
            }
            if let Some(p) = arch::exec_path_arg(th.nr, &args) {
                th.exec_path.clear();
                tracee::read_cstr(tid, p, PATH_MAX, &mut th.exec_path);
            }
            if self.selection.is_some_and(|s| !s.records(th.nr, &regs)) {
                return self.resume(stop, 0);
            }
            self.caps.clear();
            if self.capture_on {
                self.capture.at_enter(tid, th.nr, &args, &mut self.caps);
                self.capture
                    .at_enter_stack(tid, th.nr, &regs, &mut self.caps);
            }
            self.resume(stop, 0);
            self.stats.syscalls += 1;
            let r = Record::SyscallEnter {
                tid,
                time,
                stime_us: Some(stime),
                nr: regs.syscall_nr(),
                args,
                regs: Some(regs),
                mem: self.caps.captures(),
            };
            emit_to(&mut self.writer, &mut self.write_error, &mut self.stats, &r);
        } else {
            if th.launcher || self.selection.is_some_and(|s| !s.records(th.nr, &th.regs)) {
                th.in_syscall = false;
                return self.resume(stop, 0);
            }
            let mut mismatch = false;
            let got = if arch::exit_needs_full_regs(th.nr, &th.regs) {
                arch::get_regs(tid)
            } else {
                arch::peek_ret(tid).map(|rax| {
                    let mut r = th.regs;
                    arch::set_ret(&mut r, rax);
                    if self.verify_exit_regs {
                        mismatch = arch::get_regs(tid).is_ok_and(|full| full != r);
                    }
                    r
                })
            };
            th.in_syscall = false;
            // The entry's arguments, before the exit snapshot replaces them
            // (what an output-buffer capture at exit reads).
            let args = th.regs.syscall_args();
            match got {
                Ok(r) => th.regs = r,
                Err(_) => return self.resume(stop, 0),
            }
            let nr = th.nr;
            let ret = th.regs.ret();
            self.caps.clear();
            if self.capture_on {
                self.capture.at_exit(tid, nr, &args, ret, &mut self.caps);
            }
            self.resume(stop, 0);
            self.emit_exit(tid, time, stime);
            if mismatch {
                self.emit(&Record::Note {
                    tid,
                    time,
                    kind: note_kind::UNEXPECTED_STOP,
                    value: nr,
                    text: b"derived exit registers differ from PTRACE_GETREGS",
                });
            }
        }
    }

    fn emit_exit(&mut self, tid: Tid, time: u64, stime: u64) {
        let Some(th) = self.threads.get(&tid) else {
            return;
        };
        let r = Record::SyscallExit {
            tid,
            time,
            stime_us: Some(stime),
            nr: th.nr,
            ret: th.regs.ret(),
            regs: Some(th.regs),
            mem: self.caps.captures(),
        };
        emit_to(&mut self.writer, &mut self.write_error, &mut self.stats, &r);
    }

    fn on_exec(&mut self, stop: Stop, time: u64) {
        let tid = stop.tid();
        let former = tracee::event_msg(tid).map(|t| t as Tid).unwrap_or(tid);
        if former != tid {
            // ptrace(2): execve from a non-leader thread: every other thread
            // is destroyed, the execing thread takes the leader's tid. The
            // others report their deaths; the old leader does not (its tid
            // lives on), and `former` vanishes without a death. The execing
            // thread's state (mid-execve) replaces the old leader's.
            if let Some(th) = self.threads.remove(&former) {
                self.threads.insert(tid, th);
            }
            if let Some(a) = self.attach.as_deref_mut() {
                if a.p_threads.remove(&former) {
                    a.p_threads.insert(tid);
                }
                if a.origin.remove(&former) {
                    a.origin.insert(tid);
                }
            }
        }
        // Gone (killed meanwhile): an exec with no argv.
        let _ = crate::memory::read_cmdline(tid, &mut self.cmdline);
        self.resume(stop, 0);
        let filename: &[u8] = match self.threads.get(&tid) {
            Some(th) => &th.exec_path,
            None => b"",
        };
        let mut argv: Vec<&[u8]> = std::mem::take(&mut self.argv);
        argv.extend(self.cmdline.split(|&b| b == 0));
        if self.cmdline.last() == Some(&0) {
            argv.pop();
        }
        let r = Record::Exec {
            tid,
            time,
            former_tid: former,
            filename,
            argv,
            argv_redacted: Vec::new(),
        };
        emit_to(&mut self.writer, &mut self.write_error, &mut self.stats, &r);
        if let Record::Exec { mut argv, .. } = r {
            argv.clear();
            // SAFETY: the vector is empty, so no slice borrowed from
            // `self.cmdline` is left in it: only its allocation is kept, and
            // `Vec<&[u8]>` has the same layout whatever the lifetime.
            self.argv = unsafe { std::mem::transmute::<Vec<&[u8]>, Vec<&'static [u8]>>(argv) };
        }
    }

    /// A new child of `parent` (`-p` bookkeeping): a descendant of an
    /// attached process is attached too, and a new thread of a `-p`
    /// process is one of its threads. When the clone's flags are unknown
    /// (the parent was attached in the middle of it), /proc tells.
    fn attached_child(&mut self, parent: Tid, child: Tid, flags: u64) {
        let Some(a) = self.attach.as_deref_mut() else {
            return;
        };
        if !a.origin.contains(&parent) {
            return;
        }
        a.origin.insert(child);
        if a.p_threads.contains(&parent) {
            let thread = if flags != 0 {
                flags & libc::CLONE_THREAD as u64 != 0
            } else {
                std::fs::read_to_string(format!("/proc/{child}/status"))
                    .ok()
                    .and_then(|s| {
                        s.lines()
                            .find_map(|l| l.strip_prefix("Tgid:"))
                            .and_then(|v| v.trim().parse::<Tid>().ok())
                    })
                    .is_some_and(|tgid| tgid != child)
            };
            if thread {
                a.p_threads.insert(child);
            }
        }
    }

    /// Starts detaching every attached thread: each is interrupted and
    /// detached at its next stop ([`Engine::on_detach_status`]). A started
    /// command is not detached.
    fn begin_detach(&mut self, why: &[u8]) {
        let Some(a) = self.attach.as_deref_mut() else {
            return;
        };
        if a.detaching {
            return;
        }
        a.detaching = true;
        a.since = mono_ns();
        let tids: Vec<Tid> = a.origin.iter().copied().collect();
        for tid in tids {
            // An error: exiting, or a zombie leader waiting for its threads;
            // its death is reported, or the kernel detaches it when rec exits.
            if ptrace(libc::PTRACE_INTERRUPT, tid, 0, 0).is_ok() {
                a.pending.insert(tid);
            }
        }
        let command = a.command;
        self.emit(&Record::Note {
            tid: 0,
            time: mono_ns(),
            kind: note_kind::INFO,
            value: 0,
            text: why,
        });
        if !command {
            // New threads held for their parent's event are stopped
            // already: detach them now.
            for h in std::mem::take(&mut self.held) {
                self.on_detach_status(h.tid, h.status, mono_ns());
            }
        }
    }

    /// A stop (or death) of a thread being detached. ptrace(2): "If the
    /// tracee is running when the tracer wants to detach it, the usual
    /// solution is to send ... PTRACE_INTERRUPT ..., wait for the tracee
    /// to stop in appropriate stop and then detach it"; any stop will do,
    /// and what it was decides the signal: a signal-delivery-stop's signal
    /// is passed on (it was intercepted, not delivered yet). A group-stopped
    /// thread is detached with no signal and stays stopped: the kernel
    /// puts it back into the group-stop (`__ptrace_unlink` re-arms the
    /// stop while the group is stopped). A thread that was sleeping in a
    /// syscall was woken by the interrupt and restarts it after the detach.
    fn on_detach_status(&mut self, tid: Tid, status: i32, time: u64) {
        let kind = match decode(status) {
            Report::Stopped(kind) => kind,
            Report::Died(how) => return self.on_death(tid, how, time),
            Report::Other => return,
        };
        let mut sig = 0;
        let mut state = b'R';
        match kind {
            StopKind::SignalDelivery(s) => {
                sig = s;
                let ok = tracee::siginfo(tid, &mut self.siginfo).is_ok();
                let siginfo: &[u8] = if ok { &self.siginfo } else { &[] };
                let r = Record::SignalDelivery {
                    tid,
                    time,
                    signo: s,
                    siginfo,
                };
                emit_to(&mut self.writer, &mut self.write_error, &mut self.stats, &r);
            }
            StopKind::GroupStop(_) => state = b'T',
            StopKind::Event { event, .. } => match event {
                libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE => {
                    // The new child was auto-attached: it is detached at its
                    // first stop. A vfork parent is detached now, so it
                    // never waits for a child we hold.
                    if let Ok(child) = tracee::event_msg(tid) {
                        let child = child as Tid;
                        let kind = match event {
                            libc::PTRACE_EVENT_FORK => ChildKind::Fork,
                            libc::PTRACE_EVENT_VFORK => ChildKind::Vfork,
                            _ => ChildKind::Clone,
                        };
                        self.emit(&Record::NewChild {
                            tid,
                            time,
                            child,
                            kind,
                            flags: 0,
                            inferred: false,
                        });
                        if let Some(a) = self.attach.as_deref_mut() {
                            a.origin.insert(child);
                            a.pending.insert(child);
                        }
                        if let Some(i) = self.held.iter().position(|h| h.tid == child) {
                            let h = self.held.swap_remove(i);
                            self.threads.insert(child, Thread::new());
                            self.on_detach_status(child, h.status, time);
                        } else {
                            self.expected.insert(child);
                        }
                    }
                }
                libc::PTRACE_EVENT_EXEC => {
                    // The former tid of a non-leader exec vanishes.
                    if let Ok(former) = tracee::event_msg(tid) {
                        let former = former as Tid;
                        if former != tid {
                            self.threads.remove(&former);
                            if let Some(a) = self.attach.as_deref_mut() {
                                a.pending.remove(&former);
                                a.origin.remove(&former);
                                a.p_threads.remove(&former);
                            }
                        }
                    }
                }
                _ => {}
            },
            StopKind::Syscall => {}
        }
        // ESRCH: killed meanwhile; then the kernel has detached it.
        let _ = ptrace(libc::PTRACE_DETACH, tid, 0, sig as usize);
        self.threads.remove(&tid);
        self.expected.remove(&tid);
        if let Some(a) = self.attach.as_deref_mut() {
            a.pending.remove(&tid);
            a.origin.remove(&tid);
            a.p_threads.remove(&tid);
        }
        self.emit(&Record::Detach {
            tid,
            time,
            state,
            signo: sig,
        });
    }

    /// `rec -p` alone: the detach is over when every interrupted thread was
    /// detached (a zombie leader, or a thread that could not stop in time,
    /// is left to the kernel's detach at rec's exit).
    #[inline]
    fn detach_done(&self) -> bool {
        self.attach
            .as_ref()
            .is_some_and(|a| a.detaching && !a.command && (a.pending.is_empty() || a.gave_up))
    }

    /// Gives up on threads that do not stop (see DETACH_LIMIT_NS).
    fn check_detach_limit(&mut self, now: u64) {
        let Some(a) = self.attach.as_deref_mut() else {
            return;
        };
        if !a.detaching || a.pending.is_empty() || now.saturating_sub(a.since) < DETACH_LIMIT_NS {
            return;
        }
        if a.command {
            // rec goes on recording the command: the thread is detached
            // whenever it stops.
            return;
        }
        a.gave_up = true;
        let left: Vec<Tid> = a.pending.iter().copied().collect();
        for tid in left {
            let state = crate::attach::thread_state(tid, tid).unwrap_or(0);
            self.emit(&Record::Note {
                tid,
                time: now,
                kind: note_kind::INFO,
                value: state as u64,
                text: b"did not stop to be detached (a vfork parent waiting for its child?): the kernel detaches it when rec exits",
            });
        }
    }

    fn emit(&mut self, r: &Record<'_>) {
        emit_to(&mut self.writer, &mut self.write_error, &mut self.stats, r);
    }
}

/// Writes a record unless the writer already failed (then counts it as
/// dropped: recording goes on so no tracee is left stopped).
#[inline]
fn emit_to(
    w: &mut Writer,
    err: &mut Option<ptrec_format::Error>,
    stats: &mut Stats,
    r: &Record<'_>,
) {
    if err.is_some() {
        stats.dropped += 1;
        return;
    }
    if let Err(e) = w.write(r) {
        *err = Some(e);
        stats.dropped += 1;
    }
}

/// The finished recording, with the writer's statistics.
#[derive(Debug)]
pub struct Finished {
    pub root: Option<Termination>,
    pub stats: Stats,
    pub written: Option<ptrec_format::WriteStats>,
    /// Writing the trace failed: the first error.
    pub write_error: Option<ptrec_format::Error>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn stopped(sig: i32, event: i32) -> i32 {
        (event << 16) | (sig << 8) | 0x7f
    }

    #[test]
    fn decodes_deaths() {
        assert_eq!(decode(3 << 8), Report::Died(Termination::Exited(3)));
        assert_eq!(
            decode(libc::SIGKILL),
            Report::Died(Termination::Signaled {
                signo: libc::SIGKILL,
                core: false
            })
        );
        assert_eq!(
            decode(libc::SIGSEGV | 0x80),
            Report::Died(Termination::Signaled {
                signo: libc::SIGSEGV,
                core: true
            })
        );
    }

    #[test]
    fn decodes_syscall_and_signal_stops_including_realtime_signals() {
        assert_eq!(
            decode(stopped(libc::SIGTRAP | 0x80, 0)),
            Report::Stopped(StopKind::Syscall)
        );
        assert_eq!(
            decode(stopped(libc::SIGTRAP, 0)),
            Report::Stopped(StopKind::SignalDelivery(libc::SIGTRAP))
        );
        let rt = libc::SIGRTMIN() + 3;
        assert_eq!(
            decode(stopped(rt, 0)),
            Report::Stopped(StopKind::SignalDelivery(rt))
        );
    }

    #[test]
    fn group_stop_is_event_stop_with_a_stopping_signal_only() {
        for sig in [libc::SIGSTOP, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU] {
            assert_eq!(
                decode(stopped(sig, libc::PTRACE_EVENT_STOP)),
                Report::Stopped(StopKind::GroupStop(sig))
            );
        }
        assert_eq!(
            decode(stopped(libc::SIGTRAP, libc::PTRACE_EVENT_STOP)),
            Report::Stopped(StopKind::Event {
                event: libc::PTRACE_EVENT_STOP,
                sig: libc::SIGTRAP
            })
        );
        // A plain SIGSTOP delivery is a signal-delivery-stop, not a group-stop.
        assert_eq!(
            decode(stopped(libc::SIGSTOP, 0)),
            Report::Stopped(StopKind::SignalDelivery(libc::SIGSTOP))
        );
    }

    #[test]
    fn decodes_events() {
        for ev in [
            libc::PTRACE_EVENT_FORK,
            libc::PTRACE_EVENT_VFORK,
            libc::PTRACE_EVENT_CLONE,
            libc::PTRACE_EVENT_EXEC,
            libc::PTRACE_EVENT_VFORK_DONE,
            libc::PTRACE_EVENT_EXIT,
        ] {
            assert_eq!(
                decode(stopped(libc::SIGTRAP, ev)),
                Report::Stopped(StopKind::Event {
                    event: ev,
                    sig: libc::SIGTRAP
                })
            );
        }
        assert_eq!(decode(0xffff), Report::Other);
    }
}
