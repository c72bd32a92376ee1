#!/usr/bin/env bash
# hooks.sh: ocitap-hook on all six stages of real runc and crun containers.
# The daemon records every stage once; with the daemon stopped the reports
# are spooled, the container starts anyway, and ocitapd replays them when it
# starts (nothing lost, nothing doubled); --fail-closed with the daemon
# stopped makes runc fail the container; a never-closing stdin is given up
# at the timeout; bad input is one line, nothing sent.
#
# startContainer runs inside the container: there the test bind-mounts the
# static hook and the socket's directory (docs/ocitap-hook.1.scd says why).
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "hooks"

BIN="$TOP/$BUILD/bin"
test_init hooks
chmod 0755 "$work"
sockdir=$work/run sock=$work/run/ocitap.sock
mkdir -p "$sockdir"
daemon_args=(--http off)
stages=(prestart createRuntime createContainer startContainer poststart poststop)

# bundle ID [HOOK-ARGS-JSON [auto]]: busybox; every stage -> ocitap-<stage> --socket ... --state-dir ...
# (auto: every stage -> ocitap-hook with no stage named, as from an oci-hooks(5) file)
bundle() {
	local b="$work/b-$1" extra=${2:-[]} auto=${3:-}
	mkdir -p "$b"
	[[ -d $work/rootfs ]] || make_rootfs "$work/rootfs"
	cp -a "$work/rootfs" "$b/rootfs"
	(cd "$b" && runc spec)
	jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" --arg sockdir "$sockdir" --argjson extra "$extra" \
		--arg auto "$auto" '
	  def name($s): if $auto == "" then "ocitap-" + $s else "ocitap-hook" end;
	  def hook($s): {path: ($bin + "/" + name($s)), args: ([name($s), "--socket", $sock, "--state-dir", $state] + $extra)};
	  .process.terminal = false | .root.readonly = false | .process.args = ["sh", "-c", "sleep 0.3; exit 6"]
	| .annotations = {"org.ocitap.test": "hooks"}
	| .mounts += [{destination: "/ocitap", type: "bind", source: $bin, options: ["rbind", "ro"]},
	              {destination: $sockdir, type: "bind", source: $sockdir, options: ["rbind"]}]
	| .hooks = {prestart: [hook("prestart")], createRuntime: [hook("createRuntime")],
	    createContainer: [hook("createContainer")],
	    startContainer: [{path: "/ocitap/ocitap-hook-static",
	                      args: ([name("startContainer"), "--socket", $sock, "--state-dir", "/tmp"] + $extra)}],
	    poststart: [hook("poststart")], poststop: [hook("poststop")]}' \
		"$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	echo "$b"
}
run_rt() { # RT ID BUNDLE
	if [[ $1 == runc ]]; then
		out=$(timeout 60 runc --root "$work/runc" run --bundle "$3" "$2" </dev/null 2>&1)
	else
		out=$(crun_private --root "$work/crun" --cgroup-manager=disabled run --bundle "$3" "$2" </dev/null 2>&1)
	fi
	rc=$?
}

start_daemon
for rt in runc crun; do
	b=$(bundle "$rt-up")
	run_rt $rt "$rt-up" "$b"
	check "$rt: container with ocitap hooks on six stages ran (exit 6)" [ "$rc" -eq 6 ]
	[[ $rc -eq 6 ]] || echo "# $out"
	wait_hooks "$rt-up" 6
	for s in "${stages[@]}"; do
		check "$rt: $s recorded once" [ "$(hook_count "$rt-up" "$s")" = 1 ]
	done
	echo "# $rt: $(q "select group_concat(source || ':' || kind || '>' || to_phase, ',') from (select * from events where container_id='$rt-up' order by seq)")"
	# runc runs poststart while the init still runs startContainer: either may come first,
	# and a startContainer after poststart is a late event (docs/design/runtimes.md)
	check "$rt: the stages make creating -> [created ->] running -> stopped" \
		grep -Eqx "creating,(created,)?running,stopped" \
		<<<"$(q "select group_concat(to_phase, ',') from (select to_phase from events where container_id='$rt-up' and kind='transition' order by seq)")"
	check "$rt: annotations carried by the hooks" \
		[ "$(q "select json_extract(annotations, '\$.\"org.ocitap.test\"') from containers where id='$rt-up'")" = hooks ]
	check "$rt: exit code 6 (the init's pidfd, watched from createRuntime)" \
		bash -c 'for i in $(seq 30); do [ "$(sqlite3 -readonly "$1" "select exit_code from containers where id='"'"'$2'"'"'")" = 6 ] && exit 0; sleep 0.1; done; exit 1' _ "$db" "$rt-up"
done

# --- no stage named (as from one oci-hooks file for all stages): told apart ----------
for rt in runc crun; do
	b=$(bundle "$rt-auto" '[]' auto)
	run_rt $rt "$rt-auto" "$b"
	check "$rt, stage not named: the container ran (exit 6)" [ "$rc" -eq 6 ]
	[[ $rc -eq 6 ]] || echo "# $out"
	wait_hooks "$rt-auto" 6
	for s in "${stages[@]}"; do
		check "$rt, stage not named: $s told and recorded once" [ "$(hook_count "$rt-auto" "$s")" = 1 ]
	done
	check "$rt, stage not named: prestart before createRuntime" \
		[ "$(q "select group_concat(source, ',') from (select source from events where container_id='$rt-auto' and kind='hook' and source in ('prestart', 'createRuntime') order by seq)")" = "prestart,createRuntime" ]
done

# --- the daemon down: spooled, the container starts anyway, replayed once ----------
stop_daemon
b=$(bundle spooled)
run_rt runc spooled "$b"
check "daemon down: the container still ran (exit 6)" [ "$rc" -eq 6 ]
n=$(ls "$state/spool" 2>/dev/null | grep -c '\.json$')
check "daemon down: five reports spooled (startContainer's spool is inside the container)" [ "$n" -eq 5 ]
# (runc and crun show a hook's stderr only when it fails: the warnings are checked below by hand)
err=$("$BIN/ocitap-poststop" --socket "$sock" --state-dir "$state" <"$TOP/tests/data/runc-poststop.json" 2>&1)
check "daemon down: one line on stderr, exit 0, saying where it spooled" \
	[ $? -eq 0 -a "$(wc -l <<<"$err")" -eq 1 ] && check "daemon down: the line names the spool file" grep -q "spooled as $state/spool/" <<<"$err"
rm -f "$state"/spool/*-poststop.json.keep
n=$(ls "$state/spool" | grep -c '\.json$')
check "daemon down: that made six spooled reports" [ "$n" -eq 6 ]
# what a power loss while a hook spools may leave (the file is synced after
# its rename, lib/spool.c): the name with no bytes, or with some
: >"$state/spool/00000000000000000100-1-prestart.json"
printf '{"ocitapReport":1,"stage":"pre' >"$state/spool/00000000000000000200-1-prestart.json"
start_daemon
wait_hooks spooled 5
check "replayed: every spooled stage recorded once" \
	[ "$(q "select count(*) from events where container_id='spooled' and kind='hook'")" = 5 ]
check "replayed: the hand-run report too (container t1)" [ "$(hook_count t1 poststop)" = 1 ]
check "replayed: in order" \
	[ "$(q "select group_concat(source, ',') from (select source from events where container_id='spooled' and kind='hook' order by seq)")" = "prestart,createRuntime,createContainer,poststart,poststop" ]
check "replayed: the spool is empty" [ "$(ls "$state/spool" | grep -c '\.json$')" = 0 ]
check "replayed: an empty and a cut spool file are set aside as .bad, each named in the log" \
	bash -c '[[ -f $1/00000000000000000100-1-prestart.json.bad && -f $1/00000000000000000200-1-prestart.json.bad ]] &&
		[[ $(grep -c "0000000000000000[12]00-1-prestart.json: .*set aside as" "$2") -eq 2 ]]' _ "$state/spool" "$log"
rm -f "$state"/spool/*.bad
stop_daemon
start_daemon
sleep 0.3
check "restarted again: nothing replayed twice" \
	[ "$(q "select count(*) from events where container_id='spooled' and kind='hook'")" = 5 ]

# --- a report spooled while the daemon runs is taken within a second ------------------
printf '{"ociVersion":"1.0.2","id":"spooled-live","status":"stopped","pid":0}' |
	"$BIN/ocitap-poststop" --socket "$work/nobody.sock" --state-dir "$state" 2>"$work/live.err"
check "a hook that cannot reach the running daemon spools, and says why" grep -q "spooled as $state/spool/" "$work/live.err"
for ((i = 0; i < 10; i++)); do [[ $(hook_count spooled-live poststop) == 1 ]] && break; sleep 0.1; done
check "the running daemon takes it within a second (inotify), once" [ "$(hook_count spooled-live poststop)" = 1 ]
check "... the spool is empty again, and the log says so" \
	bash -c "[[ \$(ls '$state/spool' | wc -l) -eq 0 ]] && grep -q 'spool: taking 1 report from $state/spool' '$log'"

# --- --fail-closed with the daemon down fails the container ---------------------------
stop_daemon
b=$(bundle closed '["--fail-closed"]')
run_rt runc closed "$b"
check "--fail-closed, daemon down: runc fails the container" [ "$rc" -ne 0 ]
# (the keeper holds the daemon's socket while it is down: the hook connects, and waits --timeout for an answer)
check "--fail-closed: the hook says why" grep -Eq "ocitap-prestart: not recorded: (cannot connect|no answer from ocitapd within [0-9]+ ms)" <<<"$out"
start_daemon

# --- stdin: never closing, bad input ----------------------------------------------------
mkfifo "$work/never"
(printf '{"id":'; exec sleep 30) >"$work/never" &
writer=$!
start=$(date +%s%N)
err=$("$BIN/ocitap-poststop" --socket "$sock" --state-dir "$state" --timeout 300 <"$work/never" 2>&1)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
kill $writer 2>/dev/null
check "never-closing stdin: gives up at --timeout 300 (exit 0, ${ms} ms)" [ $rc -eq 0 -a $ms -lt 3000 ]
check "never-closing stdin: one line says so" grep -q "^ocitap-poststop: stdin: input did not end within 300 ms" <<<"$err"
before=$(q "select count(*) from events")
expect_bad() { # WHAT INPUT MESSAGE
	local e r
	e=$(printf '%s' "$2" | "$BIN/ocitap-poststop" --socket "$sock" --state-dir "$state" 2>&1)
	r=$?
	check "bad input ($1): exit 0, one line" [ $r -eq 0 -a "$(wc -l <<<"$e")" -eq 1 ]
	check "bad input ($1): says what" grep -q "$3" <<<"$e"
	e=$(printf '%s' "$2" | "$BIN/ocitap-poststop" --fail-closed --socket "$sock" --state-dir "$state" 2>&1)
	check "bad input ($1), --fail-closed: exit 1" [ $? -eq 1 ]
}
expect_bad empty "" "empty input"
expect_bad "not JSON" "hello" "invalid JSON"
expect_bad "no id" '{"status":"stopped"}' "id: missing"
e=$(head -c 5000000 /dev/zero | "$BIN/ocitap-poststop" --socket "$sock" --state-dir "$state" 2>&1)
check "bad input (5 MB): refused at the bound, exit 0" [ $? -eq 0 ]
check "bad input (5 MB): says so" grep -q "larger than the limit" <<<"$e"
sleep 0.3
check "bad input: nothing was sent" [ "$(q "select count(*) from events")" = "$before" ]
check "ocitap-hook with an unknown stage: usage error" bash -c '"$1" poststarts </dev/null 2>/dev/null; [ $? -eq 2 ]' _ "$BIN/ocitap-hook"
e=$("$BIN/ocitap-hook" --socket "$sock" --state-dir "$state" <<<'{"id":"p","status":"paused","pid":7}' 2>&1)
check "ocitap-hook, stage not named, a status no stage sends: exit 0, says so" \
	[ $? -eq 0 ] && check "... and the line names the status" grep -q 'status "paused": name the stage' <<<"$e"
check "ocitap-hook --help" bash -c '"$1" --help | grep -q fail-closed' _ "$BIN/ocitap-hook"

# --- a report that comes late and in parts: read as it comes, answered once ------------
ans=$(python3 - "$sock" <<'PY'
import socket, sys, time
r = b'{"ocitapReport":1,"stage":"poststop","hookPid":1,"monoNs":5,"wallNs":5,' \
    b'"state":{"ociVersion":"1.0.2","id":"in-parts","status":"stopped","pid":0}}'
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
time.sleep(0.2)  # the daemon's first read after accept finds nothing
s.send(r[:20])
time.sleep(0.2)
s.send(r[20:])
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
print(s.recv(64).decode().strip())
PY
)
check "a report sent late and in two parts: answered ok" [ "$ans" = ok ]
check "... and recorded once" [ "$(hook_count in-parts poststop)" = 1 ]

# --- a State pid nothing can be seen of: said once, not for every report ----------------
nopid=4000000
while [[ -e /proc/$nopid ]]; do nopid=$((nopid - 1)); done
for i in 1 2 3; do
	printf '{"ociVersion":"1.0.2","id":"no-such-pid","status":"creating","pid":%d,"bundle":"/b"}' "$nopid" |
		"$BIN/ocitap-prestart" --socket "$sock" --state-dir "$state"
done
check "three reports naming a pid with no process: all recorded" [ "$(hook_count no-such-pid prestart)" = 3 ]
if grep -q "bpf: programs loaded" "$log"; then
	check "... and one warning line about it, not one per report" \
		[ "$(grep -c "warning: container no-such-pid: bpf: pid $nopid" "$log")" = 1 ]
else
	skip "... and one warning line about it, not one per report" "BPF is off here"
fi
stop_daemon
done_testing
