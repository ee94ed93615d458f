//! x86_64: strace's classes and the kernel's struct layouts, both generated
//! (see `abi/gen/`). Syscall numbers and names are the `syscalls` crate's.

pub(crate) mod classes;
pub mod layout;
