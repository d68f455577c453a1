#!/usr/bin/env bash
# Build the test kernel from Debian's linux-source-6.1, cached outside the
# work tree and keyed on the source package version plus every config
# fragment, so clones and CI reuse one build and never rebuild it unchanged.
#
#   scripts/build-kernel.sh            build if needed, print the tree's path
#   scripts/build-kernel.sh --dir      print the tree's path, build nothing
source "$(dirname "$0")/common.sh"

# Bump when this script changes how the tree is built.
BUILD_RECIPE=1

fragments=("$DEVEXCL_ROOT/scripts/kernel/trim.config")
[ "$DEVEXCL_FLAVOUR" = debug ] && fragments+=("@kernel/configs/debug.config")
[ "$DEVEXCL_FLAVOUR" = default ] || [ "$DEVEXCL_FLAVOUR" = debug ] ||
	die "DEVEXCL_FLAVOUR must be 'default' or 'debug', not '$DEVEXCL_FLAVOUR'"
# The project's own fragment goes last so that it wins every conflict.
fragments+=("$DEVEXCL_ROOT/selftests/config")

src_version=$(dpkg-query -W -f='${Version}' "$KERNEL_SRC_PKG" 2>/dev/null) ||
	die "$KERNEL_SRC_PKG is not installed (run scripts/deps.sh)"

cache_key() {
	{
		echo "recipe $BUILD_RECIPE"
		echo "source $KERNEL_SRC_PKG $src_version"
		echo "flavour $DEVEXCL_FLAVOUR"
		for f in "${fragments[@]}"; do
			case $f in
			@*) echo "in-tree ${f#@}" ;;
			*) sha256sum <"$f" ;;
			esac
		done
	} | sha256sum | cut -c1-16
}

kdir_root="$DEVEXCL_CACHE/kernel-$DEVEXCL_FLAVOUR-$(cache_key)"
kdir="$kdir_root/linux"

if [ "${1:-}" = --dir ]; then
	echo "$kdir"
	exit 0
fi

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
	for tree in "$DEVEXCL_CACHE"/kernel-"$DEVEXCL_FLAVOUR"-*/; do
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
if [ ! -f "$kdir/Makefile" ]; then
	log "extracting $KERNEL_SRC_TARBALL ($src_version)"
	rm -rf "$kdir" "$kdir_root/linux-source-6.1"
	tar -xf "$KERNEL_SRC_TARBALL" -C "$kdir_root"
	mv "$kdir_root/linux-source-6.1" "$kdir"
fi

cd "$kdir"
if [ ! -f .config.devexcl ]; then
	log "configuring ($DEVEXCL_FLAVOUR): x86_64_defconfig + kvm_guest.config + fragments"
	make -s x86_64_defconfig
	merge_args=(kernel/configs/kvm_guest.config)
	for f in "${fragments[@]}"; do
		case $f in
		@*) merge_args+=("${f#@}") ;;
		*) merge_args+=("$f") ;;
		esac
	done
	scripts/kconfig/merge_config.sh -m .config "${merge_args[@]}" >/dev/null
	make -s olddefconfig
	verify_fragment "$DEVEXCL_ROOT/selftests/config" strict ||
		die "Kconfig dropped options of selftests/config (see above)"
	verify_fragment "$DEVEXCL_ROOT/scripts/kernel/trim.config" lenient || true
	cp .config .config.devexcl
fi

log "building bzImage and modules with -j$(jobs_count) (a cold build takes minutes)"
make -s -j"$(jobs_count)" bzImage modules
rm -rf "$kdir_root/modroot"
make -s INSTALL_MOD_PATH="$kdir_root/modroot" INSTALL_MOD_STRIP=1 modules_install
date -u +%FT%TZ >"$kdir_root/.complete"
touch "$kdir_root/.last-used"
prune_old_builds
log "kernel ready in $(($(date +%s) - start)) s: $kdir"
echo "$kdir"
