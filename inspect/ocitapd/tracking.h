/*
 * tracking.h: containers as BPF sees them (tracking.c). Loop thread only.
 */
#ifndef OCITAPD_TRACKING_H
#define OCITAPD_TRACKING_H

#include "ocitapd.h"

struct ocitap_bpf_event;

/* Track c's init (pid) from now on: done before the hook that named it is
 * acknowledged, so nothing the container does after the hook is missed;
 * with its trace-syscall annotation (checked here, once) or
 * --trace-syscalls all, its syscall set too. */
void tracking_register(struct ocitapd *d, struct container *c, pid_t pid, const struct ocitap_state *st,
		       bool held_by_hook);
/* An adopted container's stored init: its exit and OOM kills only. */
void tracking_adopt(struct ocitapd *d, struct container *c);
/* c stopped: its profile (if asked for) is queued, and it leaves the maps. */
void tracking_stopped(struct ocitapd *d, struct container *c);
/* The ring buffer's callback (bpf_start()); userdata is the daemon. */
void tracking_event(const struct ocitap_bpf_event *e, void *userdata);

#endif
