#!/usr/bin/env bash
# http-fairness.sh: hostile HTTP clients do not take ocitapd's HTTP export
# away from everyone else. 80 event-stream clients that never read and 120
# that connect and drop, over and over, while /healthz answers in under a
# second every time; the streams stop at 32 (the 33rd: 503, a JSON error
# naming the limit); once the clients are gone the daemon holds the fds it
# held before (no store connection, no socket left, nothing in CLOSE-WAIT).
# A path with a NUL or a control character (%00, %0a, %7f) is 400, not the
# path before it; an id longer than the API takes is 400. /metrics' store
# figures, kept between commits, move at the next one.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "http-fairness"

test_init http-fair
here=$(dirname "$0")
pids=()
test_cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
}
port=$(free_port)
base=http://127.0.0.1:$port
daemon_ready=$base/healthz
start_daemon --http "127.0.0.1:$port" --keeper off --bpf off

# code PATH: the status of GET PATH, the body in $work/body
code() { curl -s -o "$work/body" -w '%{http_code}' --max-time 5 "$base$1"; }
fds() { ls "/proc/$daemon_pid/fd" | wc -l; }
db_fds() { ls -l "/proc/$daemon_pid/fd" | grep -c 'ocitap\.db'; }
sockets() { ls -l "/proc/$daemon_pid/fd" | grep -c 'socket:'; }
# the store thread's connection (db, wal), the shared -shm, and the HTTP
# pool's 4 read-only connections (db, wal each): whatever the clients did
db_bound=$((2 + 1 + 4 * 2))

# a container, so that its id is there to be confused with
printf '{"ocitapReport":1,"stage":"poststop","state":{"id":"known","status":"stopped"}}' |
	socat -t5 - UNIX-CONNECT:"$sock" >/dev/null 2>&1
for ((i = 0; i < 50; i++)); do [[ $(code /v1/containers/known) == 200 ]] && break; sleep 0.1; done
check "a known container answers 200" [ "$(code /v1/containers/known)" = 200 ]

# /metrics keeps its store figures until the next commit, and not beyond
metric() { curl -s --max-time 5 "$base/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
seq1=$(metric ocitap_events_last_seq)
check "/metrics: one container stopped, events up to $seq1" \
	[ "$(metric 'ocitap_containers{status="stopped"}')" = 1 -a "$(metric ocitap_events_last_seq)" = "$seq1" ]
printf '{"ocitapReport":1,"stage":"poststop","state":{"id":"known2","status":"stopped"}}' |
	socat -t5 - UNIX-CONNECT:"$sock" >/dev/null 2>&1
for ((i = 0; i < 50; i++)); do [[ $(code /v1/containers/known2) == 200 ]] && break; sleep 0.1; done
seq2=$(metric ocitap_events_last_seq)
check "... once another is recorded: two, events up to $seq2 (after $seq1)" \
	[ "$(metric 'ocitap_containers{status="stopped"}')" = 2 -a "${seq2:-0}" -gt "${seq1:-0}" ]

# ---- bad paths ----
bad_path() { [ "$(code "$1")" = 400 ] && jq -e '.status == 400 and (.error | test("control character"))' "$work/body" >/dev/null; }
check "/v1/containers/known%00x: 400 with a JSON error, not the container" bad_path '/v1/containers/known%00x'
check "/v1/containers/known%00: 400" bad_path '/v1/containers/known%00'
check "%0a in the path: 400" bad_path '/v1/containers/kn%0aown'
check "%1F in the path: 400" bad_path '/v1/containers/kn%1Fown'
check "%7f in the path: 400" bad_path '/v1/containers/kn%7fown'
check "%00 in /healthz: 400" bad_path '/healthz%00'
check "%00 in a profile's path: 400" bad_path '/v1/containers/known%00/profile'
check "a %00 in the query is the query's business (the path is fine): not 400 by the path check" \
	bash -c '[ "$(curl -s -o "$2" -w "%{http_code}" "$1/v1/containers?status=%00")" = 400 ] && ! grep -q "control character" "$2"' \
	_ "$base" "$work/body"
long=$(head -c 1025 /dev/zero | tr '\0' a)
check "a 1025-byte id: 400, names the limit" \
	bash -c '[ "$(curl -s -o "$2" -w "%{http_code}" "$1/v1/containers/$3")" = 400 ] && jq -e ".error | test(\"1024\")" "$2" >/dev/null' \
	_ "$base" "$work/body" "$long"
check "a 1025-byte id's profile: 400" [ "$(code "/v1/containers/$long/profile")" = 400 ]
check "a 1024-byte id: 404 (no such container)" [ "$(code "/v1/containers/${long:1}")" = 404 ]

# ---- hostile clients ----
sleep 0.5
sockets_before=$(sockets)
/usr/bin/python3 "$here/http-clients.py" "$port" hold 80 600 >"$work/hold.out" 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do [[ -s $work/hold.out ]] && break; sleep 0.1; done
check "80 stream clients that never read connected ($(cat "$work/hold.out"))" grep -q '^held=80$' "$work/hold.out"
/usr/bin/python3 "$here/http-clients.py" "$port" drop 120 6 >"$work/drop.out" 2>&1 &
drop=$!
pids+=($drop)
worst=0 answered=0 asked=0
for ((i = 0; i < 40; i++)); do
	t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 3 "$base/healthz")
	asked=$((asked + 1))
	[[ ${t%% *} == 200 ]] && answered=$((answered + 1)) || echo "# /healthz: $t"
	worst=$(awk -v a="$worst" -v b="${t#* }" 'BEGIN { print (b > a) ? b : a }')
	sleep 0.12
done
check "with 80 stuck streams and 120 clients dropping: /healthz answered $answered of $asked times" [ "$answered" = "$asked" ]
check "... each in under a second (the slowest: ${worst} s)" awk -v w="$worst" 'BEGIN { exit !(w < 1) }'
t=$(curl -s -o "$work/body" -w '%{http_code} %{time_total}' --max-time 5 "$base/metrics")
check "... /metrics answers too" [ "${t%% *}" = 200 ] || echo "# /metrics: code and seconds: $t"
check "the 33rd stream: 503, a JSON error naming the limit of 32" \
	bash -c '[ "$(curl -s -o "$2" -w "%{http_code}" --max-time 3 "$1/v1/events/stream")" = 503 ] && jq -e ".status == 503 and (.error | test(\"32\"))" "$2" >/dev/null' \
	_ "$base" "$work/body"
streams=$(ss -tnH state established "( sport = :$port )" | wc -l)
check "the daemon serves at most 32 streams' connections ($streams established)" [ "$streams" -le 33 ]
wait "$drop"
check "the droppers ran ($(cat "$work/drop.out"))" grep -q '^rounds=[1-9]' "$work/drop.out"

# ---- after they leave ----
for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
for ((i = 0; i < 100; i++)); do [[ $(sockets) -le $sockets_before ]] && break; sleep 0.1; done
check "the clients gone: the daemon's sockets back to $sockets_before (now $(sockets))" [ "$(sockets)" -le "$sockets_before" ]
check "... database fds within the pool's $db_bound (now $(db_fds); they were 65 after 64 streams)" \
	[ "$(db_fds)" -le "$db_bound" ]
check "... no connection in CLOSE-WAIT" [ "$(ss -tnH state close-wait "( sport = :$port )" | wc -l)" = 0 ]
check "... and a new stream is served (the slots came back)" \
	bash -c 'curl -sN --max-time 1.5 "$1/v1/events/stream?since=0" | grep -q "^retry: "' _ "$base"
check "the daemon is still up" kill -0 "$daemon_pid"
stop_daemon
done_testing
