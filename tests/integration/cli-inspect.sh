#!/usr/bin/env bash
# cli-inspect.sh: `ocitap ps` and `ocitap inspect` on real runc and crun
# containers (their own --root), with ocitapd up and down: a container
# started without ocitap is listed too, a stopped one shows its exit code,
# a reused pid is caught (through a copy of /proc with another start time),
# and bad input (unknown id, malformed state file, unreachable daemon,
# unreadable /proc entries) gets a clear message and the documented exit.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "cli-inspect"

test_init inspect
test_cleanup() { crun_private --root "$work/crun" delete -f t-crun >/dev/null 2>&1; }
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port")
daemon_ready=http://127.0.0.1:$port/healthz
ot() { "$OCITAP" "$@" --http "127.0.0.1:$port" --state-dir "$state" --runc-root "$work/runc" --crun-root "$work/crun"; }

# bundle ID ARGS-JSON LISTENER(yes|no)
bundle() {
	local b="$work/b-$1"
	mkdir -p "$b"
	[[ -d $work/rootfs ]] || make_rootfs "$work/rootfs"
	cp -a "$work/rootfs" "$b/rootfs"
	(cd "$b" && runc spec)
	jq --arg sock "$sock" --argjson args "$2" --arg listen "$3" '
	  .process.terminal = false | .root.readonly = false | .process.args = $args
	| .linux.cgroupsPath = ""
	| .annotations = {"org.ocitap.test": "cli-inspect"}
	| if $listen == "yes" then .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock,
	    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]} else . end' \
		"$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	echo "$b"
}
wait_status() { # ID STATUS: until the store says so (5 s)
	for ((i = 0; i < 50; i++)); do
		[[ $(q "select phase from containers where id='$1'") == "$2" ]] && return 0
		sleep 0.1
	done
	return 1
}

start_daemon
runc --root "$work/runc" run -d --bundle "$(bundle t-runc '["sh","-c","mkdir /tmp/a; exec sleep 300"]' yes)" t-runc \
	</dev/null >/dev/null 2>&1
crun_private --root "$work/crun" --cgroup-manager=disabled run -d \
	--bundle "$(bundle t-crun '["sh","-c","mkdir /tmp/a; exec sleep 300"]' yes)" t-crun </dev/null >/dev/null 2>&1
# started without ocitap: no listener, no hooks
runc --root "$work/runc" run -d --bundle "$(bundle u-runc '["sleep","300"]' no)" u-runc </dev/null >/dev/null 2>&1
# runs, exits 3, and `runc run` deletes it: only ocitap remembers
timeout 60 runc --root "$work/runc" run --bundle "$(bundle x-exit '["sh","-c","mkdir /tmp/b; exit 3"]' yes)" x-exit \
	</dev/null >/dev/null 2>&1
wait_status t-runc running
wait_status t-crun running
wait_status x-exit stopped
# notification counts reach the store once a second
for ((i = 0; i < 50; i++)); do
	[[ $(q "select count(*) from notifications where container_id='t-runc'") -ge 1 ]] && break
	sleep 0.1
done

ot ps --json >"$work/ps.json" 2>"$work/ps.err"
row() { jq -c --arg id "$1" '.containers[] | select(.id == $id)' "$work/ps.json"; }
check "ps: a runc container seen by ocitap: running, runc, tracked, 1 notify fd" \
	[ "$(row t-runc | jq -r '[.status, .runtime, .tracked, .notifyFds, .lastEvent.kind] | join(" ")')" = "running runc true 1 transition" ]
check "ps: a crun container (its own --root): running, crun, tracked" \
	[ "$(row t-crun | jq -r '[.status, .runtime, .tracked] | join(" ")')" = "running crun true" ]
check "ps: a container started without ocitap is listed, marked untracked" \
	[ "$(row u-runc | jq -r '[.status, .runtime, .tracked, .ocitapStatus] | join(" ")')" = "running runc false " ]
check "ps: a stopped container is left out without --all" [ -z "$(row x-exit)" ]
ot ps --json --all >"$work/ps.json"
check "ps --all: it is there, stopped, with its exit code" \
	[ "$(row x-exit | jq -r '[.status, .tracked, .exit.code] | join(" ")')" = "stopped true 3" ]
check "ps --json: each source says how it answered" \
	[ "$(jq -r '.sources | map(.from | split(" ")[0]) | join(",")' "$work/ps.json")" = "ocitapd,runc,crun" ]
COLUMNS=200 ot ps >"$work/ps.txt"
check "ps: a table, the untracked container says so" \
	bash -c 'head -1 "$1" | grep -q "^ID  *NAME  *STATUS  *PID  *AGE  *RUNTIME  *FDS  *LAST EVENT" &&
		grep -q "^u-runc .*not seen by ocitap" "$1" && ! grep -q $'"'"'\e'"'"' "$1"' _ "$work/ps.txt"

if command -v script >/dev/null; then
	tty_ps() { script -qec "$1 $OCITAP ps --http 127.0.0.1:$port --runc-root $work/runc --crun-root $work/crun" /dev/null; }
	tty_ps "COLUMNS=60" >"$work/tty.txt"
	check "ps on a terminal: colour, and no line wider than COLUMNS (LAST EVENT cut)" \
		bash -c 'grep -q $'"'"'\e\['"'"' "$1" && [ "$(sed "s/\x1b\[[0-9;]*m//g; s/\r//" "$1" |
			awk "{ if (length > m) m = length } END { print m }")" -le 60 ] && grep -q "~" "$1"' _ "$work/tty.txt"
	tty_ps "NO_COLOR=1 COLUMNS=200" >"$work/tty2.txt"
	check "ps on a terminal with NO_COLOR: no colour" bash -c '! grep -q $'"'"'\e'"'"' "$1" && grep -q "^u-runc" "$1"' _ "$work/tty2.txt"
else
	skip "ps on a terminal" "script(1) is not installed (bsdutils)"
fi

pid=$(runc --root "$work/runc" state t-runc | jq .pid)
ot inspect t-runc --json >"$work/i.json" 2>"$work/i.err"
check "inspect: sources named (runc state, ocitapd)" \
	[ "$(jq -r '[.sources.runtime, (.sources.ocitap | split(" ")[0])] | join(",")' "$work/i.json")" = "runc state,ocitapd" ]
check "inspect: the pid is checked against runc's recorded start time" \
	[ "$(jq -r '.pidCheck.result' "$work/i.json")" = verified ]
check "inspect: namespaces are the process's (inode of /proc/PID/ns/mnt)" \
	[ "$(jq -r '.process.namespaces.mnt.inode' "$work/i.json")" = "$(stat -L -c %i "/proc/$pid/ns/mnt")" ]
check "inspect: capabilities decoded (runc's default set has CAP_KILL, not CAP_SYS_ADMIN)" \
	[ "$(jq -r '.process.capabilities.effective | (index("CAP_KILL") != null) and (index("CAP_SYS_ADMIN") == null)' "$work/i.json")" = true ]
check "inspect: seccomp filter mode with at least one filter, and the command line" \
	[ "$(jq -r '[.process.seccomp, (.process.seccompFilters >= 1), .process.cmdline[0]] | join(" ")' "$work/i.json")" = "filter true sleep" ]
check "inspect: the timeline and the notification counts ocitap recorded" \
	[ "$(jq -r '[(.record.timeline | length > 0), (.record.notifications | map(select(.syscall | startswith("mkdir"))) | length > 0)] | join(" ")' "$work/i.json")" = "true true" ]
check "inspect: the bundle's config.json" \
	[ "$(jq -r '.bundle.seccomp.listenerPath' "$work/i.json")" = "$sock" ]
ot inspect t-crun --json >"$work/ic.json"
check "inspect: a crun container, pid verified against crun's status file" \
	[ "$(jq -r '[.runtime.name, .pidCheck.result] | join(" ")' "$work/ic.json")" = "crun verified" ]
ot inspect t-runc >"$work/i.txt"
check "inspect: for people: status, pid check, capabilities" \
	bash -c 'grep -q "^container t-runc  running (runc)" "$1" && grep -q "pid check   verified" "$1" && grep -q "effective .*CAP_KILL" "$1"' _ "$work/i.txt"
ot inspect x-exit >"$work/x.txt"
check "inspect: a stopped container shows its exit code" grep -q "exit  *code 3" "$work/x.txt"
check "... and --json has it" [ "$(ot inspect x-exit --json | jq -r .record.exit.code)" = 3 ]

# a reused pid: the same pid, another start time (a copy of /proc)
mkdir -p "$work/proc/$pid"
awk '{ $22 = $22 + 1000; print }' "/proc/$pid/stat" >"$work/proc/$pid/stat"
ot inspect t-runc --json --proc-root "$work/proc" >"$work/r.json"
check "inspect: a reused pid is detected and its process not shown" \
	[ "$(jq -r '[.pidCheck.result, .process] | join(" ")' "$work/r.json")" = "reused " ]
ot inspect t-runc --proc-root "$work/proc" | grep "pid check   reused: pid $pid now belongs to another process" >/dev/null
check "... and said so" [ $? -eq 0 ]
# unreadable /proc entries: only stat is there
awk '{ print }' "/proc/$pid/stat" >"$work/proc/$pid/stat"
ot inspect t-runc --json --proc-root "$work/proc" >"$work/u.json"
check "inspect: unreadable /proc entries are named, the rest still shown" \
	[ "$(jq -r '[.pidCheck.result, (.process.unreadable | has("status") and has("cmdline")), .process.comm] | join(" ")' "$work/u.json")" = "verified true sleep" ]

# the daemon down: its store, read-only
stop_daemon
ot ps --json >"$work/ps2.json" 2>"$work/ps2.err"
check "daemon down: ps still has ocitap's record, from the store" \
	[ "$(jq -r '[(.containers[] | select(.id == "t-runc") | .tracked), (.sources[0].from | startswith("the store"))] | join(" ")' "$work/ps2.json")" = "true true" ]
ot inspect t-runc --json >"$work/i2.json" 2>/dev/null
check "daemon down: inspect reads the store, the timeline is there" \
	[ "$(jq -r '[(.sources.ocitap | startswith("the store")), (.record.timeline | length > 0), .pidCheck.result] | join(" ")' "$work/i2.json")" = "true true verified" ]
ot inspect t-runc 2>"$work/i2.err" >/dev/null
check "... and says where it read" grep -q "read the store in $state" "$work/i2.err"

# bad input
ot inspect no-such-container >/dev/null 2>"$work/nf.err"
rc=$?
check "inspect of an unknown id: exit 3, names the id and where it looked" \
	bash -c '[ "$1" -eq 3 ] && grep -q "no container .no-such-container." "$2" && grep -q "$3" "$2"' _ "$rc" "$work/nf.err" "$work/runc"
check "... --json: the error as JSON, exitCode 3" \
	[ "$(ot inspect no-such-container --json 2>/dev/null | jq -r .exitCode)" = 3 ]
mkdir -p "$work/runc/broken" && echo '{"init_process_pid": tru' >"$work/runc/broken/state.json"
ot ps --all --json >"$work/ps3.json" 2>/dev/null
check "ps: a malformed runc state file is listed as unknown, with the reason" \
	[ "$(jq -r '.containers[] | select(.id == "broken") | [.status, (.error | test("state.json.*invalid JSON"))] | join(" ")' "$work/ps3.json")" = "unknown true" ]
ot inspect broken >/dev/null 2>"$work/b.err"
rc=$?
check "inspect of it: exit 1, names the file and the problem" \
	bash -c '[ "$1" -eq 1 ] && grep -q "broken/state.json.*invalid JSON" "$2"' _ "$rc" "$work/b.err"
"$OCITAP" inspect u-runc --json --http 127.0.0.1:1 --state-dir "$work/nowhere" --runc-root "$work/runc" \
	>"$work/nd.json" 2>/dev/null
rc=$?
check "daemon unreachable and no store: inspect still shows what runc and /proc say" \
	[ "$rc" -eq 0 -a "$(jq -r '[.sources.ocitap, (.sources.ocitapError | test("nowhere")), .pidCheck.result] | join(" ")' "$work/nd.json")" = " true verified" ]
OCITAP_RUNC=/nonexistent/runc ot ps --json >"$work/nb.json" 2>/dev/null
check "runc binary absent: its state directory answers (status derived)" \
	[ "$(jq -r '[(.containers[] | select(.id == "u-runc") | .status), (.sources[1].from | contains("not installed"))] | join(" ")' "$work/nb.json")" = "running true" ]
"$OCITAP" ps --http 127.0.0.1:1 --state-dir "$work/nowhere" --runc-root "$work/nowhere" --crun-root "$work/nowhere" \
	--json >"$work/none.json" 2>/dev/null
rc=$?
check "ps with no source at all: exit 1, JSON error" [ "$rc" -eq 1 -a "$(jq -r .exitCode "$work/none.json")" = 1 ]
check "ps --help, inspect --help" bash -c '"$1" ps --help | grep -q -- --runc-root && "$1" inspect --help | grep -q "Exit status"' _ "$OCITAP"

done_testing
