#!/usr/bin/env bash
# `make check-all`: `make check` on 6.1, 6.12 and latest (and on KSRC, if
# given), one after another, then the behaviour table: which of the rows
# the suite's expectations follow each kernel shows, and the kernel change
# behind each (build/behaviour.md). Every kernel runs even if one fails;
# exits non-zero if any did.
source "$(dirname "$0")/common.sh"

kernels=(6.1 6.12 latest)
[ -z "$KSRC" ] || kernels+=(ksrc)
report="$DEVEXCL_ROOT/build/behaviour.md"
mkdir -p "$(dirname "$report")"
failed=()
logs=()
for k in "${kernels[@]}"; do
	if [ "$k" = ksrc ]; then
		args=(KSRC="$KSRC")
		build="$DEVEXCL_ROOT/build/kernel-ksrc"
	else
		args=(KERNEL="$k" KSRC=)
		build="$DEVEXCL_ROOT/build$([ "$k" = 6.1 ] || echo "/kernel-$k")"
	fi
	log "check-all: make check ${args[*]}"
	start=$SECONDS
	# Each kernel sets its own DEVEXCL_BUILD; ours must not leak into it.
	if ! env -u DEVEXCL_BUILD make -C "$DEVEXCL_ROOT" check "${args[@]}" </dev/null; then
		failed+=("$k")
	fi
	log "check-all: $k took $((SECONDS - start)) s"
	[ ! -f "$build/results/vm.ktap" ] || logs+=("$build/results/vm.ktap")
done

# "# kernel 7.3.4: row yes" and "# why row: reason", from each suite's log.
awk '
	{ sub(/\r$/, "") }  # the serial console ends lines with CR LF
	/^# kernel [^ ]+: [^ ]+ (yes|no)$/ {
		k = $3; sub(/:$/, "", k); row = $4
		if (!(k in kseen)) { kseen[k] = 1; korder[++nk] = k }
		if (!(row in rseen)) { rseen[row] = 1; rorder[++nr] = row }
		cell[row, k] = $5
	}
	/^# why [^ ]+: / {
		row = $3; sub(/:$/, "", row)
		reason = $0; sub(/^# why [^ ]+: /, "", reason)
		why[row] = reason
	}
	END {
		printf "| behaviour |"
		for (i = 1; i <= nk; i++) printf " %s |", korder[i]
		printf " kernel change |\n|---|"
		for (i = 1; i <= nk; i++) printf "---|"
		printf "---|\n"
		for (r = 1; r <= nr; r++) {
			row = rorder[r]
			printf "| `%s` |", row
			for (i = 1; i <= nk; i++) {
				c = ((row, korder[i]) in cell) ? cell[row, korder[i]] : "?"
				printf " %s |", c
			}
			printf " %s |\n", why[row]
		}
	}' "${logs[@]}" /dev/null >"$report"
echo
cat "$report"
echo "check-all: behaviour table in $report"
if [ ${#failed[@]} -ne 0 ]; then
	echo "check-all: FAILED on: ${failed[*]}"
	exit 1
fi
echo "check-all: every kernel passed"
