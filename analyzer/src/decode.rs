//! Names and text forms of raw numbers (errnos, signals; a syscall's name
//! is its architecture's: `ptrec_abi::Arch::syscall_name`) and
//! strace-style string escaping, from `ptrec_abi`; durations.

pub use ptrec_abi::names::signal_name;
pub use ptrec_abi::text::{escape_into, escape_lines_into, quoted, redacted_text};

/// `b` escaped as [`escape_into`] does, without quotes: how every text view
/// shows a name from a trace (a command, a path, a hostname), so that no
/// recorded byte reaches the terminal raw.
pub fn escaped(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    escape_into(&mut s, b);
    s
}

/// Human form of a duration in nanoseconds for tables and trees.
pub fn secs(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_every_control_byte_and_keep_invalid_utf8_as_octal() {
        let s = escaped(b"a\x1b]0;title\x07b\x9b\xff\xc3(\r");
        assert_eq!(s, r"a\33]0;title\7b\233\377\303(\r");
        assert!(s.bytes().all(|c| (0x20..0x7f).contains(&c)), "{s}");
    }
}
