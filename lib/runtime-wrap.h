/*
 * runtime-wrap.h: what ocitap-runtime does to a runtime's command line and
 * to a bundle, as pure functions (hooks/ocitap-runtime.c is the program).
 *
 * The command line is runc's: global flags, a command, the command's flags
 * and arguments. Only the command is looked for, and for `create` and `run`
 * the bundle (--bundle/-b, else the working directory); everything else is
 * the real runtime's business and is passed on unchanged.
 *
 * The edit adds ocitap's hook for each configured stage (not twice: a hook
 * with the same path already there is left alone) and, when the seccomp
 * profile has an SCMP_ACT_NOTIFY action and no listenerPath, names ocitapd's
 * socket as the listener (and listenerMetadata, when the profile has none).
 *
 * The configuration (/etc/ocitap/runtime.json, ocitap-runtime(8)):
 *   {"runtime": "runc", "runtimeArgs": [], "stages": ["createRuntime", ...],
 *    "hook": "/usr/local/bin/ocitap-hook", "hookTimeout": 5, "socket": ...,
 *    "stateDir": ..., "listener": true, "policy": "audit",
 *    "listenerMetadata": "...", "failClosed": false}
 * Unknown keys and wrong types are errors that name the key.
 *
 * Ownership: strings in struct ocitap_wrap_config belong to it until
 * ocitap_wrap_config_release().
 */
#ifndef OCITAP_RUNTIME_WRAP_H
#define OCITAP_RUNTIME_WRAP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "bundle.h"
#include "error.h"

#define OCITAP_RUNTIME_CONFIG	  "/etc/ocitap/runtime.json"
#define OCITAP_ENV_RUNTIME_CONFIG "OCITAP_RUNTIME_CONFIG"

/* The stages added when the configuration names none: the ones that tell
 * ocitapd what nothing else does (ocitap-hook(1), DEFAULT STAGES):
 * createRuntime names the init (its pidfd, its bundle) before it runs,
 * poststop the end. poststart's "running" comes from the listener and BPF;
 * createContainer and startContainer run inside the container, where
 * neither ocitapd's socket nor the spool is. */
#define OCITAP_WRAP_DEFAULT_STAGES ((1u << OCITAP_STAGE_CREATE_RUNTIME) | (1u << OCITAP_STAGE_POSTSTOP))

struct ocitap_wrap_config {
	char *runtime;	     /* the real runtime; a name is looked up in PATH */
	char **runtime_args; /* global flags put before the caller's */
	size_t n_runtime_args;
	unsigned stages;  /* 1 << enum ocitap_stage for each stage to hook */
	char *hook;	  /* the hook's path; NULL: ocitap-hook beside ocitap-runtime */
	int hook_timeout; /* the OCI hook entry's "timeout", seconds */
	char *socket;	  /* ocitapd's socket; NULL: the hook's default */
	char *state_dir;  /* NULL: the hook's default */
	bool listener;	  /* set listenerPath on profiles that notify */
	char *policy;	  /* listenerMetadata "policy=NAME"; NULL: none */
	char *metadata;	  /* listenerMetadata verbatim (wins over policy) */
	bool fail_closed; /* a failure to wrap fails the command */
};

void ocitap_wrap_config_init(struct ocitap_wrap_config *cfg);
void ocitap_wrap_config_release(struct ocitap_wrap_config *cfg);

/* Parse runtime.json (len bytes) over what cfg has (the defaults). */
int ocitap_wrap_config_parse(const char *buf, size_t len, struct ocitap_wrap_config *cfg, struct ocitap_error *err);

/*
 * The index of the command in argv[1..argc-1], or -1 when there is none
 * (only global flags: `--version`). Global flags that take a value
 * (--root, --log, --log-format, --criu, --rootless and runsc's) are skipped
 * with it unless written FLAG=VALUE.
 */
int ocitap_wrap_find_command(int argc, char *const *argv);

/* Is this global flag (as written) followed by its value? */
bool ocitap_wrap_takes_value(const char *flag);

/* For create and run: the --bundle/-b value after the command, or NULL (the working directory). */
const char *ocitap_wrap_find_bundle(int argc, char *const *argv, int cmd);

/* True for the commands that take a bundle whose config.json is edited. */
bool ocitap_wrap_edits(const char *command);

struct ocitap_wrap_changes {
	unsigned hooks_added; /* 1 << stage */
	bool listener_set;    /* listenerPath was added */
	bool metadata_set;    /* listenerMetadata was added */
};

/*
 * Edit a parsed config.json in place. hook is the hook's path (cfg->hook or
 * the default). 0 with *ret saying what changed (nothing: leave the file
 * alone); -EINVAL when config.json has the wrong shape where ocitap edits
 * it (err names the key).
 */
int ocitap_wrap_edit(json_object *config, const struct ocitap_wrap_config *cfg, const char *hook,
		     struct ocitap_wrap_changes *ret, struct ocitap_error *err);

/*
 * The same edit done on config.json's text (runtime-wrap-splice.c): the
 * additions spliced in, every byte of buf kept. 0 with *ret_text (malloc'd,
 * NUL-terminated, *ret_len bytes; NULL when nothing needs adding) and *ret;
 * -ENOTSUP when buf has anything the scanner does not handle (invalid or
 * odd JSON, a key ocitap reads given twice or with escapes, a wrong type
 * where ocitap edits): then parse it and use ocitap_wrap_edit(), which also
 * words the error; -ENOMEM. Where it succeeds, json-c reads the result as
 * ocitap_wrap_edit()'s on the parsed buf.
 */
int ocitap_wrap_splice(const char *buf, size_t len, const struct ocitap_wrap_config *cfg, const char *hook,
		       char **ret_text, size_t *ret_len, struct ocitap_wrap_changes *ret);

#endif
