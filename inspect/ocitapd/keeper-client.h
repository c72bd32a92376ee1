/*
 * keeper-client.h: ocitapd's side of ocitap-fdkeeper (lib/keeper.h), and
 * the in-flight record's file (keeper-client.c). Every call waits at most
 * 0.5 s for each of the keeper's answers (-EAGAIN); every call returns
 * -errno on failure with err saying what went wrong ("keeper: ...").
 */
#ifndef OCITAPD_KEEPER_CLIENT_H
#define OCITAPD_KEEPER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "keeper.h"

/* Connect; when nobody listens at path and spawn is set, start
 * ocitap-fdkeeper --exit-when-idle --key-file key_file there (detached)
 * first; then prove we are the ocitapd it serves (HELLO with the secret in
 * key_file, made when missing; lib/keeper.h). Returns the connection (the
 * caller's to close). */
int keeper_connect(const char *path, bool spawn, const char *key_file, struct ocitap_error *err);
/* Hand the keeper a copy of fd (still ours) under key, for container id. */
int keeper_keep(int sock, const char *key, const char *id, int fd, struct ocitap_error *err);
/* The keeper closes its copy of key. */
int keeper_drop(int sock, const char *key, struct ocitap_error *err);
/* The fd held under key (*ret_fd, the caller's); -ENOENT when none is. */
int keeper_get(int sock, const char *key, int *ret_fd, struct ocitap_error *err);
/* Take back every held fd: fn owns each. Returns how many, or -errno. */
int keeper_give(int sock, void (*fn)(const char *key, const char *id, int fd, void *userdata), void *userdata,
		struct ocitap_error *err);

/*
 * The notification being answered, in a shared mapping of a small file
 * that outlives the daemon: a notification the kernel handed to a daemon
 * killed before it answered is never handed out again, so its successor
 * finds it here (by id, checked with SECCOMP_IOCTL_NOTIF_ID_VALID).
 */
#define INFLIGHT_MAGIC 0x6f636974u
/*
 * A notification goes RECEIVING (req zeroed, then filled by the kernel's
 * RECV), DECIDED (taken, its answer chosen), COUNTED (its count in the
 * ledger: the count comes before the answer, so that no answer goes
 * uncounted), then IDLE once answered. A successor finds it by id
 * (SECCOMP_IOCTL_NOTIF_ID_VALID: still waiting for its answer) and answers
 * it; it counts it too unless it was COUNTED.
 */
enum { INFLIGHT_IDLE, INFLIGHT_RECEIVING, INFLIGHT_DECIDED, INFLIGHT_COUNTED };
#define INFLIGHT_REQ_MAX 256 /* bytes of struct seccomp_notif kept (the kernel's is 80) */

struct inflight {
	uint32_t magic;
	uint32_t state;	  /* written last, after the fields it vouches for */
	uint64_t prev_id; /* RECEIVING: the last id answered on this fd; 0 unknown */
	uint64_t id;	  /* DECIDED: the notification taken */
	uint32_t arch;
	int32_t nr;
	int32_t pid;
	char key[OCITAP_KEEPER_NAME_MAX + 1]; /* the fd, by its keeper key */
	/* RECEIVING: where the kernel's RECV writes the notification (zeroed
	 * before it), so that a daemon killed on its way back from RECV leaves
	 * it to its successor whole. A daemon of before this field left zeroes. */
	uint64_t req[INFLIGHT_REQ_MAX / 8];
};

/* Map the record at path (created 0600 when missing; cleared unless it is
 * one) into *ret, for the life of the process. */
int inflight_map(const char *path, struct inflight **ret, struct ocitap_error *err);

#endif
