#!/usr/bin/env bash
# run.sh (make bench): benchmarks, each printed as a ratio against a
# baseline measured in the same run on the same machine.
#
# 1. Parse cost: typed parse + validate of a typical State and
#    ContainerProcessState (as runc and crun send them) against json-c's own
#    json_tokener_parse of the same bytes. Target: at most 1.5x.
set -euo pipefail
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."

echo "== parse + validate vs json_tokener_parse (median of 21 interleaved rounds)"
"$BUILD/tests/bench-parse" \
	tests/data/runc-createRuntime.json state \
	tests/data/crun-poststart.json state \
	tests/data/runc-listener.json process-state \
	tests/data/crun-listener.json process-state
