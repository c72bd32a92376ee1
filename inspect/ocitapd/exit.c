/*
 * exit.c: how a container's init ended, from a pidfd on it (lib/proc.h):
 * opened when the runtime names the init (listener message, prestart or
 * createRuntime hook) or when a restarted daemon finds the stored init
 * still alive. Its exit is an observation with source "pidfd".
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "container.h"
#include "exit.h"
#include "handover.h"
#include "tracking.h"

static void pidfd_finish(struct ocitapd *d, struct pid_watch *pw, const struct ocitap_exit *ex)
{
	struct container *c = pw->c;
	struct ocitap_observation obs = { .phase = OCITAP_PHASE_STOPPED,
					  .source = OCITAP_SOURCE_PIDFD,
					  .mono_ns = ocitap_mono_ns(),
					  .wall_ns = ocitap_wall_ns() };

	if (ex) {
		obs.has_exit = true;
		obs.exit_code = ex->exited ? ex->code : 0;
		obs.signal = ex->signaled ? ex->signal : 0;
	} else {
		log_msg(LOG_DEBUG, "container %s: the kernel gave no exit status", c->id);
	}
	handover_drop_pid(d, pw); /* its exit is ours now: the keeper's copy goes */
	close(pw->fd);
	c->pidw = NULL;
	free(pw);
	container_observe(d, c, &obs, NULL);
	container_settle(d, c);
}

/*
 * The pidfd polls readable when the init exits, but the kernel publishes the
 * exit status (PIDFD_INFO_EXIT) only once the parent (the runtime) has
 * reaped it. Until then: stop watching the level-triggered fd and ask again
 * on the loop's next ticks, for a few seconds at most. Asked in the middle
 * of the reap, the kernel says ESRCH although the status comes a moment
 * later (the runtime reaps as soon as we wake: the same instant): asked
 * again too, for REAP_RACE_MS (an ESRCH that lasts means nothing was kept).
 */
#define REAP_RACE_MS 500
static void pidfd_event(struct ocitapd *d, struct watch *w, uint32_t events)
{
	struct pid_watch *pw = container_of(w, struct pid_watch, watch);
	struct ocitap_exit ex;
	int r = ocitap_pidfd_exit(pw->fd, &ex);

	epoll_ctl(d->epfd, EPOLL_CTL_DEL, pw->fd, NULL);
	if (r == -EAGAIN || r == -ESRCH) {
		pw->give_up_ms = ocitap_now_ms() + (r == -ESRCH ? REAP_RACE_MS : 3000);
		pw->next_reaping = d->reaping;
		d->reaping = pw;
		return;
	}
	pidfd_finish(d, pw, r == 0 ? &ex : NULL);
}

void exit_retry_reaping(struct ocitapd *d)
{
	int64_t now = ocitap_now_ms();

	for (struct pid_watch **p = &d->reaping; *p;) {
		struct pid_watch *pw = *p;
		struct ocitap_exit ex;
		int r = ocitap_pidfd_exit(pw->fd, &ex);

		if (r == -ESRCH && pw->give_up_ms > now + REAP_RACE_MS)
			pw->give_up_ms = now + REAP_RACE_MS;
		if ((r == -EAGAIN || r == -ESRCH) && now < pw->give_up_ms) {
			p = &pw->next_reaping;
			continue;
		}
		*p = pw->next_reaping;
		pidfd_finish(d, pw, r == 0 ? &ex : NULL);
	}
}

void exit_finish_now(struct ocitapd *d, struct container *c)
{
	struct pid_watch *pw = c->pidw;
	struct ocitap_exit ex;

	if (!pw)
		return;
	for (struct pid_watch **p = &d->reaping; *p; p = &(*p)->next_reaping)
		if (*p == pw) {
			*p = pw->next_reaping;
			break;
		}
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, pw->fd, NULL);
	pidfd_finish(d, pw, ocitap_pidfd_exit(pw->fd, &ex) == 0 ? &ex : NULL);
}

/* The kernel facts the run is bound to, read while the pidfd vouches
 * that pid is still its init: its start time, namespaces and cgroup. */
static void queue_run_init(struct ocitapd *d, struct container *c, pid_t pid)
{
	struct wop *op = container_wop(c, WOP_RUN_INIT);
	char *cgroup = NULL;

	if (ocitap_proc_start_ticks("/proc", pid, &c->init_start_ticks) < 0)
		c->init_start_ticks = 0;
	op->run_init.start_ticks = c->init_start_ticks;
	if (c->has_init_ns) {
		op->run_init.mnt_ns = c->init_ns.ns[OCITAP_NS_MNT].ino;
		op->run_init.pid_ns = c->init_ns.ns[OCITAP_NS_PID].ino;
	}
	if (ocitap_proc_cgroup("/proc", pid, &cgroup) == 0)
		op->path = cgroup; /* writer.c: the cgroup of a WOP_RUN_INIT */
	writer_push(&d->writer, op);
}

/* Watch fd, a pidfd of c's init (the keeper's copy, under key). */
static int watch_pidfd(struct ocitapd *d, struct container *c, int fd, const char *key)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct pid_watch *pw = calloc(1, sizeof(*pw));

	if (!pw)
		return -ENOMEM;
	*pw = (struct pid_watch){ .watch.fn = pidfd_event, .fd = fd, .c = c };
	ev.data.ptr = &pw->watch;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(pw);
		return -errno;
	}
	if (key) {
		pw->key = ocitapd_xstrdup(key);
		pw->kept = true;
	}
	c->pidw = pw;
	return 0;
}

int exit_attach_pidfd(struct ocitapd *d, struct container *c, int fd, const char *key)
{
	int r;

	if (c->pidw)
		return -EEXIST;
	r = watch_pidfd(d, c, fd, key);
	if (r < 0)
		return r;
	c->init_pid = c->stored_pid; /* the run's init, whatever became of it */
	/* still running (its pidfd not readable): the pid is still that
	 * process, whose namespaces bind peers that say they are inside it */
	if (c->init_pid > 0 && poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 0) == 0)
		c->has_init_ns = ocitap_ns_ids_read("/proc", c->init_pid, &c->init_ns, NULL) == 0;
	return 0;
}

void exit_watch_init_fd(struct ocitapd *d, struct container *c, pid_t pid, int fd)
{
	if (c->pidw || pid <= 0 || watch_pidfd(d, c, fd, NULL) < 0) {
		close(fd);
		return;
	}
	c->init_pid = pid;
	/* read now, while the pidfd vouches that pid is still this init (if it
	 * has exited already, the pidfd still tells how it ended) */
	if (poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 0) == 0) {
		c->has_init_ns = ocitap_ns_ids_read("/proc", pid, &c->init_ns, NULL) == 0;
		queue_run_init(d, c, pid);
	}
	handover_keep_pid(d, c->pidw); /* so that an exit while no daemon runs is still read */
}

void exit_watch_init(struct ocitapd *d, struct container *c, pid_t pid)
{
	int fd;

	if (c->pidw || pid <= 0)
		return;
	fd = ocitap_pidfd_open(pid);
	if (fd < 0) {
		log_msg(LOG_DEBUG, "container %s: no pidfd for pid %d: %s", c->id, pid, strerror(-fd));
		return;
	}
	exit_watch_init_fd(d, c, pid, fd);
}

/*
 * The init of a restored run, if the stored pid is still that process:
 * its start time must be the one the run is bound to (the store has it
 * since schema 2); for a run stored without it, one that started after
 * the container was first seen is a reused pid (btime has a one-second
 * granularity; two seconds of slack). 1: watched; -ESRCH: the run's init
 * is gone (only said of a run bound to its init's start time); 0: neither.
 */
int exit_watch_stored_init(struct ocitapd *d, struct container *c)
{
	uint64_t ticks;
	int64_t start_ns;
	int r;

	if (c->pidw)
		return 1;
	if (c->stored_pid <= 0 || c->lc.phase == OCITAP_PHASE_STOPPED)
		return 0;
	r = ocitap_proc_start_ticks("/proc", c->stored_pid, &ticks);
	if (r == -ENOENT || r == -ESRCH)
		return c->init_start_ticks ? -ESRCH : 0;
	if (r < 0 || ocitap_proc_start_wall_ns("/proc", ticks, &start_ns) < 0)
		return 0;
	if (c->init_start_ticks && ticks != c->init_start_ticks) {
		log_msg(LOG_INFO, "container %s: pid %d is no longer its init (started at tick %llu, not %llu)", c->id,
			c->stored_pid, (unsigned long long)ticks, (unsigned long long)c->init_start_ticks);
		return -ESRCH;
	}
	if (c->stored_created_wall_ns && start_ns > c->stored_created_wall_ns + 2000000000LL) {
		log_msg(LOG_DEBUG, "container %s: pid %d is no longer its init", c->id, c->stored_pid);
		return 0;
	}
	exit_watch_init(d, c, c->stored_pid);
	if (!c->pidw) /* it ended between the two looks */
		return c->init_start_ticks ? -ESRCH : 0;
	tracking_adopt(d, c);
	return 1;
}

/*
 * At start, once the keeper and systemd's fd store have given back what
 * they held: every run the store has as not stopped whose init is not
 * watched yet (neither kept its pidfd nor its notify fd: both killed
 * together, --keeper off) is watched from the stored pid if that is still
 * its init. One whose init is gone ended while nothing watched it: it is
 * stopped now (source init-gone), its exit unknown, rather than left
 * running forever.
 */
void exit_watch_restored(struct ocitapd *d)
{
	size_t watched = 0, gone = 0;

	for (size_t b = 0; b < OCITAPD_BUCKETS; b++)
		for (struct container *c = d->buckets[b]; c; c = c->next) {
			struct ocitap_observation obs = { .phase = OCITAP_PHASE_STOPPED,
							  .source = OCITAP_SOURCE_INIT_GONE };
			bool had = c->pidw != NULL;
			int r;

			if (had || c->lc.phase == OCITAP_PHASE_UNKNOWN || c->lc.phase == OCITAP_PHASE_STOPPED)
				continue;
			r = exit_watch_stored_init(d, c);
			if (r > 0) {
				watched++;
				continue;
			}
			if (r != -ESRCH)
				continue;
			log_msg(LOG_WARN,
				"container %s: its init (pid %d) ended while no ocitapd and no keeper watched it: "
				"stopped, exit unknown",
				c->id, c->stored_pid);
			obs.mono_ns = ocitap_mono_ns();
			obs.wall_ns = ocitap_wall_ns();
			container_observe(d, c, &obs, NULL);
			container_settle(d, c);
			gone++;
		}
	if (watched || gone)
		log_msg(LOG_INFO, "store: %zu init%s watched again from the stored pid (no pidfd was kept), %zu gone",
			watched, watched == 1 ? "" : "s", gone);
}
