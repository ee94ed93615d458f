//! Where the bytes of a trace go: re-encodes every record of a trace with
//! parts left out (captures, registers, CPU times, nanoseconds) in 1 MiB
//! chunks compressed with zstd, as the writer does, and prints the
//! compressed bytes per syscall for each variant.
//!
//! `cargo run --release -p ptrec-format --example size_breakdown -- TRACE [LEVEL]`

use ptrec_format::codec::ChunkEncoder;
use ptrec_format::{Captures, Record, Trace};

#[derive(Clone, Copy)]
struct Variant {
    name: &'static str,
    captures: bool,
    regs: bool,
    stime: bool,
    /// Time kept to this many nanoseconds.
    time_ns: u64,
}

fn reshape<'a>(r: &Record<'a>, v: &Variant) -> Record<'a> {
    let q = |t: u64| t / v.time_ns * v.time_ns;
    match r {
        Record::SyscallEnter {
            tid,
            time,
            stime_us,
            nr,
            args,
            regs,
            mem,
        } => Record::SyscallEnter {
            tid: *tid,
            time: q(*time),
            stime_us: stime_us.filter(|_| v.stime),
            nr: *nr,
            args: *args,
            regs: regs.filter(|_| v.regs),
            mem: if v.captures {
                *mem
            } else {
                Captures::default()
            },
        },
        Record::SyscallExit {
            tid,
            time,
            stime_us,
            nr,
            ret,
            regs,
            mem,
        } => Record::SyscallExit {
            tid: *tid,
            time: q(*time),
            stime_us: stime_us.filter(|_| v.stime),
            nr: *nr,
            ret: *ret,
            regs: regs.filter(|_| v.regs),
            mem: if v.captures {
                *mem
            } else {
                Captures::default()
            },
        },
        other => other.clone(),
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: size_breakdown TRACE [LEVEL]"))?;
    let level: i32 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3);
    let t = Trace::open(&path)?;
    let variants = [
        Variant {
            name: "as recorded",
            captures: true,
            regs: true,
            stime: true,
            time_ns: 1,
        },
        Variant {
            name: "without captures",
            captures: false,
            regs: true,
            stime: true,
            time_ns: 1,
        },
        Variant {
            name: "without registers",
            captures: true,
            regs: false,
            stime: true,
            time_ns: 1,
        },
        Variant {
            name: "without CPU times",
            captures: true,
            regs: true,
            stime: false,
            time_ns: 1,
        },
        Variant {
            name: "times in microseconds",
            captures: true,
            regs: true,
            stime: true,
            time_ns: 1000,
        },
        Variant {
            name: "no regs, no CPU times, us times",
            captures: true,
            regs: false,
            stime: false,
            time_ns: 1000,
        },
        Variant {
            name: "no times at all, no regs",
            captures: true,
            regs: false,
            stime: false,
            time_ns: u64::MAX,
        },
    ];
    let mut syscalls = 0u64;
    t.for_each_record(|r| {
        if matches!(r, Record::SyscallEnter { .. }) {
            syscalls += 1;
        }
    })?;
    println!(
        "{path}: {syscalls} syscalls, {} bytes on disk ({:.2} B/syscall); zstd level {level}",
        t.file_len(),
        t.file_len() as f64 / syscalls.max(1) as f64
    );
    for v in &variants {
        let mut enc = ChunkEncoder::new();
        let mut chunk = Vec::with_capacity(1 << 21);
        let (mut raw, mut packed) = (0u64, 0u64);
        let mut seal = |chunk: &mut Vec<u8>, enc: &mut ChunkEncoder| -> anyhow::Result<()> {
            raw += chunk.len() as u64;
            packed += zstd::bulk::compress(chunk, level)?.len() as u64;
            chunk.clear();
            enc.reset();
            Ok(())
        };
        let mut err = None;
        t.for_each_record(|r| {
            enc.encode(&reshape(r, v), &mut chunk);
            if chunk.len() >= 1 << 20 {
                if let Err(e) = seal(&mut chunk, &mut enc) {
                    err = Some(e);
                }
            }
        })?;
        if let Some(e) = err {
            return Err(e);
        }
        if !chunk.is_empty() {
            seal(&mut chunk, &mut enc)?;
        }
        println!(
            "{:<34} {:>8.2} B/syscall encoded {:>7.2} B/syscall compressed",
            v.name,
            raw as f64 / syscalls.max(1) as f64,
            packed as f64 / syscalls.max(1) as f64
        );
    }
    Ok(())
}
