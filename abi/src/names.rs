//! Names of raw numbers as strace prints them: syscalls (the `syscalls`
//! crate's tables, available on every host), errnos (with glibc's
//! wording, which strace prints), and signals.

use std::borrow::Cow;

use syscalls::x86_64::Sysno;
use syscalls::Errno;

use crate::Arch;

impl Arch {
    /// The name of syscall `nr`, or `syscall_0xNNN` as strace prints unknown ones.
    pub fn syscall_name(self, nr: u32) -> Cow<'static, str> {
        match self {
            Arch::X86_64 => match Sysno::new(nr as usize) {
                Some(s) => s.name().into(),
                None => format!("syscall_{nr:#x}").into(),
            },
        }
    }

    /// The number of syscall `name`.
    pub fn syscall_nr(self, name: &str) -> Option<u32> {
        match self {
            Arch::X86_64 => name.parse::<Sysno>().ok().map(|s| s.id() as u32),
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
        match self {
            Arch::X86_64 => Sysno::new(nr as usize).is_some(),
        }
    }

    /// One more than the largest syscall number.
    pub const fn syscall_table_len(self) -> usize {
        match self {
            Arch::X86_64 => Sysno::table_size(),
        }
    }
}

/// The x86_64 name of syscall `nr` (see [`Arch::syscall_name`]).
pub fn syscall_name(nr: u32) -> Cow<'static, str> {
    Arch::X86_64.syscall_name(nr)
}

/// The x86_64 number of syscall `name`.
pub fn syscall_nr(name: &str) -> Option<u32> {
    Arch::X86_64.syscall_nr(name)
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

/// Signal names of x86_64 Linux. No maintained crate gives them
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
