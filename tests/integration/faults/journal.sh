#!/usr/bin/env bash
# faults/journal.sh: a hook's report is answered once it is in the journal
# (ocitapd.journal next to the socket, a shared mapping on its tmpfs), not
# once it is committed (issue 19). What that must keep (docs/reliability.md):
# a report answered "ok" survives a kill -9 of the daemon at the worst
# moment, right after the answer and before anything else is done with it;
# the next daemon applies it once, and one whose commit landed before the
# kill is not applied twice; a slot that cannot be read is dropped and
# said; the API answers every report a hook was told is recorded; with
# --sync-interval 0 no report is answered before it is on disk (daemon.sh
# traces that order).
set -uo pipefail
source "$(dirname "$0")/../common.bash"
source "$(dirname "$0")/lib.bash"
require_root "faults: journal"

faults_init journal
daemon_args=(--http "unix:$http" --keeper off --bpf off)
journal=$work/ocitapd.journal
report() { # ID STAGE STATUS MONO: the daemon's answer
	printf '{"ocitapReport":1,"stage":"%s","hookPid":1,"monoNs":%s,"wallNs":%s,"state":{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":0,"bundle":"/b"}}' \
		"$2" "$4" "$(date +%s%N)" "$1" "$3" | socat -t5 - UNIX-CONNECT:"$sock" 2>&1
}
lines_after() { tail -n +"$(($1 + 1))" "$log"; }
journal_used() { # the slots in use (journal.h's layout: a header page, then 4096-byte slots, used first)
	python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
print(sum(struct.unpack_from("<I", d, 4096 * (1 + i))[0] != 0 for i in range(struct.unpack_from("<I", d, 4)[0])))' "$journal"
}

# --- killed right after the third answer, before anything else ---------------------------
mark=$(wc -l <"$log")
OCITAP_FAULT=after-early-ok:3 start_daemon
a=$(report j1 createRuntime creating 1001)/$(report j2 createRuntime creating 1002)/$(report j3 createRuntime creating 1003)
wait "$daemon_pid"
rc=$?
daemon_pid=
check "three reports answered ok, then the daemon killed (SIGKILL) right after the third answer" [ "$a/$rc" = "ok/ok/ok/137" ]
check "the third was in no store when the daemon died" [ "$(q "select count(*) from containers where id='j3'")" = 0 ]
used=$(journal_used)
check "the journal is a 0600 file next to the socket, the unstored reports in it ($used)" \
	bash -c "[[ \$(stat -c %a '$journal') == 600 && $used -ge 1 ]]"
start_daemon
check "the next daemon: each of the three recorded once" \
	[ "$(hook_count j1 createRuntime)/$(hook_count j2 createRuntime)/$(hook_count j3 createRuntime)" = 1/1/1 ]
check "... and it says it applied what the journal held" grep -Eq "journal: [1-3] reports? answered by the previous daemon, perhaps not stored: each recorded once" <(lines_after "$mark")
check "... creating, from the report alone" [ "$(q "select phase from containers where id='j3'")" = creating ]
stop_daemon
check "... and freed their slots once stored" [ "$(journal_used)" = 0 ]

# --- nothing left after a clean stop; a slot whose report the store has; a slot cut -----
mark=$(wc -l <"$log")
start_daemon
stop_daemon
check "a clean stop leaves the journal empty: the next daemon applies nothing" bash -c "! tail -n +$((mark + 1)) '$log' | grep -q 'journal:'"
# what a kill between a commit and its slot's release leaves: a slot with a
# report the store has (j1's, the same monoNs), and one cut by a kill
python3 - "$journal" <<'PY'
import mmap, struct, sys
rep = b'{"ocitapReport":1,"stage":"createRuntime","hookPid":1,"monoNs":1001,"wallNs":1,"state":{"ociVersion":"1.0.2","id":"j1","status":"creating","pid":0,"bundle":"/b"}}'
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    magic, n, slot = struct.unpack_from("<III", m, 0)
    assert magic == 0x6f63746a and slot == 4096, (hex(magic), slot)
    for i, body in ((3, rep), (7, b'{"ocitapReport":1,"stage":"createRun')):
        off = 4096 * (1 + i)
        m[off + 24:off + 24 + len(body)] = body
        struct.pack_into("<IIIIQ", m, off, 1, len(body), 0, 0, 100 + i)
    m.flush()
PY
mark=$(wc -l <"$log")
start_daemon
check "a report the store has already is not recorded twice" [ "$(hook_count j1 createRuntime)" = 1 ]
check "a slot that cannot be read is dropped, and said" grep -q "journal: a report cannot be read" <(lines_after "$mark")
stop_daemon
mark=$(wc -l <"$log")
start_daemon
used=$(journal_used)
check "... and both slots were freed ($used in use)" bash -c "[[ $used == 0 ]] && ! tail -n +$((mark + 1)) '$log' | grep -q 'journal:'"

# --- the API answers what a hook was told is recorded -----------------------------------------
# one process, so that the question follows the answer within microseconds
got=$(python3 - "$sock" "$http" <<'PY'
import socket, sys, time
found = 0
for i in range(200):
    rep = ('{"ocitapReport":1,"stage":"createRuntime","hookPid":1,"monoNs":%d,"wallNs":%d,"state":{"ociVersion":"1.0.2",'
           '"id":"api-%d","status":"creating","pid":0,"bundle":"/b"}}' % (5000 + i, time.time_ns(), i)).encode()
    h = socket.socket(socket.AF_UNIX); h.connect(sys.argv[1]); h.sendall(rep); h.shutdown(socket.SHUT_WR)
    ok = h.recv(64) == b"ok\n"; h.close()
    a = socket.socket(socket.AF_UNIX); a.connect(sys.argv[2])
    a.sendall(b"GET /v1/containers/api-%d HTTP/1.0\r\nHost: x\r\n\r\n" % i)
    status = a.recv(64).split(b" ")[1]; a.close()
    found += ok and status == b"200"
print(found)
PY
)
check "200 reports, each asked of the API at once after its ok: every one found ($got)" [ "$got" = 200 ]
check "/healthz and /metrics: nothing answered and not committed once the reports are in" \
	[ "$(curl -s --unix-socket "$http" http://x/healthz | jq .journal.pending)/$(curl -s --unix-socket "$http" http://x/metrics | awk '$1 == "ocitap_journal_pending" {print $2}')" = 0/0 ]
stop_daemon

# --- --sync-interval 0: no report answered from the journal; what one left is applied -----
OCITAP_FAULT=after-early-ok:1 start_daemon
a=$(report k1 createRuntime creating 6001)
wait "$daemon_pid"
daemon_pid=
mark=$(wc -l <"$log")
OCITAP_FAULT=after-early-ok:1 start_daemon --sync-interval 0
check "--sync-interval 0: the report a killed daemon answered from the journal is recorded" \
	bash -c "[[ '$a' == ok && \$(sqlite3 -readonly '$db' \"select count(*) from events where container_id='k1' and kind='hook'\") == 1 ]]"
a=$(report s0 createRuntime creating 7001)
check "--sync-interval 0: answered once on disk, never from the journal (the fault there never fires)" \
	bash -c "[[ '$a' == ok ]] && kill -0 $daemon_pid && [[ \$(sqlite3 -readonly '$db' \"select count(*) from containers where id='s0'\") == 1 ]]"
stop_daemon
done_testing
