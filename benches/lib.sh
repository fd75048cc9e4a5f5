# Shell functions shared by the end-to-end benchmark scripts (benches/e2e.sh,
# benches/overload.sh). Source it; it defines functions only.

# stop_pid PID: TERM, then KILL after 5 s.
stop_pid() {
    local pid=$1
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}

# scratch PIDVAR...: $work becomes a fresh directory and each named variable (a process id
# the script fills in later) empty; at exit the processes those variables then hold are
# stopped and $work removed. An interrupt exits with 130.
scratch() {
    work=$(mktemp -d)
    scratch_pids=("$@")
    local v
    for v in "$@"; do printf -v "$v" '%s' ''; done
    trap scratch_cleanup EXIT
    trap 'exit 130' INT TERM
}

scratch_cleanup() {
    local v
    for v in "${scratch_pids[@]}"; do stop_pid "${!v}"; done
    rm -rf "$work"
}

# A port nobody listens on right now (the kernel picks it; a tiny race is acceptable here).
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        local port
        while :; do
            port=$((20000 + RANDOM % 40000))
            (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null || { echo "$port"; return; }
        done
    fi
}

# write_config FILE GRPC_PORT HTTP_PORT ADMIN EXPORTERS_YAML
write_config() {
    local file=$1 grpc=$2 http=$3 admin_addr=$4 exporters=$5
    {
        printf 'receivers:\n  otlp:\n    protocols:\n'
        printf '      grpc:\n        endpoint: 127.0.0.1:%s\n' "$grpc"
        printf '      http:\n        endpoint: 127.0.0.1:%s\n' "$http"
        printf 'exporters:\n'
        sed 's/^/  /' <<<"$exporters"
        printf 'service:\n  admin:\n    endpoint: %s\n' "$admin_addr"
        printf '  telemetry:\n    logs:\n      level: warn\n'
    } >"$file"
}

# wait_ready PID ADMIN LOG: until /readyz answers 200 (exits the script on failure).
wait_ready() {
    local pid=$1 admin_addr=$2 log=$3
    for _ in $(seq 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "the server exited during startup:" >&2
            cat "$log" >&2
            exit 1
        fi
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$admin_addr/readyz" || true) == 200 ]]; then
            return
        fi
        sleep 0.1
    done
    echo "the server did not become ready within 30 s:" >&2
    cat "$log" >&2
    exit 1
}

# metric ADMIN REGEX: the sum of the samples on /metrics whose name matches REGEX.
metric() {
    curl -fsS "http://$1/metrics" |
        awk -v re="$2" '$1 ~ re { s += $NF } END { printf "%d\n", s }'
}

# pid_ticks PID: user + system CPU time of a process so far, in clock ticks. The command
# name in field 2 may contain spaces, so fields are counted after its closing parenthesis.
pid_ticks() {
    local stat
    local -a fields
    stat=$(<"/proc/$1/stat")
    stat=${stat##*) }
    read -r -a fields <<<"$stat"
    echo $((fields[11] + fields[12]))
}

# rss_kib PID: resident set size in KiB (0 once the process is gone).
rss_kib() {
    awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}
