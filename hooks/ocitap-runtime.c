/*
 * ocitap-runtime.c: an OCI runtime that is runc (or crun, or runsc) with
 * ocitap added, for engines that read no hooks.d: Docker, containerd, and
 * Kubernetes through them. See ocitap-runtime(8).
 *
 * On `create` and `run` it adds ocitap's hooks to the bundle's config.json
 * and, where the seccomp profile notifies but names no listener, names
 * ocitapd's socket (lib/runtime-wrap-splice.c, json-c where it is unsure);
 * the file is replaced atomically.
 * Then, for every command, it executes the real runtime with the caller's
 * arguments unchanged (its own --ocitap-* flags taken out, the configured
 * runtimeArgs put first). Nothing else is parsed, nothing is logged unless
 * something is wrong. When wrapping fails the container runs unchanged and
 * one line on stderr (and in the runtime's --log) says why, unless the
 * operator asked to fail closed: then the command fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "defaults.h"
#include "io.h"
#include "json-util.h"
#include "macro.h"
#include "runtime-wrap.h"
#include "runtime.h"

#define MAX_CONFIG_JSON	 (64u << 20)
#define MAX_RUNTIME_JSON (1u << 20)
/* config.json as it was before the last edit: BUNDLE/config.json.ocitap-orig */
#define KEPT_SUFFIX "ocitap-orig"

static struct {
	const char *config_path, *runtime, *policy;
	bool fail_closed, config_named;
	const char *log_path, *log_format; /* the runtime's own --log, --log-format */
} opt;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ocitap-runtime [--ocitap-config FILE] [--ocitap-runtime PATH] [--ocitap-policy NAME]\n"
		"                      [--ocitap-fail-closed] [RUNTIME FLAGS] COMMAND [ARGS...]\n"
		"\n"
		"An OCI runtime with ocitap added: on create and run, adds ocitap's hooks to the\n"
		"bundle's config.json and names ocitapd as the seccomp listener where the profile\n"
		"notifies without one; then runs the real runtime with the arguments unchanged.\n"
		"\n"
		"  --ocitap-config FILE   configuration (default $%s, else %s)\n"
		"  --ocitap-runtime PATH  the real runtime (default: the configuration's, else runc)\n"
		"  --ocitap-policy NAME   listenerMetadata policy=NAME for profiles that name none\n"
		"  --ocitap-fail-closed   fail the command when ocitap cannot be added\n"
		"  -h, --help             this text\n"
		"  -V, -v, --version      ocitap-runtime's version, then the runtime's (its --version)\n"
		"\n"
		"Environment: OCITAP_SOCKET and OCITAP_STATE_DIR reach the hooks it adds.\n"
		"See ocitap-runtime(8).\n",
		OCITAP_ENV_RUNTIME_CONFIG, OCITAP_RUNTIME_CONFIG);
}

/* One line for the operator: on stderr, and in the runtime's log when it has one (Docker shows that). */
static void say(const char *level, const char *fmt, ...)
{
	char msg[1024], ts[64];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ocitap-runtime: %s\n", msg);
	if (!opt.log_path || !(f = fopen(opt.log_path, "ae")))
		return;
	ocitap_rfc3339_format(ocitap_wall_ns(), 9, ts, sizeof(ts));
	if (opt.log_format && strcmp(opt.log_format, "json") == 0) {
		json_object *o = json_object_new_object();
		char full[sizeof(msg) + 32];

		snprintf(full, sizeof(full), "ocitap-runtime: %s", msg);
		ocitap_json_add_string(o, "level", level);
		ocitap_json_add_string(o, "msg", full);
		ocitap_json_add_string(o, "time", ts);
		fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		fprintf(f, "time=\"%s\" level=%s msg=\"ocitap-runtime: %s\"\n", ts, level, msg);
	}
	fclose(f);
}

/*
 * Take out our own flags (anywhere before the command) and note the
 * runtime's --log and --log-format. Returns the new argc; argv is edited in
 * place. -1 with a message for a flag missing its value.
 */
static int take_own_flags(int argc, char **argv)
{
	int out = 1, i = 1;

	for (; i < argc; i++) {
		const char *a = argv[i], **slot = NULL;
		size_t len = 0;

		if (a[0] != '-' || strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--ocitap-fail-closed") == 0) {
			opt.fail_closed = true;
			continue;
		}
		if (strncmp(a, "--ocitap-config", len = 15) == 0)
			slot = &opt.config_path;
		else if (strncmp(a, "--ocitap-runtime", len = 16) == 0)
			slot = &opt.runtime;
		else if (strncmp(a, "--ocitap-policy", len = 15) == 0)
			slot = &opt.policy;
		if (slot && (a[len] == '=' || a[len] == '\0')) {
			if (a[len] == '=') {
				*slot = a + len + 1;
			} else if (i + 1 < argc) {
				*slot = argv[++i];
			} else {
				fprintf(stderr, "ocitap-runtime: %s needs a value\n", a);
				return -1;
			}
			if (slot == &opt.config_path)
				opt.config_named = true;
			continue;
		}
		if (strncmp(a, "--ocitap-", 9) == 0) {
			fprintf(stderr, "ocitap-runtime: unknown option %s (see ocitap-runtime --help)\n", a);
			return -1;
		}
		if (strcmp(a, "--log") == 0 && i + 1 < argc)
			opt.log_path = argv[i + 1];
		else if (strncmp(a, "--log=", 6) == 0)
			opt.log_path = a + 6;
		else if (strcmp(a, "--log-format") == 0 && i + 1 < argc)
			opt.log_format = argv[i + 1];
		else if (strncmp(a, "--log-format=", 13) == 0)
			opt.log_format = a + 13;
		argv[out++] = argv[i];
		if (ocitap_wrap_takes_value(a) && i + 1 < argc)
			argv[out++] = argv[++i];
	}
	for (; i < argc; i++)
		argv[out++] = argv[i];
	argv[out] = NULL;
	return out;
}

/* The configuration: defaults, the file, then the environment and our flags. */
static int load_config(struct ocitap_wrap_config *cfg, struct ocitap_error *err)
{
	const char *env = getenv(OCITAP_ENV_RUNTIME_CONFIG), *s;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	if (!opt.config_path && env && *env) {
		opt.config_path = env;
		opt.config_named = true;
	}
	if (!opt.config_path)
		opt.config_path = OCITAP_RUNTIME_CONFIG;
	r = ocitap_read_regular_file(opt.config_path, MAX_RUNTIME_JSON, 0, &buf, &len, err);
	if (r == -ENOENT && !opt.config_named)
		r = 0; /* no file: the defaults */
	else if (r == 0)
		r = ocitap_wrap_config_parse(buf, len, cfg, err);
	if (r < 0)
		return r;
	if ((s = getenv(OCITAP_ENV_SOCKET)) && *s) {
		free(cfg->socket);
		cfg->socket = strdup(s);
	}
	if ((s = getenv(OCITAP_ENV_STATE_DIR)) && *s) {
		free(cfg->state_dir);
		cfg->state_dir = strdup(s);
	}
	if (opt.policy) {
		free(cfg->policy);
		cfg->policy = strdup(opt.policy);
	}
	if (opt.fail_closed)
		cfg->fail_closed = true;
	return 0;
}

/* ocitap-hook beside this program. */
static int default_hook(char *buf, size_t size, struct ocitap_error *err)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return ocitap_error_set(err, -errno, NULL, "/proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	if (snprintf(buf, size, "%s/ocitap-hook", self) >= (int)size)
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "%s: path too long", self);
	return 0;
}

/* Write all of text at the start of fd. */
static int write_all(int fd, const char *text, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, text + done, len - done, (off_t)done);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			done += (size_t)n;
	}
	return 0;
}

/*
 * The file the new config.json is written to: config.json.ocitap-orig
 * beside it, reused when it is ours (a regular file, one link, our owner),
 * else made with config.json's mode.
 */
static int open_replacement(const char *kept, mode_t mode, struct stat *ret)
{
	int fd = open(kept, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	mode_t mask;

	if (fd >= 0) {
		if (fstat(fd, ret) == 0 && S_ISREG(ret->st_mode) && ret->st_nlink == 1 && ret->st_uid == geteuid())
			return fd;
		close(fd);
	}
	/* something else by that name (a link, a symlink, a FIFO): out of the way, never written through */
	if ((fd >= 0 || errno != ENOENT) && unlink(kept) < 0 && errno != ENOENT)
		return -errno;
	mask = umask(0);
	fd = open(kept, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	umask(mask);
	if (fd < 0)
		return -errno;
	*ret = (struct stat){ .st_mode = S_IFREG | mode, .st_size = 0 };
	return fd;
}

/*
 * Replace path with text. The text goes to PATH.ocitap-orig, which then
 * trades names with config.json in one step (RENAME_EXCHANGE): the runtime
 * reads the old file or the new one, never a part, and a kill at any point
 * leaves config.json whole. The old file stays under that name for the
 * operator (and is written over by the next edit). Why not a temporary file
 * renamed over config.json: on this VM's ext4 the rename flushes the new
 * file first and frees the old one, 0.3-0.4 ms, and making a file costs
 * 0.1-0.9 ms by how many were freed lately; writing the kept one again costs
 * 0.05 ms. Where the filesystem cannot exchange, a plain rename. No fsync:
 * a bundle does not outlive a crash of the machine, and a create waits on it.
 */
static int replace_file(const char *path, const char *text, size_t len, mode_t mode, struct ocitap_error *err)
{
	char kept[PATH_MAX];
	struct stat st;
	int fd, r;

	if (snprintf(kept, sizeof(kept), "%s.%s", path, KEPT_SUFFIX) >= (int)sizeof(kept))
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "path too long");
	if ((fd = open_replacement(kept, mode, &st)) < 0)
		return ocitap_error_set(err, fd, NULL, "%s", strerror(-fd));
	r = write_all(fd, text, len);
	if (r == 0 && st.st_size > (off_t)len && ftruncate(fd, (off_t)len) < 0)
		r = -errno;
	if (r == 0 && (st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat2(AT_FDCWD, kept, AT_FDCWD, path, RENAME_EXCHANGE) < 0) {
		r = -errno;
		if ((r == -EINVAL || r == -ENOSYS || r == -EOPNOTSUPP) && rename(kept, path) == 0)
			r = 0;
	}
	if (r < 0) {
		unlink(kept);
		return ocitap_error_set(err, r, NULL, "%s", strerror(-r));
	}
	return 0;
}

/* "PATH: what went wrong" for a failure about a file. */
static int failed(char *msg, size_t size, const char *path, int r, const struct ocitap_error *err)
{
	char why[OCITAP_ERROR_FIELD_MAX + OCITAP_ERROR_MESSAGE_MAX + 4];

	snprintf(msg, size, "%s: %s", path, ocitap_error_format(err, why, sizeof(why)));
	return r;
}

/*
 * The edit, on the text where the splice can (runtime-wrap-splice.c: a
 * tenth of the instructions), else through json-c. *ret_text is NULL when
 * nothing needs adding.
 */
static int edit_config(const char *buf, size_t len, const struct ocitap_wrap_config *cfg, const char *hook,
		       char **ret_text, size_t *ret_len, struct ocitap_error *err)
{
	static const struct ocitap_limits lim = {
		.max_bytes = MAX_CONFIG_JSON,
		.max_depth = 64,
		.max_string = 16u << 20,
		.max_annotations = 1u << 20,
		.max_items = 1u << 20,
	};
	/* never freed: the runtime is executed next (freeing it cost a third of the edit) */
	json_object *config = NULL;
	struct ocitap_wrap_changes ch;
	const char *text;
	int r = ocitap_wrap_splice(buf, len, cfg, hook, ret_text, ret_len, &ch);

	if (r != -ENOTSUP)
		return r == -ENOMEM ? ocitap_error_set(err, r, NULL, "out of memory") : r;
	if ((r = ocitap_json_parse_object(buf, len, &lim, "config.json", &config, err)) < 0 ||
	    (r = ocitap_wrap_edit(config, cfg, hook, &ch, err)) < 0)
		return r;
	*ret_text = NULL;
	*ret_len = 0;
	if (!ch.hooks_added && !ch.listener_set)
		return 0;
	text = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text || !(*ret_text = strdup(text)))
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	*ret_len = strlen(text);
	return 0;
}

/* Edit BUNDLE/config.json. 0 when it was edited or needed nothing; else msg says why. */
static int wrap_bundle(const char *bundle, const struct ocitap_wrap_config *cfg, char *msg, size_t msg_size)
{
	struct ocitap_error e = { 0 }, *err = &e;
	_cleanup_free_ char *buf = NULL, *text = NULL;
	char path[PATH_MAX], hook[PATH_MAX];
	struct stat st;
	size_t len, text_len;
	int r;

	if (snprintf(path, sizeof(path), "%s/config.json", bundle ? bundle : ".") >= (int)sizeof(path))
		return failed(msg, msg_size, "the bundle", -ENAMETOOLONG,
			      &(struct ocitap_error){ .code = -ENAMETOOLONG, .message = "path too long" });
	if (cfg->hook)
		snprintf(hook, sizeof(hook), "%s", cfg->hook);
	else if ((r = default_hook(hook, sizeof(hook), err)) < 0)
		return failed(msg, msg_size, "ocitap-hook", r, err);
	if (cfg->stages && access(hook, X_OK) < 0) {
		r = -errno;
		ocitap_error_set(err, r, NULL, "%s", strerror(-r));
		return failed(msg, msg_size, hook, r, err);
	}
	if ((r = ocitap_read_regular_file(path, MAX_CONFIG_JSON, OCITAP_READ_NOFOLLOW, &buf, &len, err)) < 0 ||
	    (r = edit_config(buf, len, cfg, hook, &text, &text_len, err)) < 0)
		return failed(msg, msg_size, path, r, err);
	if (!text)
		return 0;
	if (stat(path, &st) < 0) {
		r = -errno;
		ocitap_error_set(err, r, NULL, "%s", strerror(-r));
		return failed(msg, msg_size, path, r, err);
	}
	if ((r = replace_file(path, text, text_len, st.st_mode & 07777, err)) < 0)
		return failed(msg, msg_size, path, r, err);
	return 0;
}

/* The real runtime's path: as given when it has a '/', else the first in PATH that is not us. */
static int find_runtime(const char *name, char *buf, size_t size, struct ocitap_error *err)
{
	int r = ocitap_runtime_which(name, true, buf, size);

	if (r == -ELOOP)
		return ocitap_error_set(err, r, NULL, "the runtime %s is ocitap-runtime itself", name);
	if (r == -ENOENT && !strchr(name, '/'))
		return ocitap_error_set(err, r, NULL, "the runtime '%s' is not in PATH", name);
	if (r < 0)
		return ocitap_error_set(err, r, NULL, "the runtime %s: %s", name, strerror(-r));
	return 0;
}

int main(int argc, char **argv)
{
	struct ocitap_wrap_config cfg;
	struct ocitap_error err = { 0 };
	char runtime[PATH_MAX], msg[OCITAP_ERROR_FIELD_MAX + OCITAP_ERROR_MESSAGE_MAX + 4];
	const char **args;
	bool broken = false;
	int cmd, n = 0;

	if ((argc = take_own_flags(argc, argv)) < 0)
		return 2;
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	ocitap_wrap_config_init(&cfg);
	if (load_config(&cfg, &err) < 0) {
		failed(msg, sizeof(msg), opt.config_path, -EINVAL, &err);
		/* fail closed only if the operator said so where a broken file cannot hide it */
		if (opt.fail_closed) {
			say("error", "%s (fail closed)", msg);
			return 1;
		}
		ocitap_wrap_config_release(&cfg);
		broken = true;
	}
	/* ours first, then the runtime's own (Docker reads the runtime's commit
	 * line from it); runc knows no -V, so it is given --version */
	if (argc == 2 &&
	    (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("ocitap-runtime %s\n", OCITAP_VERSION);
		fflush(stdout);
		argv[1] = "--version";
	}
	if (find_runtime(opt.runtime   ? opt.runtime
			 : cfg.runtime ? cfg.runtime
				       : "runc",
			 runtime, sizeof(runtime), &err) < 0) {
		fprintf(stderr, "ocitap-runtime: %s\n", ocitap_error_format(&err, msg, sizeof(msg)));
		return 127;
	}
	cmd = ocitap_wrap_find_command(argc, argv);
	if (cmd > 0 && ocitap_wrap_edits(argv[cmd])) {
		if (broken)
			say("warning", "%s: container runs without ocitap", msg);
		else if (wrap_bundle(ocitap_wrap_find_bundle(argc, argv, cmd), &cfg, msg, sizeof(msg)) < 0) {
			if (cfg.fail_closed) {
				say("error", "%s (fail closed: container not started)", msg);
				return 1;
			}
			say("warning", "%s: container runs without ocitap", msg);
		}
	}
	args = calloc((size_t)argc + cfg.n_runtime_args + 1, sizeof(*args));
	if (!args) {
		fprintf(stderr, "ocitap-runtime: out of memory\n");
		return 1;
	}
	args[n++] = runtime;
	for (size_t i = 0; i < cfg.n_runtime_args; i++)
		args[n++] = cfg.runtime_args[i];
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	execv(runtime, (char *const *)args);
	fprintf(stderr, "ocitap-runtime: %s: %s\n", runtime, strerror(errno));
	return 127;
}
