//! Where a table's rows of one trace go: `DIR/TABLE/trace=ID/part-N.parquet`
//! (or `.ndjson`), a new part every [`ROWS_PER_PART`] rows, so a reader
//! scans the parts (and a Parquet part's row groups) in parallel.
//!
//! Files and directories are created new (never over an existing file or
//! through a link) and private (0600/0700): an export holds what the trace
//! holds.

use std::collections::VecDeque;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use anyhow::Context;
use arrow_array::RecordBatch;
use arrow_json::writer::LineDelimited;
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;

/// Rows per Parquet row group: DuckDB and Spark scan row groups in
/// parallel; about this many rows keep every core busy on a large trace
/// while the statistics stay selective (DuckDB's own default is 122,880).
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Rows per part file (8 row groups).
pub const ROWS_PER_PART: usize = 8 * ROW_GROUP_ROWS;

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Apache Parquet, zstd-compressed, with statistics.
    #[default]
    Parquet,
    /// One JSON object per line.
    Ndjson,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Ndjson => "ndjson",
        }
    }
}

enum Open {
    Parquet(Box<ParquetPart>),
    Ndjson(NdjsonPart),
}

/// The writer of one table's partition for one trace.
pub struct Partition {
    dir: PathBuf,
    schema: SchemaRef,
    format: Format,
    open: Option<Open>,
    /// Rows in the open part.
    in_part: usize,
    parts: usize,
    pub rows: u64,
}

/// Creates `dir` and its missing parents (private), or uses it as it is.
pub fn create_dir_all(dir: &Path) -> anyhow::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Creates `dir` and its missing parents, private; `dir` itself must not exist.
pub fn create_dir_new(dir: &Path) -> anyhow::Result<()> {
    if let Some(parent) = dir.parent() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Columns written plain, without a dictionary (the calls table measured,
/// on a trace of 10 processes and one of 1,603): the thread and process ids
/// and `generation` come in long runs that zstd takes as well as the
/// dictionary's RLE indices do, `end` is one of four words, and `arg1`
/// (mostly a buffer or path pointer) repeats too seldom for a dictionary
/// to pay. Plain, the dataset came out the same size (the 1,600-process
/// one 4 % smaller), and each value is not hashed and looked up in the
/// dictionary: 6-7 % less CPU in the Parquet encoding.
const PLAIN_COLUMNS: [&str; 5] = ["pid", "tid", "generation", "end", "arg1"];

/// The writer settings of a table. zstd level 3: level 1 cost about as
/// much CPU in the measurements (encoding, not compression, dominates) and
/// wrote a dataset 5 % larger. Timestamps are nearly all distinct and
/// rising: a dictionary would only be built to be dropped, and their deltas
/// (DELTA_BINARY_PACKED) take a few bits where plain takes 64. Durations
/// (`wall_ns`, `cpu_us`) are not ordered: there a dictionary measured 3x
/// smaller than deltas. The [`PLAIN_COLUMNS`] are plain; every other column
/// keeps dictionary encoding, with its fallback to plain when the
/// dictionary page grows past its limit (paths in a large trace).
fn props(schema: &SchemaRef) -> anyhow::Result<WriterProperties> {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("ptrec analyze {}", env!("CARGO_PKG_VERSION")));
    for f in schema.fields() {
        let col = ColumnPath::from(f.name().as_str());
        if matches!(f.data_type(), DataType::Timestamp(..)) {
            b = b
                .set_column_dictionary_enabled(col.clone(), false)
                .set_column_encoding(col, Encoding::DELTA_BINARY_PACKED);
        } else if PLAIN_COLUMNS.contains(&f.name().as_str()) {
            b = b.set_column_dictionary_enabled(col, false);
        }
    }
    Ok(b.build())
}

/// One Parquet part being written: rows are held until a row group is
/// full, then the group is queued to be encoded and compressed on rayon's
/// threads while the writer goes on; encoded groups are appended to the
/// file in order. At most [`in_flight`] groups are queued or being encoded
/// at a time, so memory stays bounded by a row group per thread.
struct ParquetPart {
    file: SerializedFileWriter<BufWriter<File>>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    pending: Vec<RecordBatch>,
    groups: usize,
    encoding: Groups<(Vec<ArrowColumnWriter>, Vec<RecordBatch>, SchemaRef), Encoded>,
}

/// Row groups queued or being converted at once per part: one per thread
/// (the workers also walk the chunks, so the queue seldom runs dry; each
/// group more costs its rows' memory).
fn in_flight() -> usize {
    rayon::current_num_threads()
}

/// The encoded columns of one row group.
type Encoded = parquet::errors::Result<Vec<ArrowColumnChunk>>;

/// The NDJSON lines of one row group.
type Lines = Result<Vec<u8>, arrow_schema::ArrowError>;

enum JobState<I, O> {
    Queued(I),
    Running,
    Done(O),
    Taken,
}

/// One row group's conversion (Parquet encoding, NDJSON lines): run by
/// whichever thread takes it first (a rayon worker it was spawned on, or
/// the writer when it needs the group before a worker got to it). The
/// writer never waits for a group nobody runs, so it cannot deadlock on a
/// pool whose threads are all blocked: the writer runs on the call
/// layer's merge thread while the rayon worker that walks the chunks
/// waits for it (`export` of several traces blocks every worker so).
struct GroupJob<I, O> {
    state: Mutex<JobState<I, O>>,
    done: Condvar,
    work: fn(I) -> O,
}

impl<I, O> GroupJob<I, O> {
    fn lock(&self) -> MutexGuard<'_, JobState<I, O>> {
        // Nothing panics while holding the lock (the work runs outside it).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Does the work if nobody has started it yet.
    fn run(&self) {
        let input = {
            let mut st = self.lock();
            match std::mem::replace(&mut *st, JobState::Running) {
                JobState::Queued(i) => i,
                other => {
                    *st = other;
                    return;
                }
            }
        };
        let out = (self.work)(input);
        *self.lock() = JobState::Done(out);
        self.done.notify_all();
    }

    /// The result, if it is done (`wait`: running the work here when
    /// nobody has started it, else waiting for the thread that has).
    fn take(&self, wait: bool) -> Option<O> {
        if wait {
            self.run();
        }
        let mut st = self.lock();
        loop {
            match std::mem::replace(&mut *st, JobState::Taken) {
                JobState::Done(r) => return Some(r),
                JobState::Running if wait => {
                    *st = JobState::Running;
                    st = self.done.wait(st).unwrap_or_else(|e| e.into_inner());
                }
                other => {
                    *st = other;
                    return None;
                }
            }
        }
    }
}

/// A part's row groups being converted on rayon's threads, in file order.
struct Groups<I, O> {
    jobs: VecDeque<Arc<GroupJob<I, O>>>,
    work: fn(I) -> O,
}

impl<I: Send + 'static, O: Send + 'static> Groups<I, O> {
    fn new(work: fn(I) -> O) -> Groups<I, O> {
        Groups {
            jobs: VecDeque::new(),
            work,
        }
    }

    /// Queues one group's conversion.
    fn push(&mut self, input: I) {
        let job = Arc::new(GroupJob {
            state: Mutex::new(JobState::Queued(input)),
            done: Condvar::new(),
            work: self.work,
        });
        self.jobs.push_back(job.clone());
        rayon::spawn(move || job.run());
    }

    /// The oldest group's result when it is done; while more than `keep`
    /// groups are queued, once it is done (running it here if need be).
    fn pop(&mut self, keep: usize) -> Option<O> {
        let job = self.jobs.front()?;
        let out = job.take(self.jobs.len() > keep)?;
        self.jobs.pop_front();
        Some(out)
    }
}

/// One row group's columns, encoded one after the other on the calling
/// thread (groups, not columns, are what runs in parallel: a thread
/// waiting on nested parallel work could wait on a pool that is busy).
fn encode_group(
    writers: Vec<ArrowColumnWriter>,
    batches: &[RecordBatch],
    schema: &SchemaRef,
) -> Encoded {
    writers
        .into_iter()
        .enumerate()
        .map(|(i, mut w)| {
            let field = schema.field(i);
            for b in batches {
                for leaf in compute_leaves(field, b.column(i))? {
                    w.write(&leaf)?;
                }
            }
            w.close()
        })
        .collect()
}

impl ParquetPart {
    fn new(w: BufWriter<File>, schema: SchemaRef) -> anyhow::Result<ParquetPart> {
        // Through ArrowWriter so that the file carries the Arrow schema
        // (time zones, list types) in its metadata, as ArrowWriter writes it.
        let aw = ArrowWriter::try_new(w, schema.clone(), Some(props(&schema)?))?;
        let (file, factory) = aw.into_serialized_writer()?;
        Ok(ParquetPart {
            file,
            factory,
            schema,
            pending: Vec::new(),
            groups: 0,
            encoding: Groups::new(|(w, b, s)| encode_group(w, &b, &s)),
        })
    }

    fn write(&mut self, batch: RecordBatch) {
        self.pending.push(batch);
    }

    /// Queues the held rows as one row group, and appends the groups
    /// encoded by now (waiting for the oldest while too many are queued).
    fn flush_group(&mut self) -> anyhow::Result<()> {
        if self.pending.iter().all(|b| b.num_rows() == 0) {
            self.pending.clear();
            return Ok(());
        }
        let writers = self.factory.create_column_writers(self.groups)?;
        // Every column of these tables is one leaf (no structs): writer i
        // is column i.
        if writers.len() != self.schema.fields().len() {
            anyhow::bail!("a table's columns are not one Parquet leaf each");
        }
        let batches = std::mem::take(&mut self.pending);
        self.groups += 1;
        self.encoding.push((writers, batches, self.schema.clone()));
        self.append_encoded(in_flight())
    }

    /// Appends the encoded groups at the head of the queue, waiting for
    /// them while more than `keep` are queued.
    fn append_encoded(&mut self, keep: usize) -> anyhow::Result<()> {
        while let Some(chunks) = self.encoding.pop(keep) {
            let mut rg = self.file.next_row_group()?;
            for c in chunks? {
                c.append_to_row_group(&mut rg)?;
            }
            rg.close()?;
        }
        Ok(())
    }

    fn close(mut self) -> anyhow::Result<()> {
        self.flush_group()?;
        self.append_encoded(0)?;
        let mut w = self.file.into_inner()?;
        w.flush()?;
        Ok(())
    }
}

/// One NDJSON part: a row group's worth of rows is turned into lines on
/// rayon's threads (as a Parquet part's groups are encoded), and the lines
/// are written in order.
struct NdjsonPart {
    file: BufWriter<File>,
    pending: Vec<RecordBatch>,
    lines: Groups<Vec<RecordBatch>, Lines>,
}

/// The lines of a row group's batches.
fn ndjson_lines(batches: Vec<RecordBatch>) -> Lines {
    let mut w = arrow_json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, LineDelimited>(Vec::new());
    for b in &batches {
        w.write(b)?;
    }
    w.finish()?;
    Ok(w.into_inner())
}

impl NdjsonPart {
    fn new(file: BufWriter<File>) -> NdjsonPart {
        NdjsonPart {
            file,
            pending: Vec::new(),
            lines: Groups::new(ndjson_lines),
        }
    }

    /// Queues the held rows' conversion, and writes the groups converted
    /// by now (waiting for the oldest while too many are queued).
    fn flush_group(&mut self) -> anyhow::Result<()> {
        if !self.pending.is_empty() {
            self.lines.push(std::mem::take(&mut self.pending));
        }
        self.write_lines(in_flight())
    }

    fn write_lines(&mut self, keep: usize) -> anyhow::Result<()> {
        while let Some(text) = self.lines.pop(keep) {
            self.file.write_all(&text?)?;
        }
        Ok(())
    }

    fn close(mut self) -> anyhow::Result<()> {
        self.flush_group()?;
        self.write_lines(0)?;
        self.file.flush()?;
        Ok(())
    }
}

impl Partition {
    /// The partition `root/table/trace=id`, which must not exist yet.
    pub fn create(
        root: &Path,
        table: &str,
        trace_id: &str,
        schema: SchemaRef,
        format: Format,
    ) -> anyhow::Result<Partition> {
        let dir = root.join(table).join(format!("trace={trace_id}"));
        if dir.symlink_metadata().is_ok() {
            anyhow::bail!(
                "{} exists: this trace is already exported there",
                dir.display()
            );
        }
        create_dir_new(&dir)?;
        Ok(Partition {
            dir,
            schema,
            format,
            open: None,
            in_part: 0,
            parts: 0,
            rows: 0,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn open_part(&mut self) -> anyhow::Result<&mut Open> {
        if self.open.is_none() {
            let path = self
                .dir
                .join(format!("part-{}.{}", self.parts, self.format.ext()));
            // create_new is O_CREAT|O_EXCL: it fails on an existing file
            // and never follows a link planted in its place.
            let f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            let w = BufWriter::with_capacity(1 << 20, f);
            self.parts += 1;
            self.in_part = 0;
            self.open = Some(match self.format {
                Format::Parquet => {
                    Open::Parquet(Box::new(ParquetPart::new(w, self.schema.clone())?))
                }
                Format::Ndjson => Open::Ndjson(NdjsonPart::new(w)),
            });
        }
        match self.open.as_mut() {
            Some(o) => Ok(o),
            None => anyhow::bail!("no open part in {}", self.dir.display()),
        }
    }

    /// Appends a batch's rows (in row-group-sized slices across parts).
    pub fn write(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        let mut at = 0;
        while at < batch.num_rows() {
            let room = ROW_GROUP_ROWS - self.in_part % ROW_GROUP_ROWS;
            let n = room.min(batch.num_rows() - at);
            let slice = batch.slice(at, n);
            let full = n == room;
            match self.open_part()? {
                Open::Parquet(w) => {
                    w.write(slice);
                    if full {
                        w.flush_group()?;
                    }
                }
                Open::Ndjson(w) => {
                    w.pending.push(slice);
                    if full {
                        w.flush_group()?;
                    }
                }
            }
            self.in_part += n;
            self.rows += n as u64;
            at += n;
            if self.in_part >= ROWS_PER_PART {
                self.close_part()?;
            }
        }
        Ok(())
    }

    fn close_part(&mut self) -> anyhow::Result<()> {
        match self.open.take() {
            Some(Open::Parquet(w)) => w.close()?,
            Some(Open::Ndjson(w)) => w.close()?,
            None => {}
        }
        Ok(())
    }

    /// Closes the last part. A Parquet table without rows still gets one
    /// (empty) part, so that a glob over the tables always finds the
    /// schema; an NDJSON one gets none.
    pub fn finish(mut self) -> anyhow::Result<u64> {
        if self.parts == 0 && self.format == Format::Parquet {
            self.open_part()?;
        }
        self.close_part()
            .with_context(|| format!("writing {}", self.dir.display()))?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, Int64Array};
    use arrow_schema::{Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    /// `export` of several traces blocks every rayon worker while the
    /// merge threads write (a worker hands a window of chunks to its
    /// trace's merge thread and waits): the writers must convert their row
    /// groups themselves then, in either format, and not wait for the pool.
    #[test]
    fn a_part_is_written_while_every_pool_thread_is_blocked() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::mpsc;
        use std::time::Duration;
        for format in [Format::Ndjson, Format::Parquet] {
            let threads = rayon::current_num_threads();
            let blocked = Arc::new(AtomicUsize::new(0));
            let (release, released) = mpsc::channel::<()>();
            let released = Arc::new(Mutex::new(released));
            let (report, reports) = mpsc::channel::<bool>();
            {
                let (blocked, released) = (blocked.clone(), released.clone());
                rayon::spawn_broadcast(move |_| {
                    blocked.fetch_add(1, Ordering::SeqCst);
                    // Each worker waits for one release, 60 s at most.
                    let got = released
                        .lock()
                        .unwrap()
                        .recv_timeout(Duration::from_secs(60))
                        .is_ok();
                    report.send(got).unwrap();
                });
            }
            while blocked.load(Ordering::SeqCst) < threads {
                std::thread::sleep(Duration::from_millis(1));
            }
            let dir = tempfile::tempdir().unwrap();
            let schema: SchemaRef =
                Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
            let mut p = Partition::create(dir.path(), "t", "x", schema.clone(), format).unwrap();
            // More groups than are kept in flight, in one part.
            let total = (in_flight() + 3).min(ROWS_PER_PART / ROW_GROUP_ROWS) * ROW_GROUP_ROWS;
            let col = Int64Array::from_iter_values(0..total as i64);
            let b = RecordBatch::try_new(schema, vec![Arc::new(col)]).unwrap();
            p.write(&b).unwrap();
            assert_eq!(p.finish().unwrap(), total as u64);
            for _ in 0..threads {
                release.send(()).unwrap();
            }
            for _ in 0..threads {
                assert!(
                    reports.recv().unwrap(),
                    "{format:?}: the part waited for a blocked pool"
                );
            }
            if format == Format::Ndjson {
                let text =
                    std::fs::read_to_string(dir.path().join("t/trace=x/part-0.ndjson")).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                assert_eq!(lines.len(), total);
                assert_eq!(lines[0], r#"{"n":0}"#);
                assert_eq!(lines[total - 1], format!(r#"{{"n":{}}}"#, total - 1));
            }
        }
    }

    /// Row groups are encoded out of order on rayon's threads: the file
    /// must still hold them, and their rows, in the order they were written.
    #[test]
    fn row_groups_encoded_in_parallel_keep_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
        let mut p =
            Partition::create(dir.path(), "t", "x", schema.clone(), Format::Parquet).unwrap();
        let total = 5 * ROW_GROUP_ROWS + 7;
        // Batches of an odd size, so that groups are cut across batches.
        let mut at = 0;
        while at < total {
            let n = 10_007.min(total - at);
            let col = Int64Array::from_iter_values((at..at + n).map(|i| i as i64));
            let b = RecordBatch::try_new(schema.clone(), vec![Arc::new(col)]).unwrap();
            p.write(&b).unwrap();
            at += n;
        }
        assert_eq!(p.finish().unwrap(), total as u64);
        let f = File::open(dir.path().join("t/trace=x/part-0.parquet")).unwrap();
        let r = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
        assert_eq!(r.metadata().num_row_groups(), 6);
        let mut next = 0i64;
        for b in r.build().unwrap() {
            let b = b.unwrap();
            let col = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            for i in 0..col.len() {
                assert_eq!(col.value(i), next);
                next += 1;
            }
        }
        assert_eq!(next, total as i64);
    }
}
