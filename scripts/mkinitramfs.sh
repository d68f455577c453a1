#!/usr/bin/env bash
# Build the VM's base initramfs (uncompressed newc cpio: the guest loads it
# without decompressing, which matters under TCG).
#
#   scripts/mkinitramfs.sh KDIR OUT.cpio
#
# Contents: busybox-static, /init, devexcl.ko, the static test binaries and
# CLI from build/vm, the kernel's modules (test_hmm.ko) and hmm-tests.
source "$(dirname "$0")/common.sh"

kdir=${1:?usage: mkinitramfs.sh KDIR OUT.cpio}
out=${2:?usage: mkinitramfs.sh KDIR OUT.cpio}
vm_out="$DEVEXCL_BUILD/vm"
modroot="$(dirname "$kdir")/modroot"

required=(
	"$DEVEXCL_ROOT/devexcl.ko"
	"$vm_out/devexcl" "$vm_out/devexcl-demo" "$vm_out/devexcl_selftests"
	"$vm_out/exclusive_bench" "$vm_out/netlink_bench" "$vm_out/rmap_bench"
	"$vm_out/hmm-tests-exclusive"
	"$vm_out/run_tests.sh" "$vm_out/run_peer.sh"
	/bin/busybox
)
for f in "${required[@]}"; do
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

install -m 0644 "$DEVEXCL_ROOT/devexcl.ko" "$stage/opt/devexcl/"
# Everything between the module (first) and busybox (last).
install -m 0755 "${required[@]:1:${#required[@]}-2}" "$stage/opt/devexcl/"
install -m 0755 "$DEVEXCL_ROOT"/scripts/guest/*.sh "$stage/opt/devexcl/"
cp -a "$modroot"/lib/modules/. "$stage/lib/modules/"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
log "initramfs: $out ($(du -h "$out" | cut -f1))"
