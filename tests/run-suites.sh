#!/usr/bin/env bash
# run-suites.sh: run test suites, count their TAP results, print one closing
# line "N passed, N failed[, N skipped]" and exit non-zero on any failure.
#
# Each argument is NAME=COMMAND. A suite prints TAP lines ("ok ...",
# "not ok ...", "ok ... # SKIP reason"); cmocka does when
# CMOCKA_MESSAGE_OUTPUT=TAP. A suite that exits non-zero without reporting a
# failure counts as one failure, so a crash is never a pass.
# Logs go to $LOGDIR (default build/test-logs).
set -uo pipefail

LOGDIR=${LOGDIR:-build/test-logs}
mkdir -p "$LOGDIR"
export CMOCKA_MESSAGE_OUTPUT=TAP

passed=0 failed=0 skipped=0
for spec in "$@"; do
	name=${spec%%=*}
	cmd=${spec#*=}
	log="$LOGDIR/${name//[^A-Za-z0-9_.-]/_}.log"
	start=$(date +%s)
	bash -c "$cmd" >"$log" 2>&1
	rc=$?
	p=$(grep -cE '^ok ' "$log" | tr -d ' ' || true)
	s=$(grep -cE '^ok .*# (SKIP|skip)' "$log" | tr -d ' ' || true)
	f=$(grep -cE '^not ok ' "$log" | tr -d ' ' || true)
	p=$((p - s))
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	if [[ $rc -eq 0 && $p -eq 0 && $f -eq 0 && $s -eq 0 ]]; then
		f=1
		echo "not ok - $name ran no test" >>"$log"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	printf '%-28s %3d passed %3d failed %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" $(($(date +%s) - start))
	if [[ $f -ne 0 ]]; then
		grep -E '^not ok ' "$log" | sed 's/^/    /'
		echo "    --- last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    | /'
	fi
	grep -E '^ok .*# (SKIP|skip)' "$log" | sed 's/^/    /'
done
if [[ $skipped -gt 0 ]]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[[ $failed -eq 0 ]]
