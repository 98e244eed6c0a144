#!/bin/sh
# The demo command: installs what is missing on Debian 12, builds Fairway
# (out of tree, in build-demo/), starts a throwaway PostgreSQL in a temporary
# directory, puts Fairway in front of it on port 6432, runs a short pgbench
# through it, shows SHOW POOLS, and waits. Ctrl-C stops both and removes the
# temporary directory.
#
# As root, PostgreSQL and Fairway run as user "postgres" (DEMO_USER).
# Environment: FAIRWAY_PORT (default 6432), DEMO_USER, MAKE_JOBS (default 2).
set -eu


cd "$(dirname "$0")/.."
SRCDIR=$(pwd)
BUILD_DIR="$SRCDIR/build-demo"
FAIRWAY_PORT=${FAIRWAY_PORT:-6432}
DEMO_USER=${DEMO_USER:-postgres}
MAKE_JOBS=${MAKE_JOBS:-2}
DEMO_DIR=""
FW_PID=""

say() {
	printf 'demo: %s\n' "$*"
}

# shellcheck source=contrib/deps.sh
. "$(pwd)/contrib/deps.sh"

# Runs a command as the demo user when we are root, else as ourselves.
as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$DEMO_USER" -- "$@"
	else
		"$@"
	fi
}

# True when nothing answers on 127.0.0.1:$1 (pg_isready: 2 = no response).
port_is_free() {
	rc=0
	"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$1" -t 2 || rc=$?
	[ "$rc" -eq 2 ]
}

free_port_from() {
	port=$1
	while ! port_is_free "$port"; do
		port=$((port + 1))
	done
	echo "$port"
}

cleanup() {
	trap - INT TERM EXIT
	if [ -n "$FW_PID" ] && kill -0 "$FW_PID" 2>/dev/null; then
		say "stopping Fairway"
		kill -INT "$FW_PID" 2>/dev/null || true
		i=0
		while kill -0 "$FW_PID" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$FW_PID" 2>/dev/null || true
	fi
	if [ -n "$DEMO_DIR" ] && [ -f "$DEMO_DIR/data/postmaster.pid" ]; then
		say "stopping PostgreSQL"
		as_user "$PGBIN/pg_ctl" -D "$DEMO_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	if [ -n "$DEMO_DIR" ]; then
		rm -rf "$DEMO_DIR"
		say "removed $DEMO_DIR"
	fi
}

install_missing

PGBIN=""
best=0
for d in /usr/lib/postgresql/*/bin; do
	v=$(basename "$(dirname "$d")")
	v=${v%%.*}
	if [ -x "$d/initdb" ] && [ "$v" -gt "$best" ]; then
		best=$v
		PGBIN=$d
	fi
done
[ -n "$PGBIN" ] || {
	say "no PostgreSQL server binaries under /usr/lib/postgresql" >&2
	exit 1
}

say "building Fairway in $BUILD_DIR"
if [ -f "$SRCDIR/config.status" ]; then
	# configured in place already: build there
	BUILD_DIR="$SRCDIR"
	make -j"$MAKE_JOBS"
else
	[ -x "$SRCDIR/configure" ] || ./autogen.sh
	mkdir -p "$BUILD_DIR"
	(cd "$BUILD_DIR" && { [ -f Makefile ] || "$SRCDIR/configure"; } && make -j"$MAKE_JOBS")
fi

trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT

DEMO_DIR=$(mktemp -d /tmp/fairway-demo.XXXXXX)
chmod 0755 "$DEMO_DIR"
# the demo user may not reach a build tree under /root: run a copy
cp "$BUILD_DIR/fairway" "$DEMO_DIR/fairway"
if [ "$(id -u)" -eq 0 ]; then
	chown "$DEMO_USER" "$DEMO_DIR"
fi

PG_PORT=$(free_port_from 55432)
if ! port_is_free "$FAIRWAY_PORT"; then
	taken=$FAIRWAY_PORT
	FAIRWAY_PORT=$(free_port_from 16432)
	say "port $taken is taken (Debian's pgbouncer service? 'systemctl stop pgbouncer');" \
		"using $FAIRWAY_PORT instead"
fi

say "starting PostgreSQL on 127.0.0.1:$PG_PORT (data in $DEMO_DIR/data)"
as_user "$PGBIN/initdb" -D "$DEMO_DIR/data" -U postgres -A trust -E UTF8 --locale=C \
	--no-sync >"$DEMO_DIR/initdb.log" 2>&1 || {
	cat "$DEMO_DIR/initdb.log"
	exit 1
}
as_user "$PGBIN/pg_ctl" -D "$DEMO_DIR/data" -l "$DEMO_DIR/postgres.log" -w \
	-o "-p $PG_PORT -k $DEMO_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
"$PGBIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
	-c "CREATE ROLE demo LOGIN SUPERUSER PASSWORD 'demo'" \
	-c "CREATE DATABASE demo OWNER demo"

# The demo's own fairway.ini: the shape of etc/fairway.ini, reduced to what
# the demo needs. The main section may be [fairway] or [pgbouncer].
cat >"$DEMO_DIR/fairway.ini" <<EOF
[fairway]
listen_addr = 127.0.0.1
listen_port = $FAIRWAY_PORT
unix_socket_dir = $DEMO_DIR
logfile = $DEMO_DIR/fairway.log
pidfile = $DEMO_DIR/fairway.pid
auth_type = scram-sha-256
auth_file = $DEMO_DIR/userlist.txt
admin_users = demo
stats_users = demo
pool_mode = transaction
default_pool_size = 5
max_client_conn = 200
query_wait_timeout = 30

[databases]
demo = host=127.0.0.1 port=$PG_PORT dbname=demo
EOF
cat >"$DEMO_DIR/userlist.txt" <<EOF
"demo" "demo"
EOF
if [ "$(id -u)" -eq 0 ]; then
	chown "$DEMO_USER" "$DEMO_DIR/fairway.ini" "$DEMO_DIR/userlist.txt"
fi

say "starting Fairway on 127.0.0.1:$FAIRWAY_PORT"
if [ "$(id -u)" -eq 0 ]; then
	# setpriv execs in place, so $! is Fairway itself
	setpriv --reuid="$DEMO_USER" --regid="$DEMO_USER" --init-groups \
		"$DEMO_DIR/fairway" "$DEMO_DIR/fairway.ini" >>"$DEMO_DIR/fairway.out" 2>&1 &
else
	"$DEMO_DIR/fairway" "$DEMO_DIR/fairway.ini" >>"$DEMO_DIR/fairway.out" 2>&1 &
fi
FW_PID=$!
i=0
until "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$FAIRWAY_PORT" -t 1; do
	if ! kill -0 "$FW_PID" 2>/dev/null || [ $i -ge 60 ]; then
		say "Fairway did not start:"
		cat "$DEMO_DIR/fairway.out" "$DEMO_DIR/fairway.log" 2>/dev/null || true
		exit 1
	fi
	sleep 0.5
	i=$((i + 1))
done

CONN="host=127.0.0.1 port=$FAIRWAY_PORT user=demo password=demo"
say "pgbench -i through Fairway"
"$PGBIN/pgbench" -i -q -s 1 "$CONN dbname=demo"
say "pgbench -T 5 -c 10 through Fairway (transaction pooling, pool size 5)"
"$PGBIN/pgbench" -n -T 5 -c 10 -j 2 "$CONN dbname=demo"

say "SHOW POOLS on the admin console:"
PGPASSWORD=demo "$PGBIN/psql" -h 127.0.0.1 -p "$FAIRWAY_PORT" -U demo -d fairway -c "SHOW POOLS"

cat <<EOF

Fairway is running in front of a throwaway PostgreSQL.

  Connect through Fairway (password: demo):
    psql -h 127.0.0.1 -p $FAIRWAY_PORT -U demo demo

  Open the admin console (database "fairway", or "pgbouncer"):
    psql -h 127.0.0.1 -p $FAIRWAY_PORT -U demo fairway
    fairway=# SHOW POOLS;

  Config: $DEMO_DIR/fairway.ini    Log: $DEMO_DIR/fairway.log
  PostgreSQL itself: 127.0.0.1:$PG_PORT, user postgres, no password

Press Ctrl-C to stop Fairway and PostgreSQL and remove $DEMO_DIR.
EOF

wait "$FW_PID" || true
say "Fairway exited"
