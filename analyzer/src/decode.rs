//! Names and text forms of raw numbers: syscalls (x86_64 table of the
//! `syscalls` crate, available on every host through its `x86_64` feature),
//! errnos, signals, and strace-style string escaping.

use std::fmt::Write;

use syscalls::x86_64::Sysno;
use syscalls::Errno;

/// The x86_64 syscall name of `nr`, or `syscall_0xNNN` as strace prints unknown ones.
pub fn syscall_name(nr: u32) -> std::borrow::Cow<'static, str> {
    match Sysno::new(nr as usize) {
        Some(s) => s.name().into(),
        None => format!("syscall_{nr:#x}").into(),
    }
}

/// The syscall number of an x86_64 syscall name.
pub fn syscall_nr(name: &str) -> Option<u32> {
    name.parse::<Sysno>().ok().map(|s| s.id() as u32)
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

/// `ENOENT (No such file or directory)` for errno 2.
pub fn errno_text(errno: i32) -> String {
    let e = Errno::new(errno);
    match (e.name(), glibc_wording(errno).or(e.description())) {
        (Some(n), Some(d)) => format!("{n} ({d})"),
        (Some(n), None) => n.to_string(),
        _ => format!("E{errno}"),
    }
}

/// Signal names of x86_64 Linux. No maintained crate gives them
/// independently of the host (nix and libc use the host's numbering).
const SIGNALS: [&str; 32] = [
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
];

/// `SIGKILL` for 9; real-time signals as strace names them.
pub fn signal_name(signo: i32) -> String {
    match signo {
        1..=31 => SIGNALS[signo as usize].to_string(),
        32..=64 => format!("SIGRT_{}", signo - 32),
        _ => signo.to_string(),
    }
}

/// Appends `b` as a strace string literal body (without quotes): printable
/// ASCII as is, `\t\n\v\f\r`, `\"` and `\\`, everything else in octal
/// (three digits when an octal digit follows, so it reads back unambiguously).
pub fn escape_into(out: &mut String, b: &[u8]) {
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            0x0b => out.push_str("\\v"),
            0x0c => out.push_str("\\f"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                let next_is_digit = b.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                if next_is_digit {
                    let _ = write!(out, "\\{c:03o}");
                } else {
                    let _ = write!(out, "\\{c:o}");
                }
            }
        }
    }
}

/// `b` escaped as [`escape_into`] does, without quotes: how every text view
/// shows a name from a trace (a command, a path, a hostname), so that no
/// recorded byte reaches the terminal raw.
pub fn escaped(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    escape_into(&mut s, b);
    s
}

/// How every view shows a value a redaction policy dropped: its length
/// stays, its bytes are gone.
pub fn redacted_text(len: u64) -> String {
    format!("<redacted {len} bytes>")
}

/// `"escaped"` plus `...` when the capture was cut.
pub fn quoted(b: &[u8], cut: bool) -> String {
    let mut s = String::with_capacity(b.len() + 5);
    s.push('"');
    escape_into(&mut s, b);
    s.push('"');
    if cut {
        s.push_str("...");
    }
    s
}

/// Human form of a duration in nanoseconds for tables and trees.
pub fn secs(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
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
    }

    #[test]
    fn errno_has_name_and_description() {
        assert_eq!(errno_text(2), "ENOENT (No such file or directory)");
        // glibc's words, as strace prints them, not the kernel's comments.
        assert_eq!(errno_text(25), "ENOTTY (Inappropriate ioctl for device)");
        assert_eq!(errno_text(11), "EAGAIN (Resource temporarily unavailable)");
    }

    #[test]
    fn signals_use_x86_64_numbers() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(17), "SIGCHLD");
        assert_eq!(signal_name(19), "SIGSTOP");
        // strace counts real-time signals from the kernel's 32, not glibc's 34.
        assert_eq!(signal_name(34), "SIGRT_2");
        assert_eq!(signal_name(35), "SIGRT_3");
    }

    #[test]
    fn strings_are_escaped_like_strace() {
        assert_eq!(quoted(b"a\"b\\\n\t", false), r#""a\"b\\\n\t""#);
        assert_eq!(quoted(b"\x00x", false), r#""\0x""#);
        assert_eq!(quoted(b"\x001", false), r#""\0001""#);
        assert_eq!(quoted(b"\xff", true), r#""\377"..."#);
    }

    #[test]
    fn names_lose_every_control_byte_and_keep_invalid_utf8_as_octal() {
        let s = escaped(b"a\x1b]0;title\x07b\x9b\xff\xc3(\r");
        assert_eq!(s, r"a\33]0;title\7b\233\377\303(\r");
        assert!(s.bytes().all(|c| (0x20..0x7f).contains(&c)), "{s}");
    }
}
