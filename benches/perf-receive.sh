#!/usr/bin/env bash
# CPU time of the receive path per span, by function, sampled in real time: `slotel run`
# (nop exporter) pinned to one CPU under a steady `slotel loadgen` load from another, with
# `perf record -e cpu-clock` on the server. Where callgrind-receive.sh counts instructions
# (repeatable, but blind to branch mispredictions and cache misses), this measures what
# the CPU spent, so that a change that saves instructions but not time shows:
#
#   benches/perf-receive.sh                                        # no SLOs
#   SLO_FILES='benches/slo/five/*.yaml' benches/perf-receive.sh
#   SLO_FILES='benches/slo/ten/*.yaml' CAPTURE=1 benches/perf-receive.sh
#   SIGNAL=logs SLO_FILES='benches/slo/logs/*.yaml' benches/perf-receive.sh
#   SIGNAL=metrics SLO_FILES='benches/slo/metrics/*.yaml' CAPTURE=1 benches/perf-receive.sh
#   ENCODING=json benches/perf-receive.sh                          # OTLP/HTTP JSON bodies
#
# The figure is per span accepted during the sampled seconds (the server's accepted
# counter read before and after), so the machine's other load moves it less than a rate
# does; compare setups or builds run one after the other, several times.
#
# Environment:
#   BIN          the slotel binary (default: $CARGO_TARGET_DIR/release/slotel)
#   SLO_FILES    SLO file globs the server loads, comma-separated (default none)
#   CAPTURE=1    with `slo.capture` into a fresh directory
#   SIGNAL       traces (default), logs (the load generator's JSON-body log records) or
#                metrics (its histograms, counters and gauges),
#                the figures then per log record or data point
#   ENCODING     protobuf over gRPC (default) or json (OTLP/HTTP with JSON bodies)
#   SECONDS_     seconds sampled (default 8), after 1 s of warm-up
#   FREQ         samples per CPU-second (default 4000)
#   TOP          functions listed (default 25)
#   OUT          keep perf.data and the report in this directory
#   SERVER_CPU / LOADGEN_CPU  (0 / 1)
#   CALLGRAPH    perf's --call-graph mode (for example `dwarf,16384`): record call chains,
#                kept in OUT's perf.data for `perf report --children`
#
# Prints: spans sampled, CPU nanoseconds a span in all (user and kernel), then the TOP
# functions with their nanoseconds a span; with CAPTURE=1 also the capture's bytes on disk
# a span received.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/slotel}
SAMPLED=${SECONDS_:-8}
FREQ=${FREQ:-4000}
TOP=${TOP:-25}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
SIGNAL=${SIGNAL:-traces}
ENCODING=${ENCODING:-protobuf}
case $SIGNAL in
    traces) item=spans noun=spans one=span ;;
    logs) item=log_records noun="log records" one=record ;;
    metrics) item=metric_points noun="data points" one=point ;;
    *) echo "perf-receive: SIGNAL must be traces, logs or metrics" >&2; exit 2 ;;
esac
command -v perf >/dev/null || { echo "perf-receive: perf is required (Debian: linux-perf)" >&2; exit 1; }

scratch server_pid load_pid

grpc_port=$(free_port)
http_port=$(free_port)
admin=127.0.0.1:$(free_port)
cfg=$work/slotel.yaml
write_config "$cfg" "$grpc_port" "$http_port" "$admin" "nop:"
if [[ -n ${SLO_FILES:-} || -n ${CAPTURE:-} ]]; then
    printf 'slo:\n  files: [%s]\n  allow_empty: true\n' "${SLO_FILES:-}" >>"$cfg"
fi
[[ -n ${CAPTURE:-} ]] && printf '  capture:\n    directory: %s\n' "$work/capture" >>"$cfg"

taskset -c "$SERVER_CPU" "$BIN" run --config "$cfg" >"$work/server.log" 2>&1 &
server_pid=$!
wait_ready "$server_pid" "$admin" "$work/server.log"
case $ENCODING in
    protobuf) transport=(--protocol grpc --endpoint "127.0.0.1:$grpc_port") ;;
    json) transport=(--protocol http --encoding json --endpoint "127.0.0.1:$http_port") ;;
    *) echo "perf-receive: ENCODING must be protobuf or json" >&2; exit 2 ;;
esac
taskset -c "$LOADGEN_CPU" "$BIN" loadgen --signal "$SIGNAL" "${transport[@]}" \
    --items-per-request 512 --seed 1 --concurrency 8 --duration "$((SAMPLED + 3))s" \
    --report json >"$work/load.json" &
load_pid=$!
sleep 1
accepted() { metric "$admin" "^slotel_receiver_accepted_${item}_total({|\$)"; }
before=$(accepted)
perf record -q -F "$FREQ" -e cpu-clock ${CALLGRAPH:+--call-graph "$CALLGRAPH"} -p "$server_pid" -o "$work/perf.data" -- sleep "$SAMPLED" 2>/dev/null
after=$(accepted)
wait "$load_pid" || true
load_pid=""
spans=$((after - before))
((spans > 0)) || { echo "perf-receive: no ${one} accepted while sampling" >&2; exit 1; }

perf report -i "$work/perf.data" --no-children --sort symbol -n -g none --stdio 2>/dev/null |
    awk '/^ *[0-9.]+%/ { n = $2; $1 = ""; $2 = ""; $3 = ""; sub(/^ +/, ""); sub(/ +- +- *$/, ""); print n "\t" $0 }' \
        >"$work/symbols.tsv"
awk -F'\t' -v spans="$spans" -v freq="$FREQ" -v top="$TOP" \
    -v setup="encoding=$ENCODING slo_files=${SLO_FILES:-none} capture=${CAPTURE:-0}" -v noun="$noun" -v one="$one" '
    { n[NR] = $1; s[NR] = $2; total += $1 }
    END {
        ns = 1e9 / freq / spans
        printf "%s: %d %s sampled, %.1f CPU ns a %s (%d samples at %d Hz)\n", setup, spans, noun, total * ns, one, total, freq
        for (i = 1; i <= NR && i <= top; i++) printf "%10.2f  %s\n", n[i] * ns, s[i]
    }' "$work/symbols.tsv"
if [[ -n ${CAPTURE:-} ]]; then
    # What the capture wrote, once its writer has flushed (it does within 3 s of receipt).
    sleep 4
    total=$(metric "$admin" "^slotel_receiver_accepted_${item}_total({|\$)")
    bytes=$(find "$work/capture" -type f -printf '%s\n' | awk '{ b += $1 } END { print b + 0 }')
    awk -v b="$bytes" -v t="$total" -v one="$one" \
        'BEGIN { printf "capture: %d bytes on disk for %d %ss received, %.2f bytes a %s\n", b, t, one, b / t, one }'
fi
if [[ -n ${OUT:-} ]]; then
    mkdir -p "$OUT"
    cp "$work/perf.data" "$work/symbols.tsv" "$OUT/"
fi
