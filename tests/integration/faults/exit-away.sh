#!/usr/bin/env bash
# faults/exit-away.sh: exits are seen while the daemon is away (issue 17,
# item 3). ocitapd hands each init's pidfd to ocitap-fdkeeper, which keeps
# it past the init's exit; a daemon started after the exit takes it back
# and reads how the init ended (PIDFD_INFO_EXIT). Real runc containers:
# one exits with 40 while ocitapd is killed, one is killed by SIGKILL while
# ocitapd is stopped; both runs get their exit once a daemon is back. BPF is
# off, so the pidfd is the only witness.
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: exit away"

faults_init exitaway
daemon_args=(--http off --bpf off)
wait_phase() { # ID PHASE
	for ((i = 0; i < 50; i++)); do [[ $(q "select phase from containers where id='$1'") == "$2" ]] && return 0; sleep 0.1; done
	return 1
}
runc_stopped() { # ID: until runc says so (10 s)
	for ((i = 0; i < 100; i++)); do
		[[ $(runc --root "$work/runc" state "$1" 2>/dev/null | jq -r .status) == stopped ]] && return 0
		sleep 0.1
	done
	return 1
}
start() { # ID SHELL-COMMAND: a detached runc container with a listener
	local b=$work/b-$1
	notify_bundle "$b" audit "$2"
	timeout 30 runc --root "$work/runc" run -d --bundle "$b" "$1" </dev/null >"$work/$1.out" 2>&1
}

start_daemon
start away40 'mkdir /tmp/a; sleep 2; exit 40'
start awaykill 'mkdir /tmp/a; exec sleep 300'
wait_phase away40 creating
wait_phase awaykill creating
for ((i = 0; i < 50; i++)); do [[ -e /proc/$(runc --root "$work/runc" state awaykill | jq .pid) ]] && break; sleep 0.1; done

kill_daemon 9
check "ocitapd killed; away40's init exits (40) meanwhile" runc_stopped away40
start_daemon
check "the next daemon took back the inits' pidfds from the keeper" grep -q "container away40: the keeper kept its init's pidfd" "$log"
wait_phase away40 stopped
check "away40: exit code 40 recorded, though its init exited while no daemon ran" \
	test "$(q "select exit_code from containers where id='away40'")" = 40
check "... from the pidfd" test "$(q "select source from events where container_id='away40' and kind='exit'")" = pidfd

stop_daemon
runc --root "$work/runc" kill awaykill KILL
check "ocitapd stopped; awaykill killed by SIGKILL meanwhile" runc_stopped awaykill
start_daemon
wait_phase awaykill stopped
check "awaykill: signal 9 recorded after the restart" test "$(q "select signal from containers where id='awaykill'")" = 9
kpid=$(pgrep -f "ocitap-fdkeeper --socket $work/keeper.sock" | head -1)
check "the keeper holds no pidfd of those runs any more (dropped once read)" \
	test "$(ls -l "/proc/$kpid/fd" 2>/dev/null | grep -c 'anon_inode:\[pidfd\]')" = 0
for id in away40 awaykill; do runc --root "$work/runc" delete -f "$id" >/dev/null 2>&1; done
done_testing
