/*
 * scale-client.c: the scale benchmark's load. Without full containers, makes
 * N processes each with its own seccomp notify filter (getpgid notified),
 * registers each with ocitapd as a container ("scale-<run>-<i>", the
 * listener protocol a runtime uses), has each make one notified call, and
 * measures ocitapd's RSS:
 *   live:    all N processes alive and registered at once;
 *   stopped: N more, at most 8 alive at a time, so what stays is what a
 *            stopped, retained container costs.
 * Usage: scale-client SOCKET DAEMON_PID N
 * Prints: live_kib_per_container=... stopped_kib_per_container=...
 *
 * Second use, to fill a store with retained runs (make bench BENCH=scale10k):
 *   scale-client runs SOCKET PREFIX FIRST N [WORKERS]
 * makes runs FIRST..FIRST+N-1, each a container id of 64 characters (PREFIX,
 * then the run's number in hex) with a podman-like bundle path and
 * annotations, through three real hook reports on the socket, as
 * ocitap-hook sends them (createRuntime, poststart, poststop: a stopped,
 * retained run of six events). WORKERS processes (default 4) send side by
 * side, one report at a time each, each waiting for ocitapd's "ok".
 * Prints: runs=... reports=... refused=... seconds=... reports_per_second=...
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ocitap.h"

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Child: filter, register, one notified call, tell the parent, wait. */
static void child(const char *sock, const char *id, int ready_fd, int go_fd)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	struct ocitap_error err;
	char json[512];
	int lfd, s;
	char c = 'r';

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	lfd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (lfd < 0)
		_exit(10);
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":\"policy=audit\","
		 "\"state\":{\"ociVersion\":\"1.0.2\",\"id\":\"%s\",\"status\":\"creating\",\"pid\":%d,\"bundle\":\"/b\"}}",
		 getpid(), id, getpid());
	s = ocitap_unix_connect(sock, &err);
	if (s < 0 || ocitap_scm_send(s, json, strlen(json), &lfd, 1, &err) < 0)
		_exit(11);
	close(s);
	close(lfd);
	if (syscall(SYS_getpgid, 0) < 0) /* answered by ocitapd (continue) */
		_exit(12);
	if (write(ready_fd, &c, 1) != 1)
		_exit(13);
	if (go_fd >= 0 && read(go_fd, &c, 1) < 0)
		_exit(14);
	_exit(0);
}

static int pipes[4]; /* ready[0], ready[1], go[0], go[1] */

static int spawn(const char *sock, const char *id, int ready_fd, int go_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* only the ends this child uses: a held go[1] would keep "exit" from ever coming */
		close(pipes[0]);
		close(pipes[3]);
		child(sock, id, ready_fd, go_fd);
	}
	return pid;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One hook report on its own connection; 0 once ocitapd said "ok". */
static int send_report(const char *sock, const char *json)
{
	struct ocitap_error err;
	char answer[256];
	size_t got = 0;
	ssize_t n;
	int s = ocitap_unix_connect(sock, &err);

	if (s < 0)
		return -1;
	if (send(s, json, strlen(json), MSG_NOSIGNAL) != (ssize_t)strlen(json)) {
		close(s);
		return -1;
	}
	shutdown(s, SHUT_WR);
	while (got < sizeof(answer) - 1 && (n = read(s, answer + got, sizeof(answer) - 1 - got)) > 0) {
		got += (size_t)n;
		if (memchr(answer, '\n', got))
			break;
	}
	close(s);
	answer[got] = '\0';
	return strcmp(answer, "ok\n") == 0 ? 0 : -1;
}

/* A worker's share of the runs: every run whose number is w modulo workers.
 * Exits with how many reports were refused (at most 255). */
static void fill_worker(const char *sock, const char *prefix, long first, long n, int w, int workers)
{
	static const char *const stages[][2] = {
		{ "createRuntime", "creating" },
		{ "poststart", "running" },
		{ "poststop", "stopped" },
	};
	int refused = 0;

	for (long i = first + w; i < first + n; i += workers) {
		char id[65], json[1024];

		snprintf(id, sizeof(id), "%s%0*lx", prefix, (int)(64 - strlen(prefix)), i);
		for (size_t k = 0; k < sizeof(stages) / sizeof(stages[0]); k++) {
			snprintf(json, sizeof(json),
				 "{\"ocitapReport\":1,\"stage\":\"%s\",\"hookPid\":%d,\"monoNs\":%lld,\"wallNs\":%lld,"
				 "\"state\":{\"ociVersion\":\"1.0.2\",\"id\":\"%s\",\"status\":\"%s\",\"pid\":0,"
				 "\"bundle\":\"/var/lib/containers/storage/overlay-containers/%s/userdata\","
				 "\"annotations\":{\"io.container.manager\":\"libpod\","
				 "\"org.opencontainers.image.stopSignal\":\"15\",\"app\":\"bench\"}}}",
				 stages[k][0], getpid(), (long long)clock_ns(CLOCK_MONOTONIC),
				 (long long)clock_ns(CLOCK_REALTIME), id, stages[k][1], id);
			if (send_report(sock, json) < 0 && refused < 255)
				refused++;
		}
	}
	_exit(refused);
}

static int fill_runs(int argc, char **argv)
{
	const char *sock = argv[2], *prefix = argv[3];
	long first = strtol(argv[4], NULL, 10), n = strtol(argv[5], NULL, 10);
	int workers = argc > 6 ? atoi(argv[6]) : 4, refused = 0, st;
	int64_t start = clock_ns(CLOCK_MONOTONIC);
	double s;

	if (strlen(prefix) > 40 || first < 0 || n <= 0 || workers <= 0 || workers > 64) {
		fprintf(stderr, "scale-client runs: expected a PREFIX of at most 40 characters, FIRST >= 0, N > 0 "
				"and 1 to 64 WORKERS\n");
		return 2;
	}
	for (int w = 0; w < workers; w++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0)
			fill_worker(sock, prefix, first, n, w, workers);
	}
	while (wait(&st) > 0)
		refused += WIFEXITED(st) ? WEXITSTATUS(st) : 255;
	s = (double)(clock_ns(CLOCK_MONOTONIC) - start) / 1e9;
	printf("runs=%ld reports=%ld refused=%d seconds=%.2f reports_per_second=%.0f\n", n, 3 * n, refused, s,
	       3 * n / s);
	return refused ? 1 : 0;
}

int main(int argc, char **argv)
{
	int ready[2], go[2], n, failed = 0;
	pid_t daemon;
	long base, stopped, live;
	char id[64], c;

	if (argc >= 6 && strcmp(argv[1], "runs") == 0)
		return fill_runs(argc, argv);

	if (argc != 4) {
		fprintf(stderr, "usage: scale-client SOCKET DAEMON_PID N\n"
				"       scale-client runs SOCKET PREFIX FIRST N [WORKERS]\n");
		return 2;
	}
	daemon = atoi(argv[2]);
	n = atoi(argv[3]);
	if (pipe(ready) < 0 || pipe(go) < 0)
		return 1;
	pipes[0] = ready[0];
	pipes[1] = ready[1];
	pipes[2] = go[0];
	pipes[3] = go[1];
	base = rss_kib(daemon);

	/* stopped first: n containers, at most 8 alive at a time */
	for (int i = 0; i < n; i++) {
		int st;

		snprintf(id, sizeof(id), "scale-stopped-%d", i);
		if (spawn(argv[1], id, ready[1], -1) < 0)
			return 1;
		if (read(ready[0], &c, 1) != 1)
			return 1;
		if (i >= 8 && wait(&st) > 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
			failed++;
	}
	while (wait(NULL) > 0)
		;
	sleep(2);
	stopped = rss_kib(daemon);

	/* then n live at once, on top */
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "scale-live-%d", i);
		if (spawn(argv[1], id, ready[1], go[0]) < 0)
			return 1;
	}
	for (int i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			return 1;
	usleep(500000);
	live = rss_kib(daemon);
	close(go[1]);
	for (int i = 0; i < n; i++) {
		int st;

		if (wait(&st) > 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
			failed++;
	}
	printf("containers=%d+%d failed=%d daemon_rss_kib=%ld..%ld..%ld stopped_kib_per_container=%.2f "
	       "live_kib_per_container=%.2f\n",
	       n, n, failed, base, stopped, live, (double)(stopped - base) / n, (double)(live - stopped) / n);
	return failed ? 1 : 0;
}
