/*
 * loop.h: the event loop (loop.c).
 */
#ifndef OCITAPD_LOOP_H
#define OCITAPD_LOOP_H

#include "ocitapd.h"

typedef void (*watch_fn)(struct ocitapd *d, struct watch *w, uint32_t events);

int loop_init(struct ocitapd *d);
/* Wait for fd to be readable (hang-ups are always reported); fn runs then. -errno. */
int loop_add(struct ocitapd *d, int fd, struct watch *w, watch_fn fn);
/* Until a signal stops it (then the accepted peers get 2 s to finish, and
 * what is pending is answered): 0, or 1 when epoll itself fails. */
int loop_run(struct ocitapd *d);
void loop_release(struct ocitapd *d);

#endif
