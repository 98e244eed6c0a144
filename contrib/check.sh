#!/bin/sh
# The test command (README and .ci/run call exactly this): installs what is
# missing on Debian 12, builds Fairway with AddressSanitizer and
# UndefinedBehaviorSanitizer out of tree in build-check/, and runs the whole
# test suite (unit + integration) under them. Exits non-zero on any failure.
#
# Works as root from a fresh clone anywhere (also under /root): PostgreSQL
# and the daemon under test run as user "postgres" (FAIRWAY_TEST_PGUSER) in
# their own temporary directories, never in the source tree.
#
# Then runs every libFuzzer harness briefly (contrib/fuzz.sh).
#
# Environment: BUILD_DIR (default build-check), MAKE_JOBS (default 2),
# CONFIGURE_FLAGS (extra ./configure flags), FUZZ_SECONDS (per harness,
# default 15; 0 skips fuzzing), and the test variables of
# tests/integration/main.c (CK_RUN_SUITE, CK_RUN_CASE, FAIRWAY_TEST_KEEP).
set -eu


cd "$(dirname "$0")/.."
SRCDIR=$(pwd)
BUILD_DIR=${BUILD_DIR:-build-check}
MAKE_JOBS=${MAKE_JOBS:-2}

say() {
	printf 'check.sh: %s\n' "$*"
}

# shellcheck source=contrib/deps.sh
. "$(pwd)/contrib/deps.sh"

print_logs() {
	say "the test suite failed; logs follow"
	for log in "$BUILD_DIR/test-suite.log" "$BUILD_DIR"/tests/*/test_*.log; do
		[ -f "$log" ] || continue
		printf '\n======== %s ========\n' "$log"
		cat "$log"
	done
}

install_missing

if [ -f "$SRCDIR/config.status" ]; then
	say "the source tree was configured in place; run 'make distclean' there first" >&2
	exit 1
fi

say "autogen"
./autogen.sh

mkdir -p "$BUILD_DIR"
cd "$BUILD_DIR"
say "configure --enable-asan in $BUILD_DIR"
# shellcheck disable=SC2086 # extra flags are meant to split
"$SRCDIR/configure" --enable-asan ${CONFIGURE_FLAGS:-}

say "make"
make -j"$MAKE_JOBS"

say "make check (unit + integration, ASan/UBSan)"
cd "$SRCDIR"
if ! make -C "$BUILD_DIR" -j"$MAKE_JOBS" check; then
	print_logs
	exit 1
fi

# Every libFuzzer harness for a short, bounded time (FUZZ_SECONDS each, 0 to
# skip): a crash, sanitizer report, leak or timeout fails the check.
if [ "${FUZZ_SECONDS:-15}" -gt 0 ]; then
	say "fuzz: each harness for ${FUZZ_SECONDS:-15} s"
	FUZZ_JOBS=${FUZZ_JOBS:-2} contrib/fuzz.sh "${FUZZ_SECONDS:-15}" "$BUILD_DIR/fuzz"
fi
say "all tests passed"
