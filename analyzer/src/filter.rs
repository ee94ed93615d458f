//! `-e trace=SET` as strace parses it, by the parser `rec -e` uses
//! (`ptrec_abi::set`: names, numbers, classes, `/REGEX`, `!`).

use ptrec_abi::set::SyscallSet;
use ptrec_abi::Arch;

/// Which syscall numbers a replay shows.
#[derive(Clone, Debug)]
pub struct Filter {
    /// `None`: every syscall, known or not.
    set: Option<SyscallSet>,
}

impl Filter {
    pub fn all() -> Filter {
        Filter { set: None }
    }

    /// Parses `-e` expressions of the trace's architecture (its names,
    /// numbers and classes); only `trace=` (or a bare set) is supported.
    /// As strace, a later `trace=` replaces an earlier one.
    pub fn parse(arch: Arch, exprs: &[String]) -> anyhow::Result<Filter> {
        let mut f = Filter::all();
        for e in exprs {
            let set = SyscallSet::parse_expr(arch, e)?;
            f.set = (set != SyscallSet::all(arch)).then_some(set);
        }
        Ok(f)
    }

    pub fn shows(&self, nr: u32) -> bool {
        self.set.as_ref().is_none_or(|s| s.contains(u64::from(nr)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: Arch = Arch::X86_64;

    #[test]
    fn aarch64_names_and_classes_select_aarch64_numbers() {
        let f = Filter::parse(Arch::Aarch64, &["trace=openat,%network".into()]).unwrap();
        assert!(f.shows(56));
        assert!(!f.shows(257));
        assert!(f.shows(203)); // connect
        assert!(Filter::parse(Arch::Aarch64, &["trace=open".into()]).is_err());
    }

    #[test]
    fn names_classes_and_negation() {
        let f = Filter::parse(X, &["trace=openat,%network".into()]).unwrap();
        assert!(f.shows(257));
        assert!(f.shows(42)); // connect
        assert!(!f.shows(0));
        let f = Filter::parse(X, &["!write".into()]).unwrap();
        assert!(!f.shows(1));
        assert!(f.shows(0));
        assert!(Filter::parse(X, &["trace=nosuchcall".into()]).is_err());
        assert!(Filter::parse(X, &[]).unwrap().shows(12345));
        // The classes rec takes, %ipc among them.
        assert!(Filter::parse(X, &["trace=%ipc".into()]).unwrap().shows(29)); // shmget
        assert!(Filter::parse(X, &["trace=/^sem".into()]).unwrap().shows(64)); // semget
    }
}
