//! strace's syscall classes (`%file`, `%desc`, ...): which syscalls each
//! one holds, from strace's own table of each architecture (generated:
//! `x86_64/classes.rs`, `aarch64/classes.rs`).

use crate::Arch;

// One bit per class, as strace's TRACE_* flags (src/sysent.h).
pub const DESC: u32 = 1 << 0;
pub const FILE: u32 = 1 << 1;
pub const IPC: u32 = 1 << 2;
pub const NETWORK: u32 = 1 << 3;
pub const PROCESS: u32 = 1 << 4;
pub const SIGNAL: u32 = 1 << 5;
pub const MEMORY: u32 = 1 << 6;
pub const STAT: u32 = 1 << 7;
pub const LSTAT: u32 = 1 << 8;
pub const FSTAT: u32 = 1 << 9;
pub const STAT_LIKE: u32 = 1 << 10;
pub const STATFS: u32 = 1 << 11;
pub const FSTATFS: u32 = 1 << 12;
pub const STATFS_LIKE: u32 = 1 << 13;
pub const PURE: u32 = 1 << 14;
pub const CREDS: u32 = 1 << 15;
pub const CLOCK: u32 = 1 << 16;

/// The class names strace 6 takes after `-e trace=`, with their bits, as
/// strace's `qualify_syscall_class` lists them (matched without regard to
/// case). `all` (no bit) selects every syscall.
pub const CLASS_NAMES: &[(&str, u32)] = &[
    ("%desc", DESC),
    ("%file", FILE),
    ("%memory", MEMORY),
    ("%process", PROCESS),
    ("%creds", CREDS),
    ("%signal", SIGNAL),
    ("%ipc", IPC),
    ("%net", NETWORK),
    ("%network", NETWORK),
    ("%stat", STAT),
    ("%lstat", LSTAT),
    ("%fstat", FSTAT),
    ("%%stat", STAT_LIKE),
    ("%statfs", STATFS),
    ("%fstatfs", FSTATFS),
    ("%%statfs", STATFS_LIKE),
    ("%pure", PURE),
    ("%clock", CLOCK),
    // The names of old, without `%`.
    ("all", 0),
    ("desc", DESC),
    ("file", FILE),
    ("memory", MEMORY),
    ("process", PROCESS),
    ("signal", SIGNAL),
    ("ipc", IPC),
    ("network", NETWORK),
];

/// The bits of class `name` (`%file`, `file`, `%%stat`, ...), if it is one.
pub fn class_bits(name: &str) -> Option<u32> {
    CLASS_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, b)| b)
}

impl Arch {
    /// The class bits of syscall `nr` (0 for a syscall in no class, or
    /// one strace does not know).
    pub fn classes(self, nr: u32) -> u32 {
        let t = self.class_table();
        match t.binary_search_by_key(&nr, |&(n, _, _)| u32::from(n)) {
            Ok(i) => t[i].2,
            Err(_) => 0,
        }
    }

    /// strace's table of this architecture: (number, name, classes).
    fn class_table(self) -> &'static [(u16, &'static str, u32)] {
        match self {
            Arch::X86_64 => crate::x86_64::classes::CLASSES,
            Arch::Aarch64 => crate::aarch64::classes::CLASSES,
        }
    }

    /// Every syscall number that has all of `bits` (every syscall strace
    /// knows for `bits` = 0), ascending.
    pub fn class_members(self, bits: u32) -> impl Iterator<Item = u32> {
        self.class_table()
            .iter()
            .filter(move |&&(_, _, b)| b & bits == bits)
            .map(|&(nr, _, _)| u32::from(nr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn syscall_name(nr: u32) -> std::borrow::Cow<'static, str> {
        Arch::X86_64.syscall_name(nr)
    }

    fn names(bits: u32) -> Vec<String> {
        Arch::X86_64
            .class_members(bits)
            .map(|n| syscall_name(n).into_owned())
            .collect()
    }

    #[test]
    fn the_generated_table_is_sorted_and_names_agree_with_the_syscalls_crate() {
        let t = crate::x86_64::classes::CLASSES;
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        for &(nr, name, _) in t {
            let ours = syscall_name(u32::from(nr));
            // strace names a few unused slots differently.
            if !matches!(
                name,
                "getpmsg" | "putpmsg" | "afs_syscall" | "tuxcall" | "security"
            ) && !ours.starts_with("syscall_")
            {
                assert_eq!(ours, name, "{nr}");
            }
        }
    }

    #[test]
    fn aarch64_s_table_is_strace_s_generic_64_bit_one_and_names_agree() {
        let a = Arch::Aarch64;
        let t = crate::aarch64::classes::CLASSES;
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        for &(nr, name, _) in t {
            // strace knows a few calls newer than the syscalls crate.
            let ours = a.syscall_name(u32::from(nr));
            if !ours.starts_with("syscall_") {
                assert_eq!(ours, name, "{nr}");
            }
        }
        let openat = a.syscall_nr("openat").unwrap_or(0);
        assert_eq!(openat, 56);
        assert_eq!(a.classes(openat), DESC | FILE);
        let stat: Vec<_> = a
            .class_members(STAT_LIKE)
            .map(|n| a.syscall_name(n).into_owned())
            .collect();
        assert_eq!(stat, ["newfstatat", "fstat", "statx"]);
        assert_eq!(a.class_members(STAT).count(), 0);
        let file = a.class_members(FILE).count();
        assert!(file > 40, "{file}");
    }

    #[test]
    fn stat_classes_are_strace_6_s() {
        assert_eq!(names(STAT), ["stat"]);
        assert_eq!(names(LSTAT), ["lstat"]);
        assert_eq!(names(FSTAT), ["fstat", "newfstatat", "statx"]);
        assert_eq!(
            names(STAT_LIKE),
            ["stat", "fstat", "lstat", "newfstatat", "statx"]
        );
        assert_eq!(names(STATFS), ["statfs"]);
        assert_eq!(names(FSTATFS), ["fstatfs"]);
        assert_eq!(names(STATFS_LIKE), ["ustat", "statfs", "fstatfs"]);
    }

    #[test]
    fn pure_clock_and_creds_classes() {
        let pure = names(PURE);
        for n in ["getpid", "getppid", "gettid", "getuid", "getpgrp"] {
            assert!(pure.contains(&n.to_string()), "{n}: {pure:?}");
        }
        assert!(!pure.contains(&"read".to_string()));
        let clock = names(CLOCK);
        for n in ["clock_gettime", "gettimeofday", "time", "adjtimex"] {
            assert!(clock.contains(&n.to_string()), "{n}: {clock:?}");
        }
        let creds = names(CREDS);
        for n in ["setuid", "getresgid", "capget", "prctl"] {
            assert!(creds.contains(&n.to_string()), "{n}: {creds:?}");
        }
    }

    #[test]
    fn class_names_are_matched_without_regard_to_case() {
        assert_eq!(class_bits("%FILE"), Some(FILE));
        assert_eq!(class_bits("%%stat"), Some(STAT_LIKE));
        assert_eq!(class_bits("file"), Some(FILE));
        // Only the old classes have a spelling without `%`.
        assert_eq!(class_bits("creds"), None);
        assert_eq!(class_bits("%files"), None);
    }
}
