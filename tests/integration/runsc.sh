#!/usr/bin/env bash
# runsc.sh: gVisor through ocitap-runtime (issue 18). runsc (Debian's
# package, `--network=none --ignore-cgroups` from the wrapper's
# runtimeArgs) runs a busybox bundle; the run is recorded by ocitapd with
# runsc's exit code and the hooks runsc runs (createRuntime and poststart:
# `runsc run` runs no poststop here, and runsc has no seccomp listener).
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "runsc"

BIN="$TOP/$BUILD/bin"
if ! command -v runsc >/dev/null; then
	skip "runsc" "runsc is not installed (scripts/deps.sh check installs it)"
	done_testing
	exit 0
fi
test_init runsc
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port")
daemon_ready=http://127.0.0.1:$port/healthz
get() { curl -s "http://127.0.0.1:$port$1"; }
test_cleanup() {
	for id in $(runsc --root "$work/runsc" list -quiet 2>/dev/null); do runsc --root "$work/runsc" delete -force "$id" >/dev/null 2>&1; done
}
start_daemon
b=$work/b
mkdir -p "$b"
make_rootfs "$b/rootfs"
(cd "$b" && runc spec)
jq '.process.terminal = false | .process.args = ["sh", "-c", "exit 6"]' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
# runsc: poststart named, as ocitap-runtime(8) says (BPF sees nothing inside the sandbox, and runsc runs no poststop)
echo '{"runtime": "runsc", "runtimeArgs": ["--network=none", "--ignore-cgroups"], "stages": ["createRuntime", "poststart", "poststop"]}' >"$work/runtime.json"
OCITAP_RUNTIME_CONFIG=$work/runtime.json OCITAP_SOCKET=$sock OCITAP_STATE_DIR=$state \
	timeout 120 "$BIN/ocitap-runtime" --root "$work/runsc" run --bundle "$b" gvisor </dev/null >/dev/null 2>"$work/err"
rc=$?
check "runsc run through ocitap-runtime: exit 6" test $rc -eq 6 || echo "# $(head -c 600 "$work/err")"
for ((i = 0; i < 50; i++)); do [[ $(get /v1/containers/gvisor | jq -r .status) == stopped ]] && break; sleep 0.1; done
j=$(get /v1/containers/gvisor)
check "ocitapd recorded the sandbox: stopped, exit 6" test "$(jq -r '[.status, .exit.code] | join(" ")' <<<"$j")" = "stopped 6" ||
	echo "# $j"
check "... with the hooks runsc ran: createRuntime, poststart" \
	test "$(jq -r '[.timeline[] | select(.kind == "hook") | .source] | join(" ")' <<<"$j")" = "createRuntime poststart" || echo "# $j"
check "... and the wrapper added its hooks to the bundle" \
	test "$(jq -r '[.hooks | keys[]] | join(" ")' "$b/config.json")" = "createRuntime poststart poststop"

# ocitap ps and inspect read runsc's state files (SANDBOX_sandbox:ID.state), in any root
rm -rf "$b/config.json" && (cd "$b" && runc spec) &&
	jq '.process.terminal = false | .process.args = ["sleep", "30"]' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
OCITAP_RUNTIME_CONFIG=$work/runtime.json OCITAP_SOCKET=$sock OCITAP_STATE_DIR=$state \
	timeout 60 "$BIN/ocitap-runtime" --root "$work/runsc" create --bundle "$b" sandbox2 </dev/null >/dev/null 2>&1
out=$("$BIN/ocitap" ps --json --http "127.0.0.1:$port" --state-dir "$state" --runc-root "$work/runsc" 2>/dev/null)
check "ocitap ps lists the created sandbox from runsc's state file (runtime runsc, created)" \
	test "$(jq -r '[.containers[] | select(.id == "sandbox2") | .runtime, .runtimeStatus] | join(" ")' <<<"$out")" = "runsc created" ||
	echo "# $out"
out=$("$BIN/ocitap" inspect --json sandbox2 --http "127.0.0.1:$port" --state-dir "$state" --runc-root "$work/runsc" 2>&1)
check "ocitap inspect finds it there too: runtime runsc, its bundle" \
	test "$(jq -r '[.runtime.name, .bundle.path] | join(" ")' <<<"$out")" = "runsc $b" || echo "# $(head -c 600 <<<"$out")"
runsc --root "$work/runsc" delete -force sandbox2 >/dev/null 2>&1
done_testing
