//! The ptrace engine: a `wait4(-1, __WALL)` loop over every tracee (see
//! [`crate::stop`] for the wait and the decoding of its statuses), and every
//! stop kind of `ptrace(2)` handled in one `match` ([`Engine::on_stop`]),
//! detaching included: a thread that is being detached goes through the
//! same match, and [`Engine::resume`] detaches it instead of resuming it
//! (see [`crate::detach`]).
//!
//! On every stop the engine reads what must be read while the tracee is
//! stopped, resumes it, and only then encodes the record (the Writer
//! compresses and writes on its own thread).
//!
//! New tracees: ptrace(2) auto-attaches a new child, which "may report
//! before the parent's PTRACE_EVENT_FORK/VFORK/CLONE" stop, or never see
//! it (the parent was SIGKILLed). Only a new tracee's first stop is ever
//! held, until its parent's event; it is let go, with its creation recorded
//! as inferred, as soon as no traced thread is left that could report that
//! event, or it reports again (killed while held).
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
//! is_send::<ptrec_recorder::stop::Stop>();
//! ```

use std::marker::PhantomData;

use ptrec_format::{note_kind, CaptureBuf, ChildKind, Record, Regs, Termination, Tid};
use rustc_hash::FxHashMap;

use crate::arch;
use crate::attach::Attached;
use crate::capture::Capture;
use crate::detach::AttachState;
use crate::filter::Selection;
use crate::idle::IdlePoll;
use crate::sink::{Sink, Stats};
use crate::stop::{Event, Idle, NotSend, Resume, Stop, StopKind, Waited, Waiter};
use crate::tracee::{self, mono_ns, Errno};

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

/// Per-thread state.
pub(crate) struct Thread {
    /// Thread-group id: a new thread's parent event must come from its group.
    pub(crate) tgid: Tid,
    /// Between a syscall-enter-stop and its exit (or an event stop, or death).
    /// ptrace(2): syscall-enter-stop and syscall-exit-stop are
    /// indistinguishable from each other by the tracer; it has to keep track.
    in_syscall: bool,
    /// It reported PTRACE_EVENT_EXIT: it can report no fork/clone event now.
    exiting: bool,
    /// Syscall number of the current (or last) syscall.
    nr: u64,
    /// Registers at the last syscall stop: the exit snapshot is derived from it.
    regs: Regs,
    /// The path an execve/execveat enter passed (exec is rare: may allocate).
    exec_path: Vec<u8>,
    /// rec's launched child before its exec of the command succeeds: its
    /// syscalls (waiting for rec's go byte, installing the -e filter,
    /// reporting a failed exec) are rec's, not the command's, and only its
    /// exec attempts are recorded.
    launcher: bool,
}

impl Thread {
    pub(crate) fn new(tgid: Tid) -> Thread {
        Thread {
            tgid,
            in_syscall: false,
            exiting: false,
            nr: 0,
            regs: Regs::default(),
            exec_path: Vec::new(),
            launcher: false,
        }
    }

    /// Inside execve or execveat (its entry was seen).
    fn in_exec(&self) -> bool {
        self.in_syscall && arch::is_exec(self.nr)
    }

    /// Inside fork, vfork, clone or clone3 (its entry was seen).
    fn in_fork(&self) -> bool {
        self.in_syscall && arch::is_fork_family(self.nr)
    }
}

/// A new tracee's first stop, held until its parent reports its creation.
pub(crate) struct Held {
    pub(crate) stop: Stop,
    pub(crate) kind: StopKind,
    stime: u64,
    since: u64,
    /// Whether /proc said it is a thread (its Tgid is not its tid).
    thread: bool,
    /// The thread group whose threads can report its creation: its own
    /// (a thread) or its parent's (a process; PPid of /proc/TID/status).
    group: Tid,
}

/// How long a new thread is held for its parent's fork/clone event at most
/// (a parent that cannot report it is normally seen, see `release_orphans`).
const HOLD_LIMIT_NS: u64 = 1_000_000_000;

/// PATH_MAX: the longest path an exec takes.
const PATH_MAX: usize = 4096;

/// The most threads remembered as having died inside a fork-family syscall
/// (candidate parents of children whose creation event never came).
const DIED_IN_FORK: usize = 64;

/// After a drain that found nothing, drains come every this many stops
/// (until one finds a stop again): see [`Engine::run`].
const DRAIN_EVERY: u32 = 8;

/// The engine. See the module docs.
pub struct Engine {
    pub(crate) sink: Sink,
    pub(crate) threads: FxHashMap<Tid, Thread>,
    /// Children announced by their parent's event whose first stop has not
    /// come, with their thread-group id.
    expected: FxHashMap<Tid, Tid>,
    pub(crate) held: Vec<Held>,
    /// Traced threads that exited inside a fork-family syscall, newest
    /// last, with their group: who created a child whose event never came.
    died_in_fork: Vec<(Tid, Tid)>,
    root: Tid,
    root_end: Option<Termination>,
    caps: CaptureBuf,
    capture: Capture,
    siginfo: [u8; 128],
    cmdline: Vec<u8>,
    /// Check every derived exit snapshot against a full PTRACE_GETREGS.
    verify_exit_regs: bool,
    capture_on: bool,
    /// `-e`: only these syscalls are recorded (None: every syscall).
    selection: Option<Selection>,
    /// The started command runs under the `-e` seccomp filter: its threads
    /// are resumed with PTRACE_CONT outside syscalls.
    seccomp: bool,
    /// `-p` (None without it).
    pub(crate) attach: Option<Box<AttachState>>,
    /// A thread detached by the stop being handled: its Detach record
    /// follows the stop's own record.
    pub(crate) detached: Option<(Tid, u8, i32)>,
    waiter: Waiter,
    /// The wait statuses pending after a wait's first one, handled in order.
    batch: Vec<Waited>,
    /// A setuid/setgid program ran without its privileges (said once).
    setuid_said: bool,
    /// The writer compresses at [`crate::sink::BUSY_LEVEL`] (every CPU busy).
    busy: bool,
    /// `--idle-poll busy`: hold [`IdlePoll`] while `busy`.
    idle_while_busy: bool,
    idle: Option<IdlePoll>,
    _thread: NotSend,
}

impl Engine {
    /// An engine for the command `root`, already seized (with
    /// [`SEIZE_OPTIONS`]) and stopped by PTRACE_INTERRUPT: `stop` is that stop.
    /// Records the start and resumes it. `fd_names` is [`Engine::name_fds`]'s
    /// level, given here for the records of the descriptors the command
    /// inherits.
    pub fn start(sink: Sink, stop: Stop, ppid: Tid, fd_names: u8) -> Engine {
        let root = stop.tid();
        let mut e = Engine::new(sink, root);
        e.name_fds(fd_names);
        let mut th = Thread::new(root);
        th.launcher = true;
        e.threads.insert(root, th);
        e.sink.stats.processes = 1;
        e.sink.stats.threads = 1;
        let time = mono_ns();
        // Before the exec the child is a copy of rec waiting to exec: its
        // comm and exe are rec's, not the command's, and are not recorded
        // (the exec record names the command). Its cwd is the command's.
        let cwd = std::fs::read_link(format!("/proc/{root}/cwd"))
            .map(|p| std::os::unix::ffi::OsStringExt::into_vec(p.into_os_string()))
            .unwrap_or_default();
        e.resume(stop, 0);
        e.sink.emit(&Record::Attach {
            tid: root,
            time,
            tgid: root,
            ppid,
            state: b'R',
            group_stopped: false,
            comm: b"",
            exe: b"",
            cwd: &cwd,
        });
        // The descriptors the command inherits (what strace's -y names
        // its stdin, stdout and stderr by): the child's that survive exec.
        e.open_fd_records(root, time, true);
        e
    }

    /// The open-fd records of process `pid` (FORMAT.md), from /proc; with
    /// `inherited`, only the descriptors an exec keeps (no O_CLOEXEC).
    fn open_fd_records(&mut self, pid: Tid, time: u64, inherited: bool) {
        for f in crate::attach::open_fds(pid) {
            if inherited && f.flags & libc::O_CLOEXEC as u32 != 0 {
                continue;
            }
            // `-yy`: what strace's -yy adds (a terminal's numbers).
            let detail = self.capture.describe_fd(pid, f.fd).unwrap_or_default();
            self.sink.emit(&Record::OpenFd {
                tid: pid,
                time,
                fd: f.fd,
                flags: f.flags,
                pos: f.pos,
                target: &f.target,
                detail: &detail,
            });
        }
    }

    /// An engine with no command, for `rec -p` alone: add the processes
    /// with [`Engine::attached`].
    pub fn without_command(sink: Sink) -> Engine {
        Engine::new(sink, 0)
    }

    fn new(sink: Sink, root: Tid) -> Engine {
        Engine {
            sink,
            threads: FxHashMap::default(),
            expected: FxHashMap::default(),
            held: Vec::new(),
            died_in_fork: Vec::with_capacity(DIED_IN_FORK),
            root,
            root_end: None,
            caps: CaptureBuf::new(),
            capture: Capture::new(4096),
            siginfo: [0; 128],
            cmdline: Vec::new(),
            verify_exit_regs: false,
            capture_on: true,
            selection: None,
            seccomp: false,
            attach: None,
            detached: None,
            waiter: Waiter::new(0),
            batch: Vec::with_capacity(64),
            setuid_said: false,
            busy: false,
            idle_while_busy: false,
            idle: None,
            _thread: PhantomData,
        }
    }

    /// `--spin-us`: how long to poll for the next stop before sleeping
    /// (see [`Waiter::wait`]); 0 never polls. With `load`, only while a
    /// CPU is free, unless `always` (`--spin-always`); the writer also
    /// compresses at a cheaper level while no CPU is free.
    pub fn spin(&mut self, ns: u64, always: bool, load: Option<crate::cpuload::CpuLoad>) {
        self.waiter.set_spin(ns, always, load);
    }

    /// `--idle-poll busy`: keep idle CPUs polling ([`IdlePoll`]) while
    /// every CPU rec may use is busy. Then rec sleeps in wait4 instead of
    /// polling, and the CPU a stopped tracee leaves is idle only for the
    /// moment rec takes to resume it: halting it, and waking it through
    /// the hypervisor for the resumed tracee, costs more than the stop.
    /// Polling in those moments takes nothing from the tracees (an idle
    /// CPU polls in its idle loop); while a CPU is free, rec polls itself.
    pub fn idle_poll_while_busy(&mut self, on: bool) {
        self.idle_while_busy = on;
    }

    /// Holds or releases the idle-poll request as the CPUs become busy or
    /// free (rarely: the load sampler's hysteresis). Without the right
    /// to write the device, rec stops trying.
    fn idle_poll(&mut self, busy: bool) {
        self.idle = None;
        if busy {
            match IdlePoll::hold() {
                Ok(h) => self.idle = Some(h),
                Err(_) => self.idle_while_busy = false,
            }
        }
    }

    /// `-s`: the most bytes kept of a captured string or buffer.
    pub fn string_limit(&mut self, limit: usize) {
        let names = self.capture.names_fds();
        self.capture = Capture::new(limit);
        self.name_fds(names);
    }

    /// `-y` (`level` 1): record what /proc names the descriptors calls
    /// make; `-yy` (2): and what strace's `-yy` adds (devices, sockets).
    pub fn name_fds(&mut self, level: u8) {
        self.capture.name_fds(level >= 1);
        self.capture.describe_fds(level >= 2);
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
        let a = self
            .attach
            .get_or_insert_with(|| Box::new(AttachState::new(command)));
        for t in &att.threads {
            a.origin.insert(t.tid);
            a.p_threads.insert(t.tid);
        }
        for &t in &att.auto_attached {
            a.p_threads.insert(t);
        }
        self.sink.stats.processes += 1;
        for t in &att.threads {
            self.threads.insert(t.tid, Thread::new(t.tgid));
            self.sink.stats.threads += 1;
            self.sink.emit(&Record::Attach {
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
        // What its descriptors are, for the views that name them.
        self.open_fd_records(att.pid, mono_ns(), false);
    }

    /// Records an INFO note (for example why a `-p` target was not attached).
    pub fn info(&mut self, text: &str) {
        self.note(0, mono_ns(), note_kind::INFO, 0, text.as_bytes());
    }

    pub(crate) fn note(&mut self, tid: Tid, time: u64, kind: u32, value: u64, text: &[u8]) {
        self.sink.emit(&Record::Note {
            tid,
            time,
            kind,
            value,
            text,
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
        let mut batch = std::mem::take(&mut self.batch);
        // Stops handled since the last drain, and whether it found any.
        let (mut undrained, mut drain_found) = (0u32, true);
        loop {
            // Draining only pays when another tracee may be stopped too;
            // and an empty drain is a wait4 for nothing at each stop (two
            // tracees that take turns, as a pipeline's do). After one, the
            // next drains come every DRAIN_EVERY stops until one finds a
            // stop again: a tracee that wait4 keeps passing over waits at
            // most that many stops of the others.
            let many = self.threads.len() + self.held.len() + self.expected.len() > 1;
            let got = self.waiter.wait();
            let fwd = crate::signals::take_forward();
            if fwd != 0 {
                self.forward(fwd);
            }
            if self.attach.is_some() && crate::signals::take_received() != 0 {
                self.begin_detach(b"rec received SIGINT, SIGTERM or SIGHUP");
            }
            let first = match got {
                Ok(w) => w,
                Err(Idle::Interrupted) => {
                    self.on_tick();
                    if self.detach_done() {
                        break;
                    }
                    continue;
                }
                // ECHILD: every tracee and child is gone.
                Err(Idle::NoneLeft) => break,
            };
            // The first stop is handled (and its tracee resumed) before the
            // others are collected: nothing else has been reported yet, and
            // it does not wait for the drain's wait4 calls.
            let tid = first.tid();
            self.sink.stats.stops += 1;
            self.on_waited(first);
            undrained += 1;
            if many && (drain_found || undrained >= DRAIN_EVERY) {
                undrained = 0;
                self.waiter.drain(&mut batch);
                drain_found = !batch.is_empty();
                // Its thread, stopped again already, goes after every
                // other reported stop: no tracee is resumed twice while a
                // reported one waits. A death is never moved: nothing is
                // resumed by it, and the kernel reports a leader's death
                // only after its threads', which moving would reverse.
                if let Some(i) = batch.iter().position(|w| w.tid() == tid && w.is_stop()) {
                    let mut again = batch.remove(i);
                    if let Some(last) = batch.last() {
                        again.handled_after(last.time());
                    }
                    batch.push(again);
                }
                for w in batch.drain(..) {
                    self.sink.stats.stops += 1;
                    self.on_waited(w);
                }
            }
            // Compression takes CPU from the tracees when none is free.
            let busy = self.waiter.cpus_busy();
            if busy != self.busy {
                self.busy = busy;
                self.sink.cpus_busy(busy);
                if self.idle_while_busy {
                    self.idle_poll(busy);
                }
            }
            // A tick that came while rec was busy (not blocked in wait4).
            if crate::signals::take_wake() {
                self.on_tick();
            }
            if self.attach.is_some() && self.detach_done() {
                break;
            }
        }
        // Children still held have nothing left to wait for (cannot happen
        // after ECHILD, but never leave a tracee stopped).
        for h in std::mem::take(&mut self.held) {
            let _ = h.stop.resume(Resume::Syscall(0));
        }
        let code = exit_status(self.root_end);
        self.note(0, mono_ns(), note_kind::END, code as u64, b"");
        let (stats, written, write_error) = self.sink.finish();
        Finished {
            root: self.root_end,
            stats,
            written,
            write_error,
        }
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

    /// The tick: bound what a crash loses, and let go of new tracees held
    /// too long for their parent's event.
    fn on_tick(&mut self) {
        let now = mono_ns();
        self.sink.flush_if_older(now);
        let mut i = 0;
        while i < self.held.len() {
            if now.saturating_sub(self.held[i].since) >= HOLD_LIMIT_NS {
                let h = self.held.swap_remove(i);
                self.note(
                    h.stop.tid(),
                    now,
                    note_kind::INFO,
                    0,
                    b"new tracee let go after the hold limit: its parent's fork/clone event never came",
                );
                self.release(h, now);
            } else {
                i += 1;
            }
        }
        self.check_detach_limit(now);
    }

    /// A held first stop handled now (its parent's event came, or it is
    /// being detached).
    pub(crate) fn on_held_stop(&mut self, h: Held) {
        self.on_stop(h.stop, h.kind, mono_ns(), h.stime);
    }

    fn adopt(&mut self, tid: Tid, tgid: Tid) {
        self.threads.insert(tid, Thread::new(tgid));
        self.sink.stats.threads += 1;
    }

    /// One collected wait status.
    fn on_waited(&mut self, w: Waited) {
        let tid = w.tid();
        if !self.threads.contains_key(&tid) {
            if let Some(tgid) = self.expected.remove(&tid) {
                self.adopt(tid, tgid);
            } else if let Some(i) = self.held.iter().position(|h| h.stop.tid() == tid) {
                // It reports again while held: it was killed out of its
                // first stop (which needs no resume now), and its parent,
                // killed too, will report nothing.
                let h = self.held.swap_remove(i);
                let time = w.time();
                self.infer_creation(tid, h.thread, h.group, time);
                h.stop.abandon();
            } else if self.detaching_all() {
                // `rec -p` alone while detaching: a new thread's first stop
                // is where it is detached.
                let tgid = crate::attach::tgid_of(tid).unwrap_or(tid);
                self.adopt(tid, tgid);
                if let Some(a) = self.attach.as_deref_mut() {
                    a.origin.insert(tid);
                    a.pending.insert(tid);
                }
            } else if w.is_stop() {
                return self.hold(w);
            }
        }
        let (time, stime) = (w.time(), w.stime_us());
        match w.take() {
            Event::Stopped(stop, kind) => self.on_stop(stop, kind, time, stime),
            Event::Died(tid, how) => self.on_death(tid, how, time),
            Event::Other(_) => {}
        }
    }

    /// A first stop of a thread nobody announced: hold it for its parent's
    /// event, unless no traced thread can report that event any more.
    fn hold(&mut self, w: Waited) {
        let tid = w.tid();
        // /proc: Tgid is exact for a thread; PPid names a process's parent
        // (or, once that died, whoever it was reparented to).
        let (tgid, ppid) = crate::attach::tgid_ppid(tid).unwrap_or((tid, 0));
        let thread = tgid != tid;
        let group = if thread { tgid } else { ppid };
        let (time, stime) = (w.time(), w.stime_us());
        let Event::Stopped(stop, kind) = w.take() else {
            return;
        };
        let h = Held {
            stop,
            kind,
            stime,
            since: time,
            thread,
            group,
        };
        if self.can_announce(group) {
            self.held.push(h);
        } else {
            self.release(h, time);
        }
    }

    /// Whether a live traced thread of `group` could still report a
    /// fork/clone event: one that is not exiting, nor inside an exec (which
    /// kills every other thread of its group and waits for them all, the
    /// held one included).
    fn can_announce(&self, group: Tid) -> bool {
        group > 0
            && self
                .threads
                .values()
                .any(|t| t.tgid == group && !t.exiting && !t.in_exec())
    }

    /// Lets a held first stop go without its parent's event: its creation
    /// is recorded as inferred, then the stop is handled.
    fn release(&mut self, h: Held, time: u64) {
        let tid = h.stop.tid();
        self.infer_creation(tid, h.thread, h.group, time);
        self.on_stop(h.stop, h.kind, time, h.stime);
    }

    /// After a thread of `group` exited: held children that only that group
    /// could have announced are let go.
    fn release_orphans(&mut self, group: Tid, time: u64) {
        if self.held.is_empty() || self.can_announce(group) {
            return;
        }
        let mut i = 0;
        while i < self.held.len() {
            if self.held[i].group == group {
                let h = self.held.swap_remove(i);
                self.release(h, time);
            } else {
                i += 1;
            }
        }
    }

    /// Records the creation of `child` whose parent's event cannot come,
    /// with the parent inferred: a thread of its group (a thread) or of
    /// its parent process that died inside a fork-family syscall, else that
    /// group's leader if it was traced, else the last traced thread that
    /// died inside one. Adopts the child.
    fn infer_creation(&mut self, child: Tid, thread: bool, group: Tid, time: u64) {
        let parent = self
            .died_in_fork
            .iter()
            .rev()
            .find(|&&(_, g)| g == group)
            .map(|&(t, _)| t)
            .or_else(|| self.threads.get(&group).map(|_| group))
            .or_else(|| self.died_in_fork.last().map(|&(t, _)| t));
        let tgid = if thread { group } else { child };
        self.adopt(child, tgid);
        let Some(parent) = parent else {
            self.note(
                child,
                time,
                note_kind::INFO,
                0,
                b"new tracee whose parent is unknown: its creation was never reported",
            );
            return;
        };
        let (kind, flags) = if thread {
            let f = libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_FILES | libc::CLONE_SIGHAND;
            (ChildKind::Clone, (f | libc::CLONE_THREAD) as u64)
        } else {
            self.sink.stats.processes += 1;
            (ChildKind::Fork, libc::SIGCHLD as u64)
        };
        self.new_child(parent, time, child, kind, flags, true);
    }

    /// The NewChild record. `inferred`: the parent's event never came and
    /// the parent and flags were inferred (see `infer_creation`).
    fn new_child(
        &mut self,
        parent: Tid,
        time: u64,
        child: Tid,
        kind: ChildKind,
        flags: u64,
        inferred: bool,
    ) {
        self.sink.emit(&Record::NewChild {
            tid: parent,
            time,
            child,
            kind,
            flags,
            inferred,
        });
    }

    fn on_death(&mut self, tid: Tid, how: Termination, time: u64) {
        let th = self.threads.remove(&tid);
        self.expected.remove(&tid);
        if tid == self.root {
            self.root_end = Some(how);
        }
        self.sink.emit(&Record::Death { tid, time, how });
        if let Some(th) = th {
            if th.in_fork() && !th.exiting {
                self.died_in_fork(tid, th.tgid);
            }
            self.release_orphans(th.tgid, time);
        }
        self.detach_on_death(tid);
    }

    fn died_in_fork(&mut self, tid: Tid, tgid: Tid) {
        if self.died_in_fork.len() == DIED_IN_FORK {
            self.died_in_fork.remove(0);
        }
        self.died_in_fork.push((tid, tgid));
    }

    /// Resumes a stop the normal way, or detaches it when it is being
    /// detached (then `detached` holds its Detach record). The one place
    /// that chooses how a running tracee continues.
    #[inline]
    fn resume(&mut self, stop: Stop, sig: i32) {
        let tid = stop.tid();
        let how = if self.seccomp && self.between_syscalls_under_filter(tid) {
            Resume::Cont(sig)
        } else {
            Resume::Syscall(sig)
        };
        self.resume_with(stop, how);
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
    fn resume_with(&mut self, stop: Stop, how: Resume) {
        if self.attach.is_some() && self.is_detaching(stop.tid()) {
            return self.detach(stop, how);
        }
        let tid = stop.tid();
        match stop.resume(how) {
            // The thread was killed meanwhile: its death will be reported.
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(e) => {
                let text = format!("cannot resume with {how:?}: {e}");
                self.note(
                    tid,
                    mono_ns(),
                    note_kind::UNEXPECTED_STOP,
                    e.0 as u64,
                    text.as_bytes(),
                );
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
                // Inject the signal: the tracee gets it as without a tracer
                // (a thread being detached gets it passed on by the detach).
                self.resume(stop, sig);
                let siginfo: &[u8] = if ok { &self.siginfo } else { &[] };
                self.sink.emit(&Record::SignalDelivery {
                    tid,
                    time,
                    signo: sig,
                    siginfo,
                });
            }
            StopKind::GroupStop(sig) => {
                // ptrace(2): PTRACE_LISTEN "restarts the stopped tracee, but
                // prevents it from executing": it stays stopped until SIGCONT
                // and its real parent sees the stop through waitpid.
                self.resume_with(stop, Resume::Listen);
                self.sink.emit(&Record::GroupStop {
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
                    if !self.still_in(tid, event) {
                        return stop.abandon();
                    }
                    let flags = self.clone_flags(tid);
                    self.resume(stop, 0);
                    let kind = match event {
                        libc::PTRACE_EVENT_FORK => ChildKind::Fork,
                        libc::PTRACE_EVENT_VFORK => ChildKind::Vfork,
                        _ => ChildKind::Clone,
                    };
                    let thread = kind == ChildKind::Clone && flags & libc::CLONE_THREAD as u64 != 0;
                    if !thread {
                        self.sink.stats.processes += 1;
                    }
                    self.new_child(tid, time, child, kind, flags, false);
                    if self.attach.is_some() {
                        self.attached_child(tid, child, flags);
                    }
                    let tgid = match self.threads.get(&tid) {
                        Some(p) if thread => p.tgid,
                        _ => child,
                    };
                    self.announce(child, tgid);
                }
                libc::PTRACE_EVENT_VFORK_DONE => {
                    let child = tracee::event_msg(tid).unwrap_or(0) as Tid;
                    if !self.still_in(tid, event) {
                        return stop.abandon();
                    }
                    self.resume(stop, 0);
                    self.sink.emit(&Record::VforkDone { tid, time, child });
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
                    let mut group = None;
                    if let Some(th) = self.threads.get_mut(&tid) {
                        th.exiting = true;
                        group = Some(th.tgid);
                        if th.in_fork() {
                            let tgid = th.tgid;
                            self.died_in_fork(tid, tgid);
                        }
                    }
                    self.resume(stop, 0);
                    self.sink.emit(&Record::ExitEvent { tid, time, status });
                    if let Some(g) = group {
                        self.release_orphans(g, time);
                    }
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
                    self.note(
                        tid,
                        time,
                        note_kind::UNEXPECTED_STOP,
                        ((event as u64) << 16) | ((sig as u64) << 8) | 0x7f,
                        text.as_bytes(),
                    );
                }
            },
        }
        if let Some(d) = self.detached.take() {
            self.detached_record(d, time);
        }
    }

    /// Whether `tid` is still in the `event` stop it reported, after its
    /// event message was read. A SIGKILL wakes a thread out of any stop
    /// and it stops again at PTRACE_EVENT_EXIT, whose message is the exit
    /// status: then the message read was that, and resuming would resume
    /// the exit stop, whose own report is still to come. The stop's
    /// siginfo tells (ptrace(2): an event stop's si_code is
    /// `SIGTRAP | event << 8`). Fails when the thread is running again
    /// (on its way to that exit stop) too.
    fn still_in(&mut self, tid: Tid, event: i32) -> bool {
        const SI_CODE: usize = std::mem::offset_of!(libc::siginfo_t, si_code);
        if tracee::siginfo(tid, &mut self.siginfo).is_err() {
            return false;
        }
        let c = &self.siginfo[SI_CODE..SI_CODE + 4];
        i32::from_ne_bytes([c[0], c[1], c[2], c[3]]) == libc::SIGTRAP | (event << 8)
    }

    /// The clone flags of the fork-family syscall `tid` is stopped in (at
    /// its fork/vfork/clone event), from its entry snapshot when the entry
    /// was stopped at, else from its registers now (under `-e` without
    /// clone, or attached in the middle of it): the event stop still shows
    /// the syscall's number and arguments.
    fn clone_flags(&self, tid: Tid) -> u64 {
        let regs = match self.threads.get(&tid) {
            Some(th) if th.in_syscall => th.regs,
            _ => match arch::get_regs(tid) {
                Ok(r) => r,
                Err(_) => return 0,
            },
        };
        arch::clone_flags(regs.syscall_nr(), &regs.syscall_args(), |a| {
            tracee::read_u64(tid, a)
        })
    }

    /// A parent reported `child`: let its held first stop go, or expect it.
    fn announce(&mut self, child: Tid, tgid: Tid) {
        if let Some(i) = self.held.iter().position(|h| h.stop.tid() == child) {
            let h = self.held.swap_remove(i);
            self.adopt(child, tgid);
            // Its stop happened before its creation was recorded; it is
            // recorded now, with the time it is handled, so times stay monotonic.
            self.on_held_stop(h);
        } else {
            self.expected.insert(child, tgid);
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
            th.nr = regs.syscall_nr();
            th.regs = regs;
            // rec's launcher: only its exec attempts are the command's.
            let launcher = th.launcher && !arch::is_exec(th.nr);
            if !arch::looks_like_enter(&regs) {
                // An exit whose enter we never saw (cannot happen while the
                // enter/exit tracking is right): record it as the exit it is.
                let skip = launcher || self.selection.is_some_and(|s| !s.records(th.nr, &regs));
                self.resume(stop, 0);
                if skip {
                    return;
                }
                return self.emit_exit(tid, time, stime);
            }
            th.in_syscall = true;
            if launcher {
                return self.resume(stop, 0);
            }
            let args = regs.syscall_args();
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
            self.sink.stats.syscalls += 1;
            self.sink.emit(&Record::SyscallEnter {
                tid,
                time,
                stime_us: Some(stime),
                nr: regs.syscall_nr(),
                args,
                regs: Some(regs),
                mem: self.caps.captures(),
            });
        } else {
            if (th.launcher && !arch::is_exec(th.nr))
                || self.selection.is_some_and(|s| !s.records(th.nr, &th.regs))
            {
                th.in_syscall = false;
                return self.resume(stop, 0);
            }
            let mut mismatch = false;
            let got = if arch::exit_needs_full_regs(th.nr, &th.regs) {
                arch::get_regs(tid)
            } else {
                arch::peek_ret(tid).map(|ret| {
                    let mut r = th.regs;
                    arch::set_ret(&mut r, ret);
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
                self.note(
                    tid,
                    time,
                    note_kind::UNEXPECTED_STOP,
                    nr,
                    b"derived exit registers differ from PTRACE_GETREGS",
                );
            }
        }
    }

    fn emit_exit(&mut self, tid: Tid, time: u64, stime: u64) {
        let Some(th) = self.threads.get(&tid) else {
            return;
        };
        self.sink.emit(&Record::SyscallExit {
            tid,
            time,
            stime_us: Some(stime),
            nr: th.nr,
            ret: th.regs.ret(),
            regs: Some(th.regs),
            mem: self.caps.captures(),
        });
    }

    fn on_exec(&mut self, stop: Stop, time: u64) {
        let tid = stop.tid();
        let former = tracee::event_msg(tid).map(|t| t as Tid).unwrap_or(tid);
        if !self.still_in(tid, libc::PTRACE_EVENT_EXEC) {
            return stop.abandon();
        }
        if former != tid {
            // ptrace(2): execve from a non-leader thread: every other thread
            // is destroyed, the execing thread takes the leader's tid. The
            // others report their deaths; the old leader does not (its tid
            // lives on), and `former` vanishes without a death. The execing
            // thread's state (mid-execve) replaces the old leader's.
            if let Some(th) = self.threads.remove(&former) {
                self.threads.insert(tid, th);
            }
            self.detach_renamed(former, tid);
        }
        if let Some(th) = self.threads.get_mut(&tid) {
            th.launcher = false;
        }
        // Gone (killed meanwhile): an exec with no argv.
        let _ = crate::memory::read_cmdline(tid, &mut self.cmdline);
        let unprivileged = !self.setuid_said && runs_without_privileges(tid);
        self.resume(stop, 0);
        let filename: &[u8] = match self.threads.get(&tid) {
            Some(th) => &th.exec_path,
            None => b"",
        };
        // Exec is rare: the argv slices may be allocated.
        let mut argv: Vec<&[u8]> = self.cmdline.split(|&b| b == 0).collect();
        if self.cmdline.last() == Some(&0) {
            argv.pop();
        }
        self.sink.emit(&Record::Exec {
            tid,
            time,
            former_tid: former,
            filename,
            argv,
            argv_redacted: Vec::new(),
        });
        if unprivileged {
            self.setuid_said = true;
            let name = String::from_utf8_lossy(filename).into_owned();
            let text = format!(
                "{name} is a setuid/setgid program: under ptrace it runs without its privileges (as under strace)"
            );
            eprintln!("rec: {text}");
            self.note(tid, time, note_kind::INFO, 0, text.as_bytes());
        }
    }
}

/// Whether the program `tid` has just exec'd is setuid (setgid) to a user
/// (group) that the thread did not become: the kernel does not honour the
/// bits for a traced process unless the tracer may trace the result
/// (CAP_SYS_PTRACE), nor under no_new_privs (the `-e` filter).
fn runs_without_privileges(tid: Tid) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = std::fs::metadata(format!("/proc/{tid}/exe")) else {
        return false;
    };
    let (suid, sgid) = (m.mode() & libc::S_ISUID != 0, m.mode() & libc::S_ISGID != 0);
    if !suid && !sgid {
        return false;
    }
    let Ok(status) = std::fs::read_to_string(format!("/proc/{tid}/status")) else {
        return false;
    };
    // "Uid:\treal\teffective\tsaved\tfs".
    let effective = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().nth(1)?.parse::<u32>().ok())
    };
    (suid && effective("Uid:").is_some_and(|e| e != m.uid()))
        || (sgid && effective("Gid:").is_some_and(|e| e != m.gid()))
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
