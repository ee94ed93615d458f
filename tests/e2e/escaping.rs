//! No recorded byte reaches the terminal raw: a recording full of terminal
//! escape sequences (in argv, the exec'd filename, the cwd, the hostname, an
//! attached process's comm, the environment, a written buffer, a path) is
//! shown by every text view with those bytes escaped as strace escapes them.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ptrec_tests::{analyze, bin, require_root, tracee};

fn os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

/// A view's stdout, which must be UTF-8 without a control character other
/// than the newline (C0, DEL and C1 alike).
fn view(trace: &Path, args: &[&str]) -> String {
    let s = analyze(args, trace);
    if let Some((i, c)) = s.char_indices().find(|&(_, c)| c.is_control() && c != '\n') {
        let from = s[..i].rfind('\n').map_or(0, |n| n + 1);
        panic!(
            "analyze {args:?} printed the raw control character {:?} in: {:?}",
            c,
            &s[from..(i + 40).min(s.len())]
        );
    }
    s
}

#[test]
fn every_text_view_of_a_hostile_recording_escapes_its_control_bytes() {
    require_root("a hostname of its own, set in a new UTS namespace");
    let d = tempfile::tempdir().expect("tempdir");
    let cwd = d.path().join(os(b"\x1b]0;cwd\x07"));
    fs::create_dir(&cwd).expect("mkdir");
    let exe = cwd.join(os(b"\x1b]0;exe\x07\x9b"));
    fs::copy(tracee("hostile"), &exe).expect("copy the tracee");
    fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).expect("chmod");

    // An attached process whose comm is already hostile.
    let mut sleeper = Command::new(&exe)
        .arg("sleep")
        .current_dir(&cwd)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the sleeper");
    let comm = format!("/proc/{}/comm", sleeper.id());
    let t0 = Instant::now();
    while fs::read(&comm).ok().as_deref() != Some(b"\x1b]0;comm\x07\n".as_slice()) {
        assert!(t0.elapsed() < Duration::from_secs(5), "comm never set");
        std::thread::sleep(Duration::from_millis(10));
    }

    let out = d.path().join("t.bin");
    let mut rec = Command::new(bin("rec"));
    rec.args(["-q", "-o"])
        .arg(&out)
        .arg("-p")
        .arg(sleeper.id().to_string())
        .arg("--")
        .arg(&exe)
        .arg(os(b"\x1b]0;argv\x07"))
        .arg(os(b"\xff\xfe\x9b[31m"))
        .current_dir(&cwd)
        .env("HOSTILE", os(b"\x1b]0;env\x07"))
        .stdout(Stdio::null());
    // SAFETY: between fork and exec the child only makes two syscalls.
    unsafe {
        rec.pre_exec(|| {
            let host = b"\x1b]0;host\x07";
            if libc::unshare(libc::CLONE_NEWUTS) != 0
                || libc::sethostname(host.as_ptr().cast(), host.len()) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = rec.output().expect("run rec");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(sleeper.wait().expect("sleeper").success());

    let overview = view(&out, &[]);
    assert!(
        overview.contains(r"\33]0;argv\7 \377\376\233[31m"),
        "{overview}"
    );
    let tree = view(&out, &["tree"]);
    for s in [r"\33]0;comm\7", r#""\33]0;argv\7""#, r"\33]0;exe\7\233"] {
        assert!(tree.contains(s), "{s} not in:\n{tree}");
    }
    let info = view(&out, &["info"]);
    for s in [r"\33]0;host\7", r"\33]0;cwd\7", r"\33]0;argv\7"] {
        assert!(info.contains(s), "{s} not in:\n{info}");
    }
    view(&out, &["summary"]);
    let per_process = view(&out, &["summary", "--per-process"]);
    assert!(per_process.contains(r"\33]0;exe\7\233"), "{per_process}");
    let replay = view(&out, &["replay", "-s", "100"]);
    for s in [r"\33]0;buffer\7\233\n", r"\33]0;path\7"] {
        assert!(replay.contains(s), "{s} not in:\n{replay}");
    }
    let env = view(&out, &["env"]);
    assert!(env.contains(r"HOSTILE=\33]0;env\7"), "{env}");
    view(&out, &["info", "--env"]);
    let o = out.to_str().expect("utf8");
    let diff = view(&out, &["diff", o]);
    assert!(diff.contains(r"\33]0;exe\7\233"), "{diff}");
    // A redacted copy is shown as safely.
    let red = d.path().join("r.bin");
    let st = Command::new(bin("analyze"))
        .args(["redact", "--redact", "secrets", o, "-o"])
        .arg(&red)
        .status()
        .expect("analyze redact");
    assert!(st.success());
    view(&red, &["tree"]);
    view(&red, &["info"]);
}
