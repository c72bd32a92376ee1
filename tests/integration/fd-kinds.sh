#!/usr/bin/env bash
# fd-kinds.sh: a listener message whose seccompFd is not a seccomp notify fd
# (a pipe with data in it, an eventfd, a socket, an epoll fd, a memfd,
# /dev/null) is refused: the peer is dropped with the reason in the log and
# counted, no container record is made for it, the daemon holds none of
# those fds afterwards and spends no CPU on them; a real runc container's
# notify fd is still taken and answered by its policy meanwhile.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "fd kinds"

test_init fdkinds
sock=$work/run/ocitap.sock http=$work/http.sock

start_daemon --http "unix:$http" --keeper off --bpf off
metric() { curl -s --unix-socket "$http" http://x/metrics | awk -v m="$1" '$1 == m { print $2 }'; }
fd_targets() { for f in /proc/$daemon_pid/fd/*; do readlink "$f"; done | sort; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$daemon_pid/stat"; }

dropped_before=$(metric ocitap_dropped_peers_total)
sleep 1 # (the HTTP connection of that request closed)
fds_before=$(fd_targets | sed 's/[0-9]\+/N/g')
kinds="pipe eventfd socket epoll memfd devnull"
declare -A what=([pipe]='pipe:\[' [eventfd]='anon_inode:\[eventfd\]' [socket]='socket:\[' [epoll]='anon_inode:\[eventpoll\]'
	[memfd]='/memfd:not-seccomp' [devnull]='/dev/null')
for k in $kinds; do
	out=$(python3 "$(dirname "$0")/fd-kinds.py" "$sock" "$k" "fdk-$k" 2>&1)
	check "a $k as seccompFd: the peer is dropped ($out)" test "${out%% *}" = closed
done
sleep 0.5
for k in $kinds; do
	check "a $k as seccompFd: the log says what it is" \
		grep -q "dropped peer pid [0-9]* uid 0: seccompFd: not a seccomp notify fd (${what[$k]}" "$log"
	check "a $k as seccompFd: no record for fdk-$k" \
		test "$(q "select count(*) from containers where id='fdk-$k'")" = 0
done
check "every refusal counted (ocitap_dropped_peers_total +6)" \
	test "$(metric ocitap_dropped_peers_total)" = "$((${dropped_before:-0} + 6))"
check "ocitap_notify_fds is 0: none of them is held" test "$(metric ocitap_notify_fds)" = 0
sleep 1
fds_after=$(fd_targets | sed 's/[0-9]\+/N/g')
check "the daemon holds no fd of theirs (the same fds, by kind, as before)" test "$fds_after" = "$fds_before"
t0=$(cpu_ticks)
sleep 2
t1=$(cpu_ticks)
check "no CPU spent on them afterwards ($((t1 - t0)) ticks in 2 s)" test $((t1 - t0)) -le 5

# a real container's notify fd is still taken, and answered by its policy (deny)
b=$work/b-real
notify_bundle "$b" deny 'mkdir /tmp/x 2>/tmp/err; echo $? >/tmp/rc'
timeout 30 runc --root "$work/runc" run --bundle "$b" fdk-real </dev/null >/dev/null 2>&1
check "a real notify fd is still taken: the container's mkdir was denied" test "$(cat "$b/rootfs/tmp/rc" 2>/dev/null)" = 1
denied() { # the denied mkdir reaches the store (counts are flushed every second)
	local i
	for ((i = 0; i < 30; i++)); do
		[[ $(q "select coalesce(sum(count), 0) from notifications where container_id='fdk-real' and action like 'errno%'") -ge 1 ]] && return 0
		sleep 0.1
	done
	return 1
}
check "and recorded" denied
done_testing
