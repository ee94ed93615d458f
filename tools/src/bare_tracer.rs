//! bare-tracer: the minimal ptrace loop that follows a whole process tree and
//! does nothing else. It is the floor `rec` is measured against: same attach
//! options as rec (including TRACEEXIT, so both see the same stops), one
//! PTRACE_SYSCALL per stop, no per-stop allocation, formatting or bookkeeping.
//!
//! usage: bare-tracer [-s] [--spin-us N] -- COMMAND [ARGS...]
//!   -s            print stop counts to stderr at the end (by kind: syscall, each event, group-stop, signal; tids reaped; request errors)
//!   --spin-us N   poll (WNOHANG, sched_yield between polls) for up to N us
//!                 before sleeping in waitpid, as `rec --spin-us N` does: the
//!                 floor for rec's own polling wait (default 0: always sleep)
//!
//! Group-stops are resumed with PTRACE_LISTEN, every other signal is injected,
//! ESRCH (tracee killed under us) is counted and ignored. It waits until every
//! tracee is gone and exits with the command's status (128+N if killed by N).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

/// Plain counters, a few increments per stop; printed with `-s`.
#[derive(Default)]
struct Stats {
    stops: u64,
    sc_stops: u64,
    ev: [u64; 8],
    ev_stop_grp: u64,
    ev_stop_other: u64,
    sig_stops: u64,
    deaths: u64,
    esrch: u64,
    other_err: u64,
}

fn usage() -> ! {
    eprintln!("usage: bare-tracer [-s] [--spin-us N] -- COMMAND [ARGS...]");
    std::process::exit(2);
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[inline]
fn restart(req: libc::c_uint, pid: libc::pid_t, sig: libc::c_long, st: &mut Stats) {
    // SAFETY: a resume request on a tid we were just told is stopped; the
    // addr/data arguments are plain integers, no memory is passed.
    let r = unsafe { libc::ptrace(req, pid, 0 as libc::c_long, sig) };
    if r < 0 {
        // ESRCH: the tracee was killed (SIGKILL, exit_group from another
        // thread) between the stop report and our request: a normal event.
        if errno() == libc::ESRCH {
            st.esrch += 1;
        } else {
            st.other_err += 1;
        }
    }
}

/// waitpid(-1, __WALL), after polling for up to `spin_ns`.
#[inline]
fn wait(status: &mut i32, spin_ns: u64) -> libc::pid_t {
    if spin_ns > 0 {
        let start = std::time::Instant::now();
        loop {
            // SAFETY: status is a valid out-pointer.
            let pid = unsafe { libc::waitpid(-1, status, libc::__WALL | libc::WNOHANG) };
            if pid != 0 {
                return pid;
            }
            if start.elapsed().as_nanos() >= u128::from(spin_ns) {
                break;
            }
            // SAFETY: no arguments.
            unsafe { libc::sched_yield() };
        }
    }
    // SAFETY: status is a valid out-pointer.
    unsafe { libc::waitpid(-1, status, libc::__WALL) }
}

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let mut stats = false;
    let mut spin_ns: u64 = 0;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_bytes() {
            b"-s" => stats = true,
            b"--spin-us" => {
                i += 1;
                spin_ns = match args.get(i).and_then(|a| a.to_str()?.parse::<u64>().ok()) {
                    Some(us) => us * 1000,
                    None => usage(),
                };
            }
            b"--" => {
                i += 1;
                break;
            }
            b"-h" | b"--help" => usage(),
            a if a.starts_with(b"-") => usage(),
            _ => break,
        }
        i += 1;
    }
    if i >= args.len() {
        usage();
    }
    // Everything the child needs is built before fork: the child only reads,
    // execs, or _exits.
    let cmd: Vec<CString> = match args[i..]
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
    {
        Ok(v) => v,
        Err(_) => {
            eprintln!("bare-tracer: argument contains a NUL byte");
            std::process::exit(2);
        }
    };
    let mut argv: Vec<*const libc::c_char> = cmd.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());
    let cant_run = b"bare-tracer: cannot run the command\n";

    let mut pfd = [0i32; 2];
    // SAFETY: pfd is a valid 2-int array.
    if unsafe { libc::pipe2(pfd.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        eprintln!("bare-tracer: pipe2: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }
    // SAFETY: single-threaded at this point; the child calls only
    // async-signal-safe functions (close, read, execvp, write, _exit).
    let root = unsafe { libc::fork() };
    if root < 0 {
        eprintln!("bare-tracer: fork: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }
    if root == 0 {
        // The child waits on the pipe until it is seized, so nothing it does
        // before execve escapes the tracer.
        // SAFETY: fds from pipe2 above; the byte buffer is a local; argv is a
        // NULL-terminated array of pointers into `cmd`, alive in this process.
        unsafe {
            libc::close(pfd[1]);
            let mut c = 0u8;
            while libc::read(pfd[0], (&mut c as *mut u8).cast(), 1) < 0
                && *libc::__errno_location() == libc::EINTR
            {}
            libc::execvp(argv[0], argv.as_ptr());
            libc::write(2, cant_run.as_ptr().cast(), cant_run.len());
            libc::_exit(127);
        }
    }
    // SAFETY: closing our copy of the read end, which we own.
    unsafe { libc::close(pfd[0]) };
    let opts: libc::c_long = (libc::PTRACE_O_TRACESYSGOOD
        | libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEEXEC
        | libc::PTRACE_O_TRACEEXIT
        | libc::PTRACE_O_EXITKILL) as libc::c_long;
    // SAFETY: seize and interrupt our own child; integer arguments only.
    let seized = unsafe {
        libc::ptrace(libc::PTRACE_SEIZE, root, 0 as libc::c_long, opts) == 0
            && libc::ptrace(
                libc::PTRACE_INTERRUPT,
                root,
                0 as libc::c_long,
                0 as libc::c_long,
            ) == 0
    };
    if !seized {
        eprintln!(
            "bare-tracer: PTRACE_SEIZE: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: killing our own child.
        unsafe { libc::kill(root, libc::SIGKILL) };
        std::process::exit(1);
    }

    let mut st = Stats::default();
    let mut released = false;
    let mut root_status: Option<i32> = None;
    loop {
        let mut status = 0i32;
        let pid = wait(&mut status, spin_ns);
        if pid < 0 {
            match errno() {
                libc::EINTR => continue,
                libc::ECHILD => break,
                _ => {
                    eprintln!("bare-tracer: waitpid: {}", std::io::Error::last_os_error());
                    std::process::exit(1);
                }
            }
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            st.deaths += 1;
            if pid == root {
                root_status = Some(status);
            }
            continue;
        }
        if !libc::WIFSTOPPED(status) {
            continue;
        }
        st.stops += 1;
        let sig = libc::WSTOPSIG(status);
        let event = ((status as u32) >> 16) as i32;
        if sig == (libc::SIGTRAP | 0x80) {
            st.sc_stops += 1;
            restart(libc::PTRACE_SYSCALL, pid, 0, &mut st);
            continue;
        }
        if event != 0 {
            if event == libc::PTRACE_EVENT_STOP {
                if matches!(
                    sig,
                    libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
                ) {
                    // group-stop: stay stopped until SIGCONT, but keep
                    // reporting (LISTEN, not SYSCALL which would resume it)
                    st.ev_stop_grp += 1;
                    restart(libc::PTRACE_LISTEN, pid, 0, &mut st);
                } else {
                    // a new tracee's first stop, our INTERRUPT, or a LISTEN wakeup
                    st.ev_stop_other += 1;
                    restart(libc::PTRACE_SYSCALL, pid, 0, &mut st);
                    if !released && pid == root {
                        released = true;
                        // SAFETY: closing the write end we own releases the child.
                        unsafe { libc::close(pfd[1]) };
                    }
                }
            } else {
                if let Some(n) = st.ev.get_mut(event as usize) {
                    *n += 1;
                }
                restart(libc::PTRACE_SYSCALL, pid, 0, &mut st);
            }
            continue;
        }
        // signal-delivery-stop: inject the signal
        st.sig_stops += 1;
        restart(libc::PTRACE_SYSCALL, pid, sig as libc::c_long, &mut st);
    }

    if stats {
        eprintln!(
            "bare-tracer: stops={} syscall_stops={} fork={} vfork={} clone={} exec={} \
             vfork_done={} exit_ev={} group_stops={} other_event_stops={} signal_stops={} \
             tids_reaped={} esrch={} other_errors={}",
            st.stops,
            st.sc_stops,
            st.ev[libc::PTRACE_EVENT_FORK as usize],
            st.ev[libc::PTRACE_EVENT_VFORK as usize],
            st.ev[libc::PTRACE_EVENT_CLONE as usize],
            st.ev[libc::PTRACE_EVENT_EXEC as usize],
            st.ev[libc::PTRACE_EVENT_VFORK_DONE as usize],
            st.ev[libc::PTRACE_EVENT_EXIT as usize],
            st.ev_stop_grp,
            st.ev_stop_other,
            st.sig_stops,
            st.deaths,
            st.esrch,
            st.other_err
        );
    }
    let code = match root_status {
        Some(s) if libc::WIFEXITED(s) => libc::WEXITSTATUS(s),
        Some(s) if libc::WIFSIGNALED(s) => 128 + libc::WTERMSIG(s),
        _ => 1,
    };
    std::process::exit(code);
}
