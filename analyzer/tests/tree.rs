//! The process tree against pid reuse, forged records and huge trees: a
//! process is its pid plus a generation, and no record sequence makes a
//! view loop, recurse without bound or panic.

use crate::helpers::*;
use ptrec_format::{ChildKind, Record, Termination};

fn fork(g: &mut Gen, parent: i32, child: i32) {
    let t = g.tick();
    g.put(Record::NewChild {
        tid: parent,
        time: t,
        child,
        kind: ChildKind::Fork,
        flags: 0x1200011,
        inferred: false,
    });
}

fn die(g: &mut Gen, tid: i32, how: Termination) {
    let t = g.tick();
    g.put(Record::Death { tid, time: t, how });
}

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&stdout(&analyze(&["tree", "--json", p.to_str().unwrap()]))).unwrap()
}

#[test]
fn a_reused_pid_is_a_new_process_with_its_own_lifetime_and_parent() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "reuse.bin");
    let mut g = Gen::new(&p, &["init"], 1 << 20);
    g.call(1, 39, [0; 6], 1, 1);
    // 1 forks 200 which dies quickly; later 300 forks a new 200 that is killed.
    fork(&mut g, 1, 200);
    g.call(200, 39, [0; 6], 200, 1);
    die(&mut g, 200, Termination::Exited(0));
    fork(&mut g, 1, 300);
    g.time += 60_000_000_000;
    fork(&mut g, 300, 200);
    g.call(200, 39, [0; 6], 200, 1);
    die(
        &mut g,
        200,
        Termination::Signaled {
            signo: 9,
            core: false,
        },
    );
    g.finish();
    let v = json(&p);
    let procs = v["processes"].as_array().unwrap();
    let twohundred: Vec<&serde_json::Value> = procs.iter().filter(|p| p["pid"] == 200).collect();
    assert_eq!(twohundred.len(), 2, "{v}");
    assert_eq!(twohundred[0]["parent"], 1);
    assert_eq!(twohundred[0]["exit"], serde_json::json!({"code": 0}));
    assert!(twohundred[0].get("generation").is_none());
    assert_eq!(twohundred[1]["parent"], 300);
    assert_eq!(twohundred[1]["generation"], 1);
    assert_eq!(
        twohundred[1]["exit"],
        serde_json::json!({"signal": "SIGKILL"})
    );
    let text = stdout(&analyze(&["tree", p.to_str().unwrap()]));
    // The first 200 lived microseconds, not the minute to the second's death.
    let first = text.lines().find(|l| l.contains("─ 200 ")).unwrap();
    assert!(
        first.contains("exited 0") && first.contains("0.000"),
        "{text}"
    );
    assert!(!first.contains("60."), "{text}");
    let second = text.lines().find(|l| l.contains("200#1 ")).unwrap();
    assert!(second.contains("killed by SIGKILL"), "{text}");
    // Under 300, deeper than the first.
    let indent = |l: &str| l.find("200").unwrap();
    assert!(indent(second) > indent(first), "{text}");
}

#[test]
fn forged_cycles_double_births_deaths_before_births_and_shared_tids_never_loop() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "forged.bin");
    let mut g = Gen::new(&p, &["x"], 1 << 20);
    g.call(100, 39, [0; 6], 100, 1);
    // A cycle: 100 creates 200, 200 creates 100.
    fork(&mut g, 100, 200);
    fork(&mut g, 200, 100);
    // A child created twice while alive.
    fork(&mut g, 100, 300);
    fork(&mut g, 100, 300);
    // A death before the birth.
    die(&mut g, 400, Termination::Exited(1));
    fork(&mut g, 300, 400);
    // A tid made a thread of two groups.
    for parent in [300, 200] {
        let t = g.tick();
        g.put(Record::NewChild {
            tid: parent,
            time: t,
            child: 500,
            kind: ChildKind::Clone,
            flags: PTHREAD_FLAGS,
            inferred: false,
        });
    }
    g.call(500, 39, [0; 6], 200, 1);
    g.finish();
    let ps = p.to_str().unwrap();
    for args in [
        vec!["tree", ps],
        vec!["tree", "--json", ps],
        vec![ps],
        vec!["summary", "--per-process", ps],
        vec!["replay", "-p", "200", ps],
    ] {
        let o = analyze(&args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.stdout.len() < 10_000, "{args:?}");
    }
    let o = analyze(&["tree", ps]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("pid 100 created again"), "{err}");
    assert!(err.contains("pid 300 created again"), "{err}");
    assert!(err.contains("tid 500 created at"), "{err}");
    let v = json(&p);
    let procs = v["processes"].as_array().unwrap();
    // 100, 200, 100#1, 300, 300#1, 400 (dead before its birth: a root), 400#1.
    assert_eq!(procs.len(), 7, "{v}");
    let g1 = procs
        .iter()
        .find(|p| p["pid"] == 100 && p["generation"] == 1)
        .unwrap();
    assert_eq!(g1["parent"], 200);
}

/// `n` processes, each the child of the one before (`chain`) or all
/// children of the first.
fn many(path: &std::path::Path, n: i32, chain: bool) {
    let mut g = Gen::new(path, &["root"], 1 << 20);
    g.call(1, 39, [0; 6], 1, 1);
    for i in 2..n + 2 {
        fork(&mut g, if chain { i - 1 } else { 1 }, i);
    }
    for i in (2..n + 2).rev() {
        die(&mut g, i, Termination::Exited(0));
    }
    die(&mut g, 1, Termination::Exited(0));
    g.finish();
}

#[test]
fn a_chain_20000_deep_and_20000_siblings_print_in_bounded_width() {
    let dir = tempfile::tempdir().unwrap();
    for chain in [true, false] {
        let p = tmp(&dir, "many.bin");
        many(&p, 20_000, chain);
        let out = stdout(&analyze(&["tree", p.to_str().unwrap()]));
        assert_eq!(out.lines().count(), 20_001);
        let widest = out.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(widest < 140, "{chain}: {widest}");
        if chain {
            assert!(
                out.lines().last().unwrap().contains("[depth 20000] 20001 "),
                "{}",
                out.lines().last().unwrap()
            );
        }
        // The overview shows three levels (or eight children) and counts the rest.
        let o = stdout(&analyze(&[p.to_str().unwrap()]));
        assert!(
            o.contains(if chain {
                "... 19998 more processes"
            } else {
                "... 19992 more children (19992 processes)"
            }),
            "{o}"
        );
        assert!(o.len() < 20_000, "{}", o.len());
    }
}

#[test]
fn summary_per_process_counts_a_reused_pid_as_two_processes() {
    let dir = tempfile::tempdir().unwrap();
    // One chunk, and a chunk per record (a lifetime that goes on across
    // chunks, a rebirth at a chunk's start).
    for chunk_bytes in [1 << 20, 1] {
        let p = tmp(&dir, "reuse.bin");
        let mut g = Gen::new(&p, &["init"], chunk_bytes);
        g.call(1, 39, [0; 6], 1, 1);
        fork(&mut g, 1, 200);
        for _ in 0..2 {
            g.call(200, 39, [0; 6], 200, 1);
        }
        die(&mut g, 200, Termination::Exited(0));
        fork(&mut g, 1, 300);
        fork(&mut g, 300, 200);
        for _ in 0..3 {
            g.call(200, 39, [0; 6], 200, 1);
        }
        g.call(200, 1, [1, 0, 5, 0, 0, 0], 5, 1);
        die(&mut g, 200, Termination::Exited(1));
        g.finish();
        let path = p.to_str().unwrap();
        let v: serde_json::Value = serde_json::from_str(&stdout(&analyze(&[
            "summary",
            "--per-process",
            "--json",
            path,
        ])))
        .unwrap();
        let rows: Vec<(i64, i64, i64)> = v["processes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["pid"] == 200)
            .map(|p| {
                let calls = |n: &str| {
                    p["syscalls"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|s| s["name"] == n)
                        .map_or(0, |s| s["calls"].as_i64().unwrap())
                };
                (
                    p["generation"].as_i64().unwrap(),
                    calls("getpid"),
                    calls("write"),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [(0, 2, 0), (1, 3, 1)],
            "chunk_bytes {chunk_bytes}: {v}"
        );
        let text = stdout(&analyze(&["summary", "--per-process", path]));
        assert!(text.contains("process 200 \n"), "{text}");
        assert!(text.contains("process 200#1 \n"), "{text}");
    }
}
