/*
 * test_query.c: the HTTP API's query arguments: each argument's range and
 * message, repeated and unknown arguments, the annotation filters and their
 * limit, %-decoding of a raw query string, and matching annotations and
 * names.
 */
#include <errno.h>
#include <string.h>

#include "ocitap-private.h"
#include "testutil.h"

static int parse(struct ocitap_query *q, const char *raw, struct ocitap_error *err)
{
	ocitap_query_init(q);
	return ocitap_query_parse_string(q, raw, strlen(raw), err);
}

static void test_good(void **state)
{
	struct ocitap_error err = { 0 };
	struct ocitap_query q;

	assert_int_equal(parse(&q, "", &err), 0);
	assert_false(q.has_status);
	assert_int_equal(q.limit, OCITAP_QUERY_DEFAULT_LIMIT);
	assert_null(q.id);
	ocitap_query_release(&q);

	assert_int_equal(parse(&q, "status=running&since=42&limit=7&id=web%201&x=y&&", &err), 0);
	assert_true(q.has_status);
	assert_int_equal(q.status, OCITAP_PHASE_RUNNING);
	assert_int_equal(q.since, 42);
	assert_int_equal(q.limit, 7);
	assert_string_equal(q.id, "web 1");
	ocitap_query_release(&q);

	/* a run, the first one counting; status=failed is stopped and failed */
	assert_int_equal(parse(&q, "run=2&run=5&status=failed", &err), 0);
	assert_int_equal(q.run, 2);
	assert_true(q.has_status && q.status_failed);
	assert_int_equal(q.status, OCITAP_PHASE_STOPPED);
	ocitap_query_release(&q);
	assert_int_equal(parse(&q, "status=stopped", &err), 0);
	assert_false(q.status_failed);
	assert_int_equal(q.run, 0);
	ocitap_query_release(&q);

	/* the first of a repeated argument counts */
	assert_int_equal(parse(&q, "status=stopped&status=bogus&limit=1&limit=0", &err), 0);
	assert_int_equal(q.status, OCITAP_PHASE_STOPPED);
	assert_int_equal(q.limit, 1);
	ocitap_query_release(&q);

	assert_int_equal(parse(&q, "annotation=a%3Db=c&annotation=present&annotation=e=", &err), 0);
	assert_int_equal(q.n_annotations, 3);
	assert_string_equal(q.ann_key[0], "a");
	assert_string_equal(q.ann_value[0], "b=c");
	assert_null(q.ann_value[1]);
	assert_string_equal(q.ann_value[2], "");
	assert_true(ocitap_query_annotations_match(&q, "{\"a\": \"b=c\", \"present\": \"1\", \"e\": \"\"}"));
	assert_false(ocitap_query_annotations_match(&q, "{\"a\": \"b\", \"present\": \"1\", \"e\": \"\"}"));
	assert_false(ocitap_query_annotations_match(&q, "{\"a\": \"b=c\", \"e\": \"\"}"));
	assert_false(ocitap_query_annotations_match(&q, NULL));
	assert_false(ocitap_query_annotations_match(&q, "not json"));
	ocitap_query_release(&q);

	/* the names: each must be the container's; an unknown one matches none */
	assert_int_equal(parse(&q, "name=web&name=db&pod=web-0&namespace=shop&manager=cri-o", &err), 0);
	assert_string_equal(q.name, "web");
	assert_string_equal(q.pod, "web-0");
	assert_string_equal(q.pod_namespace, "shop");
	assert_string_equal(q.manager, "cri-o");
	assert_true(ocitap_query_names_match(&q, "web", "web-0", "shop", "cri-o"));
	assert_false(ocitap_query_names_match(&q, "db", "web-0", "shop", "cri-o"));
	assert_false(ocitap_query_names_match(&q, "web", "web-0", "default", "cri-o"));
	assert_false(ocitap_query_names_match(&q, "web", "web-0", "shop", NULL));
	ocitap_query_release(&q);
	assert_int_equal(parse(&q, "manager=docker", &err), 0);
	assert_null(q.name);
	assert_true(ocitap_query_names_match(&q, NULL, NULL, NULL, "docker"));
	assert_false(ocitap_query_names_match(&q, "web", NULL, NULL, "podman"));
	ocitap_query_release(&q);
	assert_int_equal(parse(&q, "", &err), 0);
	assert_true(ocitap_query_names_match(&q, NULL, NULL, NULL, NULL));
	ocitap_query_release(&q);

	ocitap_query_init(&q);
	assert_int_equal(ocitap_query_last_event_id(&q, "9", &err), 0);
	assert_true(q.has_since);
	assert_int_equal(q.since, 9);
	ocitap_query_release(&q);
}

static void test_bad(void **state)
{
	static const struct {
		const char *raw;
		int code;
		const char *field, *message;
	} cases[] = {
		{ "status=zombie", -EINVAL, "status", "expected unknown, creating" },
		{ "status", -EINVAL, "status", "expected" },
		{ "since=abc", -EINVAL, "since", "sequence number" },
		{ "since=-1", -EINVAL, "since", "sequence number" },
		{ "since=", -EINVAL, "since", "sequence number" },
		{ "since=+5", -EINVAL, "since", "sequence number" },
		{ "since=99999999999999999999", -EINVAL, "since", "sequence number" },
		{ "run=0", -EINVAL, "run", "run number" },
		{ "run=x", -EINVAL, "run", "run number" },
		{ "run=", -EINVAL, "run", "run number" },
		{ "limit=0", -EINVAL, "limit", "expected 1 to 10000" },
		{ "limit=100000", -EINVAL, "limit", "expected 1 to 10000" },
		{ "id=", -EINVAL, "id", "1 to 1024 bytes" },
		{ "annotation=", -EINVAL, "annotation", "KEY or KEY=VALUE" },
		{ "name=", -EINVAL, "name", "1 to 253 bytes" },
		{ "pod", -EINVAL, "pod", "1 to 253 bytes" },
		{ "namespace=", -EINVAL, "namespace", "1 to 253 bytes" },
		{ "manager=", -EINVAL, "manager", "1 to 253 bytes" },
		{ "after=", -EINVAL, "after", "the \"next\" of a page" },
		{ "after", -EINVAL, "after", "the \"next\" of a page" },
		{ "annotation==v", -EINVAL, "annotation", "KEY or KEY=VALUE" },
		{ "id=a%2", -EINVAL, "", "%-escape" },
		{ "id=a%zzb", -EINVAL, "", "%-escape" },
		{ "id=a%00b", -EINVAL, "", "NUL" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ocitap_error err = { 0 };
		struct ocitap_query q;
		int r = parse(&q, cases[i].raw, &err);

		ocitap_query_release(&q);
		if (r != cases[i].code)
			fail_msg("%s: %d", cases[i].raw, r);
		if (strcmp(err.field, cases[i].field) != 0 || !strstr(err.message, cases[i].message))
			fail_msg("%s: \"%s: %s\"", cases[i].raw, err.field, err.message);
	}
	{
		char raw[1200] = "";
		struct ocitap_error err = { 0 };
		struct ocitap_query q;

		for (int i = 0; i < 17; i++)
			strcat(raw, "annotation=k&");
		assert_int_equal(parse(&q, raw, &err), -E2BIG);
		assert_int_equal(q.n_annotations, 16);
		assert_non_null(strstr(err.message, "at most 16"));
		ocitap_query_release(&q);
		ocitap_query_init(&q);
		assert_int_equal(ocitap_query_last_event_id(&q, "x", &err), -EINVAL);
		assert_string_equal(err.field, "Last-Event-ID");
	}
	{
		char raw[1100] = "id=";
		struct ocitap_error err = { 0 };
		struct ocitap_query q;

		memset(raw + 3, 'a', 1025);
		assert_int_equal(parse(&q, raw, &err), -EINVAL);
		ocitap_query_release(&q);
		snprintf(raw, sizeof(raw), "name=");
		memset(raw + 5, 'n', 254);
		assert_int_equal(parse(&q, raw, &err), -EINVAL);
		assert_string_equal(err.field, "name");
		ocitap_query_release(&q);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
