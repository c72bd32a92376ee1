# lib.bash: what the fault tests share (sourced after common.bash, with
# $work, $sock and $ids set): runc containers whose shells loop on a
# notified syscall, and how to tell they go on without a failure.

# a container whose shell makes a notified mkdir (and a plain rmdir) in a
# loop, counting in /tmp/count; a failed mkdir leaves its message in /tmp/err
bundle() {
	local b="$work/b-$1"
	mkdir -p "$b"
	[[ -d $work/rootfs ]] || make_rootfs "$work/rootfs"
	cp -a "$work/rootfs" "$b/rootfs"
	(cd "$b" && runc spec)
	jq --arg sock "$sock" --arg rh "$TOP/tests/integration/report-hook" '
	  .process.terminal = false | .root.readonly = false
	| .process.args = ["sh", "-c", "i=0; while :; do mkdir /tmp/d 2>>/tmp/err || echo \"mkdir failed at $i\" >>/tmp/err; rmdir /tmp/d; i=$((i+1)); echo $i >/tmp/count; done"]
	| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=audit",
	    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}
	| .hooks = {createRuntime: [{path: $rh, args: ["report-hook", "createRuntime", $sock]}],
	            poststart:     [{path: $rh, args: ["report-hook", "poststart", $sock]}]}' \
		"$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	echo "$b"
}
count() { cat "$work/b-$1/rootfs/tmp/count" 2>/dev/null || echo 0; }
errors() { cat "$work/b-$1/rootfs/tmp/err" 2>/dev/null; }
# progressing ID: its loop made at least 20 more rounds within 10 s
progressing() {
	local start i
	start=$(count "$1")
	for ((i = 0; i < 100; i++)); do
		[[ $(count "$1") -ge $((start + 20)) ]] && return 0
		sleep 0.1
	done
	return 1
}
all_progressing() { for id in $ids; do progressing "$id" || return 1; done; }
no_errors() { for id in $ids; do [[ -z $(errors "$id") ]] || { echo "# $id: $(errors "$id")"; return 1; }; done; }

# start_loops: run every container of $ids detached
start_loops() {
	local id b
	for id in $ids; do
		b=$(bundle "$id")
		timeout 60 runc --root "$work/runc" run -d --bundle "$b" "$id" </dev/null >"$work/$id.out" 2>&1 ||
			{ not_ok "runc run $id"; cat "$work/$id.out"; exit 0; }
	done
}

# faults_init NAME: a work directory removed at exit with every runc container,
# keeper and daemon of it; sets work, sock, state, db, log, http (a unix socket
# for the API) and OCITAPD. A test with more to stop defines faults_cleanup.
faults_init() {
	OCITAPD="$TOP/$BUILD/bin/ocitapd"
	work=$(mktemp -d "/tmp/ocitap-$1-XXXXXX")
	sock=$work/ocitap.sock state=$work/state db=$work/state/ocitap.db log=$work/ocitapd.log
	http=$work/http.sock
	daemon_pid=
	trap _faults_cleanup EXIT
}
_faults_cleanup() {
	[[ $(type -t faults_cleanup) == function ]] && faults_cleanup
	[[ -n $daemon_pid ]] && kill -9 "$daemon_pid" 2>/dev/null
	for id in $(runc --root "$work/runc" list -q 2>/dev/null); do runc --root "$work/runc" delete -f "$id" >/dev/null 2>&1; done
	pkill -9 -f "ocitap-fdkeeper --socket $work/" 2>/dev/null
	rm -rf "$work"
}
# stop_daemon_gently: SIGTERM, and wait for it
stop_daemon_gently() {
	kill -TERM "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
}
