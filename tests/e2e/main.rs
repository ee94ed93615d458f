//! The end-to-end tests: `rec` and `analyze` run as subprocesses on the C
//! tracee programs of `tracees/` (built by `build.rs`). One test binary, a
//! module per area; the shared helpers are the crate's library (`lib.rs`).
//!
//! `rec` and `analyze` must have been built first (`cargo build --workspace`,
//! which `cargo test --workspace` does); the tests find them beside their own
//! executable.

mod analyze;
mod attach;
mod capture;
mod diff;
mod engine;
mod escaping;
mod export;
mod fidelity;
mod output;
mod postmortem;
mod rec;
mod redact;
