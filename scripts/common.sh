# shellcheck shell=bash
# Shared settings for the devexcl scripts. Sourced, never executed.

set -euo pipefail

DEVEXCL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEVEXCL_CACHE=${DEVEXCL_CACHE:-$HOME/.cache/devexcl}
# Which test kernel: KSRC (a tree of the user's own) wins over KERNEL
# (6.1, 6.12 or latest; see scripts/kernel-source.sh).
KSRC=${KSRC:-}
if [ -n "$KSRC" ]; then
	DEVEXCL_KERNEL=ksrc
else
	DEVEXCL_KERNEL=${KERNEL:-6.1}
fi
# 6.1 builds into build/, every other kernel (6.12, latest, ksrc) into a
# directory of its own, so that switching kernels never mixes their objects.
# (The Makefile's BUILD follows the same rule.)
kernel_build_dir() {
	if [ "$1" = 6.1 ]; then
		echo "$DEVEXCL_ROOT/build"
	else
		echo "$DEVEXCL_ROOT/build/kernel-$1"
	fi
}
DEVEXCL_BUILD=${DEVEXCL_BUILD:-$(kernel_build_dir "$DEVEXCL_KERNEL")}
# "default" or "debug" (adds kernel/configs/debug.config: KASAN, kmemleak, ...).
DEVEXCL_FLAVOUR=${DEVEXCL_FLAVOUR:-default}

log() { printf '[devexcl] %s\n' "$*" >&2; }
die() { printf '[devexcl] error: %s\n' "$*" >&2; exit 1; }

jobs_count() { nproc 2>/dev/null || echo 2; }

# Whether a Debian package is installed (not merely known, or removed).
pkg_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

# apt 2.6 by default also upgrades the installed binaries of each new
# package's source package (installing linux-source-6.1 upgraded
# linux-libc-dev and linux-perf). Every install, and every plan that
# predicts one, passes this.
DEVEXCL_APT_ONLY_NAMED=(-o APT::Get::Upgrade-By-Source-Package=false)

# apt-get install, changing nothing but what it installs.
apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${DEVEXCL_APT_ONLY_NAMED[@]}" "$@" </dev/null
}

# KTAP for a VM run as a whole: a splat, crash or timeout fails it even when
# every test line says ok. vm_run_ktap NAME STATUS RUN_DIR
vm_run_ktap() {
	echo "TAP version 13"
	echo "1..1"
	if [ "$2" -eq 0 ]; then
		echo "ok 1 $1"
	else
		echo "# status $2; console: $3/console.log"
		echo "not ok 1 $1"
	fi
}
