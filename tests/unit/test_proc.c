/*
 * test_proc.c: exit status through a pidfd, for real children: one that
 * exits 7, one killed by SIGKILL, one still running, and children reaped
 * by another thread at the very moment their exit is asked for (the
 * runtime and ocitapd both wake at the init's exit). Also proves our
 * local definition of the pidfd_info uapi matches this kernel.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ocitap-private.h"
#include "proc.h"
#include "testutil.h"

static void test_exit_code(void **unused)
{
	struct ocitap_exit ex;
	pid_t pid = fork();
	int fd, r;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(7);
	fd = ocitap_pidfd_open(pid);
	assert_true(fd >= 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid); /* reaped: the pidfd still knows */
	r = ocitap_pidfd_exit(fd, &ex);
	if (r == -EOPNOTSUPP) {
		skip(); /* kernel before 6.15 */
		return;
	}
	assert_int_equal(r, 0);
	assert_true(ex.exited);
	assert_int_equal(ex.code, 7);
	assert_false(ex.signaled);
	close(fd);
}

static void test_signal_and_running(void **unused)
{
	struct ocitap_exit ex;
	struct pollfd p;
	pid_t pid = fork();
	int fd;

	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	fd = ocitap_pidfd_open(pid);
	assert_true(fd >= 0);
	assert_int_equal(ocitap_pidfd_exit(fd, &ex), -EAGAIN); /* still running */
	kill(pid, SIGKILL);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 5000), 1); /* a pidfd polls readable at exit */
	waitpid(pid, NULL, 0);
	assert_int_equal(ocitap_pidfd_exit(fd, &ex), 0);
	assert_true(ex.signaled);
	assert_int_equal(ex.signal, SIGKILL);
	close(fd);
	assert_int_equal(ocitap_pidfd_open(-5), -EINVAL);
}

static void *reap(void *pid)
{
	waitpid(*(pid_t *)pid, NULL, 0);
	return NULL;
}

/* Asked while its parent reaps it, the kernel may say ESRCH for an instant
 * before it publishes the exit (1 time in 4 here, before the retry). */
static void test_exit_during_reap(void **unused)
{
	for (int i = 0; i < 300; i++) {
		struct ocitap_exit ex;
		struct pollfd p;
		int gate[2], fd, r;
		pthread_t t;
		pid_t pid;
		char c = 0;

		assert_int_equal(pipe(gate), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (read(gate[0], &c, 1) < 0)
				_exit(1);
			_exit(3);
		}
		fd = ocitap_pidfd_open(pid);
		assert_true(fd >= 0);
		assert_int_equal(pthread_create(&t, NULL, reap, &pid), 0);
		assert_int_equal(write(gate[1], &c, 1), 1);
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		assert_int_equal(poll(&p, 1, 5000), 1);
		while ((r = ocitap_pidfd_exit(fd, &ex)) == -EAGAIN)
			;
		if (r == -EOPNOTSUPP) {
			pthread_join(t, NULL);
			skip(); /* kernel before 6.15 */
		}
		if (r != 0)
			fail_msg("round %d: %s, not the exit", i, strerror(-r));
		assert_true(ex.exited);
		assert_int_equal(ex.code, 3);
		pthread_join(t, NULL);
		close(fd);
		close(gate[0]);
		close(gate[1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code),
		cmocka_unit_test(test_signal_and_running),
		cmocka_unit_test(test_exit_during_reap),
	};

	return cmocka_run_group_tests_name("proc", tests, NULL, NULL);
}
