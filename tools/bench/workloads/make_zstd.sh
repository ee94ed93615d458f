#!/bin/sh
# make_zstd.sh [setup|run]: `make -j$(nproc)` of the zstd C library, from
# the sources the zstd-sys crate carries (in the cargo registry after any
# build of this workspace; ZSTD_SRC= names another zstd/lib), copied once
# into $BENCH_TMP/zstd by `setup` with a generated Makefile. Every CPU is
# busy compiling for 10-40 s. `run` (default) removes the objects and
# rebuilds. Prints nothing; exit status is make's.
set -e
W=${BENCH_TMP:-/tmp/ptbench}/zstd
JOBS=${MAKE_JOBS:-$(nproc)}

find_src() {
	if [ -n "${ZSTD_SRC:-}" ]; then echo "$ZSTD_SRC"; return; fi
	for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/zstd-sys-*/zstd/lib; do
		[ -f "$d/zstd.h" ] && { echo "$d"; return; }
	done
	echo "make_zstd: no zstd-sys sources in the cargo registry (build the workspace first, or set ZSTD_SRC)" >&2
	exit 1
}

setup() {
	src=$(find_src)
	[ "$(cat "$W/.ready" 2>/dev/null)" = "$src" ] && return 0
	rm -rf "$W"; mkdir -p "$W"
	cp -a "$src" "$W/lib"
	objs=$(cd "$W/lib" && ls common/*.c compress/*.c decompress/*.c dictBuilder/*.c | sed 's/\.c$/.o/' | tr '\n' ' ')
	printf 'CFLAGS = -O2 -DZSTD_DISABLE_ASM -DZSTD_MULTITHREAD -Ilib -Ilib/common\nOBJS = %s\nlibzstd.a: $(addprefix lib/,$(OBJS))\n\tar rcs $@ $^\n%%.o: %%.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\nclean:\n\trm -f $(addprefix lib/,$(OBJS)) libzstd.a\n' "$objs" > "$W/Makefile"
	echo "$src" > "$W/.ready"
}

run() {
	setup
	cd "$W"
	make -s clean >/dev/null
	make -s -j"$JOBS" >/dev/null
}

case "${1:-run}" in
setup) setup ;;
run) run ;;
*) echo "usage: $0 [setup|run]" >&2; exit 2 ;;
esac
