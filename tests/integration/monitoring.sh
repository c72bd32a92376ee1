#!/usr/bin/env bash
# monitoring.sh: the monitoring kit of docs/monitoring (issue 20). The alert
# rules pass `promtool check rules` and their unit tests (`promtool test
# rules`); then a real ocitapd (bearer token on, a --push receiver that is
# not there) serves two real runc containers (one exits 3 after notified
# mkdirs and hook reports, one is killed by SIGKILL), a real Prometheus
# scrapes its /metrics every second with the token, loads the rules, and
# every dashboard query and every alert expression is run against
# Prometheus' HTTP API: each must be valid and name only metrics ocitapd
# declares, each of which has a series (or, for a metric that appears only
# on some event that did not happen here, its HELP in /metrics).
set -uo pipefail
source "$(dirname "$0")/common.bash"

MON=$TOP/docs/monitoring
for t in promtool prometheus python3; do
	command -v "$t" >/dev/null || skip_rest "monitoring" "$t is not installed (scripts/deps.sh)"
done
python3 -c 'import yaml' 2>/dev/null || skip_rest "monitoring" "python3-yaml is not installed (scripts/deps.sh)"

out=$(promtool check rules "$MON/ocitap-alerts.yml" 2>&1)
check "promtool check rules ocitap-alerts.yml" test $? -eq 0 || sed 's/^/# /' <<<"$out"
out=$(cd "$MON" && promtool test rules ocitap-alerts.test.yml 2>&1)
check "promtool test rules ocitap-alerts.test.yml: every alert fires where it should, and only there" test $? -eq 0 ||
	sed 's/^/# /' <<<"$out" | head -40
check "the unit tests cover every alert" \
	python3 -c 'import sys, yaml
rules = {r["alert"] for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"] if "alert" in r}
tested = {a["alertname"] for t in yaml.safe_load(open(sys.argv[2]))["tests"] for a in t.get("alert_rule_test", [])}
sys.exit(print("# untested:", sorted(rules - tested)) if rules - tested else 0)' "$MON/ocitap-alerts.yml" "$MON/ocitap-alerts.test.yml"
check "the dashboard is Grafana JSON with a datasource variable every panel uses" \
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["schemaVersion"] >= 30 and d["title"] and d["uid"]
assert any(v["type"] == "datasource" and v["name"] == "datasource" for v in d["templating"]["list"])
ps = [p for p in d["panels"] if p["type"] != "row"]
assert ps and all(p["datasource"]["uid"] == "${datasource}" and p["targets"] for p in ps), "a panel without the variable or queries"
ids = [p["id"] for p in d["panels"]]
assert len(ids) == len(set(ids)), "duplicate panel ids"' "$MON/ocitap-dashboard.json"

require_root "monitoring: containers, ocitapd and Prometheus"
BIN="$TOP/$BUILD/bin"
test_init monitoring
prom_pid=
test_cleanup() { [[ -n $prom_pid ]] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null; }
port=$(free_port)
echo "monitoring-test-token-$RANDOM$RANDOM" >"$work/token"
hdr="Authorization: Bearer $(cat "$work/token")"
dead=$(free_port) # a --push receiver nobody answers: deliveries fail, the backlog grows
daemon_args=(--http "127.0.0.1:$port" --http-token-file "$work/token" --push "http://127.0.0.1:$dead/events")
start_daemon
for ((i = 0; i < 50; i++)); do curl -sf -H "$hdr" "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
check "/metrics needs the bearer token" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")" = 401

# container "bad": hooks on the host's side, two notified mkdirs, exit 3
hookdef="def hook(\$s): {path: (\"$BIN/ocitap-\" + \$s), args: [\"ocitap-\" + \$s, \"--socket\", \$sock, \"--state-dir\", \"$state\"]};"
notify_bundle "$work/bad" audit 'mkdir /tmp/a /tmp/b; exit 3' \
	"$hookdef .hooks = {createRuntime: [hook(\"createRuntime\")], poststop: [hook(\"poststop\")]}"
timeout 60 runc --root "$work/runc" run --bundle "$work/bad" bad </dev/null >/dev/null 2>&1
check "container bad: runc exits 3" test $? -eq 3
# container "sig": killed by SIGKILL from outside while it sleeps
notify_bundle "$work/sig" audit 'mkdir /tmp/s; exec sleep 30'
timeout 60 runc --root "$work/runc" run --bundle "$work/sig" sig </dev/null >/dev/null 2>&1 &
run_pid=$!
for ((i = 0; i < 100; i++)); do
	[[ $(runc --root "$work/runc" state sig 2>/dev/null | jq -r .status) == running ]] && break
	sleep 0.1
done
sleep 0.3
runc --root "$work/runc" kill sig KILL
wait "$run_pid"
check "container sig: killed by SIGKILL (runc exits 137)" test $? -eq 137
for ((i = 0; i < 50; i++)); do
	curl -s -H "$hdr" "http://127.0.0.1:$port/metrics" >"$work/metrics.txt"
	grep -q '^ocitap_container_signals_total{signal="SIGKILL"} 1$' "$work/metrics.txt" &&
		grep -q '^ocitap_container_exits_total{code="3"} 1$' "$work/metrics.txt" &&
		grep -q '^ocitap_push_backlog_events{' "$work/metrics.txt" &&
		grep -q '^ocitap_notifications_total{' "$work/metrics.txt" && break
	sleep 0.2
done
check "ocitapd's /metrics counts the exit 3, the SIGKILL, the notifications and the push backlog" \
	grep -q '^ocitap_push_backlog_events{' "$work/metrics.txt" || grep '^ocitap_\(container\|push\|notif\)' "$work/metrics.txt" | sed 's/^/# /'

# a real Prometheus: 1 s scrapes of ocitapd with the token, the rules loaded
pport=$(free_port)
cat >"$work/prometheus.yml" <<EOT
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $MON/ocitap-alerts.yml
scrape_configs:
  - job_name: ocitapd
    metrics_path: /metrics
    authorization:
      credentials_file: $work/token
    static_configs:
      - targets: ["127.0.0.1:$port"]
EOT
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom" \
	--web.listen-address="127.0.0.1:$pport" >"$work/prometheus.log" 2>&1 &
prom_pid=$!
P=http://127.0.0.1:$pport
scraped=
for ((i = 0; i < 200; i++)); do
	# three scrapes: rate() over the test's 1m window has samples to use
	n=$(curl -s "$P/api/v1/query" --data-urlencode 'query=count_over_time(up{job="ocitapd"}[1m])' |
		jq -r '.data.result[0].value[1] // 0' 2>/dev/null)
	[[ ${n:-0} -ge 3 ]] && { scraped=1; break; }
	sleep 0.1
done
check "Prometheus scraped ocitapd (with the token) three times" test -n "$scraped" || tail -n 20 "$work/prometheus.log" | sed 's/^/# /'
check "... and the scrape is up" \
	test "$(curl -s "$P/api/v1/query" --data-urlencode 'query=up{job="ocitapd"}' | jq -r '.data.result[0].value[1]')" = 1
check "Prometheus loaded every alert rule, each healthy" \
	test "$(curl -s "$P/api/v1/rules" | jq -r '[.data.groups[].rules[] | .health] | (length > 0 and all(. == "ok"))')" = true ||
	curl -s "$P/api/v1/rules" | jq -c '.data.groups[].rules[] | select(.health != "ok") | {name, lastError}' | sed 's/^/# /'

curl -s -H "$hdr" "http://127.0.0.1:$port/metrics" >"$work/metrics.txt"
# what this test made happen must be in Prometheus, not only declared
made=ocitap_container_exits_total,ocitap_container_signals_total,ocitap_notifications_total,ocitap_hook_reports_total
made+=,ocitap_push_backlog_events,ocitap_push_failures_total,ocitap_http_requests_total,ocitap_transitions_total,ocitap_containers
while IFS='|' read -r res what why; do
	if [[ $res == ok ]]; then ok "$what"; else
		not_ok "$what"
		echo "# $why"
	fi
done < <(python3 "$TOP/tests/integration/monitoring-queries.py" "$P" "$work/metrics.txt" "$MON/ocitap-dashboard.json" \
	"$MON/ocitap-alerts.yml" "$made" 2>&1 || echo "not ok|monitoring-queries.py ran to its end|it failed")

test_cleanup
prom_pid=
stop_daemon
done_testing
