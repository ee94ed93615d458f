//! Opening the trace file without trusting what is at its path.
//!
//! A trace holds the command's environment and buffers, and rec often runs as
//! root in a world-writable directory, so the path `-o` names is hostile until
//! proven otherwise:
//! - a regular file is never opened: rec creates a new file beside it
//!   (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600) and renames it over the target,
//!   and only if the target is absent or a regular file the user owns (a file
//!   pre-created by someone else would keep its owner, who could then read the
//!   trace; a symlink would make rec truncate whatever it points to);
//! - a FIFO the user owns, or a character device that is not a terminal
//!   (`/dev/null`), is written as a stream; a FIFO without a reader is an
//!   error at once (opened with `O_NONBLOCK`: ENXIO), not a hang;
//! - `-`, `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N` name a descriptor rec
//!   inherited: a pipe or socket there streams the trace. On stdout, the
//!   command's own stdout is moved to rec's stderr so that it cannot mix into
//!   the stream. A regular file there is refused: rec did not create it, and
//!   on stdout the command would write into it through its own offset,
//!   overwriting the header.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why the trace file cannot be opened. Each message is one line that names
/// the path and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {why}")]
    Refused { path: String, why: String },
    #[error("{path}: {what}: {source}")]
    Io {
        path: String,
        what: String,
        #[source]
        source: io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

/// The open trace file.
#[derive(Debug)]
pub struct Output {
    pub file: File,
    /// The path as given, for messages.
    pub name: String,
    /// The trace is a stream (pipe, socket, device): no file to stat or
    /// rename afterwards.
    pub stream: bool,
}

fn refused(path: &str, why: impl Into<String>) -> Error {
    Error::Refused {
        path: path.to_string(),
        why: why.into(),
    }
}

fn io_err(path: &str, what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let path = path.to_string();
    let what = what.into();
    move |source| Error::Io { path, what, source }
}

/// Opens the trace output named by `-o` (see the module docs for the rules).
/// When the trace goes to rec's stdout, fd 1 becomes a copy of fd 2 before
/// this returns, so that the command rec starts writes its output there.
pub fn open(path: &Path) -> Result<Output> {
    let name = path.display().to_string();
    if let Some(fd) = inherited_fd(path) {
        return open_fd(fd, &name);
    }
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(&name, "cannot look at it")(e)),
    };
    // SAFETY: geteuid has no arguments and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let Some(m) = meta else {
        return create_beside(path, &name);
    };
    let ft = m.file_type();
    let not_yours = |what: &str| {
        refused(
            &name,
            format!(
                "{what} belongs to uid {}, not to you (uid {euid}): rec writes a trace only into a file it creates; remove it or choose another path",
                m.uid()
            ),
        )
    };
    if ft.is_symlink() {
        Err(refused(
            &name,
            "is a symbolic link: rec does not write a trace through a link; remove it or give the path it points to",
        ))
    } else if ft.is_file() {
        if m.uid() != euid {
            return Err(not_yours("the existing file"));
        }
        create_beside(path, &name)
    } else if ft.is_fifo() {
        if m.uid() != euid {
            return Err(not_yours("the FIFO"));
        }
        open_stream(path, &name, true)
    } else if ft.is_char_device() {
        open_stream(path, &name, false)
    } else if ft.is_dir() {
        Err(refused(&name, "is a directory"))
    } else {
        Err(refused(
            &name,
            "is not a regular file, a FIFO or a character device",
        ))
    }
}

/// The descriptor that `-` and the /dev/fd-style names stand for.
fn inherited_fd(path: &Path) -> Option<RawFd> {
    let p = path.as_os_str().as_bytes();
    match p {
        b"-" | b"/dev/stdout" => Some(1),
        b"/dev/stderr" => Some(2),
        b"/dev/stdin" => Some(0),
        _ => {
            let n = p
                .strip_prefix(b"/dev/fd/")
                .or_else(|| p.strip_prefix(b"/proc/self/fd/"))?;
            std::str::from_utf8(n).ok()?.parse().ok()
        }
    }
}

fn is_tty(f: &File) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(f.as_raw_fd()) == 1 }
}

fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino()
}

fn open_fd(fd: RawFd, name: &str) -> Result<Output> {
    let what = if fd == 1 {
        "stdout".to_string()
    } else {
        format!("fd {fd}")
    };
    // SAFETY: F_GETFL only inspects the descriptor (EBADF when closed).
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if fl < 0 {
        return Err(refused(name, format!("{what} is not open")));
    }
    if fl & libc::O_ACCMODE == libc::O_RDONLY {
        return Err(refused(name, format!("{what} is not open for writing")));
    }
    if fd == 2 {
        return Err(refused(
            name,
            "stderr carries rec's messages and the command's errors: give -o a path or a pipe",
        ));
    }
    // SAFETY: fcntl said fd is open; it stays open for this borrow.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    // A close-on-exec copy: the command must not inherit the trace.
    let file = File::from(
        borrowed
            .try_clone_to_owned()
            .map_err(io_err(name, format!("cannot duplicate {what}")))?,
    );
    let meta = file
        .metadata()
        .map_err(io_err(name, format!("cannot look at {what}")))?;
    let ft = meta.file_type();
    if ft.is_file() {
        return Err(refused(
            name,
            format!(
                "{what} is a regular file that rec did not create{}: give -o the file's path instead",
                if fd == 1 {
                    " and that the command writes to as well (its output would overwrite the trace)"
                } else {
                    ""
                }
            ),
        ));
    }
    if is_tty(&file) {
        return Err(refused(
            name,
            format!("{what} is a terminal: a trace is binary; redirect it or give -o a path"),
        ));
    }
    if !(ft.is_fifo() || ft.is_socket() || ft.is_char_device()) {
        return Err(refused(
            name,
            format!("{what} is not a pipe, a socket or a character device"),
        ));
    }
    if fd == 1 && !ft.is_char_device() {
        // The command inherits rec's stdout: send its output to stderr,
        // unless stderr is the same stream (then it would still mix in).
        // (A device such as /dev/null on stdout is left to the command.)
        let err = File::from(
            // SAFETY: fd 2 is open in every process rec runs in; if it is
            // not, try_clone_to_owned fails (EBADF).
            unsafe { BorrowedFd::borrow_raw(2) }
                .try_clone_to_owned()
                .map_err(io_err(name, "cannot duplicate stderr"))?,
        );
        let err_meta = err
            .metadata()
            .map_err(io_err(name, "cannot look at stderr"))?;
        if same_file(&meta, &err_meta) {
            return Err(refused(
                name,
                "stdout and stderr are the same stream: the command's output would mix into the trace; redirect stderr",
            ));
        }
        // SAFETY: both descriptors are open; dup2 replaces fd 1 atomically.
        if unsafe { libc::dup2(2, 1) } < 0 {
            return Err(io_err(name, "cannot move the command's stdout to stderr")(
                io::Error::last_os_error(),
            ));
        }
    } else if fd > 2 {
        // rec holds its own copy; the command must not inherit this one
        // (a reader of the pipe would wait for the command too).
        // SAFETY: closing a descriptor rec inherited and no longer uses.
        unsafe { libc::close(fd) };
    }
    Ok(Output {
        file,
        name: name.to_string(),
        stream: true,
    })
}

/// Opens an existing FIFO or device for writing, without following a link
/// that may have replaced it since it was looked at.
fn open_stream(path: &Path, name: &str, fifo: bool) -> Result<Output> {
    let mut flags = libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NOCTTY;
    if fifo {
        // Without a reader, open(2) on a FIFO blocks; with O_NONBLOCK it
        // fails with ENXIO instead (fifo(7)).
        flags |= libc::O_NONBLOCK;
    }
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ENXIO) && fifo {
                refused(
                    name,
                    "is a FIFO that no process is reading: start its reader first",
                )
            } else {
                io_err(name, "cannot open it for writing")(e)
            }
        })?;
    if is_tty(&file) {
        return Err(refused(
            name,
            "is a terminal: a trace is binary; give -o a path",
        ));
    }
    if fifo {
        // Back to blocking writes: the writer thread waits for the reader.
        // SAFETY: F_GETFL/F_SETFL on a descriptor we own.
        let ok = unsafe {
            let fl = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
            fl >= 0 && libc::fcntl(file.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK) == 0
        };
        if !ok {
            return Err(io_err(name, "cannot make it blocking")(
                io::Error::last_os_error(),
            ));
        }
    }
    Ok(Output {
        file,
        name: name.to_string(),
        stream: true,
    })
}

/// A name for the new file that no one can have guessed in advance.
fn random_suffix() -> u64 {
    let mut v = 0u64;
    // SAFETY: getrandom writes at most 8 bytes into a local u64.
    let n = unsafe { libc::getrandom((&mut v as *mut u64).cast(), 8, 0) };
    if n != 8 {
        // No entropy source: O_EXCL still refuses any name that exists.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        v = t ^ (u64::from(std::process::id()) << 32);
    }
    v
}

/// Creates a new 0600 file beside `path` and renames it over `path`. The
/// rename happens before anything is written, so that the trace is at its
/// path from the start (readable after a SIGKILL of rec); renaming replaces
/// a directory entry and never writes into what was there.
fn create_beside(path: &Path, name: &str) -> Result<Output> {
    let Some(file_name) = path.file_name() else {
        return Err(refused(name, "names no file"));
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut last = None;
    for _ in 0..16 {
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(file_name);
        tmp_name.push(format!(".{:016x}.tmp", random_suffix()));
        let tmp = dir.join(tmp_name);
        let created = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp);
        let file = match created {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                last = Some(e);
                continue;
            }
            Err(e) => {
                return Err(io_err(
                    name,
                    format!("cannot create a new file in {}", dir.display()),
                )(e))
            }
        };
        // The umask may have taken bits off 0600 (not added any): the owner
        // must be able to read the trace back.
        let fixed = file.set_permissions(std::fs::Permissions::from_mode(0o600));
        let renamed = fixed.and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = renamed {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err(name, "cannot put the new file in place")(e));
        }
        return Ok(Output {
            file,
            name: name.to_string(),
            stream: false,
        });
    }
    Err(io_err(
        name,
        format!("cannot create a new file in {}", dir.display()),
    )(last.unwrap_or_else(|| {
        io::Error::from(io::ErrorKind::AlreadyExists)
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_names_are_recognised() {
        assert_eq!(inherited_fd(Path::new("-")), Some(1));
        assert_eq!(inherited_fd(Path::new("/dev/stdout")), Some(1));
        assert_eq!(inherited_fd(Path::new("/dev/stderr")), Some(2));
        assert_eq!(inherited_fd(Path::new("/dev/fd/7")), Some(7));
        assert_eq!(inherited_fd(Path::new("/proc/self/fd/3")), Some(3));
        assert_eq!(inherited_fd(Path::new("/dev/fd/x")), None);
        assert_eq!(inherited_fd(Path::new("./-x")), None);
        assert_eq!(inherited_fd(Path::new("trace.bin")), None);
    }

    #[test]
    fn an_existing_file_is_replaced_not_written_into() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("t.bin");
        std::fs::write(&target, b"old").expect("write");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        // A second name for the old file: its content must survive.
        let other = dir.path().join("hardlink");
        std::fs::hard_link(&target, &other).expect("link");
        let out = open(&target).expect("open");
        assert!(!out.stream);
        let m = std::fs::metadata(&target).expect("stat");
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
        assert_eq!(m.len(), 0);
        assert_eq!(std::fs::read(&other).expect("read"), b"old");
        // Nothing left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("readdir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_symlink_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").expect("write");
        let link = dir.path().join("t.bin");
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        let e = open(&link).expect_err("a link must be refused");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&victim).expect("read"), b"precious");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path()).expect_err("a directory");
        assert!(e.to_string().contains("is a directory"), "{e}");
    }
}
