/*
 * test_runtime_wrap.c: ocitap-runtime's pure parts (lib/runtime-wrap.h):
 * finding the command among runc's, crun's and runsc's global flags; the
 * bundle argument in each spelling; runtime.json's keys, with every wrong
 * one named; the edit of config.json (hooks once, the listener only where
 * the profile notifies and names none, listenerMetadata only where absent).
 */
#include <errno.h>

#include "json-util.h"
#include "ocitap-private.h"
#include "runtime-wrap.h"
#include "testutil.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

static void test_find_command(void **unused)
{
	char *docker[] = { "w", "--root", "/r", "--log", "/l.json", "--log-format", "json", "create", "--bundle", "/b", "id" };
	char *flags_eq[] = { "w", "--root=/r", "--systemd-cgroup", "--debug", "delete", "--force", "id" };
	char *runsc[] = { "w", "--network", "none", "--ignore-cgroups", "--platform", "ptrace", "run", "x" };
	char *single[] = { "w", "-root", "/r", "state", "x" };
	char *none[] = { "w", "--version" };
	char *dashdash[] = { "w", "--root", "/r", "--", "list" };

	assert_int_equal(ocitap_wrap_find_command(ARGC(docker), docker), 7);
	assert_int_equal(ocitap_wrap_find_command(ARGC(flags_eq), flags_eq), 4);
	assert_int_equal(ocitap_wrap_find_command(ARGC(runsc), runsc), 6);
	assert_int_equal(ocitap_wrap_find_command(ARGC(single), single), 3);
	assert_int_equal(ocitap_wrap_find_command(ARGC(none), none), -1);
	assert_int_equal(ocitap_wrap_find_command(ARGC(dashdash), dashdash), 4);
	assert_true(ocitap_wrap_edits("create") && ocitap_wrap_edits("run"));
	assert_false(ocitap_wrap_edits("start") || ocitap_wrap_edits("exec") || ocitap_wrap_edits("restore"));
}

static void test_find_bundle(void **unused)
{
	char *a[] = { "w", "create", "--bundle", "/b1", "id" };
	char *b[] = { "w", "create", "-b", "/b2", "id" };
	char *c[] = { "w", "run", "--pid-file", "/p", "--bundle=/b3", "id" };
	char *d[] = { "w", "create", "-b=/b4", "id" };
	char *e[] = { "w", "create", "id" };
	char *f[] = { "w", "create", "--bundle" };

	assert_string_equal(ocitap_wrap_find_bundle(ARGC(a), a, 1), "/b1");
	assert_string_equal(ocitap_wrap_find_bundle(ARGC(b), b, 1), "/b2");
	assert_string_equal(ocitap_wrap_find_bundle(ARGC(c), c, 1), "/b3");
	assert_string_equal(ocitap_wrap_find_bundle(ARGC(d), d, 1), "/b4");
	assert_null(ocitap_wrap_find_bundle(ARGC(e), e, 1)); /* the working directory */
	assert_null(ocitap_wrap_find_bundle(ARGC(f), f, 1));
}

static int parse(const char *json, struct ocitap_wrap_config *cfg, struct ocitap_error *err)
{
	ocitap_wrap_config_release(cfg);
	return ocitap_wrap_config_parse(json, strlen(json), cfg, err);
}

static void test_config(void **unused)
{
	struct ocitap_wrap_config cfg;
	struct ocitap_error err = { 0 };

	ocitap_wrap_config_init(&cfg);
	assert_int_equal(cfg.stages, OCITAP_WRAP_DEFAULT_STAGES);
	assert_true(cfg.listener);
	assert_int_equal(parse("{\"runtime\": \"crun\", \"runtimeArgs\": [\"--cgroup-manager=disabled\"], "
			       "\"stages\": [\"prestart\", \"poststop\"], \"hook\": \"/h\", \"hookTimeout\": 9, "
			       "\"socket\": \"/s\", \"stateDir\": \"/d\", \"listener\": false, \"policy\": \"strict\", "
			       "\"failClosed\": true}",
			       &cfg, &err),
			 0);
	assert_string_equal(cfg.runtime, "crun");
	assert_int_equal(cfg.n_runtime_args, 1);
	assert_string_equal(cfg.runtime_args[0], "--cgroup-manager=disabled");
	assert_int_equal(cfg.stages, (1u << OCITAP_STAGE_PRESTART) | (1u << OCITAP_STAGE_POSTSTOP));
	assert_int_equal(cfg.hook_timeout, 9);
	assert_false(cfg.listener);
	assert_true(cfg.fail_closed);
	assert_string_equal(cfg.policy, "strict");

	assert_int_equal(parse("{\"runtme\": \"runc\"}", &cfg, &err), -EINVAL);
	assert_string_equal(err.field, "runtme");
	assert_non_null(strstr(err.message, "unknown key"));
	assert_int_equal(parse("{\"stages\": [\"prestart\", \"later\"]}", &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.message, "unknown stage 'later'"));
	assert_int_equal(parse("{\"hook\": \"relative/hook\"}", &cfg, &err), -EINVAL);
	assert_string_equal(err.field, "hook");
	assert_int_equal(parse("{\"listener\": \"yes\"}", &cfg, &err), -EINVAL);
	assert_string_equal(err.field, "listener");
	assert_int_equal(parse("{\"hookTimeout\": 0}", &cfg, &err), -EINVAL);
	assert_int_equal(parse("{\"runtimeArgs\": [\"--a\", 3]}", &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.message, "entry 1"));
	assert_int_equal(parse("{\"policy\": \"a,b=c\"}", &cfg, &err), -EINVAL);
	assert_true(parse("[]", &cfg, &err) < 0);
	assert_true(parse("{\"runtime\": ", &cfg, &err) < 0);
	ocitap_wrap_config_release(&cfg);
}

/* Edit json with cfg; returns the result as text (the caller frees), *ch what changed. */
static char *edit(const char *json, const struct ocitap_wrap_config *cfg, struct ocitap_wrap_changes *ch, int want)
{
	json_object *o = NULL;
	struct ocitap_error err = { 0 };
	char *text;

	assert_int_equal(ocitap_json_parse_object(json, strlen(json), NULL, "t", &o, &err), 0);
	assert_int_equal(ocitap_wrap_edit(o, cfg, "/bin/ocitap-hook", ch, &err), want);
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

static void test_edit(void **unused)
{
	struct ocitap_wrap_config cfg;
	struct ocitap_wrap_changes ch;
	char *t, *t2;

	ocitap_wrap_config_init(&cfg);
	cfg.socket = strdup("/run/o.sock");
	cfg.policy = strdup("deny");
	/* no hooks yet, a profile that notifies: the default stages' hooks
	 * (createRuntime and poststop only), the listener, the policy */
	t = edit("{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
		 "[{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}}}",
		 &cfg, &ch, 0);
	assert_int_equal(ch.hooks_added, OCITAP_WRAP_DEFAULT_STAGES);
	assert_int_equal(OCITAP_WRAP_DEFAULT_STAGES,
			 (1u << OCITAP_STAGE_CREATE_RUNTIME) | (1u << OCITAP_STAGE_POSTSTOP));
	assert_null(strstr(t, "\"poststart\""));
	assert_true(ch.listener_set && ch.metadata_set);
	assert_non_null(strstr(t, "\"listenerPath\":\"/run/o.sock\""));
	assert_non_null(strstr(t, "\"listenerMetadata\":\"policy=deny\""));
	assert_non_null(strstr(t, "\"poststop\":[{\"path\":\"/bin/ocitap-hook\",\"args\":[\"ocitap-hook\",\"poststop\"],"
				  "\"env\":[\"OCITAP_SOCKET=/run/o.sock\"],\"timeout\":5}]"));
	/* again: nothing */
	t2 = edit(t, &cfg, &ch, 0);
	assert_int_equal(ch.hooks_added, 0);
	assert_false(ch.listener_set);
	assert_string_equal(t, t2);
	free(t);
	free(t2);
	/* someone else's hooks kept, ours appended after them */
	t = edit("{\"hooks\": {\"poststop\": [{\"path\": \"/other\"}]}}", &cfg, &ch, 0);
	assert_non_null(strstr(t, "\"poststop\":[{\"path\":\"/other\"},{\"path\":\"/bin/ocitap-hook\""));
	free(t);
	/* a listener already named: kept, and its metadata too (none is added) */
	t = edit("{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\", \"listenerPath\": \"/theirs\"}}}",
		 &cfg, &ch, 0);
	assert_false(ch.listener_set || ch.metadata_set);
	assert_null(strstr(t, "policy=deny"));
	free(t);
	/* a profile with its own metadata and no listener: the listener only */
	t = edit("{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\", \"listenerMetadata\": \"policy=x\"}}}",
		 &cfg, &ch, 0);
	assert_true(ch.listener_set);
	assert_false(ch.metadata_set);
	assert_non_null(strstr(t, "policy=x"));
	free(t);
	/* listener off; no stages: nothing at all */
	cfg.listener = false;
	cfg.stages = 0;
	t = edit("{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\"}}}", &cfg, &ch, 0);
	assert_false(ch.listener_set);
	assert_int_equal(ch.hooks_added, 0);
	assert_string_equal(t, "{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}}}");
	free(t);
	/* wrong shapes where ocitap edits are errors */
	cfg.listener = true;
	cfg.stages = OCITAP_WRAP_DEFAULT_STAGES;
	free(edit("{\"hooks\": []}", &cfg, &ch, -EINVAL));
	free(edit("{\"hooks\": {\"poststop\": {}}}", &cfg, &ch, -EINVAL));
	free(edit("{\"linux\": {\"seccomp\": {\"syscalls\": {}}}}", &cfg, &ch, -EINVAL));
	free(edit("{\"linux\": {\"seccomp\": 3}}", &cfg, &ch, -EINVAL));
	ocitap_wrap_config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_command),
		cmocka_unit_test(test_find_bundle),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_edit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
