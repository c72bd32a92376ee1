#!/usr/bin/env bash
# docker.sh: Docker through ocitap-runtime (issue 18). A private dockerd
# (its own data root, exec root and socket; no iptables, no bridge) with
# ocitap-runtime registered as the runtime "ocitap" runs a busybox image
# imported from a tar: `docker run --runtime ocitap --name web ... exit 3`
# is recorded by ocitapd with docker's exit code, its hooks and its name;
# a --security-opt seccomp= profile that notifies mkdir (Docker drops
# listenerPath; the wrapper names ocitapd) gets ocitapd's answer by the
# configured policy; docker's own runtime (runc) is left alone; `ocitap ps`
# finds the container in Docker's runtime root. dockerd is stopped at the end.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "docker"

BIN="$TOP/$BUILD/bin"
DOCKERD=/usr/sbin/dockerd
DOCKER=/usr/bin/docker # /usr/local/bin may hold another client
if [[ ! -x $DOCKERD || ! -x $DOCKER ]]; then
	skip "docker" "docker.io is not installed (scripts/deps.sh check installs it)"
	done_testing
	exit 0
fi
test_init docker
port=$(free_port)
daemon_args=(--http "127.0.0.1:$port" --docker-root "$work/d/root")
daemon_ready=http://127.0.0.1:$port/healthz
get() { curl -s "http://127.0.0.1:$port$1"; }
dk() { timeout 120 "$DOCKER" -H "unix://$work/d/docker.sock" "$@"; }
dockerd_pid=
test_cleanup() {
	if [[ -n $dockerd_pid ]]; then
		dk rm -f $(dk ps -aq) >/dev/null 2>&1
		kill "$dockerd_pid" 2>/dev/null
		for ((i = 0; i < 150; i++)); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$dockerd_pid" 2>/dev/null
		pkill -9 -f "containerd --config $work/d/" 2>/dev/null
	fi
	grep -o " $work/d/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
}

start_daemon
mkdir -p "$work/d"
cat >"$work/runtime.json" <<EOF
{"policy": "deny"}
EOF
OCITAP_SOCKET=$sock OCITAP_STATE_DIR=$state OCITAP_RUNTIME_CONFIG=$work/runtime.json \
	"$DOCKERD" --iptables=false --ip6tables=false --bridge=none --data-root "$work/d/root" --exec-root "$work/d/exec" \
	-H "unix://$work/d/docker.sock" --pidfile "$work/d/docker.pid" --add-runtime "ocitap=$BIN/ocitap-runtime" \
	>"$work/d/dockerd.log" 2>&1 &
dockerd_pid=$!
for ((i = 0; i < 300; i++)); do dk info >/dev/null 2>&1 && break; sleep 0.1; done
if ! check "a private dockerd answers" test -n "$(dk info --format "{{.ServerVersion}}" 2>/dev/null)"; then
	tail -n 20 "$work/d/dockerd.log" | sed 's/^/# /'
	done_testing
	exit 0
fi
make_rootfs "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
check "a busybox image imported from a tar" test -n "$(dk import "$work/busybox.tar" ocitap-busybox:test 2>/dev/null)"

dk run --runtime ocitap --name web ocitap-busybox:test sh -c 'exit 3' >/dev/null 2>"$work/err"
check "docker run --runtime ocitap --name web: exit 3" test $? -eq 3 || echo "# $(cat "$work/err")"
id=$(dk inspect -f '{{.Id}}' web)
for ((i = 0; i < 50; i++)); do [[ $(get "/v1/containers/$id" | jq -r .status) == stopped ]] && break; sleep 0.1; done
j=$(get "/v1/containers/$id")
check "ocitapd recorded it under docker's id: stopped, exit 3" \
	test "$(jq -r '[.status, .exit.code] | join(" ")' <<<"$j")" = "stopped 3" || echo "# $j"
check "... with the wrapper's hooks on the default stages: createRuntime, poststop" \
	test "$(jq -r '[.timeline[] | select(.kind == "hook") | .source] | join(" ")' <<<"$j")" = "createRuntime poststop"
if jq -e 'has("name")' <<<"$j" >/dev/null; then
	check "... named web, started by docker" test "$(jq -r '[.name, .manager] | join(" ")' <<<"$j")" = "web docker" ||
		{ echo "# $(jq -c '{name, manager}' <<<"$j")"; grep -e "$id" "$log" | grep -i name | sed 's/^/# /'
		  ls -l "$work/d/root/containers/$id" 2>&1 | sed 's/^/# /'; }
fi

cat >"$work/profile.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
EOF
dk run --runtime ocitap --name guarded --security-opt "seccomp=$work/profile.json" ocitap-busybox:test \
	sh -c 'mkdir /tmp/x 2>/dev/null && exit 0; exit 4' >/dev/null 2>"$work/err"
check "a notifying seccomp profile: mkdir answered EPERM by policy deny (exit 4)" test $? -eq 4 || echo "# $(cat "$work/err")"
gid=$(dk inspect -f '{{.Id}}' guarded)
sleep 1.2 # counts reach the store once a second
check "... ocitapd counted it under that container: mkdir errno:EPERM 1" \
	test "$(get "/v1/containers/$gid" | jq -r '[.notifications[] | "\(.syscall) \(.action) \(.count)"] | join(",")')" = "mkdir errno:EPERM 1" ||
	echo "# $(get "/v1/containers/$gid" | jq -c .notifications)"

dk run --name plain ocitap-busybox:test true >/dev/null 2>&1
pid_=$(dk inspect -f '{{.Id}}' plain)
check "docker's own runtime (runc) is not wrapped: ocitapd never heard of it" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/containers/$pid_")" = 404

dk run -d --runtime ocitap --name sleeper ocitap-busybox:test sleep 30 >/dev/null
sid=$(dk inspect -f '{{.Id}}' sleeper)
out=$("$BIN/ocitap" ps --json --all --http "127.0.0.1:$port" --state-dir "$state" \
	--runc-root "$work/d/exec/runtime-runc/moby" 2>/dev/null)
check "ocitap ps sees the running docker container in docker's runtime root" \
	test "$(jq -r --arg id "$sid" '[.containers[] | select(.id == $id) | .runtimeStatus] | join(",")' <<<"$out")" = running ||
	echo "# $out"
dk rm -f sleeper >/dev/null
kill "$dockerd_pid"
for ((i = 0; i < 150; i++)); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
check "dockerd stopped" test ! -e "/proc/$dockerd_pid"
dockerd_pid=
done_testing
