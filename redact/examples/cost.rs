//! What the Redactor costs per record: reads TRACE into memory, then times
//! `Redactor::record` over every record (decoding excluded) for a few
//! policies, and a pass-through for comparison.
//!
//! cargo run --release -p ptrec-redact --example cost -- TRACE

use std::time::Instant;

use ptrec_format::{OwnedRecord, Trace};
use ptrec_redact::{paths::PathHasher, Policy, Redactor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: cost TRACE")?;
    let t = Trace::open(&path)?;
    let mut recs: Vec<OwnedRecord> = Vec::new();
    t.for_each_record(|r| recs.push(r.to_owned()))?;
    let stops = recs.len() as f64;
    for policy in [
        "none",
        "default",
        "secrets",
        "buffers=sockets,secrets",
        "paths=hash",
    ] {
        let p = Policy::parse(policy)?;
        let hasher = p.hash_paths.then(|| PathHasher::with_key(b"bench"));
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let mut red = Redactor::new(p.clone(), hasher.clone());
            let mut sink = 0usize;
            let t0 = Instant::now();
            for r in &recs {
                sink += red.record(&r.as_record(), |r| r.time() as usize);
            }
            best = best.min(t0.elapsed().as_secs_f64());
            std::hint::black_box(sink);
        }
        println!(
            "{policy:<26} {:>8.1} ns per record ({} records)",
            best * 1e9 / stops,
            recs.len()
        );
    }
    Ok(())
}
