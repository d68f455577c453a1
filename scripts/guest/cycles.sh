#!/bin/sh
# `make cycles` inside the VM: DEVEXCL_CYCLES loads and unloads of
# devexcl.ko with things in flight (default 100), then, on the debug
# flavour, a kmemleak scan of what the cycles left.
cd /opt/devexcl || exit 1
export DEVEXCL_KO=/opt/devexcl/devexcl.ko
echo "# cycles: ${DEVEXCL_CYCLES:-100}, kernel $(uname -r), $(nproc) CPUs"
./devexcl_cycles
status=$?
./kmemleak-scan.sh || status=1
exit $status
