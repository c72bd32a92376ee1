#!/usr/bin/env bash
# faults/listen-kept.sh: the listening socket outlives the daemon (issue 17,
# item 1). ocitapd hands its listening socket to ocitap-fdkeeper with the
# notify fds; while no daemon runs (killed with -9, or stopped), a runtime's
# connection waits in its backlog instead of being refused: a runc container
# with a seccomp listener starts with ocitapd down, and a hook's report sent
# meanwhile waits for its answer. The next daemon takes the socket back and
# serves both: the container's notified mkdir is answered by its policy
# (deny), the report is acknowledged and stored. And a connection the
# daemon had accepted but not read when it was killed is served by the next.
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: listen kept"

faults_init listenkept
daemon_args=(--http off --bpf off)
pidfile=$(dirname "$sock")/ocitapd.pid
# the daemon, started without removing the socket file first (start_daemon does)
start_kept() {
	"$OCITAPD" --socket "$sock" --state-dir "$state" "${daemon_args[@]}" >>"$log" 2>&1 &
	daemon_pid=$!
	for ((i = 0; i < 50; i++)); do [[ $(cat "$pidfile" 2>/dev/null) == "$daemon_pid" ]] && return 0; sleep 0.1; done
	return 1
}
report() { printf '{"ocitapReport":1,"stage":"%s","state":{"ociVersion":"1.0.2","id":"%s","status":"%s"}}' "$1" "$2" "$3" |
	socat -t15 - UNIX-CONNECT:"$sock" 2>&1; }

start_daemon
for ((i = 0; i < 50; i++)); do grep -q "keeper .*connected" "$log" && break; sleep 0.1; done
kill_daemon 9
check "killed: the socket file is there, and something listens on it (the keeper)" \
	bash -c "test -S '$sock' && socat -t1 /dev/null UNIX-CONNECT:'$sock'"

# with no daemon: a container with a seccomp listener starts, a report waits
b=$work/b-down
notify_bundle "$b" deny 'mkdir /tmp/x 2>/tmp/err; echo $? >/tmp/rc; exec sleep 300'
# (its output to a file: the container's stdio is runc's, and would hold a pipe open)
timeout 30 runc --root "$work/runc" run -d --bundle "$b" started-down </dev/null >"$work/runc.out" 2>&1
rc=$?
check "a runc container with a listener starts while ocitapd is down (no connection refused)" test "$rc" -eq 0 ||
	sed 's/^/# /' "$work/runc.out"
report poststop waited-down stopped >"$work/report.out" &
reporter=$!
sleep 1
check "... its notified mkdir waits meanwhile (no answer, no ENOSYS)" test ! -e "$b/rootfs/tmp/rc"

start_kept
check "the next daemon takes the listening socket back from the keeper" \
	grep -q "took back the listening socket $sock" "$log"
wait_for "$b/rootfs/tmp/rc" 50
check "the container's mkdir is answered by its policy (deny: EPERM)" \
	bash -c "[[ \$(cat '$b/rootfs/tmp/rc' 2>/dev/null) == 1 ]] && grep -q 'Operation not permitted' '$b/rootfs/tmp/err'"
wait "$reporter"
check "the report sent while it was down is acknowledged" test "$(cat "$work/report.out")" = ok
check "... and stored" test "$(q "select phase from containers where id='waited-down'")" = stopped
check "the container is recorded, with its notify fd" \
	test "$(q "select count(*) from containers where id='started-down'")" = 1 || grep -v "^ocitapd: container waited" "$log" | tail -20 | sed 's/^/# /' 

# a clean stop leaves the socket to the keeper as well; the next daemon serves it
stop_daemon
check "SIGTERM: the socket stays, the log says the keeper listens on it" \
	bash -c "test -S '$sock' && grep -q 'the keeper holds the listening socket $sock' '$log'"
start_kept
check "after a clean stop the next daemon takes it back too, and serves" test "$(report poststop after-stop stopped)" = ok

# a connection the daemon accepted and had not read yet when it was killed
# (a listener message would carry a container's only notify fd): the keeper
# holds it too until it is read, and the next daemon serves what it brings
msg='{"ocitapReport":1,"stage":"poststop","state":{"ociVersion":"1.0.2","id":"accepted-unread","status":"stopped"}}'
(sleep 1.5; printf '%s' "$msg") | socat -t15 - UNIX-CONNECT:"$sock" >"$work/unread.out" 2>&1 &
slow=$!
sleep 0.5 # accepted by now, nothing sent yet
kill_daemon 9
start_kept
wait "$slow"
check "a connection accepted, not yet read, when ocitapd is killed: the next daemon answers what it then sends" \
	test "$(cat "$work/unread.out")" = ok || sed 's/^/# /' "$work/unread.out"
check "... and stores it" test "$(q "select phase from containers where id='accepted-unread'")" = stopped
check "no daemon ever refused a start: all three takeovers logged" \
	test "$(grep -c "took back the listening socket $sock" "$log")" -eq 3
runc --root "$work/runc" delete -f started-down >/dev/null 2>&1
done_testing
