#!/bin/sh
# Inside the VM for 'make check': the devexcl suite on stdout (the host
# saves it as output.log), then the peer baseline on ttyS2 (peer.log).
# The exit status is the suite's alone: a peer failure is visible, not ours.
cd /opt/devexcl || exit 1
export DEVEXCL_KO=/opt/devexcl/devexcl.ko
./run_tests.sh
suite=$?
echo "# peer: hmm-tests exclusive cases against test_hmm.ko" >/dev/console
./run_peer.sh 2>&1 | tee /dev/ttyS2 >/dev/console
exit $suite
