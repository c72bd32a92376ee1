#!/usr/bin/env bash
# units.sh: the shipped systemd units (issue 20, item 2): `systemd-analyze
# verify` says nothing of them (the binaries as built, no man pages looked
# for), and `systemd-analyze security --offline=true` rates ocitapd.service
# at most 5.0 and ocitap-fdkeeper.service lower. PID 1 need not be systemd:
# both work on the unit files alone.
set -uo pipefail
source "$(dirname "$0")/common.bash"

command -v systemd-analyze >/dev/null || skip_rest "units" "systemd-analyze is not installed"
test_init units
BIN="$TOP/$BUILD/bin"
mkdir -p "$work/units"
for u in inspect/ocitapd/ocitapd.service inspect/fdkeeper/ocitap-fdkeeper.service; do
	sed "s|/usr/local/bin|$BIN|g" "$TOP/$u" >"$work/units/$(basename "$u")"
done

for u in ocitapd.service ocitap-fdkeeper.service; do
	out=$(cd "$work/units" && systemd-analyze verify --man=no "$work/units/$u" 2>&1)
	rc=$?
	check "systemd-analyze verify $u: exit 0" test "$rc" = 0 || echo "$out" | sed 's/^/# /'
	check "systemd-analyze verify $u: nothing said" test -z "$out" || echo "$out" | sed 's/^/# /'
done

score() {
	systemd-analyze security --offline=true "$work/units/$1" 2>&1 |
		sed -n 's/^.*Overall exposure level for [^:]*: \([0-9][0-9.]*\) .*$/\1/p'
}
d=$(score ocitapd.service)
k=$(score ocitap-fdkeeper.service)
echo "# exposure: ocitapd.service $d, ocitap-fdkeeper.service $k"
check "ocitapd.service: an exposure level was printed" test -n "$d"
check "ocitap-fdkeeper.service: an exposure level was printed" test -n "$k"
check "ocitapd.service: exposure $d at most 5.0" awk -v s="$d" 'BEGIN { exit !(s != "" && s <= 5.0) }'
check "ocitap-fdkeeper.service: exposure $k below ocitapd's $d" \
	awk -v s="$k" -v d="$d" 'BEGIN { exit !(s != "" && s < d) }'
# what the daemon needs is still there: BPF, the containers' processes, the profiles
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$work/units/ocitapd.service")
for c in CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_SYS_PTRACE CAP_KILL; do
	check "ocitapd.service keeps $c" grep -qw "$c" <<<"$caps"
done
check "ocitapd.service: the state dir (profiles) and /run/ocitap writable" \
	grep -q '^ReadWritePaths=/var/lib/ocitap /run/ocitap$' "$work/units/ocitapd.service"
check "ocitapd.service: the environment file is optional" \
	grep -q '^EnvironmentFile=-/etc/ocitap/ocitapd.env$' "$work/units/ocitapd.service"
done_testing
