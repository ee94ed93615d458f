//! Builds the C tracee programs of `tracees/` with gcc into OUT_DIR; the
//! tests find them through the TRACEES_DIR environment variable.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=tracees");
    let mut sources: Vec<PathBuf> = std::fs::read_dir("tracees")
        .expect("tests/tracees exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    for src in sources {
        println!("cargo:rerun-if-changed={}", src.display());
        let stem = src.file_stem().expect("a file name");
        let exe = out.join(stem);
        let st = Command::new("gcc")
            .args(["-O1", "-pthread", "-Wall", "-o"])
            .arg(&exe)
            .arg(&src)
            .status()
            .expect("gcc runs (install gcc to build the tracee programs)");
        assert!(st.success(), "gcc failed on {}", src.display());
    }
    println!("cargo:rustc-env=TRACEES_DIR={}", out.display());
}
