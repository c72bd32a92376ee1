# common.bash: helpers for the integration tests (sourced, not run).
# TAP output: ok/not ok lines and, as the last line of every script,
# done_testing's plan; tests/run-suites.sh judges them with TAP::Parser.

BUILD=${BUILD:-build}
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
# check "description" command...: ok when the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# make_rootfs DIR: a busybox-static root filesystem
make_rootfs() {
	local root=$1 bb
	bb=$(command -v busybox) || return 1
	mkdir -p "$root/bin" "$root/tmp" "$root/proc" "$root/dev" "$root/sys" "$root/cap"
	cp "$bb" "$root/bin/busybox"
	for a in sh mkdir cat echo true sleep ls rmdir chmod; do ln -sf busybox "$root/bin/$a"; done
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
