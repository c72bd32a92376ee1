#!/usr/bin/env bash
# faults/counts-kept.sh: a notification answered is counted durably (issue
# 17, item 2). Two runc containers loop on a notified mkdir, counting their
# own rounds, while ocitapd is killed with SIGKILL three times (its counts
# reach the store once a second, so each kill used to lose up to a second
# of them). Afterwards the store holds, for each run, exactly the mkdirs the
# container made (its own count, or one more: a mkdir answered just before
# the container was stopped mid-round), never fewer, never counted twice.
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: counts kept"

faults_init countskept
ids="cnt-a cnt-b"
daemon_args=(--http off --bpf off)
stored() { q "select coalesce(sum(count), 0) from notifications where container_id='$1' and syscall like 'mkdir%'"; }

start_daemon
start_loops
check "both containers make notified syscalls" all_progressing
for round in 1 2 3; do
	sleep 0.7 # inside the second the counts wait to be written
	kill_daemon 9
	start_daemon
	check "kill -9 number $round: the loops go on" all_progressing
done
check "no notified syscall failed" no_errors
for id in $ids; do
	runc --root "$work/runc" kill "$id" KILL
	sleep 0.3
	made=$(count "$id") # rounds it finished: each one notified mkdir, answered
	for ((i = 0; i < 50; i++)); do [[ $(q "select phase from containers where id='$id'") == stopped ]] && break; sleep 0.1; done
	sleep 1.2 # the last counts reach the store
	got=$(stored "$id")
	check "$id: every notified mkdir counted once ($got stored, $made made)" \
		bash -c "[[ $got -ge $made && $got -le $((made + 1)) ]]"
done
check "the log says counts were taken from the ledger after a kill" grep -q "ledger: [0-9]* notifications* answered before the last stop were not in the store: added" "$log"
done_testing
