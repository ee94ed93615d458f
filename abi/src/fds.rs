//! What a syscall does to the calling process's descriptor table: one
//! description for every reader that follows descriptors (the redaction
//! rewriter in `rec --redact` and `analyze redact`, the analyzer's
//! per-process state); the tables themselves, their sharing and copying
//! at clone and exec, are [`crate::fdtable`]'s.
//!
//! [`call`] classifies a call from its registers and captures (what it
//! asks of the table, whatever it returned: a view shows a failed open
//! too); [`effect`] is what it did, given its return value (nothing when
//! it failed, see [`FdOp::took_effect`]). [`clone_shares_table`] and
//! [`FdOp::cloexec`] / [`FdOp::SetCloexec`] give the rest of a table's
//! life: a clone shares or copies it, a successful exec drops every
//! close-on-exec descriptor.
//!
//! ```
//! use ptrec_abi::fds::{effect, FdOp};
//! use ptrec_abi::{Arch, Sysno};
//! use ptrec_format::Captures;
//! let none = Captures::default();
//! // dup3(3, 7, O_CLOEXEC) = 7
//! let op = effect(Arch::X86_64, Sysno::dup3 as u32, &[3, 7, 0o2000000, 0, 0, 0], Some(7), &none, &none);
//! assert_eq!(op, Some(FdOp::Dup { old: 3, new: Some(7), cloexec: true }));
//! ```

use ptrec_format::{mem_flags, Captures};

use crate::capture::{Arg, MadeFds};
use crate::decode::is_error;
use crate::{Arch, Sysno};

/// `AT_FDCWD`: a path relative to the working directory.
pub const AT_FDCWD: i32 = -100;
/// open(2)'s access mode bits and the flags that matter here (the same
/// on every architecture this crate knows: asm-generic's values).
pub const O_ACCMODE: u64 = 3;
pub const O_WRONLY: u64 = 1;
pub const O_CREAT: u64 = 0o100;
pub const O_TRUNC: u64 = 0o1000;
/// O_CLOEXEC; also SOCK_CLOEXEC, EFD_CLOEXEC, TFD_CLOEXEC, SFD_CLOEXEC,
/// EPOLL_CLOEXEC, IN_CLOEXEC, OPEN_TREE_CLOEXEC and dup3's flag, which
/// the kernel defines as it.
pub const O_CLOEXEC: u64 = 0o2000000;
/// fcntl(2) commands.
pub const F_DUPFD: u32 = 0;
pub const F_SETFD: u32 = 2;
pub const F_DUPFD_CLOEXEC: u32 = 1030;
/// F_SETFD's flag.
pub const FD_CLOEXEC: u64 = 1;
/// close_range(2)'s flags: unshare the table first; mark, do not close.
pub const CLOSE_RANGE_UNSHARE: u64 = 2;
pub const CLOSE_RANGE_CLOEXEC: u64 = 4;
/// memfd_create(2)'s flag (also FAN_CLOEXEC, FSOPEN_CLOEXEC,
/// FSMOUNT_CLOEXEC, FSPICK_CLOEXEC: 1).
pub const MFD_CLOEXEC: u64 = 1;
/// perf_event_open(2)'s flag.
pub const PERF_FLAG_FD_CLOEXEC: u64 = 8;
/// clone(2)'s flag that shares the descriptor table.
pub const CLONE_FILES: u64 = 0x400;
/// The errno of a descriptor that was not open.
pub const EBADF: i64 = 9;

/// What a descriptor a call made refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What<'a> {
    /// A file the arguments do not name by path (open_by_handle_at,
    /// open_tree).
    File,
    /// socket(2), socketpair(2): the `domain` and `type` arguments (with
    /// their flag bits).
    Socket {
        domain: u64,
        ty: u64,
    },
    Pipe,
    Eventfd,
    Epoll,
    Timerfd,
    Signalfd,
    Inotify,
    Fanotify,
    /// memfd_create: its name argument, as captured at entry.
    Memfd {
        name: Option<&'a [u8]>,
    },
    MemfdSecret,
    Pidfd,
    PerfEvent,
    Userfaultfd,
    IoUring,
    /// fsopen, fspick: a filesystem context.
    FsContext,
    /// fsmount: a mount.
    Mount,
}

/// A call's effect on the descriptor table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdOp<'a> {
    /// open, openat, openat2, creat: the new descriptor (the return value)
    /// refers to `path` (relative to `dirfd`; `None` when the entry's
    /// captures do not hold it), opened with `flags` (creat's are
    /// O_CREAT|O_WRONLY|O_TRUNC, openat2's from its open_how).
    Open {
        dirfd: i32,
        path: Option<&'a [u8]>,
        flags: u64,
    },
    /// A new descriptor (the return value) of a new object.
    New {
        what: What<'a>,
        cloexec: bool,
    },
    /// pipe, pipe2, socketpair: two descriptors (as captured at the exit)
    /// of one new object.
    Pair {
        fds: [i32; 2],
        what: What<'a>,
        cloexec: bool,
    },
    /// accept, accept4: a new socket (the return value) of the listener's
    /// kind.
    Accept {
        listener: i32,
        cloexec: bool,
    },
    /// dup, dup2, dup3, fcntl(F_DUPFD, F_DUPFD_CLOEXEC): `new` refers to
    /// what `old` does; `new` is `None` for the lowest free number (the
    /// return value). dup2(fd, fd) changes nothing.
    Dup {
        old: i32,
        new: Option<i32>,
        cloexec: bool,
    },
    Close {
        fd: i32,
    },
    /// close_range: every descriptor in `first..=last` closed, or with
    /// CLOSE_RANGE_CLOEXEC (`cloexec`) marked close-on-exec; with
    /// CLOSE_RANGE_UNSHARE (`unshare`) in a table of the caller's own,
    /// unshared first (a CLONE_FILES sibling keeps the old one untouched).
    CloseRange {
        first: u32,
        last: u32,
        cloexec: bool,
        unshare: bool,
    },
    /// fcntl(F_SETFD): `fd`'s close-on-exec flag set to `on`.
    SetCloexec {
        fd: i32,
        on: bool,
    },
}

impl FdOp<'_> {
    /// Whether a call that asked for this and returned `ret` (`None`: its
    /// exit was not seen) changed the table: when it succeeded, except
    /// dup2(fd, fd); close releases the descriptor whatever it reports
    /// (EINTR, EIO), unless it was not open (EBADF), and before it can
    /// block, so a close whose exit was not seen released it too.
    pub fn took_effect(&self, ret: Option<i64>) -> bool {
        match *self {
            FdOp::Close { .. } => ret != Some(-EBADF),
            FdOp::Dup {
                old, new: Some(n), ..
            } if n == old => false,
            _ => ret.is_some_and(|r| !is_error(r)),
        }
    }

    /// Whether the descriptors it makes are close-on-exec (`false` for
    /// the ops that make none).
    pub fn cloexec(&self) -> bool {
        match *self {
            FdOp::Open { flags, .. } => flags & O_CLOEXEC != 0,
            FdOp::New { cloexec, .. }
            | FdOp::Pair { cloexec, .. }
            | FdOp::Accept { cloexec, .. }
            | FdOp::Dup { cloexec, .. } => cloexec,
            FdOp::Close { .. } | FdOp::CloseRange { .. } | FdOp::SetCloexec { .. } => false,
        }
    }
}

/// Whether a task made by clone(2) with `flags` shares its parent's
/// descriptor table (else it gets a copy): CLONE_FILES alone decides, a
/// thread without it has a table of its own. fork and vfork copy it.
pub fn clone_shares_table(flags: u64) -> bool {
    flags & CLONE_FILES != 0
}

/// What a syscall does to the table, by its identity alone; its
/// arguments decide the rest ([`call`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Open,
    /// A new descriptor, the return value.
    New,
    /// Two new descriptors, in the `int[2]` argument `i` points to.
    Pair(u8),
    Accept,
    Dup,
    Fcntl,
    Close,
    CloseRange,
    None,
}

fn class(sys: Sysno) -> Class {
    use Sysno as S;
    match sys {
        S::open | S::openat | S::openat2 | S::creat => Class::Open,
        S::pipe | S::pipe2 => Class::Pair(0),
        S::socketpair => Class::Pair(3),
        S::accept | S::accept4 => Class::Accept,
        S::dup | S::dup2 | S::dup3 => Class::Dup,
        S::fcntl => Class::Fcntl,
        S::close => Class::Close,
        S::close_range => Class::CloseRange,
        S::socket
        | S::open_by_handle_at
        | S::open_tree
        | S::epoll_create
        | S::epoll_create1
        | S::eventfd
        | S::eventfd2
        | S::timerfd_create
        | S::signalfd
        | S::signalfd4
        | S::memfd_create
        | S::memfd_secret
        | S::inotify_init
        | S::inotify_init1
        | S::fanotify_init
        | S::pidfd_open
        | S::pidfd_getfd
        | S::perf_event_open
        | S::userfaultfd
        | S::io_uring_setup
        | S::fsopen
        | S::fsmount
        | S::fspick => Class::New,
        _ => Class::None,
    }
}

/// Whether `sys` opens a file by path (open, openat, openat2, creat:
/// [`FdOp::Open`]).
pub fn opens_path(sys: Sysno) -> bool {
    class(sys) == Class::Open
}

/// Where the descriptors a successful call of `sys` made are
/// ([`Arch::made_fds`]): the return value of an open, an accept or
/// another call that makes one, the pair of a pipe; none for a dup (a copy
/// of one the caller had).
pub(crate) fn made(sys: Sysno) -> MadeFds {
    match class(sys) {
        Class::Open | Class::New | Class::Accept => MadeFds::Ret,
        Class::Pair(i) => MadeFds::Pair(i),
        _ => MadeFds::None,
    }
}

/// The captured string or struct of argument `arg` at entry.
fn entry_arg<'a>(enter: &Captures<'a>, arg: u8) -> Option<&'a [u8]> {
    enter
        .iter()
        .find(|m| m.arg == arg && m.flags & mem_flags::AT_EXIT == 0)
        .map(|m| m.data)
}

/// What syscall `nr` of `arch`, called with `args`, asks of the
/// descriptor table (whatever it returned), from the captures of its entry
/// (an open's path, openat2's open_how, memfd_create's name) and exit
/// (pipe's pair; without it, `None`: a failed pipe made none). `None` for a
/// call that does not touch the table.
pub fn call<'a>(
    arch: Arch,
    nr: u32,
    args: &[u64; 6],
    enter: &Captures<'a>,
    exit: &Captures<'a>,
) -> Option<FdOp<'a>> {
    let sys = arch.sysno(nr)?;
    let a = args;
    let fd = |i: usize| a[i] as u32 as i32;
    let flag = |i: usize, bit: u64| a[i] & bit != 0;
    use Sysno as S;
    Some(match class(sys) {
        Class::None => return None,
        Class::Open => {
            // The path is the argument rec captures as one.
            let p = arch
                .capture_sig(u64::from(nr))
                .iter()
                .position(|k| *k == Arg::Path)? as u8;
            let (dirfd, flags) = match sys {
                S::openat => (fd(0), a[2]),
                S::openat2 => {
                    // struct open_how starts with its u64 flags.
                    let how = entry_arg(enter, 2).and_then(|d| d.get(..8));
                    let flags = how
                        .and_then(|b| b.try_into().ok())
                        .map_or(0, u64::from_le_bytes);
                    (fd(0), flags)
                }
                S::creat => (AT_FDCWD, O_CREAT | O_WRONLY | O_TRUNC),
                _ => (AT_FDCWD, a[1]),
            };
            FdOp::Open {
                dirfd,
                path: entry_arg(enter, p),
                flags,
            }
        }
        Class::New => {
            let (what, cloexec) = match sys {
                S::socket => (
                    What::Socket {
                        domain: a[0],
                        ty: a[1],
                    },
                    flag(1, O_CLOEXEC),
                ),
                S::open_by_handle_at => (What::File, flag(2, O_CLOEXEC)),
                S::open_tree => (What::File, flag(2, O_CLOEXEC)),
                S::epoll_create => (What::Epoll, false),
                S::epoll_create1 => (What::Epoll, flag(0, O_CLOEXEC)),
                S::eventfd => (What::Eventfd, false),
                S::eventfd2 => (What::Eventfd, flag(1, O_CLOEXEC)),
                S::timerfd_create => (What::Timerfd, flag(1, O_CLOEXEC)),
                // Given a signalfd, they change its mask and make none.
                S::signalfd | S::signalfd4 if fd(0) != -1 => return None,
                S::signalfd => (What::Signalfd, false),
                S::signalfd4 => (What::Signalfd, flag(3, O_CLOEXEC)),
                S::memfd_create => (
                    What::Memfd {
                        name: entry_arg(enter, 0),
                    },
                    flag(1, MFD_CLOEXEC),
                ),
                S::memfd_secret => (What::MemfdSecret, flag(0, O_CLOEXEC)),
                S::inotify_init => (What::Inotify, false),
                S::inotify_init1 => (What::Inotify, flag(0, O_CLOEXEC)),
                S::fanotify_init => (What::Fanotify, flag(0, MFD_CLOEXEC)),
                // Always close-on-exec (pidfd_open(2), pidfd_getfd(2),
                // io_uring_setup's O_RDWR|O_CLOEXEC).
                S::pidfd_open | S::pidfd_getfd => (What::Pidfd, true),
                S::io_uring_setup => (What::IoUring, true),
                S::perf_event_open => (What::PerfEvent, flag(4, PERF_FLAG_FD_CLOEXEC)),
                S::userfaultfd => (What::Userfaultfd, flag(0, O_CLOEXEC)),
                S::fsopen => (What::FsContext, flag(1, MFD_CLOEXEC)),
                S::fspick => (What::FsContext, flag(2, MFD_CLOEXEC)),
                _ => (What::Mount, flag(1, MFD_CLOEXEC)),
            };
            FdOp::New { what, cloexec }
        }
        Class::Pair(i) => {
            let m = exit
                .iter()
                .find(|m| m.arg == i && m.flags & mem_flags::AT_EXIT != 0)?;
            let int = |o: usize| {
                m.data
                    .get(o..o + 4)
                    .and_then(|b| b.try_into().ok())
                    .map(i32::from_le_bytes)
            };
            let fds = [int(0)?, int(4)?];
            let (what, cloexec) = match sys {
                S::socketpair => (
                    What::Socket {
                        domain: a[0],
                        ty: a[1],
                    },
                    flag(1, O_CLOEXEC),
                ),
                S::pipe2 => (What::Pipe, flag(1, O_CLOEXEC)),
                _ => (What::Pipe, false),
            };
            FdOp::Pair { fds, what, cloexec }
        }
        Class::Accept => FdOp::Accept {
            listener: fd(0),
            cloexec: sys == S::accept4 && flag(3, O_CLOEXEC),
        },
        Class::Dup => match sys {
            S::dup => FdOp::Dup {
                old: fd(0),
                new: None,
                cloexec: false,
            },
            _ => FdOp::Dup {
                old: fd(0),
                new: Some(fd(1)),
                cloexec: sys == S::dup3 && flag(2, O_CLOEXEC),
            },
        },
        // The command is an int: the register's upper half is not part of it.
        Class::Fcntl => match a[1] as u32 {
            F_DUPFD | F_DUPFD_CLOEXEC => FdOp::Dup {
                old: fd(0),
                new: None,
                cloexec: a[1] as u32 == F_DUPFD_CLOEXEC,
            },
            F_SETFD => FdOp::SetCloexec {
                fd: fd(0),
                on: flag(2, FD_CLOEXEC),
            },
            _ => return None,
        },
        Class::Close => FdOp::Close { fd: fd(0) },
        Class::CloseRange => FdOp::CloseRange {
            first: a[0] as u32,
            last: a[1] as u32,
            cloexec: flag(2, CLOSE_RANGE_CLOEXEC),
            unshare: flag(2, CLOSE_RANGE_UNSHARE),
        },
    })
}

/// What syscall `nr` of `arch`, called with `args`, did to the descriptor
/// table when it returned `ret` (`None`: its exit was not seen): [`call`],
/// if it [took effect](FdOp::took_effect).
pub fn effect<'a>(
    arch: Arch,
    nr: u32,
    args: &[u64; 6],
    ret: Option<i64>,
    enter: &Captures<'a>,
    exit: &Captures<'a>,
) -> Option<FdOp<'a>> {
    call(arch, nr, args, enter, exit).filter(|op| op.took_effect(ret))
}

#[cfg(test)]
mod tests {
    use ptrec_format::Mem;

    use super::*;

    const X: Arch = Arch::X86_64;
    const NONE: Captures<'static> = Captures::Slice(&[]);

    fn ok(sys: Sysno, args: [u64; 6], ret: i64) -> Option<FdOp<'static>> {
        effect(X, sys as u32, &args, Some(ret), &NONE, &NONE)
    }

    #[test]
    fn dup2_to_itself_changes_nothing_and_dup3_sets_cloexec() {
        assert_eq!(ok(Sysno::dup2, [3, 3, 0, 0, 0, 0], 3), None);
        assert_eq!(
            ok(Sysno::dup2, [3, 5, 0, 0, 0, 0], 5),
            Some(FdOp::Dup {
                old: 3,
                new: Some(5),
                cloexec: false
            })
        );
        let dup3 = ok(Sysno::dup3, [3, 5, O_CLOEXEC, 0, 0, 0], 5);
        assert_eq!(
            dup3,
            Some(FdOp::Dup {
                old: 3,
                new: Some(5),
                cloexec: true
            })
        );
        assert_eq!(
            ok(Sysno::dup, [4, 0, 0, 0, 0, 0], 6),
            Some(FdOp::Dup {
                old: 4,
                new: None,
                cloexec: false
            })
        );
    }

    #[test]
    fn fcntl_dupfd_cloexec_and_setfd_but_not_other_commands() {
        // The upper half of the command register is not part of the int.
        let cmd = 0xdead_0000_0000_0000 | u64::from(F_DUPFD_CLOEXEC);
        assert_eq!(
            ok(Sysno::fcntl, [3, cmd, 10, 0, 0, 0], 10),
            Some(FdOp::Dup {
                old: 3,
                new: None,
                cloexec: true
            })
        );
        assert_eq!(
            ok(Sysno::fcntl, [3, 0, 10, 0, 0, 0], 11),
            Some(FdOp::Dup {
                old: 3,
                new: None,
                cloexec: false
            })
        );
        assert_eq!(
            ok(Sysno::fcntl, [3, 2, FD_CLOEXEC, 0, 0, 0], 0),
            Some(FdOp::SetCloexec { fd: 3, on: true })
        );
        // F_GETFL, F_SETFL.
        assert_eq!(ok(Sysno::fcntl, [3, 3, 0, 0, 0, 0], 2), None);
        assert_eq!(ok(Sysno::fcntl, [3, 4, 0o4000, 0, 0, 0], 0), None);
    }

    #[test]
    fn close_range_closes_or_only_marks() {
        assert_eq!(
            ok(
                Sysno::close_range,
                [3, u32::MAX as u64, CLOSE_RANGE_CLOEXEC, 0, 0, 0],
                0
            ),
            Some(FdOp::CloseRange {
                first: 3,
                last: u32::MAX,
                cloexec: true,
                unshare: false
            })
        );
        assert_eq!(
            ok(Sysno::close_range, [3, 9, CLOSE_RANGE_UNSHARE, 0, 0, 0], 0),
            Some(FdOp::CloseRange {
                first: 3,
                last: 9,
                cloexec: false,
                unshare: true
            })
        );
    }

    #[test]
    fn a_failed_call_has_no_effect_but_close_releases_unless_ebadf() {
        let none = &NONE;
        let fx = |sys: Sysno, args: [u64; 6], ret: Option<i64>| {
            effect(X, sys as u32, &args, ret, none, none)
        };
        assert_eq!(fx(Sysno::dup2, [3, 5, 0, 0, 0, 0], Some(-9)), None);
        assert_eq!(fx(Sysno::socket, [2, 1, 0, 0, 0, 0], Some(-24)), None);
        assert_eq!(fx(Sysno::socket, [2, 1, 0, 0, 0, 0], None), None);
        assert_eq!(fx(Sysno::close, [3, 0, 0, 0, 0, 0], Some(-9)), None);
        let close = Some(FdOp::Close { fd: 3 });
        assert_eq!(fx(Sysno::close, [3, 0, 0, 0, 0, 0], Some(-4)), close);
        assert_eq!(fx(Sysno::close, [3, 0, 0, 0, 0, 0], None), close);
        // What the call asked is there for a view all the same.
        assert_eq!(
            call(X, Sysno::dup2 as u32, &[3, 5, 0, 0, 0, 0], none, none),
            Some(FdOp::Dup {
                old: 3,
                new: Some(5),
                cloexec: false
            })
        );
        // Calls that do not touch the table; an unknown number.
        assert_eq!(ok(Sysno::read, [3, 0, 0, 0, 0, 0], 0), None);
        assert_eq!(effect(X, u32::MAX, &[0; 6], Some(0), none, none), None);
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

    #[test]
    fn pipe2_and_socketpair_pairs_come_from_the_exit_capture() {
        let pair = [5i32.to_le_bytes(), 6i32.to_le_bytes()].concat();
        let out = [mem(0, mem_flags::AT_EXIT, &pair)];
        let exit = Captures::Slice(&out);
        let op = effect(
            X,
            Sysno::pipe2 as u32,
            &[0x1000, O_CLOEXEC, 0, 0, 0, 0],
            Some(0),
            &NONE,
            &exit,
        );
        assert_eq!(
            op,
            Some(FdOp::Pair {
                fds: [5, 6],
                what: What::Pipe,
                cloexec: true
            })
        );
        // Without the exit's capture (a failed call) there is no pair.
        let none = effect(
            X,
            Sysno::pipe2 as u32,
            &[0x1000, 0, 0, 0, 0, 0],
            Some(0),
            &NONE,
            &NONE,
        );
        assert_eq!(none, None);
        let out = [mem(3, mem_flags::AT_EXIT, &pair)];
        let sp = effect(
            X,
            Sysno::socketpair as u32,
            &[1, 1 | O_CLOEXEC, 0, 0x2000, 0, 0],
            Some(0),
            &NONE,
            &Captures::Slice(&out),
        );
        assert_eq!(
            sp,
            Some(FdOp::Pair {
                fds: [5, 6],
                what: What::Socket {
                    domain: 1,
                    ty: 1 | O_CLOEXEC
                },
                cloexec: true
            })
        );
    }

    #[test]
    fn opens_take_their_path_and_flags_from_the_entry_on_each_arch() {
        let caps = [mem(1, mem_flags::STRING, b"/etc/hosts")];
        let enter = Captures::Slice(&caps);
        let args = [AT_FDCWD as u32 as u64, 0x1000, O_CLOEXEC, 0, 0, 0];
        let want = Some(FdOp::Open {
            dirfd: AT_FDCWD,
            path: Some(&b"/etc/hosts"[..]),
            flags: O_CLOEXEC,
        });
        let x = effect(X, Sysno::openat as u32, &args, Some(3), &enter, &NONE);
        assert_eq!(x, want);
        assert!(x.is_some_and(|o| o.cloexec()));
        // aarch64's openat is 56.
        let a = effect(Arch::Aarch64, 56, &args, Some(3), &enter, &NONE);
        assert_eq!(a, want);
        // openat2's flags are its open_how's first field.
        let how = [O_CLOEXEC.to_le_bytes(), [0; 8], [0; 8]].concat();
        let caps = [mem(1, mem_flags::STRING, b"f"), mem(2, 0, &how)];
        let op = effect(
            X,
            Sysno::openat2 as u32,
            &[3, 0x1000, 0x2000, 24, 0, 0],
            Some(4),
            &Captures::Slice(&caps),
            &NONE,
        );
        assert_eq!(
            op,
            Some(FdOp::Open {
                dirfd: 3,
                path: Some(&b"f"[..]),
                flags: O_CLOEXEC
            })
        );
        let creat = ok(Sysno::creat, [0x1000, 0o644, 0, 0, 0, 0], 3);
        assert_eq!(
            creat,
            Some(FdOp::Open {
                dirfd: AT_FDCWD,
                path: None,
                flags: O_CREAT | O_WRONLY | O_TRUNC
            })
        );
    }

    #[test]
    fn new_descriptors_say_what_they_are_and_whether_close_on_exec() {
        let new = |sys, args, ret| match ok(sys, args, ret) {
            Some(FdOp::New { what, cloexec }) => Some((what, cloexec)),
            _ => None,
        };
        assert_eq!(
            new(Sysno::eventfd2, [0, O_CLOEXEC, 0, 0, 0, 0], 3),
            Some((What::Eventfd, true))
        );
        assert_eq!(
            new(Sysno::memfd_create, [0x1000, MFD_CLOEXEC, 0, 0, 0, 0], 3),
            Some((What::Memfd { name: None }, true))
        );
        assert_eq!(
            new(Sysno::pidfd_open, [9, 0, 0, 0, 0, 0], 3),
            Some((What::Pidfd, true))
        );
        assert_eq!(
            new(Sysno::perf_event_open, [0, 0, 0, 0, 8, 0], 3),
            Some((What::PerfEvent, true))
        );
        // signalfd on an existing signalfd makes none.
        assert_eq!(new(Sysno::signalfd4, [4, 0x1000, 8, 0, 0, 0], 4), None);
        assert_eq!(
            new(Sysno::signalfd4, [u64::MAX, 0x1000, 8, O_CLOEXEC, 0, 0], 4),
            Some((What::Signalfd, true))
        );
        assert_eq!(
            ok(Sysno::accept4, [3, 0, 0, O_CLOEXEC, 0, 0], 5),
            Some(FdOp::Accept {
                listener: 3,
                cloexec: true
            })
        );
    }

    #[test]
    fn clone_files_alone_shares_the_table() {
        assert!(clone_shares_table(CLONE_FILES | 0x10000));
        assert!(clone_shares_table(CLONE_FILES));
        // CLONE_THREAD without CLONE_FILES: a thread with its own copy.
        assert!(!clone_shares_table(0x10000));
        assert!(!clone_shares_table(0));
    }
}
