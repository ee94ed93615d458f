//! rec's own signal handling: SIGINT/SIGTERM/SIGHUP sent to rec by `kill()`
//! are forwarded to the command; a SIGALRM tick ([`TICK`]) wakes the engine out of
//! `wait4` so it can flush the trace while the tracees are quiet.
//!
//! Handlers are installed without SA_RESTART so that a blocked `wait4`
//! returns EINTR. They only set atomics.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Bit N set: signal N was sent to rec by a process (si_code <= 0:
/// SI_USER, SI_QUEUE, SI_TKILL...) and must be forwarded to the command.
static FORWARD: AtomicU64 = AtomicU64::new(0);

/// Bit N set: signal N reached rec, from anyone (a terminal's Ctrl-C too).
/// With `-p` it means "detach".
static RECEIVED: AtomicU64 = AtomicU64::new(0);

/// Set by every handler: a signal came while the engine may have been
/// polling (see `take_wake`), not blocked in `wait4` where EINTR tells it.
static WAKE: AtomicBool = AtomicBool::new(false);

/// The period of the tick (SIGALRM): while no stop comes, the engine
/// flushes the trace and lets go of held new tracees this often.
pub const TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// The signals rec forwards.
pub const FORWARDED: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    if info.is_null() || !(0..64).contains(&sig) {
        return;
    }
    RECEIVED.fetch_or(1 << sig, Ordering::Relaxed);
    WAKE.store(true, Ordering::Relaxed);
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
    let code = unsafe { (*info).si_code };
    // A terminal-generated signal (SI_KERNEL) already went to the whole
    // foreground process group, the command included: forwarding it would
    // deliver it twice. Only a signal aimed at rec alone is passed on.
    if code <= 0 {
        FORWARD.fetch_or(1 << sig, Ordering::Relaxed);
    }
}

extern "C" fn on_alarm(_sig: libc::c_int) {
    WAKE.store(true, Ordering::Relaxed);
}

fn sigset(sigs: &[i32]) -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill a local sigset_t.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

const ALL: [i32; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGALRM];

/// Blocks rec's signals on the calling thread (and threads it spawns next),
/// returning the mask it had: until the handlers are installed a signal
/// must wait rather than kill rec with tracees seized, and the writer
/// thread must never take them, or `wait4` would not be interrupted.
pub fn block() -> libc::sigset_t {
    let set = sigset(&ALL);
    // SAFETY: sigset_t is plain data; a valid set and out-pointer.
    unsafe {
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
        old
    }
}

/// Unblocks them again on the calling thread.
pub fn unblock() {
    let set = sigset(&ALL);
    // SAFETY: as in `block`.
    unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
}

/// Installs the handlers and starts the 1 s tick.
pub fn install() -> std::io::Result<()> {
    for &sig in &FORWARDED {
        // SAFETY: a zeroed sigaction plus handler and flags is a valid argument;
        // the handler only touches an atomic.
        let r = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if r != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    // SAFETY: as above; the handler does nothing, its only effect is EINTR.
    let r = unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_alarm as *const () as usize;
        sa.sa_flags = 0;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut())
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let tick = libc::timeval {
        tv_sec: TICK.as_secs() as libc::time_t,
        tv_usec: TICK.subsec_micros() as libc::suseconds_t,
    };
    let it = libc::itimerval {
        it_interval: tick,
        it_value: tick,
    };
    // SAFETY: a valid itimerval; the old value is not needed.
    if unsafe { libc::setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Stops the tick (before rec exits or reports).
pub fn stop_tick() {
    let zero = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
    };
    // SAFETY: a valid itimerval.
    unsafe { libc::setitimer(libc::ITIMER_REAL, &zero, std::ptr::null_mut()) };
}

/// Signals to forward since the last call, as a bit mask (cheap when none).
#[inline]
pub fn take_forward() -> u64 {
    if FORWARD.load(Ordering::Relaxed) == 0 {
        0
    } else {
        FORWARD.swap(0, Ordering::Relaxed)
    }
}

/// Signals rec received since the last call (any sender), as a bit mask.
#[inline]
pub fn take_received() -> u64 {
    if RECEIVED.load(Ordering::Relaxed) == 0 {
        0
    } else {
        RECEIVED.swap(0, Ordering::Relaxed)
    }
}

/// Whether a signal (the tick included) came since the last call. The
/// engine's polling wait checks it, as a blocked `wait4` would have returned
/// EINTR.
#[inline]
pub fn take_wake() -> bool {
    WAKE.load(Ordering::Relaxed) && WAKE.swap(false, Ordering::Relaxed)
}
