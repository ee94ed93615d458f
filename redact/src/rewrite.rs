//! [`Redactor`]: applies a [`Policy`] to a trace's header and to each of its
//! records, in file order. `rec --redact` runs it on the tracer's thread just
//! before a record is encoded; `analyze redact` runs it over a decoded trace
//! and encodes the result into a new one.
//!
//! What a record holds and which rule drops it:
//! - execve/execveat envp strings, the header's environment: `env` rules
//!   (the name and `=` stay, the value goes);
//! - data buffers (read, write, pread, pwrite, readv, writev, send*, recv*,
//!   setsockopt values, xattr values, getrandom output): `buffers` rules,
//!   by what the descriptor refers to ([`crate::fds`]);
//! - argv (execve captures, Exec records, the header's command line) and
//!   every other string or kept buffer: `secrets`;
//! - paths (path arguments, getcwd/readlink results, exec filenames, the
//!   cwd and exe of attach records, open-fd targets, the header's cwd):
//!   `paths=hash`.
//!
//! Cost per record: one lookup of the syscall's class; a record without
//! captures is passed through as it is; captures are copied into one reused
//! buffer (no allocation once warm). Descriptors are followed only when a
//! buffer rule selects by kind or path; strings are scanned for secrets only
//! past a literal prefilter. Measured (`cargo run --release -p ptrec-redact
//! --example cost -- TRACE`, 200 × `cat /etc/services`, 51840 records, a
//! loaded 2-CPU VM): 181 ns per record for `default`, 197 for `secrets`, 200
//! for `buffers=sockets,secrets`, 338 for `paths=hash` (25 for the loop
//! alone). In rec this runs on the tracer's thread after the tracee was
//! resumed; rec's own CPU time for that workload did not change beyond the
//! run-to-run noise (0.85-0.97 s medians of 5, all three policies).

use ptrec_abi::capture::{ARG_FD_DETAIL, ARG_FD_NAME};
use ptrec_abi::{Arch, Sysno};
use rustc_hash::FxHashMap;

use ptrec_format::{
    mem_flags, CaptureBuf, Captures, Header, Mem, OwnedRecord, Record, Redaction, Tid,
};

use crate::fds::{link_kind, FdTable};
use crate::paths::PathHasher;
use crate::policy::{FdKind, Policy};
use crate::secrets::{argv_secrets, first_secret};

/// What a capture holds, for the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Data moved through descriptor argument `fd` (or the file at path
    /// argument `path`).
    Buffer {
        fd: Option<usize>,
        path: Option<usize>,
    },
    Path,
    Argv,
    Env,
    /// Another string (xattr names, a mount's type, a memfd name).
    Str,
    /// A struct: sizes, times, addresses, flags.
    Other,
}

fn classify(nr: u64, m: &Mem<'_>) -> Class {
    use Sysno as S;
    let Some(s) = Sysno::new(nr as usize) else {
        return Class::Other;
    };
    let buf_fd = Class::Buffer {
        fd: Some(0),
        path: None,
    };
    match (s, m.arg) {
        (S::execve, 0) | (S::execveat, 1) => Class::Path,
        (S::execve, 9) | (S::execveat, 10) => Class::Argv,
        (S::execve, 10) | (S::execveat, 11) => Class::Env,
        (S::read | S::write | S::pread64 | S::pwrite64 | S::recvfrom | S::sendto, 1) => buf_fd,
        (
            S::readv
            | S::writev
            | S::preadv
            | S::pwritev
            | S::preadv2
            | S::pwritev2
            | S::sendmsg
            | S::recvmsg,
            9,
        ) => buf_fd,
        (S::setsockopt, 3) | (S::fgetxattr | S::fsetxattr, 2) => buf_fd,
        (S::getxattr | S::lgetxattr | S::setxattr | S::lsetxattr, 2) => Class::Buffer {
            fd: None,
            path: Some(0),
        },
        (S::getrandom, 0) => Class::Buffer {
            fd: None,
            path: None,
        },
        (
            S::getxattr
            | S::lgetxattr
            | S::fgetxattr
            | S::setxattr
            | S::lsetxattr
            | S::fsetxattr
            | S::removexattr
            | S::lremovexattr
            | S::fremovexattr,
            1,
        )
        | (S::mount, 2)
        | (S::memfd_create, 0) => Class::Str,
        (S::getcwd, 0) | (S::readlink, 1) | (S::readlinkat, 2) => Class::Path,
        (_, 0..=5) if m.flags & mem_flags::STRING != 0 => Class::Path,
        // What /proc named a descriptor the call made: a path, or
        // `pipe:[N]` and the like, which name no file.
        (_, ARG_FD_NAME) if m.data.starts_with(b"/") => Class::Path,
        // `rec -yy`'s: a UNIX socket's bound path is in it.
        (_, ARG_FD_DETAIL) if names_path(m.data) => Class::Path,
        _ => Class::Other,
    }
}

/// Whether a `-yy` detail ([`ARG_FD_DETAIL`]) holds a path: a UNIX
/// socket's bound one (`UNIX-STREAM:[7942,"/tmp/s"]`).
fn names_path(detail: &[u8]) -> bool {
    detail.windows(2).any(|w| w == b",\"")
}

/// How many values each rule dropped: what `analyze redact` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dropped {
    pub env_values: u64,
    pub buffers: u64,
    pub secrets: u64,
    pub paths_hashed: u64,
    /// Bytes dropped in all.
    pub bytes: u64,
}

#[derive(Default)]
struct Pending {
    nr: u64,
    args: [u64; 6],
}

/// Applies a policy to a header and to records in file order.
pub struct Redactor {
    policy: Policy,
    hasher: Option<PathHasher>,
    /// Followed only when a buffer rule selects by kind or path.
    fds: Option<FdTable>,
    /// The recording's architecture (the header's; x86_64 until then):
    /// how the descriptor table reads syscall numbers.
    arch: Arch,
    pending: FxHashMap<Tid, Pending>,
    buf: CaptureBuf,
    argv_cut: Vec<Option<usize>>,
    dropped: Dropped,
}

impl Redactor {
    /// A redactor for `policy`; `hasher` is required by `paths=hash`
    /// ([`PathHasher::from_env_or_random`]).
    pub fn new(policy: Policy, hasher: Option<PathHasher>) -> Redactor {
        let b = &policy.buffers;
        let follow = !b.all && !b.is_empty();
        Redactor {
            hasher: if policy.hash_paths { hasher } else { None },
            fds: follow.then(FdTable::default),
            arch: Arch::X86_64,
            policy,
            pending: FxHashMap::default(),
            buf: CaptureBuf::new(),
            argv_cut: Vec::new(),
            dropped: Dropped::default(),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn dropped(&self) -> Dropped {
        self.dropped
    }

    /// Tells what descriptor `fd` of the first process is before the
    /// recording starts (rec: its own stdin, stdout, stderr).
    pub fn seed_fd(&mut self, tid: Tid, fd: i32, kind: FdKind, path: Option<Vec<u8>>) {
        if let Some(t) = self.fds.as_mut() {
            t.seed(tid, fd, kind, path);
        }
    }

    /// Redacts the header in place and records the policy and `now_wall_ns`.
    pub fn header(&mut self, h: &mut Header, now_wall_ns: u64) {
        if let Some(a) = Arch::of(h) {
            self.arch = a;
        }
        let mut env_redacted = std::mem::take(&mut h.env_redacted);
        for (i, e) in h.env.iter_mut().enumerate() {
            if env_redacted.iter().any(|&(k, _)| k as usize == i) {
                continue;
            }
            let cut = self.env_cut(e);
            if let Some(k) = cut {
                let n = (e.len() - k) as u64;
                e.truncate(k);
                env_redacted.push((i as u32, n));
                self.dropped.env_values += 1;
                self.dropped.bytes += n;
            }
        }
        env_redacted.sort_unstable();
        h.env_redacted = env_redacted;
        if self.policy.secrets {
            let argv: Vec<&[u8]> = h.argv.iter().map(Vec::as_slice).collect();
            let cuts = argv_secrets(&argv);
            let mut argv_redacted = std::mem::take(&mut h.argv_redacted);
            for (i, c) in cuts.into_iter().enumerate() {
                if let Some(k) = c {
                    let n = (h.argv[i].len() - k) as u64;
                    h.argv[i].truncate(k);
                    argv_redacted.push((i as u32, n));
                    self.dropped.secrets += 1;
                    self.dropped.bytes += n;
                }
            }
            argv_redacted.sort_unstable();
            h.argv_redacted = argv_redacted;
        }
        if let Some(hs) = &self.hasher {
            h.cwd = hs.hash(&h.cwd);
            self.dropped.paths_hashed += 1;
        }
        let policy = match &h.redaction {
            // A second redaction: both policies apply.
            Some(r) if !r.policy.is_empty() => format!("{},{}", r.policy, self.policy.text()),
            _ => self.policy.text().to_string(),
        };
        h.redaction = Some(Redaction {
            policy,
            applied_wall_ns: now_wall_ns,
        });
    }

    /// Where an environment entry's value is cut (by `env` rules, or by
    /// `secrets` inside the value).
    fn env_cut(&self, e: &[u8]) -> Option<usize> {
        let by_env = self.policy.env_value_dropped(e);
        let by_secret = if self.policy.secrets {
            first_secret(e)
        } else {
            None
        };
        match (by_env, by_secret) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Redacts `r` and hands the result to `out` (`r` itself when nothing
    /// changes).
    pub fn record<T>(&mut self, r: &Record<'_>, out: impl FnOnce(&Record<'_>) -> T) -> T {
        match *r {
            Record::SyscallEnter {
                tid,
                time,
                stime_us,
                nr,
                args,
                regs,
                ref mem,
            } => {
                let p = self.pending.entry(tid).or_default();
                p.nr = nr;
                p.args = args;
                if let Some(t) = self.fds.as_mut() {
                    t.syscall_enter(self.arch, tid, nr, &args, mem);
                }
                if mem.is_empty() || self.policy.is_noop() {
                    return out(r);
                }
                self.captures(tid, nr, &args, mem);
                out(&Record::SyscallEnter {
                    tid,
                    time,
                    stime_us,
                    nr,
                    args,
                    regs,
                    mem: self.buf.captures(),
                })
            }
            Record::SyscallExit {
                tid,
                time,
                stime_us,
                nr,
                ret,
                regs,
                ref mem,
            } => {
                let args = match self.pending.get(&tid) {
                    Some(p) if p.nr == nr => p.args,
                    // No entry seen (a trace that starts mid-call): the
                    // descriptor is unknown.
                    _ => [u64::MAX; 6],
                };
                if let (Some(t), Some(p)) = (self.fds.as_mut(), self.pending.get(&tid)) {
                    if p.nr == nr {
                        t.syscall_exit(self.arch, tid, nr, &p.args, ret, mem);
                    }
                }
                if mem.is_empty() || self.policy.is_noop() {
                    return out(r);
                }
                self.captures(tid, nr, &args, mem);
                out(&Record::SyscallExit {
                    tid,
                    time,
                    stime_us,
                    nr,
                    ret,
                    regs,
                    mem: self.buf.captures(),
                })
            }
            Record::NewChild {
                tid, child, flags, ..
            } => {
                if let Some(t) = self.fds.as_mut() {
                    t.new_child(tid, child, flags);
                }
                out(r)
            }
            Record::Death { tid, .. } => {
                if let Some(t) = self.fds.as_mut() {
                    t.exit(tid);
                }
                // Its call in progress, if any, never exits: its tid may be
                // reused.
                self.pending.remove(&tid);
                out(r)
            }
            // Rare records: changed on an owned copy.
            Record::Exec {
                tid, former_tid, ..
            } => {
                if let Some(t) = self.fds.as_mut() {
                    t.exec(tid, former_tid);
                }
                let mut o = r.to_owned();
                if let OwnedRecord::Exec {
                    filename,
                    argv,
                    argv_redacted,
                    ..
                } = &mut o
                {
                    if self.policy.secrets {
                        let cuts = {
                            let v: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                            argv_secrets(&v)
                        };
                        for (i, c) in cuts.into_iter().enumerate() {
                            let done = argv_redacted.iter().any(|&(k, _)| k as usize == i);
                            if let (Some(k), false) = (c, done) {
                                let n = (argv[i].len() - k) as u64;
                                argv[i].truncate(k);
                                argv_redacted.push((i as u32, n));
                                self.dropped.secrets += 1;
                                self.dropped.bytes += n;
                            }
                        }
                        argv_redacted.sort_unstable();
                    }
                    if let Some(h) = &self.hasher {
                        *filename = h.hash(filename);
                        self.dropped.paths_hashed += 1;
                    }
                }
                out(&o.as_record())
            }
            Record::Attach { .. } if self.hasher.is_some() => {
                let mut o = r.to_owned();
                if let (OwnedRecord::Attach { exe, cwd, .. }, Some(h)) = (&mut o, &self.hasher) {
                    *exe = h.hash(exe);
                    *cwd = h.hash(cwd);
                    self.dropped.paths_hashed += 2;
                }
                out(&o.as_record())
            }
            Record::OpenFd {
                tid,
                fd,
                flags,
                target,
                detail,
                ..
            } => {
                if let Some(t) = self.fds.as_mut() {
                    let path = target.starts_with(b"/").then(|| target.to_vec());
                    let cloexec = u64::from(flags) & ptrec_abi::fds::O_CLOEXEC != 0;
                    t.seed_flags(tid, fd, link_kind(target), path, cloexec);
                }
                match &self.hasher {
                    Some(h) if target.starts_with(b"/") || names_path(detail) => {
                        let mut o = r.to_owned();
                        if let OwnedRecord::OpenFd { target, detail, .. } = &mut o {
                            if target.starts_with(b"/") {
                                *target = h.hash(target);
                            }
                            if names_path(detail) {
                                *detail = h.hash(detail);
                            }
                        }
                        self.dropped.paths_hashed += 1;
                        out(&o.as_record())
                    }
                    _ => out(r),
                }
            }
            _ => out(r),
        }
    }

    /// The redacted copy of `mem` into `self.buf`.
    fn captures(&mut self, tid: Tid, nr: u64, args: &[u64; 6], mem: &Captures<'_>) {
        self.buf.clear();
        // The argument list is judged whole (`--token x`).
        self.argv_cut.clear();
        if self.policy.secrets {
            let argv: Vec<&[u8]> = mem
                .iter()
                .filter(|m| classify(nr, m) == Class::Argv)
                .map(|m| m.data)
                .collect();
            if !argv.is_empty() {
                self.argv_cut = argv_secrets(&argv);
            }
        }
        let mut argv_i = 0;
        for m in mem.iter() {
            if m.redacted.is_some() || m.data.is_empty() {
                self.buf.push_mem(&m);
                continue;
            }
            match classify(nr, &m) {
                Class::Buffer { fd, path } => {
                    if self.buffer_dropped(tid, args, fd, path, mem) {
                        self.dropped.buffers += 1;
                        self.cut(&m, 0);
                    } else {
                        self.secrets(&m);
                    }
                }
                Class::Env => match self.env_cut(m.data) {
                    Some(k) => {
                        self.dropped.env_values += 1;
                        self.cut(&m, k);
                    }
                    None => self.buf.push_mem(&m),
                },
                Class::Argv => {
                    let c = self.argv_cut.get(argv_i).copied().flatten();
                    argv_i += 1;
                    match c {
                        Some(k) => {
                            self.dropped.secrets += 1;
                            self.cut(&m, k);
                        }
                        None => self.buf.push_mem(&m),
                    }
                }
                Class::Path => match &self.hasher {
                    Some(h) => {
                        let data = h.hash(m.data);
                        self.dropped.paths_hashed += 1;
                        self.buf.push_mem(&Mem { data: &data, ..m });
                    }
                    None => self.buf.push_mem(&m),
                },
                Class::Str => self.secrets(&m),
                Class::Other => self.buf.push_mem(&m),
            }
        }
    }

    fn secrets(&mut self, m: &Mem<'_>) {
        match self.policy.secrets.then(|| first_secret(m.data)).flatten() {
            Some(k) => {
                self.dropped.secrets += 1;
                self.cut(m, k);
            }
            None => self.buf.push_mem(m),
        }
    }

    /// Keeps the first `from` bytes of `m` (a name and its `=`, what comes
    /// before a secret) and drops the rest; the capture is marked redacted
    /// with the length dropped.
    fn cut(&mut self, m: &Mem<'_>, from: usize) {
        let from = from.min(m.data.len());
        let n = (m.data.len() - from) as u64;
        self.dropped.bytes += n;
        self.buf
            .push_redacted(m.arg, m.flags, m.addr, &m.data[..from], n);
    }

    fn buffer_dropped(
        &self,
        tid: Tid,
        args: &[u64; 6],
        fd: Option<usize>,
        path: Option<usize>,
        mem: &Captures<'_>,
    ) -> bool {
        let b = &self.policy.buffers;
        if b.all || b.is_empty() {
            return b.all;
        }
        if let Some(i) = path {
            let p = mem.iter().find(|m| m.arg as usize == i).map(|m| m.data);
            return b.drops(FdKind::File, p);
        }
        let Some(i) = fd else {
            return b.drops(FdKind::Other, None);
        };
        match self.fds.as_ref().and_then(|t| t.get(tid, args[i] as i32)) {
            Some(f) => b.drops(f.kind, f.path.as_deref()),
            None => b.drops(FdKind::Unknown, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enter<'a>(nr: Sysno, args: [u64; 6], mem: &'a CaptureBuf) -> Record<'a> {
        Record::SyscallEnter {
            tid: 7,
            time: 1,
            stime_us: None,
            nr: nr as u64,
            args,
            regs: None,
            mem: mem.captures(),
        }
    }

    fn mems(r: &Record<'_>) -> Vec<(u8, Vec<u8>, Option<u64>)> {
        match r {
            Record::SyscallEnter { mem, .. } | Record::SyscallExit { mem, .. } => mem
                .iter()
                .map(|m| (m.arg, m.data.to_vec(), m.redacted))
                .collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn default_drops_buffers_and_env_values_and_keeps_names_and_paths() {
        let mut red = Redactor::new(Policy::default_policy(), None);
        let mut cb = CaptureBuf::new();
        cb.push(1, 0, 0x10, b"hello secret world");
        let got = red.record(&enter(Sysno::write, [1, 0x10, 18, 0, 0, 0], &cb), mems);
        assert_eq!(got, vec![(1, vec![], Some(18))]);
        let mut cb = CaptureBuf::new();
        cb.push(0, mem_flags::STRING, 0x20, b"/bin/env");
        cb.push(10, mem_flags::STRING, 0x30, b"API_TOKEN=abc");
        cb.push(10, mem_flags::STRING, 0x40, b"PATH=/bin");
        let got = red.record(&enter(Sysno::execve, [0x20, 0, 0, 0, 0, 0], &cb), mems);
        assert_eq!(
            got,
            vec![
                (0, b"/bin/env".to_vec(), None),
                (10, b"API_TOKEN=".to_vec(), Some(3)),
                (10, b"PATH=/bin".to_vec(), None),
            ]
        );
        assert_eq!(red.dropped().env_values, 1);
    }

    #[test]
    fn buffers_by_kind_follow_descriptors_from_their_open() {
        let policy = Policy::parse("buffers=sockets").expect("policy");
        let mut red = Redactor::new(policy, None);
        let none = CaptureBuf::new();
        // socket() = 3: a write to it is dropped; fd 1, said to be a pipe,
        // keeps its data.
        red.record(&enter(Sysno::socket, [2, 1, 0, 0, 0, 0], &none), |_| ());
        red.record(
            &Record::SyscallExit {
                tid: 7,
                time: 2,
                stime_us: None,
                nr: Sysno::socket as u64,
                ret: 3,
                regs: None,
                mem: none.captures(),
            },
            |_| (),
        );
        let mut cb = CaptureBuf::new();
        cb.push(1, 0, 0x10, b"data");
        let to_socket = red.record(&enter(Sysno::write, [3, 0x10, 4, 0, 0, 0], &cb), mems);
        assert_eq!(to_socket[0].2, Some(4));
        red.seed_fd(7, 1, FdKind::Pipe, None);
        let to_pipe = red.record(&enter(Sysno::write, [1, 0x10, 4, 0, 0, 0], &cb), mems);
        assert_eq!(to_pipe[0], (1, b"data".to_vec(), None));
    }

    #[test]
    fn hashing_paths_hashes_the_proc_names_of_descriptors_too() {
        let policy = Policy::parse("paths=hash").expect("policy");
        let h = PathHasher::with_key(b"k");
        let mut red = Redactor::new(policy, Some(PathHasher::with_key(b"k")));
        let mut cb = CaptureBuf::new();
        let named = mem_flags::AT_EXIT | mem_flags::STRING;
        cb.push(ARG_FD_NAME, named, 3, b"/usr/lib/libc.so.6");
        cb.push(ARG_FD_NAME, named, 4, b"pipe:[12]");
        let exit = Record::SyscallExit {
            tid: 7,
            time: 2,
            stime_us: None,
            nr: Sysno::openat as u64,
            ret: 3,
            regs: None,
            mem: cb.captures(),
        };
        let got = red.record(&exit, mems);
        assert_eq!(
            got,
            vec![
                (ARG_FD_NAME, h.hash(b"/usr/lib/libc.so.6"), None),
                (ARG_FD_NAME, b"pipe:[12]".to_vec(), None),
            ]
        );
    }
}
