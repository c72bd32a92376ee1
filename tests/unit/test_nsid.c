/*
 * test_nsid.c: lib/nsid.c, a process's namespaces by identity: read for
 * ourselves and for a child (the same), for a child in a new mount
 * namespace when we may make one (differs in "mnt" only), and for a pid
 * that does not exist (-ESRCH, the path named).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsid.h"
#include "testutil.h"

static void test_self_and_child(void **state)
{
	struct ocitap_ns_ids self, again, child;
	pid_t pid;

	assert_int_equal(ocitap_ns_ids_read("/proc", 0, &self, NULL), 0);
	assert_int_equal(ocitap_ns_ids_read("/proc", getpid(), &again, NULL), 0);
	assert_true(ocitap_ns_ids_equal(&self, &again));
	assert_null(ocitap_ns_ids_differ(&self, &again));
	for (int k = 0; k < OCITAP_NS_N; k++)
		assert_true(self.ns[k].ino != 0);

	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(ocitap_ns_ids_read("/proc", pid, &child, NULL), 0);
	assert_true(ocitap_ns_ids_equal(&self, &child));
	for (int k = 0; k < OCITAP_NS_N; k++) { /* one alone, as the set reads it */
		struct ocitap_ns_id one = { 0 };

		assert_int_equal(ocitap_ns_id_read("/proc", pid, (enum ocitap_ns_kind)k, &one, NULL), 0);
		assert_true(one.ino == child.ns[k].ino && one.dev == child.ns[k].dev);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_other_mount_namespace(void **state)
{
	struct ocitap_ns_ids self, child;
	int pipefd[2];
	char go;
	pid_t pid;

	assert_int_equal(ocitap_ns_ids_read("/proc", 0, &self, NULL), 0);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		char r = unshare(CLONE_NEWNS) == 0 ? 'y' : 'n';

		(void)!write(pipefd[1], &r, 1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(pipefd[0], &go, 1), 1);
	if (go == 'y') {
		assert_int_equal(ocitap_ns_ids_read("/proc", pid, &child, NULL), 0);
		assert_false(ocitap_ns_ids_equal(&self, &child));
		assert_string_equal(ocitap_ns_ids_differ(&self, &child), "mnt");
		assert_true(child.ns[OCITAP_NS_PID].ino == self.ns[OCITAP_NS_PID].ino);
	} else {
		print_message("# unshare(CLONE_NEWNS) not permitted here: only the reading was tested\n");
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_no_such_process(void **state)
{
	struct ocitap_ns_ids ids = { 0 }, before;
	struct ocitap_error err = { 0 };

	before = ids;
	assert_int_equal(ocitap_ns_ids_read("/proc", 0x3fffffff, &ids, &err), -ESRCH);
	assert_non_null(strstr(err.message, "/proc/1073741823/ns/mnt"));
	assert_memory_equal(&ids, &before, sizeof(ids)); /* untouched on failure */
	assert_int_equal(ocitap_ns_ids_read("/nonexistent-proc", 0, &ids, NULL), -ESRCH);
	assert_int_equal(ocitap_ns_id_read("/proc", 0x3fffffff, OCITAP_NS_PID, &ids.ns[0], &err), -ESRCH);
	assert_non_null(strstr(err.message, "/proc/1073741823/ns/pid"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_and_child),
		cmocka_unit_test(test_other_mount_namespace),
		cmocka_unit_test(test_no_such_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
