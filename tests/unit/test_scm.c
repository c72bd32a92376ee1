/*
 * test_scm.c: the listener protocol over real unix sockets: JSON plus fds,
 * split sends, fds in later messages, name/fd mismatches, truncated control
 * messages, oversized and never-ending peers; and that every fd not handed
 * out is closed on every path (counted in /proc/self/fd).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "ocitap.h"
#include "testutil.h"

static struct ocitap_error err;

#define PS_ONE                                                                                           \
	"{\"ociVersion\":\"1.0.2-dev\",\"fds\":[\"seccompFd\"],\"pid\":42,\"metadata\":\"policy=deny\"," \
	"\"state\":{\"ociVersion\":\"1.0.2-dev\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":42,\"bundle\":\"/b\"}}"

static void make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* A fd to pass: the read end of a fresh pipe (its write end closed). */
static int some_fd(void)
{
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[1]);
	return p[0];
}

static ino_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static int recv_ps(int sock, const struct ocitap_limits *lim, int timeout_ms, struct ocitap_process_state *ps, int *fd)
{
	ocitap_error_clear(&err);
	return ocitap_scm_recv_process_state(sock, 0, lim, timeout_ms, ps, fd, &err);
}

static void test_one_message(void **unused)
{
	struct ocitap_process_state ps;
	int sv[2], fd = -1, pass = some_fd(), before;

	make_pair(sv);
	before = count_open_fds();
	assert_int_equal(ocitap_scm_send(sv[0], PS_ONE, strlen(PS_ONE), &pass, 1, &err), 0);
	shutdown(sv[0], SHUT_WR);
	assert_int_equal(recv_ps(sv[1], NULL, 1000, &ps, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(inode_of(fd), inode_of(pass)); /* the very fd that was sent */
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_string_equal(ps.metadata, "policy=deny");
	assert_string_equal(ps.state.id, "c1");
	assert_int_equal(ps.pid, 42);
	assert_int_equal(count_open_fds(), before + 1);
	ocitap_process_state_release(&ps);
	close(fd);
	close(pass);
	close(sv[0]);
	close(sv[1]);
}

/* The spec lets a runtime split the message; fds ride with the first part. */
static void test_split_message(void **unused)
{
	struct ocitap_process_state ps;
	const char *json = PS_ONE;
	size_t len = strlen(json);
	int sv[2], fd = -1, pass = some_fd();

	make_pair(sv);
	assert_int_equal(ocitap_scm_send(sv[0], json, 10, &pass, 1, &err), 0);
	assert_int_equal(ocitap_scm_send(sv[0], json + 10, 50, NULL, 0, &err), 0);
	assert_int_equal(ocitap_scm_send(sv[0], json + 60, len - 60, NULL, 0, &err), 0);
	shutdown(sv[0], SHUT_WR);
	assert_int_equal(recv_ps(sv[1], NULL, 1000, &ps, &fd), 0);
	assert_int_equal(inode_of(fd), inode_of(pass));
	ocitap_process_state_release(&ps);
	close(fd);
	close(pass);
	close(sv[0]);
	close(sv[1]);
}

/* Incremental reading: -EAGAIN until EOF, then finish. */
static void test_reader_incremental(void **unused)
{
	struct ocitap_scm_reader r;
	struct ocitap_process_state ps;
	int sv[2], fd = -1, pass = some_fd();

	make_pair(sv);
	ocitap_scm_reader_init(&r, NULL);
	assert_int_equal(ocitap_scm_reader_read(&r, sv[1], &err), -EAGAIN);
	assert_int_equal(ocitap_scm_send(sv[0], PS_ONE, 20, &pass, 1, &err), 0);
	assert_int_equal(ocitap_scm_reader_read(&r, sv[1], &err), -EAGAIN);
	assert_int_equal(r.len, 20);
	assert_int_equal(r.n_fds, 1);
	assert_int_equal(ocitap_scm_send(sv[0], PS_ONE + 20, strlen(PS_ONE) - 20, NULL, 0, &err), 0);
	close(sv[0]);
	assert_int_equal(ocitap_scm_reader_read(&r, sv[1], &err), 0);
	assert_int_equal(ocitap_scm_reader_finish(&r, 0, NULL, &ps, &fd, &err), 0);
	assert_int_equal(inode_of(fd), inode_of(pass));
	ocitap_process_state_release(&ps);
	close(fd);
	close(pass);
	close(sv[1]);
}

/* Two named fds: seccompFd (second here) is handed out, the other closed. */
static void test_two_fds(void **unused)
{
	static const char json[] = "{\"fds\":[\"other\",\"seccompFd\"],\"pid\":7,"
				   "\"state\":{\"id\":\"c\",\"status\":\"creating\",\"pid\":7}}";
	struct ocitap_process_state ps;
	int sv[2], fd = -1, pass[2] = { some_fd(), some_fd() }, before;

	make_pair(sv);
	before = count_open_fds();
	assert_int_equal(ocitap_scm_send(sv[0], json, sizeof(json) - 1, pass, 2, &err), 0);
	shutdown(sv[0], SHUT_WR);
	assert_int_equal(recv_ps(sv[1], NULL, 1000, &ps, &fd), 0);
	assert_int_equal(inode_of(fd), inode_of(pass[1]));
	assert_int_equal(count_open_fds(), before + 1);
	ocitap_process_state_release(&ps);
	close(fd);
	close(pass[0]);
	close(pass[1]);
	close(sv[0]);
	close(sv[1]);
}

/* Every refusal: the error names the problem and no received fd survives. */
static void expect_refused(const char *json, size_t len, int n_fds, const struct ocitap_limits *lim, int code,
			   const char *field, const char *msg)
{
	struct ocitap_process_state ps = { .pid = -123 };
	int sv[2], fd = -77, pass[32], before;

	assert_true(n_fds <= 32);
	for (int i = 0; i < n_fds; i++)
		pass[i] = some_fd();
	make_pair(sv);
	before = count_open_fds();
	if (len > 0 || n_fds > 0)
		assert_int_equal(ocitap_scm_send(sv[0], json, len ? len : 1, pass, (size_t)n_fds, &err), 0);
	shutdown(sv[0], SHUT_WR);
	assert_int_equal(recv_ps(sv[1], lim, 1000, &ps, &fd), code);
	assert_string_equal(err.field, field);
	if (!strstr(err.message, msg))
		fail_msg("message \"%s\" does not contain \"%s\"", err.message, msg);
	assert_int_equal(fd, -77);
	assert_int_equal(ps.pid, -123);
	assert_int_equal(count_open_fds(), before);
	for (int i = 0; i < n_fds; i++)
		close(pass[i]);
	close(sv[0]);
	close(sv[1]);
}

static void test_refusals(void **unused)
{
	static const char two_names[] =
		"{\"fds\":[\"seccompFd\",\"x\"],\"pid\":7,\"state\":{\"id\":\"c\",\"status\":\"creating\"}}";
	static const char no_seccomp[] = "{\"fds\":[\"x\"],\"pid\":7,\"state\":{\"id\":\"c\",\"status\":\"creating\"}}";
	static const char truncated[] = "{\"fds\":[\"seccompFd\"],\"pid\":7,\"state\":{\"id\":\"c\"";
	struct ocitap_limits lim;

	/* names and fds disagree */
	expect_refused(PS_ONE, strlen(PS_ONE), 2, NULL, -EBADMSG, "fds", "1 name for 2 fds received");
	expect_refused(two_names, sizeof(two_names) - 1, 1, NULL, -EBADMSG, "fds", "2 names for 1 fd received");
	expect_refused(PS_ONE, strlen(PS_ONE), 0, NULL, -EBADMSG, "fds", "1 name for 0 fds received");
	/* no seccompFd among the names */
	expect_refused(no_seccomp, sizeof(no_seccomp) - 1, 1, NULL, -ENOENT, "fds", "no fd named \"seccompFd\"");
	/* peer hung up mid-message */
	expect_refused(truncated, sizeof(truncated) - 1, 1, NULL, -EBADMSG, "", "ends in the middle");
	/* garbage */
	expect_refused("\x01\x02garbage\xff", 11, 1, NULL, -EBADMSG, "", "invalid JSON");
	/* connected and closed without a byte */
	expect_refused("", 0, 0, NULL, -ENODATA, "", "empty input");
	/* more fds than allowed: within one control message */
	ocitap_limits_init(&lim);
	lim.max_fds = 2;
	expect_refused(PS_ONE, strlen(PS_ONE), 3, &lim, -EMSGSIZE, "fds", "more than 2 fds");
	/* far more than allowed: the control message is truncated by the kernel */
	expect_refused(PS_ONE, strlen(PS_ONE), 30, &lim, -EMSGSIZE, "fds", "truncated");
	/* oversized body */
	ocitap_limits_init(&lim);
	lim.max_bytes = 64;
	expect_refused(PS_ONE, strlen(PS_ONE), 1, &lim, -EMSGSIZE, "", "larger than the limit of 64 bytes");
}

/* fds spread over several messages count together against the bound. */
static void test_fds_across_messages(void **unused)
{
	struct ocitap_limits lim;
	struct ocitap_process_state ps;
	int sv[2], fd = -1, a = some_fd(), b = some_fd(), before;

	ocitap_limits_init(&lim);
	lim.max_fds = 1;
	make_pair(sv);
	before = count_open_fds();
	assert_int_equal(ocitap_scm_send(sv[0], PS_ONE, 5, &a, 1, &err), 0);
	assert_int_equal(ocitap_scm_send(sv[0], PS_ONE + 5, 5, &b, 1, &err), 0);
	assert_int_equal(ocitap_scm_send(sv[0], PS_ONE + 10, strlen(PS_ONE) - 10, NULL, 0, &err), 0);
	shutdown(sv[0], SHUT_WR);
	assert_int_equal(recv_ps(sv[1], &lim, 1000, &ps, &fd), -EMSGSIZE);
	assert_int_equal(count_open_fds(), before);
	close(a);
	close(b);
	close(sv[0]);
	close(sv[1]);
}

/* A peer that never finishes is cut off at the deadline. */
static void test_slow_peer(void **unused)
{
	struct ocitap_process_state ps;
	int sv[2], fd = -1, pass = some_fd(), before;
	int64_t t0;

	make_pair(sv);
	before = count_open_fds();
	assert_int_equal(ocitap_scm_send(sv[0], PS_ONE, 30, &pass, 1, &err), 0);
	t0 = ocitap_now_ms();
	assert_int_equal(recv_ps(sv[1], NULL, 200, &ps, &fd), -ETIMEDOUT);
	assert_true(ocitap_now_ms() - t0 >= 190);
	assert_non_null(strstr(err.message, "within 200 ms (30 bytes received)"));
	assert_int_equal(count_open_fds(), before);
	close(pass);
	close(sv[0]);
	close(sv[1]);
}

/*
 * runc and crun keep the connection open after sending: the message ends
 * when one whole JSON value has arrived, without EOF. Braces and escaped
 * quotes inside strings must not fool the scanner.
 */
static void test_complete_without_eof(void **unused)
{
	static const char json[] = "  {\"fds\":[\"seccompFd\"],\"pid\":9,\"metadata\":\"x}]\\\"{[\","
				   "\"state\":{\"id\":\"c\",\"status\":\"creating\",\"annotations\":{\"k\":\"}\"}}}\n";
	struct ocitap_process_state ps;
	int sv[2], fd = -1, pass = some_fd();
	int64_t t0;

	make_pair(sv);
	/* in two parts: the first ends inside a string holding a closing brace */
	assert_int_equal(ocitap_scm_send(sv[0], json, 50, &pass, 1, &err), 0);
	assert_int_equal(ocitap_scm_send(sv[0], json + 50, sizeof(json) - 1 - 50, NULL, 0, &err), 0);
	t0 = ocitap_now_ms();
	assert_int_equal(recv_ps(sv[1], NULL, 5000, &ps, &fd), 0);
	assert_true(ocitap_now_ms() - t0 < 1000); /* did not wait for the deadline */
	assert_string_equal(ps.metadata, "x}]\"{[");
	assert_string_equal(ps.state.annotations[0].value, "}");
	assert_int_equal(inode_of(fd), inode_of(pass));
	ocitap_process_state_release(&ps);
	close(fd);
	close(pass);
	close(sv[0]); /* closed only now, after the receive */
	close(sv[1]);
}

/* Bytes that cannot start JSON are refused at once, not at the deadline. */
static void test_garbage_refused_at_once(void **unused)
{
	static const char *const garbage[] = { "GET / HTTP/1.1\r\n", "\"just a string\"", "}{" };

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		struct ocitap_process_state ps;
		int sv[2], fd = -1, pass = some_fd(), before;
		int64_t t0;

		make_pair(sv);
		before = count_open_fds();
		assert_int_equal(ocitap_scm_send(sv[0], garbage[i], strlen(garbage[i]), &pass, 1, &err), 0);
		t0 = ocitap_now_ms();
		assert_true(recv_ps(sv[1], NULL, 5000, &ps, &fd) < 0);
		assert_true(ocitap_now_ms() - t0 < 1000);
		assert_int_equal(count_open_fds(), before);
		close(pass);
		close(sv[0]);
		close(sv[1]);
	}
}

static void test_listen_connect(void **unused)
{
	char dir[] = "/tmp/ocitap-scm-XXXXXX", path[256], longpath[200];
	struct ocitap_process_state ps;
	int l, c, s, fd = -1, pass = some_fd();
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/l.sock", dir);
	l = ocitap_unix_listen(path, 0600, 8, &err);
	assert_true(l >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	c = ocitap_unix_connect(path, &err);
	assert_true(c >= 0);
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(s >= 0);
	assert_int_equal(ocitap_scm_send(c, PS_ONE, strlen(PS_ONE), &pass, 1, &err), 0);
	close(c);
	assert_int_equal(recv_ps(s, NULL, 1000, &ps, &fd), 0);
	assert_int_equal(inode_of(fd), inode_of(pass));
	ocitap_process_state_release(&ps);
	close(fd);
	close(s);
	close(l);
	/* a stale socket is replaced; anything else is not */
	l = ocitap_unix_listen(path, 0600, 8, &err);
	assert_true(l >= 0);
	close(l);
	unlink(path);
	close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	assert_int_equal(ocitap_unix_listen(path, 0600, 8, &err), -EEXIST);
	unlink(path);
	/* nobody listening */
	assert_int_equal(ocitap_unix_connect(path, &err), -ENOENT);
	assert_non_null(strstr(err.message, path));
	/* sun_path is 108 bytes */
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(ocitap_unix_connect(longpath, &err), -ENAMETOOLONG);
	assert_int_equal(ocitap_unix_listen(longpath, 0600, 8, &err), -ENAMETOOLONG);
	close(pass);
	rmdir(dir);
}

static void test_send_errors(void **unused)
{
	int sv[2], pass = some_fd();

	make_pair(sv);
	assert_int_equal(ocitap_scm_send(sv[0], "", 0, &pass, 1, &err), -EINVAL);
	close(sv[1]);
	assert_int_equal(ocitap_scm_send(sv[0], "x", 1, NULL, 0, &err), -EPIPE); /* no SIGPIPE */
	close(sv[0]);
	close(pass);
}

/* ---- one message with fds (ocitap_scm_recv_msg / ocitap_scm_send_msg) ---- */

static void make_seqpacket_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void test_msg_fds_arrive(void **unused)
{
	int sv[2], pass[3] = { some_fd(), some_fd(), some_fd() }, got[4], before;
	char buf[64];
	size_t n_fds = 99;

	make_seqpacket_pair(sv);
	before = count_open_fds();
	assert_int_equal(ocitap_scm_send_msg(sv[0], "KEEP a b", 8, pass, 3, &err), 0);
	assert_int_equal(ocitap_scm_recv_msg(sv[1], buf, sizeof(buf), got, 4, &n_fds, 0, &err), 8);
	assert_memory_equal(buf, "KEEP a b", 8);
	assert_int_equal(n_fds, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(inode_of(got[i]), inode_of(pass[i])); /* in order */
		assert_true(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
	}
	assert_int_equal(count_open_fds(), before + 3);
	for (size_t i = 0; i < 3; i++) {
		close(got[i]);
		close(pass[i]);
	}
	close(sv[0]);
	close(sv[1]);
}

static void test_msg_no_fds(void **unused)
{
	int sv[2], got[1] = { -7 }, before;
	char buf[16];
	size_t n_fds = 99;

	make_seqpacket_pair(sv);
	before = count_open_fds();
	assert_int_equal(ocitap_scm_send_msg(sv[0], "GIVE", 4, NULL, 0, &err), 0);
	assert_int_equal(ocitap_scm_recv_msg(sv[1], buf, sizeof(buf), got, 1, &n_fds, 0, &err), 4);
	assert_int_equal(n_fds, 0);
	assert_int_equal(got[0], -7); /* untouched */
	/* none allowed, none sent: fine too */
	assert_int_equal(ocitap_scm_send_msg(sv[0], "OK", 2, NULL, 0, &err), 0);
	assert_int_equal(ocitap_scm_recv_msg(sv[1], buf, sizeof(buf), NULL, 0, &n_fds, 0, &err), 2);
	assert_int_equal(count_open_fds(), before);
	/* nothing waiting */
	assert_int_equal(ocitap_scm_recv_msg(sv[1], buf, sizeof(buf), got, 1, &n_fds, OCITAP_SCM_NONBLOCK, &err),
			 -EAGAIN);
	/* the peer gone: 0 */
	close(sv[0]);
	assert_int_equal(ocitap_scm_recv_msg(sv[1], buf, sizeof(buf), got, 1, &n_fds, 0, &err), 0);
	close(sv[1]);
}

/* One over the limit: every fd closed, the error says how many came. */
static void test_msg_too_many_fds(void **unused)
{
	int sv[2], pass[3] = { some_fd(), some_fd(), some_fd() }, got[2], before;
	char buf[16];
	size_t n_fds = 99;

	make_seqpacket_pair(sv);
	before = count_open_fds();
	assert_int_equal(ocitap_scm_send_msg(sv[0], "x", 1, pass, 3, &err), 0);
	ocitap_error_clear(&err);
	assert_int_equal(ocitap_scm_recv_msg(sv[1], buf, sizeof(buf), got, 2, &n_fds, 0, &err), -EMSGSIZE);
	assert_int_equal(err.code, -EMSGSIZE);
	assert_string_equal(err.field, "fds");
	assert_non_null(strstr(err.message, "3 fds sent, more than the limit of 2"));
	assert_int_equal(n_fds, 0);
	assert_int_equal(count_open_fds(), before); /* none kept */
	/* the connection goes on */
	assert_int_equal(ocitap_scm_send_msg(sv[0], "y", 1, pass, 1, &err), 0);
	assert_int_equal(ocitap_scm_recv_msg(sv[1], buf, sizeof(buf), got, 2, &n_fds, 0, &err), 1);
	assert_int_equal(n_fds, 1);
	close(got[0]);
	for (size_t i = 0; i < 3; i++)
		close(pass[i]);
	close(sv[0]);
	close(sv[1]);
}

/* Far more fds than the control buffer holds: MSG_CTRUNC, named, none kept. */
static void test_msg_ctrunc(void **unused)
{
	int sv[2], pass[16], got[1], before;
	char buf[16];
	size_t n_fds = 99;

	for (size_t i = 0; i < 16; i++)
		pass[i] = some_fd();
	make_seqpacket_pair(sv);
	before = count_open_fds();
	assert_int_equal(ocitap_scm_send_msg(sv[0], "x", 1, pass, 16, &err), 0);
	ocitap_error_clear(&err);
	assert_int_equal(ocitap_scm_recv_msg(sv[1], buf, sizeof(buf), got, 1, &n_fds, 0, &err), -EMSGSIZE);
	assert_non_null(strstr(err.message, "MSG_CTRUNC"));
	assert_int_equal(n_fds, 0);
	assert_int_equal(count_open_fds(), before);
	for (size_t i = 0; i < 16; i++)
		close(pass[i]);
	close(sv[0]);
	close(sv[1]);
}

/* A message longer than the buffer: MSG_TRUNC, named, its fd closed. */
static void test_msg_truncated(void **unused)
{
	int sv[2], pass = some_fd(), got[1], before;
	char buf[4];
	size_t n_fds = 99;

	make_seqpacket_pair(sv);
	before = count_open_fds();
	assert_int_equal(ocitap_scm_send_msg(sv[0], "KEEP a b", 8, &pass, 1, &err), 0);
	ocitap_error_clear(&err);
	assert_int_equal(ocitap_scm_recv_msg(sv[1], buf, sizeof(buf), got, 1, &n_fds, 0, &err), -EMSGSIZE);
	assert_non_null(strstr(err.message, "MSG_TRUNC"));
	assert_non_null(strstr(err.message, "4 bytes"));
	assert_int_equal(n_fds, 0);
	assert_int_equal(count_open_fds(), before);
	close(pass);
	close(sv[0]);
	close(sv[1]);
}

static void test_msg_send_errors(void **unused)
{
	int sv[2], pass = some_fd(), many[OCITAP_SCM_MAX_FDS + 1];

	make_seqpacket_pair(sv);
	assert_int_equal(ocitap_scm_send_msg(sv[0], "", 0, &pass, 1, &err), -EINVAL);
	for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		many[i] = pass;
	assert_int_equal(ocitap_scm_send_msg(sv[0], "x", 1, many, sizeof(many) / sizeof(many[0]), &err), -EINVAL);
	close(sv[1]);
	assert_int_equal(ocitap_scm_send_msg(sv[0], "x", 1, NULL, 0, &err), -EPIPE); /* no SIGPIPE */
	close(sv[0]);
	close(pass);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_message),
		cmocka_unit_test(test_split_message),
		cmocka_unit_test(test_reader_incremental),
		cmocka_unit_test(test_two_fds),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_fds_across_messages),
		cmocka_unit_test(test_slow_peer),
		cmocka_unit_test(test_complete_without_eof),
		cmocka_unit_test(test_garbage_refused_at_once),
		cmocka_unit_test(test_listen_connect),
		cmocka_unit_test(test_send_errors),
		cmocka_unit_test(test_msg_fds_arrive),
		cmocka_unit_test(test_msg_no_fds),
		cmocka_unit_test(test_msg_too_many_fds),
		cmocka_unit_test(test_msg_ctrunc),
		cmocka_unit_test(test_msg_truncated),
		cmocka_unit_test(test_msg_send_errors),
	};

	return cmocka_run_group_tests_name("scm", tests, NULL, NULL);
}
