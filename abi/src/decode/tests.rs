//! The decoders against what strace prints for the same memory.

use ptrec_format::{mem_flags, Mem};

use super::*;

const X: Arch = Arch::X86_64;
const A: Arch = Arch::Aarch64;

fn nr(name: &str) -> u32 {
    X.syscall_nr(name).expect(name)
}

fn enter(arg: u8, addr: u64, data: &[u8]) -> Mem<'_> {
    Mem {
        arg,
        flags: 0,
        addr,
        data,
        redacted: None,
    }
}

fn exit(arg: u8, addr: u64, data: &[u8]) -> Mem<'_> {
    Mem {
        arg,
        flags: mem_flags::AT_EXIT,
        addr,
        data,
        redacted: None,
    }
}

/// The whole line strace prints: `name(args) = ret`, unpadded.
fn line(name: &str, args: [u64; 6], ret: i64, enter: &[Mem<'_>], exit: &[Mem<'_>]) -> String {
    let call = Call {
        arch: X,
        nr: nr(name),
        args,
        ret: Some(ret),
        enter,
        exit,
    };
    let mut s = String::new();
    write_call(&mut s, &call, Part::Whole, &Style::default());
    format!("{s}) = {}", return_text(&call, &Style::default()))
}

fn le(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn sigchld_siginfo_is_decoded_like_strace() {
    let mut si = [0u8; 128];
    si[0..4].copy_from_slice(&17i32.to_le_bytes());
    si[8..12].copy_from_slice(&1i32.to_le_bytes());
    si[16..20].copy_from_slice(&1235i32.to_le_bytes());
    si[20..24].copy_from_slice(&1000i32.to_le_bytes());
    assert_eq!(
        siginfo_text(X, 17, &si),
        "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=1235, si_uid=1000, si_status=0, si_utime=0, si_stime=0}"
    );
}

#[test]
fn si_queue_siginfo_shows_its_value() {
    let mut si = [0u8; 128];
    si[0..4].copy_from_slice(&12i32.to_le_bytes());
    si[4..8].copy_from_slice(&1i32.to_le_bytes());
    si[8..12].copy_from_slice(&(-1i32).to_le_bytes());
    si[16..20].copy_from_slice(&77i32.to_le_bytes());
    si[24..32].copy_from_slice(&42u64.to_le_bytes());
    assert_eq!(
        siginfo_text(X, 12, &si),
        "{si_signo=SIGUSR2, si_code=SI_QUEUE, si_errno=EPERM, si_pid=77, si_uid=0, si_int=42, si_ptr=0x2a}"
    );
}

#[test]
fn returns_show_errno_name_and_description_and_restarts_as_strace() {
    let ret = |name: &str, r: i64| {
        return_text(
            &Call {
                arch: X,
                nr: nr(name),
                args: [0; 6],
                ret: Some(r),
                enter: &[],
                exit: &[],
            },
            &Style::default(),
        )
    };
    assert_eq!(ret("openat", -2), "-1 ENOENT (No such file or directory)");
    assert_eq!(ret("brk", 0x5000), "0x5000");
    assert_eq!(ret("read", 5), "5");
    assert_eq!(
        ret("read", -512),
        "? ERESTARTSYS (To be restarted if SA_RESTART is set)"
    );
    assert_eq!(
        ret("rt_sigsuspend", -514),
        "? ERESTARTNOHAND (To be restarted if no handler)"
    );
    assert_eq!(ret("umask", 0o22), "022");
}

#[test]
fn wait_statuses_are_written_as_strace_writes_them() {
    assert_eq!(
        wait_status_text(3 << 8),
        "{WIFEXITED(s) && WEXITSTATUS(s) == 3}"
    );
    assert_eq!(
        wait_status_text(9),
        "{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}"
    );
    assert_eq!(
        wait_status_text(11 | 0x80),
        "{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}"
    );
    assert_eq!(
        wait_status_text(0x137f),
        "{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}"
    );
    assert_eq!(wait_status_text(0xffff), "{WIFCONTINUED(s)}");
}

#[test]
fn fcntl_returns_are_named_by_their_command() {
    let ret = |args: [u64; 6], r: i64| {
        return_text(
            &Call {
                arch: X,
                nr: nr("fcntl"),
                args,
                ret: Some(r),
                enter: &[],
                exit: &[],
            },
            &Style::default(),
        )
    };
    assert_eq!(ret([3, 1, 0, 0, 0, 0], 0), "0");
    assert_eq!(ret([3, 1, 0, 0, 0, 0], 1), "0x1 (flags FD_CLOEXEC)");
    assert_eq!(
        ret([3, 3, 0, 0, 0, 0], 0x8002),
        "0x8002 (flags O_RDWR|O_LARGEFILE)"
    );
    assert_eq!(ret([3, 3, 0, 0, 0, 0], 0), "0 (flags O_RDONLY)");
    assert_eq!(ret([3, 1030, 10, 0, 0, 0], 11), "11");
}

#[test]
fn int_arguments_are_read_from_the_low_32_bits() {
    assert_eq!(
        line(
            "wait4",
            [u64::MAX, 0, 0x0def_aced_4000_0001, 0, 0, 0],
            0,
            &[],
            &[]
        ),
        "wait4(-1, NULL, WNOHANG|__WALL, NULL) = 0"
    );
    assert_eq!(
        line("execveat", [3, 0, 0, 0, 0x0def_aced_0000_1100, 0], -2, &[], &[]),
        "execveat(3, NULL, NULL, NULL, AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH) = -1 ENOENT (No such file or directory)"
    );
}

#[test]
fn fcntl_lock_commands_show_the_flock() {
    // l_type F_WRLCK, l_whence SEEK_SET, l_start 0, l_len 4, l_pid 0.
    let mut fl = vec![0u8; 32];
    fl[0] = 1;
    fl[16] = 4;
    assert_eq!(
        line(
            "fcntl",
            [4, 6, 0x1000, 0, 0, 0],
            0,
            &[enter(2, 0x1000, &fl)],
            &[]
        ),
        "fcntl(4, F_SETLK, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=4}) = 0"
    );
    let mut got = fl.clone();
    got[0] = 2;
    assert_eq!(
        line(
            "fcntl",
            [4, 5, 0x1000, 0, 0, 0],
            0,
            &[enter(2, 0x1000, &fl)],
            &[exit(2, 0x1000, &got)]
        ),
        "fcntl(4, F_GETLK, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=4, l_pid=0}) = 0"
    );
}

#[test]
fn clock_nanosleep_has_its_four_arguments() {
    let ts = le(&[0, 1000]);
    assert_eq!(
        line(
            "clock_nanosleep",
            [1, 0, 0x1000, 0, 0, 0],
            0,
            &[enter(2, 0x1000, &ts)],
            &[]
        ),
        "clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=0, tv_nsec=1000}, NULL) = 0"
    );
}

#[test]
fn an_interrupted_sleep_shows_the_time_it_had_left() {
    let ts = le(&[5, 0]);
    let rem = le(&[4, 999_000_000]);
    let enter = [enter(2, 0x1000, &ts)];
    let exit = [exit(3, 0x2000, &rem)];
    assert_eq!(
        line(
            "clock_nanosleep",
            [0, 0, 0x1000, 0x2000, 0, 0],
            -516,
            &enter,
            &exit
        ),
        "clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=5, tv_nsec=0}, \
         {tv_sec=4, tv_nsec=999000000}) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)"
    );
    // An absolute sleep's remaining time means nothing: its address.
    assert_eq!(
        line(
            "clock_nanosleep",
            [0, 1, 0x1000, 0x2000, 0, 0],
            -516,
            &enter,
            &exit
        ),
        "clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, {tv_sec=5, tv_nsec=0}, 0x2000) \
         = ? ERESTART_RESTARTBLOCK (Interrupted by signal)"
    );
    let exit = [super::tests::exit(1, 0x2000, &rem)];
    let enter = [super::tests::enter(0, 0x1000, &ts)];
    assert_eq!(
        line(
            "nanosleep",
            [0x1000, 0x2000, 0, 0, 0, 0],
            -516,
            &enter,
            &exit
        ),
        "nanosleep({tv_sec=5, tv_nsec=0}, {tv_sec=4, tv_nsec=999000000}) \
         = ? ERESTART_RESTARTBLOCK (Interrupted by signal)"
    );
    // A sleep that ran out: the address.
    assert_eq!(
        line("nanosleep", [0x1000, 0x2000, 0, 0, 0, 0], 0, &enter, &[]),
        "nanosleep({tv_sec=5, tv_nsec=0}, 0x2000) = 0"
    );
}

#[test]
fn envp_of_one_variable_is_singular() {
    let array = le(&[0x2000]);
    let var = b"A=1";
    let e = [enter(2, 0x1000, &array), enter(10, 0x2000, var)];
    let call = Call {
        arch: X,
        nr: nr("execve"),
        args: [0, 0, 0x1000, 0, 0, 0],
        ret: Some(0),
        enter: &e,
        exit: &[],
    };
    let mut s = String::new();
    write_args(&mut s, &call, Part::Whole, &Style::default());
    assert_eq!(s, "NULL, NULL, 0x1000 /* 1 var */");
}

#[test]
fn real_time_signals_use_strace_s_names() {
    let set = le(&[(1 << 31) | (1 << 32) | (1 << 11)]);
    assert_eq!(
        line(
            "rt_sigprocmask",
            [0, 0x1000, 0, 8, 0, 0],
            0,
            &[enter(1, 0x1000, &set)],
            &[]
        ),
        "rt_sigprocmask(SIG_BLOCK, [USR2 RTMIN RT_1], NULL, 8) = 0"
    );
}

#[test]
fn a_split_call_shows_its_outputs_in_the_resumed_part() {
    let old = le(&[0, 0, 0, 0]);
    let new = le(&[0x1234, 0x0400_0000, 0x5678, 0]);
    let e = [enter(1, 0x1000, &new)];
    let x = [exit(2, 0x2000, &old)];
    let call = Call {
        arch: X,
        nr: nr("rt_sigaction"),
        args: [2, 0x1000, 0x2000, 8, 0, 0],
        ret: Some(0),
        enter: &e,
        exit: &x,
    };
    let st = Style::default();
    let mut head = String::new();
    write_call(&mut head, &call, Part::Entry, &st);
    assert_eq!(
        head,
        "rt_sigaction(SIGINT, {sa_handler=0x1234, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x5678}"
    );
    assert!(has_exit_part(X, call.nr));
    let mut tail = String::new();
    write_args(&mut tail, &call, Part::Exit, &st);
    assert_eq!(tail, "{sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8");
}

struct Table;

impl FdResolver for Table {
    fn describe(&self, fd: i32, full: bool) -> Option<FdDesc<'_>> {
        match fd {
            -100 => Some(FdDesc {
                path: b"/tmp/run"[..].into(),
                detail: None,
                deleted: false,
            }),
            3 => Some(FdDesc {
                path: b"/dev/null"[..].into(),
                detail: full.then(|| "char 1:3".into()),
                deleted: false,
            }),
            4 => Some(FdDesc {
                path: b"/tmp/a>b\x1b"[..].into(),
                detail: None,
                deleted: false,
            }),
            5 => Some(FdDesc {
                path: b"/tmp/gone"[..].into(),
                detail: None,
                deleted: true,
            }),
            _ => None,
        }
    }
}

#[test]
fn fds_are_annotated_under_y_and_yy_with_their_descriptions_escaped() {
    let path = b"f";
    let e = [enter(1, 0x1000, path)];
    let call = Call {
        arch: X,
        nr: nr("openat"),
        args: [(-100i64) as u64, 0x1000, 0, 0, 0, 0],
        ret: Some(4),
        enter: &e,
        exit: &[],
    };
    let st = Style {
        fds: FdStyle::Paths,
        resolver: &Table,
        ..Style::default()
    };
    let mut s = String::new();
    write_call(&mut s, &call, Part::Whole, &st);
    assert_eq!(s, r#"openat(AT_FDCWD</tmp/run>, "f", O_RDONLY"#);
    assert_eq!(return_text(&call, &st), r"4</tmp/a\76b\33>");
    let close = Call {
        arch: X,
        nr: nr("close"),
        args: [3, 0, 0, 0, 0, 0],
        ret: Some(0),
        enter: &[],
        exit: &[],
    };
    let mut s = String::new();
    write_args(&mut s, &close, Part::Whole, &st);
    assert_eq!(s, "3</dev/null>");
    let full = Style {
        fds: FdStyle::Full,
        ..st
    };
    let mut s = String::new();
    write_args(&mut s, &close, Part::Whole, &full);
    assert_eq!(s, "3</dev/null<char 1:3>>");
    // A file unlinked while open, as strace shows it.
    let mut s = String::new();
    let gone = Call {
        args: [5, 0, 0, 0, 0, 0],
        ..close
    };
    write_args(&mut s, &gone, Part::Whole, &st);
    assert_eq!(s, "5</tmp/gone>(deleted)");
    // Without -y, numbers only.
    let mut s = String::new();
    write_args(&mut s, &close, Part::Whole, &Style::default());
    assert_eq!(s, "3");
}

#[test]
fn redacted_captures_say_how_much_was_dropped() {
    let m = Mem {
        arg: 1,
        flags: mem_flags::REDACTED,
        addr: 0x1000,
        data: b"",
        redacted: Some(12),
    };
    assert_eq!(
        line("write", [1, 0x1000, 12, 0, 0, 0], 12, &[m], &[]),
        "write(1, <redacted 12 bytes>, 12) = 12"
    );
}

#[test]
fn roles_name_descriptors_directories_and_paths() {
    use Role::*;
    assert_eq!(
        roles(X, nr("openat")),
        [
            DirFd { path: 1 },
            PathAt { dirfd: 0 },
            Other,
            Other,
            Other,
            Other
        ]
    );
    assert_eq!(
        roles(X, nr("renameat2")),
        [
            DirFd { path: 1 },
            PathAt { dirfd: 0 },
            DirFd { path: 3 },
            PathAt { dirfd: 2 },
            Other,
            Other
        ]
    );
    assert_eq!(roles(X, nr("read"))[0], Fd);
    assert_eq!(roles(X, nr("stat"))[0], Path);
    assert_eq!(
        roles(X, nr("symlinkat")),
        [
            Other,
            DirFd { path: 2 },
            PathAt { dirfd: 1 },
            Other,
            Other,
            Other
        ]
    );
    assert_eq!(roles(X, nr("getpid")), [Other; 6]);
    assert!(returns_fd_nr(X, nr("openat")) && !returns_fd_nr(X, nr("read")));
}

#[test]
fn every_syscall_whose_memory_rec_captures_has_a_decoder() {
    let missing: Vec<String> = crate::Arch::X86_64
        .syscall_numbers()
        .filter(|&n| {
            X.capture_sig(u64::from(n))
                .iter()
                .any(|a| *a != crate::capture::Arg::None)
        })
        .map(|n| X.syscall_name(n))
        .filter(|name| kinds(name).is_none())
        .map(|n| n.into_owned())
        .collect();
    assert!(missing.is_empty(), "no decoder: {missing:?}");
}

#[test]
fn futex_shows_the_arguments_its_operation_uses() {
    let ts = le(&[1, 500]);
    assert_eq!(
        line(
            "futex",
            [0x1000, 137, 7, 0x2000, 0, u64::from(u32::MAX)],
            0,
            &[enter(3, 0x2000, &ts)],
            &[]
        ),
        "futex(0x1000, FUTEX_WAIT_BITSET_PRIVATE, 7, {tv_sec=1, tv_nsec=500}, FUTEX_BITSET_MATCH_ANY) = 0"
    );
    assert_eq!(
        line("futex", [0x1000, 129, 1, 0, 0, 0], 1, &[], &[]),
        "futex(0x1000, FUTEX_WAKE_PRIVATE, 1) = 1"
    );
    assert_eq!(
        line("futex", [0x1000, 0, 2, 0, 0, 0], 0, &[], &[]),
        "futex(0x1000, FUTEX_WAIT, 2, NULL) = 0"
    );
    assert_eq!(
        line(
            "futex",
            [0x1000, 132, 1, 0x7fff_ffff, 0x3000, 0],
            1,
            &[],
            &[]
        ),
        "futex(0x1000, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2147483647, 0x3000, 0) = 1"
    );
    // The timeout is captured only for the waiting operations.
    let c = X.capture_for(u64::from(nr("futex")), &[0, 137, 0, 0x2000, 0, 0]);
    assert_ne!(c[3], crate::capture::Arg::None);
    let c = X.capture_for(u64::from(nr("futex")), &[0, 132, 0, 0x7fff, 0, 0]);
    assert_eq!(c[3], crate::capture::Arg::None);
}

#[test]
fn clone3_shows_the_tid_the_kernel_wrote_in_its_exit_part() {
    // flags CLONE_VM|CLONE_PARENT_SETTID, parent_tid 0x3000, stack, size.
    let mut ca = vec![0u8; 88];
    ca[0..8].copy_from_slice(&(0x100u64 | 0x100000).to_le_bytes());
    ca[24..32].copy_from_slice(&0x3000u64.to_le_bytes());
    ca[40..48].copy_from_slice(&0x4000u64.to_le_bytes());
    ca[48..56].copy_from_slice(&0x1000u64.to_le_bytes());
    let e = [enter(0, 0x2000, &ca)];
    let call = Call {
        arch: X,
        nr: nr("clone3"),
        args: [0x2000, 88, 0, 0, 0, 0],
        ret: Some(1235),
        enter: &e,
        exit: &[],
    };
    let st = Style::default();
    let struct_text = "{flags=CLONE_VM|CLONE_PARENT_SETTID, parent_tid=0x3000, exit_signal=0, stack=0x4000, stack_size=0x1000}";
    let mut s = String::new();
    write_args(&mut s, &call, Part::Whole, &st);
    assert_eq!(s, format!("{struct_text} => {{parent_tid=[1235]}}, 88"));
    let mut s = String::new();
    write_args(&mut s, &call, Part::Entry, &st);
    assert_eq!(s, struct_text);
    assert!(!has_exit_part(X, call.nr));
    let mut s = String::new();
    write_args(&mut s, &call, Part::Exit, &st);
    assert_eq!(s, " => {parent_tid=[1235]}, 88");
}

#[test]
fn dates_in_comments_are_local_time_with_its_offset() {
    let ts = le(&[86_400 + 3_600, 5, 0, 0x3fff_fffe]);
    let e = [enter(2, 0x1000, &ts)];
    let call = Call {
        arch: X,
        nr: nr("utimensat"),
        args: [(-100i64) as u64, 0, 0x1000, 0, 0, 0],
        ret: Some(0),
        enter: &e,
        exit: &[],
    };
    let st = Style {
        utc_offset: -5 * 3600,
        ..Style::default()
    };
    let mut s = String::new();
    write_args(&mut s, &call, Part::Whole, &st);
    assert_eq!(
        s,
        "AT_FDCWD, NULL, [{tv_sec=90000, tv_nsec=5} /* 1970-01-01T20:00:00.000000005-0500 */, UTIME_OMIT], 0"
    );
}

#[test]
fn tcgets_names_the_terminal_flags_as_strace() {
    // A pty's termios as the kernel returns it (c_iflag, c_oflag, c_cflag,
    // c_lflag, c_line, c_cc[19]); the text is strace's for it.
    let mut t = vec![0u8; 36];
    t[0..4].copy_from_slice(&0x500u32.to_le_bytes());
    t[4..8].copy_from_slice(&0x5u32.to_le_bytes());
    t[8..12].copy_from_slice(&0xbfu32.to_le_bytes());
    t[12..16].copy_from_slice(&0x8a3bu32.to_le_bytes());
    assert_eq!(
        line("ioctl", [0, 0x5401, 0x1000, 0, 0, 0], 0, &[], &[exit(2, 0x1000, &t)]),
        "ioctl(0, TCGETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, \
         c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0"
    );
    assert!(line(
        "ioctl",
        [0, 0x5403, 0x1000, 0, 0, 0],
        0,
        &[enter(2, 0x1000, &t)],
        &[]
    )
    .starts_with("ioctl(0, SNDCTL_TMR_STOP or TCSETSW, {c_iflag=ICRNL|IXON, "));
    // Not a terminal: the pointer, as strace.
    assert_eq!(
        line("ioctl", [1, 0x5401, 0x1000, 0, 0, 0], -25, &[], &[]),
        "ioctl(1, TCGETS, 0x1000) = -1 ENOTTY (Inappropriate ioctl for device)"
    );
}

#[test]
fn restart_syscall_says_what_it_resumes() {
    assert_eq!(
        line("restart_syscall", [0; 6], 0, &[], &[]),
        "restart_syscall(<... resuming interrupted system call ...>) = 0"
    );
    assert_eq!(
        restart_syscall_text(X, Some(nr("clock_nanosleep"))),
        "<... resuming interrupted clock_nanosleep ...>"
    );
    // The caller names the interrupted call; the resumed part repeats nothing.
    let call = Call {
        arch: X,
        nr: nr("restart_syscall"),
        args: [0; 6],
        ret: Some(0),
        enter: &[],
        exit: &[],
    };
    let st = Style {
        interrupted: Some(nr("nanosleep")),
        ..Style::default()
    };
    let mut s = String::new();
    write_call(&mut s, &call, Part::Entry, &st);
    assert_eq!(
        s,
        "restart_syscall(<... resuming interrupted nanosleep ...>"
    );
    let mut s = String::new();
    write_args(&mut s, &call, Part::Exit, &st);
    assert_eq!(s, "");
}

#[test]
fn each_argument_alone_is_what_the_line_shows() {
    let path = b"/etc/passwd";
    let e = [enter(1, 0x1000, path)];
    let call = Call {
        arch: X,
        nr: nr("openat"),
        args: [(-100i64) as u64, 0x1000, 0o2000000, 0, 0, 0],
        ret: Some(3),
        enter: &e,
        exit: &[],
    };
    let one = |i| {
        let mut s = String::new();
        write_args(&mut s, &call, Part::Only(i), &Style::default());
        s
    };
    assert_eq!(one(0), "AT_FDCWD");
    assert_eq!(one(1), "\"/etc/passwd\"");
    assert_eq!(one(2), "O_RDONLY|O_CLOEXEC");
    // The mode is not shown without O_CREAT.
    assert_eq!(one(3), "");
    // The spans of the whole line are the same texts, from one decode.
    let mut whole = String::new();
    let spans = write_args_spans(&mut whole, &call, &Style::default()).unwrap();
    for (i, sp) in spans.iter().enumerate() {
        assert_eq!(&whole[sp.clone()], one(i), "argument {i}");
    }
    let mut w = String::new();
    write_args(&mut w, &call, Part::Whole, &Style::default());
    assert_eq!(whole, w);
}

#[test]
fn argument_spans_equal_each_argument_alone_for_every_syscall() {
    // Every syscall of the table with plausible words (no captures): what
    // write_args_spans marks is what Part::Only writes.
    let words = [
        [3, 0x1000, 0o101, 0o644, 0x8, 0],
        [0; 6],
        [(-100i64) as u64, 0x7fff_0000, 1, 2, 0xffff_ffff, u64::MAX],
        // prctl(PR_GET_DUMPABLE): an option shown alone.
        [3, 0, 0, 0, 0, 0],
    ];
    for (n, args) in (0..X.syscall_table_len() as u32).flat_map(|n| words.map(|w| (n, w))) {
        let call = Call {
            arch: X,
            nr: n,
            args,
            ret: Some(0),
            enter: &[],
            exit: &[],
        };
        let mut whole = String::new();
        let Some(spans) = write_args_spans(&mut whole, &call, &Style::default()) else {
            continue;
        };
        for (i, sp) in spans.iter().enumerate() {
            let mut one = String::new();
            write_args(&mut one, &call, Part::Only(i), &Style::default());
            assert_eq!(&whole[sp.clone()], one, "syscall {n} argument {i}: {whole}");
        }
    }
}

#[test]
fn credentials_and_plain_argument_calls_are_decoded() {
    assert_eq!(
        line(
            "setresuid",
            [u64::MAX, 0, u64::from(u32::MAX), 0, 0, 0],
            0,
            &[],
            &[]
        ),
        "setresuid(-1, 0, -1) = 0"
    );
    assert_eq!(
        line("setpriority", [0, 0, 10, 0, 0, 0], 0, &[], &[]),
        "setpriority(PRIO_PROCESS, 0, 10) = 0"
    );
    assert_eq!(
        line("fallocate", [3, 1, 0, 4096, 0, 0], 0, &[], &[]),
        "fallocate(3, FALLOC_FL_KEEP_SIZE, 0, 4096) = 0"
    );
    assert_eq!(
        line("mremap", [0x1000, 4096, 8192, 1, 0, 0], 0x2000, &[], &[]),
        "mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE) = 0x2000"
    );
}

/// The whole line strace prints for an aarch64 call.
fn line_aarch64(
    name: &str,
    args: [u64; 6],
    ret: i64,
    enter: &[Mem<'_>],
    exit: &[Mem<'_>],
) -> String {
    let call = Call {
        arch: A,
        nr: A.syscall_nr(name).expect(name),
        args,
        ret: Some(ret),
        enter,
        exit,
    };
    let mut s = String::new();
    write_call(&mut s, &call, Part::Whole, &Style::default());
    format!("{s}) = {}", return_text(&call, &Style::default()))
}

#[test]
fn aarch64_calls_are_decoded_with_aarch64_s_numbers_flags_and_layouts() {
    let path = enter(1, 0x1000, b"/etc");
    // aarch64's O_DIRECTORY is 040000 (x86_64's O_DIRECT) and O_LARGEFILE
    // 0400000 (x86_64's O_NOFOLLOW).
    assert_eq!(
        line_aarch64(
            "openat",
            [-100i64 as u64, 0x1000, 0o440000, 0, 0, 0],
            3,
            &[path],
            &[]
        ),
        "openat(AT_FDCWD, \"/etc\", O_RDONLY|O_LARGEFILE|O_DIRECTORY) = 3"
    );
    assert_eq!(
        line(
            "openat",
            [-100i64 as u64, 0x1000, 0o440000, 0, 0, 0],
            3,
            &[path],
            &[]
        ),
        "openat(AT_FDCWD, \"/etc\", O_RDONLY|O_DIRECT|O_NOFOLLOW) = 3"
    );
    assert_eq!(
        line_aarch64("pipe2", [0x2000, 0o2200000, 0, 0, 0, 0], 0, &[], &[]),
        "pipe2(0x2000, O_DIRECT|O_CLOEXEC) = 0"
    );
    // struct stat is asm-generic's on aarch64: st_mode at 16, st_size at
    // 48, 128 bytes.
    let mut st = [0u8; 128];
    st[16..20].copy_from_slice(&0o100644u32.to_le_bytes());
    st[48..56].copy_from_slice(&1234u64.to_le_bytes());
    assert_eq!(
        line_aarch64(
            "fstat",
            [3, 0x3000, 0, 0, 0, 0],
            0,
            &[],
            &[exit(1, 0x3000, &st)]
        ),
        "fstat(3, {st_mode=S_IFREG|0644, st_size=1234, ...}) = 0"
    );
    // A number aarch64 has and x86_64 names otherwise: 63 is read.
    assert_eq!(
        line_aarch64(
            "read",
            [3, 0x4000, 5, 0, 0, 0],
            2,
            &[],
            &[exit(1, 0x4000, b"hi")]
        ),
        "read(3, \"hi\", 5) = 2"
    );
    assert_eq!(args_known_at_entry(A, 63), 1);
    assert!(returns_fd_nr(A, 56) && !returns_fd_nr(A, 257));
    assert_eq!(roles(A, 56)[1], Role::PathAt { dirfd: 0 });
    assert_eq!(
        restart_syscall_text(A, Some(115)),
        "<... resuming interrupted clock_nanosleep ...>"
    );
}

#[test]
fn personality_names_the_type_and_flags_of_the_persona_and_of_the_result() {
    assert_eq!(
        line("personality", [0x40000, 0, 0, 0, 0, 0], 0, &[], &[]),
        "personality(PER_LINUX|ADDR_NO_RANDOMIZE) = 0 (PER_LINUX)"
    );
    assert_eq!(
        line(
            "personality",
            [0xffff_ffff, 0, 0, 0, 0, 0],
            0x40000,
            &[],
            &[]
        ),
        "personality(0xffffffff) = 0x40000 (PER_LINUX|ADDR_NO_RANDOMIZE)"
    );
    assert_eq!(
        line("personality", [0x8, 0, 0, 0, 0, 0], 0x1, &[], &[]),
        "personality(PER_LINUX32) = 0x1 (0x1 /* PER_??? */)"
    );
}

#[test]
fn modes_renameat2_and_xattr_flags_and_ficlone_are_shown_as_strace_shows_them() {
    assert_eq!(
        line("umask", [0, 0, 0, 0, 0, 0], 0o22, &[], &[]),
        "umask(000) = 022"
    );
    assert_eq!(
        line("umask", [0o22, 0, 0, 0, 0, 0], 0, &[], &[]),
        "umask(022) = 000"
    );
    assert_eq!(
        line("umask", [0o7, 0, 0, 0, 0, 0], 0o777, &[], &[]),
        "umask(007) = 0777"
    );
    let (old, new) = (b"a".as_slice(), b"b".as_slice());
    let paths = [
        Mem {
            flags: mem_flags::STRING,
            ..enter(1, 0x10, old)
        },
        Mem {
            flags: mem_flags::STRING,
            ..enter(3, 0x20, new)
        },
    ];
    assert_eq!(
        line(
            "renameat2",
            [-100i64 as u64, 0x10, -100i64 as u64, 0x20, 1, 0],
            0,
            &paths,
            &[]
        ),
        "renameat2(AT_FDCWD, \"a\", AT_FDCWD, \"b\", RENAME_NOREPLACE) = 0"
    );
    let xattr = [
        Mem {
            flags: mem_flags::STRING,
            ..enter(1, 0x10, b"user.x")
        },
        enter(2, 0x20, b"v"),
    ];
    assert_eq!(
        line("fsetxattr", [4, 0x10, 0x20, 1, 0, 0], 0, &xattr, &[]),
        "fsetxattr(4, \"user.x\", \"v\", 1, 0) = 0"
    );
    assert_eq!(
        line("ioctl", [4, 0x4004_9409, 3, 0, 0, 0], -95, &[], &[]),
        "ioctl(4, BTRFS_IOC_CLONE or FICLONE, 3) = -1 EOPNOTSUPP (Operation not supported)"
    );
}

#[test]
fn an_xattr_size_query_shows_the_buffer_address() {
    let path = [Mem {
        flags: mem_flags::STRING,
        ..enter(0, 0x10, b"d")
    }];
    assert_eq!(
        line("llistxattr", [0x10, 0x5000, 0, 0, 0, 0], 0, &path, &[]),
        "llistxattr(\"d\", 0x5000, 0) = 0"
    );
    let out = [exit(1, 0x5000, b"")];
    assert_eq!(
        line("llistxattr", [0x10, 0x5000, 64, 0, 0, 0], 0, &path, &out),
        "llistxattr(\"d\", \"\", 64) = 0"
    );
}

#[test]
fn open_flags_and_statx_masks_are_named_in_strace_s_order() {
    assert_eq!(
        flag_names(0o4000 | 0o400 | 0o400000 | 0o2000000 | 0o200000, &OPEN),
        "O_NOCTTY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC|O_DIRECTORY"
    );
    assert_eq!(flag_names(0o4010000, &OPEN), "O_SYNC");
    assert_eq!(flag_names(0o20200000, &OPEN), "O_TMPFILE");
    assert_eq!(flag_names(0xfff, &STATX_MASK), "STATX_ALL");
    assert_eq!(
        flag_names(0x17ff, &STATX_MASK),
        "STATX_BASIC_STATS|STATX_MNT_ID"
    );
}

#[test]
fn a_socket_address_length_shows_what_was_given_and_what_the_kernel_wrote() {
    let (l16, l110, l2) = (
        16i32.to_le_bytes(),
        110i32.to_le_bytes(),
        2i32.to_le_bytes(),
    );
    let given = [enter(2, 0x20, &l16)];
    assert_eq!(
        line("getpeername", [0, 0x10, 0x20, 0, 0, 0], -88, &given, &[]),
        "getpeername(0, 0x10, [16]) = -1 ENOTSOCK (Socket operation on non-socket)"
    );
    let given = [enter(2, 0x20, &l110)];
    let out = [exit(1, 0x10, &[1, 0]), exit(2, 0x20, &l2)];
    assert_eq!(
        line("accept", [3, 0x10, 0x20, 0, 0, 0], 4, &given, &out),
        "accept(3, {sa_family=AF_UNIX}, [110 => 2]) = 4"
    );
}
