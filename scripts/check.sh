#!/usr/bin/env bash
# `make check`: host tests, the console-gate self-test, then the VM suite
# and the peer baseline in one boot. Prints one summary line for devexcl
# and one for the peer; exits non-zero on any devexcl failure or splat.
source "$(dirname "$0")/common.sh"

results="$DEVEXCL_BUILD/results"
rm -rf "$results"
mkdir -p "$results"
failed=0

log "host tests"
"$DEVEXCL_ROOT/build/host/host_tests" >"$results/host.ktap" || failed=1
"$DEVEXCL_ROOT/scripts/tests/console_gate_test.sh" >"$results/console-gate.ktap" || failed=1
log "install: make install, pkg-config, CMake package, man page, a consumer of the .so"
"$DEVEXCL_ROOT/scripts/tests/install_test.sh" >"$results/install.ktap" || failed=1
log "style: checkpatch --strict, clang-format"
"$DEVEXCL_ROOT/scripts/tests/style_test.sh" >"$results/style.ktap" || failed=1

log "VM: console-gate self-test (a fake WARNING must fail the run)"
"$DEVEXCL_ROOT/scripts/gate-selftest.sh" >"$results/gate-vm.ktap" || failed=1

log "VM: devexcl suite, then the peer (hmm-tests exclusive cases)"
vm_status=0
"$DEVEXCL_ROOT/scripts/vm.sh" --name check --timeout 1200 -- /opt/devexcl/check.sh || vm_status=$?
run_dir="$DEVEXCL_BUILD/vm/runs/check"
cp "$run_dir/output.log" "$results/vm.ktap"
cp "$run_dir/peer.log" "$results/peer.ktap"
vm_run_ktap vm_suite_run_exited_cleanly_with_a_clean_console $vm_status "$run_dir" >"$results/vm-run.ktap"

echo
ours=()
for name in host console-gate install style gate-vm vm vm-run; do
	ours+=("$results/$name.ktap")
done
for f in "${ours[@]}"; do
	grep -E '^not ok' "$f" | sed "s|^|$(basename "$f"): |" || true
done
printf 'peer (test_hmm, not ours): '
"$DEVEXCL_ROOT/scripts/ktap-summary.sh" "$results/peer.ktap" || true
printf 'devexcl: '
"$DEVEXCL_ROOT/scripts/ktap-summary.sh" "${ours[@]}" || failed=1
exit $failed
