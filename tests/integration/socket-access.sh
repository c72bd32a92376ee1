#!/usr/bin/env bash
# socket-access.sh: --socket-group and --socket-mode decide who may connect
# to the daemon's socket; SO_PEERCRED (root, --allow-uid) still decides who
# is served (issue 18, item 5). With --socket-group the socket is 0660 in
# that group and its new directory 0750: a member that is an --allow-uid
# user is served; an --allow-uid user outside the group cannot connect (and
# the daemon said so at start); a member that is not --allow-uid is refused
# with the reason, which its hook prints instead of spooling. A socket the
# keeper held is given the new daemon's group and mode; bad values stop
# the daemon with their name; a mode that opens the socket to every user is
# said.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "socket access"
command -v setpriv >/dev/null || skip_rest "socket access" "setpriv is not installed (util-linux)"
command -v socat >/dev/null || skip_rest "socket access" "socat is not installed"

group=ocitapsock member=ocitapgrp
getent group "$group" >/dev/null || groupadd --system "$group" || skip_rest "socket access" "cannot create group $group"
if ! id "$member" >/dev/null 2>&1; then
	useradd --system -M -N -g nogroup -G "$group" -s /usr/sbin/nologin "$member" ||
		skip_rest "socket access" "cannot create the test user $member"
fi
id -nG "$member" | grep -qw "$group" || usermod -aG "$group" "$member"
gid=$(getent group "$group" | cut -d: -f3)
muid=$(id -u "$member")

test_init sockaccess
chmod 0755 "$work"
sock=$work/run/ocitap.sock
HOOK="$TOP/$BUILD/bin/ocitap-hook"
report() { # SETPRIV-ARGS... -- STAGE ID: a hook report as that peer; prints the answer
	local a=()
	while [[ $1 != -- ]]; do a+=("$1") && shift; done
	shift
	printf '{"ocitapReport":1,"stage":"%s","state":{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":0,"bundle":"/b"}}' "$1" "$2" |
		setpriv "${a[@]}" socat -t5 - UNIX-CONNECT:"$sock" 2>&1
}
as_member=(--reuid="$muid" --regid=65534 --init-groups)

start_daemon --http off --keeper off --bpf off --socket-group "$group" --allow-uid "$muid" --allow-uid 1
check "with --socket-group the socket is 0660, group $group" test "$(stat -c %a:%G "$sock")" = "660:$group"
check "... and the directory ocitapd made for it 0750, group $group" test "$(stat -c %a:%G "$work/run")" = "750:$group"
check "the start says --allow-uid 1 (daemon, not in $group) cannot connect" \
	grep -q "warning: --allow-uid 1 cannot connect: the socket is mode 0660, group $group, and uid 1 is not a member" "$log" ||
	grep -i warn "$log" | sed 's/^/# /'
check "a member that is --allow-uid ($member) is served" test "$(report "${as_member[@]}" -- createRuntime g-1)" = ok
check "... and owns its run" test "$(q "select owner from containers where id='g-1'")" = "$muid"
r=$(report --reuid=1 --regid=1 --clear-groups -- createRuntime g-2)
check "an --allow-uid user outside the group cannot connect (the socket's mode)" \
	bash -c '[[ $1 == *"Permission denied"* ]]' _ "$r" || echo "# $r"
# (a peer that says nothing yet: the answer comes at accept, before any write could meet EPIPE)
r=$(setpriv --reuid=65534 --regid=65534 --groups="$gid" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
print(s.recv(512).decode().strip())' "$sock" 2>&1)
check "a member that is not --allow-uid connects but is refused, and told why" \
	test "$r" = "error: refused: uid 65534 is not root and not --allow-uid" || echo "# $r"
check "... and the log says why" grep -q "refused peer pid [0-9]* uid 65534: not root and not --allow-uid" "$log"
mkdir -p "$work/hstate" && chmod 0777 "$work/hstate"
err=$(printf '{"ociVersion":"1.0.2","id":"g-4","status":"creating","pid":1,"bundle":"/"}' |
	setpriv --reuid=65534 --regid=65534 --groups="$gid" "$HOOK" createRuntime --socket "$sock" --state-dir "$work/hstate" 2>&1)
check "its hook says why on stderr, and exits 0" \
	test "$err" = "ocitap-createRuntime: not recorded: ocitapd refused the report: error: refused: uid 65534 is not root and not --allow-uid (container not affected)" ||
	echo "# $err"
check "... and spools nothing (it would be refused again)" test -z "$(ls -A "$work/hstate/spool" 2>/dev/null)"
check "nothing was recorded for the refused peers" test "$(q "select count(*) from containers where id in ('g-2','g-3','g-4')")" = 0
stop_daemon

# the keeper holds the socket across a restart: the next daemon's group and mode are the ones that hold
start_daemon --http off --bpf off --socket-group "$group" --allow-uid "$muid"
for ((i = 0; i < 50; i++)); do grep -q "keeper .*connected" "$log" && break; sleep 0.1; done
check "(with a keeper) the socket is 0660, group $group" test "$(stat -c %a:%G "$sock")" = "660:$group"
kill_daemon 9
check "killed: the socket file is still there (the keeper listens on it)" test -S "$sock"
# started without removing the socket file (start_daemon does)
"$OCITAPD" --socket "$sock" --state-dir "$state" --http off --bpf off --socket-mode 0600 --allow-uid "$muid" >>"$log" 2>&1 &
daemon_pid=$!
for ((i = 0; i < 50; i++)); do grep -q "listening on $sock (mode 0600" "$log" && break; sleep 0.1; done
check "the next daemon takes the kept socket back" grep -q "took back the listening socket $sock" "$log"
check "... and makes it 0600, group root" test "$(stat -c %a:%G "$sock")" = 600:root
check "... and the start says --allow-uid $muid cannot connect (mode 0600)" \
	grep -q "warning: --allow-uid $muid cannot connect: the socket's mode 0600 lets neither group root nor others write to it" "$log"
r=$(report "${as_member[@]}" -- createRuntime g-5)
check "... and it cannot: $member is kept out by the mode" bash -c '[[ $1 == *"Permission denied"* ]]' _ "$r" || echo "# $r"
stop_daemon
pkill -9 -f "ocitap-fdkeeper --socket $work/" 2>/dev/null

# a mode that opens the socket to every user is said; a group the directory keeps out is said
: >"$log"
chmod 0700 "$work/run"
start_daemon --http off --keeper off --bpf off --socket-mode 0666 --allow-uid "$muid"
check "--socket-mode 0666: the socket is 0666" test "$(stat -c %a "$sock")" = 666
check "... and the start says every user may connect" \
	grep -q "warning: --socket-mode 0666: every user of this host may connect to the socket (only root and --allow-uid are served)" "$log"
check "... and that the directory (0700, there already) keeps them out" \
	grep -q "warning: socket directory $work/run (mode 0700) keeps other users from the socket" "$log"
stop_daemon

# bad values: named, and the daemon does not start
for bad in "--socket-group no-such-group-x:--socket-group: no group named 'no-such-group-x'" \
	"--socket-mode 0668:--socket-mode: expected an octal mode such as 0660, got '0668'" \
	"--socket-mode u+rw:--socket-mode: expected an octal mode such as 0660, got 'u+rw'" \
	"--socket-mode 2770:--socket-mode: '2770': only permission bits"; do
	flag=${bad%%:*} says=${bad#*:}
	# shellcheck disable=SC2086 # the flag and its value
	out=$(timeout 10 "$OCITAPD" --socket "$work/bad.sock" --state-dir "$state" --http off $flag 2>&1)
	rc=$?
	check "ocitapd $flag: exit 2, and says $says" bash -c '[[ $1 == 2 && $2 == *"$3"* && ! -e $4 ]]' _ "$rc" "$out" "$says" "$work/bad.sock" ||
		echo "# rc $rc: $out"
done
out=$(OCITAP_SOCKET_MODE=777x timeout 10 "$OCITAPD" --socket "$work/bad.sock" --state-dir "$state" --http off 2>&1)
check "OCITAP_SOCKET_MODE=777x: exit 2, named" bash -c '[[ $1 == 2 && $2 == *"OCITAP_SOCKET_MODE: expected an octal mode"* ]]' _ "$?" "$out" ||
	echo "# $out"
done_testing
