#!/bin/sh
# `make run` inside the VM: load the module and show what it offers.
set -e
step() { printf '\n=== %s\n' "$*"; }

step "load devexcl.ko"
insmod /opt/devexcl/devexcl.ko
ls -l /dev/devexcl

step "devexcl version"
devexcl version

step "devexcl --json version"
devexcl --json version
