#!/usr/bin/env bash
# hook-libc.sh: the installed ocitap-hook is built against musl where
# musl-gcc is (Makefile, MUSL_CC), and must behave exactly as the glibc
# build of the same source (build/tests/ocitap-hook-glibc): the same exit
# code, the same stderr and the same report, byte for byte but for the
# hook's pid and clocks, for every State the runtimes give and for bad
# input; and it reports to a real ocitapd.
set -uo pipefail
source "$(dirname "$0")/common.bash"

BIN="$TOP/$BUILD/bin"
GLIBC="$TOP/$BUILD/tests/ocitap-hook-glibc"
test_init hook-libc

# which libc: glibc's static start leaves its version symbols' names in the binary
if grep -q GLIBC_ "$BIN/ocitap-hook"; then
	if command -v musl-gcc >/dev/null; then
		not_ok "musl-gcc is here, yet ocitap-hook is the glibc build"
	else
		skip "ocitap-hook is the musl build" "no musl-gcc on this machine (musl-tools): the glibc build is installed"
	fi
else
	check "ocitap-hook is the musl build (no glibc in it), static" \
		bash -c '! grep -q GLIBC_ "$1" && ! readelf -l "$1" | grep -q INTERP' _ "$BIN/ocitap-hook"
fi
check "ocitap-hook-static is the same build as ocitap-hook" cmp -s "$BIN/ocitap-hook" "$BIN/ocitap-hook-static"

# run BUILD-NAME HOOK INPUT ARGS...: the hook as ocitap-poststop would be,
# on a socket nobody listens on, spooling in $work/NAME/state; its stderr
# with the spool's file name made neutral, its exit code, and its report
# without the pid and clocks, in $work/NAME/{err,rc,report}
run() {
	local name=$1 hook=$2 input=$3 f
	shift 3
	rm -rf "${work:?}/$name" && mkdir -p "$work/$name"
	"$hook" --socket "$work/none.sock" --state-dir "$work/$name/state" "$@" <"$input" \
		>"$work/$name/out" 2>"$work/$name/err.raw"
	echo $? >"$work/$name/rc"
	sed -E -e "s|$work/$name/|DIR/|g" -e 's|[0-9]{20}-[0-9]+-|NAME-|g' "$work/$name/err.raw" >"$work/$name/err"
	: >"$work/$name/report"
	for f in "$work/$name"/state/spool/*.json; do
		[[ -e $f ]] && jq -cS 'del(.hookPid, .monoNs, .wallNs)' "$f" >>"$work/$name/report"
	done
}

# same WHAT INPUT ARGS...: both builds on INPUT, every output compared
same() {
	local what=$1 input=$2
	shift 2
	run musl "$BIN/ocitap-hook" "$input" "$@"
	run glibc "$GLIBC" "$input" "$@"
	check "$what: the same exit code, stderr and report under both builds" \
		bash -c 'cmp -s "$1/musl/rc" "$1/glibc/rc" && cmp -s "$1/musl/err" "$1/glibc/err" &&
			cmp -s "$1/musl/report" "$1/glibc/report" && cmp -s "$1/musl/out" "$1/glibc/out"' _ "$work" ||
		for f in rc err report out; do diff "$work/glibc/$f" "$work/musl/$f" | sed "s/^/# $f: /"; done
}

# every State file the runtimes give, each under the stage it came from
for f in "$TOP"/tests/data/{runc,crun}-{prestart,createRuntime,createContainer,startContainer,poststart,poststop}.json \
	"$TOP/tests/data/spec-state-example.json"; do
	stage=$(basename "$f" .json) stage=${stage#*-}
	[[ $stage == state-example ]] && stage=auto
	same "$(basename "$f")" "$f" "$stage"
	[[ $(cat "$work/musl/rc") == 0 && -s $work/musl/report ]] ||
		not_ok "$(basename "$f"): the musl build spooled it (rc $(cat "$work/musl/rc"), $(cat "$work/musl/err"))"
done

# a bundle whose config.json carries annotations (the hook reads them), with
# escapes and characters past ASCII
mkdir -p "$work/bundle"
printf '%s' '{"ociVersion":"1.0.2","annotations":{"io.k\u00e9y":"v\u00e4lue \u2603 \ud83d\ude00","plain":"x"}}' \
	>"$work/bundle/config.json"
jq -nc --arg b "$work/bundle" '{ociVersion: "1.0.2", id: "uni", status: "created", pid: 1, bundle: $b}' >"$work/uni.json"
same "annotations from the bundle, with \\u escapes and a surrogate pair" "$work/uni.json" prestart
check "... which are in the report" \
	grep -q '"io.kéy":"välue ☃ 😀"' "$work/musl/report" || sed 's/^/# /' "$work/musl/report"
printf '%s' '{"ociVersion":"1.0.2","id":"n","status":"stopped","bundle":"/","annotations":{"a":1.5e3,"b":[true,null]}}' \
	>"$work/numbers.json"
same "a State with numbers and odd annotation values" "$work/numbers.json" poststop

# bad input: each is refused with a line on stderr, under either build alike
printf '' >"$work/empty.json"
printf '{"id":' >"$work/cut.json"
printf '{"ociVersion":"1.0.2","id":"\xff\xfe","status":"created","bundle":"/"}' >"$work/badutf8.json"
printf '[1,2,3]' >"$work/array.json"
printf '{"ociVersion":"1.0.2","id":"../../etc","status":"created","bundle":"/"}' >"$work/badid.json"
head -c 3000000 /dev/zero | tr '\0' ' ' >"$work/huge.json"
for f in empty cut badutf8 array badid huge; do
	same "bad input ($f)" "$work/$f.json" prestart --fail-closed
	check "... ($f): exit 1, a message, nothing spooled" \
		bash -c '[ "$(cat "$1/musl/rc")" = 1 ] && [ -s "$1/musl/err" ] && [ ! -s "$1/musl/report" ]' _ "$work" ||
		sed 's/^/# /' "$work/musl/err"
done
same "a stage the State's status does not fit" "$TOP/tests/data/runc-prestart.json" poststop
same "--fail-closed, nobody listening, spool not writable" "$TOP/tests/data/runc-prestart.json" prestart \
	--fail-closed --state-dir /proc/none

# the command line
for args in "--bogus" "-x" "--socket" "-s" "--timeout 0" "--timeout x" "poststarts" "prestart extra" "--help" "--version"; do
	# shellcheck disable=SC2086 # the words are the point
	same "ocitap-hook $args" /dev/null $args
done
check "an unknown option is one line naming it, exit 2" \
	bash -c '"$1" --bogus </dev/null 2>&1 >/dev/null | { read -r l && [ "$l" = "ocitap-hook: unknown option '\''--bogus'\''; see '\''ocitap-hook --help'\''" ] && ! read -r; }
		"$1" --bogus </dev/null 2>/dev/null; [ $? -eq 2 ]' _ "$BIN/ocitap-hook"

# and the live path: a real ocitapd stores what the musl build sends
if [[ $(id -u) -eq 0 ]]; then
	daemon_args=(--http off)
	start_daemon
	for f in "$TOP"/tests/data/runc-{createRuntime,poststop}.json; do
		stage=$(basename "$f" .json) stage=${stage#*-}
		"$BIN/ocitap-$stage" --socket "$sock" --state-dir "$state" <"$f" 2>"$work/live.err"
		rc=$?
		check "ocitap-$stage to a running ocitapd: exit 0, nothing on stderr" \
			[ "$rc" -eq 0 -a ! -s "$work/live.err" ] || sed 's/^/# /' "$work/live.err"
	done
	check "... and ocitapd stored both, nothing spooled" \
		bash -c '[ "$(ls "$1/spool" 2>/dev/null | wc -l)" -eq 0 ]' _ "$state"
	wait_hooks t1 2 || true
	check "... both reports of t1 in the store" [ "$(q "select count(*) from events where container_id='t1' and kind='hook'")" -eq 2 ] ||
		q "select stage, source from events where container_id='t1'" | sed 's/^/# /'
	stop_daemon
else
	skip "the musl build to a running ocitapd" "needs root for ocitapd's store and peer checks (uid $(id -u))"
fi

done_testing
