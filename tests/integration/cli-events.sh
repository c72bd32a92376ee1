#!/usr/bin/env bash
# cli-events.sh: `ocitap events` against a running ocitapd (reports sent by
# the real ocitap-hook), with the daemon down (read from the store), and
# --follow across a restart of the daemon: every event once, in order.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "cli-events"

BIN="$TOP/$BUILD/bin"
test_init events
follow_pid=
test_cleanup() { [[ -n $follow_pid ]] && kill -9 "$follow_pid" 2>/dev/null; }
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port")
daemon_ready=http://127.0.0.1:$port/healthz
report() { # ID STAGE STATUS
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":0,"bundle":"/b"}' "$1" "$3" |
		"$BIN/ocitap-$2" --socket "$sock" --state-dir "$state"
}
ev() { "$OCITAP" events --http "127.0.0.1:$port" --state-dir "$state" "$@"; }

start_daemon
for id in a b; do
	report $id prestart creating
	report $id poststart running
	report $id poststop stopped
done
ev --json >"$work/all" 2>"$work/err"
check "events --json: every stored event, in order, from the daemon" \
	[ "$(jq -r .seq "$work/all")" = "$(q 'select seq from events order by seq')" -a ! -s "$work/err" ]
ev >"$work/human"
check "... human output: a header, then one line per event, with the container and the change" \
	[ "$(wc -l <"$work/human")" = "$(($(q 'select count(*) from events') + 1))" -a \
	-n "$(grep -E '^2 +[0-9T:.-]+Z +a +transition +unknown +-> creating +prestart' "$work/human")" ]
check "... the header names the columns" \
	bash -c 'head -1 "$1" | grep -qE "^SEQ +TIME +CONTAINER +KIND +CHANGE +SOURCE$"' _ "$work/human"
check "... --json has no header: every line is an event" bash -c '! grep -v "^{" "$1" && jq -e .seq "$1" >/dev/null' _ "$work/all"
# a stage reported after a later one: a late event, said as such
report late poststart running
report late prestart creating
ev --id late >"$work/late"
check "a late report reads as one, not as a step back" \
	grep -qE '^[0-9]+ +[0-9T:.-]+Z +late +late +report arrived late: creating \(after running\) +prestart' "$work/late" ||
	sed 's/^/# /' "$work/late"
check "--since 4: only later events" [ "$(ev --json --since 4 | jq -r .seq | head -1)" = 5 ]
check "--id b: only b's" [ "$(ev --json --id b | jq -r .container | sort -u)" = b ]

# --follow across a daemon restart
"$OCITAP" events --follow --json --http "127.0.0.1:$port" >"$work/follow" 2>"$work/follow.err" &
follow_pid=$!
sleep 0.5
report c prestart creating
stop_daemon
report d prestart creating 2>/dev/null # spooled: replayed when the daemon is back
start_daemon
report e prestart creating
for ((i = 0; i < 100; i++)); do
	[[ $(jq -r .seq "$work/follow" 2>/dev/null | tail -1) == "$(q 'select max(seq) from events')" ]] && break
	sleep 0.1
done
kill "$follow_pid"
wait "$follow_pid" 2>/dev/null
follow_pid=
check "--follow across a daemon restart: every event once, in order (history first)" \
	[ "$(jq -r .seq "$work/follow")" = "$(q 'select seq from events order by seq')" ]
check "... the spooled report replayed meanwhile is among them" [ "$(jq -r 'select(.container == "d") | .seq' "$work/follow" | wc -l)" -ge 1 ]
check "... and it said it reconnected" grep -q "reconnecting after event" "$work/follow.err"
stop_daemon

ev --json >"$work/down" 2>"$work/down.err"
check "daemon down: the same events from the store" [ "$(jq -r .seq "$work/down")" = "$(q 'select seq from events order by seq')" ]
check "... and it says where they came from" grep -q "read from the store in $state" "$work/down.err"
"$OCITAP" events --http "127.0.0.1:$port" --state-dir "$work/nowhere" >/dev/null 2>"$work/none.err"
rc=$?
check "daemon down and no store: exit 1, naming both" \
	bash -c '[ "$1" -eq 1 ] && grep -q "not reachable" "$2" && grep -q "nowhere" "$2"' _ "$rc" "$work/none.err"
"$OCITAP" events --json --http "127.0.0.1:$port" --state-dir "$work/nowhere" >"$work/none.json" 2>/dev/null
check "... with --json the error is JSON on standard output too" \
	[ "$(jq -r '.exitCode' "$work/none.json")" = 1 -a -n "$(jq -r '.error | select(test("not reachable"))' "$work/none.json")" ]
"$OCITAP" events --since x >/dev/null 2>&1
check "--since x: exit 2" [ $? -eq 2 ]
check "events --help" bash -c '"$1" events --help | grep -q -- --follow' _ "$OCITAP"
done_testing
