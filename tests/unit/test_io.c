/*
 * test_io.c: bounded reads (size, deadline, drain) and atomic writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "ocitap.h"
#include "testutil.h"

static struct ocitap_error err;

static void test_pipe_small(void **unused)
{
	int p[2];
	char *buf;
	size_t len;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "hello", 5), 5);
	close(p[1]);
	assert_int_equal(ocitap_read_fd(p[0], 100, 1000, 0, &buf, &len, &err), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	free(buf);
	close(p[0]);
}

/* A writer that never closes: the read gives up at the deadline. */
static void test_never_closing(void **unused)
{
	int p[2];
	char *buf = NULL;
	size_t len;
	int64_t t0;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "{\"id\":", 6), 6);
	t0 = ocitap_now_ms();
	assert_int_equal(ocitap_read_fd(p[0], 100, 150, 0, &buf, &len, &err), -ETIMEDOUT);
	assert_true(ocitap_now_ms() - t0 >= 140);
	assert_true(ocitap_now_ms() - t0 < 2000);
	assert_non_null(strstr(err.message, "did not end within 150 ms (6 bytes read)"));
	assert_null(buf);
	close(p[0]);
	close(p[1]);
}

/* Exactly at the bound is fine; one byte more is refused. */
static void test_bound_exact(void **unused)
{
	char *buf;
	size_t len;

	for (int extra = 0; extra <= 1; extra++) {
		int p[2];
		char data[100];

		memset(data, 'x', sizeof(data));
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		assert_int_equal(write(p[1], data, (size_t)(64 + extra)), 64 + extra);
		close(p[1]);
		if (extra == 0) {
			assert_int_equal(ocitap_read_fd(p[0], 64, 1000, 0, &buf, &len, &err), 0);
			assert_int_equal(len, 64);
			free(buf);
		} else {
			assert_int_equal(ocitap_read_fd(p[0], 64, 1000, 0, &buf, &len, &err), -EMSGSIZE);
			assert_non_null(strstr(err.message, "larger than the limit of 64 bytes"));
		}
		close(p[0]);
	}
}

/*
 * With DRAIN, an oversized writer is read to EOF, so it never gets EPIPE:
 * the child writes 8 MiB into a 1 KiB bound and must exit 0.
 */
static void test_drain(void **unused)
{
	int p[2], status;
	char *buf;
	size_t len;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static char chunk[65536];

		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		for (int i = 0; i < 128; i++)
			if (write(p[1], chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
				_exit(3);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(ocitap_read_fd(p[0], 1024, 10000, OCITAP_READ_DRAIN, &buf, &len, &err), -EMSGSIZE);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(p[0]);
}

static void test_regular_file(void **unused)
{
	char path[] = "/tmp/ocitap-io-XXXXXX";
	int fd = mkstemp(path);
	char *buf;
	size_t len;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	assert_int_equal(ocitap_read_file(path, 10, -1, &buf, &len, &err), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
	/* over the bound: refused from the size, before reading */
	assert_int_equal(ocitap_read_file(path, 9, -1, &buf, &len, &err), -EMSGSIZE);
	assert_non_null(strstr(err.message, "10 bytes, more than the limit of 9"));
	unlink(path);
	assert_int_equal(ocitap_read_file(path, 9, -1, &buf, &len, &err), -ENOENT);
	assert_non_null(strstr(err.message, "cannot open"));
	/* a directory is not readable input */
	assert_true(ocitap_read_file("/", 9, -1, &buf, &len, &err) < 0);
}

static void test_empty_input(void **unused)
{
	int p[2];
	char *buf;
	size_t len;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[1]);
	assert_int_equal(ocitap_read_fd(p[0], 10, 100, 0, &buf, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	close(p[0]);
}

static void test_atomic_write(void **unused)
{
	char dir[] = "/tmp/ocitap-atomic-XXXXXX", path[256];
	char *buf;
	size_t len;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(ocitap_write_file_atomic(path, "one", 3, 0600, &err), 0);
	assert_int_equal(ocitap_write_file_atomic(path, "second", 6, 0640, &err), 0);
	assert_int_equal(ocitap_read_file(path, 100, -1, &buf, &len, &err), 0);
	assert_string_equal(buf, "second");
	free(buf);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* the old file survives a failed write (directory not writable for the temp file) */
	snprintf(path, sizeof(path), "%s/missing/f", dir);
	assert_int_equal(ocitap_write_file_atomic(path, "x", 1, 0600, &err), -ENOENT);
	assert_non_null(strstr(err.message, "temporary file"));
	snprintf(path, sizeof(path), "%s/f", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0); /* empty: no temporary left */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_small),   cmocka_unit_test(test_never_closing),
		cmocka_unit_test(test_bound_exact),  cmocka_unit_test(test_drain),
		cmocka_unit_test(test_regular_file), cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_atomic_write),
	};

	return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
