#!/usr/bin/env bash
# bpf.sh: ocitapd's BPF programs with real runc and crun containers whose
# only program is build/tests/bpf-prog (static): the exec of the user program
# recorded as running (source bpf), exit code 3 and a kill by signal from
# BPF, an OOM kill where the memory cgroup allows it (runc: the host's memory
# controller is on the v1 hierarchy, which crun refuses; crun runs here on a bare
# cgroup2 with --cgroup-manager=disabled and can set no limit); the profile written at
# stop for the io.containers.trace-syscall annotation holds every syscall the
# program made (checked against strace), a second run *with that profile*
# succeeds and a syscall left out is refused; bad annotations are reported
# and never break the container; /healthz and /metrics say what BPF does;
# with --bpf off, and without the privileges to load BPF, the daemon runs on.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "bpf"

BIN="$TOP/$BUILD/bin" PROG="$TOP/$BUILD/tests/bpf-prog"
test_init bpf
http="unix:$work/http.sock"
# the profiles go to absolute paths in $work: an allowed prefix (profile-paths.sh has the rules)
daemon_args=(--http "$http" --keeper off --log-level debug --profile-allow "$work")
get() { curl -s --unix-socket "$work/http.sock" "http://x$1"; }

# bundle ID ARGS-JSON [EXTRA-JQ]: a rootfs with bpf-prog only; createRuntime
# and poststop hooks are ocitap-hook (no poststart: "running" can only come from BPF)
bundle() {
	local b="$work/b-$1"
	mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/sys" "$b/rootfs/tmp"
	cp "$PROG" "$b/rootfs/bin/prog"
	(cd "$b" && runc spec)
	jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" --argjson args "$2" "
	  def hook(\$s): {path: (\$bin + \"/ocitap-\" + \$s), args: [\"ocitap-\" + \$s, \"--socket\", \$sock, \"--state-dir\", \$state]};
	  .process.terminal = false | .root.readonly = false | .process.args = \$args
	| .hooks = {createRuntime: [hook(\"createRuntime\")], poststop: [hook(\"poststop\")]}
	| ${3:-.}" "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	echo "$b"
}
run_rt() { # RT ID BUNDLE
	if [[ $1 == runc ]]; then
		out=$(timeout 60 runc --root "$work/runc" run --bundle "$3" "$2" </dev/null 2>&1)
	else
		out=$(crun_private --root "$work/crun" --cgroup-manager=disabled run --bundle "$3" "$2" </dev/null 2>&1)
	fi
	rc=$?
}
ev() { q "select $2 from events where container_id='$1' and $3 order by seq limit 1"; }
wait_q() { # SQL EXPECTED: until the store answers it (5 s)
	local i
	for ((i = 0; i < 50; i++)); do [[ $(q "$1") == "$2" ]] && return 0; sleep 0.1; done
	return 1
}

start_daemon
h=$(get /healthz)
if ! jq -e .bpf <<<"$h" >/dev/null 2>&1; then
	# no answer is a failure, never a reason to skip
	not_ok "ocitapd answers /healthz with its BPF state: got '${h:0:200}'"
	tail -n 20 "$log" | sed 's/^/# /'
	done_testing
	exit 0
fi
if [[ $(jq -r .bpf.enabled <<<"$h") != true ]]; then
	# the only reason to skip: the kernel or our privileges do not allow BPF here
	skip_rest "bpf" "BPF is off on this machine: $(jq -r .bpf.reason <<<"$h")"
fi
ok "/healthz: bpf enabled"
check "log: programs loaded, with the time it took" grep -q "bpf: programs loaded in" "$log"
check "/metrics: ocitap_bpf_lost_events_total 0" bash -c "curl -s --unix-socket '$work/http.sock' http://x/metrics | grep -qx 'ocitap_bpf_lost_events_total 0'"
check "/metrics: ocitap_bpf_up 1" bash -c "curl -s --unix-socket '$work/http.sock' http://x/metrics | grep -qx 'ocitap_bpf_up 1'"
check "/healthz: the syscall-set program is not attached while nothing is traced" \
	test "$(jq -r .bpf.tracingSyscalls <<<"$h")" = false

# strace's view of bpf-prog exit3 on the host: every syscall it makes
strace -f -qq -o "$work/strace.out" "$PROG" exit3 >/dev/null 2>&1
made=$(sed -E 's/^([0-9]+ +)?([a-z_0-9]+)\(.*/\2/;t;d' "$work/strace.out" | sort -u)
check "strace saw the program's own syscalls" bash -c "grep -qx uname <<<'$made' && grep -qx getppid <<<'$made'"

for rt in runc crun; do
	# 1. traced: running from BPF, exit 3 from BPF, the profile written at stop
	id=$rt-traced out_profile=$work/$rt-profile.json
	b=$(bundle "$id" '["/bin/prog", "exit3"]' \
		".annotations = {\"io.containers.trace-syscall\": \"of:$out_profile\"}")
	run_rt "$rt" "$id" "$b"
	check "$rt: traced container exits with 3" test "$rc" -eq 3
	wait_q "select phase from containers where id='$id'" stopped
	check "$rt: running recorded from BPF (no poststart hook)" \
		test "$(ev "$id" source "kind='transition' and to_phase='running'")" = bpf
	check "$rt: exit code 3 recorded" test "$(q "select exit_code from containers where id='$id'")" = 3
	check "$rt: the exit event has a BPF or pidfd source" \
		bash -c "[[ \$(sqlite3 -readonly '$db' \"select count(*) from events where container_id='$id' and kind='exit' and exit_code=3\") -ge 1 ]]"
	wait_for "$out_profile" 30
	check "$rt: profile written at stop" test -s "$out_profile"
	check "$rt: profile: defaultAction SCMP_ACT_ERRNO, this machine's architectures" \
		test "$(jq -r '.defaultAction + " " + (.architectures | join(","))' "$out_profile" 2>/dev/null)" = \
		"SCMP_ACT_ERRNO SCMP_ARCH_X86_64,SCMP_ARCH_X86,SCMP_ARCH_X32"
	allowed=$(jq -r '.syscalls[] | select(.action == "SCMP_ACT_ALLOW") | .names[]' "$out_profile" 2>/dev/null | sort -u)
	missing=$(comm -23 <(echo "$made") <(echo "$allowed"))
	check "$rt: profile holds every syscall the program made (strace)${missing:+; missing: $missing}" test -z "$missing"
	check "$rt: profile does not hold sysinfo (never made)" bash -c "! grep -qx sysinfo <<<'$allowed'"

	# 2. the same program under that profile, no SCMP_ACT_ALLOW default: runs
	id=$rt-confined
	b=$(bundle "$id" '["/bin/prog", "exit3"]' ".linux.seccomp = $(jq -c . "$out_profile")")
	run_rt "$rt" "$id" "$b"
	check "$rt: the program under its own profile runs (exit 3)" test "$rc" -eq 3 || echo "# $out"
	# 3. a syscall left out is refused
	id=$rt-left-out
	b=$(bundle "$id" '["/bin/prog", "extra"]' ".linux.seccomp = $(jq -c . "$out_profile")")
	run_rt "$rt" "$id" "$b"
	check "$rt: a syscall left out of the profile is refused (EPERM)" \
		bash -c "[[ $rc -eq 4 && '$out' == *'errno 1'* ]]" || echo "# rc $rc: $out"

	# 4. killed by a signal
	id=$rt-killed
	b=$(bundle "$id" '["/bin/prog", "sleep"]')
	run_rt "$rt" "$id" "$b" &
	runner=$!
	wait_q "select to_phase from events where container_id='$id' and kind='transition' and to_phase='running'" running
	pid=$(q "select pid from containers where id='$id'")
	kill -KILL "$pid" 2>/dev/null
	wait "$runner"
	wait_q "select phase from containers where id='$id'" stopped
	check "$rt: killed by SIGKILL recorded" test "$(q "select signal from containers where id='$id'")" = 9
	check "$rt: a program that ran is not failed (exit 3, SIGKILL)" \
		test "$(get /v1/containers/$rt-traced | jq -r .status)/$(get /v1/containers/$rt-killed | jq -r .status)" = stopped/stopped

	# 5. never started: a program that is not there, and (runc: crun fails
	# that before any hook runs, so there is nothing to record) a listenerPath
	# nobody listens on; the runtime fails the start, and the run is failed,
	# not an exit code
	whats=noexec
	[[ $rt == runc ]] && whats="noexec nolistener"
	for what in $whats; do
		id=$rt-$what
		if [[ $what == noexec ]]; then
			b=$(bundle "$id" '["/bin/not-there"]')
		else
			b=$(bundle "$id" '["/bin/prog", "exit3"]' '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
			  listenerPath: "/nonexistent/ocitap.sock", syscalls: [{names: ["mkdir"], action: "SCMP_ACT_NOTIFY"}]}')
		fi
		run_rt "$rt" "$id" "$b"
		check "$rt: $what: the runtime fails the start" test "$rc" -ne 0
		wait_q "select failed from containers where id='$id'" 1
		j=$(get "/v1/containers/$id")
		check "$rt: $what: status failed, no exit code" test "$(jq -r '.status + " " + (.exit | tostring)' <<<"$j")" = "failed null" || echo "# $j"
		check "$rt: $what: the error says it never started" test "$(jq '.error | test("stopped before its program started")' <<<"$j")" = true
		check "$rt: $what: a failed event in the timeline" test "$(jq '[.timeline[] | select(.kind == "failed")] | length' <<<"$j")" = 1
	done
done
curl -s --unix-socket "$work/http.sock" http://x/metrics >"$work/metrics.txt"
check "/metrics: the failed starts counted (3)" grep -qx 'ocitap_container_failures_total 3' "$work/metrics.txt"
check "/metrics: ocitap_containers{status=\"failed\"} 3" grep -qx 'ocitap_containers{status="failed"} 3' "$work/metrics.txt" ||
	q "select id, phase, failed from containers" | sed 's/^/# /'

# 5b. the listener holds nothing back: runc sends the fd and goes on, so
# the program may run before ocitapd reads the message (here: the daemon is
# stopped until it has). A missing exec proves nothing then: killed, not failed.
id=runc-late-listener
b=$(bundle "$id" '["/bin/prog", "sleep"]' '.hooks = {} | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
  listenerPath: $sock, syscalls: [{names: ["sysinfo"], action: "SCMP_ACT_NOTIFY"}]}')
kill -STOP "$daemon_pid"
run_rt runc "$id" "$b" &
runner=$!
for ((i = 0; i < 100; i++)); do
	[[ $(runc --root "$work/runc" state "$id" 2>/dev/null | jq -r .status) == running ]] && break
	sleep 0.05
done
pid=$(runc --root "$work/runc" state "$id" 2>/dev/null | jq -r .pid)
check "runc: with ocitapd stopped, the program runs (listener message still unread)" \
	test "$(tr -d '\0' <"/proc/$pid/cmdline" 2>/dev/null)" = /bin/progsleep
kill -CONT "$daemon_pid"
wait_q "select count(*) from containers where id='$id'" 1
kill -KILL "$pid" 2>/dev/null
wait "$runner"
wait_q "select phase from containers where id='$id'" stopped
j=$(get "/v1/containers/$id")
check "runc: the fd read after the exec: killed by SIGKILL, not failed" \
	test "$(jq -r '[.status, .exit.signal, (.error | tostring)] | join(" ")' <<<"$j")" = "stopped 9 null" || echo "# $j"

# 6. OOM: a memory limit the program goes over (runc: the memory cgroup)
id=runc-oom
b=$(bundle "$id" '["/bin/prog", "oom"]' '.linux.resources.memory = {limit: 33554432, swap: 33554432}')
run_rt runc "$id" "$b"
if [[ $rc -eq 137 ]]; then
	wait_q "select oom from containers where id='$id'" 1
	check "runc: OOM kill recorded (memory limit hit)" test "$(q "select oom from containers where id='$id'")" = 1
	check "runc: OOM kill counted in /metrics" \
		bash -c "curl -s --unix-socket '$work/http.sock' http://x/metrics | grep -q '^ocitap_bpf_events_total{kind=\"oom\"} [1-9]'"
else
	skip "runc: OOM kill recorded" "the memory limit did not OOM-kill the program here (rc $rc: $out)"
fi
check "/metrics: exec and exit events counted" \
	bash -c "m=\$(curl -s --unix-socket '$work/http.sock' http://x/metrics); grep -q '^ocitap_bpf_events_total{kind=\"exec\"} [1-9]' <<<\"\$m\" && grep -q '^ocitap_bpf_events_total{kind=\"exit\"} [1-9]' <<<\"\$m\""

# 7. bad annotations: a clear line in the log, no file, the container runs
n=0
echo '[1, 2]' >"$work/not-a-profile.json"
for value in "of:/etc/ocitap-bpf-$$.json" "if:$work/in.json" "if:$work/nonexistent.json;of:$work/bad-out-3.json" "of:$work/../x.json" \
	"if:$work/not-a-profile.json;of:$work/bad-out-5.json"; do
	n=$((n + 1))
	id=bad-$n
	b=$(bundle "$id" '["/bin/prog", "exit3"]' ".annotations = {\"io.containers.trace-syscall\": \"$value\"}")
	run_rt runc "$id" "$b"
	check "bad annotation '$value': the container still runs (exit 3)" test "$rc" -eq 3
done
check "bad annotation: a path outside the profile places refused, and named" \
	grep -q "container bad-1: io.containers.trace-syscall: of: /etc/ocitap-bpf-$$.json is outside the profile directory" "$log"
check "bad annotation: missing of: named" grep -q "container bad-2: io.containers.trace-syscall: .*of: is missing" "$log"
check "bad annotation: unreadable if: named" grep -q "container bad-3: io.containers.trace-syscall: if: cannot read $work/nonexistent.json" "$log"
check "bad annotation: no profile written" test ! -e "$work/bad-out-3.json"
check "bad annotation: .. refused" grep -q 'container bad-4: .*has a ".." component' "$log"
check "bad annotation: said once per container (hooks and listener bring it again)" \
	test "$(grep -c 'container bad-1: io.containers.trace-syscall' "$log")" = 1
wait_q "select phase from containers where id='bad-5'" stopped
for ((i = 0; i < 50; i++)); do grep -q "container bad-5: no seccomp profile written" "$log" && break; sleep 0.1; done
check "if: not a profile: said when the container stops, and nothing written" \
	bash -c "grep -q 'container bad-5: no seccomp profile written to $work/bad-out-5.json: if: $work/not-a-profile.json is not a seccomp profile' '$log' && [ ! -e '$work/bad-out-5.json' ]"

# 8. if:IN: IN's allowed names join, what IN blocks stays blocked
cat >"$work/in.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
 "syscalls": [{"names": ["sysinfo"], "action": "SCMP_ACT_ALLOW"}, {"names": ["uname"], "action": "SCMP_ACT_ERRNO"}]}
JSON
id=merged
b=$(bundle "$id" '["/bin/prog", "exit3"]' ".annotations = {\"io.containers.trace-syscall\": \"if:$work/in.json;of:$work/merged.json\"}")
run_rt runc "$id" "$b"
wait_for "$work/merged.json" 30
allowed=$(jq -r '.syscalls[] | select(.action == "SCMP_ACT_ALLOW") | .names[]' "$work/merged.json" 2>/dev/null | sort -u)
check "if:IN: IN's sysinfo allowed, the observed write too" bash -c "grep -qx sysinfo <<<'$allowed' && grep -qx write <<<'$allowed'"
check "if:IN: uname, blocked by IN, stays blocked though it was made" bash -c "! grep -qx uname <<<'$allowed'"

# 9. a live container: ocitap profile ID, /healthz while traced, untraced after
id=live
b=$(bundle "$id" '["/bin/prog", "sleep"]' ".annotations = {\"io.containers.trace-syscall\": \"of:$work/live-final.json\"}")
timeout 60 runc --root "$work/runc" run -d --bundle "$b" "$id" </dev/null >/dev/null 2>&1
wait_q "select to_phase from events where container_id='$id' and kind='transition' and to_phase='running'" running
check "/healthz: the syscall-set program is attached while a container is traced" \
	test "$(get /healthz | jq -r .bpf.tracingSyscalls)" = true
check "/metrics: ocitap_bpf_traced_containers 1" \
	bash -c "curl -s --unix-socket '$work/http.sock' http://x/metrics | grep -qx 'ocitap_bpf_traced_containers 1'"
"$OCITAP" profile "$id" --http "$http" >"$work/live.json" 2>"$work/live.err"
check "ocitap profile ID: the live container's nanosleep is allowed" \
	bash -c "jq -r '.syscalls[0].names[]' '$work/live.json' | grep -qx nanosleep"
"$OCITAP" profile "$id" --http "$http" -o "$work/live-o.json" 2>"$work/live-o.err"
check "ocitap profile ID -o FILE: written, and says how many syscalls" \
	bash -c "jq -e '.defaultAction == \"SCMP_ACT_ERRNO\"' '$work/live-o.json' >/dev/null && grep -q 'syscalls allowed, written to' '$work/live-o.err'"
"$OCITAP" profile no-such-container --http "$http" 2>"$work/nosuch.err"
check "ocitap profile: an unknown container exits 3 and says so" \
	bash -c "[[ $? -eq 3 ]] && grep -q 'not tracked' '$work/nosuch.err'"
"$OCITAP" profile runc-killed --http "$http" --state-dir "$state" 2>"$work/stopped.err"
check "ocitap profile: a stopped container is not tracked any more: exit 1, and it says it stopped" \
	bash -c "[[ $? -eq 1 ]] && grep -q \"'runc-killed' has stopped\" '$work/stopped.err'" || sed 's/^/# /' "$work/stopped.err"
# the filter: the host making a syscall the container never made does not count...
for i in 1 2 3; do "$PROG" extra >/dev/null 2>&1; done
check "a host process's syscalls are not the traced container's (no sysinfo in its profile)" \
	bash -c "! '$OCITAP' profile '$id' --http '$http' | jq -r '.syscalls[0].names[]' | grep -qx sysinfo"
# ...an exec session in the container does
timeout 20 runc --root "$work/runc" exec "$id" /bin/prog extra >/dev/null 2>&1
check "a runc exec session's syscalls are the container's (sysinfo now in its profile)" \
	bash -c "'$OCITAP' profile '$id' --http '$http' | jq -r '.syscalls[0].names[]' | grep -qx sysinfo"
runc --root "$work/runc" kill "$id" KILL
wait_q "select phase from containers where id='$id'" stopped
wait_for "$work/live-final.json" 30
check "the live container's profile is written when it stops" test -s "$work/live-final.json"
check "/healthz: the syscall-set program is detached once nothing is traced" \
	test "$(get /healthz | jq -r .bpf.tracingSyscalls)" = false
check "/metrics: profiles written counted" \
	bash -c "curl -s --unix-socket '$work/http.sock' http://x/metrics | grep -q '^ocitap_profiles_total{result=\"written\"} [1-9]'"
check "no BPF error in the log" bash -c "! grep -E 'bpf: (cannot|off)' '$log'"
runc --root "$work/runc" delete -f "$id" >/dev/null 2>&1

# 10. --trace-syscalls all: every container's syscalls, no annotation needed;
#    --trace-syscalls off: the annotation is ignored, and the log says so
stop_daemon
start_daemon --trace-syscalls all
id=all-live
b=$(bundle "$id" '["/bin/prog", "sleep"]')
timeout 60 runc --root "$work/runc" run -d --bundle "$b" "$id" </dev/null >/dev/null 2>&1
wait_q "select to_phase from events where container_id='$id' and kind='transition' and to_phase='running'" running
check "--trace-syscalls all: a container without the annotation is traced (ocitap profile)" \
	bash -c "'$OCITAP' profile '$id' --http '$http' | jq -r '.syscalls[0].names[]' | grep -qx nanosleep"
runc --root "$work/runc" delete -f "$id" >/dev/null 2>&1
stop_daemon
OCITAP_TRACE_SYSCALLS=off start_daemon
id=trace-off
b=$(bundle "$id" '["/bin/prog", "exit3"]' ".annotations = {\"io.containers.trace-syscall\": \"of:$work/trace-off.json\"}")
run_rt runc "$id" "$b"
check "--trace-syscalls off (\$OCITAP_TRACE_SYSCALLS): the container runs, the annotation is ignored and the log says so" \
	bash -c "[[ $rc -eq 3 ]] && grep -q 'container $id: io.containers.trace-syscall ignored: ocitapd runs with --trace-syscalls=off' '$log' && [ ! -e '$work/trace-off.json' ]"
"$OCITAPD" --trace-syscalls sometimes --http off >/dev/null 2>"$work/usage.err"
check "--trace-syscalls with a bad value: usage error naming the choices" \
	bash -c "[[ $? -eq 2 ]] && grep -q 'is not annotated, all or off' '$work/usage.err'"

# 10. --bpf off: the daemon runs on, and says so
stop_daemon
start_daemon --bpf off
h=$(get /healthz)
check "--bpf off: /healthz says BPF is off and why" \
	test "$(jq -r '[.bpf.enabled, .bpf.reason] | join(" ")' <<<"$h")" = "false turned off (--bpf off)"
check "--bpf off: /healthz status still ok" test "$(jq -r .status <<<"$h")" = ok
id=off-traced
b=$(bundle "$id" '["/bin/prog", "exit3"]' ".annotations = {\"io.containers.trace-syscall\": \"of:$work/off.json\"}")
run_rt runc "$id" "$b"
check "--bpf off: a traced container still runs" test "$rc" -eq 3
check "--bpf off: the log says no profile can be written, and why" \
	grep -q "container $id: no profile can be written: BPF is off (turned off (--bpf off))" "$log"
stop_daemon

# 11. without the privileges to load BPF (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN dropped):
# the same, and the reason is the kernel's
if command -v setpriv >/dev/null; then
	rm -f "$sock"
	setpriv --bounding-set -bpf,-perfmon,-sys_admin --inh-caps -bpf,-perfmon,-sys_admin -- \
		"$OCITAPD" --socket "$sock" --state-dir "$state" --http "$http" --keeper off >>"$log" 2>&1 &
	daemon_pid=$!
	wait_for "$sock" || { not_ok "ocitapd without BPF privileges started"; tail "$log"; exit 0; }
	h=$(get /healthz)
	check "no BPF privileges: the daemon runs, /healthz says BPF is off and why" \
		bash -c "[[ \$(jq -r .bpf.enabled <<<'$h') == false && \$(jq -r .bpf.reason <<<'$h') == *'cannot load the lifecycle programs'* ]]"
	check "no BPF privileges: said once in the log" test "$(grep -c 'bpf: off: cannot load' "$log")" = 1
	id=nopriv
	b=$(bundle "$id" '["/bin/prog", "exit3"]')
	run_rt runc "$id" "$b"
	check "no BPF privileges: containers run and are recorded (exit 3 from the pidfd)" \
		bash -c "[[ $rc -eq 3 ]] && for i in \$(seq 50); do [[ \$(sqlite3 -readonly '$db' \"select exit_code from containers where id='$id'\") == 3 ]] && exit 0; sleep 0.1; done; exit 1"
	stop_daemon
else
	skip "no BPF privileges" "setpriv (util-linux) is not installed"
fi

done_testing
