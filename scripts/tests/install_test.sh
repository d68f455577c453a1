#!/usr/bin/env bash
# What `make install` gives a user, as KTAP, on the host: the layout under
# PREFIX and DESTDIR, the shared library's SONAME, public headers that
# compile without libnl, pkg-config's static and dynamic flags, the man
# page, and the consumer example built against libdevexcl.so through
# pkg-config and through find_package(devexcl), run. (Their static builds
# run in the VM: selftests/consumer_test.cpp.)
source "$(dirname "$0")/../common.sh"
cd "$DEVEXCL_ROOT"

host=build/host
work=$(realpath -m "$host/install-test")
rm -rf "$work"
mkdir -p "$work"
# The default prefix, staged under DESTDIR: the build's configured prefix
# (which `make install` sets) stays what it was.
prefix=/usr/local
dest="$work/destdir"
root="$dest$prefix"
version=$(awk '/^#define DEVEXCL_VERSION_(MAJOR|MINOR|PATCH) /{v = v (v == "" ? "" : ".") $3}
	END {print v}' userspace/include/devexcl/version.hpp)
major=${version%%.*}

echo "TAP version 13"
echo "1..7"
n=0
failed=0
# result NAME COMMAND...: one KTAP line; the command's output as diagnostics when it fails.
result() {
	local name=$1 out status=0
	shift
	n=$((n + 1))
	out=$("$@" 2>&1) || status=$?
	if [ $status -eq 0 ]; then
		echo "ok $n $name"
	else
		printf '%s\n' "$out" | tail -30 | sed 's/^/# /'
		echo "not ok $n $name"
		failed=1
	fi
}

make_install() {
	make -s --no-print-directory install PREFIX="$prefix" DESTDIR="$dest" >/dev/null
	local f
	for f in bin/devexcl include/devexcl/device.hpp include/devexcl/version.hpp \
		include/devexcl/uapi.hpp include/devexcl/uapi/devexcl.h lib/libdevexcl.a \
		"lib/libdevexcl.so.$version" lib/pkgconfig/devexcl.pc \
		lib/cmake/devexcl/devexclConfig.cmake lib/cmake/devexcl/devexclConfigVersion.cmake \
		lib/cmake/devexcl/devexclTargets.cmake share/man/man1/devexcl.1; do
		[ -f "$root/$f" ] || { echo "missing: $prefix/$f"; return 1; }
	done
	# Private headers stay private.
	[ ! -e "$root/include/devexcl/genl_socket.hpp" ] || { echo "genl_socket.hpp installed"; return 1; }
	cmp module/uapi/devexcl.h "$root/include/devexcl/uapi/devexcl.h"
}

soname() {
	readelf -d "$root/lib/libdevexcl.so.$version" | grep -F "Library soname: [libdevexcl.so.$major]" &&
		[ "$(readlink "$root/lib/libdevexcl.so")" = "libdevexcl.so.$major" ] &&
		[ "$(readlink "$root/lib/libdevexcl.so.$major")" = "libdevexcl.so.$version" ]
}

# Each public header alone, with no include path but the prefix's: a
# libnl type (or header) in one would not compile.
headers_without_libnl() {
	local h
	for h in "$root"/include/devexcl/*.hpp; do
		echo "#include <devexcl/$(basename "$h")>" |
			g++ -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I"$root/include" -x c++ - ||
			return 1
	done
	! grep -nE '<netlink/|\bnl_(sock|msg|cb)\b|\bnlattr\b|\bnlmsghdr\b' "$root"/include/devexcl/*.hpp
}

pc() { PKG_CONFIG_PATH="$root/lib/pkgconfig" pkg-config "$@" devexcl; }
pkg_config() {
	local static dynamic
	[ "$(pc --modversion)" = "$version" ] || { echo "modversion $(pc --modversion)"; return 1; }
	static=$(pc --static --libs) dynamic=$(pc --libs)
	echo "static: $static"
	echo "dynamic: $dynamic"
	[[ " $static " == *" -ldevexcl -lnl-genl-3 -lnl-3 "* ]] &&
		[[ " $dynamic " == *" -ldevexcl "* && " $dynamic " != *"-lnl"* ]] &&
		[[ "$(pc --cflags)" == *"-I$root/lib/pkgconfig/../../include"* ]]
}

# The installed page is the CLI's own --man, and groff reads it without a warning.
man_page() {
	"$root/bin/devexcl" --man | cmp - "$root/share/man/man1/devexcl.1" &&
		[ -z "$(groff -man -Tutf8 -ww -z "$root/share/man/man1/devexcl.1" 2>&1)" ] &&
		groff -man -Tutf8 "$root/share/man/man1/devexcl.1" | grep -q 'devexcl - device-exclusive'
}

cli_help() {
	"$root/bin/devexcl" --help | head -1 | grep -q '^usage: devexcl '
}

# Against libdevexcl.so: the consumers need it at run time, and nothing else of the tree.
shared_consumers() {
	scripts/build-consumers.sh "$host" "$work/stage" "$work/consumers" || return 1
	local how bin
	for how in pkgconfig cmake; do
		bin="$work/consumers/devexcl-consumer-$how"
		readelf -d "$bin" | grep -F "Shared library: [libdevexcl.so.$major]" || return 1
		LD_LIBRARY_PATH="$work/stage/lib" ldd "$bin" |
			grep -F "libdevexcl.so.$major => $work/stage/lib/libdevexcl.so.$major" || return 1
		[ "$(LD_LIBRARY_PATH="$work/stage/lib" "$bin" --library-version)" = \
			"libdevexcl $version, for module ABI $(abi)" ] || return 1
	done
}
abi() {
	awk '/^#define DEVEXCL_ABI_(MAJOR|MINOR) /{v = v (v == "" ? "" : ".") $3} END {print v}' \
		module/uapi/devexcl.h
}

result make_install_puts_everything_under_destdir_and_prefix make_install
result shared_library_has_soname_libdevexcl_so_major soname
result public_headers_compile_alone_without_libnl headers_without_libnl
result pkg_config_static_adds_libnl_dynamic_does_not pkg_config
result man_page_is_the_clis_own_and_renders_cleanly man_page
result installed_cli_prints_its_usage cli_help
result consumers_build_against_the_shared_library_and_run shared_consumers
exit $failed
