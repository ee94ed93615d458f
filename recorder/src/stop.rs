//! Stops: the raw wait status decoded by hand, and the wait that produces
//! them. A [`Stop`] is made only here, by a wait that reported a thread in
//! a ptrace-stop, and is used up by [`Stop::resume`] or [`Stop::detach`]:
//! it can be neither resumed twice nor forgotten.
//!
//! Fairness: `wait4(-1)` scans the tracer's tracees newest first and
//! returns the first one stopped, so busy threads that stop again at once
//! can keep an older one waiting for seconds. After each stop that
//! [`Waiter::wait`] returns, the engine therefore takes every stop that is
//! pending ([`Waiter::drain`], WNOHANG) and handles them all before it
//! waits again, as strace does: a stop that has been reported is handled
//! before any tracee is resumed a second time, whatever order `wait4`
//! returns them in.

use std::marker::PhantomData;

use ptrec_format::{Termination, Tid};

use crate::cpuload::CpuLoad;
use crate::tracee::{self, mono_ns, Errno};

/// Marker that makes a type `!Send` and `!Sync`: ptrace is per-thread.
pub(crate) type NotSend = PhantomData<*const ()>;

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

/// A stopped tracee thread. Must be resumed (or detached) exactly once.
#[must_use = "a stopped tracee must be resumed"]
#[derive(Debug)]
pub struct Stop {
    tid: Tid,
    _thread: NotSend,
}

impl Stop {
    fn new(tid: Tid) -> Stop {
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
            Resume::Syscall(sig) => tracee::resume_syscall(self.tid, sig),
            Resume::Listen => tracee::listen(self.tid),
            Resume::Cont(sig) => tracee::resume_cont(self.tid, sig),
        }
    }
    /// The thread left this stop without being resumed (SIGKILL wakes a
    /// thread out of any stop): its next report (its exit stop, or its
    /// death) is the one to handle, and there is nothing to resume here.
    pub fn abandon(self) {}
    /// Detaches the thread, passing `sig` on. ESRCH: killed meanwhile, and
    /// then the kernel has detached it.
    pub fn detach(self, sig: i32) -> Result<(), Errno> {
        tracee::detach(self.tid, sig)
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
    /// seccomp, and PTRACE_EVENT_STOP with SIGTRAP: interrupt, new child,
    /// SIGCONT while listening).
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

/// One wait status as `wait4` reported it, not yet decoded. Only a
/// [`Waiter`] makes one; [`Waited::take`] turns it into a [`Stop`] or a death.
#[derive(Debug)]
pub struct Waited {
    tid: Tid,
    status: i32,
    /// The thread's system CPU time (µs) at the stop, from wait4's rusage.
    stime_us: u64,
    /// When it was collected (CLOCK_MONOTONIC ns).
    time: u64,
    _thread: NotSend,
}

/// What a wait status is, with the stop to resume when it is one.
#[derive(Debug)]
pub enum Event {
    Stopped(Stop, StopKind),
    Died(Tid, Termination),
    Other(Tid),
}

impl Waited {
    pub fn tid(&self) -> Tid {
        self.tid
    }
    pub fn time(&self) -> u64 {
        self.time
    }
    pub fn stime_us(&self) -> u64 {
        self.stime_us
    }
    /// Handled after a status collected at `time`: its record takes that
    /// time, so that record times stay monotonic.
    pub fn handled_after(&mut self, time: u64) {
        self.time = self.time.max(time);
    }
    /// Whether it is a stop (not a death).
    pub fn is_stop(&self) -> bool {
        matches!(decode(self.status), Report::Stopped(_))
    }
    /// Decodes it into the stop (or death) it reports.
    pub fn take(self) -> Event {
        match decode(self.status) {
            Report::Stopped(kind) => Event::Stopped(Stop::new(self.tid), kind),
            Report::Died(how) => Event::Died(self.tid, how),
            Report::Other => Event::Other(self.tid),
        }
    }
}

/// Why [`Waiter::wait`] returned no stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idle {
    /// A signal reached rec (the tick included).
    Interrupted,
    /// No tracee and no child is left (ECHILD), or wait4 failed otherwise.
    NoneLeft,
}

/// The wait: the next wait status, and then every pending one.
pub struct Waiter {
    /// How long to poll before sleeping (0: only sleep).
    spin_ns: u64,
    /// Poll whether or not a CPU is free (`--spin-always`).
    spin_always: bool,
    /// Whether a CPU is free, sampled on the way into a wait (None: taken
    /// as free).
    load: Option<CpuLoad>,
    /// The drain's last wait4 found nothing pending: it was the next
    /// wait's first poll, which need not be made again.
    polled: bool,
    _thread: NotSend,
}

impl Waiter {
    pub fn new(spin_ns: u64) -> Waiter {
        Waiter {
            spin_ns,
            spin_always: false,
            load: None,
            polled: false,
            _thread: PhantomData,
        }
    }

    /// See [`crate::engine::Engine::spin`].
    pub fn set_spin(&mut self, ns: u64, always: bool, load: Option<CpuLoad>) {
        self.spin_ns = ns;
        self.spin_always = always;
        self.load = load;
    }

    /// Whether every CPU rec may use was busy at the last sample (false
    /// without a sampler).
    #[inline]
    pub fn cpus_busy(&self) -> bool {
        self.load.as_ref().is_some_and(|l| !l.is_free())
    }

    /// Takes every wait status already pending (WNOHANG) into `batch`,
    /// after the one [`Waiter::wait`] returned was handled. `batch` is the
    /// caller's, reused: it only grows when more stops are pending at once
    /// than ever before.
    pub fn drain(&mut self, batch: &mut Vec<Waited>) {
        // Each call returns another stopped tracee (a reported stop is not
        // reported again until it is resumed), so this ends; None: nothing
        // pending.
        loop {
            match wait4(libc::WNOHANG) {
                Ok(Some(w)) => batch.push(w),
                Ok(None) => {
                    self.polled = true;
                    return;
                }
                Err(_) => return,
            }
        }
    }

    /// Waits for the next wait status of any tracee.
    ///
    /// A stop's round trip is dominated by two cross-CPU wake-ups: the
    /// tracer's when a tracee stops, the tracee's when it is resumed. A
    /// sleeping tracer's CPU goes idle, and waking an idle CPU (an IPI, and
    /// on a VM an exit to the hypervisor) costs more than the stop itself:
    /// on the 2-vCPU development VM a bare loop's round trip was 52 us, 6.6 us
    /// with tracer and tracee on one CPU. So the wait polls (WNOHANG)
    /// for up to `spin_ns`, yielding its CPU between polls, so that a tracee
    /// woken onto the tracer's CPU runs at once; only then does it sleep.
    /// But when every CPU rec may use has another task to run, the poll
    /// takes its CPU from a tracee: then rec sleeps at once (see `cpuload`).
    ///
    /// After a drain that found nothing pending, the first poll is skipped:
    /// the drain's last wait4 was it, a moment ago.
    pub fn wait(&mut self) -> Result<Waited, Idle> {
        // Sampled even when not polling: the writer's level follows it.
        let now = mono_ns();
        let free = self.load.as_mut().is_none_or(|l| l.cpu_free(now));
        let mut skip = std::mem::take(&mut self.polled);
        if self.spin_ns > 0 && (free || self.spin_always) {
            let start = now;
            loop {
                if !skip {
                    match wait4(libc::WNOHANG) {
                        Ok(Some(w)) => return Ok(w),
                        Ok(None) => {}
                        Err(_) => return Err(Idle::NoneLeft),
                    }
                }
                skip = false;
                if crate::signals::take_wake() {
                    return Err(Idle::Interrupted);
                }
                if mono_ns().wrapping_sub(start) >= self.spin_ns {
                    break;
                }
                // SAFETY: no arguments.
                unsafe { libc::sched_yield() };
            }
        }
        match wait4(0) {
            Ok(Some(w)) => Ok(w),
            Err(Errno(libc::EINTR)) => {
                // The signal is being handled: a later poll need not see it again.
                crate::signals::take_wake();
                Err(Idle::Interrupted)
            }
            _ => Err(Idle::NoneLeft),
        }
    }
}

/// `wait4(-1, __WALL | flags)`: a status, None for WNOHANG with nothing
/// pending, or the errno (taken at once: later calls overwrite it).
fn wait4(flags: libc::c_int) -> Result<Option<Waited>, Errno> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers to locals.
    let tid = unsafe { libc::wait4(-1, &mut status, libc::__WALL | flags, &mut ru) };
    if tid < 0 {
        return Err(Errno(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        ));
    }
    if tid == 0 {
        return Ok(None);
    }
    Ok(Some(Waited {
        tid,
        status,
        stime_us: ru.ru_stime.tv_sec as u64 * 1_000_000 + ru.ru_stime.tv_usec as u64,
        time: mono_ns(),
        _thread: PhantomData,
    }))
}

/// Seizes rec's own child `pid` (forked and waiting to exec the command)
/// with `options`, then interrupts it and waits for that stop, so that the
/// engine starts from a stop and sees every syscall of the child from
/// there, the exec of the command included.
pub fn seize_child(pid: Tid, options: libc::c_int) -> Result<Stop, String> {
    tracee::seize(pid, options)
        .map_err(|e| format!("cannot trace the command (PTRACE_SEIZE): {e}"))?;
    tracee::interrupt(pid).map_err(|e| format!("PTRACE_INTERRUPT: {e}"))?;
    let mut status = 0;
    // SAFETY: a valid pointer to a local.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
    match decode(status) {
        Report::Stopped(_) if r == pid => Ok(Stop::new(pid)),
        _ => Err(format!(
            "the command did not stop after PTRACE_INTERRUPT (wait status {status:#x})"
        )),
    }
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
