#!/usr/bin/env bash
# Side by side: slotel and rotel (a Rust OTLP collector) on the same machine, in one run.
# Both servers receive the same load from `slotel loadgen` (same seed, same requests) into
# an exporter that drops everything (slotel `nop`, rotel `blackhole`), each pinned to one
# CPU; rounds are interleaved (the order of the two servers alternates every round) and the
# figure is spans acknowledged per server CPU-second (user + system time of the server
# process from /proc/<pid>/stat), not per wall second, so a shared machine moves it less.
#
#   ROTEL_BIN=/path/to/rotel benches/compare-rotel.sh
#   ROTEL_BIN=… ROUNDS=9 DURATION=10s CASES='grpc http grpc-gzip http-gzip' benches/compare-rotel.sh
#
# This script builds nothing of rotel's: give it a rotel binary (BENCHMARKS.md says how the
# one measured there was built). It builds slotel's release binary unless NO_BUILD=1.
#
# Each round also runs the decode-only baseline (`slotel loadgen --decode-baseline`: the
# same pool of requests decompressed and decoded with `prost` into the opentelemetry-proto
# types, in a loop on one thread, in the slotel binary and so with its allocator, mimalloc)
# pinned to the server CPU, measured in CPU time as well: its CPU minus that of the same
# command stopped after one pass over its pool (building and checking the pool), per span
# decoded beyond that pass.
#
# Environment:
#   ROTEL_BIN          the rotel binary (required)
#   BIN                the slotel binary (default: $CARGO_TARGET_DIR/release/slotel)
#   ROUNDS             interleaved rounds (default 5); medians are reported
#   DURATION           load per server, case and round (default 10s)
#   WARMUP             load per server and case before the first round (default 2s)
#   BASELINE_ITEMS     spans the decode-only baseline decodes per compression and round
#                      (default 1048576; a fixed amount of work, so that a starved run
#                      still measures a second or so of CPU; 0 skips)
#   CASES              space-separated, from: grpc http grpc-gzip http-gzip
#                      (default: grpc http grpc-gzip)
#   CONCURRENCY        requests in flight (default 8)
#   ITEMS_PER_REQUEST  spans per request (default 512)
#   SEED               content seed (default 1)
#   SERVER_CPU / LOADGEN_CPU   CPUs for the servers and for the load generator (0 / 1)
#   OUT                keep the per-measurement table (TSV) at this path
#   NO_BUILD=1         skip `cargo build --release`

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

ROTEL_BIN=${ROTEL_BIN:?set ROTEL_BIN to a rotel binary}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/slotel}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
BASELINE_ITEMS=${BASELINE_ITEMS:-1048576}
CASES=${CASES:-grpc http grpc-gzip}
CONCURRENCY=${CONCURRENCY:-8}
ITEMS_PER_REQUEST=${ITEMS_PER_REQUEST:-512}
SEED=${SEED:-1}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}

for tool in curl jq awk taskset; do
    command -v "$tool" >/dev/null || { echo "compare-rotel: $tool is required" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "compare-rotel: /usr/bin/time (GNU time) is required" >&2; exit 1; }
[[ -x $ROTEL_BIN ]] || { echo "compare-rotel: $ROTEL_BIN is not executable" >&2; exit 1; }
for c in $CASES; do
    case $c in grpc | http | grpc-gzip | http-gzip) ;; *)
        echo "compare-rotel: unknown case $c" >&2; exit 1 ;;
    esac
done

if [[ -z ${NO_BUILD:-} ]]; then
    cargo build --release --quiet
fi

scratch slotel_pid rotel_pid

clk_tck=$(getconf CLK_TCK)

# wait_port PID PORT LOG: until something accepts connections on 127.0.0.1:PORT.
wait_port() {
    local pid=$1 port=$2 log=$3
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || { echo "a server exited during startup:" >&2; cat "$log" >&2; exit 1; }
        (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null && return
        sleep 0.1
    done
    echo "a server did not listen on $port within 30 s:" >&2
    cat "$log" >&2
    exit 1
}

# slotel: nop exporter, default limits.
s_grpc=$(free_port)
s_http=$(free_port)
s_admin=127.0.0.1:$(free_port)
write_config "$work/slotel.yaml" "$s_grpc" "$s_http" "$s_admin" "nop:"
taskset -c "$SERVER_CPU" "$BIN" run --config "$work/slotel.yaml" >"$work/slotel.log" 2>&1 &
slotel_pid=$!
wait_ready "$slotel_pid" "$s_admin" "$work/slotel.log"

# rotel: blackhole exporter, defaults otherwise (its batching, its allocator).
r_grpc=$(free_port)
r_http=$(free_port)
taskset -c "$SERVER_CPU" "$ROTEL_BIN" start --exporter blackhole \
    --otlp-grpc-endpoint "127.0.0.1:$r_grpc" --otlp-http-endpoint "127.0.0.1:$r_http" \
    --pid-file "$work/rotel.pid" --log-file "$work/rotel-daemon.log" >"$work/rotel.log" 2>&1 &
rotel_pid=$!
wait_port "$rotel_pid" "$r_grpc" "$work/rotel.log"
wait_port "$rotel_pid" "$r_http" "$work/rotel.log"

common=(--items-per-request "$ITEMS_PER_REQUEST" --seed "$SEED" --concurrency "$CONCURRENCY" --report json)

# measure SERVER CASE DURATION OUT_JSON: one load; prints "acked cpu_seconds elapsed refused rejected".
measure() {
    local server=$1 case=$2 duration=$3 out=$4 pid port protocol compression before after
    protocol=${case%-gzip}
    compression=none
    [[ $case == *-gzip ]] && compression=gzip
    if [[ $server == slotel ]]; then
        pid=$slotel_pid
        if [[ $protocol == grpc ]]; then port=$s_grpc; else port=$s_http; fi
    else
        pid=$rotel_pid
        if [[ $protocol == grpc ]]; then port=$r_grpc; else port=$r_http; fi
    fi
    before=$(pid_ticks "$pid")
    taskset -c "$LOADGEN_CPU" "$BIN" loadgen --protocol "$protocol" --endpoint "127.0.0.1:$port" \
        --compression "$compression" "${common[@]}" --duration "$duration" >"$out"
    after=$(pid_ticks "$pid")
    jq -r --argjson t $((after - before)) --argjson hz "$clk_tck" \
        '[.acknowledged_items, ($t / $hz), .elapsed_seconds,
          (.refused.retryable_items + .refused.permanent_items + .refused.transport_items),
          .rejected_items] | @tsv' "$out"
}

# baseline COMPRESSION: decode-only spans per CPU-second. The command first builds its pool
# of requests and decodes it once to check it; a second run stopped after one pass over the
# pool pays the same and decodes one pool's worth, so the difference of the two runs is the
# CPU of the extra spans decoded.
baseline() {
    local compression=$1 full setup items setup_items pool
    local args=(loadgen --decode-baseline --compression "$compression"
        --items-per-request "$ITEMS_PER_REQUEST" --seed "$SEED" --report json)
    # The pool's size (`loadgen/pool.rs`): at most 64 requests, at most about 1M items, at least 4.
    pool=$((1000000 / ITEMS_PER_REQUEST))
    ((pool < 4)) && pool=4
    ((pool > 64)) && pool=64
    /usr/bin/time -f '%U %S' -o "$work/time.full" taskset -c "$SERVER_CPU" "$BIN" "${args[@]}" \
        --items "$BASELINE_ITEMS" --duration 1h >"$work/baseline.json"
    /usr/bin/time -f '%U %S' -o "$work/time.setup" taskset -c "$SERVER_CPU" "$BIN" "${args[@]}" \
        --items $((pool * ITEMS_PER_REQUEST)) >"$work/baseline-setup.json"
    items=$(jq -r '.decoded_items' "$work/baseline.json")
    setup_items=$(jq -r '.decoded_items' "$work/baseline-setup.json")
    full=$(awk '{ print $1 + $2 }' "$work/time.full")
    setup=$(awk '{ print $1 + $2 }' "$work/time.setup")
    awk -v i="$items" -v si="$setup_items" -v f="$full" -v s="$setup" \
        'BEGIN { if (i > si && f > s) printf "%d\t%.3f\n", i - si, f - s; else printf "0\t0\n" }'
}

printf 'round\tcase\tserver\tacked\tcpu_s\telapsed_s\trefused\trejected\tspans_per_cpu_s\tspans_per_s\tloadavg\n' >"$work/results.tsv"

echo "compare-rotel: warm-up ($WARMUP per server and case)…" >&2
for case in $CASES; do
    for server in slotel rotel; do
        measure "$server" "$case" "$WARMUP" "$work/warmup.json" >/dev/null
    done
done

for round in $(seq "$ROUNDS"); do
    order=(slotel rotel)
    ((round % 2 == 0)) && order=(rotel slotel)
    for case in $CASES; do
        for server in "${order[@]}"; do
            echo "compare-rotel: round $round/$ROUNDS, $case, $server…" >&2
            read -r acked cpu elapsed refused rejected < <(measure "$server" "$case" "$DURATION" "$work/load.json")
            load=$(cut -d' ' -f1 /proc/loadavg)
            awk -v OFS='\t' -v r="$round" -v c="$case" -v s="$server" -v a="$acked" -v cpu="$cpu" \
                -v e="$elapsed" -v rf="$refused" -v rj="$rejected" -v l="$load" \
                'BEGIN { print r, c, s, a, cpu, e, rf, rj, (cpu > 0 ? a / cpu : 0), (e > 0 ? a / e : 0), l }' \
                >>"$work/results.tsv"
        done
    done
    if ((BASELINE_ITEMS > 0)); then
        compressions=(none)
        [[ $CASES == *gzip* ]] && compressions+=(gzip)
        for compression in "${compressions[@]}"; do
            echo "compare-rotel: round $round/$ROUNDS, decode-only baseline ($compression)…" >&2
            read -r items cpu < <(baseline "$compression")
            load=$(cut -d' ' -f1 /proc/loadavg)
            awk -v OFS='\t' -v r="$round" -v c="decode-$compression" -v i="$items" -v cpu="$cpu" -v l="$load" \
                'BEGIN { print r, c, "prost", i, cpu, "", 0, 0, (cpu > 0 ? i / cpu : 0), "", l }' \
                >>"$work/results.tsv"
        done
    fi
done

[[ -n ${OUT:-} ]] && cp "$work/results.tsv" "$OUT"

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print 0 } else if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'; }
col() { awk -F'\t' -v c="$1" -v s="$2" -v k="$3" 'NR > 1 && $2 == c && $3 == s { print $k }' "$work/results.tsv"; }

printf '\nslotel vs rotel: %s spans/request, %s in flight, %s per load, %s rounds (medians); servers on CPU %s, loadgen on CPU %s\n' \
    "$ITEMS_PER_REQUEST" "$CONCURRENCY" "$DURATION" "$ROUNDS" "$SERVER_CPU" "$LOADGEN_CPU"
printf '%s\n' "$(uname -srm); $(nproc) CPUs; $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
printf 'load average during the rounds: %s – %s\n' \
    "$(awk -F'\t' 'NR > 1 { print $11 }' "$work/results.tsv" | sort -g | head -1)" \
    "$(awk -F'\t' 'NR > 1 { print $11 }' "$work/results.tsv" | sort -g | tail -1)"
printf '\n%-10s %16s %16s %10s %12s %12s %16s %14s\n' case "slotel span/cpu" "rotel span/cpu" ratio "ratio range" "slotel /s" "rotel /s" "slotel refused"
for case in $CASES; do
    s=$(col "$case" slotel 9 | median)
    r=$(col "$case" rotel 9 | median)
    # Per-round ratios: each round's two measurements are next to each other in time.
    ratios=$(paste <(col "$case" slotel 9) <(col "$case" rotel 9) | awk '{ print ($2 > 0 ? $1 / $2 : 0) }')
    lo=$(sort -g <<<"$ratios" | head -1)
    hi=$(sort -g <<<"$ratios" | tail -1)
    sw=$(col "$case" slotel 10 | median)
    rw=$(col "$case" rotel 10 | median)
    refused=$(col "$case" slotel 7 | awk '{ s += $1 } END { print s + 0 }')
    awk -v c="$case" -v s="$s" -v r="$r" -v lo="$lo" -v hi="$hi" -v sw="$sw" -v rw="$rw" -v f="$refused" \
        'BEGIN { printf "%-10s %16.0f %16.0f %10.2f %5.2f–%-6.2f %12.0f %12.0f %14d\n", c, s, r, (r > 0 ? s / r : 0), lo, hi, sw, rw, f }'
done
for compression in none gzip; do
    b=$(col "decode-$compression" prost 9 | median)
    [[ $b == 0 ]] && continue
    printf '\ndecode-only (prost, mimalloc), %s: %.0f spans per CPU-second (median)\n' "$compression" "$b"
    for case in $CASES; do
        if [[ $compression == gzip ]]; then [[ $case == *-gzip ]] || continue; else [[ $case != *-gzip ]] || continue; fi
        s=$(col "$case" slotel 9 | median)
        awk -v c="$case" -v s="$s" -v b="$b" 'BEGIN { printf "  slotel %-10s / decode-only: %.2f\n", c, s / b }'
    done
done
bad=$(awk -F'\t' 'NR > 1 && ($7 > 0 || $8 > 0) { n++ } END { print n + 0 }' "$work/results.tsv")
if ((bad > 0)); then
    printf '\n%s measurement(s) had refused or rejected spans (see OUT):\n' "$bad"
    awk -F'\t' 'NR > 1 && ($7 > 0 || $8 > 0)' "$work/results.tsv"
fi
