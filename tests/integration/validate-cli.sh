#!/usr/bin/env bash
# validate-cli.sh: `ocitap validate` as a user and a script see it: exit
# codes, the one-line error naming file and field, --json, every real
# payload in tests/data accepted, and input that is huge or never ends
# refused within its bound and deadline.
set -uo pipefail
source "$(dirname "$0")/common.bash"
cd "$TOP"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# every payload runc and crun really sent (hooks, listener, state command)
for f in tests/data/*.json; do
	check "accepts $(basename "$f")" "$OCITAP" validate --quiet "$f"
done

# expect STATUS 'STDERR-LINE' [ARGS...] with stdin from $input
expect() {
	local want_rc=$1 want_err=$2
	shift 2
	local err rc
	err=$(printf '%s' "$input" | "$OCITAP" validate "$@" 2>&1 >/dev/null)
	rc=$?
	if [[ $rc -eq $want_rc && $err == "$want_err" ]]; then
		ok "validate $* <<< ${input:0:40}: exit $rc, '$err'"
	else
		not_ok "validate $* <<< ${input:0:40}: got exit $rc '$err', want $want_rc '$want_err'"
	fi
}
input='{"id":"x","status":"running","pid":-1}'
expect 1 'ocitap: <stdin>: pid: must not be negative (got -1)'
input='{"status":"running"}'
expect 1 'ocitap: <stdin>: id: missing'
input='{"id":"x","status":"running","bundle":"b"}'
expect 1 'ocitap: <stdin>: bundle: must be an absolute path'
input='{"ociVersion":"1.0","id":"x","status":"running","bundle":"/b"}'
expect 1 'ocitap: <stdin>: pid: missing while status is running' --strict
expect 0 '' --kind state
input='{"fds":["seccompFd"],"pid":3,"state":{"id":"c","status":"creating","pid":-4}}'
expect 1 'ocitap: <stdin>: state.pid: must not be negative (got -4)'
input='{"fds":[1],"pid":3,"state":{"id":"c","status":"creating"}}'
expect 1 'ocitap: <stdin>: fds[0]: expected a string, got an integer'
input='{"linux":{"seccomp":{"listenerMetadata":"a=b"}}}'
expect 1 'ocitap: <stdin>: linux.seccomp.listenerMetadata: set without listenerPath'
input=''
expect 1 'ocitap: <stdin>: empty input: expected a JSON object'
input='not json'
expect 1 'ocitap: <stdin>: invalid JSON at byte 1: null expected'
input='{"id":"a","status":"x"} trailing'
expect 1 'ocitap: <stdin>: invalid JSON at byte 24: unexpected character'
input='{}'
expect 2 "ocitap validate: unknown kind 'nope' (expected state, process-state, config, policy or auto)" --kind nope
expect 2 "ocitap validate: --max-size: expected bytes from 1 to 1073741824, got 'x'" --max-size x

# --json: the same error as one JSON object on stdout
out=$(printf '{"id":"x","status":"running","pid":-1}' | "$OCITAP" validate --json 2>/dev/null)
check "--json error object" [ "$(jq -c '[.valid,.file,.kind,.field,.errno]' <<<"$out")" = '[false,"<stdin>","state","pid","ERANGE"]' ]
out=$(printf 'nope' | "$OCITAP" validate --json 2>/dev/null)
check "--json error without a field has field null" [ "$(jq -c '.field' <<<"$out")" = null ]

# a file that is missing: exit 1, named
err=$("$OCITAP" validate /nonexistent/x.json 2>&1)
check "missing file: exit 1 and named" [ $? -eq 1 -a "$err" = "ocitap: /nonexistent/x.json: cannot open: No such file or directory" ]

# several files: exit 1 if any fails, each reported
printf '{"id":"a","status":"x"}' >"$tmp/good.json"
printf '{"id":"a"}' >"$tmp/bad.json"
err=$("$OCITAP" validate -q "$tmp/good.json" "$tmp/bad.json" 2>&1)
check "several files: the bad one named, exit 1" [ $? -eq 1 -a "$err" = "ocitap: $tmp/bad.json: status: missing" ]

# normalized output: crun's extra "root" dropped, order fixed, status kept verbatim
out=$("$OCITAP" validate --compact tests/data/crun-startContainer.json)
check "normalized crun startContainer" [ "$out" = '{"ociVersion":"1.0","id":"t6","status":"starting","pid":0,"bundle":"/","annotations":{"org.example.k":"v"}}' ]

# 100 MiB on stdin: refused at the bound, quickly, without reading it all
start=$(date +%s%N)
err=$(head -c 104857600 /dev/zero | "$OCITAP" validate 2>&1)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "100 MiB stdin refused (exit 1)" [ $rc -eq 1 -a "$err" = "ocitap: <stdin>: input is larger than the limit of 1048576 bytes" ]
echo "# 100 MiB stdin refused after ${ms} ms"
# a 100 MiB regular file: refused from its size
truncate -s 100M "$tmp/huge.json"
err=$("$OCITAP" validate "$tmp/huge.json" 2>&1)
check "100 MiB file refused from its size" [ "$err" = "ocitap: $tmp/huge.json: input is 104857600 bytes, more than the limit of 1048576 bytes" ]

# a writer that never closes: refused at the deadline, not hung
mkfifo "$tmp/never"
(printf '{"id":'; exec sleep 30) >"$tmp/never" &
writer=$!
start=$(date +%s%N)
err=$(timeout 20 "$OCITAP" validate --timeout 300 <"$tmp/never" 2>&1)
rc=$?
kill $writer 2>/dev/null
ms=$((($(date +%s%N) - start) / 1000000))
check "never-closing stdin refused at --timeout 300 (exit 1, ${ms} ms)" [ $rc -eq 1 -a $ms -lt 5000 ]
check "never-closing stdin: message says so" grep -q "input did not end within 300 ms (6 bytes read)" <<<"$err"
done_testing
