//! `analyze info`'s fidelity report: what the trace does not hold, and why,
//! with a one-line verdict; rec's notes appear in it and in replay.

use std::process::Command;
use std::time::Duration;

use ptrec_tests::{analyze, bin, kill};

fn rec(args: &[&str]) -> std::process::Output {
    Command::new(bin("rec"))
        .args(args)
        .output()
        .expect("run rec")
}

fn verdict(info: &str) -> &str {
    info.lines()
        .find_map(|l| l.strip_prefix("verdict:"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no verdict in:\n{info}"))
}

#[test]
fn a_whole_recording_is_complete() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = d.path().join("t.bin");
    let o = rec(&["-q", "-o", t.to_str().expect("utf8"), "--", "true"]);
    assert!(o.status.success());
    let info = analyze(&["info"], &t);
    assert!(info.contains("not in this trace:\n  nothing\n"), "{info}");
    assert_eq!(verdict(&info), "complete");
    let j: serde_json::Value =
        serde_json::from_str(&analyze(&["info", "--json"], &t)).expect("json");
    assert_eq!(j["fidelity"]["verdict"], serde_json::json!(["complete"]));
}

#[test]
fn cut_captures_and_the_filter_are_gaps_per_syscall() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = d.path().join("t.bin");
    let o = rec(&[
        "-q",
        "-s",
        "16",
        "-e",
        "trace=openat,read",
        "-o",
        t.to_str().expect("utf8"),
        "--",
        "cat",
        "/etc/passwd",
    ]);
    assert!(o.status.success());
    let info = analyze(&["info"], &t);
    let cut = info
        .lines()
        .find(|l| l.trim_start().starts_with("captures cut at -s 16:"))
        .unwrap_or_else(|| panic!("{info}"));
    assert!(cut.contains("read "), "{cut}");
    assert!(
        info.contains(
            "syscall filter:               only trace=openat,read (seccomp-bpf) recorded"
        ),
        "{info}"
    );
    let v = verdict(&info);
    assert!(
        v.contains("captures cut at -s 16") && v.contains("syscall filter"),
        "{v}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&analyze(&["info", "--json"], &t)).expect("json");
    let f = &j["fidelity"];
    let read = f["captures_cut"]
        .as_array()
        .expect("per syscall")
        .iter()
        .find(|x| x[0] == "read")
        .and_then(|x| x[1].as_u64());
    assert!(read.is_some_and(|n| n > 0), "{f:#}");
}

#[test]
fn a_killed_recording_says_what_is_missing() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = d.path().join("t.bin");
    let child = Command::new(bin("rec"))
        .args(["-q", "-o", t.to_str().expect("utf8"), "--", "sleep", "5"])
        .spawn()
        .expect("rec");
    // Past the writer's flush interval, so that a chunk is on disk.
    std::thread::sleep(Duration::from_millis(1600));
    kill(child.id() as i32, libc::SIGKILL);
    let mut child = child;
    child.wait().expect("wait");
    let info = analyze(&["info"], &t);
    assert!(info.contains("file ends early:"), "{info}");
    assert!(info.contains("no end note: rec did not finish"), "{info}");
    assert!(info.contains("no recorded end:"), "{info}");
    let v = verdict(&info);
    assert!(
        v.contains("the file ends early") && v.contains("no end note"),
        "{v}"
    );
}

#[test]
fn rec_notes_appear_in_replay_and_in_the_report() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = d.path().join("t.bin");
    // A -p target that does not exist: rec records the command and a note.
    let o = rec(&[
        "-q",
        "-o",
        t.to_str().expect("utf8"),
        "-p",
        "2147483632",
        "--",
        "true",
    ]);
    assert!(!o.status.success());
    let replay = analyze(&["replay"], &t);
    assert!(
        replay.contains("+++ rec: info: cannot attach to 2147483632: no such process +++"),
        "{replay}"
    );
    let info = analyze(&["info"], &t);
    assert!(info.contains("rec's notes:\n"), "{info}");
    assert!(info.contains("cannot attach to 2147483632"), "{info}");
}

#[test]
fn a_corrupt_chunk_is_skipped_and_reported() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = d.path().join("t.bin");
    // Long enough for the writer to seal several chunks by time.
    let o = rec(&[
        "-q",
        "-o",
        t.to_str().expect("utf8"),
        "--",
        "sh",
        "-c",
        "for i in 1 2 3; do /bin/true; sleep 0.7; done",
    ]);
    assert!(o.status.success());
    let (offset, len) = {
        let tr = ptrec_format::Trace::open(&t).expect("trace");
        assert!(tr.chunks().len() >= 2, "{} chunks", tr.chunks().len());
        let c = &tr.chunks()[0];
        (c.offset as usize, c.header.compressed_len as usize)
    };
    let mut b = std::fs::read(&t).expect("read");
    b[offset + ptrec_format::chunk::CHUNK_HEADER_LEN + len / 2] ^= 0xff;
    std::fs::write(&t, &b).expect("write");
    let o = Command::new(bin("analyze"))
        .arg("info")
        .arg(&t)
        .output()
        .expect("analyze info");
    let info = String::from_utf8_lossy(&o.stdout);
    assert!(info.contains("corrupt chunk:                0: "), "{info}");
    assert!(
        verdict(&info).contains("1 corrupt chunks skipped"),
        "{info}"
    );
}
