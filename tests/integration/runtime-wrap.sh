#!/usr/bin/env bash
# runtime-wrap.sh: ocitap-runtime, the runtime wrapper (issue 18 item 2).
# Against a fake runtime that records its argv: every runc command's
# arguments reach it unchanged (own --ocitap-* flags out, runtimeArgs
# first); on create and run the bundle's config.json gets ocitap's hooks
# (once, however often it is wrapped) and, where the profile notifies without
# a listener, ocitapd's socket and the configured policy; a profile that
# names its listener, and every other byte of the file, are left alone.
# What breaks wrapping (a broken config.json or runtime.json, a read-only
# bundle, no hook) leaves the container unchanged with one line on stderr
# and in the runtime's --log, or fails the command when asked to fail
# closed. Then a real runc container through the wrapper is recorded by
# ocitapd with its exit code, and its notified mkdir is answered by policy.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "runtime-wrap"

BIN="$TOP/$BUILD/bin"
W=$BIN/ocitap-runtime
test_init runtime-wrap
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port")
daemon_ready=http://127.0.0.1:$port/healthz

# the fake runtime: one argument per line, then exits 0 (or $FAKE_EXIT)
fake=$work/fake-runc
cat >"$fake" <<EOF
#!/bin/sh
for a in "\$0" "\$@"; do printf '%s\n' "\$a"; done > "$work/argv"
exit \${FAKE_EXIT:-0}
EOF
chmod +x "$fake"
cfg=$work/runtime.json
echo "{\"runtime\": \"$fake\"}" >"$cfg"
export OCITAP_RUNTIME_CONFIG=$cfg
lines() { printf '%s\n' "$@"; }

# 1. every command passes through unchanged
G=(--root /run/x --log /tmp/l.json --log-format json --systemd-cgroup)
allsame=ok
for c in "state ID" "list --format json" "start ID" "kill ID SIGTERM" "kill --all ID 9" "delete ID" \
	"delete --force ID" "exec --process /p.json --detach ID" "ps --format json ID" "events --stats ID" \
	"pause ID" "resume ID" "update --memory 1M ID" "checkpoint --image-path /i ID" "features" "spec --rootless"; do
	rm -f "$work/argv"
	# shellcheck disable=SC2086
	"$W" "${G[@]}" $c
	# shellcheck disable=SC2086
	if [[ "$(cat "$work/argv" 2>/dev/null)" != "$(lines "$fake" "${G[@]}" $c)" ]]; then
		allsame="'$c' became: $(tr '\n' ' ' <"$work/argv" 2>/dev/null)"
		break
	fi
done
check "16 runc commands reach the runtime with their arguments unchanged" test "$allsame" = ok || echo "# $allsame"
FAKE_EXIT=7 "$W" state ID
check "... and its exit status is the wrapper's (exec, no child)" test $? -eq 7
"$W" --ocitap-policy=x --root=/r --debug state ID
check "own --ocitap-* flags are taken out, --flag=value kept" \
	test "$(cat "$work/argv")" = "$(lines "$fake" --root=/r --debug state ID)"
echo "{\"runtime\": \"$fake\", \"runtimeArgs\": [\"--ignore-cgroups\", \"--network=none\"]}" >"$cfg"
"$W" --root /r list
check "runtimeArgs come first" test "$(cat "$work/argv")" = "$(lines "$fake" --ignore-cgroups --network=none --root /r list)"
"$W" --ocitap-runtime "$W" list 2>"$work/err"
check "the wrapper as its own runtime: exit 127, said" \
	test $? -eq 127 -a "$(cat "$work/err")" = "ocitap-runtime: the runtime $W is ocitap-runtime itself"

# 2. create edits the bundle
b=$work/b
mkdir -p "$b"
(cd "$b" && runc spec)
jq '.process.args = ["true"] | .x = {big: 18446744073709551615, half: 0.5, neg: -3}' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
cp "$b/config.json" "$work/orig.json"
echo "{\"runtime\": \"$fake\", \"policy\": \"deny\", \"stateDir\": \"$state\"}" >"$cfg"
OCITAP_SOCKET=$sock "$W" --root /r --log "$work/l.json" --log-format json create --bundle "$b" --pid-file /p ID
check "create: the runtime gets the arguments unchanged" \
	test "$(cat "$work/argv")" = "$(lines "$fake" --root /r --log "$work/l.json" --log-format json create --bundle "$b" --pid-file /p ID)"
check "... hooks added on the default stages, createRuntime and poststop, nothing else" \
	test "$(jq -r '.hooks | to_entries | map(.key + ":" + (.value | length | tostring)) | join(" ")' "$b/config.json")" = \
	"createRuntime:1 poststop:1"
check "... each runs ocitap-hook with its stage and carries OCITAP_SOCKET and OCITAP_STATE_DIR" \
	test "$(jq -r '.hooks.poststop[0] | [.path, (.args | join(",")), (.env | join(",")), .timeout] | join(" ")' "$b/config.json")" = \
	"$BIN/ocitap-hook ocitap-hook,poststop OCITAP_SOCKET=$sock,OCITAP_STATE_DIR=$state 5"
check "... every other byte's meaning kept (uint64, float, negative; no listener without a profile)" \
	test "$(jq -S 'del(.hooks)' "$b/config.json")" = "$(jq -S . "$work/orig.json")"
check "... and beside it only config.json.ocitap-orig, the file as it was" \
	test "$(ls "$b" | tr '\n' ' ')" = "config.json config.json.ocitap-orig " -a "$(cat "$b/config.json.ocitap-orig")" = "$(cat "$work/orig.json")"
check "... nothing logged when all went well" test ! -e "$work/l.json"
check "... the text spliced, not rewritten: every byte before the last brace as it was" \
	cmp -s -n $(($(stat -c %s "$work/orig.json") - 2)) "$work/orig.json" "$b/config.json"
# the kept file's name taken by a symbolic link or a second link: never written through
for how in -s -P; do
	v=$work/victim$how
	echo victim >"$v"
	cp "$work/orig.json" "$b/config.json"
	rm -f "$b/config.json.ocitap-orig"
	ln "$how" "$v" "$b/config.json.ocitap-orig"
	"$W" create --bundle "$b" ID 2>"$work/err"
	check "config.json.ocitap-orig made by 'ln $how': replaced, the file it named untouched" \
		test "$(cat "$v")" = victim -a ! -L "$b/config.json.ocitap-orig" -a "$(stat -c %h "$b/config.json.ocitap-orig")" = 1 -a \
		"$(jq -r '.hooks.poststop | length' "$b/config.json")" = 1 || echo "# $(cat "$work/err")"
done
"$W" create --bundle "$b" ID
check "wrapped again: no hook added twice" \
	test "$(jq -r '[.hooks[] | length] | add' "$b/config.json")" = 2

# a profile that notifies and names no listener (what Docker passes on)
jq '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir"], action: "SCMP_ACT_NOTIFY"}]}' \
	"$work/orig.json" >"$b/config.json"
(cd "$b" && OCITAP_SOCKET=$sock "$W" run ID)
check "run in the bundle's directory: listenerPath is ocitapd's socket, listenerMetadata the configured policy" \
	test "$(jq -r '.linux.seccomp | [.listenerPath, .listenerMetadata] | join(" ")' "$b/config.json")" = "$sock policy=deny"
jq '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/other.sock", syscalls: [{names: ["mkdir"], action: "SCMP_ACT_NOTIFY"}]}' \
	"$work/orig.json" >"$b/config.json"
"$W" create -b "$b" ID
check "a profile naming its own listener is left alone" \
	test "$(jq -r '.linux.seccomp | [.listenerPath, .listenerMetadata // "none"] | join(" ")' "$b/config.json")" = "/other.sock none"
jq '.linux.seccomp = {defaultAction: "SCMP_ACT_ERRNO", syscalls: [{names: ["mkdir"], action: "SCMP_ACT_ALLOW"}]}' \
	"$work/orig.json" >"$b/config.json"
"$W" create --bundle="$b" ID
check "a profile that does not notify gets no listener" \
	test "$(jq -r '.linux.seccomp.listenerPath // "none"' "$b/config.json")" = none

# 3. what breaks wrapping
echo '{"ociVersion": "1.0.2", "hooks": ' >"$b/config.json"
"$W" --log "$work/l.txt" create --bundle "$b" ID 2>"$work/err"
check "a broken config.json: the runtime still runs (exit 0), the file untouched" \
	test $? -eq 0 -a "$(tail -n 1 "$work/argv")" = ID -a "$(cat "$b/config.json")" = '{"ociVersion": "1.0.2", "hooks": '
check "... one line on stderr names the file and the problem" \
	test "$(wc -l <"$work/err")" = 1 -a -n "$(grep -F "ocitap-runtime: $b/config.json: " "$work/err" | grep 'container runs without ocitap')" ||
	echo "# $(cat "$work/err")"
check "... and the runtime's text --log has it" grep -q "level=warning msg=\"ocitap-runtime: $b/config.json" "$work/l.txt"
rm -f "$work/argv"
"$W" --ocitap-fail-closed --log "$work/l.json" --log-format json create --bundle "$b" ID 2>/dev/null
check "... fail closed: exit 1, the runtime never ran, the json --log says why" \
	test $? -eq 1 -a ! -e "$work/argv" -a "$(jq -r .level "$work/l.json")" = error
cp "$work/orig.json" "$b/config.json"
mount --bind "$b" "$b" && mount -o remount,ro,bind "$b"
"$W" create --bundle "$b" ID 2>"$work/err"
check "a read-only bundle: runs unchanged, the line says read-only" \
	test $? -eq 0 -a -e "$work/argv" -a -n "$(grep -i 'read-only' "$work/err")" || echo "# $(cat "$work/err")"
umount "$b"
echo '{"runtime": "'"$fake"'", "stages": ["prestart", "later"]}' >"$cfg"
rm -f "$work/argv"
"$W" --ocitap-runtime "$fake" create --bundle "$b" ID 2>"$work/err"
check "a broken runtime.json: the container runs unchanged, the line names the file and the key" \
	test "$(jq -r '.hooks // "none"' "$b/config.json")" = none -a -e "$work/argv" -a -n "$(grep -F "$cfg: stages: unknown stage 'later'" "$work/err")" ||
	echo "# $(cat "$work/err")"
OCITAP_RUNTIME_CONFIG=$work/none.json "$W" --ocitap-runtime "$fake" create --bundle "$b" ID 2>"$work/err"
check "a runtime.json named but missing is said, not taken for the defaults" grep -q "$work/none.json" "$work/err"
OCITAP_RUNTIME_CONFIG=$work/none.json "$W" --ocitap-fail-closed --ocitap-runtime "$fake" state ID 2>"$work/err"
check "... and with --ocitap-fail-closed every command fails" test $? -eq 1 -a -n "$(grep -F "$work/none.json" "$work/err")"
echo "{\"runtime\": \"$fake\", \"hook\": \"$work/no-hook\"}" >"$cfg"
"$W" create --bundle "$b" ID 2>"$work/err"
check "no hook where configured: unchanged, said" \
	test "$(jq -r '.hooks // "none"' "$b/config.json")" = none -a -n "$(grep -F "$work/no-hook" "$work/err")"
"$W" --help | grep 'ocitap-runtime(8)' >/dev/null # not -q: under pipefail a help cut short is SIGPIPE
check "--help" test $? -eq 0
check "--version names ocitap-runtime, then the runtime's" test "$("$W" --version | head -1)" = "ocitap-runtime $(
	"$BIN/ocitap" --version | awk '{print $NF}')"

# 4. a real runc container through the wrapper
echo "{\"runtime\": \"runc\", \"policy\": \"deny\"}" >"$cfg"
start_daemon
b=$work/real
mkdir -p "$b"
make_rootfs "$b/rootfs"
(cd "$b" && runc spec)
jq '.process.terminal = false | .root.readonly = false | .process.args = ["sh", "-c", "mkdir /tmp/d || exit 3; exit 9"]
  | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}' \
	"$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
OCITAP_SOCKET=$sock OCITAP_STATE_DIR=$state timeout 60 "$W" --root "$work/runc" run --bundle "$b" wrapped </dev/null >/dev/null 2>"$work/err"
check "runc run through the wrapper: the policy (deny) answered mkdir, exit 3" test $? -eq 3 || echo "# $(cat "$work/err")"
wait_hooks wrapped 2
get() { curl -s "http://127.0.0.1:$port$1"; }
for ((i = 0; i < 50; i++)); do [[ $(get /v1/containers/wrapped | jq -r .status) == stopped ]] && break; sleep 0.1; done
j=$(get /v1/containers/wrapped)
check "ocitapd recorded it: stopped, exit 3, hooks createRuntime poststop" \
	test "$(jq -r '[.status, .exit.code, ([.timeline[] | select(.kind == "hook") | .source] | join(" "))] | join(" ")' <<<"$j")" = \
	"stopped 3 createRuntime poststop" || echo "# $j"
# without a poststart hook, "running" comes from BPF: the exec (ocitap-hook(1), DEFAULT STAGES)
if grep -q "bpf: programs loaded" "$log"; then
	check "... and it ran: running, from BPF's exec" \
		test "$(jq -r '[.timeline[] | select(.kind == "transition" and .to == "running") | .source] | join(" ")' <<<"$j")" = bpf ||
		echo "# $j"
else
	skip "... and it ran: running, from BPF's exec" "BPF is off here"
fi
sleep 1.2 # counts reach the store once a second
check "... and counted the notified mkdir under policy deny" \
	test "$(get /v1/containers/wrapped | jq -r '[.notifications[] | select(.syscall == "mkdir") | "\(.action) \(.count)"] | join(",")')" = "errno:EPERM 1"
done_testing
