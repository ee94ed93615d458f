//! Names of flag words and enumerations as strace prints them (x86_64
//! values; the generic ones are the same on every architecture Linux has
//! a 64-bit port of, except where a table says otherwise).

use std::fmt::Write;

use crate::names::signal_name;
use crate::text::push_hex;
use crate::Arch;

#[derive(PartialEq, Eq)]
pub(crate) struct FlagSet {
    pub(crate) zero: &'static str,
    /// `zero` names a value of some bits (`zero_mask`), written first
    /// whenever those bits are clear (AT_STATX_SYNC_AS_STAT).
    pub(crate) zero_mask: u64,
    pub(crate) bits: &'static [(u64, &'static str)],
}

pub(crate) const PROT: FlagSet = FlagSet {
    zero: "PROT_NONE",
    zero_mask: 0,
    bits: &[(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")],
};

pub(crate) const MAP: FlagSet = FlagSet {
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

pub(crate) const ACCESS: FlagSet = FlagSet {
    zero: "F_OK",
    zero_mask: 0,
    bits: &[(4, "R_OK"), (2, "W_OK"), (1, "X_OK")],
};

pub(crate) const AT: FlagSet = FlagSet {
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
pub(crate) const AT_ACCESS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x100, "AT_SYMLINK_NOFOLLOW"),
        (0x200, "AT_EACCESS"),
        (0x1000, "AT_EMPTY_PATH"),
    ],
};

pub(crate) const PIPE_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0o4000, "O_NONBLOCK"),
        (0o40000, "O_DIRECT"),
        (0o2000000, "O_CLOEXEC"),
        (0o40000000, "O_NOTIFICATION_PIPE"),
    ],
};

pub(crate) const PIPE_FLAGS_AARCH64: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0o4000, "O_NONBLOCK"),
        (0o200000, "O_DIRECT"),
        (0o2000000, "O_CLOEXEC"),
        (0o40000000, "O_NOTIFICATION_PIPE"),
    ],
};

/// renameat2(2)'s flags.
pub(crate) const RENAME_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "RENAME_NOREPLACE"),
        (2, "RENAME_EXCHANGE"),
        (4, "RENAME_WHITEOUT"),
    ],
};

/// setxattr(2)'s flags.
pub(crate) const XATTR_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(1, "XATTR_CREATE"), (2, "XATTR_REPLACE")],
};

/// personality(2)'s flags, above the type byte (linux/personality.h).
pub(crate) const PERSONALITY_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x0020000, "UNAME26"),
        (0x0040000, "ADDR_NO_RANDOMIZE"),
        (0x0080000, "FDPIC_FUNCPTRS"),
        (0x0100000, "MMAP_PAGE_ZERO"),
        (0x0200000, "ADDR_COMPAT_LAYOUT"),
        (0x0400000, "READ_IMPLIES_EXEC"),
        (0x0800000, "ADDR_LIMIT_32BIT"),
        (0x1000000, "SHORT_INODE"),
        (0x2000000, "WHOLE_SECONDS"),
        (0x4000000, "STICKY_TIMEOUTS"),
        (0x8000000, "ADDR_LIMIT_3GB"),
    ],
};

/// personality(2)'s types, the low byte of a persona: the ones whose
/// value is that byte alone (strace looks the byte up in the whole list).
pub(crate) const PERSONALITY_TYPES: &[(u64, &str)] = &[
    (0x00, "PER_LINUX"),
    (0x06, "PER_BSD"),
    (0x08, "PER_LINUX32"),
    (0x0c, "PER_RISCOS"),
    (0x0f, "PER_OSF4"),
    (0x10, "PER_HPUX"),
    (0xff, "PER_MASK"),
];

pub(crate) const CLOSE_RANGE: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(2, "CLOSE_RANGE_UNSHARE"), (4, "CLOSE_RANGE_CLOEXEC")],
};

pub(crate) const GRND: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "GRND_NONBLOCK"),
        (2, "GRND_RANDOM"),
        (4, "GRND_INSECURE"),
    ],
};

pub(crate) const ARCH_PRCTL: &[(u64, &str)] = &[
    (0x1001, "ARCH_SET_GS"),
    (0x1002, "ARCH_SET_FS"),
    (0x1003, "ARCH_GET_FS"),
    (0x1004, "ARCH_GET_GS"),
    (0x1011, "ARCH_GET_CPUID"),
    (0x1012, "ARCH_SET_CPUID"),
];

pub(crate) const FADVISE: &[(u64, &str)] = &[
    (0, "POSIX_FADV_NORMAL"),
    (1, "POSIX_FADV_RANDOM"),
    (2, "POSIX_FADV_SEQUENTIAL"),
    (3, "POSIX_FADV_WILLNEED"),
    (4, "POSIX_FADV_DONTNEED"),
    (5, "POSIX_FADV_NOREUSE"),
];

pub(crate) const FUTEX_CMD: &[(u64, &str)] = &[
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
pub(crate) fn futex_op(v: u64) -> String {
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
pub(crate) const AT_STATX: FlagSet = FlagSet {
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

pub(crate) const STATX_MASK: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0xfff, "STATX_ALL"),
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

pub(crate) const STATX_ATTR: FlagSet = FlagSet {
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

pub(crate) const WAIT_OPTS: FlagSet = FlagSet {
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

pub(crate) const EPOLL_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(0o2000000, "EPOLL_CLOEXEC")],
};

pub(crate) const CLONE_FLAGS: FlagSet = FlagSet {
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

pub(crate) const SIG_HOW: &[(u64, &str)] =
    &[(0, "SIG_BLOCK"), (1, "SIG_UNBLOCK"), (2, "SIG_SETMASK")];

/// In strace's order (its sigact_flags table).
pub(crate) const SA_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x0400_0000, "SA_RESTORER"),
        (0x0800_0000, "SA_ONSTACK"),
        (0x1000_0000, "SA_RESTART"),
        (0x2000_0000, "SA_INTERRUPT"),
        (0x4000_0000, "SA_NODEFER"),
        (0x8000_0000, "SA_RESETHAND"),
        (0x4, "SA_SIGINFO"),
        (0x1, "SA_NOCLDSTOP"),
        (0x2, "SA_NOCLDWAIT"),
    ],
};

/// `[INT TERM]`, or `~[...]` of the complement when most signals are in
/// the set, as strace writes signal masks.
pub(crate) fn sigset_text(mask: u64) -> String {
    let names = |m: u64| -> Vec<String> {
        (1..=64)
            .filter(|n| m & (1u64 << (n - 1)) != 0)
            .map(|n| {
                let name = signal_name(n);
                name.strip_prefix("SIG").unwrap_or(&name).to_string()
            })
            .collect()
    };
    if mask.count_ones() > 32 {
        format!("~[{}]", names(!mask).join(" "))
    } else {
        format!("[{}]", names(mask).join(" "))
    }
}

pub(crate) const WHENCE: &[(u64, &str)] = &[
    (0, "SEEK_SET"),
    (1, "SEEK_CUR"),
    (2, "SEEK_END"),
    (3, "SEEK_DATA"),
    (4, "SEEK_HOLE"),
];

pub(crate) const DOMAIN: &[(u64, &str)] = &[
    (1, "AF_UNIX"),
    (2, "AF_INET"),
    (10, "AF_INET6"),
    (16, "AF_NETLINK"),
    (17, "AF_PACKET"),
];

/// A socket type (the low bits) and its SOCK_NONBLOCK/SOCK_CLOEXEC flags.
pub(crate) const SOCK_TYPE: FlagSet = FlagSet {
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
pub(crate) const MSG: FlagSet = FlagSet {
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

pub(crate) const SHUT: &[(u64, &str)] = &[(0, "SHUT_RD"), (1, "SHUT_WR"), (2, "SHUT_RDWR")];

pub(crate) const IPPROTO: &[(u64, &str)] = &[
    (0, "IPPROTO_IP"),
    (1, "IPPROTO_ICMP"),
    (6, "IPPROTO_TCP"),
    (17, "IPPROTO_UDP"),
    (58, "IPPROTO_ICMPV6"),
    (132, "IPPROTO_SCTP"),
];

/// Option levels as strace names them (SOL_TCP for IPPROTO_TCP).
pub(crate) const SOL: &[(u64, &str)] = &[
    (0, "SOL_IP"),
    (1, "SOL_SOCKET"),
    (6, "SOL_TCP"),
    (17, "SOL_UDP"),
    (41, "SOL_IPV6"),
];

pub(crate) const SO: &[(u64, &str)] = &[
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

pub(crate) const TCP_OPT: &[(u64, &str)] = &[
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

pub(crate) const IPV6_OPT: &[(u64, &str)] = &[(26, "IPV6_V6ONLY")];

pub(crate) const POLL: FlagSet = FlagSet {
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
pub(crate) fn named(table: &[(u64, &str)], v: u64) -> String {
    let mut s = String::new();
    push_named(&mut s, table, v);
    s
}

/// Appends [`named`]'s text.
pub(crate) fn push_named(s: &mut String, table: &[(u64, &str)], v: u64) {
    match table.iter().find(|(n, _)| *n == v) {
        Some((_, name)) => s.push_str(name),
        None => push_hex(s, v),
    }
}

pub(crate) const IOCTL: &[(u64, &str)] = &[
    (0x5401, "TCGETS"),
    // strace names both requests these numbers have.
    (0x5402, "SNDCTL_TMR_START or TCSETS"),
    (0x5403, "SNDCTL_TMR_STOP or TCSETSW"),
    (0x5404, "SNDCTL_TMR_CONTINUE or TCSETSF"),
    (0x540f, "TIOCGPGRP"),
    (0x5410, "TIOCSPGRP"),
    (0x5413, "TIOCGWINSZ"),
    (0x5414, "TIOCSWINSZ"),
    (0x541b, "FIONREAD"),
    (0x5421, "FIONBIO"),
    (0x5451, "FIOCLEX"),
    (0x5450, "FIONCLEX"),
    (0x4004_9409, "BTRFS_IOC_CLONE or FICLONE"),
];

pub(crate) const FCNTL: &[(u64, &str)] = &[
    (0, "F_DUPFD"),
    (1, "F_GETFD"),
    (2, "F_SETFD"),
    (3, "F_GETFL"),
    (4, "F_SETFL"),
    (5, "F_GETLK"),
    (6, "F_SETLK"),
    (7, "F_SETLKW"),
    (8, "F_SETOWN"),
    (9, "F_GETOWN"),
    (10, "F_SETSIG"),
    (11, "F_GETSIG"),
    (36, "F_OFD_GETLK"),
    (37, "F_OFD_SETLK"),
    (38, "F_OFD_SETLKW"),
    (1024, "F_SETLEASE"),
    (1025, "F_GETLEASE"),
    (1026, "F_NOTIFY"),
    (1030, "F_DUPFD_CLOEXEC"),
    (1031, "F_SETPIPE_SZ"),
    (1032, "F_GETPIPE_SZ"),
    (1033, "F_ADD_SEALS"),
    (1034, "F_GET_SEALS"),
];

pub(crate) const RLIMIT: &[(u64, &str)] = &[
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
pub(crate) fn flag_names(v: u64, set: &FlagSet) -> String {
    let mut s = String::new();
    push_flags(&mut s, v, set);
    s
}

/// Appends [`flag_names`]' text.
pub(crate) fn push_flags(out: &mut String, v: u64, set: &FlagSet) {
    if v == 0 {
        out.push_str(set.zero);
        return;
    }
    let start = out.len();
    if set.zero_mask != 0 && v & set.zero_mask == 0 {
        out.push_str(set.zero);
    }
    let mut rest = v;
    for &(bit, name) in set.bits {
        // A name of several bits stands only for all of them.
        if rest & bit == bit {
            if out.len() > start {
                out.push('|');
            }
            out.push_str(name);
            rest &= !bit;
        }
    }
    if rest != 0 {
        if out.len() > start {
            out.push('|');
        }
        push_hex(out, rest);
    }
}

/// `S_IFDIR` for the file type bits of a mode.
pub(crate) fn file_type(mode: u32) -> &'static str {
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
pub(crate) fn push_perm_bits(s: &mut String, mode: u32) {
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
    // `0` and the octal digits without fmt (a stat struct in every other
    // line of a find's replay).
    let v = mode & 0o777;
    s.push('0');
    for shift in [6, 3, 0] {
        if v >> shift != 0 || shift == 0 {
            s.push(char::from(b'0' + ((v >> shift) & 7) as u8));
        }
    }
}

/// An rlimit value as strace writes it: `RLIM64_INFINITY`, `8192*1024`.
pub(crate) fn rlim(v: u64) -> String {
    if v == u64::MAX {
        "RLIM64_INFINITY".into()
    } else if v > 0 && v % 1024 == 0 {
        format!("{}*1024", v / 1024)
    } else {
        v.to_string()
    }
}

/// Appends open(2)'s flags of `arch` as strace writes them: the access
/// mode, then the flags.
pub(crate) fn push_open_flags(s: &mut String, arch: Arch, v: u64) {
    let open = open_set(arch);
    s.push_str(match v & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "O_ACCMODE",
    });
    let known = open.bits.iter().fold(0, |m, (bit, _)| m | bit);
    let flags = v & !3 & known;
    if flags != 0 {
        s.push('|');
        push_flags(s, flags, open);
    }
    // Unknown bits in octal, as the flags are written in C.
    let rest = v & !3 & !known;
    if rest != 0 {
        let _ = write!(s, "|{rest:#o}");
    }
}

/// x86_64's open flags (asm-generic/fcntl.h).
pub(crate) const OPEN: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0o100, "O_CREAT"),
        (0o200, "O_EXCL"),
        (0o400, "O_NOCTTY"),
        (0o1000, "O_TRUNC"),
        (0o2000, "O_APPEND"),
        (0o4000, "O_NONBLOCK"),
        // O_SYNC is __O_SYNC|O_DSYNC.
        (0o4010000, "O_SYNC"),
        (0o4000000, "__O_SYNC"),
        (0o10000, "O_DSYNC"),
        (0o40000, "O_DIRECT"),
        // Set by the kernel on every 64-bit open: F_GETFL reports it.
        (0o100000, "O_LARGEFILE"),
        (0o400000, "O_NOFOLLOW"),
        (0o1000000, "O_NOATIME"),
        (0o2000000, "O_CLOEXEC"),
        (0o10000000, "O_PATH"),
        // O_TMPFILE is __O_TMPFILE|O_DIRECTORY; strace lists O_DIRECTORY
        // after it, last but FASYNC.
        (0o20200000, "O_TMPFILE"),
        (0o20000000, "__O_TMPFILE"),
        (0o200000, "O_DIRECTORY"),
        (0o20000, "FASYNC"),
    ],
};

/// aarch64's open flags: four bits differ from x86_64's (arm64's
/// asm/fcntl.h), in the same order.
pub(crate) const OPEN_AARCH64: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0o100, "O_CREAT"),
        (0o200, "O_EXCL"),
        (0o400, "O_NOCTTY"),
        (0o1000, "O_TRUNC"),
        (0o2000, "O_APPEND"),
        (0o4000, "O_NONBLOCK"),
        (0o4010000, "O_SYNC"),
        (0o4000000, "__O_SYNC"),
        (0o10000, "O_DSYNC"),
        (0o200000, "O_DIRECT"),
        (0o400000, "O_LARGEFILE"),
        (0o100000, "O_NOFOLLOW"),
        (0o1000000, "O_NOATIME"),
        (0o2000000, "O_CLOEXEC"),
        (0o10000000, "O_PATH"),
        (0o20040000, "O_TMPFILE"),
        (0o20000000, "__O_TMPFILE"),
        (0o40000, "O_DIRECTORY"),
        (0o20000, "FASYNC"),
    ],
};

/// The open flags of `arch`.
pub(crate) fn open_set(arch: Arch) -> &'static FlagSet {
    match arch {
        Arch::X86_64 => &OPEN,
        Arch::Aarch64 => &OPEN_AARCH64,
    }
}

/// pipe2's and dup3's flags of `arch` (O_DIRECT differs).
pub(crate) fn pipe_set(arch: Arch) -> &'static FlagSet {
    match arch {
        Arch::X86_64 => &PIPE_FLAGS,
        Arch::Aarch64 => &PIPE_FLAGS_AARCH64,
    }
}

pub(crate) const FD_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(1, "FD_CLOEXEC")],
};

pub(crate) const EPOLL_CTL: &[(u64, &str)] = &[
    (1, "EPOLL_CTL_ADD"),
    (2, "EPOLL_CTL_DEL"),
    (3, "EPOLL_CTL_MOD"),
];

pub(crate) const EPOLL_EVENTS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x1, "EPOLLIN"),
        (0x2, "EPOLLPRI"),
        (0x4, "EPOLLOUT"),
        (0x8, "EPOLLERR"),
        (0x10, "EPOLLHUP"),
        (0x20, "EPOLLNVAL"),
        (0x40, "EPOLLRDNORM"),
        (0x80, "EPOLLRDBAND"),
        (0x100, "EPOLLWRNORM"),
        (0x200, "EPOLLWRBAND"),
        (0x400, "EPOLLMSG"),
        (0x2000, "EPOLLRDHUP"),
        (0x1000_0000, "EPOLLEXCLUSIVE"),
        (0x2000_0000, "EPOLLWAKEUP"),
        (0x4000_0000, "EPOLLONESHOT"),
        (0x8000_0000, "EPOLLET"),
    ],
};

pub(crate) const MADV: &[(u64, &str)] = &[
    (0, "MADV_NORMAL"),
    (1, "MADV_RANDOM"),
    (2, "MADV_SEQUENTIAL"),
    (3, "MADV_WILLNEED"),
    (4, "MADV_DONTNEED"),
    (8, "MADV_FREE"),
    (9, "MADV_REMOVE"),
    (10, "MADV_DONTFORK"),
    (11, "MADV_DOFORK"),
    (12, "MADV_MERGEABLE"),
    (13, "MADV_UNMERGEABLE"),
    (14, "MADV_HUGEPAGE"),
    (15, "MADV_NOHUGEPAGE"),
    (16, "MADV_DONTDUMP"),
    (17, "MADV_DODUMP"),
    (18, "MADV_WIPEONFORK"),
    (19, "MADV_KEEPONFORK"),
    (20, "MADV_COLD"),
    (21, "MADV_PAGEOUT"),
    (22, "MADV_POPULATE_READ"),
    (23, "MADV_POPULATE_WRITE"),
    (24, "MADV_DONTNEED_LOCKED"),
    (25, "MADV_COLLAPSE"),
    (100, "MADV_HWPOISON"),
    (101, "MADV_SOFT_OFFLINE"),
];

pub(crate) const ITIMER: &[(u64, &str)] = &[
    (0, "ITIMER_REAL"),
    (1, "ITIMER_VIRTUAL"),
    (2, "ITIMER_PROF"),
];

pub(crate) const CLOCKS: &[(u64, &str)] = &[
    (0, "CLOCK_REALTIME"),
    (1, "CLOCK_MONOTONIC"),
    (2, "CLOCK_PROCESS_CPUTIME_ID"),
    (3, "CLOCK_THREAD_CPUTIME_ID"),
    (4, "CLOCK_MONOTONIC_RAW"),
    (5, "CLOCK_REALTIME_COARSE"),
    (6, "CLOCK_MONOTONIC_COARSE"),
    (7, "CLOCK_BOOTTIME"),
    (8, "CLOCK_REALTIME_ALARM"),
    (9, "CLOCK_BOOTTIME_ALARM"),
    (11, "CLOCK_TAI"),
];

pub(crate) const TIMER_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(1, "TIMER_ABSTIME")],
};

pub(crate) const RESOLVE: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x01, "RESOLVE_NO_XDEV"),
        (0x02, "RESOLVE_NO_MAGICLINKS"),
        (0x04, "RESOLVE_NO_SYMLINKS"),
        (0x08, "RESOLVE_BENEATH"),
        (0x10, "RESOLVE_IN_ROOT"),
        (0x20, "RESOLVE_CACHED"),
    ],
};

/// waitid(2)'s idtype.
pub(crate) const IDTYPE: &[(u64, &str)] =
    &[(0, "P_ALL"), (1, "P_PID"), (2, "P_PGID"), (3, "P_PIDFD")];

pub(crate) const SS_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "SS_ONSTACK"),
        (2, "SS_DISABLE"),
        (0x8000_0000, "SS_AUTODISARM"),
    ],
};

/// struct flock's l_type.
pub(crate) const LOCK_TYPE: &[(u64, &str)] = &[(0, "F_RDLCK"), (1, "F_WRLCK"), (2, "F_UNLCK")];

/// flock(2)'s operation.
pub(crate) const FLOCK_OP: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "LOCK_SH"),
        (2, "LOCK_EX"),
        (4, "LOCK_NB"),
        (8, "LOCK_UN"),
    ],
};

/// prctl(2) options, with how many arguments after the option strace
/// shows for each (`None`: all four).
pub(crate) const PRCTL: &[(u64, &str)] = &[
    (1, "PR_SET_PDEATHSIG"),
    (2, "PR_GET_PDEATHSIG"),
    (3, "PR_GET_DUMPABLE"),
    (4, "PR_SET_DUMPABLE"),
    (7, "PR_GET_KEEPCAPS"),
    (8, "PR_SET_KEEPCAPS"),
    (15, "PR_SET_NAME"),
    (16, "PR_GET_NAME"),
    (21, "PR_GET_SECCOMP"),
    (22, "PR_SET_SECCOMP"),
    (23, "PR_CAPBSET_READ"),
    (24, "PR_CAPBSET_DROP"),
    (29, "PR_SET_TIMERSLACK"),
    (30, "PR_GET_TIMERSLACK"),
    (36, "PR_SET_CHILD_SUBREAPER"),
    (37, "PR_GET_CHILD_SUBREAPER"),
    (38, "PR_SET_NO_NEW_PRIVS"),
    (39, "PR_GET_NO_NEW_PRIVS"),
    (47, "PR_CAP_AMBIENT"),
    (0x59616d61, "PR_SET_PTRACER"),
];

pub(crate) const SUID_DUMP: &[(u64, &str)] = &[
    (0, "SUID_DUMP_DISABLE"),
    (1, "SUID_DUMP_USER"),
    (2, "SUID_DUMP_ROOT"),
];

/// si_code values common to every signal (the kernel's SI_*).
pub(crate) const SI_CODES: &[(i64, &str)] = &[
    (0, "SI_USER"),
    (0x80, "SI_KERNEL"),
    (-1, "SI_QUEUE"),
    (-2, "SI_TIMER"),
    (-3, "SI_MESGQ"),
    (-4, "SI_ASYNCIO"),
    (-5, "SI_SIGIO"),
    (-6, "SI_TKILL"),
    (-7, "SI_DETHREAD"),
    (-60, "SI_ASYNCNL"),
];

/// si_code names of one signal's own codes, from 1.
pub(crate) fn signal_codes(signo: i32) -> &'static [&'static str] {
    match signo {
        4 => &[
            "ILL_ILLOPC",
            "ILL_ILLOPN",
            "ILL_ILLADR",
            "ILL_ILLTRP",
            "ILL_PRVOPC",
            "ILL_PRVREG",
            "ILL_COPROC",
            "ILL_BADSTK",
            "ILL_BADIADDR",
        ],
        5 => &[
            "TRAP_BRKPT",
            "TRAP_TRACE",
            "TRAP_BRANCH",
            "TRAP_HWBKPT",
            "TRAP_UNK",
            "TRAP_PERF",
        ],
        7 => &[
            "BUS_ADRALN",
            "BUS_ADRERR",
            "BUS_OBJERR",
            "BUS_MCEERR_AR",
            "BUS_MCEERR_AO",
        ],
        8 => &[
            "FPE_INTDIV",
            "FPE_INTOVF",
            "FPE_FLTDIV",
            "FPE_FLTOVF",
            "FPE_FLTUND",
            "FPE_FLTRES",
            "FPE_FLTINV",
            "FPE_FLTSUB",
            "FPE_FLTUNK",
            "FPE_CONDTRAP",
        ],
        11 => &[
            "SEGV_MAPERR",
            "SEGV_ACCERR",
            "SEGV_BNDERR",
            "SEGV_PKUERR",
            "SEGV_ACCADI",
            "SEGV_ADIDERR",
            "SEGV_ADIPERR",
            "SEGV_MTEAERR",
            "SEGV_MTESERR",
            "SEGV_CPERR",
        ],
        17 => &[
            "CLD_EXITED",
            "CLD_KILLED",
            "CLD_DUMPED",
            "CLD_TRAPPED",
            "CLD_STOPPED",
            "CLD_CONTINUED",
        ],
        29 => &[
            "POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP",
        ],
        31 => &["SYS_SECCOMP", "SYS_USER_DISPATCH"],
        _ => &[],
    }
}

/// Socket-level control message types (cmsg_type at SOL_SOCKET).
pub(crate) const SCM: &[(u64, &str)] = &[
    (1, "SCM_RIGHTS"),
    (2, "SCM_CREDENTIALS"),
    (29, "SCM_TIMESTAMP"),
    (35, "SCM_TIMESTAMPNS"),
];

/// The file type bits of a mode by name, for mknod: `S_IFIFO`.
pub(crate) fn mode_type_name(mode: u32) -> Option<&'static str> {
    match file_type(mode) {
        "0" => None,
        t => Some(t),
    }
}

/// preadv2/pwritev2 flags.
pub(crate) const RWF: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "RWF_HIPRI"),
        (2, "RWF_DSYNC"),
        (4, "RWF_SYNC"),
        (8, "RWF_NOWAIT"),
        (16, "RWF_APPEND"),
    ],
};

pub(crate) const MS_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "MS_RDONLY"),
        (2, "MS_NOSUID"),
        (4, "MS_NODEV"),
        (8, "MS_NOEXEC"),
        (16, "MS_SYNCHRONOUS"),
        (32, "MS_REMOUNT"),
        (64, "MS_MANDLOCK"),
        (128, "MS_DIRSYNC"),
        (256, "MS_NOSYMFOLLOW"),
        (1024, "MS_NOATIME"),
        (2048, "MS_NODIRATIME"),
        (4096, "MS_BIND"),
        (8192, "MS_MOVE"),
        (16384, "MS_REC"),
        (32768, "MS_SILENT"),
        (1 << 16, "MS_POSIXACL"),
        (1 << 17, "MS_UNBINDABLE"),
        (1 << 18, "MS_PRIVATE"),
        (1 << 19, "MS_SLAVE"),
        (1 << 20, "MS_SHARED"),
        (1 << 21, "MS_RELATIME"),
        (1 << 22, "MS_KERNMOUNT"),
        (1 << 23, "MS_I_VERSION"),
        (1 << 24, "MS_STRICTATIME"),
        (1 << 25, "MS_LAZYTIME"),
    ],
};

pub(crate) const UMOUNT_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "MNT_FORCE"),
        (2, "MNT_DETACH"),
        (4, "MNT_EXPIRE"),
        (8, "UMOUNT_NOFOLLOW"),
    ],
};

pub(crate) const IN_INIT: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(0o4000, "IN_NONBLOCK"), (0o2000000, "IN_CLOEXEC")],
};

pub(crate) const IN_MASK: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x1, "IN_ACCESS"),
        (0x2, "IN_MODIFY"),
        (0x4, "IN_ATTRIB"),
        (0x8, "IN_CLOSE_WRITE"),
        (0x10, "IN_CLOSE_NOWRITE"),
        (0x20, "IN_OPEN"),
        (0x40, "IN_MOVED_FROM"),
        (0x80, "IN_MOVED_TO"),
        (0x100, "IN_CREATE"),
        (0x200, "IN_DELETE"),
        (0x400, "IN_DELETE_SELF"),
        (0x800, "IN_MOVE_SELF"),
        (0x2000, "IN_UNMOUNT"),
        (0x4000, "IN_Q_OVERFLOW"),
        (0x8000, "IN_IGNORED"),
        (0x0100_0000, "IN_ONLYDIR"),
        (0x0200_0000, "IN_DONT_FOLLOW"),
        (0x0400_0000, "IN_EXCL_UNLINK"),
        (0x1000_0000, "IN_MASK_CREATE"),
        (0x2000_0000, "IN_MASK_ADD"),
        (0x4000_0000, "IN_ISDIR"),
        (0x8000_0000, "IN_ONESHOT"),
    ],
};

pub(crate) const TFD_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(0o4000, "TFD_NONBLOCK"), (0o2000000, "TFD_CLOEXEC")],
};

pub(crate) const TFD_SET: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(1, "TFD_TIMER_ABSTIME"), (2, "TFD_TIMER_CANCEL_ON_SET")],
};

pub(crate) const EFD_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "EFD_SEMAPHORE"),
        (0o4000, "EFD_NONBLOCK"),
        (0o2000000, "EFD_CLOEXEC"),
    ],
};

pub(crate) const SPLICE_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "SPLICE_F_MOVE"),
        (2, "SPLICE_F_NONBLOCK"),
        (4, "SPLICE_F_MORE"),
        (8, "SPLICE_F_GIFT"),
    ],
};

/// getrusage's who (an int: -1 is RUSAGE_CHILDREN).
pub(crate) const RUSAGE_WHO: &[(u64, &str)] = &[
    (0, "RUSAGE_SELF"),
    (0xffff_ffff, "RUSAGE_CHILDREN"),
    (1, "RUSAGE_THREAD"),
];

/// getpriority/setpriority's which.
pub(crate) const PRIO_WHICH: &[(u64, &str)] =
    &[(0, "PRIO_PROCESS"), (1, "PRIO_PGRP"), (2, "PRIO_USER")];

pub(crate) const MREMAP: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "MREMAP_MAYMOVE"),
        (2, "MREMAP_FIXED"),
        (4, "MREMAP_DONTUNMAP"),
    ],
};

pub(crate) const MSYNC: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(1, "MS_ASYNC"), (2, "MS_INVALIDATE"), (4, "MS_SYNC")],
};

pub(crate) const MLOCK2: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(1, "MLOCK_ONFAULT")],
};

pub(crate) const MCL: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(1, "MCL_CURRENT"), (2, "MCL_FUTURE"), (4, "MCL_ONFAULT")],
};

pub(crate) const FALLOC: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0x01, "FALLOC_FL_KEEP_SIZE"),
        (0x02, "FALLOC_FL_PUNCH_HOLE"),
        (0x04, "FALLOC_FL_NO_HIDE_STALE"),
        (0x08, "FALLOC_FL_COLLAPSE_RANGE"),
        (0x10, "FALLOC_FL_ZERO_RANGE"),
        (0x20, "FALLOC_FL_INSERT_RANGE"),
        (0x40, "FALLOC_FL_UNSHARE_RANGE"),
    ],
};

pub(crate) const SYNC_FILE_RANGE: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "SYNC_FILE_RANGE_WAIT_BEFORE"),
        (2, "SYNC_FILE_RANGE_WRITE"),
        (4, "SYNC_FILE_RANGE_WAIT_AFTER"),
    ],
};

pub(crate) const SCHED_POLICY: &[(u64, &str)] = &[
    (0, "SCHED_OTHER"),
    (1, "SCHED_FIFO"),
    (2, "SCHED_RR"),
    (3, "SCHED_BATCH"),
    (5, "SCHED_IDLE"),
    (6, "SCHED_DEADLINE"),
];
