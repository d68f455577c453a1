# shellcheck shell=bash
# Shared settings for the devexcl scripts. Sourced, never executed.

set -euo pipefail

DEVEXCL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEVEXCL_CACHE=${DEVEXCL_CACHE:-$HOME/.cache/devexcl}
DEVEXCL_BUILD=${DEVEXCL_BUILD:-$DEVEXCL_ROOT/build}
# "default" or "debug" (adds kernel/configs/debug.config: KASAN, kmemleak, ...).
DEVEXCL_FLAVOUR=${DEVEXCL_FLAVOUR:-default}
KERNEL_SRC_PKG=linux-source-6.1
KERNEL_SRC_TARBALL=/usr/src/linux-source-6.1.tar.xz

log() { printf '[devexcl] %s\n' "$*" >&2; }
die() { printf '[devexcl] error: %s\n' "$*" >&2; exit 1; }

jobs_count() { nproc 2>/dev/null || echo 2; }
