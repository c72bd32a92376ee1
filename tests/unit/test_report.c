/*
 * test_report.c: the hook report wire format: round trip, and errors that
 * name the field.
 */
#include <errno.h>

#include "ocitap.h"
#include "testutil.h"

static struct ocitap_error err;

static void test_round_trip(void **unused)
{
	struct ocitap_hook_report rep, back;
	size_t len;
	char *buf = read_test_data("crun-poststart.json", &len), *json;

	memset(&rep, 0, sizeof(rep));
	assert_int_equal(ocitap_state_parse(buf, len, 0, NULL, &rep.state, &err), 0);
	rep.stage = OCITAP_STAGE_POSTSTART;
	rep.hook_pid = 812;
	rep.mono_ns = 123456789;
	rep.wall_ns = 1763856000000000000LL;
	assert_int_equal(ocitap_hook_report_to_json(&rep, &json, &err), 0);
	assert_int_equal(ocitap_hook_report_parse(json, strlen(json), NULL, &back, &err), 0);
	assert_int_equal(back.stage, OCITAP_STAGE_POSTSTART);
	assert_int_equal(back.hook_pid, 812);
	assert_int_equal(back.mono_ns, 123456789);
	assert_int_equal(back.wall_ns, 1763856000000000000LL);
	assert_string_equal(back.state.id, "t2");
	assert_string_equal(back.state.status_text, "running");
	assert_string_equal(back.state.annotations[0].key, "org.example.k");
	assert_false(back.stage_ambiguous);
	assert_null(strstr(json, "stageAmbiguous"));
	ocitap_hook_report_release(&back);
	free(json);

	/* an auto-mode hook that could only say "prestart or createRuntime" */
	rep.stage = OCITAP_STAGE_PRESTART;
	rep.stage_ambiguous = true;
	assert_int_equal(ocitap_hook_report_to_json(&rep, &json, &err), 0);
	assert_non_null(strstr(json, "\"stageAmbiguous\":true"));
	assert_int_equal(ocitap_hook_report_parse(json, strlen(json), NULL, &back, &err), 0);
	assert_true(back.stage_ambiguous);
	assert_int_equal(back.stage, OCITAP_STAGE_PRESTART);
	ocitap_hook_report_release(&back);
	ocitap_state_release(&rep.state);
	free(json);
	free(buf);
}

static void expect_error(const char *json, int code, const char *field, const char *msg)
{
	struct ocitap_hook_report rep;

	assert_int_equal(ocitap_hook_report_parse(json, strlen(json), NULL, &rep, &err), code);
	assert_string_equal(err.field, field);
	if (!strstr(err.message, msg))
		fail_msg("message \"%s\" does not contain \"%s\"", err.message, msg);
}

#define ST "\"state\":{\"id\":\"c\",\"status\":\"created\"}"

static void test_errors(void **unused)
{
	expect_error("{\"stage\":\"poststart\"," ST "}", -EINVAL, "ocitapReport", "not a hook report");
	expect_error("{\"ocitapReport\":2,\"stage\":\"poststart\"," ST "}", -EPROTONOSUPPORT, "ocitapReport",
		     "version 2");
	expect_error("{\"ocitapReport\":1,\"stage\":\"postStart\"," ST "}", -EINVAL, "stage", "unknown stage");
	expect_error("{\"ocitapReport\":1," ST "}", -EINVAL, "stage", "missing");
	expect_error("{\"ocitapReport\":1,\"stage\":\"poststop\"}", -EINVAL, "state", "missing");
	expect_error("{\"ocitapReport\":1,\"stage\":\"poststop\",\"state\":{\"status\":\"x\"}}", -EINVAL, "state.id",
		     "missing");
	expect_error("{\"ocitapReport\":1,\"stage\":\"poststop\",\"hookPid\":-1," ST "}", -ERANGE, "hookPid",
		     "negative");
	expect_error("{\"ocitapReport\":1,\"stage\":\"poststop\",\"monoNs\":\"1\"," ST "}", -EINVAL, "monoNs",
		     "expected an integer");
	expect_error("{\"ocitapReport\":1,\"stage\":\"poststop\",\"stageAmbiguous\":true," ST "}", -EINVAL,
		     "stageAmbiguous", "only a prestart");
	expect_error("{\"ocitapReport\":1,\"stage\":\"prestart\",\"stageAmbiguous\":1," ST "}", -EINVAL,
		     "stageAmbiguous", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
