#!/usr/bin/env bash
# Fails (exit 1) when a VM console log shows a kernel splat, even if every
# test passed. Only kernel log lines ("[  1.234] ...", optionally with a
# "[  T12]" caller id) are checked, so test output that merely mentions
# these words cannot trip the gate.
set -euo pipefail
log=${1:?usage: console-gate.sh CONSOLE_LOG}

patterns=(
	'BUG:'
	'WARNING:'
	'Oops'
	'KASAN'
	'UBSAN'
	'kmemleak'
	'possible circular locking'
	'possible recursive locking'
	'inconsistent lock state'
	'suspicious RCU usage'
	'INFO: task .* blocked for more than'
	'general protection fault'
	'Kernel panic'
	'page dumped because'
	'kernel BUG at'
	'Call Trace:'
	# The kernel naming one of our functions (%ps prints "fn [devexcl]"):
	# a complaint about the module, like 7.x's pr_warn_once() about work
	# queued on a deprecated workqueue. Our own messages say "devexcl: ".
	'\[devexcl\]'
)
# "[    1.234567] " or, with CONFIG_PRINTK_CALLER (debug flavour), "[    1.234567][  T123] ".
regex="^\[ *[0-9]+\.[0-9]+\](\[ *[CT][0-9]+\])? .*($(IFS='|'; echo "${patterns[*]}"))"
if hits=$(grep -aE "$regex" "$log"); then
	echo "console gate: kernel splat on the VM console ($log):" >&2
	echo "$hits" | head -20 >&2
	exit 1
fi
exit 0
