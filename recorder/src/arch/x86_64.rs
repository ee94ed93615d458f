//! x86_64: `struct user_regs_struct` snapshots and the syscalls whose exit
//! changes more than `rax`.
//!
//! Why exit registers can be derived from the entry snapshot plus `rax`:
//! the `syscall` instruction itself clobbers `rcx` (return rip) and `r11`
//! (rflags) before the kernel saves `pt_regs`, so the syscall-enter-stop
//! already shows them. Between the enter and exit stops the kernel writes
//! only `regs->ax` (the return value) for ordinary syscalls. Syscall restart
//! (rewinding rip, restoring rax from orig_rax) and signal-frame setup happen
//! in the exit-to-user signal path, which runs after the syscall-exit-stop,
//! so they never show at that stop. The exceptions are syscalls whose whole
//! purpose is to rewrite user registers: rt_sigreturn (every register),
//! execve/execveat (a new image; on success an exec event comes between),
//! arch_prctl (fs_base/gs_base), iopl (eflags), and the fork family, whose
//! exit in the parent is ordinary but which we fetch fully anyway because
//! they are rare and the child side is easy to get wrong. For those the
//! engine pays one full PTRACE_GETREGS.

use ptrec_format::{Regs, AUDIT_ARCH_X86_64, REG_COUNT, REG_LAYOUT_X86_64};
use syscalls::Sysno;

use crate::tracee::{ptrace, Errno};

/// `AUDIT_ARCH_*` that the seccomp filter sees for this architecture's
/// native syscalls (`struct seccomp_data.arch`).
pub const SECCOMP_AUDIT_ARCH: u32 = AUDIT_ARCH_X86_64;
/// x32 syscalls are the x86_64 entry with this bit set in the number.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// The page size of the tracees: memory reads are split at its boundaries.
pub const PAGE_SIZE: u64 = 4096;
/// A pointer in tracee memory (argv arrays, iovec and msghdr fields).
pub const PTR_SIZE: usize = 8;

/// `struct iovec` as the tracee lays it out.
pub mod iovec {
    pub const SIZE: usize = std::mem::size_of::<libc::iovec>();
    pub const BASE: usize = std::mem::offset_of!(libc::iovec, iov_base);
    pub const LEN: usize = std::mem::offset_of!(libc::iovec, iov_len);
}

/// `struct msghdr` as the tracee lays it out.
pub mod msghdr {
    pub const SIZE: usize = std::mem::size_of::<libc::msghdr>();
    pub const NAME: usize = std::mem::offset_of!(libc::msghdr, msg_name);
    /// A 32-bit `socklen_t`.
    pub const NAMELEN: usize = std::mem::offset_of!(libc::msghdr, msg_namelen);
    pub const IOV: usize = std::mem::offset_of!(libc::msghdr, msg_iov);
    pub const IOVLEN: usize = std::mem::offset_of!(libc::msghdr, msg_iovlen);
    pub const CONTROL: usize = std::mem::offset_of!(libc::msghdr, msg_control);
    pub const CONTROLLEN: usize = std::mem::offset_of!(libc::msghdr, msg_controllen);
}

/// `__USER_CS`: the code segment of 64-bit user code.
const USER_CS_64: u64 = 0x33;

/// Whether the thread runs 64-bit code, whose syscall numbers are this
/// table's; a 32-bit process uses the i386 numbers, which mean other syscalls.
#[inline]
pub fn is_native(regs: &Regs) -> bool {
    regs[ptrec_format::x86_64::CS] == USER_CS_64
}

/// Whether a snapshot taken at a syscall stop that per-thread state calls
/// an enter really is one (see [`ENTER_RAX`]).
#[inline]
pub fn looks_like_enter(regs: &Regs) -> bool {
    regs[ptrec_format::x86_64::RAX] == ENTER_RAX
}

/// `AUDIT_ARCH_*` of the tracees, for the trace header.
pub const AUDIT_ARCH: u32 = AUDIT_ARCH_X86_64;
/// The syscall ABI's description of this architecture (capture table).
pub const ABI: ptrec_abi::Arch = ptrec_abi::Arch::X86_64;
/// Register layout id of [`Regs`] snapshots, for the trace header.
pub const REG_LAYOUT: u32 = REG_LAYOUT_X86_64;

const _: () = assert!(std::mem::size_of::<libc::user_regs_struct>() == REG_COUNT * 8);

pub const SYS_EXECVE: u64 = Sysno::execve as u64;
pub const SYS_EXECVEAT: u64 = Sysno::execveat as u64;
pub const SYS_CLONE: u64 = Sysno::clone as u64;
pub const SYS_CLONE3: u64 = Sysno::clone3 as u64;
pub const SYS_FORK: u64 = Sysno::fork as u64;
pub const SYS_VFORK: u64 = Sysno::vfork as u64;
pub const SYS_RT_SIGRETURN: u64 = Sysno::rt_sigreturn as u64;

/// Where rt_sigreturn's signal mask is, from the stack pointer at its
/// entry: the handler's `ret` popped the restorer's address, so the stack
/// pointer is at the frame's struct ucontext, whose uc_sigmask follows
/// uc_flags, uc_link, uc_stack (8 + 8 + 24 bytes) and the 256-byte struct
/// sigcontext.
pub fn sigreturn_mask_addr(regs: &Regs) -> u64 {
    regs[ptrec_format::x86_64::RSP].wrapping_add(296)
}

/// `rax` at every syscall-enter-stop: the entry code stores -ENOSYS there
/// before the tracer is notified. Used only to detect a desynchronised
/// enter/exit state, never to decide enter versus exit on its own.
pub const ENTER_RAX: u64 = (-(libc::ENOSYS as i64)) as u64;

/// One PTRACE_GETREGS.
#[inline]
pub fn get_regs(tid: i32) -> Result<Regs, Errno> {
    let mut w = [0u64; REG_COUNT];
    // SAFETY: PTRACE_GETREGS writes exactly one `user_regs_struct` (27 u64,
    // asserted above) to `data`, which points to `w`.
    unsafe { ptrace(libc::PTRACE_GETREGS, tid, 0, w.as_mut_ptr() as usize) }?;
    Ok(Regs::x86_64(w))
}

/// One PTRACE_PEEKUSER of `rax`: the return value at a syscall-exit-stop.
#[inline]
pub fn peek_ret(tid: i32) -> Result<u64, Errno> {
    crate::tracee::peek_user(tid, ptrec_format::x86_64::RAX * 8)
}

/// Stores a return value into a snapshot.
#[inline]
pub fn set_ret(regs: &mut Regs, rax: u64) {
    regs[ptrec_format::x86_64::RAX] = rax;
}

/// Whether the syscall-exit-stop needs a full register fetch, because the
/// syscall may change registers other than `rax` (see the module docs).
/// A 32-bit process (code segment other than the 64-bit user one) uses the
/// i386 syscall table, where the numbers mean other syscalls: always fetched.
/// (An `int 0x80` from 64-bit code is not told apart here; it would need
/// PTRACE_GET_SYSCALL_INFO's arch field.)
#[inline]
pub fn exit_needs_full_regs(nr: u64, enter: &Regs) -> bool {
    !is_native(enter) || exit_needs_full_regs_nr(nr)
}

#[inline]
fn exit_needs_full_regs_nr(nr: u64) -> bool {
    const RT_SIGRETURN: u64 = Sysno::rt_sigreturn as u64;
    const ARCH_PRCTL: u64 = Sysno::arch_prctl as u64;
    const IOPL: u64 = Sysno::iopl as u64;
    matches!(
        nr,
        RT_SIGRETURN
            | SYS_EXECVE
            | SYS_EXECVEAT
            | ARCH_PRCTL
            | IOPL
            | SYS_CLONE
            | SYS_CLONE3
            | SYS_FORK
            | SYS_VFORK
    ) || nr > 1023
}

/// The clone flags a fork-family syscall implies, from its entry arguments.
/// `clone3` passes them in memory: `read_u64` reads `clone_args.flags`.
pub fn clone_flags(nr: u64, args: &[u64; 6], read_u64: impl FnOnce(u64) -> Option<u64>) -> u64 {
    match nr {
        SYS_CLONE => args[0],
        SYS_FORK => libc::SIGCHLD as u64,
        SYS_VFORK => (libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD) as u64,
        SYS_CLONE3 => read_u64(args[0]).unwrap_or(0),
        _ => 0,
    }
}

/// fork, vfork, clone or clone3.
#[inline]
pub fn is_fork_family(nr: u64) -> bool {
    matches!(nr, SYS_CLONE | SYS_CLONE3 | SYS_FORK | SYS_VFORK)
}

/// execve or execveat.
#[inline]
pub fn is_exec(nr: u64) -> bool {
    matches!(nr, SYS_EXECVE | SYS_EXECVEAT)
}

/// Where the path argument of an exec syscall is.
pub fn exec_path_arg(nr: u64, args: &[u64; 6]) -> Option<u64> {
    match nr {
        SYS_EXECVE => Some(args[0]),
        SYS_EXECVEAT => Some(args[1]),
        _ => None,
    }
}
