/*
 * test_policy.c: actions, the policy file, listenerMetadata, and deciding by
 * (arch, nr) for the native and compat architectures.
 */
#include <errno.h>
#include <seccomp.h>

#include "ocitap-private.h"
#include "testutil.h"

static struct ocitap_error err;

static int nr_of(const char *name, uint32_t arch)
{
	return seccomp_syscall_resolve_name_arch(arch, name);
}

static void test_actions(void **unused)
{
	struct ocitap_action a;
	char buf[32];

	assert_int_equal(ocitap_action_parse("continue", &a, &err), 0);
	assert_int_equal(a.kind, OCITAP_ACTION_CONTINUE);
	assert_int_equal(ocitap_action_parse("kill", &a, &err), 0);
	assert_int_equal(a.kind, OCITAP_ACTION_KILL);
	assert_int_equal(ocitap_action_parse("errno:EACCES", &a, &err), 0);
	assert_int_equal(a.kind, OCITAP_ACTION_ERRNO);
	assert_int_equal(a.errno_value, EACCES);
	assert_string_equal(ocitap_action_format(&a, buf, sizeof(buf)), "errno:EACCES");
	assert_int_equal(ocitap_action_parse("errno:38", &a, &err), 0);
	assert_int_equal(a.errno_value, ENOSYS);
	assert_int_equal(ocitap_action_parse("errno:ENOPE", &a, &err), -EINVAL);
	assert_non_null(strstr(err.message, "unknown errno \"ENOPE\""));
	assert_int_equal(ocitap_action_parse("errno:0", &a, &err), -EINVAL);
	assert_int_equal(ocitap_action_parse("allow", &a, &err), -EINVAL);
	assert_non_null(strstr(err.message, "expected continue, errno:NAME or kill"));
}

static void test_builtins(void **unused)
{
	struct ocitap_policy_set *set;
	const struct ocitap_policy *p;
	struct ocitap_action a;

	assert_int_equal(ocitap_policy_set_load(NULL, &set, &err), 0);
	assert_int_equal(ocitap_policy_set_count(set), 2);
	p = ocitap_policy_set_default(set);
	assert_string_equal(ocitap_policy_name(p), "audit");
	a = ocitap_policy_decide(p, SCMP_ARCH_X86_64, nr_of("mkdir", SCMP_ARCH_X86_64));
	assert_int_equal(a.kind, OCITAP_ACTION_CONTINUE);
	p = ocitap_policy_set_find(set, "deny");
	assert_non_null(p);
	a = ocitap_policy_decide(p, SCMP_ARCH_X86_64, 83);
	assert_int_equal(a.kind, OCITAP_ACTION_ERRNO);
	assert_int_equal(a.errno_value, EPERM);
	assert_null(ocitap_policy_set_find(set, "nope"));
	ocitap_policy_set_free(set);
}

static void test_file(void **unused)
{
	static const char json[] = "{\"policies\":{"
				   "\"strict\":{\"default\":\"errno:EPERM\",\"syscalls\":{\"getpid\":\"continue\","
				   "\"mkdir\":\"errno:EACCES\",\"chmod\":\"kill\"}},"
				   "\"empty\":{\"comment\":\"a note\"}},\"comment\":\"a note\"}";
	struct ocitap_policy_set *set;
	const struct ocitap_policy *p;
	struct ocitap_action a;
	uint32_t native = seccomp_arch_native();

	assert_int_equal(ocitap_policy_set_parse(json, sizeof(json) - 1, NULL, &set, &err), 0);
	assert_int_equal(ocitap_policy_set_count(set), 4);
	p = ocitap_policy_set_find(set, "strict");
	assert_non_null(p);
	a = ocitap_policy_decide(p, native, nr_of("mkdir", native));
	assert_int_equal(a.kind, OCITAP_ACTION_ERRNO);
	assert_int_equal(a.errno_value, EACCES);
	a = ocitap_policy_decide(p, native, nr_of("chmod", native));
	assert_int_equal(a.kind, OCITAP_ACTION_KILL);
	a = ocitap_policy_decide(p, native, nr_of("getpid", native));
	assert_int_equal(a.kind, OCITAP_ACTION_CONTINUE);
	/* not listed: the policy's default */
	a = ocitap_policy_decide(p, native, nr_of("rmdir", native));
	assert_int_equal(a.kind, OCITAP_ACTION_ERRNO);
	assert_int_equal(a.errno_value, EPERM);
	if (native == SCMP_ARCH_X86_64) {
		/* a 32-bit process: mkdir has another number there, the same rule applies */
		int nr32 = nr_of("mkdir", SCMP_ARCH_X86);

		assert_int_not_equal(nr32, nr_of("mkdir", native));
		a = ocitap_policy_decide(p, SCMP_ARCH_X86, nr32);
		assert_int_equal(a.errno_value, EACCES);
	}
	p = ocitap_policy_set_find(set, "empty");
	a = ocitap_policy_decide(p, native, 0);
	assert_int_equal(a.kind, OCITAP_ACTION_CONTINUE);
	ocitap_policy_set_free(set);
}

/* the answer for a notification whose syscall is unknown (taken by a killed daemon) */
static void test_blind(void **unused)
{
	static const char json[] =
		"{\"policies\":{"
		"\"mixed\":{\"default\":\"continue\",\"syscalls\":{\"mkdir\":\"errno:EACCES\","
		"\"chmod\":\"kill\"}},"
		"\"killer\":{\"default\":\"continue\",\"syscalls\":{\"chmod\":\"kill\"}},"
		"\"eio\":{\"default\":\"errno:EIO\",\"syscalls\":{\"chmod\":\"continue\"}},"
		"\"same\":{\"default\":\"errno:EACCES\",\"syscalls\":{\"mkdir\":\"errno:EACCES\"}}}}";
	struct ocitap_policy_set *set;
	struct ocitap_action a;
	bool exact;

	assert_int_equal(ocitap_policy_set_parse(json, sizeof(json) - 1, NULL, &set, &err), 0);
	/* the built-ins answer every syscall alike: exact */
	a = ocitap_policy_blind(ocitap_policy_set_find(set, "audit"), &exact);
	assert_true(exact);
	assert_int_equal(a.kind, OCITAP_ACTION_CONTINUE);
	a = ocitap_policy_blind(ocitap_policy_set_find(set, "deny"), &exact);
	assert_true(exact);
	assert_int_equal(a.errno_value, EPERM);
	a = ocitap_policy_blind(ocitap_policy_set_find(set, "same"), &exact);
	assert_true(exact);
	assert_int_equal(a.errno_value, EACCES);
	/* mixed: never continue (the syscall may be one it denies), never kill */
	a = ocitap_policy_blind(ocitap_policy_set_find(set, "mixed"), &exact);
	assert_false(exact);
	assert_int_equal(a.kind, OCITAP_ACTION_ERRNO);
	assert_int_equal(a.errno_value, EACCES);
	a = ocitap_policy_blind(ocitap_policy_set_find(set, "killer"), &exact);
	assert_false(exact);
	assert_int_equal(a.kind, OCITAP_ACTION_ERRNO);
	assert_int_equal(a.errno_value, EPERM);
	a = ocitap_policy_blind(ocitap_policy_set_find(set, "eio"), &exact);
	assert_false(exact);
	assert_int_equal(a.errno_value, EIO);
	ocitap_policy_set_free(set);
}

static void expect_error(const char *json, int code, const char *field, const char *msg)
{
	struct ocitap_policy_set *set = NULL;

	assert_int_equal(ocitap_policy_set_parse(json, strlen(json), NULL, &set, &err), code);
	assert_null(set);
	assert_string_equal(err.field, field);
	if (!strstr(err.message, msg))
		fail_msg("message \"%s\" does not contain \"%s\"", err.message, msg);
}

static void test_file_errors(void **unused)
{
	expect_error("[]", -EINVAL, "", "must be a JSON object");
	expect_error("{\"policies\":[]}", -EINVAL, "policies", "expected an object");
	expect_error("{\"policies\":{\"p\":{\"syscalls\":{\"mkdr\":\"continue\"}}}}", -EINVAL,
		     "policies.p.syscalls.mkdr", "unknown syscall");
	expect_error("{\"policies\":{\"p\":{\"syscalls\":{\"mkdir\":\"allow\"}}}}", -EINVAL,
		     "policies.p.syscalls.mkdir", "unknown action");
	expect_error("{\"policies\":{\"p\":{\"syscalls\":{\"mkdir\":1}}}}", -EINVAL, "policies.p.syscalls.mkdir",
		     "expected a string");
	expect_error("{\"policies\":{\"p\":{\"default\":\"errno:EWHAT\"}}}", -EINVAL, "policies.p.default",
		     "unknown errno");
	expect_error("{\"policies\":{\"p\":{\"syscalls\":[]}}}", -EINVAL, "policies.p.syscalls", "expected an object");
	expect_error("{\"policies\":{\"audit\":{}}}", -EEXIST, "policies.audit", "built in");
	expect_error("{\"policies\":{\"p\":3}}", -EINVAL, "policies.p", "expected an object");
	expect_error("{\"policies\":", -EBADMSG, "", "invalid JSON");
}

/* unknown keys and words name the key, with its line and column */
static void test_file_positions(void **unused)
{
	expect_error("{\n  \"policies\": {\n    \"strict\": {\n      \"defualt\": \"errno:EPERM\"\n    }\n  }\n}\n",
		     -EINVAL, "policies.strict",
		     "unknown key \"defualt\" (expected default, syscalls or comment) at line 4, column 7");
	expect_error("{\"policy\": {\"strict\": {}}}", -EINVAL, "", "unknown key \"policy\" (expected policies or comment) at line 1, column 2");
	expect_error("{\"policies\": {}, \"x\": 1}", -EINVAL, "", "unknown key \"x\" (expected policies or comment) at line 1, column 18");
	expect_error("{\"policies\": {\"p\": {\"syscalls\": {}, \"sycalls\": {}}}}", -EINVAL, "policies.p",
		     "unknown key \"sycalls\" (expected default, syscalls or comment) at line 1, column 37");
	expect_error("{\n\"policies\": {\n\t\"p\": {\"syscalls\": {\"chmod\": \"kill\",\n\t\t\"mkdir\": \"contine\"}}}}", -EINVAL,
		     "policies.p.syscalls.mkdir", "unknown action \"contine\"");
	expect_error("{\n\"policies\": {\n\t\"p\": {\"syscalls\": {\"chmod\": \"kill\",\n\t\t\"mkdir\": \"contine\"}}}}", -EINVAL,
		     "policies.p.syscalls.mkdir", "at line 4, column 3");
	/* the same key name elsewhere (a policy called "mkdir") is not taken for it */
	expect_error("{\"policies\": {\"mkdir\": {},\n \"p\": {\"default\": \"errno:EWHAT\"}}}", -EINVAL,
		     "policies.p.default", "unknown errno \"EWHAT\" (expected a name such as EPERM) at line 2, column 8");
	expect_error("{\"policies\": {\"p\": {\"syscalls\": {\"mkdr\": \"kill\"}}}}", -EINVAL,
		     "policies.p.syscalls.mkdr", "unknown syscall at line 1, column 34");
	expect_error("{\"policies\": {\"p\": {},\n\"deny\": {}}}", -EEXIST, "policies.deny", "at line 2, column 1");
	expect_error("{\"policies\": {\"p\": 3}}", -EINVAL, "policies.p", "expected an object, got an integer at line 1, column 15");
	/* JSON syntax: line and column, and the byte */
	expect_error("{\n \"policies\": {\n  \"p\": {\"default\": \"kill\",}\n }\n}\n", -EBADMSG, "",
		     "invalid JSON at line 3, column 27 (byte 43)");
	expect_error("{\n \"policies\": {\n", -EBADMSG, "", "ends in the middle of a value (17 bytes), at line 3, column 1");
}

static void test_metadata(void **unused)
{
	char name[OCITAP_POLICY_NAME_MAX];

	assert_int_equal(ocitap_metadata_policy("policy=deny", name, sizeof(name)), 1);
	assert_string_equal(name, "deny");
	assert_int_equal(ocitap_metadata_policy("a=b; policy=strict;c=d", name, sizeof(name)), 1);
	assert_string_equal(name, "strict");
	assert_int_equal(ocitap_metadata_policy("x=1 policy=p2", name, sizeof(name)), 1);
	assert_string_equal(name, "p2");
	assert_int_equal(ocitap_metadata_policy("MKNOD=/dev/null;BPF_MAP_TYPES=hash", name, sizeof(name)), 0);
	assert_int_equal(ocitap_metadata_policy("", name, sizeof(name)), 0);
	assert_int_equal(ocitap_metadata_policy(NULL, name, sizeof(name)), 0);
	assert_int_equal(ocitap_metadata_policy("policy=", name, sizeof(name)), -EINVAL);
	assert_int_equal(ocitap_metadata_policy("policy=waytoolong", name, 4), -ENAMETOOLONG);
	assert_int_equal(ocitap_metadata_policy("nopolicy=x", name, sizeof(name)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_actions),	    cmocka_unit_test(test_builtins), cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_errors), cmocka_unit_test(test_metadata), cmocka_unit_test(test_blind),
		cmocka_unit_test(test_file_positions),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
