//! Starting the command: fork, let rec seize the child, then exec COMMAND
//! found on PATH as a shell finds it.
//!
//! Everything the child needs is prepared before `fork`, so the child only
//! makes async-signal-safe calls (read, close, execve, write, _exit).

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use anyhow::{bail, Context, Result};

/// A prepared command.
pub struct Launch {
    /// Paths to try, in order (one when the name contains a slash).
    candidates: Vec<CString>,
    argv: Vec<CString>,
    envp: Vec<CString>,
    name: String,
    /// `-e`: the seccomp filter the child installs just before exec.
    seccomp: Option<crate::filter::Program>,
    /// SIGPIPE was ignored when rec started (see [`Launch::sigpipe_ignored`]).
    sigpipe_ignored: bool,
    /// The signal mask the command starts with (see [`Launch::sigmask`]).
    sigmask: Option<libc::sigset_t>,
}

/// Marks an errno sent by the child as a failure to install the seccomp
/// filter rather than to exec (errnos are small positive numbers).
const SECCOMP_FAILED: i32 = 1 << 30;

/// A forked child waiting for [`Child::go`].
pub struct Child {
    pub pid: i32,
    go_w: i32,
    err_r: i32,
    name: String,
}

/// Why the child could not exec the command.
pub struct ExecFailure {
    pub errno: i32,
    pub message: String,
    /// 127 when not found, 126 otherwise (as a shell reports it).
    pub code: i32,
}

fn cstr(b: &[u8]) -> Result<CString> {
    CString::new(b).context("an argument or environment entry contains a NUL byte")
}

impl Launch {
    pub fn prepare(command: &[OsString]) -> Result<Launch> {
        let Some(first) = command.first() else {
            bail!("no command given: rec [OPTIONS] -- COMMAND [ARGS...]");
        };
        let name = first.as_bytes();
        if name.is_empty() {
            bail!("empty command name");
        }
        let mut candidates = Vec::new();
        if name.contains(&b'/') {
            candidates.push(cstr(name)?);
        } else {
            let path = std::env::var_os("PATH")
                .unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
            for dir in path.as_bytes().split(|&b| b == b':') {
                // An empty PATH entry means the current directory.
                let mut p = if dir.is_empty() {
                    b".".to_vec()
                } else {
                    dir.to_vec()
                };
                p.push(b'/');
                p.extend_from_slice(name);
                candidates.push(cstr(&p)?);
            }
            // Like a shell, pick the first executable regular file (else the
            // first regular file, which then fails with EACCES: 126), so the
            // trace shows the one execve a shell would make. When none exists
            // the child tries them all and reports "not found".
            let is_file = |c: &CString| {
                std::fs::metadata(OsStr::from_bytes(c.as_bytes())).is_ok_and(|m| m.is_file())
            };
            // SAFETY: access reads a NUL-terminated path.
            let executable = |c: &CString| unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0;
            let pick = candidates
                .iter()
                .position(|c| is_file(c) && executable(c))
                .or_else(|| candidates.iter().position(is_file));
            if let Some(i) = pick {
                candidates = vec![candidates.swap_remove(i)];
            }
        }
        let argv = command
            .iter()
            .map(|a| cstr(a.as_bytes()))
            .collect::<Result<Vec<_>>>()?;
        let envp = std::env::vars_os()
            .map(|(k, v)| {
                let mut e = k.into_vec();
                e.push(b'=');
                e.extend_from_slice(v.as_bytes());
                cstr(&e)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Launch {
            candidates,
            argv,
            envp,
            name: OsStr::from_bytes(name).to_string_lossy().into_owned(),
            seccomp: None,
            sigpipe_ignored: false,
            sigmask: None,
        })
    }

    /// Makes the child install `program` (see [`crate::filter`]) after rec
    /// seized it and before it execs the command.
    pub fn seccomp(&mut self, program: crate::filter::Program) {
        self.seccomp = Some(program);
    }

    /// Whether SIGPIPE was ignored when rec started, before Rust's runtime
    /// ignored it: the command gets that disposition back. Every other
    /// disposition is inherited unchanged (rec forks the child before it
    /// installs its handlers).
    pub fn sigpipe_ignored(&mut self, ignored: bool) {
        self.sigpipe_ignored = ignored;
    }

    /// The signal mask rec was started with, for the command: rec blocks
    /// its own signals before it forks the child.
    pub fn sigmask(&mut self, mask: libc::sigset_t) {
        self.sigmask = Some(mask);
    }

    /// Forks the child. It waits until [`Child::go`], then execs.
    pub fn fork(&self) -> Result<Child> {
        let argv: Vec<*const libc::c_char> = self
            .argv
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        let envp: Vec<*const libc::c_char> = self
            .envp
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        let go = pipe()?;
        let err = pipe()?;
        // SAFETY: rec is single-threaded here (the writer thread starts after
        // the fork); the child only makes async-signal-safe calls on data
        // prepared above and never returns.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(std::io::Error::last_os_error()).context("fork");
        }
        if pid == 0 {
            // SAFETY: see above.
            unsafe { child_exec(go, err, self, &argv, &envp) }
        }
        // SAFETY: closing the child's ends, which this process owns.
        unsafe {
            libc::close(go[0]);
            libc::close(err[1]);
        }
        Ok(Child {
            pid,
            go_w: go[1],
            err_r: err[0],
            name: self.name.clone(),
        })
    }
}

fn pipe() -> Result<[i32; 2]> {
    let mut fds = [0i32; 2];
    // SAFETY: a valid 2-int array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error()).context("pipe");
    }
    Ok(fds)
}

/// The child side: wait for rec, then execvp.
///
/// # Safety
/// Only to be called in a freshly forked child of a single-threaded process.
unsafe fn child_exec(
    go: [i32; 2],
    err: [i32; 2],
    launch: &Launch,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> ! {
    let candidates = &launch.candidates;
    // SAFETY: async-signal-safe calls on descriptors and buffers this process owns.
    unsafe {
        libc::close(go[1]);
        libc::close(err[0]);
        let mut b = 0u8;
        // Returns when rec writes the go byte, or 0 when rec closed the pipe
        // without it (rec failed): then do not run the command.
        let n = loop {
            let n = libc::read(go[0], (&mut b as *mut u8).cast(), 1);
            if n >= 0 || *libc::__errno_location() != libc::EINTR {
                break n;
            }
        };
        if n != 1 {
            libc::_exit(127);
        }
        // Rust's runtime set SIGPIPE to ignored in rec, and an ignored
        // signal stays ignored across execve: without this, `yes | head`
        // under rec would end with EPIPE errors instead of SIGPIPE (and an
        // inherited ignore must stay).
        let pipe = if launch.sigpipe_ignored {
            libc::SIG_IGN
        } else {
            libc::SIG_DFL
        };
        libc::signal(libc::SIGPIPE, pipe);
        if let Some(m) = &launch.sigmask {
            libc::sigprocmask(libc::SIG_SETMASK, m, std::ptr::null_mut());
        }
        if let Some(p) = &launch.seccomp {
            if let Err(errno) = p.install() {
                let e = (errno | SECCOMP_FAILED).to_ne_bytes();
                libc::write(err[1], e.as_ptr().cast(), e.len());
                libc::_exit(126);
            }
        }
        let mut last = libc::ENOENT;
        let mut denied = false;
        for c in candidates {
            libc::execve(c.as_ptr(), argv.as_ptr(), envp.as_ptr());
            last = *libc::__errno_location();
            match last {
                libc::EACCES => denied = true,
                libc::ENOENT | libc::ENOTDIR | libc::ELOOP | libc::ENAMETOOLONG | libc::ESTALE => {}
                // Like execvp: any other error ends the search.
                _ => break,
            }
        }
        if denied && matches!(last, libc::ENOENT | libc::ENOTDIR) {
            last = libc::EACCES;
        }
        let e = last.to_ne_bytes();
        libc::write(err[1], e.as_ptr().cast(), e.len());
        libc::_exit(if matches!(last, libc::ENOENT | libc::ENOTDIR) {
            127
        } else {
            126
        });
    }
}

impl Child {
    /// Lets the child exec the command.
    pub fn go(&mut self) {
        // SAFETY: writes one byte from a local; closes our own descriptor.
        unsafe {
            libc::write(self.go_w, [1u8].as_ptr().cast(), 1);
            libc::close(self.go_w);
        }
        self.go_w = -1;
    }

    /// After the recording: whether the child failed to exec the command.
    pub fn exec_failure(&self) -> Option<ExecFailure> {
        let mut b = [0u8; 4];
        // SAFETY: reads into a local buffer from our own descriptor.
        let n = unsafe { libc::read(self.err_r, b.as_mut_ptr().cast(), 4) };
        if n != 4 {
            return None;
        }
        let errno = i32::from_ne_bytes(b);
        if errno & SECCOMP_FAILED != 0 {
            let errno = errno & !SECCOMP_FAILED;
            return Some(ExecFailure {
                errno,
                message: format!(
                    "cannot install the seccomp-bpf filter of -e: {}",
                    std::io::Error::from_raw_os_error(errno)
                ),
                code: 1,
            });
        }
        let (code, message) = match errno {
            libc::ENOENT | libc::ENOTDIR => (127, format!("{}: command not found", self.name)),
            _ => (
                126,
                format!(
                    "{}: cannot execute: {}",
                    self.name,
                    std::io::Error::from_raw_os_error(errno)
                ),
            ),
        };
        Some(ExecFailure {
            errno,
            message,
            code,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // SAFETY: closing descriptors we own (if still open).
        unsafe {
            if self.go_w >= 0 {
                libc::close(self.go_w);
            }
            libc::close(self.err_r);
        }
    }
}
