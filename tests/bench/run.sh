#!/usr/bin/env bash
# run.sh (make bench): benchmarks, each printed as a ratio against a
# baseline measured in the same run on the same machine.
#
# 1. Parse cost: typed parse + validate of a typical State and
#    ContainerProcessState (as runc and crun send them) against json-c's own
#    json_tokener_parse of the same bytes. Target: at most 1.5x.
#
# Arguments pick sections by name (parse notify scale hook http start); none
# runs them all: tests/bench/run.sh hook start
set -uo pipefail
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
sections=" ${*:-parse notify scale hook http start} "
want() { [[ $sections == *" $1 "* ]]; }

if want parse; then
echo "== parse + validate vs json_tokener_parse (median of 21 interleaved rounds)"
"$BUILD/tests/bench-parse" \
	tests/data/runc-createRuntime.json state \
	tests/data/crun-poststart.json state \
	tests/data/runc-listener.json process-state \
	tests/data/crun-listener.json process-state
fi

# 2. Notification round trip in a real runc container: a static program calls
#    a notified syscall (getpgid) in a loop; per call time with ocitapd
#    (recording on) against a minimal C agent (receive + respond only, same
#    wake-up mode), for "continue" and for an errno answer. Rounds alternate
#    between the two agents; medians are compared. Target: at most 1.2x.
source tests/integration/common.bash
work=$(mktemp -d /tmp/ocitap-bench-XXXXXX)
daemon=
trap '[[ -n $daemon ]] && kill $daemon 2>/dev/null; rm -rf "$work"' EXIT
make_rootfs "$work/rootfs"
cp "$BUILD/tests/notify-loop" "$work/rootfs/bin/notify-loop"
CALLS=${CALLS:-20000}
ROUNDS=${ROUNDS:-7}

bundle_for() { # SOCK POLICY -> bundle dir
	local b="$work/b-$RANDOM"
	mkdir -p "$b"
	(cd "$b" && runc spec)
	jq --arg sock "$1" --arg pol "$2" --arg n "$CALLS" --arg root "$work/rootfs" '
	  .process.terminal = false | .process.args = ["/bin/notify-loop", $n] | .root = {path: $root, readonly: true}
	| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: ("policy=" + $pol),
	    syscalls: [{names: ["getpgid"], action: "SCMP_ACT_NOTIFY"}]}' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
	echo "$b"
}
run_loop() { # BUNDLE -> ns per call
	runc --root "$work/runc" run --bundle "$1" "bench-$RANDOM" </dev/null | sed -n 's/^ns_per_call=//p'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

if want notify; then
"$BUILD/bin/ocitapd" --socket "$work/d.sock" --state-dir "$work/state" --http off --log-level warning 2>"$work/d.log" &
daemon=$!
wait_for "$work/d.sock"

echo
echo "== notification round trip, runc container, $CALLS calls x $ROUNDS rounds (median ns per call)"
for mode in continue errno; do
	pol=audit agent_args=()
	[[ $mode == errno ]] && pol=deny agent_args=(--errno 1)
	bd=$(bundle_for "$work/d.sock" "$pol")
	bm=$(bundle_for "$work/m.sock" "$pol")
	: >"$work/d.$mode" && : >"$work/m.$mode"
	for ((r = 0; r < ROUNDS; r++)); do
		timeout 60 "$BUILD/tests/min-agent" "$work/m.sock" "${agent_args[@]}" &
		agent=$!
		wait_for "$work/m.sock"
		run_loop "$bm" >>"$work/m.$mode"
		wait $agent 2>/dev/null
		rm -f "$work/m.sock"
		run_loop "$bd" >>"$work/d.$mode"
	done
	m=$(median <"$work/m.$mode") o=$(median <"$work/d.$mode")
	printf '%-9s minimal agent %6s ns  ocitapd %6s ns  ratio %sx (target <= 1.20x)\n' "$mode" "$m" "$o" \
		"$(awk -v a="$o" -v b="$m" 'BEGIN {printf "%.2f", a / b}')"
done
grep -q "synchronous wake-up in use" "$work/d.log" && echo "(both agents with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)"
kill $daemon
wait $daemon 2>/dev/null
daemon=
fi

# 3. Scale: 1,000 processes each with its own notify filter, registered with
#    one daemon (stopped and retained, then live at once); ocitapd's RSS per
#    container. Targets: live <= 8 KiB, stopped <= 2 KiB.
want scale && {
echo
echo "== scale: 1000 stopped + 1000 live notify filters on one ocitapd"
"$BUILD/bin/ocitapd" --socket "$work/s.sock" --state-dir "$work/sstate" --http off --log-level warning 2>"$work/s.log" &
daemon=$!
wait_for "$work/s.sock"
"$BUILD/tests/scale-client" "$work/s.sock" "$daemon" 1000
echo "answered: $(sqlite3 -readonly "$work/sstate/ocitap.db" 'select sum(count) from notifications') notifications (flushed so far)"
kill $daemon
wait $daemon 2>/dev/null
daemon=
}

# 4. Hook cost: ocitap-prestart with a typical State on stdin and ocitapd
#    running (it answers once the report is committed), timed as a whole
#    process, against a C program that returns 0, linked the same way.
#    Target: at most 1.3x. Also: the hook alone (daemon down: it spools).
want hook && {
echo
echo "== hook cost: whole process, stdin = a runc prestart State (median of 300, alternating)"
"$BUILD/bin/ocitapd" --socket "$work/h.sock" --state-dir "$work/hstate" --http off --log-level warning 2>"$work/h.log" &
daemon=$!
wait_for "$work/h.sock"
"$BUILD/tests/spawn-bench" 300 tests/data/runc-prestart.json -- "$BUILD/tests/return0" -- \
	"$BUILD/bin/ocitap-prestart" --socket "$work/h.sock" --state-dir "$work/hstate"
kill $daemon
wait $daemon 2>/dev/null
daemon=
printf 'daemon down (spooling): '
"$BUILD/tests/spawn-bench" 300 tests/data/runc-prestart.json -- "$BUILD/tests/return0" -- \
	"$BUILD/bin/ocitap-prestart" --socket "$work/none.sock" --state-dir "$work/hstate2"
}

# 5. Container start: runc run of a busybox `true` container with all six
#    ocitap hooks and the listener, against the same container with none.
#    Target: under 10 ms added.
# 6. HTTP: 1,000 containers in the store; wrk on /metrics and on one
#    container's page (requests per second, p99 latency). Interference: the
#    notification round trip of section 2 alone and while wrk hammers the
#    API. Target: at most 1.1x slower under HTTP load.
if want http; then
echo
echo "== HTTP: 1,000 containers in the store, wrk -t2 -c16 -d5s"
port=$((20000 + RANDOM % 20000))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
"$BUILD/bin/ocitapd" --socket "$work/w.sock" --state-dir "$work/wstate" --http "127.0.0.1:$port" --log-level warning \
	2>"$work/w.log" &
daemon=$!
wait_for "$work/w.sock"
for ((i = 1; i <= 1000; i++)); do
	printf '{"ociVersion":"1.0.2","id":"w-%d","status":"stopped","pid":0,"bundle":"/b/%d","annotations":{"app":"bench"}}' "$i" "$i" |
		"$BUILD/bin/ocitap-poststop" --socket "$work/w.sock" --state-dir "$work/wstate"
done
echo "(stored: $(curl -s "http://127.0.0.1:$port/v1/containers" | jq '.containers | length') containers)"
for path in /metrics /v1/containers/w-500 /v1/containers?status=stopped; do
	wrk -t2 -c16 -d5s --latency "http://127.0.0.1:$port$path" >"$work/wrk.out" 2>&1
	printf '%-30s %10s req/s   p99 %s\n' "$path" "$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.out")" \
		"$(awk '$1 == "99%" {print $2}' "$work/wrk.out")"
done
bw=$(bundle_for "$work/w.sock" audit)
: >"$work/i.alone" && : >"$work/i.load"
for ((r = 0; r < ROUNDS; r++)); do
	run_loop "$bw" >>"$work/i.alone"
	wrk -t1 -c8 -d60s "http://127.0.0.1:$port/v1/containers/w-500" >/dev/null 2>&1 &
	wrk_pid=$!
	sleep 0.5
	run_loop "$bw" >>"$work/i.load"
	kill $wrk_pid 2>/dev/null
	wait $wrk_pid 2>/dev/null
done
a=$(median <"$work/i.alone") l=$(median <"$work/i.load")
printf 'notification round trip alone %s ns, under wrk -t1 -c8 %s ns: ratio %sx (target <= 1.10x)\n' "$a" "$l" \
	"$(awk -v a="$a" -v b="$l" 'BEGIN {printf "%.2f", b / a}')"
kill $daemon
wait $daemon 2>/dev/null
daemon=
fi

want start || exit 0
echo
echo "== container start: runc run busybox true, six ocitap hooks + listener vs none (median of 31)"
"$BUILD/bin/ocitapd" --socket "$work/c.sock" --state-dir "$work/cstate" --http off --log-level warning 2>"$work/c.log" &
daemon=$!
wait_for "$work/c.sock"
chmod 0755 "$work"
plain="$work/plain" hooked="$work/hooked"
mkdir -p "$plain" "$hooked"
(cd "$plain" && runc spec)
jq --arg root "$work/rootfs" '.process.terminal = false | .process.args = ["true"] | .root = {path: $root, readonly: true}' \
	"$plain/config.json" >"$plain/c" && mv "$plain/c" "$plain/config.json"
jq --arg bin "$TOP/$BUILD/bin" --arg sock "$work/c.sock" --arg state "$work/cstate" --arg dir "$work" '
  def h($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
  .mounts += [{destination: "/ocitap", type: "bind", source: $bin, options: ["rbind", "ro"]},
              {destination: $dir, type: "bind", source: $dir, options: ["rbind"]}]
| .hooks = {prestart: [h("prestart")], createRuntime: [h("createRuntime")], createContainer: [h("createContainer")],
    startContainer: [{path: "/ocitap/ocitap-hook-static", args: ["ocitap-startContainer", "--socket", $sock, "--state-dir", "/tmp"]}],
    poststart: [h("poststart")], poststop: [h("poststop")]}
| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=audit",
    syscalls: [{names: ["getpgid"], action: "SCMP_ACT_NOTIFY"}]}' "$plain/config.json" >"$hooked/config.json"
# the same six hooks as a program that only returns 0: what running hooks at all costs
nullhooks="$work/nullhooks"
mkdir -p "$nullhooks"
jq --arg r0 "$TOP/$BUILD/tests/return0" '.hooks |= with_entries(.value |= map(.path = $r0 | .args = ["return0"]))
  | .hooks.startContainer = [{path: "/bin/true"}] | del(.linux.seccomp)' "$hooked/config.json" >"$nullhooks/config.json"
time_run() { # BUNDLE -> ms
	local s e
	s=$(date +%s%N)
	runc --root "$work/runc" run --bundle "$1" "start-$RANDOM" </dev/null >/dev/null 2>&1
	e=$(date +%s%N)
	echo $(((e - s) / 1000))
}
: >"$work/t.plain" && : >"$work/t.hooked" && : >"$work/t.null"
for ((r = 0; r < 31; r++)); do
	time_run "$plain" >>"$work/t.plain"
	time_run "$hooked" >>"$work/t.hooked"
	time_run "$nullhooks" >>"$work/t.null"
done
p=$(median <"$work/t.plain") h=$(median <"$work/t.hooked") z=$(median <"$work/t.null")
awk -v p="$p" -v h="$h" 'BEGIN {printf "no hooks %.1f ms   six hooks + listener %.1f ms   added %.1f ms (target < 10 ms)\n", p / 1000, h / 1000, (h - p) / 1000}'
awk -v p="$p" -v z="$z" -v h="$h" 'BEGIN {printf "(six hooks that only return 0, no listener: %.1f ms, added %.1f ms: ocitap'"'"'s own share %.1f ms)\n", z / 1000, (z - p) / 1000, (h - z) / 1000}'
echo "(recorded: $(sqlite3 -readonly "$work/cstate/ocitap.db" "select count(*) from events where kind = 'hook'") hook reports)"
kill $daemon
wait $daemon 2>/dev/null
daemon=
