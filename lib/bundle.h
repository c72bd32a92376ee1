/*
 * bundle.h: what ocitap reads from a bundle's config.json.
 *
 * Not the whole runtime-spec: the parts ocitap needs, typed: annotations,
 * process.args, the hooks of each stage, linux.seccomp (listenerPath,
 * listenerMetadata, default action, rules) and mounts. Unknown keys are
 * ignored; wrong types are errors that name the key.
 *
 * Ownership: as in state.h, strings and arrays belong to the struct until
 * ocitap_config_release().
 */
#ifndef OCITAP_BUNDLE_H
#define OCITAP_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "state.h"

enum ocitap_stage {
	OCITAP_STAGE_PRESTART = 0,
	OCITAP_STAGE_CREATE_RUNTIME,
	OCITAP_STAGE_CREATE_CONTAINER,
	OCITAP_STAGE_START_CONTAINER,
	OCITAP_STAGE_POSTSTART,
	OCITAP_STAGE_POSTSTOP,
	OCITAP_STAGE_COUNT,
};

/* "prestart", "createRuntime", ... as spelled in config.json; NULL if out of range. */
OCITAP_EXPORT const char *ocitap_stage_to_string(enum ocitap_stage stage);
/* The stage for a name (exact spelling), or -EINVAL. */
OCITAP_EXPORT int ocitap_stage_from_string(const char *name);

struct ocitap_hook {
	const char *path;	 /* absolute */
	const char *const *args; /* NULL-terminated; NULL when absent */
	size_t n_args;
	const char *const *env;
	size_t n_env;
	bool has_timeout;
	int timeout; /* seconds, > 0 when has_timeout */
};

struct ocitap_seccomp_rule {
	const char *const *names;
	size_t n_names;
	const char *action; /* "SCMP_ACT_NOTIFY", ... */
	bool has_errno_ret;
	unsigned errno_ret;
};

struct ocitap_seccomp {
	const char *default_action;
	const char *listener_path; /* NULL when absent */
	const char *listener_metadata;
	const char *const *architectures;
	size_t n_architectures;
	const struct ocitap_seccomp_rule *rules;
	size_t n_rules;
};

struct ocitap_mount {
	const char *destination;
	const char *type; /* NULL when absent */
	const char *source;
	const char *const *options;
	size_t n_options;
};

struct ocitap_config {
	const char *oci_version;
	const char *root_path; /* root.path, NULL when absent */
	bool has_annotations;
	size_t n_annotations;
	const struct ocitap_annotation *annotations;
	const char *const *args; /* process.args; NULL when there is no process */
	size_t n_args;
	const struct ocitap_hook *hooks[OCITAP_STAGE_COUNT];
	size_t n_hooks[OCITAP_STAGE_COUNT];
	bool has_seccomp;
	struct ocitap_seccomp seccomp;
	const struct ocitap_mount *mounts;
	size_t n_mounts;

	void *priv_;
};

/*
 * Parse a config.json from len bytes of buf. OCITAP_PARSE_STRICT also
 * requires ociVersion and, when linux.seccomp is present, defaultAction.
 * listenerMetadata without listenerPath is always an error (the spec forbids it).
 */
OCITAP_EXPORT int ocitap_config_parse(const char *buf, size_t len, unsigned flags, const struct ocitap_limits *lim,
				      struct ocitap_config *ret, struct ocitap_error *err);

/* Only the annotations are wanted (ocitap_bundle_load_config()): a
 * config.json in which neither "annotations" nor a \u escape (which could
 * spell the key) appears has none, and is not parsed: *ret is then empty
 * (has_annotations false). A hook reads its bundle for nothing else. */
#define OCITAP_CONFIG_ANNOTATIONS_ONLY 0x100u

/* Read BUNDLE/config.json (bounded by lim->max_bytes) and parse it. */
OCITAP_EXPORT int ocitap_bundle_load_config(const char *bundle, unsigned flags, const struct ocitap_limits *lim,
					    struct ocitap_config *ret, struct ocitap_error *err);

/* The value of annotation key, or NULL. */
OCITAP_EXPORT const char *ocitap_config_annotation(const struct ocitap_config *cfg, const char *key);

/* Normalized JSON of the parts ocitap reads (free() it). */
OCITAP_EXPORT int ocitap_config_to_json(const struct ocitap_config *cfg, unsigned flags, char **ret_json,
					struct ocitap_error *err);

/* Free what a parse allocated and zero the struct. NULL is fine. */
OCITAP_EXPORT void ocitap_config_release(struct ocitap_config *cfg);

#endif
