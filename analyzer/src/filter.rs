//! `-e trace=SET` as strace parses it: names, classes, `!` to negate.

use rustc_hash::FxHashSet;

use crate::decode::syscall_nr;

const FILE: &[&str] = &[
    "open",
    "openat",
    "openat2",
    "creat",
    "stat",
    "lstat",
    "newfstatat",
    "statx",
    "access",
    "faccessat",
    "faccessat2",
    "execve",
    "execveat",
    "readlink",
    "readlinkat",
    "unlink",
    "unlinkat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "chdir",
    "chroot",
    "rename",
    "renameat",
    "renameat2",
    "chmod",
    "fchmodat",
    "chown",
    "lchown",
    "fchownat",
    "truncate",
    "statfs",
    "symlink",
    "symlinkat",
    "link",
    "linkat",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "mknod",
    "mknodat",
    "getxattr",
    "lgetxattr",
    "setxattr",
    "lsetxattr",
    "listxattr",
    "llistxattr",
    "removexattr",
    "lremovexattr",
    "inotify_add_watch",
    "name_to_handle_at",
    "mount",
    "umount2",
    "swapon",
    "swapoff",
    "acct",
    "pivot_root",
    "uselib",
    "fanotify_mark",
];
const PROCESS: &[&str] = &[
    "fork",
    "vfork",
    "clone",
    "clone3",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "kill",
    "tkill",
    "tgkill",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "pidfd_send_signal",
    "pidfd_open",
    "unshare",
];
const NETWORK: &[&str] = &[
    "socket",
    "socketpair",
    "bind",
    "connect",
    "listen",
    "accept",
    "accept4",
    "getsockname",
    "getpeername",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "shutdown",
    "setsockopt",
    "getsockopt",
];
const SIGNAL: &[&str] = &[
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "rt_sigsuspend",
    "sigaltstack",
    "kill",
    "tkill",
    "tgkill",
    "pause",
    "signalfd",
    "signalfd4",
    "pidfd_send_signal",
];
const DESC: &[&str] = &[
    "read",
    "write",
    "open",
    "openat",
    "openat2",
    "creat",
    "close",
    "close_range",
    "fstat",
    "newfstatat",
    "statx",
    "lseek",
    "mmap",
    "ioctl",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "pipe",
    "pipe2",
    "select",
    "pselect6",
    "poll",
    "ppoll",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "ftruncate",
    "getdents64",
    "getdents",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchownat",
    "fstatfs",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "signalfd",
    "signalfd4",
    "inotify_init",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    "faccessat",
    "faccessat2",
    "mkdirat",
    "unlinkat",
    "readlinkat",
    "execveat",
    "renameat",
    "renameat2",
    "linkat",
    "symlinkat",
    "mknodat",
    "utimensat",
    "sendfile",
    "splice",
    "tee",
    "vmsplice",
    "copy_file_range",
    "memfd_create",
    "fadvise64",
    "fallocate",
    "readahead",
    "socket",
    "socketpair",
    "bind",
    "connect",
    "listen",
    "accept",
    "accept4",
    "getsockname",
    "getpeername",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "shutdown",
    "setsockopt",
    "getsockopt",
    "pidfd_open",
    "pidfd_getfd",
    "fgetxattr",
    "fsetxattr",
    "flistxattr",
    "fremovexattr",
];
const MEMORY: &[&str] = &[
    "brk",
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "mlock",
    "mlock2",
    "munlock",
    "mlockall",
    "munlockall",
    "msync",
    "mincore",
    "pkey_mprotect",
    "remap_file_pages",
    "mbind",
    "set_mempolicy",
    "get_mempolicy",
    "migrate_pages",
    "move_pages",
];

/// Which syscall numbers a replay shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    set: FxHashSet<u32>,
    negate: bool,
    all: bool,
}

impl Filter {
    pub fn all() -> Filter {
        Filter {
            all: true,
            ..Filter::default()
        }
    }

    /// Parses `-e` expressions; only `trace=` (or a bare set) is supported.
    pub fn parse(exprs: &[String]) -> anyhow::Result<Filter> {
        if exprs.is_empty() {
            return Ok(Filter::all());
        }
        let mut f = Filter::default();
        for e in exprs {
            let spec = match e.split_once('=') {
                Some(("trace" | "t", v)) => v,
                Some((q, _)) => anyhow::bail!("-e {e}: only trace=SET is supported, not {q}="),
                None => e.as_str(),
            };
            let (neg, spec) = match spec.strip_prefix('!') {
                Some(s) => (true, s),
                None => (false, spec),
            };
            f.negate = neg;
            for item in spec.split(',').filter(|s| !s.is_empty()) {
                let names: &[&str] = match item {
                    "%file" | "file" => FILE,
                    "%process" | "process" => PROCESS,
                    "%network" | "%net" | "network" => NETWORK,
                    "%signal" | "signal" => SIGNAL,
                    "%desc" | "desc" => DESC,
                    "%memory" | "memory" => MEMORY,
                    "all" => {
                        f.all = true;
                        &[]
                    }
                    "none" => &[],
                    name => {
                        let nr = syscall_nr(name)
                            .ok_or_else(|| anyhow::anyhow!("-e {e}: unknown syscall {name:?}"))?;
                        f.set.insert(nr);
                        &[]
                    }
                };
                f.set.extend(names.iter().filter_map(|n| syscall_nr(n)));
            }
        }
        Ok(f)
    }

    pub fn shows(&self, nr: u32) -> bool {
        (self.all || self.set.contains(&nr)) != self.negate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_classes_and_negation() {
        let f = Filter::parse(&["trace=openat,%network".into()]).unwrap();
        assert!(f.shows(257));
        assert!(f.shows(42)); // connect
        assert!(!f.shows(0));
        let f = Filter::parse(&["!write".into()]).unwrap();
        assert!(!f.shows(1));
        assert!(f.shows(0));
        assert!(Filter::parse(&["trace=nosuchcall".into()]).is_err());
        assert!(Filter::parse(&[]).unwrap().shows(12345));
    }
}
