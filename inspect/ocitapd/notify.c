/*
 * notify.c: seccomp user notifications, answered by the policy each notify
 * fd was registered with
 * (lib/policy.h) on the loop's thread: each notify fd is watched, RECV'd
 * (the in-flight record written around it, see handover.c), decided, SENT
 * and counted. Also the hot fd (the one answered last, waited on directly
 * by loop.c), a fd's hang-up (its processes are gone; the init's means
 * stopped), policies by name and SIGHUP's reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container.h"
#include "handover.h"
#include "http.h"
#include "keeper-client.h"
#include "metrics.h"
#include "notify.h"

/* Debian 12's headers (Linux 6.1) lack these (6.6+); detected at run time. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

void notify_count(struct ocitapd *d, struct container *c, uint32_t arch, int nr, const struct ocitap_action *a)
{
	char action[48];

	for (size_t i = 0; i < c->n_counts; i++) {
		struct counter *k = &c->counts[i];

		if (k->nr == nr && k->arch == arch && k->action.kind == a->kind &&
		    k->action.errno_value == a->errno_value) {
			k->count++;
			if (k->slot) /* durable now: a store into the shared mapping */
				__atomic_store_n(&k->slot->answered, k->count, __ATOMIC_RELEASE);
			return;
		}
	}
	if (c->n_counts == c->cap_counts) {
		size_t ncap = c->cap_counts ? c->cap_counts * 2 : 8;
		struct counter *n = realloc(c->counts, ncap * sizeof(*n));

		if (!n)
			return; /* counting is best effort; the answer was sent */
		c->counts = n;
		c->cap_counts = ncap;
	}
	c->counts[c->n_counts] = (struct counter){ arch, nr, *a, 1, 0, NULL };
	c->counts[c->n_counts].slot =
		ledger_take(d->ledger, c->id, c->run, arch, nr, ocitap_action_format(a, action, sizeof(action)));
	if (c->counts[c->n_counts].slot)
		__atomic_store_n(&c->counts[c->n_counts].slot->answered, 1, __ATOMIC_RELEASE);
	c->n_counts++;
}

/* The container's live fds and their policies, for the API (http.h). */
static void tell_http(struct ocitapd *d, const struct container *c)
{
	struct json_object *list;
	int i = 0;

	if (!d->http)
		return;
	list = json_object_new_array();
	for (const struct notify_fd *n = c->fds; n && i < c->n_fds; n = n->next) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "init", json_object_new_boolean(n->init));
		json_object_object_add(o, "policy", json_object_new_string(n->policy_name));
		json_object_object_add(o, "policyFallback", json_object_new_boolean(n->policy_fallback));
		json_object_object_add(o, "policyRequested",
				       n->policy_fallback ? json_object_new_string(n->policy_requested) : NULL);
		json_object_array_put_idx(list, (size_t)(c->n_fds - 1 - i++), o); /* c->fds: newest first */
	}
	http_set_notify_fds(d->http, c->id, c->n_fds, json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN));
	json_object_put(list);
}

static void kill_target(int notify_fd, const struct seccomp_notif *req)
{
	int pidfd = ocitap_pidfd_open((pid_t)req->pid);

	if (pidfd < 0)
		return;
	/* the pid could have been reused between the notification and the open */
	if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	close(pidfd);
}

/*
 * The in-flight record (ocitapd.h): plain stores to a shared page, ordered
 * for the compiler only (a killed process's stores are not lost, and its
 * successor reads them after the kill). Before RECV: which fd, and the
 * last id answered there (the kernel numbers a filter's notifications one
 * by one); after it: the notification itself; after SEND: idle.
 */
static void inflight_receiving(struct ocitapd *d, struct notify_fd *n)
{
	struct inflight *f = d->inflight;

	if (!f)
		return;
	if (d->inflight_owner != n) {
		f->state = INFLIGHT_IDLE;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		snprintf(f->key, sizeof(f->key), "%s", n->key ? n->key : "");
		d->inflight_owner = n;
	}
	f->prev_id = n->last_id;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	f->state = INFLIGHT_RECEIVING;
}

static void inflight_decided(struct ocitapd *d, const struct seccomp_notif *req)
{
	struct inflight *f = d->inflight;

	if (!f)
		return;
	f->id = req->id;
	f->arch = req->data.arch;
	f->nr = req->data.nr;
	f->pid = (int32_t)req->pid;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	f->state = INFLIGHT_DECIDED;
}

static void inflight_counted(struct ocitapd *d)
{
	if (d->inflight) {
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		d->inflight->state = INFLIGHT_COUNTED;
	}
}

static void inflight_idle(struct ocitapd *d)
{
	if (d->inflight) {
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		d->inflight->state = INFLIGHT_IDLE;
	}
}

/* OCITAP_FAULT (tests only): die by SIGKILL at the chosen point of the Nth notification */
static void fault_point(struct ocitapd *d, unsigned where)
{
	if ((unsigned)d->opt.fault == where && ++d->fault_seen == d->opt.fault_at) {
		if (where == FAULT_AFTER_RECV_BLIND && d->inflight) /* as a daemon that kept it private */
			memset(d->inflight->req, 0, sizeof(d->inflight->req));
		raise(SIGKILL);
	}
}

/* Where RECV writes: the in-flight record's page when there is one (and
 * the kernel's struct fits), else the daemon's own buffer. */
static struct seccomp_notif *recv_buffer(struct ocitapd *d)
{
	if (d->inflight && d->sizes.seccomp_notif <= sizeof(d->inflight->req))
		return (struct seccomp_notif *)d->inflight->req;
	return d->req;
}

void notify_send_answer(struct ocitapd *d, struct notify_fd *n, const struct seccomp_notif *req,
			const struct ocitap_action *a)
{
	memset(d->resp, 0, d->sizes.seccomp_notif_resp);
	d->resp->id = req->id;
	switch (a->kind) {
	case OCITAP_ACTION_CONTINUE:
		d->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		break;
	case OCITAP_ACTION_ERRNO:
		d->resp->error = -a->errno_value;
		break;
	case OCITAP_ACTION_KILL:
		d->resp->error = -EPERM;
		kill_target(n->fd, req);
		break;
	}
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_SEND, d->resp) < 0 && errno != ENOENT)
		log_msg(LOG_WARN, "container %s: cannot answer a notification: %m", n->c->id);
}

/*
 * Take one notification and answer it. Counted before it is answered: a
 * kill inside the SEND (where the daemon is as likely to be as anywhere)
 * would otherwise leave an answer its successor cannot know of.
 */
void notify_answer(struct ocitapd *d, struct notify_fd *n)
{
	struct seccomp_notif *req = recv_buffer(d);
	struct container *c = n->c;
	struct ocitap_action a;

	memset(req, 0, d->sizes.seccomp_notif);
	inflight_receiving(d, n);
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
		inflight_idle(d);
		return; /* ENOENT: the target died before we looked; EINTR: try again on the next wake-up */
	}
	fault_point(d, FAULT_AFTER_RECV);
	fault_point(d, FAULT_AFTER_RECV_BLIND);
	inflight_decided(d, req);
	fault_point(d, FAULT_AFTER_DECIDE);
	a = ocitap_policy_decide(n->policy, req->data.arch, req->data.nr);
	notify_count(d, c, req->data.arch, req->data.nr, &a);
	inflight_counted(d);
	c->notifications++;
	d->notifications++;
	notify_send_answer(d, n, req, &a);
	n->last_id = req->id;
	inflight_idle(d);
}

static void use_sync_wakeup(struct ocitapd *d, int fd)
{
	if (d->sync_wakeup == 0)
		return;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0) {
		if (d->sync_wakeup < 0)
			log_msg(LOG_INFO, "seccomp: answers hand the CPU straight back to the waiting container "
					  "(the kernel's synchronous wake-up)");
		d->sync_wakeup = 1;
	} else if (d->sync_wakeup < 0) {
		log_msg(LOG_INFO, "seccomp: this kernel cannot hand the CPU straight back to a container on an answer "
				  "(no synchronous wake-up: %m); answers take the ordinary, slightly slower way");
		d->sync_wakeup = 0;
	}
}

/*
 * While a fd is hot it is waited on directly (loop_wait(d)), so it is masked
 * in the epoll set (no EPOLLIN; hang-ups are always reported) lest every
 * notification also wake the epoll fd.
 */
void notify_set_hot(struct ocitapd *d, struct notify_fd *n)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (d->hot == n)
		return;
	if (d->hot) {
		ev.data.ptr = &d->hot->watch;
		epoll_ctl(d->epfd, EPOLL_CTL_MOD, d->hot->fd, &ev);
	}
	if (n) {
		ev.events = 0;
		ev.data.ptr = &n->watch;
		epoll_ctl(d->epfd, EPOLL_CTL_MOD, n->fd, &ev);
	}
	d->hot = n;
}

static void notify_event(struct ocitapd *d, struct watch *w, uint32_t events)
{
	struct notify_fd *n = container_of(w, struct notify_fd, watch);

	if (events & EPOLLIN) {
		notify_answer(d, n);
		notify_set_hot(d, n);
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		struct container *c = n->c;
		bool init = n->init;

		log_msg(LOG_DEBUG, "container %s: notify fd hung up (%s)", c->id, init ? "init" : "exec");
		notify_remove_fd(d, n);
		if (init) {
			struct ocitap_observation obs = { .phase = OCITAP_PHASE_STOPPED,
							  .source = OCITAP_SOURCE_HANGUP,
							  .mono_ns = ocitap_mono_ns(),
							  .wall_ns = ocitap_wall_ns() };

			container_observe(d, c, &obs, NULL);
		}
		container_settle(d, c);
	}
}

int notify_check_fd(int fd, struct ocitap_error *err)
{
	char link[64], target[128];
	ssize_t len;
	uint64_t id = 0;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, target, sizeof(target) - 1);
	if (len < 0)
		return ocitap_error_set(err, -errno, "seccompFd", "cannot tell what it is: %s", strerror(errno));
	target[len] = '\0';
	if (strcmp(target, "anon_inode:seccomp notify") != 0)
		return ocitap_error_set(err, -EBADF, "seccompFd", "not a seccomp notify fd (%s)", target);
	/* the kernel's own answer: a listener knows no notification 0 (ENOENT);
	 * any other fd refuses the request */
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 || errno != ENOENT)
		return ocitap_error_set(err, -EBADF, "seccompFd", "not a seccomp notify fd (%s)", target);
	return 0;
}

/*
 * Watch a notify fd of c (taking ownership of fd). key: its name at the
 * keeper when it came from there; NULL for a new one, which is named here
 * and handed to the keeper.
 */
struct notify_fd *notify_add_fd(struct ocitapd *d, struct container *c, int fd, bool init, const char *key,
				const struct ocitap_policy *policy, const char *requested)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct notify_fd *n = ocitapd_xcalloc(1, sizeof(*n));
	char name[OCITAP_KEEPER_NAME_MAX + 1];

	*n = (struct notify_fd){ .watch.fn = notify_event, .fd = fd, .init = init, .c = c };
	n->policy = policy ? policy : c->policy;
	snprintf(n->policy_name, sizeof(n->policy_name), "%s", ocitap_policy_name(n->policy));
	n->policy_fallback = requested != NULL;
	snprintf(n->policy_requested, sizeof(n->policy_requested), "%s", requested ? requested : "");
	if (!c->fds) { /* the first: the container's own, shown and inherited */
		c->policy = n->policy;
		snprintf(c->policy_name, sizeof(c->policy_name), "%s", n->policy_name);
		c->policy_fallback = n->policy_fallback;
		snprintf(c->policy_requested, sizeof(c->policy_requested), "%s", n->policy_requested);
	}
	/* a fallback is named by the policy asked for: after a restart it is
	 * again answered as an unknown name is, and shown so */
	if (!key && ocitap_keeper_key_format(name, sizeof(name), d->next_serial++, init,
					     n->policy_requested[0] ? n->policy_requested : n->policy_name) == 0)
		key = name;
	n->key = key ? ocitapd_xstrdup(key) : NULL;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	use_sync_wakeup(d, fd);
	ev.data.ptr = &n->watch;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_msg(LOG_ERR, "container %s: cannot watch its notify fd: %m", c->id);
		close(fd);
		free(n->key);
		free(n);
		return NULL;
	}
	n->next = c->fds;
	c->fds = n;
	c->n_fds++;
	__atomic_fetch_add(&d->n_notify_fds, 1, __ATOMIC_RELAXED);
	tell_http(d, c);
	if (key == name) {
		handover_keep(d, n);
	}
	return n;
}

void notify_remove_fd(struct ocitapd *d, struct notify_fd *n)
{
	struct container *c = n->c;

	if (d->hot == n)
		d->hot = NULL;
	if (d->inflight_owner == n)
		d->inflight_owner = NULL;
	handover_drop(d, n);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, n->fd, NULL);
	close(n->fd);
	for (struct notify_fd **p = &c->fds; *p; p = &(*p)->next)
		if (*p == n) {
			*p = n->next;
			break;
		}
	c->n_fds--;
	__atomic_fetch_sub(&d->n_notify_fds, 1, __ATOMIC_RELAXED);
	tell_http(d, c);
	free(n->key);
	free(n);
}

const struct ocitap_policy *notify_find_policy(struct ocitapd *d, const char *name)
{
	const struct ocitap_policy *p = ocitap_policy_set_find(d->policies, name);

	if (!p) {
		d->unknown_policy++;
		metric_add("ocitap_unknown_policy_total", 1, NULL);
	}
	return p;
}

const struct ocitap_policy *notify_fallback_policy(struct ocitapd *d, const struct container *c)
{
	if (d->opt.unknown_policy == UNKNOWN_POLICY_AUDIT)
		return c->policy ? c->policy : ocitap_policy_set_default(d->policies);
	return ocitap_policy_set_find(d->policies, "deny");
}

/* After a reload: the policy for what was registered as name (updated),
 * fallback and requested (c->policy NULL while the container's own is picked). */
static const struct ocitap_policy *reload_pick(struct ocitapd *d, const struct container *c, char *name, bool *fallback,
					       char *requested)
{
	const struct ocitap_policy *p = ocitap_policy_set_find(d->policies, *fallback ? requested : name);

	if (p) {
		*fallback = false;
		requested[0] = '\0';
	} else if (!*fallback) {
		log_msg(LOG_WARN, "container %s: policy \"%s\" is gone from the policy file", c->id, name);
		*fallback = true;
		snprintf(requested, OCITAP_POLICY_NAME_MAX, "%s", name);
	}
	if (!p)
		p = notify_fallback_policy(d, c);
	snprintf(name, OCITAP_POLICY_NAME_MAX, "%s", ocitap_policy_name(p));
	return p;
}

void notify_reload_policies(struct ocitapd *d)
{
	struct ocitap_policy_set *set;
	struct ocitap_error err = { 0 };

	if (ocitap_policy_set_load(d->opt.policy_path, &set, &err) < 0) {
		char line[512];

		log_msg(LOG_ERR, "policy %s: %s; keeping the policies in use", d->opt.policy_path,
			ocitap_error_format(&err, line, sizeof(line)));
		return;
	}
	/* a policy gone from the file: its fds get what an unknown name gets
	 * (never more than they had, unless --unknown-policy audit); one that
	 * asked for a name the file now has gets it */
	ocitap_policy_set_free(d->policies);
	d->policies = set;
	for (size_t b = 0; b < OCITAPD_BUCKETS; b++)
		for (struct container *c = d->buckets[b]; c; c = c->next) {
			c->policy = NULL;
			c->policy = reload_pick(d, c, c->policy_name, &c->policy_fallback, c->policy_requested);
			for (struct notify_fd *n = c->fds; n; n = n->next)
				n->policy = reload_pick(d, c, n->policy_name, &n->policy_fallback, n->policy_requested);
			tell_http(d, c);
		}
	log_msg(LOG_INFO, "policies reloaded from %s (%zu)", d->opt.policy_path, ocitap_policy_set_count(set));
}

void notify_drain(struct ocitapd *d)
{
	/* answer whatever is pending before the fds close (SIGTERM) */
	for (size_t b = 0; b < OCITAPD_BUCKETS; b++)
		for (struct container *c = d->buckets[b]; c; c = c->next)
			for (struct notify_fd *n = c->fds; n; n = n->next)
				for (int i = 0; i < 64; i++) {
					struct pollfd p = { .fd = n->fd, .events = POLLIN };

					if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
						break;
					notify_answer(d, n);
				}
}
