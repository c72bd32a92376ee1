/*
 * test-receiver.c: a small seccomp agent for the integration tests, built on
 * libocitap's scm module. It listens on a unix socket (the bundle's
 * listenerPath), receives each ContainerProcessState with its seccompFd,
 * writes the normalized JSON to OUT/listener-N.json, then answers every
 * notification on every fd it holds: with an errno (--errno) or by letting
 * the syscall run (--continue). Each notification is logged to
 * OUT/notifications.log as "pid=P syscall=NAME". It exits on SIGTERM/SIGINT,
 * or after --count connections once all their fds have hung up.
 *
 * Not the daemon: just enough of an agent to prove the core gets a working
 * notify fd from real runtimes.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ocitap-private.h"

#define MAX_FDS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int write_text(const char *path, const char *text)
{
	struct ocitap_error err;

	return ocitap_write_file_atomic(path, text, strlen(text), 0644, &err);
}

int main(int argc, char **argv)
{
	const char *sock_path = NULL, *out = NULL;
	int deny_errno = EXDEV, count = 0, handled = 0, listen_fd;
	bool cont = false;
	struct pollfd fds[MAX_FDS + 1];
	int nfds = 0;
	struct seccomp_notif_sizes sizes;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	FILE *log;
	char path[4096];
	int c;

	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' }, { "out", required_argument, NULL, 'o' },
		{ "errno", required_argument, NULL, 'e' },  { "continue", no_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },  { 0 },
	};
	while ((c = getopt_long(argc, argv, "s:o:e:cn:", options, NULL)) != -1) {
		switch (c) {
		case 's':
			sock_path = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'e':
			deny_errno = atoi(optarg);
			break;
		case 'c':
			cont = true;
			break;
		case 'n':
			count = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s --socket PATH --out DIR [--errno N | --continue] [--count N]\n",
				argv[0]);
			return 2;
		}
	}
	if (!sock_path || !out) {
		fprintf(stderr, "test-receiver: --socket and --out are required\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	/* the kernel's structs may be larger than this program's headers know */
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
		perror("test-receiver: SECCOMP_GET_NOTIF_SIZES");
		return 1;
	}
	req = calloc(1, sizes.seccomp_notif > sizeof(*req) ? sizes.seccomp_notif : sizeof(*req));
	resp = calloc(1, sizes.seccomp_notif_resp > sizeof(*resp) ? sizes.seccomp_notif_resp : sizeof(*resp));
	snprintf(path, sizeof(path), "%s/notifications.log", out);
	log = fopen(path, "ae");
	if (!req || !resp || !log) {
		perror("test-receiver");
		return 1;
	}
	setvbuf(log, NULL, _IOLBF, 0);

	{
		struct ocitap_error err;

		listen_fd = ocitap_unix_listen(sock_path, 0600, 16, &err);
		if (listen_fd < 0) {
			fprintf(stderr, "test-receiver: %s\n", err.message);
			return 1;
		}
	}
	fds[nfds++] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
	snprintf(path, sizeof(path), "%s/ready", out);
	write_text(path, "ready\n");

	while (!stop) {
		int r = poll(fds, (nfds_t)nfds, 200);

		if (r < 0 && errno != EINTR)
			break;
		if (count > 0 && handled >= count && nfds == 1)
			break;
		if (r <= 0)
			continue;
		if (fds[0].revents & POLLIN) {
			int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (conn >= 0) {
				struct ocitap_process_state ps;
				struct ocitap_error err;
				char *json = NULL;
				int sfd;

				if (ocitap_scm_recv_process_state(conn, 0, NULL, 5000, &ps, &sfd, &err) < 0) {
					fprintf(log, "refused: %s: %s\n", err.field, err.message);
				} else {
					ocitap_process_state_to_json(&ps, OCITAP_JSON_PRETTY, &json, &err);
					snprintf(path, sizeof(path), "%s/listener-%d.json", out, handled);
					write_text(path, json ? json : "");
					fprintf(log, "connection id=%s pid=%d fd-ok\n", ps.state.id, ps.pid);
					free(json);
					ocitap_process_state_release(&ps);
					if (nfds <= MAX_FDS)
						fds[nfds++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
					else
						close(sfd);
				}
				handled++;
				close(conn);
			}
		}
		for (int i = 1; i < nfds; i++) {
			if (fds[i].revents & POLLIN) {
				memset(req, 0, sizes.seccomp_notif);
				if (ioctl(fds[i].fd, SECCOMP_IOCTL_NOTIF_RECV, req) == 0) {
					char *name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);

					memset(resp, 0, sizes.seccomp_notif_resp);
					resp->id = req->id;
					if (cont)
						resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
					else
						resp->error = -deny_errno;
					fprintf(log, "pid=%u syscall=%s answer=%s\n", req->pid, name ? name : "?",
						cont ? "continue" : "errno");
					free(name);
					if (ioctl(fds[i].fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0)
						fprintf(log, "send failed: %s\n", strerror(errno));
					continue;
				}
			}
			if (fds[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
				fprintf(log, "hangup fd=%d\n", fds[i].fd);
				close(fds[i].fd);
				fds[i] = fds[--nfds];
				i--;
			}
		}
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i].fd);
	unlink(sock_path);
	fclose(log);
	free(req);
	free(resp);
	return 0;
}
