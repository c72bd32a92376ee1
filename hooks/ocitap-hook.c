/*
 * ocitap-hook.c: the OCI hook for every stage. `ocitap-hook STAGE`, or
 * installed as ocitap-prestart ... ocitap-poststop (argv[0] picks the stage).
 *
 * Reads the State from stdin (bounded in size and time, always to EOF so the
 * runtime never gets SIGPIPE), validates it, sends a stage report to ocitapd
 * (docs/ocitapd-protocol.md) and waits for "ok". When the daemon is away or
 * slow, the report goes to the spool directory and ocitapd replays it when
 * it starts; a hook that cannot write there (rootless podman's, root only
 * in its user's namespace) spools in that user's runtime directory. --timeout bounds everything. By default a failure
 * is one line on stderr and exit 0, so the container never depends on ocitap;
 * --fail-closed makes any failure to record exit 1.
 *
 * Links only libocitap's parsing and json-c: no libcurl, no SQLite.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "macro.h"
#include "number.h"
#include "ocitap.h"
#include "spool.h"
#include "stage.h"

static struct {
	const char *socket_path, *state_dir, *user_runtime_dir;
	int timeout_ms;
	bool fail_closed;
	int stage;
} opt = { .timeout_ms = 500, .stage = -1 };

static int64_t deadline_ms;

static int left_ms(void)
{
	int64_t left = deadline_ms - ocitap_mono_ms();

	return left > 0 ? (int)left : 0;
}

/* The one line a hook prints; the exit status follows the fail-open/closed rule. */
static int fail(const char *what, const char *why)
{
	const char *name = opt.stage >= 0 ? ocitap_stage_to_string(opt.stage) : "hook";

	fprintf(stderr, "ocitap-%s: %s: %s%s\n", name, what, why, opt.fail_closed ? "" : " (container not affected)");
	return opt.fail_closed ? 1 : 0;
}

/* Send json to the daemon and wait for its one-line answer. 0 on "ok";
 * -EPROTO with the answer in err when it refused the report; another
 * negative errno, with err, when it could not be reached in time. */
/* The first bytes of json, with the init's pidfd (SCM_RIGHTS). */
static ssize_t send_with_pidfd(int fd, const char *json, size_t len, int pidfd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)json, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl) };

	memset(&ctl, 0, sizeof(ctl));
	ctl.h.cmsg_level = SOL_SOCKET;
	ctl.h.cmsg_type = SCM_RIGHTS;
	ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&ctl.h), &pidfd, sizeof(int));
	return sendmsg(fd, &mh, MSG_NOSIGNAL);
}

static int report_to_daemon(const char *json, int pidfd, struct ocitap_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	char answer[512];
	size_t len = strlen(json), off = 0, got = 0;
	int send_errno = 0;

	if (strlen(opt.socket_path) >= sizeof(sa.sun_path))
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "socket path too long");
	memcpy(sa.sun_path, opt.socket_path, strlen(opt.socket_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot create a socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EACCES) /* the socket's mode keeps this user out: say what lets it in */
			return ocitap_error_set(
				err, -EACCES, NULL,
				"cannot connect to %s: permission denied (the socket's mode, group or "
				"directory keep uid %u out: run as root, or start ocitapd with --allow-uid %u, which "
				"opens the socket to it unless --socket-group or --socket-mode say "
				"otherwise)",
				opt.socket_path, (unsigned)geteuid(), (unsigned)geteuid());
		return ocitap_error_set(err, -errno, NULL, "cannot connect to %s: %s", opt.socket_path,
					strerror(errno));
	}
	while (off < len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		/* the init's pidfd rides with the first bytes: however late ocitapd
		 * reads this report (it held in its backlog, or by its fd keeper),
		 * the pidfd still tells how the init ended */
		ssize_t n = off == 0 && pidfd >= 0 ? send_with_pidfd(fd, json, len, pidfd)
						   : send(fd, json + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			/* closed on us: maybe with a refusal that says why */
			send_errno = errno;
			break;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return ocitap_error_set(err, -errno, NULL, "send: %s", strerror(errno));
		if (poll(&p, 1, left_ms()) == 0)
			return ocitap_error_set(err, -ETIMEDOUT, NULL, "ocitapd did not take the report within %d ms",
						opt.timeout_ms);
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, left_ms()) <= 0)
			return ocitap_error_set(err, -ETIMEDOUT, NULL, "no answer from ocitapd within %d ms",
						opt.timeout_ms);
		n = recv(fd, answer + got, sizeof(answer) - 1 - got, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(answer) - 1 || memchr(answer, '\n', got))
			break;
	}
	answer[got] = '\0';
	answer[strcspn(answer, "\n")] = '\0';
	if (strcmp(answer, "ok") == 0)
		return 0;
	if (got == 0 && send_errno)
		return ocitap_error_set(err, -send_errno, NULL, "send: %s", strerror(send_errno));
	if (got == 0)
		return ocitap_error_set(err, -ECONNRESET, NULL, "ocitapd closed the connection without an answer");
	return ocitap_error_set(err, -EPROTO, NULL, "ocitapd refused the report: %s", answer);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ocitap-hook [OPTIONS] [STAGE] < state.json\n"
		"       ocitap-STAGE [OPTIONS] < state.json\n"
		"\n"
		"Report an OCI hook stage to ocitapd. STAGE: prestart, createRuntime,\n"
		"createContainer, startContainer, poststart, poststop; or auto (the\n"
		"default): told from the State and /proc, for oci-hooks(5) files that\n"
		"name several stages for one hook.\n"
		"\n"
		"  -s, --socket PATH     ocitapd's socket (default %s; $OCITAP_SOCKET)\n"
		"  -d, --state-dir DIR   where the spool is (default %s; $OCITAP_STATE_DIR)\n"
		"      --user-runtime-dir DIR  where a user's hook spools when it cannot write the state\n"
		"                        directory: DIR/UID/" OCITAP_USER_SPOOL_DIR_NAME " (default %s;\n"
		"                        $OCITAP_USER_RUNTIME_DIR), else $XDG_RUNTIME_DIR/" OCITAP_USER_SPOOL_DIR_NAME
		"\n"
		"  -t, --timeout MS      bound on everything the hook does (default 500)\n"
		"      --fail-closed     exit 1 when the stage could not be recorded\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n"
		"\n"
		"Without --fail-closed every failure is one line on stderr and exit 0.\n",
		OCITAP_DEFAULT_SOCKET, OCITAP_DEFAULT_STATE_DIR, OCITAP_DEFAULT_USER_RUNTIME_DIR);
}

/* The option getopt_long just refused, as it was typed: a long one whole,
 * a short one (perhaps inside a cluster such as -Vx) as its letter. musl
 * leaves optind past argc for a short option missing its value. */
static const char *bad_option(int argc, char **argv, char *buf, size_t size)
{
	const char *arg = optind >= 1 && optind <= argc ? argv[optind - 1] : NULL;

	if (arg && (strncmp(arg, "--", 2) == 0 || optopt == 0))
		return arg;
	snprintf(buf, size, "-%c", optopt ? optopt : '?');
	return buf;
}

/* 0 to go on; 1 when --help or --version said all there is; a negative
 * errno with err on a bad command line. */
static int parse_args(int argc, char **argv, struct ocitap_error *err)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "user-runtime-dir", required_argument, NULL, 'U' },
		{ "timeout", required_argument, NULL, 't' },
		{ "fail-closed", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	char word[8];
	int c;

	opt.socket_path = ocitap_default_path(OCITAP_ENV_SOCKET, OCITAP_DEFAULT_SOCKET);
	opt.state_dir = ocitap_default_path(OCITAP_ENV_STATE_DIR, OCITAP_DEFAULT_STATE_DIR);
	opt.user_runtime_dir = ocitap_default_path(OCITAP_ENV_USER_RUNTIME_DIR, OCITAP_DEFAULT_USER_RUNTIME_DIR);
	opt.stage = ocitap_stage_from_program(argv[0]);
	/* our own one line, not getopt's, whose wording is each libc's own:
	 * ':' first tells a missing value from an unknown option */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:d:t:hV", options, NULL)) != -1) {
		switch (c) {
		case 's':
			opt.socket_path = optarg;
			break;
		case 'd':
			opt.state_dir = optarg;
			break;
		case 'U':
			opt.user_runtime_dir = optarg;
			break;
		case 't':
			if (ocitap_parse_int(optarg, 1, 600000, &opt.timeout_ms) < 0)
				return ocitap_error_set(err, -EINVAL, NULL,
							"--timeout: expected 1 to 600000 ms, got '%s'", optarg);
			break;
		case 'F':
			opt.fail_closed = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("ocitap-hook %s\n", OCITAP_VERSION);
			return 1;
		case ':':
			return ocitap_error_set(err, -EINVAL, NULL,
						"option '%s' needs a value; see 'ocitap-hook --help'",
						bad_option(argc, argv, word, sizeof(word)));
		default:
			return ocitap_error_set(err, -EINVAL, NULL, "unknown option '%s'; see 'ocitap-hook --help'",
						bad_option(argc, argv, word, sizeof(word)));
		}
	}
	if (opt.stage < 0 && optind < argc) {
		const char *name = argv[optind++];

		opt.stage = strcmp(name, "auto") == 0 ? -1 : ocitap_stage_from_string(name);
		if (opt.stage < 0 && strcmp(name, "auto") != 0)
			return ocitap_error_set(err, -EINVAL, NULL,
						"unknown stage '%s' (prestart, createRuntime, createContainer, "
						"startContainer, poststart, poststop or auto)",
						name);
	}
	if (optind < argc)
		return ocitap_error_set(err, -EINVAL, NULL, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* A directory of this process's uid (as its own user namespace sees it). */
static bool own_dir(const char *path)
{
	struct stat st;

	return path && path[0] == '/' && stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid();
}

/*
 * Where a hook that cannot write the state directory's spool spools: its
 * user's runtime directory, the user being who this process is outside its
 * user namespace (rootless podman's hooks are root only inside it). That is
 * --user-runtime-dir/UID when it is this user's (ocitapd replays it), else
 * $XDG_RUNTIME_DIR (podman passes it to the hooks the runtime runs, not to
 * the poststop it runs itself with an empty environment). 0 with the spool
 * directory in buf (its parent made), the user in *ret_uid and in
 * *ret_replayed whether ocitapd looks there; else -errno and why in err.
 */
static int user_spool_dir(char *buf, size_t size, uid_t *ret_uid, bool *ret_replayed, struct ocitap_error *err)
{
	_cleanup_free_ char *map = NULL;
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[PATH_MAX], parent[PATH_MAX];
	uid_t uid;
	size_t len;
	int r;

	r = ocitap_read_file("/proc/self/uid_map", 64 * 1024, left_ms(), &map, &len, err);
	if (r < 0)
		return ocitap_error_nest(err, "/proc/self/uid_map");
	if ((r = ocitap_uid_map_outside(map, geteuid(), &uid)) < 0)
		return ocitap_error_set(err, r, NULL, "uid %u is not in this user namespace's uid_map",
					(unsigned)geteuid());
	if (uid == 0)
		return ocitap_error_set(err, -EPERM, NULL, "root's reports go to the state directory only");
	*ret_uid = uid;
	snprintf(dir, sizeof(dir), "%s/%u", opt.user_runtime_dir, (unsigned)uid);
	*ret_replayed = own_dir(dir);
	if (!*ret_replayed) {
		if (!own_dir(xdg))
			return ocitap_error_set(err, -ENOENT, NULL,
						"uid %u has no runtime directory here (%s, nor $XDG_RUNTIME_DIR%s%s)",
						(unsigned)uid, dir, xdg ? " " : "", xdg ? xdg : "");
		snprintf(dir, sizeof(dir), "%s", xdg);
	}
	if ((size_t)snprintf(parent, sizeof(parent), "%s/" OCITAP_USER_DIR_NAME, dir) >= sizeof(parent))
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "spool path too long");
	if (mkdir(parent, 0700) < 0 && errno != EEXIST)
		return ocitap_error_set(err, -errno, NULL, "cannot create %s: %m", parent);
	if ((size_t)snprintf(buf, size, "%s/" OCITAP_USER_SPOOL_DIR_NAME, dir) >= size)
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "spool path too long");
	return 0;
}

/* Tell the daemon, or the spool when the daemon is away. Returns the exit status. */
static int record(struct ocitap_hook_report *rep, const char *json)
{
	struct ocitap_error err = { 0 }, spool_err = { 0 }, user_err = { 0 };
	char line[3 * PATH_MAX + 2048], spool[PATH_MAX], user[PATH_MAX], name[OCITAP_SPOOL_NAME_MAX];
	char e[OCITAP_ERROR_FIELD_MAX + OCITAP_ERROR_MESSAGE_MAX + 8];
	_cleanup_close_ int pidfd = -1;
	bool replayed = true;
	uid_t uid = 0;
	int r;

	/* the stages that name the init (the daemon watches it from them) */
	if ((rep->stage == OCITAP_STAGE_PRESTART || rep->stage == OCITAP_STAGE_CREATE_RUNTIME) && rep->state.pid > 0)
		pidfd = (int)syscall(SYS_pidfd_open, rep->state.pid, 0);
	r = report_to_daemon(json, pidfd, &err);
	if (r == 0)
		return 0;
	if (r == -EPROTO) /* the daemon read it and said no: spooling would only repeat that */
		return fail("not recorded", err.message);
	(void)mkdir(opt.state_dir, 0700); /* ocitapd may never have run here */
	snprintf(spool, sizeof(spool), "%s/" OCITAP_SPOOL_DIR_NAME, opt.state_dir);
	if (ocitap_spool_write(spool, json, rep->wall_ns, rep->hook_pid, rep->stage, name, &spool_err) == 0) {
		snprintf(line, sizeof(line), "%s; spooled as %s/%s for ocitapd to replay", err.message, spool, name);
	} else if (user_spool_dir(user, sizeof(user), &uid, &replayed, &user_err) < 0 ||
		   ocitap_spool_write(user, json, rep->wall_ns, rep->hook_pid, rep->stage, name, &user_err) < 0) {
		char ue[sizeof(e)];

		snprintf(line, sizeof(line), "%s; and the spool failed: %s; and the user's: %s", err.message,
			 ocitap_error_format(&spool_err, e, sizeof(e)), ocitap_error_format(&user_err, ue, sizeof(ue)));
		return fail("lost", line);
	} else {
		/* why not the state directory, and whether ocitapd will look where it went */
		char where[PATH_MAX + 64] = "for ocitapd to replay";

		if (!replayed)
			snprintf(where, sizeof(where), "where ocitapd does not look (it replays %s/%u/%s)",
				 opt.user_runtime_dir, (unsigned)uid, OCITAP_USER_SPOOL_DIR_NAME);
		snprintf(line, sizeof(line), "%s; spooled as %s/%s %s (%s)", err.message, user, name, where,
			 ocitap_error_format(&spool_err, e, sizeof(e)));
	}
	if (opt.fail_closed)
		return fail("not recorded", line);
	fprintf(stderr, "ocitap-%s: %s\n", ocitap_stage_to_string(rep->stage), line);
	return 0;
}

static void hook_report_release(struct ocitap_hook_report *rep)
{
	ocitap_state_release(&rep->state);
}

int main(int argc, char **argv)
{
	_cleanup_(hook_report_release) struct ocitap_hook_report rep = { 0 };
	_cleanup_(ocitap_config_release) struct ocitap_config cfg = { 0 };
	_cleanup_free_ char *buf = NULL, *json = NULL;
	struct ocitap_error err = { 0 };
	char line[OCITAP_ERROR_FIELD_MAX + OCITAP_ERROR_MESSAGE_MAX + 8];
	size_t len;
	int r;

	rep.mono_ns = ocitap_mono_ns();
	rep.wall_ns = ocitap_wall_ns();
	r = parse_args(argc, argv, &err);
	if (r < 0) {
		fprintf(stderr, "ocitap-hook: %s\n", err.message);
		return 2;
	}
	if (r > 0)
		return 0;
	deadline_ms = ocitap_mono_ms() + opt.timeout_ms;
	rep.hook_pid = getpid();

	r = ocitap_read_fd(STDIN_FILENO, 1024 * 1024, opt.timeout_ms, OCITAP_READ_DRAIN, &buf, &len, &err);
	if (r < 0)
		return fail("stdin", ocitap_error_format(&err, line, sizeof(line)));
	r = ocitap_state_parse(buf, len, 0, NULL, &rep.state, &err);
	if (r < 0)
		return fail("invalid State on stdin", ocitap_error_format(&err, line, sizeof(line)));
	if (opt.stage < 0) {
		struct ocitap_stage_clues clues;

		ocitap_stage_clues_read(&rep.state, getppid(), &clues);
		r = ocitap_stage_infer(&rep.state, &clues, &rep.stage_ambiguous, &err);
		if (r < 0)
			return fail("which stage", ocitap_error_format(&err, line, sizeof(line)));
		opt.stage = r;
	}
	rep.stage = (enum ocitap_stage)opt.stage;
	/* the bundle's annotations when the runtime sent none (crun's startContainer
	 * bundle is "/" inside the container: nothing useful to read there) */
	if (!rep.state.has_annotations && rep.state.bundle && strcmp(rep.state.bundle, "/") != 0 &&
	    ocitap_bundle_load_config(rep.state.bundle, OCITAP_CONFIG_ANNOTATIONS_ONLY, NULL, &cfg, &err) == 0 &&
	    cfg.has_annotations) {
		rep.state.has_annotations = true;
		rep.state.annotations = cfg.annotations;
		rep.state.n_annotations = cfg.n_annotations;
	}
	r = ocitap_hook_report_to_json(&rep, &json, &err);
	if (r < 0)
		return fail("report", ocitap_error_format(&err, line, sizeof(line)));
	return record(&rep, json);
}
