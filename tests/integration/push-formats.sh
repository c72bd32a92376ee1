#!/usr/bin/env bash
# push-formats.sh: ocitapd --push-format against receivers that take only
# what a collector takes (collector-receiver): Fluent Bit's and fluentd's
# HTTP inputs (application/json; fluentd also application/x-ndjson, and a
# record's "time" must be a number) and CloudEvents receivers, with the
# events of real runc containers. Each format: every stored event arrives
# once, in order, in the shape and content type its receiver checks. A
# format the receiver does not take: 400, its reason in the log and on
# /healthz, counted, nothing taken, no cursor. A receiver answering 400 to
# its first two POSTs, then 201: retried after 5 s and 10 s (not 0.5 s and
# 1 s as after a 5xx), events that came meanwhile included, every event
# then arrives exactly once and in order.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "push-formats"

BIN="$TOP/$BUILD/bin"
test_init push-formats
chmod 0755 "$work"
sockdir=$work/run sock=$work/run/ocitap.sock
mkdir -p "$sockdir"
recv_pid=
test_cleanup() { [[ -n $recv_pid ]] && kill -9 "$recv_pid" 2>/dev/null; }
hport=$(free_port)
daemon_ready="http://127.0.0.1:$hport/healthz"
metric() { curl -s "http://127.0.0.1:$hport/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
stored_ids() { q "select seq from events order by seq"; }

# start_receiver MODE [REJECT_FIRST]: a collector-receiver on a port of its
# own ($rport), what it takes in $got
start_receiver() {
	rport=$(free_port)
	got=$work/got-$1-$rport
	"$TOP/tests/integration/collector-receiver" "$rport" "$got" "$@" &
	recv_pid=$!
	for ((i = 0; i < 50; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$rport") 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
stop_receiver() { kill "$recv_pid" 2>/dev/null; wait "$recv_pid" 2>/dev/null; recv_pid=; }
# the ids the receiver took, in the order taken (a CloudEvent's id, a record's seq)
taken_ids() { [[ -s $got ]] && cut -f3- "$got" | jq -r '.id // .seq'; }
wait_taken() { # until every stored event has been taken (TENTHS, default 10 s)
	for ((i = 0; i < ${1:-100}; i++)); do
		[[ -n $(stored_ids) && $(taken_ids | sort -nu) == "$(stored_ids)" ]] && return 0
		sleep 0.1
	done
	return 1
}
# push_to FORMAT: ocitapd pushing in FORMAT to the receiver started last
push_to() { start_daemon --push-format "$1" --push "http://127.0.0.1:$rport/ocitap"; }

make_rootfs "$work/rootfs"
run_c() { # ID: a runc container with hooks on four stages and a listener, exits 0
	local b="$work/b-$1"
	mkdir -p "$b"
	(cd "$b" && runc spec)
	jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" --arg root "$work/rootfs" '
	  def hook($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
	  .process.terminal = false | .root = {path: $root, readonly: false}
	| .process.args = ["sh", "-c", "mkdir -p /tmp/x; exit 0"]
	| .hooks = {prestart: [hook("prestart")], createRuntime: [hook("createRuntime")], poststart: [hook("poststart")],
	    poststop: [hook("poststop")]}
	| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=audit",
	    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}' \
		"$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	timeout 60 runc --root "$work/runc" run --bundle "$b" "$1" </dev/null >/dev/null 2>&1 && wait_hooks "$1" 4
}

daemon_args=(--http "127.0.0.1:$hport")
start_daemon
run_c f1 && run_c f2
check "two runc containers recorded (the events every format pushes)" [ $? -eq 0 ]
stop_daemon
echo "# $(stored_ids | wc -l) events stored"

# ---- each format, to a receiver that takes only that -----------------------------------------

# check_taken WHAT: every stored event taken once, in order
check_taken() {
	n=$(stored_ids | wc -l)
	check "$1: every stored event taken ($n)" wait_taken
	check "... each once, in order" [ "$(taken_ids | tr '\n' ' ')" = "$(stored_ids | tr '\n' ' ')" ]
}
posts() { cut -f1 "$got.requests" | wc -l; }

start_receiver fluent-bit
push_to json
check_taken "json to a receiver checking the content type as Fluent Bit does"
check "... as application/json, in fewer POSTs than events, each answered 201" \
	[ "$(cut -f2 "$got" | sort -u)" = application/json -a "$(posts)" -lt "$n" -a "$(cut -f2 "$got.requests" | sort -u)" = 201 ]
check "... records: the event as /v1/events shows it, with its host, and time in seconds (a number, as wallNs)" \
	[ "$(cut -f3- "$got" | jq -r 'select(.seq == 1) | [.container, .kind, .source, .host, (.time | type),
	     ((.time | tostring | split(".")[0]) == (.wallNs / 1e9 | floor | tostring))] | map(tostring) | join(" ")')" = \
	"f1 hook prestart $(hostname) number true" ]
stop_daemon
stop_receiver

start_receiver fluentd
push_to json
check_taken "json to a receiver checking as fluentd does (a record's time must be a number)"
stop_daemon
stop_receiver

start_receiver fluentd
push_to ndjson
check_taken "ndjson to a fluentd-like receiver"
check "... as application/x-ndjson, several records a POST" \
	[ "$(cut -f2 "$got" | sort -u)" = application/x-ndjson -a "$(posts)" -lt "$n" ]
stop_daemon
stop_receiver

start_receiver cloudevents
push_to cloudevents
check_taken "cloudevents to a receiver of structured CloudEvents"
check "... one event per POST (application/cloudevents+json), answered 202" \
	[ "$(posts)" = "$n" -a "$(cut -f2 "$got" | sort -u)" = application/cloudevents+json \
	-a "$(cut -f2 "$got.requests" | sort -u)" = 202 ]
check "... CloudEvents 1.0: id = seq, source ocitap://host, type io.ocitap.*, data" \
	[ "$(cut -f3- "$got" | jq -r 'select(.id == "1") | [.specversion, .source, (.type | startswith("io.ocitap.")), .data.seq] | map(tostring) | join(" ")')" = \
	"1.0 ocitap://$(hostname) true 1" ]
stop_daemon
stop_receiver

start_receiver cloudevents-batch
start_daemon --push "http://127.0.0.1:$rport/ocitap" # the default format
check_taken "the default (cloudevents-batch) to a receiver of batched CloudEvents"
check "... as application/cloudevents-batch+json" [ "$(cut -f2 "$got" | sort -u)" = application/cloudevents-batch+json ]
stop_daemon
stop_receiver

# ---- a format the receiver does not take --------------------------------------------------------

start_receiver fluent-bit
start_daemon --push "http://127.0.0.1:$rport/ocitap" # cloudevents-batch, which Fluent Bit refuses
label="http://127.0.0.1:$rport/ocitap"
for ((i = 0; i < 50; i++)); do grep -q "push $label: refused" "$log" && break; sleep 0.1; done
check "cloudevents-batch to Fluent Bit: refused (400), the log says why and what was sent" \
	grep -q "push $label: refused: HTTP 400: error: invalid 'Content-Type' (sent as application/cloudevents-batch+json, --push-format cloudevents-batch); retrying in 5 s" "$log"
health=$(curl -s "http://127.0.0.1:$hport/healthz")
check "... /healthz: push not ok, the receiver's status and reason, 1 rejected, the daemon itself ok" \
	[ "$(jq -r '[.status, .push.ok, .push.format, .push.receivers[0].receiver, .push.receivers[0].ok,
	     .push.receivers[0].lastStatus, .push.receivers[0].error, .push.receivers[0].rejected,
	     .push.receivers[0].delivered, .push.receivers[0].backlog] | map(tostring) | join("|")' <<<"$health")" = \
	"ok|false|cloudevents-batch|$label|false|400|HTTP 400: error: invalid 'Content-Type'|1|0|$(q 'select max(seq) from events')" ]
check "... counted: ocitap_push_rejected_total{code=\"400\"} 1" \
	[ "$(metric "ocitap_push_rejected_total{receiver=\"$label\",code=\"400\"}")" = 1 ]
check "... nothing taken, no cursor stored" \
	[ ! -s "$got" -a -z "$(q "select value from meta where key = 'push-cursor:$label'")" ]
stop_daemon
stop_receiver

start_receiver fluentd
push_to cloudevents
for ((i = 0; i < 50; i++)); do grep -q "push http://127.0.0.1:$rport/ocitap: refused" "$log" && break; sleep 0.1; done
check "cloudevents to fluentd: refused, with fluentd's reason on one line" \
	grep -q "refused: HTTP 400: 400 Bad Request 'json', 'ndjson' or 'msgpack' parameter is required (sent as application/cloudevents+json" "$log"
stop_daemon
stop_receiver

# ---- a receiver refusing its first two POSTs, then taking them --------------------------------

start_receiver fluent-bit 2
label="http://127.0.0.1:$rport/ocitap"
push_to json
for ((i = 0; i < 50; i++)); do [[ -s $got.requests ]] && break; sleep 0.1; done
check "refused at first (400): the reason in the log" \
	grep -q "push $label: refused: HTTP 400: error: not ready yet (collector-receiver) (sent as application/json, --push-format json)" "$log"
check "... and on /healthz" \
	[ "$(curl -s "http://127.0.0.1:$hport/healthz" | jq -r '.push.receivers[0] | [.ok, .lastStatus, .error] | map(tostring) | join("|")')" = \
	"false|400|HTTP 400: error: not ready yet (collector-receiver)" ]
run_c f3 # meanwhile: more events, queued behind the refused ones
check "... containers still run and are recorded meanwhile" [ $? -eq 0 ]
check "then taken: every stored event once it accepts (after 5 s + 10 s of backoff)" wait_taken 300
check "... each exactly once, in order, f3's included" \
	[ "$(taken_ids | tr '\n' ' ')" = "$(stored_ids | tr '\n' ' ')" -a -n "$(cut -f3- "$got" | jq -r 'select(.container == "f3") | .seq' | head -1)" ]
mapfile -t at < <(cut -f4 "$got.requests")
gap1=$((at[1] - at[0])) gap2=$((at[2] - at[1]))
check "... retried less often than after a 5xx: ${gap1} ms, then ${gap2} ms (5 s, 10 s)" \
	[ "$(cut -f2 "$got.requests" | head -3 | tr '\n' ' ')" = "400 400 201 " -a "$gap1" -ge 4500 -a "$gap2" -ge 9500 ]
check "... counted (2 rejected), delivering again in the log, healthy on /healthz" \
	[ "$(metric "ocitap_push_rejected_total{receiver=\"$label\",code=\"400\"}")" = 2 \
	-a "$(grep -c "push $label: delivering again" "$log")" = 1 \
	-a "$(curl -s "http://127.0.0.1:$hport/healthz" | jq -r '[.push.ok, .push.receivers[0].ok, .push.receivers[0].rejected, .push.receivers[0].error] | map(tostring) | join(" ")')" = "true true 2 null" ]
check "... the cursor is the last event" \
	[ "$(q "select value from meta where key = 'push-cursor:$label'")" = "$(q 'select max(seq) from events')" ]
stop_daemon
stop_receiver

"$OCITAPD" --socket "$work/x.sock" --state-dir "$work/x" --http off --push "http://127.0.0.1:1/" \
	--push-format fluent-bit >"$work/bad.log" 2>&1
rc=$?
check "--push-format fluent-bit: exit 2, names the value and the formats" \
	bash -c '[ "$1" -eq 2 ] && grep -q "\"fluent-bit\" is not cloudevents-batch (the default), cloudevents, json or ndjson" "$2"' _ "$rc" "$work/bad.log"
done_testing
