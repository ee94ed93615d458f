//! What rec captures: per syscall, which arguments point to memory, how
//! much of it to read, and when (entry or exit). The decoders
//! ([`crate::decode`]) show what this table says is captured.
//!
//! The list is written once, keyed by a syscall's identity (x86_64's
//! `Sysno`, [`Arch::sysno`]), with each architecture's struct sizes; each
//! architecture's table is a static array built from it at compile time,
//! indexed by that architecture's syscall number, so a lookup
//! ([`Arch::capture_sig`]) is one bounds check and one load.
//! A syscall not in the table gets no captures (its registers are recorded).
//! Where what an argument points to depends on another argument (fcntl's
//! command, ioctl's request, prctl's option), the entry is an [`Arg::If`]
//! that [`capture_for`] resolves with the call's arguments.
//!
//! ## The `Mem::arg` convention
//! - `0..=5`: the memory the argument register with that index points to.
//! - `8 + i`: memory reached through a pointer *inside* the capture of
//!   argument `i`: the strings of an argv/envp array (execve: 9 = argv
//!   elements, 10 = envp elements, in order), the buffers of an iovec array
//!   (readv/writev/preadv/pwritev: 9, in iovec order), and what a msghdr
//!   points to (sendmsg/recvmsg: 9 = msg_name, its iovec array, each iov
//!   buffer, then msg_control; the iovec array itself, at the msghdr's msg_iov address).
//!   `addr` is the tracee address of that element's memory,
//!   which tells which element of the parent capture it is.
//! - `6`: memory found from the stack pointer (rt_sigreturn's mask).
//! - [`ARG_FD_NAME`] (7): not memory but what `/proc/TID/fd/FD` named a
//!   descriptor the call made, read at its exit ([`Arch::made_fds`]).
//! - [`ARG_FD_DETAIL`] (32): not memory but what strace's `-yy` adds for a
//!   descriptor, read at the exit of a call that made it or re-addressed it.

use syscalls::x86_64::Sysno;

use crate::Arch;

/// Whether `ret` says the call was interrupted to be restarted
/// (-ERESTARTSYS..-ERESTART_RESTARTBLOCK): what [`Arg::OutRestart`] reads
/// then, and only then.
#[inline]
pub fn interrupted_to_restart(ret: i64) -> bool {
    (-516..=-512).contains(&ret)
}

/// The capture `arg` of a descriptor's name: at the exit of a call that
/// made descriptors ([`Arch::made_fds`]), one capture per descriptor, `addr`
/// the descriptor, the bytes what `readlink("/proc/TID/fd/FD")` gave (a
/// path with every symbolic link resolved, `pipe:[N]`, `socket:[N]`,
/// `anon_inode:[eventfd]`): what strace's `-y` shows, which the call's
/// arguments alone do not tell (a path through a symbolic link, an inode).
/// After chdir and fchdir, `addr` is `AT_FDCWD` (-100) and the bytes what
/// `/proc/TID/cwd` names: the working directory, its links resolved.
pub const ARG_FD_NAME: u8 = 7;

/// The capture `arg` of what `rec -yy` asked the kernel about a
/// descriptor, beyond its /proc name: `addr` the descriptor, the bytes
/// text as strace's `-yy` shows it. For a device, its type and numbers
/// (`char 1:3`), which follow its path; for a socket, its name in place
/// of /proc's `socket:[N]`: the protocol, then the inode, a UNIX socket's
/// peer inode and bound path (`UNIX-STREAM:[7940->7941]`,
/// `UNIX-STREAM:[7942,"/tmp/s"]`), or an IP socket's endpoints once bound
/// (`TCP:[127.0.0.1:39928->127.0.0.1:9]`). Read at the exit of each call
/// that made descriptors ([`Arch::made_fds`]) and of each connect and
/// bind (argument 0, [`Arch::readdresses_fd`]), as they are then; absent
/// for what has nothing to add (a regular file, a pipe).
pub const ARG_FD_DETAIL: u8 = 32;

/// Where the descriptors a successful call made are, for [`ARG_FD_NAME`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MadeFds {
    /// None, or a copy of one the caller had (dup's, whose name is the old
    /// descriptor's).
    None,
    /// The return value.
    Ret,
    /// The two `int`s argument `i` points to (pipe, pipe2, socketpair),
    /// as captured at the exit.
    Pair(u8),
    /// No descriptor, but a new working directory (chdir, fchdir).
    Cwd,
}

/// How one argument's memory is captured.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arg {
    /// Not a pointer we read.
    None,
    /// NUL-terminated path, read whole up to PATH_MAX, at entry.
    Path,
    /// NUL-terminated string, up to `-s`, at entry.
    Str,
    /// Input buffer, length in argument `n`, at entry, cut at `-s`.
    InBuf(u8),
    /// A struct whose size the caller passes in argument `n` (clone3's
    /// clone_args, which grows with the kernel), at entry, whole up to
    /// [`STRUCT_MAX`] bytes: not cut at `-s`, strace shows every field.
    InSized(u8),
    /// Output buffer, length = return value, at exit, cut at `-s`.
    OutRet,
    /// Output records, length = return value, at exit, whole up to
    /// [`RECORDS_MAX`] bytes (not cut at `-s`: what they count is shown,
    /// getdents' `/* 207 entries */`).
    OutRecords,
    /// Fixed-size struct read at entry.
    In(u16),
    /// Fixed-size struct read at exit when the call succeeded.
    Out(u16),
    /// Fixed-size struct read at exit when the call was interrupted to be
    /// restarted (ERESTARTSYS..ERESTART_RESTARTBLOCK): nanosleep's
    /// remaining time, which strace shows only then.
    OutRestart(u16),
    /// Fixed-size struct read at entry and again at exit.
    InOut(u16),
    /// Array of `size`-byte elements, count in argument `n`, at entry.
    InArray(u16, u8),
    /// Array of `size`-byte elements, count in argument `n`, at entry and exit.
    InOutArray(u16, u8),
    /// Array of `size`-byte elements, count = return value, at exit.
    OutArrayRet(u16),
    /// NULL-terminated array of string pointers (argv, envp), at entry.
    StrArray,
    /// iovec array, count in argument `n`, buffers read at entry.
    IovIn(u8),
    /// iovec array, count in argument `n`, buffers filled up to `ret` at exit.
    IovOut(u8),
    /// struct msghdr with its name, iov buffers and control, at entry.
    MsgIn,
    /// struct msghdr with its name, iov buffers (up to `ret`) and control, at exit.
    MsgOut,
    /// sockaddr whose length is argument `n`, at entry.
    SockaddrIn(u8),
    /// sockaddr whose length is in the socklen_t argument `n` points to, at exit.
    SockaddrOut(u8),
    /// pselect6's `{const sigset_t *ss; size_t ss_len}` at entry, and the
    /// set it points to (arg 8 + i, at most 128 bytes).
    SigmaskPair,
    /// Decided by another argument's value (see [`Cond`]).
    If(&'static Cond),
}

/// An argument captured as `cases` says for the value of argument `arg`
/// (its low 32 bits: the selectors are all `int`s); not at all for a value
/// not listed.
#[derive(PartialEq, Eq, Debug)]
pub struct Cond {
    pub arg: u8,
    pub cases: &'static [(u32, Arg)],
}

/// One syscall's arguments.
pub type Sig = [Arg; 6];

const N: Arg = Arg::None;
const NONE: Sig = [N; 6];

#[allow(clippy::too_many_arguments)]
const fn s(a: Arg, b: Arg, c: Arg, d: Arg, e: Arg, f: Arg) -> Sig {
    [a, b, c, d, e, f]
}

use Arg::*;

/// The signatures of one architecture, with its struct sizes: `mod $m`
/// holds its `LIST`, keyed by a syscall's identity ([`Arch::sysno`]).
macro_rules! signatures {
    ($m:ident, $layout:expr) => {
        mod $m {
            use super::*;
            const L: crate::layout::Layout = $layout;
            // Kernel struct sizes of the architecture.
            const STAT: u16 = L.stat.size as u16;
            const STATX: u16 = L.statx.size as u16;
            const STATFS: u16 = L.statfs.size as u16;
            const TIMESPEC: u16 = L.timespec.size as u16;
            const TIMEVAL: u16 = L.timeval.size as u16;
            const ITIMERSPEC: u16 = L.itimerspec.size as u16;
            const ITIMERVAL: u16 = L.itimerval.size as u16;
            const RLIMIT: u16 = L.rlimit.size as u16;
            const RUSAGE: u16 = L.rusage.size as u16;
            /// struct kernel_sigaction: handler, flags, restorer, 8-byte mask.
            const SIGACTION: u16 = L.sigaction.size as u16;
            const SIGSET: u16 = L.kernel_sigset as u16;
            const STACK_T: u16 = L.stack_t.size as u16;
            const UTSNAME: u16 = L.utsname.size as u16;
            const SYSINFO: u16 = L.sysinfo.size as u16;
            const POLLFD: u16 = L.pollfd.size as u16;
            /// struct epoll_event (packed on x86_64: 12 bytes; 16 on aarch64).
            const EPOLL_EVENT: u16 = L.epoll_event.size as u16;
            const INT: u16 = 4;
            const U64: u16 = 8;
            const FDS2: u16 = 8;
            const TMS: u16 = L.tms.size as u16;
            const SIGINFO: u16 = L.siginfo.size as u16;
            const TIMEZONE: u16 = L.timezone.size as u16;
            const FUTEX_WAITV: u16 = L.futex_waitv.size as u16;
            const SCHED_PARAM: u16 = L.sched_param.size as u16;
            const CPU_SET: u16 = 128;
            const RSEQ: u16 = L.rseq.size as u16;
            const ROBUST_HEAD: u16 = L.robust_list_head.size as u16;
            const OPEN_HOW: u16 = L.open_how.size as u16;
            const MMSGHDR: u16 = L.mmsghdr.size as u16;
            const SEMBUF: u16 = L.sembuf.size as u16;
            const FLOCK: u16 = L.flock.size as u16;
            const TERMIOS: u16 = L.termios.size as u16;
            const WINSIZE: u16 = L.winsize.size as u16;
            /// The bytes of a task's name (TASK_COMM_LEN), as prctl(PR_GET_NAME) fills them.
            const TASK_COMM: u16 = 16;

            /// prctl(2)'s second argument, by option: PR_SET_NAME's string,
            /// PR_GET_NAME's buffer, the ints PR_GET_PDEATHSIG and
            /// PR_GET_CHILD_SUBREAPER write.
            static PRCTL_ARG1: Cond = Cond {
                arg: 0,
                cases: &[
                    (15, Str),
                    (16, Out(TASK_COMM)),
                    (2, Out(INT)),
                    (37, Out(INT)),
                ],
            };

            /// fcntl(2)'s third argument, by command: the struct flock of the lock
            /// commands (F_GETLK, F_SETLK, F_SETLKW, and the F_OFD_ ones).
            static FCNTL_ARG2: Cond = Cond {
                arg: 1,
                cases: &[
                    (5, InOut(FLOCK)),
                    (6, In(FLOCK)),
                    (7, In(FLOCK)),
                    (36, InOut(FLOCK)),
                    (37, In(FLOCK)),
                    (38, In(FLOCK)),
                ],
            };

            /// ioctl(2)'s third argument, for the terminal and file requests strace
            /// decodes: TCGETS/TCSETS*, TIOCGWINSZ/TIOCSWINSZ, TIOCGPGRP/TIOCSPGRP,
            /// FIONREAD, FIONBIO.
            static IOCTL_ARG2: Cond = Cond {
                arg: 1,
                cases: &[
                    (0x5401, Out(TERMIOS)),
                    (0x5402, In(TERMIOS)),
                    (0x5403, In(TERMIOS)),
                    (0x5404, In(TERMIOS)),
                    (0x5413, Out(WINSIZE)),
                    (0x5414, In(WINSIZE)),
                    (0x540f, Out(INT)),
                    (0x5410, In(INT)),
                    (0x541b, Out(INT)),
                    (0x5421, In(INT)),
                ],
            };

            /// futex(2)'s fourth argument is a timeout only for the waiting
            /// operations (WAIT, LOCK_PI, WAIT_BITSET, WAIT_REQUEUE_PI, LOCK_PI2, with
            /// or without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME); the others
            /// pass a number there.
            static FUTEX_ARG3: Cond = Cond {
                arg: 1,
                cases: &futex_waits(),
            };

            const fn futex_waits() -> [(u32, Arg); 20] {
                let cmds = [0, 6, 9, 11, 13];
                let flags = [0, 128, 256, 384];
                let mut out = [(0, Arg::None); 20];
                let mut i = 0;
                while i < 20 {
                    out[i] = (cmds[i / 4] | flags[i % 4], In(TIMESPEC));
                    i += 1;
                }
                out
            }

            /// (syscall, signature) pairs; the table below is built from them.
            pub(super) const LIST: &[(Sysno, Sig)] = &[
                (Sysno::read, s(N, OutRet, N, N, N, N)),
                (Sysno::write, s(N, InBuf(2), N, N, N, N)),
                (Sysno::pread64, s(N, OutRet, N, N, N, N)),
                (Sysno::pwrite64, s(N, InBuf(2), N, N, N, N)),
                (Sysno::readv, s(N, IovOut(2), N, N, N, N)),
                (Sysno::writev, s(N, IovIn(2), N, N, N, N)),
                (Sysno::preadv, s(N, IovOut(2), N, N, N, N)),
                (Sysno::pwritev, s(N, IovIn(2), N, N, N, N)),
                (Sysno::preadv2, s(N, IovOut(2), N, N, N, N)),
                (Sysno::pwritev2, s(N, IovIn(2), N, N, N, N)),
                (Sysno::open, s(Path, N, N, N, N, N)),
                (Sysno::openat, s(N, Path, N, N, N, N)),
                (Sysno::openat2, s(N, Path, In(OPEN_HOW), N, N, N)),
                (Sysno::creat, s(Path, N, N, N, N, N)),
                (Sysno::stat, s(Path, Out(STAT), N, N, N, N)),
                (Sysno::lstat, s(Path, Out(STAT), N, N, N, N)),
                (Sysno::fstat, s(N, Out(STAT), N, N, N, N)),
                (Sysno::newfstatat, s(N, Path, Out(STAT), N, N, N)),
                (Sysno::statx, s(N, Path, N, N, Out(STATX), N)),
                (Sysno::statfs, s(Path, Out(STATFS), N, N, N, N)),
                (Sysno::fstatfs, s(N, Out(STATFS), N, N, N, N)),
                (Sysno::access, s(Path, N, N, N, N, N)),
                (Sysno::faccessat, s(N, Path, N, N, N, N)),
                (Sysno::faccessat2, s(N, Path, N, N, N, N)),
                (Sysno::readlink, s(Path, OutRet, N, N, N, N)),
                (Sysno::readlinkat, s(N, Path, OutRet, N, N, N)),
                (Sysno::getcwd, s(OutRet, N, N, N, N, N)),
                (Sysno::chdir, s(Path, N, N, N, N, N)),
                (Sysno::chroot, s(Path, N, N, N, N, N)),
                (Sysno::mkdir, s(Path, N, N, N, N, N)),
                (Sysno::mkdirat, s(N, Path, N, N, N, N)),
                (Sysno::rmdir, s(Path, N, N, N, N, N)),
                (Sysno::unlink, s(Path, N, N, N, N, N)),
                (Sysno::unlinkat, s(N, Path, N, N, N, N)),
                (Sysno::rename, s(Path, Path, N, N, N, N)),
                (Sysno::renameat, s(N, Path, N, Path, N, N)),
                (Sysno::renameat2, s(N, Path, N, Path, N, N)),
                (Sysno::link, s(Path, Path, N, N, N, N)),
                (Sysno::linkat, s(N, Path, N, Path, N, N)),
                (Sysno::symlink, s(Path, Path, N, N, N, N)),
                (Sysno::symlinkat, s(Path, N, Path, N, N, N)),
                (Sysno::chmod, s(Path, N, N, N, N, N)),
                (Sysno::fchmodat, s(N, Path, N, N, N, N)),
                (Sysno::chown, s(Path, N, N, N, N, N)),
                (Sysno::lchown, s(Path, N, N, N, N, N)),
                (Sysno::fchownat, s(N, Path, N, N, N, N)),
                (Sysno::truncate, s(Path, N, N, N, N, N)),
                (Sysno::utimensat, s(N, Path, In(2 * TIMESPEC), N, N, N)),
                (Sysno::mknod, s(Path, N, N, N, N, N)),
                (Sysno::mknodat, s(N, Path, N, N, N, N)),
                (Sysno::getdents64, s(N, OutRecords, N, N, N, N)),
                (Sysno::getdents, s(N, OutRecords, N, N, N, N)),
                (Sysno::execve, s(Path, StrArray, StrArray, N, N, N)),
                (Sysno::execveat, s(N, Path, StrArray, StrArray, N, N)),
                (Sysno::getxattr, s(Path, Str, OutRet, N, N, N)),
                (Sysno::lgetxattr, s(Path, Str, OutRet, N, N, N)),
                (Sysno::fgetxattr, s(N, Str, OutRet, N, N, N)),
                (Sysno::setxattr, s(Path, Str, InBuf(3), N, N, N)),
                (Sysno::lsetxattr, s(Path, Str, InBuf(3), N, N, N)),
                (Sysno::fsetxattr, s(N, Str, InBuf(3), N, N, N)),
                (Sysno::listxattr, s(Path, OutRet, N, N, N, N)),
                (Sysno::llistxattr, s(Path, OutRet, N, N, N, N)),
                (Sysno::removexattr, s(Path, Str, N, N, N, N)),
                (Sysno::lremovexattr, s(Path, Str, N, N, N, N)),
                (Sysno::fremovexattr, s(N, Str, N, N, N, N)),
                (Sysno::inotify_add_watch, s(N, Path, N, N, N, N)),
                (Sysno::mount, s(Path, Path, Str, N, N, N)),
                (Sysno::umount2, s(Path, N, N, N, N, N)),
                (Sysno::pipe, s(Out(FDS2), N, N, N, N, N)),
                (Sysno::pipe2, s(Out(FDS2), N, N, N, N, N)),
                (Sysno::socketpair, s(N, N, N, Out(FDS2), N, N)),
                (Sysno::bind, s(N, SockaddrIn(2), N, N, N, N)),
                (Sysno::connect, s(N, SockaddrIn(2), N, N, N, N)),
                (Sysno::accept, s(N, SockaddrOut(2), InOut(INT), N, N, N)),
                (Sysno::accept4, s(N, SockaddrOut(2), InOut(INT), N, N, N)),
                (
                    Sysno::getsockname,
                    s(N, SockaddrOut(2), InOut(INT), N, N, N),
                ),
                (
                    Sysno::getpeername,
                    s(N, SockaddrOut(2), InOut(INT), N, N, N),
                ),
                (Sysno::sendto, s(N, InBuf(2), N, N, SockaddrIn(5), N)),
                (
                    Sysno::recvfrom,
                    s(N, OutRet, N, N, SockaddrOut(5), InOut(INT)),
                ),
                (Sysno::sendmsg, s(N, MsgIn, N, N, N, N)),
                (Sysno::recvmsg, s(N, MsgOut, N, N, N, N)),
                (Sysno::sendmmsg, s(N, InArray(MMSGHDR, 2), N, N, N, N)),
                (
                    Sysno::recvmmsg,
                    s(N, OutArrayRet(MMSGHDR), N, In(TIMESPEC), N, N),
                ),
                (Sysno::setsockopt, s(N, N, N, InBuf(4), N, N)),
                // optval is as long as *optlen says at exit, as a sockaddr is.
                (Sysno::getsockopt, s(N, N, N, SockaddrOut(4), InOut(INT), N)),
                (Sysno::poll, s(InOutArray(POLLFD, 1), N, N, N, N, N)),
                (
                    Sysno::ppoll,
                    s(InOutArray(POLLFD, 1), N, InOut(TIMESPEC), In(SIGSET), N, N),
                ),
                (
                    Sysno::select,
                    s(N, InOut(128), InOut(128), InOut(128), InOut(TIMEVAL), N),
                ),
                (
                    Sysno::pselect6,
                    s(
                        N,
                        InOut(128),
                        InOut(128),
                        InOut(128),
                        InOut(TIMESPEC),
                        SigmaskPair,
                    ),
                ),
                (Sysno::epoll_ctl, s(N, N, N, In(EPOLL_EVENT), N, N)),
                (
                    Sysno::epoll_wait,
                    s(N, OutArrayRet(EPOLL_EVENT), N, N, N, N),
                ),
                (
                    Sysno::epoll_pwait,
                    s(N, OutArrayRet(EPOLL_EVENT), N, N, In(SIGSET), N),
                ),
                (
                    Sysno::epoll_pwait2,
                    s(N, OutArrayRet(EPOLL_EVENT), N, In(TIMESPEC), In(SIGSET), N),
                ),
                (
                    Sysno::nanosleep,
                    s(In(TIMESPEC), OutRestart(TIMESPEC), N, N, N, N),
                ),
                (
                    Sysno::clock_nanosleep,
                    s(N, N, In(TIMESPEC), OutRestart(TIMESPEC), N, N),
                ),
                (Sysno::clock_gettime, s(N, Out(TIMESPEC), N, N, N, N)),
                (Sysno::clock_getres, s(N, Out(TIMESPEC), N, N, N, N)),
                (
                    Sysno::gettimeofday,
                    s(Out(TIMEVAL), Out(TIMEZONE), N, N, N, N),
                ),
                (Sysno::time, s(Out(U64), N, N, N, N, N)),
                (
                    Sysno::timerfd_settime,
                    s(N, N, In(ITIMERSPEC), Out(ITIMERSPEC), N, N),
                ),
                (Sysno::timerfd_gettime, s(N, Out(ITIMERSPEC), N, N, N, N)),
                (
                    Sysno::setitimer,
                    s(N, In(ITIMERVAL), Out(ITIMERVAL), N, N, N),
                ),
                (Sysno::getitimer, s(N, Out(ITIMERVAL), N, N, N, N)),
                (Sysno::getrlimit, s(N, Out(RLIMIT), N, N, N, N)),
                (Sysno::setrlimit, s(N, In(RLIMIT), N, N, N, N)),
                (Sysno::prlimit64, s(N, N, In(RLIMIT), Out(RLIMIT), N, N)),
                (Sysno::getrusage, s(N, Out(RUSAGE), N, N, N, N)),
                (Sysno::wait4, s(N, Out(INT), N, Out(RUSAGE), N, N)),
                (Sysno::waitid, s(N, N, Out(SIGINFO), N, Out(RUSAGE), N)),
                (Sysno::times, s(Out(TMS), N, N, N, N, N)),
                (Sysno::uname, s(Out(UTSNAME), N, N, N, N, N)),
                (Sysno::sysinfo, s(Out(SYSINFO), N, N, N, N, N)),
                (
                    Sysno::rt_sigaction,
                    s(N, In(SIGACTION), Out(SIGACTION), N, N, N),
                ),
                (
                    Sysno::rt_sigprocmask,
                    s(N, In(SIGSET), Out(SIGSET), N, N, N),
                ),
                (Sysno::rt_sigpending, s(Out(SIGSET), N, N, N, N, N)),
                (Sysno::rt_sigsuspend, s(In(SIGSET), N, N, N, N, N)),
                (
                    Sysno::rt_sigtimedwait,
                    s(In(SIGSET), Out(SIGINFO), In(TIMESPEC), N, N, N),
                ),
                (Sysno::rt_sigqueueinfo, s(N, N, In(SIGINFO), N, N, N)),
                (Sysno::rt_tgsigqueueinfo, s(N, N, N, In(SIGINFO), N, N)),
                (Sysno::pidfd_send_signal, s(N, N, In(SIGINFO), N, N, N)),
                (Sysno::sigaltstack, s(In(STACK_T), Out(STACK_T), N, N, N, N)),
                (Sysno::kill, NONE),
                (Sysno::clone3, s(InSized(1), N, N, N, N, N)),
                (Sysno::set_tid_address, NONE),
                (Sysno::set_robust_list, s(In(ROBUST_HEAD), N, N, N, N, N)),
                (Sysno::rseq, s(In(RSEQ), N, N, N, N, N)),
                (Sysno::futex, s(N, N, N, If(&FUTEX_ARG3), N, N)),
                (
                    Sysno::futex_waitv,
                    s(InArray(FUTEX_WAITV, 1), N, N, In(TIMESPEC), N, N),
                ),
                (Sysno::sched_getaffinity, s(N, N, OutRet, N, N, N)),
                (Sysno::sched_setaffinity, s(N, N, InBuf(1), N, N, N)),
                (Sysno::sched_getparam, s(N, Out(SCHED_PARAM), N, N, N, N)),
                (Sysno::sched_setparam, s(N, In(SCHED_PARAM), N, N, N, N)),
                (Sysno::getrandom, s(OutRet, N, N, N, N, N)),
                (Sysno::getresuid, s(Out(INT), Out(INT), Out(INT), N, N, N)),
                (Sysno::getresgid, s(Out(INT), Out(INT), Out(INT), N, N, N)),
                (Sysno::getgroups, s(N, OutArrayRet(INT), N, N, N, N)),
                (Sysno::setgroups, s(N, InArray(INT, 0), N, N, N, N)),
                (Sysno::prctl, s(N, If(&PRCTL_ARG1), N, N, N, N)),
                (Sysno::fcntl, s(N, N, If(&FCNTL_ARG2), N, N, N)),
                (Sysno::ioctl, s(N, N, If(&IOCTL_ARG2), N, N, N)),
                (Sysno::utime, s(Path, In(16), N, N, N, N)),
                (Sysno::utimes, s(Path, In(2 * TIMEVAL), N, N, N, N)),
                (Sysno::futimesat, s(N, Path, In(2 * TIMEVAL), N, N, N)),
                (Sysno::clock_settime, s(N, In(TIMESPEC), N, N, N, N)),
                (
                    Sysno::settimeofday,
                    s(In(TIMEVAL), In(TIMEZONE), N, N, N, N),
                ),
                (Sysno::arch_prctl, NONE),
                (Sysno::memfd_create, s(Str, N, N, N, N, N)),
                (Sysno::sethostname, s(InBuf(1), N, N, N, N, N)),
                (Sysno::semop, s(N, InArray(SEMBUF, 2), N, N, N, N)),
                (Sysno::io_uring_enter, NONE),
                (Sysno::sendfile, s(N, N, InOut(U64), N, N, N)),
                (
                    Sysno::copy_file_range,
                    s(N, InOut(U64), N, InOut(U64), N, N),
                ),
                (Sysno::splice, s(N, InOut(U64), N, InOut(U64), N, N)),
                (Sysno::bpf, NONE),
            ];

            // Documented size kept for table entries that are added later.
            const _: u16 = CPU_SET;
        }
    };
}

signatures!(x86_64_sigs, crate::x86_64::layout::LAYOUT);
signatures!(aarch64_sigs, crate::aarch64::layout::LAYOUT);

/// The most bytes of an [`Arg::OutRecords`] buffer captured (glibc reads
/// directories 32 KiB at a time).
pub const RECORDS_MAX: usize = 65536;

/// The most bytes of an [`Arg::InSized`] struct captured.
pub const STRUCT_MAX: usize = 4096;

const X86_64_LEN: usize = Arch::X86_64.syscall_table_len();
const AARCH64_LEN: usize = Arch::Aarch64.syscall_table_len();

/// x86_64's table, indexed by number.
static X86_64: [Sig; X86_64_LEN] = x86_64_table();
/// aarch64's table, indexed by its own number: the entries of aarch64's
/// list at the numbers of their namesakes.
static AARCH64: [Sig; AARCH64_LEN] = aarch64_table();

const fn x86_64_table() -> [Sig; X86_64_LEN] {
    let list = x86_64_sigs::LIST;
    let mut t = [NONE; X86_64_LEN];
    let mut i = 0;
    while i < list.len() {
        t[list[i].0 as usize] = list[i].1;
        i += 1;
    }
    t
}

const fn aarch64_table() -> [Sig; AARCH64_LEN] {
    let list = aarch64_sigs::LIST;
    let mut t = [NONE; AARCH64_LEN];
    let mut i = 0;
    while i < list.len() {
        let nr = crate::aarch64::FROM[list[i].0 as usize];
        if nr != crate::aarch64::NONE {
            t[nr as usize] = list[i].1;
        }
        i += 1;
    }
    t
}

impl Arch {
    /// The signature of syscall `nr`; all `None` for an unknown number.
    #[inline]
    pub fn capture_sig(self, nr: u64) -> &'static Sig {
        let t: &[Sig] = match self {
            Arch::X86_64 => &X86_64,
            Arch::Aarch64 => &AARCH64,
        };
        t.get(nr as usize).unwrap_or(&NONE)
    }

    /// Which descriptors a successful call of `nr` made (see
    /// [`ARG_FD_NAME`]; which calls make them is [`crate::fds`]'s).
    #[inline]
    pub fn made_fds(self, nr: u64) -> MadeFds {
        let Some(sys) = u32::try_from(nr).ok().and_then(|n| self.sysno(n)) else {
            return MadeFds::None;
        };
        match sys {
            Sysno::chdir | Sysno::fchdir => MadeFds::Cwd,
            _ => crate::fds::made(sys),
        }
    }

    /// Whether `nr` changes what its argument 0's socket is bound or
    /// connected to (connect, bind): what [`ARG_FD_DETAIL`] is read again
    /// for, at its exit.
    #[inline]
    pub fn readdresses_fd(self, nr: u64) -> bool {
        u32::try_from(nr)
            .ok()
            .and_then(|n| self.sysno(n))
            .is_some_and(|s| matches!(s, Sysno::connect | Sysno::bind))
    }

    /// What to capture of syscall `nr` called with `args`:
    /// [`Arch::capture_sig`] with every [`Arg::If`] decided by the arguments.
    #[inline]
    pub fn capture_for(self, nr: u64, args: &[u64; 6]) -> Sig {
        let mut sig = *self.capture_sig(nr);
        for a in sig.iter_mut() {
            if let Arg::If(c) = *a {
                let v = args.get(c.arg as usize).copied().unwrap_or(0) as u32;
                *a = c
                    .cases
                    .iter()
                    .find(|(k, _)| *k == v)
                    .map_or(Arg::None, |&(_, x)| x);
            }
        }
        sig
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: Arch = Arch::X86_64;
    const A: Arch = Arch::Aarch64;
    const FLOCK: u16 = crate::x86_64::layout::LAYOUT.flock.size as u16;
    const TERMIOS: u16 = crate::x86_64::layout::LAYOUT.termios.size as u16;

    fn lookup(nr: u64) -> &'static Sig {
        X.capture_sig(nr)
    }
    fn capture_for(nr: u64, args: &[u64; 6]) -> Sig {
        X.capture_for(nr, args)
    }

    #[test]
    fn lookup_uses_the_crates_numbers() {
        assert_eq!(lookup(Sysno::write as u64)[1], Arg::InBuf(2));
        assert_eq!(lookup(Sysno::openat as u64)[1], Arg::Path);
        assert_eq!(lookup(Sysno::execve as u64)[1], Arg::StrArray);
    }

    #[test]
    fn made_descriptors_are_the_return_value_or_a_pair_and_never_a_dup() {
        assert_eq!(X.made_fds(Sysno::openat as u64), MadeFds::Ret);
        assert_eq!(X.made_fds(Sysno::socket as u64), MadeFds::Ret);
        assert_eq!(X.made_fds(Sysno::pipe2 as u64), MadeFds::Pair(0));
        assert_eq!(X.made_fds(Sysno::socketpair as u64), MadeFds::Pair(3));
        assert_eq!(X.made_fds(Sysno::dup2 as u64), MadeFds::None);
        assert_eq!(X.made_fds(Sysno::fchdir as u64), MadeFds::Cwd);
        assert_eq!(X.made_fds(Sysno::read as u64), MadeFds::None);
        assert_eq!(X.made_fds(u64::MAX), MadeFds::None);
        // aarch64's openat is 56.
        assert_eq!(A.made_fds(56), MadeFds::Ret);
    }

    #[test]
    fn unknown_numbers_have_no_captures() {
        assert_eq!(lookup(100_000), &NONE);
        assert_eq!(lookup(u64::MAX), &NONE);
        assert_eq!(lookup(Sysno::getpid as u64), &NONE);
    }

    #[test]
    fn conditional_captures_follow_the_selecting_argument() {
        let fcntl = Sysno::fcntl as u64;
        // F_SETLK: the flock is read at entry; the upper half of the
        // command register is not part of the int.
        assert_eq!(
            capture_for(fcntl, &[3, 0x0def_aced_0000_0006, 0x1000, 0, 0, 0])[2],
            Arg::In(FLOCK)
        );
        assert_eq!(
            capture_for(fcntl, &[3, 5, 0x1000, 0, 0, 0])[2],
            Arg::InOut(FLOCK)
        );
        // F_SETFD's argument is a number: nothing to read.
        assert_eq!(capture_for(fcntl, &[3, 2, 1, 0, 0, 0]), NONE);
        let prctl = Sysno::prctl as u64;
        assert_eq!(capture_for(prctl, &[15, 0x1000, 0, 0, 0, 0])[1], Arg::Str);
        assert_eq!(capture_for(prctl, &[38, 1, 0, 0, 0, 0]), NONE);
        let ioctl = Sysno::ioctl as u64;
        assert_eq!(
            capture_for(ioctl, &[0, 0x5401, 0x1000, 0, 0, 0])[2],
            Arg::Out(TERMIOS)
        );
        // Unconditional entries come through as they are.
        assert_eq!(
            capture_for(Sysno::write as u64, &[1, 2, 3, 0, 0, 0]),
            *lookup(Sysno::write as u64)
        );
    }

    #[test]
    fn aarch64_captures_its_numbers_with_its_struct_sizes() {
        let nr = |n: &str| u64::from(A.syscall_nr(n).unwrap_or(u32::MAX));
        assert_eq!(A.capture_sig(nr("openat"))[1], Arg::Path);
        assert_eq!(nr("openat"), 56);
        assert_eq!(A.capture_sig(nr("write"))[1], Arg::InBuf(2));
        assert_eq!(A.capture_sig(nr("execve"))[1], Arg::StrArray);
        // struct stat is 128 bytes on aarch64 (asm-generic), 144 on x86_64.
        assert_eq!(A.capture_sig(nr("fstat"))[1], Arg::Out(128));
        assert_eq!(X.capture_sig(5)[1], Arg::Out(144));
        // epoll_event is not packed on aarch64.
        assert_eq!(A.capture_sig(nr("epoll_pwait"))[1], Arg::OutArrayRet(16));
        // x86_64's number 257 is no aarch64 openat.
        assert_eq!(A.capture_sig(257), &NONE);
        assert_eq!(A.capture_sig(u64::MAX), &NONE);
        // Every aarch64 syscall the list names is in aarch64's table.
        for (sys, sig) in aarch64_sigs::LIST {
            if let Some(n) = A.nr_of(*sys) {
                assert_eq!(A.capture_sig(u64::from(n)), sig, "{}", sys.name());
            }
        }
    }

    #[test]
    fn no_syscall_is_listed_twice() {
        let list = x86_64_sigs::LIST;
        for (i, a) in list.iter().enumerate() {
            for b in &list[i + 1..] {
                assert_ne!(a.0, b.0, "{} listed twice", a.0.name());
            }
        }
    }

    #[test]
    fn length_arguments_are_valid_indices() {
        for (no, sig) in x86_64_sigs::LIST {
            for a in sig {
                if let Arg::InBuf(n)
                | Arg::InSized(n)
                | Arg::InArray(_, n)
                | Arg::InOutArray(_, n)
                | Arg::IovIn(n)
                | Arg::IovOut(n)
                | Arg::SockaddrIn(n)
                | Arg::SockaddrOut(n) = a
                {
                    assert!(*n < 6, "{}", no.name());
                }
            }
        }
    }
}
