//! What each descriptor of each process refers to, followed record by
//! record, for the `buffers=KIND` and `buffers=GLOB` rules: opens give a
//! file (or a tty, by its path), socket/accept a socket, pipe a pipe, dup
//! copies, close forgets; a fork copies its parent's table, a thread shares
//! it. A descriptor the trace never shows being made (inherited from before
//! the recording) is [`FdKind::Unknown`], unless the recorder said what it
//! was ([`FdTable::seed`], or an attached process's open-fd records).

use rustc_hash::FxHashMap;
use syscalls::x86_64::Sysno;

use ptrec_format::{Captures, Mem, Tid};

use crate::policy::FdKind;

/// One descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fd {
    pub kind: FdKind,
    /// The path it was opened by (files and ttys).
    pub path: Option<Vec<u8>>,
}

/// `CLONE_THREAD`, `CLONE_FILES`.
const CLONE_THREAD: u64 = 0x10000;
const CLONE_FILES: u64 = 0x400;
const F_DUPFD: u64 = 0;
const F_DUPFD_CLOEXEC: u64 = 1030;

/// Per process descriptor tables.
#[derive(Default, Debug)]
pub struct FdTable {
    /// Table id of each thread.
    table_of: FxHashMap<Tid, Tid>,
    tables: FxHashMap<Tid, FxHashMap<i32, Fd>>,
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

fn is(nr: u64, s: Sysno) -> bool {
    nr == s as u64
}

/// The two descriptors of a pipe/socketpair result capture.
fn fd_pair(m: &Mem<'_>) -> Option<[i32; 2]> {
    let d = m.data.get(..8)?;
    Some([
        i32::from_le_bytes([d[0], d[1], d[2], d[3]]),
        i32::from_le_bytes([d[4], d[5], d[6], d[7]]),
    ])
}

impl FdTable {
    fn table(&mut self, tid: Tid) -> &mut FxHashMap<i32, Fd> {
        let id = *self.table_of.entry(tid).or_insert(tid);
        self.tables.entry(id).or_default()
    }

    /// What `fd` of `tid` refers to.
    pub fn get(&self, tid: Tid, fd: i32) -> Option<&Fd> {
        let id = self.table_of.get(&tid).copied().unwrap_or(tid);
        self.tables.get(&id)?.get(&fd)
    }

    /// Records what `fd` of `tid` is, as the recorder saw it (`rec`'s own
    /// stdin/stdout/stderr for the command it starts, an attached process's
    /// open descriptors).
    pub fn seed(&mut self, tid: Tid, fd: i32, kind: FdKind, path: Option<Vec<u8>>) {
        self.table(tid).insert(fd, Fd { kind, path });
    }

    /// A new task: a thread, or a CLONE_FILES child, shares the table; a
    /// process gets a copy.
    pub fn new_child(&mut self, parent: Tid, child: Tid, flags: u64) {
        let id = *self.table_of.entry(parent).or_insert(parent);
        if flags & (CLONE_THREAD | CLONE_FILES) != 0 {
            self.table_of.insert(child, id);
        } else {
            let copy = self.tables.get(&id).cloned().unwrap_or_default();
            self.table_of.insert(child, child);
            self.tables.insert(child, copy);
        }
    }

    /// After exec the thread group leader holds the table of the thread that
    /// called execve.
    pub fn exec(&mut self, tid: Tid, former: Tid) {
        if tid != former {
            if let Some(&id) = self.table_of.get(&former) {
                self.table_of.insert(tid, id);
            }
        }
    }

    /// A syscall's effect on the table, at its exit: `args` and the entry's
    /// `path` (the path argument of an open), `exit_mem` the exit captures.
    pub fn syscall_exit(
        &mut self,
        tid: Tid,
        nr: u64,
        args: &[u64; 6],
        ret: i64,
        path: Option<&[u8]>,
        exit_mem: &Captures<'_>,
    ) {
        if ret < 0 {
            return;
        }
        let fd = ret as i32;
        let arg_fd = |i: usize| args[i] as i32;
        if is(nr, Sysno::open)
            || is(nr, Sysno::openat)
            || is(nr, Sysno::creat)
            || is(nr, Sysno::openat2)
        {
            let kind = path.map_or(FdKind::File, path_kind);
            // A relative path is kept as given: globs without a slash
            // match it by its file name.
            self.seed(tid, fd, kind, path.map(<[u8]>::to_vec));
        } else if is(nr, Sysno::socket) || is(nr, Sysno::accept) || is(nr, Sysno::accept4) {
            self.seed(tid, fd, FdKind::Socket, None);
        } else if is(nr, Sysno::pipe) || is(nr, Sysno::pipe2) || is(nr, Sysno::socketpair) {
            let kind = if is(nr, Sysno::socketpair) {
                FdKind::Socket
            } else {
                FdKind::Pipe
            };
            let want = if is(nr, Sysno::socketpair) { 3 } else { 0 };
            if let Some(pair) = exit_mem
                .iter()
                .find(|m| m.arg == want)
                .as_ref()
                .and_then(fd_pair)
            {
                for f in pair {
                    self.seed(tid, f, kind, None);
                }
            }
        } else if is(nr, Sysno::dup)
            || (is(nr, Sysno::fcntl) && (args[1] == F_DUPFD || args[1] == F_DUPFD_CLOEXEC))
        {
            self.copy(tid, arg_fd(0), fd);
        } else if is(nr, Sysno::dup2) || is(nr, Sysno::dup3) {
            self.copy(tid, arg_fd(0), arg_fd(1));
        } else if is(nr, Sysno::close) {
            self.table(tid).remove(&arg_fd(0));
        } else if is(nr, Sysno::close_range) {
            let (lo, hi) = (args[0] as u32, args[1] as u32);
            self.table(tid)
                .retain(|&f, _| (f as u32) < lo || (f as u32) > hi);
        } else if is(nr, Sysno::eventfd)
            || is(nr, Sysno::eventfd2)
            || is(nr, Sysno::timerfd_create)
            || is(nr, Sysno::signalfd)
            || is(nr, Sysno::signalfd4)
            || is(nr, Sysno::epoll_create)
            || is(nr, Sysno::epoll_create1)
            || is(nr, Sysno::inotify_init)
            || is(nr, Sysno::inotify_init1)
            || is(nr, Sysno::memfd_create)
            || is(nr, Sysno::pidfd_open)
            || is(nr, Sysno::perf_event_open)
        {
            self.seed(tid, fd, FdKind::Other, None);
        }
    }

    fn copy(&mut self, tid: Tid, from: i32, to: i32) {
        if from == to {
            return;
        }
        let t = self.table(tid);
        match t.get(&from).cloned() {
            Some(f) => {
                t.insert(to, f);
            }
            None => {
                t.remove(&to);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(t: &mut FdTable, tid: Tid, nr: Sysno, args: [u64; 6], ret: i64, path: Option<&[u8]>) {
        t.syscall_exit(tid, nr as u64, &args, ret, path, &Captures::default());
    }

    #[test]
    fn opens_dups_closes_and_forks_are_followed() {
        let mut t = FdTable::default();
        exit(&mut t, 10, Sysno::openat, [0; 6], 3, Some(b"/etc/hosts"));
        exit(&mut t, 10, Sysno::openat, [0; 6], 4, Some(b"/dev/pts/1"));
        exit(&mut t, 10, Sysno::socket, [0; 6], 5, None);
        exit(&mut t, 10, Sysno::dup2, [5, 1, 0, 0, 0, 0], 1, None);
        assert_eq!(t.get(10, 3).map(|f| f.kind), Some(FdKind::File));
        assert_eq!(t.get(10, 4).map(|f| f.kind), Some(FdKind::Tty));
        assert_eq!(t.get(10, 1).map(|f| f.kind), Some(FdKind::Socket));
        t.new_child(10, 11, 0);
        t.new_child(10, 12, CLONE_THREAD);
        exit(&mut t, 10, Sysno::close, [3, 0, 0, 0, 0, 0], 0, None);
        // The fork kept its copy; the thread shares the closing table.
        assert_eq!(
            t.get(11, 3).and_then(|f| f.path.clone()),
            Some(b"/etc/hosts".to_vec())
        );
        assert_eq!(t.get(12, 3), None);
        // Failed calls change nothing.
        exit(&mut t, 11, Sysno::close, [3, 0, 0, 0, 0, 0], -9, None);
        assert!(t.get(11, 3).is_some());
        assert_eq!(t.get(10, 9), None);
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
