//! `rec`: record every ptrace stop of a command's whole process tree.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use ptrec_format::{Header, RecordingOptions, Termination, Writer, WriterOptions};
use ptrec_recorder::engine::{Engine, Stop, SEIZE_OPTIONS};
use ptrec_recorder::launch::Launch;
use ptrec_recorder::{arch, signals, tracee};

/// Record every ptrace stop of a process tree into a trace file.
#[derive(Parser, Debug)]
#[command(name = "rec", version, about)]
struct Args {
    /// Trace file to write.
    #[arg(short = 'o', long = "output", default_value = "trace.bin")]
    output: PathBuf,
    /// Bytes captured of each string or buffer argument.
    #[arg(short = 's', long = "string-limit", default_value_t = 4096)]
    string_limit: u32,
    /// Syscalls to record (strace syntax).
    #[arg(short = 'e', long = "trace")]
    trace: Option<String>,
    /// Attach to a running process (all its threads); repeatable.
    #[arg(short = 'p', long = "pid")]
    pids: Vec<i32>,
    /// No summary line on stderr.
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Test aid: fetch full registers at every syscall exit too and note any
    /// difference from the derived snapshot.
    #[arg(long = "verify-exit-regs", hide = true)]
    verify_exit_regs: bool,
    /// The command to start and record.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<OsString>,
}

fn main() {
    let args = Args::parse();
    match run(args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

/// rec's exit status for the root command's end, as a shell reports it.
fn exit_status(end: Option<Termination>) -> i32 {
    match end {
        Some(Termination::Exited(c)) => c,
        Some(Termination::Signaled { signo, .. }) => 128 + signo,
        None => 1,
    }
}

fn run(args: Args) -> Result<i32> {
    if !args.pids.is_empty() {
        bail!("-p (attaching to running processes) is not implemented yet");
    }
    if args.trace.is_some() {
        bail!("-e (syscall filtering) is not implemented yet");
    }
    let launch = Launch::prepare(&args.command)?;
    let header = header(&args)?;
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let started = Instant::now();
    let mut child = launch.fork()?;
    let pid = child.pid;
    // The writer's thread must not take rec's signals, or wait4 would not
    // see EINTR: block them while it is spawned.
    signals::block();
    let writer = Writer::from_file(file, &header, WriterOptions::default());
    signals::unblock();
    let writer = match writer {
        Ok(w) => w,
        Err(e) => {
            kill_child(pid);
            return Err(e).with_context(|| format!("cannot write {}", args.output.display()));
        }
    };
    if let Err(e) = seize(pid) {
        kill_child(pid);
        return Err(e);
    }
    signals::install().context("installing signal handlers")?;
    // SAFETY: getpid has no arguments.
    let me = unsafe { libc::getpid() };
    let mut engine = Engine::start(writer, Stop::new(pid), me);
    engine.verify_exit_regs(args.verify_exit_regs);
    engine.string_limit(args.string_limit as usize);
    child.go();
    let fin = engine.run(exit_status);
    signals::stop_tick();

    let mut code = exit_status(fin.root);
    let failure = child.exec_failure();
    if let Some(f) = &failure {
        eprintln!("error: {}", f.message);
        code = f.code;
    }
    if !args.quiet {
        let s = &fin.stats;
        let (bytes, ratio) = match &fin.written {
            Some(w) if w.file_bytes > 0 => (
                w.file_bytes,
                w.uncompressed_bytes as f64 / w.file_bytes as f64,
            ),
            _ => (0, 0.0),
        };
        eprintln!(
            "rec: {} processes, {} threads, {} stops, {} syscalls, {} bytes written to {} (compression {:.1}x), {:.3} s",
            s.processes,
            s.threads,
            s.stops,
            s.syscalls,
            bytes,
            args.output.display(),
            ratio,
            started.elapsed().as_secs_f64()
        );
    }
    if let Some(e) = fin.write_error {
        eprintln!(
            "error: writing {} failed ({} records lost; the file is readable up to the last complete chunk): {e}",
            args.output.display(),
            fin.stats.dropped
        );
        if code == 0 {
            code = 1;
        }
    }
    Ok(code)
}

fn kill_child(pid: i32) {
    // SAFETY: signalling and reaping our own child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL);
    }
}

/// PTRACE_SEIZE the waiting child, then PTRACE_INTERRUPT it so the engine
/// starts from a stop: from there every syscall of the child is seen, the
/// exec of the command included.
fn seize(pid: i32) -> Result<()> {
    tracee::ptrace(libc::PTRACE_SEIZE, pid, 0, SEIZE_OPTIONS as usize)
        .map_err(|e| anyhow::anyhow!("cannot trace the command (PTRACE_SEIZE): {e}"))?;
    tracee::ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0)
        .map_err(|e| anyhow::anyhow!("PTRACE_INTERRUPT: {e}"))?;
    let mut status = 0;
    // SAFETY: a valid pointer to a local.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
    if r != pid || status & 0xff != 0x7f {
        bail!("the command did not stop after PTRACE_INTERRUPT (wait status {status:#x})");
    }
    Ok(())
}

fn header(args: &Args) -> Result<Header> {
    // SAFETY: utsname is plain data, uname fills it.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a local.
    unsafe { libc::uname(&mut u) };
    let field = |f: &[libc::c_char]| -> String {
        let b: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&b).into_owned()
    };
    // SAFETY: sysconf has no memory arguments.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as u32;
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mono = tracee::mono_ns();
    let cwd = std::env::current_dir()
        .map(|p| p.as_os_str().as_bytes().to_vec())
        .unwrap_or_default();
    let env = std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.as_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_bytes());
            e
        })
        .collect();
    Ok(Header {
        arch: arch::AUDIT_ARCH,
        reg_layout: arch::REG_LAYOUT,
        kernel_release: field(&u.release),
        hostname: field(&u.nodename),
        page_size,
        start_wall_ns: wall,
        start_mono_ns: mono,
        argv: args.command.iter().map(|a| a.as_bytes().to_vec()).collect(),
        cwd,
        env,
        options: RecordingOptions {
            string_limit: args.string_limit,
            filter: String::new(),
            filter_mode: "none".into(),
            filter_syscalls: Vec::new(),
            attach_pids: Vec::new(),
            cpu_times: true,
            registers: true,
        },
        recorder_version: format!("ptrec {}", env!("CARGO_PKG_VERSION")),
    })
}
