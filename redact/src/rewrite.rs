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
//! buffer rule selects by kind or path.

use rustc_hash::FxHashMap;
use syscalls::x86_64::Sysno;

use ptrec_format::{mem_flags, CaptureBuf, Captures, Header, Mem, Record, Redaction, Tid};

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
        (S::setsockopt, 3) | (S::fgetxattr, 2) => buf_fd,
        (S::getxattr | S::lgetxattr | S::setxattr, 2) => Class::Buffer {
            fd: None,
            path: Some(0),
        },
        (S::getrandom, 0) => Class::Buffer {
            fd: None,
            path: None,
        },
        (S::getxattr | S::lgetxattr | S::fgetxattr | S::setxattr, 1)
        | (S::mount, 2)
        | (S::memfd_create, 0) => Class::Str,
        (S::getcwd, 0) | (S::readlink, 1) | (S::readlinkat, 2) => Class::Path,
        (_, 0..=5) if m.flags & mem_flags::STRING != 0 => Class::Path,
        _ => Class::Other,
    }
}

fn is_open(nr: u64) -> bool {
    [Sysno::open, Sysno::openat, Sysno::openat2, Sysno::creat]
        .iter()
        .any(|&s| nr == s as u64)
}

/// The path argument index of an open-family call.
fn open_path_arg(nr: u64) -> u8 {
    if nr == Sysno::open as u64 || nr == Sysno::creat as u64 {
        0
    } else {
        1
    }
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
    /// The path of an open, when descriptors are followed.
    path: Vec<u8>,
    has_path: bool,
}

/// Applies a policy to a header and to records in file order.
pub struct Redactor {
    policy: Policy,
    hasher: Option<PathHasher>,
    /// Followed only when a buffer rule selects by kind or path.
    fds: Option<FdTable>,
    pending: FxHashMap<Tid, Pending>,
    buf: CaptureBuf,
    strings: Vec<Vec<u8>>,
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
            policy,
            pending: FxHashMap::default(),
            buf: CaptureBuf::new(),
            strings: Vec::new(),
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
                p.has_path = false;
                if self.fds.is_some() && is_open(nr) {
                    let want = open_path_arg(nr);
                    if let Some(m) = mem.iter().find(|m| m.arg == want && m.redacted.is_none()) {
                        p.path.clear();
                        p.path.extend_from_slice(m.data);
                        p.has_path = true;
                    }
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
                        let path = p.has_path.then_some(p.path.as_slice());
                        t.syscall_exit(tid, nr, &p.args, ret, path, mem);
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
            Record::Exec {
                tid,
                time,
                former_tid,
                filename,
                ref argv,
                ref argv_redacted,
            } => {
                if let Some(t) = self.fds.as_mut() {
                    t.exec(tid, former_tid);
                }
                self.strings.clear();
                let mut redacted = argv_redacted.clone();
                let cuts = if self.policy.secrets {
                    argv_secrets(argv)
                } else {
                    vec![None; argv.len()]
                };
                for (i, (a, c)) in argv.iter().zip(cuts).enumerate() {
                    let done = redacted.iter().any(|&(k, _)| k as usize == i);
                    match c {
                        Some(k) if !done => {
                            let n = (a.len() - k) as u64;
                            self.strings.push(a[..k].to_vec());
                            redacted.push((i as u32, n));
                            self.dropped.secrets += 1;
                            self.dropped.bytes += n;
                        }
                        _ => self.strings.push(a.to_vec()),
                    }
                }
                redacted.sort_unstable();
                let filename = match &self.hasher {
                    Some(h) => {
                        self.dropped.paths_hashed += 1;
                        h.hash(filename)
                    }
                    None => filename.to_vec(),
                };
                out(&Record::Exec {
                    tid,
                    time,
                    former_tid,
                    filename: &filename,
                    argv: self.strings.iter().map(Vec::as_slice).collect(),
                    argv_redacted: redacted,
                })
            }
            Record::Attach {
                tid,
                time,
                tgid,
                ppid,
                state,
                group_stopped,
                comm,
                exe,
                cwd,
            } => match &self.hasher {
                Some(h) => {
                    let (exe, cwd) = (h.hash(exe), h.hash(cwd));
                    self.dropped.paths_hashed += 2;
                    out(&Record::Attach {
                        tid,
                        time,
                        tgid,
                        ppid,
                        state,
                        group_stopped,
                        comm,
                        exe: &exe,
                        cwd: &cwd,
                    })
                }
                None => out(r),
            },
            Record::OpenFd {
                tid,
                time,
                fd,
                flags,
                pos,
                target,
            } => {
                if let Some(t) = self.fds.as_mut() {
                    let kind = link_kind(target);
                    let path = target.starts_with(b"/").then(|| target.to_vec());
                    t.seed(tid, fd, kind, path);
                }
                match &self.hasher {
                    Some(h) if target.starts_with(b"/") => {
                        let target = h.hash(target);
                        self.dropped.paths_hashed += 1;
                        out(&Record::OpenFd {
                            tid,
                            time,
                            fd,
                            flags,
                            pos,
                            target: &target,
                        })
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

    /// Drops `m`'s bytes from the first secret one at `from` on. A
    /// capture is marked redacted whole (the format keeps no prefix of a
    /// capture), so `from` only tells that something is dropped; its
    /// length is kept.
    fn cut(&mut self, m: &Mem<'_>, from: usize) {
        debug_assert!(from <= m.data.len());
        let n = m.data.len() as u64;
        self.dropped.bytes += n;
        self.buf.push_redacted(m.arg, m.flags, m.addr, n);
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
