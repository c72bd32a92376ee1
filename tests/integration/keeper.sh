#!/usr/bin/env bash
# keeper.sh: ocitap-fdkeeper holds a real seccomp notify fd while nobody
# else does (the child's notified syscall waits instead of failing with
# ENOSYS), gives it back with its identity, drops it when the filter hangs
# up, and refuses what is not its protocol (tests/integration/keeper-test.c);
# with --key-file it serves only a peer that says HELLO with the secret, and
# ocitapd makes that secret and starts its keeper with it.
set -uo pipefail
source "$(dirname "$0")/common.bash"

KEEPER="$TOP/$BUILD/bin/ocitap-fdkeeper"
test_init keeper
keeper_pid=
test_cleanup() { [[ -n $keeper_pid ]] && kill -9 "$keeper_pid" 2>/dev/null; }

"$KEEPER" --socket "$work/keeper.sock" 2>"$work/keeper.err" &
keeper_pid=$!
wait_for "$work/keeper.sock" || { not_ok "ocitap-fdkeeper listens"; exit 0; }
"$TOP/$BUILD/tests/keeper-test" "$work/keeper.sock" >"$work/test.tap"
cat "$work/test.tap"
_tap_n=$(grep -c '^\(not \)\?ok' "$work/test.tap")
check "the socket is its owner's only (mode 0600)" [ "$(stat -c %a "$work/keeper.sock")" = 600 ]
check "ocitap-fdkeeper --help" bash -c '"$1" --help | grep -q -- --socket' _ "$KEEPER"
"$KEEPER" >/dev/null 2>&1
check "no --socket: exit 2" [ $? -eq 2 ]
kill -TERM "$keeper_pid"
wait "$keeper_pid"
rc=$?
keeper_pid=
check "SIGTERM: exits 0 and removes its socket" [ "$rc" -eq 0 -a ! -e "$work/keeper.sock" ]

# --key-file: a peer must say HELLO with the secret first
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$work/key"
chmod 600 "$work/key"
"$KEEPER" --socket "$work/k2.sock" --key-file "$work/key" 2>"$work/k2.err" &
keeper_pid=$!
wait_for "$work/k2.sock" || not_ok "ocitap-fdkeeper --key-file listens"
seq() { socat -t1 - UNIX-CONNECT:"$work/k2.sock",type=5 2>/dev/null; } # SOCK_SEQPACKET: one write, one message
check "--key-file: GIVE without HELLO is refused, and says why" \
	test "$(printf 'GIVE' | seq)" = "ERR say HELLO with the secret first (this keeper runs with --key-file)"
check "--key-file: a wrong secret is refused" \
	test "$(printf 'HELLO %064d' 0 | seq)" = "ERR wrong secret"
check "--key-file: the right secret, then GIVE: served" \
	test "$( (printf 'HELLO %s' "$(cat "$work/key")"; sleep 0.3; printf 'GIVE'; sleep 0.3) | seq)" = "OKEND 0" # two answers, each without a newline
check "--key-file: refusals are logged" grep -q "refused a peer: wrong secret" "$work/k2.err"
kill -TERM "$keeper_pid"
wait "$keeper_pid"
keeper_pid=
chmod 644 "$work/key"
"$KEEPER" --socket "$work/k3.sock" --key-file "$work/key" 2>"$work/k3.err"
check "--key-file readable by others: refused (exit 2), says why" \
	bash -c "[[ $? -eq 2 ]] && grep -q 'readable by nobody else: refused' '$work/k3.err'"
chmod 600 "$work/key"
ln -s "$work/key" "$work/key-link"
"$KEEPER" --socket "$work/k3.sock" --key-file "$work/key-link" 2>"$work/k3.err"
check "--key-file through a symbolic link: refused" \
	bash -c "[[ $? -eq 2 ]] && grep -q 'a symbolic link: refused' '$work/k3.err'"
check "ocitap-fdkeeper --version" bash -c '"$1" --version | grep -q "^ocitap-fdkeeper [0-9]"' _ "$KEEPER"

# ocitapd makes the secret in its state directory and starts its keeper with it
export PATH="$TOP/$BUILD/bin:$PATH"
start_daemon --http off --bpf off
for ((i = 0; i < 50; i++)); do grep -q "keeper .*connected" "$log" && break; sleep 0.1; done
check "ocitapd: keeper.key in the state directory, root's, 0600" test "$(stat -c '%U %a' "$state/keeper.key")" = "root 600"
kpid=$(pgrep -f "ocitap-fdkeeper --socket $(dirname "$sock")/keeper.sock" | head -1)
check "ocitapd: its keeper runs with --key-file $state/keeper.key" \
	bash -c "tr '\\0' ' ' </proc/$kpid/cmdline | grep -q -- '--key-file $state/keeper.key'"
stop_daemon
start_daemon --http off --bpf off
for ((i = 0; i < 50; i++)); do [[ $(grep -c "keeper .*connected" "$log") -ge 2 ]] && break; sleep 0.1; done
check "a restarted ocitapd is served by that keeper (same secret)" \
	bash -c "[[ \$(grep -c 'keeper .*connected' '$log') -ge 2 ]] && ! grep -q 'wrong secret' '$log'"
stop_daemon
kpid=$(pgrep -f "ocitap-fdkeeper --socket $(dirname "$sock")/keeper.sock" | head -1)
check "a keeper ocitapd started has no signal blocked (ocitapd's signalfd mask is not inherited)" \
	test "$(awk '/^SigBlk/ { print $2 }' "/proc/$kpid/status")" = 0000000000000000
kill -TERM "$kpid"
for ((i = 0; i < 30; i++)); do kill -0 "$kpid" 2>/dev/null || break; sleep 0.1; done
check "... so SIGTERM stops it" bash -c "! kill -0 $kpid 2>/dev/null"
done_testing
