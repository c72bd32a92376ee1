#!/usr/bin/env bash
# faults/diskfull.sh: the store's filesystem (a 4 MiB tmpfs under
# --state-dir) fills up while real runc containers make notified syscalls in
# a loop. Their syscalls keep being answered and never fail; a container
# started meanwhile runs (its hooks answer within their timeout, its notified
# syscall is answered); /healthz and /metrics say degraded, so do the API's
# answers and the CLI (a warning, "degraded" in --json); and once space
# returns the daemon catches up: the new container's hooks, exit and every
# notification counted while the disk was full are in the store.
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: disk full"

BIN="$TOP/$BUILD/bin"
faults_init diskfull
full=$work/full
state=$full/state db=$full/state/ocitap.db # the store on the small filesystem
ids="loop-a loop-b"
test_cleanup() { umount "$full" 2>/dev/null; }

mkdir -p "$full"
if ! mount -t tmpfs -o size=4m tmpfs "$full" 2>/dev/null; then
	skip_rest "faults: disk full" "cannot mount a tmpfs here"
fi
start_daemon --http "unix:$http"
code() { curl -s -o "$work/body" -w '%{http_code}' --unix-socket "$http" "http://x$1"; }
metric() { curl -s --unix-socket "$http" http://x/metrics | awk -v m="$1" '$1 == m { print $2 }'; }
notified() { q "select coalesce(sum(count), 0) from notifications where container_id='$1' and syscall like 'mkdir%'"; }

start_loops
check "both containers make notified syscalls" all_progressing

# --- fill the disk: the next commit (notification counts, once a second) fails ---
dd if=/dev/zero of="$full/filler" bs=64k >/dev/null 2>&1
for ((i = 0; i < 100; i++)); do [[ $(code /healthz) == 503 ]] && break; sleep 0.1; done
check "disk full: /healthz 503, degraded, the store not writable" \
	[ "$(code /healthz)" = 503 -a "$(jq -r '.status + " " + (.store.writable|tostring)' "$work/body")" = "degraded false" ]
check "disk full: /metrics ocitap_store_degraded 1" [ "$(metric ocitap_store_degraded)" = 1 ]
check "disk full: the loops' notified syscalls are still answered" all_progressing
check "disk full: none failed" no_errors
code /v1/containers >/dev/null
check "disk full: /v1/containers says degraded, and why its answer may lack the latest" \
	[ "$(jq -r '[.degraded, (.warning | contains("cannot be written"))] | join(" ")' "$work/body")" = "true true" ]
code /v1/events >/dev/null
check "disk full: /v1/events says so too" [ "$(jq -r .degraded "$work/body")" = true ]
"$BIN/ocitap" ps --json --http "unix:$http" --state-dir "$state" --runc-root "$work/runc" >"$work/ps.json" 2>"$work/ps.err"
check "disk full: ocitap ps --json has \"degraded\": true, and warns on stderr" \
	bash -c "[[ \$(jq -r .degraded '$work/ps.json') == true ]] && grep -q 'warning: ocitapd cannot write its store' '$work/ps.err'"
"$BIN/ocitap" events --http "unix:$http" --state-dir "$state" >/dev/null 2>"$work/ev.err"
check "disk full: ocitap events warns too" grep -q "warning: ocitapd cannot write its store" "$work/ev.err"

# a container started now: ocitap-hook on createRuntime, poststart and poststop (they
# give up waiting for the record after --timeout and never fail the container), and
# a notified mkdir answered by the listener
b=$work/b-late
mkdir -p "$b"
cp -a "$work/rootfs" "$b/rootfs"
(cd "$b" && runc spec)
jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" '
  def hook($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
  .process.terminal = false | .root.readonly = false | .process.args = ["sh", "-c", "mkdir /tmp/late && exit 5"]
| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=audit",
    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}
| .hooks = {createRuntime: [hook("createRuntime")], poststart: [hook("poststart")], poststop: [hook("poststop")]}' \
	"$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
s=$(date +%s%N)
timeout 60 runc --root "$work/runc" run --bundle "$b" late </dev/null >"$work/late.out" 2>&1
rc=$?
e=$(date +%s%N)
check "disk full: a new container runs, its notified mkdir answered (exit 5)" [ "$rc" -eq 5 ] || cat "$work/late.out"
check "disk full: ... its three hooks waited at most their timeout each (< 5 s in all)" [ $(((e - s) / 1000000)) -lt 5000 ]
check "disk full: the loops never failed" no_errors
sleep 1.5 # another round of notification counts goes into the held batch
code /v1/containers >/dev/null
check "disk full: /v1/containers shows the run held in memory: late, stopped, exit 5, its mkdir" \
	[ "$(jq -r '[.held[] | select(.id == "late") | .status, .exit.code, (.notifications >= 1)] | join(" ")' "$work/body")" = "stopped 5 true" ] ||
	echo "# $(jq -c .held "$work/body")"
check "disk full: /v1/containers/late (not in the store yet): 404 with what is held of it" \
	[ "$(code /v1/containers/late)/$(jq -r '[.degraded, (.held | length), .held[0].exit.code] | join(" ")' "$work/body")" = "404/true 1 5" ] ||
	echo "# $(cat "$work/body")"
before_a=$(count loop-a) before_b=$(count loop-b)

# --- space returns: everything held is written --------------------------------
rm -f "$full/filler"
for ((i = 0; i < 100; i++)); do [[ $(code /healthz) == 200 ]] && break; sleep 0.1; done
check "space back: /healthz 200, /metrics ocitap_store_degraded 0" \
	[ "$(code /healthz)" = 200 -a "$(metric ocitap_store_degraded)" = 0 ]
check "space back: the log says it writes again" grep -q "store: writing again" "$log"
code /v1/containers >/dev/null
check "space back: /v1/containers no longer says degraded" [ "$(jq -r '.degraded // false' "$work/body")" = false ]
for ((i = 0; i < 50; i++)); do [[ $(q "select exit_code from containers where id='late'") == 5 ]] && break; sleep 0.1; done
check "caught up: the late container's exit code 5 is stored" [ "$(q "select exit_code from containers where id='late'")" = 5 ]
check "caught up: its three hook reports are stored" [ "$(q "select count(*) from events where container_id='late' and kind='hook'")" = 3 ]
check "caught up: its notified mkdir is counted" [ "$(notified late)" -ge 1 ]
# the counts are flushed once a second (and a read may meet the writer's lock: ask again)
caught_up() { # ID COUNT
	local i n
	for ((i = 0; i < 50; i++)); do
		n=$(notified "$1")
		[[ -n $n && $n -ge $2 ]] && return 0
		sleep 0.1
	done
	echo "# $1: $n notified mkdirs stored, $2 made before space returned"
	return 1
}
check "caught up: every notified mkdir of loop-a while the disk was full is counted" caught_up loop-a "$before_a"
check "caught up: ... and of loop-b" caught_up loop-b "$before_b"
check "the loops go on" all_progressing
check "no notified syscall ever failed" no_errors
stop_daemon
done_testing
