//! Names of raw numbers as strace prints them: syscalls (the `syscalls`
//! crate's tables of each architecture, available on every host), errnos
//! (with glibc's wording, which strace prints), and signals (the same
//! numbers on x86_64 and aarch64).

use std::borrow::Cow;

use syscalls::x86_64::Sysno;
use syscalls::Errno;

use crate::Arch;

impl Arch {
    /// The name of syscall `nr`, or `syscall_0xNNN` as strace prints unknown ones.
    pub fn syscall_name(self, nr: u32) -> Cow<'static, str> {
        let known = match self {
            Arch::X86_64 => Sysno::new(nr as usize).map(|s| s.name()),
            Arch::Aarch64 => crate::aarch64::name(nr as usize),
        };
        match known {
            Some(n) => n.into(),
            None => format!("syscall_{nr:#x}").into(),
        }
    }

    /// The number of syscall `name`.
    pub fn syscall_nr(self, name: &str) -> Option<u32> {
        match self {
            Arch::X86_64 => name.parse::<Sysno>().ok().map(|s| s.id() as u32),
            Arch::Aarch64 => crate::aarch64::number(name),
        }
    }

    /// Every valid syscall number of this architecture, ascending.
    pub fn syscall_numbers(self) -> impl Iterator<Item = u32> {
        // Not `Sysno::iter()`: in syscalls 0.8.1 it stops before the last
        // syscall.
        (0..self.syscall_table_len() as u32).filter(move |&n| self.is_syscall(n))
    }

    /// Whether `nr` is a syscall of this architecture.
    pub fn is_syscall(self, nr: u32) -> bool {
        self.sysno(nr).is_some()
    }

    /// One more than the largest syscall number.
    pub const fn syscall_table_len(self) -> usize {
        match self {
            Arch::X86_64 => Sysno::table_size(),
            Arch::Aarch64 => crate::aarch64::TABLE_LEN,
        }
    }

    /// Syscall `nr`'s identity, the same on every architecture: the
    /// x86_64 table's [`Sysno`] of its name (aarch64's `openat`, 56, is
    /// `Sysno::openat`, 257). Decoders and views match on it; names and
    /// numbers shown stay this architecture's.
    #[inline]
    pub fn sysno(self, nr: u32) -> Option<Sysno> {
        match self {
            Arch::X86_64 => Sysno::new(nr as usize),
            Arch::Aarch64 => crate::aarch64::TO_X86_64
                .get(nr as usize)
                .and_then(|&x| Sysno::new(usize::from(x))),
        }
    }

    /// This architecture's number of syscall `sys`, if it has that syscall
    /// (aarch64 has no `open`, `fork`, `stat`...).
    pub fn nr_of(self, sys: Sysno) -> Option<u32> {
        match self {
            Arch::X86_64 => Some(sys.id() as u32),
            Arch::Aarch64 => crate::aarch64::FROM_X86_64
                .get(sys.id() as usize)
                .filter(|&&n| n != crate::aarch64::NONE)
                .map(|&n| u32::from(n)),
        }
    }
}

/// Where glibc's strerror, which strace prints, words an errno differently
/// from the kernel's comments that the `syscalls` crate carries.
fn glibc_wording(errno: i32) -> Option<&'static str> {
    Some(match errno {
        5 => "Input/output error",
        9 => "Bad file descriptor",
        11 => "Resource temporarily unavailable",
        12 => "Cannot allocate memory",
        18 => "Invalid cross-device link",
        23 => "Too many open files in system",
        25 => "Inappropriate ioctl for device",
        33 => "Numerical argument out of domain",
        34 => "Numerical result out of range",
        35 => "Resource deadlock avoided",
        37 => "No locks available",
        38 => "Function not implemented",
        40 => "Too many levels of symbolic links",
        74 => "Bad message",
        84 => "Invalid or incomplete multibyte or wide character",
        95 => "Operation not supported",
        102 => "Network dropped connection on reset",
        122 => "Disk quota exceeded",
        125 => "Operation canceled",
        _ => return None,
    })
}

/// The kernel's internal errnos (include/linux/errno.h) that reach a
/// tracer; no libc names them.
const KERNEL_ERRNOS: [&str; 19] = [
    "ERESTARTSYS",
    "ERESTARTNOINTR",
    "ERESTARTNOHAND",
    "ENOIOCTLCMD",
    "ERESTART_RESTARTBLOCK",
    "EPROBE_DEFER",
    "EOPENSTALE",
    "ENOPARAM",
    "EBADHANDLE",
    "ENOTSYNC",
    "EBADCOOKIE",
    "ENOTSUPP",
    "ETOOSMALL",
    "ESERVERFAULT",
    "EBADTYPE",
    "EJUKEBOX",
    "EIOCBQUEUED",
    "ERECALLCONFLICT",
    "ENOGRACE",
];

/// The name of a kernel-internal errno (512 and up), if it is one.
pub fn kernel_errno_name(errno: i32) -> Option<&'static str> {
    usize::try_from(errno - 512)
        .ok()
        .and_then(|i| KERNEL_ERRNOS.get(i).copied())
}

/// `ENOENT (No such file or directory)` for errno 2.
pub fn errno_text(errno: i32) -> String {
    let mut s = String::new();
    push_errno_text(&mut s, errno);
    s
}

/// Appends [`errno_text`]'s text.
pub fn push_errno_text(s: &mut String, errno: i32) {
    use std::fmt::Write;
    if let Some(n) = kernel_errno_name(errno) {
        let _ = write!(s, "{n} (Unknown error {errno})");
        return;
    }
    let e = Errno::new(errno);
    match (e.name(), glibc_wording(errno).or(e.description())) {
        (Some(n), Some(d)) => {
            s.push_str(n);
            s.push_str(" (");
            s.push_str(d);
            s.push(')');
        }
        (Some(n), None) => s.push_str(n),
        _ => crate::text::push_i64(s, errno.into()),
    }
}

/// A syscall's failure as strace writes it after ` = `: `-1 ENOENT (No
/// such file or directory)`, or for the restart codes a signal causes,
/// `? ERESTARTSYS (To be restarted if SA_RESTART is set)`.
pub fn error_return_text(errno: i32) -> String {
    let mut s = String::new();
    push_error_return(&mut s, errno);
    s
}

/// Appends [`error_return_text`]'s text.
pub fn push_error_return(s: &mut String, errno: i32) {
    let restart = match errno {
        512 => "To be restarted if SA_RESTART is set",
        513 => "To be restarted",
        514 => "To be restarted if no handler",
        516 => "Interrupted by signal",
        _ => {
            s.push_str("-1 ");
            push_errno_text(s, errno);
            return;
        }
    };
    s.push_str("? ");
    s.push_str(kernel_errno_name(errno).unwrap_or("?"));
    s.push_str(" (");
    s.push_str(restart);
    s.push(')');
}

/// Signal names of x86_64 and aarch64 Linux (both the kernel's generic numbers). No maintained crate gives them
/// independently of the host (nix and libc use the host's numbering).
const SIGNALS: [&str; 33] = [
    "0",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
    // The kernel's SIGRTMIN; strace counts real-time signals from it, not
    // from glibc's 34.
    "SIGRTMIN",
];

/// `SIGKILL` for 9; real-time signals as strace names them (`SIGRTMIN`,
/// `SIGRT_1` ... `SIGRT_32`); any other number in decimal.
pub fn signal_name(signo: i32) -> Cow<'static, str> {
    match signo {
        1..=32 => SIGNALS[signo as usize].into(),
        33..=64 => format!("SIGRT_{}", signo - 32).into(),
        _ => signo.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syscall_name(nr: u32) -> Cow<'static, str> {
        Arch::X86_64.syscall_name(nr)
    }
    fn syscall_nr(name: &str) -> Option<u32> {
        Arch::X86_64.syscall_nr(name)
    }

    #[test]
    fn syscall_names_come_from_the_x86_64_table_on_any_host() {
        assert_eq!(syscall_name(0), "read");
        assert_eq!(syscall_name(59), "execve");
        assert_eq!(syscall_name(231), "exit_group");
        assert_eq!(syscall_name(9999), "syscall_0x270f");
        assert_eq!(syscall_nr("openat"), Some(257));
        assert_eq!(syscall_nr("nosuchcall"), None);
        let last = Arch::X86_64.syscall_numbers().last();
        assert_eq!(last, Some(Arch::X86_64.syscall_table_len() as u32 - 1));
    }

    #[test]
    fn aarch64_has_its_own_numbers_and_strace_s_names() {
        let a = Arch::Aarch64;
        assert_eq!(a.syscall_name(56), "openat");
        assert_eq!(a.syscall_name(63), "read");
        assert_eq!(a.syscall_name(94), "exit_group");
        assert_eq!(a.syscall_name(221), "execve");
        // The generic table's fstatat is newfstatat on a 64-bit kernel.
        assert_eq!(a.syscall_name(79), "newfstatat");
        assert_eq!(a.syscall_nr("newfstatat"), Some(79));
        assert_eq!(a.syscall_nr("fstatat"), None);
        // 32-bit-only time64 calls and x86_64's legacy calls are no
        // aarch64 syscalls.
        assert_eq!(a.syscall_name(403), "syscall_0x193");
        assert!(!a.is_syscall(403));
        assert_eq!(a.syscall_nr("open"), None);
        assert_eq!(a.syscall_nr("fork"), None);
        assert_eq!(a.syscall_nr("openat"), Some(56));
        assert_eq!(a.syscall_name(9999), "syscall_0x270f");
    }

    #[test]
    fn a_syscall_is_the_same_sysno_on_both_architectures() {
        use syscalls::x86_64::Sysno;
        let a = Arch::Aarch64;
        assert_eq!(a.sysno(56), Some(Sysno::openat));
        assert_eq!(a.sysno(79), Some(Sysno::newfstatat));
        assert_eq!(a.sysno(403), None);
        assert_eq!(a.sysno(100_000), None);
        assert_eq!(a.nr_of(Sysno::openat), Some(56));
        assert_eq!(a.nr_of(Sysno::open), None);
        assert_eq!(Arch::X86_64.sysno(257), Some(Sysno::openat));
        assert_eq!(Arch::X86_64.nr_of(Sysno::openat), Some(257));
        for arch in [Arch::X86_64, Arch::Aarch64] {
            let mut n = 0;
            for nr in arch.syscall_numbers() {
                let sys = arch.sysno(nr).expect("every syscall has an identity");
                assert_eq!(arch.nr_of(sys), Some(nr));
                assert_eq!(sys.name(), arch.syscall_name(nr));
                n += 1;
            }
            assert!(n > 300, "{arch:?}: {n}");
        }
    }

    #[test]
    fn errno_has_name_and_glibc_s_description() {
        assert_eq!(errno_text(2), "ENOENT (No such file or directory)");
        assert_eq!(errno_text(25), "ENOTTY (Inappropriate ioctl for device)");
        assert_eq!(errno_text(11), "EAGAIN (Resource temporarily unavailable)");
        assert_eq!(errno_text(515), "ENOIOCTLCMD (Unknown error 515)");
    }

    #[test]
    fn restart_codes_are_printed_as_strace_prints_them() {
        assert_eq!(
            error_return_text(512),
            "? ERESTARTSYS (To be restarted if SA_RESTART is set)"
        );
        assert_eq!(error_return_text(513), "? ERESTARTNOINTR (To be restarted)");
        assert_eq!(
            error_return_text(514),
            "? ERESTARTNOHAND (To be restarted if no handler)"
        );
        assert_eq!(
            error_return_text(516),
            "? ERESTART_RESTARTBLOCK (Interrupted by signal)"
        );
        assert_eq!(error_return_text(4), "-1 EINTR (Interrupted system call)");
    }

    #[test]
    fn signals_use_x86_64_numbers_and_strace_s_real_time_names() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(17), "SIGCHLD");
        assert_eq!(signal_name(19), "SIGSTOP");
        assert_eq!(signal_name(32), "SIGRTMIN");
        assert_eq!(signal_name(34), "SIGRT_2");
        assert_eq!(signal_name(64), "SIGRT_32");
        assert_eq!(signal_name(65), "65");
    }
}
