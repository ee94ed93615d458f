//! [`OwnedRecord`]: a [`Record`] that owns its bytes, to keep past the
//! chunk it was read from (a call layer joining an entry with an exit in a
//! later chunk, tests comparing what was read with what was written).

use crate::record::{CaptureBuf, ChildKind, Record, Regs, Termination, Tid};

/// A [`Record`] with every borrowed part copied: byte strings become
/// `Vec<u8>`, captures a [`CaptureBuf`] (their stored form, one buffer).
/// Made by [`Record::to_owned`]; [`OwnedRecord::as_record`] borrows it back.
#[derive(Clone, Debug, PartialEq)]
pub enum OwnedRecord {
    SyscallEnter {
        tid: Tid,
        time: u64,
        stime_us: Option<u64>,
        nr: u64,
        args: [u64; 6],
        regs: Option<Regs>,
        mem: CaptureBuf,
    },
    SyscallExit {
        tid: Tid,
        time: u64,
        stime_us: Option<u64>,
        nr: u64,
        ret: i64,
        regs: Option<Regs>,
        mem: CaptureBuf,
    },
    SignalDelivery {
        tid: Tid,
        time: u64,
        signo: i32,
        siginfo: Vec<u8>,
    },
    GroupStop {
        tid: Tid,
        time: u64,
        signo: i32,
    },
    NewChild {
        tid: Tid,
        time: u64,
        child: Tid,
        kind: ChildKind,
        flags: u64,
        inferred: bool,
    },
    VforkDone {
        tid: Tid,
        time: u64,
        child: Tid,
    },
    Exec {
        tid: Tid,
        time: u64,
        former_tid: Tid,
        filename: Vec<u8>,
        argv: Vec<Vec<u8>>,
        argv_redacted: Vec<(u32, u64)>,
    },
    ExitEvent {
        tid: Tid,
        time: u64,
        status: i32,
    },
    Death {
        tid: Tid,
        time: u64,
        how: Termination,
    },
    Attach {
        tid: Tid,
        time: u64,
        tgid: Tid,
        ppid: Tid,
        state: u8,
        group_stopped: bool,
        comm: Vec<u8>,
        exe: Vec<u8>,
        cwd: Vec<u8>,
    },
    Detach {
        tid: Tid,
        time: u64,
        state: u8,
        signo: i32,
    },
    Note {
        tid: Tid,
        time: u64,
        kind: u32,
        value: u64,
        text: Vec<u8>,
    },
    OpenFd {
        tid: Tid,
        time: u64,
        fd: i32,
        flags: u32,
        pos: u64,
        target: Vec<u8>,
        detail: Vec<u8>,
    },
}

fn captures(mem: &crate::record::Captures<'_>) -> CaptureBuf {
    let mut b = CaptureBuf::new();
    for m in mem.iter() {
        b.push_mem(&m);
    }
    b
}

impl Record<'_> {
    /// A copy that owns its bytes. (An inherent method: it takes precedence
    /// over `ToOwned::to_owned`, which would clone into another borrowed
    /// `Record`.)
    pub fn to_owned(&self) -> OwnedRecord {
        match *self {
            Record::SyscallEnter {
                tid,
                time,
                stime_us,
                nr,
                args,
                regs,
                ref mem,
            } => OwnedRecord::SyscallEnter {
                tid,
                time,
                stime_us,
                nr,
                args,
                regs,
                mem: captures(mem),
            },
            Record::SyscallExit {
                tid,
                time,
                stime_us,
                nr,
                ret,
                regs,
                ref mem,
            } => OwnedRecord::SyscallExit {
                tid,
                time,
                stime_us,
                nr,
                ret,
                regs,
                mem: captures(mem),
            },
            Record::SignalDelivery {
                tid,
                time,
                signo,
                siginfo,
            } => OwnedRecord::SignalDelivery {
                tid,
                time,
                signo,
                siginfo: siginfo.to_vec(),
            },
            Record::GroupStop { tid, time, signo } => OwnedRecord::GroupStop { tid, time, signo },
            Record::NewChild {
                tid,
                time,
                child,
                kind,
                flags,
                inferred,
            } => OwnedRecord::NewChild {
                tid,
                time,
                child,
                kind,
                flags,
                inferred,
            },
            Record::VforkDone { tid, time, child } => OwnedRecord::VforkDone { tid, time, child },
            Record::Exec {
                tid,
                time,
                former_tid,
                filename,
                ref argv,
                ref argv_redacted,
            } => OwnedRecord::Exec {
                tid,
                time,
                former_tid,
                filename: filename.to_vec(),
                argv: argv.iter().map(|a| a.to_vec()).collect(),
                argv_redacted: argv_redacted.clone(),
            },
            Record::ExitEvent { tid, time, status } => OwnedRecord::ExitEvent { tid, time, status },
            Record::Death { tid, time, how } => OwnedRecord::Death { tid, time, how },
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
            } => OwnedRecord::Attach {
                tid,
                time,
                tgid,
                ppid,
                state,
                group_stopped,
                comm: comm.to_vec(),
                exe: exe.to_vec(),
                cwd: cwd.to_vec(),
            },
            Record::Detach {
                tid,
                time,
                state,
                signo,
            } => OwnedRecord::Detach {
                tid,
                time,
                state,
                signo,
            },
            Record::Note {
                tid,
                time,
                kind,
                value,
                text,
            } => OwnedRecord::Note {
                tid,
                time,
                kind,
                value,
                text: text.to_vec(),
            },
            Record::OpenFd {
                tid,
                time,
                fd,
                flags,
                pos,
                target,
                detail,
            } => OwnedRecord::OpenFd {
                tid,
                time,
                fd,
                flags,
                pos,
                target: target.to_vec(),
                detail: detail.to_vec(),
            },
        }
    }
}

impl OwnedRecord {
    /// The record, borrowing from `self` (an `Exec` allocates its argv list).
    pub fn as_record(&self) -> Record<'_> {
        match *self {
            OwnedRecord::SyscallEnter {
                tid,
                time,
                stime_us,
                nr,
                args,
                regs,
                ref mem,
            } => Record::SyscallEnter {
                tid,
                time,
                stime_us,
                nr,
                args,
                regs,
                mem: mem.captures(),
            },
            OwnedRecord::SyscallExit {
                tid,
                time,
                stime_us,
                nr,
                ret,
                regs,
                ref mem,
            } => Record::SyscallExit {
                tid,
                time,
                stime_us,
                nr,
                ret,
                regs,
                mem: mem.captures(),
            },
            OwnedRecord::SignalDelivery {
                tid,
                time,
                signo,
                ref siginfo,
            } => Record::SignalDelivery {
                tid,
                time,
                signo,
                siginfo,
            },
            OwnedRecord::GroupStop { tid, time, signo } => Record::GroupStop { tid, time, signo },
            OwnedRecord::NewChild {
                tid,
                time,
                child,
                kind,
                flags,
                inferred,
            } => Record::NewChild {
                tid,
                time,
                child,
                kind,
                flags,
                inferred,
            },
            OwnedRecord::VforkDone { tid, time, child } => Record::VforkDone { tid, time, child },
            OwnedRecord::Exec {
                tid,
                time,
                former_tid,
                ref filename,
                ref argv,
                ref argv_redacted,
            } => Record::Exec {
                tid,
                time,
                former_tid,
                filename,
                argv: argv.iter().map(|a| &a[..]).collect(),
                argv_redacted: argv_redacted.clone(),
            },
            OwnedRecord::ExitEvent { tid, time, status } => Record::ExitEvent { tid, time, status },
            OwnedRecord::Death { tid, time, how } => Record::Death { tid, time, how },
            OwnedRecord::Attach {
                tid,
                time,
                tgid,
                ppid,
                state,
                group_stopped,
                ref comm,
                ref exe,
                ref cwd,
            } => Record::Attach {
                tid,
                time,
                tgid,
                ppid,
                state,
                group_stopped,
                comm,
                exe,
                cwd,
            },
            OwnedRecord::Detach {
                tid,
                time,
                state,
                signo,
            } => Record::Detach {
                tid,
                time,
                state,
                signo,
            },
            OwnedRecord::Note {
                tid,
                time,
                kind,
                value,
                ref text,
            } => Record::Note {
                tid,
                time,
                kind,
                value,
                text,
            },
            OwnedRecord::OpenFd {
                tid,
                time,
                fd,
                flags,
                pos,
                ref target,
                ref detail,
            } => Record::OpenFd {
                tid,
                time,
                fd,
                flags,
                pos,
                target,
                detail,
            },
        }
    }

    pub fn kind(&self) -> crate::record::Kind {
        self.as_record().kind()
    }
    pub fn tid(&self) -> Tid {
        self.as_record().tid()
    }
    pub fn time(&self) -> u64 {
        self.as_record().time()
    }
}

impl From<&Record<'_>> for OwnedRecord {
    fn from(r: &Record<'_>) -> Self {
        r.to_owned()
    }
}
