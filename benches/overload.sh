#!/usr/bin/env bash
# Overload benchmark: resident memory, refusals and probe latency when clients offer more
# than the server can take.
#
#   benches/overload.sh                    # 1× and 2× capacity, 60 s each
#   PHASE_DURATION=30s FACTORS="1 2 4" benches/overload.sh
#
# 1. Capacity: `slotel loadgen` as fast as the server answers (8 in flight) for
#    CAPACITY_DURATION gives C spans/s.
# 2. For each factor F in FACTORS: `slotel loadgen --rate F×C` from the same fleet of
#    CONCURRENCY connections (one request in flight each, like collectors' consumers) for
#    PHASE_DURATION, while the server's VmRSS is sampled every 0.5 s and its admin
#    /healthz probe is timed every second.
#
# A fresh server per phase (so one phase's peak does not carry into the next), pinned to
# SERVER_CPU, `nop` exporter, default limits (memory_budget 192 MiB); the load generator
# runs on LOADGEN_CPU. Refused requests are not retried (the load stays offered).
#
# Environment: CAPACITY_DURATION (15s), PHASE_DURATION (60s), FACTORS ("1 2"),
# CONCURRENCY (256), ITEMS_PER_REQUEST (512), COMPRESSION (none), PROTOCOL (grpc),
# SERVER_CPU / LOADGEN_CPU (0 / 1), POD_LIMIT_MIB (1024, the Helm chart's limit),
# BIN (the slotel binary; default $CARGO_TARGET_DIR/release/slotel), NO_BUILD=1 (skip
# `cargo build --release`), SUMMARY_JSON (also write results as JSON).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

CAPACITY_DURATION=${CAPACITY_DURATION:-15s}
PHASE_DURATION=${PHASE_DURATION:-60s}
FACTORS=${FACTORS:-1 2}
CONCURRENCY=${CONCURRENCY:-256}
ITEMS_PER_REQUEST=${ITEMS_PER_REQUEST:-512}
COMPRESSION=${COMPRESSION:-none}
PROTOCOL=${PROTOCOL:-grpc}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
POD_LIMIT_MIB=${POD_LIMIT_MIB:-1024}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/slotel}

for tool in curl jq awk taskset; do
    command -v "$tool" >/dev/null || { echo "overload: $tool is required" >&2; exit 1; }
done
[[ -n ${NO_BUILD:-} ]] || cargo build --release --quiet

scratch server_pid load_pid

grpc_port=$(free_port)
http_port=$(free_port)
admin=127.0.0.1:$(free_port)
port=$grpc_port
[[ $PROTOCOL == http ]] && port=$http_port
write_config "$work/slotel.yaml" "$grpc_port" "$http_port" "$admin" "nop:"

start_server() {
    taskset -c "$SERVER_CPU" "$BIN" run --config "$work/slotel.yaml" >"$work/server.log" 2>&1 &
    server_pid=$!
    wait_ready "$server_pid" "$admin" "$work/server.log"
}
stop_server() {
    stop_pid "$server_pid"
    server_pid=""
}

load() { # load DURATION CONCURRENCY RATE OUT
    taskset -c "$LOADGEN_CPU" "$BIN" loadgen --protocol "$PROTOCOL" --endpoint "127.0.0.1:$port" \
        --items-per-request "$ITEMS_PER_REQUEST" --compression "$COMPRESSION" \
        --duration "$1" --concurrency "$2" --rate "$3" --report json >"$4"
}

echo "overload: capacity, $CAPACITY_DURATION as fast as the server answers…" >&2
start_server
load "$CAPACITY_DURATION" 8 0 "$work/capacity.json"
stop_server
capacity=$(jq -r '.acknowledged_items_per_second | floor' "$work/capacity.json")

summary="[]"
for factor in $FACTORS; do
    rate=$((capacity * factor))
    conc=$CONCURRENCY
    echo "overload: ${factor}× = $rate spans/s offered, $conc in flight, $PHASE_DURATION…" >&2
    start_server
    base_rss=$(rss_kib "$server_pid")
    load "$PHASE_DURATION" "$conc" "$rate" "$work/$factor.json" &
    load_pid=$!
    : >"$work/$factor.rss"
    : >"$work/$factor.probe"
    n=0
    while kill -0 "$load_pid" 2>/dev/null; do
        rss_kib "$server_pid" >>"$work/$factor.rss"
        if ((n % 2 == 0)); then
            curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}\n' "http://$admin/healthz" \
                >>"$work/$factor.probe" || echo "000 5" >>"$work/$factor.probe"
        fi
        n=$((n + 1))
        sleep 0.5
    done
    wait "$load_pid" || true
    load_pid=""
    alive=true
    kill -0 "$server_pid" 2>/dev/null || alive=false
    stop_server
    stats=$(jq -n --argjson factor "$factor" --argjson rate "$rate" --argjson conc "$conc" \
        --argjson base "$base_rss" --argjson alive "$alive" \
        --rawfile rss "$work/$factor.rss" --rawfile probe "$work/$factor.probe" \
        --slurpfile r "$work/$factor.json" '
        def pct(p): sort | .[((length - 1) * p | floor)];
        ($rss | split("\n") | map(select(length > 0) | tonumber / 1024)) as $m |
        ($probe | split("\n") | map(select(length > 0) | split(" "))) as $pr |
        {factor: $factor, offered_spans_per_second: $rate, in_flight: $conc,
         accepted_spans_per_second: ($r[0].acknowledged_items_per_second | floor),
         refused_retryable_requests: $r[0].refused.retryable_requests,
         refused_other_requests: ($r[0].refused.permanent_requests + $r[0].refused.transport_requests),
         rss_idle_mib: ($base / 1024 | floor),
         rss_median_mib: ($m | pct(0.5) | floor), rss_max_mib: ($m | max | floor),
         probe_failures: ($pr | map(select(.[0] != "200")) | length),
         probe_p50_ms: ($pr | map(.[1] | tonumber * 1000) | pct(0.5) | . * 10 | round / 10),
         probe_max_ms: ($pr | map(.[1] | tonumber * 1000) | max | . * 10 | round / 10),
         server_alive: $alive}')
    summary=$(jq -c --argjson s "$stats" '. + [$s]' <<<"$summary")
done

printf '\nslotel overload: %s, %s spans/request, compression %s; capacity %s spans/s; server on CPU %s, loadgen on CPU %s; %s per phase\n\n' \
    "$PROTOCOL" "$ITEMS_PER_REQUEST" "$COMPRESSION" "$capacity" "$SERVER_CPU" "$LOADGEN_CPU" "$PHASE_DURATION"
jq -r '(["load", "offered/s", "in flight", "accepted/s", "told to retry", "refused (other)",
         "RSS idle MiB", "RSS median MiB", "RSS max MiB", "probe p50 ms", "probe max ms", "probe fails", "alive"] | @tsv),
       (.[] | ["\(.factor)×", .offered_spans_per_second, .in_flight, .accepted_spans_per_second,
               .refused_retryable_requests, .refused_other_requests, .rss_idle_mib, .rss_median_mib,
               .rss_max_mib, .probe_p50_ms, .probe_max_ms, .probe_failures, .server_alive] | @tsv)' \
    <<<"$summary" | column -t -s $'\t'
verdict=$(jq -r --argjson limit "$POD_LIMIT_MIB" '
    (.[0].rss_max_mib) as $one |
    [.[] | select(.factor > 1) |
     "\(.factor)×: max RSS \(.rss_max_mib) MiB = \((.rss_max_mib / $one * 100 | round) / 100) of 1× " +
     (if .rss_max_mib <= $one * 1.2 and .rss_max_mib < $limit and .server_alive then "(flat: within 20% and under the \($limit) MiB limit)"
      else "(NOT flat)" end)] | .[]' <<<"$summary")
printf '\n%s\n' "$verdict"
[[ -n ${SUMMARY_JSON:-} ]] && jq --argjson c "$capacity" '{capacity_spans_per_second: $c, phases: .}' <<<"$summary" >"$SUMMARY_JSON"
! grep -q "NOT flat" <<<"$verdict"
