#!/usr/bin/env bash
# Count the top-level results of KTAP files: prints "P passed, F failed, S skipped".
# A file with no plan, or a plan ("1..N") with fewer results than N, counts
# the missing results as failed, so a crash mid-suite cannot look like
# success. Exits 1 if anything failed.
set -euo pipefail
pass=0 fail=0 skip=0 missing=0
for file in "$@"; do
	read -r p f s m < <(awk '
		/^1\.\.[0-9]+/ && planned < 0 { planned = substr($1, 4) + 0 }
		/^(not )?ok [0-9]+/ {
			seen++
			if ($0 ~ /# [Ss][Kk][Ii][Pp]/) skip++
			else if ($1 == "ok") pass++
			else fail++
		}
		BEGIN { planned = -1 }
		END {
			miss = 0
			if (planned < 0) miss = 1
			else if (planned > seen) miss = planned - seen
			print pass + 0, fail + miss, skip + 0, miss
		}' "$file")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s)) missing=$((missing + m))
	[ "$m" -eq 0 ] || echo "ktap-summary: $file: $m result(s) missing" >&2
done
printf '%d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
[ "$fail" -eq 0 ]
