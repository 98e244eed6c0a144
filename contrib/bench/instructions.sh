#!/usr/bin/env bash
# Instructions (and system calls) per transaction: the pooler runs under
# valgrind (callgrind by default) while pgbench -S -c C passes a fixed number
# of transactions through it in transaction mode. Each figure is
# differential: one fresh pooler process serves TX_SMALL transactions in all,
# another TX_LARGE, and (I_large - I_small) / (TX_LARGE - TX_SMALL) cancels
# start-up, logins and shutdown. With 1 client the count is exact from run to
# run; with 10 the pooler batches several ready sockets per wakeup, which
# depends on timing, so expect a few percent of spread. Valgrind counts
# user-space instructions only; the kernel's share (read/write/epoll) shows in
# the syscalls-per-transaction column, counted the same way under strace -c -f.
#
# Usage: [POOLER_BIN=path | FAIRWAY_BUILD=dir] [BASELINE_BIN=path] [TOOL=callgrind|cachegrind] [VG_CLIENTS="1 10"]
#        [TX_SMALL=5000] [TX_LARGE=20000] [REPS=2] [MODES="simple extended"]
#        [SYSCALLS=1] instructions.sh   (needs pg.sh start; writes $OUT/instructions.tsv)
# POOLER_BIN defaults to $FAIRWAY_BUILD/fairway, FAIRWAY_BUILD to the repository top
# (see lib.sh); BASELINE_BIN to /usr/sbin/pgbouncer.
# Callgrind profiles stay in /tmp/bench-run/*.callgrind (see callgrind_annotate),
# strace tables in /tmp/bench-run/*.strace, until the next run_all.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

TOOL=${TOOL:-callgrind} VG_CLIENTS=${VG_CLIENTS:-1 10} TX_SMALL=${TX_SMALL:-5000} TX_LARGE=${TX_LARGE:-20000}
REPS=${REPS:-2} MODES=${MODES:-simple extended} SYSCALLS=${SYSCALLS:-1}
command -v valgrind > /dev/null || die "valgrind not found"

require_pg
trap stop_all_poolers EXIT
make_configs instructions max_client_conn=200

# count TARGET MODE CLIENTS TX REP valgrind|strace: pass TX transactions from
# CLIENTS clients through a fresh pooler under the tool; print the tool's
# total (instructions or syscalls).
count() {
    local t=$1 m=$2 c=$3 n=$(($4 / $3)) rep=$5 tool=$6 f tracer='' out
    trap stop_all_poolers EXIT   # this runs in a $(...) subshell
    f=$RUN_DIR/$t.$m.c$c.$n.$rep
    # remove only this pass's own files: the strace pass must not delete the
    # valgrind pass's profile of the same run
    if [ "$tool" = strace ]; then out=$f.strace.pgbench; rm -f "$f.strace" "$out"
    else out=$f.pgbench; rm -f "$f.vglog" "$f.$TOOL" "$out"; fi
    if [ "$tool" = strace ]; then
        start_pooler "$t" "$RUN_DIR/instructions-$t.ini" strace -c -f -o "$f.strace"
        tracer=$POOLER_PID POOLER_PID=$(ps -o pid= --ppid "$tracer" | head -n 1)
    else
        local extra=(); [ "$TOOL" = cachegrind ] && extra=(--cache-sim=no --branch-sim=no)
        start_pooler "$t" "$RUN_DIR/instructions-$t.ini" valgrind --tool="$TOOL" "${extra[@]}" \
            --log-file="$f.vglog" "--$TOOL-out-file=$f.$TOOL"
    fi
    pgbench -n -S -M "$m" -c "$c" -j 1 -t "$n" -p "$(port_of "$t")" -U bench $DB > "$out" 2>&1 ||
        { cat "$out" >&2; die "pgbench failed ($t $m)"; }
    grep -q "processed: $((c * n))/" "$out" || die "pgbench did not complete $((c * n)) tx ($t)"
    stop_pid "$POOLER_PID"
    if [ "$tool" = strace ]; then
        stop_pid "$tracer"   # strace writes its table when the pooler exits
        awk '$NF == "total" { print $4 }' "$f.strace"   # % time, seconds, usecs/call, calls
    else
        sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' "$f.vglog" | tr -d ,
    fi
}

tsv=$OUT/instructions.tsv
printf 'mode\tclients\ttarget\trep\tinstr_small\tinstr_large\tinstr_per_tx\tsyscalls_per_tx\n' > "$tsv"
d=$((TX_LARGE - TX_SMALL))
for m in $MODES; do
    for c in $VG_CLIENTS; do
        for ((rep = 1; rep <= REPS; rep++)); do
            for t in pgbouncer candidate; do
                i1=$(count $t "$m" "$c" "$TX_SMALL" "$rep" valgrind)
                i2=$(count $t "$m" "$c" "$TX_LARGE" "$rep" valgrind)
                { [ -n "$i1" ] && [ -n "$i2" ]; } || die "no instruction count for $t (see $RUN_DIR/$t.log)"
                spt=-
                if [ "$SYSCALLS" = 1 ]; then
                    s1=$(count $t "$m" "$c" "$TX_SMALL" "$rep" strace)
                    s2=$(count $t "$m" "$c" "$TX_LARGE" "$rep" strace)
                    spt=$(awk -v a="$s1" -v b="$s2" -v d=$d 'BEGIN { printf "%.2f", (b - a) / d }')
                fi
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$c" $t "$rep" "$i1" "$i2" $(((i2 - i1) / d)) "$spt" >> "$tsv"
                log "$m -c $c $t #$rep: $(((i2 - i1) / d)) instructions/tx, $spt syscalls/tx"
            done
        done
    done
done
"$PYTHON" "$BENCH/summary.py" instructions "$tsv"
