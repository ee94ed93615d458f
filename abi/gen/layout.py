#!/usr/bin/env python3
"""Generates the kernel struct layouts the decoders read (sizes, and each
field's offset and size) by compiling small C programs against the kernel's
uapi headers (Debian: linux-libc-dev) with the C compiler of the target.

Usage:
  abi/gen/layout.py types > abi/src/layout.rs
  abi/gen/layout.py ARCH [CC] > abi/src/ARCH/layout.rs     (ARCH: x86_64)

`types` writes the Rust types (one struct per C struct, the same for every
architecture); ARCH writes that architecture's values, computed by CC (gcc
by default; for another architecture a cross compiler with that
architecture's uapi headers, e.g. aarch64-linux-gnu-gcc).

Where the uapi headers have no definition of a structure the kernel copies
to user space (msghdr, mmsghdr, cmsghdr, linux_dirent64), glibc's, which
has the kernel's layout, is used.
"""
import os
import re
import subprocess
import sys
import tempfile

# (Rust type, C type, headers, doc, [fields]); a field is C member path
# (nested members allowed) and its Rust name is the last component, or
# (member, rust_name).
STRUCTS = [
    ("Stat", "struct stat", ["asm/stat.h"], "struct stat (fstat, stat, newfstatat)",
     ["st_dev", "st_ino", "st_nlink", "st_mode", "st_uid", "st_gid", "st_rdev", "st_size",
      "st_blksize", "st_blocks", "st_atime", "st_atime_nsec", "st_mtime", "st_mtime_nsec",
      "st_ctime", "st_ctime_nsec"]),
    ("Statx", "struct statx", ["linux/stat.h"], "struct statx",
     ["stx_mask", "stx_blksize", "stx_attributes", "stx_nlink", "stx_uid", "stx_gid",
      "stx_mode", "stx_ino", "stx_size", "stx_blocks", "stx_attributes_mask",
      ("stx_atime.tv_sec", "stx_atime"), ("stx_btime.tv_sec", "stx_btime"),
      ("stx_ctime.tv_sec", "stx_ctime"), ("stx_mtime.tv_sec", "stx_mtime"),
      "stx_rdev_major", "stx_rdev_minor", "stx_dev_major", "stx_dev_minor"]),
    ("Statfs", "struct statfs", ["asm/statfs.h"], "struct statfs",
     ["f_type", "f_bsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree",
      "f_fsid", "f_namelen", "f_frsize", "f_flags"]),
    ("Timespec", "struct __kernel_timespec", ["linux/time_types.h"], "struct timespec (64-bit time)",
     ["tv_sec", "tv_nsec"]),
    ("Timeval", "struct __kernel_old_timeval", ["linux/time_types.h"], "struct timeval",
     ["tv_sec", "tv_usec"]),
    ("Itimerspec", "struct __kernel_itimerspec", ["linux/time_types.h"], "struct itimerspec",
     ["it_interval", "it_value"]),
    ("Itimerval", "struct __kernel_old_itimerval", ["linux/time_types.h"], "struct itimerval",
     ["it_interval", "it_value"]),
    ("Timezone", "struct timezone", ["linux/time.h"], "struct timezone",
     ["tz_minuteswest", "tz_dsttime"]),
    ("Rlimit", "struct rlimit64", ["linux/resource.h"], "struct rlimit (prlimit64's rlimit64)",
     ["rlim_cur", "rlim_max"]),
    ("Rusage", "struct rusage", ["linux/resource.h"], "struct rusage",
     ["ru_utime", "ru_stime", "ru_maxrss", "ru_ixrss", "ru_idrss", "ru_isrss", "ru_minflt",
      "ru_majflt", "ru_nswap", "ru_inblock", "ru_oublock", "ru_msgsnd", "ru_msgrcv",
      "ru_nsignals", "ru_nvcsw", "ru_nivcsw"]),
    ("Sigaction", "struct sigaction", ["asm/signal.h"], "the kernel's struct sigaction (rt_sigaction)",
     [("sa_handler", "handler"), ("sa_flags", "flags"), ("sa_restorer", "restorer"),
      ("sa_mask", "mask")]),
    ("StackT", "stack_t", ["asm/signal.h"], "stack_t (sigaltstack)",
     ["ss_sp", "ss_flags", "ss_size"]),
    ("Siginfo", "siginfo_t", ["asm/siginfo.h"], "siginfo_t",
     ["si_signo", "si_errno", "si_code", ("_sifields._kill._pid", "pid"),
      ("_sifields._kill._uid", "uid"), ("_sifields._timer._tid", "timerid"),
      ("_sifields._timer._overrun", "overrun"), ("_sifields._rt._sigval", "value"),
      ("_sifields._sigchld._status", "status"), ("_sifields._sigchld._utime", "utime"),
      ("_sifields._sigchld._stime", "stime"), ("_sifields._sigfault._addr", "addr"),
      ("_sifields._sigpoll._band", "band"), ("_sifields._sigpoll._fd", "fd"),
      ("_sifields._sigsys._call_addr", "call_addr"), ("_sifields._sigsys._syscall", "syscall"),
      ("_sifields._sigsys._arch", "arch")]),
    ("Utsname", "struct new_utsname", ["linux/utsname.h"], "struct utsname (uname)",
     ["sysname", "nodename", "release", "version", "machine", "domainname"]),
    ("Sysinfo", "struct sysinfo", ["linux/sysinfo.h"], "struct sysinfo",
     ["uptime", "loads", "totalram", "freeram", "sharedram", "bufferram", "totalswap",
      "freeswap", "procs", "totalhigh", "freehigh", "mem_unit"]),
    ("Pollfd", "struct pollfd", ["linux/poll.h"], "struct pollfd",
     ["fd", "events", "revents"]),
    ("EpollEvent", "struct epoll_event", ["linux/eventpoll.h"], "struct epoll_event",
     ["events", "data"]),
    ("Tms", "struct tms", ["linux/times.h"], "struct tms",
     ["tms_utime", "tms_stime", "tms_cutime", "tms_cstime"]),
    ("FutexWaitv", "struct futex_waitv", ["linux/futex.h"], "struct futex_waitv",
     ["val", "uaddr", "flags"]),
    ("RobustListHead", "struct robust_list_head", ["linux/futex.h"], "struct robust_list_head",
     ["list", "futex_offset", "list_op_pending"]),
    ("SchedParam", "struct sched_param", ["linux/sched/types.h"], "struct sched_param",
     ["sched_priority"]),
    ("Rseq", "struct rseq", ["linux/rseq.h"], "struct rseq",
     ["cpu_id_start", "cpu_id", "rseq_cs", "flags"]),
    ("OpenHow", "struct open_how", ["linux/openat2.h"], "struct open_how (openat2)",
     ["flags", "mode", "resolve"]),
    ("CloneArgs", "struct clone_args", ["linux/sched.h"], "struct clone_args (clone3)",
     ["flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size",
      "tls", "set_tid", "set_tid_size", "cgroup"]),
    ("Sembuf", "struct sembuf", ["linux/sem.h"], "struct sembuf", ["sem_num", "sem_op", "sem_flg"]),
    ("Flock", "struct flock", ["asm/fcntl.h"], "struct flock (fcntl F_GETLK/F_SETLK)",
     ["l_type", "l_whence", "l_start", "l_len", "l_pid"]),
    ("Iovec", "struct iovec", ["linux/uio.h"], "struct iovec", ["iov_base", "iov_len"]),
    ("Msghdr", "struct msghdr", ["sys/socket.h"], "struct msghdr (glibc's, the kernel's user_msghdr)",
     ["msg_name", "msg_namelen", "msg_iov", "msg_iovlen", "msg_control", "msg_controllen",
      "msg_flags"]),
    ("Mmsghdr", "struct mmsghdr", ["sys/socket.h"], "struct mmsghdr", ["msg_hdr", "msg_len"]),
    ("Cmsghdr", "struct cmsghdr", ["sys/socket.h"], "struct cmsghdr",
     ["cmsg_len", "cmsg_level", "cmsg_type"]),
    ("Dirent64", "struct dirent64", ["dirent.h"], "struct linux_dirent64 (glibc's dirent64)",
     ["d_ino", "d_off", "d_reclen", "d_type", "d_name"]),
    ("SockaddrIn", "struct sockaddr_in", ["linux/in.h"], "struct sockaddr_in",
     ["sin_family", "sin_port", "sin_addr"]),
    ("SockaddrIn6", "struct sockaddr_in6", ["linux/in6.h"], "struct sockaddr_in6",
     ["sin6_family", "sin6_port", "sin6_flowinfo", "sin6_addr", "sin6_scope_id"]),
    ("SockaddrUn", "struct sockaddr_un", ["linux/un.h"], "struct sockaddr_un",
     ["sun_family", "sun_path"]),
    ("SockaddrNl", "struct sockaddr_nl", ["linux/netlink.h"], "struct sockaddr_nl",
     ["nl_family", "nl_pid", "nl_groups"]),
    ("Termios", "struct termios", ["asm/termbits.h"], "the kernel's struct termios (TCGETS)",
     ["c_iflag", "c_oflag", "c_cflag", "c_lflag", "c_line", "c_cc"]),
    ("Winsize", "struct winsize", ["asm/termios.h"], "struct winsize (TIOCGWINSZ)",
     ["ws_row", "ws_col", "ws_xpixel", "ws_ypixel"]),
]

# Plain types: (Rust name, C type, headers).
SCALARS = [
    ("kernel_sigset", "unsigned long", []),
    ("long", "long", []),
    ("pointer", "void *", []),
]


def field(f):
    return f if isinstance(f, tuple) else (f, f.split(".")[-1])


def types():
    print("// @generated by abi/gen/layout.py types. Do not edit.")
    print()
    print("//! The kernel structures the decoders read, as one architecture lays")
    print("//! them out: each structure's size and each field's place")
    print("//! ([`Field`]). The values are per architecture (`x86_64/layout.rs`).")
    print()
    print("/// Where a field is in its structure, and how many bytes it has.")
    print("#[derive(Clone, Copy, Debug, PartialEq, Eq)]")
    print("pub struct Field {")
    print("    pub off: usize,")
    print("    pub size: usize,")
    print("}")
    for rust, _, _, doc, fields in STRUCTS:
        print()
        print(f"/// `{doc}`.")
        print("#[derive(Clone, Copy, Debug, PartialEq, Eq)]")
        print(f"pub struct {rust} {{")
        print("    pub size: usize,")
        for f in fields:
            print(f"    pub {field(f)[1]}: Field,")
        print("}")
    print()
    print("/// Every structure of one architecture, and the sizes of plain types.")
    print("#[derive(Clone, Copy, Debug, PartialEq, Eq)]")
    print("pub struct Layout {")
    for rust, _, _, _, _ in STRUCTS:
        print(f"    pub {snake(rust)}: {rust},")
    for name, _, _ in SCALARS:
        print(f"    pub {name}: usize,")
    print("}")


def snake(name):
    out = ""
    for i, c in enumerate(name):
        if c.isupper() and i > 0 and not name[i - 1].isdigit():
            out += "_"
        out += c.lower()
    return out


def values(arch, cc):
    src = ["#define _GNU_SOURCE", "#include <stddef.h>"]
    progs = []
    # One file per structure: uapi and glibc headers do not mix. Each row is
    # (key, C expressions); the values are read from the assembly the
    # compiler writes for a constant array of them, so that a cross
    # compiler's output need not run on this machine.
    for rust, ctype, headers, _, fields in STRUCTS:
        lines = [f"#include <{h}>" for h in headers]
        rows = [([snake(rust), "size"], [f"sizeof({ctype})"])]
        for f in fields:
            member, name = field(f)
            rows.append(([snake(rust), name],
                         [f"offsetof({ctype}, {member})", f"sizeof((({ctype} *)0)->{member})"]))
        progs.append((rust, lines, rows))
    scal = [(["scalar", name], [f"sizeof({ctype})"]) for name, ctype, _ in SCALARS]
    progs.append(("scalars", [], scal))
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for name, includes, rows in progs:
            c = os.path.join(d, f"{name}.c")
            exprs = [e for _, es in rows for e in es]
            with open(c, "w") as f:
                f.write("\n".join(src + includes) + "\n")
                f.write("const unsigned long long ptrec_layout_values[] = {\n    ")
                f.write(",\n    ".join(exprs) + "\n};\n")
            asm = subprocess.run([cc, "-S", "-o", "-", c], check=True, capture_output=True,
                                 text=True).stdout
            vals = asm_values(asm)
            if len(vals) != len(exprs):
                sys.exit(f"{name}: {len(vals)} values in {cc}'s assembly, {len(exprs)} expected")
            it = iter(vals)
            for key, es in rows:
                out.setdefault(key[0], []).append([key[1]] + [str(next(it)) for _ in es])
    print(f"// @generated by abi/gen/layout.py {arch}, from the uapi headers {cc} uses. Do not edit.")
    print()
    print("use crate::layout::*;")
    print()
    print(f"/// The {arch} layout of every structure the decoders read.")
    print("pub const LAYOUT: Layout = Layout {")
    for rust, _, _, _, fields in STRUCTS:
        rows = out[snake(rust)]
        print(f"    {snake(rust)}: {rust} {{")
        for r in rows:
            if r[0] == "size":
                print(f"        size: {r[1]},")
            else:
                print(f"        {r[0]}: Field {{ off: {r[1]}, size: {r[2]} }},")
        print("    },")
    for r in out["scalar"]:
        print(f"    {r[0]}: {r[1]},")
    print("};")


def asm_values(asm):
    """The 8-byte words of the one data object in a compiler's assembly
    (GNU as: `.quad`/`.xword`/`.8byte N`, `.zero N` for a run of zero bytes)."""
    vals = []
    for line in asm.splitlines():
        m = re.match(r"\s*\.(quad|xword|8byte|dword|zero)\s+(\d+)\s*$", line)
        if not m:
            continue
        if m.group(1) == "zero":
            vals.extend([0] * (int(m.group(2)) // 8))
        else:
            vals.append(int(m.group(2)))
    return vals


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "types":
        types()
    else:
        values(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "gcc")


main()
