//! Secret-looking parts of strings: what the `secrets` rule drops.
//!
//! - `NAME=value` where NAME holds a secret word (TOKEN, SECRET, PASS, KEY,
//!   AUTH, CREDENTIAL, COOKIE; any case): `MY_TOKEN=x`, `--password=x`;
//! - header-like `Name: value` with such a name: `Authorization: Basic x`,
//!   `Cookie: a=b`, `X-Api-Key: x`;
//! - `Bearer TOKEN` anywhere;
//! - the password of `scheme://user:password@host`;
//! - in an argument list, the argument after an option named like a secret
//!   without `=`: `--token x`, `-password x`;
//! - in an argument list, the password options of commands that take one
//!   without a secret-looking name: curl's `-u user:pass` (`--user`,
//!   `-U`/`--proxy-user`, attached `-uuser:pass`), the MySQL/MariaDB
//!   clients' attached `-pPASS`, sshpass's `-p PASS`, and smbclient's
//!   `-U user%pass`.
//!
//! A string keeps what comes before its first secret; everything from there
//! on is dropped (its length is kept by the caller's marker). Dropping the
//! rest rather than splicing keeps the format's one marker per string and
//! loses nothing that was safe to keep before the secret.

use std::sync::OnceLock;

use regex::bytes::Regex;

/// Group 1 of each pattern is where a secret starts.
fn patterns() -> &'static [Regex] {
    static P: OnceLock<Vec<Regex>> = OnceLock::new();
    P.get_or_init(|| {
        const WORDS: &str = "(?:token|secret|pass|key|auth|credential|cookie)";
        [
            format!(r"(?i)[A-Za-z0-9_.-]*{WORDS}[A-Za-z0-9_.-]*=([^\s&;]+)"),
            format!(r"(?i)[A-Za-z0-9_-]*{WORDS}[A-Za-z0-9_-]*:[ \t]*([^\r\n]+)"),
            r"(?i)\bbearer[ \t]+([A-Za-z0-9._~+/=-]+)".to_string(),
            r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@".to_string(),
        ]
        .iter()
        .filter_map(|p| Regex::new(p).ok())
        .collect()
    })
}

fn secret_option() -> Option<&'static Regex> {
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(?i)^--?[A-Za-z0-9_-]*(?:token|secret|pass|key|auth|credential|cookie)[A-Za-z0-9_-]*$")
            .ok()
    })
    .as_ref()
}

/// Every pattern needs one of these words: a literal search (SIMD, no
/// backtracking over name characters) rules most strings out at once.
fn prefilter() -> Option<&'static Regex> {
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(?i)token|secret|pass|key|auth|credential|cookie|bearer|://").ok()
    })
    .as_ref()
}

/// Where the first secret-looking part of `s` starts, if it has one.
pub fn first_secret(s: &[u8]) -> Option<usize> {
    if prefilter().is_some_and(|p| !p.is_match(s)) {
        return None;
    }
    patterns()
        .iter()
        .filter_map(|re| re.captures(s).and_then(|c| c.get(1)).map(|m| m.start()))
        .min()
}

/// For each argument of an argument list: where its secret starts (0 for
/// the whole argument, as after `--token`).
pub fn argv_secrets(argv: &[&[u8]]) -> Vec<Option<usize>> {
    let mut out: Vec<Option<usize>> = argv.iter().map(|a| first_secret(a)).collect();
    let opt = secret_option();
    for i in 1..argv.len() {
        if opt.is_some_and(|re| re.is_match(argv[i - 1])) && out[i - 1].is_none() {
            out[i] = Some(0);
        }
    }
    if let Some(program) = argv.first() {
        command_passwords(program, argv, &mut out);
    }
    out
}

/// Where the secret of a `user<sep>password` value starts: after the first
/// `sep` (no separator: the command asks for the password, none is here).
fn after(value_start: usize, value: &[u8], sep: u8) -> Option<usize> {
    let k = value.iter().position(|&b| b == sep)?;
    Some(value_start + k + 1)
}

/// The password options of well-known commands (see the module's list).
/// Only options before a `--` are options.
fn command_passwords(program: &[u8], argv: &[&[u8]], out: &mut [Option<usize>]) {
    let name = program.rsplit(|&b| b == b'/').next().unwrap_or(program);
    let mysql = name.starts_with(b"mysql") || name.starts_with(b"mariadb");
    let smb = name == b"smbclient" || name == b"rpcclient";
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i];
        if a == b"--" {
            break;
        }
        let found = |cut: Option<usize>, at: &mut Option<usize>| {
            if let Some(c) = cut {
                *at = Some(at.map_or(c, |old| old.min(c)));
            }
        };
        match name {
            b"curl" => match a {
                b"-u" | b"--user" | b"-U" | b"--proxy-user" if i + 1 < argv.len() => {
                    found(after(0, argv[i + 1], b':'), &mut out[i + 1]);
                    i += 1;
                }
                _ if (a.starts_with(b"-u") || a.starts_with(b"-U")) && a.len() > 2 => {
                    found(after(2, &a[2..], b':'), &mut out[i]);
                }
                _ => {
                    for long in [&b"--user="[..], b"--proxy-user="] {
                        if let Some(v) = a.strip_prefix(long) {
                            found(after(long.len(), v, b':'), &mut out[i]);
                        }
                    }
                }
            },
            b"sshpass" => match a {
                b"-p" if i + 1 < argv.len() => {
                    found(Some(0), &mut out[i + 1]);
                    i += 1;
                }
                _ if a.starts_with(b"-p") && a.len() > 2 => found(Some(2), &mut out[i]),
                _ => {}
            },
            _ if mysql && a.starts_with(b"-p") && a.len() > 2 => found(Some(2), &mut out[i]),
            _ if smb => match a {
                b"-U" | b"--user" if i + 1 < argv.len() => {
                    found(after(0, argv[i + 1], b'%'), &mut out[i + 1]);
                    i += 1;
                }
                _ => {
                    if let Some(v) = a.strip_prefix(b"--user=") {
                        found(after(7, v, b'%'), &mut out[i]);
                    }
                }
            },
            _ => {}
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(s: &str) -> String {
        match first_secret(s.as_bytes()) {
            Some(k) => format!("{}<cut>", &s[..k]),
            None => s.to_string(),
        }
    }

    #[test]
    fn name_value_pairs_with_secret_names_lose_the_value() {
        assert_eq!(cut("MY_API_TOKEN=abc123"), "MY_API_TOKEN=<cut>");
        assert_eq!(cut("--password=hunter2"), "--password=<cut>");
        assert_eq!(cut("x=1&api_key=zzz&y=2"), "x=1&api_key=<cut>");
        assert_eq!(cut("EDITOR=vi"), "EDITOR=vi");
        assert_eq!(cut("--verbose=2"), "--verbose=2");
    }

    #[test]
    fn http_headers_bearer_tokens_and_url_passwords_are_found() {
        assert_eq!(
            cut("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k\r\n\r\n"),
            "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: <cut>"
        );
        assert_eq!(cut("Cookie: sid=1"), "Cookie: <cut>");
        assert_eq!(cut("curl -H bearer abc"), "curl -H bearer <cut>");
        assert_eq!(
            cut("https://alice:s3cret@example.org/x"),
            "https://alice:<cut>"
        );
        assert_eq!(
            cut("https://example.org/a:b@c"),
            "https://example.org/a:b@c"
        );
        assert_eq!(
            cut("/usr/lib/x86_64-linux-gnu/libc.so.6"),
            "/usr/lib/x86_64-linux-gnu/libc.so.6"
        );
    }

    #[test]
    fn an_option_named_like_a_secret_takes_its_next_argument_with_it() {
        let argv: Vec<&[u8]> = vec![b"mysql", b"--password", b"hunter2", b"-u", b"root"];
        assert_eq!(argv_secrets(&argv), vec![None, None, Some(0), None, None]);
        let argv: Vec<&[u8]> = vec![b"tool", b"--token=abc", b"next"];
        assert_eq!(argv_secrets(&argv), vec![None, Some(8), None]);
    }

    #[test]
    fn password_options_of_curl_mysql_sshpass_and_smbclient_are_found() {
        let v = |a: &[&str]| argv_secrets(&a.iter().map(|s| s.as_bytes()).collect::<Vec<_>>());
        assert_eq!(
            v(&["curl", "-u", "alice:pw", "http://x"]),
            [None, None, Some(6), None]
        );
        assert_eq!(v(&["/usr/bin/curl", "-ualice:pw"]), [None, Some(8)]);
        assert_eq!(v(&["curl", "--user=alice:pw"]), [None, Some(13)]);
        assert_eq!(v(&["curl", "-U", "proxy:pw"]), [None, None, Some(6)]);
        // No colon: curl prompts for the password, nothing secret here.
        assert_eq!(v(&["curl", "-u", "alice", "http://x"]), [None; 4]);
        assert_eq!(
            v(&["mysql", "-uroot", "-phunter2", "db"]),
            [None, None, Some(2), None]
        );
        assert_eq!(v(&["mariadb-dump", "-pX"]), [None, Some(2)]);
        // `-p` alone makes mysql prompt; the next argument is a database.
        assert_eq!(v(&["mysql", "-p", "db"]), [None; 3]);
        assert_eq!(
            v(&["sshpass", "-p", "pw", "ssh", "h"]),
            [None, None, Some(0), None, None]
        );
        assert_eq!(
            v(&["smbclient", "-U", "bob%pw", "//h/s"]),
            [None, None, Some(4), None]
        );
        // Other programs' -p and -u mean something else.
        assert_eq!(v(&["mkdir", "-p", "a:b"]), [None; 3]);
        assert_eq!(v(&["sort", "-u", "a:b"]), [None; 3]);
        // After `--`, an argument is an operand.
        assert_eq!(v(&["curl", "--", "-ua:b"]), [None; 3]);
    }
}
