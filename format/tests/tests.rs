//! The format crate's one integration-test binary: a module per area, one
//! helpers module (as ripgrep's tests/tests.rs).
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns; a panic is the failure report

mod helpers;

mod corruption;
mod decoders;
mod framing;
mod golden;
mod layouts;
mod properties;
mod roundtrip;
mod writer;
