/*
 * store.h: ocitap's durable record (SQLite, WAL): every run of every
 * container id (a record is one run: a new init under a used id begins the
 * next, numbered from 1), every transition and notable event with a
 * sequence number that survives restarts and the run it belongs to, and
 * notification counts per run, syscall and action.
 *
 * One writer (ocitapd's store thread) groups writes in transactions
 * (ocitap_store_begin/commit). By default a commit returns only once the
 * data is on disk (synchronous=FULL). With OCITAP_STORE_SYNC_LATER a commit
 * returns once it is written to the WAL (synchronous=NORMAL: it survives
 * the writer being killed, not a power loss) and ocitap_store_sync() puts
 * everything committed so far on disk. Readers (the CLI, tests) open
 * read-only while the daemon runs; WAL lets them read without blocking it.
 */
#ifndef OCITAP_STORE_H
#define OCITAP_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "lifecycle.h"
#include "names.h"
#include "state.h"

#define OCITAP_STORE_READONLY	0x1u
#define OCITAP_STORE_SYNC_LATER 0x2u /* commits are written, synced by ocitap_store_sync() */

struct ocitap_store;

/* Open (creating and migrating when writable) the database at path. */
int ocitap_store_open(const char *path, unsigned flags, struct ocitap_store **ret, struct ocitap_error *err);
void ocitap_store_close(struct ocitap_store *store);

int ocitap_store_begin(struct ocitap_store *store, struct ocitap_error *err);
/* Several reads that must see one state of the store (a deferred
 * transaction: no lock until the first read; on a read-only connection
 * too). End it with ocitap_store_rollback(), on every path: while it is
 * open the WAL cannot be checkpointed past it. */
int ocitap_store_begin_read(struct ocitap_store *store, struct ocitap_error *err);
int ocitap_store_commit(struct ocitap_store *store, struct ocitap_error *err);
void ocitap_store_rollback(struct ocitap_store *store);
/* Put every commit so far on disk (fsync of the WAL); 0 at once without
 * OCITAP_STORE_SYNC_LATER, where each commit already was. */
int ocitap_store_sync(struct ocitap_store *store, struct ocitap_error *err);

/* Insert (the run begins) or refresh a run's identity (bundle, pid,
 * annotations: NULL keeps what is stored). run counts from 1. owner: the
 * uid that began the run (set once; -1: not known). */
int ocitap_store_put_container(struct ocitap_store *store, const char *id, int64_t run, const char *bundle, pid_t pid,
			       const struct ocitap_annotation *annotations, size_t n_annotations, int64_t owner,
			       int64_t wall_ns, struct ocitap_error *err);

/* The kernel facts a run is bound to, read when its init was first watched:
 * the init's start time (clock ticks after boot, /proc/PID/stat), its
 * mount and pid namespaces (inode numbers) and cgroup (NULL: unknown). */
struct ocitap_run_init {
	uint64_t start_ticks;
	uint64_t mnt_ns, pid_ns;
	const char *cgroup;
};
int ocitap_store_set_run_init(struct ocitap_store *store, const char *id, int64_t run,
			      const struct ocitap_run_init *init, struct ocitap_error *err);

/* Event kinds. */
#define OCITAP_EVENT_TRANSITION "transition" /* the phase moved forward */
#define OCITAP_EVENT_LATE	"late"	     /* an earlier phase seen after a later one */
#define OCITAP_EVENT_EXIT	"exit"	     /* exit code / signal / OOM learned */
#define OCITAP_EVENT_HOOK	"hook"	     /* a hook reported its stage (source: the stage) */
#define OCITAP_EVENT_FAILED	"failed"     /* stopped before its program ever started */

struct ocitap_event {
	int64_t seq;
	const char *container_id;
	int64_t run; /* the run of container_id it belongs to (1 when 0 is written) */
	const char *kind;
	enum ocitap_phase from, to;
	const char *source;
	int64_t mono_ns, wall_ns;
	bool has_exit;
	int exit_code, signal;
	bool oom;
};

/* Append an event (seq is assigned; *ret_seq may be NULL). A transition also
 * sets the container's phase; an exit event its exit fields. */
int ocitap_store_append_event(struct ocitap_store *store, const struct ocitap_event *ev, int64_t *ret_seq,
			      struct ocitap_error *err);

/* Add count to the notifications of (id, run, syscall, action). */
int ocitap_store_add_notifications(struct ocitap_store *store, const char *id, int64_t run, const char *syscall,
				   const char *action, int64_t count, struct ocitap_error *err);

/* The run stopped before its program started: it is failed, with why
 * (its exit code, if any, is the runtime's, not the program's). */
int ocitap_store_set_failed(struct ocitap_store *store, const char *id, int64_t run, const char *error,
			    struct ocitap_error *err);

/* The run's syscall profile (io.containers.trace-syscall): status is
 * OCITAP_PROFILE_PENDING (to be written at the stop), _WRITTEN, _REFUSED (a
 * rule of profile.h: error says which) or _FAILED; path: where it goes
 * (NULL keeps what is stored); error: why not (NULL: none). */
#define OCITAP_PROFILE_PENDING "pending"
#define OCITAP_PROFILE_WRITTEN "written"
#define OCITAP_PROFILE_REFUSED "refused"
#define OCITAP_PROFILE_FAILED  "failed"
int ocitap_store_set_profile(struct ocitap_store *store, const char *id, int64_t run, const char *status,
			     const char *path, const char *error, struct ocitap_error *err);

/* The names of a run (names.h): each one set only while the run has none
 * (the first known, from its creation, is kept); NULL members change nothing. */
int ocitap_store_set_names(struct ocitap_store *store, const char *id, int64_t run, const struct ocitap_names *names,
			   struct ocitap_error *err);

/* Mark a spool file as applied (in the caller's transaction). -EEXIST if it already was. */
int ocitap_store_spool_mark(struct ocitap_store *store, const char *name, struct ocitap_error *err);
/* 1 if the spool file name was applied, 0 if not, -errno on error. */
int ocitap_store_spool_seen(struct ocitap_store *store, const char *name, struct ocitap_error *err);

/* Remove stopped runs (and their events and counts) stopped before wall_ns. Returns how many. */
int ocitap_store_prune(struct ocitap_store *store, int64_t stopped_before_wall_ns, struct ocitap_error *err);

struct ocitap_store_container {
	char *id, *bundle, *annotations_json;
	pid_t pid;
	enum ocitap_phase phase;
	int64_t created_wall_ns, updated_wall_ns;
	bool has_exit;
	int exit_code, signal;
	bool oom;
	bool failed; /* stopped before its program started (error says how) */
	char *error;
	int64_t run;				   /* which run of id this is (from 1) */
	int64_t runs;				   /* how many runs of id the store holds */
	uint64_t init_start_ticks, mnt_ns, pid_ns; /* 0: not known (struct ocitap_run_init) */
	char *cgroup;
	int64_t owner; /* the uid that began the run; -1: not known (a run stored before owners) */
	/* its io.containers.trace-syscall profile: NULL status when none was asked for */
	char *profile_status, *profile_path, *profile_error;
	/* the names people use for it (names.h), each NULL when not known */
	char *name, *pod, *pod_namespace, *manager;
	int64_t notifications; /* the run's notified syscalls so far, every syscall and action */
};

/* Read one run of a container, the latest when run is 0 (free with
 * ocitap_store_container_release); -ENOENT if unknown. */
int ocitap_store_get_container(struct ocitap_store *store, const char *id, int64_t run,
			       struct ocitap_store_container *ret, struct ocitap_error *err);
void ocitap_store_container_release(struct ocitap_store_container *c);

/* Call fn for each event with seq > since (of one container when id is set,
 * and of its run when run > 0), in order; stops early when fn returns
 * non-zero (that value is returned). Returns 0 otherwise. */
int ocitap_store_foreach_event(struct ocitap_store *store, const char *id, int64_t run, int64_t since,
			       int (*fn)(const struct ocitap_event *ev, void *userdata), void *userdata,
			       struct ocitap_error *err);

/* 1 when container id has a hook event of stage (its source) sent at
 * mono_ns (the hook's clock: one report, sent and spooled), 0 when not,
 * -errno on error. */
int ocitap_store_has_hook_report(struct ocitap_store *store, const char *id, const char *stage, int64_t mono_ns);

/* The run of container id that had begun at wall_ns (the newest whose
 * first event is not later), or 0 when none had; -errno on error. */
int64_t ocitap_store_run_at(struct ocitap_store *store, const char *id, int64_t wall_ns);

/* Call fn once with the newest event of a run of container id (not at all when it has none). */
int ocitap_store_last_event(struct ocitap_store *store, const char *id, int64_t run,
			    int (*fn)(const struct ocitap_event *ev, void *userdata), void *userdata,
			    struct ocitap_error *err);

/* Call fn for each (syscall, action, count) of a run of a container. */
int ocitap_store_foreach_notification(struct ocitap_store *store, const char *id, int64_t run,
				      int (*fn)(const char *syscall, const char *action, int64_t count, void *userdata),
				      void *userdata, struct ocitap_error *err);

/* Call fn for every container's latest run (owned by the store during the
 * call; copy what you keep), or with id for every run of that container,
 * oldest first (ocitap_store_foreach_run). Stops early when fn returns
 * non-zero (that value is returned). */
int ocitap_store_foreach_container(struct ocitap_store *store,
				   int (*fn)(const struct ocitap_store_container *c, int64_t stopped_wall_ns,
					     void *userdata),
				   void *userdata, struct ocitap_error *err);
/* The same from a point of that order (created_wall_ns, then id): only the
 * containers whose latest run comes after (after_ns, after_id), read from
 * there (an index), so that a page deep in the list costs a page. */
int ocitap_store_foreach_container_after(struct ocitap_store *store, int64_t after_ns, const char *after_id,
					 int (*fn)(const struct ocitap_store_container *c, int64_t stopped_wall_ns,
						   void *userdata),
					 void *userdata, struct ocitap_error *err);
int ocitap_store_foreach_run(struct ocitap_store *store, const char *id,
			     int (*fn)(const struct ocitap_store_container *c, int64_t stopped_wall_ns, void *userdata),
			     void *userdata, struct ocitap_error *err);

/* A small persistent setting (the push cursors): set in the caller's
 * transaction; get copies the value into ret (NUL-terminated, truncated to
 * size) and returns 0, or -ENOENT when the key is not set. */
int ocitap_store_set_meta(struct ocitap_store *store, const char *key, const char *value, struct ocitap_error *err);
int ocitap_store_get_meta(struct ocitap_store *store, const char *key, char *ret, size_t size);
/* Remove a setting (in the caller's transaction); 0 whether or not it was set. */
int ocitap_store_delete_meta(struct ocitap_store *store, const char *key, struct ocitap_error *err);

/* Containers (their latest runs) per phase: counts[p] for every phase p, failed ones (stopped
 * before their program started) apart in *ret_failed. */
int ocitap_store_count_by_phase(struct ocitap_store *store, int64_t counts[OCITAP_PHASE_COUNT], int64_t *ret_failed);

/* The highest event sequence number ever assigned (0 before the first; it
 * never goes back, even when the newest events are pruned); -errno on error. */
int64_t ocitap_store_last_seq(struct ocitap_store *store);

/* Number of containers, by their latest run (all, or in phase when phase != UNKNOWN). */
int64_t ocitap_store_count_containers(struct ocitap_store *store, enum ocitap_phase phase);

#endif
