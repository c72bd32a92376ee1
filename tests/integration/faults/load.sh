#!/usr/bin/env bash
# faults/load.sh: restarts under load (issue 17). Six loops start real runc
# containers one after another (hooks on createRuntime, poststart and
# poststop, a listener with a notified mkdir, an exit code that depends on
# the container) while ocitapd is killed with SIGKILL three times and
# restarted about a second later, and upgraded once (--replace) between. Afterwards: every container started (no
# "connection refused"), every run is in the store, stopped, with the exit
# code runc returned, its notified mkdir counted exactly once, every hook
# report recorded once, and the events have no gap and no repeat.
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: load"

BIN="$TOP/$BUILD/bin"
faults_init load
daemon_args=(--http off --log-level debug)
loops=6 per=12
pidfile=$(dirname "$sock")/ocitapd.pid
start_kept() { # the daemon, without removing the socket the keeper holds
	"$OCITAPD" --socket "$sock" --state-dir "$state" "${daemon_args[@]}" >>"$log" 2>&1 &
	daemon_pid=$!
	for ((i = 0; i < 100; i++)); do [[ $(cat "$pidfile" 2>/dev/null) == "$daemon_pid" ]] && return 0; sleep 0.05; done
}
code_of() { echo $((($1 * 7 + $2) % 50 + 1)); } # LOOP I: its exit code

make_rootfs "$work/rootfs"
for ((l = 0; l < loops; l++)); do
	for ((i = 0; i < per; i++)); do
		b=$work/b-$l-$i
		mkdir -p "$b"
		cp -a "$work/rootfs" "$b/rootfs"
		(cd "$b" && runc spec)
		jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" --arg cmd "mkdir /tmp/x; sleep 0.4; exit $(code_of $l $i)" '
		  def hook($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
		  .process.terminal = false | .root.readonly = false | .process.args = ["sh", "-c", $cmd]
		| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=audit",
		    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}
		| .hooks = {createRuntime: [hook("createRuntime")], poststart: [hook("poststart")], poststop: [hook("poststop")]}' \
			"$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	done
done

start_daemon
for ((l = 0; l < loops; l++)); do
	(
		for ((i = 0; i < per; i++)); do
			timeout 60 runc --root "$work/runc" run --bundle "$work/b-$l-$i" "ld-$l-$i" </dev/null >"$work/out-$l-$i" 2>&1
			echo $? >"$work/rc-$l-$i"
		done
	) &
done
during=0
for k in 1 2 3; do
	sleep 1
	[[ $(ls "$work"/rc-* 2>/dev/null | wc -l) -lt $((loops * per)) ]] && during=$((during + 1))
	kill -9 "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	sleep 1
	start_kept
	if [[ $k == 1 ]]; then # and an upgrade in the middle: the running daemon hands over to a new one
		sleep 0.5
		"$OCITAPD" --replace --socket "$sock" --state-dir "$state" "${daemon_args[@]}" >"$work/replace.out" 2>&1
		replaced=$?
		wait "$daemon_pid" 2>/dev/null
		daemon_pid=$(cat "$pidfile")
	fi
done
wait_loops() { for ((i = 0; i < 600; i++)); do [[ $(ls "$work"/rc-* 2>/dev/null | wc -l) -eq $((loops * per)) ]] && return 0; sleep 0.1; done; }
wait_loops
total=$((loops * per))
bad=""
for ((l = 0; l < loops; l++)); do
	for ((i = 0; i < per; i++)); do
		[[ $(cat "$work/rc-$l-$i" 2>/dev/null) == "$(code_of $l $i)" ]] || bad+=" ld-$l-$i:$(cat "$work/rc-$l-$i" 2>/dev/null)"
	done
done
check "all $total containers ran and exited with their own code (none refused)" test -z "$bad" ||
	{ echo "# wrong:$bad"; cat "$work"/out-* | grep -v '^$' | sort | uniq -c | head -5 | sed 's/^/# /'; }
check "no runtime saw connection refused" bash -c "! grep -qi 'connection refused' $work/out-*"
for ((i = 0; i < 100; i++)); do
	[[ $(q "select count(*) from containers where id like 'ld-%' and phase = 'stopped'") -eq $total ]] && break
	sleep 0.2
done
sleep 1.2 # the last counts
check "every run is in the store, stopped" \
	test "$(q "select count(*) from containers where id like 'ld-%' and phase = 'stopped'")" = "$total"
wrong=$(for ((l = 0; l < loops; l++)); do for ((i = 0; i < per; i++)); do
	[[ $(q "select exit_code from containers where id='ld-$l-$i'") == "$(code_of $l $i)" ]] || echo -n " ld-$l-$i"
done; done)
check "every run has the exit code runc returned" test -z "$wrong" ||
	{ echo "# wrong exit:$wrong"; w=${wrong# }; w=${w%% *}; q "select seq, kind, source, to_phase, exit_code, signal from events where container_id='$w' order by seq" | sed 's/^/# /'; grep -n "container $w:\|listening on\|keeper" "$log" | sed 's/^/# /' | head -60; }
check "every run's notified mkdir counted exactly once" \
	test "$(q "select count(*) from (select container_id, sum(count) n from notifications where container_id like 'ld-%' and syscall like 'mkdir%' group by container_id) where n = 1")" = "$total" ||
	q "select container_id, sum(count) from notifications where container_id like 'ld-%' group by container_id having sum(count) != 1" | sed 's/^/# /'
check "every hook report recorded once (3 per run)" \
	test "$(q "select count(*) from (select container_id, source, count(*) n from events where container_id like 'ld-%' and kind = 'hook' group by container_id, source) where n = 1")" = $((3 * total)) ||
	q "select container_id, source, count(*) from events where container_id like 'ld-%' and kind = 'hook' group by container_id, source having count(*) != 1" | head | sed 's/^/# /'
check "each id is one run (no run split by the restarts)" \
	test "$(q "select count(*) from runs where id like 'ld-%'")" = "$total"
check "events: no gap, no repeat (seq 1..max, each once)" \
	test "$(q "select count(*) || ' ' || count(distinct seq) || ' ' || max(seq) from events")" = "$(q "select max(seq) || ' ' || max(seq) || ' ' || max(seq) from events")"
check "the three kills came while containers were starting ($during of 3)" test "$during" -eq 3
check "three kills, three takeovers of the kept socket" test "$(grep -c "took back the listening socket" "$log")" -ge 3
check "the upgrade in the middle took over (ocitapd --replace)" \
	bash -c "[[ $replaced -eq 0 ]] && grep -q 'replaced by pid' '$work/replace.out'" || sed 's/^/# /' "$work/replace.out"
done_testing
