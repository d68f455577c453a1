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
labels=()
for k in "${kernels[@]}"; do
	if [ "$k" = ksrc ]; then
		args=(KSRC="$KSRC")
	else
		args=(KERNEL="$k" KSRC=)
	fi
	build=$(kernel_build_dir "$k")
	log "check-all: make check ${args[*]}"
	start=$SECONDS
	# Each kernel sets its own DEVEXCL_BUILD; ours must not leak into it.
	if ! env -u DEVEXCL_BUILD make -C "$DEVEXCL_ROOT" check "${args[@]}" </dev/null; then
		failed+=("$k")
	fi
	log "check-all: $k took $((SECONDS - start)) s"
	if [ -f "$build/results/vm.ktap" ]; then
		logs+=("$build/results/vm.ktap")
		labels+=("$k")
	fi
done

# "# kernel 7.3.4: row yes" (or no, or "n/a: what the kernel lacks") and
# "# why row: reason", from each suite's log; a column per log, headed by
# its name and the version it ran.
awk -v labels="${labels[*]}" '
	{ sub(/\r$/, "") }  # the serial console ends lines with CR LF
	BEGIN { split(labels, name, " ") }
	FNR == 1 { nk++ }
	/^# kernel [^ ]+: [^ ]+ (yes|no|n\/a: .+)$/ {
		v = $3; sub(/:$/, "", v); head[nk] = name[nk] " (" v ")"; row = $4
		if (!(row in rseen)) { rseen[row] = 1; rorder[++nr] = row }
		c = $0; sub(/^# kernel [^ ]+: [^ ]+ /, "", c)
		gsub(/\|/, "\\|", c)  # a table cell
		cell[row, nk] = c
	}
	/^# why [^ ]+: / {
		row = $3; sub(/:$/, "", row)
		reason = $0; sub(/^# why [^ ]+: /, "", reason)
		gsub(/\|/, "\\|", reason)  # a table cell
		why[row] = reason
	}
	END {
		printf "| behaviour |"
		for (i = 1; i <= nk; i++) printf " %s |", head[i]
		printf " kernel change |\n|---|"
		for (i = 1; i <= nk; i++) printf "---|"
		printf "---|\n"
		for (r = 1; r <= nr; r++) {
			row = rorder[r]
			printf "| `%s` |", row
			for (i = 1; i <= nk; i++) {
				c = ((row, i) in cell) ? cell[row, i] : "?"
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
