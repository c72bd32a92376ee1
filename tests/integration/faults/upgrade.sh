#!/usr/bin/env bash
# faults/upgrade.sh: `ocitapd --replace` and SIGUSR2 hand a running daemon
# over to the binary now at its path, while real runc containers make
# notified syscalls in a loop and a client reports hook stages every few
# milliseconds: no notified syscall fails, no report is refused or lost, and
# a successor that cannot start leaves the old daemon serving.
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: upgrade"

faults_init upgrade
ids="up-a up-b"
test_cleanup() {
	[[ -n ${client:-} ]] && kill "$client" 2>/dev/null
	pkill -9 -f "$work/bin/ocitapd" 2>/dev/null
}

# the daemon runs from a copy, so that the test can "upgrade" it in place
mkdir -p "$work/bin"
cp "$TOP/$BUILD/bin/ocitapd" "$TOP/$BUILD/bin/ocitap-fdkeeper" "$work/bin/"
OCITAPD=$work/bin/ocitapd
start_daemon --http "unix:$http"
start_loops
check "both containers make notified syscalls" all_progressing

# a hook-report client, one report every 10 ms: every answer must be "ok"
(
	i=0
	while :; do
		i=$((i + 1))
		r=$(printf '{"ocitapReport":1,"stage":"createRuntime","state":{"ociVersion":"1.0.2","id":"client-%d","status":"creating","pid":1,"bundle":"/b"}}' "$i" |
			socat -t5 - UNIX-CONNECT:"$sock" 2>&1)
		if [[ $r == ok ]]; then echo "$i" >>"$work/acked"; else echo "$i: $r" >>"$work/refused"; fi
		sleep 0.01
	done
) &
client=$!
sleep 0.5

# --- ocitapd --replace, after the binary was replaced on disk -------------------
cp "$work/bin/ocitapd" "$work/bin/ocitapd.new" && mv "$work/bin/ocitapd.new" "$work/bin/ocitapd"
old=$(cat "$work/ocitapd.pid")
out=$("$work/bin/ocitapd" --replace --socket "$sock" 2>&1)
rc=$?
new=$(sed -n 's/.*replaced by pid \([0-9]*\).*/\1/p' <<<"$out")
check "--replace: exit 0 and the new pid ($out)" [ "$rc" -eq 0 -a -n "$new" ]
check "--replace: the old daemon is gone" [ ! -d "/proc/$old" ]
check "--replace: the new one runs the binary now on disk" [ "$(readlink "/proc/$new/exe")" = "$work/bin/ocitapd" ]
check "--replace: it took back both notify fds" grep -q "took back 2 notify fds" "$log"
check "--replace: the pause is logged" grep -q "took over from pid $old in [0-9]* ms" "$log"
echo "# $(grep -o "took over from pid $old in [0-9]* ms" "$log")"
check "--replace: the loops go on" all_progressing
check "--replace: no notified syscall failed" no_errors
check "--replace: the socket file stayed (the successor serves it)" [ -S "$sock" ]
check "--replace: HTTP answers from the new daemon" \
	bash -c '[ "$(curl -s --unix-socket "$1" http://x/healthz | jq -r .status)" = ok ]' _ "$http"

# --- SIGUSR2, the same without the helper ------------------------------------------
kill -USR2 "$new"
for ((i = 0; i < 100; i++)); do [[ -d /proc/$new ]] || break; sleep 0.1; done
newer=$(cat "$work/ocitapd.pid")
check "SIGUSR2: the daemon handed over to a new process" [ ! -d "/proc/$new" -a -d "/proc/$newer" -a "$newer" != "$new" ]
check "SIGUSR2: the loops go on" all_progressing

# --- a successor that cannot start: the old one goes on --------------------------
mv "$work/bin/ocitapd" "$work/bin/ocitapd.good"
printf '#!/bin/sh\necho "this build is broken" >&2\nexit 1\n' >"$work/bin/ocitapd"
chmod +x "$work/bin/ocitapd"
out=$("$work/bin/ocitapd.good" --replace --socket "$sock" 2>&1)
rc=$?
check "a broken successor: --replace fails (exit 1)" [ "$rc" -eq 1 ]
check "... saying why" grep -q "exited with status 1 before taking over" <<<"$out"
check "... and the old daemon still serves" [ -d "/proc/$newer" ]
check "... the loops go on" all_progressing
mv "$work/bin/ocitapd.good" "$work/bin/ocitapd"

kill "$client"
wait "$client" 2>/dev/null
client=
check "the hook client was never refused during the handovers" [ ! -s "$work/refused" ]
[[ -s $work/refused ]] && head -3 "$work/refused" | sed 's/^/# /'
check "and it got many answers ($(wc -l <"$work/acked"))" [ "$(wc -l <"$work/acked")" -ge 50 ]
sleep 1.2
check "every acknowledged report is stored" \
	[ "$(q "select count(*) from containers where id like 'client-%'")" -ge "$(wc -l <"$work/acked")" ]
check "no notified syscall ever failed" no_errors

"$work/bin/ocitapd" --replace --socket "$work/nobody.sock" >/dev/null 2>"$work/err"
check "--replace with no daemon there: exit 1, naming the socket" \
	bash -c '[ "$1" -eq 1 ] && grep -q "no daemon at $2" "$3"' _ $? "$work/nobody.sock" "$work/err"
done_testing
