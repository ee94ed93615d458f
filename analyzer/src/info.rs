//! `analyze info`: header, chunks, records by kind, integrity.

use std::fmt::Write;

use ptrec_format::{note_kind, Kind, Trace};

use crate::decode::{escaped, secs};
use crate::stats::{self, Event, ScanOptions};

pub fn run(t: &Trace, json: bool) -> anyhow::Result<()> {
    if json {
        crate::out(&(self::json(t)? + "\n"))
    } else {
        crate::out(&text(t)?)
    }
}

/// `info --json`: the header, the chunks and the fidelity report.
pub fn json(t: &Trace) -> anyhow::Result<String> {
    let arch = stats::arch(t)?;
    let h = t.header();
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let o = &h.options;
    let v = serde_json::json!({
        "file": t.path().display().to_string(),
        "format_version": t.version(),
        "recorder": h.recorder_version,
        "trace_id": h.trace_id().to_string(),
        "arch": h.arch,
        "arch_name": arch.name(),
        "reg_layout": h.reg_layout,
        "kernel": h.kernel_release,
        "hostname": h.hostname,
        "page_size": h.page_size,
        "start_wall_ns": h.start_wall_ns,
        "command": h.argv.iter().map(|a| lossy(a)).collect::<Vec<_>>(),
        "cwd": lossy(&h.cwd),
        "environment_variables": h.env.len(),
        "string_limit": o.string_limit,
        "filter": o.filter,
        "filter_mode": o.filter_mode,
        "attached_pids": o.attach_pids,
        "redaction": h.redaction.as_ref().map(|r| serde_json::json!({
            "policy": r.policy,
            "applied_wall_ns": r.applied_wall_ns,
        })),
        "chunks": t.chunks().len(),
        "ended_cleanly": t.truncation().is_none(),
        "fidelity": crate::fidelity::report(t, arch),
    });
    Ok(serde_json::to_string_pretty(&v)?)
}

pub fn text(t: &Trace) -> anyhow::Result<String> {
    let arch = stats::arch(t)?;
    let h = t.header();
    let mut s = String::new();
    let _ = writeln!(s, "file:             {}", t.path().display());
    let _ = writeln!(s, "format version:   {}", t.version());
    let _ = writeln!(
        s,
        "recorder:         {}",
        escaped(h.recorder_version.as_bytes())
    );
    let _ = writeln!(s, "arch:             {:#x} ({})", h.arch, arch.name());
    let _ = writeln!(
        s,
        "register layout:  {} ({}: {} registers)",
        h.reg_layout,
        arch.name(),
        arch.reg_layout().count()
    );
    let _ = writeln!(
        s,
        "kernel:           {}",
        escaped(h.kernel_release.as_bytes())
    );
    let _ = writeln!(s, "hostname:         {}", escaped(h.hostname.as_bytes()));
    let _ = writeln!(s, "page size:        {}", h.page_size);
    let _ = writeln!(
        s,
        "start:            {} ({} ns since the epoch)",
        crate::clock::local_text(h.start_wall_ns),
        h.start_wall_ns
    );
    let _ = writeln!(s, "command:          {}", crate::command_text(t));
    let _ = writeln!(s, "cwd:              {}", escaped(&h.cwd));
    let _ = writeln!(
        s,
        "environment:      {} variables ({} values redacted; analyze env shows them)",
        h.env.len(),
        h.env_redacted.len()
    );
    match &h.redaction {
        Some(r) => {
            let _ = writeln!(
                s,
                "redaction:        policy '{}' applied at {} ns since the epoch",
                escaped(r.policy.as_bytes()),
                r.applied_wall_ns
            );
        }
        None => {
            let _ = writeln!(
                s,
                "redaction:        none (environment and buffers as recorded: analyze redact)"
            );
        }
    }
    let o = &h.options;
    let _ = writeln!(s, "string limit:     {}", o.string_limit);
    let _ = writeln!(
        s,
        "filter:           {}",
        if o.filter.is_empty() {
            "all".to_string()
        } else {
            escaped(o.filter.as_bytes())
        }
    );
    let _ = writeln!(s, "filter mode:      {}", escaped(o.filter_mode.as_bytes()));
    if !o.attach_pids.is_empty() {
        let _ = writeln!(s, "attached pids:    {:?}", o.attach_pids);
    }
    let _ = writeln!(s, "cpu times:        {}", o.cpu_times);
    let _ = writeln!(s, "registers:        {}", o.registers);
    if !h.wait_policy.is_empty() {
        let _ = writeln!(s, "wait policy:      {}", escaped(h.wait_policy.as_bytes()));
    }

    // Decoding every stream of every chunk verifies every checksum and
    // every record; a chunk that fails is skipped and named below.
    let so = ScanOptions {
        full: true,
        ..ScanOptions::default()
    };
    let p = stats::scan(t, &so).and_then(|p| {
        // "ok" only when every stream of every chunk decoded and the
        // sequence has no duplicate, reordered or missing chunk.
        let mut bad: Vec<String> = t.skipped().iter().map(|s| s.to_string()).collect();
        bad.extend(t.gaps().iter().map(|g| g.to_string()));
        bad.extend(
            p.skipped
                .iter()
                .map(|k| format!("chunk {} unreadable: {}", k.chunk, k.reason)),
        );
        match bad.first() {
            None => Ok(p),
            Some(first) => Err(anyhow::anyhow!(
                "{} problem(s) in {} chunks; first: {first}",
                bad.len(),
                t.chunks().len() + t.skipped().len()
            )),
        }
    });
    let _ = writeln!(s, "chunks:           {}", t.chunks().len());
    match &p {
        Ok(p) => {
            let _ = writeln!(s, "records:          {}", p.records);
            for k in Kind::ALL {
                let n = p.by_kind[k as usize];
                if n > 0 {
                    let _ = writeln!(s, "  {:<16}{n}", k.name());
                }
            }
            if p.unknown > 0 {
                let _ = writeln!(s, "  {:<16}{}", "unknown kinds", p.unknown);
            }
            let first = p.first_time.unwrap_or(0);
            let _ = writeln!(
                s,
                "time range:       +{}s .. +{}s after start ({}s)",
                secs(first.saturating_sub(h.start_mono_ns)),
                secs(p.last_time.saturating_sub(h.start_mono_ns)),
                secs(p.last_time.saturating_sub(first))
            );
            let ratio = if p.compressed > 0 {
                p.uncompressed as f64 / p.compressed as f64
            } else {
                0.0
            };
            let _ = writeln!(
                s,
                "size:             {} bytes on disk, {} bytes of records, {} compressed ({ratio:.2}x)",
                t.file_len(),
                p.uncompressed,
                p.compressed
            );
            if t.version() >= 2 {
                let [ev, tm, de] = p.streams;
                let _ = writeln!(
                    s,
                    "streams:          events {} -> {}, times {} -> {}, detail {} -> {} bytes",
                    ev.1, ev.0, tm.1, tm.0, de.1, de.0
                );
            }
            let _ = writeln!(
                s,
                "integrity:        ok ({} chunks, every checksum verified, every stream decoded)",
                t.chunks().len()
            );
            for e in &p.events {
                if let Event::Note {
                    kind, value, text, ..
                } = e
                {
                    match *kind {
                        note_kind::END => {
                            let _ = writeln!(s, "end:              rec exited with status {value}");
                        }
                        note_kind::ABNORMAL_END => {
                            let _ = writeln!(s, "abnormal end:     {}", escaped(text));
                        }
                        note_kind::RECORDS_DROPPED => {
                            let _ = writeln!(s, "records dropped:  {value}");
                        }
                        _ => {}
                    }
                }
            }
        }
        Err(e) => {
            let _ = writeln!(s, "integrity:        FAILED: {e:#}");
        }
    }
    match t.truncation() {
        None => {
            let _ = writeln!(s, "ended:            cleanly (trailer present)");
        }
        Some(c) => {
            let _ = writeln!(s, "ended:            NOT cleanly: {c}");
        }
    }
    s.push_str(&crate::fidelity::report(t, arch).text());
    if let Err(e) = p {
        crate::out(&s)?;
        return Err(e);
    }
    Ok(s)
}
