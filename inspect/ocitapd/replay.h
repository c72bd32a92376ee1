/*
 * replay.h: the hook spool, replayed (replay.c). Loop thread only.
 */
#ifndef OCITAPD_REPLAY_H
#define OCITAPD_REPLAY_H

#include "ocitapd.h"

/* Before the store thread starts: every spooled report, applied once (store
 * is the loop's until then). */
void replay_spools(struct ocitapd *d, struct ocitap_store *store);
/* From now on, a report spooled while we run is taken within the loop's
 * next round (inotify on the spool directory). */
void replay_watch(struct ocitapd *d);
/* The users' spools, looked at again (the loop's timer, every second):
 * their directories come and go with their users, and are not watched. */
void replay_users(struct ocitapd *d);
/* At start, before the store thread: the reports in the journal
 * (journal.h) a killed daemon answered and perhaps did not store, each
 * recorded once. */
void replay_journal(struct ocitapd *d);

#endif
