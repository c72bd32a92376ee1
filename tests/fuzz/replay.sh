#!/usr/bin/env bash
# replay.sh FUZZER CORPUS_DIR: run a libFuzzer target once over every input
# of its corpus (no mutation) and report one TAP line.
set -uo pipefail
bin=$1 corpus=$2
n=$(find "$corpus" -type f | wc -l)
log=$(mktemp)
if "$bin" -runs=0 "$corpus" >"$log" 2>&1; then
	echo "ok - $(basename "$bin") over $n corpus inputs"
else
	tail -n 40 "$log"
	echo "not ok - $(basename "$bin") crashed on its corpus"
fi
rm -f "$log"
