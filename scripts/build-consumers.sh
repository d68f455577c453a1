#!/usr/bin/env bash
# Builds userspace/examples/consumer as a user outside this tree would:
# installs libdevexcl from a CMake build into a staging prefix, then builds
# the consumer against that prefix twice, once through pkg-config and once
# through find_package(devexcl).
#
#   build-consumers.sh [--static] BUILD_DIR STAGE OUT
#
# --static links both fully statically (pkg-config --static, -static;
# devexcl_USE_STATIC_LIBS), as the VM's initramfs, which has no shared
# libraries, needs them; without it they link libdevexcl.so. STAGE is
# emptied first; the consumers' build trees go to STAGE.build. Writes
# OUT/devexcl-consumer-pkgconfig and OUT/devexcl-consumer-cmake.
source "$(dirname "$0")/common.sh"

static=
if [ "${1:-}" = --static ]; then
	static=1
	shift
fi
[ $# -eq 3 ] || die "usage: $0 [--static] BUILD_DIR STAGE OUT"
mkdir -p "$2" "$3"
build=$(realpath "$1") stage=$(realpath "$2") out=$(realpath "$3")
src="$DEVEXCL_ROOT/userspace/examples/consumer"

inputs=("$0" "$src" "$DEVEXCL_ROOT/userspace/include/devexcl" "$DEVEXCL_ROOT/userspace/cmake"
	"$DEVEXCL_ROOT/module/uapi/devexcl.h" "$build"/libdevexcl.* "$build/devexcl" "$build/devexcl.1")
fresh=1
for how in pkgconfig cmake; do
	if [ ! -e "$out/devexcl-consumer-$how" ] ||
		[ -n "$(find "${inputs[@]}" -newer "$out/devexcl-consumer-$how" -print -quit)" ]; then
		fresh=
	fi
done
[ -z "$fresh" ] || exit 0

# A fresh prefix: nothing stale from an earlier install can be found.
rm -rf "$stage"
cmake --install "$build" --prefix "$stage" >/dev/null
pc=$(find "$stage" -name devexcl.pc -print -quit)
[ -n "$pc" ] || die "no devexcl.pc under $stage"
mkdir -p "$stage.build/pkgconfig"

# pkg-config: the staged .pc first, so an installed devexcl is not used instead.
PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
	make -s -B -C "$src" O="$stage.build/pkgconfig" ${static:+STATIC=1}

cmake -S "$src" -B "$stage.build/cmake" -DCMAKE_PREFIX_PATH="$stage" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONSUMER_STATIC="$([ -n "$static" ] && echo ON || echo OFF)" >/dev/null
cmake --build "$stage.build/cmake" -j "$(jobs_count)" >/dev/null

for how in pkgconfig cmake; do
	bin="$stage.build/$how/devexcl-consumer"
	if [ -n "$static" ] && readelf -l "$bin" | grep -q 'Requesting program interpreter'; then
		die "$bin is not statically linked"
	fi
	install -m 0755 "$bin" "$out/devexcl-consumer-$how"
done
