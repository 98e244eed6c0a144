#!/usr/bin/env bash
# Throughput: pgbench select-only (-S) and the TPC-B-like default script,
# simple and extended protocol, transaction pooling, against direct
# PostgreSQL, PgBouncer and the candidate. Runs are interleaved (direct,
# pgbouncer, candidate, then the reverse order, ...) so drift cancels.
# Records TPS, average latency and the pooler's CPU seconds (utime+stime from
# /proc/PID/stat) per 1,000 transactions: postgres, pgbench and the pooler
# share 2 cores, so CPU per transaction is the fairer comparison.
#
# Usage: [POOLER_BIN=path | FAIRWAY_BUILD=dir] [BASELINE_BIN=path] [DURATION=20] [REPS=2] [CLIENTS=50] [JOBS=2]
#        [POOL_SIZE=20] [WORKLOADS="select tpcb"] [MODES="simple extended"]
#        throughput.sh            (needs pg.sh start; writes $OUT/throughput.tsv)
# POOLER_BIN defaults to $FAIRWAY_BUILD/fairway, FAIRWAY_BUILD to the repository top
# (see lib.sh); BASELINE_BIN to /usr/sbin/pgbouncer.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-20} REPS=${REPS:-2} CLIENTS=${CLIENTS:-50} JOBS=${JOBS:-2}
POOL_SIZE=${POOL_SIZE:-20}
WORKLOADS=${WORKLOADS:-select tpcb} MODES=${MODES:-simple extended}

require_pg
trap stop_all_poolers EXIT
make_configs throughput default_pool_size="$POOL_SIZE" max_client_conn=$((CLIENTS + 100))
declare -A PID
for t in pgbouncer candidate; do
    start_pooler $t "$RUN_DIR/throughput-$t.ini"
    PID[$t]=$POOLER_PID
    psql_to "$(port_of $t)" -U bench -c 'select 1' > /dev/null   # fill the pool's welcome data
done

tsv=$OUT/throughput.tsv
printf 'workload\tmode\ttarget\trep\ttps\tlat_ms\ttx\tpooler_cpu_s\tcpu_s_per_1k_tx\tload1\n' > "$tsv"

run_one() { # workload mode target rep
    local w=$1 m=$2 t=$3 rep=$4 out=$RUN_DIR/pgbench.out c0=0 c1=0 cpu=- per1k=- ld
    local args=(-n -M "$m" -c "$CLIENTS" -j "$JOBS" -T "$DURATION" -p "$(port_of "$t")" -U bench)
    [ "$w" = select ] && args+=(-S)
    # what pgbench itself would do before a run (it runs with -n here so that
    # every target gets the same, done directly on PostgreSQL)
    [ "$w" = tpcb ] && psql_to $PG_PORT -U bench -c 'vacuum pgbench_branches' -c 'vacuum pgbench_tellers' \
        -c 'truncate pgbench_history' > /dev/null
    ld=$(load1)
    [ "$t" != direct ] && c0=$(cpu_ticks "${PID[$t]}")
    pgbench "${args[@]}" $DB > "$out" 2>&1 || { cat "$out" >&2; die "pgbench failed ($w $m $t)"; }
    [ "$t" != direct ] && c1=$(cpu_ticks "${PID[$t]}")
    local tps lat tx
    tps=$(field tps "$out") lat=$(field "latency average" "$out")
    tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
    if [ "$t" != direct ]; then
        cpu=$(awk -v d=$((c1 - c0)) -v hz="$HZ" 'BEGIN { printf "%.2f", d / hz }')
        per1k=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v tx="$tx" 'BEGIN { printf "%.4f", d / hz * 1000 / tx }')
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$m" "$t" "$rep" "$tps" "$lat" "$tx" "$cpu" "$per1k" "$ld" >> "$tsv"
    log "$w $m $t #$rep: tps $tps, latency $lat ms, pooler CPU ${cpu}s = $per1k s/1k tx"
}

for w in $WORKLOADS; do
    for m in $MODES; do
        for ((rep = 1; rep <= REPS; rep++)); do
            order="direct pgbouncer candidate"
            ((rep % 2)) || order="candidate pgbouncer direct"
            for t in $order; do run_one "$w" "$m" "$t" "$rep"; done
        done
    done
done
"$PYTHON" "$BENCH/summary.py" throughput "$tsv"
