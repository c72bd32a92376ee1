#!/usr/bin/env bash
# faults/pushdown.sh: the --push receiver goes away for a while and comes
# back, while real runc containers loop on notified syscalls, short-lived
# containers come and go, and a real Prometheus scrapes ocitapd every second
# throughout. Nothing is lost (every stored event arrives, in order), the
# backlog is bounded and drains, memory stays flat, the loops never fail,
# and Prometheus never misses a scrape.
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: push receiver down"

faults_init pushdown
recv_pid= prom_pid=
ids="loop-a loop-b"
test_cleanup() {
	[[ -n $recv_pid ]] && kill -9 "$recv_pid" 2>/dev/null
	[[ -n $prom_pid ]] && kill -9 "$prom_pid" 2>/dev/null
}
if ! command -v prometheus >/dev/null; then
	not_ok "prometheus is installed (scripts/deps.sh check installs it)"
	exit 0
fi

rport=$(free_port)
hport=$(free_port)
[[ $hport == "$rport" ]] && hport=$((rport + 1))
pport=$(free_port)
while [[ $pport == "$rport" || $pport == "$hport" ]]; do pport=$((pport + 1)); done
got=$work/received
receiver="http://127.0.0.1:$rport/events"
start_receiver() {
	"$TOP/tests/integration/push-receiver" "$rport" "$got" &
	recv_pid=$!
	for ((i = 0; i < 50; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$rport") 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
stop_receiver() { kill "$recv_pid" 2>/dev/null; wait "$recv_pid" 2>/dev/null; recv_pid=; }
received_ids() { [[ -s $got ]] && cut -f3 "$got" | jq -r '.[].id' | sort -n; }
stored_ids() { q "select seq from events order by seq"; }
prom() { # QUERY -> the first value
	curl -s --max-time 5 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[0].value[1] // empty' 2>/dev/null
}
short() { # ID: a container that starts, makes a notified mkdir and exits
	local b
	b=$(bundle "$1")
	jq '.process.args = ["sh", "-c", "mkdir /tmp/once; exit 0"]' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
	timeout 60 runc --root "$work/runc" run --bundle "$b" "$1" </dev/null >/dev/null 2>&1
}

start_receiver || { not_ok "receiver started"; exit 0; }
"$OCITAPD" --socket "$sock" --state-dir "$state" --http "127.0.0.1:$hport" --push "$receiver" >>"$log" 2>&1 &
daemon_pid=$!
wait_for "$sock" || { not_ok "ocitapd started"; tail "$log"; exit 0; }
cat >"$work/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: ocitapd
    static_configs: [{targets: ["127.0.0.1:$hport"]}]
YML
timeout 300 prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$work/prometheus.log" 2>&1 &
prom_pid=$!
for ((i = 0; i < 300; i++)); do [[ $(prom 'up{job="ocitapd"}') == 1 ]] && break; sleep 0.2; done
check "Prometheus scrapes ocitapd" [ "$(prom 'up{job="ocitapd"}')" = 1 ]
start_loops
check "both containers make notified syscalls" all_progressing
t0=$(date +%s)

# --- the receiver goes away; containers come and go meanwhile ----------------------
stop_receiver
for n in 1 2 3 4 5 6; do short "short-$n"; done
sleep 3
backlog_down=$(curl -s "http://127.0.0.1:$hport/metrics" | awk -v k="ocitap_push_backlog_events{receiver=\"$receiver\"}" '$1 == k {print $2}')
stored_down=$(stored_ids | wc -l)
check "receiver down: the backlog grows (${backlog_down:-?} events)" [ "${backlog_down:-0}" -ge 20 ]
check "receiver down: the backlog is what is stored and not delivered, no more" \
	[ "${backlog_down:-0}" -le "$stored_down" ]
check "receiver down: the loops go on" all_progressing
check "receiver down: none failed" no_errors
check "receiver down: failures counted (Prometheus)" \
	[ "$(prom "ocitap_push_failures_total{receiver=\"$receiver\"}")" -ge 1 ]

# --- back: everything arrives ---------------------------------------------------
start_receiver || { not_ok "receiver restarted"; exit 0; }
for ((i = 0; i < 400; i++)); do
	[[ -n $(stored_ids) && $(received_ids | sort -nu) == "$(stored_ids)" ]] && break
	sleep 0.1
done
check "receiver back: every stored event arrived, none missing" [ "$(received_ids | sort -nu)" = "$(stored_ids)" ]
check "... in order" [ "$(cut -f3 "$got" | jq -r '.[].id' | awk '$1 <= prev {bad = 1} {prev = $1} END {print bad + 0}')" = 0 ]
check "... every short container's stop among them" \
	[ "$(cut -f3 "$got" | jq -r '.[] | select(.type == "io.ocitap.exit") | .subject' | grep -c '^short-')" -ge 6 ]
sleep 2 # a scrape after the drain
secs=$(($(date +%s) - t0 + 2))
check "Prometheus saw the backlog rise and drain to 0" \
	[ "$(prom "max_over_time(ocitap_push_backlog_events{receiver=\"$receiver\"}[${secs}s])")" -ge 20 -a \
	"$(prom "ocitap_push_backlog_events{receiver=\"$receiver\"}")" = 0 ]
check "Prometheus never missed a scrape (min_over_time(up) = 1)" [ "$(prom "min_over_time(up{job=\"ocitapd\"}[${secs}s])")" = 1 ]
rss_min=$(prom "min_over_time(process_resident_memory_bytes{job=\"ocitapd\"}[${secs}s])")
rss_max=$(prom "max_over_time(process_resident_memory_bytes{job=\"ocitapd\"}[${secs}s])")
check "memory flat while the receiver was away (RSS ${rss_min:-?} .. ${rss_max:-?} bytes: < 4 MiB apart)" \
	[ -n "$rss_max" ] && [ $((${rss_max%.*} - ${rss_min%.*})) -lt 4194304 ]
check "the loops never failed" no_errors
stop_daemon
kill "$prom_pid" 2>/dev/null
wait "$prom_pid" 2>/dev/null
prom_pid=
stop_receiver
done_testing
