#!/usr/bin/env bash
# bpf.sh: ocitapd's BPF programs with real runc and crun containers whose
# only program is build/tests/bpf-prog (static): the exec of the user program
# recorded as running (source bpf), exit code 3 and a kill by signal from
# BPF, an OOM kill where the memory cgroup allows it; the profile written at
# stop for the io.containers.trace-syscall annotation holds every syscall the
# program made (checked against strace), a second run *with that profile*
# succeeds and a syscall left out is refused; bad annotations are reported
# and never break the container; /healthz and /metrics say what BPF does.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "bpf"

OCITAPD="$TOP/$BUILD/bin/ocitapd" BIN="$TOP/$BUILD/bin" PROG="$TOP/$BUILD/tests/bpf-prog"
work=$(mktemp -d /tmp/ocitap-bpf-XXXXXX)
sock=$work/ocitap.sock state=$work/state db=$work/state/ocitap.db log=$work/ocitapd.log
http="unix:$work/http.sock"
daemon_pid=
cleanup() {
	[[ -n $daemon_pid ]] && kill -9 "$daemon_pid" 2>/dev/null
	for id in $(runc --root "$work/runc" list -q 2>/dev/null); do runc --root "$work/runc" delete -f "$id" >/dev/null 2>&1; done
	rm -rf "$work"
}
trap cleanup EXIT

start_daemon() {
	rm -f "$sock"
	"$OCITAPD" --socket "$sock" --state-dir "$state" --http "$http" --keeper off --log-level debug "$@" >>"$log" 2>&1 &
	daemon_pid=$!
	wait_for "$sock" || { not_ok "ocitapd started"; cat "$log"; exit 0; }
}
stop_daemon() {
	kill -TERM "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
}
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
if [[ $(jq -r .bpf.enabled <<<"$h") != true ]]; then
	# the only reason to skip: the kernel or our privileges do not allow BPF here
	skip "bpf" "BPF is off on this machine: $(jq -r .bpf.reason <<<"$h")"
	exit 0
fi
ok "/healthz: bpf enabled"
check "log: programs loaded, with the time it took" grep -q "bpf: programs loaded in" "$log"
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
done
