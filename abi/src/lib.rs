//! ptrec-abi: one description of the Linux syscall ABI, shared by `rec`
//! (what to capture) and `analyze` (how to show it). No ptrace in it, so
//! it builds and runs on any host.
//!
//! - [`Arch`]: the architecture of a recording; syscall names and numbers
//!   ([`names`]), kernel struct layouts ([`layout`], generated from the
//!   uapi headers by `abi/gen/layout.py`).
//! - [`capture`]: per syscall, which argument memory rec reads, when.
//! - [`class`] and [`set`]: strace's syscall classes (generated from
//!   strace's table by `abi/gen/classes.py`) and its `-e trace=SET`
//!   syntax, one parser for `rec -e` and `analyze replay -e`.
//! - [`fds`]: what a call does to the caller's descriptor table (opens,
//!   dups, closes, close-on-exec), for every reader that follows
//!   descriptors; [`fdtable`]: the tables themselves, shared or copied at
//!   clone, unshared at exec, freed with their last thread.
//! - [`decode`]: a call's arguments and result as strace prints them,
//!   from its registers and the memory captured at entry and exit.
//! - [`text`]: strace's escaping of every byte shown from a trace.
//!
//! ```
//! use ptrec_abi::{set::SyscallSet, Arch};
//! let desc = SyscallSet::parse(Arch::X86_64, "%desc").unwrap();
//! assert!(desc.contains(Arch::X86_64.syscall_nr("read").unwrap().into()));
//! ```
//!
//! Architecture-specific facts live in one module per architecture
//! (`x86_64/`, `aarch64/`: generated classes and struct layouts, aarch64's
//! numbering); names, classes, sets, layouts, the capture table
//! ([`Arch::capture_for`]) and the decoders ([`decode::Call::arch`]) take
//! an [`Arch`]. A syscall's identity across architectures is x86_64's
//! `Sysno` of its name ([`Arch::sysno`]): the decoders and the capture
//! table key on it, so an aarch64 `openat` (56) is decoded and captured as
//! x86_64's (257), and shown with its own number and name.
//!
//! A third architecture adds its module (its layout from
//! `abi/gen/layout.py ARCH CROSS-CC`, its classes from
//! `abi/gen/classes.py ARCH STRACE_SRC`, its numbering), an arm in each
//! `match self` of [`Arch`], its capture table (`capture.rs`: one line of
//! the `tables!` macro) and the flag values that differ from x86_64's
//! (`decode/flags.rs`: aarch64's O_DIRECTORY, O_NOFOLLOW, O_DIRECT,
//! O_LARGEFILE).

pub mod aarch64;
pub mod capture;
pub mod class;
pub mod decode;
pub mod fds;
pub mod fdtable;
pub mod layout;
pub mod names;
pub mod set;
pub mod text;
pub mod x86_64;

/// A syscall's identity on every architecture (see [`Arch::sysno`]).
pub use syscalls::x86_64::Sysno;

/// The architecture of a recording (the trace header's audit arch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// The architecture of an `AUDIT_ARCH_*` value, if this crate knows it.
    pub fn from_audit(audit_arch: u32) -> Option<Arch> {
        match audit_arch {
            ptrec_format::AUDIT_ARCH_X86_64 => Some(Arch::X86_64),
            ptrec_format::AUDIT_ARCH_AARCH64 => Some(Arch::Aarch64),
            _ => None,
        }
    }

    /// The architecture of a trace, from its header's `arch` and
    /// `reg_layout`: `None` unless this crate knows the architecture and
    /// the register layout is that architecture's.
    pub fn of(h: &ptrec_format::Header) -> Option<Arch> {
        let arch = Arch::from_audit(h.arch)?;
        (ptrec_format::RegLayout::from_id(h.reg_layout) == Some(arch.reg_layout())).then_some(arch)
    }

    /// The register layout of this architecture's snapshots.
    pub fn reg_layout(self) -> ptrec_format::RegLayout {
        match self {
            Arch::X86_64 => ptrec_format::RegLayout::X86_64,
            Arch::Aarch64 => ptrec_format::RegLayout::Aarch64,
        }
    }

    /// `x86_64`, `aarch64`.
    pub fn name(self) -> &'static str {
        self.reg_layout().name()
    }

    /// The kernel struct layouts of this architecture.
    pub fn layout(self) -> &'static layout::Layout {
        match self {
            Arch::X86_64 => &x86_64::layout::LAYOUT,
            Arch::Aarch64 => &aarch64::layout::LAYOUT,
        }
    }
}
