#!/usr/bin/env bash
# `make check-stock`: the VM suite on one of Debian's own stock kernels, as
# a user has it, rather than on a test kernel built with our config.
#
#   scripts/check-stock.sh 6.1|6.12
#
# 1. Installs the newest stock image and its headers as packages
#    (scripts/stock-kernel.sh).
# 2. Builds and installs devexcl.ko for that kernel with DKMS, from the
#    headers package (`make dkms-install KVER=...`), and boots that module.
# 3. Boots the stock image in QEMU with our initramfs and runs the suite
#    and the peer (scripts/guest/check.sh). Debian's stock kernels have no
#    CONFIG_DEVICE_PRIVATE, nor test_hmm: what needs them skips, naming the
#    option; everything else must pass, and the console must stay clean.
source "$(dirname "$0")/common.sh"

name=${1:?usage: check-stock.sh 6.1|6.12}
kver=$("$DEVEXCL_ROOT/scripts/stock-kernel.sh" install "$name")
export DEVEXCL_BUILD="$DEVEXCL_ROOT/build/stock-$name"
export DEVEXCL_STOCK_KVER=$kver
export DEVEXCL_FLAVOUR=default
vm_out="$DEVEXCL_BUILD/vm"
mkdir -p "$vm_out"
log "stock $name: $kver ($(dpkg-query -W -f='${Package} ${Version}' "linux-image-$kver"))"

make -C "$DEVEXCL_ROOT" --no-print-directory dkms-install KVER="$kver" >"$DEVEXCL_BUILD/dkms.log" 2>&1 ||
	{ cat "$DEVEXCL_BUILD/dkms.log" >&2; die "DKMS could not build devexcl for $kver"; }
ko=$(find "/lib/modules/$kver/updates/dkms" -name 'devexcl.ko*' 2>/dev/null | head -n1 || true)
[ -n "$ko" ] || die "DKMS installed no devexcl.ko for $kver"
case $ko in
*.xz) xz -dc "$ko" >"$DEVEXCL_BUILD/devexcl.ko" ;;
*.zst) zstd -dqc "$ko" >"$DEVEXCL_BUILD/devexcl.ko" ;;
*) install -m 0644 "$ko" "$DEVEXCL_BUILD/devexcl.ko" ;;
esac
log "module: $ko (DKMS, against linux-headers-$kver)"

# The suite does not depend on the kernel: the static build every make
# check uses, without the kernel-tree pieces (the peer's hmm-tests and the
# benchmark against test_hmm), which a stock kernel could not run anyway.
vm_cmake="$DEVEXCL_ROOT/build/vm-cmake"
cmake -S "$DEVEXCL_ROOT/userspace" -B "$vm_cmake" -DDEVEXCL_SELFTESTS=ON -DDEVEXCL_STATIC=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$vm_cmake" -j "$(jobs_count)" --target devexcl_selftests devexcl_cli devexcl_demo devexcl_man
find "$vm_out" -maxdepth 1 -type f -delete
install -m 0755 "$vm_cmake/selftests/devexcl_selftests" "$vm_cmake/devexcl" "$vm_cmake/devexcl-demo" \
	"$DEVEXCL_ROOT/selftests/run_tests.sh" "$DEVEXCL_ROOT/selftests/run_peer.sh" "$vm_out/"
# The installed library's consumers, as on the test kernels.
"$DEVEXCL_ROOT/scripts/build-consumers.sh" --static "$vm_cmake" "$vm_cmake/stage" "$vm_out"

results="$DEVEXCL_BUILD/results"
rm -rf "$results"
mkdir -p "$results"
vm_status=0
"$DEVEXCL_ROOT/scripts/vm.sh" --name check --timeout 1200 -- /opt/devexcl/check.sh || vm_status=$?
run_dir="$vm_out/runs/check"
cp "$run_dir/output.log" "$results/vm.ktap"
vm_run_ktap "stock_${name}_vm_run_exited_cleanly_with_a_clean_console" $vm_status "$run_dir" >"$results/vm-run.ktap"

echo
grep -hE '^not ok' "$results/vm.ktap" "$results/vm-run.ktap" || true
# Why each skipped case skipped, counted: a stock kernel's missing options.
grep -hoE '^ok [0-9]+ .* # SKIP .*' "$results/vm.ktap" | sed -E 's/^.* # SKIP //' | sort | uniq -c | sort -rn | sed 's/^/  skipped: /' || true
printf 'stock %s (%s): devexcl: ' "$name" "$kver"
"$DEVEXCL_ROOT/scripts/ktap-summary.sh" "$results/vm.ktap" "$results/vm-run.ktap"
