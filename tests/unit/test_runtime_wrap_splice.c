/*
 * test_runtime_wrap_splice.c: the text splice of config.json
 * (ocitap_wrap_splice, lib/runtime-wrap-splice.c) against the json-c edit
 * it stands in for (ocitap_wrap_edit). For many configs under many
 * configurations: either the splice declines, or json-c reads its output
 * as exactly the json-c path's result, with the same changes reported,
 * and a second splice adds nothing. The shapes Docker, containerd and
 * runc write must not be declined (that is the point of the splice); the
 * odd ones (twins, escapes, nulls, wrong types, invalid JSON) must be.
 */
#include <errno.h>

#include "json-util.h"
#include "macro.h"
#include "ocitap-private.h"
#include "runtime-wrap.h"
#include "testutil.h"

#define HOOK "/usr/local/bin/ocitap-hook"

enum outcome { SPLICED, UNCHANGED, DECLINED };

static const struct ocitap_limits wrap_limits = {
	.max_bytes = 64u << 20,
	.max_depth = 64,
	.max_string = 16u << 20,
	.max_annotations = 1u << 20,
	.max_items = 1u << 20,
};

/* Both edits of text under cfg; fails the test where they disagree. */
static enum outcome differ(const char *text, const struct ocitap_wrap_config *cfg, const char *hook)
{
	struct ocitap_wrap_changes fast = { 0 }, slow = { 0 }, again = { 0 };
	json_object *edited = NULL, *spliced = NULL;
	struct ocitap_error err = { 0 };
	char *out = NULL, *out2 = NULL;
	size_t len = strlen(text), out_len = 0, out2_len = 0;
	int r = ocitap_wrap_splice(text, len, cfg, hook, &out, &out_len, &fast);

	if (r == -ENOTSUP)
		return DECLINED;
	assert_int_equal(r, 0);
	if (ocitap_json_parse_object(text, len, &wrap_limits, "config.json", &edited, &err) < 0)
		fail_msg("spliced what json-c rejects (%s): %s", err.message, text);
	if (ocitap_wrap_edit(edited, cfg, hook, &slow, &err) < 0)
		fail_msg("spliced what the json-c edit rejects (%s): %s", err.message, text);
	assert_int_equal(fast.hooks_added, slow.hooks_added);
	assert_int_equal(fast.listener_set, slow.listener_set);
	assert_int_equal(fast.metadata_set, slow.metadata_set);
	if (!out) {
		assert_false(slow.hooks_added || slow.listener_set || slow.metadata_set);
		json_object_put(edited);
		return UNCHANGED;
	}
	assert_int_equal(strlen(out), out_len);
	assert_true(out_len > len);
	if (ocitap_json_parse_object(out, out_len, &wrap_limits, "spliced", &spliced, &err) < 0)
		fail_msg("the splice wrote invalid JSON (%s): %s", err.message, out);
	if (!json_object_equal(spliced, edited))
		fail_msg("splice and json-c disagree:\n%s\n%s", out,
			 json_object_to_json_string_ext(edited, JSON_C_TO_STRING_PLAIN));
	if (ocitap_wrap_splice(out, out_len, cfg, hook, &out2, &out2_len, &again) != 0)
		fail_msg("the splice declines its own output: %s", out);
	assert_null(out2);
	assert_false(again.hooks_added || again.listener_set || again.metadata_set);
	json_object_put(spliced);
	json_object_put(edited);
	free(out);
	return SPLICED;
}

/* The configurations each config is tried under; configs[0] is the default. */
static void configs_init(struct ocitap_wrap_config *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ocitap_wrap_config_init(&c[i]);
	c[1].socket = strdup("/run/o \"q\" \\.sock");
	c[1].state_dir = strdup("/var/lib/ocitap");
	c[1].policy = strdup("deny");
	c[1].fail_closed = true;
	c[1].hook_timeout = 30;
	c[2].stages = (1u << OCITAP_STAGE_COUNT) - 1;
	c[2].metadata = strdup("policy=x,extra=1");
	c[3].stages = 0;
	c[4].listener = false;
	c[5].state_dir = strdup("/d");
}

static void configs_release(struct ocitap_wrap_config *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ocitap_wrap_config_release(&c[i]);
}

/* What a Docker create passes: compact, a big profile, notify rules, no listener. */
static char *docker_like(bool notify, const char *extra)
{
	size_t size = 64u << 10, len;
	char *b = malloc(size);

	assert_non_null(b);
	len = (size_t)snprintf(b, size,
			       "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
			       "\"args\":[\"sh\",\"-c\",\"exit 3\"],\"env\":[\"PATH=/usr/bin:/bin\",\"X=a\\\"b\"],"
			       "\"cwd\":\"/\"},\"root\":{\"path\":\"/var/lib/docker/overlay2/x/merged\"},"
			       "\"hostname\":\"web\",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"}],%s"
			       "\"linux\":{\"resources\":{\"memory\":{\"limit\":-1}},\"seccomp\":"
			       "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
			       "\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{\"names\":[",
			       extra ? extra : "");
	for (int i = 0; i < 350; i++)
		len += (size_t)snprintf(b + len, size - len, "%s\"sys%d\"", i ? "," : "", i);
	snprintf(b + len, size - len,
		 "],\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"mkdir\"],\"action\":\"%s\","
		 "\"args\":[{\"index\":0,\"value\":18446744073709551615,\"op\":\"SCMP_CMP_EQ\"}]}]}}}",
		 notify ? "SCMP_ACT_NOTIFY" : "SCMP_ACT_LOG");
	return b;
}

static void test_common_shapes_are_spliced(void **unused)
{
	struct ocitap_wrap_config cfg[6];
	size_t spec_len;
	char *runc_spec = read_test_data("runc-spec-config.json", &spec_len);
	char *docker = docker_like(true, NULL), *docker_log = docker_like(false, NULL);
	char *docker_hooked = docker_like(true, "\"hooks\":{\"prestart\":[{\"path\":\"/usr/bin/nvidia\"}]},");
	const char *const small[] = {
		"{}",
		"{ }",
		" {\"hooks\": {}}\n",
		"{\"hooks\": {\"poststop\": []}, \"linux\": {}}",
		"{\"hooks\": {\"poststart\": [{\"path\": \"/other\", \"args\": [\"a\"]}, 3, \"x\"]}}",
		"{\"linux\": null, \"hooks\": {\"createRuntime\": [{\"path\": \"" HOOK "\"}]}}",
		"{\"linux\": {\"seccomp\": null}}",
		"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\"}}}",
		"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\", \"syscalls\": 7}}}",
		"{\"linux\": {\"seccomp\": {\"syscalls\": [{\"action\": \"SCMP_ACT_NOTIFY\"}], \"listenerPath\": \"/l\"}}}",
		"{\"linux\": {\"seccomp\": {\"syscalls\": [{\"action\": \"SCMP_ACT_NOTIFY\"}], "
		"\"listenerMetadata\": \"m\"}}}",
		"{\"linux\": {\"seccomp\": {\"syscalls\": [1, [], {\"action\": 3}, {\"action\": \"SCMP_ACT_NOTIFY\"}]}}}",
		"{\"linux\": {\"seccomp\": {\"syscalls\": [{\"action\": \"SCMP_ACT_ALLOW\"}], \"listenerPath\": \"\"}}}",
		/* escapes, as Go writes them, mean what they say */
		"{\"hoo\\u006bs\": {\"poststop\": [{\"path\": \"\\/usr/local/bin/ocitap-hook\"}]}}",
		"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIF\\u0059\"}}}",
		"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\", \"listenerPath\": \"\\u003c\"}}}",
		"{\"x\": [1.5e-3, -0, 0.25E+2, true, false, null, \"\\u00e9\\n\\/\", \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"],"
		" \"y\": {\"hooks\": 1, \"hooks\": 2}, \"big\": 123456789012345678901234567890}",
	};
	size_t spliced = 0;

	configs_init(cfg, ELEMENTSOF(cfg));
	for (size_t c = 0; c < ELEMENTSOF(cfg); c++) {
		assert_int_not_equal(differ(runc_spec, &cfg[c], HOOK), DECLINED);
		assert_int_not_equal(differ(docker, &cfg[c], HOOK), DECLINED);
		assert_int_not_equal(differ(docker_log, &cfg[c], HOOK), DECLINED);
		assert_int_not_equal(differ(docker_hooked, &cfg[c], HOOK), DECLINED);
		for (size_t i = 0; i < ELEMENTSOF(small); i++) {
			enum outcome o = differ(small[i], &cfg[c], HOOK);

			if (o == DECLINED)
				fail_msg("declined under configuration %zu: %s", c, small[i]);
			spliced += o == SPLICED;
		}
	}
	/* the default configuration adds to every one of them but the last-but-one listener cases */
	assert_true(spliced > ELEMENTSOF(small) * 3);
	free(runc_spec);
	free(docker);
	free(docker_log);
	free(docker_hooked);
	configs_release(cfg, ELEMENTSOF(cfg));
}

static void test_docker_edit(void **unused)
{
	struct ocitap_wrap_config cfg;
	struct ocitap_wrap_changes ch;
	char *docker = docker_like(true, NULL), *out = NULL;
	const char *listener;
	size_t len;

	ocitap_wrap_config_init(&cfg);
	cfg.socket = strdup("/run/ocitap/ocitapd.sock");
	cfg.policy = strdup("audit");
	assert_int_equal(ocitap_wrap_splice(docker, strlen(docker), &cfg, HOOK, &out, &len, &ch), 0);
	assert_int_equal(ch.hooks_added, OCITAP_WRAP_DEFAULT_STAGES);
	assert_true(ch.listener_set && ch.metadata_set);
	/* only additions: the original's bytes are all there, in order, the number as written */
	assert_non_null(strstr(out, "\"value\":18446744073709551615,"));
	assert_memory_equal(out, docker, strstr(docker, "\"linux\"") - docker);
	listener = strstr(out, "\"listenerPath\":\"/run/ocitap/ocitapd.sock\",\"listenerMetadata\":\"policy=audit\"}");
	assert_non_null(listener);
	assert_non_null(strstr(out, ",\"hooks\":{\"createRuntime\":[{\"path\":\"" HOOK
				    "\",\"args\":[\"ocitap-hook\",\"createRuntime\"],"
				    "\"env\":[\"OCITAP_SOCKET=/run/ocitap/ocitapd.sock\"],\"timeout\":5}],"));
	free(out);
	free(docker);
	ocitap_wrap_config_release(&cfg);
}

static void test_odd_shapes_are_declined(void **unused)
{
	struct ocitap_wrap_config cfg[6];
	const char *const odd[] = {
		"",
		"   ",
		"[]",
		"{",
		"{\"a\": 1,}",
		"{\"a\": [1,]}",
		"{\"a\": 01}",
		"{\"a\": 1.}",
		"{\"a\": .5}",
		"{\"a\": -}",
		"{\"a\": tru}",
		"{\"a\": \"\x01\"}",
		"{\"a\": \"\\x\"}",
		"{\"a\": \"\\ud800\"}",
		"{\"a\": \"\xc0\xaf\"}",
		"{\"a\": \"\xed\xa0\x80\"}",
		"{\"a\": \"\xf4\x90\x80\x80\"}",
		"{\"a\": \"\xe2\x82\"}",
		"{} {}",
		"{}\f",
		"{\"a\" 1}",
		"{'a': 1}",
		"{\"hooks\": null}",
		"{\"hooks\": []}",
		"{\"hooks\": {\"poststop\": {}}}",
		"{\"hooks\": {\"poststop\": null}}",
		"{\"hooks\": {}, \"hooks\": {}}",
		"{\"hooks\\u0000\": {}}",
		"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\", \"listenerPath\": \"\\u0000/x\"}}}",
		"{\"hooks\": {\"poststop\": [{\"path\": \"" HOOK "\\u00e9\"}]}}",
		"{\"hooks\": {\"poststop\": [], \"poststop\": []}}",
		"{\"hooks\": {\"poststop\": [{\"path\": \"/a\", \"path\": \"" HOOK "\"}]}}",
		"{\"linux\": 3}",
		"{\"linux\": {\"seccomp\": []}}",
		"{\"linux\": {}, \"linux\": {}}",
		"{\"linux\": {\"seccomp\": {\"syscalls\": {}}}}",
		"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\", \"listenerPath\": null}}}",
		"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\", \"listenerPath\": \"\"}}}",
		"{\"linux\": {\"seccomp\": {\"syscalls\": [{\"action\": \"SCMP_ACT_NOTIFY\", \"action\": \"x\"}]}}}",
	};
	char deep[200] = "{\"a\":";

	configs_init(cfg, ELEMENTSOF(cfg));
	for (size_t i = 0; i < ELEMENTSOF(odd); i++)
		if (differ(odd[i], &cfg[0], HOOK) != DECLINED)
			fail_msg("not declined: %s", odd[i]);
	/* declined only where it matters: with no stages the hooks' shape is not looked at */
	assert_int_equal(differ("{\"hooks\": null}", &cfg[3], HOOK), UNCHANGED);
	assert_int_equal(differ("{\"linux\": {\"seccomp\": {\"syscalls\": {}}}}", &cfg[4], HOOK), SPLICED);
	/* the json-c path agrees these are errors (the ones not merely odd) */
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	for (int i = 0; i < 40; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	assert_int_equal(differ(deep, &cfg[0], HOOK), DECLINED);
	/* non-ASCII in what would be added: json-c's writer does that */
	free(cfg[0].socket);
	cfg[0].socket = strdup("/run/\xc3\xa9.sock");
	assert_int_equal(differ("{}", &cfg[0], HOOK), DECLINED);
	configs_release(cfg, ELEMENTSOF(cfg));
}

/* Every prefix and every one-byte change of a config: never a disagreement. */
static void test_mutations(void **unused)
{
	struct ocitap_wrap_config cfg[6];
	const char *base = "{\"hooks\":{\"poststart\":[{\"path\":\"/o\"}]},\"linux\":{\"seccomp\":{\"defaultAction\":"
			   "\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}},"
			   "\"n\":[1e5,-2.5,\"\\u0041\"]}";
	static const char subst[] = "{}[],:\"\\ 0-e.tn\x80";
	size_t len = strlen(base), declined = 0, tried = 0;
	char *m = malloc(len + 1);

	assert_non_null(m);
	configs_init(cfg, ELEMENTSOF(cfg));
	for (size_t c = 0; c < ELEMENTSOF(cfg); c++) {
		for (size_t n = 0; n <= len; n++) {
			memcpy(m, base, n);
			m[n] = '\0';
			declined += differ(m, &cfg[c], HOOK) == DECLINED;
			tried++;
		}
		for (size_t i = 0; i < len; i++)
			for (size_t k = 0; k < sizeof(subst) - 1; k++) {
				memcpy(m, base, len + 1);
				m[i] = subst[k];
				declined += differ(m, &cfg[c], HOOK) == DECLINED;
				tried++;
			}
	}
	/* most are broken JSON, but not all: some were compared */
	assert_true(declined < tried);
	assert_true(declined > tried / 2);
	free(m);
	configs_release(cfg, ELEMENTSOF(cfg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_shapes_are_spliced),
		cmocka_unit_test(test_docker_edit),
		cmocka_unit_test(test_odd_shapes_are_declined),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
