//! `rec`: record every ptrace stop of a command's whole process tree.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use ptrec_format::{Header, RecordingOptions, Termination, Writer, WriterOptions};
use ptrec_recorder::cpuload::CpuLoad;
use ptrec_recorder::engine::{Engine, SEIZE_OPTIONS};
use ptrec_recorder::filter::Filter;
use ptrec_recorder::idle::{IdlePoll, CPU_LATENCY_QOS};
use ptrec_recorder::launch::Launch;
use ptrec_recorder::{arch, attach, output, signals, stop, tracee};

/// Record every ptrace stop of a process tree into a trace file.
#[derive(Parser, Debug)]
#[command(name = "rec", version, about)]
struct Args {
    /// Trace file to write. rec creates a new file (mode 0600) and renames
    /// it over PATH: an existing PATH must be a regular file you own (never
    /// a symlink). A FIFO or device is written as a stream; `-` (or
    /// /dev/stdout) streams to a pipe on stdout, and the command's stdout
    /// then goes to stderr.
    #[arg(short = 'o', long = "output", default_value = "trace.bin")]
    output: PathBuf,
    /// Bytes captured of each string or buffer argument.
    #[arg(short = 's', long = "string-limit", default_value_t = 4096)]
    string_limit: u32,
    /// Syscalls to record (strace syntax: names, %file, %process, %network,
    /// %signal, %ipc, %desc, %memory, %creds, ! to negate). A started command
    /// runs under a seccomp-bpf filter and stops only at these (with
    /// no_new_privs: setuid programs gain no privileges); for attached
    /// processes the other syscalls' records are skipped.
    #[arg(short = 'e', long = "trace")]
    trace: Option<String>,
    /// Attach to a running process (all its threads); repeatable.
    #[arg(short = 'p', long = "pid")]
    pids: Vec<i32>,
    /// No summary line on stderr.
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Microseconds rec polls for the next stop before it sleeps, keeping
    /// its CPU awake: a sleeping tracer's CPU goes idle, and waking it costs
    /// more than the stop. Only while a CPU rec may use is free: with every
    /// one busy, rec sleeps at once. 0: always sleep (as strace does).
    /// Ignored with one CPU.
    #[arg(long = "spin-us", default_value_t = 50, value_name = "US")]
    spin_us: u32,
    /// Poll up to --spin-us even when every CPU is busy (do not sample the
    /// run queue).
    #[arg(long = "spin-always")]
    spin_always: bool,
    /// Keep every idle CPU polling while recording, with a 0 us request on
    /// /dev/cpu_dma_latency (root only). On a VM whose idle CPUs halt at
    /// once, waking one costs more than the stop; with this, idle CPUs of
    /// the whole machine spin until rec exits.
    #[arg(long = "idle-poll")]
    idle_poll: bool,
    /// Test aid: fetch full registers at every syscall exit too and note any
    /// difference from the derived snapshot.
    #[arg(long = "verify-exit-regs", hide = true)]
    verify_exit_regs: bool,
    /// Benchmark aid: capture no argument memory, not even paths (the
    /// header then says -s 0).
    #[arg(long = "no-capture", hide = true)]
    no_capture: bool,
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
    let filter = match args.trace.as_deref() {
        Some(spec) => Some(Filter::parse(spec)?),
        None => None,
    };
    let has_command = !args.command.is_empty();
    let mut launch = if has_command || args.pids.is_empty() {
        Some(Launch::prepare(&args.command)?)
    } else {
        None
    };
    // `-e all` changes nothing: no filter.
    let filter = filter.filter(|f| !f.is_all());
    let seccomp = has_command && filter.is_some();
    if let (Some(l), Some(f)) = (launch.as_mut(), filter.as_ref()) {
        l.seccomp(f.program());
    }
    let header = header(&args, filter.as_ref(), has_command)?;
    // Held until rec returns; the kernel drops it if rec dies.
    let _idle_poll = if args.idle_poll {
        Some(IdlePoll::hold().with_context(|| {
            format!("--idle-poll: cannot hold a CPU latency request on {CPU_LATENCY_QOS}")
        })?)
    } else {
        None
    };
    let output = output::open(&args.output)?;
    let file = output.file;
    let started = Instant::now();
    let mut child = match &launch {
        Some(l) => Some(l.fork()?),
        None => None,
    };
    let pid = child.as_ref().map_or(0, |c| c.pid);
    // The writer's thread must not take rec's signals, or wait4 would not
    // see EINTR: block them while it is spawned.
    signals::block();
    // Microsecond times: every view prints microseconds, and nanosecond
    // noise would cost several bytes per stop after compression.
    let opts = WriterOptions {
        time_unit_ns: 1000,
        ..WriterOptions::default()
    };
    let writer = Writer::from_file(file, &header, opts);
    signals::unblock();
    let writer = match writer {
        Ok(w) => w,
        Err(e) => {
            if pid > 0 {
                kill_child(pid);
            }
            return Err(e).with_context(|| format!("cannot write {}", args.output.display()));
        }
    };
    let options = if seccomp {
        SEIZE_OPTIONS | libc::PTRACE_O_TRACESECCOMP
    } else {
        SEIZE_OPTIONS
    };
    let first_stop = if pid > 0 {
        match stop::seize_child(pid, options) {
            Ok(s) => Some(s),
            Err(e) => {
                kill_child(pid);
                bail!("{e}");
            }
        }
    } else {
        None
    };
    signals::install().context("installing signal handlers")?;
    let mut engine = match first_stop {
        Some(stop) => {
            // SAFETY: getpid has no arguments.
            let me = unsafe { libc::getpid() };
            Engine::start(writer, stop, me)
        }
        None => Engine::without_command(writer),
    };
    engine.verify_exit_regs(args.verify_exit_regs);
    engine.string_limit(args.string_limit as usize);
    // With one CPU, polling only delays the tracee it waits for.
    let cpus = CpuLoad::allowed_cpus();
    if cpus > 1 {
        let load = (!args.spin_always).then(|| CpuLoad::new(cpus));
        engine.spin(u64::from(args.spin_us) * 1000, load);
    }
    if args.no_capture {
        engine.capture_off();
    }
    if let Some(f) = &filter {
        engine.filter(f.selection(), seccomp);
    }
    // -p: attached threads keep running after rec (no EXITKILL) and run no
    // filter (no TRACESECCOMP: a filter of their own that returns
    // SECCOMP_RET_TRACE keeps failing with ENOSYS, as without rec).
    let mut attach_failed = false;
    let mut attached = 0;
    for &p in &args.pids {
        match attach::seize_process(p, SEIZE_OPTIONS & !libc::PTRACE_O_EXITKILL) {
            Ok(att) => {
                engine.attached(&att);
                attached += 1;
            }
            Err(e) => {
                eprintln!("error: {e}");
                engine.info(&e.to_string());
                attach_failed = true;
            }
        }
    }
    if let Some(c) = child.as_mut() {
        c.go();
    }
    let fin = if pid == 0 && attached == 0 {
        // Nothing to record: close the (empty) trace at once.
        engine.run(|_| 1)
    } else {
        engine.run(|end| {
            if has_command {
                exit_status(end)
            } else {
                i32::from(attach_failed)
            }
        })
    };
    signals::stop_tick();

    // With -p alone: 0 unless recording failed (a -p target that could not
    // be attached is a failure).
    let mut code = if has_command {
        exit_status(fin.root)
    } else {
        i32::from(attach_failed)
    };
    let failure = child.as_ref().and_then(|c| c.exec_failure());
    if let Some(f) = &failure {
        eprintln!("error: {}", f.message);
        code = f.code;
    }
    if attach_failed && code == 0 {
        code = 1;
    }
    // Every -p target failed and there is no command: the error lines said
    // it all (the trace file holds only their notes).
    let nothing_recorded = pid == 0 && attached == 0;
    if !args.quiet && !nothing_recorded {
        let s = &fin.stats;
        // After a write error the writer has no totals: the file's size is
        // what reached the disk.
        let (bytes, ratio) = match &fin.written {
            Some(w) if w.file_bytes > 0 => (
                w.file_bytes,
                format!(
                    " (compression {:.1}x)",
                    w.uncompressed_bytes as f64 / w.file_bytes as f64
                ),
            ),
            _ if output.stream => (0, String::new()),
            _ => (
                std::fs::metadata(&args.output).map_or(0, |m| m.len()),
                String::new(),
            ),
        };
        eprintln!(
            "rec: {} processes, {} threads, {} stops, {} syscalls, {} bytes written to {}{}, {:.3} s",
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

fn header(args: &Args, filter: Option<&Filter>, has_command: bool) -> Result<Header> {
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
            string_limit: if args.no_capture {
                0
            } else {
                args.string_limit
            },
            filter: filter
                .map(|f| f.spec().to_string())
                .or_else(|| args.trace.clone())
                .unwrap_or_default(),
            // The started command runs under the seccomp filter; attached
            // processes cannot be given one: their records are skipped.
            filter_mode: match (filter, has_command, args.pids.is_empty()) {
                (None, _, _) => "none",
                (Some(_), true, true) => "seccomp-bpf",
                (Some(_), false, _) => "skip-records",
                (Some(_), true, false) => "seccomp-bpf+skip-records",
            }
            .into(),
            filter_syscalls: filter.map(|f| f.selection().numbers()).unwrap_or_default(),
            attach_pids: args.pids.clone(),
            cpu_times: true,
            registers: true,
        },
        recorder_version: format!("ptrec {}", env!("CARGO_PKG_VERSION")),
        // What makes the trace id unique (ptrec_format::Header::trace_id).
        nonce: ptrec_format::TraceId::random().unwrap_or_default(),
        wait_policy: if args.spin_us == 0 {
            "sleep".into()
        } else {
            format!("spin<={}us", args.spin_us)
        },
        ..Header::default()
    })
}
