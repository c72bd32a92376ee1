#!/usr/bin/env bash
# validate-policy.sh: `ocitap validate` checks an ocitapd policy file
# offline (--kind policy, or picked by its "policies" key): a good file
# passes and lists its policies; each bad one fails with one error line that
# names the key, the bad word, and the line and column.
set -uo pipefail
source "$(dirname "$0")/common.bash"
tmp=$(mktemp -d /tmp/ocitap-vpol-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/good.json" <<'JSON'
{ "comment": "what the README shows",
  "policies": { "strict": { "default": "continue",
      "syscalls": { "mkdir": "errno:EACCES", "chmod": "kill" } },
    "quiet": { "default": "errno:EPERM" } } }
JSON
out=$("$OCITAP" validate --kind policy "$tmp/good.json" 2>&1)
check "a good policy file: exit 0, its policies listed ($out)" \
	test "$out" = "$tmp/good.json: a valid policy file: 2 policies (built in: audit, deny): strict, quiet"
out=$("$OCITAP" validate "$tmp/good.json" 2>&1)
check "picked as a policy file without --kind" grep -q "a valid policy file" <<<"$out"
check "--json says valid" test "$("$OCITAP" validate --kind policy --json "$tmp/good.json" | jq -c .policies)" = '["audit","deny","strict","quiet"]'
check "-q prints nothing" test -z "$("$OCITAP" validate -q --kind policy "$tmp/good.json")"

# bad FILE-CONTENT EXPECTED-LINE [--kind policy]: exit 1, exactly that one line on stderr
bad() {
	printf '%s' "$1" >"$tmp/bad.json"
	local err rc
	err=$("$OCITAP" validate "${@:3}" "$tmp/bad.json" 2>&1 >/dev/null)
	rc=$?
	check "bad: $2 (exit $rc)" test "$rc" -eq 1 -a "$err" = "ocitap: $tmp/bad.json: $2"
}
bad $'{\n  "policies": {\n    "strict": {\n      "defualt": "errno:EPERM"\n    }\n  }\n}\n' \
	'policies.strict: unknown key "defualt" (expected default, syscalls or comment) at line 4, column 7'
bad '{"policy": {"strict": {}}}' 'unknown key "policy" (expected policies or comment) at line 1, column 2'
bad $'{"policies": {\n "p": {"syscalls": {"mkdir": "contine"}}}}' \
	'policies.p.syscalls.mkdir: unknown action "contine" (expected continue, errno:NAME or kill) at line 2, column 21'
bad $'{"policies": {\n "p": {"default": "errno:EWHAT"}}}' \
	'policies.p.default: unknown errno "EWHAT" (expected a name such as EPERM) at line 2, column 8'
bad $'{"policies": {\n "p": {"syscalls": {"mkdr": "kill"}}}}' \
	'policies.p.syscalls.mkdr: unknown syscall at line 2, column 21'
bad $'{"policies": {\n "p": {"default": "kill",}}}' \
	'invalid JSON at line 2, column 26 (byte 40): unexpected character' --kind policy
bad '{"id": "x"}' 'unknown key "id" (expected policies or comment) at line 1, column 2' --kind policy
"$OCITAP" validate --kind policy "$tmp/nonexistent.json" 2>/dev/null
check "a missing file: exit 1" test $? -eq 1
done_testing
