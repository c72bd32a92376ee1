#!/usr/bin/env bash
# http.sh: ocitapd's HTTP export against real runc containers. Every
# endpoint's content is checked against the container's real lifecycle
# (six ocitap hooks, the seccomp listener, an exit code); the event stream
# delivers live and resumes after Last-Event-ID with no gap and no repeat;
# /metrics passes promtool and a real Prometheus scrapes it; bad requests
# get JSON errors while notifications keep being answered; a non-loopback
# address needs a bearer token; with the store's disk full /healthz says
# degraded (503) and recovers when space returns.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "http"

BIN="$TOP/$BUILD/bin"
test_init http
chmod 0755 "$work"
sockdir=$work/run sock=$work/run/ocitap.sock
mkdir -p "$sockdir"
pids=()
test_cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	mountpoint -q "$work/full" && umount "$work/full"
}

# a free loopback port (bind would say so otherwise; the daemon start is checked)
port=$(free_port)
base=http://127.0.0.1:$port

start_daemon --http "127.0.0.1:$port" --log-level debug
for ((i = 0; i < 50; i++)); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
get() { curl -s --max-time 10 "$base$1"; }
code() { curl -s --max-time 10 -o "$work/body" -w '%{http_code}' "${@:2}" "$base$1"; }

# ---- a real container: six hooks, notified mkdir and chmod, exit 3 ----
make_rootfs "$work/rootfs"
bundle() { # ID ARGS-JSON -> bundle dir
	local b="$work/b-$1"
	mkdir -p "$b"
	(cd "$b" && runc spec)
	jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" --arg sockdir "$sockdir" --arg root "$work/rootfs" \
		--argjson args "$2" '
	  def hook($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
	  .process.terminal = false | .root = {path: $root, readonly: false} | .process.args = $args
	| .annotations = {"org.ocitap.test": "http", "org.ocitap.quote": "a \"quoted\" <value>\nwith a newline"}
	| .mounts += [{destination: "/ocitap", type: "bind", source: $bin, options: ["rbind", "ro"]},
	              {destination: $sockdir, type: "bind", source: $sockdir, options: ["rbind"]}]
	| .hooks = {prestart: [hook("prestart")], createRuntime: [hook("createRuntime")],
	    createContainer: [hook("createContainer")],
	    startContainer: [{path: "/ocitap/ocitap-hook-static", args: ["ocitap-startContainer", "--socket", $sock, "--state-dir", "/tmp"]}],
	    poststart: [hook("poststart")], poststop: [hook("poststop")]}
	| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=audit",
	    architectures: ["SCMP_ARCH_X86_64"], syscalls: [{names: ["mkdir", "mkdirat", "chmod", "fchmodat"], action: "SCMP_ACT_NOTIFY"}]}' \
		"$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	echo "$b"
}
run_c() { # ID BUNDLE -> rc
	timeout 60 runc --root "$work/runc" run --bundle "$2" "$1" </dev/null >"$work/out-$1" 2>&1
}

# the live stream, opened before the container
curl -sN --max-time 60 "$base/v1/events/stream" >"$work/sse-live" 2>/dev/null &
sse_pid=$!
pids+=("$sse_pid")
sleep 0.3

b=$(bundle web '["sh", "-c", "mkdir /tmp/d1 /tmp/d2 /tmp/d3 && chmod 700 /tmp/d1 && exit 3"]')
run_c web "$b"
rc=$?
check "runc container with hooks and listener ran (exit 3)" [ "$rc" -eq 3 ]
[[ $rc -eq 3 ]] || sed 's/^/# /' "$work/out-web"
wait_hooks web 6 || true
sleep 1.5 # notification counts reach the store once a second

get /v1/containers/web >"$work/web.json"
check "/v1/containers/web: status stopped" [ "$(jq -r .status "$work/web.json")" = stopped ]
check "... exit code 3, no signal, no OOM" [ "$(jq -c '.exit' "$work/web.json")" = '{"code":3,"signal":0,"oomKilled":false}' ]
check "... bundle" [ "$(jq -r .bundle "$work/web.json")" = "$b" ]
check "... annotations, with quotes and a newline intact" \
	[ "$(jq -r '.annotations["org.ocitap.quote"]' "$work/web.json")" = $'a "quoted" <value>\nwith a newline' ]
# runc runs poststart alongside startContainer: created may come after running (a "late" event)
check "... timeline: creating -> [created ->] running -> stopped, in order; created seen" \
	bash -c '[[ $(jq -r "[.timeline[] | select(.kind == \"transition\") | .to] | join(\",\")" "$1") =~ ^creating,(created,)?running,stopped$ ]] &&
		[ "$(jq "[.timeline[] | select(.to == \"created\")] | length" "$1")" -ge 1 ]' _ "$work/web.json"
check "... every transition has a source and a time" \
	[ "$(jq '[.timeline[] | select(.kind == "transition") | select(.source == null or .time == null)] | length' "$work/web.json")" = 0 ]
check "... six hook reports in the timeline" \
	[ "$(jq '[.timeline[] | select(.kind == "hook")] | length' "$work/web.json")" = 6 ]
check "... time between transitions given" \
	[ "$(jq '[.timeline[] | select(.kind == "transition") | .sincePreviousSeconds // empty] | length' "$work/web.json")" = \
	"$(jq '[.timeline[] | select(.kind == "transition")] | length - 1' "$work/web.json")" ]
check "... the exit event carries the code" \
	[ "$(jq '[.timeline[] | select(.kind == "exit") | .exitCode] | first' "$work/web.json")" = 3 ]
mkdirs=$(jq '[.notifications[] | select(.syscall == "mkdir" or .syscall == "mkdirat") | .count] | add' "$work/web.json")
check "... notification counts: 3 mkdir, 1 chmod (continue)" \
	[ "$mkdirs" = 3 -a "$(jq '[.notifications[] | select(.syscall == "chmod" or .syscall == "fchmodat") | .count] | add' "$work/web.json")" = 1 -a \
	"$(jq -r '[.notifications[].action] | unique | join(",")' "$work/web.json")" = continue ]
check "... the store agrees (seq of the last event)" \
	[ "$(jq '.timeline[-1].seq' "$work/web.json")" = "$(q "select max(seq) from events where container_id='web'")" ]

get /v1/containers >"$work/list.json"
check "/v1/containers lists it" [ "$(jq '[.containers[] | select(.id == "web")] | length' "$work/list.json")" = 1 ]
check "?status=stopped lists it, ?status=running does not" \
	[ "$(get '/v1/containers?status=stopped' | jq '[.containers[] | select(.id == "web")] | length')" = 1 -a \
	"$(get '/v1/containers?status=running' | jq '.containers | length')" = 0 ]
check "?annotation=org.ocitap.test=http lists it; =other does not; a key alone matches" \
	[ "$(get '/v1/containers?annotation=org.ocitap.test=http' | jq '.containers | length')" = 1 -a \
	"$(get '/v1/containers?annotation=org.ocitap.test=other' | jq '.containers | length')" = 0 -a \
	"$(get '/v1/containers?annotation=org.ocitap.test' | jq '.containers | length')" = 1 ]
check "two annotation filters: both must match" \
	[ "$(get '/v1/containers?annotation=org.ocitap.test=http&annotation=nope=1' | jq '.containers | length')" = 0 ]

# ---- events: paging, sequence ----
get '/v1/events?since=0&limit=10000' >"$work/all.json"
n_all=$(jq '.events | length' "$work/all.json")
check "/v1/events: every stored event ($n_all)" [ "$n_all" = "$(q 'select count(*) from events')" ]
check "... in increasing seq order" [ "$(jq '[.events[].seq] | . == (sort | unique)' "$work/all.json")" = true ]
since=0
: >"$work/paged"
while :; do
	get "/v1/events?since=$since&limit=4" >"$work/page.json"
	[[ $(jq '.events | length' "$work/page.json") -eq 0 ]] && break
	jq -r '.events[].seq' "$work/page.json" >>"$work/paged"
	since=$(jq .next "$work/page.json")
done
check "... pages of 4 (since=next) give the same events" [ "$(jq -r '.events[].seq' "$work/all.json")" = "$(cat "$work/paged")" ]
check "... ?id= gives one container's" [ "$(get '/v1/events?id=web' | jq '[.events[].container] | unique | join(",")' -r)" = web ]

# ---- the live stream ----
kill "$sse_pid" 2>/dev/null
wait "$sse_pid" 2>/dev/null
sse_ids() { sed -n 's/^id: //p' "$1"; }
check "event stream: got the container's events live, the same as /v1/events" \
	[ "$(sse_ids "$work/sse-live")" = "$(jq -r '.events[].seq' "$work/all.json")" ]
check "... each with its kind and a one-line JSON body" \
	[ "$(sed -n 's/^data: //p' "$work/sse-live" | jq -s 'map(.seq) | length')" = "$n_all" ]

# resume: a reader cut off part way through a second container reconnects with Last-Event-ID
last_before=$(q 'select max(seq) from events')
curl -sN --max-time 60 -H "Last-Event-ID: $last_before" "$base/v1/events/stream" >"$work/sse-a" 2>/dev/null &
a_pid=$!
pids+=("$a_pid")
b2=$(bundle web2 '["sh", "-c", "mkdir /tmp/e1; sleep 0.5; exit 0"]')
run_c web2 "$b2" &
c_pid=$!
# cut the first reader once it has seen some of web2's events, not all
for ((i = 0; i < 100; i++)); do [[ $(sse_ids "$work/sse-a" | wc -l) -ge 3 ]] && break; sleep 0.05; done
kill "$a_pid" 2>/dev/null
wait "$a_pid" 2>/dev/null
resume=$(sse_ids "$work/sse-a" | tail -1)
wait "$c_pid"
wait_hooks web2 6 || true
curl -sN --max-time 2 -H "Last-Event-ID: $resume" "$base/v1/events/stream" >"$work/sse-b" 2>/dev/null
expected=$(q "select seq from events where seq > $last_before order by seq")
got=$( (sse_ids "$work/sse-a"; sse_ids "$work/sse-b") )
check "resume with Last-Event-ID: no gap, no repeat (cut after ${resume:-nothing})" [ -n "$resume" -a "$got" = "$expected" ]
check "... and ?since= does the same" \
	[ "$(curl -sN --max-time 2 "$base/v1/events/stream?since=$last_before" | sed -n 's/^id: //p')" = "$expected" ]

# ---- health and metrics ----
sleep 1.2 # web2's notification counts reach the metrics once a second
check "/healthz: 200, status ok, store readable and writable" \
	[ "$(code /healthz)" = 200 -a "$(jq -r '.status + (.store.ok|tostring)' "$work/body")" = "oktrue" ]
check "/healthz: no report waits in the spool (spool.pending 0)" [ "$(jq -r .spool.pending "$work/body")" = 0 ]
check "/metrics: ocitap_spool_pending 0" bash -c "curl -s '$base/metrics' | grep -qx 'ocitap_spool_pending 0'"
check "... says whether BPF is on, and why when it is off" \
	jq -e '(.bpf.enabled == true and (.bpf.tracingSyscalls | type) == "boolean") or
	       (.bpf.enabled == false and (.bpf.reason | length) > 0)' "$work/body" 
get /metrics >"$work/metrics"
check "/metrics passes promtool check metrics" promtool check metrics <"$work/metrics"
metric() { awk -v k="$1" '$1 == k {print $2}' "$work/metrics"; }
check "... two containers stopped" [ "$(metric 'ocitap_containers{status="stopped"}')" = 2 ]
check "... two transitions to running, first seen by poststart or seccomp" \
	[ "$(awk '$1 ~ /^ocitap_transitions_total\{to="running"/ {s += $2} END {print s}' "$work/metrics")" = 2 ]
check "... one exit with code 3, one with 0" \
	[ "$(metric 'ocitap_container_exits_total{code="3"}')" = 1 -a "$(metric 'ocitap_container_exits_total{code="0"}')" = 1 ]
check "... twelve hook reports" \
	[ "$(awk '$1 ~ /^ocitap_hook_reports_total/ {s += $2} END {print s}' "$work/metrics")" = 12 ]
check "... notifications by syscall and action (4 mkdir, continue)" \
	[ "$(awk '$1 ~ /^ocitap_notifications_total\{syscall="mkdir(at)?",action="continue"\}/ {s += $2} END {print s}' "$work/metrics")" = 4 ]
in_order=0
for id in web web2; do
	get "/v1/containers/$id" | jq -e '[.timeline[] | select(.kind == "transition") | .to] | index("created") != null' >/dev/null &&
		in_order=$((in_order + 1))
done
check "... start-to-running histogram observed for each container that showed created before running ($in_order)" \
	[ "$(metric ocitap_container_start_to_running_seconds_count)" = "$in_order" ]
check "... create-to-start histogram observed twice" [ "$(metric ocitap_container_create_to_start_seconds_count)" = 2 ]
check "... self-metrics: store commits, open fds" [ "$(metric ocitap_store_commits_total)" -gt 0 -a "$(metric process_open_fds)" -gt 0 ]

# ---- a real Prometheus scrapes it ----
if command -v prometheus >/dev/null; then
	pport=$((port + 1))
	while (exec 3<>"/dev/tcp/127.0.0.1/$pport") 2>/dev/null; do pport=$((pport + 1)); done
	cat >"$work/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: ocitapd
    static_configs: [{targets: ["127.0.0.1:$port"]}]
EOF
	timeout 90 prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
		--web.listen-address="127.0.0.1:$pport" >"$work/prometheus.log" 2>&1 &
	prom_pid=$!
	pids+=("$prom_pid")
	val=
	for ((i = 0; i < 300; i++)); do
		val=$(curl -s --max-time 2 "http://127.0.0.1:$pport/api/v1/query" \
			--data-urlencode 'query=sum(ocitap_container_exits_total{job="ocitapd"})' | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
		[[ -n $val ]] && break
		sleep 0.2
	done
	check "Prometheus scraped ocitapd: sum(ocitap_container_exits_total) = 2 (${val:-nothing after 60 s})" [ "$val" = 2 ]
	up=$(curl -s "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=up{job="ocitapd"}' | jq -r '.data.result[0].value[1]')
	check "... its target is up" [ "$up" = 1 ]
	stopped=$(curl -s "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=ocitap_containers{status="stopped"}' | jq -r '.data.result[0].value[1]')
	check "... ocitap_containers{status=\"stopped\"} = 2" [ "$stopped" = 2 ]
	kill "$prom_pid" 2>/dev/null
	wait "$prom_pid" 2>/dev/null
else
	not_ok "prometheus is installed (scripts/deps.sh check installs it)"
fi

# ---- bad requests, while notifications flow ----
check "unknown path: 404, JSON error" [ "$(code /v2/nothing)" = 404 -a -n "$(jq -r .error "$work/body")" ]
check "unknown container: 404, names the id (escaped)" \
	[ "$(code '/v1/containers/%22%3Cscript%3E')" = 404 -a "$(jq -r .id "$work/body")" = '"<script>' ]
check "bad status filter: 400" [ "$(code '/v1/containers?status=zombie')" = 400 ]
check "bad since: 400" [ "$(code '/v1/events?since=abc')" = 400 ]
check "limit out of range: 400" [ "$(code '/v1/events?limit=100000')" = 400 ]
check "bad Last-Event-ID: 400" [ "$(code /v1/events/stream -H 'Last-Event-ID: x')" = 400 ]
check "POST: 405 with Allow" [ "$(code /metrics -X POST)" = 405 ]
check "a request body: 413" [ "$(code /metrics -X GET --data-binary hello)" = 413 ]
check "a 64 KiB query string: refused (414)" [ "$(code "/v1/events?since=$(head -c 65536 /dev/zero | tr '\0' 1)")" = 414 ]
# clients that never read, and a slowloris, while a container makes notified syscalls
for ((i = 0; i < 8; i++)); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'GET /v1/events/stream?since=0 HTTP/1.1\r\nHost: x\r\n\r\n' >&3; sleep 40) &
	pids+=($!)
	(exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'GET /metr' >&3; sleep 40) &
	pids+=($!)
	disown -a
done
b3=$(bundle busy '["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do mkdir /tmp/f$i || exit 1; done; exit 0"]')
start=$(date +%s%N)
run_c busy "$b3"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "with 16 stuck HTTP clients, a container's notified syscalls are answered (exit 0 in ${ms} ms)" [ "$rc" -eq 0 -a "$ms" -lt 10000 ]
check "... and the API still answers" [ "$(code /healthz)" = 200 ]

# ---- addresses and the bearer token ----
stop_daemon
"$OCITAPD" --socket "$work/t.sock" --state-dir "$work/t" --http "0.0.0.0:$port" >"$work/open.log" 2>&1
rc=$?
check "a non-loopback --http without --http-token-file: refused (exit 1), says why" \
	bash -c '[ "$1" -eq 1 ] && grep -q -- --http-token-file "$2"' _ "$rc" "$work/open.log"
echo "s3cret-token-for-tests" >"$work/token"
chmod 600 "$work/token"
"$OCITAPD" --socket "$work/t.sock" --state-dir "$work/t" --http "0.0.0.0:$port" --http-token-file "$work/token" \
	>>"$log" 2>&1 &
daemon_pid=$!
for ((i = 0; i < 50; i++)); do curl -s "$base/healthz" >/dev/null && break; sleep 0.1; done
check "with a token: no token gives 401" [ "$(code /healthz)" = 401 ]
check "... a wrong token gives 401" [ "$(code /healthz -H 'Authorization: Bearer s3cret-token-for-test')" = 401 ]
check "... the token gives 200" [ "$(code /healthz -H 'Authorization: Bearer s3cret-token-for-tests')" = 200 ]
stop_daemon
"$OCITAPD" --socket "$work/u.sock" --state-dir "$work/u" --http "unix:$work/http.sock" >>"$log" 2>&1 &
daemon_pid=$!
wait_for "$work/http.sock"
check "--http unix:PATH serves /healthz" \
	[ "$(curl -s --unix-socket "$work/http.sock" http://x/healthz | jq -r .status)" = ok ]
check "... the socket is 0600" [ "$(stat -c %a "$work/http.sock")" = 600 ]
stop_daemon
check "... and removed at exit" [ ! -e "$work/http.sock" ]
"$OCITAPD" --socket "$work/v.sock" --state-dir "$work/v" --http "nonsense" >"$work/bad.log" 2>&1
rc=$?
check "--http nonsense: exit 1, names the forms" bash -c '[ "$1" -eq 1 ] && grep -q HOST:PORT "$2"' _ "$rc" "$work/bad.log"

# ---- the store's disk full: /healthz says degraded (503), and recovers ----
full=$work/full
mkdir -p "$full"
if mount -t tmpfs -o size=2m tmpfs "$full" 2>/dev/null; then
	"$OCITAPD" --socket "$work/f.sock" --state-dir "$full/state" --http "127.0.0.1:$port" >>"$log" 2>&1 &
	daemon_pid=$!
	wait_for "$work/f.sock"
	for ((i = 0; i < 50; i++)); do curl -s "$base/healthz" >/dev/null && break; sleep 0.1; done
	dd if=/dev/zero of="$full/filler" bs=64k >/dev/null 2>&1
	for ((i = 0; i < 60; i++)); do
		printf '{"ociVersion":"1.0.2","id":"full-%d","status":"stopped","pid":0,"bundle":"/b"}' "$i" |
			"$BIN/ocitap-poststop" --socket "$work/f.sock" --state-dir "$full/state" --timeout 100 2>/dev/null
		[[ $(code /healthz) == 503 ]] && break
	done
	check "disk full: /healthz 503, status degraded, the store not writable" \
		[ "$(code /healthz)" = 503 -a "$(jq -r '.status + " " + (.store.writable|tostring)' "$work/body")" = "degraded false" ]
	check "... and /metrics says so (ocitap_store_degraded 1, failures counted)" \
		bash -c 'm=$(curl -s "$1/metrics"); grep -q "^ocitap_store_degraded 1" <<<"$m" && grep -q "^ocitap_store_failures_total [1-9]" <<<"$m"' _ "$base"
	rm -f "$full/filler"
	for ((i = 0; i < 50; i++)); do [[ $(code /healthz) == 200 ]] && break; sleep 0.1; done
	check "space back: /healthz 200 again" [ "$(code /healthz)" = 200 ]
	stop_daemon
	umount "$full"
else
	skip "disk full: /healthz degraded" "cannot mount a tmpfs here"
fi
done_testing
