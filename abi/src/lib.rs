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
//! (`x86_64/`: generated classes and struct layouts); names, classes, sets
//! and layouts take an [`Arch`]. The capture table and the decoders are
//! x86_64's today: a second architecture adds its module (its layout from
//! `abi/gen/layout.py ARCH CROSS-CC`, its classes from strace's table for
//! it), its capture table, and the flag values that differ (aarch64's
//! O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE) to the decoders, which
//! then read the layout through [`Arch::layout`] instead of x86_64's.

pub mod capture;
pub mod class;
pub mod decode;
pub mod layout;
pub mod names;
pub mod set;
pub mod text;
pub mod x86_64;

/// The architecture of a recording (the trace header's audit arch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
}

impl Arch {
    /// The architecture of an `AUDIT_ARCH_*` value, if this crate knows it.
    pub fn from_audit(audit_arch: u32) -> Option<Arch> {
        match audit_arch {
            ptrec_format::AUDIT_ARCH_X86_64 => Some(Arch::X86_64),
            _ => None,
        }
    }

    /// The kernel struct layouts of this architecture.
    pub fn layout(self) -> &'static layout::Layout {
        match self {
            Arch::X86_64 => &x86_64::layout::LAYOUT,
        }
    }
}
