//! Where the bytes of a trace go: re-encodes every record of a trace with
//! parts left out (captures, registers, CPU times, nanoseconds) in 1 MiB
//! chunks compressed with zstd, as the writer does, and prints the
//! compressed bytes per syscall for each variant, then the captured bytes
//! by syscall number (what the detail stream is made of).
//!
//! `cargo run --release -p ptrec-format --example size_breakdown -- TRACE [LEVEL]`

use ptrec_format::codec::ChunkEncoder;
use ptrec_format::{Captures, Record, Streams, Trace};

#[derive(Clone, Copy)]
struct Variant {
    name: &'static str,
    captures: bool,
    regs: bool,
    stime: bool,
    /// Time unit in nanoseconds (u64::MAX: no times at all).
    time_ns: u64,
}

fn reshape<'a>(r: &Record<'a>, v: &Variant) -> Record<'a> {
    // The encoder rounds times to its unit; u64::MAX keeps none.
    let q = |t: u64| if v.time_ns == u64::MAX { 0 } else { t };
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
            name: "as rec writes it (us times)",
            captures: true,
            regs: true,
            stime: true,
            time_ns: 1000,
        },
        Variant {
            name: "times in nanoseconds",
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
            time_ns: 1000,
        },
        Variant {
            name: "without registers",
            captures: true,
            regs: false,
            stime: true,
            time_ns: 1000,
        },
        Variant {
            name: "without CPU times",
            captures: true,
            regs: true,
            stime: false,
            time_ns: 1000,
        },
        Variant {
            name: "no regs, no CPU times",
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
    // Captured bytes per syscall number: which calls the detail stream is
    // made of.
    let mut captured: std::collections::BTreeMap<u64, (u64, u64)> = Default::default();
    t.for_each_record(|r| {
        let nr = match r {
            Record::SyscallEnter { nr, .. } => {
                syscalls += 1;
                *nr
            }
            Record::SyscallExit { nr, .. } => *nr,
            _ => return,
        };
        let c = captured.entry(nr).or_default();
        for m in r.captures().iter() {
            c.0 += m.data.len() as u64;
            c.1 += 1;
        }
    })?;
    println!(
        "{path}: {syscalls} syscalls, {} bytes on disk ({:.2} B/syscall); zstd level {level}",
        t.file_len(),
        t.file_len() as f64 / syscalls.max(1) as f64
    );
    for v in &variants {
        let unit = v.time_ns.min(1_000_000) as u32;
        let mut enc = ChunkEncoder::with_time_unit(unit);
        let mut chunk = Streams::default();
        let mut raw = 0u64;
        let mut packed = [0u64; 3];
        let mut seal = |chunk: &mut Streams, enc: &mut ChunkEncoder| -> anyhow::Result<()> {
            raw += chunk.len() as u64;
            let streams = [&chunk.events, &chunk.times, &chunk.detail];
            for (p, s) in packed.iter_mut().zip(streams) {
                *p += zstd::bulk::compress(s, level)?.len() as u64;
            }
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
        let per = |n: u64| n as f64 / syscalls.max(1) as f64;
        println!(
            "{:<28} {:>7.2} B/syscall encoded {:>6.2} compressed (events {:.2}, times {:.2}, detail {:.2})",
            v.name,
            per(raw),
            per(packed.iter().sum()),
            per(packed[0]),
            per(packed[1]),
            per(packed[2]),
        );
    }
    let mut by_bytes: Vec<_> = captured.into_iter().filter(|c| c.1 .0 > 0).collect();
    by_bytes.sort_by_key(|c| std::cmp::Reverse(c.1 .0));
    println!("captured bytes by syscall number (uncompressed, per syscall of the trace):");
    for (nr, (bytes, n)) in by_bytes.iter().take(12) {
        println!(
            "  {nr:>4} {:>7.2} B/syscall in {n} captures",
            *bytes as f64 / syscalls.max(1) as f64
        );
    }
    Ok(())
}
