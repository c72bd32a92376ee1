#!/usr/bin/env bash
# state-files.sh: the files a real ocitapd opens are its own. A state
# directory owned by another user, a database planted as a symbolic link, a
# parent directory writable by group or others, a socket directory of
# another user: each refused at the start, the log naming the path and what
# is wrong, nothing created where a link points. A root-owned sticky
# directory above (/tmp) is fine; the socket directory the daemon creates
# is 0700, one that exists keeps its mode.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "state-files"

test_init state-files
chmod 0755 "$work"
args=(--http off --keeper off --bpf off)

# refused DIR-OR-SOCKET-ARGS...: ocitapd exits non-zero at once; its log in $work/out
refused() {
	timeout 10 "$OCITAPD" "${args[@]}" "$@" >"$work/out" 2>&1
	local rc=$?
	[[ $rc -ne 0 && $rc -ne 124 ]]
}
said() { grep -q -- "$1" "$work/out"; }

mkdir "$work/other"
chown 65534:65534 "$work/other"
check "a state directory owned by uid 65534: refused" refused --socket "$work/a.sock" --state-dir "$work/other"
check "... the log names the path and the owner ($(tail -n1 "$work/out"))" said "$work/other is owned by uid 65534"
check "... no database in it" [ ! -e "$work/other/ocitap.db" ]

mkdir -m 0700 "$work/planted"
ln -s "$work/target.db" "$work/planted/ocitap.db"
check "ocitap.db planted as a symbolic link: refused" refused --socket "$work/a.sock" --state-dir "$work/planted"
check "... the log names the link ($(tail -n1 "$work/out"))" said "$work/planted/ocitap.db is a symbolic link"
check "... nothing created where it points" [ ! -e "$work/target.db" ]

mkdir -p "$work/open/state"
chmod 0777 "$work/open"
check "a parent writable by every user: refused" refused --socket "$work/a.sock" --state-dir "$work/open/state"
check "... the log names the parent ($(tail -n1 "$work/out"))" said "$work/open is writable by every user"
mkdir -p "$work/grp/state"
chmod 0775 "$work/grp"
check "a parent writable by its group: refused" refused --socket "$work/a.sock" --state-dir "$work/grp/state"
check "... the log says so" said "$work/grp is writable by its group"
mkdir -m 0777 "$work/wide"
check "a state directory writable by every user (itself): refused" refused --socket "$work/a.sock" --state-dir "$work/wide"
mkdir "$work/nobody-run"
chown 65534:65534 "$work/nobody-run"
check "a socket directory owned by uid 65534: refused" \
	refused --socket "$work/nobody-run/ocitap.sock" --state-dir "$work/s0"
check "... the log names it" said "socket directory $work/nobody-run.*owned by uid 65534"
check "... no socket in it" [ ! -e "$work/nobody-run/ocitap.sock" ]
mkdir -m 0700 "$work/fifo-state"
mkfifo "$work/fifo-state/ocitap.db"
check "ocitap.db a FIFO: refused, never blocks" refused --socket "$work/a.sock" --state-dir "$work/fifo-state"
check "... the log says so" said "not a regular file"

# a root-owned sticky directory above: fine
mkdir -m 1777 "$work/sticky"
sock=$work/sticky/run/ocitap.sock state=$work/sticky/state
start_daemon "${args[@]}"
check "under a root-owned sticky directory (like /tmp): the daemon starts" kill -0 "$daemon_pid"
check "... the socket directory it made is 0700" [ "$(stat -c %a "$work/sticky/run")" = 700 ]
check "... the state directory it made is 0700" [ "$(stat -c %a "$work/sticky/state")" = 700 ]
check "... it answers a report" bash -c \
	"printf '%s' '{\"ocitapReport\":1,\"stage\":\"poststop\",\"state\":{\"id\":\"sf\",\"status\":\"stopped\"}}' | socat -t5 - UNIX-CONNECT:'$sock' | grep -q ok"
stop_daemon
sock=$work/ocitap.sock state=$work/state
start_daemon "${args[@]}"
check "an existing socket directory keeps its mode (0755)" [ "$(stat -c %a "$work")" = 755 ]
check "the pid file next to the socket is a regular file" [ -f "$work/ocitapd.pid" -a ! -L "$work/ocitapd.pid" ]
stop_daemon
done_testing
