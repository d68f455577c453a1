#!/usr/bin/env bash
# Style gates as KTAP: checkpatch.pl --strict (from the test kernel's tree)
# over module/, and clang-format over the C++ sources.
#   style_test.sh [checkpatch|clang-format]...   (default: both)
source "$(dirname "$0")/../common.sh"
cd "$DEVEXCL_ROOT"

checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(checkpatch clang-format)

run_checkpatch() {
	local kdir
	# The newest tree's checkpatch when it is here (its rules only grow),
	# else the test kernel's own.
	kdir=$(KERNEL=latest KSRC='' "$DEVEXCL_ROOT/scripts/build-kernel.sh" --src 2>/dev/null) &&
		[ -x "$kdir/scripts/checkpatch.pl" ] ||
		kdir=$("$DEVEXCL_ROOT/scripts/build-kernel.sh" --src)
	echo "checkpatch.pl from $kdir" >&2
	# --no-tree: this is not a kernel tree; --strict: the bar for new drivers.
	local checkpatch=("$kdir/scripts/checkpatch.pl" --strict --no-tree --show-types --terse --quiet)
	"${checkpatch[@]}" -f module/*.c module/*.h module/uapi/*.h
	# module/compat/ is the one place that may test the kernel's version,
	# which checkpatch rightly flags in code meant for one tree.
	"${checkpatch[@]}" --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f module/compat/*.h
}

run_clang_format() {
	find userspace selftests \( -name '*.cpp' -o -name '*.hpp' \) -print0 |
		xargs -0 clang-format --dry-run --Werror 2>&1
}

echo "TAP version 13"
echo "1..${#checks[@]}"
n=0
failed=0
for check in "${checks[@]}"; do
	n=$((n + 1))
	status=0
	case $check in
	checkpatch) out=$(run_checkpatch 2>&1) || status=$? ;;
	clang-format) out=$(run_clang_format) || status=$? ;;
	*) die "unknown check $check" ;;
	esac
	if [ $status -eq 0 ]; then
		echo "ok $n ${check}_clean"
	else
		printf '%s\n' "$out" | head -40 | sed 's/^/# /'
		echo "not ok $n ${check}_clean"
		failed=1
	fi
done
exit $failed
