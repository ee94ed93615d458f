//! The tables of `analyze export`: one struct of column builders per
//! table, made by [`table!`] from a single list that also gives each
//! column's type, unit and meaning, so the Arrow schema, the row builders
//! and `analyzer/EXPORT.md` (checked by a test against [`TABLES`]) cannot
//! drift apart.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};

/// A column's documentation: name, SQL type as DuckDB shows it, unit, meaning.
pub struct ColumnDoc {
    pub name: &'static str,
    pub sql_type: &'static str,
    pub unit: &'static str,
    pub doc: &'static str,
}

/// A table's documentation.
pub struct TableDoc {
    pub name: &'static str,
    pub doc: &'static str,
    pub columns: &'static [ColumnDoc],
}

/// Wall-clock timestamps: microseconds since the Unix epoch, UTC (as the
/// offset `+00:00`: the JSON writer knows no zone names).
fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()))
}

fn list_type(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

macro_rules! col_builder {
    (I32) => { Int32Builder };
    (I64) => { Int64Builder };
    (Str) => { StringBuilder };
    (Bool) => { BooleanBuilder };
    (Ts) => { TimestampMicrosecondBuilder };
    (StrList) => { ListBuilder<StringBuilder> };
    (IntList) => { ListBuilder<Int32Builder> };
}

macro_rules! col_new {
    (Ts) => {
        TimestampMicrosecondBuilder::new().with_timezone("+00:00")
    };
    (StrList) => {
        ListBuilder::new(StringBuilder::new())
    };
    (IntList) => {
        ListBuilder::new(Int32Builder::new())
    };
    ($t:ident) => {
        <col_builder!($t)>::new()
    };
}

/// A builder with room for `$n` rows (strings: 16 bytes each on average),
/// so that a chunk's rows fill it without growing it again and again.
macro_rules! col_with_capacity {
    (Ts, $n:expr) => {
        TimestampMicrosecondBuilder::with_capacity($n).with_timezone("+00:00")
    };
    (Str, $n:expr) => {
        StringBuilder::with_capacity($n, $n * 16)
    };
    (StrList, $n:expr) => {
        ListBuilder::with_capacity(StringBuilder::new(), $n)
    };
    (IntList, $n:expr) => {
        ListBuilder::with_capacity(Int32Builder::new(), $n)
    };
    ($t:ident, $n:expr) => {
        <col_builder!($t)>::with_capacity($n)
    };
}

macro_rules! col_type {
    (I32) => {
        DataType::Int32
    };
    (I64) => {
        DataType::Int64
    };
    (Str) => {
        DataType::Utf8
    };
    (Bool) => {
        DataType::Boolean
    };
    (Ts) => {
        ts_type()
    };
    (StrList) => {
        list_type(DataType::Utf8)
    };
    (IntList) => {
        list_type(DataType::Int32)
    };
}

macro_rules! col_sql {
    (I32) => {
        "INTEGER"
    };
    (I64) => {
        "BIGINT"
    };
    (Str) => {
        "VARCHAR"
    };
    (Bool) => {
        "BOOLEAN"
    };
    (Ts) => {
        "TIMESTAMP WITH TIME ZONE"
    };
    (StrList) => {
        "VARCHAR[]"
    };
    (IntList) => {
        "INTEGER[]"
    };
}

/// `table!(Name, "name", "doc", { column: Type, "unit", "doc"; ... })`:
/// a struct `Name` with one Arrow builder per column (`name.column`), its
/// schema, its documentation, and `finish` into a record batch.
macro_rules! table {
    ($ty:ident, $name:literal, $tdoc:literal, { $($col:ident : $t:ident, $unit:literal, $doc:literal;)* }) => {
        pub struct $ty {
            $(pub $col: col_builder!($t),)*
        }

        impl $ty {
            pub const DOC: TableDoc = TableDoc {
                name: $name,
                doc: $tdoc,
                columns: &[$(ColumnDoc {
                    name: stringify!($col),
                    sql_type: col_sql!($t),
                    unit: $unit,
                    doc: $doc,
                },)*],
            };

            pub fn new() -> $ty {
                $ty { $($col: col_new!($t),)* }
            }

            /// Empty, with room for `rows` rows.
            pub fn with_capacity(rows: usize) -> $ty {
                $ty { $($col: col_with_capacity!($t, rows),)* }
            }

            pub fn schema() -> SchemaRef {
                Arc::new(Schema::new(vec![
                    $(Field::new(stringify!($col), col_type!($t), true),)*
                ]))
            }

            /// Rows added so far (every column has one value per row).
            pub fn len(&self) -> usize {
                let lens = [$(arrow_array::builder::ArrayBuilder::len(&self.$col),)*];
                lens[0]
            }

            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// The rows added so far as a batch; the builders start again empty.
            pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
                let cols: Vec<ArrayRef> = vec![$(Arc::new(self.$col.finish()),)*];
                RecordBatch::try_new(Self::schema(), cols)
            }
        }

        impl Default for $ty {
            fn default() -> $ty {
                $ty::new()
            }
        }
    };
}

table!(Calls, "calls", "One row per syscall entry: the call joined with its exit (or with what ended it).", {
    trace_id: Str, "", "The trace's id (32 hex digits); also the `trace=` partition.";
    pid: I32, "", "Thread-group id of the calling process, at the time of the call.";
    generation: I32, "", "Which process with this pid (0: the first; a reused pid counts up), as in `processes`.";
    tid: I32, "", "The calling thread (the entry's tid; after an execve from a non-leader thread the exit is on the leader's).";
    command: Str, "", "The program the process was running: the filename of its last exec before the call, else the name it was created with.";
    syscall: Str, "", "Syscall name in the trace's architecture (x86_64, aarch64), `syscall_0xNNN` for an unknown number.";
    nr: I32, "", "Syscall number in the trace's architecture (aarch64's openat is 56, x86_64's 257).";
    arg0: I64, "", "First argument register, raw (64 bits as a signed integer: AT_FDCWD is -100).";
    arg1: I64, "", "Second argument register, raw.";
    arg2: I64, "", "Third argument register, raw.";
    arg3: I64, "", "Fourth argument register, raw.";
    arg4: I64, "", "Fifth argument register, raw.";
    arg5: I64, "", "Sixth argument register, raw.";
    path: Str, "", "The path the call named, absolute: resolved against the process's cwd or directory descriptor as they were at the call (the old name for a rename); NULL for a call without a path.";
    fd_target: Str, "", "What the descriptor the call used referred to when it was made, for the calls the per-process state follows (read/write families, fstat, close, dup, sendfile...): the absolute path it was opened by (after a rename of the file or of a directory above it, its new path, as /proc names it), `pipe`, `socket`, ..., what /proc named it for a descriptor the started command inherited or an attached process had (`pipe:[N]`, `/dev/null`), or `inherited:[N]` for a descriptor the process had before the trace saw it and the trace does not name (traces of an older rec); NULL otherwise.";
    ret: I64, "", "Return value; NULL when the call did not return (see `end`).";
    errno: Str, "", "Error name (`ENOENT`) when `ret` is in -4095..-1, else NULL.";
    enter_time: Ts, "µs", "Wall-clock time of the syscall-enter-stop (UTC).";
    exit_time: Ts, "µs", "Wall-clock time of the syscall-exit-stop; NULL when the call did not return (see `end`).";
    wall_ns: I64, "ns", "Time between the two stops, at nanosecond precision; NULL when the call did not return.";
    cpu_us: I64, "µs", "System CPU time of the thread group between the two stops (from wait4's rusage); NULL when not recorded or when the call did not return.";
    end: Str, "", "How the call ended: `returned`, `death` (the thread died in it: exit, exit_group, a fatal signal, or another thread's execve, which kills the others), `lost` (a later entry came first: records lost, or an exec took the tid with no exit event recorded), `unfinished` (the trace ended first).";
    cut: Bool, "", "A captured buffer or string of the call was cut at rec's `-s` or at an unreadable page.";
    unreadable: Bool, "", "A pointer argument of the call could not be read.";
});

table!(Processes, "processes", "One row per process (pid plus generation), as `analyze tree --json` shows them.", {
    trace_id: Str, "", "The trace's id.";
    pid: I32, "", "Thread-group id.";
    generation: I32, "", "0 for the first process with this pid, 1 for the next (pid reuse).";
    parent: I32, "", "pid of the process that created it; NULL for a root.";
    start: Ts, "µs", "Wall-clock time of its first record.";
    end: Ts, "µs", "Wall-clock time of its last record.";
    exit_code: I32, "", "Exit code when it exited; NULL otherwise.";
    exit_signal: Str, "", "The signal that killed it (`SIGKILL`); NULL otherwise.";
    core_dumped: Bool, "", "Whether the killing signal dumped core; NULL unless killed.";
    threads: I32, "", "Number of threads that were ever part of it.";
    execs: I32, "", "Number of successful execs.";
    command: Str, "", "The program it ran last (its last exec's filename, else its name).";
    first_argv: StrList, "", "argv of its first exec; NULL when it never exec'd.";
    last_argv: StrList, "", "argv of its last exec; NULL when it never exec'd.";
    cwd: Str, "", "Working directory at its end (from chdir/fchdir; the recording's cwd for the started command), NULL when unknown.";
});

table!(Execs, "execs", "One row per successful execve/execveat.", {
    trace_id: Str, "", "The trace's id.";
    pid: I32, "", "The process (thread-group id).";
    generation: I32, "", "As in `processes`.";
    tid: I32, "", "The thread that called execve (before the tid change).";
    seq: I32, "", "0 for the process's first exec, 1 for the next, ...";
    time: Ts, "µs", "Wall-clock time of the exec event.";
    filename: Str, "", "The executed file, as passed to execve.";
    argv: StrList, "", "The new program's argv.";
});

table!(Signals, "signals", "One row per signal-delivery-stop and group-stop.", {
    trace_id: Str, "", "The trace's id.";
    pid: I32, "", "The receiving process.";
    generation: I32, "", "As in `processes`.";
    tid: I32, "", "The receiving thread.";
    time: Ts, "µs", "Wall-clock time of the stop.";
    kind: Str, "", "`delivery` (signal-delivery-stop) or `group-stop`.";
    signal: Str, "", "Signal name (`SIGCHLD`, `SIGRT_1`).";
    signo: I32, "", "Signal number.";
    si_code: I32, "", "siginfo's si_code; NULL when no siginfo was recorded.";
    si_pid: I32, "", "siginfo's si_pid (the sender for kill/tgkill/sigqueue and SIGCHLD); NULL when no siginfo was recorded or si_code has none.";
});

table!(Traces, "traces", "One row per exported trace.", {
    trace_id: Str, "", "The trace's id: from the header's random nonce, host and start time (derived from the header for files before format version 3).";
    file: Str, "", "The trace file as given to `analyze export`.";
    file_bytes: I64, "bytes", "Size of the trace file.";
    format_version: I32, "", "Trace format version.";
    recorder: Str, "", "The recorder that wrote it (`ptrec 0.1.0`).";
    hostname: Str, "", "Host name of the recording machine.";
    kernel: Str, "", "Kernel release of the recording machine (`uname -r`).";
    command: StrList, "", "The command line rec started (empty when it only attached).";
    cwd: Str, "", "rec's working directory, where the command started.";
    start: Ts, "µs", "Wall-clock time the recording started.";
    end: Ts, "µs", "Wall-clock time of the last record.";
    duration_ns: I64, "ns", "From the start to the last record.";
    clean: Bool, "", "Whether the recording ended cleanly (trailer present). An unclean trace holds every complete chunk before the cut.";
    truncation: Str, "", "Why it is not clean (where the file was cut); NULL when clean.";
    chunks: I64, "", "Chunks in the file.";
    chunks_skipped: I64, "", "Chunks that could not be read (their records are missing from every table).";
    records: I64, "", "Records read.";
    calls: I64, "", "Rows in `calls` for this trace.";
    processes: I64, "", "Rows in `processes` for this trace.";
    records_dropped: I64, "", "Records rec reported it dropped (its `records dropped` note); 0 when none.";
    unknown_records: I64, "", "Records of kinds this analyzer does not know (skipped).";
    string_limit: I32, "bytes", "rec's `-s`: bytes captured of each string or buffer argument.";
    filter: Str, "", "rec's `-e` expression, empty for all syscalls.";
    cpu_times: Bool, "", "Whether syscall records carry CPU times (`calls.cpu_us`).";
});

table!(FilesTable, "files", "One row per path the trace touched, as `analyze files` counts them: successful operations by kind, failures by errno, bytes through descriptors opened by that path.", {
    trace_id: Str, "", "The trace's id.";
    path: Str, "", "Absolute path, as resolved when it was used (symbolic links not followed).";
    pids: IntList, "", "The processes (thread-group ids) that used it.";
    opens_read: I64, "", "Successful opens for reading.";
    opens_write: I64, "", "Successful opens for writing.";
    opens_read_write: I64, "", "Successful opens for reading and writing.";
    stats: I64, "", "Successful lookups that do not open (stat family, access, readlink).";
    execs: I64, "", "Successful execs of it.";
    creates: I64, "", "Creations (O_CREAT opens, mkdir, mknod, link and symlink targets).";
    unlinks: I64, "", "unlink and rmdir.";
    renames: I64, "", "Renames from or to it.";
    other: I64, "", "chdir, chmod, chown, truncate, utimensat, setxattr.";
    errors: I64, "", "Failed calls on it.";
    errnos: StrList, "", "Failed calls by errno, `ENOENT:3`.";
    bytes_read: I64, "bytes", "Bytes read through descriptors opened by this path.";
    bytes_written: I64, "bytes", "Bytes written through descriptors opened by this path.";
});

/// Every table, in the order EXPORT.md documents them.
pub const TABLES: [TableDoc; 6] = [
    Calls::DOC,
    Processes::DOC,
    Execs::DOC,
    Signals::DOC,
    FilesTable::DOC,
    Traces::DOC,
];

/// The tables as the Markdown of `analyzer/EXPORT.md` (a test checks the
/// file holds exactly this).
pub fn markdown() -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for t in &TABLES {
        let _ = writeln!(s, "### `{}`\n\n{}\n", t.name, t.doc);
        let _ = writeln!(s, "| column | type | unit | meaning |\n|---|---|---|---|");
        for c in t.columns {
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} |",
                c.name, c.sql_type, c.unit, c.doc
            );
        }
        s.push('\n');
    }
    s
}
