#!/usr/bin/env bash
# one-daemon.sh: one ocitapd per socket (issue 17, item 5). A second daemon
# started on the socket a live one serves refuses to start, names that
# daemon's pid and --replace, and leaves everything of the first alone (its
# socket file, pid file, keeper): the first goes on serving. After a kill -9
# of the first, its stale socket file is replaced by the next daemon.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "one daemon"

test_init onedaemon
export PATH="$TOP/$BUILD/bin:$PATH" # the daemon starts ocitap-fdkeeper from there
daemon_args=(--http off --bpf off)
report() { printf '{"ocitapReport":1,"stage":"poststop","state":{"id":"%s","status":"stopped"}}' "$1" |
	socat -t5 - UNIX-CONNECT:"$sock" 2>&1; }

start_daemon
first=$daemon_pid
ino=$(stat -c %i "$sock")
pidfile=$(dirname "$sock")/ocitapd.pid
timeout 20 "$OCITAPD" --socket "$sock" --state-dir "$state" --http off --bpf off >"$work/second.out" 2>&1
rc=$?
check "a second ocitapd on a served socket: exit 1" test "$rc" -eq 1
check "... it names the daemon serving it and --replace" \
	grep -q "$sock is served by ocitapd pid $first: not starting a second daemon on it (stop that one, or take over with ocitapd --replace)" "$work/second.out"
check "... the first still serves: its socket file (same inode), its pid file" \
	test "$(stat -c %i "$sock")/$(cat "$pidfile")" = "$ino/$first"
check "... and answers reports" test "$(report after-second)" = ok
timeout 20 "$OCITAPD" --socket "$sock" --state-dir "$work/other-state" --http off --bpf off >"$work/third.out" 2>&1
check "another state directory does not make it a different socket: refused too" \
	bash -c "[[ $? -eq 1 ]] && grep -q 'served by ocitapd pid $first' '$work/third.out'"
check "the first daemon is still running" kill -0 "$first"

kill -9 "$first"
wait "$first" 2>/dev/null
daemon_pid=
check "after kill -9 the socket file is left behind" test -S "$sock"
"$OCITAPD" --socket "$sock" --state-dir "$state" "${daemon_args[@]}" >>"$log" 2>&1 & # no rm of the old socket first
daemon_pid=$!
for ((i = 0; i < 50; i++)); do [[ $(cat "$pidfile" 2>/dev/null) == "$daemon_pid" ]] && break; sleep 0.1; done
check "the next daemon replaces the stale socket and serves" test "$(report after-kill)" = ok
check "its pid file is its own" test "$(cat "$pidfile")" = "$daemon_pid"
done_testing
