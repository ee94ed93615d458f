//! The postmortem views on recordings made here: `failures` on a make
//! whose compiler cannot find a header, `output` reconstructing what a
//! pipeline printed byte for byte, `files` with exact counts on a program
//! of known I/O; and the JSON of each view against the documented schema
//! (analyzer/VIEWS.md).

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use ptrec_tests::{analyze, analyze_bytes, bin, tracee};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `rec -q -o DIR/trace.bin [extra] -- cmd` in `dir`; rec's stdout and
/// stderr (the command's) are returned with the trace's path.
fn record(dir: &Path, extra: &[&str], cmd: &[&str]) -> (PathBuf, Output) {
    let trace = dir.join("trace.bin");
    let o = Command::new(bin("rec"))
        .current_dir(dir)
        .args(["-q", "-o"])
        .arg(&trace)
        .args(extra)
        .arg("--")
        .args(cmd)
        .stdin(Stdio::null())
        .output()
        .expect("rec runs");
    assert!(trace.exists(), "{}", String::from_utf8_lossy(&o.stderr));
    (trace, o)
}

fn json(args: &[&str], trace: &Path) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    serde_json::from_str(&analyze(&a, trace)).unwrap()
}

/// The object's keys are exactly `keys`.
fn keys(v: &Value, keys: &[&str]) {
    let got: BTreeSet<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    let want: BTreeSet<&str> = keys.iter().copied().collect();
    assert_eq!(got, want, "in {v}");
}

/// The JSON example documented for `heading` in analyzer/VIEWS.md (the
/// first ```json block after the `## ` line that starts with it), without
/// its `//` comments.
fn documented(heading: &str) -> Value {
    let doc = include_str!("../../analyzer/VIEWS.md");
    let at = doc
        .find(&format!("\n## {heading}"))
        .unwrap_or_else(|| panic!("VIEWS.md has no section {heading}"));
    let rest = &doc[at..];
    let start = rest.find("```json\n").unwrap() + 8;
    let end = start + rest[start..].find("```").unwrap();
    let text: String = rest[start..end]
        .lines()
        .map(|l| l.split(" //").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("VIEWS.md {heading}: {e}\n{text}"))
}

/// `actual` has the documented shape: the same keys in every object (but
/// in `free` ones, whose keys vary: an errno map, an exit union), each
/// array element shaped as the documented first one, values of the same
/// JSON type (null matches anything).
fn same_shape(doc: &Value, actual: &Value, at: &str, free: &[&str]) {
    match (doc, actual) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(d), Value::Object(a)) => {
            let dk: BTreeSet<&String> = d.keys().collect();
            let ak: BTreeSet<&String> = a.keys().collect();
            assert_eq!(dk, ak, "keys at {at}");
            for (k, dv) in d {
                if !free.contains(&k.as_str()) {
                    same_shape(dv, &a[k], &format!("{at}.{k}"), free);
                }
            }
        }
        (Value::Array(d), Value::Array(a)) => {
            if let Some(d0) = d.first() {
                for (i, x) in a.iter().enumerate() {
                    same_shape(d0, x, &format!("{at}[{i}]"), free);
                }
            }
        }
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_)) => {}
        (d, a) => panic!("{at}: documented {d}, got {a}"),
    }
}

/// `v` is shaped as VIEWS.md documents `heading`'s JSON.
fn schema(heading: &str, v: &Value) {
    same_shape(&documented(heading), v, heading, &["exit", "errors"]);
}

fn canonical(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

fn make_project(dir: &Path) {
    std::fs::write(
        dir.join("Makefile"),
        "all: a.o b.o\n%.o: %.c\n\tcc -c $< -o $@\n",
    )
    .unwrap();
    std::fs::write(dir.join("a.c"), "#include \"missing.h\"\nint a;\n").unwrap();
    std::fs::write(dir.join("b.c"), "int b;\n").unwrap();
}

#[test]
fn failures_of_a_make_with_a_missing_header_name_the_compiler_first() {
    let d = tempfile::tempdir().unwrap();
    make_project(d.path());
    let (trace, o) = record(d.path(), &[], &["make", "-j2"]);
    assert_eq!(o.status.code(), Some(2), "make fails");
    let dir = canonical(d.path());
    let v = json(&["failures"], &trace);
    keys(&v, &["ok", "processes", "unfinished", "failures"]);
    schema("`analyze failures", &v);
    assert_eq!(v["ok"], false);
    let f = v["failures"].as_array().unwrap();
    for x in f {
        keys(
            x,
            &[
                "pid",
                "parent",
                "argv",
                "executable",
                "cwd",
                "start",
                "end",
                "exit",
                "stderr",
                "stderr_incomplete",
                "failed_files",
                "last_syscalls",
            ],
        );
        keys(&x["start"], &["relative", "wall"]);
        assert!(x["start"]["wall"].as_str().unwrap().ends_with('Z'));
        assert_eq!(x["cwd"], dir.as_str());
    }
    // The compiler proper (cc1) first, then the cc driver, make last.
    let exe = |x: &Value| x["executable"].as_str().unwrap().to_string();
    assert!(exe(&f[0]).ends_with("/cc1"), "{}", f[0]);
    assert_eq!(f[0]["exit"], serde_json::json!({"code": 1}));
    assert!(f[0]["argv"].as_array().unwrap().iter().any(|a| a == "a.c"));
    let stderr: Vec<&str> = f[0]["stderr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("fatal error: missing.h: No such file or directory")),
        "{stderr:?}"
    );
    let missing = format!("{dir}/missing.h");
    let ff = f[0]["failed_files"].as_array().unwrap();
    let m = ff
        .iter()
        .find(|x| x["path"] == missing.as_str())
        .unwrap_or_else(|| panic!("{missing} not in {ff:?}"));
    keys(
        m,
        &["path", "errno", "count", "syscalls", "found_elsewhere"],
    );
    assert_eq!(m["errno"], "ENOENT");
    assert_eq!(m["found_elsewhere"], false);
    assert!(m["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "openat"));
    assert!(f[0]["last_syscalls"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .starts_with("exit_group(1)"));
    let last = f.last().unwrap();
    assert_eq!(last["argv"], serde_json::json!(["make", "-j2"]));
    assert_eq!(last["exit"], serde_json::json!({"code": 2}));
    let cc = f
        .iter()
        .position(|x| exe(x).ends_with("/cc") || x["argv"][0] == "cc")
        .expect("the cc driver failed too");
    assert!(cc > 0 && cc < f.len() - 1);
    // The text view and the overview lead with the compiler and its error.
    let text = analyze(&["failures"], &trace);
    assert!(text.contains("(cc1) exited 1"), "{text}");
    assert!(text.contains("fatal error: missing.h: No such file or directory"));
    // gcc quotes the line it could not compile: shown as it printed it.
    assert!(text.contains("| #include \"missing.h\""), "{text}");
    assert!(
        analyze(&["output"], &trace).contains("| #include \"missing.h\""),
        "{text}"
    );
    assert!(
        text.contains(&format!("ENOENT      1x  {missing}  (openat)")),
        "{text}"
    );
    let ov = json(&[], &trace);
    schema("`analyze [--json]", &ov);
    assert_eq!(ov["failures"], v);
    assert_eq!(ov["command"], serde_json::json!(["make", "-j2"]));
    let tree = json(&["tree"], &trace);
    schema("`analyze tree --json", &tree);
    let procs = tree["processes"].as_array().unwrap();
    assert!(procs.iter().all(|p| p["cwd"] == dir.as_str()));
    assert!(procs
        .iter()
        .flat_map(|p| p["execs"].as_array().unwrap())
        .all(|e| e["cwd"] == dir.as_str() && e["time"]["wall"].is_string()));
    let overview = analyze(&[], &trace);
    let first: Vec<&str> = overview.lines().take(8).collect();
    assert!(first[0].contains("processes failed"), "{overview}");
    assert!(
        first.iter().any(|l| l.contains("(cc1) exited 1")),
        "{overview}"
    );
    assert!(overview.contains("fatal error: missing.h"), "{overview}");
}

#[test]
fn a_successful_trace_says_so_in_one_line() {
    let d = tempfile::tempdir().unwrap();
    let (trace, _) = record(d.path(), &[], &["sh", "-c", "true; /bin/true"]);
    let text = analyze(&["failures"], &trace);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("no process failed"), "{text}");
    let v = json(&["failures"], &trace);
    assert_eq!(v["ok"], true);
    assert_eq!(v["failures"], serde_json::json!([]));
}

#[test]
fn a_trace_cut_before_its_processes_end_does_not_say_they_exited_0() {
    let d = tempfile::tempdir().unwrap();
    // Long enough for the writer to seal a chunk by time before the end.
    let (trace, o) = record(
        d.path(),
        &[],
        &["sh", "-c", "/bin/true; sleep 0.7; /bin/true"],
    );
    assert!(o.status.success());
    let end = {
        let t = ptrec_format::Trace::open(&trace).unwrap();
        assert!(t.chunks().len() >= 2, "{} chunks", t.chunks().len());
        let c = &t.chunks()[0];
        c.offset as usize + ptrec_format::chunk::CHUNK_HEADER_LEN + c.header.compressed_len as usize
    };
    let b = std::fs::read(&trace).unwrap();
    std::fs::write(&trace, &b[..end + 10]).unwrap();
    let text = analyze(&["failures"], &trace);
    assert!(
        text.starts_with("no process failed: ")
            && text.contains("had not ended when the trace did"),
        "{text}"
    );
    assert!(!text.contains("every one exited 0"), "{text}");
    let v = json(&["failures"], &trace);
    assert_eq!(v["ok"], true);
    assert!(v["unfinished"].as_u64().unwrap() >= 1, "{v}");
    // Nothing read at all: no process to speak of.
    std::fs::write(&trace, &b[..end - 10]).unwrap();
    let text = analyze(&["failures"], &trace);
    assert_eq!(text, "no process failed: the trace holds no process\n");
}

/// A pipeline and two processes (the shell and ls) writing to one stderr.
const PIPELINE: &str = "echo start >&2; printf 'x1\\nx2\\n' | tr x z; \
                        ls /nonexistent-ptrec; echo end >&2; printf 'no newline'";

#[test]
fn output_of_a_pipeline_equals_what_it_printed_byte_for_byte() {
    let d = tempfile::tempdir().unwrap();
    let (trace, o) = record(d.path(), &[], &["sh", "-c", PIPELINE]);
    assert_eq!(o.stdout, b"z1\nz2\nno newline");
    assert!(o.stderr.starts_with(b"start\nls: "), "{:?}", o.stderr);
    assert_eq!(
        analyze_bytes(&["output", "--raw", "--fd", "1"], &trace),
        o.stdout
    );
    assert_eq!(
        analyze_bytes(&["output", "--raw", "--fd", "2"], &trace),
        o.stderr
    );
    // Both streams, in the order they were written.
    let both = analyze_bytes(&["output", "--raw"], &trace);
    assert_eq!(both.len(), o.stdout.len() + o.stderr.len());
    assert!(both.starts_with(b"start\nz1\nz2\nls: "), "{both:?}");
    // Each line under the process that wrote it.
    let by = analyze(&["output", "--by-process", "--fd", "2"], &trace);
    let lines: Vec<&str> = by.lines().collect();
    assert_eq!(lines.len(), 3, "{by}");
    assert!(lines[0].ends_with(" sh] start"), "{by}");
    assert!(lines[1].contains(" ls] ls: "), "{by}");
    assert!(lines[2].ends_with(" sh] end"), "{by}");
    // -p: what ls wrote to its own stderr, and nothing of the others.
    let ls_pid: String = lines[1][1..].split(' ').next().unwrap().to_string();
    let ls = analyze_bytes(&["output", "--raw", "-p", &ls_pid], &trace);
    assert!(ls.starts_with(b"ls: ") && ls.ends_with(b"\n"), "{ls:?}");
    assert_eq!(ls.iter().filter(|&&b| b == b'\n').count(), 1);
    let v = json(&["output"], &trace);
    keys(&v, &["writes", "cut_writes", "missing_bytes"]);
    schema("`analyze output", &v);
    for w in v["writes"].as_array().unwrap() {
        keys(
            w,
            &["pid", "tid", "fd", "stream", "time", "len", "data", "cut"],
        );
    }
    let joined: String = v["writes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["data"].as_str().unwrap())
        .collect();
    assert_eq!(joined.as_bytes(), &both[..]);
}

#[test]
fn output_marks_writes_cut_at_rec_s_and_escapes_control_bytes() {
    let d = tempfile::tempdir().unwrap();
    let (trace, o) = record(
        d.path(),
        &["-s", "8"],
        &[
            "sh",
            "-c",
            "printf '0123456789abcdef\\n'; printf 'bell\\a\\n'",
        ],
    );
    assert_eq!(o.stdout, b"0123456789abcdef\nbell\x07\n");
    let text = analyze(&["output"], &trace);
    assert_eq!(
        text, "01234567[rec -s: 9 more bytes not captured]bell\\7\n",
        "{text}"
    );
    let v = json(&["output"], &trace);
    assert_eq!(v["cut_writes"], 1);
    assert_eq!(v["missing_bytes"], 9);
    assert_eq!(v["writes"][0]["cut"], true);
    assert_eq!(v["writes"][0]["len"], 17);
}

#[test]
fn files_rows_of_a_program_with_known_io_are_exact() {
    let d = tempfile::tempdir().unwrap();
    let (trace, o) = record(d.path(), &[], &[tracee("files_io").to_str().unwrap()]);
    assert!(o.status.success());
    let dir = canonical(d.path());
    let v = json(&["files"], &trace);
    keys(&v, &["files"]);
    schema("`analyze files", &v);
    let rows = v["files"].as_array().unwrap();
    for r in rows {
        keys(
            r,
            &[
                "path",
                "opens",
                "stats",
                "execs",
                "creates",
                "unlinks",
                "renames",
                "other",
                "errors",
                "bytes_read",
                "bytes_written",
                "processes",
            ],
        );
        keys(&r["opens"], &["read", "write", "read_write"]);
    }
    let row = |p: &str| -> &Value {
        let p = format!("{dir}{p}");
        rows.iter()
            .find(|r| r["path"] == p.as_str())
            .unwrap_or_else(|| panic!("no row {p}"))
    };
    let counts = |r: &Value| -> Vec<u64> {
        [
            &r["opens"]["read"],
            &r["opens"]["write"],
            &r["opens"]["read_write"],
            &r["stats"],
            &r["execs"],
            &r["creates"],
            &r["unlinks"],
            &r["renames"],
            &r["bytes_read"],
            &r["bytes_written"],
        ]
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
    };
    //                          r  w rw st ex cr un rn  read written
    assert_eq!(counts(row("/data")), [1, 1, 0, 2, 0, 1, 0, 1, 123, 123]);
    assert_eq!(row("/data")["errors"], serde_json::json!({}));
    assert_eq!(counts(row("/data2")), [0, 0, 0, 0, 0, 0, 1, 1, 0, 0]);
    assert_eq!(counts(row("/missing")), [0; 10]);
    assert_eq!(row("/missing")["errors"], serde_json::json!({"ENOENT": 3}));
    assert_eq!(
        row("/sub/../rel")["errors"],
        serde_json::json!({"ENOENT": 1})
    );
    // writev 7 + pwrite 5 + 2 through a dup + 1 in a forked child.
    let rel = row("/rel");
    assert_eq!(counts(rel), [0, 0, 1, 0, 0, 1, 0, 0, 0, 15]);
    assert_eq!(rel["processes"].as_array().unwrap().len(), 2);
    assert_eq!(counts(row("")), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // PATTERN and -S: only the rows matching, largest first.
    let text = analyze(&["files", "-S", "written", "*/rel"], &trace);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].ends_with(&format!("{dir}/rel")), "{text}");
    assert!(lines[2].ends_with(&format!("{dir}/sub/../rel")), "{text}");
    // The trace first, as every other view takes it, reads the same.
    let o = Command::new(bin("analyze"))
        .args(["files", "-S", "written"])
        .arg(&trace)
        .arg("*/rel")
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(String::from_utf8(o.stdout).unwrap(), text);
}

#[test]
fn slow_names_a_known_slow_call_with_exact_latency() {
    let d = tempfile::tempdir().unwrap();
    let (trace, o) = record(d.path(), &[], &["sh", "-c", "sleep 0.3; true"]);
    assert!(o.status.success());
    let v = json(
        &["slow", "-n", "3", "-e", "trace=nanosleep,clock_nanosleep"],
        &trace,
    );
    keys(&v, &["slowest", "latency"]);
    schema("`analyze slow", &v);
    let s = v["slowest"].as_array().unwrap();
    assert_eq!(s.len(), 1, "one sleep: {v}");
    keys(
        &s[0],
        &["pid", "tid", "syscall", "call", "seconds", "start"],
    );
    keys(&s[0]["start"], &["relative", "wall"]);
    let secs = s[0]["seconds"].as_f64().unwrap();
    assert!((0.3..5.0).contains(&secs), "{secs}");
    let name = s[0]["syscall"].as_str().unwrap();
    assert!(s[0]["call"].as_str().unwrap().starts_with(name));
    let l = v["latency"].as_array().unwrap();
    assert_eq!(l.len(), 1, "-e keeps one syscall: {v}");
    keys(
        &l[0],
        &[
            "name",
            "calls",
            "total_ns",
            "p50_ns",
            "p90_ns",
            "p99_ns",
            "max_ns",
            "histogram",
        ],
    );
    // One call: every percentile is that call's latency, exactly.
    let ns = (secs * 1e9).round() as u64;
    for k in ["p50_ns", "p99_ns", "max_ns", "total_ns"] {
        assert_eq!(l[0][k].as_u64().unwrap(), ns, "{k}");
    }
    let h = l[0]["histogram"].as_array().unwrap();
    keys(&h[0], &["le_ns", "count"]);
    assert_eq!(
        h.iter().map(|b| b["count"].as_u64().unwrap()).sum::<u64>(),
        1
    );
    // Without -e the slowest call overall waits for that sleep.
    let all = json(&["slow", "-n", "1"], &trace);
    assert!(all["slowest"][0]["seconds"].as_f64().unwrap() >= secs);
    let text = analyze(&["slow", "-n", "2"], &trace);
    assert!(text.starts_with("2 slowest calls"), "{text}");
}

/// Counts in a Perfetto file, read back by Perfetto's own protos (the
/// `perfetto` PyPI package's perfetto_trace_pb2, on Python's protobuf).
fn perfetto_counts(file: &Path) -> Value {
    const SCRIPT: &str = r#"
import json, sys, zlib
from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as pb
def packets(data):
    t = pb.Trace()
    t.ParseFromString(data)
    for p in t.packet:
        if p.HasField("compressed_packets"):
            yield from packets(zlib.decompress(p.compressed_packets))
        else:
            yield p
E = pb.TrackEvent
out = {"begins": 0, "ends": 0, "instants": [], "flows": [], "terminating": [],
       "process_names": [], "threads": [], "slice_names": {}, "annotated": 0}
# Interned strings by sequence, valid until the sequence clears them.
interned = {}
for p in packets(open(sys.argv[1], "rb").read()):
    seq = p.trusted_packet_sequence_id
    if p.sequence_flags & pb.TracePacket.SEQ_INCREMENTAL_STATE_CLEARED:
        interned[seq] = {"names": {}, "annotations": {}, "values": {}}
    if p.HasField("interned_data"):
        i, t = p.interned_data, interned[seq]
        t["names"].update((n.iid, n.name) for n in i.event_names)
        t["annotations"].update((n.iid, n.name) for n in i.debug_annotation_names)
        t["values"].update((n.iid, n.str) for n in i.debug_annotation_string_values)
    if p.HasField("track_descriptor"):
        d = p.track_descriptor
        if d.HasField("process"):
            out["process_names"].append(d.process.process_name)
        if d.HasField("thread"):
            out["threads"].append(d.thread.tid)
    if p.HasField("track_event"):
        e = p.track_event
        t = interned.get(seq, {"names": {}, "annotations": {}, "values": {}})
        name = t["names"][e.name_iid] if e.HasField("name_iid") else e.name
        out["flows"] += list(e.flow_ids)
        out["terminating"] += list(e.terminating_flow_ids)
        if e.type == E.TYPE_SLICE_BEGIN:
            out["begins"] += 1
            out["slice_names"][name] = out["slice_names"].get(name, 0) + 1
            names = {t["annotations"][a.name_iid] if a.HasField("name_iid") else a.name
                     for a in e.debug_annotations}
            for a in e.debug_annotations:
                if a.HasField("string_value_iid"):
                    assert a.string_value_iid in t["values"], a
            if {"args", "return"} <= names:
                out["annotated"] += 1
        elif e.type == E.TYPE_SLICE_END:
            out["ends"] += 1
        elif e.type == E.TYPE_INSTANT:
            out["instants"].append(name)
print(json.dumps(out))
"#;
    let o = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(file)
        .output()
        .expect("python3 runs (tests/run installs it and tests/requirements.txt)");
    assert!(
        o.status.success(),
        "reading the timeline with perfetto's protos failed (pip install -r tests/requirements.txt): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Children the tree says were created: processes with a parent and
/// threads beyond each leader.
fn children(trace: &Path) -> u64 {
    let tree = json(&["tree"], trace);
    tree["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            u64::from(!p["parent"].is_null()) + p["threads"].as_array().unwrap().len() as u64 - 1
        })
        .sum()
}

#[test]
fn timeline_read_back_by_perfetto_protos_has_a_slice_per_call_and_a_flow_per_child() {
    let d = tempfile::tempdir().unwrap();
    for name in ["forktree", "exec_thread"] {
        let sub = d.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        let exe = tracee(name);
        let (trace, _) = record(&sub, &[], &[exe.to_str().unwrap()]);
        let out = sub.join("timeline.pftrace");
        let o = Command::new(bin("analyze"))
            .args(["timeline", "-o"])
            .arg(&out)
            .arg(&trace)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let c = perfetto_counts(&out);
        let summary = json(&["summary"], &trace);
        let calls = summary["total"]["calls"].as_u64().unwrap();
        assert_eq!(c["begins"].as_u64().unwrap(), calls, "{name}: {c}");
        assert_eq!(c["ends"], c["begins"], "{name}");
        assert_eq!(
            c["annotated"], c["begins"],
            "{name}: args and return on every slice"
        );
        let flows: BTreeSet<u64> = c["flows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let ends: BTreeSet<u64> = c["terminating"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(
            flows.len() as u64,
            children(&trace),
            "{name}: one flow per child"
        );
        assert_eq!(flows, ends, "{name}: every flow reaches its child");
        let instants: Vec<&str> = c["instants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            instants.iter().any(|i| i.starts_with("exec ")),
            "{instants:?}"
        );
        assert!(
            instants.iter().any(|i| i.starts_with("exit ")),
            "{instants:?}"
        );
        // The process track is renamed at the exec.
        let names = c["process_names"].as_array().unwrap();
        assert!(names.iter().any(|n| n == name), "{name}: {names:?}");
        // -e and --min-duration keep only what they select.
        let small = sub.join("writes.pftrace");
        let o = Command::new(bin("analyze"))
            .args([
                "timeline",
                "-e",
                "trace=write",
                "--min-duration",
                "0ns",
                "-o",
            ])
            .arg(&small)
            .arg(&trace)
            .output()
            .unwrap();
        assert!(o.status.success());
        let s = perfetto_counts(&small);
        let writes = summary["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "write")
            .map_or(0, |r| r["calls"].as_u64().unwrap());
        assert_eq!(s["begins"].as_u64().unwrap(), writes, "{name}: {s}");
        assert!(writes > 0);
        let none = sub.join("none.pftrace");
        let o = Command::new(bin("analyze"))
            .args(["timeline", "--min-duration", "100s", "-o"])
            .arg(&none)
            .arg(&trace)
            .output()
            .unwrap();
        assert!(o.status.success());
        assert_eq!(perfetto_counts(&none)["begins"], 0);
        // An existing file is never overwritten.
        let again = Command::new(bin("analyze"))
            .args(["timeline", "-o"])
            .arg(&none)
            .arg(&trace)
            .output()
            .unwrap();
        assert!(!again.status.success());
    }
}
