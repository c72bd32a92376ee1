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

# faults_init NAME: common.bash's test_init (a work directory removed at exit
# with every runc container, keeper and daemon of it; work, sock, state, db,
# log, OCITAPD), and http, a unix socket for the API. A test with more to
# stop defines test_cleanup; start_daemon, stop_daemon and kill_daemon are
# common.bash's.
faults_init() {
	test_init "$1"
	http=$work/http.sock
}
