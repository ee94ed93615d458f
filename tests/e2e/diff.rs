//! `analyze diff A B`: two runs of one script, the second without the file
//! the first read. The processes are aligned by what they exec'd, not by
//! pid; the changed exit, the process only B ran, the new error and the
//! file only A opened are reported, the first divergence is the failing
//! cat (its failed open comes before anything else differs).

use std::path::Path;
use std::process::Command;

use ptrec_tests::bin;

fn record(dir: &Path, out: &str) {
    let st = Command::new(bin("rec"))
        .current_dir(dir)
        .args(["-q", "-o", out, "--", "sh", "-c"])
        .arg("/bin/cat input.txt || /bin/echo fallback; /bin/true")
        .output()
        .expect("run rec");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
}

#[test]
fn diff_aligns_runs_by_exec_history_and_reports_what_changed_first() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("input.txt"), "data\n").expect("write");
    record(d.path(), "a.bin");
    std::fs::remove_file(d.path().join("input.txt")).expect("rm");
    record(d.path(), "b.bin");
    let run = |json: bool| {
        let mut c = Command::new(bin("analyze"));
        c.current_dir(d.path()).arg("diff");
        if json {
            c.arg("--json");
        }
        let o = c.args(["a.bin", "b.bin"]).output().expect("analyze diff");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).expect("utf8")
    };
    let j: serde_json::Value = serde_json::from_str(&run(true)).expect("json");
    let changes = j["exit_changes"].as_array().expect("exit changes");
    assert_eq!(changes.len(), 1, "{j:#}");
    assert_eq!(changes[0]["command"], "/bin/cat");
    assert_eq!(
        (changes[0]["a"].as_str(), changes[0]["b"].as_str()),
        (Some("exited 0"), Some("exited 1"))
    );
    // Aligned by exec history: pids differ between runs, yet only the
    // fallback echo is unmatched.
    assert_ne!(changes[0]["a_pid"], changes[0]["b_pid"]);
    assert_eq!(j["only_in_a"].as_array().map(Vec::len), Some(0), "{j:#}");
    let only_b = j["only_in_b"].as_array().expect("only in b");
    assert_eq!(only_b.len(), 1, "{j:#}");
    assert_eq!(only_b[0]["command"], "/bin/echo");
    let first = &j["first_divergence"];
    assert_eq!(first["command"], "/bin/cat", "{j:#}");
    let errors = j["new_errors_in_b"].as_array().expect("errors");
    assert!(
        errors.iter().any(|e| e["path"] == "input.txt"
            && e["errno"].as_str().is_some_and(|s| s.starts_with("ENOENT"))
            && e["command"] == "/bin/cat"),
        "{j:#}"
    );
    let files_a: Vec<&str> = j["files_only_in_a"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert!(files_a.contains(&"input.txt"), "{j:#}");
    // Every aligned process has its deltas: sh, cat and true.
    let cmds: Vec<&str> = j["deltas"]
        .as_array()
        .expect("deltas")
        .iter()
        .filter_map(|d| d["command"].as_str())
        .collect();
    for c in ["/usr/bin/sh", "/bin/cat", "/bin/true"] {
        assert!(cmds.contains(&c), "{c} missing in {cmds:?}");
    }
    let t = run(false);
    assert!(t.contains("exit status changed:\n  /bin/cat"), "{t}");
    assert!(t.contains("first divergence: /bin/cat"), "{t}");
    assert!(t.contains("processes only in B:"), "{t}");
}
