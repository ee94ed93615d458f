//! Per-process state over the call stream: each process's descriptor table
//! and working directory, so that a view can say what a descriptor refers
//! to (`replay -y`: `3</etc/passwd>`, `4<pipe>`, `5<TCP:[->10.0.0.1:80]>`) and
//! resolve relative and `*at` paths.
//!
//! Kept from the calls that change it: open/openat/openat2/creat, dup,
//! dup2, dup3, fcntl F_DUPFD/F_DUPFD_CLOEXEC/F_SETFD, pipe/pipe2,
//! socket/socketpair/accept/accept4/connect/bind, eventfd, timerfd_create,
//! signalfd, epoll_create, memfd_create, inotify_init, pidfd_open, close,
//! close_range, chdir/fchdir; close-on-exec descriptors close at exec; a
//! child inherits a copy at fork and shares the table under CLONE_FILES.
//!
//! What the trace cannot tell is left out rather than guessed: descriptors
//! a process had before the recording saw it (stdin/stdout/stderr of the
//! started command, everything of an attached process), pipe and socket
//! inode numbers, and a socket's local address unless it was bound.

use std::borrow::Cow;
use std::sync::Arc;

use ptrec_abi::decode::{FdDesc, FdResolver};
use ptrec_abi::Arch;

use ptrec_format::{mem_flags, ChildKind, Record, Tid};
use rustc_hash::FxHashMap;

use crate::calls::{ChunkMeta, Entry, Exit, Item, OwnedEntry, OwnedExit};

#[derive(Clone, Debug)]
struct Fd {
    name: Arc<[u8]>,
    cloexec: bool,
}

/// A descriptor table and the working directory that goes with it.
#[derive(Clone, Debug, Default)]
struct Files {
    fds: FxHashMap<i32, Fd>,
    cwd: Arc<[u8]>,
    /// Threads using this table.
    users: u32,
}

const CLONE_FILES: u64 = 0x400;
const CLONE_THREAD: u64 = 0x10000;
const O_CLOEXEC: u64 = 0o2000000;

/// Every process's descriptor table and cwd at one point of the stream.
#[derive(Clone, Debug, Default)]
pub struct FdState {
    of: FxHashMap<Tid, u32>,
    tables: FxHashMap<u32, Files>,
    next: u32,
    /// The cwd of a thread seen without a recorded creation (the started
    /// command's, from the header).
    root_cwd: Arc<[u8]>,
}

/// The state of thread `tid` as abi's [`FdResolver`] (`-y`): what its
/// process's descriptors refer to, and its cwd for AT_FDCWD (-100).
pub struct Of<'a> {
    files: Option<&'a Files>,
}

impl Of<'_> {
    /// What descriptor `fd` refers to (unescaped).
    pub fn name(&self, fd: i32) -> Option<&[u8]> {
        let f = self.files?;
        if fd == -100 {
            return Some(&f.cwd);
        }
        f.fds.get(&fd).map(|f| &*f.name)
    }
}

impl FdResolver for Of<'_> {
    fn describe(&self, fd: i32, _full: bool) -> Option<FdDesc<'_>> {
        self.name(fd).map(|p| FdDesc {
            path: Cow::Borrowed(p),
            detail: None,
        })
    }
}

fn string_arg<'a>(e: &Entry<'a>, arg: u8) -> Option<&'a [u8]> {
    e.mem
        .iter()
        .find(|m| m.arg == arg && m.flags & mem_flags::AT_EXIT == 0)
        .map(|m| m.data)
}

fn exit_arg<'a>(x: &Exit<'a>, arg: u8) -> Option<&'a [u8]> {
    x.mem.iter().find(|m| m.arg == arg).map(|m| m.data)
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    let s = b.get(at..at + 4)?;
    Some(i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// `dir/path` with `.` and `..` segments folded; `path` as is when absolute.
pub fn resolve(dir: &[u8], path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    let joined: Vec<&[u8]> = if path.first() == Some(&b'/') {
        path.split(|&c| c == b'/').collect()
    } else {
        dir.split(|&c| c == b'/')
            .chain(path.split(|&c| c == b'/'))
            .collect()
    };
    for seg in joined {
        match seg {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = Vec::with_capacity(path.len() + dir.len() + 1);
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// `ip:port` of an AF_INET or AF_INET6 sockaddr; a path for AF_UNIX.
fn sockaddr(d: &[u8]) -> Option<String> {
    let fam = u16::from_le_bytes([*d.first()?, *d.get(1)?]);
    match fam {
        1 => {
            let p = d.get(2..)?;
            let end = p.iter().position(|&c| c == 0).unwrap_or(p.len());
            Some(String::from_utf8_lossy(&p[..end]).into_owned())
        }
        2 => {
            let port = u16::from_be_bytes([*d.get(2)?, *d.get(3)?]);
            let a = d.get(4..8)?;
            Some(format!("{}.{}.{}.{}:{port}", a[0], a[1], a[2], a[3]))
        }
        10 => {
            let port = u16::from_be_bytes([*d.get(2)?, *d.get(3)?]);
            let a = d.get(8..24)?;
            let words: Vec<String> = a
                .chunks(2)
                .map(|w| format!("{:x}", u16::from_be_bytes([w[0], w[1]])))
                .collect();
            Some(format!("[{}]:{port}", words.join(":")))
        }
        _ => None,
    }
}

/// The protocol name strace shows for a socket of `domain` and `type`.
fn proto(domain: u64, ty: u64) -> &'static str {
    match (domain, ty & 0xf) {
        (1, _) => "UNIX",
        (2, 1) => "TCP",
        (2, 2) => "UDP",
        (10, 1) => "TCPv6",
        (10, 2) => "UDPv6",
        (16, _) => "NETLINK",
        _ => "socket",
    }
}

impl FdState {
    pub fn new(root_cwd: &[u8]) -> FdState {
        FdState {
            root_cwd: root_cwd.into(),
            ..FdState::default()
        }
    }

    /// The table of `tid`, made (empty, cwd of the root) when unknown.
    fn table(&mut self, tid: Tid) -> &mut Files {
        let id = match self.of.get(&tid) {
            Some(&id) => id,
            None => {
                let id = self.fresh(Files {
                    cwd: self.root_cwd.clone(),
                    ..Files::default()
                });
                self.attach(tid, id);
                id
            }
        };
        self.tables.entry(id).or_default()
    }

    fn fresh(&mut self, f: Files) -> u32 {
        let id = self.next;
        self.next += 1;
        self.tables.insert(id, Files { users: 0, ..f });
        id
    }

    fn attach(&mut self, tid: Tid, id: u32) {
        self.detach(tid);
        self.of.insert(tid, id);
        if let Some(t) = self.tables.get_mut(&id) {
            t.users += 1;
        }
    }

    fn detach(&mut self, tid: Tid) {
        if let Some(old) = self.of.remove(&tid) {
            if let Some(t) = self.tables.get_mut(&old) {
                t.users = t.users.saturating_sub(1);
                if t.users == 0 {
                    self.tables.remove(&old);
                }
            }
        }
    }

    /// What `tid`'s descriptors refer to.
    pub fn of(&self, tid: Tid) -> Of<'_> {
        Of {
            files: self.of.get(&tid).and_then(|id| self.tables.get(id)),
        }
    }

    /// What descriptor `fd` of `tid` refers to.
    pub fn describe(&self, tid: Tid, fd: i32) -> Option<&[u8]> {
        let t = self.tables.get(self.of.get(&tid)?)?;
        t.fds.get(&fd).map(|f| &*f.name)
    }

    /// The working directory of `tid`.
    pub fn cwd(&self, tid: Tid) -> &[u8] {
        match self.of.get(&tid).and_then(|id| self.tables.get(id)) {
            Some(t) => &t.cwd,
            None => &self.root_cwd,
        }
    }

    /// `path` of a call of `tid` relative to `dirfd` (AT_FDCWD: the cwd).
    pub fn path_at(&self, tid: Tid, dirfd: i32, path: &[u8]) -> Vec<u8> {
        let dir = if dirfd == -100 {
            self.cwd(tid)
        } else {
            self.describe(tid, dirfd).unwrap_or(b"")
        };
        resolve(dir, path)
    }

    fn set(&mut self, tid: Tid, fd: i64, name: Vec<u8>, cloexec: bool) {
        if !(0..=i64::from(i32::MAX)).contains(&fd) {
            return;
        }
        self.table(tid).fds.insert(
            fd as i32,
            Fd {
                name: name.into(),
                cloexec,
            },
        );
    }

    fn name(&self, tid: Tid, fd: u64) -> Option<Vec<u8>> {
        self.describe(tid, fd as i32).map(<[u8]>::to_vec)
    }

    /// Applies a process event: creation (a copy, or the same table under
    /// CLONE_FILES), exec (close-on-exec descriptors close; the tid of the
    /// thread that called it is the leader's now), death, attach.
    pub fn event(&mut self, r: &Record<'_>) {
        match *r {
            Record::NewChild {
                tid,
                child,
                flags,
                kind,
                ..
            } => {
                let shared = flags & (CLONE_FILES | CLONE_THREAD) != 0 && kind == ChildKind::Clone;
                self.table(tid);
                let Some(&id) = self.of.get(&tid) else { return };
                if shared {
                    self.attach(child, id);
                } else if let Some(t) = self.tables.get(&id).cloned() {
                    let nid = self.fresh(t);
                    self.attach(child, nid);
                }
            }
            Record::Exec {
                tid, former_tid, ..
            } => {
                if let Some(&id) = self.of.get(&former_tid) {
                    // exec unshares a table shared with other processes.
                    let t = self.tables.get(&id).cloned().unwrap_or_default();
                    self.detach(former_tid);
                    let mut t = Files { users: 0, ..t };
                    t.fds.retain(|_, f| !f.cloexec);
                    let nid = self.fresh(t);
                    self.attach(tid, nid);
                }
            }
            Record::Death { tid, .. } => self.detach(tid),
            // An attached process's descriptors, as /proc showed them.
            Record::OpenFd {
                tid,
                fd,
                flags,
                target,
                ..
            } => self.set(
                tid,
                fd.into(),
                target.to_vec(),
                u64::from(flags) & O_CLOEXEC != 0,
            ),
            Record::Attach { tid, cwd, tgid, .. } => {
                if let Some(&id) = self.of.get(&tgid).filter(|_| tid != tgid) {
                    self.attach(tid, id);
                } else {
                    let id = self.fresh(Files {
                        cwd: resolve(b"/", cwd).into(),
                        ..Files::default()
                    });
                    self.attach(tid, id);
                }
            }
            _ => {}
        }
    }

    /// What descriptor `fd` of `x.tid` would refer to after the call,
    /// leaving the state as it was.
    pub fn peek_call(&mut self, e: &Entry<'_>, x: &Exit<'_>, fd: i32) -> Option<Vec<u8>> {
        let before = self.table(x.tid).fds.get(&fd).cloned();
        self.call(e, x);
        let name = self.describe(x.tid, fd).map(<[u8]>::to_vec);
        let t = self.table(x.tid);
        match before {
            Some(f) => {
                t.fds.insert(fd, f);
            }
            None => {
                t.fds.remove(&fd);
            }
        }
        name
    }

    /// Applies a call that returned.
    pub fn call(&mut self, e: &Entry<'_>, x: &Exit<'_>) {
        let ret = x.ret;
        if crate::stats::is_error(ret) {
            // A non-blocking connect still names the peer.
            if ret != -115 {
                return;
            }
        }
        let tid = x.tid;
        let a = e.args;
        let name = e.name();
        match &*name {
            "open" | "creat" => {
                if let Some(p) = string_arg(e, 0) {
                    let cloexec = name == "open" && a[1] & O_CLOEXEC != 0;
                    let path = self.path_at(tid, -100, p);
                    self.set(tid, ret, path, cloexec);
                }
            }
            "openat" | "openat2" => {
                if let Some(p) = string_arg(e, 1) {
                    let cloexec = name == "openat" && a[2] & O_CLOEXEC != 0;
                    let path = self.path_at(tid, a[0] as i32, p);
                    self.set(tid, ret, path, cloexec);
                }
            }
            "dup" => {
                if let Some(n) = self.name(tid, a[0]) {
                    self.set(tid, ret, n, false);
                }
            }
            "dup2" | "dup3" => {
                let cloexec = name == "dup3" && a[2] & O_CLOEXEC != 0;
                match self.name(tid, a[0]) {
                    Some(n) => self.set(tid, a[1] as i32 as i64, n, cloexec),
                    None => {
                        self.table(tid).fds.remove(&(a[1] as i32));
                    }
                }
            }
            "fcntl" => match a[1] {
                // F_DUPFD, F_DUPFD_CLOEXEC
                0 | 1030 => {
                    if let Some(n) = self.name(tid, a[0]) {
                        self.set(tid, ret, n, a[1] == 1030);
                    }
                }
                // F_SETFD
                2 => {
                    if let Some(f) = self.table(tid).fds.get_mut(&(a[0] as i32)) {
                        f.cloexec = a[2] & 1 != 0;
                    }
                }
                _ => {}
            },
            "pipe" | "pipe2" | "socketpair" => {
                let (arg, label) = match &*name {
                    "socketpair" => (3, proto(a[0], a[1]).as_bytes().to_vec()),
                    _ => (0, b"pipe".to_vec()),
                };
                let cloexec = match &*name {
                    "pipe2" => a[1] & O_CLOEXEC != 0,
                    "socketpair" => a[1] & O_CLOEXEC != 0,
                    _ => false,
                };
                if let Some(d) = exit_arg(x, arg) {
                    for at in [0, 4] {
                        if let Some(fd) = i32_at(d, at) {
                            self.set(tid, fd.into(), label.clone(), cloexec);
                        }
                    }
                }
            }
            "socket" => {
                let cloexec = a[1] & O_CLOEXEC != 0;
                self.set(tid, ret, proto(a[0], a[1]).as_bytes().to_vec(), cloexec);
            }
            "accept" | "accept4" => {
                let base = self.name(tid, a[0]).unwrap_or_else(|| b"socket".to_vec());
                let proto_name: Vec<u8> = base.split(|&c| c == b':').next().unwrap_or(b"").to_vec();
                let mut n = proto_name;
                if let Some(peer) = exit_arg(x, 1).and_then(sockaddr) {
                    n.extend_from_slice(format!(":[->{peer}]").as_bytes());
                }
                let cloexec = name == "accept4" && a[3] & O_CLOEXEC != 0;
                self.set(tid, ret, n, cloexec);
            }
            "connect" | "bind" => {
                let fd = a[0] as i32;
                let Some(addr) = string_arg(e, 1).and_then(sockaddr) else {
                    return;
                };
                let t = self.table(tid);
                if let Some(f) = t.fds.get_mut(&fd) {
                    let p: Vec<u8> = f.name.split(|&c| c == b':').next().unwrap_or(b"").to_vec();
                    let mut n = p;
                    let tail = if name == "connect" {
                        format!(":[->{addr}]")
                    } else {
                        format!(":[{addr}]")
                    };
                    n.extend_from_slice(tail.as_bytes());
                    f.name = n.into();
                }
            }
            "eventfd" | "eventfd2" => self.set(
                tid,
                ret,
                b"anon_inode:[eventfd]".to_vec(),
                a[1] & O_CLOEXEC != 0,
            ),
            "timerfd_create" => self.set(
                tid,
                ret,
                b"anon_inode:[timerfd]".to_vec(),
                a[1] & O_CLOEXEC != 0,
            ),
            // A new one only when the fd argument is -1; flags in signalfd4's.
            "signalfd" | "signalfd4" if a[0] as i32 == -1 => {
                let cloexec = name == "signalfd4" && a[3] & O_CLOEXEC != 0;
                self.set(tid, ret, b"anon_inode:[signalfd]".to_vec(), cloexec);
            }
            "epoll_create" | "epoll_create1" => {
                let cloexec = name == "epoll_create1" && a[0] & O_CLOEXEC != 0;
                self.set(tid, ret, b"anon_inode:[eventpoll]".to_vec(), cloexec);
            }
            "inotify_init" | "inotify_init1" => {
                let cloexec = name == "inotify_init1" && a[0] & O_CLOEXEC != 0;
                self.set(tid, ret, b"anon_inode:inotify".to_vec(), cloexec);
            }
            "pidfd_open" => self.set(tid, ret, b"anon_inode:[pidfd]".to_vec(), true),
            "memfd_create" => {
                let mut n = b"/memfd:".to_vec();
                n.extend_from_slice(string_arg(e, 0).unwrap_or(b""));
                n.extend_from_slice(b" (deleted)");
                // MFD_CLOEXEC
                self.set(tid, ret, n, a[1] & 1 != 0);
            }
            "close" => {
                self.table(tid).fds.remove(&(a[0] as i32));
            }
            "close_range" => {
                let (lo, hi) = (a[0] as u32, a[1] as u32);
                let t = self.table(tid);
                let inside = |fd: &i32| (lo..=hi).contains(&(*fd as u32));
                if a[2] & 4 != 0 {
                    // CLOSE_RANGE_CLOEXEC
                    for (fd, f) in t.fds.iter_mut() {
                        if inside(fd) {
                            f.cloexec = true;
                        }
                    }
                } else {
                    t.fds.retain(|fd, _| !inside(fd));
                }
            }
            "chdir" => {
                if let Some(p) = string_arg(e, 0) {
                    let cwd = self.path_at(tid, -100, p);
                    self.table(tid).cwd = cwd.into();
                }
            }
            "fchdir" => {
                if let Some(n) = self.name(tid, a[0]) {
                    self.table(tid).cwd = n.into();
                }
            }
            _ => {}
        }
    }

    /// Whether a call of syscall `nr` of `arch` can change the state.
    pub fn affects(arch: Arch, nr: u32) -> bool {
        Self::returns_fd(arch, nr)
            || matches!(
                &*arch.syscall_name(nr),
                "dup2"
                    | "dup3"
                    | "fcntl"
                    | "pipe"
                    | "pipe2"
                    | "socketpair"
                    | "connect"
                    | "bind"
                    | "close"
                    | "close_range"
                    | "chdir"
                    | "fchdir"
            )
    }

    /// Whether syscall `nr` returns a new descriptor (strace `-y` then
    /// decorates the return value too).
    pub fn returns_fd(arch: Arch, nr: u32) -> bool {
        matches!(
            &*arch.syscall_name(nr),
            "open"
                | "openat"
                | "openat2"
                | "creat"
                | "dup"
                | "socket"
                | "accept"
                | "accept4"
                | "eventfd"
                | "eventfd2"
                | "timerfd_create"
                | "signalfd"
                | "signalfd4"
                | "epoll_create"
                | "epoll_create1"
                | "inotify_init"
                | "inotify_init1"
                | "memfd_create"
                | "pidfd_open"
        )
    }
}

/// What changes the state, owned: the first pass of a `-y` replay keeps
/// these per chunk and applies them in order.
pub enum Op {
    Call(OwnedEntry, OwnedExit),
    /// A call resumed from an earlier chunk: the `n`-th resumed item's exit.
    Resumed(usize, OwnedExit),
    NewChild {
        tid: Tid,
        child: Tid,
        kind: ChildKind,
        flags: u64,
    },
    Exec {
        tid: Tid,
        former_tid: Tid,
    },
    Death(Tid),
    OpenFd {
        tid: Tid,
        fd: i32,
        flags: u32,
        target: Vec<u8>,
    },
    Attach {
        tid: Tid,
        tgid: Tid,
        cwd: Vec<u8>,
    },
}

/// The first pass of a `-y` view: the state at the start of each chunk of
/// a range, and each chunk's resumed entries, computed in chunk order.
pub struct Pass {
    pub state: FdState,
    /// Per chunk of the range: its starting state and its resumed entries.
    pub chunks: Vec<(FdState, Vec<Option<OwnedEntry>>)>,
}

impl crate::calls::Walk for Pass {
    type Part<'a> = (Vec<Op>, usize);
    type Sealed = Vec<Op>;

    fn part<'a>(&self, _index: usize) -> Self::Part<'a> {
        (Vec::new(), 0)
    }

    fn item<'a>(&self, (ops, resumed): &mut Self::Part<'a>, item: Item<'_, 'a>) {
        match item {
            Item::Enter(_) => {}
            Item::Call(c) => {
                if let Some(x) = c
                    .exit
                    .as_ref()
                    .filter(|_| FdState::affects(c.entry.arch, c.entry.nr))
                {
                    ops.push(Op::Call(OwnedEntry::of(&c.entry), OwnedExit::of(x)));
                }
            }
            Item::Resumed(r) => {
                if let Some(x) = r.exit.as_ref().filter(|x| FdState::affects(x.arch, x.nr)) {
                    ops.push(Op::Resumed(*resumed, OwnedExit::of(x)));
                }
                *resumed += 1;
            }
            Item::Event(r) => match *r {
                Record::NewChild {
                    tid,
                    child,
                    kind,
                    flags,
                    ..
                } => ops.push(Op::NewChild {
                    tid,
                    child,
                    kind,
                    flags,
                }),
                Record::Exec {
                    tid, former_tid, ..
                } => ops.push(Op::Exec { tid, former_tid }),
                Record::Death { tid, .. } => ops.push(Op::Death(tid)),
                Record::OpenFd {
                    tid,
                    fd,
                    flags,
                    target,
                    ..
                } => ops.push(Op::OpenFd {
                    tid,
                    fd,
                    flags,
                    target: target.to_vec(),
                }),
                Record::Attach { tid, tgid, cwd, .. } => ops.push(Op::Attach {
                    tid,
                    tgid,
                    cwd: cwd.to_vec(),
                }),
                _ => {}
            },
        }
    }

    fn seal(&self, part: Self::Part<'_>) -> Vec<Op> {
        part.0
    }
}

impl crate::calls::Merge for Pass {
    type Sealed = Vec<Op>;

    fn finish(
        &mut self,
        _meta: &ChunkMeta,
        ops: Vec<Op>,
        entries: &[Option<OwnedEntry>],
    ) -> anyhow::Result<()> {
        self.chunks.push((self.state.clone(), entries.to_vec()));
        for op in ops {
            let st = &mut self.state;
            match op {
                Op::Call(e, x) => {
                    st.call(&e.entry(), &x.exit());
                }
                Op::Resumed(k, x) => {
                    if let Some(Some(e)) = entries.get(k) {
                        st.call(&e.entry(), &x.exit());
                    }
                }
                Op::NewChild {
                    tid,
                    child,
                    kind,
                    flags,
                } => st.event(&Record::NewChild {
                    tid,
                    time: 0,
                    child,
                    kind,
                    flags,
                    inferred: false,
                }),
                Op::Exec { tid, former_tid } => st.event(&Record::Exec {
                    tid,
                    time: 0,
                    former_tid,
                    filename: b"",
                    argv: Vec::new(),
                    argv_redacted: Vec::new(),
                }),
                Op::Death(tid) => st.event(&Record::Death {
                    tid,
                    time: 0,
                    how: ptrec_format::Termination::Exited(0),
                }),
                Op::OpenFd {
                    tid,
                    fd,
                    flags,
                    target,
                } => st.event(&Record::OpenFd {
                    tid,
                    time: 0,
                    fd,
                    flags,
                    pos: 0,
                    target: &target,
                }),
                Op::Attach { tid, tgid, cwd } => st.event(&Record::Attach {
                    tid,
                    time: 0,
                    tgid,
                    ppid: 0,
                    state: 0,
                    group_stopped: false,
                    comm: b"",
                    exe: b"",
                    cwd: &cwd,
                }),
            }
        }
        Ok(())
    }

    fn skipped(&mut self, _index: usize, _reason: &str) -> anyhow::Result<()> {
        self.chunks.push((self.state.clone(), Vec::new()));
        Ok(())
    }

    fn end(&mut self, _open: Vec<OwnedEntry>) -> anyhow::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ptrec_format::{Captures, Mem};

    fn entry<'a>(tid: Tid, nr: &str, args: [u64; 6], mem: &'a [Mem<'a>]) -> Entry<'a> {
        Entry {
            tid,
            time: 0,
            stime_us: None,
            arch: Arch::X86_64,
            nr: Arch::X86_64.syscall_nr(nr).unwrap_or(0),
            args,
            ip: None,
            mem: Captures::Slice(mem),
        }
    }

    fn exit<'a>(tid: Tid, ret: i64, mem: &'a [Mem<'a>]) -> Exit<'a> {
        Exit {
            tid,
            time: 0,
            stime_us: None,
            arch: Arch::X86_64,
            nr: 0,
            ret,
            mem: Captures::Slice(mem),
        }
    }

    fn path(arg: u8, p: &[u8]) -> Mem<'_> {
        Mem {
            arg,
            flags: mem_flags::STRING,
            addr: 0x1000,
            data: p,
            redacted: None,
        }
    }

    fn name(s: &FdState, tid: Tid, fd: i32) -> Option<String> {
        s.describe(tid, fd)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    #[test]
    fn paths_resolve_against_the_cwd_and_dirfds() {
        assert_eq!(resolve(b"/home/u", b"a/../b/./c"), b"/home/u/b/c");
        assert_eq!(resolve(b"/home/u", b"/etc//passwd"), b"/etc/passwd");
        assert_eq!(resolve(b"/", b".."), b"/");
        let mut s = FdState::new(b"/work");
        let m = [path(0, b"src")];
        s.call(&entry(1, "chdir", [0; 6], &m), &exit(1, 0, &[]));
        let m = [path(1, b"lib.rs")];
        s.call(
            &entry(1, "openat", [(-100i64) as u64, 0, O_CLOEXEC, 0, 0, 0], &m),
            &exit(1, 3, &[]),
        );
        assert_eq!(name(&s, 1, 3).as_deref(), Some("/work/src/lib.rs"));
        let m = [path(1, b"../Cargo.toml")];
        s.call(
            &entry(1, "openat", [3, 0, 0, 0, 0, 0], &m),
            &exit(1, 4, &[]),
        );
        assert_eq!(name(&s, 1, 4).as_deref(), Some("/work/src/Cargo.toml"));
        // A failed open names nothing.
        let m = [path(0, b"/nope")];
        s.call(&entry(1, "open", [0; 6], &m), &exit(1, -2, &[]));
        assert_eq!(name(&s, 1, 5), None);
    }

    #[test]
    fn dup_close_fork_share_and_exec_follow_the_kernel() {
        let mut s = FdState::new(b"/");
        let m = [path(0, b"/etc/passwd")];
        s.call(
            &entry(1, "open", [0, O_CLOEXEC, 0, 0, 0, 0], &m),
            &exit(1, 3, &[]),
        );
        s.call(&entry(1, "dup2", [3, 7, 0, 0, 0, 0], &[]), &exit(1, 7, &[]));
        let fds = [5i32.to_le_bytes(), 6i32.to_le_bytes()].concat();
        let out = [Mem {
            arg: 0,
            flags: mem_flags::AT_EXIT,
            addr: 0x2000,
            data: &fds,
            redacted: None,
        }];
        s.call(
            &entry(1, "pipe2", [0x2000, 0, 0, 0, 0, 0], &[]),
            &exit(1, 0, &out),
        );
        assert_eq!(name(&s, 1, 6).as_deref(), Some("pipe"));
        // A thread shares the table; a forked child has a copy.
        let clone = |child, flags, kind| Record::NewChild {
            tid: 1,
            time: 0,
            child,
            kind,
            flags,
            inferred: false,
        };
        s.event(&clone(2, 0x3d0f00, ChildKind::Clone));
        s.event(&clone(3, 0x1200011, ChildKind::Fork));
        s.call(
            &entry(2, "close", [5, 0, 0, 0, 0, 0], &[]),
            &exit(2, 0, &[]),
        );
        assert_eq!(name(&s, 1, 5), None);
        assert_eq!(name(&s, 3, 5).as_deref(), Some("pipe"));
        // exec in the child: the close-on-exec fd 3 goes, dup2's 7 stays.
        s.event(&Record::Exec {
            tid: 3,
            time: 0,
            former_tid: 3,
            filename: b"/bin/cat",
            argv: vec![],
            argv_redacted: Vec::new(),
        });
        assert_eq!(name(&s, 3, 3), None);
        assert_eq!(name(&s, 3, 7).as_deref(), Some("/etc/passwd"));
        assert_eq!(name(&s, 1, 3).as_deref(), Some("/etc/passwd"));
        s.call(
            &entry(1, "close_range", [3, u32::MAX as u64, 0, 0, 0, 0], &[]),
            &exit(1, 0, &[]),
        );
        assert_eq!(name(&s, 1, 7), None);
    }

    #[test]
    fn sockets_name_their_protocol_and_peer() {
        let mut s = FdState::new(b"/");
        s.call(
            &entry(1, "socket", [2, 1, 0, 0, 0, 0], &[]),
            &exit(1, 4, &[]),
        );
        let sa = [2u8, 0, 0x13, 0x88, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let m = [Mem {
            arg: 1,
            flags: 0,
            addr: 0x3000,
            data: &sa,
            redacted: None,
        }];
        s.call(
            &entry(1, "connect", [4, 0x3000, 16, 0, 0, 0], &m),
            &exit(1, -115, &[]),
        );
        assert_eq!(name(&s, 1, 4).as_deref(), Some("TCP:[->127.0.0.1:5000]"));
    }
}
