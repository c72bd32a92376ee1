/*
 * notify.h: seccomp notifications answered by policy (notify.c). Loop thread only.
 */
#ifndef OCITAPD_NOTIFY_H
#define OCITAPD_NOTIFY_H

#include "ocitapd.h"

/* 0 when fd is a seccomp user-notification fd; else -EBADF (or -errno) with
 * err saying what it is ("not a seccomp notify fd (pipe:[1234])"). */
int notify_check_fd(int fd, struct ocitap_error *err);
/* Watch a notify fd of c (takes fd; closed on failure), answered by policy
 * for as long as it lives (NULL: the container's, that of its first fd;
 * the first fd's policy becomes the container's). key: its name at the
 * keeper when it came back from there; NULL for a new one, which is named
 * here and handed to the keeper and systemd's fd store. requested: the
 * policy name its message asked for when there is none of that name
 * (policy is then the fallback, notify_fallback_policy()); NULL otherwise. */
struct notify_fd *notify_add_fd(struct ocitapd *d, struct container *c, int fd, bool init, const char *key,
				const struct ocitap_policy *policy, const char *requested);
/* What answers a fd of c whose message named an unknown policy: deny, or
 * with --unknown-policy audit the container's own (that of its first fd,
 * else audit). */
const struct ocitap_policy *notify_fallback_policy(struct ocitapd *d, const struct container *c);
/* Stop watching n, close it, drop it from the keeper and the fd store. */
void notify_remove_fd(struct ocitapd *d, struct notify_fd *n);
/* Take one notification from n and answer it. */
void notify_answer(struct ocitapd *d, struct notify_fd *n);
/* Send the answer a to req on n (SIGKILL for kill, after an ID_VALID check). */
void notify_send_answer(struct ocitapd *d, struct notify_fd *n, const struct seccomp_notif *req,
			const struct ocitap_action *a);
/* Count an answered notification for the store (notification counts). */
void notify_count(struct ocitapd *d, struct container *c, uint32_t arch, int nr, const struct ocitap_action *a);
/* n becomes the hot fd (NULL: none), waited on directly by loop_wait(). */
void notify_set_hot(struct ocitapd *d, struct notify_fd *n);
/* The policy named name, or NULL (counted in ocitap_unknown_policy_total). */
const struct ocitap_policy *notify_find_policy(struct ocitapd *d, const char *name);
/* SIGHUP: the policy file again; on error the policies in use stay. */
void notify_reload_policies(struct ocitapd *d);
/* Stopping: answer whatever is pending before the fds close. */
void notify_drain(struct ocitapd *d);

#endif
