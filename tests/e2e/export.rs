//! `analyze export` read back by DuckDB: three different recordings
//! exported into one directory, then checked with SQL against the
//! analyzer's own views (`summary --json`, `tree --json`); the NDJSON
//! export of the same traces has the same rows; a truncated trace's export
//! keeps every call before the cut and says it is unclean.
//!
//! DuckDB comes from PyPI (`.ci/run` installs the pinned version); without
//! it these tests fail, they do not skip.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use ptrec_tests::{bin, tracee};
use serde_json::Value;

/// The failed open the join test looks for.
const MISSING: &str = "/nonexistent-ptrec-export/missing.h";

/// Runs `sql` in DuckDB (Python package) and returns the rows as JSON
/// objects. Fails the test when DuckDB is not installed.
fn duck(sql: &str) -> Vec<Value> {
    const SCRIPT: &str = r#"
import json, sys
try:
    import duckdb
except ImportError as e:
    sys.exit(f"duckdb is not installed ({e}): .ci/run installs it (pip install duckdb)")
con = duckdb.connect()
cur = con.execute(sys.argv[1])
cols = [d[0] for d in cur.description]
print(json.dumps([dict(zip(cols, r)) for r in cur.fetchall()], default=str))
"#;
    let o = Command::new("python3")
        .args(["-c", SCRIPT, sql])
        .output()
        .expect("python3 runs");
    assert!(
        o.status.success(),
        "DuckDB query failed: {sql}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn rec(trace: &Path, cmd: &[&str]) {
    let st = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(trace)
        .arg("--")
        .args(cmd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("rec runs");
    assert!(st.code().is_some(), "rec died: {st}");
}

fn analyze_json(args: &[&str], trace: &Path) -> Value {
    let o = Command::new(bin("analyze"))
        .args(args)
        .arg(trace)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn export(dir: &Path, format: &str, traces: &[PathBuf]) {
    let o = Command::new(bin("analyze"))
        .args(["export", "-o"])
        .arg(dir)
        .args(["--format", format])
        .args(traces)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Three recordings of different commands, exported as Parquet and as
/// NDJSON, made once for all the tests of this module.
struct Fleet {
    _dir: tempfile::TempDir,
    traces: Vec<PathBuf>,
    parquet: PathBuf,
    ndjson: PathBuf,
}

fn fleet() -> &'static Fleet {
    static F: OnceLock<Fleet> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let traces = vec![d.join("cat.bin"), d.join("forktree.bin"), d.join("sh.bin")];
        // A failed open (cat exits 1), a tree of processes, and a shell
        // pipeline with a signal it handles (rec dies of a signal that
        // kills its command, as the command would).
        rec(&traces[0], &["cat", MISSING]);
        rec(&traces[1], &[tracee("forktree").to_str().unwrap()]);
        rec(
            &traces[2],
            &[
                "sh",
                "-c",
                "trap true USR1; echo hello | tr a-z A-Z > /dev/null; cd /tmp && ls . > /dev/null; kill -USR1 $$; true",
            ],
        );
        let parquet = d.join("dataset");
        let ndjson = d.join("dataset-ndjson");
        export(&parquet, "parquet", &traces);
        export(&ndjson, "ndjson", &traces);
        Fleet {
            _dir: dir,
            traces,
            parquet,
            ndjson,
        }
    })
}

fn glob(dir: &Path, table: &str, ext: &str) -> String {
    format!("'{}/{table}/*/*.{ext}'", dir.display())
}

fn pq(f: &Fleet, table: &str) -> String {
    format!(
        "read_parquet({}, hive_partitioning = true)",
        glob(&f.parquet, table, "parquet")
    )
}

/// trace file -> trace id, from the `traces` table.
fn ids(f: &Fleet) -> BTreeMap<String, String> {
    duck(&format!("SELECT file, trace_id FROM {}", pq(f, "traces")))
        .into_iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["trace_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn per_trace_syscall_counts_equal_the_summary() {
    let f = fleet();
    let ids = ids(f);
    assert_eq!(ids.len(), 3, "{ids:?}");
    let rows = duck(&format!(
        "SELECT trace, syscall, count(*) AS n, count(errno) AS errors FROM {} GROUP BY ALL",
        pq(f, "calls")
    ));
    for t in &f.traces {
        let id = &ids[t.to_str().unwrap()];
        let sql: BTreeMap<String, (u64, u64)> = rows
            .iter()
            .filter(|r| r["trace"].as_str() == Some(id))
            .map(|r| {
                (
                    r["syscall"].as_str().unwrap().to_string(),
                    (r["n"].as_u64().unwrap(), r["errors"].as_u64().unwrap()),
                )
            })
            .collect();
        let summary: BTreeMap<String, (u64, u64)> = analyze_json(&["summary", "--json"], t)
            ["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    (r["calls"].as_u64().unwrap(), r["errors"].as_u64().unwrap()),
                )
            })
            .collect();
        assert!(summary.len() > 5, "{summary:?}");
        assert_eq!(sql, summary, "{}", t.display());
    }
}

#[test]
fn the_process_table_equals_the_tree() {
    let f = fleet();
    let ids = ids(f);
    for t in &f.traces {
        let id = &ids[t.to_str().unwrap()];
        let rows = duck(&format!(
            "SELECT pid, generation, parent, threads, execs, exit_code, exit_signal, last_argv \
             FROM {} WHERE trace = '{id}' ORDER BY start, pid, generation",
            pq(f, "processes")
        ));
        let tree = analyze_json(&["tree", "--json"], t);
        let mut want: Vec<Value> = tree["processes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let execs = p["execs"].as_array().unwrap();
                serde_json::json!({
                    "pid": p["pid"],
                    "generation": p.get("generation").cloned().unwrap_or(Value::from(0)),
                    "parent": p["parent"],
                    "threads": p["threads"].as_array().unwrap().len(),
                    "execs": execs.len(),
                    "exit_code": p["exit"].get("code").cloned().unwrap_or(Value::Null),
                    "exit_signal": p["exit"].get("signal").cloned().unwrap_or(Value::Null),
                    "last_argv": execs.last().map_or(Value::Null, |e| e["argv"].clone()),
                })
            })
            .collect();
        let mut got = rows;
        let key = |v: &Value| (v["pid"].as_i64(), v["generation"].as_i64());
        want.sort_by_key(key);
        got.sort_by_key(key);
        assert!(!want.is_empty());
        assert_eq!(got, want, "{}", t.display());
    }
    // forktree makes a tree: more than one process, all but the root
    // with a parent in the same trace.
    let orphans = duck(&format!(
        "SELECT count(*) AS n FROM {p} c WHERE parent IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM {p} q WHERE q.trace = c.trace AND q.pid = c.parent)",
        p = pq(f, "processes")
    ));
    assert_eq!(orphans[0]["n"], 0);
}

#[test]
fn a_join_of_calls_and_processes_finds_the_process_of_a_failed_open() {
    let f = fleet();
    let rows = duck(&format!(
        "SELECT t.file, p.last_argv, p.exit_code, c.syscall, c.errno, c.fd_target \
         FROM {c} c JOIN {p} p USING (trace, pid, generation) JOIN {t} t USING (trace) \
         WHERE c.path = '{MISSING}' AND c.errno = 'ENOENT' AND c.syscall IN ('open', 'openat')",
        c = pq(f, "calls"),
        p = pq(f, "processes"),
        t = pq(f, "traces"),
    ));
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r["file"], f.traces[0].to_str().unwrap());
    assert_eq!(r["last_argv"], serde_json::json!(["cat", MISSING]));
    assert_eq!(r["exit_code"], 1);
    // The files table has the path with its error, used by cat's process.
    let files = duck(&format!(
        "SELECT errors, errnos FROM {} WHERE path = '{MISSING}'",
        pq(f, "files")
    ));
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["errnos"], serde_json::json!(["ENOENT:1"]));
}

#[test]
fn paths_are_absolute_after_a_cd() {
    // `cd /tmp && ls .` in the shell: ls opens "." relative to /tmp.
    let f = fleet();
    let rows = duck(&format!(
        "SELECT DISTINCT c.path FROM {c} c JOIN {p} p USING (trace, pid, generation) \
         WHERE p.command LIKE '%/ls' AND c.syscall = 'openat' AND c.arg1 <> 0 AND c.path = '/tmp'",
        c = pq(f, "calls"),
        p = pq(f, "processes"),
    ));
    assert_eq!(rows.len(), 1, "{rows:?}");
    let relative = duck(&format!(
        "SELECT count(*) AS n FROM {} WHERE path IS NOT NULL AND path NOT LIKE '/%'",
        pq(f, "calls")
    ));
    assert_eq!(relative[0]["n"], 0);
}

#[test]
fn ndjson_has_the_same_rows_as_parquet() {
    let f = fleet();
    for table in ["calls", "processes", "execs", "signals", "files", "traces"] {
        let p = duck(&format!(
            "SELECT trace_id, count(*) AS n FROM {} GROUP BY ALL ORDER BY ALL",
            pq(f, table)
        ));
        let j = duck(&format!(
            "SELECT trace_id, count(*) AS n FROM read_json({}, format = 'newline_delimited') \
             GROUP BY ALL ORDER BY ALL",
            glob(&f.ndjson, table, "ndjson")
        ));
        assert_eq!(p, j, "{table}");
        if table != "signals" {
            assert_eq!(p.len(), 3, "{table}: {p:?}");
        }
    }
    // The same values, not only as many rows.
    let sum = |from: String| {
        duck(&format!(
            "SELECT sum(ret) AS r, count(path) AS p, count(errno) AS e, sum(wall_ns) AS w, \
             count(DISTINCT syscall) AS s FROM {from}"
        ))
    };
    assert_eq!(
        sum(pq(f, "calls")),
        sum(format!(
            "read_json({}, format = 'newline_delimited')",
            glob(&f.ndjson, "calls", "ndjson")
        ))
    );
    // The shell's kill -USR1 $$ is a signal row.
    let sig = duck(&format!(
        "SELECT count(*) AS n FROM {} WHERE signal = 'SIGUSR1' AND kind = 'delivery'",
        pq(f, "signals")
    ));
    assert_eq!(sig[0]["n"], 1);
}

#[test]
fn export_of_a_truncated_trace_holds_every_call_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let full = d.join("full.bin");
    // One thread, many calls: many chunks, entries in time order.
    rec(
        &full,
        &["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=60000"],
    );
    let bytes = std::fs::read(&full).unwrap();
    let cut = d.join("cut.bin");
    std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
    export(&d.join("a"), "parquet", std::slice::from_ref(&full));
    export(&d.join("b"), "parquet", std::slice::from_ref(&cut));
    let calls = |sub: &str| format!("read_parquet('{}/{sub}/calls/*/*.parquet')", d.display());
    let traces = |sub: &str| format!("read_parquet('{}/{sub}/traces/*/*.parquet')", d.display());
    let t = duck(&format!(
        "SELECT clean, truncation, calls FROM {}",
        traces("b")
    ));
    assert_eq!(t[0]["clean"], false, "{t:?}");
    assert!(t[0]["truncation"].is_string(), "{t:?}");
    let t_full = duck(&format!("SELECT clean, calls FROM {}", traces("a")));
    assert_eq!(t_full[0]["clean"], true);
    let n_cut = t[0]["calls"].as_u64().unwrap();
    let n_full = t_full[0]["calls"].as_u64().unwrap();
    assert!(n_cut > 1000 && n_cut < n_full, "{n_cut} of {n_full}");
    // As many rows as the summary of the cut trace counts calls.
    let summary = analyze_json(&["summary", "--json"], &cut);
    assert_eq!(summary["total"]["calls"].as_u64().unwrap(), n_cut);
    // Every call of the full trace that entered before the cut trace's
    // last entry is in the cut export (same thread, number, time), and
    // nothing else is.
    let missing = duck(&format!(
        "SELECT count(*) AS n FROM {a} a WHERE a.enter_time <= (SELECT max(enter_time) FROM {b}) \
         AND NOT EXISTS (SELECT 1 FROM {b} b WHERE b.tid = a.tid AND b.nr = a.nr \
         AND b.enter_time = a.enter_time)",
        a = calls("a"),
        b = calls("b")
    ));
    assert_eq!(missing[0]["n"], 0);
    let extra = duck(&format!(
        "SELECT count(*) AS n FROM {b} b WHERE NOT EXISTS (SELECT 1 FROM {a} a \
         WHERE b.tid = a.tid AND b.nr = a.nr AND b.enter_time = a.enter_time)",
        a = calls("a"),
        b = calls("b")
    ));
    assert_eq!(extra[0]["n"], 0);
    // The call the cut interrupted is there, unfinished.
    let open = duck(&format!(
        "SELECT count(*) AS n FROM {} WHERE \"end\" = 'unfinished' AND ret IS NULL",
        calls("b")
    ));
    assert!(open[0]["n"].as_u64().unwrap() <= 1, "{open:?}");
}

#[test]
fn exporting_a_trace_twice_into_one_directory_is_an_error_that_keeps_the_first() {
    let f = fleet();
    let o = Command::new(bin("analyze"))
        .args(["export", "-o"])
        .arg(&f.parquet)
        .arg(&f.traces[0])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("already exported"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        2,
        "{err}"
    );
    let n = duck(&format!("SELECT count(*) AS n FROM {}", pq(f, "traces")));
    assert_eq!(n[0]["n"], 3);
}
