#!/usr/bin/env bash
# runs.sh: one container id run again is a new record (issue 16: runs).
# A real runc container "again" runs twice with hooks and a listener
# (notified mkdir): two mkdirs and exit 3, then one mkdir and exit 5. Each
# run has its own exit, timeline and notification counts; the container is
# its latest run and says how many there were; /runs lists both; ?run=N and
# `ocitap inspect --run N` pick one; every event carries its run; both exits
# are counted in /metrics. A third run, after a restart of the daemon, is
# run 3, bound to its init's start time, namespaces and cgroup (checked
# against /proc while it runs); a runc exec into it is part of run 3; a
# restarted daemon adopts its init only with the run's start time.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "runs"

BIN="$TOP/$BUILD/bin"
test_init runs
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port")
daemon_ready=http://127.0.0.1:$port/healthz
get() { curl -s "http://127.0.0.1:$port$1"; }
ot() { "$BIN/ocitap" "$@" --http "127.0.0.1:$port" --state-dir "$state" --runc-root "$work/runc"; }

b=$work/b-again
# hooks on the host's side: createRuntime (the init's pid), poststart, poststop
hooks='.hooks = {createRuntime: [hook("createRuntime")], poststart: [hook("poststart")], poststop: [hook("poststop")]}'
hookdef="def hook(\$s): {path: (\"$BIN/ocitap-\" + \$s), args: [\"ocitap-\" + \$s, \"--socket\", \$sock, \"--state-dir\", \"$state\"]};"
run_again() { # SHELL-COMMAND [runc run flags]: a run of "again"
	rm -rf "$b"
	notify_bundle "$b" audit "$1" "$hookdef $hooks"
	timeout 60 runc --root "$work/runc" run ${2:-} --bundle "$b" again </dev/null >/dev/null 2>&1
}

start_daemon
run_again 'mkdir /tmp/a /tmp/b; exit 3'
check "run 1: runc exits 3" test $? -eq 3
for ((i = 0; i < 50; i++)); do [[ $(q "select exit_code from containers where id='again'") == 3 ]] && break; sleep 0.1; done
run_again 'mkdir /tmp/c; exit 5'
check "run 2: runc exits 5" test $? -eq 5
for ((i = 0; i < 50; i++)); do [[ $(q "select run || ' ' || exit_code from containers where id='again'") == "2 5" ]] && break; sleep 0.1; done
sleep 1.2 # notification counts reach the store once a second

j=$(get /v1/containers/again)
check "the container is its latest run: run 2 of 2, stopped, exit 5" \
	test "$(jq -r '[.run, .runs, .status, .exit.code] | join(" ")' <<<"$j")" = "2 2 stopped 5" || echo "# $j"
check "... its timeline is run 2's only (one createRuntime, one poststop; every event run 2)" \
	test "$(jq -r '[([.timeline[] | select(.kind == "hook" and .source == "createRuntime")] | length),
	  ([.timeline[] | select(.kind == "hook" and .source == "poststop")] | length),
	  ([.timeline[] | .run] | unique | join(","))] | join(" ")' <<<"$j")" = "1 1 2" || echo "# $j"
check "... its counts are run 2's: mkdir 1" \
	test "$(jq -r '[.notifications[] | select(.syscall == "mkdir") | .count] | add' <<<"$j")" = 1
check "... and lifecycle: creating, running, stopped once each" \
	test "$(jq -r '[.timeline[] | select(.kind == "transition") | .to] | join(",")' <<<"$j")" = "creating,running,stopped"
j1=$(get "/v1/containers/again?run=1")
check "?run=1: the first run, exit 3, mkdir 2, its own timeline" \
	test "$(jq -r '[.run, .runs, .exit.code, ([.notifications[] | select(.syscall == "mkdir") | .count] | add),
	  ([.timeline[] | .run] | unique | join(","))] | join(" ")' <<<"$j1")" = "1 2 3 2 1" || echo "# $j1"
check "?run=3: 404, names the run" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/containers/again?run=3")/$(get "/v1/containers/again?run=3" | jq -r .error)" = "404/no such run" ||
	echo "# $(get "/v1/containers/again?run=3")"
check "?run=x: 400, names the argument" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/containers/again?run=x")" = 400
r=$(get /v1/containers/again/runs)
check "/runs lists both, oldest first: exits 3 then 5" \
	test "$(jq -r '[.runs[] | "\(.run):\(.exit.code)"] | join(" ")' <<<"$r")" = "1:3 2:5" || echo "# $r"
check "/v1/containers lists the id once (its latest run)" \
	test "$(get /v1/containers | jq -r '[.containers[] | select(.id == "again") | .run] | join(",")')" = 2
check "/v1/events: every event carries its run; ?id=again&run=1 gives run 1's only" \
	test "$(get '/v1/events?id=again&run=1' | jq -r '[.events[] | .run] | unique | join(",")')/$(get '/v1/events?id=again' | jq -r '[.events[] | .run] | unique | join(",")')" = "1/1,2"
get /metrics >"$work/metrics.txt"
check "/metrics: both exits counted (code 3 and code 5)" \
	bash -c 'grep -qx "ocitap_container_exits_total{code=\"3\"} 1" "$1" && grep -qx "ocitap_container_exits_total{code=\"5\"} 1" "$1"' _ "$work/metrics.txt"
check "/metrics: the second run counted as a run under a used id" grep -qx 'ocitap_container_runs_total 1' "$work/metrics.txt"
check "the log says a new run began" grep -q "container again: run 2 begins" "$log"
check "the store's containers view: the latest run, and how many" \
	test "$(q "select run || ' ' || runs || ' ' || exit_code from containers where id='again'")" = "2 2 5"

ot inspect again --run 1 --json >"$work/i1.json" 2>"$work/i1.err"
check "ocitap inspect --run 1: the first run's record (exit 3)" \
	test "$(jq -r '[.run, .runs, .record.exit.code] | join(" ")' "$work/i1.json")" = "1 2 3" || sed 's/^/# /' "$work/i1.err"
ot inspect again >"$work/i2.txt" 2>&1
check "ocitap inspect: says it is run 2 of 2" grep -q "run  *2 of 2 (the latest" "$work/i2.txt"
ot inspect again --run 9 >/dev/null 2>"$work/i9.err"
check "ocitap inspect --run 9: exit 3, names the run" \
	bash -c "[[ $? -eq 3 ]] && grep -q \"no run 9 of container 'again'\" '$work/i9.err'"
ot inspect again --run 0 >/dev/null 2>"$work/i0.err"
check "ocitap inspect --run 0: a bad command line (exit 2)" \
	bash -c "[[ $? -eq 2 ]] && grep -q 'expected a run number' '$work/i0.err'"

ot events --id again >"$work/ev.txt" 2>&1
check "ocitap events: run 2's events say again#2, run 1's plain again" \
	bash -c 'grep -q " again#2 .*poststop" "$1" && grep -q " again  .*poststop" "$1"' _ "$work/ev.txt"
ot ps --all --json >"$work/ps.json" 2>/dev/null
check "ocitap ps --all --json: one row for the id, its latest run" \
	test "$(jq -r '[.containers[] | select(.id == "again") | "\(.run)/\(.runs)"] | join(",")' "$work/ps.json")" = 2/2

# a restart: the next run is 3, bound to its init's kernel facts
stop_daemon
start_daemon
run_again 'mkdir /tmp/d; exec sleep 300' -d
for ((i = 0; i < 50; i++)); do [[ $(q "select run || ' ' || phase from containers where id='again'") == "3 running" ]] && break; sleep 0.1; done
pid=$(runc --root "$work/runc" state again | jq .pid)
j=$(get /v1/containers/again)
check "after a restart: run 3 of 3, running" test "$(jq -r '[.run, .runs, .status] | join(" ")' <<<"$j")" = "3 3 running" || echo "# $j"
check "run 3 is bound to its init: pid, start time, mount and pid namespace, cgroup (as /proc says)" \
	test "$(jq -r '.init | [.pid, .startTicks, .mntNs, .pidNs, .cgroup] | join(" ")' <<<"$j")" = \
	"$pid $(awk '{ print $22 }' "/proc/$pid/stat") $(stat -L -c %i "/proc/$pid/ns/mnt") $(stat -L -c %i "/proc/$pid/ns/pid") $(sed -n 's/^0:://p' "/proc/$pid/cgroup")" ||
	echo "# $(jq -c .init <<<"$j")"
timeout 10 runc --root "$work/runc" exec again mkdir /tmp/e
sleep 1.2
j=$(get /v1/containers/again)
check "a runc exec into it is part of run 3 (no new run; its mkdir counted there)" \
	test "$(jq -r '[.run, .runs, ([.notifications[] | select(.syscall == "mkdir") | .count] | add)] | join(" ")' <<<"$j")" = "3 3 2" || echo "# $j"
# the run's start time binds the stored init: a restarted daemon adopts the
# live init only when its start time is the run's
stop_daemon
sqlite3 "$db" "update runs set init_start = init_start + 1 where id = 'again' and run = 3"
start_daemon
check "restart: a stored init whose start time is not the run's is not adopted, and the log says why" \
	grep -q "container again: pid $pid is no longer its init (started at tick" "$log"
stop_daemon
sqlite3 "$db" "update runs set init_start = init_start - 1 where id = 'again' and run = 3"
start_daemon
check "restart: with the run's start time it is adopted" \
	bash -c "[[ \$(grep -c 'container again: pid $pid is no longer its init' '$log') -eq 1 ]]"
runc --root "$work/runc" kill again KILL
for ((i = 0; i < 50; i++)); do [[ $(q "select phase from containers where id='again'") == stopped ]] && break; sleep 0.1; done
check "run 3 stopped, killed by SIGKILL; run 1 and 2 unchanged" \
	test "$(get /v1/containers/again/runs | jq -r '[.runs[] | "\(.run):\(.status):\(.exit.code):\(.exit.signal)"] | join(" ")')" = \
	"1:stopped:3:0 2:stopped:5:0 3:stopped:0:9"

# a report a hook spooled (it could not reach a daemon) that is replayed
# only after the id ran again belongs to the earlier run
report() { printf '{"ocitapReport":1,"stage":"%s","state":{"ociVersion":"1.0.2","id":"sp","status":"%s","pid":%d}}' "$1" "$2" "${3:-0}" |
	socat -t5 - UNIX-CONNECT:"$sock"; }
sleep 300 &
p1=$!
report createRuntime creating "$p1" >/dev/null
kill "$p1"
wait "$p1" 2>/dev/null
for ((i = 0; i < 50; i++)); do [[ $(q "select phase from containers where id='sp'") == stopped ]] && break; sleep 0.1; done
t2=$(date +%s%N) # a poststart of run 1, sent now; it reaches the spool only later (below)
sleep 0.1
sleep 300 &
p2=$!
check "run 2 of sp begins (live)" test "$(report createRuntime creating "$p2")" = ok
stop_daemon
# as a hook that gave up on the daemon leaves it (the name orders by time)
printf '{"ocitapReport":1,"stage":"poststart","hookPid":%d,"monoNs":%d,"wallNs":%d,"state":{"ociVersion":"1.0.2","id":"sp","status":"running","pid":%d}}' \
	$$ 12345 "$t2" "$p1" >"$state/spool/.tmp.sp"
mv "$state/spool/.tmp.sp" "$state/spool/$(printf '%020d' "$t2")-$$-poststart.json"
start_daemon
check "the spooled report, sent before run 2 began, is kept on run 1" \
	test "$(q "select run from events where container_id='sp' and kind='hook' and source='poststart'")" = 1
check "... and run 2 is untouched: still creating, no run 3" \
	test "$(q "select run || ' ' || runs || ' ' || phase from containers where id='sp'")" = "2 2 creating"
check "... the log says where it went" grep -q "container sp: a spooled poststart report sent before run 2 began: kept on run 1" "$log"
kill "$p2" 2>/dev/null
runc --root "$work/runc" delete -f again >/dev/null 2>&1
done_testing
