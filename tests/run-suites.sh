#!/usr/bin/env bash
# run-suites.sh: run test suites, each under a time limit, judge their TAP
# with Perl's TAP::Parser (prove's parser), print one line per suite and a
# closing line "N passed, N failed[, N skipped]", and exit non-zero on any
# failure.
#
# Each argument is NAME=COMMAND or NAME@SECONDS=COMMAND. COMMAND runs with
# bash -c in a session of its own, stdin from /dev/null, its output (stdout
# and stderr) in $LOGDIR/NAME.log (default build/test-logs). A suite prints
# TAP: a plan ("1..N", first or last; cmocka prints one when
# CMOCKA_MESSAGE_OUTPUT=TAP, the bash suites' done_testing prints one at the
# end) and "ok", "not ok", "ok ... # SKIP reason" lines; "1..0 # SKIP reason"
# skips the whole suite.
#
# A suite fails, with one failure counted if it reported none, when:
#   - its TAP is wrong: no plan, a plan not met (it planned 10 and ran 3),
#     two plans, tests out of sequence;
#   - it exits with a non-zero status;
#   - it runs no test;
#   - it runs past its time limit: SECONDS, else $SUITE_TIMEOUT (default
#     300). Every process of its session (the suite's runtimes, daemons,
#     runc processes included) then gets SIGTERM, so that the suite's EXIT
#     trap can clean up, and SIGKILL $SUITE_KILL_GRACE (default 5) seconds
#     later; a line names the suite that hung.
# Processes a suite leaves behind in its session are killed when it ends.
set -uo pipefail

LOGDIR=${LOGDIR:-build/test-logs}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-300}
SUITE_KILL_GRACE=${SUITE_KILL_GRACE:-5}
mkdir -p "$LOGDIR"
export CMOCKA_MESSAGE_OUTPUT=TAP

# tap_count < LOG: "PASSED FAILED SKIPPED RUN SKIP_ALL" on the first line,
# then one line per TAP problem (TAP::Parser's parse errors)
tap_count() {
	perl -MTAP::Parser -e '
		my $tap = do { local $/; <STDIN> };
		my $p = TAP::Parser->new({ tap => $tap });
		1 while defined $p->next;
		my @skipped = $p->skipped;
		my @passed = $p->passed;  # includes skipped and todo tests
		my @failed = $p->failed;
		my $skip_all = defined $p->skip_all && $p->skip_all ne "(no reason given)" ? 1 : 0;
		printf "%d %d %d %d %d\n", @passed - @skipped, scalar @failed, scalar @skipped, $p->tests_run, $skip_all;
		print "$_\n" for $p->parse_errors;
	'
}

# stop_session SID: SIGTERM to every process of session SID, SIGKILL to
# what is left SUITE_KILL_GRACE seconds later
stop_session() {
	local i
	pkill -TERM -s "$1" 2>/dev/null
	for ((i = 0; i < SUITE_KILL_GRACE * 10; i++)); do
		[[ -z $(in_session "$1") ]] && break
		sleep 0.1
	done
	pkill -KILL -s "$1" 2>/dev/null
}
# this script stopped (^C, a CI job cancelled): the running suite with it
current= timer=
trap '[[ -n $timer ]] && kill "$timer" 2>/dev/null; [[ -n $current ]] && stop_session "$current"; exit 130' INT TERM HUP

# in_session SID: the pids of the live processes of session SID (not zombies)
in_session() { ps -o pid=,stat= -s "$1" 2>/dev/null | awk '$2 !~ /^Z/ {print $1}'; }

# run_suite LIMIT LOG COMMAND: sets rc and timed_out
run_suite() {
	local limit=$1 log=$2 cmd=$3 pid done left
	timed_out=0
	# Not a process group leader here (no job control), so setsid does not
	# fork: $pid is the session's id. (wait -n -p: bash 5.1 or later.)
	setsid bash -c "$cmd" >"$log" 2>&1 </dev/null &
	pid=$!
	current=$pid
	sleep "$limit" &
	timer=$!
	wait -n -p done "$pid" "$timer"
	rc=$?
	if [[ $done == "$timer" ]]; then
		timed_out=1
		echo "# time limit of $limit s reached: SIGTERM to every process of the session" >>"$log"
		stop_session "$pid"
		wait "$pid"
		rc=$?
	else
		kill "$timer" 2>/dev/null
		wait "$timer" 2>/dev/null
	fi
	left=$(in_session "$pid")
	if [[ -n $left ]]; then
		echo "# left running when the suite ended, killed: $(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)" | tr '\n' ';')" >>"$log"
		pkill -KILL -s "$pid" 2>/dev/null
	fi
	current= timer=
}

passed=0 failed=0 skipped=0
for spec in "$@"; do
	if [[ $spec != *=* ]]; then
		echo "run-suites.sh: not NAME=COMMAND: $spec"
		failed=$((failed + 1))
		continue
	fi
	head=${spec%%=*}
	cmd=${spec#*=}
	name=${head%@*}
	limit=$SUITE_TIMEOUT
	[[ $head == *@* ]] && limit=${head##*@}
	log="$LOGDIR/${name//[^A-Za-z0-9_.-]/_}.log"
	start=$(date +%s)
	run_suite "$limit" "$log" "$cmd"
	{
		read -r p f s run skip_all
		mapfile -t problems
	} < <(tap_count <"$log")
	why=()
	if [[ $timed_out -eq 1 ]]; then
		why+=("$name timed out after ${limit} s (a hung suite; its processes were killed)")
		echo "$name: TIMEOUT: no end after ${limit} s; killed every process of its session"
	fi
	[[ $rc -ne 0 && $timed_out -eq 0 ]] && why+=("$name exited with status $rc")
	for pr in "${problems[@]}"; do why+=("$name: $pr"); done
	[[ $run -eq 0 && $skip_all -eq 0 && ${#problems[@]} -eq 0 ]] && why+=("$name ran no test")
	if [[ $skip_all -eq 1 && $run -eq 0 ]]; then
		s=1
		echo "ok - $name # SKIP $(grep -m1 -E '^1\.\.0' "$log" | sed 's/^1\.\.0 *# *[Ss][Kk][Ii][Pp] *//')" >>"$log"
	fi
	if [[ ${#why[@]} -gt 0 ]]; then
		for w in "${why[@]}"; do echo "not ok - $w" >>"$log"; done
		[[ $f -eq 0 ]] && f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	printf '%-28s %3d passed %3d failed %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" $(($(date +%s) - start))
	if [[ $f -ne 0 ]]; then
		grep -E '^not ok' "$log" | sed 's/^/    /'
		echo "    --- last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    | /'
	fi
	grep -E '^ok .*# (SKIP|skip)' "$log" | sed 's/^/    /'
done
if [[ $skipped -gt 0 ]]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[[ $failed -eq 0 ]]
