/*
 * test_stage.c: telling a hook's stage when it was not named: the table in
 * stage.h against every State runc and crun really sent (tests/data), and
 * the /proc clues against real processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ocitap-private.h"
#include "testutil.h"

static struct ocitap_error err;

/* The stage inferred for a captured State, given what /proc showed at that
 * stage (docs/design/runtimes.md: init comm and mount namespaces). */
static int infer_file(const char *name, bool inside, bool init_is_runtime, bool *ambiguous)
{
	struct ocitap_stage_clues clues = { .inside = inside, .init_is_runtime = init_is_runtime };
	struct ocitap_state st;
	size_t len;
	char *buf = read_test_data(name, &len);
	int r;

	assert_int_equal(ocitap_state_parse(buf, len, 0, NULL, &st, &err), 0);
	r = ocitap_stage_infer(&st, &clues, ambiguous, &err);
	ocitap_state_release(&st);
	free(buf);
	return r;
}

static void test_runc(void **unused)
{
	bool amb;

	/* runc 1.1.5: init is runc:[2:INIT] until start, its parent is runc */
	assert_int_equal(infer_file("runc-prestart.json", false, false, &amb), OCITAP_STAGE_PRESTART);
	assert_true(amb);
	assert_int_equal(infer_file("runc-createRuntime.json", false, false, &amb), OCITAP_STAGE_PRESTART);
	assert_true(amb);
	assert_int_equal(infer_file("runc-createContainer.json", true, false, &amb), OCITAP_STAGE_CREATE_CONTAINER);
	assert_false(amb);
	assert_int_equal(infer_file("runc-startContainer.json", true, false, &amb), OCITAP_STAGE_START_CONTAINER);
	assert_int_equal(infer_file("runc-poststart.json", false, false, &amb), OCITAP_STAGE_POSTSTART);
	assert_false(amb);
	assert_int_equal(infer_file("runc-poststop.json", false, false, &amb), OCITAP_STAGE_POSTSTOP);
}

static void test_crun(void **unused)
{
	bool amb;

	/* crun 1.8.1: init is a fork of crun until it execs */
	assert_int_equal(infer_file("crun-prestart.json", false, true, &amb), OCITAP_STAGE_PRESTART);
	assert_true(amb);
	assert_int_equal(infer_file("crun-createRuntime.json", false, true, &amb), OCITAP_STAGE_PRESTART);
	assert_true(amb);
	assert_int_equal(infer_file("crun-createContainer.json", true, false, &amb), OCITAP_STAGE_CREATE_CONTAINER);
	assert_int_equal(infer_file("crun-startContainer.json", true, false, &amb), OCITAP_STAGE_START_CONTAINER);
	assert_int_equal(infer_file("crun-poststart.json", false, false, &amb), OCITAP_STAGE_POSTSTART);
	assert_int_equal(infer_file("crun-poststop.json", false, false, &amb), OCITAP_STAGE_POSTSTOP);
	assert_false(amb);
}

static int infer_json(const char *json, const struct ocitap_stage_clues *clues, bool *amb)
{
	struct ocitap_state st;
	int r;

	assert_int_equal(ocitap_state_parse(json, strlen(json), 0, NULL, &st, &err), 0);
	r = ocitap_stage_infer(&st, clues, amb, &err);
	ocitap_state_release(&st);
	return r;
}

static void test_edges(void **unused)
{
	struct ocitap_stage_clues inside = { .inside = true }, none = { 0 };
	bool amb;

	/* a container in the host's pid namespace: its real pid, seen from inside */
	assert_int_equal(infer_json("{\"id\":\"h\",\"status\":\"creating\",\"pid\":4242}", &inside, &amb),
			 OCITAP_STAGE_CREATE_CONTAINER);
	/* no clues at all (NULL): a pre-start State is prestart, ambiguous */
	assert_int_equal(infer_json("{\"id\":\"h\",\"status\":\"created\",\"pid\":4242}", NULL, &amb),
			 OCITAP_STAGE_PRESTART);
	assert_true(amb);
	assert_int_equal(infer_json("{\"id\":\"h\",\"status\":\"created\",\"pid\":4242}", &none, NULL),
			 OCITAP_STAGE_POSTSTART);
	assert_int_equal(infer_json("{\"id\":\"h\",\"status\":\"creating\"}", &none, &amb),
			 OCITAP_STAGE_CREATE_CONTAINER);
	/* statuses no stage sends */
	assert_int_equal(infer_json("{\"id\":\"h\",\"status\":\"paused\",\"pid\":7}", &none, &amb), -EINVAL);
	assert_string_equal(err.field, "status");
	assert_non_null(strstr(err.message, "\"paused\""));
	assert_false(amb);
	assert_int_equal(infer_json("{\"id\":\"h\",\"status\":\"restoring\",\"pid\":7}", &none, &amb), -EINVAL);
}

/* The clues from /proc, against a real child: a fork of this test shares
 * its name and mount namespace; after exec it is "sleep". */
static void test_clues_read(void **unused)
{
	struct ocitap_stage_clues clues;
	struct ocitap_state st = { .has_pid = true };
	int p[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		pause();
		_exit(0);
	}
	close(p[1]);
	st.pid = pid;
	ocitap_stage_clues_read(&st, getpid(), &clues);
	assert_true(clues.inside);
	assert_true(clues.init_is_runtime);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(p[0]);

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		fcntl(p[1], F_SETFD, FD_CLOEXEC);
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 0); /* closed on exec */
	st.pid = pid;
	ocitap_stage_clues_read(&st, getpid(), &clues);
	assert_true(clues.inside);
	assert_false(clues.init_is_runtime);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(p[0]);

	/* gone, or in pid 0/1 terms: no clue claims anything */
	ocitap_stage_clues_read(&st, getpid(), &clues);
	assert_false(clues.inside);
	assert_false(clues.init_is_runtime);
	st.pid = 1;
	ocitap_stage_clues_read(&st, getpid(), &clues);
	assert_false(clues.inside);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runc),
		cmocka_unit_test(test_crun),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_clues_read),
	};

	return cmocka_run_group_tests_name("stage", tests, NULL, NULL);
}
