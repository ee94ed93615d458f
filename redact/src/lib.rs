//! Redaction for ptrec traces: one policy language, used by `rec --redact`
//! (before records reach the writer) and by `analyze redact` (rewriting an
//! existing trace).
//!
//! - [`Policy`] ([`policy`]): what to drop, parsed from `--redact POLICY`.
//! - [`secrets`]: the secret-looking parts of argv and strings.
//! - [`fds`]: what each descriptor refers to, for buffer rules by kind or path.
//! - [`paths`]: the keyed hash of `paths=hash`.
//! - [`Redactor`] ([`rewrite`]): applies a policy to a header and to records.
//!
//! ```
//! use ptrec_redact::Policy;
//! let p = Policy::parse("default").unwrap();
//! assert_eq!(p.env_value_dropped(b"API_TOKEN=x"), Some(10));
//! assert_eq!(p.env_value_dropped(b"PATH=/bin"), None);
//! ```
//!
//! A dropped value keeps its length: the format marks the capture redacted
//! and stores how many bytes were dropped, so views say `<redacted N bytes>`.

pub mod fds;
pub mod paths;
pub mod policy;
pub mod rewrite;
pub mod secrets;

pub use policy::{EnvRule, FdKind, Policy};
pub use rewrite::{Dropped, Redactor};
