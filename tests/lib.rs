//! Helpers of the end-to-end tests (`e2e/`, one module per area): where the
//! binaries and the tracee programs (C sources under `tracees/`, built by
//! `build.rs`) are, and small process utilities.

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

/// `analyze ARGS TRACE`: what it wrote on stdout; the test fails, with
/// analyze's stderr, unless it succeeds.
pub fn analyze_bytes(args: &[&str], trace: impl AsRef<Path>) -> Vec<u8> {
    let o = std::process::Command::new(bin("analyze"))
        .args(args)
        .arg(trace.as_ref())
        .output()
        .expect("run analyze");
    assert!(
        o.status.success(),
        "analyze {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// [`analyze_bytes`] as text (the test fails unless it is UTF-8).
pub fn analyze(args: &[&str], trace: impl AsRef<Path>) -> String {
    String::from_utf8(analyze_bytes(args, trace))
        .unwrap_or_else(|e| panic!("analyze {args:?} printed bytes that are not UTF-8: {e}"))
}

/// Sends `sig` to `pid`; the test fails if it cannot.
pub fn kill(pid: i32, sig: i32) {
    // SAFETY: kill has no memory arguments.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill {pid} {sig}");
}

/// Fails the test unless it runs as root: the tests that need root run in
/// CI, which is root, and must fail there rather than pass as skipped.
pub fn require_root(why: &str) {
    // SAFETY: geteuid has no arguments and cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "this test needs root: {why}");
}

/// A small tmpfs mounted on a new temporary directory (root only: the test
/// fails otherwise), unmounted when dropped, whatever the test's outcome.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `size` as mount's `-o size=` takes it (`256k`, `2m`).
    pub fn mount(size: &str) -> Tmpfs {
        require_root("it mounts a small tmpfs");
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mount -t tmpfs failed (no CAP_SYS_ADMIN?)");
        Tmpfs { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}
