//! What each descriptor of each process refers to, followed record by
//! record, for the `buffers=KIND` and `buffers=GLOB` rules: opens give a
//! file (or a tty, by its path), socket/accept a socket, pipe a pipe, dup
//! copies, close forgets, exec drops the close-on-exec ones; a fork copies
//! its parent's table, a CLONE_FILES clone shares it. What each call does
//! to the table is [`ptrec_abi::fds`]'s, the tables are kept by
//! [`ptrec_abi::fdtable`]; this says what their descriptors are. A
//! descriptor the trace never shows being made (inherited from before the
//! recording) is [`FdKind::Unknown`], unless the recorder said what it was
//! ([`FdTable::seed`], or an attached process's open-fd records).

use rustc_hash::FxHashMap;

use ptrec_abi::fds::{self as abi, FdOp, What};
use ptrec_abi::fdtable::{Table, TableId, Tables};
use ptrec_abi::Arch;
use ptrec_format::{Captures, Tid};

use crate::policy::FdKind;

/// What one descriptor refers to (its close-on-exec flag is the table's,
/// [`ptrec_abi::fdtable::Slot`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fd {
    pub kind: FdKind,
    /// The path it was opened by (files and ttys).
    pub path: Option<Vec<u8>>,
}

/// What a descriptor the trace did not show being made is.
const UNKNOWN: Fd = Fd {
    kind: FdKind::Unknown,
    path: None,
};

/// Per process descriptor tables.
#[derive(Default, Debug)]
pub struct FdTable {
    /// No origins: a descriptor from before the recording is simply not
    /// known ([`FdKind::Unknown`]).
    tables: Tables<Fd>,
    /// Per thread, the open it is in: the syscall number, the path and
    /// flags its entry captured (the rewriter keeps no copy of an entry's
    /// captures; the buffers are reused).
    opens: FxHashMap<Tid, Open>,
}

#[derive(Default, Debug)]
struct Open {
    nr: Option<u32>,
    path: Option<Vec<u8>>,
    flags: u64,
}

/// The kind a path names, by its name alone.
pub fn path_kind(path: &[u8]) -> FdKind {
    let tty = path == b"/dev/tty"
        || path == b"/dev/console"
        || path == b"/dev/ptmx"
        || path.starts_with(b"/dev/pts/")
        || (path.starts_with(b"/dev/tty") && path.len() > 8);
    if tty {
        FdKind::Tty
    } else {
        FdKind::File
    }
}

/// The kind of a `/proc/PID/fd/N` link target.
pub fn link_kind(target: &[u8]) -> FdKind {
    if target.starts_with(b"socket:") {
        FdKind::Socket
    } else if target.starts_with(b"pipe:") {
        FdKind::Pipe
    } else if target.starts_with(b"/") {
        path_kind(target)
    } else {
        FdKind::Other
    }
}

/// The kind of what a call made.
fn what_kind(w: What<'_>) -> FdKind {
    match w {
        What::File => FdKind::File,
        What::Socket { .. } => FdKind::Socket,
        What::Pipe => FdKind::Pipe,
        _ => FdKind::Other,
    }
}

impl FdTable {
    /// `tid`'s table, an empty one of its own if the trace has not shown
    /// where it came from.
    fn id(&mut self, tid: Tid) -> TableId {
        match self.tables.thread(tid) {
            Some(t) => t.table,
            None => self.tables.root(tid, (), false).table,
        }
    }

    fn table(&mut self, tid: Tid) -> &mut Table<Fd> {
        let id = self.id(tid);
        self.tables.table_mut(id)
    }

    /// What `fd` of `tid` refers to.
    pub fn get(&self, tid: Tid, fd: i32) -> Option<&Fd> {
        self.tables.of(tid)?.open(fd)
    }

    /// Records what `fd` of `tid` is, as the recorder saw it (`rec`'s own
    /// stdin/stdout/stderr for the command it starts, an attached process's
    /// open descriptors).
    pub fn seed(&mut self, tid: Tid, fd: i32, kind: FdKind, path: Option<Vec<u8>>) {
        self.seed_flags(tid, fd, kind, path, false);
    }

    /// [`FdTable::seed`], close-on-exec when `cloexec` (an open-fd
    /// record's flags say so).
    pub fn seed_flags(
        &mut self,
        tid: Tid,
        fd: i32,
        kind: FdKind,
        path: Option<Vec<u8>>,
        cloexec: bool,
    ) {
        self.table(tid).insert(fd, Fd { kind, path }, cloexec);
    }

    /// A new task: a CLONE_FILES child shares the table; any other gets a
    /// copy ([`abi::clone_shares_table`]).
    pub fn new_child(&mut self, parent: Tid, child: Tid, flags: u64) {
        self.id(parent);
        self.tables
            .new_child(parent, child, abi::clone_shares_table(flags), ());
    }

    /// A successful exec by `former`, now `tid` (the thread group
    /// leader): the table is unshared (a CLONE_FILES sibling keeps the
    /// old one) and loses its close-on-exec descriptors.
    pub fn exec(&mut self, tid: Tid, former: Tid) {
        self.id(former);
        self.tables.exec(tid, former);
    }

    /// `tid` was reaped: its table goes with its last thread.
    pub fn exit(&mut self, tid: Tid) {
        self.tables.exit(tid);
        self.opens.remove(&tid);
    }

    /// At a syscall's entry: keeps an open's path and flags for its exit.
    pub fn syscall_enter(
        &mut self,
        arch: Arch,
        tid: Tid,
        nr: u64,
        args: &[u64; 6],
        enter_mem: &Captures<'_>,
    ) {
        let Ok(nr) = u32::try_from(nr) else {
            return;
        };
        // Only an open's exit reads what is kept, and each open's entry
        // replaces it: the other calls leave it alone.
        if let Some(FdOp::Open { path, flags, .. }) =
            abi::call(arch, nr, args, enter_mem, &Captures::default())
        {
            let o = self.opens.entry(tid).or_default();
            o.nr = Some(nr);
            o.flags = flags;
            match (path, &mut o.path) {
                (Some(p), Some(v)) => {
                    v.clear();
                    v.extend_from_slice(p);
                }
                (p, v) => *v = p.map(<[u8]>::to_vec),
            }
        }
    }

    /// A syscall's effect on the table, at its exit ([`abi::effect`]):
    /// `args` as at its entry, `exit_mem` the exit's captures.
    pub fn syscall_exit(
        &mut self,
        arch: Arch,
        tid: Tid,
        nr: u64,
        args: &[u64; 6],
        ret: i64,
        exit_mem: &Captures<'_>,
    ) {
        let Ok(nr) = u32::try_from(nr) else {
            return;
        };
        let none = Captures::default();
        let Some(op) = abi::effect(arch, nr, args, Some(ret), &none, exit_mem) else {
            return;
        };
        let fd = ret as i32;
        let cloexec = op.cloexec();
        match op {
            FdOp::Open { .. } => {
                let (path, flags) = match self.opens.get(&tid) {
                    Some(o) if o.nr == Some(nr) => (o.path.clone(), o.flags),
                    _ => (None, 0),
                };
                let kind = path.as_deref().map_or(FdKind::File, path_kind);
                // A relative path is kept as given: globs without a slash
                // match it by its file name.
                let cloexec = flags & abi::O_CLOEXEC != 0;
                self.seed_flags(tid, fd, kind, path, cloexec);
            }
            FdOp::New { what, .. } => self.seed_flags(tid, fd, what_kind(what), None, cloexec),
            FdOp::Accept { .. } => self.seed_flags(tid, fd, FdKind::Socket, None, cloexec),
            FdOp::Pair { fds, what, .. } => {
                for f in fds {
                    self.seed_flags(tid, f, what_kind(what), None, cloexec);
                }
            }
            FdOp::Dup { old, new, .. } => {
                let to = new.unwrap_or(fd);
                self.table(tid).dup(old, to, cloexec, |_, _| UNKNOWN);
            }
            FdOp::Close { fd } => self.table(tid).close(fd),
            FdOp::CloseRange {
                first,
                last,
                cloexec,
                unshare,
            } => {
                if unshare {
                    self.id(tid);
                    self.tables.unshare(tid);
                }
                self.table(tid).close_range(first, last, cloexec);
            }
            FdOp::SetCloexec { fd, on } => self.table(tid).set_cloexec(fd, on, |_, _| UNKNOWN),
        }
    }
}

#[cfg(test)]
mod tests {
    use ptrec_abi::Sysno;
    use ptrec_format::{mem_flags, Mem};

    use super::*;

    const CLONE_THREAD: u64 = 0x10000;
    const O_CLOEXEC: u64 = abi::O_CLOEXEC;

    /// `sys(args) = ret` by `tid`; `path` the path its entry captured (as
    /// openat's argument 1).
    fn call(t: &mut FdTable, tid: Tid, sys: Sysno, args: [u64; 6], ret: i64, path: Option<&[u8]>) {
        let caps: Vec<Mem<'_>> = path
            .map(|p| Mem {
                arg: 1,
                flags: mem_flags::STRING,
                addr: 0x1000,
                data: p,
                redacted: None,
            })
            .into_iter()
            .collect();
        let nr = sys as u64;
        t.syscall_enter(Arch::X86_64, tid, nr, &args, &Captures::Slice(&caps));
        t.syscall_exit(Arch::X86_64, tid, nr, &args, ret, &Captures::default());
    }

    fn kind(t: &FdTable, tid: Tid, fd: i32) -> Option<FdKind> {
        t.get(tid, fd).map(|f| f.kind)
    }

    #[test]
    fn opens_dups_closes_and_forks_are_followed() {
        let mut t = FdTable::default();
        call(&mut t, 10, Sysno::openat, [0; 6], 3, Some(b"/etc/hosts"));
        call(&mut t, 10, Sysno::openat, [0; 6], 4, Some(b"/dev/pts/1"));
        call(&mut t, 10, Sysno::socket, [0; 6], 5, None);
        call(&mut t, 10, Sysno::dup2, [5, 1, 0, 0, 0, 0], 1, None);
        assert_eq!(kind(&t, 10, 3), Some(FdKind::File));
        assert_eq!(kind(&t, 10, 4), Some(FdKind::Tty));
        assert_eq!(kind(&t, 10, 1), Some(FdKind::Socket));
        t.new_child(10, 11, 0);
        t.new_child(10, 12, CLONE_THREAD | abi::CLONE_FILES);
        call(&mut t, 10, Sysno::close, [3, 0, 0, 0, 0, 0], 0, None);
        // The fork kept its copy; the thread shares the closing table.
        assert_eq!(
            t.get(11, 3).and_then(|f| f.path.clone()),
            Some(b"/etc/hosts".to_vec())
        );
        assert_eq!(t.get(12, 3), None);
        // Failed calls change nothing; a close that fails with EINTR
        // released the descriptor all the same.
        call(&mut t, 11, Sysno::close, [3, 0, 0, 0, 0, 0], -9, None);
        assert!(t.get(11, 3).is_some());
        call(&mut t, 11, Sysno::dup2, [3, 7, 0, 0, 0, 0], -24, None);
        assert_eq!(t.get(11, 7), None);
        call(&mut t, 11, Sysno::close, [3, 0, 0, 0, 0, 0], -4, None);
        assert_eq!(t.get(11, 3), None);
        assert_eq!(t.get(10, 9), None);
    }

    #[test]
    fn close_on_exec_descriptors_are_dropped_at_exec() {
        let mut t = FdTable::default();
        let at = |flags: u64| [0, 0x1000, flags, 0, 0, 0];
        // openat(O_CLOEXEC) = 3, openat() = 4, dup3(4, 5, O_CLOEXEC),
        // fcntl(4, F_DUPFD_CLOEXEC) = 6, socket(SOCK_CLOEXEC) = 7, pipe2's
        // pair 8 and 9 without it, then fcntl(9, F_SETFD, FD_CLOEXEC), and
        // dup2(3, 10): a dup is not close-on-exec.
        call(&mut t, 10, Sysno::openat, at(O_CLOEXEC), 3, Some(b"/a"));
        call(&mut t, 10, Sysno::openat, at(0), 4, Some(b"/b"));
        call(&mut t, 10, Sysno::dup3, [4, 5, O_CLOEXEC, 0, 0, 0], 5, None);
        call(&mut t, 10, Sysno::fcntl, [4, 1030, 0, 0, 0, 0], 6, None);
        call(
            &mut t,
            10,
            Sysno::socket,
            [2, 1 | O_CLOEXEC, 0, 0, 0, 0],
            7,
            None,
        );
        let pair = [8i32.to_le_bytes(), 9i32.to_le_bytes()].concat();
        let out = [Mem {
            arg: 0,
            flags: mem_flags::AT_EXIT,
            addr: 0x2000,
            data: &pair,
            redacted: None,
        }];
        let args = [0x2000, 0, 0, 0, 0, 0];
        t.syscall_exit(
            Arch::X86_64,
            10,
            Sysno::pipe2 as u64,
            &args,
            0,
            &Captures::Slice(&out),
        );
        call(&mut t, 10, Sysno::fcntl, [9, 2, 1, 0, 0, 0], 0, None);
        call(&mut t, 10, Sysno::dup2, [3, 10, 0, 0, 0, 0], 10, None);
        // close_range(CLOSE_RANGE_CLOEXEC) marks, does not close.
        t.seed(10, 11, FdKind::Tty, None);
        call(
            &mut t,
            10,
            Sysno::close_range,
            [11, 11, 4, 0, 0, 0],
            0,
            None,
        );
        assert_eq!(kind(&t, 10, 11), Some(FdKind::Tty));
        // A CLONE_FILES sibling shares the table until the exec.
        t.new_child(10, 20, abi::CLONE_FILES);
        t.exec(10, 10);
        for (fd, open) in [
            (3, false),
            (4, true),
            (5, false),
            (6, false),
            (7, false),
            (8, true),
            (9, false),
            (10, true),
            (11, false),
        ] {
            assert_eq!(t.get(10, fd).is_some(), open, "fd {fd}");
            // The sibling's table is no longer the exec'd one.
            assert!(t.get(20, fd).is_some(), "sibling fd {fd}");
        }
        // An exec from a thread: the leader takes over its table.
        t.new_child(10, 13, CLONE_THREAD | abi::CLONE_FILES);
        call(&mut t, 13, Sysno::openat, at(O_CLOEXEC), 12, Some(b"/c"));
        t.exec(10, 13);
        assert_eq!(t.get(10, 12), None);
        assert_eq!(kind(&t, 10, 4), Some(FdKind::File));
    }

    #[test]
    fn close_range_unshare_spares_a_clone_files_sibling_and_death_frees_the_table() {
        let mut t = FdTable::default();
        call(&mut t, 10, Sysno::openat, [0; 6], 3, Some(b"/a"));
        t.new_child(10, 11, abi::CLONE_FILES);
        // close_range(0, ~0, CLOSE_RANGE_UNSHARE) by the clone.
        let all = [0, u32::MAX as u64, abi::CLOSE_RANGE_UNSHARE, 0, 0, 0];
        call(&mut t, 11, Sysno::close_range, all, 0, None);
        assert_eq!(t.get(11, 3), None);
        assert_eq!(kind(&t, 10, 3), Some(FdKind::File));
        assert_eq!(t.tables.live(), 2);
        t.exit(10);
        t.exit(11);
        assert_eq!(t.get(10, 3), None);
        assert_eq!(t.tables.live(), 0, "no table outlives its threads");
    }

    #[test]
    fn proc_link_targets_have_kinds() {
        assert_eq!(link_kind(b"socket:[123]"), FdKind::Socket);
        assert_eq!(link_kind(b"pipe:[9]"), FdKind::Pipe);
        assert_eq!(link_kind(b"/dev/pts/3"), FdKind::Tty);
        assert_eq!(link_kind(b"/tmp/x"), FdKind::File);
        assert_eq!(link_kind(b"anon_inode:[eventfd]"), FdKind::Other);
    }
}
