#!/bin/sh
# Assembles the container's whole root filesystem in DEST: the stripped binary, the CA bundle for
# wss://ws-fapi.binance.com, the shared libraries the static-stdlib binary still links (glibc,
# libm, libstdc++, libgcc_s, zlib) with the dynamic loader, each at the path the loader looks
# for it, and passwd/group entries for the unprivileged user 10001. Nothing else: no shell, no
# package manager, no Debian. glibc resolves host names without NSS modules on disk (files and
# dns are built into libc since 2.34); /etc/hosts and /etc/resolv.conf come from the runtime.
# Used by the Dockerfile's build stage and by scripts/container-image.sh alike.
# Usage: scripts/runtime-rootfs.sh BINARY CA_BUNDLE DEST
set -eu
binary=$1
ca=$2
dest=$3
mkdir -p "$dest/usr/local/bin" "$dest/etc/ssl/certs"
cp "$binary" "$dest/usr/local/bin/binance-futures-exporter"
cp "$ca" "$dest/etc/ssl/certs/ca-certificates.crt"
# `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` and `/lib64/ld-linux-x86-64.so.2 (0x…)`.
ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u | while read -r lib; do
  mkdir -p "$dest$(dirname "$lib")"
  cp -L "$lib" "$dest$lib"
done
[ -n "$(find "$dest" -name 'libc.so.6' | head -n 1)" ] || { echo "runtime-rootfs: ldd found no libc for $binary" >&2; exit 1; }
printf 'root:x:0:0:root:/root:/sbin/nologin\nexporter:x:10001:10001:exporter:/nonexistent:/sbin/nologin\n' > "$dest/etc/passwd"
printf 'root:x:0:\nexporter:x:10001:\n' > "$dest/etc/group"
