//! strace's string literals: every byte from a trace that is shown goes
//! through [`escape_into`], so a recorded name never reaches a terminal raw.

/// Appends `b` as a strace string literal body (without quotes): printable
/// ASCII as is, `\t\n\v\f\r`, `\"` and `\\`, everything else in octal
/// (three digits when an octal digit follows, so it reads back unambiguously).
pub fn escape_into(out: &mut String, b: &[u8]) {
    escape::<false, false>(out, b)
}

/// [`escape_into`] for text shown line by line, outside any quotes
/// (`analyze output`, the stderr lines of `analyze failures`): each
/// newline and each `"` kept as it is, so a compiler's `#include "x.h"`
/// reads as it printed it; `\\` stays escaped, so an escape in the text
/// still reads back unambiguously. One pass instead of a split and a pass
/// per line: the same as escaping each line alone, as no escape looks past
/// a newline.
pub fn escape_lines_into(out: &mut String, b: &[u8]) {
    escape::<true, false>(out, b)
}

/// The escaping of the views: `LINES`, newlines and `"` kept as they are
/// ([`escape_lines_into`]); `ANGLES`, `<` and `>` in octal too
/// ([`escape_fd_path`]).
fn escape<const LINES: bool, const ANGLES: bool>(out: &mut String, b: &[u8]) {
    let mut i = 0;
    while i < b.len() {
        // A run of bytes shown as they are goes in at once.
        let run = plain_run::<ANGLES>(&b[i..]);
        if run > 0 {
            let plain = &b[i..i + run];
            // SAFETY: `plain_run` counts only bytes in 0x20..=0x7e, which
            // are ASCII and so valid UTF-8 (validating again cost a
            // quarter of the escaping of a write's text).
            out.push_str(unsafe { std::str::from_utf8_unchecked(plain) });
            i += run;
            continue;
        }
        let c = b[i];
        match c {
            b'"' if LINES => out.push('"'),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' if LINES => out.push('\n'),
            b'\n' => out.push_str("\\n"),
            0x0b => out.push_str("\\v"),
            0x0c => out.push_str("\\f"),
            b'\r' => out.push_str("\\r"),
            _ => {
                let next_is_digit = b.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                push_octal(out, c, next_is_digit);
            }
        }
        i += 1;
    }
}

/// Whether [`escape_into`] (`ANGLES`: [`escape_fd_path`]) shows `c` as it is.
fn plain<const ANGLES: bool>(c: u8) -> bool {
    (0x20..=0x7e).contains(&c) && c != b'"' && c != b'\\' && !(ANGLES && (c == b'<' || c == b'>'))
}

/// How many bytes at the start of `b` [`escape_into`] shows as they are,
/// eight at a time while a word holds none to escape: a write's text is
/// mostly such runs, and a byte at a time cost most of its escaping.
fn plain_run<const ANGLES: bool>(b: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    // A high bit per byte of `v` that is zero (exact for "any byte").
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut i = 0;
    while let Some(w) = b.get(i..i + 8) {
        let x = u64::from_ne_bytes(w.try_into().unwrap_or_default());
        // Bytes below 0x20; bytes above 0x7e (0x7f carries into the high
        // bit, 0x80 and up have it); '"' and '\\'.
        let below = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let above = (x.wrapping_add(ONES) | x) & HIGH;
        let quote = zero(x ^ (ONES * u64::from(b'"')));
        let backslash = zero(x ^ (ONES * u64::from(b'\\')));
        let angles = if ANGLES {
            zero(x ^ (ONES * u64::from(b'<'))) | zero(x ^ (ONES * u64::from(b'>')))
        } else {
            0
        };
        if below | above | quote | backslash | angles != 0 {
            break;
        }
        i += 8;
    }
    i + b[i..]
        .iter()
        .position(|&c| !plain::<ANGLES>(c))
        .unwrap_or(b.len() - i)
}

/// Appends `\` and `c` in octal: three digits when `pad` (an octal digit
/// follows), else as few as it takes (no `fmt` machinery).
fn push_octal(out: &mut String, c: u8, pad: bool) {
    out.push('\\');
    let digits = [c >> 6, (c >> 3) & 7, c & 7];
    let first = if pad {
        0
    } else {
        digits.iter().position(|&d| d != 0).unwrap_or(2)
    };
    for d in &digits[first..] {
        out.push(char::from(b'0' + d));
    }
}

/// Appends `v` in decimal (no `fmt` machinery: a replay writes several
/// numbers per line).
pub fn push_u64(s: &mut String, v: u64) {
    s.push_str(itoa::Buffer::new().format(v));
}

/// Appends `v` in signed decimal.
pub fn push_i64(s: &mut String, v: i64) {
    s.push_str(itoa::Buffer::new().format(v));
}

/// Appends `v` in decimal right-aligned in `width` columns (as
/// `{v:>width$}`, `width` at most 16), without fmt's padding machinery: a
/// table's numbers, replay's `[pid N]`.
#[inline]
pub fn push_right<I: itoa::Integer>(s: &mut String, v: I, width: usize) {
    const SPACES: &str = "                ";
    let mut b = itoa::Buffer::new();
    let n = b.format(v);
    s.push_str(&SPACES[..width.min(SPACES.len()).saturating_sub(n.len())]);
    s.push_str(n);
}

/// Appends `v` as `0x` and lowercase hex digits (as `{v:#x}`).
pub fn push_hex(s: &mut String, v: u64) {
    let mut buf = [0u8; 18];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b"0123456789abcdef"[(v & 15) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    i -= 2;
    buf[i] = b'0';
    buf[i + 1] = b'x';
    // Only ASCII digits were written.
    s.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

/// How every view shows a value a redaction policy dropped: its length
/// stays, its bytes are gone.
pub fn redacted_text(len: u64) -> String {
    format!("<redacted {len} bytes>")
}

/// `"escaped"` plus `...` when the capture was cut.
pub fn quoted(b: &[u8], cut: bool) -> String {
    let mut s = String::with_capacity(b.len() + 5);
    push_quoted(&mut s, b, cut);
    s
}

/// Appends `"escaped"` plus `...` when the capture was cut.
pub fn push_quoted(s: &mut String, b: &[u8], cut: bool) {
    s.push('"');
    escape_into(s, b);
    s.push('"');
    if cut {
        s.push_str("...");
    }
}

/// Appends what `-y` shows of a descriptor inside `<...>`: as strace, the
/// bytes escaped like a string body, and `<` and `>` (which would confuse
/// the annotation) in octal too.
pub fn escape_fd_path(out: &mut String, b: &[u8]) {
    escape::<false, true>(out, b)
}

/// Whether a descriptor's name is a socket's as `-yy` shows it: an upper
/// case protocol, then `:[` (`TCP:[1.2.3.4:5->6.7.8.9:10]`,
/// `UNIX-STREAM:[7940->7941,"/tmp/s"]`), which strace prints as it is, its
/// `->` unescaped. Other names are absolute paths or lower case
/// (`pipe:[N]`, `socket:[N]`, `anon_inode:[eventfd]`).
pub fn is_socket_name(b: &[u8]) -> bool {
    let Some(k) = b.windows(2).position(|w| w == b":[") else {
        return false;
    };
    k > 0
        && b[0].is_ascii_uppercase()
        && b[..k]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, b'-' | b'v'))
}

/// A socket's name ([`is_socket_name`]) as strace's `-yy` prints it: as it
/// is but escaped, a UNIX socket's path quoted (`,"/tmp/s"]`).
pub fn escape_socket_name(out: &mut String, b: &[u8]) {
    match b.windows(2).position(|w| w == b",\"") {
        Some(k) if b.ends_with(b"\"]") && k + 2 <= b.len() - 2 => {
            escape_into(out, &b[..k]);
            out.push(',');
            push_quoted(out, &b[k + 2..b.len() - 2], false);
            out.push(']');
        }
        _ => escape_into(out, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_names_are_shown_as_strace_shows_them() {
        let shown = |b: &[u8]| {
            let mut s = String::new();
            if is_socket_name(b) {
                escape_socket_name(&mut s, b);
            } else {
                escape_fd_path(&mut s, b);
            }
            s
        };
        assert_eq!(shown(b"UNIX-STREAM:[1->2]"), "UNIX-STREAM:[1->2]");
        assert_eq!(
            shown(b"TCPv6:[[::1]:5->[::1]:6]"),
            "TCPv6:[[::1]:5->[::1]:6]"
        );
        assert_eq!(shown(b"UNIX:[3,\"/a\"b\n\"]"), r#"UNIX:[3,"/a\"b\n"]"#);
        // A name from a trace never reaches the terminal raw.
        assert_eq!(shown(b"TCP:[\x1b[2J]"), r"TCP:[\33[2J]");
        // Not sockets: a path, a pipe, a name without a protocol.
        assert_eq!(shown(b"/tmp/a->b"), r"/tmp/a-\76b");
        assert_eq!(shown(b"pipe:[12]"), "pipe:[12]");
        assert!(!is_socket_name(b":[1]"));
        assert!(!is_socket_name(b"socket:[1]"));
    }

    #[test]
    fn numbers_are_right_aligned_as_fmt_aligns_them() {
        for (v, w) in [
            (0i64, 5),
            (42, 5),
            (-7, 3),
            (123456, 5),
            (99, 0),
            (1, 16),
            (1, 20),
        ] {
            let mut s = String::from("x");
            push_right(&mut s, v, w);
            // fmt pads to any width; the spaces here stop at 16.
            assert_eq!(s, format!("x{v:>w$}", w = w.min(16)), "{v} {w}");
        }
        let mut s = String::new();
        push_right(&mut s, u64::MAX, 10);
        assert_eq!(s, u64::MAX.to_string());
    }

    #[test]
    fn strings_are_escaped_like_strace() {
        assert_eq!(quoted(b"a\"b\\\n\t", false), r#""a\"b\\\n\t""#);
        assert_eq!(quoted(b"\x00x", false), r#""\0x""#);
        assert_eq!(quoted(b"\x001", false), r#""\0001""#);
        assert_eq!(quoted(b"\xff", true), r#""\377"..."#);
        // A terminal escape sequence is shown, never sent.
        assert_eq!(quoted(b"\x1b[2J", false), r#""\33[2J""#);
        assert_eq!(quoted(b"ab\"cd\x01", true), r#""ab\"cd\1"..."#);
    }

    #[test]
    fn every_byte_at_every_place_of_a_word_is_escaped_as_alone() {
        // The word-at-a-time scan against the byte-at-a-time rule: each
        // byte value, at each position of a 24-byte run of plain text.
        for c in 0..=255u8 {
            let mut alone = String::new();
            escape_into(&mut alone, &[c]);
            for at in 0..24 {
                let mut b = vec![b'a'; 24];
                b[at] = c;
                let mut s = String::new();
                escape_into(&mut s, &b);
                let want = format!("{}{alone}{}", "a".repeat(at), "a".repeat(23 - at));
                assert_eq!(s, want, "byte {c:#x} at {at}");
            }
        }
    }

    #[test]
    fn lines_keep_quotes_as_printed_and_escape_backslashes() {
        let mut s = String::new();
        escape_lines_into(&mut s, b"    1 | #include \"missing.h\"\n\\\"\x1b[2J\n");
        assert_eq!(s, "    1 | #include \"missing.h\"\n\\\\\"\\33[2J\n");
    }

    /// As each line escaped alone, outside quotes: `\"` of a literal
    /// becomes `"` (a backslash of the text is always `\\`, so the last
    /// backslash of `\\\"` is the quote's).
    #[test]
    fn lines_escape_as_each_line_alone() {
        for b in [
            &b"a\\\nb"[..],
            b"\x01\n7",
            b"\x017\n",
            b"\n\n",
            b"plain text of a line\n\"quoted\" \x7f\xff\n",
            b"\\\"\\\\\"\n\"",
            b"",
        ] {
            let mut each = String::new();
            for (i, line) in b.split(|&c| c == b'\n').enumerate() {
                if i > 0 {
                    each.push('\n');
                }
                let mut l = String::new();
                escape_into(&mut l, line);
                each.push_str(&l.replace("\\\"", "\""));
            }
            let mut s = String::new();
            escape_lines_into(&mut s, b);
            assert_eq!(s, each, "{b:?}");
        }
    }

    #[test]
    fn numbers_are_written_as_fmt_writes_them() {
        for v in [0u64, 1, 9, 10, 0xdead_beef, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, v);
            push_hex(&mut s, v);
            assert_eq!(s, format!("{v}{v:#x}"));
        }
        let mut s = String::new();
        push_i64(&mut s, i64::MIN);
        assert_eq!(s, i64::MIN.to_string());
    }

    #[test]
    fn fd_paths_escape_the_closing_bracket() {
        let mut s = String::new();
        escape_fd_path(&mut s, b"/tmp/a>b<1\n");
        assert_eq!(s, r"/tmp/a\76b\0741\n");
    }

    /// The escaping a byte at a time, as strace describes it: what the
    /// word-at-a-time runs must equal.
    fn reference(b: &[u8], angles: bool) -> String {
        let mut s = String::new();
        for (i, &c) in b.iter().enumerate() {
            match c {
                b'"' => s.push_str("\\\""),
                b'\\' => s.push_str("\\\\"),
                b'\t' => s.push_str("\\t"),
                b'\n' => s.push_str("\\n"),
                0x0b => s.push_str("\\v"),
                0x0c => s.push_str("\\f"),
                b'\r' => s.push_str("\\r"),
                b'<' | b'>' if angles => push_octal(
                    &mut s,
                    c,
                    b.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n)),
                ),
                0x20..=0x7e => s.push(char::from(c)),
                _ => push_octal(
                    &mut s,
                    c,
                    b.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n)),
                ),
            }
        }
        s
    }

    #[test]
    fn descriptor_names_escape_angles_in_octal_anywhere_in_a_word() {
        let mut s = String::new();
        escape_fd_path(&mut s, b"a<b>7");
        assert_eq!(s, "a\\74b\\0767");
        let cases: [&[u8]; 7] = [
            b"/tmp/abcdefgh<ij>kl/mnopqrstuvw",
            b"<<<<<<<<<<<<<<<<>",
            b"/home/user/some/long/plain/path/file.txt",
            b"/a\"b\\c\nd\x7fe\xffg<0>1",
            b"",
            b"12345678>",
            b"pipe:[12345]",
        ];
        for c in cases {
            let mut fd = String::new();
            escape_fd_path(&mut fd, c);
            assert_eq!(fd, reference(c, true), "{c:?}");
            let mut plain = String::new();
            escape_into(&mut plain, c);
            assert_eq!(plain, reference(c, false), "{c:?}");
        }
    }
}
