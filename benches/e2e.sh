#!/usr/bin/env bash
# End-to-end receive benchmark: how many spans per second (and per server CPU-second) slotel
# accepts from OTLP clients, next to the decode-only baseline of the same requests.
#
#   benches/e2e.sh                      # gRPC, 20 s
#   DURATION=60s HTTP=1 benches/e2e.sh  # also OTLP/HTTP protobuf
#   EXPORTER='otlp/tempo: {endpoint: "@SINK@"}' benches/e2e.sh   # exporters off vs on
#
# Environment:
#   DURATION           load duration per protocol (default 20s)
#   BASELINE_DURATION  decode-only baseline duration (default 10s)
#   HTTP=1             also measure OTLP/HTTP (protobuf) after gRPC
#   CONCURRENCY        requests in flight (default 8)
#   ITEMS_PER_REQUEST  spans per request (default 512)
#   SEED               content seed (default 1)
#   COMPRESSION        request compression of the load generator: none (default), gzip or
#                      zstd (compressed once when the request pool is built)
#   SERVER_CPU / LOADGEN_CPU   CPUs to pin the server and the load generator to (0 / 1)
#   SUMMARY_JSON       also write the results as JSON to this path
#   NO_BUILD=1         skip `cargo build --release`
#   SLO_FILES          SLO file globs the server loads, comma-separated (default none),
#                      e.g. SLO_FILES=embedded:examples or SLO_FILES='benches/slo/ten/*.yaml'
#   EXPORTER           exporter config (YAML lines under `exporters:`) to measure against
#                      the `nop` exporter in the same run: the load runs once with `nop`
#                      ("off") and once with EXPORTER ("on"). `@SINK@` (host:port, OTLP
#                      gRPC) stands for `slotel loadgen --sink`, a backend that counts
#                      spans without decoding them and answers any other POST (remote
#                      write, Loki) with 204, so `http://@SINK@/api/v1/write` works too;
#                      `@SINK_HTTP@` (http://host:port,
#                      OTLP/HTTP) for a second slotel with a `nop` exporter.
#   SINK_CPU           CPU of that sink (default: LOADGEN_CPU)
#   STATE_DIR=1        also run with `slo.state_dir` set (SLO snapshots and the SLO
#                      write-ahead log, synced before each answer) after the run without
#                      it ("wal" against "off", same server config otherwise); use with
#                      SLO_FILES, or the log has nothing to write
#   CAPTURE=1          also run with `slo.capture` on ("cap" against "off", same server
#                      config otherwise): every request's span facts written as zstd
#                      Arrow IPC files; reports the spans captured and dropped
#   SLO_COST=1         also run with SLO_FILES loaded ("slos" against "off", which then
#                      loads no SLO file; same server config otherwise): the SLOs' cost
#
# With EXPORTER, after each "on" load the script waits until the span exporters' queues
# are empty and the sink has accepted every span, and reports the delivered rate over load
# + drain.
#
# The server runs with a `nop` exporter on random free ports, pinned to one CPU; the load
# generator runs on another. The server's CPU time comes from /proc/<pid>/stat, and the
# accepted count is cross-checked against the server's own /metrics.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

DURATION=${DURATION:-20s}
BASELINE_DURATION=${BASELINE_DURATION:-10s}
CONCURRENCY=${CONCURRENCY:-8}
ITEMS_PER_REQUEST=${ITEMS_PER_REQUEST:-512}
COMPRESSION=${COMPRESSION:-none}
SEED=${SEED:-1}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
SINK_CPU=${SINK_CPU:-$LOADGEN_CPU}
EXPORTER=${EXPORTER:-}
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

scratch server_pid sink_pid

# The backend for EXPORTER's @SINK@: `slotel loadgen --sink` (counts spans on the wire,
# so it costs little of the CPU it shares with the load generator); for @SINK_HTTP@:
# another slotel with a nop exporter.
sink_admin=""
if [[ $EXPORTER == *@SINK@* ]]; then
    sink_grpc_port=$(free_port)
    sink_admin=127.0.0.1:$sink_grpc_port
    taskset -c "$SINK_CPU" "$BIN" loadgen --sink "$sink_admin" >"$work/sink.log" 2>&1 &
    sink_pid=$!
    for _ in $(seq 100); do
        curl -sf "http://$sink_admin/metrics" >/dev/null && break
        sleep 0.1
    done
    EXPORTER=${EXPORTER//@SINK@/127.0.0.1:$sink_grpc_port}
elif [[ $EXPORTER == *@SINK_HTTP@* ]]; then
    sink_grpc_port=$(free_port)
    sink_http_port=$(free_port)
    sink_admin=127.0.0.1:$(free_port)
    write_config "$work/sink.yaml" "$sink_grpc_port" "$sink_http_port" "$sink_admin" "nop:"
    taskset -c "$SINK_CPU" "$BIN" run --config "$work/sink.yaml" >"$work/sink.log" 2>&1 &
    sink_pid=$!
    wait_ready "$sink_pid" "$sink_admin" "$work/sink.log"
    EXPORTER=${EXPORTER//@SINK_HTTP@/http://127.0.0.1:$sink_http_port}
fi

grpc_port=$(free_port)
http_port=$(free_port)
admin_port=$(free_port)
admin=127.0.0.1:$admin_port

# start_server EXPORTERS_YAML [STATE] [CAPTURE] [slos]: the server under test, pinned to
# SERVER_CPU; with STATE, its SLO state (and write-ahead log) in a fresh directory; with
# CAPTURE, `slo.capture` into a fresh directory.
start_server() {
    local cfg=$work/slotel.yaml slos=${SLO_FILES:-}
    # With SLO_COST, only the "slos" setup loads the SLO files.
    [[ -n ${SLO_COST:-} && ${4:-} != slos ]] && slos=""
    write_config "$cfg" "$grpc_port" "$http_port" "$admin" "$1"
    if [[ -n $slos || -n ${2:-} || -n ${3:-} ]]; then
        printf 'slo:\n  files: [%s]\n  allow_empty: true\n' "$slos" >>"$cfg"
    fi
    if [[ -n ${2:-} ]]; then
        rm -rf "$work/state"
        printf '  state_dir: %s\n' "$work/state" >>"$cfg"
    fi
    if [[ -n ${3:-} ]]; then
        rm -rf "$work/capture"
        printf '  capture:\n    directory: %s\n' "$work/capture" >>"$cfg"
    fi
    taskset -c "$SERVER_CPU" "$BIN" run --config "$cfg" >"$work/server.log" 2>&1 &
    server_pid=$!
    wait_ready "$server_pid" "$admin" "$work/server.log"
}

clk_tck=$(getconf CLK_TCK)

server_ticks() { pid_ticks "$server_pid"; }

common=(--items-per-request "$ITEMS_PER_REQUEST" --compression "$COMPRESSION" --seed "$SEED")

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
setups=(off)
[[ -n $EXPORTER ]] && setups+=(on)
[[ -n ${STATE_DIR:-} ]] && setups+=(wal)
[[ -n ${CAPTURE:-} ]] && setups+=(cap)
if [[ -n ${SLO_COST:-} ]]; then
    [[ -n ${SLO_FILES:-} ]] || { echo "e2e: SLO_COST needs SLO_FILES" >&2; exit 2; }
    setups+=(slos)
fi
runs=()
all_match=1
for setup in "${setups[@]}"; do
    case $setup in
        off) start_server "nop:" ;;
        wal) start_server "nop:" state ;;
        cap) start_server "nop:" "" capture ;;
        slos) start_server "nop:" "" "" slos ;;
        *) start_server "$EXPORTER" ;;
    esac
    for protocol in "${protocols[@]}"; do
        if [[ $protocol == grpc ]]; then port=$grpc_port; else port=$http_port; fi
        name=$protocol
        ((${#setups[@]} > 1)) && name=$protocol-$setup
        echo "e2e: $name load for $DURATION ($CONCURRENCY in flight, $ITEMS_PER_REQUEST spans/request)…" >&2
        run_load "$name" "$protocol" "$port"
        runs+=("$name")
        if [[ $setup == on ]]; then
            # Delivery: wait until the exporter's queue is empty and the sink has it all.
            start=$(date +%s.%N)
            for _ in $(seq 1200); do
                # Span exporters only (`otlp…`): remote write delivers series, not spans.
                queued=$(metric "$admin" '^slotel_exporter_queue_items[{].*exporter="otlp')
                delivered=$(metric "$admin" '^slotel_exporter_delivered_items_total[{].*exporter="otlp')
                accepted=$(metric "$admin" '^slotel_receiver_accepted_spans_total({|$)')
                sunk=$delivered
                [[ -n $sink_admin ]] && sunk=$(metric "$sink_admin" '^slotel_receiver_accepted_spans_total({|$)')
                ((queued == 0 && delivered >= accepted && sunk >= delivered)) && break
                sleep 0.1
            done
            awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", b - a }' >"$work/$name.drain"
            echo "$delivered $sunk" >"$work/$name.delivered"
        fi
    done
    # Cross-check: the server's accepted counter (summed over labels) against what the
    # load generator saw acknowledged.
    acknowledged=0
    for protocol in "${protocols[@]}"; do
        name=$protocol
        ((${#setups[@]} > 1)) && name=$protocol-$setup
        acknowledged=$((acknowledged + $(jq -r '.acknowledged_items' "$work/$name.json")))
    done
    server_accepted=$(metric "$admin" '^slotel_receiver_accepted_spans_total({|$)')
    echo "$server_accepted $acknowledged" >"$work/$setup.check"
    [[ $server_accepted == "$acknowledged" ]] || all_match=""
    if [[ $setup == cap ]]; then
        sleep 2 # the writer flushes every second
        echo "$(metric "$admin" '^slotel_slo_capture_spans_total') $(metric "$admin" '^slotel_slo_capture_dropped_spans_total') $(du -sb "$work/capture" | cut -f1)" >"$work/cap.captured"
    fi
    # Stop the server before the next setup and the baseline, so each has its CPU to itself.
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
done

echo "e2e: decode-only baseline for $BASELINE_DURATION…" >&2
taskset -c "$SERVER_CPU" "$BIN" loadgen --decode-baseline "${common[@]}" \
    --duration "$BASELINE_DURATION" --report json >"$work/baseline.json"
baseline=$(jq -r '.decoded_items_per_second' "$work/baseline.json")

printf '\nslotel e2e: traces, %s spans/request, compression %s, %s in flight, %s per protocol; server on CPU %s, loadgen on CPU %s\n' \
    "$ITEMS_PER_REQUEST" "$COMPRESSION" "$CONCURRENCY" "$DURATION" "$SERVER_CPU" "$LOADGEN_CPU"
if [[ -n $EXPORTER ]]; then
    printf 'exporter under test ("on"; "off" is nop)%s:\n%s\n' \
        "${sink_pid:+; sink on CPU $SINK_CPU}" "$EXPORTER"
fi
printf '\n%-10s %14s %12s %16s %18s %10s %10s %10s\n' protocol "accepted/s" "server cpu" "spans/cpu-sec" "decode-only/s" ratio refused rejected
summary="[]"
for name in "${runs[@]}"; do
    report=$work/$name.json
    cpu=$(<"$work/$name.cpu")
    read -r rate acked refused rejected < <(jq -r '[.acknowledged_items_per_second, .acknowledged_items,
        (.refused.retryable_items + .refused.permanent_items + .refused.transport_items),
        .rejected_items] | @tsv' "$report")
    read -r per_cpu ratio < <(awk -v a="$acked" -v c="$cpu" -v r="$rate" -v b="$baseline" \
        'BEGIN { printf "%.0f %.3f\n", (c > 0 ? a / c : 0), (b > 0 ? r / b : 0) }')
    printf '%-10s %14.0f %11.2fs %16s %18.0f %10s %10s %10s\n' \
        "$name" "$rate" "$cpu" "$per_cpu" "$baseline" "$ratio" "$refused" "$rejected"
    summary=$(jq -c --arg p "$name" --argjson cpu "$cpu" --argjson per_cpu "$per_cpu" \
        --argjson baseline "$baseline" --argjson ratio "$ratio" --slurpfile r "$report" \
        '. + [{protocol: $p, accepted_spans_per_second: $r[0].acknowledged_items_per_second,
               server_cpu_seconds: $cpu, spans_per_server_cpu_second: $per_cpu,
               decode_only_spans_per_second: $baseline, ratio_to_decode_only: $ratio,
               report: $r[0]}]' <<<"$summary")
done

if [[ -n $EXPORTER ]]; then
    printf '\n%-10s %14s %16s %10s %14s %16s\n' protocol "on/off acc/s" "on/off span/cpu" drain "delivered/s" "delivered/off"
    for protocol in "${protocols[@]}"; do
        read -r _ sunk <"$work/$protocol-on.delivered"
        drain=$(<"$work/$protocol-on.drain")
        read -r acc_ratio cpu_ratio deliv_rate deliv_ratio < <(jq -rs \
            --argjson d "$drain" --argjson n "$sunk" \
            --argjson cpu_off "$(<"$work/$protocol-off.cpu")" --argjson cpu_on "$(<"$work/$protocol-on.cpu")" '
            (.[0].acknowledged_items_per_second) as $off | (.[1].acknowledged_items_per_second) as $on |
            ($n / (.[1].elapsed_seconds + $d)) as $dr |
            [($on / $off),
             ((.[1].acknowledged_items / ([$cpu_on, 0.001] | max)) / (.[0].acknowledged_items / ([$cpu_off, 0.001] | max))),
             $dr, ($dr / $off)] | map(. * 1000 | round / 1000) | @tsv' \
            "$work/$protocol-off.json" "$work/$protocol-on.json")
        printf '%-10s %14s %16s %9ss %14.0f %16s\n' "$protocol" "$acc_ratio" "$cpu_ratio" "$drain" "$deliv_rate" "$deliv_ratio"
    done
    echo "(delivered/s: spans the sink accepted, over the load plus the time the queue took to drain)"
fi

# ratio_table SETUP: SETUP's accepted spans per second and per server CPU-second over "off"'s.
ratio_table() {
    printf '\n%-10s %16s %18s\n' protocol "$1/off acc/s" "$1/off span/cpu"
    for protocol in "${protocols[@]}"; do
        read -r acc_ratio cpu_ratio < <(jq -rs \
            --argjson cpu_off "$(<"$work/$protocol-off.cpu")" --argjson cpu_on "$(<"$work/$protocol-$1.cpu")" '
            [(.[1].acknowledged_items_per_second / .[0].acknowledged_items_per_second),
             ((.[1].acknowledged_items / ([$cpu_on, 0.001] | max)) / (.[0].acknowledged_items / ([$cpu_off, 0.001] | max)))]
            | map(. * 1000 | round / 1000) | @tsv' \
            "$work/$protocol-off.json" "$work/$protocol-$1.json")
        printf '%-10s %16s %18s\n' "$protocol" "$acc_ratio" "$cpu_ratio"
    done
}

[[ -n ${STATE_DIR:-} ]] && ratio_table wal
[[ -n ${SLO_COST:-} ]] && ratio_table slos

if [[ -n ${CAPTURE:-} ]]; then
    ratio_table cap
    read -r captured dropped bytes <"$work/cap.captured"
    printf 'capture: %s spans written, %s dropped (queue full), %s bytes on disk\n' "$captured" "$dropped" "$bytes"
fi

for setup in "${setups[@]}"; do
    read -r server_accepted acknowledged <"$work/$setup.check"
    label=""
    ((${#setups[@]} > 1)) && label=" ($setup)"
    printf '\n/metrics slotel_receiver_accepted_spans_total%s = %s, loadgen acknowledged = %s: ' \
        "$label" "$server_accepted" "$acknowledged"
    if [[ $server_accepted == "$acknowledged" ]]; then echo "match"; else echo "MISMATCH"; fi
done
if [[ -n ${SUMMARY_JSON:-} ]]; then
    jq --argjson accepted "$server_accepted" '{runs: ., server_accepted_spans_total: $accepted}' \
        <<<"$summary" >"$SUMMARY_JSON"
fi
[[ -n $all_match ]]
