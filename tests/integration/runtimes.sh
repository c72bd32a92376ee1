#!/usr/bin/env bash
# runtimes.sh: real busybox containers under runc and crun, with a capturing
# hook on all six stages and a seccomp listenerPath served by the test
# receiver (built on lib/scm). Checks that the core parses everything both
# runtimes send, and that the notify fd it hands out really works: mkdir in
# the container is answered by the receiver with EXDEV.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "runtimes"

test_init it
receiver_pid=
test_cleanup() {
	[[ -n $receiver_pid ]] && kill "$receiver_pid" 2>/dev/null && wait "$receiver_pid" 2>/dev/null
	runc --root "$work/runc-root" delete -f it-runc >/dev/null 2>&1
}

hook="$TOP/tests/integration/capture-hook"
stages=(prestart createRuntime createContainer startContainer poststart poststop)

run_one() {
	local rt=$1 id="it-$1" bundle="$work/$1" out="$work/$1-out" sock="$work/$1.sock"
	mkdir -p "$bundle" "$out"
	make_rootfs "$bundle/rootfs" || { not_ok "$rt: busybox rootfs"; return; }
	mkdir -p "$bundle/rootfs/cap"
	cp "$hook" "$bundle/rootfs/capture-hook"
	(cd "$bundle" && runc spec) || { not_ok "$rt: runc spec"; return; }

	# createContainer: path resolved on the host, runs before pivot_root (rootfs still at $bundle/rootfs);
	# startContainer: path and run inside the container.
	jq --arg hook "$hook" --arg out "$out" --arg inroot "$bundle/rootfs/cap" --arg sock "$sock" '
	  .process.terminal = false
	| .root.readonly = false
	| .process.args = ["sh", "-c", "mkdir /tmp/x 2>&1; echo mkdir-status=$?"]
	| .annotations = {"org.ocitap.test": "runtimes", "org.ocitap.runtime": "'"$rt"'"}
	| .hooks = {
	    prestart:        [{path: $hook, args: ["capture-hook", "prestart", $out]}],
	    createRuntime:   [{path: $hook, args: ["capture-hook", "createRuntime", $out]}],
	    createContainer: [{path: $hook, args: ["capture-hook", "createContainer", $out, $inroot]}],
	    startContainer:  [{path: "/capture-hook", args: ["capture-hook", "startContainer", "/cap"]}],
	    poststart:       [{path: $hook, args: ["capture-hook", "poststart", $out]}],
	    poststop:        [{path: $hook, args: ["capture-hook", "poststop", $out]}]
	  }
	| .linux.seccomp = {
	    defaultAction: "SCMP_ACT_ALLOW",
	    listenerPath: $sock,
	    listenerMetadata: "policy=audit",
	    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]
	  }' "$bundle/config.json" >"$bundle/config.new" && mv "$bundle/config.new" "$bundle/config.json"

	"$RECEIVER" --socket "$sock" --out "$out" --errno 18 --count 1 2>"$out/receiver.err" &
	receiver_pid=$!
	wait_for "$out/ready" || { not_ok "$rt: test receiver did not start"; return; }

	local output rc
	if [[ $rt == runc ]]; then
		output=$(timeout 60 runc --root "$work/runc-root" run --bundle "$bundle" "$id" </dev/null 2>&1)
	else
		output=$(crun_private --root "$work/crun-root" --cgroup-manager=disabled run --bundle "$bundle" "$id" </dev/null 2>&1)
	fi
	rc=$?
	check "$rt: container ran and exited 0" [ "$rc" -eq 0 ]
	[[ $rc -eq 0 ]] || echo "# $rt output: $output"
	[[ -f "$bundle/rootfs/cap/startContainer.json" ]] && cp "$bundle/rootfs/cap/startContainer.json" "$out/"
	[[ -f "$bundle/rootfs/cap/createContainer.json" ]] && cp "$bundle/rootfs/cap/createContainer.json" "$out/"

	# the receiver answered mkdir with EXDEV through the fd lib/scm handed it
	check "$rt: notified mkdir answered with EXDEV by the receiver" grep -q "Invalid cross-device link" <<<"$output"
	check "$rt: mkdir failed in the container" grep -q "mkdir-status=1" <<<"$output"
	check "$rt: receiver logged the mkdir notification" grep -Eq "syscall=mkdir(at)? answer=errno" "$out/notifications.log"
	kill "$receiver_pid" 2>/dev/null
	wait "$receiver_pid" 2>/dev/null
	receiver_pid=

	# the listener message: parsed by lib/scm, written back normalized
	local ls="$out/listener-0.json"
	check "$rt: listener message received and parsed" test -s "$ls"
	check "$rt: listener message validates strictly" "$OCITAP" validate --quiet --strict --kind process-state "$ls"
	check "$rt: listener state.id is the container id" [ "$(jq -r .state.id "$ls" 2>/dev/null)" = "$id" ]
	check "$rt: listener fds names seccompFd" [ "$(jq -c .fds "$ls" 2>/dev/null)" = '["seccompFd"]' ]
	check "$rt: listener metadata carried" [ "$(jq -r .metadata "$ls" 2>/dev/null)" = "policy=audit" ]
	check "$rt: listener state.status is creating" [ "$(jq -r .state.status "$ls" 2>/dev/null)" = "creating" ]

	# every hook stage's State parses, with the right id, bundle and annotations
	local s f
	for s in "${stages[@]}"; do
		f="$out/$s.json"
		if [[ ! -s $f ]]; then
			not_ok "$rt: $s hook captured its State"
			continue
		fi
		check "$rt: $s State validates" "$OCITAP" validate --quiet --kind state "$f"
		check "$rt: $s State id" [ "$(jq -r .id "$f")" = "$id" ]
		check "$rt: $s State annotations" [ "$(jq -r '.annotations["org.ocitap.runtime"]' "$f")" = "$rt" ]
	done
	# what differs between runtimes, as recorded in DESIGN.md and tests/data
	if [[ $rt == runc ]]; then
		check "runc: poststop omits pid" [ "$(jq -r 'has("pid")' "$out/poststop.json")" = false ]
		check "runc: createRuntime status creating" [ "$(jq -r .status "$out/createRuntime.json")" = creating ]
	else
		check "crun: startContainer status starting (kept verbatim)" \
			[ "$("$OCITAP" validate --compact "$out/startContainer.json" | jq -r .status)" = starting ]
		check "crun: createRuntime status created" [ "$(jq -r .status "$out/createRuntime.json")" = created ]
	fi
	check "$rt: poststop status stopped" [ "$(jq -r .status "$out/poststop.json")" = stopped ]
}

for rt in runc crun; do
	if ! command -v $rt >/dev/null; then
		not_ok "$rt is installed (scripts/deps.sh check installs it)"
		continue
	fi
	run_one $rt
done
done_testing
