//! `rec -p`: which tracees came from attached processes, and detaching
//! them. A thread being detached is interrupted, and its next stop, of
//! whatever kind, goes through the engine's one match as any stop does
//! (its record is written by the same code); only where the engine would
//! resume it, [`Engine::detach`] detaches it instead.
//!
//! ptrace(2): "If the tracee is running when the tracer wants to detach it,
//! the usual solution is to send ... PTRACE_INTERRUPT ..., wait for the
//! tracee to stop in appropriate stop and then detach it"; any stop will
//! do, and what it was decides the signal: a signal-delivery-stop's signal
//! is passed on (it was intercepted, not delivered yet). A group-stopped
//! thread is detached with no signal and stays stopped: the kernel puts it
//! back into the group-stop (`__ptrace_unlink` re-arms the stop while the
//! group is stopped). A thread that was sleeping in a syscall was woken by
//! the interrupt and restarts it after the detach.

use ptrec_format::{note_kind, Record, Tid};
use rustc_hash::FxHashSet;

use crate::engine::Engine;
use crate::stop::{Resume, Stop};
use crate::tracee::{self, mono_ns};

/// How long a `-p` detach waits for interrupted threads to stop. A thread
/// can be unable to stop for a while (a vfork parent waits, unkillable,
/// for its child); rec then exits and the kernel detaches it (ptrace(2):
/// "If the tracer dies, all tracees are automatically detached").
const DETACH_LIMIT_NS: u64 = 1_500_000_000;

/// `-p` bookkeeping: which tracees came from attached processes, and the
/// detach in progress.
#[derive(Default)]
pub(crate) struct AttachState {
    /// Traced threads of the attached processes and of their descendants.
    pub(crate) origin: FxHashSet<Tid>,
    /// Live threads of the `-p` processes themselves: when none is left,
    /// their remaining descendants are detached.
    pub(crate) p_threads: FxHashSet<Tid>,
    /// Interrupted for the detach, not stopped yet.
    pub(crate) pending: FxHashSet<Tid>,
    pub(crate) detaching: bool,
    /// When the detach began.
    since: u64,
    /// Threads that did not stop within DETACH_LIMIT_NS were left to the
    /// kernel's detach at rec's exit.
    gave_up: bool,
    /// A command was started too: it is recorded to its end, not detached.
    pub(crate) command: bool,
}

impl AttachState {
    /// `command`: a command is started too.
    pub(crate) fn new(command: bool) -> AttachState {
        AttachState {
            command,
            ..AttachState::default()
        }
    }
}

impl Engine {
    /// Whether the thread's next resume is a detach.
    #[inline]
    pub(crate) fn is_detaching(&self, tid: Tid) -> bool {
        self.attach
            .as_ref()
            .is_some_and(|a| a.detaching && a.pending.contains(&tid))
    }

    /// `rec -p` alone is detaching everything: a new tracee is detached at
    /// its first stop.
    pub(crate) fn detaching_all(&self) -> bool {
        self.attach
            .as_ref()
            .is_some_and(|a| a.detaching && !a.command)
    }

    /// Detaches a stopped thread where it would have been resumed with
    /// `how`: the signal it would have been given is passed on; a thread
    /// that would listen (group-stopped) stays stopped. Its Detach record
    /// follows the stop's own (see `Engine::on_stop`).
    pub(crate) fn detach(&mut self, stop: Stop, how: Resume) {
        let tid = stop.tid();
        let (state, sig) = match how {
            Resume::Syscall(sig) | Resume::Cont(sig) => (b'R', sig),
            Resume::Listen => (b'T', 0),
        };
        // ESRCH: killed meanwhile; then the kernel has detached it.
        let _ = stop.detach(sig);
        self.threads.remove(&tid);
        if let Some(a) = self.attach.as_deref_mut() {
            a.pending.remove(&tid);
            a.origin.remove(&tid);
            a.p_threads.remove(&tid);
        }
        self.detached = Some((tid, state, sig));
    }

    pub(crate) fn detached_record(&mut self, (tid, state, signo): (Tid, u8, i32), time: u64) {
        self.sink.emit(&Record::Detach {
            tid,
            time,
            state,
            signo,
        });
    }

    /// A new child of `parent` (`-p` bookkeeping): a descendant of an
    /// attached process is attached too (and detached at its first stop
    /// while detaching), and a new thread of a `-p` process is one of its
    /// threads. When the clone's flags are unknown, /proc tells.
    pub(crate) fn attached_child(&mut self, parent: Tid, child: Tid, flags: u64) {
        let Some(a) = self.attach.as_deref_mut() else {
            return;
        };
        if !a.origin.contains(&parent) {
            return;
        }
        a.origin.insert(child);
        if a.detaching {
            a.pending.insert(child);
        }
        if a.p_threads.contains(&parent) {
            let thread = if flags != 0 {
                flags & libc::CLONE_THREAD as u64 != 0
            } else {
                crate::attach::tgid_of(child).is_some_and(|tgid| tgid != child)
            };
            if thread {
                a.p_threads.insert(child);
            }
        }
    }

    /// An exec from a non-leader thread renamed `former` to `tid`.
    pub(crate) fn detach_renamed(&mut self, former: Tid, tid: Tid) {
        if let Some(a) = self.attach.as_deref_mut() {
            for set in [&mut a.p_threads, &mut a.origin, &mut a.pending] {
                if set.remove(&former) {
                    set.insert(tid);
                }
            }
        }
    }

    /// A traced thread died: with `-p`, when no thread of the `-p`
    /// processes is left, their descendants are detached.
    pub(crate) fn detach_on_death(&mut self, tid: Tid) {
        if let Some(a) = self.attach.as_deref_mut() {
            a.origin.remove(&tid);
            a.pending.remove(&tid);
            if a.p_threads.remove(&tid) && a.p_threads.is_empty() {
                self.begin_detach(b"every -p process has exited");
            }
        }
    }

    /// Starts detaching every attached thread: each is interrupted and
    /// detached at its next stop. A started command is not detached.
    pub(crate) fn begin_detach(&mut self, why: &[u8]) {
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
            if tracee::interrupt(tid).is_ok() {
                a.pending.insert(tid);
            }
        }
        let command = a.command;
        self.note(0, mono_ns(), note_kind::INFO, 0, why);
        if !command {
            // New threads held for their parent's event are stopped
            // already: detach them now.
            for h in std::mem::take(&mut self.held) {
                let tid = h.stop.tid();
                let tgid = crate::attach::tgid_of(tid).unwrap_or(tid);
                self.threads.insert(tid, crate::engine::Thread::new(tgid));
                if let Some(a) = self.attach.as_deref_mut() {
                    a.origin.insert(tid);
                    a.pending.insert(tid);
                }
                self.on_held_stop(h);
            }
        }
    }

    /// `rec -p` alone: the detach is over when every interrupted thread was
    /// detached (a zombie leader, or a thread that could not stop in time,
    /// is left to the kernel's detach at rec's exit).
    #[inline]
    pub(crate) fn detach_done(&self) -> bool {
        self.attach
            .as_ref()
            .is_some_and(|a| a.detaching && !a.command && (a.pending.is_empty() || a.gave_up))
    }

    /// Gives up on threads that do not stop (see DETACH_LIMIT_NS).
    pub(crate) fn check_detach_limit(&mut self, now: u64) {
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
            self.note(
                tid,
                now,
                note_kind::INFO,
                state as u64,
                b"did not stop to be detached (a vfork parent waiting for its child?): the kernel detaches it when rec exits",
            );
        }
    }
}
