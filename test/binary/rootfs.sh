#!/bin/sh
# Assembles the minimal root filesystem batchgate runs in: the binary, the C library files it links
# (exactly what `ldd` lists — libc and its loader), the CA bundle at Debian's path and an empty data
# dir owned by the non-root user. The Dockerfile copies this root into `FROM scratch` and
# test/binary/self-contained.ts chroots into it, so the image and the test run on the same files.
#
# usage: rootfs.sh <binary> <empty target dir> [uid:gid]   (uid:gid defaults to 65532:65532)
set -eu

bin=$1
root=$2
owner=${3:-65532:65532}
ca=/etc/ssl/certs/ca-certificates.crt

[ -x "$bin" ] || { echo "rootfs.sh: '$bin' is not an executable (run npm run build)" >&2; exit 1; }
[ -r "$ca" ] || { echo "rootfs.sh: no CA bundle at $ca (install ca-certificates)" >&2; exit 1; }
mkdir -p "$root"
[ -z "$(ls -A "$root")" ] || { echo "rootfs.sh: '$root' is not empty" >&2; exit 1; }

# The non-root user must be able to walk the root (mktemp -d makes it 0700).
chmod 0755 "$root"
cp "$bin" "$root/batchgate"

# `ldd` prints `name => /path (addr)` for libraries and `/path (addr)` for the loader; the
# vDSO has no path. -L copies the file a symlink names (libc.so.6 → libc-2.36.so on old glibcs).
libs=$(ldd "$bin" | awk '{ for (i = 1; i <= NF; i++) if (substr($i, 1, 1) == "/") print $i }')
[ -n "$libs" ] || { echo "rootfs.sh: ldd listed no libraries for '$bin'" >&2; exit 1; }
for lib in $libs; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

mkdir -p "$root/etc/ssl/certs"
cp -L "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
# glibc's built-in default asks DNS before /etc/hosts; a container expects the usual order
# (docker --add-host, localhost).
echo 'hosts: files dns' > "$root/etc/nsswitch.conf"

# Mount point for the kernel's /proc: the runtime reads /proc/self/exe to find its embedded code.
mkdir -p "$root/proc" "$root/data"
chown "$owner" "$root/data"
chmod 0750 "$root/data"
