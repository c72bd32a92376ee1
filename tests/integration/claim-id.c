/*
 * claim-id.c: a root peer that lies about which container it is. A child
 * installs its own seccomp filter (notify on getppid) and hands its
 * listener to us; we send ocitapd a listener message for container ID,
 * with that fd and "policy=POLICY", as if it were an exec of ID. The child
 * lives SECONDS (so the fd stays live), then exits.
 *
 * usage: claim-id SOCKET ID POLICY STATUS SECONDS ; exit 0 once the message is sent.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int send_fd(int sock, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl) };

	memset(&ctl, 0, sizeof(ctl));
	ctl.h.cmsg_level = SOL_SOCKET;
	ctl.h.cmsg_type = SCM_RIGHTS;
	ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&ctl.h), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int recv_fd(int sock)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	char c;
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
	int fd = -1;

	if (recvmsg(sock, &mh, 0) <= 0 || !CMSG_FIRSTHDR(&mh))
		return -1;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	return fd;
}

int main(int argc, char **argv)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char msg[1024];
	int pair[2], fd, sock, n;
	pid_t child;

	if (argc != 6) {
		fprintf(stderr, "usage: claim-id SOCKET ID POLICY STATUS SECONDS\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
		return 1;
	child = fork();
	if (child == 0) {
		close(pair[0]);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		fd = (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
		if (fd < 0 || send_fd(pair[1], "L", 1, fd) < 0)
			_exit(90);
		close(fd);
		sleep((unsigned)atoi(argv[5]));
		_exit(0);
	}
	close(pair[1]);
	fd = recv_fd(pair[0]);
	if (fd < 0) {
		fprintf(stderr, "claim-id: no listener from the child\n");
		return 1;
	}
	n = snprintf(msg, sizeof(msg),
		     "{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":\"policy=%s\","
		     "\"state\":{\"ociVersion\":\"1.0.2\",\"id\":\"%s\",\"status\":\"%s\",\"pid\":%d,"
		     "\"bundle\":\"/forged\",\"annotations\":{\"forged\":\"yes\"}}}",
		     (int)child, argv[3], argv[2], argv[4], (int)child);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", argv[1]);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0 || send_fd(sock, msg, (size_t)n, fd) < 0) {
		fprintf(stderr, "claim-id: cannot send to %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	shutdown(sock, SHUT_WR);
	{
		char buf[256];

		while (read(sock, buf, sizeof(buf)) > 0)
			;
	}
	close(sock);
	return 0;
}
