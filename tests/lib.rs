//! End-to-end tests of `rec` and `analyze` live in `tests/e2e_*.rs`; the tracee
//! programs they run are C sources under `tracees/`, built by `build.rs`.

use std::path::{Path, PathBuf};

/// A binary of the workspace (`rec`, `analyze`): the tests run the ones
/// built beside them (target/<profile>/deps/TEST -> target/<profile>/NAME).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join(name))
        .expect("target dir");
    assert!(
        bin.exists(),
        "{} does not exist: run `cargo build --workspace` before the tests",
        bin.display()
    );
    bin
}

/// A tracee program from `tracees/`, compiled by `build.rs`.
pub fn tracee(name: &str) -> PathBuf {
    Path::new(env!("TRACEES_DIR")).join(name)
}
