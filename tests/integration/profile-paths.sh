#!/usr/bin/env bash
# profile-paths.sh: where the io.containers.trace-syscall annotation may make
# ocitapd (root) write and read, with real runc containers whose program is
# build/tests/bpf-prog (issue 16, item 4: each case below was an attack on
# runc). Refused: an absolute path outside --profile-dir and the
# --profile-allow prefixes (/etc), an existing file ocitap did not write, a
# path inside the container's rootfs (a symbolic link the container planted
# there to a host directory), a symbolic link in an allowed directory, a
# directory other users may write, an if: outside the allowed places (a
# root-only file). Written: a relative of: name under --profile-dir
# (directories made), an absolute one under an allowed prefix, again over
# its own file; the profile no more readable than its if:. Every container
# runs normally; refusals are logged once, counted, and told by the profile
# endpoint.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "profile-paths"

BIN="$TOP/$BUILD/bin" PROG="$TOP/$BUILD/tests/bpf-prog"
test_init profile-paths
http="unix:$work/http.sock"
profiles=$work/profiles allowed=$work/allowed bundles=$work/bundles outside=$work/outside
mkdir -p "$allowed" "$bundles" "$outside" "$work/secret"
chmod 0755 "$allowed" "$bundles"
daemon_args=(--http "$http" --keeper off --log-level debug --profile-dir "$profiles"
	--profile-allow "$allowed" --profile-allow "$bundles")
get() { curl -s --unix-socket "$work/http.sock" "http://x$1"; }
jqe() { jq -e "$@" >/dev/null; }

# bundle ID ARGS-JSON ANNOTATION: a rootfs with bpf-prog only, under $bundles
# (an allowed prefix: only the rootfs rule keeps a profile out of it)
bundle() {
	local b="$bundles/b-$1"
	mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/sys" "$b/rootfs/tmp"
	cp "$PROG" "$b/rootfs/bin/prog"
	(cd "$b" && runc spec)
	jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" --argjson args "$2" --arg a "$3" '
	  def hook($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
	  .process.terminal = false | .root.readonly = false | .process.args = $args
	| .hooks = {createRuntime: [hook("createRuntime")], poststop: [hook("poststop")]}
	| .annotations = {"io.containers.trace-syscall": $a}' "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	echo "$b"
}
run() { # ID ANNOTATION: runs bpf-prog exit3 traced; rc
	local b
	b=$(bundle "$1" '["/bin/prog", "exit3"]' "$2")
	out=$(timeout 60 runc --root "$work/runc" run --bundle "$b" "$1" </dev/null 2>&1)
	rc=$?
}
wait_q() { # SQL EXPECTED: until the store answers it (5 s)
	local i
	for ((i = 0; i < 50; i++)); do [[ $(q "$1") == "$2" ]] && return 0; sleep 0.1; done
	return 1
}
wait_log() { # PATTERN: until the log has it (10 s)
	local i
	for ((i = 0; i < 100; i++)); do grep -q -- "$1" "$log" && return 0; sleep 0.1; done
	return 1
}
stopped() { wait_q "select phase from containers where id='$1'" stopped; }

start_daemon
h=$(get /healthz)
if ! jq -e .bpf <<<"$h" >/dev/null 2>&1; then
	not_ok "ocitapd answers /healthz with its BPF state: got '${h:0:200}'"
	tail -n 20 "$log" | sed 's/^/# /'
	done_testing
	exit 0
fi
if [[ $(jq -r .bpf.enabled <<<"$h") != true ]]; then
	skip_rest "profile-paths" "BPF is off on this machine: $(jq -r .bpf.reason <<<"$h")"
fi
check "the profile directory is not made before it is needed" test ! -e "$profiles"

# 1. of:/etc/...: outside every allowed place
attack=/etc/ocitap-attack-$$.json
run etc "of:$attack"
check "of:/etc/...: the container runs (exit 3)" test "$rc" -eq 3 || echo "# $out"
check "of:/etc/...: refused, and the log says why" \
	grep -q "container etc: io.containers.trace-syscall: of: $attack is outside the profile directory ($profiles) and every --profile-allow prefix: refused" "$log"
stopped etc
sleep 0.5
check "of:/etc/...: nothing written in /etc" test ! -e "$attack"
j=$(get /v1/containers/etc)
check "of:/etc/...: the refusal is on the run: profile refused, its path, and why" \
	test "$(jq -r '.profile | [.status, .path, (.error | startswith("of: '"$attack"' is outside the profile directory"))] | join(" ")' <<<"$j")" = "refused $attack true" ||
	echo "# $(jq -c .profile <<<"$j")"
"$BIN/ocitap" inspect etc --http "unix:$work/http.sock" --state-dir "$state" --runc-root "$work/runc" >"$work/etc.txt" 2>&1
check "of:/etc/...: ocitap inspect says the profile was refused, and why" \
	grep -q "profile  *refused $attack: of: $attack is outside the profile directory" "$work/etc.txt"

# 2. an existing file that is not a profile ocitap wrote: left alone
echo "precious, not a profile" >"$allowed/keep.json"
run keep "of:$allowed/keep.json"
check "existing file: the container runs (exit 3)" test "$rc" -eq 3
stopped keep
wait_log "container keep: no seccomp profile written"
check "existing file: not replaced, and the log says why" \
	grep -q "container keep: no seccomp profile written to $allowed/keep.json: cannot write it: $allowed/keep.json exists and was not written by ocitap (no \"x-ocitap\" key): not replaced" "$log"
check "existing file: its content is untouched" test "$(cat "$allowed/keep.json")" = "precious, not a profile"
check "existing file: refused at the stop, and the run says so" \
	test "$(get /v1/containers/keep | jq -r '.profile | [.status, .path, (.error | contains("not written by ocitap"))] | join(" ")')" = "refused $allowed/keep.json true"

# 3. a symbolic link the container planted in its rootfs, to a host directory
b=$(bundle sym '["/bin/prog", "exit3"]' "of:$bundles/b-sym/rootfs/tmp/p/x.json")
ln -s "$outside" "$b/rootfs/tmp/p"
out=$(timeout 60 runc --root "$work/runc" run --bundle "$b" sym </dev/null 2>&1)
rc=$?
check "rootfs symlink: the container runs (exit 3)" test "$rc" -eq 3
check "rootfs symlink: refused as inside the container's rootfs (though under an allowed prefix)" \
	grep -q "container sym: io.containers.trace-syscall: of: $bundles/b-sym/rootfs/tmp/p/x.json is inside the container's rootfs" "$log"
stopped sym
sleep 0.5
check "rootfs symlink: nothing written at the link's target" test -z "$(ls -A "$outside")"

# 4. a symbolic link in an allowed directory: on the way, or as the file
ln -s "$outside" "$allowed/p"
ln -s "$outside/y.json" "$allowed/l.json"
run link-dir "of:$allowed/p/x.json"
check "link on the way: the container runs (exit 3)" test "$rc" -eq 3
run link-file "of:$allowed/l.json"
check "link as the file: the container runs (exit 3)" test "$rc" -eq 3
stopped link-dir
stopped link-file
wait_log "container link-file: no seccomp profile written"
check "link on the way: refused" grep -q "container link-dir: no seccomp profile written to $allowed/p/x.json: cannot write it: $allowed/p is a symbolic link: refused" "$log"
check "link as the file: refused" grep -q "container link-file: no seccomp profile written to $allowed/l.json: cannot write it: $allowed/l.json is a symbolic link: refused" "$log"
check "links: nothing written at their targets" test -z "$(ls -A "$outside")"

# 5. a directory other users may write
mkdir "$allowed/ww" && chmod 0777 "$allowed/ww"
run ww "of:$allowed/ww/x.json"
check "world-writable directory: the container runs (exit 3)" test "$rc" -eq 3
stopped ww
wait_log "container ww: no seccomp profile written"
check "world-writable directory: refused" grep -q "container ww: .*$allowed/ww is writable by other users: refused" "$log"
check "world-writable directory: nothing written" test ! -e "$allowed/ww/x.json"

# 6. if: a root-only file outside the allowed places, into a readable output
cat >"$work/secret/in.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["sysinfo"], "action": "SCMP_ACT_ALLOW"}]}
JSON
chmod 0600 "$work/secret/in.json"
run secret "if:$work/secret/in.json;of:leak.json"
check "if: outside: the container runs (exit 3)" test "$rc" -eq 3
check "if: outside: refused" grep -q "container secret: io.containers.trace-syscall: if: $work/secret/in.json is outside the profile directory" "$log"
run shadow "if:/etc/shadow;of:leak2.json"
check "if:/etc/shadow: refused" grep -q "container shadow: io.containers.trace-syscall: if: /etc/shadow is outside" "$log"
stopped secret
stopped shadow
sleep 0.5
check "if: outside: nothing written" bash -c "[ ! -e '$profiles/leak.json' ] && [ ! -e '$profiles/leak2.json' ]"

# 7. a relative name lands in --profile-dir (made, with a subdirectory)
run rel "of:name.json"
check "of:name.json: the container runs (exit 3)" test "$rc" -eq 3
run rel-sub "of:team/sub.json"
wait_for "$profiles/name.json" 30
wait_for "$profiles/team/sub.json" 30
check "of:name.json: written in --profile-dir, with the x-ocitap key" \
	jqe '.defaultAction == "SCMP_ACT_ERRNO" and .["x-ocitap"].writer == "ocitap"' "$profiles/name.json"
check "of:team/sub.json: written in a subdirectory made for it" jqe '.syscalls[0].names | index("write")' "$profiles/team/sub.json"
check "of:name.json: the run says written, and where" \
	test "$(get /v1/containers/rel | jq -r '.profile | [.status, .path, (.error | tostring)] | join(" ")')" = "written $profiles/name.json null"
check "/runs shows the profile of each run too" test "$(get /v1/containers/rel-sub/runs | jq -r '.runs[0].profile.status')" = written
check "the profile directory: root's, 0755" test "$(stat -c '%U %a' "$profiles")" = "root 755"

# 8. an allowed prefix works, and ocitap's own file is replaced on the next run
run ok "of:$allowed/ok.json"
check "allowed prefix: the container runs (exit 3)" test "$rc" -eq 3
wait_for "$allowed/ok.json" 30
check "allowed prefix: written" jqe '.["x-ocitap"]' "$allowed/ok.json"
run ok2 "of:$allowed/ok.json"
stopped ok2
wait_log "container ok2: seccomp profile written to $allowed/ok.json"
check "allowed prefix: ocitap's own file replaced by the next container" \
	grep -q "container ok2: seccomp profile written to $allowed/ok.json" "$log"
check "no temporary file left behind" bash -c "! ls -A '$allowed' '$profiles' | grep -q '^\.ocitap-'"

# 9. if: under an allowed prefix, root-only: merged, and the output no more readable
cp "$work/secret/in.json" "$allowed/in.json" && chmod 0600 "$allowed/in.json"
run merged "if:$allowed/in.json;of:merged.json"
wait_for "$profiles/merged.json" 30
check "if: allowed: merged (IN's sysinfo allowed)" jqe '.syscalls[0].names | index("sysinfo")' "$profiles/merged.json"
check "if: 0600: the profile is 0600 too" test "$(stat -c %a "$profiles/merged.json")" = 600

# 10. the profile endpoint says why a live container is not traced
b=$(bundle live '["/bin/prog", "sleep"]' "of:/etc/ocitap-live-$$.json")
timeout 60 runc --root "$work/runc" run --bundle "$b" live </dev/null >/dev/null 2>&1 &
runner=$!
wait_q "select to_phase from events where container_id='live' and kind='transition' and to_phase='running'" running
code=$(curl -s -o "$work/live.err" -w '%{http_code}' --unix-socket "$work/http.sock" http://x/v1/containers/live/profile)
check "GET /v1/containers/ID/profile of a refused annotation: 409, and why" \
	bash -c "[ '$code' = 409 ] && grep -q 'annotation was refused: /etc/ocitap-live-$$.json is outside' '$work/live.err'" ||
	echo "# $code $(cat "$work/live.err")"
runc --root "$work/runc" kill live KILL
wait "$runner"
stopped live

# 11. counted, said once per container
check "/metrics: refusals counted (result=\"refused\")" \
	bash -c "get() { curl -s --unix-socket '$work/http.sock' http://x/metrics; }; get | grep -q '^ocitap_profiles_total{result=\"refused\"} [1-9]'"
check "a refusal is said once per container (hooks and listener bring it again)" \
	test "$(grep -c 'container etc: io.containers.trace-syscall' "$log")" = 1
check "the daemon is still up" kill -0 "$daemon_pid"

# a traced container whose bundle's config.json is a FIFO with a writer that
# never writes: the rules read it on the loop, which must not block on it
mkdir -p "$work/fifo-b"
mkfifo "$work/fifo-b/config.json"
(exec sleep 30) >"$work/fifo-b/config.json" &
fifo_writer=$!
sleep 300 &
fifo_init=$!
r=$(printf '{"ocitapReport":1,"stage":"createRuntime","state":{"ociVersion":"1.0.2","id":"fifo","status":"creating","pid":%d,"bundle":"%s","annotations":{"io.containers.trace-syscall":"of:fifo.json"}}}' \
	"$fifo_init" "$work/fifo-b" | timeout 10 socat -t5 - UNIX-CONNECT:"$sock" 2>&1)
check "a FIFO as the bundle's config.json: the report is answered at once, nothing blocks" test "$r" = ok
r=$(printf '{"ocitapReport":1,"stage":"poststart","state":{"id":"fifo","status":"running"}}' | timeout 10 socat -t5 - UNIX-CONNECT:"$sock" 2>&1)
check "... and the next one too" test "$r" = ok
kill "$fifo_writer" "$fifo_init" 2>/dev/null
wait "$fifo_writer" "$fifo_init" 2>/dev/null
done_testing
