/*
 * ocitap-fdkeeper.c: holds a duplicate of every live seccomp notify fd
 * ocitapd hands it, and gives them back to a restarted ocitapd. While a
 * copy is held the kernel keeps the filter's notifications queued (the
 * container's syscall waits) instead of failing them with ENOSYS.
 *
 * Deliberately tiny: one poll loop, one message format (lib/keeper.h), no
 * JSON, peers checked by SO_PEERCRED (same uid or root), by their
 * namespaces (the keeper's own: a process inside a container that can reach
 * the socket, through a bind mount say, is refused) and, with --key-file,
 * by a secret only the ocitapd it serves can read, fds checked to be
 * seccomp notify fds, a copy closed as soon as its filter hangs up. If
 * the keeper itself is killed while ocitapd runs, nothing happens to the
 * containers (ocitapd still holds its copies) and ocitapd hands its fds to
 * a new keeper; only ocitapd and the keeper dying together lose them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "keeper.h"
#include "macro.h"
#include "number.h"
#include "ocitap-private.h"

#define TAG_LISTEN ((uint64_t)1 << 62)
#define TAG_CLIENT ((uint64_t)1 << 61)
#define TAG_AUTHED ((uint64_t)1 << 60) /* a client that said HELLO with the secret (or none is asked for) */

struct held {
	char key[OCITAP_KEEPER_NAME_MAX + 1], id[OCITAP_KEEPER_NAME_MAX + 1];
	int fd;
};

static struct {
	int epfd, listen_fd;
	struct held *v;
	size_t n, cap, max;
	size_t n_clients;
	size_t n_authed;	     /* clients that said HELLO (or were served without): a daemon runs */
	bool accepting;		     /* the held listening sockets are watched: no daemon runs */
	uint64_t next_conn;	     /* the serial of the next connection held for the daemon */
	int64_t listen_grace_ms;     /* --exit-when-idle holding only listening sockets: how long */
	int64_t idle_since_ms;	     /* since when only listening sockets are held, and no client; 0: not */
	ino_t sock_ino;		     /* the socket file we made: removed at exit only if still ours */
	struct ocitap_ns_ids own_ns; /* a peer must share them: it is the ocitapd on this host */
	bool exit_when_idle;	     /* no fd held and no client: nothing left to do */
	bool have_secret;	     /* --key-file: a client says HELLO with it first */
	char secret[OCITAP_KEEPER_SECRET_LEN + 1];
	volatile sig_atomic_t stop;
} k = { .epfd = -1, .listen_fd = -1, .max = 4096 };

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("ocitap-fdkeeper: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void reply(int sock, const struct ocitap_keeper_msg *m, int fd)
{
	char line[OCITAP_KEEPER_MSG_MAX + 1];
	int n = ocitap_keeper_format(m, line, sizeof(line));

	if (n > 0)
		ocitap_scm_send_msg(sock, line, (size_t)n, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, NULL);
}

static void reply_err(int sock, const char *reason)
{
	struct ocitap_keeper_msg m = { .verb = OCITAP_KEEPER_ERR };

	snprintf(m.reason, sizeof(m.reason), "%s", reason);
	reply(sock, &m, -1);
}

/* fd is of the kind its /proc/self/fd link names (an anon inode's name) */
static bool fd_kind_is(int fd, const char *kind)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, kind) == 0;
}

static bool is_notify_fd(int fd)
{
	return fd_kind_is(fd, "anon_inode:seccomp notify");
}

static bool is_pidfd(int fd)
{
	return fd_kind_is(fd, "anon_inode:[pidfd]");
}

static void drop_at(size_t i)
{
	epoll_ctl(k.epfd, EPOLL_CTL_DEL, k.v[i].fd, NULL);
	close(k.v[i].fd);
	k.v[i] = k.v[--k.n];
}

static ssize_t find(const char *key)
{
	for (size_t i = 0; i < k.n; i++)
		if (strcmp(k.v[i].key, key) == 0)
			return (ssize_t)i;
	return -1;
}

/* A listening unix socket (ocitapd's, under a "listen." key). */
static bool is_listening_socket(int fd)
{
	int on = 0, domain = 0;
	socklen_t len = sizeof(on);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0 || !on)
		return false;
	len = sizeof(domain);
	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_UNIX;
}

static bool is_key(const char *key, const char *prefix)
{
	return strncmp(key, prefix, strlen(prefix)) == 0;
}

/* A connection held for a daemon: one we accepted (conn.), or one a daemon
 * accepted and has not read yet (wait.). */
static bool is_held_conn(const char *key)
{
	return is_key(key, OCITAP_KEEPER_CONN_PREFIX) || is_key(key, OCITAP_KEEPER_WAIT_PREFIX);
}

/* A connected (not listening) unix stream socket. */
static bool is_connected_socket(int fd)
{
	int on = 1, domain = 0, type = 0;
	socklen_t len = sizeof(on);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0 || on)
		return false;
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_UNIX)
		return false;
	len = sizeof(type);
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

/* Hold fd under key for id; false (fd closed) when full. watch: hang-ups
 * are watched (a notify fd); a held connection is not watched: its peer
 * may well have sent and closed, and what it sent must reach the daemon. */
static bool hold(const char *key, const char *id, int fd, bool watch)
{
	struct epoll_event ev = { .events = 0, .data.u64 = (uint64_t)fd };

	if (k.n == k.max) {
		close(fd);
		return false;
	}
	if (k.n == k.cap) {
		size_t cap = k.cap ? k.cap * 2 : 64;
		struct held *p = realloc(k.v, cap * sizeof(*p));

		if (!p) {
			close(fd);
			return false;
		}
		k.v = p;
		k.cap = cap;
	}
	if (watch && epoll_ctl(k.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return false;
	}
	snprintf(k.v[k.n].key, sizeof(k.v[k.n].key), "%s", key);
	snprintf(k.v[k.n].id, sizeof(k.v[k.n].id), "%s", id);
	k.v[k.n++].fd = fd;
	return true;
}

/*
 * No daemon runs: a peer connecting to a held listening socket is accepted
 * now, while it is surely alive to be told apart (a runtime's process may
 * be gone by the time the next daemon runs), and its connection held,
 * unread, for that daemon (lib/keeper.h).
 */
static void accept_for_daemon(int listen_fd)
{
	for (;;) {
		struct ocitap_keeper_peer peer = { 0 };
		struct ucred cred;
		socklen_t len = sizeof(cred);
		char key[OCITAP_KEEPER_NAME_MAX + 1], id[OCITAP_KEEPER_NAME_MAX + 1];
		int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (c < 0)
			return;
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(c);
			continue;
		}
		peer.pid = cred.pid;
		peer.uid = cred.uid;
		peer.has_ns = cred.pid > 0 && ocitap_ns_ids_read("/proc", cred.pid, &peer.ns, NULL) == 0;
		snprintf(key, sizeof(key), OCITAP_KEEPER_CONN_PREFIX "%llu", (unsigned long long)k.next_conn++);
		if (ocitap_keeper_peer_format(&peer, id, sizeof(id)) < 0 || !hold(key, id, c, false))
			say("a connection for the daemon is not held (%zu fds held already)", k.n);
	}
}

/* A held connection whose peer closed it without a byte is nobody's: gone
 * (a probe, or a peer that gave up). One with data waiting is kept, even
 * if its peer has closed since: what it sent still counts. */
static void prune_empty_conns(void)
{
	for (size_t i = k.n; i-- > 0;) {
		char c;

		if (is_held_conn(k.v[i].key) && recv(k.v[i].fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			drop_at(i);
	}
}

/* What is held only for the next daemon (a listening socket, inits'
 * pidfds): with nothing else and no daemon, kept for --listen-grace. */
static size_t n_listening(void)
{
	size_t n = 0;

	for (size_t i = 0; i < k.n; i++)
		n += is_key(k.v[i].key, OCITAP_KEEPER_LISTEN_PREFIX) || is_key(k.v[i].key, OCITAP_KEEPER_PIDFD_PREFIX);
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Watch the held listening sockets only while no daemon is connected
 * (force: one was just added, watched as the others should be). */
static void sync_accepting(bool force)
{
	bool want = k.n_authed == 0;

	if (want == k.accepting && !force)
		return;
	for (size_t i = 0; i < k.n; i++)
		if (is_key(k.v[i].key, OCITAP_KEEPER_LISTEN_PREFIX)) {
			struct epoll_event ev = { .events = want ? EPOLLIN : 0, .data.u64 = (uint64_t)k.v[i].fd };

			epoll_ctl(k.epfd, EPOLL_CTL_MOD, k.v[i].fd, &ev);
		}
	k.accepting = want;
}

/* Hold fd (now ours) under m's key, or say why not. */
static void keep(int sock, const struct ocitap_keeper_msg *m, int fd)
{
	_cleanup_close_ int owned = fd;
	ssize_t old = find(m->key);

	if (is_key(m->key, OCITAP_KEEPER_CONN_PREFIX)) {
		reply_err(sock, "conn. keys are the keeper's own");
		return;
	}
	if (is_key(m->key, OCITAP_KEEPER_LISTEN_PREFIX)) {
		if (!is_listening_socket(owned)) {
			reply_err(sock, "not a listening unix socket");
			return;
		}
	} else if (is_key(m->key, OCITAP_KEEPER_PIDFD_PREFIX)) {
		if (!is_pidfd(owned)) {
			reply_err(sock, "not a pidfd");
			return;
		}
	} else if (is_key(m->key, OCITAP_KEEPER_WAIT_PREFIX)) {
		if (!is_connected_socket(owned)) {
			reply_err(sock, "not a connected unix stream socket");
			return;
		}
	} else if (!is_notify_fd(owned)) {
		reply_err(sock, "not a seccomp notify fd");
		return;
	}
	if (old >= 0)
		drop_at((size_t)old);
	if (k.n == k.max) {
		reply_err(sock, "holding the most fds allowed (--max-fds)");
		return;
	}
	/* hang-ups are always reported; a listening socket reports none; a
	 * pidfd is kept past its process's exit, and a connection past its
	 * peer's close (what it sent still counts): not watched at all */
	if (!hold(m->key, m->id, TAKE_FD(owned),
		  !is_key(m->key, OCITAP_KEEPER_PIDFD_PREFIX) && !is_key(m->key, OCITAP_KEEPER_WAIT_PREFIX))) {
		reply_err(sock, "cannot hold it (out of memory, or epoll)");
		return;
	}
	if (is_key(m->key, OCITAP_KEEPER_LISTEN_PREFIX))
		sync_accepting(true);
	reply(sock, &(struct ocitap_keeper_msg){ .verb = OCITAP_KEEPER_OK }, -1);
}

static void give(int sock)
{
	for (size_t i = 0; i < k.n; i++) {
		struct ocitap_keeper_msg m = { .verb = OCITAP_KEEPER_FD };

		memcpy(m.key, k.v[i].key, sizeof(m.key));
		memcpy(m.id, k.v[i].id, sizeof(m.id));
		reply(sock, &m, k.v[i].fd);
	}
	reply(sock, &(struct ocitap_keeper_msg){ .verb = OCITAP_KEEPER_END, .count = (long)k.n }, -1);
	/* a held connection is the daemon's now: served once, never handed twice */
	for (size_t i = k.n; i-- > 0;)
		if (is_held_conn(k.v[i].key))
			drop_at(i);
}

/* Equal secrets, in a time that does not depend on where they differ. */
static bool same_secret(const char *a, const char *b)
{
	unsigned char diff = (unsigned char)(strlen(a) ^ strlen(b));

	for (size_t i = 0; a[i] && b[i]; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* HELLO: the secret makes the client one we serve; a wrong one ends it. */
static bool hello(int sock, uint64_t *tag, const struct ocitap_keeper_msg *m)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (k.have_secret && !same_secret(m->key, k.secret)) {
		say("refused a peer: wrong secret (not the ocitapd this keeper serves)");
		reply_err(sock, "wrong secret");
		return false;
	}
	if (!(*tag & TAG_AUTHED))
		k.n_authed++;
	*tag |= TAG_AUTHED;
	ev.data.u64 = *tag;
	epoll_ctl(k.epfd, EPOLL_CTL_MOD, sock, &ev);
	reply(sock, &(struct ocitap_keeper_msg){ .verb = OCITAP_KEEPER_OK }, -1);
	return true;
}

/* One message from a client (tag: its epoll tag); false when the client is
 * gone or must go. */
static bool client_message(int sock, uint64_t *tag)
{
	char buf[OCITAP_KEEPER_MSG_MAX + 1];
	struct ocitap_keeper_msg m;
	struct ocitap_error err = { 0 };
	int fds[4];
	size_t n_fds;
	ssize_t n = ocitap_scm_recv_msg(sock, buf, sizeof(buf), fds, 4, &n_fds, OCITAP_SCM_NONBLOCK, &err);

	if (n == -EMSGSIZE) { /* too long, too many fds: none kept, the client hears why */
		reply_err(sock, err.message);
		return true;
	}
	if (n <= 0)
		return n == -EAGAIN;
	if (ocitap_keeper_parse(buf, (size_t)n, &m, &err) < 0) {
		reply_err(sock, err.message);
		goto close_fds;
	}
	if (m.verb == OCITAP_KEEPER_HELLO && !n_fds)
		return hello(sock, tag, &m);
	if (!(*tag & TAG_AUTHED)) {
		say("refused a peer: no HELLO with the secret first");
		reply_err(sock, "say HELLO with the secret first (this keeper runs with --key-file)");
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		return false;
	}
	if (m.verb == OCITAP_KEEPER_KEEP) {
		if (n_fds != 1) {
			reply_err(sock, "KEEP takes exactly one fd");
			goto close_fds;
		}
		keep(sock, &m, fds[0]);
		return true;
	}
	if (n_fds) {
		reply_err(sock, "only KEEP takes an fd");
		goto close_fds;
	}
	if (m.verb == OCITAP_KEEPER_DROP) {
		ssize_t i = find(m.key);

		if (i < 0) {
			reply_err(sock, "no such key");
		} else {
			drop_at((size_t)i);
			reply(sock, &(struct ocitap_keeper_msg){ .verb = OCITAP_KEEPER_OK }, -1);
		}
	} else if (m.verb == OCITAP_KEEPER_GIVE) {
		give(sock);
	} else if (m.verb == OCITAP_KEEPER_GET) {
		ssize_t i = find(m.key);

		if (i < 0) {
			reply_err(sock, "no such key");
		} else {
			struct ocitap_keeper_msg fd_msg = { .verb = OCITAP_KEEPER_FD };

			memcpy(fd_msg.key, k.v[i].key, sizeof(fd_msg.key));
			memcpy(fd_msg.id, k.v[i].id, sizeof(fd_msg.id));
			reply(sock, &fd_msg, k.v[i].fd);
		}
	} else {
		reply_err(sock, "not a request");
	}
	return true;
close_fds:
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	return true;
}

static void accept_client(void)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct epoll_event ev = { .events = EPOLLIN };
	int c = accept4(k.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct ocitap_ns_ids ns;
	const char *differs;

	if (c < 0)
		return;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || (cred.uid != geteuid() && cred.uid != 0)) {
		say("refused a peer of uid %d", (int)cred.uid);
		close(c);
		return;
	}
	/* root inside a container is uid 0 too: the namespaces tell them apart */
	if (cred.pid <= 0 || ocitap_ns_ids_read("/proc", cred.pid, &ns, NULL) < 0) {
		say("refused a peer (pid %d) whose namespaces cannot be read", (int)cred.pid);
		close(c);
		return;
	}
	if ((differs = ocitap_ns_ids_differ(&ns, &k.own_ns))) {
		say("refused a peer (pid %d) in another %s namespace: only the ocitapd of this host is served",
		    (int)cred.pid, differs);
		close(c);
		return;
	}
	ev.data.u64 = TAG_CLIENT | (uint64_t)c | (k.have_secret ? 0 : TAG_AUTHED);
	if (epoll_ctl(k.epfd, EPOLL_CTL_ADD, c, &ev) < 0) {
		close(c);
	} else {
		k.n_clients++;
		k.n_authed += !k.have_secret;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	k.stop = 1;
}

static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	strcpy(addr.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0)
		return -errno;
	if (stat(path, &st) == 0)
		k.sock_ino = st.st_ino;
	return TAKE_FD(fd);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: ocitap-fdkeeper --socket PATH [--key-file FILE] [--max-fds N] [--exit-when-idle]\n"
		     "\n"
		     "Hold a copy of the seccomp notify fds ocitapd hands over, so that a restarted\n"
		     "ocitapd can take them back and no container's notified syscall fails meanwhile.\n"
		     "Speaks only to processes of its own uid (or root) in its own namespaces, on a SOCK_SEQPACKET\n"
		     "socket.\n"
		     "\n"
		     "  --socket PATH      where to listen (mode 0600); ocitapd looks for\n"
		     "                     " OCITAP_DEFAULT_KEEPER_NAME " beside its own socket\n"
		     "  --key-file FILE    serve only a peer that first says HELLO with the secret in\n"
		     "                     FILE (ours, mode 0600, made when missing; ocitapd uses\n"
		     "                     keeper.key in its state directory, and passes it when it\n"
		     "                     starts the keeper)\n"
		     "  --max-fds N        hold at most N fds (default 4096)\n"
		     "  --listen-grace MS  with --exit-when-idle: holding only ocitapd's listening socket\n"
		     "                     and inits' pidfds, and no client, wait MS for the next\n"
		     "                     ocitapd, then close them and exit (default 60000, or\n"
		     "                     $OCITAP_KEEPER_LISTEN_GRACE_MS)\n"
		     "  -V, --version      print the version and exit\n"
		     "  --exit-when-idle   exit once no fd is held and no client is connected\n"
		     "                     (how ocitapd starts it; a service manager's unit does not)\n");
}

/* 0 to go on; 1 when --help said all there is; -EINVAL with err on a bad
 * command line. */
static int parse_args(int argc, char **argv, const char **ret_path, struct ocitap_error *err)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "max-fds", required_argument, NULL, 'm' },
		{ "exit-when-idle", no_argument, NULL, 'i' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "listen-grace", required_argument, NULL, 'g' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = NULL, *grace = getenv("OCITAP_KEEPER_LISTEN_GRACE_MS");
	uint64_t grace_ms;
	int opt;

	k.listen_grace_ms = 60000;
	if (grace && ocitap_parse_uint64(grace, 86400000, &grace_ms) == 0)
		k.listen_grace_ms = (int64_t)grace_ms;
	while ((opt = getopt_long(argc, argv, "hV", options, NULL)) != -1) {
		switch (opt) {
		case 'k':
			/* made when missing: a keeper run by its own unit starts first */
			if (ocitap_keeper_secret_load(optarg, true, k.secret, err) < 0)
				return ocitap_error_prefix(err, "--key-file");
			k.have_secret = true;
			break;
		case 'V':
			printf("ocitap-fdkeeper %s\n", OCITAP_VERSION);
			return 1;
		case 'g': {
			uint64_t v;

			if (ocitap_parse_uint64(optarg, 86400000, &v) < 0)
				return ocitap_error_set(err, -EINVAL, NULL,
							"--listen-grace: milliseconds (0 to 86400000), not '%s'",
							optarg);
			k.listen_grace_ms = (int64_t)v;
			break;
		}
		case 's':
			path = optarg;
			break;
		case 'm': {
			uint64_t v;

			if (ocitap_parse_uint64(optarg, 1 << 20, &v) < 0 || v < 1)
				return ocitap_error_set(err, -EINVAL, NULL, "--max-fds: 1 to 1048576, not '%s'",
							optarg);
			k.max = (size_t)v;
			break;
		}
		case 'i':
			k.exit_when_idle = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			return ocitap_error_set(err, -EINVAL, NULL, "see 'ocitap-fdkeeper --help'");
		}
	}
	if (optind != argc)
		return ocitap_error_set(err, -EINVAL, NULL, "unexpected argument '%s'", argv[optind]);
	if (!path)
		return ocitap_error_set(err, -EINVAL, NULL, "--socket PATH is required (see 'ocitap-fdkeeper --help')");
	*ret_path = path;
	return 0;
}

/* Listen on path and serve until told to stop (or idle with
 * --exit-when-idle). A negative errno with err when it cannot listen. */
static int serve(const char *path, struct ocitap_error *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN };
	struct stat st;

	int r = ocitap_ns_ids_read("/proc", 0, &k.own_ns, err);

	if (r < 0)
		return ocitap_error_prefix(err, "cannot tell its own namespaces");
	k.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (k.epfd < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot listen on %s: epoll: %s", path, strerror(errno));
	k.listen_fd = listen_on(path);
	/* a daemon's listening socket, and nothing else, with no daemon: it
	 * waits that long for the next daemon, then is closed (connections are
	 * refused from then on) */
	if (k.listen_fd < 0)
		return ocitap_error_set(err, k.listen_fd, NULL, "cannot listen on %s: %s", path,
					strerror(-k.listen_fd));
	epoll_ctl(k.epfd, EPOLL_CTL_ADD, k.listen_fd, &ev);
	while (!k.stop) {
		struct epoll_event events[32];
		bool idle, only_listening;
		int timeout = -1, n;

		sync_accepting(false);
		prune_empty_conns();
		idle = k.exit_when_idle && k.n == 0 && k.n_clients == 0;
		only_listening = k.exit_when_idle && k.n > 0 && k.n == n_listening() && k.n_clients == 0;
		if (!only_listening)
			k.idle_since_ms = 0;
		else if (!k.idle_since_ms)
			k.idle_since_ms = now_ms();
		if (idle)
			timeout = 10000;
		else if (only_listening)
			timeout = (int)(k.idle_since_ms + k.listen_grace_ms - now_ms() > 0
						? k.idle_since_ms + k.listen_grace_ms - now_ms()
						: 0);
		/* held connections are not watched: look at them again each second */
		if (k.exit_when_idle && k.n_clients == 0 && k.n > n_listening() && (timeout < 0 || timeout > 1000))
			timeout = 1000;
		if (only_listening && timeout == 0) {
			say("no ocitapd took its listening socket back in %lld ms: closed",
			    (long long)k.listen_grace_ms);
			while (k.n)
				drop_at(k.n - 1);
			break;
		}
		n = epoll_wait(k.epfd, events, 32, timeout);

		for (int i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;

			if (tag == TAG_LISTEN) {
				accept_client();
			} else if (tag & TAG_CLIENT) {
				int c = (int)(tag & 0xffffffff);

				if (((events[i].events & (EPOLLHUP | EPOLLERR)) && !(events[i].events & EPOLLIN)) ||
				    !client_message(c, &tag)) {
					close(c); /* closing removes it from the epoll set */
					k.n_clients--;
					k.n_authed -= (tag & TAG_AUTHED) != 0;
				}
			} else { /* a held listening socket with a peer waiting, or a held fd that hung up */
				for (size_t h = 0; h < k.n; h++)
					if ((uint64_t)k.v[h].fd == tag) {
						if (is_key(k.v[h].key, OCITAP_KEEPER_LISTEN_PREFIX))
							accept_for_daemon(k.v[h].fd);
						else
							drop_at(h); /* its filter has no process left */
						break;
					}
			}
		}
		if (k.exit_when_idle && k.n == 0 && k.n_clients == 0) {
			accept_client(); /* one that connected just now keeps it alive */
			if (k.n_clients == 0)
				break;
		}
	}
	if (stat(path, &st) == 0 && st.st_ino == k.sock_ino)
		unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	struct ocitap_error err = { 0 };
	const char *path = NULL;
	int r;

	r = parse_args(argc, argv, &path, &err);
	if (r < 0) {
		say("%s", err.message);
		return 2;
	}
	if (r > 0)
		return 0;
	{
		/* a parent's blocked signals are inherited through exec (ocitapd
		 * blocks SIGTERM for its signalfd): unblocked, or SIGTERM would
		 * never stop a keeper ocitapd started */
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (serve(path, &err) < 0) {
		say("%s", err.message);
		return 1;
	}
	return 0;
}
