# common.bash: helpers for the integration tests (sourced, not run).
# TAP output: ok/not ok lines and, as the last line of every script,
# done_testing's plan; tests/run-suites.sh judges them with TAP::Parser.

BUILD=${BUILD:-build}
# an installed /etc/ocitap/ocitapd.conf does not change the tests' daemons (config-file.sh names its files)
export OCITAP_CONFIG=${OCITAP_CONFIG:-off}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OCITAP="$TOP/$BUILD/bin/ocitap"
RECEIVER="$TOP/$BUILD/tests/ocitap-test-receiver"
_tap_n=0

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $*"; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP $2"; }
# done_testing: the plan, "1..N" for the N tests run so far. The last line of
# every script: one that stops early (exit after a not_ok, set -e, a crash)
# never prints it and so fails, however many "ok" lines it printed.
done_testing() { echo "1..$_tap_n"; }
# skip_rest WHAT WHY: what is left cannot run here: one skipped test, the plan, exit 0
skip_rest() {
	skip "$1" "$2"
	done_testing
	exit 0
}
# check "description" command...: ok when the command succeeds; returns its
# status, so that `check ... || echo "# why"` prints the why of a failure
check() {
	local what=$1
	shift
	if "$@"; then
		ok "$what"
	else
		not_ok "$what"
		return 1
	fi
}

# make_rootfs DIR: a busybox-static root filesystem
make_rootfs() {
	local root=$1 bb
	bb=$(command -v busybox) || return 1
	mkdir -p "$root/bin" "$root/tmp" "$root/proc" "$root/dev" "$root/sys" "$root/cap"
	cp "$bb" "$root/bin/busybox"
	for a in sh mkdir cat echo true sleep ls rmdir chmod; do ln -sf busybox "$root/bin/$a"; done
}

# notify_bundle DIR POLICY SHELL-COMMAND [EXTRA-JQ]: a busybox bundle in DIR
# whose sh runs SHELL-COMMAND with mkdir/mkdirat notified to $sock's ocitapd
# under POLICY; EXTRA-JQ (with $sock and $rh, the report-hook, defined) is
# applied last
notify_bundle() {
	local b=$1
	mkdir -p "$b"
	make_rootfs "$b/rootfs"
	(cd "$b" && runc spec)
	jq --arg sock "$sock" --arg pol "$2" --arg cmd "$3" --arg rh "$TOP/tests/integration/report-hook" '
	  .process.terminal = false | .root.readonly = false | .process.args = ["sh", "-c", $cmd]
	| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: ("policy=" + $pol),
	    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}
	| '"${4:-.}" "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
}

# wait_for FILE [TENTHS]: wait until FILE exists (default 5 s)
wait_for() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		[[ -e $1 ]] && return 0
		sleep 0.1
	done
	return 1
}

# crun here needs cgroup v2 on /sys/fs/cgroup, which the host's hybrid
# layout does not give: run it in a private mount namespace with cgroup2
# mounted there, and without a cgroup manager.
crun_private() {
	timeout 60 unshare -m sh -c 'mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup && exec crun "$@"' crun "$@"
}

require_root() {
	[[ $(id -u) -eq 0 ]] || skip_rest "$1" "needs root to run containers (uid $(id -u))"
}

# test_init NAME: a fresh work directory $work (/tmp/ocitap-NAME-*), removed at
# exit by cleanup; sets sock, state, db and log under it, OCITAPD (unless set)
# and an empty daemon_pid. A script may move sock or state afterwards.
test_init() {
	OCITAPD=${OCITAPD:-$TOP/$BUILD/bin/ocitapd}
	work=$(mktemp -d "/tmp/ocitap-$1-XXXXXX")
	sock=$work/ocitap.sock state=$work/state db=$work/state/ocitap.db log=$work/ocitapd.log
	daemon_pid=
	trap cleanup EXIT
}
# cleanup (at exit, set by test_init): the daemon (kill -9), then the
# script's own test_cleanup if it defines one (its other processes, mounts,
# runtimes), every runc container under $work/runc, every fd keeper started
# for a socket in $work, and $work itself.
cleanup() {
	local id
	[[ -n ${daemon_pid:-} ]] && kill -9 "$daemon_pid" 2>/dev/null
	[[ $(type -t test_cleanup) == function ]] && test_cleanup
	for id in $(runc --root "$work/runc" list -q 2>/dev/null); do runc --root "$work/runc" delete -f "$id" >/dev/null 2>&1; done
	pkill -9 -f "ocitap-fdkeeper --socket $work/" 2>/dev/null
	# OCITAP_TEST_KEEP_LOGS=DIR (to chase a rare failure): the daemon's log kept there
	if [[ -n ${OCITAP_TEST_KEEP_LOGS:-} && -f ${log:-} ]]; then
		mkdir -p "$OCITAP_TEST_KEEP_LOGS" && cp "$log" "$OCITAP_TEST_KEEP_LOGS/$(basename "$work").log"
	fi
	rm -rf "$work"
}

# start_daemon [ARGS...]: $OCITAPD --socket $sock --state-dir $state, then the
# script's usual options (the array daemon_args) and ARGS, in the background
# (daemon_pid), its output appended to $log. Returns once $sock exists and,
# if daemon_ready is set (a URL), once that answers (5 s each). A daemon
# whose socket does not come: not_ok, the log's last lines and exit, so
# without a plan.
daemon_args=()
daemon_ready=
start_daemon() {
	local i
	rm -f "$sock" # kill -9 leaves the old socket file behind
	"$OCITAPD" --socket "$sock" --state-dir "$state" "${daemon_args[@]}" "$@" >>"$log" 2>&1 &
	daemon_pid=$!
	wait_for "$sock" || {
		not_ok "ocitapd started"
		tail -n 30 "$log" | sed 's/^/# /'
		exit 0
	}
	if [[ -n $daemon_ready ]]; then
		for ((i = 0; i < 50; i++)); do curl -s "$daemon_ready" >/dev/null && return 0; sleep 0.1; done
	fi
	return 0
}
# stop_daemon: SIGTERM, and wait for it to exit
stop_daemon() { kill_daemon TERM; }
# kill_daemon SIGNAL: send it, and wait for the daemon to exit
kill_daemon() {
	kill "-$1" "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
}

# free_port: a loopback TCP port nothing listens on
free_port() {
	# below the kernel's ephemeral range (32768-60999): a port there can be
	# the local end of any client's connection by the time ocitapd binds it
	local p=$((20000 + RANDOM % 12000))
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
	echo "$p"
}

# The store ocitapd writes, read while it runs ($db: the database path)
# (a read that meets the writer's checkpoint may fail with "database is locked":
# asked again, up to 1 s)
q() {
	local i out
	for ((i = 0; i < 10; i++)); do
		out=$(sqlite3 -readonly "$db" "$1" 2>/dev/null) && { [[ -n $out ]] && echo "$out"; return 0; }
		sleep 0.1
	done
	return 1
}
hook_count() { q "select count(*) from events where container_id='$1' and kind='hook' and source='$2'"; }
wait_hooks() { # ID N: until N hook events are stored (5 s)
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(q "select count(*) from events where container_id='$1' and kind='hook'") -ge $2 ]] && return 0
		sleep 0.1
	done
	return 1
}
