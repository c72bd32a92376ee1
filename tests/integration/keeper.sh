#!/usr/bin/env bash
# keeper.sh: ocitap-fdkeeper holds a real seccomp notify fd while nobody
# else does (the child's notified syscall waits instead of failing with
# ENOSYS), gives it back with its identity, drops it when the filter hangs
# up, and refuses what is not its protocol (tests/integration/keeper-test.c).
set -uo pipefail
source "$(dirname "$0")/common.bash"

KEEPER="$TOP/$BUILD/bin/ocitap-fdkeeper"
test_init keeper
keeper_pid=
test_cleanup() { [[ -n $keeper_pid ]] && kill -9 "$keeper_pid" 2>/dev/null; }

"$KEEPER" --socket "$work/keeper.sock" 2>"$work/keeper.err" &
keeper_pid=$!
wait_for "$work/keeper.sock" || { not_ok "ocitap-fdkeeper listens"; exit 0; }
"$TOP/$BUILD/tests/keeper-test" "$work/keeper.sock" >"$work/test.tap"
cat "$work/test.tap"
_tap_n=$(grep -c '^\(not \)\?ok' "$work/test.tap")
check "the socket is its owner's only (mode 0600)" [ "$(stat -c %a "$work/keeper.sock")" = 600 ]
check "ocitap-fdkeeper --help" bash -c '"$1" --help | grep -q -- --socket' _ "$KEEPER"
"$KEEPER" >/dev/null 2>&1
check "no --socket: exit 2" [ $? -eq 2 ]
kill -TERM "$keeper_pid"
wait "$keeper_pid"
rc=$?
keeper_pid=
check "SIGTERM: exits 0 and removes its socket" [ "$rc" -eq 0 -a ! -e "$work/keeper.sock" ]
done_testing
