//! `-e trace=SET`: strace's syscall-set syntax, and the seccomp-bpf program
//! that makes the kernel stop a started command only at the syscalls in SET.
//!
//! The syntax and strace's classes are `ptrec_abi::set`'s, the one parser
//! `analyze replay -e` uses too: an optional `trace=` (or `t=`) prefix,
//! leading `!`s, names, numbers, classes (`%file`, `%desc`, `%%stat`,
//! `%pure`, ...) and `/REGEX`. Names and numbers are x86_64 ones.
//!
//! The filter program ([`Filter::program`]) returns SECCOMP_RET_TRACE for
//! every selected syscall, for execve and execveat (the recorder must see
//! every exec), and for anything that is not a 64-bit x86_64 syscall (an
//! `int 0x80` from 32-bit code, or an x32 syscall: other numbering, so
//! traced to be safe); every other syscall gets SECCOMP_RET_ALLOW and runs
//! without a stop.

use std::fmt;

use ptrec_format::Regs;
use syscalls::Sysno;

use ptrec_abi::set::SyscallSet;
pub use ptrec_abi::set::{Error, Result};
use ptrec_abi::Arch;

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
        Arch::X86_64
            .syscall_numbers()
            .filter(|&n| self.contains(n as u64))
            .collect()
    }
    /// Every valid x86_64 syscall number.
    pub fn all() -> Selection {
        let mut s = Selection::empty();
        for n in Arch::X86_64.syscall_numbers() {
            s.insert(n as usize);
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
        let set = SyscallSet::parse_expr(Arch::X86_64, spec)?;
        let mut selection = Selection::empty();
        for n in set.numbers() {
            selection.insert(n as usize);
        }
        Ok(Filter {
            spec: spec.to_string(),
            selection,
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

    #[test]
    fn parse_selects_what_the_shared_parser_selects() {
        for spec in [
            "trace=%desc",
            "!%file,write",
            "/^getp",
            "%%stat",
            "all",
            "none",
        ] {
            let want = SyscallSet::parse_expr(Arch::X86_64, spec).expect(spec);
            let got = Filter::parse(spec).expect(spec).selection();
            assert_eq!(got.numbers(), want.numbers().collect::<Vec<_>>(), "{spec}");
        }
        assert!(Filter::parse("all").expect("valid").is_all());
        assert!(matches!(
            Filter::parse("signal=SIGINT"),
            Err(Error::Qualifier { .. })
        ));
        assert_eq!(Filter::parse("t=close").expect("valid").spec(), "t=close");
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
        regs[ptrec_format::x86_64::CS] = 0x33;
        assert!(s.records(Sysno::write as u64, &regs));
        assert!(!s.records(Sysno::read as u64, &regs));
        regs[ptrec_format::x86_64::CS] = 0x23;
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
