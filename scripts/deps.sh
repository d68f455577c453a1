#!/usr/bin/env bash
# Install the Debian packages devexcl needs, and only when one is missing:
# a warm machine pays one dpkg-query call per package.
source "$(dirname "$0")/common.sh"

packages=(
	linux-source-6.1 build-essential bc flex bison libelf-dev libssl-dev
	xz-utils kmod cpio python3 rsync
	qemu-system-x86 busybox-static
	libnl-3-dev libnl-genl-3-dev googletest libgtest-dev cmake clang-format
	dkms pkgconf groff-base
)

missing=()
for pkg in "${packages[@]}"; do
	pkg_installed "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

[ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run as root or install them"
log "installing: ${missing[*]}"
DEBIAN_FRONTEND=noninteractive apt-get update -qq
apt_install "${missing[@]}"
