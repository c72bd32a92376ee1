#!/usr/bin/env bash
# owners.sh: with --allow-uid, each allowed user speaks only for the runs it
# began (issue 16, "who may say what"). Users 65534 and 65533 report over the
# daemon's socket; root (the runtimes) runs a real runc container. A user's
# run is shown with its owner; another user's reports on it, a run it would
# begin under that id, and a listener message (with a real notify fd) for
# it are refused with reason "owner", logged and counted, and change
# nothing; no user touches root's container; root speaks for every run.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "owners"
CLAIM="$TOP/$BUILD/tests/claim-id"
command -v setpriv >/dev/null || skip_rest "owners" "setpriv is not installed (util-linux)"
command -v socat >/dev/null || skip_rest "owners" "socat is not installed"

test_init owners
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port" --keeper off --allow-uid 65534 --allow-uid 65533)
daemon_ready=http://127.0.0.1:$port/healthz
get() { curl -s "http://127.0.0.1:$port$1"; }
as() { # UID CMD...: run as that user
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups "$@"
}
report() { # UID STAGE ID [PID]: a hook report as that user; prints the answer
	printf '{"ocitapReport":1,"stage":"%s","state":{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%d,"bundle":"/b"}}' \
		"$2" "$3" "$([[ $2 == poststop ]] && echo stopped || echo creating)" "${4:-0}" |
		as "$1" socat -t5 - UNIX-CONNECT:"$sock" 2>&1
}

start_daemon
chmod 0755 "$work" "$(dirname "$sock")"
chmod 0666 "$sock"

# root's real container, with the listener (mkdir notified, policy deny)
b=$work/b-rootc
notify_bundle "$b" deny 'while :; do if mkdir /tmp/d 2>/dev/null; then echo OK >>/tmp/res; rmdir /tmp/d; else echo DENIED >>/tmp/res; fi; sleep 0.05; done'
timeout 30 runc --root "$work/runc" run -d --bundle "$b" rootc </dev/null >/dev/null 2>&1
for ((i = 0; i < 50; i++)); do [[ $(q "select phase from containers where id='rootc'") == creating ]] && break; sleep 0.1; done

# a user's own run: a process of its own as the init
as 65534 sleep 300 &
upid=$!
check "uid 65534 begins a run of its own (createRuntime)" test "$(report 65534 createRuntime u-web "$upid")" = ok
check "... and reports on it (poststart)" test "$(report 65534 poststart u-web)" = ok
j=$(get /v1/containers/u-web)
check "the API shows the run's owner (65534)" test "$(jq -r '[.owner, .run, .status] | join(" ")' <<<"$j")" = "65534 1 running" || echo "# $j"
check "root's container is owned by root (0)" test "$(get /v1/containers/rootc | jq -r .owner)" = 0
"$TOP/$BUILD/bin/ocitap" inspect u-web --http "127.0.0.1:$port" --state-dir "$state" --runc-root "$work/runc" >"$work/i.txt" 2>&1
check "ocitap inspect shows the owner" grep -q "owner  *uid 65534 (nobody)" "$work/i.txt"

# another user: nothing it says about 65534's run is taken
r=$(report 65533 poststop u-web)
check "uid 65533's poststop for 65534's run is refused, and says why" \
	test "$r" = "error: refused: uid 65533 speaks for u-web, whose run 1 uid 65534 began"
check "uid 65533's createRuntime (a run of its own) under 65534's id is refused" \
	test "$(report 65533 createRuntime u-web 1)" = "error: refused: uid 65533 speaks for u-web, whose run 1 uid 65534 began"
check "... and 65534's run is unchanged: run 1 of 1, running" \
	test "$(get /v1/containers/u-web | jq -r '[.run, .runs, .status, .owner] | join(" ")')" = "1 1 running 65534"
check "the refusals are logged" \
	grep -q "dropped peer pid [0-9]* uid 65533: uid 65533 speaks for u-web, whose run 1 uid 65534 began" "$log"

# no user touches root's container: a report, and a listener message with a real notify fd
check "uid 65534's poststop for root's container is refused" \
	test "$(report 65534 poststop rootc)" = "error: refused: uid 65534 speaks for rootc, whose run 1 uid 0 began"
as 65534 "$CLAIM" "$sock" rootc audit creating 3 >/dev/null 2>&1
check "uid 65534's listener message for root's container (its own filter's fd) is refused" \
	grep -q "dropped peer pid [0-9]* uid 65534: uid 65534 speaks for rootc, whose run 1 uid 0 began" "$log"
res=$b/rootfs/tmp/res
: >"$res"
sleep 1
check "root's container keeps its policy (mkdir still denied: $(sort "$res" | uniq -c | tr -s ' ' | tr '\n' ' '))" \
	bash -c 'grep -q DENIED "$1" && ! grep -q OK "$1"' _ "$res"
check "root's container is still one run, owned by root" \
	test "$(get /v1/containers/rootc | jq -r '[.run, .runs, .owner] | join(" ")')" = "1 1 0"
get /metrics >"$work/metrics.txt"
check "/metrics: refusals counted under reason owner (4)" \
	grep -qx 'ocitap_refused_reports_total{reason="owner"} 4' "$work/metrics.txt"

# root speaks for every run
kill "$upid" 2>/dev/null
wait "$upid" 2>/dev/null
sleep 0.3
check "root's poststop for 65534's run (its init gone) is taken" test "$(report 0 poststop u-web)" = ok
check "... and 65534's run is stopped" test "$(get /v1/containers/u-web | jq -r .status)" = stopped
check "uid 65534 begins its next run of u-web (its own id)" test "$(report 65534 createRuntime u-web 2)" = ok
check "... run 2, owned by 65534" test "$(get /v1/containers/u-web | jq -r '[.run, .owner] | join(" ")')" = "2 65534"
check "the store keeps the owner of each run" test "$(q "select group_concat(run || ':' || owner, ' ') from runs where id='u-web'")" = "1:65534 2:65534"
runc --root "$work/runc" delete -f rootc >/dev/null 2>&1
done_testing
