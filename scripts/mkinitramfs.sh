#!/usr/bin/env bash
# Build the VM's base initramfs (uncompressed newc cpio: the guest loads it
# without decompressing, which matters under TCG).
#
#   scripts/mkinitramfs.sh MODROOT OUT.cpio
#
# Contents: busybox-static, /init, devexcl.ko, the static test binaries and
# CLI from build/vm, the kernel's modules (test_hmm.ko) from MODROOT (a
# modules_install tree; empty: none) and hmm-tests.
source "$(dirname "$0")/common.sh"

modroot=${1?usage: mkinitramfs.sh MODROOT OUT.cpio}
out=${2:?usage: mkinitramfs.sh MODROOT OUT.cpio}
vm_out="$DEVEXCL_BUILD/vm"

# The VM's programs are what selftests/Makefile installed in build/vm: that
# Makefile is the one list of them.
mapfile -t vm_programs < <(find "$vm_out" -maxdepth 1 -type f -perm -u+x | LC_ALL=C sort)
for f in "$DEVEXCL_BUILD/devexcl.ko" "$vm_out/devexcl_selftests" "$vm_out/devexcl"; do
	[ -e "$f" ] || die "missing $f (run 'make' first)"
done
command -v busybox >/dev/null || die "busybox-static is not installed"

stage=$(mktemp -d "$DEVEXCL_BUILD/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,devexcl,opt/devexcl,lib/modules}
cp /bin/busybox "$stage/bin/busybox"
for applet in $(/bin/busybox --list-full); do
	[ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
install -m 0755 "$DEVEXCL_ROOT/scripts/guest/init" "$stage/init"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"

install -m 0644 "$DEVEXCL_BUILD/devexcl.ko" "$stage/opt/devexcl/"
install -m 0755 "${vm_programs[@]}" "$stage/opt/devexcl/"
install -m 0755 "$DEVEXCL_ROOT"/scripts/guest/*.sh "$stage/opt/devexcl/"
[ -z "$modroot" ] || cp -a "$modroot"/lib/modules/. "$stage/lib/modules/"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
log "initramfs: $out ($(du -h "$out" | cut -f1))"
