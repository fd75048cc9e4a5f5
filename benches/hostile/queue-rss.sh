#!/usr/bin/env bash
# Peak RSS of slotel with the shipped exporter shape (remote write, OTLP traces, Loki over
# OTLP/HTTP; deploy/kubernetes/base/slotel.yaml) and every backend down, while traces,
# metrics and logs are sent as fast as it takes them until every exporter queue is full.
#
#   bash benches/hostile/queue-rss.sh BINARY [SECONDS] [EXTRA_EXPORTER_YAML]
#
# EXTRA_EXPORTER_YAML (e.g. `sending_queue: {max_bytes: 256MiB}`) is added to each
# exporter; without it the exporters take their defaults. Prints the peak RSS (VmHWM), the
# bytes each queue holds at the end and what the receivers refused.
set -euo pipefail

BIN=$(realpath "${1:?usage: queue-rss.sh BINARY [SECONDS] [EXTRA_EXPORTER_YAML]}")
SECS=${2:-60}
EXTRA=${3:-}
DIR=$(mktemp -d)
PID=
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
GRPC=$(port); HTTP=$(port); ADMIN=$(port)
# A port nothing listens on: every export fails with "connection refused" and is retried.
DOWN=127.0.0.1:$(port)
head -c 32 /dev/urandom | base64 > "$DIR/key"
extra() { [ -n "$EXTRA" ] && echo "    $EXTRA" || true; }
cat > "$DIR/slotel.yaml" <<EOF
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:$GRPC}
      http: {endpoint: 127.0.0.1:$HTTP}
processors:
  redaction:
    action: replace
    detectors: {email: hash}
    hash:
      key: \${file:$DIR/key}
exporters:
  prometheusremotewrite/mimir:
    endpoint: http://$DOWN/api/v1/push
    tenant: slo
$(extra)
  otlp/tempo:
    endpoint: http://$DOWN
$(extra)
  otlphttp/loki:
    endpoint: http://$DOWN/otlp
$(extra)
slo:
  files: [embedded:examples]
service:
  admin: {endpoint: 127.0.0.1:$ADMIN}
  telemetry: {logs: {level: error}}
  pipelines:
    traces: {exporters: [otlp/tempo]}
    metrics: {exporters: [prometheusremotewrite/mimir]}
    logs: {exporters: [otlphttp/loki]}
EOF
"$BIN" check -c "$DIR/slotel.yaml" >/dev/null || { "$BIN" check -c "$DIR/slotel.yaml"; exit 1; }
"$BIN" -c "$DIR/slotel.yaml" >"$DIR/log" 2>&1 &
PID=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$ADMIN/readyz" >/dev/null && break
  sleep 0.1
done
for signal in traces metrics logs; do
  "$BIN" loadgen --signal "$signal" --endpoint "127.0.0.1:$GRPC" --concurrency 4 \
    --duration "${SECS}s" --report json >"$DIR/$signal.json" 2>&1 &
done
wait $(jobs -p | grep -v "^$PID$") 2>/dev/null || true
sleep 2
echo "peak_rss_mib $(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$PID/status)"
echo "rss_now_mib $(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$PID/status)"
curl -s "http://127.0.0.1:$ADMIN/metrics" |
  grep -E '^slotel_exporter_queue_(size|capacity)_bytes|^slotel_receiver_refused' || true
for signal in traces metrics logs; do
  echo "$signal: $(tr -d '\n' <"$DIR/$signal.json" | head -c 400)"
done
