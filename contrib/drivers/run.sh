#!/usr/bin/env bash
# Real drivers that use protocol-level named prepared statements, against
# Fairway in transaction pooling with fewer servers than clients (issue #6):
# psycopg 3, node-postgres, postgres.js, pgJDBC and pgbench -M prepared.
#
# Usage (as root, from anywhere): contrib/drivers/run.sh
#
# Starts a throwaway PostgreSQL 15 (as user postgres, in a mktemp directory,
# on a free port) with one md5 and one scram-sha-256 user, and a Fairway
# (pool_mode = transaction, default_pool_size = 2, auth_file with the
# secrets copied from pg_authid, so clients log in with md5 and with SCRAM
# and Fairway logs in to PostgreSQL the same way).  Each driver then opens
# DRV_CONNS connections per user (16 connections on 2 pools of 2 servers)
# that run DRV_TX transactions each, interleaved, with named statements,
# checking every value, and then the driver's edge cases: reuse after the
# server changed (RECONNECT), a statement error then reuse, DEALLOCATE ALL /
# DISCARD ALL, transaction blocks.  Fairway's SHOW STATS must show the
# driver's Parse and Bind messages, so a driver that silently stopped
# preparing fails too.
#
# Installs what is missing: Debian packages python3-psycopg,
# libpostgresql-jdbc-java, a JDK, nodejs and npm, postgresql, pgbouncer, and
# the npm packages of node/package-lock.json into node/node_modules.
#
# Environment: FAIRWAY_BIN (default ./fairway), MAX_PREPARED (Fairway's
# max_prepared_statements, default 200; 3 makes every server evict all the
# time), DRV_CONNS (8 per user),
# DRV_TX (200 per connection), ONLY (space-separated subset of: psycopg
# node-pg postgresjs jdbc pgbench), PGBOUNCER=0 to skip the comparison run
# against Debian's PgBouncer (whose failures are reported, never fatal),
# KEEP=1 keeps the temporary directory.  Exits non-zero if any driver fails
# against Fairway.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAIRWAY_BIN=${FAIRWAY_BIN:-./fairway}
case $FAIRWAY_BIN in /*) ;; *) FAIRWAY_BIN=$PWD/$FAIRWAY_BIN ;; esac
PGBOUNCER_BIN=${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}
DRV_CONNS=${DRV_CONNS:-8}
DRV_TX=${DRV_TX:-200}
ONLY=${ONLY:-psycopg node-pg postgresjs jdbc pgbench}
PYTHON=/usr/bin/python3 # Debian's, which python3-psycopg belongs to
RUN_AS=postgres
HOST=127.0.0.1
DB=drv
MD5_USER=drv_md5 MD5_PW='md5 pw'
SCRAM_USER=drv_scram SCRAM_PW='scram pw'
ADMIN=drv_admin ADMIN_PW=admin-pw
PER_DRIVER_TIMEOUT=600 # seconds; 60 against PgBouncer, where drivers may hang

say() { printf 'drivers: %s\n' "$*"; }
die() { printf 'drivers: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (PostgreSQL and the poolers run as user $RUN_AS)"
[ -x "$FAIRWAY_BIN" ] || die "FAIRWAY_BIN=$FAIRWAY_BIN is not an executable (build Fairway, or set FAIRWAY_BIN)"

# ---- what the drivers need ------------------------------------------------

install_missing() {
	local p missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing:$missing"
	apt-get update -qq
	# shellcheck disable=SC2086 # the list is meant to split
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing > /dev/null
}

pkgs="python3-psycopg libpostgresql-jdbc-java postgresql postgresql-contrib pgbouncer"
command -v javac > /dev/null || pkgs="$pkgs default-jdk-headless"
command -v node > /dev/null || pkgs="$pkgs nodejs"
command -v npm > /dev/null || pkgs="$pkgs npm"
# shellcheck disable=SC2086
install_missing $pkgs
PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
JDBC_JAR=/usr/share/java/postgresql.jar
if [ ! -d "$HERE/node/node_modules/pg" ] || [ ! -d "$HERE/node/node_modules/postgres" ]; then
	say "npm ci in $HERE/node"
	(cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error > /dev/null)
fi

# ---- a throwaway cluster and the poolers ----------------------------------

WORK=$(mktemp -d /tmp/fairway-drivers.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/sock" "$WORK/java"
chown -R $RUN_AS "$WORK"
FW_PID="" BOUNCER_PID=""

as_pg() { runuser -u $RUN_AS -- "$@"; }
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cleanup() {
	local name
	# runuser does not pass signals on: signal the daemons by their pidfiles.
	for name in fairway pgbouncer; do
		if [ -f "$WORK/$name.pid" ]; then kill -INT "$(cat "$WORK/$name.pid")" 2> /dev/null || true; fi
	done
	for pid in $FW_PID $BOUNCER_PID; do wait "$pid" 2> /dev/null || true; done
	[ -f "$WORK/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$WORK/data" -m immediate -w stop > /dev/null 2>&1
	if [ -n "${KEEP:-}" ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

PG_PORT=$(free_port)
say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on $HOST:$PG_PORT in $WORK"
as_pg "$PG_BIN/initdb" -D "$WORK/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C > "$WORK/initdb.log"
cat >> "$WORK/data/postgresql.conf" << EOF
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$WORK/sock'
max_connections = 100
fsync = off
synchronous_commit = off
password_encryption = 'scram-sha-256'
EOF
cat > "$WORK/data/pg_hba.conf" << EOF
local all postgres trust
host  all $MD5_USER 127.0.0.1/32 md5
host  all $SCRAM_USER 127.0.0.1/32 scram-sha-256
host  all postgres 127.0.0.1/32 trust
EOF
as_pg "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w start > /dev/null
psql_pg() { as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/sock" -p "$PG_PORT" -U postgres "$@"; }
psql_pg -d postgres << EOF
SET password_encryption = 'md5';
CREATE ROLE $MD5_USER LOGIN PASSWORD '$MD5_PW';
SET password_encryption = 'scram-sha-256';
CREATE ROLE $SCRAM_USER LOGIN PASSWORD '$SCRAM_PW';
CREATE DATABASE $DB OWNER $MD5_USER;
EOF
psql_pg -d $DB << EOF
SET ROLE $MD5_USER;
CREATE TABLE drv_rows (driver text, conn text, i int, v int, PRIMARY KEY (driver, conn, i));
GRANT ALL ON drv_rows TO $SCRAM_USER;
EOF
PGPASSWORD=$MD5_PW "$PG_BIN/pgbench" -h $HOST -p "$PG_PORT" -U $MD5_USER -i -q -s 1 $DB > "$WORK/pgbench-init.log" 2>&1 ||
	{ cat "$WORK/pgbench-init.log" >&2; die "pgbench -i failed"; }
psql_pg -d $DB -c "GRANT ALL ON ALL TABLES IN SCHEMA public TO $SCRAM_USER"

# auth_file: the secrets PostgreSQL holds (md5 and SCRAM), as for PgBouncer.
{
	psql_pg -d postgres -At -c "SELECT format('\"%s\" \"%s\"', rolname, rolpassword) FROM pg_authid WHERE rolname IN ('$MD5_USER', '$SCRAM_USER')"
	echo "\"$ADMIN\" \"$ADMIN_PW\""
} > "$WORK/userlist.txt"
grep -q "^\"$MD5_USER\" \"md5" "$WORK/userlist.txt" || die "no md5 secret for $MD5_USER"
grep -q "^\"$SCRAM_USER\" \"SCRAM-SHA-256\\$" "$WORK/userlist.txt" || die "no SCRAM secret for $SCRAM_USER"

# One ini for both poolers; only the port, files and the Fairway-only
# setting differ.  extra_float_digits: pgJDBC sends it (PgBouncer's advice).
write_ini() { # name port extra
	cat > "$WORK/$1.ini" << EOF
[databases]
$DB = host=$HOST port=$PG_PORT dbname=$DB

[pgbouncer]
listen_addr = $HOST
listen_port = $2
unix_socket_dir = $WORK/sock
auth_type = md5
auth_file = $WORK/userlist.txt
admin_users = $ADMIN
pool_mode = transaction
default_pool_size = 2
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
logfile = $WORK/$1.log
pidfile = $WORK/$1.pid
$3
EOF
}

wait_listening() { # port pid name
	local _
	for _ in $(seq 1 300); do
		kill -0 "$2" 2> /dev/null || { cat "$WORK/$3.log" "$WORK/$3.stderr" >&2 2> /dev/null; die "$3 exited at start"; }
		(exec 3<> "/dev/tcp/$HOST/$1") 2> /dev/null && return 0
		sleep 0.1
	done
	die "$3 does not listen on $1"
}

FW_PORT=$(free_port)
write_ini fairway "$FW_PORT" "max_prepared_statements = ${MAX_PREPARED:-200}"
chown -R $RUN_AS "$WORK"
# An ASan build writes its reports here; run.sh fails if there is one.
ASAN_OPTIONS="log_path=$WORK/asan:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="log_path=$WORK/asan:print_stacktrace=1" \
	runuser -u $RUN_AS -- "$FAIRWAY_BIN" "$WORK/fairway.ini" > "$WORK/fairway.stderr" 2>&1 &
FW_PID=$!
wait_listening "$FW_PORT" $FW_PID fairway
say "Fairway $("$FAIRWAY_BIN" --version 2>&1 | head -n 1 | awk '{print $NF}') on $HOST:$FW_PORT ($FAIRWAY_BIN)"

# ---- the drivers --------------------------------------------------------------

# Fairway's global SHOW STATS counter (PgBouncer 1.18 has none: empty).
stat_of() { # port column
	{ PGPASSWORD=$ADMIN_PW "$PG_BIN/psql" -X -h $HOST -p "$1" -U $ADMIN -d pgbouncer -c "SHOW STATS" 2> /dev/null |
		awk -F'|' -v col="$2" '
			NR == 1 { for (i = 1; i <= NF; i++) { gsub(/ /, "", $i); if ($i == col) c = i } }
			NR > 2 && c && $1 ~ /^ *'"$DB"' *$/ { gsub(/ /, "", $c); print $c }'; } || true
}

# What each driver program gets: where to connect, who, how much, and how
# to make the pooler replace its servers (RECONNECT on the console).
write_reconnect() { # port
	cat > "$WORK/reconnect.sh" << EOF
#!/bin/sh
PGPASSWORD='$ADMIN_PW' exec "$PG_BIN/psql" -X -q -h $HOST -p $1 -U $ADMIN -d pgbouncer -c "RECONNECT $DB"
EOF
	chmod 755 "$WORK/reconnect.sh"
}

export DRV_HOST=$HOST DRV_DB=$DB DRV_CONNS DRV_TX DRV_RECONNECT=$WORK/reconnect.sh
export DRV_USERS="$MD5_USER:$MD5_PW,$SCRAM_USER:$SCRAM_PW"

version_of() {
	case $1 in
	psycopg) "$PYTHON" -c 'import psycopg; print(psycopg.__version__)' ;;
	node-pg) node -p 'require("'"$HERE"'/node/node_modules/pg/package.json").version' ;;
	postgresjs) node -p 'require("'"$HERE"'/node/node_modules/postgres/package.json").version' ;;
	jdbc) dpkg-query -W -f='${Version}' libpostgresql-jdbc-java | sed 's/-.*//' ;;
	pgbench) "$PG_BIN/pgbench" --version | awk '{print $3}' ;;
	esac
}

run_driver() { # driver port log
	local rc=0
	psql_pg -d $DB -c "TRUNCATE drv_rows" > /dev/null
	case $1 in
	psycopg) DRV_PORT=$2 timeout $PER_DRIVER_TIMEOUT "$PYTHON" "$HERE/psycopg_check.py" > "$3" 2>&1 || rc=$? ;;
	node-pg) DRV_PORT=$2 timeout $PER_DRIVER_TIMEOUT node "$HERE/node/pg_check.js" > "$3" 2>&1 || rc=$? ;;
	postgresjs) DRV_PORT=$2 timeout $PER_DRIVER_TIMEOUT node "$HERE/node/postgresjs_check.js" > "$3" 2>&1 || rc=$? ;;
	jdbc)
		if [ ! -f "$WORK/java/JdbcCheck.class" ]; then
			javac -d "$WORK/java" -cp "$JDBC_JAR" "$HERE/JdbcCheck.java" > "$3" 2>&1 || return 1
		fi
		DRV_PORT=$2 timeout $PER_DRIVER_TIMEOUT java -cp "$WORK/java:$JDBC_JAR" JdbcCheck > "$3" 2>&1 || rc=$?
		;;
	pgbench) pgbench_check "$2" > "$3" 2>&1 || rc=$? ;;
	esac
	return $rc
}

# pgbench -M prepared, TPC-B, as both users at once.  -j = -c: pgbench
# prepares synchronously, so one thread driving several clients stalls
# them all while one waits for a server -- pgbench, not the pooler.
pgbench_check() { # port
	local u pw pids="" rc=0 total=0 n
	for u in $MD5_USER $SCRAM_USER; do
		pw=$MD5_PW
		[ "$u" = $SCRAM_USER ] && pw=$SCRAM_PW
		PGPASSWORD=$pw timeout $PER_DRIVER_TIMEOUT "$PG_BIN/pgbench" -h $HOST -p "$1" -U "$u" -n -M prepared \
			-c "$DRV_CONNS" -j "$DRV_CONNS" -t "$DRV_TX" $DB > "$WORK/pgbench.$u.out" 2>&1 &
		pids="$pids $!"
	done
	for u in $pids; do wait "$u" || rc=1; done
	for u in $MD5_USER $SCRAM_USER; do
		cat "$WORK/pgbench.$u.out"
		n=$(awk '/number of transactions actually processed/ { split($NF, a, "/"); print a[1] }' "$WORK/pgbench.$u.out")
		[ "${n:-0}" -eq $((DRV_CONNS * DRV_TX)) ] || { echo "FAIL: $u processed ${n:-0} of $((DRV_CONNS * DRV_TX))"; rc=1; }
		n=$(awk '/number of failed transactions/ { print $5 }' "$WORK/pgbench.$u.out")
		[ "${n:-0}" -eq 0 ] || { echo "FAIL: $u had $n failed transactions"; rc=1; }
		total=$((total + DRV_CONNS * DRV_TX))
	done
	[ $rc -eq 0 ] && echo "PASS transactions=$total"
	return $rc
}

# The last "PASS transactions=N ..." or "FAIL ..." line of a driver's log.
outcome_of() { grep -E '^(PASS|FAIL)' "$1" | tail -n 1 || true; }

failed=0
declare -A VERSION
for d in $ONLY; do
	VERSION[$d]=$(version_of "$d")
	write_reconnect "$FW_PORT"
	parse0=$(stat_of "$FW_PORT" total_client_parse_count)
	bind0=$(stat_of "$FW_PORT" total_bind_count)
	start=$(date +%s)
	if run_driver "$d" "$FW_PORT" "$WORK/$d.fairway.out"; then rc=0; else rc=$?; fi
	secs=$(($(date +%s) - start))
	parse1=$(stat_of "$FW_PORT" total_client_parse_count)
	bind1=$(stat_of "$FW_PORT" total_bind_count)
	parses=$((${parse1:-0} - ${parse0:-0}))
	binds=$((${bind1:-0} - ${bind0:-0}))
	line=$(outcome_of "$WORK/$d.fairway.out")
	if [ $rc -eq 0 ] && [ $parses -gt 0 ] && [ $binds -ge $((2 * DRV_CONNS * DRV_TX)) ]; then
		say "$d ${VERSION[$d]} on Fairway: $line, named Parse $parses, Bind $binds, ${secs}s"
		grep '^note:' "$WORK/$d.fairway.out" | sed 's/^/    /' || true
	else
		failed=1
		[ $rc -ne 0 ] || line="$line; but only $parses named Parse and $binds Bind reached Fairway"
		say "$d ${VERSION[$d]} on Fairway: FAIL (exit $rc) ${line:-} ${secs}s; its output:"
		tail -n 30 "$WORK/$d.fairway.out" | sed 's/^/    /'
	fi
done

# Stop Fairway (SIGINT: it exits once no transaction is in flight); an
# ASan build reports leaks at exit.
if kill -0 $FW_PID 2> /dev/null; then
	kill -INT "$(cat "$WORK/fairway.pid")"
	if wait $FW_PID; then rc=0; else rc=$?; fi
	[ $rc -eq 0 ] || { failed=1; say "Fairway exited with status $rc"; }
else
	failed=1
	say "Fairway died during the run:"
	tail -n 20 "$WORK/fairway.stderr"
fi
FW_PID=""
if grep -qs "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$WORK"/asan* "$WORK/fairway.stderr"; then
	failed=1
	say "Fairway wrote a sanitizer report:"
	cat "$WORK"/asan* "$WORK/fairway.stderr" 2> /dev/null | head -n 60
fi

# ---- the same against PgBouncer, for comparison (never fatal) -----------------

if [ "${PGBOUNCER:-1}" != 0 ] && [ -x "$PGBOUNCER_BIN" ]; then
	BOUNCER_PORT=$(free_port)
	write_ini pgbouncer "$BOUNCER_PORT" ""
	chown $RUN_AS "$WORK/pgbouncer.ini"
	runuser -u $RUN_AS -- "$PGBOUNCER_BIN" "$WORK/pgbouncer.ini" > "$WORK/pgbouncer.stderr" 2>&1 &
	BOUNCER_PID=$!
	wait_listening "$BOUNCER_PORT" $BOUNCER_PID pgbouncer
	bver=$("$PGBOUNCER_BIN" --version | head -n 1 | awk '{print $NF}')
	PER_DRIVER_TIMEOUT=60
	for d in $ONLY; do
		write_reconnect "$BOUNCER_PORT"
		if run_driver "$d" "$BOUNCER_PORT" "$WORK/$d.pgbouncer.out"; then rc=0; else rc=$?; fi
		line=$(outcome_of "$WORK/$d.pgbouncer.out")
		[ $rc -eq 124 ] && line="timed out after ${PER_DRIVER_TIMEOUT}s"
		[ -n "$line" ] || line="exit $rc: $(grep -v '^\s*$' "$WORK/$d.pgbouncer.out" | tail -n 1 || true)"
		say "$d ${VERSION[$d]} on PgBouncer $bver (comparison only): ${line:0:300}"
	done
fi

if [ $failed -ne 0 ]; then
	say "FAILED (logs: KEEP=1 keeps $WORK)"
	exit 1
fi
say "all drivers passed on Fairway"
