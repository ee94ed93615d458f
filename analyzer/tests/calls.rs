//! The call layer's corner cases, seen through the views: no view may see a
//! chunk boundary, whatever the chunk size and the filters.

use crate::helpers::*;
use ptrec_format::{Record, Termination, Trace};

fn run(args: &[&str], p: &std::path::Path) -> String {
    let mut a = args.to_vec();
    a.push(p.to_str().unwrap());
    stdout(&analyze(&a))
}

#[test]
fn every_view_is_the_same_with_one_record_per_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let (one, tiny) = (tmp(&dir, "one.bin"), tmp(&dir, "tiny.bin"));
    forktree(&one);
    forktree_chunked(&tiny, 1);
    let t = Trace::open(&tiny).unwrap();
    assert_eq!(t.chunks().len() as u64, t.record_count());
    assert_eq!(Trace::open(&one).unwrap().chunks().len(), 1);
    for args in [
        vec!["replay", "-T", "-tt"],
        vec!["replay", "-e", "trace=read,write", "-T"],
        vec!["replay", "-p", "102", "-T"],
        vec!["replay", "-Z"],
        vec!["replay", "-e", "status=successful", "-T"],
        vec!["summary", "--json"],
        vec!["summary", "-w", "--per-process"],
        vec!["tree", "--json"],
        vec!["failures"],
        vec!["failures", "--json"],
        vec!["files", "--json"],
    ] {
        assert_eq!(run(&args, &one), run(&args, &tiny), "{args:?}");
    }
}

/// Process 200 fails an open before the fork that creates it is recorded,
/// then exits 1.
fn open_before_fork(path: &std::path::Path, chunk_bytes: usize) {
    let mut g = Gen::new(path, &["sh"], chunk_bytes);
    let t = g.tick();
    g.put(Record::Attach {
        tid: 100,
        time: t,
        tgid: 100,
        ppid: 1,
        state: b'R',
        group_stopped: false,
        comm: b"sh",
        exe: b"",
        cwd: b"",
    });
    g.call(100, 39, [0; 6], 100, 1);
    g.enter(
        200,
        257,
        [(-100i64) as u64, 0x4000, 0, 0, 0, 0],
        &[(1, S, 0x4000, b"/missing")],
    );
    g.exit(200, 257, -2, 1, &[]);
    let t = g.tick();
    g.put(Record::NewChild {
        tid: 100,
        time: t,
        child: 200,
        kind: ptrec_format::ChildKind::Fork,
        flags: 0x1200011,
        inferred: false,
    });
    g.call(200, 39, [0; 6], 200, 1);
    for (tid, code) in [(200, 1), (100, 0)] {
        let t = g.tick();
        g.put(Record::Death {
            tid,
            time: t,
            how: Termination::Exited(code),
        });
    }
    g.finish();
}

#[test]
fn failures_finds_the_process_of_calls_recorded_before_its_creation_in_every_chunking() {
    // In one chunk the fork is read before the chunk's calls; with one
    // record per chunk the open is looked up before any process has its
    // thread, and the view walks again over the finished tree.
    let dir = tempfile::tempdir().unwrap();
    let (one, tiny) = (tmp(&dir, "one.bin"), tmp(&dir, "tiny.bin"));
    open_before_fork(&one, 1 << 20);
    open_before_fork(&tiny, 1);
    let text = run(&["failures"], &one);
    assert!(text.contains("1 of 2 processes failed"), "{text}");
    assert!(
        text.contains("ENOENT      1x  /missing  (openat)"),
        "{text}"
    );
    assert!(text.contains("= 200"), "{text}");
    for args in [vec!["failures"], vec!["failures", "--json"]] {
        assert_eq!(run(&args, &one), run(&args, &tiny), "{args:?}");
    }
}

/// Thread 100 waits in wait4 while thread 101 makes `n` calls; the status
/// and rusage are captured at the exit.
fn long_wait(path: &std::path::Path, chunk_bytes: usize, n: usize) {
    let mut g = Gen::new(path, &["sh"], chunk_bytes);
    g.enter(100, 61, [u64::MAX, 0x1000, 0, 0, 0, 0], &[]);
    for _ in 0..n {
        g.call(101, 39, [0; 6], 101, 1);
    }
    let status = 3i32 << 8;
    g.exit(
        100,
        61,
        102,
        5,
        &[(1, AT_EXIT, 0x1000, &status.to_le_bytes())],
    );
    g.finish();
}

const AT_EXIT: u8 = ptrec_format::mem_flags::AT_EXIT;

#[test]
fn a_call_across_chunks_keeps_its_arguments_output_and_duration() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "wait.bin");
    long_wait(&p, 1, 400);
    let t = Trace::open(&p).unwrap();
    assert!(t.chunks().len() > 10, "{}", t.chunks().len());
    // 1 us per record: 2 + 800 records apart.
    let out = run(&["replay", "-T"], &p);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 402, "{out}");
    assert_eq!(lines[0], "[pid   100] wait4(-1,  <unfinished ...>");
    assert_eq!(
        lines[401],
        "[pid   100] <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 102 <0.000801>"
    );
    // Alone, it is one line, as strace prints it.
    let out = run(&["replay", "-T", "-p", "100"], &p);
    assert_eq!(
        out,
        "[pid   100] wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 102 <0.000801>\n"
    );
    let out = run(&["replay", "-T", "-e", "trace=wait4"], &p);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains("WEXITSTATUS(s) == 3}], 0, NULL) = 102 <0.000801>"),
        "{out}"
    );
    // The summary times it once, with the group's CPU time over the call
    // (the other thread's 400 us and its own 5).
    let v: serde_json::Value = serde_json::from_str(&run(&["summary", "--json"], &p)).unwrap();
    let w = v["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "wait4")
        .unwrap()
        .clone();
    assert_eq!(w["calls"], 1);
    assert!(
        (w["seconds"].as_f64().unwrap() - 0.000405).abs() < 1e-9,
        "{w}"
    );
}

/// Two threads: 100 opens paths that do not exist while 101 writes between
/// each openat's entry and exit.
fn interleaved_opens(path: &std::path::Path, chunk_bytes: usize) {
    let mut g = Gen::new(path, &["sh"], chunk_bytes);
    for i in 0..50u64 {
        let name = format!("/no/such/file{i}");
        g.enter(
            100,
            257,
            [(-100i64) as u64, 0x4000, 0, 0, 0, 0],
            &[(1, S, 0x4000, name.as_bytes())],
        );
        g.call(101, 1, [1, 0x6000, 2, 0, 0, 0], 2, 1);
        g.exit(100, 257, -2, 1, &[]);
    }
    g.finish();
}

#[test]
fn a_trace_filter_keeps_each_call_on_one_line_so_grep_finds_the_path() {
    let dir = tempfile::tempdir().unwrap();
    for chunk in [1 << 20, 300, 1] {
        let p = tmp(&dir, &format!("open{chunk}.bin"));
        interleaved_opens(&p, chunk);
        let out = run(&["replay", "-e", "trace=openat"], &p);
        let enoent: Vec<&str> = out.lines().filter(|l| l.contains("ENOENT")).collect();
        assert_eq!(enoent.len(), 50, "{chunk}: {out}");
        for (i, l) in enoent.iter().enumerate() {
            assert!(
                l.contains(&format!("\"/no/such/file{i}\", O_RDONLY)")),
                "{chunk}: {l}"
            );
        }
        assert_eq!(out.lines().count(), 50, "{chunk}: {out}");
        // The same under -p and -Z.
        let out = run(&["replay", "-p", "100"], &p);
        assert_eq!(out.lines().filter(|l| l.contains("/no/such/")).count(), 50);
        assert!(!out.contains("unfinished"), "{out}");
        let out = run(&["replay", "-Z"], &p);
        assert_eq!(out.lines().count(), 50, "{out}");
        // Unfiltered, the write comes in between: strace's two halves.
        let out = run(&["replay"], &p);
        assert_eq!(
            out.matches("<unfinished ...>").count(),
            50,
            "{chunk}: {out}"
        );
        assert_eq!(out.matches("<... openat resumed>) ").count(), 50, "{chunk}");
    }
}

#[test]
fn calls_an_exec_from_a_thread_cuts_short_end_at_their_exit_events_in_every_chunking() {
    let dir = tempfile::tempdir().unwrap();
    for chunk in [1 << 20, 1] {
        let p = tmp(&dir, &format!("exec{chunk}.bin"));
        let mut g = Gen::new(&p, &["sh"], chunk);
        // The leader 100 reads, 102 waits in futex, 101 execs.
        g.enter(100, 0, [0, 0x1000, 10, 0, 0, 0], &[]);
        g.enter(102, 202, [0x3000, 0, 0, 0, 0, 0], &[]);
        let argv = 0x7200u64.to_le_bytes();
        g.enter(
            101,
            59,
            [0x7000, 0x7100, 0, 0, 0, 0],
            &[
                (0, S, 0x7000, b"/bin/true"),
                (1, 0, 0x7100, &[argv, [0; 8]].concat()),
                (9, S, 0x7200, b"true"),
            ],
        );
        // strace prints a dying thread's call at its PTRACE_EVENT_EXIT.
        for tid in [100, 102] {
            let t = g.tick();
            g.put(Record::ExitEvent {
                tid,
                time: t,
                status: 0,
            });
        }
        let t = g.tick();
        g.put(Record::Death {
            tid: 102,
            time: t,
            how: Termination::Exited(0),
        });
        let t = g.tick();
        g.put(Record::Exec {
            tid: 100,
            time: t,
            former_tid: 101,
            filename: b"/bin/true",
            argv: vec![b"true"],
            argv_redacted: Vec::new(),
        });
        g.exit(100, 59, 0, 30, &[]);
        g.enter(100, 231, [3, 0, 0, 0, 0, 0], &[]);
        let t = g.tick();
        g.put(Record::ExitEvent {
            tid: 100,
            time: t,
            status: 3 << 8,
        });
        let t = g.tick();
        g.put(Record::Death {
            tid: 100,
            time: t,
            how: Termination::Exited(3),
        });
        g.finish();
        let out = run(&["replay"], &p);
        assert_eq!(
            out,
            "[pid   100] read(0,  <unfinished ...>\n\
             [pid   102] futex(0x3000, FUTEX_WAIT, 0, NULL <unfinished ...>\n\
             [pid   101] execve(\"/bin/true\", [\"true\"], NULL <unfinished ...>\n\
             [pid   100] <... read resumed> <unfinished ...>) = ?\n\
             [pid   102] <... futex resumed>)        = ?\n\
             [pid   102] +++ exited with 0 +++\n\
             [pid   100] +++ superseded by execve in pid 101 +++\n\
             [pid   100] <... execve resumed>)       = 0\n\
             [pid   100] exit_group(3)               = ?\n\
             [pid   100] +++ exited with 3 +++\n",
            "{chunk}"
        );
    }
}

#[test]
fn calls_cut_short_by_death_say_so_in_every_chunking() {
    let dir = tempfile::tempdir().unwrap();
    for chunk in [1 << 20, 1] {
        let p = tmp(&dir, &format!("die{chunk}.bin"));
        let mut g = Gen::new(&p, &["sh"], chunk);
        g.enter(100, 0, [0, 0x1000, 10, 0, 0, 0], &[]);
        g.enter(101, 231, [7, 0, 0, 0, 0, 0], &[]);
        g.call(102, 39, [0; 6], 102, 1);
        for tid in [101, 100] {
            let t = g.tick();
            g.put(Record::Death {
                tid,
                time: t,
                how: Termination::Exited(7),
            });
        }
        g.finish();
        let out = run(&["replay"], &p);
        assert_eq!(
            out,
            "[pid   100] read(0,  <unfinished ...>\n\
             [pid   101] exit_group(7 <unfinished ...>\n\
             [pid   102] getpid()                    = 102\n\
             [pid   101] <... exit_group resumed>)   = ?\n\
             [pid   101] +++ exited with 7 +++\n\
             [pid   100] <... read resumed> <unfinished ...>) = ?\n\
             [pid   100] +++ exited with 7 +++\n",
            "{chunk}"
        );
        // Counted once per entry, with no time.
        let v: serde_json::Value = serde_json::from_str(&run(&["summary", "--json"], &p)).unwrap();
        assert_eq!(v["total"]["calls"], 3, "{v}");
    }
}

#[test]
fn replay_prefixes_thread_ids_when_the_trace_holds_two_threads_whatever_the_chunking() {
    let d = tempfile::tempdir().unwrap();
    // (threads' calls, one record per chunk?) -> prefixed?
    for (tids, every, prefixed) in [
        (&[100, 100, 100][..], false, false),
        (&[100, 100, 100], true, false),
        // Each chunk holds one thread: only the chunks together hold two.
        (&[100, 100, 101], true, true),
        (&[100, 101], false, true),
    ] {
        let p = d.path().join("t.bin");
        let mut g = Gen::new(&p, &["x"], if every { 1 } else { 1 << 20 });
        // rec's own note concerns no thread.
        let time = g.tick();
        g.put(Record::Note {
            tid: 0,
            time,
            kind: ptrec_format::note_kind::END,
            value: 0,
            text: b"",
        });
        for &tid in tids {
            g.call(tid, 39, [0; 6], i64::from(tid), 1);
        }
        g.finish();
        let t = Trace::open(&p).unwrap();
        assert_eq!(
            ptrec_analyzer::stats::many_threads(&t),
            prefixed,
            "{tids:?} {every}"
        );
        let text = run(&["replay"], &p);
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("getpid()")).collect();
        assert_eq!(lines.len(), tids.len(), "{text}");
        assert!(
            lines.iter().all(|l| l.starts_with("[pid ") == prefixed),
            "{text}"
        );
        // strace's -f, which a strace user types, changes nothing.
        assert_eq!(run(&["replay", "-f"], &p), text);
    }
}
