#!/usr/bin/env bash
# Builds the release binary and splits its debug information into a file of its own:
#
#   bash scripts/release-binary.sh [OUT_DIR]     (default target/release/dist)
#
# writes OUT_DIR/slotel (no debug sections; the symbol table stays, so a backtrace still
# names functions) and OUT_DIR/slotel.debug (the DWARF: line tables, see Cargo.toml's
# release profile), linked by a .gnu_debuglink section, so gdb, perf and addr2line find
# the debug file when it sits beside the binary or under /usr/lib/debug. The image ships
# the binary; keep slotel.debug with the release to read core dumps and raw addresses.
#
# Cargo's own `split-debuginfo = "packed"` with `strip = "debuginfo"` cannot do this: the
# .dwp holds only slotel's split units (the standard library's DWARF stays in the binary),
# and stripping removes the skeleton units that point at it. objcopy is binutils'.
#
# Environment: CARGO_TARGET_DIR as cargo reads it; SLOTEL_REVISION names the commit when
# the tree has no .git (an image build), see build.rs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
target=${CARGO_TARGET_DIR:-target}
out=${1:-$target/release/dist}

cargo build --release --locked --bin slotel
mkdir -p "$out"
objcopy --only-keep-debug "$target/release/slotel" "$out/slotel.debug"
chmod 0644 "$out/slotel.debug"
objcopy --strip-debug --add-gnu-debuglink="$out/slotel.debug" \
    "$target/release/slotel" "$out/slotel"
ls -l "$target/release/slotel" "$out/slotel" "$out/slotel.debug" >&2
