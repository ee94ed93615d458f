//! `-e trace=SET`: strace's syscall-set syntax, and the seccomp-bpf program
//! that makes the kernel stop a started command only at the syscalls in SET.
//!
//! Syntax (as strace's `qualify_tokens`): an optional `trace=` (or `t=`)
//! prefix; then any number of leading `!`, each inverting the rest; then
//! `all`, `none`, or a comma-separated list of syscall names, decimal
//! syscall numbers and classes (`%file`, `%process`, `%network` or `%net`,
//! `%signal`, `%ipc`, `%desc`, `%memory`, `%creds`; the old spellings
//! without `%` too). A token prefixed with `?` is ignored when unknown.
//! Names and numbers are x86_64 ones from the `syscalls` crate.
//!
//! The filter program ([`Filter::program`]) returns SECCOMP_RET_TRACE for
//! every selected syscall, for execve and execveat (the recorder must see
//! every exec), and for anything that is not a 64-bit x86_64 syscall (an
//! `int 0x80` from 32-bit code, or an x32 syscall: other numbering, so
//! traced to be safe); every other syscall gets SECCOMP_RET_ALLOW and runs
//! without a stop.

use std::fmt;
use std::str::FromStr;

use ptrec_format::Regs;
use syscalls::Sysno;

/// Why a SET could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("-e {spec}: unknown syscall '{name}'")]
    UnknownSyscall { spec: String, name: String },
    #[error("-e {spec}: unknown syscall class '%{name}' (known: %file %process %network %net %signal %ipc %desc %memory %creds)")]
    UnknownClass { spec: String, name: String },
    #[error("-e {spec}: empty syscall name")]
    Empty { spec: String },
    #[error("-e {spec}: only trace=SET is supported, not {qualifier}=")]
    Qualifier { spec: String, qualifier: String },
}

pub type Result<T> = std::result::Result<T, Error>;

/// Number of bits in a [`Selection`]: every x86_64 syscall number fits.
const BITS: usize = 512;
const _: () = assert!(Sysno::table_size() <= BITS);

/// A set of x86_64 syscall numbers, cheap to test on the hot path.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Selection([u64; BITS / 64]);

impl Selection {
    pub const fn empty() -> Selection {
        Selection([0; BITS / 64])
    }
    fn insert(&mut self, nr: usize) {
        if nr < BITS {
            self.0[nr / 64] |= 1 << (nr % 64);
        }
    }
    /// Whether `nr` is in the set.
    #[inline]
    pub fn contains(&self, nr: u64) -> bool {
        (nr as usize) < BITS && self.0[nr as usize / 64] & (1 << (nr % 64)) != 0
    }
    /// Whether a syscall stop with this entry snapshot is to be recorded:
    /// the selected 64-bit syscalls, and every syscall that is not a
    /// 64-bit x86_64 one (its number belongs to another table; the filter
    /// program traces those too).
    #[inline]
    pub fn records(&self, nr: u64, regs: &Regs) -> bool {
        !crate::arch::is_native(regs) || nr >= BITS as u64 || self.contains(nr)
    }
    /// Every valid syscall number in the set, ascending.
    pub fn numbers(&self) -> Vec<u32> {
        Sysno::iter()
            .map(|s| s.id() as u32)
            .filter(|&n| self.contains(n as u64))
            .collect()
    }
    fn invert(&mut self) {
        let all = Selection::all();
        for (w, a) in self.0.iter_mut().zip(all.0) {
            *w = !*w & a;
        }
    }
    /// Every valid x86_64 syscall number.
    pub fn all() -> Selection {
        let mut s = Selection::empty();
        for n in Sysno::iter() {
            s.insert(n.id() as usize);
        }
        s
    }
}

impl fmt::Debug for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.numbers().into_iter().map(|n| Sysno::from(n).name()))
            .finish()
    }
}

/// A parsed `-e trace=SET`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    spec: String,
    selection: Selection,
}

impl Filter {
    /// Parses `spec` (see the module docs).
    pub fn parse(spec: &str) -> Result<Filter> {
        let err_spec = || spec.to_string();
        let mut rest = spec.trim();
        if let Some((q, v)) = rest.split_once('=') {
            match q {
                "trace" | "t" => rest = v,
                _ => {
                    return Err(Error::Qualifier {
                        spec: err_spec(),
                        qualifier: q.to_string(),
                    })
                }
            }
        }
        let mut invert = false;
        while let Some(r) = rest.strip_prefix('!') {
            invert = !invert;
            rest = r;
        }
        let mut sel = Selection::empty();
        match rest {
            "all" => sel = Selection::all(),
            "none" => {}
            _ => {
                for token in rest.split(',') {
                    let (optional, token) = match token.strip_prefix('?') {
                        Some(t) => (true, t),
                        None => (false, token),
                    };
                    match add_token(&mut sel, token, err_spec) {
                        Ok(()) => {}
                        Err(Error::UnknownSyscall { .. } | Error::UnknownClass { .. })
                            if optional => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        if invert {
            sel.invert();
        }
        Ok(Filter {
            spec: spec.to_string(),
            selection: sel,
        })
    }

    /// The SET as given on the command line.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// The selected syscalls.
    pub fn selection(&self) -> Selection {
        self.selection
    }

    /// Whether every syscall is selected (a filter would change nothing).
    pub fn is_all(&self) -> bool {
        self.selection == Selection::all()
    }

    /// The seccomp-bpf program for this set (see the module docs).
    pub fn program(&self) -> Program {
        let mut traced = self.selection;
        traced.insert(Sysno::execve.id() as usize);
        traced.insert(Sysno::execveat.id() as usize);
        Program::build(&traced)
    }
}

fn add_token(sel: &mut Selection, token: &str, spec: impl Fn() -> String) -> Result<()> {
    if token.is_empty() {
        return Err(Error::Empty { spec: spec() });
    }
    if let Some(class) = token.strip_prefix('%') {
        let Some(names) = class_members(class) else {
            return Err(Error::UnknownClass {
                spec: spec(),
                name: class.to_string(),
            });
        };
        for n in names {
            // Every class member is a known name (unit-tested).
            if let Ok(s) = Sysno::from_str(n) {
                sel.insert(s.id() as usize);
            }
        }
        return Ok(());
    }
    if let Ok(s) = Sysno::from_str(token) {
        sel.insert(s.id() as usize);
        return Ok(());
    }
    if let Some(s) = token
        .parse::<u32>()
        .ok()
        .and_then(|n| Sysno::new(n as usize))
    {
        sel.insert(s.id() as usize);
        return Ok(());
    }
    // strace still takes the class names of old without the `%`.
    if let Some(names) = class_members(token) {
        for n in names {
            if let Ok(s) = Sysno::from_str(n) {
                sel.insert(s.id() as usize);
            }
        }
        return Ok(());
    }
    Err(Error::UnknownSyscall {
        spec: spec(),
        name: token.to_string(),
    })
}

fn class_members(class: &str) -> Option<&'static [&'static str]> {
    Some(match class {
        "file" => FILE,
        "process" => PROCESS,
        "network" | "net" => NETWORK,
        "signal" => SIGNAL,
        "ipc" => IPC,
        "desc" => DESC,
        "memory" => MEMORY,
        "creds" => CREDS,
        _ => return None,
    })
}

// Class membership, by syscall name, as strace defines it: the TF, TP, TN,
// TS, TI, TD, TM and TC flags of strace's x86_64 syscall table
// (src/linux/x86_64/syscallent.h, with src/linux/generic/syscallent-common.h
// for numbers 424 and up; the flag letters are defined in
// src/sysent_shorthand_defs.h), strace v7.2-3-g3e4d70a5e (August 2026).
// The installed strace 6.1 knows fewer of the newest syscalls; its classes
// are otherwise the same.

/// `%file`: strace flag TF.
const FILE: &[&str] = &[
    "open",
    "stat",
    "lstat",
    "access",
    "execve",
    "truncate",
    "getcwd",
    "chdir",
    "rename",
    "mkdir",
    "rmdir",
    "creat",
    "link",
    "unlink",
    "symlink",
    "readlink",
    "chmod",
    "chown",
    "lchown",
    "utime",
    "mknod",
    "uselib",
    "statfs",
    "pivot_root",
    "chroot",
    "acct",
    "mount",
    "umount2",
    "swapon",
    "swapoff",
    "quotactl",
    "setxattr",
    "lsetxattr",
    "getxattr",
    "lgetxattr",
    "listxattr",
    "llistxattr",
    "removexattr",
    "lremovexattr",
    "utimes",
    "inotify_add_watch",
    "openat",
    "mkdirat",
    "mknodat",
    "fchownat",
    "futimesat",
    "newfstatat",
    "unlinkat",
    "renameat",
    "linkat",
    "symlinkat",
    "readlinkat",
    "fchmodat",
    "faccessat",
    "utimensat",
    "fanotify_mark",
    "name_to_handle_at",
    "renameat2",
    "execveat",
    "statx",
    "open_tree",
    "move_mount",
    "fsconfig",
    "fspick",
    "openat2",
    "faccessat2",
    "mount_setattr",
    "fchmodat2",
    "setxattrat",
    "getxattrat",
    "listxattrat",
    "removexattrat",
    "open_tree_attr",
    "file_getattr",
    "file_setattr",
];
/// `%process`: strace flag TP.
const PROCESS: &[&str] = &[
    "clone",
    "fork",
    "vfork",
    "execve",
    "exit",
    "wait4",
    "kill",
    "rt_sigqueueinfo",
    "tkill",
    "exit_group",
    "tgkill",
    "waitid",
    "rt_tgsigqueueinfo",
    "execveat",
    "pidfd_send_signal",
    "clone3",
];
/// `%network`: strace flag TN.
const NETWORK: &[&str] = &[
    "sendfile",
    "socket",
    "connect",
    "accept",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "shutdown",
    "bind",
    "listen",
    "getsockname",
    "getpeername",
    "socketpair",
    "setsockopt",
    "getsockopt",
    "getpmsg",
    "putpmsg",
    "accept4",
    "recvmmsg",
    "sendmmsg",
];
/// `%signal`: strace flag TS.
const SIGNAL: &[&str] = &[
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "pause",
    "kill",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigqueueinfo",
    "rt_sigsuspend",
    "sigaltstack",
    "tkill",
    "tgkill",
    "signalfd",
    "signalfd4",
    "rt_tgsigqueueinfo",
    "pidfd_send_signal",
    "io_uring_enter",
];
/// `%ipc`: strace flag TI.
const IPC: &[&str] = &[
    "shmget",
    "shmat",
    "shmctl",
    "semget",
    "semop",
    "semctl",
    "shmdt",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "semtimedop",
];
/// `%desc`: strace flag TD.
const DESC: &[&str] = &[
    "read",
    "write",
    "open",
    "close",
    "fstat",
    "poll",
    "lseek",
    "mmap",
    "ioctl",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "pipe",
    "select",
    "dup",
    "dup2",
    "sendfile",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "ftruncate",
    "getdents",
    "fchdir",
    "creat",
    "fchmod",
    "fchown",
    "fstatfs",
    "readahead",
    "fsetxattr",
    "fgetxattr",
    "flistxattr",
    "fremovexattr",
    "epoll_create",
    "getdents64",
    "fadvise64",
    "epoll_wait",
    "epoll_ctl",
    "mq_open",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
    "inotify_init",
    "inotify_add_watch",
    "inotify_rm_watch",
    "openat",
    "mkdirat",
    "mknodat",
    "fchownat",
    "futimesat",
    "newfstatat",
    "unlinkat",
    "renameat",
    "linkat",
    "symlinkat",
    "readlinkat",
    "fchmodat",
    "faccessat",
    "pselect6",
    "ppoll",
    "splice",
    "tee",
    "sync_file_range",
    "vmsplice",
    "utimensat",
    "epoll_pwait",
    "signalfd",
    "timerfd_create",
    "eventfd",
    "fallocate",
    "timerfd_settime",
    "timerfd_gettime",
    "signalfd4",
    "eventfd2",
    "epoll_create1",
    "dup3",
    "pipe2",
    "inotify_init1",
    "preadv",
    "pwritev",
    "perf_event_open",
    "fanotify_init",
    "fanotify_mark",
    "name_to_handle_at",
    "open_by_handle_at",
    "syncfs",
    "setns",
    "finit_module",
    "renameat2",
    "memfd_create",
    "kexec_file_load",
    "bpf",
    "execveat",
    "userfaultfd",
    "copy_file_range",
    "preadv2",
    "pwritev2",
    "statx",
    "pidfd_send_signal",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "pidfd_open",
    "openat2",
    "pidfd_getfd",
    "faccessat2",
    "process_madvise",
    "epoll_pwait2",
    "mount_setattr",
    "quotactl_fd",
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
    "memfd_secret",
    "process_mrelease",
    "cachestat",
    "fchmodat2",
    "setxattrat",
    "getxattrat",
    "listxattrat",
    "removexattrat",
    "open_tree_attr",
    "file_getattr",
    "file_setattr",
];
/// `%memory`: strace flag TM.
const MEMORY: &[&str] = &[
    "mmap",
    "mprotect",
    "munmap",
    "brk",
    "mremap",
    "msync",
    "mincore",
    "madvise",
    "shmat",
    "shmdt",
    "mlock",
    "munlock",
    "mlockall",
    "munlockall",
    "io_setup",
    "io_destroy",
    "remap_file_pages",
    "mbind",
    "set_mempolicy",
    "get_mempolicy",
    "migrate_pages",
    "move_pages",
    "mlock2",
    "pkey_mprotect",
    "io_uring_register",
    "set_mempolicy_home_node",
    "map_shadow_stack",
    "mseal",
];
/// `%creds`: strace flag TC.
const CREDS: &[&str] = &[
    "getuid",
    "getgid",
    "setuid",
    "setgid",
    "geteuid",
    "getegid",
    "setreuid",
    "setregid",
    "getgroups",
    "setgroups",
    "setresuid",
    "getresuid",
    "setresgid",
    "getresgid",
    "setfsuid",
    "setfsgid",
    "capget",
    "capset",
    "prctl",
];

/// `struct seccomp_data` offsets: `int nr` at 0, `__u32 arch` at 4.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
use crate::arch::{SECCOMP_AUDIT_ARCH, X32_SYSCALL_BIT};

/// A classic-BPF seccomp program, built before `fork` so that installing it
/// in the child allocates nothing.
#[derive(Clone, Debug)]
pub struct Program {
    insns: Vec<libc::sock_filter>,
}

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

impl Program {
    /// Runs of consecutive numbers are tested as ranges in ascending order,
    /// four instructions each, every one with its own return so that no
    /// jump needs more than the 8-bit offset classic BPF allows; the scan
    /// stops at the first range above the number. At most ~1400
    /// instructions (BPF_MAXINSNS is 4096) even for the worst set.
    fn build(traced: &Selection) -> Program {
        use libc::{
            BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W,
            SECCOMP_RET_ALLOW, SECCOMP_RET_TRACE,
        };
        let mut p = vec![
            stmt(BPF_LD | BPF_W | BPF_ABS, DATA_ARCH),
            jump(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_AUDIT_ARCH, 1, 0),
            stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
            stmt(BPF_LD | BPF_W | BPF_ABS, DATA_NR),
            jump(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
            stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        ];
        for (lo, hi) in ranges(traced) {
            // nr > hi: on to the next range; nr < lo: below every range left.
            p.push(jump(BPF_JMP | BPF_JGT | BPF_K, hi, 3, 0));
            p.push(jump(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 1));
            p.push(stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
            p.push(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
        }
        p.push(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
        Program { insns: p }
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// Runs the program on a syscall the way the kernel does (for tests and
    /// for checking the program against [`Selection`]): the action it returns.
    pub fn run(&self, arch: u32, nr: u32) -> u32 {
        use libc::{BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
        let mut acc = 0u32;
        let mut pc = 0usize;
        while let Some(i) = self.insns.get(pc) {
            let code = i.code as u32;
            pc += 1;
            match code {
                c if c == BPF_LD | BPF_W | BPF_ABS => {
                    acc = if i.k == DATA_ARCH { arch } else { nr };
                }
                c if c & 0x07 == BPF_JMP => {
                    let taken = match c & 0xf0 {
                        x if x == BPF_JEQ => acc == i.k,
                        x if x == BPF_JGT => acc > i.k,
                        x if x == BPF_JGE => acc >= i.k,
                        _ => return u32::MAX,
                    };
                    debug_assert_eq!(c & 0x08, BPF_K);
                    pc += if taken { i.jt } else { i.jf } as usize;
                }
                c if c == BPF_RET | BPF_K => return i.k,
                _ => return u32::MAX,
            }
        }
        u32::MAX
    }

    /// Installs the program on the calling thread: PR_SET_NO_NEW_PRIVS
    /// (required of an unprivileged caller, and it means a setuid program
    /// run under the filter does not gain privileges, as with
    /// `strace --seccomp-bpf`), then seccomp(SECCOMP_SET_MODE_FILTER). The
    /// filter is inherited by children and kept across execve. Makes no
    /// allocation: safe to call between `fork` and `exec`. Returns the errno.
    pub fn install(&self) -> std::result::Result<(), i32> {
        let prog = libc::sock_fprog {
            len: self.insns.len() as u16,
            filter: self.insns.as_ptr().cast_mut(),
        };
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(errno());
        }
        // SAFETY: `prog` points to our instructions, alive for the call; the
        // kernel copies the program.
        let r = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            )
        };
        if r != 0 {
            return Err(errno());
        }
        Ok(())
    }
}

fn errno() -> i32 {
    // SAFETY: reads this thread's errno slot.
    unsafe { *libc::__errno_location() }
}

/// Maximal runs of consecutive numbers in `s`, as (first, last).
fn ranges(s: &Selection) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for n in 0..BITS as u32 {
        if !s.contains(n as u64) {
            continue;
        }
        match out.last_mut() {
            Some((_, hi)) if *hi + 1 == n => *hi = n,
            _ => out.push((n, n)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use libc::{SECCOMP_RET_ALLOW, SECCOMP_RET_TRACE};

    fn names(f: &Filter) -> Vec<&'static str> {
        f.selection()
            .numbers()
            .into_iter()
            .map(|n| Sysno::from(n).name())
            .collect()
    }

    #[test]
    fn every_class_member_is_a_known_x86_64_syscall() {
        for class in [
            "file", "process", "network", "signal", "ipc", "desc", "memory", "creds",
        ] {
            for n in class_members(class).expect("a class") {
                assert!(Sysno::from_str(n).is_ok(), "%{class}: {n}");
            }
        }
    }

    #[test]
    fn parses_names_with_and_without_trace_prefix() {
        for spec in ["trace=openat,close", "openat,close", "t=close,openat"] {
            let f = Filter::parse(spec).expect("valid");
            assert_eq!(names(&f), ["close", "openat"], "{spec}");
            assert_eq!(f.spec(), spec);
        }
    }

    #[test]
    fn parses_numbers() {
        let f = Filter::parse("trace=39").expect("valid");
        assert_eq!(names(&f), ["getpid"]);
    }

    #[test]
    fn process_class_is_strace_s() {
        let f = Filter::parse("trace=%process").expect("valid");
        let mut want = vec![
            "clone",
            "fork",
            "vfork",
            "execve",
            "exit",
            "wait4",
            "kill",
            "rt_sigqueueinfo",
            "tkill",
            "exit_group",
            "tgkill",
            "waitid",
            "rt_tgsigqueueinfo",
            "execveat",
            "pidfd_send_signal",
            "clone3",
        ];
        want.sort_by_key(|n| Sysno::from_str(n).map(|s| s.id()).unwrap_or(-1));
        assert_eq!(names(&f), want);
    }

    #[test]
    fn classes_resolve_and_net_is_network() {
        let net = Filter::parse("%net").expect("valid").selection();
        assert_eq!(net, Filter::parse("%network").expect("valid").selection());
        assert!(net.contains(Sysno::connect as u64));
        assert!(!net.contains(Sysno::read as u64));
        let file = Filter::parse("%file").expect("valid").selection();
        assert!(file.contains(Sysno::openat as u64) && file.contains(Sysno::execve as u64));
        assert!(!file.contains(Sysno::read as u64));
        let desc = Filter::parse("%desc").expect("valid").selection();
        assert!(desc.contains(Sysno::read as u64) && desc.contains(Sysno::close as u64));
        let mem = Filter::parse("%memory").expect("valid").selection();
        assert!(mem.contains(Sysno::mmap as u64) && mem.contains(Sysno::brk as u64));
        let sig = Filter::parse("%signal").expect("valid").selection();
        assert!(sig.contains(Sysno::rt_sigaction as u64) && sig.contains(Sysno::kill as u64));
        let ipc = Filter::parse("%ipc").expect("valid").selection();
        assert!(ipc.contains(Sysno::shmget as u64) && !ipc.contains(Sysno::socket as u64));
        let creds = Filter::parse("%creds").expect("valid").selection();
        assert!(creds.contains(Sysno::setuid as u64) && creds.contains(Sysno::capget as u64));
        // strace's old spelling without the %.
        assert_eq!(
            Filter::parse("process").expect("valid").selection(),
            Filter::parse("%process").expect("valid").selection()
        );
    }

    #[test]
    fn negation_inverts_the_whole_rest() {
        let f = Filter::parse("trace=!%process,write").expect("valid");
        let s = f.selection();
        assert!(!s.contains(Sysno::clone as u64));
        assert!(!s.contains(Sysno::write as u64));
        assert!(s.contains(Sysno::read as u64));
        assert!(s.contains(Sysno::getppid as u64));
        // Double negation is the set itself.
        assert_eq!(
            Filter::parse("!!write").expect("valid").selection(),
            Filter::parse("write").expect("valid").selection()
        );
    }

    #[test]
    fn all_and_none() {
        assert!(Filter::parse("all").expect("valid").is_all());
        assert!(Filter::parse("!none").expect("valid").is_all());
        assert!(Filter::parse("none")
            .expect("valid")
            .selection()
            .numbers()
            .is_empty());
        assert!(Filter::parse("!all")
            .expect("valid")
            .selection()
            .numbers()
            .is_empty());
    }

    #[test]
    fn errors_name_the_bad_token() {
        let e = Filter::parse("trace=openat,nosuchcall").expect_err("unknown");
        assert_eq!(
            e,
            Error::UnknownSyscall {
                spec: "trace=openat,nosuchcall".into(),
                name: "nosuchcall".into()
            }
        );
        assert!(
            e.to_string().contains("unknown syscall 'nosuchcall'"),
            "{e}"
        );
        assert!(
            matches!(Filter::parse("%files"), Err(Error::UnknownClass { name, .. }) if name == "files")
        );
        assert!(matches!(
            Filter::parse("read,,write"),
            Err(Error::Empty { .. })
        ));
        assert!(matches!(Filter::parse(""), Err(Error::Empty { .. })));
        assert!(
            matches!(Filter::parse("signal=SIGINT"), Err(Error::Qualifier { qualifier, .. }) if qualifier == "signal")
        );
        // A number outside the table is unknown.
        assert!(matches!(
            Filter::parse("999"),
            Err(Error::UnknownSyscall { .. })
        ));
        // `?` makes an unknown name harmless.
        assert_eq!(
            names(&Filter::parse("?nosuchcall,write").expect("valid")),
            ["write"]
        );
    }

    #[test]
    fn program_traces_exactly_the_set_plus_exec_and_foreign_syscalls() {
        let x86_64 = ptrec_format::AUDIT_ARCH_X86_64;
        const AUDIT_ARCH_I386: u32 = 0x4000_0003;
        for spec in [
            "%process",
            "write",
            "!%file",
            "none",
            "all",
            "read,write,close,getppid,5,6,7",
        ] {
            let f = Filter::parse(spec).expect("valid");
            let p = f.program();
            assert!(
                p.len() <= libc::BPF_MAXINSNS as usize,
                "{spec}: {}",
                p.len()
            );
            for n in 0..BITS as u32 + 8 {
                let want = if f.selection().contains(n as u64)
                    || n == Sysno::execve as u32
                    || n == Sysno::execveat as u32
                {
                    SECCOMP_RET_TRACE
                } else {
                    SECCOMP_RET_ALLOW
                };
                assert_eq!(p.run(x86_64, n), want, "{spec}: {n}");
            }
            assert_eq!(p.run(AUDIT_ARCH_I386, 20), SECCOMP_RET_TRACE, "{spec}");
            assert_eq!(
                p.run(x86_64, X32_SYSCALL_BIT | 1),
                SECCOMP_RET_TRACE,
                "{spec}"
            );
        }
    }

    #[test]
    fn worst_case_program_fits_the_bpf_limit() {
        // Every other number selected: the most ranges a set can have.
        let mut s = Selection::empty();
        for n in (0..BITS).step_by(2) {
            s.insert(n);
        }
        let p = Program::build(&s);
        assert!(p.len() <= libc::BPF_MAXINSNS as usize, "{}", p.len());
        assert_eq!(
            p.run(ptrec_format::AUDIT_ARCH_X86_64, 300),
            SECCOMP_RET_TRACE
        );
        assert_eq!(
            p.run(ptrec_format::AUDIT_ARCH_X86_64, 301),
            SECCOMP_RET_ALLOW
        );
    }

    #[test]
    fn records_selected_and_non_64_bit_syscalls_only() {
        let s = Filter::parse("write").expect("valid").selection();
        let mut regs = Regs::default();
        regs.0[ptrec_format::x86_64::CS] = 0x33;
        assert!(s.records(Sysno::write as u64, &regs));
        assert!(!s.records(Sysno::read as u64, &regs));
        regs.0[ptrec_format::x86_64::CS] = 0x23;
        assert!(
            s.records(Sysno::read as u64, &regs),
            "a 32-bit syscall is always recorded"
        );
    }

    /// Forks a child that installs the filter and checks, through the
    /// syscalls' results, what the kernel does with it: allowed syscalls
    /// run; a traced one with no tracer fails with ENOSYS
    /// (seccomp(2): SECCOMP_RET_TRACE "If there is no tracer present, the
    /// system call is not executed and returns a failure status with errno
    /// set to ENOSYS").
    #[test]
    fn installed_filter_allows_the_rest_and_traced_syscalls_fail_without_a_tracer() {
        let p = Filter::parse("trace=getppid").expect("valid").program();
        // SAFETY: the child makes only async-signal-safe system calls
        // (prctl, seccomp, getpid, getppid, _exit) on memory built before fork.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            // SAFETY: see above.
            unsafe {
                let code = match p.install() {
                    Err(_) => 10,
                    Ok(()) => {
                        let me = libc::syscall(libc::SYS_getpid);
                        let pp = libc::syscall(libc::SYS_getppid);
                        let e = *libc::__errno_location();
                        if me <= 0 {
                            11
                        } else if pp != -1 || e != libc::ENOSYS {
                            12
                        } else {
                            0
                        }
                    }
                };
                libc::_exit(code);
            }
        }
        let mut status = 0;
        // SAFETY: reaping our own child into a local.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(r, pid);
        assert!(libc::WIFEXITED(status), "status {status:#x}");
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "10: install failed, 11: getpid failed, 12: getppid was not ENOSYS"
        );
    }
}
