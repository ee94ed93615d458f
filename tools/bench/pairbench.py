#!/usr/bin/env python3
"""pairbench.py: the A/B timer that tools/bench/run uses.

    pairbench.py [-n RUNS] [--warmup W] [--timeout S] [--pin CPUS] --vs 'CMD_B' -- CMD_A [ARG...]

Runs A and B in turn (A B A B ...), after W warm-up pairs, and prints the
lines tools/bench/run parses: 'A wall s', 'B wall s' and 'A/B wall' as min/median/max
(the ratio is taken pair by pair), 'runs counted:' and 'A exit'.  Wall time is
time.monotonic() around fork/exec/wait of the whole process; output is
discarded.
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import threading
import time


def run_once(argv, deadline, cpus):
    t0 = time.monotonic()
    kwargs = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                  start_new_session=True)
    if cpus:
        kwargs["preexec_fn"] = lambda: os.sched_setaffinity(0, cpus)
    p = subprocess.Popen(argv, **kwargs)
    killed = []

    def kill():
        killed.append(1)
        try:
            os.killpg(p.pid, 9)
        except ProcessLookupError:
            pass

    # a blocking wait (Popen.wait with a timeout polls with sleeps, which
    # would inflate short runs); a timer thread enforces the deadline
    timer = threading.Timer(max(0.1, deadline - time.monotonic()), kill)
    timer.start()
    rc = p.wait()
    t1 = time.monotonic()
    timer.cancel()
    if killed:
        return None, None
    return t1 - t0, rc


def row(name, xs):
    return f"{name:<16} {min(xs):11.4f} {statistics.median(xs):11.4f} {max(xs):11.4f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=100)
    ap.add_argument("--pin", default="")
    ap.add_argument("--vs", required=True)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd_a = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    cmd_b = shlex.split(a.vs)
    if not cmd_a:
        ap.error("no command A")
    cpus = {int(c) for c in a.pin.split(",") if c}
    deadline = time.monotonic() + a.timeout
    wa, wb, ra, rb = [], [], [], []
    for i in range(a.warmup + a.n):
        ta, xa = run_once(cmd_a, deadline, cpus)
        tb, xb = run_once(cmd_b, deadline, cpus) if ta is not None else (None, None)
        if ta is None or tb is None:
            print("timeout: stopped early", file=sys.stderr)
            break
        if i >= a.warmup:
            wa.append(ta); wb.append(tb); ra.append(xa); rb.append(xb)
    print(f"A = {shlex.join(cmd_a)}")
    print(f"B = {shlex.join(cmd_b)}")
    print(f"runs counted: A {len(wa)}, B {len(wb)}, in turn (A B A B ...)")
    if not wa:
        return 3
    ea = max(set(ra), key=ra.count)
    print(f"A exit {ea} ({ra.count(ea)} of {len(ra)})")
    eb = max(set(rb), key=rb.count)
    print(f"B exit {eb} ({rb.count(eb)} of {len(rb)})")
    print(f"{'':16} {'min':>11} {'median':>11} {'max':>11}")
    print(row("A wall s", wa))
    print(row("B wall s", wb))
    print(row("A/B wall", [x / y for x, y in zip(wa, wb)]))
    return 0 if len(wa) == a.n else 3


if __name__ == "__main__":
    sys.exit(main())
