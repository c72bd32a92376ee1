/*
 * keeper-client.c: ocitapd's side of ocitap-fdkeeper (lib/keeper.h). The
 * daemon hands the keeper a copy of every notify fd it accepts and takes
 * them all back when it starts; this file is the connection (started on
 * demand, detached, so that it outlives a killed daemon), the requests, and
 * the in-flight record that lets a restarted daemon answer a notification
 * its predecessor had taken but not answered.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keeper-client.h"
#include "macro.h"
#include "ocitap-private.h"
#include "log.h"

#define REPLY_TIMEOUT_MS 500 /* a local process that answers in microseconds */

static int try_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_MS / 1000, .tv_usec = (REPLY_TIMEOUT_MS % 1000) * 1000 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(addr.sun_path, path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	/* fds go both ways: only a keeper of our own uid (or root) gets or gives them */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || (cred.uid != geteuid() && cred.uid != 0)) {
		close(fd);
		return -EPERM;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* ocitap-fdkeeper next to our own binary, else from PATH */
static void exec_keeper(const char *path, const char *key_file)
{
	char self[PATH_MAX], bin[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if (strrchr(self, '/')) {
			*strrchr(self, '/') = '\0';
			snprintf(bin, sizeof(bin), "%s/ocitap-fdkeeper", self);
			execl(bin, "ocitap-fdkeeper", "--socket", path, "--key-file", key_file, "--exit-when-idle",
			      (char *)NULL);
		}
	}
	execlp("ocitap-fdkeeper", "ocitap-fdkeeper", "--socket", path, "--key-file", key_file, "--exit-when-idle",
	       (char *)NULL);
}

/*
 * Start the keeper in its own session, reparented away from us (double
 * fork): a kill -9 of ocitapd, or of its process group, must not reach it.
 * It keeps our stderr for its few log lines; every other fd is closed.
 */
static int spawn_keeper(const char *path, const char *key_file)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (setsid() < 0 || null < 0)
			_exit(127);
		if (fork() != 0)
			_exit(0);
		dup2(null, 0);
		dup2(null, 1);
		syscall(SYS_close_range, 3, ~0U, 0);
		{
			sigset_t none; /* ours blocks what our signalfd reads */

			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
		}
		exec_keeper(path, key_file);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -ECHILD;
	return 0;
}

static int request(int sock, const struct ocitap_keeper_msg *m, int fd, struct ocitap_error *err);

/* HELLO with the secret. A keeper from before --key-file does not know the
 * word: it checks uid and namespaces only, and is used so (said once). */
static int say_hello(int fd, const char *path, const char *secret, struct ocitap_error *err)
{
	static bool said;
	struct ocitap_keeper_msg m = { .verb = OCITAP_KEEPER_HELLO };
	int r;

	snprintf(m.key, sizeof(m.key), "%s", secret);
	r = request(fd, &m, -1, err);
	if (r == -EREMOTEIO && strstr(err->message, "unknown command")) {
		if (!said)
			log_msg(LOG_WARN,
				"keeper %s predates --key-file: it checks peers by uid and namespaces only "
				"(restart it to have it check the secret)",
				path);
		said = true;
		*err = (struct ocitap_error){ 0 };
		return 0;
	}
	return r < 0 ? ocitap_error_prefix(err, "keeper %s", path) : 0;
}

static int connected(int fd, const char *path, const char *secret, struct ocitap_error *err)
{
	int r = say_hello(fd, path, secret, err);

	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int keeper_connect(const char *path, bool spawn, const char *key_file, struct ocitap_error *err)
{
	char secret[OCITAP_KEEPER_SECRET_LEN + 1];
	int fd, r;

	/* ours to make: a keeper we start reads it, and a daemon that replaces
	 * us (the same state directory) reads it too */
	if (ocitap_keeper_secret_load(key_file, true, secret, err) < 0)
		return ocitap_error_prefix(err, "keeper's secret");
	fd = try_connect(path);
	if (fd >= 0 || !spawn || (fd != -ENOENT && fd != -ECONNREFUSED)) {
		if (fd < 0)
			return ocitap_error_set(err, fd, NULL, "keeper %s: %s", path, strerror(-fd));
		return connected(fd, path, secret, err);
	}
	r = spawn_keeper(path, key_file);
	if (r < 0)
		return ocitap_error_set(err, r, NULL, "cannot start ocitap-fdkeeper: %s", strerror(-r));
	/* it binds at once; give it two seconds on a loaded machine */
	for (int i = 0; i < 200; i++) {
		fd = try_connect(path);
		if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED))
			break;
		usleep(10000);
	}
	if (fd < 0)
		return ocitap_error_set(err, fd, NULL, "ocitap-fdkeeper started but %s does not answer: %s", path,
					strerror(-fd));
	return connected(fd, path, secret, err);
}

/* One reply; the fd it carries (FD) in *ret_fd. */
static int receive(int sock, struct ocitap_keeper_msg *m, int *ret_fd, struct ocitap_error *err)
{
	char buf[OCITAP_KEEPER_MSG_MAX + 1];
	struct ocitap_error parse_err = { 0 };
	size_t n_fds = 0;
	int fd = -1;
	ssize_t n = ocitap_scm_recv_msg(sock, buf, sizeof(buf), &fd, 1, &n_fds, 0, &parse_err);

	if (n == -EAGAIN) /* the socket's receive timeout */
		return ocitap_error_set(err, -EAGAIN, NULL, "keeper: no answer in 0.5 s");
	if (n == 0)
		return ocitap_error_set(err, -ECONNRESET, NULL, "keeper: gone");
	if (n == -EMSGSIZE)
		return ocitap_error_set(err, -EPROTO, NULL, "keeper: unreadable answer (%s)", parse_err.message);
	if (n < 0)
		return ocitap_error_set(err, (int)n, NULL, "keeper: %s", parse_err.message);
	if (ocitap_keeper_parse(buf, (size_t)n, m, &parse_err) < 0) {
		if (n_fds)
			close(fd);
		return ocitap_error_set(err, -EPROTO, NULL, "keeper: unreadable answer (%s)", parse_err.message);
	}
	if (ret_fd)
		*ret_fd = n_fds ? fd : -1;
	else if (n_fds)
		close(fd);
	return 0;
}

static int request(int sock, const struct ocitap_keeper_msg *m, int fd, struct ocitap_error *err)
{
	char line[OCITAP_KEEPER_MSG_MAX + 1];
	struct ocitap_keeper_msg ans;
	int n = ocitap_keeper_format(m, line, sizeof(line)), r;

	if (n < 0)
		return ocitap_error_set(err, -EINVAL, NULL, "keeper: a name it cannot carry");
	r = ocitap_scm_send(sock, line, (size_t)n, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, NULL);
	if (r < 0)
		return ocitap_error_set(err, r, NULL, "keeper: %s", strerror(-r));
	r = receive(sock, &ans, NULL, err);
	if (r < 0)
		return r;
	if (ans.verb == OCITAP_KEEPER_ERR)
		return ocitap_error_set(err, -EREMOTEIO, NULL, "keeper refused: %s", ans.reason);
	if (ans.verb != OCITAP_KEEPER_OK)
		return ocitap_error_set(err, -EPROTO, NULL, "keeper: unexpected answer");
	return 0;
}

int keeper_keep(int sock, const char *key, const char *id, int fd, struct ocitap_error *err)
{
	struct ocitap_keeper_msg m = { .verb = OCITAP_KEEPER_KEEP };

	snprintf(m.key, sizeof(m.key), "%s", key);
	snprintf(m.id, sizeof(m.id), "%s", id);
	return request(sock, &m, fd, err);
}

int keeper_drop(int sock, const char *key, struct ocitap_error *err)
{
	struct ocitap_keeper_msg m = { .verb = OCITAP_KEEPER_DROP };

	snprintf(m.key, sizeof(m.key), "%s", key);
	return request(sock, &m, -1, err);
}

int keeper_get(int sock, const char *key, int *ret_fd, struct ocitap_error *err)
{
	struct ocitap_keeper_msg m = { .verb = OCITAP_KEEPER_GET };
	char line[OCITAP_KEEPER_MSG_MAX + 1];
	int n, r, fd = -1;

	snprintf(m.key, sizeof(m.key), "%s", key);
	n = ocitap_keeper_format(&m, line, sizeof(line));
	if (n < 0)
		return ocitap_error_set(err, -EINVAL, NULL, "keeper: a name it cannot carry");
	r = ocitap_scm_send(sock, line, (size_t)n, NULL, 0, NULL);
	if (r < 0)
		return ocitap_error_set(err, r, NULL, "keeper: %s", strerror(-r));
	r = receive(sock, &m, &fd, err);
	if (r < 0)
		return r;
	if (m.verb == OCITAP_KEEPER_ERR && strstr(m.reason, "no such key"))
		return -ENOENT;
	if (m.verb != OCITAP_KEEPER_FD || fd < 0) {
		if (fd >= 0)
			close(fd);
		return ocitap_error_set(err, -EPROTO, NULL, "keeper: %s",
					m.verb == OCITAP_KEEPER_ERR ? m.reason : "unexpected answer to GET");
	}
	*ret_fd = fd;
	return 0;
}

int keeper_give(int sock, void (*fn)(const char *key, const char *id, int fd, void *userdata), void *userdata,
		struct ocitap_error *err)
{
	struct ocitap_keeper_msg m = { .verb = OCITAP_KEEPER_GIVE };
	char line[OCITAP_KEEPER_MSG_MAX + 1];
	int n = ocitap_keeper_format(&m, line, sizeof(line)), r, got = 0;

	r = ocitap_scm_send(sock, line, (size_t)n, NULL, 0, NULL);
	if (r < 0)
		return ocitap_error_set(err, r, NULL, "keeper: %s", strerror(-r));
	for (;;) {
		int fd = -1;

		r = receive(sock, &m, &fd, err);
		if (r < 0)
			return r;
		if (m.verb == OCITAP_KEEPER_END)
			break;
		if (m.verb != OCITAP_KEEPER_FD || fd < 0) {
			if (fd >= 0)
				close(fd);
			return ocitap_error_set(err, -EPROTO, NULL, "keeper: %s",
						m.verb == OCITAP_KEEPER_ERR ? m.reason : "unexpected answer");
		}
		fn(m.key, m.id, fd, userdata);
		got++;
	}
	if (m.count != got)
		return ocitap_error_set(err, -EPROTO, NULL, "keeper: said %ld fds, sent %d", m.count, got);
	return got;
}

/*
 * The in-flight record: a page of a file on the socket's tmpfs, mapped
 * shared, written on every notification (stores only, no system call).
 * What a killed daemon last wrote there is what its successor reads.
 */
int inflight_map(const char *path, struct inflight **ret, struct ocitap_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	struct inflight *f;
	struct stat st;

	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %s", path, strerror(errno));
	/* O_NOFOLLOW refused a link; a FIFO or another user's file is refused too */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return ocitap_error_set(err, -EPERM, NULL, "%s: not a regular file of uid %u: refusing it", path,
					(unsigned)geteuid());
	if (st.st_size != (off_t)sizeof(*f) && ftruncate(fd, sizeof(*f)) < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %s", path, strerror(errno));
	f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (f == MAP_FAILED)
		return ocitap_error_set(err, -errno, NULL, "%s: %s", path, strerror(errno));
	if (f->magic != INFLIGHT_MAGIC) /* new, or not ours: nothing to recover */
		memset(f, 0, sizeof(*f));
	f->magic = INFLIGHT_MAGIC;
	*ret = f;
	return 0;
}
