#!/bin/sh
# Inside the VM for 'make check': the devexcl suite on stdout (the host
# saves it as output.log), a kmemleak scan of what it left (debug flavour),
# then the peer baseline on ttyS2 (peer.log). The exit status is ours
# alone: a peer failure is visible, not ours, and the scan comes before
# the peer because 6.1's test_hmm leaks its device names on unload.
cd /opt/devexcl || exit 1
export DEVEXCL_KO=/opt/devexcl/devexcl.ko
./run_tests.sh
suite=$?
./kmemleak-scan.sh || suite=1
echo "# peer: hmm-tests exclusive cases against test_hmm.ko" >/dev/console
./run_peer.sh 2>&1 | tee /dev/ttyS2 >/dev/console
exit $suite
