#!/usr/bin/env bash
# harness-selftest.sh: tests/run-suites.sh itself, fed fake suites: one that
# plans 3 tests and runs 1, one that hangs past a 1-second limit (with a
# child of its own), one that exits 1 after only "ok" lines, one that stops
# before its plan, one that prints no TAP at all; each must be counted as
# failed with a line naming it, the hung one's processes killed. A good
# suite and a skipped one must not fail, and the closing line must count it
# all.
set -uo pipefail
source "$(dirname "$0")/integration/common.bash"

tmp=$(mktemp -d /tmp/ocitap-harness-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/short-plan.sh" <<'EOF'
echo 1..3
echo "ok 1 - the first of three"
EOF
cat >"$tmp/hang.sh" <<'EOF'
echo "ok 1 - before the hang"
sleep 600 &
echo $! >"$1/hang.child"
sleep 600
echo 1..1
EOF
cat >"$tmp/exit1.sh" <<'EOF'
echo "ok 1 - a"
echo "ok 2 - b"
echo 1..2
exit 1
EOF
cat >"$tmp/no-plan.sh" <<'EOF'
echo "ok 1 - a"
echo "ok 2 - b"
EOF
cat >"$tmp/silent.sh" <<'EOF'
echo "nothing here is TAP"
EOF
cat >"$tmp/good.sh" <<'EOF'
echo "ok 1 - a"
echo "ok 2 - b # SKIP not on this machine"
echo 1..2
EOF
cat >"$tmp/skip-all.sh" <<'EOF'
echo "1..0 # SKIP nothing to run here"
EOF

start=$(date +%s)
LOGDIR=$tmp/logs SUITE_TIMEOUT=60 SUITE_KILL_GRACE=1 "$TOP/tests/run-suites.sh" \
	"fake:short-plan=bash $tmp/short-plan.sh" \
	"fake:hang@1=bash $tmp/hang.sh $tmp" \
	"fake:exit1=bash $tmp/exit1.sh" \
	"fake:no-plan=bash $tmp/no-plan.sh" \
	"fake:silent=bash $tmp/silent.sh" \
	"fake:good=bash $tmp/good.sh" \
	"fake:skip-all=bash $tmp/skip-all.sh" >"$tmp/out" 2>&1
rc=$?
took=$(($(date +%s) - start))
sed 's/^/# /' "$tmp/out"

# summary NAME: the suite's own line ("NAME  P passed  F failed  S skipped  (Ts)")
summary() { grep -E "^$1 +[0-9]+ passed" "$tmp/out"; }
failed_n() { summary "$1" | awk '{print $4}'; }

check "a failing run exits non-zero" [ "$rc" -ne 0 ]
check "a plan of 3 with 1 run: failed" [ "$(failed_n fake:short-plan)" = 1 ]
check "... the message names the suite and the plan" grep -q "not ok - fake:short-plan: Bad plan.  You planned 3 tests but ran 1" "$tmp/out"
check "a suite past its limit: failed" [ "$(failed_n fake:hang)" -ge 1 ]
check "... a line names the suite that hung" grep -q "^fake:hang: TIMEOUT: no end after 1 s" "$tmp/out"
check "... and it was killed at once (the whole run took ${took} s)" [ "$took" -lt 20 ]
check "... its child too (gone, or a zombie)" bash -c '[[ $(ps -o stat= -p "$(cat "$1")") != [^Z]* ]]' _ "$tmp/hang.child"
check "an exit status of 1 after only ok lines: failed" [ "$(failed_n fake:exit1)" = 1 ]
check "... the message names the suite and the status" grep -q "not ok - fake:exit1 exited with status 1" "$tmp/out"
check "ok lines and no plan (an early exit): failed" [ "$(failed_n fake:no-plan)" = 1 ]
check "... the message names the suite" grep -q "not ok - fake:no-plan: No plan found" "$tmp/out"
check "no TAP at all: failed" [ "$(failed_n fake:silent)" = 1 ]
check "a good suite: 1 passed, 0 failed, 1 skipped" \
	bash -c '[[ $(grep -E "^fake:good +" "$1") =~ \ 1\ passed\ +0\ failed\ +1\ skipped ]]' _ "$tmp/out"
check "a skip-all plan (1..0 and a SKIP reason): 0 failed, 1 skipped" \
	bash -c '[[ $(grep -E "^fake:skip-all +" "$1") =~ \ 0\ passed\ +0\ failed\ +1\ skipped ]]' _ "$tmp/out"
check "the closing line counts it all" [ "$(tail -n 1 "$tmp/out")" = "7 passed, 5 failed, 2 skipped" ]
check "each suite's log is kept" test -s "$tmp/logs/fake_short-plan.log" -a -s "$tmp/logs/fake_hang.log"
done_testing
