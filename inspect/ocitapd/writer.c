/*
 * writer.c: the store thread. The event loop queues records and
 * never waits on disk; this thread takes everything queued at once, writes
 * it in one transaction and commits. A hook's report is answered before,
 * from the journal (journal.h), whose slot is freed here once committed;
 * one the journal cannot take waits for this commit to be answered: an
 * answered report survives kill -9 of ocitapd. With --sync-interval MS (default 1000) a commit is
 * written to the WAL and this thread fsyncs it within MS: a power loss can
 * take at most that much; with 0 every commit is on disk before its ack. A failed commit
 * (disk full) keeps the batch and retries; the daemon meanwhile keeps
 * answering notifications and says it is degraded. A run's names are told
 * here too (names.h reads the engines' files), before the transaction of
 * their batch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "writer.h"

void wop_free(struct wop *op)
{
	if (!op)
		return;
	free(op->id);
	free(op->bundle);
	for (size_t i = 0; i < op->n_annotations; i++) {
		free((char *)op->annotations[i].key);
		free((char *)op->annotations[i].value);
	}
	free(op->annotations);
	free(op->kind_text);
	free(op->source);
	free(op->syscall);
	free(op->action);
	free(op->path);
	wop_dir_unref(op->dir);
	free(op->meta_value);
	ocitap_profile_names_free(op->profile_names);
	free(op->profile_out);
	free(op->profile_in);
	ocitap_names_release(&op->names);
	free(op);
}

/* A run's names from what its creation said (bundle, annotations, owner)
 * and the engines' own records (Docker's data root, in path; podman's
 * storage): files are read here, on the store thread, never on the loop,
 * and before the batch's transaction, which no read delays. Once: a batch
 * retried for the store's sake is not told again. */
static void tell_names(struct wop *op)
{
	struct ocitap_names_source src = { .id = op->id,
					   .bundle = op->bundle,
					   .annotations = op->annotations,
					   .n_annotations = op->n_annotations,
					   .docker_root = op->path,
					   .owner = op->owner };
	struct ocitap_error err = { 0 };
	struct ocitap_names *n = &op->names;
	char line[512];

	op->names_done = true;
	if (ocitap_names_derive(&src, n, &err) < 0) {
		log_msg(LOG_ERR, "container %s: its names: out of memory", op->id);
		return;
	}
	if (err.code)
		log_msg(LOG_WARN, "container %s: its name is not known: %s", op->id,
			ocitap_error_format(&err, line, sizeof(line)));
	if (n->name || n->pod || n->pod_namespace || n->manager)
		log_msg(LOG_DEBUG, "container %s: name %s, pod %s, namespace %s, manager %s", op->id,
			n->name ? n->name : "-", n->pod ? n->pod : "-", n->pod_namespace ? n->pod_namespace : "-",
			n->manager ? n->manager : "-");
}

/* A traced container's profile: IN read and merged here, on the store
 * thread, so that no file is read on the loop that answers notifications.
 * Both under the rules of profile.h (ocitap_profile_read(), _write()):
 * what they refuse (-EPERM) is counted as refused, the rest as failed. The
 * profile is no more readable than IN. */
static void write_profile(struct wop *op)
{
	struct ocitap_error err = { 0 };
	char *in = NULL, *json = NULL, line[512];
	size_t len = 0;
	mode_t in_mode = 0644;
	const char *what = "", *result;
	int r;

	if (op->profile_in && (r = ocitap_profile_read(op->profile_in, &in, &len, &in_mode, &err)) < 0)
		what = "if: ";
	else if ((r = ocitap_profile_build(op->profile_names, in, len, &json, &err)) < 0)
		what = "";
	else if ((r = ocitap_profile_write(op->profile_out, json, strlen(json), (0644 & in_mode) | 0600, &err)) < 0)
		what = "cannot write it: ";
	else
		what = NULL;
	if (what) {
		result = r == -EPERM ? "refused" : "failed";
		log_msg(LOG_ERR, "container %s: no seccomp profile written to %s: %s%s", op->id, op->profile_out->path,
			what, ocitap_error_format(&err, line, sizeof(line)));
	} else {
		result = "written";
		log_msg(LOG_INFO, "container %s: seccomp profile written to %s", op->id, op->profile_out->path);
	}
	metric_add("ocitap_profiles_total", 1, "result", result, NULL);
	/* what became of it, for the run's record (apply()) */
	op->meta_value = strdup(result);
	op->syscall = what ? strdup(ocitap_error_format(&err, line, sizeof(line))) : NULL;
	free(in);
	free(json);
}

static int apply(struct ocitap_store *s, struct wop *op, struct ocitap_error *err)
{
	switch (op->kind) {
	case WOP_CONTAINER:
		return ocitap_store_put_container(s, op->id, op->run, op->bundle, op->pid,
						  op->has_annotations ? op->annotations : NULL, op->n_annotations,
						  op->owner, op->wall_ns, err);
	case WOP_EVENT:
		op->ev.container_id = op->id;
		op->ev.kind = op->kind_text;
		op->ev.source = op->source;
		op->ev.run = op->run;
		if (op->once && op->ev.mono_ns &&
		    ocitap_store_has_hook_report(s, op->id, op->source, op->ev.mono_ns) == 1)
			return 0;
		return ocitap_store_append_event(s, &op->ev, NULL, err);
	case WOP_NOTIFICATIONS: {
		char key[40], upto[24];
		int r = op->count > 0 ? ocitap_store_add_notifications(s, op->id, op->run, op->syscall, op->action,
								       op->count, err)
				      : 0;

		if (r < 0 || !op->ledger)
			return r;
		/* how far the slot's count is in the store: in the same transaction */
		snprintf(key, sizeof(key), LEDGER_META "%llu", (unsigned long long)op->ledger->gen);
		if (op->ledger_release)
			return ocitap_store_delete_meta(s, key, err);
		snprintf(upto, sizeof(upto), "%llu", (unsigned long long)op->ledger_upto);
		return ocitap_store_set_meta(s, key, upto, err);
	}
	case WOP_PROFILE_STATUS:
		return ocitap_store_set_profile(s, op->id, op->run, op->meta_value, op->path, op->syscall, err);
	case WOP_NAMES:
		if (!op->names_done)
			tell_names(op);
		return ocitap_store_set_names(s, op->id, op->run, &op->names, err);
	case WOP_RUN_INIT:
		op->run_init.cgroup = op->path;
		return ocitap_store_set_run_init(s, op->id, op->run, &op->run_init, err);
	case WOP_SPOOL: {
		int r = ocitap_store_spool_mark(s, op->id, err);

		return r == -EEXIST ? 0 : r;
	}
	case WOP_NOP:
		return 0;
	case WOP_META:
		return ocitap_store_set_meta(s, op->id, op->meta_value, err);
	case WOP_FAILED:
		return ocitap_store_set_failed(s, op->id, op->run, op->meta_value, err);
	case WOP_PROFILE:
		if (!op->profile_done) {
			op->profile_done = true; /* a batch retried for the store's sake writes it once */
			write_profile(op);
		}
		return ocitap_store_set_profile(s, op->id, op->run, op->meta_value, op->profile_out->path, op->syscall,
						err);
	case WOP_PRUNE: {
		int r = ocitap_store_prune(s, op->before_wall_ns, err);

		if (r > 0)
			log_msg(LOG_INFO, "retention: removed %d stopped container%s", r, r == 1 ? "" : "s");
		return r < 0 ? r : 0;
	}
	}
	return 0;
}

static void hand_back(struct writer *w, struct wop *batch, int error)
{
	uint64_t one = 1;
	bool unsent = false;

	/* "ok" goes out from here, at once: the loop that owns the connection
	 * leaves it alone until it is handed back (waiting_ack), and waking the
	 * loop first would add a thread switch to every hook's wait */
	for (struct wop *op = batch; op; op = op->next)
		if (op->ack && !error)
			op->ack->sent = send(op->ack->fd, OCITAP_REPORT_ACK, strlen(OCITAP_REPORT_ACK),
					     MSG_NOSIGNAL | MSG_DONTWAIT) >= 0;
	pthread_mutex_lock(&w->lock);
	for (struct wop *op = batch; op; op = op->next)
		if (op->ack) {
			op->ack->error = error;
			unsent |= error || !op->ack->sent;
			op->ack->next = w->acked;
			__atomic_store_n(&w->acked, op->ack, __ATOMIC_RELEASE);
			op->ack = NULL;
		}
	pthread_mutex_unlock(&w->lock);
	/* answered connections wait for the loop's next round to be closed
	 * (it collects them every round while any is open, within 100 ms):
	 * waking it now would compete with the hook for the CPU just when
	 * the hook is exiting; an answer still to send cannot wait */
	if (unsent && write(w->done_fd, &one, sizeof(one)) < 0)
		log_msg(LOG_ERR, "store thread: cannot wake the event loop: %m");
}

/* The commits written since the last sync go to disk (--sync-interval). */
static void sync_store(struct writer *w)
{
	struct ocitap_error err = { 0 };

	if (!w->unsynced_since_ms)
		return;
	if (ocitap_store_sync(w->store, &err) < 0) {
		log_msg(LOG_ERR, "store: %s; trying again in %d ms", err.message, w->sync_interval_ms);
		w->unsynced_since_ms = ocitap_now_ms();
		return;
	}
	w->syncs++;
	w->unsynced_since_ms = 0;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct wop *batch = NULL;

	for (;;) {
		struct ocitap_error err = { 0 };
		int r;

		pthread_mutex_lock(&w->lock);
		while (!w->head && !w->stop && !batch) {
			if (w->unsynced_since_ms) {
				int64_t due = w->unsynced_since_ms + w->sync_interval_ms;
				struct timespec ts = { .tv_sec = due / 1000, .tv_nsec = (due % 1000) * 1000000 };

				if (ocitap_now_ms() < due &&
				    pthread_cond_timedwait(&w->wake, &w->lock, &ts) != ETIMEDOUT)
					continue;
				pthread_mutex_unlock(&w->lock);
				sync_store(w);
				pthread_mutex_lock(&w->lock);
				continue;
			}
			pthread_cond_wait(&w->wake, &w->lock);
		}
		if (!batch) {
			batch = w->head;
			w->head = w->tail = NULL;
		} else if (w->head) {
			/* a failed batch is retried together with what came since */
			struct wop *last = batch;

			while (last->next)
				last = last->next;
			last->next = w->head;
			w->head = w->tail = NULL;
		}
		if (!batch && w->stop) {
			pthread_mutex_unlock(&w->lock);
			sync_store(w);
			break;
		}
		pthread_mutex_unlock(&w->lock);

		for (struct wop *op = batch; op; op = op->next)
			if (op->kind == WOP_NAMES && !op->names_done)
				tell_names(op);
		r = ocitap_store_begin(w->store, &err);
		for (struct wop *op = batch; r >= 0 && op; op = op->next)
			r = apply(w->store, op, &err);
		if (r >= 0)
			r = ocitap_store_commit(w->store, &err);
		if (r < 0) {
			ocitap_store_rollback(w->store);
			pthread_mutex_lock(&w->lock);
			w->retrying = batch;
			pthread_mutex_unlock(&w->lock);
			__atomic_fetch_add(&w->failures, 1, __ATOMIC_RELAXED);
			if (!w->degraded)
				log_msg(LOG_ERR, "store: %s; retrying, the daemon keeps answering", err.message);
			__atomic_store_n(&w->degraded, true, __ATOMIC_RELAXED);
			if (w->stop && w->failures > 50) {
				pthread_mutex_lock(&w->lock);
				w->retrying = NULL;
				pthread_mutex_unlock(&w->lock);
				hand_back(w, batch, r);
				break;
			}
			nanosleep(&(struct timespec){ 0, 200 * 1000 * 1000 }, NULL);
			continue;
		}
		pthread_mutex_lock(&w->lock);
		w->retrying = NULL;
		pthread_mutex_unlock(&w->lock);
		if (w->degraded)
			log_msg(LOG_INFO, "store: writing again");
		__atomic_store_n(&w->degraded, false, __ATOMIC_RELAXED);
		/* before hand_back(): the HTTP cache's generation moves before any
		 * hook hears "ok" (writer_commits()) */
		__atomic_fetch_add(&w->commits, 1, __ATOMIC_RELEASE);
		if (w->sync_interval_ms && !w->unsynced_since_ms)
			w->unsynced_since_ms = ocitap_now_ms();
		for (struct wop *op = batch; op; op = op->next) {
			/* the report is in the store: its journal slot is free, and
			 * readers waiting for it may read (batches commit in order) */
			journal_release(op->journal);
			op->journal = NULL;
			if (op->early_seq)
				__atomic_store_n(&w->early_committed, op->early_seq, __ATOMIC_RELEASE);
			if (op->kind == WOP_SPOOL &&
			    (op->dir ? unlinkat(op->dir->fd, op->path, 0) : unlink(op->path)) < 0 && errno != ENOENT)
				log_msg(LOG_WARN, "spool: cannot remove %s: %m", op->path);
			if (op->kind == WOP_NOTIFICATIONS && op->ledger && op->ledger_release)
				__atomic_store_n(&op->ledger->used, 0, __ATOMIC_RELEASE); /* committed: free */
		}
		hand_back(w, batch, 0);
		{
			if (w->committed)
				w->committed(w->committed_userdata);
		}
		while (batch) {
			struct wop *next = batch->next;

			wop_free(batch);
			batch = next;
		}
	}
	while (batch) {
		struct wop *next = batch->next;

		wop_free(batch);
		batch = next;
	}
	return NULL;
}

void writer_foreach_held(struct writer *w, void (*fn)(const struct wop *op, void *userdata), void *userdata)
{
	pthread_mutex_lock(&w->lock);
	for (const struct wop *op = w->retrying; op; op = op->next)
		fn(op, userdata);
	for (const struct wop *op = w->head; op; op = op->next) /* moved to the batch, under this lock, at its retry */
		fn(op, userdata);
	pthread_mutex_unlock(&w->lock);
}

int writer_init(struct writer *w, struct ocitap_store *store, int sync_interval_ms, void (*committed)(void *userdata),
		void *userdata)
{
	memset(w, 0, sizeof(*w));
	w->store = store;
	w->sync_interval_ms = sync_interval_ms;
	w->committed = committed;
	w->committed_userdata = userdata;
	w->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->done_fd < 0)
		return -errno;
	pthread_mutex_init(&w->lock, NULL);
	{
		pthread_condattr_t a;

		/* timed waits against ocitap_now_ms() */
		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&w->wake, &a);
		pthread_condattr_destroy(&a);
	}
	return 0;
}

int writer_start(struct writer *w)
{
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
		return -EAGAIN;
	w->started = true;
	return 0;
}

void writer_push(struct writer *w, struct wop *op)
{
	op->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = op;
	else
		w->head = op;
	w->tail = op;
	pthread_mutex_unlock(&w->lock);
}

void writer_kick(struct writer *w)
{
	bool work;

	pthread_mutex_lock(&w->lock);
	work = w->head != NULL;
	pthread_mutex_unlock(&w->lock);
	/* signalled after the unlock: the woken thread takes the lock at once
	 * instead of sleeping again until this thread lets it go */
	if (work)
		pthread_cond_signal(&w->wake);
}

uint64_t writer_note_early(struct writer *w)
{
	return __atomic_add_fetch(&w->early_answered, 1, __ATOMIC_RELEASE);
}

uint64_t writer_early_pending(struct writer *w)
{
	uint64_t committed = __atomic_load_n(&w->early_committed, __ATOMIC_ACQUIRE);

	return __atomic_load_n(&w->early_answered, __ATOMIC_ACQUIRE) - committed;
}

void writer_push_journal_release(struct writer *w, const char *id, struct journal_slot *slot, uint64_t seq)
{
	struct wop *op = wop_new(WOP_NOP, id);

	op->journal = slot;
	op->early_seq = seq;
	writer_push(w, op);
}

bool writer_await_early(struct writer *w, int max_ms)
{
	uint64_t want = __atomic_load_n(&w->early_answered, __ATOMIC_ACQUIRE);

	for (int i = 0; __atomic_load_n(&w->early_committed, __ATOMIC_ACQUIRE) < want; i++) {
		/* a commit takes well under a millisecond: a short nap, not a
		 * condition the store thread would have to signal every commit */
		if (i >= max_ms * 5 || __atomic_load_n(&w->degraded, __ATOMIC_RELAXED))
			return false;
		nanosleep(&(struct timespec){ 0, 200 * 1000 }, NULL);
	}
	return true;
}

struct writer_ack *writer_take_acked(struct writer *w)
{
	struct writer_ack *acked;
	uint64_t n;

	(void)!read(w->done_fd, &n, sizeof(n));
	pthread_mutex_lock(&w->lock);
	acked = w->acked;
	__atomic_store_n(&w->acked, NULL, __ATOMIC_RELAXED); /* also read without the lock, as a hint */
	pthread_mutex_unlock(&w->lock);
	return acked;
}

bool writer_has_acked(struct writer *w)
{
	return __atomic_load_n(&w->acked, __ATOMIC_ACQUIRE) != NULL;
}

void writer_get_stats(struct writer *w, struct writer_stats *ret)
{
	*ret = (struct writer_stats){ .commits = __atomic_load_n(&w->commits, __ATOMIC_RELAXED),
				      .failures = __atomic_load_n(&w->failures, __ATOMIC_RELAXED),
				      .syncs = __atomic_load_n(&w->syncs, __ATOMIC_RELAXED),
				      .degraded = __atomic_load_n(&w->degraded, __ATOMIC_RELAXED) };
}

uint64_t writer_commits(struct writer *w)
{
	return __atomic_load_n(&w->commits, __ATOMIC_ACQUIRE);
}

struct wop *wop_new(enum wop_kind kind, const char *id)
{
	struct wop *op = calloc(1, sizeof(*op));

	if (!op || (id && !(op->id = strdup(id)))) {
		log_msg(LOG_ERR, "out of memory");
		abort();
	}
	op->kind = kind;
	op->wall_ns = ocitap_wall_ns();
	return op;
}

struct wop_dir *wop_dir_new(int fd)
{
	struct wop_dir *dir = malloc(sizeof(*dir));

	if (!dir) {
		log_msg(LOG_ERR, "out of memory");
		abort();
	}
	dir->fd = fd;
	dir->refs = 1;
	return dir;
}

struct wop_dir *wop_dir_ref(struct wop_dir *dir)
{
	__atomic_add_fetch(&dir->refs, 1, __ATOMIC_RELAXED);
	return dir;
}

void wop_dir_unref(struct wop_dir *dir)
{
	if (dir && __atomic_sub_fetch(&dir->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		close(dir->fd);
		free(dir);
	}
}

void writer_stop(struct writer *w)
{
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	while (w->head) { /* never started: what was queued is dropped */
		struct wop *next = w->head->next;

		wop_free(w->head);
		w->head = next;
	}
	w->tail = NULL;
	if (w->done_fd >= 0)
		close(w->done_fd);
	w->done_fd = -1;
}
