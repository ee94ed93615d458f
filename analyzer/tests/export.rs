//! `analyze export`'s schema documentation: analyzer/EXPORT.md documents
//! every column of every table with the type and unit the writer uses;
//! the files are laid out, compressed and summarized as EXPORT.md says.

use std::path::Path;

use parquet::basic::{Compression, Encoding};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::statistics::Statistics;
use ptrec_analyzer::export::schema;

use crate::helpers::{analyze, forktree, many_calls, stdout, tmp};

const BEGIN: &str = "<!-- tables: generated from analyzer/src/export/schema.rs -->\n";
const END: &str = "<!-- end of tables -->";

#[test]
fn export_md_documents_every_column_with_its_type_and_unit() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/EXPORT.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let (head, rest) = doc
        .split_once(BEGIN)
        .expect("EXPORT.md has the tables marker");
    let (tables, tail) = rest.split_once(END).expect("EXPORT.md has the end marker");
    let want = schema::markdown();
    if std::env::var_os("PTREC_BLESS").is_some() {
        std::fs::write(path, format!("{head}{BEGIN}{want}{END}{tail}")).unwrap();
        return;
    }
    assert_eq!(
        tables, want,
        "EXPORT.md's tables differ from the schema (PTREC_BLESS=1 rewrites them)"
    );
    // Every table the export writes is documented, once.
    for t in &schema::TABLES {
        assert_eq!(
            doc.matches(&format!("### `{}`", t.name)).count(),
            1,
            "{}",
            t.name
        );
    }
}

/// Every Parquet file of the export: (path relative to DIR, metadata).
fn parquet_files(dir: &Path) -> Vec<(String, ParquetMetaData)> {
    let mut v = Vec::new();
    for table in std::fs::read_dir(dir).unwrap() {
        let table = table.unwrap().path();
        for part in std::fs::read_dir(&table).unwrap() {
            let part = part.unwrap().path();
            for f in std::fs::read_dir(&part).unwrap() {
                let f = f.unwrap().path();
                let r = SerializedFileReader::new(std::fs::File::open(&f).unwrap()).unwrap();
                let rel = f.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                v.push((rel, r.metadata().clone()));
            }
        }
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn parquet_is_hive_partitioned_zstd_with_statistics_and_row_groups_for_parallel_scans() {
    let dir = tempfile::tempdir().unwrap();
    let trace = tmp(&dir, "t.bin");
    many_calls(&trace, 300_000);
    let out = tmp(&dir, "ds");
    let o = analyze(&[
        "export",
        "-o",
        out.to_str().unwrap(),
        trace.to_str().unwrap(),
    ]);
    stdout(&o);
    let id = ptrec_format::Trace::open(&trace)
        .unwrap()
        .trace_id()
        .to_string();
    let files = parquet_files(&out);
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    let want: Vec<String> = ["calls", "execs", "files", "processes", "signals", "traces"]
        .iter()
        .map(|t| format!("{t}/trace={id}/part-0.parquet"))
        .collect();
    assert_eq!(names, want);
    let (_, calls) = &files[0];
    // 300,001 calls: two full row groups of 128 Ki rows and the rest.
    assert_eq!(calls.file_metadata().num_rows(), 300_001);
    let groups: Vec<i64> = calls.row_groups().iter().map(|g| g.num_rows()).collect();
    assert_eq!(groups, [131_072, 131_072, 37_857]);
    for g in calls.row_groups() {
        for c in g.columns() {
            // (The file records the codec, not its level.)
            assert!(
                matches!(c.compression(), Compression::ZSTD(_)),
                "{}: {:?}",
                c.column_path(),
                c.compression()
            );
            assert!(c.statistics().is_some(), "{}", c.column_path());
        }
    }
    // Times as deltas (a few bits a row where plain takes 64), names by
    // dictionary.
    let encodings = |name: &str| {
        let c = calls.row_groups()[0]
            .columns()
            .iter()
            .find(|c| c.column_path().string() == name)
            .unwrap();
        c.encodings().collect::<Vec<_>>()
    };
    assert!(
        encodings("enter_time").contains(&Encoding::DELTA_BINARY_PACKED),
        "{:?}",
        encodings("enter_time")
    );
    assert!(
        encodings("syscall").contains(&Encoding::RLE_DICTIONARY),
        "{:?}",
        encodings("syscall")
    );
    // The statistics a reader prunes with: `nr` is 110 (getppid) in
    // every row of the first group.
    let nr = calls.row_groups()[0]
        .columns()
        .iter()
        .find(|c| c.column_path().string() == "nr")
        .unwrap();
    match nr.statistics().unwrap() {
        Statistics::Int32(s) => {
            assert_eq!((s.min_opt(), s.max_opt()), (Some(&110), Some(&110)));
        }
        s => panic!("nr statistics {s:?}"),
    }
    // Private, as the trace is: files 0600, directories 0700.
    use std::os::unix::fs::PermissionsExt;
    let part = out.join(&files[0].0);
    assert_eq!(
        std::fs::metadata(&part).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let pdir = part.parent().unwrap();
    assert_eq!(
        std::fs::metadata(pdir).unwrap().permissions().mode() & 0o777,
        0o700
    );
}

#[test]
fn ndjson_rows_carry_every_column_null_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let trace = tmp(&dir, "t.bin");
    forktree(&trace);
    let out = tmp(&dir, "ds");
    let o = analyze(&[
        "export",
        "-o",
        out.to_str().unwrap(),
        "--format",
        "ndjson",
        trace.to_str().unwrap(),
    ]);
    stdout(&o);
    let id = ptrec_format::Trace::open(&trace)
        .unwrap()
        .trace_id()
        .to_string();
    for (t, cols) in schema::TABLES.iter().map(|t| (t.name, t.columns)) {
        let f = out
            .join(t)
            .join(format!("trace={id}"))
            .join("part-0.ndjson");
        // A table without rows has no NDJSON part (forktree opens no file).
        let Ok(text) = std::fs::read_to_string(&f) else {
            assert_eq!(t, "files");
            continue;
        };
        assert!(!text.is_empty(), "{t}");
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            let mut want: Vec<&str> = cols.iter().map(|c| c.name).collect();
            want.sort_unstable();
            let mut keys = keys;
            keys.sort_unstable();
            assert_eq!(keys, want, "{t}: {line}");
            assert_eq!(v["trace_id"], id.as_str());
        }
    }
}
