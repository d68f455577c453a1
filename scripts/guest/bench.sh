#!/bin/sh
# `make bench` inside the VM: every benchmark and its baseline in this one boot.
set -e
insmod /opt/devexcl/devexcl.ko
modprobe test_hmm
echo "# kernel $(uname -r), $(nproc) CPUs, $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
/opt/devexcl/exclusive_bench
/opt/devexcl/rmap_bench
/opt/devexcl/netlink_bench
