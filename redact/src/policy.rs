//! The policy language: what `--redact POLICY` drops.
//!
//! A policy is a comma-separated list of rules:
//!
//! | rule | drops |
//! |---|---|
//! | `default` | `env=allow`, `buffers=all` and `secrets`: the safe choice for sending a trace |
//! | `env=all` (or `env`) | every environment value |
//! | `env=allow[:NAME:...]` | every environment value but those of the names listed (default: PATH HOME USER LOGNAME SHELL LANG LC_* TERM TZ PWD; a trailing `*` matches any suffix) |
//! | `env=secrets` | the values of secret-looking names only |
//! | `secrets` | the secret-looking parts of argv and of kept strings and buffers (see [`crate::secrets`]) |
//! | `buffers=all` (or `buffers`) | the content of every data buffer (read, write, send, recv, ...), lengths kept |
//! | `buffers=files`, `=sockets`, `=pipes`, `=ttys`, `=other` | the buffers of descriptors of that kind (repeatable) |
//! | `buffers=GLOB` | the buffers of files whose path matches GLOB (`/home/**`, `*.key`) |
//! | `paths=hash` | every path, each component replaced by a keyed hash (equal paths stay equal) |
//! | `none` | nothing (a no-op, for comparisons) |
//!
//! Whatever the `env` rule, a name that matches TOKEN, SECRET, PASS, KEY,
//! AUTH, CREDENTIAL or COOKIE (case-insensitive) always loses its value.

use std::fmt;

/// Names whose environment values are kept by `env=allow` without a list.
pub const DEFAULT_ENV_ALLOW: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_*", "TERM", "TZ", "PWD",
];

/// Words that make a name secret-looking, matched case-insensitively
/// anywhere in the name.
pub const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASS",
    "KEY",
    "AUTH",
    "CREDENTIAL",
    "COOKIE",
];

/// Why a policy does not parse.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("--redact: unknown rule '{0}' (rules: default, env=all|allow[:NAME...]|secrets, secrets, buffers=all|files|sockets|pipes|ttys|other|GLOB, paths=hash, none)")]
    UnknownRule(String),
    #[error("--redact: bad glob '{glob}': {reason}")]
    BadGlob { glob: String, reason: String },
    #[error("--redact: empty policy")]
    Empty,
}

pub type Result<T> = std::result::Result<T, Error>;

/// What happens to environment values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum EnvRule {
    /// Values are kept (but secret-looking names still lose theirs when
    /// any env rule is given).
    #[default]
    Keep,
    /// Only the values of secret-looking names are dropped.
    Secrets,
    /// Every value is dropped except those of these names.
    Allow(Vec<String>),
    /// Every value is dropped.
    All,
}

/// What a descriptor refers to, for `buffers=KIND`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FdKind {
    File,
    Socket,
    Pipe,
    Tty,
    /// An eventfd, a timerfd, memfd, an inotify descriptor, ...
    Other,
    /// The trace does not say (a descriptor inherited from before the
    /// recording): every selective buffer rule counts it as matching.
    Unknown,
}

/// Which buffers lose their content.
#[derive(Clone, Debug, Default)]
pub struct BufferRule {
    pub all: bool,
    pub kinds: Vec<FdKind>,
    pub globs: Vec<glob::Pattern>,
}

impl BufferRule {
    pub fn is_empty(&self) -> bool {
        !self.all && self.kinds.is_empty() && self.globs.is_empty()
    }

    /// Whether a buffer of a descriptor of `kind` (at `path`, when it is a
    /// file) is dropped.
    pub fn drops(&self, kind: FdKind, path: Option<&[u8]>) -> bool {
        if self.all {
            return true;
        }
        if self.is_empty() {
            return false;
        }
        if kind == FdKind::Unknown || self.kinds.contains(&kind) {
            return true;
        }
        match path {
            Some(p) if !self.globs.is_empty() => {
                let p = String::from_utf8_lossy(p);
                let name = p.rsplit('/').next().unwrap_or(&p);
                let opts = glob::MatchOptions {
                    require_literal_separator: true,
                    ..glob::MatchOptions::new()
                };
                self.globs.iter().any(|g| {
                    g.matches_with(&p, opts)
                        || (!g.as_str().contains('/') && g.matches_with(name, opts))
                })
            }
            _ => false,
        }
    }
}

/// A parsed policy.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub env: EnvRule,
    /// Whether any `env` rule was given (then secret-looking names always
    /// lose their values).
    pub env_given: bool,
    pub secrets: bool,
    pub buffers: BufferRule,
    pub hash_paths: bool,
    /// The policy as given, for the trace header.
    text: String,
}

impl Policy {
    /// What `analyze redact` applies when no policy is given.
    pub fn default_policy() -> Policy {
        let mut p = Policy {
            text: "default".into(),
            ..Policy::default()
        };
        p.add_default();
        p
    }

    /// The rules of `default`.
    fn add_default(&mut self) {
        self.set_env(EnvRule::Allow(default_allow()));
        self.secrets = true;
        self.buffers.all = true;
    }

    pub fn parse(text: &str) -> Result<Policy> {
        let text = text.trim();
        let mut p = Policy {
            text: text.to_string(),
            ..Policy::default()
        };
        if text.is_empty() {
            return Err(Error::Empty);
        }
        for rule in text.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let (key, value) = match rule.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (rule, None),
            };
            match (key, value) {
                ("none", None) => {}
                ("default", None) => p.add_default(),
                ("secrets", None) => p.secrets = true,
                ("env", None | Some("all")) => p.set_env(EnvRule::All),
                ("env", Some("secrets")) => p.set_env(EnvRule::Secrets),
                ("env", Some(v)) if v == "allow" || v.starts_with("allow:") => {
                    let names: Vec<String> = v
                        .split(':')
                        .skip(1)
                        .filter(|n| !n.is_empty())
                        .map(str::to_string)
                        .collect();
                    p.set_env(EnvRule::Allow(if names.is_empty() {
                        default_allow()
                    } else {
                        names
                    }));
                }
                ("buffers", None | Some("all")) => p.buffers.all = true,
                ("buffers", Some(v)) => {
                    let kind = match v {
                        "files" => Some(FdKind::File),
                        "sockets" => Some(FdKind::Socket),
                        "pipes" => Some(FdKind::Pipe),
                        "ttys" => Some(FdKind::Tty),
                        "other" => Some(FdKind::Other),
                        _ => None,
                    };
                    match kind {
                        Some(k) => p.buffers.kinds.push(k),
                        None => p.buffers.globs.push(glob::Pattern::new(v).map_err(|e| {
                            Error::BadGlob {
                                glob: v.to_string(),
                                reason: e.msg.to_string(),
                            }
                        })?),
                    }
                }
                ("paths", Some("hash")) => p.hash_paths = true,
                _ => return Err(Error::UnknownRule(rule.to_string())),
            }
        }
        Ok(p)
    }

    fn set_env(&mut self, rule: EnvRule) {
        self.env_given = true;
        // The strictest rule given wins.
        let rank = |r: &EnvRule| match r {
            EnvRule::Keep => 0,
            EnvRule::Secrets => 1,
            EnvRule::Allow(_) => 2,
            EnvRule::All => 3,
        };
        if rank(&rule) >= rank(&self.env) {
            self.env = rule;
        }
    }

    /// The policy as given (what the trace header records).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether applying this policy can change anything.
    pub fn is_noop(&self) -> bool {
        !self.env_given && !self.secrets && self.buffers.is_empty() && !self.hash_paths
    }

    /// For an environment entry `NAME=value`: where its value starts, when
    /// the value is dropped.
    pub fn env_value_dropped(&self, entry: &[u8]) -> Option<usize> {
        let eq = entry.iter().position(|&c| c == b'=')?;
        let name = &entry[..eq];
        let drop = match &self.env {
            EnvRule::Keep => self.env_given && is_secret_name(name),
            EnvRule::Secrets => is_secret_name(name),
            EnvRule::Allow(list) => {
                is_secret_name(name) || !list.iter().any(|a| name_matches(a, name))
            }
            EnvRule::All => true,
        };
        (drop && eq + 1 < entry.len()).then_some(eq + 1)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn default_allow() -> Vec<String> {
    DEFAULT_ENV_ALLOW.iter().map(|s| s.to_string()).collect()
}

/// `LC_*` matches `LC_ALL`; otherwise the exact name.
fn name_matches(pattern: &str, name: &[u8]) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix.as_bytes()),
        None => name == pattern.as_bytes(),
    }
}

/// Whether `name` holds one of [`SECRET_WORDS`], case-insensitively.
pub fn is_secret_name(name: &[u8]) -> bool {
    let upper: Vec<u8> = name.to_ascii_uppercase();
    SECRET_WORDS
        .iter()
        .any(|w| upper.windows(w.len()).any(|x| x == w.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_drops_env_outside_the_allow_list_buffers_and_secrets() {
        let p = Policy::parse("default").expect("parse");
        assert!(p.secrets && p.buffers.all && !p.hash_paths);
        assert_eq!(p.env_value_dropped(b"PATH=/bin"), None);
        assert_eq!(p.env_value_dropped(b"LC_ALL=C"), None);
        assert_eq!(p.env_value_dropped(b"EDITOR=vi"), Some(7));
        // Allowed by name, dropped for looking secret: never happens with
        // the default list, but does with a custom one.
        let q = Policy::parse("env=allow:GITHUB_TOKEN:EDITOR").expect("parse");
        assert_eq!(q.env_value_dropped(b"GITHUB_TOKEN=ghp_x"), Some(13));
        assert_eq!(q.env_value_dropped(b"EDITOR=vi"), None);
        assert_eq!(q.env_value_dropped(b"PATH=/bin"), Some(5));
    }

    #[test]
    fn secret_names_are_matched_case_insensitively_anywhere() {
        for n in [
            "MY_API_TOKEN",
            "aws_secret_access_key",
            "PGPASSWORD",
            "Cookie",
            "X_AUTH",
            "CREDENTIALS_FILE",
        ] {
            assert!(is_secret_name(n.as_bytes()), "{n}");
        }
        for n in ["PATH", "HOME", "EDITOR", "TERM"] {
            assert!(!is_secret_name(n.as_bytes()), "{n}");
        }
        let p = Policy::parse("env=secrets").expect("parse");
        assert_eq!(p.env_value_dropped(b"PGPASSWORD=x"), Some(11));
        assert_eq!(p.env_value_dropped(b"EDITOR=vi"), None);
        // An empty value has nothing to drop.
        assert_eq!(p.env_value_dropped(b"PGPASSWORD="), None);
    }

    #[test]
    fn the_strictest_env_rule_wins_and_all_drops_everything() {
        let p = Policy::parse("env=all,env=secrets").expect("parse");
        assert_eq!(p.env, EnvRule::All);
        assert_eq!(p.env_value_dropped(b"PATH=/bin"), Some(5));
    }

    #[test]
    fn buffer_rules_select_by_kind_and_glob_and_count_unknown_descriptors() {
        let p = Policy::parse("buffers=sockets,buffers=/home/**,buffers=*.key").expect("parse");
        let b = &p.buffers;
        assert!(b.drops(FdKind::Socket, None));
        assert!(!b.drops(FdKind::Pipe, None));
        assert!(b.drops(FdKind::Unknown, None));
        assert!(b.drops(FdKind::File, Some(b"/home/u/notes.txt")));
        assert!(b.drops(FdKind::File, Some(b"/etc/tls/server.key")));
        assert!(!b.drops(FdKind::File, Some(b"/etc/passwd")));
        let none = Policy::parse("secrets").expect("parse");
        assert!(!none.buffers.drops(FdKind::Unknown, None));
    }

    #[test]
    fn the_default_policy_is_the_rule_default() {
        let (a, b) = (
            Policy::default_policy(),
            Policy::parse("default").expect("parse"),
        );
        assert_eq!(
            (&a.env, a.secrets, a.buffers.all),
            (&b.env, b.secrets, b.buffers.all)
        );
        assert_eq!(a.text(), "default");
    }

    #[test]
    fn bad_rules_are_one_clear_error() {
        let e = Policy::parse("env=some").expect_err("bad");
        assert!(e.to_string().contains("unknown rule 'env=some'"), "{e}");
        assert!(Policy::parse("buffers=[").is_err());
        assert!(Policy::parse("").is_err());
        assert!(Policy::parse("none").expect("none").is_noop());
    }
}
