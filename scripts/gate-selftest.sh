#!/usr/bin/env bash
# Proves the console gate in a real VM: a guest whose command succeeds but
# writes a fake kernel WARNING must make scripts/vm.sh fail. Prints KTAP.
source "$(dirname "$0")/common.sh"

echo "TAP version 13"
echo "1..1"
status=0
"$DEVEXCL_ROOT/scripts/vm.sh" --name gate-selftest --timeout 300 -- \
	'echo "WARNING: devexcl console-gate self-test" >/dev/kmsg; exit 0' \
	>/dev/null 2>"$DEVEXCL_BUILD/gate-selftest.err" || status=$?
console="$DEVEXCL_BUILD/vm/runs/gate-selftest/console.log"
if [ $status -eq 1 ] && grep -q 'devexcl-vm: exit status 0' "$console" &&
	grep -q 'console gate: kernel splat' "$DEVEXCL_BUILD/gate-selftest.err"; then
	echo "ok 1 vm_gate_fails_a_successful_guest_that_logged_WARNING"
else
	echo "# runner exit status $status; expected 1 with the guest reporting 0"
	echo "not ok 1 vm_gate_fails_a_successful_guest_that_logged_WARNING"
	exit 1
fi
