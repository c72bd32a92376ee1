/*
 * options.c: ocitapd's command line and environment (options.h): the
 * option table, the defaults, the checks of every value, and --help.
 * Nothing here starts anything; a bad value is an error naming the flag.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "ocitapd.h"

#define OCITAPD_PEER_TIMEOUT_MS 2000

void options_run_file(const struct ocitapd_options *o, const char *name, char *buf, size_t size)
{
	const char *slash = strrchr(o->socket_path, '/');

	if (slash)
		snprintf(buf, size, "%.*s/%s", (int)(slash - o->socket_path), o->socket_path, name);
	else
		snprintf(buf, size, "%s", name);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ocitapd [OPTIONS]\n"
		"\n"
		"The ocitap daemon: the seccomp notify listener runtimes point\n"
		"linux.seccomp.listenerPath at, and the recorder the ocitap hooks report to.\n"
		"\n"
		"  -s, --socket PATH       listener and hook socket (default %s; $OCITAP_SOCKET)\n"
		"  -d, --state-dir DIR     database and hook spool (default %s; $OCITAP_STATE_DIR)\n"
		"      --http ADDR         HTTP export address (default %s; $OCITAP_HTTP; \"off\")\n"
		"      --push URL          POST every event there as CloudEvents (repeatable)\n"
		"      --push-token-file F bearer token for the --push receivers\n"
		"      --push-ca-file F    CA certificates for https receivers (default: the system's)\n"
		"      --push-backlog N    events a receiver may fall behind before the oldest are skipped (100000)\n"
		"      --push-format F     what a POST carries: cloudevents-batch (default), cloudevents (one per\n"
		"                          request), json (an array; Fluent Bit, fluentd) or ndjson "
		"($OCITAP_PUSH_FORMAT)\n"
		"      --http-token-file F bearer token every HTTP request must carry (required off loopback)\n"
		"  -p, --policy FILE       policy file (JSON, ocitapd-policy(5)); SIGHUP reloads it\n"
		"      --unknown-policy deny|audit|refuse  the answer when listenerMetadata names a policy\n"
		"                          there is not: deny (default, EPERM), audit, or refuse the container\n"
		"      --keeper PATH       ocitap-fdkeeper's socket, started there when absent (default: keeper.sock\n"
		"                          next to --socket; $OCITAP_KEEPER); \"off\": a restart fails notified "
		"syscalls\n"
		"      --container-socket PATH  the report-only socket, the one thing to mount into containers\n"
		"                          (startContainer reports; default container/ocitap.sock next to --socket;\n"
		"                          $OCITAP_CONTAINER_SOCKET); \"off\": none\n"
		"      --replace           have the ocitapd serving --socket hand over to the binary now at its\n"
		"                          path (as SIGUSR2 does), wait until it has, print the new pid\n"
		"      --bpf on|off        load the BPF programs: the init's exec and exit, OOM kills, syscall\n"
		"                          sets (default on; $OCITAP_BPF); off, or not permitted: the rest runs on\n"
		"      --trace-syscalls WHICH  whose syscall sets to record: annotated (default: containers with\n"
		"                          io.containers.trace-syscall), all, or off ($OCITAP_TRACE_SYSCALLS)\n"
		"      --profile-dir DIR   where io.containers.trace-syscall=of:NAME profiles go (default\n"
		"                          STATE-DIR/profiles, %s; $OCITAP_PROFILE_DIR)\n"
		"      --profile-allow DIR also accept absolute of: and if: paths under DIR (repeatable);\n"
		"                          never inside a container's rootfs or bundle, never through a link\n"
		"      --docker-root DIR   Docker's data root, where the names of its containers are read\n"
		"                          (default %s; $%s); off: not read\n"
		"      --allow-uid UID     also accept peers with this uid (repeatable; default root only)\n"
		"      --socket-group GROUP  the socket's group, so that its members may connect (mode 0660\n"
		"                          unless --socket-mode; $OCITAP_SOCKET_GROUP); served: root, --allow-uid\n"
		"      --socket-mode MODE  the socket's mode, octal (default 0600; 0660 with --socket-group,\n"
		"                          0666 with --allow-uid alone; $OCITAP_SOCKET_MODE)\n"
		"      --user-runtime-dir DIR  replay each --allow-uid user's spool, "
		"DIR/UID/" OCITAP_USER_SPOOL_DIR_NAME "\n"
		"                          (default %s; $OCITAP_USER_RUNTIME_DIR; \"off\")\n"
		"      --retention SECONDS keep stopped containers this long (default 86400)\n"
		"      --peer-timeout MS   drop a peer whose message is not complete by then (default %d)\n"
		"      --sync-interval MS  a recorded event is on disk within MS (default 1000); 0: before\n"
		"                          a hook is acknowledged (slower hooks; survives power loss)\n"
		"      --log-level LEVEL   error, warning, info (default) or debug\n"
		"      --config FILE       the flags' defaults, one KEY = VALUE a line, ocitapd.conf(5)\n"
		"                          (default %s when present; $OCITAP_CONFIG; \"off\": none)\n"
		"  -h, --help              show this help\n"
		"  -V, --version           show the version\n"
		"\n"
		"A flag wins over the environment, the environment over the config file.\n"
		"Logs go to stderr, one line per event.\n",
		OCITAP_DEFAULT_SOCKET, OCITAP_DEFAULT_STATE_DIR, OCITAP_DEFAULT_HTTP,
		OCITAP_DEFAULT_STATE_DIR "/" OCITAP_PROFILE_DIR_NAME, OCITAP_DEFAULT_DOCKER_ROOT,
		OCITAP_ENV_DOCKER_ROOT, OCITAP_DEFAULT_USER_RUNTIME_DIR, OCITAPD_PEER_TIMEOUT_MS,
		OCITAPD_DEFAULT_CONFIG);
}

/* An absolute directory, or off (NULL). */
static int parse_docker_root(struct ocitapd_options *o, const char *v, const char *what, struct ocitap_error *err)
{
	if (strcmp(v, "off") == 0) {
		o->docker_root = NULL;
		return 0;
	}
	if (v[0] != '/')
		return ocitap_error_set(err, -EINVAL, what, "expected an absolute directory or off, got '%s'", v);
	o->docker_root = v;
	return 0;
}

static int parse_bpf(struct ocitapd_options *o, const char *v, const char *what, struct ocitap_error *err)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
		o->bpf = strcmp(v, "on") == 0;
		return 0;
	}
	return ocitap_error_set(err, -EINVAL, what, "\"%s\" is neither on nor off", v);
}

static int parse_trace(struct ocitapd_options *o, const char *v, const char *what, struct ocitap_error *err)
{
	if (strcmp(v, "annotated") == 0)
		o->trace = TRACE_ANNOTATED;
	else if (strcmp(v, "all") == 0)
		o->trace = TRACE_ALL;
	else if (strcmp(v, "off") == 0)
		o->trace = TRACE_OFF;
	else
		return ocitap_error_set(err, -EINVAL, what, "\"%s\" is not annotated, all or off", v);
	return 0;
}

static int parse_log_level(struct ocitapd_options *o, const char *v, struct ocitap_error *err)
{
	static const struct {
		const char *name;
		enum log_level level;
	} levels[] = { { "error", LOG_ERR }, { "warning", LOG_WARN }, { "info", LOG_INFO }, { "debug", LOG_DEBUG } };

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(v, levels[i].name) == 0) {
			o->level = levels[i].level;
			return 0;
		}
	return ocitap_error_set(err, -EINVAL, "--log-level", "expected error, warning, info or debug, got '%s'", v);
}

static int parse_push_format(struct ocitapd_options *o, const char *v, const char *what, struct ocitap_error *err)
{
	for (int f = 0; f < PUSH_FORMAT_COUNT; f++)
		if (strcmp(v, push_format_name(f)) == 0) {
			o->push_format = f;
			return 0;
		}
	return ocitap_error_set(err, -EINVAL, what, "\"%s\" is not %s", v, PUSH_FORMATS_ALLOWED);
}

/* A name in the group database, or a number (a gid without a name). */
static int parse_socket_group(struct ocitapd_options *o, const char *v, const char *what, struct ocitap_error *err)
{
	struct group gr, *found = NULL;
	char buf[16384];
	int64_t n;

	if (!*v)
		return ocitap_error_set(err, -EINVAL, what, "expected a group name or gid, got ''");
	if (getgrnam_r(v, &gr, buf, sizeof(buf), &found) == 0 && found) {
		o->socket_gid = found->gr_gid;
	} else if (ocitap_parse_int64(v, 0, UINT32_MAX - 1, &n) == 0) {
		o->socket_gid = (gid_t)n;
	} else {
		return ocitap_error_set(err, -EINVAL, what, "no group named '%s' (and not a gid)", v);
	}
	o->socket_group = v;
	return 0;
}

/* Octal permission bits only (0660, 660): no setuid, setgid or sticky bit. */
static int parse_socket_mode(struct ocitapd_options *o, const char *v, const char *what, struct ocitap_error *err)
{
	unsigned long m = 0;
	size_t n = strlen(v);

	if (n == 0 || n > 4 || strspn(v, "01234567") != n)
		return ocitap_error_set(err, -EINVAL, what, "expected an octal mode such as 0660, got '%s'", v);
	for (size_t i = 0; i < n; i++)
		m = m * 8 + (unsigned long)(v[i] - '0');
	if (m > 0777)
		return ocitap_error_set(err, -EINVAL, what,
					"'%s': only permission bits (at most 0777), no setuid, setgid or sticky bit",
					v);
	o->socket_mode = (mode_t)m;
	o->socket_mode_given = true;
	return 0;
}

/* tests only: OCITAP_FAULT=after-recv:N, after-recv-blind:N (as a daemon
 * whose taken notification its successor cannot read) or after-decide:N
 * kills the daemon there; after-early-ok:N right after the Nth hook report
 * answered from the journal, before anything else is done with it */
static int parse_fault(struct ocitapd_options *o, const char *f, struct ocitap_error *err)
{
	const char *colon = strchr(f, ':');
	int64_t n;

	if (colon && strncmp(f, "after-recv:", 11) == 0)
		o->fault = FAULT_AFTER_RECV;
	else if (colon && strncmp(f, "after-recv-blind:", 17) == 0)
		o->fault = FAULT_AFTER_RECV_BLIND;
	else if (colon && strncmp(f, "after-decide:", 13) == 0)
		o->fault = FAULT_AFTER_DECIDE;
	else if (colon && strncmp(f, "after-early-ok:", 15) == 0)
		o->fault = FAULT_AFTER_EARLY_OK;
	if (!o->fault || ocitap_parse_int64(colon + 1, 1, INT64_MAX, &n) < 0)
		return ocitap_error_set(
			err, -EINVAL, "OCITAP_FAULT",
			"expected after-recv:N, after-recv-blind:N, after-decide:N or after-early-ok:N, got '%s'", f);
	o->fault_at = (uint64_t)n;
	return 0;
}

enum {
	OPT_HTTP = 256,
	OPT_HTTP_TOKEN,
	OPT_PUSH,
	OPT_PUSH_TOKEN,
	OPT_PUSH_CA,
	OPT_PUSH_BACKLOG,
	OPT_PUSH_FORMAT,
	OPT_ALLOW,
	OPT_RETENTION,
	OPT_LOG,
	OPT_PEER_TIMEOUT,
	OPT_SYNC,
	OPT_KEEPER,
	OPT_CONTAINER_SOCKET,
	OPT_REPLACE,
	OPT_BPF,
	OPT_TRACE,
	OPT_PROFILE_DIR,
	OPT_PROFILE_ALLOW,
	OPT_DOCKER_ROOT,
	OPT_SOCKET_GROUP,
	OPT_SOCKET_MODE,
	OPT_USER_RUNTIME_DIR,
	OPT_UNKNOWN_POLICY,
	OPT_CONFIG
};

static const struct option long_options[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "state-dir", required_argument, NULL, 'd' },
	{ "http", required_argument, NULL, OPT_HTTP },
	{ "http-token-file", required_argument, NULL, OPT_HTTP_TOKEN },
	{ "push", required_argument, NULL, OPT_PUSH },
	{ "push-token-file", required_argument, NULL, OPT_PUSH_TOKEN },
	{ "push-backlog", required_argument, NULL, OPT_PUSH_BACKLOG },
	{ "push-ca-file", required_argument, NULL, OPT_PUSH_CA },
	{ "push-format", required_argument, NULL, OPT_PUSH_FORMAT },
	{ "policy", required_argument, NULL, 'p' },
	{ "unknown-policy", required_argument, NULL, OPT_UNKNOWN_POLICY },
	{ "allow-uid", required_argument, NULL, OPT_ALLOW },
	{ "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
	{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
	{ "user-runtime-dir", required_argument, NULL, OPT_USER_RUNTIME_DIR },
	{ "retention", required_argument, NULL, OPT_RETENTION },
	{ "peer-timeout", required_argument, NULL, OPT_PEER_TIMEOUT },
	{ "sync-interval", required_argument, NULL, OPT_SYNC },
	{ "keeper", required_argument, NULL, OPT_KEEPER },
	{ "container-socket", required_argument, NULL, OPT_CONTAINER_SOCKET },
	{ "replace", no_argument, NULL, OPT_REPLACE },
	{ "bpf", required_argument, NULL, OPT_BPF },
	{ "trace-syscalls", required_argument, NULL, OPT_TRACE },
	{ "profile-dir", required_argument, NULL, OPT_PROFILE_DIR },
	{ "profile-allow", required_argument, NULL, OPT_PROFILE_ALLOW },
	{ "docker-root", required_argument, NULL, OPT_DOCKER_ROOT },
	{ "log-level", required_argument, NULL, OPT_LOG },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

/* One flag (getopt's c) with its argument: OPTIONS_RUN, OPTIONS_EXIT or -EINVAL. */
static int set_option(struct ocitapd_options *o, int c, const char *arg, FILE *out, struct ocitap_error *err)
{
	int64_t v;
	int r;

	switch (c) {
	case 's':
		o->socket_path = arg;
		break;
	case 'd':
		o->state_dir = arg;
		break;
	case OPT_HTTP:
		o->http = arg;
		break;
	case OPT_HTTP_TOKEN:
		o->http_token_file = arg;
		break;
	case OPT_PUSH:
		if (o->n_push == OCITAPD_MAX_PUSH)
			return ocitap_error_set(err, -EINVAL, "--push", "at most %d receivers", OCITAPD_MAX_PUSH);
		o->push[o->n_push++] = arg;
		break;
	case OPT_PUSH_TOKEN:
		o->push_token_file = arg;
		break;
	case OPT_PUSH_CA:
		o->push_ca_file = arg;
		break;
	case OPT_PUSH_BACKLOG:
		if (ocitap_parse_int64(arg, 1, INT64_MAX / 2, &v) < 0)
			return ocitap_error_set(err, -EINVAL, "--push-backlog", "expected a number of events, got '%s'",
						arg);
		o->push_backlog = v;
		break;
	case OPT_PUSH_FORMAT:
		if ((r = parse_push_format(o, arg, "--push-format", err)) < 0)
			return r;
		break;
	case 'p':
		o->policy_path = arg;
		break;
	case OPT_UNKNOWN_POLICY:
		if (strcmp(arg, "deny") == 0 || strcmp(arg, "audit") == 0)
			o->unknown_policy = strcmp(arg, "deny") == 0 ? UNKNOWN_POLICY_DENY : UNKNOWN_POLICY_AUDIT;
		else if (strcmp(arg, "refuse") == 0)
			o->unknown_policy = UNKNOWN_POLICY_REFUSE;
		else
			return ocitap_error_set(err, -EINVAL, "--unknown-policy",
						"expected deny, audit or refuse, got '%s'", arg);
		break;
	case OPT_BPF:
		if ((r = parse_bpf(o, arg, "--bpf", err)) < 0)
			return r;
		break;
	case OPT_TRACE:
		if ((r = parse_trace(o, arg, "--trace-syscalls", err)) < 0)
			return r;
		break;
	case OPT_CONTAINER_SOCKET:
		o->container_socket = arg;
		return OPTIONS_RUN;
	case OPT_PROFILE_DIR:
		if (ocitap_profile_path_check(arg, err) < 0)
			return ocitap_error_nest(err, "--profile-dir");
		o->profile_dir = arg;
		break;
	case OPT_PROFILE_ALLOW:
		if (o->n_profile_allow == OCITAP_PROFILE_ALLOW_MAX)
			return ocitap_error_set(err, -EINVAL, "--profile-allow", "at most %d prefixes",
						OCITAP_PROFILE_ALLOW_MAX);
		if (ocitap_profile_path_check(arg, err) < 0)
			return ocitap_error_nest(err, "--profile-allow");
		o->profile_allow[o->n_profile_allow++] = arg;
		break;
	case OPT_KEEPER:
		o->keeper_path = arg;
		break;
	case OPT_DOCKER_ROOT:
		if ((r = parse_docker_root(o, arg, "--docker-root", err)) < 0)
			return r;
		break;
	case OPT_REPLACE:
		o->replace = true;
		break;
	case OPT_ALLOW:
		if (ocitap_parse_int64(arg, 0, UINT32_MAX - 1, &v) < 0 || o->n_allow == OCITAPD_MAX_ALLOW_UIDS)
			return ocitap_error_set(err, -EINVAL, "--allow-uid", "expected a uid (at most %d), got '%s'",
						OCITAPD_MAX_ALLOW_UIDS, arg);
		o->allow[o->n_allow++] = (uid_t)v;
		break;
	case OPT_SOCKET_GROUP:
		if ((r = parse_socket_group(o, arg, "--socket-group", err)) < 0)
			return r;
		break;
	case OPT_SOCKET_MODE:
		if ((r = parse_socket_mode(o, arg, "--socket-mode", err)) < 0)
			return r;
		break;
	case OPT_USER_RUNTIME_DIR:
		o->user_runtime_dir = arg;
		break;
	case OPT_RETENTION:
		if (ocitap_parse_int64(arg, 0, INT32_MAX, &v) < 0)
			return ocitap_error_set(err, -EINVAL, "--retention", "expected seconds, got '%s'", arg);
		o->retention_s = v;
		break;
	case OPT_PEER_TIMEOUT:
		if (ocitap_parse_int64(arg, 1, 600000, &v) < 0)
			return ocitap_error_set(err, -EINVAL, "--peer-timeout", "expected milliseconds, got '%s'", arg);
		o->timeout_ms = (int)v;
		break;
	case OPT_SYNC:
		if (ocitap_parse_int64(arg, 0, 3600000, &v) < 0)
			return ocitap_error_set(err, -EINVAL, "--sync-interval",
						"expected milliseconds (0 to 3600000), got '%s'", arg);
		o->sync_interval_ms = (int)v;
		break;
	case OPT_LOG:
		if ((r = parse_log_level(o, arg, err)) < 0)
			return r;
		break;
	case OPT_CONFIG: /* read before the environment: options_parse */
		break;
	case 'h':
		usage(out);
		return OPTIONS_EXIT;
	case 'V':
		fprintf(out, "ocitapd %s\n", OCITAP_VERSION);
		return OPTIONS_EXIT;
	default:
		return ocitap_error_set(err, -EINVAL, NULL, "see 'ocitapd --help'");
	}
	return OPTIONS_RUN;
}

int options_apply_config(struct ocitapd_options *o, char *text, size_t size, const char *path, struct ocitap_error *err)
{
	struct ocitap_conf_reader reader;
	const char *key, *value;
	int r;

	ocitap_conf_reader_init(&reader, text, size);
	while ((r = ocitap_conf_next(&reader, path, &key, &value, err)) > 0) {
		char where[PATH_MAX + 32], msg[OCITAP_ERROR_MESSAGE_MAX + 64];
		const struct option *opt;

		snprintf(where, sizeof(where), "%s:%u", path, reader.lineno);
		for (opt = long_options; opt->name && strcmp(opt->name, key) != 0; opt++)
			;
		if (!opt->name)
			return ocitap_error_set(err, -EINVAL, where, "unknown key '%s' (see ocitapd.conf(5))", key);
		if (opt->has_arg != required_argument || opt->val == OPT_CONFIG)
			return ocitap_error_set(err, -EINVAL, where, "'%s' is a command-line flag only", key);
		if (!*value)
			return ocitap_error_set(err, -EINVAL, where, "'%s' has no value", key);
		if ((r = set_option(o, opt->val, value, NULL, err)) < 0) {
			ocitap_error_format(err, msg, sizeof(msg));
			return ocitap_error_set(err, r, where, "%s", msg);
		}
	}
	return r;
}

/* The file named by --config (missing: an error), else the default one (missing: none). */
static int read_config(struct ocitapd_options *o, const char *path, bool named, struct ocitap_error *err)
{
	static char *text; /* the values point into it: kept until the next parse */
	size_t len = 0;
	ssize_t n;
	int fd;

	free(text);
	text = NULL;
	if (strcmp(path, "off") == 0)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		if (errno == ENOENT && !named)
			return 0;
		return ocitap_error_set(err, -errno, "--config", "%s: %s", path, strerror(errno));
	}
	if (!(text = malloc(OCITAPD_CONFIG_MAX + 1))) {
		close(fd);
		return ocitap_error_set(err, -ENOMEM, "--config", "%s: out of memory", path);
	}
	while ((n = read(fd, text + len, OCITAPD_CONFIG_MAX + 1 - len)) > 0 && (len += (size_t)n) <= OCITAPD_CONFIG_MAX)
		;
	close(fd);
	if (n < 0)
		return ocitap_error_set(err, -errno, "--config", "%s: %s", path, strerror(errno));
	if (len > OCITAPD_CONFIG_MAX)
		return ocitap_error_set(err, -EFBIG, "--config", "%s: larger than %d bytes", path, OCITAPD_CONFIG_MAX);
	text[len] = '\0';
	o->config_path = path;
	return options_apply_config(o, text, len, path, err);
}

/* The socket's group as the operator knows it: its name, else its number. */
static void group_name(const struct ocitapd_options *o, char *buf, size_t size)
{
	struct group gr, *found = NULL;
	char gbuf[16384];

	if (o->socket_group)
		snprintf(buf, size, "%s", o->socket_group);
	else if (getgrgid_r(o->socket_gid, &gr, gbuf, sizeof(gbuf), &found) == 0 && found)
		snprintf(buf, size, "%s", found->gr_name);
	else
		snprintf(buf, size, "%u", (unsigned)o->socket_gid);
}

/* 1: uid is in group gid (its primary group or a supplementary one), 0: it
 * is not, -1: no such user here (cannot tell). */
static int uid_in_group(uid_t uid, gid_t gid)
{
	struct passwd pw, *found = NULL;
	char buf[16384];
	gid_t groups[256];
	int n = 256;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) != 0 || !found)
		return -1;
	if (found->pw_gid == gid)
		return 1;
	if (getgrouplist(found->pw_name, found->pw_gid, groups, &n) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

size_t options_socket_warnings(const struct ocitapd_options *o, void (*warn)(void *userdata, const char *line),
			       void *userdata)
{
	mode_t m = o->socket_mode;
	char line[512], group[128];
	size_t n = 0;

	group_name(o, group, sizeof(group));
	if (o->socket_mode_given && (m & 0002)) {
		snprintf(line, sizeof(line),
			 "--socket-mode %04o: every user of this host may connect to the socket (only root%s %s "
			 "served)",
			 (unsigned)m, o->n_allow ? " and --allow-uid" : "", o->n_allow ? "are" : "is");
		warn(userdata, line);
		n++;
	}
	if (o->socket_group && !(m & 0020)) {
		snprintf(line, sizeof(line),
			 "--socket-group %s: its members cannot connect: the socket's mode %04o gives the group no "
			 "write permission (connect needs it)",
			 group, (unsigned)m);
		warn(userdata, line);
		n++;
	}
	if (!o->n_allow && ((m & 0002) || (o->socket_group && (m & 0020)))) {
		if (m & 0002)
			snprintf(line, sizeof(line), "every user may connect to the socket");
		else
			snprintf(line, sizeof(line), "the members of group %s may connect to the socket", group);
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 ", but without --allow-uid only root is served: the others are refused");
		warn(userdata, line);
		n++;
	}
	for (size_t i = 0; i < o->n_allow && !(m & 0002); i++) {
		int in = o->allow[i] == 0 ? 1 : uid_in_group(o->allow[i], o->socket_gid);

		if (o->allow[i] == 0 || (in == 1 && (m & 0020)))
			continue;
		if (!(m & 0020))
			snprintf(line, sizeof(line),
				 "--allow-uid %u cannot connect: the socket's mode %04o lets neither group %s nor "
				 "others write to it",
				 (unsigned)o->allow[i], (unsigned)m, group);
		else
			snprintf(line, sizeof(line),
				 "--allow-uid %u cannot connect: the socket is mode %04o, group %s, and uid %u is %s "
				 "(add it to the group, or see --socket-mode)",
				 (unsigned)o->allow[i], (unsigned)m, group, (unsigned)o->allow[i],
				 in == 0 ? "not a member" : "no user of this host (not known to be a member)");
		warn(userdata, line);
		n++;
	}
	return n;
}

int options_parse(struct ocitapd_options *o, int argc, char **argv, FILE *out, struct ocitap_error *err)
{
	const char *env, *config = OCITAPD_DEFAULT_CONFIG;
	bool config_named = false, push_reset = false, allow_reset = false, profile_reset = false;
	int c, r;

	*o = (struct ocitapd_options){ .push_backlog = 100000,
				       .bpf = true,
				       .trace = TRACE_ANNOTATED,
				       .level = LOG_INFO,
				       .retention_s = 86400,
				       .timeout_ms = OCITAPD_PEER_TIMEOUT_MS,
				       .sync_interval_ms = 1000 };
	o->socket_path = OCITAP_DEFAULT_SOCKET;
	o->state_dir = OCITAP_DEFAULT_STATE_DIR;
	o->http = OCITAP_DEFAULT_HTTP;
	o->user_runtime_dir = OCITAP_DEFAULT_USER_RUNTIME_DIR;
	o->docker_root = OCITAP_DEFAULT_DOCKER_ROOT;
	/* the file first (the lowest rank), so --config is looked for before the rest */
	if ((env = getenv(OCITAP_ENV_CONFIG)) && *env) {
		config = env;
		config_named = true;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:d:p:hV", long_options, NULL)) != -1)
		if (c == OPT_CONFIG) {
			config = optarg;
			config_named = true;
		}
	opterr = 1;
	if ((r = read_config(o, config, config_named, err)) < 0)
		return r;
	/* then the environment over it */
	if ((env = getenv(OCITAP_ENV_SOCKET)) && *env)
		o->socket_path = env;
	if ((env = getenv(OCITAP_ENV_STATE_DIR)) && *env)
		o->state_dir = env;
	if ((env = getenv(OCITAP_ENV_HTTP)) && *env)
		o->http = env;
	if ((env = getenv(OCITAP_ENV_PROFILE_DIR)) && *env) {
		if (ocitap_profile_path_check(env, err) < 0)
			return ocitap_error_nest(err, OCITAP_ENV_PROFILE_DIR);
		o->profile_dir = env;
	}
	if ((env = getenv("OCITAP_KEEPER")) && *env)
		o->keeper_path = env;
	if ((env = getenv(OCITAP_ENV_USER_RUNTIME_DIR)) && *env)
		o->user_runtime_dir = env;
	if ((env = getenv("OCITAP_CONTAINER_SOCKET")) && *env)
		o->container_socket = env;
	if ((env = getenv("OCITAP_BPF")) && (r = parse_bpf(o, env, "OCITAP_BPF", err)) < 0)
		return r;
	if ((env = getenv("OCITAP_TRACE_SYSCALLS")) && (r = parse_trace(o, env, "OCITAP_TRACE_SYSCALLS", err)) < 0)
		return r;
	if ((env = getenv("OCITAP_PUSH_FORMAT")) && *env &&
	    (r = parse_push_format(o, env, "OCITAP_PUSH_FORMAT", err)) < 0)
		return r;
	if ((env = getenv(OCITAP_ENV_DOCKER_ROOT)) && *env &&
	    (r = parse_docker_root(o, env, OCITAP_ENV_DOCKER_ROOT, err)) < 0)
		return r;
	if ((env = getenv("OCITAP_SOCKET_GROUP")) && *env &&
	    (r = parse_socket_group(o, env, "OCITAP_SOCKET_GROUP", err)) < 0)
		return r;
	if ((env = getenv("OCITAP_SOCKET_MODE")) && *env &&
	    (r = parse_socket_mode(o, env, "OCITAP_SOCKET_MODE", err)) < 0)
		return r;
	optind = 1; /* parsed more than once in the unit tests */
	while ((c = getopt_long(argc, argv, "s:d:p:hV", long_options, NULL)) != -1) {
		/* a repeatable flag given on the command line replaces the file's list */
		if (c == OPT_PUSH && !push_reset && (push_reset = true))
			o->n_push = 0;
		if (c == OPT_ALLOW && !allow_reset && (allow_reset = true))
			o->n_allow = 0;
		if (c == OPT_PROFILE_ALLOW && !profile_reset && (profile_reset = true))
			o->n_profile_allow = 0;
		if ((r = set_option(o, c, optarg, out, err)) != OPTIONS_RUN)
			return r;
	}
	if (optind < argc)
		return ocitap_error_set(err, -EINVAL, NULL, "unexpected argument '%s'", argv[optind]);
	if (strcmp(o->user_runtime_dir, "off") == 0)
		o->user_runtime_dir = NULL;
	else if (o->user_runtime_dir[0] != '/')
		return ocitap_error_set(err, -EINVAL, "--user-runtime-dir",
					"expected an absolute directory or off, got '%s'", o->user_runtime_dir);
	if (!o->socket_group)
		o->socket_gid = getegid();
	if (!o->socket_mode_given)
		o->socket_mode = o->socket_group ? 0660 : o->n_allow ? 0666 : 0600;
	if (!o->keeper_path || !*o->keeper_path) {
		/* next to the socket: daemons side by side (tests) get a keeper each */
		options_run_file(o, OCITAP_DEFAULT_KEEPER_NAME, o->keeper_default, sizeof(o->keeper_default));
		o->keeper_path = o->keeper_default;
	} else if (strcmp(o->keeper_path, "off") == 0) {
		o->keeper_path = NULL;
	} else if (strlen(o->keeper_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		return ocitap_error_set(err, -EINVAL, "--keeper", "a socket path is at most %zu bytes",
					sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	}
	if (!o->container_socket || !*o->container_socket) {
		options_run_file(o, "container/ocitap.sock", o->container_socket_default,
				 sizeof(o->container_socket_default));
		o->container_socket = o->container_socket_default;
	} else if (strcmp(o->container_socket, "off") == 0) {
		o->container_socket = NULL;
	}
	if (o->container_socket && strlen(o->container_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return ocitap_error_set(err, -EINVAL, "--container-socket", "a socket path is at most %zu bytes",
					sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	if (!o->profile_dir) {
		/* in the state directory; a relative one gives no profile
		 * directory (relative names are then refused, and say why) */
		snprintf(o->profile_dir_default, sizeof(o->profile_dir_default), "%s/%s", o->state_dir,
			 OCITAP_PROFILE_DIR_NAME);
		if (ocitap_profile_path_check(o->profile_dir_default, NULL) == 0)
			o->profile_dir = o->profile_dir_default;
	}
	if ((env = getenv("OCITAP_FAULT")) && *env && (r = parse_fault(o, env, err)) < 0)
		return r;
	return OPTIONS_RUN;
}
