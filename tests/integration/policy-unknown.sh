#!/usr/bin/env bash
# policy-unknown.sh: a listenerMetadata that names a policy ocitapd does not
# have never lets a notified syscall through. By default (--unknown-policy
# deny) a real runc container's notified mkdir fails with EPERM, the answer
# is counted in the store and in ocitap_unknown_policy_total, and the API
# shows the fd's policy as a fallback with the name asked for; with
# --unknown-policy audit the mkdir runs; with refuse the container never
# starts its program. ocitap inspect shows the fallback too; a policy that a
# SIGHUP drops is treated as unknown, and a fallback stays one across a
# restart (the keeper holds the fd under the name asked for).
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "unknown policy"

test_init pun
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port" --keeper off --bpf off)
daemon_ready=http://127.0.0.1:$port/healthz
api() { curl -fsS "http://127.0.0.1:$port$1"; }
loop='while :; do if mkdir /tmp/d 2>/dev/null; then echo OK >>/tmp/res; rmdir /tmp/d; else echo DENIED >>/tmp/res; fi; sleep 0.05; done'
answers() { : >"$1"; sleep 1; sort "$1" | uniq -c | tr -s ' ' | tr '\n' ' '; }

# --- the default: deny ---
start_daemon
b=$work/b-deny
notify_bundle "$b" strcit "$loop"
timeout 30 runc --root "$work/runc" run -d --bundle "$b" pun-deny </dev/null >/dev/null 2>&1
a=$(answers "$b/rootfs/tmp/res")
check "a misspelt policy name: the notified mkdir is denied ($a)" bash -c "[[ '$a' == *DENIED* && '$a' != *OK* ]]"
check "the log says which name was unknown and what answered" \
	grep -q 'container pun-deny: unknown policy "strcit" in listenerMetadata; answered by deny' "$log"
j=$(api /v1/containers/pun-deny)
check "the API shows the fd's policy as a fallback ($(jq -c '{policy, policyFallback, policyRequested}' <<<"$j"))" \
	test "$(jq -r '[.policy, .policyFallback, .policyRequested] | join(" ")' <<<"$j")" = "deny true strcit"
check "and per notify fd" \
	test "$(jq -r '.notifyFdPolicies | map("\(.init) \(.policy) \(.policyFallback) \(.policyRequested)") | join(",")' <<<"$j")" = "true deny true strcit"
check "the list shows it too" \
	test "$(api /v1/containers | jq -r '.containers[]? // .[]? | select(.id == "pun-deny") | .policyFallback')" = true
out=$("$OCITAP" inspect pun-deny --http "127.0.0.1:$port" --state-dir "$state" --runc-root "$work/runc" 2>&1)
check "ocitap inspect shows it ($(grep policy <<<"$out"))" \
	grep -q "policy *deny (the init's fd), a fallback: listenerMetadata asked for \"strcit\", which ocitapd does not have" <<<"$out"
check "ocitap_unknown_policy_total counts it" bash -c "curl -fsS http://127.0.0.1:$port/metrics | grep -qx 'ocitap_unknown_policy_total 1'"
runc --root "$work/runc" delete -f pun-deny >/dev/null 2>&1
for ((i = 0; i < 50; i++)); do
	[[ $(q "select count(*) from notifications where container_id='pun-deny' and action='errno:EPERM'") -ge 1 ]] && break
	sleep 0.1
done
check "the EPERM answers are recorded in the store" \
	test "$(q "select sum(count) from notifications where container_id='pun-deny' and syscall like 'mkdir%' and action='errno:EPERM'")" -ge 5
stop_daemon

# --- --unknown-policy audit: let through, shown as a fallback ---
start_daemon --unknown-policy audit
b=$work/b-audit
notify_bundle "$b" strcit "$loop"
timeout 30 runc --root "$work/runc" run -d --bundle "$b" pun-audit </dev/null >/dev/null 2>&1
a=$(answers "$b/rootfs/tmp/res")
check "--unknown-policy audit: the mkdir runs ($a)" bash -c "[[ '$a' == *OK* && '$a' != *DENIED* ]]"
check "shown as audit, a fallback" \
	test "$(api /v1/containers/pun-audit | jq -r '[.policy, .policyFallback] | join(" ")')" = "audit true"
runc --root "$work/runc" delete -f pun-audit >/dev/null 2>&1
stop_daemon

# --- a policy gone on SIGHUP, and a fallback across a restart (the keeper holds the fds) ---
echo '{"policies": {"open": {"default": "continue"}}}' >"$work/policy.json"
start_daemon --policy "$work/policy.json" --keeper "$work/keeper.sock"
b=$work/b-gone
notify_bundle "$b" open "$loop"
timeout 30 runc --root "$work/runc" run -d --bundle "$b" pun-gone </dev/null >/dev/null 2>&1
b2=$work/b-typo
notify_bundle "$b2" strcit "$loop"
timeout 30 runc --root "$work/runc" run -d --bundle "$b2" pun-typo </dev/null >/dev/null 2>&1
a=$(answers "$b/rootfs/tmp/res")
check "policy open from the file: the mkdir runs ($a)" bash -c "[[ '$a' == *OK* && '$a' != *DENIED* ]]"
echo '{"policies": {}}' >"$work/policy.json"
kill -HUP "$daemon_pid"
sleep 0.5
a=$(answers "$b/rootfs/tmp/res")
check "SIGHUP without it: denied ($a)" bash -c "[[ '$a' == *DENIED* && '$a' != *OK* ]]"
check "and shown as a fallback for open" \
	test "$(api /v1/containers/pun-gone | jq -r '[.policy, .policyFallback, .policyRequested] | join(" ")')" = "deny true open"
kill_daemon KILL
start_daemon --policy "$work/policy.json" --keeper "$work/keeper.sock"
sleep 0.5
a=$(answers "$b2/rootfs/tmp/res")
check "after a restart the fallback still denies ($a)" bash -c "[[ '$a' == *DENIED* && '$a' != *OK* ]]"
check "and is still shown as one, with the name asked for" \
	test "$(api /v1/containers/pun-typo | jq -r '[.policy, .policyFallback, .policyRequested] | join(" ")')" = "deny true strcit"
runc --root "$work/runc" delete -f pun-gone >/dev/null 2>&1
runc --root "$work/runc" delete -f pun-typo >/dev/null 2>&1
stop_daemon

# --- --unknown-policy refuse: the start fails ---
start_daemon --unknown-policy refuse
b=$work/b-refuse
notify_bundle "$b" strcit 'echo started >/tmp/started; mkdir /tmp/x; sleep 5'
out=$(timeout 30 runc --root "$work/runc" run --bundle "$b" pun-refuse </dev/null 2>&1)
rc=$?
check "--unknown-policy refuse: runc run fails (rc $rc)" test "$rc" -ne 0
check "the container's program never ran" test ! -e "$b/rootfs/tmp/started"
check "the refusal is logged with its reason" grep -q 'names policy "strcit", which there is not (--unknown-policy refuse)' "$log"
check "and counted" bash -c "curl -fsS http://127.0.0.1:$port/metrics | grep -qx 'ocitap_refused_reports_total{reason=\"policy\"} 1'"
b=$work/b-known
notify_bundle "$b" deny 'mkdir /tmp/x 2>/dev/null; echo rc=$?'
out=$(timeout 30 runc --root "$work/runc" run --bundle "$b" pun-known </dev/null 2>&1)
check "a known policy under refuse runs as usual (${out//$'\n'/ })" test "${out##*rc=}" = 1
stop_daemon
done_testing
