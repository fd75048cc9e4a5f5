#!/usr/bin/env bash
# End-to-end receive benchmark: how many spans per second (and per server CPU-second) slotel
# accepts from OTLP clients, next to the decode-only baseline of the same requests.
#
#   benches/e2e.sh                      # gRPC, 20 s
#   DURATION=60s HTTP=1 benches/e2e.sh  # also OTLP/HTTP protobuf
#
# Environment:
#   DURATION           load duration per protocol (default 20s)
#   BASELINE_DURATION  decode-only baseline duration (default 10s)
#   HTTP=1             also measure OTLP/HTTP (protobuf) after gRPC
#   CONCURRENCY        requests in flight (default 8)
#   ITEMS_PER_REQUEST  spans per request (default 512)
#   SEED               content seed (default 1)
#   SERVER_CPU / LOADGEN_CPU   CPUs to pin the server and the load generator to (0 / 1)
#   SUMMARY_JSON       also write the results as JSON to this path
#   NO_BUILD=1         skip `cargo build --release`
#   SLO_FILES          SLO file globs the server loads, comma-separated (default none),
#                      e.g. SLO_FILES=embedded:examples or SLO_FILES='benches/slo/ten/*.yaml'
#
# The server runs with a `nop` exporter on random free ports, pinned to one CPU; the load
# generator runs on another. The server's CPU time comes from /proc/<pid>/stat, and the
# accepted count is cross-checked against the server's own /metrics.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-20s}
BASELINE_DURATION=${BASELINE_DURATION:-10s}
CONCURRENCY=${CONCURRENCY:-8}
ITEMS_PER_REQUEST=${ITEMS_PER_REQUEST:-512}
SEED=${SEED:-1}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
BIN=${CARGO_TARGET_DIR:-target}/release/slotel

for tool in curl jq awk taskset; do
    command -v "$tool" >/dev/null || { echo "e2e: $tool is required" >&2; exit 1; }
done
if (($(nproc) < 2)); then
    echo "e2e: needs at least 2 CPUs to pin server and load generator apart" >&2
    exit 1
fi

if [[ -z ${NO_BUILD:-} ]]; then
    cargo build --release --quiet
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nobody listens on right now (the kernel picks it; a tiny race is acceptable here).
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        local port
        while :; do
            port=$((20000 + RANDOM % 40000))
            (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null || { echo "$port"; return; }
        done
    fi
}

grpc_port=$(free_port)
http_port=$(free_port)
admin_port=$(free_port)
admin=127.0.0.1:$admin_port

cfg=$work/slotel.yaml
cat >"$cfg" <<EOF
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$grpc_port
      http:
        endpoint: 127.0.0.1:$http_port
exporters:
  nop:
service:
  admin:
    endpoint: $admin
  telemetry:
    logs:
      level: warn
EOF
if [[ -n ${SLO_FILES:-} ]]; then
    printf 'slo:\n  files: [%s]\n' "$SLO_FILES" >>"$cfg"
fi

taskset -c "$SERVER_CPU" "$BIN" run --config "$cfg" >"$work/server.log" 2>&1 &
server_pid=$!

ready=""
for _ in $(seq 300); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "e2e: the server exited during startup:" >&2
        cat "$work/server.log" >&2
        exit 1
    fi
    if [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$admin/readyz" || true) == 200 ]]; then
        ready=1
        break
    fi
    sleep 0.1
done
if [[ -z $ready ]]; then
    echo "e2e: the server did not become ready within 30 s:" >&2
    cat "$work/server.log" >&2
    exit 1
fi

clk_tck=$(getconf CLK_TCK)

# User + system CPU time of the server so far, in clock ticks. The command name in field 2
# may contain spaces, so fields are counted after its closing parenthesis.
server_ticks() {
    local stat
    local -a fields
    stat=$(<"/proc/$server_pid/stat")
    stat=${stat##*) }
    read -r -a fields <<<"$stat"
    echo $((fields[11] + fields[12]))
}

common=(--items-per-request "$ITEMS_PER_REQUEST" --compression none --seed "$SEED")

# run_load NAME PROTOCOL PORT: one load run; leaves $work/NAME.json and $work/NAME.cpu.
run_load() {
    local name=$1 protocol=$2 port=$3 before after
    before=$(server_ticks)
    taskset -c "$LOADGEN_CPU" "$BIN" loadgen --protocol "$protocol" --endpoint "127.0.0.1:$port" \
        "${common[@]}" --concurrency "$CONCURRENCY" --duration "$DURATION" --report json \
        >"$work/$name.json"
    after=$(server_ticks)
    awk -v t=$((after - before)) -v hz="$clk_tck" 'BEGIN { printf "%.3f\n", t / hz }' >"$work/$name.cpu"
}

protocols=(grpc)
[[ -n ${HTTP:-} ]] && protocols+=(http)
for protocol in "${protocols[@]}"; do
    if [[ $protocol == grpc ]]; then port=$grpc_port; else port=$http_port; fi
    echo "e2e: $protocol load for $DURATION ($CONCURRENCY in flight, $ITEMS_PER_REQUEST spans/request)…" >&2
    run_load "$protocol" "$protocol" "$port"
done

# Cross-check: the server's accepted counter (summed over labels) against what the load
# generator saw acknowledged.
acknowledged=0
for protocol in "${protocols[@]}"; do
    acknowledged=$((acknowledged + $(jq -r '.acknowledged_items' "$work/$protocol.json")))
done
server_accepted=$(curl -fsS "http://$admin/metrics" |
    awk '$1 ~ /^slotel_receiver_accepted_spans_total({|$)/ { s += $NF } END { printf "%d\n", s }')

# Stop the server before the baseline so that the baseline has its CPU to itself.
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""

echo "e2e: decode-only baseline for $BASELINE_DURATION…" >&2
taskset -c "$SERVER_CPU" "$BIN" loadgen --decode-baseline "${common[@]}" \
    --duration "$BASELINE_DURATION" --report json >"$work/baseline.json"
baseline=$(jq -r '.decoded_items_per_second' "$work/baseline.json")

printf '\nslotel e2e: traces, %s spans/request, %s in flight, %s per protocol; server on CPU %s, loadgen on CPU %s\n\n' \
    "$ITEMS_PER_REQUEST" "$CONCURRENCY" "$DURATION" "$SERVER_CPU" "$LOADGEN_CPU"
printf '%-10s %14s %12s %16s %18s %10s %10s %10s\n' protocol "accepted/s" "server cpu" "spans/cpu-sec" "decode-only/s" ratio refused rejected
summary="[]"
for protocol in "${protocols[@]}"; do
    report=$work/$protocol.json
    cpu=$(<"$work/$protocol.cpu")
    read -r rate acked refused rejected < <(jq -r '[.acknowledged_items_per_second, .acknowledged_items,
        (.refused.retryable_items + .refused.permanent_items + .refused.transport_items),
        .rejected_items] | @tsv' "$report")
    read -r per_cpu ratio < <(awk -v a="$acked" -v c="$cpu" -v r="$rate" -v b="$baseline" \
        'BEGIN { printf "%.0f %.3f\n", (c > 0 ? a / c : 0), (b > 0 ? r / b : 0) }')
    printf '%-10s %14.0f %11.2fs %16s %18.0f %10s %10s %10s\n' \
        "$protocol" "$rate" "$cpu" "$per_cpu" "$baseline" "$ratio" "$refused" "$rejected"
    summary=$(jq -c --arg p "$protocol" --argjson cpu "$cpu" --argjson per_cpu "$per_cpu" \
        --argjson baseline "$baseline" --argjson ratio "$ratio" --slurpfile r "$report" \
        '. + [{protocol: $p, accepted_spans_per_second: $r[0].acknowledged_items_per_second,
               server_cpu_seconds: $cpu, spans_per_server_cpu_second: $per_cpu,
               decode_only_spans_per_second: $baseline, ratio_to_decode_only: $ratio,
               report: $r[0]}]' <<<"$summary")
done

printf '\n/metrics slotel_receiver_accepted_spans_total = %s, loadgen acknowledged = %s: ' \
    "$server_accepted" "$acknowledged"
if [[ $server_accepted == "$acknowledged" ]]; then
    echo "match"
else
    echo "MISMATCH"
fi
if [[ -n ${SUMMARY_JSON:-} ]]; then
    jq --argjson accepted "$server_accepted" '{runs: ., server_accepted_spans_total: $accepted}' \
        <<<"$summary" >"$SUMMARY_JSON"
fi
[[ $server_accepted == "$acknowledged" ]]
