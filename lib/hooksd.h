/*
 * hooksd.h: oci-hooks(5) files, the hooks.d directories podman, CRI-O and
 * Buildah read, evaluated the way containers/common does.
 *
 * A file is JSON in schema "1.0.0" ({version, hook, when, stages}) or the
 * legacy "0.1.0" (no version, or "0.1.0": {hook, arguments, stages|stage,
 * cmds|cmd, annotations|annotation, hasbindmounts}), which is read into
 * the same struct with or_semantics set. Keys are matched as Go's
 * encoding/json matches them: exactly first, then ignoring case.
 *
 * Directories come in increasing preference: a file in a later directory
 * masks one of the same name in an earlier one; a broken file masks
 * nothing and is reported. Loaded files are evaluated in the order of their
 * lower-cased names.
 *
 * Regular expressions are Go's (regexp, RE2 syntax), unanchored, as
 * podman reads them. They run on PCRE2 after a pass that reads the pattern
 * the way Go's regexp/syntax does: it refuses what Go refuses (naming the
 * construct: backreferences, lookaround, atomic groups, possessive
 * quantifiers, \K, \Z, recursion, conditionals, PCRE2-only group syntax,
 * repeat counts over 1000 alone or nested) and spells the rest so PCRE2
 * means the same: UTF-8 with Go's ASCII \d \w \s \b and POSIX classes,
 * \pL and \p{Greek}, flags i m s U anywhere ((?i) and (?i:...)), . without
 * \n unless (?s), $ only at the end of the text unless (?m), \Q...\E,
 * \x41, \x{263a}, octal, and {,n} as a literal. A subject that is not
 * valid UTF-8 is matched as Go matches it (each bad byte as U+FFFD).
 * Syntax only newer Go reads ((?<name>), loose \p{} names) is accepted and
 * noted (ocitap_regex_newer_go()).
 * PCRE2 backtracks where RE2 does not: a search is bounded and says so
 * rather than answering.
 *
 * Ownership: every string and array in a struct ocitap_hooksd_file belongs
 * to it until ocitap_hooksd_file_release(); a set owns its files.
 */
#ifndef OCITAP_HOOKSD_H
#define OCITAP_HOOKSD_H

#include <stdbool.h>
#include <stddef.h>

#include "bundle.h"
#include "error.h"

/* Where podman and CRI-O look by default, in increasing preference. */
#define OCITAP_HOOKSD_DEFAULT_DIR  "/usr/share/containers/oci/hooks.d"
#define OCITAP_HOOKSD_OVERRIDE_DIR "/etc/containers/oci/hooks.d"

/* A hooks.d file bigger than this is refused (the real ones are < 1 KiB). */
#define OCITAP_HOOKSD_MAX_FILE (1u << 20)

/* Longer patterns are refused (real ones are a few dozen bytes). */
#define OCITAP_REGEX_MAX 4096

/* A compiled Go regular expression; what it holds is private to hooksd.c.
 * All zero (prog NULL) is "not compiled", which matches nothing. */
struct ocitap_regex_program;
struct ocitap_regex {
	struct ocitap_regex_program *prog;
};

/*
 * Compile Go regular expression pattern for unanchored matching into *ret
 * (release it with ocitap_regex_release()). -E2BIG when pattern is longer
 * than OCITAP_REGEX_MAX; -EINVAL, err naming the construct and its byte,
 * when Go would refuse the pattern or PCRE2 cannot hold it (a counted
 * repeat of a large group can exceed its compiled size where Go's limit is
 * larger); -ENOMEM. On failure *ret is all zero.
 */
int ocitap_regex_compile(const char *pattern, struct ocitap_regex *ret, struct ocitap_error *err);
/*
 * 1 when re matches somewhere in text, 0 when not (also when re was never
 * compiled). -ERANGE when the search gave up at its backtracking limits
 * (Go would have answered: this is no verdict), -ENOMEM.
 */
int ocitap_regex_search(const struct ocitap_regex *re, const char *text);
/*
 * NULL, or for people a sentence on Go syntax in re that older Go releases
 * refuse (podman built with such a Go fails to set up its hooks):
 * (?<name>...) needs Go 1.22, class names spelled loosely (\p{greek}) Go
 * 1.25. Static text; valid while re is.
 */
const char *ocitap_regex_newer_go(const struct ocitap_regex *re);
/* Free what compile made; re may be NULL or never compiled. */
void ocitap_regex_release(struct ocitap_regex *re);

struct ocitap_hooksd_annotation {
	char *key_pattern, *value_pattern;
	struct ocitap_regex key_re, value_re;
};

struct ocitap_hooksd_file {
	char *name;    /* file name: what masks and orders */
	char *path;    /* directory/name */
	char *version; /* as written; "" when absent */
	bool legacy;   /* 0.1.0: any one condition is enough (or_semantics) */

	/* hook: what the runtime will run */
	char *hook_path;
	char **args; /* NULL-terminated, NULL when absent */
	size_t n_args;
	char **env;
	size_t n_env;
	bool has_timeout;
	int timeout;

	/* when */
	bool has_always, always;
	bool has_bind_mounts_cond, bind_mounts;
	struct ocitap_hooksd_annotation *annotations;
	size_t n_annotations;
	char **commands;
	size_t n_commands;
	struct ocitap_regex *command_res;

	bool has_stages; /* "stages" present (even empty) */
	char **stages;
	size_t n_stages;

	/* set by ocitap_hooksd_load */
	bool loaded;		   /* parsed and valid: it takes part */
	struct ocitap_error error; /* why it did not load (code 0 when it did) */
	char *masked_by;	   /* path of the later file of the same name, or NULL */
};

/*
 * Parse and validate one hooks.d file from len bytes of buf. path is used
 * for name/path (the file need not exist). Validation is containers/common's:
 * version known, hook.path set and present on this machine (stat), every
 * regular expression compiles, stages present and each one known.
 * On error ret still holds what could be read (release it) and err says
 * which field is wrong.
 */
int ocitap_hooksd_parse(const char *buf, size_t len, const char *path, struct ocitap_hooksd_file *ret,
			struct ocitap_error *err);
void ocitap_hooksd_file_release(struct ocitap_hooksd_file *f);

struct ocitap_hooksd_dir {
	char *path;
	int error;     /* 0, or -errno from opening it (-ENOENT: absent, not an error for podman) */
	size_t n_json; /* *.json files seen */
};

struct ocitap_hooksd_set {
	struct ocitap_hooksd_dir *dirs;
	size_t n_dirs;
	/* Every *.json file seen, loaded or not, masked or not: loaded
	 * unmasked files first in evaluation order, then the others by name. */
	struct ocitap_hooksd_file *files;
	size_t n_files;
};

/*
 * Read every *.json file of dirs (increasing preference). A directory that
 * cannot be read is recorded in dirs[].error, not fatal. Fails only when out
 * of memory.
 */
int ocitap_hooksd_load(const char *const *dirs, size_t n_dirs, struct ocitap_hooksd_set *ret, struct ocitap_error *err);
void ocitap_hooksd_set_release(struct ocitap_hooksd_set *set);

/* One condition of "when", as evaluated against a bundle. */
struct ocitap_hooksd_reason {
	const char *condition; /* "always", "hasBindMounts", "annotations", "commands" */
	bool matched;
	char detail[256]; /* for people: which pattern, which value */
};

#define OCITAP_HOOKSD_MAX_REASONS 8

struct ocitap_hooksd_verdict {
	bool match;
	size_t n_reasons; /* the conditions looked at, in the order containers/common looks */
	struct ocitap_hooksd_reason reasons[OCITAP_HOOKSD_MAX_REASONS];
	bool decided_by_commands; /* commands decided alone (they return at once) */
};

/*
 * Would file f add its stages to a container with config cfg?
 * has_bind_mounts is what the engine passes (podman: the container has user
 * volumes). Fills ret; returns 0, or -EINVAL when containers/common fails
 * the match (commands given, a process with no args), err saying why.
 */
int ocitap_hooksd_match(const struct ocitap_hooksd_file *f, const struct ocitap_config *cfg, bool has_bind_mounts,
			struct ocitap_hooksd_verdict *ret, struct ocitap_error *err);

/*
 * The stage a file's stage name lands in under the newest rules: "prestart"
 * is injected as "createRuntime" (containers/common v0.58.0, 2024); the
 * others as named.
 */
const char *ocitap_hooksd_injected_stage(const char *stage);

/*
 * The rules of the containers/common a podman version builds with, as far
 * as they differ: before containers/common v0.58.0 (podman before 5.0) a
 * "prestart" stage is injected as prestart; from it (commit "hooks: handle
 * prestart as createRuntime", February 2024; podman 5.0 and later) as
 * createRuntime. version is podman's, "X.Y" or "X.Y.Z" (a "-dev" or "-rc1"
 * tail allowed); anything else is an error naming it.
 */
struct ocitap_hooksd_rules {
	int major, minor, patch;
	bool prestart_as_create_runtime;
	const char *common; /* "before v0.58.0", "v0.58.0 or later" */
};
int ocitap_hooksd_rules_for_podman(const char *version, struct ocitap_hooksd_rules *rules, struct ocitap_error *err);

/* The stage a file's stage name lands in under those rules. */
const char *ocitap_hooksd_injected_stage_under(const char *stage, const struct ocitap_hooksd_rules *rules);

/*
 * Whether a bundle has bind mounts as an engine would say: a mount of type
 * "bind" or with a "bind"/"rbind" option whose destination is not one the
 * engine itself adds (/etc/hosts, /etc/hostname, /etc/resolv.conf,
 * /run/.containerenv, /run/secrets, /dev/shm).
 */
bool ocitap_hooksd_bundle_has_bind_mounts(const struct ocitap_config *cfg);

#endif
