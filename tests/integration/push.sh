#!/usr/bin/env bash
# push.sh: ocitapd --push with a receiver started here on loopback
# (push-receiver) and real runc containers. Every event arrives as a
# CloudEvent (batched), with the bearer token; with the receiver stopped,
# refusing (503), and ocitapd restarted meanwhile, nothing is missing once
# it is back, and a duplicate only ever repeats an event id with the same
# content.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "push"

BIN="$TOP/$BUILD/bin"
test_init push
chmod 0755 "$work"
sockdir=$work/run sock=$work/run/ocitap.sock
mkdir -p "$sockdir"
recv_pid=
test_cleanup() { [[ -n $recv_pid ]] && kill -9 "$recv_pid" 2>/dev/null; }
rport=$(free_port)
hport=$(free_port)
[[ $hport == "$rport" ]] && hport=$((rport + 1))
got=$work/received
echo "push-token-for-tests" >"$work/token"
start_receiver() {
	"$TOP/tests/integration/push-receiver" "$rport" "$got" &
	recv_pid=$!
	for ((i = 0; i < 50; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$rport") 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
stop_receiver() { kill "$recv_pid" 2>/dev/null; wait "$recv_pid" 2>/dev/null; recv_pid=; }
daemon_args=(--http "127.0.0.1:$hport" --push "http://127.0.0.1:$rport/events?src=test" --push-token-file "$work/token")
metric() { curl -s "http://127.0.0.1:$hport/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
received_ids() { [[ -s $got ]] && cut -f3 "$got" | jq -r '.[].id' | sort -n; }
stored_ids() { q "select seq from events order by seq"; }
wait_delivered() { # until every stored event has been received (TENTHS)
	for ((i = 0; i < ${1:-100}; i++)); do
		[[ -n $(stored_ids) && $(received_ids | sort -nu) == "$(stored_ids)" ]] && return 0
		sleep 0.1
	done
	return 1
}

make_rootfs "$work/rootfs"
bundle() { # ID -> bundle dir (hooks on every stage + listener, exits 0)
	local b="$work/b-$1"
	mkdir -p "$b"
	(cd "$b" && runc spec)
	jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" --arg sockdir "$sockdir" --arg root "$work/rootfs" '
	  def hook($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
	  .process.terminal = false | .root = {path: $root, readonly: false}
	| .process.args = ["sh", "-c", "mkdir -p /tmp/x; exit 0"]
	| .hooks = {prestart: [hook("prestart")], createRuntime: [hook("createRuntime")], poststart: [hook("poststart")],
	    poststop: [hook("poststop")]}
	| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=audit",
	    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}' \
		"$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	echo "$b"
}
run_c() { timeout 60 runc --root "$work/runc" run --bundle "$(bundle "$1")" "$1" </dev/null >/dev/null 2>&1; }

start_receiver || { not_ok "receiver started"; exit 0; }
start_daemon
run_c p1
check "runc container p1 ran" [ $? -eq 0 ]
wait_hooks p1 4 || true
check "receiver up: every stored event arrived ($(stored_ids | wc -l))" wait_delivered
check "... as application/cloudevents-batch+json with the bearer token" \
	[ "$(cut -f1,2 "$got" | sort -u)" = $'application/cloudevents-batch+json\tBearer push-token-for-tests' ]
first=$(cut -f3 "$got" | jq -c '.[]' | jq -s 'map(select(.subject == "p1" and .type == "io.ocitap.transition")) | first')
check "... CloudEvents 1.0: specversion, id = seq, type io.ocitap.transition, source ocitap://host, subject, time, data" \
	[ "$(jq -r '[.specversion, (.id == (.data.seq|tostring)), .source, .subject, (.time != null), .data.kind] | map(tostring) | join(" ")' <<<"$first")" = \
	"1.0 true ocitap://$(hostname) p1 true transition" ]
check "... batched (fewer POSTs than events)" [ "$(wc -l <"$got")" -lt "$(stored_ids | wc -l)" ]

# receiver down; containers run; ocitapd restarted meanwhile
stop_receiver
run_c p2
wait_hooks p2 4 || true
sleep 1.5
check "receiver down: failures counted, backlog in /metrics" \
	[ "$(metric "ocitap_push_failures_total{receiver=\"http://127.0.0.1:$rport/events\"}")" -ge 1 -a \
	"$(metric "ocitap_push_backlog_events{receiver=\"http://127.0.0.1:$rport/events\"}")" -ge 1 ]
stop_daemon
start_daemon
run_c p3
wait_hooks p3 4 || true
check "... nothing of p2 or p3 delivered yet" [ "$(received_ids | grep -c . )" -lt "$(stored_ids | wc -l)" ]
# back, but refusing for a while (503)
touch "$got.down"
start_receiver
sleep 1.5
rm -f "$got.down"
check "receiver back (after a restart of ocitapd and a spell of 503s): every event arrived" wait_delivered 400
check "... none missing: received ids = stored seqs" [ "$(received_ids | sort -nu)" = "$(stored_ids)" ]
dups=$(cut -f3 "$got" | jq -c '.[]' | jq -s 'group_by(.id) | map(select(length > 1)) | map(map(tojson) | unique | length) | map(select(. > 1)) | length')
check "... duplicates only with the same event id and content" [ "$dups" = 0 ]
check "... in order within each receiver's stream" [ "$(cut -f3 "$got" | jq -r '.[].id' | awk '$1 <= prev {bad = 1} {prev = $1} END {print bad + 0}')" = 0 ]
check "... backlog 0 in /metrics" [ "$(metric "ocitap_push_backlog_events{receiver=\"http://127.0.0.1:$rport/events\"}")" = 0 ]
check "... the cursor is in the store" \
	[ "$(q "select value from meta where key like 'push-cursor:%'")" = "$(q 'select max(seq) from events')" ]
# a receiver that takes 20 s to answer: containers and their hooks do not wait for it
touch "$got.slow"
run_c p4 # a first event reaches the slow receiver
start=$(date +%s%N)
run_c p5
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "receiver answering in 20 s: a container with hooks and listener still runs at once (exit $rc in $ms ms)" \
	[ "$rc" -eq 0 -a "$ms" -lt 3000 ]
check "... and its hooks were acknowledged (all four stored)" wait_hooks p5 4
rm -f "$got.slow"
start=$(date +%s%N)
stop_daemon
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "... and ocitapd stops at once (${ms} ms) though a POST is in flight" [ "$ms" -lt 3000 ]
stop_receiver

# a receiver further behind than --push-backlog: the oldest are skipped, and counted
: >"$got"
rm -f "$sock"
"$OCITAPD" --socket "$sock" --state-dir "$work/bl" --http "127.0.0.1:$hport" --push "http://127.0.0.1:$rport/" \
	--push-backlog 3 >>"$log" 2>&1 &
daemon_pid=$!
wait_for "$sock"
run_c p6
wait_hooks p6 4 || true
db_bl=$work/bl/ocitap.db
n_bl=$(sqlite3 -readonly "$db_bl" 'select count(*) from events')
start_receiver
for ((i = 0; i < 100; i++)); do [[ $(received_ids | tail -1) == "$n_bl" ]] && break; sleep 0.1; done
check "--push-backlog 3: the newest 3 of $n_bl events delivered, the oldest skipped" \
	[ "$(received_ids | tr '\n' ' ')" = "$((n_bl - 2)) $((n_bl - 1)) $n_bl " ]
check "... and counted in ocitap_push_skipped_events_total" \
	[ "$(metric "ocitap_push_skipped_events_total{receiver=\"http://127.0.0.1:$rport/\"}")" = "$((n_bl - 3))" ]
stop_daemon
stop_receiver

# https: a receiver with a certificate of its own CA
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
tport=$(free_port)
"$TOP/tests/integration/push-receiver" "$tport" "$work/tls-got" "$work/cert.pem" "$work/key.pem" &
recv_pid=$!
for ((i = 0; i < 50; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$tport") 2>/dev/null && break; sleep 0.1; done
"$OCITAPD" --socket "$work/tls.sock" --state-dir "$state" --http off --push "https://127.0.0.1:$tport/" >"$work/notrust.log" 2>&1 &
daemon_pid=$!
for ((i = 0; i < 50; i++)); do grep -q "certificate" "$work/notrust.log" && break; sleep 0.1; done
stop_daemon
check "https receiver, its CA not given: nothing sent, the log says why (certificate)" \
	bash -c '[ ! -s "$1" ] && grep -q "push https://127.0.0.1:[0-9]*/: .*certificate" "$2"' _ "$work/tls-got" "$work/notrust.log"
"$OCITAPD" --socket "$work/tls.sock" --state-dir "$state" --http off --push "https://127.0.0.1:$tport/" \
	--push-ca-file "$work/cert.pem" >>"$log" 2>&1 &
daemon_pid=$!
for ((i = 0; i < 100; i++)); do
	[[ -s $work/tls-got && $(cut -f3 "$work/tls-got" | jq -r '.[].id' | sort -nu) == "$(stored_ids)" ]] && break
	sleep 0.1
done
check "https receiver with --push-ca-file: every event delivered over TLS" \
	[ "$(cut -f3 "$work/tls-got" | jq -r '.[].id' | sort -nu)" = "$(stored_ids)" ]
stop_daemon
stop_receiver

"$OCITAPD" --socket "$work/x.sock" --state-dir "$work/x" --http off --push "ftp://example/x" >"$work/bad.log" 2>&1
rc=$?
check "--push ftp://...: exit 1, says what is expected" bash -c '[ "$1" -eq 1 ] && grep -q "http:// or https://" "$2"' _ "$rc" "$work/bad.log"
done_testing
