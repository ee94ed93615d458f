//! Names and text forms of raw numbers (syscalls, errnos, signals) and
//! strace-style string escaping, from `ptrec_abi`; durations.

pub use ptrec_abi::names::{signal_name, syscall_name};
pub use ptrec_abi::text::quoted;

/// Human form of a duration in nanoseconds for tables and trees.
pub fn secs(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
}
