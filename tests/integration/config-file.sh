#!/usr/bin/env bash
# config-file.sh: ocitapd's config file, ocitapd.conf(5) (issue 20, item 2),
# with a real daemon: what the file says takes effect (its HTTP address
# answers /healthz, its policy file is loaded), OCITAP_HTTP wins over the file
# and --http over both; an unknown key stops the start with an error naming
# the file, the line and the key; a --config file that is missing is an
# error; the shipped etc/ocitapd.conf is valid as it is.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "config-file"

test_init config-file
p1=$(free_port)
p2=$((p1 + 1))
p3=$((p1 + 2))
conf=$work/ocitapd.conf
cat >"$conf" <<CONF
# the test's config
http = 127.0.0.1:$p1
policy = $TOP/etc/policy.json

CONF
up() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/healthz"; }
# the log line comes after HTTP is up: wait for it (5 s)
log_has() { for ((i = 0; i < 50; i++)); do grep -q "$1" "$log" && return 0; sleep 0.1; done; return 1; }
wait_up() { for ((i = 0; i < 50; i++)); do [[ $(up "$1") == 200 ]] && return 0; sleep 0.1; done; return 1; }

start_daemon --config "$conf"
check "the file's http address answers /healthz" wait_up "$p1"
check "the log says the file was read" log_has "config file $conf read"
check "the file's policy file is loaded (3 policies: audit, deny, strict)" log_has "3 policies"
stop_daemon

: >"$log"
OCITAP_HTTP=127.0.0.1:$p2 start_daemon --config "$conf"
check "OCITAP_HTTP wins over the file: its address answers" wait_up "$p2"
check "OCITAP_HTTP wins over the file: the file's address is not served" test "$(up "$p1")" = 000
stop_daemon

: >"$log"
OCITAP_HTTP=127.0.0.1:$p2 start_daemon --config "$conf" --http "127.0.0.1:$p3"
check "--http wins over the environment and the file" wait_up "$p3"
check "--http wins: neither other address is served" test "$(up "$p1")$(up "$p2")" = 000000
stop_daemon

printf 'http = 127.0.0.1:%s\n# fine so far\nsokcet = /x\n' "$p1" >"$work/bad.conf"
out=$("$TOP/$BUILD/bin/ocitapd" --config "$work/bad.conf" --socket "$sock" --state-dir "$state" 2>&1)
rc=$?
check "an unknown key: exit 2" test "$rc" = 2
check "an unknown key: one line naming the file, the line and the key" \
	test "$out" = "ocitapd: $work/bad.conf:3: unknown key 'sokcet' (see ocitapd.conf(5))" || echo "# $out"
out=$("$TOP/$BUILD/bin/ocitapd" --config "$work/missing.conf" --socket "$sock" --state-dir "$state" 2>&1)
rc=$?
check "a missing --config file: exit 2" test "$rc" = 2
check "a missing --config file: the error names it" grep -q "$work/missing.conf" <<<"$out" || echo "# $out"

# the shipped example, with this test's paths: it starts, its policy loaded
sed -e "s|/etc/ocitap/policy.json|$TOP/etc/policy.json|" -e "s|^#http = .*|http = 127.0.0.1:$p1|" \
	"$TOP/etc/ocitapd.conf" >"$work/shipped.conf"
: >"$log"
start_daemon --config "$work/shipped.conf"
check "the shipped ocitapd.conf: the daemon starts and answers" wait_up "$p1"
check "the shipped ocitapd.conf: etc/policy.json loaded" log_has "3 policies"
stop_daemon
done_testing
