//! End-to-end tests of `analyze` on traces that `rec` recorded: the summary
//! counts equal `strace -f -c` counts on deterministic tracees (for the
//! syscalls that return: strace counts a call at its exit, so exit and
//! exit_group never appear in its table), and the tree matches what the
//! tracee did.
//!
//! `rec` and `analyze` must have been built first (`cargo build --workspace`);
//! the tests find them beside their own executable.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use ptrec_tests::{analyze, bin, require_root, tracee};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Per-syscall call counts of `strace -f -c -o FILE -- cmd`.
fn strace_counts(cmd: &[&str], dir: &Path) -> BTreeMap<String, u64> {
    let out = dir.join("strace.txt");
    let st = Command::new("strace")
        .args(["-f", "-c", "-o"])
        .arg(&out)
        .arg("--")
        .args(cmd)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("strace runs");
    assert!(st.code().is_some());
    let text = std::fs::read_to_string(&out).unwrap();
    let mut m = BTreeMap::new();
    for line in text.lines().skip(2) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with("---") || f.len() < 5 || f.last() == Some(&"total") {
            continue;
        }
        // % time, seconds, usecs/call, calls, [errors], name
        m.insert(f.last().unwrap().to_string(), f[3].parse().unwrap());
    }
    m
}

/// Per-syscall call counts of `analyze summary --json` on `rec -- cmd`.
fn rec_counts(cmd: &[&str], dir: &Path) -> BTreeMap<String, u64> {
    let trace = dir.join("trace.bin");
    let st = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(&trace)
        .arg("--")
        .args(cmd)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("rec runs");
    assert!(st.code().is_some());
    let o = Command::new(bin("analyze"))
        .args(["summary", "--json"])
        .arg(&trace)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut m: BTreeMap<String, u64> = v["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    // rec records its launcher's last syscalls in the forked child before
    // the command's execve (strace's launcher stops before them): they are
    // not the command's. Take them out, read straight from the trace.
    let t = ptrec_format::Trace::open(&trace).unwrap();
    let mut before_exec = Vec::new();
    let mut exec_seen = false;
    t.for_each_record(|r| match r {
        ptrec_format::Record::Exec { .. } => exec_seen = true,
        ptrec_format::Record::SyscallEnter { nr, .. } if !exec_seen => before_exec.push(*nr),
        _ => {}
    })
    .unwrap();
    // The execve entry itself is the command's.
    before_exec.pop();
    for nr in before_exec {
        let name = syscalls::x86_64::Sysno::new(nr as usize).unwrap().name();
        let c = m.get_mut(name).unwrap();
        *c -= 1;
        if *c == 0 {
            m.remove(name);
        }
    }
    m
}

fn same_counts_as_strace(cmd: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut ours = rec_counts(cmd, dir.path());
    let theirs = strace_counts(cmd, dir.path());
    // Entries that never return: counted by us (once per entry), not by strace.
    ours.remove("exit");
    ours.remove("exit_group");
    assert_eq!(ours, theirs, "{cmd:?}");
}

#[test]
fn summary_counts_equal_strace_on_bin_true() {
    same_counts_as_strace(&["/bin/true"]);
}

#[test]
fn summary_counts_equal_strace_on_ls() {
    same_counts_as_strace(&["/bin/ls", "/"]);
}

#[test]
fn summary_counts_equal_strace_on_a_shell_loop_of_writes() {
    same_counts_as_strace(&[
        "/bin/sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do echo $i >/dev/null; done; /bin/true",
    ]);
}

#[test]
fn summary_counts_equal_strace_on_a_fork_tree() {
    same_counts_as_strace(&[tracee("forktree").to_str().unwrap()]);
}

/// `rec` of the forktree tracee into DIR/t.bin.
fn record_forktree(dir: &Path) -> std::path::PathBuf {
    let trace = dir.join("t.bin");
    let st = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(&trace)
        .arg("--")
        .arg(tracee("forktree"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.code().is_some());
    trace
}

#[test]
fn tree_of_a_recorded_fork_tree_has_every_process_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let trace = record_forktree(dir.path());
    let o = Command::new(bin("analyze"))
        .args(["tree", "--json"])
        .arg(&trace)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let procs = v["processes"].as_array().unwrap();
    // root -> 2 children -> 1 grandchild each
    assert_eq!(procs.len(), 5, "{v:#}");
    let root = procs[0]["pid"].clone();
    assert!(procs[0]["parent"].is_null());
    assert_eq!(procs.iter().filter(|p| p["parent"] == root).count(), 2);
    let mut codes: Vec<i64> = procs[1..]
        .iter()
        .map(|p| p["exit"]["code"].as_i64().unwrap())
        .collect();
    codes.sort();
    assert_eq!(codes, [10, 11, 20, 21]);
    // The text tree names the root after the command, not after rec (whose
    // copy it was until the exec).
    let o = Command::new(bin("analyze"))
        .arg("tree")
        .arg(&trace)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let first = text.lines().next().unwrap_or_default();
    let want = format!("{} {} ", root, tracee("forktree").display());
    assert!(first.starts_with(&want), "{first}");
}

/// `summary --per-process` (JSON and text) and `tree --json` of a recording
/// with PID reuse: pid 100 is created twice in a pid namespace (rec its pid 1 with
/// its own /proc, ns_last_pid choosing the pids), by the command and later
/// by pid 200.
fn record_pid_reuse(dir: &Path) -> (serde_json::Value, String, serde_json::Value) {
    require_root("it records in a new pid namespace and writes its ns_last_pid");
    let trace = dir.join("t.bin");
    let o = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(bin("rec"))
        .args(["-q", "-o"])
        .arg(&trace)
        .arg("--")
        .arg(tracee("pid_reuse"))
        .output()
        .expect("unshare (util-linux) runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "100\n100\n");
    let run = |args: &[&str]| analyze(args, &trace);
    let json = serde_json::from_str(&run(&["summary", "--per-process", "--json"])).unwrap();
    let text = run(&["summary", "--per-process"]);
    let tree = serde_json::from_str(&run(&["tree", "--json"])).unwrap();
    (json, text, tree)
}

#[test]
fn summary_per_process_shows_a_reused_pid_as_two_processes() {
    let dir = tempfile::tempdir().unwrap();
    let (json, text, tree) = record_pid_reuse(dir.path());
    // (generation, getppid calls, exit_group calls) of each pid-100 row.
    let rows: Vec<(i64, i64, i64)> = json["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["pid"] == 100)
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
                calls("getppid"),
                calls("exit_group"),
            )
        })
        .collect();
    assert_eq!(rows, [(0, 3, 1), (1, 5, 1)], "{json:#}");
    assert!(text.contains("\nprocess 100 "), "{text}");
    assert!(text.contains("\nprocess 100#1 "), "{text}");
    // The same two processes as the tree's: the second is 200's child.
    let hundreds: Vec<&serde_json::Value> = tree["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["pid"] == 100)
        .collect();
    assert_eq!(hundreds.len(), 2, "{tree:#}");
    assert_eq!(hundreds[0]["exit"]["code"], 3);
    assert_eq!(hundreds[1]["parent"], 200);
    assert_eq!(hundreds[1]["exit"]["code"], 5);
}

#[test]
fn replay_of_a_recorded_execve_shows_argv_and_the_environment_count_like_strace() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.bin");
    let o = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(&trace)
        .args(["--", "/bin/echo", "one", "two words", ""])
        .env_clear()
        .env("A", "1")
        .env("B", "2")
        .env("C", "3")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "one two words \n");
    let r = Command::new(bin("analyze"))
        .args(["replay", "-e", "trace=execve"])
        .arg(&trace)
        .output()
        .unwrap();
    assert!(r.status.success());
    let out = String::from_utf8_lossy(&r.stdout);
    let line = out.lines().next().unwrap_or_default();
    let (head, tail) = line.split_once(", 0x").unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        head,
        r#"execve("/bin/echo", ["/bin/echo", "one", "two words", ""]"#
    );
    assert!(tail.ends_with(" /* 3 vars */) = 0"), "{line}");
    // -s cuts argv strings, never the path.
    let r = Command::new(bin("analyze"))
        .args(["replay", "-s", "3", "-e", "trace=execve"])
        .arg(&trace)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(
        out.starts_with(r#"execve("/bin/echo", ["/bi"..., "one", "two"..., ""], 0x"#),
        "{out}"
    );
}

/// Runs `cmd` under `strace -e SET -o FILE` and under `rec -o TRACE` in
/// `dir`; returns strace's text, the trace's path and the command's stdout
/// under rec.
fn strace_and_rec(cmd: &[&std::ffi::OsStr], set: &str, dir: &Path) -> (String, PathBuf, String) {
    let st = dir.join("s.txt");
    let o = Command::new("strace")
        .args(["-e", set, "-o"])
        .arg(&st)
        .args(cmd)
        .output()
        .expect("strace runs");
    assert!(o.status.success());
    let trace = dir.join("t.bin");
    let o = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(&trace)
        .arg("--")
        .args(cmd)
        .output()
        .unwrap();
    assert!(o.status.success());
    (
        std::fs::read_to_string(&st).unwrap(),
        trace,
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// `analyze replay EXTRA -e SET TRACE`.
fn replay(trace: &Path, set: &str, extra: &[&str]) -> String {
    let r = Command::new(bin("analyze"))
        .arg("replay")
        .args(extra)
        .args(["-e", set])
        .arg(trace)
        .output()
        .unwrap();
    assert!(r.status.success());
    String::from_utf8_lossy(&r.stdout).into_owned()
}

/// Runs tracee `name` under `strace -e SET` and under rec, and returns
/// strace's text and `analyze replay -e SET` of the trace.
fn strace_and_replay(name: &str, set: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let exe = tracee(name);
    let (want, trace, _) = strace_and_rec(&[exe.as_os_str()], set, dir.path());
    (want, replay(&trace, set, &[]))
}

/// The lines of `text` that start with `prefix`.
fn lines_starting(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

#[test]
fn replay_names_fcntl_flags_and_decodes_sysinfo_like_strace() {
    let (want, out) = strace_and_replay("fcntl_flags", "trace=fcntl,sysinfo");
    let fcntl = |t: &str| lines_starting(t, "fcntl(");
    assert_eq!(fcntl(&want).len(), 12, "{want}");
    assert_eq!(fcntl(&out), fcntl(&want));
    // The values differ from run to run; the shape must not.
    let si = out
        .lines()
        .find(|l| l.starts_with("sysinfo("))
        .unwrap_or_default();
    assert!(si.starts_with("sysinfo({uptime="), "{out}");
    for field in ["loads=[", "totalram=", "freeram=", "procs=", "mem_unit="] {
        assert!(si.contains(field), "{si}");
    }
    assert!(si.ends_with("}) = 0"), "{si}");
}

/// Lines of `text` from the first `socket(`, with ephemeral ports masked.
fn net_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| match l.find("htons(") {
            Some(k) => {
                let end = l[k..].find(')').map_or(l.len(), |e| k + e);
                format!("{}htons(PORT{}", &l[..k], &l[end..])
            }
            None => l.to_string(),
        })
        .skip_while(|l| !l.starts_with("socket("))
        .collect()
}

#[test]
fn replay_of_socket_calls_equals_strace_s_lines() {
    let set = "trace=socket,setsockopt,getsockopt,bind,listen,getsockname,connect,\
               accept4,sendto,recvfrom,poll,shutdown";
    let (want, out) = strace_and_replay("net_calls", set);
    let want = net_lines(&want);
    assert_eq!(want.len(), 16, "15 calls and the exit: {want:#?}");
    assert_eq!(net_lines(&out), want);
}

/// `text` from its first `socketpair(` line, with every number of three
/// digits or more (inodes, ports, loopback's 127) as `N`: they differ
/// from run to run, the shapes must not.
fn fd_kind_lines(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("socketpair("))
        .map(|l| {
            let mut out = String::new();
            let mut digits = String::new();
            for c in l.chars().chain(std::iter::once('\0')) {
                if c.is_ascii_digit() {
                    digits.push(c);
                    continue;
                }
                out.push_str(if digits.len() >= 3 { "N" } else { &digits });
                digits.clear();
                if c != '\0' {
                    out.push(c);
                }
            }
            out
        })
        .collect()
}

#[test]
fn replay_yy_names_sockets_peers_and_devices_as_strace_yy_does() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s");
    let exe = tracee("fd_kinds");
    let set =
        "trace=socketpair,socket,bind,listen,connect,accept,getsockname,write,openat,dup,close";
    let st = dir.path().join("s.txt");
    let o = Command::new("strace")
        .args(["-yy", "-e", set, "-o"])
        .arg(&st)
        .arg(&exe)
        .arg(&sock)
        .output()
        .expect("strace runs");
    assert!(o.status.success(), "{o:?}");
    let trace = dir.path().join("t.bin");
    let o = Command::new(bin("rec"))
        .args(["-q", "-yy", "-o"])
        .arg(&trace)
        .arg("--")
        .arg(&exe)
        .arg(&sock)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let want = fd_kind_lines(&std::fs::read_to_string(&st).unwrap());
    let out = fd_kind_lines(&replay(&trace, set, &["-yy"]));
    // 37 calls, the exit; a UNIX pair with its peers, a bound path, IP
    // endpoints once connected, a device's numbers, through a dup too.
    assert_eq!(want.len(), 38, "{want:#?}");
    assert_eq!(out, want);
    for shown in [
        "UNIX-STREAM:[N->N]",
        ",\"",
        "UDP:[N.0.0.1:N->N.0.0.1:9]",
        "</dev/null<char 1:3>>",
    ] {
        assert!(out.iter().any(|l| l.contains(shown)), "{shown}: {out:#?}");
    }
}

#[test]
fn replay_yy_json_names_each_descriptor_as_the_text_replay_does() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s");
    let trace = dir.path().join("t.bin");
    let o = Command::new(bin("rec"))
        .args(["-q", "-yy", "-o"])
        .arg(&trace)
        .arg("--")
        .arg(tracee("fd_kinds"))
        .arg(&sock)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let set = "trace=socketpair,socket,bind,connect,accept,write,openat,dup,read,close";
    // The text pads the return value to a column, as strace does.
    let unpadded = |l: &str| match l.rsplit_once(" = ") {
        Some((call, ret)) => format!("{} = {ret}", call.trim_end()),
        None => l.to_string(),
    };
    let text: Vec<String> = replay(&trace, set, &["-yy"])
        .lines()
        .filter(|l| !l.starts_with("+++") && !l.starts_with("---"))
        .map(unpadded)
        .collect();
    // Each call object as its text line: name(decoded) = ret_text.
    let json: Vec<String> = replay(&trace, set, &["-yy", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "call")
        .map(|v| {
            format!(
                "{}({}) = {}",
                v["name"].as_str().unwrap(),
                v["decoded"].as_str().unwrap(),
                v["ret_text"].as_str().unwrap()
            )
        })
        .collect();
    assert!(text.len() > 30, "{text:#?}");
    assert_eq!(json, text);
    let args: Vec<String> = replay(&trace, "trace=write", &["-yy", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "call")
        .map(|v| v["arguments"][0]["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        args.iter().any(|a| a.contains("</dev/null<char 1:3>>")),
        "{args:#?}"
    );
    assert!(
        args.iter().any(|a| a.contains("UNIX-STREAM:[")),
        "{args:#?}"
    );
}

/// `rec -yy` of a `cat` blocked in read(0) on a pipe the test holds, past
/// rec's flush interval (the read's entry is in a chunk on disk); then
/// SIGKILL to the cat (the read ends with its death, in a later chunk) or
/// to rec (the trace ends inside the read).
fn record_a_blocked_read(dir: &Path, kill_rec: bool) -> PathBuf {
    use std::io::BufRead;
    use std::process::Stdio;
    let trace = dir.join(if kill_rec { "cut.bin" } else { "killed.bin" });
    let mut rec = Command::new(bin("rec"))
        .args(["-q", "-yy", "-o"])
        .arg(&trace)
        .args(["--", "sh", "-c", "echo $$; exec cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(rec.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid: i32 = line.trim().parse().unwrap();
    let t0 = std::time::Instant::now();
    // Blocked: cat, sleeping (its other stops are tracing stops).
    let blocked = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.contains("(cat) S ")
    };
    while !blocked() {
        assert!(t0.elapsed().as_secs() < 10, "cat did not block in read");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(1600));
    ptrec_tests::kill(if kill_rec { rec.id() as i32 } else { pid }, libc::SIGKILL);
    // A killed rec takes its tracee with it (PTRACE_O_EXITKILL).
    rec.wait().unwrap();
    trace
}

#[test]
fn replay_y_json_names_the_descriptors_of_a_call_ended_by_death_or_by_the_trace_s_end() {
    let dir = tempfile::tempdir().unwrap();
    for (kill_rec, end) in [(false, "death"), (true, "end_of_trace")] {
        let trace = record_a_blocked_read(dir.path(), kill_rec);
        if !kill_rec {
            // The read began in a chunk before its end's.
            let info = analyze(&["info"], &trace);
            let chunks = info
                .lines()
                .find_map(|l| l.strip_prefix("chunks:"))
                .unwrap();
            assert!(chunks.trim().parse::<u32>().unwrap() >= 2, "{info}");
        }
        for yy in ["-y", "-yy"] {
            let text = replay(&trace, "trace=read", &[yy]);
            let last = text.lines().rfind(|l| l.starts_with("read(")).unwrap();
            let fd = last["read(".len()..].split([',', ' ']).next().unwrap();
            assert!(fd.starts_with("0<pipe:["), "{text}");
            let json = replay(&trace, "trace=read", &[yy, "--json"]);
            let read = json
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .rfind(|v| v["name"] == "read")
                .unwrap();
            assert_eq!(read["end"], end, "{read}");
            assert_eq!(read["arguments"][0]["text"], fd, "{read}");
            assert!(read["decoded"].as_str().unwrap().starts_with(fd), "{read}");
            // Shown whole, as the JSON is; the one the trace ends inside
            // as it began.
            let whole = replay(&trace, "trace=read", &[yy, "-e", "status=unfinished"]);
            assert!(whole.starts_with(&format!("read({fd}, ")), "{whole}");
            if kill_rec {
                assert!(whole.ends_with(" <unfinished ...>\n"), "{whole}");
            }
        }
    }
}

#[test]
fn replay_decodes_pipe_fds_wait_statuses_uname_and_access_flags_like_strace() {
    let set = "trace=pipe2,wait4,uname,close_range,faccessat2";
    let (want, out) = strace_and_replay("misc_calls", set);
    // rec follows the children (strace without -f does not): only the
    // calls' lines count, and the children's pids differ from run to run.
    let lines = |t: &str| -> Vec<String> {
        t.lines()
            .map(|l| match l.strip_prefix("[pid ") {
                Some(r) => r.split_once("] ").map_or(r, |x| x.1),
                None => l,
            })
            .filter(|l| !l.starts_with("---") && !l.starts_with("+++"))
            // Padded to column 40 with the prefix counted: without it, the
            // padding differs.
            .map(|l| match l.rsplit_once(" = ") {
                Some((call, ret)) => format!("{} = {ret}", call.trim_end()),
                None => l.to_string(),
            })
            .map(|l| match l.strip_prefix("wait4(") {
                Some(r) => {
                    let (_, rest) = r.split_once(", ").unwrap_or_default();
                    let rest = rest.rsplit_once(" = ").map_or(rest, |x| x.0);
                    format!("wait4(PID, {rest}")
                }
                None => l,
            })
            .collect()
    };
    let want = lines(&want);
    assert_eq!(want.len(), 6, "{want:#?}");
    assert!(want[1].contains("WEXITSTATUS(s) == 3"), "{want:#?}");
    assert_eq!(lines(&out), want);
}

#[test]
fn replay_shows_the_mask_rt_sigreturn_restores_like_strace() {
    let (want, out) = strace_and_replay("sigreturn_mask", "trace=rt_sigreturn");
    let calls = |t: &str| lines_starting(t, "rt_sigreturn(");
    assert_eq!(
        calls(&want),
        [
            "rt_sigreturn({mask=[]})                 = 0",
            "rt_sigreturn({mask=[INT]})              = 0"
        ]
    );
    assert_eq!(calls(&out), calls(&want));
}

#[test]
fn replay_of_several_processes_aligns_results_at_column_40_as_strace_does() {
    let dir = tempfile::tempdir().unwrap();
    let trace = record_forktree(dir.path());
    let r = Command::new(bin("analyze"))
        .args(["replay", "-e", "trace=exit_group,wait4"])
        .arg(&trace)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&r.stdout);
    // `[pid  1234] exit_group(10)` is 27 bytes: padded so that ` = `
    // starts at byte 39 of the whole line, the [pid N] prefix included.
    // An exit_group interrupted by another process's stop is printed
    // `<unfinished ...>`, with no result to align, as strace does.
    let short: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("[pid ") && l.contains("] exit_group("))
        .collect();
    assert!(short.len() >= 4, "{out}");
    let complete: Vec<&str> = short
        .into_iter()
        .filter(|l| !l.ends_with("<unfinished ...>"))
        .collect();
    assert!(!complete.is_empty(), "{out}");
    for l in complete {
        assert_eq!(l.find(" = "), Some(39), "{l}");
    }
}

#[test]
fn replay_cuts_buffers_at_32_bytes_by_default_as_strace_does_and_s_shows_more() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("text");
    let text: String = (0..40)
        .map(|i| format!("line {i} of a longer file\n"))
        .collect();
    std::fs::write(&file, &text).unwrap();
    let cmd = ["cat".as_ref(), file.as_os_str()];
    let (want, trace, stdout) = strace_and_rec(&cmd, "trace=read", dir.path());
    assert_eq!(stdout, text);
    let reads = |t: &str| lines_starting(t, "read(3, \"line 0");
    assert_eq!(reads(&want).len(), 1, "{want}");
    assert_eq!(reads(&replay(&trace, "trace=read", &[])), reads(&want));
    // rec captured the whole read (-s 4096): a larger -s shows all of it.
    let all = replay(&trace, "trace=read", &["-s", "2000"]);
    let line = reads(&all).concat();
    assert!(line.contains("line 39 of a longer file\\n\", "), "{line}");
}

/// strace's or replay's text as comparable lines: the lines of the first
/// process only (the children's interleave differently from run to run),
/// `[pid N] `/`N ` prefixes dropped, a call split by another process's
/// line joined again (`<unfinished ...>` + `<... resumed>`), the padding
/// before ` = ` collapsed, pids numbered by first appearance, and what
/// differs between runs masked: addresses, the bytes getrandom returned,
/// the time a select or ppoll had left, the inode numbers of `-y`'s
/// `pipe:[N]` and `socket:[N]`, what sysinfo reported, statfs's free
/// counts.
fn comparable(text: &str, strace_prefix: bool) -> Vec<String> {
    let mut main = None;
    let mut pending: Option<String> = None;
    let mut out = Vec::new();
    for l in text.lines() {
        let (pid, rest) = if let Some(r) = l.strip_prefix("[pid ") {
            let (p, r) = r.split_once("] ").unwrap_or(("", r));
            (p.trim().to_string(), r)
        } else if strace_prefix {
            let (p, r) = l.split_once(' ').unwrap_or(("", l));
            (p.to_string(), r.trim_start())
        } else {
            (String::new(), l)
        };
        let main = main.get_or_insert_with(|| pid.clone());
        if pid != *main {
            continue;
        }
        // When a child's SIGCHLD reaches the parent, relative to the
        // parent's own calls, depends on when the child ends in each run
        // (seen in CI: before waitid under strace, after it under rec).
        if rest.starts_with("--- SIGCHLD ") {
            continue;
        }
        if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            pending = Some(head.to_string());
            continue;
        }
        let rest = match (pending.take(), rest.strip_prefix("<... ")) {
            (Some(head), Some(r)) => {
                let tail = r.split_once(" resumed>").map_or(r, |x| x.1);
                format!("{head}{tail}")
            }
            _ => rest.to_string(),
        };
        out.push(match rest.split_once(" = ") {
            Some((call, ret)) => format!("{} = {ret}", call.trim_end()),
            None => rest,
        });
    }
    // Pids, in order of appearance: the main one, then its children's. A
    // replay of one process has no [pid N] prefix: its pid is then what
    // set_tid_address returns.
    let mut main = main.unwrap_or_default();
    if main.is_empty() {
        if let Some(l) = out.iter().find(|l| l.starts_with("set_tid_address(")) {
            main = l.rsplit_once(" = ").map_or("", |x| x.1).to_string();
        }
    }
    let mut pids = vec![main];
    mask_run_values(&out, &mut pids)
}

/// Masks run-dependent values in `lines` (see [`comparable`]); `pids`
/// starts with the main pid, children's are added as `clone` returns them.
fn mask_run_values(lines: &[String], pids: &mut Vec<String>) -> Vec<String> {
    // A number equal to a pid is masked only where a pid can stand: in
    // the lines of calls that take or return one, signal and exit lines,
    // and a siginfo's si_pid. Elsewhere it is a size or a count that
    // happens to equal a run's pid (seen in CI, where pids are small:
    // `st_size=1221` under rec's pid 1221).
    const PID_CALLS: &[&str] = &[
        "clone",
        "fork(",
        "vfork(",
        "getpid(",
        "gettid(",
        "getppid(",
        "set_tid_address(",
        "wait4(",
        "waitid(",
        "kill(",
        "tgkill(",
        "tkill(",
        "setpgid(",
        "getpgid(",
        "getsid(",
        "setsid(",
        "getpgrp(",
        "sched_",
        "prlimit64(",
        "pidfd_",
        "rt_sigqueueinfo(",
        "rt_tgsigqueueinfo(",
        "ptrace(",
        "process_vm_",
        "---",
        "+++",
    ];
    let mut out = Vec::new();
    for l in lines {
        let call = l.strip_prefix("<... ").unwrap_or(l);
        let pid_line =
            PID_CALLS.iter().any(|c| call.starts_with(c)) || l.contains("<pid changed to ");
        let child = l
            .strip_prefix("clone(")
            .or_else(|| l.strip_prefix("clone3("));
        if let Some(ret) = child.and_then(|r| r.rsplit_once(" = ")) {
            pids.push(ret.1.to_string());
        }
        let mut s = String::new();
        // Numbers and hex words, token by token.
        let mut rest = l.as_str();
        while let Some(k) = rest.find(|c: char| c.is_ascii_digit()) {
            let (head, tail) = rest.split_at(k);
            s.push_str(head);
            let end = tail
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(tail.len());
            let tok = &tail[..end];
            let prev_alnum = head
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            if prev_alnum {
                s.push_str(tok);
            } else if head.ends_with("pipe:[") || head.ends_with("socket:[") {
                // The kernel numbers the inodes of each run's pipes and
                // sockets anew (the stdout pipe of each run is another one).
                s.push_str("INO");
            } else if tok.starts_with("0x") && tok.len() >= 8 {
                s.push_str("ADDR");
            } else if let Some(i) = pids
                .iter()
                .position(|p| p == tok)
                .filter(|_| pid_line || head.ends_with("si_pid="))
            {
                s.push_str(&format!("PID{i}"));
            } else {
                s.push_str(tok);
            }
            rest = &tail[end..];
        }
        s.push_str(rest);
        // The parent of the first process is the tracer.
        if s.starts_with("getppid()") {
            s = "getppid() = PPID".into();
        }
        if let Some(bytes) = s.strip_prefix("getrandom(\"") {
            // The string ends at its first quote (the bytes are escaped),
            // perhaps cut (`"...`).
            let end = bytes.find('"').map_or(0, |k| k + 1);
            let rest = &bytes[end..];
            s = format!(
                "getrandom(BYTES{}",
                rest.strip_prefix("...").unwrap_or(rest)
            );
        }
        // A file system's free blocks and inodes change with whatever
        // else writes to it.
        for key in ["f_bfree=", "f_bavail=", "f_ffree="] {
            if let Some(k) = s.find(key).map(|k| k + key.len()) {
                let end = s[k..]
                    .find(|c: char| !c.is_ascii_digit())
                    .map_or(s.len(), |e| k + e);
                s.replace_range(k..end, "N");
            }
        }
        // The system's counters (uptime, load, free memory, processes)
        // move between the two runs.
        if s.starts_with("sysinfo({") {
            if let Some(k) = s.rfind("}) = ") {
                s = format!("sysinfo(INFO{}", &s[k + 1..]);
            }
        }
        if let Some(k) = s.find(", left {") {
            let end = s[k..].find('}').map_or(s.len(), |e| k + e + 1);
            s.replace_range(k..end, ", left TIME");
        }
        out.push(s);
    }
    out
}

#[test]
fn replay_of_every_decoder_class_equals_strace_f_line_for_line() {
    let dir = tempfile::tempdir().unwrap();
    let exe = tracee("decoders");
    let st = dir.path().join("s.txt");
    // Both runs in the same (fresh) directory, with the same environment.
    let run = dir.path().join("run");
    let fresh = || {
        let _ = std::fs::remove_dir_all(&run);
        std::fs::create_dir(&run).unwrap();
        &run
    };
    let o = Command::new("strace")
        .args(["-f", "-o"])
        .arg(&st)
        .arg(&exe)
        .arg(fresh())
        .env("TZ", "UTC")
        .output()
        .expect("strace runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let trace = dir.path().join("t.bin");
    let o = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(&trace)
        .arg("--")
        .arg(&exe)
        .arg(fresh())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = Command::new(bin("analyze"))
        .arg("replay")
        .arg(&trace)
        .output()
        .unwrap();
    assert!(r.status.success());
    let want = comparable(&std::fs::read_to_string(&st).unwrap(), true);
    let got = comparable(&String::from_utf8_lossy(&r.stdout), false);
    // Every decoder class the program exercises is in strace's lines.
    for call in [
        "linkat(",
        "symlinkat(",
        "fchownat(",
        "openat2(",
        "mknod(",
        "mknodat(",
        "umask(",
        "utimensat(",
        "fcntl(",
        "readv(",
        "sendfile(",
        "socketpair(",
        "sendmsg(",
        "recvmsg(",
        "select(",
        "ppoll(",
        "epoll_ctl(",
        "epoll_wait(",
        "madvise(",
        "prctl(",
        "setpgid(",
        "getpgid(",
        "alarm(",
        "sigaltstack(",
        "setitimer(",
        "rt_sigqueueinfo(",
        "rt_sigtimedwait(",
        "rt_tgsigqueueinfo(",
        "nanosleep(",
        "clock_nanosleep(",
        "wait4(",
        "waitid(",
        "rt_sigsuspend(",
    ] {
        assert!(want.iter().any(|l| l.starts_with(call)), "{call} {want:#?}");
    }
    let first_diff = want.iter().zip(&got).position(|(a, b)| a != b);
    assert!(
        first_diff.is_none() && want.len() == got.len(),
        "first difference at line {first_diff:?}:\nstrace: {:?}\nreplay: {:?}\n(strace {} lines, replay {})",
        first_diff.and_then(|i| want.get(i)),
        first_diff.and_then(|i| got.get(i)),
        want.len(),
        got.len()
    );
}

/// The names of the syscalls in a replay's lines.
fn syscall_names(replay: &str) -> std::collections::BTreeSet<String> {
    replay
        .lines()
        .map(|l| match l.strip_prefix("[pid ") {
            Some(r) => r.split_once("] ").map_or(r, |x| x.1),
            None => l,
        })
        .filter_map(|l| {
            let l = l.strip_prefix("<... ").unwrap_or(l);
            let end = l.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
            (end > 0 && !l.starts_with("---") && !l.starts_with("+++"))
                .then(|| l[..end].to_string())
        })
        .collect()
}

#[test]
fn rec_e_and_replay_e_select_the_same_syscalls_for_every_class() {
    let dir = tempfile::tempdir().unwrap();
    let exe = tracee("decoders");
    let record = |name: &str, set: Option<&str>| {
        let d = dir.path().join(name);
        std::fs::create_dir(&d).unwrap();
        let trace = dir.path().join(format!("{name}.bin"));
        let mut c = Command::new(bin("rec"));
        c.args(["-q", "-o"]).arg(&trace);
        if let Some(set) = set {
            c.args(["-e", set]);
        }
        let o = c.arg("--").arg(&exe).arg(&d).output().unwrap();
        assert!(
            o.status.success(),
            "{set:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        trace
    };
    let full = record("full", None);
    let classes = [
        "%file",
        "%process",
        "%network",
        "%net",
        "%signal",
        "%ipc",
        "%desc",
        "%memory",
        "%creds",
        "%stat",
        "%lstat",
        "%fstat",
        "%%stat",
        "%statfs",
        "%fstatfs",
        "%%statfs",
        "%pure",
        "%clock",
        "/^(rt_)?sig",
    ];
    for (k, class) in classes.iter().enumerate() {
        let set = format!("trace={class}");
        let by_rec = record(&format!("c{k}"), Some(&set));
        let recorded = syscall_names(&replay(&by_rec, "all", &[]));
        let filtered = syscall_names(&replay(&full, &set, &[]));
        assert_eq!(recorded, filtered, "{class}");
    }
    // %desc and %file hold the calls they are known for.
    let desc = syscall_names(&replay(&full, "trace=%desc", &[]));
    for n in ["read", "write", "close", "epoll_ctl", "select"] {
        assert!(desc.contains(n), "{n}: {desc:?}");
    }
    // The program makes no System V IPC call: %ipc shows no syscall.
    let ipc = replay(&full, "trace=%ipc", &[]);
    assert!(syscall_names(&ipc).is_empty(), "{ipc}");
}

/// strace's and replay's lines of `cmd`, run in `dir` by each (see
/// [`comparable`]).
fn strace_and_replay_lines(cmd: &[&std::ffi::OsStr], dir: &Path) -> (Vec<String>, Vec<String>) {
    let st = dir.join("s.txt");
    let o = Command::new("strace")
        .args(["-f", "-o"])
        .arg(&st)
        .args(cmd)
        .current_dir(dir)
        .env("TZ", "UTC")
        .output()
        .expect("strace runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let trace = dir.join("t.bin");
    let o = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(&trace)
        .arg("--")
        .args(cmd)
        .current_dir(dir)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    compared_lines(&st, &trace, &[])
}

/// strace's lines in `st` and `analyze replay ARGS`'s of `trace`, each
/// made [`comparable`]; both files are removed.
fn compared_lines(st: &Path, trace: &Path, args: &[&str]) -> (Vec<String>, Vec<String>) {
    let r = Command::new(bin("analyze"))
        .arg("replay")
        .args(args)
        .arg(trace)
        .output()
        .unwrap();
    assert!(r.status.success());
    let want = comparable(&std::fs::read_to_string(st).unwrap(), true);
    std::fs::remove_file(st).unwrap();
    std::fs::remove_file(trace).unwrap();
    (want, comparable(&String::from_utf8_lossy(&r.stdout), false))
}

#[test]
fn replay_of_cat_ls_la_and_a_threaded_program_equals_strace_f_line_for_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("text"), "a file\nof two lines\n").unwrap();
    std::os::unix::fs::symlink("text", d.join("link")).unwrap();
    let cmds: [Vec<std::ffi::OsString>; 3] = [
        vec!["cat".into(), d.join("text").into()],
        vec!["ls".into(), "-la".into(), d.clone().into()],
        vec![tracee("one_thread").into()],
    ];
    for cmd in cmds {
        let cmd: Vec<&std::ffi::OsStr> = cmd.iter().map(|c| c.as_os_str()).collect();
        let (want, got) = strace_and_replay_lines(&cmd, dir.path());
        assert!(want.len() > 20, "{cmd:?}: {want:#?}");
        let first_diff = want.iter().zip(&got).position(|(a, b)| a != b);
        assert!(
            first_diff.is_none() && want.len() == got.len(),
            "{cmd:?}: first difference at line {first_diff:?}:\nstrace: {:?}\nreplay: {:?}",
            first_diff.and_then(|i| want.get(i)),
            first_diff.and_then(|i| got.get(i)),
        );
    }
}

/// `strace -f -y -s 32`'s and `replay -y`'s lines (see [`comparable`]) of
/// `cmd` run in `cwd`, by each with only the environment `env`, stdin
/// /dev/null and stdout and stderr pipes; `fresh` runs before each.
fn strace_y_and_replay_y_lines(
    cmd: &[std::ffi::OsString],
    cwd: &Path,
    env: &[(&str, std::ffi::OsString)],
    fresh: &dyn Fn(),
    out: &Path,
) -> (Vec<String>, Vec<String>) {
    let st = out.join("s.txt");
    let run = |c: &mut Command| {
        c.current_dir(cwd)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null());
        fresh();
        let o = c.output().unwrap();
        assert!(
            o.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(Command::new("strace")
        .args(["-f", "-y", "-s", "32", "-o"])
        .arg(&st)
        .args(cmd));
    let trace = out.join("t.bin");
    run(Command::new(bin("rec"))
        .args(["-q", "-y", "-s", "32", "-o"])
        .arg(&trace)
        .arg("--")
        .args(cmd));
    compared_lines(&st, &trace, &["-y"])
}

/// A command, the directory it runs in, and what prepares each of its runs.
type Case<'a> = (Vec<std::ffi::OsString>, &'a Path, &'a dyn Fn());

/// `git` run in `dir` with `env` and a fixed identity and date.
fn git(dir: &Path, env: &[(&str, std::ffi::OsString)], args: &[&str]) {
    let o = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("GIT_AUTHOR_DATE", "2020-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2020-01-01T00:00:00Z")
        .output()
        .expect("git runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn replay_y_of_cat_ls_git_status_python_coreutils_a_cd_through_a_link_and_every_decoder_class_equals_strace_f_y_line_for_line(
) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("text"), "a file\nof two lines\n").unwrap();
    std::os::unix::fs::symlink("text", d.join("link")).unwrap();
    std::os::unix::fs::symlink("d", dir.path().join("dlink")).unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    // The same environment for both runs, and one that makes the
    // programs' output the same from run to run.
    let env: Vec<(&str, std::ffi::OsString)> = vec![
        ("PATH", std::env::var_os("PATH").unwrap_or_default()),
        ("TZ", "UTC".into()),
        ("LANG", "C".into()),
        ("LC_ALL", "C".into()),
        ("HOME", home.clone().into()),
        ("GIT_CONFIG_NOSYSTEM", "1".into()),
        ("PYTHONHASHSEED", "0".into()),
        ("PYTHONDONTWRITEBYTECODE", "1".into()),
    ];
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &env, &["init", "-q", "."]);
    std::fs::write(repo.join("text"), "a file\n").unwrap();
    std::os::unix::fs::symlink("text", repo.join("link")).unwrap();
    git(&repo, &env, &["add", "text", "link"]);
    git(&repo, &env, &["commit", "-q", "-m", "first"]);
    std::fs::write(repo.join("new"), "untracked\n").unwrap();
    std::fs::write(repo.join("text"), "a changed file\n").unwrap();
    // The interpreter itself: `python3` may be a launcher script (pyenv's)
    // that forks and execs it.
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    let python = String::from_utf8(python.stdout).unwrap().trim().to_string();
    let run = dir.path().join("run");
    let fresh_run = || {
        let _ = std::fs::remove_dir_all(&run);
        std::fs::create_dir(&run).unwrap();
    };
    // For the commands that change the files they are given: made again
    // before each run.
    let m = dir.path().join("m");
    let fresh_m = || {
        let _ = std::fs::remove_dir_all(&m);
        std::fs::create_dir(&m).unwrap();
        std::fs::write(m.join("text"), "a file\n").unwrap();
        std::os::unix::fs::symlink("text", m.join("link")).unwrap();
    };
    fresh_m();
    let nothing = || {};
    let os = |v: &[&str]| {
        v.iter()
            .map(Into::into)
            .collect::<Vec<std::ffi::OsString>>()
    };
    // Without address space randomization: how many 1 MiB arenas
    // Python's allocator maps depends on where they land (how many of its
    // pools fit), which differs from run to run.
    let python_c = |code: &str| os(&["setarch", std::env::consts::ARCH, "-R", &python, "-c", code]);
    let cmds: Vec<Case<'_>> = vec![
        (os(&["cat", "text"]), &d, &nothing),
        (os(&["ls", "-la", "."]), &d, &nothing),
        // A working directory reached through a symbolic link: -y names
        // the directory the kernel went to.
        (
            os(&["sh", "-c", "cd dlink && exec cat text"]),
            dir.path(),
            &nothing,
        ),
        // --no-optional-locks: status does not refresh the index, whose
        // stat data would then differ between the runs.
        (
            os(&["git", "--no-optional-locks", "status"]),
            &repo,
            &nothing,
        ),
        (python_c("import json, sqlite3"), dir.path(), &nothing),
        (
            vec![tracee("decoders").into(), run.clone().into()],
            dir.path(),
            &fresh_run,
        ),
        // getpeername of stdin, which is no socket: the length given.
        (os(&["bash", "-c", "echo hi"]), dir.path(), &nothing),
        // clone3's struct, whole under -s 32.
        (vec![tracee("one_thread").into()], dir.path(), &nothing),
        // renameat2's flags, umask's 000, unlinkat's, symlink's.
        (os(&["mv", "text", "moved"]), &m, &fresh_m),
        (os(&["chmod", "600", "text"]), &m, &fresh_m),
        (os(&["mkdir", "-p", "x/y/z"]), &m, &fresh_m),
        (os(&["ln", "-s", "text", "new"]), &m, &fresh_m),
        (os(&["rm", "-rf", "../m"]), &m, &fresh_m),
        // A file unlinked while open, and its name opened again: the old
        // descriptor's file `(deleted)`, the new one's not, then named by
        // its new name after a rename.
        (
            python_c(
                "import os\n\
                 fd = os.open('gone', os.O_CREAT | os.O_WRONLY, 0o600)\n\
                 os.unlink('gone')\n\
                 os.write(fd, b'x')\n\
                 again = os.open('gone', os.O_CREAT | os.O_WRONLY, 0o600)\n\
                 os.write(again, b'y')\n\
                 os.rename('gone', 'moved')\n\
                 os.write(again, b'z')\n\
                 os.close(fd)\n\
                 os.close(again)",
            ),
            &m,
            &fresh_m,
        ),
        // A directory renamed while descriptors are open below it and the
        // working directory is in it: they follow it (`subx`, beside it,
        // does not), an unlinked file below it too; the empty directory it
        // replaces is `(deleted)`; then two directories swapped by
        // renameat2's RENAME_EXCHANGE.
        (
            python_c(
                "import os, ctypes\n\
                 os.makedirs('sub/inner'); os.mkdir('subx'); os.mkdir('empty')\n\
                 os.mkdir('a'); os.mkdir('b')\n\
                 f = os.open('sub/inner/f', os.O_CREAT | os.O_WRONLY, 0o600)\n\
                 g = os.open('subx/g', os.O_CREAT | os.O_WRONLY, 0o600)\n\
                 d = os.open('sub', os.O_RDONLY | os.O_DIRECTORY)\n\
                 e = os.open('empty', os.O_RDONLY | os.O_DIRECTORY)\n\
                 u = os.open('sub/u', os.O_CREAT | os.O_WRONLY, 0o600)\n\
                 os.unlink('sub/u')\n\
                 os.chdir('sub/inner')\n\
                 os.rename('../../sub', '../../empty')\n\
                 os.write(f, b'x'); os.write(g, b'y'); os.fstat(d); os.fstat(e)\n\
                 os.write(u, b'u')\n\
                 os.close(os.open('h', os.O_CREAT | os.O_WRONLY, 0o600))\n\
                 os.chdir('../..')\n\
                 fa = os.open('a/f', os.O_CREAT | os.O_WRONLY, 0o600)\n\
                 fb = os.open('b/f', os.O_CREAT | os.O_WRONLY, 0o600)\n\
                 libc = ctypes.CDLL(None, use_errno=True)\n\
                 assert libc.renameat2(-100, b'a', -100, b'b', 2) == 0\n\
                 os.write(fa, b'a'); os.write(fb, b'b')",
            ),
            &m,
            &fresh_m,
        ),
    ];
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for (cmd, cwd, fresh) in cmds {
        let (want, got) = strace_y_and_replay_y_lines(&cmd, cwd, &env, fresh, &out);
        assert!(want.len() > 30, "{cmd:?}: {want:#?}");
        // -y named descriptors (the libraries' at least).
        assert!(
            want.iter().filter(|l| l.contains("</")).count() > 5,
            "{cmd:?}: {want:#?}"
        );
        let first_diff = (0..want.len().max(got.len())).find(|&i| want.get(i) != got.get(i));
        assert!(
            first_diff.is_none(),
            "{cmd:?}: first difference at line {first_diff:?}:\nstrace: {:?}\nreplay: {:?}\n(strace {} lines, replay {})",
            first_diff.and_then(|i| want.get(i)),
            first_diff.and_then(|i| got.get(i)),
            want.len(),
            got.len()
        );
    }
}

/// The sleep lines of `text` with what differs from run to run masked: the
/// numbers of every timespec and the addresses.
fn mask_sleeps(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains("sleep("))
        .map(|l| {
            let mut out = String::new();
            let mut rest = l;
            while let Some(k) = ["tv_sec=", "tv_nsec=", "0x"]
                .iter()
                .filter_map(|p| rest.find(p).map(|k| (k, p.len())))
                .min()
                .map(|(k, n)| k + n)
            {
                out.push_str(&rest[..k]);
                let end = rest[k..]
                    .find(|c: char| !c.is_ascii_hexdigit())
                    .map_or(rest.len(), |e| k + e);
                out.push('N');
                rest = &rest[end..];
            }
            out.push_str(rest);
            out
        })
        .collect()
}

#[test]
fn replay_shows_the_time_an_interrupted_sleep_had_left_like_strace() {
    let (want, out) = strace_and_replay("sleep_restart", "trace=nanosleep,clock_nanosleep");
    let want = mask_sleeps(&want);
    assert_eq!(want.len(), 3, "{want:#?}");
    // The two relative sleeps show the time left as strace does, the
    // absolute one the address of a timespec the kernel did not write.
    for relative in &want[..2] {
        assert!(
            relative.contains(
                "{tv_sec=N, tv_nsec=N}, {tv_sec=N, tv_nsec=N}) = ? ERESTART_RESTARTBLOCK"
            ),
            "{want:#?}"
        );
    }
    assert!(
        want[2].contains("TIMER_ABSTIME, {tv_sec=N, tv_nsec=N}, 0xN)"),
        "{want:#?}"
    );
    assert_eq!(mask_sleeps(&out), want, "{out}");
}

/// Every thread's lines of `text` (strace's `-f -o` lines when
/// `strace_prefix`, else replay's), each as `PIDk rest`: the pids numbered
/// in order of creation (the first line's, then as clone and clone3 return
/// them), run-dependent values masked ([`mask_run_values`]), `= ` not
/// aligned. Unlike [`comparable`], a line another thread's cut stays as it
/// is: the cuts are what is compared.
fn comparable_threads(text: &str, strace_prefix: bool) -> Vec<String> {
    let split: Vec<(String, &str)> = text
        .lines()
        .map(|l| {
            if let Some(r) = l.strip_prefix("[pid ") {
                let (p, r) = r.split_once("] ").unwrap_or(("", r));
                (p.trim().to_string(), r)
            } else if strace_prefix {
                let (p, r) = l.split_once(' ').unwrap_or(("", l));
                (p.to_string(), r.trim_start())
            } else {
                (String::new(), l)
            }
        })
        .collect();
    let mut pids: Vec<String> = split.first().map(|(p, _)| p.clone()).into_iter().collect();
    for (_, rest) in &split {
        let clone = [
            "clone(",
            "clone3(",
            "<... clone resumed>",
            "<... clone3 resumed>",
        ]
        .iter()
        .any(|c| rest.starts_with(c));
        if let Some((_, ret)) = rest.rsplit_once(" = ").filter(|_| clone) {
            pids.push(ret.to_string());
        }
    }
    split
        .iter()
        .map(|(pid, rest)| {
            let rest = match rest.split_once(" = ") {
                Some((call, ret)) => format!("{} = {ret}", call.trim_end()),
                None => rest.to_string(),
            };
            let masked = mask_run_values(&[rest], &mut pids.clone()).remove(0);
            match pids.iter().position(|p| p == pid) {
                Some(k) => format!("PID{k} {masked}"),
                None => format!("{pid} {masked}"),
            }
        })
        .collect()
}

/// `exec_cut_short ARGS` under `strace -f` and under rec: both tools'
/// lines ([`comparable_threads`]) from the execve of thread PID1 on,
/// with the line of thread PID2's death left out (it is asserted to come
/// after PID2's cut call) and `sorted` lines after the execve line sorted.
fn exec_from_a_thread(args: &[&str], sorted: usize) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let exe = tracee("exec_cut_short");
    let st = dir.path().join("s.txt");
    let o = Command::new("strace")
        .args(["-f", "-o"])
        .arg(&st)
        .arg(&exe)
        .args(args)
        .output()
        .expect("strace runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let trace = dir.path().join("t.bin");
    let o = Command::new(bin("rec"))
        .args(["-q", "-o"])
        .arg(&trace)
        .arg("--")
        .arg(&exe)
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    // From the execve on: what came before depends on how often the
    // execing thread looked at the others' state.
    let from_exec = |lines: Vec<String>| -> Vec<String> {
        let k = lines
            .iter()
            .position(|l| l.starts_with("PID1 execve(") && l.contains("after-exec"))
            .unwrap_or_else(|| panic!("no execve of PID1: {lines:#?}"));
        let mut lines = lines[k..].to_vec();
        // The waiter is reaped, and its `+++ exited` printed, whenever the
        // tool's wait returns it after its exit event: anywhere after its
        // cut call, in either tool.
        if let Some(death) = lines.iter().position(|l| l.starts_with("PID2 +++")) {
            let cut = lines.iter().position(|l| l.starts_with("PID2 "));
            assert!(cut < Some(death), "{lines:#?}");
            lines.remove(death);
        }
        if lines.len() > sorted {
            lines[1..=sorted].sort();
        }
        lines
    };
    let want = from_exec(comparable_threads(
        &std::fs::read_to_string(&st).unwrap(),
        true,
    ));
    let got = from_exec(comparable_threads(&analyze(&["replay"], &trace), false));
    assert!(
        want.last()
            .is_some_and(|l| l == "PID0 +++ exited with 3 +++"),
        "{want:#?}"
    );
    (want, got)
}

/// Fails unless `got` equals `want`, saying where they first differ.
fn assert_same_lines(want: &[String], got: &[String]) {
    let first_diff = want.iter().zip(got).position(|(a, b)| a != b);
    assert!(
        first_diff.is_none() && want.len() == got.len(),
        "first difference at line {first_diff:?}:\nstrace: {:?}\nreplay: {:?}\n{got:#?}",
        first_diff.and_then(|i| want.get(i)),
        first_diff.and_then(|i| got.get(i)),
    );
}

#[test]
fn replay_of_an_exec_from_a_thread_cuts_the_other_threads_calls_short_like_strace_f() {
    // The leader (PID0) sleeps in clock_nanosleep, thread PID2 waits in
    // futex, thread PID1 execs once both are asleep. The exec kills the
    // leader and the waiter at once: which exit event each tool sees
    // first is a race, so the two cut calls are compared as a set.
    let (want, got) = exec_from_a_thread(&[], 2);
    // What strace 6 prints: the execve line cut by the first exit event,
    // each call cut short (` <unfinished ...>` where the call had more to
    // show at its exit), the leader superseded, the execve resumed in the
    // leader's pid.
    assert!(want[0].ends_with(" vars */ <unfinished ...>"), "{want:#?}");
    assert_eq!(
        want[1..5],
        [
            "PID0 <... clock_nanosleep resumed> <unfinished ...>) = ?",
            "PID2 <... futex resumed>) = ?",
            "PID0 +++ superseded by execve in pid PID1 +++",
            "PID0 <... execve resumed>) = 0",
        ],
        "{want:#?}"
    );
    assert_same_lines(&want, &got);
}

#[test]
fn replay_of_an_exec_from_a_thread_after_the_leader_exited_says_the_pid_changed_like_strace_f() {
    // The leader called pthread_exit: no exit event cuts the execve line,
    // which says the pid changes.
    let (want, got) = exec_from_a_thread(&["leader-exits"], 0);
    assert!(
        want[0].ends_with(" vars */ <pid changed to PID0 ...>"),
        "{want:#?}"
    );
    assert_eq!(
        want[1..3],
        [
            "PID0 +++ superseded by execve in pid PID1 +++",
            "PID0 <... execve resumed>) = 0",
        ],
        "{want:#?}"
    );
    assert_same_lines(&want, &got);
}
