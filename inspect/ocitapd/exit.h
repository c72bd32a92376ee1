/*
 * exit.h: the init's exit status from its pidfd (exit.c). Loop thread only.
 */
#ifndef OCITAPD_EXIT_H
#define OCITAPD_EXIT_H

#include "ocitapd.h"

/* Watch pid as c's init by fd, a pidfd of it the hook that named it sent
 * (taken: closed when c has one already); it tells how the init ended even
 * if that was before this report was read. */
void exit_watch_init_fd(struct ocitapd *d, struct container *c, pid_t pid, int fd);
/* Watch pid as c's init (nothing when c has one already or pid <= 0). */
void exit_watch_init(struct ocitapd *d, struct container *c, pid_t pid);
/* At restart: watch fd, the pidfd of c's init the keeper kept under key
 * (its exit, if it came while no daemon ran, is read at once). 0, or
 * -EEXIST when c's init is watched already. */
int exit_attach_pidfd(struct ocitapd *d, struct container *c, int fd, const char *key);
/* At restart: watch the stored init, if that pid is still the same process.
 * 1: watched (or was); -ESRCH: the run's init is gone (said only of a run
 * bound to its init's start time); 0: neither (no pid stored, stopped, or
 * cannot tell). */
int exit_watch_stored_init(struct ocitapd *d, struct container *c);
/* At start, after what was kept is taken back: every run not stopped and
 * not watched is watched from its stored init, or stopped (source
 * init-gone, exit unknown) when that init is gone. */
void exit_watch_restored(struct ocitapd *d);
/* c's init is being replaced (a new run): its exit now, if the kernel has
 * it, and its pidfd closed. */
void exit_finish_now(struct ocitapd *d, struct container *c);
/* Ask again for the exit status of inits not yet reaped by their parent. */
void exit_retry_reaping(struct ocitapd *d);

#endif
