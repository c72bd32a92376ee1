/*
 * handover.h: notify fds across daemon restarts (handover.c): the keeper,
 * systemd's fd store, the in-flight record. Loop thread only.
 */
#ifndef OCITAPD_HANDOVER_H
#define OCITAPD_HANDOVER_H

#include "ocitapd.h"

/* At start: the in-flight record mapped, every notify fd the keeper or
 * systemd holds adopted, and what a killed predecessor left unanswered
 * answered. */
void handover_take_back(struct ocitapd *d);
/* Before the socket is made: the listening socket the keeper held for a
 * previous daemon, if it is still bound to ours (d->listen_fd). */
void handover_take_listener(struct ocitapd *d);
/* An init's pidfd to the keeper too (so that an exit while no daemon runs
 * is still read), and dropped there once its exit is known. */
void handover_keep_pid(struct ocitapd *d, struct pid_watch *pw);
void handover_drop_pid(struct ocitapd *d, struct pid_watch *pw);
/* The keeper holds a listening socket for our path (a daemon left it). */
bool handover_keeper_holds_listener(struct ocitapd *d);
/* A new notify fd: the keeper and the fd store get their copy. */
void handover_keep(struct ocitapd *d, struct notify_fd *n);
/* n hung up: they drop theirs. */
void handover_drop(struct ocitapd *d, struct notify_fd *n);
/* A connection accepted with nothing to read yet: the keeper holds it too
 * (lib/keeper.h: OCITAP_KEEPER_WAIT_PREFIX) until handover_drop_conn(), so
 * that what it will bring (a listener message: a container's only notify
 * fd) reaches the next daemon if this one is killed first. */
void handover_keep_conn(struct ocitapd *d, struct conn *cn);
/* What cn brought is taken (or cn is closed): the keeper's copy goes. */
void handover_drop_conn(struct ocitapd *d, struct conn *cn);
/* The keeper's connection failed (why): retried by handover_reconnect(). */
void handover_keeper_lost(struct ocitapd *d, const char *why);
/* Reach a keeper again (starting one) and hand it every fd held. */
void handover_reconnect(struct ocitapd *d);
/* The notify fd named key at the keeper, or NULL. */
struct notify_fd *handover_find_fd(struct ocitapd *d, const char *key);

#endif
