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
/// allocates only while they grow.
#[derive(Default)]
pub(super) struct Scratch {
    /// The decoded arguments (`decoded`).
    decoded: String,
    /// The arguments decoded one by one, for the calls shown as one text.
    parts: String,
    /// The return value's text, then the errno's.
    ret: String,
    /// [`abi::arg_types`] by syscall number, as they are asked for (it
    /// looks the call's decoder up each time), of the architecture `.0`.
    types: Option<(ptrec_abi::Arch, Vec<Option<[ArgType; 6]>>)>,
}

impl Scratch {
    fn arg_types(&mut self, arch: ptrec_abi::Arch, nr: u32) -> [ArgType; 6] {
        // Beyond the tables' numbers (a bad register) nothing is kept.
        const KEPT: usize = 1024;
        let (a, kept) = self.types.get_or_insert_with(|| (arch, Vec::new()));
        if *a != arch {
            *a = arch;
            kept.clear();
        }
        let slot = nr as usize;
        if slot >= KEPT {
            return abi::arg_types(arch, nr);
        }
        if kept.len() <= slot {
            kept.resize(slot + 1, None);
        }
        *kept[slot].get_or_insert_with(|| abi::arg_types(arch, nr))
    }
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

/// Whether any of the 8 bytes of `w` is one [`ESCAPE`] escapes: a control
/// character, `"` or `\` (the usual has-zero-byte and has-less-than tests:
/// none of them misses such a byte).
fn any_escaped(w: u64) -> bool {
    const LO: u64 = u64::from_ne_bytes([1; 8]);
    const HI: u64 = LO << 7;
    let quote = w ^ (LO * u64::from(b'"'));
    let backslash = w ^ (LO * u64::from(b'\\'));
    let control = w.wrapping_sub(LO * 0x20) & !w;
    let quote = quote.wrapping_sub(LO) & !quote;
    let backslash = backslash.wrapping_sub(LO) & !backslash;
    (control | quote | backslash) & HI != 0
}

fn push_escaped(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        // Eight bytes at a time while none needs escaping (most texts
        // have nothing to escape but the quotes around their strings).
        if let Some(w) = b.get(i..i + 8) {
            let w: [u8; 8] = w.try_into().unwrap_or_default();
            if !any_escaped(u64::from_ne_bytes(w)) {
                i += 8;
                continue;
            }
        }
        let c = b[i];
        let e = ESCAPE[usize::from(c)];
        i += 1;
        if e == 0 {
            continue;
        }
        // Only ASCII bytes are escaped, so each run is whole characters.
        out.extend_from_slice(&b[start..i - 1]);
        start = i;
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
    }
    out.extend_from_slice(&b[start..]);
}

/// Appends bytes from the trace as a JSON string: as
/// `String::from_utf8_lossy` reads them (each invalid sequence one
/// U+FFFD), then escaped.
fn push_lossy(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'"');
    for chunk in b.utf8_chunks() {
        push_escaped(out, chunk.valid());
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
    out.push(b'"');
}

/// Two decimal digits of each of 0..100.
const DIGITS2: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends `v` in decimal. An object holds some twenty numbers, most of
/// them long (addresses, times): room for the longest is appended (a
/// copy of fixed size is a few moves, where one of the digits' length is
/// a call to memcpy), and the digits are written into it in place, in
/// groups that do not wait on each other (dividing by 100 pair after pair
/// is one long chain of multiplications).
fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let len = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    let at = out.len();
    out.extend_from_slice(&[b'0'; 20]);
    let buf = &mut out[at..at + len];
    let mut end = len;
    while v >= 100_000_000 {
        put_digits(&mut buf[end - 8..end], (v % 100_000_000) as u32);
        v /= 100_000_000;
        end -= 8;
    }
    put_digits(&mut buf[..end], v as u32);
    out.truncate(at + len);
}

/// Writes `v` into `b` as `b.len()` decimal digits (at most 8), zero-padded.
fn put_digits(b: &mut [u8], v: u32) {
    if b.len() > 4 {
        let (high, low) = b.split_at_mut(b.len() - 4);
        put_few(low, v % 10_000);
        put_few(high, v / 10_000);
    } else {
        put_few(b, v);
    }
}

/// [`put_digits`] of at most 4 digits.
fn put_few(b: &mut [u8], mut v: u32) {
    let mut i = b.len();
    while i >= 2 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        b[i - 2] = DIGITS2[d];
        b[i - 1] = DIGITS2[d + 1];
        i -= 2;
    }
    if i == 1 {
        b[0] = b'0' + v as u8;
    }
}

fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

fn push_bool(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

/// Calls `f` with each top-level item of `{a=1, b={c=2}, ...}` or `[x, y]`:
/// the text is split at the `, ` outside nested brackets and quoted strings.
fn items<'t>(text: &'t str, mut f: impl FnMut(&'t str)) {
    let inner = &text[1..text.len().saturating_sub(1).max(1)];
    let b = inner.as_bytes();
    let (mut depth, mut quoted, mut esc, mut start) = (0i32, false, false, 0);
    for (i, &c) in b.iter().enumerate() {
        if quoted {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => quoted = true,
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => depth -= 1,
            b',' if depth == 0 && b.get(i + 1) == Some(&b' ') => {
                f(&inner[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    if start < inner.len() {
        f(&inner[start..]);
    }
}

/// Whether capture `m` is the string of an argument register.
fn is_string(m: &Mem<'_>) -> bool {
    m.flags & mem_flags::STRING != 0 && m.arg < 6
}

fn truncated(m: &Mem<'_>) -> bool {
    m.flags & (mem_flags::TRUNCATED | mem_flags::PARTIAL) != 0
}

/// Where an object's parts already lie in the output, so that what is
/// repeated (each raw register, each argument's text as in `decoded`) is
/// copied rather than formatted and escaped again.
#[derive(Default)]
struct Written {
    /// Each register's digits (`args`).
    args: [Range<usize>; 6],
    /// Each argument's escaped text inside `decoded`; empty when it is not
    /// there as one piece.
    texts: [Range<usize>; 6],
}

/// Appends the `arguments` array: each argument strace shows of `call`,
/// typed, with what its text holds (a path's string, flag names, a
/// struct's fields).
fn push_arguments(
    out: &mut Vec<u8>,
    call: &abi::Call<'_, '_>,
    types: [ArgType; 6],
    texts: &[&str; 6],
    written: &Written,
) {
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
            ArgType::Int => b",\"type\":\"int\",\"text\":",
            ArgType::Fd => b",\"type\":\"fd\",\"text\":",
            ArgType::Path => b",\"type\":\"path\",\"text\":",
            ArgType::String => b",\"type\":\"string\",\"text\":",
            ArgType::Buffer => b",\"type\":\"buffer\",\"text\":",
            ArgType::Flags => b",\"type\":\"flags\",\"text\":",
            ArgType::Pointer => b",\"type\":\"pointer\",\"text\":",
            ArgType::Struct => b",\"type\":\"struct\",\"text\":",
            ArgType::Array => b",\"type\":\"array\",\"text\":",
            ArgType::Other => b",\"type\":\"other\",\"text\":",
        };
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"index\":");
        push_u64(out, i as u64);
        out.extend_from_slice(b",\"raw\":");
        out.extend_from_within(written.args[i].clone());
        out.extend_from_slice(typed);
        if written.texts[i].is_empty() {
            push_str(out, text);
        } else {
            out.push(b'"');
            out.extend_from_within(written.texts[i].clone());
            out.push(b'"');
        }
        match t {
            ArgType::Path | ArgType::String => {
                let found = call
                    .enter
                    .iter()
                    .chain(call.exit)
                    .find(|m| is_string(m) && usize::from(m.arg) == i);
                if let Some(m) = found {
                    out.extend_from_slice(b",\"value\":");
                    push_lossy(out, m.data);
                    out.extend_from_slice(b",\"truncated\":");
                    push_bool(out, truncated(m));
                }
            }
            ArgType::Flags => {
                out.extend_from_slice(b",\"names\":[");
                for (k, n) in text.split('|').enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    push_str(out, n);
                }
                out.push(b']');
            }
            ArgType::Struct => {
                out.extend_from_slice(b",\"fields\":{");
                let mut first = true;
                items(text, |f| {
                    if let Some((k, v)) = f.split_once('=') {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        push_str(out, k);
                        out.push(b':');
                        push_str(out, v);
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

/// Appends one call as a line of NDJSON; `end` as the schema names it.
pub(super) fn call(
    out: &mut String,
    scratch: &mut Scratch,
    pid: i32,
    e: &Entry<'_>,
    x: Option<&Exit<'_>>,
    end: End,
    limit: usize,
) {
    let end: &[u8] = match end {
        End::Returned => b",\"end\":\"returned\"",
        End::Death => b",\"end\":\"death\"",
        End::Lost => b",\"end\":\"lost\"",
    };
    write_call(out, scratch, pid, e, x, end, limit);
}

fn write_call(
    out: &mut String,
    scratch: &mut Scratch,
    pid: i32,
    e: &Entry<'_>,
    x: Option<&Exit<'_>>,
    end: &[u8],
    limit: usize,
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
    let style = Style {
        string_limit: limit,
        ..Style::default()
    };
    let types = scratch.arg_types(call.arch, call.nr);
    let Scratch {
        decoded,
        parts,
        ret,
        ..
    } = scratch;
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
    // of `&str`s that push_escaped cuts only before and after ASCII bytes,
    // and copies of whole earlier appends; so `out` is valid UTF-8 after
    // each push, as a String must be.
    let out = unsafe { out.as_mut_vec() };
    out.extend_from_slice(b"{\"type\":\"call\",\"tid\":");
    push_i64(out, e.tid.into());
    out.extend_from_slice(b",\"pid\":");
    push_i64(out, pid.into());
    out.extend_from_slice(b",\"name\":");
    push_str(out, &e.name());
    out.extend_from_slice(b",\"nr\":");
    push_u64(out, e.nr.into());
    out.extend_from_slice(b",\"args\":[");
    let mut written = Written::default();
    for (i, a) in e.args.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let at = out.len();
        push_u64(out, *a);
        written.args[i] = at..out.len();
    }
    out.extend_from_slice(b"],\"decoded\":\"");
    // Escaped piece by piece (escaping cuts nothing across pieces), noting
    // where each argument's text goes.
    let mut done = 0;
    for (i, r) in spans.iter().flatten().enumerate() {
        // Spans come in order; one a decoder took back into is escaped
        // again on its own.
        if r.is_empty() || r.start < done {
            continue;
        }
        push_escaped(out, &decoded[done..r.start]);
        let at = out.len();
        push_escaped(out, &decoded[r.clone()]);
        written.texts[i] = at..out.len();
        done = r.end;
    }
    push_escaped(out, &decoded[done..]);
    out.push(b'"');
    out.extend_from_slice(b",\"strings\":[");
    let strings = call.enter.iter().chain(call.exit).filter(|m| is_string(m));
    for (k, m) in strings.enumerate() {
        if k > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"arg\":");
        push_u64(out, m.arg.into());
        out.extend_from_slice(b",\"value\":");
        push_lossy(out, m.data);
        out.extend_from_slice(b",\"truncated\":");
        push_bool(out, truncated(m));
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"arguments\":");
    push_arguments(out, &call, types, &texts, &written);
    out.extend_from_slice(b",\"enter_ns\":");
    push_u64(out, e.time);
    if let Some(ip) = e.ip {
        out.extend_from_slice(b",\"ip\":");
        push_u64(out, ip);
    }
    out.extend_from_slice(end);
    match x {
        Some(x) => {
            out.extend_from_slice(b",\"exit_tid\":");
            push_i64(out, x.tid.into());
            out.extend_from_slice(b",\"exit_ns\":");
            push_u64(out, x.time);
            out.extend_from_slice(b",\"duration_ns\":");
            push_u64(out, x.time.saturating_sub(e.time));
            out.extend_from_slice(b",\"ret\":");
            push_i64(out, x.ret);
            ret.clear();
            abi::write_return(ret, &call, &style);
            out.extend_from_slice(b",\"ret_text\":");
            push_str(out, ret);
            if is_error(x.ret) {
                ret.clear();
                push_errno_text(ret, -x.ret as i32);
                out.extend_from_slice(b",\"errno\":");
                push_str(out, ret.split(' ').next().unwrap_or(""));
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
    limit: usize,
) {
    write_call(
        out,
        scratch,
        pid,
        e,
        None,
        b",\"end\":\"end_of_trace\"",
        limit,
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
            32,
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
