//! strace's syscall-set syntax (`-e trace=SET`), one parser for `rec -e`
//! and `analyze replay -e`.
//!
//! As strace's `qualify_syscall_tokens`: any number of leading `!`, each
//! inverting the rest; then `all`, `none`, or a comma-separated list of
//! tokens. A token is a syscall name, a decimal syscall number, a class
//! ([`crate::class::CLASS_NAMES`]: `%file`, `%desc`, `%%stat`, `%pure`,
//! ..., and the old names without `%`), or `/REGEX`: every syscall whose
//! name the (extended) regular expression matches somewhere. A token
//! prefixed with `?` is ignored when it matches nothing.

use crate::class::class_bits;
use crate::Arch;

/// Why a SET could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("-e {spec}: unknown syscall '{name}'")]
    UnknownSyscall { spec: String, name: String },
    #[error("-e {spec}: unknown syscall class '{name}' (known: %file %process %network %net %signal %ipc %desc %memory %creds %stat %lstat %fstat %%stat %statfs %fstatfs %%statfs %pure %clock)")]
    UnknownClass { spec: String, name: String },
    #[error("-e {spec}: no syscall matches /{pattern}")]
    NoMatch { spec: String, pattern: String },
    #[error("-e {spec}: /{pattern}: {message}")]
    Regex {
        spec: String,
        pattern: String,
        message: String,
    },
    #[error("-e {spec}: empty syscall name")]
    Empty { spec: String },
    #[error("-e {spec}: only trace=SET is supported, not {qualifier}=")]
    Qualifier { spec: String, qualifier: String },
}

pub type Result<T> = std::result::Result<T, Error>;

/// Bits in a [`SyscallSet`]: every syscall number of every architecture
/// fits.
pub const BITS: usize = 512;
const _: () = assert!(Arch::X86_64.syscall_table_len() <= BITS);
const _: () = assert!(Arch::Aarch64.syscall_table_len() <= BITS);

/// A set of syscall numbers of one architecture; a lookup is one shift
/// and one load.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SyscallSet([u64; BITS / 64]);

impl SyscallSet {
    pub const fn empty() -> SyscallSet {
        SyscallSet([0; BITS / 64])
    }

    /// Every valid syscall number of `arch`.
    pub fn all(arch: Arch) -> SyscallSet {
        let mut s = SyscallSet::empty();
        for n in arch.syscall_numbers() {
            s.insert(n);
        }
        s
    }

    pub fn insert(&mut self, nr: u32) {
        let nr = nr as usize;
        if nr < BITS {
            self.0[nr / 64] |= 1 << (nr % 64);
        }
    }

    /// Whether `nr` is in the set.
    #[inline]
    pub fn contains(&self, nr: u64) -> bool {
        (nr as usize) < BITS && self.0[nr as usize / 64] & (1 << (nr % 64)) != 0
    }

    /// The numbers in the set, ascending.
    pub fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        (0..BITS as u32).filter(|&n| self.contains(u64::from(n)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The valid syscalls of `arch` that are not in the set.
    pub fn inverted(&self, arch: Arch) -> SyscallSet {
        let all = SyscallSet::all(arch);
        let mut s = *self;
        for (w, a) in s.0.iter_mut().zip(all.0) {
            *w = !*w & a;
        }
        s
    }

    /// Parses a SET (see the module docs), without a `trace=` prefix.
    pub fn parse(arch: Arch, set: &str) -> Result<SyscallSet> {
        parse_set(arch, set, set)
    }

    /// Parses one `-e` expression as `rec` takes it: `trace=SET`, `t=SET`
    /// or a bare SET.
    pub fn parse_expr(arch: Arch, expr: &str) -> Result<SyscallSet> {
        let rest = expr.trim();
        match rest.split_once('=') {
            Some(("trace" | "t", v)) => parse_set(arch, v, expr),
            Some((q, _)) if !q.starts_with('/') => Err(Error::Qualifier {
                spec: expr.to_string(),
                qualifier: q.to_string(),
            }),
            _ => parse_set(arch, rest, expr),
        }
    }
}

impl std::fmt::Debug for SyscallSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.numbers().map(|n| crate::Arch::X86_64.syscall_name(n)))
            .finish()
    }
}

fn parse_set(arch: Arch, set: &str, spec: &str) -> Result<SyscallSet> {
    let mut rest = set;
    let mut invert = false;
    while let Some(r) = rest.strip_prefix('!') {
        invert = !invert;
        rest = r;
    }
    let mut sel = SyscallSet::empty();
    match rest {
        "all" => sel = SyscallSet::all(arch),
        "none" => {}
        _ => {
            for token in rest.split(',') {
                let (optional, token) = match token.strip_prefix('?') {
                    Some(t) => (true, t.trim_start_matches('?')),
                    None => (false, token),
                };
                match add_token(arch, &mut sel, token, spec) {
                    Ok(()) => {}
                    Err(
                        Error::UnknownSyscall { .. }
                        | Error::UnknownClass { .. }
                        | Error::NoMatch { .. },
                    ) if optional => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(if invert { sel.inverted(arch) } else { sel })
}

fn add_token(arch: Arch, sel: &mut SyscallSet, token: &str, spec: &str) -> Result<()> {
    if token.is_empty() {
        return Err(Error::Empty {
            spec: spec.to_string(),
        });
    }
    if token.as_bytes()[0].is_ascii_digit() {
        return match token.parse::<u32>() {
            Ok(n) if arch.is_syscall(n) => {
                sel.insert(n);
                Ok(())
            }
            _ => Err(Error::UnknownSyscall {
                spec: spec.to_string(),
                name: token.to_string(),
            }),
        };
    }
    if let Some(pattern) = token.strip_prefix('/') {
        let re = regex::Regex::new(pattern).map_err(|e| Error::Regex {
            spec: spec.to_string(),
            pattern: pattern.to_string(),
            message: e.to_string(),
        })?;
        let mut found = false;
        for n in arch.syscall_numbers() {
            if re.is_match(&arch.syscall_name(n)) {
                sel.insert(n);
                found = true;
            }
        }
        if !found {
            return Err(Error::NoMatch {
                spec: spec.to_string(),
                pattern: pattern.to_string(),
            });
        }
        return Ok(());
    }
    if let Some(bits) = class_bits(token) {
        if bits == 0 {
            // `all` inside a list.
            *sel = SyscallSet::all(arch);
            return Ok(());
        }
        // Only the numbers this crate knows (strace may know newer ones).
        for n in arch.class_members(bits).filter(|&n| arch.is_syscall(n)) {
            sel.insert(n);
        }
        return Ok(());
    }
    if let Some(n) = arch.syscall_nr(token) {
        sel.insert(n);
        return Ok(());
    }
    if token.starts_with('%') {
        return Err(Error::UnknownClass {
            spec: spec.to_string(),
            name: token.to_string(),
        });
    }
    Err(Error::UnknownSyscall {
        spec: spec.to_string(),
        name: token.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    const X: Arch = Arch::X86_64;

    fn syscall_name(nr: u32) -> std::borrow::Cow<'static, str> {
        X.syscall_name(nr)
    }
    fn syscall_nr(name: &str) -> Option<u32> {
        X.syscall_nr(name)
    }

    fn names(s: &SyscallSet) -> Vec<String> {
        s.numbers().map(|n| syscall_name(n).into_owned()).collect()
    }

    fn set(spec: &str) -> SyscallSet {
        SyscallSet::parse_expr(X, spec).expect(spec)
    }

    fn nr(name: &str) -> u64 {
        u64::from(syscall_nr(name).expect(name))
    }

    #[test]
    fn parses_names_with_and_without_trace_prefix() {
        for spec in ["trace=openat,close", "openat,close", "t=close,openat"] {
            assert_eq!(names(&set(spec)), ["close", "openat"], "{spec}");
        }
    }

    #[test]
    fn parses_numbers() {
        assert_eq!(names(&set("trace=39")), ["getpid"]);
        assert!(matches!(
            SyscallSet::parse(X, "999"),
            Err(Error::UnknownSyscall { .. })
        ));
    }

    #[test]
    fn process_class_is_strace_s() {
        assert_eq!(
            names(&set("trace=%process")),
            [
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
                "clone3"
            ]
        );
    }

    #[test]
    fn classes_resolve_and_net_is_network() {
        let net = set("%net");
        assert_eq!(net, set("%network"));
        assert!(net.contains(nr("connect")) && !net.contains(nr("read")));
        let file = set("%file");
        assert!(file.contains(nr("openat")) && file.contains(nr("execve")));
        assert!(!file.contains(nr("read")));
        let desc = set("%desc");
        assert!(desc.contains(nr("read")) && desc.contains(nr("close")));
        assert!(set("%memory").contains(nr("brk")));
        assert!(set("%signal").contains(nr("kill")));
        let ipc = set("%ipc");
        assert!(ipc.contains(nr("shmget")) && !ipc.contains(nr("socket")));
        assert!(set("%creds").contains(nr("capget")));
        assert_eq!(set("process"), set("%process"));
        assert_eq!(set("%%stat"), set("stat,fstat,lstat,newfstatat,statx"));
        assert_eq!(set("%%statfs"), set("ustat,statfs,fstatfs"));
        assert!(set("%pure").contains(nr("getpid")));
        assert!(set("%clock").contains(nr("clock_gettime")));
        assert_eq!(set("%FILE"), set("%file"));
    }

    #[test]
    fn a_regex_selects_every_name_it_matches() {
        let oc = names(&set("/^(open|close)"));
        assert!(
            oc.iter()
                .all(|n| n.starts_with("open") || n.starts_with("close")),
            "{oc:?}"
        );
        for n in ["open", "openat", "openat2", "close", "close_range"] {
            assert!(oc.contains(&n.to_string()), "{n}: {oc:?}");
        }
        // Unanchored: matches anywhere in the name.
        assert!(!set("/stat$").contains(nr("newfstatat")));
        assert!(set("/stat").contains(nr("newfstatat")));
        assert_eq!(set("/^getpid$,write"), set("getpid,write"));
        assert!(matches!(
            SyscallSet::parse(X, "/("),
            Err(Error::Regex { .. })
        ));
        assert!(matches!(
            SyscallSet::parse(X, "/^nosuch"),
            Err(Error::NoMatch { .. })
        ));
        assert_eq!(names(&set("?/^nosuch,write")), ["write"]);
    }

    #[test]
    fn negation_inverts_the_whole_rest() {
        let s = set("trace=!%process,write");
        assert!(!s.contains(nr("clone")) && !s.contains(nr("write")));
        assert!(s.contains(nr("read")) && s.contains(nr("getppid")));
        assert_eq!(set("!!write"), set("write"));
    }

    #[test]
    fn all_and_none() {
        assert_eq!(set("all"), SyscallSet::all(X));
        assert_eq!(set("!none"), SyscallSet::all(X));
        assert!(set("none").is_empty());
        assert!(set("!all").is_empty());
        assert_eq!(set("read,all"), SyscallSet::all(X));
    }

    #[test]
    fn errors_name_the_bad_token() {
        let e = SyscallSet::parse_expr(X, "trace=openat,nosuchcall").expect_err("unknown");
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
        assert!(matches!(
            SyscallSet::parse(X, "%files"),
            Err(Error::UnknownClass { name, .. }) if name == "%files"
        ));
        assert!(matches!(
            SyscallSet::parse(X, "read,,write"),
            Err(Error::Empty { .. })
        ));
        assert!(matches!(SyscallSet::parse(X, ""), Err(Error::Empty { .. })));
        assert!(matches!(
            SyscallSet::parse_expr(X, "signal=SIGINT"),
            Err(Error::Qualifier { qualifier, .. }) if qualifier == "signal"
        ));
        assert_eq!(names(&set("?nosuchcall,write")), ["write"]);
    }
}
