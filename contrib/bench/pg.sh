#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for the benchmarks on 127.0.0.1:55432.
#
# Usage: pg.sh start|stop|status
#   start   initdb a fresh cluster in /tmp/bench-pg (an old stopped one is
#           deleted), start it, create the users and the pgbench database
#           (pgbench -i -s $SCALE, default 10).
#   stop    stop it (pg_ctl, which signals the PID in postmaster.pid) and
#           delete /tmp/bench-pg; KEEP=1 keeps the files.
#   status  say whether it runs.
#
# Auth: trust on loopback, except md5 for members of role md5_users (the users
# named md5_*; PostgreSQL 15 has no regex user match in pg_hba.conf). Users:
# bench (owns the database), md5_bench, noisy, quiet, tenant; password benchpw.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

SCALE=${SCALE:-10}
DATA=$PG_DIR/data

as_pg() { runuser -u $RUN_AS -- "$@"; }
running() { [ -f "$DATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$DATA" status > /dev/null 2>&1; }

start() {
    running && die "already running (pg.sh stop first)"
    port_busy $PG_PORT && die "port $PG_PORT is in use by something else"
    rm -rf "$PG_DIR"
    mkdir -p "$PG_DIR/sock"
    chown -R $RUN_AS "$PG_DIR"
    as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust --no-sync -E UTF8 --locale=C > "$PG_DIR/initdb.log"
    cat >> "$DATA/postgresql.conf" <<EOF
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_DIR/sock'
max_connections = 200
shared_buffers = 256MB
fsync = off
synchronous_commit = off
password_encryption = md5   # so that md5_* users really use md5, not SCRAM
EOF
    cat > "$DATA/pg_hba.conf" <<EOF
# TYPE  DATABASE  USER        ADDRESS        METHOD
local   all       all                        trust
host    all       +md5_users  127.0.0.1/32   md5
host    all       all         127.0.0.1/32   trust
EOF
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$PG_DIR/postgres.log" -w start > /dev/null
    as_pg "$PG_BIN/psql" -X -q -h "$PG_DIR/sock" -p $PG_PORT -U postgres -d postgres -v ON_ERROR_STOP=1 <<EOF
CREATE ROLE md5_users NOLOGIN;
CREATE ROLE bench LOGIN PASSWORD '$PGPASSWORD';
CREATE ROLE md5_bench LOGIN PASSWORD '$PGPASSWORD' IN ROLE md5_users;
CREATE ROLE noisy LOGIN PASSWORD '$PGPASSWORD';
CREATE ROLE quiet LOGIN PASSWORD '$PGPASSWORD';
CREATE ROLE tenant LOGIN PASSWORD '$PGPASSWORD';
GRANT pg_read_all_data, pg_write_all_data TO md5_bench, noisy, quiet, tenant;
CREATE DATABASE $DB OWNER bench;
EOF
    log "pgbench -i -s $SCALE"
    pgbench -p $PG_PORT -U bench -i -q -s "$SCALE" $DB > "$PG_DIR/pgbench-init.log" 2>&1 ||
        { cat "$PG_DIR/pgbench-init.log" >&2; die "pgbench -i failed"; }
    # check that md5 really is asked for md5_* users and trust for the others
    PGPASSWORD='' psql_to $PG_PORT -U md5_bench -w -c 'select 1' > /dev/null 2>&1 && die "md5_bench got in without a password"
    psql_to $PG_PORT -U md5_bench -c 'select 1' > /dev/null
    log "PostgreSQL up: $HOST:$PG_PORT, data in $DATA (postmaster PID $(head -n 1 "$DATA/postmaster.pid"))"
}

stop() {
    if running; then as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop > /dev/null; log "stopped"; fi
    [ -n "${KEEP:-}" ] || rm -rf "$PG_DIR"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) if running; then echo "running on $HOST:$PG_PORT"; else echo "not running"; exit 1; fi ;;
*) sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
