//! Reading tracee memory: many regions in one `process_vm_readv`.
//!
//! Remote iovecs are split at page boundaries because the kernel stops a
//! vectored read at the first element it cannot read: with one element per
//! page, the byte count it returns tells exactly which page failed, and the
//! read resumes after it. So a region ending at a mapping's end comes back
//! partial, and an unreadable region does not hide the regions after it.
//!
//! When `process_vm_readv` itself is refused (EPERM, ENOSYS) the same pages
//! are read with `pread` on `/proc/PID/mem`, opened for that one read: a
//! cached fd would keep pointing at the old address space after an exec.

use std::os::fd::AsRawFd;

const PAGE: u64 = crate::arch::PAGE_SIZE;
/// The kernel's IOV_MAX: the most iovecs one call takes.
const IOV_MAX: usize = 1024;

/// One region to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub addr: u64,
    pub len: usize,
}

/// Reusable buffers for reading tracee memory; no allocation once warm.
#[derive(Default)]
pub struct MemReader {
    /// The regions' bytes, one after the other.
    scratch: Vec<u8>,
    /// Per region: its offset in `scratch` and how many bytes were read.
    spans: Vec<(usize, usize)>,
    /// Per page segment: (region index, remote addr, len, offset in scratch).
    segs: Vec<(usize, u64, usize, usize)>,
    local: Vec<libc::iovec>,
    remote: Vec<libc::iovec>,
    /// Number of process_vm_readv/pread calls made (for tests and tuning).
    pub calls: u64,
}

impl MemReader {
    pub fn new() -> MemReader {
        MemReader::default()
    }

    /// Reads every region of `regions` of thread `tid`. Afterwards
    /// [`MemReader::get`] gives each region's bytes, cut where the first
    /// unreadable page starts (empty when the first page is unreadable).
    pub fn read(&mut self, tid: i32, regions: &[Region]) {
        self.spans.clear();
        self.segs.clear();
        let mut total = 0usize;
        for (i, r) in regions.iter().enumerate() {
            self.spans.push((total, 0));
            let mut addr = r.addr;
            let mut left = r.len;
            let mut off = total;
            while left > 0 {
                let room = (PAGE - addr % PAGE) as usize;
                let n = room.min(left);
                self.segs.push((i, addr, n, off));
                addr = addr.wrapping_add(n as u64);
                off += n;
                left -= n;
                if addr == 0 {
                    break;
                }
            }
            total += r.len;
        }
        self.scratch.clear();
        self.scratch.resize(total, 0);
        // A region's segments stop counting after its first failed page.
        let mut failed_region: Option<usize> = None;
        let mut s = 0usize;
        while s < self.segs.len() {
            let end = (s + IOV_MAX).min(self.segs.len());
            self.local.clear();
            self.remote.clear();
            let base = self.scratch.as_mut_ptr();
            for &(_, addr, len, off) in &self.segs[s..end] {
                // SAFETY: off + len <= scratch.len() by construction; the
                // pointer is only handed to the kernel as a write target.
                let p = unsafe { base.add(off) };
                self.local.push(libc::iovec {
                    iov_base: p.cast(),
                    iov_len: len,
                });
                self.remote.push(libc::iovec {
                    iov_base: addr as *mut libc::c_void,
                    iov_len: len,
                });
            }
            self.calls += 1;
            // SAFETY: local iovecs point into `scratch`, alive and large
            // enough; remote addresses are only read by the kernel.
            let n = unsafe {
                libc::process_vm_readv(
                    tid,
                    self.local.as_ptr(),
                    self.local.len() as libc::c_ulong,
                    self.remote.as_ptr(),
                    self.remote.len() as libc::c_ulong,
                    0,
                )
            };
            if n < 0 {
                let err = std::io::Error::last_os_error().raw_os_error();
                if matches!(err, Some(libc::EPERM) | Some(libc::ENOSYS)) {
                    self.read_proc_mem(tid, s, end, &mut failed_region);
                    s = end;
                    continue;
                }
                if err == Some(libc::ESRCH) {
                    return;
                }
                // EFAULT: the first segment is unreadable; go on after it.
                failed_region = Some(self.segs[s].0);
                s += 1;
                continue;
            }
            let mut n = n as usize;
            let mut k = s;
            while k < end {
                let (ri, _, len, _) = self.segs[k];
                if n >= len {
                    n -= len;
                    if failed_region != Some(ri) {
                        self.spans[ri].1 += len;
                    }
                    k += 1;
                } else {
                    // The kernel stopped inside or at this segment.
                    if failed_region != Some(ri) {
                        self.spans[ri].1 += n;
                    }
                    failed_region = Some(ri);
                    k += 1;
                    break;
                }
            }
            s = k;
        }
    }

    fn read_proc_mem(&mut self, tid: i32, s: usize, end: usize, failed: &mut Option<usize>) {
        let mut path = [0u8; 32];
        let path = proc_mem_path(tid, &mut path);
        let Ok(f) = std::fs::File::open(path) else {
            return;
        };
        for k in s..end {
            let (ri, addr, len, off) = self.segs[k];
            if *failed == Some(ri) {
                continue;
            }
            self.calls += 1;
            // SAFETY: off + len <= scratch.len(); pread writes at most len bytes.
            let n = unsafe {
                libc::pread(
                    f.as_raw_fd(),
                    self.scratch.as_mut_ptr().add(off).cast(),
                    len,
                    addr as libc::off_t,
                )
            };
            if n > 0 {
                self.spans[ri].1 += n as usize;
            }
            if n < len as isize {
                *failed = Some(ri);
            }
        }
    }

    /// The bytes read for region `i` of the last [`MemReader::read`].
    pub fn get(&self, i: usize) -> &[u8] {
        let (off, n) = self.spans[i];
        &self.scratch[off..off + n]
    }
}

/// "/proc/TID/mem" without allocating or formatting.
fn proc_mem_path(tid: i32, buf: &mut [u8; 32]) -> &str {
    proc_path(tid, b"/mem", buf)
}

/// The NUL-separated arguments of `tid`'s process (/proc/TID/cmdline) into
/// `out`, which keeps its capacity from one exec to the next. Read while
/// the tracee waits at its exec stop, so in three system calls (open, read,
/// close) where `std::fs::read` makes five (a statx for a size hint that
/// procfs does not give, and a last read for the end).
pub fn read_cmdline(tid: i32, out: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    out.clear();
    let mut path = [0u8; 32];
    let mut f = std::fs::File::open(proc_path(tid, b"/cmdline", &mut path))?;
    let mut len = 0;
    loop {
        if out.len() - len < PAGE as usize {
            out.resize((out.len() * 2).max(16 * PAGE as usize), 0);
        }
        let want = out.len() - len;
        let n = match f.read(&mut out[len..]) {
            Ok(n) => n,
            // rec's signal handlers do not restart system calls.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                out.clear();
                return Err(e);
            }
        };
        len += n;
        // procfs fills the whole request unless the arguments end first
        // (get_mm_cmdline copies page by page until `count` or the end).
        if n < want {
            break;
        }
    }
    out.truncate(len);
    Ok(())
}

/// "/proc/TID" + `leaf` without allocating or formatting.
fn proc_path<'a>(tid: i32, leaf: &[u8], buf: &'a mut [u8; 32]) -> &'a str {
    let mut digits = [0u8; 12];
    let mut n = tid.unsigned_abs();
    let mut d = 0;
    loop {
        digits[d] = b'0' + (n % 10) as u8;
        d += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut len = 0;
    for &b in b"/proc/" {
        buf[len] = b;
        len += 1;
    }
    while d > 0 {
        d -= 1;
        buf[len] = digits[d];
        len += 1;
    }
    for &b in leaf {
        buf[len] = b;
        len += 1;
    }
    std::str::from_utf8(&buf[..len]).unwrap_or("/proc/self/mem")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> i32 {
        // SAFETY: getpid has no preconditions.
        unsafe { libc::getpid() }
    }

    #[test]
    fn reads_several_regions_in_one_call() {
        let a = b"hello world".to_vec();
        let b = vec![7u8; 10000];
        let mut m = MemReader::new();
        m.read(
            me(),
            &[
                Region {
                    addr: a.as_ptr() as u64,
                    len: a.len(),
                },
                Region {
                    addr: b.as_ptr() as u64,
                    len: b.len(),
                },
            ],
        );
        assert_eq!(m.get(0), &a[..]);
        assert_eq!(m.get(1), &b[..]);
        assert_eq!(m.calls, 1);
    }

    #[test]
    fn bad_pointer_is_empty_and_does_not_hide_later_regions() {
        let a = b"after".to_vec();
        let mut m = MemReader::new();
        m.read(
            me(),
            &[
                Region { addr: 8, len: 100 },
                Region {
                    addr: a.as_ptr() as u64,
                    len: 5,
                },
            ],
        );
        assert!(m.get(0).is_empty());
        assert_eq!(m.get(1), b"after");
    }

    #[test]
    fn region_ending_at_mapping_end_is_partial() {
        // SAFETY: a fresh anonymous mapping, unmapped in part below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                8192,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        // SAFETY: the first page is mapped and writable; then the second is removed.
        unsafe {
            std::ptr::write_bytes(p.cast::<u8>(), b'x', 4096);
            assert_eq!(libc::munmap(p.cast::<u8>().add(4096).cast(), 4096), 0);
        }
        let start = p as u64 + 4000;
        let mut m = MemReader::new();
        m.read(
            me(),
            &[Region {
                addr: start,
                len: 500,
            }],
        );
        assert_eq!(m.get(0), &[b'x'; 96][..]);
        // SAFETY: unmapping the page still mapped.
        unsafe { libc::munmap(p, 4096) };
    }

    #[test]
    fn cmdline_is_read_whole_past_the_first_buffer() {
        // Three 50 KB arguments: 150 KB, more than the first 64 KiB read.
        let long: Vec<String> = (0..3).map(|i| format!("{i}").repeat(50_000)).collect();
        let mut child = std::process::Command::new("cat")
            .arg("-")
            .args(&long)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut want = b"cat\0-\0".to_vec();
        for a in &long {
            want.extend_from_slice(a.as_bytes());
            want.push(0);
        }
        let mut got = Vec::new();
        // cat may not have exec'd yet: its cmdline is then the test's.
        for _ in 0..500 {
            read_cmdline(child.id() as i32, &mut got).unwrap();
            if got == want {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(got.len(), want.len());
        assert!(got == want);
        // A gone process is an error and leaves nothing behind.
        assert!(read_cmdline(child.id() as i32, &mut got).is_err());
        assert!(got.is_empty());
    }

    #[test]
    fn proc_mem_path_is_built_without_format() {
        let mut b = [0u8; 32];
        assert_eq!(proc_mem_path(12345, &mut b), "/proc/12345/mem");
        assert_eq!(
            proc_path(2147483647, b"/cmdline", &mut b),
            "/proc/2147483647/cmdline"
        );
    }
}
