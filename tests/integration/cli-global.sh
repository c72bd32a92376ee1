#!/usr/bin/env bash
# cli-global.sh: what every ocitap program and command shares (issue 20,
# items 6 and 7), with a real ocitapd and a real runc container:
#  - --version and -V print the same "NAME VERSION" line in every binary
#    (ocitap-hook without reading stdin, under its stage names too;
#    ocitap-runtime then the real runc's own --version), `ocitap version`;
#  - every command of the table takes --json and gives JSON, takes options
#    after its operands, stops at "--", and says a bad option in one line
#    (exit 2);
#  - the CLI finds ocitapd by --http, $OCITAP_HTTP, ocitapd.conf's http,
#    the http.addr ocitapd writes beside its socket (its successor's after
#    --replace, gone after a clean stop), then the default;
#  - the bash completion made from the table completes `ocitap in` to
#    inspect, and make install / make uninstall put it and take it away.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "cli-global"

BIN="$TOP/$BUILD/bin"
test_init cli-global
mkdir -p "$work/run"
sock=$work/run/ocitap.sock
addr_file=$work/run/http.addr
daemon_args=(--keeper off --bpf off)
# the ocitap source in ps --json: where the record came from (or why not)
ps_from() { jq -r '.sources[] | select(.name == "ocitap") | .from // .error' "$1"; }
export -f ps_from
one_line() { [ "$1" -eq "$2" ] && [ "$(wc -l <"$3")" -eq 1 ]; }
export -f one_line

# ---- versions ---------------------------------------------------------------

v=$("$OCITAP" version --json | jq -r .version)
check "ocitap version --json: a version, the json-c it runs with" \
	bash -c '[[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] && "$2" version --json | jq -e ".libraries[\"json-c\"] | length > 0" >/dev/null' \
	_ "$v" "$OCITAP"
"$OCITAP" version >"$work/version.txt"
check "ocitap version: the version line first, then commit, compiler, libraries" \
	bash -c '[ "$(head -1 "$1")" = "ocitap $2" ] && grep -q "^commit: " "$1" && grep -q "^compiler: " "$1" &&
		grep -q "^libraries: json-c " "$1"' _ "$work/version.txt" "$v"
for prog in ocitap ocitapd ocitap-fdkeeper ocitap-hook ocitap-prestart ocitap-createRuntime ocitap-createContainer \
	ocitap-startContainer ocitap-poststart ocitap-poststop; do
	# the hook's stage names are the hook: its line names ocitap-hook
	case $prog in
	ocitap | ocitapd | ocitap-fdkeeper) name=$prog ;;
	*) name=ocitap-hook ;;
	esac
	for flag in --version -V; do
		out=$("$BIN/$prog" "$flag" </dev/null 2>"$work/v.err")
		rc=$?
		check "$prog $flag: '$name $v', exit 0, nothing on stderr" \
			[ "$rc" -eq 0 -a "$out" = "$name $v" -a ! -s "$work/v.err" ] || echo "# rc $rc: '$out' $(cat "$work/v.err")"
	done
done
# a hook that read its stdin would leave nothing for cat
out=$({ "$BIN/ocitap-poststop" --version >/dev/null; cat; } <<<'{"unread": true}')
check "ocitap-poststop --version does not read stdin (what follows still reads the State)" \
	[ "$out" = '{"unread": true}' ]
for flag in --version -V -v; do
	"$BIN/ocitap-runtime" --ocitap-runtime runc "$flag" >"$work/rt.txt" 2>"$work/rt.err"
	rc=$?
	check "ocitap-runtime $flag: 'ocitap-runtime $v', then runc's own --version unchanged" \
		bash -c '[ "$1" -eq 0 ] && [ "$(head -1 "$2")" = "ocitap-runtime $3" ] && diff <(tail -n +2 "$2") <(runc --version) >/dev/null' \
		_ "$rc" "$work/rt.txt" "$v" || sed 's/^/# /' "$work/rt.txt" "$work/rt.err"
done
check "... which holds the commit: line Docker shows" grep -q '^commit: ' "$work/rt.txt"
"$OCITAP" -x >/dev/null 2>"$work/top.err"
check "ocitap -x: exit 2, one line" bash -c 'one_line "$1" 2 "$2" && grep -qx "ocitap: unknown option '\''-x'\''; see '\''ocitap --help'\''" "$2"' \
	_ "$?" "$work/top.err"

# ---- a daemon, a container ----------------------------------------------------

# port 0: the kernel's choice, which only http.addr tells
start_daemon --http 127.0.0.1:0
wait_for "$addr_file"
addr=$(cat "$addr_file")
check "ocitapd writes http.addr beside its socket: the port it got for port 0" \
	bash -c '[[ $1 =~ ^127\.0\.0\.1:[1-9][0-9]*$ ]] && curl -sf "http://$1/healthz" >/dev/null' _ "$addr" ||
	echo "# http.addr: '$addr'"
check "... a regular file, mode 0644, one line" \
	bash -c '[ -f "$1" -a ! -L "$1" ] && [ "$(stat -c %a "$1")" = 644 ] && [ "$(wc -l <"$1")" -eq 1 ]' _ "$addr_file"

make_rootfs "$work/b/rootfs"
(cd "$work/b" && runc spec)
jq --arg sock "$sock" --arg state "$state" --arg bin "$BIN" '
  def hook($s): {path: ($bin + "/ocitap-" + $s), args: ["ocitap-" + $s, "--socket", $sock, "--state-dir", $state]};
  .process.terminal = false | .root.readonly = false | .process.args = ["sh", "-c", "exit 3"] | .linux.cgroupsPath = ""
| .hooks = {createRuntime: [hook("createRuntime")], poststart: [hook("poststart")], poststop: [hook("poststop")]}' \
	"$work/b/config.json" >"$work/b/c.json" && mv "$work/b/c.json" "$work/b/config.json"
timeout 60 runc --root "$work/runc" run --bundle "$work/b" g-exit </dev/null >"$work/g-exit.out" 2>&1
rc=$?
check "runc run g-exit: exit 3, the container's own" [ "$rc" -eq 3 ] || sed 's/^/# /' "$work/g-exit.out"
for ((i = 0; i < 100; i++)); do
	[[ $(q "select phase from containers where id='g-exit'") == stopped &&
		-n $(q "select exit_code from containers where id='g-exit'") ]] && break
	sleep 0.1
done
check "a runc container recorded as stopped, with its exit code" \
	[ "$(q "select phase || ' ' || coalesce(exit_code, 'none') from containers where id='g-exit'")" = "stopped 3" ] ||
	{
		q "select run, seq, kind, source, from_phase, to_phase, exit_code from events where container_id='g-exit' order by seq" |
			sed 's/^/# event: /'
		grep "g-exit" "$log" | sed 's/^/# log: /'
	}

# ---- where the CLI finds the daemon -------------------------------------------

# cli ARGS: ocitap told only the socket (and the config file $conf, none by default)
cli() { env -u OCITAP_HTTP OCITAP_SOCKET="$sock" OCITAP_CONFIG="${conf:-$work/none.conf}" "$OCITAP" "$@"; }
cli ps -a --json --state-dir "$state" >"$work/d1.json" 2>"$work/d1.err"
check "told only the socket, ps reaches ocitapd by http.addr" [ "$(ps_from "$work/d1.json")" = "ocitapd at $addr" ] ||
	echo "# $(ps_from "$work/d1.json")"
check "... and lists the container from it" \
	[ "$(jq -r '.containers[] | select(.id == "g-exit") | .exit.code' "$work/d1.json")" = 3 ]
check "... saying nothing on stderr" [ ! -s "$work/d1.err" ]

bad=127.0.0.1:$(free_port) bad2=127.0.0.1:$(free_port)
printf '# the daemon is on http.addr, this says elsewhere\nhttp = %s\n' "$addr" >"$work/good.conf"
printf 'http = %s\n' "$bad" >"$work/elsewhere.conf"
printf '%s\n' "$bad" >"$addr_file" # http.addr now wrong: the file must win
conf=$work/good.conf cli ps --json --state-dir "$state" >"$work/d2.json" 2>/dev/null
check "ocitapd.conf's http wins over http.addr" [ "$(ps_from "$work/d2.json")" = "ocitapd at $addr" ] ||
	echo "# $(ps_from "$work/d2.json")"
OCITAP_HTTP=$bad2 OCITAP_CONFIG=$work/good.conf env OCITAP_SOCKET="$sock" "$OCITAP" ps --json --state-dir "$state" \
	>"$work/d3.json" 2>/dev/null
check "\$OCITAP_HTTP wins over the config file (and says where it came from)" \
	bash -c '[[ $1 == *"ocitapd at $2 (from \$OCITAP_HTTP)"* ]]' _ "$(ps_from "$work/d3.json")" "$bad2" ||
	echo "# $(ps_from "$work/d3.json")"
OCITAP_HTTP=$bad2 env OCITAP_SOCKET="$sock" "$OCITAP" ps --json --state-dir "$state" --http "$addr" >"$work/d4.json" 2>/dev/null
check "--http wins over \$OCITAP_HTTP" [ "$(ps_from "$work/d4.json")" = "ocitapd at $addr" ]
conf=$work/elsewhere.conf cli inspect g-exit --json --state-dir "$state" >"$work/d5.json" 2>"$work/d5.err"
check "a config naming a dead address wins too: inspect reads the store, says which address from which file" \
	bash -c 'jq -e ".record.exit.code == 3" "$1" >/dev/null && [[ $(jq -r .sources.ocitap "$1") == *"ocitapd at $2 (from $3)"* ]]' \
	_ "$work/d5.json" "$bad" "$work/elsewhere.conf" || jq -c .sources "$work/d5.json" | sed 's/^/# /'
printf 'http = %s\nthis is no key\n' "$addr" >"$work/broken.conf"
printf '%s\n' "$addr" >"$addr_file"
conf=$work/broken.conf cli ps --json --state-dir "$state" >"$work/d6.json" 2>"$work/d6.err"
check "a broken config is skipped with one warning naming the file and line; http.addr is used" \
	bash -c '[ "$(ps_from "$1")" = "ocitapd at $2" ] && [ "$(wc -l <"$3")" -eq 1 ] && grep -qF "$4:2: expected KEY = VALUE" "$3"' \
	_ "$work/d6.json" "$addr" "$work/d6.err" "$work/broken.conf" || sed 's/^/# /' "$work/d6.err"
cli ps --http 127.0.0.1 >/dev/null 2>"$work/d7.err"
check "--http 127.0.0.1 (no port): exit 2, one line naming it" \
	bash -c 'one_line "$1" 2 "$2" && grep -q "^ocitap: ps: --http: '\''127.0.0.1'\''" "$2"' _ "$?" "$work/d7.err" ||
	sed 's/^/# /' "$work/d7.err"
OCITAP_HTTP=http://x:1 "$OCITAP" events >/dev/null 2>"$work/d8.err"
check "\$OCITAP_HTTP=http://x:1: exit 2, one line naming the variable" \
	bash -c 'one_line "$1" 2 "$2" && grep -q "OCITAP_HTTP: '\''http://x:1'\''" "$2"' _ "$?" "$work/d8.err"

# ---- every command: --json, options after operands, "--", bad options ---------

mkdir -p "$work/hooks.d"
printf '%s' '{"ociVersion":"1.0.2","id":"g-state","status":"stopped","bundle":"/x"}' >"$work/state.json"
cp "$work/state.json" "$work/-q"
ot() { "$OCITAP" "$@" --http "$addr" --state-dir "$state" --runc-root "$work/runc"; }
# each command of the table, run with --json after its operands: stdout must
# be JSON (one document, or one per line), the exit status as given
declare -A json_run=(
	[events]="0 ot events --json"
	[hooks]="0 $OCITAP hooks lint $work/hooks.d --json"
	[inspect]="0 ot inspect g-exit --json"
	[profile]="1 $OCITAP profile g-exit --json --http $addr --state-dir $state"
	[ps]="0 ot ps -a --json"
	[validate]="0 $OCITAP validate $work/state.json --json"
	[version]="0 $OCITAP version --json"
	[completion]="0 $OCITAP completion --json"
)
"$OCITAP" completion --json >"$work/table.json"
mapfile -t commands < <(jq -r '.commands[].name' "$work/table.json")
check "the command table has every command ocitap --help lists" \
	[ "$(printf '%s\n' "${commands[@]}" | sort)" = "$("$OCITAP" --help | awk '/^commands:/ {on=1; next} on && NF == 0 {exit} on {print $1}' | sort)" ]
for c in "${commands[@]}"; do
	if [[ -z ${json_run[$c]:-} ]]; then
		not_ok "$c --json: this test knows no command line for it"
		continue
	fi
	read -r want cmdline <<<"${json_run[$c]}"
	# shellcheck disable=SC2086 # the command line is words
	$cmdline >"$work/j-$c.out" 2>"$work/j-$c.err"
	rc=$?
	check "$c --json (after the operands): exit $want, JSON on stdout" \
		bash -c '[ "$1" -eq "$2" ] && [ -s "$3" ] && jq -e . "$3" >/dev/null' _ "$rc" "$want" "$work/j-$c.out" ||
		echo "# rc $rc: $(head -c 300 "$work/j-$c.out") $(head -c 300 "$work/j-$c.err")"
done
check "profile --json with BPF off: the error as JSON, its exit code in it" \
	bash -c 'jq -e ".exitCode == 1 and (.error | test(\"BPF is off|not traced\"))" "$1" >/dev/null' _ "$work/j-profile.out"
check "inspect --json: the container's exit in its record" jq -e ".record.exit.code == 3" "$work/j-inspect.out"
check "events --json: one object per line, the exit among them" \
	bash -c 'jq -es "length > 0 and any(.[]; .kind == \"exit\")" "$1" >/dev/null' _ "$work/j-events.out"
"$OCITAP" validate "$work/state.json" -q >"$work/q.out" 2>&1
check "validate FILE -q: -q is an option after the operand (exit 0, nothing printed)" [ $? -eq 0 -a ! -s "$work/q.out" ]
(cd "$work" && "$OCITAP" validate -c -- -q) >"$work/dd.out" 2>&1
check "validate -c -- -q: after --, -q is a file name" \
	bash -c '[ "$1" -eq 0 ] && jq -e ".id == \"g-state\"" "$2" >/dev/null && [ "$(wc -l <"$2")" -eq 1 ]' _ "$?" "$work/dd.out"
for c in "${commands[@]}"; do
	words=("$c")
	[[ $c == hooks ]] && words=(hooks explain "$work/b")
	[[ $c == completion ]] && words=(completion bash)
	"$OCITAP" "${words[@]}" --no-such-option >"$work/bad.out" 2>"$work/bad.err"
	rc=$?
	name=${words[0]}
	[[ $c == hooks ]] && name="hooks explain"
	check "$name --no-such-option: exit 2, one line naming it and where help is" \
		bash -c 'one_line "$1" 2 "$2" && [ "$(cat "$2")" = "ocitap: unknown option '\''--no-such-option'\'' for '\''$3'\''; see '\''ocitap $3 --help'\''" ] && [ ! -s "$4" ]' \
		_ "$rc" "$work/bad.err" "$name" "$work/bad.out" || sed 's/^/# /' "$work/bad.err"
done
"$OCITAP" ps --no-such-option --json >"$work/bad.out" 2>"$work/bad.err"
check "ps --no-such-option --json: the same line, and the error as JSON (exit code 2)" \
	bash -c 'one_line "$1" 2 "$2" && jq -e ".exitCode == 2 and (.error | test(\"--no-such-option\"))" "$3" >/dev/null' \
	_ "$?" "$work/bad.err" "$work/bad.out"
"$OCITAP" events --since >/dev/null 2>"$work/bad.err"
check "events --since (no value): exit 2, one line saying it needs one" \
	bash -c 'one_line "$1" 2 "$2" && grep -q "option '\''--since'\'' for '\''events'\'' needs a value" "$2"' _ "$?" "$work/bad.err"
"$OCITAP" ps --all=yes >/dev/null 2>"$work/bad.err"
check "ps --all=yes: exit 2, one line saying it takes no value" \
	bash -c 'one_line "$1" 2 "$2" && grep -q "option '\''--all'\'' for '\''ps'\'' takes no value" "$2"' _ "$?" "$work/bad.err"
"$OCITAP" ps -az >/dev/null 2>"$work/bad.err"
check "ps -az: the short option named (-z)" grep -q "unknown option '-z' for 'ps'" "$work/bad.err"

# ---- bash completion --------------------------------------------------------

"$OCITAP" completion bash >"$work/ocitap.bash"
# complete WORDS...: what _ocitap offers for the last word
complete_words() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _ocitap
		printf "%s\n" "${COMPREPLY[@]}"' _ "$work/ocitap.bash" "$@"
}
check "the completion script loads and registers _ocitap for ocitap" \
	bash -c 'source "$1" && [ "$(complete -p ocitap)" = "complete -o filenames -F _ocitap ocitap" ]' _ "$work/ocitap.bash"
check "ocitap in<TAB> completes to inspect" [ "$(complete_words ocitap in)" = inspect ]
check "ocitap <TAB>: help and every command of the table" \
	[ "$(complete_words ocitap '' | sort | tr '\n' ' ')" = "$( (echo help; printf '%s\n' "${commands[@]}") | sort | tr '\n' ' ')" ]
check "ocitap hooks <TAB>: explain lint" [ "$(complete_words ocitap hooks '' | tr '\n' ' ')" = "explain lint " ]
check "ocitap help ins<TAB>: inspect" [ "$(complete_words ocitap help ins)" = inspect ]
for c in "${commands[@]}"; do
	words=(ocitap "$c")
	[[ $c == hooks ]] && words=(ocitap hooks lint)
	[[ $c == completion ]] && words=(ocitap completion bash)
	want=$(jq -r --arg c "$c" '.commands[] | select(.name == $c) | .options[] | "--" + .name' "$work/table.json" | sort)
	check "ocitap $c --<TAB>: exactly its options" [ "$(complete_words "${words[@]}" -- | sort)" = "$want" ] ||
		echo "# $(complete_words "${words[@]}" -- | tr '\n' ' ')"
done
check "ocitap ps --http <TAB>: file names for a value (the work directory's)" \
	bash -c 'cd "$1" && source "$2" && COMP_WORDS=(ocitap ps --http h) COMP_CWORD=3 && _ocitap && [ "${COMPREPLY[*]}" = hooks.d ]' \
	_ "$work" "$work/ocitap.bash"

# make install puts it where bash-completion looks, make uninstall takes everything away
inst=$work/inst
make -C "$TOP" --no-print-directory -s install DESTDIR="$inst" PREFIX=/usr BASHCOMPDIR=/usr/share/bash-completion/completions \
	BUILD="$BUILD" >"$work/install.log" 2>&1
check "make install: the completion in /usr/share/bash-completion/completions/ocitap, as ocitap makes it" \
	cmp -s "$inst/usr/share/bash-completion/completions/ocitap" "$work/ocitap.bash" || tail -5 "$work/install.log" | sed 's/^/# /'
make -C "$TOP" --no-print-directory -s uninstall DESTDIR="$inst" PREFIX=/usr BASHCOMPDIR=/usr/share/bash-completion/completions \
	BUILD="$BUILD" >>"$work/install.log" 2>&1
check "make uninstall: no file install put is left" [ -z "$(find "$inst" ! -type d)" ] ||
	find "$inst" ! -type d | sed 's/^/# left: /'

# ---- http.addr at the end ---------------------------------------------------

# a successor (port 0 again) writes its own address; the one it replaced
# leaves the file to it
old=$daemon_pid
out=$("$OCITAPD" --replace --socket "$sock" 2>&1)
new=$(sed -n 's/.*replaced by pid \([0-9]*\).*/\1/p' <<<"$out")
for ((i = 0; i < 50; i++)); do
	[[ ! -d /proc/$old ]] && curl -sf "http://$(cat "$addr_file" 2>/dev/null)/healthz" >/dev/null && break
	sleep 0.1
done
check "ocitapd --replace: http.addr names the successor's address, and it answers there" \
	bash -c '[ -n "$1" ] && [ ! -d "/proc/$2" ] && [[ $(cat "$3") =~ ^127\.0\.0\.1:[1-9][0-9]*$ ]] &&
		curl -sf "http://$(cat "$3")/healthz" | jq -e ".status == \"ok\"" >/dev/null' _ "$new" "$old" "$addr_file" ||
	echo "# $out"
wait "$old" 2>/dev/null
daemon_pid=$new # not our child: cleanup kills it if the script stops here
[[ -n $new ]] && kill "$new"
for ((i = 0; i < 50; i++)); do [[ -n $new && -d /proc/$new ]] || break; sleep 0.1; done
daemon_pid=
check "ocitapd stopped cleanly: http.addr removed" [ ! -e "$addr_file" ]
start_daemon --http off
wait_for "$addr_file"
check "--http off: http.addr says off" [ "$(cat "$addr_file")" = off ]
cli ps -a --json --state-dir "$state" >"$work/off.json" 2>/dev/null
check "... and ps reads the store without asking any address" \
	bash -c '[[ $(jq -r ".sources[] | select(.name == \"ocitap\") | .from" "$1") == "the store in "* ]] &&
		jq -e ".containers[] | select(.id == \"g-exit\")" "$1" >/dev/null' _ "$work/off.json" || ps_from "$work/off.json" | sed 's/^/# /'
stop_daemon
start_daemon --http "unix:$work/run/http.sock"
wait_for "$addr_file"
cli ps --json --state-dir "$state" >"$work/unix.json" 2>/dev/null
check "--http unix:PATH: http.addr names it, and ps reaches the daemon there" \
	bash -c '[ "$(cat "$1")" = "unix:$2" ] && [ "$(jq -r ".sources[] | select(.name == \"ocitap\") | .from" "$3")" = "ocitapd at unix:$2" ]' \
	_ "$addr_file" "$work/run/http.sock" "$work/unix.json"
stop_daemon
done_testing
