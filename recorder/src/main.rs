//! `rec`: record every ptrace stop of a command's whole process tree.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use ptrec_format::{Header, RecordingOptions, Termination, Writer, WriterOptions};
use ptrec_recorder::cpuload::CpuLoad;
use ptrec_recorder::engine::{Engine, SEIZE_OPTIONS};
use ptrec_recorder::filter::Filter;
use ptrec_recorder::idle::{IdlePoll, CPU_LATENCY_QOS};
use ptrec_recorder::launch::Launch;
use ptrec_recorder::sink::Sink;
use ptrec_recorder::{arch, attach, output, signals, stop, tracee};
use ptrec_redact::{paths::PathHasher, EnvRule, FdKind, Policy, Redactor};

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
    /// Record what each descriptor a call makes refers to as the kernel
    /// names it (/proc/PID/fd: symbolic links resolved, pipe:[N],
    /// socket:[N]), and the working directory after chdir, as strace -y
    /// shows them: one readlink per such call. Without it, `analyze replay
    /// -y` names descriptors by the paths the calls gave. Twice (`-yy`):
    /// also what strace -yy shows: a device's numbers, a socket's protocol,
    /// UNIX peer and path or IP endpoints (a stat per descriptor made, and
    /// a kernel query per socket made, connected or bound).
    #[arg(short = 'y', long = "fd-names", action = clap::ArgAction::Count)]
    fd_names: u8,
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
    /// Drop what POLICY names before it reaches the disk. `default`:
    /// environment values outside PATH HOME USER LOGNAME SHELL LANG LC_*
    /// TERM TZ PWD, every buffer's content (lengths kept), secret-looking
    /// argv parts. Rules (comma-separated): default, env=all|allow[:NAME:...]
    /// |secrets, secrets, buffers=all|files|sockets|pipes|ttys|other|GLOB,
    /// paths=hash (key from $PTREC_REDACT_KEY, else random), none; as
    /// `analyze redact`.
    #[arg(long = "redact", value_name = "POLICY")]
    redact: Option<String>,
    /// Microseconds rec polls for the next stop before it sleeps, keeping
    /// its CPU awake: a sleeping tracer's CPU goes idle, and waking it costs
    /// more than the stop. Only while a CPU rec may use is free: with every
    /// one busy, rec sleeps at once. 0: always sleep (as strace does).
    /// Ignored with one CPU.
    #[arg(long = "spin-us", default_value_t = 50, value_name = "US")]
    spin_us: u32,
    /// Poll up to --spin-us even when every CPU is busy (the CPUs' idle
    /// time is still sampled, for the compression level).
    #[arg(long = "spin-always")]
    spin_always: bool,
    /// When idle CPUs poll instead of halting, by a 0 us request on
    /// /dev/cpu_dma_latency (root only). On a VM whose idle CPUs halt at
    /// once, waking one costs more than the stop (recording took up to 5.8x
    /// as long). auto (the default): for the whole recording if rec may write
    /// the device, else never; always (`--idle-poll` alone): the same, an
    /// error if rec may not; busy: only while every CPU rec may use is busy;
    /// never. Every idle CPU of the machine spins while the request is held.
    #[arg(
        long = "idle-poll",
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        num_args = 0..=1,
        default_missing_value = "always"
    )]
    idle_poll: IdlePollWhen,
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

/// Whether SIGPIPE was ignored when rec started. Rust's runtime sets it to
/// ignored before `main`, and an ignored signal stays ignored across
/// execve: the command must get the disposition rec was given. Read by a
/// constructor (`.init_array`), which runs before the runtime's init.
static SIGPIPE_IGNORED_AT_START: AtomicBool = AtomicBool::new(false);

#[used]
#[link_section = ".init_array"]
static READ_SIGPIPE: extern "C" fn() = read_sigpipe;

extern "C" fn read_sigpipe() {
    // SAFETY: sigaction with a null new action only reads the current one
    // into a zeroed struct.
    let ignored = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    };
    SIGPIPE_IGNORED_AT_START.store(ignored, Ordering::Relaxed);
}

/// How rec ends.
enum End {
    Code(i32),
    /// The command was killed by this signal: rec dies of it too.
    Signal(i32),
}

fn main() {
    let args = Args::parse();
    match run(args) {
        Ok(End::Code(code)) => std::process::exit(code),
        Ok(End::Signal(sig)) => die_of(sig),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

/// Dies of `sig`, as the command did, so that rec's parent sees what it
/// would see without rec (WIFSIGNALED); exits 128+sig if the signal does
/// not kill rec. No core file: the command's was dumped already (and rec's
/// would overwrite it).
fn die_of(sig: i32) -> ! {
    signals::stop_tick();
    // SAFETY: plain-data arguments; rec is about to end, nothing else runs
    // (the writer thread has been joined).
    unsafe {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
    std::process::exit(128 + sig)
}

/// See `WriterOptions` in `run`.
const FLUSH_INTERVAL: Duration = Duration::from_millis(500);
const _: () = assert!(FLUSH_INTERVAL.as_millis() + signals::TICK.as_millis() < 1000);

/// rec's exit status for the root command's end, as a shell reports it.
fn exit_status(end: Option<Termination>) -> i32 {
    match end {
        Some(Termination::Exited(c)) => c,
        Some(Termination::Signaled { signo, .. }) => 128 + signo,
        None => 1,
    }
}

fn run(args: Args) -> Result<End> {
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
    if let Some(l) = launch.as_mut() {
        l.sigpipe_ignored(SIGPIPE_IGNORED_AT_START.load(Ordering::Relaxed));
    }
    // Held until rec returns; the kernel drops it if rec dies.
    let idle_poll = match args.idle_poll {
        IdlePollWhen::Always => Some(IdlePoll::hold().with_context(|| {
            format!("--idle-poll: cannot hold a CPU latency request on {CPU_LATENCY_QOS}")
        })?),
        IdlePollWhen::Auto => IdlePoll::hold().ok(),
        IdlePollWhen::Busy | IdlePollWhen::Never => None,
    };
    let mut header = header(&args, filter.as_ref(), has_command, idle_poll.is_some())?;
    let mut redactor = match args.redact.as_deref() {
        Some(p) => {
            let policy = Policy::parse(p)?;
            let hasher = if policy.hash_paths {
                Some(PathHasher::from_env_or_random().context("--redact paths=hash: no key")?)
            } else {
                None
            };
            Some(Redactor::new(policy, hasher))
        }
        None => None,
    };
    if let Some(r) = redactor.as_mut() {
        let now = header.start_wall_ns;
        r.header(&mut header, now);
    }
    let kept = kept_secrets(redactor.as_ref(), &header);
    // -p: attached threads keep running after rec (no EXITKILL) and run no
    // filter (no TRACESECCOMP: a filter of their own that returns
    // SECCOMP_RET_TRACE keeps failing with ENOSYS, as without rec). Seized
    // before the output file is created, so that a failed attach leaves no
    // file behind; their stops wait for the engine.
    // rec's signals wait (blocked) until their handlers are installed; the
    // command starts with the mask rec was given.
    let mask = signals::block();
    if let Some(l) = launch.as_mut() {
        l.sigmask(mask);
    }
    let mut seized = Vec::new();
    let mut attach_failed = false;
    let mut attached = 0;
    for &p in &args.pids {
        match attach::seize_process(p, SEIZE_OPTIONS & !libc::PTRACE_O_EXITKILL) {
            Ok(att) => {
                seized.push((Some(att), String::new()));
                attached += 1;
            }
            Err(e) => {
                eprintln!("error: {e}");
                seized.push((None, e.to_string()));
                attach_failed = true;
            }
        }
    }
    if !has_command && attached == 0 {
        // Every -p target failed: the error lines said it all. (Returning
        // ends rec, and the kernel detaches whatever was seized.)
        return Ok(End::Code(1));
    }
    let output = output::open(&args.output)?;
    let file = output.file;
    let started = Instant::now();
    let mut child = match &launch {
        Some(l) => Some(l.fork()?),
        None => None,
    };
    let pid = child.as_ref().map_or(0, |c| c.pid);
    if let Some(r) = redactor.as_mut() {
        // The command inherits rec's stdin, stdout and stderr.
        for fd in 0..3 {
            let (kind, path) = std_fd_kind(fd);
            r.seed_fd(pid, fd, kind, path);
        }
    }
    // Microsecond times: every view prints microseconds, and nanosecond
    // noise would cost several bytes per stop after compression.
    // A chunk is sealed once its first record is FLUSH_INTERVAL old, at
    // the next record or tick (signals::TICK): a record is on disk at most
    // FLUSH_INTERVAL + TICK (+ the writer thread's work) after it was seen.
    let opts = WriterOptions {
        time_unit_ns: 1000,
        flush_interval: FLUSH_INTERVAL,
        level: ptrec_recorder::sink::LEVEL,
        ..WriterOptions::default()
    };
    let writer = Writer::from_file(file, &header, opts);
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
    signals::unblock();
    let mut engine = match first_stop {
        Some(stop) => {
            // SAFETY: getpid has no arguments.
            let me = unsafe { libc::getpid() };
            Engine::start(
                Sink::new(writer).redacting(redactor),
                stop,
                me,
                args.fd_names,
            )
        }
        None => Engine::without_command(Sink::new(writer).redacting(redactor)),
    };
    engine.verify_exit_regs(args.verify_exit_regs);
    engine.string_limit(args.string_limit as usize);
    engine.name_fds(args.fd_names);
    // With one CPU, polling only delays the tracee it waits for.
    let cpus = CpuLoad::allowed_cpus();
    let spin_ns = if cpus > 1 {
        u64::from(args.spin_us) * 1000
    } else {
        0
    };
    engine.spin(spin_ns, args.spin_always, Some(CpuLoad::new()));
    engine.idle_poll_while_busy(args.idle_poll == IdlePollWhen::Busy);
    if args.no_capture {
        engine.capture_off();
    }
    if let Some(f) = &filter {
        engine.filter(f.selection(), seccomp);
    }
    for (att, err) in &seized {
        match att {
            Some(att) => engine.attached(att),
            None => engine.info(err),
        }
    }
    if let Some(c) = child.as_mut() {
        c.go();
    }
    let fin = engine.run(|end| {
        if has_command {
            exit_status(end)
        } else {
            i32::from(attach_failed)
        }
    });
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
    if !args.quiet {
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
    if !args.quiet {
        if let Some(what) = kept {
            eprintln!(
                "rec: {} holds {what} as recorded; before sharing it: analyze redact {} -o REDACTED (or record with --redact default)",
                args.output.display(),
                args.output.display()
            );
        }
    }
    if let Some(e) = fin.write_error {
        // Lost: every record rec saw that the file does not hold (those
        // queued or being written when the disk filled are lost too). A
        // stream cannot be read back: what the writer refused is a floor.
        let total = fin.stats.records;
        let lost = if output.stream {
            fin.stats.dropped
        } else {
            total.saturating_sub(readable_records(&args.output))
        };
        eprintln!(
            "error: writing {} failed ({lost} of {total} records lost; the file is readable up to the last complete chunk): {e}",
            args.output.display(),
        );
        if code == 0 {
            code = 1;
        }
    }
    // The command was killed by a signal (and its exec had succeeded): rec
    // dies of the same signal.
    match fin.root {
        Some(Termination::Signaled { signo, .. })
            if has_command && failure.is_none() && code == exit_status(fin.root) =>
        {
            Ok(End::Signal(signo))
        }
        _ => Ok(End::Code(code)),
    }
}

/// How many records of a trace whose writing failed can be read back.
fn readable_records(path: &std::path::Path) -> u64 {
    let Ok(t) = ptrec_format::Trace::open(path) else {
        return 0;
    };
    let mut n = 0;
    // An error ends the count at the first chunk that cannot be read.
    let _ = t.for_each_record(|_| n += 1);
    n
}

/// What a trace recorded without a policy that drops it holds: the
/// environment's values, buffers' contents. None when the policy dropped
/// both (or there are none).
fn kept_secrets(r: Option<&Redactor>, h: &Header) -> Option<&'static str> {
    let env = match r.map(|r| &r.policy().env) {
        None => !h.env.is_empty(),
        Some(e) => matches!(e, EnvRule::Keep | EnvRule::Secrets),
    };
    let buffers = h.options.string_limit > 0 && r.is_none_or(|r| !r.policy().buffers.all);
    match (env, buffers) {
        (true, true) => Some("the environment's values and the content of buffers"),
        (true, false) => Some("the environment's values"),
        (false, true) => Some("the content of buffers"),
        (false, false) => None,
    }
}

/// What rec's descriptor `fd` is, for the `buffers=KIND` rules of the
/// command that inherits it.
fn std_fd_kind(fd: i32) -> (FdKind, Option<Vec<u8>>) {
    // SAFETY: stat is plain data, fstat fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a local.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return (FdKind::Unknown, None);
    }
    // SAFETY: isatty only inspects the descriptor.
    let tty = unsafe { libc::isatty(fd) } == 1;
    match st.st_mode & libc::S_IFMT {
        libc::S_IFIFO => (FdKind::Pipe, None),
        libc::S_IFSOCK => (FdKind::Socket, None),
        libc::S_IFCHR if tty => (FdKind::Tty, None),
        libc::S_IFREG => {
            let path = std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .ok()
                .map(|p| p.into_os_string().into_vec());
            (FdKind::File, path)
        }
        _ => (FdKind::Other, None),
    }
}

fn kill_child(pid: i32) {
    // SAFETY: signalling and reaping our own child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL);
    }
}

/// The header's description of how rec waits for stops (see `Engine::wait`
/// and `cpuload`) and compresses, as `run` sets it up.
fn wait_policy(args: &Args, cpus: u32, idle_held: bool) -> String {
    use ptrec_recorder::{cpuload, sink};
    let mut p = if args.spin_us == 0 || cpus <= 1 {
        "sleep".to_string()
    } else if args.spin_always {
        format!("poll<={}us", args.spin_us)
    } else {
        format!(
            "poll<={}us while a CPU is free (idle time of the {cpus} CPUs of rec's affinity mask, /proc/stat every {} ms), else sleep",
            args.spin_us,
            cpuload::SAMPLE_INTERVAL_NS / 1_000_000
        )
    };
    p.push_str(&format!(
        "; zstd level {}, {} while every CPU is busy",
        sink::LEVEL,
        sink::BUSY_LEVEL
    ));
    match args.idle_poll {
        IdlePollWhen::Always => p.push_str("; idle CPUs poll (--idle-poll always)"),
        IdlePollWhen::Auto if idle_held => p.push_str("; idle CPUs poll (--idle-poll auto)"),
        IdlePollWhen::Auto => p.push_str(
            "; idle CPUs halt: rec may not write /dev/cpu_dma_latency (--idle-poll auto)",
        ),
        IdlePollWhen::Busy => p.push_str(
            "; idle CPUs poll while every CPU is busy, if rec may write /dev/cpu_dma_latency (--idle-poll busy)",
        ),
        _ => {}
    }
    p
}

/// `--idle-poll`: when idle CPUs poll ([`IdlePoll`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
enum IdlePollWhen {
    Never,
    Busy,
    Auto,
    Always,
}

fn header(
    args: &Args,
    filter: Option<&Filter>,
    has_command: bool,
    idle_held: bool,
) -> Result<Header> {
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
        wait_policy: wait_policy(args, CpuLoad::allowed_cpus(), idle_held),
        ..Header::default()
    })
}
