/*
 * min-agent.c: the baseline of the notification round-trip benchmark: the
 * least a seccomp agent can do. Accepts one connection on a unix socket,
 * takes the notify fd from the first SCM_RIGHTS message (no JSON parsing,
 * no validation), turns on synchronous wake-up when the kernel has it (as
 * ocitapd does), then receives and answers (continue, or --errno N) until the
 * fd hangs up. Nothing is recorded.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct seccomp_notif_sizes sizes;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} control;
	char data[65536];
	int l, c, fd = -1, deny = argc > 3 && strcmp(argv[2], "--errno") == 0 ? atoi(argv[3]) : 0;

	if (argc < 2) {
		fprintf(stderr, "usage: min-agent SOCKET [--errno N]\n");
		return 2;
	}
	syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes);
	req = calloc(1, sizes.seccomp_notif + 64);
	resp = calloc(1, sizes.seccomp_notif_resp + 64);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 4) < 0) {
		perror("min-agent");
		return 1;
	}
	c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	{
		struct iovec iov = { data, sizeof(data) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
				      .msg_controllen = sizeof(control.buf) };

		if (recvmsg(c, &msg, MSG_CMSG_CLOEXEC) > 0 && CMSG_FIRSTHDR(&msg))
			memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	}
	close(c);
	if (fd < 0) {
		fprintf(stderr, "min-agent: no fd received\n");
		return 1;
	}
	ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, 1UL); /* sync wake-up where the kernel has it */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		if (p.revents & POLLIN) {
			memset(req, 0, sizes.seccomp_notif);
			if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) == 0) {
				memset(resp, 0, sizes.seccomp_notif_resp);
				resp->id = req->id;
				if (deny)
					resp->error = -deny;
				else
					resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
				ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
			}
		} else if (p.revents & (POLLHUP | POLLERR)) {
			break;
		}
	}
	return 0;
}
