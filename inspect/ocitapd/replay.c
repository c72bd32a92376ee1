/*
 * replay.c: the spool, the reports the hooks wrote to disk when no daemon
 * took them (it was away, or did not answer in time). All of them at start,
 * each once, before the store thread runs; while running, a file that
 * appears (inotify) within the loop's next round. Each is applied as the
 * report it is (peers.c).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "peers.h"
#include "replay.h"

#define SPOOL_TAKEN ".taken" /* a spool file being applied while the daemon runs */

/*
 * The spool: reports the hooks wrote when they could not reach a daemon (it
 * was away, or did not answer in time), oldest first. At start (store set:
 * the loop's, before the store thread runs) all of them and their
 * "applied" marks go into one transaction: each is applied once, even if
 * ocitapd dies halfway. While running (store NULL), a file that appears is
 * renamed *.json.taken first, so that it is taken once, and unlinked once
 * its records are committed; a start puts any left *.taken back. A file
 * that does not parse is renamed *.bad and reported.
 */
static void replay_spool(struct ocitapd *d, struct ocitap_store *store)
{
	struct ocitap_error err = { 0 };
	char dir[PATH_MAX], path[PATH_MAX * 2], line[512];
	char **names;
	size_t n, replayed = 0;

	snprintf(dir, sizeof(dir), "%s/" OCITAP_SPOOL_DIR_NAME, d->opt.state_dir);
	if (ocitap_spool_list(dir, &names, &n, &err) < 0) {
		if (store)
			log_msg(LOG_ERR, "spool: %s", err.message);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct ocitap_hook_report rep;
		struct wop *op;
		char *buf = NULL, taken[PATH_MAX * 2 + 8];
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (store && ocitap_store_spool_seen(store, names[i], &err) == 1) {
			unlink(path); /* applied before a crash took the daemon down: only the file was left */
			continue;
		}
		if (!store) {
			snprintf(taken, sizeof(taken), "%s" SPOOL_TAKEN, path);
			if (rename(path, taken) < 0)
				continue; /* gone, or taken by a start meanwhile */
		}
		if (ocitap_read_regular_file(store ? path : taken, 1024 * 1024, OCITAP_READ_NOFOLLOW, &buf, &len,
					     &err) < 0 ||
		    ocitap_hook_report_parse(buf, len, NULL, &rep, &err) < 0) {
			char bad[PATH_MAX * 2 + 8];

			snprintf(bad, sizeof(bad), "%s.bad", path);
			log_msg(LOG_ERR, "spool: %s: %s; set aside as %s", names[i],
				ocitap_error_format(&err, line, sizeof(line)), bad);
			rename(store ? path : taken, bad);
			free(buf);
			continue;
		}
		peers_apply_report(d, &rep, false, 0, NULL, -1); /* the spool is root's (the state directory) */
		ocitap_hook_report_release(&rep);
		free(buf);
		op = wop_new(WOP_SPOOL, names[i]);
		op->path = ocitapd_xstrdup(store ? path : taken);
		writer_push(&d->writer, op);
		replayed++;
		metric_add("ocitap_spool_replays_total", 1, NULL);
	}
	if (replayed)
		log_msg(LOG_INFO, "spool: %s %zu report%s from %s", store ? "replaying" : "taking", replayed,
			replayed == 1 ? "" : "s", dir);
	ocitap_spool_list_free(names, n);
}

void replay_spools(struct ocitapd *d, struct ocitap_store *store)
{
	char dir[PATH_MAX];
	DIR *dp;
	struct dirent *e;

	/* files a daemon took while running and did not get to commit: again */
	snprintf(dir, sizeof(dir), "%s/" OCITAP_SPOOL_DIR_NAME, d->opt.state_dir);
	if ((dp = opendir(dir))) {
		while ((e = readdir(dp))) {
			size_t n = strlen(e->d_name), t = strlen(SPOOL_TAKEN);
			char from[PATH_MAX * 2], to[PATH_MAX * 2];

			if (n <= t || strcmp(e->d_name + n - t, SPOOL_TAKEN) != 0)
				continue;
			snprintf(from, sizeof(from), "%s/%s", dir, e->d_name);
			snprintf(to, sizeof(to), "%s/%.*s", dir, (int)(n - t), e->d_name);
			rename(from, to);
		}
		closedir(dp);
	}
	replay_spool(d, store);
}

/* inotify on the spool directory (watch callback): a hook spooled while we
 * run (it did not reach us in time): taken now, not at the next start. */
static void spool_changed(struct ocitapd *d, struct watch *w, uint32_t events)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(d->spool_fd, buf, sizeof(buf)) > 0)
		;
	replay_spool(d, NULL);
}

void replay_watch(struct ocitapd *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->spool_w };
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/" OCITAP_SPOOL_DIR_NAME, d->opt.state_dir);
	(void)mkdir(dir, 0700); /* where the hooks spool: watched from the start */
	d->spool_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->spool_fd < 0 || inotify_add_watch(d->spool_fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		log_msg(LOG_WARN,
			"spool %s: cannot watch it (%m): reports spooled while ocitapd runs wait for its "
			"next start",
			dir);
		if (d->spool_fd >= 0)
			close(d->spool_fd);
		d->spool_fd = -1;
		return;
	}
	d->spool_w.fn = spool_changed;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->spool_fd, &ev) < 0) {
		close(d->spool_fd);
		d->spool_fd = -1;
		return;
	}
	replay_spool(d, NULL); /* spooled between the start's replay and now */
}
