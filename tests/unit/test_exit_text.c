/*
 * test_exit_text.c: the words the ocitap CLI uses for the end of a run and
 * for an event (inspect/ocitap/exit-text.c): the EXIT column of ps, signal
 * names as the metrics give them, a late report said as one.
 */
#include <json-c/json.h>
#include <stdbool.h>

#include "testutil.h"

#include "../../inspect/ocitap/exit-text.h"

static char buf[128];

static const char *column(const char *exit_json, const char *status, const char *error)
{
	json_object *exit = exit_json ? json_tokener_parse(exit_json) : NULL;

	exit_column_text(exit, status, error, buf, sizeof(buf));
	json_object_put(exit);
	return buf;
}

static void test_signal_names(void **unused)
{
	char b[32];

	assert_string_equal(exit_signal_name(9, b, sizeof(b)), "SIGKILL");
	assert_string_equal(exit_signal_name(15, b, sizeof(b)), "SIGTERM");
	assert_string_equal(exit_signal_name(11, b, sizeof(b)), "SIGSEGV");
	assert_string_equal(exit_signal_name(200, b, sizeof(b)), "signal 200"); /* no name: the number */
	assert_string_equal(exit_signal_name(0, b, sizeof(b)), "signal 0");
}

static void test_exit_column(void **unused)
{
	assert_string_equal(column("{\"code\": 3, \"signal\": 0, \"oomKilled\": false}", "stopped", NULL), "exited 3");
	assert_string_equal(column("{\"code\": 0, \"signal\": 0, \"oomKilled\": false}", "stopped", NULL), "exited 0");
	assert_string_equal(column("{\"code\": 137, \"signal\": 9, \"oomKilled\": false}", "stopped", NULL),
			    "killed (SIGKILL)");
	assert_string_equal(column("{\"code\": 137, \"signal\": 9, \"oomKilled\": true}", "stopped", NULL),
			    "killed (SIGKILL, OOM)");
	assert_string_equal(column("{\"code\": 1, \"signal\": 0, \"oomKilled\": true}", "stopped", NULL),
			    "exited 1 (OOM)");
	/* a start that failed before its program ran: its runtime's exit is not the program's */
	assert_string_equal(column(NULL, "failed", "runc create: exec: no such file"), "failed");
	assert_string_equal(column("null", "stopped", "exec failed"), "failed");
	assert_string_equal(column("{\"oomKilled\": true}", "stopped", NULL), "killed (OOM)");
	/* not ended: no exit to show */
	assert_string_equal(column(NULL, "running", NULL), "-");
	assert_string_equal(column("{\"oomKilled\": false}", "created", NULL), "-");
	/* ended, but nothing says how */
	assert_string_equal(column(NULL, "stopped", NULL), "?");
	/* wrong types are not taken for an exit */
	assert_string_equal(column("{\"code\": \"3\"}", "stopped", NULL), "?");
}

static const char *event(const char *json, bool change)
{
	json_object *ev = json_tokener_parse(json);

	assert_non_null(ev);
	if (change)
		exit_event_change_text(ev, buf, sizeof(buf));
	else
		exit_event_text(ev, buf, sizeof(buf));
	json_object_put(ev);
	return buf;
}

static void test_events(void **unused)
{
	assert_string_equal(event("{\"kind\": \"exit\", \"exitCode\": 137, \"signal\": 9}", false), "killed (SIGKILL)");
	assert_string_equal(event("{\"kind\": \"exit\", \"exitCode\": 3, \"signal\": 0}", false), "exit 3");
	assert_string_equal(event("{\"kind\": \"exit\", \"exitCode\": 137, \"signal\": 9, \"oomKilled\": true}", false),
			    "killed (SIGKILL), OOM-killed");
	assert_string_equal(event("{\"kind\": \"transition\", \"from\": \"created\", \"to\": \"running\"}", false), "");
	assert_string_equal(event("{\"kind\": \"transition\", \"from\": \"created\", \"to\": \"running\"}", true),
			    "created  -> running ");
	assert_string_equal(event("{\"kind\": \"hook\", \"to\": \"running\"}", true), "-        -> running ");
	/* a late report reads as one, not as a step back */
	assert_string_equal(event("{\"kind\": \"late\", \"from\": \"running\", \"to\": \"created\"}", true),
			    "report arrived late: created (after running)");
	assert_string_equal(event("{\"kind\": \"late\", \"to\": \"created\"}", true),
			    "report arrived late: created (after a later stage)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signal_names),
		cmocka_unit_test(test_exit_column),
		cmocka_unit_test(test_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
