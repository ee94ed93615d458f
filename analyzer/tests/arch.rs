//! A trace of another architecture: format/'s committed aarch64 golden
//! file (what `cat /etc/hostname` does on arm64: openat, read, write,
//! close, exit_group at aarch64's numbers 56, 63, 64, 57, 94, arguments in
//! x0..x5, the number in x8) read by every view on this host, with
//! aarch64's names, numbers and argument registers.

use std::path::Path;

use crate::helpers::*;

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../format/tests/data/golden-aarch64.bin"
);

/// The calls as strace on arm64 prints them: the names of aarch64's
/// numbers, the arguments of x0..x5.
const REPLAY: &str = "\
openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3
read(3, 0xffffe0000000, 4096)           = 8
write(1, 0xffffe0000000, 8)             = 8
close(3)                                = 0
exit_group(0)                           = ?
+++ exited with 0 +++
";

fn run(args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.push(GOLDEN);
    stdout(&analyze(&a))
}

#[test]
fn every_view_reads_an_aarch64_trace_with_aarch64_names_and_registers() {
    // replay: names from aarch64's table, arguments from x0..x5.
    assert_eq!(run(&["replay"]), REPLAY);
    // -i: the program counter (pc), not x86_64's rip slot.
    let ip = run(&["replay", "-i", "-e", "trace=openat"]);
    assert!(
        ip.starts_with("[0000ffff80000000] openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3\n"),
        "{ip}"
    );
    // -e takes aarch64's names and numbers: 63 is read here (x86_64's
    // 63 is uname), and x86_64-only calls are no aarch64 syscalls.
    assert_eq!(
        run(&["replay", "-e", "trace=63"]),
        "read(3, 0xffffe0000000, 4096)           = 8\n+++ exited with 0 +++\n"
    );
    let o = analyze(&["replay", "-e", "trace=open", GOLDEN]);
    assert!(!o.status.success());
    // --json: the aarch64 number with its name.
    let j = run(&["replay", "--json"]);
    let open = j
        .lines()
        .find(|l| l.contains("\"name\":\"openat\""))
        .unwrap();
    assert!(open.contains("\"nr\":56,"), "{open}");
    assert!(open.contains("\"ip\":281472829227008,"), "{open}");

    let names = ["openat", "read", "write", "close", "exit_group"];
    let summary = run(&["summary"]);
    for n in names {
        assert!(
            summary.lines().any(|l| l.ends_with(&format!(" {n}"))),
            "{n}: {summary}"
        );
    }
    assert!(summary.contains("       5           total"), "{summary}");
    let per = run(&["summary", "--per-process", "--json"]);
    assert!(per.contains("\"name\": \"openat\""), "{per}");

    let overview = run(&[]);
    assert!(overview.contains("1 (1 threads)"), "{overview}");
    assert!(
        overview.lines().any(|l| l.ends_with(" openat")),
        "{overview}"
    );
    assert!(!overview.contains("syscall_0x"), "{overview}");

    let tree = run(&["tree"]);
    assert!(tree.contains("500 cat /etc/hostname"), "{tree}");
    assert!(tree.contains("exec \"/usr/bin/cat\""), "{tree}");

    let failures = run(&["failures"]);
    assert!(
        failures.starts_with("no process failed: its one process exited 0"),
        "{failures}"
    );
    // files: openat's path (x1) and the 8 bytes read through its fd (x0).
    let files = run(&["files"]);
    let row = files
        .lines()
        .find(|l| l.ends_with("/etc/hostname"))
        .unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!((cols[0], cols[8]), ("1", "8"), "{files}");
    // output: write(1, ...) is stdout's; its buffer was not captured.
    let output = run(&["output"]);
    assert!(output.contains("8 more bytes not captured"), "{output}");

    let slow = run(&["slow"]);
    assert!(
        slow.contains("cat: openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3"),
        "{slow}"
    );
    for n in ["close", "openat", "read", "write"] {
        assert!(slow.lines().any(|l| l.starts_with(n)), "{n}: {slow}");
    }

    let info = run(&["info"]);
    assert!(
        info.contains("arch:             0xc00000b7 (aarch64)\n"),
        "{info}"
    );
    assert!(
        info.contains("register layout:  2 (aarch64: 34 registers)\n"),
        "{info}"
    );
    assert!(info.contains("integrity:        ok"), "{info}");
    let info = run(&["info", "--json"]);
    assert!(info.contains("\"arch_name\": \"aarch64\""), "{info}");

    let diff = stdout(&analyze(&["diff", GOLDEN, GOLDEN]));
    assert!(diff.contains("first divergence: none"), "{diff}");
    assert!(diff.contains("calls 5 -> 5"), "{diff}");
}

#[test]
fn timeline_and_export_name_aarch64_calls() {
    let dir = tempfile::tempdir().unwrap();
    let pf = tmp(&dir, "t.pftrace");
    let o = analyze(&["timeline", "-o", pf.to_str().unwrap(), GOLDEN]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Every call is a slice (the names are inside compressed packets;
    // tests/e2e reads them back with Perfetto's protos).
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("analyze: 5 slices"), "{err}");

    let out = tmp(&dir, "x");
    stdout(&analyze(&[
        "export",
        "--format",
        "ndjson",
        "-o",
        out.to_str().unwrap(),
        GOLDEN,
    ]));
    let calls = find_part(&out.join("calls"));
    let text = std::fs::read_to_string(calls).unwrap();
    let open = text
        .lines()
        .find(|l| l.contains("\"syscall\":\"openat\""))
        .unwrap();
    assert!(open.contains("\"nr\":56,"), "{open}");
    assert!(open.contains("\"arg0\":-100,"), "{open}");
    assert!(open.contains("\"path\":\"/etc/hostname\""), "{open}");
    let read = text
        .lines()
        .find(|l| l.contains("\"syscall\":\"read\""))
        .unwrap();
    assert!(
        read.contains("\"nr\":63,") && read.contains("\"arg2\":4096,"),
        "{read}"
    );
}

fn find_part(dir: &Path) -> std::path::PathBuf {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            return find_part(&p);
        }
        if p.extension().is_some_and(|x| x == "ndjson") {
            return p;
        }
    }
    panic!("no part under {}", dir.display());
}
