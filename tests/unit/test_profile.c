/*
 * test_profile.c: the io.containers.trace-syscall annotation (good and bad
 * values), syscall numbers to names, and the profile built from them, alone
 * and merged with an input profile.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ocitap-private.h"
#include "testutil.h"

static void test_annotation(void **state)
{
	struct ocitap_trace_spec spec;
	struct ocitap_error err = { 0 };
	static const struct {
		const char *value;
		const char *in, *out; /* NULL: refused */
		const char *message;  /* part of the error */
	} cases[] = {
		{ "of:/tmp/out.json", "", "/tmp/out.json", NULL },
		{ "if:/etc/in.json;of:/tmp/out.json", "/etc/in.json", "/tmp/out.json", NULL },
		{ "of:/tmp/out.json;if:/etc/in.json", "/etc/in.json", "/tmp/out.json", NULL },
		{ "/tmp/out.json", "", "/tmp/out.json", NULL }, /* the hook's first form */
		{ "", NULL, NULL, "empty" },
		{ "of:out.json", NULL, NULL, "not an absolute path" },
		{ "if:in.json;of:/tmp/o", NULL, NULL, "not an absolute path" },
		{ "if:/etc/in.json", NULL, NULL, "of: is missing" },
		{ "of:/tmp/../etc/passwd", NULL, NULL, "\"..\" component" },
		{ "of:/tmp/./x", NULL, NULL, "\".\" component" },
		{ "of:/tmp/dir/", NULL, NULL, "names a directory" },
		{ "of:", NULL, NULL, "empty" },
		{ "of:/a;of:/b", NULL, NULL, "given twice" },
		{ "out:/tmp/x", NULL, NULL, "neither if:PATH nor of:PATH" },
		{ "of:/tmp/a\nb", NULL, NULL, "control character" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = ocitap_trace_spec_parse(cases[i].value, &spec, &err);

		if (cases[i].out) {
			if (r != 0)
				fail_msg("\"%s\": %s", cases[i].value, err.message);
			assert_string_equal(spec.in, cases[i].in);
			assert_string_equal(spec.out, cases[i].out);
		} else {
			if (r != -EINVAL)
				fail_msg("\"%s\" was accepted (%d)", cases[i].value, r);
			if (!strstr(err.message, cases[i].message))
				fail_msg("\"%s\": \"%s\" does not say \"%s\"", cases[i].value, err.message,
					 cases[i].message);
		}
	}
}

static void test_names(void **state)
{
	uint64_t native[16] = { 0 }, compat[16] = { 0 };
	char **names = NULL;
	size_t unnamed = 0;
	int n;

	native[SYS_getpid / 64] |= 1ULL << (SYS_getpid % 64);
	native[SYS_write / 64] |= 1ULL << (SYS_write % 64);
	native[1000 / 64] |= 1ULL << (1000 % 64); /* no such syscall */
	compat[20 / 64] |= 1ULL << 20;		  /* getpid on i386 too: one name */
	n = ocitap_profile_names(native, compat, 16, &names, &unnamed);
	if (seccomp_arch_native() != SCMP_ARCH_X86_64) {
		ocitap_profile_names_free(names);
		skip();
	}
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "getpid");
	assert_string_equal(names[1], "write");
	assert_null(names[2]);
	assert_int_equal(unnamed, 1);
	ocitap_profile_names_free(names);
}

static json_object *build(char *const *names, const char *in)
{
	struct ocitap_error err = { 0 };
	char *json = NULL;
	json_object *o;

	if (ocitap_profile_build(names, in, in ? strlen(in) : 0, &json, &err) < 0)
		fail_msg("build: %s", err.message);
	o = json_tokener_parse(json);
	assert_non_null(o);
	free(json);
	return o;
}

static const char *allowed_at(json_object *o, size_t i)
{
	json_object *rules, *names;

	assert_true(json_object_object_get_ex(o, "syscalls", &rules));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(rules, 0), "names", &names));
	return i < json_object_array_length(names) ? json_object_get_string(json_object_array_get_idx(names, i)) : NULL;
}

static bool allowed(json_object *o, const char *name)
{
	for (size_t i = 0; allowed_at(o, i); i++)
		if (strcmp(allowed_at(o, i), name) == 0)
			return true;
	return false;
}

/* what every profile allows, observed or not: the runtime's window between
 * loading the filter and the exec (lib/profile.c) */
static const char *const floor_names[] = { "rt_sigreturn", "restart_syscall", "rt_sigprocmask", "sigaltstack",
					   "futex",	   "nanosleep",	      "sched_yield",	"epoll_pwait",
					   "tgkill",	   "getpid",	      "gettid",		"madvise",
					   "execve",	   "exit",	      "exit_group" };

static void test_build(void **state)
{
	char *names[] = { "getpid", "read", "write", NULL };
	json_object *o = build(names, NULL), *v;
	size_t n = 0;

	assert_true(json_object_object_get_ex(o, "defaultAction", &v));
	assert_string_equal(json_object_get_string(v), "SCMP_ACT_ERRNO");
	assert_true(json_object_object_get_ex(o, "architectures", &v));
	assert_true(json_object_array_length(v) >= 1);
	assert_true(allowed(o, "read"));
	assert_true(allowed(o, "write"));
	assert_false(allowed(o, "sysinfo"));
	assert_false(allowed(o, "mkdir"));
	for (size_t i = 0; i < sizeof(floor_names) / sizeof(floor_names[0]); i++)
		if (!allowed(o, floor_names[i]))
			fail_msg("%s is not allowed", floor_names[i]);
	/* sorted, each once: the observed and the floor (getpid is both) */
	for (; allowed_at(o, n); n++)
		if (n && strcmp(allowed_at(o, n - 1), allowed_at(o, n)) >= 0)
			fail_msg("%s before %s", allowed_at(o, n - 1), allowed_at(o, n));
	assert_int_equal(n, sizeof(floor_names) / sizeof(floor_names[0]) + 2);
	json_object_put(o);
}

static void test_merge(void **state)
{
	/* IN allows uname outright, blocks write (kept blocked though observed),
	 * allows personality with an argument condition (kept as it is) */
	const char *in = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
			 " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_PPC64LE\"],"
			 " \"syscalls\": ["
			 "  {\"names\": [\"uname\", \"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"},"
			 "  {\"name\": \"write\", \"action\": \"SCMP_ACT_ERRNO\"},"
			 "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
			 "   \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}";
	char *names[] = { "getpid", "read", "write", NULL };
	json_object *o = build(names, in), *v, *rules;

	assert_true(allowed(o, "getpid"));
	assert_true(allowed(o, "read"));
	assert_true(allowed(o, "uname"));
	assert_false(allowed(o, "write")); /* stays blocked */
	assert_false(allowed(o, "personality")); /* IN's conditional rule, kept as it is */
	assert_true(json_object_object_get_ex(o, "defaultErrnoRet", &v));
	assert_int_equal(json_object_get_int(v), 38);
	assert_true(json_object_object_get_ex(o, "syscalls", &rules));
	assert_int_equal(json_object_array_length(rules), 3); /* ours, IN's write rule, IN's personality rule */
	assert_true(json_object_object_get_ex(o, "architectures", &v));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, json_object_array_length(v) - 1)),
			    "SCMP_ARCH_PPC64LE");
	json_object_put(o);

	/* an IN that refuses one of the floor keeps it refused */
	o = build(names, "{\"syscalls\": [{\"names\": [\"tgkill\"], \"action\": \"SCMP_ACT_KILL\"}]}");
	assert_false(allowed(o, "tgkill"));
	assert_true(allowed(o, "rt_sigreturn"));
	json_object_put(o);
}

static void test_bad_input(void **state)
{
	static const struct {
		const char *in, *message;
	} cases[] = {
		{ "[]", "" },
		{ "{\"syscalls\": {}}", "syscalls" },
		{ "{\"syscalls\": [1]}", "syscalls[0]" },
		{ "{\"syscalls\": [{\"action\": \"SCMP_ACT_ALLOW\"}]}", "syscalls[0]" },
		{ "{\"syscalls\": [{\"names\": [\"read\"]}]}", "syscalls[0]" },
		{ "{\"syscalls\": [{\"names\": [7], \"action\": \"SCMP_ACT_ALLOW\"}]}", "syscalls[0]" },
		{ "{\"architectures\": \"x86\"}", "architectures" },
		{ "{\"defaultAction\": ", "" },
	};
	char *names[] = { "read", NULL };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ocitap_error err = { 0 };
		char *json = NULL;

		if (ocitap_profile_build(names, cases[i].in, strlen(cases[i].in), &json, &err) >= 0)
			fail_msg("%s was accepted", cases[i].in);
		assert_null(json);
		if (!strstr(err.field, cases[i].message))
			fail_msg("%s: field \"%s\", want \"%s\"", cases[i].in, err.field, cases[i].message);
	}
}

static void test_input_check(void **state)
{
	struct ocitap_error err = { 0 };
	char path[] = "/tmp/ocitap-test-profile-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ocitap_profile_input_check(path, &err), 0);
	assert_int_equal(ocitap_profile_input_check("/nonexistent/in.json", &err), -ENOENT);
	assert_non_null(strstr(err.message, "cannot read /nonexistent/in.json"));
	assert_int_equal(ocitap_profile_input_check("/tmp", &err), -EINVAL);
	assert_non_null(strstr(err.message, "not a regular file"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_annotation), cmocka_unit_test(test_names),     cmocka_unit_test(test_build),
		cmocka_unit_test(test_merge),	   cmocka_unit_test(test_bad_input), cmocka_unit_test(test_input_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
