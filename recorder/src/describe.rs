//! `rec -yy`: what strace's `-yy` shows of a descriptor beyond the name
//! /proc gives it ([`ARG_FD_DETAIL`]), asked of the kernel while the
//! tracee is stopped: a device's type and numbers (`char 1:3`, shown
//! after `/dev/null`), and in place of `socket:[N]` a socket's protocol
//! with its inode, its UNIX peer's inode and bound path
//! (`UNIX-STREAM:[7940->7941]`, `UNIX-STREAM:[7942,"/tmp/s"]`) or its IP
//! endpoints (`TCP:[127.0.0.1:39928->127.0.0.1:9]`).
//!
//! strace asks at every line it prints; a trace is read later, so rec asks
//! when what it would show changes: at the exit of each call that made the
//! descriptor, and of each connect and bind on it. Only with `-yy`: a stat
//! per made descriptor, and a few calls more per socket.
//!
//! [`ARG_FD_DETAIL`]: ptrec_abi::capture::ARG_FD_DETAIL

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `/proc/TID/fd/FD` (`/proc/TID/cwd` for `AT_FDCWD`), NUL-terminated, in
/// a fixed buffer: no formatting on the per-stop path. `None` for a
/// negative tid or descriptor.
pub fn proc_fd_path(tid: i32, fd: i32) -> Option<[u8; 48]> {
    let mut path = [0u8; 48];
    let mut n = 0;
    let mut put = |b: &[u8]| {
        path[n..n + b.len()].copy_from_slice(b);
        n += b.len();
    };
    let mut digits = itoa::Buffer::new();
    put(b"/proc/");
    put(digits.format(u32::try_from(tid).ok()?).as_bytes());
    if fd == ptrec_abi::fds::AT_FDCWD {
        put(b"/cwd");
    } else {
        put(b"/fd/");
        put(digits.format(u32::try_from(fd).ok()?).as_bytes());
    }
    // At most 6 + 10 + 4 + 10 of the 48 bytes are written: the rest,
    // NULs, terminate the string.
    Some(path)
}

/// The kernel's `struct unix_diag_req` (linux/unix_diag.h).
#[repr(C)]
struct UnixDiagReq {
    family: u8,
    protocol: u8,
    pad: u16,
    states: u32,
    ino: u32,
    show: u32,
    cookie: [u32; 2],
}

#[repr(C)]
struct DiagRequest {
    nlh: libc::nlmsghdr,
    req: UnixDiagReq,
}

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const UDIAG_SHOW_NAME: u32 = 1;
const UDIAG_SHOW_PEER: u32 = 4;
const UNIX_DIAG_NAME: u16 = 0;
const UNIX_DIAG_PEER: u16 = 2;
/// `sizeof(struct unix_diag_msg)`: family, type, state, pad, ino, cookie.
const UNIX_DIAG_MSG: usize = 16;
const NLMSG_HDR: usize = std::mem::size_of::<libc::nlmsghdr>();

/// Asks the kernel about descriptors; reused across stops.
pub struct Describer {
    /// A NETLINK_SOCK_DIAG socket, opened at the first UNIX socket; -1
    /// before, -2 when it could not be opened.
    diag: i32,
    /// What [`Describer::describe`] returns.
    text: Vec<u8>,
    /// Netlink replies.
    reply: Vec<u8>,
}

impl Default for Describer {
    fn default() -> Self {
        Describer {
            diag: -1,
            text: Vec::with_capacity(256),
            reply: vec![0; 8192],
        }
    }
}

impl Drop for Describer {
    fn drop(&mut self) {
        if self.diag >= 0 {
            // SAFETY: `diag` is a descriptor this struct opened and owns.
            unsafe { libc::close(self.diag) };
        }
    }
}

impl Describer {
    /// What `-yy` adds for descriptor `fd` of thread `tid`, or `None` when
    /// it adds nothing (a regular file, a pipe) or the descriptor is gone:
    /// for a device `char M:m` or `block M:m`; for a socket its name.
    pub fn describe(&mut self, tid: i32, fd: i32) -> Option<&[u8]> {
        let path = proc_fd_path(tid, fd)?;
        // SAFETY: an all-zero `stat` is a valid value of the plain C
        // struct; `path` is NUL-terminated and `st` ours to write.
        let st = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::stat(path.as_ptr().cast(), &mut st) != 0 {
                return None;
            }
            st
        };
        self.text.clear();
        match st.st_mode & libc::S_IFMT {
            libc::S_IFCHR | libc::S_IFBLK => {
                let kind = if st.st_mode & libc::S_IFMT == libc::S_IFCHR {
                    "char"
                } else {
                    "block"
                };
                let (major, minor) = dev_numbers(st.st_rdev);
                let _ = write!(self.text, "{kind} {major}:{minor}");
            }
            libc::S_IFSOCK => self.socket(tid, fd, &path, st.st_ino)?,
            _ => return None,
        }
        Some(&self.text)
    }

    /// A socket's `-yy` name into `text`.
    fn socket(&mut self, tid: i32, fd: i32, path: &[u8; 48], ino: u64) -> Option<()> {
        let mut proto = [0u8; 64];
        // SAFETY: `path` and the attribute name are NUL-terminated and
        // `proto` is a buffer of the length passed.
        let n = unsafe {
            libc::getxattr(
                path.as_ptr().cast(),
                c"system.sockprotoname".as_ptr(),
                proto.as_mut_ptr().cast(),
                proto.len(),
            )
        };
        let proto = &proto[..usize::try_from(n).ok()?];
        // The attribute may hold its NUL.
        let proto = proto.strip_suffix(b"\0").unwrap_or(proto);
        self.text.extend_from_slice(proto);
        self.text.extend_from_slice(b":[");
        let shown = if proto.starts_with(b"UNIX") {
            self.unix(ino)
        } else if matches!(
            proto,
            b"TCP" | b"UDP" | b"TCPv6" | b"UDPv6" | b"UDPLITE" | b"UDPLITEv6"
        ) {
            self.inet(tid, fd)
        } else {
            false
        };
        if !shown {
            let _ = write!(self.text, "{ino}");
        }
        self.text.push(b']');
        Some(())
    }

    /// `ino[->peer][,"path"]` of a UNIX socket, from sock_diag; `false`
    /// when the kernel could not say.
    fn unix(&mut self, ino: u64) -> bool {
        let Ok(ino32) = u32::try_from(ino) else {
            return false;
        };
        if self.diag == -1 {
            // SAFETY: plain socket(2); the result is checked.
            let s = unsafe {
                libc::socket(
                    libc::AF_NETLINK,
                    libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                    libc::NETLINK_SOCK_DIAG,
                )
            };
            self.diag = if s >= 0 { s } else { -2 };
        }
        if self.diag < 0 {
            return false;
        }
        let req = DiagRequest {
            nlh: libc::nlmsghdr {
                nlmsg_len: std::mem::size_of::<DiagRequest>() as u32,
                nlmsg_type: SOCK_DIAG_BY_FAMILY,
                nlmsg_flags: libc::NLM_F_REQUEST as u16,
                nlmsg_seq: ino32,
                nlmsg_pid: 0,
            },
            req: UnixDiagReq {
                family: libc::AF_UNIX as u8,
                protocol: 0,
                pad: 0,
                states: !0,
                ino: ino32,
                show: UDIAG_SHOW_NAME | UDIAG_SHOW_PEER,
                // "Any socket": the kernel checks the cookie unless it is
                // all ones.
                cookie: [!0, !0],
            },
        };
        // SAFETY: `req` is a plain C struct sent whole; the kernel is the
        // destination of a netlink socket's send without an address.
        let sent = unsafe {
            libc::send(
                self.diag,
                (&req as *const DiagRequest).cast(),
                std::mem::size_of::<DiagRequest>(),
                0,
            )
        };
        if sent < 0 {
            return false;
        }
        // SAFETY: `reply` is a buffer of the length passed. MSG_DONTWAIT:
        // the kernel answers a request synchronously, so an empty queue
        // means no answer, never one still to come.
        let got = unsafe {
            libc::recv(
                self.diag,
                self.reply.as_mut_ptr().cast(),
                self.reply.len(),
                libc::MSG_DONTWAIT,
            )
        };
        let Ok(got) = usize::try_from(got) else {
            return false;
        };
        let Some((peer, name)) = parse_unix_diag(&self.reply[..got], ino32) else {
            return false;
        };
        let _ = write!(self.text, "{ino}");
        if let Some(p) = peer {
            let _ = write!(self.text, "->{p}");
        }
        if let Some(name) = name {
            // An abstract name starts with a NUL; strace shows it as `@`.
            let (at, rest) = match name.split_first() {
                Some((0, rest)) => ("@", rest),
                _ => ("", name),
            };
            let end = if at.is_empty() {
                rest.iter().position(|&c| c == 0).unwrap_or(rest.len())
            } else {
                rest.len()
            };
            self.text.extend_from_slice(b",\"");
            self.text.extend_from_slice(at.as_bytes());
            self.text.extend_from_slice(&rest[..end]);
            self.text.push(b'"');
        }
        true
    }

    /// `local[->peer]` of an IP socket, asked of a copy of the descriptor
    /// (pidfd_getfd); `false` when it is unbound or cannot be copied.
    fn inet(&mut self, tid: i32, fd: i32) -> bool {
        // PIDFD_THREAD (O_EXCL): `tid` need not lead its thread group.
        // SAFETY: raw syscalls with integer arguments; results checked.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, tid, libc::O_EXCL) } as i32;
        if pidfd < 0 {
            return false;
        }
        // SAFETY: as above; `pidfd` is ours and closed below.
        let copy = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd, fd, 0) } as i32;
        // SAFETY: `pidfd` is a descriptor we opened.
        unsafe { libc::close(pidfd) };
        if copy < 0 {
            return false;
        }
        let local = sock_name(copy, false);
        let peer = sock_name(copy, true);
        // SAFETY: `copy` is a descriptor pidfd_getfd made for us; closing
        // it leaves the tracee's.
        unsafe { libc::close(copy) };
        let Some(local) = local.filter(|a| !a.unbound()) else {
            return false;
        };
        local.write(&mut self.text);
        if let Some(p) = peer.filter(|a| !a.unbound()) {
            self.text.extend_from_slice(b"->");
            p.write(&mut self.text);
        }
        true
    }
}

/// An IP endpoint.
enum Endpoint {
    V4(Ipv4Addr, u16),
    V6(Ipv6Addr, u16),
}

impl Endpoint {
    /// No address and no port: a socket not yet bound (or, as a peer, not
    /// connected).
    fn unbound(&self) -> bool {
        match self {
            Endpoint::V4(a, p) => a.is_unspecified() && *p == 0,
            Endpoint::V6(a, p) => a.is_unspecified() && *p == 0,
        }
    }

    /// As strace shows it: `1.2.3.4:5`, `[::1]:5`.
    fn write(&self, out: &mut Vec<u8>) {
        let _ = match self {
            Endpoint::V4(a, p) => write!(out, "{a}:{p}"),
            Endpoint::V6(a, p) => write!(out, "[{a}]:{p}"),
        };
    }
}

/// getsockname (`peer`: getpeername) of socket `fd`.
fn sock_name(fd: i32, peer: bool) -> Option<Endpoint> {
    // SAFETY: an all-zero sockaddr_storage is valid; the kernel writes at
    // most `len` bytes of it and sets `len`.
    let (ss, len) = unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let p = (&mut ss as *mut libc::sockaddr_storage).cast();
        let r = if peer {
            libc::getpeername(fd, p, &mut len)
        } else {
            libc::getsockname(fd, p, &mut len)
        };
        if r != 0 {
            return None;
        }
        (ss, len as usize)
    };
    match i32::from(ss.ss_family) {
        libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the kernel filled a sockaddr_in (family and length
            // say so); sockaddr_storage is aligned for every sockaddr.
            let a = unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(Endpoint::V4(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            ))
        }
        libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, a sockaddr_in6.
            let a =
                unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(Endpoint::V6(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
            ))
        }
        _ => None,
    }
}

/// Linux's `MAJOR`/`MINOR` of a `dev_t` (glibc's encoding, which the
/// kernel's new_encode_dev matches).
fn dev_numbers(dev: u64) -> (u64, u64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major, minor)
}

/// The peer inode and bound name in a sock_diag reply about UNIX socket
/// `ino`; `None` when the reply is an error or about another socket.
/// Checked, never trusted: a short or odd reply is `None`, not a panic.
fn parse_unix_diag(reply: &[u8], ino: u32) -> Option<(Option<u32>, Option<&[u8]>)> {
    let u16_at =
        |b: &[u8], at: usize| Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?));
    let u32_at =
        |b: &[u8], at: usize| Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?));
    let len = u32_at(reply, 0)? as usize;
    let msg = reply.get(..len)?;
    if u16_at(msg, 4)? != SOCK_DIAG_BY_FAMILY {
        return None;
    }
    let body = msg.get(NLMSG_HDR..)?;
    if body.len() < UNIX_DIAG_MSG || u32_at(body, 4)? != ino {
        return None;
    }
    let (mut peer, mut name) = (None, None);
    let mut attrs = &body[UNIX_DIAG_MSG..];
    while attrs.len() >= 4 {
        let alen = u16_at(attrs, 0)? as usize;
        if alen < 4 {
            break;
        }
        let kind = u16_at(attrs, 2)?;
        let data = attrs.get(4..alen)?;
        match kind {
            UNIX_DIAG_NAME => name = Some(data),
            UNIX_DIAG_PEER => peer = u32_at(data, 0).filter(|&p| p != 0),
            _ => {}
        }
        // Attributes are padded to 4 bytes.
        let next = (alen + 3) & !3;
        attrs = attrs.get(next.max(4)..).unwrap_or(&[]);
    }
    Some((peer, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::{UnixListener, UnixStream};

    fn me() -> i32 {
        // SAFETY: gettid has no arguments and cannot fail.
        unsafe { libc::gettid() }
    }

    fn text(d: &mut Describer, fd: i32) -> Option<String> {
        d.describe(me(), fd)
            .map(|t| String::from_utf8_lossy(t).into_owned())
    }

    #[test]
    fn a_device_gets_its_type_and_numbers() {
        let null = std::fs::File::open("/dev/null").unwrap();
        let mut d = Describer::default();
        assert_eq!(text(&mut d, null.as_raw_fd()).as_deref(), Some("char 1:3"));
    }

    #[test]
    fn a_regular_file_and_a_pipe_get_nothing_more() {
        let f = std::fs::File::open("/proc/self/exe").unwrap();
        let mut d = Describer::default();
        assert_eq!(text(&mut d, f.as_raw_fd()), None);
        let (r, _w) = std::io::pipe().unwrap();
        assert_eq!(text(&mut d, r.as_raw_fd()), None);
        assert_eq!(text(&mut d, 1 << 20), None, "no such descriptor");
    }

    fn ino(fd: i32) -> u64 {
        let path = proc_fd_path(me(), fd).unwrap();
        // SAFETY: as in `describe`.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            assert_eq!(libc::stat(path.as_ptr().cast(), &mut st), 0);
            st.st_ino
        }
    }

    #[test]
    fn unix_sockets_name_their_peer_and_their_path() {
        let mut d = Describer::default();
        let (a, b) = UnixStream::pair().unwrap();
        let (ia, ib) = (ino(a.as_raw_fd()), ino(b.as_raw_fd()));
        assert_eq!(
            text(&mut d, a.as_raw_fd()),
            Some(format!("UNIX-STREAM:[{ia}->{ib}]"))
        );
        let dir = std::env::temp_dir().join(format!("ptrec-describe-{}", me()));
        let _ = std::fs::remove_file(&dir);
        let l = UnixListener::bind(&dir).unwrap();
        let il = ino(l.as_raw_fd());
        let shown = text(&mut d, l.as_raw_fd()).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(shown, format!("UNIX-STREAM:[{il},\"{}\"]", dir.display()));
    }

    #[test]
    fn ip_sockets_name_both_ends_once_connected() {
        let mut d = Describer::default();
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert_eq!(
            text(&mut d, l.as_raw_fd()),
            Some(format!("TCP:[127.0.0.1:{port}]"))
        );
        let c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let local = c.local_addr().unwrap().port();
        assert_eq!(
            text(&mut d, c.as_raw_fd()),
            Some(format!("TCP:[127.0.0.1:{local}->127.0.0.1:{port}]"))
        );
        let u = std::net::UdpSocket::bind("[::1]:0").unwrap();
        let uport = u.local_addr().unwrap().port();
        assert_eq!(
            text(&mut d, u.as_raw_fd()),
            Some(format!("UDPv6:[[::1]:{uport}]"))
        );
    }

    #[test]
    fn an_unbound_socket_is_named_by_its_inode() {
        // SAFETY: plain socket(2), closed below.
        let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0) };
        assert!(s >= 0);
        let mut d = Describer::default();
        let shown = text(&mut d, s);
        let i = ino(s);
        // SAFETY: ours.
        unsafe { libc::close(s) };
        assert_eq!(shown, Some(format!("UDP:[{i}]")));
    }

    #[test]
    fn odd_diag_replies_are_refused() {
        assert_eq!(parse_unix_diag(&[], 1), None);
        assert_eq!(parse_unix_diag(&[200, 0, 0, 0, 20, 0], 1), None);
        let mut msg = vec![0u8; NLMSG_HDR + UNIX_DIAG_MSG + 4];
        let n = msg.len() as u32;
        msg[..4].copy_from_slice(&n.to_ne_bytes());
        msg[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        msg[NLMSG_HDR + 4..NLMSG_HDR + 8].copy_from_slice(&7u32.to_ne_bytes());
        // An attribute longer than the message.
        let at = NLMSG_HDR + UNIX_DIAG_MSG;
        msg[at..at + 2].copy_from_slice(&99u16.to_ne_bytes());
        assert_eq!(parse_unix_diag(&msg, 7), None);
        assert_eq!(parse_unix_diag(&msg, 8), None, "another socket");
        msg[at..at + 2].copy_from_slice(&0u16.to_ne_bytes());
        assert_eq!(parse_unix_diag(&msg, 7), Some((None, None)));
    }
}
