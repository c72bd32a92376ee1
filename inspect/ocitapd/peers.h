/*
 * peers.h: the daemon's socket (peers.c). Loop thread only.
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
/*
 * Record a hook report of a peer of uid (the owner of a run it begins);
 * ack (may be NULL) is answered once it is durable. live: read from a
 * peer now; only such a report (not one replayed from the spool, whose pid
 * may have been reused since) starts watching the init (pidfd: the one it
 * brought, taken; -1: none).
 */
/* uid may speak: root, or an --allow-uid. */
bool peers_uid_allowed(struct ocitapd *d, uid_t uid);
/*
 * With --allow-uid, a user speaks only for the runs it owns (trust.md): a
 * uid other than root may not report on, nor begin a run of, an id whose
 * current run another uid began, root's included. Root (the runtimes)
 * speaks for every run. NULL when uid may go on; else the reason (a metric
 * label) and in why what it was.
 */
const char *peers_owner_refused(struct ocitapd *d, uid_t uid, const char *id, char *why, size_t size);
void peers_apply_report(struct ocitapd *d, const struct ocitap_hook_report *rep, bool live, uid_t uid,
			struct writer_ack *ack, int pidfd);

#endif
