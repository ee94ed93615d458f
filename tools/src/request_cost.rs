//! request-cost: what one ptrace request costs, apart from any stop.
//!
//! `../shared/bench/percall.sh` prices a request as the difference between
//! two whole traced runs, so its figures carry the scheduling noise of the
//! stops around them (1.0-1.3 us for PEEKUSER and GETREGS on a host where
//! a round trip is 34 us). This tool holds one tracee at a syscall-exit-stop
//! and issues each request N times in a row: the request's own cost, with
//! the tracee already off its CPU.
//!
//! usage: request-cost [N]   (default 200000 calls per request, 3 rounds)

use std::time::Instant;

fn check(what: &str, r: libc::c_long) {
    if r < 0 {
        eprintln!("request-cost: {what}: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }
}

fn main() {
    let n: u32 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 200_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: request-cost [N]");
            std::process::exit(2);
        }
    };
    // SAFETY: fork in a single-threaded program; the child only calls
    // async-signal-safe functions (raise, syscall) and never returns.
    let child = unsafe { libc::fork() };
    check("fork", child as libc::c_long);
    if child == 0 {
        // SAFETY: raise and a getppid loop; the parent kills us.
        unsafe {
            libc::raise(libc::SIGSTOP);
            loop {
                libc::syscall(libc::SYS_getppid);
            }
        }
    }
    let mut status = 0;
    // SAFETY: plain calls on our own child, pointers to locals.
    unsafe {
        check(
            "waitpid",
            libc::waitpid(child, &mut status, libc::WSTOPPED) as libc::c_long,
        );
        check(
            "PTRACE_SEIZE",
            libc::ptrace(
                libc::PTRACE_SEIZE,
                child,
                0 as libc::c_long,
                libc::PTRACE_O_TRACESYSGOOD as libc::c_long,
            ),
        );
        libc::kill(child, libc::SIGCONT);
        // The SIGCONT-stop, then syscall stops: after an even number of
        // syscall stops the child sits at a syscall-exit-stop.
        for _ in 0..6 {
            check(
                "PTRACE_SYSCALL",
                libc::ptrace(
                    libc::PTRACE_SYSCALL,
                    child,
                    0 as libc::c_long,
                    0 as libc::c_long,
                ),
            );
            libc::waitpid(child, &mut status, libc::__WALL);
        }
    }
    let rax = (libc::RAX * 8) as libc::c_long;
    // SAFETY: zeroed is a valid value for these plain structs.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    let mut info = [0u8; 88];
    let mut word = [0u8; 8];
    // A word of the tracee's stack: what a capture read costs at least.
    // SAFETY: regs is a valid out-pointer.
    unsafe {
        check(
            "PTRACE_GETREGS",
            libc::ptrace(libc::PTRACE_GETREGS, child, 0 as libc::c_long, &mut regs),
        )
    };
    let remote = libc::iovec {
        iov_base: regs.rsp as *mut libc::c_void,
        iov_len: 8,
    };
    let local = libc::iovec {
        iov_base: word.as_mut_ptr().cast(),
        iov_len: 8,
    };
    println!("per call, {n} calls each, tracee at a syscall-exit-stop:");
    for round in 1..=3 {
        let time = |f: &mut dyn FnMut()| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_secs_f64() / f64::from(n) * 1e6
        };
        let peek = time(&mut || {
            // SAFETY: a request on our stopped tracee; no memory passed.
            unsafe { libc::ptrace(libc::PTRACE_PEEKUSER, child, rax, 0 as libc::c_long) };
        });
        // PTRACE_GET_SYSCALL_INFO (0x420e; not in every libc crate).
        let gsi = time(&mut || {
            // SAFETY: the kernel writes at most info.len() bytes.
            unsafe { libc::ptrace(0x420e, child, info.len() as libc::c_long, info.as_mut_ptr()) };
        });
        let getregs = time(&mut || {
            // SAFETY: regs is a user_regs_struct, what GETREGS writes.
            unsafe { libc::ptrace(libc::PTRACE_GETREGS, child, 0 as libc::c_long, &mut regs) };
        });
        let pvr = time(&mut || {
            // SAFETY: local describes our 8-byte buffer; the remote side is
            // the tracee's memory, checked by the kernel.
            unsafe { libc::process_vm_readv(child, &local, 1, &remote, 1, 0) };
        });
        println!(
            "round {round}: PEEKUSER {peek:.3} us  GET_SYSCALL_INFO {gsi:.3} us  GETREGS {getregs:.3} us  process_vm_readv(8 B) {pvr:.3} us"
        );
    }
    // SAFETY: our own child.
    unsafe {
        libc::kill(child, libc::SIGKILL);
        libc::waitpid(child, &mut status, 0);
    }
}
