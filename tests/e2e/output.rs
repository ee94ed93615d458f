//! Where rec writes the trace: never through a link or into a file someone
//! else created, always mode 0600, and a stream or a clear error (never a
//! corrupt file or a hang) for pipes, FIFOs and stdout.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ptrec_format::Trace;
use ptrec_tests::{bin, require_root};

const NOBODY: u32 = 65534;

/// A world-writable sticky directory, as /tmp is.
fn sticky_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o1777)).expect("chmod 1777");
    d
}

/// Runs `argv` as user nobody (how another user plants things).
fn as_nobody(argv: &[&str]) {
    let st = Command::new(argv[0])
        .args(&argv[1..])
        .uid(NOBODY)
        .gid(NOBODY)
        .status()
        .expect("run as nobody");
    assert!(st.success(), "{argv:?} as nobody failed");
}

/// rec -o OUT -- touch MARKER: the marker says whether the command ran.
fn rec_touch(out: &Path, marker: &Path) -> Output {
    let t0 = Instant::now();
    let o = Command::new(bin("rec"))
        .arg("-q")
        .arg("-o")
        .arg(out)
        .arg("--")
        .arg("touch")
        .arg(marker)
        .stdin(Stdio::null())
        .output()
        .expect("run rec");
    assert!(t0.elapsed() < Duration::from_secs(10), "rec hung");
    o
}

fn one_error_line(o: &Output) -> String {
    assert!(!o.status.success(), "rec succeeded");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

#[test]
fn a_symlink_planted_by_another_user_is_refused_and_its_target_untouched() {
    require_root("a root-owned victim file and a link made by nobody");
    let d = sticky_dir();
    let victim = d.path().join("victim");
    fs::write(&victim, b"root's data").expect("write victim");
    let out = d.path().join("trace.bin");
    as_nobody(&[
        "/bin/ln",
        "-s",
        victim.to_str().expect("utf8"),
        out.to_str().expect("utf8"),
    ]);
    let marker = d.path().join("ran");
    let e = one_error_line(&rec_touch(&out, &marker));
    assert!(e.contains("symbolic link"), "{e}");
    assert!(!marker.exists(), "the command ran");
    assert_eq!(fs::read(&victim).expect("victim"), b"root's data");
    assert!(fs::symlink_metadata(&out).expect("link").is_symlink());
}

#[test]
fn a_file_pre_created_by_another_user_is_refused() {
    require_root("a file made by nobody, recorded into by root");
    let d = sticky_dir();
    let out = d.path().join("trace.bin");
    as_nobody(&[
        "/bin/sh",
        "-c",
        &format!("umask 0; echo mine > {}", out.display()),
    ]);
    let marker = d.path().join("ran");
    let e = one_error_line(&rec_touch(&out, &marker));
    assert!(e.contains("belongs to uid 65534"), "{e}");
    assert!(!marker.exists(), "the command ran");
    let m = fs::metadata(&out).expect("stat");
    assert_eq!((m.uid(), m.mode() & 0o777), (NOBODY, 0o666));
    assert_eq!(fs::read(&out).expect("read"), b"mine\n");
}

#[test]
fn an_existing_own_file_is_replaced_by_a_new_0600_file() {
    let d = tempfile::tempdir().expect("tempdir");
    let out = d.path().join("trace.bin");
    fs::write(&out, b"old").expect("write");
    fs::set_permissions(&out, fs::Permissions::from_mode(0o644)).expect("chmod");
    let old_ino = fs::metadata(&out).expect("stat").ino();
    // Another name for the old file sees its old content: rec did not
    // write into it.
    let keep = d.path().join("keep");
    fs::hard_link(&out, &keep).expect("link");
    // Even with a umask that allows everything.
    let marker = d.path().join("ran");
    let o = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "umask 0; exec {} -q -o {} -- touch {}",
            bin("rec").display(),
            out.display(),
            marker.display()
        ))
        .output()
        .expect("run rec");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(marker.exists());
    let m = fs::metadata(&out).expect("stat");
    assert_eq!(m.mode() & 0o777, 0o600);
    assert_ne!(m.ino(), old_ino);
    assert_eq!(fs::read(&keep).expect("keep"), b"old");
    assert!(Trace::open(&out).expect("trace").is_clean());
    // Only the trace and the two other files: no temporary left behind.
    assert_eq!(fs::read_dir(d.path()).expect("readdir").count(), 3);
}

#[test]
fn a_fifo_without_a_reader_is_an_error_not_a_hang() {
    let d = tempfile::tempdir().expect("tempdir");
    let fifo = d.path().join("trace.fifo");
    let st = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    let marker = d.path().join("ran");
    let e = one_error_line(&rec_touch(&fifo, &marker));
    assert!(e.contains("FIFO that no process is reading"), "{e}");
    assert!(!marker.exists(), "the command ran");
}

#[test]
fn a_fifo_with_a_reader_streams_a_readable_trace() {
    let d = tempfile::tempdir().expect("tempdir");
    let fifo = d.path().join("trace.fifo");
    let st = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    let copy = d.path().join("copy.bin");
    let mut reader = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("cat {} > {}", fifo.display(), copy.display()))
        .spawn()
        .expect("reader");
    // Wait until cat has the FIFO open (rec refuses a FIFO without a reader).
    let t0 = Instant::now();
    let marker = d.path().join("ran");
    loop {
        let o = rec_touch(&fifo, &marker);
        if o.status.success() {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "no reader appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(reader.wait().expect("reader").success());
    assert!(marker.exists());
    let t = Trace::open(&copy).expect("trace from the FIFO");
    assert!(t.is_clean());
    assert_eq!(t.header().argv[0], b"touch");
}

#[test]
fn dev_stdout_that_is_a_regular_file_is_an_error() {
    let d = tempfile::tempdir().expect("tempdir");
    let file = d.path().join("out.txt");
    let marker = d.path().join("ran");
    for name in ["/dev/stdout", "-"] {
        let o = Command::new(bin("rec"))
            .args(["-q", "-o", name, "--", "touch"])
            .arg(&marker)
            .stdout(fs::File::create(&file).expect("create"))
            .output()
            .expect("run rec");
        let e = one_error_line(&o);
        assert!(e.contains("stdout is a regular file"), "{e}");
        assert!(!marker.exists(), "the command ran");
        assert_eq!(fs::metadata(&file).expect("stat").len(), 0);
    }
}

#[test]
fn dash_streams_the_trace_to_a_pipe_and_the_command_s_stdout_to_stderr() {
    let o = Command::new(bin("rec"))
        .args(["-q", "-o", "-", "--", "echo", "from the command"])
        .output()
        .expect("run rec");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.stderr, b"from the command\n");
    let d = tempfile::tempdir().expect("tempdir");
    let copy = d.path().join("t.bin");
    fs::write(&copy, &o.stdout).expect("write");
    let t = Trace::open(&copy).expect("trace from the pipe");
    assert!(t.is_clean());
    let mut records = 0;
    t.for_each_record(|_| records += 1).expect("records");
    assert!(records > 10, "{records} records");
}

#[test]
fn dash_with_stderr_on_the_same_pipe_is_an_error() {
    let o = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "{} -q -o - -- echo from the command 2>&1 | cat",
            bin("rec").display()
        ))
        .output()
        .expect("run rec");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains("stdout and stderr are the same stream"),
        "{out}"
    );
    assert!(!out.contains("from the command"), "{out}");
}
