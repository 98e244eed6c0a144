#!/usr/bin/env bash
# Idle clients: N clients log in through the pooler (auth_type md5,
# transaction pooling), run SELECT 1 once each, then stay idle. Reports the
# pooler's RSS growth per client (VmRSS after minus before, over N), the time
# to establish all N (64 logins in flight) and the pooler CPU per 1,000
# logins. A fresh pooler per run; pgbouncer and candidate alternate.
# The fd limit here is 20,000 per process and cannot be raised, so N must
# stay below about 19,900.
#
# Usage: [POOLER_BIN=path | FAIRWAY_BUILD=dir] [BASELINE_BIN=path] [COUNTS="1000 5000 10000"] [REPS=2] [HOLD=2]
#        idle_clients.sh       (needs pg.sh start; writes $OUT/idle.tsv)
# POOLER_BIN defaults to $FAIRWAY_BUILD/fairway, FAIRWAY_BUILD to the repository top
# (see lib.sh); BASELINE_BIN to /usr/sbin/pgbouncer.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

COUNTS=${COUNTS:-1000 5000 10000} REPS=${REPS:-2} HOLD=${HOLD:-2}

require_pg
trap stop_all_poolers EXIT
max=0; for n in $COUNTS; do ((n > max)) && max=$n; done
make_configs idle max_client_conn=$((max + 100))

tsv=$OUT/idle.tsv
printf 'clients\ttarget\trep\tok\tfailed\trss_before_kb\trss_after_kb\tkb_per_client\tconnect_s\tcpu_ms_per_1k_conn\n' > "$tsv"
for ((rep = 1; rep <= REPS; rep++)); do
    for n in $COUNTS; do
        order="pgbouncer candidate"
        ((rep % 2)) || order="candidate pgbouncer"
        for t in $order; do
            start_pooler "$t" "$RUN_DIR/idle-$t.ini"
            psql_to "$(port_of "$t")" -U bench -c 'select 1' > /dev/null   # pool ready before measuring
            line=$("$PYTHON" "$BENCH/idle_clients.py" --port "$(port_of "$t")" --n "$n" --pid "$POOLER_PID" \
                --user bench --db $DB --hold "$HOLD")
            stop_pid "$POOLER_PID"
            printf '%s\t%s\t%s\t%s\n' "$n" "$t" "$rep" "$line" >> "$tsv"
            log "$n clients $t #$rep: ok failed rss0 rss1 KB/client connect_s cpu_ms/1k = $line"
        done
    done
done
"$PYTHON" "$BENCH/summary.py" idle "$tsv"
