/*
 * replay.c: the spools, the reports the hooks wrote to disk when no daemon
 * took them (it was away, or did not answer in time). The state
 * directory's, and each --allow-uid user's (--user-runtime-dir/UID/
 * ocitap/spool: a rootless podman's hooks are root only in the user's
 * namespace and cannot write the state directory). All of them at start,
 * each once, before the store thread runs; while running, a file that
 * appears within the loop's next round (inotify on the state directory's,
 * a look every second at the users'). Each is applied as the report it is
 * (peers.c), spoken by the file's owner, as SO_PEERCRED names a peer: in a
 * user's spool only that user, and only for the runs it owns. And, at
 * start, the journal (journal.h): the reports a killed daemon answered
 * before it stored them, each spoken by the peer it had checked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "journal.h"
#include "metrics.h"
#include "peers.h"
#include "replay.h"

#define SPOOL_TAKEN ".taken" /* a spool file being applied while the daemon runs */
/* files of one user's spool taken in one go: a user with a full spool
 * neither holds up the start nor takes all of the loop's round */
#define USER_SPOOL_MAX_FILES 1000

/* One spool directory, and whose it is. */
struct spool {
	struct wop_dir *dir; /* every file is reached through it, never by path */
	char path[PATH_MAX]; /* for the log */
	char mark[32];	     /* how the store's "applied" marks name its files: "", or "user/UID/" */
	bool user;	     /* a user's: its files must be uid's */
	uid_t uid;
	size_t max; /* files taken in one go */
};

static void spool_release(struct spool *sp)
{
	wop_dir_unref(sp->dir);
	sp->dir = NULL;
}

static int open_state_spool(struct ocitapd *d, struct spool *sp)
{
	int fd = open(d->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	*sp = (struct spool){ .dir = wop_dir_new(fd), .max = SIZE_MAX };
	snprintf(sp->path, sizeof(sp->path), "%s", d->spool_dir);
	return 0;
}

/*
 * uid's spool, --user-runtime-dir/UID/ocitap/spool, opened a component at a
 * time without following a link, each of the three uid's own directory;
 * say: log what keeps it from being read (at start; not every second).
 * -ENOENT when it is not there (nothing was spooled).
 */
static int open_user_spool(struct ocitapd *d, uid_t uid, struct spool *sp, bool say)
{
	char part[16];
	const char *parts[] = { part, OCITAP_USER_DIR_NAME, OCITAP_SPOOL_DIR_NAME };
	int fd = open(d->opt.user_runtime_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	snprintf(part, sizeof(part), "%u", (unsigned)uid);
	*sp = (struct spool){ .user = true, .uid = uid, .max = USER_SPOOL_MAX_FILES };
	snprintf(sp->path, sizeof(sp->path), "%s/%u/" OCITAP_USER_SPOOL_DIR_NAME, d->opt.user_runtime_dir,
		 (unsigned)uid);
	snprintf(sp->mark, sizeof(sp->mark), "user/%u/", (unsigned)uid);
	for (size_t i = 0; fd >= 0 && i < sizeof(parts) / sizeof(parts[0]); i++) {
		int next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;

		close(fd);
		fd = next;
		if (fd < 0 && errno != ENOENT && say)
			log_msg(LOG_WARN, "spool %s: %s: %s: not read", sp->path, parts[i],
				errno == ELOOP || errno == ENOTDIR ? "a symbolic link, or not a directory"
								   : strerror(errno));
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_uid != uid) {
			if (say)
				log_msg(LOG_WARN, "spool %s: %s is owned by uid %u, not %u: not read", sp->path,
					parts[i], (unsigned)st.st_uid, (unsigned)uid);
			close(fd);
			return -EPERM;
		}
	}
	if (fd < 0)
		return -errno;
	sp->dir = wop_dir_new(fd);
	return 0;
}

/* A file that cannot be taken is renamed NAME.SUFFIX (.bad, .refused) in
 * its directory: kept for whoever wants to see it, never read again. */
static void set_aside(const struct spool *sp, const char *cur, const char *name, const char *suffix, const char *why)
{
	char aside[NAME_MAX + 16];

	snprintf(aside, sizeof(aside), "%s%s", name, suffix);
	log_msg(LOG_ERR, "spool: %s/%s: %s; set aside as %s", sp->path, name, why, aside);
	renameat(sp->dir->fd, cur, sp->dir->fd, aside);
}

/*
 * Who the file speaks for, as SO_PEERCRED says who a peer is: its owner
 * (root's hooks: root). NULL when it may; else the reason (a metric label)
 * and in why what it was.
 */
static const char *spooled_refused(struct ocitapd *d, const struct spool *sp, uid_t owner,
				   const struct ocitap_hook_report *rep, char *why, size_t size)
{
	if (sp->user && owner != sp->uid) {
		snprintf(why, size, "owned by uid %u, in uid %u's spool", (unsigned)owner, (unsigned)sp->uid);
		return "uid";
	}
	if (!peers_uid_allowed(d, owner)) {
		snprintf(why, size, "a report of uid %u, which is not root and not --allow-uid", (unsigned)owner);
		return "uid";
	}
	return peers_owner_refused(d, owner, rep->state.id, why, size);
}

/*
 * One spool's reports, oldest first. At start (store set: the loop's,
 * before the store thread runs) each one and its "applied" mark go into
 * the start's one transaction: each is applied once, even if ocitapd dies
 * halfway. While running (store NULL), a file is renamed *.json.taken
 * first, so that it is taken once, and unlinked once its records are
 * committed; a start puts any left *.taken back. A file that cannot be
 * read or parsed is set aside as *.bad, one its owner may not speak for as
 * *.refused (logged and counted as a refused report).
 */
static void replay_spool(struct ocitapd *d, struct ocitap_store *store, struct spool *sp)
{
	struct ocitap_error err = { 0 };
	char line[512];
	char **names;
	size_t n, replayed = 0;

	if (ocitap_spool_list_at(sp->dir->fd, &names, &n, &err) < 0) {
		if (store)
			log_msg(LOG_ERR, "spool %s: %s", sp->path, err.message);
		return;
	}
	for (size_t i = 0; i < n && replayed < sp->max; i++) {
		struct ocitap_hook_report rep;
		char mark[sizeof(sp->mark) + OCITAP_SPOOL_NAME_MAX], taken[NAME_MAX + 16], why[400];
		const char *cur = names[i], *reason;
		struct stat st;
		struct wop *op;
		char *buf = NULL;
		size_t len;
		int fd;

		snprintf(mark, sizeof(mark), "%s%s", sp->mark, names[i]);
		if (store && ocitap_store_spool_seen(store, mark, &err) == 1) {
			/* applied before a crash took the daemon down: only the file was left */
			unlinkat(sp->dir->fd, names[i], 0);
			continue;
		}
		if (!store) {
			snprintf(taken, sizeof(taken), "%s" SPOOL_TAKEN, names[i]);
			if (renameat(sp->dir->fd, names[i], sp->dir->fd, taken) < 0)
				continue; /* gone, or taken by a start meanwhile */
			cur = taken;
		}
		fd = openat(sp->dir->fd, cur, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			set_aside(sp, cur, names[i], ".bad", fd < 0 ? strerror(errno) : "not a regular file");
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (ocitap_read_fd(fd, 1024 * 1024, -1, 0, &buf, &len, &err) < 0 ||
		    ocitap_hook_report_parse(buf, len, NULL, &rep, &err) < 0) {
			close(fd);
			set_aside(sp, cur, names[i], ".bad", ocitap_error_format(&err, line, sizeof(line)));
			free(buf);
			continue;
		}
		close(fd);
		free(buf);
		if ((reason = spooled_refused(d, sp, st.st_uid, &rep, why, sizeof(why)))) {
			metric_add("ocitap_refused_reports_total", 1, "reason", reason, NULL);
			snprintf(line, sizeof(line), "refused: %s", why);
			set_aside(sp, cur, names[i], ".refused", line);
			ocitap_hook_report_release(&rep);
			continue;
		}
		peers_apply_report(d, &rep, false, st.st_uid, NULL, -1);
		ocitap_hook_report_release(&rep);
		op = wop_new(WOP_SPOOL, mark);
		op->path = ocitapd_xstrdup(cur);
		op->dir = wop_dir_ref(sp->dir);
		writer_push(&d->writer, op);
		replayed++;
		metric_add("ocitap_spool_replays_total", 1, NULL);
	}
	if (replayed)
		log_msg(LOG_INFO, "spool: %s %zu report%s from %s", store ? "replaying" : "taking", replayed,
			replayed == 1 ? "" : "s", sp->path);
	ocitap_spool_list_free(names, n);
}

/* Files a daemon took while running and did not get to commit: again. */
static void put_back_taken(const struct spool *sp)
{
	int fd = fcntl(sp->dir->fd, F_DUPFD_CLOEXEC, 3);
	DIR *dp = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!dp) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(dp))) {
		size_t n = strlen(e->d_name), t = strlen(SPOOL_TAKEN);
		char to[NAME_MAX + 1];

		if (n <= t || strcmp(e->d_name + n - t, SPOOL_TAKEN) != 0)
			continue;
		snprintf(to, sizeof(to), "%.*s", (int)(n - t), e->d_name);
		renameat(sp->dir->fd, e->d_name, sp->dir->fd, to);
	}
	closedir(dp);
}

/* Every user's spool (store: at start, as replay_spool()). */
static void replay_user_spools(struct ocitapd *d, struct ocitap_store *store)
{
	if (!d->opt.user_runtime_dir)
		return;
	for (size_t i = 0; i < d->opt.n_allow; i++) {
		struct spool sp;

		if (d->opt.allow[i] == 0 || open_user_spool(d, d->opt.allow[i], &sp, store != NULL) < 0)
			continue;
		if (store)
			put_back_taken(&sp);
		replay_spool(d, store, &sp);
		spool_release(&sp);
	}
}

void replay_spools(struct ocitapd *d, struct ocitap_store *store)
{
	struct spool sp;
	int r;

	if ((r = open_state_spool(d, &sp)) == 0) {
		put_back_taken(&sp);
		replay_spool(d, store, &sp);
		spool_release(&sp);
	} else if (r != -ENOENT) {
		log_msg(LOG_ERR, "spool: cannot read the spool directory %s: %s", d->spool_dir, strerror(-r));
	}
	replay_user_spools(d, store);
}

void replay_users(struct ocitapd *d)
{
	replay_user_spools(d, NULL);
}

/* inotify on the spool directory (watch callback): a hook spooled while we
 * run (it did not reach us in time): taken now, not at the next start. */
static void spool_changed(struct ocitapd *d, struct watch *w, uint32_t events)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct spool sp;

	while (read(d->spool_fd, buf, sizeof(buf)) > 0)
		;
	if (open_state_spool(d, &sp) == 0) {
		replay_spool(d, NULL, &sp);
		spool_release(&sp);
	}
}

void replay_watch(struct ocitapd *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->spool_w };

	(void)mkdir(d->spool_dir, 0700); /* where the hooks spool: watched from the start */
	d->spool_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->spool_fd < 0 || inotify_add_watch(d->spool_fd, d->spool_dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		log_msg(LOG_WARN,
			"spool %s: cannot watch it (%m): reports spooled while ocitapd runs wait for its "
			"next start",
			d->spool_dir);
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
	spool_changed(d, &d->spool_w, 0); /* spooled between the start's replay and now */
}

/* The reports a killed daemon answered and did not store: each applied
 * as it was, once (one the store has already, the same stage and monoNs,
 * is dropped), before the store thread runs. */
void replay_journal(struct ocitapd *d)
{
	struct journal_slot *left[JOURNAL_SLOTS];
	size_t n = journal_left(d->journal, left, JOURNAL_SLOTS), bad = 0, older = 0;

	for (size_t i = 0; i < n; i++)
		older += !journal_slot_this_boot(left[i]);
	if (older)
		log_msg(LOG_WARN,
			"journal: %zu report%s from before this boot, or of unknown boot (the journal is not on a "
			"tmpfs, or an older ocitapd wrote it): recorded, their pids not trusted",
			older, older == 1 ? "" : "s");

	for (size_t i = 0; i < n; i++) {
		struct ocitap_hook_report rep;
		struct ocitap_error err = { 0 };
		char line[512];

		if (ocitap_hook_report_parse(left[i]->report, left[i]->len, NULL, &rep, &err) < 0) {
			log_msg(LOG_ERR, "journal: a report cannot be read (%s): dropped",
				ocitap_error_format(&err, line, sizeof(line)));
			journal_release(left[i]);
			bad++;
			continue;
		}
		peers_apply_report(d, &rep, false, (uid_t)left[i]->uid, NULL, -1);
		{
			/* a run the previous daemon had only just heard of: its
			 * init is watched again from here, as a stored run's is
			 * (exit_watch_restored(), with the same checks of the pid) */
			struct container *c = container_get(d, rep.state.id, false);
			bool creates = rep.stage == OCITAP_STAGE_CREATE_RUNTIME || rep.stage == OCITAP_STAGE_PRESTART;

			if (c && creates && rep.state.pid > 0 && rep.wall_ns > 0 && c->stored_pid <= 0 &&
			    c->lc.phase < OCITAP_PHASE_STOPPED && journal_slot_this_boot(left[i])) {
				c->stored_pid = rep.state.pid;
				c->stored_created_wall_ns = rep.wall_ns; /* a pid started later is not its init */
			}
		}
		writer_push_journal_release(&d->writer, rep.state.id, left[i], writer_note_early(&d->writer));
		ocitap_hook_report_release(&rep);
	}
	if (n)
		log_msg(LOG_INFO,
			"journal: %zu report%s answered by the previous daemon, perhaps not stored: each recorded once "
			"(one the store has already is dropped)",
			n - bad, n - bad == 1 ? "" : "s");
}
