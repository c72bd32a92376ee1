#!/usr/bin/env bash
# podman.sh: podman runs ocitap's hooks from hooks/hooks.d (--hooks-dir), as
# shipped: the default stages (createRuntime, poststop; a file each, the
# stage named) for every container; the other host stages for containers
# that opt in (io.ocitap.everyStage=true, ocitap-hook told no stage); and
# the opt-in file for startContainer. ocitapd records every stage once,
# with podman's annotations, its name (--name) and the exit code; with
# ocitapd stopped the container runs anyway and the spool is replayed once.
#
# Quirks of this machine (docs/design/runtimes.md): the hybrid cgroup layout
# makes crun refuse, so podman runs runc with the cgroupfs manager; no
# CAP_SYS_RESOURCE, so the rlimits podman sets stay below the hard limits.
# Storage is the test's own (--root, vfs), so nothing is left behind.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "podman"
command -v podman >/dev/null || skip_rest "podman" "podman is not installed (scripts/deps.sh check installs it)"

BIN="$TOP/$BUILD/bin"
test_init podman
chmod 0755 "$work"
sockdir=$work/run sock=$work/run/ocitap.sock
mkdir -p "$sockdir" "$work/hooks.d"
nproc=$(ulimit -Hu)
[[ $nproc == unlimited || $nproc -gt 4096 ]] && nproc=4096
pm() {
	timeout 120 podman --root "$work/storage" --runroot "$work/runroot" --storage-driver vfs \
		--runtime runc --cgroup-manager cgroupfs --events-backend file --hooks-dir "$work/hooks.d" "$@"
}
test_cleanup() {
	pm rm -af >/dev/null 2>&1
	pm rmi -af >/dev/null 2>&1
}
daemon_args=(--http off --profile-allow "$work") # the trace-syscall profile goes to $work
jqe() { jq -e "$@" >/dev/null; }
run() { # NAME ARGS...: podman run; sets out, rc, id
	local name=$1
	shift
	out=$(pm run --name "$name" --network none --ulimit nofile=20000:20000 --ulimit "nproc=$nproc:$nproc" \
		--annotation org.ocitap.test=podman "$@" 2>&1)
	rc=$?
	id=$(pm inspect --format '{{.Id}}' "$name" 2>/dev/null)
}

# the shipped files, pointed at this build and this test's daemon
for f in "$TOP"/hooks/hooks.d/*.json; do
	check "$(basename "$f"): oci-hooks 1.0.0" jqe '.version == "1.0.0" and (.hook.path | startswith("/"))' "$f"
	# the startContainer file's socket is the report-only one (ocitapd --container-socket)
	jq --arg bin "$BIN" --arg sock "$sock" --arg csock "$sockdir/container/ocitap.sock" --arg state "$state" \
		'.hook.path |= sub("^/usr/local/bin"; $bin)
		| .hook.args |= (map(sub("^/run/ocitap/container/ocitap.sock$"; $csock))
			+ (if index("/run/ocitap/container/ocitap.sock") then ["--state-dir", $state] else ["--socket", $sock, "--state-dir", $state] end))' \
		"$f" >"$work/hooks.d/$(basename "$f")"
done
for s in createRuntime poststop; do
	f=$TOP/hooks/hooks.d/ocitap.json
	[[ $s == poststop ]] && f=$TOP/hooks/hooks.d/ocitap-poststop.json
	check "$(basename "$f"): always, $s only, the stage named" \
		jqe --arg s "$s" '.when.always == true and .stages == [$s] and .hook.args == ["ocitap-hook", "--timeout", "500", $s]' "$f"
done
check "ocitap-every-stage.json: the other host stages, only for containers that opt in, no stage named" \
	jqe '.stages == ["prestart", "createContainer", "poststart"] and .when.annotations["^io\\.ocitap\\.everyStage$"] == "^true$"
	     and .hook.args == ["ocitap-hook", "--timeout", "500"]' "$TOP/hooks/hooks.d/ocitap-every-stage.json"
check "ocitap-startcontainer.json: only for containers that opt in" \
	jqe '.stages == ["startContainer"] and .when.annotations["^io\\.ocitap\\.startContainer$"] == "^true$"' \
	"$TOP/hooks/hooks.d/ocitap-startcontainer.json"

make_rootfs "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
if pm import "$work/rootfs.tar" localhost/ocitap-busybox:test >"$work/import.log" 2>&1; then
	ok "podman import of a busybox rootfs tarball"
else
	not_ok "podman import of a busybox rootfs tarball"
	sed 's/^/# /' "$work/import.log"
	exit 0
fi

start_daemon
run plain --rm localhost/ocitap-busybox:test sh -c 'sleep 0.2; exit 3'
check "podman run with ocitap's hooks.d: the container ran (exit 3)" [ "$rc" -eq 3 ]
[[ $rc -eq 3 ]] || echo "# $out"
id=$(q "select id from containers where json_extract(annotations, '\$.\"org.ocitap.test\"') = 'podman' order by created_wall_ns desc limit 1")
check "the container is recorded under podman's 64-hex id" grep -Eqx '[0-9a-f]{64}' <<<"$id"
wait_hooks "$id" 2
for s in createRuntime poststop; do
	check "podman: $s recorded once (a default stage)" [ "$(hook_count "$id" "$s")" = 1 ]
done
check "podman: no prestart, createContainer, poststart, startContainer without the opt-in annotations" \
	[ "$(q "select count(*) from events where container_id='$id' and kind='hook' and source not in ('createRuntime', 'poststop')")" = 0 ]
echo "# podman: $(q "select group_concat(source || ':' || kind || '>' || to_phase, ',') from (select * from events where container_id='$id' order by seq)")"
# running: BPF's exec, no hook needed (ocitap-hook(1), DEFAULT STAGES); without BPF the record lacks it
if grep -q "bpf: programs loaded" "$log"; then
	check "podman: creating -> running -> stopped, running from BPF's exec" \
		[ "$(q "select group_concat(to_phase, ',') from (select to_phase from events where container_id='$id' and kind='transition' order by seq)")/$(q "select group_concat(source) from events where container_id='$id' and kind='transition' and to_phase='running'")" = "creating,running,stopped/bpf" ]
else
	check "podman, BPF off: creating -> stopped" [ "$(q "select group_concat(to_phase, ',') from (select to_phase from events where container_id='$id' and kind='transition' order by seq)")" = "creating,stopped" ]
fi
check "podman: exit code 3" bash -c 'for i in $(seq 30); do [ "$(sqlite3 -readonly "$1" "select exit_code from containers where id='"'"'$2'"'"'")" = 3 ] && exit 0; sleep 0.1; done; exit 1' _ "$db" "$id"
check "podman: the user's annotation" [ "$(q "select json_extract(annotations, '\$.\"org.ocitap.test\"') from containers where id='$id'")" = podman ]
check "podman: podman's own annotations (--rm: io.podman.annotations.autoremove)" \
	[ "$(q "select json_extract(annotations, '\$.\"io.podman.annotations.autoremove\"') from containers where id='$id'")" = TRUE ]
check "podman: the bundle is podman's userdata directory" grep -q "/userdata\$" <<<"$(q "select bundle from containers where id='$id'")"

# names (issue 18): podman's name is in containers/storage's containers.json
# beside the bundle, its manager in io.container.manager=libpod
plain=$id
run web --rm localhost/ocitap-busybox:test sh -c 'exit 4'
check "podman run --name web: the container ran (exit 4)" [ "$rc" -eq 4 ]
web=$(q "select id from containers where json_extract(annotations, '\$.\"org.ocitap.test\"') = 'podman' order by created_wall_ns desc limit 1")
wait_hooks "$web" 2
check "podman --name web: the run is recorded under the name web, manager podman, exit 4" \
	[ "$(q "select name || ' ' || manager || ' ' || exit_code from containers where id='$web'")" = "web podman 4" ]
check "... and the first container under its own, plain" [ "$(q "select name from containers where id='$plain'")" = plain ]
"$OCITAP" inspect web --http off --state-dir "$state" --json >"$work/web.json" 2>"$work/web.err"
check "ocitap inspect web (from the store): podman's web" \
	[ "$(jq -r '[.id, .record.name, .record.manager] | join(" ")' "$work/web.json")" = "$web web podman" ] || sed 's/^/# /' "$work/web.err"

# startContainer, opted in: the static hook and the report-only socket's
# directory visible inside (nothing else of the daemon's: not its socket, not the keeper's)
check "ocitap-startcontainer.json: reports to the report-only socket" \
	jqe '.hook.args | index("/run/ocitap/container/ocitap.sock")' "$TOP/hooks/hooks.d/ocitap-startcontainer.json"
run opted --rm --annotation io.ocitap.startContainer=true --annotation io.ocitap.everyStage=true -v "$BIN/ocitap-hook-static:$BIN/ocitap-hook-static:ro" \
	-v "$sockdir/container:$sockdir/container" localhost/ocitap-busybox:test true
check "opted in: the container ran" [ "$rc" -eq 0 ]
[[ $rc -eq 0 ]] || echo "# $out"
id=$(q "select id from containers where json_extract(annotations, '\$.\"io.ocitap.startContainer\"') = 'true'")
wait_hooks "$id" 6
for s in prestart createRuntime createContainer startContainer poststart poststop; do
	check "opted in (startContainer, everyStage): $s recorded once" [ "$(hook_count "$id" "$s")" = 1 ]
done

# a seccomp profile the way podman users ask oci-seccomp-bpf-hook for one, then used
if grep -q "bpf: programs loaded" "$log"; then
	prof=$work/podman-profile.json
	run traced --rm --annotation "io.containers.trace-syscall=of:$prof" localhost/ocitap-busybox:test sh -c 'echo traced'
	check "trace-syscall annotation under podman: the container ran" [ "$rc" -eq 0 ]
	wait_for "$prof" 50
	check "trace-syscall: the profile was written at stop (through the hooks.d hooks)" \
		jqe '.defaultAction == "SCMP_ACT_ERRNO" and (.syscalls[0].names | index("execve") != null)' "$prof"
	run confined --rm --security-opt "seccomp=$prof" localhost/ocitap-busybox:test sh -c 'echo traced'
	check "podman run --security-opt seccomp=PROFILE: the same command runs" [ "$rc" -eq 0 -a "$out" = traced ]
	[[ $rc -eq 0 ]] || echo "# $out"
	run refused --rm --security-opt "seccomp=$prof" localhost/ocitap-busybox:test sh -c 'mkdir /tmp/new'
	check "... a syscall the traced run never made is refused" bash -c '[ "$1" -ne 0 ] && grep -q "not permitted" <<<"$2"' _ "$rc" "$out"
else
	skip "trace-syscall under podman" "BPF is off: $(grep -m1 'bpf: off' "$log")"
fi

# ocitapd stopped: the container runs, the reports wait in the spool, replayed once
stop_daemon
run spooled localhost/ocitap-busybox:test true
check "daemon down: the container still ran" [ "$rc" -eq 0 ]
check "daemon down: podman knows the container" grep -Eqx '[0-9a-f]{64}' <<<"$id"
pm rm spooled >/dev/null 2>&1 # podman's cleanup runs poststop here at the latest
n=$(ls "$state/spool" 2>/dev/null | grep -c '\.json$')
check "daemon down: the two default stages' reports spooled ($n)" [ "$n" -eq 2 ]
start_daemon
wait_hooks "$id" 2
check "replayed: the two stages, in order, once" \
	[ "$(q "select group_concat(source, ',') from (select source from events where container_id='$id' and kind='hook' order by seq)")" = "createRuntime,poststop" ]
check "replayed: the spool is empty" [ "$(ls "$state/spool" | grep -c '\.json$')" = 0 ]
stop_daemon

# `ocitap hooks explain` against what podman itself did with a hooks
# directory: every file has one stage and a hook that logs its name; the
# files that ran must be exactly those explain says match, in the stage it
# says. (podman 4.3 here still injects prestart as prestart; containers/common
# since 2024 injects it as createRuntime, as explain reports: compared modulo
# that.)
xd=$work/explain.d
mkdir -p "$xd"
cat >"$work/rec" <<REC
#!/bin/sh
cat >/dev/null
echo "\$1" >>"$work/ran"
REC
chmod +x "$work/rec"
hookf() { # NAME STAGE WHEN-JSON
	jq -n --arg p "$work/rec" --arg n "$1" --arg s "$2" --argjson w "$3" \
		'{version: "1.0.0", hook: {path: $p, args: ["rec", $n]}, when: $w, stages: [$s]}' >"$xd/$1.json"
}
hookf a-always poststop '{"always": true}'
hookf b-cmd-sh poststart '{"commands": ["^sh$"]}'
hookf c-cmd-other poststart '{"commands": ["^/usr/bin/nope$"]}'
hookf d-ann createContainer '{"annotations": {"^org\\.ocitap\\.explain$": "^yes$"}}'
hookf e-ann-no createContainer '{"annotations": {"^org\\.ocitap\\.explain$": "^no$"}}'
hookf g-and poststop '{"always": true, "commands": ["^nope$"]}'
hookf H-prestart prestart '{"always": true}'
hookf i-bind poststop '{"hasBindMounts": true}'
# Go regular expressions that a POSIX translation read differently: podman (Go) decides
hookf j-inline-flag poststart '{"commands": ["^s(?i)H$"]}'
hookf k-unicode createContainer '{"annotations": {"^org\\.ocitap\\.explain$": "^\\pL+$"}}'
hookf l-brace poststart '{"commands": ["^sh{,3}$"]}'
hookf m-quote createContainer '{"annotations": {"^org\\.ocitap\\.explain$": "^\\Qyes\\E$"}}'
jq -n --arg p "$work/rec" '{hook: $p, arguments: ["f-legacy"], stage: ["poststop"], cmd: ["^nope$"], annotation: ["^yes$"]}' \
	>"$xd/f-legacy.json"
echo '{"version": "1.0.0", "hook": {"path": "/nonexistent/hook"}, "when": {"always": true}, "stages": ["poststop"]}' \
	>"$xd/z-broken.json"
rm -f "$work/ran"
out=$(timeout 120 podman --root "$work/storage" --runroot "$work/runroot" --storage-driver vfs --runtime runc \
	--cgroup-manager cgroupfs --events-backend file --hooks-dir "$xd" run --name explained --network none \
	--ulimit nofile=20000:20000 --ulimit "nproc=$nproc:$nproc" --annotation org.ocitap.explain=yes \
	localhost/ocitap-busybox:test sh -c true 2>&1)
rc=$?
check "explain: podman ran a container with the test hooks directory" [ $rc -eq 0 ]
[[ $rc -eq 0 ]] || echo "# $out"
bundle=$(pm inspect --format '{{.StaticDir}}' explained 2>/dev/null)
"$OCITAP" hooks explain "$bundle" --hooks-dir "$xd" --json >"$work/explain.json" 2>"$work/explain.err"
ran=$(sort -u "$work/ran" 2>/dev/null | tr '\n' ' ')
said=$(jq -r '.files[] | select(.status == "match") | .name | rtrimstr(".json")' "$work/explain.json" | sort | tr '\n' ' ')
echo "# podman ran: $ran; explain says: $said"
check "explain: the files that match are exactly those podman ran" [ -n "$ran" -a "$ran" = "$said" ]
check "explain: and those are the expected ones (always, command, annotation, legacy OR, prestart, x(?i)y, \\pL, \\Q..\\E; not {,3})" \
	[ "$said" = "$(printf '%s\n' a-always b-cmd-sh d-ann f-legacy H-prestart j-inline-flag k-unicode m-quote | sort | tr '\n' ' ')" ]
agree=true
for n in $said; do
	want=$(jq -r --arg n "$n.json" '.files[] | select(.name == $n) | .adds[0]' "$work/explain.json")
	got=$(jq -r --arg n "$n" '.hooks | to_entries[] | select(.value | map(.args[1]? == $n) | any) | .key' "$bundle/config.json" |
		head -1)
	# podman runs poststop hooks itself, not through config.json: having run is the proof
	[[ $want == poststop && -z $got ]] && got=poststop
	[[ $want == "$got" ]] || { agree=false; echo "# $n: explain $want, podman's config.json $got"; }
done
check "explain: each in the stage podman put it, as this podman's containers/common does (poststop podman runs itself)" $agree
pv=$(podman --version | awk '{print $NF}')
check "explain: the model named is the installed podman's ($pv, podman --version)" \
	[ "$(jq -r '.model | "\(.podman) \(.source)"' "$work/explain.json")" = "$pv podman --version" ]
# prestart stays prestart before podman 5.0 (containers/common v0.58.0), createRuntime from it
want_pre=prestart
[[ ${pv%%.*} -ge 5 ]] && want_pre=createRuntime
check "explain: H-prestart lands in $want_pre for podman $pv, and podman put it there" \
	[ "$(jq -r '.files[] | select(.name == "H-prestart.json") | .adds[0]' "$work/explain.json")" = "$want_pre" -a \
	"$(jq -r '.hooks | to_entries[] | select(.value | map(.args[1]? == "H-prestart") | any) | .key' "$bundle/config.json" | head -1)" = "$want_pre" ]
check "explain: the broken file is reported, naming hook.path" \
	[ "$(jq -r '.files[] | select(.name == "z-broken.json") | [.status, .error.field] | join(" ")' "$work/explain.json")" = "broken hook.path" ]
check "explain: the reason a file did not match is given" \
	[ "$(jq -r '.files[] | select(.name == "c-cmd-other.json") | .reasons[-1].detail' "$work/explain.json")" = 'process.args[0] "sh" matches none of 1 pattern' ]
"$OCITAP" hooks lint "$xd" >"$work/lint.txt"
rc=$?
check "hooks lint: exit 1, the broken file named with its field" \
	bash -c '[ "$1" -eq 1 ] && grep -q "^FAIL .*z-broken.json: hook.path: /nonexistent/hook" "$2"' _ "$rc" "$work/lint.txt"
mkdir -p "$work/shipped-hooks"
for f in "$TOP"/hooks/hooks.d/*.json; do sed "s|/usr/local/bin|$TOP/$BUILD/bin|" "$f" >"$work/shipped-hooks/${f##*/}"; done
"$OCITAP" hooks lint "$work/shipped-hooks" >"$work/lint-shipped.txt"
rc=$?
check "hooks lint: the shipped hooks.d files are clean for podman $pv (no FAIL, no warning)" \
	bash -c '[ "$1" -eq 0 ] && ! grep -qE "FAIL|warning" "$2"' _ "$rc" "$work/lint-shipped.txt" ||
	sed 's/^/# /' "$work/lint-shipped.txt"
out=$("$OCITAP" hooks lint "$work/no-such-dir" 2>&1)
rc=$?
check "hooks lint of a missing directory: exit 1, one error line naming it" \
	test "$rc:$out" = "1:ocitap: hooks lint: $work/no-such-dir: no such directory" || echo "# $rc: $out"
pm rm -f explained >/dev/null 2>&1

# a pattern Go refuses: podman 4.3 then refuses to create any container
# (setting up OCI hooks fails), and explain/lint call the file broken, naming
# the construct
bd=$work/broken-re.d
mkdir -p "$bd"
xd=$bd hookf o-lookahead poststart '{"commands": ["^(?=sh)"]}'
out=$(timeout 120 podman --root "$work/storage" --runroot "$work/runroot" --storage-driver vfs --runtime runc \
	--cgroup-manager cgroupfs --events-backend file --hooks-dir "$bd" run --rm --network none \
	--ulimit nofile=20000:20000 --ulimit "nproc=$nproc:$nproc" localhost/ocitap-busybox:test true 2>&1)
rc=$?
check "a lookahead in when.commands: podman (Go regexp) refuses it too" \
	bash -c '[ "$1" -ne 0 ] && grep -q "(?=" <<<"$2"' _ "$rc" "$out"
echo "# podman: $out"
"$OCITAP" hooks lint "$bd" >"$work/lint-re.txt"
rc=$?
check "hooks lint: the lookahead file fails, naming field and construct" \
	bash -c '[ "$1" -eq 1 ] && grep -q "^FAIL .*o-lookahead.json: when.commands\[0\]: pattern \"^(?=sh)\": lookahead" "$2"' _ "$rc" "$work/lint-re.txt"

# (?<name>...) is Go 1.22's: lint warns, and a podman built with an older Go
# refuses the container as the warning says (a newer one runs it)
nd=$work/newer-go.d
mkdir -p "$nd"
xd=$nd hookf p-angle-name poststart '{"commands": ["^(?<c>sh)$"]}'
gominor=$(podman version --format '{{.Client.GoVersion}}' 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
out=$(timeout 120 podman --root "$work/storage" --runroot "$work/runroot" --storage-driver vfs --runtime runc \
	--cgroup-manager cgroupfs --events-backend file --hooks-dir "$nd" run --rm --network none \
	--ulimit nofile=20000:20000 --ulimit "nproc=$nproc:$nproc" localhost/ocitap-busybox:test true 2>&1)
rc=$?
if [[ -n $gominor && $gominor -lt 22 ]]; then
	check "(?<name>...) with podman built with go1.$gominor: refused" bash -c '[ "$1" -ne 0 ] && grep -q "(?<" <<<"$2"' _ "$rc" "$out"
else
	check "(?<name>...) with podman built with go1.$gominor: accepted" [ "$rc" -eq 0 ]
fi
"$OCITAP" hooks lint "$nd" >"$work/lint-newer.txt"
check "hooks lint: the file loads, with a warning that Go before 1.22 refuses (?<name>...)" \
	grep -q "warning: (?<name>...) in a pattern: Go before 1.22 refuses it" "$work/lint-newer.txt"
done_testing
