#!/usr/bin/env bash
# Lays out the files of the slotel image from a binary that is already built, for
# deploy/Dockerfile's `prebuilt` target (which needs no compiler and no registry):
#
#   bash scripts/image-rootfs.sh BINARY CONTEXT_DIR
#
# CONTEXT_DIR/rootfs/ then holds what the release image holds, at the same paths:
#   usr/local/bin/slotel, etc/slotel/slotel.yaml (deploy/slotel.yaml), var/lib/slotel/,
# plus what distroless cc brings that slotel needs: the shared libraries the binary links
# (from this machine, as `ldd` resolves them: glibc, libgcc_s), /etc/passwd and /etc/group
# naming the nonroot user 65532, and /tmp.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BINARY CONTEXT_DIR" >&2; exit 2; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
binary=$1
context=$2
root=$context/rootfs

[ -x "$binary" ] || { echo "error: $binary is not an executable" >&2; exit 1; }
rm -rf "$root"
mkdir -p "$root/usr/local/bin" "$root/etc/slotel" "$root/var/lib/slotel" "$root/tmp"
install -m 0755 "$binary" "$root/usr/local/bin/slotel"
install -m 0644 deploy/slotel.yaml "$root/etc/slotel/slotel.yaml"
chmod 1777 "$root/tmp"
# The volume's owner is the runtime user (the Dockerfile's COPY keeps numeric owners).
chown 65532:65532 "$root/var/lib/slotel" 2>/dev/null || true
chmod 0750 "$root/var/lib/slotel"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
    > "$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$root/etc/group"

# Every library ldd resolves (`name => /path (addr)`) and the dynamic loader (`/path (addr)`).
# A static binary has none (ldd then fails: `|| true`).
libs=$(ldd "$binary" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' || true)
for lib in $libs; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
echo "$root: $(du -sh "$root" | cut -f1)" >&2
