/*
 * upgrade.c: replacing a running daemon without refusing a connection.
 * `ocitapd --replace` (or SIGUSR2) makes the daemon start the binary now
 * at its path with the listening socket inherited (OCITAP_LISTEN_FD); the
 * successor stops its predecessor (OCITAP_REPLACE_PID), waits for it, and
 * serves. ocitapd.pid and ocitapd.replace next to the socket tell
 * --replace how it went.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http-addr.h"
#include "loop.h"
#include "handover.h"
#include "upgrade.h"

static void successor_exited(struct ocitapd *d, struct watch *w, uint32_t events)
{
	int status = 0;

	waitpid(d->successor, &status, WNOHANG);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->successor_pidfd, NULL);
	close(d->successor_pidfd);
	d->successor_pidfd = -1;
	{
		char why[256], path[PATH_MAX];
		size_t len;
		struct ocitap_error err = { 0 };

		if (WIFEXITED(status))
			snprintf(why, sizeof(why), "the replacement (pid %d) exited with status %d before taking over",
				 (int)d->successor, WEXITSTATUS(status));
		else
			snprintf(why, sizeof(why), "the replacement (pid %d) died (%s) before taking over",
				 (int)d->successor, strsignal(WTERMSIG(status)));
		log_msg(LOG_ERR, "SIGUSR2: %s; still serving", why);
		/* for `ocitapd --replace`, which waits */
		options_run_file(&d->opt, "ocitapd.replace", path, sizeof(path));
		len = strlen(why);
		why[len < sizeof(why) - 1 ? len++ : len - 1] = '\n';
		ocitap_write_file_atomic(path, why, len, 0644, &err);
	}
}

/*
 * Start the successor with the listening socket (so that no connection is
 * refused meanwhile) and OCITAP_REPLACE_PID: once it has loaded its
 * configuration it stops us (SIGTERM), waits for us to exit, and takes the
 * store, the keeper's fds and the HTTP address. If it fails before, we go
 * on serving (successor_exited()).
 */
void upgrade_start_successor(struct ocitapd *d)
{
	char fdbuf[32], pidbuf[32];
	pid_t pid;
	int pidfd;

	if (d->successor_pidfd >= 0) {
		log_msg(LOG_WARN, "SIGUSR2: a replacement (pid %d) is already starting", (int)d->successor);
		return;
	}
	if (!d->self_path[0]) {
		log_msg(LOG_ERR, "SIGUSR2: our binary's path is unknown; cannot replace ourselves");
		return;
	}
	snprintf(fdbuf, sizeof(fdbuf), "%d", d->listen_fd);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "SIGUSR2: fork: %m");
		return;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		fcntl(d->listen_fd, F_SETFD, 0); /* the one fd it inherits */
		setenv("OCITAP_LISTEN_FD", fdbuf, 1);
		setenv("OCITAP_REPLACE_PID", pidbuf, 1);
		execv(d->self_path, d->argv);
		fprintf(stderr, "ocitapd: SIGUSR2: cannot run %s: %s\n", d->self_path, strerror(errno));
		_exit(127);
	}
	pidfd = ocitap_pidfd_open(pid);
	if (pidfd < 0 || loop_add(d, pidfd, &d->successor_w, successor_exited) < 0) {
		log_msg(LOG_ERR, "SIGUSR2: cannot watch the replacement (pid %d): %m", (int)pid);
		if (pidfd >= 0)
			close(pidfd);
		return;
	}
	d->successor_pidfd = pidfd;
	d->successor = pid;
	log_msg(LOG_INFO, "SIGUSR2: starting %s (pid %d) to take over", d->self_path, (int)pid);
}

static pid_t read_pid_file(const char *path)
{
	char *text = NULL, *nl;
	size_t n;
	int64_t v = 0;

	/* never through a link, never a FIFO: the directory is the daemon's,
	 * but the pid file decides whom --replace signals */
	if (ocitap_read_regular_file(path, 64, OCITAP_READ_NOFOLLOW, &text, &n, NULL) < 0)
		return 0;
	if ((nl = strchr(text, '\n')))
		*nl = '\0';
	if (ocitap_parse_int64(text, 1, INT32_MAX, &v) < 0)
		v = 0;
	free(text);
	return (pid_t)v;
}

/* Wait (bounded) for the process behind pidfd to exit; true if it did. */
static bool wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int64_t until = ocitap_now_ms() + timeout_ms;
	int r;

	do
		r = poll(&p, 1, (int)(until - ocitap_now_ms() > 0 ? until - ocitap_now_ms() : 0));
	while (r < 0 && errno == EINTR);
	return r > 0;
}

/*
 * Started by SIGUSR2 (OCITAP_REPLACE_PID): our configuration is loaded, so
 * stop the daemon we replace and wait for it to be gone (it answers what
 * is pending and writes its last records) before the store is opened.
 */
int upgrade_take_over(struct ocitapd *d, const char *pid_text)
{
	int64_t v;
	pid_t old;
	int pidfd;

	if (ocitap_parse_int64(pid_text, 1, INT32_MAX, &v) < 0) {
		log_msg(LOG_ERR, "OCITAP_REPLACE_PID: not a pid: '%s'", pid_text);
		return -EINVAL;
	}
	old = (pid_t)v;
	pidfd = ocitap_pidfd_open(old);
	if (pidfd < 0)
		return 0; /* gone already */
	log_msg(LOG_INFO, "taking over from pid %d", (int)old);
	d->takeover_pid = old;
	d->takeover_ms = ocitap_now_ms();
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH) {
		log_msg(LOG_ERR, "cannot stop pid %d: %m", (int)old);
		close(pidfd);
		return -errno;
	}
	if (!wait_exit(pidfd, 10000)) {
		log_msg(LOG_WARN, "pid %d still runs after 10 s: killing it", (int)old);
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		wait_exit(pidfd, 2000);
	}
	close(pidfd);
	return 0;
}

/* The listening socket a predecessor handed over (OCITAP_LISTEN_FD). */
int upgrade_inherited_listen_fd(const char *text)
{
	int64_t v;
	int on = 0, domain = 0;
	socklen_t len = sizeof(on);

	if (ocitap_parse_int64(text, 3, INT32_MAX, &v) < 0 ||
	    getsockopt((int)v, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0 || !on ||
	    (len = sizeof(domain), getsockopt((int)v, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) || domain != AF_UNIX) {
		log_msg(LOG_ERR, "OCITAP_LISTEN_FD=%s: not a listening unix socket", text);
		return -EBADF;
	}
	fcntl((int)v, F_SETFD, FD_CLOEXEC);
	return (int)v;
}

/*
 * ocitapd --replace: ask the daemon serving --socket (found by the
 * socket's peer credentials) to hand over to the binary now at its path,
 * and wait until it has.
 */
int upgrade_replace_running(struct ocitapd *d)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ocitap_error err = { 0 };
	char line[512], path[PATH_MAX];
	int fd = ocitap_unix_connect(d->opt.socket_path, &err), pidfd;
	pid_t pid;

	if (fd < 0) {
		fprintf(stderr, "ocitapd: --replace: no daemon at %s: %s\n", d->opt.socket_path,
			ocitap_error_format(&err, line, sizeof(line)));
		return 1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		fprintf(stderr, "ocitapd: --replace: %s: %s\n", d->opt.socket_path, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	/* the socket's credentials are those of whoever called listen(): a
	 * daemon that was itself started by SIGUSR2 is found by the pid file */
	options_run_file(&d->opt, "ocitapd.pid", path, sizeof(path));
	pid = read_pid_file(path);
	if (pid > 0 && kill(pid, 0) == 0)
		cred.pid = pid;
	options_run_file(&d->opt, "ocitapd.replace", path, sizeof(path));
	unlink(path);
	pidfd = ocitap_pidfd_open(cred.pid);
	if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, SIGUSR2, NULL, 0) < 0) {
		fprintf(stderr, "ocitapd: --replace: cannot signal pid %d: %s\n", (int)cred.pid,
			strerror(pidfd < 0 ? -pidfd : errno));
		return 1;
	}
	for (int i = 0; !wait_exit(pidfd, 100); i++) {
		char *why = NULL;
		size_t n;

		if (ocitap_read_file(path, 512, 1000, &why, &n, NULL) == 0) {
			fprintf(stderr, "ocitapd: --replace: %s", why);
			fprintf(stderr, "ocitapd: --replace: pid %d goes on serving\n", (int)cred.pid);
			free(why);
			unlink(path);
			return 1;
		}
		if (i == 300) {
			fprintf(stderr,
				"ocitapd: --replace: pid %d is still serving after 30 s: its successor did not take "
				"over (the daemon's log says why)\n",
				(int)cred.pid);
			return 1;
		}
	}
	close(pidfd);
	options_run_file(&d->opt, "ocitapd.pid", path, sizeof(path));
	/* the successor writes its pid once it serves */
	for (int i = 0; i < 100; i++) {
		pid = read_pid_file(path);
		if (pid > 0 && pid != cred.pid && kill(pid, 0) == 0) {
			printf("ocitapd: pid %d replaced by pid %d\n", (int)cred.pid, (int)pid);
			return 0;
		}
		usleep(100000);
	}
	fprintf(stderr, "ocitapd: --replace: pid %d stopped, but no successor wrote %s\n", (int)cred.pid, path);
	return 1;
}

/* pid runs an ocitapd (its command line's first word, or a later one under
 * a wrapper such as valgrind, ends in "ocitapd"). */
static bool is_ocitapd(pid_t pid)
{
	char path[64], *buf = NULL;
	size_t n;
	bool yes = false;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (pid <= 0 || pid == getpid() || ocitap_read_file(path, 4096, 1000, &buf, &n, NULL) < 0)
		return false;
	for (size_t i = 0; i < n && !yes; i += strlen(buf + i) + 1) {
		const char *word = buf + i, *base = strrchr(word, '/');

		yes = strcmp(base ? base + 1 : word, "ocitapd") == 0;
	}
	free(buf);
	return yes;
}

pid_t upgrade_live_daemon(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	struct ucred cred = { 0 };
	socklen_t len = sizeof(cred);
	char path[PATH_MAX];
	pid_t pid;
	int fd = ocitap_unix_connect(d->opt.socket_path, &err);

	if (fd < 0)
		return 0; /* nobody listens: a stale socket file, replaced */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		cred.pid = 0;
	close(fd);
	/* the pid file says who serves; one that names a process gone (or not
	 * an ocitapd) is a daemon's that was killed: the socket answers because
	 * the keeper holds it for us */
	options_run_file(&d->opt, "ocitapd.pid", path, sizeof(path));
	pid = read_pid_file(path);
	if (is_ocitapd(pid))
		return pid;
	if (pid > 0 || access(path, F_OK) == 0)
		return 0;
	/* no pid file (a daemon stopped cleanly removes it): a listening
	 * socket the keeper does not hold is another daemon's */
	if (handover_keeper_holds_listener(d))
		return 0;
	return cred.pid > 0 ? cred.pid : -1;
}

/* ocitapd.pid next to the socket: who serves it now (for --replace). */
void upgrade_write_pid_file(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	char path[PATH_MAX], pid[32], line[512];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

	options_run_file(&d->opt, "ocitapd.pid", path, sizeof(path));
	if (ocitap_write_file_atomic(path, pid, (size_t)n, 0644, &err) < 0)
		log_msg(LOG_WARN, "pid file: %s", ocitap_error_format(&err, line, sizeof(line)));
}

/* Stopping (not replaced): the socket, http.addr and our pid file go. */
void upgrade_remove_files(struct ocitapd *d)
{
	char path[PATH_MAX];

	if (d->replaced) /* they are the successor's now */
		return;
	if (!d->listener_kept) /* else the keeper still listens on it, for the next daemon */
		unlink(d->opt.socket_path);
	if (d->report_fd >= 0)
		unlink(d->opt.container_socket);
	options_run_file(&d->opt, OCITAP_HTTP_ADDR_NAME, path, sizeof(path));
	unlink(path);
	options_run_file(&d->opt, "ocitapd.pid", path, sizeof(path));
	if (read_pid_file(path) == getpid())
		unlink(path);
}
