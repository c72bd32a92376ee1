#!/usr/bin/env bash
# podman-rootless.sh: rootless podman (a test user, runc, --network none)
# runs ocitap's shipped hooks.d files. Its hooks run as uid 0 inside podman's
# user namespace; ocitapd knows them by the host uid (SO_PEERCRED) and lets
# them in with --allow-uid, so the container is recorded (every stage once
# with io.ocitap.everyStage=true, the default two without; exit code, run 1), owned by that user. From inside podman's user namespace
# the same user cannot speak for root's container (refused: owner), and its
# reports are host peers' (its pid namespace is the host's), not a
# container's. The daemon's socket is reachable by the allowed user without
# any chmod. With the daemon down, the hooks (root only in the user's
# namespace, the state directory not theirs) spool in the user's runtime
# directory, podman's own poststop (run with an empty environment) found by
# the uid map; the next ocitapd records that run, owned by the user, and
# refuses what the user's spool says of root's container, or what another
# uid put there. With --socket-group instead of a 0666 socket, the user's
# hooks get in by its group (podman keeps the user's groups).
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
group=ocitapsock
getent group "$group" >/dev/null || groupadd --system "$group" || skip_rest "podman rootless" "cannot create group $group"
pkill -9 -u "$user" 2>/dev/null # a pause process of before would keep the user's groups of before
usermod -aG "$group" "$user"

test_init rootless
test_cleanup() {
	pu rm -af >/dev/null 2>&1
	pu rmi -af >/dev/null 2>&1
	pkill -9 -u "$user" 2>/dev/null # podman's pause process (the user namespace's holder)
	runc --root "$work/runc" delete -f rl-root >/dev/null 2>&1
	gpasswd -d "$user" "$group" >/dev/null 2>&1
}
chmod 0755 "$work"
# the users' runtime directories, as /run/user is: the user's own, 0700
rt=$work/u/run xdg=$work/u/run/$uid
uspool=$xdg/ocitap/spool
mkdir -p "$xdg" "$work/hooks.d"
chmod 0700 "$xdg"
chown -R "$user" "$work/u"
chown root "$rt"
# as the user, with its own storage under $work (vfs) and runtime directory
pu() {
	runuser -u "$user" -- env -C "$work/u" HOME="$work/u" XDG_RUNTIME_DIR="$xdg" timeout 120 \
		podman --root "$work/u/storage" --runroot "$work/u/runroot" --storage-driver vfs --runtime runc \
		--cgroup-manager cgroupfs --events-backend file --hooks-dir "$work/hooks.d" "$@"
}
# no keeper: with the daemon down the socket is gone, and the hooks spool at once
daemon_args=(--http off --keeper off --allow-uid "$uid" --user-runtime-dir "$rt")

for f in ocitap.json ocitap-poststop.json ocitap-every-stage.json; do
	jq --arg bin "$BIN" --arg sock "$sock" --arg state "$state" --arg rt "$rt" \
		'.hook.path |= sub("^/usr/local/bin"; $bin) | .hook.args += ["--socket", $sock, "--state-dir", $state, "--user-runtime-dir", $rt]' \
		"$TOP/hooks/hooks.d/$f" >"$work/hooks.d/$f"
done
start_daemon
check "with --allow-uid the socket is reachable by that user (0666; SO_PEERCRED decides)" \
	test "$(stat -c %a "$sock")/$(stat -c %a "$(dirname "$sock")")" = 666/755

make_rootfs "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/u/rootfs.tar" .
chown "$user" "$work/u/rootfs.tar"
pu import "$work/u/rootfs.tar" localhost/ocitap-busybox:rootless >"$work/import.log" 2>&1 ||
	{ not_ok "rootless podman import"; sed 's/^/# /' "$work/import.log"; done_testing; exit 0; }
out=$(pu run --name rl --network none --annotation org.ocitap.test=rootless --annotation io.ocitap.everyStage=true \
	localhost/ocitap-busybox:rootless \
	sh -c 'id -u; exit 4' 2>&1)
rc=$?
check "rootless podman runs the container with the hooks (exit 4, uid 0 inside)" bash -c "[[ $rc -eq 4 && '$out' == 0* ]]" ||
	echo "# rc $rc: $out"
id=$(pu inspect --format '{{.Id}}' rl 2>/dev/null)
for ((i = 0; i < 50; i++)); do [[ $(q "select phase from containers where id='$id'") == stopped ]] && break; sleep 0.1; done
check "recorded: stopped, exit 4, run 1" test "$(q "select phase || ' ' || exit_code || ' ' || run from containers where id='$id'")" = "stopped 4 1"
check "owned by the user who ran it (uid $uid)" test "$(q "select owner from containers where id='$id'")" = "$uid"
check "io.ocitap.everyStage=true: every stage the hooks.d files name reported once (prestart, createRuntime, createContainer, poststart, poststop)" \
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

# the daemon down: the hooks spool in the user's runtime directory
stop_daemon
check "(ocitapd stopped: no socket)" test ! -e "$sock"
out=$(pu run --name rl-down --network none localhost/ocitap-busybox:rootless sh -c 'exit 6' 2>&1)
rc=$?
check "with ocitapd down the rootless container runs (exit 6)" test "$rc" = 6 || echo "# $out"
did=$(pu inspect --format '{{.Id}}' rl-down 2>/dev/null)
files=$(ls "$uspool" 2>/dev/null | grep -c "\.json$")
check "its two reports (the default stages) are spooled in the user's spool ($uspool: $files)" test "$files" = 2
check "... each file the user's (uid $uid), 0600" \
	test "$(stat -c %u:%a "$uspool"/*.json | sort -u)" = "$uid:600"
check "... podman's own poststop too (run with an empty environment: the spool found by the uid map)" \
	bash -c 'ls "$1" | grep -q -- "-poststop\.json$"' _ "$uspool"
check "nothing in the state directory's spool" test -z "$(ls -A "$state/spool" 2>/dev/null)"
# what the hook says: why it spooled, and where (run by hand in the user's namespace, with no environment)
err=$(printf '{"ociVersion":"1.0.2","id":"rl-hand","status":"stopped","bundle":"/"}' |
	pu unshare env -i "$BIN/ocitap-hook" poststop --socket "$sock" --state-dir "$state" --user-runtime-dir "$rt" 2>&1)
check "the hook says on stderr why and where it spooled" \
	bash -c '[[ $1 == "ocitap-poststop: cannot connect to $2: No such file or directory; spooled as $3/"*"-poststop.json for ocitapd to replay (cannot create the spool directory $4/spool: Permission denied)" ]]' \
	_ "$err" "$sock" "$uspool" "$state" || echo "# $err"
# what the user's spool may not say: root's container; nor may another uid write there
fake=$uspool/00000000000000000001-1-poststop.json
printf '{"ocitapReport":1,"stage":"poststop","state":{"ociVersion":"1.0.2","id":"rl-root","status":"stopped"}}\n' >"$work/fake.json"
runuser -u "$user" -- cp "$work/fake.json" "$fake"
printf '{"ocitapReport":1,"stage":"poststop","state":{"ociVersion":"1.0.2","id":"rl-planted","status":"stopped"}}\n' \
	>"$uspool/00000000000000000002-1-poststop.json" # root's file, in the user's spool
start_daemon
for ((i = 0; i < 50; i++)); do [[ $(q "select phase from containers where id='$did'") == stopped ]] && break; sleep 0.1; done
check "the next ocitapd records the run from the user's spool: stopped, run 1" \
	test "$(q "select phase || ' ' || run from containers where id='$did'")" = "stopped 1"
check "... owned by the user (uid $uid: the files' owner)" test "$(q "select owner from containers where id='$did'")" = "$uid"
check "... each default stage once" \
	test "$(q "select group_concat(source, ',') from (select source from events where container_id='$did' and kind='hook' order by source)")" = \
	"createRuntime,poststop"
check "the log says where it replayed from" grep -q "spool: replaying 3 reports from $uspool" "$log"
for ((i = 0; i < 30; i++)); do [[ -z $(ls "$uspool" | grep "\.json$") ]] && break; sleep 0.1; done
check "... and the taken files are gone" test -z "$(ls "$uspool" | grep "\.json$")"
check "the user's spooled poststop for root's container is refused (owner), and says why" \
	grep -q "spool: $uspool/00000000000000000001-1-poststop.json: refused: uid $uid speaks for rl-root, whose run 1 uid 0 began; set aside as 00000000000000000001-1-poststop.json.refused" "$log"
check "... kept beside as .refused" test -f "$fake.refused"
check "... and root's container is still running, owned by root" \
	test "$(q "select phase || ' ' || owner from containers where id='rl-root'")" = "running 0"
check "root's file in the user's spool is refused: the user's spool speaks only for the user" \
	grep -q "00000000000000000002-1-poststop.json: refused: owned by uid 0, in uid $uid's spool" "$log"
check "... and recorded nothing" test -z "$(q "select id from containers where id='rl-planted'")"
# while ocitapd runs, a file that appears in the user's spool is looked at within a second or two
runuser -u "$user" -- cp "$work/fake.json" "$uspool/00000000000000000003-1-poststop.json"
for ((i = 0; i < 40; i++)); do [[ -e $uspool/00000000000000000003-1-poststop.json.refused ]] && break; sleep 0.1; done
check "while running: the user's next claim on root's container is refused too" \
	test -e "$uspool/00000000000000000003-1-poststop.json.refused"
check "... and root's container is still running" test "$(q "select phase from containers where id='rl-root'")" = running

# a group instead of a socket every user can write
stop_daemon
start_daemon --socket-group "$group"
check "--socket-group $group: the socket is 0660 in that group" test "$(stat -c %a:%G "$sock")" = "660:$group"
out=$(pu run --name rl-group --network none localhost/ocitap-busybox:rootless sh -c 'exit 7' 2>&1)
gid_=$(pu inspect --format '{{.Id}}' rl-group 2>/dev/null)
for ((i = 0; i < 50; i++)); do [[ $(q "select phase from containers where id='$gid_'") == stopped ]] && break; sleep 0.1; done
check "the user's hooks get in by its group: recorded, stopped, exit 7, owned by uid $uid" \
	test "$(q "select phase || ' ' || exit_code || ' ' || owner from containers where id='$gid_'")" = "stopped 7 $uid" || echo "# $out"
check "... every stage sent, none spooled" bash -c '[[ $(ls "$1" | grep -c "\.json$") == 0 ]]' _ "$uspool"
check "no warning about the user at start (it is in the group)" bash -c "! grep -q 'allow-uid $uid cannot connect' '$log'"
done_testing
