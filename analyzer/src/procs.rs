//! Per-process state over the call layer: each thread's descriptor table
//! and working directory, followed through fork/clone (CLONE_FILES,
//! CLONE_FS, CLONE_THREAD), exec (close-on-exec) and exit, so that a view
//! can tell what a descriptor referred to when a call used it and resolve a
//! path to an absolute one. The descriptor tables are kept by
//! [`ptrec_abi::fdtable`] (shared, copied, unshared and freed as the
//! kernel does); this says what their descriptors refer to.
//!
//! The state is sequential (a descriptor's meaning depends on everything
//! before it), the decoding is not: [`run`] extracts, per chunk and in
//! parallel, the few calls and events that matter as owned [`Op`]s, then
//! applies them in trace order. A [`Watch`] sees each op with the state
//! just before the op takes effect (a path is resolved, a descriptor looked
//! up, as the kernel did when the call was made).
//!
//! Descriptors a process had before the trace saw it come from rec's
//! open-fd records (the started command's stdin/stdout/stderr, an attached
//! process's files), one object per /proc name. Without those (older
//! traces) they are [`Object::Inherited`]: one object per (origin, fd),
//! shared by every process that inherited that table, so a child writing to
//! its fd 2 and its parent writing to its fd 2 are seen writing to the same
//! place.
//!
//! What `-y` shows of a descriptor is what /proc named it when a call made
//! it, where the trace holds that ([`Op::names`]): the kernel's path, its
//! symbolic links resolved, and a pipe's or socket's inode. A rename moves
//! it, as it moves /proc's: the renamed file's, those of the files below a
//! renamed directory, and the working directories there.

use std::borrow::Cow;

use ptrec_abi::capture::{ARG_FD_DETAIL, ARG_FD_NAME};
use ptrec_abi::decode::Role;
use ptrec_abi::fds::{self, FdOp, What, O_ACCMODE, O_CLOEXEC, O_CREAT};
use ptrec_abi::fdtable::{Lookup, Slots, Table, Tables, Thread};
use ptrec_abi::Sysno;
use ptrec_format::{mem_flags, Captures, Record, Termination, Tid, Trace};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::calls::{self, Call, ChunkMeta, Entry, Exit, Item, Mode, OwnedEntry};
use crate::stats::is_error;

/// `AT_FDCWD`: a path relative to the working directory.
pub use ptrec_abi::fds::AT_FDCWD;
const AT_EMPTY_PATH: u64 = 0x1000;
const AT_REMOVEDIR: u64 = 0x200;
const RENAME_EXCHANGE: u64 = 2;
const CLONE_FS: u64 = 0x200;
use crate::tree::CLONE_THREAD;

/// How a file was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    ReadWrite,
}

impl Access {
    /// The access mode of open(2) flags.
    pub fn of(flags: u64) -> Access {
        match flags & O_ACCMODE {
            0 => Access::Read,
            1 => Access::Write,
            _ => Access::ReadWrite,
        }
    }
}

/// Whether open(2) flags ask for the file to be created.
pub fn creates(flags: u64) -> bool {
    flags & O_CREAT != 0
}

/// What a path operation did to its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathKind {
    /// stat, lstat, newfstatat, statx, statfs, fstat (through its fd).
    Stat,
    /// access, faccessat, faccessat2.
    Access,
    /// readlink, readlinkat.
    Readlink,
    /// execve, execveat (the attempt; `ret` 0 when it succeeded).
    Exec,
    /// unlink, unlinkat.
    Unlink,
    /// rmdir, unlinkat with AT_REMOVEDIR.
    Rmdir,
    /// mkdir, mkdirat, mknod, mknodat.
    Create,
    /// chdir, fchdir.
    Chdir,
    /// The old name of rename, renameat, renameat2.
    RenameFrom,
    /// The new name of a rename.
    RenameTo,
    /// The second name of renameat2 with RENAME_EXCHANGE: the two names
    /// swap (the first is [`PathKind::RenameFrom`]'s), neither file goes.
    RenameExchange,
    /// The new name of link, linkat, symlink, symlinkat.
    Link,
    /// chmod, chown, truncate, utimensat, setxattr and the like.
    Attr,
}

/// A call or event that the per-process state or a view cares about, owned.
#[derive(Clone, Debug)]
pub enum OpKind {
    /// open, openat, openat2, creat: `ret` is the new fd or -errno.
    Open {
        dirfd: i32,
        path: Vec<u8>,
        flags: u64,
    },
    /// A path operation; `dirfd` is AT_FDCWD for the non-`at` forms, and
    /// `fd` is set where the path is the descriptor's (fstat, fchdir,
    /// AT_EMPTY_PATH).
    Path {
        kind: PathKind,
        dirfd: i32,
        path: Vec<u8>,
        fd: Option<i32>,
    },
    Close {
        fd: i32,
    },
    /// `unshare`: CLOSE_RANGE_UNSHARE (a table of the caller's own first).
    CloseRange {
        first: u32,
        last: u32,
        cloexec: bool,
        unshare: bool,
    },
    /// dup, dup2, dup3, fcntl(F_DUPFD[_CLOEXEC]): `ret` is the new fd.
    Dup {
        old: i32,
        cloexec: bool,
    },
    SetCloexec {
        fd: i32,
        on: bool,
    },
    /// pipe, pipe2, socketpair: both descriptors refer to one object.
    Pair {
        fds: [i32; 2],
        what: &'static str,
        cloexec: bool,
    },
    /// Any other call that makes a descriptor (socket, eventfd, ...):
    /// `what` is what made it (a socket's protocol: `TCP`, `UNIX`, ...).
    NewFd {
        what: &'static str,
        cloexec: bool,
    },
    /// accept, accept4: a socket of the listener's protocol, connected to
    /// `peer` (`ip:port`, a path) when the call returned the address.
    Accept {
        listener: i32,
        peer: Option<String>,
        cloexec: bool,
    },
    /// connect (also when it returned EINPROGRESS), bind: the address the
    /// socket is connected to or bound at.
    SockAddr {
        fd: i32,
        addr: String,
        connect: bool,
    },
    /// memfd_create: `name` is what /proc shows (`/memfd:NAME (deleted)`).
    Memfd {
        name: Vec<u8>,
        cloexec: bool,
    },
    /// write, pwrite64, writev, pwritev*, sendto, sendmsg: `ret` bytes were
    /// written, of which `data` (in order) were captured; `cut` when
    /// the capture holds fewer bytes than were written (rec's `-s`).
    Write {
        fd: i32,
        data: Vec<u8>,
        cut: bool,
    },
    /// read, pread64, readv, preadv*, recvfrom, recvmsg: `ret` bytes read.
    Read {
        fd: i32,
    },
    /// sendfile, splice, copy_file_range: `ret` bytes from `from` to `to`.
    Transfer {
        from: i32,
        to: i32,
    },
    /// A successful exec (the Exec event): `tid` is the thread after it.
    Exec {
        former_tid: Tid,
        filename: Vec<u8>,
        argv: Vec<Vec<u8>>,
    },
    /// fork, vfork, clone: `tid` created `child`.
    NewChild {
        child: Tid,
        flags: u64,
    },
    /// The thread was reaped.
    Death {
        how: Termination,
    },
    /// The recorder attached to `tid` (or started the command).
    Attach {
        tgid: Tid,
        cwd: Vec<u8>,
    },
    /// A descriptor an attached process had (/proc/PID/fd): `target` is
    /// its readlink (a path, `pipe:[N]`, `socket:[N]`, ...).
    OpenFd {
        fd: i32,
        target: Vec<u8>,
        cloexec: bool,
    },
}

/// An [`OpKind`] with its thread, time and the call's result (0 for
/// events; `None` when the call did not return).
#[derive(Clone, Debug)]
pub struct Op {
    pub tid: Tid,
    /// The call's entry time (the event's time).
    pub time: u64,
    /// The call's exit time (the entry's when it did not return).
    pub end: u64,
    pub ret: Option<i64>,
    pub nr: u32,
    pub kind: OpKind,
    /// What `/proc/TID/fd/FD` named each descriptor the call made, as rec
    /// read it at the exit (capture [`ARG_FD_NAME`]): a path with its
    /// symbolic links resolved, `pipe:[N]`, `socket:[N]`; after chdir and
    /// fchdir, for `AT_FDCWD`, the new working directory. Empty when the
    /// trace does not hold it (older traces, calls that make none).
    pub names: Vec<(i32, Vec<u8>)>,
    /// What `rec -yy` read of the descriptors the call made or
    /// re-addressed (capture [`ARG_FD_DETAIL`]: a device's numbers, a
    /// socket's `-yy` name). Empty when the trace does not hold it.
    pub details: Vec<(i32, Vec<u8>)>,
    /// Whether a descriptor op (open, dup, close, pipe, ...) changed the
    /// table as its kind says, by its result ([`FdOp::took_effect`]: it
    /// succeeded, but close releases the descriptor unless EBADF, and
    /// dup2(fd, fd) changes nothing). `false` for every other op.
    pub fd_effect: bool,
}

impl Op {
    /// The errno when the call failed.
    pub fn errno(&self) -> Option<i32> {
        self.ret.filter(|r| is_error(*r)).map(|r| -r as i32)
    }

    /// Whether the call returned successfully.
    pub fn ok(&self) -> bool {
        matches!(self.ret, Some(r) if !is_error(r))
    }
}

/// What descriptors refer to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    /// A file opened by path (absolute, as resolved when opened; a rename
    /// of the file or of a directory above it moves it to its new path).
    File(Vec<u8>),
    /// fd `fd` of a table the trace did not see being made (the started
    /// command's stdio, an attached process's files); `origin` numbers
    /// those tables.
    Inherited { origin: u32, fd: i32 },
    /// A pipe, socketpair, socket, eventfd...: what made it.
    Anon(&'static str),
    /// What /proc named a descriptor of an attached process (`pipe:[N]`,
    /// `socket:[N]`, `/dev/pts/0`): one object per name.
    Named(Vec<u8>),
}

/// An index into [`Procs::objects`].
pub type ObjId = u32;

/// A thread's own state, beside its descriptor table.
#[derive(Clone, Copy, Debug)]
struct Task {
    pid: Tid,
    fs: usize,
}

/// A rename's old name, resolved, and the file it named (its object,
/// taken out of [`Procs::files`]), which the rename's second op moves to
/// the new name: a descriptor follows it.
#[derive(Clone, Debug)]
struct Renaming {
    from: Vec<u8>,
    obj: Option<ObjId>,
}

/// Every live thread's descriptor table and working directory.
#[derive(Clone, Debug, Default)]
pub struct Procs {
    /// Each thread's table (each table's origin: its
    /// [`Object::Inherited`]s), pid and working directory.
    tasks: Tables<ObjId, Task>,
    /// Working directories (absolute) by fs index.
    cwds: Cwds,
    objects: Objects,
    inherited: FxHashMap<(u32, i32), ObjId>,
    named: FxHashMap<Vec<u8>, ObjId>,
    /// The working directory of a thread the trace shows no start for.
    default_cwd: Vec<u8>,
    /// [`Object::File`]s by path: one object per path, so the state grows
    /// with the files a trace names, not with its opens.
    files: FxHashMap<Vec<u8>, ObjId>,
    /// The last op resolved by [`Procs::op_path_ref`] (its path's address
    /// and length, thread, time and dirfd) and its absolute path: a view
    /// and [`Procs::apply`] resolve the same op one after the other.
    memo_key: Option<(usize, usize, Tid, u64, i32)>,
    memo: Vec<u8>,
    /// A socket's address as `-yy` shows it after its protocol
    /// (`:[->127.0.0.1:80]`, `:[0.0.0.0:5000]`), by object.
    sock_addrs: FxHashMap<ObjId, String>,
    /// What /proc named an object when a call made a descriptor of it
    /// ([`Op::names`]): strace's `-y` name, which the calls alone do not
    /// tell (a path through a symbolic link, a pipe's inode).
    proc_names: FxHashMap<ObjId, Vec<u8>>,
    /// Files unlinked or renamed over while they had a name in `files`:
    /// a descriptor that still holds one shows it `(deleted)`, and the
    /// name, opened again, is a new object.
    deleted: FxHashSet<ObjId>,
    /// A rename between its two ops ([`ops_of`]): the first's.
    renaming: Option<Renaming>,
    /// File objects an open showed to be no directory (it wrote or
    /// created: the kernel refuses both on a directory): a rename of one
    /// has nothing below it to move ([`Procs::rename_below`]), and the
    /// renames of lock and temporary files skip the look at every
    /// descriptor. (A directory made at such a path by a process the trace
    /// does not show would not move what is below it.)
    plain: FxHashSet<ObjId>,
    /// The objects of the descriptors listed at a launch or an attach
    /// ([`OpKind::OpenFd`]): kept when no descriptor holds them any more,
    /// as a view may still compare with them (`output`'s root streams).
    seeded: FxHashSet<ObjId>,
    /// What `rec -yy` last read of an object ([`Op::details`]).
    details: FxHashMap<ObjId, Vec<u8>>,
    /// UNIX sockets by inode, from their details: a client's peer, which
    /// gets its inode only when the server accepts, is named by the
    /// accepted socket's detail.
    unix_inodes: FxHashMap<u64, ObjId>,
}

impl Procs {
    /// `cwd`: the recorded command's working directory (the header's),
    /// given to threads that appear without an attach or creation record.
    pub fn new(cwd: &[u8]) -> Procs {
        Procs {
            default_cwd: normal(b"", cwd),
            ..Procs::default()
        }
    }

    pub fn object(&self, id: ObjId) -> &Object {
        &self.objects.all[id]
    }

    /// The thread group `tid` belongs to (itself when unknown).
    pub fn pid(&self, tid: Tid) -> Tid {
        self.tasks.thread(tid).map_or(tid, |t| t.data.pid)
    }

    /// `tid`'s working directory.
    pub fn cwd(&self, tid: Tid) -> &[u8] {
        match self.tasks.thread(tid) {
            Some(t) => self.cwds.get(t.data.fs),
            None => &self.default_cwd,
        }
    }

    /// What `fd` of `tid` refers to (`None`: not open, as far as the trace
    /// shows). An inherited fd is made an object on first use.
    pub fn fd(&mut self, tid: Tid, fd: i32) -> Option<ObjId> {
        if fd < 0 {
            return None;
        }
        let files = self.task(tid).table;
        match self.tasks.table(files).get(fd) {
            Lookup::Known(s) => Some(s.value),
            Lookup::Inherited { origin } => Some(inherited_obj(
                &mut self.objects,
                &mut self.inherited,
                origin,
                fd,
            )),
            Lookup::Absent => None,
        }
    }

    fn add(&mut self, o: Object) -> ObjId {
        self.objects.add(o)
    }

    /// Frees the objects no descriptor holds any more (closed pipes,
    /// sockets, files), once they are twice as many as at the last time:
    /// the state then grows with the descriptors open at once, not with
    /// every one a long trace made. An inherited or listed descriptor's
    /// object is kept (they are as many as the trace's origins hold); a
    /// file's goes with its last descriptor, and its path, opened again,
    /// gets a new one.
    fn collect(&mut self) {
        if self.objects.live() < self.objects.collect_at {
            return;
        }
        let mut held = vec![false; self.objects.all.len()];
        let kept = self.tasks.values().copied();
        let kept = kept.chain(self.inherited.values().copied());
        let kept = kept.chain(self.named.values().copied());
        let kept = kept.chain(self.seeded.iter().copied());
        let kept = kept.chain(self.renaming.as_ref().and_then(|r| r.obj));
        // The free ones: not freed twice.
        let kept = kept.chain(self.objects.all.free_ids().iter().copied());
        for o in kept {
            held[o as usize] = true;
        }
        let held = |o: &ObjId| held[*o as usize];
        self.files.retain(|_, o| held(o));
        self.sock_addrs.retain(|o, _| held(o));
        self.proc_names.retain(|o, _| held(o));
        self.details.retain(|o, _| held(o));
        self.deleted.retain(held);
        self.plain.retain(held);
        self.unix_inodes.retain(|_, o| held(o));
        for o in 0..self.objects.all.len() as ObjId {
            if !held(&o) {
                self.objects.free(o);
            }
        }
        self.objects.collect_at = (2 * self.objects.live()).max(Objects::FIRST_COLLECT);
    }

    /// The thread's state, made (a new root with its own origin) when the
    /// trace has not shown where it came from.
    fn task(&mut self, tid: Tid) -> Thread<Task> {
        if let Some(t) = self.tasks.thread(tid) {
            return *t;
        }
        let cwd = self.default_cwd.clone();
        self.root(tid, tid, cwd)
    }

    fn root(&mut self, tid: Tid, pid: Tid, cwd: Vec<u8>) -> Thread<Task> {
        let fs = self.cwds.add(cwd);
        self.drop_task(tid);
        *self.tasks.root(tid, Task { pid, fs }, true)
    }

    /// `tid`'s thread is about to be dropped or replaced: its hold on its
    /// working directory is released (the tables drop its [`Task`]
    /// without a word).
    fn drop_task(&mut self, tid: Tid) {
        if let Some(t) = self.tasks.thread(tid) {
            self.cwds.release(t.data.fs);
        }
    }

    /// `path` as the kernel would have resolved it for `tid` relative to
    /// `dirfd`, made absolute (see [`normal`]: symbolic links in `path`
    /// are not followed, the trace does not know them). A
    /// path relative to a descriptor the trace cannot name keeps a
    /// `<fd N>/` prefix.
    pub fn resolve(&mut self, tid: Tid, dirfd: i32, path: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        self.resolve_into(tid, dirfd, path, &mut v);
        v
    }

    /// [`Procs::resolve`] into `out` (cleared first).
    fn resolve_into(&mut self, tid: Tid, dirfd: i32, path: &[u8], out: &mut Vec<u8>) {
        out.clear();
        if path.first() == Some(&b'/') {
            return normal_into(b"", path, out);
        }
        if dirfd == AT_FDCWD {
            return normal_into(self.cwd(tid), path, out);
        }
        match self.fd(tid, dirfd).map(|o| self.object(o)) {
            Some(Object::File(dir)) => normal_into(dir, path, out),
            _ => {
                use std::io::Write as _;
                let _ = write!(out, "<fd {dirfd}>");
                if !path.is_empty() {
                    out.push(b'/');
                    out.extend_from_slice(path);
                }
            }
        }
    }

    /// The path an op names, absolute (see [`Procs::resolve`]); for an
    /// op on a descriptor, the path the descriptor was opened by.
    pub fn op_path(&mut self, op: &Op) -> Option<Vec<u8>> {
        self.op_path_ref(op).map(<[u8]>::to_vec)
    }

    /// [`Procs::op_path`] without a copy. Resolving the same op again
    /// before it is applied (as a view and then [`Procs::apply`] do) costs a
    /// comparison.
    pub fn op_path_ref(&mut self, op: &Op) -> Option<&[u8]> {
        let (dirfd, path) = match &op.kind {
            OpKind::Open { dirfd, path, .. } => (*dirfd, path),
            OpKind::Path { fd: Some(fd), .. } => return self.fd_path_ref(op.tid, *fd),
            OpKind::Path { dirfd, path, .. } => (*dirfd, path),
            _ => return None,
        };
        // The path's buffer identifies the op while the op is alive (the
        // two ops of a rename have a buffer each; an empty one's address is
        // shared, hence the rest of the key).
        let key = (path.as_ptr() as usize, path.len(), op.tid, op.time, dirfd);
        if self.memo_key != Some(key) {
            let mut buf = std::mem::take(&mut self.memo);
            self.resolve_into(op.tid, dirfd, path, &mut buf);
            self.memo = buf;
            self.memo_key = Some(key);
        }
        Some(&self.memo)
    }

    /// The path `fd` was opened by, if it is a file (its new path after a
    /// rename of it or of a directory above it).
    pub fn fd_path(&mut self, tid: Tid, fd: i32) -> Option<Vec<u8>> {
        self.fd_path_ref(tid, fd).map(<[u8]>::to_vec)
    }

    /// [`Procs::fd_path`] without a copy.
    pub fn fd_path_ref(&mut self, tid: Tid, fd: i32) -> Option<&[u8]> {
        match self.fd(tid, fd).map(|o| self.object(o)) {
            Some(Object::File(p)) => Some(p),
            _ => None,
        }
    }

    /// What `fd` of `tid` refers to as strace's `-y` names it
    /// (`/etc/passwd`, `pipe`, `TCP:[->10.0.0.1:80]`,
    /// `anon_inode:[eventfd]`), without changing the state; `AT_FDCWD`
    /// names the working directory. `None` for a descriptor the trace
    /// does not show being made (inherited from before the recording).
    ///
    /// `full` is `-yy`: a socket is then named by its protocol and
    /// addresses, as far as the calls tell them; otherwise, and for every
    /// other object, by what /proc named it when it was made, if the trace
    /// holds that ([`Op::names`]).
    pub fn fd_name(&self, tid: Tid, fd: i32, full: bool) -> Option<Cow<'_, [u8]>> {
        if fd == AT_FDCWD {
            return Some(Cow::Borrowed(self.cwd(tid)));
        }
        let obj = *self.tasks.of(tid)?.open(fd)?;
        self.object_name(obj, full)
    }

    /// Records `rec -yy`'s detail `d` of object `o`. A UNIX socket's that
    /// names its peer completes the peer's, if it had none: a client
    /// connected before the server accepted (its peer had no inode yet)
    /// is connected to the accepted socket, as strace would show it then.
    fn set_detail(&mut self, o: ObjId, d: Vec<u8>) {
        if let Some(u) = UnixDetail::parse(&d) {
            self.unix_inodes.insert(u.ino, o);
            let lone_peer = u
                .peer
                .and_then(|p| self.unix_inodes.get(&p))
                .copied()
                .filter(|&p| p != o);
            if let Some(p) = lone_peer {
                if let Some(pd) = self.details.get_mut(&p) {
                    if let Some(pu) = UnixDetail::parse(pd).filter(|pu| pu.peer.is_none()) {
                        let mut named = pd[..pu.ino_end].to_vec();
                        named.extend_from_slice(format!("->{}", u.ino).as_bytes());
                        named.extend_from_slice(&pd[pu.ino_end..]);
                        *pd = named;
                    }
                }
            }
        }
        self.details.insert(o, d);
    }

    /// Whether the file `fd` refers to was unlinked or renamed over since
    /// it was opened (strace's `(deleted)`).
    pub fn fd_deleted(&self, tid: Tid, fd: i32) -> bool {
        let obj = self.tasks.of(tid).and_then(|t| t.open(fd));
        obj.is_some_and(|o| self.deleted.contains(o))
    }

    /// Under `-yy`, what follows `fd`'s name in a second `<...>` (a
    /// device's `char 1:3`), if `rec -yy` read it.
    pub fn fd_detail(&self, tid: Tid, fd: i32) -> Option<&[u8]> {
        let obj = *self.tasks.of(tid)?.open(fd)?;
        self.details
            .get(&obj)
            .map(Vec::as_slice)
            .filter(|d| detail_follows_name(d))
    }

    fn object_name(&self, obj: ObjId, full: bool) -> Option<Cow<'_, [u8]>> {
        if let Some(d) = self
            .details
            .get(&obj)
            .filter(|d| full && !detail_follows_name(d))
        {
            return Some(Cow::Borrowed(d));
        }
        if let Some(n) = self.proc_names.get(&obj).filter(|n| shown(n, full)) {
            return Some(Cow::Borrowed(n));
        }
        Some(match self.object(obj) {
            Object::File(p) | Object::Named(p) => Cow::Borrowed(p),
            Object::Inherited { .. } => return None,
            Object::Anon(what) => {
                let label = anon_label(what).as_bytes();
                match self.sock_addrs.get(&obj) {
                    Some(a) => Cow::Owned([label, a.as_bytes()].concat()),
                    None => Cow::Borrowed(label),
                }
            }
        })
    }

    /// The `-y` name of the descriptor op `op` returns, as it will be once
    /// the op is applied (a view shows the call's arguments with the state
    /// before it and its result with the state after).
    pub fn made_name(&mut self, op: &Op, full: bool) -> Option<Vec<u8>> {
        op.ok().then_some(())?;
        if let Some(d) = op
            .ret
            .filter(|_| full)
            .and_then(|r| made_fd_name(&op.details, r as i32, true))
            .filter(|d| !detail_follows_name(d))
        {
            return Some(d.to_vec());
        }
        if let Some(n) = op.ret.and_then(|r| made_fd_name(&op.names, r as i32, full)) {
            return Some(n.to_vec());
        }
        match &op.kind {
            OpKind::Open { .. } => self.op_path(op),
            OpKind::Dup { old, .. } => self.fd_name(op.tid, *old, full).map(Cow::into_owned),
            OpKind::NewFd { what, .. } => Some(anon_label(what).as_bytes().to_vec()),
            OpKind::Accept { listener, peer, .. } => {
                let mut n = self.listener_proto(op.tid, *listener).as_bytes().to_vec();
                if let Some(p) = peer {
                    n.extend_from_slice(format!(":[->{p}]").as_bytes());
                }
                Some(n)
            }
            OpKind::Memfd { name, .. } => Some(name.clone()),
            _ => None,
        }
    }

    /// Under `-yy`, what follows the name of the descriptor op `op`
    /// returns ([`Procs::made_name`]) in a second `<...>`: a device's
    /// numbers, as `rec -yy` read them at the call or, for a dup, of the
    /// descriptor copied.
    pub fn made_detail(&self, op: &Op) -> Option<Vec<u8>> {
        op.ok().then_some(())?;
        let ret = op.ret? as i32;
        if let Some(d) = made_fd_name(&op.details, ret, true).filter(|d| detail_follows_name(d)) {
            return Some(d.to_vec());
        }
        match &op.kind {
            OpKind::Dup { old, .. } => self.fd_detail(op.tid, *old).map(<[u8]>::to_vec),
            _ => None,
        }
    }

    /// The protocol of the socket `fd` (`socket` when unknown).
    fn listener_proto(&self, tid: Tid, fd: i32) -> &'static str {
        let obj = self
            .tasks
            .of(tid)
            .and_then(|t| t.open(fd))
            .map(|&o| self.object(o));
        match obj {
            Some(Object::Anon(what)) => what,
            _ => "socket",
        }
    }

    /// The object of the file at absolute, normal `path`.
    fn file_obj(&mut self, path: &[u8]) -> ObjId {
        if let Some(&o) = self.files.get(path) {
            return o;
        }
        let o = self.add(Object::File(path.to_vec()));
        self.files.insert(path.to_vec(), o);
        o
    }

    /// File object `o`, named `from`, is named `to` (its object not in
    /// [`Procs::files`]: taken out by the rename's first op). Its /proc
    /// name moves with it; one that is not `from` (a link was renamed, or
    /// the kernel's path to the file differs from the call's above it) is
    /// replaced by the new path, the kernel's new one being unknown.
    fn rename_file(&mut self, o: ObjId, from: &[u8], to: Vec<u8>) {
        if let Some(n) = self.proc_names.get_mut(&o) {
            if !rename_in(n, from, &to) {
                n.clone_from(&to);
            }
        }
        self.objects.all[o] = Object::File(to.clone());
        self.files.insert(to, o);
    }

    /// A rename of `from` to `to` (`swap`: and of `to` to `from`, which
    /// renameat2's RENAME_EXCHANGE does) moves what is below the names
    /// when they are directories: the files descriptors hold there
    /// (unlinked ones too, which /proc names by their directory's path)
    /// and the working directories there, as the kernel names them after
    /// it (it names a file by its dentries). A renamed file has nothing
    /// below it: the rename of one an open showed to be no directory
    /// ([`Procs::plain`]) does not come here, and another costs a look at
    /// each descriptor's path and each working directory, not a search of
    /// every path the state knows. A file no descriptor holds keeps its old path in
    /// [`Procs::files`]: only a new file at that path would be opened by
    /// it again, and it is as good an object for that as a new one. A file
    /// opened through a link into the directory (its /proc name below it,
    /// its path not) keeps its /proc name: finding those would cost every
    /// rename a lookup of each descriptor's.
    ///
    /// A target directory the rename replaced was empty, and a swap
    /// matches every path against both names before it moves any.
    fn rename_below(&mut self, from: &[u8], to: &[u8], swap: bool) {
        // A name relative to a descriptor the trace cannot name
        // (`<fd N>/...`) is not known to be the directory other paths
        // name.
        if from == to || !from.starts_with(b"/") || !to.starts_with(b"/") {
            return;
        }
        let objects = &self.objects.all;
        let mut moved: Vec<ObjId> = self
            .tasks
            .values()
            .copied()
            .filter(|&o| match &objects[o] {
                Object::File(p) => below(p, from) || swap && below(p, to),
                _ => false,
            })
            .collect();
        if !moved.is_empty() {
            moved.sort_unstable();
            moved.dedup();
            self.move_files(&moved, from, to);
        }
        let rename = |p: &mut Vec<u8>| rename_in(p, from, to) || swap && rename_in(p, to, from);
        for fs in 0..self.cwds.refs.len() {
            if self.cwds.refs[fs] > 0 {
                rename(&mut self.cwds.dirs[fs as u32]);
            }
        }
        rename(&mut self.default_cwd);
    }

    /// [`Procs::rename_below`]'s move of file objects `moved` (each once),
    /// whose paths are below `from` (or, `swap`, `to`).
    fn move_files(&mut self, moved: &[ObjId], from: &[u8], to: &[u8]) {
        // Out of `files` first, then in at the new paths: a swap's new
        // path may be another moved file's old one.
        let mut named = Vec::new();
        for &o in moved {
            if let Object::File(p) = &self.objects.all[o] {
                if self.files.get(p) == Some(&o) {
                    self.files.remove(p);
                    named.push(o);
                }
            }
        }
        for &o in moved {
            let Object::File(p) = &mut self.objects.all[o] else {
                continue;
            };
            let (from, to) = if below(p, from) {
                (from, to)
            } else {
                (to, from)
            };
            rename_in(p, from, to);
            // As [`Procs::rename_file`] names the renamed file.
            if let Some(n) = self.proc_names.get_mut(&o) {
                if !rename_in(n, from, to) {
                    n.clone_from(p);
                }
            }
        }
        for o in named {
            if let Object::File(p) = &self.objects.all[o] {
                // A file the trace showed at the new path was in the
                // directory the rename replaced: gone.
                if let Some(y) = self.files.insert(p.clone(), o) {
                    self.deleted.insert(y);
                }
            }
        }
    }

    /// `tid`'s table.
    fn table_of(&mut self, tid: Tid) -> &mut Table<ObjId> {
        let files = self.task(tid).table;
        self.tasks.table_mut(files)
    }

    fn set(&mut self, tid: Tid, fd: i32, obj: ObjId, cloexec: bool) {
        self.table_of(tid).insert(fd, obj, cloexec);
    }

    /// Applies `op`: the state after it.
    pub fn apply(&mut self, op: &Op) {
        self.apply_op(op);
        if op.ok() {
            for (fd, name) in &op.names {
                if *fd == AT_FDCWD {
                    // chdir's: the directory the kernel went to, which a
                    // path through a symbolic link or `..` does not tell.
                    let fs = self.task(op.tid).data.fs;
                    self.cwds.set(fs, name);
                } else if let Some(o) = self.fd(op.tid, *fd) {
                    self.proc_names.insert(o, name.clone());
                }
            }
        }
        // connect's and bind's too, failed but in progress included.
        for (fd, d) in &op.details {
            if let Some(o) = self.fd(op.tid, *fd) {
                self.set_detail(o, d.clone());
            }
        }
        // The memo holds for one op: the view's look and this apply.
        self.memo_key = None;
        self.collect();
    }

    fn apply_op(&mut self, op: &Op) {
        let tid = op.tid;
        let ret = op.ret.filter(|r| !is_error(*r));
        match &op.kind {
            OpKind::Open { flags, .. } => {
                if let Some(fd) = ret.filter(|_| op.fd_effect) {
                    let p = match self.op_path_ref(op) {
                        Some(_) => std::mem::take(&mut self.memo),
                        None => Vec::new(),
                    };
                    let o = self.file_obj(&p);
                    self.memo = p;
                    if no_directory(*flags) {
                        self.plain.insert(o);
                    }
                    self.set(tid, fd as i32, o, flags & O_CLOEXEC != 0);
                }
            }
            OpKind::Path {
                kind: PathKind::Chdir,
                ..
            } => {
                if ret.is_some() {
                    if let Some(p) = self.op_path(op) {
                        let fs = self.task(tid).data.fs;
                        self.cwds.set(fs, &p);
                        self.memo_key = None;
                    }
                }
            }
            OpKind::Path {
                kind: PathKind::RenameFrom,
                ..
            } => {
                self.renaming = None;
                if ret.is_some() {
                    if let Some(from) = self.op_path(op) {
                        let obj = self.files.remove(&from);
                        self.renaming = Some(Renaming { from, obj });
                    }
                }
            }
            OpKind::Path {
                kind: kind @ (PathKind::Unlink | PathKind::RenameTo | PathKind::RenameExchange),
                ..
            } => {
                let renaming = self.renaming.take().filter(|_| *kind != PathKind::Unlink);
                let Some(p) = ret.and_then(|_| self.op_path(op)) else {
                    return;
                };
                // The name goes, names the renamed file, or (a swap) the
                // file the other name named; the file it named lives on
                // while a descriptor holds it.
                let swap = *kind == PathKind::RenameExchange;
                let replaced = self.files.remove(&p);
                if let Some(o) = replaced.filter(|_| !swap) {
                    self.deleted.insert(o);
                }
                let Some(r) = renaming else { return };
                let plain = |o: Option<ObjId>| o.is_some_and(|o| self.plain.contains(&o));
                if !plain(r.obj) || swap && !plain(replaced) {
                    self.rename_below(&r.from, &p, swap);
                }
                // Their descriptors show the new names, as /proc does.
                if let Some(o) = replaced.filter(|_| swap) {
                    self.rename_file(o, &p, r.from.clone());
                }
                if let Some(o) = r.obj {
                    self.rename_file(o, &r.from, p);
                }
            }
            OpKind::Path { .. } => {}
            OpKind::Close { fd } => {
                if op.fd_effect {
                    self.table_of(tid).close(*fd);
                }
            }
            OpKind::CloseRange {
                first,
                last,
                cloexec,
                unshare,
            } => {
                if !op.fd_effect {
                    return;
                }
                let mut files = self.task(tid).table;
                if *unshare {
                    files = self.tasks.unshare(tid).unwrap_or(files);
                }
                self.tasks
                    .table_mut(files)
                    .close_range(*first, *last, *cloexec);
            }
            OpKind::Dup { old, cloexec } => {
                let Some(new) = ret.filter(|_| op.fd_effect) else {
                    return;
                };
                let files = self.task(tid).table;
                let (objects, inherited) = (&mut self.objects, &mut self.inherited);
                self.tasks
                    .table_mut(files)
                    .dup(*old, new as i32, *cloexec, |origin, fd| {
                        inherited_obj(objects, inherited, origin, fd)
                    });
            }
            OpKind::SetCloexec { fd, on } => {
                if op.fd_effect {
                    let files = self.task(tid).table;
                    let (objects, inherited) = (&mut self.objects, &mut self.inherited);
                    self.tasks
                        .table_mut(files)
                        .set_cloexec(*fd, *on, |origin, fd| {
                            inherited_obj(objects, inherited, origin, fd)
                        });
                }
            }
            OpKind::Pair { fds, what, cloexec } => {
                if op.fd_effect {
                    let o = self.add(Object::Anon(what));
                    self.set(tid, fds[0], o, *cloexec);
                    self.set(tid, fds[1], o, *cloexec);
                }
            }
            OpKind::NewFd { what, cloexec } => {
                if let Some(fd) = ret.filter(|_| op.fd_effect) {
                    let o = self.add(Object::Anon(what));
                    self.set(tid, fd as i32, o, *cloexec);
                }
            }
            OpKind::Accept {
                listener,
                peer,
                cloexec,
            } => {
                if let Some(fd) = ret.filter(|_| op.fd_effect) {
                    let o = self.add(Object::Anon(self.listener_proto(tid, *listener)));
                    if let Some(p) = peer {
                        self.sock_addrs.insert(o, format!(":[->{p}]"));
                    }
                    self.set(tid, fd as i32, o, *cloexec);
                }
            }
            OpKind::SockAddr { fd, addr, connect } => {
                // A non-blocking connect (EINPROGRESS) still names the peer.
                if ret.is_none() && !(*connect && op.errno() == Some(115)) {
                    return;
                }
                if let Some(o) = self.fd(tid, *fd) {
                    if matches!(self.object(o), Object::Anon(_)) {
                        let tail = if *connect {
                            format!(":[->{addr}]")
                        } else {
                            format!(":[{addr}]")
                        };
                        self.sock_addrs.insert(o, tail);
                    }
                }
            }
            OpKind::Memfd { name, cloexec } => {
                if let Some(fd) = ret.filter(|_| op.fd_effect) {
                    let o = self.add(Object::Named(name.clone()));
                    self.set(tid, fd as i32, o, *cloexec);
                }
            }
            OpKind::Write { .. } | OpKind::Read { .. } | OpKind::Transfer { .. } => {}
            OpKind::OpenFd {
                fd,
                target,
                cloexec,
            } => {
                let o = if target.first() == Some(&b'/') {
                    self.file_obj(&normal(b"", target))
                } else {
                    match self.named.get(target) {
                        Some(&o) => o,
                        None => {
                            let o = self.add(Object::Named(target.clone()));
                            self.named.insert(target.clone(), o);
                            o
                        }
                    }
                };
                self.seeded.insert(o);
                self.set(tid, *fd, o, *cloexec);
            }
            OpKind::Exec { former_tid, .. } => {
                // The exec'ing thread keeps its pid and working directory
                // (a former tid the trace never showed: the leader's).
                let former = if self.tasks.thread(*former_tid).is_some() {
                    *former_tid
                } else {
                    self.task(tid);
                    tid
                };
                if former != tid {
                    // The leader, gone: its tid is the exec'ing thread's.
                    self.drop_task(tid);
                }
                self.tasks.exec(tid, former);
            }
            OpKind::NewChild { child, flags } => {
                let p = self.task(tid).data;
                let thread = flags & CLONE_THREAD != 0;
                let fs = if thread || flags & CLONE_FS != 0 {
                    self.cwds.hold(p.fs);
                    p.fs
                } else {
                    self.cwds.copy(p.fs)
                };
                let pid = if thread { p.pid } else { *child };
                let share = fds::clone_shares_table(*flags);
                // A child seen before its parent's clone returned has a
                // state of its own already: replaced.
                self.drop_task(*child);
                self.tasks.new_child(tid, *child, share, Task { pid, fs });
            }
            OpKind::Death { .. } => {
                if let Some(t) = self.tasks.exit(tid) {
                    self.cwds.release(t.fs);
                }
            }
            OpKind::Attach { tgid, cwd } => {
                if *tgid != tid {
                    if let Some(g) = self.tasks.thread(*tgid).map(|g| g.data) {
                        // A thread of an attached process: its group's table
                        // and working directory.
                        self.cwds.hold(g.fs);
                        self.drop_task(tid);
                        self.tasks.new_child(*tgid, tid, true, g);
                        return;
                    }
                }
                if let Some(t) = self.tasks.data_mut(tid) {
                    // Seen before its attach record (the state made for it
                    // then is the one its inherited fds were looked up in).
                    t.pid = *tgid;
                    if !cwd.is_empty() {
                        let fs = t.fs;
                        self.cwds.set(fs, &normal(b"", cwd));
                    }
                    return;
                }
                let cwd = if cwd.is_empty() {
                    self.default_cwd.clone()
                } else {
                    normal(b"", cwd)
                };
                self.root(tid, *tgid, cwd);
            }
        }
    }
}

/// Working directories by fs index, each held by the threads that share
/// it (CLONE_FS, CLONE_THREAD) and freed with the last of them, its slot
/// reused: the state grows with the live processes, not with the forks a
/// trace shows.
#[derive(Clone, Debug, Default)]
struct Cwds {
    dirs: Slots<Vec<u8>>,
    /// Per slot, how many threads hold it (0: free).
    refs: Vec<u32>,
}

impl Cwds {
    fn get(&self, fs: usize) -> &[u8] {
        &self.dirs[fs as u32]
    }

    fn set(&mut self, fs: usize, dir: &[u8]) {
        let d = &mut self.dirs[fs as u32];
        d.clear();
        d.extend_from_slice(dir);
    }

    /// A new slot holding `dir`, held once.
    fn add(&mut self, dir: Vec<u8>) -> usize {
        let fs = self.dirs.insert(dir);
        self.held(fs)
    }

    /// A new slot holding a copy of slot `src`, held once.
    fn copy(&mut self, src: usize) -> usize {
        let fs = self.dirs.copy(src as u32);
        self.held(fs)
    }

    /// Slot `fs`, just given, is held once.
    fn held(&mut self, fs: u32) -> usize {
        let fs = fs as usize;
        if fs == self.refs.len() {
            self.refs.push(0);
        }
        self.refs[fs] = 1;
        fs
    }

    fn hold(&mut self, fs: usize) {
        self.refs[fs] += 1;
    }

    /// One thread less holds slot `fs`: freed at the last.
    fn release(&mut self, fs: usize) {
        self.refs[fs] -= 1;
        if self.refs[fs] == 0 {
            self.dirs.free(fs as u32);
        }
    }

    /// How many slots are held.
    #[cfg(test)]
    fn live(&self) -> usize {
        self.dirs.live()
    }
}

/// The [`Object::Inherited`] of fd `fd` of `origin`: one per (origin, fd).
fn inherited_obj(
    objects: &mut Objects,
    inherited: &mut FxHashMap<(u32, i32), ObjId>,
    origin: u32,
    fd: i32,
) -> ObjId {
    *inherited
        .entry((origin, fd))
        .or_insert_with(|| objects.add(Object::Inherited { origin, fd }))
}

/// What descriptors refer to, by [`ObjId`]; the ids of freed objects
/// ([`Procs::collect`]) are given again.
#[derive(Clone, Debug)]
struct Objects {
    all: Slots<Object>,
    /// [`Procs::collect`] runs when this many are in use.
    collect_at: usize,
}

impl Default for Objects {
    fn default() -> Objects {
        Objects {
            all: Slots::default(),
            collect_at: Objects::FIRST_COLLECT,
        }
    }
}

impl Objects {
    /// A trace with fewer objects in use is never collected.
    const FIRST_COLLECT: usize = 4096;

    fn add(&mut self, o: Object) -> ObjId {
        self.all.insert(o)
    }

    /// `id` is free; its object's memory goes.
    fn free(&mut self, id: ObjId) {
        self.all[id] = Object::Anon("");
        self.all.free(id);
    }

    fn live(&self) -> usize {
        self.all.live()
    }
}

/// `base` joined with `path`, starting with `/`: `.` and empty components
/// dropped, `..` folded into `base` (a working directory or an opened
/// directory, which the kernel named without links) but kept after a
/// component of `path` itself (`sub/../x` fails when `sub` does not exist,
/// and `sub` may be a link).
fn normal(base: &[u8], path: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(base.len() + path.len() + 1);
    normal_into(base, path, &mut v);
    v
}

/// [`normal`], appended to `out` (empty). Written in place, component by
/// component: this runs for every path a trace resolves.
fn normal_into(base: &[u8], path: &[u8], out: &mut Vec<u8>) {
    fn pop(out: &mut Vec<u8>) {
        let i = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
        out.truncate(i);
    }
    if is_normal(base) {
        // Every path the state stores is normal: copy it whole.
        if base.len() > 1 {
            out.extend_from_slice(base);
        }
    } else {
        for c in base.split(|&b| b == b'/') {
            match c {
                b"" | b"." => {}
                b".." => pop(out),
                c => {
                    out.push(b'/');
                    out.extend_from_slice(c);
                }
            }
        }
    }
    let mut own = false;
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." if !own => pop(out),
            c => {
                own = true;
                out.push(b'/');
                out.extend_from_slice(c);
            }
        }
    }
    if out.is_empty() {
        out.push(b'/');
    }
}

/// Whether a successful open(2) with `flags` opened no directory: it
/// wrote or created (O_PATH ignores the access mode; O_TMPFILE opens a
/// directory for writing, to make a file without a name in it).
fn no_directory(flags: u64) -> bool {
    const O_PATH: u64 = 0o10000000;
    const O_TMPFILE_ONLY: u64 = 0o20000000;
    flags & (O_PATH | O_TMPFILE_ONLY) == 0 && (flags & O_ACCMODE != 0 || flags & O_CREAT != 0)
}

/// Whether normal path `p` is strictly below directory `dir` (`/a/b` is
/// below `/a`, `/ab` is not).
fn below(p: &[u8], dir: &[u8]) -> bool {
    p.len() > dir.len() && p[dir.len()] == b'/' && p.starts_with(dir)
}

/// Normal path `p` made what it is after a rename of `from` to `to`, if
/// it is `from` or below it (whether it is).
fn rename_in(p: &mut Vec<u8>, from: &[u8], to: &[u8]) -> bool {
    let moves = p == from || below(p, from);
    if moves {
        p.splice(..from.len(), to.iter().copied());
    }
    moves
}

/// Whether base `p` is already what [`normal`] makes of it (or empty):
/// every absolute path the state stores is (working directories and files
/// are stored as [`normal`] made them), so the first byte tells.
fn is_normal(p: &[u8]) -> bool {
    p.is_empty() || p[0] == b'/'
}

/// The name strace's `-y` shows for an anonymous object (what made it).
fn anon_label(what: &'static str) -> &'static str {
    match what {
        "eventfd" => "anon_inode:[eventfd]",
        "epoll" => "anon_inode:[eventpoll]",
        "timerfd" => "anon_inode:[timerfd]",
        "signalfd" => "anon_inode:[signalfd]",
        "inotify" => "anon_inode:inotify",
        "pidfd" => "anon_inode:[pidfd]",
        "fanotify" => "anon_inode:[fanotify]",
        "perf_event" => "anon_inode:[perf_event]",
        "userfaultfd" => "anon_inode:[userfaultfd]",
        "io_uring" => "anon_inode:[io_uring]",
        "fscontext" => "anon_inode:[fscontext]",
        "secretmem" => "/secretmem (deleted)",
        w => w,
    }
}

/// Whether /proc's name `n` of an object is what `-y` (`full`: `-yy`)
/// shows: under `-yy` a socket is shown by its protocol instead.
fn shown(n: &[u8], full: bool) -> bool {
    !(full && n.starts_with(b"socket:["))
}

/// `fd`'s name in `names` (see [`made_names`]) as `-y` (`full`: `-yy`)
/// shows it, if it is there.
pub fn made_fd_name(names: &[(i32, Vec<u8>)], fd: i32, full: bool) -> Option<&[u8]> {
    names
        .iter()
        .find(|(f, n)| *f == fd && shown(n, full))
        .map(|(_, n)| n.as_slice())
}

/// What /proc named the descriptors a call made (see [`Op::names`]).
pub fn made_names(x: Option<&Exit<'_>>) -> Vec<(i32, Vec<u8>)> {
    exit_facts(x, ARG_FD_NAME)
}

/// What `rec -yy` read of the descriptors a call made or re-addressed
/// (see [`Op::details`]).
pub fn made_details(x: Option<&Exit<'_>>) -> Vec<(i32, Vec<u8>)> {
    exit_facts(x, ARG_FD_DETAIL)
}

fn exit_facts(x: Option<&Exit<'_>>, arg: u8) -> Vec<(i32, Vec<u8>)> {
    x.into_iter()
        .flat_map(|x| x.mem.iter())
        .filter(|m| m.arg == arg)
        .map(|m| (m.addr as u32 as i32, m.data.to_vec()))
        .collect()
}

/// The inodes in a UNIX socket's `-yy` detail: `UNIX-STREAM:[ino->peer,"path"]`.
struct UnixDetail {
    ino: u64,
    /// Where the inode's digits end in the detail.
    ino_end: usize,
    peer: Option<u64>,
}

impl UnixDetail {
    fn parse(d: &[u8]) -> Option<UnixDetail> {
        let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
        let number = |b: &[u8]| std::str::from_utf8(b).ok()?.parse::<u64>().ok();
        if !d.starts_with(b"UNIX") {
            return None;
        }
        let start = d.windows(2).position(|w| w == b":[")? + 2;
        let n = digits(&d[start..]);
        let ino_end = start + n;
        let ino = number(&d[start..ino_end])?;
        let peer = d[ino_end..]
            .strip_prefix(b"->")
            .and_then(|r| number(&r[..digits(r)]));
        Some(UnixDetail { ino, ino_end, peer })
    }
}

/// Whether a `-yy` detail ([`Op::details`]) follows the descriptor's name
/// (a device's `char 1:3`) rather than replacing it (a socket's name).
pub fn detail_follows_name(d: &[u8]) -> bool {
    d.starts_with(b"char ") || d.starts_with(b"block ")
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

/// `ip:port` of an AF_INET or AF_INET6 sockaddr; the path of an AF_UNIX one.
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
            let a = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(d.get(8..24)?).ok()?);
            Some(format!("[{a}]:{port}"))
        }
        _ => None,
    }
}

/// What a pass wants extracted besides the descriptor and path ops.
#[derive(Clone, Copy, Debug, Default)]
pub struct Want {
    /// The captured bytes of writes (else `Write::data` is empty).
    pub write_data: bool,
    /// The caller's own scan already warned about a truncated file and
    /// unreadable chunks (else [`run`] does).
    pub scanned: bool,
    /// `--strict`: an unreadable chunk is an error.
    pub strict: bool,
}

fn arg_i32(v: u64) -> i32 {
    v as u32 as i32
}

/// The captured path argument `arg` of an entry.
fn path_arg(e: &Entry<'_>, arg: u8) -> Vec<u8> {
    e.mem
        .iter()
        .find(|m| m.arg == arg)
        .map(|m| m.data.to_vec())
        .unwrap_or_default()
}

/// The bytes a write-like call wrote, as captured: its buffers in order,
/// up to `ret`.
fn written(e: &Entry<'_>, sys: Sysno, ret: i64, want: Want) -> (Vec<u8>, bool) {
    let total = ret.max(0) as usize;
    let mut data = Vec::new();
    let mut got = 0usize;
    let mut take = |d: &[u8], data: &mut Vec<u8>| {
        let n = d.len().min(total - got);
        if want.write_data {
            data.extend_from_slice(&d[..n]);
        }
        got += n;
    };
    match sys {
        Sysno::write | Sysno::pwrite64 | Sysno::sendto => {
            if let Some(m) = e.mem.iter().find(|m| m.arg == 1) {
                take(m.data, &mut data);
            }
        }
        Sysno::writev | Sysno::pwritev | Sysno::pwritev2 => {
            for m in e.mem.iter().filter(|m| m.arg == 9) {
                take(m.data, &mut data);
            }
        }
        Sysno::sendmsg => {
            // arg 9 holds msg_name, the iov buffers and msg_control: the
            // header's pointers tell them apart.
            let hdr = e.mem.iter().find(|m| m.arg == 1);
            let ptr = |off: usize| {
                hdr.and_then(|h| h.data.get(off..off + 8))
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_le_bytes)
            };
            let h = e.arch.layout().msghdr;
            let (name, control) = (ptr(h.msg_name.off), ptr(h.msg_control.off));
            for m in e.mem.iter().filter(|m| m.arg == 9) {
                if Some(m.addr) != name && Some(m.addr) != control {
                    take(m.data, &mut data);
                }
            }
        }
        _ => {}
    }
    (data, got < total)
}

/// The op of a call, if it is one the state or the views care about.
pub fn op_of(e: &Entry<'_>, x: Option<&Exit<'_>>, want: Want) -> Option<Op> {
    let sys = e.sysno()?;
    let a = e.args;
    let ret = x.map(|x| x.ret);
    let r = ret.unwrap_or(-1);
    // The descriptor calls: what ptrec_abi::fds says they do.
    let none = Captures::default();
    let fd_op = fds::call(e.arch, e.nr, &a, &e.mem, x.map_or(&none, |x| &x.mem));
    if let Some(op) = fd_op {
        return Some(Op {
            tid: e.tid,
            time: e.time,
            end: x.map_or(e.time, |x| x.time),
            ret,
            nr: e.nr,
            kind: fd_kind(op, x),
            names: match op {
                FdOp::Open { .. } | FdOp::New { .. } | FdOp::Pair { .. } | FdOp::Accept { .. } => {
                    made_names(x)
                }
                _ => Vec::new(),
            },
            details: made_details(x),
            fd_effect: op.took_effect(ret),
        });
    }
    let fd_path = |kind, fd: u64| OpKind::Path {
        kind,
        dirfd: AT_FDCWD,
        path: Vec::new(),
        fd: Some(arg_i32(fd)),
    };
    use OpKind as K;
    use PathKind as P;
    // Which argument is the path and which the directory it is relative
    // to: abi's roles (the tables the decoders and rec's capture use). The
    // op is on the first path, but on the second of rename's and link's
    // (the new name; rename's old one is another op, [`rename_from`],
    // which [`ops_of`] puts first).
    let on_path = |kind: PathKind, flags: Option<u64>| {
        let last = matches!(kind, P::RenameTo | P::RenameExchange | P::Link);
        let (dirarg, arg) = path_role(e, last)?;
        let p = path_arg(e, arg);
        // The *at forms: with AT_EMPTY_PATH and "" the path is the fd's.
        Some(match dirarg {
            Some(d) if p.is_empty() && flags.is_some_and(|f| f & AT_EMPTY_PATH != 0) => {
                fd_path(kind, a[d])
            }
            _ => K::Path {
                kind,
                dirfd: dirarg.map_or(AT_FDCWD, |d| arg_i32(a[d])),
                path: p,
                fd: None,
            },
        })
    };
    let path = |kind| on_path(kind, None);
    let kind = match sys {
        Sysno::stat | Sysno::lstat | Sysno::statfs | Sysno::newfstatat => {
            on_path(P::Stat, (sys == Sysno::newfstatat).then_some(a[3]))?
        }
        Sysno::fstat | Sysno::fstatfs => fd_path(P::Stat, a[0]),
        Sysno::statx => on_path(P::Stat, Some(a[2]))?,
        Sysno::access | Sysno::faccessat => path(P::Access)?,
        Sysno::faccessat2 => on_path(P::Access, Some(a[3]))?,
        Sysno::readlink | Sysno::readlinkat => path(P::Readlink)?,
        Sysno::execve => path(P::Exec)?,
        Sysno::execveat => on_path(P::Exec, Some(a[4]))?,
        Sysno::unlink => path(P::Unlink)?,
        Sysno::rmdir => path(P::Rmdir)?,
        Sysno::unlinkat if a[2] & AT_REMOVEDIR != 0 => path(P::Rmdir)?,
        Sysno::unlinkat => path(P::Unlink)?,
        Sysno::mkdir | Sysno::mknod | Sysno::mkdirat | Sysno::mknodat => path(P::Create)?,
        Sysno::chdir => path(P::Chdir)?,
        Sysno::fchdir => fd_path(P::Chdir, a[0]),
        Sysno::chmod
        | Sysno::chown
        | Sysno::lchown
        | Sysno::truncate
        | Sysno::setxattr
        | Sysno::fchmodat
        | Sysno::fchownat => path(P::Attr)?,
        Sysno::utimensat if e.mem.iter().any(|m| m.arg == 1) => path(P::Attr)?,
        Sysno::renameat2 if a[4] & RENAME_EXCHANGE != 0 => path(P::RenameExchange)?,
        Sysno::rename | Sysno::renameat | Sysno::renameat2 => path(P::RenameTo)?,
        Sysno::link | Sysno::linkat | Sysno::symlink | Sysno::symlinkat => path(P::Link)?,
        Sysno::connect | Sysno::bind => K::SockAddr {
            fd: arg_i32(a[0]),
            addr: e
                .mem
                .iter()
                .find(|m| m.arg == 1 && m.flags & mem_flags::AT_EXIT == 0)
                .and_then(|m| sockaddr(m.data))?,
            connect: sys == Sysno::connect,
        },
        Sysno::write
        | Sysno::pwrite64
        | Sysno::writev
        | Sysno::pwritev
        | Sysno::pwritev2
        | Sysno::sendto
        | Sysno::sendmsg => {
            let (data, cut) = written(e, sys, r, want);
            K::Write {
                fd: arg_i32(a[0]),
                data,
                cut,
            }
        }
        Sysno::read
        | Sysno::pread64
        | Sysno::readv
        | Sysno::preadv
        | Sysno::preadv2
        | Sysno::recvfrom
        | Sysno::recvmsg => K::Read { fd: arg_i32(a[0]) },
        Sysno::sendfile => K::Transfer {
            from: arg_i32(a[1]),
            to: arg_i32(a[0]),
        },
        Sysno::splice | Sysno::copy_file_range => K::Transfer {
            from: arg_i32(a[0]),
            to: arg_i32(a[2]),
        },
        _ => return None,
    };
    let names = match kind {
        K::Path { kind: P::Chdir, .. } => made_names(x),
        _ => Vec::new(),
    };
    Some(Op {
        tid: e.tid,
        time: e.time,
        end: x.map_or(e.time, |x| x.time),
        ret,
        nr: e.nr,
        kind,
        names,
        details: made_details(x),
        fd_effect: false,
    })
}

/// The op of a descriptor call ([`fds::call`]), with what this module
/// keeps of it: owned paths, a memfd's /proc name, an anonymous object's
/// label, the peer an accept returned.
fn fd_kind(op: FdOp<'_>, x: Option<&Exit<'_>>) -> OpKind {
    match op {
        FdOp::Open { dirfd, path, flags } => OpKind::Open {
            dirfd,
            path: path.unwrap_or_default().to_vec(),
            flags,
        },
        FdOp::New {
            what: What::Memfd { name },
            cloexec,
        } => OpKind::Memfd {
            name: [b"/memfd:", name.unwrap_or_default(), b" (deleted)"].concat(),
            cloexec,
        },
        FdOp::New { what, cloexec } => OpKind::NewFd {
            what: what_label(what),
            cloexec,
        },
        FdOp::Pair { fds, what, cloexec } => OpKind::Pair {
            fds,
            what: what_label(what),
            cloexec,
        },
        FdOp::Accept { listener, cloexec } => OpKind::Accept {
            listener,
            peer: x
                .and_then(|x| x.mem.iter().find(|m| m.arg == 1))
                .and_then(|m| sockaddr(m.data)),
            cloexec,
        },
        FdOp::Dup { old, cloexec, .. } => OpKind::Dup { old, cloexec },
        FdOp::Close { fd } => OpKind::Close { fd },
        FdOp::CloseRange {
            first,
            last,
            cloexec,
            unshare,
        } => OpKind::CloseRange {
            first,
            last,
            cloexec,
            unshare,
        },
        FdOp::SetCloexec { fd, on } => OpKind::SetCloexec { fd, on },
    }
}

/// What an anonymous object is called ([`Object::Anon`]): a socket's
/// protocol, else what made it.
fn what_label(w: What<'_>) -> &'static str {
    match w {
        What::Socket { domain, ty } => proto(domain, ty),
        What::File => "file",
        What::Pipe => "pipe",
        What::Eventfd => "eventfd",
        What::Epoll => "epoll",
        What::Timerfd => "timerfd",
        What::Signalfd => "signalfd",
        What::Inotify => "inotify",
        What::Fanotify => "fanotify",
        What::Memfd { .. } => "memfd",
        What::MemfdSecret => "secretmem",
        What::Pidfd => "pidfd",
        What::PerfEvent => "perf_event",
        What::Userfaultfd => "userfaultfd",
        What::IoUring => "io_uring",
        What::FsContext => "fscontext",
        What::Mount => "mount",
    }
}

/// The argument of a call's first (or `last`) path, by abi's roles, and
/// the argument of the directory descriptor it is relative to (None: the
/// working directory).
fn path_role(e: &Entry<'_>, last: bool) -> Option<(Option<usize>, u8)> {
    let roles = ptrec_abi::decode::roles(e.arch, e.nr);
    let mut paths = roles.iter().enumerate().filter_map(|(i, r)| match *r {
        Role::Path => Some((None, i as u8)),
        Role::PathAt { dirfd } => Some((Some(usize::from(dirfd)), i as u8)),
        _ => None,
    });
    if last {
        paths.next_back()
    } else {
        paths.next()
    }
}

/// The old name of a rename, the second op of that call.
fn rename_from(e: &Entry<'_>, x: Option<&Exit<'_>>) -> Option<Op> {
    if !matches!(
        e.sysno()?,
        Sysno::rename | Sysno::renameat | Sysno::renameat2
    ) {
        return None;
    }
    let (dirarg, arg) = path_role(e, false)?;
    let dirfd = dirarg.map_or(AT_FDCWD, |d| arg_i32(e.args[d]));
    Some(Op {
        tid: e.tid,
        time: e.time,
        end: x.map_or(e.time, |x| x.time),
        ret: x.map(|x| x.ret),
        nr: e.nr,
        kind: OpKind::Path {
            kind: PathKind::RenameFrom,
            dirfd,
            path: path_arg(e, arg),
            fd: None,
        },
        names: Vec::new(),
        details: Vec::new(),
        fd_effect: false,
    })
}

/// The ops of one call, pushed onto `out`.
pub fn ops_of(e: &Entry<'_>, x: Option<&Exit<'_>>, want: Want, out: &mut Vec<Op>) {
    if let Some(op) = rename_from(e, x) {
        out.push(op);
    }
    if let Some(op) = op_of(e, x, want) {
        out.push(op);
    }
}

/// The op of a process event.
pub fn event_op(r: &Record<'_>) -> Option<Op> {
    let kind = match *r {
        // The flags as rec read them: fork's and vfork's own (SIGCHLD,
        // CLONE_VM | CLONE_VFORK), which share no table, or a clone's,
        // which the kernel reports as a fork when it signals SIGCHLD
        // without CLONE_VFORK, with CLONE_FILES or CLONE_FS as given.
        Record::NewChild { child, flags, .. } => OpKind::NewChild { child, flags },
        Record::Exec {
            former_tid,
            filename,
            ref argv,
            ..
        } => OpKind::Exec {
            former_tid,
            filename: filename.to_vec(),
            argv: argv.iter().map(|a| a.to_vec()).collect(),
        },
        Record::Death { how, .. } => OpKind::Death { how },
        Record::Attach { tgid, cwd, .. } => OpKind::Attach {
            tgid,
            cwd: cwd.to_vec(),
        },
        Record::OpenFd {
            fd, flags, target, ..
        } => OpKind::OpenFd {
            fd,
            target: target.to_vec(),
            cloexec: u64::from(flags) & O_CLOEXEC != 0,
        },
        _ => return None,
    };
    Some(Op {
        tid: r.tid(),
        time: r.time(),
        end: r.time(),
        ret: Some(0),
        nr: u32::MAX,
        kind,
        names: Vec::new(),
        details: match *r {
            Record::OpenFd { fd, detail, .. } if !detail.is_empty() => vec![(fd, detail.to_vec())],
            _ => Vec::new(),
        },
        fd_effect: false,
    })
}

/// A view fed by [`run`]: each op, in trace order, with the state just
/// before it; and, per chunk, the view's own part of the parallel walk
/// ([`ChunkWatch`], a value of its own: the walk of later chunks runs while
/// the ops of earlier ones are given to the view).
pub trait Watch: Send {
    /// The view's part of the per-chunk walk (`()` when it has none).
    type Chunk: ChunkWatch;
    /// Made once, before the walk.
    fn chunk_watch(&self) -> Self::Chunk;
    /// A call whose entry was in an earlier chunk (or, at the end, one the
    /// trace ends inside), in order, before the chunk's sealed extra.
    /// `end`: how it ended; `None` when the trace ended inside it.
    fn resumed(&mut self, _entry: &Entry<'_>, _exit: Option<&Exit<'_>>, _end: Option<calls::End>) {}
    /// A readable chunk's layer facts and its sealed extra, before its ops
    /// (the view may take from the extra what its ops need first).
    fn before(&mut self, _meta: &ChunkMeta, _extra: &mut <Self::Chunk as ChunkWatch>::Sealed) {}
    /// The chunk's sealed extra, after its ops were given.
    fn sealed(&mut self, _extra: <Self::Chunk as ChunkWatch>::Sealed) {}
    /// One op with the state before it.
    fn op(&mut self, procs: &mut Procs, op: &Op);
    /// At the start of each chunk (an unreadable one too, with no
    /// entries): the state then, and the entries its resumed items end.
    fn chunk(&mut self, _procs: &Procs, _entries: &[Option<OwnedEntry>]) {}
}

/// A view's part of the parallel per-chunk walk.
pub trait ChunkWatch: Sync {
    /// What the view keeps of a chunk while it is walked (it may borrow
    /// the chunk's data) and what it keeps of it after (`()` when nothing).
    type Extra<'a>;
    type Sealed: Send;
    /// A fresh extra for chunk `index` (of [`Trace::chunks`]).
    fn extra<'a>(&self, index: usize) -> Self::Extra<'a>;
    /// A call of the chunk, in order (on rayon's threads).
    fn call<'a>(&self, _extra: &mut Self::Extra<'a>, _call: &Call<'a>) {}
    /// Every other record of the chunk (signals, process events, notes),
    /// in order among the calls.
    fn event<'a>(&self, _extra: &mut Self::Extra<'a>, _record: &Record<'a>) {}
    fn seal(&self, extra: Self::Extra<'_>) -> Self::Sealed;
}

/// No per-chunk part.
impl ChunkWatch for () {
    type Extra<'a> = ();
    type Sealed = ();
    fn extra<'a>(&self, _index: usize) -> Self::Extra<'a> {}
    fn seal(&self, _extra: ()) {}
}

/// Where an op of a chunk goes: in place, or (for a call resumed from an
/// earlier chunk) at a slot filled in `finish`.
enum Slot {
    Op(Op),
    /// The `n`-th [`Item::Resumed`] of the chunk, with its exit.
    Resumed(Option<calls::OwnedExit>, calls::End),
}

pub struct Part<X> {
    slots: Vec<Slot>,
    /// Per Item::Resumed: its slot index.
    resumed: Vec<usize>,
    extra: X,
}

/// The parallel half of a run: a chunk's calls and events to ops.
struct Walker<X> {
    want: Want,
    chunk: X,
    /// The slot vectors of parts the merge has applied.
    spare: calls::Spare<Vec<Slot>>,
}

/// The sequential half: the ops applied in order.
struct Runner<'w, W> {
    want: Want,
    watch: &'w mut W,
    procs: Procs,
    skipped: Vec<crate::stats::Skipped>,
    /// The walker's spare slot vectors, where finished parts return theirs.
    spare: &'w calls::Spare<Vec<Slot>>,
}

impl<X: ChunkWatch> calls::Walk for Walker<X> {
    type Part<'a> = Part<X::Extra<'a>>;
    type Sealed = Part<X::Sealed>;

    fn part<'a>(&self, index: usize) -> Self::Part<'a> {
        let mut slots = self.spare.take();
        // The merge hands its slots back full (see `Runner::finish`).
        slots.clear();
        Part {
            slots,
            resumed: Vec::new(),
            extra: self.chunk.extra(index),
        }
    }

    fn item<'a>(&self, p: &mut Self::Part<'a>, item: Item<'_, 'a>) {
        match item {
            Item::Enter(_) => {}
            Item::Call(c) => {
                if let Some(op) = rename_from(&c.entry, c.exit.as_ref()) {
                    p.slots.push(Slot::Op(op));
                }
                if let Some(op) = op_of(&c.entry, c.exit.as_ref(), self.want) {
                    p.slots.push(Slot::Op(op));
                }
                self.chunk.call(&mut p.extra, c);
            }
            Item::Resumed(r) => {
                p.resumed.push(p.slots.len());
                p.slots.push(Slot::Resumed(
                    r.exit.as_ref().map(calls::OwnedExit::of),
                    r.end,
                ));
            }
            Item::Event(r) => {
                if let Some(op) = event_op(r) {
                    p.slots.push(Slot::Op(op));
                }
                self.chunk.event(&mut p.extra, r);
            }
        }
    }

    fn seal(&self, p: Self::Part<'_>) -> Self::Sealed {
        let Part {
            slots,
            resumed,
            extra,
        } = p;
        Part {
            slots,
            resumed,
            extra: self.chunk.seal(extra),
        }
    }
}

impl<W: Watch> calls::Merge for Runner<'_, W> {
    type Sealed = Part<<W::Chunk as ChunkWatch>::Sealed>;

    fn finish(
        &mut self,
        meta: &ChunkMeta,
        mut p: Self::Sealed,
        entries: &[Option<OwnedEntry>],
    ) -> anyhow::Result<()> {
        self.watch.chunk(&self.procs, entries);
        self.watch.before(meta, &mut p.extra);
        let mut entry_of = vec![None; p.slots.len()];
        for (k, &slot) in p.resumed.iter().enumerate() {
            entry_of[slot] = entries.get(k).and_then(|e| e.as_ref());
        }
        let mut ops = Vec::new();
        for (slot, e) in p.slots.iter().zip(entry_of) {
            match slot {
                Slot::Op(op) => self.step(op),
                Slot::Resumed(x, end) => {
                    let Some(e) = e else { continue };
                    let entry = e.entry();
                    let exit = x.as_ref().map(|x| x.exit());
                    self.watch.resumed(&entry, exit.as_ref(), Some(*end));
                    ops.clear();
                    ops_of(&entry, exit.as_ref(), self.want, &mut ops);
                    for op in &ops {
                        self.step(op);
                    }
                }
            }
        }
        // Not emptied here: the ops own their paths, and freeing them is
        // work the walker that takes the vector again does in parallel
        // (this loop is the run's one sequential part).
        self.spare.put(p.slots);
        self.watch.sealed(p.extra);
        Ok(())
    }

    fn skipped(&mut self, index: usize, reason: &str) -> anyhow::Result<()> {
        self.watch.chunk(&self.procs, &[]);
        self.skipped.push(crate::stats::Skipped {
            chunk: index,
            reason: reason.to_string(),
        });
        Ok(())
    }

    fn end(&mut self, open: Vec<OwnedEntry>) -> anyhow::Result<()> {
        // Calls the trace ends inside (the recording stopped): what they
        // did at entry still counts (a path looked up, a write begun).
        let mut ops = Vec::new();
        for e in open {
            let entry = e.entry();
            self.watch.resumed(&entry, None, None);
            ops.clear();
            ops_of(&entry, None, self.want, &mut ops);
            for op in &ops {
                self.step(op);
            }
        }
        Ok(())
    }
}

impl<W: Watch> Runner<'_, W> {
    fn step(&mut self, op: &Op) {
        self.watch.op(&mut self.procs, op);
        self.procs.apply(op);
    }
}

/// Runs `watch` over the whole trace (full mode) and returns the state at
/// its end.
pub fn run<W: Watch>(trace: &Trace, want: Want, watch: &mut W) -> anyhow::Result<Procs> {
    if !want.scanned {
        crate::stats::warn_truncation(trace);
    }
    let walker = Walker {
        want,
        chunk: watch.chunk_watch(),
        spare: calls::Spare::default(),
    };
    let mut r = Runner {
        want,
        watch,
        procs: Procs::new(&trace.header().cwd),
        skipped: Vec::new(),
        spare: &walker.spare,
    };
    calls::run_split(trace, Mode::Full, &walker, &mut r)?;
    if !want.scanned || want.strict {
        crate::stats::report_skipped(trace, &r.skipped, want.strict, false)?;
    }
    Ok(r.procs)
}

/// The state at the start of every chunk, a window of chunks at a time:
/// the first pass of a view that walks chunks in parallel with the state
/// (`replay -y`), each chunk starting from a copy of it.
pub struct ChunkStarts<'t> {
    stream: calls::Stream<'t>,
    procs: Procs,
}

/// The state at the start of a chunk and the entries its resumed items end.
pub type Start = (Procs, Vec<Option<OwnedEntry>>);

struct Starts(Vec<Start>);

impl Watch for Starts {
    type Chunk = ();
    fn chunk_watch(&self) {}
    fn op(&mut self, _procs: &mut Procs, _op: &Op) {}
    fn chunk(&mut self, procs: &Procs, entries: &[Option<OwnedEntry>]) {
        self.0.push((procs.clone(), entries.to_vec()));
    }
}

impl<'t> ChunkStarts<'t> {
    pub fn new(trace: &'t Trace) -> anyhow::Result<ChunkStarts<'t>> {
        Ok(ChunkStarts {
            stream: calls::Stream::new(trace, Mode::Full)?,
            procs: Procs::new(&trace.header().cwd),
        })
    }

    /// The starts of chunks `range` (after every earlier range), one per
    /// chunk, an unreadable one included.
    pub fn window(&mut self, range: std::ops::Range<usize>) -> anyhow::Result<Vec<Start>> {
        let mut starts = Starts(Vec::new());
        let want = Want::default();
        let walker = Walker {
            want,
            chunk: (),
            spare: calls::Spare::default(),
        };
        let mut r = Runner {
            want,
            watch: &mut starts,
            procs: std::mem::take(&mut self.procs),
            skipped: Vec::new(),
            spare: &walker.spare,
        };
        let res = self.stream.chunks_split(range, &walker, &mut r);
        self.procs = r.procs;
        res?;
        Ok(starts.0)
    }

    /// The state after every range given.
    pub fn into_procs(self) -> Procs {
        self.procs
    }
}

/// A call's effect on the state once it returned (a view that keeps its
/// own copy of the state, as `replay -y` per chunk).
pub fn apply_call(procs: &mut Procs, e: &Entry<'_>, x: &Exit<'_>, ops: &mut Vec<Op>) {
    ops.clear();
    ops_of(e, Some(x), Want::default(), ops);
    for op in ops.iter() {
        procs.apply(op);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ptrec_abi::fds::{CLONE_FILES, CLOSE_RANGE_CLOEXEC, FD_CLOEXEC};

    const F_DUPFD: u64 = fds::F_DUPFD as u64;
    const F_SETFD: u64 = fds::F_SETFD as u64;
    const F_DUPFD_CLOEXEC: u64 = fds::F_DUPFD_CLOEXEC as u64;

    fn op(tid: Tid, ret: i64, kind: OpKind) -> Op {
        Op {
            tid,
            time: 0,
            end: 0,
            ret: Some(ret),
            nr: 0,
            kind,
            names: Vec::new(),
            details: Vec::new(),
            fd_effect: !is_error(ret),
        }
    }

    #[test]
    fn paths_are_made_absolute_and_normal() {
        assert_eq!(normal(b"/a/b", b"../c/./d"), b"/a/c/d");
        assert_eq!(normal(b"/", b"../../x"), b"/x");
        assert_eq!(normal(b"/a", b"s/../x"), b"/a/s/../x");
        assert_eq!(normal(b"", b"/usr/./lib//x"), b"/usr/lib/x");
        assert_eq!(normal(b"/a", b""), b"/a");
        assert_eq!(normal(b"", b"/"), b"/");
        // A base the trace could not name (`<fd N>`) is not a stored path.
        assert_eq!(normal(b"<fd 3>/./a", b"b"), b"/<fd 3>/a/b");
    }

    #[test]
    fn a_child_writing_to_an_inherited_fd_reaches_its_parents_object() {
        let mut p = Procs::new(b"/w");
        let stderr = p.fd(10, 2);
        p.apply(&op(
            10,
            0,
            OpKind::NewChild {
                child: 11,
                flags: 0,
            },
        ));
        assert_eq!(p.fd(11, 2), stderr);
        // dup2(2, 7) then close(2) in the child: fd 7 is still the stderr.
        p.apply(&op(
            11,
            7,
            OpKind::Dup {
                old: 2,
                cloexec: false,
            },
        ));
        p.apply(&op(11, 0, OpKind::Close { fd: 2 }));
        assert_eq!(p.fd(11, 7), stderr);
        assert_eq!(p.fd(11, 2), None);
        assert_eq!(p.fd(10, 2), stderr, "the parent's table is its own");
    }

    #[test]
    fn exec_closes_cloexec_fds_and_chdir_moves_relative_paths() {
        let mut p = Procs::new(b"/w");
        let open = |path: &[u8], flags| OpKind::Open {
            dirfd: AT_FDCWD,
            path: path.to_vec(),
            flags,
        };
        p.apply(&op(5, 3, open(b"a", O_CLOEXEC)));
        p.apply(&op(5, 4, open(b"b", 0)));
        assert_eq!(p.fd_path(5, 3).as_deref(), Some(&b"/w/a"[..]));
        p.apply(&op(
            5,
            0,
            OpKind::Path {
                kind: PathKind::Chdir,
                dirfd: AT_FDCWD,
                path: b"..//w/./d".to_vec(),
                fd: None,
            },
        ));
        assert_eq!(p.cwd(5), b"/w/d");
        assert_eq!(p.resolve(5, 4, b"x"), b"/w/b/x");
        assert_eq!(p.resolve(5, 99, b"x"), b"<fd 99>/x");
        p.apply(&op(
            5,
            0,
            OpKind::Exec {
                former_tid: 5,
                filename: b"/bin/x".to_vec(),
                argv: vec![],
            },
        ));
        assert_eq!(p.fd(5, 3), None);
        assert_eq!(p.fd_path(5, 4).as_deref(), Some(&b"/w/b"[..]));
    }

    #[test]
    fn a_clone_reported_as_a_fork_shares_the_table_when_it_says_so() {
        let mut p = Procs::new(b"/");
        p.apply(&op(
            1,
            3,
            OpKind::Pair {
                fds: [3, 4],
                what: "pipe",
                cloexec: false,
            },
        ));
        let child = |child, flags, kind| {
            event_op(&Record::NewChild {
                tid: 1,
                time: 0,
                child,
                kind,
                flags,
                inferred: false,
            })
            .unwrap()
        };
        let files = CLONE_FILES | libc::SIGCHLD as u64;
        p.apply(&child(2, files, ptrec_format::ChildKind::Fork));
        p.apply(&child(
            3,
            libc::SIGCHLD as u64,
            ptrec_format::ChildKind::Fork,
        ));
        p.apply(&op(1, 0, OpKind::Close { fd: 3 }));
        assert_eq!(p.fd(2, 3), None, "shared: closed by the parent");
        assert!(p.fd(3, 3).is_some(), "a fork's copy keeps it");
    }

    #[test]
    fn threads_share_the_table_and_a_failed_open_adds_nothing() {
        let mut p = Procs::new(b"/");
        p.apply(&op(
            1,
            0,
            OpKind::NewChild {
                child: 2,
                flags: CLONE_THREAD | CLONE_FILES | CLONE_FS,
            },
        ));
        p.apply(&op(
            2,
            -2,
            OpKind::Open {
                dirfd: AT_FDCWD,
                path: b"/nope".to_vec(),
                flags: 0,
            },
        ));
        p.apply(&op(
            2,
            3,
            OpKind::Pair {
                fds: [3, 4],
                what: "pipe",
                cloexec: false,
            },
        ));
        assert_eq!(p.pid(2), 1);
        assert_eq!(p.fd(1, 3), p.fd(1, 4));
        assert!(p.fd(1, 3).is_some());
    }

    #[test]
    fn reaped_processes_leave_no_table_behind() {
        let mut p = Procs::new(b"/");
        let stderr = p.fd(1, 2);
        for child in 2..1000 {
            p.apply(&op(1, 0, OpKind::NewChild { child, flags: 0 }));
            p.apply(&op(
                child,
                3,
                OpKind::Dup {
                    old: 2,
                    cloexec: true,
                },
            ));
            p.apply(&op(
                child,
                0,
                OpKind::Exec {
                    former_tid: child,
                    filename: b"/bin/x".to_vec(),
                    argv: vec![],
                },
            ));
            assert_eq!(p.fd(child, 3), None);
            assert_eq!(p.fd(child, 2), stderr, "inherited through fork and exec");
            let how = Termination::Exited(0);
            p.apply(&op(child, 0, OpKind::Death { how }));
        }
        assert_eq!(p.tasks.live(), 1);
    }

    #[test]
    fn objects_no_descriptor_holds_are_freed_and_held_ones_kept() {
        let mut p = Procs::new(b"/w");
        let open = |path: &[u8]| OpKind::Open {
            dirfd: AT_FDCWD,
            path: path.to_vec(),
            flags: 0,
        };
        let close = |fd| OpKind::Close { fd };
        p.apply(&op(1, 3, open(b"kept")));
        let seeded = OpKind::OpenFd {
            fd: 9,
            target: b"/dev/pts/0".to_vec(),
            cloexec: false,
        };
        p.apply(&op(1, 0, seeded));
        let tty = p.fd(1, 9).unwrap();
        p.apply(&op(1, 0, close(9)));
        let stdout = p.fd(1, 1).unwrap();
        // A server's worth of pipes and files, each closed.
        for i in 0..50_000 {
            let pipe = OpKind::Pair {
                fds: [4, 5],
                what: "pipe",
                cloexec: false,
            };
            p.apply(&op(1, 0, pipe));
            p.apply(&op(1, 0, close(4)));
            p.apply(&op(1, 0, close(5)));
            p.apply(&op(1, 6, open(format!("f{}", i % 7).as_bytes())));
            p.apply(&op(1, 0, close(6)));
        }
        assert!(
            p.objects.all.len() <= 2 * Objects::FIRST_COLLECT,
            "{}",
            p.objects.all.len()
        );
        // What is held, inherited or listed at the start stays as it was.
        assert_eq!(p.fd_path(1, 3).as_deref(), Some(&b"/w/kept"[..]));
        assert_eq!(p.fd(1, 1), Some(stdout));
        assert_eq!(p.object(tty), &Object::File(b"/dev/pts/0".to_vec()));
        // And a path opened again after its object went is named as ever.
        p.apply(&op(1, 6, open(b"f3")));
        assert_eq!(p.fd_path(1, 6).as_deref(), Some(&b"/w/f3"[..]));
    }

    fn chdir(path: &[u8]) -> OpKind {
        OpKind::Path {
            kind: PathKind::Chdir,
            dirfd: AT_FDCWD,
            path: path.to_vec(),
            fd: None,
        }
    }

    fn death() -> OpKind {
        OpKind::Death {
            how: Termination::Exited(0),
        }
    }

    fn new_child(child: Tid, flags: u64) -> OpKind {
        OpKind::NewChild { child, flags }
    }

    #[test]
    fn reaped_processes_leave_no_working_directory_behind() {
        let mut p = Procs::new(b"/");
        p.apply(&op(1, 0, chdir(b"/a")));
        for child in 2..1000 {
            let flags = if child % 2 == 0 { 0 } else { CLONE_FS };
            p.apply(&op(1, 0, new_child(child, flags)));
            assert_eq!(p.cwd(child), b"/a", "a reused slot holds the parent's");
            p.apply(&op(child, 0, chdir(b"b")));
            let parent: &[u8] = if flags == 0 { b"/a" } else { b"/a/b" };
            assert_eq!(p.cwd(1), parent, "CLONE_FS shares, a fork copies");
            p.apply(&op(child, 0, death()));
            p.apply(&op(1, 0, chdir(b"/a")));
        }
        // A child seen before its parent's clone returned (its state made
        // then is replaced), and a thread's exec (the leader it replaces
        // goes with its hold).
        p.apply(&op(2000, 0, chdir(b"/x")));
        p.apply(&op(1, 0, new_child(2000, 0)));
        assert_eq!(p.cwd(2000), b"/a");
        let thread = CLONE_THREAD | CLONE_FS | CLONE_FILES;
        p.apply(&op(2000, 0, new_child(2001, thread)));
        p.apply(&op(
            2000,
            0,
            OpKind::Exec {
                former_tid: 2001,
                filename: b"/bin/x".to_vec(),
                argv: vec![],
            },
        ));
        assert_eq!(p.cwd(2000), b"/a");
        p.apply(&op(2000, 0, death()));
        assert_eq!(p.cwds.live(), 1);
        assert!(p.cwds.dirs.len() <= 3, "{} slots", p.cwds.dirs.len());
        assert_eq!(p.cwd(1), b"/a");
    }

    use ptrec_abi::Arch;
    use ptrec_format::{Captures, Mem};

    /// `nr(args)` with captures `mem` returned `ret` with `out`: its ops applied.
    fn call(p: &mut Procs, nr: &str, args: [u64; 6], mem: &[Mem<'_>], ret: i64, out: &[Mem<'_>]) {
        let e = Entry {
            tid: 1,
            time: 0,
            stime_us: None,
            arch: Arch::X86_64,
            nr: Arch::X86_64.syscall_nr(nr).unwrap_or(u32::MAX),
            args,
            ip: None,
            mem: Captures::Slice(mem),
        };
        let x = Exit {
            tid: 1,
            time: 0,
            stime_us: None,
            arch: Arch::X86_64,
            nr: e.nr,
            ret,
            mem: Captures::Slice(out),
        };
        apply_call(p, &e, &x, &mut Vec::new());
    }

    fn mem(arg: u8, flags: u8, data: &[u8]) -> Mem<'_> {
        Mem {
            arg,
            flags,
            addr: 0x1000,
            data,
            redacted: None,
        }
    }

    fn name(p: &Procs, fd: i32) -> Option<String> {
        p.fd_name(1, fd, false)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// What rec read from /proc at an exit (capture [`ARG_FD_NAME`]).
    fn proc_name(fd: i32, name: &[u8]) -> Mem<'_> {
        Mem {
            arg: ARG_FD_NAME,
            flags: mem_flags::AT_EXIT | mem_flags::STRING,
            addr: fd as u64,
            data: name,
            redacted: None,
        }
    }

    #[test]
    fn dash_y_names_a_descriptor_as_proc_did_when_it_was_made() {
        let mut p = Procs::new(b"/");
        // A path through a symbolic link: /proc's name, the kernel's.
        let path = [mem(1, mem_flags::STRING, b"/lib/libc.so.6")];
        let named = [proc_name(3, b"/usr/lib/libc.so.6")];
        call(
            &mut p,
            "openat",
            [AT_FDCWD as u64, 0x1000, 0, 0, 0, 0],
            &path,
            3,
            &named,
        );
        assert_eq!(name(&p, 3).as_deref(), Some("/usr/lib/libc.so.6"));
        // The path the call named is still the file's (files, export).
        assert_eq!(p.fd_path(1, 3).as_deref(), Some(&b"/lib/libc.so.6"[..]));
        // A dup is the same object, so the same name.
        call(&mut p, "dup", [3, 0, 0, 0, 0, 0], &[], 4, &[]);
        assert_eq!(name(&p, 4).as_deref(), Some("/usr/lib/libc.so.6"));
        // A pipe's inode; both ends.
        let fds = [mem(0, mem_flags::AT_EXIT, &[5, 0, 0, 0, 6, 0, 0, 0])];
        let mut out = fds.to_vec();
        out.push(proc_name(5, b"pipe:[77]"));
        out.push(proc_name(6, b"pipe:[77]"));
        call(&mut p, "pipe2", [0x1000, 0, 0, 0, 0, 0], &[], 0, &out);
        assert_eq!(name(&p, 6).as_deref(), Some("pipe:[77]"));
        // A socket: its inode under -y, its protocol under -yy.
        call(
            &mut p,
            "socket",
            [1, 1, 0, 0, 0, 0],
            &[],
            7,
            &[proc_name(7, b"socket:[9]")],
        );
        assert_eq!(name(&p, 7).as_deref(), Some("socket:[9]"));
        let full = p.fd_name(1, 7, true).map(|b| b.into_owned());
        assert_eq!(full.as_deref(), Some(&b"UNIX"[..]));
        // chdir through a link: the directory the kernel went to.
        let dir = [mem(0, mem_flags::STRING, b"/lib")];
        call(
            &mut p,
            "chdir",
            [0x1000, 0, 0, 0, 0, 0],
            &dir,
            0,
            &[proc_name(AT_FDCWD, b"/usr/lib")],
        );
        assert_eq!(p.cwd(1), b"/usr/lib");
    }

    /// `nr(path)` (its first argument) returned `ret`.
    fn on_path(p: &mut Procs, nr: &str, path: &[u8], ret: i64) {
        let m = [mem(0, mem_flags::STRING, path)];
        call(p, nr, [0x1000, 0, 0, 0, 0, 0], &m, ret, &[]);
    }

    fn open(p: &mut Procs, path: &[u8], fd: i64) {
        on_path(p, "open", path, fd);
    }

    /// `renameat2(AT_FDCWD, from, AT_FDCWD, to, flags)`, returning `ret`.
    fn rename(p: &mut Procs, from: &[u8], to: &[u8], flags: u64, ret: i64) {
        let fd = AT_FDCWD as u64;
        let m = [
            mem(1, mem_flags::STRING, from),
            mem(3, mem_flags::STRING, to),
        ];
        call(
            p,
            "renameat2",
            [fd, 0x1000, fd, 0x2000, flags, 0],
            &m,
            ret,
            &[],
        );
    }

    #[test]
    fn a_renamed_directory_moves_the_descriptors_and_working_directories_below_it() {
        let mut p = Procs::new(b"/t");
        open(&mut p, b"d/in/f", 3);
        open(&mut p, b"dd/f", 4);
        open(&mut p, b"d", 5);
        open(&mut p, b"e", 6);
        open(&mut p, b"d/u", 7);
        on_path(&mut p, "unlink", b"d/u", 0);
        on_path(&mut p, "chdir", b"d/in", 0);
        // A failed rename moves nothing.
        rename(&mut p, b"/t/d", b"/t/e", 0, -39);
        assert_eq!(name(&p, 3).as_deref(), Some("/t/d/in/f"));
        // Onto the empty directory `e`: replaced.
        rename(&mut p, b"/t/d", b"/t/e", 0, 0);
        assert_eq!(name(&p, 3).as_deref(), Some("/t/e/in/f"));
        assert_eq!(name(&p, 4).as_deref(), Some("/t/dd/f"));
        assert_eq!(name(&p, 5).as_deref(), Some("/t/e"));
        assert!(!p.fd_deleted(1, 5));
        assert_eq!(name(&p, 6).as_deref(), Some("/t/e"));
        assert!(p.fd_deleted(1, 6));
        assert_eq!(name(&p, 7).as_deref(), Some("/t/e/u"));
        assert!(p.fd_deleted(1, 7));
        assert_eq!(p.cwd(1), b"/t/e/in");
        assert_eq!(p.resolve(1, AT_FDCWD, b"x"), b"/t/e/in/x");
        // Relative to the moved directory's descriptor.
        assert_eq!(p.resolve(1, 5, b"in"), b"/t/e/in");
        // The moved file's path, opened again, is the same object; the old
        // one is a new file.
        open(&mut p, b"/t/e/in/f", 8);
        assert_eq!(p.fd(1, 8), p.fd(1, 3));
        open(&mut p, b"/t/d/in/f", 9);
        assert_ne!(p.fd(1, 9), p.fd(1, 3));
        // RENAME_EXCHANGE: the names swap, below them too, nothing goes.
        open(&mut p, b"/t/a/f", 10);
        open(&mut p, b"/t/b/f", 11);
        open(&mut p, b"/t/b", 12);
        open(&mut p, b"/t/a", 13);
        rename(&mut p, b"/t/a", b"/t/b", RENAME_EXCHANGE, 0);
        assert_eq!(name(&p, 10).as_deref(), Some("/t/b/f"));
        assert_eq!(name(&p, 11).as_deref(), Some("/t/a/f"));
        assert_eq!(name(&p, 12).as_deref(), Some("/t/a"));
        assert_eq!(name(&p, 13).as_deref(), Some("/t/b"));
        assert!((10..14).all(|fd| !p.fd_deleted(1, fd)));
        open(&mut p, b"/t/a/f", 14);
        assert_eq!(p.fd(1, 14), p.fd(1, 11));
        // A file written (no directory): renamed without a look below it.
        let m = [mem(0, mem_flags::STRING, b"/t/w.lock")];
        let flags = O_CREAT | fds::O_WRONLY;
        call(&mut p, "open", [0x1000, flags, 0o600, 0, 0, 0], &m, 15, &[]);
        let w = p.fd(1, 15).unwrap();
        assert!(p.plain.contains(&w));
        rename(&mut p, b"/t/w.lock", b"/t/w", 0, 0);
        assert_eq!(name(&p, 15).as_deref(), Some("/t/w"));
    }

    /// What `rec -yy` read at an exit (capture [`ARG_FD_DETAIL`]).
    fn detail(fd: i32, d: &[u8]) -> Mem<'_> {
        Mem {
            arg: ARG_FD_DETAIL,
            flags: mem_flags::AT_EXIT | mem_flags::STRING,
            addr: fd as u64,
            data: d,
            redacted: None,
        }
    }

    #[test]
    fn dash_yy_shows_rec_s_socket_names_and_device_numbers() {
        let mut p = Procs::new(b"/");
        let full = |p: &Procs, fd| {
            p.fd_name(1, fd, true)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        let dev = |p: &Procs, fd| p.fd_detail(1, fd).map(<[u8]>::to_vec);
        // A device: its path under -y and -yy, its numbers after it under -yy.
        call(
            &mut p,
            "open",
            [0x1000, 1, 0, 0, 0, 0],
            &[mem(0, mem_flags::STRING, b"/dev/null")],
            3,
            &[detail(3, b"char 1:3")],
        );
        assert_eq!(full(&p, 3).as_deref(), Some("/dev/null"));
        assert_eq!(dev(&p, 3).as_deref(), Some(&b"char 1:3"[..]));
        call(&mut p, "dup", [3, 0, 0, 0, 0, 0], &[], 4, &[]);
        assert_eq!(dev(&p, 4), dev(&p, 3), "a dup is the same device");
        // A server socket bound to a path; a client connects before the
        // server accepts: the client's peer has no inode yet.
        call(
            &mut p,
            "socket",
            [1, 1, 0, 0, 0, 0],
            &[],
            5,
            &[detail(5, b"UNIX-STREAM:[100]")],
        );
        let un = b"\x01\x00/run/s\0";
        call(
            &mut p,
            "bind",
            [5, 0x1000, 12, 0, 0, 0],
            &[mem(1, 0, un)],
            0,
            &[detail(5, b"UNIX-STREAM:[100,\"/run/s\"]")],
        );
        assert_eq!(full(&p, 5).as_deref(), Some("UNIX-STREAM:[100,\"/run/s\"]"));
        assert_eq!(
            name(&p, 5).as_deref(),
            Some("UNIX:[/run/s]"),
            "-y: the calls' name"
        );
        call(
            &mut p,
            "socket",
            [1, 1, 0, 0, 0, 0],
            &[],
            6,
            &[detail(6, b"UNIX-STREAM:[101]")],
        );
        call(
            &mut p,
            "connect",
            [6, 0x1000, 12, 0, 0, 0],
            &[mem(1, 0, un)],
            0,
            &[detail(6, b"UNIX-STREAM:[101]")],
        );
        // The accepted socket names the client: the client gets its peer.
        call(
            &mut p,
            "accept",
            [5, 0, 0, 0, 0, 0],
            &[],
            7,
            &[detail(7, b"UNIX-STREAM:[102->101,\"/run/s\"]")],
        );
        assert_eq!(
            full(&p, 7).as_deref(),
            Some("UNIX-STREAM:[102->101,\"/run/s\"]")
        );
        assert_eq!(full(&p, 6).as_deref(), Some("UNIX-STREAM:[101->102]"));
        // A socket's name is not a detail after a path.
        assert_eq!(dev(&p, 6), None);
    }

    #[test]
    fn dash_y_names_sockets_by_protocol_and_address_and_anonymous_fds_as_proc_does() {
        let mut p = Procs::new(b"/");
        call(&mut p, "socket", [2, 1, 0, 0, 0, 0], &[], 4, &[]);
        assert_eq!(name(&p, 4).as_deref(), Some("TCP"));
        let sa = [2u8, 0, 0x13, 0x88, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        // A non-blocking connect (EINPROGRESS) names the peer too.
        call(
            &mut p,
            "connect",
            [4, 0x1000, 16, 0, 0, 0],
            &[mem(1, 0, &sa)],
            -115,
            &[],
        );
        assert_eq!(name(&p, 4).as_deref(), Some("TCP:[->127.0.0.1:5000]"));
        // A dup is the same socket.
        call(&mut p, "dup", [4, 0, 0, 0, 0, 0], &[], 6, &[]);
        assert_eq!(name(&p, 6), name(&p, 4));
        call(&mut p, "socket", [10, 2, 0, 0, 0, 0], &[], 5, &[]);
        let mut sa6 = [0u8; 28];
        sa6[0] = 10;
        sa6[2..4].copy_from_slice(&53u16.to_be_bytes());
        sa6[23] = 1;
        call(
            &mut p,
            "bind",
            [5, 0x1000, 28, 0, 0, 0],
            &[mem(1, 0, &sa6)],
            0,
            &[],
        );
        assert_eq!(name(&p, 5).as_deref(), Some("UDPv6:[[::1]:53]"));
        // accept: the listener's protocol and the peer it returned.
        let un = b"\x01\x00/run/s\0";
        call(&mut p, "socket", [1, 1, 0, 0, 0, 0], &[], 7, &[]);
        call(
            &mut p,
            "accept4",
            [7, 0x1000, 0x2000, 0, 0, 0],
            &[],
            8,
            &[mem(1, mem_flags::AT_EXIT, un)],
        );
        assert_eq!(name(&p, 8).as_deref(), Some("UNIX:[->/run/s]"));
        for (nr, args, want) in [
            (
                "eventfd2",
                [0, O_CLOEXEC, 0, 0, 0, 0],
                "anon_inode:[eventfd]",
            ),
            ("epoll_create1", [0; 6], "anon_inode:[eventpoll]"),
            ("timerfd_create", [1, 0, 0, 0, 0, 0], "anon_inode:[timerfd]"),
            (
                "signalfd4",
                [u64::MAX, 0, 8, 0, 0, 0],
                "anon_inode:[signalfd]",
            ),
            ("inotify_init1", [0; 6], "anon_inode:inotify"),
            ("pidfd_open", [9, 0, 0, 0, 0, 0], "anon_inode:[pidfd]"),
        ] {
            call(&mut p, nr, args, &[], 10, &[]);
            assert_eq!(name(&p, 10).as_deref(), Some(want), "{nr}");
        }
        call(
            &mut p,
            "memfd_create",
            [0x1000, 1, 0, 0, 0, 0],
            &[mem(0, mem_flags::STRING, b"jit")],
            11,
            &[],
        );
        assert_eq!(name(&p, 11).as_deref(), Some("/memfd:jit (deleted)"));
        // socketpair's two ends; a failed call changes nothing.
        let pair = [12i32.to_le_bytes(), 13i32.to_le_bytes()].concat();
        call(
            &mut p,
            "socketpair",
            [1, 1, 0, 0x2000, 0, 0],
            &[],
            0,
            &[mem(3, mem_flags::AT_EXIT, &pair)],
        );
        assert_eq!(name(&p, 13).as_deref(), Some("UNIX"));
        call(&mut p, "close", [13, 0, 0, 0, 0, 0], &[], -9, &[]);
        assert_eq!(name(&p, 13).as_deref(), Some("UNIX"));
        // Descriptors from before the recording have no name.
        assert_eq!(name(&p, 0), None);
    }

    #[test]
    fn dup2_to_itself_keeps_close_on_exec_and_an_interrupted_close_releases() {
        let mut p = Procs::new(b"/w");
        let path = [mem(1, mem_flags::STRING, b"f")];
        let at = [AT_FDCWD as u64, 0x1000, O_CLOEXEC, 0, 0, 0];
        call(&mut p, "openat", at, &path, 3, &[]);
        call(&mut p, "openat", at, &path, 4, &[]);
        call(&mut p, "dup2", [3, 3, 0, 0, 0, 0], &[], 3, &[]);
        // close(4) = -1 EINTR: released all the same.
        call(&mut p, "close", [4, 0, 0, 0, 0, 0], &[], -4, &[]);
        assert_eq!(name(&p, 4), None);
        // A descriptor of a kind the analyzer has no op of its own for.
        call(
            &mut p,
            "perf_event_open",
            [0x1000, 0, 0, 0, 0, 0],
            &[],
            5,
            &[],
        );
        assert_eq!(name(&p, 5).as_deref(), Some("anon_inode:[perf_event]"));
        p.apply(&op(
            1,
            0,
            OpKind::Exec {
                former_tid: 1,
                filename: b"/bin/x".to_vec(),
                argv: vec![],
            },
        ));
        assert_eq!(name(&p, 3), None, "still close-on-exec");
        assert_eq!(name(&p, 5).as_deref(), Some("anon_inode:[perf_event]"));
    }

    #[test]
    fn fcntl_dupfd_f_setfd_dup3_and_close_range_follow_the_kernel() {
        let mut p = Procs::new(b"/w");
        let path = [mem(1, mem_flags::STRING, b"f")];
        call(
            &mut p,
            "openat",
            [AT_FDCWD as u64, 0x1000, 0, 0, 0, 0],
            &path,
            3,
            &[],
        );
        call(
            &mut p,
            "fcntl",
            [3, F_DUPFD_CLOEXEC, 10, 0, 0, 0],
            &[],
            10,
            &[],
        );
        call(&mut p, "fcntl", [3, F_DUPFD, 20, 0, 0, 0], &[], 20, &[]);
        call(
            &mut p,
            "fcntl",
            [20, F_SETFD, FD_CLOEXEC, 0, 0, 0],
            &[],
            0,
            &[],
        );
        call(&mut p, "dup3", [3, 30, O_CLOEXEC, 0, 0, 0], &[], 30, &[]);
        call(&mut p, "dup2", [3, 31, 0, 0, 0, 0], &[], 31, &[]);
        assert_eq!(name(&p, 10).as_deref(), Some("/w/f"));
        call(
            &mut p,
            "close_range",
            [3, 3, CLOSE_RANGE_CLOEXEC, 0, 0, 0],
            &[],
            0,
            &[],
        );
        assert_eq!(name(&p, 3).as_deref(), Some("/w/f"), "only marked");
        p.apply(&op(
            1,
            0,
            OpKind::Exec {
                former_tid: 1,
                filename: b"/bin/x".to_vec(),
                argv: vec![],
            },
        ));
        for (fd, open) in [
            (3, false),
            (10, false),
            (20, false),
            (30, false),
            (31, true),
        ] {
            assert_eq!(name(&p, fd).is_some(), open, "fd {fd}");
        }
        call(
            &mut p,
            "close_range",
            [0, u32::MAX as u64, 0, 0, 0, 0],
            &[],
            0,
            &[],
        );
        assert_eq!(name(&p, 31), None);
        // fchdir to an opened directory; AT_FDCWD names the cwd.
        let d = [mem(0, mem_flags::STRING, b"/srv/d")];
        call(&mut p, "open", [0x1000, 0o200000, 0, 0, 0, 0], &d, 4, &[]);
        call(&mut p, "fchdir", [4, 0, 0, 0, 0, 0], &[], 0, &[]);
        assert_eq!(
            p.fd_name(1, AT_FDCWD, false).as_deref(),
            Some(&b"/srv/d"[..])
        );
    }
}
