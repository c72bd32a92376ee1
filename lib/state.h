/*
 * state.h: the OCI runtime-spec State (what a hook reads on stdin) and the
 * ContainerProcessState (what a seccomp agent receives on listenerPath).
 *
 * Parsing is strict about what the spec forbids and lenient about what real
 * runtimes send: any ociVersion, pid 0 or absent where a runtime omits it,
 * extra keys (crun's "root"), pretty-printed JSON. Everything a peer controls
 * is bounded by struct ocitap_limits; exceeding a bound is an error that
 * names the bound, never a silent truncation.
 *
 * Ownership: after a successful parse or load, every string and array in the
 * struct belongs to it and lives until ocitap_*_release(). A struct filled in
 * by hand (to serialize or save it) borrows the caller's strings; release is
 * then a no-op. All functions set their outputs only on success.
 */
#ifndef OCITAP_STATE_H
#define OCITAP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* The longest container id taken (bytes): what the HTTP API serves, the
 * socket takes too. Runtimes allow far shorter ones. */
#define OCITAP_ID_MAX 1024

/* PID_MAX_LIMIT on 64-bit Linux: no kernel pid is larger. */
#define OCITAP_PID_MAX 4194304

struct ocitap_limits {
	size_t max_bytes;	/* whole message (default 1 MiB) */
	int max_depth;		/* JSON nesting (default 16) */
	size_t max_string;	/* any one string, in bytes (default 256 KiB) */
	size_t max_annotations; /* entries in "annotations" (default 4096) */
	size_t max_items;	/* entries in any other array (default 4096) */
	size_t max_fds;		/* fds in one listener message (default 16) */
};

/* Fill with the defaults above. */
OCITAP_EXPORT void ocitap_limits_init(struct ocitap_limits *lim);

/* Parse flags. */
#define OCITAP_PARSE_STRICT 0x1u /* also require what the spec requires but runtimes omit */

enum ocitap_status {
	OCITAP_STATUS_OTHER = 0, /* a runtime's own value: see status_text */
	OCITAP_STATUS_CREATING,
	OCITAP_STATUS_CREATED,
	OCITAP_STATUS_RUNNING,
	OCITAP_STATUS_STOPPED,
};

/* "creating", ... for the four spec values; NULL for OTHER. */
OCITAP_EXPORT const char *ocitap_status_to_string(enum ocitap_status status);
/* The enum for a status string; OCITAP_STATUS_OTHER for anything else. */
OCITAP_EXPORT enum ocitap_status ocitap_status_from_string(const char *text);

struct ocitap_annotation {
	const char *key;
	const char *value;
};

struct ocitap_state {
	const char *oci_version; /* NULL when absent (lenient parse only) */
	const char *id;		 /* never NULL or empty after a parse */
	enum ocitap_status status;
	const char *status_text; /* the status string as sent, always set */
	bool has_pid;		 /* "pid" was present */
	pid_t pid;		 /* 0..OCITAP_PID_MAX; 0 when absent */
	const char *bundle;	 /* absolute path, NULL when absent */
	bool has_annotations;	 /* "annotations" was present (it may be empty) */
	size_t n_annotations;
	const struct ocitap_annotation *annotations; /* in the order received */

	void *priv_; /* owned storage; NULL when filled in by hand */
};

struct ocitap_process_state {
	const char *oci_version; /* NULL when absent (lenient parse only) */
	size_t n_fds;
	const char *const *fds; /* fd names, index-matched to the fds received */
	pid_t pid;		/* the container process, > 0 */
	const char *metadata;	/* listenerMetadata, NULL when absent; untrusted */
	struct ocitap_state state;

	void *priv_;
};

/* Number of fds not known (validating a file, not a socket message). */
#define OCITAP_FDS_UNKNOWN ((size_t)-1)

/*
 * Parse and validate a State from len bytes of buf (need not be
 * NUL-terminated). lim NULL means the defaults. On success *ret owns its
 * strings (release it); on failure *ret is untouched and err names the field.
 */
OCITAP_EXPORT int ocitap_state_parse(const char *buf, size_t len, unsigned flags, const struct ocitap_limits *lim,
				     struct ocitap_state *ret, struct ocitap_error *err);

/*
 * Parse and validate a ContainerProcessState. n_fds_received is how many fds
 * came with the message: the "fds" names must match it (OCITAP_FDS_UNKNOWN
 * skips that check).
 */
OCITAP_EXPORT int ocitap_process_state_parse(const char *buf, size_t len, unsigned flags,
					     const struct ocitap_limits *lim, size_t n_fds_received,
					     struct ocitap_process_state *ret, struct ocitap_error *err);

/* Index of the fd named name ("seccompFd"), or -ENOENT. */
OCITAP_EXPORT int ocitap_process_state_fd_index(const struct ocitap_process_state *ps, const char *name);

/* Free what a parse or load allocated and zero the struct. NULL is fine. */
OCITAP_EXPORT void ocitap_state_release(struct ocitap_state *state);
OCITAP_EXPORT void ocitap_process_state_release(struct ocitap_process_state *ps);

/* Serialization flags. */
#define OCITAP_JSON_PRETTY 0x1u

/*
 * The normalized JSON of a state (known keys only, in spec order), as a new
 * NUL-terminated string (free() it). Status OTHER is written verbatim.
 */
OCITAP_EXPORT int ocitap_state_to_json(const struct ocitap_state *state, unsigned flags, char **ret_json,
				       struct ocitap_error *err);
OCITAP_EXPORT int ocitap_process_state_to_json(const struct ocitap_process_state *ps, unsigned flags, char **ret_json,
					       struct ocitap_error *err);

/* What a JSON document looks like, for tools that take any of the three. */
enum ocitap_doc_kind {
	OCITAP_DOC_STATE = 0,
	OCITAP_DOC_PROCESS_STATE,
	OCITAP_DOC_CONFIG,
};

/*
 * Guess the kind from the top-level keys: "fds" or an object "state" mean a
 * ContainerProcessState; an object "process", "root" or "linux", or
 * "mounts"/"hooks", a config.json; anything else (unparsable too) a State,
 * so that its parser reports the problem.
 */
OCITAP_EXPORT enum ocitap_doc_kind ocitap_doc_kind_guess(const char *buf, size_t len, const struct ocitap_limits *lim);

/* Load a State from a file ("-" is stdin), bounded by lim->max_bytes. */
OCITAP_EXPORT int ocitap_state_load(const char *path, unsigned flags, const struct ocitap_limits *lim,
				    struct ocitap_state *ret, struct ocitap_error *err);

/* Save a State as JSON, atomically (see ocitap_write_file_atomic), mode 0644. */
OCITAP_EXPORT int ocitap_state_save(const struct ocitap_state *state, const char *path, struct ocitap_error *err);

#endif
