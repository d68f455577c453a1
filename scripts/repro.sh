#!/usr/bin/env bash
# `make repro`: one VM boot per known kernel bug, walked into on purpose
# with devexcl-repro (CAP_SYS_ADMIN, DEVEXCL_MARK_ALLOW_KERNEL_BUGS). The
# guest first says whether the running kernel has the bug; the run must
# then be exactly that: a crash with the bug's signature on the console,
# or a clean run with a clean console. Prints KTAP and one line per bug.
source "$(dirname "$0")/common.sh"

# The console lines that name each bug's crash: all must appear.
declare -A signature=(
	[thp-exclusive-migrate]='kernel BUG at|try_to_migrate_one'
)

results="$DEVEXCL_BUILD/results"
mkdir -p "$results"
ktap="$results/repro-$DEVEXCL_FLAVOUR.ktap"
bugs=("${!signature[@]}")
failed=0
n=0
{
	echo "TAP version 13"
	echo "1..${#bugs[@]}"
} >"$ktap"

for bug in "${bugs[@]}"; do
	n=$((n + 1))
	name="repro-$bug"
	status=0
	# The crash is the point: the gate is the check below, not vm.sh's.
	"$DEVEXCL_ROOT/scripts/vm.sh" --no-gate --name "$name" --timeout 300 -- \
		"/opt/devexcl/devexcl-repro $bug" >/dev/null 2>&1 || status=$?
	console="$DEVEXCL_BUILD/vm/runs/$name/console.log"
	said=$(grep -aoE "devexcl-repro: $bug: kernel [^ ]+ (has|lacks) the bug: expect (crash|clean)" "$console" | tail -n 1 || true)
	kernel=$(sed -E 's/.*kernel ([^ ]+) .*/\1/' <<<"$said")
	verdict="not ok"
	skip=
	case $said in
	*"expect crash")
		matched=1
		IFS='|' read -ra needles <<<"${signature[$bug]}"
		for needle in "${needles[@]}"; do
			grep -aqF "$needle" "$console" || matched=0
		done
		crash=$(grep -aoE 'kernel BUG at [^ ]+|BUG: [^,]+' "$console" | head -n 1 || true)
		if [ "$status" -eq 125 ] && [ $matched -eq 1 ]; then
			verdict=ok
			detail="kernel $kernel crashed as expected: $crash"
		else
			detail="kernel $kernel has the bug but the run ended with status $status${crash:+ ($crash)}"
		fi
		;;
	*"expect clean")
		if [ "$status" -eq 0 ] && "$DEVEXCL_ROOT/scripts/console-gate.sh" "$console" 2>/dev/null; then
			verdict=ok
			detail="kernel $kernel lacks the bug and ran clean"
		else
			detail="kernel $kernel lacks the bug but the run ended with status $status or a splat"
		fi
		;;
	*)
		if [ "$status" -eq 77 ]; then
			verdict="ok"
			skip=" # SKIP the kernel could not set the scene up"
			detail="skipped (see $console)"
		else
			detail="the guest never said what to expect (status $status)"
		fi
		;;
	esac
	[ "$verdict" = ok ] || failed=1
	printf '# %s\n%s %d %s%s\n' "$detail" "$verdict" "$n" "$bug" "$skip" >>"$ktap"
	log "repro $bug ($DEVEXCL_FLAVOUR): $verdict: $detail"
done
cat "$ktap"
exit $failed
