#!/usr/bin/env bash
# Host-side cases for scripts/console-gate.sh on synthetic console logs. Prints KTAP.
set -uo pipefail
gate="$(dirname "$0")/../console-gate.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
expect() { # expect NAME WANT_STATUS LOG_TEXT
	local name=$1 want=$2 got=0
	printf '%s\n' "$3" >"$tmp/log"
	"$gate" "$tmp/log" 2>/dev/null || got=$?
	n=$((n + 1))
	if [ "$got" -eq "$want" ]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name # gate exit $got, wanted $want"
		failed=1
	fi
}

echo "TAP version 13"
echo "1..13"
expect clean_boot_passes 0 '[    0.000000] Linux version 6.1.192
[    1.000000] devexcl: loaded, ABI 1.0'
expect warning_fails 1 '[   12.345678] WARNING: CPU: 1 PID: 77 at mm/memory.c:100 foo+0x1/0x2'
expect bug_fails 1 '[    3.100000] BUG: kernel NULL pointer dereference, address: 0000000000000000'
expect lockdep_fails 1 '[    5.000000] ======================================================
[    5.000001] WARNING: possible circular locking dependency detected'
expect hung_task_fails 1 '[  200.000000] INFO: task devexcl_selfte:88 blocked for more than 60 seconds.'
expect oops_fails 1 '[    9.000000] Oops: 0000 [#1] PREEMPT SMP'
expect warning_with_printk_caller_fails 1 '[   12.345678][  T123] WARNING: CPU: 1 PID: 123 at mm/rmap.c:1 x+0x1/0x2'
expect kasan_with_printk_caller_fails 1 '[    7.000000][    C1] BUG: KASAN: use-after-free in devexcl_ioctl+0x10/0x20'
# dump_stack() alone, as handle_userfault() prints it under DEBUG_VM: no
# BUG or WARNING line, only the stack.
expect bare_dump_stack_fails 1 '[   42.123456] FAULT_FLAG_ALLOW_RETRY missing 881
[   42.123500] CPU: 1 PID: 123 Comm: devexcl_selfte Not tainted 6.1.0 #1
[   42.123600] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2 04/01/2014
[   42.123700] Call Trace:
[   42.123800]  <TASK>
[   42.123900]  dump_stack_lvl+0x44/0x5c
[   42.124000]  handle_userfault+0x5b4/0x6a0'
expect bare_dump_stack_with_printk_caller_fails 1 '[   42.123456][  T123] FAULT_FLAG_ALLOW_RETRY missing 881
[   42.123700][  T123] Call Trace:
[   42.123800][  T123]  <TASK>'
expect kernel_complaint_naming_a_module_function_fails 1 '[    6.938290] workqueue: work func devexcl_event_work_fn [devexcl] enqueued on deprecated workqueue. Use system_{percpu|dfl}_wq instead.'
expect module_own_message_passes 0 '[    2.929460] devexcl: loading out-of-tree module taints kernel.
[    2.930000] devexcl: loaded, ABI 1.3'
expect test_output_mentioning_warning_passes 0 '# RUN Foo.PrintsWARNING: in its own output
ok 1 Foo.PrintsWARNING: in its own output'
exit $failed
