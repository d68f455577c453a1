#!/usr/bin/env bash
# Debian's own kernels, as a user has them: install the newest stock image
# and its headers as packages, and print the kernel release.
#
#   scripts/stock-kernel.sh install NAME    install (if needed), print KVER
#   scripts/stock-kernel.sh resolve NAME    print the package set, install nothing
#
# NAME is 6.1 (bookworm's linux-image-6.1.0-N-amd64, from bookworm or
# bookworm-security) or 6.12 (Debian 12 carries 6.12 in bookworm-security,
# as linux-image-6.12.N+deb12-amd64, and in bookworm-backports, as
# 6.12.N+bpo-amd64: the newer of the two). Old versions leave the archive,
# so "newest" is resolved now, every time.
#
# The image goes to /boot and /lib/modules/KVER as the package puts it. On
# a machine with a boot loader that would also make it the kernel the
# machine boots next, so the script refuses there (DEVEXCL_STOCK_ON_BOOT_HOST=1
# to go on anyway); on a build machine without one the image is only what
# the test VM boots. The backports packages are pinned by their exact
# names (see pin_backports), so nothing else on the machine changes version.
source "$(dirname "$0")/common.sh"

mode=${1:?usage: stock-kernel.sh install|resolve NAME}
name=${2:?usage: stock-kernel.sh install|resolve NAME}

case $name in
6.1) regex='linux-image-6\.1\.0-[0-9]+-amd64' ;;
6.12) regex='linux-image-6\.12\.[0-9]+\+(deb12|bpo)-amd64' ;;
*) die "stock kernel must be 6.1 or 6.12, not '$name'" ;;
esac

# "PACKAGE VERSION" of every image the archive offers, oldest first.
available_images() {
	local pkg
	for pkg in $(apt-cache pkgnames linux-image-6 | grep -Ex "$regex"); do
		apt-cache madison "$pkg" | awk -F' [|] ' '{ gsub(/ /, "", $1); gsub(/ /, "", $2); print $1, $2 }'
	done | sort -t' ' -k2,2V
}

# The headers that go with an image, and the image's kernel release.
headers_of() { echo "linux-headers-${1#linux-image-}"; }
kver_of() { echo "${1#linux-image-}"; }

resolve() {
	local line pkg
	line=$(available_images | while read -r pkg _; do
		# An image whose headers are not (yet) in the archive is no use.
		# (if, not &&: the loop's status is its last test's, and pipefail
		# would end the script silently when the newest image has none.)
		if [ -n "$(apt-cache madison "$(headers_of "$pkg")")" ]; then
			echo "$pkg"
		fi
	done | tail -n1)
	[ -n "$line" ] || die "no stock $name image with headers in the archive (apt-get update?)"
	echo "$line"
}

# bookworm-backports is pinned to -1 but for linux-source-* (see
# kernel-source.sh); a +bpo image needs its own packages let through, by
# name, so that upgrades of anything installed stay as they were.
pin_file=/etc/apt/preferences.d/devexcl-stock-kernels
pin_backports() {
	local abi=$1
	cat >"$pin_file" <<-EOF
		# Added by devexcl's scripts/stock-kernel.sh: one stock kernel's packages.
		Package: linux-image-$abi-amd64 linux-headers-$abi-amd64 linux-headers-$abi-common linux-kbuild-$abi
		Pin: release n=bookworm-backports
		Pin-Priority: 500
	EOF
}

pkg=$(resolve)
kver=$(kver_of "$pkg")
if [ "$mode" = resolve ]; then
	echo "$pkg $(headers_of "$pkg") $kver"
	exit 0
fi
[ "$mode" = install ] || die "usage: stock-kernel.sh install|resolve NAME"

want=("$pkg" "$(headers_of "$pkg")" dkms)
missing=()
for p in "${want[@]}"; do
	pkg_installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "installing ${missing[*]} needs root"
	# A boot loader whose kernel hooks would pick the new image up.
	if [ "${DEVEXCL_STOCK_ON_BOOT_HOST:-0}" != 1 ] &&
		{ command -v update-grub || command -v grub-mkconfig || command -v extlinux ||
			command -v bootctl; } >/dev/null 2>&1; then
		die "this machine boots from /boot: installing $pkg would make it its next kernel. Set DEVEXCL_STOCK_ON_BOOT_HOST=1 to install it anyway"
	fi
	case $kver in *+bpo-amd64) pin_backports "${kver%-amd64}" ;; esac
	# A failed install leaves no pin for packages that are not there.
	refuse() {
		rm -f "$pin_file"
		die "$@"
	}
	# The image needs initramfs-tools, which needs udev, which must match
	# the installed systemd exactly: the archive's newest udev would
	# upgrade systemd with it. Take the udev of the systemd we have.
	if ! pkg_installed udev &&
		systemd_version=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null) && [ -n "$systemd_version" ]; then
		missing+=("udev=$systemd_version")
	fi
	# No recommends: firmware and apparmor are for real hardware, and dkms
	# would pull the linux-headers-amd64 metapackage. Nothing installed may
	# change version: a plan with an upgrade ("Inst PKG [OLD] ...") is refused.
	plan=$(apt-get -s -o Debug::NoLocking=1 "${DEVEXCL_APT_ONLY_NAMED[@]}" \
		install --no-install-recommends "${missing[@]}" </dev/null) ||
		refuse "apt cannot install ${missing[*]}"
	if changes=$(grep -E '^(Inst [^ ]+ \[|Remv )' <<<"$plan"); then
		refuse "installing ${missing[*]} would upgrade or remove installed packages, refused:"$'\n'"$changes"
	fi
	log "installing the stock kernel packages: ${missing[*]}"
	apt_install "${missing[@]}" >&2 || refuse "apt-get install ${missing[*]} failed"
fi
[ -f "/boot/vmlinuz-$kver" ] || die "$pkg is installed but /boot/vmlinuz-$kver is missing"
[ -d "/lib/modules/$kver/build" ] || die "$(headers_of "$pkg") is installed but /lib/modules/$kver/build is missing"
echo "$kver"
