#!/usr/bin/env bash
# Captures the requests `slotel loadgen` sends (OTLP/HTTP protobuf bodies, seed 1, 512
# spans each) with a tiny HTTP server, then times the decompression implementations on
# them (src/main.rs).
#
#   benches/decompress/run.sh [ROUNDS] [MS_PER_RUN]
#
# Environment:
#   BIN   the slotel binary that generates the load (default: $CARGO_TARGET_DIR/release/slotel)
#   CPU   pin the measurement to this CPU (default 0)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
BIN=${BIN:-${CARGO_TARGET_DIR:-../../target}/release/slotel}
CPU=${CPU:-0}
work=$(mktemp -d)
capture_pid=""
cleanup() {
    [[ -n $capture_pid ]] && kill "$capture_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$port" "$work" <<'PY' &
import http.server, os, sys
out, seen = sys.argv[2], [0]
class Capture(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(os.path.join(out, "req-%02d.pb" % seen[0]), "wb") as f:
            f.write(body)
        seen[0] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Capture).serve_forever()
PY
capture_pid=$!
for _ in $(seq 50); do (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
"$BIN" loadgen --protocol http --endpoint "127.0.0.1:$port" --items $((16 * 512)) \
    --items-per-request 512 --concurrency 1 --seed 1 --report json >/dev/null
cargo build --release --quiet --manifest-path Cargo.toml
taskset -c "$CPU" "${CARGO_TARGET_DIR:-target}/release/slotel-decompress-bench" "$work" "$@"
