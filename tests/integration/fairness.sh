#!/usr/bin/env bash
# fairness.sh: an --allow-uid user holding as many slow connections as it
# can (300, each one byte of a report and then nothing) keeps no one else
# from speaking: the daemon takes 16 of that uid's, refuses the rest with the
# reason in the log, and meanwhile a real runc container with hooks and the
# seccomp listener starts, is recorded, and its notified mkdir is answered
# by its policy; another allowed user's report is still taken.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "fairness"

test_init fair
chmod 0755 "$work"
sock=$work/run/ocitap.sock
flood=
test_cleanup() { [[ -n $flood ]] && kill "$flood" 2>/dev/null; }

start_daemon --http off --keeper off --bpf off --allow-uid 65534 --allow-uid 65533 --peer-timeout 8000
chmod 0755 "$work/run"
chmod 0666 "$sock"

setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$(dirname "$0")/slow-peers.py" "$sock" 300 10 \
	>"$work/flood.out" 2>&1 &
flood=$!
for ((i = 0; i < 50; i++)); do [[ -s $work/flood.out ]] && break; sleep 0.1; done
check "the slow user's connections: 16 taken, the rest refused ($(cat "$work/flood.out"))" \
	grep -q '^taken=16 refused=284$' "$work/flood.out"
check "the log says why: 16 connections of uid 65534 already open" \
	grep -q "refused peer pid [0-9]* uid 65534: 16 connections of uid 65534 already open" "$log"

# meanwhile: a real container with hooks on two stages and the listener
b=$work/b-real
notify_bundle "$b" deny 'mkdir /tmp/x 2>/tmp/err; echo $? >/tmp/rc' \
	'.hooks = {createRuntime: [{path: $rh, args: ["report-hook", "createRuntime", $sock]}],
	           poststart:     [{path: $rh, args: ["report-hook", "poststart", $sock]}]}'
timeout 30 runc --root "$work/runc" run --bundle "$b" fair-real </dev/null >"$work/runc.out" 2>&1
rc=$?
check "the container starts and runs while the slow user holds its slots (runc exit $rc)" test "$rc" = 0
check "its notified mkdir is answered by its policy (deny: exit 1)" test "$(cat "$b/rootfs/tmp/rc" 2>/dev/null)" = 1
hooks_recorded() {
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(q "select count(*) from events where container_id='fair-real' and kind='hook'") -ge 2 ]] && return 0
		sleep 0.1
	done
	return 1
}
check "both of its hook reports are recorded" hooks_recorded
r=$(printf '{"ocitapReport":1,"stage":"poststop","state":{"id":"from-65533","status":"stopped"}}' |
	setpriv --reuid=65533 --regid=65533 --clear-groups socat -t5 - UNIX-CONNECT:"$sock" 2>&1)
check "another allowed user's report is taken meanwhile" [ "$r" = ok ]
check "the slow user is still connected (its 16 are held, not dropped early)" kill -0 "$flood"
done_testing
