#!/bin/sh
# cargo_test.sh [setup|run]: `cargo test` of a small generated crate (no
# dependencies, 48 tests that hash a file they write and read back), run
# with the test harness's default thread count (one per CPU), in
# $BENCH_TMP/cargotest. `setup` generates and builds it once; `run`
# (default) runs `cargo test --offline -q` (cargo checks freshness, then
# runs the test binary). Prints nothing; exit status is cargo's.
set -e
W=${BENCH_TMP:-/tmp/ptbench}/cargotest
NTESTS=${CARGO_NTESTS:-48}

setup() {
	[ -f "$W/.ready-$NTESTS" ] && return 0
	rm -rf "$W"; mkdir -p "$W/src"
	printf '[package]\nname = "benchtests"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n' > "$W/Cargo.toml"
	{
		echo 'pub fn work(seed: u64, dir: &std::path::Path) -> u64 {'
		echo '    let path = dir.join(format!("f{seed}"));'
		echo '    let mut h = seed;'
		echo '    for round in 0..40u64 {'
		echo '        let data: Vec<u8> = (0..16384u64).map(|i| (i.wrapping_mul(h ^ round) >> 7) as u8).collect();'
		echo '        std::fs::write(&path, &data).unwrap();'
		echo '        let back = std::fs::read(&path).unwrap();'
		echo '        for (i, b) in back.iter().enumerate() { h = h.rotate_left(5) ^ (*b as u64) ^ i as u64; }'
		echo '    }'
		echo '    std::fs::remove_file(&path).unwrap();'
		echo '    h'
		echo '}'
		echo '#[cfg(test)]'
		echo 'mod tests {'
		i=0
		while [ $i -lt "$NTESTS" ]; do
			echo "    #[test] fn t$i() { let d = std::env::temp_dir().join(\"benchtests-$i\"); std::fs::create_dir_all(&d).unwrap(); assert_ne!(super::work($i, &d), 1); }"
			i=$((i + 1))
		done
		echo '}'
	} > "$W/src/lib.rs"
	(cd "$W" && cargo test --offline -q --no-run >/dev/null 2>&1)
	touch "$W/.ready-$NTESTS"
}

run() {
	setup
	cd "$W"
	cargo test --offline -q >/dev/null 2>&1
}

case "${1:-run}" in
setup) setup ;;
run) run ;;
*) echo "usage: $0 [setup|run]" >&2; exit 2 ;;
esac
