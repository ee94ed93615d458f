//! End-to-end tests of `rec` and `analyze` live in `tests/e2e_*.rs`; the tracee
//! programs they run are C sources under `tracees/`, built by `build.rs`.
