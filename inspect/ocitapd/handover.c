/*
 * handover.c: what lets a notify fd outlive this daemon, and the next one
 * take it back. Every fd is handed to ocitap-fdkeeper (keeper-client.c)
 * and, under systemd with FDSTORE, to systemd's fd store; at start both
 * give them back (adopted with the policy their key names) and the
 * in-flight record (keeper-client.h) tells which notification a killed
 * predecessor had taken and not answered, which is answered here.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "container.h"
#include "exit.h"
#include "handover.h"
#include "keeper-client.h"
#include "macro.h"
#include "metrics.h"
#include "notify.h"
#include "peers.h"

/* One datagram to $NOTIFY_SOCKET ("@..." is abstract), with fd when >= 0. */
static int sd_notify_fd(const char *text, int fd)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int sock = -1;
	size_t len;

	if (!path || (path[0] != '/' && path[0] != '@') || (len = strlen(path)) >= sizeof(addr.sun_path))
		return -EINVAL;
	memcpy(addr.sun_path, path, len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0';
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0 ||
	    connect(sock, (struct sockaddr *)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		return -errno;
	return ocitap_scm_send_msg(sock, text, strlen(text), fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, NULL);
}

/* FDNAME of a notify fd: "<keeper key>/<container id>" (printable, no ':', <= 255) */
static bool fdstore_name(const struct notify_fd *n, char *buf, size_t size)
{
	int len;

	if (!n->key)
		return false;
	len = snprintf(buf, size, "%s/%s", n->key, n->c->id);
	if (len < 0 || (size_t)len >= size || len > 255)
		return false;
	for (const char *p = buf; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == ':')
			return false;
	return true;
}

static void fdstore_keep(struct ocitapd *d, const struct notify_fd *n)
{
	char name[300], msg[400];
	int r;

	if (!d->fdstore)
		return;
	if (!fdstore_name(n, name, sizeof(name))) {
		log_msg(LOG_WARN, "container %s: its id cannot name a fd in systemd's fd store", n->c->id);
		return;
	}
	snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
	r = sd_notify_fd(msg, n->fd);
	if (r < 0)
		log_msg(LOG_WARN, "container %s: systemd's fd store: %s", n->c->id, strerror(-r));
}

static void fdstore_remove(struct ocitapd *d, const struct notify_fd *n)
{
	char name[300], msg[400];

	if (!d->fdstore || !fdstore_name(n, name, sizeof(name)))
		return;
	snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	sd_notify_fd(msg, -1);
}

/*
 * When to try for a keeper again. Until a new keeper holds them, our fds
 * have no second copy: a kill of ocitapd now would lose them. So the first
 * try after one is lost is at once (this loop round), the next few soon
 * after (one just killed may still take a connection into the socket it is
 * closing), then every base_ms: a keeper that cannot start, or dies on
 * start, is not restarted in a busy loop.
 */
static void keeper_schedule_retry(struct ocitapd *d, int64_t base_ms)
{
	unsigned n = ++d->keeper_failures;

	d->keeper_retry_ms = ocitap_now_ms() + (n == 1 ? 0 : n <= 6 ? 100 : base_ms);
}

void handover_keeper_lost(struct ocitapd *d, const char *why)
{
	if (d->keeper_fd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->keeper_fd, NULL);
		close(d->keeper_fd);
		d->keeper_fd = -1;
		log_msg(LOG_WARN, "%s; until one is back, a restart of ocitapd would fail notified syscalls", why);
	}
	metric_set("ocitap_keeper_up", 0, NULL);
	d->listener_kept = false;
	/* one that answers nothing (stopped, stuck) would stall the event
	 * loop on every request: try it again much later */
	if (strstr(why, "no answer")) {
		d->keeper_failures++;
		d->keeper_retry_ms = ocitap_now_ms() + 30000;
	} else {
		keeper_schedule_retry(d, 1000);
	}
}

/* Hand the keeper its copy of n; false when it has none. */
static bool keeper_keep_fd(struct ocitapd *d, struct notify_fd *n)
{
	struct ocitap_error err = { 0 };
	char why[512];
	int r;

	if (d->keeper_fd < 0)
		return false;
	r = keeper_keep(d->keeper_fd, n->key, n->c->id, n->fd, &err);
	if (r < 0)
		ocitap_error_format(&err, why, sizeof(why));
	if (r == -EREMOTEIO) /* it answered: the connection is fine */
		log_msg(LOG_WARN, "container %s: %s", n->c->id, why);
	else if (r < 0)
		handover_keeper_lost(d, why);
	return r == 0;
}

void handover_keep_pid(struct ocitapd *d, struct pid_watch *pw)
{
	struct ocitap_error err = { 0 };
	char key[64], why[512];
	int r;

	if (!pw->key) {
		snprintf(key, sizeof(key), OCITAP_KEEPER_PIDFD_PREFIX "%llu.%lld", (unsigned long long)d->next_serial++,
			 (long long)pw->c->run);
		pw->key = ocitapd_xstrdup(key);
	}
	if (d->keeper_fd < 0 || d->giving || pw->kept)
		return; /* handed over with everything else once the keeper is back, or once GIVE is over */
	r = keeper_keep(d->keeper_fd, pw->key, pw->c->id, pw->fd, &err);
	pw->kept = r == 0;
	if (r < 0)
		ocitap_error_format(&err, why, sizeof(why));
	if (r == -EREMOTEIO) /* an earlier keeper: notify fds only */
		log_msg(LOG_DEBUG, "container %s: the keeper does not hold its init's pidfd: %s", pw->c->id, why);
	else if (r < 0)
		handover_keeper_lost(d, why);
}

void handover_drop_pid(struct ocitapd *d, struct pid_watch *pw)
{
	struct ocitap_error err = { 0 };

	if (pw->kept && d->keeper_fd >= 0 && !d->giving)
		(void)keeper_drop(d->keeper_fd, pw->key, &err);
	pw->kept = false;
	free(pw->key);
	pw->key = NULL;
}

/* The keeper's name for our listening socket: one per socket path. */
static void listen_key(const struct ocitapd *d, char *buf, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *p = d->opt.socket_path; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	snprintf(buf, size, OCITAP_KEEPER_LISTEN_PREFIX "%016llx", (unsigned long long)h);
}

/* The listening socket goes to the keeper too: while no daemon runs, a
 * runtime's connection waits in its backlog for the next one. */
static void keeper_keep_listener(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	char key[64], why[512];
	int r;

	if (d->keeper_fd < 0 || d->listen_fd < 0)
		return;
	listen_key(d, key, sizeof(key));
	r = keeper_keep(d->keeper_fd, key, "ocitapd", d->listen_fd, &err);
	d->listener_kept = r == 0;
	if (r == -EREMOTEIO) /* an earlier keeper: notify fds only */
		log_msg(LOG_INFO,
			"keeper: does not hold the listening socket (%s): connections made while no "
			"ocitapd runs are refused",
			ocitap_error_format(&err, why, sizeof(why)));
	else if (r < 0)
		handover_keeper_lost(d, ocitap_error_format(&err, why, sizeof(why)));
}

/*
 * Before the socket is made: the listening socket a previous daemon left
 * with the keeper (killed, or stopped), with the connections that waited
 * for us in its backlog. Taken only if it is bound to our socket's path
 * and that path is a socket still.
 */
void handover_take_listener(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	struct stat st;
	char key[64];
	int k, fd = -1;

	if (!d->opt.keeper_path || d->listen_fd >= 0)
		return;
	k = keeper_connect(d->opt.keeper_path, false, d->keeper_key, &err);
	if (k < 0)
		return; /* no keeper: nothing was kept */
	listen_key(d, key, sizeof(key));
	if (keeper_get(k, key, &fd, &err) == 0) {
		if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
		    len > offsetof(struct sockaddr_un, sun_path) &&
		    strncmp(sa.sun_path, d->opt.socket_path, sizeof(sa.sun_path)) == 0 &&
		    lstat(d->opt.socket_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
			fcntl(fd, F_SETFD, FD_CLOEXEC);
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			d->listen_fd = fd;
			log_msg(LOG_INFO,
				"keeper %s: took back the listening socket %s (connections made meanwhile "
				"waited in it)",
				d->opt.keeper_path, d->opt.socket_path);
		} else {
			log_msg(LOG_WARN,
				"keeper %s: the listening socket it held is not bound to %s any more: a new "
				"one is made",
				d->opt.keeper_path, d->opt.socket_path);
			close(fd);
			keeper_drop(k, key, NULL);
		}
	}
	close(k);
}

bool handover_keeper_holds_listener(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	char key[64];
	int k, fd = -1;
	bool held;

	if (!d->opt.keeper_path || (k = keeper_connect(d->opt.keeper_path, false, d->keeper_key, &err)) < 0)
		return false;
	listen_key(d, key, sizeof(key));
	held = keeper_get(k, key, &fd, &err) == 0;
	if (fd >= 0)
		close(fd);
	close(k);
	return held;
}

void handover_keep_conn(struct ocitapd *d, struct conn *cn)
{
	struct ocitap_keeper_peer peer = { .pid = cn->peer_pid, .uid = cn->peer_uid, .ns = cn->peer_ns };
	struct ocitap_error err = { 0 };
	char key[64], id[OCITAP_KEEPER_NAME_MAX + 1], why[512];
	int r;

	if (d->keeper_fd < 0 || d->giving || d->keeper_no_wait || cn->wait_key || cn->report_only)
		return;
	peer.has_ns = cn->peer_ns.ns[OCITAP_NS_PID].ino != 0;
	if (ocitap_keeper_peer_format(&peer, id, sizeof(id)) < 0)
		return;
	snprintf(key, sizeof(key), OCITAP_KEEPER_WAIT_PREFIX "%d.%llu", (int)getpid(),
		 (unsigned long long)d->next_wait++);
	r = keeper_keep(d->keeper_fd, key, id, cn->fd, &err);
	if (r == 0) {
		cn->wait_key = ocitapd_xstrdup(key);
		log_msg(LOG_DEBUG, "keeper: holds the connection of pid %d too until it is read", (int)cn->peer_pid);
		return;
	}
	ocitap_error_format(&err, why, sizeof(why));
	if (r == -EREMOTEIO) { /* an earlier keeper: it answered, so the connection is fine */
		d->keeper_no_wait = true;
		log_msg(LOG_INFO,
			"keeper: does not hold connections not read yet (%s): a listener message is lost if "
			"ocitapd is killed between accepting and reading it",
			why);
	} else {
		handover_keeper_lost(d, why);
	}
}

void handover_drop_conn(struct ocitapd *d, struct conn *cn)
{
	struct ocitap_error err = { 0 };
	char why[512];
	int r;

	if (!cn->wait_key)
		return;
	/* "no such key": the keeper saw the peer gone with nothing left to read */
	if (d->keeper_fd >= 0 && !d->giving && (r = keeper_drop(d->keeper_fd, cn->wait_key, &err)) < 0 &&
	    r != -EREMOTEIO)
		handover_keeper_lost(d, ocitap_error_format(&err, why, sizeof(why)));
	free(cn->wait_key);
	cn->wait_key = NULL;
}

static void keeper_drop_fd(struct ocitapd *d, struct notify_fd *n)
{
	struct ocitap_error err = { 0 };
	char why[512];
	int r;

	if (d->keeper_fd < 0)
		return;
	/* "no such key": it saw the hang-up first and dropped its copy itself */
	r = keeper_drop(d->keeper_fd, n->key, &err);
	if (r < 0 && r != -EREMOTEIO)
		handover_keeper_lost(d, ocitap_error_format(&err, why, sizeof(why)));
}

void handover_keep(struct ocitapd *d, struct notify_fd *n)
{
	keeper_keep_fd(d, n);
	fdstore_keep(d, n);
}

void handover_drop(struct ocitapd *d, struct notify_fd *n)
{
	keeper_drop_fd(d, n);
	fdstore_remove(d, n);
}

/* The keeper never speaks unasked: its connection is readable when it is gone. */
static void keeper_gone(struct ocitapd *d, struct watch *w, uint32_t events)
{
	handover_keeper_lost(d, "keeper: gone");
}

/* Connect (starting a keeper when none listens) and hand it every fd held. */
void handover_reconnect(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	char line[512];
	size_t handed = 0, held = 0;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->keeper_w };
	int fd;

	d->keeper_w.fn = keeper_gone;
	fd = keeper_connect(d->opt.keeper_path, true, d->keeper_key, &err);

	if (fd < 0) {
		if (!d->keeper_said)
			log_msg(LOG_WARN, "%s; trying again", ocitap_error_format(&err, line, sizeof(line)));
		d->keeper_said = true;
		keeper_schedule_retry(d, 5000);
		return;
	}
	d->keeper_said = false;
	d->keeper_no_wait = false;
	d->keeper_fd = fd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		handover_keeper_lost(d, "keeper: cannot watch its connection");
		return;
	}
	keeper_keep_listener(d);
	for (size_t b = 0; b < OCITAPD_BUCKETS && d->keeper_fd >= 0; b++)
		for (struct container *c = d->buckets[b]; c && d->keeper_fd >= 0; c = c->next) {
			for (struct notify_fd *n = c->fds; n && d->keeper_fd >= 0; n = n->next) {
				held++;
				handed += keeper_keep_fd(d, n);
			}
			if (c->pidw) {
				c->pidw->kept = false; /* a new keeper holds nothing yet */
				handover_keep_pid(d, c->pidw);
			}
		}
	/* connections accepted while no keeper was there, nothing read from them yet */
	for (struct conn *cn = d->conns; cn && d->keeper_fd >= 0; cn = cn->next)
		if (!cn->wait_key && !cn->waiting_ack && cn->reader.len == 0 && cn->reader.n_fds == 0)
			handover_keep_conn(d, cn);
	if (d->keeper_fd >= 0) {
		d->keeper_failures = 0;
		metric_set("ocitap_keeper_up", 1, NULL);
		log_msg(LOG_INFO, "keeper %s: connected, holds %zu of %zu notify fd%s", d->opt.keeper_path, handed,
			held, held == 1 ? "" : "s");
	}
}

struct notify_fd *handover_find_fd(struct ocitapd *d, const char *key)
{
	for (size_t b = 0; b < OCITAPD_BUCKETS; b++)
		for (struct container *c = d->buckets[b]; c; c = c->next)
			for (struct notify_fd *n = c->fds; n; n = n->next)
				if (n->key && strcmp(n->key, key) == 0)
					return n;
	return NULL;
}

static void adopt_fd(const char *key, const char *id, int fd, void *userdata)
{
	struct ocitapd *d = userdata;
	struct ocitap_error err = { 0 };
	char name[OCITAP_POLICY_NAME_MAX], line[512];
	const struct ocitap_policy *policy;
	struct container *c;
	uint64_t serial;
	bool init, gone;
	struct notify_fd *n;

	if (strncmp(key, OCITAP_KEEPER_LISTEN_PREFIX, strlen(OCITAP_KEEPER_LISTEN_PREFIX)) == 0) {
		close(fd); /* the listening socket: taken before (handover_take_listener()) */
		return;
	}
	if (strncmp(key, OCITAP_KEEPER_PIDFD_PREFIX, strlen(OCITAP_KEEPER_PIDFD_PREFIX)) == 0) {
		/* attached once GIVE is over (attaching may ask the keeper) */
		struct kept_pidfd *kp = ocitapd_xcalloc(1, sizeof(*kp));

		kp->fd = fd;
		kp->key = ocitapd_xstrdup(key);
		kp->id = ocitapd_xstrdup(id);
		kp->next = d->kept_pidfds;
		d->kept_pidfds = kp;
		return;
	}
	if (strncmp(key, OCITAP_KEEPER_CONN_PREFIX, strlen(OCITAP_KEEPER_CONN_PREFIX)) == 0 ||
	    strncmp(key, OCITAP_KEEPER_WAIT_PREFIX, strlen(OCITAP_KEEPER_WAIT_PREFIX)) == 0) {
		struct ocitap_keeper_peer peer;

		if (ocitap_keeper_peer_parse(id, &peer) < 0) {
			log_msg(LOG_WARN, "keeper: a connection held as \"%s\" names no peer: closed", id);
			close(fd);
		} else {
			/* served once GIVE is over: serving may talk to the keeper */
			struct kept_conn *kc = ocitapd_xcalloc(1, sizeof(*kc));

			kc->fd = fd;
			kc->peer = peer;
			kc->next = d->kept;
			d->kept = kc;
		}
		return;
	}
	if (handover_find_fd(d, key)) { /* both the keeper and systemd's fd store had it */
		close(fd);
		return;
	}
	if (notify_check_fd(fd, &err) < 0) {
		log_msg(LOG_WARN, "container %s: the fd handed back as \"%s\" is refused: %s", id, key,
			ocitap_error_format(&err, line, sizeof(line)));
		close(fd);
		return;
	}
	c = container_get(d, id, true);
	if (ocitap_keeper_key_parse(key, &serial, &init, name, sizeof(name)) < 0) {
		log_msg(LOG_WARN, "container %s: keeper key \"%s\" is not one of ours; its fd gets the default policy",
			id, key);
		init = false;
		name[0] = '\0';
	} else if (serial >= d->next_serial) {
		d->next_serial = serial + 1;
	}
	policy = name[0] ? notify_find_policy(d, name) : NULL;
	gone = name[0] && !policy;
	if (gone) {
		policy = notify_fallback_policy(d, c);
		log_msg(LOG_WARN, "container %s: its policy \"%s\" is gone from the policy file; answered by %s", id,
			name, ocitap_policy_name(policy));
	}
	n = notify_add_fd(d, c, fd, init, key, policy, gone ? name : NULL);
	if (!n)
		return;
	d->adopted++;
	metric_add("ocitap_adopted_notify_fds_total", 1, NULL);
	if (init)
		exit_watch_stored_init(d, c);
}

static bool id_valid(int fd, uint64_t id)
{
	return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Answer the notification the previous daemon took, as it would have; count
 * it unless it did (COUNTED). */
static void answer_taken(struct ocitapd *d, struct notify_fd *n, uint64_t id, uint32_t arch, int nr, int32_t pid,
			 bool counted, const char *when)
{
	struct seccomp_notif *req = d->req;
	struct ocitap_action a = ocitap_policy_decide(n->policy, arch, nr);
	char *name = seccomp_syscall_resolve_num_arch(arch, nr);

	memset(req, 0, d->sizes.seccomp_notif);
	req->id = id;
	req->pid = (uint32_t)pid;
	req->data.arch = arch;
	req->data.nr = nr;
	if (!counted)
		notify_count(d, n->c, arch, nr, &a);
	notify_send_answer(d, n, req, &a);
	n->last_id = id;
	d->recovered++;
	metric_add("ocitap_recovered_notifications_total", 1, "exact", "true", NULL);
	log_msg(LOG_INFO, "container %s: answered %s, taken by the previous ocitapd but not answered (%s)", n->c->id,
		name ? name : "a syscall", when);
	free(name);
}

/*
 * What the previous daemon had taken and not answered (keeper-client.h:
 * struct inflight). Decided (or counted too): answer it as it would have.
 * Killed on its way back from RECV: the notification is in the record's
 * req, as the kernel wrote it. Killed inside RECV with nothing there (a
 * daemon that kept its RECV buffer private): the kernel gave it the next
 * id after the last one answered, but what syscall it was is lost: answer
 * it by ocitap_policy_blind().
 */
static void recover_inflight(struct ocitapd *d)
{
	struct inflight *f = d->inflight;
	const struct seccomp_notif *taken = (const struct seccomp_notif *)f->req;
	struct notify_fd *n = f->state != INFLIGHT_IDLE ? handover_find_fd(d, f->key) : NULL;

	if (n && (f->state == INFLIGHT_DECIDED || f->state == INFLIGHT_COUNTED) && id_valid(n->fd, f->id)) {
		answer_taken(d, n, f->id, f->arch, f->nr, f->pid, f->state == INFLIGHT_COUNTED,
			     f->state == INFLIGHT_COUNTED ? "killed while answering" : "killed as it decided");
	} else if (n && f->state == INFLIGHT_RECEIVING && taken->id && id_valid(n->fd, taken->id)) {
		answer_taken(d, n, taken->id, taken->data.arch, taken->data.nr, (int32_t)taken->pid, false,
			     "killed on its way back from taking it");
	} else if (n && f->state == INFLIGHT_RECEIVING && f->prev_id) {
		for (uint64_t id = f->prev_id + 1; id <= f->prev_id + 16; id++) {
			struct seccomp_notif *req = d->req;
			struct ocitap_action a;
			bool exact;
			char text[64];

			if (!id_valid(n->fd, id))
				continue;
			a = ocitap_policy_blind(n->policy, &exact);
			memset(req, 0, d->sizes.seccomp_notif);
			req->id = id;
			notify_send_answer(d, n, req, &a);
			n->last_id = id;
			d->recovered++;
			metric_add("ocitap_recovered_notifications_total", 1, "exact", exact ? "true" : "false", NULL);
			log_msg(exact ? LOG_INFO : LOG_WARN,
				"container %s: answered a notification the previous ocitapd was killed while taking "
				"(syscall unknown): %s%s",
				n->c->id, ocitap_action_format(&a, text, sizeof(text)),
				exact ? ", the policy's answer to every syscall" : ", the policy's refusal");
			break;
		}
	}
	memset(f->req, 0, sizeof(f->req));
	f->state = INFLIGHT_IDLE;
}

/*
 * The notify fds systemd's fd store gave back ($LISTEN_FDS, named by
 * $LISTEN_FDNAMES, for us only if $LISTEN_PID is our pid): ours are those
 * named "<key>/<container id>" that are seccomp notify fds.
 */

static int fdstore_take_back(struct ocitapd *d)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS"), *names = getenv("LISTEN_FDNAMES");
	const char *next = names ? names : "";
	int64_t v, n;
	int taken = 0;

	if (!pid || !fds || ocitap_parse_int64(pid, 1, INT32_MAX, &v) < 0 || (pid_t)v != getpid() ||
	    ocitap_parse_int64(fds, 0, 65536, &n) < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		char name[300] = "", *slash;
		size_t w = strcspn(next, ":");
		int fd = 3 + i;

		/* names are colon-separated, in fd order */
		if (w < sizeof(name)) {
			memcpy(name, next, w);
			name[w] = '\0';
		}
		next += w + (next[w] == ':');
		slash = strrchr(name, '/'); /* a policy name may hold one; a container id may not */
		if (!slash || notify_check_fd(fd, NULL) < 0)
			continue; /* not ours: left alone */
		*slash = '\0';
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		adopt_fd(name, slash + 1, fd, d);
		taken++;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return taken;
}

/*
 * The inits' pidfds the keeper held: each goes back to its run if that run
 * is still the container's and not known to have stopped (an init that
 * exited while no daemon ran is read now: its exit code or signal);
 * anything else is dropped there. Then every init watched is handed to the
 * keeper again (one opened from the stored pid during GIVE was not).
 */
static void attach_kept_pidfds(struct ocitapd *d)
{
	while (d->kept_pidfds) {
		struct kept_pidfd *kp = d->kept_pidfds;
		struct container *c = container_get(d, kp->id, false);
		unsigned long long serial = 0;
		long long run = 0;

		d->kept_pidfds = kp->next;
		if (sscanf(kp->key, OCITAP_KEEPER_PIDFD_PREFIX "%llu.%lld", &serial, &run) == 2 &&
		    serial >= d->next_serial)
			d->next_serial = serial + 1;
		/* a run recorded stopped without its exit (a spooled poststop
		 * replayed first) still gets it from the pidfd */
		if (c && c->run == run && !c->pidw && (c->lc.phase < OCITAP_PHASE_STOPPED || !c->lc.has_exit) &&
		    exit_attach_pidfd(d, c, kp->fd, kp->key) == 0) {
			log_msg(LOG_INFO, "container %s: the keeper kept its init's pidfd (run %lld)", c->id, run);
		} else {
			struct ocitap_error err = { 0 };

			close(kp->fd);
			if (d->keeper_fd >= 0)
				(void)keeper_drop(d->keeper_fd, kp->key, &err);
		}
		free(kp->key);
		free(kp->id);
		free(kp);
	}
	for (size_t b = 0; b < OCITAPD_BUCKETS; b++)
		for (struct container *c = d->buckets[b]; c; c = c->next)
			if (c->pidw)
				handover_keep_pid(d, c->pidw);
}

/* The connections the keeper accepted while no daemon ran, oldest first
 * (the list is newest first): each served as if accepted now. */
static void serve_kept_conns(struct ocitapd *d)
{
	struct kept_conn *rev = NULL;
	size_t n = 0;

	while (d->kept) {
		struct kept_conn *kc = d->kept;

		d->kept = kc->next;
		kc->next = rev;
		rev = kc;
	}
	while (rev) {
		struct kept_conn *kc = rev;

		rev = kc->next;
		peers_adopt_conn(d, kc->fd, &kc->peer);
		free(kc);
		n++;
	}
	if (n)
		log_msg(LOG_INFO, "keeper: served %zu connection%s made while no ocitapd ran", n, n == 1 ? "" : "s");
	d->kept_conns += n;
}

/* GIVE: while the keeper answers, nothing else may be asked of it (giving) */
static int take_back_all(struct ocitapd *d, struct ocitap_error *err)
{
	int n;

	d->giving = true;
	n = keeper_give(d->keeper_fd, adopt_fd, d, err);
	d->giving = false;
	return n;
}

/* At start: every notify fd the keeper (or systemd) holds becomes ours again. */
void handover_take_back(struct ocitapd *d)
{
	uint64_t adopted_before = d->adopted;
	struct ocitap_error err = { 0 };
	char why[512], path[PATH_MAX];
	int n = 0, from_store = fdstore_take_back(d);

	d->keeper_w.fn = keeper_gone;

	if (from_store)
		log_msg(LOG_INFO, "systemd's fd store: took back %d notify fd%s", from_store,
			from_store == 1 ? "" : "s");
	options_run_file(&d->opt, "ocitapd.inflight", path, sizeof(path));
	if (inflight_map(path, &d->inflight, &err) < 0)
		log_msg(LOG_WARN,
			"in-flight record: %s (a notification taken when ocitapd is killed may then "
			"wait until its container stops)",
			ocitap_error_format(&err, why, sizeof(why)));
	if (d->opt.keeper_path) {
		d->keeper_fd = keeper_connect(d->opt.keeper_path, true, d->keeper_key, &err);
		if (d->keeper_fd < 0) {
			log_msg(LOG_WARN, "%s; trying again every 5 s", ocitap_error_format(&err, why, sizeof(why)));
			metric_set("ocitap_keeper_up", 0, NULL);
			d->keeper_retry_ms = ocitap_now_ms() + 5000;
		} else if (take_back_all(d, &err) < 0) {
			handover_keeper_lost(d, ocitap_error_format(&err, why, sizeof(why)));
			attach_kept_pidfds(d); /* those it handed over before it failed */
			serve_kept_conns(d);
			n = 0;
		} else {
			n = (int)(d->adopted - adopted_before);
			attach_kept_pidfds(d);
			serve_kept_conns(d);
			if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->keeper_fd,
				      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &d->keeper_w }) < 0) {
				handover_keeper_lost(d, "keeper: cannot watch its connection");
			} else {
				metric_set("ocitap_keeper_up", 1, NULL);
				keeper_keep_listener(d);
				if (n)
					log_msg(LOG_INFO, "keeper %s: took back %d notify fd%s of a previous ocitapd",
						d->opt.keeper_path, n, n == 1 ? "" : "s");
				else
					log_msg(LOG_INFO, "keeper %s: connected", d->opt.keeper_path);
			}
		}
	}
	if (d->inflight)
		recover_inflight(d); /* every fd is back: whichever held the one it names */
}
