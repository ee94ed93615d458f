//! aarch64: syscall numbers (the `syscalls` crate's `aarch64` table, as
//! strace names them), strace's classes and the kernel's struct layouts,
//! both generated (see `abi/gen/`).
//!
//! aarch64 uses the kernel's generic syscall table. Every syscall it has
//! is also in x86_64's table under the same name, so the decoders and the
//! capture table, which key on x86_64's [`Sysno`] as a syscall's identity,
//! reach an aarch64 number through [`TO_X86_64`].

use syscalls::aarch64::Sysno as A64;
use syscalls::x86_64::Sysno;

pub(crate) mod classes;
pub mod layout;

/// One more than the largest aarch64 syscall number.
pub(crate) const TABLE_LEN: usize = A64::table_size();

/// The generic table's 32-bit time64 calls (403..=423), which the
/// `syscalls` crate lists for aarch64 but an arm64 kernel does not have
/// for 64-bit tasks (ENOSYS; strace shows them as `syscall_0x193`...).
const fn compat_only(nr: usize) -> bool {
    403 <= nr && nr <= 423
}

/// The name of aarch64 syscall `nr` as strace prints it, if it is one.
/// The kernel's generic table calls 79 `fstatat`, which the `syscalls`
/// crate keeps; its 64-bit ABI (and strace) call it `newfstatat`.
pub(crate) const fn name(nr: usize) -> Option<&'static str> {
    if compat_only(nr) {
        return None;
    }
    match A64::new(nr) {
        Some(A64::fstatat) => Some("newfstatat"),
        Some(s) => Some(s.name()),
        None => None,
    }
}

/// The aarch64 number of the syscall strace names `name`.
pub(crate) fn number(name: &str) -> Option<u32> {
    let n = match name {
        "newfstatat" => A64::fstatat as usize,
        "fstatat" => return None,
        _ => name.parse::<A64>().ok()?.id() as usize,
    };
    self::name(n).map(|_| n as u32)
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// No syscall.
pub(crate) const NONE: u16 = u16::MAX;

/// For each aarch64 number, the x86_64 number of the syscall of the same
/// name ([`NONE`] for a number that is no syscall).
pub(crate) static TO_X86_64: [u16; TABLE_LEN] = TO;
pub(crate) const TO: [u16; TABLE_LEN] = to_x86_64();

const fn to_x86_64() -> [u16; TABLE_LEN] {
    let mut t = [NONE; TABLE_LEN];
    let mut nr = 0;
    while nr < TABLE_LEN {
        if let Some(n) = name(nr) {
            let mut x = 0;
            while x < Sysno::table_size() {
                if let Some(s) = Sysno::new(x) {
                    if str_eq(s.name(), n) {
                        t[nr] = x as u16;
                        break;
                    }
                }
                x += 1;
            }
            // Every aarch64 syscall has an x86_64 namesake.
            assert!(t[nr] != NONE);
        }
        nr += 1;
    }
    t
}

/// The inverse of [`TO_X86_64`]: for each x86_64 number, the aarch64 one.
pub(crate) static FROM_X86_64: [u16; Sysno::table_size()] = FROM;
pub(crate) const FROM: [u16; Sysno::table_size()] = from_x86_64();

const fn from_x86_64() -> [u16; Sysno::table_size()] {
    let mut t = [NONE; Sysno::table_size()];
    let mut nr = 0;
    while nr < TABLE_LEN {
        let x = TO[nr];
        if x != NONE {
            t[x as usize] = nr as u16;
        }
        nr += 1;
    }
    t
}
