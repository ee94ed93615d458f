//! Whether a CPU is free for rec to poll on.
//!
//! rec's polling wait (see `stop::Waiter::collect`) pays only when the CPU it keeps
//! busy would otherwise idle: with every CPU rec may use running someone
//! else (a `make -j$(nproc)`, tar piping into gzip), each microsecond rec
//! polls is taken from a tracee, and sleeping in wait4 as strace does is
//! faster. [`CpuLoad`] samples the number of runnable tasks of the machine
//! (the fourth field of `/proc/loadavg`, which the kernel computes from
//! every CPU's run queue at the read) at most once every
//! [`SAMPLE_INTERVAL_NS`], smooths it, and answers with hysteresis so that
//! the wait does not flap between the two regimes on every sample.
//!
//! The cost: one `pread` of a 40-byte file per interval, made only on the
//! way into a wait, never per stop; the answer between samples is a field
//! read.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// How often the run queue is sampled (at most; only while rec waits).
pub const SAMPLE_INTERVAL_NS: u64 = 2_000_000;

/// Weight of a new sample in the running average, as a shift: 1/4.
const EWMA_SHIFT: u32 = 2;

/// Fixed-point scale of the average (1.0 = 256).
const ONE: u32 = 256;

/// The CPU-load sampler, owned by the engine's thread.
pub struct CpuLoad {
    file: Option<File>,
    buf: [u8; 128],
    /// CPUs rec may run on (its affinity mask when recording started).
    cpus: u32,
    /// Runnable tasks other than rec's own, averaged, times [`ONE`].
    others: u32,
    next_sample_ns: u64,
    free: bool,
}

impl CpuLoad {
    /// A sampler for `cpus` usable CPUs. Without `/proc/loadavg` (no procfs)
    /// it always answers that a CPU is free: rec then polls as it did
    /// before it looked.
    pub fn new(cpus: u32) -> CpuLoad {
        CpuLoad {
            file: File::open("/proc/loadavg").ok(),
            buf: [0; 128],
            cpus: cpus.max(1),
            others: 0,
            next_sample_ns: 0,
            free: true,
        }
    }

    /// The CPUs this process may run on (`sched_getaffinity`), at least 1.
    pub fn allowed_cpus() -> u32 {
        // SAFETY: cpu_set_t is plain data; zeroed is an empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: the pointer and size describe `set`, which the kernel fills.
        let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
        if r != 0 {
            return std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        }
        // SAFETY: `set` was filled by the kernel.
        (unsafe { libc::CPU_COUNT(&set) }).max(1) as u32
    }

    /// Whether a CPU rec may use has nothing else to run, as of the last
    /// sample; samples again when [`SAMPLE_INTERVAL_NS`] has passed.
    pub fn cpu_free(&mut self, now_ns: u64) -> bool {
        if now_ns >= self.next_sample_ns {
            self.next_sample_ns = now_ns.saturating_add(SAMPLE_INTERVAL_NS);
            if let Some(running) = self.sample() {
                self.update(running);
            }
        }
        self.free
    }

    /// Folds one sample of runnable tasks (rec's sampling thread included)
    /// into the average and decides. With `n` CPUs, rec's polling takes a
    /// CPU from nobody while fewer than `n` other tasks can run: it goes to
    /// sleep when the average reaches `n - 1/4`, and polls again when it
    /// falls to `n - 3/4`.
    fn update(&mut self, running: u32) {
        let others = running.saturating_sub(1).min(1024) * ONE;
        // others_avg += (sample - avg) / 4, in fixed point.
        self.others = self.others - (self.others >> EWMA_SHIFT) + (others >> EWMA_SHIFT);
        let n = self.cpus * ONE;
        if self.free && self.others >= n - ONE / 4 {
            self.free = false;
        } else if !self.free && self.others <= n - 3 * ONE / 4 {
            self.free = true;
        }
    }

    /// Runnable tasks now: "0.52 0.58 0.59 3/245 12345" -> 3.
    fn sample(&mut self) -> Option<u32> {
        let n = self.file.as_ref()?.read_at(&mut self.buf, 0).ok()?;
        parse_running(&self.buf[..n])
    }

    /// Whether the last decision was "a CPU is free" (for the trace header
    /// and tests).
    pub fn is_free(&self) -> bool {
        self.free
    }
}

/// The numerator of the fourth field of `/proc/loadavg`.
fn parse_running(s: &[u8]) -> Option<u32> {
    let field = s.split(|&b| b == b' ').nth(3)?;
    let num = field.split(|&b| b == b'/').next()?;
    if num.is_empty() || num.len() > 9 {
        return None;
    }
    num.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampler(cpus: u32) -> CpuLoad {
        CpuLoad {
            file: None,
            buf: [0; 128],
            cpus,
            others: 0,
            next_sample_ns: 0,
            free: true,
        }
    }

    #[test]
    fn parses_the_running_field_of_proc_loadavg() {
        assert_eq!(parse_running(b"0.52 0.58 0.59 3/245 12345\n"), Some(3));
        assert_eq!(parse_running(b"0.00 0.00 0.00 17/1024 1"), Some(17));
        assert_eq!(parse_running(b"0.00 0.00 0.00 x/10 1"), None);
        assert_eq!(parse_running(b"0.00 0.00"), None);
        assert_eq!(parse_running(b"0 0 0 /3 1"), None);
        assert_eq!(parse_running(b"0 0 0 99999999999/3 1"), None);
    }

    #[test]
    fn the_real_proc_loadavg_counts_at_least_the_reader() {
        let mut l = CpuLoad::new(2);
        assert!(l.sample().is_some_and(|n| n >= 1), "reading /proc/loadavg");
    }

    #[test]
    fn a_tracee_running_beside_rec_leaves_a_cpu_free_on_two_cpus() {
        // rec + the one tracee it waits for: rec's poll takes no one's CPU.
        let mut l = sampler(2);
        for _ in 0..100 {
            l.update(2);
        }
        assert!(l.is_free());
    }

    #[test]
    fn every_cpu_busy_with_others_makes_rec_sleep_and_it_polls_again_when_one_frees() {
        let mut l = sampler(2);
        // tar and gzip both running, plus rec.
        let mut steps = 0;
        while l.is_free() {
            l.update(3);
            steps += 1;
            assert!(steps < 50, "never decided the CPUs were busy");
        }
        // One sample of a free CPU does not flip it back (hysteresis)...
        l.update(2);
        assert!(!l.is_free());
        // ...a sustained one does.
        for _ in 0..50 {
            l.update(1);
        }
        assert!(l.is_free());
    }

    #[test]
    fn one_cpu_is_never_free_with_a_runnable_tracee() {
        let mut l = sampler(1);
        for _ in 0..50 {
            l.update(2);
        }
        assert!(!l.is_free());
    }

    #[test]
    fn samples_at_most_once_per_interval() {
        let mut l = sampler(2);
        l.next_sample_ns = 10 * SAMPLE_INTERVAL_NS;
        // No file: sampling fails and changes nothing, but the time moves on.
        assert!(l.cpu_free(10 * SAMPLE_INTERVAL_NS));
        assert_eq!(l.next_sample_ns, 11 * SAMPLE_INTERVAL_NS);
        assert!(l.cpu_free(10 * SAMPLE_INTERVAL_NS + 1));
        assert_eq!(l.next_sample_ns, 11 * SAMPLE_INTERVAL_NS);
    }
}
