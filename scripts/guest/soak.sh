#!/bin/sh
# `make soak` inside the VM: the data-integrity soak for
# DEVEXCL_SOAK_SECONDS (the target sets 60 or more), then, on the debug
# flavour, a kmemleak scan of what it left. The console gate on the host
# fails the run on any kernel splat.
cd /opt/devexcl || exit 1
insmod devexcl.ko || exit 1
echo "# soak: ${DEVEXCL_SOAK_SECONDS:-5} s, kernel $(uname -r), $(nproc) CPUs, NUMA nodes $(cat /sys/devices/system/node/online)"
./devexcl_selftests --gtest_filter='DataIntegrity.Soak*'
status=$?
./kmemleak-scan.sh || status=1
exit $status
