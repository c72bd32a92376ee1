#!/usr/bin/env bash
# api-pages.sh: the API's lists in pages (DESIGN: lists take limit and
# after; issue 19 item 3). Seven containers reported in order: /v1/containers
# without limit is every one (as before); with limit=3 a page of three and a
# "next" cursor, the pages following it cover all seven once, in creation
# order, and the last says next: null; after= a bare id starts after that
# container; filters apply before the page; a bad limit or empty after is
# a 400 naming the argument. /v1/events takes after= as since=.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "api-pages"

BIN="$TOP/$BUILD/bin"
test_init api-pages
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port")
daemon_ready=http://127.0.0.1:$port/healthz
get() { curl -s "http://127.0.0.1:$port$1"; }
code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$1"; }
report() { # ID STAGE STATUS
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":0,"bundle":"/b"}' "$1" "$3" |
		"$BIN/ocitap-$2" --socket "$sock" --state-dir "$state"
}

start_daemon
for id in p1 p2 p3 p4 p5 p6 p7; do
	report $id prestart creating
	[[ $id == p[246] ]] && report $id poststop stopped
done
for ((i = 0; i < 50; i++)); do [[ $(get /v1/containers | jq '.containers | length') == 7 ]] && break; sleep 0.1; done
check "no limit: every container, in creation order, no next" \
	test "$(get /v1/containers | jq -r '([.containers[].id] | join(" ")) + " " + (has("next") | tostring)')" = "p1 p2 p3 p4 p5 p6 p7 false"
page=$(get "/v1/containers?limit=3")
check "limit=3: the first three and a cursor" \
	test "$(jq -r '[.containers[].id] | join(" ")' <<<"$page")" = "p1 p2 p3" -a "$(jq -r '.next | type' <<<"$page")" = string
all=$(jq -r '[.containers[].id] | join(" ")' <<<"$page")
next=$(jq -r .next <<<"$page")
pages=1
while [[ $next != null && $pages -lt 10 ]]; do
	page=$(get "/v1/containers?limit=3&after=$(jq -rn --arg n "$next" '$n | @uri')")
	all="$all $(jq -r '[.containers[].id] | join(" ")' <<<"$page")"
	next=$(jq -r .next <<<"$page")
	pages=$((pages + 1))
done
check "following next: three pages cover all seven once, in order, the last with next null" \
	test "$pages/$all" = "3/p1 p2 p3 p4 p5 p6 p7" || echo "# $pages pages: $all"
check "after= a bare id: the containers created after it" \
	test "$(get "/v1/containers?after=p5" | jq -r '[.containers[].id] | join(" ")')" = "p6 p7"
check "... an exact fit: limit=2 after p5 is the last page (next null)" \
	test "$(get "/v1/containers?after=p5&limit=2" | jq -r '.next')" = null
check "... a bare id and a filter: stopped after p3 (itself not stopped) is p4 p6" \
	test "$(get "/v1/containers?after=p3&status=stopped" | jq -r '[.containers[].id] | join(" ")')" = "p4 p6"
check "... after the last one: nothing, next null" \
	test "$(get "/v1/containers?after=p7&limit=3" | jq -c '[[.containers[].id], .next]')" = '[[],null]'
check "... an id the store does not hold: nothing, next null" \
	test "$(get "/v1/containers?after=nosuch&limit=3" | jq -c '[[.containers[].id], .next]')" = '[[],null]'
check "filters before the page: status=stopped, limit=2: p2 p4, then p6" \
	test "$(get "/v1/containers?status=stopped&limit=2" | jq -r '[.containers[].id] | join(" ")')/$(
		get "/v1/containers?status=stopped&limit=2&after=$(get "/v1/containers?status=stopped&limit=2" | jq -r '.next | @uri')" |
			jq -r '[.containers[].id] | join(" ")')" = "p2 p4/p6"
check "limit=0: 400 naming limit" test "$(code "/v1/containers?limit=0")/$(get "/v1/containers?limit=0" | jq -r .error)" = \
	"400/limit: expected 1 to 10000" || echo "# $(get "/v1/containers?limit=0")"
check "after= empty: 400 naming after" test "$(code "/v1/containers?after=")" = 400
first=$(get "/v1/events?limit=2" | jq -r .next)
check "/v1/events: after=SEQ is since=SEQ" \
	test "$(get "/v1/events?after=$first&limit=1" | jq -r '.events[0].seq')" = "$(get "/v1/events?since=$first&limit=1" | jq -r '.events[0].seq')" -a "$first" != null
done_testing
