#!/usr/bin/env bash
# cli-cmds.sh: the per-command rough edges of `ocitap` (issue 20, item 6),
# with real runc containers: validate of a runc config.json gives the same
# document back and a bundle made from it runs; ps --all's EXIT column
# (exited 3, killed (SIGKILL), - for a live one) and signal names in
# inspect and events; inspect lists the annotations; permission errors of a
# user other than root say what to do; missing paths are exit 1 with one
# line; hooks explain names the file it cannot match once; profile of a
# stopped container says where its profile went (when BPF is on).
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "cli-cmds"

BIN="$TOP/$BUILD/bin"
test_init cli-cmds
port=$(free_port)
profiles=$work/profiles
daemon_args=(--http "127.0.0.1:$port" --keeper off --profile-dir "$profiles")
daemon_ready=http://127.0.0.1:$port/healthz
ot() { "$OCITAP" "$@" --http "127.0.0.1:$port" --state-dir "$state" --runc-root "$work/runc"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
long=$(printf 'v%.0s' {1..100})

# bundle ID ARGS-JSON [EXTRA-JQ]: busybox, mkdir notified to ocitapd (so that
# ocitap records it), the createRuntime and poststop hooks, two annotations
bundle() {
	local b="$work/b-$1"
	mkdir -p "$b"
	[[ -d $work/rootfs ]] || make_rootfs "$work/rootfs"
	cp -a "$work/rootfs" "$b/rootfs"
	(cd "$b" && runc spec)
	jq --arg sock "$sock" --arg state "$state" --arg bin "$BIN" --argjson args "$2" --arg long "$long" '
	  def hook($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
	  .process.terminal = false | .root.readonly = false | .process.args = $args
	| .linux.cgroupsPath = ""
	| .hooks = {createRuntime: [hook("createRuntime")], poststop: [hook("poststop")]}
	| .annotations = {"org.ocitap.test": "cli-cmds", "org.ocitap.long": $long}
	| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock,
	    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}
	| '"${3:-.}" "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	echo "$b"
}
wait_status() { # ID STATUS: until the store says so (10 s)
	for ((i = 0; i < 100; i++)); do
		[[ $(q "select phase from containers where id='$1'") == "$2" ]] && return 0
		sleep 0.1
	done
	return 1
}
# one_line STATUS WANT-STATUS FILE: exit WANT-STATUS, and exactly one line on stderr
one_line() { [ "$1" -eq "$2" ] && [ "$(wc -l <"$3")" -eq 1 ]; }
export -f one_line

# ---- validate: a config.json printed whole --------------------------------

make_rootfs "$work/v/rootfs"
(cd "$work/v" && runc spec)
"$OCITAP" validate "$work/v/config.json" >"$work/v/fixed.json"
check "validate of runc spec's config.json: exit 0" [ $? -eq 0 ]
check "... its output, read back, equals the input as JSON (env, cwd, user, capabilities, namespaces kept)" \
	python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
	"$work/v/config.json" "$work/v/fixed.json"
"$OCITAP" validate --compact "$work/v/config.json" >"$work/v/compact.json"
check "... --compact: one line, the same document" \
	bash -c '[ "$(wc -l <"$1")" -eq 1 ] && python3 -c "import json, sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))" "$1" "$2"' \
	_ "$work/v/compact.json" "$work/v/config.json"
# a bundle whose config.json is validate's output still runs, with its env and cwd
jq '.process.terminal = false | .process.args = ["sh", "-c", "echo $GREETING; pwd"] | .process.cwd = "/tmp"
  | .process.env += ["GREETING=hello-from-env"] | .linux.cgroupsPath = ""' "$work/v/config.json" >"$work/v/c.json"
"$OCITAP" validate "$work/v/c.json" >"$work/v/config.json"
out=$(timeout 60 runc --root "$work/runc" run --bundle "$work/v" v-run </dev/null 2>&1)
rc=$?
check "a bundle made from validate's output runs with runc, env and cwd intact" \
	[ "$rc" -eq 0 -a "$out" = $'hello-from-env\n/tmp' ] || echo "# rc $rc: $out"

# ---- containers -----------------------------------------------------------

start_daemon
runc --root "$work/runc" run -d --bundle "$(bundle t-run '["sh","-c","mkdir /tmp/a; exec sleep 300"]')" t-run \
	</dev/null >/dev/null 2>&1
runc --root "$work/runc" run -d --bundle "$(bundle t-kill '["sh","-c","mkdir /tmp/a; exec sleep 300"]')" t-kill \
	</dev/null >/dev/null 2>&1
timeout 60 runc --root "$work/runc" run --bundle "$(bundle t-exit '["sh","-c","mkdir /tmp/b; exit 3"]')" t-exit \
	</dev/null >/dev/null 2>&1
wait_status t-run running
wait_status t-kill running
runc --root "$work/runc" kill t-kill KILL
wait_status t-kill stopped
wait_status t-exit stopped
runc --root "$work/runc" delete t-kill >/dev/null 2>&1

COLUMNS=250 ot ps --all >"$work/ps.txt" 2>"$work/ps.err"
check "ps --all: an EXIT column after STATUS" \
	bash -c 'head -1 "$1" | grep -qE "^ID +NAME +STATUS +EXIT +PID +AGE +RUNTIME +FDS +LAST EVENT$"' _ "$work/ps.txt" ||
	head -1 "$work/ps.txt" | sed 's/^/# /'
check "... exited 3 for the container that exited 3" grep -qE '^t-exit +- +stopped +exited 3 ' "$work/ps.txt" ||
	sed 's/^/# /' "$work/ps.txt"
check "... killed (SIGKILL) for the one killed" grep -qE '^t-kill +- +stopped +killed \(SIGKILL\) ' "$work/ps.txt"
check "... - for the running one" grep -qE '^t-run +- +running +- +[0-9]+ ' "$work/ps.txt"
check "... and the stopped one's last event names the signal" \
	bash -c 'grep "^t-kill" "$1" | grep -q "SIGKILL" && ! grep -q "signal 9" "$1"' _ "$work/ps.txt"
COLUMNS=250 ot ps >"$work/ps-live.txt" 2>/dev/null
check "ps without --all: no EXIT column (every row is live)" \
	bash -c 'head -1 "$1" | grep -qE "^ID +NAME +STATUS +PID +AGE" && grep -q "^t-run" "$1"' _ "$work/ps-live.txt"

ot inspect t-kill >"$work/kill.txt" 2>&1
check "inspect: the exit says killed by SIGKILL" grep -qE '^  exit +killed by SIGKILL' "$work/kill.txt" ||
	sed 's/^/# /' "$work/kill.txt"
check "inspect: the timeline's exit row names the signal too" \
	bash -c 'grep -E "^  [0-9]+ .* exit " "$1" | grep -q "killed (SIGKILL)" && ! grep -q "signal 9" "$1"' _ "$work/kill.txt"
ot events --id t-kill >"$work/kill-events.txt"
check "events: the exit as killed (SIGKILL), not signal 9" \
	bash -c 'grep -qE " exit .*killed \(SIGKILL\)" "$1" && ! grep -q "signal 9" "$1"' _ "$work/kill-events.txt"

ot inspect t-run >"$work/run.txt" 2>&1
check "inspect: the annotations listed under the config line, key=value" \
	grep -qE '^  annotations +org\.ocitap\.(test=cli-cmds|long=)' "$work/run.txt"
check "... each on its own line" \
	[ "$(grep -cE '^  (annotations| {11}) org\.ocitap\.(test=cli-cmds$|long=)' "$work/run.txt")" -eq 2 ]
check "... a long value cut, its length said" grep -qE "org\.ocitap\.long=v{57}\.\.\. \(100 bytes\)$" "$work/run.txt" ||
	grep annot -A3 "$work/run.txt" | sed 's/^/# /'
check "... --json has it whole" [ "$(ot inspect t-run --json | jq -r '.bundle.annotations["org.ocitap.long"]')" = "$long" ]

# ---- permission errors as another user --------------------------------------

as_nobody "$OCITAP" ps --http 127.0.0.1:1 --state-dir "$state" --runc-root "$work/runc" >/dev/null 2>"$work/nobody.err"
check "not root: the store's permission error says what to do" \
	grep -q "cannot open the store $state/ocitap.db: permission denied (ocitapd keeps it root's: run as root, or ask the daemon: its HTTP API on a TCP address" "$work/nobody.err" ||
	sed 's/^/# /' "$work/nobody.err"
check "... not SQLite's 'unable to open database file'" bash -c '! grep -q "unable to open" "$1"' _ "$work/nobody.err"
check "... the runtime's state too" grep -q "(its state is root's: run as root to list its containers)" "$work/nobody.err"
as_nobody "$OCITAP" ps --state-dir "$state" --runc-root "$work/runc" --http "127.0.0.1:$port" --json >"$work/nobody.json" 2>/dev/null
check "not root, the daemon's TCP API: ps works (what the hint says)" \
	[ "$(jq -r '.containers[] | select(.id == "t-run") | .tracked' "$work/nobody.json")" = true ]
mkdir -p "$work/pub" && chmod 0755 "$work" "$work/pub"
python3 -c 'import os, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o600); s.listen(); time.sleep(30)' \
	"$work/pub/http.sock" &
listener=$!
wait_for "$work/pub/http.sock"
as_nobody "$OCITAP" events --http "unix:$work/pub/http.sock" --state-dir "$state" >/dev/null 2>"$work/nobody-unix.err"
kill "$listener" 2>/dev/null
check "not root, a unix: HTTP socket: permission denied, and what to do (not curl's 'Couldn't connect')" \
	grep -q "cannot connect to $work/pub/http.sock: permission denied (ocitapd makes its HTTP socket root's, mode 0600: run as root, or give ocitapd a TCP --http address" "$work/nobody-unix.err" ||
	sed 's/^/# /' "$work/nobody-unix.err"
mkdir -p "$work/hstate" && chmod 0777 "$work/hstate"
printf '{"ociVersion":"1.0.2","id":"n-1","status":"creating","pid":0,"bundle":"/b"}' |
	as_nobody "$BIN/ocitap-createRuntime" --socket "$sock" --state-dir "$work/hstate" 2>"$work/hook.err"
check "not root, a hook: the socket's permission error names --allow-uid for this uid" \
	grep -q "cannot connect to $sock: permission denied (.* run as root, or start ocitapd with --allow-uid 65534" "$work/hook.err" ||
	sed 's/^/# /' "$work/hook.err"
chmod 0700 "$work"

# ---- missing paths: exit 1, one line naming it ------------------------------

"$OCITAP" validate "$work/nothing.json" >/dev/null 2>"$work/e1"
check "validate of a missing file: exit 1, one line naming it" \
	bash -c 'one_line "$1" 1 "$2" && grep -q "$3" "$2"' _ $? "$work/e1" "$work/nothing.json"
"$OCITAP" hooks explain "$work/no-bundle" >/dev/null 2>"$work/e2"
check "hooks explain of a missing bundle: exit 1, one line, the path once" \
	bash -c 'one_line "$1" 1 "$2" && [ "$(grep -o "no-bundle" "$2" | wc -l)" -eq 1 ]' _ $? "$work/e2" || sed 's/^/# /' "$work/e2"
"$OCITAP" hooks explain --hooks-dir "$work/no-dir" "$work/b-t-run" >/dev/null 2>"$work/e3"
check "hooks explain --hooks-dir DIR missing: exit 1, one line (as lint)" \
	bash -c 'one_line "$1" 1 "$2" && grep -q "^ocitap: hooks explain: --hooks-dir $3: no such directory$" "$2"' _ $? "$work/e3" "$work/no-dir"
"$OCITAP" hooks lint "$work/no-dir" >/dev/null 2>"$work/e4"
check "hooks lint of a missing directory: exit 1, one line" bash -c 'one_line "$1" 1 "$2"' _ $? "$work/e4"
mkdir -p "$work/hd"
echo '{"version":"1.0.0","hook":{"path":"/bin/true"},"when":{"commands":["sh"]},"stages":["prestart"]}' >"$work/hd/cmd.json"
jq '.process.args = []' "$work/b-t-run/config.json" >"$work/hd-bundle.json" && mkdir -p "$work/b-noargs" &&
	mv "$work/hd-bundle.json" "$work/b-noargs/config.json"
"$OCITAP" hooks explain --hooks-dir "$work/hd" "$work/b-noargs" >/dev/null 2>"$work/e5"
check "hooks explain of a file it cannot match: one line naming the file and the problem" \
	bash -c 'one_line "$1" 1 "$2" && grep -q "^ocitap: hooks explain: $3/cmd.json cannot be matched against this bundle: process.args: " "$2"' \
	_ $? "$work/e5" "$work/hd" || sed 's/^/# /' "$work/e5"

# ---- profile of a stopped container (BPF) -------------------------------------

if [[ $(curl -s "$daemon_ready" | jq -r .bpf.enabled) != true ]]; then
	skip "profile of a stopped container" "BPF is off: $(curl -s "$daemon_ready" | jq -r .bpf.reason)"
else
	traced='.annotations["io.containers.trace-syscall"] = "of:p.json"'
	timeout 60 runc --root "$work/runc" run --bundle "$(bundle p-done '["sh","-c","mkdir /tmp/c; exit 0"]' "$traced")" \
		p-done </dev/null >/dev/null 2>&1
	wait_status p-done stopped
	wait_for "$profiles/p.json" 50
	for ((i = 0; i < 50; i++)); do
		[[ $(curl -s "http://127.0.0.1:$port/v1/containers/p-done" | jq -r .profile.status) == written ]] && break
		sleep 0.1
	done
	"$OCITAP" profile p-done --http "127.0.0.1:$port" >"$work/p.out" 2>"$work/p.err"
	rc=$?
	check "profile of a stopped traced container: where its profile was written (exit 1, nothing on stdout)" \
		bash -c '[ "$1" -eq 1 ] && [ ! -s "$2" ] && grep -q "container .p-done. has stopped: its profile was written to $4 when it stopped" "$3"' \
		_ "$rc" "$work/p.out" "$work/p.err" "$profiles/p.json" || sed 's/^/# /' "$work/p.err"
	"$OCITAP" profile t-exit --http "127.0.0.1:$port" >/dev/null 2>"$work/p2.err"
	rc=$?
	check "profile of a stopped container that was not traced: says so (exit 1), not 'not tracked'" \
		bash -c '[ "$1" -eq 1 ] && grep -q "has stopped and was not traced" "$2" && ! grep -q "not tracked" "$2"' _ "$rc" "$work/p2.err" ||
		sed 's/^/# /' "$work/p2.err"
	"$OCITAP" profile no-such-container --http "127.0.0.1:$port" >/dev/null 2>/dev/null
	check "profile of a container nobody knows: exit 3" [ $? -eq 3 ]
fi

done_testing
