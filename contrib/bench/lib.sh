# shellcheck shell=bash
# contrib/bench/lib.sh: settings and helpers shared by the bench scripts
# (sourced, not run).
#
# Targets: "direct" = PostgreSQL on $PG_PORT, "pgbouncer" = $BASELINE_BIN on
# $BASE_PORT, "candidate" = $POOLER_BIN on $CAND_PORT (Fairway by default).
# Both poolers get the same generated pgbouncer.ini; only listen_port differs.
#
# POOLER_BIN defaults to $FAIRWAY_BUILD/fairway, and FAIRWAY_BUILD to the
# top of this repository (an in-tree build); for an out-of-tree build give
# FAIRWAY_BUILD=/path/to/builddir or POOLER_BIN=/path/to/fairway. Either must
# be executable by user postgres (check: runuser -u postgres -- BIN --version).

# shellcheck disable=SC2034  # the variables below are used by the scripts that source this
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH/../.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PYTHON=${PYTHON:-/usr/bin/python3}         # stdlib only
BASELINE_BIN=${BASELINE_BIN:-/usr/sbin/pgbouncer}
FAIRWAY_BUILD=${FAIRWAY_BUILD:-$REPO}
POOLER_BIN=${POOLER_BIN:-$FAIRWAY_BUILD/fairway}
# absolute paths: the poolers are started by runuser, maybe from another directory
case $POOLER_BIN in /*) ;; *) POOLER_BIN=$PWD/$POOLER_BIN ;; esac
case $BASELINE_BIN in /*) ;; *) BASELINE_BIN=$PWD/$BASELINE_BIN ;; esac
HOST=127.0.0.1
# BENCH_PORT_BASE and BENCH_TMP let two benchmark runs share a machine.
PG_PORT=${BENCH_PORT_BASE:-55432}
BASE_PORT=$((PG_PORT + 1000)) CAND_PORT=$((PG_PORT + 2000))
PG_DIR=${BENCH_TMP:-/tmp}/bench-pg   # cluster: data/, sock/, postgres.log
RUN_DIR=${BENCH_TMP:-/tmp}/bench-run # pooler configs, logs, pgbench logs (owned by postgres)
OUT=${OUT:-/tmp/bench-out} # result tables (*.tsv)
RUN_AS=postgres            # initdb and pgbouncer refuse to run as root
DB=bench
export PGPASSWORD=benchpw  # every bench user has this password
USERS="bench md5_bench noisy quiet tenant"
HZ=$(getconf CLK_TCK)

die() { echo "${0##*/}: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*" >&2; }

# "fifo" (fairness.sh only) is the candidate with fair_key = none.
port_of() { case $1 in direct) echo $PG_PORT ;; pgbouncer) echo $BASE_PORT ;; candidate | fifo) echo $CAND_PORT ;; esac; }
bin_of() { case $1 in pgbouncer) echo "$BASELINE_BIN" ;; candidate | fifo) echo "$POOLER_BIN" ;; esac; }

require_pg() {
    "$PG_BIN/pg_isready" -q -h $HOST -p $PG_PORT || die "PostgreSQL is not up on $PG_PORT: run $BENCH/pg.sh start"
    require_bins
    mkdir -p "$RUN_DIR" "$OUT"
    chown $RUN_AS "$RUN_DIR"
}

# require_bins: both poolers exist and user $RUN_AS may run them.
require_bins() {
    local b
    for b in BASELINE_BIN POOLER_BIN; do
        { [ -f "${!b}" ] && [ -x "${!b}" ]; } ||
            die "$b=${!b} is not an executable file (build Fairway first, or set FAIRWAY_BUILD / POOLER_BIN)"
        runuser -u $RUN_AS -- test -x "${!b}" ||
            die "$b=${!b} is not executable by user $RUN_AS (copy it somewhere readable, e.g. install -m 755 ${!b} /tmp/benchbin/)"
    done
}

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# make_configs NAME [key=value ...]: write $RUN_DIR/NAME-pgbouncer.ini from the
# defaults below plus overrides, and NAME-candidate.ini = the same file with
# only listen_port changed, plus $EXTRA_POOLER_SETTINGS if set (candidate
# only; space-separated key=value words, values without spaces, e.g.
# EXTRA_POOLER_SETTINGS="fair_key=none": a key already in the file gets the
# new value, others are added to [pgbouncer], the file's last section).
# Also (re)writes the userlist.
make_configs() {
    local name=$1 k u; shift
    declare -A kv=(
        [listen_addr]=$HOST [listen_port]=$BASE_PORT [unix_socket_dir]=''
        [auth_type]=md5 [auth_file]=$RUN_DIR/userlist.txt
        [pool_mode]=transaction [default_pool_size]=20 [max_client_conn]=1000
        [max_db_connections]=0 [admin_users]=bench
        [ignore_startup_parameters]=extra_float_digits
        [log_connections]=0 [log_disconnections]=0
    )
    for k in "$@"; do kv[${k%%=*}]=${k#*=}; done
    for u in $USERS; do echo "\"$u\" \"$PGPASSWORD\""; done > "$RUN_DIR/userlist.txt"
    {
        echo "[databases]"
        echo "$DB = host=$HOST port=$PG_PORT dbname=$DB"
        echo
        echo "[pgbouncer]"
        for k in $(printf '%s\n' "${!kv[@]}" | sort); do echo "$k = ${kv[$k]}"; done
    } > "$RUN_DIR/$name-pgbouncer.ini"
    sed "s/^listen_port = .*/listen_port = $CAND_PORT/" "$RUN_DIR/$name-pgbouncer.ini" > "$RUN_DIR/$name-candidate.ini"
    if [ -n "${EXTRA_POOLER_SETTINGS:-}" ]; then
        local kvx
        for kvx in $EXTRA_POOLER_SETTINGS; do
            case $kvx in *=*) ;; *) die "EXTRA_POOLER_SETTINGS: '$kvx' is not key=value" ;; esac
        done
        # shellcheck disable=SC2086  # one awk argument per key=value word
        awk 'BEGIN { for (i = 1; i < ARGC; i++) { k = ARGV[i]; sub(/=.*/, "", k); v = ARGV[i];
                     sub(/^[^=]*=/, "", v); val[k] = v; ord[++n] = k; ARGV[i] = "" } }
             { k = $1 } $2 == "=" && (k in val) { print k " = " val[k]; done[k] = 1; next } { print }
             END { for (i = 1; i <= n; i++) if (!(ord[i] in done)) { print ord[i] " = " val[ord[i]]; done[ord[i]] = 1 } }' \
            $EXTRA_POOLER_SETTINGS < "$RUN_DIR/$name-candidate.ini" > "$RUN_DIR/$name-candidate.ini.new"
        mv "$RUN_DIR/$name-candidate.ini.new" "$RUN_DIR/$name-candidate.ini"
    fi
    chown $RUN_AS "$RUN_DIR"/*.ini "$RUN_DIR/userlist.txt"
}

# start_pooler TARGET CONFIG [WRAPPER ARGS...]: run `[WRAPPER] BIN CONFIG` as
# $RUN_AS with the highest fd limit allowed; sets POOLER_PID (the pooler's own
# PID, not runuser's) and waits until its port accepts connections.
declare -A WRAPPER_PID=()
start_pooler() {
    local target=$1 cfg=$2 port pidf t; shift 2
    port=$(port_of "$target")
    port_busy "$port" && die "port $port is already in use"
    pidf=$RUN_DIR/$target.pid
    rm -f "$pidf"
    # shellcheck disable=SC2016  # expanded by the inner sh
    runuser -u $RUN_AS -- sh -c 'ulimit -n $(ulimit -Hn); echo $$ > "$0"; exec "$@"' \
        "$pidf" "$@" "$(bin_of "$target")" "$cfg" >> "$RUN_DIR/$target.log" 2>&1 &
    local wrapper=$!
    for ((t = 0; t < 1200; t++)); do   # up to 120 s (valgrind starts slowly)
        [ -s "$pidf" ] && POOLER_PID=$(cat "$pidf") && port_busy "$port" && break
        kill -0 $wrapper 2>/dev/null || { tail -n 20 "$RUN_DIR/$target.log" >&2; die "$target exited at start"; }
        sleep 0.1
    done
    port_busy "$port" || die "$target did not open port $port"
    WRAPPER_PID[$POOLER_PID]=$wrapper
}

# stop_pid PID: SIGTERM, SIGKILL after 30 s; then reaps its runuser wrapper.
stop_pid() {
    local pid=$1 t
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for ((t = 0; t < 300; t++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { log "pid $pid ignored SIGTERM, killing"; kill -KILL "$pid"; }
    fi
    [ -z "${WRAPPER_PID[$pid]:-}" ] || wait "${WRAPPER_PID[$pid]}" 2>/dev/null || true
    unset "WRAPPER_PID[$pid]"
}

stop_all_poolers() { local p; for p in "${!WRAPPER_PID[@]}"; do stop_pid "$p"; done; }

# PID and all its descendants (a pooler may use worker processes).
tree_pids() { local p; echo "$1"; for p in $(ps -o pid= --ppid "$1"); do tree_pids "$p"; done; }

# cpu_ticks PID: utime+stime (all threads, all descendants) in clock ticks.
cpu_ticks() {
    local p t=0
    for p in $(tree_pids "$1"); do
        t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo $t
}

load1() { cut -d' ' -f1 /proc/loadavg; }

pgbench() { "$PG_BIN/pgbench" -h $HOST "$@"; }
psql_to() { local port=$1; shift; "$PG_BIN/psql" -X -q -h $HOST -p "$port" -d $DB -v ON_ERROR_STOP=1 "$@"; }

# field NAME FILE: value after "NAME = " in pgbench's summary (e.g. tps, latency average).
field() { sed -n "s/^$1 = \([0-9.]*\).*/\1/p" "$2" | head -n 1; }
