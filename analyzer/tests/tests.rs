//! The analyzer's one integration-test binary: every view on synthetic
//! traces, the call layer's corner cases, the contract's JSON shapes and the
//! failure messages.

// Test fixtures: a failure in a helper is a test failure.
#![allow(dead_code, clippy::unwrap_used)]

mod arch;
mod calls;
mod export;
mod helpers;
mod json;
mod replay_fds;
mod tree;
mod views;
