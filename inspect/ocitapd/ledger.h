/*
 * ledger.h: notification counts durable when answered. The counts of
 * notifications answered live in memory and reach the store once a second;
 * a kill -9 in between would lose up to a second of them. So each counter
 * (a run of a container, a syscall, an answer) also has a slot in a shared
 * mapping of a file next to the daemon's socket (tmpfs: it outlives the
 * process, not the machine), bumped with every answer: a store, no system
 * call. Each flush to the store writes, in the same transaction, how far
 * the slot's count is committed (meta "ledger.<gen>"), so that a starting
 * daemon adds exactly what the store lacks: answered - committed, once.
 */
#ifndef OCITAPD_LEDGER_H
#define OCITAPD_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "ocitap-private.h"

#define LEDGER_MAGIC  0x6f63746cu /* "octl" */
#define LEDGER_SLOTS  4096
#define LEDGER_ACTION 48
#define LEDGER_META   "ledger." /* the store's meta key of a slot's committed count: ledger.<gen> */

struct ledger_slot {
	uint32_t used; /* 1: in use; written last when taken, first when freed */
	uint32_t arch;
	int32_t nr;
	uint32_t pad;
	uint64_t gen; /* this use of the slot (its meta key in the store) */
	int64_t run;
	uint64_t answered; /* the loop: every answer */
	char action[LEDGER_ACTION];
	char id[OCITAP_KEEPER_NAME_MAX + 1];
};

struct ledger {
	uint32_t magic, n;
	uint64_t next_gen;
	struct ledger_slot slot[LEDGER_SLOTS];
};

/* Map the ledger at path (created 0600 when missing; cleared unless it is
 * one) for the life of the process. -errno with err. */
int ledger_map(const char *path, struct ledger **ret, struct ocitap_error *err);
/* A slot for a new counter, or NULL (the ledger is full, the id too long:
 * that counter is then kept in memory only). */
struct ledger_slot *ledger_take(struct ledger *l, const char *id, int64_t run, uint32_t arch, int nr,
				const char *action);

#endif
