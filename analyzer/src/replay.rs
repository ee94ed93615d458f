//! `analyze replay`: every recorded stop as a strace-like line, in file
//! order. This module holds how each syscall's arguments and results are
//! shown; [`driver`] prints the call layer's stream by strace's rules.

mod driver;
mod line;

pub use driver::run;
pub use line::call_line;

use std::fmt::Write;

use ptrec_format::{mem_flags, Mem};

use crate::decode::{errno_text, quoted, signal_name, syscall_name};
use crate::stats::is_error;

/// How an argument is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum A {
    /// Signed decimal of a 64-bit argument (long, off_t).
    I,
    /// Signed decimal of an int argument (pid_t, int): the low 32 bits,
    /// since the upper half of the register is not part of the value.
    I32,
    /// Unsigned decimal.
    U,
    /// Hexadecimal (flags, pointers not captured).
    X,
    /// File descriptor (`AT_FDCWD` aware).
    Fd,
    /// NUL-terminated string captured at entry.
    Str,
    /// Buffer written by the tracee, length in argument N.
    In(usize),
    /// Buffer filled by the kernel, length = return value.
    Out,
    /// Octal mode.
    Oct,
    /// argv-style array of strings (elements as captures arg 8+i).
    Argv,
    /// envp: the pointer and `/* N vars */`, as strace shows it without -v.
    Envp,
    /// iovec array, count in argument N.
    Iov(usize),
    /// sockaddr, length in argument N.
    Sockaddr(usize),
    /// struct stat filled at exit.
    Stat,
    /// A signal number.
    Sig,
    /// open(2) flags; the mode argument after them is shown only with O_CREAT.
    OFlags,
    /// A number in hexadecimal that is not a pointer (0 is `0`, not NULL).
    Hex,
    /// Flag words by name, from one of the tables below.
    Flags(&'static FlagSet),
    /// A value named from a table (an enumeration, not flags).
    Named(&'static [(u64, &'static str)]),
    /// futex(2) operation: the command and its PRIVATE/CLOCK_REALTIME bits.
    FutexOp,
    /// getdents64's buffer: `0x... /* N entries */`, as strace shows it.
    Dirents,
    /// struct statx filled at exit.
    Statx,
    /// A NUL-terminated string the kernel wrote, length = return value
    /// with the NUL (getcwd).
    OutStr,
    /// A kernel sigset_t (8 bytes): `[INT TERM]`.
    Sigset,
    /// A kernel struct sigaction: handler, flags, restorer, mask.
    Sigaction,
    /// struct rlimit read at entry (a new limit).
    RlimIn,
    /// struct rlimit filled at exit (the old limit).
    RlimOut,
    /// fcntl's third argument, read as its command (argument 1) says:
    /// FD_CLOEXEC for F_SETFD, file status flags for F_SETFL, else an int.
    FcntlArg,
    /// struct sysinfo filled at exit.
    Sysinfo,
    /// socket(2)'s protocol: named for AF_INET/AF_INET6 (argument 0).
    Proto,
    /// A socket option level.
    SockLevel,
    /// A socket option name, named for its level (argument 1).
    SockOpt,
    /// setsockopt's value (as long as its length argument): `[1]` for an int.
    OptVal,
    /// A sockaddr the kernel filled (accept, getsockname, recvfrom).
    SockaddrOut,
    /// The socklen_t* after it: `[16]`, the length the kernel wrote.
    SockLenOut,
    /// A pollfd array: `[{fd=5, events=POLLIN}]`.
    Pollfds,
    /// getsockopt's value, as long as the kernel said: `[1]` for an int.
    OptOut,
    /// An int the kernel wrote through a pointer: `[4]`.
    IntOut,
    /// The two fds pipe/pipe2 return: `[3, 4]`.
    Fds2,
    /// wait4's status: `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`.
    WaitStatus,
    /// struct utsname: `{sysname="Linux", nodename="vm", ...}`.
    Utsname,
    /// A buffer the kernel filled, every byte in hex (getrandom).
    OutHex,
    /// rt_sigreturn's frame: the mask it restores (capture arg 6).
    SigreturnMask,
}

/// Names of the bits of a flag word, and what 0 is called.
#[derive(PartialEq, Eq)]
struct FlagSet {
    zero: &'static str,
    /// `zero` names a value of some bits (`zero_mask`), written first
    /// whenever those bits are clear (AT_STATX_SYNC_AS_STAT).
    zero_mask: u64,
    bits: &'static [(u64, &'static str)],
}

const PROT: FlagSet = FlagSet {
    zero: "PROT_NONE",
    zero_mask: 0,
    bits: &[(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")],
};

const MAP: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x01, "MAP_SHARED"),
        (0x02, "MAP_PRIVATE"),
        (0x10, "MAP_FIXED"),
        (0x20, "MAP_ANONYMOUS"),
        (0x100, "MAP_GROWSDOWN"),
        (0x800, "MAP_DENYWRITE"),
        (0x1000, "MAP_EXECUTABLE"),
        (0x2000, "MAP_LOCKED"),
        (0x4000, "MAP_NORESERVE"),
        (0x8000, "MAP_POPULATE"),
        (0x10000, "MAP_NONBLOCK"),
        (0x20000, "MAP_STACK"),
        (0x40000, "MAP_HUGETLB"),
        (0x100000, "MAP_FIXED_NOREPLACE"),
    ],
};

const ACCESS: FlagSet = FlagSet {
    zero: "F_OK",
    zero_mask: 0,
    bits: &[(4, "R_OK"), (2, "W_OK"), (1, "X_OK")],
};

const AT: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x100, "AT_SYMLINK_NOFOLLOW"),
        (0x200, "AT_REMOVEDIR"),
        (0x400, "AT_SYMLINK_FOLLOW"),
        (0x800, "AT_NO_AUTOMOUNT"),
        (0x1000, "AT_EMPTY_PATH"),
    ],
};

/// faccessat2's flags: 0x200 is AT_EACCESS here, AT_REMOVEDIR for unlinkat.
const AT_ACCESS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x100, "AT_SYMLINK_NOFOLLOW"),
        (0x200, "AT_EACCESS"),
        (0x1000, "AT_EMPTY_PATH"),
    ],
};

const PIPE_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0o4000, "O_NONBLOCK"),
        (0o40000, "O_DIRECT"),
        (0o2000000, "O_CLOEXEC"),
        (0o40000000, "O_NOTIFICATION_PIPE"),
    ],
};

const CLOSE_RANGE: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(2, "CLOSE_RANGE_UNSHARE"), (4, "CLOSE_RANGE_CLOEXEC")],
};

const GRND: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "GRND_NONBLOCK"),
        (2, "GRND_RANDOM"),
        (4, "GRND_INSECURE"),
    ],
};

const ARCH_PRCTL: &[(u64, &str)] = &[
    (0x1001, "ARCH_SET_GS"),
    (0x1002, "ARCH_SET_FS"),
    (0x1003, "ARCH_GET_FS"),
    (0x1004, "ARCH_GET_GS"),
    (0x1011, "ARCH_GET_CPUID"),
    (0x1012, "ARCH_SET_CPUID"),
];

const FADVISE: &[(u64, &str)] = &[
    (0, "POSIX_FADV_NORMAL"),
    (1, "POSIX_FADV_RANDOM"),
    (2, "POSIX_FADV_SEQUENTIAL"),
    (3, "POSIX_FADV_WILLNEED"),
    (4, "POSIX_FADV_DONTNEED"),
    (5, "POSIX_FADV_NOREUSE"),
];

const FUTEX_CMD: &[(u64, &str)] = &[
    (0, "FUTEX_WAIT"),
    (1, "FUTEX_WAKE"),
    (2, "FUTEX_FD"),
    (3, "FUTEX_REQUEUE"),
    (4, "FUTEX_CMP_REQUEUE"),
    (5, "FUTEX_WAKE_OP"),
    (6, "FUTEX_LOCK_PI"),
    (7, "FUTEX_UNLOCK_PI"),
    (8, "FUTEX_TRYLOCK_PI"),
    (9, "FUTEX_WAIT_BITSET"),
    (10, "FUTEX_WAKE_BITSET"),
    (11, "FUTEX_WAIT_REQUEUE_PI"),
    (12, "FUTEX_CMP_REQUEUE_PI"),
    (13, "FUTEX_LOCK_PI2"),
];

/// `FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`, as strace names futex ops.
fn futex_op(v: u64) -> String {
    let Some((_, cmd)) = FUTEX_CMD.iter().find(|(n, _)| *n == v & 0x7f) else {
        return format!("{v:#x}");
    };
    let mut out = cmd.to_string();
    if v & 128 != 0 {
        out.push_str("_PRIVATE");
    }
    if v & 256 != 0 {
        out.push_str("|FUTEX_CLOCK_REALTIME");
    }
    let rest = v & !0x1ff;
    if rest != 0 {
        let _ = write!(out, "|{rest:#x}");
    }
    out
}

/// statx(2) flags: AT_STATX_SYNC_AS_STAT is 0 and strace always names it.
const AT_STATX: FlagSet = FlagSet {
    zero: "AT_STATX_SYNC_AS_STAT",
    zero_mask: 0x6000,
    bits: &[
        (0x2000, "AT_STATX_FORCE_SYNC"),
        (0x4000, "AT_STATX_DONT_SYNC"),
        (0x100, "AT_SYMLINK_NOFOLLOW"),
        (0x800, "AT_NO_AUTOMOUNT"),
        (0x1000, "AT_EMPTY_PATH"),
    ],
};

const STATX_MASK: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x7ff, "STATX_BASIC_STATS"),
        (0x1, "STATX_TYPE"),
        (0x2, "STATX_MODE"),
        (0x4, "STATX_NLINK"),
        (0x8, "STATX_UID"),
        (0x10, "STATX_GID"),
        (0x20, "STATX_ATIME"),
        (0x40, "STATX_MTIME"),
        (0x80, "STATX_CTIME"),
        (0x100, "STATX_INO"),
        (0x200, "STATX_SIZE"),
        (0x400, "STATX_BLOCKS"),
        (0x800, "STATX_BTIME"),
        (0x1000, "STATX_MNT_ID"),
    ],
};

const STATX_ATTR: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x4, "STATX_ATTR_COMPRESSED"),
        (0x10, "STATX_ATTR_IMMUTABLE"),
        (0x20, "STATX_ATTR_APPEND"),
        (0x40, "STATX_ATTR_NODUMP"),
        (0x800, "STATX_ATTR_ENCRYPTED"),
        (0x1000, "STATX_ATTR_AUTOMOUNT"),
        (0x2000, "STATX_ATTR_MOUNT_ROOT"),
        (0x100000, "STATX_ATTR_VERITY"),
        (0x200000, "STATX_ATTR_DAX"),
    ],
};

const WAIT_OPTS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "WNOHANG"),
        (2, "WSTOPPED"),
        (4, "WEXITED"),
        (8, "WCONTINUED"),
        (0x0100_0000, "WNOWAIT"),
        (0x2000_0000, "__WNOTHREAD"),
        (0x4000_0000, "__WALL"),
        (0x8000_0000, "__WCLONE"),
    ],
};

const EPOLL_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(0o2000000, "EPOLL_CLOEXEC")],
};

const CLONE_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x100, "CLONE_VM"),
        (0x200, "CLONE_FS"),
        (0x400, "CLONE_FILES"),
        (0x800, "CLONE_SIGHAND"),
        (0x1000, "CLONE_PIDFD"),
        (0x2000, "CLONE_PTRACE"),
        (0x4000, "CLONE_VFORK"),
        (0x8000, "CLONE_PARENT"),
        (0x10000, "CLONE_THREAD"),
        (0x20000, "CLONE_NEWNS"),
        (0x40000, "CLONE_SYSVSEM"),
        (0x80000, "CLONE_SETTLS"),
        (0x100000, "CLONE_PARENT_SETTID"),
        (0x200000, "CLONE_CHILD_CLEARTID"),
        (0x400000, "CLONE_DETACHED"),
        (0x800000, "CLONE_UNTRACED"),
        (0x1000000, "CLONE_CHILD_SETTID"),
        (0x2000000, "CLONE_NEWCGROUP"),
        (0x4000000, "CLONE_NEWUTS"),
        (0x8000000, "CLONE_NEWIPC"),
        (0x10000000, "CLONE_NEWUSER"),
        (0x20000000, "CLONE_NEWPID"),
        (0x40000000, "CLONE_NEWNET"),
        (0x80000000, "CLONE_IO"),
    ],
};

/// clone(2) as strace writes it on x86_64: named arguments, the flags with
/// the exit signal, and the tid pointers and TLS only when a flag uses them.
/// The kernel's order is flags, stack, parent_tid, child_tid, tls.
fn clone_text(args: &[u64; 6]) -> String {
    let (flags, stack, ptid, ctid, tls) = (args[0], args[1], args[2], args[3], args[4]);
    let mut f = flag_names(flags & !0xff, &CLONE_FLAGS);
    let sig = flags & 0xff;
    if sig != 0 {
        let name = signal_name(sig as i32);
        f = if flags & !0xff == 0 {
            name
        } else {
            format!("{f}|{name}")
        };
    }
    let mut s = format!("child_stack={}, flags={f}", ptr(stack));
    if flags & 0x100000 != 0 {
        let _ = write!(s, ", parent_tid={}", ptr(ptid));
    }
    if flags & 0x80000 != 0 {
        let _ = write!(s, ", tls={}", ptr(tls));
    }
    if flags & 0x1200000 != 0 {
        let _ = write!(s, ", child_tidptr={}", ptr(ctid));
    }
    s
}

const SIG_HOW: &[(u64, &str)] = &[(0, "SIG_BLOCK"), (1, "SIG_UNBLOCK"), (2, "SIG_SETMASK")];

const SA_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x1, "SA_NOCLDSTOP"),
        (0x2, "SA_NOCLDWAIT"),
        (0x4, "SA_SIGINFO"),
        (0x0400_0000, "SA_RESTORER"),
        (0x0800_0000, "SA_ONSTACK"),
        (0x1000_0000, "SA_RESTART"),
        (0x4000_0000, "SA_NODEFER"),
        (0x8000_0000, "SA_RESETHAND"),
    ],
};

/// `[INT TERM]`, or `~[...]` of the complement when most signals are in
/// the set, as strace writes signal masks.
fn sigset_text(mask: u64) -> String {
    let names = |m: u64| -> Vec<String> {
        (1..=64)
            .filter(|n| m & (1u64 << (n - 1)) != 0)
            .map(|n| {
                let name = signal_name(n);
                name.strip_prefix("SIG").map(str::to_string).unwrap_or(name)
            })
            .collect()
    };
    if mask.count_ones() > 32 {
        format!("~[{}]", names(!mask).join(" "))
    } else {
        format!("[{}]", names(mask).join(" "))
    }
}

const WHENCE: &[(u64, &str)] = &[
    (0, "SEEK_SET"),
    (1, "SEEK_CUR"),
    (2, "SEEK_END"),
    (3, "SEEK_DATA"),
    (4, "SEEK_HOLE"),
];

const DOMAIN: &[(u64, &str)] = &[
    (1, "AF_UNIX"),
    (2, "AF_INET"),
    (10, "AF_INET6"),
    (16, "AF_NETLINK"),
    (17, "AF_PACKET"),
];

/// A socket type (the low bits) and its SOCK_NONBLOCK/SOCK_CLOEXEC flags.
const SOCK_TYPE: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "SOCK_STREAM"),
        (2, "SOCK_DGRAM"),
        (0o2000000, "SOCK_CLOEXEC"),
        (0o4000, "SOCK_NONBLOCK"),
    ],
};

/// send/recv flags.
const MSG: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x1, "MSG_OOB"),
        (0x2, "MSG_PEEK"),
        (0x4, "MSG_DONTROUTE"),
        (0x8, "MSG_CTRUNC"),
        (0x20, "MSG_TRUNC"),
        (0x40, "MSG_DONTWAIT"),
        (0x80, "MSG_EOR"),
        (0x100, "MSG_WAITALL"),
        (0x2000, "MSG_ERRQUEUE"),
        (0x4000, "MSG_NOSIGNAL"),
        (0x8000, "MSG_MORE"),
        (0x10000, "MSG_WAITFORONE"),
        (0x4000_0000, "MSG_CMSG_CLOEXEC"),
    ],
};

const SHUT: &[(u64, &str)] = &[(0, "SHUT_RD"), (1, "SHUT_WR"), (2, "SHUT_RDWR")];

const IPPROTO: &[(u64, &str)] = &[
    (0, "IPPROTO_IP"),
    (1, "IPPROTO_ICMP"),
    (6, "IPPROTO_TCP"),
    (17, "IPPROTO_UDP"),
    (58, "IPPROTO_ICMPV6"),
    (132, "IPPROTO_SCTP"),
];

/// Option levels as strace names them (SOL_TCP for IPPROTO_TCP).
const SOL: &[(u64, &str)] = &[
    (0, "SOL_IP"),
    (1, "SOL_SOCKET"),
    (6, "SOL_TCP"),
    (17, "SOL_UDP"),
    (41, "SOL_IPV6"),
];

const SO: &[(u64, &str)] = &[
    (1, "SO_DEBUG"),
    (2, "SO_REUSEADDR"),
    (3, "SO_TYPE"),
    (4, "SO_ERROR"),
    (5, "SO_DONTROUTE"),
    (6, "SO_BROADCAST"),
    (7, "SO_SNDBUF"),
    (8, "SO_RCVBUF"),
    (9, "SO_KEEPALIVE"),
    (10, "SO_OOBINLINE"),
    (13, "SO_LINGER"),
    (15, "SO_REUSEPORT"),
    (16, "SO_PASSCRED"),
    (17, "SO_PEERCRED"),
    (18, "SO_RCVLOWAT"),
    (20, "SO_RCVTIMEO_OLD"),
    (21, "SO_SNDTIMEO_OLD"),
    (32, "SO_SNDBUFFORCE"),
    (33, "SO_RCVBUFFORCE"),
    (38, "SO_PROTOCOL"),
    (39, "SO_DOMAIN"),
];

const TCP_OPT: &[(u64, &str)] = &[
    (1, "TCP_NODELAY"),
    (2, "TCP_MAXSEG"),
    (3, "TCP_CORK"),
    (4, "TCP_KEEPIDLE"),
    (5, "TCP_KEEPINTVL"),
    (6, "TCP_KEEPCNT"),
    (9, "TCP_DEFER_ACCEPT"),
    (11, "TCP_INFO"),
    (12, "TCP_QUICKACK"),
    (13, "TCP_CONGESTION"),
    (18, "TCP_USER_TIMEOUT"),
    (23, "TCP_FASTOPEN"),
];

const IPV6_OPT: &[(u64, &str)] = &[(26, "IPV6_V6ONLY")];

const POLL: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x1, "POLLIN"),
        (0x2, "POLLPRI"),
        (0x4, "POLLOUT"),
        (0x8, "POLLERR"),
        (0x10, "POLLHUP"),
        (0x20, "POLLNVAL"),
        (0x40, "POLLRDNORM"),
        (0x80, "POLLRDBAND"),
        (0x100, "POLLWRNORM"),
        (0x200, "POLLWRBAND"),
        (0x400, "POLLMSG"),
        (0x2000, "POLLRDHUP"),
    ],
};

/// `name` from `table`, or the number in hex.
fn named(table: &[(u64, &str)], v: u64) -> String {
    match table.iter().find(|(n, _)| *n == v) {
        Some((_, name)) => (*name).to_string(),
        None => format!("{v:#x}"),
    }
}

/// A pollfd array's entries (8 bytes each: fd, events, revents):
/// `{fd=5, events=POLLIN}`, or with `revents` the ones that have some.
fn pollfds_text(d: &[u8], revents: bool) -> String {
    let mut parts = Vec::new();
    for e in d.chunks_exact(8) {
        let fd = i32::from_le_bytes([e[0], e[1], e[2], e[3]]);
        let ev = u16::from_le_bytes([e[4], e[5]]);
        let rev = u16::from_le_bytes([e[6], e[7]]);
        if !revents {
            parts.push(format!(
                "{{fd={fd}, events={}}}",
                flag_names(ev.into(), &POLL)
            ));
        } else if rev != 0 {
            parts.push(format!(
                "{{fd={fd}, revents={}}}",
                flag_names(rev.into(), &POLL)
            ));
        }
    }
    format!("[{}]", parts.join(", "))
}

const IOCTL: &[(u64, &str)] = &[
    (0x5401, "TCGETS"),
    (0x5402, "TCSETS"),
    (0x5403, "TCSETSW"),
    (0x5404, "TCSETSF"),
    (0x540f, "TIOCGPGRP"),
    (0x5410, "TIOCSPGRP"),
    (0x5413, "TIOCGWINSZ"),
    (0x5414, "TIOCSWINSZ"),
    (0x541b, "FIONREAD"),
    (0x5421, "FIONBIO"),
    (0x5451, "FIOCLEX"),
    (0x5450, "FIONCLEX"),
];

const FCNTL: &[(u64, &str)] = &[
    (0, "F_DUPFD"),
    (1, "F_GETFD"),
    (2, "F_SETFD"),
    (3, "F_GETFL"),
    (4, "F_SETFL"),
    (5, "F_GETLK"),
    (6, "F_SETLK"),
    (7, "F_SETLKW"),
    (1030, "F_DUPFD_CLOEXEC"),
    (1031, "F_SETPIPE_SZ"),
    (1032, "F_GETPIPE_SZ"),
];

const RLIMIT: &[(u64, &str)] = &[
    (0, "RLIMIT_CPU"),
    (1, "RLIMIT_FSIZE"),
    (2, "RLIMIT_DATA"),
    (3, "RLIMIT_STACK"),
    (4, "RLIMIT_CORE"),
    (5, "RLIMIT_RSS"),
    (6, "RLIMIT_NPROC"),
    (7, "RLIMIT_NOFILE"),
    (8, "RLIMIT_MEMLOCK"),
    (9, "RLIMIT_AS"),
    (10, "RLIMIT_LOCKS"),
    (11, "RLIMIT_SIGPENDING"),
    (12, "RLIMIT_MSGQUEUE"),
    (13, "RLIMIT_NICE"),
    (14, "RLIMIT_RTPRIO"),
    (15, "RLIMIT_RTTIME"),
];

/// `A|B|0x40` for the bits of `v`, as strace writes flag words.
fn flag_names(v: u64, set: &FlagSet) -> String {
    if v == 0 {
        return set.zero.to_string();
    }
    let mut out = String::new();
    if set.zero_mask != 0 && v & set.zero_mask == 0 {
        out.push_str(set.zero);
    }
    let mut rest = v;
    for &(bit, name) in set.bits {
        // A name of several bits stands only for all of them.
        if rest & bit == bit {
            if !out.is_empty() {
                out.push('|');
            }
            out.push_str(name);
            rest &= !bit;
        }
    }
    if rest != 0 {
        if !out.is_empty() {
            out.push('|');
        }
        let _ = write!(out, "{rest:#x}");
    }
    out
}

use A::*;

fn signature(name: &str) -> Option<&'static [A]> {
    Some(match name {
        "read" => &[Fd, Out, U],
        "write" => &[Fd, In(2), U],
        "pread64" => &[Fd, Out, U, I],
        "pwrite64" => &[Fd, In(2), U, I],
        "open" => &[Str, OFlags, Oct],
        "openat" => &[Fd, Str, OFlags, Oct],
        "creat" => &[Str, Oct],
        "close" | "dup" | "fchdir" | "fsync" | "fdatasync" => &[Fd],
        "stat" | "lstat" => &[Str, Stat],
        "fstat" => &[Fd, Stat],
        "newfstatat" => &[Fd, Str, Stat, Flags(&AT)],
        "access" => &[Str, Flags(&ACCESS)],
        "faccessat" => &[Fd, Str, Flags(&ACCESS)],
        "faccessat2" => &[Fd, Str, Flags(&ACCESS), Flags(&AT_ACCESS)],
        "execve" => &[Str, Argv, Envp],
        "execveat" => &[Fd, Str, Argv, Envp, X],
        "readlink" => &[Str, Out, U],
        "readlinkat" => &[Fd, Str, Out, U],
        "unlink" | "rmdir" | "chdir" | "chroot" => &[Str],
        "unlinkat" => &[Fd, Str, Flags(&AT)],
        "mkdir" | "chmod" => &[Str, Oct],
        "mkdirat" | "fchmodat" => &[Fd, Str, Oct],
        "rename" | "symlink" | "link" => &[Str, Str],
        "renameat" => &[Fd, Str, Fd, Str],
        "renameat2" => &[Fd, Str, Fd, Str, X],
        "truncate" => &[Str, I],
        "ftruncate" => &[Fd, I],
        "statfs" => &[Str, X],
        "fstatfs" => &[Fd, X],
        "writev" | "pwritev" => &[Fd, Iov(2), I],
        "readv" | "preadv" => &[Fd, Iov(2), I],
        "connect" | "bind" => &[Fd, Sockaddr(2), U],
        "sendto" => &[Fd, In(2), U, Flags(&MSG), Sockaddr(5), U],
        "recvfrom" => &[Fd, Out, U, Flags(&MSG), SockaddrOut, SockLenOut],
        "socket" => &[Named(DOMAIN), Flags(&SOCK_TYPE), Proto],
        "listen" => &[Fd, I32],
        "accept" | "getsockname" | "getpeername" => &[Fd, SockaddrOut, SockLenOut],
        "accept4" => &[Fd, SockaddrOut, SockLenOut, Flags(&SOCK_TYPE)],
        "setsockopt" => &[Fd, SockLevel, SockOpt, OptVal, U],
        "getsockopt" => &[Fd, SockLevel, SockOpt, OptOut, IntOut],
        "shutdown" => &[Fd, Named(SHUT)],
        "poll" => &[Pollfds, U, I32],
        "mmap" => &[X, U, Flags(&PROT), Flags(&MAP), Fd, Hex],
        "munmap" => &[X, U],
        "mprotect" => &[X, U, Flags(&PROT)],
        "brk" | "set_tid_address" => &[X],
        "exit" | "exit_group" => &[I32],
        "kill" | "tkill" => &[I32, Sig],
        "tgkill" => &[I32, I32, Sig],
        "wait4" => &[I32, WaitStatus, Flags(&WAIT_OPTS), X],
        "epoll_create1" => &[Flags(&EPOLL_FLAGS)],
        "clone" => &[X, X, X, X, X],
        "clone3" => &[X, U],
        "dup2" => &[Fd, Fd],
        "dup3" => &[Fd, Fd, X],
        "pipe" => &[Fds2],
        "pipe2" => &[Fds2, Flags(&PIPE_FLAGS)],
        "uname" => &[Utsname],
        "rt_sigreturn" => &[SigreturnMask],
        "close_range" => &[I32, I32, Flags(&CLOSE_RANGE)],
        "lseek" => &[Fd, I, Named(WHENCE)],
        "ioctl" => &[Fd, Named(IOCTL), X],
        "fcntl" => &[Fd, Named(FCNTL), FcntlArg],
        "sysinfo" => &[Sysinfo],
        "getxattr" | "lgetxattr" => &[Str, Str, Out, U],
        "fgetxattr" => &[Fd, Str, Out, U],
        "setxattr" | "lsetxattr" => &[Str, Str, In(3), U, X],
        "getdents64" => &[Fd, Dirents, U],
        "rt_sigaction" => &[Sig, Sigaction, Sigaction, U],
        "rt_sigprocmask" => &[Named(SIG_HOW), Sigset, Sigset, U],
        "getrandom" => &[OutHex, U, Flags(&GRND)],
        "getcwd" => &[OutStr, U],
        "arch_prctl" => &[Named(ARCH_PRCTL), X],
        "set_robust_list" => &[X, U],
        "prlimit64" => &[I32, Named(RLIMIT), RlimIn, RlimOut],
        "getrlimit" => &[Named(RLIMIT), RlimOut],
        "setrlimit" => &[Named(RLIMIT), RlimIn],
        "futex" => &[X, FutexOp, I32, X, X, I32],
        "nanosleep" | "clock_nanosleep" => &[X, X],
        "rseq" => &[X, Hex, I32, Hex],
        "statx" => &[Fd, Str, Flags(&AT_STATX), Flags(&STATX_MASK), Statx],
        "fadvise64" => &[Fd, I, I, Named(FADVISE)],
        "getpid" | "getppid" | "gettid" | "getuid" | "geteuid" | "getgid" | "getegid" | "fork"
        | "vfork" | "sched_yield" | "pause" | "setsid" | "getpgrp" => &[],
        _ => return None,
    })
}

/// Captures of one call: the entry's and the exit's.
struct Caps<'a, 'b> {
    enter: &'b [Mem<'a>],
    exit: &'b [Mem<'a>],
    /// `-s`: bytes shown of a buffer or argv string (paths are shown whole).
    limit: usize,
}

impl Caps<'_, '_> {
    /// `data` quoted, cut to the display limit; `...` when anything is missing.
    fn clipped(&self, data: &[u8], cut: bool) -> String {
        if data.len() > self.limit {
            quoted(&data[..self.limit], true)
        } else {
            quoted(data, cut)
        }
    }
}

impl<'a> Caps<'a, '_> {
    /// Every capture of `arg`, entry's first, in recorded order.
    fn all(&self, arg: u8) -> impl Iterator<Item = Mem<'a>> + '_ {
        self.enter
            .iter()
            .chain(self.exit.iter())
            .filter(move |m| m.arg == arg)
            .copied()
    }

    fn find(&self, arg: u8, addr: Option<u64>) -> Option<Mem<'a>> {
        let hit = |m: &&Mem<'a>| m.arg == arg && addr.is_none_or(|a| a == m.addr);
        self.exit
            .iter()
            .find(hit)
            .or_else(|| self.enter.iter().find(hit))
            .copied()
    }
}

fn cut(m: &Mem<'_>) -> bool {
    m.flags & (mem_flags::TRUNCATED | mem_flags::PARTIAL) != 0
}

fn i32_at(b: &[u8], off: usize) -> Option<i32> {
    b.get(off..off + 4)
        .map(|s| i32::from_le_bytes(s.try_into().unwrap_or([0; 4])))
}

/// A socket option's value: `[1]` for an int, else its bytes.
fn optval_text(m: &Mem<'_>, caps: &Caps<'_, '_>) -> String {
    match i32_at(m.data, 0).filter(|_| m.data.len() == 4 && !cut(m)) {
        Some(n) => format!("[{n}]"),
        None => caps.clipped(m.data, cut(m)),
    }
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    b.get(off..off + 8)
        .map(|s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
}

fn ptr(v: u64) -> String {
    if v == 0 {
        "NULL".into()
    } else {
        format!("{v:#x}")
    }
}

fn fmt_arg(
    s: &mut String,
    kind: A,
    i: usize,
    args: &[u64; 6],
    ret: Option<i64>,
    caps: &Caps<'_, '_>,
) {
    let v = args[i];
    let mem = |a: u8| caps.find(a, None);
    match kind {
        I => {
            let _ = write!(s, "{}", v as i64);
        }
        I32 => {
            let _ = write!(s, "{}", v as u32 as i32);
        }
        U => {
            let _ = write!(s, "{v}");
        }
        X => s.push_str(&ptr(v)),
        Hex => {
            if v == 0 {
                s.push('0');
            } else {
                let _ = write!(s, "{v:#x}");
            }
        }
        Flags(set) => s.push_str(&flag_names(v, set)),
        FutexOp => s.push_str(&futex_op(v)),
        Named(names) => match names.iter().find(|(n, _)| *n == v) {
            Some((_, name)) => s.push_str(name),
            None => {
                let _ = write!(s, "{v:#x}");
            }
        },
        Oct => {
            let _ = write!(s, "0{v:o}");
        }
        Fd => {
            if v as i32 == -100 {
                s.push_str("AT_FDCWD");
            } else {
                let _ = write!(s, "{}", v as i32);
            }
        }
        Sig => s.push_str(&signal_name(v as i32)),
        OFlags => s.push_str(&open_flags(v)),
        FcntlArg => match args[1] {
            2 => s.push_str(&flag_names(v, &FD_FLAGS)), // F_SETFD
            4 => s.push_str(&open_flags(v)),            // F_SETFL
            _ => {
                let _ = write!(s, "{}", v as u32 as i32);
            }
        },
        Sysinfo => match mem(i as u8).filter(|m| m.data.len() >= 108 && ret == Some(0)) {
            Some(m) => s.push_str(&sysinfo_text(m.data)),
            None => s.push_str(&ptr(v)),
        },
        Str | In(_) | Out => {
            if v == 0 {
                s.push_str("NULL");
                return;
            }
            let m = match mem(i as u8) {
                Some(m) if m.flags & mem_flags::UNREADABLE == 0 => m,
                _ => {
                    s.push_str(&ptr(v));
                    return;
                }
            };
            if kind == Out && ret.is_none_or(is_error) {
                s.push_str(&ptr(v));
                return;
            }
            let want = match kind {
                In(n) => args[n] as usize,
                Out => ret.unwrap_or(0).max(0) as usize,
                _ => m.data.len(),
            };
            let data = &m.data[..m.data.len().min(want)];
            let missing = cut(&m) || data.len() < want;
            if kind == Str {
                s.push_str(&quoted(data, missing));
            } else {
                s.push_str(&caps.clipped(data, missing));
            }
        }
        Argv | Envp => {
            let array = mem(i as u8);
            if array.is_some_and(|m| m.flags & mem_flags::UNREADABLE != 0) {
                s.push_str(&ptr(v));
                return;
            }
            // The elements: through the stored pointer array when there is
            // one, else every string captured for this argument, in order.
            let elems: Vec<Option<Mem<'_>>> = match array {
                Some(m) => (0..m.data.len() / 8)
                    .filter_map(|k| u64_at(m.data, k * 8))
                    .take_while(|&p| p != 0)
                    .map(|p| caps.find(8 + i as u8, Some(p)))
                    .collect(),
                None => caps.all(8 + i as u8).map(Some).collect(),
            };
            if array.is_none() && elems.is_empty() {
                s.push_str(&ptr(v));
                return;
            }
            let incomplete = array.is_some_and(|m| cut(&m));
            if kind == Envp {
                let more = if incomplete { "+" } else { "" };
                let _ = write!(s, "{} /* {}{more} vars */", ptr(v), elems.len());
                return;
            }
            s.push('[');
            let ptrs = array.map(|m| m.data);
            for (k, e) in elems.iter().enumerate() {
                if k > 0 {
                    s.push_str(", ");
                }
                match e {
                    Some(e) if e.flags & mem_flags::UNREADABLE == 0 => {
                        s.push_str(&caps.clipped(e.data, cut(e)))
                    }
                    _ => s.push_str(&ptr(ptrs.and_then(|d| u64_at(d, k * 8)).unwrap_or(0))),
                }
            }
            s.push(']');
            if incomplete {
                s.push_str("...");
            }
        }
        Iov(n) => {
            let Some(m) = mem(i as u8).filter(|m| m.flags & mem_flags::UNREADABLE == 0) else {
                s.push_str(&ptr(v));
                return;
            };
            s.push('[');
            let count = (args[n] as usize).min(m.data.len() / 16);
            for k in 0..count {
                let (Some(base), Some(len)) = (u64_at(m.data, k * 16), u64_at(m.data, k * 16 + 8))
                else {
                    break;
                };
                if k > 0 {
                    s.push_str(", ");
                }
                s.push_str("{iov_base=");
                match caps.find(8 + i as u8, Some(base)) {
                    Some(e) if e.flags & mem_flags::UNREADABLE == 0 => {
                        s.push_str(&caps.clipped(e.data, cut(&e) || (e.data.len() as u64) < len))
                    }
                    _ => s.push_str(&ptr(base)),
                }
                let _ = write!(s, ", iov_len={len}}}");
            }
            s.push(']');
        }
        Sockaddr(_) => match mem(i as u8).filter(|m| m.data.len() >= 2) {
            Some(m) => s.push_str(&sockaddr_text(m.data)),
            None => s.push_str(&ptr(v)),
        },
        SockaddrOut => match mem(i as u8).filter(|m| m.data.len() >= 2 && ok(ret)) {
            Some(m) => s.push_str(&sockaddr_text(m.data)),
            None => s.push_str(&ptr(v)),
        },
        SockLenOut => {
            // The sockaddr before it was read at exit with the length the
            // kernel wrote here.
            match mem(i as u8 - 1)
                .filter(|m| v != 0 && ok(ret) && m.flags & mem_flags::UNREADABLE == 0)
            {
                Some(m) => {
                    let _ = write!(s, "[{}]", m.data.len());
                }
                None => s.push_str(&ptr(v)),
            }
        }
        Proto => match args[0] {
            2 | 10 => s.push_str(&named(IPPROTO, v)),
            _ => {
                let _ = write!(s, "{}", v as u32 as i32);
            }
        },
        SockLevel => s.push_str(&named(SOL, v)),
        SockOpt => match args[1] {
            1 => s.push_str(&named(SO, v)),
            6 => s.push_str(&named(TCP_OPT, v)),
            41 => s.push_str(&named(IPV6_OPT, v)),
            _ => {
                let _ = write!(s, "{}", v as u32 as i32);
            }
        },
        OptVal => match mem(i as u8).filter(|m| m.flags & mem_flags::UNREADABLE == 0) {
            Some(m) => s.push_str(&optval_text(&m, caps)),
            None => s.push_str(&ptr(v)),
        },
        OptOut => match mem(i as u8).filter(|m| ok(ret) && m.flags & mem_flags::UNREADABLE == 0) {
            Some(m) => s.push_str(&optval_text(&m, caps)),
            None => s.push_str(&ptr(v)),
        },
        IntOut => match mem(i as u8)
            .and_then(|m| i32_at(m.data, 0))
            .filter(|_| ok(ret))
        {
            Some(n) => {
                let _ = write!(s, "[{n}]");
            }
            None => s.push_str(&ptr(v)),
        },
        Fds2 => match mem(i as u8).filter(|m| ret == Some(0) && m.data.len() == 8) {
            Some(m) => {
                let fd = |o| i32_at(m.data, o).unwrap_or(-1);
                let _ = write!(s, "[{}, {}]", fd(0), fd(4));
            }
            None => s.push_str(&ptr(v)),
        },
        WaitStatus => match mem(i as u8)
            .and_then(|m| i32_at(m.data, 0))
            .filter(|_| ret.is_some_and(|r| r > 0))
        {
            Some(st) => {
                let _ = write!(s, "[{}]", wait_status_text(st));
            }
            None => s.push_str(&ptr(v)),
        },
        Utsname => match mem(i as u8).filter(|m| ret == Some(0) && m.data.len() >= 130) {
            Some(m) => {
                let field = |o: usize| {
                    let f = &m.data[o..o + 65];
                    quoted(&f[..f.iter().position(|&c| c == 0).unwrap_or(65)], false)
                };
                let _ = write!(s, "{{sysname={}, nodename={}, ...}}", field(0), field(65));
            }
            None => s.push_str(&ptr(v)),
        },
        OutHex => match mem(i as u8).filter(|m| ok(ret) && m.flags & mem_flags::UNREADABLE == 0) {
            Some(m) => {
                let n = m.data.len().min(caps.limit);
                s.push('"');
                for b in &m.data[..n] {
                    let _ = write!(s, "\\x{b:02x}");
                }
                s.push('"');
                if n < m.data.len() || cut(&m) {
                    s.push_str("...");
                }
            }
            None => s.push_str(&ptr(v)),
        },
        SigreturnMask => match caps.enter.iter().find(|m| m.arg == 6 && m.data.len() == 8) {
            Some(m) => {
                let mask = u64_at(m.data, 0).unwrap_or(0);
                let _ = write!(s, "{{mask={}}}", sigset_text(mask));
            }
            // Recorded before rec read the frame, or unreadable.
            None => s.push_str("{mask=?}"),
        },
        Pollfds => match caps.enter.iter().find(|m| m.arg == i as u8) {
            Some(m) if m.flags & mem_flags::UNREADABLE == 0 => {
                s.push_str(&pollfds_text(m.data, false))
            }
            _ => s.push_str(&ptr(v)),
        },
        OutStr => match mem(i as u8).filter(|_| ret.is_some_and(|r| r > 0)) {
            Some(m) => {
                let n = (ret.unwrap_or(0) as usize).min(m.data.len());
                let d = &m.data[..n];
                let d = d.strip_suffix(b"\0").unwrap_or(d);
                s.push_str(&quoted(d, cut(&m)));
            }
            None => s.push_str(&ptr(v)),
        },
        Sigset | Sigaction => {
            // Read at entry (an input) or at exit (an output, only on success).
            let m = mem(i as u8).filter(|m| {
                m.flags & mem_flags::UNREADABLE == 0
                    && (m.flags & mem_flags::AT_EXIT == 0 || ret == Some(0))
            });
            let word = |m: &Mem<'_>, k: usize| u64_at(m.data, k * 8);
            match (kind, m) {
                (Sigset, Some(m)) if m.data.len() >= 8 => {
                    s.push_str(&sigset_text(word(&m, 0).unwrap_or(0)))
                }
                (Sigaction, Some(m)) if m.data.len() >= 32 => {
                    let (h, flags, restorer, mask) = (
                        word(&m, 0).unwrap_or(0),
                        word(&m, 1).unwrap_or(0),
                        word(&m, 2).unwrap_or(0),
                        word(&m, 3).unwrap_or(0),
                    );
                    let handler = match h {
                        0 => "SIG_DFL".to_string(),
                        1 => "SIG_IGN".to_string(),
                        h => format!("{h:#x}"),
                    };
                    let _ = write!(
                        s,
                        "{{sa_handler={handler}, sa_mask={}, sa_flags={}",
                        sigset_text(mask),
                        flag_names(flags, &SA_FLAGS)
                    );
                    if flags & 0x0400_0000 != 0 {
                        let _ = write!(s, ", sa_restorer={restorer:#x}");
                    }
                    s.push('}');
                }
                _ => s.push_str(&ptr(v)),
            }
        }
        Statx => {
            // struct statx: stx_mask u32 at 0, stx_mode u16 at 28, stx_size at 40.
            match mem(i as u8).filter(|m| m.data.len() >= 48 && ret == Some(0)) {
                Some(m) => {
                    let mask = u32::from_le_bytes([m.data[0], m.data[1], m.data[2], m.data[3]]);
                    let mode = u16::from_le_bytes([m.data[28], m.data[29]]);
                    let size = u64_at(m.data, 40).unwrap_or(0);
                    let attrs = u64_at(m.data, 8).unwrap_or(0);
                    let _ = write!(
                        s,
                        "{{stx_mask={}, stx_attributes={}, stx_mode={}|{}, stx_size={size}, ...}}",
                        flag_names(u64::from(mask), &STATX_MASK),
                        flag_names(attrs, &STATX_ATTR),
                        file_type(u32::from(mode)),
                        perm_bits(u32::from(mode))
                    );
                }
                None => s.push_str(&ptr(v)),
            }
        }
        Dirents => {
            // struct linux_dirent64: d_reclen is the u16 at offset 16.
            if ret == Some(0) {
                let _ = write!(s, "{} /* 0 entries */", ptr(v));
                return;
            }
            match mem(i as u8).filter(|m| ret.is_some_and(|r| r > 0) && m.data.len() >= 19) {
                Some(m) => {
                    let (mut n, mut off) = (0, 0usize);
                    while let Some(b) = m.data.get(off + 16..off + 18) {
                        let len = u16::from_le_bytes([b[0], b[1]]) as usize;
                        if len == 0 {
                            break;
                        }
                        n += 1;
                        off += len;
                    }
                    let more = if off < ret.unwrap_or(0) as usize {
                        "+"
                    } else {
                        ""
                    };
                    let _ = write!(s, "{} /* {n}{more} entries */", ptr(v));
                }
                None => s.push_str(&ptr(v)),
            }
        }
        RlimIn | RlimOut => {
            let m = mem(i as u8).filter(|m| m.data.len() >= 16);
            let m = if kind == RlimOut && ret != Some(0) {
                None
            } else {
                m
            };
            match m {
                Some(m) => {
                    let _ = write!(
                        s,
                        "{{rlim_cur={}, rlim_max={}}}",
                        rlim(u64_at(m.data, 0).unwrap_or(0)),
                        rlim(u64_at(m.data, 8).unwrap_or(0))
                    );
                }
                None => s.push_str(&ptr(v)),
            }
        }
        Stat => {
            match mem(i as u8).filter(|m| m.data.len() >= 56 && ret == Some(0)) {
                Some(m) => {
                    // x86_64 struct stat: st_mode at 24 (u32), st_rdev at 40,
                    // st_size at 48.
                    let mode = u32::from_le_bytes([m.data[24], m.data[25], m.data[26], m.data[27]]);
                    let size = u64_at(m.data, 48).unwrap_or(0);
                    let rdev = u64_at(m.data, 40).unwrap_or(0);
                    let ty = file_type(mode);
                    let _ = write!(s, "{{st_mode={ty}|{}, ", perm_bits(mode));
                    if matches!(ty, "S_IFCHR" | "S_IFBLK") {
                        // glibc's gnu_dev_major/gnu_dev_minor split.
                        let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
                        let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
                        let _ = write!(s, "st_rdev=makedev({major:#x}, {minor:#x}), ...}}");
                    } else {
                        let _ = write!(s, "st_size={size}, ...}}");
                    }
                }
                None => s.push_str(&ptr(v)),
            }
        }
    }
}

/// `S_IFDIR` for the file type bits of a mode.
fn file_type(mode: u32) -> &'static str {
    match mode & 0o170000 {
        0o100000 => "S_IFREG",
        0o040000 => "S_IFDIR",
        0o120000 => "S_IFLNK",
        0o020000 => "S_IFCHR",
        0o060000 => "S_IFBLK",
        0o010000 => "S_IFIFO",
        0o140000 => "S_IFSOCK",
        _ => "0",
    }
}

/// `S_ISVTX|0777`: the set-id and sticky bits by name, then the octal
/// permissions, as strace writes a mode after its file type.
fn perm_bits(mode: u32) -> String {
    let mut s = String::new();
    for (bit, name) in [
        (0o4000, "S_ISUID"),
        (0o2000, "S_ISGID"),
        (0o1000, "S_ISVTX"),
    ] {
        if mode & bit != 0 {
            s.push_str(name);
            s.push('|');
        }
    }
    let _ = write!(s, "0{:o}", mode & 0o777);
    s
}

/// An rlimit value as strace writes it: `RLIM64_INFINITY`, `8192*1024`.
fn rlim(v: u64) -> String {
    if v == u64::MAX {
        "RLIM64_INFINITY".into()
    } else if v > 0 && v % 1024 == 0 {
        format!("{}*1024", v / 1024)
    } else {
        v.to_string()
    }
}

/// `O_RDONLY|O_CLOEXEC` (x86_64 values).
fn open_flags(v: u64) -> String {
    let mut s = match v & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "O_ACCMODE",
    }
    .to_string();
    let known = OPEN.bits.iter().fold(0, |m, (bit, _)| m | bit);
    let flags = v & !3 & known;
    if flags != 0 {
        s.push('|');
        s.push_str(&flag_names(flags, &OPEN));
    }
    // Unknown bits in octal, as the flags are written in C.
    let rest = v & !3 & !known;
    if rest != 0 {
        let _ = write!(s, "|{rest:#o}");
    }
    s
}

const OPEN: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0o100, "O_CREAT"),
        (0o200, "O_EXCL"),
        (0o400, "O_NOCTTY"),
        (0o1000, "O_TRUNC"),
        (0o2000, "O_APPEND"),
        (0o4000, "O_NONBLOCK"),
        (0o10000, "O_DSYNC"),
        (0o40000, "O_DIRECT"),
        // Set by the kernel on every 64-bit open: F_GETFL reports it.
        (0o100000, "O_LARGEFILE"),
        (0o1000000, "O_NOATIME"),
        (0o2000000, "O_CLOEXEC"),
        // strace lists these after O_CLOEXEC.
        (0o200000, "O_DIRECTORY"),
        (0o400000, "O_NOFOLLOW"),
    ],
};

/// `name(args` without the closing parenthesis.
fn call_text(nr: u32, args: &[u64; 6], ret: Option<i64>, caps: &Caps<'_, '_>) -> String {
    let name = syscall_name(nr);
    let mut s = String::with_capacity(64);
    s.push_str(&name);
    s.push('(');
    s.push_str(&args_text(nr, args, ret, caps, 0..6));
    s
}

/// The arguments strace can show before the call returns: up to the first
/// one the kernel fills in.
fn args_known_at_entry(nr: u32) -> usize {
    let name = syscall_name(nr);
    // Their third argument receives the old action or mask.
    if matches!(&*name, "rt_sigaction" | "rt_sigprocmask") {
        return 2;
    }
    match signature(&name) {
        Some(sig) => sig
            .iter()
            .position(|k| {
                matches!(
                    k,
                    Out | Stat
                        | Statx
                        | OutStr
                        | RlimOut
                        | Dirents
                        | SockLenOut
                        | IntOut
                        | Sysinfo
                        | SockaddrOut
                        | OptOut
                        | Fds2
                        | WaitStatus
                        | Utsname
                        | OutHex
                )
            })
            .unwrap_or(sig.len()),
        None => 6,
    }
}

/// Arguments `range` of a call, comma separated.
fn args_text(
    nr: u32,
    args: &[u64; 6],
    ret: Option<i64>,
    caps: &Caps<'_, '_>,
    range: std::ops::Range<usize>,
) -> String {
    let name = syscall_name(nr);
    let mut s = String::with_capacity(64);
    let first = range.start;
    if name == "clone" {
        // All its arguments are known at entry.
        if first == 0 {
            s.push_str(&clone_text(args));
        }
        return s;
    }
    match signature(&name) {
        Some(sig) => {
            // strace shows only the arguments a futex operation or an
            // fcntl command reads.
            let shown = match &*name {
                "fcntl" => match args[1] {
                    1 | 3 | 1025 | 1032 => 2, // F_GETFD, F_GETFL, F_GETLEASE, F_GETPIPE_SZ
                    _ => 3,
                },
                "futex" => match args[1] & 0x7f {
                    1 | 7 | 8 => 3,  // WAKE, UNLOCK_PI, TRYLOCK_PI
                    0 | 6 | 13 => 4, // WAIT, LOCK_PI, LOCK_PI2: + timeout
                    _ => 6,
                },
                _ => sig.len(),
            };
            for (i, k) in sig.iter().enumerate().take(shown) {
                if *k == Oct && i > 0 && sig[i - 1] == OFlags && args[i - 1] & 0o100 == 0 {
                    break;
                }
                if !range.contains(&i) {
                    continue;
                }
                if i > first {
                    s.push_str(", ");
                }
                fmt_arg(&mut s, *k, i, args, ret, caps);
            }
        }
        None => {
            for (i, a) in args.iter().enumerate() {
                if !range.contains(&i) {
                    continue;
                }
                if i > first {
                    s.push_str(", ");
                }
                s.push_str(&ptr(*a));
            }
        }
    }
    s
}

/// A wait status as strace writes it, inside the brackets.
fn wait_status_text(st: i32) -> String {
    let sig = st & 0x7f;
    if sig == 0 {
        format!("{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}", (st >> 8) & 0xff)
    } else if st & 0xff == 0x7f {
        let stop = format!(
            "{{WIFSTOPPED(s) && WSTOPSIG(s) == {}}}",
            signal_name((st >> 8) & 0xff)
        );
        match st >> 16 {
            0 => stop,
            ev => format!("{stop} | {ev} << 16"),
        }
    } else if st == 0xffff {
        "{WIFCONTINUED(s)}".into()
    } else {
        let core = if st & 0x80 != 0 {
            " && WCOREDUMP(s)"
        } else {
            ""
        };
        format!(
            "{{WIFSIGNALED(s) && WTERMSIG(s) == {}{core}}}",
            signal_name(sig)
        )
    }
}

/// A sockaddr as strace writes it.
fn sockaddr_text(d: &[u8]) -> String {
    let fam = u16::from_le_bytes([d[0], d[1]]);
    match fam {
        1 => {
            let p = &d[2..];
            let end = p.iter().position(|&c| c == 0).unwrap_or(p.len());
            format!(
                "{{sa_family=AF_UNIX, sun_path={}}}",
                quoted(&p[..end], false)
            )
        }
        2 if d.len() >= 8 => {
            let port = u16::from_be_bytes([d[2], d[3]]);
            let a = &d[4..8];
            format!(
                "{{sa_family=AF_INET, sin_port=htons({port}), sin_addr=inet_addr(\"{}.{}.{}.{}\")}}",
                a[0], a[1], a[2], a[3]
            )
        }
        f => format!("{{sa_family={}, ...}}", named(DOMAIN, f.into())),
    }
}

/// A call that succeeded (its exit is known and not an error).
fn ok(ret: Option<i64>) -> bool {
    ret.is_some_and(|r| !is_error(r))
}

/// The return value as strace writes it; `args` (when the entry is known)
/// names what an fcntl command returns, `caps` what poll found.
fn ret_text(nr: u32, ret: i64, args: Option<&[u64; 6]>, caps: Option<&Caps<'_, '_>>) -> String {
    if is_error(ret) {
        return format!("-1 {}", errno_text(-ret as i32));
    }
    let name = syscall_name(nr);
    if &*name == "poll" {
        if ret == 0 {
            return "0 (Timeout)".into();
        }
        if let Some(m) = caps.and_then(|c| c.exit.iter().find(|m| m.arg == 0)) {
            return format!("{ret} ({})", pollfds_text(m.data, true));
        }
    }
    match (&*name, args.map(|a| a[1])) {
        ("mmap" | "brk" | "mremap", _) => format!("{:#x}", ret as u64),
        // F_GETFD: 0 stays 0.
        ("fcntl", Some(1)) if ret != 0 => {
            format!("{ret:#x} (flags {})", flag_names(ret as u64, &FD_FLAGS))
        }
        // F_GETFL; C's %#x writes 0 as 0.
        ("fcntl", Some(3)) => {
            let hex = if ret == 0 {
                "0".to_string()
            } else {
                format!("{ret:#x}")
            };
            format!("{hex} (flags {})", open_flags(ret as u64))
        }
        _ => ret.to_string(),
    }
}

const FD_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(1, "FD_CLOEXEC")],
};

/// x86_64 struct sysinfo: eight longs (uptime, loads[3], RAM sizes), procs
/// (u16) at 80, totalhigh and freehigh at 88 and 96, mem_unit (u32) at 104.
fn sysinfo_text(d: &[u8]) -> String {
    let l = |o: usize| u64_at(d, o).unwrap_or(0);
    let procs = u16::from_le_bytes([d[80], d[81]]);
    let mem_unit = u32::from_le_bytes([d[104], d[105], d[106], d[107]]);
    format!(
        "{{uptime={}, loads=[{}, {}, {}], totalram={}, freeram={}, sharedram={}, \
         bufferram={}, totalswap={}, freeswap={}, procs={procs}, totalhigh={}, \
         freehigh={}, mem_unit={mem_unit}}}",
        l(0) as i64,
        l(8),
        l(16),
        l(24),
        l(32),
        l(40),
        l(48),
        l(56),
        l(64),
        l(72),
        l(88),
        l(96)
    )
}

/// Pads the call text to strace's 40th column before ` = `.
fn finish(s: &mut String, start: usize, ret: &str) {
    let w = s.len() - start;
    if w < 39 {
        s.extend(std::iter::repeat_n(' ', 39 - w));
    }
    s.push_str(" = ");
    s.push_str(ret);
}

fn siginfo_text(signo: i32, si: &[u8]) -> String {
    let name = signal_name(signo);
    if si.len() < 16 {
        return format!("{{si_signo={name}}}");
    }
    let i32_at = |o: usize| i32_at(si, o).unwrap_or(0);
    let code = i32_at(8);
    let mut s = format!("{{si_signo={name}, si_code=");
    if signo == 17 && code > 0 {
        let c = [
            "?",
            "CLD_EXITED",
            "CLD_KILLED",
            "CLD_DUMPED",
            "CLD_TRAPPED",
            "CLD_STOPPED",
            "CLD_CONTINUED",
        ];
        s.push_str(c.get(code as usize).unwrap_or(&"?"));
        let status = i32_at(24);
        let st = if code == 1 {
            status.to_string()
        } else {
            signal_name(status)
        };
        let _ = write!(
            s,
            ", si_pid={}, si_uid={}, si_status={st}, si_utime={}, si_stime={}}}",
            i32_at(16),
            i32_at(20),
            u64_at(si, 32).unwrap_or(0),
            u64_at(si, 40).unwrap_or(0)
        );
        return s;
    }
    match code {
        0 | -6 | -1 => {
            s.push_str(match code {
                0 => "SI_USER",
                -6 => "SI_TKILL",
                _ => "SI_QUEUE",
            });
            let _ = write!(s, ", si_pid={}, si_uid={}}}", i32_at(16), i32_at(20));
        }
        0x80 => s.push_str("SI_KERNEL}"),
        c if matches!(signo, 4 | 7 | 8 | 11) => {
            let names: &[&str] = match signo {
                11 => &["?", "SEGV_MAPERR", "SEGV_ACCERR"],
                7 => &["?", "BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR"],
                _ => &["?"],
            };
            match names.get(c as usize) {
                Some(n) if c > 0 => s.push_str(n),
                _ => {
                    let _ = write!(s, "{c}");
                }
            }
            let _ = write!(s, ", si_addr={}}}", ptr(u64_at(si, 16).unwrap_or(0)));
        }
        c => {
            let _ = write!(s, "{c}}}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigchld_siginfo_is_decoded_like_strace() {
        let mut si = [0u8; 128];
        si[0..4].copy_from_slice(&17i32.to_le_bytes());
        si[8..12].copy_from_slice(&1i32.to_le_bytes());
        si[16..20].copy_from_slice(&1235i32.to_le_bytes());
        si[20..24].copy_from_slice(&1000i32.to_le_bytes());
        assert_eq!(
            siginfo_text(17, &si),
            "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=1235, si_uid=1000, si_status=0, si_utime=0, si_stime=0}"
        );
    }

    #[test]
    fn returns_show_errno_name_and_description() {
        assert_eq!(
            ret_text(257, -2, None, None),
            "-1 ENOENT (No such file or directory)"
        );
        assert_eq!(ret_text(12, 0x5000, None, None), "0x5000");
        assert_eq!(ret_text(0, 5, None, None), "5");
    }

    #[test]
    fn wait_statuses_are_written_as_strace_writes_them() {
        assert_eq!(
            wait_status_text(3 << 8),
            "{WIFEXITED(s) && WEXITSTATUS(s) == 3}"
        );
        assert_eq!(
            wait_status_text(9),
            "{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}"
        );
        assert_eq!(
            wait_status_text(11 | 0x80),
            "{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}"
        );
        assert_eq!(
            wait_status_text(0x137f),
            "{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}"
        );
        assert_eq!(wait_status_text(0xffff), "{WIFCONTINUED(s)}");
    }

    #[test]
    fn fcntl_returns_are_named_by_their_command() {
        let getfd = [3, 1, 0, 0, 0, 0];
        let getfl = [3, 3, 0, 0, 0, 0];
        assert_eq!(ret_text(72, 0, Some(&getfd), None), "0");
        assert_eq!(
            ret_text(72, 1, Some(&getfd), None),
            "0x1 (flags FD_CLOEXEC)"
        );
        assert_eq!(
            ret_text(72, 0x8002, Some(&getfl), None),
            "0x8002 (flags O_RDWR|O_LARGEFILE)"
        );
        assert_eq!(ret_text(72, 0, Some(&getfl), None), "0 (flags O_RDONLY)");
        // Without the entry, or for another command, the number alone.
        assert_eq!(ret_text(72, 0x8002, None, None), "32770");
        assert_eq!(ret_text(72, 11, Some(&[3, 1030, 10, 0, 0, 0]), None), "11");
    }
}
