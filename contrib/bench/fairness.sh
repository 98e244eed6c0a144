#!/usr/bin/env bash
# Fairness under a noisy neighbour. One database behind a saturated pool
# (default_pool_size = max_db_connections = $POOL). The noisy tenant runs
# $NOISY pgbench clients of "SELECT pg_sleep(0.005)"; 2 s later the quiet
# tenant starts $QUIET clients of "SELECT 1" for $DURATION s. The quiet
# tenant's per-transaction latency log gives p50/p95/p99/max and its
# throughput; pgbench's summary gives the noisy tenant's throughput.
# The quiet tenant is tenant.py (one process per client, timing each query
# with its own clock); QUIET_CLIENT=pgbench uses pgbench --log instead, whose
# sub-millisecond latencies read low when the machine is busy (see README).
# Variants:
#   solo     quiet tenant alone (its reference latency; $DURATION/2 s)
#   users    tenants are different users (noisy, quiet): two pools that share
#            max_db_connections
#   appname  both log in as user tenant, told apart only by application_name:
#            one pool of $POOL
# Targets: direct PostgreSQL (no pool limit: reference only), pgbouncer,
# fifo (the candidate with fair_key = none: Fairway's own FIFO, the
# throughput reference for fairness) and candidate, each pooler started fresh
# per run. Before the noisy tenant starts,
# each tenant runs one query, so the pools know their server parameters.
# query_wait_timeout = DURATION + 10 bounds a starved client; `timeout`
# bounds every pgbench.
#
# Usage: [POOLER_BIN=path | FAIRWAY_BUILD=dir] [BASELINE_BIN=path] [DURATION=20] [REPS=2] [NOISY=80] [QUIET=4] [POOL=10]
#        [VARIANTS="solo users appname"] [TARGETS="direct pgbouncer fifo candidate"]
#        [QUIET_CLIENT=tenant|pgbench] fairness.sh
#        (needs pg.sh start; writes $OUT/fairness.tsv)
# POOLER_BIN defaults to $FAIRWAY_BUILD/fairway, FAIRWAY_BUILD to the repository top
# (see lib.sh); BASELINE_BIN to /usr/sbin/pgbouncer.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-20} REPS=${REPS:-2} NOISY=${NOISY:-80} QUIET=${QUIET:-4} POOL=${POOL:-10}
VARIANTS=${VARIANTS:-solo users appname} TARGETS=${TARGETS:-direct pgbouncer fifo candidate}
QUIET_CLIENT=${QUIET_CLIENT:-tenant}
PGBENCH=("$PG_BIN/pgbench" -h "$HOST" -n)

require_pg
NOISY_PID=
cleanup() { [ -z "$NOISY_PID" ] || kill -INT "$NOISY_PID" 2> /dev/null || true; stop_all_poolers; }
trap cleanup EXIT
make_configs fairness default_pool_size="$POOL" max_db_connections="$POOL" \
    max_client_conn=$((NOISY + QUIET + 100)) query_wait_timeout=$((DURATION + 10))
{ cat "$RUN_DIR/fairness-candidate.ini"; echo "fair_key = none"; } > "$RUN_DIR/fairness-fifo.ini"
chown $RUN_AS "$RUN_DIR/fairness-fifo.ini"
echo "SELECT pg_sleep(0.005);" > "$RUN_DIR/noisy.sql"
echo "SELECT 1;" > "$RUN_DIR/quiet.sql"

tsv=$OUT/fairness.tsv
printf 'variant\ttarget\trep\tquiet_tx\tquiet_tps\tp50_ms\tp95_ms\tp99_ms\tmax_ms\tnoisy_tps\tquiet_errors\tload1\n' > "$tsv"

run_case() { # target variant rep
    local t=$1 v=$2 rep=$3 port nuser='' quser=quiet dir qdur=$DURATION ld
    port=$(port_of "$t")
    case $v in
    solo) qdur=$((DURATION / 2)) ;;
    users) nuser=noisy ;;
    appname) nuser=tenant quser=tenant ;;
    esac
    dir=$RUN_DIR/fair.$t.$v.$rep
    rm -rf "$dir" && mkdir -p "$dir"
    [ "$t" = direct ] || start_pooler "$t" "$RUN_DIR/fairness-$t.ini"
    ld=$(load1)
    PGAPPNAME=quiet psql_to "$port" -U $quser -c 'select 1' > /dev/null
    if [ -n "$nuser" ]; then
        PGAPPNAME=noisy psql_to "$port" -U $nuser -c 'select 1' > /dev/null
        PGAPPNAME=noisy timeout -s INT $((DURATION + 45)) "${PGBENCH[@]}" -f "$RUN_DIR/noisy.sql" \
            -c "$NOISY" -j 2 -T $((DURATION + 4)) -p "$port" -U $nuser $DB > "$dir/noisy.out" 2>&1 &
        NOISY_PID=$!
        sleep 2
    fi
    if [ "$QUIET_CLIENT" = pgbench ]; then
        (cd "$dir" && PGAPPNAME=quiet timeout -s INT $((qdur + 40)) "${PGBENCH[@]}" -f "$RUN_DIR/quiet.sql" \
            -c "$QUIET" -j 1 -T "$qdur" --log --log-prefix=quiet -p "$port" -U $quser $DB > quiet.out 2>&1)
    else
        timeout -s INT $((qdur + 45)) "$PYTHON" "$BENCH/tenant.py" --port "$port" --user $quser --app quiet \
            --clients "$QUIET" --duration "$qdur" --sql "SELECT 1" --log-prefix "$dir/quiet" > "$dir/quiet.out" 2>&1
    fi || log "quiet tenant exited with an error (see $dir/quiet.out)"
    if [ -n "$NOISY_PID" ]; then
        wait "$NOISY_PID" || log "noisy pgbench exited with an error (see $dir/noisy.out)"
        NOISY_PID=
    fi
    if [ "$t" = candidate ] || [ "$t" = fifo ]; then # the scheduler's own view, for the record
        "$PG_BIN/psql" -X -h $HOST -p "$port" -U bench -d pgbouncer -c 'SHOW FLOWS' -c 'SHOW WAITS' \
            > "$dir/flows.txt" 2>&1 || true
    fi
    [ "$t" = direct ] || stop_pid "$POOLER_PID"

    local count p50 p95 p99 max ntps errs qtps
    read -r count p50 p95 p99 max < <("$PYTHON" "$BENCH/summary.py" latency "$dir"/quiet.[0-9]*)
    qtps=$(awk -v c="$count" -v d="$qdur" 'BEGIN { printf "%.1f", c / d }')
    ntps=-; [ -z "$nuser" ] || ntps=$(field tps "$dir/noisy.out")
    errs=$(grep -c 'aborted' "$dir/quiet.out" || true)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$t" "$rep" "$count" "$qtps" \
        "$p50" "$p95" "$p99" "$max" "${ntps:--}" "$errs" "$ld" >> "$tsv"
    log "$v $t #$rep: quiet $count tx ($qtps/s), p50 $p50 p95 $p95 p99 $p99 max $max ms; noisy ${ntps:--} tps; $errs quiet clients aborted"
}

for ((rep = 1; rep <= REPS; rep++)); do
    for v in $VARIANTS; do
        order=$TARGETS
        ((rep % 2)) || order=$(echo "$TARGETS" | tr ' ' '\n' | tac | tr '\n' ' ')
        for t in $order; do run_case "$t" "$v" "$rep"; done
    done
done
"$PYTHON" "$BENCH/summary.py" fairness "$tsv"
