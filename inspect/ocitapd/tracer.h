/*
 * tracer.h: the BPF programs of bpf/ (tracer.c), as one struct tracer the
 * daemon holds in struct ocitapd. A tracer is off until tracer_load()
 * loads and attaches the programs and returns the ring buffer's epoll fd
 * (the event loop then calls tracer_poll()); off, it says why
 * (tracer_is_on()) and every other call is a no-op or fails with -ENOTSUP.
 * Containers are tracked by id: their init's exec and exit, OOM kills, and
 * with trace their syscall set. Every function accepts a NULL tracer (off,
 * "not started").
 */
#ifndef OCITAPD_TRACER_H
#define OCITAPD_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct ocitap_bpf_event;
struct tracer;

/* Called from tracer_poll() (the loop's thread) with each event of the ring. */
typedef void (*tracer_event_fn)(const struct ocitap_bpf_event *e, void *userdata);

/* A tracer, off ("not started"); the caller frees it with tracer_free().
 * NULL only when out of memory. */
struct tracer *tracer_new(void);
/*
 * Load and attach the programs; fn gets the ring's events. Returns the
 * ring buffer's epoll fd (the tracer's), or -errno with err saying what
 * failed (libbpf's last warning included); the tracer then stays off,
 * with that as its reason.
 */
int tracer_load(struct tracer *t, tracer_event_fn fn, void *userdata, struct ocitap_error *err);
/* Detach and unload everything, forget every tracked container; the
 * tracer stays, off, with reason (copied) as why. */
void tracer_stop(struct tracer *t, const char *reason);
/* tracer_stop(), then free. NULL is ignored. */
void tracer_free(struct tracer *t);

/* Hand the ring buffer's events to the callback (loop thread). */
void tracer_poll(struct tracer *t);
/* True when loaded; else false, with why_off (may be NULL) holding the
 * reason (-ENOTSUP). Any thread. */
bool tracer_is_on(const struct tracer *t, struct ocitap_error *why_off);
bool tracer_tracing_syscalls(const struct tracer *t); /* the syscall-set program is attached */
double tracer_load_ms(const struct tracer *t);	      /* how long tracer_load() took */
uint64_t tracer_lost_events(const struct tracer *t);  /* events the ring buffer had no room for */

/*
 * Track the container id (copied) whose init is init, under the BPF
 * programs' name cookie; trace: record its syscall set too. Again for the
 * same id and init: nothing. -ENOTSUP when off; -EXDEV: tracked, but the
 * init shares our mount namespace (no syscall set, no OOM); other -errno
 * when the maps refuse it. err says why in every case.
 */
int tracer_track(struct tracer *t, const char *id, uint64_t cookie, pid_t init, bool trace, struct ocitap_error *err);
/* Why the profile its annotation asked for was refused (copied; NULL
 * clears): what the profile endpoint answers for it while it is not traced.
 * An id not tracked is ignored. */
void tracer_note(struct tracer *t, const char *id, const char *note);
/* Out of the maps; an id not tracked is ignored. */
void tracer_untrack(struct tracer *t, const char *id);
/*
 * The names of the syscalls a traced container made so far (any thread),
 * in *ret_names (ocitap_profile_names_free()): how many, or -ENOTSUP (off),
 * -ENOENT (not tracked), -ENODATA (not traced), with err saying so.
 */
int tracer_syscall_names(struct tracer *t, const char *id, char ***ret_names, struct ocitap_error *err);
/*
 * The traced container's seccomp profile from its syscall set so far,
 * merged with in_json (in_len bytes; may be NULL), in *ret_json (the
 * caller's to free); *ret_count (may be NULL): how many syscalls. Any
 * thread. The errors of tracer_syscall_names(), or of the profile.
 */
int tracer_profile(struct tracer *t, const char *id, const char *in_json, size_t in_len, char **ret_json,
		   size_t *ret_count, struct ocitap_error *err);

#endif
