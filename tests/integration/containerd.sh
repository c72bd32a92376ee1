#!/usr/bin/env bash
# containerd.sh: containerd through ocitap-runtime (issue 18). A private
# containerd (its own root, state and sockets; the CRI plugin off) runs a
# busybox rootfs with `ctr run --runc-binary ocitap-runtime`: the run is
# recorded by ocitapd with the exit code ctr returned and the wrapper's
# hooks (the environment containerd was started with reaches the runtime and
# the hooks it adds), and a notified mkdir is answered by the policy the
# wrapper's configuration names. `ocitap ps` finds the container in the
# runc shim's root (/run/containerd/runc/NAMESPACE). containerd is stopped
# at the end.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "containerd"

BIN="$TOP/$BUILD/bin"
if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
	skip "containerd" "containerd is not installed (scripts/deps.sh check installs it)"
	done_testing
	exit 0
fi
test_init containerd
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port")
daemon_ready=http://127.0.0.1:$port/healthz
get() { curl -s "http://127.0.0.1:$port$1"; }
ns=ocitap-test-$$
C=$work/c
cx() { timeout 120 ctr --address "$C/containerd.sock" --namespace "$ns" "$@"; }
cd_pid=
test_cleanup() {
	if [[ -n $cd_pid ]]; then
		for t in $(cx task ls -q 2>/dev/null); do cx task kill -s KILL "$t" >/dev/null 2>&1; done
		sleep 0.3
		for c in $(cx container ls -q 2>/dev/null); do cx task delete -f "$c" >/dev/null 2>&1; cx container rm "$c" >/dev/null 2>&1; done
		kill "$cd_pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do kill -0 "$cd_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$cd_pid" 2>/dev/null
	fi
	pkill -9 -f "containerd-shim-runc-v2 -namespace $ns " 2>/dev/null
	grep -o " $work/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "/run/containerd/runc/$ns"
}

start_daemon
mkdir -p "$C"
cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$C/containerd.sock"
[ttrpc]
  address = "$C/containerd.sock.ttrpc"
[debug]
  address = "$C/debug.sock"
EOF
echo '{"policy": "deny"}' >"$work/runtime.json"
OCITAP_SOCKET=$sock OCITAP_STATE_DIR=$state OCITAP_RUNTIME_CONFIG=$work/runtime.json \
	containerd --config "$C/config.toml" >"$C/containerd.log" 2>&1 &
cd_pid=$!
for ((i = 0; i < 200; i++)); do cx version >/dev/null 2>&1 && break; sleep 0.1; done
if ! check "a private containerd answers" test -n "$(cx version 2>/dev/null)"; then
	tail -n 20 "$C/containerd.log" | sed 's/^/# /'
	done_testing
	exit 0
fi
make_rootfs "$work/rootfs"

cx run --rm --runc-binary "$BIN/ocitap-runtime" --rootfs "$work/rootfs" exits /bin/sh -c 'exit 5' </dev/null >/dev/null 2>"$work/err"
check "ctr run --runc-binary ocitap-runtime: exit 5" test $? -eq 5 || echo "# $(cat "$work/err")"
for ((i = 0; i < 50; i++)); do [[ $(get /v1/containers/exits | jq -r .status) == stopped ]] && break; sleep 0.1; done
j=$(get /v1/containers/exits)
check "ocitapd recorded it: stopped, exit 5, hooks createRuntime poststop (the default stages)" \
	test "$(jq -r '[.status, .exit.code, ([.timeline[] | select(.kind == "hook") | .source] | join(" "))] | join(" ")' <<<"$j")" = \
	"stopped 5 createRuntime poststop" || echo "# $j"
if jq -e 'has("manager")' <<<"$j" >/dev/null; then
	check "... started by containerd, in namespace $ns" \
		test "$(jq -r '[.manager, .namespace] | join(" ")' <<<"$j")" = "containerd $ns" || echo "# $(jq -c '{manager, namespace}' <<<"$j")"
fi

cat >"$work/spec-patch.jq" <<'EOF'
.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}
EOF
cx oci spec >"$work/spec.json" 2>/dev/null
jq --arg root "$work/rootfs" -f "$work/spec-patch.jq" "$work/spec.json" |
	jq --arg root "$work/rootfs" '.root = {path: $root} | .process.args = ["/bin/sh", "-c", "mkdir /tmp/x 2>/dev/null && exit 0; exit 4"]' \
		>"$work/notify-spec.json"
cx run --rm --runc-binary "$BIN/ocitap-runtime" --config "$work/notify-spec.json" notify </dev/null >/dev/null 2>"$work/err"
check "a spec whose profile notifies mkdir: answered EPERM by the wrapper's policy deny (exit 4)" test $? -eq 4 ||
	echo "# $(cat "$work/err")"
sleep 1.2 # counts reach the store once a second
check "... counted by ocitapd: mkdir errno:EPERM 1" \
	test "$(get /v1/containers/notify | jq -r '[.notifications[] | "\(.syscall) \(.action) \(.count)"] | join(",")')" = "mkdir errno:EPERM 1" ||
	echo "# $(get /v1/containers/notify)"

cx run -d --runc-binary "$BIN/ocitap-runtime" --rootfs "$work/rootfs" sleeper /bin/sleep 30 </dev/null >/dev/null 2>&1
for ((i = 0; i < 50; i++)); do [[ $(get /v1/containers/sleeper | jq -r .status) == running ]] && break; sleep 0.1; done
out=$("$BIN/ocitap" ps --json --http "127.0.0.1:$port" --state-dir "$state" --runc-root "/run/containerd/runc/$ns" 2>/dev/null)
check "ocitap ps sees it running in the shim's runc root" \
	test "$(jq -r '[.containers[] | select(.id == "sleeper") | .runtimeStatus] | join(",")' <<<"$out")" = running || echo "# $out"
cx task kill -s KILL sleeper >/dev/null 2>&1
for ((i = 0; i < 50; i++)); do [[ $(get /v1/containers/sleeper | jq -r .status) == stopped ]] && break; sleep 0.1; done
check "... killed: stopped by SIGKILL" test "$(get /v1/containers/sleeper | jq -r '.exit.signal')" = 9 ||
	echo "# $(get /v1/containers/sleeper | jq -c .exit)"
test_cleanup
cd_pid=
check "containerd stopped, no shim left" test -z "$(pgrep -f "containerd-shim-runc-v2 -namespace $ns ")"
done_testing
