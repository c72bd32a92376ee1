#!/usr/bin/env bash
# demo.sh (make demo): a real busybox container under runc, with a hook on
# every OCI stage capturing its stdin and a seccomp listener served by a
# small agent built on libocitap; then what the runtime sent, shown through
# `ocitap validate`. Later stages of ocitap grow this into the full timeline.
set -euo pipefail
source "$(dirname "$0")/../tests/integration/common.bash"

if [[ $(id -u) -ne 0 ]]; then
	echo "make demo runs a container: run it as root" >&2
	exit 1
fi
bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
if [[ ! -t 1 || -n ${NO_COLOR:-} ]]; then bold= dim= off=; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }

work=$(mktemp -d /tmp/ocitap-demo-XXXXXX)
agent=
trap '[[ -n $agent ]] && kill $agent 2>/dev/null; runc --root "$work/runc" delete -f ocitap-demo >/dev/null 2>&1; rm -rf "$work"' EXIT
bundle=$work/bundle out=$work/out sock=$work/listener.sock hook=$TOP/tests/integration/capture-hook
mkdir -p "$bundle" "$out"

say "a busybox bundle, with a hook on every stage and a seccomp listener"
make_rootfs "$bundle/rootfs"
cp "$hook" "$bundle/rootfs/capture-hook"
(cd "$bundle" && runc spec)
jq --arg hook "$hook" --arg out "$out" --arg inroot "$bundle/rootfs/cap" --arg sock "$sock" '
  .process.terminal = false | .root.readonly = false
| .process.args = ["sh", "-c", "echo hello from the container; mkdir /tmp/made-by-demo && echo mkdir allowed by the agent"]
| .annotations = {"org.ocitap.demo": "yes"}
| .hooks = {
    prestart:        [{path: $hook, args: ["capture-hook", "prestart", $out]}],
    createRuntime:   [{path: $hook, args: ["capture-hook", "createRuntime", $out]}],
    createContainer: [{path: $hook, args: ["capture-hook", "createContainer", $out, $inroot]}],
    startContainer:  [{path: "/capture-hook", args: ["capture-hook", "startContainer", "/cap"]}],
    poststart:       [{path: $hook, args: ["capture-hook", "poststart", $out]}],
    poststop:        [{path: $hook, args: ["capture-hook", "poststop", $out]}] }
| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=audit",
    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}' \
	"$bundle/config.json" >"$bundle/config.new"
mv "$bundle/config.new" "$bundle/config.json"
"$OCITAP" validate --kind config "$bundle/config.json" | jq $([[ -t 1 && -z ${NO_COLOR:-} ]] && echo -C) '{hooks: (.hooks | map_values(length)), seccomp: .linux.seccomp}' 2>/dev/null ||
	"$OCITAP" validate --kind config "$bundle/config.json"

say "the seccomp agent (libocitap's scm) listens on $sock"
"$RECEIVER" --socket "$sock" --out "$out" --continue --count 1 2>"$out/agent.err" &
agent=$!
wait_for "$out/ready"

say "runc run"
start=$(date +%s%N)
runc --root "$work/runc" run --bundle "$bundle" ocitap-demo </dev/null
echo "${dim}(container exited after $((($(date +%s%N) - start) / 1000000)) ms)${off}"
cp "$bundle"/rootfs/cap/*.json "$out/" 2>/dev/null || true
kill $agent 2>/dev/null; wait $agent 2>/dev/null || true; agent=

say "what the seccomp agent saw"
sed 's/^/  /' "$out/notifications.log"

say "the ContainerProcessState runc sent with the seccompFd (ocitap validate --strict)"
"$OCITAP" validate --strict --kind process-state "$out/listener-0.json"

say "the State each hook stage got on stdin (ocitap validate)"
for s in prestart createRuntime createContainer startContainer poststart poststop; do
	printf '  %-16s ' "$s"
	"$OCITAP" validate --compact "$out/$s.json" 2>&1
done

say "and what ocitap refuses: a State with a negative pid"
echo '{"id":"ocitap-demo","status":"running","pid":-1}' | "$OCITAP" validate || true
echo
echo "${dim}runc 1.1.5 and crun 1.8.1 differ at every stage: docs/design/runtimes.md${off}"
