/*
 * loop.c: the daemon's one event loop. Every fd it waits on has a struct
 * watch (ocitapd.h) whose callback runs when the fd is ready, in the manner
 * of redis' ae.c; between rounds, the timers: peers past their deadline,
 * inits not yet reaped, the keeper's reconnect, notification counts to the
 * store and the users' spools (every second), and retention (every minute). What one round
 * queued goes to the store thread in one commit. The wait itself keeps
 * the notify fd answered last "hot" (loop_wait()): the notification round
 * trip depends on it. What a signal means is main.c's business.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "container.h"
#include "exit.h"
#include "handover.h"
#include "loop.h"
#include "metrics.h"
#include "notify.h"
#include "peers.h"
#include "replay.h"
#include "tracer.h"

int loop_init(struct ocitapd *d)
{
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	return d->epfd < 0 ? -errno : 0;
}

int loop_add(struct ocitapd *d, int fd, struct watch *w,
	     void (*fn)(struct ocitapd *d, struct watch *w, uint32_t events))
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	w->fn = fn;
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void loop_release(struct ocitapd *d)
{
	if (d->epfd >= 0)
		close(d->epfd);
	d->epfd = -1;
}

/*
 * epoll_wait, except right after a notification was answered. Then the
 * container that made it is likely to make the next one at once, and we
 * sleep in poll() on that fd itself and on the epoll fd: a direct waiter on
 * the notify fd is what lets the kernel's synchronous wake-up
 * (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) hand the CPU straight to us, which an
 * epoll wait-queue callback cannot. Anything else that becomes ready wakes
 * the poll through the epoll fd (where the hot fd is masked, see notify_set_hot()).
 * After 50 ms without a notification on it, the fd is no longer hot.
 */
static int loop_wait(struct ocitapd *d, struct epoll_event *events, int max, int timeout_ms)
{
	struct notify_fd *hot = d->hot;
	struct pollfd p[2];
	int r;

	if (!hot)
		return epoll_wait(d->epfd, events, max, timeout_ms);
	p[0] = (struct pollfd){ .fd = hot->fd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = d->epfd, .events = POLLIN };
	r = poll(p, 2, timeout_ms < 50 ? timeout_ms : 50);
	if (r <= 0) {
		notify_set_hot(d, NULL);
		return r;
	}
	if (p[0].revents & POLLIN)
		notify_answer(d, hot);
	else if (p[0].revents)
		notify_set_hot(d, NULL); /* hung up: epoll reports it, and the fd is removed there */
	if (!(p[1].revents & POLLIN))
		return 0;
	return epoll_wait(d->epfd, events, max, 0);
}

struct timers {
	int64_t prune_every, next_flush, next_prune;
};

static void run_timers(struct ocitapd *d, struct timers *t)
{
	int64_t now = ocitap_now_ms();

	if (d->n_conns)
		peers_expire(d);
	if (d->reaping)
		exit_retry_reaping(d);
	if (d->opt.keeper_path && d->keeper_fd < 0 && now >= d->keeper_retry_ms)
		handover_reconnect(d);
	if (now >= t->next_flush) {
		container_flush_all_counts(d);
		metric_set("ocitap_bpf_lost_events_total", (double)tracer_lost_events(d->tracer), NULL);
		if (!d->stopping)
			replay_users(d);
		t->next_flush = now + 1000;
	}
	if (now >= t->next_prune) {
		struct wop *op = wop_new(WOP_PRUNE, "");

		op->before_wall_ns = ocitap_wall_ns() - d->opt.retention_s * 1000000000LL;
		container_evict_stopped(d, op->before_wall_ns);
		writer_push(&d->writer, op);
		t->next_prune = now + t->prune_every;
	}
}

int loop_run(struct ocitapd *d)
{
	struct epoll_event events[64];
	/* pruning runs once a minute, or once per --retention when that is shorter */
	struct timers t = { .prune_every = d->opt.retention_s < 60
						   ? (d->opt.retention_s > 0 ? d->opt.retention_s : 1) * 1000
						   : 60000 };
	int64_t stop_by = 0;

	t.next_flush = ocitap_now_ms() + 1000;
	t.next_prune = ocitap_now_ms() + t.prune_every;
	/* stopping, the connections already accepted are finished (a runtime's
	 * listener message carries a container's only notify fd): 2 s at most */
	while (!d->stopping || (d->n_conns && (!stop_by || ocitap_now_ms() < stop_by))) {
		int n;

		if (d->stopping && !stop_by) {
			epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->listen_fd, NULL);
			if (d->report_fd >= 0)
				epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->report_fd, NULL);
			stop_by = ocitap_now_ms() + 2000;
		}
		n = loop_wait(d, events, 64, d->reaping ? 10 : d->n_conns ? 100 : 1000);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERR, "epoll_wait: %m");
			return 1;
		}
		if (d->n_conns && writer_has_acked(&d->writer))
			peers_collect_acked(d);
		for (int i = 0; i < n; i++) {
			struct watch *w = events[i].data.ptr;

			w->fn(d, w, events[i].events);
		}
		run_timers(d, &t);
		writer_kick(&d->writer); /* what this round queued, in one commit */
	}
	notify_drain(d);
	container_flush_all_counts(d);
	return 0;
}
