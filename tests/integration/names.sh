#!/usr/bin/env bash
# names.sh: every run carries the names people use (issue 18, item 3). Real
# runc containers with hooks: one with containerd's CRI annotations, one with
# CRI-O's, one in containerd's task directory, and two whose bundles sit
# where Docker's containerd puts them (.../io.containerd.runtime.v2.task/moby/ID)
# with a fake Docker data root (OCITAP_DOCKER_ROOT) holding their
# config.v2.json; one of those a link, which is not followed. The API shows
# name, pod, namespace and manager on every container and run, null when
# unknown, and filters by each; a run again under the same id has its own.
# `ocitap ps` has a NAME column and cuts long ids to 12 (--no-trunc, --json
# in full); inspect, events and profile take a name or an id prefix; an
# ambiguous one, or a prefix under 3 characters, is an error that says so.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "names"

BIN="$TOP/$BUILD/bin"
test_init names
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port")
daemon_ready=http://127.0.0.1:$port/healthz
get() { curl -s "http://127.0.0.1:$port$1"; }
code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$1"; }
ot() { "$BIN/ocitap" "$@" --http "127.0.0.1:$port" --state-dir "$state" --runc-root "$work/runc"; }
jqr() { jq -r "$@" 2>/dev/null; }

hex() { printf '%s' "$1" | sha256sum | cut -c1-64; }
D1=$(hex docker-web)   # Docker's "web", running
D2=$(hex docker-cache) # Docker's "cache", stopped
D3=$(hex docker-link)  # its config.v2.json is a link: no name
# two of the same start: their common prefix is ambiguous
D4=${D2:0:8}$(hex docker-other | cut -c9-64)

docker_root=$work/docker
export OCITAP_DOCKER_ROOT=$docker_root
docker_config() { # ID NAME: Docker's record of a container
	mkdir -p "$docker_root/containers/$1"
	printf '{"ID": "%s", "Name": "/%s", "State": {"Running": true}, "Config": {"Image": "busybox"}}' "$1" "$2" \
		>"$docker_root/containers/$1/config.v2.json"
}
docker_config "$D1" web
docker_config "$D2" cache
docker_config "$D4" cache
printf '{"Name": "/stolen"}' >"$work/elsewhere.json"
mkdir -p "$docker_root/containers/$D3"
ln -s "$work/elsewhere.json" "$docker_root/containers/$D3/config.v2.json"

rootfs=$work/rootfs
make_rootfs "$rootfs"
hookdef="def hook(\$s): {path: (\"$BIN/ocitap-\" + \$s), args: [\"ocitap-\" + \$s, \"--socket\", \$sock, \"--state-dir\", \"$state\"]};"
# bundle DIR ANNOTATIONS-JSON SHELL-COMMAND: a busybox bundle with ocitap's host-side hooks
bundle() {
	mkdir -p "$1"
	(cd "$1" && runc spec)
	jq --arg sock "$sock" --arg root "$rootfs" --argjson ann "$2" --arg cmd "$3" "$hookdef"'
	  .process.terminal = false | .root = {path: $root, readonly: true} | .process.args = ["sh", "-c", $cmd]
	| .annotations = $ann
	| .hooks = {createRuntime: [hook("createRuntime")], poststart: [hook("poststart")], poststop: [hook("poststop")]}' \
		"$1/config.json" >"$1/c" && mv "$1/c" "$1/config.json"
}
# start ID DIR [runc run flags]: run it (in the background with -d)
start() { timeout 60 runc --root "$work/runc" run ${3:-} --bundle "$2" "$1" </dev/null >/dev/null 2>&1; }
wait_stopped() {
	local i
	for ((i = 0; i < 50; i++)); do [[ $(q "select phase from containers where id='$1'") == stopped ]] && return 0; sleep 0.1; done
	return 1
}
wait_names() { # ID: until its names are stored (the store thread tells them)
	local i
	for ((i = 0; i < 50; i++)); do [[ -n $(q "select manager from containers where id='$1'") ]] && return 0; sleep 0.1; done
	return 1
}

cri='{"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "web",
      "io.kubernetes.cri.sandbox-name": "web-7d4b9c-x2x", "io.kubernetes.cri.sandbox-namespace": "shop",
      "io.kubernetes.cri.sandbox-id": "'"$(hex sandbox)"'"}'
crio='{"io.container.manager": "cri-o", "io.kubernetes.cri-o.ContainerType": "container",
       "io.kubernetes.container.name": "db", "io.kubernetes.pod.name": "db-0", "io.kubernetes.pod.namespace": "data"}'
task=$work/exec/containerd/daemon/io.containerd.runtime.v2.task

start_daemon
bundle "$work/b-cri" "$cri" 'exit 0'
start cri-ctr "$work/b-cri"
bundle "$work/b-crio" "$crio" 'exit 0'
start crio-ctr "$work/b-crio"
bundle "$task/default/redis" '{}' 'exit 0'
start redis "$task/default/redis"
bundle "$work/b-plain" '{}' 'exit 0'
start plain "$work/b-plain"
for d in "$D2" "$D4" "$D3"; do
	bundle "$task/moby/$d" '{}' 'exit 0'
	start "$d" "$task/moby/$d"
done
bundle "$task/moby/$D1" '{}' 'exec sleep 300'
start "$D1" "$task/moby/$D1" -d
for id in cri-ctr crio-ctr redis "$D1" "$D2" "$D3" "$D4"; do wait_names "$id"; done
for id in cri-ctr crio-ctr redis plain "$D2" "$D3" "$D4"; do wait_stopped "$id"; done

names() { get "/v1/containers/$1" | jqr '[.name, .pod, .namespace, .manager] | map(. // "null") | join(" ")'; }
check "containerd's CRI annotations: name web, pod web-7d4b9c-x2x in shop, manager kubernetes" \
	test "$(names cri-ctr)" = "web web-7d4b9c-x2x shop kubernetes" || echo "# $(names cri-ctr)"
check "CRI-O's annotations: name db, pod db-0 in data, manager cri-o" \
	test "$(names crio-ctr)" = "db db-0 data cri-o" || echo "# $(names crio-ctr)"
check "a bundle in containerd's task directory: manager containerd, its namespace (default), no name" \
	test "$(names redis)" = "null null default containerd" || echo "# $(names redis)"
check "a plain runc container: every name null" test "$(names plain)" = "null null null null" || echo "# $(names plain)"
check "Docker's bundle and its config.v2.json under OCITAP_DOCKER_ROOT: name web (no /), manager docker" \
	test "$(names "$D1")" = "web null null docker" || echo "# $(names "$D1")"
check "... and cache, for another" test "$(names "$D2")" = "cache null null docker"
check "a config.v2.json that is a link: not followed, no name (manager docker from the bundle)" \
	test "$(names "$D3")" = "null null null docker" || echo "# $(names "$D3")"
check "... the log says why" grep -q "container $D3: its name is not known: .*link" "$log"
check "the store keeps them on the run (runs.name, .manager)" \
	test "$(q "select name || ' ' || manager from runs where id = '$D1' and run = 1")" = "web docker"
check "every container in /v1/containers has the four, null when unknown" \
	test "$(get /v1/containers | jqr '[.containers[] | has("name") and has("pod") and has("namespace") and has("manager")] | all')/$(get /v1/containers | jqr '[.containers[] | select(.id == "plain") | .name == null and .manager == null] | all')" = true/true

ids() { get "/v1/containers?$1" | jqr '[.containers[].id] | sort | join(" ")'; }
check "?name=web: Docker's web and the CRI container web" \
	test "$(ids name=web)" = "$(printf '%s\n' "$D1" cri-ctr | sort | tr '\n' ' ' | sed 's/ $//')" || echo "# $(ids name=web)"
check "?manager=cri-o, ?pod=web-7d4b9c-x2x, ?namespace=data" \
	test "$(ids manager=cri-o)/$(ids pod=web-7d4b9c-x2x)/$(ids namespace=data)" = "crio-ctr/cri-ctr/crio-ctr"
check "?manager=docker&name=cache: both of Docker's caches" \
	test "$(ids 'manager=docker&name=cache')" = "$(printf '%s\n' "$D2" "$D4" | sort | tr '\n' ' ' | sed 's/ $//')"
check "?name=nope: none; with ?status=running: only the running web" \
	test "$(ids name=nope)/$(ids 'name=web&status=running')" = "/$D1"
check "?name= (empty): 400, names the argument" \
	test "$(code '/v1/containers?name=')/$(get '/v1/containers?name=' | jqr .error)" = "400/name: expected 1 to 253 bytes" ||
	echo "# $(get '/v1/containers?name=')"

# ---- the CLI ----
ot ps --all >"$work/ps.txt" 2>"$work/ps.err"
check "ocitap ps: a NAME column" bash -c 'head -1 "$1" | grep -q "^ID  *NAME  *STATUS"' _ "$work/ps.txt" || sed 's/^/# /' "$work/ps.txt"
check "... Docker's id cut to 12, with its name" grep -Eq "^${D1:0:12}  +web  +running" "$work/ps.txt" || sed 's/^/# /' "$work/ps.txt"
check "... never the full id" bash -c '! grep -q "$1" "$2"' _ "$D1" "$work/ps.txt"
check "... the short ids in full, names or -" \
	bash -c 'grep -Eq "^crio-ctr +db +stopped" "$1" && grep -Eq "^plain +- +stopped" "$1"' _ "$work/ps.txt"
ot ps --all --no-trunc >"$work/ps-full.txt" 2>/dev/null
check "ocitap ps --no-trunc: the full id" grep -Eq "^$D1  +web  +running" "$work/ps-full.txt"
ot ps --all --json >"$work/ps.json" 2>/dev/null
check "ocitap ps --json: the full id with name, pod, namespace and manager" \
	test "$(jqr --arg id "$D1" '.containers[] | select(.id == $id) | [.name, .manager] | join(" ")' "$work/ps.json")/$(jqr '.containers[] | select(.id == "crio-ctr") | [.name, .pod, .namespace, .manager] | join(" ")' "$work/ps.json")" = \
	"web docker/db db-0 data cri-o"

ot inspect web --json >"$work/i.json" 2>"$work/i.err"
check "ocitap inspect web: the live one of the two named web (Docker's), not the stopped CRI one" \
	test "$(jqr '[.id, .record.name, .record.manager, .status] | join(" ")' "$work/i.json")" = "$D1 web docker running" ||
	sed 's/^/# /' "$work/i.err"
ot inspect web >"$work/i.txt" 2>&1
check "... its text names it: name web, manager docker" \
	bash -c 'grep -Eq "^  name +web$" "$1" && grep -Eq "^  manager +docker$" "$1" && grep -q "container $2" "$1"' _ "$work/i.txt" "$D1"
ot inspect "${D1:0:5}" --json >"$work/p.json" 2>/dev/null
check "ocitap inspect ${D1:0:5} (a unique prefix): Docker's web" test "$(jqr .id "$work/p.json")" = "$D1"
ot inspect cri- >"$work/cri.txt" 2>&1
check "ocitap inspect cri- (a prefix): cri-ctr, with its pod" \
	bash -c 'grep -q "container cri-ctr" "$1" && grep -Eq "^  pod +shop/web-7d4b9c-x2x$" "$1"' _ "$work/cri.txt" || sed 's/^/# /' "$work/cri.txt"
ot inspect cache >/dev/null 2>"$work/amb.err"
rc=$?
check "ocitap inspect cache: two stopped containers are named cache: exit 1, both listed" \
	bash -c '[[ $1 -eq 1 ]] && grep -q "names 2 containers" "$2" && grep -q "$3 (cache, stopped)" "$2" && grep -q "$4 (cache, stopped)" "$2"' \
	_ "$rc" "$work/amb.err" "$D2" "$D4" || sed 's/^/# /' "$work/amb.err"
ot inspect "${D2:0:6}" >/dev/null 2>"$work/amb2.err"
rc=$?
check "ocitap inspect ${D2:0:6}: the start of two ids: exit 1, both listed" \
	bash -c '[[ $1 -eq 1 ]] && grep -q "is the start of the ids of 2 containers" "$2" && grep -q "$3" "$2" && grep -q "$4" "$2"' \
	_ "$rc" "$work/amb2.err" "$D2" "$D4" || sed 's/^/# /' "$work/amb2.err"
ot inspect cr >/dev/null 2>"$work/short.err"
rc=$?
check "ocitap inspect cr: a prefix under 3 characters: exit 2, says so" \
	bash -c '[[ $1 -eq 2 ]] && grep -q "at least 3 characters" "$2"' _ "$rc" "$work/short.err" || sed 's/^/# /' "$work/short.err"
ot inspect nothing-like-it >/dev/null 2>"$work/none.err"
rc=$?
check "ocitap inspect of a name nothing has: exit 3, unknown as before" \
	bash -c '[[ $1 -eq 3 ]] && grep -q "no container .nothing-like-it." "$2"' _ "$rc" "$work/none.err" || sed 's/^/# /' "$work/none.err"
ot events --id db >"$work/ev.txt" 2>&1
check "ocitap events --id db: crio-ctr's events" \
	bash -c 'grep -q "crio-ctr" "$1" && ! grep -q "cri-ctr " "$1"' _ "$work/ev.txt" || sed 's/^/# /' "$work/ev.txt"
ot events --id cache >/dev/null 2>"$work/ev.err"
rc=$?
check "ocitap events --id cache: ambiguous, exit 1" bash -c '[[ $1 -eq 1 ]] && grep -q "names 2 containers" "$2"' _ "$rc" "$work/ev.err"
"$BIN/ocitap" profile cache --http "127.0.0.1:$port" >/dev/null 2>"$work/pr.err"
rc=$?
check "ocitap profile cache: ambiguous, exit 1" bash -c '[[ $1 -eq 1 ]] && grep -q "names 2 containers" "$2"' _ "$rc" "$work/pr.err" || sed "s/^/# rc $rc: /" "$work/pr.err"

# the same id run again: its own names; the first run keeps its
cri2=$(jq -c '."io.kubernetes.cri.container-name" = "web-v2"' <<<"$cri")
rm -rf "$work/b-cri"
bundle "$work/b-cri" "$cri2" 'exit 0'
start cri-ctr "$work/b-cri"
for ((i = 0; i < 50; i++)); do [[ $(q "select name from runs where id='cri-ctr' and run=2") == web-v2 ]] && break; sleep 0.1; done
check "a run again under the same id has its own names; /runs shows each run's" \
	test "$(get /v1/containers/cri-ctr/runs | jqr '[.runs[] | "\(.run):\(.name)"] | join(" ")')" = "1:web 2:web-v2"
check "?run=1 is still named web" test "$(get '/v1/containers/cri-ctr?run=1' | jqr .name)" = web

# the daemon down: the CLI reads the store, names and all
stop_daemon
ot inspect web --json >"$work/s.json" 2>/dev/null
check "ocitapd down: ocitap inspect web from the store: Docker's web" \
	test "$(jqr '[.id, .record.name] | join(" ")' "$work/s.json")" = "$D1 web"
runc --root "$work/runc" kill "$D1" KILL >/dev/null 2>&1
done_testing
