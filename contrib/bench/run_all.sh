#!/usr/bin/env bash
# Run every benchmark (throughput, instructions, idle clients, fairness) for
# PgBouncer and the pooler under test (Fairway) against a fresh PostgreSQL,
# then print all tables and a compact headline table. About 22 minutes
# (QUICK=1: about 3).
#
# Usage: [POOLER_BIN=/path/to/fairway | FAIRWAY_BUILD=builddir] [QUICK=1] [OUT=dir]
#        [ONLY="throughput ..."] run_all.sh
#   POOLER_BIN  the candidate, started as `POOLER_BIN CONFIG.ini` (default:
#               $FAIRWAY_BUILD/fairway, FAIRWAY_BUILD defaults to the repository
#               top, i.e. an in-tree build); POOLER_BIN=/usr/sbin/pgbouncer gives
#               an A/A run that shows the noise floor of every ratio
#   BASELINE_BIN  the baseline (default /usr/sbin/pgbouncer)
#   QUICK=1     smoke test: 5 s runs, one rep, fewer transactions; not for reporting
#   OUT         result directory (default /tmp/bench-out/DATE-TIME)
#   ONLY        a subset of: throughput instructions idle_clients fairness
#               (default), or copy (1 GB COPY out/in, 1M-row SELECT, pipelined
#               pgbench; SIZE_MB=... for less), e.g. ONLY=copy
# Every other knob of the single scripts (DURATION, REPS, ...) passes through.
set -euo pipefail
OUT=${OUT:-/tmp/bench-out/$(date +%Y%m%d-%H%M%S)}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

export POOLER_BIN BASELINE_BIN OUT
require_bins
ONLY=${ONLY:-throughput instructions idle_clients fairness}
if [ -n "${QUICK:-}" ]; then
    export DURATION=${DURATION:-5} REPS=${REPS:-1} COUNTS=${COUNTS:-1000} TX_SMALL=${TX_SMALL:-1000} \
        TX_LARGE=${TX_LARGE:-4000} SYSCALLS=${SYSCALLS:-0} SIZE_MB=${SIZE_MB:-100} \
        SELECT_ROWS=${SELECT_ROWS:-100000}
fi
mkdir -p "$OUT"
exec 2> >(tee -a "$OUT/log.txt" >&2)

{
    echo "date:       $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine:    $(nproc) cores, $(free -g | awk '/^Mem/ { print $2 }') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -r)"
    echo "cpu:        $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -n 1)"
    echo "postgres:   $("$PG_BIN/postgres" --version)"
    echo "pgbouncer:  $BASELINE_BIN ($("$BASELINE_BIN" --version | head -n 1))"
    echo "candidate:  $POOLER_BIN ($("$POOLER_BIN" --version 2>&1 | head -n 1); sha256 $(sha256sum < "$POOLER_BIN" | cut -c1-12))"
    echo "repository: $REPO ($(GIT_OPTIONAL_LOCKS=0 git -C "$REPO" describe --always --dirty 2>/dev/null || echo 'not a git checkout'))"
    echo "load avg:   $(cat /proc/loadavg) (at start)"
    echo "settings:   $(env | grep -E '^(QUICK|DURATION|REPS|CLIENTS|JOBS|POOL_SIZE|WORKLOADS|MODES|TOOL|VG_CLIENTS|TX_SMALL|TX_LARGE|SYSCALLS|COUNTS|HOLD|NOISY|QUIET|POOL|VARIANTS|TARGETS|QUIET_CLIENT|SIZE_MB|SELECT_ROWS|TESTS|EXTRA_POOLER_SETTINGS)=' | tr '\n' ' ')(others: script defaults)"
} | tee "$OUT/info.txt"

trap '"$BENCH/pg.sh" stop' EXIT
rm -rf "$RUN_DIR"   # configs, logs and profiles of this run only
"$BENCH/pg.sh" start
for s in $ONLY; do
    log "== $s"
    "$BENCH/$s.sh" > "$OUT/$s.txt"
done
echo "load avg:   $(cat /proc/loadavg) (at end)" | tee -a "$OUT/info.txt"
"$PYTHON" "$BENCH/summary.py" all "$OUT" | tee "$OUT/summary.txt"
echo "results in $OUT"
