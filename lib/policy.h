/*
 * policy.h: how ocitapd answers seccomp notifications.
 *
 * A policy maps syscalls to actions: "continue" (record, then let the
 * syscall run: SECCOMP_USER_NOTIF_FLAG_CONTINUE, which is NOT a security
 * boundary: another thread can change pointed-to arguments after the
 * check), "errno:NAME" (deny with that errno, e.g. errno:EPERM) or "kill"
 * (deny, and kill the process). Built in: "audit" (continue everything, the
 * default) and "deny" (errno:EPERM for everything). More come from a policy
 * file (docs/ocitapd-policy.5.scd):
 *
 *   { "policies": { "NAME": { "default": "continue",
 *                             "syscalls": { "mkdir": "errno:EACCES", "chmod": "kill" } } } }
 *
 * A container picks its policy with listenerMetadata "policy=NAME" (words
 * separated by spaces or ';'; unknown keys ignored).
 *
 * Syscall names are resolved with libseccomp for the native architecture and
 * its compat ones at load time, so deciding is a binary search by (arch, nr).
 */
#ifndef OCITAP_POLICY_H
#define OCITAP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "state.h"

enum ocitap_action_kind {
	OCITAP_ACTION_CONTINUE = 0,
	OCITAP_ACTION_ERRNO,
	OCITAP_ACTION_KILL,
};

struct ocitap_action {
	enum ocitap_action_kind kind;
	int errno_value; /* > 0 for OCITAP_ACTION_ERRNO */
};

#define OCITAP_POLICY_NAME_MAX 64

/* Parse "continue", "errno:EPERM" (or "errno:1"), "kill". */
int ocitap_action_parse(const char *text, struct ocitap_action *ret, struct ocitap_error *err);
/* "continue", "errno:EPERM", "kill" into buf (at least 32 bytes); returns buf. */
const char *ocitap_action_format(const struct ocitap_action *a, char *buf, size_t size);

struct ocitap_policy;
struct ocitap_policy_set;

/*
 * Parse a policy file's JSON into a set that also holds the built-ins (a
 * file may not redefine "audit" or "deny"). buf NULL/len 0: built-ins only.
 */
int ocitap_policy_set_parse(const char *buf, size_t len, const struct ocitap_limits *lim,
			    struct ocitap_policy_set **ret, struct ocitap_error *err);
/* Read and parse a policy file; path NULL gives the built-ins only. */
int ocitap_policy_set_load(const char *path, struct ocitap_policy_set **ret, struct ocitap_error *err);
void ocitap_policy_set_free(struct ocitap_policy_set *set);

/* The named policy, or NULL. */
const struct ocitap_policy *ocitap_policy_set_find(const struct ocitap_policy_set *set, const char *name);
/* "audit". */
const struct ocitap_policy *ocitap_policy_set_default(const struct ocitap_policy_set *set);
size_t ocitap_policy_set_count(const struct ocitap_policy_set *set);
/* The i-th policy (i < count): audit, deny, then the file's in its order. */
const struct ocitap_policy *ocitap_policy_set_get(const struct ocitap_policy_set *set, size_t i);

const char *ocitap_policy_name(const struct ocitap_policy *p);

/* The action for syscall nr of audit architecture arch (seccomp_data.arch). */
struct ocitap_action ocitap_policy_decide(const struct ocitap_policy *p, uint32_t arch, int nr);

/*
 * The answer for a notification whose syscall is not known (one a killed
 * daemon took and never answered): the policy's action when it has one
 * for every syscall; otherwise a refusal that grants nothing the policy
 * might deny and kills nothing: its first errno action, else EPERM.
 * *exact tells whether the answer is what the policy would have given.
 */
struct ocitap_action ocitap_policy_blind(const struct ocitap_policy *p, bool *exact);

/*
 * Find "policy=NAME" among listenerMetadata's words (separated by spaces or
 * ';'). Returns 1 and copies NAME into ret_name (size bytes) when present
 * and it fits, 0 when there is none, -ENAMETOOLONG / -EINVAL for a name that
 * is too long or empty. metadata may be NULL.
 */
int ocitap_metadata_policy(const char *metadata, char *ret_name, size_t size);

#endif
