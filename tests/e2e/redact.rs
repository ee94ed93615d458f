//! Redaction: secrets planted in a recording (an environment variable, a
//! file's content, an HTTP Authorization header sent over loopback, argv
//! passwords) are in the trace as recorded, and in no stream of the trace
//! after `analyze redact` (every zstd frame of the file decompressed and
//! searched, besides the raw bytes); the process tree, the syscall counts and
//! the paths stay the same, and the views say what was dropped.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ptrec_tests::{analyze, bin, tracee};

/// The file's bytes followed by the content of every zstd frame in it:
/// the header is stored raw, every chunk's streams are zstd frames.
fn every_stream(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).expect("read trace");
    let mut all = raw.clone();
    let magic = [0x28, 0xb5, 0x2f, 0xfd];
    let mut frames = 0;
    for i in 0..raw.len().saturating_sub(4) {
        if raw[i..i + 4] != magic {
            continue;
        }
        let mut d = match zstd::stream::read::Decoder::with_buffer(&raw[i..]) {
            Ok(d) => d.single_frame(),
            Err(_) => continue,
        };
        let mut out = Vec::new();
        if d.read_to_end(&mut out).is_ok() {
            frames += 1;
            all.extend_from_slice(&out);
        }
    }
    assert!(frames > 0, "no zstd frame found in {}", path.display());
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

struct Planted {
    dir: tempfile::TempDir,
    trace: PathBuf,
    env: String,
    file: String,
    http: String,
    argv_eq: String,
    argv_next: String,
}

impl Planted {
    fn all(&self) -> [&str; 5] {
        [
            &self.env,
            &self.file,
            &self.http,
            &self.argv_eq,
            &self.argv_next,
        ]
    }
}

/// Records a shell that reads a secret file, then execs the loopback HTTP
/// tracee (which reads its bearer token from stdin), with a secret in the
/// environment and two in argv; `rec_args` are extra rec options.
fn record_secrets(rec_args: &[&str]) -> (Planted, String) {
    let tag = format!(
        "{}x{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .subsec_nanos()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let p = Planted {
        trace: dir.path().join("t.bin"),
        env: format!("ENVSECRET{tag}"),
        file: format!("FILESECRET{tag}"),
        http: format!("HTTPSECRET{tag}"),
        argv_eq: format!("ARGVSECRET{tag}"),
        argv_next: format!("ARGVTOKEN{tag}"),
        dir,
    };
    let netrc = p.dir.path().join("netrc");
    std::fs::write(
        &netrc,
        format!("machine example.org login me password {}\n", p.file),
    )
    .expect("write netrc");
    let mut child = Command::new(bin("rec"))
        .args(rec_args)
        .arg("-o")
        .arg(&p.trace)
        .args([
            "--",
            "sh",
            "-c",
            r#"cat "$1" > /dev/null && exec "$2""#,
            "sh",
        ])
        .arg(&netrc)
        .arg(tracee("http_loopback"))
        .arg(format!("--password={}", p.argv_eq))
        .args(["--token", &p.argv_next])
        .env("MY_API_TOKEN", &p.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rec");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{}\n", p.http).as_bytes())
        .expect("write token");
    drop(stdin);
    let o = child.wait_with_output().expect("rec");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("served "),
        "the HTTP exchange failed"
    );
    (p, err)
}

/// What must not change: the process tree (exec filenames, parents,
/// exits), the syscall counts, and the paths opened.
fn same_shape(a: &Path, b: &Path) {
    let a_s = a.to_str().expect("utf8");
    let b_s = b.to_str().expect("utf8");
    let tree = |p: &str| -> Vec<(i64, String, String)> {
        let j: serde_json::Value =
            serde_json::from_str(&analyze(&["tree", "--json"], p)).expect("tree json");
        j["processes"]
            .as_array()
            .expect("processes")
            .iter()
            .map(|p| {
                let files: Vec<String> = p["execs"]
                    .as_array()
                    .expect("execs")
                    .iter()
                    .map(|e| e["filename"].to_string())
                    .collect();
                (
                    p["pid"].as_i64().expect("pid"),
                    format!("{} {}", p["parent"], p["exit"]),
                    files.join(","),
                )
            })
            .collect()
    };
    assert_eq!(tree(a_s), tree(b_s));
    let counts = |p: &str| -> serde_json::Value {
        let mut j: serde_json::Value =
            serde_json::from_str(&analyze(&["summary", "--json"], p)).expect("summary json");
        for s in j["syscalls"].as_array_mut().expect("syscalls") {
            s["seconds"] = serde_json::Value::Null;
        }
        j["syscalls"].clone()
    };
    assert_eq!(counts(a_s), counts(b_s));
    let opens = |p: &str| analyze(&["replay", "-e", "trace=openat,connect,bind"], p);
    let o = opens(a_s);
    assert!(o.contains("netrc"), "{o}");
    assert_eq!(o, opens(b_s));
}

#[test]
fn analyze_redact_removes_every_planted_secret_from_every_stream_and_keeps_the_shape() {
    let (p, err) = record_secrets(&[]);
    // rec says that the trace holds the environment and buffers.
    assert!(err.contains("analyze redact"), "{err}");
    let recorded = every_stream(&p.trace);
    for s in p.all() {
        assert!(
            contains(&recorded, s),
            "{s} was not recorded: the test plants nothing"
        );
    }
    let out = p.dir.path().join("r.bin");
    let o = Command::new(bin("analyze"))
        .arg("redact")
        .arg(&p.trace)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("analyze redact");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let redacted = every_stream(&out);
    for s in p.all() {
        assert!(
            !contains(&redacted, s),
            "{s} is still in the redacted trace"
        );
    }
    assert!(
        std::fs::metadata(&out).expect("stat").len()
            < std::fs::metadata(&p.trace).expect("stat").len()
    );
    same_shape(&p.trace, &out);

    // The views say what was dropped, with its length.
    let o = out.to_str().expect("utf8");
    let env = analyze(&["env"], o);
    let want = format!("MY_API_TOKEN=<redacted {} bytes>", p.env.len());
    assert!(env.contains(&want), "{env}");
    assert!(env.lines().any(|l| l.starts_with("PATH=/")), "{env}");
    let info = analyze(&["info"], o);
    assert!(
        info.contains("redaction:        policy 'default' applied at"),
        "{info}"
    );
    let tree = analyze(&["tree"], o);
    let want = format!("\"--password=\"<redacted {} bytes>", p.argv_eq.len());
    assert!(tree.contains(&want), "{tree}");
    let want = format!("\"--token\", \"\"<redacted {} bytes>", p.argv_next.len());
    assert!(tree.contains(&want), "{tree}");
    let replay = analyze(&["replay", "-e", "trace=read,write"], o);
    assert!(replay.contains("read(0, <redacted "), "{replay}");
    assert!(!replay.contains("Authorization"), "{replay}");
    // A second redaction changes nothing more and says both policies.
    let again = p.dir.path().join("r2.bin");
    let st = Command::new(bin("analyze"))
        .args(["redact", "--redact", "secrets"])
        .arg(&out)
        .arg("-o")
        .arg(&again)
        .output()
        .expect("analyze redact");
    assert!(st.status.success());
    let info = analyze(&["info"], again.to_str().expect("utf8"));
    assert!(info.contains("policy 'default,secrets'"), "{info}");
}

#[test]
fn a_selective_policy_drops_only_what_it_names() {
    // -y: the socket's descriptor is named as /proc names it.
    let (p, _) = record_secrets(&["-q", "-y"]);
    let out = p.dir.path().join("r.bin");
    // Socket buffers and secrets only: the file read stays, the HTTP header
    // and the argv secrets go; the environment keeps non-secret values. The
    // header's token came in on stdin, a pipe (rec records what the
    // command's descriptors are), and that read keeps it.
    let o = Command::new(bin("analyze"))
        .args(["redact", "--redact", "buffers=sockets,secrets"])
        .arg(&p.trace)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("analyze redact");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let redacted = every_stream(&out);
    assert!(
        contains(&redacted, &p.file),
        "the file's content was dropped too"
    );
    for s in [&p.argv_eq, &p.argv_next, &p.env] {
        assert!(!contains(&redacted, s), "{s} is still in the trace");
    }
    let o = out.to_str().expect("utf8");
    let replay = analyze(&["replay", "-y", "-s", "256", "-e", "trace=read,write"], o);
    let with_token: Vec<&str> = replay
        .lines()
        .filter(|l| l.contains(&p.http))
        .map(|l| l.split_once("] ").map_or(l, |x| x.1))
        .collect();
    assert!(
        with_token.len() == 1 && with_token[0].starts_with("read(0<pipe:["),
        "{replay}"
    );
    assert!(
        replay
            .lines()
            .any(|l| l.contains("<socket:[") && l.contains("<redacted ")),
        "{replay}"
    );
    let env = analyze(&["env"], o);
    assert!(env.lines().any(|l| l.starts_with("PATH=/")), "{env}");
    same_shape(&p.trace, &out);
}

#[test]
fn a_bad_policy_is_one_error_line() {
    let d = tempfile::tempdir().expect("tempdir");
    let t = d.path().join("t.bin");
    let st = Command::new(bin("rec"))
        .arg("-q")
        .arg("-o")
        .arg(&t)
        .args(["--", "true"])
        .status()
        .expect("rec");
    assert!(st.success());
    let o = Command::new(bin("analyze"))
        .args(["redact", "--redact", "env=maybe"])
        .arg(&t)
        .arg("-o")
        .arg(d.path().join("r.bin"))
        .output()
        .expect("analyze");
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("unknown rule 'env=maybe'"), "{e}");
    assert!(!d.path().join("r.bin").exists());
}

#[test]
fn rec_redact_default_keeps_every_planted_secret_off_the_disk() {
    let (p, err) = record_secrets(&["--redact", "default"]);
    // Nothing left to warn about.
    assert!(!err.contains("analyze redact"), "{err}");
    let recorded = every_stream(&p.trace);
    for s in p.all() {
        assert!(!contains(&recorded, s), "{s} reached the disk");
    }
    let t = p.trace.to_str().expect("utf8");
    let info = analyze(&["info"], t);
    assert!(
        info.contains("redaction:        policy 'default' applied at"),
        "{info}"
    );
    let env = analyze(&["env"], t);
    let want = format!("MY_API_TOKEN=<redacted {} bytes>", p.env.len());
    assert!(env.contains(&want), "{env}");
    // The shape is all there: three processes (sh exec'ing the tracee, cat,
    // the HTTP client), the paths, the exits.
    let tree: serde_json::Value =
        serde_json::from_str(&analyze(&["tree", "--json"], t)).expect("tree json");
    let procs = tree["processes"].as_array().expect("processes");
    assert_eq!(procs.len(), 3, "{tree}");
    assert!(procs.iter().all(|p| p["exit"]["code"] == 0), "{tree}");
    let opens = analyze(&["replay", "-e", "trace=openat"], t);
    assert!(opens.contains("netrc\", O_RDONLY"), "{opens}");
}

#[test]
fn paths_hash_with_a_key_keeps_equal_paths_equal_and_names_gone() {
    let (p, _) = record_secrets(&["-q"]);
    let redact = |key: &str, name: &str| {
        let out = p.dir.path().join(name);
        let o = Command::new(bin("analyze"))
            .args(["redact", "--redact", "paths=hash"])
            .arg(&p.trace)
            .arg("-o")
            .arg(&out)
            .env("PTREC_REDACT_KEY", key)
            .output()
            .expect("analyze redact");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        analyze(
            &["replay", "-e", "trace=openat"],
            out.to_str().expect("utf8"),
        )
    };
    let (a, b, c) = (
        redact("k1", "a.bin"),
        redact("k1", "b.bin"),
        redact("k2", "c.bin"),
    );
    assert!(!a.contains("netrc") && !a.contains("/etc/"), "{a}");
    // The same key, the same hashes; another key, others.
    assert_eq!(a, b);
    assert_ne!(a, c);
    // As many opens as before, and the libc that every process opens is
    // one hashed path.
    let plain = analyze(
        &["replay", "-e", "trace=openat"],
        p.trace.to_str().expect("utf8"),
    );
    assert_eq!(a.lines().count(), plain.lines().count());
    let libc = "\"/lib/x86_64-linux-gnu/libc.so.6\"";
    let libc_lines: Vec<&str> = plain.lines().filter(|l| l.contains(libc)).collect();
    assert!(libc_lines.len() >= 2, "{plain}");
    let hashed: BTreeSet<String> = a
        .lines()
        .zip(plain.lines())
        .filter(|(_, p)| p.contains(libc))
        .map(|(h, _)| h.split('"').nth(1).unwrap_or_default().to_string())
        .collect();
    assert_eq!(hashed.len(), 1, "{hashed:?}");
}
