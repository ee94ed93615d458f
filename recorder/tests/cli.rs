//! rec's command line: errors are one clear line and a non-zero exit, and the
//! command does not run when recording cannot start. (Building this test is
//! also what makes `cargo test --workspace` build `target/<profile>/rec`,
//! which the end-to-end tests in `tests/` run.)

use std::process::{Command, Output};

fn rec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rec"))
        .args(args)
        .output()
        .expect("run rec")
}

fn one_error_line(o: &Output) -> String {
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn attach_and_filter_errors_are_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let out = out.to_str().expect("utf8");
    // pid 1 is an ancestor of every process.
    let e = one_error_line(&rec(&["-o", out, "-p", "1"]));
    assert!(
        e.contains("cannot attach to 1: it is an ancestor of rec"),
        "{e}"
    );
    let e = one_error_line(&rec(&["-o", out, "-e", "nosuchcall", "--", "true"]));
    assert!(e.contains("unknown syscall 'nosuchcall'"), "{e}");
}

#[test]
fn unwritable_output_fails_before_the_command_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("ran");
    let e = one_error_line(&rec(&[
        "-o",
        "/nonexistent-dir/t.bin",
        "--",
        "touch",
        marker.to_str().expect("utf8"),
    ]));
    assert!(e.contains("/nonexistent-dir/t.bin"), "{e}");
    assert!(
        !marker.exists(),
        "the command ran although the trace could not be written"
    );
}

#[test]
fn no_command_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    one_error_line(&rec(&["-o", out.to_str().expect("utf8")]));
}

#[test]
fn string_limit_is_stored_and_quiet_prints_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.bin");
    let o = rec(&[
        "-q",
        "-s",
        "77",
        "-o",
        out.to_str().expect("utf8"),
        "--",
        "true",
    ]);
    assert!(o.status.success());
    assert!(o.stderr.is_empty());
    let t = ptrec_format::Trace::open(&out).expect("trace");
    assert_eq!(t.header().options.string_limit, 77);
    assert_eq!(t.header().argv, vec![b"true".to_vec()]);
}
