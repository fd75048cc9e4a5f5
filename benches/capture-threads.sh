#!/usr/bin/env bash
# Where the receive path's CPU goes with and without `slo.capture`, per thread: the server
# (pinned to one CPU, `nop` exporter, SLO_FILES loaded) takes a load from `slotel loadgen`
# (pinned to another) once without the capture ("off") and once with it ("cap"); for each,
# the user and system CPU seconds of each of its threads over the load (from
# /proc/<pid>/task/*/stat, threads grouped by name), their voluntary and involuntary
# context switches (/proc/<pid>/task/*/status), and the spans per server CPU-second.
# With STRACE=1, `strace -c -f` is attached to the server for STRACE_SECONDS in the middle
# of each load and its syscall table printed (strace slows the server: the CPU figures of
# such a run are not comparable with those of a run without it).
#
#   BIN=target/release/slotel SLO_FILES='benches/slo/ten/*.yaml' DURATION=8s benches/capture-threads.sh
#   STRACE=1 BIN=... SLO_FILES=... benches/capture-threads.sh
#
# Environment: BIN (default $CARGO_TARGET_DIR/release/slotel), DURATION (default 8s),
# SLO_FILES, CONCURRENCY (8), ITEMS_PER_REQUEST (512), SEED (1), SERVER_CPU (0),
# LOADGEN_CPU (1), STRACE, STRACE_SECONDS (3), SETUPS (default "off cap"), RATE (spans per
# second the load generator sends, default 0: as fast as the server answers). With a RATE
# the server can keep up with, every build and setup receives the same spans, so their
# CPU seconds compare even where the server shares its CPU with other work (then how much
# of the CPU it is given no longer decides how much it receives).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/slotel}
DURATION=${DURATION:-8s}
CONCURRENCY=${CONCURRENCY:-8}
ITEMS_PER_REQUEST=${ITEMS_PER_REQUEST:-512}
SEED=${SEED:-1}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
STRACE_SECONDS=${STRACE_SECONDS:-3}
read -r -a setups <<<"${SETUPS:-off cap}"
clk_tck=$(getconf CLK_TCK)

scratch server_pid

# threads PID: one line per thread: name (spaces as _), user ticks, system ticks,
# voluntary and involuntary context switches.
threads() {
    local task stat name
    local -a f
    for task in /proc/"$1"/task/*; do
        stat=$(<"$task/stat") 2>/dev/null || continue
        name=${stat#*(}
        name=${name%)*}
        stat=${stat##*) }
        read -r -a f <<<"$stat"
        awk -v n="${name// /_}" -v u="${f[11]}" -v s="${f[12]}" \
            '/^voluntary_ctxt_switches/ { v = $2 } /^nonvoluntary_ctxt_switches/ { i = $2 }
             END { print n, u, s, v, i }' "$task/status" 2>/dev/null || true
    done
}

printf '%-5s %-18s %9s %9s %11s %11s\n' setup thread "user s" "system s" "vol. sw." "invol. sw."
for setup in "${setups[@]}"; do
    grpc_port=$(free_port)
    http_port=$(free_port)
    admin=127.0.0.1:$(free_port)
    cfg=$work/slotel.yaml
    write_config "$cfg" "$grpc_port" "$http_port" "$admin" "nop:"
    printf 'slo:\n  files: [%s]\n  allow_empty: true\n' "${SLO_FILES:-}" >>"$cfg"
    if [[ $setup == cap ]]; then
        rm -rf "$work/capture"
        printf '  capture:\n    directory: %s\n' "$work/capture" >>"$cfg"
    fi
    taskset -c "$SERVER_CPU" "$BIN" run --config "$cfg" >"$work/server.log" 2>&1 &
    server_pid=$!
    wait_ready "$server_pid" "$admin" "$work/server.log"
    threads "$server_pid" >"$work/before"
    before=$(pid_ticks "$server_pid")
    taskset -c "$LOADGEN_CPU" "$BIN" loadgen --protocol grpc --endpoint "127.0.0.1:$grpc_port" \
        --items-per-request "$ITEMS_PER_REQUEST" --seed "$SEED" --concurrency "$CONCURRENCY" \
        --duration "$DURATION" --rate "${RATE:-0}" --report json >"$work/load.json" &
    load_pid=$!
    if [[ -n ${STRACE:-} ]]; then
        sleep 2
        timeout -s INT "$STRACE_SECONDS" strace -c -f -p "$server_pid" -o "$work/strace.$setup" 2>/dev/null || true
    fi
    wait "$load_pid"
    after=$(pid_ticks "$server_pid")
    threads "$server_pid" >"$work/after"
    # Per thread name (threads that started during the load count from 0).
    awk -v setup="$setup" -v hz="$clk_tck" '
        FNR == NR { u[$1] += $2; s[$1] += $3; v[$1] += $4; i[$1] += $5; next }
        { U[$1] += $2; S[$1] += $3; V[$1] += $4; I[$1] += $5 }
        END {
            for (n in U) {
                du = (U[n] - u[n]) / hz; ds = (S[n] - s[n]) / hz
                if (du + ds == 0 && V[n] - v[n] < 10) continue
                printf "%-5s %-18s %9.2f %9.2f %11d %11d\n", setup, n, du, ds, V[n] - v[n], I[n] - i[n]
            }
        }' "$work/before" "$work/after" | sort -k1,1 -k3,3nr
    acked=$(jq -r '.acknowledged_items' "$work/load.json")
    awk -v setup="$setup" -v a="$acked" -v t=$((after - before)) -v hz="$clk_tck" \
        'BEGIN { printf "%-5s %-18s %9.2f CPU s, %d spans, %.0f spans per CPU-second\n", setup, "(server)", t / hz, a, a / (t / hz) }'
    if [[ -n ${STRACE:-} ]]; then
        echo "$setup: strace -c -f over ${STRACE_SECONDS}s of the load:"
        head -25 "$work/strace.$setup"
    fi
    stop_pid "$server_pid"
    server_pid=""
done
