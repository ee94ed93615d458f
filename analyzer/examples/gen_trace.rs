//! Writes a large synthetic trace for benchmarking `analyze`:
//! `cargo run --release -p ptrec-analyzer --example gen_trace -- OUT [UNCOMPRESSED_MB]`.
//!
//! Four threads of one process make a realistic mix of syscalls (read,
//! write, openat, close, fstat, getppid, futex, mmap) with full x86_64
//! register snapshots, CPU times and small memory captures, until the
//! encoded records reach the requested size (default 1100 MB).

use std::path::PathBuf;

use ptrec_format::{
    mem_flags, x86_64 as rx, CaptureBuf, Header, Record, RecordingOptions, Regs, Writer,
    WriterOptions, AUDIT_ARCH_X86_64, REG_LAYOUT_X86_64,
};

/// nr, arguments, return value, memory captured at entry, at exit.
type Call = (u64, [u64; 6], i64, &'static [u8], &'static [u8]);

/// Time unit rec writes (microseconds).
const REC_TIME_UNIT: u32 = 1000;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "big.bin".into()));
    let mb: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1100);
    let header = Header {
        arch: AUDIT_ARCH_X86_64,
        reg_layout: REG_LAYOUT_X86_64,
        kernel_release: "6.18.0-synthetic".into(),
        hostname: "bench".into(),
        page_size: 4096,
        start_wall_ns: 1_700_000_000_000_000_000,
        start_mono_ns: 1_000_000_000,
        argv: vec![b"synthetic".to_vec()],
        cwd: b"/".to_vec(),
        env: Vec::new(),
        options: RecordingOptions {
            string_limit: 4096,
            filter_mode: "none".into(),
            cpu_times: true,
            registers: true,
            ..RecordingOptions::default()
        },
        recorder_version: "gen_trace".into(),
        ..Header::default()
    };
    let mut w = Writer::create(
        &out,
        &header,
        WriterOptions {
            time_unit_ns: REC_TIME_UNIT,
            ..WriterOptions::default()
        },
    )?;
    let mix: [Call; 8] = [
        (
            0,
            [3, 0x7ffd_0000_1000, 4096, 0, 0, 0],
            64,
            b"",
            b"line of input data, sixty-four bytes long, more or less......\n",
        ),
        (
            1,
            [1, 0x5555_0000_2000, 13, 0, 0, 0],
            13,
            b"hello, world\n",
            b"",
        ),
        (
            257,
            [(-100i64) as u64, 0x5555_0000_3000, 0o2000000, 0, 0, 0],
            3,
            b"/usr/lib/x86_64-linux-gnu/libc.so.6",
            b"",
        ),
        (3, [3, 0, 0, 0, 0, 0], 0, b"", b""),
        (5, [3, 0x7ffd_0000_4000, 0, 0, 0, 0], 0, b"", &[0u8; 144]),
        (110, [0; 6], 4242, b"", b""),
        (202, [0x5555_0000_5000, 129, 1, 0, 0, 0], 0, b"", b""),
        (9, [0, 8192, 3, 34, u64::MAX, 0], 0x7f00_0000_0000, b"", b""),
    ];
    let mut caps = CaptureBuf::new();
    // A second encoder measures the encoded size (the Writer does not expose it).
    let mut enc = ptrec_format::codec::ChunkEncoder::with_time_unit(REC_TIME_UNIT);
    let mut scratch = ptrec_format::Streams::default();
    let mut time = 1_000_000_000u64;
    let mut stime = 0u64;
    let mut regs = [Regs::default(); 4];
    for (t, r) in regs.iter_mut().enumerate() {
        r[rx::RIP] = 0x7f12_3456_7000 + t as u64 * 16;
        r[rx::RSP] = 0x7ffd_1000_0000 - t as u64 * 0x10_0000;
        r[rx::CS] = 0x33;
        r[rx::SS] = 0x2b;
        r[rx::EFLAGS] = 0x246;
        r[rx::FS_BASE] = 0x7f12_0000_0740 + t as u64 * 0x1000;
    }
    let limit = mb << 20;
    let mut i: u64 = 0;
    let mut bytes_est: u64 = 0;
    while bytes_est < limit {
        for _ in 0..4096 {
            let t = (i % 4) as usize;
            let tid = 1000 + t as i32;
            let (nr, args, ret, cin, cout) =
                mix[(i.wrapping_mul(2_654_435_761) >> 7) as usize % mix.len()];
            let r = &mut regs[t];
            r[rx::ORIG_RAX] = nr;
            r[rx::RAX] = (-38i64) as u64;
            for (k, &reg) in rx::ARGS.iter().enumerate() {
                r[reg] = args[k];
            }
            r[rx::RCX] = r[rx::RIP];
            r[rx::R11] = r[rx::EFLAGS];
            time += 700 + (i % 13) * 37;
            caps.clear();
            if !cin.is_empty() {
                let flags = if nr == 257 { mem_flags::STRING } else { 0 };
                caps.push(1, flags, args[1], cin);
            }
            let rec = Record::SyscallEnter {
                tid,
                time,
                stime_us: Some(stime),
                nr,
                args,
                regs: Some(*r),
                mem: caps.captures(),
            };
            enc.encode(&rec, &mut scratch);
            w.write(&rec)?;
            time += 300 + (i % 7) * 91;
            stime += i % 3;
            r[rx::RAX] = ret as u64;
            caps.clear();
            if !cout.is_empty() {
                caps.push(1, mem_flags::AT_EXIT, args[1], cout);
            }
            let rec = Record::SyscallExit {
                tid,
                time,
                stime_us: Some(stime),
                nr,
                ret,
                regs: Some(*r),
                mem: caps.captures(),
            };
            enc.encode(&rec, &mut scratch);
            w.write(&rec)?;
            if scratch.len() >= 1 << 20 {
                bytes_est += scratch.len() as u64;
                scratch.clear();
                enc.reset();
            }
            i += 1;
        }
    }
    let stats = w.finish()?;
    eprintln!(
        "{}: {} records ({} stops), {} MB of records, {} MB on disk",
        out.display(),
        stats.records,
        stats.records,
        stats.uncompressed_bytes >> 20,
        stats.file_bytes >> 20
    );
    Ok(())
}
