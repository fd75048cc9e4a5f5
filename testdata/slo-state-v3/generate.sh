#!/bin/sh
# Writes this directory's state/ and expected.json with a slotel binary of snapshot format
# version 3 (SLW1 log frames), the format before structural SLO fingerprints:
#
#   testdata/slo-state-v3/generate.sh path/to/slotel
#
# Run 1 takes batch A over OTLP/HTTP JSON and stops with SIGTERM (the shutdown snapshot holds
# A); run 2 restores it, takes batch B and is killed with SIGKILL (the log holds B), after
# saving what /api/v1/slos reports. It runs in the repository's root and names slos.yaml by
# its path from there, as tests load it (a journey's former fingerprint held that path).
# Needs curl.
set -eu
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$here/state"
cat > "$work/slotel.yaml" <<YAML
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:14318}
exporters:
  nop:
slo:
  files: ["testdata/slo-state-v3/slos.yaml"]
  state_dir: "$here/state"
  snapshot_interval: 1h
service:
  admin: {endpoint: 127.0.0.1:14313}
  telemetry: {logs: {level: warn}}
YAML

start() {
  "$bin" run --config "$work/slotel.yaml" 2>>"$work/stderr.log" &
  pid=$!
  for _ in $(seq 100); do
    curl -sf http://127.0.0.1:14313/readyz >/dev/null && return 0
    sleep 0.2
  done
  cat "$work/stderr.log"
  exit 1
}

post() { # path body
  curl -sf -H 'content-type: application/json' --data-binary "$2" "http://127.0.0.1:14318$1" >/dev/null
}

# span: trace id byte, span id byte, route, end offset (s), duration (ms), error
span() {
  end=$(( now - $4 * 1000000000 ))
  start=$(( end - $5 * 1000000 ))
  code=1; [ "$6" = 1 ] && code=2
  printf '{"traceId":"%032x","spanId":"%016x","name":"GET %s","kind":2,"startTimeUnixNano":"%s","endTimeUnixNano":"%s","attributes":[{"key":"http.route","value":{"stringValue":"%s"}}],"status":{"code":%s}}' \
    "$1" "$2" "$3" "$start" "$end" "$3" "$code"
}

# log: status, latency ms, offset (s)
logrec() {
  printf '{"timeUnixNano":"%s","body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"request completed"}},{"key":"status","value":{"intValue":"%s"}},{"key":"latency_ms","value":{"doubleValue":%s}}]}}}' \
    "$(( now - $3 * 1000000000 ))" "$1" "$2"
}

# metric: cumulative total and 5xx counts
metric() {
  t=$(( now - 1000000000 ))
  printf '{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}},{"key":"k8s.cluster.name","value":{"stringValue":"seoul"}}]},"scopeMetrics":[{"metrics":[{"name":"http.server.requests","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{"startTimeUnixNano":"%s","timeUnixNano":"%s","asInt":"%s","attributes":[{"key":"http.response.status_code","value":{"intValue":"200"}}]},{"startTimeUnixNano":"%s","timeUnixNano":"%s","asInt":"%s","attributes":[{"key":"http.response.status_code","value":{"intValue":"503"}}]}]}}]}]}]}' \
    "$start0" "$t" "$1" "$start0" "$t" "$2"
}

batch() { # first trace id, count of traces
  now=$(date +%s%N)
  spans=""
  i=$1
  while [ "$i" -lt $(( $1 + $2 )) ]; do
    route=/api/pay; [ $(( i % 3 )) = 0 ] && route=/home
    err=0; [ $(( i % 7 )) = 0 ] && err=1
    s1=$(span "$i" $(( i * 2 )) "$route" $(( i % 50 )) $(( 40 + i * 37 % 500 )) "$err")
    s2=$(span "$i" $(( i * 2 + 1 )) /api/cart $(( i % 50 )) $(( 20 + i * 53 % 400 )) 0)
    spans="$spans${spans:+,}$s1,$s2"
    i=$(( i + 1 ))
  done
  for cluster in seoul busan; do
    post /v1/traces "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"shop\"}},{\"key\":\"k8s.cluster.name\",\"value\":{\"stringValue\":\"$cluster\"}}]},\"scopeSpans\":[{\"spans\":[$spans]}]}]}"
  done
  logs=""
  i=$1
  while [ "$i" -lt $(( $1 + $2 )) ]; do
    status=200; [ $(( i % 9 )) = 0 ] && status=502
    logs="$logs${logs:+,}$(logrec "$status" $(( 5 + i * 13 % 180 )) $(( i % 40 )))"
    i=$(( i + 1 ))
  done
  post /v1/logs "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"shop\"}}]},\"scopeLogs\":[{\"logRecords\":[$logs]}]}]}"
}

start0=$(( $(date +%s%N) - 3600000000000 ))
start
batch 1 40
now=$(date +%s%N); post /v1/metrics "$(metric 1000 10)"
now=$(date +%s%N); post /v1/metrics "$(metric 1500 14)"
sleep 3 # the journey's traces close after max_wait
kill -TERM "$pid"
wait "$pid" || true
[ -f "$here/state/slo-state.json" ] || { cat "$work/stderr.log"; exit 1; }

start
batch 100 30
now=$(date +%s%N); post /v1/metrics "$(metric 2100 20)"
sleep 3
curl -sf http://127.0.0.1:14313/api/v1/slos > "$here/expected.json"
kill -KILL "$pid"
wait "$pid" || true
ls -lR "$here/state"
