//! Where the engine's records go: the trace writer, the first write error,
//! and the counters of the summary line, owned together so that a record
//! borrowing the engine's buffers can be written while they are borrowed.
//! With `--redact`, each record passes through the policy's
//! [`Redactor`] on its way to the writer.

use ptrec_format::{Record, Writer};
use ptrec_redact::Redactor;

/// The zstd level of the trace's chunks.
pub const LEVEL: i32 = 3;

/// The level while every CPU rec may use is busy (see `cpuload`): where
/// the writer thread's compression takes CPU from the tracees. On rec's
/// captures (source files, build outputs) level 1 compresses 1.6x as fast
/// as 3 for a trace 4% larger.
pub const BUSY_LEVEL: i32 = 1;

/// Counters for the summary line.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub processes: u64,
    pub threads: u64,
    pub stops: u64,
    pub syscalls: u64,
    /// Records handed to the sink (written or not).
    pub records: u64,
    /// Records that could not be given to the writer after it failed.
    pub dropped: u64,
}

/// The writer, its first error and the counters.
pub struct Sink {
    writer: Writer,
    error: Option<ptrec_format::Error>,
    redactor: Option<Box<Redactor>>,
    pub stats: Stats,
}

impl Sink {
    pub fn new(writer: Writer) -> Sink {
        Sink {
            writer,
            error: None,
            redactor: None,
            stats: Stats::default(),
        }
    }

    /// Every record is redacted by `r` before it is written (`rec --redact`).
    pub fn redacting(mut self, r: Option<Redactor>) -> Sink {
        self.redactor = r.map(Box::new);
        self
    }

    /// Writes a record unless the writer already failed (then counts it as
    /// dropped: recording goes on so that no tracee is left stopped).
    #[inline]
    pub fn emit(&mut self, r: &Record<'_>) {
        self.stats.records += 1;
        if self.error.is_some() {
            self.stats.dropped += 1;
            return;
        }
        let w = &mut self.writer;
        let res = match self.redactor.as_deref_mut() {
            Some(red) => red.record(r, |r| w.write(r)),
            None => w.write(r),
        };
        if let Err(e) = res {
            self.error = Some(e);
            self.stats.dropped += 1;
        }
    }

    /// Chunks sealed from now on are compressed at [`BUSY_LEVEL`] (busy)
    /// or [`LEVEL`].
    pub fn cpus_busy(&mut self, busy: bool) {
        self.writer.set_level(if busy { BUSY_LEVEL } else { LEVEL });
    }

    /// Seals the current chunk if it is older than the flush interval.
    pub fn flush_if_older(&mut self, now_ns: u64) {
        if self.error.is_none() {
            if let Err(e) = self.writer.flush_if_older(now_ns) {
                self.error = Some(e);
            }
        }
    }

    /// Closes the trace: what was written, and the first error.
    pub fn finish(
        self,
    ) -> (
        Stats,
        Option<ptrec_format::WriteStats>,
        Option<ptrec_format::Error>,
    ) {
        let mut error = self.error;
        let written = match self.writer.finish() {
            Ok(w) => Some(w),
            Err(e) => {
                error.get_or_insert(e);
                None
            }
        };
        (self.stats, written, error)
    }
}
