//! `replay -y`: descriptors shown with what they refer to, from the
//! descriptor tables kept over the stream, at every chunking.

use crate::helpers::*;
use ptrec_format::{ChildKind, Record};

const AT_EXIT: u8 = ptrec_format::mem_flags::AT_EXIT;
use ptrec_abi::fds::O_CLOEXEC;

fn files(path: &std::path::Path, chunk_bytes: usize) {
    let mut g = Gen::new(path, &["sh"], chunk_bytes);
    g.enter(
        100,
        80,
        [0x1000, 0, 0, 0, 0, 0],
        &[(0, S, 0x1000, b"/work")],
    );
    g.exit(100, 80, 0, 1, &[]);
    g.enter(
        100,
        257,
        [(-100i64) as u64, 0x1000, 0, 0, 0, 0],
        &[(1, S, 0x1000, b"./src//a.c")],
    );
    g.exit(100, 257, 3, 1, &[]);
    g.enter(100, 33, [3, 5, 0, 0, 0, 0], &[]);
    g.exit(100, 33, 5, 1, &[]);
    g.enter(100, 41, [2, 1 | O_CLOEXEC, 0, 0, 0, 0], &[]);
    g.exit(100, 41, 4, 1, &[]);
    let sa = [2u8, 0, 0x13, 0x88, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    g.enter(100, 42, [4, 0x2000, 16, 0, 0, 0], &[(1, 0, 0x2000, &sa)]);
    g.exit(100, 42, 0, 1, &[]);
    g.call(100, 1, [4, 0x4000, 0, 0, 0, 0], 0, 1);
    // A read of fd 3 across chunks while thread 101 is busy.
    g.enter(100, 0, [3, 0x3000, 4, 0, 0, 0], &[]);
    for _ in 0..20 {
        g.call(101, 39, [0; 6], 100, 1);
    }
    g.exit(100, 0, 4, 1, &[(1, AT_EXIT, 0x3000, b"int ")]);
    g.enter(100, 57, [0; 6], &[]);
    let t = g.tick();
    g.put(Record::NewChild {
        tid: 100,
        time: t,
        child: 102,
        kind: ChildKind::Fork,
        flags: 0x1200011,
        inferred: false,
    });
    g.exit(100, 57, 102, 1, &[]);
    g.enter(100, 3, [3, 0, 0, 0, 0, 0], &[]);
    g.exit(100, 3, 0, 1, &[]);
    g.enter(100, 0, [3, 0x3000, 4, 0, 0, 0], &[]);
    g.exit(100, 0, -9, 1, &[]);
    // The child still has fd 3 (a copy of the table), and the socket
    // (close-on-exec) goes at its exec.
    g.call(102, 1, [3, 0x4000, 0, 0, 0, 0], 0, 1);
    let t = g.tick();
    g.put(Record::Exec {
        tid: 102,
        time: t,
        former_tid: 102,
        filename: b"/bin/cat",
        argv: vec![b"cat"],
        argv_redacted: Vec::new(),
    });
    g.call(102, 1, [4, 0x4000, 0, 0, 0, 0], -9, 1);
    g.call(102, 1, [5, 0x4000, 0, 0, 0, 0], 0, 1);
    g.finish();
}

#[test]
fn dash_y_names_files_sockets_and_follows_dup_close_fork_and_exec() {
    let dir = tempfile::tempdir().unwrap();
    let (big, tiny) = (tmp(&dir, "big.bin"), tmp(&dir, "tiny.bin"));
    files(&big, 1 << 20);
    files(&tiny, 1);
    let p = big.to_str().unwrap();
    let out = stdout(&analyze(&["replay", "-y", "-e", "trace=!getpid", p]));
    let lines: Vec<&str> = out.lines().collect();
    let want = [
        "chdir(\"/work\")",
        "= 3</work/src/a.c>",
        // Arguments as the table was before the call, its result after.
        "dup2(3</work/src/a.c>, 5)   = 5</work/src/a.c>",
        "openat(AT_FDCWD</work>, ",
        "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 4<TCP>",
        "connect(4<TCP>, {sa_family=AF_INET, sin_port=htons(5000)",
        "read(3</work/src/a.c>, \"int \", 4)",
        "close(3</work/src/a.c>)",
        "read(3, 0x3000, 4)",
        "[pid   102] write(3</work/src/a.c>, ",
        "[pid   102] write(4, ",
        "[pid   102] write(5</work/src/a.c>, ",
    ];
    for w in want {
        assert!(lines.iter().any(|l| l.contains(w)), "{w:?} not in:\n{out}");
    }
    // After connect the socket names its peer.
    // (abi escapes the `>` of `->` in a descriptor's name.)
    assert!(
        out.contains("write(4<TCP:[-") && out.contains("127.0.0.1:5000]>, "),
        "{out}"
    );
    // Without -y, no names; with one record per chunk, the same lines.
    let plain = stdout(&analyze(&["replay", p]));
    assert!(
        !plain.contains("</work") && !plain.contains("<TCP"),
        "{plain}"
    );
    for args in [
        vec!["replay", "-y"],
        vec!["replay", "-y", "-p", "102"],
        vec!["replay", "-yy", "-T"],
    ] {
        let run = |f: &std::path::Path| {
            let mut a = args.clone();
            a.push(f.to_str().unwrap());
            stdout(&analyze(&a))
        };
        assert_eq!(run(&big), run(&tiny), "{args:?}");
    }
}

#[test]
fn an_attached_process_s_open_descriptors_come_from_its_open_fd_records() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "attach.bin");
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
        cwd: b"/srv",
    });
    for (fd, target) in [(3, &b"/var/log/d.log"[..]), (4, b"pipe:[1234]")] {
        let t = g.tick();
        g.put(Record::OpenFd {
            tid: 200,
            time: t,
            fd,
            flags: 0o2000001,
            pos: 0,
            target,
            detail: b"",
        });
    }
    g.call(200, 1, [3, 0x1000, 0, 0, 0, 0], 0, 1);
    g.call(200, 1, [4, 0x1000, 0, 0, 0, 0], 0, 1);
    g.enter(
        200,
        257,
        [(-100i64) as u64, 0x2000, 0, 0, 0, 0],
        &[(1, S, 0x2000, b"data")],
    );
    g.exit(200, 257, 5, 1, &[]);
    g.finish();
    let out = stdout(&analyze(&["replay", "-y", p.to_str().unwrap()]));
    assert!(out.contains("write(3</var/log/d.log>, "), "{out}");
    assert!(out.contains("write(4<pipe:[1234]>, "), "{out}");
    // Relative to the cwd the attach record gave.
    assert!(out.contains("= 5</srv/data>"), "{out}");
}
