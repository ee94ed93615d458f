//! Register layouts: the architecture as a value.
//!
//! A [`Regs`] snapshot is tagged by its [`RegLayout`]; everything the format
//! knows about a layout — how many registers, their names, which ones hold
//! the syscall number, the arguments, the return value, the program
//! counter, and what the codec may predict (FORMAT.md, sections 4, 5 and
//! 5b) — is one [`LayoutDesc`]. The header's `reg_layout` picks it; the
//! encoder and the decoder are given it, never assume it.

use std::fmt;

/// `AUDIT_ARCH_X86_64`, the architecture tag of an x86_64 recording.
pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
/// `AUDIT_ARCH_AARCH64`, the architecture tag of an arm64 recording.
pub const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;

/// Register layout id 1: x86_64 `struct user_regs_struct`, 27 words in kernel order
/// (r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs
/// eflags rsp ss fs_base gs_base ds es fs gs).
pub const REG_LAYOUT_X86_64: u32 = 1;
/// Register layout id 2: aarch64 `struct user_pt_regs`, 34 words
/// (x0..x30, sp, pc, pstate).
pub const REG_LAYOUT_AARCH64: u32 = 2;

/// Words in an x86_64 snapshot (layout 1).
pub const REG_COUNT: usize = x86_64::COUNT;
/// Words in the largest snapshot of any layout.
pub const MAX_REGS: usize = aarch64::COUNT;

/// Indices into an x86_64 [`Regs`] snapshot.
pub mod x86_64 {
    pub const COUNT: usize = 27;
    pub const R15: usize = 0;
    pub const R14: usize = 1;
    pub const R13: usize = 2;
    pub const R12: usize = 3;
    pub const RBP: usize = 4;
    pub const RBX: usize = 5;
    pub const R11: usize = 6;
    pub const R10: usize = 7;
    pub const R9: usize = 8;
    pub const R8: usize = 9;
    pub const RAX: usize = 10;
    pub const RCX: usize = 11;
    pub const RDX: usize = 12;
    pub const RSI: usize = 13;
    pub const RDI: usize = 14;
    pub const ORIG_RAX: usize = 15;
    pub const RIP: usize = 16;
    pub const CS: usize = 17;
    pub const EFLAGS: usize = 18;
    pub const RSP: usize = 19;
    pub const SS: usize = 20;
    pub const FS_BASE: usize = 21;
    pub const GS_BASE: usize = 22;
    pub const DS: usize = 23;
    pub const ES: usize = 24;
    pub const FS: usize = 25;
    pub const GS: usize = 26;
    /// Registers that carry the six syscall arguments, in argument order.
    pub const ARGS: [usize; 6] = [RDI, RSI, RDX, R10, R8, R9];
    /// Register names in snapshot order.
    pub const NAMES: [&str; COUNT] = [
        "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx",
        "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds",
        "es", "fs", "gs",
    ];
}

/// Indices into an aarch64 [`Regs`] snapshot (`struct user_pt_regs`).
pub mod aarch64 {
    pub const COUNT: usize = 34;
    /// `x0`..`x30` are 0..=30; `x30` is the link register.
    pub const fn x(n: usize) -> usize {
        n
    }
    pub const X0: usize = 0;
    /// The syscall number (`svc #0` convention).
    pub const X8: usize = 8;
    pub const LR: usize = 30;
    pub const SP: usize = 31;
    pub const PC: usize = 32;
    pub const PSTATE: usize = 33;
    /// Registers that carry the six syscall arguments, in argument order.
    pub const ARGS: [usize; 6] = [0, 1, 2, 3, 4, 5];
    /// Register names in snapshot order.
    pub const NAMES: [&str; COUNT] = [
        "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
        "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26",
        "x27", "x28", "x29", "x30", "sp", "pc", "pstate",
    ];
}

/// A register layout: which architecture's snapshot a [`Regs`] holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RegLayout {
    /// Layout 1.
    #[default]
    X86_64,
    /// Layout 2.
    Aarch64,
}

/// Everything the format knows about one register layout.
#[derive(Debug, PartialEq, Eq)]
pub struct LayoutDesc {
    pub layout: RegLayout,
    /// The header's `reg_layout` value.
    pub id: u32,
    /// The architecture's name (`x86_64`, `aarch64`).
    pub name: &'static str,
    /// The header's `arch` of a recording with this layout.
    pub audit_arch: u32,
    /// Register names in snapshot order; its length is the word count.
    pub names: &'static [&'static str],
    /// The register that holds the syscall number (at entry and exit).
    pub nr: usize,
    /// The registers of the six arguments at a syscall entry.
    pub args: [usize; 6],
    /// The register of the return value at a syscall exit.
    pub ret: usize,
    pub pc: usize,
    pub sp: usize,
    /// The return register's value at every syscall-entry stop, when the
    /// kernel fixes one (x86_64: -ENOSYS); `None` where it still holds an
    /// argument (aarch64: x0).
    pub entry_ret: Option<u64>,
    /// (register, base) pairs the syscall instruction links: it copies
    /// base into register, so the codec stores their difference (x86_64:
    /// rcx from rip, r11 from rflags).
    pub linked: &'static [(usize, usize)],
}

pub(crate) const X86_64_DESC: LayoutDesc = LayoutDesc {
    layout: RegLayout::X86_64,
    id: REG_LAYOUT_X86_64,
    name: "x86_64",
    audit_arch: AUDIT_ARCH_X86_64,
    names: &x86_64::NAMES,
    nr: x86_64::ORIG_RAX,
    args: x86_64::ARGS,
    ret: x86_64::RAX,
    pc: x86_64::RIP,
    sp: x86_64::RSP,
    entry_ret: Some(-38i64 as u64),
    linked: &[(x86_64::RCX, x86_64::RIP), (x86_64::R11, x86_64::EFLAGS)],
};

pub(crate) const AARCH64_DESC: LayoutDesc = LayoutDesc {
    layout: RegLayout::Aarch64,
    id: REG_LAYOUT_AARCH64,
    name: "aarch64",
    audit_arch: AUDIT_ARCH_AARCH64,
    names: &aarch64::NAMES,
    nr: aarch64::X8,
    args: aarch64::ARGS,
    ret: aarch64::X0,
    pc: aarch64::PC,
    sp: aarch64::SP,
    entry_ret: None,
    linked: &[],
};

impl RegLayout {
    pub const ALL: [RegLayout; 2] = [RegLayout::X86_64, RegLayout::Aarch64];

    /// The layout of a header's `reg_layout`, if this reader knows it.
    pub fn from_id(id: u32) -> Option<RegLayout> {
        RegLayout::ALL.into_iter().find(|l| l.id() == id)
    }
    /// The layout of a header's `arch` (`AUDIT_ARCH_*`), if known.
    pub fn from_audit_arch(arch: u32) -> Option<RegLayout> {
        RegLayout::ALL
            .into_iter()
            .find(|l| l.desc().audit_arch == arch)
    }
    pub fn desc(self) -> &'static LayoutDesc {
        match self {
            RegLayout::X86_64 => &X86_64_DESC,
            RegLayout::Aarch64 => &AARCH64_DESC,
        }
    }
    pub fn id(self) -> u32 {
        self.desc().id
    }
    /// Words in a snapshot of this layout.
    pub fn count(self) -> usize {
        self.desc().names.len()
    }
    pub fn name(self) -> &'static str {
        self.desc().name
    }
}

/// A full register snapshot, tagged by its layout. Indexing (`regs[i]`)
/// reaches the layout's words, `0..layout.count()`; the words past them are
/// always zero.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Regs {
    layout: RegLayout,
    w: [u64; MAX_REGS],
}

impl Default for Regs {
    /// An all-zero x86_64 snapshot.
    fn default() -> Self {
        Regs::new(RegLayout::X86_64)
    }
}

impl fmt::Debug for Regs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (name, v) in self.layout.desc().names.iter().zip(self.words()) {
            m.entry(name, &format_args!("{v:#x}"));
        }
        m.finish()
    }
}

impl std::ops::Index<usize> for Regs {
    type Output = u64;
    fn index(&self, i: usize) -> &u64 {
        &self.words()[i]
    }
}

impl std::ops::IndexMut<usize> for Regs {
    fn index_mut(&mut self, i: usize) -> &mut u64 {
        &mut self.words_mut()[i]
    }
}

impl Regs {
    /// An all-zero snapshot of `layout`.
    pub fn new(layout: RegLayout) -> Regs {
        Regs {
            layout,
            w: [0; MAX_REGS],
        }
    }
    /// A snapshot of `layout` from its words, in snapshot order; `None`
    /// unless there are exactly `layout.count()` of them.
    pub fn from_words(layout: RegLayout, words: &[u64]) -> Option<Regs> {
        let mut r = Regs::new(layout);
        if words.len() != layout.count() {
            return None;
        }
        r.words_mut().copy_from_slice(words);
        Some(r)
    }
    /// An x86_64 snapshot from `struct user_regs_struct`'s words.
    pub fn x86_64(words: [u64; x86_64::COUNT]) -> Regs {
        let mut r = Regs::new(RegLayout::X86_64);
        r.w[..x86_64::COUNT].copy_from_slice(&words);
        r
    }
    pub fn layout(&self) -> RegLayout {
        self.layout
    }
    /// The layout's words, in snapshot order.
    #[inline]
    pub fn words(&self) -> &[u64] {
        &self.w[..self.layout.count()]
    }
    #[inline]
    pub fn words_mut(&mut self) -> &mut [u64] {
        let n = self.layout.count();
        &mut self.w[..n]
    }
    /// The register named `name` in this layout (`rip`, `x8`, `pc`).
    pub fn get(&self, name: &str) -> Option<u64> {
        let i = self.layout.desc().names.iter().position(|n| *n == name)?;
        Some(self.w[i])
    }
    /// The syscall number (x86_64: `orig_rax`, aarch64: `x8`).
    #[inline]
    pub fn syscall_nr(&self) -> u64 {
        self.w[self.layout.desc().nr]
    }
    /// The six syscall arguments, as they are at a syscall entry.
    #[inline]
    pub fn syscall_args(&self) -> [u64; 6] {
        self.layout.desc().args.map(|i| self.w[i])
    }
    /// The return value register (x86_64: `rax`, aarch64: `x0`), as it is at
    /// a syscall exit.
    #[inline]
    pub fn ret(&self) -> i64 {
        self.w[self.layout.desc().ret] as i64
    }
    /// The program counter (`rip`, `pc`).
    pub fn pc(&self) -> u64 {
        self.w[self.layout.desc().pc]
    }
    /// The stack pointer (`rsp`, `sp`).
    pub fn sp(&self) -> u64 {
        self.w[self.layout.desc().sp]
    }
}
