#!/bin/sh
# `make run` inside the VM: load the module, then show device-exclusive
# access and rmap inspection on the running kernel, first from the
# library, then with the CLI.
set -e
step() { printf '\n##### %s\n' "$*"; }

step "load devexcl.ko"
insmod /opt/devexcl/devexcl.ko
ls -l /dev/devexcl
devexcl version

step "devexcl-demo: mark, device atomics, a CPU fault, a device fault, fork, the rmap"
devexcl-demo

step "the devexcl CLI on another process (one context for the whole '+' chain)"
mkfifo /tmp/target-stdin
devexcl-demo --target </tmp/target-stdin >/tmp/target.txt &
exec 3>/tmp/target-stdin
while [ ! -s /tmp/target.txt ]; do sleep 0.1; done
read -r pid addr len big biglen </tmp/target.txt
echo "target pid $pid, buffer $addr, $len bytes; a second buffer $big, $biglen bytes"
echo "\$ devexcl mark $pid $addr 64k + atomic $pid $addr add 41 + status $pid $addr 64k + counters"
devexcl mark "$pid" "$addr" 64k + atomic "$pid" "$addr" add 41 + status "$pid" "$addr" 64k + counters

step "revocation events over generic netlink: the target's CPU takes page 0 back"
echo "\$ devexcl watch --pid $pid --count 1 20 &"
devexcl watch --pid "$pid" --count 1 20 &
watcher=$!
sleep 1
echo "\$ devexcl mark $pid $addr 64k + hold 5 &   (then the target writes page 0)"
devexcl mark "$pid" "$addr" 64k + hold 5 &
holder=$!
sleep 2
echo touch >&3
wait "$watcher"
wait "$holder"

step "rmap inspection: one page in full, then $biglen bytes streamed over netlink"
echo "\$ devexcl inspect $pid $addr"
devexcl inspect "$pid" "$addr"
echo "\$ devexcl inspect $pid $big $biglen"
devexcl inspect "$pid" "$big" "$biglen"
exec 3>&-
wait
