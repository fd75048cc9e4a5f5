#!/usr/bin/env bash
# The receive path's cost of `slo.capture`, interleaved: ROUNDS runs of `benches/e2e.sh`
# with CAPTURE=1, each a load without the capture ("off") and then one with it ("cap"),
# the same binary and config otherwise. Prints each round's spans per server CPU-second
# and the medians; the ratio of the medians is the figure (the machine's load moves both
# setups of a round alike).
#
#   NO_BUILD=1 ROUNDS=5 DURATION=10s SLO_FILES='benches/slo/ten/*.yaml' benches/capture-cost.sh
#
# Environment: ROUNDS (default 5), OUT (keep each round's JSON summary in this
# directory), and everything `benches/e2e.sh` reads (DURATION, SLO_FILES, NO_BUILD, …).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${ROUNDS:-5}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
if [[ -z ${NO_BUILD:-} ]]; then
    cargo build --release --quiet
fi

printf '%-6s %14s %14s %10s %16s\n' round "off spans/cpu" "cap spans/cpu" "cap/off" "load average"
for round in $(seq "$ROUNDS"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    NO_BUILD=1 CAPTURE=1 BASELINE_DURATION=${BASELINE_DURATION:-1s} SUMMARY_JSON="$out/round-$round.json" \
        benches/e2e.sh >"$out/round-$round.log" 2>&1 || {
        echo "capture-cost: round $round failed:" >&2
        cat "$out/round-$round.log" >&2
        exit 1
    }
    read -r off cap < <(jq -r '[(.runs[] | select(.protocol == "grpc-off") | .spans_per_server_cpu_second),
        (.runs[] | select(.protocol == "grpc-cap") | .spans_per_server_cpu_second)] | @tsv' "$out/round-$round.json")
    printf '%-6s %14s %14s %10.3f %16s\n' "$round" "$off" "$cap" "$(awk -v a="$cap" -v b="$off" 'BEGIN { print a / b }')" "$load"
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
off=$(jq -r '.runs[] | select(.protocol == "grpc-off") | .spans_per_server_cpu_second' "$out"/round-*.json | median)
cap=$(jq -r '.runs[] | select(.protocol == "grpc-cap") | .spans_per_server_cpu_second' "$out"/round-*.json | median)
printf '%-6s %14.0f %14.0f %10.3f\n' median "$off" "$cap" "$(awk -v a="$cap" -v b="$off" 'BEGIN { print a / b }')"
grep -h '^capture:' "$out"/round-*.log | sed 's/^/  /'
grep -h 'MISMATCH' "$out"/round-*.log && exit 1
echo "(each round's /metrics matched the load generator's acknowledged count; logs and JSON in $out)"
