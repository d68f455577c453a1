#!/usr/bin/env bash
# Build a test kernel, cached outside the work tree and keyed on the
# resolved source version plus every config fragment, so clones and CI
# reuse one build and never rebuild it unchanged.
#
#   scripts/build-kernel.sh            build if needed, print the build tree
#   scripts/build-kernel.sh --dir      print the build tree, build nothing
#   scripts/build-kernel.sh --src      print the source tree, build nothing
#
# Which kernel: KERNEL=6.1 (default), 6.12 or latest, from Debian's
# linux-source-* packages (scripts/kernel-source.sh), built in the extracted
# tree; or KSRC=/path/to/linux, a tree of the user's own, built out of tree
# (O=) into the cache and keyed on its `git describe` plus a hash of its
# uncommitted diff (a tree without git: on its file list, sizes and times).
source "$(dirname "$0")/common.sh"

# Bump when this script changes how the tree is built.
BUILD_RECIPE=1

fragments=("$DEVEXCL_ROOT/scripts/kernel/trim.config")
# 6.1's defconfig leaves WERROR off; newer ones turn it on, and a warning
# that this machine's GCC raises in a newer tree must not stop the build.
[ "$DEVEXCL_KERNEL" = 6.1 ] || fragments+=("$DEVEXCL_ROOT/scripts/kernel/no-werror.config")
[ "$DEVEXCL_FLAVOUR" = debug ] && fragments+=("@kernel/configs/debug.config")
[ "$DEVEXCL_FLAVOUR" = default ] || [ "$DEVEXCL_FLAVOUR" = debug ] ||
	die "DEVEXCL_FLAVOUR must be 'default' or 'debug', not '$DEVEXCL_FLAVOUR'"
# The project's own fragment goes last so that it wins every conflict.
fragments+=("$DEVEXCL_ROOT/selftests/config")

mode=${1:-build}

if [ "$DEVEXCL_KERNEL" = ksrc ]; then
	[ -d "$KSRC" ] && [ -f "$KSRC/Makefile" ] && [ -f "$KSRC/Kconfig" ] ||
		die "KSRC=$KSRC is not a kernel source tree (no Makefile and Kconfig)"
	ksrc=$(cd "$KSRC" && pwd)
	kv=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p' "$ksrc/Makefile" | head -n2 | paste -sd.)
	case $kv in
	[0-9]*.[0-9]*) ;;
	*) die "KSRC=$ksrc: cannot read VERSION/PATCHLEVEL from its Makefile" ;;
	esac
	[ "${kv%%.*}" -gt 6 ] || { [ "${kv%%.*}" -eq 6 ] && [ "${kv#*.}" -ge 1 ]; } ||
		die "KSRC=$ksrc is Linux $kv; devexcl needs 6.1 or newer"
	[ ! -e "$ksrc/.config" ] && [ ! -e "$ksrc/include/config" ] ||
		die "KSRC=$ksrc has been configured in place; devexcl builds it out of tree (O=), which kbuild refuses then: run 'make mrproper' there"
	if git -C "$ksrc" rev-parse --git-dir >/dev/null 2>&1; then
		src_version="$(git -C "$ksrc" describe --always --tags 2>/dev/null) diff:$(git -C "$ksrc" diff HEAD | sha256sum | cut -c1-12)"
	else
		src_version="$kv files:$(cd "$ksrc" && find . -path ./.git -prune -o -type f -printf '%P %s %T@\n' | LC_ALL=C sort | sha256sum | cut -c1-12)"
	fi
	src_pkg="KSRC=$ksrc"
	kdir_root_name="kernel-ksrc-$DEVEXCL_FLAVOUR"
else
	src_mode=installed
	[ "$mode" = build ] && src_mode=install
	read -r src_pkg src_version src_tarball src_topdir < <("$DEVEXCL_ROOT/scripts/kernel-source.sh" "$src_mode" "$DEVEXCL_KERNEL") ||
		die "cannot resolve the $DEVEXCL_KERNEL kernel source"
	[ -n "${src_topdir:-}" ] || die "cannot resolve the $DEVEXCL_KERNEL kernel source"
	# 6.1's trees keep the names they had before other kernels came.
	kdir_root_name="kernel-$DEVEXCL_KERNEL-$DEVEXCL_FLAVOUR"
	[ "$DEVEXCL_KERNEL" = 6.1 ] && kdir_root_name="kernel-$DEVEXCL_FLAVOUR"
fi

cache_key() {
	{
		echo "recipe $BUILD_RECIPE"
		echo "source $src_pkg $src_version"
		echo "flavour $DEVEXCL_FLAVOUR"
		for f in "${fragments[@]}"; do
			case $f in
			@*) echo "in-tree ${f#@}" ;;
			*) sha256sum <"$f" ;;
			esac
		done
	} | sha256sum | cut -c1-16
}

kdir_root="$DEVEXCL_CACHE/$kdir_root_name-$(cache_key)"
if [ "$DEVEXCL_KERNEL" = ksrc ]; then
	kdir="$kdir_root/build"
	srcdir=$ksrc
else
	kdir="$kdir_root/linux"
	srcdir=$kdir
fi

case $mode in
--dir) echo "$kdir"; exit 0 ;;
--src) echo "$srcdir"; exit 0 ;;
build) ;;
*) die "usage: build-kernel.sh [--dir|--src]" ;;
esac


# Keep the two most recently used trees of this flavour; older ones only
# cost disk (about 2 GB each). A tree's use is its .last-used stamp, or for
# a tree that never got one (an interrupted build, an older recipe) the
# directory's own time. A tree whose lock a build holds is skipped; a
# victim is moved aside under its lock and deleted after, so a build that
# locks it next finds no tree and starts afresh. A VM booting an old tree
# takes no lock: only the two most recent trees are safe to boot meanwhile.
# Pruning is best effort: it never fails the build.
prune_old_builds() {
	local tree stamp
	for tree in "$DEVEXCL_CACHE/$kdir_root_name"-*/; do
		tree=${tree%/}
		[ -d "$tree" ] || continue
		stamp="$tree/.last-used"
		[ -e "$stamp" ] || stamp=$tree
		printf '%s %s\n' "$(stat -c %Y "$stamp" 2>/dev/null || echo 0)" "$tree"
	done | sort -rn | tail -n +3 | while read -r _ tree; do
		[ "$tree" != "$kdir_root" ] || continue
		(
			{ exec 9>>"$tree/.lock"; } 2>/dev/null || exit 0
			flock -n 9 || exit 0
			trash=$(mktemp -d "$DEVEXCL_CACHE/.pruning.XXXXXX")
			mv "$tree" "$trash/" 2>/dev/null || exit 0
			log "pruning the old kernel tree $tree"
			rm -rf "$trash"
		) || true
	done || true
}

if [ -f "$kdir_root/.complete" ]; then
	touch "$kdir_root/.last-used"
	echo "$kdir"
	exit 0
fi

# The lock file may be one a pruner moved away meanwhile: lock the one that
# is in place.
while :; do
	mkdir -p "$kdir_root"
	exec 9>>"$kdir_root/.lock"
	flock 9
	[ "$(stat -c %i "$kdir_root/.lock" 2>/dev/null)" != "$(stat -L -c %i /proc/self/fd/9)" ] || break
	exec 9>&-
done
if [ -f "$kdir_root/.complete" ]; then
	echo "$kdir"
	exit 0
fi

# Check that each fragment line survived olddefconfig: Kconfig silently
# drops options whose dependencies are missing.
verify_fragment() {
	local frag=$1 strict=$2 line opt want got bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			opt=${line%%=*}
			want=${line#*=}
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			want=n
			;;
		*) continue ;;
		esac
		got=$(grep -E "^$opt=" .config | cut -d= -f2- || true)
		[ -n "$got" ] || got=n
		if [ "$got" != "$want" ]; then
			if [ "$strict" = strict ]; then
				log "config: $opt wanted '$want', got '$got' ($frag)"
				bad=1
			else
				log "config note: $opt stays '$got' ($frag)"
			fi
		fi
	done <"$frag"
	return $bad
}

start=$(date +%s)
if [ "$DEVEXCL_KERNEL" = ksrc ]; then
	mkdir -p "$kdir"
	kmake=(make -C "$srcdir" O="$kdir")
elif [ ! -f "$kdir/Makefile" ]; then
	log "extracting $src_tarball ($src_pkg $src_version)"
	rm -rf "$kdir" "${kdir_root:?}/$src_topdir"
	tar -xf "$src_tarball" -C "$kdir_root"
	mv "$kdir_root/$src_topdir" "$kdir"
fi
[ "$DEVEXCL_KERNEL" = ksrc ] || kmake=(make -C "$kdir")

cd "$kdir"
if [ ! -f .config.devexcl ]; then
	log "configuring $src_pkg $src_version ($DEVEXCL_FLAVOUR): x86_64_defconfig + kvm_guest.config + fragments"
	"${kmake[@]}" -s x86_64_defconfig
	merge_args=("$srcdir/kernel/configs/kvm_guest.config")
	for f in "${fragments[@]}"; do
		case $f in
		@*) merge_args+=("$srcdir/${f#@}") ;;
		*) merge_args+=("$f") ;;
		esac
	done
	"$srcdir/scripts/kconfig/merge_config.sh" -m .config "${merge_args[@]}" >/dev/null
	"${kmake[@]}" -s olddefconfig
	verify_fragment "$DEVEXCL_ROOT/selftests/config" strict ||
		die "Kconfig dropped options of selftests/config on $src_pkg $src_version (see above)"
	verify_fragment "$DEVEXCL_ROOT/scripts/kernel/trim.config" lenient || true
	cp .config .config.devexcl
fi

log "building bzImage and modules with -j$(jobs_count) (a cold build takes minutes)"
"${kmake[@]}" -s -j"$(jobs_count)" bzImage modules
rm -rf "$kdir_root/modroot"
"${kmake[@]}" -s INSTALL_MOD_PATH="$kdir_root/modroot" INSTALL_MOD_STRIP=1 modules_install
date -u +%FT%TZ >"$kdir_root/.complete"
touch "$kdir_root/.last-used"
prune_old_builds
log "kernel ready in $(($(date +%s) - start)) s: $kdir"
echo "$kdir"
