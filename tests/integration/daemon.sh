#!/usr/bin/env bash
# daemon.sh: ocitapd with real runc and crun containers. Policies as the
# container sees them (audit lets mkdir run, deny gives EPERM, a policy
# file's errno and kill), runc exec bringing a second notify fd for the same
# container, transitions creating -> stopped with exit code or signal, a
# non-root peer refused, garbage/oversized/truncated/slow peers dropped while
# a container on the same daemon keeps working, and kill -9 of the daemon
# right after hook reports were acknowledged losing nothing.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "daemon"

test_init daemon

cat >"$work/policy.json" <<'JSON'
{ "policies": {
    "strict": { "default": "continue",
                "syscalls": { "mkdir": "errno:EACCES", "mkdirat": "errno:EACCES", "chmod": "kill", "fchmodat": "kill" } } } }
JSON

daemon_args=(--policy "$work/policy.json" --http off --peer-timeout 1000 --log-level debug)

# bundle RT ID POLICY ARGS-JSON: a busybox bundle whose mkdir/chmod notify ocitapd
bundle() {
	local b="$work/b-$2"
	mkdir -p "$b"
	[[ -d $work/rootfs ]] || make_rootfs "$work/rootfs"
	cp -a "$work/rootfs" "$b/rootfs"
	(cd "$b" && runc spec)
	jq --arg sock "$sock" --arg pol "$3" --argjson args "$4" '
	  .process.terminal = false | .root.readonly = false | .process.args = $args
	| .annotations = {"org.ocitap.test": "daemon"}
	| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: ("policy=" + $pol),
	    syscalls: [{names: ["mkdir", "mkdirat", "chmod", "fchmodat"], action: "SCMP_ACT_NOTIFY"}]}' \
		"$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	echo "$b"
}
run_rt() { # RT ID BUNDLE -> output, sets rc
	if [[ $1 == runc ]]; then
		out=$(timeout 60 runc --root "$work/runc" run --bundle "$3" "$2" </dev/null 2>&1)
	else
		out=$(crun_private --root "$work/crun" --cgroup-manager=disabled run --bundle "$3" "$2" </dev/null 2>&1)
	fi
	rc=$?
}
# wait until the store says ID is stopped and, when the kernel gives it,
# has its exit status (the writer is asynchronous)
wait_stopped() {
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(q "select phase || '/' || (exit_code is not null) from containers where id='$1'") == stopped/1 ]] && return 0
		sleep 0.1
	done
	return 1
}

start_daemon

# --- policies, as the container sees them, under both runtimes -------------------
for rt in runc crun; do
	b=$(bundle $rt "$rt-audit" audit '["sh","-c","mkdir /tmp/made && echo made; exit 4"]')
	run_rt $rt "$rt-audit" "$b"
	check "$rt audit: mkdir allowed (continue)" grep -q '^made$' <<<"$out"
	check "$rt audit: container exit status 4" [ "$rc" -eq 4 ]
	wait_stopped "$rt-audit"
	# no hooks here: creating from the listener, running from BPF (the exec of sh),
	# stopped from the hang-up or the pidfd. The listener message is sent by the
	# runtime's parent process while `run` goes on to start the container, so the
	# exec may come before the registration: then (and without BPF) no running.
	# A createRuntime hook registers it early enough (bpf.sh).
	want="creating,stopped|creating,running,stopped"
	check "$rt audit: recorded ${want//|/ or }" \
		grep -Eqx "$want" <<<"$(q "select group_concat(to_phase, ',') from (select to_phase from events where container_id='$rt-audit' and kind='transition' order by seq)")"
	check "$rt audit: exit code 4 recorded (pidfd)" [ "$(q "select exit_code from containers where id='$rt-audit'")" = 4 ]
	check "$rt audit: notification counted as continue" \
		[ "$(q "select sum(count) from notifications where container_id='$rt-audit' and action='continue'")" -ge 1 ]
	check "$rt audit: annotations stored" \
		[ "$(q "select json_extract(annotations, '\$.\"org.ocitap.test\"') from containers where id='$rt-audit'")" = daemon ]

	b=$(bundle $rt "$rt-deny" deny '["sh","-c","mkdir /tmp/x; echo status=$?"]')
	run_rt $rt "$rt-deny" "$b"
	check "$rt deny: mkdir gets EPERM" grep -q "Operation not permitted" <<<"$out"
	wait_stopped "$rt-deny"
	sleep 1.2 # counts are flushed every second
	check "$rt deny: counted as errno:EPERM" \
		[ "$(q "select count from notifications where container_id='$rt-deny' and syscall like 'mkdir%' and action='errno:EPERM'")" -ge 1 ]
done

b=$(bundle runc strict strict '["sh","-c","mkdir /tmp/y; echo mkdir=$?; chmod 600 /tmp; echo survived"]')
run_rt runc strict "$b"
check "policy file: mkdir gets EACCES" grep -q "Permission denied" <<<"$out"
# busybox sh forks chmod: that process is killed, the shell goes on
check "policy file: chmod's process killed" grep -q "Killed" <<<"$out"
wait_stopped strict
sleep 1.2
check "policy file: counted as kill" \
	[ "$(q "select count from notifications where container_id='strict' and syscall='chmod' and action='kill'")" = 1 ]
b=$(bundle runc strict-init strict '["chmod","600","/tmp"]')
run_rt runc strict-init "$b"
check "policy file: kill of the init: container exits 137" [ "$rc" -eq 137 ]
wait_stopped strict-init
check "policy file: killed by SIGKILL recorded" [ "$(q "select signal from containers where id='strict-init'")" = 9 ]

b=$(bundle runc unknown no-such-policy '["sh","-c","mkdir /tmp/z; echo rc=$?"]')
run_rt runc unknown "$b"
check "an unknown policy never lets the syscall through: denied (${out//$'\n'/ })" grep -q '^rc=1$' <<<"$out"
check "unknown policy is logged" grep -q 'container unknown: unknown policy "no-such-policy"' "$log"

# --- the whole lifecycle: hooks report to ocitapd, the listener, hang-up, pidfd ----
# (startContainer runs inside the container, where the socket is not visible:
# the hook binaries' issue deals with it)
for rt in runc crun; do
	# long enough for poststart to run before the process ends (a faster one makes
	# poststart a late event: checked below with "late")
	b=$(bundle $rt "$rt-life" audit '["sh","-c","mkdir /tmp/l; sleep 0.5; exit 5"]')
	rh="$TOP/tests/integration/report-hook"
	jq --arg rh "$rh" --arg sock "$sock" '.hooks = {
	    prestart:        [{path: $rh, args: ["report-hook", "prestart", $sock]}],
	    createRuntime:   [{path: $rh, args: ["report-hook", "createRuntime", $sock]}],
	    createContainer: [{path: $rh, args: ["report-hook", "createContainer", $sock]}],
	    poststart:       [{path: $rh, args: ["report-hook", "poststart", $sock]}],
	    poststop:        [{path: $rh, args: ["report-hook", "poststop", $sock]}] }' "$b/config.json" >"$b/c.json" &&
		mv "$b/c.json" "$b/config.json"
	run_rt $rt "$rt-life" "$b"
	check "$rt lifecycle: container ran with reporting hooks (exit 5)" [ "$rc" -eq 5 ]
	wait_stopped "$rt-life"
	for ((i = 0; i < 30; i++)); do # poststop is reported after the hang-up: wait for it too
		[[ $(q "select count(*) from events where container_id='$rt-life' and kind='late'") -ge 1 ]] && break
		sleep 0.1
	done
	check "$rt lifecycle: creating -> running -> stopped, in that order" \
		[ "$(q "select group_concat(to_phase, ',') from (select to_phase from events where container_id='$rt-life' and kind='transition' order by seq)")" = "creating,running,stopped" ]
	# which source proved each phase first
	got=$(q "select group_concat(to_phase || ':' || source, ',') from (select to_phase, source from events where container_id='$rt-life' and kind='transition' order by seq)")
	echo "# $rt transitions: $got"
	# running: from BPF (the init's exec) when it is on, else from poststart; the
	# poststart report is kept as a hook event either way
	check "$rt lifecycle: running recorded from poststart or BPF" grep -Eq "running:(poststart|bpf)" <<<"$got"
	check "$rt lifecycle: the poststart report stored" [ "$(hook_count "$rt-life" poststart)" -ge 1 ]
	check "$rt lifecycle: stopped recorded" grep -q "stopped:" <<<"$got"
	check "$rt lifecycle: exit code 5 recorded" [ "$(q "select exit_code from containers where id='$rt-life'")" = 5 ]
	check "$rt lifecycle: duplicate creating (hooks + listener) merged, not counted twice" \
		[ "$(q "select count(*) from events where container_id='$rt-life' and kind='transition' and to_phase='creating'")" = 1 ]
done

# --- runc exec: a second fd for the same container; then SIGKILL -----------------
b=$(bundle runc long deny '["sleep","30"]')
runc --root "$work/runc" run -d --bundle "$b" long </dev/null >/dev/null 2>&1
out=$(runc --root "$work/runc" exec long sh -c 'mkdir /tmp/e; echo exec-status=$?' 2>&1)
check "runc exec: the exec's mkdir is answered (EPERM)" grep -q "Operation not permitted" <<<"$out"
check "runc exec: a second fd for the same container" grep -q "container long: seccomp fd from pid [0-9]* (exec, policy deny, 2 fds)" "$log"
runc --root "$work/runc" kill long KILL
wait_stopped long
check "SIGKILL: stopped with signal 9" [ "$(q "select signal from containers where id='long'")" = 9 ]
runc --root "$work/runc" delete -f long >/dev/null 2>&1

# --- hostile peers, while a container on the same daemon keeps working ------------
b=$(bundle runc steady deny '["sh","-c","i=0; while [ $i -lt 20 ]; do mkdir /tmp/s 2>/dev/null; i=$((i+1)); sleep 0.1; done; echo done"]')
runc --root "$work/runc" run --bundle "$b" steady </dev/null >"$work/steady.out" 2>&1 &
steady=$!
sleep 0.3
printf 'GET / HTTP/1.0\r\n\r\n' | socat -t2 - UNIX-CONNECT:"$sock" >/dev/null 2>&1
{ printf '{"fds":["'; head -c 3000000 /dev/zero | tr '\0' x; } | socat -t2 - UNIX-CONNECT:"$sock" >/dev/null 2>&1
head -c 65536 /dev/urandom | socat -t2 - UNIX-CONNECT:"$sock" >/dev/null 2>&1
printf '{"fds":["seccompFd"],"pid":1,"state":{"id":"x"' | socat -t2 - UNIX-CONNECT:"$sock" >/dev/null 2>&1
printf '{"ocitapReport":1,"stage":"bogus","state":{"id":"x","status":"y"}}' | socat -t2 - UNIX-CONNECT:"$sock" >"$work/bad-report.out" 2>&1
(printf '{"ocitapReport":1,'; sleep 3) | socat -t4 - UNIX-CONNECT:"$sock" >/dev/null 2>&1 &
slow=$!
wait $steady
check "a container keeps working during the flood" grep -q '^done$' "$work/steady.out"
wait $slow
check "garbage peer dropped with a reason" grep -q "dropped peer .*invalid JSON" "$log"
check "oversized peer dropped" grep -q "dropped peer .*larger than the limit" "$log"
check "truncated peer dropped" grep -q "dropped peer .*ends in the middle" "$log"
check "bad hook report answered with the error" grep -q '^error: stage: unknown stage "bogus"' "$work/bad-report.out"
check "slow peer dropped at the deadline" grep -q "dropped peer .*no complete message within 1000 ms" "$log"
long_id=$(printf 'a%.0s' $(seq 1025))
r=$(printf '{"ocitapReport":1,"stage":"poststop","state":{"id":"%s","status":"stopped"}}' "$long_id" |
	socat -t5 - UNIX-CONNECT:"$sock")
check "an id longer than the API serves is refused at the socket too (${r:0:60}...)" \
	grep -q '^error: state.id: is 1025 bytes, more than the 1024 an id may have' <<<"$r"

# --- SIGHUP reloads the policy file; a broken one is refused, the old one kept --------
sed -i 's/errno:EACCES/errno:EROFS/g' "$work/policy.json"
kill -HUP "$daemon_pid"
sleep 0.3
b=$(bundle runc reloaded strict '["sh","-c","mkdir /tmp/r"]')
run_rt runc reloaded "$b"
check "SIGHUP: the reloaded policy answers (EROFS)" grep -q "Read-only file system" <<<"$out"
echo '{"policies": {"strict": {"syscalls": {"mkdr": "continue"}}}}' >"$work/policy.json"
kill -HUP "$daemon_pid"
sleep 0.3
check "SIGHUP: a broken policy file is reported" grep -q "policies.strict.syscalls.mkdr: unknown syscall at line 1, column 39; keeping the policies in use" "$log"
b=$(bundle runc kept strict '["sh","-c","mkdir /tmp/k"]')
run_rt runc kept "$b"
check "SIGHUP: the policies in use are kept" grep -q "Read-only file system" <<<"$out"
sed -i 's/mkdr/mkdir/' "$work/policy.json"

# --- a non-root peer is refused (socket opened up so it can connect at all) -------
chmod 0755 "$work"
chmod 0666 "$sock"
setpriv --reuid=65534 --regid=65534 --clear-groups socat -t2 - UNIX-CONNECT:"$sock" </dev/null >/dev/null 2>&1
chmod 0600 "$sock"
check "non-root peer refused (SO_PEERCRED)" grep -q "refused peer pid [0-9]* uid 65534" "$log"

# --- kill -9 right after acknowledged hook reports: nothing acknowledged is lost ----
acks=0
for i in $(seq 1 20); do
	r=$(printf '{"ocitapReport":1,"stage":"createRuntime","hookPid":%d,"monoNs":%d,"wallNs":%d,"state":{"ociVersion":"1.0.2","id":"crash-%d","status":"creating","pid":%d,"bundle":"/b"}}' \
		$$ "$i" "$i" "$i" $((100000 + i)) | socat -t5 - UNIX-CONNECT:"$sock" 2>/dev/null)
	[[ $r == ok ]] && acks=$((acks + 1))
done
kill -9 "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=
check "20 hook reports acknowledged" [ "$acks" -eq 20 ]
check "after kill -9, all 20 acknowledged reports are in the store" \
	[ "$(q "select count(*) from containers where id like 'crash-%' and phase='creating'")" -eq 20 ]
# --- when an acknowledged record reaches the disk: --sync-interval -------------------
# (traced: the ack and the fsyncs, in the order the daemon made them)
sync_trace() { # OUT ARGS...: one report to a traced daemon; OUT = the trace 1.5 s later
	local out=$1 p
	shift
	rm -f "$sock"
	strace -f -qq -e trace=fsync,fdatasync,sendto,recvmsg -o "$out.full" "$OCITAPD" --socket "$sock" --state-dir "$work/sync" \
		--http off "$@" >>"$log" 2>&1 &
	p=$!
	wait_for "$sock" || { not_ok "traced ocitapd started"; return; }
	printf '{"ocitapReport":1,"stage":"poststop","state":{"id":"sync-1","status":"stopped"}}' |
		socat -t5 - UNIX-CONNECT:"$sock" >"$out.answer"
	sleep 1.5
	cp "$out.full" "$out"
	pkill -TERM -P "$p" # ocitapd itself: strace ends with it
	wait "$p" 2>/dev/null
}
if command -v strace >/dev/null; then
	# what happened from the report's arrival on: "report", "ok" (the ack), "fsync"
	order() {
		grep -oE 'f(data)?sync|sendto\([0-9]+, "ok|recvmsg\([0-9]+, \{msg_name=NULL, msg_namelen=0, msg_iov=\[\{iov_base="\{\\"ocitapReport' "$1" |
			sed 's/sendto.*/ok/; s/fdatasync/fsync/; s/recvmsg.*/report/' | tr '\n' ' ' | sed 's/^.*report/report/'
	}
	sync_trace "$work/trace-default"
	check "default --sync-interval: acknowledged at once, on disk within a second (trace: $(order "$work/trace-default"))" \
		grep -Eq '^report ok fsync' <<<"$(order "$work/trace-default")"
	check "default --sync-interval: the report was acknowledged" [ "$(cat "$work/trace-default.answer")" = ok ]
	sync_trace "$work/trace-0" --sync-interval 0
	check "--sync-interval 0: on disk before the ack (trace: $(order "$work/trace-0"))" \
		grep -Eq '^report (fsync )+ok' <<<"$(order "$work/trace-0")"
else
	skip "--sync-interval order" "strace is not installed"
fi
"$OCITAPD" --sync-interval soon >/dev/null 2>"$work/err"
check "--sync-interval soon: usage error naming the option" [ $? -eq 2 ]
check "... says what it expected" grep -q "sync-interval: expected milliseconds" "$work/err"

start_daemon
check "restarted daemon takes reports again" \
	[ "$(printf '{"ocitapReport":1,"stage":"poststop","state":{"id":"crash-1","status":"stopped"}}' | socat -t5 - UNIX-CONNECT:"$sock")" = ok ]
check "crash-1 moved on to stopped after the restart" [ "$(q "select phase from containers where id='crash-1'")" = stopped ]
check "the restarted daemon knew crash-1 was creating (creating -> stopped, not unknown -> stopped)" \
	[ "$(q "select from_phase from events where container_id='crash-1' and kind='transition' and to_phase='stopped'")" = creating ]
stop_daemon
start_daemon
r=$(printf '{"ocitapReport":1,"stage":"createRuntime","state":{"id":"crash-1","status":"creating","pid":100001}}' |
	socat -t5 - UNIX-CONNECT:"$sock")
check "after another restart, a replayed createRuntime (its run's init) for a stopped container is late, never a step back" \
	[ "$r/$(q "select phase from containers where id='crash-1'")/$(q "select count(*) from events where container_id='crash-1' and kind='late'")" = ok/stopped/1 ]
r=$(printf '{"ocitapReport":1,"stage":"createRuntime","state":{"id":"crash-1","status":"creating","pid":5}}' |
	socat -t5 - UNIX-CONNECT:"$sock")
check "... one naming another init begins run 2 (creating), run 1 stays stopped" \
	[ "$r/$(q "select run || ' ' || phase from containers where id='crash-1'")/$(q "select phase from runs where id='crash-1' and run=1")" = "ok/2 creating/stopped" ]
b=$(bundle runc quick audit '["true"]')
run_rt crun quick "$b"
wait_stopped quick
r=$(printf '{"ocitapReport":1,"stage":"poststart","state":{"id":"quick","status":"running","pid":1}}' |
	socat -t5 - UNIX-CONNECT:"$sock")
check "a late report is still acknowledged" [ "$r" = ok ]
check "a poststart after the container stopped is a late event, not a status change" \
	[ "$(q "select phase from containers where id='quick'")/$(q "select count(*) from events where container_id='quick' and kind='late' and to_phase='running'")" = stopped/1 ]
check "event sequence continues across restarts" \
	[ "$(q "select count(*) from events") " = "$(q "select max(seq) from events") " ]
stop_daemon
check "SIGTERM: clean shutdown logged" grep -q "shutting down" "$log"

# --- --allow-uid lets that uid in --------------------------------------------------
start_daemon --allow-uid 65534
chmod 0666 "$sock"
r=$(printf '{"ocitapReport":1,"stage":"poststop","state":{"id":"from-nobody","status":"stopped"}}' |
	setpriv --reuid=65534 --regid=65534 --clear-groups socat -t5 - UNIX-CONNECT:"$sock" 2>&1)
check "--allow-uid 65534: its report is taken" [ "$r" = ok ]
check "--allow-uid 65534: recorded" [ "$(q "select phase from containers where id='from-nobody'")" = stopped ]
stop_daemon
# --- the default log level says nothing per container or report -------------------
mark=$(wc -l <"$log")
start_daemon --log-level info
b=$(bundle runc quiet audit '["sh","-c","mkdir /tmp/q; exit 3"]')
run_rt runc quiet "$b"
wait_stopped quiet
r=$(printf '{"ocitapReport":1,"stage":"poststop","state":{"id":"quiet-hook","status":"stopped"}}' |
	socat -t5 - UNIX-CONNECT:"$sock" 2>&1)
stop_daemon
tail -n +"$((mark + 1))" "$log" >"$work/quiet.log"
check "--log-level info: a run (listener, notification, transitions, exit) and a hook report are recorded" \
	[ "$(q "select exit_code from containers where id='quiet'")/$r/$(q "select phase from containers where id='quiet-hook'")" = "3/ok/stopped" ]
check "... and logged nothing: no line names them" bash -c "! grep -E 'container quiet(-hook)?:' '$work/quiet.log'"
check "... while that daemon did log (its start and stop)" grep -q "shutting down" "$work/quiet.log"

check "ocitapd --help" bash -c '"$1" --help | grep -q -- "--allow-uid"' _ "$OCITAPD"
check "ocitapd --version" bash -c '"$1" --version | grep -q "^ocitapd [0-9]"' _ "$OCITAPD"
"$OCITAPD" --bogus >/dev/null 2>&1
check "ocitapd: bad option exits 2" [ $? -eq 2 ]
OCITAP_SOCKET=$work/env.sock OCITAP_STATE_DIR=$work/envstate "$OCITAPD" --http off --keeper off >>"$log" 2>&1 &
envd=$!
wait_for "$work/env.sock"
check "OCITAP_SOCKET and OCITAP_STATE_DIR are used" test -S "$work/env.sock" -a -f "$work/envstate/ocitap.db"
kill $envd
wait $envd 2>/dev/null
check "SIGTERM without a keeper: socket removed" test ! -e "$work/env.sock"
check "SIGTERM with a keeper: the socket stays, the keeper listens on it for the next daemon" \
	bash -c "test -S '$sock' && grep -q 'the keeper holds the listening socket $sock' '$log'"
done_testing
