#!/usr/bin/env python3
"""How much of `strace -f -y -s 32` a replay of the same workload reproduces.

For each workload: one run under `strace -f -y -s 32 -o FILE`, one under
`rec -y` followed by `analyze replay -y` (the same `-s`, replay's default).
Both runs are separate executions, so what the kernel or the program does
differently between two runs differs too; the normalization below masks
what is known to vary and keeps every other byte. Then, per process:

- lines are grouped by process, which is named by where it was created:
  the root is `P`, the k-th child a process's clone/fork/vfork returned is
  `<parent>.k` (threads too), so the same process is paired in both runs
  however their lines interleave;
- a call split by another process's line is joined again (`<unfinished
  ...>` + `<... resumed>`), the padding before ` = ` collapsed;
- masked: addresses (`0x` and 5+ hex digits), pids (where a pid can
  stand: calls that take or return one, signal and exit lines), the
  inode numbers of `pipe:[N]`/`socket:[N]`/`anon_inode`, gcc's and
  mktemp's and git's random temporary names, what getrandom and
  /dev/urandom returned, stat's times, rusage's and sysinfo's counters,
  the time select/ppoll/pselect6 left, the root's parent pid;
  `--- SIGCHLD` lines are dropped (when a child's SIGCHLD reaches its
  parent depends on the run).

The agreement of a workload is the number of lines in the longest common
subsequence of the two line lists (difflib, per process, processes absent
from one side count as unmatched) over the number of strace's lines. The
same measure between two runs of strace (`strace vs strace`) is the floor
that run-to-run differences leave (scheduling: which process of a fork
unlinks a shared lock, how often make polls; what git finds already
written). The syscalls whose lines differ most are listed, to find
decoder differences.

Usage: agreement.py [--rec REC] [--analyze ANALYZE] [--keep DIR] [NAME=CMD ...]
(default: the make_j2, git_ops and python_import workloads of
tools/bench/workloads, run through `sh`).
"""

import argparse
import collections
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

PID_CALLS = (
    "clone", "fork(", "vfork(", "getpid(", "gettid(", "getppid(",
    "set_tid_address(", "wait4(", "waitid(", "kill(", "tgkill(", "tkill(",
    "setpgid(", "getpgid(", "getsid(", "setsid(", "getpgrp(", "sched_",
    "prlimit64(", "pidfd_", "rt_sigqueueinfo(", "rt_tgsigqueueinfo(",
    "ptrace(", "process_vm_", "rt_sigreturn(", "---", "+++",
)
SPAWN = ("clone(", "clone3(", "fork(", "vfork(")

MASKS = [
    (re.compile(r"0x[0-9a-f]{5,}"), "0xADDR"),
    (re.compile(r"(pipe|socket|anon_inode:\[[a-z]+\]|UNIX-STREAM|UNIX-DGRAM|UNIX|TCP|UDP|NETLINK):\[[0-9]+(->[0-9]+)?"), r"\1:[INO"),
    (re.compile(r"/tmp/(cc|tmp\.)[A-Za-z0-9]{6,}"), r"/tmp/\1XXXXXX"),
    (re.compile(r"(getrandom\()\"(?:[^\"\\]|\\.)*\"(\.\.\.)?"), r'\1"RANDOM"'),
    (re.compile(r"(st_[amc]time(_nsec)?=)[0-9]+(\.[0-9]+)?"), r"\1T"),
    (re.compile(r"(sysinfo\(\{)[^}]*\}"), r"\1...}"),
    (re.compile(r"(left \{)[^}]*\}"), r"\1...}"),
    (re.compile(r"(tv_sec=|tv_nsec=|tv_usec=)[0-9]+"), r"\1T"),
    # git's and mkstemp's random names, what /dev/urandom gave.
    (re.compile(r"(tmp_obj_|tmp_pack_|tmp_idx_|tmp_rev_|/\.git/t)[A-Za-z0-9]{6,7}\b"), r"\1XXXXXX"),
    (re.compile(r"(</dev/urandom>, )\"(?:[^\"\\]|\\.)*\"(\.\.\.)?"), r'\1"RANDOM"'),
]


def split_pid(line, strace_prefix):
    if line.startswith("[pid "):
        p, _, rest = line[5:].partition("] ")
        return p.strip(), rest
    if strace_prefix:
        p, _, rest = line.partition(" ")
        return p, rest.lstrip()
    return "", line


def processes(text, strace_prefix):
    """{canonical id: [normalized lines]} of one run's text."""
    per_pid = collections.OrderedDict()
    pending = {}
    for line in text.splitlines():
        pid, rest = split_pid(line, strace_prefix)
        if rest.startswith("--- SIGCHLD "):
            continue
        if rest.endswith(" <unfinished ...>"):
            pending[pid] = rest[: -len(" <unfinished ...>")]
            continue
        if rest.startswith("<... ") and pid in pending:
            tail = rest.split(" resumed>", 1)[1] if " resumed>" in rest else rest
            rest = pending.pop(pid) + tail
        call, sep, ret = rest.partition(" = ")
        if sep:
            rest = call.rstrip() + " = " + ret
        per_pid.setdefault(pid, []).append(rest)
    if not per_pid:
        return {}
    # Canonical names: the root, then children in the order each parent's
    # spawning calls returned them.
    names = {}
    root = next(iter(per_pid))
    if root == "":
        # A replay of one thread prints no pid prefix.
        return {"P": [mask(l, {}) for l in per_pid[""]]}
    names[root] = "P"
    changed = True
    while changed:
        changed = False
        for pid, lines in per_pid.items():
            if pid not in names:
                continue
            k = 0
            for l in lines:
                if l.startswith(SPAWN):
                    ret = l.rsplit(" = ", 1)[-1].split(" ")[0]
                    if ret.isdigit():
                        if ret not in names:
                            names[ret] = "%s.%d" % (names[pid], k)
                            changed = True
                        k += 1
    out = {}
    for pid, lines in per_pid.items():
        name = names.get(pid, "?" + pid)
        out[name] = [mask(l, names) for l in lines]
    return out


def mask(line, names):
    for rx, sub in MASKS:
        line = rx.sub(sub, line)
    if line.startswith(PID_CALLS) or "si_pid=" in line:
        line = re.sub(r"\b[0-9]+\b", lambda m: names.get(m.group(0), m.group(0)), line)
    # The root's parent is strace in one run, rec in the other.
    return re.sub(r"^getppid\(\) = [0-9]+$", "getppid() = PPID", line)


def syscall(line):
    m = re.match(r"([a-z_0-9]+)\(", line)
    return m.group(1) if m else line.split(" ")[0]


def compare(want, got):
    matched = 0
    differ = collections.Counter()
    examples = {}
    for name, a in want.items():
        b = got.get(name, [])
        sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
        ok = set()
        for blk in sm.get_matching_blocks():
            matched += blk.size
            ok.update(range(blk.a, blk.a + blk.size))
        bset = collections.Counter(b)
        for i, l in enumerate(a):
            if i not in ok:
                s = syscall(l)
                differ[s] += 1
                if s not in examples:
                    # The replay line of the same call, when one is close.
                    close = difflib.get_close_matches(l, list(bset), n=1, cutoff=0.6)
                    examples[s] = (l, close[0] if close else None)
    total = sum(len(a) for a in want.values())
    return matched, total, differ, examples


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rec", default=os.path.join(REPO, "target/release/rec"))
    ap.add_argument("--analyze", default=os.path.join(REPO, "target/release/analyze"))
    ap.add_argument("--keep", help="keep both texts of each workload in this directory")
    ap.add_argument("--examples", type=int, default=5, help="differing syscalls shown per workload")
    ap.add_argument("workloads", nargs="*", help="NAME=CMD (run by sh -c)")
    a = ap.parse_args()
    wl = a.workloads or [
        "make_j2=%s/workloads/make_j2.sh run" % HERE,
        "git_ops=%s/workloads/git_ops.sh run" % HERE,
        "python_import=%s/workloads/python_import.sh run" % HERE,
    ]
    for tool in (a.rec, a.analyze):
        if not os.access(tool, os.X_OK):
            sys.exit("agreement.py: %s is not an executable (cargo build --release)" % tool)
    if shutil.which("strace") is None:
        sys.exit("agreement.py: strace is not installed")
    tmp = tempfile.mkdtemp(prefix="ptrec-agree-")
    rows = []
    notes = []
    try:
        for w in wl:
            name, _, cmd = w.partition("=")
            # A first run sets the workload up (and warms caches), so both
            # measured runs start from the same state.
            subprocess.run(["sh", "-c", cmd], check=False, stdout=subprocess.DEVNULL)
            st = os.path.join(tmp, name + ".strace")
            tr = os.path.join(tmp, name + ".bin")
            subprocess.run(["strace", "-f", "-y", "-s", "32", "-o", st, "sh", "-c", cmd],
                           check=False, stdout=subprocess.DEVNULL)
            subprocess.run([a.rec, "-q", "-y", "-o", tr, "--", "sh", "-c", cmd],
                           check=False, stdout=subprocess.DEVNULL)
            st2 = os.path.join(tmp, name + ".strace2")
            subprocess.run(["strace", "-f", "-y", "-s", "32", "-o", st2, "sh", "-c", cmd],
                           check=False, stdout=subprocess.DEVNULL)
            rp = subprocess.run([a.analyze, "replay", "-y", tr], check=True,
                                stdout=subprocess.PIPE).stdout.decode("utf-8", "replace")
            stxt = open(st, encoding="utf-8", errors="replace").read()
            if a.keep:
                os.makedirs(a.keep, exist_ok=True)
                shutil.copy(st, os.path.join(a.keep, name + ".strace"))
                with open(os.path.join(a.keep, name + ".replay"), "w") as f:
                    f.write(rp)
            want = processes(stxt, True)
            got = processes(rp, False)
            matched, total, differ, examples = compare(want, got)
            stxt2 = open(st2, encoding="utf-8", errors="replace").read()
            m2, t2, _, _ = compare(want, processes(stxt2, True))
            rows.append((name, total, sum(len(v) for v in got.values()), len(want), len(got),
                         matched, 100.0 * matched / max(total, 1), 100.0 * m2 / max(t2, 1)))
            for s, n in differ.most_common(a.examples):
                l, r = examples[s]
                notes.append("- %s, %s: %d lines; strace `%s`; replay `%s`" % (name, s, n, l[:160], (r or "none close")[:160]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| workload | strace lines | replay lines | processes (strace, replay) | matched | agreement | strace vs strace |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, total, rtotal, pw, pg, matched, pct, floor in rows:
        print("| %s | %d | %d | %d, %d | %d | **%.1f%%** | %.1f%% |" % (name, total, rtotal, pw, pg, matched, pct, floor))
    print()
    print("Syscalls whose strace lines found no equal replay line, most first:")
    print("\n".join(notes))


if __name__ == "__main__":
    main()
