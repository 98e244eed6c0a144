#!/bin/sh
# Builds the libFuzzer harnesses of tests/fuzz/ with clang (address +
# undefined sanitizers) and runs each for a while from its seed corpus.
# Fails on any crash, sanitizer report, leak, timeout or out-of-memory.
#
#   contrib/fuzz.sh [seconds-per-harness [build-dir [harness...]]]
#
# Defaults: 30 seconds, /tmp/fairway-fuzz, every harness.  Installs what is
# missing on Debian 12 as contrib/check.sh does, plus clang and
# libclang-rt-14-dev (FUZZ_PACKAGES in contrib/deps.sh); it compiles src/
# with clang on its own and does not touch the autotools build.  The corpus a
# run grows stays in the build dir (the seeds in tests/fuzz/corpus/ are
# only read); crash inputs are left there as crash-*, leak-*, timeout-*.
#
# Environment: CC (default clang), FUZZ_JOBS (harnesses run at once,
# default 1), FUZZ_FLAGS (extra libFuzzer flags).
set -eu

SECONDS_EACH=${1:-30}
BUILD=${2:-/tmp/fairway-fuzz}
if [ $# -ge 2 ]; then shift 2; else shift $#; fi
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
cd "$(dirname "$0")/.."
SRCDIR=$(pwd)
CC=${CC:-clang}
FUZZ_JOBS=${FUZZ_JOBS:-1}

say() {
	printf 'fuzz.sh: %s\n' "$*"
}

# shellcheck source=contrib/deps.sh
. "$SRCDIR/contrib/deps.sh"
PACKAGES="$PACKAGES $FUZZ_PACKAGES"
install_missing
if ! command -v "$CC" >/dev/null 2>&1; then
	say "$CC not found: apt-get install $FUZZ_PACKAGES" >&2
	exit 1
fi

HARNESSES=$*
if [ -z "$HARNESSES" ]; then
	for f in tests/fuzz/fuzz_*.c; do
		f=${f#tests/fuzz/fuzz_}
		HARNESSES="$HARNESSES ${f%.c}"
	done
fi
CFLAGS="-std=c11 -D_GNU_SOURCE -iquote $SRCDIR/src -g -O1 -fno-omit-frame-pointer
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
	-Wall -Wextra -Werror $(pkg-config --cflags libevent openssl inih)"
LIBS=$(pkg-config --libs libevent openssl inih)

mkdir -p "$BUILD/obj"
say "compiling src/ into $BUILD/obj"
objs=""
for src in src/*.c; do
	name=$(basename "$src" .c)
	[ "$name" = main ] && continue # the daemon's main(); libFuzzer brings its own
	obj="$BUILD/obj/$name.o"
	# shellcheck disable=SC2086 # flags are meant to split
	$CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
	objs="$objs $obj"
done

for h in $HARNESSES; do
	say "linking fuzz_$h"
	# shellcheck disable=SC2086
	$CC $CFLAGS -fsanitize=fuzzer "tests/fuzz/fuzz_$h.c" $objs $LIBS -o "$BUILD/fuzz_$h"
done

[ "$SECONDS_EACH" -eq 0 ] && { say "built; not running (0 seconds)"; exit 0; }

# One harness: a working corpus seeded from the committed one, then a timed run.
run_one() {
	h=$1
	work="$BUILD/corpus/$h"
	mkdir -p "$work" "$BUILD/artifacts/$h"
	dict=""
	[ -f "$SRCDIR/tests/fuzz/$h.dict" ] && dict="-dict=$SRCDIR/tests/fuzz/$h.dict"
	seeds=""
	[ -d "$SRCDIR/tests/fuzz/corpus/$h" ] && seeds="$SRCDIR/tests/fuzz/corpus/$h"
	# shellcheck disable=SC2086
	if "$BUILD/fuzz_$h" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$h/" $dict \
		${FUZZ_FLAGS:-} "$work" $seeds >"$BUILD/$h.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/$h.log")
		cov=$(grep -E '^#[0-9]+' "$BUILD/$h.log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
		say "$h: ok ($execs execs, $cov)"
		return 0
	fi
	say "$h: FAILED; log $BUILD/$h.log, inputs in $BUILD/artifacts/$h/" >&2
	grep -E 'ERROR|SUMMARY|Test unit written' "$BUILD/$h.log" | head -n 5 >&2
	return 1
}

failed=0
running=0
pids=""
for h in $HARNESSES; do
	run_one "$h" &
	pids="$pids $!"
	running=$((running + 1))
	if [ "$running" -ge "$FUZZ_JOBS" ]; then
		for p in $pids; do
			wait "$p" || failed=1
		done
		pids=""
		running=0
	fi
done
for p in $pids; do
	wait "$p" || failed=1
done
if [ "$failed" -ne 0 ]; then
	say "a harness failed"
	exit 1
fi
say "every harness ran ${SECONDS_EACH}s without a finding"
