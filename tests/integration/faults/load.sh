#!/usr/bin/env bash
# faults/load.sh: restarts under load (issue 17). Six loops start real runc
# containers one after another (hooks on createRuntime, poststart and
# poststop, a listener with a notified mkdir, an exit code that depends on
# the container) while ocitapd is killed with SIGKILL three times and
# restarted about a second later, and upgraded once (--replace) between.
# Afterwards: every container started (no "connection refused"), every run
# is in the store, stopped, with the exit code runc returned, its notified
# mkdir counted exactly once, every hook report recorded once, and the
# events have no gap and no repeat.
#
# The scale and the kind of kill come from the environment, so that
# faults/load-keeper.sh and make soak run the same test:
#   LOAD_LOOPS (6), LOAD_PER (16)  loops, and containers each runs
#   LOAD_KILLS (3)                 SIGKILLs of ocitapd at most, one every
#   LOAD_KILL_EVERY (1)            seconds (whole) while containers are starting
#   LOAD_KEEPER (no)               first: each kill begins with a SIGKILL of
#                                  ocitap-fdkeeper, and ocitapd is killed once
#                                  it has handed a new keeper every fd it
#                                  holds; alternate: every other kill so
#   LOAD_NAME (load)               the work directory's name
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: ${LOAD_NAME:-load}"

BIN="$TOP/$BUILD/bin"
loops=${LOAD_LOOPS:-6} per=${LOAD_PER:-16} kills=${LOAD_KILLS:-3} every=${LOAD_KILL_EVERY:-1}
keeper_mode=${LOAD_KEEPER:-no}
faults_init "${LOAD_NAME:-load}"
daemon_args=(--http off --log-level debug)
pidfile=$(dirname "$sock")/ocitapd.pid
start_kept() { # the daemon, without removing the socket the keeper holds
	"$OCITAPD" --socket "$sock" --state-dir "$state" "${daemon_args[@]}" >>"$log" 2>&1 &
	daemon_pid=$!
	for ((i = 0; i < 100; i++)); do [[ $(cat "$pidfile" 2>/dev/null) == "$daemon_pid" ]] && return 0; sleep 0.05; done
}
code_of() { echo $((($1 * 7 + $2) % 50 + 1)); } # LOOP I: its exit code
total=$((loops * per))
finished() { find "$work/rc" -type f | wc -l; }

# one read-only root for all (/tmp a tmpfs), one config.json per container
# written from a template just before it runs
make_rootfs "$work/rootfs"
mkdir -p "$work/tmpl" "$work/rc"
(cd "$work/tmpl" && runc spec)
jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" --arg root "$work/rootfs" '
  def hook($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
  .process.terminal = false | .root = {path: $root, readonly: true}
| .process.args = ["sh", "-c", "mkdir /tmp/x; sleep 0.4; exit @CODE@"]
| .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "size=1m"]}]
| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=audit",
    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}
| .hooks = {createRuntime: [hook("createRuntime")], poststart: [hook("poststart")], poststop: [hook("poststop")]}' \
	"$work/tmpl/config.json" >"$work/config.tmpl"

start_daemon
start=$(date +%s)
for ((l = 0; l < loops; l++)); do
	(
		for ((i = 0; i < per; i++)); do
			b=$work/b-$l-$i
			mkdir -p "$b"
			sed "s/@CODE@/$(code_of $l $i)/" "$work/config.tmpl" >"$b/config.json"
			timeout 60 runc --root "$work/runc" run --bundle "$b" "ld-$l-$i" </dev/null >"$work/out-$l-$i" 2>&1
			echo $? >"$work/rc/$l-$i"
			[[ -s $work/out-$l-$i ]] || rm -f "$work/out-$l-$i"
		done
	) &
done

# the keeper first: a SIGKILL, then wait (30 s at most) until ocitapd has
# started another and handed it every fd again ("connected, holds N of N");
# sets regave_ms (how long that took) and adds a line to $work/regave
keeper_pid() { pgrep -f "ocitap-fdkeeper --socket $work/keeper.sock"; }
kill_keeper() {
	local before s old
	old=$(keeper_pid)
	before=$(grep -c "keeper .*: connected, holds" "$log")
	s=$(date +%s%N)
	kill -9 $old
	for ((t = 0; t < 3000; t++)); do
		[[ $(grep -c "keeper .*: connected, holds" "$log") -gt $before ]] && break
		sleep 0.01
	done
	regave_ms=$((($(date +%s%N) - s) / 1000000))
	echo "$regave_ms $(grep "keeper .*: connected, holds" "$log" | tail -1 | sed 's/.*holds //')" >>"$work/regave"
}
killed=0 keeper_killed=0 replaced=
for ((k = 1; k <= kills; k++)); do
	for ((t = 0; t < every * 10 && $(finished) < total; t++)); do sleep 0.1; done
	[[ $(finished) -lt $total ]] || break # a kill only while containers are starting
	if [[ $keeper_mode == first || ($keeper_mode == alternate && $((k % 2)) == 0) ]]; then
		kill_keeper
		keeper_killed=$((keeper_killed + 1))
	fi
	kill -9 "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	killed=$((killed + 1))
	sleep 1
	start_kept
	if [[ $k == 1 ]]; then # and an upgrade in the middle: the running daemon hands over to a new one
		sleep 0.5
		"$OCITAPD" --replace --socket "$sock" --state-dir "$state" "${daemon_args[@]}" >"$work/replace.out" 2>&1
		replaced=$?
		wait "$daemon_pid" 2>/dev/null
		daemon_pid=$(cat "$pidfile")
	fi
	echo "# kill $k: $(finished) of $total lifecycles, $(($(date +%s) - start)) s"
done
# at 2 s a lifecycle at worst, the loops end within 60 s of the last kill
for ((i = 0; i < 600 && $(finished) < total; i++)); do sleep 0.1; done
elapsed=$(($(date +%s) - start))

bad=""
for ((l = 0; l < loops; l++)); do
	for ((i = 0; i < per; i++)); do
		[[ $(cat "$work/rc/$l-$i" 2>/dev/null) == "$(code_of $l $i)" ]] || bad+=" ld-$l-$i:$(cat "$work/rc/$l-$i" 2>/dev/null)"
	done
done
check "all $total containers ran and exited with their own code (none refused)" test -z "$bad" ||
	{ echo "# wrong:${bad:0:400}"; cat "$work"/out-* 2>/dev/null | sort | uniq -c | sort -rn | head -5 | sed 's/^/# /'; }
check "no runtime saw connection refused" bash -c "! cat $work/out-* 2>/dev/null | grep -qi 'connection refused'"
for ((i = 0; i < 150; i++)); do
	[[ $(q "select count(*) from containers where id like 'ld-%' and phase = 'stopped'") -eq $total ]] && break
	sleep 0.2
done
sleep 1.2 # the last counts
check "every run is in the store, stopped" \
	test "$(q "select count(*) from containers where id like 'ld-%' and phase = 'stopped'")" = "$total"
# ld-L-I|code for every run, against what each should have
wrong=$(q "select id || '|' || coalesce(exit_code, 'null') from containers where id like 'ld-%'" |
	awk -F'[-|]' '$4 != ($2 * 7 + $3) % 50 + 1 {printf " %s-%s-%s", $1, $2, $3}')
check "every run has the exit code runc returned" test -z "$wrong" ||
	{ echo "# wrong exit:${wrong:0:400}"; w=${wrong# }; w=${w%% *}; q "select seq, kind, source, to_phase, exit_code, signal from events where container_id='$w' order by seq" | sed 's/^/# /'; grep -n "container $w:\|listening on\|keeper" "$log" | sed 's/^/# /' | head -60; }
check "every run's notified mkdir counted exactly once" \
	test "$(q "select count(*) from (select container_id, sum(count) n from notifications where container_id like 'ld-%' and syscall like 'mkdir%' group by container_id) where n = 1")" = "$total" ||
	{
		q "select container_id, sum(count) from notifications where container_id like 'ld-%' group by container_id having sum(count) != 1" | head | sed 's/^/# /'
		none=$(q "select id from containers where id like 'ld-%' and id not in (select container_id from notifications where syscall like 'mkdir%')" | head -3)
		for w in $none; do echo "# $w: no mkdir counted"; grep -n "container $w:" "$log" | sed 's/^/#   /'; done
	}
check "every hook report recorded once (3 per run)" \
	test "$(q "select count(*) from (select container_id, source, count(*) n from events where container_id like 'ld-%' and kind = 'hook' group by container_id, source) where n = 1")" = $((3 * total)) ||
	q "select container_id, source, count(*) from events where container_id like 'ld-%' and kind = 'hook' group by container_id, source having count(*) != 1" | head | sed 's/^/# /'
check "each id is one run (no run split by the restarts)" \
	test "$(q "select count(*) from runs where id like 'ld-%'")" = "$total"
check "events: no gap, no repeat (seq 1..max, each once)" \
	test "$(q "select count(*) || ' ' || count(distinct seq) || ' ' || max(seq) from events")" = "$(q "select max(seq) || ' ' || max(seq) || ' ' || max(seq) from events")"
# three (or LOAD_KILLS) at least, or as many as fit (a kill, a restart: every + 2 s)
want=$((kills < 3 ? kills : 3))
((want > elapsed / (every + 2))) && want=$((elapsed / (every + 2)))
check "$killed kills while containers were starting (at least $want)" test "$killed" -ge "$want" -a "$killed" -ge 1
check "$killed kills, as many takeovers of the kept socket" \
	test "$(grep -c "took back the listening socket" "$log")" -ge "$killed"
check "the upgrade in the middle took over (ocitapd --replace)" \
	bash -c "[[ $replaced -eq 0 ]] && grep -q 'replaced by pid' '$work/replace.out'" || sed 's/^/# /' "$work/replace.out"
# every container is gone: what the keeper holds for them must be too
kfds=$(ls -l "/proc/$(keeper_pid | head -1)/fd" 2>/dev/null)
check "the keeper holds no notify fd and no pidfd of the stopped containers" \
	test "$(grep -c 'anon_inode:\(seccomp notify\|\[pidfd\]\)' <<<"$kfds")" = 0 -a -n "$kfds" ||
	grep 'anon_inode' <<<"$kfds" | sed 's/.*-> //' | sort | uniq -c | sed 's/^/# /'
if [[ $keeper_mode != no ]]; then
	# "H of N notify fds": the new keeper was handed all N the daemon held
	check "the keeper killed $keeper_killed times: each time ocitapd handed a new one every notify fd it held" \
		bash -c "[[ $keeper_killed -ge 1 && \$(awk '\$2 == \$4' '$work/regave' | wc -l) -eq $keeper_killed ]]" ||
		sed 's/^/# /' "$work/regave"
	echo "# keeper killed to every fd handed again, ms: $(cut -d' ' -f1 "$work/regave" | tr '\n' ' ')"
fi
echo "# summary: $total lifecycles in $elapsed s, $killed SIGKILLs of ocitapd ($keeper_killed of them after one of its keeper), 1 upgrade"
done_testing
