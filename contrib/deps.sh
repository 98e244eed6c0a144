# Shared by contrib/check.sh and contrib/demo.sh (sourced, not run): the
# Debian packages Fairway builds, tests and demos with, and the installer
# that adds only those missing.  The caller defines say().
PACKAGES="build-essential autoconf automake libtool pkg-config libevent-dev libssl-dev
libinih-dev check libpq-dev postgresql postgresql-contrib pgbouncer openssl"
# Only contrib/fuzz.sh needs these (clang with libFuzzer).
# shellcheck disable=SC2034 # used by contrib/fuzz.sh
FUZZ_PACKAGES="clang libclang-rt-14-dev"

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
