//! Captures what syscall arguments point to, at syscall entry and exit, by
//! the table of `ptrec_abi::capture`. Called at every syscall stop: the buffers
//! are reused (no allocation once warm) and all directly addressed pieces of
//! one stop are read with one `process_vm_readv` (see [`crate::memory`]).
//! Memory reached through pointers inside a capture (argv strings, iovec
//! buffers, msghdr contents) needs a second read, also batched.

use crate::arch;
use crate::describe::{proc_fd_path, Describer};
use crate::memory::{MemReader, Region};
use ptrec_abi::capture::{Arg, MadeFds, ARG_FD_DETAIL, ARG_FD_NAME, RECORDS_MAX, STRUCT_MAX};
use ptrec_format::{mem_flags, CaptureBuf, Regs};

// The `dirfd` of the working directory (and [`ARG_FD_NAME`]'s `addr` for it).
use ptrec_abi::fds::AT_FDCWD;

/// Paths are read whole: the kernel refuses longer ones.
const PATH_MAX: usize = 4096;
/// At most this many argv/envp elements are captured per array.
const MAX_ARRAY: usize = 65536;
/// At most this many iovecs (the kernel's UIO_MAXIOV).
const MAX_IOV: usize = 1024;
/// Items read per batch: bounds the scratch buffer for huge environments.
const BATCH: usize = 256;
const PAGE: u64 = arch::PAGE_SIZE;
const PTR: usize = arch::PTR_SIZE;
const IOV: usize = arch::iovec::SIZE;
const MSGHDR: usize = arch::msghdr::SIZE;

/// One piece of memory to capture.
#[derive(Clone, Copy, Debug)]
struct Item {
    arg: u8,
    flags: u8,
    addr: u64,
    /// Bytes to read; for strings, the first window.
    len: usize,
    /// For strings: the longest accepted length (more is TRUNCATED).
    str_limit: usize,
}

/// Argument-memory capture state for the recorder's hot path.
pub struct Capture {
    limit: usize,
    reader: MemReader,
    /// Continues strings longer than their first window while `reader`
    /// still holds the batch.
    cont: MemReader,
    items: Vec<Item>,
    regions: Vec<Region>,
    strbuf: Vec<u8>,
    ptrs: Vec<u64>,
    hdr: Vec<u8>,
    /// The target of a descriptor's /proc link ([`Capture::fd_names`]).
    link: Vec<u8>,
    /// `-y`: name the descriptors calls make as /proc does.
    fd_names: bool,
    /// `-yy`: also ask the kernel what strace's `-yy` adds.
    describer: Option<Box<Describer>>,
}

impl Capture {
    /// `string_limit` is `-s`: the most bytes of a string or buffer kept.
    pub fn new(string_limit: usize) -> Capture {
        Capture {
            limit: string_limit,
            reader: MemReader::new(),
            cont: MemReader::new(),
            items: Vec::new(),
            regions: Vec::new(),
            strbuf: Vec::new(),
            ptrs: Vec::new(),
            hdr: Vec::new(),
            link: vec![0; PATH_MAX],
            fd_names: false,
            describer: None,
        }
    }

    /// `-y`: at the exit of each call that makes descriptors (and of
    /// chdir/fchdir), record what /proc names them, as strace -y shows
    /// them. One readlink per such call.
    pub fn name_fds(&mut self, on: bool) {
        self.fd_names = on;
    }

    /// `-yy`: with [`Capture::name_fds`], also record what strace's `-yy`
    /// adds ([`ARG_FD_DETAIL`]): a stat per descriptor made, a
    /// sock_diag query or a pidfd_getfd per socket made, connected or
    /// bound.
    pub fn describe_fds(&mut self, on: bool) {
        self.describer = on.then(Box::default);
    }

    /// 0, 1 when [`Capture::name_fds`] is on, 2 with
    /// [`Capture::describe_fds`] too.
    pub fn names_fds(&self) -> u8 {
        u8::from(self.fd_names) + u8::from(self.fd_names && self.describer.is_some())
    }

    /// syscall-enter-stop: append input captures (paths, strings, input
    /// buffers, argv/envp, input structs).
    pub fn at_enter(&mut self, tid: i32, nr: u64, args: &[u64; 6], out: &mut CaptureBuf) {
        let sig = crate::arch::ABI.capture_for(nr, args);
        self.items.clear();
        for (i, a) in sig.iter().enumerate() {
            let p = args[i];
            if p == 0 {
                continue;
            }
            let arg = i as u8;
            match *a {
                Arg::Path => self.push_str(arg, 0, p, PATH_MAX),
                Arg::Str => self.push_str(arg, 0, p, self.limit),
                Arg::InBuf(n) => self.push_buf(arg, 0, p, args[n as usize] as usize),
                Arg::InSized(n) => {
                    self.push_fixed(arg, 0, p, (args[n as usize] as usize).min(STRUCT_MAX))
                }
                Arg::In(sz) | Arg::InOut(sz) => self.push_fixed(arg, 0, p, sz as usize),
                Arg::InArray(sz, n) | Arg::InOutArray(sz, n) => {
                    let len = (args[n as usize] as usize).saturating_mul(sz as usize);
                    self.push_buf(arg, 0, p, len)
                }
                Arg::SockaddrIn(n) => {
                    self.push_fixed(arg, 0, p, (args[n as usize] as usize).min(128))
                }
                _ => {}
            }
        }
        self.run(tid, out);
        for (i, a) in sig.iter().enumerate() {
            let p = args[i];
            if p == 0 {
                continue;
            }
            match *a {
                Arg::StrArray => self.str_array(tid, i as u8, p, out),
                Arg::IovIn(n) => self.iov(tid, i as u8, 0, p, args[n as usize], usize::MAX, out),
                Arg::MsgIn => self.msghdr(tid, i as u8, 0, p, usize::MAX, out),
                Arg::SigmaskPair => self.sigmask_pair(tid, i as u8, p, out),
                _ => {}
            }
        }
    }

    /// syscall-enter-stop, after `at_enter`: memory found from the stack
    /// pointer, not from an argument (arg 6). Only rt_sigreturn has any:
    /// the mask it restores, in the signal frame.
    pub fn at_enter_stack(&mut self, tid: i32, nr: u64, regs: &Regs, out: &mut CaptureBuf) {
        if nr != arch::SYS_RT_SIGRETURN {
            return;
        }
        self.items.clear();
        self.push_fixed(6, 0, arch::sigreturn_mask_addr(regs), 8);
        self.run(tid, out);
    }

    /// syscall-exit-stop: output buffers/structs sized by `ret` or
    /// value-result arguments. Nothing is read when the call failed, but
    /// what a call interrupted to be restarted wrote (nanosleep's remaining
    /// time).
    pub fn at_exit(&mut self, tid: i32, nr: u64, args: &[u64; 6], ret: i64, out: &mut CaptureBuf) {
        let x = mem_flags::AT_EXIT;
        // A non-blocking connect (EINPROGRESS) has its endpoints already.
        if self.describer.is_some() && (ret >= 0 || ret == -115) && arch::ABI.readdresses_fd(nr) {
            self.describe(tid, args[0] as u32 as i32, out);
        }
        if ret < 0 {
            if ptrec_abi::capture::interrupted_to_restart(ret) {
                self.at_restart(tid, nr, args, out);
            }
            return;
        }
        let sig = crate::arch::ABI.capture_for(nr, args);
        self.items.clear();
        for (i, a) in sig.iter().enumerate() {
            let p = args[i];
            if p == 0 {
                continue;
            }
            let arg = i as u8;
            match *a {
                Arg::OutRet => self.push_buf(arg, x, p, ret as usize),
                Arg::OutRecords => {
                    let len = (ret as usize).min(RECORDS_MAX);
                    let cut = if len < ret as usize {
                        mem_flags::TRUNCATED
                    } else {
                        0
                    };
                    self.push_fixed(arg, x | cut, p, len)
                }
                Arg::Out(sz) | Arg::InOut(sz) => self.push_fixed(arg, x, p, sz as usize),
                Arg::InOutArray(sz, n) => {
                    let len = (args[n as usize] as usize).saturating_mul(sz as usize);
                    self.push_buf(arg, x, p, len)
                }
                Arg::OutArrayRet(sz) => {
                    self.push_buf(arg, x, p, (ret as usize).saturating_mul(sz as usize))
                }
                _ => {}
            }
        }
        self.run(tid, out);
        for (i, a) in sig.iter().enumerate() {
            let p = args[i];
            if p == 0 {
                continue;
            }
            match *a {
                Arg::IovOut(n) => self.iov(tid, i as u8, x, p, args[n as usize], ret as usize, out),
                Arg::MsgOut => self.msghdr(tid, i as u8, x, p, ret as usize, out),
                Arg::SockaddrOut(n) => self.sockaddr_out(tid, i as u8, p, args[n as usize], out),
                _ => {}
            }
        }
        if self.fd_names {
            self.fd_names(tid, nr, ret, out);
        }
    }

    /// syscall-exit-stop of a call that made descriptors: what
    /// `/proc/TID/fd/FD` names each ([`ARG_FD_NAME`]), read while the
    /// thread is stopped with the descriptor just installed, as strace's
    /// `-y` reads it; after chdir and fchdir, what `/proc/TID/cwd` names.
    fn fd_names(&mut self, tid: i32, nr: u64, ret: i64, out: &mut CaptureBuf) {
        let fds = match arch::ABI.made_fds(nr) {
            MadeFds::None => return,
            MadeFds::Cwd => [Some(AT_FDCWD), None],
            MadeFds::Ret => [i32::try_from(ret).ok(), None],
            MadeFds::Pair(arg) => {
                let pair = out
                    .iter()
                    .find(|m| m.arg == arg && m.flags & mem_flags::AT_EXIT != 0)
                    .and_then(|m| m.data.get(..8))
                    .map(|d| {
                        let int =
                            |k: usize| i32::from_ne_bytes([d[k], d[k + 1], d[k + 2], d[k + 3]]);
                        [Some(int(0)), Some(int(4))]
                    });
                match pair {
                    Some(p) => p,
                    None => return,
                }
            }
        };
        for fd in fds.into_iter().flatten() {
            if let Some(n) = self.readlink_fd(tid, fd) {
                out.push(
                    ARG_FD_NAME,
                    mem_flags::AT_EXIT | mem_flags::STRING,
                    fd as u64,
                    &self.link[..n],
                );
            }
            if fd != AT_FDCWD {
                self.describe(tid, fd, out);
            }
        }
    }

    /// `-yy`: what the kernel adds about descriptor `fd` of `tid`
    /// (`None` without `-yy`, or when it adds nothing), for the open-fd
    /// records of a process rec starts or attaches to: not per stop.
    pub fn describe_fd(&mut self, tid: i32, fd: i32) -> Option<Vec<u8>> {
        self.describer
            .as_mut()?
            .describe(tid, fd)
            .map(<[u8]>::to_vec)
    }

    /// `-yy`: what the kernel adds about descriptor `fd`, if anything.
    fn describe(&mut self, tid: i32, fd: i32, out: &mut CaptureBuf) {
        if let Some(text) = self.describer.as_mut().and_then(|d| d.describe(tid, fd)) {
            out.push(
                ARG_FD_DETAIL,
                mem_flags::AT_EXIT | mem_flags::STRING,
                fd as u32 as u64,
                text,
            );
        }
    }

    /// `readlink("/proc/TID/fd/FD")` (`/proc/TID/cwd` for `AT_FDCWD`)
    /// into `self.link`: its length, `None` when it failed (the thread or
    /// the descriptor is gone).
    fn readlink_fd(&mut self, tid: i32, fd: i32) -> Option<usize> {
        let path = proc_fd_path(tid, fd)?;
        // SAFETY: `path` is NUL-terminated and `link` is a buffer of the
        // length passed.
        let n = unsafe {
            libc::readlink(
                path.as_ptr().cast(),
                self.link.as_mut_ptr().cast(),
                self.link.len(),
            )
        };
        usize::try_from(n).ok()
    }

    /// syscall-exit-stop of a call interrupted to be restarted: only its
    /// [`Arg::OutRestart`] structs.
    fn at_restart(&mut self, tid: i32, nr: u64, args: &[u64; 6], out: &mut CaptureBuf) {
        let sig = crate::arch::ABI.capture_for(nr, args);
        self.items.clear();
        for (i, a) in sig.iter().enumerate() {
            if let (Arg::OutRestart(sz), p) = (*a, args[i]) {
                if p != 0 {
                    self.push_fixed(i as u8, mem_flags::AT_EXIT, p, sz as usize);
                }
            }
        }
        if !self.items.is_empty() {
            self.run(tid, out);
        }
    }

    fn push_str(&mut self, arg: u8, flags: u8, addr: u64, str_limit: usize) {
        let room = (PAGE - addr % PAGE) as usize;
        self.items.push(Item {
            arg,
            flags: flags | mem_flags::STRING,
            addr,
            len: room.min(str_limit + 1),
            str_limit,
        });
    }

    fn push_buf(&mut self, arg: u8, flags: u8, addr: u64, len: usize) {
        let (len, cut) = if len > self.limit {
            (self.limit, mem_flags::TRUNCATED)
        } else {
            (len, 0)
        };
        self.items.push(Item {
            arg,
            flags: flags | cut,
            addr,
            len,
            str_limit: 0,
        });
    }

    fn push_fixed(&mut self, arg: u8, flags: u8, addr: u64, len: usize) {
        self.items.push(Item {
            arg,
            flags,
            addr,
            len,
            str_limit: 0,
        });
    }

    /// Reads every queued item (one process_vm_readv per batch) and appends
    /// its capture; strings longer than their first window are continued.
    fn run(&mut self, tid: i32, out: &mut CaptureBuf) {
        let mut start = 0;
        while start < self.items.len() {
            let end = (start + BATCH).min(self.items.len());
            self.regions.clear();
            self.regions
                .extend(self.items[start..end].iter().map(|it| Region {
                    addr: it.addr,
                    len: it.len,
                }));
            self.reader.read(tid, &self.regions);
            for k in start..end {
                let it = self.items[k];
                let got = self.reader.get(k - start);
                if it.flags & mem_flags::STRING == 0 {
                    let f = if got.len() == it.len {
                        it.flags
                    } else if got.is_empty() {
                        it.flags | mem_flags::UNREADABLE
                    } else {
                        it.flags | mem_flags::PARTIAL
                    };
                    out.push(it.arg, f, it.addr, got);
                    continue;
                }
                if let Some(z) = got.iter().position(|&b| b == 0) {
                    let (d, f) = cut_str(&got[..z], it.str_limit, it.flags);
                    out.push(it.arg, f, it.addr, d);
                    continue;
                }
                if got.is_empty() {
                    out.push(it.arg, it.flags | mem_flags::UNREADABLE, it.addr, &[]);
                    continue;
                }
                if got.len() < it.len || got.len() > it.str_limit {
                    // Unreadable after this window, or already past the limit.
                    let partial = if got.len() < it.len {
                        mem_flags::PARTIAL
                    } else {
                        0
                    };
                    let (d, f) = cut_str(got, it.str_limit, it.flags | partial);
                    out.push(it.arg, f, it.addr, d);
                    continue;
                }
                // The string goes on past the page: read on, a page at a time.
                self.strbuf.clear();
                self.strbuf.extend_from_slice(got);
                let more = &mut self.cont;
                let mut flags = it.flags;
                loop {
                    let a = it.addr + self.strbuf.len() as u64;
                    let want = (it.str_limit + 1 - self.strbuf.len()).min(PAGE as usize);
                    more.read(tid, &[Region { addr: a, len: want }]);
                    let g = more.get(0);
                    if let Some(z) = g.iter().position(|&b| b == 0) {
                        self.strbuf.extend_from_slice(&g[..z]);
                        break;
                    }
                    self.strbuf.extend_from_slice(g);
                    if g.len() < want {
                        flags |= mem_flags::PARTIAL;
                        break;
                    }
                    if self.strbuf.len() > it.str_limit {
                        break;
                    }
                }
                let (d, f) = cut_str(&self.strbuf, it.str_limit, flags);
                out.push(it.arg, f, it.addr, d);
            }
            start = end;
        }
    }

    /// argv/envp: the pointer array read a page at a time up to its NULL,
    /// then every string (arg = 8 + index).
    fn str_array(&mut self, tid: i32, arg: u8, p: u64, out: &mut CaptureBuf) {
        self.ptrs.clear();
        let mut addr = p;
        // How the array ended: its NULL, the element cap, or memory that
        // could not be read.
        let mut end = mem_flags::TRUNCATED;
        'outer: while self.ptrs.len() < MAX_ARRAY {
            let room = (PAGE - addr % PAGE) as usize;
            let want = room.min((MAX_ARRAY - self.ptrs.len()) * PTR);
            self.reader.read(tid, &[Region { addr, len: want }]);
            let g = self.reader.get(0);
            if g.is_empty() {
                end = if self.ptrs.is_empty() {
                    mem_flags::UNREADABLE
                } else {
                    mem_flags::PARTIAL
                };
                break;
            }
            for c in g.chunks_exact(PTR) {
                let v = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
                if v == 0 {
                    end = 0;
                    break 'outer;
                }
                self.ptrs.push(v);
            }
            if g.len() < want {
                end = mem_flags::PARTIAL;
                break;
            }
            addr += want as u64;
        }
        // The pointer array itself (without its NULL), so a reader can tell
        // how many elements there were and whether the list is complete.
        self.hdr.clear();
        for v in &self.ptrs {
            self.hdr.extend_from_slice(&v.to_ne_bytes());
        }
        out.push(arg, end, p, &self.hdr);
        self.items.clear();
        let limit = self.limit;
        for k in 0..self.ptrs.len() {
            let s = self.ptrs[k];
            self.push_str(8 + arg, 0, s, limit);
        }
        self.run(tid, out);
    }

    /// An iovec array (pushed as `arg`) and its buffers (arg = 8 + `arg`),
    /// at most `-s` bytes in all and at most `total` (the bytes transferred).
    #[allow(clippy::too_many_arguments)]
    fn iov(
        &mut self,
        tid: i32,
        arg: u8,
        flags: u8,
        p: u64,
        cnt: u64,
        total: usize,
        out: &mut CaptureBuf,
    ) {
        let cnt = (cnt as usize).min(MAX_IOV);
        self.reader.read(
            tid,
            &[Region {
                addr: p,
                len: cnt * IOV,
            }],
        );
        let g = self.reader.get(0);
        let f = if g.len() == cnt * IOV {
            flags
        } else if g.is_empty() {
            flags | mem_flags::UNREADABLE
        } else {
            flags | mem_flags::PARTIAL
        };
        out.push(arg, f, p, g);
        self.hdr.clear();
        self.hdr.extend_from_slice(g);
        self.iov_buffers(tid, 8 + arg, flags, total, out);
    }

    /// The buffers of the iovecs in `self.hdr`.
    fn iov_buffers(&mut self, tid: i32, arg: u8, flags: u8, total: usize, out: &mut CaptureBuf) {
        self.items.clear();
        let mut budget = total.min(self.limit);
        let mut left = total;
        let mut k = 0;
        while k + IOV <= self.hdr.len() && left > 0 {
            let base = le64(&self.hdr[k + arch::iovec::BASE..]);
            let len = le64(&self.hdr[k + arch::iovec::LEN..]) as usize;
            k += IOV;
            let len = len.min(left);
            left -= len;
            if base == 0 || len == 0 {
                continue;
            }
            let take = len.min(budget);
            budget -= take;
            let cut = if take < len { mem_flags::TRUNCATED } else { 0 };
            self.items.push(Item {
                arg,
                flags: flags | cut,
                addr: base,
                len: take,
                str_limit: 0,
            });
        }
        self.run(tid, out);
    }

    /// struct msghdr (pushed as `arg`), then its name, iov buffers and
    /// control data (arg = 8 + `arg`).
    fn msghdr(&mut self, tid: i32, arg: u8, flags: u8, p: u64, total: usize, out: &mut CaptureBuf) {
        self.reader.read(
            tid,
            &[Region {
                addr: p,
                len: MSGHDR,
            }],
        );
        let g = self.reader.get(0);
        if g.len() < MSGHDR {
            out.push(arg, flags | mem_flags::UNREADABLE, p, &[]);
            return;
        }
        let mut h = [0u8; MSGHDR];
        h.copy_from_slice(g);
        out.push(arg, flags, p, &h);
        use arch::msghdr as m;
        let name = le64(&h[m::NAME..]);
        let nl = &h[m::NAMELEN..];
        let namelen = u32::from_ne_bytes([nl[0], nl[1], nl[2], nl[3]]) as usize;
        let iov = le64(&h[m::IOV..]);
        let iovlen = le64(&h[m::IOVLEN..]);
        let control = le64(&h[m::CONTROL..]);
        let controllen = le64(&h[m::CONTROLLEN..]) as usize;
        let sub = 8 + arg;
        self.items.clear();
        if name != 0 && namelen > 0 {
            self.push_fixed(sub, flags, name, namelen.min(128));
        }
        self.run(tid, out);
        if iov != 0 {
            let cnt = (iovlen as usize).min(MAX_IOV);
            self.reader.read(
                tid,
                &[Region {
                    addr: iov,
                    len: cnt * IOV,
                }],
            );
            self.hdr.clear();
            let g = self.reader.get(0);
            // The iovec array too: the lengths it asked for are shown.
            out.push(sub, flags, iov, g);
            self.hdr.extend_from_slice(g);
            self.iov_buffers(tid, sub, flags, total, out);
        }
        self.items.clear();
        if control != 0 && controllen > 0 {
            self.push_buf(sub, flags, control, controllen);
        }
        self.run(tid, out);
    }

    /// pselect6's `{const sigset_t *ss; size_t ss_len}` (pushed as `arg`)
    /// and the set it points to (arg = 8 + `arg`).
    fn sigmask_pair(&mut self, tid: i32, arg: u8, p: u64, out: &mut CaptureBuf) {
        self.reader.read(tid, &[Region { addr: p, len: 16 }]);
        let g = self.reader.get(0);
        if g.len() < 16 {
            out.push(arg, mem_flags::UNREADABLE, p, &[]);
            return;
        }
        let mut h = [0u8; 16];
        h.copy_from_slice(g);
        out.push(arg, 0, p, &h);
        let (set, len) = (le64(&h[0..]), (le64(&h[8..]) as usize).min(128));
        if set != 0 && len > 0 {
            self.items.clear();
            self.push_fixed(8 + arg, 0, set, len);
            self.run(tid, out);
        }
    }

    /// A sockaddr returned by the kernel: its length is in *lenp.
    fn sockaddr_out(&mut self, tid: i32, arg: u8, p: u64, lenp: u64, out: &mut CaptureBuf) {
        if lenp == 0 {
            return;
        }
        self.reader.read(tid, &[Region { addr: lenp, len: 4 }]);
        let g = self.reader.get(0);
        if g.len() < 4 {
            out.push(arg, mem_flags::AT_EXIT | mem_flags::UNREADABLE, p, &[]);
            return;
        }
        let len = u32::from_ne_bytes([g[0], g[1], g[2], g[3]]) as usize;
        self.items.clear();
        self.push_fixed(arg, mem_flags::AT_EXIT, p, len.min(128));
        self.run(tid, out);
    }
}

/// A string cut at `limit`, with TRUNCATED when it was longer.
fn cut_str(d: &[u8], limit: usize, flags: u8) -> (&[u8], u8) {
    if d.len() > limit {
        (&d[..limit], flags | mem_flags::TRUNCATED)
    } else {
        (d, flags)
    }
}

fn le64(b: &[u8]) -> u64 {
    u64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ptrec_format::Mem;
    use syscalls::x86_64::Sysno;

    fn me() -> i32 {
        // SAFETY: getpid has no preconditions.
        unsafe { libc::getpid() }
    }

    fn caps(b: &CaptureBuf) -> Vec<(u8, u8, u64, Vec<u8>)> {
        b.captures()
            .iter()
            .map(|m: Mem<'_>| (m.arg, m.flags, m.addr, m.data.to_vec()))
            .collect()
    }

    #[test]
    fn write_buffer_at_entry_cut_at_limit() {
        let data = b"0123456789".to_vec();
        let mut c = Capture::new(4);
        let mut out = CaptureBuf::new();
        let a = [1, data.as_ptr() as u64, 10, 0, 0, 0];
        c.at_enter(me(), Sysno::write as u64, &a, &mut out);
        assert_eq!(
            caps(&out),
            vec![(1, mem_flags::TRUNCATED, a[1], b"0123".to_vec())]
        );
    }

    #[test]
    fn path_is_never_cut_by_s_but_strings_are() {
        let path = b"/some/long/path/name\0".to_vec();
        let mut c = Capture::new(3);
        let mut out = CaptureBuf::new();
        let a = [0, path.as_ptr() as u64, 0, 0, 0, 0];
        c.at_enter(me(), Sysno::openat as u64, &a, &mut out);
        assert_eq!(
            caps(&out),
            vec![(1, mem_flags::STRING, a[1], b"/some/long/path/name".to_vec())]
        );
        let name = b"memfdname\0".to_vec();
        out.clear();
        c.at_enter(
            me(),
            Sysno::memfd_create as u64,
            &[name.as_ptr() as u64, 0, 0, 0, 0, 0],
            &mut out,
        );
        assert_eq!(caps(&out)[0].1, mem_flags::STRING | mem_flags::TRUNCATED);
        assert_eq!(caps(&out)[0].3, b"mem");
    }

    #[test]
    fn string_of_exactly_the_limit_is_not_truncated() {
        let name = b"abc\0".to_vec();
        let mut c = Capture::new(3);
        let mut out = CaptureBuf::new();
        c.at_enter(
            me(),
            Sysno::memfd_create as u64,
            &[name.as_ptr() as u64, 0, 0, 0, 0, 0],
            &mut out,
        );
        assert_eq!(
            caps(&out),
            vec![(0, mem_flags::STRING, name.as_ptr() as u64, b"abc".to_vec())]
        );
    }

    #[test]
    fn long_string_across_pages_is_continued() {
        let mut s = vec![b'p'; 9000];
        s.push(0);
        let mut c = Capture::new(4096);
        let mut out = CaptureBuf::new();
        c.at_enter(
            me(),
            Sysno::open as u64,
            &[s.as_ptr() as u64, 0, 0, 0, 0, 0],
            &mut out,
        );
        let v = caps(&out);
        assert_eq!(v[0].1, mem_flags::STRING | mem_flags::TRUNCATED);
        assert_eq!(v[0].3.len(), PATH_MAX);
        let mut s = vec![b'q'; 5000];
        s.push(0);
        out.clear();
        let mut c = Capture::new(8000);
        c.at_enter(
            me(),
            Sysno::memfd_create as u64,
            &[s.as_ptr() as u64, 0, 0, 0, 0, 0],
            &mut out,
        );
        assert_eq!(caps(&out)[0].3, &s[..5000]);
        assert_eq!(caps(&out)[0].1, mem_flags::STRING);
    }

    #[test]
    fn the_descriptors_a_call_made_are_named_as_proc_names_them() {
        use std::os::fd::AsRawFd;
        let d = tempfile::tempdir().unwrap();
        let real = d.path().canonicalize().unwrap().join("file");
        std::fs::write(&real, b"x").unwrap();
        std::os::unix::fs::symlink(&real, d.path().join("link")).unwrap();
        let f = std::fs::File::open(d.path().join("link")).unwrap();
        let fd = f.as_raw_fd();
        let mut c = Capture::new(32);
        let mut out = CaptureBuf::new();
        // Only with -y.
        c.at_exit(me(), Sysno::openat as u64, &[0; 6], fd.into(), &mut out);
        assert!(caps(&out).is_empty());
        c.name_fds(true);
        c.at_exit(me(), Sysno::openat as u64, &[0; 6], fd.into(), &mut out);
        let name = real.into_os_string().into_encoded_bytes();
        let flags = mem_flags::AT_EXIT | mem_flags::STRING;
        assert_eq!(caps(&out), vec![(ARG_FD_NAME, flags, fd as u64, name)]);
        // A dup names nothing (its name is the old descriptor's); neither
        // does a failed call.
        out.clear();
        c.at_exit(me(), Sysno::dup as u64, &[0; 6], fd.into(), &mut out);
        c.at_exit(me(), Sysno::openat as u64, &[0; 6], -2, &mut out);
        assert!(caps(&out).is_empty());
        // pipe2: both ends, from the fds the call wrote.
        let mut fds = [0i32; 2];
        // SAFETY: a valid 2-int array.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        out.clear();
        let args = [fds.as_ptr() as u64, 0, 0, 0, 0, 0];
        c.at_exit(me(), Sysno::pipe2 as u64, &args, 0, &mut out);
        let v = caps(&out);
        assert_eq!(v.len(), 3, "{v:?}");
        assert_eq!((v[1].0, v[1].2), (ARG_FD_NAME, fds[0] as u64));
        assert!(v[1].3.starts_with(b"pipe:["), "{v:?}");
        assert_eq!(v[1].3, v[2].3);
        // SAFETY: closing the pipe made above.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }

    #[test]
    fn bad_pointer_is_unreadable() {
        let mut c = Capture::new(64);
        let mut out = CaptureBuf::new();
        c.at_enter(me(), Sysno::write as u64, &[1, 16, 10, 0, 0, 0], &mut out);
        assert_eq!(caps(&out), vec![(1, mem_flags::UNREADABLE, 16, vec![])]);
        out.clear();
        c.at_enter(me(), Sysno::openat as u64, &[0, 16, 0, 0, 0, 0], &mut out);
        assert_eq!(
            caps(&out),
            vec![(1, mem_flags::STRING | mem_flags::UNREADABLE, 16, vec![])]
        );
    }

    #[test]
    fn buffer_ending_at_mapping_end_is_partial() {
        // SAFETY: a fresh anonymous mapping whose second page is made inaccessible.
        let p = unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                8192,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(p, libc::MAP_FAILED);
            std::ptr::write_bytes(p.cast::<u8>(), b'z', 4096);
            assert_eq!(
                libc::mprotect(p.cast::<u8>().add(4096).cast(), 4096, libc::PROT_NONE),
                0
            );
            p
        };
        let mut c = Capture::new(4096);
        let mut out = CaptureBuf::new();
        let a = [1, p as u64 + 4000, 1000, 0, 0, 0];
        c.at_enter(me(), Sysno::write as u64, &a, &mut out);
        assert_eq!(
            caps(&out),
            vec![(1, mem_flags::PARTIAL, a[1], vec![b'z'; 96])]
        );
        // SAFETY: unmapping our own mapping.
        unsafe { libc::munmap(p, 8192) };
    }

    #[test]
    fn read_is_captured_at_exit_by_ret_only_on_success() {
        let buf = b"abcdefgh".to_vec();
        let mut c = Capture::new(4096);
        let mut out = CaptureBuf::new();
        let a = [0, buf.as_ptr() as u64, 8, 0, 0, 0];
        c.at_enter(me(), Sysno::read as u64, &a, &mut out);
        assert!(out.is_empty());
        c.at_exit(me(), Sysno::read as u64, &a, 5, &mut out);
        assert_eq!(
            caps(&out),
            vec![(1, mem_flags::AT_EXIT, a[1], b"abcde".to_vec())]
        );
        out.clear();
        c.at_exit(me(), Sysno::read as u64, &a, -14, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn execve_argv_and_envp_elements_use_arg_8_plus_index() {
        let strs: Vec<Vec<u8>> = (0..3000)
            .map(|i| format!("V{i}=x\0").into_bytes())
            .collect();
        let mut env: Vec<u64> = strs.iter().map(|s| s.as_ptr() as u64).collect();
        env.push(0);
        let argv0 = b"/bin/true\0".to_vec();
        let argv = [argv0.as_ptr() as u64, 0];
        let mut c = Capture::new(32);
        let mut out = CaptureBuf::new();
        let a = [
            argv0.as_ptr() as u64,
            argv.as_ptr() as u64,
            env.as_ptr() as u64,
            0,
            0,
            0,
        ];
        c.at_enter(me(), Sysno::execve as u64, &a, &mut out);
        let v = caps(&out);
        // The path; argv's pointer array and its string; envp's array and
        // its 3000 strings.
        assert_eq!(v.len(), 1 + 2 + 1 + 3000);
        assert_eq!(v[0].3, b"/bin/true");
        assert_eq!((v[1].0, v[1].1, v[1].2), (1, 0, a[1]));
        assert_eq!(v[1].3, argv[0].to_ne_bytes());
        assert_eq!((v[2].0, &v[2].3[..]), (9, &b"/bin/true"[..]));
        assert_eq!((v[3].0, v[3].1, v[3].3.len()), (2, 0, 3000 * 8));
        for (i, m) in v[4..].iter().enumerate() {
            assert_eq!(m.0, 10);
            assert_eq!(m.3, format!("V{i}=x").into_bytes());
        }
    }

    #[test]
    fn an_argv_array_cut_by_unreadable_memory_is_marked_partial() {
        // A mapping whose last word is a pointer and whose next page is
        // not mapped: the array has no NULL within reach.
        let s = b"x\0".to_vec();
        // SAFETY: a fresh anonymous mapping of two pages, the second then
        // unmapped; only the first is written.
        let page = unsafe {
            let m = libc::mmap(
                std::ptr::null_mut(),
                2 * PAGE as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(m, libc::MAP_FAILED);
            libc::munmap((m as *mut u8).add(PAGE as usize).cast(), PAGE as usize);
            m as *mut u64
        };
        let last = PAGE as usize / 8 - 1;
        // SAFETY: `last` is the final u64 of the mapped first page.
        unsafe { page.add(last).write(s.as_ptr() as u64) };
        let arr = page as u64 + (last as u64) * 8;
        let mut c = Capture::new(32);
        let mut out = CaptureBuf::new();
        let path = b"/bin/true\0".to_vec();
        let a = [path.as_ptr() as u64, arr, 0, 0, 0, 0];
        c.at_enter(me(), Sysno::execve as u64, &a, &mut out);
        let v = caps(&out);
        assert_eq!((v[1].0, v[1].1), (1, mem_flags::PARTIAL));
        assert_eq!(v[1].3, (s.as_ptr() as u64).to_ne_bytes());
        assert_eq!((v[2].0, &v[2].3[..]), (9, &b"x"[..]));
        // SAFETY: the first page of the mapping made above.
        unsafe { libc::munmap(page.cast(), PAGE as usize) };
    }

    #[test]
    fn writev_captures_the_array_and_each_buffer() {
        let b1 = b"hello ".to_vec();
        let b2 = b"world".to_vec();
        let iov = [
            libc::iovec {
                iov_base: b1.as_ptr() as *mut _,
                iov_len: 6,
            },
            libc::iovec {
                iov_base: b2.as_ptr() as *mut _,
                iov_len: 5,
            },
        ];
        let mut c = Capture::new(8);
        let mut out = CaptureBuf::new();
        let a = [1, iov.as_ptr() as u64, 2, 0, 0, 0];
        c.at_enter(me(), Sysno::writev as u64, &a, &mut out);
        let v = caps(&out);
        assert_eq!(v[0].0, 1);
        assert_eq!(v[0].3.len(), 32);
        assert_eq!(v[1], (9, 0, b1.as_ptr() as u64, b"hello ".to_vec()));
        assert_eq!(
            v[2],
            (9, mem_flags::TRUNCATED, b2.as_ptr() as u64, b"wo".to_vec())
        );
    }

    #[test]
    fn connect_sockaddr_sized_by_its_length_argument() {
        // SAFETY: sockaddr_un is plain data; zeroed is a valid value.
        let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        sa.sun_family = libc::AF_UNIX as u16;
        sa.sun_path[0] = b'/' as i8;
        let mut c = Capture::new(4096);
        let mut out = CaptureBuf::new();
        let a = [3, &sa as *const _ as u64, 3, 0, 0, 0];
        c.at_enter(me(), Sysno::connect as u64, &a, &mut out);
        assert_eq!(caps(&out), vec![(1, 0, a[1], vec![1, 0, b'/'])]);
    }

    #[test]
    fn pselect6_sigmask_pair_and_its_set_are_captured() {
        let set: u64 = 1 << 1;
        let pair = [&set as *const u64 as u64, 8];
        let mut c = Capture::new(32);
        let mut out = CaptureBuf::new();
        let a = [0, 0, 0, 0, 0, pair.as_ptr() as u64];
        c.at_enter(me(), Sysno::pselect6 as u64, &a, &mut out);
        let v = caps(&out);
        assert_eq!(v.len(), 2, "{v:?}");
        assert_eq!((v[0].0, v[0].3.len()), (5, 16));
        assert_eq!(v[1], (13, 0, pair[0], set.to_ne_bytes().to_vec()));
    }

    #[test]
    fn getdents_records_are_captured_whole_not_cut_at_s() {
        let buf = vec![7u8; 300];
        let mut c = Capture::new(4);
        let mut out = CaptureBuf::new();
        let a = [3, buf.as_ptr() as u64, 32768, 0, 0, 0];
        c.at_exit(me(), Sysno::getdents64 as u64, &a, 300, &mut out);
        assert_eq!(caps(&out), vec![(1, mem_flags::AT_EXIT, a[1], buf.clone())]);
    }

    #[test]
    fn unknown_syscall_has_no_captures() {
        let mut c = Capture::new(4096);
        let mut out = CaptureBuf::new();
        c.at_enter(me(), 9999, &[1, 2, 3, 4, 5, 6], &mut out);
        c.at_exit(me(), 9999, &[1, 2, 3, 4, 5, 6], 0, &mut out);
        assert!(out.is_empty());
    }
}
