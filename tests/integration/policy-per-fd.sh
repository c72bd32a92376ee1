#!/usr/bin/env bash
# policy-per-fd.sh: a container's notify fd keeps the policy it was
# registered with, whatever another peer says. A root peer that installs its
# own seccomp filter and sends a listener message claiming a running
# container's id with policy=audit (tests/integration/claim-id.c) is refused
# (it is not inside that container), and changes nothing: the victim's
# notified mkdir is still denied by its own policy, before and after, and its
# record keeps its bundle; a runc exec into the container, whose message
# comes from inside it, is taken and answered by the container's policy.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "policy per fd"
CLAIM="$TOP/$BUILD/tests/claim-id"

test_init ppf
sock=$work/run/ocitap.sock

start_daemon --http off --keeper off --bpf off --log-level debug

b=$work/b-victim
notify_bundle "$b" deny 'while :; do if mkdir /tmp/d 2>/dev/null; then echo OK >>/tmp/res; rmdir /tmp/d; else echo DENIED >>/tmp/res; fi; sleep 0.05; done'
timeout 30 runc --root "$work/runc" run -d --bundle "$b" ppf-victim </dev/null >/dev/null 2>&1
res=$b/rootfs/tmp/res
# answers since the file was emptied, for a second
answers() { : >"$res"; sleep 1; sort "$res" | uniq -c | tr -s ' ' | tr '\n' ' '; }
only_denied() { [[ $1 == *DENIED* && $1 != *OK* ]]; }
a=$(answers)
check "the victim's mkdir is denied by its policy ($a)" only_denied "$a"

"$CLAIM" "$sock" ppf-victim audit running 3
check "a root peer with its own filter claiming the running victim's id (policy=audit) is refused, and says why" \
	grep -q "dropped peer pid [0-9]* uid 0: a seccomp listener message for the running ppf-victim from pid [0-9]*, outside it (mnt namespace)" "$log"
check "its fd is not registered" bash -c "! grep -q 'container ppf-victim: seccomp fd from pid [0-9]* (exec, policy audit' '$log'"
check "the victim's record keeps its bundle (not the claimer's)" test "$(q "select bundle from containers where id='ppf-victim'")" = "$b"
a=$(answers)
check "the claim changes nothing: still denied ($a)" only_denied "$a"
sleep 2.5 # the claimer's filter is gone: its fd hangs up
a=$(answers)
check "after the claimer's fd hung up: still denied ($a)" only_denied "$a"
check "and the victim is still running" bash -c "runc --root '$work/runc' state ppf-victim | jq -e '.status == \"running\"' >/dev/null"

# an exec's message names no policy of its own: it gets the container's
out=$(timeout 20 runc --root "$work/runc" exec ppf-victim sh -c 'mkdir /tmp/e 2>&1; echo rc=$?')
check "a runc exec's notified mkdir is denied too (${out//$'\n'/ })" test "${out##*rc=}" = 1
done_testing
