/*
 * peer-tool.c: a peer of ocitapd's and ocitap-fdkeeper's sockets from
 * inside a container (static: a busybox rootfs has no socat, no jq), for
 * tests/integration/container-peers.sh.
 *
 *   peer-tool keeper-give SOCKET          ask the keeper for every fd it holds;
 *                                         prints "got N fds" or "refused: ..."; exit 0 if any came
 *   peer-tool report SOCKET STAGE ID STATUS [PID]
 *                                         send a hook report, print the answer; exit 0 on "ok"
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_to(const char *path, int type)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		printf("refused: cannot connect to %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static int keeper_give(const char *path)
{
	int fd = connect_to(path, SOCK_SEQPACKET), got = 0;
	char buf[700];

	if (send(fd, "GIVE", 4, MSG_NOSIGNAL) < 0) {
		printf("refused: %s\n", strerror(errno));
		return 1;
	}
	for (;;) {
		char ctl[CMSG_SPACE(sizeof(int) * 4)];
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(fd, &mh, 0);

		if (n <= 0) {
			printf("refused: the keeper closed the connection (%s)\n", n < 0 ? strerror(errno) : "eof");
			return got ? 0 : 1;
		}
		buf[n] = '\0';
		if (CMSG_FIRSTHDR(&mh))
			got++;
		if (strncmp(buf, "END", 3) == 0)
			break;
	}
	printf("got %d fds\n", got);
	return got ? 0 : 1;
}

static int report(const char *path, const char *stage, const char *id, const char *status, const char *pid)
{
	int fd = connect_to(path, SOCK_STREAM);
	char msg[1024], answer[600];
	ssize_t n;
	int len = snprintf(msg, sizeof(msg),
			   "{\"ocitapReport\":1,\"stage\":\"%s\",\"state\":{\"ociVersion\":\"1.0.2\",\"id\":\"%s\","
			   "\"status\":\"%s\",\"pid\":%s,\"bundle\":\"/forged\"}}",
			   stage, id, status, pid ? pid : "0");

	if (send(fd, msg, (size_t)len, MSG_NOSIGNAL) < 0) {
		printf("refused: %s\n", strerror(errno));
		return 1;
	}
	shutdown(fd, SHUT_WR);
	n = read(fd, answer, sizeof(answer) - 1);
	answer[n > 0 ? n : 0] = '\0';
	if (n > 0 && answer[n - 1] == '\n')
		answer[n - 1] = '\0';
	printf("%s %s: %s\n", stage, id, n > 0 ? answer : "(closed)");
	return strcmp(answer, "ok") == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "keeper-give") == 0)
		return keeper_give(argv[2]);
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "report") == 0)
		return report(argv[2], argv[3], argv[4], argv[5], argc == 7 ? argv[6] : NULL);
	fprintf(stderr, "usage: peer-tool keeper-give SOCKET | report SOCKET STAGE ID STATUS [PID]\n");
	return 2;
}
