//! `replay --json`: NDJSON checked against analyzer/replay.schema.json
//! (with Python's `jsonschema`, which .ci/run installs), and its content.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::*;
use ptrec_format::Record;

/// Validates every line of `ndjson` against the schema; panics with the
/// validator's message on the first bad line.
fn validate(ndjson: &str) {
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/replay.schema.json");
    let script = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
n = 0
for i, line in enumerate(sys.stdin):
    obj = json.loads(line)
    errs = sorted(v.iter_errors(obj), key=str)
    if errs:
        print(f"line {i + 1}: {errs[0].message}: {line}", file=sys.stderr)
        sys.exit(1)
    n += 1
print(n)
"#;
    let mut c = Command::new("python3")
        .args(["-c", script, schema])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with jsonschema (installed by .ci/run)");
    c.stdin
        .take()
        .unwrap()
        .write_all(ndjson.as_bytes())
        .unwrap();
    let o = c.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "schema validation failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let n: usize = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    assert_eq!(n, ndjson.lines().count());
}

#[test]
fn replay_json_is_one_valid_object_per_call_signal_and_event_at_every_chunking() {
    let dir = tempfile::tempdir().unwrap();
    let (big, tiny) = (tmp(&dir, "big.bin"), tmp(&dir, "tiny.bin"));
    forktree(&big);
    forktree_chunked(&tiny, 1);
    let out = stdout(&analyze(&["replay", "--json", big.to_str().unwrap()]));
    validate(&out);
    assert_eq!(
        out,
        stdout(&analyze(&["replay", "--json", tiny.to_str().unwrap()]))
    );
    let objs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Every call of the trace once (as summary counts them), then events.
    let s: serde_json::Value = serde_json::from_str(&stdout(&analyze(&[
        "summary",
        "--json",
        big.to_str().unwrap(),
    ])))
    .unwrap();
    let calls: Vec<&serde_json::Value> = objs.iter().filter(|o| o["type"] == "call").collect();
    assert_eq!(calls.len() as u64, s["total"]["calls"].as_u64().unwrap());
    let open = calls.iter().find(|c| c["name"] == "openat").unwrap();
    assert_eq!(open["errno"], "ENOENT");
    assert_eq!(open["ret"], -2);
    assert_eq!(open["decoded"], "AT_FDCWD, \"/etc/nonexistent\", O_RDONLY");
    assert_eq!(open["strings"][0]["value"], "/etc/nonexistent");
    assert_eq!(open["args"][0], (-100i64) as u64);
    // Each argument typed: the directory descriptor, the path's string, the
    // flag names, each with its raw register and its text.
    let a = &open["arguments"];
    assert_eq!(a[0]["type"], "fd");
    assert_eq!(a[0]["text"], "AT_FDCWD");
    assert_eq!(a[1]["type"], "path");
    assert_eq!(a[1]["value"], "/etc/nonexistent");
    assert_eq!(a[1]["truncated"], false);
    assert_eq!(a[1]["raw"], open["args"][1]);
    assert_eq!(a[2]["type"], "flags");
    assert_eq!(a[2]["names"], serde_json::json!(["O_RDONLY"]));
    assert_eq!(a.as_array().unwrap().len(), 3);
    // The read that another thread's write interrupted is one object with
    // its output and its duration.
    let read = calls.iter().find(|c| c["name"] == "read").unwrap();
    assert_eq!(read["decoded"], "3, \"abc\\0\\1\", 64");
    assert_eq!(read["arguments"][1]["type"], "buffer");
    assert_eq!(read["arguments"][2]["type"], "int");
    assert_eq!(read["duration_ns"], 3000);
    // The non-leader execve: entered by 104, returned on 103.
    let exec = calls
        .iter()
        .find(|c| c["name"] == "execve" && c["tid"] == 104)
        .unwrap();
    assert_eq!(exec["exit_tid"], 103);
    assert_eq!(exec["pid"], 103);
    // exit_group is cut by the death.
    assert!(calls
        .iter()
        .any(|c| c["name"] == "exit_group" && c["end"] == "death"));
    for t in [
        "signal",
        "group_stop",
        "killed",
        "exited",
        "exec",
        "new_child",
    ] {
        assert!(objs.iter().any(|o| o["type"] == t), "{t}");
    }
    // Filters apply as to text.
    let f = stdout(&analyze(&["replay", "--json", "-Z", big.to_str().unwrap()]));
    validate(&f);
    let n = f
        .lines()
        .filter(|l| l.contains("\"type\":\"call\""))
        .count();
    assert_eq!(n, 1, "{f}");
}

#[test]
fn replay_json_holds_rec_yy_s_detail_and_an_errno_without_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "yy.bin");
    let mut g = Gen::new(&p, &[], 1 << 20);
    let t = g.tick();
    g.put(Record::Attach {
        tid: 200,
        time: t,
        tgid: 200,
        ppid: 1,
        state: b'S',
        group_stopped: false,
        comm: b"daemon",
        exe: b"/usr/sbin/daemon",
        cwd: b"/",
    });
    let t = g.tick();
    g.put(Record::OpenFd {
        tid: 200,
        time: t,
        fd: 1,
        flags: 0o2,
        pos: 0,
        target: b"/dev/pts/0",
        detail: b"char 136:0",
    });
    // close(1) failing with an errno no libc names.
    g.call(200, 3, [1, 0, 0, 0, 0, 0], -4000, 1);
    g.finish();
    let out = stdout(&analyze(&["replay", "--json", p.to_str().unwrap()]));
    validate(&out);
    let objs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let fd = objs.iter().find(|o| o["type"] == "open_fd").unwrap();
    assert_eq!(fd["detail"], "char 136:0");
    let close = objs.iter().find(|o| o["type"] == "call").unwrap();
    assert_eq!(close["errno"], "4000");
}
