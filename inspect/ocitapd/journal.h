/*
 * journal.h: hook reports durable when answered. A hook waits for "ok";
 * the store's commit of its report would keep it waiting on the store
 * thread (a thread switch, a transaction). So a report the daemon takes
 * is first copied into a slot of a shared mapping of a file next to the
 * daemon's socket (tmpfs: it outlives the process, not the machine), and
 * answered at once; the store thread frees the slot once the commit that
 * holds the report lands. A daemon starting after a kill -9 applies every
 * slot still in use, as the report it is, once: one the store already has
 * (the same stage and monoNs; its commit landed just before the kill) is
 * dropped, as a report sent and spooled too is.
 *
 * A slot is written by the loop (taken, then used = 1 last) and freed by
 * the store thread (used = 0); each field has one writer at a time.
 */
#ifndef OCITAPD_JOURNAL_H
#define OCITAPD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocitap-private.h"

#define JOURNAL_MAGIC	   0x6f63746au /* "octj" */
#define JOURNAL_SLOTS	   256
#define JOURNAL_SLOT_BYTES 4096
#define JOURNAL_REPORT_MAX (JOURNAL_SLOT_BYTES - 24)

struct journal_slot {
	uint32_t used;	     /* 1: answered, not yet in the store */
	uint32_t len;	     /* bytes of report */
	uint32_t uid;	     /* who the report speaks for (peers_apply_report()) */
	uint32_t older_boot; /* 1: written before this boot (marked at the mapping) */
	uint64_t seq;	     /* the order the reports were answered in */
	char report[JOURNAL_REPORT_MAX];
};

struct journal {
	uint32_t magic, n, slot_bytes, pad;
	uint64_t next_seq;
	char boot[40]; /* the kernel's boot_id when the slots were written */
	char pad2[JOURNAL_SLOT_BYTES - 64];
	struct journal_slot slot[JOURNAL_SLOTS];
};

/* Map the journal at path (created 0600 when missing; cleared when it is
 * not one) for the life of the process, locked against another daemon
 * (-EBUSY while one holds it), its pages allocated (a full tmpfs is an
 * error now, not a SIGBUS later). -errno with err. */
int journal_map(const char *path, struct journal **ret, struct ocitap_error *err);
/* Unmap, and let the lock go (tests; a daemon keeps it to its end). */
void journal_unmap(struct journal *j);
/* A slot holding report (len bytes) spoken for uid, or NULL: the journal
 * is full, or the report does not fit a slot (it is then answered once
 * committed, as without a journal). Loop thread. */
struct journal_slot *journal_take(struct journal *j, const char *report, size_t len, uid_t uid);
/* The slot's report is in the store (store thread; NULL is fine). */
void journal_release(struct journal_slot *slot);
/* Whether a slot left at the mapping was written in this boot (its pids
 * mean something here): only on a match of the kernel's boot_id, so a
 * journal of unknown boot (written by an older build) is not. A journal on
 * a tmpfs never holds another boot's. */
bool journal_slot_this_boot(const struct journal_slot *slot);
/* Slots in use now (a hint for /healthz and /metrics; any thread). */
size_t journal_pending(const struct journal *j);
/* The slots still in use at start (left by a killed daemon), oldest
 * first: at most max of them in ret; the count. */
size_t journal_left(struct journal *j, struct journal_slot **ret, size_t max);

#endif
