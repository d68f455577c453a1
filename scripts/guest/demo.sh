#!/bin/sh
# `make run` inside the VM: load the module, then show device-exclusive
# access on a real 6.1 kernel, first from the library, then with the CLI.
set -e
step() { printf '\n##### %s\n' "$*"; }

step "load devexcl.ko"
insmod /opt/devexcl/devexcl.ko
ls -l /dev/devexcl
devexcl version

step "devexcl-demo: mark, device atomics, a CPU fault, a device fault, fork"
devexcl-demo

step "the devexcl CLI on another process (one context for the whole '+' chain)"
mkfifo /tmp/target-stdin
devexcl-demo --target </tmp/target-stdin >/tmp/target.txt &
exec 3>/tmp/target-stdin
while [ ! -s /tmp/target.txt ]; do sleep 0.1; done
read -r pid addr len </tmp/target.txt
echo "target pid $pid, buffer $addr, $len bytes"
echo "\$ devexcl mark $pid $addr 64k + atomic $pid $addr add 41 + status $pid $addr 64k + counters"
devexcl mark "$pid" "$addr" 64k + atomic "$pid" "$addr" add 41 + status "$pid" "$addr" 64k + counters
exec 3>&-
wait
