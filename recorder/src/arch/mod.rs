//! Architecture-specific parts of the engine behind one API: register
//! snapshots, the return-value register, syscall numbers the engine acts on.
//! Only x86_64 exists today; an `aarch64.rs` would export the same items.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(not(target_arch = "x86_64"))]
compile_error!("ptrec's recorder supports x86_64 only for now");
