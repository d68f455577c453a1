#!/usr/bin/env bash
# Resolve a test kernel name to the Debian source package that provides it,
# and install that package, so that only the kernel source comes from the
# extra suites.
#
#   scripts/kernel-source.sh install NAME   install (if needed), then print
#   scripts/kernel-source.sh installed NAME print, installing nothing
#
# NAME is 6.1 (bookworm), 6.12 (the newer of bookworm-security, which
# carries 6.12 for Debian 12 too, and bookworm-backports) or latest (the
# newest linux-source-7.* in trixie-backports). 6.12 and latest resolve
# now, not to a pinned version: old versions leave the archive. Prints one line: PACKAGE VERSION TARBALL TOPDIR.
#
# The extra suites are pinned to -1 for every package but linux-source-*,
# and the script checks that, on the same package lists, `apt-get -s
# upgrade` plans the same changes with them as without them, linux-source-*
# aside; if not, it takes them out again and fails.
# Their Release files are verified with debian-archive-keyring, which
# holds the bookworm and trixie archive keys.
source "$(dirname "$0")/common.sh"

mode=${1:?usage: kernel-source.sh install|installed NAME}
name=${2:?usage: kernel-source.sh install|installed NAME}

sources_file=/etc/apt/sources.list.d/devexcl-kernels.sources
prefs_file=/etc/apt/preferences.d/devexcl-kernels
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

case $name in
6.1) suite=bookworm pattern=linux-source-6.1 regex='linux-source-6\.1' ;;
6.12) suite='bookworm-security|bookworm-backports' pattern=linux-source-6.12 regex='linux-source-6\.12' ;;
latest) suite=trixie-backports pattern='linux-source-7.*' regex='linux-source-7\.[0-9]+' ;;
*) die "KERNEL must be 6.1, 6.12 or latest (or set KSRC), not '$name'" ;;
esac

# Prints "PACKAGE VERSION" for the newest installed package matching
# $pattern, or nothing.
newest_installed() {
	dpkg-query -W -f='${db:Status-Status} ${Package} ${Version}\n' "$pattern" 2>/dev/null |
		awk '$1 == "installed" { print $2, $3 }' |
		sort -t' ' -k1,1V | tail -n1
}

print_line() {
	local pkg=$1 version=$2 short=${1#linux-source-}
	local tarball=/usr/src/linux-source-$short.tar.xz
	[ -f "$tarball" ] || die "$pkg is installed but $tarball is missing"
	echo "$pkg $version $tarball linux-source-$short"
}

# What `apt-get -s upgrade` would change, one sorted line per package, but
# for linux-source-*: upgrading those is what the extra suites are for.
planned_upgrade() {
	apt-get -s -o Debug::NoLocking=1 "$@" upgrade 2>/dev/null |
		grep -E '^(Inst|Remv|Conf) ' | grep -Ev '^[A-Za-z]+ linux-source-' | sort || true
}

# The same, from the same lists, as if the extra suites were not there.
# Comparing plans from one `apt-get update` keeps what the archive
# published meanwhile (a point release, a security update) out of the
# comparison.
planned_upgrade_without_extra_suites() {
	local parts file
	parts=$(mktemp -d)
	for file in /etc/apt/sources.list.d/*; do
		[ "$file" = "$sources_file" ] || ln -s "$file" "$parts/"
	done
	planned_upgrade -o Dir::Etc::SourceParts="$parts/"
	rm -rf "$parts"
}

ensure_suite() {
	[ "$suite" != bookworm ] || return 0
	if [ -f "$sources_file" ] && [ -f "$prefs_file" ] && [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name "*_dists_${suite##*|}_InRelease" -mmin -720 2>/dev/null)" ]; then
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || die "adding the $suite suite needs root"
	[ -f "$keyring" ] || die "$keyring is missing (install debian-archive-keyring)"
	cat >"$sources_file" <<-EOF
		# Added by devexcl's scripts/kernel-source.sh: kernel sources only (see $prefs_file).
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm-backports trixie-backports
		Components: main
		Signed-By: $keyring
	EOF
	cat >"$prefs_file" <<-EOF
		# Added by devexcl: from these suites take linux-source-* only.
		Package: linux-source-*
		Pin: release n=bookworm-backports
		Pin-Priority: 500

		Package: linux-source-*
		Pin: release n=trixie-backports
		Pin-Priority: 500

		Package: *
		Pin: release n=bookworm-backports
		Pin-Priority: -1

		Package: *
		Pin: release n=trixie-backports
		Pin-Priority: -1
	EOF
	log "apt: adding bookworm-backports and trixie-backports, pinned to linux-source-* only"
	if ! apt-get update -qq -o APT::Get::List-Cleanup=0 </dev/null; then
		rm -f "$sources_file" "$prefs_file"
		die "apt-get update failed with the extra suites (signature?); removed them again"
	fi
	local without with
	without=$(planned_upgrade_without_extra_suites)
	with=$(planned_upgrade)
	if [ "$without" != "$with" ]; then
		rm -f "$sources_file" "$prefs_file"
		apt-get update -qq </dev/null || true
		log "apt-get -s upgrade without and with them:"
		diff <(echo "$without") <(echo "$with") >&2 || true
		die "adding the extra suites changed what 'apt-get -s upgrade' would do; removed them again"
	fi
}

# The newest candidate in $suite, as "PACKAGE VERSION".
newest_available() {
	local pkg
	for pkg in $(apt-cache pkgnames linux-source- | grep -Ex "$regex"); do
		apt-cache madison "$pkg" | awk -F' [|] ' -v s="$suite" '$3 ~ (" (" s ")/") { gsub(/ /, "", $1); gsub(/ /, "", $2); print $1, $2 }'
	done | sort -t' ' -k1,1V -k2,2V | tail -n1
}

case $mode in
installed)
	line=$(newest_installed)
	[ -n "$line" ] || die "no $pattern installed (run 'make kernel KERNEL=$name')"
	# shellcheck disable=SC2086
	print_line $line
	;;
install)
	# 6.1 is bookworm's own, installed by deps.sh with everything else.
	if [ "$name" = 6.1 ]; then
		exec "$0" installed "$name"
	fi
	ensure_suite
	want=$(newest_available)
	[ -n "$want" ] || die "no $pattern in $suite"
	pkg=${want% *}
	version=${want#* }
	have=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$pkg" 2>/dev/null || true)
	if [ "$have" != "installed $version" ]; then
		[ "$(id -u)" -eq 0 ] || die "$pkg $version is not installed; run as root"
		log "installing $pkg $version from $suite"
		apt_install "$pkg=$version" >/dev/null
	fi
	print_line "$pkg" "$version"
	;;
*) die "usage: kernel-source.sh install|installed NAME" ;;
esac
