/*
 * keeper-test.c: drives ocitap-fdkeeper with a real seccomp notify fd.
 *
 * A child installs a filter that notifies on getppid() and hands its
 * listener to us; we give it to the keeper and close our copy, so the
 * keeper holds the only one (as when ocitapd has died). The child's
 * getppid() must then wait, not fail with ENOSYS; we take the fd back with
 * GIVE (as a restarted ocitapd would), answer the queued notification with
 * a value the child checks, and see the keeper drop its copy by itself
 * once the child has exited. Also the keeper's refusals: a fd that is not
 * a notify fd, two fds, garbage.
 *
 * usage: keeper-test SOCKET ; prints TAP lines, exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keeper.h"
#include "ocitap.h"

static int n_test;

static void tap(int ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n_test, what);
	fflush(stdout);
}

static int connect_keeper(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return fd;
}

/* Send a line (with fds), read one answer; its fd (if any) in *ret_fd. */
static int ask(int sock, const char *line, const int *fds, size_t n_fds, struct ocitap_keeper_msg *ret, int *ret_fd)
{
	char buf[OCITAP_KEEPER_MSG_MAX + 1];
	int fd = -1;
	size_t got = 0;
	ssize_t n;

	if (line && ocitap_scm_send_msg(sock, line, strlen(line), fds, n_fds, NULL) < 0)
		return -1;
	n = ocitap_scm_recv_msg(sock, buf, sizeof(buf), &fd, 1, &got, 0, NULL);
	if (n <= 0)
		return -1;
	if (ret_fd)
		*ret_fd = got ? fd : -1;
	else if (got)
		close(fd);
	return ocitap_keeper_parse(buf, (size_t)n, ret, NULL);
}

/* In the child: a filter notifying on getppid, its listener sent on sock. */
static void child(int sock)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	char go;
	long r;
	int fd;

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	fd = (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		_exit(90);
	if (ocitap_scm_send(sock, "L", 1, &fd, 1, NULL) < 0)
		_exit(91);
	close(fd);
	if (read(sock, &go, 1) != 1) /* the parent has given the fd to the keeper */
		_exit(92);
	errno = 0;
	r = syscall(__NR_getppid);
	_exit(r == 4242 ? 0 : errno == ENOSYS ? 93 : 94);
}

int main(int argc, char **argv)
{
	struct ocitap_keeper_msg m;
	int pair[2], k, notify = -1, back = -1, status, devnull, two[2], six[6];
	pid_t pid;
	char c;

	if (argc != 2) {
		fprintf(stderr, "usage: keeper-test SOCKET\n");
		return 2;
	}
	k = connect_keeper(argv[1]);
	tap(k >= 0, "connect to the keeper");
	if (k < 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		close(pair[0]);
		child(pair[1]);
	}
	close(pair[1]);
	{
		char buf[8];
		union {
			struct cmsghdr h;
			char space[CMSG_SPACE(sizeof(int))];
		} ctl;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl)
		};

		if (recvmsg(pair[0], &mh, MSG_CMSG_CLOEXEC) > 0 && CMSG_FIRSTHDR(&mh))
			memcpy(&notify, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	}
	tap(notify >= 0, "a real seccomp notify fd from a child");

	tap(ask(k, "KEEP fd-1 ctr-a", &notify, 1, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_OK,
	    "KEEP: the keeper holds it");
	close(notify); /* from here the keeper holds the only copy, as after ocitapd died */
	if (write(pair[0], "g", 1) != 1)
		return 1;
	usleep(300 * 1000);
	tap(waitpid(pid, &status, WNOHANG) == 0,
	    "the child's notified syscall waits (no ENOSYS) while only the keeper holds the fd");

	tap(ask(k, "GIVE", NULL, 0, &m, &back) == 0 && m.verb == OCITAP_KEEPER_FD && strcmp(m.key, "fd-1") == 0 &&
		    strcmp(m.id, "ctr-a") == 0 && back >= 0,
	    "GIVE: the fd comes back with its key and container id");
	tap(ask(k, NULL, NULL, 0, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_END && m.count == 1,
	    "GIVE ends with END 1");
	{
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;
		struct pollfd p = { back, POLLIN, 0 };

		memset(&req, 0, sizeof(req));
		tap(poll(&p, 1, 5000) == 1 && ioctl(back, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0 && (pid_t)req.pid == pid,
		    "the notification that queued meanwhile is received on the fd taken back");
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.val = 4242;
		ioctl(back, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
	tap(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the child got the answer (getppid() == 4242), never ENOSYS");
	close(back);
	for (int i = 0; i < 50; i++) { /* the keeper drops its copy when the filter hangs up */
		if (ask(k, "GIVE", NULL, 0, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_END && m.count == 0)
			break;
		if (m.verb == OCITAP_KEEPER_FD)
			ask(k, NULL, NULL, 0, &m, NULL); /* its END */
		usleep(100 * 1000);
	}
	tap(m.verb == OCITAP_KEEPER_END && m.count == 0,
	    "once the child exited, the keeper dropped its copy by itself");

	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	tap(ask(k, "KEEP fd-2 ctr-b", &devnull, 1, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_ERR &&
		    strstr(m.reason, "not a seccomp notify fd"),
	    "KEEP of /dev/null: refused, says why");
	tap(ask(k, "KEEP pid.1.1 ctr-b", &devnull, 1, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_ERR &&
		    strstr(m.reason, "not a pidfd"),
	    "KEEP of /dev/null as an init's pidfd: refused");
	tap(ask(k, "KEEP listen.1 ctr-b", &devnull, 1, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_ERR &&
		    strstr(m.reason, "not a listening unix socket"),
	    "KEEP of /dev/null as a listening socket: refused");
	tap(ask(k, "KEEP conn.1 p1u0", &devnull, 1, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_ERR &&
		    strstr(m.reason, "the keeper's own"),
	    "KEEP under a conn. key: refused (the keeper's own)");
	{
		int pfd = (int)syscall(SYS_pidfd_open, getpid(), 0);

		tap(pfd >= 0 && ask(k, "KEEP pid.7.1 ctr-p", &pfd, 1, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_OK &&
			    ask(k, "GET pid.7.1", NULL, 0, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_FD &&
			    strcmp(m.id, "ctr-p") == 0 && ask(k, "DROP pid.7.1", NULL, 0, &m, NULL) == 0 &&
			    m.verb == OCITAP_KEEPER_OK,
		    "a pidfd is held, handed back by GET, and dropped");
		if (pfd >= 0)
			close(pfd);
	}
	tap(ask(k, "KEEP wait.1.1 p1u0", &devnull, 1, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_ERR &&
		    strstr(m.reason, "not a connected unix stream socket"),
	    "KEEP of /dev/null as a connection not read yet: refused");
	{
		int sp[2];
		char buf[8] = "";
		int got = -1;

		/* what the peer sent before the daemon read anything reaches the
		 * next daemon through GIVE, and the keeper holds it no longer */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0) {
			bool kept = ask(k, "KEEP wait.1.2 p1u0", &sp[0], 1, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_OK;

			close(sp[0]);
			if (write(sp[1], "hi", 2) == 2) {
				int k2 = connect_keeper(argv[1]);

				/* GIVE: it comes among every fd held (the notify fds are gone) */
				ask(k2, "GIVE", NULL, 0, &m, &got);
				while (m.verb == OCITAP_KEEPER_FD && strncmp(m.key, "wait.", 5) != 0) {
					if (got >= 0)
						close(got);
					got = -1;
					ask(k2, NULL, NULL, 0, &m, &got);
				}
				tap(kept && m.verb == OCITAP_KEEPER_FD && strcmp(m.key, "wait.1.2") == 0 &&
					    strcmp(m.id, "p1u0") == 0 && got >= 0 && read(got, buf, sizeof(buf)) == 2 &&
					    memcmp(buf, "hi", 2) == 0,
				    "a connection not read yet is held, and handed back by GIVE with what was sent");
				while (m.verb == OCITAP_KEEPER_FD)
					ask(k2, NULL, NULL, 0, &m, NULL);
				ask(k2, "GIVE", NULL, 0, &m, NULL);
				while (m.verb == OCITAP_KEEPER_FD)
					ask(k2, NULL, NULL, 0, &m, NULL);
				tap(m.verb == OCITAP_KEEPER_END && m.count == 0, "... once: a second GIVE has it no more");
				close(k2);
			}
			if (got >= 0)
				close(got);
			close(sp[1]);
		}
	}
	two[0] = two[1] = devnull;
	tap(ask(k, "KEEP fd-3 ctr-b", two, 2, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_ERR &&
		    strstr(m.reason, "exactly one"),
	    "KEEP with two fds: refused");
	for (size_t i = 0; i < sizeof(six) / sizeof(six[0]); i++)
		six[i] = devnull;
	tap(ask(k, "KEEP fd-4 ctr-b", six, 6, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_ERR &&
		    strstr(m.reason, "more than the limit of 4"),
	    "KEEP with six fds: refused, says how many");
	tap(ask(k, "HOWDY there", NULL, 0, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_ERR &&
		    strstr(m.reason, "unknown command"),
	    "garbage: refused, the connection stays");
	tap(ask(k, "DROP nope", NULL, 0, &m, NULL) == 0 && m.verb == OCITAP_KEEPER_ERR,
	    "DROP of an unknown key: refused");
	(void)c;
	close(devnull);
	close(k);

	return 0;
}
