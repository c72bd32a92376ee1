#!/usr/bin/env bash
# valgrind.sh BINARY: run a cmocka test binary under valgrind's memcheck and
# report one TAP test and the plan: ok when the tests pass with no error and
# no leak.
set -uo pipefail
bin=$1
name=$(basename "$bin")
log=$(mktemp)
CMOCKA_MESSAGE_OUTPUT=TAP valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --track-fds=no "$bin" >"$log" 2>&1
rc=$?
if [[ $rc -eq 0 ]] && ! grep -v '# SKIP' "$log" | grep -q '^not ok'; then
	skipped=$(grep -c '# SKIP' "$log")
	if [[ $skipped -gt 0 ]]; then
		echo "ok - $name under valgrind: no errors, no leaks ($skipped test(s) could not run there)"
		grep -i 'not available\|# SKIP' "$log" | sed 's/^/# /'
	else
		echo "ok - $name under valgrind: no errors, no leaks"
	fi
else
	sed 's/^/# /' "$log" # (cmocka's own TAP, plan included, as comments)
	echo "not ok - $name under valgrind (status $rc)"
fi
rm -f "$log"
echo "1..1"
