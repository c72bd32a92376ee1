/*
 * writer.h: the store thread. The event loop queues records (struct wop)
 * and never waits on disk; the thread writes each batch in one transaction
 * and, once it is durable, answers the hooks that wait for it (struct
 * writer_ack) and calls the committed callback (the HTTP event stream and
 * the push thread wake). A failed commit is retried, and nothing it holds
 * is acknowledged before it lands.
 */
#ifndef OCITAPD_WRITER_H
#define OCITAPD_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocitap-private.h"

struct ledger_slot;
struct journal_slot;

/* What the store thread is asked to do; strings are owned by the op. */
enum wop_kind {
	WOP_CONTAINER,
	WOP_EVENT,
	WOP_NOTIFICATIONS,
	WOP_PRUNE,
	WOP_SPOOL,
	WOP_NOP /* writes nothing, carries an ack */,
	WOP_META /* id = key, meta_value */,
	WOP_PROFILE /* write a profile to path (outside the store: a failure is logged, not retried) */,
	WOP_FAILED /* the container stopped before its program started; meta_value: why */,
	WOP_RUN_INIT /* the kernel facts the run is bound to (run_init; cgroup in path) */,
	WOP_PROFILE_STATUS /* what became of the run's profile: meta_value status, path, syscall the error */,
	WOP_NAMES /* the run's names, told from bundle, annotations, owner and the Docker data root (path) */
};

/*
 * A hook waiting for its report to be durable: the store thread sends
 * OCITAP_REPORT_ACK on fd itself once the commit holding it lands (sent
 * true), then hands the ack back to the loop (writer_take_acked()), which
 * answers an error when there was one and closes the connection.
 */
struct writer_ack {
	int fd;
	int error; /* 0, or -errno from the store */
	bool sent; /* the store thread answered "ok" itself */
	struct writer_ack *next;
};

/* A spool directory, open once for the WOP_SPOOL ops of its files and
 * freed with the last of them (a user's is never reached by its path
 * again: the user could change what the path leads to). */
struct wop_dir {
	int fd;
	unsigned refs; /* atomic: the store thread frees ops too */
};

struct wop {
	struct wop *next;
	enum wop_kind kind;
	char *id;
	int64_t run; /* the run of container id it is about (container_wop() sets it) */
	/* WOP_CONTAINER (and WOP_NAMES: bundle, annotations, owner) */
	char *bundle;
	pid_t pid;
	struct ocitap_annotation *annotations; /* keys and values owned */
	size_t n_annotations;
	bool has_annotations;
	int64_t owner; /* the uid that began the run */
	/* WOP_EVENT */
	struct ocitap_event ev;
	char *kind_text, *source;
	bool once; /* a spooled hook report: not written if the store has it (sent too, taken by a daemon before) */
	/* WOP_NOTIFICATIONS */
	char *syscall, *action;
	int64_t count;
	struct ledger_slot *ledger; /* its durable twin: committed up to ledger_upto (meta ledger.<gen>) */
	uint64_t ledger_upto;
	bool ledger_release; /* the counter is done: its slot is freed once this is committed */
	/* WOP_RUN_INIT */
	struct ocitap_run_init run_init;
	/* WOP_NAMES: what was told (names.h), once, before the batch's transaction */
	struct ocitap_names names;
	bool names_done;
	/* WOP_PRUNE */
	int64_t before_wall_ns;
	/* WOP_META */
	char *meta_value;
	/* WOP_SPOOL: id is the spool file's name as marked applied, path (in dir,
	 * when set) is unlinked once committed */
	char *path;
	struct wop_dir *dir;
	int64_t wall_ns;
	/* WOP_PROFILE: the profile of profile_names (merged with the profile at
	 * profile_in, if any) written to profile_out (profile.h: by its rules) */
	char **profile_names;
	struct ocitap_profile_place *profile_out, *profile_in;
	bool profile_done;
	struct writer_ack *ack; /* answered once this op is durable (not owned) */
	/* a report answered before its commit (journal.h): its slot, freed
	 * once this op is committed, and its number (writer_note_early()) */
	struct journal_slot *journal;
	uint64_t early_seq;
};

/* How the store thread fares, for /healthz and /metrics (any thread). */
struct writer_stats {
	uint64_t commits, failures, syncs;
	bool degraded; /* the last commit failed: retrying */
};

struct writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct wop *head, *tail;  /* to write */
	struct writer_ack *acked; /* acks whose records are durable (or failed) */
	int done_fd;		  /* eventfd: the loop takes acked */
	bool stop, started;
	struct ocitap_store *store;
	bool degraded;	      /* last commit failed: retrying */
	struct wop *retrying; /* the batch being retried, readable under lock (writer_foreach_held) */
	uint64_t commits, failures, syncs;
	int sync_interval_ms;		   /* 0: every commit is on disk before its ack */
	int64_t unsynced_since_ms;	   /* 0: everything committed is on disk */
	void (*committed)(void *userdata); /* after each commit, on the store thread */
	void *committed_userdata;
	uint64_t early_answered;  /* reports answered before their commit (the loop; atomic) */
	uint64_t early_committed; /* of those, the committed (the store thread; atomic) */
};

/*
 * Set up the queue (ops may be pushed from now on); the thread starts with
 * writer_start(). committed (may be NULL) is called with userdata on the
 * store thread after each commit. -errno on failure.
 */
int writer_init(struct writer *w, struct ocitap_store *store, int sync_interval_ms, void (*committed)(void *userdata),
		void *userdata);
int writer_start(struct writer *w);
/* Queue op (takes ownership). Never blocks on disk. The thread takes the
 * queue at the next writer_kick(), so one event's records share a commit. */
void writer_push(struct writer *w, struct wop *op);
void writer_kick(struct writer *w);
/* The acks answered since the last call (a list through next), or NULL;
 * clears done_fd. Loop thread. */
struct writer_ack *writer_take_acked(struct writer *w);
/* True when acks wait to be taken (a hint, without the lock). */
bool writer_has_acked(struct writer *w);
void writer_get_stats(struct writer *w, struct writer_stats *ret);
/* Commits so far (any thread). Counted before any "ok" of the commit is
 * sent, and read with acquire: whoever sees the count can read the commit. */
uint64_t writer_commits(struct writer *w);
/* A report is answered before its commit (journal.h): its number, for
 * the op that frees its slot (wop.early_seq). Loop thread. */
uint64_t writer_note_early(struct writer *w);
/* Reports answered from the journal and not yet committed (any thread). */
uint64_t writer_early_pending(struct writer *w);
/* Queue the op that frees a journal slot (journal.h) once the ops of its
 * report, queued before it, are committed; seq is its writer_note_early(),
 * taken before the answer went out. */
void writer_push_journal_release(struct writer *w, const char *id, struct journal_slot *slot, uint64_t seq);
/* Wait until every report answered before this call is committed, so
 * that a reader sees what a hook was told is recorded: true at once when
 * it is; false after max_ms, or at once while the store cannot be written
 * (degraded: the answers say so). Any thread but the store's. */
bool writer_await_early(struct writer *w, int max_ms);
/* Each op not yet in the store (a failed batch being retried, then the
 * queue), under the queue's lock: fn must only read the op, and quickly.
 * Any thread. */
void writer_foreach_held(struct writer *w, void (*fn)(const struct wop *op, void *userdata), void *userdata);
/* Write everything queued, then stop the thread (if it was started), and
 * release what writer_init() set up. */
void writer_stop(struct writer *w);

/* A new op of kind for container id (copied), its wall time now; aborts on
 * out-of-memory. */
struct wop *wop_new(enum wop_kind kind, const char *id);
void wop_free(struct wop *op);
/* A directory for WOP_SPOOL ops: takes fd, one reference (aborts on
 * out-of-memory); _ref adds one, _unref drops one and closes with the last
 * (any thread; NULL is fine). */
struct wop_dir *wop_dir_new(int fd);
struct wop_dir *wop_dir_ref(struct wop_dir *dir);
void wop_dir_unref(struct wop_dir *dir);

#endif
