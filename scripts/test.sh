#!/usr/bin/env bash
# Sets up what the tests need and runs every check: the CI entry point (.ci/run) and the
# command developers run before pushing.
#
#   bash scripts/test.sh
#
# Idempotent. On a fresh Debian machine (as root, or with sudo) it installs the missing
# system packages (Debian's chromium among them, for the status page tests); it installs a
# Rust toolchain with rustup only when cargo is absent and cargo-nextest only when it is
# absent. It keeps the Python clients of the tests in .venv (reinstalled only when
# tests/python/requirements.txt or the interpreter changes).
#
# Then it runs, in order, and reports every failure at the end (exit 1 if any):
#   cargo fmt --check
#   cargo clippy --all-targets -- -D warnings
#   cargo build                       (target/debug/slotel, used by tests/python)
#   cargo nextest run --no-fail-fast  (or cargo test when nextest cannot be installed)
#   cargo test --doc                  (nextest does not run doctests)
#   cargo +nightly fuzz run redact, metrics_sli, receive, span_facts, inflate  (30 s libFuzzer smoke each, only where nightly exists)
#
# Environment:
#   PYTHON=python3.11    interpreter the venv is created from (default python3)
#   SLOTEL_PYTHON        exported to the tests: the venv's python
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
VENV=$ROOT/.venv
REQUIREMENTS=tests/python/requirements.txt
STAMP=$VENV/.requirements.sha256

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- system packages ------------------------------------------------------------------------

APT_UPDATED=0
apt_install() {
    if ! command -v apt-get >/dev/null; then
        die "missing: $* (no apt-get here: install them with your package manager)"
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "missing: $* (run as root or install sudo)"
        sudo=(sudo)
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

venv_works() {
    local tmp
    tmp=$(mktemp -d)
    # `python3 -m venv --help` works without ensurepip; creating one does not.
    if "$PYTHON" -m venv "$tmp/v" >/dev/null 2>&1; then rm -rf "$tmp"; return 0; fi
    rm -rf "$tmp"
    return 1
}

missing=()
command -v curl >/dev/null || missing+=(curl ca-certificates)
command -v cc >/dev/null || missing+=(gcc libc6-dev)
command -v "$PYTHON" >/dev/null || missing+=(python3 python3-venv)
# Prometheus and promtool: the remote-write backend of the export tests and the rule checker
# (also of deploy/'s PrometheusRule). helm, kubectl and hadolint come from .venv (pip).
(command -v prometheus >/dev/null && command -v promtool >/dev/null) || missing+=(prometheus)
# openssl: the certificates of the exporters' TLS tests.
command -v openssl >/dev/null || missing+=(openssl)
# Headless Chromium (and a font) for the status page tests (tests/python/test_status_page.py).
command -v chromium >/dev/null || missing+=(chromium fonts-dejavu-core)
# buildah: the image test builds deploy/Dockerfile's `prebuilt` target without a daemon or a
# registry (tests/python/test_deploy.py); binutils: objcopy for scripts/release-binary.sh.
command -v buildah >/dev/null || missing+=(buildah)
command -v objcopy >/dev/null || missing+=(binutils)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
# Only needed to create .venv; skipped when a working one exists.
if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1 && ! venv_works; then
    apt_install python3-venv
    venv_works || die "'$PYTHON -m venv' still fails after installing python3-venv"
fi

# --- Rust toolchain -------------------------------------------------------------------------

if ! command -v cargo >/dev/null; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        log "installing Rust with rustup (cargo not found)"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
            | sh -s -- -y --profile minimal --component clippy,rustfmt
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
fi
for component in rustfmt clippy; do
    sub=${component/rustfmt/fmt}
    if ! cargo "$sub" --version >/dev/null 2>&1; then
        command -v rustup >/dev/null || die "cargo $sub is missing and rustup is not installed"
        log "rustup component add $component"
        rustup component add "$component"
    fi
done

HAVE_NEXTEST=1
if ! cargo nextest --version >/dev/null 2>&1; then
    log "installing cargo-nextest (prebuilt)"
    bin_dir=${CARGO_HOME:-$HOME/.cargo}/bin
    mkdir -p "$bin_dir"
    if ! curl -LsSf https://get.nexte.st/latest/linux | tar zxf - -C "$bin_dir" \
        || ! cargo nextest --version >/dev/null 2>&1; then
        echo "warning: cargo-nextest could not be installed; using cargo test" >&2
        HAVE_NEXTEST=0
    fi
fi

# --- Python clients for tests/python ------------------------------------------------------

if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "removing a broken .venv"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    log "creating .venv with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi
want_stamp=$( { sha256sum "$REQUIREMENTS"; "$VENV/bin/python" --version; } 2>&1 | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want_stamp" ]; then
    log "pip install -r $REQUIREMENTS"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
    echo "$want_stamp" > "$STAMP"
else
    log ".venv is up to date with $REQUIREMENTS"
fi
export SLOTEL_PYTHON=$VENV/bin/python

# --- checks -------------------------------------------------------------------------------

failed=()
check() {
    log "$*"
    if ! "$@"; then
        failed+=("$*")
    fi
}

check cargo fmt --check
check cargo clippy --all-targets -- -D warnings
check cargo build
if [ "$HAVE_NEXTEST" -eq 1 ]; then
    check cargo nextest run --no-fail-fast
    check cargo test --doc
else
    check cargo test --no-fail-fast
fi

# Fuzz smoke: 30 s of libFuzzer on each target (fuzz/), one after the other, where a nightly
# toolchain exists; cargo-fuzz is installed only when absent. Without nightly, the same
# bodies run as proptests inside `cargo test` above (tests/redaction.rs `randomized`,
# tests/slo_hostile.rs, src/receiver/spans_wire_tests.rs), and tests/slo_hostile.rs runs the
# metrics_sli corpus as plain tests.
fuzz_smoke() {
    local target=$1
    if ! cargo fuzz --version >/dev/null 2>&1; then
        log "installing cargo-fuzz"
        cargo install cargo-fuzz --locked || return 1
    fi
    # New inputs go to a scratch dir; the committed seeds in fuzz/corpus/<target> stay as they are.
    local scratch status=0
    scratch=$(mktemp -d)
    (cd fuzz && cargo +nightly fuzz run "$target" "$scratch" "corpus/$target" -- \
        -max_total_time=30 -timeout=5 -rss_limit_mb=2048) || status=$?
    rm -rf "$scratch"
    return $status
}
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    # The fuzz crate is a workspace of its own, with no lock file in git: it starts from the
    # main crate's, so it builds the dependency versions the tests above ran with, not what
    # was published since (cargo adds only what the fuzz crate alone needs).
    cp Cargo.lock fuzz/Cargo.lock
    check fuzz_smoke redact
    check fuzz_smoke metrics_sli
    check fuzz_smoke receive
    check fuzz_smoke span_facts
    check fuzz_smoke inflate
else
    log "no nightly toolchain: skipping the libFuzzer smoke (the proptests ran instead)"
fi

if [ ${#failed[@]} -ne 0 ]; then
    printf '\nFAILED:\n' >&2
    printf '  %s\n' "${failed[@]}" >&2
    exit 1
fi
log "all checks passed"
