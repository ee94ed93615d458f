//! Baseline for the summary benchmark: decompress and decode every record of
//! a trace (in parallel, like `analyze`) and only count them, so that the
//! analyzer's own per-record cost can be told apart from the format's.

use ptrec_format::{ChunkData, Part, Trace};
use rayon::prelude::*;

fn main() -> anyhow::Result<()> {
    // `decode_only [--skim] TRACE`: --skim reads syscall stops the way
    // `analyze summary` does (ChunkData::stops), else every record in full.
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let skim = args.first().is_some_and(|a| a == "--skim");
    if skim {
        args.remove(0);
    }
    let path = args.pop().unwrap_or_else(|| "trace.bin".into());
    let t = Trace::open(&path)?;
    let start = std::time::Instant::now();
    let n: u64 = (0..t.chunks().len())
        .into_par_iter()
        .map_init(
            || (Vec::new(), ChunkData::default()),
            |(scratch, data), i| {
                let part = if skim { Part::Stops } else { Part::All };
                if t.read_chunk_part_into(i, part, scratch, data).is_err() {
                    return 0;
                }
                if skim {
                    data.stops().filter(|r| r.is_ok()).count() as u64
                } else {
                    data.records().filter(|r| r.is_ok()).count() as u64
                }
            },
        )
        .sum();
    let s = start.elapsed().as_secs_f64();
    println!(
        "{n} records in {s:.3} s: {:.2} M records/s",
        n as f64 / s / 1e6
    );
    Ok(())
}
