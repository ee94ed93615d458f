//! The record kinds, named after the stops of `ptrace(2)`.
//!
//! A [`Record`] borrows its variable-length parts (captured memory, strings),
//! so the recorder can build one on its stack without allocating and the
//! reader can hand one out that points into the decompressed chunk.

use std::fmt;

use crate::wire::{Cur, Put, Step};

/// A thread id (`pid_t`) in the traced pid namespace.
pub type Tid = i32;

pub use crate::arch::{
    aarch64, x86_64, LayoutDesc, RegLayout, Regs, AUDIT_ARCH_AARCH64, AUDIT_ARCH_X86_64, MAX_REGS,
    REG_COUNT, REG_LAYOUT_AARCH64, REG_LAYOUT_X86_64,
};

/// Flags of a [`Mem`] capture.
pub mod mem_flags {
    /// The capture was cut at the recording's string limit (`-s`).
    pub const TRUNCATED: u8 = 1;
    /// Nothing at the address could be read (EFAULT, unmapped page).
    pub const UNREADABLE: u8 = 2;
    /// Only a prefix could be read: the rest crosses into an unreadable page.
    pub const PARTIAL: u8 = 4;
    /// A NUL-terminated string (the terminating NUL is not stored).
    pub const STRING: u8 = 8;
    /// Read at syscall exit (an output buffer), as opposed to entry.
    pub const AT_EXIT: u8 = 16;
    /// A redaction policy dropped bytes after `data` (which keeps a prefix
    /// or nothing); [`Mem::redacted`](super::Mem::redacted) holds how many
    /// (format version 3).
    pub const REDACTED: u8 = 32;
}

/// Tracee memory captured at a stop: what a syscall argument points to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Mem<'a> {
    /// Which argument this belongs to: 0..=5 is the argument register itself;
    /// higher values are assigned by the recorder's signature table to memory
    /// reached through a pointer inside another capture (for example an iovec's
    /// buffers, or the strings of an argv array), see FORMAT.md.
    pub arg: u8,
    /// [`mem_flags`] bits.
    pub flags: u8,
    /// Tracee address the bytes were read from.
    pub addr: u64,
    /// The bytes read (empty when unreadable; what a redaction kept).
    pub data: &'a [u8],
    /// `Some(n)`: a redaction policy dropped `n` bytes that followed `data`
    /// (`flags` then has [`mem_flags::REDACTED`]).
    pub redacted: Option<u64>,
}

impl Mem<'_> {
    /// Bytes that were read from the tracee: `data`'s length plus what a
    /// redaction dropped.
    pub fn len(&self) -> u64 {
        (self.data.len() as u64).saturating_add(self.redacted.unwrap_or(0))
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Mem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mem")
            .field("arg", &self.arg)
            .field("flags", &self.flags)
            .field("addr", &format_args!("{:#x}", self.addr))
            .field("data", &String::from_utf8_lossy(self.data))
            .field("redacted", &self.redacted)
            .finish()
    }
}

/// A list of captures: a slice when built by the recorder, a lazily decoded
/// view into the chunk when read back, so neither side allocates.
#[derive(Clone, Copy)]
pub enum Captures<'a> {
    Slice(&'a [Mem<'a>]),
    Encoded { count: u32, bytes: &'a [u8] },
}

impl Default for Captures<'_> {
    fn default() -> Self {
        Captures::Slice(&[])
    }
}

impl<'a> Captures<'a> {
    pub fn len(&self) -> usize {
        match self {
            Captures::Slice(s) => s.len(),
            Captures::Encoded { count, .. } => *count as usize,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn iter(&self) -> CapturesIter<'a> {
        match *self {
            Captures::Slice(s) => CapturesIter::Slice(s.iter()),
            Captures::Encoded { count, bytes } => CapturesIter::Encoded { left: count, bytes },
        }
    }
}

impl PartialEq for Captures<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Captures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`Captures`].
pub enum CapturesIter<'a> {
    Slice(std::slice::Iter<'a, Mem<'a>>),
    Encoded { left: u32, bytes: &'a [u8] },
}

impl<'a> Iterator for CapturesIter<'a> {
    type Item = Mem<'a>;
    fn next(&mut self) -> Option<Mem<'a>> {
        match self {
            CapturesIter::Slice(it) => it.next().copied(),
            CapturesIter::Encoded { left, bytes } => {
                if *left == 0 {
                    return None;
                }
                *left -= 1;
                // The encoded form was validated when the record was decoded
                // (or built by a CaptureBuf).
                let mut c = Cur::new(bytes);
                let m = read_mem(&mut c).ok()?;
                *bytes = c.b;
                Some(m)
            }
        }
    }
}

/// Writes one capture in its stored form (FORMAT.md, section 4).
pub(crate) fn put_mem(p: &mut Put<'_>, m: &Mem<'_>) {
    p.u8(m.arg);
    match m.redacted {
        None => {
            p.u8(m.flags & !mem_flags::REDACTED);
            p.u64(m.addr);
            p.bytes(m.data);
        }
        Some(n) => {
            p.u8(m.flags | mem_flags::REDACTED);
            p.u64(m.addr);
            p.bytes(m.data);
            p.u64(n);
        }
    }
}

/// Reads one capture in its stored form.
#[inline]
pub(crate) fn read_mem<'a>(c: &mut Cur<'a>) -> Step<Mem<'a>> {
    let arg = c.u8()?;
    let flags = c.u8()?;
    let addr = c.u64()?;
    let data = c.bytes()?;
    let redacted = if flags & mem_flags::REDACTED != 0 {
        Some(c.u64()?)
    } else {
        None
    };
    Ok(Mem {
        arg,
        flags,
        addr,
        data,
        redacted,
    })
}

/// Writes a capture list: its count, then each capture.
pub(crate) fn put_captures(p: &mut Put<'_>, mem: &Captures<'_>) {
    p.u64(mem.len() as u64);
    match mem {
        // Already in the stored form (a CaptureBuf, or a record read back).
        Captures::Encoded { bytes, .. } => p.raw(bytes),
        Captures::Slice(s) => {
            for m in s.iter() {
                put_mem(p, m);
            }
        }
    }
}

/// Validates the capture list at the cursor and returns a lazy view of it.
pub(crate) fn read_captures<'a>(c: &mut Cur<'a>) -> Step<Captures<'a>> {
    let n = c.u64()?;
    let start = c.b;
    // Each capture takes at least four bytes.
    if n > start.len() as u64 / 4 {
        return Err("capture count exceeds record size");
    }
    for _ in 0..n {
        read_mem(c)?;
    }
    let used = start.len() - c.b.len();
    Ok(Captures::Encoded {
        count: n as u32,
        bytes: &start[..used],
    })
}

/// Captured memory of one stop, built in its stored form so that a record
/// can carry it as [`Captures::Encoded`] without copying or allocating once
/// the buffer is warm. The recorder keeps one and clears it at every stop.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct CaptureBuf {
    bytes: Vec<u8>,
    count: u32,
}

impl fmt::Debug for CaptureBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl CaptureBuf {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.count = 0;
    }
    pub fn len(&self) -> usize {
        self.count as usize
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Appends one capture (see [`Mem`] for the fields).
    pub fn push(&mut self, arg: u8, flags: u8, addr: u64, data: &[u8]) {
        self.push_mem(&Mem {
            arg,
            flags,
            addr,
            data,
            redacted: None,
        });
    }
    /// Appends a capture of which a redaction policy kept `kept` and
    /// dropped the `dropped` bytes after it.
    pub fn push_redacted(&mut self, arg: u8, flags: u8, addr: u64, kept: &[u8], dropped: u64) {
        self.push_mem(&Mem {
            arg,
            flags,
            addr,
            data: kept,
            redacted: Some(dropped),
        });
    }
    /// Appends a copy of `m`.
    pub fn push_mem(&mut self, m: &Mem<'_>) {
        put_mem(&mut Put(&mut self.bytes), m);
        self.count += 1;
    }
    /// Every capture, in order.
    pub fn iter(&self) -> CapturesIter<'_> {
        self.captures().iter()
    }
    /// The captures, to put in a record.
    pub fn captures(&self) -> Captures<'_> {
        Captures::Encoded {
            count: self.count,
            bytes: &self.bytes,
        }
    }
}

/// How a new tracee came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    /// PTRACE_EVENT_FORK.
    Fork = 0,
    /// PTRACE_EVENT_VFORK.
    Vfork = 1,
    /// PTRACE_EVENT_CLONE (a thread, or a process made by clone/clone3).
    Clone = 2,
}

/// How a thread ended, as `waitpid` reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    /// WIFEXITED: the exit code.
    Exited(i32),
    /// WIFSIGNALED: the signal and whether a core was dumped.
    Signaled { signo: i32, core: bool },
}

/// Kinds of [`Record::Note`].
pub mod note_kind {
    /// `value` records were lost (for example the queue to the writer failed).
    pub const RECORDS_DROPPED: u32 = 1;
    /// Memory that should have been captured could not be read; `value` is the address.
    pub const MEMORY_UNREADABLE: u32 = 2;
    /// The recording ended abnormally; `text` says why.
    pub const ABNORMAL_END: u32 = 3;
    /// A stop the recorder did not expect; `text` describes it, `value` is the raw wait status.
    pub const UNEXPECTED_STOP: u32 = 4;
    /// Free-form information from the recorder.
    pub const INFO: u32 = 5;
    /// The end of the recording (`value`: the exit status rec reports).
    pub const END: u32 = 6;
}

/// One recorded stop or recorder event. `time` is CLOCK_MONOTONIC in
/// nanoseconds, on the same clock as the header's `start_mono_ns`.
#[derive(Clone, Debug, PartialEq)]
pub enum Record<'a> {
    /// syscall-enter-stop.
    SyscallEnter {
        tid: Tid,
        time: u64,
        /// System CPU time of the tracee's thread group in microseconds, as
        /// wait4's rusage reported it at this stop; `None` when not recorded.
        stime_us: Option<u64>,
        nr: u64,
        args: [u64; 6],
        regs: Option<Regs>,
        mem: Captures<'a>,
    },
    /// syscall-exit-stop.
    SyscallExit {
        tid: Tid,
        time: u64,
        stime_us: Option<u64>,
        /// The syscall number of the matching entry (as the recorder tracked it).
        nr: u64,
        ret: i64,
        regs: Option<Regs>,
        mem: Captures<'a>,
    },
    /// signal-delivery-stop. `siginfo` is the raw `siginfo_t` (128 bytes on
    /// Linux) from PTRACE_GETSIGINFO, empty if it could not be read.
    SignalDelivery {
        tid: Tid,
        time: u64,
        signo: i32,
        siginfo: &'a [u8],
    },
    /// group-stop (PTRACE_EVENT_STOP with a stopping signal).
    GroupStop { tid: Tid, time: u64, signo: i32 },
    /// PTRACE_EVENT_FORK / VFORK / CLONE: `tid` created `child`.
    /// `flags` are the clone flags where the recorder knows them, else 0.
    NewChild {
        tid: Tid,
        time: u64,
        child: Tid,
        kind: ChildKind,
        flags: u64,
        /// No creation event came (the parent died first, say): the
        /// recorder inferred `tid` as the parent (`/proc`, or the thread
        /// that died inside fork/clone) and `kind` from what it saw.
        /// Always false in version 1 and 2 files.
        inferred: bool,
    },
    /// PTRACE_EVENT_VFORK_DONE.
    VforkDone { tid: Tid, time: u64, child: Tid },
    /// PTRACE_EVENT_EXEC: `tid` is the thread after exec (the thread-group
    /// leader), `former_tid` the thread that called execve.
    Exec {
        tid: Tid,
        time: u64,
        former_tid: Tid,
        filename: &'a [u8],
        argv: Vec<&'a [u8]>,
        /// Elements of `argv` a redaction cut: (index, bytes dropped after
        /// what `argv[index]` still holds, e.g. `--password=`). Empty in
        /// files before version 3.
        argv_redacted: Vec<(u32, u64)>,
    },
    /// PTRACE_EVENT_EXIT: the status the thread is about to exit with (a wait status).
    ExitEvent { tid: Tid, time: u64, status: i32 },
    /// The thread was reaped: WIFEXITED or WIFSIGNALED.
    Death {
        tid: Tid,
        time: u64,
        how: Termination,
    },
    /// The recorder attached to an existing thread (or started the command).
    Attach {
        tid: Tid,
        time: u64,
        /// Thread-group id.
        tgid: Tid,
        /// Parent process id (0 if unknown).
        ppid: Tid,
        /// The state letter from /proc/PID/stat (`R`, `S`, `T`, ...), 0 if unknown.
        state: u8,
        group_stopped: bool,
        comm: &'a [u8],
        exe: &'a [u8],
        cwd: &'a [u8],
    },
    /// The recorder detached from a thread. `signo` is the signal passed to
    /// PTRACE_DETACH (0 for none), `state` as in `Attach`.
    Detach {
        tid: Tid,
        time: u64,
        state: u8,
        signo: i32,
    },
    /// A recorder note (see [`note_kind`]). `tid` is 0 when no thread is concerned.
    Note {
        tid: Tid,
        time: u64,
        kind: u32,
        value: u64,
        text: &'a [u8],
    },
    /// One open descriptor of a process the recorder attached to, or one
    /// the started command inherits (written after its `Attach`), as
    /// `/proc/PID/fd/FD` and `/proc/PID/fdinfo/FD` showed it then. `tid` is
    /// the process (thread-group leader). Format version 3.
    OpenFd {
        tid: Tid,
        time: u64,
        fd: i32,
        /// `flags:` of fdinfo (the open flags, O_* bits; O_CLOEXEC included).
        flags: u32,
        /// `pos:` of fdinfo, the file offset.
        pos: u64,
        /// The readlink of `/proc/PID/fd/FD`: a path, `pipe:[N]`,
        /// `socket:[N]`, `anon_inode:[eventfd]`, ...
        target: &'a [u8],
        /// What `rec -yy` added (as `ptrec_abi`'s `ARG_FD_DETAIL`: a
        /// device's `char 136:0`, a socket's `-yy` name); empty without.
        detail: &'a [u8],
    },
}

/// Record kind tags as stored on disk (one byte per record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    SyscallEnter = 1,
    SyscallExit = 2,
    SignalDelivery = 3,
    GroupStop = 4,
    NewChild = 5,
    VforkDone = 6,
    Exec = 7,
    ExitEvent = 8,
    Death = 9,
    Attach = 10,
    Detach = 11,
    Note = 12,
    OpenFd = 13,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::SyscallEnter,
        Kind::SyscallExit,
        Kind::SignalDelivery,
        Kind::GroupStop,
        Kind::NewChild,
        Kind::VforkDone,
        Kind::Exec,
        Kind::ExitEvent,
        Kind::Death,
        Kind::Attach,
        Kind::Detach,
        Kind::Note,
        Kind::OpenFd,
    ];
    /// One more than the largest kind byte: the length of a table indexed
    /// by kind.
    pub const TABLE_LEN: usize = Kind::ALL.len() + 1;
    pub fn from_u8(v: u8) -> Option<Kind> {
        Kind::ALL.get((v as usize).wrapping_sub(1)).copied()
    }
    pub fn name(self) -> &'static str {
        match self {
            Kind::SyscallEnter => "syscall-enter",
            Kind::SyscallExit => "syscall-exit",
            Kind::SignalDelivery => "signal-delivery",
            Kind::GroupStop => "group-stop",
            Kind::NewChild => "new-child",
            Kind::VforkDone => "vfork-done",
            Kind::Exec => "exec",
            Kind::ExitEvent => "exit-event",
            Kind::Death => "death",
            Kind::Attach => "attach",
            Kind::Detach => "detach",
            Kind::Note => "note",
            Kind::OpenFd => "open-fd",
        }
    }
}

impl<'a> Record<'a> {
    /// The register snapshot of a syscall stop, if it has one.
    pub fn regs(&self) -> Option<&Regs> {
        match self {
            Record::SyscallEnter { regs, .. } | Record::SyscallExit { regs, .. } => regs.as_ref(),
            _ => None,
        }
    }

    /// The captured memory of a syscall stop; empty for every other kind.
    pub fn captures(&self) -> Captures<'a> {
        match self {
            Record::SyscallEnter { mem, .. } | Record::SyscallExit { mem, .. } => *mem,
            _ => Captures::default(),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Record::SyscallEnter { .. } => Kind::SyscallEnter,
            Record::SyscallExit { .. } => Kind::SyscallExit,
            Record::SignalDelivery { .. } => Kind::SignalDelivery,
            Record::GroupStop { .. } => Kind::GroupStop,
            Record::NewChild { .. } => Kind::NewChild,
            Record::VforkDone { .. } => Kind::VforkDone,
            Record::Exec { .. } => Kind::Exec,
            Record::ExitEvent { .. } => Kind::ExitEvent,
            Record::Death { .. } => Kind::Death,
            Record::Attach { .. } => Kind::Attach,
            Record::Detach { .. } => Kind::Detach,
            Record::Note { .. } => Kind::Note,
            Record::OpenFd { .. } => Kind::OpenFd,
        }
    }
    pub fn tid(&self) -> Tid {
        match *self {
            Record::SyscallEnter { tid, .. }
            | Record::SyscallExit { tid, .. }
            | Record::SignalDelivery { tid, .. }
            | Record::GroupStop { tid, .. }
            | Record::NewChild { tid, .. }
            | Record::VforkDone { tid, .. }
            | Record::Exec { tid, .. }
            | Record::ExitEvent { tid, .. }
            | Record::Death { tid, .. }
            | Record::Attach { tid, .. }
            | Record::Detach { tid, .. }
            | Record::Note { tid, .. }
            | Record::OpenFd { tid, .. } => tid,
        }
    }
    pub fn time(&self) -> u64 {
        match *self {
            Record::SyscallEnter { time, .. }
            | Record::SyscallExit { time, .. }
            | Record::SignalDelivery { time, .. }
            | Record::GroupStop { time, .. }
            | Record::NewChild { time, .. }
            | Record::VforkDone { time, .. }
            | Record::Exec { time, .. }
            | Record::ExitEvent { time, .. }
            | Record::Death { time, .. }
            | Record::Attach { time, .. }
            | Record::Detach { time, .. }
            | Record::Note { time, .. }
            | Record::OpenFd { time, .. } => time,
        }
    }
}
