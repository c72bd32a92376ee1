#!/usr/bin/env bash
# demo.sh (make demo): a real busybox container under runc, end to end.
#  - ocitapd listens on a private socket: the container's seccomp profile
#    notifies on mkdir and chmod, and the "demo" policy lets mkdir run and
#    denies chmod;
#  - a hook on every OCI stage captures the State the runtime sends, shown
#    through `ocitap validate`;
#  - then what ocitapd recorded: the transitions with their sources and
#    times, the exit code, the notification counts, read from its store;
#  - and it ends as an operator would look: ocitap ps -a and ocitap
#    inspect of the demo container, each part said in plain words.
set -euo pipefail
source "$(dirname "$0")/../tests/integration/common.bash"

if [[ $(id -u) -ne 0 ]]; then
	echo "make demo runs a container: run it as root" >&2
	exit 1
fi
bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
if [[ ! -t 1 || -n ${NO_COLOR:-} ]]; then bold= dim= off=; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }

OCITAPD="$TOP/$BUILD/bin/ocitapd"
work=$(mktemp -d /tmp/ocitap-demo-XXXXXX)
daemon=
trap '[[ -n $daemon ]] && kill $daemon 2>/dev/null; runc --root "$work/runc" delete -f ocitap-demo >/dev/null 2>&1; pkill -f "ocitap-fdkeeper --socket $work/" 2>/dev/null; rm -rf "$work"' EXIT
bundle=$work/bundle out=$work/out sock=$work/ocitap.sock hook=$TOP/tests/integration/capture-hook
db=$work/state/ocitap.db
mkdir -p "$bundle" "$out"

say "ocitapd, with a policy file"
cat >"$work/policy.json" <<'JSON'
{ "policies": { "demo": { "default": "continue", "syscalls": { "chmod": "errno:EPERM", "fchmodat": "errno:EPERM" } } } }
JSON
cat "$work/policy.json"
# the HTTP API on a free loopback port (9476 unless taken)
port=9476
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
api=http://127.0.0.1:$port
"$OCITAPD" --socket "$sock" --state-dir "$work/state" --policy "$work/policy.json" --profile-allow "$work" --http "127.0.0.1:$port" 2>"$work/ocitapd.log" &
daemon=$!
wait_for "$sock"
sed 's/^/  /' "$work/ocitapd.log"

say "a busybox bundle: ocitap-hook (and a capturing hook) on every stage, seccomp notify on mkdir and chmod, listenerPath = ocitapd"
make_rootfs "$bundle/rootfs"
cp "$hook" "$bundle/rootfs/capture-hook"
(cd "$bundle" && runc spec)
chmod 0755 "$work"
jq --arg hook "$hook" --arg out "$out" --arg inroot "$bundle/rootfs/cap" --arg sock "$sock" --arg bin "$TOP/$BUILD/bin" \
   --arg state "$work/state" --arg sockdir "$work" '
  def ocitap($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
  .process.terminal = false | .root.readonly = false
| .process.args = ["sh", "-c", "echo hello from the container; mkdir /tmp/made && echo mkdir: allowed; chmod 600 /tmp || echo chmod: denied; exit 3"]
| .annotations = {"org.ocitap.demo": "yes", "io.containers.trace-syscall": ("of:" + $sockdir + "/profile.json")}
| .mounts += [{destination: "/ocitap", type: "bind", source: $bin, options: ["rbind", "ro"]},
              {destination: ($sockdir + "/container"), type: "bind", source: ($sockdir + "/container"), options: ["rbind"]}]
| .hooks = {
    prestart:        [{path: $hook, args: ["capture-hook", "prestart", $out]}, ocitap("prestart")],
    createRuntime:   [{path: $hook, args: ["capture-hook", "createRuntime", $out]}, ocitap("createRuntime")],
    createContainer: [{path: $hook, args: ["capture-hook", "createContainer", $out, $inroot]}, ocitap("createContainer")],
    startContainer:  [{path: "/capture-hook", args: ["capture-hook", "startContainer", "/cap"]},
                      {path: "/ocitap/ocitap-hook-static", args: ["ocitap-startContainer", "--socket", ($sockdir + "/container/ocitap.sock"), "--state-dir", "/tmp"]}],
    poststart:       [{path: $hook, args: ["capture-hook", "poststart", $out]}, ocitap("poststart")],
    poststop:        [{path: $hook, args: ["capture-hook", "poststop", $out]}, ocitap("poststop")] }
| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "policy=demo",
    syscalls: [{names: ["mkdir", "mkdirat", "chmod", "fchmodat"], action: "SCMP_ACT_NOTIFY"}]}' \
	"$bundle/config.json" >"$bundle/config.new"
mv "$bundle/config.new" "$bundle/config.json"
"$OCITAP" validate --kind config "$bundle/config.json" | jq -c '.linux.seccomp'

say "runc run"
start=$(date +%s%N)
rc=0
runc --root "$work/runc" run --bundle "$bundle" ocitap-demo </dev/null || rc=$?
echo "${dim}(container exited with $rc after $((($(date +%s%N) - start) / 1000000)) ms)${off}"
cp "$bundle"/rootfs/cap/*.json "$out/" 2>/dev/null || true

say "the State each hook stage got on stdin (ocitap validate)"
for s in prestart createRuntime createContainer startContainer poststart poststop; do
	printf '  %-16s ' "$s"
	"$OCITAP" validate --compact "$out/$s.json" 2>&1
done

# the store thread is asynchronous: wait for the exit status to land
for _ in $(seq 50); do
	[[ $(sqlite3 -readonly "$db" "select exit_code is not null from containers where id='ocitap-demo'" 2>/dev/null) == 1 ]] && break
	sleep 0.1
done
sleep 1.1 # notification counts are flushed every second

say "what ocitapd recorded (sqlite3 -readonly $db)"
echo "  container:"
sqlite3 -readonly -box "$db" "select id, phase, pid, exit_code, signal, annotations from containers" | sed 's/^/    /'
echo "  every stage, with its time (ms after the first) and the time since the one before:"
sqlite3 -readonly -box "$db" "select source as stage,
	printf('%7.1f', (mono_ns - (select min(mono_ns) from events where container_id = 'ocitap-demo')) / 1e6) as at_ms,
	printf('%7.1f', (mono_ns - lag(mono_ns) over (order by mono_ns)) / 1e6) as since_previous_ms
	from events where container_id = 'ocitap-demo' and kind = 'hook' order by mono_ns" | sed 's/^/    /'
echo "  the transitions ocitapd recorded (the first source that saw each; later ones merged):"
sqlite3 -readonly -box "$db" "select seq, kind, from_phase || ' -> ' || to_phase as change, source,
	printf('%.1f', (mono_ns - (select min(mono_ns) from events where container_id = 'ocitap-demo')) / 1e6) as at_ms, exit_code
	from events where container_id = 'ocitap-demo' and kind <> 'hook' order by seq" | sed 's/^/    /'
echo "  create -> start -> running -> stopped (runc runs poststart while startContainer still runs, so those two may swap):"
sqlite3 -readonly "$db" "select printf('    after create: start (startContainer) %.1f ms, running (poststart) %.1f ms, stopped %.1f ms',
	(s.mono_ns - c.mono_ns) / 1e6, (r.mono_ns - c.mono_ns) / 1e6, (x.mono_ns - c.mono_ns) / 1e6)
	from (select min(mono_ns) as mono_ns from events where container_id = 'ocitap-demo' and kind = 'hook' and source = 'prestart') c,
	     (select min(mono_ns) as mono_ns from events where container_id = 'ocitap-demo' and kind = 'hook' and source = 'startContainer') s,
	     (select min(mono_ns) as mono_ns from events where container_id = 'ocitap-demo' and kind = 'hook' and source = 'poststart') r,
	     (select min(mono_ns) as mono_ns from events where container_id = 'ocitap-demo' and to_phase = 'stopped' and kind <> 'hook') x"
echo "  notifications:"
sqlite3 -readonly -box "$db" "select syscall, action, count from notifications where container_id = 'ocitap-demo'" | sed 's/^/    /'

say "the seccomp profile of what it did (BPF, annotation io.containers.trace-syscall=of:$work/profile.json)"
if [[ -s $work/profile.json ]]; then
	echo "  $(jq '.syscalls[0].names | length' "$work/profile.json") syscalls allowed, everything else SCMP_ACT_ERRNO:"
	jq -r '.syscalls[0].names | join(" ")' "$work/profile.json" | fold -s -w 100 | sed 's/^/    /'
	jq '.linux.seccomp = input | del(.hooks) | .annotations = {}' "$bundle/config.json" "$work/profile.json" \
		>"$bundle/config.new" && mv "$bundle/config.new" "$bundle/config.json"
	rmdir "$bundle/rootfs/tmp/made" 2>/dev/null
	echo "  the same container again, under that profile instead of the listener: the same behaviour"
	echo "  (chmod was refused by the policy, so never made, so the profile refuses it too):"
	runc --root "$work/runc" run --bundle "$bundle" ocitap-demo-2 </dev/null 2>&1 | sed 's/^/    /' || true
	echo "  ${dim}(any syscall the first run did not make now fails with EPERM)${off}"
else
	echo "  (none written: $(grep -m1 'bpf: off' "$work/ocitapd.log" || echo 'see the log'))"
fi

say "the same through the HTTP API"
echo "  \$ curl -s $api/v1/containers/ocitap-demo | jq '{id, status, exit, timeline: [.timeline[] | select(.kind != \"hook\") | \"\\(.seq) \\(.kind) \\(.to) (\\(.source))\"], notifications}'"
curl -s "$api/v1/containers/ocitap-demo" |
	jq '{id, status, exit, timeline: [.timeline[] | select(.kind != "hook") | "\(.seq) \(.kind) \(.to) (\(.source))"], notifications}' |
	sed 's/^/  /'
echo "  \$ curl -s $api/metrics | grep '^ocitap_container_exits_total'"
curl -s "$api/metrics" | grep '^ocitap_container_exits_total' | sed 's/^/  /'

say "and what ocitap refuses: a State with a negative pid"
echo '{"id":"ocitap-demo","status":"running","pid":-1}' | "$OCITAP" validate || true
echo "${dim}(runc 1.1.5 and crun 1.8.1 differ at every stage: docs/design/runtimes.md)${off}"

say "ocitapd's log"
sed 's/^/  /' "$work/ocitapd.log"

# How an operator looks at it: the two commands the README gives for
# debugging. ocitap is told only where the daemon's socket and state are
# (OCITAP_SOCKET, OCITAP_STATE_DIR, as for every ocitap program); it finds
# the HTTP API in the http.addr file ocitapd wrote beside its socket.
export OCITAP_SOCKET=$sock OCITAP_STATE_DIR=$work/state
say "ocitap ps -a: every container, running or not (OCITAP_SOCKET=$sock)"
echo "  \$ ocitap ps -a --runc-root $work/runc"
COLUMNS=200 "$OCITAP" ps -a --runc-root "$work/runc" 2>&1 | sed 's/^/  /'
cat <<EOF
  ${dim}What it shows, one row per container ocitap has seen (or a runtime still has):
    ID, NAME    the container's id (cut to 12 characters; any unique start of it works as an
                id in the other commands) and its Docker or podman name (none: plain runc)
    STATUS      where it is now: stopped, its program has ended
    EXIT        how it ended: "exited 3" is the "exit 3" its command ends with; one killed
                says "killed (SIGKILL)", one whose program never started "failed"
    PID, AGE    its main process (the last one it had, once stopped), and how long ago it
                was created
    RUNTIME     the runtime that still has it: none, as runc run removes a container once
                it ends (ocitap remembers it)
    FDS         the seccomp notify fds ocitapd holds for it: none left once it stopped
    LAST EVENT  the last thing ocitapd recorded about it: the poststop hook's report
  Without -a, only the containers still there are listed.${off}
EOF

say "ocitap inspect ocitap-demo: one container in full"
echo "  \$ ocitap inspect ocitap-demo --runc-root $work/runc"
COLUMNS=200 "$OCITAP" inspect ocitap-demo --runc-root "$work/runc" 2>&1 | sed 's/^/  /'
cat <<EOF
  ${dim}What it shows, from the top:
    the container: its status; its owner, the user whose runtime reported it (root);
      sources, who answered (runc no longer knows it; ocitapd, found through http.addr);
      when it was created; its bundle and command; config, what the bundle's config.json
      holds now (this demo rewrote it for the second run: no hooks, the profile instead of
      the listener); profile, where the seccomp profile of what it did was written; and
      exit, the code its program ended with (3), or the signal that killed it;
    the timeline: every report and change, numbered in order, with its time: "hook" is a
      hook stage reporting, "transition" a change of status ocitapd made from the first
      report that showed it (prestart: creating; poststart: running; bpf, ocitapd's kernel
      probe seeing the program end: stopped), with the time since the change before;
      "exit" the exit code the probe read. A "late" report came after the container had
      moved on (runc runs startContainer inside the container while poststart has already
      run outside): kept for the record, it never moves the container back;
    the seccomp notifications: each syscall the profile handed to ocitapd (mkdir, chmod),
      the answer the "demo" policy gave (continue: let it run; errno:EPERM: refuse it),
      and how many times;
    and, while a container runs, its main process as the kernel sees it (namespaces,
      cgroup, seccomp, capabilities, user ids): a stopped one has none left.
  Both commands give the same as JSON, for scripts, with --json.${off}
EOF
