#!/usr/bin/env bash
# faults/fdstore.sh: ocitapd under a service manager's fd store (FDSTORE=1,
# the systemd protocol; played by fake-fdstore.py, as this machine's init
# is not systemd) and with --keeper off: killed with -9 and restarted by the
# manager, it takes its notify fds back from $LISTEN_FDS, and the runc
# containers looping on notified syscalls never see a failure.
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: fdstore"
command -v python3 >/dev/null || skip_rest "faults: fdstore" "python3 is not installed"

faults_init fdstore
ids="fs-a fs-b"
mgr=
test_cleanup() { [[ -n $mgr ]] && kill "$mgr" 2>/dev/null && wait "$mgr" 2>/dev/null; }

mkdir -p "$work/mgr"
python3 "$(dirname "$0")/fake-fdstore.py" "$work/mgr" "$TOP/$BUILD/bin/ocitapd" --socket "$sock" --state-dir "$state" \
	--http off --keeper off >>"$log" 2>&1 &
mgr=$!
wait_for "$sock" || { not_ok "ocitapd started under the fd store"; tail "$log"; exit 0; }
start_loops
check "both containers make notified syscalls" all_progressing
stored() { grep -c . "$work/mgr/store" 2>/dev/null || echo 0; }
check "each notify fd is in the fd store, named <key>/<container>" \
	[ "$(stored)" = 2 -a "$(grep -c '^[0-9]*\.i\.audit/fs-[ab]$' "$work/mgr/store")" = 2 ]
check "no keeper was started (--keeper off)" [ ! -e "$work/keeper.sock" ]

old=$(cat "$work/mgr/pid")
kill -9 "$old"
for ((i = 0; i < 50; i++)); do [[ $(cat "$work/mgr/pid") != "$old" ]] && break; sleep 0.1; done
wait_for "$sock"
check "killed and restarted by the manager: the loops go on" all_progressing
check "it took both fds back from \$LISTEN_FDS" grep -q "systemd's fd store: took back 2 notify fds" "$log"
check "no notified syscall failed (no ENOSYS)" no_errors

runc --root "$work/runc" kill fs-a KILL
for ((i = 0; i < 50; i++)); do [[ $(stored) == 1 ]] && break; sleep 0.1; done
check "a stopped container's fd leaves the fd store" [ "$(stored)" = 1 ]
kill -9 "$(cat "$work/mgr/pid")"
sleep 0.5
wait_for "$sock"
ids="fs-b"
check "a second restart: the other container goes on" all_progressing
check "... and took back only its fd" grep -q "systemd's fd store: took back 1 notify fd$" "$log"
check "no notified syscall ever failed" no_errors
done_testing
