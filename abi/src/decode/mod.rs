//! A syscall's arguments and result as strace prints them, from its
//! registers and the memory rec captured at its entry and exit.
//!
//! The caller gives a [`Call`] (number, arguments, result if the exit was
//! seen, the captures of both stops) and a [`Style`] (`-s`, `-y`/`-yy`
//! with an [`FdResolver`]); [`write_args`] writes the arguments of one
//! [`Part`] of the call (all of them, those strace shows before a call is
//! resumed, or the rest, for a `<... resumed>` line) and [`return_text`]
//! what follows ` = `.
//!
//! ```
//! use ptrec_abi::decode::{write_args, return_text, Call, Part, Style};
//! let call = Call { arch: ptrec_abi::Arch::X86_64, nr: 3, args: [4, 0, 0, 0, 0, 0], ret: Some(0), enter: &[], exit: &[] };
//! let mut s = String::from("close(");
//! write_args(&mut s, &call, Part::Whole, &Style::default());
//! assert_eq!(s, "close(4");
//! assert_eq!(return_text(&call, &Style::default()), "0");
//! ```

use std::borrow::Cow;
use std::fmt::Write;

use ptrec_format::{mem_flags, Mem};

use crate::layout::Field;
use crate::layout::Layout;
use crate::names::{push_error_return, signal_name};
use crate::text::{
    escape_fd_path, push_hex, push_i64, push_quoted, push_u64, quoted, redacted_text,
};
use crate::Arch;

mod flags;
mod structs;

use flags::*;
use structs::*;
pub use structs::{siginfo_text, wait_status_text};

/// One syscall: its registers and what rec captured at its two stops.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a, 'b> {
    /// The architecture of the recording: `nr`'s numbering, the struct
    /// layouts, the flag values.
    pub arch: Arch,
    pub nr: u32,
    pub args: [u64; 6],
    /// The return value; `None` while (or because) its exit is not known.
    pub ret: Option<i64>,
    /// Captures of the syscall-enter-stop.
    pub enter: &'b [Mem<'a>],
    /// Captures of the syscall-exit-stop.
    pub exit: &'b [Mem<'a>],
}

/// What a descriptor refers to, for `-y`: `path` is shown escaped inside
/// `<...>` (a path, or `pipe:[N]`, `socket:[N]`, `anon_inode:[eventpoll]`
/// as /proc/PID/fd shows them; with `-yy` e.g. `TCP:[1.2.3.4:5->6.7.8.9:10]`),
/// `detail` (with `-yy`: `char 1:3` for a device) in a second `<...>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdDesc<'a> {
    pub path: Cow<'a, [u8]>,
    pub detail: Option<Cow<'a, str>>,
    /// The file was unlinked (or renamed over) while the descriptor held
    /// it: strace shows `3</tmp/x>(deleted)`.
    pub deleted: bool,
}

/// Resolves a descriptor of the calling process to what it refers to, for
/// `-y`/`-yy`. Implemented by the analyzer's call layer from the fd table
/// it keeps per process.
///
/// `describe` is asked about the descriptors a call takes and those it
/// returns (an open's result, pipe's pair) alike, so it answers from the
/// table as it is after the call's opens and before its closes. `fd` is
/// `-100` (AT_FDCWD) for the working directory.
pub trait FdResolver {
    fn describe(&self, fd: i32, full: bool) -> Option<FdDesc<'_>>;
}

/// A resolver that knows no descriptor (no `-y`).
pub struct NoFds;

impl FdResolver for NoFds {
    fn describe(&self, _fd: i32, _full: bool) -> Option<FdDesc<'_>> {
        None
    }
}

/// How much `-y` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FdStyle {
    /// Numbers only.
    #[default]
    Plain,
    /// `-y`: `3</etc/passwd>`.
    Paths,
    /// `-yy`: also socket endpoints and device numbers.
    Full,
}

/// Display settings.
#[derive(Clone, Copy)]
pub struct Style<'r> {
    /// `-s`: bytes shown of a buffer or argv string (paths are shown whole).
    pub string_limit: usize,
    pub fds: FdStyle,
    pub resolver: &'r dyn FdResolver,
    /// Seconds east of UTC of the local time dates are shown in (strace
    /// dates file times in the comments of utimensat & co. and time(2)'s
    /// result in local time).
    pub utc_offset: i64,
    /// For a restart_syscall: the syscall (number) it resumes, the one
    /// that returned ERESTART_RESTARTBLOCK before it on the same thread
    /// (strace: `<... resuming interrupted nanosleep ...>`).
    pub interrupted: Option<u32>,
}

impl Default for Style<'_> {
    fn default() -> Self {
        Style {
            string_limit: 32,
            fds: FdStyle::Plain,
            resolver: &NoFds,
            utc_offset: 0,
            interrupted: None,
        }
    }
}

/// Which arguments to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// All of them (a call printed on one line).
    Whole,
    /// Those strace shows at entry, for a line ending `<unfinished ...>`:
    /// up to the first one the kernel fills in. When [`has_exit_part`],
    /// strace writes `, ` after them (`read(3, ` then ` <unfinished ...>`).
    Entry,
    /// The rest, for the `<... name resumed>` line.
    Exit,
    /// Argument `i` alone, as it shows in the whole line (for `--json`);
    /// empty when strace does not show it. clone, clone3, futex and
    /// restart_syscall show as one text, argument 0's.
    Only(usize),
}

/// How an argument is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum K {
    /// Signed decimal of a 64-bit argument (long, off_t).
    I,
    /// Signed decimal of an int argument (pid_t, int): the low 32 bits,
    /// since the upper half of the register is not part of the value.
    I32,
    /// Unsigned decimal (size_t).
    U,
    /// Unsigned decimal of an unsigned int argument.
    U32,
    /// A uid or gid: -1 as -1, else unsigned.
    Id,
    /// Hexadecimal (flags, pointers not captured).
    X,
    /// File descriptor (`AT_FDCWD` aware).
    Fd,
    /// NUL-terminated string captured at entry.
    Str,
    /// Buffer written by the tracee, length in argument N.
    In(usize),
    /// Buffer filled by the kernel, length = return value.
    Out,
    /// Octal mode (`0644`).
    Oct,
    /// A mode with its file type: `S_IFIFO|0600` (mknod).
    TypeMode,
    /// mknod's device: shown only for a character or block device.
    Dev,
    /// argv-style array of strings (elements as captures arg 8+i).
    Argv,
    /// envp: the pointer and `/* N vars */`, as strace shows it without -v.
    Envp,
    /// iovec array, count in argument N (buffers read at entry).
    Iov(usize),
    /// iovec array filled by the kernel, count in argument N.
    IovOut(usize),
    /// sockaddr, length in argument N.
    Sockaddr(usize),
    /// struct stat filled at exit.
    Stat,
    /// struct statfs filled at exit.
    Statfs,
    /// A signal number.
    Sig,
    /// open(2) flags; the mode argument after them is shown only with O_CREAT.
    OFlags,
    /// A number in hexadecimal that is not a pointer (0 is `0`, not NULL).
    Hex,
    /// Flag words by name (an int argument: its low 32 bits).
    Flags(&'static FlagSet),
    /// pipe2's and dup3's flags (O_DIRECT's value is the architecture's).
    PipeFlags,
    /// personality(2)'s persona: `PER_LINUX|ADDR_NO_RANDOMIZE`, or
    /// `0xffffffff` (the query).
    Persona,
    /// getxattr's value, listxattr's list: as [`K::Out`], but the address
    /// when the size (argument N) is 0, a query of the size.
    XattrOut(usize),
    /// A value named from a table (an int argument: its low 32 bits).
    Named(&'static [(u64, &'static str)]),
    /// futex(2) operation: the command and its PRIVATE/CLOCK_REALTIME bits.
    FutexOp,
    /// getdents64's buffer: `0x... /* N entries */`, as strace shows it.
    Dirents,
    /// struct statx filled at exit.
    Statx,
    /// A NUL-terminated string the kernel wrote, length = return value
    /// with the NUL (getcwd).
    OutStr,
    /// A kernel sigset_t read at entry: `[INT TERM]`.
    SigsetIn,
    /// A kernel sigset_t the kernel filled (the old mask).
    SigsetOut,
    /// A kernel struct sigaction read at entry.
    SigactionIn,
    /// A kernel struct sigaction the kernel filled (the old action).
    SigactionOut,
    /// struct rlimit read at entry (a new limit).
    RlimIn,
    /// struct rlimit filled at exit (the old limit).
    RlimOut,
    /// fcntl's third argument, read as its command (argument 1) says.
    FcntlArg,
    /// ioctl's third argument, read as its request (argument 1) says.
    IoctlArg,
    /// prctl's arguments after the option (argument 0).
    PrctlArgs,
    /// struct sysinfo filled at exit.
    Sysinfo,
    /// socket(2)'s protocol: named for AF_INET/AF_INET6 (argument 0).
    Proto,
    /// A socket option level.
    SockLevel,
    /// A socket option name, named for its level (argument 1).
    SockOpt,
    /// setsockopt's value (as long as its length argument): `[1]` for an int.
    OptVal,
    /// A sockaddr the kernel filled (accept, getsockname, recvfrom).
    SockaddrOut,
    /// The socklen_t* after it: `[16]`, the length the kernel wrote.
    SockLenOut,
    /// A pollfd array: `[{fd=5, events=POLLIN}]`.
    Pollfds,
    /// getsockopt's value, as long as the kernel said: `[1]` for an int.
    OptOut,
    /// An int the kernel wrote through a pointer: `[4]`.
    IntOut,
    /// The two fds pipe/pipe2/socketpair return: `[3, 4]`.
    Fds2,
    /// wait4's status: `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`.
    WaitStatus,
    /// struct utsname: `{sysname="Linux", nodename="vm", ...}`.
    Utsname,
    /// A buffer the kernel filled, every byte in hex (getrandom).
    OutHex,
    /// rt_sigreturn's frame: the mask it restores (capture arg 6).
    SigreturnMask,
    /// struct open_how (openat2).
    OpenHow,
    /// utimensat's two timespecs, or NULL for now.
    Utimens,
    /// struct msghdr read at entry (sendmsg).
    MsgIn,
    /// struct msghdr the kernel filled (recvmsg).
    MsgOut,
    /// An off_t* the kernel updates: `[0] => [4]` (sendfile).
    OffInOut,
    /// An fd_set of select: `[3 4]`, as many fds as argument 0 says.
    FdSet,
    /// select's timeout at entry.
    TimevalIn,
    /// A timespec read at entry.
    TimespecIn,
    /// A timespec the kernel fills on success (shown as the pointer: the
    /// kernel writes it when interrupted, which rec does not capture).
    TimespecRem,
    /// A siginfo_t read at entry (rt_sigqueueinfo).
    SiginfoIn,
    /// A siginfo_t the kernel filled (waitid, rt_sigtimedwait).
    SiginfoOut,
    /// stack_t read at entry.
    StackIn,
    /// stack_t the kernel filled (the old stack).
    StackOut,
    /// struct itimerval read at entry.
    ItimervalIn,
    /// struct itimerval the kernel filled (the old timer).
    ItimervalOut,
    /// struct rusage the kernel filled.
    RusageOut,
    /// struct epoll_event read at entry.
    EpollEventIn,
    /// epoll_wait's events, as many as it returned.
    EpollEventsOut,
    /// clone3's struct clone_args.
    CloneArgs,
    /// A timeval the kernel filled (gettimeofday).
    TimevalOut,
    /// A timespec the kernel filled (clock_gettime).
    TimespecOut,
    /// An argument strace does not show (the high half of a 64-bit offset
    /// on 64-bit kernels: preadv2's pos_h).
    Skip,
    /// semop's sembuf array, count in argument N.
    Sembufs(usize),
    /// struct tms the kernel filled.
    Tms,
    /// The gids getgroups wrote, as many as it returned.
    GidsOut,
    /// setgroups' gids, count in argument N.
    GidsIn(usize),
    /// A uid/gid the kernel wrote through a pointer: `[0]`.
    IdOut,
    /// utime's struct utimbuf.
    Utimbuf,
    /// utimes' two timevals.
    Utimes,
    /// struct sched_param read at entry: `[0]`.
    SchedParamIn,
    /// struct sched_param the kernel filled.
    SchedParamOut,
    /// time(2)'s time_t the kernel wrote: `[N /* date */]`.
    TimeOut,
    /// A CPU mask read at entry, as long as argument N: `[0 1]`.
    CpuSetIn(usize),
    /// A CPU mask the kernel filled, as long as it returned.
    CpuSetOut,
    /// struct itimerspec read at entry.
    ItimerspecIn,
    /// struct itimerspec the kernel filled.
    ItimerspecOut,
    /// An loff_t* read at entry: `[0]` (splice, copy_file_range).
    OffIn,
    /// sendmmsg/recvmmsg's mmsghdr array.
    Mmsgs,
    /// futex_waitv's waiters, count in argument 1.
    FutexWaiters,
    /// pselect6's `{sigmask=[...], sigsetsize=8}`.
    SigmaskPair,
}

impl K {
    /// Whether strace shows this argument only when the call returns.
    fn is_output(self) -> bool {
        matches!(
            self,
            Out | XattrOut(_)
                | Stat
                | Statfs
                | Statx
                | Sysinfo
                | SockaddrOut
                | OptOut
                | Fds2
                | WaitStatus
                | Utsname
                | OutHex
                | OutStr
                | Dirents
                | SigsetOut
                | SigactionOut
                | RlimOut
                | IovOut(_)
                | MsgOut
                | OffInOut
                | SiginfoOut
                | StackOut
                | ItimervalOut
                | RusageOut
                | EpollEventsOut
                | TimevalOut
                | TimespecOut
                | TimespecRem
                | IntOut
                | Tms
                | GidsOut
                | IdOut
                | SchedParamOut
                | TimeOut
                | CpuSetOut
                | ItimerspecOut
        )
    }
}

use K::*;

/// What the decoders know of one syscall number, looked up once.
#[derive(Clone, Copy)]
struct Info {
    /// The name, `""` for a number the table does not know.
    name: &'static str,
    kinds: Option<&'static [K]>,
    returns_fd: bool,
}

/// A syscall's key in the decoders' tables: its identity
/// ([`Arch::sysno`]) as an x86_64 number; `u32::MAX` for an unknown one.
fn id(arch: Arch, nr: u32) -> u32 {
    arch.sysno(nr).map_or(u32::MAX, |s| s.id() as u32)
}

/// The name of decoder key `id`, to match on (the same on every
/// architecture; see [`id`]).
fn id_name(id: u32) -> std::borrow::Cow<'static, str> {
    Arch::X86_64.syscall_name(id)
}

/// The [`Info`] of decoder key `id`: a table indexed by it, built on first
/// use (a replay looks a syscall up several times per line; matching its
/// name against every arm each time would cost more than the line).
fn info(id: u32) -> Info {
    static TABLE: std::sync::OnceLock<Vec<Info>> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        (0..Arch::X86_64.syscall_table_len() as u32)
            .map(|n| {
                let name = match id_name(n) {
                    Cow::Borrowed(name) => name,
                    Cow::Owned(_) => "",
                };
                Info {
                    name,
                    kinds: kinds(name),
                    returns_fd: returns_fd(name),
                }
            })
            .collect()
    });
    t.get(id as usize).copied().unwrap_or(Info {
        name: "",
        kinds: None,
        returns_fd: false,
    })
}

/// How strace shows the arguments of syscall `name`.
fn kinds(name: &str) -> Option<&'static [K]> {
    Some(match name {
        "read" => &[Fd, Out, U],
        "write" => &[Fd, In(2), U],
        "pread64" => &[Fd, Out, U, I],
        "pwrite64" => &[Fd, In(2), U, I],
        "open" => &[Str, OFlags, Oct],
        "openat" => &[Fd, Str, OFlags, Oct],
        "openat2" => &[Fd, Str, OpenHow, U],
        "creat" => &[Str, Oct],
        "close" | "dup" | "fchdir" | "fsync" | "fdatasync" | "syncfs" => &[Fd],
        "stat" | "lstat" => &[Str, Stat],
        "fstat" => &[Fd, Stat],
        "newfstatat" => &[Fd, Str, Stat, Flags(&AT)],
        "statfs" => &[Str, Statfs],
        "fstatfs" => &[Fd, Statfs],
        "access" => &[Str, Flags(&ACCESS)],
        "faccessat" => &[Fd, Str, Flags(&ACCESS)],
        "faccessat2" => &[Fd, Str, Flags(&ACCESS), Flags(&AT_ACCESS)],
        "execve" => &[Str, Argv, Envp],
        "execveat" => &[Fd, Str, Argv, Envp, Flags(&AT)],
        "readlink" => &[Str, Out, U],
        "readlinkat" => &[Fd, Str, Out, U],
        "unlink" | "rmdir" | "chdir" | "chroot" | "umount" | "acct" | "swapoff" => &[Str],
        "unlinkat" => &[Fd, Str, Flags(&AT)],
        "mkdir" | "chmod" => &[Str, Oct],
        "fchmod" => &[Fd, Oct],
        "mkdirat" | "fchmodat" => &[Fd, Str, Oct],
        "rename" | "symlink" | "link" => &[Str, Str],
        "renameat" => &[Fd, Str, Fd, Str],
        "renameat2" => &[Fd, Str, Fd, Str, Flags(&RENAME_FLAGS)],
        "linkat" => &[Fd, Str, Fd, Str, Flags(&AT)],
        "symlinkat" => &[Str, Fd, Str],
        "chown" | "lchown" => &[Str, Id, Id],
        "fchown" => &[Fd, Id, Id],
        "fchownat" => &[Fd, Str, Id, Id, Flags(&AT)],
        "mknod" => &[Str, TypeMode, Dev],
        "mknodat" => &[Fd, Str, TypeMode, Dev],
        "umask" => &[Oct],
        "utimensat" => &[Fd, Str, Utimens, Flags(&AT)],
        "truncate" => &[Str, I],
        "ftruncate" => &[Fd, I],
        "flock" => &[Fd, Flags(&FLOCK_OP)],
        "writev" => &[Fd, Iov(2), I],
        "readv" => &[Fd, IovOut(2), I],
        "pwritev" => &[Fd, Iov(2), I, I],
        "preadv" => &[Fd, IovOut(2), I, I],
        "pwritev2" => &[Fd, Iov(2), I, I, Skip, Flags(&RWF)],
        "preadv2" => &[Fd, IovOut(2), I, I, Skip, Flags(&RWF)],
        "semop" => &[I32, Sembufs(2), U],
        "times" => &[Tms],
        "getgroups" => &[I32, GidsOut],
        "setgroups" => &[I32, GidsIn(0)],
        "getresuid" | "getresgid" => &[IdOut, IdOut, IdOut],
        "utime" => &[Str, Utimbuf],
        "utimes" => &[Str, Utimes],
        "futimesat" => &[Fd, Str, Utimes],
        "sched_setparam" => &[I32, SchedParamIn],
        "sched_getparam" => &[I32, SchedParamOut],
        "settimeofday" => &[TimevalIn, X],
        "mount" => &[Str, Str, Str, Flags(&MS_FLAGS), X],
        "umount2" => &[Str, Flags(&UMOUNT_FLAGS)],
        "sethostname" | "setdomainname" => &[In(1), U],
        "listxattr" | "llistxattr" => &[Str, XattrOut(2), U],
        "flistxattr" => &[Fd, XattrOut(2), U],
        "time" => &[TimeOut],
        "sched_setaffinity" => &[I32, U, CpuSetIn(1)],
        "sched_getaffinity" => &[I32, U, CpuSetOut],
        "clock_settime" => &[Named(CLOCKS), TimespecIn],
        "inotify_init1" => &[Flags(&IN_INIT)],
        "inotify_add_watch" => &[Fd, Str, Flags(&IN_MASK)],
        "inotify_rm_watch" => &[Fd, I32],
        "timerfd_create" => &[Named(CLOCKS), Flags(&TFD_FLAGS)],
        "timerfd_settime" => &[Fd, Flags(&TFD_SET), ItimerspecIn, ItimerspecOut],
        "timerfd_gettime" => &[Fd, ItimerspecOut],
        "eventfd2" => &[U32, Flags(&EFD_FLAGS)],
        "splice" => &[Fd, OffIn, Fd, OffIn, U, Flags(&SPLICE_FLAGS)],
        "copy_file_range" => &[Fd, OffIn, Fd, OffIn, U, U32],
        "sendmmsg" => &[Fd, Mmsgs, U32, Flags(&MSG)],
        "recvmmsg" => &[Fd, Mmsgs, U32, Flags(&MSG), TimespecIn],
        "futex_waitv" => &[FutexWaiters, U32, U32, TimespecIn, Named(CLOCKS)],
        "sendfile" => &[Fd, Fd, OffInOut, U],
        "connect" | "bind" => &[Fd, Sockaddr(2), U],
        "sendto" => &[Fd, In(2), U, Flags(&MSG), Sockaddr(5), U],
        "recvfrom" => &[Fd, Out, U, Flags(&MSG), SockaddrOut, SockLenOut],
        "sendmsg" => &[Fd, MsgIn, Flags(&MSG)],
        "recvmsg" => &[Fd, MsgOut, Flags(&MSG)],
        "socket" => &[Named(DOMAIN), Flags(&SOCK_TYPE), Proto],
        "socketpair" => &[Named(DOMAIN), Flags(&SOCK_TYPE), I32, Fds2],
        "listen" => &[Fd, I32],
        "accept" | "getsockname" | "getpeername" => &[Fd, SockaddrOut, SockLenOut],
        "accept4" => &[Fd, SockaddrOut, SockLenOut, Flags(&SOCK_TYPE)],
        "setsockopt" => &[Fd, SockLevel, SockOpt, OptVal, U],
        "getsockopt" => &[Fd, SockLevel, SockOpt, OptOut, IntOut],
        "shutdown" => &[Fd, Named(SHUT)],
        "poll" => &[Pollfds, U, I32],
        "ppoll" => &[Pollfds, U, TimespecIn, SigsetIn, U],
        "select" => &[I32, FdSet, FdSet, FdSet, TimevalIn],
        "pselect6" => &[I32, FdSet, FdSet, FdSet, TimespecIn, SigmaskPair],
        "epoll_create" => &[I32],
        "epoll_create1" => &[Flags(&EPOLL_FLAGS)],
        "epoll_ctl" => &[Fd, Named(EPOLL_CTL), Fd, EpollEventIn],
        "epoll_wait" => &[Fd, EpollEventsOut, I32, I32],
        "epoll_pwait" => &[Fd, EpollEventsOut, I32, I32, SigsetIn, U],
        "epoll_pwait2" => &[Fd, EpollEventsOut, I32, TimespecIn, SigsetIn, U],
        "mmap" => &[X, U, Flags(&PROT), Flags(&MAP), Fd, Hex],
        "munmap" => &[X, U],
        "mprotect" => &[X, U, Flags(&PROT)],
        "madvise" => &[X, U, Named(MADV)],
        "brk" | "set_tid_address" => &[X],
        "exit" | "exit_group" => &[I32],
        "kill" | "tkill" => &[I32, Sig],
        "tgkill" => &[I32, I32, Sig],
        "wait4" => &[I32, WaitStatus, Flags(&WAIT_OPTS), RusageOut],
        "waitid" => &[Named(IDTYPE), I32, SiginfoOut, Flags(&WAIT_OPTS), RusageOut],
        "getrusage" => &[Named(RUSAGE_WHO), RusageOut],
        "clone" => &[X, X, X, X, X],
        "clone3" => &[CloneArgs, U],
        "dup2" => &[Fd, Fd],
        "dup3" => &[Fd, Fd, PipeFlags],
        "pipe" => &[Fds2],
        "pipe2" => &[Fds2, PipeFlags],
        "uname" => &[Utsname],
        "rt_sigreturn" => &[SigreturnMask],
        "close_range" => &[U32, U32, Flags(&CLOSE_RANGE)],
        "lseek" => &[Fd, I, Named(WHENCE)],
        "ioctl" => &[Fd, Named(IOCTL), IoctlArg],
        "fcntl" => &[Fd, Named(FCNTL), FcntlArg],
        "prctl" => &[Named(PRCTL), PrctlArgs],
        "personality" => &[Persona],
        "sysinfo" => &[Sysinfo],
        "getxattr" | "lgetxattr" => &[Str, Str, XattrOut(3), U],
        "fgetxattr" => &[Fd, Str, XattrOut(3), U],
        "setxattr" | "lsetxattr" => &[Str, Str, In(3), U, Flags(&XATTR_FLAGS)],
        "getdents64" | "getdents" => &[Fd, Dirents, U],
        "rt_sigaction" => &[Sig, SigactionIn, SigactionOut, U],
        "rt_sigprocmask" => &[Named(SIG_HOW), SigsetIn, SigsetOut, U],
        "rt_sigpending" => &[SigsetOut, U],
        "rt_sigsuspend" => &[SigsetIn, U],
        "rt_sigtimedwait" => &[SigsetIn, SiginfoOut, TimespecIn, U],
        "rt_sigqueueinfo" => &[I32, Sig, SiginfoIn],
        "rt_tgsigqueueinfo" => &[I32, I32, Sig, SiginfoIn],
        "pidfd_send_signal" => &[Fd, Sig, SiginfoIn, U32],
        "pidfd_open" => &[I32, U32],
        "pidfd_getfd" => &[Fd, Fd, U32],
        "sigaltstack" => &[StackIn, StackOut],
        "setitimer" => &[Named(ITIMER), ItimervalIn, ItimervalOut],
        "getitimer" => &[Named(ITIMER), ItimervalOut],
        "alarm" => &[U32],
        "setpgid" => &[I32, I32],
        "getpgid" | "getsid" => &[I32],
        "nanosleep" => &[TimespecIn, TimespecRem],
        "clock_nanosleep" => &[Named(CLOCKS), Flags(&TIMER_FLAGS), TimespecIn, TimespecRem],
        "clock_gettime" | "clock_getres" => &[Named(CLOCKS), TimespecOut],
        "gettimeofday" => &[TimevalOut, X],
        "getrandom" => &[OutHex, U, Flags(&GRND)],
        "getcwd" => &[OutStr, U],
        "arch_prctl" => &[Named(ARCH_PRCTL), X],
        "set_robust_list" => &[X, U],
        "prlimit64" => &[I32, Named(RLIMIT), RlimIn, RlimOut],
        "getrlimit" => &[Named(RLIMIT), RlimOut],
        "setrlimit" => &[Named(RLIMIT), RlimIn],
        "futex" => &[X, FutexOp, I32, X, X, I32],
        "rseq" => &[X, Hex, I32, Hex],
        "statx" => &[Fd, Str, Flags(&AT_STATX), Flags(&STATX_MASK), Statx],
        "fadvise64" => &[Fd, I, I, Named(FADVISE)],
        "memfd_create" => &[Str, X],
        "setuid" | "setgid" | "setfsuid" | "setfsgid" => &[Id],
        "setreuid" | "setregid" => &[Id, Id],
        "setresuid" | "setresgid" => &[Id, Id, Id],
        "getpriority" => &[Named(PRIO_WHICH), I32],
        "setpriority" => &[Named(PRIO_WHICH), I32, I32],
        "mremap" => &[X, U, U, Flags(&MREMAP), X],
        "msync" => &[X, U, Flags(&MSYNC)],
        "mlock" | "munlock" => &[X, U],
        "mlock2" => &[X, U, Flags(&MLOCK2)],
        "mlockall" => &[Flags(&MCL)],
        "fallocate" => &[Fd, Flags(&FALLOC), I, I],
        "readahead" => &[Fd, I, U],
        "sync_file_range" => &[Fd, I, I, Flags(&SYNC_FILE_RANGE)],
        "unshare" => &[Flags(&CLONE_FLAGS)],
        "setns" => &[Fd, Flags(&CLONE_FLAGS)],
        "tee" => &[Fd, Fd, U, Flags(&SPLICE_FLAGS)],
        "eventfd" => &[U32],
        "sched_get_priority_max" | "sched_get_priority_min" => &[Named(SCHED_POLICY)],
        "sched_getscheduler" => &[I32],
        "fsetxattr" => &[Fd, Str, In(3), U, Flags(&XATTR_FLAGS)],
        "removexattr" | "lremovexattr" => &[Str, Str],
        "fremovexattr" => &[Fd, Str],
        "restart_syscall" | "getpid" | "getppid" | "gettid" | "getuid" | "geteuid" | "getgid"
        | "getegid" | "fork" | "vfork" | "sched_yield" | "pause" | "setsid" | "getpgrp"
        | "sync" | "munlockall" | "inotify_init" => &[],
        _ => return None,
    })
}

/// Context of one argument's formatting.
struct Cx<'c, 'a, 'b, 'r> {
    call: &'c Call<'a, 'b>,
    style: &'c Style<'r>,
    /// The call's architecture's struct layouts.
    l: &'static Layout,
}

impl<'a> Cx<'_, 'a, '_, '_> {
    fn ret(&self) -> Option<i64> {
        self.call.ret
    }

    /// The call succeeded (its exit is known and not an error).
    fn ok(&self) -> bool {
        self.call.ret.is_some_and(|r| !is_error(r))
    }

    /// The last capture of `arg` (the exit's, else the entry's).
    fn mem(&self, arg: u8) -> Option<Mem<'a>> {
        self.find(arg, None)
    }

    /// The entry's capture of `arg`.
    fn mem_in(&self, arg: u8) -> Option<Mem<'a>> {
        self.call.enter.iter().find(|m| m.arg == arg).copied()
    }

    /// The exit's capture of `arg`, if the call succeeded.
    fn mem_out(&self, arg: u8) -> Option<Mem<'a>> {
        if !self.ok() {
            return None;
        }
        self.call.exit.iter().find(|m| m.arg == arg).copied()
    }

    /// The exit's capture of `arg`, if the call was interrupted to be
    /// restarted (ERESTARTSYS..ERESTART_RESTARTBLOCK).
    fn mem_restart(&self, arg: u8) -> Option<Mem<'a>> {
        if !self
            .call
            .ret
            .is_some_and(crate::capture::interrupted_to_restart)
        {
            return None;
        }
        self.call.exit.iter().find(|m| m.arg == arg).copied()
    }

    fn find(&self, arg: u8, addr: Option<u64>) -> Option<Mem<'a>> {
        let hit = |m: &&Mem<'a>| m.arg == arg && addr.is_none_or(|a| a == m.addr);
        self.call
            .exit
            .iter()
            .find(hit)
            .or_else(|| self.call.enter.iter().find(hit))
            .copied()
    }

    /// Every capture of `arg`, the entry's first, in recorded order.
    fn all(&self, arg: u8) -> impl Iterator<Item = Mem<'a>> + '_ {
        self.call
            .enter
            .iter()
            .chain(self.call.exit.iter())
            .filter(move |m| m.arg == arg)
            .copied()
    }

    /// Capture `m` (its first `data` bytes) quoted, cut to the display
    /// limit when `clip` (not for paths); `...` when anything is missing;
    /// what a redaction policy dropped as `<redacted N bytes>`.
    fn shown(&self, s: &mut String, m: &Mem<'_>, data: &[u8], cut: bool, clip: bool) {
        if let Some(n) = m.redacted {
            if !data.is_empty() {
                push_quoted(s, data, false);
            }
            s.push_str(&redacted_text(n));
        } else if clip {
            self.clipped(s, data, cut);
        } else {
            push_quoted(s, data, cut);
        }
    }

    /// `data` quoted, cut to the display limit; `...` when anything is missing.
    fn clipped(&self, s: &mut String, data: &[u8], cut: bool) {
        let limit = self.style.string_limit;
        if data.len() > limit {
            push_quoted(s, &data[..limit], true)
        } else {
            push_quoted(s, data, cut)
        }
    }

    /// A descriptor, with what it refers to under `-y`.
    fn fd(&self, s: &mut String, fd: i32) {
        if fd == AT_FDCWD {
            s.push_str("AT_FDCWD");
        } else {
            push_i64(s, fd.into());
        }
        self.fd_desc(s, fd);
    }

    fn fd_desc(&self, s: &mut String, fd: i32) {
        let full = match self.style.fds {
            FdStyle::Plain => return,
            FdStyle::Paths => false,
            FdStyle::Full => true,
        };
        if fd < 0 && fd != AT_FDCWD {
            return;
        }
        if let Some(d) = self.style.resolver.describe(fd, full) {
            s.push('<');
            if crate::text::is_socket_name(&d.path) {
                crate::text::escape_socket_name(s, &d.path);
            } else {
                escape_fd_path(s, &d.path);
            }
            if let Some(detail) = &d.detail {
                s.push('<');
                escape_fd_path(s, detail.as_bytes());
                s.push('>');
            }
            s.push('>');
            if d.deleted {
                s.push_str("(deleted)");
            }
        }
    }
}

use crate::fds::AT_FDCWD;

/// Whether a raw return value is an error (-4095..-1), as the kernel
/// returns them.
pub fn is_error(ret: i64) -> bool {
    (-4095..0).contains(&ret)
}

fn cut(m: &Mem<'_>) -> bool {
    m.flags & (mem_flags::TRUNCATED | mem_flags::PARTIAL) != 0
}

fn readable(m: &Mem<'_>) -> bool {
    m.flags & mem_flags::UNREADABLE == 0
}

/// The unsigned integer of field `f` of `d` (little-endian; at most 8 bytes).
fn get(d: &[u8], f: Field) -> Option<u64> {
    let b = d.get(f.off..f.off + f.size)?;
    let mut v = [0u8; 8];
    v[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
    Some(u64::from_le_bytes(v))
}

/// The signed integer of field `f` of `d`.
fn get_i(d: &[u8], f: Field) -> Option<i64> {
    let v = get(d, f)?;
    let bits = (f.size * 8) as u32;
    Some(if bits >= 64 {
        v as i64
    } else {
        ((v << (64 - bits)) as i64) >> (64 - bits)
    })
}

fn i32_at(b: &[u8], off: usize) -> Option<i32> {
    b.get(off..off + 4)
        .map(|s| i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    b.get(off..off + 8)
        .map(|s| u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
}

fn ptr(v: u64) -> String {
    let mut s = String::new();
    push_ptr(&mut s, v);
    s
}

fn push_ptr(s: &mut String, v: u64) {
    if v == 0 {
        s.push_str("NULL");
    } else {
        push_hex(s, v);
    }
}

/// The arguments strace shows before the call returns: up to the first
/// one the kernel fills in.
pub fn args_known_at_entry(arch: Arch, nr: u32) -> usize {
    known_at_entry(id(arch, nr))
}

fn known_at_entry(id: u32) -> usize {
    let info = info(id);
    if info.name == "clone3" {
        return 1;
    }
    match info.kinds {
        Some(sig) => sig.iter().position(|k| k.is_output()).unwrap_or(sig.len()),
        None => 6,
    }
}

/// Whether [`Part::Entry`] leaves arguments for a resumed line that
/// strace separates with `, ` (clone3's exit part starts with its own
/// separator: ` => {...}, 88`).
pub fn has_exit_part(arch: Arch, nr: u32) -> bool {
    let id = id(arch, nr);
    let info = info(id);
    if info.name == "clone3" {
        return false;
    }
    match info.kinds {
        Some(sig) => known_at_entry(id) < sig.len(),
        None => false,
    }
}

/// What an argument of a syscall is, for views that follow descriptors
/// and paths (files, export): from the same tables the decoders use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A file descriptor.
    Fd,
    /// A directory descriptor that the path in argument `path` is relative
    /// to (`AT_FDCWD`: the working directory).
    DirFd { path: u8 },
    /// A path the kernel resolves (relative to the working directory).
    Path,
    /// A path the kernel resolves relative to the directory descriptor in
    /// argument `dirfd`.
    PathAt { dirfd: u8 },
    /// Anything else (numbers, flags, buffers, a symlink's target text).
    Other,
}

/// What an argument's decoded text is, for typed output (`replay --json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// A number (decimal, octal or hex as strace writes it).
    Int,
    /// A file descriptor (`AT_FDCWD` for the working directory).
    Fd,
    /// A path the kernel resolves (its captured string).
    Path,
    /// Another string (a name, a symlink's target text).
    String,
    /// A data buffer (quoted, cut at `-s`).
    Buffer,
    /// Flag names joined by `|`, or one symbolic name.
    Flags,
    /// An address.
    Pointer,
    /// A struct: `{field=value, ...}`.
    Struct,
    /// An array: `[...]` (argv, iovecs, signal sets, descriptor pairs).
    Array,
    /// Anything else (a text of several arguments, as clone's).
    Other,
}

/// The [`ArgType`] of each argument of syscall `nr` of `arch` (`Other`
/// for a syscall without a decoder, whose arguments show as addresses).
pub fn arg_types(arch: Arch, nr: u32) -> [ArgType; 6] {
    let mut t = [ArgType::Pointer; 6];
    let id = id(arch, nr);
    let info = info(id);
    if matches!(info.name, "clone" | "clone3" | "futex" | "restart_syscall") {
        return [ArgType::Other; 6];
    }
    let Some(sig) = info.kinds else {
        return t;
    };
    let roles = roles(arch, nr);
    for (i, k) in sig.iter().enumerate().take(6) {
        t[i] = match k {
            I | I32 | U | U32 | Id | Oct | Hex | OutHex | IntOut | IdOut => ArgType::Int,
            Fd => ArgType::Fd,
            Str if matches!(roles[i], Role::Path | Role::PathAt { .. }) => ArgType::Path,
            Str | OutStr => ArgType::String,
            In(_) | Out | XattrOut(_) | OptVal => ArgType::Buffer,
            Flags(_) | OFlags | PipeFlags | Persona | TypeMode | Named(_) | Sig | FutexOp
            | Proto | SockLevel | SockOpt => ArgType::Flags,
            X => ArgType::Pointer,
            Argv | Envp | Iov(_) | IovOut(_) | SigsetIn | SigsetOut | Fds2 | Pollfds
            | GidsIn(_) | GidsOut | Sembufs(_) | Mmsgs | Dirents => ArgType::Array,
            _ => ArgType::Struct,
        };
    }
    t
}

/// The [`Role`] of each argument of syscall `nr` of `arch`: a table per
/// architecture indexed by number, built on first use (as [`info`]'s): the
/// views that follow paths look up every path call, and working the roles
/// out from the signatures cost more than the rest of the lookup.
pub fn roles(arch: Arch, nr: u32) -> [Role; 6] {
    static TABLES: [std::sync::OnceLock<Vec<[Role; 6]>>; 2] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    let table = match arch {
        Arch::X86_64 => &TABLES[0],
        Arch::Aarch64 => &TABLES[1],
    };
    let t = table.get_or_init(|| {
        (0..arch.syscall_table_len() as u32)
            .map(|n| roles_of(arch, n))
            .collect()
    });
    match t.get(nr as usize) {
        Some(r) => *r,
        None => roles_of(arch, nr),
    }
}

/// [`roles`] worked out from the decoders' signatures and rec's captures.
fn roles_of(arch: Arch, nr: u32) -> [Role; 6] {
    let mut r = [Role::Other; 6];
    let id = id(arch, nr);
    let Some(sig) = info(id).kinds else {
        return r;
    };
    let name = id_name(id);
    let cap = arch.capture_sig(u64::from(nr));
    for (i, k) in sig.iter().enumerate().take(6) {
        if *k == Fd {
            r[i] = Role::Fd;
        }
        // A path is what rec captures as one (not a name or a buffer).
        if cap[i] == crate::capture::Arg::Path {
            r[i] = Role::Path;
            if i > 0 && sig[i - 1] == Fd {
                r[i - 1] = Role::DirFd { path: i as u8 };
                r[i] = Role::PathAt {
                    dirfd: (i - 1) as u8,
                };
            }
        }
    }
    // A symlink's target is text stored in the link, not a path looked up.
    if matches!(&*name, "symlink" | "symlinkat") {
        r[0] = Role::Other;
    }
    r
}

/// Whether syscall `nr` returns a new descriptor (strace's RVAL_FD).
pub fn returns_fd_nr(arch: Arch, nr: u32) -> bool {
    info(id(arch, nr)).returns_fd
}

/// Whether the call `nr(args)` returns a new descriptor: [`returns_fd_nr`],
/// and fcntl's F_DUPFD and F_DUPFD_CLOEXEC (whose result the decoder shows
/// as a descriptor).
pub fn returns_fd_call(arch: Arch, nr: u32, args: &[u64; 6]) -> bool {
    returns_fd_nr(arch, nr)
        || (&*id_name(id(arch, nr)) == "fcntl"
            && matches!(
                args[1] as u32,
                crate::fds::F_DUPFD | crate::fds::F_DUPFD_CLOEXEC
            ))
}

/// restart_syscall's argument as strace writes it: `<... resuming
/// interrupted clock_nanosleep ...>` when the caller knows which call the
/// thread was in (the one that returned ERESTART_RESTARTBLOCK before it:
/// [`Style::interrupted`]), else `<... resuming interrupted system call
/// ...>`.
pub fn restart_syscall_text(arch: Arch, interrupted: Option<u32>) -> String {
    match interrupted {
        Some(nr) => format!("<... resuming interrupted {} ...>", arch.syscall_name(nr)),
        None => "<... resuming interrupted system call ...>".to_string(),
    }
}

/// Writes `name(` and the arguments of `part` (no closing parenthesis).
pub fn write_call(s: &mut String, call: &Call<'_, '_>, part: Part, style: &Style<'_>) {
    s.push_str(&call.arch.syscall_name(call.nr));
    s.push('(');
    write_args(s, call, part, style);
}

/// Writes the arguments of `part` of `call`, comma separated.
pub fn write_args(s: &mut String, call: &Call<'_, '_>, part: Part, style: &Style<'_>) {
    write_args_in(s, call, part, style, &mut None);
}

/// [`write_args`] of the whole call, and where each argument's text lies in
/// what it appended: `spans[i]` is what [`Part::Only`]`(i)` writes, at the
/// cost of one decode. For the calls shown as one text (clone, clone3,
/// futex, restart_syscall) `spans` is None: ask [`Part::Only`] for them.
pub fn write_args_spans(
    s: &mut String,
    call: &Call<'_, '_>,
    style: &Style<'_>,
) -> Option<[std::ops::Range<usize>; 6]> {
    let mut spans = Some(std::array::from_fn(|_| s.len()..s.len()));
    write_args_in(s, call, Part::Whole, style, &mut spans);
    // A decoder may take back what was written before it (prctl's comma
    // after an option shown alone).
    if let Some(sp) = &mut spans {
        for r in sp.iter_mut() {
            r.end = r.end.min(s.len());
            r.start = r.start.min(r.end);
        }
    }
    spans
}

/// [`write_args`], recording each argument's span into `spans` (cleared
/// for the calls shown as one text).
fn write_args_in(
    s: &mut String,
    call: &Call<'_, '_>,
    part: Part,
    style: &Style<'_>,
    spans: &mut Option<[std::ops::Range<usize>; 6]>,
) {
    let id = id(call.arch, call.nr);
    let info = info(id);
    let name = info.name;
    let cx = Cx {
        call,
        style,
        l: call.arch.layout(),
    };
    let args = &call.args;
    let known = known_at_entry(id);
    let range = match part {
        Part::Whole => 0..6,
        Part::Entry => 0..known,
        Part::Exit => known..6,
        Part::Only(i) => i..i + 1,
    };
    let first = range.start;
    if name == "clone" {
        *spans = None;
        // All its arguments are known at entry.
        if first == 0 {
            s.push_str(&clone_text(args));
        }
        return;
    }
    if name == "clone3" {
        *spans = None;
        // strace: the struct at entry; ` => {parent_tid=[N]}, size` at exit.
        let m = cx.mem_in(0).filter(|m| m.data.len() >= 64);
        if range.contains(&0) {
            match m {
                Some(m) => clone_args(cx.l, s, m.data),
                None => push_ptr(s, args[0]),
            }
        }
        if range.contains(&1) {
            if let Some(m) = m {
                clone_args_out(cx.l, s, m.data, cx.ret());
            }
            let _ = write!(s, ", {}", args[1]);
        }
        return;
    }
    if name == "restart_syscall" {
        *spans = None;
        // Its one text is shown at entry (it has no arguments: an exit
        // part would repeat it).
        if matches!(part, Part::Whole | Part::Entry | Part::Only(0)) {
            s.push_str(&restart_syscall_text(call.arch, style.interrupted));
        }
        return;
    }
    if name == "futex" {
        *spans = None;
        if first == 0 {
            futex_args(s, &cx);
        }
        return;
    }
    let Some(sig) = info.kinds else {
        for (i, a) in args.iter().enumerate() {
            if !range.contains(&i) {
                continue;
            }
            if i > first {
                s.push_str(", ");
            }
            let start = s.len();
            push_ptr(s, *a);
            if let Some(sp) = spans {
                sp[i] = start..s.len();
            }
        }
        return;
    };
    // strace shows only the arguments a command reads.
    let shown = match name {
        "fcntl" => match args[1] as u32 {
            1 | 3 | 9 | 11 | 1025 | 1032 | 1034 => 2,
            _ => 3,
        },
        // The new address only with MREMAP_FIXED.
        "mremap" if args[3] & 2 == 0 => 4,
        "ioctl" if IOCTL.iter().all(|(n, _)| *n != u64::from(args[1] as u32)) => 3,
        _ => sig.len(),
    };
    for (i, k) in sig.iter().enumerate().take(shown) {
        if matches!(k, Oct) && i > 0 && matches!(sig[i - 1], OFlags) && args[i - 1] & 0o100 == 0 {
            break;
        }
        if matches!(k, Dev) && !matches!(args[i - 1] as u32 & 0o170000, 0o020000 | 0o060000) {
            break;
        }
        if !range.contains(&i) || matches!(k, Skip) {
            continue;
        }
        if i > first {
            s.push_str(", ");
        }
        let start = s.len();
        fmt_arg(s, *k, i, &cx);
        if let Some(sp) = spans {
            sp[i] = start..s.len();
        }
    }
}

fn fmt_arg(s: &mut String, kind: K, i: usize, cx: &Cx<'_, '_, '_, '_>) {
    let args = &cx.call.args;
    let v = args[i];
    let ret = cx.ret();
    let a = i as u8;
    match kind {
        I => push_i64(s, v as i64),
        I32 => push_i64(s, (v as u32 as i32).into()),
        U => push_u64(s, v),
        U32 => push_u64(s, (v as u32).into()),
        Id => match v as u32 {
            u32::MAX => s.push_str("-1"),
            id => push_u64(s, id.into()),
        },
        X => push_ptr(s, v),
        Hex => {
            if v == 0 {
                s.push('0');
            } else {
                push_hex(s, v);
            }
        }
        Flags(set) => push_flags(s, u64::from(v as u32), set),
        PipeFlags => push_flags(s, u64::from(v as u32), pipe_set(cx.call.arch)),
        Persona if v as u32 == u32::MAX => s.push_str("0xffffffff"),
        Persona => push_persona(s, v as u32),
        FutexOp => s.push_str(&futex_op(u64::from(v as u32))),
        Named(names) => push_named(s, names, u64::from(v as u32)),
        Oct => push_mode_oct(s, v as u32),
        TypeMode => {
            let m = v as u32;
            match mode_type_name(m) {
                Some(t) => {
                    s.push_str(t);
                    s.push('|');
                    push_perm_bits(s, m);
                }
                None => push_perm_bits(s, m),
            }
        }
        Dev => {
            // The kernel's new_decode_dev split of a dev_t.
            let d = v as u32;
            let major = (d & 0xfff00) >> 8;
            let minor = (d & 0xff) | ((d >> 12) & 0xfff00);
            let _ = write!(s, "makedev({major:#x}, {minor:#x})");
        }
        Fd => cx.fd(s, v as i32),
        Sig => s.push_str(&signal_name(v as u32 as i32)),
        OFlags => push_open_flags(s, cx.call.arch, u64::from(v as u32)),
        FcntlArg => fcntl_arg(s, i, cx),
        IoctlArg => ioctl_arg(s, i, cx),
        PrctlArgs => prctl_args(s, cx),
        Sysinfo => match cx.mem_out(a).filter(|m| m.data.len() >= cx.l.sysinfo.size) {
            Some(m) => s.push_str(&sysinfo_text(cx.l, m.data)),
            None => push_ptr(s, v),
        },
        XattrOut(n) if args[n] == 0 => push_ptr(s, v),
        XattrOut(_) => fmt_arg(s, Out, i, cx),
        Str | In(_) | Out => {
            if v == 0 {
                s.push_str("NULL");
                return;
            }
            let m = match cx.mem(a) {
                Some(m) if readable(&m) => m,
                _ => return push_ptr(s, v),
            };
            if kind == Out && !cx.ok() {
                return push_ptr(s, v);
            }
            let want = match kind {
                In(n) => args[n] as usize,
                Out => ret.unwrap_or(0).max(0) as usize,
                _ => m.data.len(),
            };
            let data = &m.data[..m.data.len().min(want)];
            let missing = cut(&m) || data.len() < want;
            cx.shown(s, &m, data, missing, kind != Str);
        }
        Argv | Envp => argv(s, kind, i, cx),
        Iov(n) | IovOut(n) => {
            if kind == IovOut(n) && !cx.ok() {
                return push_ptr(s, v);
            }
            let Some(m) = cx.mem(a).filter(readable) else {
                return push_ptr(s, v);
            };
            s.push('[');
            let count = (args[n] as usize).min(m.data.len() / cx.l.iovec.size);
            iovecs(s, m.data, count, 8 + a, cx, kind == IovOut(n));
            s.push(']');
        }
        Sockaddr(_) => match cx.mem(a).filter(|m| m.data.len() >= 2) {
            Some(m) => s.push_str(&sockaddr_text(m.data)),
            None => push_ptr(s, v),
        },
        SockaddrOut => match cx.mem_out(a).filter(|m| m.data.len() >= 2) {
            Some(m) => s.push_str(&sockaddr_text(m.data)),
            None => push_ptr(s, v),
        },
        SockLenOut => {
            // strace: the length given, `[given => written]` when the
            // kernel wrote another.
            let given = cx.mem_in(a).and_then(|m| i32_at(m.data, 0));
            let written = cx.mem_out(a).and_then(|m| i32_at(m.data, 0));
            match (given, written) {
                _ if v == 0 => push_ptr(s, v),
                (Some(g), Some(w)) if g != w => {
                    let _ = write!(s, "[{g} => {w}]");
                }
                (_, Some(n)) | (Some(n), None) => {
                    let _ = write!(s, "[{n}]");
                }
                // Traces without the length's own capture: the sockaddr
                // before it was read at exit with the length written.
                (None, None) => match cx.mem_out(a - 1).filter(readable) {
                    Some(m) => {
                        let _ = write!(s, "[{}]", m.data.len());
                    }
                    None => push_ptr(s, v),
                },
            }
        }
        Proto => match args[0] as u32 {
            2 | 10 => s.push_str(&named(IPPROTO, u64::from(v as u32))),
            _ => {
                let _ = write!(s, "{}", v as u32 as i32);
            }
        },
        SockLevel => s.push_str(&named(SOL, u64::from(v as u32))),
        SockOpt => match args[1] as u32 {
            1 => s.push_str(&named(SO, u64::from(v as u32))),
            6 => s.push_str(&named(TCP_OPT, u64::from(v as u32))),
            41 => s.push_str(&named(IPV6_OPT, u64::from(v as u32))),
            _ => {
                let _ = write!(s, "{}", v as u32 as i32);
            }
        },
        OptVal => match cx.mem(a).filter(readable) {
            Some(m) => optval(s, &m, cx),
            None => push_ptr(s, v),
        },
        OptOut => match cx.mem_out(a).filter(readable) {
            Some(m) => optval(s, &m, cx),
            None => push_ptr(s, v),
        },
        IntOut => match cx.mem_out(a).and_then(|m| i32_at(m.data, 0)) {
            Some(n) => {
                let _ = write!(s, "[{n}]");
            }
            None => push_ptr(s, v),
        },
        Fds2 => match cx.mem_out(a).filter(|m| m.data.len() == 8) {
            Some(m) => {
                let fd = |o| i32_at(m.data, o).unwrap_or(-1);
                s.push('[');
                cx.fd(s, fd(0));
                s.push_str(", ");
                cx.fd(s, fd(4));
                s.push(']');
            }
            None => push_ptr(s, v),
        },
        WaitStatus => match cx
            .mem_out(a)
            .and_then(|m| i32_at(m.data, 0))
            .filter(|_| ret.is_some_and(|r| r > 0))
        {
            Some(st) => {
                let _ = write!(s, "[{}]", wait_status_text(st));
            }
            None => push_ptr(s, v),
        },
        Utsname => match cx.mem_out(a).filter(|m| m.data.len() >= cx.l.utsname.size) {
            Some(m) => {
                let field = |f: Field| {
                    let d = &m.data[f.off..f.off + f.size];
                    quoted(
                        &d[..d.iter().position(|&c| c == 0).unwrap_or(d.len())],
                        false,
                    )
                };
                let _ = write!(
                    s,
                    "{{sysname={}, nodename={}, ...}}",
                    field(cx.l.utsname.sysname),
                    field(cx.l.utsname.nodename)
                );
            }
            None => push_ptr(s, v),
        },
        OutHex => match cx.mem_out(a).filter(readable) {
            Some(m) => {
                let n = m.data.len().min(cx.style.string_limit);
                s.push('"');
                for b in &m.data[..n] {
                    let _ = write!(s, "\\x{b:02x}");
                }
                s.push('"');
                if n < m.data.len() || cut(&m) {
                    s.push_str("...");
                }
            }
            None => push_ptr(s, v),
        },
        SigreturnMask => match cx.mem_in(6).filter(|m| m.data.len() == 8) {
            Some(m) => {
                let _ = write!(
                    s,
                    "{{mask={}}}",
                    sigset_text(u64_at(m.data, 0).unwrap_or(0))
                );
            }
            // Recorded before rec read the frame, or unreadable.
            None => s.push_str("{mask=?}"),
        },
        Pollfds => match cx.mem_in(a).filter(readable) {
            Some(m) => pollfds_in(s, m.data, cx),
            None => push_ptr(s, v),
        },
        OutStr => match cx.mem_out(a).filter(|_| ret.is_some_and(|r| r > 0)) {
            Some(m) => {
                let n = (ret.unwrap_or(0) as usize).min(m.data.len());
                let d = &m.data[..n];
                let d = d.strip_suffix(b"\0").unwrap_or(d);
                push_quoted(s, d, cut(&m));
            }
            None => push_ptr(s, v),
        },
        SigsetIn | SigsetOut => {
            let m = if kind == SigsetIn {
                cx.mem_in(a)
            } else {
                cx.mem_out(a)
            };
            match m.filter(|m| m.data.len() >= cx.l.kernel_sigset) {
                Some(m) => s.push_str(&sigset_text(u64_at(m.data, 0).unwrap_or(0))),
                None => push_ptr(s, v),
            }
        }
        SigactionIn | SigactionOut => {
            let m = if kind == SigactionIn {
                cx.mem_in(a)
            } else {
                cx.mem_out(a)
            };
            match m.filter(|m| m.data.len() >= cx.l.sigaction.size) {
                Some(m) => sigaction(cx.l, s, m.data),
                None => push_ptr(s, v),
            }
        }
        Statx => match cx
            .mem_out(a)
            .filter(|m| m.data.len() >= cx.l.statx.stx_size.off + 8 && ret == Some(0))
        {
            Some(m) => statx(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        Dirents => {
            if ret == Some(0) {
                let _ = write!(s, "{} /* 0 entries */", ptr(v));
                return;
            }
            match cx
                .mem_out(a)
                .filter(|m| ret.is_some_and(|r| r > 0) && m.data.len() >= 19)
            {
                Some(m) => {
                    let reclen = cx.l.dirent64.d_reclen;
                    let (mut n, mut off) = (0, 0usize);
                    while let Some(len) = get(&m.data[off.min(m.data.len())..], reclen) {
                        if len == 0 {
                            break;
                        }
                        n += 1;
                        off += len as usize;
                    }
                    let more = if off < ret.unwrap_or(0) as usize {
                        "+"
                    } else {
                        ""
                    };
                    let _ = write!(s, "{} /* {n}{more} entries */", ptr(v));
                }
                None => push_ptr(s, v),
            }
        }
        RlimIn | RlimOut => {
            let m = if kind == RlimIn {
                cx.mem_in(a)
            } else {
                cx.mem_out(a)
            };
            match m.filter(|m| m.data.len() >= cx.l.rlimit.size) {
                Some(m) => {
                    let _ = write!(
                        s,
                        "{{rlim_cur={}, rlim_max={}}}",
                        rlim(get(m.data, cx.l.rlimit.rlim_cur).unwrap_or(0)),
                        rlim(get(m.data, cx.l.rlimit.rlim_max).unwrap_or(0))
                    );
                }
                None => push_ptr(s, v),
            }
        }
        Stat => match cx
            .mem_out(a)
            .filter(|m| m.data.len() >= cx.l.stat.st_size.off + 8)
        {
            Some(m) => stat(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        Statfs => match cx.mem_out(a).filter(|m| m.data.len() >= cx.l.statfs.size) {
            Some(m) => statfs(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        OpenHow => match cx.mem_in(a).filter(|m| m.data.len() >= cx.l.open_how.size) {
            Some(m) => open_how(cx.l, cx.call.arch, s, m.data),
            None => push_ptr(s, v),
        },
        Utimens => match cx
            .mem_in(a)
            .filter(|m| m.data.len() >= 2 * cx.l.timespec.size)
        {
            Some(m) => {
                s.push('[');
                utimens_one(cx.l, s, m.data, cx.style.utc_offset);
                s.push_str(", ");
                utimens_one(cx.l, s, &m.data[cx.l.timespec.size..], cx.style.utc_offset);
                s.push(']');
            }
            None => push_ptr(s, v),
        },
        MsgIn => match cx.mem_in(a).filter(|m| m.data.len() >= cx.l.msghdr.size) {
            Some(m) => msghdr(s, m.data, a, cx, false),
            None => push_ptr(s, v),
        },
        MsgOut => match cx.mem_out(a).filter(|m| m.data.len() >= cx.l.msghdr.size) {
            Some(m) => msghdr(s, m.data, a, cx, true),
            None => push_ptr(s, v),
        },
        OffInOut => match cx.mem_in(a).and_then(|m| u64_at(m.data, 0)) {
            Some(before) => {
                let _ = write!(s, "[{}]", before as i64);
                if let Some(after) = cx.mem_out(a).and_then(|m| u64_at(m.data, 0)) {
                    let _ = write!(s, " => [{}]", after as i64);
                }
            }
            None => push_ptr(s, v),
        },
        FdSet => match cx.mem_in(a).filter(readable) {
            Some(m) => fd_set(s, m.data, args[0] as u32 as i32, Some(cx)),
            None => push_ptr(s, v),
        },
        TimevalIn => match cx.mem_in(a).filter(|m| m.data.len() >= cx.l.timeval.size) {
            Some(m) => timeval(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        TimevalOut => match cx.mem_out(a).filter(|m| m.data.len() >= cx.l.timeval.size) {
            Some(m) => timeval(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        TimespecIn => match cx.mem_in(a).filter(|m| m.data.len() >= cx.l.timespec.size) {
            Some(m) => timespec(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        TimespecOut => match cx.mem_out(a).filter(|m| m.data.len() >= cx.l.timespec.size) {
            Some(m) => timespec(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        // Only significant when the call was interrupted to be restarted
        // (and, for clock_nanosleep, the sleep was relative), as strace.
        TimespecRem => match cx
            .mem_restart(a)
            .filter(|m| m.data.len() >= cx.l.timespec.size)
            .filter(|_| a != 3 || cx.call.args[1] & 1 == 0)
        {
            Some(m) => timespec(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        SiginfoIn => match cx.mem_in(a).filter(|m| m.data.len() >= 16) {
            Some(m) => {
                let signo = i32_at(m.data, cx.l.siginfo.si_signo.off).unwrap_or(0);
                s.push_str(&siginfo(cx.l, cx.call.arch, signo, m.data));
            }
            None => push_ptr(s, v),
        },
        SiginfoOut => match cx.mem_out(a).filter(|m| m.data.len() >= 16) {
            Some(m) => {
                let signo = i32_at(m.data, cx.l.siginfo.si_signo.off).unwrap_or(0);
                s.push_str(&siginfo(cx.l, cx.call.arch, signo, m.data));
            }
            None => push_ptr(s, v),
        },
        StackIn => match cx.mem_in(a).filter(|m| m.data.len() >= cx.l.stack_t.size) {
            Some(m) => stack_t(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        StackOut => match cx.mem_out(a).filter(|m| m.data.len() >= cx.l.stack_t.size) {
            Some(m) => stack_t(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        ItimervalIn => match cx.mem_in(a).filter(|m| m.data.len() >= cx.l.itimerval.size) {
            Some(m) => itimerval(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        ItimervalOut => match cx
            .mem_out(a)
            .filter(|m| m.data.len() >= cx.l.itimerval.size)
        {
            Some(m) => itimerval(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        RusageOut => match cx.mem_out(a).filter(|m| m.data.len() >= cx.l.rusage.size) {
            Some(m) => rusage(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        EpollEventIn => match cx
            .mem_in(a)
            .filter(|m| m.data.len() >= cx.l.epoll_event.size)
        {
            Some(m) => epoll_event(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        EpollEventsOut => match cx.mem_out(a).filter(readable) {
            Some(m) => {
                let n =
                    (ret.unwrap_or(0).max(0) as usize).min(m.data.len() / cx.l.epoll_event.size);
                s.push('[');
                for k in 0..n {
                    if k > 0 {
                        s.push_str(", ");
                    }
                    epoll_event(cx.l, s, &m.data[k * cx.l.epoll_event.size..]);
                }
                s.push(']');
            }
            None => push_ptr(s, v),
        },
        Skip => {}
        Sembufs(n) => match cx.mem_in(a).filter(readable) {
            Some(m) => sembufs(cx.l, s, m.data, args[n] as usize),
            None => push_ptr(s, v),
        },
        Tms => match cx.mem_out(a).filter(|m| m.data.len() >= cx.l.tms.size) {
            Some(m) => tms(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        GidsOut => match cx.mem_out(a).filter(readable) {
            Some(m) => ids(s, m.data, ret.unwrap_or(0).max(0) as usize),
            None => push_ptr(s, v),
        },
        GidsIn(n) => match cx.mem_in(a).filter(readable) {
            Some(m) => ids(s, m.data, args[n] as u32 as usize),
            None => push_ptr(s, v),
        },
        IdOut => match cx.mem_out(a).filter(|m| m.data.len() >= 4) {
            Some(m) => ids(s, m.data, 1),
            None => push_ptr(s, v),
        },
        SchedParamIn | SchedParamOut => {
            let m = if kind == SchedParamIn {
                cx.mem_in(a)
            } else {
                cx.mem_out(a)
            };
            match m.and_then(|m| get_i(m.data, cx.l.sched_param.sched_priority)) {
                Some(p) => {
                    let _ = write!(s, "[{p}]");
                }
                None => push_ptr(s, v),
            }
        }
        Utimbuf => match cx.mem_in(a).filter(|m| m.data.len() >= 16) {
            Some(m) => utimbuf(s, m.data, cx.style.utc_offset),
            None => push_ptr(s, v),
        },
        Utimes => match cx
            .mem_in(a)
            .filter(|m| m.data.len() >= 2 * cx.l.timeval.size)
        {
            Some(m) => {
                s.push('[');
                timeval_dated(cx.l, s, m.data, cx.style.utc_offset);
                s.push_str(", ");
                timeval_dated(cx.l, s, &m.data[cx.l.timeval.size..], cx.style.utc_offset);
                s.push(']');
            }
            None => push_ptr(s, v),
        },
        TimeOut => match cx.mem_out(a).and_then(|m| u64_at(m.data, 0)) {
            Some(t) => {
                let date = date(t as i64, cx.style.utc_offset, None);
                let _ = write!(s, "[{} /* {date} */]", t as i64);
            }
            None => push_ptr(s, v),
        },
        CpuSetIn(n) => match cx.mem_in(a).filter(readable) {
            Some(m) => cpu_set(s, &m.data[..m.data.len().min(args[n] as usize)]),
            None => push_ptr(s, v),
        },
        CpuSetOut => match cx.mem_out(a).filter(readable) {
            Some(m) => {
                let n = (ret.unwrap_or(0).max(0) as usize).min(m.data.len());
                cpu_set(s, &m.data[..n]);
            }
            None => push_ptr(s, v),
        },
        ItimerspecIn => match cx
            .mem_in(a)
            .filter(|m| m.data.len() >= cx.l.itimerspec.size)
        {
            Some(m) => itimerspec(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        ItimerspecOut => match cx
            .mem_out(a)
            .filter(|m| m.data.len() >= cx.l.itimerspec.size)
        {
            Some(m) => itimerspec(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        OffIn => match cx.mem_in(a).and_then(|m| u64_at(m.data, 0)) {
            Some(o) => {
                let _ = write!(s, "[{}]", o as i64);
            }
            None => push_ptr(s, v),
        },
        Mmsgs => {
            let out_ret = cx.call.arch.sysno(cx.call.nr) == Some(crate::Sysno::recvmmsg);
            let m = if out_ret { cx.mem_out(a) } else { cx.mem_in(a) };
            match m.filter(readable) {
                Some(m) => {
                    let n = if out_ret {
                        ret.unwrap_or(0).max(0) as usize
                    } else {
                        args[2] as u32 as usize
                    };
                    mmsghdrs(cx.l, s, m.data, n);
                }
                None => push_ptr(s, v),
            }
        }
        SigmaskPair => match cx.mem_in(a).filter(|m| m.data.len() >= 16) {
            Some(m) => {
                let (set, len) = (
                    u64_at(m.data, 0).unwrap_or(0),
                    u64_at(m.data, 8).unwrap_or(0),
                );
                s.push_str("{sigmask=");
                match cx
                    .find(8 + a, Some(set))
                    .filter(|m| set != 0 && m.data.len() >= 8)
                {
                    Some(m) => s.push_str(&sigset_text(u64_at(m.data, 0).unwrap_or(0))),
                    None => push_ptr(s, set),
                }
                let _ = write!(s, ", sigsetsize={len}}}");
            }
            None => push_ptr(s, v),
        },
        FutexWaiters => match cx.mem_in(a).filter(readable) {
            Some(m) => futex_waiters(cx.l, s, m.data, args[1] as u32 as usize),
            None => push_ptr(s, v),
        },
        // Written by write_args itself (its parts straddle the arguments).
        CloneArgs => {}
    }
}

/// futex(2)'s arguments, those its operation uses, as strace shows them.
fn futex_args(s: &mut String, cx: &Cx<'_, '_, '_, '_>) {
    let args = &cx.call.args;
    let (val, val2, val3) = (args[2] as u32, args[3] as u32, args[5] as u32);
    push_ptr(s, args[0]);
    s.push_str(", ");
    s.push_str(&futex_op(u64::from(args[1] as u32)));
    let timeout = |s: &mut String| match cx.mem_in(3).filter(|m| m.data.len() >= cx.l.timespec.size)
    {
        Some(m) => timespec(cx.l, s, m.data),
        None => push_ptr(s, args[3]),
    };
    let bitset = |s: &mut String| {
        if val3 == u32::MAX {
            s.push_str("FUTEX_BITSET_MATCH_ANY");
        } else {
            let _ = write!(s, "{val3:#x}");
        }
    };
    match args[1] as u32 & 127 {
        0 => {
            let _ = write!(s, ", {val}, ");
            timeout(s);
        }
        6 | 13 => {
            s.push_str(", ");
            timeout(s);
        }
        9 => {
            let _ = write!(s, ", {val}, ");
            timeout(s);
            s.push_str(", ");
            bitset(s);
        }
        10 => {
            let _ = write!(s, ", {val}, ");
            bitset(s);
        }
        3 => {
            let _ = write!(s, ", {val}, {val2}, {}", ptr(args[4]));
        }
        4 | 12 => {
            let _ = write!(s, ", {val}, {val2}, {}, {val3}", ptr(args[4]));
        }
        5 => {
            let _ = write!(s, ", {val}, {val2}, {}, {val3:#x}", ptr(args[4]));
        }
        11 => {
            let _ = write!(s, ", {val}, ");
            timeout(s);
            let _ = write!(s, ", {}", ptr(args[4]));
        }
        1 | 2 => {
            let _ = write!(s, ", {val}");
        }
        7 | 8 => {}
        _ => {
            let _ = write!(
                s,
                ", {val}, {}, {}, {}",
                ptr(args[3]),
                ptr(args[4]),
                if val3 == 0 {
                    "0".to_string()
                } else {
                    format!("{val3:#x}")
                }
            );
        }
    }
}

/// fcntl's third argument, as its command says: FD_CLOEXEC for F_SETFD,
/// file status flags for F_SETFL, a struct flock for the lock commands,
/// a signal for F_SETSIG, else an int.
fn fcntl_arg(s: &mut String, i: usize, cx: &Cx<'_, '_, '_, '_>) {
    let v = cx.call.args[i];
    match cx.call.args[1] as u32 {
        2 => s.push_str(&flag_names(u64::from(v as u32), &FD_FLAGS)),
        4 => push_open_flags(s, cx.call.arch, u64::from(v as u32)),
        10 => s.push_str(&signal_name(v as u32 as i32)),
        5 | 36 => match cx
            .mem_out(i as u8)
            .or_else(|| cx.mem_in(i as u8))
            .filter(|m| m.data.len() >= cx.l.flock.size)
        {
            Some(m) => flock(cx.l, s, m.data, true),
            None => push_ptr(s, v),
        },
        6 | 7 | 37 | 38 => match cx
            .mem_in(i as u8)
            .filter(|m| m.data.len() >= cx.l.flock.size)
        {
            Some(m) => flock(cx.l, s, m.data, false),
            None => push_ptr(s, v),
        },
        // F_DUPFD's argument is the lowest number the copy may get, not a
        // descriptor: a number under -y too.
        _ => {
            let _ = write!(s, "{}", v as u32 as i32);
        }
    }
}

/// ioctl's third argument for the requests rec captures (see
/// `capture::IOCTL_ARG2`); a pointer for the rest.
fn ioctl_arg(s: &mut String, i: usize, cx: &Cx<'_, '_, '_, '_>) {
    let v = cx.call.args[i];
    let a = i as u8;
    match cx.call.args[1] as u32 {
        0x5401 => match cx.mem_out(a).filter(|m| m.data.len() >= cx.l.termios.size) {
            Some(m) => termios(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        0x5402..=0x5404 => match cx.mem_in(a).filter(|m| m.data.len() >= cx.l.termios.size) {
            Some(m) => termios(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        0x5413 => match cx.mem_out(a).filter(|m| m.data.len() >= cx.l.winsize.size) {
            Some(m) => winsize(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        0x5414 => match cx.mem_in(a).filter(|m| m.data.len() >= cx.l.winsize.size) {
            Some(m) => winsize(cx.l, s, m.data),
            None => push_ptr(s, v),
        },
        0x540f | 0x541b => match cx.mem_out(a).and_then(|m| i32_at(m.data, 0)) {
            Some(n) => {
                let _ = write!(s, "[{n}]");
            }
            None => push_ptr(s, v),
        },
        0x5410 | 0x5421 => match cx.mem_in(a).and_then(|m| i32_at(m.data, 0)) {
            Some(n) => {
                let _ = write!(s, "[{n}]");
            }
            None => push_ptr(s, v),
        },
        // FIOCLEX/FIONCLEX take no argument.
        0x5450 | 0x5451 => {}
        // FICLONE's source descriptor, shown as a number.
        0x4004_9409 => {
            let _ = write!(s, "{}", v as u32 as i32);
        }
        _ => push_ptr(s, v),
    }
}

/// prctl's arguments after the option, as strace shows each option's.
fn prctl_args(s: &mut String, cx: &Cx<'_, '_, '_, '_>) {
    let args = &cx.call.args;
    let opt = args[0] as u32;
    let rest = |s: &mut String, n: usize| {
        for v in &args[1..=n] {
            let _ = write!(s, ", {v:#x}");
        }
    };
    match opt {
        // PR_GET_DUMPABLE, PR_GET_KEEPCAPS, PR_GET_SECCOMP, PR_GET_TIMERSLACK,
        // PR_GET_NO_NEW_PRIVS: no argument.
        3 | 7 | 21 | 30 | 39 => {
            // strace shows the option alone; the comma before was written
            // (unless this argument is shown alone, for --json).
            if s.ends_with(", ") {
                s.truncate(s.len() - 2);
            }
        }
        1 => {
            s.push_str(&signal_name(args[1] as u32 as i32));
        }
        2 | 37 => match cx.mem_out(1).and_then(|m| i32_at(m.data, 0)) {
            Some(n) if opt == 2 => {
                let _ = write!(s, "[{}]", signal_name(n));
            }
            Some(n) => {
                let _ = write!(s, "[{n}]");
            }
            None => push_ptr(s, args[1]),
        },
        4 => s.push_str(&named(SUID_DUMP, args[1])),
        15 | 16 => {
            let m = if opt == 15 {
                cx.mem_in(1)
            } else {
                cx.mem_out(1)
            };
            match m.filter(readable) {
                Some(m) => {
                    let d = m.data;
                    let d = &d[..d.iter().position(|&c| c == 0).unwrap_or(d.len())];
                    push_quoted(s, d, false);
                }
                None => push_ptr(s, args[1]),
            }
        }
        8 | 23 | 24 | 36 => {
            let _ = write!(s, "{}", args[1]);
        }
        29 => {
            let _ = write!(s, "{}", args[1]);
        }
        38 => {
            let _ = write!(s, "{}, {}, {}, {}", args[1], args[2], args[3], args[4]);
        }
        _ => {
            let _ = write!(s, "{:#x}", args[1]);
            rest(s, 4);
        }
    }
}

/// argv (`["ls", "-l"]`) or envp (`0x7ff... /* 3 vars */`).
fn argv(s: &mut String, kind: K, i: usize, cx: &Cx<'_, '_, '_, '_>) {
    let v = cx.call.args[i];
    let a = i as u8;
    let array = cx.mem(a);
    if array.is_some_and(|m| !readable(&m)) {
        return push_ptr(s, v);
    }
    // The elements: through the stored pointer array when there is one,
    // else every string captured for this argument, in order.
    let elems: Vec<Option<Mem<'_>>> = match array {
        Some(m) => (0..m.data.len() / 8)
            .filter_map(|k| u64_at(m.data, k * 8))
            .take_while(|&p| p != 0)
            .map(|p| cx.find(8 + a, Some(p)))
            .collect(),
        None => cx.all(8 + a).map(Some).collect(),
    };
    if array.is_none() && elems.is_empty() {
        return push_ptr(s, v);
    }
    let incomplete = array.is_some_and(|m| cut(&m));
    if kind == Envp {
        let more = if incomplete { "+" } else { "" };
        let noun = if elems.len() == 1 && !incomplete {
            "var"
        } else {
            "vars"
        };
        let _ = write!(s, "{} /* {}{more} {noun} */", ptr(v), elems.len());
        return;
    }
    s.push('[');
    let ptrs = array.map(|m| m.data);
    for (k, e) in elems.iter().enumerate() {
        if k > 0 {
            s.push_str(", ");
        }
        match e {
            Some(e) if readable(e) => cx.shown(s, e, e.data, cut(e), true),
            _ => push_ptr(s, ptrs.and_then(|d| u64_at(d, k * 8)).unwrap_or(0)),
        }
    }
    s.push(']');
    if incomplete {
        s.push_str("...");
    }
}

/// `{iov_base="...", iov_len=N}, ...` for `count` iovecs of `d`, their
/// buffers from the captures of `sub`; for buffers the kernel filled
/// (`filled`), no more bytes than the call moved.
fn iovecs(s: &mut String, d: &[u8], count: usize, sub: u8, cx: &Cx<'_, '_, '_, '_>, filled: bool) {
    let sz = cx.l.iovec.size;
    // What the kernel moved in all: the rest of the buffers are shown
    // empty once it is used up (strace: output buffers up to the result).
    let mut left = match cx.call.ret {
        Some(r) if r >= 0 && filled => r as u64,
        _ => u64::MAX,
    };
    let limit_all = cx.style.string_limit;
    let mut shown_total = 0usize;
    for k in 0..count {
        let e = &d[k * sz..];
        let (Some(base), Some(len)) = (get(e, cx.l.iovec.iov_base), get(e, cx.l.iovec.iov_len))
        else {
            break;
        };
        if k > 0 {
            s.push_str(", ");
        }
        s.push_str("{iov_base=");
        let moved = len.min(left);
        match cx.find(sub, Some(base)) {
            Some(m) if readable(&m) => {
                let take = (m.data.len() as u64).min(moved) as usize;
                let room = limit_all.saturating_sub(shown_total);
                let data = &m.data[..take.min(room)];
                shown_total += data.len();
                cx.shown(s, &m, data, data.len() < moved as usize, false);
            }
            _ if moved == 0 && base != 0 && left != u64::MAX => s.push_str("\"\""),
            _ => push_ptr(s, base),
        }
        left = left.saturating_sub(moved);
        let _ = write!(s, ", iov_len={len}}}");
    }
}

/// A socket option's value: `[1]` for an int, else its bytes.
fn optval(s: &mut String, m: &Mem<'_>, cx: &Cx<'_, '_, '_, '_>) {
    match i32_at(m.data, 0).filter(|_| m.data.len() == 4 && !cut(m)) {
        Some(n) => {
            let _ = write!(s, "[{n}]");
        }
        None => cx.clipped(s, m.data, cut(m)),
    }
}

fn pollfds_in(s: &mut String, d: &[u8], cx: &Cx<'_, '_, '_, '_>) {
    s.push('[');
    let p = cx.l.pollfd;
    for (k, e) in d.chunks_exact(p.size).enumerate() {
        if k > 0 {
            s.push_str(", ");
        }
        s.push_str("{fd=");
        cx.fd(s, get_i(e, p.fd).unwrap_or(-1) as i32);
        let _ = write!(
            s,
            ", events={}}}",
            flag_names(get(e, p.events).unwrap_or(0), &POLL)
        );
    }
    s.push(']');
}

/// msghdr: `{msg_name=..., msg_namelen=N, msg_iov=[...], msg_iovlen=N,
/// msg_control=[...], msg_controllen=N, msg_flags=...}`. Its name, iov
/// buffers and control are the captures of `8 + arg`, by address.
fn msghdr(s: &mut String, d: &[u8], arg: u8, cx: &Cx<'_, '_, '_, '_>, out: bool) {
    let h = cx.l.msghdr;
    let g = |f| get(d, f).unwrap_or(0);
    let (name, namelen) = (g(h.msg_name), g(h.msg_namelen) as u32);
    let (iov, iovlen) = (g(h.msg_iov), g(h.msg_iovlen));
    let (control, controllen) = (g(h.msg_control), g(h.msg_controllen));
    let flags = g(h.msg_flags) as u32;
    let sub = 8 + arg;
    s.push_str("{msg_name=");
    match cx
        .find(sub, Some(name))
        .filter(|m| name != 0 && m.data.len() >= 2)
    {
        Some(m) => s.push_str(&sockaddr_text(m.data)),
        None => push_ptr(s, name),
    }
    let _ = write!(s, ", msg_namelen={namelen}, msg_iov=");
    let array = cx
        .find(sub, Some(iov))
        .filter(|m| iov != 0 && m.data.len() as u64 == iovlen * cx.l.iovec.size as u64);
    match array {
        Some(m) => {
            s.push('[');
            iovecs(s, m.data, iovlen as usize, sub, cx, out);
            s.push(']');
        }
        None => push_ptr(s, iov),
    }
    let _ = write!(s, ", msg_iovlen={iovlen}");
    if controllen > 0 {
        s.push_str(", msg_control=");
        match cx.find(sub, Some(control)) {
            Some(m) if readable(&m) => cmsgs(cx.l, s, m.data),
            _ => push_ptr(s, control),
        }
    }
    let _ = write!(
        s,
        ", msg_controllen={controllen}, msg_flags={}}}",
        flag_names(u64::from(flags), &MSG)
    );
}

/// The return value as strace writes it after ` = `.
pub fn return_text(call: &Call<'_, '_>, style: &Style<'_>) -> String {
    let mut s = String::new();
    write_return(&mut s, call, style);
    s
}

/// Appends [`return_text`]'s text.
pub fn write_return(out: &mut String, call: &Call<'_, '_>, style: &Style<'_>) {
    let Some(ret) = call.ret else {
        out.push('?');
        return;
    };
    if is_error(ret) {
        push_error_return(out, -ret as i32);
        return;
    }
    let cx = Cx {
        call,
        style,
        l: call.arch.layout(),
    };
    let args = &call.args;
    let id = id(call.arch, call.nr);
    let info = info(id);
    let name = info.name;
    let s = out;
    match name {
        "mmap" | "brk" | "mremap" | "shmat" => push_hex(s, ret as u64),
        "umask" => push_mode_oct(s, ret as u32),
        "poll" | "ppoll" => {
            if ret == 0 {
                s.push_str("0 (Timeout)");
            } else {
                push_i64(s, ret);
                if let Some(m) = call.exit.iter().find(|m| m.arg == 0) {
                    s.push_str(" (");
                    s.push_str(&pollfds_text(cx.l, m.data, true));
                    if name == "ppoll" {
                        if let Some(t) =
                            cx.mem_out(2).filter(|m| m.data.len() >= cx.l.timespec.size)
                        {
                            s.push_str(", left ");
                            timespec(cx.l, s, t.data);
                        }
                    }
                    s.push(')');
                }
            }
        }
        "select" | "pselect6" => {
            if ret == 0 {
                s.push_str("0 (Timeout)");
            } else {
                let _ = write!(s, "{ret} (");
                let nfds = args[0] as u32 as i32;
                let mut first = true;
                for (k, what) in [(1u8, "in"), (2, "out"), (3, "except")] {
                    if let Some(m) = cx.mem_out(k) {
                        let mut set = String::new();
                        fd_set(&mut set, m.data, nfds, None);
                        if set != "[]" {
                            if !first {
                                s.push_str(", ");
                            }
                            first = false;
                            let _ = write!(s, "{what} {set}");
                        }
                    }
                }
                if let Some(t) = cx.mem_out(4) {
                    if !first {
                        s.push_str(", ");
                    }
                    s.push_str("left ");
                    if name == "select" {
                        timeval(cx.l, s, t.data);
                    } else {
                        timespec(cx.l, s, t.data);
                    }
                }
                s.push(')');
            }
        }
        "time" => {
            let _ = write!(s, "{ret} ({})", date(ret, style.utc_offset, None));
        }
        "rt_sigtimedwait" => {
            let _ = write!(s, "{ret} ({})", signal_name(ret as i32));
        }
        "fcntl" => match args[1] as u32 {
            1 if ret != 0 => {
                let _ = write!(s, "{ret:#x} (flags {})", flag_names(ret as u64, &FD_FLAGS));
            }
            3 => {
                if ret == 0 {
                    s.push('0');
                } else {
                    push_hex(s, ret as u64);
                }
                s.push_str(" (flags ");
                push_open_flags(s, cx.call.arch, ret as u64);
                s.push(')');
            }
            // A copy of a descriptor, named as one under -y.
            crate::fds::F_DUPFD | crate::fds::F_DUPFD_CLOEXEC => cx.fd(s, ret as i32),
            _ => push_i64(s, ret),
        },
        // strace: the persona in hex, then named.
        "personality" => {
            if ret == 0 {
                s.push('0');
            } else {
                push_hex(s, ret as u64);
            }
            s.push_str(" (");
            push_persona(s, ret as u32);
            s.push(')');
        }
        "prctl" if args[0] as u32 == 3 => {
            let _ = write!(s, "{ret} ({})", named(SUID_DUMP, ret as u64));
        }
        _ if info.returns_fd => cx.fd(s, ret as i32),
        _ => push_i64(s, ret),
    }
}

/// A mode or mask in octal as strace writes one (`%#03o`): `000`, `022`,
/// `0644`.
fn push_mode_oct(s: &mut String, v: u32) {
    let o = if v == 0 {
        "0".to_string()
    } else {
        format!("0{v:o}")
    };
    for _ in o.len()..3 {
        s.push('0');
    }
    s.push_str(&o);
}

/// A persona as strace writes it: the type (its low byte) by name, then
/// the flags (`PER_LINUX|ADDR_NO_RANDOMIZE`).
fn push_persona(s: &mut String, pers: u32) {
    let ty = u64::from(pers & 0xff);
    match PERSONALITY_TYPES.iter().find(|(n, _)| *n == ty) {
        Some((_, name)) => s.push_str(name),
        None => {
            push_hex(s, ty);
            s.push_str(" /* PER_??? */");
        }
    }
    let flags = u64::from(pers & !0xff);
    if flags != 0 {
        s.push('|');
        push_flags(s, flags, &PERSONALITY_FLAGS);
    }
}

/// Syscalls whose result is a new descriptor (strace's RVAL_FD).
fn returns_fd(name: &str) -> bool {
    matches!(
        name,
        "open"
            | "openat"
            | "openat2"
            | "creat"
            | "dup"
            | "dup2"
            | "dup3"
            | "socket"
            | "accept"
            | "accept4"
            | "epoll_create"
            | "epoll_create1"
            | "eventfd"
            | "eventfd2"
            | "timerfd_create"
            | "signalfd"
            | "signalfd4"
            | "memfd_create"
            | "inotify_init"
            | "inotify_init1"
            | "pidfd_open"
            | "pidfd_getfd"
            | "perf_event_open"
            | "userfaultfd"
            | "io_uring_setup"
            | "fanotify_init"
            | "open_by_handle_at"
            | "fsopen"
            | "fsmount"
            | "fspick"
            | "open_tree"
            | "memfd_secret"
    )
}

#[cfg(test)]
mod tests;
