/*
 * test_state.c: State and ContainerProcessState parsing, validation,
 * serialization and files, against the runtime-spec examples, what runc and
 * crun really sent (tests/data/, captured on this kind of machine) and every
 * kind of bad input the parser must refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocitap.h"
#include "testutil.h"

static struct ocitap_error err;

static int parse(const char *json, unsigned flags, struct ocitap_state *st)
{
	ocitap_error_clear(&err);
	return ocitap_state_parse(json, strlen(json), flags, NULL, st, &err);
}

/* Parse must fail with code, naming field, with msg inside the message. */
static void expect_state_error(const char *json, unsigned flags, int code, const char *field, const char *msg)
{
	struct ocitap_state st = { .id = "untouched" };

	assert_int_equal(parse(json, flags, &st), code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.field, field);
	if (!strstr(err.message, msg))
		fail_msg("message \"%s\" does not contain \"%s\"", err.message, msg);
	assert_string_equal(st.id, "untouched"); /* outputs only on success */
}

static void test_spec_example(void **unused)
{
	struct ocitap_state st;
	size_t len;
	char *buf = read_test_data("spec-state-example.json", &len);

	assert_int_equal(ocitap_state_parse(buf, len, OCITAP_PARSE_STRICT, NULL, &st, &err), 0);
	assert_string_equal(st.oci_version, "0.2.0");
	assert_string_equal(st.id, "oci-container1");
	assert_int_equal(st.status, OCITAP_STATUS_RUNNING);
	assert_string_equal(st.status_text, "running");
	assert_true(st.has_pid);
	assert_int_equal(st.pid, 4422);
	assert_string_equal(st.bundle, "/containers/redis");
	assert_int_equal(st.n_annotations, 1);
	assert_string_equal(st.annotations[0].key, "myKey");
	assert_string_equal(st.annotations[0].value, "myValue");
	ocitap_state_release(&st);
	assert_null(st.id);
	free(buf);
}

/* Every hook payload runc 1.1.5 and crun 1.8.1 sent here parses leniently. */
static void test_real_hook_payloads(void **unused)
{
	static const struct {
		const char *file;
		const char *status;
		enum ocitap_status e;
		int pid;
		bool has_pid;
	} cases[] = {
		{ "runc-prestart.json", "creating", OCITAP_STATUS_CREATING, 2954, true },
		{ "runc-createRuntime.json", "creating", OCITAP_STATUS_CREATING, 2954, true },
		{ "runc-createContainer.json", "creating", OCITAP_STATUS_CREATING, 1, true },
		{ "runc-startContainer.json", "created", OCITAP_STATUS_CREATED, 1, true },
		{ "runc-poststart.json", "created", OCITAP_STATUS_CREATED, 2954, true },
		{ "runc-poststop.json", "stopped", OCITAP_STATUS_STOPPED, 0, false },
		{ "crun-prestart.json", "created", OCITAP_STATUS_CREATED, 3062, true },
		{ "crun-createRuntime.json", "created", OCITAP_STATUS_CREATED, 3062, true },
		{ "crun-createContainer.json", "created", OCITAP_STATUS_CREATED, 0, true },
		{ "crun-startContainer.json", "starting", OCITAP_STATUS_OTHER, 0, true },
		{ "crun-poststart.json", "running", OCITAP_STATUS_RUNNING, 3062, true },
		{ "crun-poststop.json", "stopped", OCITAP_STATUS_STOPPED, 0, true },
		{ "runc-state-cmd.json", "running", OCITAP_STATUS_RUNNING, 3104, true },
		{ "crun-state-cmd.json", "running", OCITAP_STATUS_RUNNING, 3139, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ocitap_state st;
		size_t len;
		char *buf = read_test_data(cases[i].file, &len);

		if (ocitap_state_parse(buf, len, 0, NULL, &st, &err) < 0)
			fail_msg("%s: %s: %s", cases[i].file, err.field, err.message);
		assert_string_equal(st.status_text, cases[i].status);
		assert_int_equal(st.status, cases[i].e);
		assert_int_equal(st.pid, cases[i].pid);
		assert_int_equal(st.has_pid, cases[i].has_pid);
		assert_non_null(st.bundle);
		assert_int_equal(st.n_annotations, 1);
		assert_string_equal(ocitap_status_from_string(st.status_text) == OCITAP_STATUS_OTHER
					    ? st.status_text
					    : ocitap_status_to_string(st.status),
				    cases[i].status);
		ocitap_state_release(&st);
		free(buf);
	}
}

static void test_strict_pid_rules(void **unused)
{
	struct ocitap_state st;

	/* runc's poststop omits pid: fine in both modes */
	assert_int_equal(parse("{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"stopped\",\"bundle\":\"/b\"}",
			       OCITAP_PARSE_STRICT, &st),
			 0);
	ocitap_state_release(&st);
	/* crun's createContainer: created with pid 0, lenient only */
	assert_int_equal(parse("{\"id\":\"a\",\"status\":\"created\",\"pid\":0}", 0, &st), 0);
	ocitap_state_release(&st);
	expect_state_error("{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"created\",\"pid\":0,\"bundle\":\"/b\"}",
			   OCITAP_PARSE_STRICT, -EINVAL, "pid", "must be greater than 0 while status is created");
	expect_state_error("{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"running\",\"bundle\":\"/b\"}",
			   OCITAP_PARSE_STRICT, -EINVAL, "pid", "missing while status is running");
	expect_state_error("{\"id\":\"a\",\"status\":\"running\",\"pid\":1,\"bundle\":\"/b\"}", OCITAP_PARSE_STRICT,
			   -EINVAL, "ociVersion", "missing");
	expect_state_error("{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"running\",\"pid\":1}", OCITAP_PARSE_STRICT,
			   -EINVAL, "bundle", "missing");
}

static void test_tolerated(void **unused)
{
	struct ocitap_state st;

	/* any ociVersion, extra keys of any type, pretty-printed, null annotations */
	assert_int_equal(parse("\n {\n\t\"ociVersion\" : \"1.0.2-dev\",\n \"id\":\"a\", \"status\":\"paused\",\n"
			       " \"root\": {\"x\": [1, 2.5, null, true]}, \"annotations\": null }\n\n",
			       0, &st),
			 0);
	assert_int_equal(st.status, OCITAP_STATUS_OTHER);
	assert_string_equal(st.status_text, "paused");
	assert_false(st.has_annotations);
	assert_false(st.has_pid);
	assert_null(st.bundle);
	ocitap_state_release(&st);
	/* empty annotations object is kept as present */
	assert_int_equal(parse("{\"id\":\"a\",\"status\":\"created\",\"annotations\":{}}", 0, &st), 0);
	assert_true(st.has_annotations);
	assert_int_equal(st.n_annotations, 0);
	ocitap_state_release(&st);
	/* UTF-8 and escapes in values */
	assert_int_equal(
		parse("{\"id\":\"caf\\u00e9\",\"status\":\"created\",\"annotations\":{\"k\":\"\\\"q\\\"\"}}", 0, &st),
		0);
	assert_string_equal(st.id, "caf\xc3\xa9");
	assert_string_equal(st.annotations[0].value, "\"q\"");
	ocitap_state_release(&st);
}

static void test_id_length(void **unused)
{
	char buf[OCITAP_ID_MAX + 64], id[OCITAP_ID_MAX + 2];
	struct ocitap_state st;

	memset(id, 'a', sizeof(id) - 1);
	id[OCITAP_ID_MAX] = '\0'; /* the longest taken */
	snprintf(buf, sizeof(buf), "{\"id\":\"%s\",\"status\":\"created\"}", id);
	assert_int_equal(ocitap_state_parse(buf, strlen(buf), 0, NULL, &st, NULL), 0);
	ocitap_state_release(&st);
	id[OCITAP_ID_MAX] = 'a';
	id[OCITAP_ID_MAX + 1] = '\0'; /* one byte more */
	snprintf(buf, sizeof(buf), "{\"id\":\"%s\",\"status\":\"created\"}", id);
	expect_state_error(buf, 0, -EINVAL, "id", "is 1025 bytes, more than the 1024 an id may have");
}

static void test_rejected(void **unused)
{
	expect_state_error("{\"status\":\"created\"}", 0, -EINVAL, "id", "missing");
	expect_state_error("{\"id\":\"\",\"status\":\"created\"}", 0, -EINVAL, "id", "must not be empty");
	expect_state_error("{\"id\":7,\"status\":\"created\"}", 0, -EINVAL, "id", "expected a string, got an integer");
	expect_state_error("{\"id\":\"a/b\",\"status\":\"created\"}", 0, -EINVAL, "id", "'/'");
	expect_state_error("{\"id\":\"..\",\"status\":\"created\"}", 0, -EINVAL, "id", "\"..\"");
	expect_state_error("{\"id\":\"a\\nb\",\"status\":\"created\"}", 0, -EINVAL, "id", "control characters");
	expect_state_error("{\"id\":\"a\\u0000b\",\"status\":\"created\"}", 0, -EINVAL, "id", "NUL");
	expect_state_error("{\"id\":\"a\"}", 0, -EINVAL, "status", "missing");
	expect_state_error("{\"id\":\"a\",\"status\":\"\"}", 0, -EINVAL, "status", "must not be empty");
	expect_state_error("{\"id\":\"a\",\"status\":[\"running\"]}", 0, -EINVAL, "status", "got an array");
	expect_state_error("{\"id\":\"a\",\"status\":\"running\",\"pid\":-1}", 0, -ERANGE, "pid",
			   "must not be negative");
	expect_state_error("{\"id\":\"a\",\"status\":\"running\",\"pid\":4194305}", 0, -ERANGE, "pid", "out of range");
	expect_state_error("{\"id\":\"a\",\"status\":\"running\",\"pid\":1e3}", 0, -EINVAL, "pid",
			   "got a fractional number");
	expect_state_error("{\"id\":\"a\",\"status\":\"running\",\"pid\":\"12\"}", 0, -EINVAL, "pid", "got a string");
	expect_state_error("{\"id\":\"a\",\"status\":\"running\",\"pid\":99999999999999999999999}", 0, -ERANGE, "pid",
			   "over 2^63");
	expect_state_error("{\"id\":\"a\",\"status\":\"x\",\"bundle\":\"rel/path\"}", 0, -EINVAL, "bundle", "absolute");
	expect_state_error("{\"id\":\"a\",\"status\":\"x\",\"bundle\":\"\"}", 0, -EINVAL, "bundle", "absolute");
	expect_state_error("{\"id\":\"a\",\"status\":\"x\",\"annotations\":[]}", 0, -EINVAL, "annotations",
			   "got an array");
	expect_state_error("{\"id\":\"a\",\"status\":\"x\",\"annotations\":{\"k\":{}}}", 0, -EINVAL, "annotations.k",
			   "expected a string, got an object");
	expect_state_error("{\"id\":\"a\",\"status\":\"x\",\"annotations\":{\"\":\"v\"}}", OCITAP_PARSE_STRICT, -EINVAL,
			   "ociVersion", "missing");
	expect_state_error("{\"ociVersion\":\"\",\"id\":\"a\",\"status\":\"x\"}", 0, -EINVAL, "ociVersion", "empty");
	expect_state_error(
		"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"x\",\"bundle\":\"/b\",\"annotations\":{\"\":\"v\"}}",
		OCITAP_PARSE_STRICT, -EINVAL, "annotations", "keys must not be empty");
}

static void test_bad_json(void **unused)
{
	expect_state_error("", 0, -ENODATA, "", "empty input");
	expect_state_error("  \n", 0, -ENODATA, "", "empty input");
	expect_state_error("{\"id\":\"a\",", 0, -EBADMSG, "", "ends in the middle");
	expect_state_error("{\"id\":'a'}", 0, -EBADMSG, "", "invalid JSON at byte");
	expect_state_error("{\"id\":\"a\",\"status\":\"x\"} {}", 0, -EBADMSG, "", "");
	expect_state_error("{\"id\":\"a\",\"status\":\"x\",}", 0, -EBADMSG, "", "invalid JSON");
	expect_state_error("[]", 0, -EINVAL, "", "must be a JSON object");
	expect_state_error("\"id\"", 0, -EINVAL, "", "must be a JSON object");
	expect_state_error("{\"id\":\"\xff\xfe\",\"status\":\"x\"}", 0, -EBADMSG, "", "invalid JSON");
	{
		/* a raw NUL byte after the object is data, not the end */
		static const char j[] = "{\"id\":\"a\",\"status\":\"x\"}\0garbage";
		struct ocitap_state st;

		assert_int_equal(ocitap_state_parse(j, sizeof(j) - 1, 0, NULL, &st, &err), -EBADMSG);
		assert_int_equal(ocitap_state_parse(j, strlen(j), 0, NULL, &st, &err), 0);
		ocitap_state_release(&st);
	}
}

static void test_bounds(void **unused)
{
	struct ocitap_limits lim;
	struct ocitap_state st;
	char deep[256], *big;
	size_t n;

	ocitap_limits_init(&lim);
	assert_int_equal(lim.max_bytes, 1024 * 1024);

	/* size */
	lim.max_bytes = 20;
	assert_int_equal(ocitap_state_parse("{\"id\":\"a\",\"status\":\"created\"}", 30, 0, &lim, &st, &err),
			 -EMSGSIZE);
	assert_non_null(strstr(err.message, "more than the limit of 20 bytes"));

	/* depth */
	ocitap_limits_init(&lim);
	n = (size_t)snprintf(deep, sizeof(deep), "{\"id\":\"a\",\"status\":\"x\",\"extra\":");
	for (int i = 0; i < 40; i++)
		deep[n++] = '[';
	for (int i = 0; i < 40; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	assert_int_equal(ocitap_state_parse(deep, n, 0, &lim, &st, &err), -E2BIG);
	assert_non_null(strstr(err.message, "nested deeper than the limit of 16"));

	/* string length */
	lim.max_string = 8;
	{
		const char *j = "{\"id\":\"123456789\",\"status\":\"x\"}";

		assert_int_equal(ocitap_state_parse(j, strlen(j), 0, &lim, &st, &err), -E2BIG);
	}
	assert_string_equal(err.field, "id");

	/* annotation count */
	ocitap_limits_init(&lim);
	lim.max_annotations = 2;
	{
		const char *j = "{\"id\":\"a\",\"status\":\"x\",\"annotations\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}";

		assert_int_equal(ocitap_state_parse(j, strlen(j), 0, &lim, &st, &err), -E2BIG);
		assert_string_equal(err.field, "annotations");
		assert_non_null(strstr(err.message, "3 entries, more than the limit of 2"));
	}

	/* large annotations are fine under the default limits: 200 KiB value, 1000 keys */
	ocitap_limits_init(&lim);
	big = malloc(1024 * 1024);
	assert_non_null(big);
	n = (size_t)sprintf(big, "{\"id\":\"a\",\"status\":\"x\",\"annotations\":{\"big\":\"");
	memset(big + n, 'v', 200 * 1024);
	n += 200 * 1024;
	n += (size_t)sprintf(big + n, "\"");
	for (int i = 0; i < 1000; i++)
		n += (size_t)sprintf(big + n, ",\"k%d\":\"%d\"", i, i);
	n += (size_t)sprintf(big + n, "}}");
	assert_int_equal(ocitap_state_parse(big, n, 0, &lim, &st, &err), 0);
	assert_int_equal(st.n_annotations, 1001);
	assert_int_equal(strlen(st.annotations[0].value), 200 * 1024);
	assert_string_equal(st.annotations[1000].key, "k999");
	ocitap_state_release(&st);
	free(big);
}

static void test_round_trip(void **unused)
{
	static const char *const files[] = { "spec-state-example.json", "runc-poststop.json",
					     "crun-startContainer.json", "crun-state-cmd.json" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct ocitap_state a, b;
		char *json = NULL, *json2 = NULL;
		size_t len;
		char *buf = read_test_data(files[i], &len);

		assert_int_equal(ocitap_state_parse(buf, len, 0, NULL, &a, &err), 0);
		assert_int_equal(ocitap_state_to_json(&a, i % 2 ? OCITAP_JSON_PRETTY : 0, &json, &err), 0);
		assert_int_equal(ocitap_state_parse(json, strlen(json), 0, NULL, &b, &err), 0);
		assert_int_equal(ocitap_state_to_json(&b, i % 2 ? OCITAP_JSON_PRETTY : 0, &json2, &err), 0);
		assert_string_equal(json, json2);
		assert_string_equal(a.id, b.id);
		assert_string_equal(a.status_text, b.status_text);
		assert_int_equal(a.pid, b.pid);
		assert_int_equal(a.has_pid, b.has_pid);
		/* normalized output drops unknown keys such as crun's "root" */
		assert_null(strstr(json, "\"root\""));
		ocitap_state_release(&a);
		ocitap_state_release(&b);
		free(json);
		free(json2);
		free(buf);
	}
}

static void test_hand_built_state(void **unused)
{
	static const struct ocitap_annotation ann[] = { { "io.x", "1" }, { "k", "v\"q" } };
	struct ocitap_state st = {
		.oci_version = "1.0.2",
		.id = "hand",
		.status = OCITAP_STATUS_STOPPED,
		.bundle = "/b",
		.n_annotations = 2,
		.annotations = ann,
	};
	struct ocitap_state back;
	char *json;

	assert_int_equal(ocitap_state_to_json(&st, 0, &json, &err), 0);
	assert_string_equal(json, "{\"ociVersion\":\"1.0.2\",\"id\":\"hand\",\"status\":\"stopped\",\"bundle\":\"/b\","
				  "\"annotations\":{\"io.x\":\"1\",\"k\":\"v\\\"q\"}}");
	assert_int_equal(ocitap_state_parse(json, strlen(json), 0, NULL, &back, &err), 0);
	assert_string_equal(back.annotations[1].value, "v\"q");
	ocitap_state_release(&back);
	ocitap_state_release(&st); /* no-op on a hand-built state */
	free(json);
}

static void test_save_load(void **unused)
{
	char dir[] = "/tmp/ocitap-test-XXXXXX", path[256];
	struct ocitap_state a, b;
	size_t len;
	char *buf = read_test_data("crun-poststart.json", &len);
	DIR *d;
	struct dirent *e;
	int files = 0;
	struct stat sb;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	assert_int_equal(ocitap_state_parse(buf, len, 0, NULL, &a, &err), 0);
	assert_int_equal(ocitap_state_save(&a, path, &err), 0);
	/* overwrite: still atomic, no temporary left behind */
	assert_int_equal(ocitap_state_save(&a, path, &err), 0);
	assert_int_equal(ocitap_state_load(path, OCITAP_PARSE_STRICT, NULL, &b, &err), 0);
	assert_string_equal(a.id, b.id);
	assert_string_equal(a.oci_version, b.oci_version);
	assert_string_equal(a.bundle, b.bundle);
	assert_int_equal(a.pid, b.pid);
	assert_int_equal(a.status, b.status);
	assert_int_equal(a.n_annotations, b.n_annotations);
	assert_string_equal(a.annotations[0].value, b.annotations[0].value);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	d = opendir(dir);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			files++;
	closedir(d);
	assert_int_equal(files, 1);

	/* load errors name the file */
	assert_int_equal(ocitap_state_load("/nonexistent/ocitap.json", 0, NULL, &b, &err), -ENOENT);
	assert_non_null(strstr(err.message, "/nonexistent/ocitap.json"));
	/* save into a missing directory fails cleanly */
	assert_int_equal(ocitap_state_save(&a, "/nonexistent/dir/s.json", &err), -ENOENT);

	ocitap_state_release(&a);
	ocitap_state_release(&b);
	unlink(path);
	rmdir(dir);
	free(buf);
}

/* ---- ContainerProcessState ------------------------------------------- */

static void test_process_state_real(void **unused)
{
	static const char *const files[] = { "runc-listener.json", "crun-listener.json",
					     "spec-process-state-example.json" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct ocitap_process_state ps;
		size_t len;
		char *buf = read_test_data(files[i], &len);

		if (ocitap_process_state_parse(buf, len, 0, NULL, 1, &ps, &err) < 0)
			fail_msg("%s: %s: %s", files[i], err.field, err.message);
		assert_int_equal(ps.n_fds, 1);
		assert_string_equal(ps.fds[0], "seccompFd");
		assert_int_equal(ocitap_process_state_fd_index(&ps, "seccompFd"), 0);
		assert_int_equal(ocitap_process_state_fd_index(&ps, "other"), -ENOENT);
		assert_true(ps.pid > 0);
		assert_non_null(ps.metadata);
		assert_int_equal(ps.state.status, OCITAP_STATUS_CREATING);
		assert_int_equal(ps.state.pid, ps.pid);
		ocitap_process_state_release(&ps);
		free(buf);
	}
}

static void expect_ps_error(const char *json, size_t n_fds, int code, const char *field, const char *msg)
{
	struct ocitap_process_state ps;

	ocitap_error_clear(&err);
	assert_int_equal(ocitap_process_state_parse(json, strlen(json), 0, NULL, n_fds, &ps, &err), code);
	assert_string_equal(err.field, field);
	if (!strstr(err.message, msg))
		fail_msg("message \"%s\" does not contain \"%s\"", err.message, msg);
}

#define ST "\"state\":{\"id\":\"c\",\"status\":\"creating\",\"pid\":5}"

static void test_process_state_rejected(void **unused)
{
	expect_ps_error("{\"fds\":[\"seccompFd\"],\"pid\":5," ST "}", 2, -EBADMSG, "fds", "1 name for 2 fds received");
	expect_ps_error("{\"fds\":[\"seccompFd\",\"x\"],\"pid\":5," ST "}", 1, -EBADMSG, "fds",
			"2 names for 1 fd received");
	expect_ps_error("{\"fds\":[],\"pid\":5," ST "}", 1, -EBADMSG, "fds", "0 names for 1 fd received");
	expect_ps_error("{\"pid\":5," ST "}", 1, -EINVAL, "fds", "missing");
	expect_ps_error("{\"fds\":\"seccompFd\",\"pid\":5," ST "}", 1, -EINVAL, "fds", "expected an array");
	expect_ps_error("{\"fds\":[3],\"pid\":5," ST "}", 1, -EINVAL, "fds[0]", "expected a string");
	expect_ps_error("{\"fds\":[\"a\",\"a\"],\"pid\":5," ST "}", 2, -EINVAL, "fds[1]", "duplicate");
	expect_ps_error("{\"fds\":[\"\"],\"pid\":5," ST "}", 1, -EINVAL, "fds[0]", "empty");
	expect_ps_error("{\"fds\":[\"seccompFd\"]," ST "}", 1, -EINVAL, "pid", "missing");
	expect_ps_error("{\"fds\":[\"seccompFd\"],\"pid\":0," ST "}", 1, -ERANGE, "pid", "at least 1");
	expect_ps_error("{\"fds\":[\"seccompFd\"],\"pid\":5}", 1, -EINVAL, "state", "missing");
	expect_ps_error("{\"fds\":[\"seccompFd\"],\"pid\":5,\"state\":[]}", 1, -EINVAL, "state", "expected an object");
	expect_ps_error("{\"fds\":[\"seccompFd\"],\"pid\":5,\"metadata\":5," ST "}", 1, -EINVAL, "metadata", "string");
	expect_ps_error("{\"fds\":[\"seccompFd\"],\"pid\":5,\"state\":{\"id\":\"c\",\"status\":\"x\",\"pid\":-2}}", 1,
			-ERANGE, "state.pid", "negative");
	expect_ps_error("{\"fds\":[\"seccompFd\"],\"pid\":5,\"state\":{\"id\":\"c\",\"status\":\"x\",\"annotations\":{"
			"\"k\":1}}}",
			1, -EINVAL, "state.annotations.k", "expected a string");
	{
		/* more fd names than the fd bound */
		char j[512] = "{\"fds\":[";

		for (int i = 0; i < 17; i++)
			snprintf(j + strlen(j), sizeof(j) - strlen(j), "%s\"f%d\"", i ? "," : "", i);
		strcat(j, "],\"pid\":5," ST "}");
		expect_ps_error(j, OCITAP_FDS_UNKNOWN, -E2BIG, "fds", "17 entries, more than the limit of 16");
	}
}

static void test_process_state_round_trip(void **unused)
{
	struct ocitap_process_state a, b;
	char *json;
	size_t len;
	char *buf = read_test_data("crun-listener.json", &len);

	assert_int_equal(ocitap_process_state_parse(buf, len, OCITAP_PARSE_STRICT, NULL, OCITAP_FDS_UNKNOWN, &a, &err),
			 0);
	assert_int_equal(ocitap_process_state_to_json(&a, 0, &json, &err), 0);
	assert_int_equal(ocitap_process_state_parse(json, strlen(json), 0, NULL, 1, &b, &err), 0);
	assert_string_equal(b.metadata, "policy=audit");
	assert_string_equal(b.state.id, "t2");
	assert_string_equal(b.state.annotations[0].key, "org.example.k");
	ocitap_process_state_release(&a);
	ocitap_process_state_release(&b);
	free(json);
	free(buf);
}

static void test_doc_kind_guess(void **unused)
{
	static const struct {
		const char *file;
		enum ocitap_doc_kind kind;
	} cases[] = {
		{ "runc-listener.json", OCITAP_DOC_PROCESS_STATE },
		{ "crun-listener.json", OCITAP_DOC_PROCESS_STATE },
		{ "runc-spec-config.json", OCITAP_DOC_CONFIG },
		{ "crun-poststart.json", OCITAP_DOC_STATE }, /* "root" is a string there */
		{ "runc-state-cmd.json", OCITAP_DOC_STATE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *buf = read_test_data(cases[i].file, &len);

		assert_int_equal(ocitap_doc_kind_guess(buf, len, NULL), cases[i].kind);
		free(buf);
	}
	assert_int_equal(ocitap_doc_kind_guess("not json", 8, NULL), OCITAP_DOC_STATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_real_hook_payloads),
		cmocka_unit_test(test_strict_pid_rules),
		cmocka_unit_test(test_tolerated),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_id_length),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hand_built_state),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_process_state_real),
		cmocka_unit_test(test_process_state_rejected),
		cmocka_unit_test(test_process_state_round_trip),
		cmocka_unit_test(test_doc_kind_guess),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
