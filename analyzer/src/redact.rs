//! `analyze redact [--redact POLICY] TRACE -o OUT`: decodes every record,
//! applies the policy (`default` when none is given) with the
//! [`ptrec_redact::Redactor`] that `rec --redact` uses, and encodes the
//! result into an ordinary trace that every view reads.

use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{bail, Context};
use ptrec_format::{ChunkData, Trace, Writer, WriterOptions};
use ptrec_redact::{paths::PathHasher, Policy, Redactor};

/// Creates `out` for writing a trace that may still hold secrets: a new
/// 0600 file, never through a link; an existing regular file of the user's
/// own is replaced, anything else refused.
fn create_output(out: &Path) -> anyhow::Result<std::fs::File> {
    match std::fs::symlink_metadata(out) {
        Ok(m) => {
            // SAFETY: geteuid has no arguments and cannot fail.
            let euid = unsafe { libc::geteuid() };
            if !m.file_type().is_file() {
                bail!(
                    "{}: exists and is not a regular file: choose another output",
                    out.display()
                );
            }
            if m.uid() != euid {
                bail!(
                    "{}: belongs to uid {}, not to you: choose another output",
                    out.display(),
                    m.uid()
                );
            }
            std::fs::remove_file(out)
                .with_context(|| format!("cannot replace {}", out.display()))?;
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot look at {}", out.display())),
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(out)
        .with_context(|| format!("cannot create {}", out.display()))
}

pub fn run(t: &Trace, policy: Option<&str>, out: &Path) -> anyhow::Result<()> {
    let policy = match policy {
        Some(p) => Policy::parse(p)?,
        None => Policy::default_policy(),
    };
    let same = std::fs::metadata(out)
        .ok()
        .zip(std::fs::metadata(t.path()).ok())
        .is_some_and(|(a, b)| a.dev() == b.dev() && a.ino() == b.ino());
    if same {
        bail!("{}: the output is the input trace", out.display());
    }
    let hasher = if policy.hash_paths {
        Some(PathHasher::from_env_or_random().context("paths=hash: no key")?)
    } else {
        None
    };
    let mut red = Redactor::new(policy, hasher);
    let mut header = t.header().clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    red.header(&mut header, now);

    // Times are kept in the input's unit (rec writes microseconds).
    let mut scratch = Vec::new();
    let mut data = ChunkData::default();
    let unit = if t.chunks().is_empty() {
        1
    } else {
        t.read_chunk_into(0, &mut scratch, &mut data)
            .map_or(1, |()| data.time_unit.max(1))
    };
    let file = create_output(out)?;
    let opts = WriterOptions {
        time_unit_ns: unit,
        ..WriterOptions::default()
    };
    let mut w = Writer::from_file(file, &header, opts)
        .with_context(|| format!("writing {}", out.display()))?;
    let mut skipped = Vec::new();
    let mut error = None;
    for i in 0..t.chunks().len() {
        if let Err(e) = t.read_chunk_into(i, &mut scratch, &mut data) {
            skipped.push(format!("chunk {i}: {e}"));
            continue;
        }
        for r in data.records() {
            match r {
                Ok(r) => {
                    let res = red.record(&r, |r| w.write(r));
                    if let Err(e) = res {
                        error.get_or_insert(e);
                    }
                }
                Err(e) => {
                    skipped.push(format!("chunk {i}: {e} (its later records)"));
                    break;
                }
            }
        }
        if let Some(e) = error {
            return Err(e).with_context(|| format!("writing {}", out.display()));
        }
    }
    let stats = w
        .finish()
        .with_context(|| format!("writing {}", out.display()))?;
    let d = red.dropped();
    eprintln!(
        "analyze redact: policy '{}': {} environment values, {} buffers, {} secrets dropped ({} bytes), {} paths hashed; {} records, {} bytes written to {}",
        red.policy(),
        d.env_values,
        d.buffers,
        d.secrets,
        d.bytes,
        d.paths_hashed,
        stats.records,
        stats.file_bytes,
        out.display()
    );
    for s in &skipped {
        eprintln!("warning: {}: skipped {s}", t.path().display());
    }
    Ok(())
}
