#!/usr/bin/env bash
# Latency with idle clients attached: the p50/p99 latency of 50 active
# clients (pgbench -S, transaction pooling) with IDLE idle authenticated
# clients held open beside them, against the same with none. A pooler that
# walks its client list on the hot path, or whose memory use hurts its cache,
# shows it here. pgbouncer and candidate alternate; a fresh pooler per run.
#
# Usage: [POOLER_BIN=path | FAIRWAY_BUILD=dir] [BASELINE_BIN=path] [IDLE=10000] [REPS=2] [DURATION=10]
#        idle_latency.sh       (needs pg.sh start; writes $OUT/idle_latency.tsv)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

IDLE=${IDLE:-10000} REPS=${REPS:-2} DURATION=${DURATION:-10}

require_pg
# 10,000 client sockets take ephemeral ports, and one of them may be the
# other pooler's listen port (its TIME_WAIT then blocks the next bind): keep
# the harness's ports out of the ephemeral range when we may.
if [ -w /proc/sys/net/ipv4/ip_local_reserved_ports ]; then
    echo "$PG_PORT,$BASE_PORT,$CAND_PORT" > /proc/sys/net/ipv4/ip_local_reserved_ports
fi
IDLE_PID=
cleanup() {
    [ -n "$IDLE_PID" ] && kill "$IDLE_PID" 2>/dev/null || true
    stop_all_poolers
}
trap cleanup EXIT
make_configs idlelat max_client_conn=$((IDLE + 200))

# p50 and p99 (ms) of the per-transaction latencies in pgbench -l logs
# (third column: microseconds).
percentiles() {
    cat "$@" | awk '{ print $3 }' | sort -n |
        awk '{ v[NR] = $1 } END { if (NR == 0) { print "0\t0"; exit }
             i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
             printf "%.3f\t%.3f\n", v[i50] / 1000, v[i99] / 1000 }'
}

tsv=$OUT/idle_latency.tsv
printf 'target\tidle\trep\ttps\tp50_ms\tp99_ms\n' > "$tsv"
for ((rep = 1; rep <= REPS; rep++)); do
    order="pgbouncer candidate"
    ((rep % 2)) || order="candidate pgbouncer"
    for t in $order; do
        for idle in 0 "$IDLE"; do
            start_pooler "$t" "$RUN_DIR/idlelat-$t.ini"
            port=$(port_of "$t")
            psql_to "$port" -U bench -c 'select 1' > /dev/null
            if ((idle > 0)); then
                "$PYTHON" "$BENCH/idle_clients.py" --port "$port" --n "$idle" --pid "$POOLER_PID" \
                    --user bench --db $DB --hold 3600 > "$RUN_DIR/idlelat-clients.out" 2>&1 &
                IDLE_PID=$!
                # Wait until they are all logged in (SHOW LISTS used_clients).
                for ((w = 0; w < 600; w++)); do
                    n=$(psql_to "$port" -U bench -d pgbouncer -At -c 'show lists' 2>/dev/null |
                        awk -F'|' '$1 == "used_clients" { print $2 }')
                    ((${n:-0} >= idle)) && break
                    sleep 0.5
                done
                ((${n:-0} >= idle)) || die "$t: only ${n:-0} of $idle idle clients logged in"
            fi
            rm -f "$RUN_DIR"/idlelat_log*
            out=$(cd "$RUN_DIR" && pgbench -p "$port" -U bench -S -c 50 -j 2 -T "$DURATION" -n \
                -l --log-prefix=idlelat_log $DB 2>&1)
            tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<< "$out" | head -n 1)
            pct=$(percentiles "$RUN_DIR"/idlelat_log*)
            if [ -n "$IDLE_PID" ]; then
                kill "$IDLE_PID" 2>/dev/null || true
                wait "$IDLE_PID" 2>/dev/null || true
                IDLE_PID=
            fi
            stop_pid "$POOLER_PID"
            # 10,000 client sockets used ephemeral ports, possibly the next
            # pooler's listen port: let them finish closing.
            for ((w = 0; w < 60; w++)); do
                ss -Htan "( sport = :$CAND_PORT or sport = :$BASE_PORT )" | grep -q . || break
                sleep 0.5
            done
            printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$idle" "$rep" "${tps:-0}" "$pct" >> "$tsv"
            log "$t idle=$idle #$rep: tps=${tps:-0} p50/p99 ms = $pct"
        done
    done
done
# Medians per target and idle count, and p99 with idle / p99 without.
awk -F'\t' 'NR > 1 { k = $1 "\t" $2; n[k]++; tps[k, n[k]] = $4; p50[k, n[k]] = $5; p99[k, n[k]] = $6 }
    function med(a, k, c,   i, j, t, x) { for (i = 1; i <= c; i++) x[i] = a[k, i]
        for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
        return c % 2 ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2 }
    END { printf "%-10s %7s %10s %8s %8s\n", "target", "idle", "tps", "p50_ms", "p99_ms"
          for (k in n) { split(k, f, "\t"); m99[f[1], f[2]] = med(p99, k, n[k])
              printf "%-10s %7s %10.0f %8.3f %8.3f\n", f[1], f[2], med(tps, k, n[k]), med(p50, k, n[k]), m99[f[1], f[2]] }
          for (k in n) { split(k, f, "\t"); if (f[2] != 0 && m99[f[1], 0] > 0)
              printf "%s: p99 with %s idle / p99 with none = %.2f\n", f[1], f[2], m99[f[1], f[2]] / m99[f[1], 0] } }' "$tsv"
