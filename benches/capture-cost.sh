#!/usr/bin/env bash
# The receive path's cost of `slo.capture`, interleaved: ROUNDS runs of `benches/e2e.sh`
# with CAPTURE=1, each a load without the capture ("off") and then one with it ("cap"),
# the same binary and config otherwise. Prints each round's spans per server CPU-second
# and the medians; the ratio of the medians is the figure (the machine's load moves both
# setups of a round alike).
#
#   NO_BUILD=1 ROUNDS=5 DURATION=10s SLO_FILES='benches/slo/ten/*.yaml' benches/capture-cost.sh
#
# To compare builds on a shared machine, TARGETS lists target directories (each holding
# `release/slotel`): every round then runs each build in turn, so that all of them see the
# same minutes of the machine, and the medians are per build:
#
#   NO_BUILD=1 TARGETS='/tmp/before /tmp/after' ROUNDS=5 DURATION=8s SLO_FILES='benches/slo/ten/*.yaml' benches/capture-cost.sh
#
# Environment: ROUNDS (default 5), TARGETS (default: CARGO_TARGET_DIR, or `target`), OUT
# (keep each round's JSON summary in this directory), and everything `benches/e2e.sh`
# reads (DURATION, SLO_FILES, NO_BUILD, …).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${ROUNDS:-5}
read -r -a targets <<<"${TARGETS:-${CARGO_TARGET_DIR:-target}}"
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
if [[ -z ${NO_BUILD:-} ]]; then
    cargo build --release --quiet
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
rate() { jq -r ".runs[] | select(.protocol == \"grpc-$1\") | .spans_per_server_cpu_second" "${@:2}"; }

printf '%-6s %-4s %14s %14s %10s %16s\n' round build "off spans/cpu" "cap spans/cpu" "cap/off" "load average"
for round in $(seq "$ROUNDS"); do
    for b in "${!targets[@]}"; do
        run="$out/round-$round-$b"
        load=$(cut -d' ' -f1 /proc/loadavg)
        CARGO_TARGET_DIR=${targets[$b]} NO_BUILD=1 CAPTURE=1 BASELINE_DURATION=${BASELINE_DURATION:-1s} \
            SUMMARY_JSON="$run.json" benches/e2e.sh >"$run.log" 2>&1 || {
            echo "capture-cost: round $round of ${targets[$b]} failed:" >&2
            cat "$run.log" >&2
            exit 1
        }
        off=$(rate off "$run.json")
        cap=$(rate cap "$run.json")
        printf '%-6s %-4s %14s %14s %10.3f %16s\n' "$round" "$b" "$off" "$cap" \
            "$(awk -v a="$cap" -v b="$off" 'BEGIN { print a / b }')" "$load"
    done
done

for b in "${!targets[@]}"; do
    off=$(rate off "$out"/round-*-"$b".json | median)
    cap=$(rate cap "$out"/round-*-"$b".json | median)
    printf '%-6s %-4s %14.0f %14.0f %10.3f  %s\n' median "$b" "$off" "$cap" \
        "$(awk -v a="$cap" -v b="$off" 'BEGIN { print a / b }')" "${targets[$b]}"
    grep -h '^capture:' "$out"/round-*-"$b".log | sed 's/^/  /'
done
grep -h 'MISMATCH' "$out"/round-*.log && exit 1
echo "(each round's /metrics matched the load generator's acknowledged count; logs and JSON in $out)"
