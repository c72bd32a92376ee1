#!/usr/bin/env bash
# soak.sh (make soak): SOAK_N (default 1000) container lifecycles through
# runc, one after another, each with ocitap-hook on prestart, createRuntime,
# poststart and poststop and a notified mkdir answered by ocitapd's listener,
# exiting with N % 7. Then: every transition recorded exactly once, every
# hook report once, every exit code right; ocitapd's RSS flat after the
# first hundred and its open fds the same as then. Prints progress every
# hundred lifecycles and a summary line for docs/reliability.md.
set -uo pipefail
source "$(dirname "$0")/../integration/common.bash"
require_root "soak"

N=${SOAK_N:-1000}
BIN="$TOP/$BUILD/bin"
test_init soak
chmod 0755 "$work"

make_rootfs "$work/rootfs"
b=$work/bundle
mkdir -p "$b"
(cd "$b" && runc spec)
jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" --arg root "$work/rootfs" '
  def hook($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
  .process.terminal = false | .root = {path: $root, readonly: true}
| .process.args = ["sh", "-c", "mkdir /proc/x 2>/dev/null; exit $CODE"]
| .hooks = {prestart: [hook("prestart")], createRuntime: [hook("createRuntime")], poststart: [hook("poststart")],
    poststop: [hook("poststop")]}
| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=audit",
    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}' "$b/config.json" >"$work/config.tmpl"

# stopped containers are kept (in memory and in the store) for --retention, 10 s
# here, and pruned as often: so memory can be flat, and each container's record is
# checked right after its lifecycle, while it is still kept
start_daemon --http "unix:$work/http.sock" --retention 10 --log-level warning
rss() { awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status"; }
fds() { ls "/proc/$daemon_pid/fd" | wc -l; }

# the baseline: after the first hundred (or a tenth of a shorter run)
base=$((N >= 1000 ? 100 : (N >= 20 ? N / 10 : 1)))
# one container's record, in one query: transitions|hook reports|distinct hook stages|exit code
record() {
	q "select (select group_concat(to_phase) from (select to_phase from events where container_id = '$1'
	           and kind = 'transition' order by seq))
	   || '|' || (select count(*) from events where container_id = '$1' and kind = 'hook')
	   || '|' || (select count(distinct source) from events where container_id = '$1' and kind = 'hook')
	   || '|' || coalesce((select exit_code from containers where id = '$1'), '')"
}
failed=0 bad=0 rss100= fds100= start=$(date +%s)
for ((i = 1; i <= N; i++)); do
	jq --arg code "$((i % 7))" '.process.env += ["CODE=" + $code]' "$work/config.tmpl" >"$b/config.json"
	timeout 60 runc --root "$work/runc" run --bundle "$b" "soak-$i" </dev/null >/dev/null 2>&1
	rc=$?
	[[ $rc -eq $((i % 7)) ]] || { failed=$((failed + 1)); echo "# soak-$i: exit $rc, want $((i % 7))"; }
	# the hooks were acknowledged (so stored) before runc returned; the exit code
	# comes from BPF or the pidfd, a moment later (5 s at most)
	want="creating,running,stopped|4|4|$((i % 7))"
	for ((t = 0; t < 100; t++)); do got=$(record "soak-$i"); [[ $got == "$want" ]] && break; sleep 0.05; done
	[[ $got == "$want" ]] || { bad=$((bad + 1)); echo "# soak-$i: recorded $got, want $want"; }
	if ((i == base)); then
		sleep 1.2 # the counts of the last ones flushed
		rss100=$(rss) fds100=$(fds)
	fi
	((i % 100 == 0)) && echo "# $i lifecycles, $(($(date +%s) - start)) s: ocitapd RSS $(rss) KiB, $(fds) fds"
done
sleep 2
rss_end=$(rss) fds_end=$(fds)

check "$N lifecycles ran with the right exit status ($failed did not)" [ "$failed" -eq 0 ]
check "every container recorded creating -> running -> stopped once each, its 4 hook reports once each, its exit code ($bad wrong)" \
	[ "$bad" -eq 0 ]
notes=$(curl -s --unix-socket "$work/http.sock" http://x/metrics |
	awk '$1 ~ /^ocitap_notifications_total\{syscall="mkdir/ {n += $2} END {print n + 0}')
check "every notified mkdir answered and counted (/metrics: $notes of $N)" [ "$notes" -ge "$N" ]
check "RSS flat after the first $base: ${rss100:-?} KiB then, $rss_end KiB now (< 1 MiB more)" \
	[ -n "$rss100" ] && [ "$rss_end" -lt $((rss100 + 1024)) ]
check "no fd leak: $fds100 open fds after $base lifecycles, $fds_end now" [ "$fds_end" -le "$fds100" ]
echo "# summary: $N lifecycles in $(($(date +%s) - start)) s; RSS ${rss100} -> ${rss_end} KiB; fds ${fds100} -> ${fds_end}"
stop_daemon
done_testing
