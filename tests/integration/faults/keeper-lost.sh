#!/usr/bin/env bash
# faults/keeper-lost.sh: ocitapd and ocitap-fdkeeper killed together
# (issue 17), the one case the keeper cannot cover: no process is left
# holding the notify fds, the listening socket or the inits' pidfds. What
# is lost then, asserted so that it stays exactly that (docs/reliability.md):
# the running containers' notified syscalls fail with ENOSYS from then on
# (the kernel's rule), a runtime's connection is refused until the next
# daemon, and an init that exits before the next daemon starts has no exit
# code. What holds: every notification answered is counted, a report made
# meanwhile is spooled and recorded, a run whose init still lives gets its
# exit code (watched again from the stored pid), a run whose init is gone is
# stopped (source init-gone), not left running, and the events have no gap.
# (The keeper killed first and ocitapd after it has handed a new keeper its
# fds loses nothing: faults/load-keeper.sh.)
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: keeper lost"

faults_init keeperlost
ids="loop-a"
daemon_args=(--http off)
keeper_pid() { pgrep -f "ocitap-fdkeeper --socket $work/keeper.sock"; }
start() { # ID SHELL-COMMAND: a detached runc container with a listener
	local b=$work/b-$1
	notify_bundle "$b" audit "$2"
	timeout 30 runc --root "$work/runc" run -d --bundle "$b" "$1" </dev/null >"$work/$1.out" 2>&1
}
wait_phase() { # ID PHASE (10 s)
	for ((i = 0; i < 100; i++)); do [[ $(q "select phase from containers where id='$1'") == "$2" ]] && return 0; sleep 0.1; done
	return 1
}

start_daemon
start_loops
check "loop-a makes notified syscalls" progressing loop-a
# each ends when the test touches its /tmp/go
start long 'mkdir /tmp/a; until [ -e /tmp/go ]; do sleep 0.1; done; exit 7'
# short under a runc that waits for it (not -d): its init is reaped when it exits
notify_bundle "$work/b-short" audit 'mkdir /tmp/a; until [ -e /tmp/go ]; do sleep 0.1; done; exit 9'
timeout 30 runc --root "$work/runc" run --bundle "$work/b-short" short </dev/null >"$work/short.out" 2>&1 &
short_runc=$!
wait_phase long running && wait_phase short running
check "a keeper holds the daemon's fds" test -n "$(keeper_pid)"

kill -9 $(keeper_pid) "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=
# lost: the notify fds (their last copies are gone: the kernel fails the syscalls)
for ((i = 0; i < 50; i++)); do [[ -n $(errors loop-a) ]] && break; sleep 0.1; done
check "lost: loop-a's notified mkdir fails with ENOSYS from then on" grep -q "Function not implemented" <(errors loop-a)
answered=$(errors loop-a | sed -n 's/^mkdir failed at //p' | head -1) # the rounds made before: each mkdir answered
# lost: the listening socket (no process holds it until the next daemon makes one)
start during 'exit 3'
check "lost: a runtime's connection while neither runs is refused" grep -q "connection refused" "$work/during.out"
# holds: a report is spooled, and recorded by the next daemon
printf '{"ociVersion":"1.0.2","id":"hooked","status":"creating","pid":0,"bundle":"/b"}' |
	"$TOP/$BUILD/bin/ocitap-createRuntime" --socket "$sock" --state-dir "$state" 2>"$work/hook.err"
hook_rc=$?
check "holds: a hook's report while neither runs is spooled (the hook succeeds)" \
	bash -c "[[ $hook_rc -eq 0 ]] && grep -q spooled '$work/hook.err'"
touch "$work/b-short/rootfs/tmp/go"
wait "$short_runc"
check "short's init exits (9) while neither runs, and is reaped" test $? -eq 9

start_daemon
check "the next daemon starts a new keeper" bash -c "for i in {1..50}; do [[ -n \$(pgrep -f 'ocitap-fdkeeper --socket $work/keeper.sock') ]] && exit 0; sleep 0.1; done; exit 1"
wait_phase short stopped
check "holds: short, whose init ended unseen, is stopped (init-gone), its exit unknown, not left running" \
	test "$(q "select phase || '|' || coalesce(exit_code, 'null') from containers where id='short'")|$(q "select source from events where container_id='short' and kind='transition' and to_phase='stopped'")" = "stopped|null|init-gone" ||
	q "select seq, kind, source, to_phase, exit_code from events where container_id='short'" | sed 's/^/# /'
touch "$work/b-long/rootfs/tmp/go"
check "holds: long's init, alive at the restart, is watched again: exit code 7 once it exits" \
	bash -c "for i in {1..100}; do [[ \$(sqlite3 -readonly '$db' \"select exit_code from containers where id='long'\" 2>/dev/null) == 7 ]] && exit 0; sleep 0.1; done; exit 1" ||
	grep "container long" "$log" | sed 's/^/# /'
check "the log says which inits were watched again (loop-a, long) and which were gone (short)" \
	grep -q "store: 2 inits watched again from the stored pid (no pidfd was kept), 1 gone" "$log" || grep "store: " "$log" | sed 's/^/# /'
for ((i = 0; i < 30; i++)); do [[ -n $(q "select 1 from containers where id='hooked'") ]] && break; sleep 0.1; done
check "holds: the spooled report is recorded once" test "$(hook_count hooked createRuntime)" = 1
sleep 1.2 # the counts
got=$(q "select coalesce(sum(count), 0) from notifications where container_id='loop-a' and syscall like 'mkdir%'")
# one fewer: a kill between an answer and its count (a few instructions)
check "holds: every mkdir answered before the kill is counted ($got stored, $answered answered)" \
	bash -c "[[ -n '$answered' && $got -le $answered && $got -ge $((answered - 1)) ]]"
start after 'mkdir /tmp/a && echo made >/tmp/made; exit 4'
check "after the restart a container with a listener starts and is served" \
	bash -c "runc_ok() { [[ -e '$work/b-after/rootfs/tmp/made' ]]; }; for i in {1..50}; do runc_ok && exit 0; sleep 0.1; done; exit 1"
check "events: no gap, no repeat" \
	test "$(q "select count(*) || ' ' || count(distinct seq) from events")" = "$(q "select max(seq) || ' ' || max(seq) from events")"
for id in loop-a long short after; do runc --root "$work/runc" delete -f "$id" >/dev/null 2>&1; done
done_testing
