#!/usr/bin/env bash
# podman-rootless.sh: rootless podman (a test user, runc, --network none)
# runs ocitap's shipped hooks.d file. Its hooks run as uid 0 inside podman's
# user namespace; ocitapd knows them by the host uid (SO_PEERCRED) and lets
# them in with --allow-uid, so the container is recorded (every stage once,
# exit code, run 1), owned by that user. From inside podman's user namespace
# the same user cannot speak for root's container (refused: owner), and its
# reports are host peers' (its pid namespace is the host's), not a
# container's. The daemon's socket is reachable by the allowed user without
# any chmod.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "podman rootless"
command -v podman >/dev/null || skip_rest "podman rootless" "podman is not installed (scripts/deps.sh check installs it)"
command -v newuidmap >/dev/null || skip_rest "podman rootless" "newuidmap is not installed (uidmap; scripts/deps.sh check installs it)"

BIN="$TOP/$BUILD/bin"
user=ocitaptest
if ! id "$user" >/dev/null 2>&1; then
	useradd -m -s /bin/sh "$user" || skip_rest "podman rootless" "cannot create the test user $user"
fi
grep -q "^$user:" /etc/subuid || usermod --add-subuids 300000-365535 --add-subgids 300000-365535 "$user"
uid=$(id -u "$user")

test_init rootless
test_cleanup() {
	pu rm -af >/dev/null 2>&1
	pu rmi -af >/dev/null 2>&1
	pkill -9 -u "$user" 2>/dev/null # podman's pause process (the user namespace's holder)
	runc --root "$work/runc" delete -f rl-root >/dev/null 2>&1
}
chmod 0755 "$work"
mkdir -p "$work/u/xdg" "$work/hooks.d"
chmod 0700 "$work/u/xdg"
chown -R "$user" "$work/u"
# as the user, with its own storage under $work (vfs) and runtime directory
pu() {
	runuser -u "$user" -- env -C "$work/u" HOME="$work/u" XDG_RUNTIME_DIR="$work/u/xdg" timeout 120 \
		podman --root "$work/u/storage" --runroot "$work/u/runroot" --storage-driver vfs --runtime runc \
		--cgroup-manager cgroupfs --events-backend file --hooks-dir "$work/hooks.d" "$@"
}
daemon_args=(--http off --allow-uid "$uid")

jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" \
	'.hook.path |= sub("^/usr/local/bin"; $bin) | .hook.args += ["--socket", $sock, "--state-dir", $state]' \
	"$TOP/hooks/hooks.d/ocitap.json" >"$work/hooks.d/ocitap.json"
start_daemon
check "with --allow-uid the socket is reachable by that user (0666; SO_PEERCRED decides)" \
	test "$(stat -c %a "$sock")/$(stat -c %a "$(dirname "$sock")")" = 666/755

make_rootfs "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/u/rootfs.tar" .
chown "$user" "$work/u/rootfs.tar"
pu import "$work/u/rootfs.tar" localhost/ocitap-busybox:rootless >"$work/import.log" 2>&1 ||
	{ not_ok "rootless podman import"; sed 's/^/# /' "$work/import.log"; done_testing; exit 0; }
out=$(pu run --name rl --network none --annotation org.ocitap.test=rootless localhost/ocitap-busybox:rootless \
	sh -c 'id -u; exit 4' 2>&1)
rc=$?
check "rootless podman runs the container with the hooks (exit 4, uid 0 inside)" bash -c "[[ $rc -eq 4 && '$out' == 0* ]]" ||
	echo "# rc $rc: $out"
id=$(pu inspect --format '{{.Id}}' rl 2>/dev/null)
for ((i = 0; i < 50; i++)); do [[ $(q "select phase from containers where id='$id'") == stopped ]] && break; sleep 0.1; done
check "recorded: stopped, exit 4, run 1" test "$(q "select phase || ' ' || exit_code || ' ' || run from containers where id='$id'")" = "stopped 4 1"
check "owned by the user who ran it (uid $uid)" test "$(q "select owner from containers where id='$id'")" = "$uid"
check "every stage the hooks.d file names reported once (prestart, createRuntime, createContainer, poststart, poststop)" \
	test "$(q "select group_concat(source, ',') from (select source from events where container_id='$id' and kind='hook' order by source)")" = \
	"createContainer,createRuntime,poststart,poststop,prestart"
check "podman's annotation is on the record" \
	test "$(q "select json_extract(annotations, '\$.\"org.ocitap.test\"') from containers where id='$id'")" = rootless
check "no refusal: the user's hooks speak for the user's own container" bash -c "! grep -q 'refused' '$log'"

# from inside podman's user namespace (uid 0 there): root's container is not the user's
runc_b=$work/b-root
notify_bundle "$runc_b" audit 'sleep 300'
timeout 30 runc --root "$work/runc" run -d --bundle "$runc_b" rl-root </dev/null >/dev/null 2>&1
for ((i = 0; i < 50; i++)); do [[ -n $(q "select phase from containers where id='rl-root'") ]] && break; sleep 0.1; done
r=$(printf '{"ocitapReport":1,"stage":"poststop","state":{"ociVersion":"1.0.2","id":"rl-root","status":"stopped"}}' |
	pu unshare socat -t5 - UNIX-CONNECT:"$sock" 2>&1)
check "a report from inside the user's namespace (uid 0 there) for root's container: refused (owner)" \
	test "$r" = "error: refused: uid $uid speaks for rl-root, whose run 1 uid 0 began"
check "... and root's container is still running" test "$(q "select phase from containers where id='rl-root'")" != stopped
done_testing
