/*
 * options.h: what ocitapd is told at start, by flag and by environment (a
 * flag wins), with the defaults of DESIGN.md. Parsed once, read-only after.
 */
#ifndef OCITAPD_OPTIONS_H
#define OCITAPD_OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "conf.h"
#include "log.h"
#include "push.h"

#define OCITAPD_MAX_PUSH 16
/* read at start when present (--config names another, or off) */
#define OCITAPD_DEFAULT_CONFIG OCITAP_DEFAULT_CONFIG /* conf.h */
#define OCITAPD_CONFIG_MAX     OCITAP_CONFIG_MAX
#define OCITAPD_MAX_ALLOW_UIDS 32

enum ocitapd_trace { TRACE_OFF, TRACE_ANNOTATED, TRACE_ALL };
/* --unknown-policy: a notify fd whose message names a policy there is not */
enum ocitapd_unknown_policy { UNKNOWN_POLICY_DENY = 0, UNKNOWN_POLICY_AUDIT, UNKNOWN_POLICY_REFUSE };

struct ocitapd_options {
	const char *socket_path, *state_dir, *http, *http_token_file, *policy_path;
	const char *config_path;       /* the config file read, NULL: none */
	const char *keeper_path;       /* NULL: --keeper off */
	char keeper_default[PATH_MAX]; /* keeper.sock next to the socket, when keeper_path points here */
	/* the report-only socket, the one thing meant to be mounted into containers
	 * (container/ocitap.sock next to the socket); NULL: --container-socket off */
	const char *container_socket;
	char container_socket_default[PATH_MAX];
	bool bpf;
	enum ocitapd_trace trace;
	enum ocitapd_unknown_policy unknown_policy;
	bool replace; /* --replace: ask the running daemon to hand over, then exit */
	const char *push[OCITAPD_MAX_PUSH], *push_token_file, *push_ca_file;
	size_t n_push;
	int64_t push_backlog;
	enum push_format push_format;
	/* seccomp profiles (tracking.c, profile.h): relative names land in
	 * profile_dir (NULL: none), absolute paths only there or under an
	 * allowed prefix; each absolute and normalised */
	const char *profile_dir;
	char profile_dir_default[PATH_MAX]; /* STATE_DIR/profiles */
	const char *profile_allow[OCITAP_PROFILE_ALLOW_MAX];
	size_t n_profile_allow;
	const char *docker_root;	     /* Docker's data root, where its containers' names are; NULL: off */
	uid_t allow[OCITAPD_MAX_ALLOW_UIDS]; /* besides root */
	size_t n_allow;
	/* who may connect to the socket (its group and mode); who is served is
	 * still root and the --allow-uid users (SO_PEERCRED) */
	const char *socket_group; /* as named (--socket-group); NULL: the daemon's group */
	gid_t socket_gid;	  /* socket_group's gid, else the daemon's egid */
	mode_t socket_mode;	  /* as given, else 0660 with a group, 0666 with --allow-uid, 0600 */
	bool socket_mode_given;
	/* the users' runtime directories: each --allow-uid's hooks spool in
	 * DIR/UID/ocitap/spool when the state directory is not theirs; NULL: off */
	const char *user_runtime_dir;
	enum log_level level;
	int64_t retention_s;
	int timeout_ms, sync_interval_ms;
	int fault; /* OCITAP_FAULT (tests only): enum ocitapd_fault, and at which notification */
	uint64_t fault_at;
};

enum { OPTIONS_RUN = 0, OPTIONS_EXIT = 1 };

/*
 * Fill *o from the config file (--config FILE, else $OCITAP_CONFIG, else
 * OCITAPD_DEFAULT_CONFIG when present; ocitapd.conf(5)), then the environment (OCITAP_SOCKET, OCITAP_STATE_DIR,
 * OCITAP_HTTP, OCITAP_PROFILE_DIR, OCITAP_KEEPER, OCITAP_BPF, OCITAP_TRACE_SYSCALLS,
 * OCITAP_PUSH_FORMAT, OCITAP_DOCKER_ROOT, OCITAP_SOCKET_GROUP, OCITAP_SOCKET_MODE,
 * OCITAP_USER_RUNTIME_DIR, OCITAP_FAULT), then argv. OPTIONS_RUN: go on; OPTIONS_EXIT: --help or
 * --version was printed to out; -EINVAL: err names the flag and the value
 * (in the file: the file, the line and the key)
 * (the caller prints it once and exits 2). o points into argv and the
 * environment: keep both alive.
 */
int options_parse(struct ocitapd_options *o, int argc, char **argv, FILE *out, struct ocitap_error *err);

/*
 * The config file's text (size bytes, modified in place, kept by *o: the
 * values point into it) applied to *o as flags, path naming it in errors.
 * Each line is blank, a comment (# first) or KEY = VALUE, KEY a long flag.
 */
int options_apply_config(struct ocitapd_options *o, char *text, size_t size, const char *path,
			 struct ocitap_error *err);

/*
 * What the socket's group and mode mean for who can connect, that the
 * operator should hear at start (valid values, but maybe not what was
 * meant): every user may connect; a group that cannot; peers that can
 * connect but are not served; an --allow-uid user that cannot connect.
 * Each is one line given to warn. Returns how many there were.
 */
size_t options_socket_warnings(const struct ocitapd_options *o, void (*warn)(void *userdata, const char *line),
			       void *userdata);

/* A file next to the socket: ocitapd.pid, ocitapd.replace, ocitapd.inflight, keeper.sock. */
void options_run_file(const struct ocitapd_options *o, const char *name, char *buf, size_t size);

#endif
