//! Every view of `analyze` on synthetic traces (snapshots), the JSON shapes
//! of the contract, and the failure messages.

use crate::helpers::*;
use ptrec_format::Trace;

fn forktree_trace() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "t.bin");
    forktree(&p);
    let s = p.to_str().unwrap().to_string();
    (dir, s)
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+/", "[TMP]/");
    s
}

#[test]
fn summary_table_snapshot() {
    let (_d, p) = forktree_trace();
    settings().bind(|| insta::assert_snapshot!(stdout(&analyze(&["summary", &p]))));
}

#[test]
fn summary_alias_dash_c_equals_summary() {
    let (_d, p) = forktree_trace();
    assert_eq!(
        stdout(&analyze(&["-c", &p])),
        stdout(&analyze(&["summary", &p]))
    );
}

#[test]
fn summary_sorted_by_calls_wall_time_and_percentiles_snapshot() {
    let (_d, p) = forktree_trace();
    settings().bind(|| {
        insta::assert_snapshot!(stdout(&analyze(&[
            "summary",
            "-S",
            "calls",
            "-w",
            "--percentiles",
            &p
        ])))
    });
}

#[test]
fn summary_per_process_snapshot() {
    let (_d, p) = forktree_trace();
    settings()
        .bind(|| insta::assert_snapshot!(stdout(&analyze(&["summary", "--per-process", &p]))));
}

#[test]
fn tree_snapshot() {
    let (_d, p) = forktree_trace();
    settings().bind(|| insta::assert_snapshot!(stdout(&analyze(&["tree", &p]))));
}

#[test]
fn replay_snapshot() {
    let (_d, p) = forktree_trace();
    settings().bind(|| insta::assert_snapshot!(stdout(&analyze(&["replay", "-T", "-tt", &p]))));
}

#[test]
fn replay_filters_by_class_and_pid() {
    let (_d, p) = forktree_trace();
    let out = stdout(&analyze(&["replay", "-e", "trace=%file", &p]));
    assert!(
        out.contains("openat(AT_FDCWD, \"/etc/nonexistent\""),
        "{out}"
    );
    assert!(!out.contains("write("), "{out}");
    let out = stdout(&analyze(&["replay", "-p", "101", &p]));
    assert!(out.contains("write(1, \"hello\\n\", 6)"), "{out}");
    assert!(!out.contains("[pid   100]"), "{out}");
}

#[test]
fn info_snapshot() {
    let (_d, p) = forktree_trace();
    settings().bind(|| insta::assert_snapshot!(stdout(&analyze(&["info", &p]))));
}

#[test]
fn overview_snapshot() {
    let (_d, p) = forktree_trace();
    settings().bind(|| insta::assert_snapshot!(stdout(&analyze(&[&p]))));
}

#[test]
fn tree_json_has_the_contract_shape() {
    let (_d, p) = forktree_trace();
    let raw = stdout(&analyze(&["tree", "--json", &p]));
    // Keys in the contract's order.
    let at = |k: &str| raw.find(&format!("\"{k}\"")).unwrap();
    assert!(at("pid") < at("parent") && at("parent") < at("threads"));
    assert!(at("threads") < at("execs") && at("execs") < at("exit"));
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let procs = v["processes"].as_array().unwrap();
    assert_eq!(procs.len(), 3);
    for p in procs {
        let mut keys: Vec<&str> = p.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        keys.sort_unstable();
        // The contract's five and start/end/cwd (analyzer/VIEWS.md).
        assert_eq!(
            keys,
            ["cwd", "end", "execs", "exit", "parent", "pid", "start", "threads"],
            "{keys:?}"
        );
        for k in ["start", "end"] {
            let w = p[k]["wall"].as_str().unwrap();
            assert!(
                w.starts_with("2023-11-14T22:13:20.") && w.ends_with('Z'),
                "{w}"
            );
            assert!(p[k]["relative"].as_f64().unwrap() < 0.001);
        }
        assert_eq!(p["cwd"], "/tmp");
    }
    assert_eq!(procs[0]["pid"], 100);
    assert!(procs[0]["parent"].is_null());
    assert_eq!(procs[0]["threads"], serde_json::json!([100, 102]));
    assert_eq!(procs[0]["exit"], serde_json::json!({"code": 3}));
    assert_eq!(procs[1]["pid"], 101);
    assert_eq!(procs[1]["parent"], 100);
    assert_eq!(procs[1]["exit"], serde_json::json!({"signal": "SIGKILL"}));
    // Non-leader exec: the exec belongs to 103, "tid" is the thread that called execve.
    assert_eq!(procs[2]["pid"], 103);
    assert_eq!(procs[2]["parent"], 101);
    assert_eq!(procs[2]["threads"], serde_json::json!([103, 104]));
    let e = &procs[2]["execs"][0];
    assert_eq!(e["tid"], 104);
    assert_eq!(e["filename"], "/usr/bin/true");
    assert_eq!(e["argv"], serde_json::json!(["true"]));
    assert_eq!(e["cwd"], "/tmp");
    assert!(e["time"]["relative"].as_f64().unwrap() > 0.0);
    assert_eq!(procs[2]["exit"], serde_json::json!({"code": 0}));
}

#[test]
fn summary_json_has_the_contract_shape() {
    let (_d, p) = forktree_trace();
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&analyze(&["summary", "--json", &p]))).unwrap();
    let rows = v["syscalls"].as_array().unwrap();
    let openat = rows.iter().find(|r| r["name"] == "openat").unwrap();
    assert_eq!(openat["calls"], 1);
    assert_eq!(openat["errors"], 1);
    assert!(openat["seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(v["total"]["errors"], 1);
    // exit_group (twice) never returned, execve twice: each entry counts.
    let calls = |n: &str| rows.iter().find(|r| r["name"] == n).unwrap()["calls"].clone();
    assert_eq!(calls("exit_group"), 2);
    assert_eq!(calls("execve"), 2);
    assert_eq!(calls("clone"), 3);
    let total: u64 = rows.iter().map(|r| r["calls"].as_u64().unwrap()).sum();
    assert_eq!(v["total"]["calls"], total);
    let keys: Vec<&str> = v["total"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys, ["calls", "errors", "seconds"]);

    let v: serde_json::Value = serde_json::from_str(&stdout(&analyze(&[
        "summary",
        "--per-process",
        "--json",
        &p,
    ])))
    .unwrap();
    let procs = v["processes"].as_array().unwrap();
    assert_eq!(
        procs
            .iter()
            .map(|p| p["pid"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [100, 101, 103]
    );
    assert!(procs[0]["syscalls"].is_array() && procs[0]["total"].is_object());
}

#[test]
fn syscall_pairs_straddling_chunks_are_stitched() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "many.bin");
    many_calls(&p, 3000);
    // The fixture must really put an exit at the start of some chunk.
    let t = Trace::open(&p).unwrap();
    assert!(t.chunks().len() > 3);
    let straddles = (0..t.chunks().len())
        .filter(|&i| {
            let d = t.read_chunk(i).unwrap();
            let first = d.records().next().unwrap().unwrap();
            matches!(first, ptrec_format::Record::SyscallExit { .. })
        })
        .count();
    assert!(straddles > 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&analyze(&[
        "summary",
        "--json",
        p.to_str().unwrap(),
    ])))
    .unwrap();
    let row = &v["syscalls"][0];
    assert_eq!(row["name"], "getppid");
    assert_eq!(row["calls"], 3000);
    // 1 us of CPU per call: every pair, stitched or not, counted once.
    assert!(
        (row["seconds"].as_f64().unwrap() - 0.003).abs() < 1e-9,
        "{row}"
    );
    assert_eq!(v["syscalls"][1]["errors"], 1);
}

#[test]
fn truncated_trace_is_analyzed_up_to_the_cut_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "cut.bin");
    many_calls(&p, 3000);
    let len = std::fs::metadata(&p).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(len * 2 / 3).unwrap();
    let o = analyze(&["summary", "--json", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("warning: ") && err.contains("trace cut at byte"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let calls = v["syscalls"][0]["calls"].as_u64().unwrap();
    assert!(calls > 500 && calls < 3000, "{calls}");
}

#[test]
fn every_view_goes_on_past_a_corrupt_chunk_and_names_it_and_strict_makes_it_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "bad.bin");
    many_calls(&p, 3000);
    let t = Trace::open(&p).unwrap();
    let n = t.chunks().len();
    let off = t.chunks()[1].offset + 48 + 10;
    drop(t);
    let mut b = std::fs::read(&p).unwrap();
    b[off as usize] ^= 0xff;
    std::fs::write(&p, &b).unwrap();
    let ps = p.to_str().unwrap();
    for args in [
        vec!["summary", ps],
        vec!["tree", ps],
        vec!["replay", ps],
        vec!["replay", "-y", ps],
        vec!["replay", "--json", ps],
        vec![ps],
        vec!["failures", ps],
        vec!["files", ps],
        vec!["slow", ps],
    ] {
        let o = analyze(&args);
        assert!(o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("warning: ") && err.contains("chunk 1 skipped: "),
            "{args:?}: {err}"
        );
        // Replay prints the records of the other chunks; the other views
        // count them.
        let done = if args[0] == "replay" {
            "shown"
        } else {
            "analyzed"
        };
        assert!(
            err.trim_end()
                .ends_with(&format!("; the other chunks are {done}")),
            "{args:?}: {err}"
        );
        assert!(!o.stdout.is_empty(), "{args:?}");
    }
    // The other chunks are all counted: fewer calls than recorded, but most.
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&analyze(&["summary", "--json", ps]))).unwrap();
    let calls = v["syscalls"][0]["calls"].as_u64().unwrap();
    assert!(
        calls < 3000 && calls > 3000 * (n as u64 - 2) / n as u64,
        "{calls} of 3000, {n} chunks"
    );
    for args in [
        vec!["summary", "--strict", ps],
        vec!["replay", "--strict", ps],
        vec!["tree", "--strict", ps],
    ] {
        let o = analyze(&args);
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: ") && err.contains("chunk 1"),
            "{err}"
        );
    }
    let o = analyze(&["info", ps]);
    assert!(!o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("integrity:        FAILED") && out.contains("chunk 1"),
        "{out}"
    );
}

#[test]
fn not_a_trace_and_missing_file_are_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "x.txt");
    std::fs::write(&p, b"hello world, this is not a trace at all......").unwrap();
    for args in [
        vec!["summary", p.to_str().unwrap()],
        vec!["info", "/nonexistent/trace.bin"],
    ] {
        let o = analyze(&args);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
    }
    let err =
        String::from_utf8_lossy(&analyze(&["summary", p.to_str().unwrap()]).stderr).to_string();
    assert!(err.contains("not a ptrec trace"), "{err}");
}

#[test]
fn empty_file_and_newer_format_version_are_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tmp(&dir, "empty.bin");
    std::fs::write(&empty, b"").unwrap();
    let newer = tmp(&dir, "newer.bin");
    many_calls(&newer, 10);
    let mut b = std::fs::read(&newer).unwrap();
    // The version is the u32 after the 8-byte magic (FORMAT.md, the prefix).
    b[8..12].copy_from_slice(&(ptrec_format::FORMAT_VERSION + 1).to_le_bytes());
    std::fs::write(&newer, &b).unwrap();
    for (p, want) in [
        (&empty, "empty file, not a ptrec trace".to_string()),
        (
            &newer,
            format!(
                "trace format version {} is newer than this reader supports ({}); upgrade ptrec",
                ptrec_format::FORMAT_VERSION + 1,
                ptrec_format::FORMAT_VERSION
            ),
        ),
    ] {
        for cmd in ["summary", "info", "replay", "tree"] {
            let o = analyze(&[cmd, p.to_str().unwrap()]);
            assert_eq!(o.status.code(), Some(1), "{cmd}");
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(err.lines().count(), 1, "{cmd}: {err}");
            assert!(
                err.starts_with("error: ") && err.contains(&want),
                "{cmd}: {err}"
            );
        }
    }
}

#[test]
fn unknown_arch_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "odd.bin");
    // i386, and aarch64's audit arch with x86_64's register layout.
    for (arch, layout) in [(0x4000_0003, 1), (0xC000_00B7, 1)] {
        let mut h = header(&["x"]);
        (h.arch, h.reg_layout) = (arch, layout);
        let w = ptrec_format::Writer::create(&p, &h, Default::default()).unwrap();
        w.finish().unwrap();
        for view in ["summary", "replay", "tree", "info"] {
            let o = analyze(&[view, p.to_str().unwrap()]);
            assert!(!o.status.success());
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                err.contains(&format!(
                    "unsupported architecture {arch:#x} with register layout 1"
                )),
                "{view}: {err}"
            );
            assert_eq!(err.lines().count(), 1, "{view}: {err}");
        }
    }
}

#[test]
fn closed_stdout_pipe_exits_quietly() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "many.bin");
    many_calls(&p, 20000);
    let mut c = Command::new(env!("CARGO_BIN_EXE_analyze"))
        .args(["replay", p.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(c.stdout.take());
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success(), "{:?}", o.status);
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn replay_joins_a_syscall_pair_split_by_a_chunk_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "many.bin");
    many_calls(&p, 3000);
    let out = stdout(&analyze(&["replay", p.to_str().unwrap()]));
    assert!(!out.contains("unfinished"), "{out}");
    assert!(!out.contains("resumed"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("getppid() ")).count(),
        3000
    );
    assert_eq!(out.lines().count(), 3001);
    assert!(out.ends_with("= -1 EACCES (Permission denied)\n"), "{out}");
}

/// A shell that forks 12 children, each exec'ing a command with 300
/// arguments.
fn wide_tree(path: &std::path::Path) {
    use ptrec_format::{ChildKind, Record, Termination};
    let mut g = Gen::new(path, &["sh"], 1 << 20);
    let args: Vec<String> = (0..300).map(|i| format!("--flag-{i}")).collect();
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    for k in 0..12 {
        let child = 200 + k;
        g.enter(100, 57, [0; 6], &[]);
        let t = g.tick();
        g.put(Record::NewChild {
            tid: 100,
            time: t,
            child,
            kind: ChildKind::Fork,
            flags: 0,
            inferred: false,
        });
        g.exit(100, 57, i64::from(child), 5, &[]);
        let t = g.tick();
        g.put(Record::Exec {
            tid: child,
            time: t,
            former_tid: child,
            filename: b"/usr/bin/cc",
            argv: argv.clone(),
            argv_redacted: Vec::new(),
        });
        let t = g.tick();
        g.put(Record::Death {
            tid: child,
            time: t,
            how: Termination::Exited(0),
        });
    }
    let t = g.tick();
    g.put(Record::Death {
        tid: 100,
        time: t,
        how: Termination::Exited(0),
    });
    g.finish();
}

#[test]
fn overview_shows_eight_children_and_cuts_long_argument_lists_but_tree_shows_all() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "wide.bin");
    wide_tree(&p);
    let p = p.to_str().unwrap();
    let overview = stdout(&analyze(&[p]));
    assert_eq!(
        overview.matches("exec \"/usr/bin/cc\"").count(),
        8,
        "{overview}"
    );
    assert!(
        overview.contains("└─ ... 4 more children (4 processes)"),
        "{overview}"
    );
    assert!(overview.contains("... (300 arguments)]"), "{overview}");
    assert!(!overview.contains("--flag-299"), "{overview}");
    assert!(overview.lines().all(|l| l.len() < 400), "{overview}");
    let tree = stdout(&analyze(&["tree", p]));
    assert_eq!(tree.matches("exec \"/usr/bin/cc\"").count(), 12, "{tree}");
    assert_eq!(tree.matches("\"--flag-299\"").count(), 12);
    assert!(!tree.contains("more children"));
}

#[test]
fn replay_names_flags_and_enumerations_as_strace_does() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "flags.bin");
    let mut g = Gen::new(&p, &["x"], 1 << 20);
    let minus1 = u64::MAX;
    g.call(7, 9, [0, 8192, 3, 0x22, minus1, 0], 0x7f00_0000_0000, 1);
    g.call(
        7,
        9,
        [0x7f00_0000_0000, 4096, 5, 0x812, 3, 0x1000],
        0x7f00_0000_0000,
        1,
    );
    g.call(7, 10, [0x7f00_0000_0000, 4096, 0, 0, 0, 0], 0, 1);
    g.call(7, 202, [0x5000, 129, 2147483647, 0, 0, 0], 0, 1);
    g.call(7, 158, [0x1002, 0x7f00_0000_1000, 0, 0, 0, 0], 0, 1);
    g.call(7, 302, [0, 3, 0, 0x6000, 0, 0], 0, 1);
    g.call(7, 221, [3, 0, 0, 2, 0, 0], 0, 1);
    g.call(7, 334, [0x7000, 0x20, 0, 0x53053053, 0, 0], 0, 1);
    g.call(7, 202, [0x5000, 128, 1, 0, 0, 0], 0, 1);
    g.call(7, 302, [0, 7, 0, 0, 0, 0], 0, 1);
    let mut lim = (8192u64 * 1024).to_le_bytes().to_vec();
    lim.extend_from_slice(&u64::MAX.to_le_bytes());
    g.enter(7, 302, [0, 3, 0, 0x6000, 0, 0], &[]);
    g.exit(
        7,
        302,
        0,
        1,
        &[(3, ptrec_format::mem_flags::AT_EXIT, 0x6000, &lim)],
    );
    // struct stat of /dev/null: S_IFCHR|0666, st_rdev makedev(1, 3).
    let mut st = vec![0u8; 144];
    st[24..28].copy_from_slice(&0o20666u32.to_le_bytes());
    st[40..48].copy_from_slice(&0x103u64.to_le_bytes());
    g.enter(
        7,
        262,
        [1, 0x8000, 0x9000, 0x1000, 0, 0],
        &[(1, S, 0x8000, b"")],
    );
    g.exit(
        7,
        262,
        0,
        1,
        &[(2, ptrec_format::mem_flags::AT_EXIT, 0x9000, &st)],
    );
    g.call(7, 41, [1, 0o2004001, 0, 0, 0, 0], 3, 1);
    g.call(7, 8, [3, 0, 0, 0, 0, 0], 0, 1);
    g.call(7, 16, [1, 0x5401, 0x7000, 0, 0, 0], -25, 1);
    g.call(7, 217, [3, 0x7100, 32768, 0, 0, 0], 0, 1);
    // rt_sigaction(SIGPIPE, {handler, SA_RESTORER|SA_RESTART, restorer,
    // [PIPE]}, old = default) and rt_sigprocmask(SIG_BLOCK, ~[KILL STOP]).
    let words = |w: [u64; 4]| w.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let act = words([0x5555_0000, 0x1400_0000, 0x7f00_0000_2000, 1 << 12]);
    let old = words([0, 0, 0, 0]);
    let x = ptrec_format::mem_flags::AT_EXIT;
    g.enter(
        7,
        13,
        [13, 0xa000, 0xb000, 8, 0, 0],
        &[(1, 0, 0xa000, &act)],
    );
    g.exit(7, 13, 0, 1, &[(2, x, 0xb000, &old)]);
    let all = !((1u64 << 8) | (1 << 18));
    g.enter(
        7,
        14,
        [0, 0xc000, 0, 8, 0, 0],
        &[(1, 0, 0xc000, &all.to_le_bytes())],
    );
    g.exit(7, 14, 0, 1, &[]);
    g.enter(7, 79, [0xd000, 4096, 0, 0, 0, 0], &[]);
    g.exit(7, 79, 5, 1, &[(0, x, 0xd000, b"/tmp\0")]);
    g.call(7, 72, [3, 1, 0, 0, 0, 0], 1, 1);
    g.call(7, 72, [3, 2, 1, 0, 0, 0], 0, 1);
    let mut sticky = vec![0u8; 144];
    sticky[24..28].copy_from_slice(&0o41777u32.to_le_bytes());
    sticky[48..56].copy_from_slice(&4096u64.to_le_bytes());
    g.enter(
        7,
        262,
        [-100i64 as u64, 0xe000, 0xf000, 0, 0, 0],
        &[(1, S, 0xe000, b"/tmp")],
    );
    g.exit(7, 262, 0, 1, &[(2, x, 0xf000, &sticky)]);
    // An int argument whose register holds -1 zero-extended.
    g.call(7, 61, [0xffff_ffff, 0, 0x4000_0000, 0, 0, 0], 5, 1);
    g.call(7, 56, [0x1200011, 0, 0, 0x7000, 0, 0], 5, 1);
    g.finish();
    let out = stdout(&analyze(&["replay", p.to_str().unwrap()]));
    let calls: Vec<String> = out
        .lines()
        .map(|l| {
            l.split(" = ")
                .next()
                .unwrap_or_default()
                .trim_end()
                .to_string()
        })
        .collect();
    assert_eq!(
        calls,
        [
            "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
            "mmap(0x7f0000000000, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x1000)",
            "mprotect(0x7f0000000000, 4096, PROT_NONE)",
            "futex(0x5000, FUTEX_WAKE_PRIVATE, 2147483647)",
            "arch_prctl(ARCH_SET_FS, 0x7f0000001000)",
            "prlimit64(0, RLIMIT_STACK, NULL, 0x6000)",
            "fadvise64(3, 0, 0, POSIX_FADV_SEQUENTIAL)",
            "rseq(0x7000, 0x20, 0, 0x53053053)",
            "futex(0x5000, FUTEX_WAIT_PRIVATE, 1, NULL)",
            "prlimit64(0, RLIMIT_NOFILE, NULL, NULL)",
            "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY})",
            "newfstatat(1, \"\", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, AT_EMPTY_PATH)",
            "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0)",
            "lseek(3, 0, SEEK_SET)",
            "ioctl(1, TCGETS, 0x7000)",
            "getdents64(3, 0x7100 /* 0 entries */, 32768)",
            "rt_sigaction(SIGPIPE, {sa_handler=0x55550000, sa_mask=[PIPE], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f0000002000}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8)",
            "rt_sigprocmask(SIG_BLOCK, ~[KILL STOP], NULL, 8)",
            "getcwd(\"/tmp\", 4096)",
            "fcntl(3, F_GETFD)",
            "fcntl(3, F_SETFD, FD_CLOEXEC)",
            "newfstatat(AT_FDCWD, \"/tmp\", {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}, 0)",
            "wait4(-1, NULL, __WALL, NULL)",
            "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7000)",
        ],
        "{out}"
    );
    assert!(
        out.contains("= -1 ENOTTY (Inappropriate ioctl for device)"),
        "glibc's wording, as strace prints it: {out}"
    );
}

#[test]
fn a_format_version_1_trace_still_reads_in_every_view() {
    let golden = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../format/tests/data/golden-v1.bin"
    );
    let info = stdout(&analyze(&["info", golden]));
    assert!(info.contains("format version:   1\n"), "{info}");
    assert!(info.contains("integrity:        ok"), "{info}");
    let summary = stdout(&analyze(&["summary", golden]));
    assert!(
        summary.contains("100.00    0.000006           1         6         3 total"),
        "{summary}"
    );
    let replay = stdout(&analyze(&["replay", golden]));
    assert!(
        replay.starts_with("[pid   100] read(4110, \"hello\", 4108)   = 5\n"),
        "{replay}"
    );
    for view in [&["tree"][..], &[][..]] {
        let mut args = view.to_vec();
        args.push(golden);
        assert!(analyze(&args).status.success(), "{view:?}");
    }
}

#[test]
fn a_duplicated_chunk_is_left_out_and_named_and_info_says_integrity_failed() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "dup.bin");
    many_calls(&p, 3000);
    let t = Trace::open(&p).unwrap();
    let c = t.chunks();
    let (c0, c1) = (c[0].offset as usize, c[1].offset as usize);
    let last = c[c.len() - 1];
    let end = (last.offset + 48 + u64::from(last.header.compressed_len)) as usize;
    drop(t);
    let b = std::fs::read(&p).unwrap();
    // Chunk 0 twice, then the rest, without the trailer.
    let mut forged = b[..c1].to_vec();
    forged.extend_from_slice(&b[c0..c1]);
    forged.extend_from_slice(&b[c1..end]);
    let q = tmp(&dir, "forged.bin");
    std::fs::write(&q, &forged).unwrap();
    let qs = q.to_str().unwrap();
    let o = analyze(&["summary", "--json", qs]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("chunk 1 at byte") && err.contains("skipped"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // Counted once, not 50% more.
    assert_eq!(v["syscalls"][0]["calls"], 3000, "{v}");
    let o = analyze(&["summary", "--strict", qs]);
    assert!(!o.status.success());
    let o = analyze(&["info", qs]);
    assert!(!o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("integrity:        FAILED"), "{out}");
    assert!(!out.contains("integrity:        ok"), "{out}");
}
