#!/bin/sh
# Runs the peer baseline: the kernel's hmm-tests exclusive cases against
# test_hmm.ko from the same kernel build. Prints KTAP; exit 4 is a skip.
dir=$(dirname "$0")
skip() {
	echo "TAP version 13"
	echo "1..0 # SKIP $1"
	exit 4
}
# A stock kernel's VM carries no module tree (and Debian builds no test_hmm).
[ -d "/lib/modules/$(uname -r)" ] || skip "no module tree for $(uname -r), so no test_hmm"
modprobe test_hmm || skip "test_hmm.ko could not be loaded"
"$dir/hmm-tests-exclusive" "$@"
status=$?
rmmod test_hmm
exit $status
