#!/usr/bin/env bash
# api-cache.sh: the kept answers of /v1/containers and /v1/containers/ID
# (issue 19 item 3). A second GET is served from what the first built
# (ocitap_http_cache_hits_total) with the same ETag; If-None-Match with it
# (strong, weak, in a list) is a 304 with no body; a bad If-None-Match
# (garbage, "*", another daemon's tag, 8 KB of it) is a plain 200. A hook's
# report is in the very next GET once the hook has returned, twenty times
# over, in the list and in the container's answer, and the ETag moves with
# it; filtered lists are kept apart; a 404 stays a 404 whatever
# If-None-Match says; a real container's notify fd shows up and goes
# away in answers read in a loop; /metrics shows the cache bounded.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "api cache"

BIN="$TOP/$BUILD/bin"
test_init api-cache
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port" --keeper off --bpf off)
daemon_ready=http://127.0.0.1:$port/healthz
url=http://127.0.0.1:$port
get() { curl -s "$url$1"; }
# head PATH [INM]: the status line's code and the ETag, "CODE ETAG BODYBYTES"
head_of() {
	local h=$work/h b=$work/b
	rm -f "$b" "$h" # curl writes no body file for a 304
	: >"$b"
	if [[ $# -ge 2 ]]; then curl -s -D "$h" -o "$b" -H "If-None-Match: $2" "$url$1"; else curl -s -D "$h" -o "$b" "$url$1"; fi
	printf '%s %s %s' "$(awk 'NR == 1 {print $2}' "$h")" "$(tr -d '\r' <"$h" | awk -F': ' 'tolower($1) == "etag" {print $2}')" \
		"$(wc -c <"$b")"
}
metric() { get /metrics | awk -v m="$1" '$1 == m {print $2}'; }
report() { # ID STAGE STATUS
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":0,"bundle":"/b"}' "$1" "$3" |
		"$BIN/ocitap-$2" --socket "$sock" --state-dir "$state"
}

start_daemon
report c1 prestart creating
first=$(head_of /v1/containers)
etag=$(cut -d' ' -f2 <<<"$first")
hits=$(metric ocitap_http_cache_hits_total)
second=$(head_of /v1/containers)
check "a GET of the list: 200 with an ETag ($first)" bash -c "[[ '$first' == '200 \"'* && '$etag' == '\"'*'\"' ]]"
check "the next GET: the same answer and ETag, from the cache (hits $hits -> $(metric ocitap_http_cache_hits_total))" \
	test "$second" = "$first" -a "$(metric ocitap_http_cache_hits_total)" -gt "$hits"
check "Cache-Control: no-cache (kept only to ask again)" \
	bash -c "curl -s -D - -o /dev/null '$url/v1/containers' | tr -d '\r' | grep -qix 'Cache-Control: no-cache'"
check "If-None-Match with the ETag: 304, no body" test "$(head_of /v1/containers "$etag")" = "304 $etag 0"
check "... weak, W/ETAG: 304" test "$(head_of /v1/containers "W/$etag")" = "304 $etag 0"
check "... in a list: 304" test "$(head_of /v1/containers "\"zz\", $etag")" = "304 $etag 0"
long=$(head -c 8000 /dev/zero | tr '\0' 'x')
for bad in '"nonsense' '*' '"0-0"' ',,, ,' "\"$long\"" "${etag%\"}x\""; do
	got=$(head_of /v1/containers "$bad")
	check "a bad If-None-Match (${bad:0:20}): the whole answer ($got)" test "$got" = "$first"
done
check "the daemon still answers after them" test "$(get /v1/containers | jq '.containers | length')" = 1

# every report is in the next GET: the cache moves before the hook hears ok
d1=$(head_of /v1/containers/c1)
check "the container's answer has its own ETag ($d1)" bash -c "[[ '$d1' == '200 \"'* ]]"
check "... and 304 for it" test "$(head_of /v1/containers/c1 "$(cut -d' ' -f2 <<<"$d1")")" = "304 $(cut -d' ' -f2 <<<"$d1") 0"
report c1 poststop stopped
check "a poststop report: the next GET of the container shows it" test "$(get /v1/containers/c1 | jq -r .status)" = stopped
check "... and of the list" test "$(get /v1/containers | jq -r '.containers[0].status')" = stopped
after=$(head_of /v1/containers "$etag")
check "the old ETag no longer matches: 200 with a new one ($after)" \
	bash -c "[[ '$after' == '200 \"'* && '$after' != *'$etag'* ]]"
missed=
for ((i = 2; i <= 21; i++)); do
	get /v1/containers >/dev/null # kept
	get /v1/containers/c1 >/dev/null
	report "c$i" prestart creating
	[[ $(get /v1/containers | jq -r '.containers[-1].id') == "c$i" ]] || missed="$missed list:c$i"
	[[ $(get "/v1/containers/c$i" | jq -r .status) == creating ]] || missed="$missed one:c$i"
done
check "twenty reports, each in the GET right after its hook returned (${missed:-none missed})" test -z "$missed"
report c2 poststop stopped
check "filtered lists are kept apart: status=stopped c1 c2, unfiltered 21" \
	test "$(get '/v1/containers?status=stopped' | jq -r '[.containers[].id] | join(" ")')/$(get /v1/containers | jq '.containers | length')/$(
		get '/v1/containers?status=stopped' | jq '.containers | length')" = "c1 c2/21/2"
now=$(head_of /v1/containers | cut -d' ' -f2)
check "a 404 stays one whatever If-None-Match says" test "$(head_of /v1/containers/nope "$now" | cut -d' ' -f1)" = 404

# the live notify fds are in the answers too (no commit needed to see them go)
b=$work/bundle
notify_bundle "$b" audit 'mkdir /tmp/x; sleep 30'
timeout 30 runc --root "$work/runc" run -d --bundle "$b" live1 </dev/null >/dev/null 2>&1
fds=
for ((i = 0; i < 100; i++)); do
	fds=$(get /v1/containers/live1 | jq -r .notifyFds)
	[[ $fds == 1 ]] && break
	sleep 0.05
done
check "a running container's notify fd shows in its answer (notifyFds $fds)" test "$fds" = 1
runc --root "$work/runc" kill live1 KILL >/dev/null 2>&1
for ((i = 0; i < 100; i++)); do
	fds=$(get /v1/containers/live1 | jq -r .notifyFds)
	[[ $fds == 0 ]] && break
	sleep 0.05
done
check "... and goes once it is killed (notifyFds $fds)" test "$fds" = 0
check "the cache is bounded: at most 64 answers, $(metric ocitap_http_cache_bytes) bytes" \
	test "$(metric ocitap_http_cache_answers)" -le 64 -a "$(metric ocitap_http_cache_bytes)" -le $((32 << 20))
runc --root "$work/runc" delete -f live1 >/dev/null 2>&1
done_testing
