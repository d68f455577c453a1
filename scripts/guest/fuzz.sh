#!/bin/sh
# Inside the VM for 'make fuzz': the fuzzer (KTAP on stdout; it unloads
# devexcl at its end), then, with kmemleak (the debug flavour), a scan
# for what the run leaked. Arguments go to devexcl-fuzz.
cd /opt/devexcl || exit 1
insmod ./devexcl.ko || exit 1
./devexcl-fuzz "$@"
status=$?
./kmemleak-scan.sh || status=1
exit $status
