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
# Environment: BUILD_DIR (default build-check), MAKE_JOBS (default 2),
# CONFIGURE_FLAGS (extra ./configure flags), and the test variables of
# tests/integration/main.c (CK_RUN_SUITE, CK_RUN_CASE, FAIRWAY_TEST_KEEP).
set -eu

PACKAGES="build-essential autoconf automake libtool pkg-config libevent-dev libssl-dev
libinih-dev check libpq-dev postgresql postgresql-contrib pgbouncer"

cd "$(dirname "$0")/.."
SRCDIR=$(pwd)
BUILD_DIR=${BUILD_DIR:-build-check}
MAKE_JOBS=${MAKE_JOBS:-2}

say() {
	printf 'check.sh: %s\n' "$*"
}

install_missing() {
	missing=""
	for p in $PACKAGES; do
		if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed"; then
			missing="$missing $p"
		fi
	done
	[ -z "$missing" ] && return 0
	say "installing missing packages:$missing"
	if [ "$(id -u)" -eq 0 ]; then
		sudo=""
	elif command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		say "not root and no sudo: install these first:$missing" >&2
		exit 1
	fi
	$sudo apt-get update
	# shellcheck disable=SC2086 # the package list is meant to split
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $PACKAGES
}

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
say "all tests passed"
