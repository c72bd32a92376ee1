#!/usr/bin/env bash
# page.sh: the live page at GET / (issue 20, item 4) in a real headless
# Chromium, driven through the DevTools protocol (cdp.py). ocitapd runs with
# a bearer token. The page is served without it, with a strict
# Content-Security-Policy whose hashes match its inline style and script,
# and holds no data (the same bytes before and after a container ran); the
# API still asks for the token. Loaded with /#token=..., the page lists a
# container whose name is <img src=x onerror=...> as text (no img element,
# the handler never ran), takes the token out of the address, and runs with
# no CSP refusal or exception. A real runc container started after the page
# loaded, exiting 3 after two notified mkdirs, appears on it as "exited 3"
# with its notifications, without a reload; a click shows its timeline
# (hooks, transitions, the exit). A running container whose listenerMetadata
# names an unknown policy (policy=strcit) shows, in its detail, its notify
# fd's policy as the fallback deny with the name asked for; one with a
# known policy (audit) shows it with no "fallback"; once killed, its open
# detail says no notify fd is open. The daemon restarted under it, the page
# reconnects by itself and shows the next container. Without the token, or with a wrong one,
# the page shows an auth error and no data; the right token given in its
# form brings the data.
set -uo pipefail
source "$(dirname "$0")/common.bash"
require_root "page"
chromium=$(command -v chromium) ||
	skip_rest "the live page in Chromium" "chromium is not installed (Debian's chromium: scripts/deps.sh check installs it)"

BIN="$TOP/$BUILD/bin"
CDP="$TOP/tests/integration/cdp.py"
test_init page
port=$(free_port)
cport=$(free_port)
while [[ $cport == "$port" ]]; do cport=$(free_port); done
token=tok-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
echo "$token" >"$work/token"
chmod 600 "$work/token"
base=http://127.0.0.1:$port
daemon_args=(--http "127.0.0.1:$port" --http-token-file "$work/token")
chrome_pid=
# Chromium ends its own helper processes when asked to stop (SIGTERM)
test_cleanup() {
	[[ -n $chrome_pid ]] || return 0
	kill "$chrome_pid" 2>/dev/null
	for ((i = 0; i < 30; i++)); do kill -0 "$chrome_pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$chrome_pid" 2>/dev/null
	wait "$chrome_pid" 2>/dev/null
}
cdp() { "$CDP" "$cport" "$@"; }
waits() { cdp wait "$@" >/dev/null; } # TAB EXPR SECONDS: until EXPR is truthy
# in TAB: the row of container ID's text in column CLASS
cell() { cdp eval "$1" "(() => { const r = [...document.querySelectorAll('#runs-body tr')].find((t) => t.dataset.id === '$2');
	return r ? r.querySelector('.$3').textContent : null; })()"; }

start_daemon
for ((i = 0; i < 50; i++)); do curl -sf -H "Authorization: Bearer $token" "$base/healthz" >/dev/null && break; sleep 0.1; done

# ---- the document and its headers ----
curl -s -D "$work/page.h" -o "$work/page0.html" "$base/"
hdr() { grep -i "^$1:" "$work/page.h" | cut -d: -f2- | sed 's/^ *//; s/\r$//'; }
check "GET / without the token: 200, text/html" \
	test "$(head -1 "$work/page.h" | cut -d' ' -f2)/$(hdr Content-Type)" = "200/text/html; charset=utf-8"
check "... X-Content-Type-Options nosniff, Cache-Control no-store" \
	test "$(hdr X-Content-Type-Options)/$(hdr Cache-Control)" = "nosniff/no-store"
csp=$(hdr Content-Security-Policy)
check "... a CSP: nothing by default, fetches to 'self' only, no 'unsafe-inline', no framing, Trusted Types" \
	bash -c '[[ $1 == "default-src '"'none'"'"* && $1 == *"connect-src '"'self'"'"* && $1 != *unsafe* &&
		$1 == *"frame-ancestors '"'none'"'"* && $1 == *"require-trusted-types-for '"'script'"'"* ]]' _ "$csp" ||
	echo "# $csp"
hashes=$(python3 - "$work/page0.html" <<'EOF'
import base64, hashlib, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
for tag in ("script", "style"):
    blocks = re.findall(r"<%s>(.*?)</%s>" % (tag, tag), page, re.S)
    print(tag, len(blocks), *("'sha256-%s'" % base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in blocks))
EOF
)
check "... its script-src and style-src are the hashes of the page's one inline script and style" \
	bash -c 'set -- "$1" $2; [[ $1 == *"script-src $4;"* && $1 == *"style-src $7;"* && $3 == 1 && $6 == 1 ]]' _ "$csp" "$hashes" ||
	echo "# $hashes"
check "... the document loads nothing from elsewhere (no src=, no href=, no http(s):// in it)" \
	bash -c '! grep -Eiq "(src|href)=|https?://" "$1"' _ "$work/page0.html"
check "... its script writes no markup (no innerHTML, outerHTML, insertAdjacentHTML, document.write)" \
	bash -c '! grep -Eq "innerHTML|outerHTML|insertAdjacentHTML|document\.write" "$1"' _ "$work/page0.html"
check "HEAD / answers too; the API still asks for the token (401)" \
	test "$(curl -s -o /dev/null -I -w '%{http_code}' "$base/")/$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/containers")" = "200/401"

# ---- containers ----
rootfs=$work/rootfs
make_rootfs "$rootfs"
evil='<img src=x onerror="document.title=`pwned`;window.pwned=1">'
hookdef="def hook(\$s): {path: (\"$BIN/ocitap-\" + \$s), args: [\"ocitap-\" + \$s, \"--socket\", \$sock, \"--state-dir\", \"$state\"]};"
# bundle ID NAME SHELL-COMMAND [POLICY]: in $work/b-ID, a busybox container
# with ocitap's host-side hooks, mkdir notified under POLICY (default audit),
# named NAME (CRI-O's annotations)
bundle() {
	local b=$work/b-$1
	mkdir -p "$b"
	(cd "$b" && runc spec)
	jq --arg sock "$sock" --arg root "$rootfs" --arg name "$2" --arg cmd "$3" --arg pol "policy=${4:-audit}" "$hookdef"'
	  .process.terminal = false | .root = {path: $root, readonly: false} | .process.args = ["sh", "-c", $cmd]
	| .annotations = {"io.container.manager": "cri-o", "io.kubernetes.cri-o.ContainerType": "container",
	    "io.kubernetes.container.name": $name, "io.kubernetes.pod.name": "pod-1", "io.kubernetes.pod.namespace": "test"}
	| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: $pol,
	    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}
	| .hooks = {createRuntime: [hook("createRuntime")], poststart: [hook("poststart")], poststop: [hook("poststop")]}' \
		"$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
}
# run ID NAME SHELL-COMMAND [POLICY]: that container run to its end; returns runc's exit
run() {
	bundle "$@"
	timeout 60 runc --root "$work/runc" run --bundle "$work/b-$1" "$1" </dev/null >/dev/null 2>&1
}
# run_detached ID NAME POLICY: that container left running (sleeping), detached
run_detached() {
	bundle "$1" "$2" 'sleep 600' "$3"
	timeout 60 runc --root "$work/runc" run -d --bundle "$work/b-$1" "$1" </dev/null >/dev/null 2>&1
}
stopped() { [[ $(curl -s -H "Authorization: Bearer $token" "$base/v1/containers/$1" | jq -r .status 2>/dev/null) == stopped ]]; }
run page-evil "$evil" 'exit 0'
for ((i = 0; i < 50; i++)); do stopped page-evil && break; sleep 0.1; done

# ---- the page in Chromium ----
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --user-data-dir="$(mktemp -d "$work/chromium-XXXXXX")" \
	--remote-debugging-port="$cport" about:blank >"$work/chromium.log" 2>&1 &
chrome_pid=$!
for ((i = 0; i < 100; i++)); do curl -s "http://127.0.0.1:$cport/json/version" >/dev/null && break; sleep 0.1; done
if ! curl -s "http://127.0.0.1:$cport/json/version" >/dev/null; then
	not_ok "Chromium answers on its DevTools port"
	tail -n 20 "$work/chromium.log" | sed 's/^/# /'
	done_testing
	exit 1
fi

cdp open "$base/#token=$token" >"$work/open.txt" 2>&1
tab=$(head -1 "$work/open.txt")
check "the page loads in Chromium (with #token=...)" test -n "$tab" -a "$(wc -w <<<"$tab")" = 1 ||
	sed 's/^/# /' "$work/open.txt"
check "... no CSP refusal, no exception, no console error while it loads" \
	test "$(sed 1d "$work/open.txt" | grep -Eic 'security policy|refused|exception|error')" = 0 || sed 's/^/# /' "$work/open.txt"
check "... it is live on the event stream" \
	waits "$tab" "document.getElementById('conn').textContent === 'live'" 10
check "... the token is out of the address, kept for the tab" \
	test "$(cdp eval "$tab" "location.hash + '|' + (sessionStorage.getItem('ocitap-token') === '$token')")" = '"|true"'
got=$(cdp wait "$tab" "(() => { const r = [...document.querySelectorAll('#runs-body tr')].find((t) => t.dataset.id === 'page-evil');
	return r && r.querySelector('.name').textContent; })()" 10)
check "a container named $evil is listed, its name as text" test "$got" = "$(jq -n --arg e "$evil" '$e')" || echo "# $got"
check "... no img element, its onerror never ran" \
	test "$(cdp eval "$tab" "[document.querySelectorAll('img').length, document.title, typeof window.pwned].join(' ')")" = '"0 ocitapd undefined"'

cdp eval "$tab" "window.noReload = 1" >/dev/null
run page-exit3 exit3 'mkdir /tmp/a /tmp/b; exit 3'
check "runc ran page-exit3, which exited 3" test $? -eq 3
got=$(cdp wait "$tab" "(() => { const r = [...document.querySelectorAll('#runs-body tr')].find((t) => t.dataset.id === 'page-exit3');
	return r && r.querySelector('.exit').textContent === 'exited 3' && r.querySelector('.status').textContent; })()" 10)
check "page-exit3, started after the page loaded, is on it: stopped, exited 3" test "$got" = '"stopped"' || echo "# $got"
check "... its name, owner and pod's facts in the row (name exit3, owner 0)" \
	test "$(cell "$tab" page-exit3 name)/$(cell "$tab" page-exit3 owner)" = '"exit3"/"0"'
check "... its two notified mkdirs counted" waits "$tab" "(() => {
	const r = [...document.querySelectorAll('#runs-body tr')].find((t) => t.dataset.id === 'page-exit3');
	return r && r.querySelector('.notifications').textContent === '2'; })()" 10
check "... without a reload" test "$(cdp eval "$tab" "window.noReload")" = 1

cdp eval "$tab" "[...document.querySelectorAll('#runs-body tr')].find((t) => t.dataset.id === 'page-exit3').click()" >/dev/null
timeline="[...document.querySelectorAll('#timeline-body tr')].map((t) => [...t.children].map((c) => c.textContent).join(' | '))"
got=$(cdp wait "$tab" "document.getElementById('detail').dataset.id === 'page-exit3' && !document.getElementById('detail').hidden &&
	$timeline.some((t) => t.includes('exit 3')) && $timeline" 10)
check "a click shows its timeline: its exit" test -n "$got" -a "$got" != false || echo "# $got"
check "... the hooks (createRuntime, poststart, poststop)" \
	bash -c 'for s in createRuntime poststart poststop; do jq -e --arg s "$s" "any(.[]; contains(\" | \" + \$s + \" | \"))" <<<"$1" >/dev/null || exit 1; done' _ "$got" ||
	echo "# $got"
check "... and the transitions up to stopped" \
	bash -c 'jq -e "any(.[]; contains(\"transition\") and contains(\"\u2192 stopped\"))" <<<"$1" >/dev/null' _ "$got"
got=$(cdp eval "$tab" "[...document.querySelectorAll('#notifications-body tr')].map((t) => [...t.children].map((c) => c.textContent).join(' ')).join(',')")
check "... and its notifications: mkdir, 2" bash -c '[[ $1 == "\"mkdir "*" 2\"" ]]' _ "$got" || echo "# $got"
cdp eval "$tab" "[...document.querySelectorAll('#runs-body tr')].find((t) => t.dataset.id === 'page-evil').click()" >/dev/null
got=$(cdp wait "$tab" "document.getElementById('detail').dataset.id === 'page-evil' && document.getElementById('detail-title').textContent" 10)
check "... the evil name's timeline: its title is the name, as text; still no img" \
	test "$got/$(cdp eval "$tab" "document.querySelectorAll('img').length + document.querySelectorAll('[onerror]').length")" = "$(jq -n --arg e "$evil" '$e')/0" ||
	echo "# $got"

# ---- each live notify fd's policy, and whether it was a fallback ----
# in TAB: the rows of the detail's notify fds, "FD | POLICY | FALLBACK-FLAG"
policies="[...document.querySelectorAll('#policies-body tr')].map((t) => [...t.children].map((c) => c.textContent).concat(t.dataset.fallback).join(' | '))"
# shown ID: the detail's notify fd rows once ID's detail shows some
shown() {
	waits "$tab" "[...document.querySelectorAll('#runs-body tr')].some((t) => t.dataset.id === '$1')" 10
	cdp eval "$tab" "[...document.querySelectorAll('#runs-body tr')].find((t) => t.dataset.id === '$1').click()" >/dev/null
	cdp wait "$tab" "document.getElementById('detail').dataset.id === '$1' && !document.getElementById('detail').hidden &&
		$policies.length > 0 && document.getElementById('policies-none').hidden && $policies" 10
}
got=$(cdp eval "$tab" "document.getElementById('detail').dataset.id + ' ' + $policies.length + ' ' + document.getElementById('policies-none').hidden")
check "a stopped run's detail lists no notify fd, and says none is open" test "$got" = '"page-evil 0 false"' || echo "# $got"
run_detached page-typo typo strcit
check "runc started page-typo (listenerMetadata policy=strcit, a name ocitapd does not have)" test $? -eq 0
got=$(shown page-typo)
check "... its detail shows its fd's policy as the fallback, naming what was asked for" \
	test "$got" = "$(jq -nc '["the init'"'"'s | deny (fallback: unknown policy \"strcit\") | 1"]')" || echo "# $got"
got=$(cdp eval "$tab" "document.querySelector('#policies-body tr .answer').title")
check "... and its tooltip says why" \
	test "$(jq -r 'contains("asked for \"strcit\", which ocitapd does not have")' <<<"$got")" = true || echo "# $got"
run_detached page-known known audit
check "runc started page-known (policy=audit, a known policy)" test $? -eq 0
got=$(shown page-known)
check "... its detail shows audit, with no fallback" \
	test "$got" = "$(jq -nc '["the init'"'"'s | audit | 0"]')" || echo "# $got"
check "... and the word fallback nowhere in the detail" \
	test "$(cdp eval "$tab" "document.getElementById('detail').textContent.includes('fallback')")" = false
runc --root "$work/runc" delete -f page-known >/dev/null 2>&1
check "page-known killed: its open detail says no notify fd is open any more, without a click" \
	waits "$tab" "document.getElementById('detail').dataset.id === 'page-known' && $policies.length === 0 &&
		!document.getElementById('policies-none').hidden" 10
runc --root "$work/runc" delete -f page-typo >/dev/null 2>&1

# ---- the daemon restarted under the open page ----
stop_daemon
waits "$tab" "document.getElementById('conn').textContent === 'reconnecting'" 10
start_daemon
check "the daemon restarted: the page is live again by itself" \
	waits "$tab" "document.getElementById('conn').textContent === 'live'" 15
run page-after exit-after 'exit 7'
check "... a container run after the restart appears on it, exited 7, still without a reload" \
	waits "$tab" "(() => { const r = [...document.querySelectorAll('#runs-body tr')].find((t) => t.dataset.id === 'page-after');
	return r && r.querySelector('.exit').textContent === 'exited 7' && window.noReload === 1; })()" 10

# ---- without the token ----
authed() { # TAB: the auth banner's text, once shown, when no row is
	cdp wait "$1" "!document.getElementById('auth').hidden && document.querySelectorAll('#runs-body tr').length === 0 &&
		!document.body.textContent.includes('page-exit3') && document.getElementById('auth-msg').textContent" 10
}
cdp open "$base/" >"$work/open2.txt" 2>&1
tab2=$(head -1 "$work/open2.txt")
got=$(authed "$tab2")
check "without the token: the page says a bearer token is needed, and shows no data" \
	bash -c '[[ $1 == *"asks for a bearer token"* ]]' _ "$got" || echo "# $got"
cdp open "$base/#token=wrong-$token" >"$work/open3.txt" 2>&1
tab3=$(head -1 "$work/open3.txt")
got=$(authed "$tab3")
check "with a wrong token: the page says it was refused, and shows no data" \
	bash -c '[[ $1 == *"refused this token"* ]]' _ "$got" || echo "# $got"
cdp eval "$tab3" "document.getElementById('auth-token').value = '$token'; document.getElementById('auth-form').requestSubmit()" >/dev/null
check "... the right token given in its form: the data comes" waits "$tab3" "document.getElementById('auth').hidden &&
	[...document.querySelectorAll('#runs-body tr')].some((t) => t.dataset.id === 'page-exit3')" 10

curl -s -o "$work/page1.html" "$base/"
check "the page holds no data: the same bytes before and after the containers ran" cmp -s "$work/page0.html" "$work/page1.html"
check "ocitapd logged no error" bash -c '! grep -i "error" "$1"' _ "$log" || grep -i error "$log" | head -5 | sed 's/^/# /'

done_testing
