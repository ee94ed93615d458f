//! The CPU-latency request that `rec --idle-poll` holds while it records.
//!
//! Every ptrace stop wakes a CPU twice: the tracer's when the tracee stops,
//! the tracee's when it is resumed. On a VM whose idle vCPUs halt at once
//! (cpuidle-haltpoll with `guest_halt_poll_ns=0`, as our Firecracker VMs
//! boot), each wake-up is a trip through the hypervisor and costs more than
//! the stop itself. A 0 µs request on `/dev/cpu_dma_latency` makes the
//! cpuidle governor keep every idle CPU in its polling state instead. The
//! kernel drops the request when the file is closed, so it ends with rec,
//! however rec ends.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};

/// Where the kernel takes CPU-latency requests (PM QoS).
pub const CPU_LATENCY_QOS: &str = "/dev/cpu_dma_latency";

/// A held 0 µs CPU-latency request; dropping it releases the request.
#[derive(Debug)]
pub struct IdlePoll {
    _request: File,
}

impl IdlePoll {
    /// Requests that no CPU halt while idle, for as long as the value
    /// lives. Needs write access to [`CPU_LATENCY_QOS`] (root, by default).
    pub fn hold() -> io::Result<IdlePoll> {
        let mut request = OpenOptions::new().write(true).open(CPU_LATENCY_QOS)?;
        // The device takes a native-endian s32 in microseconds.
        request.write_all(&0i32.to_ne_bytes())?;
        Ok(IdlePoll { _request: request })
    }
}
