//! Whether a CPU is free for rec to poll on, and to compress on.
//!
//! rec's polling wait (see `stop::Waiter::wait`) pays only when the CPU it keeps
//! busy would otherwise idle: with every CPU rec may use running someone
//! else (a `make -j$(nproc)`, tar piping into gzip), each microsecond rec
//! polls is taken from a tracee, and sleeping in wait4 as strace does is
//! faster. The same holds for the writer thread's compression, which the
//! engine makes cheaper while the CPUs are busy.
//!
//! What is measured is the time the CPUs rec may run on (its affinity mask,
//! where its tracees run unless they change their own) were not used by
//! anyone else: their idle time (idle + iowait of their `cpuN` lines in
//! `/proc/stat`) plus the CPU time of rec's own engine thread, which
//! polling turns from idle into rec's. Both are time averages over the
//! interval between samples, so a sample does not depend on the moment it
//! is taken (the run queue seen on the way into a wait always holds the
//! tracees rec has just resumed). rec polls while that spare time is at
//! least one CPU's worth (there is a CPU that polling takes from nobody),
//! and sleeps once it falls under three quarters of one; the averages are
//! smoothed over about 80 ms.
//!
//! The cost: one `pread` of `/proc/stat` and one thread-CPU-clock read per
//! [`SAMPLE_INTERVAL_NS`], made only on the way into a wait, never per
//! stop; between samples the answer is a field read.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// How often the CPUs are sampled (at most; only while rec waits).
pub const SAMPLE_INTERVAL_NS: u64 = 10_000_000;

/// Weight of a new sample in the running average, as a shift: 1/8.
const EWMA_SHIFT: u32 = 3;

/// Fixed-point scale of the averages (1.0 CPU = 256).
const ONE: u64 = 256;

/// Spare CPU time at which polling starts (a whole CPU) and stops.
const POLL_FROM: u64 = ONE;
const SLEEP_UNDER: u64 = 3 * ONE / 4;

/// The most CPUs the mask holds (`cpu_set_t`).
const MAX_CPUS: usize = 1024;

/// The CPU sampler, owned by the engine's thread.
pub struct CpuLoad {
    file: Option<File>,
    /// `/proc/stat`, read whole once at start to size this: its `cpuN`
    /// lines come first, so a later read that fills it still holds them.
    buf: Vec<u8>,
    /// The CPUs rec may run on (its affinity mask when recording started).
    mask: [u64; MAX_CPUS / 64],
    cpus: u32,
    /// Nanoseconds per `/proc/stat` tick (USER_HZ).
    tick_ns: u64,
    /// The last sample: when, idle ticks of the allowed CPUs, rec's thread
    /// CPU time (ns). None before the first.
    last: Option<(u64, u64, u64)>,
    /// Spare CPU time (idle + rec's own) per unit of time, averaged, times [`ONE`].
    spare: u64,
    next_sample_ns: u64,
    free: bool,
}

impl CpuLoad {
    /// A sampler for the CPUs of rec's affinity mask. Without `/proc/stat`
    /// (no procfs) it always answers that a CPU is free: rec then polls as
    /// it did before it looked.
    pub fn new() -> CpuLoad {
        let mut buf = std::fs::read("/proc/stat").unwrap_or_default();
        let cap = (buf.len() * 2).max(4096);
        buf.clear();
        buf.resize(cap, 0);
        // SAFETY: sysconf has no memory arguments.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let (mask, cpus) = affinity();
        CpuLoad {
            file: File::open("/proc/stat").ok(),
            buf,
            mask,
            cpus,
            tick_ns: 1_000_000_000 / if hz > 0 { hz as u64 } else { 100 },
            last: None,
            // Free, but a few busy samples (~30 ms) from deciding otherwise.
            spare: POLL_FROM,
            next_sample_ns: 0,
            free: true,
        }
    }

    /// The CPUs this process may run on (`sched_getaffinity`), at least 1.
    pub fn allowed_cpus() -> u32 {
        affinity().1
    }

    /// Whether a CPU rec may use has nothing else to run, as of the last
    /// sample; samples again when [`SAMPLE_INTERVAL_NS`] has passed.
    pub fn cpu_free(&mut self, now_ns: u64) -> bool {
        if now_ns >= self.next_sample_ns {
            self.next_sample_ns = now_ns.saturating_add(SAMPLE_INTERVAL_NS);
            if let Some(idle) = self.idle_ticks() {
                let own = thread_cpu_ns();
                if let Some((t0, idle0, own0)) = self.last {
                    let spare_ns = idle.saturating_sub(idle0).saturating_mul(self.tick_ns)
                        + own.saturating_sub(own0);
                    self.update(now_ns.saturating_sub(t0), spare_ns);
                }
                self.last = Some((now_ns, idle, own));
            }
        }
        self.free
    }

    /// Folds one interval of `elapsed` ns, in which the allowed CPUs had
    /// `spare` ns of time that nobody but rec's engine thread used, into
    /// the average and decides (with hysteresis).
    fn update(&mut self, elapsed: u64, spare: u64) {
        if elapsed == 0 {
            return;
        }
        let max = u64::from(self.cpus) * ONE;
        let sample =
            (u128::from(spare) * u128::from(ONE) / u128::from(elapsed)).min(max.into()) as u64;
        // spare += (sample - spare) / 8, in fixed point.
        self.spare = self.spare - (self.spare >> EWMA_SHIFT) + (sample >> EWMA_SHIFT);
        if self.free && self.spare < SLEEP_UNDER {
            self.free = false;
        } else if !self.free && self.spare >= POLL_FROM {
            self.free = true;
        }
    }

    /// Idle + iowait ticks of the allowed CPUs now.
    fn idle_ticks(&mut self) -> Option<u64> {
        let n = self.file.as_ref()?.read_at(&mut self.buf, 0).ok()?;
        idle_ticks(&self.buf[..n], &self.mask)
    }

    /// Whether the last decision was "a CPU is free" (for tests).
    pub fn is_free(&self) -> bool {
        self.free
    }
}

impl Default for CpuLoad {
    fn default() -> Self {
        CpuLoad::new()
    }
}

/// rec's affinity mask as a bitmap, and how many CPUs it holds (at least 1;
/// every CPU when it cannot be read).
fn affinity() -> ([u64; MAX_CPUS / 64], u32) {
    // SAFETY: cpu_set_t is plain data; zeroed is an empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer and size describe `set`, which the kernel fills.
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    let mut mask = [0u64; MAX_CPUS / 64];
    if r != 0 {
        let n = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_CPUS);
        for c in 0..n {
            mask[c / 64] |= 1 << (c % 64);
        }
        return (mask, n as u32);
    }
    let mut n = 0;
    for c in 0..MAX_CPUS {
        // SAFETY: `set` was filled by the kernel; c < CPU_SETSIZE.
        if unsafe { libc::CPU_ISSET(c, &set) } {
            mask[c / 64] |= 1 << (c % 64);
            n += 1;
        }
    }
    (mask, n.max(1))
}

/// The CPU time of the calling thread (ns).
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid pointer to a local.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The sum of the idle and iowait fields (4th and 5th numbers) of the
/// `cpuN` lines of `/proc/stat` whose N is in `mask`. None when no such
/// line parses.
fn idle_ticks(stat: &[u8], mask: &[u64; MAX_CPUS / 64]) -> Option<u64> {
    let mut total = 0u64;
    let mut seen = false;
    for line in stat.split(|&b| b == b'\n') {
        // The cpu lines come first and together: the rest (the long intr
        // line) is not read.
        let Some(rest) = line.strip_prefix(b"cpu") else {
            break;
        };
        let mut fields = rest.split(|&b| b == b' ').filter(|f| !f.is_empty());
        // "cpu  ..." (the total) has no number right after "cpu".
        let Some(cpu) = rest
            .first()
            .filter(|b| b.is_ascii_digit())
            .and(fields.next())
        else {
            continue;
        };
        let Some(c) = number(cpu).filter(|&c| (c as usize) < MAX_CPUS) else {
            continue;
        };
        if mask[c as usize / 64] & (1 << (c % 64)) == 0 {
            continue;
        }
        let mut f = fields.skip(3);
        let (Some(idle), Some(iowait)) = (f.next().and_then(number), f.next().and_then(number))
        else {
            continue;
        };
        total += idle + iowait;
        seen = true;
    }
    seen.then_some(total)
}

fn number(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampler(cpus: u32) -> CpuLoad {
        let mut mask = [0u64; MAX_CPUS / 64];
        for c in 0..cpus as usize {
            mask[c / 64] |= 1 << (c % 64);
        }
        CpuLoad {
            file: None,
            buf: Vec::new(),
            mask,
            cpus,
            tick_ns: 10_000_000,
            last: None,
            spare: u64::from(cpus) * ONE,
            next_sample_ns: 0,
            free: true,
        }
    }

    const MS: u64 = 1_000_000;

    const STAT: &[u8] = b"cpu  100 0 50 9000 10 0 5 0 0 0\n\
cpu0 50 0 25 4000 5 0 2 0 0 0\n\
cpu1 50 0 25 5000 5 0 3 0 0 0\n\
cpu2 1 0 1 700 1 0 0 0 0 0\n\
intr 12345 1 2 3\n\
ctxt 999\n";

    #[test]
    fn sums_idle_and_iowait_of_the_allowed_cpus_only() {
        let mut mask = [0u64; MAX_CPUS / 64];
        mask[0] = 0b011;
        assert_eq!(idle_ticks(STAT, &mask), Some(4005 + 5005));
        mask[0] = 0b100;
        assert_eq!(idle_ticks(STAT, &mask), Some(701));
        // A CPU that is not in the file (offline) adds nothing.
        mask[0] = 0b1000;
        assert_eq!(idle_ticks(STAT, &mask), None);
        assert_eq!(idle_ticks(b"cpu0 x\n", &mask), None);
        assert_eq!(idle_ticks(b"", &mask), None);
    }

    #[test]
    fn the_real_proc_stat_has_idle_time_for_rec_s_cpus() {
        let mut l = CpuLoad::new();
        assert!(l.idle_ticks().is_some(), "reading /proc/stat");
        assert!(CpuLoad::allowed_cpus() >= 1);
    }

    #[test]
    fn a_tracee_and_rec_taking_turns_leave_a_cpu_free() {
        // Two CPUs, rec and one tracee ping-ponging: each half busy, so one
        // CPU's worth idle, and rec's own time counts as spare.
        let mut l = sampler(2);
        for _ in 0..100 {
            l.update(10 * MS, 10 * MS + 5 * MS);
        }
        assert!(l.is_free());
    }

    #[test]
    fn every_cpu_busy_with_others_makes_rec_sleep_and_it_polls_again_when_one_frees() {
        let mut l = sampler(2);
        // make -j2: both CPUs compiling, rec a little.
        let mut steps = 0;
        while l.is_free() {
            l.update(10 * MS, MS / 2);
            steps += 1;
            assert!(steps < 50, "never decided the CPUs were busy");
        }
        // One idle interval does not flip it back (hysteresis)...
        l.update(10 * MS, 20 * MS);
        assert!(!l.is_free());
        // ...nor does spare time just under one CPU...
        for _ in 0..100 {
            l.update(10 * MS, 9 * MS);
        }
        assert!(!l.is_free());
        // ...a sustained free CPU does.
        for _ in 0..50 {
            l.update(10 * MS, 15 * MS);
        }
        assert!(l.is_free());
    }

    #[test]
    fn one_cpu_shared_with_a_running_tracee_is_never_free() {
        let mut l = sampler(1);
        for _ in 0..50 {
            l.update(10 * MS, 3 * MS);
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
