//! The writer's promises: private files, errors instead of panics on a full
//! disk, a readable file after a crash or without `finish`, a bounded loss
//! window, and a trailer that tells the truth.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use ptrec_format::*;

fn call(tid: Tid, time: u64, nr: u64) -> Record<'static> {
    Record::SyscallEnter {
        tid,
        time,
        stime_us: Some(time / 1000),
        nr,
        args: [1, 2, 3, 4, 5, 6],
        regs: None,
        mem: Captures::default(),
    }
}

fn records_of(path: &std::path::Path) -> Vec<u64> {
    let t = Trace::open(path).unwrap();
    let mut v = Vec::new();
    t.for_each_record(|r| v.push(r.time())).unwrap();
    v
}

#[test]
fn trace_files_are_private_even_under_a_permissive_umask_or_over_an_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.bin");
    let old = dir.path().join("old.bin");
    std::fs::write(&old, b"world-readable").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    // SAFETY: umask only changes this process's file creation mask; the old
    // mask is put back below.
    let before = unsafe { libc::umask(0) };
    let made = [&fresh, &old].map(|p| Writer::create(p, &Header::default(), Default::default()));
    // SAFETY: as above.
    unsafe { libc::umask(before) };
    for w in made {
        w.unwrap().finish().unwrap();
    }
    for p in [&fresh, &old] {
        let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
}

#[test]
fn a_full_disk_is_an_error_not_a_panic_or_a_hang() {
    // /dev/full takes the open and refuses every write with ENOSPC.
    let err = Writer::create(
        std::path::Path::new("/dev/full"),
        &Header::default(),
        Default::default(),
    )
    .err()
    .expect("writing the header to /dev/full fails");
    assert!(err.to_string().contains("No space left on device"), "{err}");
    // /dev/full's mode is not touched: it is not a regular file.
    let mode = std::fs::metadata("/dev/full").unwrap().permissions().mode() & 0o777;
    assert_ne!(mode, 0o600);
}

#[test]
fn a_writer_dropped_without_finish_leaves_every_record_readable_and_no_trailer() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.bin");
    let opts = WriterOptions {
        chunk_bytes: 4096,
        ..Default::default()
    };
    let mut w = Writer::create(&p, &Header::default(), opts).unwrap();
    for i in 0..5000 {
        w.write(&call(7, 1_000 + i, i % 300)).unwrap();
    }
    drop(w);
    let t = Trace::open(&p).unwrap();
    assert!(!t.is_clean(), "no trailer: not a clean end");
    assert!(t.chunks().len() > 1);
    let times = records_of(&p);
    assert_eq!(times, (0..5000).map(|i| 1_000 + i).collect::<Vec<_>>());
}

#[test]
fn flush_if_older_makes_records_readable_before_finish() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.bin");
    let opts = WriterOptions {
        flush_interval: Duration::from_secs(1),
        ..Default::default()
    };
    let mut w = Writer::create(&p, &Header::default(), opts).unwrap();
    for i in 0..10 {
        w.write(&call(7, 1_000_000_000 + i, 0)).unwrap();
    }
    // Not yet a second old: nothing is sealed, nothing is on disk.
    w.flush_if_older(1_500_000_000).unwrap();
    assert!(records_of(&p).is_empty());
    // A second later the chunk is sealed and written by the writer's
    // thread, while the writer stays open.
    w.flush_if_older(2_000_000_001).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    while seen.len() < 10 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        seen = records_of(&p);
    }
    assert_eq!(seen.len(), 10, "the flushed records are on disk");
    w.write(&call(7, 2_000_000_002, 1)).unwrap();
    w.finish().unwrap();
    assert_eq!(records_of(&p).len(), 11);
}

#[test]
fn finish_writes_a_trailer_whose_totals_match_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.bin");
    let opts = WriterOptions {
        chunk_bytes: 4096,
        ..Default::default()
    };
    let mut w = Writer::create(&p, &Header::default(), opts).unwrap();
    for i in 0..3000 {
        w.write(&call(7, 10 + i, 0)).unwrap();
        if i % 100 == 0 {
            w.write(&Record::GroupStop {
                tid: 7,
                time: 10 + i,
                signo: 19,
            })
            .unwrap();
        }
    }
    let stats = w.finish().unwrap();
    let t = Trace::open(&p).unwrap();
    assert!(t.is_clean());
    let index = t.index().expect("a trailer");
    assert_eq!(index.totals.records, 3030);
    assert_eq!(stats.records, 3030);
    assert_eq!(index.totals.by_kind[Kind::SyscallEnter as usize], 3000);
    assert_eq!(index.totals.by_kind[Kind::GroupStop as usize], 30);
    assert_eq!(index.chunks.len(), t.chunks().len());
    let counted: u64 = index.chunks.iter().map(|c| u64::from(c.record_count)).sum();
    assert_eq!(counted, 3030);
    assert_eq!(index.chunks.first().map(|c| c.first_time), Some(10));
    assert_eq!(index.chunks.last().map(|c| c.last_time), Some(3009));
    assert_eq!(stats.file_bytes, std::fs::metadata(&p).unwrap().len());
}

#[test]
fn a_chunk_is_sealed_at_the_thread_limit_readers_enforce() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    let mut w = Writer::create(&path, &Header::default(), WriterOptions::default()).unwrap();
    let n = ptrec_format::codec::MAX_CHUNK_THREADS as i32 + 10;
    for tid in 1..=n {
        w.write(&Record::ExitEvent {
            tid,
            time: 1_000 + tid as u64,
            status: 0,
        })
        .unwrap();
    }
    w.finish().unwrap();
    let t = Trace::open(&path).unwrap();
    // Far below the 1 MiB chunk size, but one chunk may not hold more
    // threads than a reader accepts.
    assert_eq!(t.chunks().len(), 2);
    let mut seen = 0;
    t.for_each_record(|r| {
        seen += 1;
        assert_eq!(r.tid(), seen);
    })
    .unwrap();
    assert_eq!(seen, n);
}

#[test]
fn the_level_can_change_between_chunks_and_every_chunk_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, levels: &[i32]| {
        let p = dir.path().join(name);
        let opts = WriterOptions {
            chunk_bytes: 4096,
            ..Default::default()
        };
        let mut w = Writer::create(&p, &Header::default(), opts).unwrap();
        let per = 20_000 / levels.len() as u64;
        for (k, &level) in levels.iter().enumerate() {
            w.set_level(level);
            for i in 0..per {
                let i = k as u64 * per + i;
                w.write(&call(7, 1_000 + i * 7, (i * 13) % 300)).unwrap();
            }
        }
        w.finish().unwrap();
        let size = std::fs::metadata(&p).unwrap().len();
        (records_of(&p), size)
    };
    let (slow, slow_size) = write("slow.bin", &[19]);
    let (fast, fast_size) = write("fast.bin", &[-7]);
    let (mixed, mixed_size) = write("mixed.bin", &[19, -7, 1, 19]);
    let want: Vec<u64> = (0..20_000).map(|i| 1_000 + i * 7).collect();
    assert_eq!(slow, want);
    assert_eq!(fast, want);
    assert_eq!(mixed, want);
    // The level took effect: the same records, compressed harder, are smaller.
    assert!(
        slow_size < mixed_size && mixed_size < fast_size,
        "{slow_size} {mixed_size} {fast_size}"
    );
}
