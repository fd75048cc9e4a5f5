#!/usr/bin/env bash
# Scaling across cores: the same load (`slotel loadgen`, pinned to LOADGEN_CPU) against
# slotel with one worker thread on one CPU and with two worker threads on two CPUs, in
# interleaved rounds (a fresh server per measurement, the order alternating every round).
#
#   benches/scaling.sh
#   ROUNDS=5 DURATION=10s PROTOCOL=http benches/scaling.sh
#
# On a machine with only two CPUs the load generator cannot be pinned apart from a
# two-CPU server: it shares LOADGEN_CPU with the server's second worker. The script
# therefore also reports where the CPU time went (server, load generator, the rest of the
# machine from /proc/stat), so the limit can be read off the figures.
#
# Environment:
#   BIN                the slotel binary (default: $CARGO_TARGET_DIR/release/slotel)
#   ROUNDS             rounds (default 5); medians are reported
#   DURATION           load per measurement (default 10s)
#   PROTOCOL           grpc (default) or http
#   COMPRESSION        none (default) or gzip
#   CONCURRENCY        requests in flight (default 16)
#   ONE_CPUS / TWO_CPUS   CPU lists of the one- and two-worker servers (default 0 / 0,1)
#   LOADGEN_CPU        CPU of the load generator (default 1)
#   OUT                keep the per-measurement table (TSV) at this path
#   NO_BUILD=1         skip `cargo build --release`

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/slotel}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
PROTOCOL=${PROTOCOL:-grpc}
COMPRESSION=${COMPRESSION:-none}
CONCURRENCY=${CONCURRENCY:-16}
ONE_CPUS=${ONE_CPUS:-0}
TWO_CPUS=${TWO_CPUS:-0,1}
LOADGEN_CPU=${LOADGEN_CPU:-1}

for tool in curl jq awk taskset; do
    command -v "$tool" >/dev/null || { echo "scaling: $tool is required" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "scaling: /usr/bin/time (GNU time) is required" >&2; exit 1; }

if [[ -z ${NO_BUILD:-} ]]; then
    cargo build --release --quiet
fi

scratch server_pid

clk_tck=$(getconf CLK_TCK)
# machine_ticks: "busy steal" of the whole machine so far (every CPU), in clock ticks: time
# spent running anything here, and time the hypervisor gave to other guests.
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $9 }' /proc/stat; }

# measure WORKERS CPUS: one fresh server, one load; prints
# "acked wall_seconds server_cpu loadgen_cpu machine_busy_cpu steal".
measure() {
    local workers=$1 cpus=$2 grpc http admin port before after mbefore mafter sbefore safter t0 t1
    grpc=$(free_port)
    http=$(free_port)
    admin=127.0.0.1:$(free_port)
    write_config "$work/slotel.yaml" "$grpc" "$http" "$admin" "nop:"
    TOKIO_WORKER_THREADS=$workers taskset -c "$cpus" "$BIN" run --config "$work/slotel.yaml" \
        >"$work/server.log" 2>&1 &
    server_pid=$!
    wait_ready "$server_pid" "$admin" "$work/server.log"
    if [[ $PROTOCOL == grpc ]]; then port=$grpc; else port=$http; fi
    before=$(pid_ticks "$server_pid")
    read -r mbefore sbefore < <(machine_ticks)
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$work/loadgen.time" \
        taskset -c "$LOADGEN_CPU" "$BIN" loadgen --protocol "$PROTOCOL" --endpoint "127.0.0.1:$port" \
        --compression "$COMPRESSION" --concurrency "$CONCURRENCY" --seed 1 --duration "$DURATION" \
        --report json >"$work/load.json"
    after=$(pid_ticks "$server_pid")
    read -r mafter safter < <(machine_ticks)
    t1=$(date +%s.%N)
    stop_pid "$server_pid"
    server_pid=""
    # The wall time is that of the whole load generator run (its request pool included),
    # the span the CPU counters cover; the accepted rate uses the load's own elapsed time.
    jq -r --argjson t $((after - before)) --argjson m $((mafter - mbefore)) --argjson st $((safter - sbefore)) \
        --argjson hz "$clk_tck" --arg lg "$(awk '{ print $1 + $2 }' "$work/loadgen.time")" \
        --arg wall "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
        '[.acknowledged_items, .elapsed_seconds, ($t / $hz), ($lg | tonumber), ($m / $hz), ($wall | tonumber), ($st / $hz)] | @tsv' "$work/load.json"
}

printf 'round\tworkers\tacked\telapsed\tserver_cpu\tloadgen_cpu\tmachine_cpu\twall\tsteal\tloadavg\n' >"$work/results.tsv"
for round in $(seq "$ROUNDS"); do
    order=(1 2)
    ((round % 2 == 0)) && order=(2 1)
    for workers in "${order[@]}"; do
        cpus=$ONE_CPUS
        ((workers == 2)) && cpus=$TWO_CPUS
        echo "scaling: round $round/$ROUNDS, $workers worker thread(s) on CPU $cpus…" >&2
        line=$(measure "$workers" "$cpus")
        printf '%s\t%s\t%s\t%s\n' "$round" "$workers" "$line" "$(cut -d' ' -f1 /proc/loadavg)" >>"$work/results.tsv"
    done
done

[[ -n ${OUT:-} ]] && cp "$work/results.tsv" "$OUT"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'; }
col() { awk -F'\t' -v w="$1" -v e="$2" 'NR > 1 && $2 == w { print e == "rate" ? $3 / $4 : e == "percpu" ? $3 / $5 : e == "srv" ? $5 / $8 : e == "lg" ? $6 / $8 : e == "other" ? ($7 - $5 - $6) / $8 : e == "steal" ? $9 / $8 : $10 }' "$work/results.tsv"; }

printf '\nscaling: %s, compression %s, %s in flight, %s per measurement, %s rounds (medians); load generator on CPU %s\n' \
    "$PROTOCOL" "$COMPRESSION" "$CONCURRENCY" "$DURATION" "$ROUNDS" "$LOADGEN_CPU"
printf '%s\n\n' "$(uname -srm); $(nproc) CPUs; $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
printf 'CPU-seconds per wall second (the machine has %s): server, load generator, everything else here, stolen by the hypervisor\n' "$(nproc)"
printf '%-8s %14s %16s %8s %8s %8s %8s %10s\n' workers "accepted/s" "spans/cpu-sec" server loadgen other steal "loadavg"
for w in 1 2; do
    printf '%-8s %14.0f %16.0f %8.2f %8.2f %8.2f %8.2f %10s\n' "$w" \
        "$(col $w rate | median)" "$(col $w percpu | median)" "$(col $w srv | median)" \
        "$(col $w lg | median)" "$(col $w other | median)" "$(col $w steal | median)" "$(col $w load | median)"
done
awk -v a="$(col 1 rate | median)" -v b="$(col 2 rate | median)" \
    'BEGIN { printf "\n2 workers / 1 worker, accepted spans/s: %.2f\n", (a > 0 ? b / a : 0) }'
ratios=$(paste <(col 1 rate) <(col 2 rate) | awk '{ printf "%.2f ", ($1 > 0 ? $2 / $1 : 0) }')
echo "per round: $ratios"
