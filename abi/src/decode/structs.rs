//! Kernel structures as strace prints them (without `-v`), read through
//! the architecture's [`Layout`](crate::layout::Layout).

use std::fmt::Write;

use super::flags::*;
use super::{get, get_i, i32_at, ptr, u64_at, Cx};
use crate::layout::Layout;
use crate::names::{errno_text, signal_name};
use crate::text::{push_i64, quoted};
use crate::Arch;

/// clone(2) as strace writes it on x86_64: named arguments, the flags with
/// the exit signal, and the tid pointers and TLS only when a flag uses them.
/// The kernel's order is flags, stack, parent_tid, child_tid, tls.
pub(crate) fn clone_text(args: &[u64; 6]) -> String {
    let (flags, stack, ptid, ctid, tls) = (args[0], args[1], args[2], args[3], args[4]);
    let mut s = format!("child_stack={}, flags={}", ptr(stack), clone_flags(flags));
    if flags & 0x100000 != 0 {
        let _ = write!(s, ", parent_tid={}", ptr(ptid));
    }
    if flags & 0x80000 != 0 {
        let _ = write!(s, ", tls={}", ptr(tls));
    }
    if flags & 0x1200000 != 0 {
        let _ = write!(s, ", child_tidptr={}", ptr(ctid));
    }
    s
}

/// clone flags with the exit signal in the low byte: `CLONE_VM|SIGCHLD`.
fn clone_flags(flags: u64) -> String {
    let mut f = flag_names(flags & !0xff, &CLONE_FLAGS);
    let sig = flags & 0xff;
    if sig != 0 {
        let name = signal_name(sig as i32);
        f = if flags & !0xff == 0 {
            name.into_owned()
        } else {
            format!("{f}|{name}")
        };
    }
    f
}

/// clone3's struct clone_args, as read at entry.
pub(crate) fn clone_args(l: &Layout, s: &mut String, d: &[u8]) {
    let c = l.clone_args;
    let g = |f| get(d, f).unwrap_or(0);
    let flags = g(c.flags);
    let _ = write!(s, "{{flags={}", flag_names(flags, &CLONE_FLAGS));
    if flags & 0x1000 != 0 {
        let _ = write!(s, ", pidfd={}", ptr(g(c.pidfd)));
    }
    if flags & 0x1200000 != 0 {
        let _ = write!(s, ", child_tid={}", ptr(g(c.child_tid)));
    }
    if flags & 0x100000 != 0 {
        let _ = write!(s, ", parent_tid={}", ptr(g(c.parent_tid)));
    }
    let sig = g(c.exit_signal);
    let sig = if sig == 0 {
        "0".into()
    } else {
        signal_name(sig as i32)
    };
    let _ = write!(
        s,
        ", exit_signal={sig}, stack={}, stack_size={:#x}",
        ptr(g(c.stack)),
        g(c.stack_size)
    );
    if flags & 0x80000 != 0 {
        let _ = write!(s, ", tls={}", ptr(g(c.tls)));
    }
    if d.len() >= c.set_tid_size.off + 8 && g(c.set_tid_size) != 0 {
        let _ = write!(
            s,
            ", set_tid={}, set_tid_size={}",
            ptr(g(c.set_tid)),
            g(c.set_tid_size)
        );
    }
    s.push('}');
}

/// What clone3 wrote, as strace shows it after the struct once the call
/// returned: ` => {parent_tid=[N]}` with CLONE_PARENT_SETTID (the kernel
/// writes the child's tid there, which the call returns).
pub(crate) fn clone_args_out(l: &Layout, s: &mut String, d: &[u8], ret: Option<i64>) {
    let flags = get(d, l.clone_args.flags).unwrap_or(0);
    if let Some(tid) = ret.filter(|&r| r > 0 && flags & 0x100000 != 0) {
        let _ = write!(s, " => {{parent_tid=[{tid}]}}");
    }
}

/// A pollfd array's returned events: the entries that have some.
pub(crate) fn pollfds_text(l: &Layout, d: &[u8], _revents: bool) -> String {
    let p = l.pollfd;
    let mut parts = Vec::new();
    for e in d.chunks_exact(p.size) {
        let fd = get_i(e, p.fd).unwrap_or(-1);
        let rev = get(e, p.revents).unwrap_or(0);
        if rev != 0 {
            parts.push(format!("{{fd={fd}, revents={}}}", flag_names(rev, &POLL)));
        }
    }
    format!("[{}]", parts.join(", "))
}

/// A wait status as strace writes it, inside the brackets.
pub fn wait_status_text(st: i32) -> String {
    let sig = st & 0x7f;
    if sig == 0 {
        format!("{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}", (st >> 8) & 0xff)
    } else if st & 0xff == 0x7f {
        let stop = format!(
            "{{WIFSTOPPED(s) && WSTOPSIG(s) == {}}}",
            signal_name((st >> 8) & 0xff)
        );
        match st >> 16 {
            0 => stop,
            ev => format!("{stop} | {ev} << 16"),
        }
    } else if st == 0xffff {
        "{WIFCONTINUED(s)}".into()
    } else {
        let core = if st & 0x80 != 0 {
            " && WCOREDUMP(s)"
        } else {
            ""
        };
        format!(
            "{{WIFSIGNALED(s) && WTERMSIG(s) == {}{core}}}",
            signal_name(sig)
        )
    }
}

/// A sockaddr as strace writes it.
pub(crate) fn sockaddr_text(d: &[u8]) -> String {
    let fam = u16::from_le_bytes([d[0], d[1]]);
    match fam {
        1 => {
            let p = &d[2..];
            let end = p.iter().position(|&c| c == 0).unwrap_or(p.len());
            if d.len() == 2 {
                "{sa_family=AF_UNIX}".into()
            } else if end == 0 && p.len() > 1 {
                // An abstract address: the name after the NUL.
                format!(
                    "{{sa_family=AF_UNIX, sun_path=@{}}}",
                    quoted(&p[1..], false)
                )
            } else {
                format!(
                    "{{sa_family=AF_UNIX, sun_path={}}}",
                    quoted(&p[..end], false)
                )
            }
        }
        2 if d.len() >= 8 => {
            let port = u16::from_be_bytes([d[2], d[3]]);
            let a = &d[4..8];
            format!(
                "{{sa_family=AF_INET, sin_port=htons({port}), sin_addr=inet_addr(\"{}.{}.{}.{}\")}}",
                a[0], a[1], a[2], a[3]
            )
        }
        10 if d.len() >= 28 => {
            let port = u16::from_be_bytes([d[2], d[3]]);
            let flow = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
            let mut a = [0u8; 16];
            a.copy_from_slice(&d[8..24]);
            let scope = u32::from_le_bytes([d[24], d[25], d[26], d[27]]);
            format!(
                "{{sa_family=AF_INET6, sin6_port=htons({port}), sin6_flowinfo=htonl({flow}), \
                 inet_pton(AF_INET6, \"{}\", &sin6_addr), sin6_scope_id={scope}}}",
                std::net::Ipv6Addr::from(a)
            )
        }
        16 if d.len() >= 12 => {
            let pid = u32::from_le_bytes([d[4], d[5], d[6], d[7]]);
            let groups = u32::from_le_bytes([d[8], d[9], d[10], d[11]]);
            format!("{{sa_family=AF_NETLINK, nl_pid={pid}, nl_groups={groups:08x}}}")
        }
        f => format!("{{sa_family={}, ...}}", named(DOMAIN, f.into())),
    }
}

/// x86_64 struct sysinfo.
pub(crate) fn sysinfo_text(l: &Layout, d: &[u8]) -> String {
    let si = l.sysinfo;
    let g = |f| get(d, f).unwrap_or(0);
    let load = |k: usize| u64_at(d, si.loads.off + 8 * k).unwrap_or(0);
    format!(
        "{{uptime={}, loads=[{}, {}, {}], totalram={}, freeram={}, sharedram={}, \
         bufferram={}, totalswap={}, freeswap={}, procs={}, totalhigh={}, \
         freehigh={}, mem_unit={}}}",
        g(si.uptime) as i64,
        load(0),
        load(1),
        load(2),
        g(si.totalram),
        g(si.freeram),
        g(si.sharedram),
        g(si.bufferram),
        g(si.totalswap),
        g(si.freeswap),
        g(si.procs),
        g(si.totalhigh),
        g(si.freehigh),
        g(si.mem_unit)
    )
}

/// A siginfo_t of `arch` as strace writes it: the signal, its code, and
/// the fields that code fills.
pub fn siginfo_text(arch: Arch, signo: i32, si: &[u8]) -> String {
    siginfo(arch.layout(), arch, signo, si)
}

pub(crate) fn siginfo(l: &Layout, arch: Arch, signo: i32, si: &[u8]) -> String {
    let name = signal_name(signo);
    if si.len() < 16 {
        return format!("{{si_signo={name}}}");
    }
    let f = l.siginfo;
    let i = |fl| get_i(si, fl).unwrap_or(0);
    let u = |fl| get(si, fl).unwrap_or(0);
    let code = i(f.si_code) as i32;
    let mut s = format!("{{si_signo={name}, si_code=");
    let common = SI_CODES.iter().find(|(c, _)| *c == i64::from(code));
    match common {
        Some((_, n)) => s.push_str(n),
        None => match signal_codes(signo).get((code as usize).wrapping_sub(1)) {
            Some(n) if code > 0 => s.push_str(n),
            _ => {
                let _ = write!(s, "{code}");
            }
        },
    }
    let errno = i(f.si_errno) as i32;
    if errno != 0 {
        let e = errno_text(errno);
        let _ = write!(s, ", si_errno={}", e.split(' ').next().unwrap_or(&e));
    }
    let source = |s: &mut String| {
        let _ = write!(s, ", si_pid={}, si_uid={}", i(f.pid), u(f.uid) as u32);
    };
    let value = |s: &mut String| {
        let v = u(f.value);
        let _ = write!(s, ", si_int={}, si_ptr={}", v as u32 as i32, ptr(v));
    };
    if code <= 0 {
        match code {
            0 | -6 => source(&mut s),
            -2 => {
                let _ = write!(
                    s,
                    ", si_timerid={:#x}, si_overrun={}",
                    u(f.timerid),
                    i(f.overrun)
                );
                value(&mut s);
            }
            -5 => {
                let _ = write!(s, ", si_band={}, si_fd={}", i(f.band), i(f.fd));
            }
            _ => {
                source(&mut s);
                if u(f.value) != 0 {
                    value(&mut s);
                }
            }
        }
    } else if code == 0x80 {
        // SI_KERNEL: nothing more.
    } else {
        match signo {
            17 => {
                source(&mut s);
                let status = i(f.status) as i32;
                if code == 1 {
                    let _ = write!(s, ", si_status={status}");
                } else {
                    let _ = write!(s, ", si_status={}", signal_name(status));
                }
                let _ = write!(s, ", si_utime={}, si_stime={}", i(f.utime), i(f.stime));
            }
            4 | 5 | 7 | 8 | 11 => {
                let _ = write!(s, ", si_addr={}", ptr(u(f.addr)));
            }
            29 => {
                let _ = write!(s, ", si_band={}, si_fd={}", i(f.band), i(f.fd));
            }
            31 => {
                let nr = u(f.syscall) as u32;
                let audit = u(f.arch) as u32;
                // The number is of the architecture the siginfo names (a
                // 64-bit task can make a call of another ABI).
                let (arch_text, call_arch) = match Arch::from_audit(audit) {
                    Some(a) => (format!("AUDIT_ARCH_{}", a.name().to_uppercase()), a),
                    None => (format!("{audit:#x}"), arch),
                };
                let _ = write!(
                    s,
                    ", si_call_addr={}, si_syscall=__NR_{}, si_arch={arch_text}",
                    ptr(u(f.call_addr)),
                    call_arch.syscall_name(nr)
                );
            }
            _ => {}
        }
    }
    s.push('}');
    s
}

/// A kernel struct sigaction.
pub(crate) fn sigaction(l: &Layout, s: &mut String, d: &[u8]) {
    let sa = l.sigaction;
    let g = |f| get(d, f).unwrap_or(0);
    let (h, flags, restorer, mask) = (g(sa.handler), g(sa.flags), g(sa.restorer), g(sa.mask));
    let _ = match h {
        0 => write!(s, "{{sa_handler=SIG_DFL"),
        1 => write!(s, "{{sa_handler=SIG_IGN"),
        h => write!(s, "{{sa_handler={h:#x}"),
    };
    let _ = write!(
        s,
        ", sa_mask={}, sa_flags={}",
        sigset_text(mask),
        flag_names(flags, &SA_FLAGS)
    );
    if flags & 0x0400_0000 != 0 {
        let _ = write!(s, ", sa_restorer={restorer:#x}");
    }
    s.push('}');
}

/// struct stat without -v: the type and permissions, and the size (or
/// the device of a device file).
pub(crate) fn stat(l: &Layout, s: &mut String, d: &[u8]) {
    let st = l.stat;
    let mode = get(d, st.st_mode).unwrap_or(0) as u32;
    let ty = file_type(mode);
    s.push_str("{st_mode=");
    s.push_str(ty);
    s.push('|');
    push_perm_bits(s, mode);
    s.push_str(", ");
    if matches!(ty, "S_IFCHR" | "S_IFBLK") {
        let rdev = get(d, st.st_rdev).unwrap_or(0);
        // glibc's gnu_dev_major/gnu_dev_minor split.
        let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
        let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
        let _ = write!(s, "st_rdev=makedev({major:#x}, {minor:#x}), ...}}");
    } else {
        s.push_str("st_size=");
        push_i64(s, get_i(d, st.st_size).unwrap_or(0));
        s.push_str(", ...}");
    }
}

/// struct statx without -v.
pub(crate) fn statx(l: &Layout, s: &mut String, d: &[u8]) {
    let x = l.statx;
    let mask = get(d, x.stx_mask).unwrap_or(0);
    let mode = get(d, x.stx_mode).unwrap_or(0) as u32;
    let _ = write!(
        s,
        "{{stx_mask={}, stx_attributes={}, stx_mode={}|",
        flag_names(mask, &STATX_MASK),
        flag_names(get(d, x.stx_attributes).unwrap_or(0), &STATX_ATTR),
        file_type(mode),
    );
    push_perm_bits(s, mode);
    let _ = write!(s, ", stx_size={}, ...}}", get(d, x.stx_size).unwrap_or(0));
}

/// File system magic numbers strace names (f_type).
const FS_MAGIC: &[(u64, &str)] = &[
    (0xef53, "EXT2_SUPER_MAGIC"),
    (0x0102_1994, "TMPFS_MAGIC"),
    (0x9fa0, "PROC_SUPER_MAGIC"),
    (0x6265_6572, "SYSFS_MAGIC"),
    (0x794c_7630, "OVERLAYFS_SUPER_MAGIC"),
    (0x9123_683e, "BTRFS_SUPER_MAGIC"),
    (0x5846_5342, "XFS_SUPER_MAGIC"),
    (0x6367_7270, "CGROUP2_SUPER_MAGIC"),
    (0x0027_e0eb, "CGROUP_SUPER_MAGIC"),
    (0x6969, "NFS_SUPER_MAGIC"),
    (0x7371_7368, "SQUASHFS_MAGIC"),
    (0x1cd1, "DEVPTS_SUPER_MAGIC"),
    (0x6573_5546, "FUSE_SUPER_MAGIC"),
    (0x0102_1997, "V9FS_MAGIC"),
];

const ST_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (1, "ST_RDONLY"),
        (2, "ST_NOSUID"),
        (4, "ST_NODEV"),
        (8, "ST_NOEXEC"),
        (16, "ST_SYNCHRONOUS"),
        (32, "ST_VALID"),
        (64, "ST_MANDLOCK"),
        (128, "ST_WRITE"),
        (256, "ST_APPEND"),
        (512, "ST_IMMUTABLE"),
        (1024, "ST_NOATIME"),
        (2048, "ST_NODIRATIME"),
        (4096, "ST_RELATIME"),
        (0x2000000, "ST_NOSYMFOLLOW"),
    ],
};

/// struct statfs.
pub(crate) fn statfs(l: &Layout, s: &mut String, d: &[u8]) {
    let f = l.statfs;
    let g = |fl| get(d, fl).unwrap_or(0);
    let fsid = |k: usize| i32_at(d, f.f_fsid.off + 4 * k).unwrap_or(0);
    let _ = write!(
        s,
        "{{f_type={}, f_bsize={}, f_blocks={}, f_bfree={}, f_bavail={}, f_files={}, \
         f_ffree={}, f_fsid={{val=[{:#x}, {:#x}]}}, f_namelen={}, f_frsize={}, f_flags={}}}",
        named(FS_MAGIC, g(f.f_type)),
        g(f.f_bsize),
        g(f.f_blocks),
        g(f.f_bfree),
        g(f.f_bavail),
        g(f.f_files),
        g(f.f_ffree),
        fsid(0),
        fsid(1),
        g(f.f_namelen),
        g(f.f_frsize),
        flag_names(g(f.f_flags), &ST_FLAGS)
    );
}

/// struct open_how: flags, the mode when one is given, the resolve flags
/// when any.
pub(crate) fn open_how(l: &Layout, arch: Arch, s: &mut String, d: &[u8]) {
    let h = l.open_how;
    let flags = get(d, h.flags).unwrap_or(0);
    let mode = get(d, h.mode).unwrap_or(0);
    let resolve = get(d, h.resolve).unwrap_or(0);
    s.push_str("{flags=");
    push_open_flags(s, arch, flags);
    if mode != 0 || flags & 0o20100100 != 0 {
        let _ = write!(s, ", mode=0{mode:o}");
    }
    if resolve != 0 {
        let _ = write!(s, ", resolve={}", flag_names(resolve, &RESOLVE));
    }
    s.push('}');
}

/// `{tv_sec=1, tv_usec=0}`.
pub(crate) fn timeval(l: &Layout, s: &mut String, d: &[u8]) {
    let t = l.timeval;
    let _ = write!(
        s,
        "{{tv_sec={}, tv_usec={}}}",
        get_i(d, t.tv_sec).unwrap_or(0),
        get_i(d, t.tv_usec).unwrap_or(0)
    );
}

/// `{tv_sec=1, tv_nsec=0}`.
pub(crate) fn timespec(l: &Layout, s: &mut String, d: &[u8]) {
    let t = l.timespec;
    let _ = write!(
        s,
        "{{tv_sec={}, tv_nsec={}}}",
        get_i(d, t.tv_sec).unwrap_or(0),
        get_i(d, t.tv_nsec).unwrap_or(0)
    );
}

/// One timespec of utimensat: UTIME_NOW, UTIME_OMIT, or the time with
/// its date in a comment, as strace (local time: `off` seconds east of UTC).
pub(crate) fn utimens_one(l: &Layout, s: &mut String, d: &[u8], off: i64) {
    let t = l.timespec;
    let sec = get_i(d, t.tv_sec).unwrap_or(0);
    let nsec = get_i(d, t.tv_nsec).unwrap_or(0);
    match nsec {
        0x3fff_ffff => s.push_str("UTIME_NOW"),
        0x3fff_fffe => s.push_str("UTIME_OMIT"),
        _ => {
            let frac = (nsec != 0).then(|| format!(".{nsec:09}"));
            let _ = write!(
                s,
                "{{tv_sec={sec}, tv_nsec={nsec}}} /* {} */",
                date(sec, off, frac.as_deref())
            );
        }
    }
}

/// A timeval with its date in a comment (utimes), as strace.
pub(crate) fn timeval_dated(l: &Layout, s: &mut String, d: &[u8], off: i64) {
    let t = l.timeval;
    let sec = get_i(d, t.tv_sec).unwrap_or(0);
    let usec = get_i(d, t.tv_usec).unwrap_or(0);
    let frac = (usec != 0).then(|| format!(".{usec:06}"));
    let _ = write!(
        s,
        "{{tv_sec={sec}, tv_usec={usec}}} /* {} */",
        date(sec, off, frac.as_deref())
    );
}

/// struct utimbuf: `{actime=1 /* date */, modtime=2 /* date */}`.
pub(crate) fn utimbuf(s: &mut String, d: &[u8], off: i64) {
    let a = u64_at(d, 0).unwrap_or(0) as i64;
    let m = u64_at(d, 8).unwrap_or(0) as i64;
    let _ = write!(
        s,
        "{{actime={a} /* {} */, modtime={m} /* {} */}}",
        date(a, off, None),
        date(m, off, None)
    );
}

/// struct tms.
pub(crate) fn tms(l: &Layout, s: &mut String, d: &[u8]) {
    let t = l.tms;
    let g = |f| get_i(d, f).unwrap_or(0);
    let _ = write!(
        s,
        "{{tms_utime={}, tms_stime={}, tms_cutime={}, tms_cstime={}}}",
        g(t.tms_utime),
        g(t.tms_stime),
        g(t.tms_cutime),
        g(t.tms_cstime)
    );
}

/// `n` uids or gids: `[0, 1000]`.
pub(crate) fn ids(s: &mut String, d: &[u8], n: usize) {
    s.push('[');
    for (k, c) in d.chunks_exact(4).take(n).enumerate() {
        if k > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{}", u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    }
    s.push(']');
}

/// A CPU mask: the CPUs in it, `[0 1]`.
pub(crate) fn cpu_set(s: &mut String, d: &[u8]) {
    s.push('[');
    let mut first = true;
    for (i, b) in d.iter().enumerate() {
        for bit in 0..8 {
            if b & (1 << bit) != 0 {
                if !first {
                    s.push(' ');
                }
                first = false;
                let _ = write!(s, "{}", i * 8 + bit);
            }
        }
    }
    s.push(']');
}

/// struct itimerspec: two timespecs.
pub(crate) fn itimerspec(l: &Layout, s: &mut String, d: &[u8]) {
    let it = l.itimerspec;
    s.push_str("{it_interval=");
    timespec(l, s, &d[it.it_interval.off..]);
    s.push_str(", it_value=");
    timespec(l, s, &d[it.it_value.off..]);
    s.push('}');
}

const SEM_FLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[(0o4000, "IPC_NOWAIT"), (0x1000, "SEM_UNDO")],
};

/// semop's sembufs: `[{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO}]`.
pub(crate) fn sembufs(l: &Layout, s: &mut String, d: &[u8], n: usize) {
    let b = l.sembuf;
    s.push('[');
    for (k, e) in d.chunks_exact(b.size).take(n).enumerate() {
        if k > 0 {
            s.push_str(", ");
        }
        let _ = write!(
            s,
            "{{sem_num={}, sem_op={}, sem_flg={}}}",
            get(e, b.sem_num).unwrap_or(0),
            get_i(e, b.sem_op).unwrap_or(0),
            flag_names(get(e, b.sem_flg).unwrap_or(0), &SEM_FLAGS)
        );
    }
    s.push(']');
}

/// mmsghdrs: each msghdr's fields (its buffers are not captured) and
/// msg_len.
pub(crate) fn mmsghdrs(l: &Layout, s: &mut String, d: &[u8], n: usize) {
    let (mm, h) = (l.mmsghdr, l.msghdr);
    s.push('[');
    for (k, e) in d.chunks_exact(mm.size).take(n).enumerate() {
        if k > 0 {
            s.push_str(", ");
        }
        let g = |f| get(e, f).unwrap_or(0);
        let _ = write!(
            s,
            "{{msg_hdr={{msg_name={}, msg_namelen={}, msg_iov={}, msg_iovlen={}, \
             msg_controllen={}, msg_flags={}}}, msg_len={}}}",
            ptr(g(h.msg_name)),
            g(h.msg_namelen),
            ptr(g(h.msg_iov)),
            g(h.msg_iovlen),
            g(h.msg_controllen),
            flag_names(g(h.msg_flags), &MSG),
            g(mm.msg_len)
        );
    }
    s.push(']');
}

/// futex_waitv's waiters: `[{val=0, uaddr=0x..., flags=0x82}]`.
pub(crate) fn futex_waiters(l: &Layout, s: &mut String, d: &[u8], n: usize) {
    let w = l.futex_waitv;
    s.push('[');
    for (k, e) in d.chunks_exact(w.size).take(n).enumerate() {
        if k > 0 {
            s.push_str(", ");
        }
        let _ = write!(
            s,
            "{{val={}, uaddr={}, flags={:#x}}}",
            get(e, w.val).unwrap_or(0),
            ptr(get(e, w.uaddr).unwrap_or(0)),
            get(e, w.flags).unwrap_or(0)
        );
    }
    s.push(']');
}

/// `1970-01-01T01:00:01.5+0100`: a Unix time as strace dates it, in the
/// local time `off` seconds east of UTC, with an optional fraction.
pub(crate) fn date(t: i64, off: i64, frac: Option<&str>) -> String {
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    format!(
        "{}{}{sign}{:02}{:02}",
        utc(t.saturating_add(off)),
        frac.unwrap_or(""),
        a / 3600,
        a / 60 % 60
    )
}

/// `1970-01-01T00:00:01` for a Unix time (proleptic Gregorian).
fn utc(t: i64) -> String {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// stack_t: `{ss_sp=0x..., ss_flags=0, ss_size=65536}`.
pub(crate) fn stack_t(l: &Layout, s: &mut String, d: &[u8]) {
    let st = l.stack_t;
    let _ = write!(
        s,
        "{{ss_sp={}, ss_flags={}, ss_size={}}}",
        ptr(get(d, st.ss_sp).unwrap_or(0)),
        flag_names(get(d, st.ss_flags).unwrap_or(0), &SS_FLAGS),
        get(d, st.ss_size).unwrap_or(0)
    );
}

/// struct itimerval: two timevals.
pub(crate) fn itimerval(l: &Layout, s: &mut String, d: &[u8]) {
    let it = l.itimerval;
    s.push_str("{it_interval=");
    timeval(l, s, &d[it.it_interval.off..]);
    s.push_str(", it_value=");
    timeval(l, s, &d[it.it_value.off..]);
    s.push('}');
}

/// struct rusage without -v: the two times.
pub(crate) fn rusage(l: &Layout, s: &mut String, d: &[u8]) {
    let r = l.rusage;
    s.push_str("{ru_utime=");
    timeval(l, s, &d[r.ru_utime.off..]);
    s.push_str(", ru_stime=");
    timeval(l, s, &d[r.ru_stime.off..]);
    s.push_str(", ...}");
}

/// struct epoll_event: `{events=EPOLLIN, data={u32=7, u64=7}}`.
pub(crate) fn epoll_event(l: &Layout, s: &mut String, d: &[u8]) {
    let e = l.epoll_event;
    let data = get(d, e.data).unwrap_or(0);
    let _ = write!(
        s,
        "{{events={}, data={{u32={}, u64={data}}}}}",
        flag_names(get(d, e.events).unwrap_or(0), &EPOLL_EVENTS),
        data as u32
    );
}

/// struct flock; `l_pid` as F_GETLK returns it.
pub(crate) fn flock(l: &Layout, s: &mut String, d: &[u8], with_pid: bool) {
    let f = l.flock;
    let _ = write!(
        s,
        "{{l_type={}, l_whence={}, l_start={}, l_len={}",
        named(LOCK_TYPE, get(d, f.l_type).unwrap_or(0)),
        named(WHENCE, get(d, f.l_whence).unwrap_or(0)),
        get_i(d, f.l_start).unwrap_or(0),
        get_i(d, f.l_len).unwrap_or(0)
    );
    if with_pid {
        let _ = write!(s, ", l_pid={}", get_i(d, f.l_pid).unwrap_or(0));
    }
    s.push('}');
}

const TERM_IFLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0o1, "IGNBRK"),
        (0o2, "BRKINT"),
        (0o4, "IGNPAR"),
        (0o10, "PARMRK"),
        (0o20, "INPCK"),
        (0o40, "ISTRIP"),
        (0o100, "INLCR"),
        (0o200, "IGNCR"),
        (0o400, "ICRNL"),
        (0o1000, "IUCLC"),
        (0o2000, "IXON"),
        (0o4000, "IXANY"),
        (0o10000, "IXOFF"),
        (0o20000, "IMAXBEL"),
        (0o40000, "IUTF8"),
    ],
};

const TERM_OFLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0o1, "OPOST"),
        (0o2, "OLCUC"),
        (0o4, "ONLCR"),
        (0o10, "OCRNL"),
        (0o20, "ONOCR"),
        (0o40, "ONLRET"),
        (0o100, "OFILL"),
        (0o200, "OFDEL"),
    ],
};

/// The delay fields of c_oflag: (mask, names by value).
const TERM_ODELAYS: &[(u64, &[(u64, &str)])] = &[
    (0o400, &[(0, "NL0"), (0o400, "NL1")]),
    (
        0o3000,
        &[
            (0, "CR0"),
            (0o1000, "CR1"),
            (0o2000, "CR2"),
            (0o3000, "CR3"),
        ],
    ),
    (
        0o14000,
        &[
            (0, "TAB0"),
            (0o4000, "TAB1"),
            (0o10000, "TAB2"),
            (0o14000, "TAB3"),
        ],
    ),
    (0o20000, &[(0, "BS0"), (0o20000, "BS1")]),
    (0o40000, &[(0, "VT0"), (0o40000, "VT1")]),
    (0o100000, &[(0, "FF0"), (0o100000, "FF1")]),
];

const TERM_CFLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0o100, "CSTOPB"),
        (0o200, "CREAD"),
        (0o400, "PARENB"),
        (0o1000, "PARODD"),
        (0o2000, "HUPCL"),
        (0o4000, "CLOCAL"),
        (0o10000000000, "CMSPAR"),
        (0o20000000000, "CRTSCTS"),
    ],
};

const BAUDS: &[(u64, &str)] = &[
    (0, "B0"),
    (0o1, "B50"),
    (0o2, "B75"),
    (0o3, "B110"),
    (0o4, "B134"),
    (0o5, "B150"),
    (0o6, "B200"),
    (0o7, "B300"),
    (0o10, "B600"),
    (0o11, "B1200"),
    (0o12, "B1800"),
    (0o13, "B2400"),
    (0o14, "B4800"),
    (0o15, "B9600"),
    (0o16, "B19200"),
    (0o17, "B38400"),
    (0o10000, "BOTHER"),
    (0o10001, "B57600"),
    (0o10002, "B115200"),
    (0o10003, "B230400"),
    (0o10004, "B460800"),
    (0o10005, "B500000"),
    (0o10006, "B576000"),
    (0o10007, "B921600"),
    (0o10010, "B1000000"),
    (0o10011, "B1152000"),
    (0o10012, "B1500000"),
    (0o10013, "B2000000"),
    (0o10014, "B2500000"),
    (0o10015, "B3000000"),
    (0o10016, "B3500000"),
    (0o10017, "B4000000"),
];

/// In strace's order (its term_lflags table).
const TERM_LFLAGS: FlagSet = FlagSet {
    zero: "0",
    zero_mask: 0,
    bits: &[
        (0o1, "ISIG"),
        (0o2, "ICANON"),
        (0o4, "XCASE"),
        (0o10, "ECHO"),
        (0o20, "ECHOE"),
        (0o40, "ECHOK"),
        (0o100, "ECHONL"),
        (0o200, "NOFLSH"),
        (0o100000, "IEXTEN"),
        (0o1000, "ECHOCTL"),
        (0o2000, "ECHOPRT"),
        (0o4000, "ECHOKE"),
        (0o10000, "FLUSHO"),
        (0o40000, "PENDIN"),
        (0o400, "TOSTOP"),
        (0o200000, "EXTPROC"),
    ],
};

/// The kernel's struct termios without -v: its four flag words, as
/// strace names them (c_oflag's delay fields and c_cflag's speed and
/// character size by value).
pub(crate) fn termios(l: &Layout, s: &mut String, d: &[u8]) {
    let t = l.termios;
    let g = |f| get(d, f).unwrap_or(0);
    let mut o = g(t.c_oflag);
    let mut oflag = String::new();
    for (mask, names) in TERM_ODELAYS {
        oflag.push_str(&named(names, o & mask));
        oflag.push('|');
        o &= !mask;
    }
    oflag.push_str(&flag_names(o, &TERM_OFLAGS));
    let c = g(t.c_cflag);
    let (cbaud, cibaud, csize) = (0o10017, 0o2003600000, 0o60);
    let mut cflag = named(BAUDS, c & cbaud);
    if c & cibaud != 0 {
        let _ = write!(cflag, "|{}<<IBSHIFT", named(BAUDS, (c & cibaud) >> 16));
    }
    let cs = ["CS5", "CS6", "CS7", "CS8"][((c & csize) >> 4) as usize];
    let _ = write!(
        cflag,
        "|{cs}|{}",
        flag_names(c & !(cbaud | cibaud | csize), &TERM_CFLAGS)
    );
    let _ = write!(
        s,
        "{{c_iflag={}, c_oflag={oflag}, c_cflag={cflag}, c_lflag={}, ...}}",
        flag_names(g(t.c_iflag), &TERM_IFLAGS),
        flag_names(g(t.c_lflag), &TERM_LFLAGS)
    );
}

/// struct winsize.
pub(crate) fn winsize(l: &Layout, s: &mut String, d: &[u8]) {
    let w = l.winsize;
    let g = |f| get(d, f).unwrap_or(0);
    let _ = write!(
        s,
        "{{ws_row={}, ws_col={}, ws_xpixel={}, ws_ypixel={}}}",
        g(w.ws_row),
        g(w.ws_col),
        g(w.ws_xpixel),
        g(w.ws_ypixel)
    );
}

/// An fd_set of `nfds` descriptors: `[3 4]`; with a context, each fd is
/// annotated as `-y` says.
pub(crate) fn fd_set(s: &mut String, d: &[u8], nfds: i32, cx: Option<&Cx<'_, '_, '_, '_>>) {
    s.push('[');
    let mut first = true;
    for fd in 0..nfds.clamp(0, (d.len() * 8) as i32) {
        let (byte, bit) = (fd as usize / 8, fd % 8);
        if d[byte] & (1 << bit) != 0 {
            if !first {
                s.push(' ');
            }
            first = false;
            match cx {
                Some(cx) => cx.fd(s, fd),
                None => {
                    let _ = write!(s, "{fd}");
                }
            }
        }
    }
    s.push(']');
}

/// Control messages: `[{cmsg_len=20, cmsg_level=SOL_SOCKET,
/// cmsg_type=SCM_RIGHTS, cmsg_data=[5]}]`.
pub(crate) fn cmsgs(l: &Layout, s: &mut String, d: &[u8]) {
    let c = l.cmsghdr;
    s.push('[');
    let mut off = 0;
    let mut first = true;
    while off + c.size <= d.len() {
        let e = &d[off..];
        let len = get(e, c.cmsg_len).unwrap_or(0) as usize;
        let level = get(e, c.cmsg_level).unwrap_or(0);
        let ty = get(e, c.cmsg_type).unwrap_or(0);
        if len < c.size {
            break;
        }
        if !first {
            s.push_str(", ");
        }
        first = false;
        let _ = write!(
            s,
            "{{cmsg_len={len}, cmsg_level={}, cmsg_type=",
            named(SOL, level)
        );
        let data = &e[c.size..len.min(e.len())];
        if level == 1 && ty == 1 {
            s.push_str("SCM_RIGHTS, cmsg_data=[");
            for (k, fd) in data.chunks_exact(4).enumerate() {
                if k > 0 {
                    s.push_str(", ");
                }
                let _ = write!(s, "{}", i32::from_le_bytes([fd[0], fd[1], fd[2], fd[3]]));
            }
            s.push_str("]}");
        } else if level == 1 {
            let _ = write!(s, "{}}}", named(SCM, ty));
        } else {
            let _ = write!(s, "{ty:#x}}}");
        }
        // CMSG_ALIGN: the next header starts on a long boundary.
        off += (len + l.long - 1) & !(l.long - 1);
    }
    s.push(']');
}
