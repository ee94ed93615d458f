//! Thin, allocation-free wrappers of the ptrace and memory-access system
//! calls the engine makes on a stopped tracee. They return the raw errno so
//! the engine can treat ESRCH (the tracee is gone) as an event.

/// A raw errno value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const ESRCH: Errno = Errno(libc::ESRCH);
    fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", std::io::Error::from_raw_os_error(self.0))
    }
}

/// One ptrace request whose result is 0 or -1/errno.
///
/// # Safety
/// `data` (and `addr`, for the requests that take a pointer there) must be
/// an integer the request reads as one, or the address of a live buffer of
/// the size the request writes. The typed wrappers below are the safe API.
#[inline]
pub unsafe fn ptrace(req: libc::c_uint, tid: i32, addr: usize, data: usize) -> Result<i64, Errno> {
    // SAFETY: the caller's contract covers the pointers; the kernel checks the rest.
    let r = unsafe { libc::ptrace(req, tid, addr, data) };
    if r == -1 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// A request whose `data` is an integer (a signal, options) and whose
/// `addr` is unused: none of them writes to rec's memory.
#[inline]
fn request(req: libc::c_uint, tid: i32, data: usize) -> Result<(), Errno> {
    // SAFETY: no pointer is passed; `data` is read by the kernel as an integer.
    unsafe { ptrace(req, tid, 0, data) }.map(|_| ())
}

/// PTRACE_SEIZE with `options` (PTRACE_O_*).
pub fn seize(tid: i32, options: libc::c_int) -> Result<(), Errno> {
    request(libc::PTRACE_SEIZE, tid, options as usize)
}

/// PTRACE_INTERRUPT: a seized thread stops (PTRACE_EVENT_STOP) soon.
pub fn interrupt(tid: i32) -> Result<(), Errno> {
    request(libc::PTRACE_INTERRUPT, tid, 0)
}

/// PTRACE_SYSCALL, injecting `sig` (0: none).
#[inline]
pub fn resume_syscall(tid: i32, sig: i32) -> Result<(), Errno> {
    request(libc::PTRACE_SYSCALL, tid, sig as usize)
}

/// PTRACE_CONT, injecting `sig` (0: none).
#[inline]
pub fn resume_cont(tid: i32, sig: i32) -> Result<(), Errno> {
    request(libc::PTRACE_CONT, tid, sig as usize)
}

/// PTRACE_LISTEN: a group-stopped thread stays stopped until SIGCONT.
#[inline]
pub fn listen(tid: i32) -> Result<(), Errno> {
    request(libc::PTRACE_LISTEN, tid, 0)
}

/// PTRACE_DETACH, passing `sig` on (0: none).
pub fn detach(tid: i32, sig: i32) -> Result<(), Errno> {
    request(libc::PTRACE_DETACH, tid, sig as usize)
}

/// PTRACE_PEEKUSER: a word of the `struct user` area. -1 is a valid value,
/// so errors are told apart through errno as ptrace(2) prescribes.
#[inline]
pub fn peek_user(tid: i32, offset: usize) -> Result<u64, Errno> {
    // SAFETY: __errno_location returns this thread's errno slot; PEEKUSER takes no pointers.
    let r = unsafe {
        *libc::__errno_location() = 0;
        libc::ptrace(libc::PTRACE_PEEKUSER, tid, offset, 0usize)
    };
    if r == -1 {
        let e = Errno::last();
        if e.0 != 0 {
            return Err(e);
        }
    }
    Ok(r as u64)
}

/// PTRACE_GETEVENTMSG.
#[inline]
pub fn event_msg(tid: i32) -> Result<u64, Errno> {
    let mut msg: libc::c_ulong = 0;
    // SAFETY: PTRACE_GETEVENTMSG writes one unsigned long to `data`.
    unsafe {
        ptrace(
            libc::PTRACE_GETEVENTMSG,
            tid,
            0,
            &mut msg as *mut libc::c_ulong as usize,
        )
    }?;
    Ok(msg)
}

/// PTRACE_GETSIGINFO into a raw 128-byte buffer.
#[inline]
pub fn siginfo(tid: i32, out: &mut [u8; 128]) -> Result<(), Errno> {
    const _: () = assert!(std::mem::size_of::<libc::siginfo_t>() == 128);
    // SAFETY: PTRACE_GETSIGINFO writes one siginfo_t (128 bytes, asserted above) to `data`.
    unsafe { ptrace(libc::PTRACE_GETSIGINFO, tid, 0, out.as_mut_ptr() as usize) }?;
    Ok(())
}

/// Reads tracee memory with one process_vm_readv; returns how many bytes came.
pub fn read_mem(tid: i32, addr: u64, out: &mut [u8]) -> Result<usize, Errno> {
    if out.is_empty() {
        return Ok(0);
    }
    let local = libc::iovec {
        iov_base: out.as_mut_ptr().cast(),
        iov_len: out.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: out.len(),
    };
    // SAFETY: `local` describes `out`, which we own mutably; `remote` is only read by the kernel.
    let n = unsafe { libc::process_vm_readv(tid, &local, 1, &remote, 1, 0) };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

/// Reads a NUL-terminated string of at most `limit` bytes, page by page so a
/// string that ends just before an unmapped page is still read. Appends to `out`
/// without the NUL.
pub fn read_cstr(tid: i32, mut addr: u64, limit: usize, out: &mut Vec<u8>) {
    const PAGE: usize = crate::arch::PAGE_SIZE as usize;
    let mut page = [0u8; PAGE];
    while out.len() < limit {
        let room = (PAGE - (addr % PAGE as u64) as usize).min(limit - out.len());
        let n = match read_mem(tid, addr, &mut page[..room]) {
            Ok(n) if n > 0 => n,
            _ => return,
        };
        if let Some(end) = page[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&page[..end]);
            return;
        }
        out.extend_from_slice(&page[..n]);
        addr += n as u64;
    }
}

/// Reads a little-endian u64 from tracee memory.
pub fn read_u64(tid: i32, addr: u64) -> Option<u64> {
    let mut b = [0u8; 8];
    match read_mem(tid, addr, &mut b) {
        Ok(8) => Some(u64::from_le_bytes(b)),
        _ => None,
    }
}

/// CLOCK_MONOTONIC in nanoseconds (a vDSO call, no system call).
#[inline]
pub fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
