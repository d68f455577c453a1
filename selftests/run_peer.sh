#!/bin/sh
# Runs the peer baseline: the kernel's hmm-tests exclusive cases against
# test_hmm.ko from the same kernel build. Prints KTAP; exit 4 is a skip.
dir=$(dirname "$0")
if ! modprobe test_hmm; then
	echo "TAP version 13"
	echo "1..0 # SKIP test_hmm.ko could not be loaded"
	exit 4
fi
"$dir/hmm-tests-exclusive" "$@"
status=$?
rmmod test_hmm
exit $status
