#!/usr/bin/env bash
# faults/restart.sh: ocitapd restarted, killed (-9, and at the worst moments
# of answering a notification) and left without its keeper, while real runc
# containers make notified syscalls in a loop. Their syscalls pause while no
# daemon runs and go on once one is back: none fails (no ENOSYS), none is
# left waiting, and every transition acknowledged before a kill is stored.
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: restart"

faults_init faults
# the keeper waits this long with only the listening socket (then closes it)
export OCITAP_KEEPER_LISTEN_GRACE_MS=1500
ids="loop-a loop-b"
daemon_args=(--http "unix:$http" --peer-timeout 1000)
keeper_pids() { pgrep -f "ocitap-fdkeeper --socket $work/keeper.sock"; }
metric() { curl -s --unix-socket "$http" http://x/metrics | awk -v m="$1" '$1 == m { print $2 }'; }

start_daemon
start_loops
check "both containers make notified syscalls" all_progressing
check "ocitapd started a keeper next to its socket" [ -S "$work/keeper.sock" -a -n "$(keeper_pids)" ]
check "/metrics: ocitap_keeper_up 1" [ "$(metric ocitap_keeper_up)" = 1 ]
check "the keeper runs in its own session (a kill of ocitapd's group misses it)" \
	[ "$(ps -o sid= -p "$(keeper_pids | head -1)" | tr -d ' ')" != "$(ps -o sid= -p "$daemon_pid" | tr -d ' ')" ]
wait_hooks loop-a 2 && wait_hooks loop-b 2
acked=$(q "select count(*) from events where kind='hook' and container_id like 'loop-%'")

# --- kill -9 while the loops run --------------------------------------------------
kill_daemon 9
a=$(count loop-a)
sleep 1
check "daemon gone: the notified syscalls wait (no progress, no error)" \
	[ "$(count loop-a)" -le $((a + 1)) -a -z "$(errors loop-a)" ]
start_daemon
check "restarted: the loops go on" all_progressing
check "restarted: it took back both notify fds from the keeper" grep -q "took back 2 notify fds" "$log"
check "no notified syscall failed (no ENOSYS)" no_errors
check "every hook report acknowledged before the kill is stored" \
	[ "$(q "select count(*) from events where kind='hook' and container_id like 'loop-%'")" -ge "$acked" -a "$acked" -ge 4 ]
check "/metrics: ocitap_adopted_notify_fds_total 2" [ "$(metric ocitap_adopted_notify_fds_total)" = 2 ]
check "/v1/containers: each still has its notify fd" \
	[ "$(curl -s --unix-socket "$http" http://x/v1/containers | jq '[.containers[] | select(.id | startswith("loop-")) | .notifyFds] | add')" = 2 ]

# --- killed between taking a notification and answering it ----------------------
# (OCITAP_FAULT: the daemon SIGKILLs itself there, the 30th time: on its way
# back from the kernel's RECV (the notification in the in-flight record);
# the same as a daemon that kept its RECV buffer private (all its successor
# knows is the last id answered); right after the decision)
for fault in after-recv after-recv-blind after-decide; do
	kill_daemon TERM
	rm -f "$sock"
	OCITAP_FAULT=$fault:30 "$OCITAPD" --socket "$sock" --state-dir "$state" --http off >>"$log" 2>&1 &
	daemon_pid=$!
	wait "$daemon_pid" 2>/dev/null
	rc=$?
	daemon_pid=
	check "$fault: the daemon died by SIGKILL while answering" [ "$rc" -eq 137 ]
	before=$(grep -c "previous ocitapd" "$log")
	start_daemon
	check "$fault: the taken notification is answered by the next daemon, the loops go on" all_progressing
	check "$fault: no notified syscall failed" no_errors
	check "$fault: the recovery is logged" [ "$(grep -c "previous ocitapd" "$log")" -gt "$before" ]
done
check "after-recv: the notification read back from the in-flight record, answered as the policy says of it" \
	grep -q "answered mkdir\(at\)\?, taken by the previous ocitapd but not answered (killed on its way back from taking it)" "$log"
check "after-recv-blind: answered by the policy (audit: continue, exact)" \
	grep -q "killed while taking (syscall unknown): continue, the policy's answer to every syscall" "$log"
check "after-decide: answered as decided (the syscall is known)" \
	grep -q "answered mkdir\(at\)\?, taken by the previous ocitapd but not answered (killed as it decided)" "$log"

# --- the keeper killed: ocitapd starts another and hands it every fd again --------
old=$(keeper_pids)
kill -9 $old
for ((i = 0; i < 50; i++)); do
	[[ -n $(keeper_pids) && $(keeper_pids) != "$old" ]] && grep -q "holds 2 of 2 notify fds" "$log" && break
	sleep 0.1
done
check "keeper killed: ocitapd starts a new one and hands it both fds again" grep -q "holds 2 of 2 notify fds" "$log"
check "keeper killed: the containers never noticed" no_errors
# a keeper that answers nothing (stopped): a new notify fd is served anyway
kp=$(keeper_pids)
kill -STOP $kp
out=$(timeout 20 runc --root "$work/runc" exec loop-a sh -c 'mkdir /tmp/x && echo made' 2>&1)
check "keeper stopped (SIGSTOP): a runc exec's notify fd is served anyway" grep -q '^made$' <<<"$out"
check "... the log says the keeper does not answer" grep -q "keeper: no answer in 0.5 s" "$log"
check "... the loops never failed" no_errors
kill -CONT $kp
kill_daemon 9
start_daemon
check "... and a restart after that still takes both back" all_progressing
check "... with no failed syscall" no_errors

# --- SIGTERM is a restart too; the init's exit is still recorded after one --------
kill_daemon TERM
check "SIGTERM: the log says the keeper holds the fds" grep -q "the keeper holds 2 notify fds" "$log"
start_daemon
check "SIGTERM then start: the loops go on" all_progressing
runc --root "$work/runc" kill loop-a KILL
for ((i = 0; i < 50; i++)); do
	[[ $(q "select phase || '/' || coalesce(signal, '') from containers where id='loop-a'") == stopped/9 ]] && break
	sleep 0.1
done
check "an adopted container's init killed: stopped, signal 9 (pidfd of the stored pid)" \
	[ "$(q "select phase || '/' || coalesce(signal, '') from containers where id='loop-a'")" = stopped/9 ]
check "no notified syscall ever failed" no_errors

# --- with nothing left to keep, the keeper goes away after the daemon ---------------
runc --root "$work/runc" kill loop-b KILL
sleep 0.5
kill_daemon TERM
check "no notify fd held, no daemon: the keeper keeps only the listening socket, for the next daemon" \
	bash -c "[[ -n \$(pgrep -f 'ocitap-fdkeeper --socket $work/keeper.sock') ]] && socat -t1 /dev/null UNIX-CONNECT:'$sock'"
for ((i = 0; i < 50; i++)); do [[ -z $(keeper_pids) ]] && break; sleep 0.1; done
check "... and after OCITAP_KEEPER_LISTEN_GRACE_MS with no daemon it closes it and exits" [ -z "$(keeper_pids)" ]

"$OCITAPD" --keeper "$(printf '/%0200d/k.sock' 0)" --http off >/dev/null 2>"$work/err"
check "--keeper with a path too long: usage error" [ $? -eq 2 ]
check "... naming the limit" grep -q "at most 107 bytes" "$work/err"
OCITAP_FAULT=sometimes "$OCITAPD" --http off >/dev/null 2>"$work/err"
check "OCITAP_FAULT malformed: usage error" [ $? -eq 2 ]
done_testing
