/*
 * defaults.h: the names and defaults every ocitap program agrees on: where
 * ocitapd listens, where it keeps its state, its HTTP address, and the
 * environment variables that move each of them. Users and scripts depend on
 * these (the design's "Names and defaults"): they do not change.
 *
 * A hook or seccomp agent written against the SDK finds the daemon with
 * ocitap_default_path(OCITAP_ENV_SOCKET, OCITAP_DEFAULT_SOCKET), as
 * ocitap-hook does. Header only, nothing to link.
 */
#ifndef OCITAP_DEFAULTS_H
#define OCITAP_DEFAULTS_H

#include <stdlib.h>

/* ocitapd's socket: seccomp listenerPath and hook reports (mode 0600, root) */
#define OCITAP_DEFAULT_SOCKET "/run/ocitap/ocitap.sock"
/* ocitapd's state directory, and what it holds: the database and the
 * directory where hooks leave reports while ocitapd is away */
#define OCITAP_DEFAULT_STATE_DIR "/var/lib/ocitap"
#define OCITAP_STATE_DB_NAME	 "ocitap.db"
#define OCITAP_SPOOL_DIR_NAME	 "spool"
/* where ocitapd writes the seccomp profiles io.containers.trace-syscall asks
 * for by a relative name: this directory in the state directory, so
 * /var/lib/ocitap/profiles by default */
#define OCITAP_PROFILE_DIR_NAME "profiles"
/* ocitapd's HTTP API; "unix:/path" is accepted wherever an address is */
#define OCITAP_DEFAULT_HTTP "127.0.0.1:9476"
/* where a user's hook spools when the state directory is not its to write
 * (rootless podman: the hook is root only in the user's namespace): in the
 * user's runtime directory, /run/user/UID (pam_systemd's, podman's
 * XDG_RUNTIME_DIR), this directory; ocitapd replays it for each --allow-uid */
#define OCITAP_DEFAULT_USER_RUNTIME_DIR "/run/user"
#define OCITAP_USER_DIR_NAME		"ocitap"
#define OCITAP_USER_SPOOL_DIR_NAME	OCITAP_USER_DIR_NAME "/" OCITAP_SPOOL_DIR_NAME
/* ocitap-fdkeeper's socket, in the directory of ocitapd's socket */
#define OCITAP_DEFAULT_KEEPER_NAME "keeper.sock"

/* The environment variables that override the defaults above (a flag wins
 * over them). */
#define OCITAP_ENV_SOCKET	    "OCITAP_SOCKET"
#define OCITAP_ENV_STATE_DIR	    "OCITAP_STATE_DIR"
#define OCITAP_ENV_HTTP		    "OCITAP_HTTP"
#define OCITAP_ENV_PROFILE_DIR	    "OCITAP_PROFILE_DIR"
#define OCITAP_ENV_USER_RUNTIME_DIR "OCITAP_USER_RUNTIME_DIR"

/*
 * The value of the environment variable env when it is set and not empty,
 * else dflt. The result points into the environment or is dflt: not owned.
 */
static inline const char *ocitap_default_path(const char *env, const char *dflt)
{
	const char *v = getenv(env);

	return v && *v ? v : dflt;
}

#endif
