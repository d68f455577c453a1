#!/bin/sh
# Runs the devexcl VM suite and prints KTAP. Needs root and a kernel built
# with selftests/config; devexcl.ko is found through DEVEXCL_KO.
dir=$(dirname "$0")
exec "$dir/devexcl_selftests" "$@"
