#!/usr/bin/env python3
"""cputime.py: the CPU time a command's own process uses, its children's excluded.

    cputime.py [-n RUNS] -- CMD [ARG...]

For a tracer (`rec`, `strace`) this is the tracer's own cost: the tracees are
its children, and RUSAGE_CHILDREN would add theirs. The process is left a
zombie after it exits (waitid with WNOWAIT), so /proc/PID/stat still holds
its final utime and stime, summed over all its threads; then it is reaped.
Prints 'self cpu s' as min/median/max of user+sys over RUNS runs (clock-tick
resolution, usually 10 ms); output of the command is discarded.
"""
import argparse
import os
import statistics
import subprocess
import sys


def own_cpu(argv):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    with open(f"/proc/{p.pid}/stat", "rb") as f:
        stat = f.read()
    p.wait()
    # Fields after the command name: state is field 3, utime 14, stime 15.
    rest = stat[stat.rindex(b")") + 2:].split()
    ticks = int(rest[11]) + int(rest[12])
    return ticks / os.sysconf("SC_CLK_TCK"), p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")
    times = []
    for _ in range(a.n):
        t, rc = own_cpu(cmd)
        if rc != 0:
            print(f"exit {rc}", file=sys.stderr)
        times.append(t)
    print(f"self cpu s {min(times):.3f} {statistics.median(times):.3f} {max(times):.3f}")


if __name__ == "__main__":
    main()
