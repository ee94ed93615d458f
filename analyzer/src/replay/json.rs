//! `replay --json`: NDJSON, one object per call, signal or event, with the
//! raw values next to their decoded forms. The objects are described by
//! `analyzer/replay.schema.json` (a test validates output against it).
//!
//! A call's object is written straight into the output by hand, reusing
//! the [`Scratch`] buffers: a replay writes millions of them, and building
//! each as Rust values for serde cost more than decoding the call.

use std::ops::Range;

use serde_json::{json, Value};

use ptrec_format::{mem_flags, ChildKind, Mem, Record, Termination};

use ptrec_abi::decode::{self as abi, ArgType, Part, Style};

use super::driver::collect;
use crate::calls::{End, Entry, Exit};
use crate::decode::signal_name;
use crate::stats::is_error;
use ptrec_abi::names::push_errno_text;

/// Text buffers a walk keeps from call to call, so that writing a call
/// allocates only while they grow, and what it learnt of each syscall.
#[derive(Default)]
pub(super) struct Scratch {
    /// The decoded arguments (`decoded`).
    decoded: String,
    /// The arguments decoded one by one, for the calls shown as one text.
    parts: String,
    /// The return value's text, then the errno's.
    ret: String,
    /// [`Kept`] by syscall number, as they are asked for, of the
    /// architecture `.0`.
    kept: Option<(ptrec_abi::Arch, Vec<Option<Kept>>)>,
    /// The [`Kept`] of a number beyond the tables (a bad register).
    odd: Option<Kept>,
    /// `,"errno":"ENOENT"` by errno, as they are asked for: a failed call
    /// would otherwise write the errno's whole text to take its name.
    errnos: Vec<Option<Box<[u8]>>>,
    /// The digits of the last call's registers and instruction pointer:
    /// the registers a call does not read keep what the calls before it
    /// left (more than half of them are as in the call before).
    regs: [Digits; 7],
}

/// What is the same in every call of one syscall number.
struct Kept {
    /// [`abi::arg_types`] (it looks the call's decoder up each time).
    types: [ArgType; 6],
    /// `,"name":"openat","nr":257,"args":[`, escaped once, in the first
    /// `head_len` bytes; padded to [`HEAD`] bytes at least, so that it is
    /// copied with a move of fixed size.
    head: Box<[u8]>,
    head_len: usize,
}

/// The bytes of [`Kept::head`] that are copied as one.
const HEAD: usize = 64;

impl Kept {
    fn new(arch: ptrec_abi::Arch, nr: u32) -> Kept {
        let mut head = Vec::with_capacity(48);
        head.extend_from_slice(b",\"name\":");
        push_str(&mut head, &arch.syscall_name(nr));
        head.extend_from_slice(b",\"nr\":");
        push_u64(&mut head, nr.into());
        head.extend_from_slice(b",\"args\":[");
        let head_len = head.len();
        head.resize(head_len.max(HEAD), 0);
        Kept {
            types: abi::arg_types(arch, nr),
            head: head.into(),
            head_len,
        }
    }

    fn push_head(&self, out: &mut Vec<u8>) {
        match <&[u8; HEAD]>::try_from(&self.head[..]) {
            Ok(h) => {
                let at = out.len();
                out.extend_from_slice(h);
                out.truncate(at + self.head_len);
            }
            Err(_) => out.extend_from_slice(&self.head[..self.head_len]),
        }
    }
}

/// The [`Kept`] of syscall `nr`, made the first time it is asked for.
fn kept<'k>(
    kept: &'k mut Option<(ptrec_abi::Arch, Vec<Option<Kept>>)>,
    odd: &'k mut Option<Kept>,
    arch: ptrec_abi::Arch,
    nr: u32,
) -> &'k Kept {
    // Beyond the tables' numbers (a bad register) nothing is kept.
    const KEPT: usize = 1024;
    let (a, kept) = kept.get_or_insert_with(|| (arch, Vec::new()));
    if *a != arch {
        *a = arch;
        kept.clear();
    }
    let slot = nr as usize;
    if slot >= KEPT {
        return odd.insert(Kept::new(arch, nr));
    }
    if kept.len() <= slot {
        kept.resize_with(slot + 1, || None);
    }
    kept[slot].get_or_insert_with(|| Kept::new(arch, nr))
}

/// `,"errno":"NAME"` of `errno` (1..=4095), made the first time it is
/// asked for.
fn errno_key(errnos: &mut Vec<Option<Box<[u8]>>>, errno: i32) -> &[u8] {
    let slot = errno as usize;
    if errnos.len() <= slot {
        errnos.resize_with(slot + 1, || None);
    }
    errnos[slot].get_or_insert_with(|| {
        let mut text = String::new();
        push_errno_text(&mut text, errno);
        let mut key = b",\"errno\":".to_vec();
        push_str(&mut key, text.split(' ').next().unwrap_or(""));
        key.into()
    })
}

/// What [`push_escaped`] writes for each byte: 0 the byte itself, `u`
/// `\u00xx`, else `\` and that letter.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = b'u';
        c += 1;
    }
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Appends `s` as a JSON string, escaped as serde_json escapes it (the
/// output stays byte for byte what it was): `"` and `\`, the short forms
/// of `\b \f \n \r \t`, other control characters as `\u00xx`; everything
/// else, U+2028 and U+2029 included, as it is (JSON allows them raw).
fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    push_escaped(out, s);
    out.push(b'"');
}

/// The bytes of `w` (loaded little-endian) that [`ESCAPE`] escapes, a
/// control character, `"` or `\`, each as its top bit. The usual
/// has-zero-byte and has-less-than tests: none misses such a byte, and
/// the lowest bit set is exact (a byte is marked wrongly only by the
/// borrow of a marked byte below it), which is all [`push_escaped_marked`]
/// uses.
fn escaped_bits(w: u64) -> u64 {
    const LO: u64 = u64::from_ne_bytes([1; 8]);
    const HI: u64 = LO << 7;
    let quote = w ^ (LO * u64::from(b'"'));
    let backslash = w ^ (LO * u64::from(b'\\'));
    let control = w.wrapping_sub(LO * 0x20) & !w;
    let quote = quote.wrapping_sub(LO) & !quote;
    let backslash = backslash.wrapping_sub(LO) & !backslash;
    (control | quote | backslash) & HI
}

/// The bytes of `b` from `i` on, up to eight of them, as a little-endian
/// word, and how many they are. Past the end it reads nothing: a text of
/// eight bytes or more gives its last eight shifted down (those before `i`
/// are out), a shorter one is gathered byte by byte (its zero padding
/// marks, in [`escaped_bits`], nothing below it).
fn word_at(b: &[u8], i: usize) -> (u64, usize) {
    let n = b.len();
    if let Some(w) = b.get(i..i + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        return (u64::from_le_bytes(a), 8);
    }
    if n >= 8 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[n - 8..]);
        return (u64::from_le_bytes(a) >> (8 * (i + 8 - n)), n - i);
    }
    let w = b[i..]
        .iter()
        .rev()
        .fold(0u64, |w, &c| (w << 8) | u64::from(c));
    (w, n - i)
}

/// Appends the first `n` (at most 8) bytes of word `w`: eight are written
/// and the rest cut again, a store of fixed size, not a call to memcpy.
fn push_word(out: &mut Vec<u8>, w: u64, n: usize) {
    let at = out.len();
    out.extend_from_slice(&w.to_le_bytes());
    out.truncate(at + n);
}

fn push_escaped(out: &mut Vec<u8>, s: &str) {
    push_escaped_marked(out, s, &mut []);
}

/// [`push_escaped`], turning each of `marks` (offsets into `s`, in
/// order) into the offset in `out` that its byte was written at: where
/// the pieces of a text escaped in one go lie in the output.
///
/// Eight bytes at a time are looked at and written as one word, up to the
/// first that needs escaping (most texts have nothing to escape but the
/// quotes around their strings).
fn push_escaped_marked(out: &mut Vec<u8>, s: &str, marks: &mut [usize]) {
    escape_utf8(out, s.as_bytes(), marks);
}

/// [`push_escaped_marked`] of `b`, which is UTF-8 (the caller has made
/// sure: a `&str`'s bytes, or ASCII): what is written stays so.
fn escape_utf8(out: &mut Vec<u8>, b: &[u8], marks: &mut [usize]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut i = 0;
    let mut next = 0;
    while i < b.len() {
        let (w, n) = word_at(b, i);
        let keep = if n == 8 { u64::MAX } else { (1 << (8 * n)) - 1 };
        let m = escaped_bits(w) & keep;
        if m == 0 {
            push_word(out, w, n);
            i += n;
            continue;
        }
        // Only ASCII bytes are escaped, so each run is whole characters.
        let clean = (m.trailing_zeros() / 8) as usize;
        push_word(out, w, clean);
        i += clean;
        // Bytes before `i` since the last escape went out one for one.
        while let Some(m) = marks.get_mut(next).filter(|m| **m <= i) {
            *m = out.len() - (i - *m);
            next += 1;
        }
        let c = b[i];
        let e = ESCAPE[usize::from(c)];
        if e == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', e]);
        }
        i += 1;
    }
    for m in marks.iter_mut().skip(next) {
        *m = out.len() - (b.len() - *m);
    }
}

/// Appends bytes from the trace as a JSON string: as
/// `String::from_utf8_lossy` reads them (each invalid sequence one
/// U+FFFD), then escaped.
fn push_lossy(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'"');
    // Most are ASCII (paths): one check, not a walk chunk by chunk.
    if b.is_ascii() {
        escape_utf8(out, b, &mut []);
        out.push(b'"');
        return;
    }
    match std::str::from_utf8(b) {
        Ok(s) => push_escaped(out, s),
        Err(_) => {
            for chunk in b.utf8_chunks() {
                push_escaped(out, chunk.valid());
                if !chunk.invalid().is_empty() {
                    out.extend_from_slice("\u{fffd}".as_bytes());
                }
            }
        }
    }
    out.push(b'"');
}

/// The decimal digits of `v` (below 10^8), eight of them, zero-padded,
/// in the order they are written (as a little-endian word). Each step
/// splits every lane of the word at once, 4+4 digits, then 2+2, then
/// 1+1, dividing by multiplying: no chain of divisions that wait on each
/// other, no table.
fn digits8(v: u32) -> u64 {
    let v = u64::from(v);
    // Lanes of 32 bits: the high four digits first (the low lane).
    let m = (v / 10_000) | ((v % 10_000) << 32);
    // x / 100 is (x * 10486) >> 20 for every x below 10^4; no lane's
    // product reaches the next lane's bits that are kept.
    let hundreds = ((m * 10_486) >> 20) & 0x0000_007f_0000_007f;
    let m = hundreds | ((m - hundreds * 100) << 16);
    // x / 10 is (x * 103) >> 10 for every x below 100.
    let tens = ((m * 103) >> 10) & 0x000f_000f_000f_000f;
    let m = tens | ((m - tens * 10) << 8);
    m | u64::from_ne_bytes([b'0'; 8])
}

/// The leading group of eight digits (at most seven zeros shifted out),
/// and how many digits are left.
fn lead8(v: u32) -> (u64, usize) {
    let d = digits8(v);
    // The zeros before the first digit, from the digit bytes' low bits; the
    // last byte counts as a digit even if it is 0.
    let zeros = ((d ^ u64::from_ne_bytes([b'0'; 8])) | (1 << 56)).trailing_zeros() / 8;
    (d >> (8 * zeros), 8 - zeros as usize)
}

/// `x << bits`, 0 when every bit is shifted out.
fn shl(x: u64, bits: usize) -> u64 {
    x.checked_shl(bits as u32).unwrap_or(0)
}

/// `v` in decimal: its digits as the bytes of three little-endian words,
/// and how many. The digits are made eight at a time, the leading
/// group's moved to the front of its word, and the groups joined in
/// registers: the words are stored whole, as they are later read (a load
/// from several smaller stores of a moment before waits for them to
/// reach the cache). Their count comes from the leading group's zeros,
/// not from a logarithm.
fn decimal(v: u64) -> ([u64; 3], usize) {
    const E8: u64 = 100_000_000;
    if v < E8 {
        let (w, n) = lead8(v as u32);
        return ([w, 0, 0], n);
    }
    let (high, low) = (v / E8, digits8((v % E8) as u32));
    if high < E8 {
        let (w, n) = lead8(high as u32);
        let b = 8 * n;
        return ([w | shl(low, b), low >> (64 - b), 0], n + 8);
    }
    let (top, mid) = ((high / E8) as u32, digits8((high % E8) as u32));
    // `top` is below 1845: four digits at most, so every shift is < 64.
    let (w, n) = lead8(top);
    let b = 8 * n;
    let words = [
        w | (mid << b),
        (mid >> (64 - b)) | (low << b),
        low >> (64 - b),
    ];
    (words, n + 16)
}

/// Appends the first `n` bytes of `words`: each word as one store of
/// fixed size (where one of the digits' length is a call to memcpy), the
/// bytes beyond `n` cut again.
fn push_digits(out: &mut Vec<u8>, words: &[u64; 3], n: usize) {
    let at = out.len();
    out.extend_from_slice(&words[0].to_le_bytes());
    if n > 8 {
        out.extend_from_slice(&words[1].to_le_bytes());
        if n > 16 {
            out.extend_from_slice(&words[2].to_le_bytes());
        }
    }
    out.truncate(at + n);
}

/// Appends `v` in decimal.
fn push_u64(out: &mut Vec<u8>, v: u64) {
    let (d, n) = decimal(v);
    push_digits(out, &d, n);
}

/// A number and its digits, as [`decimal`] makes them.
#[derive(Clone, Copy)]
struct Digits {
    v: u64,
    digits: [u64; 3],
    n: usize,
}

impl Digits {
    fn of(v: u64) -> Digits {
        let (digits, n) = decimal(v);
        Digits { v, digits, n }
    }

    /// Appends `v`, from these digits when they are `v`'s (and makes them
    /// so).
    fn push(&mut self, out: &mut Vec<u8>, v: u64) {
        if self.v != v {
            *self = Digits::of(v);
        }
        push_digits(out, &self.digits, self.n);
    }
}

impl Default for Digits {
    fn default() -> Digits {
        Digits::of(0)
    }
}

/// A thread id's digits, for the numbers that are most often the same.
struct TidDigits {
    v: i32,
    abs: Digits,
}

impl TidDigits {
    fn of(v: i32) -> TidDigits {
        TidDigits {
            v,
            abs: Digits::of(v.unsigned_abs().into()),
        }
    }

    fn push(&self, out: &mut Vec<u8>) {
        if self.v < 0 {
            out.push(b'-');
        }
        push_digits(out, &self.abs.digits, self.abs.n);
    }

    /// Appends `v`, copied when it is this id.
    fn push_other(&self, out: &mut Vec<u8>, v: i32) {
        if v == self.v {
            self.push(out);
        } else {
            push_i64(out, v.into());
        }
    }
}

/// Appends a copy of `out[r]`, of what was written before: as one move of
/// 32 bytes when it is no longer and as many bytes follow its start (the
/// registers' digits, most texts), else by memcpy.
fn copy_within(out: &mut Vec<u8>, r: Range<usize>) {
    const FEW: usize = 32;
    let n = r.end - r.start;
    if n <= FEW {
        if let Some(src) = out.get(r.start..r.start + FEW) {
            let mut w = [0u8; FEW];
            w.copy_from_slice(src);
            let at = out.len();
            out.extend_from_slice(&w);
            out.truncate(at + n);
            return;
        }
    }
    out.extend_from_within(r);
}

fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// The bytes [`items`] stops at: 1 a quote, 2 an opening bracket, 3 a
/// closing one, 4 a comma.
static ITEM: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = 1;
    t[b'{' as usize] = 2;
    t[b'[' as usize] = 2;
    t[b'(' as usize] = 2;
    t[b'}' as usize] = 3;
    t[b']' as usize] = 3;
    t[b')' as usize] = 3;
    t[b',' as usize] = 4;
    t
};

/// Calls `f` with each top-level item of `{a=1, b={c=2}, ...}` or `[x, y]`:
/// the text is split at the `, ` outside nested brackets and quoted strings.
fn items<'t>(text: &'t str, mut f: impl FnMut(&'t str)) {
    let inner = &text[1..text.len().saturating_sub(1).max(1)];
    let b = inner.as_bytes();
    let (mut depth, mut start, mut i) = (0i32, 0, 0);
    while i < b.len() {
        let c = ITEM[usize::from(b[i])];
        i += 1;
        match c {
            0 => {}
            1 => {
                // To the closing quote, over what a backslash escapes.
                while let Some(&q) = b.get(i) {
                    i += 1;
                    match q {
                        b'\\' => i += 1,
                        b'"' => break,
                        _ => {}
                    }
                }
            }
            2 => depth += 1,
            3 => depth -= 1,
            _ => {
                if depth == 0 && b.get(i) == Some(&b' ') {
                    f(&inner[start..i - 1]);
                    start = i + 1;
                }
            }
        }
    }
    if start < inner.len() {
        f(&inner[start..]);
    }
}

/// Appends the names of flags text `text` (`A|B|C`), which needs no
/// escaping, as JSON strings: the text eight bytes at a time, each `|`
/// written as `","`.
fn push_names(out: &mut Vec<u8>, text: &str) {
    const LO: u64 = u64::from_ne_bytes([1; 8]);
    const HI: u64 = LO << 7;
    let b = text.as_bytes();
    out.push(b'"');
    let mut i = 0;
    while i < b.len() {
        let (w, n) = word_at(b, i);
        let keep = if n == 8 { u64::MAX } else { (1 << (8 * n)) - 1 };
        // The has-zero-byte test of `w ^ "||||||||"`: its lowest bit set
        // is exact.
        let x = w ^ (LO * u64::from(b'|'));
        let m = x.wrapping_sub(LO) & !x & HI & keep;
        if m == 0 {
            push_word(out, w, n);
            i += n;
            continue;
        }
        let k = (m.trailing_zeros() / 8) as usize;
        push_word(out, w, k);
        out.extend_from_slice(b"\",\"");
        i += k + 1;
    }
    out.push(b'"');
}

/// Whether capture `m` is the string of an argument register.
fn is_string(m: &Mem<'_>) -> bool {
    m.flags & mem_flags::STRING != 0 && m.arg < 6
}

fn truncated(m: &Mem<'_>) -> bool {
    m.flags & (mem_flags::TRUNCATED | mem_flags::PARTIAL) != 0
}

/// Where an object's parts already lie in the output, so that what is
/// repeated (each raw register, each argument's text as in `decoded`,
/// each string's value) is copied rather than formatted and escaped again.
#[derive(Default)]
struct Written {
    /// Each register's digits (`args`).
    args: [Range<usize>; 6],
    /// Each argument's escaped text inside `decoded`; empty when it is not
    /// there as one piece.
    texts: [Range<usize>; 6],
    /// `,"value":...,"truncated":...` of each argument's first string in
    /// `strings`; empty when it has none.
    values: [Range<usize>; 6],
}

/// Appends `text`, which needs no escaping, as a JSON string.
fn push_plain(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// Appends the `arguments` array: each argument strace shows of `call`,
/// typed, with what its text holds (a path's string, flag names, a
/// struct's fields).
fn push_arguments(out: &mut Vec<u8>, types: [ArgType; 6], texts: &[&str; 6], written: &Written) {
    out.push(b'[');
    let mut first = true;
    for (i, text) in texts.iter().enumerate() {
        if text.is_empty() {
            continue;
        }
        let t = types[i];
        let lead = text.as_bytes()[0];
        let shape_ok = match t {
            ArgType::Path | ArgType::String | ArgType::Buffer => lead == b'"',
            ArgType::Struct => lead == b'{',
            ArgType::Array => lead == b'[',
            _ => true,
        };
        let t = if shape_ok { t } else { ArgType::Pointer };
        // Each key and type as one constant piece: a copy of known size.
        let typed: &[u8] = match t {
            ArgType::Int => b",\"type\":\"int\",\"text\":\"",
            ArgType::Fd => b",\"type\":\"fd\",\"text\":\"",
            ArgType::Path => b",\"type\":\"path\",\"text\":\"",
            ArgType::String => b",\"type\":\"string\",\"text\":\"",
            ArgType::Buffer => b",\"type\":\"buffer\",\"text\":\"",
            ArgType::Flags => b",\"type\":\"flags\",\"text\":\"",
            ArgType::Pointer => b",\"type\":\"pointer\",\"text\":\"",
            ArgType::Struct => b",\"type\":\"struct\",\"text\":\"",
            ArgType::Array => b",\"type\":\"array\",\"text\":\"",
            ArgType::Other => b",\"type\":\"other\",\"text\":\"",
        };
        if !first {
            out.push(b',');
        }
        first = false;
        // `i` is below 6: one digit.
        out.extend_from_slice(b"{\"index\":");
        out.push(b'0' + i as u8);
        out.extend_from_slice(b",\"raw\":");
        copy_within(out, written.args[i].clone());
        out.extend_from_slice(typed);
        let at = out.len();
        if written.texts[i].is_empty() {
            push_escaped(out, text);
        } else {
            copy_within(out, written.texts[i].clone());
        }
        // Escaping only lengthens: a text as long as it was has nothing
        // escaped, nor has any piece of it.
        let plain = out.len() - at == text.len();
        out.push(b'"');
        let push_piece = |out: &mut Vec<u8>, s: &str| {
            if plain {
                push_plain(out, s);
            } else {
                push_str(out, s);
            }
        };
        match t {
            ArgType::Path | ArgType::String => {
                copy_within(out, written.values[i].clone());
            }
            ArgType::Flags => {
                out.extend_from_slice(b",\"names\":[");
                if plain {
                    push_names(out, text);
                } else {
                    for (k, n) in text.split('|').enumerate() {
                        if k > 0 {
                            out.push(b',');
                        }
                        push_str(out, n);
                    }
                }
                out.push(b']');
            }
            ArgType::Struct => {
                out.extend_from_slice(b",\"fields\":{");
                let mut first = true;
                items(text, |f| {
                    // A field is short: a byte loop, not memchr's setup.
                    let eq = f.bytes().position(|c| c == b'=');
                    if let Some((k, v)) = eq.map(|at| (&f[..at], &f[at + 1..])) {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        push_piece(out, k);
                        out.push(b':');
                        push_piece(out, v);
                    }
                });
                out.push(b'}');
            }
            _ => {}
        }
        out.push(b'}');
    }
    out.push(b']');
}

/// How a call's arguments and its return value are shown (`-s`, `-y`:
/// the descriptors as they are before the call and the one it returns).
#[derive(Clone, Copy)]
pub(super) struct Styles<'r> {
    pub args: Style<'r>,
    pub ret: Style<'r>,
}

/// Appends one call as a line of NDJSON; `end` as the schema names it.
pub(super) fn call(
    out: &mut String,
    scratch: &mut Scratch,
    pid: i32,
    e: &Entry<'_>,
    x: Option<&Exit<'_>>,
    end: End,
    styles: Styles<'_>,
) {
    let end: &[u8] = match end {
        End::Returned => b",\"end\":\"returned\"",
        End::Death => b",\"end\":\"death\"",
        End::Lost => b",\"end\":\"lost\"",
    };
    write_call(out, scratch, pid, e, x, end, styles);
}

fn write_call(
    out: &mut String,
    scratch: &mut Scratch,
    pid: i32,
    e: &Entry<'_>,
    x: Option<&Exit<'_>>,
    end: &[u8],
    styles: Styles<'_>,
) {
    let enter = collect(&e.mem);
    let exit = x.map(|x| collect(&x.mem));
    let call = abi::Call {
        arch: e.arch,
        nr: e.nr,
        args: e.args,
        ret: x.map(|x| x.ret),
        enter: &enter,
        exit: exit.as_deref().unwrap_or(&[]),
    };
    let Styles {
        args: style,
        ret: ret_style,
    } = styles;
    let Scratch {
        decoded,
        parts,
        ret,
        kept: kept_nrs,
        odd,
        errnos,
        regs,
    } = scratch;
    let kept = kept(kept_nrs, odd, call.arch, call.nr);
    decoded.clear();
    let spans = abi::write_args_spans(decoded, &call, &style);
    // Each argument's text: its part of the whole line, or (for the calls
    // shown as one text) decoded alone.
    let texts: [&str; 6] = match &spans {
        Some(sp) => std::array::from_fn(|i| &decoded[sp[i].clone()]),
        None => {
            parts.clear();
            let mut at: [Range<usize>; 6] = Default::default();
            for (i, r) in at.iter_mut().enumerate() {
                let start = parts.len();
                abi::write_args(parts, &call, Part::Only(i), &style);
                *r = start.min(parts.len())..parts.len();
            }
            let parts = &*parts;
            std::array::from_fn(|i| &parts[at[i].clone()])
        }
    };

    // SAFETY: all that is appended below is whole UTF-8: ASCII, the runs
    // of `&str`s (or of ASCII-only bytes) that the escaping cuts only
    // before and after ASCII bytes, and copies of whole earlier appends;
    // so `out` is valid UTF-8 after each push, as a String must be.
    let out = unsafe { out.as_mut_vec() };
    out.extend_from_slice(b"{\"type\":\"call\",\"tid\":");
    // The pid and the exit's tid are the tid's but in a thread or after
    // a non-leader's execve.
    let tid = TidDigits::of(e.tid);
    tid.push(out);
    out.extend_from_slice(b",\"pid\":");
    tid.push_other(out, pid);
    kept.push_head(out);
    let mut written = Written::default();
    for ((i, a), d) in e.args.iter().enumerate().zip(regs.iter_mut()) {
        if i > 0 {
            out.push(b',');
        }
        let at = out.len();
        d.push(out, *a);
        written.args[i] = at..out.len();
    }
    out.extend_from_slice(b"],\"decoded\":\"");
    // Escaped in one go, noting where each argument's text goes: its
    // start and end among the offsets, in order. A span a decoder took
    // back into (it starts before the one before it ends) is escaped
    // again on its own.
    let mut marks = [0usize; 12];
    let mut shown = [None; 6];
    let mut n = 0;
    let mut done = 0;
    for (i, r) in spans.iter().flatten().enumerate() {
        if r.is_empty() || r.start < done {
            continue;
        }
        marks[n] = r.start;
        marks[n + 1] = r.end;
        shown[i] = Some(n);
        n += 2;
        done = r.end;
    }
    push_escaped_marked(out, decoded, &mut marks[..n]);
    for (text, k) in written.texts.iter_mut().zip(shown) {
        if let Some(k) = k {
            *text = marks[k]..marks[k + 1];
        }
    }
    out.push(b'"');
    out.extend_from_slice(b",\"strings\":[");
    let strings = call.enter.iter().chain(call.exit).filter(|m| is_string(m));
    for (k, m) in strings.enumerate() {
        if k > 0 {
            out.push(b',');
        }
        // `arg` is below 6 (is_string): one digit.
        out.extend_from_slice(b"{\"arg\":");
        out.push(b'0' + m.arg);
        let at = out.len();
        out.extend_from_slice(b",\"value\":");
        push_lossy(out, m.data);
        out.extend_from_slice(if truncated(m) {
            b",\"truncated\":true"
        } else {
            b",\"truncated\":false"
        });
        let value = &mut written.values[usize::from(m.arg)];
        if Range::is_empty(value) {
            *value = at..out.len();
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"arguments\":");
    push_arguments(out, kept.types, &texts, &written);
    out.extend_from_slice(b",\"enter_ns\":");
    push_u64(out, e.time);
    if let Some(ip) = e.ip {
        out.extend_from_slice(b",\"ip\":");
        regs[6].push(out, ip);
    }
    out.extend_from_slice(end);
    match x {
        Some(x) => {
            out.extend_from_slice(b",\"exit_tid\":");
            tid.push_other(out, x.tid);
            out.extend_from_slice(b",\"exit_ns\":");
            push_u64(out, x.time);
            out.extend_from_slice(b",\"duration_ns\":");
            push_u64(out, x.time.saturating_sub(e.time));
            out.extend_from_slice(b",\"ret\":");
            push_i64(out, x.ret);
            ret.clear();
            abi::write_return(ret, &call, &ret_style);
            out.extend_from_slice(b",\"ret_text\":");
            push_str(out, ret);
            if is_error(x.ret) {
                out.extend_from_slice(errno_key(errnos, -x.ret as i32));
            }
        }
        None => out.extend_from_slice(b",\"ret\":null"),
    }
    out.extend_from_slice(b"}\n");
}

/// A call whose end the trace does not hold (it ended first).
pub(super) fn unfinished(
    out: &mut String,
    scratch: &mut Scratch,
    pid: i32,
    e: &Entry<'_>,
    styles: Styles<'_>,
) {
    write_call(
        out,
        scratch,
        pid,
        e,
        None,
        b",\"end\":\"end_of_trace\"",
        styles,
    );
}

/// A signal, a group-stop or a process event; `None` for records that are
/// not shown.
pub(super) fn event(arch: ptrec_abi::Arch, pid: i32, r: &Record<'_>) -> Option<Value> {
    let (tid, time) = (r.tid(), r.time());
    let mut o = match *r {
        Record::SignalDelivery { signo, siginfo, .. } => json!({
            "type": "signal",
            "signo": signo,
            "signal": signal_name(signo),
            "siginfo": abi::siginfo_text(arch, signo, siginfo),
        }),
        Record::GroupStop { signo, .. } => json!({
            "type": "group_stop",
            "signo": signo,
            "signal": signal_name(signo),
        }),
        Record::NewChild {
            child, kind, flags, ..
        } => json!({
            "type": "new_child",
            "child": child,
            "kind": match kind {
                ChildKind::Fork => "fork",
                ChildKind::Vfork => "vfork",
                ChildKind::Clone => "clone",
            },
            "flags": flags,
        }),
        Record::Exec {
            former_tid,
            filename,
            ref argv,
            ..
        } => json!({
            "type": "exec",
            "former_tid": former_tid,
            "filename": String::from_utf8_lossy(filename),
            "argv": argv.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>(),
        }),
        Record::ExitEvent { status, .. } => json!({"type": "exit_event", "status": status}),
        Record::Death { how, .. } => match how {
            Termination::Exited(code) => json!({"type": "exited", "code": code}),
            Termination::Signaled { signo, core } => json!({
                "type": "killed",
                "signo": signo,
                "signal": signal_name(signo),
                "core_dumped": core,
            }),
        },
        Record::Attach { tgid, .. } => json!({"type": "attach", "tgid": tgid}),
        Record::Detach { signo, .. } => json!({"type": "detach", "signo": signo}),
        Record::Note {
            kind, value, text, ..
        } => json!({
            "type": "note",
            "kind": kind,
            "value": value,
            "text": String::from_utf8_lossy(text),
        }),
        Record::VforkDone { child, .. } => json!({"type": "vfork_done", "child": child}),
        Record::OpenFd {
            fd,
            flags,
            target,
            detail,
            ..
        } => {
            let mut o = json!({
                "type": "open_fd",
                "fd": fd,
                "flags": flags,
                "target": String::from_utf8_lossy(target),
            });
            if !detail.is_empty() {
                o["detail"] = String::from_utf8_lossy(detail).into();
            }
            o
        }
        Record::SyscallEnter { .. } | Record::SyscallExit { .. } => return None,
    };
    o["tid"] = tid.into();
    o["pid"] = pid.into();
    o["time_ns"] = time.into();
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        push_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    fn lossy(b: &[u8]) -> String {
        let mut out = Vec::new();
        push_lossy(&mut out, b);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_are_written_whole_at_every_length() {
        let mut vals = vec![0u64, 9, 10, 99, 100, 101, 999, u64::MAX, u64::MAX - 1];
        vals.extend((0..20).map(|k| 10u64.pow(k)));
        vals.extend((1..20).map(|k| 10u64.pow(k) - 1));
        for v in vals {
            let mut out = b"x".to_vec();
            push_u64(&mut out, v);
            assert_eq!(out, format!("x{v}").into_bytes());
        }
        // Each lane of the eight-digit split, over every group of digits
        // below 10^5 and a stride through the rest of 0..10^8.
        for v in (0..100_000u32).chain((100_000..100_000_000).step_by(9_973)) {
            let mut out = Vec::new();
            push_u64(&mut out, v.into());
            assert_eq!(out, v.to_string().into_bytes());
        }
        for v in [0i64, -1, -9, -10, -516, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            push_i64(&mut out, v);
            assert_eq!(out, v.to_string().into_bytes());
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        assert_eq!(escaped(r#"a"b\c/d"#), r#""a\"b\\c/d""#);
        // DEL is not a control character to JSON.
        assert_eq!(
            escaped("\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f} \u{7f}"),
            "\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \u{7f}\""
        );
        // JSON allows the line and paragraph separators raw; serde_json
        // leaves them so, and so must the output (it stays byte-identical).
        assert_eq!(escaped("x\u{2028}y\u{2029}"), "\"x\u{2028}y\u{2029}\"");
        let all: String = (0..=0x7fu8)
            .map(char::from)
            .chain("é€😀\u{2028}\u{fffd}".chars())
            .collect();
        for s in [all.as_str(), "", "plain", "\"\"", "\\", "end\\", "\u{1f}x"] {
            assert_eq!(escaped(s), serde_json::to_string(s).unwrap(), "{s:?}");
            let back: String = serde_json::from_str(&escaped(s)).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn an_escaped_byte_is_found_at_every_offset_of_a_long_text() {
        for c in [
            '"', '\\', '\n', '\u{0}', '\u{1f}', '\u{7f}', ' ', 'é', '\u{2028}',
        ] {
            for at in 0..24 {
                for len in [at + 1, at + 3, 24, 40] {
                    let mut t: String =
                        "abcdefghijklmnopqrstuvwxyz0123456789ABCD"[..len].to_string();
                    t.replace_range(at..at + 1, c.encode_utf8(&mut [0; 4]));
                    assert_eq!(escaped(&t), serde_json::to_string(&t).unwrap(), "{t:?}");
                }
            }
        }
        // Bytes just above what is escaped, and high bytes, alone and
        // next to one that is.
        for w in [
            "!#[]]^_`{|}~ !!!!!!!",
            "\u{ff}\u{ff}\u{ff}\u{ff}\"",
            "\u{20}\u{21}\u{1f}\u{23}\u{5b}\u{5d}\u{5c}xx",
        ] {
            assert_eq!(escaped(w), serde_json::to_string(w).unwrap(), "{w:?}");
        }
    }

    #[test]
    fn invalid_utf8_from_a_trace_reads_as_from_utf8_lossy_reads_it() {
        assert_eq!(lossy(b"a\xffb"), "\"a\u{fffd}b\"");
        // A cut sequence is one replacement, as from_utf8_lossy has it.
        assert_eq!(lossy(b"\xe2\x80"), "\"\u{fffd}\"");
        assert_eq!(lossy(b"\xe2\x80\n"), "\"\u{fffd}\\n\"");
        let cases: [&[u8]; 8] = [
            b"",
            b"/etc/passwd",
            b"\xc0\x80",
            b"\xed\xa0\x80 surrogate",
            b"\xf4\x90\x80\x80 beyond U+10FFFF",
            b"\"q\"\\\x00\x1f\xff\xfe",
            b"ok \xe2\x80\xa8 \xf0\x9f\x98",
            b"\xff",
        ];
        for b in cases {
            let want = serde_json::to_string(&String::from_utf8_lossy(b)).unwrap();
            assert_eq!(lossy(b), want, "{b:?}");
        }
    }

    #[test]
    fn a_call_with_quotes_newlines_and_invalid_utf8_in_its_path_is_one_valid_line() {
        let path: &[u8] = b"/tmp/a\"b\\c\nd\xff\xe2\x80\xa8";
        let mem = [Mem {
            arg: 1,
            flags: mem_flags::STRING,
            addr: 0x1000,
            data: path,
            redacted: None,
        }];
        let e = Entry {
            tid: 7,
            time: 100,
            stime_us: None,
            arch: ptrec_abi::Arch::X86_64,
            nr: 257,
            args: [(-100i64) as u64, 0x1000, 0, 0, 0, 0],
            ip: None,
            mem: ptrec_format::Captures::Slice(&mem),
        };
        let x = Exit {
            tid: 7,
            time: 150,
            stime_us: None,
            arch: ptrec_abi::Arch::X86_64,
            nr: 257,
            ret: -2,
            mem: ptrec_format::Captures::Slice(&[]),
        };
        let mut out = String::new();
        call(
            &mut out,
            &mut Scratch::default(),
            7,
            &e,
            Some(&x),
            End::Returned,
            Styles {
                args: Style::default(),
                ret: Style::default(),
            },
        );
        assert_eq!(out.matches('\n').count(), 1);
        assert!(out.ends_with("}\n"));
        let v: Value = serde_json::from_str(&out).unwrap();
        let want = String::from_utf8_lossy(path);
        assert_eq!(v["strings"][0]["value"], *want);
        assert_eq!(v["strings"][0]["truncated"], false);
        let a = &v["arguments"][1];
        assert_eq!((&a["type"], &a["value"]), (&json!("path"), &json!(want)));
        assert_eq!(v["arguments"][2]["names"], json!(["O_RDONLY"]));
        assert_eq!(v["args"][0], (-100i64) as u64);
        assert_eq!((&v["ret"], &v["errno"]), (&json!(-2), &json!("ENOENT")));
        assert_eq!(v["ret_text"], "-1 ENOENT (No such file or directory)");
        assert_eq!(v["duration_ns"], 50);
        assert!(v.get("ip").is_none());
    }

    #[test]
    fn marks_in_a_text_escaped_in_one_go_are_where_its_pieces_went() {
        let texts = [
            "3, \"a\\\"b\", O_RDONLY",
            "\"\"",
            "plain text without escapes, long enough",
            "\n\u{1}\"x\" \u{e9}\u{2028}, 12345678\"",
            "",
        ];
        for t in texts {
            // Every pair of offsets at character boundaries, as pieces.
            let cuts: Vec<usize> = (0..=t.len()).filter(|&i| t.is_char_boundary(i)).collect();
            for (k, &a) in cuts.iter().enumerate() {
                for &b in &cuts[k..] {
                    let mut out = b"x".to_vec();
                    let mut marks = [a, b];
                    push_escaped_marked(&mut out, t, &mut marks);
                    let mut whole = b"x".to_vec();
                    push_escaped(&mut whole, t);
                    assert_eq!(out, whole);
                    let mut piece = Vec::new();
                    push_escaped(&mut piece, &t[a..b]);
                    assert_eq!(&out[marks[0]..marks[1]], &piece[..], "{t:?} {a} {b}");
                }
            }
        }
    }

    #[test]
    fn flag_names_split_at_every_bar_as_split_splits_them() {
        for t in [
            "O_RDONLY",
            "A|B",
            "O_RDONLY|O_NOCTTY|O_NONBLOCK|O_CLOEXEC",
            "A||B|",
            "|",
            "0x8000|ABCDEFGH|I",
        ] {
            let mut out = Vec::new();
            push_names(&mut out, t);
            let want: Vec<String> = t
                .split('|')
                .map(|n| serde_json::to_string(n).unwrap())
                .collect();
            assert_eq!(String::from_utf8(out).unwrap(), want.join(","), "{t:?}");
        }
    }

    fn split(text: &str) -> Vec<&str> {
        let mut v = Vec::new();
        items(text, |i| v.push(i));
        v
    }

    #[test]
    fn a_struct_splits_at_its_top_level_commas_only() {
        assert_eq!(
            split(
                r#"{sa_handler=0x1, sa_mask=[INT TERM], sa_flags=SA_RESTART|SA_RESTORER, x={a=1, b="c, d\""}}"#
            ),
            vec![
                "sa_handler=0x1",
                "sa_mask=[INT TERM]",
                "sa_flags=SA_RESTART|SA_RESTORER",
                r#"x={a=1, b="c, d\""}"#,
            ]
        );
        assert_eq!(split("[3, 4]"), vec!["3", "4"]);
        assert!(split("{}").is_empty());
    }
}
