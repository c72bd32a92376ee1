/*
 * container.h: the container table and the path of every observation
 * (container.c). Loop thread only.
 */
#ifndef OCITAPD_CONTAINER_H
#define OCITAPD_CONTAINER_H

#include "ocitapd.h"

/* The container with id; created (default policy, phase unknown) when
 * create is set and there is none, else NULL. */
struct container *container_get(struct ocitapd *d, const char *id, bool create);
/* The container with id, created (see container_get) with its first run
 * owned by owner, begun at wall_ns, when there is none. */
struct container *container_get_owned(struct ocitapd *d, const char *id, uid_t owner, int64_t wall_ns);
/* A new op of kind for c's current run. */
struct wop *container_wop(const struct container *c, enum wop_kind kind);
/* A new init under c's id: the current run is settled (exit, counts, a stop
 * if none was seen) and the next begins, from nothing, owned by owner, at
 * wall_ns (when the message that began it was sent). */
void container_begin_run(struct ocitapd *d, struct container *c, uid_t owner, int64_t wall_ns);
/* The container BPF knows by cookie, or NULL. */
struct container *container_by_cookie(struct ocitapd *d, uint64_t cookie);
/* Queue the container's identity (bundle, pid, annotations) for the store
 * when it differs from what was queued last. */
void container_queue_identity(struct ocitapd *d, struct container *c, const struct ocitap_state *st, pid_t pid);
/* Once per run, from the message that created it (a host peer's: the
 * runtime's prestart/createRuntime report or listener message): the run's
 * names, told by the store thread from st's bundle and annotations, the
 * owner and the Docker data root (names.h). */
void container_queue_names(struct ocitapd *d, struct container *c, const struct ocitap_state *st);
/* Feed obs to c's state machine and queue what it produced; ack (may be
 * NULL) is answered once that is durable. */
void container_observe(struct ocitapd *d, struct container *c, const struct ocitap_observation *obs,
		       struct writer_ack *ack);
/* Queue the notification counts not yet stored. */
void container_flush_counts(struct ocitapd *d, struct container *c);
void container_flush_all_counts(struct ocitapd *d);
/* At start, before the store thread: counts the ledger holds that the
 * store lacks (a daemon killed within a second of answering) are added. */
void container_recover_counts(struct ocitapd *d, struct ocitap_store *store);
/* Stopped with no fd or pidfd left: keep only what the state machine needs. */
void container_settle(struct ocitapd *d, struct container *c);
/* Close its fds, forget it (it must be out of the table). */
void container_free(struct ocitapd *d, struct container *c);
/* Forget stopped containers that stopped before before_wall_ns. */
void container_evict_stopped(struct ocitapd *d, int64_t before_wall_ns);
/* At start: every container the store retains, with its phase and exit;
 * *ret_n: how many. -errno with err from the store. */
int container_restore(struct ocitapd *d, struct ocitap_store *store, size_t *ret_n, struct ocitap_error *err);

#endif
