/*
 * keeper.h: the wire format between ocitapd and ocitap-fdkeeper, the tiny
 * process that holds a duplicate of every live seccomp notify fd so that
 * a restarted (or upgraded) ocitapd can take them back and the kernel never
 * answers a container's notified syscall with ENOSYS meanwhile.
 *
 * One SOCK_SEQPACKET message per command, text, at most
 * OCITAP_KEEPER_MSG_MAX bytes, one line:
 *
 *   HELLO SECRET   first, when the keeper runs with --key-file: the
 *                  secret that file holds (only its owner can read it: the
 *                  ocitapd it serves); nothing else is served before it
 *   KEEP KEY ID    with exactly one fd (SCM_RIGHTS): hold it
 *   DROP KEY       close the copy held under KEY
 *   GET KEY        send back the fd held under KEY: "FD KEY ID" with it,
 *                  or "ERR no such key"
 *   GIVE           send every held fd back, one message each:
 *                  "FD KEY ID" with the fd, then "END N"
 *
 * Answers: "OK", or "ERR reason". KEY is ocitapd's name for one notify fd
 * (a container may have several: one per exec); ID the container id. Both
 * are 1..255 bytes without white space or control characters. The keeper
 * also closes a copy by itself when its fd hangs up (the last process of
 * the filter exited). A KEY beginning with OCITAP_KEEPER_LISTEN_PREFIX
 * holds the daemon's listening unix socket instead of a notify fd, so that
 * connections made while no daemon runs wait in its backlog. While no
 * client that said HELLO is connected (no daemon runs), the keeper accepts
 * on it itself, as soon as a peer connects, notes who the peer is
 * (SO_PEERCRED and its namespaces, read while it is surely alive) and holds
 * the connection, unread, under a key beginning with
 * OCITAP_KEEPER_CONN_PREFIX, its ID the peer (ocitap_keeper_peer_format());
 * the next daemon takes them with GIVE and serves them as if it had
 * accepted them.
 */
#ifndef OCITAP_KEEPER_H
#define OCITAP_KEEPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "nsid.h"

#define OCITAP_KEEPER_MSG_MAX  600
#define OCITAP_KEEPER_NAME_MAX 255

enum ocitap_keeper_verb {
	OCITAP_KEEPER_KEEP = 1,
	OCITAP_KEEPER_DROP,
	OCITAP_KEEPER_GIVE,
	OCITAP_KEEPER_FD,
	OCITAP_KEEPER_END,
	OCITAP_KEEPER_OK,
	OCITAP_KEEPER_ERR,
	OCITAP_KEEPER_HELLO, /* key: the secret */
	OCITAP_KEEPER_GET,
};

#define OCITAP_KEEPER_LISTEN_PREFIX "listen."
#define OCITAP_KEEPER_CONN_PREFIX   "conn."
/* A key "wait.<daemon pid>.<serial>" holds a connection the daemon has
 * accepted and not read yet (ID: its peer, as for a held connection): a
 * runtime's listener message carries a container's only notify fd, so a
 * daemon killed before reading it leaves it to the next, which takes it
 * with GIVE and serves it as a held connection. Not watched; the daemon
 * drops it once it has taken what it brought. */
#define OCITAP_KEEPER_WAIT_PREFIX "wait."
/* A key "pid.<serial>.<run>" holds the pidfd of a run's init (ID: its
 * container): kept past the init's exit, not watched, so that a daemon
 * started after the init exited still reads how it ended
 * (PIDFD_INFO_EXIT); the daemon drops it once it has. */
#define OCITAP_KEEPER_PIDFD_PREFIX "pid."

/* Who a held connection's peer was when it connected. */
struct ocitap_keeper_peer {
	pid_t pid;
	uid_t uid;
	bool has_ns; /* its namespaces could be read (else: gone already) */
	struct ocitap_ns_ids ns;
};

/* The peer as an ID ("p<pid>u<uid>" and, with has_ns, "-<dev>:<ino>" in hex
 * for each namespace kind); parse: -EINVAL when id is not one. */
int ocitap_keeper_peer_format(const struct ocitap_keeper_peer *peer, char *buf, size_t size);
int ocitap_keeper_peer_parse(const char *id, struct ocitap_keeper_peer *ret);

/* The shared secret: OCITAP_KEEPER_SECRET_LEN hex digits. */
#define OCITAP_KEEPER_SECRET_LEN 64

struct ocitap_keeper_msg {
	enum ocitap_keeper_verb verb;
	char key[OCITAP_KEEPER_NAME_MAX + 1];
	char id[OCITAP_KEEPER_NAME_MAX + 1];
	long count;	  /* END N */
	char reason[256]; /* ERR reason */
};

/* Parse one message of len bytes (not NUL-terminated). -EINVAL with err
 * naming what is wrong. */
int ocitap_keeper_parse(const char *buf, size_t len, struct ocitap_keeper_msg *ret, struct ocitap_error *err);

/* Write msg as its line into buf; returns the length or -EINVAL (a bad name). */
int ocitap_keeper_format(const struct ocitap_keeper_msg *msg, char *buf, size_t size);

/*
 * ocitapd's KEY for a notify fd: "<serial>.<i|e>.<policy>" (i: the filter
 * of the container's init, e: of an exec), the policy name with bytes a
 * name may not hold, and '%', written %XX: all a restarted ocitapd needs
 * to serve the fd again. Format: -ENAMETOOLONG when it would not fit in
 * OCITAP_KEEPER_NAME_MAX. Parse: -EINVAL when key is not of that form.
 */
/*
 * The secret in path (a regular file, not a link, owned by the caller's
 * effective uid, readable by nobody else, holding OCITAP_KEEPER_SECRET_LEN
 * hex digits) into ret (NUL-terminated). With create, a missing file is
 * made first (0600, from getrandom()). -errno with err naming the file and
 * what is wrong with it.
 */
int ocitap_keeper_secret_load(const char *path, bool create, char ret[OCITAP_KEEPER_SECRET_LEN + 1],
			      struct ocitap_error *err);

int ocitap_keeper_key_format(char *buf, size_t size, uint64_t serial, bool init, const char *policy);
int ocitap_keeper_key_parse(const char *key, uint64_t *serial, bool *init, char *policy, size_t size);

#endif
