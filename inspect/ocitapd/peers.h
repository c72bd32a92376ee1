/*
 * peers.h: the daemon's socket and the spool (peers.c). Loop thread only.
 */
#ifndef OCITAPD_PEERS_H
#define OCITAPD_PEERS_H

#include "ocitapd.h"

/* The listening socket is readable: accept every peer waiting (watch callback). */
void peers_accept(struct ocitapd *d, struct watch *w, uint32_t events);
/* A connection the keeper accepted for us while no daemon ran, and who its
 * peer was then (lib/keeper.h): served as if we had accepted it. */
void peers_adopt_conn(struct ocitapd *d, int fd, const struct ocitap_keeper_peer *peer);
/* Drop peers whose message is not complete by --peer-timeout. */
void peers_expire(struct ocitapd *d);
/* Answer and close the connections whose reports the store thread has made durable. */
void peers_collect_acked(struct ocitapd *d);
/* The store thread's eventfd (watch callback): peers_collect_acked(). */
void peers_writer_done(struct ocitapd *d, struct watch *w, uint32_t events);
void peers_close(struct ocitapd *d, struct conn *cn);
/* Before the store thread starts: every spooled report, applied once (store
 * is the loop's until then). */
void peers_replay_spool(struct ocitapd *d, struct ocitap_store *store);
/* From now on, a report spooled while we run is taken within the loop's
 * next round (inotify on the spool directory). */
void peers_watch_spool(struct ocitapd *d);

#endif
