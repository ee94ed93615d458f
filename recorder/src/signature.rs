//! The x86_64 syscall signature table: which arguments point to memory, how
//! much of it to read, and when (entry or exit).
//!
//! Numbers come from `syscalls::x86_64::Sysno`; the table is a static array
//! indexed by syscall number, so a lookup is one bounds check and one load.
//! A syscall not in the table gets no captures (its registers are recorded).
//!
//! ## The `Mem::arg` convention
//! - `0..=5`: the memory the argument register with that index points to.
//! - `8 + i`: memory reached through a pointer *inside* the capture of
//!   argument `i`: the strings of an argv/envp array (execve: 9 = argv
//!   elements, 10 = envp elements, in order), the buffers of an iovec array
//!   (readv/writev/preadv/pwritev: 9, in iovec order), and what a msghdr
//!   points to (sendmsg/recvmsg: 9 = msg_name, then each iov buffer, then
//!   msg_control). `addr` is the tracee address of that element's memory,
//!   which tells which element of the parent capture it is.

use syscalls::x86_64::Sysno;

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
    /// Output buffer, length = return value, at exit, cut at `-s`.
    OutRet,
    /// Fixed-size struct read at entry.
    In(u16),
    /// Fixed-size struct read at exit when the call succeeded.
    Out(u16),
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
}

/// One syscall's arguments.
pub type Sig = [Arg; 6];

const N: Arg = Arg::None;
const NONE: Sig = [N; 6];

// Kernel struct sizes on x86_64.
const STAT: u16 = 144;
const STATX: u16 = 256;
const STATFS: u16 = 120;
const TIMESPEC: u16 = 16;
const TIMEVAL: u16 = 16;
const ITIMERSPEC: u16 = 32;
const ITIMERVAL: u16 = 32;
const RLIMIT: u16 = 16;
const RUSAGE: u16 = 144;
/// struct kernel_sigaction: handler, flags, restorer, 8-byte mask.
const SIGACTION: u16 = 32;
const SIGSET: u16 = 8;
const STACK_T: u16 = 24;
const UTSNAME: u16 = 390;
const SYSINFO: u16 = 112;
const POLLFD: u16 = 8;
/// struct epoll_event is packed on x86_64.
const EPOLL_EVENT: u16 = 12;
const INT: u16 = 4;
const U64: u16 = 8;
const FDS2: u16 = 8;
const TMS: u16 = 32;
const SIGINFO: u16 = 128;
const TIMEZONE: u16 = 8;
const FUTEX_WAITV: u16 = 24;
const SCHED_PARAM: u16 = 4;
const CPU_SET: u16 = 128;
const RSEQ: u16 = 32;
const ROBUST_HEAD: u16 = 24;
const OPEN_HOW: u16 = 24;
const MMSGHDR: u16 = 64;
const SEMBUF: u16 = 6;
const LINUX_DIRENT_MAX: u16 = 0; // unused marker

#[allow(clippy::too_many_arguments)]
const fn s(a: Arg, b: Arg, c: Arg, d: Arg, e: Arg, f: Arg) -> Sig {
    [a, b, c, d, e, f]
}

use Arg::*;

/// (syscall, signature) pairs; the table below is built from them.
const LIST: &[(Sysno, Sig)] = &[
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
    (Sysno::getdents64, s(N, OutRet, N, N, N, N)),
    (Sysno::getdents, s(N, OutRet, N, N, N, N)),
    (Sysno::execve, s(Path, StrArray, StrArray, N, N, N)),
    (Sysno::execveat, s(N, Path, StrArray, StrArray, N, N)),
    (Sysno::getxattr, s(Path, Str, OutRet, N, N, N)),
    (Sysno::lgetxattr, s(Path, Str, OutRet, N, N, N)),
    (Sysno::fgetxattr, s(N, Str, OutRet, N, N, N)),
    (Sysno::setxattr, s(Path, Str, InBuf(3), N, N, N)),
    (Sysno::listxattr, s(Path, OutRet, N, N, N, N)),
    (Sysno::llistxattr, s(Path, OutRet, N, N, N, N)),
    (Sysno::inotify_add_watch, s(N, Path, N, N, N, N)),
    (Sysno::mount, s(Path, Path, Str, N, N, N)),
    (Sysno::umount2, s(Path, N, N, N, N, N)),
    (Sysno::pipe, s(Out(FDS2), N, N, N, N, N)),
    (Sysno::pipe2, s(Out(FDS2), N, N, N, N, N)),
    (Sysno::socketpair, s(N, N, N, Out(FDS2), N, N)),
    (Sysno::bind, s(N, SockaddrIn(2), N, N, N, N)),
    (Sysno::connect, s(N, SockaddrIn(2), N, N, N, N)),
    (Sysno::accept, s(N, SockaddrOut(2), N, N, N, N)),
    (Sysno::accept4, s(N, SockaddrOut(2), N, N, N, N)),
    (Sysno::getsockname, s(N, SockaddrOut(2), N, N, N, N)),
    (Sysno::getpeername, s(N, SockaddrOut(2), N, N, N, N)),
    (Sysno::sendto, s(N, InBuf(2), N, N, SockaddrIn(5), N)),
    (Sysno::recvfrom, s(N, OutRet, N, N, SockaddrOut(5), N)),
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
        s(InOutArray(POLLFD, 1), In(TIMESPEC), In(SIGSET), N, N, N),
    ),
    (
        Sysno::select,
        s(N, InOut(128), InOut(128), InOut(128), InOut(TIMEVAL), N),
    ),
    (
        Sysno::pselect6,
        s(N, InOut(128), InOut(128), InOut(128), InOut(TIMESPEC), N),
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
    (Sysno::nanosleep, s(In(TIMESPEC), Out(TIMESPEC), N, N, N, N)),
    (
        Sysno::clock_nanosleep,
        s(N, N, In(TIMESPEC), Out(TIMESPEC), N, N),
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
    (Sysno::sigaltstack, s(In(STACK_T), Out(STACK_T), N, N, N, N)),
    (Sysno::kill, NONE),
    (Sysno::clone3, s(InBuf(1), N, N, N, N, N)),
    (Sysno::set_tid_address, NONE),
    (Sysno::set_robust_list, s(In(ROBUST_HEAD), N, N, N, N, N)),
    (Sysno::rseq, s(In(RSEQ), N, N, N, N, N)),
    (Sysno::futex, s(N, N, N, In(TIMESPEC), N, N)),
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
    (Sysno::prctl, NONE),
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

// Documented sizes kept for table entries that are added later.
const _: (u16, u16) = (CPU_SET, LINUX_DIRENT_MAX);

/// Table size: every x86_64 syscall number.
pub const TABLE_LEN: usize = Sysno::table_size();

const fn build() -> [Sig; TABLE_LEN] {
    let mut t = [NONE; TABLE_LEN];
    let mut i = 0;
    while i < LIST.len() {
        t[LIST[i].0 as usize] = LIST[i].1;
        i += 1;
    }
    t
}

static TABLE: [Sig; TABLE_LEN] = build();

/// The signature of syscall `nr`; all `None` for an unknown number.
#[inline]
pub fn lookup(nr: u64) -> &'static Sig {
    TABLE.get(nr as usize).unwrap_or(&NONE)
}

/// Whether any argument of `sig` is read at entry.
pub fn any_at_enter(sig: &Sig) -> bool {
    sig.iter().any(|a| {
        !matches!(
            a,
            Arg::None
                | Arg::OutRet
                | Arg::Out(_)
                | Arg::OutArrayRet(_)
                | Arg::IovOut(_)
                | Arg::MsgOut
                | Arg::SockaddrOut(_)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_uses_the_crates_numbers() {
        assert_eq!(lookup(Sysno::write as u64)[1], Arg::InBuf(2));
        assert_eq!(lookup(Sysno::openat as u64)[1], Arg::Path);
        assert_eq!(lookup(Sysno::execve as u64)[1], Arg::StrArray);
    }

    #[test]
    fn unknown_numbers_have_no_captures() {
        assert_eq!(lookup(100_000), &NONE);
        assert_eq!(lookup(u64::MAX), &NONE);
        assert_eq!(lookup(Sysno::getpid as u64), &NONE);
    }

    #[test]
    fn no_syscall_is_listed_twice() {
        for (i, a) in LIST.iter().enumerate() {
            for b in &LIST[i + 1..] {
                assert_ne!(a.0, b.0, "{} listed twice", a.0.name());
            }
        }
    }

    #[test]
    fn length_arguments_are_valid_indices() {
        for (no, sig) in LIST {
            for a in sig {
                if let Arg::InBuf(n)
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
