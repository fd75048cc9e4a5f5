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
#   COMPRESSION=gzip benches/callgrind-receive.sh                  # gzip clients over gRPC
#
# Counting starts once the server is ready (`callgrind_control --zero`) and stops once the
# pipeline's queues are empty after the load generator has its answers (`--dump`), so
# start-up and shutdown are left out. Every thread of the server counts (receiving, the
# pipeline, the SLO engine, the capture writer) except the admin listener's: the script
# polls `/metrics` to see the queues empty, and each poll computes the SLO status, which is
# not per span (each thread is profiled on its own, `--separate-threads=yes`, and the
# admin thread — the only one running a current-thread runtime — is left out). The SLO
# series export, not per span and run every few seconds (so far more often per span under
# valgrind's slowdown than live), is set to once a day; the status history's samples
# (every 15 s, not configurable) are counted and then subtracted.
#
# Environment:
#   BIN         the slotel binary (default: $CARGO_TARGET_DIR/release/slotel)
#   ITEMS       spans (log records) to send (default 204800: 400 requests of 512)
#   CONCURRENCY requests in flight (default 2: more makes the slowed-down server refuse
#               some, and the figure per accepted item then counts refusals too)
#   PROTOCOL    grpc (default) or http
#   ENCODING    protobuf (default) or json (OTLP/HTTP JSON bodies; needs PROTOCOL=http)
#   COMPRESSION none (default), gzip or zstd: the load generator compresses each request
#               once (gRPC: the message, `grpc-encoding`; HTTP: the body)
#   SIGNAL      traces (default) or logs: the load generator's JSON-body log records
#   SLO_FILES   SLO file globs the server loads, comma-separated (default none)
#   CAPTURE=1   with `slo.capture` into a fresh directory
#   TOKEN       bearer-token auth: `plain` (a token with a tenant: spans are still read on
#               the wire) or `cluster` (the token binds a cluster, so every request is
#               decoded and the cluster set on it: the decoding path); default none
#   OUT         keep the counted threads' profiles in this directory (one file a thread,
#               for `callgrind_annotate`; its earlier cg.* files are removed)
#
# Prints one line: setup, items (spans or log records) accepted of those sent,
# instructions, those of the status history, instructions per accepted item without the
# history, and the instructions of the SLO status computations (all of them, within the
# history or not: a check that nothing else periodic was counted).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/slotel}
ITEMS=${ITEMS:-204800}
PROTOCOL=${PROTOCOL:-grpc}
ENCODING=${ENCODING:-protobuf}
COMPRESSION=${COMPRESSION:-none}
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
        printf '  export_interval: 24h\n  history_interval: 24h\n'
    fi
    if [[ -n ${CAPTURE:-} ]]; then
        printf '  capture:\n    directory: %s\n' "$work/capture"
    fi
} >"$cfg"

valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/cg.%p" \
    "$BIN" run --config "$cfg" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1200); do
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$admin/readyz" || true) == 200 ]] && break
    sleep 0.25
done
callgrind_control --zero "$server_pid" >/dev/null
if [[ $PROTOCOL == grpc ]]; then port=$grpc_port; else port=$http_port; fi
"$BIN" loadgen --signal "$SIGNAL" --protocol "$PROTOCOL" --encoding "$ENCODING" --endpoint "127.0.0.1:$port" \
    --items "$ITEMS" --concurrency "${CONCURRENCY:-2}" --compression "$COMPRESSION" --seed 1 --duration 1h --report json \
    ${TOKEN:+--token bench-token} >"$work/load.json"
# Requests are acknowledged once queued: wait until the pipeline's queues (the SLO
# connector's included) are empty three times in a row.
metric() {
    curl -fsS "http://$admin/metrics" | awk -v re="$1" '$1 ~ re { s += $NF } END { printf "%.0f\n", s }'
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
curl -fsS "http://$admin/metrics" | grep -E '^slotel_receiver_refused_requests_total' >&2 || true
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
# One dump per thread: cg.<pid>.1-<thread>. The admin listener's thread is left out.
counted=()
for dump in "$work"/cg.*.1-*; do
    [[ -e $dump ]] || continue
    grep -q 'scheduler::current_thread' "$dump" || counted+=("$dump")
done
((${#counted[@]} > 0)) || { echo "callgrind-receive: no dump" >&2; exit 1; }
ir=$(cat "${counted[@]}" | awk '/^summary:/ { s += $2 } END { printf "%.0f\n", s }')
# Inclusive instructions of a function (its own entry, "name [binary]") over the threads.
inclusive() {
    for dump in "${counted[@]}"; do callgrind_annotate --inclusive=yes "$dump" 2>/dev/null; done |
        awk -v f="$1 [" 'index($0, f) { gsub(",", "", $1); s += $1 } END { printf "%.0f\n", s }'
}
history=$(inclusive 'slotel::slo::history::History::sample')
status=$(inclusive 'slotel::slo::engine::Engine::status')
if [[ -n ${OUT:-} ]]; then
    mkdir -p "$OUT"
    rm -f "$OUT"/cg.*
    cp "${counted[@]}" "$OUT"/
fi
compressed=""
[[ $COMPRESSION == none ]] || compressed=" $COMPRESSION"
setup="$SIGNAL$compressed slos=[${SLO_FILES:-}]${CAPTURE:+ capture}${TOKEN:+ token=$TOKEN}"
awk -v s="$setup" -v a="$accepted" -v n="$ITEMS" -v ir="$ir" -v h="$history" -v st="$status" -v p="$PROTOCOL" -v i="$item" \
    'BEGIN { printf "%s %s: %.0f of %.0f %s accepted, %.0f instructions less %.0f of the status history: %.0f per item (Engine::status, in the history or not: %.0f)\n", p, s, a, n, i, ir, h, (ir - h) / a, st }'
