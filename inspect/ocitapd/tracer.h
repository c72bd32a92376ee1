/*
 * tracer.h: the BPF programs of bpf/ (tracer.c). tracer_start() loads and
 * attaches them and returns the ring buffer's epoll fd (for the event loop,
 * which then calls bpf_poll()), or -1 with why (BPF is then off: every
 * other call is a no-op or says so). Containers are tracked by id: their
 * init's exec and exit, OOM kills, and with trace their syscall set.
 */
#ifndef OCITAPD_TRACER_H
#define OCITAPD_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ocitap_bpf_event;
/* Called from bpf_poll() (the loop's thread) with each event of the ring. */
typedef void (*bpf_event_fn)(const struct ocitap_bpf_event *e, void *userdata);
int bpf_start(bpf_event_fn fn, void *userdata, char *why, size_t why_size);
void bpf_poll(void);
void bpf_stop(void);
bool bpf_enabled(char *why, size_t why_size); /* why: the reason it is off */
bool bpf_tracing_syscalls(void);	      /* the syscall-set program is attached */
double bpf_load_ms(void);
uint64_t bpf_lost_events(void); /* events the ring buffer had no room for */
/* -EXDEV: tracked, but the init shares our mount namespace (no syscall set, no OOM) */
int bpf_track(const char *id, uint64_t cookie, pid_t init, bool trace, char *why, size_t why_size);
void bpf_untrack(const char *id);
/* The names of the syscalls a traced container made so far (any thread):
 * how many, or -ENOTSUP (BPF off), -ENOENT (not tracked), -ENODATA (not traced). */
int bpf_syscall_names(const char *id, char ***ret_names, char *why, size_t why_size);
/* The traced container's profile from its syscall set so far (any thread);
 * *ret_count: how many syscalls. */
int bpf_profile(const char *id, const char *in_json, size_t in_len, char **ret_json, size_t *ret_count, char *why,
		size_t why_size);

#endif
