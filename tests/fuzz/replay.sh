#!/usr/bin/env bash
# replay.sh FUZZER DIR...: run a libFuzzer target once over every input of
# the directories (its seed corpus, the inputs that once crashed it; no
# mutation) and report one TAP test and the plan. A directory that does not
# exist is no input (a target without regressions).
set -uo pipefail
bin=$1
shift
dirs=()
for d in "$@"; do [[ -d $d ]] && dirs+=("$d"); done
n=0
[[ ${#dirs[@]} -gt 0 ]] && n=$(find "${dirs[@]}" -type f | wc -l)
log=$(mktemp)
if [[ $n -eq 0 ]]; then
	echo "not ok - $(basename "$bin"): no input in $*"
elif "$bin" -runs=0 "${dirs[@]}" >"$log" 2>&1; then
	echo "ok - $(basename "$bin") over $n inputs ($(echo "${dirs[@]}"))"
else
	tail -n 40 "$log" | sed 's/^/# /'
	echo "not ok - $(basename "$bin") crashed on an input of ${dirs[*]}"
fi
rm -f "$log"
echo "1..1"
