#!/usr/bin/env bash
# container-peers.sh: what a process inside a container can do with the
# daemon's directory mounted in (as ocitap-hook(1) once told users to do).
# A victim runc container runs under policy deny with its notify fd held by
# ocitap-fdkeeper; an attacker container with $work/run bind-mounted at
# /run/ocitap (tests/integration/peer-tool.c as its program) asks the keeper
# for every fd (refused: another pid and mount namespace), reports a
# poststop for the running victim and a prestart for a made-up id (refused:
# those stages do not run inside a container), a startContainer for the
# victim (refused: not its namespaces); the victim's mkdir is still denied,
# its record still running, no record for the made-up id. The in-container
# stage a container reports for itself is taken, once.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "container peers"

test_init cpeers
sock=$work/run/ocitap.sock
TOOL="$TOP/$BUILD/tests/peer-tool"
export PATH="$TOP/$BUILD/bin:$PATH" # the daemon starts ocitap-fdkeeper from there

start_daemon --http off --bpf off --keeper "$work/run/keeper.sock"

# bundle NAME ARGS-JSON [EXTRA-JQ]: a busybox bundle with peer-tool and $work/run at /run/ocitap
bundle() {
	local b="$work/b-$1"
	mkdir -p "$b"
	make_rootfs "$b/rootfs"
	cp "$TOOL" "$b/rootfs/bin/peer-tool"
	mkdir -p "$b/rootfs/run/ocitap"
	(cd "$b" && runc spec)
	jq --arg sock "$sock" --arg run "$work/run" --argjson args "$2" '.process.terminal = false | .root.readonly = false
	| .process.args = $args
	| .mounts += [{destination: "/run/ocitap", type: "bind", source: $run, options: ["rbind"]}]
	| '"${3:-.}" "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
	echo "$b"
}

v=$(bundle victim '["sh", "-c", "while :; do if mkdir /tmp/d 2>/dev/null; then echo OK >>/tmp/res; rmdir /tmp/d; else echo DENIED >>/tmp/res; fi; sleep 0.05; done"]' \
	'.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=deny",
	    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}')
timeout 30 runc --root "$work/runc" run -d --bundle "$v" cp-victim </dev/null >/dev/null 2>&1
for ((i = 0; i < 50; i++)); do grep -q 'keeper .*: connected, holds 1\|keeper .*connected' "$log" && break; sleep 0.1; done
answers() { : >"$v/rootfs/tmp/res"; sleep 1; sort "$v/rootfs/tmp/res" | uniq -c | tr -s ' ' | tr '\n' ' '; }
only_denied() { [[ $1 == *DENIED* && $1 != *OK* ]]; }
a=$(answers)
check "the victim's mkdir is denied by its policy ($a)" only_denied "$a"

# the attacker: every move from inside its own container, outputs in /tmp/out
a_b=$(bundle attacker '["sh", "-c", "peer-tool keeper-give /run/ocitap/keeper.sock >/tmp/out 2>&1; peer-tool report /run/ocitap/ocitap.sock poststop cp-victim stopped >>/tmp/out 2>&1; peer-tool report /run/ocitap/ocitap.sock prestart cp-madeup creating 1 >>/tmp/out 2>&1; peer-tool report /run/ocitap/ocitap.sock poststop cp-madeup stopped >>/tmp/out 2>&1; peer-tool report /run/ocitap/ocitap.sock startContainer cp-victim created >>/tmp/out 2>&1; true"]')
timeout 30 runc --root "$work/runc" run --bundle "$a_b" cp-attacker </dev/null >/dev/null 2>&1
out=$(cat "$a_b/rootfs/tmp/out" 2>/dev/null)
echo "$out" | sed 's/^/# /'
check "the keeper refuses a peer inside a container" grep -q '^refused: ' <<<"$(sed -n 1p <<<"$out")"
check "the keeper says why: another namespace" \
	grep -q "ocitap-fdkeeper: refused a peer (pid [0-9]*) in another \(mnt\|pid\) namespace" "$log"
check "a poststop for the running victim from inside a container is refused" \
	grep -q '^poststop cp-victim: error: refused: a poststop report from inside a container' <<<"$out"
check "a prestart for a made-up id from inside is refused" \
	grep -q '^prestart cp-madeup: error: refused: a prestart report from inside a container' <<<"$out"
check "a startContainer for the victim from another container is refused (namespaces)" \
	grep -q '^startContainer cp-victim: error: refused: a startContainer report for cp-victim from a process outside it' <<<"$out"
check "no record for the made-up id" test "$(q "select count(*) from containers where id='cp-madeup'")" = 0
ph=$(q "select phase from containers where id='cp-victim'")
check "the victim's record is not stopped ($ph: no BPF, no hooks)" test "$ph" = creating -o "$ph" = running
check "and no hook event was recorded for it from inside" \
	test "$(q "select count(*) from events where container_id='cp-victim' and kind='hook'")" = 0
a=$(answers)
check "the victim's mkdir is still denied ($a)" only_denied "$a"
metric_refused=$(grep -c 'refused: ' <<<"$out")
check "four refusals, none taken ($metric_refused)" test "$metric_refused" -ge 4

# a container may report its own in-container stage, once (startContainer,
# through peer-tool as the container's startContainer hook would)
s_b=$(bundle self '["sh", "-c", "sleep 3"]' \
	'.hooks = {startContainer: [{path: "/bin/peer-tool", args: ["peer-tool", "report", "/run/ocitap/ocitap.sock", "startContainer", "cp-self", "created"]}],
	          createRuntime: [{path: "'"$TOP/tests/integration/report-hook"'", args: ["report-hook", "createRuntime", $sock]}]}')
timeout 30 runc --root "$work/runc" run --bundle "$s_b" cp-self </dev/null >"$work/self.out" 2>&1
check "a container's own startContainer report is taken (runc ran it: exit $?)" \
	test "$(q "select count(*) from events where container_id='cp-self' and kind='hook' and source='startContainer'")" = 1
# the report-only socket (--container-socket, default container/ocitap.sock
# next to the socket): what a container gets mounted instead; nothing else is there
r_b=$(bundle reporter '["sh", "-c", "ls /run/ocitap/container >/tmp/ls; peer-tool report /run/ocitap/container/ocitap.sock poststop cp-victim stopped >/tmp/out 2>&1; sleep 2"]' \
	'.mounts |= map(select(.destination != "/run/ocitap"))
	| .mounts += [{destination: "/run/ocitap/container", type: "bind", source: ($run + "/container"), options: ["rbind"]}]
	| .hooks = {startContainer: [{path: "/bin/peer-tool", args: ["peer-tool", "report", "/run/ocitap/container/ocitap.sock", "startContainer", "cp-reporter", "created"]}],
	          createRuntime: [{path: "'"$TOP/tests/integration/report-hook"'", args: ["report-hook", "createRuntime", $sock]}]}')
timeout 30 runc --root "$work/runc" run --bundle "$r_b" cp-reporter </dev/null >"$work/reporter.out" 2>&1
check "the report-only socket's directory holds only that socket ($(cat "$r_b/rootfs/tmp/ls" 2>/dev/null | tr '\n' ' '))" \
	test "$(cat "$r_b/rootfs/tmp/ls" 2>/dev/null)" = ocitap.sock
check "a container's startContainer through the report-only socket is taken" \
	test "$(q "select count(*) from events where container_id='cp-reporter' and kind='hook' and source='startContainer'")" = 1
check "a poststop through it is refused" \
	grep -q '^poststop cp-victim: error: refused: a poststop report from inside a container' "$r_b/rootfs/tmp/out"
out=$("$TOOL" report "$work/run/container/ocitap.sock" poststop cp-victim stopped)
check "even from the host, the report-only socket takes no poststop ($out)" \
	grep -q '^poststop cp-victim: error: refused: a poststop report on the report-only socket' <<<"$out"
check "the report-only socket is 0666 (any uid in a container may report): $(stat -c %A "$work/run/container/ocitap.sock")" \
	test "$(stat -c %A "$work/run/container/ocitap.sock")" = srw-rw-rw-
done_testing
