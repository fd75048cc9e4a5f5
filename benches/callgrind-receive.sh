#!/usr/bin/env bash
# Instruction counts of the whole receive path: `slotel run` (nop exporter) under
# `valgrind --tool=callgrind`, a fixed number of spans sent by `slotel loadgen`. The counts
# do not depend on the machine's load, so setups can be compared on a shared machine:
#
#   benches/callgrind-receive.sh                                   # no SLOs
#   SLO_FILES='benches/slo/five/*.yaml' benches/callgrind-receive.sh
#   SLO_FILES='benches/slo/ten/*.yaml' CAPTURE=1 benches/callgrind-receive.sh
#   SIGNAL=logs benches/callgrind-receive.sh                       # log records, no SLO
#   SIGNAL=logs SLO_FILES='benches/slo/logs/*.yaml' benches/callgrind-receive.sh
#
# Counting starts once the server is ready (`callgrind_control --zero`) and stops once the
# load generator has its answers (`--dump`), so start-up and shutdown are left out. Every
# thread of the server counts (receiving, the pipeline, the SLO engine, the capture writer).
#
# Environment:
#   BIN         the slotel binary (default: $CARGO_TARGET_DIR/release/slotel)
#   ITEMS       spans (log records) to send (default 204800: 400 requests of 512)
#   PROTOCOL    grpc (default) or http
#   SIGNAL      traces (default) or logs: the load generator's JSON-body log records
#   SLO_FILES   SLO file globs the server loads, comma-separated (default none)
#   CAPTURE=1   with `slo.capture` into a fresh directory
#   TOKEN       bearer-token auth: `plain` (a token with a tenant: spans are still read on
#               the wire) or `cluster` (the token binds a cluster, so every request is
#               decoded and the cluster set on it: the decoding path); default none
#   OUT         keep the callgrind profile at this path (for callgrind_annotate)
#
# Prints one line: setup, spans accepted, instructions, and instructions per span without
# the SLO status computations.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/slotel}
ITEMS=${ITEMS:-204800}
PROTOCOL=${PROTOCOL:-grpc}
SIGNAL=${SIGNAL:-traces}
case $SIGNAL in
    traces) item=spans ;;
    logs) item=log_records ;;
    *) echo "callgrind-receive: SIGNAL must be traces or logs" >&2; exit 2 ;;
esac

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
grpc_port=$(free_port)
http_port=$(free_port)
admin=127.0.0.1:$(free_port)
cfg=$work/slotel.yaml
{
    printf 'receivers:\n  otlp:\n    protocols:\n'
    printf '      grpc:\n        endpoint: 127.0.0.1:%s\n' "$grpc_port"
    printf '      http:\n        endpoint: 127.0.0.1:%s\n' "$http_port"
    if [[ -n ${TOKEN:-} ]]; then
        printf '    auth:\n      tokens:\n        - token: bench-token\n          tenant: bench\n'
        [[ $TOKEN == cluster ]] && printf '          cluster: bench-cluster\n'
    fi
    printf 'exporters:\n  nop:\n'
    printf 'service:\n  admin:\n    endpoint: %s\n' "$admin"
    printf '  telemetry:\n    logs:\n      level: warn\n'
    if [[ -n ${SLO_FILES:-} || -n ${CAPTURE:-} ]]; then
        printf 'slo:\n  files: [%s]\n  allow_empty: true\n' "${SLO_FILES:-}"
    fi
    if [[ -n ${CAPTURE:-} ]]; then
        printf '  capture:\n    directory: %s\n' "$work/capture"
    fi
} >"$cfg"

valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" \
    "$BIN" run --config "$cfg" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1200); do
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$admin/readyz" || true) == 200 ]] && break
    sleep 0.25
done
callgrind_control --zero "$server_pid" >/dev/null
if [[ $PROTOCOL == grpc ]]; then port=$grpc_port; else port=$http_port; fi
"$BIN" loadgen --signal "$SIGNAL" --protocol "$PROTOCOL" --endpoint "127.0.0.1:$port" --items "$ITEMS" \
    --concurrency 8 --seed 1 --duration 1h --report json ${TOKEN:+--token bench-token} >"$work/load.json"
# Requests are acknowledged once queued: wait until the pipeline's queues (the SLO
# connector's included) are empty three times in a row.
metric() {
    curl -fsS "http://$admin/metrics" | awk -v re="$1" '$1 ~ re { s += $NF } END { printf "%d\n", s }'
}
empty=0
for _ in $(seq 600); do
    if (($(metric '^slotel_(exporter_queue_items|queue_size_bytes)[{]') == 0)); then
        empty=$((empty + 1))
        ((empty >= 3)) && break
    else
        empty=0
    fi
    sleep 1
done
if [[ -n ${CAPTURE:-} ]]; then
    sleep 3 # the capture writer flushes every second
fi
callgrind_control --dump "$server_pid" >/dev/null
accepted=$(metric "^slotel_receiver_accepted_${item}_total({|\$)")
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
dump=$(ls "$work"/cg.*.1 2>/dev/null | head -1)
[[ -n $dump ]] || { echo "callgrind-receive: no dump" >&2; exit 1; }
ir=$(awk '/^summary:/ { print $2 }' "$dump")
# The SLO status (computed for /metrics, the series and the history every few seconds,
# so more often per span under valgrind's slowdown) is left out: it is not per span.
status=$(callgrind_annotate --inclusive=yes "$dump" 2>/dev/null |
    awk '/slotel::slo::engine::Engine::status \[/ { gsub(",", "", $1); s += $1 } END { printf "%d\n", s }')
[[ -n ${OUT:-} ]] && cp "$dump" "$OUT"
setup="$SIGNAL slos=[${SLO_FILES:-}]${CAPTURE:+ capture}${TOKEN:+ token=$TOKEN}"
awk -v s="$setup" -v a="$accepted" -v ir="$ir" -v st="$status" -v p="$PROTOCOL" -v i="$item" \
    'BEGIN { printf "%s %s: %d %s, %.0f instructions (%.0f of them SLO status), %.0f per item without the status\n", p, s, a, i, ir, st, (ir - st) / a }'
