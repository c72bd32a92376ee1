/*
 * test_bundle.c: the typed subset of config.json: a real `runc spec` config
 * with hooks and a seccomp listener, and the errors that name the key.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocitap.h"
#include "testutil.h"

static struct ocitap_error err;

static int parse(const char *json, unsigned flags, struct ocitap_config *cfg)
{
	ocitap_error_clear(&err);
	return ocitap_config_parse(json, strlen(json), flags, NULL, cfg, &err);
}

static void expect_error(const char *json, int code, const char *field, const char *msg)
{
	struct ocitap_config cfg;

	assert_int_equal(parse(json, 0, &cfg), code);
	assert_string_equal(err.field, field);
	if (!strstr(err.message, msg))
		fail_msg("message \"%s\" does not contain \"%s\"", err.message, msg);
}

static void test_stage_names(void **unused)
{
	static const char *const names[] = { "prestart",       "createRuntime", "createContainer",
					     "startContainer", "poststart",	"poststop" };

	for (int i = 0; i < OCITAP_STAGE_COUNT; i++) {
		assert_string_equal(ocitap_stage_to_string(i), names[i]);
		assert_int_equal(ocitap_stage_from_string(names[i]), i);
	}
	assert_int_equal(ocitap_stage_from_string("PostStop"), -EINVAL);
	assert_int_equal(ocitap_stage_from_string(NULL), -EINVAL);
	assert_null(ocitap_stage_to_string(OCITAP_STAGE_COUNT));
}

/* The config.json our runc integration run used (runc spec + hooks + listener). */
static void test_runc_spec_config(void **unused)
{
	struct ocitap_config cfg;
	size_t len;
	char *buf = read_test_data("runc-spec-config.json", &len);
	char *json;

	if (ocitap_config_parse(buf, len, OCITAP_PARSE_STRICT, NULL, &cfg, &err) < 0)
		fail_msg("%s: %s", err.field, err.message);
	assert_string_equal(cfg.oci_version, "1.0.2-dev");
	assert_string_equal(cfg.root_path, "rootfs");
	assert_int_equal(cfg.n_args, 3);
	assert_string_equal(cfg.args[0], "sh");
	assert_null(cfg.args[3]);
	assert_int_equal(cfg.n_hooks[OCITAP_STAGE_PRESTART], 1);
	assert_int_equal(cfg.n_hooks[OCITAP_STAGE_POSTSTOP], 1);
	assert_int_equal(cfg.n_hooks[OCITAP_STAGE_CREATE_CONTAINER], 0);
	assert_string_equal(cfg.hooks[OCITAP_STAGE_POSTSTOP][0].path, "/tmp/exp/cap.sh");
	assert_int_equal(cfg.hooks[OCITAP_STAGE_POSTSTOP][0].n_args, 3);
	assert_true(cfg.has_seccomp);
	assert_string_equal(cfg.seccomp.default_action, "SCMP_ACT_ALLOW");
	assert_string_equal(cfg.seccomp.listener_path, "/tmp/exp/l.sock");
	assert_string_equal(cfg.seccomp.listener_metadata, "policy=audit");
	assert_int_equal(cfg.seccomp.n_rules, 1);
	assert_string_equal(cfg.seccomp.rules[0].action, "SCMP_ACT_NOTIFY");
	assert_string_equal(cfg.seccomp.rules[0].names[0], "mkdir");
	assert_true(cfg.n_mounts >= 5);
	assert_string_equal(cfg.mounts[0].destination, "/proc");
	assert_string_equal(cfg.mounts[0].type, "proc");
	assert_string_equal(ocitap_config_annotation(&cfg, "org.example.k"), "v");
	assert_null(ocitap_config_annotation(&cfg, "nope"));

	/* normalized output parses back to the same thing */
	assert_int_equal(ocitap_config_to_json(&cfg, OCITAP_JSON_PRETTY, &json, &err), 0);
	{
		struct ocitap_config back;

		assert_int_equal(ocitap_config_parse(json, strlen(json), OCITAP_PARSE_STRICT, NULL, &back, &err), 0);
		assert_int_equal(back.n_mounts, cfg.n_mounts);
		assert_string_equal(back.seccomp.listener_path, cfg.seccomp.listener_path);
		assert_string_equal(back.hooks[OCITAP_STAGE_POSTSTART][0].args[2],
				    cfg.hooks[OCITAP_STAGE_POSTSTART][0].args[2]);
		ocitap_config_release(&back);
	}
	free(json);
	ocitap_config_release(&cfg);
	free(buf);
}

static void test_minimal_and_tolerant(void **unused)
{
	struct ocitap_config cfg;

	assert_int_equal(parse("{}", 0, &cfg), 0);
	assert_null(cfg.args);
	assert_false(cfg.has_seccomp);
	assert_int_equal(cfg.n_mounts, 0);
	ocitap_config_release(&cfg);
	assert_int_equal(
		parse("{\"ociVersion\":\"1.1.0\",\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"timeout\":5}],"
		      "\"futureStage\":[1]},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
		      "\"syscalls\":[{\"names\":[\"chmod\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,"
		      "\"args\":[{\"index\":0}]}]},\"namespaces\":[]},\"vm\":{}}",
		      OCITAP_PARSE_STRICT, &cfg),
		0);
	assert_true(cfg.hooks[OCITAP_STAGE_POSTSTOP][0].has_timeout);
	assert_int_equal(cfg.hooks[OCITAP_STAGE_POSTSTOP][0].timeout, 5);
	assert_true(cfg.seccomp.rules[0].has_errno_ret);
	assert_int_equal(cfg.seccomp.rules[0].errno_ret, 1);
	assert_null(cfg.seccomp.listener_path);
	ocitap_config_release(&cfg);
}

static void test_errors(void **unused)
{
	expect_error("[]", -EINVAL, "", "must be a JSON object");
	expect_error("{\"process\":[]}", -EINVAL, "process", "expected an object");
	expect_error("{\"process\":{\"args\":[\"sh\",1]}}", -EINVAL, "process.args[1]", "expected a string");
	expect_error("{\"hooks\":{\"poststop\":{}}}", -EINVAL, "hooks.poststop", "expected an array");
	expect_error("{\"hooks\":{\"poststop\":[{\"path\":\"/x\"},{}]}}", -EINVAL, "hooks.poststop[1].path", "missing");
	expect_error("{\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}}", -EINVAL, "hooks.prestart[0].path", "absolute");
	expect_error("{\"hooks\":{\"prestart\":[{\"path\":\"/x\",\"timeout\":0}]}}", -ERANGE,
		     "hooks.prestart[0].timeout", "at least 1");
	expect_error("{\"hooks\":{\"prestart\":[{\"path\":\"/x\",\"env\":\"A=1\"}]}}", -EINVAL, "hooks.prestart[0].env",
		     "expected an array");
	expect_error(
		"{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"policy=deny\"}}}",
		-EINVAL, "linux.seccomp.listenerMetadata", "set without listenerPath");
	expect_error("{\"linux\":{\"seccomp\":{\"listenerPath\":\"\"}}}", -EINVAL, "linux.seccomp.listenerPath",
		     "empty");
	expect_error("{\"linux\":{\"seccomp\":{\"syscalls\":[{\"names\":[\"x\"]}]}}}", -EINVAL,
		     "linux.seccomp.syscalls[0].action", "missing");
	expect_error("{\"linux\":{\"seccomp\":{\"syscalls\":[{\"names\":[\"x\"],\"action\":\"A\",\"errnoRet\":-1}]}}}",
		     -ERANGE, "linux.seccomp.syscalls[0].errnoRet", "negative");
	expect_error("{\"linux\":{\"seccomp\":7}}", -EINVAL, "linux.seccomp", "expected an object");
	expect_error("{\"mounts\":[{\"type\":\"proc\"}]}", -EINVAL, "mounts[0].destination", "missing");
	expect_error("{\"annotations\":{\"a\":[]}}", -EINVAL, "annotations.a", "expected a string");
	{
		struct ocitap_config cfg;

		assert_int_equal(parse("{\"linux\":{\"seccomp\":{}}}", OCITAP_PARSE_STRICT, &cfg), -EINVAL);
		assert_string_equal(err.field, "ociVersion");
		assert_int_equal(parse("{\"ociVersion\":\"1\",\"linux\":{\"seccomp\":{}}}", OCITAP_PARSE_STRICT, &cfg),
				 -EINVAL);
		assert_string_equal(err.field, "linux.seccomp.defaultAction");
	}
}

static void test_bundle_load(void **unused)
{
	char dir[] = "/tmp/ocitap-bundle-XXXXXX", path[256];
	struct ocitap_config cfg;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(ocitap_bundle_load_config(dir, 0, NULL, &cfg, &err), -ENOENT);
	assert_non_null(strstr(err.message, "config.json"));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	assert_int_equal(ocitap_write_file_atomic(path, "{\"process\":{\"args\":[\"top\"]}}", 28, 0644, &err), 0);
	assert_int_equal(ocitap_bundle_load_config(dir, 0, NULL, &cfg, &err), 0);
	assert_string_equal(cfg.args[0], "top");
	ocitap_config_release(&cfg);
	assert_int_equal(ocitap_write_file_atomic(path, "{\"process\":", 11, 0644, &err), 0);
	assert_int_equal(ocitap_bundle_load_config(dir, 0, NULL, &cfg, &err), -EBADMSG);
	assert_non_null(strstr(err.message, path));
	/* annotations only: no such word, nothing parsed (not even a config cut short) */
	assert_int_equal(ocitap_bundle_load_config(dir, OCITAP_CONFIG_ANNOTATIONS_ONLY, NULL, &cfg, &err), 0);
	assert_false(cfg.has_annotations);
	ocitap_config_release(&cfg);
	{
		static const char *const with[] = {
			"{\"annotations\":{\"a\":\"1\"}}",
			"{\"\\u0061nnotations\":{\"a\":\"1\"}}", /* the key spelled with an escape: parsed */
		};

		for (size_t i = 0; i < 2; i++) {
			assert_int_equal(ocitap_write_file_atomic(path, with[i], strlen(with[i]), 0644, &err), 0);
			assert_int_equal(ocitap_bundle_load_config(dir, OCITAP_CONFIG_ANNOTATIONS_ONLY, NULL, &cfg, &err),
					 0);
			assert_true(cfg.has_annotations);
			assert_string_equal(ocitap_config_annotation(&cfg, "a"), "1");
			ocitap_config_release(&cfg);
		}
	}
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage_names),	     cmocka_unit_test(test_runc_spec_config),
		cmocka_unit_test(test_minimal_and_tolerant), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bundle_load),
	};

	return cmocka_run_group_tests_name("bundle", tests, NULL, NULL);
}
